/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_http_places.c — the place index on the Monaco extract: what it holds, autocomplete (prefixes, accents and
   case folded, near a point first), the nearest address, bad files, the index inside an SQLite trip database (and
   refused by a PostgreSQL one, under with_pg); then /v1/places and /v1/places/reverse on a real server on
   127.0.0.1, their errors, and a server without an index. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_client.h"
#include "matcher/store.h"
#include "places/places.h"
#include "test_support.h"
#include "db_target.h"
#include "web/server.h"

static cv_graph *graph;
static cv_places *places;
static cv_places_stats stats;
static char index_path[1024];
static cv_server *server;
static uint16_t port;

static int setup(void **state)
{
    (void)state;
    graph = tst_build_graph(COVOIT_TEST_DATA "/monaco.osm.pbf", "places_monaco.cvg");
    snprintf(index_path, sizeof index_path, "%s/places_monaco.places", COVOIT_TMP);
    cv_error err = {0};
    if (cv_places_build(COVOIT_TEST_DATA "/monaco.osm.pbf", index_path, NULL, &stats, &err) ||
        cv_places_open(index_path, &places, &err)) {
        fprintf(stderr, "%s\n", err.text);
        return -1;
    }
    cv_server_options o = cv_server_defaults();
    o.port = 0;
    o.threads = 2;
    o.quiet = 1;
    o.places = places;
    server = cv_server_start(graph, &o, &err);
    if (!server) {
        fprintf(stderr, "%s\n", err.text);
        return -1;
    }
    port = cv_server_port(server);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cv_server_stop(server);
    cv_places_close(places);
    cv_graph_close(graph);
    return 0;
}

static cv_coord at(double lon, double lat)
{
    return (cv_coord){cv_fixed(lon), cv_fixed(lat)};
}

/* --- the index --- */

