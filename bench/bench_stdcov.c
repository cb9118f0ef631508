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
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "routing/ch.h"
#include "routing/graph_build.h"
#include "routing/hub_labels.h"
#include "routing/route.h"
#include "routing/snap.h"
#include "matcher/matcher.h"
#include "matcher/timeutil.h"
#include "osm/osm_network.h"
#include "osm/profile.h"
#include "web/server.h"

#define OPERATOR "carpool.example.org"
#define PUBLIC_URL "https://carpool.example.org/"
#define PATH_JOURNEYS "/stdcov/v1/driver_journeys"
#define MIN_TRIP_M 2000.0       /* offers' and random trips' ends at least this far apart */
#define WINDOW_START (6 * 3600) /* offers leave uniformly over 06:00-10:00 local time, on each of DAYS days */
#define WINDOW_LEN (4 * 3600)
#define DAYS 2
#define TARGET_P50_MS 5.0
#define TARGET_RPS 500.0
#define MAX_CELLS 8

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

/* Progress and errors: the original stderr, since fd 2 becomes the server's access log. */
static FILE *progress;

static void say(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(progress, "bench_stdcov: ");
    vfprintf(progress, fmt, ap);
    fprintf(progress, "\n");
    fflush(progress);
    va_end(ap);
}

/* The report: on stdout and into the results file. */
static FILE *report_file;

static void out(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
static void out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (report_file) {
        va_start(ap, fmt);
        vfprintf(report_file, fmt, ap);
        va_end(ap);
    }
}

/* ---------------------------------------------------------------- trips (as bench_matcher.c draws them) */

static const cv_graph *G;
static int64_t NOW;
static cv_day DAY0; /* tomorrow, local: offers leave on DAY0 .. DAY0 + DAYS - 1 */

