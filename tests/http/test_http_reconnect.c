/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_http_reconnect.c — a server whose PostgreSQL goes away: the real server on 127.0.0.1 port 0 with the Monaco
   graph and a database on a PostgreSQL server of the test's own (pg_temp.h), which goes away under it (its
   connections cut) and comes back. Meanwhile writes and searches answer 503 with a JSON body and Retry-After, routing
   answers from the graph to an API key the database confirmed before (and a key never confirmed gets 503), /metrics
   says the database is down; once it is back the same server writes again by
   itself, and what it acknowledged before is there. Exit 77 (skipped) when PostgreSQL is not installed. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "http_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "matcher/matcher.h"
#include "matcher/store.h"
#include "web/server.h"
#include "pg_temp.h"
#include "test_support.h"

static cv_graph *graph;
static cv_matcher *matcher, *matcher2;
static cv_server *server, *server2; /* two servers on the one database */
static uint16_t port, port2;
static char uri[256], depart[32];
static char key_header[128]; /* the servers require API keys: the database held one when they started */

static reply post(const char *path, const char *body)
{
    return http_request(port, "POST", path, key_header, body, strlen(body));
}

static reply get(const char *path)
{
    return http_request(port, "GET", path, key_header, NULL, 0);
}

/* An offer from the casino to Fontvieille, for owner. */
static reply add_offer(const char *owner)
{
    char body[300];
    snprintf(body, sizeof body,
             "{\"from\":[7.4275,43.7396],\"to\":[7.4160,43.7290],\"depart\":\"%s\",\"seats\":3,\"owner\":\"%s\"}",
             depart, owner);
    return post("/v1/offers", body);
}

static int setup(void **state)
{
    (void)state;
    char why[256];
    if (tst_pg_start(uri, sizeof uri, why, sizeof why)) {
        fprintf(stderr, "%s\n", why);
        return -1;
    }
    graph = tst_build_graph(COVOIT_TEST_DATA "/monaco.osm.pbf", "http_reconnect_monaco.cvg");
    cv_error err = {0};
    cv_store *keys = NULL;
    char secret[CV_KEY_SECRET_MAX];
    if (cv_store_open(uri, &keys, &err) || cv_store_add_key(keys, "reconnect", CV_SCOPE_ALL, secret, NULL, &err)) {
        fprintf(stderr, "%s\n", err.text);
        return -1;
    }
    cv_store_close(keys);
    snprintf(key_header, sizeof key_header, "X-API-Key: %s", secret);
    cv_matcher_options mo = cv_matcher_defaults();
    mo.follow_ms = 200; /* as covoit serve's: on PostgreSQL the log's notification wakes it before */
    cv_server_options o = cv_server_defaults();
    o.port = 0;
    o.threads = 2;
    o.quiet = 1;
    if (cv_matcher_open(graph, uri, &mo, (int64_t)time(NULL), &matcher, &err) ||
        cv_matcher_open(graph, uri, &mo, (int64_t)time(NULL), &matcher2, &err)) {
        fprintf(stderr, "%s\n", err.text);
        return -1;
    }
    o.matcher = matcher;
    server = cv_server_start(graph, &o, &err);
    o.matcher = matcher2;
    server2 = server ? cv_server_start(graph, &o, &err) : NULL;
    if (!server2) {
        fprintf(stderr, "%s\n", err.text);
        return -1;
    }
    port = cv_server_port(server);
    port2 = cv_server_port(server2);
    time_t t = time(NULL) + 2 * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(depart, sizeof depart, "%Y-%m-%dT08:00:00Z", &tm);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cv_server_stop(server);
    cv_server_stop(server2);
    cv_matcher_close(matcher);
    cv_matcher_close(matcher2);
    cv_graph_close(graph);
    tst_pg_stop();
    return 0;
}

