/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* bench_matcher.c — the matcher on the largest extract: with 1,000, 10,000 and 100,000 active offers spread over the
   map, the time to match one request (median, p95, per offer), the same requests answered the naive way (one
   cv_matcher_pair per offer: point-to-point routes per candidate) as a ratio, the time to add and cancel an offer,
   the memory per offer, and whether the index and the pair-by-pair oracle agree (exit status 1 when they do not).
   Prints a table and JSON.

   usage: bench_matcher [--graph FILE | --pbf FILE] [--out FILE] [--sizes 1000,10000,100000] [--requests N]
                        [--naive-requests N] [--naive-budget S] [--seed N] [--clock wall|cpu] [--hub-labels]
   --hub-labels: the matcher's search spaces come from hub labels built first (as `covoit serve` does).
   (run from the top of the repository, on a Release build; see bench/README.md) */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
#include "matcher/timeutil.h"

#define MAX_SIZES 8
#define CHANGE_OFFERS 200 /* offers added then cancelled, one at a time, for the add and cancel times */
#define MIN_TRIP_M 2000.0 /* origin and destination at least this far apart */

static uint64_t rng = 42;
static uint64_t next_rand(void)
{
    return bench_splitmix(&rng);
}

static double frand(double lo, double hi)
{
    return bench_between(next_rand(), lo, hi);
}

/* CLOCK_MONOTONIC (wall) by default; --clock cpu measures the thread's CPU time instead, which a machine shared
   with other work disturbs less. */
static clockid_t bench_clock = CLOCK_MONOTONIC;

static double now_s(void)
{
    return bench_clock_s(bench_clock);
}

/* Anonymous resident memory of this process, bytes (RssAnon: the heap, not the mapped graph file). */
static long rss_anon(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "RssAnon:", 8))
            kb = atol(line + 8);
    if (f)
        fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

/* ---------------------------------------------------------------- trips */

static const cv_graph *G;
static cv_hub_labels *LABELS; /* --hub-labels */
static int64_t NOW;
static cv_day DAY; /* tomorrow, local: every trip is on this date */

/* A departure on DAY, uniform over 06:00-10:00 local time. */
static int64_t random_time(void)
{
    return cv_local_to_utc(DAY, 6 * 3600 + (int32_t)(next_rand() % (4 * 3600)));
}

static cv_offer make_offer(cv_coord from, cv_coord to, int64_t depart)
{
    cv_offer o;
    memset(&o, 0, sizeof o);
    snprintf(o.owner, sizeof o.owner, "bench-driver");
    o.from = from;
    o.to = to;
    o.when = (cv_schedule){CV_PUNCTUAL, depart, 0, 0, 0, 0, CV_DEFAULT_MARGIN_S};
    o.seats = CV_DEFAULT_SEATS;
    o.max_detour_s = -1;
    o.max_detour_m = -1;
    return o;
}

static cv_request make_request(cv_coord from, cv_coord to, int64_t depart)
{
    cv_request r;
    memset(&r, 0, sizeof r);
    snprintf(r.owner, sizeof r.owner, "bench-passenger");
    r.from = from;
    r.to = to;
    r.when = (cv_schedule){CV_PUNCTUAL, depart, 0, 0, 0, 0, CV_DEFAULT_MARGIN_S};
    r.seats = 1;
    return r;
}

/* A passenger along offer o's route: pickup near 20-40 % of the way, drop-off near 60-80 %, each jittered by
   ~50 m, wishing to be picked up 0-10 min after the driver's departure. 0 when the route cannot be drawn. */
static int request_along(cv_ch_query *q, const cv_offer *o, cv_request *r)
{
    cv_snap a, b;
    if (!bench_snaps(G, o->from, &a) || !bench_snaps(G, o->to, &b))
        return 0;
    cv_path p = {0};
    cv_coord *pts = NULL;
    size_t n = 0;
    int ok = cv_ch_route(q, &a, &b, &p, NULL) == 0 && cv_path_geometry(G, &p, &pts, &n) == 0 && n >= 2;
    if (ok) {
        cv_coord from = bench_jitter(bench_along(pts, n, frand(0.2, 0.4)), 50, &rng),
                 to = bench_jitter(bench_along(pts, n, frand(0.6, 0.8)), 50, &rng);
        *r = make_request(from, to, o->when.depart + (int64_t)(next_rand() % 601));
        ok = bench_snaps(G, from, NULL) && bench_snaps(G, to, NULL) && (from.lon != to.lon || from.lat != to.lat);
    }
    free(pts);
    cv_path_free(&p);
    return ok;
}

