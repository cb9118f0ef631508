/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_http_feed.c — every process sees every write: a real server on 127.0.0.1 port 0 (its matcher following the
   store's change log) answers searches under load while the covoit CLI, another process on the same database,
   adds offers and requests, books, accepts and cancels. After each of those writes the server's answers must equal,
   within a second, those of a matcher freshly opened on the database; and so again after the server restarts, with
   no change missed or applied twice (its position in the log, its index's size, its answers). */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "http_client.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "matcher/matcher.h"
#include "web/server.h"
#include "test_support.h"
#include "db_target.h"
#include "matcher/timeutil.h"
#include "web/trip_json.h"

#define GRAPH_NAME "http_feed_monaco.cvg"
#define DB COVOIT_TMP "/http_feed.db"
#define OUT_FILE COVOIT_TMP "/http_feed.out"
#define ERR_FILE COVOIT_TMP "/http_feed.err"

static cv_graph *graph;
static char graph_path[1024];
static cv_matcher *matcher;
static cv_server *server;
static uint16_t port;
static char depart[8][32]; /* departures the day after tomorrow, UTC, a few minutes apart */
static json_int_t offers[8], requests[8];
static int noffers, nrequests;

/* The places: offers from the casino to Fontvieille; requests along the way (points of the route, set up). */
#define CASINO "7.4275,43.7396"
#define FONTVIEILLE "7.4160,43.7290"
static char req_from[3][48], req_to[3][48], probe_from[48], probe_to[48];

/* --- the server and the "fresh server" it is compared with --- */

static void start_server(void)
{
    cv_error err = {0};
    cv_matcher_options mo = cv_matcher_defaults();
    mo.follow_ms = 100;
    if (cv_matcher_open(graph, tst_db(DB), &mo, (int64_t)time(NULL), &matcher, &err))
        fail_msg("%s", err.text);
    cv_server_options o = cv_server_defaults();
    o.port = 0;
    o.threads = 4;
    o.quiet = 1;
    o.matcher = matcher;
    server = cv_server_start(graph, &o, &err);
    if (!server)
        fail_msg("%s", err.text);
    port = cv_server_port(server);
}

static void stop_server(void)
{
    cv_server_stop(server);
    cv_matcher_close(matcher);
    server = NULL;
    matcher = NULL;
}

/* The answers a server freshly started on the database would give: a new matcher on it, asked the same. */
typedef struct answers {
    json_t *by_request; /* {request id: [[offer_id, detour duration, pickup time]...]} */
    json_t *search;     /* the same for the search probe */
    size_t offers, requests;
} answers;

static json_t *digest(json_t *matches)
{
    json_t *d = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(matches, i, m)
    {
        json_array_append_new(d, json_pack("[O,O,O]", json_object_get(m, "offer_id"),
                                           json_object_get(json_object_get(m, "detour"), "duration"),
                                           json_object_get(json_object_get(m, "pickup"), "time")));
    }
    return d;
}

static void answers_free(answers *a)
{
    json_decref(a->by_request);
    json_decref(a->search);
    memset(a, 0, sizeof *a);
}

static cv_request probe(void)
{
    cv_request r;
    memset(&r, 0, sizeof r);
    snprintf(r.owner, sizeof r.owner, "probe");
    double a, b, c, d;
    assert_int_equal(sscanf(probe_from, "%lf,%lf", &a, &b), 2);
    assert_int_equal(sscanf(probe_to, "%lf,%lf", &c, &d), 2);
    r.from = (cv_coord){cv_fixed(a), cv_fixed(b)};
    r.to = (cv_coord){cv_fixed(c), cv_fixed(d)};
    cv_error err;
    assert_int_equal(cv_parse_datetime(depart[2], &r.when.depart, &err), 0);
    r.when.kind = CV_PUNCTUAL;
    r.when.margin_s = 30 * 60;
    r.seats = 1;
    return r;
}

static answers fresh(void)
{
    answers a = {json_object(), NULL, 0, 0};
    cv_error err = {0};
    cv_matcher *m;
    cv_matcher_options mo = cv_matcher_defaults();
    int64_t now = (int64_t)time(NULL);
    if (cv_matcher_open(graph, tst_db(DB), &mo, now, &m, &err))
        fail_msg("%s", err.text);
    cv_matcher_ws *w = cv_matcher_ws_new(m, &err);
    assert_non_null(w);
    for (int i = 0; i < nrequests; i++) {
        cv_match *ms;
        size_t n;
        assert_int_equal(cv_matcher_request_matches(w, requests[i], now, 100, &ms, &n, &err), 0);
        char key[24];
        snprintf(key, sizeof key, "%lld", (long long)requests[i]);
        json_t *list = trip_json_matches(ms, n);
        json_object_set_new(a.by_request, key, digest(list));
        json_decref(list);
        free(ms);
    }
    cv_request r = probe();
    cv_match *ms;
    size_t n;
    assert_int_equal(cv_matcher_search(w, &r, now, 100, &ms, &n, &err), 0);
    json_t *list = trip_json_matches(ms, n);
    a.search = digest(list);
    json_decref(list);
    free(ms);
    cv_matcher_stats st;
    cv_matcher_get_stats(m, &st);
    a.offers = st.offers;
    a.requests = st.requests;
    cv_matcher_ws_free(w);
    cv_matcher_close(m);
    return a;
}

/* The same questions to the server, over HTTP. */
static answers served(void)
{
    answers a = {json_object(), NULL, 0, 0};
    for (int i = 0; i < nrequests; i++) {
        char path[96];
        snprintf(path, sizeof path, "/v1/requests/%lld/matches?limit=100", (long long)requests[i]);
        reply r = http_request(port, "GET", path, NULL, NULL, 0);
        assert_int_equal(r.status, 200);
        char key[24];
        snprintf(key, sizeof key, "%lld", (long long)requests[i]);
        json_object_set_new(a.by_request, key, digest(json_object_get(r.json, "matches")));
        reply_free(&r);
    }
    char body[512];
    snprintf(body, sizeof body, "{\"from\":[%s],\"to\":[%s],\"depart\":\"%s\",\"margin_min\":30,\"owner\":\"probe\"}",
             probe_from, probe_to, depart[2]);
    reply r = http_request(port, "POST", "/v1/search?limit=100", NULL, body, strlen(body));
    assert_int_equal(r.status, 200);
    a.search = digest(json_object_get(r.json, "matches"));
    reply_free(&r);
    cv_matcher_stats st;
    cv_matcher_get_stats(matcher, &st);
    a.offers = st.offers;
    a.requests = st.requests;
    return a;
}

static int same(const answers *x, const answers *y)
{
    return json_equal(x->by_request, y->by_request) && json_equal(x->search, y->search) && x->offers == y->offers &&
           x->requests == y->requests;
}

/* Waits until the server answers as a fresh one does; fails after a second. Returns the milliseconds it took. */
static double converges(const char *after)
{
    answers want = fresh();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        answers got = served();
        int ok = same(&got, &want);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        if (ok) {
            answers_free(&got);
            answers_free(&want);
            return ms;
        }
        if (ms > 1000) {
            char *g = json_dumps(got.by_request, JSON_COMPACT | JSON_SORT_KEYS);
            char *w = json_dumps(want.by_request, JSON_COMPACT | JSON_SORT_KEYS);
            fail_msg("after %s: the server still answers differently from a fresh one after %.0f ms: server %s "
                     "(%zu offers, %zu requests), fresh %s (%zu offers, %zu requests)",
                     after, ms, g, got.offers, got.requests, w, want.offers, want.requests);
        }
        answers_free(&got);
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
}

/* --- the CLI, another process on the same database --- */

static char out_buf[1 << 16];

/* Runs covoit with args (then --graph, --db), expects exit 0 and {"code":"Ok"}; returns the document. */
static json_t *cli(const char *first, ...)
{
    const char *argv[40];
    int argc = 0;
    argv[argc++] = COVOIT_BIN;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 34; a = va_arg(ap, const char *))
        argv[argc++] = a;
    va_end(ap);
    argv[argc++] = "--graph";
    argv[argc++] = graph_path;
    argv[argc++] = "--db";
    argv[argc++] = tst_db(DB);
    argv[argc] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fo = open(OUT_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644),
            fe = open(ERR_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
            _exit(127);
        execv(COVOIT_BIN, (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    FILE *f = fopen(OUT_FILE, "r");
    size_t n = f ? fread(out_buf, 1, sizeof out_buf - 1, f) : 0;
    out_buf[n] = '\0';
    if (f)
        fclose(f);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("covoit %s ...: status %d: %s", first, status, out_buf);
    json_t *doc = json_loads(out_buf, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "code")), "Ok");
    return doc;
}

static json_int_t cli_id(json_t *doc, const char *key)
{
    json_int_t id = json_integer_value(json_object_get(json_object_get(doc, key), "id"));
    json_decref(doc);
    assert_true(id > 0);
    return id;
}

/* --- load: searches all along --- */

static atomic_int loading;
static atomic_long searched, search_errors;

static void *searcher(void *arg)
{
    (void)arg;
    char body[512];
    snprintf(body, sizeof body, "{\"from\":[%s],\"to\":[%s],\"depart\":\"%s\",\"margin_min\":30,\"owner\":\"load\"}",
             probe_from, probe_to, depart[3]);
    while (atomic_load(&loading)) {
        reply r = http_request(port, "POST", "/v1/search?limit=10", NULL, body, strlen(body));
        if (r.status == 200)
            atomic_fetch_add(&searched, 1);
        else
            atomic_fetch_add(&search_errors, 1);
        reply_free(&r);
    }
    return NULL;
}

/* --- set-up --- */

static int setup(void **state)
{
    (void)state;
    graph = tst_build_graph(COVOIT_TEST_DATA "/monaco.osm.pbf", GRAPH_NAME);
    if (!graph)
        return -1;
    snprintf(graph_path, sizeof graph_path, "%s/%s", COVOIT_TMP, GRAPH_NAME);
    tst_db_remove(DB);
    time_t t = time(NULL) + 2 * 86400;
    t -= t % 86400;
    for (int i = 0; i < 8; i++) {
        time_t d = t + 8 * 3600 + i * 5 * 60;
        struct tm tm;
        gmtime_r(&d, &tm);
        strftime(depart[i], sizeof depart[i], "%Y-%m-%dT%H:%M:00Z", &tm);
    }
    start_server();
    /* points along the offers' own route, as the server routes it */
    reply r =
        http_request(port, "GET", "/route/v1/driving/" CASINO ";" FONTVIEILLE "?geometries=geojson", NULL, NULL, 0);
    json_t *coords = json_object_get(json_object_get(json_array_get(json_object_get(r.json, "routes"), 0), "geometry"),
                                     "coordinates");
    size_t n = json_array_size(coords);
    if (r.status != 200 || n < 10)
        return -1;
    for (int i = 0; i < 4; i++) {
        json_t *p = json_array_get(coords, n * (size_t)(2 + i) / 10),
               *q = json_array_get(coords, n * (size_t)(6 + i) / 10);
        char *f = i < 3 ? req_from[i] : probe_from, *t = i < 3 ? req_to[i] : probe_to;
        snprintf(f, 48, "%.6f,%.6f", json_number_value(json_array_get(p, 0)), json_number_value(json_array_get(p, 1)));
        snprintf(t, 48, "%.6f,%.6f", json_number_value(json_array_get(q, 0)), json_number_value(json_array_get(q, 1)));
    }
    reply_free(&r);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (server)
        stop_server();
    cv_graph_close(graph);
    return 0;
}

/* --- the test --- */

static void test_cli_writes_reach_the_server(void **state)
{
    (void)state;
    atomic_store(&loading, 1);
    pthread_t load[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&load[i], NULL, searcher, NULL);
    double worst = 0, ms;
#define STEP(what)                                                                                                     \
    do {                                                                                                               \
        ms = converges(what);                                                                                          \
        if (ms > worst)                                                                                                \
            worst = ms;                                                                                                \
    } while (0)

    for (int i = 0; i < 3; i++) {
        offers[noffers++] = cli_id(cli("offer", "add", "--from", CASINO, "--to", FONTVIEILLE, "--depart", depart[i + 1],
                                       "--seats", "2", "--margin", "30", "--owner", "feed-driver", (const char *)NULL),
                                   "offer");
        STEP("offer add");
    }
    for (int i = 0; i < 3; i++) {
        requests[nrequests++] =
            cli_id(cli("request", "add", "--from", req_from[i], "--to", req_to[i], "--depart", depart[i + 2],
                       "--margin", "30", "--owner", "feed-rider", (const char *)NULL),
                   "request");
        STEP("request add");
    }
    /* every request matches some offer: the comparison is about something */
    answers a = served();
    size_t matched = 0;
    const char *key;
    json_t *v;
    json_object_foreach(a.by_request, key, v) matched += json_array_size(v) > 0;
    answers_free(&a);
    assert_true(matched >= 2);

    /* book, accept (the offer's plan changes), cancel an offer, cancel a request */
    char o0[24], r0[24], r1[24];
    snprintf(o0, sizeof o0, "%lld", (long long)offers[0]);
    snprintf(r0, sizeof r0, "%lld", (long long)requests[0]);
    snprintf(r1, sizeof r1, "%lld", (long long)requests[1]);
    json_t *doc = cli("book", o0, r0, (const char *)NULL);
    json_int_t b = cli_id(doc, "booking");
    char bs[24];
    snprintf(bs, sizeof bs, "%lld", (long long)b);
    json_decref(cli("booking", "accept", bs, (const char *)NULL));
    STEP("booking accept");
    json_decref(cli("booking", "cancel", bs, (const char *)NULL));
    STEP("booking cancel");
    snprintf(o0, sizeof o0, "%lld", (long long)offers[1]);
    json_decref(cli("offer", "cancel", o0, (const char *)NULL));
    STEP("offer cancel");
    json_decref(cli("request", "cancel", r1, (const char *)NULL));
    STEP("request cancel");

    /* a restart: the new server starts where the log is, and follows from there */
    cv_matcher_stats before;
    cv_matcher_get_stats(matcher, &before);
    int64_t seq = cv_matcher_seq(matcher);
    atomic_store(&loading, 0);
    for (int i = 0; i < 3; i++)
        pthread_join(load[i], NULL);
    stop_server();
    start_server();
    assert_int_equal(cv_matcher_seq(matcher), seq); /* nothing missed, nothing to apply twice */
    cv_matcher_stats after;
    cv_matcher_get_stats(matcher, &after);
    assert_int_equal(after.offers, before.offers);
    assert_int_equal(after.requests, before.requests);
    STEP("restart");
    atomic_store(&loading, 1);
    for (int i = 0; i < 3; i++)
        pthread_create(&load[i], NULL, searcher, NULL);
    offers[noffers++] = cli_id(cli("offer", "add", "--from", CASINO, "--to", FONTVIEILLE, "--depart", depart[3],
                                   "--owner", "after-restart", (const char *)NULL),
                               "offer");
    STEP("offer add after the restart");
    char r2[24], o3[24];
    snprintf(r2, sizeof r2, "%lld", (long long)requests[2]);
    snprintf(o3, sizeof o3, "%lld", (long long)offers[noffers - 1]);
    b = cli_id(cli("book", o3, r2, (const char *)NULL), "booking");
    snprintf(bs, sizeof bs, "%lld", (long long)b);
    json_decref(cli("booking", "accept", bs, (const char *)NULL));
    STEP("booking accept after the restart");
    atomic_store(&loading, 0);
    for (int i = 0; i < 3; i++)
        pthread_join(load[i], NULL);
    /* the server's position is the log's last entry */
    cv_error err = {0};
    cv_matcher_ws *w = cv_matcher_ws_new(matcher, &err);
    assert_non_null(w);
    cv_change *none = NULL;
    size_t nn = 0;
    int64_t last = 0;
    assert_int_equal(cv_store_changes(cv_matcher_store(w), 0, 0, &none, &nn, NULL, &last, &err), 0);
    free(none);
    cv_matcher_ws_free(w);
    assert_true(last > seq);
    for (int i = 0; i < 50 && cv_matcher_seq(matcher) != last; i++) {
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(cv_matcher_seq(matcher), last);
    printf("feed: %ld searches under load (%ld failed), slowest change seen by the server after %.0f ms\n",
           (long)atomic_load(&searched), (long)atomic_load(&search_errors), worst);
    assert_int_equal(atomic_load(&search_errors), 0);
#undef STEP
}

static long long count_offers(void)
{
    if (tst_db_is_pg()) {
        cv_db *db = NULL;
        cv_db_stmt *st = NULL;
        cv_error err = {0};
        if (cv_db_open(tst_db(DB), &db, &err) || cv_db_prepare(db, "SELECT count(*) FROM offers", &st, &err) ||
            cv_db_step(st, &err) != CV_DB_ROW)
            fail_msg("%s", err.text);
        long long n = (long long)cv_db_column_int64(st, 0);
        cv_db_finalize(st);
        cv_db_close(db);
        return n;
    }
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(DB, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM offers", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* Another process (here another connection: SQLite's locks are the same) holds the database's write lock for
   longer than the busy timeout (5 s): a write is answered 503 Busy with Retry-After: 1 and writes nothing, reads
   go on (WAL), and once the lock is let go the same write is stored. On PostgreSQL the other connection's
   transaction holds the offers table locked against writes (as an administrator's or a migration's may), longer
   than the store waits for a lock (also 5 s), and the answer is the same. */
static void test_database_locked_elsewhere(void **state)
{
    (void)state;
    long long before = count_offers();
    sqlite3 *other = NULL;
    cv_db *other_pg = NULL;
    if (tst_db_is_pg()) {
        cv_error err = {0};
        if (cv_db_open(tst_db(DB), &other_pg, &err) || cv_db_exec(other_pg, "BEGIN", &err) ||
            cv_db_exec(other_pg, "LOCK TABLE offers IN EXCLUSIVE MODE", &err))
            fail_msg("%s", err.text);
    } else {
        assert_int_equal(sqlite3_open(DB, &other), SQLITE_OK);
        assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    }
    char body[512];
    int n = snprintf(body, sizeof body,
                     "{\"from\":[7.4275,43.7396],\"to\":[7.4160,43.7290],\"depart\":\"%s\",\"seats\":2,"
                     "\"owner\":\"locked-driver\"}",
                     depart[1]);
    reply list = http_request(port, "GET", "/v1/offers?owner=feed-driver", NULL, NULL, 0);
    assert_int_equal(list.status, 200);
    reply_free(&list);
    double t0 = http_now_ms();
    reply r = http_request(port, "POST", "/v1/offers", NULL, body, (size_t)n);
    double waited = http_now_ms() - t0;
    if (r.status != 503)
        fail_msg("a write under another's lock: %d %s", r.status, r.body ? r.body : "");
    assert_non_null(r.json);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), "Busy");
    assert_non_null(strstr(r.raw, "\r\nRetry-After: 1\r\n"));
    assert_true(waited >= 4500); /* it waited for the lock the whole busy timeout */
    reply_free(&r);
    if (tst_db_is_pg()) {
        cv_error err = {0};
        assert_int_equal(cv_db_exec(other_pg, "ROLLBACK", &err), 0);
        cv_db_close(other_pg);
    } else {
        assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(other);
    }
    assert_int_equal(count_offers(), before);
    r = http_request(port, "POST", "/v1/offers", NULL, body, (size_t)n);
    if (r.status != 201)
        fail_msg("the same write once the lock is gone: %d %s", r.status, r.body ? r.body : "");
    reply_free(&r);
    assert_int_equal(count_offers(), before + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_writes_reach_the_server),
        cmocka_unit_test(test_database_locked_elsewhere),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
