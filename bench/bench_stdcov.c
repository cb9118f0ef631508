/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* bench_stdcov.c — GET /stdcov/v1/driver_journeys (the carpool interoperability standard, web/stdcov_api.c) over
   HTTP with 10,000 open offers: a real server in this process (cv_server_start on 127.0.0.1, hub labels as `covoit
   serve` builds them, a fresh SQLite trip store), the offers added through cv_matcher_add_offer, then journeys
   asked over keep-alive connections. Measures the server-side time of one request (the dur_ms of the server's
   access log, which goes to a file), the client's round trip, the requests per second with 2 and 4 client threads,
   and the journeys answered per request, and compares them with the targets (median under 5 ms, at least
   500 requests/s). Prints a table and writes it to bench/results/stdcov.txt.

   usage: bench_stdcov [--graph FILE | --pbf FILE] [--out FILE] [--offers N] [--requests N] [--seconds S]
                       [--clients 2,4] [--threads N] [--seed N] [--no-labels] [--keep-log]
                       [--quiet-wait S]
   (run from the top of the repository, on a Release build; see bench/README.md) */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_http.h"
#include "routing/hub_labels.h"
#include "web/server.h"

#define OPERATOR "carpool.example.org"
#define PUBLIC_URL "https://carpool.example.org/"
#define PATH_JOURNEYS "/stdcov/v1/driver_journeys"
#define TARGET_P50_MS 5.0
#define TARGET_RPS 500.0
#define MAX_CELLS 8

static uint64_t rng = 42;
static const cv_graph *G;
static int64_t NOW;
static cv_day DAY0; /* tomorrow, local: offers leave on DAY0 .. DAY0 + BENCH_DAYS - 1 */

/* ---------------------------------------------------------------- the requests */

enum { K_ALONG, K_REVERSED, K_RANDOM, NKINDS };
static const char *const kind_name[NKINDS] = {"along", "reversed", "random"};

typedef struct ask {
    int kind;
    char path[320];
} ask;

static void ask_path(ask *a, int kind, cv_coord from, cv_coord to, long long date, int delta)
{
    a->kind = kind;
    snprintf(a->path, sizeof a->path,
             PATH_JOURNEYS "?departureLat=%.7f&departureLng=%.7f&arrivalLat=%.7f&arrivalLng=%.7f"
                           "&departureDate=%lld&timeDelta=%d",
             cv_deg(from.lat), cv_deg(from.lon), cv_deg(to.lat), cv_deg(to.lon), date, delta);
}

/* A journey question along offer o's route (bench_leg_along; reversed: the same two points the other way round),
   departureDate when the driver passes the departure point +-5 min, timeDelta 900-3600 s. 0 when it is drawn
   again, as bench_matcher.c does. */
static int ask_along(cv_ch_query *q, const cv_offer *o, int reversed, ask *a)
{
    bench_leg l;
    if (!bench_leg_along(G, q, o, &rng, &l))
        return 0;
    int delta = 900 + (int)(l.x % 2701);
    if (reversed)
        ask_path(a, K_REVERSED, l.to, l.from, llround(l.at[1]), delta);
    else
        ask_path(a, K_ALONG, l.from, l.to, llround(l.at[0]), delta);
    return 1;
}

/* A random trip, drawn as the offers are, at a random time of theirs. */
static void ask_random(ask *a)
{
    cv_coord from, to;
    bench_random_pair(G, &rng, BENCH_MIN_TRIP_M, &from, &to);
    int delta = 900 + (int)(bench_splitmix(&rng) % 2701);
    ask_path(a, K_RANDOM, from, to, (long long)bench_offer_time(&rng, DAY0), delta);
}

/* Journeys in an answer: one passengerPickupDate each. */
static int count_journeys(const char *body)
{
    int n = 0;
    for (const char *p = body; (p = strstr(p, "\"passengerPickupDate\"")); p++)
        n++;
    return n;
}

static int log_fd = -1; /* the server's access log (its fd 2) */

/* ---------------------------------------------------------------- the throughput cells */

