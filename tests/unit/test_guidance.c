/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_guidance.c — routing/guidance.c on the Monaco extract, for many random routes: steps are consistent with
   themselves (depart, arrive, sums, joined geometries, maneuvers at their intersections, bearings[in] and
   bearings[out] agreeing with bearing_before and bearing_after, roundabout exits) and with the path they cut;
   the same path gives the same steps whichever router found it; the summary. */
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
static uint64_t rng = 0x2545f4914f6cdd1dull;

static int setup(void **state)
{
    (void)state;
    graph = tst_build_graph(COVOIT_TEST_DATA "/monaco.osm.pbf", "guidance_monaco.cvg");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cv_graph_close(graph);
    return 0;
}

static cv_snap random_snap(void)
{
    return tst_random_snap(graph, &rng, UINT32_MAX);
}

static int same(cv_coord a, cv_coord b)
{
    return a.lon == b.lon && a.lat == b.lat;
}

static int bearing_close(int a, int b)
{
    int d = abs(a - b) % 360;
    return d <= 1 || d >= 359;
}

/* Every property a list of steps must have for path p. Counts maneuver types into types. */
static void check_steps(const cv_path *p, const cv_steps *S, unsigned *types)
{
    const cv_graph *g = graph;
    assert_true(S->n >= 2);
    assert_int_equal(S->steps[0].type, CV_MAN_DEPART);
    assert_int_equal(S->steps[S->n - 1].type, CV_MAN_ARRIVE);
    uint64_t dist = 0, dur = 0, w = 0;
    for (size_t k = 0; k < S->n; k++) {
        const cv_step *st = &S->steps[k];
        types[st->type]++;
        assert_true(k == 0 || k == S->n - 1 || (st->type != CV_MAN_DEPART && st->type != CV_MAN_ARRIVE));
        assert_true(st->name < g->hdr.nnames);
        assert_true(st->bearing_before < 360 && st->bearing_after < 360);
        dist += st->distance_dm, dur += st->duration_ds, w += st->weight;
        assert_true(st->weight >= st->duration_ds);
        /* geometry: from the maneuver, joined to the next step's */
        assert_true(st->npoints >= 2 && st->first_point + st->npoints <= S->npoints);
        const cv_coord *pts = S->points + st->first_point;
        assert_true(same(pts[0], st->location));
        if (k + 1 < S->n)
            assert_true(same(pts[st->npoints - 1], S->points[S->steps[k + 1].first_point]));
        /* the maneuver's intersection first, and its roads agree with the maneuver's bearings */
        assert_true(st->nintersections >= 1 && st->first_intersection + st->nintersections <= S->nintersections);
        const cv_intersection *x = &S->intersections[st->first_intersection];
        assert_true(same(x->location, st->location));
        for (size_t q = 0; q < st->nintersections; q++) {
            const cv_intersection *y = &x[q];
            assert_true(y->nbearings >= 1 && y->first_bearing + y->nbearings <= S->nbearings);
            assert_true(y->in < (int)y->nbearings && y->out < (int)y->nbearings);
            for (size_t b = 1; b < y->nbearings; b++)
                assert_true(S->bearings[y->first_bearing + b - 1] <= S->bearings[y->first_bearing + b]);
            if (y->out >= 0)
                assert_true(S->entry[y->first_bearing + (size_t)y->out]);
        }
        if (st->type == CV_MAN_DEPART) {
            assert_true(x->in < 0 && x->out == 0);
        } else if (st->type == CV_MAN_ARRIVE) {
            assert_true(x->in == 0 && x->out < 0);
            assert_true(st->distance_dm == 0 && st->duration_ds == 0 && st->weight == 0);
            assert_true(bearing_close(S->bearings[x->first_bearing], (st->bearing_before + 180) % 360));
        } else {
            assert_true(x->in >= 0 && x->out >= 0);
            assert_true(bearing_close(S->bearings[x->first_bearing + (size_t)x->out], st->bearing_after));
            assert_true(bearing_close(S->bearings[x->first_bearing + (size_t)x->in], (st->bearing_before + 180) % 360));
            assert_true(st->modifier != CV_MOD_NONE);
        }
        if (st->type == CV_MAN_EXIT_ROUNDABOUT)
            assert_true(st->exit >= 1);
        if (st->type == CV_MAN_ROUNDABOUT && k + 1 < S->n && S->steps[k + 1].type == CV_MAN_EXIT_ROUNDABOUT)
            assert_int_equal(st->exit, S->steps[k + 1].exit);
        assert_non_null(cv_maneuver_type_name(st->type));
    }
    assert_int_equal(dist, p->distance_dm);
    assert_int_equal(dur, p->duration_ds);
    assert_int_equal(w, p->weight);
    /* the whole geometry runs from the source to the destination */
    assert_true(same(S->steps[0].location, p->src.location));
    assert_true(same(S->steps[S->n - 1].location, p->dst.location));
}

