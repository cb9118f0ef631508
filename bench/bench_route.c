/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* bench_route.c — route query time on a graph file: random pairs of points in the largest strongly connected
   component, snapped, then routed with the exact bidirectional Dijkstra. Prints one JSON object on stdout.

   usage: bench_route GRAPH [--pairs N] [--seed S] [--warmup N]

   Each point is the midpoint (by length) of an edge drawn uniformly among the edges whose both ends are in the
   largest component, snapped with the default options. All pairs are drawn and snapped first; then the first
   --warmup pairs are routed once untimed, and every pair is routed and timed on its own (CLOCK_MONOTONIC around
   cv_dijkstra_route only). Queries that end in NoRoute are timed and counted too. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "routing/graph.h"
#include "routing/route.h"
#include "routing/snap.h"

static uint64_t rng_state;

/* splitmix64: a fixed seed gives the same pairs on every machine */
static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* uniform in [0, n) (multiply-shift; the bias is below 2^-32 * n) */
static uint32_t rng_below(uint32_t n)
{
    return (uint32_t)(((rng_next() >> 32) * (uint64_t)n) >> 32);
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* The point halfway along the geometry of edge e. */
static cv_coord edge_midpoint(const cv_graph *g, uint32_t e)
{
    uint32_t n;
    const cv_coord *p = cv_graph_edge_points(g, e, &n);
    if (n < 2)
        return p[0];
    double total = 0;
    for (uint32_t i = 0; i + 1 < n; i++)
        total += cv_distance_m(p[i], p[i + 1]);
    double half = total / 2, acc = 0;
    for (uint32_t i = 0; i + 1 < n; i++) {
        double d = cv_distance_m(p[i], p[i + 1]);
        if (d > 0 && acc + d >= half) {
            double t = (half - acc) / d;
            cv_coord m = {(int32_t)lround(p[i].lon + t * ((double)p[i + 1].lon - p[i].lon)),
                          (int32_t)lround(p[i].lat + t * ((double)p[i + 1].lat - p[i].lat))};
            return m;
        }
        acc += d;
    }
    return p[n - 1];
}

typedef struct summary {
    double median, p95, mean, min, max;
} summary;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median (mean of the two middle values when n is even) and p95 by nearest rank. Sorts v. */
static summary summarize(double *v, size_t n)
{
    summary s = {0, 0, 0, 0, 0};
    if (n == 0)
        return s;
    qsort(v, n, sizeof *v, cmp_double);
    s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    size_t rank = (size_t)ceil(0.95 * (double)n);
    s.p95 = v[rank ? rank - 1 : 0];
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    s.mean = sum / (double)n;
    s.min = v[0];
    s.max = v[n - 1];
    return s;
}

static void print_summary(const char *name, summary s, int last)
{
    printf("  \"%s\": {\"median\": %.3f, \"p95\": %.3f, \"mean\": %.3f, \"min\": %.3f, \"max\": %.3f}%s\n", name,
           s.median, s.p95, s.mean, s.min, s.max, last ? "" : ",");
}

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static int parse_ulong(const char *s, unsigned long long *v)
{
    char *end;
    if (!s || !*s || *s == '-')
        return -1;
    *v = strtoull(s, &end, 0);
    return *end ? -1 : 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_route GRAPH [--pairs N] [--seed S] [--warmup N]\n\n"
               "Routes N (default 1000) random pairs of snapped edge midpoints in the largest component of GRAPH\n"
               "with cv_dijkstra_route and prints per-query time and settled-node statistics as JSON.\n");
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    unsigned long long npairs = 1000, seed = 42, warmup = 20;
    for (int i = 1; i < argc; i++) {
        unsigned long long *dst = NULL;
        if (!strcmp(argv[i], "--pairs"))
            dst = &npairs;
        else if (!strcmp(argv[i], "--seed"))
            dst = &seed;
        else if (!strcmp(argv[i], "--warmup"))
            dst = &warmup;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' || path) {
            usage(stderr);
            return 2;
        } else {
            path = argv[i];
            continue;
        }
        if (++i >= argc || parse_ulong(argv[i], dst)) {
            fprintf(stderr, "bench_route: %s needs a number\n", argv[i - 1]);
            return 2;
        }
    }
    if (!path || npairs == 0 || npairs > 10000000) {
        usage(stderr);
        return 2;
    }
    if (warmup > npairs)
        warmup = npairs;

    cv_error err = {0};
    cv_graph *g = cv_graph_open(path, &err);
    if (!g) {
        fprintf(stderr, "bench_route: %s\n", err.text);
        return 1;
    }
    const cv_graph_header *h = &g->hdr;
    const uint32_t big = h->largest_component;

    /* candidate edges: both ends in the largest component */
    uint32_t *cand = malloc((h->nedges ? h->nedges : 1) * sizeof *cand);
    size_t npairs_z = (size_t)npairs;
    cv_snap *src = malloc(npairs_z * sizeof *src), *dst = malloc(npairs_z * sizeof *dst);
    double *route_us = malloc(npairs_z * sizeof *route_us), *snap_us = malloc(2 * npairs_z * sizeof *snap_us);
    double *settled = malloc(npairs_z * sizeof *settled), *dur_s = malloc(npairs_z * sizeof *dur_s);
    double *dist_km = malloc(npairs_z * sizeof *dist_km);
    cv_dijkstra *w = cv_dijkstra_new(g);
    if (!cand || !src || !dst || !route_us || !snap_us || !settled || !dur_s || !dist_km || !w) {
        fprintf(stderr, "bench_route: out of memory\n");
        return 1;
    }
    uint32_t ncand = 0;
    for (uint32_t e = 0; e < h->nedges; e++)
        if (g->a.node_component[g->a.edges[e].u] == big && g->a.node_component[g->a.edges[e].v] == big)
            cand[ncand++] = e;
    if (ncand == 0) {
        fprintf(stderr, "bench_route: %s: no edge in the largest component\n", path);
        return 1;
    }

    /* draw and snap every pair first */
    rng_state = seed;
    cv_snap_options sopt = cv_snap_defaults();
    size_t nsnap = 0, snap_failures = 0, off_component = 0;
    unsigned char *ok = calloc(npairs_z, 1);
    if (!ok) {
        fprintf(stderr, "bench_route: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < npairs_z; i++) {
        cv_snap *s[2] = {&src[i], &dst[i]};
        int good = 1;
        for (int k = 0; k < 2; k++) {
            cv_coord p = edge_midpoint(g, cand[rng_below(ncand)]);
            double t0 = now_us();
            int rc = cv_snap_point(g, p, &sopt, s[k], &err);
            snap_us[nsnap++] = now_us() - t0;
            if (rc) {
                snap_failures++;
                good = 0;
            } else {
                const cv_edge *e = &g->a.edges[s[k]->edge];
                if (g->a.node_component[e->u] != big || g->a.node_component[e->v] != big)
                    off_component++;
            }
        }
        ok[i] = (unsigned char)good;
    }

    cv_path path_out;
    memset(&path_out, 0, sizeof path_out);
    for (size_t i = 0; i < (size_t)warmup; i++)
        if (ok[i])
            (void)cv_dijkstra_route(w, &src[i], &dst[i], &path_out, &err);

    size_t nq = 0, nroute = 0, no_route = 0, failures = 0;
    double wall0 = now_us();
    for (size_t i = 0; i < npairs_z; i++) {
        if (!ok[i])
            continue;
        double t0 = now_us();
        int rc = cv_dijkstra_route(w, &src[i], &dst[i], &path_out, &err);
        double t1 = now_us();
        route_us[nq] = t1 - t0;
        settled[nq] = (double)cv_dijkstra_settled(w);
        nq++;
        if (rc == 0) {
            dur_s[nroute] = path_out.duration_ds / 10.0;
            dist_km[nroute] = path_out.distance_dm / 1e4;
            nroute++;
        } else if (rc == CV_ENOROUTE) {
            no_route++;
        } else {
            failures++;
            fprintf(stderr, "bench_route: pair %zu: %s\n", i, err.text);
        }
    }
    double wall_s = (now_us() - wall0) / 1e6;

    printf("{\n  \"graph\": ");
    json_string(path);
    printf(",\n  \"nodes\": %" PRIu32 ", \"edges\": %" PRIu32 ", \"largest_component_nodes\": %" PRIu32
           ", \"candidate_edges\": %" PRIu32 ",\n",
           h->nnodes, h->nedges, h->ncomponents ? g->a.component_size[big] : 0, ncand);
    printf("  \"seed\": %llu, \"pairs\": %llu, \"warmup\": %llu, \"snap_failures\": %zu, \"snapped_off_component\": "
           "%zu,\n",
           seed, npairs, warmup, snap_failures, off_component);
    printf("  \"queries\": %zu, \"routes\": %zu, \"no_route\": %zu, \"errors\": %zu, \"queries_wall_s\": %.6f,\n", nq,
           nroute, no_route, failures, wall_s);
    print_summary("route_us", summarize(route_us, nq), 0);
    print_summary("settled", summarize(settled, nq), 0);
    print_summary("snap_us", summarize(snap_us, nsnap), 0);
    print_summary("route_duration_s", summarize(dur_s, nroute), 0);
    print_summary("route_distance_km", summarize(dist_km, nroute), 1);
    printf("}\n");

    cv_path_free(&path_out);
    cv_dijkstra_free(w);
    free(ok);
    free(cand);
    free(src);
    free(dst);
    free(route_us);
    free(snap_us);
    free(settled);
    free(dur_s);
    free(dist_km);
    cv_graph_close(g);
    return failures ? 1 : 0;
}
