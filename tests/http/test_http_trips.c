/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_http_trips.c — the carpool API under /v1 over HTTP: the real server on 127.0.0.1 port 0 with the Monaco
   graph and a temporary trip database (an SQLite file, or under with_pg a PostgreSQL database: db_target.h). Offers and
   requests along a route the server itself gives, matches both ways, search, bookings, the seat race between concurrent
   clients, every error class (and nothing written on a refused request), 503 without a database, and restart on the
   same database. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "http_client.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "feeds/privacy.h"
#include "matcher/matcher.h"
#include "routing/geo.h"
#include "web/server.h"
#include "test_support.h"
#include "db_target.h"

#define DB COVOIT_TMP "/http_trips.db"

#define CASINO "7.4275,43.7396"
#define FONTVIEILLE "7.4160,43.7290"

static cv_graph *graph;
static cv_matcher *matcher;
static cv_server *server;
static uint16_t port;

/* Shared between the tests, which run in order. */
static char depart[32];        /* two days from now, UTC */
static double route_pts[2][2]; /* two points along the casino -> Fontvieille route, [lon, lat] */
static int64_t offer_id, request_booked, request_open;

/* --- a tiny HTTP/1.1 client --- */

static reply http_req(const char *method, const char *path, const char *body)
{
    return http_request(port, method, path, NULL, body, body ? strlen(body) : 0);
}

/* A request whose answer must have status and code; returns the reply (the caller frees it). */
static reply expect(const char *method, const char *path, const char *body, int status, const char *code)
{
    reply r = http_req(method, path, body);
    if (r.status != status || !r.json)
        fail_msg("%s %s %s: status %d, expected %d: %s", method, path, body ? body : "", r.status, status, r.raw);
    const char *got = json_string_value(json_object_get(r.json, "code"));
    if (!got || strcmp(got, code))
        fail_msg("%s %s: code %s, expected %s: %s", method, path, got ? got : "(none)", code, r.raw);
    if (strcmp(code, "Ok"))
        assert_true(json_is_string(json_object_get(r.json, "message")));
    return r;
}

static void expect_error(const char *method, const char *path, const char *body, int status, const char *code)
{
    reply r = expect(method, path, body, status, code);
    reply_free(&r);
}

/* json_pack'ed doc (taken) as text (malloc'ed). */
static char *text_of(json_t *doc)
{
    assert_non_null(doc);
    char *t = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return t;
}

static json_t *lonlat(double lon, double lat)
{
    return json_pack("[f,f]", lon, lat);
}

static char *offer_body(int seats)
{
    return text_of(json_pack("{s:o,s:o,s:s,s:i,s:i,s:s}", "from", lonlat(7.4275, 43.7396), "to",
                             lonlat(7.4160, 43.7290), "depart", depart, "margin_min", 30, "seats", seats, "owner",
                             "driver-1"));
}

static char *request_body(const char *owner)
{
    return text_of(json_pack("{s:o,s:o,s:s,s:i,s:s}", "from", lonlat(route_pts[0][0], route_pts[0][1]), "to",
                             lonlat(route_pts[1][0], route_pts[1][1]), "depart", depart, "margin_min", 30, "owner",
                             owner));
}

/* POSTs body (freed) to path, expects 201 and returns the id of the object under key. */
static int64_t create(const char *path, char *body, const char *key)
{
    reply r = expect("POST", path, body, 201, "Ok");
    free(body);
    json_t *obj = json_object_get(r.json, key);
    int64_t id = json_integer_value(json_object_get(obj, "id"));
    assert_true(id > 0);
    reply_free(&r);
    return id;
}

static int64_t book(int64_t offer, int64_t request)
{
    char body[128];
    snprintf(body, sizeof body, "{\"offer_id\":%lld,\"request_id\":%lld}", (long long)offer, (long long)request);
    reply r = expect("POST", "/v1/bookings", body, 201, "Ok");
    json_t *b = json_object_get(r.json, "booking");
    assert_string_equal(json_string_value(json_object_get(b, "status")), "pending");
    assert_int_equal(json_integer_value(json_object_get(b, "offer_id")), offer);
    int64_t id = json_integer_value(json_object_get(b, "id"));
    assert_true(id > 0);
    reply_free(&r);
    return id;
}

/* True when the matches of reply r hold one with field == id. */
static int has_match(const reply *r, const char *field, int64_t id)
{
    json_t *list = json_object_get(r->json, "matches");
    assert_true(json_is_array(list));
    for (size_t i = 0; i < json_array_size(list); i++)
        if (json_integer_value(json_object_get(json_array_get(list, i), field)) == id)
            return 1;
    return 0;
}

/* How many offers the store holds (cancelled ones included). */
static size_t count_offers(void)
{
    reply r = expect("GET", "/v1/offers?all=true", NULL, 200, "Ok");
    size_t n = json_array_size(json_object_get(r.json, "offers"));
    reply_free(&r);
    return n;
}

/* --- set-up --- */

static cv_server *start(cv_matcher *m)
{
    cv_server_options o = cv_server_defaults();
    o.port = 0;
    o.threads = 8;
    o.quiet = 1;
    o.matcher = m;
    cv_error err = {0};
    cv_server *s = cv_server_start(graph, &o, &err);
    if (!s)
        fail_msg("%s", err.text);
    return s;
}

static void open_matcher(void)
{
    cv_error err = {0};
    cv_matcher_options mo = cv_matcher_defaults();
    if (cv_matcher_open(graph, tst_db(DB), &mo, (int64_t)time(NULL), &matcher, &err))
        fail_msg("%s", err.text);
}

static int setup(void **state)
{
    (void)state;
    graph = tst_build_graph(COVOIT_TEST_DATA "/monaco.osm.pbf", "http_trips_monaco.cvg");
    tst_db_remove(DB);
    open_matcher();
    server = start(matcher);
    port = cv_server_port(server);
    time_t t = time(NULL) + 2 * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(depart, sizeof depart, "%Y-%m-%dT%H:%M:00Z", &tm);
    return port ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    cv_server_stop(server);
    cv_matcher_close(matcher);
    cv_graph_close(graph);
    return 0;
}