static int same_steps(const cv_steps *a, const cv_steps *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t k = 0; k < a->n; k++)
        if (a->steps[k].type != b->steps[k].type || a->steps[k].modifier != b->steps[k].modifier ||
            a->steps[k].name != b->steps[k].name || a->steps[k].distance_dm != b->steps[k].distance_dm ||
            a->steps[k].exit != b->steps[k].exit)
            return 0;
    return 1;
}

static void test_random_routes(void **state)
{
    (void)state;
    cv_dijkstra *dj = cv_dijkstra_new(graph);
    cv_ch_query *ch = cv_ch_query_new(graph);
    assert_non_null(dj);
    assert_non_null(ch);
    cv_path a = {0}, b = {0};
    cv_steps sa = {0}, sb = {0};
    unsigned types[CV_MAN_COUNT] = {0};
    int compared = 0;
    for (int i = 0; i < 300; i++) {
        cv_snap s = random_snap(), t = random_snap();
        if (cv_ch_route(ch, &s, &t, &a, NULL) != 0)
            continue;
        assert_int_equal(cv_path_steps(graph, &a, &sa), 0);
        check_steps(&a, &sa, types);
        if (cv_dijkstra_route(dj, &s, &t, &b, NULL) != 0)
            continue;
        if (b.narcs == a.narcs && !memcmp(a.arcs, b.arcs, a.narcs * sizeof *a.arcs) && a.direct == b.direct) {
            assert_int_equal(cv_path_steps(graph, &b, &sb), 0);
            assert_true(same_steps(&sa, &sb));
            compared++;
        }
    }
    /* Monaco has every kind of junction but motorways */
    assert_true(compared > 100);
    assert_true(types[CV_MAN_TURN] > 50 && types[CV_MAN_NEW_NAME] > 50 && types[CV_MAN_ROUNDABOUT] > 5 &&
                types[CV_MAN_EXIT_ROUNDABOUT] > 5 && types[CV_MAN_CONTINUE] > 5);
    cv_path_free(&a), cv_path_free(&b);
    cv_steps_free(&sa), cv_steps_free(&sb);
    cv_steps_free(NULL);
    cv_dijkstra_free(dj);
    cv_ch_query_free(ch);
}

/* A route from a point to itself: depart and arrive, nothing travelled, geometries of one point twice. */
static void test_zero_length(void **state)
{
    (void)state;
    cv_snap s = random_snap();
    cv_ch_query *ch = cv_ch_query_new(graph);
    cv_path p = {0};
    assert_int_equal(cv_ch_route(ch, &s, &s, &p, NULL), 0);
    cv_steps S = {0};
    assert_int_equal(cv_path_steps(graph, &p, &S), 0);
    unsigned types[CV_MAN_COUNT] = {0};
    check_steps(&p, &S, types);
    assert_int_equal(S.n, 2);
    assert_int_equal(S.steps[0].distance_dm, 0);
    cv_path_free(&p);
    cv_steps_free(&S);
    cv_ch_query_free(ch);
}

/* A point a few centimetres from a junction, on a one-way edge that cannot be driven away from that junction:
   the route ends (or starts) at the junction itself, and the steps neither announce a turn onto the one-way
   edge's forbidden direction nor lose the snapped point (a regression: a step onto an undrivable arc). */
