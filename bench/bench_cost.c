/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* bench_cost.c — what one covoit server costs per search and per booking, on SQLite and on PostgreSQL. */
/* Per operation of the matcher API: CPU time of the calling thread, wall time, statements (PostgreSQL's round
   trips) and, on PostgreSQL, the CPU the database server spends; on the Porto graph with 10,000 open offers and
   10,000 open requests. Prints a table and writes JSON (bench/results/cost.json). See bench/README.md.

   usage: bench_cost [--graph FILE | --pbf FILE] [--out FILE] [--offers N] [--requests N] [--searches N]
                     [--bookings N] [--publications N] [--key-checks N] [--engines sqlite,postgresql]
                     [--no-hub-labels] [--dir DIR] [--seed N]
   (run from the top of the repository, on a Release build) */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <glob.h>
#include <limits.h>
#include <pwd.h>
#include <sys/utsname.h>
#include <time.h>

#include "bench_http.h"
#include "routing/hub_labels.h"

#ifndef BENCH_COVOIT
#define BENCH_COVOIT "build/covoit"
#endif

/* ---------------------------------------------------------------- what is measured */

/* The operations timed one at a time, then the sums per booking. "peer" rows: what another server on the same
   PostgreSQL database spends to bring its index up to date after the write (cv_matcher_sync, as its follower does
   when the write's notification wakes it). */
enum {
    OP_KEY,          /* cv_store_check_key: every authenticated HTTP request checks its API key */
    OP_SEARCH,       /* cv_matcher_search of an ad hoc trip against the open offers */
    OP_OFFER,        /* cv_matcher_add_offer: a driver publishes an offer */
    OP_REQUEST,      /* cv_matcher_add_request: the passenger's trip stored, which a booking needs */
    OP_BOOK,         /* cv_matcher_book */
    OP_ACCEPT,       /* cv_matcher_accept: the driver accepts */
    OP_BOOKING,      /* request + book + accept, per booking */
    OP_PEER_OFFER,   /* another server's sync after a published offer */
    OP_PEER_REQUEST, /* ... after a stored request */
    OP_PEER_ACCEPT,  /* ... after an acceptance (a booking placed pending logs no change) */
    OP_PEER_BOOKING, /* request + accept syncs, per booking */
    NOPS
};
static const char *const op_name[NOPS] = {
    "key check",   "search",        "publish offer", "store request", "book", "accept", "booking = req+book+accept",
    "peer: offer", "peer: request", "peer: accept",  "peer: booking"};
static const char *const op_key[NOPS] = {
    "key_check",        "search",  "publish_offer",   "store_request",     "book",
    "accept",           "booking", "peer_sync_offer", "peer_sync_request", "peer_sync_accept",
    "peer_sync_booking"};

/* The phases the database server's CPU and WAL are measured over (whole, not per operation). */
enum { PH_KEY, PH_SEARCH, PH_OFFER, PH_BOOKING, NPHASES };
static const char *const phase_key[NPHASES] = {"key_check", "search", "publish_offer", "booking"};
static const int phase_op[NPHASES] = {OP_KEY, OP_SEARCH, OP_OFFER, OP_BOOKING};

enum { ENG_SQLITE, ENG_PG, NENGINES };
static const char *const engine_name[NENGINES] = {"sqlite", "postgresql"};

/* Per operation: CPU time of the calling thread, wall time (ms), statements, and CPU time of the PostgreSQL
   backend serving the connection (ms, from its /proc/PID/schedstat). */
typedef struct series {
    int n, cap;
    double *cpu, *wall, *stmts, *db;
} series;

typedef struct summary {
    double p50, p95, mean, max;
} summary;

typedef struct phase {
    int ops;
    double seconds;      /* wall time of the phase */
    double pg_all_s;     /* CPU of every PostgreSQL process (postmaster, backends, background workers) */
    double pg_peer_s;    /* ... of which the peer's backend (its syncs) */
    double pg_primary_s; /* ... of which the measured connection's backend */
    double wal_bytes;    /* WAL written (pg_current_wal_lsn) */
    double others_cores; /* cores used meanwhile by processes that are neither this one nor PostgreSQL */
} phase;

typedef struct table_size {
    char name[16];
    long long rows, heap, indexes, total;
} table_size;

#define NTABLES 6
static const char *const table_names[NTABLES] = {"owners", "offers", "requests", "bookings", "stops", "changes"};

typedef struct engine_result {
    int ok;
    char error[600];
    series op[NOPS];
    phase ph[NPHASES];
    int offers, requests, add_failures, publish_failures, book_failures, search_redraws, booking_redraws;
    double populate_s, load_peer_s, matches_mean;
    table_size tables[NTABLES];
    long long db_bytes; /* SQLite: the file with its WAL; PostgreSQL: pg_database_size */
    char server[400];   /* PostgreSQL's version and settings */
} engine_result;

/* ---------------------------------------------------------------- series */

static void series_init(series *s, int cap)
{
    memset(s, 0, sizeof *s);
    s->cap = cap;
    s->cpu = calloc((size_t)cap, sizeof *s->cpu);
    s->wall = calloc((size_t)cap, sizeof *s->wall);
    s->stmts = calloc((size_t)cap, sizeof *s->stmts);
    s->db = calloc((size_t)cap, sizeof *s->db);
}

static void series_free(series *s)
{
    free(s->cpu), free(s->wall), free(s->stmts), free(s->db);
    memset(s, 0, sizeof *s);
}

static void series_add(series *s, double cpu, double wall, double stmts, double db)
{
    if (s->n >= s->cap)
        return;
    s->cpu[s->n] = cpu;
    s->wall[s->n] = wall;
    s->stmts[s->n] = stmts;
    s->db[s->n++] = db;
}

static summary summarize(const double *v, int n)
{
    summary s = {0, 0, 0, 0};
    if (n <= 0)
        return s;
    s.p50 = bench_percentile(v, (size_t)n, 0.5);
    s.p95 = bench_percentile(v, (size_t)n, 0.95);
    s.mean = bench_mean(v, (size_t)n);
    s.max = bench_percentile(v, (size_t)n, 1.0);
    return s;
}

/* ---------------------------------------------------------------- processes (/proc) */

/* CPU time a thread group has run, in seconds, to the nanosecond (/proc/PID/schedstat); -1 when it is gone. */
static double proc_runtime_s(pid_t pid)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/schedstat", (int)pid);
    FILE *f = fopen(p, "r");
    unsigned long long ns = 0;
    int ok = f && fscanf(f, "%llu", &ns) == 1;
    if (f)
        fclose(f);
    return ok ? (double)ns * 1e-9 : -1;
}

