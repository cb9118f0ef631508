/* SPDX-License-Identifier: AGPL-3.0-or-later */
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

#include "routing/ch.h"
#include "routing/graph_build.h"
#include "osm/osm_network.h"
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

/* The answer of ch (plain CH or hub labels) from s to t against Dijkstra's p1 (r1 its return code). */
static void check_one(const cv_graph *g, int r1, const cv_path *p1, cv_ch_query *ch, const cv_snap *s, const cv_snap *t,
                      cv_path *p2)
{
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
        w += cv_edge_duration(e, p2->arcs[i] & 1);
        if (i > 0) {
            const cv_edge *pe = &g->a.edges[p2->arcs[i - 1] >> 1];
            uint32_t phead = (p2->arcs[i - 1] & 1) ? pe->u : pe->v, tail = (p2->arcs[i] & 1) ? e->v : e->u;
            assert_int_equal(phead, tail);
        }
    }
    assert_true(w <= p2->weight);
}

static void compare(const cv_graph *g, cv_dijkstra *dj, cv_ch_query *ch, cv_ch_query *hl, const cv_snap *s,
                    const cv_snap *t, cv_path *p1, cv_path *p2)
{
    int r1 = cv_dijkstra_route(dj, s, t, p1, NULL);
    check_one(g, r1, p1, ch, s, t, p2);
    if (hl)
        check_one(g, r1, p1, hl, s, t, p2);
}

/* A workspace answering from hub labels. */
static cv_ch_query *labelled(const cv_graph *g, const cv_hub_labels *hl)
{
    cv_ch_query *q = cv_ch_query_new(g);
    assert_non_null(q);
    assert_int_equal(cv_ch_use_labels(q, hl), 0);
    return q;
}

/* Random pairs (or pairs starting on a restriction's from-edge) answered by CH, and by hub labels when hl is
   given, against Dijkstra. */
static void check_pairs(cv_graph *g, const cv_hub_labels *hl, int pairs, int restricted)
{
    cv_dijkstra *dj = cv_dijkstra_new(g);
    cv_ch_query *ch = cv_ch_query_new(g);
    cv_ch_query *lq = hl ? labelled(g, hl) : NULL;
    assert_non_null(dj);
    assert_non_null(ch);
    cv_path p1 = {0}, p2 = {0};
    for (int i = 0; i < pairs; i++) {
        cv_snap s, t;
        if (restricted && g->hdr.nrestrictions > 0) {
            /* start on a restriction's from-edge, end on its to-edge, or anywhere */
            const cv_restriction *r = &g->a.restrictions[next_rand() % g->hdr.nrestrictions];
            const uint32_t *ra = g->a.restriction_arcs + r->first;
            s = snap_on(g, ra[0] >> 1);
            t = (i & 1) ? random_snap(g) : snap_on(g, (uint32_t)(next_rand() % g->hdr.nedges));
            if (i % 4 == 0)
                t = snap_on(g, ra[r->narcs - 1] >> 1);
        } else {
            s = random_snap(g);
            t = random_snap(g);
        }
        compare(g, dj, ch, lq, &s, &t, &p1, &p2);
    }
    cv_path_free(&p1);
    cv_path_free(&p2);
    cv_dijkstra_free(dj);
    cv_ch_query_free(ch);
    cv_ch_query_free(lq);
}

