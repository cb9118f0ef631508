/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* tier_authz.c — the authorization matrix: every endpoint of docs/API.md (routing, health, metrics, the map page,
   the whole /v1 carpool API: offers, requests, search, matches, bookings show/create/accept/refuse/cancel,
   cancel and delete, unknown ids and paths) against every kind of caller: no key, an unknown key, a revoked one
   (revoked before the start, or while the server runs), a key of the right client without the scope the endpoint
   needs, a key of another client, a key of the other party of a booking, the owner's key, an admin key. The
   expected answer of each cell is derived from docs/API.md ("Authentication and limits": the order of checks, the
   scopes, ownership) by one function, expect(); each cell checks the status, the code and the documented message,
   and that a refused request changed nothing (a dump of every table of the database before and after), while an
   accepted one that writes did change it.

   The clients are named so that one is a prefix of another (A, AB, ABC), in two casts: the driver AB, the
   passenger ABC and the other client A, then the driver A, the passenger AB and the other client ABC, with trips
   stored both as CLIENT (no owner sent) and CLIENT:REF; so the CLIENT: boundary of the ownership check is crossed
   both ways. Keys are made and revoked with `covoit key`, the server is `covoit serve` in auth mode.

   usage: tier_authz [--bearer 0|1] [--name STEM]: with --bearer 1, the matrix runs a second time with the key
   as Authorization: Bearer. STEM names its files in COVOIT_TMP (default tier_authz).
   Prints the number of cells checked. */
#define _POSIX_C_SOURCE 200809L
#include <sys/stat.h>

#include "tier_support.h"

#define NAME "tier_authz"

static char db_path[1024], day[16];

/* --- clients and their keys --- */

enum { K_FULL, K_NO_ROUTING, K_NO_SEARCH, K_NO_TRIPS, K_NO_INTEROP, K_REVOKED, K_N };
static const char *const key_scopes[K_N] = {"routing,search,trips,interop", "search,trips,interop",
                                            "routing,trips,interop",        "routing,search,interop",
                                            "routing,search,trips",         "routing,search,trips,interop"};

typedef struct client {
    const char *name;
    char secret[K_N][80];
    long long id[K_N];
} client;

static client clients[3] = {{.name = "A"}, {.name = "AB"}, {.name = "ABC"}};
static client admin = {.name = "root"};
static const char *wrong_key = "cvk_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

static void key_add(client *c, int k, const char *scopes)
{
    char out[1024], err[1100];
    tier_file(".key.err", err, sizeof err);
    const char *args[] = {"key", "add", "--db", db_path, "--client", c->name, "--scopes", scopes, NULL};
    int rc = tier_run(args, out, sizeof out, err);
    TIER_CHECK(rc == 0, "covoit key add --client %s: exit %d (stderr in %s)", c->name, rc, err);
    json_t *doc = json_loads(out, 0, NULL);
    const char *secret = json_string_value(json_object_get(doc, "secret"));
    TIER_CHECK(secret && !strncmp(secret, "cvk_", 4) && strlen(secret) == 68, "covoit key add printed: %s", out);
    snprintf(c->secret[k], sizeof c->secret[k], "%s", secret);
    c->id[k] = (long long)json_integer_value(json_object_get(doc, "id"));
    json_decref(doc);
}

static void key_revoke(client *c)
{
    char out[1024], err[1100], id[32];
    tier_file(".key.err", err, sizeof err);
    snprintf(id, sizeof id, "%lld", c->id[K_REVOKED]);
    const char *args[] = {"key", "revoke", id, "--db", db_path, NULL};
    int rc = tier_run(args, out, sizeof out, err);
    TIER_CHECK(rc == 0 && strstr(out, "\"revoked\":true"), "covoit key revoke %s: exit %d: %s", id, rc, out);
}

/* --- the table of endpoints --- */

typedef enum need { N_NONE, N_ROUTING, N_SEARCH, N_TRIPS, N_INTEROP } need;
/* W_ANY and W_ANY_P: any client with the scope (acting: the driver, the passenger); the others name whose trip
   or booking the row acts on, and who may (W_EITHER: both parties of a booking). */
