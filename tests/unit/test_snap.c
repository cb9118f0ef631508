/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_snap.c — routing/snap.c on the Monaco graph: snapped points are consistent with the edge geometry, the grid
   search finds what a brute-force scan of every segment finds, limits and exclusions hold, and the largest
   strongly connected component is preferred. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/cv_error.h"
#include "routing/geo.h"
#include "routing/graph.h"
#include "routing/graph_build.h"
#include "osm/osm_network.h"
#include "osm/profile.h"
#include "routing/snap.h"
#include "routing/route.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MONACO_PBF COVOIT_TEST_DATA "/monaco.osm.pbf"
#define R_EARTH 6371008.8
#define M_PER_DEG (R_EARTH * CV_PI / 180.0)

/* ---- deterministic PRNG (xorshift64*) ---- */

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint64_t rng_next(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static int64_t rng_range(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rng_next() % (uint64_t)(hi - lo + 1));
}

/* ---- the Monaco graph, built once ---- */

typedef struct seg_box {
    int32_t lon0, lat0, lon1, lat1;
} seg_box;

static struct {
    char path[1024];
    cv_graph *g;
    seg_box *box; /* per point index: the box of segment points[i] .. points[i + 1] */
    uint32_t *edge_of_point;
} M;

static int setup_monaco(void **state)
{
    (void)state;
    snprintf(M.path, sizeof M.path, "%s/tsn_monaco.graph", COVOIT_TMP);
    cv_profile_options popt = cv_profile_defaults();
    cv_network net;
    cv_error err;
    memset(&err, 0, sizeof err);
    if (cv_network_read(MONACO_PBF, &popt, NULL, &net, &err)) {
        fprintf(stderr, "%s\n", err.text);
        return -1;
    }
    int rc = cv_graph_build(&net, MONACO_PBF, M.path, NULL, NULL, &err);
    cv_network_free(&net);
    if (rc) {
        fprintf(stderr, "%s\n", err.text);
        return -1;
    }
    M.g = cv_graph_open(M.path, &err);
    if (!M.g) {
        fprintf(stderr, "%s\n", err.text);
        return -1;
    }
    const cv_graph *g = M.g;
    M.box = malloc((g->hdr.npoints ? g->hdr.npoints : 1) * sizeof *M.box);
    M.edge_of_point = malloc((g->hdr.npoints ? g->hdr.npoints : 1) * sizeof *M.edge_of_point);
    if (!M.box || !M.edge_of_point)
        return -1;
    for (uint32_t e = 0; e < g->hdr.nedges; e++)
        for (uint32_t p = g->a.edge_first_point[e]; p < g->a.edge_first_point[e + 1]; p++) {
            M.edge_of_point[p] = e;
            if (p + 1 < g->a.edge_first_point[e + 1]) {
                cv_coord a = g->a.points[p], b = g->a.points[p + 1];
                M.box[p] = (seg_box){a.lon < b.lon ? a.lon : b.lon, a.lat < b.lat ? a.lat : b.lat,
                                     a.lon < b.lon ? b.lon : a.lon, a.lat < b.lat ? b.lat : a.lat};
            }
        }
    return 0;
}

static int teardown_monaco(void **state)
{
    (void)state;
    cv_graph_close(M.g);
    free(M.box);
    free(M.edge_of_point);
    unlink(M.path);
    return 0;
}

/* A junction is in the main network when any of its routing nodes is (a split junction's own id is the node for
   one arrival only). */
static int junction_in_largest(const cv_graph *g, uint32_t j)
{
    uint32_t c[CV_MAX_SEEDS], n = cv_graph_node_copies(g, j, c, CV_MAX_SEEDS);
    for (uint32_t k = 0; k < n; k++)
        if (g->a.node_component[c[k]] == g->hdr.largest_component)
            return 1;
    return 0;
}

static int edge_in_largest(const cv_graph *g, uint32_t e)
{
    const cv_edge *ed = &g->a.edges[e];
    return junction_in_largest(g, ed->u) && junction_in_largest(g, ed->v);
}

/* ---- brute force ---- */

