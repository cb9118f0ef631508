/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_http_proofs.c — carpool proofs for public incentives, on Monaco, from a real server on 127.0.0.1 that sends
   them to a register of carpool proofs played by a small HTTP server of this test (libmicrohttpd): both sides
   complete yesterday's rides (POST /v1/bookings/{id}/complete); the second side's call writes the proof, whose
   fields are those of the booking (journey and trip ids, times, places, the ride's length on the road, seats, the
   contribution equal to the driver's revenue, pseudonyms that name no one); the register's 503 is retried until
   its 201, its 422 refuses a proof for good, and neither is sent again after; the errors (no side, a date the
   booking does not ride, a pending booking, a ride not started, an unknown booking); /metrics; the owner's export
   lists their proofs, their erasure keeps them; `covoit proofs export` writes them as JSON lines. */
#define _DEFAULT_SOURCE /* usleep, popen */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http_client.h"

#include <math.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "matcher/matcher.h"
#include "matcher/timeutil.h"
#include "routing/geo.h"
#include "web/server.h"
#include "test_support.h"
#include "db_target.h"

#define DB COVOIT_TMP "/http_proofs.db"
#define TOKEN "register-token-123"

/* --- the register --- */

#define MAX_CALLS 32
static struct {
    pthread_mutex_t mu;
    int n;
    json_t *body[MAX_CALLS];
    char auth[MAX_CALLS][128];
    int status[MAX_CALLS];
    char refuse[48]; /* journeys starting with this are refused (422) */
} reg = {PTHREAD_MUTEX_INITIALIZER, 0, {0}, {{0}}, {0}, ""};

typedef struct upload {
    char *p;
    size_t len;
} upload;

static enum MHD_Result on_journey(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *data, size_t *size, void **state)
{
    (void)cls, (void)version;
    upload *u = *state;
    if (!u) {
        *state = calloc(1, sizeof(upload));
        return *state ? MHD_YES : MHD_NO;
    }
    if (*size) {
        char *q = realloc(u->p, u->len + *size + 1);
        if (!q)
            return MHD_NO;
        memcpy(q + u->len, data, *size);
        u->p = q, u->len += *size;
        u->p[u->len] = '\0';
        *size = 0;
        return MHD_YES;
    }
    int status = 404;
    const char *answer = "{\"error\":{\"message\":\"not found\"}}";
    if (!strcmp(method, "POST") && !strcmp(url, "/v3.1/journeys")) {
        json_t *doc = json_loads(u->p ? u->p : "", 0, NULL);
        const char *id = json_string_value(json_object_get(doc, "operator_journey_id"));
        pthread_mutex_lock(&reg.mu);
        int before = 0;
        for (int i = 0; i < reg.n; i++)
            before += id && !strcmp(id, json_string_value(json_object_get(reg.body[i], "operator_journey_id")));
        if (!id) {
            status = 400;
            answer = "{\"error\":{\"message\":\"operator_journey_id is required\"}}";
        } else if (reg.refuse[0] && !strncmp(id, reg.refuse, strlen(reg.refuse))) {
            status = 422, answer = "{\"error\":{\"message\":\"start is more than 7 days ago\"}}";
        } else if (!before) {
            status = 503, answer = "{\"error\":{\"message\":\"maintenance\"}}"; /* the first attempt */
        } else {
            status = 201, answer = "{\"result\":{\"data\":{\"created_at\":\"now\"}}}";
        }
        if (reg.n < MAX_CALLS) {
            const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
            snprintf(reg.auth[reg.n], sizeof reg.auth[reg.n], "%s", auth ? auth : "");
            reg.status[reg.n] = status;
            reg.body[reg.n++] = doc;
            doc = NULL;
        }
        pthread_mutex_unlock(&reg.mu);
        json_decref(doc);
    }
    free(u->p);
    free(u);
    *state = NULL;
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(answer), (void *)answer, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    enum MHD_Result r = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* Calls the register had for journey id, and the status of the last. */
static int calls_for(const char *id, int *last)
{
    pthread_mutex_lock(&reg.mu);
    int n = 0;
    for (int i = 0; i < reg.n; i++)
        if (!strcmp(id, json_string_value(json_object_get(reg.body[i], "operator_journey_id"))))
            n++, *last = reg.status[i];
    pthread_mutex_unlock(&reg.mu);
    return n;
}

/* --- the server --- */

static cv_graph *graph;
static cv_matcher *matcher;
static cv_server *server;
static struct MHD_Daemon *registry;
static uint16_t port;
static int64_t yesterday;           /* the rides' departure, a day ago */
static int64_t b_done, b_refused;   /* accepted bookings of yesterday: their proofs are acknowledged, refused */
static int64_t b_pending, b_future; /* a pending booking of yesterday, an accepted one of tomorrow */
static double pick[2][2];           /* the passengers' places, along the drivers' route */

static json_t *call(const char *method, const char *path, const char *body, int status)
{
    reply r = http_request(port, method, path, NULL, body, body ? strlen(body) : 0);
    if (r.status != status)
        fail_msg("%s %s: %d, expected %d: %s", method, path, r.status, status, r.raw);
    json_t *doc = json_incref(r.json);
    reply_free(&r);
    return doc;
}

static cv_offer new_offer(const char *owner, int64_t depart)
{
    cv_offer o;
    memset(&o, 0, sizeof o);
    snprintf(o.owner, sizeof o.owner, "%s", owner);
    o.from = (cv_coord){cv_fixed(7.4275), cv_fixed(43.7396)}; /* the Casino */
    o.to = (cv_coord){cv_fixed(7.4160), cv_fixed(43.7290)};   /* Fontvieille */
    o.when = (cv_schedule){CV_PUNCTUAL, depart, 0, 0, 0, 0, 15 * 60};
    o.seats = 3;
    o.max_detour_s = -1;
    o.max_detour_m = -1;
    o.price_per_km = 0.10;
    return o;
}

/* A booking of owner's request on offer, made and (accept) accepted at `now`, with the matcher's clock. */
static int64_t booking(cv_matcher_ws *w, int64_t offer, const char *owner, int64_t depart, int64_t now, int accept)
{
    cv_request q;
    memset(&q, 0, sizeof q);
    snprintf(q.owner, sizeof q.owner, "%s", owner);
    q.from = (cv_coord){cv_fixed(pick[0][0]), cv_fixed(pick[0][1])};
    q.to = (cv_coord){cv_fixed(pick[1][0]), cv_fixed(pick[1][1])};
    q.when = (cv_schedule){CV_PUNCTUAL, depart + 120, 0, 0, 0, 0, 30 * 60};
    q.seats = 1;
    cv_error err = {0};
    cv_booking b;
    if (cv_matcher_add_request(w, &q, now, &err) || cv_matcher_book(w, offer, q.id, now, &b, &err) ||
        (accept && cv_matcher_accept(w, b.id, now, &err)))
        fail_msg("booking for %s: %s", owner, err.text);
    return b.id;
}

static int setup(void **state)
{
    (void)state;
    graph = tst_build_graph(COVOIT_TEST_DATA "/monaco.osm.pbf", "http_proofs_monaco.cvg");
    tst_db_remove(DB);
    cv_error err = {0};
    if (cv_tz_set("Europe/Monaco", &err))
        return -1;
    registry = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL, on_journey, NULL,
                                MHD_OPTION_END);
    if (!registry)
        return -1;
    uint16_t rport = MHD_get_daemon_info(registry, MHD_DAEMON_INFO_BIND_PORT)->port;
    static char url[80];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v3.1/journeys", rport);
    int64_t now = (int64_t)time(NULL);
    yesterday = now - 86400;
    cv_matcher_options mo = cv_matcher_defaults();
    if (cv_matcher_open(graph, tst_db(DB), &mo, yesterday - 3600, &matcher, &err))
        return -1;
    cv_server_options o = cv_server_defaults();
    o.port = 0;
    o.threads = 2;
    o.quiet = 1;
    o.matcher = matcher;
    o.proof_url = url;
    o.proof_token = TOKEN;
    server = cv_server_start(graph, &o, &err);
    if (!server)
        return -1;
    port = cv_server_port(server);
    /* the passengers' places: along the driver's route, a quarter and three quarters of the way */
    json_t *rt = call("GET", "/route/v1/driving/7.4275,43.7396;7.4160,43.7290?geometries=geojson", NULL, 200);
    json_t *coords =
        json_object_get(json_object_get(json_array_get(json_object_get(rt, "routes"), 0), "geometry"), "coordinates");
    size_t nc = json_array_size(coords);
    if (nc < 8)
        return -1;
    for (int k = 0; k < 2; k++) {
        json_t *c = json_array_get(coords, k ? 3 * nc / 4 : nc / 4);
        pick[k][0] = json_number_value(json_array_get(c, 0)), pick[k][1] = json_number_value(json_array_get(c, 1));
    }
    json_decref(rt);
    /* yesterday's rides, published, booked and accepted the hour before them (the matcher's clock) */
    cv_matcher_ws *w = cv_matcher_ws_new(matcher, &err);
    if (!w)
        return -1;
    int64_t t = yesterday - 3600;
    cv_offer a = new_offer("driver", yesterday), b = new_offer("driver2", yesterday),
             c = new_offer("driver3", now + 86400);
    if (cv_matcher_add_offer(w, &a, t, &err) || cv_matcher_add_offer(w, &b, t, &err) ||
        cv_matcher_add_offer(w, &c, now, &err))
        fail_msg("offers: %s", err.text);
    b_done = booking(w, a.id, "rider", yesterday, t, 1);
    b_refused = booking(w, b.id, "rider2", yesterday, t, 1);
    b_pending = booking(w, a.id, "rider3", yesterday, t, 0);
    b_future = booking(w, c.id, "rider4", now + 86400, now, 1);
    cv_matcher_ws_free(w);
    snprintf(reg.refuse, sizeof reg.refuse, "booking-%lld-", (long long)b_refused);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cv_server_stop(server);
    cv_matcher_close(matcher);
    cv_graph_close(graph);
    MHD_stop_daemon(registry);
    for (int i = 0; i < reg.n; i++)
        json_decref(reg.body[i]);
    return 0;
}

static json_t *complete(int64_t booking, const char *as, const char *date, int status)
{
    char path[80], body[160];
    snprintf(path, sizeof path, "/v1/bookings/%lld/complete", (long long)booking);
    if (date)
        snprintf(body, sizeof body, "{\"as\":\"%s\",\"date\":\"%s\"}", as, date);
    else
        snprintf(body, sizeof body, "{\"as\":\"%s\"}", as);
    return call("POST", path, body, status);
}

static void date_of(int64_t utc, char out[16])
{
    cv_day day;
    cv_utc_to_local(utc, &day, NULL, NULL);
    cv_format_date(day, out);
}

static json_t *booking_json(int64_t id)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/bookings/%lld", (long long)id);
    json_t *d = call("GET", path, NULL, 200);
    json_t *b = json_incref(json_object_get(d, "booking"));
    json_decref(d);
    return b;
}

