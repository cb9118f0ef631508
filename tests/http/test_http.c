/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_http.c — the real server on 127.0.0.1 port 0 over the Monaco graph, spoken to over TCP: OSRM routing
   endpoints against the router called directly, every error class, concurrent clients, stop with requests in
   flight (finished and answered; new ones 503), and broken or oversized requests written byte for byte (one
   status line, a JSON error, the connection closed; libmicrohttpd's own answers where it leaves no choice). */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "routing/ch.h"
#include "routing/graph_build.h"
#include "matcher/timeutil.h"
#include "osm/osm_network.h"
#include "web/server.h"
#include "test_support.h"

static cv_graph *graph;
static cv_server *server;
static uint16_t port;

/* Points in Monaco (lon, lat): near the casino, the port and Fontvieille; one at sea. */
#define CASINO "7.4275,43.7396"
#define PORT_HERCULE "7.4215,43.7350"
#define FONTVIEILLE "7.4160,43.7290"
#define AT_SEA "7.4700,43.7000"

/* Sends one request with an optional body (see http_client.h). */
static reply http_req(uint16_t p, const char *method, const char *path, const char *body, size_t body_len)
{
    return http_request(p, method, path, NULL, body, body_len);
}

static reply get(const char *path)
{
    return http_req(port, "GET", path, NULL, 0);
}

/* The "code" of an answer's JSON, "" when there is none. */
static const char *code_of(json_t *j)
{
    const char *c = json_string_value(json_object_get(j, "code"));
    return c ? c : "";
}

/* Asserts an error answer: status, code, and a message. */
static void expect_error(const char *method, const char *path, int status, const char *code)
{
    reply r = http_req(port, method, path, NULL, 0);
    if (r.status != status)
        fail_msg("%s %s: status %d, expected %d: %s", method, path, r.status, status, r.raw);
    assert_non_null(r.json);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), code);
    assert_true(json_is_string(json_object_get(r.json, "message")));
    assert_non_null(strstr(r.raw, "Content-Type: application/json; charset=utf-8"));
    reply_free(&r);
}

/* --- the router, called directly --- */

static cv_snap snap(const char *lonlat)
{
    cv_coord c;
    assert_int_equal(cv_parse_lonlat(lonlat, &c), 0);
    cv_snap s;
    cv_snap_options o = cv_snap_defaults();
    assert_int_equal(cv_snap_point(graph, c, &o, &s, NULL), 0);
    return s;
}

static cv_path direct_route(const char *a, const char *b)
{
    cv_ch_query *q = cv_ch_query_new(graph);
    assert_non_null(q);
    cv_snap s = snap(a), t = snap(b);
    cv_path p = {0};
    assert_int_equal(cv_ch_route(q, &s, &t, &p, NULL), 0);
    cv_ch_query_free(q);
    return p;
}

static double num(json_t *j)
{
    assert_true(json_is_number(j));
    return json_number_value(j);
}

static int near_deg(double a, double b)
{
    return fabs(a - b) < 2e-6;
}

/* The name tag of the street s was snapped onto, through the graph ("" when it has none). */
static const char *street_name(const cv_snap *s)
{
    return cv_graph_string(graph, cv_graph_edge_name(graph, s->edge)->name);
}

/* Asserts that waypoint wp is the snap of lonlat: its location and its street's name. */
static void expect_waypoint(json_t *wp, const char *lonlat)
{
    cv_snap s = snap(lonlat);
    json_t *loc = json_object_get(wp, "location");
    assert_true(near_deg(num(json_array_get(loc, 0)), cv_deg(s.location.lon)));
    assert_true(near_deg(num(json_array_get(loc, 1)), cv_deg(s.location.lat)));
    assert_true(json_is_string(json_object_get(wp, "name")));
    assert_string_equal(json_string_value(json_object_get(wp, "name")), street_name(&s));
}

/* --- set-up --- */

static cv_server *start(unsigned threads)
{
    cv_server_options o = cv_server_defaults();
    o.port = 0;
    o.threads = threads;
    o.quiet = 1;
    cv_error err = {0};
    cv_server *s = cv_server_start(graph, &o, &err);
    if (!s)
        fail_msg("%s", err.text);
    return s;
}

static int setup(void **state)
{
    (void)state;
    graph = tst_build_graph(COVOIT_TEST_DATA "/monaco.osm.pbf", "http_monaco.cvg");
    server = start(4);
    port = cv_server_port(server);
    return port ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    cv_server_stop(server);
    cv_graph_close(graph);
    return 0;
}

/* --- routes --- */

static void check_line_ends(const cv_coord *pts, long n, json_t *wps)
{
    assert_true(n >= 2);
    json_t *first = json_object_get(json_array_get(wps, 0), "location");
    json_t *last = json_object_get(json_array_get(wps, json_array_size(wps) - 1), "location");
    assert_true(fabs(cv_deg(pts[0].lon) - num(json_array_get(first, 0))) < 2e-5);
    assert_true(fabs(cv_deg(pts[0].lat) - num(json_array_get(first, 1))) < 2e-5);
    assert_true(fabs(cv_deg(pts[n - 1].lon) - num(json_array_get(last, 0))) < 2e-5);
    assert_true(fabs(cv_deg(pts[n - 1].lat) - num(json_array_get(last, 1))) < 2e-5);
}

static void test_route_polyline(void **state)
{
    (void)state;
    cv_path p = direct_route(CASINO, FONTVIEILLE);
    for (int precision = 5; precision <= 6; precision++) {
        reply r =
            get(precision == 5 ? "/route/v1/driving/" CASINO ";" FONTVIEILLE
                               : "/route/v1/driving/" CASINO ";" FONTVIEILLE "?geometries=polyline6&overview=full");
        assert_int_equal(r.status, 200);
        assert_non_null(r.json);
        assert_string_equal(json_string_value(json_object_get(r.json, "code")), "Ok");
        json_t *route = json_array_get(json_object_get(r.json, "routes"), 0);
        assert_true(fabs(num(json_object_get(route, "distance")) - p.distance_dm / 10.0) <= 0.1);
        assert_true(fabs(num(json_object_get(route, "duration")) - p.duration_ds / 10.0) <= 0.1);
        assert_int_equal(json_array_size(json_object_get(route, "legs")), 1);
        const char *geom = json_string_value(json_object_get(route, "geometry"));
        assert_non_null(geom);
        cv_coord pts[4096];
        long n = cv_polyline_decode(geom, precision, pts, 4096);
        json_t *wps = json_object_get(r.json, "waypoints");
        assert_int_equal(json_array_size(wps), 2);
        check_line_ends(pts, n, wps);
        /* The waypoints are the snapped points the router used. */
        json_t *loc = json_object_get(json_array_get(wps, 0), "location");
        assert_true(near_deg(num(json_array_get(loc, 0)), cv_deg(p.src.location.lon)));
        assert_true(near_deg(num(json_array_get(loc, 1)), cv_deg(p.src.location.lat)));
        reply_free(&r);
    }
    cv_path_free(&p);
}

static void test_route_geojson_and_overview(void **state)
{
    (void)state;
    reply r = get("/route/v1/driving/" CASINO ";" PORT_HERCULE "?geometries=geojson");
    assert_int_equal(r.status, 200);
    json_t *route = json_array_get(json_object_get(r.json, "routes"), 0);
    json_t *geom = json_object_get(route, "geometry");
    assert_string_equal(json_string_value(json_object_get(geom, "type")), "LineString");
    json_t *coords = json_object_get(geom, "coordinates");
    size_t n = json_array_size(coords);
    assert_true(n >= 2);
    cv_coord pts[2];
    for (size_t k = 0; k < 2; k++) {
        json_t *c = json_array_get(coords, k ? n - 1 : 0);
        pts[k].lon = cv_fixed(num(json_array_get(c, 0)));
        pts[k].lat = cv_fixed(num(json_array_get(c, 1)));
    }
    check_line_ends(pts, 2, json_object_get(r.json, "waypoints"));
    reply_free(&r);

    r = get("/route/v1/driving/" CASINO ";" PORT_HERCULE "?overview=false&alternatives=false&steps=false");
    assert_int_equal(r.status, 200);
    route = json_array_get(json_object_get(r.json, "routes"), 0);
    assert_null(json_object_get(route, "geometry"));
    assert_true(num(json_object_get(route, "distance")) > 0);
    reply_free(&r);
}

