/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* bench_federation.c — what a federated search costs: POST /v1/search with "partners": true (web/federation.c),
   which asks every partner operator's GET /stdcov/v1/driver_journeys while it runs its own search, then merges.

   Two real `covoit serve` processes on 127.0.0.1, in auth mode: partner B (--operator b.example) and server A
   (--operator a.example), which has B as its one partner (covoit partner add), each with its own open offers (10,000
   by default). For every passenger query one client times, one request at a time and in a rotating order: (1) the
   partner alone, GET B/stdcov/v1/driver_journeys with the very query A's federated search sends B; (2) A's own search
   alone, POST A/v1/search; (3) the federated search, the same body with "partners": true. It prints the medians and
   p90 of the three, the servers' own times from their access logs, and whether the target holds at the median
   ("a federated search adds at most the partners' own time plus 10 %": (federated - own alone) / partner alone, per
   query, at most 1.10), with federated / max(partner alone, own alone) beside it, into bench/results/federation.txt.

   usage: bench_federation [--graph FILE | --pbf FILE] [--out FILE] [--offers N] [--queries N] [--rounds N]
                           [--threads N] [--partner-timeout MS] [--seed N] [--quiet-wait S] [--keep-logs]
                           [--covoit PATH]
   (run from the top of the repository, on a Release build; see bench/README.md) */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "bench_http.h"
#include "routing/hub_labels.h"

#ifndef BENCH_COVOIT
#define BENCH_COVOIT "build/covoit"
#endif

#define TZ_NAME "UTC" /* of the benchmark's databases and of both servers */
#define OP_A "a.example"
#define OP_B "b.example"
#define TARGET 0.10     /* the issue: at most the partners' own time plus 10 % */
#define COUNT_ASKED 100 /* what A asks B for: count = the search's limit, 100 when it gives none */
#define RADIUS_KM 1     /* A's departureRadius and arrivalRadius for partners (web/federation.c) */

static uint64_t rng = 42;
static const cv_graph *G;
static cv_day DAY0; /* tomorrow */
static const char *covoit_bin = BENCH_COVOIT;

/* ---------------------------------------------------------------- the queries */

/* One passenger query in the two forms the servers take. */
typedef struct query {
    char path[400]; /* B: GET driver_journeys, byte for byte what A's federated search asks B */
    char body[300]; /* A: the POST /v1/search body */
    char fed[320];  /* the same with "partners": true */
} query;

/* Whether the matcher can route a passenger from `from` to `to` (both snapped as it snaps them): else A answers 400
   NoRoute to its own search, which is not what is measured here. */
static int passenger_route(cv_ch_query *cq, cv_coord from, cv_coord to)
{
    cv_snap a, b;
    cv_path p = {0};
    int ok = bench_snaps(G, from, &a) && bench_snaps(G, to, &b) && cv_ch_route(cq, &a, &b, &p, NULL) == 0;
    cv_path_free(&p);
    return ok;
}

/* A query along one of the offers v[0..n) (bench_leg_along, leaving when the driver passes +-5 min), or a random
   trip at a random offer time when v is NULL; a margin of 15-60 min. 0 when it is drawn again. */
