/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_http_auth.c — who may do what over HTTP: API keys (401 without a valid one, 403 out of scope), trips owned
   by the client that made them (another client cannot cancel them, and nothing changes), rate limits per address
   and per key (429 with Retry-After, served again after it), and demo mode (no key: loopback only). The real
   server on 127.0.0.1 port 0 with the Monaco graph and a temporary trip database holding the keys. The whole
   matrix of endpoints and callers is the authorization tier (tests/tiers/tier_authz.c). */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "http_client.h"
#include "../tiers/tier_http.h" /* a chosen source address: the per-key limit */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "matcher/matcher.h"
#include "web/server.h"
#include "matcher/store.h"
#include "test_support.h"
#include "db_target.h"

#define DB COVOIT_TMP "/http_auth.db"
#define DB_EMPTY COVOIT_TMP "/http_auth_empty.db"

static cv_graph *graph;
static cv_matcher *matcher;
static cv_server *server;
static uint16_t port;
static char key_a[CV_KEY_SECRET_MAX], key_b[CV_KEY_SECRET_MAX], key_c[CV_KEY_SECRET_MAX],
    key_revoked[CV_KEY_SECRET_MAX];
static char depart[32];

/* One request; header is a whole extra header line without CRLF, or NULL. */
static reply http_req(uint16_t to, const char *method, const char *path, const char *header, const char *body)
{
    return http_request(to, method, path, header, body, body ? strlen(body) : 0);
}

static reply expect(const char *method, const char *path, const char *key, const char *body, int status,
                    const char *code)
{
    char header[128];
    if (key)
        snprintf(header, sizeof header, "X-API-Key: %s", key);
    reply r = http_req(port, method, path, key ? header : NULL, body);
    if (r.status != status || !r.json)
        fail_msg("%s %s: status %d, expected %d: %s", method, path, r.status, status, r.raw);
    const char *got = json_string_value(json_object_get(r.json, "code"));
    if (!got || strcmp(got, code))
        fail_msg("%s %s: code %s, expected %s: %s", method, path, got ? got : "(none)", code, r.raw);
    return r;
}

static void expect_status(const char *method, const char *path, const char *key, const char *body, int status,
                          const char *code)
{
    reply r = expect(method, path, key, body, status, code);
    reply_free(&r);
}

static char *offer_body(const char *owner)
{
    json_t *doc = json_pack("{s:[f,f],s:[f,f],s:s,s:i,s:i,s:s}", "from", 7.4275, 43.7396, "to", 7.4160, 43.7290,
                            "depart", depart, "margin_min", 30, "seats", 3, "owner", owner);
    char *t = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return t;
}

static cv_server *start(cv_matcher *m, const char *address, unsigned rate, cv_error *err)
{
    cv_server_options o = cv_server_defaults();
    o.address = address;
    o.port = 0;
    o.threads = 4;
    o.quiet = 1;
    o.rate = rate;
    o.matcher = m;
    return cv_server_start(graph, &o, err);
}

static int setup(void **state)
{
    (void)state;
    graph = tst_build_graph(COVOIT_TEST_DATA "/monaco.osm.pbf", "http_auth_monaco.cvg");
    tst_db_remove(DB);
    cv_error err = {0};
    cv_store *s = NULL;
    int64_t revoked_id = 0;
    if (cv_store_open(tst_db(DB), &s, &err) ||
        cv_store_add_key(s, "A", CV_SCOPE_ALL & ~CV_SCOPE_ADMIN, key_a, NULL, &err) ||
        cv_store_add_key(s, "B", CV_SCOPE_ROUTING, key_b, NULL, &err) ||
        cv_store_add_key(s, "C", CV_SCOPE_TRIPS | CV_SCOPE_SEARCH, key_c, NULL, &err) ||
        cv_store_add_key(s, "D", CV_SCOPE_ALL, key_revoked, &revoked_id, &err) ||
        cv_store_revoke_key(s, revoked_id, &err))
        fail_msg("%s", err.text);
    cv_store_close(s);
    cv_matcher_options mo = cv_matcher_defaults();
    if (cv_matcher_open(graph, tst_db(DB), &mo, (int64_t)time(NULL), &matcher, &err))
        fail_msg("%s", err.text);
    server = start(matcher, "127.0.0.1", 0, &err);
    if (!server)
        fail_msg("%s", err.text);
    assert_true(cv_server_auth(server));
    port = cv_server_port(server);
    time_t t = time(NULL) + 2 * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(depart, sizeof depart, "%Y-%m-%dT%H:%M:00Z", &tm);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cv_server_stop(server);
    cv_matcher_close(matcher);
    cv_graph_close(graph);
    return 0;
}