/* --- tests --- */

static void test_without_db(void **state)
{
    (void)state;
    cv_server *s = start(NULL);
    uint16_t keep = port;
    port = cv_server_port(s);
    expect_error("GET", "/v1/offers", NULL, 503, "Unavailable");
    expect_error("POST", "/v1/search", "{}", 503, "Unavailable");
    reply r = expect("GET", "/health", NULL, 200, "Ok");
    reply_free(&r);
    cv_server_stop(s);
    port = keep;
}

static void test_offer_request_match_book(void **state)
{
    (void)state;
    /* Points along the offer's own route, as the server routes it. */
    reply r = expect("GET", "/route/v1/driving/" CASINO ";" FONTVIEILLE "?geometries=geojson", NULL, 200, "Ok");
    json_t *coords = json_object_get(json_object_get(json_array_get(json_object_get(r.json, "routes"), 0), "geometry"),
                                     "coordinates");
    size_t n = json_array_size(coords);
    assert_true(n >= 8);
    for (int k = 0; k < 2; k++) {
        json_t *c = json_array_get(coords, k ? 3 * n / 4 : n / 4);
        route_pts[k][0] = json_number_value(json_array_get(c, 0));
        route_pts[k][1] = json_number_value(json_array_get(c, 1));
    }
    reply_free(&r);

    offer_id = create("/v1/offers", offer_body(3), "offer");
    char path[128];
    snprintf(path, sizeof path, "/v1/offers/%lld", (long long)offer_id);
    r = expect("GET", path, NULL, 200, "Ok");
    json_t *o = json_object_get(r.json, "offer");
    assert_string_equal(json_string_value(json_object_get(o, "owner")), "driver-1");
    assert_string_equal(json_string_value(json_object_get(o, "status")), "open");
    assert_int_equal(json_integer_value(json_object_get(o, "seats")), 3);
    assert_true(json_number_value(json_object_get(json_object_get(o, "direct"), "distance")) > 0);
    assert_int_equal(json_array_size(json_object_get(o, "stops")), 2);
    reply_free(&r);

    r = expect("GET", "/v1/offers?owner=driver-1", NULL, 200, "Ok");
    assert_int_equal(json_array_size(json_object_get(r.json, "offers")), 1);
    reply_free(&r);
    r = expect("GET", "/v1/offers?owner=nobody", NULL, 200, "Ok");
    assert_int_equal(json_array_size(json_object_get(r.json, "offers")), 0);
    reply_free(&r);

    request_booked = create("/v1/requests", request_body("rider-1"), "request");
    request_open = create("/v1/requests", request_body("rider-2"), "request");
    snprintf(path, sizeof path, "/v1/requests/%lld", (long long)request_booked);
    r = expect("GET", path, NULL, 200, "Ok");
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "request"), "owner")), "rider-1");
    reply_free(&r);

    /* Matches both ways, and the search finds the offer without storing anything. */
    snprintf(path, sizeof path, "/v1/requests/%lld/matches?limit=5", (long long)request_booked);
    r = expect("GET", path, NULL, 200, "Ok");
    assert_true(has_match(&r, "offer_id", offer_id));
    json_t *m = json_array_get(json_object_get(r.json, "matches"), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(m, "contribution"), "currency")), "EUR");
    reply_free(&r);
    snprintf(path, sizeof path, "/v1/offers/%lld/matches", (long long)offer_id);
    r = expect("GET", path, NULL, 200, "Ok");
    assert_true(has_match(&r, "request_id", request_booked));
    assert_true(has_match(&r, "request_id", request_open));
    reply_free(&r);
    char *body = request_body("searcher");
    r = expect("POST", "/v1/search?limit=3", body, 200, "Ok");
    free(body);
    assert_true(has_match(&r, "offer_id", offer_id));
    reply_free(&r);
    r = expect("GET", "/v1/requests?owner=searcher", NULL, 200, "Ok");
    assert_int_equal(json_array_size(json_object_get(r.json, "requests")), 0);
    reply_free(&r);

    /* Book, accept; a second accept conflicts. */
    int64_t b = book(offer_id, request_booked);
    snprintf(path, sizeof path, "/v1/bookings/%lld/accept", (long long)b);
    r = expect("POST", path, NULL, 200, "Ok");
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "booking"), "status")), "accepted");
    reply_free(&r);
    expect_error("POST", path, NULL, 409, "Conflict");
    snprintf(path, sizeof path, "/v1/bookings/%lld", (long long)b);
    r = expect("GET", path, NULL, 200, "Ok");
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "booking"), "status")), "accepted");
    reply_free(&r);
    /* Booking the same pair again conflicts. */
    char bb[128];
    snprintf(bb, sizeof bb, "{\"offer_id\":%lld,\"request_id\":%lld}", (long long)offer_id, (long long)request_booked);
    expect_error("POST", "/v1/bookings", bb, 409, "Conflict");

    /* The offer now has the passenger's pickup and drop-off among its stops. */
    snprintf(path, sizeof path, "/v1/offers/%lld", (long long)offer_id);
    r = expect("GET", path, NULL, 200, "Ok");
    o = json_object_get(r.json, "offer");
    assert_int_equal(json_array_size(json_object_get(o, "stops")), 4);
    assert_int_equal(json_array_size(json_object_get(o, "bookings")), 1);
    reply_free(&r);
}

/* One car at a time, over HTTP: a passenger booked with two drivers; the first acceptance supersedes the other
   booking, which then cannot be accepted (409 saying why); the passenger sees both bookings on the request, the
   offers tell their seats left on the date, and a match tells the seats left on it. */
