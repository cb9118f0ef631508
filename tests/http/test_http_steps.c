/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_http_steps.c — OSRM turn-by-turn steps (steps=true) on /route/v1 over the Monaco graph, through the real
   server on 127.0.0.1 port 0: every step is a well-formed OSRM RouteStep, depart first and arrive last, step
   distances, durations and weights add up to the leg's, step geometries join end to end in every geometry
   format, one legs[] entry per leg with its own steps, steps=false answers as before, and a bad value is refused. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "http_client.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "routing/ch.h"
#include "routing/graph_build.h"
#include "osm/osm_network.h"
#include "web/server.h"
#include "test_support.h"

static cv_graph *graph;
static cv_server *server;
static uint16_t port;

/* Points in Monaco (lon, lat): near the casino, the port, Fontvieille, and the Larvotto beach road. */
#define CASINO "7.4275,43.7396"
#define PORT_HERCULE "7.4215,43.7350"
#define FONTVIEILLE "7.4160,43.7290"
#define LARVOTTO "7.4350,43.7450"

static reply get(const char *path)
{
    return http_request(port, "GET", path, NULL, NULL, 0);
}

static double num(json_t *j)
{
    if (!json_is_number(j))
        fail_msg("not a number");
    return json_number_value(j);
}

static int setup(void **state)
{
    (void)state;
    graph = tst_build_graph(COVOIT_TEST_DATA "/monaco.osm.pbf", "http_steps_monaco.cvg");
    cv_server_options o = cv_server_defaults();
    o.port = 0;
    o.threads = 2;
    o.quiet = 1;
    cv_error err = {0};
    server = cv_server_start(graph, &o, &err);
    if (!server)
        fail_msg("%s", err.text);
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

/* --- checks --- */

static int one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(s, *set))
            return 1;
    return 0;
}

/* The positions of a step or route geometry in format fmt ("polyline", "polyline6", "geojson"). */
static long positions(json_t *geom, const char *fmt, cv_coord *pts, size_t cap)
{
    if (!strcmp(fmt, "geojson")) {
        assert_string_equal(json_string_value(json_object_get(geom, "type")), "LineString");
        json_t *c = json_object_get(geom, "coordinates");
        size_t n = json_array_size(c);
        assert_true(n <= cap);
        for (size_t i = 0; i < n; i++) {
            pts[i].lon = cv_fixed(num(json_array_get(json_array_get(c, i), 0)));
            pts[i].lat = cv_fixed(num(json_array_get(json_array_get(c, i), 1)));
        }
        return (long)n;
    }
    assert_true(json_is_string(geom));
    long n = cv_polyline_decode(json_string_value(geom), !strcmp(fmt, "polyline6") ? 6 : 5, pts, cap);
    assert_true(n >= 0);
    return n;
}

static void assert_near(cv_coord a, json_t *lonlat, double tol_deg)
{
    assert_true(json_is_array(lonlat) && json_array_size(lonlat) == 2);
    double dlon = fabs(cv_deg(a.lon) - num(json_array_get(lonlat, 0)));
    double dlat = fabs(cv_deg(a.lat) - num(json_array_get(lonlat, 1)));
    if (dlon > tol_deg || dlat > tol_deg)
        fail_msg("%.7f,%.7f is not near %.7f,%.7f", cv_deg(a.lon), cv_deg(a.lat), num(json_array_get(lonlat, 0)),
                 num(json_array_get(lonlat, 1)));
}

static int is_uint_below(json_t *j, long long max)
{
    return json_is_integer(j) && json_integer_value(j) >= 0 && json_integer_value(j) < max;
}