/* A process's parent, and the CPU time of its children that it has waited for (cutime + cstime, in seconds). */
static int proc_parent(pid_t pid, pid_t *ppid, double *waited_s)
{
    char p[64], line[1024];
    snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return -1;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    const char *r = strrchr(line, ')');
    int pp;
    long long cut, cst;
    /* state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime */
    if (!r || sscanf(r + 1, " %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %lld %lld", &pp, &cut, &cst) != 3)
        return -1;
    *ppid = pp;
    if (waited_s)
        *waited_s = (double)(cut + cst) / (double)sysconf(_SC_CLK_TCK);
    return 0;
}

/* The children of parent, at most cap, into out; how many. */
static int proc_children(pid_t parent, pid_t *out, int cap)
{
    int n = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d)) && n < cap) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        pid_t pp;
        if (*end || pid <= 0 || proc_parent((pid_t)pid, &pp, NULL) || pp != parent)
            continue;
        out[n++] = (pid_t)pid;
    }
    if (d)
        closedir(d);
    return n;
}

/* ---------------------------------------------------------------- a PostgreSQL server of the bench's own */

/* initdb in a temporary directory and pg_ctl on a free port of 127.0.0.1, durable as a production server is
   (fsync, synchronous_commit and full_page_writes on, unlike the tests' server of tests/unit/pg_temp.h); run as the
   postgres user when this runs as root. */
typedef struct pg_server {
    char dir[64], bin[160], as[40], uri[128], stop_cmd[700];
    int port;
    pid_t postmaster;
} pg_server;

static pg_server PG;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    int port = -1;
    if (fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof sa) && !getsockname(fd, (struct sockaddr *)&sa, &len))
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static void pg_stop(void)
{
    if (!PG.dir[0] || getpid() != bench_main_pid)
        return;
    if (system(PG.stop_cmd)) {
        /* stopped already: the directory is removed all the same */
    }
    PG.dir[0] = '\0';
}

/* SIGINT, SIGTERM: the temporary files, then the server (exec is safe in a signal handler). */
static void pg_on_signal(int sig)
{
    bench_tmp_remove();
    if (PG.dir[0])
        execl("/bin/sh", "sh", "-c", PG.stop_cmd, (char *)NULL);
    _exit(128 + sig);
}

static int pg_start(char *why, size_t wcap)
{
    glob_t g;
    if (glob("/usr/lib/postgresql/*/bin/pg_ctl", 0, NULL, &g) || !g.gl_pathc) {
        snprintf(why, wcap, "PostgreSQL's server is not installed (apt-get install postgresql)");
        return -1;
    }
    const char *last = g.gl_pathv[g.gl_pathc - 1];
    snprintf(PG.bin, sizeof PG.bin, "%.*s", (int)(strlen(last) - strlen("/pg_ctl")), last);
    globfree(&g);
    snprintf(PG.dir, sizeof PG.dir, "/tmp/bench_cost_pg_XXXXXX");
    if (!mkdtemp(PG.dir)) {
        snprintf(why, wcap, "cannot make a temporary directory");
        PG.dir[0] = '\0';
        return -1;
    }
    PG.as[0] = '\0';
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam("postgres");
        if (!pw || chown(PG.dir, pw->pw_uid, pw->pw_gid)) {
            snprintf(why, wcap, "running as root, and there is no postgres user to run PostgreSQL as");
            rmdir(PG.dir);
            PG.dir[0] = '\0';
            return -1;
        }
        snprintf(PG.as, sizeof PG.as, "runuser -u postgres -- ");
    }
    PG.port = free_port();
    snprintf(PG.stop_cmd, sizeof PG.stop_cmd, "%s%s/pg_ctl -D %s/data -m fast stop > /dev/null 2>&1; rm -rf %s", PG.as,
             PG.bin, PG.dir, PG.dir);
    atexit(pg_stop);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = pg_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "%s%s/initdb -D %s/data -U covoit --auth=trust -E UTF8 --locale=C.UTF-8 > %s/initdb.log 2>&1 && "
             "%s%s/pg_ctl -D %s/data -w -t 60 -l %s/server.log -o \"-p %d -k %s -h 127.0.0.1 -c fsync=on -c "
             "synchronous_commit=on -c full_page_writes=on\" start > %s/pg_ctl.log 2>&1 && "
             "%s%s/createdb -h 127.0.0.1 -p %d -U covoit covoit >> %s/pg_ctl.log 2>&1",
             PG.as, PG.bin, PG.dir, PG.dir, PG.as, PG.bin, PG.dir, PG.dir, PG.port, PG.dir, PG.dir, PG.as, PG.bin,
             PG.port, PG.dir);
    if (system(cmd)) {
        snprintf(why, wcap, "PostgreSQL did not start (see %s/*.log)", PG.dir);
        return -1;
    }
    char path[128];
    snprintf(path, sizeof path, "%s/data/postmaster.pid", PG.dir);
    FILE *f = fopen(path, "r");
    int pm = 0;
    if (!f || fscanf(f, "%d", &pm) != 1 || pm <= 0) {
        if (f)
            fclose(f);
        snprintf(why, wcap, "cannot read %s", path);
        return -1;
    }
    fclose(f);
    PG.postmaster = (pid_t)pm;
    snprintf(PG.uri, sizeof PG.uri, "postgresql://covoit@127.0.0.1:%d/covoit", PG.port);
    return 0;
}

/* One query through psql, its rows (fields separated by '|') into out; 0, or -1. */
static int pg_sql(const char *sql, char *out, size_t cap)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s/psql -h 127.0.0.1 -p %d -U covoit -d covoit -AtqX -c \"%s\" 2>&1", PG.bin, PG.port,
             sql);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    while (n && out[n - 1] == '\n')
        out[--n] = '\0';
    return pclose(p) == 0 ? 0 : -1;
}

/* The WAL position, bytes. A psql session starts a backend: wait for it to end and be reaped, so that its CPU is
   not counted in the phase measured next. */
static double pg_wal_bytes(void)
{
    char out[128];
    double v = pg_sql("SELECT pg_current_wal_lsn() - '0/0'", out, sizeof out) ? -1 : atof(out);
    struct timespec ts = {0, 300 * 1000000};
    nanosleep(&ts, NULL);
    return v;
}