static void test_one_car_per_request(void **state)
{
    (void)state;
    int64_t o1 = create("/v1/offers", offer_body(1), "offer"), o2 = create("/v1/offers", offer_body(2), "offer");
    int64_t req = create("/v1/requests", request_body("two-drivers"), "request");
    char path[128];
    snprintf(path, sizeof path, "/v1/requests/%lld/matches", (long long)req);
    reply r = expect("GET", path, NULL, 200, "Ok");
    json_t *list = json_object_get(r.json, "matches");
    int seen = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *m = json_array_get(list, i);
        int64_t id = json_integer_value(json_object_get(m, "offer_id"));
        if (id == o1 || id == o2) {
            seen++;
            assert_int_equal(json_integer_value(json_object_get(m, "seats_left")), id == o1 ? 1 : 2);
        }
    }
    assert_int_equal(seen, 2);
    reply_free(&r);
    int64_t b1 = book(o1, req), b2 = book(o2, req);
    snprintf(path, sizeof path, "/v1/bookings/%lld/accept", (long long)b1);
    r = expect("POST", path, NULL, 200, "Ok");
    json_t *dates = json_object_get(json_object_get(r.json, "booking"), "dates");
    assert_string_equal(json_string_value(json_object_get(dates, "first_date")),
                        json_string_value(json_object_get(dates, "last_date")));
    char date[16];
    snprintf(date, sizeof date, "%s", json_string_value(json_object_get(dates, "first_date")));
    reply_free(&r);
    snprintf(path, sizeof path, "/v1/bookings/%lld", (long long)b2);
    r = expect("GET", path, NULL, 200, "Ok");
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "booking"), "status")), "superseded");
    reply_free(&r);
    snprintf(path, sizeof path, "/v1/bookings/%lld/accept", (long long)b2);
    r = expect("POST", path, NULL, 409, "Conflict");
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "message")), "superseded"));
    reply_free(&r);
    /* a third driver: booking is refused at once, naming the car the passenger rides in */
    int64_t o3 = create("/v1/offers", offer_body(3), "offer");
    char body[128];
    snprintf(body, sizeof body, "{\"offer_id\":%lld,\"request_id\":%lld}", (long long)o3, (long long)req);
    r = expect("POST", "/v1/bookings", body, 409, "Conflict");
    char want[96];
    snprintf(want, sizeof want, "already rides with offer %lld", (long long)o1);
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "message")), want));
    reply_free(&r);
    /* the passenger's view */
    snprintf(path, sizeof path, "/v1/requests/%lld", (long long)req);
    r = expect("GET", path, NULL, 200, "Ok");
    list = json_object_get(json_object_get(r.json, "request"), "bookings");
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "status")), "accepted");
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "status")), "superseded");
    reply_free(&r);
    /* the drivers' view: o1 is full on the date, o2 untouched */
    snprintf(path, sizeof path, "/v1/offers/%lld", (long long)o1);
    r = expect("GET", path, NULL, 200, "Ok");
    list = json_object_get(json_object_get(r.json, "offer"), "seats_left");
    assert_int_equal(json_array_size(list), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "seats_left")), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "date")), date);
    reply_free(&r);
    snprintf(path, sizeof path, "/v1/offers/%lld", (long long)o2);
    r = expect("GET", path, NULL, 200, "Ok");
    assert_int_equal(json_array_size(json_object_get(json_object_get(r.json, "offer"), "seats_left")), 0);
    reply_free(&r);
}

/* Two drivers accept the same passenger at the same moment: exactly one wins. */
typedef struct accepter {
    char path[64];
    pthread_barrier_t *go;
    int status;
} accepter;

static void *accept_at_once(void *p)
{
    accepter *a = p;
    pthread_barrier_wait(a->go);
    reply r = http_req("POST", a->path, NULL);
    a->status = r.status;
    reply_free(&r);
    return NULL;
}

static void test_two_drivers_race_for_a_passenger(void **state)
{
    (void)state;
    enum { N = 6 };
    for (int round = 0; round < 5; round++) {
        int64_t req = create("/v1/requests", request_body("raced"), "request");
        accepter a[N];
        pthread_t t[N];
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, N);
        for (int i = 0; i < N; i++) {
            int64_t o = create("/v1/offers", offer_body(3), "offer");
            snprintf(a[i].path, sizeof a[i].path, "/v1/bookings/%lld/accept", (long long)book(o, req));
            a[i].go = &go;
        }
        for (int i = 0; i < N; i++)
            pthread_create(&t[i], NULL, accept_at_once, &a[i]);
        int won = 0, lost = 0;
        for (int i = 0; i < N; i++) {
            pthread_join(t[i], NULL);
            won += a[i].status == 200;
            lost += a[i].status == 409;
        }
        pthread_barrier_destroy(&go);
        assert_int_equal(won, 1);
        assert_int_equal(lost, N - 1);
    }
}

typedef struct racer {
    char path[64];
    pthread_barrier_t *go;
    int status;
} racer;

static void *race(void *p)
{
    racer *a = p;
    pthread_barrier_wait(a->go);
    reply r = http_req("POST", a->path, NULL);
    a->status = r.status;
    reply_free(&r);
    return NULL;
}

