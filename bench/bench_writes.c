/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* bench_writes.c — what durability costs: offers, requests, bookings and acceptances written through the matcher
   API, by 1 and by several threads, in the store's three durabilities (cv_store_set_durability): every commit at
   PRAGMA synchronous=NORMAL (the WAL synced at checkpoints only), every commit at FULL (synced at each commit), and
   the default, FULL but for new offers and requests and the placing of a booking before its acceptance.
   Prints writes/s, p50/p99 latency per kind of write and the ratios to NORMAL, with the disk under the database
   and what one fsync costs on it. See bench/README.md.

   usage: bench_writes [--graph FILE | --pbf FILE] [--rounds N] [--threads 1,4] [--runs N] [--dir DIR]
                       [--out FILE] [--seed N]
   (run from the top of the repository, on a Release build) */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "routing/ch.h"
#include "routing/graph_build.h"
#include "matcher/matcher.h"
#include "osm/osm_network.h"
#include "osm/profile.h"
#include "routing/route.h"
#include "routing/snap.h"

#define MAX_THREADS 16
#define MIN_TRIP_M 1000.0 /* origin and destination at least this far apart (Monaco is 3 km across) */

/* What a round writes, in order; an acceptance is two transactions (placing the booking again, then accepting). */
enum { K_OFFER, K_REQUEST, K_BOOK, K_ACCEPT, NKINDS };
static const char *const kind_name[NKINDS] = {"offer", "request", "book", "accept"};
static const int kind_commits[NKINDS] = {1, 1, 1, 2};

/* The durability modes compared. */
enum { M_NORMAL, M_FULL, M_BOOKINGS, NMODES };
static const char *const mode_name[NMODES] = {"NORMAL", "FULL", "BOOKINGS"};

static uint64_t rng = 42;
static uint64_t next_rand(void)
{
    return bench_splitmix(&rng);
}

static double frand(double lo, double hi)
{
    return bench_between(next_rand(), lo, hi);
}

static double now_s(void)
{
    return bench_clock_s(CLOCK_MONOTONIC);
}

static double median_of(double *v, size_t n)
{
    return bench_percentile(v, n, 0.5);
}

/* ---------------------------------------------------------------- trips */

static const cv_graph *G;
static int64_t NOW;

/* One round's trips: a driver, and a passenger along the driver's route (pickup at 20-40 %, drop-off at 60-80 %,
   5 minutes later at most), so that the booking matches. */
typedef struct trip_pair {
    cv_coord from, to, pickup, dropoff;
    int64_t depart, wish;
} trip_pair;

static int draw_pair(cv_ch_query *q, trip_pair *t)
{
    cv_snap a, b;
    bench_random_pair(G, &rng, MIN_TRIP_M, &t->from, &t->to);
    if (!bench_snaps(G, t->from, &a) || !bench_snaps(G, t->to, &b))
        return 0;
    cv_path p = {0};
    cv_coord *pts = NULL;
    size_t n = 0;
    int ok = cv_ch_route(q, &a, &b, &p, NULL) == 0 && cv_path_geometry(G, &p, &pts, &n) == 0 && n >= 2;
    if (ok) {
        t->pickup = bench_along(pts, n, frand(0.2, 0.4));
        t->dropoff = bench_along(pts, n, frand(0.6, 0.8));
        ok = bench_snaps(G, t->pickup, NULL) && bench_snaps(G, t->dropoff, NULL) &&
             (t->pickup.lon != t->dropoff.lon || t->pickup.lat != t->dropoff.lat);
    }
    /* tomorrow between 06:00 and 10:00 UTC: a time zone changes nothing here */
    t->depart = (NOW / 86400 + 1) * 86400 + 6 * 3600 + (int64_t)(next_rand() % (4 * 3600));
    t->wish = t->depart + (int64_t)(next_rand() % 301);
    free(pts);
    cv_path_free(&p);
    return ok;
}

static cv_offer make_offer(const trip_pair *t)
{
    cv_offer o;
    memset(&o, 0, sizeof o);
    snprintf(o.owner, sizeof o.owner, "bench-driver");
    o.from = t->from;
    o.to = t->to;
    o.when = (cv_schedule){CV_PUNCTUAL, t->depart, 0, 0, 0, 0, CV_DEFAULT_MARGIN_S};
    o.seats = CV_DEFAULT_SEATS;
    o.max_detour_s = -1;
    o.max_detour_m = -1;
    return o;
}

