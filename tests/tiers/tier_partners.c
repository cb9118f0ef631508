/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* tier_partners — covoit with partner operators of the interoperability standard, as real processes on 127.0.0.1.

   Outbox: a partner (a small HTTP receiver in this program) is down while our driver accepts, refuses and cancels
   bookings it made; the server is killed with SIGKILL in between and started again; when the partner comes up it
   receives every booking event, once, in order per booking, and none for its own cancellation.

   Federation: two covoit servers, A and B, partners of each other. A's search with "partners": true merges B's
   journeys with its own, tagged by operator; a booking A's passenger makes on B's journey goes to B, B's driver
   accepts, and B's booking event tells A; a stopped (slow) or killed partner leaves A's answer intact and named.

   Options: --name STEM. */
#define _GNU_SOURCE
#include <microhttpd.h>
#include <pthread.h>

#include "tier_support.h"

#define NAME "tier_partners"

static char graph[1024];

/* --- a partner that only receives booking events --- */

#define MAX_EVENTS 64
static struct {
    pthread_mutex_t mu;
    int n;
    json_t *events[MAX_EVENTS];
    char keys[MAX_EVENTS][128];
    int nmessages;
    json_t *messages[MAX_EVENTS]; /* POST /stdcov/v1/messages */
    int other;                    /* requests to any other path */
} got = {PTHREAD_MUTEX_INITIALIZER, 0, {0}, {{0}}, 0, {0}, 0};

typedef struct upload {
    char *p;
    size_t len;
} upload;

static enum MHD_Result on_event(void *cls, struct MHD_Connection *c, const char *url, const char *method,
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
    int ok = !strcmp(method, "POST") && !strcmp(url, "/stdcov/v1/booking_events");
    int message = !strcmp(method, "POST") && !strcmp(url, "/stdcov/v1/messages");
    pthread_mutex_lock(&got.mu);
    if (message && got.nmessages < MAX_EVENTS) {
        got.messages[got.nmessages++] = json_loads(u->p ? u->p : "", 0, NULL);
        ok = 2;
    } else if (ok && got.n < MAX_EVENTS) {
        got.events[got.n] = json_loads(u->p ? u->p : "", 0, NULL);
        const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-API-Key");
        snprintf(got.keys[got.n], sizeof got.keys[got.n], "%s", key ? key : "");
        got.n++;
    } else {
        got.other++;
    }
    pthread_mutex_unlock(&got.mu);
    free(u->p);
    free(u);
    *state = NULL;
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result r = MHD_queue_response(c, ok == 2 ? MHD_HTTP_CREATED : ok ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND, resp);
    MHD_destroy_response(resp);
    return r;
}

static int events_now(void)
{
    pthread_mutex_lock(&got.mu);
    int n = got.n;
    pthread_mutex_unlock(&got.mu);
    return n;
}

/* A free port on 127.0.0.1 (the kernel's choice, released for the caller to take). */
/* A port free now and outside the kernel's ephemeral range, where ports given to "port 0" binds and outgoing
   connections come from: the partner starts on it only later, after its server was down, and a port picked from
   the ephemeral range could be taken meanwhile by any test running beside this one (that happened in CI). */
static uint16_t free_port(void)
{
    int lo = 32768;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%d", &lo) != 1)
            lo = 32768;
        fclose(f);
    }
    static int handed; /* ports given already: each call hands out another */
    int first = 20000, span = lo - 1 - first > 1000 ? lo - 1 - first : 1000;
    for (int k = handed; k < handed + span; k++) {
        uint16_t port = (uint16_t)(first + ((int)getpid() * 7919 + k) % span);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {
            .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int ok = fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof a);
        if (fd >= 0)
            close(fd);
        if (ok) {
            handed = k + 1;
            return port;
        }
    }
    TIER_CHECK(0, "no free port below the ephemeral range");
    return 0;
}

/* --- helpers --- */

/* covoit ARGS... (NULL-terminated) must exit 0; its stdout parsed as JSON (owned by the caller). */
static json_t *run_ok(const char *const *args)
{
    char out[8192], err[1100];
    tier_file(".cli.err", err, sizeof err);
    int rc = tier_run(args, out, sizeof out, err);
    TIER_CHECK(rc == 0, "covoit %s %s exited with %d (stderr in %s)", args[0], args[1], rc, err);
    json_t *doc = json_loads(out, 0, NULL);
    TIER_CHECK(doc != NULL, "covoit %s %s printed no JSON: %s", args[0], args[1], out);
    return doc;
}

/* covoit ARGS... must exit with status rc, saying what in its stderr. */
static void run_fails(const char *const *args, int rc, const char *what)
{
    char err[1100], text[2048] = "";
    tier_file(".cli.err", err, sizeof err);
    int got = tier_run(args, NULL, 0, err);
    FILE *f = fopen(err, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f)
        fclose(f);
    text[n] = '\0';
    TIER_CHECK(got == rc && strstr(text, what), "covoit %s %s %s: exit %d (not %d), stderr '%s' does not say '%s'",
               args[0], args[1], args[2] ? args[2] : "", got, rc, text, what);
}

static void key_add(const char *db, const char *client, const char *scopes, char secret[80])
{
    const char *args[] = {"key", "add", "--db", db, "--client", client, "--scopes", scopes, NULL};
    json_t *doc = run_ok(args);
    snprintf(secret, 80, "%s", json_string_value(json_object_get(doc, "secret")));
    json_decref(doc);
}