typedef struct worker {
    uint16_t port;
    const ask *asks;
    size_t nasks, start;
    double t_start, t_end;
    pthread_barrier_t *go;
    /* results */
    size_t done, failed, non200;
    double last_s;
    double *rtt; /* ms per request, up to cap */
    size_t nrtt, cap;
    long journeys, reconnects;
} worker;

static void *worker_run(void *arg)
{
    worker *w = arg;
    bench_conn c = {.port = w->port, .fd = -1};
    bench_conn_open(&c);
    pthread_barrier_wait(w->go);
    size_t i = w->start;
    while (bench_now() < w->t_end) {
        const ask *a = &w->asks[i];
        i = (i + 1) % w->nasks;
        int status = 0;
        const char *body;
        size_t blen;
        double t0 = bench_now();
        int rc = bench_http(&c, "GET", a->path, NULL, &status, &body, &blen);
        double t1 = bench_now();
        if (rc) {
            w->failed++;
            continue;
        }
        if (status != 200)
            w->non200++;
        w->done++;
        w->journeys += count_journeys(body);
        w->last_s = t1;
        if (w->nrtt < w->cap)
            w->rtt[w->nrtt++] = (t1 - t0) * 1e3;
    }
    w->reconnects = c.reconnects;
    bench_conn_close(&c);
    free(c.buf);
    return NULL;
}

typedef struct cell {
    int clients;
    size_t done, failed, non200, logged, other_lines;
    long reconnects;
    double seconds, rps, journeys_mean;
    double srv_p50, srv_p90, srv_p99, srv_mean;
    double rtt_p50, rtt_p90, rtt_p99;
    double others_cores, nice_cores, self_cores, before_cores;
} cell;

static int run_cell(uint16_t port, const ask *asks, size_t nasks, int clients, double seconds, cell *out_cell)
{
    memset(out_cell, 0, sizeof *out_cell);
    out_cell->clients = clients;
    worker *ws = calloc((size_t)clients, sizeof *ws);
    pthread_t *th = calloc((size_t)clients, sizeof *th);
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, (unsigned)clients + 1);
    size_t cap = (size_t)(seconds * 20000) + 1000;
    for (int k = 0; k < clients; k++) {
        ws[k].port = port;
        ws[k].asks = asks;
        ws[k].nasks = nasks;
        ws[k].start = (size_t)k * nasks / (size_t)clients;
        ws[k].go = &go;
        ws[k].rtt = malloc(cap * sizeof *ws[k].rtt);
        ws[k].cap = cap;
        ws[k].t_end = 1e300; /* set once every thread is connected */
    }
    out_cell->before_cores = bench_wait_quiet();
    off_t a = bench_log_settled(log_fd);
    for (int k = 0; k < clients; k++)
        pthread_create(&th[k], NULL, worker_run, &ws[k]);
    /* the deadline is written before the barrier releases the threads, which read it only after it */
    double t0 = bench_now() + 0.001;
    for (int k = 0; k < clients; k++)
        ws[k].t_start = t0, ws[k].t_end = t0 + seconds;
    bench_cpu_mark c0 = bench_cpu_take();
    pthread_barrier_wait(&go);
    t0 = bench_now();
    double last = t0;
    for (int k = 0; k < clients; k++) {
        pthread_join(th[k], NULL);
        if (ws[k].last_s > last)
            last = ws[k].last_s;
    }
    bench_cpu_mark c1 = bench_cpu_take();
    off_t b = bench_log_settled(log_fd);
    pthread_barrier_destroy(&go);

    cell *r = out_cell;
    size_t nrtt = 0;
    long journeys = 0;
    for (int k = 0; k < clients; k++) {
        r->done += ws[k].done;
        r->failed += ws[k].failed;
        r->non200 += ws[k].non200;
        r->reconnects += ws[k].reconnects;
        journeys += ws[k].journeys;
        nrtt += ws[k].nrtt;
    }
    double *rtt = malloc((nrtt + 1) * sizeof *rtt);
    nrtt = 0;
    for (int k = 0; k < clients; k++) {
        memcpy(rtt + nrtt, ws[k].rtt, ws[k].nrtt * sizeof *rtt);
        nrtt += ws[k].nrtt;
        free(ws[k].rtt);
    }
    r->seconds = last - t0;
    r->rps = r->seconds > 0 ? (double)r->done / r->seconds : 0;
    r->journeys_mean = r->done ? (double)journeys / (double)r->done : 0;
    r->rtt_p50 = bench_percentile(rtt, nrtt, 0.5);
    r->rtt_p90 = bench_percentile(rtt, nrtt, 0.9);
    r->rtt_p99 = bench_percentile(rtt, nrtt, 0.99);
    size_t nl;
    bench_logged *lv = bench_read_log(log_fd, a, b, NULL, PATH_JOURNEYS, &nl, &r->other_lines);
    double *ms = malloc((nl + 1) * sizeof *ms);
    for (size_t i = 0; i < nl; i++)
        ms[i] = lv[i].ms;
    r->logged = nl;
    r->srv_p50 = bench_percentile(ms, nl, 0.5);
    r->srv_p90 = bench_percentile(ms, nl, 0.9);
    r->srv_p99 = bench_percentile(ms, nl, 0.99);
    r->srv_mean = bench_mean(ms, nl);
    bench_cpu_use u = bench_cpu_between(&c0, &c1);
    r->self_cores = u.ours[0], r->others_cores = u.others + u.niced, r->nice_cores = u.niced;
    free(lv), free(ms), free(rtt), free(ws), free(th);
    return r->failed || r->non200 ? -1 : 0;
}