static double num(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    if (b)
        v = json_object_get(v, b);
    if (!json_is_number(v))
        fail_msg("%s%s%s: not a number", a, b ? "." : "", b ? b : "");
    return json_number_value(v);
}

static const char *str(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    if (b)
        v = json_object_get(v, b);
    if (!json_is_string(v))
        fail_msg("%s%s%s: not a string", a, b ? "." : "", b ? b : "");
    return json_string_value(v);
}

static int is_pseudonym(const char *s)
{
    if (strlen(s) != 32)
        return 0;
    for (const char *p = s; *p; p++)
        if (!strchr("0123456789abcdef", *p))
            return 0;
    return 1;
}

/* Runs the CLI, returns its stdout's lines parsed. */
static size_t export_lines(const char *args, json_t **out, size_t cap)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "%s proofs export --db %s %s 2>/dev/null", COVOIT_BIN, tst_db(DB), args);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char line[4096];
    size_t n = 0;
    while (fgets(line, sizeof line, f))
        if (n < cap)
            out[n++] = json_loads(line, 0, NULL);
    assert_int_equal(pclose(f), 0);
    return n;
}

/* Both sides complete yesterday's ride: the first call says who has, the second writes the proof, with the
   booking's own facts. */
static void test_both_sides_write_the_proof(void **state)
{
    (void)state;
    char date[16];
    date_of(yesterday, date);
    json_t *d = complete(b_done, "driver", date, 200);
    json_t *c = json_object_get(d, "completion");
    assert_true(json_is_true(json_object_get(c, "driver")));
    assert_true(json_is_false(json_object_get(c, "passenger")));
    assert_true(json_is_null(json_object_get(c, "proof")));
    json_decref(d);
    /* again: nothing changes; the date may be left out for a single trip */
    d = complete(b_done, "driver", NULL, 200);
    assert_true(json_is_null(json_object_get(json_object_get(d, "completion"), "proof")));
    json_decref(d);
    d = complete(b_done, "passenger", date, 200);
    c = json_object_get(d, "completion");
    assert_true(json_is_true(json_object_get(c, "driver")) && json_is_true(json_object_get(c, "passenger")));
    json_t *rec = json_object_get(c, "proof");
    assert_true(json_is_object(rec));
    json_t *p = json_object_get(rec, "proof");
    json_t *b = booking_json(b_done);
    char want[64];
    snprintf(want, sizeof want, "booking-%lld-%s", (long long)b_done, date);
    assert_string_equal(str(p, "operator_journey_id", NULL), want);
    snprintf(want, sizeof want, "offer-%lld-%s", (long long)json_integer_value(json_object_get(b, "offer_id")), date);
    assert_string_equal(str(p, "operator_trip_id", NULL), want);
    assert_string_equal(str(p, "operator_class", NULL), "C");
    /* where and when: the booking's pickup and drop-off, times in UTC */
    json_t *pu = json_object_get(b, "pickup"), *dr = json_object_get(b, "dropoff");
    assert_true(fabs(num(p, "start", "lon") - json_number_value(json_array_get(json_object_get(pu, "location"), 0))) <
                1e-6);
    assert_true(fabs(num(p, "start", "lat") - json_number_value(json_array_get(json_object_get(pu, "location"), 1))) <
                1e-6);
    assert_true(fabs(num(p, "end", "lon") - json_number_value(json_array_get(json_object_get(dr, "location"), 0))) <
                1e-6);
    int64_t start, end;
    assert_int_equal(cv_parse_datetime(str(p, "start", "datetime"), &start, &(cv_error){0}), 0);
    assert_int_equal(cv_parse_datetime(str(p, "end", "datetime"), &end, &(cv_error){0}), 0);
    assert_true(str(p, "start", "datetime")[19] == 'Z');
    int64_t pickup_at;
    assert_int_equal(cv_parse_datetime(json_string_value(json_object_get(pu, "time")), &pickup_at, &(cv_error){0}), 0);
    assert_true(start == pickup_at && end > start && start >= yesterday && start < yesterday + 3600);
    /* the ride's length on the road, pickup to drop-off: the route between them (the only passenger) */
    char path[200];
    snprintf(path, sizeof path, "/route/v1/driving/%.7f,%.7f;%.7f,%.7f?overview=false", num(p, "start", "lon"),
             num(p, "start", "lat"), num(p, "end", "lon"), num(p, "end", "lat"));
    json_t *rt = call("GET", path, NULL, 200);
    double road = json_number_value(json_object_get(json_array_get(json_object_get(rt, "routes"), 0), "distance"));
    json_decref(rt);
    assert_true(road > 200);
    if (fabs(num(p, "distance", NULL) - road) > 2.0)
        fail_msg("proof distance %g m, route %g m", num(p, "distance", NULL), road);
    /* the contribution in cents, all of it the driver's: no commission */
    double amount = num(b, "contribution", "amount");
    assert_true(amount > 0);
    assert_int_equal((long long)num(p, "passenger", "contribution"), llround(amount * 100));
    assert_int_equal((long long)num(p, "driver", "revenue"), (long long)num(p, "passenger", "contribution"));
    assert_int_equal((long long)num(p, "passenger", "seats"), 1);
    assert_true(json_is_array(json_object_get(p, "incentives")));
    /* the two people as pseudonyms: 128 bits in hex, two different ones, neither their reference */
    const char *pid = json_string_value(
        json_object_get(json_object_get(json_object_get(p, "passenger"), "identity"), "operator_user_id"));
    const char *did = json_string_value(
        json_object_get(json_object_get(json_object_get(p, "driver"), "identity"), "operator_user_id"));
    assert_non_null(pid);
    assert_non_null(did);
    assert_true(is_pseudonym(pid) && is_pseudonym(did) && strcmp(pid, did));
    char *text = json_dumps(p, 0);
    assert_null(strstr(text, "rider"));        /* the passenger's reference */
    assert_null(strstr(text, ": \"driver\"")); /* the driver's, as a value (a key is named so) */
    free(text);
    json_decref(b);
    json_decref(d);
    /* a third call answers the same proof, and writes no second one */
    snprintf(want, sizeof want, "booking-%lld-%s", (long long)b_done, date);
    d = complete(b_done, "passenger", date, 200);
    json_t *again = json_object_get(json_object_get(json_object_get(d, "completion"), "proof"), "proof");
    assert_string_equal(str(again, "operator_journey_id", NULL), want);
    json_decref(d);
    json_t *lines[4];
    char args[80];
    snprintf(args, sizeof args, "--from %s --to %s", date, date);
    size_t n = export_lines(args, lines, 4);
    assert_int_equal(n, 1);
    json_decref(lines[0]);
}