static void partner_add(const char *db, const char *name, uint16_t port, const char *key)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/stdcov/v1", port);
    const char *args[] = {"partner", "add", name, "--db", db, "--url", url, "--key", key, NULL};
    json_decref(run_ok(args));
}

/* method path on c with key (NULL: none) and body; the answer's status must be want. */
static tier_reply call(tier_conn *c, const char *method, const char *path, const char *key, const char *body, int want)
{
    char headers[160] = "";
    if (key)
        snprintf(headers, sizeof headers, "X-API-Key: %s\r\n", key);
    tier_reply r = tier_http(c, method, path, headers, body);
    TIER_CHECK(r.status == want, "%s %s: HTTP %d, not %d: %.400s", method, path, r.status, want, r.body ? r.body : "");
    return r;
}

static long long json_int(json_t *j, const char *key)
{
    return (long long)json_integer_value(json_object_get(j, key));
}

static const char *json_text(json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(j, key));
    return s ? s : "";
}

/* A value of a /metrics line ("name{labels} value"), -1 when absent. */
static double metric(tier_conn *c, const char *line)
{
    tier_reply r = call(c, "GET", "/metrics", NULL, NULL, 200);
    const char *at = strstr(r.body, line);
    double v = at ? atof(at + strlen(line)) : -1;
    tier_reply_free(&r);
    return v;
}

static char day[16];     /* tomorrow, YYYY-MM-DD */
static char depart[40];  /* tomorrow 08:00 UTC */
static long long when_s; /* the same, UNIX seconds */

static const char *const trip_from = "[7.4197,43.7312]", *const trip_to = "[7.4286,43.7447]";

static long long offer_add(tier_conn *c, const char *key, const char *owner, int seats)
{
    char body[512];
    snprintf(body, sizeof body, "{\"from\":%s,\"to\":%s,\"depart\":\"%s\",\"seats\":%d,\"owner\":\"%s\"}", trip_from,
             trip_to, depart, seats, owner);
    tier_reply r = call(c, "POST", "/v1/offers", key, body, 201);
    long long id = json_int(json_object_get(r.json, "offer"), "id");
    tier_reply_free(&r);
    return id;
}

/* --- the outbox --- */

