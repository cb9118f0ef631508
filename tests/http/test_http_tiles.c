/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_http_tiles.c — the map's own vector tiles over HTTP: an MBTiles file written here (metadata and three tiles,
   one of them gzip-compressed as tilemaker stores them), served by a real server on 127.0.0.1: the tile's bytes as
   stored with their content type, Content-Encoding, caching headers and ETag (304 when the browser has it), 204 for
   a tile the file lacks, 404 for what is not a tile, /health naming them for the page; files that are not vector
   MBTiles refused; a server without tiles. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"
#include "test_support.h"
#include "db_target.h"
#include "matcher/matcher.h"
#include "matcher/store.h"
#include "tiles/mbtiles.h"
#include "web/server.h"

static cv_graph *graph;
static cv_mbtiles *tiles;
static cv_server *server;
static uint16_t port;
static const unsigned char gz[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 'v', 't', 0x00, 0x01};
static const unsigned char plain[] = {0x1a, 0x05, 'w', 'a', 't', 'e', 'r'};

/* An MBTiles file at path: format as given, zooms 5 to 14, tiles 14/8529/5975 (gzip) and 13/4264/2987 (plain),
   rows counted from the south as the format has it. */
static void write_mbtiles(const char *path, const char *format)
{
    unlink(path);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *sql = sqlite3_mprintf("CREATE TABLE metadata(name TEXT, value TEXT);"
                                "CREATE TABLE tiles(zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,"
                                " tile_data BLOB);"
                                "INSERT INTO metadata VALUES('name','test'),('format',%Q),('minzoom','5'),"
                                "('maxzoom','14'),('bounds','7.40,43.72,7.44,43.75');",
                                format);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_free(sql);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO tiles VALUES(?,?,?,?)", -1, &st, NULL), SQLITE_OK);
    const struct {
        int z, x, y;
        const unsigned char *data;
        int len;
    } t[] = {{14, 8529, 5975, gz, sizeof gz}, {13, 4264, 2987, plain, sizeof plain}};
    for (size_t i = 0; i < 2; i++) {
        sqlite3_bind_int(st, 1, t[i].z);
        sqlite3_bind_int(st, 2, t[i].x);
        sqlite3_bind_int(st, 3, (1 << t[i].z) - 1 - t[i].y);
        sqlite3_bind_blob(st, 4, t[i].data, t[i].len, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static int setup(void **state)
{
    (void)state;
    graph = tst_build_graph(COVOIT_TEST_DATA "/monaco.osm.pbf", "tiles_monaco.cvg");
    char path[1024];
    snprintf(path, sizeof path, "%s/tiles_test.mbtiles", COVOIT_TMP);
    write_mbtiles(path, "pbf");
    cv_mbtiles_info info;
    cv_error err = {0};
    if (cv_mbtiles_open(path, &tiles, &info, &err)) {
        fprintf(stderr, "%s\n", err.text);
        return -1;
    }
    cv_server_options o = cv_server_defaults();
    o.port = 0;
    o.threads = 2;
    o.quiet = 1;
    o.tiles = tiles;
    o.tiles_minzoom = info.minzoom, o.tiles_maxzoom = info.maxzoom;
    server = cv_server_start(graph, &o, &err);
    if (!server)
        return -1;
    port = cv_server_port(server);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cv_server_stop(server);
    cv_mbtiles_close(tiles);
    cv_graph_close(graph);
    return 0;
}

/* The header line name: value of r (its value, up to the line's end, into out), or 0 when absent. */
static int header(const reply *r, const char *name, char *out, size_t cap)
{
    char key[64];
    snprintf(key, sizeof key, "\r\n%s: ", name);
    const char *h = strstr(r->raw, key); /* libmicrohttpd writes the names as given */
    if (!h || h > r->body)
        return 0;
    h += strlen(key);
    size_t n = strcspn(h, "\r\n");
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), h);
    return 1;
}

static void test_info(void **state)
{
    (void)state;
    cv_mbtiles *t;
    cv_mbtiles_info info;
    cv_error err = {0};
    char path[1024];
    snprintf(path, sizeof path, "%s/tiles_test.mbtiles", COVOIT_TMP);
    assert_int_equal(cv_mbtiles_open(path, &t, &info, &err), 0);
    assert_int_equal(info.minzoom, 5);
    assert_int_equal(info.maxzoom, 14);
    assert_string_equal(info.format, "pbf");
    assert_true(info.bounds[0] == 7.40 && info.bounds[1] == 43.72 && info.bounds[2] == 7.44 && info.bounds[3] == 43.75);
    unsigned char *data;
    size_t len;
    assert_int_equal(cv_mbtiles_get(t, 14, 8529, 5975, &data, &len, &err), 1);
    assert_int_equal(len, sizeof gz);
    assert_memory_equal(data, gz, sizeof gz);
    free(data);
    assert_int_equal(cv_mbtiles_get(t, 14, 8529, 5976, &data, &len, &err), 0);
    assert_int_equal(cv_mbtiles_get(t, 3, 9, 0, &data, &len, &err), 0); /* off the world at zoom 3 */
    cv_mbtiles_close(t);
    /* raster tiles, and a file that is not MBTiles at all, are refused */
    snprintf(path, sizeof path, "%s/tiles_png.mbtiles", COVOIT_TMP);
    write_mbtiles(path, "png");
    assert_int_equal(cv_mbtiles_open(path, &t, &info, &err), CV_EFORMAT);
    assert_non_null(strstr(err.text, "vector tiles"));
    assert_int_equal(cv_mbtiles_open(COVOIT_TEST_DATA "/README.md", &t, &info, &err), CV_EFORMAT);
}

static void test_serve(void **state)
{
    (void)state;
    reply r = http_request(port, "GET", "/tiles/14/8529/5975.pbf", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    char v[128];
    assert_true(header(&r, "Content-Type", v, sizeof v));
    assert_string_equal(v, "application/vnd.mapbox-vector-tile");
    assert_true(header(&r, "Content-Encoding", v, sizeof v));
    assert_string_equal(v, "gzip");
    assert_true(header(&r, "Cache-Control", v, sizeof v));
    assert_non_null(strstr(v, "max-age="));
    assert_true(header(&r, "Content-Length", v, sizeof v));
    assert_int_equal(atoi(v), (int)sizeof gz);
    assert_memory_equal(r.body, gz, sizeof gz);
    char etag[64];
    assert_true(header(&r, "ETag", etag, sizeof etag));
    assert_true(etag[0] == '"');
    reply_free(&r);
    /* the browser has it: 304 */
    char ifnm[96];
    snprintf(ifnm, sizeof ifnm, "If-None-Match: %s", etag);
    r = http_request(port, "GET", "/tiles/14/8529/5975.pbf", ifnm, NULL, 0);
    assert_int_equal(r.status, 304);
    reply_free(&r);
    /* a tile stored uncompressed goes as it is */
    r = http_request(port, "GET", "/tiles/13/4264/2987.pbf", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_false(header(&r, "Content-Encoding", v, sizeof v));
    assert_memory_equal(r.body, plain, sizeof plain);
    reply_free(&r);
    /* a tile the file lacks (the sea, or outside the extract): empty */
    r = http_request(port, "GET", "/tiles/14/0/0.pbf", NULL, NULL, 0);
    assert_int_equal(r.status, 204);
    reply_free(&r);
    /* not a tile */
    const char *bad[] = {"/tiles/14/8529.pbf", "/tiles/a/b/c.pbf", "/tiles/14/8529/5975.png", "/tiles/3/9/0.pbf",
                         "/tiles/14/8529/5975.pbf?x=1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        r = http_request(port, "GET", bad[i], NULL, NULL, 0);
        assert_true(r.status == 404 || r.status == 400);
        assert_non_null(r.json);
        reply_free(&r);
    }
    r = http_request(port, "POST", "/tiles/14/8529/5975.pbf", NULL, NULL, 0);
    assert_int_equal(r.status, 405);
    reply_free(&r);
    /* /health names them for the page */
    r = http_request(port, "GET", "/health", NULL, NULL, 0);
    json_t *vt = json_object_get(json_object_get(r.json, "page"), "vector_tiles");
    assert_string_equal(json_string_value(json_object_get(vt, "url")), "/tiles/{z}/{x}/{y}.pbf");
    assert_int_equal(json_integer_value(json_object_get(vt, "maxzoom")), 14);
    reply_free(&r);
}

static void test_without_tiles(void **state)
{
    (void)state;
    cv_server_options o = cv_server_defaults();
    o.port = 0;
    o.threads = 1;
    o.quiet = 1;
    cv_error err = {0};
    cv_server *s = cv_server_start(graph, &o, &err);
    assert_non_null(s);
    reply r = http_request(cv_server_port(s), "GET", "/tiles/14/8529/5975.pbf", NULL, NULL, 0);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body, "no map tiles"));
    reply_free(&r);
    r = http_request(cv_server_port(s), "GET", "/health", NULL, NULL, 0);
    assert_true(json_is_null(json_object_get(json_object_get(r.json, "page"), "vector_tiles")));
    reply_free(&r);
    cv_server_stop(s);
}

/* With API keys on, the tiles are open like the page itself (OpenStreetMap data, nothing of anyone's trips): the
   page's renderer fetches them without a key. The API behind the page still wants one. */
static void test_auth_mode(void **state)
{
    (void)state;
    char db[512];
    snprintf(db, sizeof db, "%s/tiles_auth.db", COVOIT_TMP);
    tst_db_remove(db);
    cv_error err = {0};
    cv_store *st = NULL;
    char secret[CV_KEY_SECRET_MAX];
    if (cv_store_open(tst_db(db), &st, &err) || cv_store_add_key(st, "A", CV_SCOPE_ALL, secret, NULL, &err))
        fail_msg("%s", err.text);
    cv_store_close(st);
    cv_matcher *m = NULL;
    cv_matcher_options mo = cv_matcher_defaults();
    if (cv_matcher_open(graph, tst_db(db), &mo, (int64_t)time(NULL), &m, &err))
        fail_msg("%s", err.text);
    cv_server_options o = cv_server_defaults();
    o.port = 0;
    o.threads = 1;
    o.quiet = 1;
    o.matcher = m;
    o.tiles = tiles;
    cv_server *s = cv_server_start(graph, &o, &err);
    if (!s)
        fail_msg("%s", err.text);
    assert_true(cv_server_auth(s));
    reply r = http_request(cv_server_port(s), "GET", "/tiles/14/8529/5975.pbf", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body, gz, sizeof gz);
    reply_free(&r);
    r = http_request(cv_server_port(s), "GET", "/v1/places?q=casino", NULL, NULL, 0);
    assert_int_equal(r.status, 401);
    reply_free(&r);
    cv_server_stop(s);
    cv_matcher_close(m);
    tst_db_remove(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_serve),
        cmocka_unit_test(test_without_tiles),
        cmocka_unit_test(test_auth_mode),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