/* The proof reaches the register: its 503 is retried, its 201 acknowledges it; a 422 refuses the other for good. */
static void test_register_acknowledges_and_refuses(void **state)
{
    (void)state;
    char date[16], id[64], id2[64];
    date_of(yesterday, date);
    json_decref(complete(b_refused, "passenger", date, 200));
    json_decref(complete(b_refused, "driver", date, 200));
    snprintf(id, sizeof id, "booking-%lld-%s", (long long)b_done, date);
    snprintf(id2, sizeof id2, "booking-%lld-%s", (long long)b_refused, date);
    char path[96];
    snprintf(path, sizeof path, "/v1/bookings/%lld/complete?date=%s", (long long)b_done, date);
    char status[32] = "";
    for (int i = 0; i < 100; i++) { /* the retry comes a second after the 503 */
        json_t *d = call("GET", path, NULL, 200);
        json_t *rec = json_object_get(json_object_get(d, "completion"), "proof");
        snprintf(status, sizeof status, "%s", json_string_value(json_object_get(rec, "status")));
        if (!strcmp(status, "acknowledged")) {
            assert_int_equal(json_integer_value(json_object_get(rec, "attempts")), 1);
            assert_non_null(json_object_get(rec, "acknowledged"));
            json_decref(d);
            break;
        }
        json_decref(d);
        usleep(100 * 1000);
    }
    assert_string_equal(status, "acknowledged");
    int last = 0;
    assert_int_equal(calls_for(id, &last), 2);
    assert_int_equal(last, 201);
    /* the register read what the server answers, with the operator's token */
    pthread_mutex_lock(&reg.mu);
    for (int i = 0; i < reg.n; i++) {
        assert_string_equal(reg.auth[i], "Bearer " TOKEN);
        assert_non_null(json_object_get(reg.body[i], "passenger"));
        assert_string_equal(json_string_value(json_object_get(reg.body[i], "operator_class")), "C");
    }
    pthread_mutex_unlock(&reg.mu);
    snprintf(path, sizeof path, "/v1/bookings/%lld/complete?date=%s", (long long)b_refused, date);
    for (int i = 0; i < 100; i++) {
        json_t *d = call("GET", path, NULL, 200);
        json_t *rec = json_object_get(json_object_get(d, "completion"), "proof");
        snprintf(status, sizeof status, "%s", json_string_value(json_object_get(rec, "status")));
        if (!strcmp(status, "refused")) {
            assert_non_null(strstr(json_string_value(json_object_get(rec, "last_error")), "HTTP 422"));
            json_decref(d);
            break;
        }
        json_decref(d);
        usleep(100 * 1000);
    }
    assert_string_equal(status, "refused");
    sleep(2); /* neither is sent again */
    assert_int_equal(calls_for(id, &last), 2);
    assert_int_equal(calls_for(id2, &last), 1);
    assert_int_equal(last, 422);
    reply m = http_request(port, "GET", "/metrics", NULL, NULL, 0);
    assert_int_equal(m.status, 200);
    assert_non_null(strstr(m.raw, "covoit_proofs{state=\"acknowledged\"} 1\n"));
    assert_non_null(strstr(m.raw, "covoit_proofs{state=\"refused\"} 1\n"));
    assert_non_null(strstr(m.raw, "covoit_proofs{state=\"waiting\"} 0\n"));
    assert_non_null(strstr(m.raw, "covoit_proof_attempts_total{result=\"failed\"} 1\n"));
    reply_free(&m);
}