/* ---------------------------------------------------------------- one client, one request at a time */

typedef struct seq {
    size_t n;
    double *rtt;   /* client round trip per request, ms */
    int *journeys; /* journeys answered per request */
    size_t *bytes; /* answer body per request */
    double *srv;   /* the server's dur_ms of the timed pass's answers 200, in the order they came */
    size_t nsrv, other_lines;
    int paired; /* srv[i] is request i's: one answer 200 logged per request and nothing else */
    long non200, errors;
    double before_cores, self_cores, others_cores, nice_cores;
} seq;

/* Every request once, in order, on c's keep-alive connection. The timed pass waits for a quiet machine first and
   reads the server's times from the log. */
static void run_sequential(bench_conn *c, const ask *asks, int timed, seq *s)
{
    if (timed)
        s->before_cores = bench_wait_quiet();
    off_t a = bench_log_settled(log_fd);
    bench_cpu_mark c0 = bench_cpu_take();
    for (size_t i = 0; i < s->n; i++) {
        int status = 0;
        const char *body = "";
        size_t blen = 0;
        double t0 = bench_now();
        int rc = bench_http(c, "GET", asks[i].path, NULL, &status, &body, &blen);
        s->rtt[i] = (bench_now() - t0) * 1e3;
        s->journeys[i] = 0, s->bytes[i] = 0;
        if (rc) {
            if (s->errors++ < 5)
                bench_say("GET %s: no answer", asks[i].path);
            continue;
        }
        if (status != 200 || body[0] != '[') {
            if (s->non200++ < 5)
                bench_say("GET %s: %d %.300s", asks[i].path, status, body);
            continue;
        }
        s->journeys[i] = count_journeys(body);
        s->bytes[i] = blen;
    }
    bench_cpu_mark c1 = bench_cpu_take();
    if (!timed) {
        bench_cpu_between(&c0, &c1); /* frees them */
        return;
    }
    off_t b = bench_log_settled(log_fd);
    size_t nl;
    bench_logged *lv = bench_read_log(log_fd, a, b, NULL, PATH_JOURNEYS, &nl, &s->other_lines);
    s->srv = malloc((nl + 1) * sizeof *s->srv);
    for (size_t i = 0; i < nl; i++)
        s->srv[i] = lv[i].ms;
    s->nsrv = nl;
    s->paired = nl == s->n && !s->other_lines;
    if (!s->paired)
        bench_say(
            "the timed pass logged %zu answers 200 and %zu other lines for %zu requests: server-side times are given "
            "for all of them together only",
            nl, s->other_lines, s->n);
    free(lv);
    bench_cpu_use u = bench_cpu_between(&c0, &c1);
    s->self_cores = u.ours[0], s->others_cores = u.others + u.niced, s->nice_cores = u.niced;
}