static void test_seat_race(void **state)
{
    (void)state;
    enum { NR = 6 };
    int64_t offer = create("/v1/offers", offer_body(2), "offer");
    int64_t bookings[NR];
    for (int i = 0; i < NR; i++) {
        char owner[32];
        snprintf(owner, sizeof owner, "racer-%d", i);
        int64_t req = create("/v1/requests", request_body(owner), "request");
        bookings[i] = book(offer, req);
    }
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, NR);
    pthread_t t[NR];
    racer a[NR];
    for (int i = 0; i < NR; i++) {
        memset(&a[i], 0, sizeof a[i]);
        snprintf(a[i].path, sizeof a[i].path, "/v1/bookings/%lld/accept", (long long)bookings[i]);
        a[i].go = &go;
        assert_int_equal(pthread_create(&t[i], NULL, race, &a[i]), 0);
    }
    int won = 0, lost = 0, loser = -1;
    for (int i = 0; i < NR; i++) {
        pthread_join(t[i], NULL);
        if (a[i].status == 200)
            won++;
        else if (a[i].status == 409)
            lost++, loser = i;
    }
    pthread_barrier_destroy(&go);
    assert_int_equal(won, 2);
    assert_int_equal(lost, NR - 2);

    /* A booking asked of the full offer says it is full, not that the trips do not match. */
    int64_t late = create("/v1/requests", request_body("late"), "request");
    char late_body[128];
    snprintf(late_body, sizeof late_body, "{\"offer_id\":%lld,\"request_id\":%lld}", (long long)offer, (long long)late);
    reply full = expect("POST", "/v1/bookings", late_body, 409, "Conflict");
    assert_non_null(strstr(json_string_value(json_object_get(full.json, "message")), "is full on"));
    reply_free(&full);

    /* The losers are still pending: the driver can refuse one; a refused booking cannot be accepted. */
    char path[64];
    snprintf(path, sizeof path, "/v1/bookings/%lld/refuse", (long long)bookings[loser]);
    reply r = expect("POST", path, NULL, 200, "Ok");
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "booking"), "status")), "refused");
    reply_free(&r);
    snprintf(path, sizeof path, "/v1/bookings/%lld/accept", (long long)bookings[loser]);
    expect_error("POST", path, NULL, 409, "Conflict");

    /* Cancelling the offer: DELETE, then a second cancel conflicts. */
    snprintf(path, sizeof path, "/v1/offers/%lld", (long long)offer);
    r = expect("DELETE", path, NULL, 200, "Ok");
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "offer"), "status")), "cancelled");
    reply_free(&r);
    snprintf(path, sizeof path, "/v1/offers/%lld/cancel", (long long)offer);
    expect_error("POST", path, NULL, 409, "Conflict");
    /* and one asked of the cancelled offer says it is cancelled */
    reply gone = expect("POST", "/v1/bookings", late_body, 409, "Conflict");
    assert_non_null(strstr(json_string_value(json_object_get(gone.json, "message")), "is cancelled"));
    reply_free(&gone);
}

/* A passenger picked up exactly where the driver starts and set down where they end, accepted: the offer stays
   open to others (it used to be shut: the stored pickup snapped a few centimetres behind the driver's start on a
   one-way street, and the leg between them went round the block). */
static void test_second_passenger_at_the_ends(void **state)
{
    (void)state;
    int64_t offer = create("/v1/offers", offer_body(3), "offer");
    char *body = text_of(json_pack("{s:o,s:o,s:s,s:i,s:s}", "from", lonlat(7.4275, 43.7396), "to",
                                   lonlat(7.4160, 43.7290), "depart", depart, "margin_min", 30, "owner", "ends-1"));
    int64_t first = create("/v1/requests", body, "request");
    int64_t b = book(offer, first);
    char path[96];
    snprintf(path, sizeof path, "/v1/bookings/%lld/accept", (long long)b);
    reply r = expect("POST", path, NULL, 200, "Ok");
    reply_free(&r);
    body = text_of(json_pack("{s:o,s:o,s:s,s:i,s:s}", "from", lonlat(7.4275, 43.7396), "to", lonlat(7.4160, 43.7290),
                             "depart", depart, "margin_min", 30, "owner", "ends-2"));
    int64_t second = create("/v1/requests", body, "request");
    snprintf(path, sizeof path, "/v1/requests/%lld/matches", (long long)second);
    r = expect("GET", path, NULL, 200, "Ok");
    assert_true(has_match(&r, "offer_id", offer));
    reply_free(&r);
    /* and the driver's route is not longer for the first passenger: no detour counted */
    snprintf(path, sizeof path, "/v1/offers/%lld", (long long)offer);
    r = expect("GET", path, NULL, 200, "Ok");
    json_t *left = json_array_get(json_object_get(json_object_get(r.json, "offer"), "seats_left"), 0);
    assert_int_equal(json_integer_value(json_object_get(left, "seats_left")), 2);
    reply_free(&r);
    book(offer, second);
}

static cv_coord coord_of(double lon, double lat)
{
    cv_coord c = {cv_fixed(lon), cv_fixed(lat)};
    return c;
}

/* The polyline's length in metres, and whether it passes within 1 m of c. */
static double line_length(json_t *coords, const double c[2], int *passes)
{
    double len = 0;
    for (size_t i = 0; i < json_array_size(coords); i++) {
        json_t *p = json_array_get(coords, i);
        double lon = json_number_value(json_array_get(p, 0)), lat = json_number_value(json_array_get(p, 1));
        if (cv_distance_m(coord_of(lon, lat), coord_of(c[0], c[1])) < 1.0)
            *passes = 1;
        if (i) {
            json_t *q = json_array_get(coords, i - 1);
            len += cv_distance_m(
                coord_of(json_number_value(json_array_get(q, 0)), json_number_value(json_array_get(q, 1))),
                coord_of(lon, lat));
        }
    }
    return len;
}

static void lonlat_of(json_t *stop, double out[2])
{
    json_t *loc = json_object_get(stop, "location");
    out[0] = json_number_value(json_array_get(loc, 0));
    out[1] = json_number_value(json_array_get(loc, 1));
}

/* A match with geometry=true carries the driver's route as the matcher plans it, and what the map page draws for a
   result: the offer's stops in key order with the pickup and drop-off at the match's keys, its length the match's
   driver_total, drawn from where it leaves the driver's origin's area (issue 16: no driver's home in a search). Here a
   first passenger is already in the car and the second is set down at the driver's own destination: a route through the
   stops' coordinates (/route) would snap the drop-off again a few centimetres behind the destination on a one-way
   street and go round the block (3.0 km against 2.4 km). */