/* A departure uniform over 06:00-10:00 local time on one of the DAYS days from tomorrow. */
static int64_t random_time(void)
{
    cv_day d = DAY0 + (cv_day)(next_rand() % DAYS);
    return cv_local_to_utc(d, WINDOW_START + (int32_t)(next_rand() % WINDOW_LEN));
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

/* ---------------------------------------------------------------- the requests */

enum { K_ALONG, K_REVERSED, K_RANDOM, NKINDS };
static const char *const kind_name[NKINDS] = {"along", "reversed", "random"};

typedef struct ask {
    int kind;
    char path[320];
} ask;

/* A journey question near offer o's route: departure near 20-40 % of the way and arrival near 60-80 %, each moved
   by up to 50 m (reversed: the same two points the other way round), departureDate when the driver passes the
   departure point (its share of the direct duration after the driver leaves) +-5 min, timeDelta 900-3600 s.
   0 when the route cannot be drawn or a point does not snap as the matcher snaps (a motorway with no other road
   within 300 m): drawn again, as bench_matcher.c does. */
static int ask_along(cv_ch_query *q, const cv_offer *o, int reversed, ask *a)
{
    cv_snap sa, sb;
    if (!bench_snaps(G, o->from, &sa) || !bench_snaps(G, o->to, &sb))
        return 0;
    cv_path p = {0};
    cv_coord *pts = NULL;
    size_t n = 0;
    int ok = cv_ch_route(q, &sa, &sb, &p, NULL) == 0 && cv_path_geometry(G, &p, &pts, &n) == 0 && n >= 2;
    if (ok) {
        double f1 = frand(0.2, 0.4), f2 = frand(0.6, 0.8);
        cv_coord from = bench_jitter(bench_along(pts, n, f1), 50, &rng),
                 to = bench_jitter(bench_along(pts, n, f2), 50, &rng);
        if (reversed) {
            cv_coord t = from;
            from = to, to = t;
        }
        double at = (double)o->when.depart + (reversed ? f2 : f1) * (double)o->direct_duration_ds / 10.0;
        long long date = llround(at + frand(-300, 300));
        int delta = 900 + (int)(next_rand() % 2701);
        a->kind = reversed ? K_REVERSED : K_ALONG;
        snprintf(a->path, sizeof a->path,
                 PATH_JOURNEYS "?departureLat=%.7f&departureLng=%.7f&arrivalLat=%.7f&arrivalLng=%.7f"
                               "&departureDate=%lld&timeDelta=%d",
                 cv_deg(from.lat), cv_deg(from.lon), cv_deg(to.lat), cv_deg(to.lon), date, delta);
        ok = bench_snaps(G, from, NULL) && bench_snaps(G, to, NULL) && (from.lon != to.lon || from.lat != to.lat);
    }
    free(pts);
    cv_path_free(&p);
    return ok;
}

/* A random trip, drawn as the offers are, at a random time of theirs. */
static void ask_random(ask *a)
{
    cv_coord from, to;
    bench_random_pair(G, &rng, MIN_TRIP_M, &from, &to);
    int delta = 900 + (int)(next_rand() % 2701);
    a->kind = K_RANDOM;
    snprintf(a->path, sizeof a->path,
             PATH_JOURNEYS "?departureLat=%.7f&departureLng=%.7f&arrivalLat=%.7f&arrivalLng=%.7f"
                           "&departureDate=%lld&timeDelta=%d",
             cv_deg(from.lat), cv_deg(from.lon), cv_deg(to.lat), cv_deg(to.lon), (long long)random_time(), delta);
}

/* ---------------------------------------------------------------- a keep-alive HTTP/1.1 client */

typedef struct conn {
    int fd;
    uint16_t port;
    char *buf;
    size_t cap;
    long reconnects;
} conn;

static void conn_close(conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static int conn_connect(conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        return -1;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(c->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa)) {
        conn_close(c);
        return -1;
    }
    return 0;
}

/* The value of header name (lower case, with its colon) in the head h[0..n), or NULL. */
static const char *header(const char *h, size_t n, const char *name)
{
    size_t k = strlen(name);
    for (const char *l = h; l && l + k < h + n;) {
        if (!strncasecmp(l, name, k)) {
            l += k;
            while (*l == ' ')
                l++;
            return l;
        }
        l = strstr(l, "\r\n");
        l = l ? l + 2 : NULL;
    }
    return NULL;
}

/* GET path on c's connection (opened when needed, kept open after the answer unless the server closes it): 0 with
   the status and the body (NUL-terminated, valid until the next call), or -1 on a socket error or an answer that is
   not understood. */
static int conn_get_once(conn *c, const char *path, int *status, const char **body, size_t *blen)
{
    if (c->fd < 0 && conn_connect(c))
        return -1;
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    if (n <= 0 || (size_t)n >= sizeof req)
        return -1;
    for (int sent = 0; sent < n;) {
        ssize_t k = send(c->fd, req + sent, (size_t)(n - sent), MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            conn_close(c);
            return -1;
        }
        sent += (int)k;
    }
    size_t len = 0, head = 0, need = 0;
    int closing = 0;
    for (;;) {
        if (len + 1 >= c->cap) {
            size_t cap = c->cap ? 2 * c->cap : 65536;
            char *b = realloc(c->buf, cap);
            if (!b) {
                conn_close(c);
                return -1;
            }
            c->buf = b, c->cap = cap;
        }
        ssize_t k = recv(c->fd, c->buf + len, c->cap - 1 - len, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            conn_close(c);
            return -1;
        }
        size_t from = len > 3 ? len - 3 : 0;
        len += (size_t)k;
        c->buf[len] = '\0';
        if (!head) {
            const char *e = strstr(c->buf + from, "\r\n\r\n");
            if (!e)
                continue;
            head = (size_t)(e - c->buf) + 4;
            const char *cl = header(c->buf, head, "content-length:");
            const char *cn = header(c->buf, head, "connection:");
            if (sscanf(c->buf, "HTTP/1.%*d %d", status) != 1 || !cl) {
                conn_close(c);
                return -1;
            }
            closing = cn && !strncasecmp(cn, "close", 5);
            need = head + strtoull(cl, NULL, 10);
        }
        if (len >= need)
            break;
    }
    if (len != need) { /* bytes after the answer: nothing else was asked */
        conn_close(c);
        return -1;
    }
    *body = c->buf + head;
    *blen = need - head;
    if (closing)
        conn_close(c);
    return 0;
}

/* As conn_get_once, asked again once on a new connection when the kept one failed (the server may have closed it
   while it was idle). */
static int conn_get(conn *c, const char *path, int *status, const char **body, size_t *blen)
{
    int had = c->fd >= 0;
    if (!conn_get_once(c, path, status, body, blen))
        return 0;
    if (!had)
        return -1;
    c->reconnects++;
    return conn_get_once(c, path, status, body, blen);
}

/* Journeys in an answer: one passengerPickupDate each. */
static int count_journeys(const char *body)
{
    int n = 0;
    for (const char *p = body; (p = strstr(p, "\"passengerPickupDate\"")); p++)
        n++;
    return n;
}

/* ---------------------------------------------------------------- the access log */

static int log_fd = -1;

static off_t log_size(void)
{
    struct stat st;
    return fstat(log_fd, &st) ? -1 : st.st_size;
}

typedef struct logged {
    uint64_t id;
    double ms;
} logged;

static int cmp_logged(const void *a, const void *b)
{
    uint64_t x = ((const logged *)a)->id, y = ((const logged *)b)->id;
    return (x > y) - (x < y);
}

/* The 200 answers of driver_journeys the server logged between offsets a and b of the log, in the order of their
   ids (the order they came in); *other counts the other lines of requests (another path or status). */
static logged *read_log(off_t a, off_t b, size_t *n, size_t *other)
{
    *n = 0, *other = 0;
    if (b <= a)
        return NULL;
    size_t len = (size_t)(b - a);
    char *text = malloc(len + 1);
    size_t got = 0;
    while (got < len) {
        ssize_t k = pread(log_fd, text + got, len - got, a + (off_t)got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    text[got] = '\0';
    logged *v = malloc((got / 40 + 1) * sizeof *v);
    for (char *line = text; line && *line;) {
        char *end = strchr(line, '\n');
        if (end)
            *end = '\0';
        const char *p = strstr(line, " path="), *st = strstr(line, " status="), *d = strstr(line, " dur_ms="),
                   *id = strstr(line, " id=");
        if (p && st && d && id) {
            if (!strncmp(p + 6, PATH_JOURNEYS " ", strlen(PATH_JOURNEYS) + 1) && atoi(st + 8) == 200) {
                v[*n].ms = strtod(d + 8, NULL);
                v[*n].id = strtoull(id + 4, NULL, 10);
                (*n)++;
            } else {
                (*other)++;
            }
        }
        line = end ? end + 1 : NULL;
    }
    free(text);
    qsort(v, *n, sizeof *v, cmp_logged);
    return v;
}

/* The log's lines up to now: the server writes a request's line when it queues the answer, so a client may read
   the answer a moment before the line is written. */
static off_t log_settled(void)
{
    off_t s = log_size();
    for (int i = 0; i < 100; i++) {
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
        off_t t = log_size();
        if (t == s)
            break;
        s = t;
    }
    return s;
}

/* ---------------------------------------------------------------- CPU of the machine */

/* The machine's busy time from /proc/stat, and that of the processes at a positive nice (the fuzzers at nice 19)
   from /proc/PID/stat: /proc/stat counts their system time as anyone's, not as "nice". */
typedef struct proc_ticks {
    long pid;
    unsigned long long ticks; /* user + system */
} proc_ticks;

typedef struct cpu_mark {
    double busy_s, self_s, t;
    proc_ticks *niced; /* sorted by pid */
    size_t nniced;
} cpu_mark;

static int cmp_pid(const void *a, const void *b)
{
    long x = ((const proc_ticks *)a)->pid, y = ((const proc_ticks *)b)->pid;
    return (x > y) - (x < y);
}

static void niced_procs(cpu_mark *m)
{
    size_t cap = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0)
            continue;
        char p[64], line[1024];
        snprintf(p, sizeof p, "/proc/%ld/stat", pid);
        FILE *f = fopen(p, "r");
        if (!f)
            continue;
        size_t n = fread(line, 1, sizeof line - 1, f);
        fclose(f);
        line[n] = '\0';
        const char *r = strrchr(line, ')'); /* after the command name, which may hold spaces */
        unsigned long long ut, st;
        long long nice;
        /* state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
           priority nice */
        if (!r ||
            sscanf(r + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %lld", &ut, &st, &nice) !=
                3 ||
            nice <= 0)
            continue;
        if (m->nniced == cap) {
            cap = cap ? 2 * cap : 64;
            proc_ticks *v = realloc(m->niced, cap * sizeof *v);
            if (!v)
                break;
            m->niced = v;
        }
        m->niced[m->nniced++] = (proc_ticks){pid, ut + st};
    }
    if (d)
        closedir(d);
    if (m->nniced)
        qsort(m->niced, m->nniced, sizeof *m->niced, cmp_pid);
}

static cpu_mark cpu_now(void)
{
    cpu_mark m = {0, 0, now_s(), NULL, 0};
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[8] = {0};
    if (f) {
        if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
                   &v[7]) != 8)
            memset(v, 0, sizeof v);
        fclose(f);
    }
    m.busy_s = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK); /* not idle, iowait */
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    m.self_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
               (double)ru.ru_stime.tv_usec * 1e-6;
    niced_procs(&m);
    return m;
}