/* Checks one leg's steps; returns the number of steps. fmt is the geometry format asked for. */
static size_t check_leg(json_t *leg, const char *fmt)
{
    static const char *const types[] = {"depart",     "arrive",          "turn",    "new name", "continue",
                                        "roundabout", "exit roundabout", "on ramp", "off ramp", "merge",
                                        "fork",       "notification",    NULL};
    static const char *const mods[] = {"uturn", "sharp right", "right", "slight right", "straight", "slight left",
                                       "left",  "sharp left",  NULL};
    const double tol = 2e-6 * (!strcmp(fmt, "polyline") ? 10 : 1); /* polyline rounds to 1e-5 degree */
    json_t *steps = json_object_get(leg, "steps");
    size_t n = json_array_size(steps);
    assert_true(n >= 2);
    double sum[3] = {0, 0, 0};
    static const char *const keys[3] = {"distance", "duration", "weight"};
    cv_coord prev_end = {0, 0};
    for (size_t i = 0; i < n; i++) {
        json_t *st = json_array_get(steps, i);
        for (int k = 0; k < 3; k++) {
            double v = num(json_object_get(st, keys[k]));
            assert_true(v >= 0);
            sum[k] += v;
        }
        const char *mode = json_string_value(json_object_get(st, "mode"));
        assert_true(mode && (!strcmp(mode, "driving") || !strcmp(mode, "ferry"))); /* Monaco has boats */
        assert_string_equal(json_string_value(json_object_get(st, "driving_side")), "right");
        assert_true(json_is_string(json_object_get(st, "name")));
        json_t *ref = json_object_get(st, "ref");
        assert_true(!ref || (json_is_string(ref) && json_string_length(ref) > 0));
        json_t *m = json_object_get(st, "maneuver");
        const char *type = json_string_value(json_object_get(m, "type"));
        assert_non_null(type);
        assert_true(one_of(type, types));
        assert_true(!strcmp(type, "depart") == (i == 0));
        assert_true(!strcmp(type, "arrive") == (i == n - 1));
        json_t *mod = json_object_get(m, "modifier");
        assert_true(!mod || one_of(json_string_value(mod), mods));
        json_t *ex = json_object_get(m, "exit");
        assert_true(!ex || (json_is_integer(ex) && json_integer_value(ex) >= 1));
        if (!strcmp(type, "exit roundabout"))
            assert_non_null(ex);
        assert_true(is_uint_below(json_object_get(m, "bearing_before"), 360));
        assert_true(is_uint_below(json_object_get(m, "bearing_after"), 360));
        json_t *loc = json_object_get(m, "location");
        /* geometry: at least two positions, from the maneuver, joining the previous step's end */
        cv_coord pts[4096];
        long np = positions(json_object_get(st, "geometry"), fmt, pts, 4096);
        assert_true(np >= 2);
        assert_near(pts[0], loc, tol);
        if (i > 0)
            assert_true(pts[0].lon == prev_end.lon && pts[0].lat == prev_end.lat);
        prev_end = pts[np - 1];
        /* intersections: the maneuver's first, bearings and entry alike, in / out where the route passes */
        json_t *xs = json_object_get(st, "intersections");
        assert_true(json_array_size(xs) >= 1);
        for (size_t k = 0; k < json_array_size(xs); k++) {
            json_t *x = json_array_get(xs, k);
            json_t *b = json_object_get(x, "bearings"), *e = json_object_get(x, "entry");
            size_t nb = json_array_size(b);
            assert_true(nb >= 1);
            assert_int_equal(json_array_size(e), nb);
            for (size_t q = 0; q < nb; q++) {
                assert_true(is_uint_below(json_array_get(b, q), 360));
                assert_true(json_is_boolean(json_array_get(e, q)));
                if (q > 0)
                    assert_true(json_integer_value(json_array_get(b, q - 1)) <=
                                json_integer_value(json_array_get(b, q)));
            }
            json_t *in = json_object_get(x, "in"), *out = json_object_get(x, "out");
            assert_true(!in || is_uint_below(in, (long long)nb));
            assert_true(!out || is_uint_below(out, (long long)nb));
            if (out) /* the way out may be taken */
                assert_true(json_is_true(json_array_get(e, (size_t)json_integer_value(out))));
            /* depart has no way in, arrive no way out; every other intersection has both */
            if (!(k == 0 && i == 0 ? !in && out : k == 0 && i == n - 1 ? in && !out : in && out))
                fail_msg("step %zu (%s), intersection %zu: in %s, out %s", i, type, k, in ? "set" : "absent",
                         out ? "set" : "absent");
            if (k == 0) {
                cv_coord xl = {cv_fixed(num(json_array_get(json_object_get(x, "location"), 0))),
                               cv_fixed(num(json_array_get(json_object_get(x, "location"), 1)))};
                assert_near(xl, loc, 1e-9);
            }
        }
    }
    /* the last step arrives: nothing left to travel */
    json_t *last = json_array_get(steps, n - 1);
    assert_true(num(json_object_get(last, "distance")) == 0);
    assert_true(num(json_object_get(last, "duration")) == 0);
    for (int k = 0; k < 3; k++) {
        double legv = num(json_object_get(leg, keys[k]));
        if (fabs(sum[k] - legv) > 0.05)
            fail_msg("step %ss add up to %.2f, the leg's is %.2f", keys[k], sum[k], legv);
    }
    assert_true(json_is_string(json_object_get(leg, "summary")));
    return n;
}

/* --- tests --- */