static void test_match_route_is_the_plan(void **state)
{
    (void)state;
    int64_t offer = create("/v1/offers", offer_body(3), "offer");
    int64_t first = create("/v1/requests", request_body("plan-1"), "request");
    char path[96];
    snprintf(path, sizeof path, "/v1/bookings/%lld/accept", (long long)book(offer, first));
    reply r = expect("POST", path, NULL, 200, "Ok");
    reply_free(&r);
    char *body = text_of(json_pack("{s:o,s:o,s:s,s:i}", "from", lonlat(route_pts[0][0], route_pts[0][1]), "to",
                                   lonlat(7.4160, 43.7290), "depart", depart, "margin_min", 30));
    r = expect("POST", "/v1/search?limit=100&geometry=true", body, 200, "Ok");
    free(body);
    json_t *m = NULL, *list = json_object_get(r.json, "matches");
    for (size_t i = 0; i < json_array_size(list); i++)
        if (json_integer_value(json_object_get(json_array_get(list, i), "offer_id")) == offer)
            m = json_array_get(list, i);
    if (!m)
        fail_msg("offer %lld not among the matches", (long long)offer);
    double kp = json_number_value(json_object_get(json_object_get(m, "pickup"), "key"));
    double kd = json_number_value(json_object_get(json_object_get(m, "dropoff"), "key"));
    assert_true(0 < kp && kp < kd);
    /* the keys fall between the offer's stops: after the origin (0), before the destination */
    snprintf(path, sizeof path, "/v1/offers/%lld", (long long)offer);
    reply o = expect("GET", path, NULL, 200, "Ok");
    json_t *stops = json_object_get(json_object_get(o.json, "offer"), "stops");
    assert_int_equal(json_array_size(stops), 4); /* origin, the first passenger's pickup and drop-off, destination */
    double kend = json_number_value(json_object_get(json_array_get(stops, 3), "key"));
    assert_true(kd < kend);
    double other_drop[2]; /* the first passenger's drop-off: on the way, and not to be marked on the line */
    lonlat_of(json_array_get(stops, 2), other_drop);
    for (size_t i = 0; i < 4; i++) {
        double k = json_number_value(json_object_get(json_array_get(stops, i), "key"));
        assert_true(k != kp && k != kd);
    }
    reply_free(&o);
    json_t *route = json_object_get(m, "route");
    double want = json_number_value(json_object_get(json_object_get(m, "driver_total"), "distance"));
    double got = json_number_value(json_object_get(route, "distance"));
    if (fabs(got - want) > 0.15)
        fail_msg("the route is %.1f m, driver_total says %.1f m", got, want);
    assert_true(fabs(json_number_value(json_object_get(route, "duration")) -
                     json_number_value(json_object_get(json_object_get(m, "driver_total"), "duration"))) < 0.15);
    json_t *geom = json_object_get(route, "geometry");
    assert_string_equal(json_string_value(json_object_get(geom, "type")), "LineString");
    double pick[2], drop[2];
    lonlat_of(json_object_get(m, "pickup"), pick);
    lonlat_of(json_object_get(m, "dropoff"), drop);
    int through_pick = 0, through_drop = 0;
    double len = line_length(json_object_get(geom, "coordinates"), pick, &through_pick);
    line_length(json_object_get(geom, "coordinates"), drop, &through_drop);
    assert_true(through_pick && through_drop);
    int through_other = 0;
    line_length(json_object_get(geom, "coordinates"), other_drop, &through_other);
    if (through_other) /* their place is on the road the car takes, but not marked on the line */
        fail_msg("the line has a point at the first passenger's drop-off %.6f,%.6f", other_drop[0], other_drop[1]);
    assert_true(len > 0 && len <= want * 1.01); /* the line drawn is the route, less the part in the origin's area */
    /* the driver's origin does not show: the line starts out of its grid cell (or at the pickup), and the origin is
       given as its public area, a meeting point that is not the origin */
    cv_coord origin = {cv_fixed(7.4275), cv_fixed(43.7396)};
    int32_t ox, oy, x, y;
    cv_area_cell(origin, &ox, &oy);
    json_t *coords = json_object_get(geom, "coordinates");
    for (size_t i = 0; i < json_array_size(coords); i++) {
        json_t *p = json_array_get(coords, i);
        cv_coord c = coord_of(json_number_value(json_array_get(p, 0)), json_number_value(json_array_get(p, 1)));
        if (cv_distance_m(c, coord_of(pick[0], pick[1])) < 1.0)
            break; /* the pickup: the passenger's own place, shown whatever its cell */
        cv_area_cell(c, &x, &y);
        if (x == ox && y == oy)
            fail_msg("point %zu of the line (%.6f,%.6f) is in the driver's origin's cell", i, cv_deg(c.lon),
                     cv_deg(c.lat));
    }
    cv_area area;
    cv_error aerr = {0};
    assert_int_equal(cv_area_of(graph, origin, &area, &aerr), 0);
    json_t *oa = json_object_get(route, "origin_area");
    double alon = json_number_value(json_array_get(json_object_get(oa, "location"), 0)),
           alat = json_number_value(json_array_get(json_object_get(oa, "location"), 1));
    assert_true(cv_distance_m(coord_of(alon, alat), area.meet.location) < 0.5);
    assert_true(cv_distance_m(coord_of(alon, alat), origin) > 1.0);
    assert_int_equal(json_integer_value(json_object_get(oa, "radius")), 400);
    assert_non_null(json_object_get(json_object_get(route, "destination_area"), "location"));
    reply_free(&r);
    /* geometry is true or false, nothing else */
    expect_error("POST", "/v1/search?geometry=yes", "{}", 400, "InvalidValue");
}

/* How many times needle is in the file at path (0 when there is no such file). */
static int in_file(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(len > 0 ? (size_t)len : 1);
    size_t got = buf ? fread(buf, 1, (size_t)len, f) : 0;
    fclose(f);
    int n = 0;
    size_t k = strlen(needle);
    for (size_t i = 0; buf && i + k <= got; i++)
        n += !memcmp(buf + i, needle, k);
    free(buf);
    return n;
}

/* How many rows of the test's PostgreSQL database hold needle, in any column of any of its tables (each row read
   as text): where the SQLite test reads the files, since PostgreSQL keeps deleted rows in its files until VACUUM
   (docs/privacy.md) and promises only that no row holds it any more. */
