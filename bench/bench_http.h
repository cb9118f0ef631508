/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* bench_http.h — what the benchmarks that ask covoit over HTTP share (bench_stdcov, bench_federation): their
   options, progress and report, their temporary files, the graph (found and imported into /tmp), the open offers and
   passengers' trips along them, a keep-alive HTTP/1.1 client, the servers' access logs and the CPU the machine
   spends meanwhile. Define _POSIX_C_SOURCE 200809L before including it. */
#ifndef CV_BENCH_HTTP_H
#define CV_BENCH_HTTP_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "matcher/matcher.h"
#include "matcher/timeutil.h"
#include "osm/osm_network.h"
#include "osm/profile.h"
#include "routing/ch.h"
#include "routing/graph_build.h"
#include "routing/path.h"

#if defined(__GNUC__)
#define BENCH_PRINTF __attribute__((format(printf, 1, 2)))
#else
#define BENCH_PRINTF
#endif

/* ---------------------------------------------------------------- options, progress, report */

/* One option: --name and its value into *p, by type: 's' a string, 'i' an int, 'd' a double, 'u' a uint64_t; 'f' a
   flag without value, which sets the int *p to 1. */
typedef struct bench_opt {
    const char *name;
    char type;
    void *p;
} bench_opt;

/* Reads argv[1..argc) by opts (ended by a NULL name): 0, or -1 on an option not there or without its value. */
static inline int bench_options(int argc, char **argv, const bench_opt *opts)
{
    for (int i = 1; i < argc; i++) {
        const bench_opt *o = opts;
        while (o->name && strcmp(argv[i], o->name))
            o++;
        if (!o->name || (o->type != 'f' && i + 1 >= argc))
            return -1;
        const char *v = o->type == 'f' ? NULL : argv[++i];
        switch (o->type) {
        case 's':
            *(const char **)o->p = v;
            break;
        case 'i':
            *(int *)o->p = atoi(v);
            break;
        case 'd':
            *(double *)o->p = atof(v);
            break;
        case 'u':
            *(uint64_t *)o->p = strtoull(v, NULL, 10);
            break;
        default:
            *(int *)o->p = 1;
        }
    }
    return 0;
}

static const char *bench_name = "bench"; /* the program: bench_say's prefix and the temporary files' */
static FILE *bench_progress;             /* where bench_say writes (stderr when NULL) */
static FILE *bench_report;               /* the results file bench_out writes besides stdout (none when NULL) */

/* Progress and errors, one line. */
BENCH_PRINTF static inline void bench_say(const char *fmt, ...)
{
    FILE *f = bench_progress ? bench_progress : stderr;
    va_list ap;
    va_start(ap, fmt);
    fprintf(f, "%s: ", bench_name);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    fflush(f);
    va_end(ap);
}

/* The report: on stdout and into the results file. */
BENCH_PRINTF static inline void bench_out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (bench_report) {
        va_start(ap, fmt);
        vfprintf(bench_report, fmt, ap);
        va_end(ap);
    }
}

/* The commit measured, "+dirty" when matcher/, routing/ or web/ have changes ("unknown" outside git). */
static inline void bench_commit(char buf[64])
{
    snprintf(buf, 64, "unknown");
    FILE *gp = popen("git rev-parse --short HEAD 2>/dev/null && git --no-optional-locks status --porcelain -- matcher "
                     "routing web 2>/dev/null",
                     "r");
    if (!gp)
        return;
    char line[256], rest[256];
    if (fgets(line, sizeof line, gp)) {
        line[strcspn(line, "\n")] = 0;
        snprintf(buf, 64, "%.40s%s", line, fgets(rest, sizeof rest, gp) ? "+dirty" : "");
    }
    pclose(gp);
}

/* ---------------------------------------------------------------- temporary files */

#define BENCH_TMP_MAX 16
static char bench_tmp_path[BENCH_TMP_MAX][256];
static int bench_tmp_n;
static pid_t bench_main_pid;