/* CPU of every process of the server: the postmaster, its children now, and the children it has reaped. */
static double pg_cpu_s(void)
{
    pid_t kids[512], pp;
    double waited = 0, t = proc_runtime_s(PG.postmaster);
    if (proc_parent(PG.postmaster, &pp, &waited) == 0)
        t += waited;
    int n = proc_children(PG.postmaster, kids, 512);
    for (int i = 0; i < n; i++) {
        double r = proc_runtime_s(kids[i]);
        if (r > 0)
            t += r;
    }
    return t;
}

/* The backend that appeared since before[0..nb): a client's connection (its title names 127.0.0.1). 0 when none
   or several did. */
static pid_t pg_new_backend(const pid_t *before, int nb)
{
    pid_t kids[512], found = 0;
    int n = proc_children(PG.postmaster, kids, 512), many = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < nb && !seen; j++)
            seen = before[j] == kids[i];
        if (seen)
            continue;
        char p[64], title[256] = "";
        snprintf(p, sizeof p, "/proc/%d/cmdline", (int)kids[i]);
        FILE *f = fopen(p, "r");
        if (f) {
            size_t k = fread(title, 1, sizeof title - 1, f);
            title[k] = '\0';
            fclose(f);
        }
        if (!strstr(title, "127.0.0.1("))
            continue;
        many += found != 0;
        found = kids[i];
    }
    return many ? 0 : found;
}

/* A workspace, and on PostgreSQL the pid of the backend serving its connection (*backend, when not NULL). */
static cv_matcher_ws *ws_with_backend(cv_matcher *m, int pg, pid_t *backend, cv_error *err)
{
    pid_t before[512];
    int nb = pg ? proc_children(PG.postmaster, before, 512) : 0;
    cv_matcher_ws *w = cv_matcher_ws_new(m, err);
    if (backend)
        *backend = w && pg ? pg_new_backend(before, nb) : 0;
    return w;
}

/* ---------------------------------------------------------------- one operation, measured */

typedef struct probe {
    cv_store *store;
    pid_t backend; /* 0: not PostgreSQL (or not found) */
    double cpu0, wall0, db0;
    int64_t st0;
} probe;

static void probe_start(probe *p)
{
    p->db0 = p->backend ? proc_runtime_s(p->backend) : 0;
    p->st0 = cv_store_statements(p->store);
    p->wall0 = bench_clock_s(CLOCK_MONOTONIC);
    p->cpu0 = bench_clock_s(CLOCK_THREAD_CPUTIME_ID);
}

/* Ends the measure: the figures into s (and *sum, when not NULL, accumulates them). */
static void probe_stop(probe *p, series *s, double sum[4])
{
    double cpu = bench_clock_s(CLOCK_THREAD_CPUTIME_ID) - p->cpu0, wall = bench_clock_s(CLOCK_MONOTONIC) - p->wall0;
    double st = (double)(cv_store_statements(p->store) - p->st0);
    double db = p->backend ? proc_runtime_s(p->backend) - p->db0 : 0;
    series_add(s, cpu * 1e3, wall * 1e3, st, db * 1e3);
    if (sum) {
        sum[0] += cpu * 1e3;
        sum[1] += wall * 1e3;
        sum[2] += st;
        sum[3] += db * 1e3;
    }
}

/* Phase marks: the server's CPU and WAL, the machine's CPU. */
typedef struct mark {
    double t, pg_cpu, wal, primary, peer;
    bench_cpu_mark machine;
} mark;

static void mark_take(mark *k, int pg, pid_t primary, pid_t peer)
{
    memset(k, 0, sizeof *k);
    k->wal = pg ? pg_wal_bytes() : 0;
    k->machine = bench_cpu_take();
    k->pg_cpu = pg ? pg_cpu_s() : 0;
    k->primary = primary ? proc_runtime_s(primary) : 0;
    k->peer = peer ? proc_runtime_s(peer) : 0;
    k->t = bench_now();
}

static void mark_end(mark *a, int pg, pid_t primary, pid_t peer, int ops, phase *ph)
{
    mark b;
    memset(&b, 0, sizeof b);
    b.t = bench_now();
    b.pg_cpu = pg ? pg_cpu_s() : 0;
    b.primary = primary ? proc_runtime_s(primary) : 0;
    b.peer = peer ? proc_runtime_s(peer) : 0;
    b.machine = bench_cpu_take();
    b.wal = pg ? pg_wal_bytes() : 0;
    ph->ops = ops;
    ph->seconds = b.t - a->t;
    ph->pg_all_s = b.pg_cpu - a->pg_cpu;
    ph->pg_primary_s = b.primary - a->primary;
    ph->pg_peer_s = b.peer - a->peer;
    ph->wal_bytes = b.wal - a->wal;
    bench_cpu_use u = bench_cpu_between(&a->machine, &b.machine);
    ph->others_cores = u.others + u.niced - (ph->seconds > 0 ? ph->pg_all_s / ph->seconds : 0);
    if (ph->others_cores < 0)
        ph->others_cores = 0;
}

/* ---------------------------------------------------------------- trips */

static const cv_graph *G;
static cv_hub_labels *LABELS;
static int64_t NOW;
static cv_day DAY0; /* tomorrow: trips leave on it or the day after (bench_offer_time) */
static uint64_t SEED = 42;

static void trip_head(cv_schedule *w, int64_t depart)
{
    *w = (cv_schedule){CV_PUNCTUAL, depart, 0, 0, 0, 0, CV_DEFAULT_MARGIN_S};
}

/* A driver between two random points (>= 2 km apart), 06:00-10:00 on one of the two days, 3 seats. */
static cv_offer random_offer(uint64_t *rng, int k)
{
    cv_offer o;
    memset(&o, 0, sizeof o);
    snprintf(o.owner, sizeof o.owner, "driver-%d", k);
    bench_random_pair(G, rng, BENCH_MIN_TRIP_M, &o.from, &o.to);
    trip_head(&o.when, bench_offer_time(rng, DAY0));
    o.seats = CV_DEFAULT_SEATS;
    o.max_detour_s = -1;
    o.max_detour_m = -1;
    return o;
}

static cv_request random_request(uint64_t *rng, const char *owner)
{
    cv_request r;
    memset(&r, 0, sizeof r);
    snprintf(r.owner, sizeof r.owner, "%s", owner);
    bench_random_pair(G, rng, BENCH_MIN_TRIP_M, &r.from, &r.to);
    trip_head(&r.when, bench_offer_time(rng, DAY0));
    r.seats = 1;
    return r;
}

