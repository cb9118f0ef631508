/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* bench_route_diff.c — what the tagging rules change on real extracts: per extract, the ways and nodes each rule
   closes or shapes, the restrictions placed, the import time and file size, and how many of 1,000 routes between
   random points change against an older covoit (its binary given), with the largest changes explained.

   Usage: bench_route_diff OLD_COVOIT NEW_COVOIT [--pairs N] [--seed N] [--largest K] EXTRACT.osm.pbf ...

   Each extract is imported by both binaries (the old one cannot read the new graph format, and the other way
   round). The points are drawn on the new graph: midpoints of random edges of its largest component; the same
   coordinates go to both binaries' `covoit table` (sources x destinations = the pairs). A route takes other roads
   when its length moved by more than 1 m, or when one binary finds it and the other does not; it takes the same
   roads at other speeds when only its duration moved (by more than 0.1 s). Every route on other roads is asked
   of the old binary with its geometry, and the change explained: the old route crossed a node that is now closed
   (a bollard, a node with access=no), or drove a stretch of road that is no longer in the graph (a way now
   closed), or neither (a turn restriction, a U-turn now forbidden, speeds elsewhere). The largest are listed. */
#define _DEFAULT_SOURCE /* M_PI */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <jansson.h>

#include "routing/graph.h"
#include "routing/graph_build.h"
#include "osm/osm_network.h"
#include "routing/snap.h"

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs a shell command and returns its stdout (malloc'ed), or NULL when it failed. */
static char *run(const char *cmd)
{
    FILE *f = popen(cmd, "r");
    if (!f)
        return NULL;
    size_t n = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n < 2) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    int st = pclose(f);
    if (buf)
        buf[n] = '\0';
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        /* covoit route exits 1 with a JSON body on NoRoute: keep the body */
        if (buf && buf[0] == '{')
            return buf;
        free(buf);
        return NULL;
    }
    return buf;
}

typedef struct pt {
    double lon, lat;
} pt;

/* The matrix of a `covoit table` answer: duration (s, NAN when none) and distance (m). */
static int read_table(const char *json, size_t ns, size_t nd, double *dur, double *dist)
{
    json_error_t e;
    json_t *root = json_loads(json, 0, &e);
    if (!root)
        return -1;
    json_t *D = json_object_get(root, "durations"), *L = json_object_get(root, "distances");
    for (size_t i = 0; i < ns; i++)
        for (size_t j = 0; j < nd; j++) {
            json_t *d = json_array_get(json_array_get(D, i), j), *l = json_array_get(json_array_get(L, i), j);
            dur[i * nd + j] = json_is_number(d) ? json_number_value(d) : NAN;
            dist[i * nd + j] = json_is_number(l) ? json_number_value(l) : NAN;
        }
    json_decref(root);
    return 0;
}

static char *coords_arg(const pt *p, size_t n)
{
    char *s = malloc(n * 32 + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += (size_t)sprintf(s + k, "%s%.7f,%.7f", i ? ";" : "", p[i].lon, p[i].lat);
    s[k] = '\0';
    return s;
}

/* The geometry of a route (GeoJSON coordinates), n points into *out (malloc'ed); 0 points when no route. */
static size_t route_geometry(const char *bin, const char *graph, pt a, pt b, pt **out)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' route '%s' %.7f,%.7f %.7f,%.7f --geometry geojson 2>/dev/null", bin, graph, a.lon,
             a.lat, b.lon, b.lat);
    char *o = run(cmd);
    *out = NULL;
    if (!o)
        return 0;
    json_error_t e;
    json_t *root = json_loads(o, 0, &e);
    free(o);
    json_t *c =
        json_object_get(json_object_get(json_array_get(json_object_get(root, "routes"), 0), "geometry"), "coordinates");
    size_t n = json_array_size(c);
    *out = malloc((n ? n : 1) * sizeof **out);
    for (size_t i = 0; i < n; i++)
        (*out)[i] = (pt){json_number_value(json_array_get(json_array_get(c, i), 0)),
                         json_number_value(json_array_get(json_array_get(c, i), 1))};
    json_decref(root);
    return n;
}