static void test_built(void **state)
{
    (void)state;
    print_message("Monaco: %zu streets, %zu addresses, %zu settlements, %zu stops, %zu points of interest\n",
                  stats.streets, stats.addresses, stats.settlements, stats.stops, stats.pois);
    assert_true(stats.streets > 500 && stats.addresses > 50 && stats.settlements > 20 && stats.stops > 100 &&
                stats.pois > 300);
    cv_places_info info;
    assert_int_equal(cv_places_info_get(places, &info), 0);
    assert_int_equal(info.places, stats.streets + stats.addresses + stats.settlements + stats.stops + stats.pois);
    assert_string_equal(info.source, "monaco.osm.pbf");
    /* a street cut into segments by its junctions is one place: the boulevard along the harbour, once */
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(index_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM place WHERE kind=1 AND name='Boulevard Albert 1er'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static int search(const char *q, int has_near, cv_coord near, int limit, cv_place *out, size_t *n)
{
    cv_error err = {0};
    return cv_places_search(places, q, has_near, near, limit, out, n, &err);
}

static void test_search(void **state)
{
    (void)state;
    cv_place p[20];
    size_t n;
    /* a point of interest by a word of its name, near it */
    assert_int_equal(search("casino", 1, at(7.4246, 43.7384), 5, p, &n), 0);
    assert_true(n >= 3);
    assert_string_equal(p[0].name, "Casino de Monte Carlo");
    assert_int_equal(p[0].kind, CV_PLACE_POI);
    assert_true(p[0].distance_m > 200 && p[0].distance_m < 500);
    /* accents and case folded, every word a prefix */
    const char *ways[] = {"sainte devote", "SAINTE-DÉVOTE", "Sainte Dév", "saint dev"};
    for (size_t k = 0; k < sizeof ways / sizeof *ways; k++) {
        assert_int_equal(search(ways[k], 0, at(0, 0), 5, p, &n), 0);
        assert_true(n >= 1);
        assert_string_equal(p[0].name, "Sainte-Dévote");
        assert_int_equal(p[0].kind, CV_PLACE_SETTLEMENT);
    }
    /* a street by the beginning of its name, told apart by its settlement */
    assert_int_equal(search("boulevard albe", 0, at(0, 0), 5, p, &n), 0);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        found |= !strcmp(p[i].name, "Boulevard Albert 1er") && p[i].kind == CV_PLACE_STREET && p[i].detail[0];
    assert_true(found);
    /* near a point, the near ones first: the same words from two ends of the map */
    cv_coord west = at(7.4150, 43.7310), east = at(7.4400, 43.7480);
    double dw = 0, de = 0;
    size_t nw, ne;
    cv_place pw[10], pe[10];
    assert_int_equal(search("avenue", 1, west, 10, pw, &nw), 0);
    assert_int_equal(search("avenue", 1, east, 10, pe, &ne), 0);
    assert_true(nw == 10 && ne == 10);
    for (size_t i = 0; i < 10; i++)
        dw += pw[i].distance_m, de += pe[i].distance_m;
    assert_true(dw / 10 < 1500 && de / 10 < 1500);
    assert_true(strcmp(pw[0].name, pe[0].name));
    /* the limit, and a name never twice at one place */
    cv_place big[CV_PLACES_LIMIT_MAX];
    assert_int_equal(search("a", 0, at(0, 0), CV_PLACES_LIMIT_MAX + 10, big, &n), 0);
    assert_int_equal(n, CV_PLACES_LIMIT_MAX);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            assert_false(!strcmp(big[i].name, big[j].name) && cv_distance_m(big[i].at, big[j].at) < 200);
    /* nothing to look for */
    cv_error err = {0};
    assert_int_equal(cv_places_search(places, " !! ", 0, at(0, 0), 5, p, &n, &err), CV_EINVAL);
    assert_non_null(strstr(err.text, "no word"));
    /* words that name nothing */
    assert_int_equal(search("zzqqxx", 0, at(0, 0), 5, p, &n), 0);
    assert_int_equal(n, 0);
}

static void test_nearest(void **state)
{
    (void)state;
    cv_place a;
    cv_error err = {0};
    /* an address of the extract, found from a point 20 m off */
    assert_int_equal(cv_places_nearest_address(places, at(7.4257905 + 0.0002, 43.7329221), 60, &a, &err), 1);
    assert_string_equal(a.name, "Quai Antoine 1er 6");
    assert_true(a.distance_m > 10 && a.distance_m < 25);
    /* none within 5 m of it */
    assert_int_equal(cv_places_nearest_address(places, at(7.4257905 + 0.0002, 43.7329221), 5, &a, &err), 0);
    /* the nearest stop */
    assert_int_equal(cv_places_nearest(places, at(7.4246, 43.7384), CV_PLACE_STOP, 300, &a, &err), 1);
    assert_int_equal(a.kind, CV_PLACE_STOP);
}

static void test_bad_files(void **state)
{
    (void)state;
    cv_places *p = NULL;
    cv_error err = {0};
    char path[1100];
    snprintf(path, sizeof path, "%s/places_monaco.cvg", COVOIT_TMP); /* a graph, not an index */
    assert_int_equal(cv_places_open(path, &p, &err), CV_EFORMAT);
    assert_null(p);
    assert_non_null(strstr(err.text, "not a covoit place index"));
    snprintf(path, sizeof path, "%s/no/such/dir/x.places", COVOIT_TMP);
    assert_true(cv_places_open(path, &p, &err) != 0);
    /* an OSM file that cannot be read: nothing written */
    snprintf(path, sizeof path, "%s/places_bad.places", COVOIT_TMP);
    assert_true(cv_places_build(COVOIT_TEST_DATA "/README.md", path, NULL, NULL, &err) != 0);
    FILE *f = fopen(path, "r");
    assert_null(f);
}

/* SQLite: the index written inside the trip database, in one transaction beside the trips, which stay as they were;
   written again, it replaces the one there; or the index first, and the trip store made around it. */
static void inside_sqlite_trip_db(const char *db)
{
    unlink(db);
    cv_error err = {0};
    cv_store *st = NULL;
    char secret[CV_KEY_SECRET_MAX];
    if (cv_store_open(db, &st, &err) || cv_store_add_key(st, "A", CV_SCOPE_ALL, secret, NULL, &err))
        fail_msg("%s", err.text);
    for (int round = 0; round < 2; round++) {
        cv_places_stats again = {0};
        if (cv_places_build(COVOIT_TEST_DATA "/monaco.osm.pbf", db, NULL, &again, &err))
            fail_msg("%s", err.text);
        assert_int_equal(again.streets, stats.streets);
        cv_places *p = NULL;
        if (cv_places_open(db, &p, &err))
            fail_msg("%s", err.text);
        cv_places_info a, b;
        assert_int_equal(cv_places_info_get(p, &a), 0);
        assert_int_equal(cv_places_info_get(places, &b), 0);
        assert_int_equal(a.places, b.places); /* the same index, not two of them */
        cv_place got[3];
        size_t n = 0;
        assert_int_equal(cv_places_search(p, "casino", 0, (cv_coord){0, 0}, 3, got, &n, &err), 0);
        assert_true(n > 0);
        cv_places_close(p);
    }
    /* the trip store, open all along, still has its key */
    cv_store_close(st);
    if (cv_store_open(db, &st, &err))
        fail_msg("%s", err.text);
    int active = 0;
    assert_int_equal(cv_store_active_keys(st, &active, &err), 0);
    assert_int_equal(active, 1);
    cv_store_close(st);
    unlink(db);
    /* the other order: the index first, then the trip store made in the same file around it */
    if (cv_places_build(COVOIT_TEST_DATA "/monaco.osm.pbf", db, NULL, NULL, &err) || cv_store_open(db, &st, &err) ||
        cv_store_add_key(st, "B", CV_SCOPE_ALL, secret, NULL, &err))
        fail_msg("%s", err.text);
    cv_store_close(st);
    cv_places *again = NULL;
    if (cv_places_open(db, &again, &err))
        fail_msg("%s", err.text);
    cv_places_close(again);
    unlink(db);
}

/* PostgreSQL: the trip database cannot hold the index, an SQLite database (a server on PostgreSQL opens it from a
   file of its own): writing it there is refused, and leaves the trip store as it was, its key and no table more. */
static void not_in_pg_trip_db(const char *file)
{
    const char *uri = tst_db(file);
    cv_error err = {0};
    cv_store *st = NULL;
    char secret[CV_KEY_SECRET_MAX];
    if (cv_store_open(uri, &st, &err) || cv_store_add_key(st, "A", CV_SCOPE_ALL, secret, NULL, &err))
        fail_msg("%s", err.text);
    cv_store_close(st);
    cv_db *db = NULL;
    cv_db_stmt *q = NULL;
    const char *tables = "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()";
    if (cv_db_open(uri, &db, &err) || cv_db_prepare(db, tables, &q, &err) || cv_db_step(q, &err) != CV_DB_ROW)
        fail_msg("%s", err.text);
    int64_t ntables = cv_db_column_int64(q, 0);
    cv_db_finalize(q);
    assert_true(ntables >= 10);
    assert_int_not_equal(cv_places_build(COVOIT_TEST_DATA "/monaco.osm.pbf", uri, NULL, NULL, &err), 0);
    cv_places *p = NULL;
    assert_int_not_equal(cv_places_open(uri, &p, &err), 0);
    assert_null(p);
    if (cv_db_prepare(db, tables, &q, &err) || cv_db_step(q, &err) != CV_DB_ROW)
        fail_msg("%s", err.text);
    assert_int_equal(cv_db_column_int64(q, 0), ntables);
    cv_db_finalize(q);
    cv_db_close(db);
    if (cv_store_open(uri, &st, &err))
        fail_msg("%s", err.text);
    int active = 0;
    assert_int_equal(cv_store_active_keys(st, &active, &err), 0);
    assert_int_equal(active, 1);
    cv_store_close(st);
    tst_db_remove(file);
}

/* The index inside the trip database (covoit import --places DB) on SQLite, refused by one on PostgreSQL; a file
   that is no SQLite database is refused and left as it was. */
static void test_inside_trip_db(void **state)
{
    (void)state;
    char db[512];
    snprintf(db, sizeof db, "%s/places_trips.db", COVOIT_TMP);
    if (tst_db_is_pg())
        not_in_pg_trip_db(db);
    else
        inside_sqlite_trip_db(db);
    cv_error err = {0};
    /* a graph file is no database: refused, untouched */
    char graph_path[1100];
    snprintf(graph_path, sizeof graph_path, "%s/places_monaco.cvg", COVOIT_TMP);
    struct stat before, after;
    assert_int_equal(stat(graph_path, &before), 0);
    assert_int_equal(cv_places_build(COVOIT_TEST_DATA "/monaco.osm.pbf", graph_path, NULL, NULL, &err), CV_EFORMAT);
    assert_non_null(strstr(err.text, "not an SQLite database"));
    assert_int_equal(stat(graph_path, &after), 0);
    assert_true(before.st_size == after.st_size && before.st_mtime == after.st_mtime);
}

/* --- over HTTP --- */

static reply get(const char *path)
{
    return http_request(port, "GET", path, NULL, NULL, 0);
}

static void expect_error(uint16_t p, const char *method, const char *path, int status, const char *code)
{
    reply r = http_request(p, method, path, NULL, NULL, 0);
    if (r.status != status)
        fail_msg("%s %s: %d, wanted %d: %s", method, path, r.status, status, r.body ? r.body : "");
    assert_non_null(r.json);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), code);
    assert_true(json_is_string(json_object_get(r.json, "message")));
    reply_free(&r);
}