/* The table of the timed pass, per kind of request and for all; returns the server-side median. */
static double report_sequential(const seq *s, const ask *asks)
{
    bench_out("One client, one request at a time (after a warm-up pass over the same requests); times in ms:\n");
    bench_out("%-9s %6s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n", "kind", "n", "any_%", "journeys", "bytes",
              "srv_p50", "srv_p90", "srv_p99", "srv_max", "srv_mean", "rtt_p50", "rtt_p90", "rtt_p99");
    double *kms = malloc((s->n + 1) * sizeof *kms), *krtt = malloc((s->n + 1) * sizeof *krtt);
    for (int kind = 0; kind <= NKINDS; kind++) { /* NKINDS: all of them */
        size_t k = 0, km = 0, any = 0;
        double sj = 0, sb = 0;
        for (size_t i = 0; i < s->n; i++)
            if (kind == NKINDS || asks[i].kind == kind) {
                krtt[k++] = s->rtt[i];
                if (s->paired)
                    kms[km++] = s->srv[i];
                sj += s->journeys[i], sb += (double)s->bytes[i], any += s->journeys[i] > 0;
            }
        if (kind == NKINDS) {
            memcpy(kms, s->srv, s->nsrv * sizeof *kms);
            km = s->nsrv;
        }
        if (!k)
            continue;
        bench_out("%-9s %6zu %8.1f %8.2f %8.0f ", kind == NKINDS ? "all" : kind_name[kind], k,
                  100.0 * (double)any / (double)k, sj / (double)k, sb / (double)k);
        if (km)
            bench_out("%8.2f %8.2f %8.2f %8.2f %8.2f ", bench_percentile(kms, km, 0.5), bench_percentile(kms, km, 0.9),
                      bench_percentile(kms, km, 0.99), bench_percentile(kms, km, 1.0), bench_mean(kms, km));
        else
            bench_out("%8s %8s %8s %8s %8s ", "-", "-", "-", "-", "-");
        bench_out("%8.2f %8.2f %8.2f\n", bench_percentile(krtt, k, 0.5), bench_percentile(krtt, k, 0.9),
                  bench_percentile(krtt, k, 0.99));
    }
    free(kms), free(krtt);
    bench_out(
        "(any_%%: requests that got at least one journey; journeys: mean per request; bytes: mean answer body; srv: "
        "the server's dur_ms, from the request's headers to its answer queued; rtt: the client's round trip on its "
        "keep-alive connection)\n");
    bench_out(
        "CPU during the timed pass, in cores: this process %.2f, other processes %.2f (%.2f of it at a positive nice), "
        "other processes at nice <= 0 just before: %.2f%s\n",
        s->self_cores, s->others_cores, s->nice_cores, s->before_cores,
        s->before_cores >= 0.1 ? " (contended: the figures may be high)" : "");
    if (s->non200 || s->errors)
        bench_out("ERRORS: %ld answers not 200 with a JSON array, %ld requests with no answer (both passes)\n",
                  s->non200, s->errors);
    return bench_percentile(s->srv, s->nsrv, 0.5);
}

/* The table of the throughput cells; the best requests/s and its number of clients. */
static void report_cells(const cell *cells, int ncells, double seconds, double *best_rps, int *best_clients)
{
    bench_out(
        "Throughput: N client threads, each on its own keep-alive connection, cycling through the requests for %.0f s "
        "(each thread from its own place in the list); times in ms:\n",
        seconds);
    bench_out("%7s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n", "clients", "requests", "req/s", "journeys",
              "srv_p50", "srv_p90", "srv_p99", "rtt_p50", "rtt_p90", "rtt_p99", "cpu_self", "cpu_other", "of_nice");
    for (int k = 0; k < ncells; k++) {
        const cell *r = &cells[k];
        bench_out("%7d %8zu %8.0f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f%s\n", r->clients, r->done,
                  r->rps, r->journeys_mean, r->srv_p50, r->srv_p90, r->srv_p99, r->rtt_p50, r->rtt_p90, r->rtt_p99,
                  r->self_cores, r->others_cores, r->nice_cores, r->before_cores >= 0.1 ? " *" : "");
        if (r->failed || r->non200 || r->logged != r->done || r->other_lines)
            bench_out("        %d clients: %zu requests with no answer, %zu not 200, %zu answers 200 logged for %zu "
                      "done, %zu other lines, %ld reconnections\n",
                      r->clients, r->failed, r->non200, r->logged, r->done, r->other_lines, r->reconnects);
        if (r->rps > *best_rps)
            *best_rps = r->rps, *best_clients = r->clients;
    }
    bench_out(
        "(journeys: mean per request; srv: the server's dur_ms of the cell's requests; cpu_self: cores used by this "
        "process, server and clients; cpu_other: by every other process; of_nice: the part of cpu_other used by "
        "processes at a positive nice, such as the fuzzers at nice 19; *: the processes at nice <= 0 took 0.1 core or "
        "more just before)\n");
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
    fprintf(stderr, "usage: bench_stdcov [--graph FILE | --pbf FILE] [--out FILE] [--offers N] [--requests N] "
                    "[--seconds S] [--clients 2,4] [--threads N] [--seed N] [--no-labels] [--keep-log] "
                    "[--quiet-wait S]\n");
}