/* ---------------------------------------------------------------- one size */

typedef struct result {
    int size, ok;
    char error[600];
    /* offers */
    int stored, add_failures;
    double bulk_add_s, bulk_add_mean_us, bulk_add_p50_us, bulk_add_p95_us, bulk_add_first_mean_us,
        bulk_add_last_mean_us;
    double add_p50_us, add_p95_us, add_mean_us, cancel_p50_us, cancel_p95_us, cancel_mean_us;
    int changes;
    /* memory */
    size_t index_bytes, index_bytes_empty, offer_items;
    double index_bytes_per_offer, index_marginal_bytes_per_offer, rss_bytes_per_offer, items_per_offer;
    long rss_before, rss_after, peak_rss;
    /* requests, indexed */
    int requests, requests_along, request_redraws;
    double req_p50_ms, req_p95_ms, req_mean_ms, req_max_ms, ns_per_offer;
    double along_p50_ms, random_p50_ms;
    double matches_mean, matches_along_mean, matches_random_mean;
    double scanned_mean, kept_mean, touched_mean; /* cv_matcher_ws_counters per request */
    /* naive */
    int naive_requests;
    long naive_pairs, naive_errors;
    double naive_mean_ms, naive_us_per_pair, naive_indexed_mean_ms, ratio;
    /* agreement on the naive requests */
    long check_index_only, check_pair_only, check_detour_differ, check_search_differ;
    long check_matches;
} result;

/* Any difference between the index and the pair-by-pair oracle (or an oracle that could not answer) fails the run:
   the index is an optimisation and must never change an answer. */
static long disagreement(const result *r)
{
    return r->check_index_only + r->check_pair_only + r->check_detour_differ + r->check_search_differ + r->naive_errors;
}

static int has_id(const cv_match *ms, size_t n, int64_t offer, const cv_match **hit)
{
    for (size_t i = 0; i < n; i++)
        if (ms[i].offer_id == offer) {
            if (hit)
                *hit = &ms[i];
            return 1;
        }
    return 0;
}

/* One line on stderr per disagreement between the index and the pair-by-pair oracle, with what is needed to look
   into it. */
static void report_mismatch(int size, const char *what, const cv_match *a, const cv_match *b, const cv_offer *offers,
                            int n, const cv_request *rq)
{
    const cv_offer *o = NULL;
    for (int k = 0; k < n && !o; k++)
        if (offers[k].id == a->offer_id)
            o = &offers[k];
    fprintf(stderr,
            "bench_matcher: MISMATCH %d offers: %s: offer %lld (%.6f,%.6f -> %.6f,%.6f, depart %+lld s, direct %lld ds "
            "%lld dm) request %lld (%.6f,%.6f -> %.6f,%.6f, wish %+lld s): detour %lld ds %lld dm, pickup %+lld s, "
            "mismatch %lld s",
            size, what, (long long)a->offer_id, o ? cv_deg(o->from.lon) : 0, o ? cv_deg(o->from.lat) : 0,
            o ? cv_deg(o->to.lon) : 0, o ? cv_deg(o->to.lat) : 0, o ? (long long)(o->when.depart - NOW) : 0,
            o ? (long long)o->direct_duration_ds : 0, o ? (long long)o->direct_distance_dm : 0,
            (long long)a->request_id, cv_deg(rq->from.lon), cv_deg(rq->from.lat), cv_deg(rq->to.lon),
            cv_deg(rq->to.lat), (long long)(rq->when.depart - NOW), (long long)a->detour_ds, (long long)a->detour_dm,
            (long long)(a->pickup_time - NOW), (long long)a->mismatch_s);
    if (b)
        fprintf(stderr, "; pair by pair: detour %lld ds %lld dm, pickup %+lld s", (long long)b->detour_ds,
                (long long)b->detour_dm, (long long)(b->pickup_time - NOW));
    fprintf(stderr, " (times relative to now)\n");
}

static int fail(result *r, const char *what, const cv_error *e)
{
    snprintf(r->error, sizeof r->error, "%s: %s", what, e->text);
    for (char *c = r->error; *c; c++)
        if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
            *c = '\''; /* the text goes into the JSON as is */
    fprintf(stderr, "bench_matcher: %d offers: %s\n", r->size, r->error);
    return -1;
}

static void remove_db(const char *db)
{
    char p[512];
    remove(db);
    snprintf(p, sizeof p, "%s-wal", db);
    remove(p);
    snprintf(p, sizeof p, "%s-shm", db);
    remove(p);
}