/* CPU used from a to b, in cores: by this process, by every other one, and by those at a positive nice (a process
   that ended in between is not counted there). Frees both marks. */
typedef struct cpu_use {
    double self, others, niced;
} cpu_use;

static cpu_use cpu_between(cpu_mark *a, cpu_mark *b)
{
    unsigned long long t = 0;
    for (size_t i = 0; i < b->nniced; i++) {
        const proc_ticks *p = a->nniced ? bsearch(&b->niced[i], a->niced, a->nniced, sizeof *a->niced, cmp_pid) : NULL;
        unsigned long long t0 = p ? p->ticks : 0; /* a process started in between: all its time */
        if (b->niced[i].ticks >= t0)
            t += b->niced[i].ticks - t0;
    }
    double dt = b->t - a->t > 0 ? b->t - a->t : 1;
    cpu_use u;
    u.self = (b->self_s - a->self_s) / dt;
    u.others = ((b->busy_s - a->busy_s) - (b->self_s - a->self_s)) / dt;
    if (u.others < 0)
        u.others = 0;
    u.niced = (double)t / (double)sysconf(_SC_CLK_TCK) / dt;
    free(a->niced), free(b->niced);
    a->niced = b->niced = NULL;
    return u;
}

static double quiet_wait_s = 30;