static cv_request make_request(const trip_pair *t)
{
    cv_request r;
    memset(&r, 0, sizeof r);
    snprintf(r.owner, sizeof r.owner, "bench-passenger");
    r.from = t->pickup;
    r.to = t->dropoff;
    r.when = (cv_schedule){CV_PUNCTUAL, t->wish, 0, 0, 0, 0, CV_DEFAULT_MARGIN_S};
    r.seats = 1;
    return r;
}

/* Keeps a drawn pair only when the matcher takes both trips and pairs them (a point along a motorway snaps to
   another road, a one-way street may turn the passenger's ride around): then every timed round books. Checked on
   a scratch database, untimed. */
static int pair_books(cv_matcher_ws *w, const trip_pair *t)
{
    cv_offer o = make_offer(t);
    cv_request r = make_request(t);
    cv_match mt;
    int ok = cv_matcher_add_offer(w, &o, NOW, NULL) == 0;
    if (ok && cv_matcher_add_request(w, &r, NOW, NULL) == 0) {
        ok = cv_matcher_pair(w, o.id, r.id, NOW, &mt, NULL) == 1;
        cv_matcher_cancel_request(w, r.id, NULL);
    } else {
        ok = 0;
    }
    if (o.id)
        cv_matcher_cancel_offer(w, o.id, NULL);
    return ok;
}

/* ---------------------------------------------------------------- one configuration */

typedef struct worker {
    cv_matcher *m;
    const trip_pair *trips;
    int rounds, mode;
    pthread_barrier_t *start;
    double *lat[NKINDS]; /* ms per call, per round */
    int done[NKINDS];    /* calls that succeeded */
    int unmatched;       /* bookings refused as not matching (the round stops there) */
    int locked;          /* writes that waited for the write lock past the store's busy timeout (idem) */
    double finished;     /* now_s() at the end */
    char error[600];
} worker;

static void *work(void *arg)
{
    worker *wk = arg;
    cv_error err = {0};
    cv_matcher_ws *w = cv_matcher_ws_new(wk->m, &err);
    if (!w) {
        snprintf(wk->error, sizeof wk->error, "workspace: %s", err.text);
        pthread_barrier_wait(wk->start);
        return NULL;
    }
    static const cv_durability durability[NMODES] = {CV_DURABLE_NORMAL, CV_DURABLE_FULL, CV_DURABLE_BOOKINGS};
    int ok = 1;
    if (cv_store_set_durability(cv_matcher_store(w), durability[wk->mode], &err)) {
        snprintf(wk->error, sizeof wk->error, "durability: %s", err.text);
        ok = 0;
    }
    pthread_barrier_wait(wk->start);
    for (int i = 0; ok && i < wk->rounds; i++) {
        cv_offer o = make_offer(&wk->trips[i]);
        cv_request r = make_request(&wk->trips[i]);
        cv_booking b;
        for (int k = 0; ok && k < NKINDS; k++) {
            double t0 = now_s();
            int rc;
            switch (k) {
            case K_OFFER:
                rc = cv_matcher_add_offer(w, &o, NOW, &err);
                break;
            case K_REQUEST:
                rc = cv_matcher_add_request(w, &r, NOW, &err);
                break;
            case K_BOOK:
                rc = cv_matcher_book(w, o.id, r.id, NOW, &b, &err);
                break;
            default:
                rc = cv_matcher_accept(w, b.id, NOW, &err);
                break;
            }
            double dt = now_s() - t0;
            if (rc == CV_ECONFLICT && k == K_BOOK) {
                wk->unmatched++;
                break;
            }
            if (rc && strstr(err.text, "database is locked")) {
                /* SQLite's busy handler polls: under a steady stream of commits a writer can keep missing the
                   lock; counted, as a server's client would see it (a 500) */
                wk->locked++;
                break;
            }
            if (rc) {
                snprintf(wk->error, sizeof wk->error, "%s: %s", kind_name[k], err.text);
                ok = 0;
                break;
            }
            wk->lat[k][wk->done[k]++] = dt * 1e3;
        }
    }
    wk->finished = now_s();
    cv_matcher_ws_free(w);
    return NULL;
}

typedef struct config_result {
    int threads, mode;
    double writes_per_s, commits_per_s, seconds;
    double p50[NKINDS + 1], p99[NKINDS + 1]; /* per kind, then all writes */
    long writes, unmatched, locked;
} config_result;