typedef enum whose { W_ANY, W_ANY_P, W_DRIVER, W_PASSENGER, W_EITHER } whose;
enum { F_OFFER = 1, F_REQUEST = 2, F_BOOKING = 4, F_FREE_REQUEST = 8 }; /* fixtures a row needs */
enum { B_NONE, B_OFFER, B_REQUEST, B_SEARCH, B_BOOK };                  /* bodies */

typedef struct row {
    const char *method, *path; /* {offer} {request} {free} {booking} {offers} {requests} filled per cast */
    need scope;                /* the scope docs/API.md gives it (N_NONE: no key needed) */
    whose owner;
    int ok;                     /* its success status */
    int body, fixtures, writes; /* writes: a success changes the database */
    int missing;                /* 1: the id does not exist (404 for any key with the scope); 2: no such path */
} row;

static const row rows[] = {
    {"GET", "/route/v1/driving/7.4275,43.7396;7.4160,43.7290?overview=false", N_ROUTING, W_ANY, 200, 0, 0, 0, 0},
    {"GET", "/table/v1/driving/7.4275,43.7396;7.4160,43.7290", N_ROUTING, W_ANY, 200, 0, 0, 0, 0},
    {"GET", "/nearest/v1/driving/7.4275,43.7396", N_ROUTING, W_ANY, 200, 0, 0, 0, 0},
    {"GET", "/health", N_NONE, W_ANY, 200, 0, 0, 0, 0},
    {"GET", "/metrics", N_NONE, W_ANY, 200, 0, 0, 0, 0},
    {"GET", "/", N_NONE, W_ANY, 200, 0, 0, 0, 0},
    {"GET", "/static/app.js", N_NONE, W_ANY, 200, 0, 0, 0, 0},
    {"POST", "/v1/offers", N_TRIPS, W_ANY, 201, B_OFFER, 0, 1, 0},
    {"GET", "{offers}", N_TRIPS, W_ANY, 200, 0, F_OFFER, 0, 0},
    {"GET", "/v1/offers/{offer}", N_TRIPS, W_DRIVER, 200, 0, F_OFFER, 0, 0},
    {"DELETE", "/v1/offers/{offer}", N_TRIPS, W_DRIVER, 200, 0, F_OFFER, 1, 0},
    {"POST", "/v1/offers/{offer}/cancel", N_TRIPS, W_DRIVER, 200, 0, F_OFFER, 1, 0},
    {"GET", "/v1/offers/{offer}/matches", N_SEARCH, W_DRIVER, 200, 0, F_OFFER, 0, 0},
    {"POST", "/v1/requests", N_TRIPS, W_ANY_P, 201, B_REQUEST, 0, 1, 0},
    {"GET", "{requests}", N_TRIPS, W_ANY_P, 200, 0, F_REQUEST, 0, 0},
    {"GET", "/v1/requests/{request}", N_TRIPS, W_PASSENGER, 200, 0, F_REQUEST, 0, 0},
    {"DELETE", "/v1/requests/{request}", N_TRIPS, W_PASSENGER, 200, 0, F_REQUEST, 1, 0},
    {"POST", "/v1/requests/{request}/cancel", N_TRIPS, W_PASSENGER, 200, 0, F_REQUEST, 1, 0},
    {"GET", "/v1/requests/{request}/matches", N_SEARCH, W_PASSENGER, 200, 0, F_REQUEST, 0, 0},
    {"POST", "/v1/search", N_SEARCH, W_ANY_P, 200, B_SEARCH, F_OFFER, 0, 0},
    {"POST", "/v1/bookings", N_TRIPS, W_PASSENGER, 201, B_BOOK, F_OFFER | F_FREE_REQUEST, 1, 0},
    {"GET", "/v1/bookings/{booking}", N_TRIPS, W_EITHER, 200, 0, F_BOOKING, 0, 0},
    {"POST", "/v1/bookings/{booking}/accept", N_TRIPS, W_DRIVER, 200, 0, F_BOOKING, 1, 0},
    {"POST", "/v1/bookings/{booking}/refuse", N_TRIPS, W_DRIVER, 200, 0, F_BOOKING, 1, 0},
    {"POST", "/v1/bookings/{booking}/cancel", N_TRIPS, W_EITHER, 200, 0, F_BOOKING, 1, 0},
    {"GET", "/v1/offers/999999999", N_TRIPS, W_ANY, 200, 0, 0, 0, 1},
    {"GET", "/v1/requests/999999999/matches", N_SEARCH, W_ANY, 200, 0, 0, 0, 1},
    {"GET", "/v1/bookings/999999999", N_TRIPS, W_ANY, 200, 0, 0, 0, 1},
    {"POST", "/v1/bookings/999999999/accept", N_TRIPS, W_ANY, 200, 0, 0, 0, 1},
    {"DELETE", "/v1/requests/999999999", N_TRIPS, W_ANY, 200, 0, 0, 0, 1},
    {"GET", "/v1/bookings/00000000-0000-4000-8000-000000000000", N_TRIPS, W_ANY, 200, 0, 0, 0, 1},
    {"POST", "/v1/bookings/00000000-0000-4000-8000-000000000000/cancel", N_TRIPS, W_ANY, 200, 0, 0, 0, 1},
    {"GET", "/v1/messages", N_TRIPS, W_ANY, 200, 0, 0, 0, 0},
    {"POST", "/v1/messages/999999999/read", N_TRIPS, W_ANY, 200, 0, 0, 0, 1},
    {"GET", "/v1/nothing", N_TRIPS, W_ANY, 200, 0, 0, 0, 2},
    {"GET", "/nothing", N_NONE, W_ANY, 200, 0, 0, 0, 2},
    {"GET", "/stdcov/v1/status", N_NONE, W_ANY, 200, 0, 0, 0, 0},
    {"GET",
     "/stdcov/v1/driver_journeys?departureLat=43.7396&departureLng=7.4275&arrivalLat=43.7290&arrivalLng=7.4160&"
     "departureDate=1893456000",
     N_INTEROP, W_ANY, 200, 0, F_OFFER, 0, 0},
    {"GET",
     "/stdcov/v1/passenger_journeys?departureLat=43.7396&departureLng=7.4275&arrivalLat=43.7290&arrivalLng=7.4160&"
     "departureDate=1893456000&count=3",
     N_INTEROP, W_ANY, 200, 0, F_REQUEST, 0, 0},
    {"GET",
     "/stdcov/v1/driver_regular_trips?departureLat=43.7396&departureLng=7.4275&arrivalLat=43.7290&arrivalLng=7.4160&"
     "departureTimeOfDay=08:00:00",
     N_INTEROP, W_ANY, 200, 0, F_OFFER, 0, 0},
    {"GET",
     "/stdcov/v1/passenger_regular_trips?departureLat=43.7396&departureLng=7.4275&arrivalLat=43.7290&"
     "arrivalLng=7.4160&departureTimeOfDay=08:00:00&departureWeekdays=MON,TUE",
     N_INTEROP, W_ANY, 200, 0, F_REQUEST, 0, 0},
    {"GET", "/stdcov/v1/nothing", N_INTEROP, W_ANY, 200, 0, 0, 0, 2},
};