/* A passenger along offer o (bench_leg_along), wishing to be picked up when the driver passes. */
static int request_along(cv_ch_query *q, const cv_offer *o, uint64_t *rng, const char *owner, cv_request *r)
{
    bench_leg l;
    if (!bench_leg_along(G, q, o, rng, &l))
        return 0;
    memset(r, 0, sizeof *r);
    snprintf(r->owner, sizeof r->owner, "%s", owner);
    r->from = l.from;
    r->to = l.to;
    trip_head(&r->when, (int64_t)llround(l.at[0]));
    r->seats = 1;
    return 1;
}

/* ---------------------------------------------------------------- one engine */

typedef struct config {
    int offers, requests, searches, bookings, publications, key_checks;
    const char *dir;
} config;

static int fail(engine_result *r, const char *what, const cv_error *e)
{
    snprintf(r->error, sizeof r->error, "%s: %s", what, e ? e->text : "");
    for (char *c = r->error; *c; c++)
        if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
            *c = '\''; /* the text goes into the JSON as is */
    bench_say("%s", r->error);
    return -1;
}

/* Offers (owners driver-0...) and requests (passenger-0...) stored through w, with progress. */
static int populate(const char *eng, cv_matcher_ws *w, uint64_t *rng, const config *c, cv_offer *offers,
                    engine_result *r)
{
    cv_error err = {0};
    double t0 = bench_now();
    for (int k = 0; k < c->offers;) {
        cv_offer o = random_offer(rng, k);
        if (cv_matcher_add_offer(w, &o, NOW, &err)) {
            r->add_failures++; /* no route (an island the snap still takes): drawn again */
            continue;
        }
        offers[k++] = o;
        if (k % 2000 == 0 || k == c->offers)
            bench_say("%s: %d/%d offers stored (%.1f ms each)", eng, k, c->offers, (bench_now() - t0) * 1e3 / k);
    }
    double t1 = bench_now();
    for (int k = 0; k < c->requests;) {
        char owner[32];
        snprintf(owner, sizeof owner, "passenger-%d", k);
        cv_request q = random_request(rng, owner);
        if (cv_matcher_add_request(w, &q, NOW, &err)) {
            r->add_failures++;
            continue;
        }
        k++;
        if (k % 2000 == 0 || k == c->requests)
            bench_say("%s: %d/%d requests stored (%.1f ms each)", eng, k, c->requests, (bench_now() - t1) * 1e3 / k);
    }
    r->offers = c->offers;
    r->requests = c->requests;
    r->populate_s = bench_now() - t0;
    return 0;
}

static void remove_sqlite(const char *db)
{
    char p[300];
    static const char *const side[] = {"", "-wal", "-shm"};
    for (int k = 0; k < 3; k++) {
        snprintf(p, sizeof p, "%s%s", db, side[k]);
        unlink(p);
    }
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) ? 0 : (long long)st.st_size;
}

static void table_sizes(engine_result *r)
{
    char out[512], sql[512];
    for (int i = 0; i < NTABLES; i++) {
        table_size *t = &r->tables[i];
        snprintf(t->name, sizeof t->name, "%s", table_names[i]);
        snprintf(sql, sizeof sql,
                 "SELECT count(*), pg_relation_size('%s'), pg_indexes_size('%s'), pg_total_relation_size('%s') FROM %s",
                 table_names[i], table_names[i], table_names[i], table_names[i]);
        if (pg_sql(sql, out, sizeof out) ||
            sscanf(out, "%lld|%lld|%lld|%lld", &t->rows, &t->heap, &t->indexes, &t->total) != 4)
            bench_say("postgresql: cannot read the size of %s: %s", table_names[i], out);
    }
    if (!pg_sql("SELECT pg_database_size('covoit')", out, sizeof out))
        r->db_bytes = atoll(out);
}

