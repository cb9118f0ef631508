/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* bench_util.h — what the benchmarks share: a seeded random sequence, a clock, percentiles and means, random trip
   ends. */
#ifndef CV_BENCH_UTIL_H
#define CV_BENCH_UTIL_H

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "routing/geo.h"
#include "routing/graph.h"
#include "routing/road_class.h"
#include "routing/snap.h"

/* splitmix64: the next number of the sequence whose state is *s (any seed). */
static inline uint64_t bench_splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A number in [lo, hi) from a random 64-bit x. */
static inline double bench_between(uint64_t x, double lo, double hi)
{
    return lo + (hi - lo) * (double)(x >> 11) * (1.0 / 9007199254740992.0);
}

/* Seconds on clock c (CLOCK_MONOTONIC for the wall, CLOCK_THREAD_CPUTIME_ID for the thread's CPU time). */
static inline double bench_clock_s(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Seconds on the monotonic clock. */
static inline double bench_now(void)
{
    return bench_clock_s(CLOCK_MONOTONIC);
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile p (0..1) of v[0..n) (sorts a copy; 0 for none). */
static inline double bench_percentile(const double *v, size_t n, double p)
{
    double *c = n ? malloc(n * sizeof *c) : NULL;
    if (!c)
        return 0;
    memcpy(c, v, n * sizeof *c);
    qsort(c, n, sizeof *c, bench_cmp_double);
    size_t k = (size_t)ceil(p * (double)n);
    double r = c[k ? k - 1 : 0];
    free(c);
    return r;
}

static inline double bench_mean(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return n ? s / (double)n : 0;
}

/* The median, p90, p99 and mean of v[0..n). */
typedef struct bench_stat {
    double p50, p90, p99, mean;
} bench_stat;

static inline bench_stat bench_stats(const double *v, size_t n)
{
    return (bench_stat){bench_percentile(v, n, 0.5), bench_percentile(v, n, 0.9), bench_percentile(v, n, 0.99),
                        bench_mean(v, n)};
}

/* The point at fraction f of the polyline pts[0..n) by length. */
static inline cv_coord bench_along(const cv_coord *pts, size_t n, double f)
{
    double total = 0;
    for (size_t i = 1; i < n; i++)
        total += cv_distance_m(pts[i - 1], pts[i]);
    double goal = f * total, run = 0;
    for (size_t i = 1; i < n; i++) {
        double d = cv_distance_m(pts[i - 1], pts[i]);
        if (run + d >= goal && d > 0) {
            double t = (goal - run) / d;
            return (cv_coord){pts[i - 1].lon + (int32_t)lround(t * (pts[i].lon - pts[i - 1].lon)),
                              pts[i - 1].lat + (int32_t)lround(t * (pts[i].lat - pts[i - 1].lat))};
        }
        run += d;
    }
    return pts[n - 1];
}

/* c moved by up to +-m metres on each axis, at random from the sequence *rng. */
static inline cv_coord bench_jitter(cv_coord c, double m, uint64_t *rng)
{
    double dlat = m / 111195.0, dlon = dlat / cos(cv_deg(c.lat) * CV_PI / 180);
    c.lon += (int32_t)lround(bench_between(bench_splitmix(rng), -dlon, dlon) * CV_COORD_SCALE);
    c.lat += (int32_t)lround(bench_between(bench_splitmix(rng), -dlat, dlat) * CV_COORD_SCALE);
    return c;
}

/* The processor's model name from /proc/cpuinfo ("unknown" without it), without quotes, into buf. */
static inline void bench_cpu_model(char *buf, size_t n)
{
    snprintf(buf, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10)) {
            const char *c = strchr(line, ':');
            if (c) {
                c++;
                while (*c == ' ')
                    c++;
                snprintf(buf, n, "%.*s", (int)strcspn(c, "\n\""), c);
            }
            break;
        }
    if (f)
        fclose(f);
}

/* Whether c snaps as a trip's end on g, off motorways (into *s when not NULL). */
static inline int bench_snaps(const cv_graph *g, cv_coord c, cv_snap *s)
{
    cv_snap_options o = cv_snap_defaults();
    o.exclude_classes = (1u << CV_RC_MOTORWAY) | (1u << CV_RC_MOTORWAY_LINK);
    cv_snap tmp;
    return cv_snap_point(g, c, &o, s ? s : &tmp, NULL) == 0;
}

/* A uniform point of g's bounding box that snaps as a trip's end, drawn from the sequence *rng. */
static inline cv_coord bench_random_point(const cv_graph *g, uint64_t *rng)
{
    for (;;) {
        cv_coord c = {(int32_t)bench_between(bench_splitmix(rng), g->hdr.bbox[0], g->hdr.bbox[2]),
                      (int32_t)bench_between(bench_splitmix(rng), g->hdr.bbox[1], g->hdr.bbox[3])};
        if (bench_snaps(g, c, NULL))
            return c;
    }
}

/* Two such points at least min_m metres apart. */
static inline void bench_random_pair(const cv_graph *g, uint64_t *rng, double min_m, cv_coord *a, cv_coord *b)
{
    do {
        *a = bench_random_point(g, rng);
        *b = bench_random_point(g, rng);
    } while (cv_distance_m(*a, *b) < min_m);
}

/* What one disk sync costs in dir: n appends of a 4 KB block each followed by fdatasync (appending, as a
   write-ahead log grows, so that the file's size changes too), in milliseconds: the median into *p50 and the
   quantile q into *pq. 0, or -1 when the file cannot be written. tag names the probe's file. */
static inline int bench_fsync_probe(const char *dir, const char *tag, int n, double q, double *p50, double *pq)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s_fsync_%d", dir, tag, (int)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    char block[4096];
    memset(block, 0x5a, sizeof block);
    double *t = malloc((size_t)n * sizeof *t);
    int rc = t ? 0 : -1;
    for (int i = 0; i < n && !rc; i++) {
        double t0 = bench_now();
        if (pwrite(fd, block, sizeof block, (off_t)i * (off_t)sizeof block) != (ssize_t)sizeof block || fdatasync(fd))
            rc = -1;
        t[i] = (bench_now() - t0) * 1e3;
    }
    close(fd);
    unlink(path);
    if (!rc) {
        *p50 = bench_percentile(t, (size_t)n, 0.5);
        *pq = bench_percentile(t, (size_t)n, q);
    }
    free(t);
    return rc;
}

#endif