/* Without geometry or steps the server answers from the search alone, without unpacking the path: the figures
   must be those of the full answer, leg by leg, and a pair without a route must fail the same way. */
static void test_route_without_geometry_same_figures(void **state)
{
    (void)state;
    uint64_t seed = 77;
    int compared = 0;
    for (int i = 0; i < 120; i++) {
        char path[256], base[200];
        double c[6];
        for (int k = 0; k < 6; k++)
            c[k] = (k % 2 ? 43.727 : 7.410) + (double)(tst_rand(&seed) % 100000) / 100000.0 * (k % 2 ? 0.02 : 0.03);
        /* two or three waypoints */
        if (i % 3)
            snprintf(base, sizeof base, "/route/v1/driving/%.5f,%.5f;%.5f,%.5f", c[0], c[1], c[2], c[3]);
        else
            snprintf(base, sizeof base, "/route/v1/driving/%.5f,%.5f;%.5f,%.5f;%.5f,%.5f", c[0], c[1], c[2], c[3], c[4],
                     c[5]);
        snprintf(path, sizeof path, "%s?overview=full", base);
        reply full = get(path);
        snprintf(path, sizeof path, "%s?overview=false", base);
        reply bare = get(path);
        assert_int_equal(bare.status, full.status);
        assert_string_equal(json_string_value(json_object_get(bare.json, "code")),
                            json_string_value(json_object_get(full.json, "code")));
        if (full.status == 200) {
            json_t *rf = json_array_get(json_object_get(full.json, "routes"), 0);
            json_t *rb = json_array_get(json_object_get(bare.json, "routes"), 0);
            assert_null(json_object_get(rb, "geometry"));
            static const char *const keys[] = {"distance", "duration", "weight"};
            for (int k = 0; k < 3; k++) {
                assert_true(num(json_object_get(rf, keys[k])) == num(json_object_get(rb, keys[k])));
                for (size_t l = 0; l < json_array_size(json_object_get(rf, "legs")); l++)
                    assert_true(num(json_object_get(json_array_get(json_object_get(rf, "legs"), l), keys[k])) ==
                                num(json_object_get(json_array_get(json_object_get(rb, "legs"), l), keys[k])));
            }
            compared++;
        }
        reply_free(&full);
        reply_free(&bare);
    }
    print_message("%d routes compared\n", compared);
    assert_true(compared >= 40);
}

/* --- annotations --- */

/* The number of points of the full geometry of the route from a to b ("lon,lat"), from the router itself. */
static size_t leg_points(cv_ch_query *q, const char *a, const char *b)
{
    cv_snap s = snap(a), t = snap(b);
    cv_path p = {0};
    assert_int_equal(cv_ch_route(q, &s, &t, &p, NULL), 0);
    cv_coord *pts = NULL;
    size_t n = 0;
    assert_int_equal(cv_path_geometry(graph, &p, &pts, &n), 0);
    free(pts);
    cv_path_free(&p);
    return n;
}

/* Checks the annotation of leg (every kind, as annotations=true gives): one value per step of its geometry
   (npoints - 1 of them), sums within 0.1 of the leg's figures, speeds, data sources, metadata. */
static void check_annotation(json_t *leg, size_t npoints)
{
    json_t *a = json_object_get(leg, "annotation");
    assert_true(json_is_object(a));
    assert_int_equal(json_object_size(a), 6);
    json_t *dist = json_object_get(a, "distance"), *dur = json_object_get(a, "duration");
    json_t *w = json_object_get(a, "weight"), *speed = json_object_get(a, "speed");
    json_t *ds = json_object_get(a, "datasources");
    size_t n = npoints - 1;
    assert_int_equal(json_array_size(dist), n);
    assert_int_equal(json_array_size(dur), n);
    assert_int_equal(json_array_size(w), n);
    assert_int_equal(json_array_size(speed), n);
    assert_int_equal(json_array_size(ds), n);
    double sd = 0, st = 0, sw = 0, prev_speed = 0;
    for (size_t k = 0; k < n; k++) {
        double d = num(json_array_get(dist, k)), t = num(json_array_get(dur, k)), wk = num(json_array_get(w, k));
        assert_true(d >= 0 && t >= 0 && wk >= t - 1e-9);
        /* OSRM's speed: distance / duration to 0.1, the previous one where the duration is 0 */
        double v = t > 0 ? round(d / t * 10.0) / 10.0 : prev_speed;
        if (num(json_array_get(speed, k)) != v)
            fail_msg("speed %zu: %g for %g m in %g s", k, num(json_array_get(speed, k)), d, t);
        prev_speed = v;
        assert_true(json_is_integer(json_array_get(ds, k)));
        assert_int_equal(json_integer_value(json_array_get(ds, k)), 0);
        sd += d, st += t, sw += wk;
    }
    static const char *const keys[] = {"distance", "duration", "weight"};
    const double sums[] = {sd, st, sw};
    for (int k = 0; k < 3; k++)
        if (fabs(sums[k] - num(json_object_get(leg, keys[k]))) > 0.1 + 1e-6)
            fail_msg("annotation %s adds up to %.3f, the leg's is %.1f", keys[k], sums[k],
                     num(json_object_get(leg, keys[k])));
    json_t *names = json_object_get(json_object_get(a, "metadata"), "datasource_names");
    assert_int_equal(json_array_size(names), 1);
    assert_string_equal(json_string_value(json_array_get(names, 0)), "lua profile");
}

/* annotations=true on random routes of two and three points: per leg, one value per step of the leg's full
   geometry, figures that add up to the leg's; the route's geometry holds the legs' points end to end. */
static void test_route_annotations(void **state)
{
    (void)state;
    cv_ch_query *q = cv_ch_query_new(graph);
    assert_non_null(q);
    uint64_t seed = 4242;
    int checked = 0, penalised = 0;
    for (int i = 0; i < 120; i++) {
        char pt[3][40], path[256];
        int np = i % 3 ? 2 : 3;
        for (int k = 0; k < np; k++)
            snprintf(pt[k], sizeof pt[k], "%.5f,%.5f", 7.410 + (double)(tst_rand(&seed) % 100000) / 100000.0 * 0.03,
                     43.727 + (double)(tst_rand(&seed) % 100000) / 100000.0 * 0.02);
        snprintf(path, sizeof path, "/route/v1/driving/%s;%s%s%s?annotations=true&geometries=geojson", pt[0], pt[1],
                 np == 3 ? ";" : "", np == 3 ? pt[2] : "");
        reply r = get(path);
        if (r.status != 200) {
            reply_free(&r);
            continue;
        }
        json_t *route = json_array_get(json_object_get(r.json, "routes"), 0), *legs = json_object_get(route, "legs");
        assert_int_equal(json_array_size(legs), (size_t)np - 1);
        size_t total = 1;
        for (int l = 0; l + 1 < np; l++) {
            json_t *leg = json_array_get(legs, (size_t)l);
            size_t n = leg_points(q, pt[l], pt[l + 1]);
            check_annotation(leg, n);
            total += n - 1;
            penalised += num(json_object_get(leg, "weight")) > num(json_object_get(leg, "duration")) + 0.05;
        }
        size_t ncoords = json_array_size(json_object_get(json_object_get(route, "geometry"), "coordinates"));
        assert_int_equal(ncoords, total > 1 ? total : 2);
        checked++;
        reply_free(&r);
    }
    print_message("%d routes annotated, %d legs with a no-through penalty\n", checked, penalised);
    assert_true(checked >= 40);

    /* two legs: an annotation each, whatever overview says */
    reply r = get("/route/v1/driving/" CASINO ";" PORT_HERCULE ";" FONTVIEILLE "?annotations=true&overview=false");
    assert_int_equal(r.status, 200);
    json_t *legs = json_object_get(json_array_get(json_object_get(r.json, "routes"), 0), "legs");
    assert_int_equal(json_array_size(legs), 2);
    check_annotation(json_array_get(legs, 0), leg_points(q, CASINO, PORT_HERCULE));
    check_annotation(json_array_get(legs, 1), leg_points(q, PORT_HERCULE, FONTVIEILLE));
    json_t *full = json_object_get(json_array_get(legs, 0), "annotation");

    /* a list: only the kinds asked for, the same values */
    reply two = get("/route/v1/driving/" CASINO ";" PORT_HERCULE ";" FONTVIEILLE "?annotations=duration,distance");
    assert_int_equal(two.status, 200);
    json_t *a = json_object_get(
        json_array_get(json_object_get(json_array_get(json_object_get(two.json, "routes"), 0), "legs"), 0),
        "annotation");
    assert_int_equal(json_object_size(a), 2);
    assert_true(json_equal(json_object_get(a, "duration"), json_object_get(full, "duration")));
    assert_true(json_equal(json_object_get(a, "distance"), json_object_get(full, "distance")));
    reply_free(&two);
    reply_free(&r);

    /* false, or absent: no annotation */
    static const char *const without[] = {"", "?annotations=false", "?annotations=false&steps=true&overview=false"};
    for (int k = 0; k < 3; k++) {
        char path[200];
        snprintf(path, sizeof path, "/route/v1/driving/" CASINO ";" PORT_HERCULE "%s", without[k]);
        r = get(path);
        assert_int_equal(r.status, 200);
        json_t *leg = json_array_get(json_object_get(json_array_get(json_object_get(r.json, "routes"), 0), "legs"), 0);
        assert_non_null(leg);
        assert_null(json_object_get(leg, "annotation"));
        reply_free(&r);
    }

    /* nodes (OSM ids, not in the graph file) and unknown kinds are refused */
    static const char *const bad[] = {"nodes", "speedy", "distance,nodes", "", "distance,", "true,speed", "TRUE"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char path[200];
        snprintf(path, sizeof path, "/route/v1/driving/" CASINO ";" PORT_HERCULE "?annotations=%s", bad[k]);
        expect_error("GET", path, 400, "InvalidValue");
    }
    r = get("/route/v1/driving/" CASINO ";" PORT_HERCULE "?annotations=nodes");
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "message")), "OSM node ids"));
    reply_free(&r);
    cv_ch_query_free(q);
}