static int run_engine(int eng, const config *c, engine_result *r)
{
    const char *en = engine_name[eng];
    int pg = eng == ENG_PG;
    memset(r, 0, sizeof *r);
    for (int k = 0; k < NOPS; k++)
        series_init(&r->op[k], k == OP_KEY                           ? c->key_checks
                               : k == OP_SEARCH                      ? c->searches
                               : k == OP_OFFER || k == OP_PEER_OFFER ? c->publications
                                                                     : c->bookings);
    uint64_t rng = SEED; /* both engines store and ask the same trips */
    cv_error err = {0};
    char target[300];
    if (pg) {
        char why[300];
        bench_say("%s: starting a server (fsync, synchronous_commit and full_page_writes on)", en);
        if (pg_start(why, sizeof why)) {
            cv_error e = {0};
            snprintf(e.text, sizeof e.text, "%s", why);
            return fail(r, "postgresql", &e);
        }
        snprintf(target, sizeof target, "%s", PG.uri);
        char out[400];
        if (!pg_sql("SELECT current_setting('server_version') || ': ' || string_agg(name || '=' || "
                    "current_setting(name), ' ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', "
                    "'synchronous_commit', 'full_page_writes', 'shared_buffers', 'wal_level', 'max_wal_size', "
                    "'checkpoint_timeout', 'wal_sync_method')",
                    out, sizeof out))
            snprintf(r->server, sizeof r->server, "%s", out);
        bench_say("%s: %s", en, r->server);
    } else {
        snprintf(target, sizeof target, "%s/bench_cost_%d.db", c->dir, (int)getpid());
        remove_sqlite(target);
    }
    cv_matcher_options mo = cv_matcher_defaults(); /* as `covoit serve`: 100 results at most, no follower here */
    mo.labels = LABELS;
    cv_matcher *m = NULL, *peer = NULL;
    if (cv_matcher_open(G, target, &mo, NOW, &m, &err))
        return fail(r, "open", &err);

    /* ---- the trips already there; on PostgreSQL through a connection at synchronous_commit=off (PGOPTIONS),
       which only makes the filling faster: every commit measured below waits for the disk */
    cv_offer *offers = calloc((size_t)c->offers, sizeof *offers);
    if (pg)
        setenv("PGOPTIONS", "-c synchronous_commit=off", 1);
    cv_matcher_ws *fw = cv_matcher_ws_new(m, &err);
    if (pg)
        unsetenv("PGOPTIONS");
    if (!fw)
        return fail(r, "workspace", &err);
    bench_say("%s: storing %d offers and %d requests", en, c->offers, c->requests);
    populate(en, fw, &rng, c, offers, r);
    cv_matcher_ws_free(fw);

    pid_t backend = 0, peer_backend = 0;
    cv_matcher_ws *w = ws_with_backend(m, pg, &backend, &err), *pw = NULL;
    if (!w)
        return fail(r, "workspace", &err);
    if (pg && !backend)
        bench_say("%s: WARNING: cannot tell the workspace's backend: no per-operation server CPU", en);
    if (pg) {
        /* another server on the same database: its own index, loaded from the tables */
        bench_say("%s: a second matcher (the peer server) loads its index", en);
        double t0 = bench_now();
        if (cv_matcher_open(G, target, &mo, NOW, &peer, &err))
            return fail(r, "open the peer", &err);
        r->load_peer_s = bench_now() - t0;
        pw = ws_with_backend(peer, pg, &peer_backend, &err);
        if (!pw)
            return fail(r, "peer workspace", &err);
    }
    cv_store *store = cv_matcher_store(w);

    /* ---- what is asked, drawn before anything is timed; the searches and the checks warm the workspace up */
    cv_ch_query *q = cv_ch_query_new(G);
    bench_say("%s: drawing %d searches, %d bookings and %d offers to publish", en, c->searches, c->bookings,
              c->publications);
    cv_request *searches = calloc((size_t)c->searches, sizeof *searches);
    double matches = 0;
    for (int i = 0; i < c->searches;) {
        cv_request rq;
        if (i % 2 == 0) { /* along an offer */
            if (!request_along(q, &offers[bench_splitmix(&rng) % (uint64_t)c->offers], &rng, "searcher", &rq)) {
                r->search_redraws++;
                continue;
            }
        } else {
            rq = random_request(&rng, "searcher");
        }
        cv_match *ms = NULL;
        size_t nm = 0;
        if (cv_matcher_search(w, &rq, NOW, 0, &ms, &nm, &err)) {
            r->search_redraws++;
            continue;
        }
        free(ms);
        matches += (double)nm;
        searches[i++] = rq;
    }
    r->matches_mean = matches / c->searches;
    /* a booking: a passenger along an open offer of its own (distinct offers: seats stay free), kept when a search
       finds that offer */
    cv_request *riders = calloc((size_t)c->bookings, sizeof *riders);
    int *rider_offer = calloc((size_t)c->bookings, sizeof *rider_offer);
    int nriders = 0;
    for (int tried = 0; nriders < c->bookings && tried < 20 * c->bookings; tried++) {
        int next = (int)(bench_splitmix(&rng) % (uint64_t)c->offers), i = nriders;
        int used = 0;
        for (int j = 0; j < i && !used; j++)
            used = rider_offer[j] == next;
        char owner[32];
        snprintf(owner, sizeof owner, "rider-%d", i);
        cv_request rq;
        if (used || !request_along(q, &offers[next], &rng, owner, &rq)) {
            r->booking_redraws++;
            continue;
        }
        cv_match *ms = NULL;
        size_t nm = 0;
        int found = 0;
        if (!cv_matcher_search(w, &rq, NOW, INT_MAX, &ms, &nm, &err))
            for (size_t k = 0; k < nm && !found; k++)
                found = ms[k].offer_id == offers[next].id;
        free(ms);
        if (!found) {
            r->booking_redraws++;
            continue;
        }
        riders[i] = rq;
        rider_offer[nriders++] = next;
    }
    if (nriders < c->bookings)
        bench_say("%s: WARNING: only %d passengers drawn who find their offer, of %d", en, nriders, c->bookings);
    cv_offer *fresh = calloc((size_t)c->publications * 2, sizeof *fresh);
    for (int i = 0; i < c->publications * 2; i++)
        fresh[i] = random_offer(&rng, c->offers + i);
    cv_ch_query_free(q);
    char secret[CV_KEY_SECRET_MAX];
    int64_t key_id;
    if (cv_store_add_key(store, "bench-client", CV_SCOPE_ALL, secret, &key_id, &err))
        return fail(r, "add_key", &err);

    probe p = {store, backend, 0, 0, 0, 0}, pp = {pw ? cv_matcher_store(pw) : NULL, peer_backend, 0, 0, 0, 0};
    mark mk;
    int failed = 0;

    /* ---- API key checks */
    bench_wait_quiet();
    bench_say("%s: %d key checks", en, c->key_checks);
    mark_take(&mk, pg, backend, peer_backend);
    for (int i = 0; i < c->key_checks; i++) {
        char client[CV_OWNER_MAX];
        unsigned scopes;
        probe_start(&p);
        int rc = cv_store_check_key(store, secret, client, &scopes, &err);
        probe_stop(&p, &r->op[OP_KEY], NULL);
        if (rc && !failed++)
            fail(r, "check_key", &err);
    }
    mark_end(&mk, pg, backend, peer_backend, c->key_checks, &r->ph[PH_KEY]);

    /* ---- searches */
    bench_wait_quiet();
    bench_say("%s: %d searches", en, c->searches);
    mark_take(&mk, pg, backend, peer_backend);
    for (int i = 0; i < c->searches; i++) {
        cv_match *ms = NULL;
        size_t nm = 0;
        probe_start(&p);
        int rc = cv_matcher_search(w, &searches[i], NOW, 0, &ms, &nm, &err);
        probe_stop(&p, &r->op[OP_SEARCH], NULL);
        free(ms);
        if (rc && !failed++)
            fail(r, "search", &err);
    }
    mark_end(&mk, pg, backend, peer_backend, c->searches, &r->ph[PH_SEARCH]);

    /* ---- offers published */
    bench_wait_quiet();
    bench_say("%s: %d offers published", en, c->publications);
    mark_take(&mk, pg, backend, peer_backend);
    for (int i = 0, k = 0; i < c->publications && k < 2 * c->publications; k++) {
        cv_offer o = fresh[k];
        probe_start(&p);
        int rc = cv_matcher_add_offer(w, &o, NOW, &err);
        if (rc) {
            r->publish_failures++; /* not counted: drawn again */
            continue;
        }
        probe_stop(&p, &r->op[OP_OFFER], NULL);
        i++;
        if (pw) {
            probe_start(&pp);
            rc = cv_matcher_sync(pw, NOW, &err);
            probe_stop(&pp, &r->op[OP_PEER_OFFER], NULL);
            if (rc && !failed++)
                fail(r, "peer sync", &err);
        }
    }
    mark_end(&mk, pg, backend, peer_backend, r->op[OP_OFFER].n, &r->ph[PH_OFFER]);

    /* ---- bookings: the passenger's request stored, the booking, the driver's acceptance */
    bench_wait_quiet();
    bench_say("%s: %d bookings (request, book, accept)", en, nriders);
    mark_take(&mk, pg, backend, peer_backend);
    for (int i = 0; i < nriders; i++) {
        double sum[4] = {0, 0, 0, 0}, peer_sum[4] = {0, 0, 0, 0};
        cv_request rq = riders[i];
        cv_booking b;
        probe_start(&p);
        int rc = cv_matcher_add_request(w, &rq, NOW, &err);
        probe_stop(&p, &r->op[OP_REQUEST], sum);
        if (rc) {
            fail(r, "add_request", &err);
            failed++;
            continue;
        }
        if (pw) {
            probe_start(&pp);
            rc = cv_matcher_sync(pw, NOW, &err);
            probe_stop(&pp, &r->op[OP_PEER_REQUEST], peer_sum);
        }
        probe_start(&p);
        rc = cv_matcher_book(w, offers[rider_offer[i]].id, rq.id, NOW, &b, &err);
        probe_stop(&p, &r->op[OP_BOOK], sum);
        if (rc) {
            r->book_failures++;
            bench_say("%s: booking %d: %s", en, i, err.text);
            continue;
        }
        probe_start(&p);
        rc = cv_matcher_accept(w, b.id, NOW, &err);
        probe_stop(&p, &r->op[OP_ACCEPT], sum);
        if (rc) {
            r->book_failures++;
            bench_say("%s: acceptance %d: %s", en, i, err.text);
            continue;
        }
        series_add(&r->op[OP_BOOKING], sum[0], sum[1], sum[2], sum[3]);
        if (pw) {
            probe_start(&pp);
            rc = cv_matcher_sync(pw, NOW, &err);
            probe_stop(&pp, &r->op[OP_PEER_ACCEPT], peer_sum);
            series_add(&r->op[OP_PEER_BOOKING], peer_sum[0], peer_sum[1], peer_sum[2], peer_sum[3]);
            if (rc && !failed++)
                fail(r, "peer sync", &err);
        }
    }
    mark_end(&mk, pg, backend, peer_backend, r->op[OP_BOOKING].n, &r->ph[PH_BOOKING]);

    /* ---- the data's size */
    if (pg)
        table_sizes(r);
    cv_matcher_ws_free(pw);
    cv_matcher_close(peer);
    cv_matcher_ws_free(w);
    cv_matcher_close(m);
    if (!pg) {
        char wal[320];
        snprintf(wal, sizeof wal, "%s-wal", target);
        r->db_bytes = file_size(target) + file_size(wal);
        remove_sqlite(target);
    } else {
        pg_stop();
    }
    free(offers), free(searches), free(riders), free(rider_offer), free(fresh);
    r->ok = !failed && !r->book_failures;
    if (r->book_failures)
        snprintf(r->error, sizeof r->error, "%d bookings or acceptances refused", r->book_failures);
    return r->ok ? 0 : -1;
}