static int in_pg_rows(const char *needle)
{
    cv_db *db = NULL;
    cv_error err = {0};
    if (cv_db_open(tst_db(DB), &db, &err))
        fail_msg("%s", err.text);
    char tables[64][80];
    int ntables = 0, rc;
    cv_db_stmt *st = NULL;
    assert_int_equal(cv_db_prepare(db,
                                   "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema() "
                                   "ORDER BY 1",
                                   &st, &err),
                     0);
    while ((rc = cv_db_step(st, &err)) == CV_DB_ROW && ntables < 64)
        snprintf(tables[ntables++], sizeof tables[0], "%s", cv_db_column_text(st, 0));
    if (rc < 0)
        fail_msg("%s", err.text);
    cv_db_finalize(st);
    assert_true(ntables >= 10); /* the store's tables are there: the search below looks at something */
    int n = 0;
    for (int i = 0; i < ntables; i++) {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s AS r WHERE strpos(CAST(r AS TEXT), ?1) > 0", tables[i]);
        if (cv_db_prepare(db, sql, &st, &err))
            fail_msg("%s", err.text);
        cv_db_bind_text(st, 1, needle);
        if (cv_db_step(st, &err) != CV_DB_ROW)
            fail_msg("%s: %s", sql, err.text);
        n += (int)cv_db_column_int64(st, 0);
        cv_db_finalize(st);
    }
    cv_db_close(db);
    return n;
}

/* A person's data: exported whole (their trip with its stops and the booking on it), then erased: gone from every
   answer and from the database files (the file and its write-ahead log no longer hold their reference; on
   PostgreSQL, no row does, and the answer does not claim clean files), while the passenger on the other side keeps
   their request, free to book again. */
static void test_owner_export_and_erase(void **state)
{
    (void)state;
    const char *who = "erase-me-7f3a9c";
    char *body =
        text_of(json_pack("{s:o,s:o,s:s,s:i,s:i,s:s}", "from", lonlat(7.4275, 43.7396), "to", lonlat(7.4160, 43.7290),
                          "depart", depart, "margin_min", 30, "seats", 2, "owner", who));
    int64_t offer = create("/v1/offers", body, "offer");
    int64_t rider = create("/v1/requests", request_body("rider-stays"), "request");
    char path[128];
    snprintf(path, sizeof path, "/v1/bookings/%lld/accept", (long long)book(offer, rider));
    reply r = expect("POST", path, NULL, 200, "Ok");
    reply_free(&r);
    snprintf(path, sizeof path, "/v1/owners/%s/export", who);
    r = expect("GET", path, NULL, 200, "Ok");
    assert_string_equal(json_string_value(json_object_get(r.json, "owner")), who);
    json_t *offers = json_object_get(r.json, "offers");
    assert_int_equal(json_array_size(offers), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(offers, 0), "id")), offer);
    assert_int_equal(json_array_size(json_object_get(json_array_get(offers, 0), "stops")), 4);
    assert_int_equal(json_array_size(json_object_get(r.json, "bookings")), 1);
    assert_int_equal(json_array_size(json_object_get(r.json, "requests")), 0);
    reply_free(&r);
    /* stored: what follows can fail */
    if (tst_db_is_pg())
        assert_true(in_pg_rows(who) > 0);
    else
        assert_true(in_file(DB, who) + in_file(DB "-wal", who) > 0);

    snprintf(path, sizeof path, "/v1/owners/%s", who);
    r = expect("DELETE", path, NULL, 200, "Ok");
    json_t *erased = json_object_get(r.json, "erased");
    assert_int_equal(json_integer_value(json_object_get(erased, "offers")), 1);
    assert_int_equal(json_integer_value(json_object_get(erased, "bookings")), 1);
    assert_true(json_integer_value(json_object_get(erased, "stops")) >= 4);
    /* PostgreSQL's files keep dead rows until VACUUM: the answer says so */
    assert_true(json_is_boolean(json_object_get(r.json, "files_clean")));
    assert_int_equal(json_is_true(json_object_get(r.json, "files_clean")), !tst_db_is_pg());
    reply_free(&r);
    /* gone from the answers */
    snprintf(path, sizeof path, "/v1/owners/%s/export", who);
    r = expect("GET", path, NULL, 200, "Ok");
    assert_int_equal(json_array_size(json_object_get(r.json, "offers")), 0);
    assert_int_equal(json_array_size(json_object_get(r.json, "bookings")), 0);
    reply_free(&r);
    snprintf(path, sizeof path, "/v1/offers/%lld", (long long)offer);
    expect_error("GET", path, NULL, 404, "NotFound");
    /* and from the files, or on PostgreSQL from every row */
    if (tst_db_is_pg()) {
        assert_int_equal(in_pg_rows(who), 0);
    } else {
        assert_int_equal(in_file(DB, who), 0);
        assert_int_equal(in_file(DB "-wal", who), 0);
    }
    /* the other side's request stays, without the booking, and matches again */
    snprintf(path, sizeof path, "/v1/requests/%lld", (long long)rider);
    r = expect("GET", path, NULL, 200, "Ok");
    assert_int_equal(json_array_size(json_object_get(json_object_get(r.json, "request"), "bookings")), 0);
    reply_free(&r);
    snprintf(path, sizeof path, "/v1/requests/%lld/matches", (long long)rider);
    r = expect("GET", path, NULL, 200, "Ok");
    assert_false(has_match(&r, "offer_id", offer));
    reply_free(&r);
    /* errors */
    expect_error("POST", "/v1/owners/someone", NULL, 405, "MethodNotAllowed");
    expect_error("GET", "/v1/owners/someone/photos", NULL, 404, "NotFound");
}