/* Removes the temporary files (only unlink: also from a signal handler; never in a child of the bench). */
static inline void bench_tmp_remove(void)
{
    if (getpid() != bench_main_pid)
        return;
    for (int i = 0; i < bench_tmp_n; i++)
        unlink(bench_tmp_path[i]);
}

static inline void bench_tmp_on_signal(int sig)
{
    bench_tmp_remove();
    _exit(128 + sig);
}

/* "/tmp/NAME_PID" suffix, removed now and at the exit or on SIGINT / SIGTERM (a database with its -wal and -shm),
   unless keep. Valid for the whole run. */
static inline const char *bench_tmp(const char *suffix, int db, int keep)
{
    static char kept[4][256];
    static int nkept;
    if (!bench_main_pid) {
        bench_main_pid = getpid();
        atexit(bench_tmp_remove);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = bench_tmp_on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
    }
    if (keep || bench_tmp_n + 3 > BENCH_TMP_MAX) {
        char *p = kept[nkept++ % 4];
        snprintf(p, 256, "/tmp/%s_%d%s", bench_name, (int)bench_main_pid, suffix);
        return p;
    }
    const char *path = bench_tmp_path[bench_tmp_n];
    static const char *const side[] = {"", "-wal", "-shm"};
    for (int k = 0; k < (db ? 3 : 1); k++) {
        snprintf(bench_tmp_path[bench_tmp_n], 256, "/tmp/%s_%d%s%s", bench_name, (int)bench_main_pid, suffix, side[k]);
        unlink(bench_tmp_path[bench_tmp_n++]);
    }
    return path;
}

/* ---------------------------------------------------------------- the graph */

/* The graph measured: the graph file *path when given; else the extract *pbf, by default Porto (data/, else
   ../shared/data/), else the bundled Monaco, imported in a child process (so that the import's freed heap does not
   stay in this one) into a temporary file, in *import_s seconds. NULL when it fails (said). */
static inline cv_graph *bench_graph(const char **path, const char **pbf, double *import_s)
{
    static const char *const cand[] = {"data/porto.osm.pbf", "../shared/data/porto.osm.pbf",
                                       "tests/data/monaco.osm.pbf"};
    struct stat st;
    cv_error err = {0};
    *import_s = 0;
    if (*path)
        *pbf = NULL;
    for (size_t i = 0; !*path && !*pbf && i < sizeof cand / sizeof *cand; i++)
        if (!stat(cand[i], &st) && S_ISREG(st.st_mode))
            *pbf = cand[i];
    if (!*path && !*pbf) {
        bench_say("no extract found (data/porto.osm.pbf, ../shared/data/porto.osm.pbf, tests/data/monaco.osm.pbf): run "
                  "from the top of the repository, or give --graph or --pbf");
        return NULL;
    }
    if (!*path) {
        const char *out = bench_tmp(".cvg", 0, 0);
        bench_say("importing %s", *pbf);
        double t0 = bench_now();
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            cv_profile_options popt = cv_profile_defaults();
            cv_network net;
            int rc =
                cv_network_read(*pbf, &popt, NULL, &net, &err) || cv_graph_build(&net, *pbf, out, NULL, NULL, &err);
            if (rc)
                bench_say("%s", err.text);
            _exit(rc ? 1 : 0);
        }
        int status = 1;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            bench_say("the import of %s failed", *pbf);
            return NULL;
        }
        *import_s = bench_now() - t0;
        *path = out;
    }
    cv_graph *g = cv_graph_open(*path, &err);
    if (!g)
        bench_say("%s", err.text);
    return g;
}