static void outbox(void)
{
    char db[1024], err[1024], admin[80], partner_key[80];
    tier_file("_a.db", db, sizeof db);
    tier_file("_a.err", err, sizeof err);
    tier_remove_db(db);
    unlink(err);
    uint16_t pport = free_port();
    key_add(db, "app", "admin", admin);
    key_add(db, "p.example", "interop", partner_key);
    partner_add(db, "p.example", pport, "key-of-p");
    /* what `covoit partner` refuses, and says why */
    {
        const char *dup[] = {"partner", "add", "p.example", "--db", db, "--url", "http://x/stdcov/v1",
                             "--key",   "k",   NULL};
        run_fails(dup, 1, "exists already");
        const char *name[] = {"partner", "add", "p_example", "--db", db, "--url", "http://x", "--key", "k", NULL};
        run_fails(name, 2, "host name");
        const char *url[] = {"partner", "add", "q.example", "--db", db, "--url", "ftp://x", "--key", "k", NULL};
        run_fails(url, 2, "--url");
        const char *query[] = {"partner", "add", "q.example", "--db", db, "--url", "http://x/?a=b", "--key", "k", NULL};
        run_fails(query, 2, "no query");
        const char *nokey[] = {"partner", "add", "q.example", "--db", db, "--url", "http://x", NULL};
        run_fails(nokey, 2, "--key");
        const char *gone[] = {"partner", "remove", "q.example", "--db", db, NULL};
        run_fails(gone, 1, "no partner named q.example");
        const char *op[] = {"partner", "rename", "q.example", "--db", db, NULL};
        run_fails(op, 2, "add, list or remove");
        /* a database in another zone than UTC: keys and partners take --tz as the other commands do (regression:
           they knew no --tz, and refused any database not kept in the zone of the process) */
        char lisbon[1024];
        tier_file("_lisbon.db", lisbon, sizeof lisbon);
        tier_remove_db(lisbon);
        const char *k[] = {"key",      "add",       "--db",     lisbon,    "--tz", "Europe/Lisbon",
                           "--client", "z.example", "--scopes", "interop", NULL};
        json_decref(run_ok(k));
        const char *pz[] = {"partner",       "add",   "z.example",
                            "--db",          lisbon,  "--tz",
                            "Europe/Lisbon", "--url", "http://127.0.0.1:9/stdcov/v1",
                            "--key",         "k",     NULL};
        json_decref(run_ok(pz));
        const char *utc[] = {"partner", "list", "--db", lisbon, "--tz", "UTC", NULL};
        run_fails(utc, 1, "Europe/Lisbon");
        const char *list[] = {"partner", "list", "--db", db, NULL};
        json_t *doc = run_ok(list);
        json_t *one = json_array_get(json_object_get(doc, "partners"), 0);
        TIER_CHECK(json_array_size(json_object_get(doc, "partners")) == 1 &&
                       !strcmp(json_text(one, "name"), "p.example") && !strstr(json_text(one, "key"), "key-of-p"),
                   "partner list: p.example, its key not shown whole");
        json_decref(doc);
    }
    const char *args[] = {"--graph", graph,        "--db",      db,          "--listen", "127.0.0.1:0", "--tz",
                          "UTC",     "--operator", "a.example", "--threads", "2",        NULL};
    tier_server s = tier_serve(args, err);
    tier_conn c = tier_conn_make(s.port, NULL);
    long long offer = offer_add(&c, admin, "d1", 3);

    /* the partner's journey and three bookings on it, for three of its users */
    char path[512], body[2048];
    snprintf(path, sizeof path,
             "/stdcov/v1/driver_journeys?departureLat=43.7312&departureLng=7.4197&arrivalLat=43.7447&"
             "arrivalLng=7.4286&departureDate=%lld",
             when_s);
    tier_reply r = call(&c, "GET", path, partner_key, NULL, 200);
    json_t *j = json_array_get(r.json, 0);
    TIER_CHECK(j && json_array_size(r.json) == 1, "the partner finds one journey: %s", r.body);
    char journey[64];
    snprintf(journey, sizeof journey, "%s", json_text(j, "id"));
    double plat = json_number_value(json_object_get(j, "passengerPickupLat"));
    double plng = json_number_value(json_object_get(j, "passengerPickupLng"));
    double dlat = json_number_value(json_object_get(j, "passengerDropLat"));
    double dlng = json_number_value(json_object_get(j, "passengerDropLng"));
    long long date = json_int(j, "passengerPickupDate");
    tier_reply_free(&r);
    static const char *const uuid[3] = {"11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222",
                                        "33333333-3333-4333-8333-333333333333"};
    for (int i = 0; i < 3; i++) {
        snprintf(body, sizeof body,
                 "{\"id\":\"%s\",\"driver\":{\"id\":\"driver-%lld\",\"alias\":\"Driver\",\"operator\":\"a.example\"},"
                 "\"passenger\":{\"id\":\"u-%d\",\"alias\":\"P%d\",\"operator\":\"p.example\"},"
                 "\"passengerPickupDate\":%lld,\"passengerPickupLat\":%.7f,\"passengerPickupLng\":%.7f,"
                 "\"passengerDropLat\":%.7f,\"passengerDropLng\":%.7f,\"status\":\"WAITING_CONFIRMATION\","
                 "\"price\":{\"type\":\"PAYING\"},\"driverJourneyId\":\"%s\"}",
                 uuid[i], offer, i, i, date, plat, plng, dlat, dlng, journey);
        r = call(&c, "POST", "/stdcov/v1/bookings", partner_key, body, 201);
        tier_reply_free(&r);
    }
    /* our bookings 1, 2, 3 are theirs, in that order; the driver accepts 1 and refuses 2, while the partner is
       down */
    r = call(&c, "POST", "/v1/bookings/1/accept", admin, NULL, 200), tier_reply_free(&r);
    r = call(&c, "POST", "/v1/bookings/2/refuse", admin, NULL, 200), tier_reply_free(&r);
    double t0 = tier_now_s();
    while (metric(&c, "covoit_outbox_attempts_total{result=\"failed\"} ") < 2 && tier_now_s() - t0 < 10)
        tier_sleep_ms(100);
    TIER_CHECK(metric(&c, "covoit_outbox_attempts_total{result=\"failed\"} ") >= 2,
               "the server tried to send the events to the partner that is down");
    TIER_CHECK(metric(&c, "covoit_outbox_events{state=\"waiting\"} ") == 2, "two events wait");
    tier_conn_close(&c);
    tier_kill9(&s);

    /* started again: the driver accepts 3, cancels 1; the partner cancels 3 itself (no event for that) */
    s = tier_serve(args, err);
    c = tier_conn_make(s.port, NULL);
    r = call(&c, "POST", "/v1/bookings/3/accept", admin, NULL, 200), tier_reply_free(&r);
    r = call(&c, "POST", "/v1/bookings/1/cancel", admin, NULL, 200), tier_reply_free(&r);
    snprintf(path, sizeof path, "/stdcov/v1/bookings/%s?status=CANCELLED", uuid[2]);
    r = call(&c, "PATCH", path, partner_key, NULL, 200), tier_reply_free(&r);
    TIER_CHECK(metric(&c, "covoit_outbox_events{state=\"waiting\"} ") == 4, "four events wait");

    /* the partner comes up */
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, pport, NULL, NULL, on_event,
                                            NULL, MHD_OPTION_END);
    TIER_CHECK(d != NULL, "cannot start the partner on port %u", pport);
    t0 = tier_now_s();
    while (events_now() < 4 && tier_now_s() - t0 < 60)
        tier_sleep_ms(100);
    double waited = tier_now_s() - t0;
    tier_sleep_ms(1500); /* time for a repeat, which must not come */
    pthread_mutex_lock(&got.mu);
    TIER_CHECK(got.n == 4 && !got.other, "the partner received %d events (and %d other requests), not 4", got.n,
               got.other);
    /* per booking, in order: 1 CONFIRMED then CANCELLED, 2 CANCELLED, 3 CONFIRMED; distinct event ids */
    const char *want[3][2] = {{"CONFIRMED", "CANCELLED"}, {"CANCELLED", NULL}, {"CONFIRMED", NULL}};
    int seen[3] = {0};
    for (int i = 0; i < got.n; i++) {
        json_t *e = got.events[i], *data = json_object_get(e, "data");
        TIER_CHECK(e && json_is_object(data), "event %d is a CarpoolBookingEvent", i);
        TIER_CHECK(!strcmp(got.keys[i], "key-of-p"), "event %d carries the partner's key: '%s'", i, got.keys[i]);
        TIER_CHECK(strlen(json_text(e, "id")) == 36 && json_is_string(json_object_get(e, "idToken")),
                   "event %d: id and idToken", i);
        for (int k = 0; k < i; k++)
            TIER_CHECK(strcmp(json_text(e, "id"), json_text(got.events[k], "id")), "events %d and %d share an id", k,
                       i);
        int b = -1;
        for (int k = 0; k < 3; k++)
            if (!strcmp(json_text(data, "id"), uuid[k]))
                b = k;
        TIER_CHECK(b >= 0, "event %d is about booking %s, not one of the partner's", i, json_text(data, "id"));
        TIER_CHECK(seen[b] < 2 && want[b][seen[b]] && !strcmp(json_text(data, "status"), want[b][seen[b]]),
                   "event %d: booking %d is %s, expected %s", i, b + 1, json_text(data, "status"),
                   want[b][seen[b]] ? want[b][seen[b]] : "no more event");
        seen[b]++;
        TIER_CHECK(json_is_object(json_object_get(data, "driver")) && json_is_object(json_object_get(data, "price")) &&
                       json_is_string(json_object_get(data, "webUrl")) &&
                       json_is_integer(json_object_get(data, "passengerPickupDate")),
                   "event %d: a DriverCarpoolBooking (driver, price, webUrl, passengerPickupDate)", i);
    }
    TIER_CHECK(seen[0] == 2 && seen[1] == 1 && seen[2] == 1, "every booking's events came");
    pthread_mutex_unlock(&got.mu);
    TIER_CHECK(metric(&c, "covoit_outbox_events{state=\"waiting\"} ") == 0 &&
                   metric(&c, "covoit_outbox_events{state=\"delivered\"} ") == 4,
               "the outbox is empty, four delivered");
    printf("outbox: 4 events across a kill -9 delivered once each, in order, %.1f s after the partner came up\n",
           waited);

    /* the other way round: the partner's driver offers one of our passengers a ride (passengerJourneyId); our
       passenger accepts here, the partner gets the event */
    snprintf(body, sizeof body, "{\"from\":%s,\"to\":%s,\"depart\":\"%s\",\"owner\":\"p1\"}", trip_from, trip_to,
             depart);
    r = call(&c, "POST", "/v1/requests", admin, body, 201);
    long long request = json_int(json_object_get(r.json, "request"), "id");
    tier_reply_free(&r);
    const char *offered = "44444444-4444-4444-8444-444444444444";
    /* refused first, each with its reason: not our passenger, no such journey, another date, a pickup 5 km off */
    static const struct {
        long long who, journey;
        int day_off;
        double lat_off;
        const char *says;
    } wrong[] = {{2, 0, 0, 0, "missing_user"},
                 {999, 999, 0, 0, "missing_journey"},
                 {0, 0, 1, 0, "missing_journey"},
                 {0, 0, 0, 0.045, "within 2000 m"}};
    for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
        char other_day[16];
        tier_date(1 + wrong[i].day_off, other_day);
        long long who = wrong[i].who ? wrong[i].who : request,
                  journey_id = wrong[i].journey ? wrong[i].journey : request;
        snprintf(body, sizeof body,
                 "{\"id\":\"4444444%zu-4444-4444-8444-444444444444\",\"driver\":{\"id\":\"pd-1\",\"alias\":\"Pat\","
                 "\"operator\":\"p.example\"},\"passenger\":{\"id\":\"passenger-%lld\",\"alias\":\"Passenger\","
                 "\"operator\":\"a.example\"},\"passengerPickupDate\":%lld,\"passengerPickupLat\":%.7f,"
                 "\"passengerPickupLng\":%.7f,\"passengerDropLat\":%.7f,\"passengerDropLng\":%.7f,"
                 "\"status\":\"WAITING_CONFIRMATION\",\"price\":{},\"passengerJourneyId\":\"request-%lld-%s\"}",
                 i, who, when_s + 86400LL * wrong[i].day_off, plat + wrong[i].lat_off, plng, dlat, dlng, journey_id,
                 other_day);
        r = call(&c, "POST", "/stdcov/v1/bookings", partner_key, body, 400);
        TIER_CHECK(strstr(json_text(r.json, "error"), wrong[i].says), "refused saying %s: %s", wrong[i].says, r.body);
        tier_reply_free(&r);
    }
    snprintf(body, sizeof body,
             "{\"id\":\"%s\",\"driver\":{\"id\":\"pd-1\",\"alias\":\"Pat\",\"operator\":\"p.example\"},"
             "\"passenger\":{\"id\":\"passenger-%lld\",\"alias\":\"Passenger\",\"operator\":\"a.example\"},"
             "\"passengerPickupDate\":%lld,\"passengerPickupLat\":%.7f,\"passengerPickupLng\":%.7f,"
             "\"passengerDropLat\":%.7f,\"passengerDropLng\":%.7f,\"status\":\"WAITING_CONFIRMATION\","
             "\"price\":{\"type\":\"FREE\"},\"passengerJourneyId\":\"request-%lld-%s\"}",
             offered, request, when_s, plat, plng, dlat, dlng, request, day);
    r = call(&c, "POST", "/stdcov/v1/bookings", partner_key, body, 201), tier_reply_free(&r);
    r = call(&c, "POST", "/stdcov/v1/bookings", partner_key, body, 400), tier_reply_free(&r); /* the same id again */
    snprintf(path, sizeof path, "/v1/requests/%lld", request);
    r = call(&c, "GET", path, admin, NULL, 200);
    json_t *pbs = json_object_get(json_object_get(r.json, "request"), "partner_bookings");
    TIER_CHECK(json_array_size(pbs) == 1 &&
                   !strcmp(json_text(json_array_get(pbs, 0), "status"), "WAITING_CONFIRMATION") &&
                   json_is_true(json_object_get(json_array_get(pbs, 0), "offered_by_partner")),
               "our passenger sees the partner driver's offer: %s", r.body);
    tier_reply_free(&r);
    snprintf(path, sizeof path, "/stdcov/v1/bookings/%s?status=CONFIRMED", offered);
    r = call(&c, "PATCH", path, partner_key, NULL, 400), tier_reply_free(&r); /* our passenger confirms, not them */
    snprintf(path, sizeof path, "/v1/bookings/%s/accept", offered);
    r = call(&c, "POST", path, admin, NULL, 200), tier_reply_free(&r);
    r = call(&c, "POST", path, admin, NULL, 409), tier_reply_free(&r);
    t0 = tier_now_s();
    while (events_now() < 5 && tier_now_s() - t0 < 20)
        tier_sleep_ms(50);
    pthread_mutex_lock(&got.mu);
    json_t *data = got.n == 5 ? json_object_get(got.events[4], "data") : NULL;
    TIER_CHECK(data && !strcmp(json_text(data, "id"), offered) && !strcmp(json_text(data, "status"), "CONFIRMED") &&
                   json_is_object(json_object_get(data, "passenger")),
               "the partner hears our passenger confirmed (%d events)", got.n);
    pthread_mutex_unlock(&got.mu);
    snprintf(path, sizeof path, "/stdcov/v1/bookings/%s?status=COMPLETED_PENDING_VALIDATION", offered);
    r = call(&c, "PATCH", path, partner_key, NULL, 200);
    TIER_CHECK(!strcmp(json_text(r.json, "status"), "COMPLETED_PENDING_VALIDATION"), "the partner's ride is done: %s",
               r.body);
    tier_reply_free(&r);
    snprintf(path, sizeof path, "/stdcov/v1/bookings/%s", offered);
    r = call(&c, "GET", path, partner_key, NULL, 200);
    TIER_CHECK(!strcmp(json_text(r.json, "status"), "COMPLETED_PENDING_VALIDATION"), "GET shows it: %s", r.body);
    tier_reply_free(&r);

    /* a partner's user writes to our driver, who answers: the answer reaches the partner's POST /messages */
    snprintf(body, sizeof body,
             "{\"from\":{\"id\":\"u-9\",\"alias\":\"Uma\",\"operator\":\"p.example\"},\"to\":{\"id\":\"driver-%lld\","
             "\"alias\":\"Driver\",\"operator\":\"a.example\"},\"message\":\"Room for a bag?\","
             "\"recipientCarpoolerType\":\"DRIVER\",\"driverJourneyId\":\"%s\"}",
             offer, journey);
    r = call(&c, "POST", "/stdcov/v1/messages", partner_key, body, 201), tier_reply_free(&r);
    r = call(&c, "GET", "/v1/messages", admin, NULL, 200);
    long long mid = json_int(json_array_get(json_object_get(r.json, "messages"), 0), "id");
    tier_reply_free(&r);
    snprintf(path, sizeof path, "/v1/messages/%lld/reply", mid);
    r = call(&c, "POST", path, admin, "{\"text\":\"Yes, a big one\"}", 202), tier_reply_free(&r);
    r = call(&c, "POST", path, admin, "{\"text\":\"\"}", 400), tier_reply_free(&r);
    t0 = tier_now_s();
    for (;;) {
        pthread_mutex_lock(&got.mu);
        int n = got.nmessages;
        pthread_mutex_unlock(&got.mu);
        if (n || tier_now_s() - t0 > 20)
            break;
        tier_sleep_ms(50);
    }
    pthread_mutex_lock(&got.mu);
    json_t *m = got.nmessages == 1 ? got.messages[0] : NULL;
    char driver_id[40];
    snprintf(driver_id, sizeof driver_id, "driver-%lld", offer);
    TIER_CHECK(m && !strcmp(json_text(m, "message"), "Yes, a big one") &&
                   !strcmp(json_text(json_object_get(m, "to"), "id"), "u-9") &&
                   !strcmp(json_text(json_object_get(m, "from"), "id"), driver_id) &&
                   !strcmp(json_text(m, "recipientCarpoolerType"), "PASSENGER") &&
                   !strcmp(json_text(m, "driverJourneyId"), journey),
               "the partner received our driver's answer (%d messages)", got.nmessages);
    pthread_mutex_unlock(&got.mu);
    printf("outbox: our passenger's answer to a partner driver's offer and our driver's reply to a partner's user "
           "delivered\n");
    MHD_stop_daemon(d);
    tier_conn_close(&c);
    tier_stop(&s);
    tier_db_check(db);
}