/* A server answering from hub labels gives the figures of the one answering from CH searches: the same weight,
   duration and distance for random routes, and the same tables; its log line says hub_labels=on. */
static void test_hub_labels_same_answers(void **state)
{
    (void)state;
    cv_hub_labels *hl;
    cv_error err = {0};
    assert_int_equal(cv_hub_labels_build(graph, 2, 0, NULL, &hl, &err), 0);
    cv_server_options o = cv_server_defaults();
    o.port = 0;
    o.threads = 2;
    o.quiet = 1;
    o.labels = hl;
    cv_server *ls = cv_server_start(graph, &o, &err);
    if (!ls)
        fail_msg("%s", err.text);
    uint16_t lport = cv_server_port(ls);
    uint64_t seed = 991;
    int compared = 0;
    char table[4096] = "/table/v1/driving/";
    for (int i = 0; i < 100; i++) {
        char path[256];
        double c[4];
        for (int k = 0; k < 4; k++)
            c[k] = (k % 2 ? 43.727 : 7.410) + (double)(tst_rand(&seed) % 100000) / 100000.0 * (k % 2 ? 0.02 : 0.03);
        snprintf(path, sizeof path, "/route/v1/driving/%.5f,%.5f;%.5f,%.5f?overview=full", c[0], c[1], c[2], c[3]);
        reply a = get(path), b = http_req(lport, "GET", path, NULL, 0);
        assert_int_equal(a.status, b.status);
        if (a.status == 200) {
            json_t *ra = json_array_get(json_object_get(a.json, "routes"), 0);
            json_t *rb = json_array_get(json_object_get(b.json, "routes"), 0);
            static const char *const keys[] = {"distance", "duration", "weight"};
            for (int k = 0; k < 3; k++)
                if (num(json_object_get(ra, keys[k])) != num(json_object_get(rb, keys[k])))
                    fail_msg("%s: %s %.1f from CH, %.1f from labels", path, keys[k], num(json_object_get(ra, keys[k])),
                             num(json_object_get(rb, keys[k])));
            cv_coord pts[8192];
            long n = cv_polyline_decode(json_string_value(json_object_get(rb, "geometry")), 5, pts, 8192);
            check_line_ends(pts, n, json_object_get(b.json, "waypoints"));
            /* points that snap make the table */
            if (compared < 30)
                snprintf(table + strlen(table), sizeof table - strlen(table), "%s%.5f,%.5f", compared ? ";" : "", c[0],
                         c[1]);
            compared++;
        }
        reply_free(&a);
        reply_free(&b);
    }
    assert_true(compared >= 60);
    strcat(table, "?annotations=duration,distance");
    reply a = get(table), b = http_req(lport, "GET", table, NULL, 0);
    assert_int_equal(a.status, 200);
    assert_int_equal(b.status, 200);
    assert_true(json_equal(json_object_get(a.json, "durations"), json_object_get(b.json, "durations")));
    assert_true(json_equal(json_object_get(a.json, "distances"), json_object_get(b.json, "distances")));
    assert_int_equal(json_array_size(json_object_get(b.json, "durations")), 30);
    reply_free(&a);
    reply_free(&b);
    cv_server_stop(ls);
    cv_hub_labels_free(hl);
}

static void test_route_legs(void **state)
{
    (void)state;
    reply r = get("/route/v1/driving/" CASINO ";" PORT_HERCULE ";" FONTVIEILLE);
    assert_int_equal(r.status, 200);
    json_t *route = json_array_get(json_object_get(r.json, "routes"), 0);
    json_t *legs = json_object_get(route, "legs");
    assert_int_equal(json_array_size(legs), 2);
    double d0 = num(json_object_get(json_array_get(legs, 0), "distance"));
    double d1 = num(json_object_get(json_array_get(legs, 1), "distance"));
    assert_true(fabs(d0 + d1 - num(json_object_get(route, "distance"))) < 0.01);
    cv_path a = direct_route(CASINO, PORT_HERCULE), b = direct_route(PORT_HERCULE, FONTVIEILLE);
    assert_true(fabs(d0 - a.distance_dm / 10.0) <= 0.1);
    assert_true(fabs(d1 - b.distance_dm / 10.0) <= 0.1);
    assert_int_equal(json_array_size(json_object_get(r.json, "waypoints")), 3);
    cv_coord pts[8192];
    long n = cv_polyline_decode(json_string_value(json_object_get(route, "geometry")), 5, pts, 8192);
    check_line_ends(pts, n, json_object_get(r.json, "waypoints"));
    cv_path_free(&a), cv_path_free(&b);
    reply_free(&r);
}

static void test_table(void **state)
{
    (void)state;
    const char *pts[3] = {CASINO, PORT_HERCULE, FONTVIEILLE};
    reply r = get("/table/v1/driving/" CASINO ";" PORT_HERCULE ";" FONTVIEILLE "?annotations=duration,distance");
    assert_int_equal(r.status, 200);
    json_t *durs = json_object_get(r.json, "durations"), *dists = json_object_get(r.json, "distances");
    assert_int_equal(json_array_size(durs), 3);
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++) {
            cv_path p = direct_route(pts[i], pts[j]);
            assert_true(fabs(num(json_array_get(json_array_get(durs, i), j)) - p.duration_ds / 10.0) <= 0.1);
            assert_true(fabs(num(json_array_get(json_array_get(dists, i), j)) - p.distance_dm / 10.0) <= 0.1);
            cv_path_free(&p);
        }
    assert_int_equal(json_array_size(json_object_get(r.json, "sources")), 3);
    reply_free(&r);

    /* sources and destinations pick rows and columns; the default annotation is duration only. */
    r = get("/table/v1/driving/" CASINO ";" PORT_HERCULE ";" FONTVIEILLE "?sources=2&destinations=0;1");
    assert_int_equal(r.status, 200);
    durs = json_object_get(r.json, "durations");
    assert_int_equal(json_array_size(durs), 1);
    assert_int_equal(json_array_size(json_array_get(durs, 0)), 2);
    assert_null(json_object_get(r.json, "distances"));
    cv_path p = direct_route(FONTVIEILLE, PORT_HERCULE);
    assert_true(fabs(num(json_array_get(json_array_get(durs, 0), 1)) - p.duration_ds / 10.0) <= 0.1);
    cv_path_free(&p);
    assert_int_equal(json_array_size(json_object_get(r.json, "destinations")), 2);
    reply_free(&r);
}