#define ROUTE "/route/v1/driving/7.4275,43.7396;7.4160,43.7290?overview=false"

static void test_keys_and_scopes(void **state)
{
    (void)state;
    expect_status("GET", "/health", NULL, NULL, 200, "Ok");
    expect_status("GET", ROUTE, NULL, NULL, 401, "Unauthorized");
    expect_status("GET", ROUTE, "cvk_00112233", NULL, 401, "Unauthorized");
    expect_status("GET", ROUTE, key_revoked, NULL, 401, "Unauthorized");
    expect_status("GET", ROUTE, key_b, NULL, 200, "Ok");
    expect_status("GET", "/v1/offers", key_b, NULL, 403, "Forbidden");
    expect_status("POST", "/v1/search", key_b, "{}", 403, "Forbidden");
    /* the Bearer form */
    char header[128];
    snprintf(header, sizeof header, "Authorization: Bearer %s", key_b);
    reply r = http_req(port, "GET", ROUTE, header, NULL);
    assert_int_equal(r.status, 200);
    reply_free(&r);
}

static void test_ownership(void **state)
{
    (void)state;
    char *body = offer_body("alice");
    reply r = expect("POST", "/v1/offers", key_a, body, 201, "Ok");
    free(body);
    json_t *offer = json_object_get(r.json, "offer");
    int64_t id = (int64_t)json_integer_value(json_object_get(offer, "id"));
    assert_true(id > 0);
    assert_string_equal(json_string_value(json_object_get(offer, "owner")), "A:alice");
    char *before = json_dumps(offer, JSON_COMPACT | JSON_SORT_KEYS);
    reply_free(&r);

    char path[64];
    snprintf(path, sizeof path, "/v1/offers/%lld", (long long)id);
    expect_status("DELETE", path, key_c, NULL, 403, "Forbidden");
    expect_status("GET", path, key_c, NULL, 403, "Forbidden");
    snprintf(path, sizeof path, "/v1/offers/%lld/cancel", (long long)id);
    expect_status("POST", path, key_c, NULL, 403, "Forbidden");
    snprintf(path, sizeof path, "/v1/offers/%lld/matches", (long long)id);
    expect_status("GET", path, key_c, NULL, 403, "Forbidden");
    /* C lists only its own */
    r = expect("GET", "/v1/offers?owner=alice", key_c, NULL, 200, "Ok");
    assert_int_equal(json_array_size(json_object_get(r.json, "offers")), 0);
    reply_free(&r);

    snprintf(path, sizeof path, "/v1/offers/%lld", (long long)id);
    r = expect("GET", path, key_a, NULL, 200, "Ok");
    json_t *now = json_object_get(r.json, "offer");
    assert_string_equal(json_string_value(json_object_get(now, "status")), "open");
    json_object_del(now, "bookings");
    json_object_del(now, "stops");
    json_object_del(now, "seats_left");
    char *after = json_dumps(now, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(before, after); /* unchanged */
    free(after);
    free(before);
    reply_free(&r);

    /* A's own listing sees it; A cancels its own offer */
    r = expect("GET", "/v1/offers?owner=alice", key_a, NULL, 200, "Ok");
    assert_int_equal(json_array_size(json_object_get(r.json, "offers")), 1);
    reply_free(&r);
    expect_status("DELETE", path, key_a, NULL, 200, "Ok");
}

/* Sends GET path with key from conn until an answer is not 200 (at most 200 requests): that answer (a 429, with
   what it said), after *ok successes. */
static tier_reply until_limited(tier_conn *conns, int nconns, const char *path, const char *key, int *ok)
{
    char header[128];
    snprintf(header, sizeof header, "X-API-Key: %s\r\n", key);
    *ok = 0;
    for (int i = 0; i < 200; i++) {
        tier_reply r = tier_http(&conns[i % nconns], "GET", path, header, NULL);
        if (r.status != 200)
            return r;
        (*ok)++;
        tier_reply_free(&r);
    }
    fail_msg("no 429 after 200 requests at a rate of 2 a second");
    return (tier_reply){0};
}

/* A 429 as docs/API.md has it: TooManyRequests naming the limit, and Retry-After a positive number of seconds after
   which the same caller is served again. */
static void expect_retry(tier_reply *r, const char *limit, tier_conn *conn, const char *path, const char *key)
{
    if (r->status != 429 || strcmp(tier_code(r), "TooManyRequests") || !strstr(tier_message(r), limit))
        fail_msg("expected 429 TooManyRequests for %s, got %d: %s", limit, r->status, r->body ? r->body : "");
    char v[32];
    assert_int_equal(tier_header(r->head, "Retry-After", v, sizeof v), 0);
    char *end;
    long secs = strtol(v, &end, 10);
    if (!*v || *end || secs < 1 || secs > 60)
        fail_msg("Retry-After: '%s' is not a positive number of seconds", v);
    struct timespec t = {secs, 50 * 1000000L};
    nanosleep(&t, NULL);
    char header[128];
    snprintf(header, sizeof header, "X-API-Key: %s\r\n", key);
    tier_reply again = tier_http(conn, "GET", path, header, NULL);
    if (again.status != 200)
        fail_msg("after Retry-After: %ld s, still %d: %s", secs, again.status, again.body ? again.body : "");
    tier_reply_free(&again);
}

/* Rate limits at 2 requests a second (bursts of 4; low, so that a slow machine still outruns the refill). One
   source address runs out of its own bucket first (429 "this address"), for requests without a key too. With one key
   from two source addresses, 127.0.0.1 and 127.0.0.2, neither address runs out before the key's client does (429 "this
   API key"), while another client's key is still served. */
static void test_rate_limit(void **state)
{
    (void)state;
    cv_error err = {0};
    cv_server *s = start(matcher, "127.0.0.1", 2, &err);
    if (!s)
        fail_msg("%s", err.text);
    uint16_t p = cv_server_port(s);
    tier_conn one = tier_conn_make(p, "127.0.0.1");
    int ok;
    tier_reply r = until_limited(&one, 1, ROUTE, key_b, &ok);
    if (ok < 4)
        fail_msg("limited after %d requests: the burst is 4", ok);
    /* the address comes first: without a key too, 429 (not 401) */
    tier_reply nokey = tier_http(&one, "GET", ROUTE, NULL, NULL);
    if (nokey.status != 429 || !strstr(tier_message(&nokey), "this address"))
        fail_msg("no key from an address over its limit: %d %s", nokey.status, nokey.body ? nokey.body : "");
    tier_reply_free(&nokey);
    expect_retry(&r, "rate limit of this address exceeded", &one, ROUTE, key_b);
    tier_reply_free(&r);
    tier_conn_close(&one);
    cv_server_stop(s);

    s = start(matcher, "127.0.0.1", 2, &err); /* full buckets again */
    if (!s)
        fail_msg("%s", err.text);
    p = cv_server_port(s);
    tier_conn two[2] = {tier_conn_make(p, "127.0.0.1"), tier_conn_make(p, "127.0.0.2")};
    r = until_limited(two, 2, ROUTE, key_b, &ok);
    if (ok < 4)
        fail_msg("limited after %d requests from two addresses: the burst is 4", ok);
    /* the key's client ran out; another client, from a third address, did not */
    tier_conn other = tier_conn_make(p, "127.0.0.3");
    char header[128];
    snprintf(header, sizeof header, "X-API-Key: %s\r\n", key_c);
    tier_reply c = tier_http(&other, "GET", "/v1/offers?owner=nobody", header, NULL);
    assert_int_equal(c.status, 200);
    tier_reply_free(&c);
    expect_retry(&r, "rate limit of this API key exceeded", &two[1], ROUTE, key_b);
    tier_reply_free(&r);
    tier_conn_close(&two[0]);
    tier_conn_close(&two[1]);
    tier_conn_close(&other);
    cv_server_stop(s);
}

static void test_demo_mode(void **state)
{
    (void)state;
    tst_db_remove(DB_EMPTY);
    cv_error err = {0};
    cv_matcher *m = NULL;
    cv_matcher_options mo = cv_matcher_defaults();
    if (cv_matcher_open(graph, tst_db(DB_EMPTY), &mo, (int64_t)time(NULL), &m, &err))
        fail_msg("%s", err.text);
    cv_server *s = start(m, "0.0.0.0", 0, &err);
    assert_null(s);
    assert_int_equal(err.code, CV_EINVAL);
    assert_non_null(strstr(err.text, "demo mode"));
    s = start(NULL, "0.0.0.0", 0, &err);
    assert_null(s);
    s = start(m, "127.0.0.1", 0, &err);
    assert_non_null(s);
    assert_false(cv_server_auth(s));
    cv_server_stop(s);
    cv_matcher_close(m);
    /* with keys, any address is allowed */
    s = start(matcher, "0.0.0.0", 0, &err);
    if (!s)
        fail_msg("%s", err.text);
    cv_server_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_and_scopes),
        cmocka_unit_test(test_ownership),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_demo_mode),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