/* Waits until process pid is stopped (SIGSTOP takes effect a little after kill returns). */
static void stopped(pid_t pid)
{
    char path[64], stat[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    for (int i = 0; i < 500; i++) {
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(stat, 1, sizeof stat - 1, f) : 0;
        if (f)
            fclose(f);
        stat[n] = '\0';
        const char *end = strrchr(stat, ')'); /* "pid (name) STATE ..." */
        if (end && (end[2] == 'T' || end[2] == 't'))
            return;
        tier_sleep_ms(10);
    }
    tier_fail("process %d did not stop", (int)pid);
}

/* A search of A's made from another thread, timed. */
typedef struct mid_search {
    uint16_t port;
    const char *key, *body;
    tier_reply reply;
    double seconds;
} mid_search;

static void *search_thread(void *arg)
{
    mid_search *m = arg;
    tier_conn c = tier_conn_make(m->port, NULL);
    char headers[160];
    snprintf(headers, sizeof headers, "X-API-Key: %s\r\n", m->key);
    double t0 = tier_now_s();
    m->reply = tier_http(&c, "POST", "/v1/search", headers, m->body);
    m->seconds = tier_now_s() - t0;
    tier_conn_close(&c);
    return NULL;
}

/* --- federation --- */

static void federation(void)
{
    char db_a[1024], db_b[1024], err_a[1024], err_b[1024];
    tier_file("_fa.db", db_a, sizeof db_a);
    tier_file("_fb.db", db_b, sizeof db_b);
    tier_file("_fa.err", err_a, sizeof err_a);
    tier_file("_fb.err", err_b, sizeof err_b);
    tier_remove_db(db_a), tier_remove_db(db_b);
    unlink(err_a), unlink(err_b);
    uint16_t pa = free_port(), pb = free_port();
    char admin_a[80], admin_b[80], b_calls_a[80], a_calls_b[80];
    key_add(db_a, "app", "admin", admin_a);
    key_add(db_b, "app", "admin", admin_b);
    key_add(db_a, "b.example", "interop", b_calls_a);
    key_add(db_b, "a.example", "interop", a_calls_b);
    partner_add(db_a, "b.example", pb, a_calls_b);
    partner_add(db_b, "a.example", pa, b_calls_a);
    char listen_a[32], listen_b[32];
    snprintf(listen_a, sizeof listen_a, "127.0.0.1:%u", pa);
    snprintf(listen_b, sizeof listen_b, "127.0.0.1:%u", pb);
    const char *args_a[] = {"--graph",    graph,       "--db",      db_a, "--listen",          listen_a, "--tz", "UTC",
                            "--operator", "a.example", "--threads", "2",  "--partner-timeout", "800",    NULL};
    const char *args_b[] = {"--graph", graph,        "--db",      db_b,        "--listen", listen_b, "--tz",
                            "UTC",     "--operator", "b.example", "--threads", "2",        NULL};
    tier_server b = tier_serve(args_b, err_b);
    pid_t b_pid = b.pid;
    tier_server a = tier_serve(args_a, err_a);
    tier_conn ca = tier_conn_make(a.port, NULL), cb = tier_conn_make(b.port, NULL);
    offer_add(&ca, admin_a, "ad1", 3);
    offer_add(&cb, admin_b, "bd1", 3);

    char search[512];
    snprintf(search, sizeof search, "{\"from\":%s,\"to\":%s,\"depart\":\"%s\",\"owner\":\"ap1\",\"partners\":true}",
             trip_from, trip_to, depart);
    tier_reply r = call(&ca, "POST", "/v1/search", admin_a, search, 200);
    json_t *matches = json_object_get(r.json, "matches"), *report = json_object_get(r.json, "partners");
    TIER_CHECK(json_array_size(matches) == 2, "A's federated search: 2 journeys, one each: %s", r.body);
    TIER_CHECK(json_array_size(report) == 1 && json_is_true(json_object_get(json_array_get(report, 0), "answered")) &&
                   json_int(json_array_get(report, 0), "journeys") == 1,
               "B answered with one journey: %s", r.body);
    json_t *theirs = NULL;
    int ours = 0;
    for (size_t i = 0; i < json_array_size(matches); i++) {
        json_t *m = json_array_get(matches, i);
        if (!strcmp(json_text(m, "operator"), "b.example"))
            theirs = m;
        else if (!strcmp(json_text(m, "operator"), "a.example") && json_int(m, "offer_id") == 1)
            ours++;
    }
    TIER_CHECK(theirs && ours == 1, "one journey of each operator, tagged: %s", r.body);
    char expect_id[64];
    snprintf(expect_id, sizeof expect_id, "offer-1-%s", day);
    TIER_CHECK(!strcmp(json_text(theirs, "journey_id"), expect_id) &&
                   json_is_object(json_object_get(theirs, "journey")),
               "B's journey %s with its DriverJourney: %s", expect_id, r.body);
    /* the whole search asked B once and nothing else */
    char *journey = json_dumps(json_object_get(theirs, "journey"), JSON_COMPACT);
    tier_reply_free(&r);

    /* what A refuses before asking anyone */
    static const struct {
        const char *method, *path, *body;
        int status;
    } bad[] = {
        {"POST", "/v1/search", "{\"from\":[7.4197,43.7312],\"to\":[7.4286,43.7447],\"partners\":\"yes\"}", 400},
        {"POST", "/v1/bookings", "{\"operator\":\"c.example\",\"journey\":{},\"owner\":\"ap1\"}", 404},
        {"POST", "/v1/bookings", "{\"operator\":\"b.example\",\"journey\":{\"id\":\"x\"},\"owner\":\"ap1\"}", 400},
        {"POST", "/v1/bookings", "{\"operator\":\"b.example\",\"journey\":{},\"owner\":\"ap1\",\"x\":1}", 400},
        {"POST", "/stdcov/v1/booking_events", "{\"id\":\"1\"}", 400},
        {"POST", "/stdcov/v1/booking_events",
         "{\"id\":\"77777777-7777-4777-8777-777777777777\",\"idToken\":\"\",\"data\":{\"id\":"
         "\"88888888-8888-4888-8888-888888888888\",\"status\":\"CONFIRMED\"}}",
         400},
        {"GET", "/stdcov/v1/booking_events", NULL, 405},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int events = !strncmp(bad[i].path, "/stdcov", 7);
        r = call(&ca, bad[i].method, bad[i].path, events ? b_calls_a : admin_a, bad[i].body, bad[i].status);
        TIER_CHECK(*tier_message(&r) || json_is_string(json_object_get(r.json, "error")), "%s %s: a message: %s",
                   bad[i].method, bad[i].path, r.body);
        tier_reply_free(&r);
    }
    r = call(&ca, "POST", "/stdcov/v1/booking_events", NULL, "{}", 401), tier_reply_free(&r);
    r = call(&ca, "POST", "/stdcov/v1/booking_events", admin_b, "{}", 401), tier_reply_free(&r); /* B's own key */

    /* A's passenger books B's journey */
    char body[4096];
    snprintf(body, sizeof body, "{\"operator\":\"b.example\",\"journey\":%s,\"owner\":\"ap1\"}", journey);
    free(journey);
    r = call(&ca, "POST", "/v1/bookings", admin_a, body, 201);
    json_t *bk = json_object_get(r.json, "booking");
    char uuid[40], path[256];
    snprintf(uuid, sizeof uuid, "%s", json_text(bk, "id"));
    TIER_CHECK(strlen(uuid) == 36 && !strcmp(json_text(bk, "status"), "WAITING_CONFIRMATION") &&
                   !strcmp(json_text(bk, "operator"), "b.example"),
               "the booking on B's journey: %s", r.body);
    tier_reply_free(&r);
    /* on B it is a booking like any other, pending for B's driver, and the standard's booking of A */
    r = call(&cb, "GET", "/v1/bookings/1", admin_b, NULL, 200);
    TIER_CHECK(!strcmp(json_text(json_object_get(r.json, "booking"), "status"), "pending"), "pending on B: %s", r.body);
    tier_reply_free(&r);
    snprintf(path, sizeof path, "/stdcov/v1/bookings/%s", uuid);
    r = call(&cb, "GET", path, admin_b, NULL, 200);
    TIER_CHECK(!strcmp(json_text(json_object_get(r.json, "passenger"), "operator"), "a.example"),
               "B's booking names A's passenger's operator: %s", r.body);
    TIER_CHECK(!strstr(r.body, "ap1"), "A's owner reference never leaves A: %s", r.body);
    tier_reply_free(&r);
    /* B's driver accepts: B's event reaches A */
    r = call(&cb, "POST", "/v1/bookings/1/accept", admin_b, NULL, 200), tier_reply_free(&r);
    snprintf(path, sizeof path, "/v1/bookings/%s", uuid);
    double t0 = tier_now_s();
    const char *status = "";
    for (;;) {
        r = call(&ca, "GET", path, admin_a, NULL, 200);
        status = json_text(json_object_get(r.json, "booking"), "status");
        int done = !strcmp(status, "CONFIRMED");
        tier_reply_free(&r);
        if (done || tier_now_s() - t0 > 10)
            break;
        tier_sleep_ms(100);
    }
    TIER_CHECK(tier_now_s() - t0 <= 10, "A never heard that B's driver confirmed");
    printf("federation: B's confirmation reached A in %.2f s\n", tier_now_s() - t0);

    /* B stopped (a partner that does not answer): A answers after its partner timeout with its own journey, and
       names B */
    kill(b_pid, SIGSTOP);
    stopped(b_pid);
    t0 = tier_now_s();
    r = call(&ca, "POST", "/v1/search", admin_a, search, 200);
    double slow = tier_now_s() - t0;
    json_t *line = json_array_get(json_object_get(r.json, "partners"), 0);
    TIER_CHECK(json_array_size(json_object_get(r.json, "matches")) == 1 &&
                   !strcmp(json_text(json_array_get(json_object_get(r.json, "matches"), 0), "operator"), "a.example"),
               "with B stopped, A's own journey: %s", r.body);
    TIER_CHECK(json_is_false(json_object_get(line, "answered")) && *json_text(line, "error"),
               "B is named as left out: %s", r.body);
    TIER_CHECK(slow >= 0.7 && slow < 3, "A waited its partner timeout (0.8 s), not more: %.2f s", slow);
    tier_reply_free(&r);
    /* B killed in the middle of A's search (stopped, so that the search is waiting on it): A answers at once with
       its own journey and names B */
    mid_search ms = {.port = a.port, .key = admin_a, .body = search};
    pthread_t th;
    TIER_CHECK(!pthread_create(&th, NULL, search_thread, &ms), "cannot start a thread");
    tier_sleep_ms(200);
    tier_conn_close(&cb);
    tier_child = b.pid;
    tier_kill9(&b);
    tier_child = a.pid;
    pthread_join(th, NULL);
    line = json_array_get(json_object_get(ms.reply.json, "partners"), 0);
    TIER_CHECK(ms.reply.status == 200 && json_array_size(json_object_get(ms.reply.json, "matches")) == 1 &&
                   json_is_false(json_object_get(line, "answered")) && ms.seconds < 0.7,
               "B killed mid-search: A's own journey at once (%.2f s), B named: %s", ms.seconds,
               ms.reply.body ? ms.reply.body : "");
    printf("federation: B killed 0.2 s into A's search: answer in %.2f s: %s\n", ms.seconds, json_text(line, "error"));
    tier_reply_free(&ms.reply);
    /* B gone: the same, at once */
    t0 = tier_now_s();
    r = call(&ca, "POST", "/v1/search", admin_a, search, 200);
    double dead = tier_now_s() - t0;
    line = json_array_get(json_object_get(r.json, "partners"), 0);
    TIER_CHECK(json_array_size(json_object_get(r.json, "matches")) == 1 &&
                   json_is_false(json_object_get(line, "answered")),
               "with B killed, A's own journey and B named: %s", r.body);
    printf("federation: B stopped, answer in %.2f s (timeout 0.8 s); B killed, answer in %.3f s: %s\n", slow, dead,
           json_text(line, "error"));
    tier_reply_free(&r);
    /* the booking on B's journey is still A's to see; cancelling it needs B, which is gone: 502, nothing changed */
    snprintf(path, sizeof path, "/v1/bookings/%s/cancel", uuid);
    r = call(&ca, "POST", path, admin_a, NULL, 502);
    tier_reply_free(&r);
    tier_conn_close(&ca);
    tier_stop(&a);
    tier_db_check(db_a);
    tier_db_check(db_b);
}

/* A trip our map cannot route (here: at sea 3 km south of Monaco) that a partner's map can: the federated search
   answers with the partner's journey and names our own failure; without partners it is our 400 NoSegment. */
static void own_unroutable(void)
{
    char chain[1024], db_a[1024], db_b[1024], err_a[1024], err_b[1024], imp[1100];
    tier_file("_chain.cvg", chain, sizeof chain);
    tier_file("_ua.db", db_a, sizeof db_a);
    tier_file("_ub.db", db_b, sizeof db_b);
    tier_file("_ua.err", err_a, sizeof err_a);
    tier_file("_ub.err", err_b, sizeof err_b);
    tier_remove_db(db_a), tier_remove_db(db_b);
    snprintf(imp, sizeof imp, "%s.import.err", chain);
    const char *import[] = {"import", COVOIT_SCENARIOS "/chain.osm", "-o", chain, NULL};
    TIER_CHECK(tier_run(import, NULL, 0, imp) == 0, "covoit import of chain.osm failed (stderr in %s)", imp);
    uint16_t pa = free_port(), pb = free_port();
    char admin_a[80], admin_b[80], a_calls_b[80];
    key_add(db_a, "app", "admin", admin_a);
    key_add(db_b, "app", "admin", admin_b);
    key_add(db_b, "a.example", "interop", a_calls_b);
    partner_add(db_a, "b.example", pb, a_calls_b);
    char listen_a[32], listen_b[32];
    snprintf(listen_a, sizeof listen_a, "127.0.0.1:%u", pa);
    snprintf(listen_b, sizeof listen_b, "127.0.0.1:%u", pb);
    const char *args_a[] = {"--graph", graph, "--db",       db_a,        "--listen", listen_a,
                            "--tz",    "UTC", "--operator", "a.example", NULL};
    const char *args_b[] = {"--graph", chain, "--db",       db_b,        "--listen", listen_b,
                            "--tz",    "UTC", "--operator", "b.example", NULL};
    tier_server b = tier_serve(args_b, err_b);
    tier_server a = tier_serve(args_a, err_a);
    tier_conn ca = tier_conn_make(a.port, NULL), cb = tier_conn_make(b.port, NULL);
    char body[512];
    snprintf(body, sizeof body,
             "{\"from\":[7.4000,43.7000],\"to\":[7.4120,43.7000],\"depart\":\"%s\",\"seats\":3,\"owner\":\"bd2\"}",
             depart);
    tier_reply r = call(&cb, "POST", "/v1/offers", admin_b, body, 201);
    tier_reply_free(&r);
    snprintf(body, sizeof body,
             "{\"from\":[7.4010,43.70045],\"to\":[7.4110,43.70045],\"depart\":\"%s\",\"owner\":\"ap2\"%s}", depart, "");
    r = call(&ca, "POST", "/v1/search", admin_a, body, 400);
    TIER_CHECK(!strcmp(json_text(r.json, "code"), "NoSegment"), "alone, A cannot route it: %s", r.body);
    tier_reply_free(&r);
    snprintf(body, sizeof body,
             "{\"from\":[7.4010,43.70045],\"to\":[7.4110,43.70045],\"depart\":\"%s\",\"owner\":\"ap2\"%s}", depart,
             ",\"partners\":true");
    r = call(&ca, "POST", "/v1/search", admin_a, body, 200);
    json_t *matches = json_object_get(r.json, "matches"), *own = json_object_get(r.json, "own_error");
    json_t *line = json_array_get(json_object_get(r.json, "partners"), 0);
    TIER_CHECK(json_array_size(matches) == 1 && !strcmp(json_text(json_array_get(matches, 0), "operator"), "b.example"),
               "B's journey on B's map: %s", r.body);
    TIER_CHECK(!strcmp(json_text(r.json, "code"), "Ok") && json_is_object(own) &&
                   !strcmp(json_text(own, "code"), "NoSegment") && *json_text(own, "message"),
               "A names its own failure: %s", r.body);
    TIER_CHECK(json_is_true(json_object_get(line, "answered")) && json_int(line, "journeys") == 1,
               "B answered with one journey: %s", r.body);
    printf("federation: a trip off our map, on the partner's: %s\n", r.body);
    tier_reply_free(&r);
    tier_conn_close(&ca), tier_conn_close(&cb);
    tier_stop(&a);
    tier_stop(&b);
    tier_db_check(db_a);
    tier_db_check(db_b);
}

int main(int argc, char **argv)
{
    tier_init();
    tier_set_stem(argc, argv, NAME);
    tier_file(".cvg", graph, sizeof graph);
    tier_import(graph);
    tier_date(1, day);
    snprintf(depart, sizeof depart, "%sT08:00:00Z", day);
    struct tm tm = {0};
    sscanf(day, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
    tm.tm_year -= 1900, tm.tm_mon -= 1, tm.tm_hour = 8;
    when_s = (long long)timegm(&tm);
    outbox();
    federation();
    own_unroutable();
    printf("tier_partners: ok\n");
    return 0;
}