static void test_nearest_and_health(void **state)
{
    (void)state;
    reply r = get("/nearest/v1/driving/" CASINO);
    assert_int_equal(r.status, 200);
    json_t *wp = json_array_get(json_object_get(r.json, "waypoints"), 0);
    cv_snap s = snap(CASINO);
    json_t *loc = json_object_get(wp, "location");
    assert_true(near_deg(num(json_array_get(loc, 0)), cv_deg(s.location.lon)));
    assert_true(near_deg(num(json_array_get(loc, 1)), cv_deg(s.location.lat)));
    assert_true(fabs(num(json_object_get(wp, "distance")) - s.distance_m) < 1e-3);
    assert_string_equal(json_string_value(json_object_get(wp, "name")), "Place du Casino");
    reply_free(&r);

    r = get("/health");
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "ready");
    assert_string_equal(json_string_value(json_object_get(r.json, "time_zone")), cv_tz_name());
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r.json, "graph"), "nodes")), graph->hdr.nnodes);
    reply_free(&r);
}

/* Waypoints carry the name of the street they were snapped onto, in routes, tables and nearest. */
static void test_waypoint_names(void **state)
{
    (void)state;
    /* known names in the centre of Monaco, and an unnamed road at the port */
    cv_snap casino = snap(CASINO), fontvieille = snap(FONTVIEILLE), port_hercule = snap(PORT_HERCULE);
    assert_string_equal(street_name(&casino), "Place du Casino");
    assert_string_equal(street_name(&fontvieille), "Avenue Albert II");
    assert_string_equal(street_name(&port_hercule), "");

    const char *pts[3] = {CASINO, PORT_HERCULE, FONTVIEILLE};
    reply r = get("/route/v1/driving/" CASINO ";" PORT_HERCULE ";" FONTVIEILLE "?overview=false");
    assert_int_equal(r.status, 200);
    json_t *wps = json_object_get(r.json, "waypoints");
    assert_int_equal(json_array_size(wps), 3);
    for (size_t i = 0; i < 3; i++)
        expect_waypoint(json_array_get(wps, i), pts[i]);
    assert_string_equal(json_string_value(json_object_get(json_array_get(wps, 0), "name")), "Place du Casino");
    reply_free(&r);

    /* sources and destinations are named after their own points, not after their position in the list */
    r = get("/table/v1/driving/" CASINO ";" PORT_HERCULE ";" FONTVIEILLE "?sources=2;0&destinations=1;2");
    assert_int_equal(r.status, 200);
    json_t *src = json_object_get(r.json, "sources"), *dst = json_object_get(r.json, "destinations");
    assert_int_equal(json_array_size(src), 2);
    assert_int_equal(json_array_size(dst), 2);
    expect_waypoint(json_array_get(src, 0), FONTVIEILLE);
    expect_waypoint(json_array_get(src, 1), CASINO);
    expect_waypoint(json_array_get(dst, 0), PORT_HERCULE);
    expect_waypoint(json_array_get(dst, 1), FONTVIEILLE);
    assert_string_equal(json_string_value(json_object_get(json_array_get(src, 0), "name")), "Avenue Albert II");
    reply_free(&r);

    for (size_t i = 0; i < 3; i++) {
        char path[128];
        snprintf(path, sizeof path, "/nearest/v1/driving/%s", pts[i]);
        r = get(path);
        assert_int_equal(r.status, 200);
        expect_waypoint(json_array_get(json_object_get(r.json, "waypoints"), 0), pts[i]);
        reply_free(&r);
    }

    /* random points: every name is the snapped edge's, and some of them are not empty */
    uint64_t seed = 4242;
    int named = 0, checked = 0;
    for (int i = 0; i < 60; i++) {
        char lonlat[64], path[128];
        snprintf(lonlat, sizeof lonlat, "%.5f,%.5f", 7.410 + (double)(tst_rand(&seed) % 100000) / 100000.0 * 0.03,
                 43.727 + (double)(tst_rand(&seed) % 100000) / 100000.0 * 0.02);
        snprintf(path, sizeof path, "/nearest/v1/driving/%s", lonlat);
        r = get(path);
        if (r.status == 200) {
            json_t *wp = json_array_get(json_object_get(r.json, "waypoints"), 0);
            expect_waypoint(wp, lonlat);
            named += *json_string_value(json_object_get(wp, "name")) != '\0';
            checked++;
        }
        reply_free(&r);
    }
    print_message("%d of %d snapped points on a named street\n", named, checked);
    assert_true(checked >= 20);
    assert_true(named >= checked / 4);
}

/* The snap of lonlat with any road allowed, within limit metres; 0 or CV_ENOSEGMENT. */
static int snap_any(const char *lonlat, double limit, cv_snap *s)
{
    cv_coord c;
    assert_int_equal(cv_parse_lonlat(lonlat, &c), 0);
    cv_snap_options o = cv_snap_defaults();
    o.max_distance_m = limit;
    o.any_component = 1;
    return cv_snap_point(graph, c, &o, s, NULL);
}

/* GETs path and asserts a 200 whose waypoint k is at distance d (m) from its coordinate. */
static void expect_snapped(const char *path, const char *key, size_t k, double d)
{
    reply r = get(path);
    if (r.status != 200)
        fail_msg("%s: status %d: %s", path, r.status, r.raw);
    double got = num(json_object_get(json_array_get(json_object_get(r.json, key), k), "distance"));
    if (fabs(got - d) > 1e-3)
        fail_msg("%s: waypoint %zu at %.3f m, expected %.3f", path, k, got, d);
    reply_free(&r);
}