/* --- the callers --- */

typedef enum who {
    P_NONE,       /* no key */
    P_WRONG,      /* a well-formed key the server never issued */
    P_REVOKED,    /* the acting client's revoked key */
    P_NO_SCOPE,   /* the acting client's key without the row's scope */
    P_OTHER,      /* a key of a client with no part in it */
    P_OTHER_SIDE, /* the other party: the passenger on the driver's things and the reverse */
    P_OWNER,      /* the acting client: the owner, or who may do it */
    P_ADMIN,      /* admin scope */
    P_N
} who;

static const char *const who_names[P_N] = {"no key",         "unknown key",     "revoked key", "key without the scope",
                                           "another client", "the other party", "the owner",   "admin"};

/* A cast: who drives, who rides, who looks on, and how their trips are stored. */
typedef struct cast {
    client *driver, *passenger, *other;
    const char *driver_ref, *passenger_ref;  /* the owner sent (NULL: none, stored as CLIENT) */
    char offers_path[64], requests_path[64]; /* the listings where the owner finds its fixture */
} cast;

/* The fixtures of the current cell. */
static struct {
    int64_t offer, request, free_request, booking;
    int fresh; /* 0: a write since they were made may have used them up */
} fx;

/* The expected answer: the whole of what docs/API.md says for this row and caller. */
typedef struct expected {
    int status;
    const char *code, *message; /* message: a part of the documented one ("" for any) */
} expected;