/* The report's lines on the machine and on the graph (pbf NULL: a graph file given). */
static inline void bench_out_machine(const char *pbf, const char *path, const cv_graph *g, double import_s)
{
    char cpu[128];
    double load[3] = {0, 0, 0};
    bench_cpu_model(cpu, sizeof cpu);
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (fscanf(lf, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = load[1] = load[2] = 0;
        fclose(lf);
    }
    bench_out("machine: %ld cores, %s, load average %.2f %.2f %.2f at the end\n", sysconf(_SC_NPROCESSORS_ONLN), cpu,
              load[0], load[1], load[2]);
    const char *place = !pbf ? "" : strstr(pbf, "porto") ? ", Porto" : strstr(pbf, "monaco") ? ", Monaco" : "";
    bench_out("graph: %s%s (%u nodes, %u edges%s)\n", pbf ? pbf : path, place, g->hdr.nnodes, g->hdr.nedges,
              pbf ? "" : ", graph file given");
    if (pbf)
        bench_out("       imported in %.1f s into a graph file in /tmp\n", import_s);
    if (pbf && !strstr(pbf, "porto"))
        bench_out("       NOTE: not the Porto graph the targets are meant for\n");
}

/* ---------------------------------------------------------------- offers and passengers' trips */

#define BENCH_MIN_TRIP_M 2000.0 /* offers' and random trips' ends at least this far apart */
#define BENCH_DAYS 2            /* offers leave on the BENCH_DAYS days from tomorrow, 06:00-10:00 local time */

/* A departure uniform over 06:00-10:00 local time, on one of the BENCH_DAYS days from day0. */
static inline int64_t bench_offer_time(uint64_t *rng, cv_day day0)
{
    cv_day d = day0 + (cv_day)(bench_splitmix(rng) % BENCH_DAYS);
    return cv_local_to_utc(d, 6 * 3600 + (int32_t)(bench_splitmix(rng) % (4 * 3600)));
}

/* n punctual offers of owner "bench-driver" (ends uniform over g, >= 2 km apart, leaving at bench_offer_time, 3
   seats, 15 min margin, the default detour) added through w into v[0..n); returns how many were drawn again because
   the matcher refused them (no route: an island the snap still takes). */
static inline int bench_add_offers(cv_matcher_ws *w, const cv_graph *g, uint64_t *rng, cv_day day0, int64_t now, int n,
                                   cv_offer *v)
{
    int again = 0;
    cv_error err = {0};
    for (int k = 0; k < n;) {
        cv_offer o;
        memset(&o, 0, sizeof o);
        snprintf(o.owner, sizeof o.owner, "bench-driver");
        bench_random_pair(g, rng, BENCH_MIN_TRIP_M, &o.from, &o.to);
        o.when = (cv_schedule){CV_PUNCTUAL, bench_offer_time(rng, day0), 0, 0, 0, 0, CV_DEFAULT_MARGIN_S};
        o.seats = CV_DEFAULT_SEATS;
        o.max_detour_s = -1;
        o.max_detour_m = -1;
        if (cv_matcher_add_offer(w, &o, now, &err))
            again++;
        else
            v[k++] = o;
    }
    return again;
}

/* A passenger's trip along an offer's route, and when the driver passes its ends. */
typedef struct bench_leg {
    cv_coord from, to;
    double at[2]; /* UTC seconds: when the driver passes from and to, both moved by the same +-5 min */
    uint64_t x;   /* the sequence's next number, for the caller's margin */
} bench_leg;

/* from near f1 in [0.2, 0.4) of offer o's route and to near f2 in [0.6, 0.8), each moved by up to 50 m; at: the
   driver's departure plus f1 (f2) of its direct duration, +-300 s. 0 when the route cannot be drawn (nothing is drawn
   from *rng then), or a point does not snap as the matcher snaps it, or the two are one (drawn again). */
static inline int bench_leg_along(const cv_graph *g, cv_ch_query *q, const cv_offer *o, uint64_t *rng, bench_leg *l)
{
    cv_snap sa, sb;
    if (!bench_snaps(g, o->from, &sa) || !bench_snaps(g, o->to, &sb))
        return 0;
    cv_path p = {0};
    cv_coord *pts = NULL;
    size_t n = 0;
    int ok = cv_ch_route(q, &sa, &sb, &p, NULL) == 0 && cv_path_geometry(g, &p, &pts, &n) == 0 && n >= 2;
    if (ok) {
        double f1 = bench_between(bench_splitmix(rng), 0.2, 0.4), f2 = bench_between(bench_splitmix(rng), 0.6, 0.8);
        l->from = bench_jitter(bench_along(pts, n, f1), 50, rng);
        l->to = bench_jitter(bench_along(pts, n, f2), 50, rng);
        double off = bench_between(bench_splitmix(rng), -300, 300), dur = (double)o->direct_duration_ds;
        l->at[0] = (double)o->when.depart + f1 * dur / 10.0 + off;
        l->at[1] = (double)o->when.depart + f2 * dur / 10.0 + off;
        l->x = bench_splitmix(rng);
        ok = bench_snaps(g, l->from, NULL) && bench_snaps(g, l->to, NULL) &&
             (l->from.lon != l->to.lon || l->from.lat != l->to.lat);
    }
    free(pts);
    cv_path_free(&p);
    return ok;
}

/* ---------------------------------------------------------------- a blocking HTTP/1.1 keep-alive client */

typedef struct bench_conn {
    uint16_t port;   /* on 127.0.0.1 */
    const char *key; /* sent as X-API-Key when not NULL */
    int fd;          /* -1 while not connected */
    char *buf;       /* the last answer */
    size_t cap;
    long reconnects;
} bench_conn;

static inline void bench_conn_close(bench_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static inline int bench_conn_open(bench_conn *c)
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
        bench_conn_close(c);
        return -1;
    }
    return 0;
}

