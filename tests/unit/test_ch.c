/* test_ch.c — the contraction hierarchy answers exactly what Dijkstra answers on the same graph (same integer
   weights), point to point and in tables, on the bundled extract and on every extract in ../shared/data. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ch.h"
#include "graph_build.h"
#include "osm_network.h"
#include "test_support.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t next_rand(void)
{
    return tst_rand(&rng);
}

static cv_graph *load(const char *pbf, const char *name)
{
    return tst_build_graph(pbf, name);
}

/* A random point on edge e (any component). */
static cv_snap snap_on(const cv_graph *g, uint32_t e)
{
    uint32_t n;
    const cv_coord *pts = cv_graph_edge_points(g, e, &n);
    cv_snap s = {0};
    s.edge = e;
    s.point = g->a.edge_first_point[e] + (uint32_t)(next_rand() % (n - 1));
    s.t = (double)(next_rand() % 1001) / 1000.0;
    const cv_coord *a = &g->a.points[s.point], *b = a + 1;
    s.location = (cv_coord){a->lon + (int32_t)(s.t * (b->lon - a->lon)), a->lat + (int32_t)(s.t * (b->lat - a->lat))};
    s.input = s.location;
    cv_snap_fill(g, &s);
    (void)pts;
    return s;
}

static cv_snap random_snap(const cv_graph *g)
{
    return snap_on(g, (uint32_t)(next_rand() % g->hdr.nedges));
}

static void compare(const cv_graph *g, cv_dijkstra *dj, cv_ch_query *ch, const cv_snap *s, const cv_snap *t,
                    cv_path *p1, cv_path *p2)
{
    int r1 = cv_dijkstra_route(dj, s, t, p1, NULL);
    int r2 = cv_ch_route(ch, s, t, p2, NULL);
    assert_int_equal(r1, r2);
    if (r1 != 0) {
        cv_table_cell none;
        assert_int_equal(cv_ch_cost(ch, s, t, &none), CV_ENOROUTE);
        return;
    }
    if (p1->weight != p2->weight)
        fail_msg("edge %u -> edge %u: dijkstra %u, ch %u", s->edge, t->edge, p1->weight, p2->weight);
    /* the cost-only query gives the same weight, and the duration and distance of a route of that weight */
    cv_table_cell cell;
    assert_int_equal(cv_ch_cost(ch, s, t, &cell), 0);
    assert_int_equal(cell.weight, p2->weight);
    if (p2->weight < CV_NO_THROUGH_PENALTY)
        assert_int_equal(cell.duration_ds, p2->duration_ds);
    /* without a penalty the weight is the duration, so both give the same duration */
    if (p1->weight < CV_NO_THROUGH_PENALTY)
        assert_int_equal(p1->duration_ds, p2->duration_ds);
    /* the unpacked path is a real path: consecutive arcs meet, and its weight adds up */
    uint64_t w = 0;
    for (size_t i = 0; i < p2->narcs; i++) {
        const cv_edge *e = &g->a.edges[p2->arcs[i] >> 1];
        w += e->duration_ds;
        if (i > 0) {
            const cv_edge *pe = &g->a.edges[p2->arcs[i - 1] >> 1];
            uint32_t phead = (p2->arcs[i - 1] & 1) ? pe->u : pe->v, tail = (p2->arcs[i] & 1) ? e->v : e->u;
            assert_int_equal(phead, tail);
        }
    }
    assert_true(w <= p2->weight);
}

static void check_pairs(cv_graph *g, int pairs, int restricted)
{
    cv_dijkstra *dj = cv_dijkstra_new(g);
    cv_ch_query *ch = cv_ch_query_new(g);
    assert_non_null(dj);
    assert_non_null(ch);
    cv_path p1 = {0}, p2 = {0};
    for (int i = 0; i < pairs; i++) {
        cv_snap s, t;
        if (restricted && g->hdr.nrestrictions > 0) {
            /* start on a restriction's from-edge, end near its via junction or anywhere */
            const cv_restriction *r = &g->a.restrictions[next_rand() % g->hdr.nrestrictions];
            s = snap_on(g, r->from_edge);
            t = (i & 1) ? random_snap(g) : snap_on(g, (uint32_t)(next_rand() % g->hdr.nedges));
            if (i % 4 == 0)
                t = snap_on(g, r->to_edge);
        } else {
            s = random_snap(g);
            t = random_snap(g);
        }
        compare(g, dj, ch, &s, &t, &p1, &p2);
    }
    cv_path_free(&p1);
    cv_path_free(&p2);
    cv_dijkstra_free(dj);
    cv_ch_query_free(ch);
}

/* Tables equal point-to-point answers cell by cell. */
static void check_tables(cv_graph *g, int rounds, size_t n)
{
    cv_ch_query *ch = cv_ch_query_new(g);
    cv_snap *src = malloc(n * sizeof *src), *dst = malloc(n * sizeof *dst);
    cv_table_cell *cells = malloc(n * n * sizeof *cells);
    cv_path p = {0};
    for (int r = 0; r < rounds; r++) {
        for (size_t i = 0; i < n; i++) {
            src[i] = random_snap(g);
            dst[i] = (i % 5 == 0) ? src[i] : random_snap(g); /* some cells on one edge */
        }
        assert_int_equal(cv_ch_table(ch, src, n, dst, n, cells, NULL), 0);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                int rc = cv_ch_route(ch, &src[i], &dst[j], &p, NULL);
                const cv_table_cell *c = &cells[i * n + j];
                if (rc == CV_ENOROUTE) {
                    assert_int_equal(c->weight, CV_INF_WEIGHT);
                    continue;
                }
                assert_int_equal(rc, 0);
                assert_int_equal(c->weight, p.weight);
                if (p.weight < CV_NO_THROUGH_PENALTY)
                    assert_int_equal(c->duration_ds, p.duration_ds);
            }
    }
    cv_path_free(&p);
    free(src), free(dst), free(cells);
    cv_ch_query_free(ch);
}

static void run_extract(const char *pbf, const char *name, int pairs)
{
    cv_graph *g = load(pbf, name);
    print_message("%s: %u nodes, %u restrictions, %u shortcuts\n", name, g->hdr.nnodes, g->hdr.nrestrictions,
                  g->hdr.nch_shortcuts);
    check_pairs(g, pairs, 0);
    check_pairs(g, pairs / 3, 1);
    check_tables(g, 3, 40);
    cv_graph_close(g);
}

static void test_bundled_porto(void **state)
{
    (void)state;
    run_extract(COVOIT_TEST_DATA "/../../data/porto.osm.pbf", "ch_porto.cvg", 10000);
}

static void test_monaco(void **state)
{
    (void)state;
    run_extract(COVOIT_TEST_DATA "/monaco.osm.pbf", "ch_monaco.cvg", 10000);
}

/* Every extract in ../shared/data, when the checkout has it beside it. */
static void test_shared_extracts(void **state)
{
    (void)state;
    static const char *const names[] = {"andorra", "heidelberg", "columbus"};
    int found = 0;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char pbf[1024], out[256];
        snprintf(pbf, sizeof pbf, "%s/../../../shared/data/%s.osm.pbf", COVOIT_TEST_DATA, names[i]);
        if (access(pbf, R_OK) != 0)
            continue;
        found++;
        snprintf(out, sizeof out, "ch_%s.cvg", names[i]);
        run_extract(pbf, out, 10000);
    }
    if (!found)
        print_message("../shared/data is absent: only the bundled extracts were checked\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_monaco),
        cmocka_unit_test(test_bundled_porto),
        cmocka_unit_test(test_shared_extracts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