/* Tables equal point-to-point answers cell by cell (both from hub labels when hl is given). */
static void check_tables(cv_graph *g, const cv_hub_labels *hl, int rounds, size_t n)
{
    cv_ch_query *ch = hl ? labelled(g, hl) : cv_ch_query_new(g);
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

/* Labels are sorted by hub, start with the node itself at 0, and their hops lead to the same hub. */
static void check_labels(const cv_graph *g, const cv_hub_labels *hl)
{
    for (int d = 0; d < 2; d++)
        for (uint32_t r = 0; r < hl->n; r++) {
            uint32_t n;
            const cv_hl_entry *e = cv_hl_label(hl, d, r, &n, NULL);
            assert_true(n >= 1);
            int self = 0;
            for (uint32_t i = 0; i < n; i++) {
                if (i > 0)
                    assert_true(e[i - 1].hub < e[i].hub);
                assert_true(e[i].hub >= r);
                const cv_hl_hop *h = &hl->hop[d][hl->start[d][r] + i];
                if (e[i].hub == r) {
                    self = 1;
                    assert_int_equal(e[i].weight, 0);
                    assert_int_equal(h->next, CV_HL_END);
                } else {
                    assert_true(h->next < hl->nentries[d]);
                    assert_int_equal(hl->e[d][h->next].hub, e[i].hub);
                    assert_true(h->arc < g->hdr.nch_arcs);
                }
            }
            assert_true(self);
        }
}

/* The least of forward(s)[x] + backward(t)[x] over the nodes x of two search spaces. */
static uint64_t meet_spaces(uint32_t *w, const cv_space_entry *f, size_t nf, const cv_space_entry *b, size_t nb)
{
    for (size_t k = 0; k < nf; k++)
        w[f[k].node] = f[k].weight;
    uint64_t best = UINT64_MAX;
    for (size_t k = 0; k < nb; k++)
        if (w[b[k].node] != CV_INF_WEIGHT && (uint64_t)w[b[k].node] + b[k].weight < best)
            best = (uint64_t)w[b[k].node] + b[k].weight;
    for (size_t k = 0; k < nf; k++)
        w[f[k].node] = CV_INF_WEIGHT;
    return best;
}

/* Search spaces from labels meet like CH search spaces, and the two kinds can be mixed (the matcher's index may
   hold spaces of either kind): for random pairs, every combination gives the route's weight. */
static void check_spaces(const cv_graph *g, const cv_hub_labels *hl, int pairs)
{
    cv_ch_query *ch = cv_ch_query_new(g), *lq = labelled(g, hl);
    cv_space_entry *sp[4] = {NULL, NULL, NULL, NULL};
    size_t n[4], cap[4] = {0, 0, 0, 0};
    uint32_t *w = malloc(g->hdr.nnodes * sizeof *w);
    assert_non_null(w);
    for (uint32_t k = 0; k < g->hdr.nnodes; k++)
        w[k] = CV_INF_WEIGHT;
    for (int i = 0; i < pairs; i++) {
        cv_snap s = random_snap(g), t = random_snap(g);
        assert_int_equal(cv_ch_space(ch, &s, 1, &sp[0], &n[0], &cap[0], NULL), 0);
        assert_int_equal(cv_ch_space(lq, &s, 1, &sp[1], &n[1], &cap[1], NULL), 0);
        assert_int_equal(cv_ch_space(ch, &t, 0, &sp[2], &n[2], &cap[2], NULL), 0);
        assert_int_equal(cv_ch_space(lq, &t, 0, &sp[3], &n[3], &cap[3], NULL), 0);
        cv_table_cell c;
        int rc = cv_ch_cost(ch, &s, &t, &c);
        uint64_t direct = cv_path_direct_weight(g, &s, &t);
        for (int f = 0; f < 2; f++)
            for (int b = 2; b < 4; b++) {
                uint64_t m = meet_spaces(w, sp[f], n[f], sp[b], n[b]);
                m = direct < m ? direct : m;
                if (rc == CV_ENOROUTE)
                    assert_true(m == UINT64_MAX);
                else if (m != c.weight)
                    fail_msg("pair %d: %s forward and %s backward spaces meet at %llu, the route weighs %u", i,
                             f ? "label" : "CH", b == 3 ? "label" : "CH", (unsigned long long)m, c.weight);
            }
    }
    free(w);
    for (int k = 0; k < 4; k++)
        free(sp[k]);
    cv_ch_query_free(ch);
    cv_ch_query_free(lq);
}

/* A run of sources to one target (cv_ch_cost_to: the target's labels combined once) gives what each pair asked
   alone gives (cv_ch_cost), weight, duration and distance, with hub labels and without; runs interleaved with
   cv_ch_cost on other points, so that neither keeps a combination it should not. */
static void check_cost_to(const cv_graph *g, const cv_hub_labels *hl, int runs)
{
    cv_ch_query *ch = cv_ch_query_new(g), *lq = labelled(g, hl), *ref = labelled(g, hl);
    int reached = 0;
    for (int r = 0; r < runs; r++) {
        cv_snap t = random_snap(g);
        for (int i = 0; i < 20; i++) {
            cv_snap s = random_snap(g), u = random_snap(g);
            cv_table_cell a, b, c, x;
            int ra = cv_ch_cost(ref, &s, &t, &a), rb = cv_ch_cost_to(lq, &s, &t, &b),
                rc = cv_ch_cost_to(ch, &s, &t, &c);
            assert_int_equal(ra, rb);
            assert_int_equal(ra, rc);
            if (!ra) {
                reached++;
                assert_int_equal(a.weight, b.weight);
                assert_int_equal(a.duration_ds, b.duration_ds);
                assert_int_equal(a.distance_dm, b.distance_dm);
                assert_int_equal(a.weight, c.weight);
            }
            if (i % 7 == 3) /* another question in between, one to many */
                cv_ch_cost(lq, &u, &s, &x);
        }
    }
    assert_true(reached > runs * 10);
    cv_ch_query_free(ch);
    cv_ch_query_free(lq);
    cv_ch_query_free(ref);
}

static void run_extract(const char *pbf, const char *name, int pairs)
{
    cv_graph *g = load(pbf, name);
    print_message("%s: %u nodes, %u restrictions, %u shortcuts\n", name, g->hdr.nnodes, g->hdr.nrestrictions,
                  g->hdr.nch_shortcuts);
    cv_hub_labels *hl = NULL;
    cv_error err = {0};
    if (cv_hub_labels_build(g, 2, 0, NULL, &hl, &err))
        fail_msg("%s: hub labels: %s", name, err.text);
    print_message("%s: hub labels of %.1f + %.1f entries per node\n", name, (double)hl->nentries[1] / g->hdr.nnodes,
                  (double)hl->nentries[0] / g->hdr.nnodes);
    check_labels(g, hl);
    /* the estimate from 128 search spaces bounds the labels from above, closely */
    uint64_t est = cv_hub_labels_estimate(g, 128), real = cv_hub_labels_bytes(hl);
    print_message("%s: labels estimated at %.1f MB, built %.1f MB\n", name, est / 1048576.0, real / 1048576.0);
    assert_true(est >= real * 0.95 && est <= real * 1.5);
    check_pairs(g, hl, pairs, 0);
    check_pairs(g, hl, pairs / 3, 1);
    check_tables(g, NULL, 3, 40);
    check_tables(g, hl, 3, 40);
    check_spaces(g, hl, 1000);
    check_cost_to(g, hl, 50);
    cv_hub_labels_free(hl);
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

/* Labels over a memory limit are refused with a message naming it, and labels are tied to their graph. */
static void test_label_limits(void **state)
{
    (void)state;
    cv_graph *g = load(COVOIT_TEST_DATA "/monaco.osm.pbf", "ch_monaco_limits.cvg");
    cv_graph *other = load(COVOIT_TEST_DATA "/../../data/porto.osm.pbf", "ch_porto_limits.cvg");
    cv_hub_labels *hl = NULL;
    cv_error err = {0};
    /* far over: refused from the estimate, before anything is built */
    assert_int_equal(cv_hub_labels_build(g, 1, 64 * 1024, NULL, &hl, &err), CV_ETOOBIG);
    assert_null(hl);
    assert_non_null(strstr(err.text, "hub labels would exceed 0 MB: about "));
    assert_non_null(strstr(err.text, " MB, estimated from 256 search spaces"));
    assert_int_equal(cv_hub_labels_build(g, 1, 0, NULL, &hl, &err), 0);
    uint64_t bytes = cv_hub_labels_bytes(hl);
    cv_hub_labels_free(hl);
    /* a little over: the estimate lets it through, the build stops where the limit is crossed */
    uint64_t limit = bytes * 9 / 10;
    assert_true(cv_hub_labels_estimate(g, 128) / 5 * 4 <= limit);
    assert_int_equal(cv_hub_labels_build(g, 1, limit, NULL, &hl, &err), CV_ETOOBIG);
    assert_null(hl);
    if (!strstr(err.text, "hub labels would exceed 1 MB") ||
        (!strstr(err.text, " at level ") && !strstr(err.text, "with the unpacked arcs")))
        fail_msg("limit %llu bytes: %s", (unsigned long long)limit, err.text);
    /* at the size it takes, it is built */
    assert_int_equal(cv_hub_labels_build(g, 1, bytes + (1 << 20), NULL, &hl, &err), 0);
    assert_true(cv_hub_labels_bytes(hl) > 64 * 1024);
    cv_ch_query *q = cv_ch_query_new(other);
    assert_int_equal(cv_ch_use_labels(q, hl), CV_EINVAL);
    cv_ch_query_free(q);
    cv_hub_labels_free(hl);
    cv_graph_close(g);
    cv_graph_close(other);
}

/* A table whose searches reach the restart of the query numbers (every 2^31 queries of a workspace) gives the same
   cells as one far from it, with CH and with labels (the restart used to clear the buckets' stamps halfway
   through the sources, whose cells then stayed unreachable). */
static void test_table_across_restart(void **state)
{
    (void)state;
    cv_graph *g = load(COVOIT_TEST_DATA "/monaco.osm.pbf", "ch_monaco_restart.cvg");
    cv_hub_labels *hl = NULL;
    assert_int_equal(cv_hub_labels_build(g, 1, 0, NULL, &hl, NULL), 0);
    enum { N = 20 };
    cv_snap src[N], dst[N];
    for (int i = 0; i < N; i++)
        src[i] = random_snap(g), dst[i] = random_snap(g);
    cv_table_cell want[N * N], got[N * N];
    for (int labels = 0; labels < 2; labels++) {
        cv_ch_query *q = labels ? labelled(g, hl) : cv_ch_query_new(g);
        assert_int_equal(cv_ch_table(q, src, N, dst, N, want, NULL), 0);
        for (uint32_t left = 2; left < 2 * (2 * N + 4); left += 6) {
            cv_ch_query_set_number(q, UINT32_MAX - 2 - left);
            assert_int_equal(cv_ch_table(q, src, N, dst, N, got, NULL), 0);
            for (int k = 0; k < N * N; k++)
                if (got[k].weight != want[k].weight)
                    fail_msg("%s, %u query numbers before the restart: cell %d weighs %u, not %u",
                             labels ? "labels" : "CH", left, k, got[k].weight, want[k].weight);
        }
        cv_ch_query_free(q);
    }
    cv_hub_labels_free(hl);
    cv_graph_close(g);
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
        cmocka_unit_test(test_label_limits),
        cmocka_unit_test(test_table_across_restart),
        cmocka_unit_test(test_bundled_porto),
        cmocka_unit_test(test_shared_extracts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
