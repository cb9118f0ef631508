/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_path_annotation.c — cv_path_points (routing/path.c) on the Monaco extract, for many random routes:
   the points are those of cv_path_geometry, the running sums start at 0, never go down, end on the path's
   duration, distance and weight, agree with the turn-by-turn steps at every step's end (both cut the same path
   into the same edge shares), and the no-through penalty is added once, on one step of the geometry. */
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

#include "routing/ch.h"
#include "routing/graph_build.h"
#include "routing/guidance.h"
#include "osm/osm_network.h"
#include "routing/route.h"
#include "test_support.h"

static cv_graph *graph;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static int setup(void **state)
{
    (void)state;
    graph = tst_build_graph(COVOIT_TEST_DATA "/monaco.osm.pbf", "annotation_monaco.cvg");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cv_graph_close(graph);
    return 0;
}

static cv_snap random_snap(uint32_t on)
{
    return tst_random_snap(graph, &rng, on);
}

static int same(cv_coord a, cv_coord b)
{
    return a.lon == b.lon && a.lat == b.lat;
}

/* The edge code of part k of a non-direct path: 0 the first edge's, 1 + i arc i, narcs + 1 the last edge's. */
static uint32_t part_code(const cv_path *p, size_t k)
{
    if (k == 0)
        return p->src.edge << 1 | (uint32_t)!p->src_forward;
    if (k <= p->narcs)
        return p->arcs[k - 1];
    return p->dst.edge << 1 | (uint32_t)!p->dst_forward;
}

/* The penalty is added on the step that leaves the junction where the path first enters a no-through road from
   an open one (towards a point of that road), else on the last step. */
static void check_penalty_step(const cv_path *p, const cv_path_point *pp, size_t n)
{
    const cv_graph *g = graph;
    size_t j = 1;
    while (pp[j].weight - pp[j].duration_ds < 1e-9)
        j++;
    /* the step pp[j - 1] -> pp[j] carries it */
    size_t nparts = p->direct ? 1 : p->narcs + 2;
    for (size_t k = 1; k < nparts; k++) {
        uint32_t code = part_code(p, k), prev = part_code(p, k - 1);
        if ((g->a.edges[code >> 1].flags & CV_EDGE_NO_THROUGH) && !(g->a.edges[prev >> 1].flags & CV_EDGE_NO_THROUGH)) {
            uint32_t np;
            const cv_coord *ep = cv_graph_edge_points(g, code >> 1, &np);
            /* the junction is where the edge starts in travel order */
            assert_true(same(pp[j - 1].c, (code & 1) ? ep[np - 1] : ep[0]));
            int on_edge = k == nparts - 1 && same(pp[j].c, p->dst.location);
            for (uint32_t q = 0; q < np; q++)
                on_edge |= same(pp[j].c, ep[q]);
            assert_true(on_edge);
            return;
        }
    }
    assert_int_equal(j, n - 1);
}

/* Every property of the points of path p; S is scratch for its steps. Returns 1 when the path has a no-through
   penalty. */
static int check_points(const cv_path *p, cv_steps *S)
{
    cv_coord *geom = NULL;
    size_t ng = 0, n = 0;
    cv_path_point *pp = NULL;
    assert_int_equal(cv_path_geometry(graph, p, &geom, &ng), 0);
    assert_int_equal(cv_path_points(graph, p, &pp, &n), 0);
    assert_int_equal(n, ng);
    for (size_t i = 0; i < n; i++)
        assert_true(same(pp[i].c, geom[i]));
    if (n > 1)
        assert_true(pp[0].duration_ds == 0 && pp[0].distance_dm == 0 && pp[0].weight == 0);
    /* exact at the end: the sums there are integers */
    assert_true(pp[n - 1].duration_ds == (double)p->duration_ds);
    assert_true(pp[n - 1].distance_dm == (double)p->distance_dm);
    assert_true(pp[n - 1].weight == (double)p->weight);
    double penalty = (double)p->weight - p->duration_ds;
    int jumps = 0;
    for (size_t i = 1; i < n; i++) {
        assert_true(pp[i].duration_ds >= pp[i - 1].duration_ds);
        assert_true(pp[i].distance_dm >= pp[i - 1].distance_dm);
        /* weight is duration, plus the whole penalty from one step on */
        double before = pp[i - 1].weight - pp[i - 1].duration_ds, after = pp[i].weight - pp[i].duration_ds;
        assert_true(fabs(before) < 1e-9 || fabs(before - penalty) < 1e-9);
        assert_true(fabs(after) < 1e-9 || fabs(after - penalty) < 1e-9);
        jumps += fabs(after - before) > 1e-9;
    }
    assert_int_equal(jumps, penalty > 0 && n > 1 ? 1 : 0);
    if (jumps)
        check_penalty_step(p, pp, n);
    /* the steps cut the same shares at junctions: at each step's last point the running sums are the sums of the
       steps so far */
    assert_int_equal(cv_path_steps(graph, p, S), 0);
    uint64_t dur = 0, dist = 0;
    size_t at = 0;
    for (size_t k = 0; k + 1 < S->n; k++) {
        const cv_step *st = &S->steps[k];
        dur += st->duration_ds, dist += st->distance_dm;
        cv_coord end = S->points[st->first_point + st->npoints - 1];
        while (at < n && !same(pp[at].c, end))
            at++;
        assert_true(at < n);
        assert_true(fabs(pp[at].duration_ds - (double)dur) < 1e-6);
        assert_true(fabs(pp[at].distance_dm - (double)dist) < 1e-6);
    }
    free(geom);
    free(pp);
    return penalty > 0;
}

static void test_random_routes(void **state)
{
    (void)state;
    cv_ch_query *ch = cv_ch_query_new(graph);
    assert_non_null(ch);
    cv_steps S = {0};
    cv_path p = {0};
    int routes = 0, penalised = 0, direct = 0;
    for (int i = 0; i < 1500; i++) {
        /* now and then two points on one edge, for direct rides */
        cv_snap s = random_snap(UINT32_MAX), t = random_snap(i % 10 == 0 ? s.edge : UINT32_MAX);
        if (cv_ch_route(ch, &s, &t, &p, NULL) != 0)
            continue;
        routes++;
        direct += p.direct;
        penalised += check_points(&p, &S);
    }
    print_message("%d routes, %d with a no-through penalty, %d direct\n", routes, penalised, direct);
    assert_true(routes >= 1000);
    assert_true(penalised >= 10);
    assert_true(direct >= 10);
    cv_path_free(&p);
    cv_steps_free(&S);
    cv_ch_query_free(ch);
}

/* A route from a point to itself: one point, nothing travelled. */
static void test_zero_length(void **state)
{
    (void)state;
    cv_ch_query *ch = cv_ch_query_new(graph);
    cv_snap s = random_snap(UINT32_MAX);
    cv_path p = {0};
    assert_int_equal(cv_ch_route(ch, &s, &s, &p, NULL), 0);
    cv_path_point *pp = NULL;
    size_t n = 0;
    assert_int_equal(cv_path_points(graph, &p, &pp, &n), 0);
    assert_int_equal(n, 1);
    assert_true(pp[0].duration_ds == 0 && pp[0].distance_dm == 0 && pp[0].weight == 0);
    assert_true(same(pp[0].c, s.location));
    free(pp);
    cv_path_free(&p);
    cv_ch_query_free(ch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_routes),
        cmocka_unit_test(test_zero_length),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