int main(int argc, char **argv)
{
    const char *graph_path = NULL, *pbf = NULL, *outp = "bench/results/stdcov.txt", *clients_arg = "2,4";
    int noffers = 10000, nreq = 2000, no_labels = 0, keep_log = 0, threads = 0;
    double seconds = 5;
    const bench_opt opts[] = {{"--graph", 's', &graph_path},
                              {"--pbf", 's', &pbf},
                              {"--out", 's', &outp},
                              {"--offers", 'i', &noffers},
                              {"--requests", 'i', &nreq},
                              {"--seconds", 'd', &seconds},
                              {"--clients", 's', &clients_arg},
                              {"--threads", 'i', &threads},
                              {"--seed", 'u', &rng},
                              {"--no-labels", 'f', &no_labels},
                              {"--keep-log", 'f', &keep_log},
                              {"--quiet-wait", 'd', &bench_quiet_wait_s},
                              {NULL, 0, NULL}};
    int clients[MAX_CELLS], ncells = 0, bad = bench_options(argc, argv, opts);
    for (const char *s = clients_arg; !bad && *s && ncells < MAX_CELLS;) {
        char *end;
        long v = strtol(s, &end, 10);
        bad = end == s || v <= 0 || v > 60; /* the server takes 64 connections per address */
        clients[ncells++] = (int)v;
        s = *end == ',' ? end + 1 : end;
    }
    if (bad || noffers < 1 || nreq < 4 || seconds <= 0 || !ncells || threads < 0) {
        usage();
        return 2;
    }
    uint64_t seed = rng;
    bench_name = "bench_stdcov";
    bench_ours[0] = getpid();
    int saved_err = dup(STDERR_FILENO); /* progress and errors: the original stderr, as fd 2 becomes the access log */
    bench_progress = fdopen(saved_err, "w");
    char commit[64];
    bench_commit(commit);
    cv_error err = {0};
    if (cv_tz_set("Europe/Lisbon", &err)) {
        bench_say("%s", err.text);
        return 1;
    }
    double import_s;
    cv_graph *g = bench_graph(&graph_path, &pbf, &import_s);
    if (!g)
        return 1;
    G = g;
    cv_hub_labels *hl = NULL;
    if (!no_labels) { /* as `covoit serve` builds them by default: every core, 1024 MB at most */
        int lrc = cv_hub_labels_build(g, 0, (uint64_t)1024 << 20, NULL, &hl, &err);
        if (lrc == CV_ETOOBIG)
            bench_say("no hub labels: %s", err.text);
        else if (lrc) {
            bench_say("%s", err.text);
            return 1;
        } else
            bench_say("hub labels built in %.2f s, %.0f MB", hl->build_s, (double)cv_hub_labels_bytes(hl) / 1048576.0);
    }
    NOW = (int64_t)time(NULL);
    cv_day today;
    cv_utc_to_local(NOW, &today, NULL, NULL);
    DAY0 = today + 1;

    /* ---- the matcher and the offers */
    const char *db = bench_tmp(".db", 1, 0), *logp = bench_tmp(".log", 0, keep_log);
    cv_matcher_options mo = cv_matcher_defaults();
    mo.labels = hl;
    mo.follow_ms = 200; /* as `covoit serve` opens it */
    cv_matcher *m;
    if (cv_matcher_open(g, db, &mo, NOW, &m, &err)) {
        bench_say("%s", err.text);
        return 1;
    }
    cv_matcher_ws *w = cv_matcher_ws_new(m, &err);
    if (!w) {
        bench_say("%s", err.text);
        return 1;
    }
    bench_say("adding %d offers", noffers);
    cv_offer *offers = calloc((size_t)noffers, sizeof *offers);
    int n = noffers;
    double add_s = bench_now();
    int add_failures = bench_add_offers(w, G, &rng, DAY0, NOW, n, offers);
    add_s = bench_now() - add_s;
    cv_matcher_stats st;
    cv_matcher_get_stats(m, &st);

    /* ---- the questions: half along an offer's route, a quarter the same the other way, a quarter random */
    bench_say("drawing %d requests", nreq);
    ask *asks = calloc((size_t)nreq, sizeof *asks);
    cv_ch_query *q = cv_ch_query_new(g);
    int redraws = 0;
    for (int i = 0; i < nreq;) {
        int kind = i % 4 == 0 || i % 4 == 2 ? K_ALONG : i % 4 == 1 ? K_REVERSED : K_RANDOM;
        if (kind == K_RANDOM)
            ask_random(&asks[i]);
        else if (!ask_along(q, &offers[bench_splitmix(&rng) % (uint64_t)n], kind == K_REVERSED, &asks[i])) {
            redraws++;
            continue;
        }
        i++;
    }
    cv_ch_query_free(q);

    /* ---- the server, its access log in a file */
    log_fd = open(logp, O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0600);
    if (log_fd < 0 || dup2(log_fd, STDERR_FILENO) < 0) {
        bench_say("cannot open %s", logp);
        return 1;
    }
    cv_server_options so = cv_server_defaults();
    so.port = 0;
    so.threads = (unsigned)threads;
    so.quiet = 0; /* one line per request, with its dur_ms */
    so.matcher = m;
    so.labels = hl;
    so.operator_name = OPERATOR;
    so.public_url = PUBLIC_URL;
    cv_server *srv = cv_server_start(g, &so, &err);
    if (!srv) {
        bench_say("%s", err.text);
        return 1;
    }
    uint16_t port = cv_server_port(srv);
    unsigned server_threads = threads ? (unsigned)threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    bench_say("server on 127.0.0.1:%u, access log in %s", (unsigned)port, logp);

    /* ---- one client, one request at a time: a warm-up pass, then the timed pass; then the throughput cells */
    bench_conn c = {.port = port, .fd = -1};
    seq sq;
    memset(&sq, 0, sizeof sq);
    sq.n = (size_t)nreq;
    sq.rtt = malloc(sq.n * sizeof *sq.rtt);
    sq.journeys = malloc(sq.n * sizeof *sq.journeys);
    sq.bytes = malloc(sq.n * sizeof *sq.bytes);
    bench_say("warm-up pass: %d requests", nreq);
    run_sequential(&c, asks, 0, &sq);
    bench_say("timed pass: %d requests, one at a time", nreq);
    run_sequential(&c, asks, 1, &sq);
    bench_conn_close(&c);
    free(c.buf);
    cell cells[MAX_CELLS];
    int failed = sq.non200 || sq.errors;
    for (int k = 0; k < ncells; k++) {
        bench_say("throughput: %d clients for %.0f s", clients[k], seconds);
        if (run_cell(port, asks, (size_t)nreq, clients[k], seconds, &cells[k]))
            failed = 1;
    }
    cv_server_stop(srv);
    dup2(saved_err, STDERR_FILENO);
    close(log_fd);

    /* ---- the report */
    if (!(bench_report = fopen(outp, "w")))
        bench_say("cannot write %s (the report is on stdout only)", outp);
    char day0[16], day1[16], tstart[32];
    cv_format_date(DAY0, day0);
    cv_format_date(DAY0 + BENCH_DAYS - 1, day1);
    cv_format_datetime(NOW, tstart);
    bench_out("bench_stdcov: GET " PATH_JOURNEYS " with %d open offers (commit %s, run %s)\n", n, commit, tstart);
    bench_out_machine(pbf, graph_path, g, import_s);
    if (hl)
        bench_out("hub labels: built in %.2f s, %.0f MB (as covoit serve does by default)\n", hl->build_s,
                  (double)cv_hub_labels_bytes(hl) / 1048576.0);
    else
        bench_out("hub labels: none (CH searches)\n");
    FILE *ag = fopen("/proc/sys/kernel/sched_autogroup_enabled", "r");
    int autogroup = ag && fgetc(ag) == '1';
    if (ag)
        fclose(ag);
    if (autogroup)
        bench_out(
            "scheduler: autogroups on: nice ranks processes within one session only, so the niced processes of other "
            "sessions (the fuzzers) still take a fair share of the cores (column of_nice)\n");
    bench_out(
        "server: cv_server_start on 127.0.0.1, %u worker threads, access log on (to a file), operator %s; clients in "
        "the same process, HTTP/1.1 keep-alive\n",
        server_threads, OPERATOR);
    bench_out(
        "offers: %d punctual, %s to %s, 06:00-10:00 Europe/Lisbon, %d seats, 15 min margin, ends >= 2 km apart; added "
        "in %.1f s (%.0f us each; %d drawn again); %zu in the index\n",
        n, day0, day1, CV_DEFAULT_SEATS, add_s, add_s * 1e6 / n, add_failures, (size_t)st.offers);
    int nk[NKINDS] = {0};
    for (int i = 0; i < nreq; i++)
        nk[asks[i].kind]++;
    bench_out(
        "requests: %d, cycled (seed %llu): %d along an offer's route (departure at 20-40 %%, arrival at 60-80 %% of "
        "it, +-50 m, departureDate when the driver passes +-5 min), %d the same reversed, %d random trips at a random "
        "offer time; timeDelta 900-3600 s, radii 1 km (the default), no count (%d redrawn)\n",
        nreq, (unsigned long long)seed, nk[K_ALONG], nk[K_REVERSED], nk[K_RANDOM], redraws);
    bench_out("\n");
    double seq_p50 = report_sequential(&sq, asks);
    bench_out("\n");
    double best_rps = 0;
    int best_clients = 0;
    report_cells(cells, ncells, seconds, &best_rps, &best_clients);
    long total_j = 0;
    for (int i = 0; i < nreq; i++)
        total_j += sq.journeys[i];
    bench_out("\n");
    bench_out("Targets (10,000 open offers, this %ld-core machine):\n", sysconf(_SC_NPROCESSORS_ONLN));
    bench_out("  server-side median under %.0f ms     %8.2f ms (one client)       %s\n", TARGET_P50_MS, seq_p50,
              sq.nsrv && seq_p50 < TARGET_P50_MS ? "PASS" : "FAIL");
    bench_out("  at least %.0f requests/s            %8.0f req/s (%d client%s)    %s\n", TARGET_RPS, best_rps,
              best_clients, best_clients == 1 ? "" : "s", best_rps >= TARGET_RPS ? "PASS" : "FAIL");
    bench_out("  mean journeys answered per request  %8.2f (one client, all kinds)\n", (double)total_j / (double)nreq);
    if (n != 10000)
        bench_out("  (note: run with %d offers, not the 10,000 of the targets)\n", n);
    if (failed)
        bench_out("ERRORS: some requests got no answer or an answer other than 200 (see above)\n");
    if (bench_report)
        fclose(bench_report);

    if (keep_log)
        bench_say("access log kept in %s", logp);
    free(sq.rtt), free(sq.srv), free(sq.journeys), free(sq.bytes), free(asks), free(offers);
    cv_matcher_ws_free(w);
    cv_matcher_close(m);
    cv_hub_labels_free(hl);
    cv_graph_close(g); /* the temporary files go at exit (bench_tmp_remove) */
    if (failed)
        bench_say("FAILED: some requests got no answer or an answer other than 200 (see above)");
    else
        bench_say("report written to %s", outp);
    return failed ? 1 : 0;
}