static void remove_db(const char *db)
{
    char p[1100];
    remove(db);
    snprintf(p, sizeof p, "%s-wal", db);
    remove(p);
    snprintf(p, sizeof p, "%s-shm", db);
    remove(p);
}

/* One run of threads x rounds in mode, on a fresh database in dir. */
static int run_config(const char *dir, int threads, int mode, int rounds, trip_pair *const *trips, config_result *res)
{
    char db[1024];
    snprintf(db, sizeof db, "%s/bench_writes_%d.db", dir, (int)getpid());
    remove_db(db);
    cv_error err = {0};
    cv_matcher *m;
    cv_matcher_options mo = cv_matcher_defaults();
    if (cv_matcher_open(G, db, &mo, NOW, &m, &err)) {
        fprintf(stderr, "bench_writes: open %s: %s\n", db, err.text);
        return -1;
    }
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    worker wk[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    memset(wk, 0, sizeof wk);
    for (int i = 0; i < threads; i++) {
        wk[i] = (worker){.m = m, .trips = trips[i], .rounds = rounds, .mode = mode, .start = &start};
        for (int k = 0; k < NKINDS; k++)
            wk[i].lat[k] = malloc((size_t)rounds * sizeof(double));
        pthread_create(&tid[i], NULL, work, &wk[i]);
    }
    pthread_barrier_wait(&start);
    double t0 = now_s(), t1 = t0;
    for (int i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        if (wk[i].finished > t1)
            t1 = wk[i].finished;
    }
    pthread_barrier_destroy(&start);
    int failed = 0;
    memset(res, 0, sizeof *res);
    res->threads = threads;
    res->mode = mode;
    res->seconds = t1 - t0;
    size_t total = (size_t)threads * (size_t)rounds * NKINDS;
    double *all = malloc(total * sizeof *all), *one = malloc((size_t)threads * (size_t)rounds * sizeof *one);
    size_t nall = 0;
    long commits = 0;
    for (int k = 0; k < NKINDS; k++) {
        size_t n = 0;
        for (int i = 0; i < threads; i++)
            for (int j = 0; j < wk[i].done[k]; j++) {
                one[n++] = wk[i].lat[k][j];
                all[nall++] = wk[i].lat[k][j];
            }
        commits += (long)n * kind_commits[k];
        res->p50[k] = bench_percentile(one, n, 0.5);
        res->p99[k] = bench_percentile(one, n, 0.99);
    }
    res->p50[NKINDS] = bench_percentile(all, nall, 0.5);
    res->p99[NKINDS] = bench_percentile(all, nall, 0.99);
    res->writes = (long)nall;
    res->writes_per_s = (double)nall / res->seconds;
    res->commits_per_s = (double)commits / res->seconds;
    for (int i = 0; i < threads; i++) {
        if (wk[i].error[0]) {
            fprintf(stderr, "bench_writes: %d threads, %s: %s\n", threads, mode_name[mode], wk[i].error);
            failed = 1;
        }
        res->unmatched += wk[i].unmatched;
        res->locked += wk[i].locked;
        for (int k = 0; k < NKINDS; k++)
            free(wk[i].lat[k]);
    }
    free(all);
    free(one);
    cv_matcher_close(m);
    remove_db(db);
    return failed ? -1 : 0;
}

/* ---------------------------------------------------------------- the machine */

/* First line of a small sysfs file, or "?" */
static void read_line(const char *path, char *buf, size_t n)
{
    snprintf(buf, n, "?");
    FILE *f = fopen(path, "r");
    if (f) {
        if (fgets(buf, (int)n, f))
            buf[strcspn(buf, "\n")] = 0;
        fclose(f);
    }
}

/* The block device under dir and what the kernel says of it (rotational, write cache), and the file system. */
static void describe_disk(const char *dir, char *buf, size_t n)
{
    struct stat st;
    if (stat(dir, &st)) {
        snprintf(buf, n, "unknown (%s)", strerror(errno));
        return;
    }
    char base[256], path[512], rot[32] = "?", cache[32] = "?", model[128] = "?", vendor[64] = "?", dev[64] = "?";
    snprintf(base, sizeof base, "/sys/dev/block/%u:%u", major(st.st_dev), minor(st.st_dev));
    /* a partition's queue is its disk's */
    snprintf(path, sizeof path, "%s/partition", base);
    int part = access(path, F_OK) == 0;
    char disk[300];
    snprintf(disk, sizeof disk, "%s%s", base, part ? "/.." : "");
    snprintf(path, sizeof path, "%s/queue/rotational", disk);
    read_line(path, rot, sizeof rot);
    snprintf(path, sizeof path, "%s/queue/write_cache", disk);
    read_line(path, cache, sizeof cache);
    snprintf(path, sizeof path, "%s/device/model", disk);
    read_line(path, model, sizeof model);
    snprintf(path, sizeof path, "%s/device/vendor", disk);
    read_line(path, vendor, sizeof vendor);
    snprintf(path, sizeof path, "%s/uevent", base);
    FILE *f = fopen(path, "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "DEVNAME=", 8))
            snprintf(dev, sizeof dev, "%.*s", (int)strcspn(line + 8, "\n"), line + 8);
    if (f)
        fclose(f);
    /* the file system: the longest mount point that is a prefix of dir */
    char fs[64] = "?", best[512] = "";
    f = fopen("/proc/mounts", "r");
    while (f && fgets(line, sizeof line, f)) {
        char src[256], mnt[256], type[64];
        if (sscanf(line, "%255s %255s %63s", src, mnt, type) != 3)
            continue;
        size_t l = strlen(mnt);
        if (!strncmp(dir, mnt, l) && (dir[l] == '/' || dir[l] == 0 || l == 1) && l >= strlen(best)) {
            snprintf(best, sizeof best, "%s", mnt);
            snprintf(fs, sizeof fs, "%s", type);
        }
    }
    if (f)
        fclose(f);
    snprintf(buf, n, "/dev/%s (%s%s%s), rotational=%s, write_cache=%s, file system %s on %s", dev,
             strcmp(vendor, "?") ? vendor : "", strcmp(vendor, "?") && strcmp(model, "?") ? " " : "",
             strcmp(model, "?") ? model : (strcmp(vendor, "?") ? "" : "no model given"), rot, cache, fs,
             best[0] ? best : "?");
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
    fprintf(stderr, "usage: bench_writes [--graph FILE | --pbf FILE] [--rounds N] [--threads 1,4] [--runs N] "
                    "[--dir DIR] [--out FILE] [--seed N]\n");
}

int main(int argc, char **argv)
{
    const char *graph_path = NULL, *pbf = "tests/data/monaco.osm.pbf", *outp = "bench/results/writes.txt";
    const char *dir = "/tmp", *threads_arg = "1,4";
    int rounds = 200, runs = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--graph") && i + 1 < argc)
            graph_path = argv[++i];
        else if (!strcmp(argv[i], "--pbf") && i + 1 < argc)
            pbf = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc)
            outp = argv[++i];
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads_arg = argv[++i];
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            rng = strtoull(argv[++i], NULL, 10);
        else {
            usage();
            return 2;
        }
    }
    int nthreads_list[8], nlist = 0, max_threads = 0;
    for (const char *s = threads_arg; *s && nlist < 8;) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1 || v > MAX_THREADS) {
            usage();
            return 2;
        }
        nthreads_list[nlist++] = (int)v;
        if (v > max_threads)
            max_threads = (int)v;
        s = *end == ',' ? end + 1 : end;
    }
    if (rounds < 10 || runs < 1 || !nlist) {
        usage();
        return 2;
    }
    uint64_t seed = rng;

    char commit[64] = "unknown";
    FILE *gp = popen("git rev-parse --short HEAD 2>/dev/null && git status --porcelain -- matcher 2>/dev/null", "r");
    if (gp) {
        char line[256], rest[256];
        if (fgets(line, sizeof line, gp)) {
            line[strcspn(line, "\n")] = 0;
            int dirty = fgets(rest, sizeof rest, gp) != NULL;
            snprintf(commit, sizeof commit, "%.40s%s", line, dirty ? "+dirty" : "");
        }
        pclose(gp);
    }

    cv_error err = {0};
    char built[256] = "";
    if (!graph_path) {
        snprintf(built, sizeof built, "/tmp/bench_writes_%d.cvg", (int)getpid());
        fprintf(stderr, "bench_writes: importing %s\n", pbf);
        cv_profile_options popt = cv_profile_defaults();
        cv_network net;
        if (cv_network_read(pbf, &popt, NULL, &net, &err) || cv_graph_build(&net, pbf, built, NULL, NULL, &err)) {
            fprintf(stderr, "bench_writes: %s\n", err.text);
            return 1;
        }
        cv_network_free(&net);
        graph_path = built;
    }
    cv_graph *g = cv_graph_open(graph_path, &err);
    if (!g) {
        fprintf(stderr, "bench_writes: %s\n", err.text);
        return 1;
    }
    G = g;
    NOW = (int64_t)time(NULL);

    /* the same trips for every mode: thread i of any configuration writes trips[i] */
    trip_pair *trips[MAX_THREADS];
    cv_ch_query *q = cv_ch_query_new(g);
    char scratch[1024];
    snprintf(scratch, sizeof scratch, "%s/bench_writes_draw_%d.db", dir, (int)getpid());
    remove_db(scratch);
    cv_matcher *sm;
    cv_matcher_options smo = cv_matcher_defaults();
    if (cv_matcher_open(g, scratch, &smo, NOW, &sm, &err)) {
        fprintf(stderr, "bench_writes: %s\n", err.text);
        return 1;
    }
    cv_matcher_ws *sw = cv_matcher_ws_new(sm, &err);
    if (!sw || cv_store_set_durability(cv_matcher_store(sw), CV_DURABLE_NORMAL, &err)) {
        fprintf(stderr, "bench_writes: %s\n", err.text);
        return 1;
    }
    fprintf(stderr, "bench_writes: drawing %d x %d trip pairs that book\n", max_threads, rounds);
    int redraws = 0;
    for (int i = 0; i < max_threads; i++) {
        trips[i] = malloc((size_t)rounds * sizeof **trips);
        for (int j = 0; j < rounds;)
            if (draw_pair(q, &trips[i][j]) && pair_books(sw, &trips[i][j]))
                j++;
            else
                redraws++;
    }
    cv_matcher_ws_free(sw);
    cv_matcher_close(sm);
    remove_db(scratch);
    cv_ch_query_free(q);

    char disk[512], cpu[128];
    describe_disk(dir, disk, sizeof disk);
    bench_cpu_model(cpu, sizeof cpu);
    double fs50 = 0, fs99 = 0;
    if (bench_fsync_probe(dir, "bench_writes", 200, 0.99, &fs50, &fs99))
        fprintf(stderr, "bench_writes: cannot probe fsync in %s: %s\n", dir, strerror(errno));

    /* runs x thread counts x modes, the modes interleaved so that a slower minute of the machine hits all three */
    config_result *res = calloc((size_t)runs * (size_t)nlist * NMODES, sizeof *res);
    int failed = 0;
    for (int r = 0; r < runs; r++)
        for (int t = 0; t < nlist; t++)
            for (int md = 0; md < NMODES; md++) {
                config_result *c = &res[((size_t)r * (size_t)nlist + (size_t)t) * NMODES + (size_t)md];
                fprintf(stderr, "bench_writes: run %d/%d, %d thread(s), %s\n", r + 1, runs, nthreads_list[t],
                        mode_name[md]);
                if (run_config(dir, nthreads_list[t], md, rounds, trips, c))
                    failed = 1;
                fprintf(stderr, "bench_writes:   %.0f writes/s, p50 %.2f ms, p99 %.2f ms\n", c->writes_per_s,
                        c->p50[NKINDS], c->p99[NKINDS]);
            }

    /* per thread count and mode: the median over runs of each figure */
    config_result med[8][NMODES];
    for (int t = 0; t < nlist; t++)
        for (int md = 0; md < NMODES; md++) {
            double v[64];
            config_result *o = &med[t][md];
            memset(o, 0, sizeof *o);
            o->threads = nthreads_list[t];
            o->mode = md;
#define MEDIAN_OF(field)                                                                                               \
    do {                                                                                                               \
        for (int r = 0; r < runs && r < 64; r++)                                                                       \
            v[r] = res[((size_t)r * (size_t)nlist + (size_t)t) * NMODES + (size_t)md].field;                           \
        o->field = median_of(v, (size_t)(runs < 64 ? runs : 64));                                                      \
    } while (0)
            MEDIAN_OF(writes_per_s);
            MEDIAN_OF(commits_per_s);
            MEDIAN_OF(seconds);
            for (int k = 0; k <= NKINDS; k++) {
                MEDIAN_OF(p50[k]);
                MEDIAN_OF(p99[k]);
            }
#undef MEDIAN_OF
            for (int r = 0; r < runs; r++) {
                const config_result *c = &res[((size_t)r * (size_t)nlist + (size_t)t) * NMODES + (size_t)md];
                o->writes += c->writes;
                o->unmatched += c->unmatched;
                o->locked += c->locked;
            }
        }

    /* the report: the same text on stdout and in the results file */
    char report[1 << 15];
    size_t len = 0;