/* Waits, up to quiet_wait_s, until the other processes at nice 0 or below (builds, tests, other benchmarks; not
   the fuzzers at nice 19, which give way) use under a tenth of a core over one second. Returns what they used in
   the last second sampled. */
static double wait_quiet(void)
{
    double t_end = now_s() + quiet_wait_s, busy = 0;
    int said = 0;
    do {
        cpu_mark a = cpu_now();
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
        cpu_mark b = cpu_now();
        cpu_use u = cpu_between(&a, &b);
        busy = u.others - u.niced;
        if (busy < 0.1)
            break;
        if (!said++)
            say("waiting (up to %.0f s) for other processes to use under 0.1 core: %.2f now", quiet_wait_s, busy);
    } while (now_s() < t_end);
    return busy;
}

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
    conn c = {-1, w->port, NULL, 0, 0};
    conn_connect(&c);
    pthread_barrier_wait(w->go);
    size_t i = w->start;
    while (now_s() < w->t_end) {
        const ask *a = &w->asks[i];
        i = (i + 1) % w->nasks;
        int status = 0;
        const char *body;
        size_t blen;
        double t0 = now_s();
        int rc = conn_get(&c, a->path, &status, &body, &blen);
        double t1 = now_s();
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
    conn_close(&c);
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
    out_cell->before_cores = wait_quiet();
    off_t a = log_settled();
    for (int k = 0; k < clients; k++)
        pthread_create(&th[k], NULL, worker_run, &ws[k]);
    /* the deadline is written before the barrier releases the threads, which read it only after it */
    double t0 = now_s() + 0.001;
    for (int k = 0; k < clients; k++)
        ws[k].t_start = t0, ws[k].t_end = t0 + seconds;
    cpu_mark c0 = cpu_now();
    pthread_barrier_wait(&go);
    t0 = now_s();
    double last = t0;
    for (int k = 0; k < clients; k++) {
        pthread_join(th[k], NULL);
        if (ws[k].last_s > last)
            last = ws[k].last_s;
    }
    cpu_mark c1 = cpu_now();
    off_t b = log_settled();
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
    logged *lv = read_log(a, b, &nl, &r->other_lines);
    double *ms = malloc((nl + 1) * sizeof *ms);
    for (size_t i = 0; i < nl; i++)
        ms[i] = lv[i].ms;
    r->logged = nl;
    r->srv_p50 = bench_percentile(ms, nl, 0.5);
    r->srv_p90 = bench_percentile(ms, nl, 0.9);
    r->srv_p99 = bench_percentile(ms, nl, 0.99);
    r->srv_mean = bench_mean(ms, nl);
    cpu_use u = cpu_between(&c0, &c1);
    r->self_cores = u.self, r->others_cores = u.others, r->nice_cores = u.niced;
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
static void run_sequential(conn *c, const ask *asks, int timed, seq *s)
{
    if (timed)
        s->before_cores = wait_quiet();
    off_t a = log_settled();
    cpu_mark c0 = cpu_now();
    for (size_t i = 0; i < s->n; i++) {
        int status = 0;
        const char *body = "";
        size_t blen = 0;
        double t0 = now_s();
        int rc = conn_get(c, asks[i].path, &status, &body, &blen);
        s->rtt[i] = (now_s() - t0) * 1e3;
        s->journeys[i] = 0, s->bytes[i] = 0;
        if (rc) {
            if (s->errors++ < 5)
                say("GET %s: no answer", asks[i].path);
            continue;
        }
        if (status != 200 || body[0] != '[') {
            if (s->non200++ < 5)
                say("GET %s: %d %.300s", asks[i].path, status, body);
            continue;
        }
        s->journeys[i] = count_journeys(body);
        s->bytes[i] = blen;
    }
    cpu_mark c1 = cpu_now();
    if (!timed) {
        cpu_between(&c0, &c1); /* frees them */
        return;
    }
    off_t b = log_settled();
    size_t nl;
    logged *lv = read_log(a, b, &nl, &s->other_lines);
    s->srv = malloc((nl + 1) * sizeof *s->srv);
    for (size_t i = 0; i < nl; i++)
        s->srv[i] = lv[i].ms;
    s->nsrv = nl;
    s->paired = nl == s->n && !s->other_lines;
    if (!s->paired)
        say("the timed pass logged %zu answers 200 and %zu other lines for %zu requests: server-side times are given "
            "for all of them together only",
            nl, s->other_lines, s->n);
    free(lv);
    cpu_use u = cpu_between(&c0, &c1);
    s->self_cores = u.self, s->others_cores = u.others, s->nice_cores = u.niced;
}

/* The table of the timed pass, per kind of request and for all; returns the server-side median. */
static double report_sequential(const seq *s, const ask *asks)
{
    out("One client, one request at a time (after a warm-up pass over the same requests); times in ms:\n");
    out("%-9s %6s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n", "kind", "n", "any_%", "journeys", "bytes", "srv_p50",
        "srv_p90", "srv_p99", "srv_max", "srv_mean", "rtt_p50", "rtt_p90", "rtt_p99");
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
        out("%-9s %6zu %8.1f %8.2f %8.0f ", kind == NKINDS ? "all" : kind_name[kind], k,
            100.0 * (double)any / (double)k, sj / (double)k, sb / (double)k);
        if (km)
            out("%8.2f %8.2f %8.2f %8.2f %8.2f ", bench_percentile(kms, km, 0.5), bench_percentile(kms, km, 0.9),
                bench_percentile(kms, km, 0.99), bench_percentile(kms, km, 1.0), bench_mean(kms, km));
        else
            out("%8s %8s %8s %8s %8s ", "-", "-", "-", "-", "-");
        out("%8.2f %8.2f %8.2f\n", bench_percentile(krtt, k, 0.5), bench_percentile(krtt, k, 0.9),
            bench_percentile(krtt, k, 0.99));
    }
    free(kms), free(krtt);
    out("(any_%%: requests that got at least one journey; journeys: mean per request; bytes: mean answer body; srv: "
        "the server's dur_ms, from the request's headers to its answer queued; rtt: the client's round trip on its "
        "keep-alive connection)\n");
    out("CPU during the timed pass, in cores: this process %.2f, other processes %.2f (%.2f of it at a positive nice), "
        "other processes at nice <= 0 just before: %.2f%s\n",
        s->self_cores, s->others_cores, s->nice_cores, s->before_cores,
        s->before_cores >= 0.1 ? " (contended: the figures may be high)" : "");
    if (s->non200 || s->errors)
        out("ERRORS: %ld answers not 200 with a JSON array, %ld requests with no answer (both passes)\n", s->non200,
            s->errors);
    return bench_percentile(s->srv, s->nsrv, 0.5);
}

