/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* tier_support.h — what the server tiers share: failing loudly (and never leaving a server behind), the covoit
   binary as a child process (import, key, serve: started, killed with SIGKILL, stopped with SIGTERM), the trip
   database read directly with SQLite (a dump of every table, PRAGMA integrity_check), dates, and a seeded
   generator. The tiers are plain programs (not cmocka): they run threads, take their sizes from the command line
   and print the figures they measured. Needs COVOIT_BIN, COVOIT_TMP and COVOIT_TEST_DATA. */
#ifndef CV_TIER_SUPPORT_H
#define CV_TIER_SUPPORT_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tier_http.h"

/* --- failing --- */

/* The server child running now (0: none), killed when a tier fails or exits, so that none outlives it. */
static volatile pid_t tier_child;

static inline void tier_kill_child(void)
{
    pid_t p = tier_child;
    if (p > 0) {
        kill(p, SIGKILL);
        waitpid(p, NULL, 0);
        tier_child = 0;
    }
}

/* Prints "FAIL: ..." and ends the program (from any thread), killing the server first. */
static inline void tier_fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2), noreturn))
#endif
    ;

static inline void tier_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    fflush(NULL);
    tier_kill_child();
    _exit(1);
}

#define TIER_CHECK(cond, ...)                                                                                          \
    do {                                                                                                               \
        if (!(cond))                                                                                                   \
            tier_fail(__VA_ARGS__);                                                                                    \
    } while (0)

/* --- time and chance --- */

static inline double tier_now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static inline void tier_sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) && errno == EINTR)
        ;
}

/* xorshift64: the same sequence for a given seed (never 0). */
static inline uint64_t tier_rand(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* The UTC date days from today, as YYYY-MM-DD, and its weekday (0 Sunday). */
static inline int tier_date(int days, char out[16])
{
    time_t t = time(NULL) + (time_t)days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
    return tm.tm_wday;
}

/* --- the covoit binary --- */

/* Runs covoit with args (NULL-terminated, after the program name) to its end, stdout into out (cap bytes, may be
   NULL) and stderr into err_path; returns the exit status, or -1 when it did not exit normally. */
static inline int tier_run(const char *const *args, char *out, size_t cap, const char *err_path)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)COVOIT_BIN;
    for (int i = 0; args[i] && argc < 31; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    int p[2];
    if (pipe(p))
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the tier, even one killed by a ctest timeout */
        int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fe < 0 || dup2(p[1], 1) < 0 || dup2(fe, 2) < 0)
            _exit(127);
        close(p[0]);
        execv(COVOIT_BIN, argv);
        _exit(127);
    }
    close(p[1]);
    size_t len = 0;
    char sink[4096];
    for (;;) {
        char *to = out && len + 1 < cap ? out + len : sink;
        size_t room = out && len + 1 < cap ? cap - 1 - len : sizeof sink;
        ssize_t got = read(p[0], to, room);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (to != sink)
            len += (size_t)got;
    }
    close(p[0]);
    if (out)
        out[len] = '\0';
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Imports the Monaco extract with `covoit import` into path. */
static inline void tier_import(const char *path)
{
    char err[1100];
    snprintf(err, sizeof err, "%s.import.err", path);
    const char *args[] = {"import", COVOIT_TEST_DATA "/monaco.osm.pbf", "-o", path, NULL};
    int rc = tier_run(args, NULL, 0, err);
    TIER_CHECK(rc == 0, "covoit import exited with %d (stderr in %s)", rc, err);
}

