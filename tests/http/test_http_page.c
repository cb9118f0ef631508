/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_http_page.c — the map page over HTTP: GET / (index.html) and GET /static/... from the page directory
   (web/page of the source tree, with Leaflet from its node_modules, as scripts/deps.sh installs it), with their
   Content-Types and bytes; HEAD; path traversal in every spelling refused with a 4xx JSON error; missing files
   404 JSON; a page directory without Leaflet (or none) answered with a JSON message saying what to run; the page
   open without a key in auth mode while the API still wants one; the graph's bbox in /health; a journey's link
   (the webUrl of /stdcov/v1) answered with the page, whose search finds the journey's offer again. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "http_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "matcher/matcher.h"
#include "web/page.h"
#include "web/server.h"
#include "matcher/store.h"
#include "test_support.h"
#include "db_target.h"

#define PAGE COVOIT_PAGE_DIR
#define DB COVOIT_TMP "/http_page.db"
#define BARE COVOIT_TMP "/http_page_bare" /* a page directory with index.html and no node_modules */

static cv_graph *graph;
static cv_server *server;
static uint16_t port;

static cv_server *start(const char *page_dir, cv_matcher *m)
{
    cv_server_options o = cv_server_defaults();
    o.port = 0;
    o.threads = 2;
    o.quiet = 1;
    o.page_dir = page_dir;
    o.matcher = m;
    cv_error err = {0};
    cv_server *s = cv_server_start(graph, &o, &err);
    if (!s)
        fail_msg("%s", err.text);
    return s;
}

static int setup(void **state)
{
    (void)state;
    graph = tst_build_graph(COVOIT_TEST_DATA "/monaco.osm.pbf", "http_page_monaco.cvg");
    server = start(PAGE, NULL);
    port = cv_server_port(server);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cv_server_stop(server);
    cv_graph_close(graph);
    return 0;
}

/* The value of header name in r's head (case-insensitive name), copied into out; "" when absent. */
static const char *header(const reply *r, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    size_t n = strlen(name);
    const char *end = r->body ? r->body : r->raw + strlen(r->raw);
    for (const char *p = r->raw ? strstr(r->raw, "\r\n") : NULL; p && p + 2 < end; p = strstr(p + 2, "\r\n")) {
        const char *h = p + 2;
        if (!strncasecmp(h, name, n) && h[n] == ':') {
            h += n + 1;
            while (*h == ' ')
                h++;
            size_t k = strcspn(h, "\r\n");
            snprintf(out, cap, "%.*s", (int)(k < cap ? k : cap - 1), h);
            break;
        }
    }
    return out;
}

/* The whole of a file, NUL-terminated; *len its size. NULL when it cannot be read. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    *len = got;
    return buf;
}

/* GET path must answer 200 with the bytes of file and a Content-Type starting with type. */
static void expect_file(const char *path, const char *file, const char *type)
{
    size_t len = 0;
    char *want = slurp(file, &len);
    if (!want)
        fail_msg("cannot read %s (%s)", file, strerror(errno));
    reply r = http_request(port, "GET", path, NULL, NULL, 0);
    char ct[200], cl[40];
    if (r.status != 200)
        fail_msg("GET %s: status %d, expected 200: %.300s", path, r.status, r.raw ? r.raw : "");
    header(&r, "Content-Type", ct, sizeof ct);
    if (strncmp(ct, type, strlen(type)))
        fail_msg("GET %s: Content-Type '%s', expected %s", path, ct, type);
    header(&r, "Content-Length", cl, sizeof cl);
    assert_int_equal(strtoull(cl, NULL, 10), len);
    if (!strncmp(type, "image/png", 9)) {
        /* binary: the reply is read as a string, so compare the signature (no NUL in it) and the length */
        assert_true(len > 8);
        assert_memory_equal(r.body, "\x89PNG\r\n\x1a\n", 8);
    } else {
        assert_int_equal(strlen(r.body), len);
        assert_memory_equal(r.body, want, len);
    }
    assert_string_equal(header(&r, "X-Content-Type-Options", cl, sizeof cl), "nosniff");
    reply_free(&r);
    free(want);
}

/* HEAD path must answer status with a JSON Content-Type and no body. */
static void expect_head(const char *path, int status)
{
    reply r = http_request(port, "HEAD", path, NULL, NULL, 0);
    char ct[200];
    if (r.status != status)
        fail_msg("HEAD %s: status %d, expected %d: %.300s", path, r.status, status, r.raw ? r.raw : "");
    assert_string_equal(header(&r, "Content-Type", ct, sizeof ct), "application/json; charset=utf-8");
    assert_string_equal(r.body, "");
    reply_free(&r);
}