/* ---------------------------------------------------------------- the machine */

/* Imports pbf with `covoit import` into path (without the place index, which nothing here asks), in *s seconds. */
static int import_graph(const char *pbf, const char *path, double *s)
{
    double t0 = bench_now();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        execl(BENCH_COVOIT, BENCH_COVOIT, "import", pbf, "-o", path, "--no-places", "--quiet", (char *)NULL);
        _exit(127);
    }
    int status = 1;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    *s = bench_now() - t0;
    return 0;
}

/* ---------------------------------------------------------------- the report */

static void print_tables(const engine_result *res, const int *run)
{
    bench_out("\nper operation, as the calling thread sees it: CPU time of the thread, wall time (ms), and the store's "
              "statements\n(PostgreSQL: round trips to the server, BEGIN and COMMIT included; SQLite: calls into the "
              "library)\n\n");
    bench_out("%-10s %-26s %5s | %8s %8s %8s | %8s %8s %8s | %5s %5s %6s\n", "engine", "operation", "n", "cpu p50",
              "cpu p95", "cpu mean", "wall p50", "wall p95", "wall mean", "st50", "stmax", "stmean");
    for (int e = 0; e < NENGINES; e++) {
        if (!run[e])
            continue;
        for (int k = 0; k < NOPS; k++) {
            const series *s = &res[e].op[k];
            if (!s->n)
                continue;
            summary c = summarize(s->cpu, s->n), w = summarize(s->wall, s->n), st = summarize(s->stmts, s->n);
            bench_out("%-10s %-26s %5d | %8.3f %8.3f %8.3f | %8.3f %8.3f %8.3f | %5.0f %5.0f %6.1f\n", engine_name[e],
                      op_name[k], s->n, c.p50, c.p95, c.mean, w.p50, w.p95, w.mean, st.p50, st.max, st.mean);
        }
    }
    if (!run[ENG_PG])
        return;
    const engine_result *r = &res[ENG_PG];
    bench_out("\nPostgreSQL server side: CPU of the backend serving the connection per operation (ms, "
              "/proc/PID/schedstat), and per phase\nthe CPU of all its processes (postmaster, backends, WAL writer, "
              "checkpointer, autovacuum...; the peer's syncs left out) and the WAL written, per operation\n\n");
    bench_out("%-26s %5s | %8s %8s %8s | %10s %10s | %9s\n", "operation", "n", "db p50", "db p95", "db mean",
              "all ms/op", "bg ms/op", "WAL B/op");
    for (int k = 0; k < NOPS; k++) {
        const series *s = &r->op[k];
        if (!s->n)
            continue;
        summary d = summarize(s->db, s->n);
        int ph = -1;
        for (int i = 0; i < NPHASES; i++)
            if (phase_op[i] == k)
                ph = i;
        if (ph >= 0 && r->ph[ph].ops) {
            const phase *x = &r->ph[ph];
            double all = (x->pg_all_s - x->pg_peer_s) * 1e3 / x->ops,
                   bg = (x->pg_all_s - x->pg_peer_s - x->pg_primary_s) * 1e3 / x->ops;
            bg = bg > 0 ? bg : 0; /* the readings are not taken at one instant */
            bench_out("%-26s %5d | %8.3f %8.3f %8.3f | %10.3f %10.3f | %9.0f\n", op_name[k], s->n, d.p50, d.p95, d.mean,
                      all, bg, x->wal_bytes / x->ops);
        } else {
            bench_out("%-26s %5d | %8.3f %8.3f %8.3f | %10s %10s | %9s\n", op_name[k], s->n, d.p50, d.p95, d.mean, "",
                      "", "");
        }
    }
    bench_out("\nPostgreSQL data after the run (pg_relation_size, pg_indexes_size, pg_total_relation_size):\n");
    bench_out("%-10s %8s %10s %10s %10s %8s\n", "table", "rows", "heap B", "index B", "total B", "B/row");
    for (int i = 0; i < NTABLES; i++) {
        const table_size *t = &r->tables[i];
        bench_out("%-10s %8lld %10lld %10lld %10lld %8.0f\n", t->name, t->rows, t->heap, t->indexes, t->total,
                  t->rows ? (double)t->total / (double)t->rows : 0);
    }
    bench_out("database: %lld bytes (pg_database_size)\n", r->db_bytes);
}