/* Removes an SQLite database and its WAL and shared-memory files. */
static inline void tier_remove_db(const char *path)
{
    char side[1100];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

/* A running `covoit serve`. */
typedef struct tier_server {
    pid_t pid;
    int out; /* its stdout (a pipe) */
    uint16_t port;
    char err_path[1024]; /* its stderr */
} tier_server;

/* Starts covoit serve with args (after "serve"; give --listen 127.0.0.1:0) and waits for its "covoit serving
   ... on http://127.0.0.1:PORT/" line. Stderr goes to err_path (appended: a tier restarts its server). */
static inline tier_server tier_serve(const char *const *args, const char *err_path)
{
    tier_server s = {0};
    snprintf(s.err_path, sizeof s.err_path, "%s", err_path);
    char *argv[48];
    int argc = 0;
    argv[argc++] = (char *)COVOIT_BIN;
    argv[argc++] = (char *)"serve";
    for (int i = 0; args[i] && argc < 47; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    int p[2];
    TIER_CHECK(!pipe(p), "pipe: %s", strerror(errno));
    fflush(NULL);
    s.pid = fork();
    TIER_CHECK(s.pid >= 0, "fork: %s", strerror(errno));
    if (s.pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the tier, even one killed by a ctest timeout */
        int fe = open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fe < 0 || dup2(p[1], 1) < 0 || dup2(fe, 2) < 0)
            _exit(127);
        close(p[0]);
        execv(COVOIT_BIN, argv);
        _exit(127);
    }
    close(p[1]);
    s.out = p[0];
    tier_child = s.pid;
    char buf[8192];
    size_t len = 0;
    const char *at = NULL;
    while (!at) {
        struct pollfd pfd = {s.out, POLLIN, 0};
        int r = poll(&pfd, 1, 120000);
        ssize_t got = r > 0 ? read(s.out, buf + len, sizeof buf - 1 - len) : -1;
        if (got < 0 && errno == EINTR)
            continue;
        TIER_CHECK(got > 0, "covoit serve did not start; stdout: %.*s; stderr in %s", (int)len, buf, err_path);
        len += (size_t)got;
        buf[len] = '\0';
        const char *line = strstr(buf, "covoit serving ");
        at = line ? strstr(line, " on http://127.0.0.1:") : NULL;
        if (at && !strstr(at, "/ "))
            at = NULL; /* the line is not all in yet */
    }
    s.port = (uint16_t)atoi(at + strlen(" on http://127.0.0.1:"));
    TIER_CHECK(s.port > 0, "no port in: %s", buf);
    return s; /* stdout stays open until the server ends: it prints a few lines more at start, nothing after */
}

/* kill -9: no chance to finish anything. */
static inline void tier_kill9(tier_server *s)
{
    kill(s->pid, SIGKILL);
    int status = 0;
    while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
        ;
    TIER_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
               "the server ended before it was killed (status %d;"
               " stderr in %s)",
               status, s->err_path);
    tier_child = 0;
    s->pid = 0;
    close(s->out);
}

/* SIGTERM: the server must finish cleanly within a minute (exit status 0: under ASan, no leak either). */
static inline void tier_stop(tier_server *s)
{
    kill(s->pid, SIGTERM);
    int status = -1;
    for (int i = 0; i < 6000; i++) {
        pid_t w = waitpid(s->pid, &status, WNOHANG);
        if (w == s->pid)
            break;
        status = -1;
        tier_sleep_ms(10);
    }
    if (status == -1)
        tier_fail("the server did not stop within 60 s of SIGTERM (stderr in %s)", s->err_path);
    tier_child = 0;
    s->pid = 0;
    close(s->out);
    TIER_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
               "the server did not stop cleanly (status %d; stderr "
               "in %s)",
               status, s->err_path);
}

/* --- the database, read directly --- */

static inline sqlite3 *tier_db_open(const char *path, int readonly)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE, NULL);
    TIER_CHECK(rc == SQLITE_OK, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_busy_timeout(db, 10000);
    return db;
}

/* Appends text to a malloc'ed string. */
static inline void tier_append(char **s, size_t *len, size_t *cap, const char *text)
{
    size_t n = strlen(text);
    if (*len + n + 1 > *cap) {
        *cap = 2 * (*len + n + 1);
        *s = realloc(*s, *cap);
        TIER_CHECK(*s != NULL, "out of memory");
    }
    memcpy(*s + *len, text, n + 1);
    *len += n;
}