typedef struct brute {
    int any_found, big_found;
    double any_d, big_d;
    uint32_t any_edge, big_edge;
} brute;

/* Scans every segment of every edge not excluded. A cheap prefilter skips segments whose box is certainly farther
   than max_m (great-circle distance is at least R * latitude gap; the longitude gap is taken at 90 % of its
   length at the nearer latitude, far below the true bound at these sizes). */
static brute brute_force(const cv_graph *g, cv_coord p, double max_m, uint32_t exclude)
{
    brute r = {0, 0, INFINITY, INFINITY, UINT32_MAX, UINT32_MAX};
    double lat_units = (max_m + 1.0) / M_PER_DEG * CV_COORD_SCALE;
    double coslat = cos(cv_deg(p.lat) * CV_PI / 180.0);
    for (uint32_t e = 0; e < g->hdr.nedges; e++) {
        if (exclude & (1u << (g->a.edges[e].road_class & 31)))
            continue;
        int big = edge_in_largest(g, e);
        for (uint32_t k = g->a.edge_first_point[e]; k + 1 < g->a.edge_first_point[e + 1]; k++) {
            const seg_box *b = &M.box[k];
            double glat = p.lat < b->lat0 ? (double)b->lat0 - p.lat : p.lat > b->lat1 ? (double)p.lat - b->lat1 : 0;
            if (glat > lat_units)
                continue;
            double glon = p.lon < b->lon0 ? (double)b->lon0 - p.lon : p.lon > b->lon1 ? (double)p.lon - b->lon1 : 0;
            double maxlat = fabs(cv_deg(p.lat)) + glat / CV_COORD_SCALE;
            double c = cos((maxlat > 89.9 ? 89.9 : maxlat) * CV_PI / 180.0);
            if (glon * c * 0.9 > lat_units && coslat > 0.1)
                continue;
            double t;
            cv_coord q;
            double d = cv_project(p, g->a.points[k], g->a.points[k + 1], &t, &q);
            if (d > max_m)
                continue;
            if (d < r.any_d) {
                r.any_found = 1;
                r.any_d = d;
                r.any_edge = e;
            }
            if (big && d < r.big_d) {
                r.big_found = 1;
                r.big_d = d;
                r.big_edge = e;
            }
        }
    }
    return r;
}

/* ---- checks on one answer ---- */

static void check_snap(const cv_graph *g, cv_coord p, const cv_snap *s, double max_m)
{
    assert_true(s->edge < g->hdr.nedges);
    const cv_edge *ed = &g->a.edges[s->edge];
    uint32_t first = g->a.edge_first_point[s->edge], end = g->a.edge_first_point[s->edge + 1];
    assert_true(s->point >= first && s->point + 1 < end);
    assert_int_equal(s->input.lon, p.lon);
    assert_int_equal(s->input.lat, p.lat);
    /* the point is the projection of the input on the segment */
    double t;
    cv_coord q;
    double d = cv_project(p, g->a.points[s->point], g->a.points[s->point + 1], &t, &q);
    assert_int_equal(q.lon, s->location.lon);
    assert_int_equal(q.lat, s->location.lat);
    assert_true(fabs(t - s->t) < 1e-12);
    assert_true(s->t >= 0.0 && s->t <= 1.0);
    assert_true(fabs(d - s->distance_m) < 1e-6);
    assert_true(fabs(s->distance_m - cv_distance_m(p, s->location)) < 1e-6);
    assert_true(s->distance_m <= max_m);
    /* partial lengths and durations add up to the edge's */
    assert_int_equal((uint64_t)s->from_u_dm + s->to_v_dm, ed->length_dm);
    assert_int_equal((uint64_t)s->from_u_ds + s->to_v_ds, ed->duration_ds);
    /* and split it where the point is */
    double along = 0, total = 0;
    for (uint32_t k = first; k + 1 < end; k++) {
        double dk = cv_distance_m(g->a.points[k], g->a.points[k + 1]);
        if (k < s->point)
            along += dk;
        else if (k == s->point)
            along += dk * s->t;
        total += dk;
    }
    double frac = total > 0 ? along / total : 0;
    assert_true(fabs(s->from_u_dm - frac * ed->length_dm) <= 1.0);
    assert_true(fabs(s->from_u_ds - frac * ed->duration_ds) <= 1.0);
}

