/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* bench_ch.c — contraction hierarchies on each extract: import + contraction time and memory, point-to-point
   query times against Dijkstra on the same pairs, and 100x100 / 1000x1000 tables; then the same queries answered
   from hub labels built from the hierarchy (build time, memory). Prints two tables and JSON.

   usage: bench_ch [--out FILE] [--pairs N] [--clock wall|cpu] PBF...   (run from a Release build; see bench/README.md)
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_util.h"
#include "routing/ch.h"
#include "routing/graph_build.h"
#include "osm/osm_network.h"

static uint64_t rng = 42;
static uint64_t next_rand(void)
{
    return bench_splitmix(&rng);
}

/* CLOCK_MONOTONIC by default; --clock cpu times with the thread's CPU time, for a machine shared with other work
   (queries and tables are single-threaded; import and contraction times stay on the wall clock). */
static clockid_t query_clock = CLOCK_MONOTONIC;

static double now_s(void)
{
    return bench_clock_s(CLOCK_MONOTONIC);
}

static double qnow_s(void)
{
    return bench_clock_s(query_clock);
}

/* A snapped point at the middle of a random edge of the largest component. */
static cv_snap random_snap(const cv_graph *g)
{
    for (;;) {
        uint32_t e = (uint32_t)(next_rand() % g->hdr.nedges);
        const cv_edge *ed = &g->a.edges[e];
        if (g->a.node_component[ed->u] != g->hdr.largest_component ||
            g->a.node_component[ed->v] != g->hdr.largest_component)
            continue;
        uint32_t n;
        const cv_coord *p = cv_graph_edge_points(g, e, &n);
        cv_coord m = {p[0].lon / 2 + p[1].lon / 2, p[0].lat / 2 + p[1].lat / 2};
        cv_snap s;
        cv_snap_options o = cv_snap_defaults();
        if (cv_snap_point(g, m, &o, &s, NULL) == 0)
            return s;
    }
}

typedef struct result {
    char name[64];
    uint32_t nodes, edges, shortcuts;
    double import_s, contract_s, peak_mb, file_mb;
    double cost_p50_us, ch_p50_us, ch_p95_us, dj_p50_us, dj_p95_us, speedup, ch_settled, dj_settled;
    double t100_ms, t1000_ms, t1000_us_entry, t100_us_entry;
    /* hub labels */
    double hl_build_s, hl_mb, hl_per_node, hl_cost_p50_us, hl_p50_us, hl_p95_us, hl_speedup, hl_t100_ms, hl_t1000_ms;
} result;

/* Route (with the path unpacked) and cost-only medians of q over the pairs; the route times stay in tc. */
static void time_pairs(cv_ch_query *q, const cv_snap *S, int pairs, double *tc, double *td, cv_path *p, double *settled,
                       double *cost_p50)
{
    for (int i = 0; i < pairs; i++) /* warm-up */
        cv_ch_route(q, &S[2 * i], &S[2 * i + 1], p, NULL);
    double sc = 0;
    for (int i = 0; i < pairs; i++) {
        double a = qnow_s();
        cv_ch_route(q, &S[2 * i], &S[2 * i + 1], p, NULL);
        tc[i] = (qnow_s() - a) * 1e6;
        sc += (double)cv_ch_settled(q);
    }
    /* the same pairs, cost only (no path unpacked) */
    for (int i = 0; i < pairs; i++) {
        cv_table_cell cell;
        double a = qnow_s();
        cv_ch_cost(q, &S[2 * i], &S[2 * i + 1], &cell);
        td[i] = (qnow_s() - a) * 1e6;
    }
    *cost_p50 = bench_percentile(td, pairs, 0.5);
    *settled = sc / pairs;
}