/* radiuses: one snapping limit per coordinate, in metres or `unlimited`, empty for the default (300 m). */
static void test_radiuses(void **state)
{
    (void)state;
    /* a point X m from the nearest road of any kind, X measured; that road is of the main network, so a radius
       below X cannot fall back on a nearer island road */
    const char *pt = "7.4165,43.7310";
    cv_snap s = snap(pt), any;
    assert_int_equal(snap_any(pt, 0, &any), 0);
    double x = s.distance_m;
    assert_true(fabs(any.distance_m - x) < 1e-9);
    assert_true(x > 5 && x < 200);
    double above = x + 1, below = x - 1;
    char path[512];

    snprintf(path, sizeof path, "/route/v1/driving/%s;" CASINO "?overview=false&radiuses=%.2f;", pt, above);
    expect_snapped(path, "waypoints", 0, x);
    snprintf(path, sizeof path, "/route/v1/driving/%s;" CASINO "?overview=false&radiuses=%.2f;", pt, below);
    expect_error("GET", path, 400, "NoSegment");
    /* the radius is the coordinate's own: the same limit on the other point changes nothing */
    snprintf(path, sizeof path, "/route/v1/driving/" CASINO ";%s?overview=false&radiuses=%.2f;", pt, below);
    assert_true(snap(CASINO).distance_m < below);
    expect_snapped(path, "waypoints", 1, x);
    snprintf(path, sizeof path, "/route/v1/driving/%s;" CASINO "?overview=false&radiuses=;%.2f", pt, below);
    expect_snapped(path, "waypoints", 0, x);
    snprintf(path, sizeof path, "/table/v1/driving/" CASINO ";%s?radiuses=;%.2f", pt, above);
    expect_snapped(path, "sources", 1, x);
    snprintf(path, sizeof path, "/table/v1/driving/" CASINO ";%s?radiuses=;%.2f", pt, below);
    expect_error("GET", path, 400, "NoSegment");
    snprintf(path, sizeof path, "/nearest/v1/driving/%s?radiuses=%.2f", pt, above);
    expect_snapped(path, "waypoints", 0, x);
    snprintf(path, sizeof path, "/nearest/v1/driving/%s?radiuses=%.2f", pt, below);
    expect_error("GET", path, 400, "NoSegment");

    /* the message names the coordinate and the radius */
    snprintf(path, sizeof path, "/route/v1/driving/" CASINO ";%s?radiuses=;%.2f", pt, below);
    reply r = get(path);
    assert_int_equal(r.status, 400);
    char want[64];
    snprintf(want, sizeof want, "coordinate 1: no road within %g m", atof(strrchr(path, ';') + 1));
    if (!strstr(json_string_value(json_object_get(r.json, "message")), want))
        fail_msg("%s: message %s, expected %s", path, r.body, want);
    reply_free(&r);

    /* empty elements are the default, 300 m: the sea point is farther, the others nearer */
    cv_snap sea;
    assert_int_equal(snap_any(AT_SEA, 1e4, &sea), 0);
    assert_true(sea.distance_m > 300);
    expect_snapped("/route/v1/driving/" CASINO ";" FONTVIEILLE "?overview=false&radiuses=;", "waypoints", 1,
                   snap(FONTVIEILLE).distance_m);
    expect_error("GET", "/nearest/v1/driving/" AT_SEA "?radiuses=", 400, "NoSegment");
    expect_error("GET", "/table/v1/driving/" CASINO ";" AT_SEA "?radiuses=unlimited;", 400, "NoSegment");

    /* unlimited reaches the road the snapper finds within its cap, 10 km */
    expect_snapped("/nearest/v1/driving/" AT_SEA "?radiuses=unlimited", "waypoints", 0, sea.distance_m);
    expect_snapped("/route/v1/driving/" CASINO ";" AT_SEA "?overview=false&radiuses=;unlimited", "waypoints", 1,
                   sea.distance_m);
    expect_snapped("/table/v1/driving/" AT_SEA ";" CASINO "?radiuses=unlimited;unlimited", "destinations", 0,
                   sea.distance_m);
    snprintf(path, sizeof path, "/nearest/v1/driving/" AT_SEA "?radiuses=%.1f", sea.distance_m + 1);
    expect_snapped(path, "waypoints", 0, sea.distance_m);
    snprintf(path, sizeof path, "/nearest/v1/driving/" AT_SEA "?radiuses=%.1f", sea.distance_m - 1);
    expect_error("GET", path, 400, "NoSegment");
    /* beyond the cap, unlimited and larger radii give NoSegment instead of a search of the whole map */
    cv_snap far;
    assert_int_equal(snap_any("7.6500,43.6000", 1e4, &far), CV_ENOSEGMENT);
    expect_error("GET", "/nearest/v1/driving/7.6500,43.6000?radiuses=unlimited", 400, "NoSegment");
    expect_error("GET", "/nearest/v1/driving/7.6500,43.6000?radiuses=1e300", 400, "NoSegment");

    /* a radius of 0 keeps a point on the road itself: a point of the road's geometry snaps at distance 0 */
    cv_coord on = graph->a.points[s.point];
    snprintf(path, sizeof path, "/nearest/v1/driving/%.7f,%.7f?radiuses=0", cv_deg(on.lon), cv_deg(on.lat));
    expect_snapped(path, "waypoints", 0, 0);
    snprintf(path, sizeof path, "/nearest/v1/driving/%s?radiuses=0", pt);
    expect_error("GET", path, 400, "NoSegment");

    /* one value per coordinate, else InvalidOptions */
    expect_error("GET", "/route/v1/driving/" CASINO ";" FONTVIEILLE "?radiuses=100", 400, "InvalidOptions");
    expect_error("GET", "/route/v1/driving/" CASINO ";" FONTVIEILLE "?radiuses=100;100;100", 400, "InvalidOptions");
    expect_error("GET", "/route/v1/driving/" CASINO ";" FONTVIEILLE "?radiuses=", 400, "InvalidOptions");
    expect_error("GET", "/table/v1/driving/" CASINO ";" FONTVIEILLE ";" PORT_HERCULE "?radiuses=;", 400,
                 "InvalidOptions");
    expect_error("GET", "/nearest/v1/driving/" CASINO "?radiuses=5;5", 400, "InvalidOptions");
    r = get("/route/v1/driving/" CASINO ";" FONTVIEILLE "?radiuses=1;2;3");
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "message")), "3 values for 2 coordinates"));
    reply_free(&r);

    /* a value that is not metres >= 0 nor unlimited: InvalidValue, whatever the count */
    static const char *const bad[] = {"abc;5",  "-3",     "-3;5", "5;-0", "nan;5",       "inf;5", "1e999;5", "0x10;5",
                                      "%201;5", "1%20;5", "+1;5", "1m;5", "Unlimited;5", "5;%FF", "1..2;5",  "1e;5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(path, sizeof path, "/route/v1/driving/" CASINO ";" FONTVIEILLE "?radiuses=%s", bad[i]);
        expect_error("GET", path, 400, "InvalidValue");
    }
    expect_error("GET", "/table/v1/driving/" CASINO ";" FONTVIEILLE "?radiuses=5;x", 400, "InvalidValue");
    expect_error("GET", "/nearest/v1/driving/" CASINO "?radiuses=-1", 400, "InvalidValue");
    r = get("/route/v1/driving/" CASINO ";" FONTVIEILLE "?radiuses=abc;5");
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "message")), "radiuses: value 0 ('abc')"));
    reply_free(&r);

    /* decimal forms that are radii */
    expect_snapped("/route/v1/driving/" CASINO ";" FONTVIEILLE "?overview=false&radiuses=.5e3;300.", "waypoints", 1,
                   snap(FONTVIEILLE).distance_m);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("GET", "/nope", 404, "NotFound");
    expect_error("GET", "/route/v2/driving/" CASINO ";" PORT_HERCULE, 404, "NotFound");
    expect_error("POST", "/route/v1/driving/" CASINO ";" PORT_HERCULE, 405, "MethodNotAllowed");
    expect_error("DELETE", "/health", 405, "MethodNotAllowed");
    expect_error("GET", "/route/v1/driving/abc;" CASINO, 400, "InvalidUrl");
    expect_error("GET", "/route/v1/driving/" CASINO ";;" CASINO, 400, "InvalidUrl");
    expect_error("GET", "/route/v1/driving/", 400, "InvalidUrl");
    expect_error("GET", "/route/v1/bicycle/" CASINO ";" PORT_HERCULE, 400, "InvalidUrl");
    expect_error("GET", "/route/v1/driving/43.7396,95.0;" CASINO, 400, "InvalidValue");
    expect_error("GET", "/route/v1/driving/" CASINO, 400, "InvalidValue");
    expect_error("GET", "/route/v1/driving/" AT_SEA ";" CASINO, 400, "NoSegment");
    expect_error("GET", "/route/v1/driving/43.7396,7.4275;" CASINO, 400, "NoSegment"); /* swapped lat/lon */
    expect_error("GET", "/route/v1/driving/" CASINO ";" PORT_HERCULE "?geometries=wkt", 400, "InvalidValue");
    expect_error("GET", "/route/v1/driving/" CASINO ";" PORT_HERCULE "?overview=some", 400, "InvalidValue");
    expect_error("GET", "/route/v1/driving/" CASINO ";" PORT_HERCULE "?colour=red", 400, "InvalidQuery");
    expect_error("GET", "/table/v1/driving/" CASINO ";" PORT_HERCULE "?sources=0;5", 400, "InvalidValue");
    expect_error("GET", "/table/v1/driving/" CASINO ";" PORT_HERCULE "?sources=x", 400, "InvalidQuery");
    expect_error("GET", "/table/v1/driving/" CASINO ";" PORT_HERCULE "?annotations=speed", 400, "InvalidValue");
    expect_error("GET", "/nearest/v1/driving/" CASINO ";" PORT_HERCULE, 400, "TooBig");
    expect_error("GET", "/nearest/v1/driving/" AT_SEA, 400, "NoSegment");
    /* values that are not UTF-8, or whose quote in the message would cut a character in two: still a 400 with a
       JSON message (jansson refuses strings that are not UTF-8, which gave a 500) */
    expect_error("GET", "/route/v1/driving/" CASINO ";" PORT_HERCULE "?steps=%FF", 400, "InvalidValue");
    expect_error("GET", "/route/v1/driving/" CASINO ";" PORT_HERCULE "?colour%C3=1", 400, "InvalidQuery");
    {
        char q[1024] = "/route/v1/driving/" CASINO ";" PORT_HERCULE "?geometries=x";
        for (int i = 0; i < 60; i++)
            strcat(q, "%C3%A9"); /* 'x' then 60 times e-acute: the quote stops after 59 bytes, inside a character */
        expect_error("GET", q, 400, "InvalidValue");
        reply r = get(q);
        const char *m = json_string_value(json_object_get(r.json, "message"));
        assert_non_null(m);
        assert_non_null(strstr(m, "geometries='x\xc3\xa9"));
        assert_non_null(strstr(m, "\xc3\xa9?': must be one of")); /* the cut character is a '?' */
        reply_free(&r);
    }

    /* Too many coordinates: 101 for a route, 1001 for a table. */
    size_t cap = 1001 * 16 + 64;
    char *path = malloc(cap);
    for (int k = 0; k < 2; k++) {
        int n = k ? 1001 : 101;
        size_t len = (size_t)snprintf(path, cap, k ? "/table/v1/driving/" : "/route/v1/driving/");
        for (int i = 0; i < n; i++)
            len += (size_t)snprintf(path + len, cap - len, "%s%s", i ? ";" : "", CASINO);
        reply r = http_req(port, "GET", path, NULL, 0);
        if (r.status == 400) {
            assert_string_equal(json_string_value(json_object_get(r.json, "code")), "TooBig");
        } else {
            /* A 1001-point URL is 16 KB; libmicrohttpd may refuse it as too long itself (414). */
            assert_true(k == 1 && r.status == 414);
        }
        reply_free(&r);
    }
    free(path);

    /* An oversized body: 413 TooBig, and the server keeps serving. */
    size_t big = 100 * 1024;
    char *body = calloc(1, big);
    memset(body, 'x', big);
    reply r = http_req(port, "POST", "/route/v1/driving/" CASINO ";" PORT_HERCULE, body, big);
    assert_int_equal(r.status, 413);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), "TooBig");
    reply_free(&r);
    free(body);
    r = get("/health");
    assert_int_equal(r.status, 200);
    reply_free(&r);
}