/* What is refused, with a message naming the problem, and writes nothing. */
static void test_errors(void **state)
{
    (void)state;
    char date[16], tomorrow[16], path[96];
    date_of(yesterday, date);
    date_of(yesterday + 2 * 86400, tomorrow);
    json_t *e = complete(b_done, "conductor", date, 400);
    assert_non_null(strstr(str(e, "message", NULL), "as:"));
    json_decref(e);
    snprintf(path, sizeof path, "/v1/bookings/%lld/complete", (long long)b_done);
    json_decref(call("POST", path, "{\"date\":\"2026-01-01\"}", 400)); /* no side */
    json_decref(call("POST", path, "{\"as\":\"driver\",\"date\":\"yesterday\"}", 400));
    json_decref(call("POST", path, "{\"as\":\"driver\",\"seats\":2}", 400)); /* unknown field */
    json_decref(call("POST", path, "[1]", 400));
    e = complete(b_done, "driver", tomorrow, 400); /* not one of its dates */
    assert_non_null(strstr(str(e, "message", NULL), "does not ride"));
    json_decref(e);
    e = complete(b_pending, "driver", date, 409);
    assert_non_null(strstr(str(e, "message", NULL), "pending"));
    json_decref(e);
    e = complete(b_future, "passenger", tomorrow, 409);
    assert_non_null(strstr(str(e, "message", NULL), "has not started"));
    json_decref(e);
    json_decref(complete(987654, "driver", date, 404));
    json_decref(call("PUT", path, "{}", 405));
    snprintf(path, sizeof path, "/v1/bookings/%lld/complete?date=%s", (long long)b_future, tomorrow);
    e = call("GET", path, NULL, 200); /* nobody completed it */
    json_t *c = json_object_get(e, "completion");
    assert_true(json_is_false(json_object_get(c, "driver")) && json_is_null(json_object_get(c, "proof")));
    json_decref(e);
    snprintf(path, sizeof path, "/v1/bookings/%lld/complete?when=%s", (long long)b_future, tomorrow);
    json_decref(call("GET", path, NULL, 400));
}