/* Snaps p with opt and compares with the brute force: the same distance (or both nothing within range). In the
   default mode an edge of the largest component wins whenever one is in range. */
static void check_against_brute(const cv_graph *g, cv_coord p, const cv_snap_options *opt)
{
    double max_m = opt->max_distance_m > 0 ? opt->max_distance_m : CV_SNAP_DEFAULT_MAX_M;
    brute b = brute_force(g, p, max_m, opt->exclude_classes);
    cv_snap s;
    cv_error err;
    memset(&err, 0, sizeof err);
    int rc = cv_snap_point(g, p, opt, &s, &err);
    if (!b.any_found) {
        if (rc != CV_ENOSEGMENT)
            fail_msg("%.7f,%.7f max %.1f excl %#x any %d: rc %d, brute force finds nothing (snap %.6f m on edge %u)",
                     cv_deg(p.lon), cv_deg(p.lat), max_m, opt->exclude_classes, opt->any_component, rc,
                     rc == 0 ? s.distance_m : -1.0, rc == 0 ? s.edge : 0);
        assert_int_equal(err.code, CV_ENOSEGMENT);
        return;
    }
    if (rc != 0)
        fail_msg("%.7f,%.7f max %.1f excl %#x any %d: rc %d (%s), brute force finds %.6f m on edge %u", cv_deg(p.lon),
                 cv_deg(p.lat), max_m, opt->exclude_classes, opt->any_component, rc, err.text, b.any_d, b.any_edge);
    check_snap(g, p, &s, max_m);
    assert_false(opt->exclude_classes & (1u << (g->a.edges[s.edge].road_class & 31)));
    double want = opt->any_component || !b.big_found ? b.any_d : b.big_d;
    if (fabs(s.distance_m - want) > 1e-6)
        fail_msg("%.7f,%.7f max %.1f excl %#x any %d: snapped %.9f m on edge %u, brute force %.9f m on edge %u "
                 "(any: %.9f m on edge %u)",
                 cv_deg(p.lon), cv_deg(p.lat), max_m, opt->exclude_classes, opt->any_component, s.distance_m, s.edge,
                 want, opt->any_component || !b.big_found ? b.any_edge : b.big_edge, b.any_d, b.any_edge);
    if (!opt->any_component && b.big_found)
        assert_true(edge_in_largest(g, s.edge));
}

static cv_coord random_in_bbox(const cv_graph *g, int32_t margin)
{
    const int32_t *bb = g->hdr.bbox;
    return (cv_coord){(int32_t)rng_range((int64_t)bb[0] - margin, (int64_t)bb[2] + margin),
                      (int32_t)rng_range((int64_t)bb[1] - margin, (int64_t)bb[3] + margin)};
}

/* ---- tests ---- */

static void test_defaults(void **state)
{
    (void)state;
    cv_snap_options o = cv_snap_defaults();
    assert_true(o.max_distance_m == CV_SNAP_DEFAULT_MAX_M);
    assert_true(CV_SNAP_DEFAULT_MAX_M == 300.0);
    assert_int_equal(o.exclude_classes, 0);
    assert_int_equal(o.any_component, 0);
    /* NULL options and max_distance_m <= 0 mean the defaults */
    cv_coord p = {cv_fixed(7.4246), cv_fixed(43.7384)};
    cv_snap a, b, c;
    cv_error err;
    assert_int_equal(cv_snap_point(M.g, p, NULL, &a, &err), 0);
    assert_int_equal(cv_snap_point(M.g, p, &o, &b, &err), 0);
    o.max_distance_m = 0;
    assert_int_equal(cv_snap_point(M.g, p, &o, &c, &err), 0);
    assert_int_equal(a.edge, b.edge);
    assert_int_equal(a.point, b.point);
    assert_int_equal(c.edge, b.edge);
    assert_true(a.distance_m == b.distance_m && c.distance_m == b.distance_m);
    o.max_distance_m = -5;
    cv_coord far = {cv_fixed(7.4246), cv_fixed(43.60)};
    memset(&err, 0, sizeof err);
    assert_int_equal(cv_snap_point(M.g, far, &o, &c, &err), CV_ENOSEGMENT);
    assert_non_null(strstr(err.text, "300 m"));
}