/* The table of the throughput cells; the best requests/s and its number of clients. */
static void report_cells(const cell *cells, int ncells, double seconds, double *best_rps, int *best_clients)
{
    out("Throughput: N client threads, each on its own keep-alive connection, cycling through the requests for %.0f s "
        "(each thread from its own place in the list); times in ms:\n",
        seconds);
    out("%7s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n", "clients", "requests", "req/s", "journeys", "srv_p50",
        "srv_p90", "srv_p99", "rtt_p50", "rtt_p90", "rtt_p99", "cpu_self", "cpu_other", "of_nice");
    for (int k = 0; k < ncells; k++) {
        const cell *r = &cells[k];
        out("%7d %8zu %8.0f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f%s\n", r->clients, r->done,
            r->rps, r->journeys_mean, r->srv_p50, r->srv_p90, r->srv_p99, r->rtt_p50, r->rtt_p90, r->rtt_p99,
            r->self_cores, r->others_cores, r->nice_cores, r->before_cores >= 0.1 ? " *" : "");
        if (r->failed || r->non200 || r->logged != r->done || r->other_lines)
            out("        %d clients: %zu requests with no answer, %zu not 200, %zu answers 200 logged for %zu "
                "done, %zu other lines, %ld reconnections\n",
                r->clients, r->failed, r->non200, r->logged, r->done, r->other_lines, r->reconnects);
        if (r->rps > *best_rps)
            *best_rps = r->rps, *best_clients = r->clients;
    }
    out("(journeys: mean per request; srv: the server's dur_ms of the cell's requests; cpu_self: cores used by this "
        "process, server and clients; cpu_other: by every other process; of_nice: the part of cpu_other used by "
        "processes at a positive nice, such as the fuzzers at nice 19; *: the processes at nice <= 0 took 0.1 core or "
        "more just before)\n");
}

/* ---------------------------------------------------------------- main */

static void remove_db(const char *db)
{
    char p[512];
    remove(db);
    snprintf(p, sizeof p, "%s-wal", db);
    remove(p);
    snprintf(p, sizeof p, "%s-shm", db);
    remove(p);
}

/* The temporary files, removed at exit however the run ends (the log only without --keep-log). */
static char tmp_graph[256], tmp_db[256], tmp_log[256];
static pid_t main_pid;