/* The owner's export lists their proofs under their pseudonym; their erasure keeps the proofs, which name no one;
   `covoit proofs export` writes them as JSON lines. */
static void test_export_erase_and_cli(void **state)
{
    (void)state;
    json_t *x = call("GET", "/v1/owners/rider/export", NULL, 200);
    json_t *proofs = json_object_get(x, "proofs");
    assert_int_equal(json_array_size(proofs), 1);
    const char *pseudonym = str(x, "pseudonym", NULL);
    json_t *pid = json_object_get(
        json_object_get(json_object_get(json_object_get(json_array_get(proofs, 0), "proof"), "passenger"), "identity"),
        "operator_user_id");
    assert_string_equal(json_string_value(pid), pseudonym);
    json_decref(x);
    x = call("GET", "/v1/owners/nobody/export", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(x, "proofs")), 0);
    json_decref(x);

    char date[16], args[80];
    date_of(yesterday, date);
    json_t *lines[8];
    snprintf(args, sizeof args, "--from %s --to %s", date, date);
    size_t n = export_lines(args, lines, 8);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(lines[i]);
        assert_string_equal(str(lines[i], "operator_class", NULL), "C");
        assert_true(num(lines[i], "distance", NULL) > 200);
        json_decref(lines[i]);
    }
    assert_int_equal(export_lines("--waiting", lines, 8), 0); /* both acknowledged or refused */
    char before[16];
    date_of(yesterday - 2 * 86400, before);
    snprintf(args, sizeof args, "--to %s", before);
    assert_int_equal(export_lines(args, lines, 8), 0);

    x = call("DELETE", "/v1/owners/rider", NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(x, "kept"), "proofs")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(x, "erased"), "bookings")), 1);
    json_decref(x);
    char path[96];
    snprintf(path, sizeof path, "/v1/bookings/%lld/complete?date=%s", (long long)b_done, date);
    json_decref(call("GET", path, NULL, 404)); /* the booking is gone */
    n = export_lines("", lines, 8);            /* the proof is not */
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++)
        json_decref(lines[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_sides_write_the_proof),
        cmocka_unit_test(test_register_acknowledges_and_refuses),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_export_erase_and_cli),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