/* Every row of every table, in one read transaction, as text (malloc'ed): what "nothing changed" compares. */
static inline char *tier_db_dump(sqlite3 *db)
{
    char *out = NULL;
    size_t len = 0, cap = 0;
    tier_append(&out, &len, &cap, "");
    TIER_CHECK(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK, "BEGIN: %s", sqlite3_errmsg(db));
    sqlite3_stmt *tables;
    TIER_CHECK(sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", -1, &tables,
                                  NULL) == SQLITE_OK,
               "%s", sqlite3_errmsg(db));
    while (sqlite3_step(tables) == SQLITE_ROW) {
        char sql[256];
        const char *name = (const char *)sqlite3_column_text(tables, 0);
        snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" ORDER BY 1", name);
        tier_append(&out, &len, &cap, "[");
        tier_append(&out, &len, &cap, name);
        tier_append(&out, &len, &cap, "]\n");
        sqlite3_stmt *rows;
        TIER_CHECK(sqlite3_prepare_v2(db, sql, -1, &rows, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
        while (sqlite3_step(rows) == SQLITE_ROW) {
            for (int i = 0; i < sqlite3_column_count(rows); i++) {
                const char *v = (const char *)sqlite3_column_text(rows, i);
                tier_append(&out, &len, &cap, i ? "|" : "");
                tier_append(&out, &len, &cap, v ? v : "NULL");
            }
            tier_append(&out, &len, &cap, "\n");
        }
        sqlite3_finalize(rows);
    }
    sqlite3_finalize(tables);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    return out;
}

/* One integer from sql. */
static inline long long tier_db_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    TIER_CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
    TIER_CHECK(sqlite3_step(st) == SQLITE_ROW, "%s: no row", sql);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* PRAGMA integrity_check and foreign_key_check of the database at path (no server on it): fails unless "ok" and
   no dangling reference. */
static inline void tier_db_check(const char *path)
{
    sqlite3 *db = tier_db_open(path, 0);
    sqlite3_stmt *st;
    TIER_CHECK(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
    int rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        TIER_CHECK(rows == 0 && v && !strcmp(v, "ok"), "PRAGMA integrity_check of %s: %s", path, v ? v : "NULL");
        rows++;
    }
    sqlite3_finalize(st);
    TIER_CHECK(rows == 1, "PRAGMA integrity_check of %s gave %d rows", path, rows);
    TIER_CHECK(sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL) == SQLITE_OK, "%s",
               sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW)
        tier_fail("PRAGMA foreign_key_check of %s: table %s row %lld refers to a missing %s", path,
                  (const char *)sqlite3_column_text(st, 0), (long long)sqlite3_column_int64(st, 1),
                  (const char *)sqlite3_column_text(st, 2));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* What every tier does first: no SIGPIPE from a server that went away, and the children in UTC (the trip database
   records the zone it was made in: a `covoit key add` in another zone would make `serve --tz UTC` refuse it). */
static inline void tier_init(void)
{
    signal(SIGPIPE, SIG_IGN);
    setenv("COVOIT_TZ", "UTC", 1);
}

/* --- options --- */

/* The stem of the tier's files in COVOIT_TMP (graph, database, logs): --name NAME, else dflt; two runs of one tier
   at once (its short and long forms under ctest -j) need two. */
static char tier_stem[64];

static inline void tier_set_stem(int argc, char **argv, const char *dflt)
{
    snprintf(tier_stem, sizeof tier_stem, "%s", dflt);
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--name"))
            snprintf(tier_stem, sizeof tier_stem, "%s", argv[i + 1]);
}

/* COVOIT_TMP/STEM followed by suffix. */
static inline void tier_file(const char *suffix, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s%s", COVOIT_TMP, tier_stem, suffix);
}

/* "--name VALUE" in argv as a whole number, or dflt. */
static inline long tier_opt(int argc, char **argv, const char *name, long dflt)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name)) {
            char *end;
            long v = strtol(argv[i + 1], &end, 10);
            TIER_CHECK(*argv[i + 1] && !*end, "%s: not a whole number: %s", name, argv[i + 1]);
            return v;
        }
    return dflt;
}

/* A seed from --seed, else from the clock; printed so that a failing run can be replayed. */
static inline uint64_t tier_seed(int argc, char **argv)
{
    long s = tier_opt(argc, argv, "--seed", 0);
    uint64_t seed = s ? (uint64_t)s : ((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20)) & 0x7fffffff;
    if (!seed)
        seed = 1;
    printf("seed %llu (replay with --seed %llu)\n", (unsigned long long)seed, (unsigned long long)seed);
    return seed;
}

#endif