static void remove_tmp(void)
{
    if (getpid() != main_pid)
        return;
    if (tmp_graph[0])
        remove(tmp_graph);
    if (tmp_db[0])
        remove_db(tmp_db);
    if (tmp_log[0])
        remove(tmp_log);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_stdcov [--graph FILE | --pbf FILE] [--out FILE] [--offers N] [--requests N] "
                    "[--seconds S] [--clients 2,4] [--threads N] [--seed N] [--no-labels] [--keep-log] "
                    "[--quiet-wait S]\n");
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int main(int argc, char **argv)
{
    const char *graph_path = NULL, *pbf = NULL, *outp = "bench/results/stdcov.txt", *clients_arg = "2,4";
    int noffers = 10000, nreq = 2000, use_labels = 1, keep_log = 0;
    main_pid = getpid();
    atexit(remove_tmp);
    unsigned threads = 0;
    double seconds = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--graph") && i + 1 < argc)
            graph_path = argv[++i];
        else if (!strcmp(argv[i], "--pbf") && i + 1 < argc)
            pbf = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc)
            outp = argv[++i];
        else if (!strcmp(argv[i], "--offers") && i + 1 < argc)
            noffers = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--requests") && i + 1 < argc)
            nreq = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--clients") && i + 1 < argc)
            clients_arg = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            rng = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--no-labels"))
            use_labels = 0;
        else if (!strcmp(argv[i], "--keep-log"))
            keep_log = 1;
        else if (!strcmp(argv[i], "--quiet-wait") && i + 1 < argc)
            quiet_wait_s = atof(argv[++i]);
        else {
            usage();
            return 2;
        }
    }
    int clients[MAX_CELLS], ncells = 0;
    for (const char *s = clients_arg; *s && ncells < MAX_CELLS;) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v <= 0 || v > 60) { /* the server takes 64 connections per address */
            usage();
            return 2;
        }
        clients[ncells++] = (int)v;
        s = *end == ',' ? end + 1 : end;
    }
    if (noffers < 1 || nreq < 4 || seconds <= 0 || !ncells) {
        usage();
        return 2;
    }
    uint64_t seed = rng;
    int saved_err = dup(STDERR_FILENO);
    progress = fdopen(saved_err, "w");
    if (!progress)
        progress = stderr;

    /* the graph: Porto when it is here (bundled, else the shared copy), else the bundled Monaco */
    if (!graph_path && !pbf) {
        static const char *const cand[] = {"data/porto.osm.pbf", "../shared/data/porto.osm.pbf",
                                           "tests/data/monaco.osm.pbf"};
        for (size_t i = 0; i < sizeof cand / sizeof *cand && !pbf; i++)
            if (file_exists(cand[i]))
                pbf = cand[i];
        if (!pbf) {
            say("no extract found (data/porto.osm.pbf, ../shared/data/porto.osm.pbf, tests/data/monaco.osm.pbf): run "
                "from the top of the repository, or give --graph or --pbf");
            return 1;
        }
    }
    char commit[64] = "unknown";
    FILE *gp = popen("git rev-parse --short HEAD 2>/dev/null && git status --porcelain -- matcher routing web "
                     "2>/dev/null",
                     "r");
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
    if (cv_tz_set("Europe/Lisbon", &err)) {
        say("%s", err.text);
        return 1;
    }
    char *built = tmp_graph; /* "" when a graph file was given */
    double import_s = 0;
    if (!graph_path) {
        snprintf(tmp_graph, sizeof tmp_graph, "/tmp/bench_stdcov_%d.cvg", (int)getpid());
        say("importing %s", pbf);
        double t0 = now_s();
        fflush(NULL);
        pid_t pid = fork(); /* in a child, so that the import's freed heap does not stay in the server's process */
        if (pid == 0) {
            cv_profile_options popt = cv_profile_defaults();
            cv_network net;
            if (cv_network_read(pbf, &popt, NULL, &net, &err)) {
                say("%s", err.text);
                _exit(1);
            }
            int rc = cv_graph_build(&net, pbf, built, NULL, NULL, &err);
            if (rc)
                say("%s", err.text);
            _exit(rc ? 1 : 0);
        }
        int status = 1;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            say("the import of %s failed", pbf);
            return 1;
        }
        import_s = now_s() - t0;
        graph_path = built;
    }
    cv_graph *g = cv_graph_open(graph_path, &err);
    if (!g) {
        say("%s", err.text);
        return 1;
    }
    G = g;
    cv_hub_labels *hl = NULL;
    if (use_labels) { /* as `covoit serve` builds them by default: every core, 1024 MB at most */
        int lrc = cv_hub_labels_build(g, 0, (uint64_t)1024 << 20, NULL, &hl, &err);
        if (lrc == CV_ETOOBIG)
            say("no hub labels: %s", err.text);
        else if (lrc) {
            say("%s", err.text);
            return 1;
        } else
            say("hub labels built in %.2f s, %.0f MB", hl->build_s, (double)cv_hub_labels_bytes(hl) / 1048576.0);
    }
    NOW = (int64_t)time(NULL);
    cv_day today;
    cv_utc_to_local(NOW, &today, NULL, NULL);
    DAY0 = today + 1;

    /* ---- the matcher and the offers */
    char db[256], logp[256];
    snprintf(db, sizeof db, "/tmp/bench_stdcov_%d.db", (int)getpid());
    snprintf(logp, sizeof logp, "/tmp/bench_stdcov_%d.log", (int)getpid());
    snprintf(tmp_db, sizeof tmp_db, "%s", db);
    if (!keep_log)
        snprintf(tmp_log, sizeof tmp_log, "%s", logp);
    remove_db(db);
    cv_matcher_options mo = cv_matcher_defaults();
    mo.labels = hl;
    mo.follow_ms = 200; /* as `covoit serve` opens it */
    cv_matcher *m;
    if (cv_matcher_open(g, db, &mo, NOW, &m, &err)) {
        say("%s", err.text);
        return 1;
    }
    cv_matcher_ws *w = cv_matcher_ws_new(m, &err);
    if (!w) {
        say("%s", err.text);
        return 1;
    }
    say("adding %d offers", noffers);
    cv_offer *offers = calloc((size_t)noffers, sizeof *offers);
    int n = 0, add_failures = 0;
    double add_t0 = now_s();
    while (n < noffers) {
        cv_coord a, b;
        bench_random_pair(G, &rng, MIN_TRIP_M, &a, &b);
        cv_offer o = make_offer(a, b, random_time());
        if (cv_matcher_add_offer(w, &o, NOW, &err)) {
            add_failures++; /* e.g. no route (an island the snap still accepted): draw again */
            continue;
        }
        offers[n++] = o;
    }
    double add_s = now_s() - add_t0;
    cv_matcher_stats st;
    cv_matcher_get_stats(m, &st);

    /* ---- the questions: half along an offer's route, a quarter the same the other way, a quarter random */
    say("drawing %d requests", nreq);
    ask *asks = calloc((size_t)nreq, sizeof *asks);
    cv_ch_query *q = cv_ch_query_new(g);
    int redraws = 0;
    for (int i = 0; i < nreq;) {
        int kind = i % 4 == 0 || i % 4 == 2 ? K_ALONG : i % 4 == 1 ? K_REVERSED : K_RANDOM;
        if (kind == K_RANDOM)
            ask_random(&asks[i]);
        else if (!ask_along(q, &offers[next_rand() % (uint64_t)n], kind == K_REVERSED, &asks[i])) {
            redraws++;
            continue;
        }
        i++;
    }
    cv_ch_query_free(q);

    /* ---- the server, its access log in a file */
    log_fd = open(logp, O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0600);
    if (log_fd < 0 || dup2(log_fd, STDERR_FILENO) < 0) {
        say("cannot open %s", logp);
        return 1;
    }
    cv_server_options so = cv_server_defaults();
    so.port = 0;
    so.threads = threads;
    so.quiet = 0; /* one line per request, with its dur_ms */
    so.matcher = m;
    so.labels = hl;
    so.operator_name = OPERATOR;
    so.public_url = PUBLIC_URL;
    cv_server *srv = cv_server_start(g, &so, &err);
    if (!srv) {
        say("%s", err.text);
        return 1;
    }
    uint16_t port = cv_server_port(srv);
    unsigned server_threads = threads ? threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    say("server on 127.0.0.1:%u, access log in %s", (unsigned)port, logp);

    /* ---- one client, one request at a time: a warm-up pass, then the timed pass; then the throughput cells */
    conn c = {-1, port, NULL, 0, 0};
    seq sq;
    memset(&sq, 0, sizeof sq);
    sq.n = (size_t)nreq;
    sq.rtt = malloc(sq.n * sizeof *sq.rtt);
    sq.journeys = malloc(sq.n * sizeof *sq.journeys);
    sq.bytes = malloc(sq.n * sizeof *sq.bytes);
    say("warm-up pass: %d requests", nreq);
    run_sequential(&c, asks, 0, &sq);
    say("timed pass: %d requests, one at a time", nreq);
    run_sequential(&c, asks, 1, &sq);
    conn_close(&c);
    free(c.buf);
    cell cells[MAX_CELLS];
    int failed = sq.non200 || sq.errors;
    for (int k = 0; k < ncells; k++) {
        say("throughput: %d clients for %.0f s", clients[k], seconds);
        if (run_cell(port, asks, (size_t)nreq, clients[k], seconds, &cells[k]))
            failed = 1;
    }
    cv_server_stop(srv);
    dup2(saved_err, STDERR_FILENO);
    close(log_fd);

    /* ---- the report */
    report_file = fopen(outp, "w");
    if (!report_file)
        say("cannot write %s (the report is on stdout only)", outp);
    char cpu[128], day0[16], day1[16], tstart[32];
    bench_cpu_model(cpu, sizeof cpu);
    cv_format_date(DAY0, day0);
    cv_format_date(DAY0 + DAYS - 1, day1);
    cv_format_datetime(NOW, tstart);
    double load[3] = {0, 0, 0};
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (fscanf(lf, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = load[1] = load[2] = 0;
        fclose(lf);
    }
    out("bench_stdcov: GET " PATH_JOURNEYS " with %d open offers (commit %s, run %s)\n", n, commit, tstart);
    out("machine: %ld cores, %s, load average %.2f %.2f %.2f at the end\n", sysconf(_SC_NPROCESSORS_ONLN), cpu, load[0],
        load[1], load[2]);
    const char *place = !pbf ? "" : strstr(pbf, "porto") ? ", Porto" : strstr(pbf, "monaco") ? ", Monaco" : "";
    out("graph: %s%s (%u nodes, %u edges%s)\n", pbf ? pbf : graph_path, place, g->hdr.nnodes, g->hdr.nedges,
        built[0] ? "" : ", graph file given");
    if (built[0])
        out("       imported in %.1f s into a graph file in /tmp\n", import_s);
    if (hl)
        out("hub labels: built in %.2f s, %.0f MB (as covoit serve does by default)\n", hl->build_s,
            (double)cv_hub_labels_bytes(hl) / 1048576.0);
    else
        out("hub labels: none (CH searches)\n");
    FILE *ag = fopen("/proc/sys/kernel/sched_autogroup_enabled", "r");
    int autogroup = ag && fgetc(ag) == '1';
    if (ag)
        fclose(ag);
    if (autogroup)
        out("scheduler: autogroups on: nice ranks processes within one session only, so the niced processes of other "
            "sessions (the fuzzers) still take a fair share of the cores (column of_nice)\n");
    out("server: cv_server_start on 127.0.0.1, %u worker threads, access log on (to a file), operator %s; clients in "
        "the same process, HTTP/1.1 keep-alive\n",
        server_threads, OPERATOR);
    out("offers: %d punctual, %s to %s, 06:00-10:00 Europe/Lisbon, %d seats, 15 min margin, ends >= 2 km apart; added "
        "in %.1f s (%.0f us each; %d drawn again); %zu in the index\n",
        n, day0, day1, CV_DEFAULT_SEATS, add_s, add_s * 1e6 / n, add_failures, (size_t)st.offers);
    int nk[NKINDS] = {0};
    for (int i = 0; i < nreq; i++)
        nk[asks[i].kind]++;
    out("requests: %d, cycled (seed %llu): %d along an offer's route (departure at 20-40 %%, arrival at 60-80 %% of "
        "it, +-50 m, departureDate when the driver passes +-5 min), %d the same reversed, %d random trips at a random "
        "offer time; timeDelta 900-3600 s, radii 1 km (the default), no count (%d redrawn)\n",
        nreq, (unsigned long long)seed, nk[K_ALONG], nk[K_REVERSED], nk[K_RANDOM], redraws);
    out("\n");
    double seq_p50 = report_sequential(&sq, asks);
    out("\n");
    double best_rps = 0;
    int best_clients = 0;
    report_cells(cells, ncells, seconds, &best_rps, &best_clients);
    long total_j = 0;
    for (int i = 0; i < nreq; i++)
        total_j += sq.journeys[i];
    out("\n");
    out("Targets (10,000 open offers, this %ld-core machine):\n", sysconf(_SC_NPROCESSORS_ONLN));
    out("  server-side median under %.0f ms     %8.2f ms (one client)       %s\n", TARGET_P50_MS, seq_p50,
        sq.nsrv && seq_p50 < TARGET_P50_MS ? "PASS" : "FAIL");
    out("  at least %.0f requests/s            %8.0f req/s (%d client%s)    %s\n", TARGET_RPS, best_rps, best_clients,
        best_clients == 1 ? "" : "s", best_rps >= TARGET_RPS ? "PASS" : "FAIL");
    out("  mean journeys answered per request  %8.2f (one client, all kinds)\n", (double)total_j / (double)nreq);
    if (n != 10000)
        out("  (note: run with %d offers, not the 10,000 of the targets)\n", n);
    if (failed)
        out("ERRORS: some requests got no answer or an answer other than 200 (see above)\n");
    if (report_file)
        fclose(report_file);

    if (keep_log)
        say("access log kept in %s", logp);
    free(sq.rtt), free(sq.srv), free(sq.journeys), free(sq.bytes), free(asks), free(offers);
    cv_matcher_ws_free(w);
    cv_matcher_close(m);
    cv_hub_labels_free(hl);
    cv_graph_close(g); /* the temporary files go at exit (remove_tmp) */
    if (failed)
        say("FAILED: some requests got no answer or an answer other than 200 (see above)");
    else
        say("report written to %s", outp);
    return failed ? 1 : 0;
}