/* The value of header name (lower case, with its colon) in the head h[0..n), or NULL. */
static inline const char *bench_header(const char *h, size_t n, const char *name)
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

/* method path (with body as JSON when not NULL) on c's connection, opened when needed and kept open unless the
   server closes it: 0 with the status and the answer's body (NUL-terminated, valid until the next call), or -1 on a
   socket error or an answer that is not understood. */
static inline int bench_http_once(bench_conn *c, const char *method, const char *path, const char *body, int *status,
                                  const char **ans, size_t *alen)
{
    if (c->fd < 0 && bench_conn_open(c))
        return -1;
    char req[2048], len_field[96] = "";
    if (body)
        snprintf(len_field, sizeof len_field, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
                 strlen(body));
    int n =
        snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s%s\r\n%s", method, path,
                 c->key ? "X-API-Key: " : "", c->key ? c->key : "", c->key ? "\r\n" : "", len_field, body ? body : "");
    if (n <= 0 || (size_t)n >= sizeof req)
        return -1;
    for (int sent = 0; sent < n;) {
        ssize_t k = send(c->fd, req + sent, (size_t)(n - sent), MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            bench_conn_close(c);
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
                bench_conn_close(c);
                return -1;
            }
            c->buf = b, c->cap = cap;
        }
        ssize_t k = recv(c->fd, c->buf + len, c->cap - 1 - len, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            bench_conn_close(c);
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
            const char *cl = bench_header(c->buf, head, "content-length:");
            const char *cn = bench_header(c->buf, head, "connection:");
            if (sscanf(c->buf, "HTTP/1.%*d %d", status) != 1 || !cl) {
                bench_conn_close(c);
                return -1;
            }
            closing = cn && !strncasecmp(cn, "close", 5);
            need = head + strtoull(cl, NULL, 10);
        }
        if (len >= need)
            break;
    }
    if (len != need) { /* bytes after the answer: nothing else was asked */
        bench_conn_close(c);
        return -1;
    }
    *ans = c->buf + head;
    *alen = need - head;
    if (closing)
        bench_conn_close(c);
    return 0;
}

/* As bench_http_once, asked again once on a new connection when the kept one failed (the server may have closed it
   while it was idle). */