/* GET /v1/bookings?owner=: each side sees the booking, marked with the side they are on. */
static void test_owner_bookings(void **state)
{
    (void)state;
    int64_t offer = create("/v1/offers", offer_body(2), "offer");
    int64_t request = create("/v1/requests", request_body("lister-p"), "request");
    int64_t id = book(offer, request);
    reply r = expect("GET", "/v1/bookings?owner=lister-p", NULL, 200, "Ok");
    json_t *list = json_object_get(r.json, "bookings");
    assert_int_equal(json_array_size(list), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "id")), id);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "as")), "passenger");
    reply_free(&r);
    /* the driver (driver-1, whose offers other tests made too): this booking among theirs, as the driver */
    r = expect("GET", "/v1/bookings?owner=driver-1&as=driver", NULL, 200, "Ok");
    list = json_object_get(r.json, "bookings");
    int found = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *b = json_array_get(list, i);
        assert_string_equal(json_string_value(json_object_get(b, "as")), "driver");
        found |= json_integer_value(json_object_get(b, "id")) == id;
        if (i)
            assert_true(json_integer_value(json_object_get(b, "id")) <
                        json_integer_value(json_object_get(json_array_get(list, i - 1), "id"))); /* newest first */
    }
    assert_true(found);
    reply_free(&r);
    r = expect("GET", "/v1/bookings?owner=lister-p&as=driver", NULL, 200, "Ok");
    assert_int_equal(json_array_size(json_object_get(r.json, "bookings")), 0);
    reply_free(&r);
    expect_error("GET", "/v1/bookings", NULL, 400, "InvalidValue");
    expect_error("GET", "/v1/bookings?owner=", NULL, 400, "InvalidValue");
    expect_error("GET", "/v1/bookings?owner=x&as=pilot", NULL, 400, "InvalidValue");
    expect_error("GET", "/v1/bookings?owner=x&limit=3", NULL, 400, "InvalidQuery");
    expect_error("DELETE", "/v1/bookings", NULL, 405, "MethodNotAllowed");
}

static void test_errors(void **state)
{
    (void)state;
    size_t before = count_offers();
    char past[32];
    time_t t = time(NULL) - 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(past, sizeof past, "%Y-%m-%dT%H:%M:00Z", &tm);

    expect_error("POST", "/v1/offers", "{\"from\": [7.42, 43.73", 400, "InvalidValue"); /* malformed */
    expect_error("POST", "/v1/offers", "[1, 2]", 400, "InvalidValue");                  /* not an object */
    expect_error("POST", "/v1/offers", NULL, 400, "InvalidValue");                      /* no body */
    char *body;
    /* missing owner, missing depart, missing to */
    body = text_of(
        json_pack("{s:o,s:o,s:s}", "from", lonlat(7.4275, 43.7396), "to", lonlat(7.416, 43.729), "depart", depart));
    expect_error("POST", "/v1/offers", body, 400, "InvalidValue");
    free(body);
    body =
        text_of(json_pack("{s:o,s:o,s:s}", "from", lonlat(7.4275, 43.7396), "to", lonlat(7.416, 43.729), "owner", "x"));
    expect_error("POST", "/v1/offers", body, 400, "InvalidValue");
    free(body);
    body = text_of(json_pack("{s:o,s:s,s:s}", "from", lonlat(7.4275, 43.7396), "depart", depart, "owner", "x"));
    expect_error("POST", "/v1/requests", body, 400, "InvalidValue");
    free(body);
    /* wrong types */
    body = text_of(json_pack("{s:o,s:o,s:s,s:s,s:s}", "from", lonlat(7.4275, 43.7396), "to", lonlat(7.416, 43.729),
                             "depart", depart, "owner", "x", "seats", "3"));
    expect_error("POST", "/v1/offers", body, 400, "InvalidValue");
    free(body);
    body = text_of(json_pack("{s:s,s:o,s:s,s:s}", "from", "7.42,43.73", "to", lonlat(7.416, 43.729), "depart", depart,
                             "owner", "x"));
    expect_error("POST", "/v1/offers", body, 400, "InvalidValue");
    free(body);
    /* out of range, at sea, in the past, an unknown field, a bad regular schedule */
    body = text_of(json_pack("{s:o,s:o,s:s,s:s}", "from", lonlat(200, 43.7396), "to", lonlat(7.416, 43.729), "depart",
                             depart, "owner", "x"));
    expect_error("POST", "/v1/offers", body, 400, "InvalidValue");
    free(body);
    body = text_of(json_pack("{s:o,s:o,s:s,s:s}", "from", lonlat(7.47, 43.70), "to", lonlat(7.416, 43.729), "depart",
                             depart, "owner", "x"));
    expect_error("POST", "/v1/offers", body, 400, "NoSegment");
    free(body);
    body = text_of(json_pack("{s:o,s:o,s:s,s:s}", "from", lonlat(43.7396, 7.4275), "to", lonlat(7.416, 43.729),
                             "depart", depart, "owner", "x")); /* swapped lat/lon */
    expect_error("POST", "/v1/offers", body, 400, "NoSegment");
    free(body);
    body = text_of(json_pack("{s:o,s:o,s:s,s:s}", "from", lonlat(7.4275, 43.7396), "to", lonlat(7.416, 43.729),
                             "depart", past, "owner", "x"));
    expect_error("POST", "/v1/offers", body, 400, "InvalidValue");
    free(body);
    body = text_of(json_pack("{s:o,s:o,s:s,s:s,s:i}", "from", lonlat(7.4275, 43.7396), "to", lonlat(7.416, 43.729),
                             "depart", depart, "owner", "x", "seat", 2));
    expect_error("POST", "/v1/offers", body, 400, "InvalidValue");
    free(body);
    body = text_of(json_pack("{s:o,s:o,s:{s:s,s:s},s:s}", "from", lonlat(7.4275, 43.7396), "to", lonlat(7.416, 43.729),
                             "depart", "weekdays", "someday", "time", "08:00", "owner", "x"));
    expect_error("POST", "/v1/offers", body, 400, "InvalidValue");
    free(body);
    /* The limits of docs/API.md are the ones accepted: each bound is taken, one step beyond it is refused. */
    static const struct {
        const char *key;
        double value;
        int ok;
    } limits[] = {
        /* clang-format off */
        {"max_detour_min", 1440, 1},   {"max_detour_min", 1441, 0},  {"max_detour_min", -1, 0},
        {"max_detour_km", 1000, 1},    {"max_detour_km", 1000.5, 0}, {"price_per_km", 10, 1},
        {"price_per_km", 10.01, 0},    {"price_per_km", 0.0001, 1},  {"price_per_km", 1e-300, 0},
        {"price_per_km", 0, 0},        {"price_per_km", 50, 0},
        /* clang-format on */
    };
    size_t accepted = 0;
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++) {
        body = text_of(json_pack("{s:o,s:o,s:s,s:s,s:f}", "from", lonlat(7.4275, 43.7396), "to", lonlat(7.416, 43.729),
                                 "depart", depart, "owner", "limits", limits[i].key, limits[i].value));
        if (limits[i].ok) {
            reply lr = expect("POST", "/v1/offers", body, 201, "Ok");
            json_t *lo = json_object_get(lr.json, "offer");
            if (!strcmp(limits[i].key, "price_per_km"))
                assert_true(fabs(json_number_value(json_object_get(lo, "price_per_km")) - limits[i].value) < 1e-9);
            reply_free(&lr);
            accepted++;
        } else {
            expect_error("POST", "/v1/offers", body, 400, "InvalidValue");
        }
        free(body);
    }
    assert_int_equal(count_offers(), before + accepted);
    before += accepted;

    /* A regular offer is accepted. */
    body = text_of(json_pack("{s:o,s:o,s:{s:s,s:s},s:s,s:o}", "from", lonlat(7.4275, 43.7396), "to",
                             lonlat(7.416, 43.729), "depart", "weekdays", "mon,tue", "time", "08:00", "owner",
                             "regular", "vias", json_pack("[o]", lonlat(7.4215, 43.7350))));
    reply r = expect("POST", "/v1/offers", body, 201, "Ok");
    free(body);
    json_t *o = json_object_get(r.json, "offer");
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "schedule"), "type")), "regular");
    assert_int_equal(json_array_size(json_object_get(o, "vias")), 1);
    reply_free(&r);
    assert_int_equal(count_offers(), before + 1);

    /* Unknown ids and paths, methods, query parameters. */
    expect_error("GET", "/v1/offers/999999", NULL, 404, "NotFound");
    expect_error("GET", "/v1/requests/999999", NULL, 404, "NotFound");
    expect_error("GET", "/v1/requests/999999/matches", NULL, 404, "NotFound");
    expect_error("GET", "/v1/offers/999999/matches", NULL, 404, "NotFound");
    expect_error("POST", "/v1/offers/999999/cancel", NULL, 404, "NotFound");
    expect_error("GET", "/v1/bookings/999999", NULL, 404, "NotFound");
    expect_error("POST", "/v1/bookings/999999/accept", NULL, 404, "NotFound");
    expect_error("POST", "/v1/bookings", "{\"offer_id\":999999,\"request_id\":1}", 404, "NotFound");
    expect_error("POST", "/v1/bookings", "{\"offer_id\":1}", 400, "InvalidValue");
    expect_error("POST", "/v1/bookings", "{\"offer_id\":\"1\",\"request_id\":1}", 400, "InvalidValue");
    expect_error("GET", "/v1/offers/abc", NULL, 404, "NotFound");
    expect_error("GET", "/v1/offers/1/nope", NULL, 404, "NotFound");
    expect_error("GET", "/v1/nope", NULL, 404, "NotFound");
    expect_error("PUT", "/v1/offers", "{}", 405, "MethodNotAllowed");
    expect_error("GET", "/v1/search", NULL, 405, "MethodNotAllowed");
    expect_error("GET", "/v1/bookings/1/accept", NULL, 405, "MethodNotAllowed");
    expect_error("GET", "/v1/offers?colour=red", NULL, 400, "InvalidQuery");
    expect_error("GET", "/v1/offers/1/matches?limit=0", NULL, 400, "InvalidValue");
    expect_error("POST", "/v1/search", "{\"from\":[7.42,43.73]}", 400, "InvalidValue");
}