static void test_database_gone_and_back(void **state)
{
    (void)state;
    /* before: every thread has written once (its connection made) */
    int64_t before[4];
    for (int i = 0; i < 4; i++) {
        char owner[32];
        snprintf(owner, sizeof owner, "before-%d", i);
        reply r = add_offer(owner);
        assert_int_equal(r.status, 201);
        before[i] = json_integer_value(json_object_get(json_object_get(r.json, "offer"), "id"));
        reply_free(&r);
    }

    assert_int_equal(tst_pg_halt(), 0);
    /* writes and searches: 503, a JSON body saying Unavailable, Retry-After; on every thread */
    for (int i = 0; i < 4; i++) {
        reply r = add_offer("while-down");
        assert_int_equal(r.status, 503);
        assert_non_null(r.json);
        assert_string_equal(json_string_value(json_object_get(r.json, "code")), "Unavailable");
        assert_non_null(strstr(r.raw, "\r\nRetry-After: 1\r\n"));
        reply_free(&r);
    }
    reply r = get("/v1/offers?owner=before-0");
    assert_int_equal(r.status, 503);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), "Unavailable");
    reply_free(&r);
    /* a key the database never confirmed to this server cannot be checked: 503, not let in */
    r = http_request(port, "GET", "/route/v1/driving/7.4275,43.7396;7.4160,43.7290?overview=false",
                     "X-API-Key: cvk_0000000000000000000000000000000000000000000000000000000000000000", NULL, 0);
    assert_int_equal(r.status, 503);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), "Unavailable");
    reply_free(&r);
    /* routing answers from the graph, to a key the database confirmed before it went away */
    r = get("/route/v1/driving/7.4275,43.7396;7.4160,43.7290?overview=false");
    if (r.status != 200)
        fprintf(stderr, "route while the database is down: %d %s\n", r.status, r.body);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), "Ok");
    reply_free(&r);
    /* the scrape answers, and says the database is down */
    r = get("/metrics");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\ncovoit_database_up 0\n"));
    reply_free(&r);

    assert_int_equal(tst_pg_resume(), 0);
    /* back: the same server writes again by itself, on every thread, without one more 503 */
    for (int i = 0; i < 4; i++) {
        char owner[32];
        snprintf(owner, sizeof owner, "after-%d", i);
        r = add_offer(owner);
        if (r.status != 201)
            fprintf(stderr, "after the database came back: %d %s\n", r.status, r.body);
        assert_int_equal(r.status, 201);
        reply_free(&r);
    }
    r = get("/metrics");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\ncovoit_database_up 1\n"));
    reply_free(&r);
    /* what was acknowledged before is there */
    for (int i = 0; i < 4; i++) {
        char path[64];
        snprintf(path, sizeof path, "/v1/offers/%lld", (long long)before[i]);
        r = get(path);
        if (r.status != 200)
            fprintf(stderr, "GET %s: %d %s\n", path, r.status, r.body);
        assert_int_equal(r.status, 200);
        reply_free(&r);
    }
    /* and a search finds the offers written after (the follower listens again on its new connection) */
    char body[300];
    snprintf(body, sizeof body,
             "{\"from\":[7.4275,43.7396],\"to\":[7.4160,43.7290],\"depart\":\"%s\",\"margin_min\":30}", depart);
    r = post("/v1/search", body);
    assert_int_equal(r.status, 200);
    assert_true(json_array_size(json_object_get(r.json, "matches")) >= 8);
    size_t had = json_array_size(json_object_get(r.json, "matches"));
    reply_free(&r);
    /* an offer written through the other server is found here within a second: this server's follower listens
       again on its new connection, and caught up by sequence number with what it missed */
    char offer[300];
    snprintf(offer, sizeof offer,
             "{\"from\":[7.4275,43.7396],\"to\":[7.4160,43.7290],\"depart\":\"%s\",\"seats\":3,\"owner\":\"other\"}",
             depart);
    r = http_request(port2, "POST", "/v1/offers", key_header, offer, strlen(offer));
    assert_int_equal(r.status, 201);
    reply_free(&r);
    double t0 = http_now_ms(), took = -1;
    while (http_now_ms() - t0 < 1000 && took < 0) {
        r = post("/v1/search", body);
        assert_int_equal(r.status, 200);
        if (json_array_size(json_object_get(r.json, "matches")) > had)
            took = http_now_ms() - t0;
        reply_free(&r);
    }
    printf("an offer written through the other server was searched here %.1f ms later\n", took);
    assert_true(took >= 0);
}

int main(void)
{
    if (!tst_pg_installed()) {
        printf("SKIP: PostgreSQL's server is not installed (apt-get install postgresql)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_database_gone_and_back)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