static void json_summary(FILE *f, const char *name, const double *v, int n, const char *tail)
{
    summary s = summarize(v, n);
    fprintf(f, "\"%s\": {\"p50\": %.4f, \"p95\": %.4f, \"mean\": %.4f, \"max\": %.4f}%s", name, s.p50, s.p95, s.mean,
            s.max, tail);
}

static int write_json(const char *path, const engine_result *res, const int *run, const config *c, const char *head)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "{\"benchmark\": \"cost\", %s,\n", head);
    fprintf(f,
            " \"setup\": {\"offers\": %d, \"requests\": %d, \"searches\": %d, \"bookings\": %d, \"publications\": "
            "%d, \"key_checks\": %d, \"seed\": %llu, \"hub_labels\": %s, \"max_results\": 100},\n",
            c->offers, c->requests, c->searches, c->bookings, c->publications, c->key_checks, (unsigned long long)SEED,
            LABELS ? "true" : "false");
    fprintf(f, " \"engines\": {");
    int first = 1;
    for (int e = 0; e < NENGINES; e++) {
        if (!run[e])
            continue;
        const engine_result *r = &res[e];
        fprintf(f, "%s\n  \"%s\": {\"ok\": %s, \"error\": \"%s\", \"server\": \"%s\", ", first ? "" : ",",
                engine_name[e], r->ok ? "true" : "false", r->error, r->server);
        first = 0;
        fprintf(f,
                "\"offers\": %d, \"requests\": %d, \"populate_s\": %.1f, \"add_failures\": %d, "
                "\"publish_failures\": %d, \"book_failures\": %d, \"search_redraws\": %d, \"booking_redraws\": %d, "
                "\"peer_load_s\": %.2f, \"matches_per_search\": %.2f, \"db_bytes\": %lld,\n",
                r->offers, r->requests, r->populate_s, r->add_failures, r->publish_failures, r->book_failures,
                r->search_redraws, r->booking_redraws, r->load_peer_s, r->matches_mean, r->db_bytes);
        fprintf(f, "   \"ops\": {");
        int f2 = 1;
        for (int k = 0; k < NOPS; k++) {
            const series *s = &r->op[k];
            if (!s->n)
                continue;
            fprintf(f, "%s\n    \"%s\": {\"n\": %d, ", f2 ? "" : ",", op_key[k], s->n);
            f2 = 0;
            json_summary(f, "thread_cpu_ms", s->cpu, s->n, ", ");
            json_summary(f, "wall_ms", s->wall, s->n, ", ");
            json_summary(f, "statements", s->stmts, s->n, e == ENG_PG ? ", " : "}");
            if (e == ENG_PG)
                json_summary(f, "db_backend_cpu_ms", s->db, s->n, "}");
        }
        fprintf(f, "},\n   \"phases\": {");
        for (int i = 0; i < NPHASES; i++) {
            const phase *x = &r->ph[i];
            fprintf(f,
                    "%s\n    \"%s\": {\"ops\": %d, \"seconds\": %.3f, \"db_all_cpu_s\": %.4f, \"db_peer_cpu_s\": "
                    "%.4f, \"db_backend_cpu_s\": %.4f, \"wal_bytes\": %.0f, \"other_processes_cores\": %.3f}",
                    i ? "," : "", phase_key[i], x->ops, x->seconds, x->pg_all_s, x->pg_peer_s, x->pg_primary_s,
                    x->wal_bytes, x->others_cores);
        }
        fprintf(f, "}");
        if (e == ENG_PG) {
            fprintf(f, ",\n   \"tables\": {");
            for (int i = 0; i < NTABLES; i++) {
                const table_size *t = &r->tables[i];
                fprintf(f, "%s\"%s\": {\"rows\": %lld, \"heap\": %lld, \"indexes\": %lld, \"total\": %lld}",
                        i ? ", " : "", t->name, t->rows, t->heap, t->indexes, t->total);
            }
            fprintf(f, "}");
        }
        fprintf(f, "}");
    }
    fprintf(f, "}}\n");
    return fclose(f);
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
    fprintf(stderr, "usage: bench_cost [--graph FILE | --pbf FILE] [--out FILE] [--offers N] [--requests N] "
                    "[--searches N] [--bookings N] [--publications N] [--key-checks N] "
                    "[--engines sqlite,postgresql] [--no-hub-labels] [--dir DIR] [--seed N]\n");
}