static void test_steps_true(void **state)
{
    (void)state;
    static const char *const fmts[] = {"polyline", "polyline6", "geojson"};
    for (size_t f = 0; f < 3; f++) {
        char path[256];
        snprintf(path, sizeof path, "/route/v1/driving/" CASINO ";" FONTVIEILLE "?steps=true&geometries=%s", fmts[f]);
        reply r = get(path);
        if (r.status != 200)
            fail_msg("%s: %d %s", path, r.status, r.raw);
        assert_string_equal(json_string_value(json_object_get(r.json, "code")), "Ok");
        json_t *route = json_array_get(json_object_get(r.json, "routes"), 0);
        json_t *legs = json_object_get(route, "legs");
        assert_int_equal(json_array_size(legs), 1);
        json_t *leg = json_array_get(legs, 0);
        size_t n = check_leg(leg, fmts[f]);
        assert_true(n >= 4); /* across Monaco: some turns */
        /* a named route: the summary names its two main roads */
        const char *summary = json_string_value(json_object_get(leg, "summary"));
        assert_true(strlen(summary) > 0);
        assert_non_null(strstr(summary, ", "));
        /* the steps run from the first waypoint to the last */
        json_t *wps = json_object_get(r.json, "waypoints");
        json_t *steps = json_object_get(leg, "steps");
        cv_coord a = {cv_fixed(num(json_array_get(
                          json_object_get(json_object_get(json_array_get(steps, 0), "maneuver"), "location"), 0))),
                      cv_fixed(num(json_array_get(
                          json_object_get(json_object_get(json_array_get(steps, 0), "maneuver"), "location"), 1)))};
        assert_near(a, json_object_get(json_array_get(wps, 0), "location"), 1e-9);
        json_t *arrive = json_object_get(json_array_get(steps, n - 1), "maneuver");
        cv_coord z = {cv_fixed(num(json_array_get(json_object_get(arrive, "location"), 0))),
                      cv_fixed(num(json_array_get(json_object_get(arrive, "location"), 1)))};
        assert_near(z, json_object_get(json_array_get(wps, 1), "location"), 1e-9);
        reply_free(&r);
    }
}

static void test_steps_false_unchanged(void **state)
{
    (void)state;
    reply with = get("/route/v1/driving/" CASINO ";" PORT_HERCULE "?steps=true");
    reply without = get("/route/v1/driving/" CASINO ";" PORT_HERCULE "?steps=false");
    reply dflt = get("/route/v1/driving/" CASINO ";" PORT_HERCULE);
    assert_int_equal(with.status, 200);
    assert_int_equal(without.status, 200);
    assert_int_equal(dflt.status, 200);
    /* without steps: the legs carry "summary": "" and "steps": [], and everything else is what steps=true says */
    assert_true(json_equal(without.json, dflt.json));
    json_t *rw = json_array_get(json_object_get(with.json, "routes"), 0);
    json_t *ro = json_array_get(json_object_get(without.json, "routes"), 0);
    json_t *lo = json_array_get(json_object_get(ro, "legs"), 0);
    assert_int_equal(json_array_size(json_object_get(lo, "steps")), 0);
    assert_string_equal(json_string_value(json_object_get(lo, "summary")), "");
    static const char *const keys[] = {"distance", "duration", "weight", "weight_name", "geometry"};
    for (size_t k = 0; k < 5; k++)
        assert_true(json_equal(json_object_get(rw, keys[k]), json_object_get(ro, keys[k])));
    assert_true(json_equal(json_object_get(with.json, "waypoints"), json_object_get(without.json, "waypoints")));
    check_leg(json_array_get(json_object_get(rw, "legs"), 0), "polyline");
    reply_free(&with), reply_free(&without), reply_free(&dflt);
}

static void test_steps_per_leg(void **state)
{
    (void)state;
    reply r = get("/route/v1/driving/" CASINO ";" PORT_HERCULE ";" FONTVIEILLE ";" LARVOTTO
                  "?steps=true&geometries=geojson&overview=false");
    assert_int_equal(r.status, 200);
    json_t *route = json_array_get(json_object_get(r.json, "routes"), 0);
    json_t *legs = json_object_get(route, "legs"), *wps = json_object_get(r.json, "waypoints");
    assert_int_equal(json_array_size(legs), 3);
    assert_int_equal(json_array_size(wps), 4);
    double total = 0;
    for (size_t i = 0; i < 3; i++) {
        json_t *leg = json_array_get(legs, i);
        size_t n = check_leg(leg, "geojson");
        total += num(json_object_get(leg, "distance"));
        json_t *steps = json_object_get(leg, "steps");
        /* each leg departs from its waypoint and arrives at the next */
        for (int end = 0; end < 2; end++) {
            json_t *m = json_object_get(json_array_get(steps, end ? n - 1 : 0), "maneuver");
            cv_coord c = {cv_fixed(num(json_array_get(json_object_get(m, "location"), 0))),
                          cv_fixed(num(json_array_get(json_object_get(m, "location"), 1)))};
            assert_near(c, json_object_get(json_array_get(wps, i + (size_t)end), "location"), 1e-9);
        }
    }
    assert_true(fabs(total - num(json_object_get(route, "distance"))) < 0.05);
    reply_free(&r);
}