/* Median time of an n x n table from random points (20 runs for n = 100, 3 above). */
static double time_table(cv_ch_query *q, const cv_graph *g, size_t n)
{
    cv_snap *src = malloc(n * sizeof *src), *dst = malloc(n * sizeof *dst);
    uint64_t keep = rng;
    rng = 0x7ab1e + n; /* the same points for every kind of query */
    for (size_t i = 0; i < n; i++) {
        src[i] = random_snap(g);
        dst[i] = random_snap(g);
    }
    rng = keep;
    cv_table_cell *cells = malloc(n * n * sizeof *cells);
    int reps = n == 100 ? 20 : 3;
    double *tt = malloc(reps * sizeof *tt);
    for (int rep = 0; rep < reps; rep++) {
        double a = qnow_s();
        cv_ch_table(q, src, n, dst, n, cells, NULL);
        tt[rep] = (qnow_s() - a) * 1e3;
    }
    double ms = bench_percentile(tt, reps, 0.5);
    free(src), free(dst), free(cells), free(tt);
    return ms;
}

static int bench_one(const char *pbf, int pairs, result *r)
{
    const char *base = strrchr(pbf, '/') ? strrchr(pbf, '/') + 1 : pbf;
    snprintf(r->name, sizeof r->name, "%.*s", (int)strcspn(base, "."), base);
    char out[512];
    snprintf(out, sizeof out, "/tmp/bench_ch_%s.cvg", r->name);
    cv_error err = {0};
    cv_profile_options opt = cv_profile_defaults();
    cv_network net;
    double t0 = now_s();
    if (cv_network_read(pbf, &opt, NULL, &net, &err)) {
        fprintf(stderr, "bench_ch: %s\n", err.text);
        return -1;
    }
    cv_build_stats st;
    if (cv_graph_build(&net, pbf, out, NULL, &st, &err)) {
        fprintf(stderr, "bench_ch: %s\n", err.text);
        return -1;
    }
    r->import_s = now_s() - t0;
    cv_network_free(&net);
    cv_graph *g = cv_graph_open(out, &err);
    if (!g) {
        fprintf(stderr, "bench_ch: %s\n", err.text);
        return -1;
    }
    r->nodes = g->hdr.nnodes;
    r->edges = g->hdr.nedges;
    r->shortcuts = g->hdr.nch_shortcuts;
    r->file_mb = g->hdr.file_size / 1048576.0;
    /* contraction alone, again, on the file's arcs */
    cv_ch_data d;
    t0 = now_s();
    cv_ch_build(g->hdr.nnodes, g->a.out_first, g->a.out_arcs, g->a.edges, NULL, &d);
    r->contract_s = now_s() - t0;
    cv_ch_data_free(&d);

    cv_snap *S = malloc(2 * (size_t)pairs * sizeof *S);
    for (int i = 0; i < 2 * pairs; i++)
        S[i] = random_snap(g);
    cv_ch_query *ch = cv_ch_query_new(g);
    cv_dijkstra *dj = cv_dijkstra_new(g);
    cv_path p = {0};
    double *tc = malloc(pairs * sizeof *tc), *td = malloc(pairs * sizeof *td);
    /* each algorithm in its own loop, so that neither runs on caches the other has just emptied */
    time_pairs(ch, S, pairs, tc, td, &p, &r->ch_settled, &r->cost_p50_us);
    r->ch_p50_us = bench_percentile(tc, pairs, 0.5);
    r->ch_p95_us = bench_percentile(tc, pairs, 0.95);
    double sd = 0;
    for (int i = 0; i < pairs; i++) {
        double a = qnow_s();
        cv_dijkstra_route(dj, &S[2 * i], &S[2 * i + 1], &p, NULL);
        td[i] = (qnow_s() - a) * 1e6;
        sd += (double)cv_dijkstra_settled(dj);
    }
    r->dj_p50_us = bench_percentile(td, pairs, 0.5);
    r->dj_p95_us = bench_percentile(td, pairs, 0.95);
    r->speedup = r->dj_p50_us / r->ch_p50_us;
    r->dj_settled = sd / pairs;
    r->t100_ms = time_table(ch, g, 100);
    r->t100_us_entry = r->t100_ms * 1e3 / 1e4;
    r->t1000_ms = time_table(ch, g, 1000);
    r->t1000_us_entry = r->t1000_ms * 1e3 / 1e6;

    /* hub labels from the hierarchy, with every core, as the server builds them */
    cv_hub_labels *hl = NULL;
    if (cv_hub_labels_build(g, 0, 0, NULL, &hl, &err)) {
        fprintf(stderr, "bench_ch: %s\n", err.text);
        return -1;
    }
    r->hl_build_s = hl->build_s;
    r->hl_mb = (double)cv_hub_labels_bytes(hl) / 1048576.0;
    r->hl_per_node = (double)(hl->nentries[0] + hl->nentries[1]) / 2.0 / g->hdr.nnodes;
    cv_ch_query *lq = cv_ch_query_new(g);
    cv_ch_use_labels(lq, hl);
    double unused;
    time_pairs(lq, S, pairs, tc, td, &p, &unused, &r->hl_cost_p50_us);
    r->hl_p50_us = bench_percentile(tc, pairs, 0.5);
    r->hl_p95_us = bench_percentile(tc, pairs, 0.95);
    r->hl_speedup = r->dj_p50_us / r->hl_p50_us;
    r->hl_t100_ms = time_table(lq, g, 100);
    r->hl_t1000_ms = time_table(lq, g, 1000);
    cv_ch_query_free(lq);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    r->peak_mb = ru.ru_maxrss / 1024.0;
    cv_path_free(&p);
    free(tc), free(td), free(S);
    cv_ch_query_free(ch);
    cv_dijkstra_free(dj);
    cv_hub_labels_free(hl);
    cv_graph_close(g);
    remove(out);
    return 0;
}