static inline int bench_http(bench_conn *c, const char *method, const char *path, const char *body, int *status,
                             const char **ans, size_t *alen)
{
    int had = c->fd >= 0;
    if (!bench_http_once(c, method, path, body, status, ans, alen))
        return 0;
    if (!had)
        return -1;
    c->reconnects++;
    return bench_http_once(c, method, path, body, status, ans, alen);
}

/* ---------------------------------------------------------------- the servers' access logs */

/* The log's size once it has stopped growing: a server writes a request's line when it queues the answer, so a
   client may read the answer a moment before the line is written. */
static inline off_t bench_log_settled(int fd)
{
    struct stat st;
    off_t s = fstat(fd, &st) ? -1 : st.st_size;
    for (int i = 0; i < 100; i++) {
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
        off_t t = fstat(fd, &st) ? -1 : st.st_size;
        if (t == s)
            break;
        s = t;
    }
    return s;
}

typedef struct bench_logged {
    uint64_t id;
    double ms;
} bench_logged;

static inline int bench_cmp_logged(const void *a, const void *b)
{
    uint64_t x = ((const bench_logged *)a)->id, y = ((const bench_logged *)b)->id;
    return (x > y) - (x < y);
}

/* The lines of requests to path (by method, any when NULL) answered 200 between offsets a and b of the log, in the
   order the requests came in (their ids); *other counts the lines of other requests. NULL when there are none. */