static void test_known_places(void **state)
{
    (void)state;
    static const struct {
        double lon, lat;
    } places[] = {
        {7.4275, 43.7396}, /* Casino square */
        {7.4246, 43.7384}, /* Monte-Carlo */
        {7.4230, 43.7350}, /* Port Hercule */
        {7.4160, 43.7290}, /* Fontvieille */
        {7.4210, 43.7310}, /* Monaco-Ville */
        {7.4370, 43.7470}, /* Larvotto */
        {7.4190, 43.7400}, /* Beausoleil-side heights */
        {7.4480, 43.7560}, /* Roquebrune-Cap-Martin side */
        {7.3950, 43.7250}, /* Cap-d'Ail */
    };
    cv_snap_options o = cv_snap_defaults();
    cv_snap_options any = o;
    any.any_component = 1;
    for (size_t i = 0; i < NELEM(places); i++) {
        cv_coord p = {cv_fixed(places[i].lon), cv_fixed(places[i].lat)};
        cv_snap s;
        cv_error err;
        if (cv_snap_point(M.g, p, &o, &s, &err))
            fail_msg("%.4f,%.4f: %s", places[i].lon, places[i].lat, err.text);
        check_snap(M.g, p, &s, CV_SNAP_DEFAULT_MAX_M);
        assert_true(s.distance_m < 150.0); /* these are all in built-up streets */
        assert_true(edge_in_largest(M.g, s.edge));
        check_against_brute(M.g, p, &o);
        check_against_brute(M.g, p, &any);
    }
}

static void test_points_on_nodes_and_geometry(void **state)
{
    (void)state;
    const cv_graph *g = M.g;
    cv_snap_options any = cv_snap_defaults();
    any.any_component = 1;
    cv_snap_options def = cv_snap_defaults();
    /* every edge end, and every 5th geometry point: distance 0 */
    for (uint32_t e = 0; e < g->hdr.nedges; e++) {
        cv_coord ends[2] = {g->a.node_coord[g->a.edges[e].u], g->a.node_coord[g->a.edges[e].v]};
        for (int k = 0; k < 2; k++) {
            cv_snap s;
            cv_error err;
            assert_int_equal(cv_snap_point(g, ends[k], &any, &s, &err), 0);
            check_snap(g, ends[k], &s, 300);
            assert_true(s.distance_m < 1e-6);
            assert_int_equal(s.location.lon, ends[k].lon);
            assert_int_equal(s.location.lat, ends[k].lat);
            /* on an edge end of the largest component: distance 0 with the defaults too */
            if (edge_in_largest(g, e)) {
                assert_int_equal(cv_snap_point(g, ends[k], &def, &s, &err), 0);
                assert_true(s.distance_m < 1e-6);
                assert_true(edge_in_largest(g, s.edge));
            }
        }
    }
    for (uint32_t i = 0; i < g->hdr.npoints; i += 5) {
        cv_snap s;
        cv_error err;
        cv_coord p = g->a.points[i];
        assert_int_equal(cv_snap_point(g, p, &any, &s, &err), 0);
        check_snap(g, p, &s, 300);
        assert_true(s.distance_m < 1e-6);
        /* at the start of an edge's geometry, snapped onto that edge at t = 0: nothing before the point */
        if (s.edge == M.edge_of_point[i] && s.point == i && s.t == 0.0) {
            assert_int_equal(s.from_u_dm, 0);
            assert_int_equal(s.from_u_ds, 0);
        }
    }
}