int main(int argc, char **argv)
{
    const char *outp = "bench/results/ch.json";
    int pairs = 1000;
    result res[16];
    int nr = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--out") && i + 1 < argc)
            outp = argv[++i];
        else if (!strcmp(argv[i], "--clock") && i + 1 < argc && !strcmp(argv[i + 1], "cpu") && ++i)
            query_clock = CLOCK_THREAD_CPUTIME_ID;
        else if (!strcmp(argv[i], "--clock") && i + 1 < argc && !strcmp(argv[i + 1], "wall") && ++i)
            query_clock = CLOCK_MONOTONIC;
        else if (!strcmp(argv[i], "--pairs") && i + 1 < argc)
            pairs = atoi(argv[++i]);
        else if (nr < 16 && bench_one(argv[i], pairs > 0 ? pairs : 1000, &res[nr]) == 0)
            nr++;
    }
    printf("%-11s %7s %7s %8s %8s %9s %8s %7s %7s %7s %7s %8s %8s %9s %9s %8s\n", "extract", "nodes", "edges",
           "shortcut", "import_s", "contract", "file_MB", "cost50", "ch_p50", "ch_p95", "dj_p50", "speedup", "ch_sett",
           "t100_ms", "t1000_ms", "us/entry");
    for (int i = 0; i < nr; i++) {
        result *r = &res[i];
        printf("%-11s %7u %7u %8u %8.3f %9.3f %8.1f %7.2f %7.2f %7.2f %7.0f %8.0f %8.0f %9.2f %9.1f %8.3f\n", r->name,
               r->nodes, r->edges, r->shortcuts, r->import_s, r->contract_s, r->file_mb, r->cost_p50_us, r->ch_p50_us,
               r->ch_p95_us, r->dj_p50_us, r->speedup, r->ch_settled, r->t100_ms, r->t1000_ms, r->t1000_us_entry);
    }
    printf("\nhub labels (built from each hierarchy at start, not stored in the file):\n");
    printf("%-11s %8s %8s %9s %8s %8s %8s %9s %9s %9s %9s %9s\n", "extract", "build_s", "MB", "per_node", "cost50",
           "p2p50", "p2p95", "speedup", "t100_ms", "t1000_ms", "vs_ch_p2p", "vs_ch_t100");
    for (int i = 0; i < nr; i++) {
        result *r = &res[i];
        printf("%-11s %8.3f %8.1f %9.1f %8.2f %8.2f %8.2f %9.0f %9.3f %9.1f %8.1fx %8.1fx\n", r->name, r->hl_build_s,
               r->hl_mb, r->hl_per_node, r->hl_cost_p50_us, r->hl_p50_us, r->hl_p95_us, r->hl_speedup, r->hl_t100_ms,
               r->hl_t1000_ms, r->ch_p50_us / r->hl_p50_us, r->t100_ms / r->hl_t100_ms);
    }
    FILE *f = fopen(outp, "w");
    if (!f) {
        fprintf(stderr, "bench_ch: cannot write %s\n", outp);
        return 1;
    }
    fprintf(f, "{\"benchmark\": \"contraction hierarchies\", \"pairs\": %d, \"query_clock\": \"%s\", \"extracts\": [\n",
            pairs, query_clock == CLOCK_MONOTONIC ? "wall" : "thread cpu time");
    for (int i = 0; i < nr; i++) {
        result *r = &res[i];
        fprintf(
            f,
            "  {\"name\": \"%s\", \"nodes\": %u, \"edges\": %u, \"shortcuts\": %u, \"import_s\": %.4f, "
            "\"contraction_s\": %.4f, \"peak_rss_mb\": %.1f, \"file_mb\": %.2f, \"p2p_cost_only_median_us\": %.3f, "
            "\"p2p_ch_median_us\": %.3f, "
            "\"p2p_ch_p95_us\": %.3f, \"p2p_dijkstra_median_us\": %.2f, \"p2p_dijkstra_p95_us\": %.2f, "
            "\"speedup_median\": %.1f, \"ch_settled_mean\": %.1f, \"dijkstra_settled_mean\": %.1f, "
            "\"table_100_ms\": %.3f, \"table_100_us_per_entry\": %.4f, \"table_1000_ms\": %.2f, "
            "\"table_1000_us_per_entry\": %.4f, \"hub_labels\": {\"build_s\": %.4f, \"memory_mb\": %.1f, "
            "\"entries_per_node\": %.1f, \"p2p_cost_only_median_us\": %.3f, \"p2p_median_us\": %.3f, "
            "\"p2p_p95_us\": %.3f, \"speedup_median\": %.1f, \"table_100_ms\": %.3f, \"table_100_us_per_entry\": %.4f, "
            "\"table_1000_ms\": %.2f, \"table_1000_us_per_entry\": %.4f, \"p2p_ratio_ch_to_labels\": %.2f, "
            "\"table_100_ratio_ch_to_labels\": %.2f}}%s\n",
            r->name, r->nodes, r->edges, r->shortcuts, r->import_s, r->contract_s, r->peak_mb, r->file_mb,
            r->cost_p50_us, r->ch_p50_us, r->ch_p95_us, r->dj_p50_us, r->dj_p95_us, r->speedup, r->ch_settled,
            r->dj_settled, r->t100_ms, r->t100_us_entry, r->t1000_ms, r->t1000_us_entry, r->hl_build_s, r->hl_mb,
            r->hl_per_node, r->hl_cost_p50_us, r->hl_p50_us, r->hl_p95_us, r->hl_speedup, r->hl_t100_ms,
            r->hl_t100_ms * 1e3 / 1e4, r->hl_t1000_ms, r->hl_t1000_ms * 1e3 / 1e6, r->ch_p50_us / r->hl_p50_us,
            r->t100_ms / r->hl_t100_ms, i + 1 < nr ? "," : "");
    }
    fprintf(f, "]}\n");
    fclose(f);
    return 0;
}