static int run_size(int size, int nreq, int naive_max, double naive_budget, result *r)
{
    memset(r, 0, sizeof *r);
    r->size = size;
    char db[256];
    snprintf(db, sizeof db, "/tmp/bench_matcher_%d_%d.db", size, (int)getpid());
    remove_db(db);
    cv_error err = {0};
    /* every page of the graph resident before the baseline, so that RSS growth is the index alone */
    volatile unsigned char sink = 0;
    for (size_t i = 0; G->map && i < G->map_size; i += 4096)
        sink ^= ((const unsigned char *)G->map)[i];
    (void)sink;

    cv_matcher_options mo = cv_matcher_defaults();
    mo.max_results = INT_MAX; /* every match, so that counts are complete and comparable with the oracle */
    mo.labels = LABELS;
    cv_matcher *m;
    if (cv_matcher_open(G, db, &mo, NOW, &m, &err))
        return fail(r, "open", &err);
    cv_matcher_ws *w = cv_matcher_ws_new(m, &err);
    if (!w)
        return fail(r, "workspace", &err);
    cv_ch_query *q = cv_ch_query_new(G);
    cv_matcher_stats st;
    cv_matcher_get_stats(m, &st);
    r->index_bytes_empty = st.bytes;

    /* the bench's own arrays, touched before the baseline */
    cv_offer *offers = malloc((size_t)size * sizeof *offers);
    double *t = malloc(((size_t)size > 1000 ? (size_t)size : 1000) * sizeof *t);
    memset(offers, 0, (size_t)size * sizeof *offers);
    memset(t, 0, (size_t)size * sizeof *t);

    /* ---- offers */
    fprintf(stderr, "bench_matcher: %d offers: adding\n", size);
    r->rss_before = rss_anon();
    double bulk = 0;
    int n = 0;
    while (n < size) {
        cv_coord a, b;
        bench_random_pair(G, &rng, MIN_TRIP_M, &a, &b);
        cv_offer o = make_offer(a, b, random_time());
        double t0 = now_s();
        int rc = cv_matcher_add_offer(w, &o, NOW, &err);
        double dt = now_s() - t0;
        if (rc) {
            r->add_failures++; /* e.g. no route (an island the snap still accepted): draw again */
            continue;
        }
        bulk += dt;
        t[n] = dt * 1e6;
        offers[n++] = o;
        if (n % 10000 == 0)
            fprintf(stderr, "bench_matcher: %d offers: %d added, %.0f us each so far\n", size, n, bulk * 1e6 / n);
    }
    r->rss_after = rss_anon();
    r->stored = n;
    r->bulk_add_s = bulk;
    r->bulk_add_mean_us = bulk * 1e6 / n;
    r->bulk_add_p50_us = bench_percentile(t, (size_t)n, 0.5);
    r->bulk_add_p95_us = bench_percentile(t, (size_t)n, 0.95);
    int k10 = n / 10 ? n / 10 : 1;
    r->bulk_add_first_mean_us = bench_mean(t, (size_t)k10);
    r->bulk_add_last_mean_us = bench_mean(t + n - k10, (size_t)k10);
    cv_matcher_get_stats(m, &st);
    r->index_bytes = st.bytes;
    r->offer_items = st.offer_items;
    r->index_bytes_per_offer = (double)st.bytes / n;
    r->index_marginal_bytes_per_offer = (double)(st.bytes - r->index_bytes_empty) / n;
    r->items_per_offer = (double)st.offer_items / n;
    r->rss_bytes_per_offer = (double)(r->rss_after - r->rss_before) / n;

    /* ---- requests: half along offers' routes, half random; each must be answerable (validated by one untimed
       search, which also warms up) */
    fprintf(stderr, "bench_matcher: %d offers: drawing %d requests\n", size, nreq);
    cv_request *reqs = malloc((size_t)nreq * sizeof *reqs);
    int *is_along = malloc((size_t)nreq * sizeof *is_along);
    size_t *nmatch = malloc((size_t)nreq * sizeof *nmatch);
    double *rt = malloc((size_t)nreq * sizeof *rt);
    for (int i = 0; i < nreq;) {
        cv_request rq;
        int al = i % 2 == 0;
        if (al) {
            if (!request_along(q, &offers[next_rand() % (uint64_t)n], &rq)) {
                r->request_redraws++;
                continue;
            }
        } else {
            cv_coord a, b;
            bench_random_pair(G, &rng, MIN_TRIP_M, &a, &b);
            rq = make_request(a, b, random_time());
        }
        cv_match *ms = NULL;
        size_t nm = 0;
        if (cv_matcher_search(w, &rq, NOW, 0, &ms, &nm, &err)) {
            r->request_redraws++;
            continue;
        }
        free(ms);
        reqs[i] = rq;
        is_along[i++] = al;
    }
    fprintf(stderr, "bench_matcher: %d offers: requests phase (pid %d)\n", size, (int)getpid());
    for (int i = 0; i < nreq; i++) {
        cv_match *ms = NULL;
        size_t nm = 0;
        double t0 = now_s();
        int rc = cv_matcher_search(w, &reqs[i], NOW, 0, &ms, &nm, &err);
        rt[i] = (now_s() - t0) * 1e3;
        free(ms);
        if (rc)
            return fail(r, "search", &err);
        nmatch[i] = nm;
        uint64_t sc, kp, tc;
        cv_matcher_ws_counters(w, &sc, &kp, &tc);
        r->scanned_mean += (double)sc / nreq;
        r->kept_mean += (double)kp / nreq;
        r->touched_mean += (double)tc / nreq;
    }
    fprintf(stderr, "bench_matcher: %d offers: requests phase done\n", size);
    r->requests = nreq;
    r->req_p50_ms = bench_percentile(rt, (size_t)nreq, 0.5);
    r->req_p95_ms = bench_percentile(rt, (size_t)nreq, 0.95);
    r->req_mean_ms = bench_mean(rt, (size_t)nreq);
    r->req_max_ms = bench_percentile(rt, (size_t)nreq, 1.0);
    r->ns_per_offer = r->req_p50_ms * 1e6 / n;
    {
        double *ta = malloc((size_t)nreq * sizeof *ta), *tr = malloc((size_t)nreq * sizeof *tr);
        size_t na = 0, nr = 0;
        double sa = 0, sr = 0;
        for (int i = 0; i < nreq; i++) {
            if (is_along[i])
                ta[na++] = rt[i], sa += (double)nmatch[i];
            else
                tr[nr++] = rt[i], sr += (double)nmatch[i];
        }
        r->requests_along = (int)na;
        r->along_p50_ms = bench_percentile(ta, na, 0.5);
        r->random_p50_ms = bench_percentile(tr, nr, 0.5);
        r->matches_along_mean = na ? sa / (double)na : 0;
        r->matches_random_mean = nr ? sr / (double)nr : 0;
        r->matches_mean = (sa + sr) / nreq;
        free(ta), free(tr);
    }

    /* ---- naive: the same requests (the first ones, alternating along / random), stored, then one cv_matcher_pair
       per offer; whole passes only, as many as fit in the budget (at least one); each pass also checks the index */
    fprintf(stderr, "bench_matcher: %d offers: naive\n", size);
    double naive_total = 0, idx_total = 0;
    for (int i = 0; i < nreq && i < naive_max; i++) {
        if (i > 0 && naive_total + naive_total / i > naive_budget)
            break;
        cv_request rq = reqs[i];
        if (cv_matcher_add_request(w, &rq, NOW, &err))
            return fail(r, "add_request", &err);
        cv_match *pairs = malloc((size_t)n * sizeof *pairs);
        size_t np = 0;
        double t0 = now_s();
        for (int k = 0; k < n; k++) {
            int rc = cv_matcher_pair(w, offers[k].id, rq.id, NOW, &pairs[np], &err);
            if (rc == 1)
                np++;
            else if (rc < 0)
                r->naive_errors++;
        }
        double dt = now_s() - t0;
        naive_total += dt;
        idx_total += rt[i] / 1e3;
        r->naive_pairs += n;
        r->naive_requests++;
        /* the index's answer for the stored request */
        cv_match *ms = NULL;
        size_t nm = 0;
        if (cv_matcher_request_matches(w, rq.id, NOW, 0, &ms, &nm, &err))
            return fail(r, "request_matches", &err);
        for (size_t j = 0; j < nm; j++) {
            const cv_match *h;
            if (!has_id(pairs, np, ms[j].offer_id, &h)) {
                r->check_index_only++;
                report_mismatch(size, "only in the index", &ms[j], NULL, offers, n, &rq);
            } else if (h->detour_ds != ms[j].detour_ds || h->detour_dm != ms[j].detour_dm) {
                r->check_detour_differ++;
                report_mismatch(size, "another detour", &ms[j], h, offers, n, &rq);
            }
        }
        for (size_t j = 0; j < np; j++)
            if (!has_id(ms, nm, pairs[j].offer_id, NULL)) {
                r->check_pair_only++;
                report_mismatch(size, "only pair by pair", &pairs[j], NULL, offers, n, &rq);
            }
        if (nm != nmatch[i])
            r->check_search_differ++;
        r->check_matches += (long)np;
        fprintf(stderr,
                "bench_matcher: %d offers: naive request %d: %.0f ms (index %.2f ms), %zu pair matches, %zu "
                "index matches\n",
                size, i, dt * 1e3, rt[i], np, nm);
        free(ms);
        free(pairs);
    }
    r->naive_mean_ms = naive_total * 1e3 / r->naive_requests;
    r->naive_us_per_pair = naive_total * 1e6 / (double)r->naive_pairs;
    r->naive_indexed_mean_ms = idx_total * 1e3 / r->naive_requests;
    r->ratio = r->naive_mean_ms / r->naive_indexed_mean_ms;
    if (disagreement(r))
        fprintf(stderr,
                "bench_matcher: %d offers: index and pair-by-pair disagree on %d requests: %ld matches only in the "
                "index, %ld only pair by pair, %ld with another detour, %ld requests where search and "
                "request_matches count differently, %ld pair errors\n",
                size, r->naive_requests, r->check_index_only, r->check_pair_only, r->check_detour_differ,
                r->check_search_differ, r->naive_errors);

    /* ---- add and cancel, one offer at a time, at this size */
    fprintf(stderr, "bench_matcher: %d offers: add and cancel\n", size);
    int64_t ids[CHANGE_OFFERS];
    double ta[CHANGE_OFFERS], tc[CHANGE_OFFERS];
    int nc = 0;
    while (nc < CHANGE_OFFERS) {
        cv_coord a, b;
        bench_random_pair(G, &rng, MIN_TRIP_M, &a, &b);
        cv_offer o = make_offer(a, b, random_time());
        double t0 = now_s();
        int rc = cv_matcher_add_offer(w, &o, NOW, &err);
        double dt = now_s() - t0;
        if (rc)
            continue;
        ta[nc] = dt * 1e6;
        ids[nc++] = o.id;
    }
    for (int i = 0; i < nc; i++) {
        double t0 = now_s();
        int rc = cv_matcher_cancel_offer(w, ids[i], &err);
        tc[i] = (now_s() - t0) * 1e6;
        if (rc)
            return fail(r, "cancel_offer", &err);
    }
    r->changes = nc;
    r->add_p50_us = bench_percentile(ta, (size_t)nc, 0.5);
    r->add_p95_us = bench_percentile(ta, (size_t)nc, 0.95);
    r->add_mean_us = bench_mean(ta, (size_t)nc);
    r->cancel_p50_us = bench_percentile(tc, (size_t)nc, 0.5);
    r->cancel_p95_us = bench_percentile(tc, (size_t)nc, 0.95);
    r->cancel_mean_us = bench_mean(tc, (size_t)nc);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    r->peak_rss = ru.ru_maxrss * 1024L;
    free(reqs), free(is_along), free(nmatch), free(rt), free(offers), free(t);
    cv_ch_query_free(q);
    cv_matcher_ws_free(w);
    cv_matcher_close(m);
    remove_db(db);
    r->ok = 1;
    return 0;
}