static void test_fill_ends(void **state)
{
    (void)state;
    const cv_graph *g = M.g;
    for (uint32_t e = 0; e < g->hdr.nedges; e += 3) {
        const cv_edge *ed = &g->a.edges[e];
        cv_snap s;
        memset(&s, 0, sizeof s);
        s.edge = e;
        s.point = g->a.edge_first_point[e];
        s.t = 0;
        cv_snap_fill(g, &s);
        assert_int_equal(s.from_u_dm, 0);
        assert_int_equal(s.to_v_dm, ed->length_dm);
        assert_int_equal(s.from_u_ds, 0);
        assert_int_equal(s.to_v_ds, ed->duration_ds);
        s.point = g->a.edge_first_point[e + 1] - 2;
        s.t = 1;
        cv_snap_fill(g, &s);
        assert_int_equal(s.from_u_dm, ed->length_dm);
        assert_int_equal(s.to_v_dm, 0);
        assert_int_equal(s.from_u_ds, ed->duration_ds);
        assert_int_equal(s.to_v_ds, 0);
        /* monotone along the edge */
        uint32_t prev = 0;
        for (uint32_t k = g->a.edge_first_point[e]; k + 1 < g->a.edge_first_point[e + 1]; k++)
            for (int h = 0; h <= 4; h++) {
                s.point = k;
                s.t = h / 4.0;
                cv_snap_fill(g, &s);
                assert_true(s.from_u_dm >= prev);
                prev = s.from_u_dm;
                assert_int_equal((uint64_t)s.from_u_dm + s.to_v_dm, ed->length_dm);
                assert_int_equal((uint64_t)s.from_u_ds + s.to_v_ds, ed->duration_ds);
            }
    }
}

static void test_random_points_match_brute_force(void **state)
{
    (void)state;
    const cv_graph *g = M.g;
    cv_snap_options any = cv_snap_defaults(), def = cv_snap_defaults();
    any.any_component = 1;
    int found = 0, none = 0;
    for (int i = 0; i < 2000; i++) {
        cv_coord p = random_in_bbox(g, 0);
        check_against_brute(g, p, &any);
        check_against_brute(g, p, &def);
        cv_snap s;
        cv_error err;
        if (cv_snap_point(g, p, &any, &s, &err) == 0)
            found++;
        else
            none++;
    }
    /* the box holds streets and sea: both outcomes occur */
    assert_true(found > 200);
    assert_true(none > 20);
}

static void test_random_limits_and_exclusions_match_brute_force(void **state)
{
    (void)state;
    const cv_graph *g = M.g;
    static const double maxes[] = {1, 5, 25, 60, 100, 299.5, 700, 1500, 3000};
    for (int i = 0; i < 600; i++) {
        cv_snap_options o = cv_snap_defaults();
        o.max_distance_m = maxes[rng_next() % NELEM(maxes)];
        o.any_component = (int)(rng_next() & 1);
        switch (rng_next() % 4) {
        case 0:
            o.exclude_classes = 0;
            break;
        case 1: /* motorways and trunks, as a "no highway" option would */
            o.exclude_classes =
                1u << CV_RC_MOTORWAY | 1u << CV_RC_MOTORWAY_LINK | 1u << CV_RC_TRUNK | 1u << CV_RC_TRUNK_LINK;
            break;
        case 2: /* the small roads */
            o.exclude_classes =
                1u << CV_RC_RESIDENTIAL | 1u << CV_RC_SERVICE | 1u << CV_RC_LIVING_STREET | 1u << CV_RC_UNCLASSIFIED;
            break;
        default:
            o.exclude_classes = (uint32_t)rng_next() & ((1u << CV_RC_COUNT) - 1);
            break;
        }
        /* inside the box, and up to ~2 km around it (the search starts outside the grid) */
        cv_coord p = random_in_bbox(g, i % 3 == 0 ? 250000 : 0);
        check_against_brute(g, p, &o);
    }
}