/* method path must answer status with a JSON {code, message}; returns the message (static storage). */
static const char *expect_error(const char *method, const char *path, int status, const char *code)
{
    static char msg[1024];
    reply r = http_request(port, method, path, NULL, NULL, 0);
    if (r.status != status || !r.json)
        fail_msg("%s %s: status %d, expected %d with JSON: %.300s", method, path, r.status, status, r.raw ? r.raw : "");
    char ct[200];
    assert_string_equal(header(&r, "Content-Type", ct, sizeof ct), "application/json; charset=utf-8");
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), code);
    const char *m = json_string_value(json_object_get(r.json, "message"));
    assert_non_null(m);
    snprintf(msg, sizeof msg, "%s", m);
    assert_null(strstr(r.raw, "root:")); /* never /etc/passwd */
    reply_free(&r);
    return msg;
}

static void test_index(void **state)
{
    (void)state;
    expect_file("/", PAGE "/index.html", "text/html; charset=utf-8");
    reply r = http_request(port, "GET", "/", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    /* Leaflet from this server, never from a CDN */
    assert_non_null(strstr(r.body, "/static/leaflet/leaflet.js"));
    assert_non_null(strstr(r.body, "/static/leaflet/leaflet.css"));
    assert_non_null(strstr(r.body, "/static/app.js"));
    assert_null(strstr(r.body, "unpkg"));
    assert_null(strstr(r.body, "cdn"));
    char v[400];
    assert_non_null(strstr(header(&r, "Content-Security-Policy", v, sizeof v), "script-src 'self'"));
    reply_free(&r);
    /* HEAD: the same headers, no body */
    r = http_request(port, "HEAD", "/", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "Content-Type", v, sizeof v), "text/html; charset=utf-8");
    assert_string_equal(r.body, "");
    reply_free(&r);
    expect_error("POST", "/", 405, "MethodNotAllowed");
    expect_error("DELETE", "/static/app.js", 405, "MethodNotAllowed");
}

static void test_static(void **state)
{
    (void)state;
    expect_file("/static/app.js", PAGE "/app.js", "text/javascript");
    expect_file("/static/style.css", PAGE "/style.css", "text/css");
    expect_file("/static/favicon.svg", PAGE "/favicon.svg", "image/svg+xml");
    reply r = http_request(port, "HEAD", "/static/app.js", NULL, NULL, 0);
    char v[200];
    assert_int_equal(r.status, 200);
    assert_true(strtoull(header(&r, "Content-Length", v, sizeof v), NULL, 10) > 100);
    assert_string_equal(r.body, "");
    reply_free(&r);
}

static void test_leaflet(void **state)
{
    (void)state;
    struct stat st;
    if (stat(PAGE "/"
                  "node_modules/leaflet/dist/leaflet.js",
             &st))
        fail_msg("Leaflet is not installed in " PAGE "/node_modules: the map page cannot work. Run `bash "
                 "scripts/deps.sh` (or `npm ci --prefix web/page`) before the tests");
    expect_file("/static/leaflet/leaflet.js", PAGE "/node_modules/leaflet/dist/leaflet.js", "text/javascript");
    expect_file("/static/leaflet/leaflet.css", PAGE "/node_modules/leaflet/dist/leaflet.css", "text/css");
    expect_file("/static/leaflet/images/marker-icon.png", PAGE "/node_modules/leaflet/dist/images/marker-icon.png",
                "image/png");
}

static void test_traversal(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "/static/../../etc/passwd",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
        "/static/..%2f..%2f..%2fetc%2fpasswd",
        "/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/static/leaflet/../../../../etc/passwd",
        "/static/leaflet/%2e%2e/%2e%2e/package.json",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/static/./app.js",
        "/static/.git/config",
        "/static/%252e%252e/%252e%252e/etc/passwd",
        "/static/..\\..\\etc\\passwd",
        "/static/app.js/",
        "/static/a%00b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        reply r = http_request(port, "GET", bad[i], NULL, NULL, 0);
        if (r.status < 400 || r.status > 499 || !r.json || !json_is_string(json_object_get(r.json, "message")))
            fail_msg("GET %s: status %d, expected a 4xx JSON error: %.300s", bad[i], r.status, r.raw ? r.raw : "");
        assert_null(strstr(r.raw, "root:"));
        reply_free(&r);
    }
    expect_error("GET", "/static/../../etc/passwd", 400, "InvalidUrl");
    expect_error("GET", "/static/%2e%2e/%2e%2e/etc/passwd", 400, "InvalidUrl");
    expect_error("GET", "/../etc/passwd", 404, "NotFound");
    /* node_modules is reached through /static/leaflet/ only */
    expect_error("GET", "/static/node_modules/leaflet/package.json", 404, "NotFound");
}