static void test_points_next_to_a_junction(void **state)
{
    (void)state;
    cv_ch_query *ch = cv_ch_query_new(graph);
    cv_path p = {0};
    cv_steps S = {0};
    unsigned types[CV_MAN_COUNT] = {0};
    int tried = 0;
    for (uint32_t e = 0; e < graph->hdr.nedges && tried < 40; e++) {
        const cv_edge *ed = &graph->a.edges[e];
        if ((ed->flags & (CV_EDGE_FORWARD | CV_EDGE_BACKWARD)) != CV_EDGE_BACKWARD || ed->length_dm < 200 ||
            graph->a.node_component[ed->u] != graph->hdr.largest_component)
            continue;
        /* 2 cm from u, along the edge: within the rounding of a decimetre */
        cv_snap t;
        memset(&t, 0, sizeof t);
        t.edge = e;
        t.point = graph->a.edge_first_point[e];
        const cv_coord *a = &graph->a.points[t.point], *b = a + 1;
        double seg = cv_distance_m(*a, *b);
        t.t = seg > 0 ? 0.02 / seg : 0;
        t.location = (cv_coord){a->lon + (int32_t)lround(t.t * (b->lon - a->lon)),
                                a->lat + (int32_t)lround(t.t * (b->lat - a->lat))};
        t.input = t.location;
        cv_snap_fill(graph, &t);
        for (int dir = 0; dir < 2; dir++) {
            cv_snap s = random_snap();
            int rc = dir ? cv_ch_route(ch, &t, &s, &p, NULL) : cv_ch_route(ch, &s, &t, &p, NULL);
            if (rc != 0)
                continue;
            assert_int_equal(cv_path_steps(graph, &p, &S), 0);
            check_steps(&p, &S, types);
            tried++;
        }
    }
    assert_true(tried >= 10);
    cv_path_free(&p);
    cv_steps_free(&S);
    cv_ch_query_free(ch);
}

/* The summary: the two longest roads in route order; one road alone; nothing when no road has a name. */
static void test_summary(void **state)
{
    (void)state;
    const cv_graph *g = graph;
    /* three named edges with different names (and the unnamed entry) to build steps by hand */
    uint32_t nm[3];
    int k = 0;
    for (uint32_t i = 1; i < g->hdr.nnames && k < 3; i++) {
        if (!g->a.names[i].name)
            continue;
        int dup = 0;
        for (int q = 0; q < k; q++)
            dup |= g->a.names[nm[q]].name == g->a.names[i].name;
        if (!dup)
            nm[k++] = i;
    }
    assert_int_equal(k, 3);
    cv_step st[5] = {{.name = nm[0], .distance_dm = 100},
                     {.name = 0, .distance_dm = 5000},
                     {.name = nm[1], .distance_dm = 300},
                     {.name = nm[2], .distance_dm = 200},
                     {.name = nm[0], .distance_dm = 150}};
    cv_steps S = {.steps = st, .n = 5};
    char buf[600], want[600];
    cv_steps_summary(g, &S, buf, sizeof buf);
    /* nm[0]: 250, nm[1]: 300, nm[2]: 200 -> nm[1] and nm[0], in route order: nm[0] first */
    snprintf(want, sizeof want, "%s, %s", cv_graph_string(g, g->a.names[nm[0]].name),
             cv_graph_string(g, g->a.names[nm[1]].name));
    assert_string_equal(buf, want);
    S.n = 2; /* nm[0] and an unnamed road */
    cv_steps_summary(g, &S, buf, sizeof buf);
    assert_string_equal(buf, cv_graph_string(g, g->a.names[nm[0]].name));
    S.steps = st + 1, S.n = 1;
    cv_steps_summary(g, &S, buf, sizeof buf);
    assert_string_equal(buf, "");
    char small[6];
    S.steps = st, S.n = 5;
    cv_steps_summary(g, &S, small, sizeof small);
    assert_true(strlen(small) <= 5 && !strncmp(small, want, strlen(small))); /* cut, at a character boundary */
    assert_true(((unsigned char)want[strlen(small)] & 0xc0) != 0x80);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_routes),
        cmocka_unit_test(test_zero_length),
        cmocka_unit_test(test_points_next_to_a_junction),
        cmocka_unit_test(test_summary),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