/* Many routes across the extract: every one well-formed, whatever turns it takes. */
static void test_steps_many_routes(void **state)
{
    (void)state;
    const cv_graph_header *h = &graph->hdr;
    uint64_t seed = 12345;
    int done = 0, roundabouts = 0;
    for (int i = 0; i < 40; i++) {
        double c[4];
        for (int k = 0; k < 4; k++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            double u = (double)(seed >> 11) / 9007199254740992.0;
            /* the middle of the box: Monaco itself, not the French hills around it */
            int lon = k % 2 == 0;
            double lo = cv_deg(lon ? h->bbox[0] : h->bbox[1]), hi = cv_deg(lon ? h->bbox[2] : h->bbox[3]);
            c[k] = lo + (hi - lo) * (0.35 + 0.3 * u);
        }
        char path[256];
        snprintf(path, sizeof path, "/route/v1/driving/%.6f,%.6f;%.6f,%.6f?steps=true&geometries=polyline6", c[0], c[1],
                 c[2], c[3]);
        reply r = get(path);
        if (r.status == 200) {
            json_t *leg =
                json_array_get(json_object_get(json_array_get(json_object_get(r.json, "routes"), 0), "legs"), 0);
            size_t n = check_leg(leg, "polyline6");
            for (size_t k = 0; k < n; k++)
                roundabouts +=
                    !strcmp(json_string_value(json_object_get(
                                json_object_get(json_array_get(json_object_get(leg, "steps"), k), "maneuver"), "type")),
                            "roundabout");
            done++;
        } else {
            assert_int_equal(r.status, 400); /* NoSegment or NoRoute */
        }
        reply_free(&r);
    }
    assert_true(done >= 20);
    assert_true(roundabouts > 0);
}

/* The request Leaflet Routing Machine sends by default (overview=false, alternatives, steps, and the hints it got
   back, empty here): answered with steps whose polyline geometries carry the route. */
static void test_leaflet_routing_machine_request(void **state)
{
    (void)state;
    reply r = get("/route/v1/driving/" CASINO ";" PORT_HERCULE ";" FONTVIEILLE
                  "?overview=false&alternatives=true&steps=true&hints=;;");
    if (r.status != 200)
        fail_msg("%d %s", r.status, r.raw);
    json_t *route = json_array_get(json_object_get(r.json, "routes"), 0);
    assert_null(json_object_get(route, "geometry"));
    json_t *legs = json_object_get(route, "legs");
    assert_int_equal(json_array_size(legs), 2);
    for (size_t i = 0; i < 2; i++)
        check_leg(json_array_get(legs, i), "polyline");
    json_t *wps = json_object_get(r.json, "waypoints");
    assert_int_equal(json_array_size(wps), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(wps, 0), "hint")), "");
    reply_free(&r);
    /* hints from another server are ignored too, on every service */
    static const char *const paths[] = {"/route/v1/driving/" CASINO ";" FONTVIEILLE "?hints=abc;def&steps=true",
                                        "/table/v1/driving/" CASINO ";" FONTVIEILLE "?hints=;",
                                        "/nearest/v1/driving/" CASINO "?hints=xyz"};
    for (size_t i = 0; i < 3; i++) {
        r = get(paths[i]);
        if (r.status != 200)
            fail_msg("%s: %d %s", paths[i], r.status, r.raw);
        reply_free(&r);
    }
}

static void test_steps_bad_values(void **state)
{
    (void)state;
    static const char *const bad[] = {"yes", "1", "TRUE", "", "true,false"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char path[256];
        snprintf(path, sizeof path, "/route/v1/driving/" CASINO ";" FONTVIEILLE "?steps=%s", bad[i]);
        reply r = get(path);
        if (r.status != 400)
            fail_msg("%s: status %d", path, r.status);
        assert_string_equal(json_string_value(json_object_get(r.json, "code")), "InvalidValue");
        assert_true(json_is_string(json_object_get(r.json, "message")));
        reply_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steps_true),
        cmocka_unit_test(test_steps_false_unchanged),
        cmocka_unit_test(test_steps_per_leg),
        cmocka_unit_test(test_steps_many_routes),
        cmocka_unit_test(test_leaflet_routing_machine_request),
        cmocka_unit_test(test_steps_bad_values),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