static void test_missing(void **state)
{
    (void)state;
    const char *m = expect_error("GET", "/static/no-such-file.js", 404, "NotFound");
    assert_non_null(strstr(m, "/static/no-such-file.js"));
    expect_error("GET", "/static/leaflet/no-such-file.js", 404, "NotFound");
    expect_error("GET", "/static/", 400, "InvalidUrl");
    expect_error("GET", "/index.html", 404, "NotFound");
    expect_head("/static/no-such-file.js", 404);
}

/* Without Leaflet (or without a page directory) the server starts, and GET / says what to run. */
static void test_not_installed(void **state)
{
    (void)state;
    mkdir(BARE, 0755);
    FILE *f = fopen(BARE "/index.html", "w");
    assert_non_null(f);
    fputs("<!doctype html><title>bare</title>\n", f);
    fclose(f);
    char why[700];
    assert_int_equal(cv_page_ready(BARE, why, sizeof why), 0);
    assert_non_null(strstr(why, "npm ci"));
    const char *dirs[] = {BARE, NULL, COVOIT_TMP "/http_page_none"};
    uint16_t keep = port;
    for (size_t i = 0; i < 3; i++) {
        cv_server *s = start(dirs[i], NULL);
        port = cv_server_port(s);
        const char *m = expect_error("GET", "/", 503, "Unavailable");
        if (i == 0 && !strstr(m, "npm ci"))
            fail_msg("GET / without Leaflet: the message does not say to run npm ci: %s", m);
        expect_head("/", 503);
        m = expect_error("GET", "/static/leaflet/leaflet.js", 404, "NotFound");
        if (i != 1 && !strstr(m, "npm ci"))
            fail_msg("GET /static/leaflet/leaflet.js without Leaflet: no hint to run npm ci: %s", m);
        expect_error("GET", "/static/../../etc/passwd", 400, "InvalidUrl");
        if (i == 0)
            expect_error("GET", "/static/index.html/x", 404, "NotFound");
        /* the API is unaffected */
        reply r = http_request(port, "GET", "/health", NULL, NULL, 0);
        assert_int_equal(r.status, 200);
        reply_free(&r);
        cv_server_stop(s);
    }
    port = keep;
    unlink(BARE "/index.html");
    rmdir(BARE);
}

/* In auth mode the page needs no key; the API calls it makes still do. */
static void test_auth_mode(void **state)
{
    (void)state;
    tst_db_remove(DB);
    cv_error err = {0};
    cv_store *st = NULL;
    char secret[CV_KEY_SECRET_MAX];
    if (cv_store_open(tst_db(DB), &st, &err) || cv_store_add_key(st, "A", CV_SCOPE_ALL, secret, NULL, &err))
        fail_msg("%s", err.text);
    cv_store_close(st);
    cv_matcher *m = NULL;
    cv_matcher_options mo = cv_matcher_defaults();
    if (cv_matcher_open(graph, tst_db(DB), &mo, (int64_t)time(NULL), &m, &err))
        fail_msg("%s", err.text);
    cv_server *s = start(PAGE, m);
    assert_true(cv_server_auth(s));
    uint16_t keep = port;
    port = cv_server_port(s);
    expect_file("/", PAGE "/index.html", "text/html");
    expect_file("/static/app.js", PAGE "/app.js", "text/javascript");
    expect_error("GET", "/static/nope.css", 404, "NotFound");
    expect_error("GET", "/route/v1/driving/7.4275,43.7396;7.4160,43.7290", 401, "Unauthorized");
    expect_error("POST", "/v1/search", 401, "Unauthorized");
    char h[200];
    snprintf(h, sizeof h, "X-API-Key: %s", secret);
    reply r = http_request(port, "GET", "/route/v1/driving/7.4275,43.7396;7.4160,43.7290?overview=false", h, NULL, 0);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    port = keep;
    cv_server_stop(s);
    cv_matcher_close(m);
    tst_db_remove(DB);
}