/* --- concurrency --- */

typedef struct client_arg {
    uint16_t port;
    int requests; /* 0: until stop is set */
    atomic_int *stop;
    int ok, failed, incomplete, refused;
    double expect_distance;
} client_arg;

static void *client(void *p)
{
    client_arg *a = p;
    for (int i = 0; a->requests ? i < a->requests : !atomic_load(a->stop); i++) {
        reply r = http_req(a->port, "GET",
                           i % 2 ? "/route/v1/driving/" CASINO ";" FONTVIEILLE "?overview=false"
                                 : "/table/v1/driving/" CASINO ";" PORT_HERCULE ";" FONTVIEILLE,
                           NULL, 0);
        if (r.status == 200 && r.json) {
            json_t *route = json_array_get(json_object_get(r.json, "routes"), 0);
            if (i % 2 && fabs(json_number_value(json_object_get(route, "distance")) - a->expect_distance) > 0.1)
                a->failed++;
            else
                a->ok++;
        } else if (r.status == 503 && !strcmp(code_of(r.json), "ShuttingDown")) {
            a->refused++; /* begun while the server stopped: whole, and not processed */
        } else if (r.status) {
            a->incomplete++; /* an answer with a status line must be whole */
        } else {
            a->failed++;
        }
        reply_free(&r);
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    cv_path p = direct_route(CASINO, FONTVIEILLE);
    enum { NT = 8, NR = 20 };
    pthread_t t[NT];
    client_arg a[NT];
    for (int i = 0; i < NT; i++) {
        a[i] = (client_arg){.port = port, .requests = NR, .expect_distance = p.distance_dm / 10.0};
        assert_int_equal(pthread_create(&t[i], NULL, client, &a[i]), 0);
    }
    for (int i = 0; i < NT; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(a[i].ok, NR);
    }
    cv_path_free(&p);
}

/* A second server stopped while clients hammer it: stop returns, every answer that began is whole, and the
   clients then find the port closed. */
static void test_stop_in_flight(void **state)
{
    (void)state;
    cv_server *s = start(2);
    uint16_t p2 = cv_server_port(s);
    atomic_int stop = 0;
    cv_path p = direct_route(CASINO, FONTVIEILLE);
    enum { NT = 4 };
    pthread_t t[NT];
    client_arg a[NT];
    for (int i = 0; i < NT; i++) {
        a[i] = (client_arg){.port = p2, .stop = &stop, .expect_distance = p.distance_dm / 10.0};
        assert_int_equal(pthread_create(&t[i], NULL, client, &a[i]), 0);
    }
    struct timespec nap = {0, 100 * 1000000L};
    nanosleep(&nap, NULL);
    cv_server_stop(s);
    atomic_store(&stop, 1);
    int ok = 0;
    for (int i = 0; i < NT; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(a[i].incomplete, 0);
        ok += a[i].ok;
    }
    assert_true(ok > 0);
    reply r = http_req(p2, "GET", "/health", NULL, 0);
    assert_int_equal(r.status, 0);
    reply_free(&r);
    cv_path_free(&p);
}

/* --- stop: requests begun are finished, new ones refused --- */

/* A connected socket to the loopback port, with a 5 s receive timeout. */
static int connect_port(uint16_t p)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(p)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void send_all(int fd, const char *text)
{
    assert_int_equal(send(fd, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
}

/* Reads one whole answer (headers and a Content-Length body) from fd into buf; returns its status, 0 when the
   connection ended first. */
static int read_answer(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    for (;;) {
        buf[len] = '\0';
        const char *sep = strstr(buf, "\r\n\r\n");
        if (sep) {
            const char *cl = strstr(buf, "Content-Length: ");
            size_t want = (size_t)(sep + 4 - buf) + (cl && cl < sep ? strtoul(cl + 16, NULL, 10) : 0);
            if (len >= want)
                return strncmp(buf, "HTTP/1.1 ", 9) ? 0 : atoi(buf + 9);
        }
        ssize_t got = len + 1 < cap ? recv(fd, buf + len, cap - 1 - len, 0) : -1;
        if (got <= 0)
            return 0;
        len += (size_t)got;
    }
}

typedef struct stopper {
    cv_server *s;
    atomic_int done;
} stopper;

static void *stop_thread(void *p)
{
    stopper *st = p;
    cv_server_stop(st->s);
    atomic_store(&st->done, 1);
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) && errno == EINTR)
        ;
}

/* cv_server_stop with a request begun (its headers half sent) and an idle keep-alive connection: the stop waits;
   a new request on the idle connection gets 503 ShuttingDown in JSON and its connection closed; the begun one,
   once whole, is answered (200) with its connection closed; then the stop returns and the port is closed.
   (Regression: the stop counted only requests whose headers were in, and the daemons served new requests on
   keep-alive connections until they stopped, then dropped what was in flight.) */
static void test_stop_drains(void **state)
{
    (void)state;
    cv_server *s = start(2);
    uint16_t p = cv_server_port(s);
    char buf[4096];
    int idle = connect_port(p);
    send_all(idle, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(read_answer(idle, buf, sizeof buf), 200);
    assert_null(strstr(buf, "Connection: close"));
    int begun = connect_port(p);
    send_all(begun, "GET /health HTTP/1.1\r\nHost: t\r\n");
    sleep_ms(100);
    stopper st = {.s = s};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, stop_thread, &st), 0);
    sleep_ms(200);
    assert_int_equal(atomic_load(&st.done), 0); /* waiting for the begun request */

    send_all(idle, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(read_answer(idle, buf, sizeof buf), 503);
    assert_non_null(strstr(buf, "Connection: close"));
    json_t *j = json_loads(strstr(buf, "\r\n\r\n") + 4, 0, NULL);
    assert_string_equal(code_of(j), "ShuttingDown");
    assert_true(json_is_string(json_object_get(j, "message")));
    json_decref(j);
    assert_int_equal(recv(idle, buf, sizeof buf, 0), 0); /* closed after it */
    close(idle);

    double t0 = http_now_ms();
    send_all(begun, "\r\n");
    assert_int_equal(read_answer(begun, buf, sizeof buf), 200);
    assert_non_null(strstr(buf, "\"status\":\"ready\""));
    assert_non_null(strstr(buf, "Connection: close"));
    assert_int_equal(recv(begun, buf, sizeof buf, 0), 0);
    close(begun);
    pthread_join(t, NULL);
    double ms = http_now_ms() - t0;
    print_message("stop returned %.0f ms after the last request was answered\n", ms);
    assert_true(ms < 2000); /* not the 10 s grace */
    reply r = http_req(p, "GET", "/health", NULL, 0);
    assert_int_equal(r.status, 0);
    reply_free(&r);
}

/* --- broken and oversized requests, byte for byte --- */

/* What one raw exchange gave: the status of its single status line (0: none, -1: more than one), and whether the
   body is our JSON error shape of that status with a Content-Length that frames it, and the connection closed. */
typedef struct raw_result {
    int status;
    int json; /* {"code": string, "message": string}, application/json, Content-Length right */
    int closed;
    char code[40];
    char *text;
} raw_result;

static raw_result raw(uint16_t p, const char *req, size_t len)
{
    raw_result r = {0};
    size_t n = 0;
    r.text = http_raw(p, req, len, 5000, &n, &r.closed);
    assert_non_null(r.text);
    int lines = 0;
    for (const char *q = r.text; (q = strstr(q, "HTTP/1.")); q++)
        lines++;
    if (lines != 1 || strncmp(r.text, "HTTP/1.1 ", 9)) {
        r.status = lines ? -1 : 0;
        return r;
    }
    r.status = atoi(r.text + 9);
    const char *sep = strstr(r.text, "\r\n\r\n"), *cl = strstr(r.text, "Content-Length: ");
    if (!sep || !cl || cl > sep || strtoul(cl + 16, NULL, 10) != n - (size_t)(sep + 4 - r.text))
        return r;
    json_t *j = json_loads(sep + 4, 0, NULL);
    const char *code = json_string_value(json_object_get(j, "code"));
    const char *ct = strstr(r.text, "Content-Type: application/json");
    r.json = ct && ct < sep && code && json_is_string(json_object_get(j, "message")) && json_object_size(j) == 2;
    snprintf(r.code, sizeof r.code, "%s", code ? code : "");
    json_decref(j);
    return r;
}

/* A request whose head is head, a header X-Pad filled to total bytes, and the end of the head. */
static char *padded(const char *head, size_t total, size_t *len)
{
    char *b = malloc(total + 64);
    int n = snprintf(b, total + 64, "%sX-Pad: ", head);
    size_t pad = total > (size_t)n + 4 ? total - (size_t)n - 4 : 0;
    memset(b + n, 'p', pad);
    memcpy(b + n + pad, "\r\n\r\n", 5);
    *len = (size_t)n + pad + 4;
    return b;
}

/* Every answer is one status line; the server's own errors are our JSON, and the connection is closed after
   them. Regressions: libmicrohttpd's HTML pages for 413/414/431, its status line and headers written twice for a
   Content-Length of 20 digits (or not a number, or too many cookies), and no answer at all for Transfer-Encoding:
   gzip (it read the body to the end of the connection), for a request of about 32 KB (its default memory of 32 KiB
   per connection left no room for the answer) or with 1,500 query arguments. */
static void test_raw_requests(void **state)
{
    (void)state;
    static const struct {
        const char *name, *req;
        int status;
        const char *code; /* NULL: not ours (documented in docs/API.md), one status line and closed */
    } cases[] = {
        {"body over the cap", "POST /v1/search HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n{}", 413, "TooBig"},
        {"Content-Length of 20 digits",
         "POST /v1/search HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999\r\n\r\n", 413, "TooBig"},
        {"Content-Length not a number", "POST /v1/search HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n", 400,
         "BadRequest"},
        {"Transfer-Encoding gzip", "POST /v1/search HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\nxyz", 400,
         "BadRequest"},
        {"Transfer-Encoding gzip, chunked",
         "POST /v1/search HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n", 501,
         "NotImplemented"},
        {"HTTP/2.0", "GET /health HTTP/2.0\r\nHost: t\r\n\r\n", 505, NULL},
        {"HTTP/0.9 request line", "GET /health\r\n\r\n", 400, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        raw_result r = raw(port, cases[i].req, strlen(cases[i].req));
        if (r.status != cases[i].status || !r.closed || (cases[i].code && (!r.json || strcmp(r.code, cases[i].code))))
            fail_msg("%s: status %d, json %d, code '%s', closed %d: %.400s", cases[i].name, r.status, r.json, r.code,
                     r.closed, r.text);
        free(r.text);
    }
    /* HTTP/1.2 is served as HTTP/1.1 (RFC 9110 2.5: a later minor version is understood as the one implemented) */
    static const char v12[] = "GET /health HTTP/1.2\r\nHost: t\r\nConnection: close\r\n\r\n";
    raw_result r = raw(port, v12, sizeof v12 - 1);
    assert_int_equal(r.status, 200);
    free(r.text);

    /* a URL of 40 KB, and a header block of 40 KB: 414 and 431 */
    size_t len;
    char *big = malloc(41000);
    int n = snprintf(big, 41000, "GET /route/v1/driving/");
    memset(big + n, 'a', 40000);
    strcpy(big + n + 40000, " HTTP/1.1\r\nHost: t\r\n\r\n");
    r = raw(port, big, strlen(big));
    if (r.status != 414 || !r.json || strcmp(r.code, "TooBig") || !r.closed)
        fail_msg("40 KB URL: %d %s: %.300s", r.status, r.code, r.text);
    free(r.text);
    free(big);
    big = padded("GET /health HTTP/1.1\r\nHost: t\r\n", 40000, &len);
    r = raw(port, big, len);
    if (r.status != 431 || !r.json || strcmp(r.code, "TooBig") || !r.closed)
        fail_msg("40 KB of headers: %d %s: %.300s", r.status, r.code, r.text);
    free(r.text);
    free(big);

    /* about 32 KB of head, around libmicrohttpd's default memory per connection: served (the header fields stay
       within MAX_HEADER_BYTES) */
    for (size_t total = 32400; total <= 32760; total += 40) {
        big = padded("GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n", total, &len);
        r = raw(port, big, len);
        if (r.status != 200 || !strstr(r.text, "\"status\":\"ready\""))
            fail_msg("a head of %zu bytes: %d: %.300s", total, r.status, r.text);
        free(r.text);
        free(big);
    }

    /* heads around the connection's memory (96 KiB), a long header or a long URL: never a silent close; ours in
       JSON up to the memory, libmicrohttpd's 414 or 431 page beyond it (documented) */
    int theirs = 0;
    for (int url = 0; url < 2; url++)
        for (size_t total = 94 * 1024; total <= 100 * 1024; total += 96) {
            if (url) {
                big = malloc(total + 1);
                n = snprintf(big, total + 1, "GET /x");
                memset(big + n, 'u', total - (size_t)n - 22);
                strcpy(big + total - 22, " HTTP/1.1\r\nHost: t\r\n\r\n");
                len = total;
            } else {
                big = padded("GET /health HTTP/1.1\r\nHost: t\r\n", total, &len);
            }
            r = raw(port, big, len);
            int ok = r.closed && (r.status == 414 || r.status == 431) && (!r.json || !strcmp(r.code, "TooBig"));
            if (!ok)
                fail_msg("a %s of %zu bytes: status %d, json %d, closed %d: %.300s", url ? "URL" : "header", total,
                         r.status, r.json, r.closed, r.text);
            theirs += !r.json;
            free(r.text);
            free(big);
        }
    print_message("heads of 94 to 100 KiB: %d answers by libmicrohttpd (beyond its memory), the rest ours\n", theirs);
    assert_true(theirs > 0 && theirs < 100);

    /* many short header fields, or cookies (libmicrohttpd keeps a record of each, and a copy of the Cookie header):
       around the count where the memory runs out, never a silent close either */
    big = malloc(64 * 1024);
    for (int cookies = 0; cookies < 2; cookies++)
        for (int count = cookies ? 1200 : 1300; count <= (cookies ? 1400 : 1500); count += 4) {
            n = snprintf(big, 64 * 1024, "GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s",
                         cookies ? "Cookie: " : "");
            for (int i = 0; i < count; i++)
                n += snprintf(big + n, 64 * 1024 - (size_t)n, cookies ? "a=b; " : "a:b\r\n");
            snprintf(big + n, 64 * 1024 - (size_t)n, cookies ? "\r\n\r\n" : "\r\n");
            r = raw(port, big, strlen(big));
            int ok = r.closed && (r.status == 431 ? !r.json || !strcmp(r.code, "TooBig") : r.status == 200);
            if (!ok)
                fail_msg("%d %s: status %d, json %d, closed %d: %.300s", count, cookies ? "cookies" : "header fields",
                         r.status, r.json, r.closed, r.text);
            free(r.text);
        }
    free(big);

    /* 1,500 query arguments (libmicrohttpd dropped the connection), 3,000 cookies (its answer twice) */
    big = malloc(8000);
    n = snprintf(big, 8000, "GET /health?");
    for (int i = 0; i < 1500; i++)
        n += snprintf(big + n, 8000 - (size_t)n, "a&");
    snprintf(big + n, 8000 - (size_t)n, " HTTP/1.1\r\nHost: t\r\n\r\n");
    r = raw(port, big, strlen(big));
    if (r.status != 400 || !r.json || strcmp(r.code, "InvalidQuery") || !r.closed)
        fail_msg("1500 query arguments: %d %s: %.300s", r.status, r.code, r.text);
    free(r.text);
    free(big);
    big = malloc(20000);
    n = snprintf(big, 20000, "GET /health HTTP/1.1\r\nHost: t\r\nCookie: ");
    for (int i = 0; i < 3000; i++)
        n += snprintf(big + n, 20000 - (size_t)n, "a=b; ");
    snprintf(big + n, 20000 - (size_t)n, "\r\n\r\n");
    r = raw(port, big, strlen(big));
    if (r.status != 431 || !r.json || strcmp(r.code, "TooBig") || !r.closed)
        fail_msg("3000 cookies: %d %s: %.300s", r.status, r.code, r.text);
    free(r.text);
    free(big);

    /* beyond the connection's memory: libmicrohttpd's own 431 (an HTML page), once, and the connection closed */
    big = padded("GET /health HTTP/1.1\r\nHost: t\r\n", 300000, &len);
    r = raw(port, big, len);
    assert_int_equal(r.status, 431);
    assert_true(r.closed);
    free(r.text);
    free(big);

    /* and the server goes on */
    reply h = get("/health");
    assert_int_equal(h.status, 200);
    reply_free(&h);
}

/* The value of the metrics line that starts with name (labels included), or -1 when there is none. */
static double metric(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, name, n) && l[n] == ' ')
            return strtod(l + n + 1, NULL);
    return -1;
}