static cv_coord fixed(pt p)
{
    return (cv_coord){(int32_t)lround(p.lon * 1e7), (int32_t)lround(p.lat * 1e7)};
}

/* Why the old route changed: a closed node on it, a stretch of it gone from the new graph, or neither. */
static double dist_m(pt a, pt b)
{
    double kx = cos(a.lat * M_PI / 180) * 111195.0, ky = 111195.0;
    return hypot((a.lon - b.lon) * kx, (a.lat - b.lat) * ky);
}

static int explain(const cv_graph *g, const cv_network *net, const pt *old, size_t n, const pt *nw, size_t nn,
                   char *why, size_t cap)
{
    if (n && nn && (dist_m(old[0], nw[0]) > 1 || dist_m(old[n - 1], nw[nn - 1]) > 1)) {
        snprintf(why, cap,
                 "a point snaps onto another road now (%.0f m and %.0f m from the old snaps): a road near "
                 "it opened or closed",
                 dist_m(old[0], nw[0]), dist_m(old[n - 1], nw[nn - 1]));
        return 3;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < net->nblocks; k++) {
            const cv_net_node *nd = cv_network_node(net, net->blocks[k].id);
            if (nd && fabs(nd->lon / 1e7 - old[i].lon) < 2e-7 && fabs(nd->lat / 1e7 - old[i].lat) < 2e-7) {
                snprintf(why, cap, "the old route crossed node %" PRId64 " at %.7f,%.7f, now closed (%s)",
                         net->blocks[k].id, old[i].lon, old[i].lat,
                         net->blocks[k].rule == CV_NODE_BARRIER ? "a barrier" : "access tags");
                return 0;
            }
        }
    cv_snap_options so = cv_snap_defaults();
    so.max_distance_m = 3;
    so.any_component = 1;
    for (size_t i = 1; i + 1 < n; i++) {
        pt mid = {(old[i].lon + old[i + 1].lon) / 2, (old[i].lat + old[i + 1].lat) / 2};
        cv_snap s;
        if (cv_snap_point(g, fixed(mid), &so, &s, NULL)) {
            snprintf(why, cap, "the old route drove a stretch at %.7f,%.7f that is no longer a car road", mid.lon,
                     mid.lat);
            return 1;
        }
    }
    snprintf(why, cap, "on roads still open: a turn restriction, a U-turn now forbidden, or speeds elsewhere");
    return 2;
}

typedef struct change {
    size_t i, j;
    double delta; /* seconds, new - old (INFINITY when unreachable now, -INFINITY when reachable now) */
} change;