static void test_max_distance_respected(void **state)
{
    (void)state;
    const cv_graph *g = M.g;
    cv_snap_options o = cv_snap_defaults();
    o.any_component = 1;
    int tried = 0;
    for (int i = 0; i < 3000 && tried < 200; i++) {
        cv_coord p = random_in_bbox(g, 0);
        cv_snap s;
        cv_error err;
        o.max_distance_m = 300;
        if (cv_snap_point(g, p, &o, &s, &err) != 0 || s.distance_m < 2.0)
            continue;
        tried++;
        double d = s.distance_m;
        /* just under the nearest road's distance: nothing */
        o.max_distance_m = d * 0.999;
        memset(&err, 0, sizeof err);
        assert_int_equal(cv_snap_point(g, p, &o, &s, &err), CV_ENOSEGMENT);
        assert_int_equal(err.code, CV_ENOSEGMENT);
        o.max_distance_m = d / 2;
        assert_int_equal(cv_snap_point(g, p, &o, &s, &err), CV_ENOSEGMENT);
        /* just over: the same distance */
        o.max_distance_m = d + 1e-6;
        assert_int_equal(cv_snap_point(g, p, &o, &s, &err), 0);
        assert_true(fabs(s.distance_m - d) < 1e-9);
        o.max_distance_m = d * 10;
        assert_int_equal(cv_snap_point(g, p, &o, &s, &err), 0);
        assert_true(fabs(s.distance_m - d) < 1e-9);
    }
    assert_int_equal(tried, 200);
}

static void test_off_the_map(void **state)
{
    (void)state;
    const cv_graph *g = M.g;
    /* 5 km east of the easternmost road */
    int32_t lat = (int32_t)(((int64_t)g->hdr.bbox[1] + g->hdr.bbox[3]) / 2);
    double dlon = 5000.0 / (M_PER_DEG * cos(cv_deg(lat) * CV_PI / 180.0));
    cv_coord p = {g->hdr.bbox[2] + cv_fixed(dlon), lat};
    cv_snap s;
    cv_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(cv_snap_point(g, p, NULL, &s, &err), CV_ENOSEGMENT);
    assert_int_equal(err.code, CV_ENOSEGMENT);
    char want[64];
    snprintf(want, sizeof want, "%.7f,%.7f", cv_deg(p.lon), cv_deg(p.lat));
    if (!strstr(err.text, want))
        fail_msg("message does not name the point %s: %s", want, err.text);
    assert_non_null(strstr(err.text, "300 m"));
    assert_null(strchr(err.text, '\n'));
    /* with a 10 km reach the same point snaps, at least 5 km away, as the brute force says */
    cv_snap_options o = cv_snap_defaults();
    o.max_distance_m = 10000;
    assert_int_equal(cv_snap_point(g, p, &o, &s, &err), 0);
    assert_true(s.distance_m >= 4999.0 && s.distance_m <= 10000.0);
    check_against_brute(g, p, &o);
    o.any_component = 1;
    check_against_brute(g, p, &o);
    /* the same west, north and south of the map */
    cv_coord others[3] = {{g->hdr.bbox[0] - cv_fixed(dlon), lat},
                          {(g->hdr.bbox[0] + g->hdr.bbox[2]) / 2, g->hdr.bbox[3] + cv_fixed(5000.0 / M_PER_DEG)},
                          {(g->hdr.bbox[0] + g->hdr.bbox[2]) / 2, g->hdr.bbox[1] - cv_fixed(5000.0 / M_PER_DEG)}};
    for (int k = 0; k < 3; k++) {
        memset(&err, 0, sizeof err);
        assert_int_equal(cv_snap_point(g, others[k], NULL, &s, &err), CV_ENOSEGMENT);
        snprintf(want, sizeof want, "%.7f,%.7f", cv_deg(others[k].lon), cv_deg(others[k].lat));
        assert_non_null(strstr(err.text, want));
        o.any_component = k & 1;
        check_against_brute(g, others[k], &o);
    }
    /* far away: the other side of the world, the corners of the coordinate space */
    cv_coord farp[] = {{0, 0},
                       {cv_fixed(-74.0), cv_fixed(40.7)},
                       {cv_fixed(180), cv_fixed(89)},
                       {cv_fixed(-180), cv_fixed(-89)},
                       {cv_fixed(7.42), cv_fixed(-43.7)}};
    for (size_t k = 0; k < NELEM(farp); k++) {
        memset(&err, 0, sizeof err);
        assert_int_equal(cv_snap_point(g, farp[k], NULL, &s, &err), CV_ENOSEGMENT);
        snprintf(want, sizeof want, "%.7f,%.7f", cv_deg(farp[k].lon), cv_deg(farp[k].lat));
        assert_non_null(strstr(err.text, want));
    }
}