/* Keep-alive connections opened in a burst are shared out between the worker threads (each takes the next one
   when it has the fewest open), not all kept by whichever thread accepted first: a client's connection pool must
   not leave a core idle. Seen through /metrics, which counts open connections per worker. And every one of them
   is served at once (regression: with epoll, libmicrohttpd could miss the wake-up for a burst of connections
   handed to a worker, which then waited for a later connection). */
static void test_keepalive_spread(void **state)
{
    (void)state;
    cv_server *s = start(2);
    uint16_t p = cv_server_port(s);
    enum { N = 200 };
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(fds[i] >= 0);
        struct timeval tv = {3, 0};
        setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        /* from 127.0.0.2 and up, 40 connections an address, under the per-address limit */
        struct sockaddr_in from = {.sin_family = AF_INET};
        from.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + (uint32_t)i / 40);
        assert_int_equal(bind(fds[i], (struct sockaddr *)&from, sizeof from), 0);
        /* all connecting at once, as a load generator or a client's pool does */
        int fl = fcntl(fds[i], F_GETFL);
        fcntl(fds[i], F_SETFL, fl | O_NONBLOCK);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(p)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int rc = connect(fds[i], (struct sockaddr *)&a, sizeof a);
        assert_true(rc == 0 || errno == EINPROGRESS);
    }
    for (int i = 0; i < N; i++) {
        struct pollfd pw = {fds[i], POLLOUT, 0};
        assert_int_equal(poll(&pw, 1, 3000), 1);
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) & ~O_NONBLOCK);
    }
    /* one request on each, all sent before any answer is read, each answered, the connection left open */
    static const char req[] = "GET /health HTTP/1.1\r\nHost: test\r\n\r\n";
    for (int i = 0; i < N; i++)
        assert_int_equal(send(fds[i], req, sizeof req - 1, MSG_NOSIGNAL), (ssize_t)(sizeof req - 1));
    for (int i = 0; i < N; i++) {
        char buf[512];
        ssize_t got = recv(fds[i], buf, sizeof buf - 1, 0);
        assert_true(got > 12);
        assert_int_equal(strncmp(buf, "HTTP/1.1 200", 12), 0);
    }
    reply r = http_req(p, "GET", "/metrics", NULL, 0);
    assert_int_equal(r.status, 200);
    double w0 = metric(r.body, "covoit_open_connections{worker=\"0\"}");
    double w1 = metric(r.body, "covoit_open_connections{worker=\"1\"}");
    print_message("open connections per worker: %.0f and %.0f\n", w0, w1);
    assert_true(w0 + w1 == N + 1); /* with the one asking */
    assert_true(w0 >= N / 2 && w1 >= N / 2);
    reply_free(&r);
    for (int i = 0; i < N; i++)
        close(fds[i]);
    cv_server_stop(s);
}