static void test_http_search(void **state)
{
    (void)state;
    reply r = get("/v1/places?q=casino&near=7.4246,43.7384&limit=3");
    assert_int_equal(r.status, 200);
    json_t *list = json_object_get(r.json, "places");
    assert_int_equal(json_array_size(list), 3);
    json_t *first = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(first, "name")), "Casino de Monte Carlo");
    assert_string_equal(json_string_value(json_object_get(first, "kind")), "poi");
    assert_non_null(strstr(json_string_value(json_object_get(first, "label")), "Monte-Carlo"));
    json_t *loc = json_object_get(first, "location");
    assert_true(fabs(json_number_value(json_array_get(loc, 0)) - 7.4285) < 0.002);
    assert_true(json_number_value(json_object_get(first, "distance_m")) > 0);
    reply_free(&r);
    /* UTF-8 in the query, percent-encoded */
    r = get("/v1/places?q=Sainte-D%C3%A9v&limit=1");
    assert_int_equal(r.status, 200);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(r.json, "places"), 0), "name")),
        "Sainte-D\xc3\xa9vote");
    reply_free(&r);
    expect_error(port, "GET", "/v1/places", 400, "InvalidQuery");
    expect_error(port, "GET", "/v1/places?q=", 400, "InvalidQuery");
    expect_error(port, "GET", "/v1/places?q=!!!", 400, "InvalidValue");
    expect_error(port, "GET", "/v1/places?q=a&limit=0", 400, "InvalidValue");
    expect_error(port, "GET", "/v1/places?q=a&limit=51", 400, "InvalidValue");
    expect_error(port, "GET", "/v1/places?q=a&near=7.4", 400, "InvalidValue");
    expect_error(port, "GET", "/v1/places?q=a&near=200,43", 400, "InvalidValue");
    expect_error(port, "GET", "/v1/places?q=a&color=red", 400, "InvalidQuery");
    expect_error(port, "POST", "/v1/places?q=a", 405, "MethodNotAllowed");
    expect_error(port, "GET", "/v1/places/nowhere", 404, "NotFound");
}