static expected expect(const row *r, who p)
{
    static const expected ok201 = {201, "Ok", ""}, ok200 = {200, "Ok", ""};
    const expected ok = r->ok == 201 ? ok201 : ok200;
    if (r->scope == N_NONE && r->missing != 2)
        return ok; /* /health, /metrics and the map page need no key */
    if (p == P_NONE)
        return (expected){401, "Unauthorized", "an API key is required (X-API-Key: KEY or Authorization: Bearer KEY)"};
    if (p == P_WRONG || p == P_REVOKED)
        return (expected){401, "Unauthorized", "unknown or revoked API key"};
    if (r->missing == 2)
        return (expected){404, "NotFound", "no such endpoint"}; /* after the key: no scope to check */
    if (p == P_NO_SCOPE)
        return (expected){403, "Forbidden", "this API key is not allowed to use "};
    if (r->missing == 1)
        return (expected){404, "NotFound", "not found"};
    if (p == P_ADMIN || r->owner <= W_ANY_P || p == P_OWNER || (p == P_OTHER_SIDE && r->owner == W_EITHER))
        return ok;
    return (expected){403, "Forbidden", "belongs to another client"};
}

/* The client acting in row r as p (NULL for the callers without a client). */
static client *acting(const row *r, const cast *c, who p)
{
    int passenger = r->owner == W_PASSENGER || r->owner == W_ANY_P;
    client *owner = passenger ? c->passenger : c->driver, *side = passenger ? c->driver : c->passenger;
    switch (p) {
    case P_REVOKED:
    case P_NO_SCOPE:
    case P_OWNER:
        return owner;
    case P_OTHER:
        return c->other;
    case P_OTHER_SIDE:
        return side;
    case P_ADMIN:
        return &admin;
    default:
        return NULL;
    }
}

static const char *key_of(const row *r, const cast *c, who p)
{
    client *k = acting(r, c, p);
    switch (p) {
    case P_NONE:
        return NULL;
    case P_WRONG:
        return wrong_key;
    case P_REVOKED:
        return k->secret[K_REVOKED];
    case P_NO_SCOPE:
        return k->secret[r->scope == N_ROUTING   ? K_NO_ROUTING
                         : r->scope == N_SEARCH  ? K_NO_SEARCH
                         : r->scope == N_INTEROP ? K_NO_INTEROP
                                                 : K_NO_TRIPS];
    case P_ADMIN:
        return admin.secret[K_FULL];
    default:
        return k->secret[K_FULL];
    }
}

/* --- requests --- */

static tier_conn conn;
static int bearer;

static tier_reply call(const char *method, const char *path, const char *key, const char *body)
{
    char header[200] = "";
    if (key)
        snprintf(header, sizeof header, bearer ? "Authorization: Bearer %s\r\n" : "X-API-Key: %s\r\n", key);
    return tier_http(&conn, method, path, key ? header : NULL, body);
}

static void body_of(int which, const char *ref, char *out, size_t cap)
{
    char owner[64] = "";
    if (ref)
        snprintf(owner, sizeof owner, ",\"owner\":\"%s\"", ref);
    switch (which) {
    case B_OFFER:
        snprintf(out, cap,
                 "{\"from\":[7.4275,43.7396],\"to\":[7.4160,43.7290],\"depart\":\"%sT08:00:00Z\","
                 "\"margin_min\":30,\"seats\":3%s}",
                 day, owner);
        break;
    case B_REQUEST:
    case B_SEARCH:
        snprintf(out, cap,
                 "{\"from\":[7.422055,43.737749],\"to\":[7.416246,43.73148],\"depart\":\"%sT08:05:00Z\","
                 "\"margin_min\":30%s}",
                 day, which == B_SEARCH ? "" : owner);
        break;
    case B_BOOK:
        snprintf(out, cap, "{\"offer_id\":%lld,\"request_id\":%lld}", (long long)fx.offer, (long long)fx.free_request);
        break;
    default:
        out[0] = '\0';
    }
}

static int64_t create(const char *path, const char *key, const char *body, const char *member)
{
    tier_reply r = call("POST", path, key, body);
    TIER_CHECK(r.status == 201, "fixture POST %s %s: status %d: %s", path, body, r.status, r.body ? r.body : "");
    int64_t id = (int64_t)json_integer_value(json_object_get(json_object_get(r.json, member), "id"));
    tier_reply_free(&r);
    return id;
}