static void test_metrics(void **state)
{
    (void)state;
    cv_server *s = start(2); /* its own server: counters start at zero */
    uint16_t p = cv_server_port(s);
    for (int i = 0; i < 3; i++) {
        reply r = http_req(p, "GET", "/route/v1/driving/" CASINO ";" FONTVIEILLE "?overview=false", NULL, 0);
        assert_int_equal(r.status, 200);
        reply_free(&r);
    }
    reply r = http_req(p, "GET", "/no/such/thing", NULL, 0);
    assert_int_equal(r.status, 404);
    reply_free(&r);
    r = http_req(p, "GET", "/metrics", NULL, 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.raw, "text/plain; version=0.0.4"));
    const char *t = r.body;
    assert_true(metric(t, "covoit_http_requests_total{endpoint=\"route\",status=\"200\"}") == 3);
    assert_true(metric(t, "covoit_http_requests_total{endpoint=\"other\",status=\"404\"}") == 1);
    assert_true(metric(t, "covoit_http_requests_total{endpoint=\"metrics\",status=\"200\"}") == -1);
    assert_true(metric(t, "covoit_matches_served_total") == 0);
    assert_true(metric(t, "covoit_bookings_total{action=\"create\"}") == 0);
    assert_true(metric(t, "covoit_database_errors_total") == 0);
    assert_true(metric(t, "covoit_active_offers") == -1); /* no matcher */
    static const char *const les[] = {"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
                                      "0.1",    "0.25",  "0.5",    "1",     "2.5",  "+Inf"};
    double prev = 0;
    for (size_t i = 0; i < sizeof les / sizeof *les; i++) {
        char name[128];
        snprintf(name, sizeof name, "covoit_http_request_duration_seconds_bucket{endpoint=\"route\",le=\"%s\"}",
                 les[i]);
        double v = metric(t, name);
        assert_true(v >= prev);
        prev = v;
    }
    assert_true(prev == 3);
    assert_true(metric(t, "covoit_http_request_duration_seconds_count{endpoint=\"route\"}") == prev);
    double sum = metric(t, "covoit_http_request_duration_seconds_sum{endpoint=\"route\"}");
    assert_true(sum > 0 && sum < 60);
    reply_free(&r);
    /* The first /metrics is counted once answered. */
    r = http_req(p, "GET", "/metrics", NULL, 0);
    assert_true(metric(r.body, "covoit_http_requests_total{endpoint=\"metrics\",status=\"200\"}") == 1);
    reply_free(&r);
    cv_server_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_polyline),
        cmocka_unit_test(test_route_geojson_and_overview),
        cmocka_unit_test(test_route_legs),
        cmocka_unit_test(test_route_without_geometry_same_figures),
        cmocka_unit_test(test_route_annotations),
        cmocka_unit_test(test_hub_labels_same_answers),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_nearest_and_health),
        cmocka_unit_test(test_waypoint_names),
        cmocka_unit_test(test_radiuses),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_stop_in_flight),
        cmocka_unit_test(test_stop_drains),
        cmocka_unit_test(test_raw_requests),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_keepalive_spread),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