/* The page fits the map to the graph: /health carries its bounding box. */
static void test_health_bbox(void **state)
{
    (void)state;
    reply r = http_request(port, "GET", "/health", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    json_t *b = json_object_get(json_object_get(r.json, "graph"), "bbox");
    assert_true(json_is_array(b));
    assert_int_equal(json_array_size(b), 4);
    double v[4];
    for (size_t i = 0; i < 4; i++)
        v[i] = json_number_value(json_array_get(b, i));
    /* Monaco */
    assert_true(v[0] > 7.3 && v[0] < v[2] && v[2] < 7.6);
    assert_true(v[1] > 43.6 && v[1] < v[3] && v[3] < 43.8);
    reply_free(&r);
}

/* The page asks no other host for anything: without --tile-url no basemap (page.tiles null) and images from this
   server only; with one, the page is told the template and may load images from that origin alone. */
static void test_tile_server_setting(void **state)
{
    (void)state;
    char csp[400];
    reply r = http_request(port, "GET", "/health", NULL, NULL, 0);
    assert_true(json_is_null(json_object_get(json_object_get(r.json, "page"), "tiles")));
    reply_free(&r);
    r = http_request(port, "GET", "/", NULL, NULL, 0);
    assert_non_null(strstr(header(&r, "Content-Security-Policy", csp, sizeof csp), "img-src 'self' data: blob:;"));
    reply_free(&r);

    cv_server_options o = cv_server_defaults();
    o.port = 0;
    o.threads = 2;
    o.quiet = 1;
    o.page_dir = PAGE;
    o.tile_url = "http://127.0.0.1:8081/tiles/{z}/{x}/{y}.png";
    cv_error err = {0};
    cv_server *s = cv_server_start(graph, &o, &err);
    if (!s)
        fail_msg("%s", err.text);
    uint16_t p = cv_server_port(s);
    r = http_request(p, "GET", "/health", NULL, NULL, 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "page"), "tiles")), o.tile_url);
    reply_free(&r);
    r = http_request(p, "GET", "/", NULL, NULL, 0);
    header(&r, "Content-Security-Policy", csp, sizeof csp);
    assert_non_null(strstr(csp, "img-src 'self' data: blob: http://127.0.0.1:8081;"));
    assert_null(strstr(csp, "https:;"));
    reply_free(&r);
    cv_server_stop(s);
    /* and the page's script names no outside host to fetch from */
    FILE *f = fopen(PAGE "/app.js", "r");
    assert_non_null(f);
    char line[1024];
    while (fgets(line, sizeof line, f))
        if (strstr(line, "tile.openstreetmap") || strstr(line, "unpkg") || strstr(line, "{z}/{x}/{y}"))
            fail_msg("app.js names an outside tile or script host: %s", line);
    fclose(f);
}

/* A journey's link (the webUrl of /stdcov/v1) is the page itself: GET of its path and query answers index.html; the
   search the page runs from it (POST /v1/search from the link's from to its to at the exact instant at) finds the
   offer the link names, its pickup where the link says; and app.js reads the link's parameters and writes only to
   elements index.html has. */