/* Runs cv_snap_point in a child process so that a search that never ends fails the test instead of hanging it.
   Returns the child's exit status: the snap's return code negated, or -1 when it had to be killed. */
static int snap_in_child(const cv_graph *g, cv_coord p, const cv_snap_options *o, double seconds, double *took)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        cv_snap s;
        cv_error err;
        int rc = cv_snap_point(g, p, o, &s, &err);
        _exit(-rc);
    }
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        assert_true(r == 0 || errno == EINTR);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9 > seconds) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            *took = seconds;
            return -1;
        }
        struct timespec nap = {0, 5 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *took = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* Points at or next to a pole: the answer is "no road" and it must come at once. */
static void test_near_the_poles_answers_quickly(void **state)
{
    (void)state;
    static const double lats[] = {90.0, -90.0, 89.9999, -89.9999, 89.999, 89.99};
    for (size_t i = 0; i < NELEM(lats); i++) {
        cv_coord p = {cv_fixed(7.42), cv_fixed(lats[i])};
        double took = 0;
        int st = snap_in_child(M.g, p, NULL, 3.0, &took);
        if (st < 0)
            fail_msg("cv_snap_point(7.42,%g) still searching after %.1f s (killed)", lats[i], took);
        assert_int_equal(st, -CV_ENOSEGMENT);
        if (took > 1.0)
            fail_msg("cv_snap_point(7.42,%g) took %.1f s", lats[i], took);
    }
}

static void test_exclude_every_class(void **state)
{
    (void)state;
    const cv_graph *g = M.g;
    cv_snap_options o = cv_snap_defaults();
    o.exclude_classes = (1u << CV_RC_COUNT) - 1;
    cv_coord on_node = g->a.node_coord[g->a.edges[0].u];
    cv_coord places[3] = {on_node, {cv_fixed(7.4246), cv_fixed(43.7384)}, g->a.points[g->hdr.npoints / 2]};
    for (int k = 0; k < 3; k++) {
        cv_snap s;
        cv_error err;
        memset(&err, 0, sizeof err);
        o.any_component = k & 1;
        assert_int_equal(cv_snap_point(g, places[k], &o, &s, &err), CV_ENOSEGMENT);
        assert_int_equal(err.code, CV_ENOSEGMENT);
        o.exclude_classes = UINT32_MAX;
        assert_int_equal(cv_snap_point(g, places[k], &o, &s, &err), CV_ENOSEGMENT);
        o.exclude_classes = (1u << CV_RC_COUNT) - 1;
        /* excluding only the class of the road under the point moves the answer to another class */
        cv_snap_options one = cv_snap_defaults();
        one.any_component = 1;
        assert_int_equal(cv_snap_point(g, places[k], &one, &s, &err), 0);
        uint8_t rc = g->a.edges[s.edge].road_class;
        one.exclude_classes = 1u << rc;
        one.max_distance_m = 3000;
        assert_int_equal(cv_snap_point(g, places[k], &one, &s, &err), 0);
        assert_true(g->a.edges[s.edge].road_class != rc);
        check_against_brute(g, places[k], &one);
    }
    /* every class but one: only that class */
    for (int c = 0; c < CV_RC_COUNT; c++) {
        cv_snap_options only = cv_snap_defaults();
        only.exclude_classes = ((1u << CV_RC_COUNT) - 1) & ~(1u << c);
        only.max_distance_m = 2000;
        only.any_component = 1;
        cv_snap s;
        cv_error err;
        cv_coord p = {cv_fixed(7.4246), cv_fixed(43.7384)};
        if (cv_snap_point(g, p, &only, &s, &err) == 0)
            assert_int_equal(g->a.edges[s.edge].road_class, c);
        check_against_brute(g, p, &only);
    }
}

/* A point on a junction of the main network snaps there, even when the junction's own routing node (the one for
   arriving by a single road, a one-way no-through lane here) is outside the largest component (a regression:
   every road of that junction lost the preference and the point went to a road 9.8 m away). */
static void test_junction_of_the_main_network(void **state)
{
    (void)state;
    const cv_graph *g = M.g;
    cv_snap s;
    cv_snap_options def = cv_snap_defaults();
    assert_int_equal(cv_snap_point(g, (cv_coord){cv_fixed(7.4268580), cv_fixed(43.7393495)}, &def, &s, NULL), 0);
    assert_true(s.distance_m < 0.05);
    /* and the same for every junction with a node in the main network whose own node is not */
    int checked = 0;
    for (uint32_t j = 0; j < g->hdr.njunctions; j++) {
        if (g->a.node_component[j] == g->hdr.largest_component || !junction_in_largest(g, j))
            continue;
        assert_int_equal(cv_snap_point(g, g->a.node_coord[j], &def, &s, NULL), 0);
        assert_true(s.distance_m < 0.05);
        checked++;
    }
    assert_true(checked >= 1);
}

/* Points on edges outside the largest component: the default snap takes an edge of the largest component when one
   is within range, else the island edge itself. */
static void test_largest_component_preferred(void **state)
{
    (void)state;
    const cv_graph *g = M.g;
    assert_true(g->hdr.ncomponents > 1); /* Monaco has car parks and private roads cut off from the network */
    cv_snap_options def = cv_snap_defaults(), any = cv_snap_defaults();
    any.any_component = 1;
    int islands = 0, moved = 0, kept = 0;
    for (uint32_t e = 0; e < g->hdr.nedges; e++) {
        if (edge_in_largest(g, e))
            continue;
        islands++;
        /* the middle of the edge's middle segment */
        uint32_t first = g->a.edge_first_point[e], n = g->a.edge_first_point[e + 1] - first;
        uint32_t k = first + (n - 1) / 2;
        cv_coord a = g->a.points[k], b = g->a.points[k + 1];
        cv_coord p = {(int32_t)(((int64_t)a.lon + b.lon) / 2), (int32_t)(((int64_t)a.lat + b.lat) / 2)};
        brute br = brute_force(g, p, CV_SNAP_DEFAULT_MAX_M, 0);
        assert_true(br.any_found && br.any_d < 0.05);
        cv_snap s;
        cv_error err;
        /* any component: the nearest road, on the island (or another road through the very same point) */
        assert_int_equal(cv_snap_point(g, p, &any, &s, &err), 0);
        assert_true(fabs(s.distance_m - br.any_d) < 1e-6);
        /* default */
        assert_int_equal(cv_snap_point(g, p, &def, &s, &err), 0);
        check_snap(g, p, &s, CV_SNAP_DEFAULT_MAX_M);
        if (br.big_found) {
            assert_true(edge_in_largest(g, s.edge));
            assert_true(fabs(s.distance_m - br.big_d) < 1e-6);
            if (br.big_d > br.any_d + 1e-6)
                moved++;
        } else {
            assert_false(edge_in_largest(g, s.edge));
            assert_true(fabs(s.distance_m - br.any_d) < 1e-6);
            kept++;
        }
    }
    assert_true(islands > 0);
    assert_true(moved > 0); /* at least one island road gives way to a farther road of the main network */
    print_message("      %d island edges: %d snapped to a farther main-network road, %d kept (none in range)\n",
                  islands, moved, kept);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_known_places),
        cmocka_unit_test(test_points_on_nodes_and_geometry),
        cmocka_unit_test(test_fill_ends),
        cmocka_unit_test(test_random_points_match_brute_force),
        cmocka_unit_test(test_random_limits_and_exclusions_match_brute_force),
        cmocka_unit_test(test_max_distance_respected),
        cmocka_unit_test(test_off_the_map),
        cmocka_unit_test(test_near_the_poles_answers_quickly),
        cmocka_unit_test(test_exclude_every_class),
        cmocka_unit_test(test_largest_component_preferred),
        cmocka_unit_test(test_junction_of_the_main_network),
    };
    return cmocka_run_group_tests(tests, setup_monaco, teardown_monaco);
}