static inline bench_logged *bench_read_log(int fd, off_t a, off_t b, const char *method, const char *path, size_t *n,
                                           size_t *other)
{
    *n = 0, *other = 0;
    if (b <= a)
        return NULL;
    size_t len = (size_t)(b - a), got = 0;
    char *text = malloc(len + 1);
    bench_logged *v = malloc((len / 40 + 1) * sizeof *v);
    if (!text || !v) {
        free(text), free(v);
        return NULL;
    }
    while (got < len) {
        ssize_t k = pread(fd, text + got, len - got, a + (off_t)got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    text[got] = '\0';
    size_t pl = strlen(path), ml = method ? strlen(method) : 0;
    for (char *line = text; line && *line;) {
        char *end = strchr(line, '\n');
        if (end)
            *end = '\0';
        const char *m = strstr(line, " method="), *p = strstr(line, " path="), *st = strstr(line, " status="),
                   *d = strstr(line, " dur_ms="), *id = strstr(line, " id=");
        if (p && st && d && id) {
            if ((!method || (m && !strncmp(m + 8, method, ml) && m[8 + ml] == ' ')) && !strncmp(p + 6, path, pl) &&
                p[6 + pl] == ' ' && atoi(st + 8) == 200)
                v[(*n)++] = (bench_logged){strtoull(id + 4, NULL, 10), strtod(d + 8, NULL)};
            else
                (*other)++;
        }
        line = end ? end + 1 : NULL;
    }
    free(text);
    qsort(v, *n, sizeof *v, bench_cmp_logged);
    return v;
}

/* ---------------------------------------------------------------- CPU of the machine */

/* The processes counted as the bench's own: itself, then its servers (0: none). */
static pid_t bench_ours[3];

typedef struct bench_pticks {
    long pid;
    unsigned long long t; /* utime + stime, ticks */
} bench_pticks;

typedef struct bench_cpu_mark {
    double t, busy;             /* seconds: the clock, and the machine's busy time */
    unsigned long long ours[3]; /* ticks of bench_ours */
    bench_pticks *niced;        /* the processes at a positive nice, by pid */
    size_t nn;
} bench_cpu_mark;

/* Cores used between two marks: by each of bench_ours, by the processes at a positive nice (the fuzzers at nice 19)
   and by all the others. */
typedef struct bench_cpu_use {
    double ours[3], niced, others;
} bench_cpu_use;

/* utime + stime of a process and its nice (from /proc/PID/stat; /proc/stat counts the niced processes' system time as
   anyone's); -1 when it cannot be read. */
static inline int bench_proc_ticks(long pid, unsigned long long *t, long long *nice)
{
    char p[64], line[1024];
    snprintf(p, sizeof p, "/proc/%ld/stat", pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return -1;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    const char *r = strrchr(line, ')'); /* after the command name, which may hold spaces */
    unsigned long long ut, st;
    /* state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime priority
       nice */
    if (!r ||
        sscanf(r + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %lld", &ut, &st, nice) != 3)
        return -1;
    *t = ut + st;
    return 0;
}

static inline int bench_cmp_pid(const void *a, const void *b)
{
    long x = ((const bench_pticks *)a)->pid, y = ((const bench_pticks *)b)->pid;
    return (x > y) - (x < y);
}

static inline bench_cpu_mark bench_cpu_take(void)
{
    bench_cpu_mark m;
    memset(&m, 0, sizeof m);
    m.t = bench_now();
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[8] = {0};
    if (f) {
        if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
                   &v[7]) != 8)
            memset(v, 0, sizeof v);
        fclose(f);
    }
    m.busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK); /* not idle, iowait */
    long long nice;
    for (int i = 0; i < 3; i++)
        if (bench_ours[i] <= 0 || bench_proc_ticks(bench_ours[i], &m.ours[i], &nice))
            m.ours[i] = 0;
    size_t cap = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        unsigned long long t;
        if (*end || pid <= 0 || bench_proc_ticks(pid, &t, &nice) || nice <= 0)
            continue;
        if (m.nn == cap) {
            cap = cap ? 2 * cap : 64;
            bench_pticks *w = realloc(m.niced, cap * sizeof *w);
            if (!w)
                break;
            m.niced = w;
        }
        m.niced[m.nn++] = (bench_pticks){pid, t};
    }
    if (d)
        closedir(d);
    if (m.nn)
        qsort(m.niced, m.nn, sizeof *m.niced, bench_cmp_pid);
    return m;
}

/* The cores used from a to b (a process at a positive nice that started in between counts whole). Frees both. */
static inline bench_cpu_use bench_cpu_between(bench_cpu_mark *a, bench_cpu_mark *b)
{
    double tck = (double)sysconf(_SC_CLK_TCK), dt = b->t - a->t > 0 ? b->t - a->t : 1, ours = 0;
    bench_cpu_use u;
    memset(&u, 0, sizeof u);
    for (int i = 0; i < 3; i++) {
        u.ours[i] = b->ours[i] >= a->ours[i] ? (double)(b->ours[i] - a->ours[i]) / tck / dt : 0;
        ours += u.ours[i];
    }
    unsigned long long t = 0;
    for (size_t i = 0; i < b->nn; i++) {
        const bench_pticks *p = a->nn ? bsearch(&b->niced[i], a->niced, a->nn, sizeof *a->niced, bench_cmp_pid) : NULL;
        unsigned long long t0 = p ? p->t : 0;
        t += b->niced[i].t >= t0 ? b->niced[i].t - t0 : 0;
    }
    u.niced = (double)t / tck / dt;
    u.others = (b->busy - a->busy) / dt - ours - u.niced;
    if (u.others < 0)
        u.others = 0;
    free(a->niced), free(b->niced);
    a->niced = b->niced = NULL;
    return u;
}

static double bench_quiet_wait_s = 30;

/* Waits, up to bench_quiet_wait_s, until the other processes at nice 0 or below (builds, tests, other benchmarks;
   not the fuzzers at nice 19) use under a tenth of a core over one second; returns what they used in the last second
   sampled. */
static inline double bench_wait_quiet(void)
{
    double t_end = bench_now() + bench_quiet_wait_s, busy;
    int said = 0;
    do {
        bench_cpu_mark a = bench_cpu_take();
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
        bench_cpu_mark b = bench_cpu_take();
        busy = bench_cpu_between(&a, &b).others;
        if (busy < 0.1)
            break;
        if (!said++)
            bench_say("waiting (up to %.0f s) for other processes to use under 0.1 core: %.2f now", bench_quiet_wait_s,
                      busy);
    } while (bench_now() < t_end);
    return busy;
}

#endif