static void test_journey_link(void **state)
{
    (void)state;
    static const char *const public_url = "https://carpool.example.org/map";
    tst_db_remove(DB);
    cv_error err = {0};
    cv_matcher *m = NULL;
    cv_matcher_options mo = cv_matcher_defaults();
    if (cv_matcher_open(graph, tst_db(DB), &mo, (int64_t)time(NULL), &m, &err))
        fail_msg("%s", err.text);
    cv_server_options o = cv_server_defaults();
    o.port = 0;
    o.threads = 2;
    o.quiet = 1;
    o.page_dir = PAGE;
    o.matcher = m;
    o.operator_name = "carpool.example.org";
    o.public_url = public_url;
    cv_server *s = cv_server_start(graph, &o, &err);
    if (!s)
        fail_msg("%s", err.text);
    uint16_t keep = port;
    port = cv_server_port(s);

    /* an offer from the casino to Fontvieille two days from now at 08:00 UTC, and its journey for a passenger
       picked up on its way five minutes later */
    long long depart = ((long long)time(NULL) / 86400 + 2) * 86400 + 8 * 3600;
    char when[32], body[400], path[600];
    time_t t = (time_t)depart;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:00Z", &tm);
    snprintf(body, sizeof body,
             "{\"from\":[7.4275,43.7396],\"to\":[7.4160,43.7290],\"depart\":\"%s\",\"margin_min\":30,\"seats\":3,"
             "\"owner\":\"d1\"}",
             when);
    reply r = http_request(port, "POST", "/v1/offers", NULL, body, strlen(body));
    assert_int_equal(r.status, 201);
    long long offer = json_integer_value(json_object_get(json_object_get(r.json, "offer"), "id"));
    reply_free(&r);
    snprintf(path, sizeof path,
             "/stdcov/v1/driver_journeys?departureLat=43.737427&departureLng=7.42377&arrivalLat=43.73438&"
             "arrivalLng=7.418047&departureDate=%lld&timeDelta=1800",
             depart + 300);
    r = http_request(port, "GET", path, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    json_t *j = json_array_get(r.json, 0);
    if (!j)
        fail_msg("GET %s: no journey: %s", path, r.raw);
    const char *url = json_string_value(json_object_get(j, "webUrl"));
    assert_non_null(url);
    assert_true(!strncmp(url, public_url, strlen(public_url)));
    char link[600], from[64], to[64], want[64];
    snprintf(link, sizeof link, "%s", url + strlen(public_url));
    long long at = 0;
    char id[64];
    if (sscanf(link, "/?journey=%63[^&]&from=%63[^&]&to=%63[^&]&at=%lld", id, from, to, &at) != 4)
        fail_msg("webUrl %s: not /?journey=ID&from=LON,LAT&to=LON,LAT&at=UNIX", url);
    snprintf(want, sizeof want, "offer-%lld-", offer);
    assert_true(!strncmp(id, want, strlen(want)));
    assert_int_equal(at, json_integer_value(json_object_get(j, "passengerPickupDate")));
    reply_free(&r);

    /* the link's path is the page */
    expect_file(link, PAGE "/index.html", "text/html; charset=utf-8");
    /* the page's search from the link: the named offer among the matches, picked up where the link says */
    gmtime_r(&(time_t){(time_t)at}, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(body, sizeof body, "{\"from\":[%s],\"to\":[%s],\"depart\":\"%s\",\"seats\":1}", from, to, when);
    r = http_request(port, "POST", "/v1/search?limit=20", NULL, body, strlen(body));
    assert_int_equal(r.status, 200);
    json_t *found = NULL, *list = json_object_get(r.json, "matches");
    for (size_t i = 0; i < json_array_size(list); i++)
        if (json_integer_value(json_object_get(json_array_get(list, i), "offer_id")) == offer)
            found = json_array_get(list, i);
    if (!found)
        fail_msg("POST /v1/search %s: offer %lld not among the matches: %s", body, offer, r.raw);
    json_t *loc = json_object_get(json_object_get(found, "pickup"), "location");
    char got[64];
    snprintf(got, sizeof got, "%.6f,%.6f", json_number_value(json_array_get(loc, 0)),
             json_number_value(json_array_get(loc, 1)));
    assert_string_equal(got, from);
    reply_free(&r);
    port = keep;
    cv_server_stop(s);
    cv_matcher_close(m);
    tst_db_remove(DB);

    /* app.js reads the link's four parameters, searches, and says when the journey is gone */
    size_t len = 0, hlen = 0;
    char *js = slurp(PAGE "/app.js", &len), *html = slurp(PAGE "/index.html", &hlen);
    assert_non_null(js);
    assert_non_null(html);
    static const char *const uses[] = {"URLSearchParams", "get('journey')", "get('from')",  "get('to')",
                                       "get('at')",       "/v1/search",     "t('link.gone'"};
    for (size_t i = 0; i < sizeof uses / sizeof *uses; i++)
        if (!strstr(js, uses[i]))
            fail_msg("app.js does not use %s: the map page cannot open a journey's link", uses[i]);
    /* every element app.js names ($('ID')) is in index.html: a missing one would throw when the page loads */
    size_t names = 0;
    for (const char *p = strstr(js, "$('"); p; p = strstr(p + 3, "$('")) {
        size_t n = strcspn(p + 3, "'");
        char want_id[80];
        snprintf(want_id, sizeof want_id, "id=\"%.*s\"", (int)(n < 60 ? n : 60), p + 3);
        if (!strstr(html, want_id))
            fail_msg("app.js names the element %s, which index.html does not have", want_id);
        names++;
    }
    assert_true(names >= 10);
    assert_non_null(strstr(html, "id=\"journey\""));
    free(js);
    free(html);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index),
        cmocka_unit_test(test_static),
        cmocka_unit_test(test_leaflet),
        cmocka_unit_test(test_traversal),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_not_installed),
        cmocka_unit_test(test_auth_mode),
        cmocka_unit_test(test_health_bbox),
        cmocka_unit_test(test_tile_server_setting),
        cmocka_unit_test(test_journey_link),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