/* A new offer of the driver, two requests of the passenger, a pending booking of the first on the offer. */
static void make_fixtures(const cast *c)
{
    char body[512];
    body_of(B_OFFER, c->driver_ref, body, sizeof body);
    fx.offer = create("/v1/offers", c->driver->secret[K_FULL], body, "offer");
    body_of(B_REQUEST, c->passenger_ref, body, sizeof body);
    fx.request = create("/v1/requests", c->passenger->secret[K_FULL], body, "request");
    fx.free_request = create("/v1/requests", c->passenger->secret[K_FULL], body, "request");
    snprintf(body, sizeof body, "{\"offer_id\":%lld,\"request_id\":%lld}", (long long)fx.offer, (long long)fx.request);
    fx.booking = create("/v1/bookings", c->passenger->secret[K_FULL], body, "booking");
    fx.fresh = 1;
}

/* path with its placeholders filled. */
static void fill(const char *tmpl, const cast *c, char *out, size_t cap)
{
    if (!strcmp(tmpl, "{offers}") || !strcmp(tmpl, "{requests}")) {
        snprintf(out, cap, "%s", tmpl[2] == 'o' ? c->offers_path : c->requests_path);
        return;
    }
    const char *brace = strchr(tmpl, '{');
    if (!brace) {
        snprintf(out, cap, "%s", tmpl);
        return;
    }
    const char *close = strchr(brace, '}');
    size_t n = (size_t)(close - brace - 1);
    int64_t id = !strncmp(brace + 1, "offer", n)     ? fx.offer
                 : !strncmp(brace + 1, "request", n) ? fx.request
                                                     : fx.booking;
    snprintf(out, cap, "%.*s%lld%s", (int)(brace - tmpl), tmpl, (long long)id, close + 1);
}

/* Whether owner belongs to client: CLIENT alone or CLIENT:REF. */
static int owned_by(const char *owner, const char *client)
{
    size_t n = strlen(client);
    return !strncmp(owner, client, n) && (owner[n] == '\0' || owner[n] == ':');
}

/* What a listing answered, for the caller k: only its own trips; the owner's fixture in the owner's list. */
static void check_listing(const row *r, const cast *c, who p, const tier_reply *rep, const char *path)
{
    const char *member = strstr(path, "offers") ? "offers" : "requests";
    int64_t fixture = member[0] == 'o' ? fx.offer : fx.request;
    client *k = acting(r, c, p);
    json_t *list = json_object_get(rep->json, member), *t;
    size_t i;
    int seen = 0;
    TIER_CHECK(json_is_array(list), "GET %s: no %s", path, member);
    json_array_foreach(list, i, t)
    {
        const char *owner = json_string_value(json_object_get(t, "owner"));
        seen |= json_integer_value(json_object_get(t, "id")) == fixture;
        if (p != P_ADMIN)
            TIER_CHECK(owned_by(owner, k->name), "GET %s as %s (client %s) lists a trip of %s", path, who_names[p],
                       k->name, owner);
    }
    /* the owner finds its own; nobody else does; admin sees every client's when it names no owner */
    client *owner = member[0] == 'o' ? c->driver : c->passenger;
    int want = p == P_ADMIN ? !strstr(path, "owner=") : k == owner;
    if (p != P_ADMIN || want)
        TIER_CHECK(seen == want, "GET %s as %s (client %s): its fixture %lld %s", path, who_names[p], k->name,
                   (long long)fixture, seen ? "listed" : "not listed");
}