int main(int argc, char **argv)
{
    bench_name = "bench_cost";
    const char *graph_path = NULL, *pbf = NULL, *outp = "bench/results/cost.json", *engines = "sqlite,postgresql";
    config c = {10000, 10000, 2000, 500, 500, 2000, "/tmp"};
    int no_labels = 0;
    const bench_opt opts[] = {{"--graph", 's', &graph_path},
                              {"--pbf", 's', &pbf},
                              {"--out", 's', &outp},
                              {"--offers", 'i', &c.offers},
                              {"--requests", 'i', &c.requests},
                              {"--searches", 'i', &c.searches},
                              {"--bookings", 'i', &c.bookings},
                              {"--publications", 'i', &c.publications},
                              {"--key-checks", 'i', &c.key_checks},
                              {"--engines", 's', &engines},
                              {"--no-hub-labels", 'f', &no_labels},
                              {"--dir", 's', &c.dir},
                              {"--seed", 'u', &SEED},
                              {NULL, 0, NULL}};
    if (bench_options(argc, argv, opts) || c.offers < 10 || c.requests < 0 || c.searches < 2 || c.bookings < 1 ||
        c.bookings > c.offers || c.publications < 1 || c.key_checks < 1) {
        usage();
        return 2;
    }
    int run[NENGINES] = {strstr(engines, "sqlite") != NULL, strstr(engines, "postgres") != NULL};
    if (!run[0] && !run[1]) {
        usage();
        return 2;
    }
    bench_ours[0] = getpid();
    char commit[64];
    bench_commit(commit);
    cv_error err = {0};
    if (cv_tz_set("Europe/Lisbon", &err)) {
        bench_say("%s", err.text);
        return 1;
    }

    /* ---- the graph: a file given, or the extract imported with `covoit import` */
    double import_s = 0;
    if (!graph_path) {
        static const char *const cand[] = {"data/porto.osm.pbf", "../shared/data/porto.osm.pbf"};
        struct stat st;
        for (size_t i = 0; !pbf && i < sizeof cand / sizeof *cand; i++)
            if (!stat(cand[i], &st) && S_ISREG(st.st_mode))
                pbf = cand[i];
        if (!pbf) {
            bench_say("no data/porto.osm.pbf: run from the top of the repository, or give --graph or --pbf");
            return 1;
        }
        const char *out = bench_tmp(".cvg", 0, 0);
        bench_say("importing %s with %s", pbf, BENCH_COVOIT);
        if (import_graph(pbf, out, &import_s)) {
            bench_say("the import of %s failed", pbf);
            return 1;
        }
        graph_path = out;
    } else {
        pbf = NULL;
    }
    cv_graph *g = cv_graph_open(graph_path, &err);
    if (!g) {
        bench_say("%s", err.text);
        return 1;
    }
    G = g;
    double labels_s = 0;
    if (!no_labels) {
        /* as `covoit serve` does by default */
        bench_say("building hub labels");
        if (cv_hub_labels_build(g, 0, 0, NULL, &LABELS, &err)) {
            bench_say("%s", err.text);
            return 1;
        }
        labels_s = LABELS->build_s;
        bench_say("hub labels built in %.1f s, %.0f MB", labels_s, (double)cv_hub_labels_bytes(LABELS) / 1048576.0);
    }
    NOW = (int64_t)time(NULL);
    cv_day today;
    cv_utc_to_local(NOW, &today, NULL, NULL);
    DAY0 = today + 1;

    double fs50 = 0, fs95 = 0;
    if (bench_fsync_probe(c.dir, "bench_cost", 200, 0.95, &fs50, &fs95))
        bench_say("cannot probe fsync in %s", c.dir);
    double load0[3] = {0, 0, 0};
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (fscanf(lf, "%lf %lf %lf", &load0[0], &load0[1], &load0[2]) != 3)
            load0[0] = 0;
        fclose(lf);
    }

    engine_result res[NENGINES];
    memset(res, 0, sizeof res);
    int failed = 0;
    double t_all = bench_now();
    for (int e = 0; e < NENGINES; e++)
        if (run[e] && run_engine(e, &c, &res[e]))
            failed = 1;
    t_all = bench_now() - t_all;

    /* ---- the report */
    char day[32], cpu[128];
    time_t tnow = time(NULL);
    strftime(day, sizeof day, "%Y-%m-%d %H:%M UTC", gmtime(&tnow));
    bench_cpu_model(cpu, sizeof cpu);
    struct utsname un;
    uname(&un);
    bench_out("bench_cost: commit %s, %s, %.0f s\n", commit, day, t_all);
    bench_out("machine: %ld cores (%s), %s %s, load average %.2f %.2f %.2f at the start\n",
              sysconf(_SC_NPROCESSORS_ONLN), cpu, un.sysname, un.release, load0[0], load0[1], load0[2]);
    bench_out("graph: %s (%u nodes, %u edges)%s; hub labels %s\n", pbf ? pbf : graph_path, g->hdr.nnodes, g->hdr.nedges,
              pbf ? ", imported with covoit import" : "", LABELS ? "on (as covoit serve)" : "off");
    bench_out("trips: %d open offers and %d open requests (random ends >= 2 km apart, tomorrow or the day after, "
              "06:00-10:00 Lisbon time); searches half along an offer, half random (mean %.1f matches, 100 at most)\n",
              c.offers, c.requests, run[0] ? res[0].matches_mean : res[1].matches_mean);
    bench_out("disk under %s: one synced 4 KiB append (pwrite + fdatasync) p50 %.2f ms, p95 %.2f ms\n", c.dir, fs50,
              fs95);
    if (run[ENG_SQLITE])
        bench_out("sqlite: a file in %s, the store's default durability (offers and requests at synchronous=NORMAL, "
                  "bookings and acceptances FULL)\n",
                  c.dir);
    if (run[ENG_PG])
        bench_out("postgresql: %s; on 127.0.0.1 (TCP), data in /tmp\n", res[ENG_PG].server);
    print_tables(res, run);
    for (int e = 0; e < NENGINES; e++) {
        if (!run[e])
            continue;
        const engine_result *r = &res[e];
        double busy = 0;
        for (int i = 0; i < NPHASES; i++)
            busy = r->ph[i].others_cores > busy ? r->ph[i].others_cores : busy;
        bench_out("%s: %s; %.0f s to store the trips; other processes used up to %.2f cores during a phase%s\n",
                  engine_name[e], r->ok ? "ok" : r->error, r->populate_s, busy,
                  e == ENG_PG ? "" : " (wall times move with it)");
    }

    char head[1024];
    snprintf(head, sizeof head,
             "\"commit\": \"%s\", \"date\": \"%s\", \"total_s\": %.1f,\n \"machine\": {\"nproc\": %ld, \"cpu\": "
             "\"%s\", \"kernel\": \"%s %s\", \"load_at_start\": %.2f, \"fsync_4k_p50_ms\": %.3f, \"fsync_4k_p95_ms\": "
             "%.3f},\n \"graph\": {\"source\": \"%s\", \"nodes\": %u, \"edges\": %u, \"import_s\": %.2f, "
             "\"hub_labels_build_s\": %.2f}",
             commit, day, t_all, sysconf(_SC_NPROCESSORS_ONLN), cpu, un.sysname, un.release, load0[0], fs50, fs95,
             pbf ? pbf : "(graph file given)", g->hdr.nnodes, g->hdr.nedges, import_s, labels_s);
    if (write_json(outp, res, run, &c, head)) {
        bench_say("cannot write %s", outp);
        failed = 1;
    } else {
        bench_say("figures written to %s", outp);
    }
    for (int e = 0; e < NENGINES; e++)
        for (int k = 0; k < NOPS; k++)
            series_free(&res[e].op[k]);
    cv_hub_labels_free(LABELS);
    cv_graph_close(g);
    return failed ? 1 : 0;
}