static void test_http_reverse(void **state)
{
    (void)state;
    /* at a house number: the address, on its street */
    reply r = get("/v1/places/reverse?at=7.42581,43.73294");
    assert_int_equal(r.status, 200);
    const char *label = json_string_value(json_object_get(r.json, "label"));
    assert_non_null(label);
    assert_non_null(strstr(label, "Quai Antoine 1er 6"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "address"), "name")),
                        "Quai Antoine 1er 6");
    assert_string_equal(json_string_value(json_object_get(r.json, "settlement")), "Monaco-Ville");
    /* the road nearest to that door is a service road with no name: the named street nearest stands for it */
    assert_non_null(json_object_get(json_object_get(r.json, "street"), "name"));
    reply_free(&r);
    /* on a street with no number near: the street's name, as the graph names the road the point is on */
    r = get("/v1/places/reverse?at=7.4246,43.7384");
    assert_int_equal(r.status, 200);
    const char *street = json_string_value(json_object_get(json_object_get(r.json, "street"), "name"));
    assert_non_null(street);
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "label")), street));
    reply_free(&r);
    expect_error(port, "GET", "/v1/places/reverse", 400, "InvalidQuery");
    expect_error(port, "GET", "/v1/places/reverse?at=x,y", 400, "InvalidValue");
    /* nothing named near (the middle of the ocean): an answer without a label, not an error */
    r = get("/v1/places/reverse?at=0,0");
    assert_int_equal(r.status, 200);
    assert_true(json_is_null(json_object_get(r.json, "label")));
    reply_free(&r);
}

static void test_http_without_index(void **state)
{
    (void)state;
    cv_server_options o = cv_server_defaults();
    o.port = 0;
    o.threads = 1;
    o.quiet = 1;
    cv_error err = {0};
    cv_server *s = cv_server_start(graph, &o, &err);
    assert_non_null(s);
    expect_error(cv_server_port(s), "GET", "/v1/places?q=casino", 503, "Unavailable");
    cv_server_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_built),          cmocka_unit_test(test_search),
        cmocka_unit_test(test_nearest),        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_inside_trip_db), cmocka_unit_test(test_http_search),
        cmocka_unit_test(test_http_reverse),   cmocka_unit_test(test_http_without_index),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