static int draw_query(cv_ch_query *cq, const cv_offer *v, int n, query *q)
{
    cv_coord from, to;
    int64_t at;
    int margin;
    if (v) {
        bench_leg l;
        if (!bench_leg_along(G, cq, &v[bench_splitmix(&rng) % (uint64_t)n], &rng, &l))
            return 0;
        from = l.from, to = l.to, at = llround(l.at[0]), margin = 15 + (int)(l.x % 46);
    } else {
        bench_random_pair(G, &rng, BENCH_MIN_TRIP_M, &from, &to);
        at = bench_offer_time(&rng, DAY0);
        margin = 15 + (int)(bench_splitmix(&rng) % 46);
    }
    /* as web_federated_search writes it (its coordinates in degrees from the fixed-point ones, which %.7f gives
       back exactly) */
    snprintf(q->path, sizeof q->path,
             "/stdcov/v1/driver_journeys?departureLat=%.7f&departureLng=%.7f&arrivalLat=%.7f&arrivalLng=%.7f&"
             "departureDate=%lld&timeDelta=%d&departureRadius=%d&arrivalRadius=%d&count=%d",
             cv_deg(from.lat), cv_deg(from.lon), cv_deg(to.lat), cv_deg(to.lon), (long long)at, margin * 60, RADIUS_KM,
             RADIUS_KM, COUNT_ASKED);
    time_t t = (time_t)at;
    struct tm tm;
    char when[40];
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int k = snprintf(q->body, sizeof q->body,
                     "{\"from\":[%.7f,%.7f],\"to\":[%.7f,%.7f],\"depart\":\"%s\",\"margin_min\":%d}", cv_deg(from.lon),
                     cv_deg(from.lat), cv_deg(to.lon), cv_deg(to.lat), when, margin);
    snprintf(q->fed, sizeof q->fed, "%.*s,\"partners\":true}", k - 1, q->body);
    return passenger_route(cq, from, to);
}

/* ---------------------------------------------------------------- covoit processes */

/* Starts covoit with args (NULL-terminated, after the program's name), its stdout into a pipe (*out: the end to read)
   and its stderr into the file err (/dev/null when NULL); the child ends with the bench. -1 when it cannot. */