static int cmp_change(const void *a, const void *b)
{
    double x = fabs(((const change *)a)->delta), y = fabs(((const change *)b)->delta);
    return (x < y) - (x > y);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_route_diff OLD_COVOIT NEW_COVOIT [--pairs N] [--seed N] [--largest K] "
                        "EXTRACT.osm.pbf ...\n");
        return 2;
    }
    const char *oldbin = argv[1], *newbin = argv[2];
    size_t pairs = 1000, largest = 5;
    uint64_t seed = 42;
    int status = 0;
    for (int a = 3; a < argc; a++) {
        if (!strcmp(argv[a], "--pairs") && a + 1 < argc) {
            pairs = (size_t)atol(argv[++a]);
            continue;
        }
        if (!strcmp(argv[a], "--seed") && a + 1 < argc) {
            seed = strtoull(argv[++a], NULL, 10);
            continue;
        }
        if (!strcmp(argv[a], "--largest") && a + 1 < argc) {
            largest = (size_t)atol(argv[++a]);
            continue;
        }
        const char *in = argv[a], *base = strrchr(in, '/') ? strrchr(in, '/') + 1 : in;
        char oldg[1024], newg[1024], cmd[8192];
        snprintf(oldg, sizeof oldg, "/tmp/route_diff_old_%s.cvg", base);
        snprintf(newg, sizeof newg, "/tmp/route_diff_new_%s.cvg", base);
        /* the new import in-process, for its counts and its time */
        cv_network net;
        cv_error err = {0};
        cv_profile_options popt = cv_profile_defaults();
        cv_build_stats st;
        double t0 = now_s();
        if (cv_network_read(in, &popt, NULL, &net, &err) || cv_graph_build(&net, in, newg, NULL, &st, &err)) {
            printf("%s: import failed: %s\n", base, err.text);
            status = 1;
            continue;
        }
        double import_s = now_s() - t0;
        snprintf(cmd, sizeof cmd, "'%s' import '%s' -o '%s' --quiet", oldbin, in, oldg);
        if (system(cmd) != 0) {
            printf("%s: the old import failed\n", base);
            status = 1;
            cv_network_free(&net);
            continue;
        }
        cv_graph *g = cv_graph_open(newg, &err);
        /* sources x destinations: the pairs */
        size_t ns = (size_t)ceil(sqrt((double)pairs)), nd = (pairs + ns - 1) / ns;
        pt *src = malloc(ns * sizeof *src), *dst = malloc(nd * sizeof *dst);
        uint64_t rng = seed;
        for (size_t k = 0; k < ns + nd; k++) {
            for (;;) {
                uint32_t e = (uint32_t)(splitmix(&rng) % g->hdr.nedges);
                const cv_edge *ed = &g->a.edges[e];
                if (g->a.node_component[ed->u] != g->hdr.largest_component ||
                    g->a.node_component[ed->v] != g->hdr.largest_component)
                    continue;
                uint32_t np;
                const cv_coord *p = cv_graph_edge_points(g, e, &np);
                const cv_coord *m = &p[np / 2 - (np % 2 == 0)];
                pt q = {(m[0].lon + m[np % 2 == 0].lon) / 2e7, (m[0].lat + m[np % 2 == 0].lat) / 2e7};
                if (k < ns)
                    src[k] = q;
                else
                    dst[k - ns] = q;
                break;
            }
        }
        char *sa = coords_arg(src, ns), *da = coords_arg(dst, nd);
        double *od = malloc(ns * nd * sizeof *od), *ol = malloc(ns * nd * sizeof *ol);
        double *nwd = malloc(ns * nd * sizeof *nwd), *nwl = malloc(ns * nd * sizeof *nwl);
        char *big = malloc(strlen(sa) + strlen(da) + 4096);
        sprintf(big, "'%s' table '%s' --sources '%s' --destinations '%s' 2>/dev/null", oldbin, oldg, sa, da);
        char *o1 = run(big);
        sprintf(big, "'%s' table '%s' --sources '%s' --destinations '%s' 2>/dev/null", newbin, newg, sa, da);
        char *o2 = run(big);
        if (!o1 || !o2 || read_table(o1, ns, nd, od, ol) || read_table(o2, ns, nd, nwd, nwl)) {
            printf("%s: a table failed\n", base);
            status = 1;
        } else {
            change *ch = malloc(ns * nd * sizeof *ch);
            size_t nch = 0, lost = 0, gained = 0, longer = 0, timing = 0;
            for (size_t i = 0; i < ns; i++)
                for (size_t j = 0; j < nd && i * nd + j < pairs; j++) {
                    double a0 = od[i * nd + j], a1 = nwd[i * nd + j];
                    double l0 = ol[i * nd + j], l1 = nwl[i * nd + j];
                    if (isnan(a0) && isnan(a1))
                        continue;
                    if (isnan(a0) != isnan(a1)) {
                        ch[nch++] = (change){i, j, isnan(a1) ? INFINITY : -INFINITY};
                        lost += isnan(a1), gained += isnan(a0);
                        continue;
                    }
                    if (fabs(l1 - l0) > 1.0) { /* another way: the list below is of these */
                        ch[nch++] = (change){i, j, a1 - a0};
                        longer += a1 > a0;
                    } else if (fabs(a1 - a0) > 0.1) {
                        timing++; /* the same way, driven at other speeds */
                    }
                }
            const uint64_t *cw = st.closed_ways, *rw = st.rule_ways;
            printf("%s: import %.2f s, graph %.1f MB; closed ways: access %" PRIu64 ", construction %" PRIu64
                   ", proposed %" PRIu64 ", reversible %" PRIu64 ", physical %" PRIu64 "; one way closed by "
                   "directional access %" PRIu64 ", by a physical limit %" PRIu64 "; oneway for cars %" PRIu64
                   ", alternating %" PRIu64 ", opened by car access %" PRIu64 "; nodes closed: %u barriers, %u by "
                   "access (%u road ends); restrictions %u (%u via ways, %u states), dropped %" PRIu64
                   " (ambiguous %" PRIu64 "); mid-road junctions %u\n",
                   base, import_s, st.file_size / 1e6, cw[CV_CLOSED_ACCESS], cw[CV_CLOSED_CONSTRUCTION],
                   cw[CV_CLOSED_PROPOSED], cw[CV_CLOSED_REVERSIBLE], cw[CV_CLOSED_PHYSICAL], rw[0], rw[3], rw[1], rw[2],
                   rw[4], st.blocked_nodes[0], st.blocked_nodes[1], st.blocked_ends, st.restrictions,
                   st.restrictions_via_way, st.restriction_states, st.restrictions_dropped, st.restrictions_ambiguous,
                   st.mid_road_junctions);
            printf("  of %zu routes: %zu take other roads (%zu longer in time, %zu unreachable now, %zu reachable "
                   "now), %zu take the same roads at other speeds, %zu are unchanged\n",
                   pairs, nch, longer, lost, gained, timing, pairs - nch - timing);
            qsort(ch, nch, sizeof *ch, cmp_change);
            /* the largest changes, one per source and per destination, so that one odd point does not fill it */
            uint8_t *seen_s = calloc(ns, 1), *seen_d = calloc(nd, 1);
            size_t shown = 0, kinds[4] = {0, 0, 0, 0};
            for (size_t k = 0; k < nch; k++) {
                pt a = src[ch[k].i], b = dst[ch[k].j], *og = NULL, *ng = NULL;
                size_t on = route_geometry(oldbin, oldg, a, b, &og), nn = route_geometry(newbin, newg, a, b, &ng);
                char why[512];
                int kind = explain(g, &net, og, on, ng, nn, why, sizeof why);
                kinds[kind]++;
                if (shown < largest && !seen_s[ch[k].i] && !seen_d[ch[k].j]) {
                    seen_s[ch[k].i] = seen_d[ch[k].j] = 1;
                    shown++;
                    double o0 = od[ch[k].i * nd + ch[k].j], n0 = nwd[ch[k].i * nd + ch[k].j];
                    printf("  %+.1f s (%.1f s -> %.1f s, %.0f m -> %.0f m) from %.7f,%.7f to %.7f,%.7f: %s\n",
                           isinf(ch[k].delta) ? NAN : ch[k].delta, o0, n0, ol[ch[k].i * nd + ch[k].j],
                           nwl[ch[k].i * nd + ch[k].j], a.lon, a.lat, b.lon, b.lat, why);
                }
                free(og), free(ng);
            }
            printf("  why the %zu take other roads: %zu crossed a node now closed, %zu drove a road now closed, "
                   "%zu start or end on another road (one opened or closed near the point), %zu none of these (a "
                   "turn restriction, a U-turn now forbidden, speeds elsewhere)\n",
                   nch, kinds[0], kinds[1], kinds[3], kinds[2]);
            free(seen_s), free(seen_d);
            free(ch);
        }
        free(o1), free(o2), free(big), free(sa), free(da), free(od), free(ol), free(nwd), free(nwl), free(src),
            free(dst);
        cv_graph_close(g);
        cv_network_free(&net);
        remove(oldg);
        remove(newg);
    }
    return status;
}