/* Each size runs in a child process of its own, so that its memory figures start from the same state. */
static int run_size_child(int size, int nreq, int naive_max, double naive_budget, result *r)
{
    int fd[2];
    if (pipe(fd))
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(fd[0]);
        rng += (uint64_t)size * 0x632be59bd9b4e019ull;
        run_size(size, nreq, naive_max, naive_budget, r);
        ssize_t wr = write(fd[1], r, sizeof *r);
        _exit(wr == (ssize_t)sizeof *r ? 0 : 1);
    }
    close(fd[1]);
    size_t got = 0;
    while (got < sizeof *r) {
        ssize_t k = read(fd[0], (char *)r + got, sizeof *r - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    if (got != sizeof *r) {
        memset(r, 0, sizeof *r);
        r->size = size;
        snprintf(r->error, sizeof r->error, "the child process died (status %d)", status);
        fprintf(stderr, "bench_matcher: %d offers: %s\n", size, r->error);
        return -1;
    }
    return r->ok ? 0 : -1;
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
    fprintf(
        stderr,
        "usage: bench_matcher [--graph FILE | --pbf FILE] [--out FILE] [--sizes 1000,10000,100000] "
        "[--requests N] [--naive-requests N] [--naive-budget SECONDS] [--seed N] [--clock wall|cpu] [--hub-labels]\n");
}

int main(int argc, char **argv)
{
    const char *graph_path = NULL, *pbf = "data/porto.osm.pbf", *outp = "bench/results/matcher.json";
    const char *sizes_arg = "1000,10000,100000";
    int nreq = 200, naive_max = 20, use_labels = 0;
    double naive_budget = 100;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--graph") && i + 1 < argc)
            graph_path = argv[++i];
        else if (!strcmp(argv[i], "--pbf") && i + 1 < argc)
            pbf = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc)
            outp = argv[++i];
        else if (!strcmp(argv[i], "--clock") && i + 1 < argc &&
                 (!strcmp(argv[i + 1], "cpu") || !strcmp(argv[i + 1], "wall")))
            bench_clock = !strcmp(argv[++i], "cpu") ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC;
        else if (!strcmp(argv[i], "--sizes") && i + 1 < argc)
            sizes_arg = argv[++i];
        else if (!strcmp(argv[i], "--requests") && i + 1 < argc)
            nreq = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--naive-requests") && i + 1 < argc)
            naive_max = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--naive-budget") && i + 1 < argc)
            naive_budget = atof(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            rng = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--hub-labels"))
            use_labels = 1;
        else {
            usage();
            return 2;
        }
    }
    int sizes[MAX_SIZES], nsizes = 0;
    for (const char *s = sizes_arg; *s && nsizes < MAX_SIZES;) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v <= 0 || v > 10000000) {
            usage();
            return 2;
        }
        sizes[nsizes++] = (int)v;
        s = *end == ',' ? end + 1 : end;
    }
    if (nreq < 2 || naive_max < 1 || !nsizes) {
        usage();
        return 2;
    }
    uint64_t seed = rng;

    /* the commit checked out when the run starts (run on a fresh build of it) */
    char commit[64] = "unknown";
    FILE *gp =
        popen("git rev-parse --short HEAD 2>/dev/null && git status --porcelain -- matcher routing 2>/dev/null", "r");
    if (gp) {
        char line[256], rest[256];
        if (fgets(line, sizeof line, gp)) {
            line[strcspn(line, "\n")] = 0;
            int dirty = fgets(rest, sizeof rest, gp) != NULL; /* any line after the hash: local changes */
            snprintf(commit, sizeof commit, "%.40s%s", line, dirty ? "+dirty" : "");
        }
        pclose(gp);
    }
    cv_error err = {0};
    if (cv_tz_set("Europe/Lisbon", &err)) {
        fprintf(stderr, "bench_matcher: %s\n", err.text);
        return 1;
    }
    char built[256] = "";
    double import_s = 0;
    if (!graph_path) {
        snprintf(built, sizeof built, "/tmp/bench_matcher_%d.cvg", (int)getpid());
        cv_profile_options popt = cv_profile_defaults();
        cv_network net;
        fprintf(stderr, "bench_matcher: importing %s\n", pbf);
        double t0 = now_s();
        /* in a child, so that the import's freed heap does not stay resident in the processes measured below */
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            if (cv_network_read(pbf, &popt, NULL, &net, &err)) {
                fprintf(stderr, "bench_matcher: %s\n", err.text);
                _exit(1);
            }
            int rc = cv_graph_build(&net, pbf, built, NULL, NULL, &err);
            if (rc)
                fprintf(stderr, "bench_matcher: %s\n", err.text);
            _exit(rc ? 1 : 0);
        }
        int status = 1;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "bench_matcher: the import of %s failed\n", pbf);
            return 1;
        }
        import_s = now_s() - t0;
        graph_path = built;
    }
    cv_graph *g = cv_graph_open(graph_path, &err);
    if (!g) {
        fprintf(stderr, "bench_matcher: %s\n", err.text);
        return 1;
    }
    G = g;
    double labels_s = 0;
    if (use_labels) {
        if (cv_hub_labels_build(g, 0, 0, NULL, &LABELS, &err)) {
            fprintf(stderr, "bench_matcher: %s\n", err.text);
            return 1;
        }
        labels_s = LABELS->build_s;
        fprintf(stderr, "bench_matcher: hub labels built in %.2f s, %.0f MB\n", labels_s,
                (double)cv_hub_labels_bytes(LABELS) / 1048576.0);
    }
    NOW = (int64_t)time(NULL);
    cv_day today;
    cv_utc_to_local(NOW, &today, NULL, NULL);
    DAY = today + 1;

    result res[MAX_SIZES];
    int failed = 0;
    double t_all = now_s();
    for (int i = 0; i < nsizes; i++)
        if (run_size_child(sizes[i], nreq, naive_max, naive_budget, &res[i]))
            failed = 1;
    t_all = now_s() - t_all;

    printf("%8s %8s %8s %9s %8s %8s %8s %8s %8s %9s %7s %7s %8s %8s\n", "offers", "bulk_us", "add_us", "cancel_us",
           "req_p50", "req_p95", "ns/offer", "touched", "matches", "naive_ms", "naive_n", "ratio", "idx_B/of",
           "rss_B/of");
    for (int i = 0; i < nsizes; i++) {
        const result *r = &res[i];
        if (!r->ok) {
            printf("%8d failed: %s\n", r->size, r->error);
            continue;
        }
        printf("%8d %8.0f %8.0f %9.0f %8.2f %8.2f %8.0f %8.0f %8.1f %9.0f %7d %7.0f %8.0f %8.0f\n", r->stored,
               r->bulk_add_mean_us, r->add_p50_us, r->cancel_p50_us, r->req_p50_ms, r->req_p95_ms, r->ns_per_offer,
               r->touched_mean, r->matches_mean, r->naive_mean_ms, r->naive_requests, r->ratio,
               r->index_bytes_per_offer, r->rss_bytes_per_offer);
    }
    long differences = 0;
    for (int i = 0; i < nsizes; i++) {
        const result *r = &res[i];
        if (!r->ok || !disagreement(r))
            continue;
        differences += disagreement(r);
        printf("FAIL: %d offers: index and pair-by-pair disagree: %ld matches only in the index, %ld only pair by "
               "pair, %ld with another detour, %ld search counts differ, %ld pair errors (over %d requests, %ld pair "
               "matches)\n",
               r->size, r->check_index_only, r->check_pair_only, r->check_detour_differ, r->check_search_differ,
               r->naive_errors, r->naive_requests, r->check_matches);
    }

    FILE *f = fopen(outp, "w");
    if (!f) {
        fprintf(stderr, "bench_matcher: cannot write %s\n", outp);
        return 1;
    }
    struct utsname un;
    uname(&un);
    char cpu[128];
    bench_cpu_model(cpu, sizeof cpu);
    char day[16];
    cv_format_date(DAY, day);
    fprintf(f,
            "{\"benchmark\": \"matcher\", \"commit\": \"%s\", \"clock\": \"%s\", \"hub_labels\": %s, "
            "\"hub_labels_build_s\": %.3f,\n",
            commit, bench_clock == CLOCK_MONOTONIC ? "wall" : "thread cpu time", LABELS ? "true" : "false", labels_s);
    fprintf(f,
            " \"machine\": {\"nproc\": %ld, \"cpu\": \"%s\", \"kernel\": \"%s %s\", \"ndebug\": %s, \"threads_used\": "
            "1},\n",
            sysconf(_SC_NPROCESSORS_ONLN), cpu, un.sysname, un.release,
#ifdef NDEBUG
            "true"
#else
            "false"
#endif
    );
    fprintf(f,
            " \"graph\": {\"file\": \"%s\", \"source\": \"%s\", \"nodes\": %u, \"edges\": %u, \"shortcuts\": %u, "
            "\"import_s\": %.3f},\n",
            built[0] ? "(built in /tmp)" : graph_path, g->hdr.source, g->hdr.nnodes, g->hdr.nedges,
            g->hdr.nch_shortcuts, import_s);
    fprintf(f,
            " \"setup\": {\"seed\": %llu, \"tz\": \"Europe/Lisbon\", \"day\": \"%s\", \"window\": \"06:00-10:00\", "
            "\"margin_s\": %d, \"seats\": %d, \"detour\": \"default (%d %%)\", \"min_trip_m\": %.0f, "
            "\"requests\": %d, \"naive_requests_max\": %d, \"naive_budget_s\": %.0f, \"max_results\": \"unlimited\", "
            "\"change_offers\": %d, \"total_s\": %.1f},\n",
            (unsigned long long)seed, day, CV_DEFAULT_MARGIN_S, CV_DEFAULT_SEATS, CV_DEFAULT_DETOUR_PERCENT, MIN_TRIP_M,
            nreq, naive_max, naive_budget, CHANGE_OFFERS, t_all);
    fprintf(f, " \"sizes\": [\n");
    for (int i = 0; i < nsizes; i++) {
        const result *r = &res[i];
        if (!r->ok) {
            fprintf(f, "  {\"offers\": %d, \"error\": \"%s\"}%s\n", r->size, r->error, i + 1 < nsizes ? "," : "");
            continue;
        }
        fprintf(
            f,
            "  {\"offers\": %d, \"add_failures\": %d,\n"
            "   \"bulk_add\": {\"total_s\": %.2f, \"mean_us\": %.1f, \"median_us\": %.1f, \"p95_us\": %.1f, "
            "\"first_tenth_mean_us\": %.1f, \"last_tenth_mean_us\": %.1f},\n"
            "   \"add_us\": {\"n\": %d, \"median\": %.1f, \"p95\": %.1f, \"mean\": %.1f},\n"
            "   \"cancel_us\": {\"n\": %d, \"median\": %.1f, \"p95\": %.1f, \"mean\": %.1f},\n"
            "   \"request_ms\": {\"n\": %d, \"median\": %.4f, \"p95\": %.4f, \"mean\": %.4f, \"max\": %.4f, "
            "\"along_n\": %d, \"along_median\": %.4f, \"random_median\": %.4f, \"redraws\": %d},\n"
            "   \"ns_per_offer\": %.1f,\n"
            "   \"matches_per_request\": {\"mean\": %.2f, \"along\": %.2f, \"random\": %.2f},\n"
            "   \"per_request\": {\"bucket_items_scanned\": %.0f, \"items_kept\": %.0f, \"offers_touched\": %.0f},\n"
            "   \"naive\": {\"requests\": %d, \"pairs\": %ld, \"errors\": %ld, \"mean_ms\": %.1f, "
            "\"us_per_pair\": %.2f, \"indexed_mean_ms_same_requests\": %.4f, \"ratio\": %.1f},\n"
            "   \"check\": {\"requests\": %d, \"pair_matches\": %ld, \"only_index\": %ld, \"only_pair\": %ld, "
            "\"detour_differs\": %ld, \"search_count_differs\": %ld},\n"
            "   \"memory\": {\"index_bytes\": %zu, \"index_bytes_empty\": %zu, \"index_bytes_per_offer\": %.1f, "
            "\"index_marginal_bytes_per_offer\": %.1f, \"offer_bucket_items\": %zu, \"items_per_offer\": %.1f, "
            "\"rss_anon_before\": %ld, \"rss_anon_after\": %ld, "
            "\"rss_bytes_per_offer\": %.1f, \"peak_rss\": %ld}}%s\n",
            r->stored, r->add_failures, r->bulk_add_s, r->bulk_add_mean_us, r->bulk_add_p50_us, r->bulk_add_p95_us,
            r->bulk_add_first_mean_us, r->bulk_add_last_mean_us, r->changes, r->add_p50_us, r->add_p95_us,
            r->add_mean_us, r->changes, r->cancel_p50_us, r->cancel_p95_us, r->cancel_mean_us, r->requests,
            r->req_p50_ms, r->req_p95_ms, r->req_mean_ms, r->req_max_ms, r->requests_along, r->along_p50_ms,
            r->random_p50_ms, r->request_redraws, r->ns_per_offer, r->matches_mean, r->matches_along_mean,
            r->matches_random_mean, r->scanned_mean, r->kept_mean, r->touched_mean, r->naive_requests, r->naive_pairs,
            r->naive_errors, r->naive_mean_ms, r->naive_us_per_pair, r->naive_indexed_mean_ms, r->ratio,
            r->naive_requests, r->check_matches, r->check_index_only, r->check_pair_only, r->check_detour_differ,
            r->check_search_differ, r->index_bytes, r->index_bytes_empty, r->index_bytes_per_offer,
            r->index_marginal_bytes_per_offer, r->offer_items, r->items_per_offer, r->rss_before, r->rss_after,
            r->rss_bytes_per_offer, r->peak_rss, i + 1 < nsizes ? "," : "");
    }
    fprintf(f, "]}\n");
    fclose(f);
    cv_hub_labels_free(LABELS);
    cv_graph_close(g);
    if (built[0])
        remove(built);
    if (differences)
        fprintf(stderr,
                "bench_matcher: FAILED: the index and the pair-by-pair oracle disagree (%ld differences; "
                "the MISMATCH lines above give each one); the figures are in %s\n",
                differences, outp);
    if (failed)
        fprintf(stderr, "bench_matcher: FAILED: a size did not run to the end (see above)\n");
    return failed || differences ? 1 : 0;
}