static pid_t covoit_start(const char *const *args, int *out, const char *err)
{
    char *argv[32] = {(char *)covoit_bin};
    for (int i = 0; args[i] && i < 30; i++)
        argv[i + 1] = (char *)args[i];
    int p[2];
    if (pipe(p))
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int fd = open(err ? err : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
        if (fd < 0 || dup2(p[1], STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
            _exit(127);
        close(p[0]);
        execv(covoit_bin, argv);
        _exit(127);
    }
    close(p[1]);
    *out = p[0];
    if (pid < 0)
        close(p[0]);
    return pid;
}

/* covoit args to its end: 0 when it exits 0; its stdout in buf (its errors are JSON there too). */
static int covoit_run(const char *const *args, char *buf, size_t cap)
{
    int fd, status = -1;
    size_t len = 0;
    pid_t pid = covoit_start(args, &fd, NULL);
    while (pid > 0 && len + 1 < cap) {
        ssize_t k = read(fd, buf + len, cap - 1 - len);
        if (k > 0)
            len += (size_t)k;
        else if (k == 0 || errno != EINTR)
            break;
    }
    buf[len] = '\0';
    if (pid > 0) {
        close(fd);
        waitpid(pid, &status, 0);
    }
    return pid > 0 && WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

/* covoit key add: the new key's secret into secret. */
static int key_add(const char *db, const char *client_name, const char *scopes, char *secret, size_t cap)
{
    const char *args[] = {"key", "add", "--db", db, "--client", client_name, "--scopes", scopes, "--tz", TZ_NAME, NULL};
    char text[4096];
    int rc = covoit_run(args, text, sizeof text);
    json_t *doc = json_loads(text, 0, NULL);
    const char *s = json_string_value(json_object_get(doc, "secret"));
    if (!rc && s)
        snprintf(secret, cap, "%s", s);
    else
        bench_say("covoit key add --db %s --client %s failed: %s", db, client_name, text);
    json_decref(doc);
    return !rc && s ? 0 : -1;
}

/* A running `covoit serve`. */
typedef struct server {
    pid_t pid;
    int out;         /* its stdout */
    const char *log; /* its stderr: the access log */
    int log_fd;
    uint16_t port;
    double t0, ready_s;
} server;

/* Waits for the server's "covoit serving ... on http://127.0.0.1:PORT/" line (its labels built, its index of offers
   read from the database), then opens its log. */
static int server_ready(server *s)
{
    char buf[8192] = "";
    size_t len = 0;
    const char *mark = " on http://127.0.0.1:", *at;
    while (!(at = strstr(buf, mark)) || !strchr(at + strlen(mark), '/')) {
        struct pollfd pfd = {s->out, POLLIN, 0};
        ssize_t k = poll(&pfd, 1, 300000) > 0 ? read(s->out, buf + len, sizeof buf - 1 - len) : -1;
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0 || len + (size_t)k + 1 >= sizeof buf) {
            bench_say("a server did not start (its log: %s)", s->log);
            return -1;
        }
        buf[len += (size_t)k] = '\0';
    }
    s->port = (uint16_t)atoi(at + strlen(mark));
    s->ready_s = bench_now() - s->t0;
    s->log_fd = open(s->log, O_RDONLY);
    return s->port && s->log_fd >= 0 ? 0 : -1;
}

/* SIGTERM, then SIGKILL when it has not ended 20 s later. */
static void server_stop(server *s)
{
    kill(s->pid, SIGTERM);
    int ended = 0;
    for (int i = 0; i < 2000 && !(ended = waitpid(s->pid, NULL, WNOHANG) == s->pid); i++)
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    if (!ended) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    close(s->out);
    close(s->log_fd);
}

/* ---------------------------------------------------------------- the measures */

enum { M_PARTNER, M_OWN, M_FED, NM };
static const char *const measure_name[NM] = {"partner alone (B)", "own alone (A)", "federated (A+B)"};

/* The three measures of each query in one of the six orders, in turn. */
static const int orders[6][NM] = {{0, 1, 2}, {1, 2, 0}, {2, 0, 1}, {0, 2, 1}, {2, 1, 0}, {1, 0, 2}};

typedef struct sample {
    double ms[NM]; /* the client's round trips */
    double srv[4]; /* the servers' dur_ms: B (the bench's GET), B (A's GET), A (search), A (federated) */
    int items[NM]; /* B's journeys, A's matches, the federated answer's matches */
    int fed_b;     /* of which B's journeys */
    size_t bytes[NM];
    char left_out[64]; /* why A left B out of the federated answer, when it did */
} sample;

/* Reads one answer into s (outside the timed part). */
static void read_answer(int m, const char *body, sample *s)
{
    json_t *doc = json_loads(body, 0, NULL), *v = m == M_PARTNER ? doc : json_object_get(doc, "matches");
    s->items[m] = json_is_array(v) ? (int)json_array_size(v) : -1;
    if (m == M_FED) {
        for (size_t i = 0; i < json_array_size(v); i++)
            s->fed_b += json_object_get(json_array_get(v, i), "journey_id") != NULL;
        json_t *p = json_array_get(json_object_get(doc, "partners"), 0);
        const char *e = json_string_value(json_object_get(p, "error"));
        if (!json_is_true(json_object_get(p, "answered")))
            snprintf(s->left_out, sizeof s->left_out, "%s", e ? e : "no partners line");
    }
    json_decref(doc);
}

/* One pass over the queries (round r's orders) into samples[0..nq). Returns the failures. */
static long run_pass(bench_conn *ca, bench_conn *cb, const query *qs, int nq, int r, sample *samples)
{
    long failures = 0;
    for (int i = 0; i < nq; i++) {
        sample *s = &samples[i];
        memset(s, 0, sizeof *s);
        for (int j = 0; j < NM; j++) {
            int m = orders[(i + r) % 6][j], status = 0;
            const char *body = NULL;
            size_t blen = 0;
            double t0 = bench_now();
            int rc = m == M_PARTNER ? bench_http(cb, "GET", qs[i].path, NULL, &status, &body, &blen)
                                    : bench_http(ca, "POST", "/v1/search", m == M_OWN ? qs[i].body : qs[i].fed, &status,
                                                 &body, &blen);
            s->ms[m] = (bench_now() - t0) * 1e3;
            s->bytes[m] = rc ? 0 : blen;
            if (!rc && status == 200)
                read_answer(m, body, s);
            else if (failures++ < 5)
                bench_say("%s of query %d: %s %.300s", measure_name[m], i, rc ? "no answer" : "status", rc ? "" : body);
        }
    }
    return failures;
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
    fprintf(stderr, "usage: bench_federation [--graph FILE | --pbf FILE] [--out FILE] [--offers N] [--queries N] "
                    "[--rounds N] [--threads N] [--partner-timeout MS] [--seed N] [--quiet-wait S] [--keep-logs] "
                    "[--covoit PATH]\n");
}

int main(int argc, char **argv)
{
    const char *graph_path = NULL, *pbf = NULL, *outp = "bench/results/federation.txt";
    int noffers = 10000, nq = 1000, rounds = 1, threads = 0, partner_timeout = 2000, keep_logs = 0;
    const bench_opt opts[] = {{"--graph", 's', &graph_path},
                              {"--pbf", 's', &pbf},
                              {"--out", 's', &outp},
                              {"--offers", 'i', &noffers},
                              {"--queries", 'i', &nq},
                              {"--rounds", 'i', &rounds},
                              {"--threads", 'i', &threads},
                              {"--partner-timeout", 'i', &partner_timeout},
                              {"--seed", 'u', &rng},
                              {"--quiet-wait", 'd', &bench_quiet_wait_s},
                              {"--keep-logs", 'f', &keep_logs},
                              {"--covoit", 's', &covoit_bin},
                              {NULL, 0, NULL}};
    if (bench_options(argc, argv, opts) || noffers < 1 || nq < 6 || rounds < 1 || threads < 0 || threads > 1024 ||
        partner_timeout < 50 || partner_timeout > 60000 || (graph_path && pbf)) {
        usage();
        return 2;
    }
    bench_name = "bench_federation";
    if (access(covoit_bin, X_OK)) {
        bench_say("no covoit binary at %s (give --covoit PATH)", covoit_bin);
        return 1;
    }
    uint64_t seed = rng;
    char commit[64];
    bench_commit(commit);
    cv_error err = {0};
    double import_s;
    if (cv_tz_set(TZ_NAME, &err)) {
        bench_say("%s", err.text);
        return 1;
    }
    cv_graph *g = bench_graph(&graph_path, &pbf, &import_s);
    if (!g)
        return 1;
    G = g;
    int64_t now = (int64_t)time(NULL);
    cv_day today;
    cv_utc_to_local(now, &today, NULL, NULL);
    DAY0 = today + 1;

    /* ---- the two trip databases: A's offers, then B's, from one random sequence */
    cv_hub_labels *hl = NULL; /* to add the offers faster; the servers build their own */
    if (cv_hub_labels_build(g, 0, (uint64_t)1024 << 20, NULL, &hl, &err))
        hl = NULL;
    cv_offer *offers[2];
    const char *db[2], *logs[2];
    for (int k = 0; k < 2; k++) {
        db[k] = bench_tmp(k ? "_b.db" : "_a.db", 1, 0);
        logs[k] = bench_tmp(k ? "_b.log" : "_a.log", 0, keep_logs);
        cv_matcher_options mo = cv_matcher_defaults();
        mo.labels = hl;
        cv_matcher *m;
        cv_matcher_ws *w;
        if (cv_matcher_open(g, db[k], &mo, now, &m, &err) || !(w = cv_matcher_ws_new(m, &err))) {
            bench_say("%s", err.text);
            return 1;
        }
        offers[k] = calloc((size_t)noffers, sizeof *offers[k]);
        bench_say("adding %d offers to %s's database", noffers, k ? "B" : "A");
        bench_add_offers(w, g, &rng, DAY0, now, noffers, offers[k]);
        cv_matcher_ws_free(w);
        cv_matcher_close(m);
    }
    cv_hub_labels_free(hl);

    /* ---- the queries: half along one of B's offers, a quarter along one of A's, a quarter random */
    query *qs = calloc((size_t)nq, sizeof *qs);
    cv_ch_query *cq = cv_ch_query_new(g);
    for (int i = 0; i < nq;)
        i += draw_query(cq, i % 4 == 3 ? NULL : offers[i % 4 != 1], noffers, &qs[i]);
    cv_ch_query_free(cq);

    /* ---- keys: the bench's on A (search) and on B (interop), A's on B (interop, A's client name) */
    char key_a[128], key_b[128], a_on_b[128];
    if (key_add(db[0], "bench", "search", key_a, sizeof key_a) ||
        key_add(db[1], "bench", "interop", key_b, sizeof key_b) ||
        key_add(db[1], OP_A, "interop", a_on_b, sizeof a_on_b))
        return 1;

    /* ---- the two servers, started together (each builds its labels and reads its offers); --rate: both see the
       bench, and B sees A, from 127.0.0.1, and the default 100 requests/s per address would refuse them */
    char threads_s[16], timeout_s[16];
    snprintf(threads_s, sizeof threads_s, "%d", threads);
    snprintf(timeout_s, sizeof timeout_s, "%d", partner_timeout);
    server sv[2]; /* A, B */
    for (int k = 1; k >= 0; k--) {
        const char *args[] = {
            "serve",   "--graph",   graph_path, "--listen", "127.0.0.1:0", "--tz",          TZ_NAME,
            "--rate",  "1000000",   "--db",     db[k],      "--operator",  k ? OP_B : OP_A, "--partner-timeout",
            timeout_s, "--threads", threads_s,  NULL};
        if (!threads) /* the default: one worker per core */
            args[15] = NULL;
        sv[k] = (server){.log = logs[k], .log_fd = -1, .t0 = bench_now()};
        if ((sv[k].pid = covoit_start(args, &sv[k].out, logs[k])) < 0)
            return 1;
        bench_ours[1 + k] = sv[k].pid;
    }
    if (server_ready(&sv[1]) || server_ready(&sv[0]))
        return 1;
    char url[128], text[4096];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/stdcov/v1", (unsigned)sv[1].port);
    const char *padd[] = {"partner", "add", OP_B, "--db", db[0], "--url", url, "--key", a_on_b, "--tz", TZ_NAME, NULL};
    if (covoit_run(padd, text, sizeof text)) {
        bench_say("covoit partner add failed: %s", text);
        return 1;
    }

    /* ---- one client, one request at a time: a warm-up pass, then the timed rounds */
    bench_ours[0] = getpid();
    bench_conn ca = {.port = sv[0].port, .key = key_a, .fd = -1}, cb = {.port = sv[1].port, .key = key_b, .fd = -1};
    size_t ns = (size_t)nq * (size_t)rounds;
    sample *sm = calloc(ns, sizeof *sm);
    bench_say("warm-up pass: %d queries, 3 requests each", nq);
    long warm_failures = run_pass(&ca, &cb, qs, nq, 0, sm), failures = 0;
    double quiet_before = bench_wait_quiet();
    { /* the kept connections again (the servers close them after 30 s idle), so that no timed request opens one */
        int st;
        const char *b;
        size_t bl;
        bench_http(&ca, "GET", "/health", NULL, &st, &b, &bl);
        bench_http(&cb, "GET", "/health", NULL, &st, &b, &bl);
        ca.reconnects = cb.reconnects = 0;
    }
    off_t la0 = bench_log_settled(sv[0].log_fd), lb0 = bench_log_settled(sv[1].log_fd);
    bench_cpu_mark c0 = bench_cpu_take();
    double t_pass = bench_now();
    for (int r = 0; r < rounds; r++) {
        bench_say("timed round %d of %d: %d queries", r + 1, rounds, nq);
        failures += run_pass(&ca, &cb, qs, nq, r, sm + (size_t)r * (size_t)nq);
    }
    t_pass = bench_now() - t_pass;
    bench_cpu_mark c1 = bench_cpu_take();
    bench_cpu_use cpu = bench_cpu_between(&c0, &c1);

    /* ---- the servers' own times: their requests in the order they came, which is the order the bench asked them */
    size_t na, nb, other_a, other_b;
    bench_logged *la =
        bench_read_log(sv[0].log_fd, la0, bench_log_settled(sv[0].log_fd), "POST", "/v1/search", &na, &other_a);
    bench_logged *lb = bench_read_log(sv[1].log_fd, lb0, bench_log_settled(sv[1].log_fd), "GET",
                                      "/stdcov/v1/driver_journeys", &nb, &other_b);
    int paired = la && lb && na == 2 * ns && nb == 2 * ns && !failures;
    for (size_t i = 0, ia = 0, ib = 0; paired && i < ns; i++)
        for (int j = 0; j < NM; j++) {
            int m = orders[(i % (size_t)nq + i / (size_t)nq) % 6][j];
            if (m != M_OWN)
                sm[i].srv[m == M_PARTNER ? 0 : 1] = lb[ib++].ms;
            if (m != M_PARTNER)
                sm[i].srv[m == M_OWN ? 2 : 3] = la[ia++].ms;
        }
    if (!paired)
        bench_say("the logs hold %zu searches on A and %zu journeys on B (%zu and %zu other lines) for %zu of each "
                  "expected: no server-side times per request",
                  na, nb, other_a, other_b, 2 * ns);
    bench_conn_close(&ca), bench_conn_close(&cb);
    server_stop(&sv[0]);
    server_stop(&sv[1]);

    /* ---- the report */
    if (!(bench_report = fopen(outp, "w")))
        bench_say("cannot write %s (the report is on stdout only)", outp);
    char day0[16], day1[16], tstart[40];
    cv_format_date(DAY0, day0);
    cv_format_date(DAY0 + BENCH_DAYS - 1, day1);
    cv_format_datetime(now, tstart);
    bench_out("bench_federation: POST /v1/search with \"partners\": true, one partner, %d open offers on each server "
              "(commit %s, run %s)\n",
              noffers, commit, tstart);
    bench_out_machine(pbf, graph_path, g, import_s);
    bench_out(
        "servers: two `covoit serve` on 127.0.0.1 (%s), %s worker threads, hub labels, auth mode, --rate 1000000, "
        "--tz %s, access log on; B --operator %s; A --operator %s with B its one partner, --partner-timeout %d; "
        "ready in %.1f s (B) and %.1f s (A)\n",
        covoit_bin, threads ? threads_s : "default", TZ_NAME, OP_B, OP_A, partner_timeout, sv[1].ready_s,
        sv[0].ready_s);
    bench_out("offers: %d punctual in each database, %s to %s, 06:00-10:00 %s (bench_add_offers); queries: %d (seed "
              "%llu), half along one of B's offers, a quarter along one of A's, a quarter random trips, margin 15-60 "
              "min\n",
              noffers, day0, day1, TZ_NAME, nq, (unsigned long long)seed);
    bench_out("measures: (1) partner alone: GET B/stdcov/v1/driver_journeys as A's federated search asks it "
              "(count=%d, radii %d km); (2) own alone: POST A/v1/search; (3) federated: the same with \"partners\": "
              "true. One client, keep-alive, one request at a time, the three of a query in a rotating order, after a "
              "warm-up pass; %d timed round%s of %d queries, %.1f s\n",
              COUNT_ASKED, RADIUS_KM, rounds, rounds == 1 ? "" : "s", nq, t_pass);
    bench_out(
        "CPU during the timed rounds, in cores: A %.2f, B %.2f, the bench %.2f; other processes %.2f at nice <= 0 "
        "(%.2f just before) and %.2f at a positive nice\n\n",
        cpu.ours[1], cpu.ours[2], cpu.ours[0], cpu.others, quiet_before, cpu.niced);

    double *v[NM + 4], items[NM] = {0}, fed_b = 0, bytes[NM] = {0};
    long left_out = 0;
    const char *why = NULL;
    for (int k = 0; k < NM + 4; k++)
        v[k] = malloc(ns * sizeof *v[k]);
    double *mx = v[NM], *ratio = v[NM + 1], *added = v[NM + 2], *over = v[NM + 3];
    for (size_t i = 0; i < ns; i++) {
        for (int m = 0; m < NM; m++)
            v[m][i] = sm[i].ms[m], items[m] += sm[i].items[m], bytes[m] += (double)sm[i].bytes[m];
        fed_b += sm[i].fed_b;
        mx[i] = fmax(sm[i].ms[M_PARTNER], sm[i].ms[M_OWN]);
        ratio[i] = sm[i].ms[M_FED] / mx[i];
        added[i] = sm[i].ms[M_FED] - sm[i].ms[M_PARTNER];
        over[i] = (sm[i].ms[M_FED] - sm[i].ms[M_OWN]) / sm[i].ms[M_PARTNER];
        if (sm[i].left_out[0] && !left_out++)
            why = sm[i].left_out;
    }
    bench_out("Client round trips, ms:  %8s %8s %8s   answers (mean)\n", "p50", "p90", "mean");
    static const char *const what[NM] = {"journeys", "matches", "matches"};
    for (int m = 0; m < NM; m++) {
        bench_stat s = bench_stats(v[m], ns);
        bench_out("%-24s %8.2f %8.2f %8.2f   %.1f %s", measure_name[m], s.p50, s.p90, s.mean, items[m] / (double)ns,
                  what[m]);
        if (m == M_FED)
            bench_out(" (%.1f of them B's)", fed_b / (double)ns);
        bench_out(", %.0f bytes\n", bytes[m] / (double)ns);
    }
    bench_stat smx = bench_stats(mx, ns), sr = bench_stats(ratio, ns), sa = bench_stats(added, ns),
               sp = bench_stats(v[M_PARTNER], ns), sf = bench_stats(v[M_FED], ns);
    bench_out("%-24s %8.2f %8.2f %8.2f\n", "max(partner, own)", smx.p50, smx.p90, smx.mean);
    bench_out("per query: federated / max(partner alone, own alone)   p50 %.3f   p90 %.3f\n", sr.p50, sr.p90);
    bench_out("           federated - partner alone                   p50 %+.2f ms   p90 %+.2f ms\n", sa.p50, sa.p90);
    if (left_out)
        bench_out("A left B out of %ld federated answers (the first: \"%s\")\n", left_out, why);

    if (paired) {
        bench_out("\nServer side, the access logs' dur_ms, ms:  %8s %8s\n", "p50", "p90");
        static const char *const srv_name[5] = {"B, the bench's GET (partner alone)", "B, A's GET (federated)",
                                                "A, own search", "A, federated search",
                                                "A federated - max(B for A, A own)"};
        for (int x = 0; x < 5; x++) {
            for (size_t i = 0; i < ns; i++)
                v[0][i] = x < 4 ? sm[i].srv[x] : sm[i].srv[3] - fmax(sm[i].srv[1], sm[i].srv[2]);
            bench_stat s = bench_stats(v[0], ns);
            bench_out("%-43s %8.2f %8.2f\n", srv_name[x], s.p50, s.p90);
        }
    }

    bench_stat so = bench_stats(over, ns);
    bench_out("\nTarget (the issue): \"a federated search adds at most the partners' own time plus 10 %%\": what the "
              "federated search adds to our own search, per query, at the median:\n");
    bench_out("  (federated - own alone) / partner alone <= 1.10     %.3f   %s   (p90 %.3f)\n", so.p50,
              so.p50 <= 1 + TARGET ? "PASS" : "FAIL", so.p90);
    bench_out("Shown too, not the issue's target: federated / max(partner alone, own alone) %.3f (the search and the "
              "partner's call overlap; the merge, the partner's answer read and the larger answer written are what "
              "remains), federated / partner alone %.3f\n",
              sr.p50, sf.p50 / sp.p50);
    if (noffers != 10000)
        bench_out("  (note: run with %d offers on each server, not 10,000)\n", noffers);
    if (failures || warm_failures)
        bench_out("ERRORS: %ld requests got no answer or an answer other than 200 (%ld more in the warm-up pass)\n",
                  failures, warm_failures);
    if (ca.reconnects || cb.reconnects)
        bench_out("(the client reconnected %ld times to A and %ld times to B)\n", ca.reconnects, cb.reconnects);
    if (bench_report)
        fclose(bench_report);

    if (keep_logs)
        bench_say("access logs kept: %s (A), %s (B)", logs[0], logs[1]);
    for (int k = 0; k < NM + 4; k++)
        free(v[k]);
    free(ca.buf), free(cb.buf), free(la), free(lb), free(sm), free(qs), free(offers[0]), free(offers[1]);
    cv_graph_close(g);
    failures += warm_failures;
    if (failures)
        bench_say("FAILED: %ld requests got no answer or an answer other than 200", failures);
    else
        bench_say("report written to %s", outp);
    return failures ? 1 : 0;
}
