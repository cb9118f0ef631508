/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_route.c — the router on real extracts: bidirectional Dijkstra equals an independent one-way Dijkstra,
   route lengths equal their geometry, and known trips have plausible lengths and times. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routing/graph_build.h"
#include "osm/osm_network.h"
#include "test_support.h"
#include "routing/route.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static cv_graph *load(const char *pbf, const char *name)
{
    return tst_build_graph(pbf, name);
}

static cv_snap random_snap(const cv_graph *g)
{
    return tst_random_snap(g, &rng, UINT32_MAX);
}

/* Reference: plain one-directional Dijkstra with a lazy-deletion heap, written independently of dijkstra.c.
   Returns the least weight from s to t, or UINT64_MAX. */
typedef struct item {
    uint64_t d;
    uint32_t n;
} item;

static void hpush(item *h, size_t *n, item x)
{
    size_t i = (*n)++;
    while (i > 0 && h[(i - 1) / 2].d > x.d) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = x;
}

static item hpop(item *h, size_t *n)
{
    item top = h[0], last = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && h[c + 1].d < h[c].d)
            c++;
        if (h[c].d >= last.d)
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = last;
    return top;
}

static uint64_t reference_weight(const cv_graph *g, const cv_snap *s, const cv_snap *t)
{
    uint32_t n = g->hdr.nnodes;
    uint64_t *dist = malloc(n * sizeof *dist);
    item *heap = malloc((g->hdr.narcs + 4) * sizeof *heap);
    for (uint32_t i = 0; i < n; i++)
        dist[i] = UINT64_MAX;
    size_t hn = 0;
    const cv_edge *es = &g->a.edges[s->edge], *et = &g->a.edges[t->edge];
    uint64_t best = UINT64_MAX;
    if (s->edge == t->edge) {
        double ps = s->point + s->t, pt = t->point + t->t;
        if ((es->flags & CV_EDGE_FORWARD) && ps <= pt)
            best = (uint64_t)t->from_u_ds - s->from_u_ds;
        if ((es->flags & CV_EDGE_BACKWARD) && ps >= pt && (uint64_t)s->from_u_ds - t->from_u_ds < best)
            best = (uint64_t)s->from_u_ds - t->from_u_ds;
    }
    /* a point exactly on a junction leaves it by any road: every routing node of the junction, at no cost */
    uint32_t copies[64];
    int s_at_u = s->from_u_dm == 0 && s->from_u_ds == 0, s_at_v = s->to_v_dm == 0 && s->to_v_ds == 0;
    int t_at_u = t->from_u_dm == 0 && t->from_u_ds == 0, t_at_v = t->to_v_dm == 0 && t->to_v_ds == 0;
    if (s_at_u || s_at_v) {
        uint32_t nc = cv_graph_node_copies(g, s_at_u ? es->u : es->v, copies, 64);
        for (uint32_t k = 0; k < nc; k++)
            hpush(heap, &hn, (item){0, copies[k]});
    } else {
        if (es->flags & CV_EDGE_FORWARD)
            hpush(heap, &hn, (item){s->to_v_ds, cv_graph_arc_head(g, s->edge << 1)});
        if (es->flags & CV_EDGE_BACKWARD)
            hpush(heap, &hn, (item){s->from_u_ds, cv_graph_arc_head(g, s->edge << 1 | 1)});
    }
    while (hn > 0) {
        item x = hpop(heap, &hn);
        if (dist[x.n] != UINT64_MAX)
            continue;
        dist[x.n] = x.d;
        for (uint32_t k = g->a.out_first[x.n]; k < g->a.out_first[x.n + 1]; k++)
            if (dist[g->a.out_arcs[k].node] == UINT64_MAX)
                hpush(heap, &hn, (item){x.d + g->a.out_arcs[k].weight, g->a.out_arcs[k].node});
    }
    /* enter the target edge from any node that may take its arc (copies of a split junction included), paying
       the arc's penalty; a target exactly on a junction is reached at any of its routing nodes */
    if (t_at_u || t_at_v) {
        uint32_t nc = cv_graph_node_copies(g, t_at_u ? et->u : et->v, copies, 64);
        for (uint32_t k = 0; k < nc; k++)
            if (dist[copies[k]] < best)
                best = dist[copies[k]];
    }
    for (uint32_t dir = 0; dir < 2 && !t_at_u && !t_at_v; dir++) {
        if (!(et->flags & (dir ? CV_EDGE_BACKWARD : CV_EDGE_FORWARD)))
            continue;
        uint32_t code = t->edge << 1 | dir, tails[64];
        uint32_t nt = cv_graph_arc_tails(g, code, tails, 64);
        for (uint32_t k = 0; k < nt; k++) {
            if (dist[tails[k]] == UINT64_MAX)
                continue;
            uint64_t c = dist[tails[k]] + (dir ? t->to_v_ds : t->from_u_ds) + cv_arc_penalty(g, tails[k], code);
            if (c < best)
                best = c;
        }
    }
    free(dist);
    free(heap);
    return best;
}