#define OUT(...) (len += (size_t)snprintf(report + len, len < sizeof report ? sizeof report - len : 0, __VA_ARGS__))
    struct utsname un;
    uname(&un);
    char day[32];
    time_t tnow = time(NULL);
    strftime(day, sizeof day, "%Y-%m-%d %H:%M UTC", gmtime(&tnow));
    OUT("bench_writes: commit %s, %s, %ld cores (%s), %s %s\n", commit, day, sysconf(_SC_NPROCESSORS_ONLN), cpu,
        un.sysname, un.release);
    OUT("graph %s (%u nodes); database in %s on %s\n", pbf && graph_path == built ? pbf : graph_path, g->hdr.nnodes,
        dir, disk);
    OUT("one synced 4 KiB append (pwrite + fdatasync) in %s: p50 %.2f ms, p99 %.2f ms\n", dir, fs50, fs99);
    OUT("%d run(s) per configuration, modes interleaved; each thread writes %d rounds of: offer, request (along the "
        "offer's route), book, accept (1+1+1+2 commits); seed %llu\n",
        runs, rounds, (unsigned long long)seed);
    OUT("figures are medians over the runs; latencies in ms, nearest-rank percentiles over every call of a run\n\n");
    OUT("%7s %-14s %9s %9s | %-13s %-13s %-13s %-13s | %-13s\n", "threads", "mode", "writes/s", "commits/s",
        "offer p50/p99", "request", "book", "accept", "all writes");
    for (int t = 0; t < nlist; t++)
        for (int md = 0; md < NMODES; md++) {
            const config_result *c = &med[t][md];
            OUT("%7d %-14s %9.0f %9.0f |", c->threads, mode_name[md], c->writes_per_s, c->commits_per_s);
            for (int k = 0; k <= NKINDS; k++) {
                char cell[32];
                snprintf(cell, sizeof cell, "%.2f/%.2f", c->p50[k], c->p99[k]);
                OUT(" %-13s%s", cell, k == NKINDS - 1 ? " |" : "");
            }
            OUT("\n");
        }
    OUT("\nratios to NORMAL (writes/s: lower is slower; latency: higher is slower)\n");
    OUT("%7s %-14s %9s | %-13s %-13s %-13s %-13s | %-13s\n", "threads", "mode", "writes/s", "offer p50/p99", "request",
        "book", "accept", "all writes");
    for (int t = 0; t < nlist; t++)
        for (int md = 1; md < NMODES; md++) {
            const config_result *c = &med[t][md], *b = &med[t][M_NORMAL];
            OUT("%7d %-14s %9.2f |", c->threads, mode_name[md], c->writes_per_s / b->writes_per_s);
            for (int k = 0; k <= NKINDS; k++) {
                char cell[32];
                snprintf(cell, sizeof cell, "%.1fx/%.1fx", c->p50[k] / b->p50[k], c->p99[k] / b->p99[k]);
                OUT(" %-13s%s", cell, k == NKINDS - 1 ? " |" : "");
            }
            OUT("\n");
        }
    long unmatched = 0;
    for (int t = 0; t < nlist; t++)
        for (int md = 0; md < NMODES; md++)
            unmatched += med[t][md].unmatched;
    if (unmatched || redraws)
        OUT("\n%ld booking(s) refused as not matching (their round stopped there); %d trip pair(s) drawn again\n",
            unmatched, redraws);
    for (int t = 0; t < nlist; t++)
        for (int md = 0; md < NMODES; md++)
            if (med[t][md].locked)
                OUT("%d thread(s), %s: %ld write(s) over all runs gave up on the write lock after the store's busy "
                    "timeout (database is locked)\n",
                    med[t][md].threads, mode_name[md], med[t][md].locked);
#undef OUT
    fputs(report, stdout);
    FILE *f = fopen(outp, "w");
    if (!f || fputs(report, f) < 0 || fclose(f)) {
        fprintf(stderr, "bench_writes: cannot write %s\n", outp);
        failed = 1;
    }
    for (int i = 0; i < max_threads; i++)
        free(trips[i]);
    free(res);
    cv_graph_close(g);
    if (built[0])
        unlink(built);
    return failed ? 1 : 0;
}