/* One cell: returns 1. */
static int cell(const row *r, const cast *c, who p, sqlite3 *db)
{
    if (r->fixtures && !fx.fresh)
        make_fixtures(c);
    char path[256], body[512];
    fill(r->path, c, path, sizeof path);
    client *k = acting(r, c, p);
    const char *ref = r->owner == W_PASSENGER || r->owner == W_ANY_P ? c->passenger_ref : c->driver_ref;
    body_of(r->body, ref, body, sizeof body);
    expected e = expect(r, p);
    char *before = tier_db_dump(db);
    tier_reply rep = call(r->method, path, key_of(r, c, p), r->body ? body : NULL);
    char *after = tier_db_dump(db);
    const char *code = tier_code(&rep), *msg = tier_message(&rep);
    /* a success of the interoperability standard is its own document (an array of journeys), with no code */
    int check_code = e.status != 200 || (r->scope != N_NONE && r->scope != N_INTEROP);
    if (rep.status != e.status || (check_code ? strcmp(code, e.code) : 0) || !strstr(msg, e.message))
        tier_fail("%s %s as %s (client %s, driver %s, passenger %s): %d %s \"%s\", docs/API.md says %d %s \"%s\"",
                  r->method, path, who_names[p], k ? k->name : "-", c->driver->name, c->passenger->name, rep.status,
                  code, msg, e.status, e.code, e.message);
    int changed = strcmp(before, after) != 0;
    if (e.status >= 400 || !r->writes)
        TIER_CHECK(!changed, "%s %s as %s: answered %d and the database changed", r->method, path, who_names[p],
                   rep.status);
    else
        TIER_CHECK(changed, "%s %s as %s: answered %d and the database did not change", r->method, path, who_names[p],
                   rep.status);
    if (changed)
        fx.fresh = 0;
    if (e.status < 300 && !strcmp(r->method, "GET") && (strstr(path, "/v1/offers?") || strstr(path, "/v1/requests?")))
        check_listing(r, c, p, &rep, path);
    if (e.status == 201 && p != P_ADMIN && (r->body == B_OFFER || r->body == B_REQUEST)) {
        /* the stored owner is CLIENT:REF */
        json_t *trip = json_object_get(rep.json, r->body == B_OFFER ? "offer" : "request");
        const char *got = json_string_value(json_object_get(trip, "owner"));
        char want[160];
        snprintf(want, sizeof want, ref ? "%s:%s" : "%s", k->name, ref);
        TIER_CHECK(got && !strcmp(got, want), "POST %s as %s: owner %s, not %s", path, who_names[p], got ? got : "-",
                   want);
    }
    free(before);
    free(after);
    tier_reply_free(&rep);
    return 1;
}

/* Beyond the table: a body over the cap is 413 before any key is looked at; a key added while the server runs
   is good at once. Returns how many checks. */
static int beyond_the_table(void)
{
    size_t n = 70000;
    char *big = malloc(n + 1);
    TIER_CHECK(big != NULL, "out of memory");
    memset(big, ' ', n);
    big[0] = '{', big[n - 1] = '}', big[n] = '\0';
    tier_reply r = call("POST", "/v1/offers", NULL, big);
    TIER_CHECK(r.status == 413 && !strcmp(tier_code(&r), "TooBig"),
               "a 70000-byte body without a key: %d %s, not 413 "
               "TooBig",
               r.status, tier_code(&r));
    tier_reply_free(&r);
    free(big);
    client late = {.name = "late"};
    key_add(&late, K_FULL, "trips");
    r = call("GET", "/v1/offers", late.secret[K_FULL], NULL);
    TIER_CHECK(r.status == 200, "a key added while the server runs: %d, not 200", r.status);
    tier_reply_free(&r);
    return 2;
}

/* The header forms: X-API-Key wins over Authorization: Bearer when both are there; header names in any case. */
static int header_forms(const char *good)
{
    static const char *const route = "/route/v1/driving/7.4275,43.7396;7.4160,43.7290?overview=false";
    char h[400];
    snprintf(h, sizeof h, "X-API-Key: %s\r\nAuthorization: Bearer %s\r\n", wrong_key, good);
    tier_reply r = tier_http(&conn, "GET", route, h, NULL);
    TIER_CHECK(r.status == 401, "a wrong X-API-Key with a good Bearer key: %d, not 401", r.status);
    tier_reply_free(&r);
    snprintf(h, sizeof h, "X-API-Key: %s\r\nAuthorization: Bearer %s\r\n", good, wrong_key);
    r = tier_http(&conn, "GET", route, h, NULL);
    TIER_CHECK(r.status == 200, "a good X-API-Key with a wrong Bearer key: %d, not 200", r.status);
    tier_reply_free(&r);
    snprintf(h, sizeof h, "x-api-key: %s\r\n", good);
    r = tier_http(&conn, "GET", route, h, NULL);
    TIER_CHECK(r.status == 200, "x-api-key in lower case: %d, not 200", r.status);
    tier_reply_free(&r);
    snprintf(h, sizeof h, "Authorization: Basic %s\r\n", good);
    r = tier_http(&conn, "GET", route, h, NULL);
    TIER_CHECK(r.status == 401, "Authorization: Basic: %d, not 401", r.status);
    tier_reply_free(&r);
    return 4;
}