static double geometry_length(const cv_graph *g, const cv_path *p, size_t *npts)
{
    cv_coord *pts;
    size_t n;
    assert_int_equal(cv_path_geometry(g, p, &pts, &n), 0);
    double len = 0;
    for (size_t i = 0; i + 1 < n; i++)
        len += cv_distance_m(pts[i], pts[i + 1]);
    assert_true(n >= 1);
    assert_true(pts[0].lon == p->src.location.lon && pts[0].lat == p->src.location.lat);
    assert_true(pts[n - 1].lon == p->dst.location.lon && pts[n - 1].lat == p->dst.location.lat);
    free(pts);
    *npts = n;
    return len;
}

/* Compares against the reference and checks the geometry for `pairs` random pairs. */
static void check_random_pairs(const cv_graph *g, int pairs)
{
    cv_dijkstra *w = cv_dijkstra_new(g);
    assert_non_null(w);
    cv_path p = {0};
    int routed = 0;
    for (int i = 0; i < pairs; i++) {
        cv_snap s = random_snap(g), t = random_snap(g);
        cv_error err = {0};
        int rc = cv_dijkstra_route(w, &s, &t, &p, &err);
        uint64_t ref = reference_weight(g, &s, &t);
        if (ref == UINT64_MAX) {
            assert_int_equal(rc, CV_ENOROUTE);
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal((uint64_t)p.weight, ref);
        assert_true(p.duration_ds <= p.weight);
        /* the sum of the path's own edges gives back the weight, penalties included */
        size_t npts;
        double glen = geometry_length(g, &p, &npts);
        double d = p.distance_dm / 10.0;
        /* per-edge lengths are rounded to 0.1 m; snapped points to 1e-7 degrees */
        assert_true(fabs(glen - d) <= 0.1 * (double)(p.narcs + 2) + 0.001 * d);
        routed++;
    }
    assert_true(routed >= pairs * 9 / 10);
    cv_path_free(&p);
    cv_dijkstra_free(w);
}

static void test_monaco_random_pairs(void **state)
{
    (void)state;
    cv_graph *g = load(COVOIT_TEST_DATA "/monaco.osm.pbf", "route_monaco.cvg");
    check_random_pairs(g, 1000);
    cv_graph_close(g);
}

static void test_porto_random_pairs(void **state)
{
    (void)state;
    cv_graph *g = load(COVOIT_TEST_DATA "/../../data/porto.osm.pbf", "route_porto.cvg");
    check_random_pairs(g, 300);
    cv_graph_close(g);
}

/* Routes from a point to itself and along one edge both ways. */
static void test_same_edge(void **state)
{
    (void)state;
    cv_graph *g = load(COVOIT_TEST_DATA "/monaco.osm.pbf", "route_monaco2.cvg");
    cv_dijkstra *w = cv_dijkstra_new(g);
    cv_path p = {0};
    int twoway = 0, oneway = 0;
    for (int i = 0; i < 4000 && (twoway < 50 || oneway < 50); i++) {
        cv_snap s = random_snap(g), t = s;
        const cv_edge *e = &g->a.edges[s.edge];
        uint32_t n;
        const cv_coord *pts = cv_graph_edge_points(g, s.edge, &n);
        if (e->length_dm < 200 || s.point + 1 >= g->a.edge_first_point[s.edge] + n - 1)
            continue;
        /* t further along the edge than s */
        t.point = s.point + 1;
        t.t = 0.5;
        t.location = (cv_coord){
            (pts[t.point - g->a.edge_first_point[s.edge]].lon + pts[t.point - g->a.edge_first_point[s.edge] + 1].lon) /
                2,
            (pts[t.point - g->a.edge_first_point[s.edge]].lat + pts[t.point - g->a.edge_first_point[s.edge] + 1].lat) /
                2};
        cv_snap_fill(g, &t);
        int both = (e->flags & CV_EDGE_FORWARD) && (e->flags & CV_EDGE_BACKWARD);
        assert_int_equal(cv_dijkstra_route(w, &s, &s, &p, NULL), 0);
        assert_int_equal(p.duration_ds, 0);
        assert_int_equal(p.distance_dm, 0);
        if (both) {
            assert_int_equal(cv_dijkstra_route(w, &s, &t, &p, NULL), 0);
            assert_true(p.direct);
            assert_int_equal(p.distance_dm, t.from_u_dm - s.from_u_dm);
            assert_int_equal(cv_dijkstra_route(w, &t, &s, &p, NULL), 0);
            assert_true(p.direct);
            assert_int_equal(p.distance_dm, t.from_u_dm - s.from_u_dm);
            twoway++;
        } else if (e->flags & CV_EDGE_FORWARD) {
            assert_int_equal(cv_dijkstra_route(w, &s, &t, &p, NULL), 0);
            assert_true(p.direct);
            int rc = cv_dijkstra_route(w, &t, &s, &p, NULL);
            if (rc == 0) { /* against a oneway: the long way round, never a direct ride */
                assert_false(p.direct);
                assert_true(p.distance_dm > t.from_u_dm - s.from_u_dm);
                assert_int_equal((uint64_t)p.weight, reference_weight(g, &t, &s));
            }
            oneway++;
        }
    }
    assert_true(twoway >= 50);
    assert_true(oneway >= 10);
    cv_path_free(&p);
    cv_dijkstra_free(w);
    cv_graph_close(g);
}

typedef struct trip {
    const char *name;
    double lon1, lat1, lon2, lat2;
    double min_km, max_km, min_min, max_min;
} trip;

static void check_trips(const char *pbf, const char *name, const trip *trips, size_t n)
{
    cv_graph *g = load(pbf, name);
    cv_dijkstra *w = cv_dijkstra_new(g);
    cv_path p = {0};
    for (size_t i = 0; i < n; i++) {
        cv_snap s, t;
        cv_snap_options o = cv_snap_defaults();
        assert_int_equal(cv_snap_point(g, (cv_coord){cv_fixed(trips[i].lon1), cv_fixed(trips[i].lat1)}, &o, &s, NULL),
                         0);
        assert_int_equal(cv_snap_point(g, (cv_coord){cv_fixed(trips[i].lon2), cv_fixed(trips[i].lat2)}, &o, &t, NULL),
                         0);
        assert_int_equal(cv_dijkstra_route(w, &s, &t, &p, NULL), 0);
        double km = p.distance_dm / 1e4, min = p.duration_ds / 600.0;
        print_message("%s: %.2f km, %.1f min\n", trips[i].name, km, min);
        assert_true(km >= trips[i].min_km && km <= trips[i].max_km);
        assert_true(min >= trips[i].min_min && min <= trips[i].max_min);
        /* a route is never shorter than the straight line */
        assert_true(p.distance_dm / 10.0 + 1 >= cv_distance_m(s.location, t.location));
    }
    cv_path_free(&p);
    cv_dijkstra_free(w);
    cv_graph_close(g);
}

static void test_known_trips(void **state)
{
    (void)state;
    /* straight-line distances are 1.4 km, 2.3 km; by road in Monaco's hills and tunnels more */
    static const trip monaco[] = {
        {"Casino -> Fontvieille", 7.4275, 43.7394, 7.4167, 43.7307, 1.5, 5.0, 2.0, 12.0},
        {"Monaco-Ville -> Larvotto", 7.4230, 43.7310, 7.4350, 43.7450, 2.0, 6.0, 3.0, 14.0},
    };
    check_trips(COVOIT_TEST_DATA "/monaco.osm.pbf", "route_monaco3.cvg", monaco, 2);
    /* Porto: the centre to Matosinhos (7.3 km straight), Gaia to Maia (12.4 km straight) */
    static const trip porto[] = {
        {"Aliados -> Matosinhos", -8.6110, 41.1496, -8.6900, 41.1820, 8.0, 14.0, 8.0, 25.0},
        {"Gaia -> Maia", -8.6110, 41.1240, -8.6230, 41.2350, 12.5, 20.0, 10.0, 30.0},
    };
    check_trips(COVOIT_TEST_DATA "/../../data/porto.osm.pbf", "route_porto2.cvg", porto, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_monaco_random_pairs),
        cmocka_unit_test(test_porto_random_pairs),
        cmocka_unit_test(test_same_edge),
        cmocka_unit_test(test_known_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