/* Stop the server and the matcher, start new ones on the same database: the trips and matches are still there. */
static void test_restart(void **state)
{
    (void)state;
    cv_server_stop(server);
    cv_matcher_close(matcher);
    server = NULL;
    matcher = NULL;
    open_matcher();
    server = start(matcher);
    port = cv_server_port(server);
    char path[128];
    snprintf(path, sizeof path, "/v1/offers/%lld", (long long)offer_id);
    reply r = expect("GET", path, NULL, 200, "Ok");
    json_t *o = json_object_get(r.json, "offer");
    assert_string_equal(json_string_value(json_object_get(o, "status")), "open");
    assert_int_equal(json_array_size(json_object_get(o, "bookings")), 1);
    reply_free(&r);
    snprintf(path, sizeof path, "/v1/requests/%lld/matches", (long long)request_open);
    r = expect("GET", path, NULL, 200, "Ok");
    assert_true(has_match(&r, "offer_id", offer_id));
    reply_free(&r);

    /* Cancelling a request takes it out of the offer's matches. */
    snprintf(path, sizeof path, "/v1/requests/%lld", (long long)request_open);
    r = expect("DELETE", path, NULL, 200, "Ok");
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "request"), "status")), "cancelled");
    reply_free(&r);
    snprintf(path, sizeof path, "/v1/offers/%lld/matches", (long long)offer_id);
    r = expect("GET", path, NULL, 200, "Ok");
    assert_false(has_match(&r, "request_id", request_open));
    reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_without_db),
        cmocka_unit_test(test_offer_request_match_book),
        cmocka_unit_test(test_seat_race),
        cmocka_unit_test(test_one_car_per_request),
        cmocka_unit_test(test_two_drivers_race_for_a_passenger),
        cmocka_unit_test(test_owner_bookings),
        cmocka_unit_test(test_second_passenger_at_the_ends),
        cmocka_unit_test(test_match_route_is_the_plan),
        cmocka_unit_test(test_owner_export_and_erase),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_restart),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