int main(int argc, char **argv)
{
    tier_init();
    int both_forms = (int)tier_opt(argc, argv, "--bearer", 0);
    char graph[1024], err[1024];
    tier_set_stem(argc, argv, NAME);
    tier_file(".cvg", graph, sizeof graph);
    tier_import(graph);
    tier_file(".db", db_path, sizeof db_path);
    tier_file(".err", err, sizeof err);
    tier_remove_db(db_path);
    unlink(err);
    tier_date(2, day);
    double t0 = tier_now_s();
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < K_N; k++)
            key_add(&clients[i], k, key_scopes[k]);
    key_add(&admin, K_FULL, "admin");
    /* A's and ABC's revoked keys are revoked before the start, AB's while the server runs */
    key_revoke(&clients[0]);
    key_revoke(&clients[2]);

    /* a map page of our own, so that the tier does not depend on Leaflet being installed in the source tree */
    char page[1024];
    tier_file("_page", page, sizeof page);
    static const char *const files[] = {"", "/node_modules", "/node_modules/leaflet", "/node_modules/leaflet/dist"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char d[1100];
        snprintf(d, sizeof d, "%s%s", page, files[i]);
        TIER_CHECK(!mkdir(d, 0755) || errno == EEXIST, "mkdir %s: %s", d, strerror(errno));
    }
    static const char *const pages[] = {"/index.html", "/app.js", "/node_modules/leaflet/dist/leaflet.js"};
    for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
        char f[1100];
        snprintf(f, sizeof f, "%s%s", page, pages[i]);
        FILE *out = fopen(f, "w");
        TIER_CHECK(out != NULL, "cannot write %s", f);
        fputs("/* tier_authz */\n", out);
        fclose(out);
    }
    const char *args[] = {
        "--graph", graph, "--db", db_path, "--listen", "127.0.0.1:0", "--threads",           "2", "--rate", "1000000",
        "--page",  page,  "--tz", "UTC",   "--quiet",  "--operator",  "carpool.example.org", NULL};
    tier_server s = tier_serve(args, err);
    conn = tier_conn_make(s.port, NULL);
    tier_reply r = call("GET", "/v1/offers", clients[1].secret[K_REVOKED], NULL);
    TIER_CHECK(r.status == 200, "AB's key before it is revoked: %d", r.status);
    tier_reply_free(&r);
    key_revoke(&clients[1]);

    sqlite3 *db = tier_db_open(db_path, 1);
    cast casts[2] = {
        {&clients[1], &clients[2], &clients[0], NULL, "rider", "/v1/offers?all=true",
         "/v1/requests?owner=rider&all=true"},
        {&clients[0], &clients[1], &clients[2], "drv", NULL, "/v1/offers?owner=drv&all=true", "/v1/requests?all=true"},
    };
    long cells = 0, extra = 0;
    size_t nrows = sizeof rows / sizeof *rows;
    for (bearer = 0; bearer <= (both_forms ? 1 : 0); bearer++) {
        for (int ci = 0; ci < 2; ci++) {
            fx.fresh = 0;
            for (size_t i = 0; i < nrows; i++)
                for (int p = 0; p < P_N; p++)
                    cells += cell(&rows[i], &casts[ci], (who)p, db);
        }
    }
    extra += header_forms(clients[0].secret[K_FULL]);
    extra += beyond_the_table();
    sqlite3_close(db);
    tier_conn_close(&conn);
    tier_stop(&s);
    printf("authorization tier: %ld cells checked (%zu endpoints x %d callers x 2 casts%s) as docs/API.md says, "
           "the database unchanged by every refusal; %ld checks more (header forms, 413 first, a key added live); "
           "%.1f s\n",
           cells, nrows, (int)P_N, both_forms ? " x 2 header forms" : "", extra, tier_now_s() - t0);
    return 0;
}
