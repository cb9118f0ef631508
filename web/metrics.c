/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* metrics.c — the server's counters: lock-free (C11 atomics), by endpoint family (route, table, ..., v1_offers,
   other) and status, with a latency histogram per family, plus the carpool service's matches, bookings and
   database errors; rendered in Prometheus text format by GET /metrics. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "web/metrics.h"
#include "web/osrm_json.h"

enum {
    FAM_ROUTE,
    FAM_TABLE,
    FAM_NEAREST,
    FAM_HEALTH,
    FAM_METRICS,
    FAM_V1_OFFERS,
    FAM_V1_REQUESTS,
    FAM_V1_SEARCH,
    FAM_V1_BOOKINGS,
    FAM_OTHER,
    FAM_N
};
static const char *const fam_names[FAM_N] = {"route",     "table",       "nearest",   "health",      "metrics",
                                             "v1_offers", "v1_requests", "v1_search", "v1_bookings", "other"};
#define STATUS_MIN 100
#define STATUS_N 500 /* statuses 100 .. 599 */
static const double hist_le[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
#define HIST_N (sizeof hist_le / sizeof *hist_le)

struct web_metrics {
    atomic_uint_fast64_t requests[FAM_N][STATUS_N];
    atomic_uint_fast64_t hist[FAM_N][HIST_N + 1]; /* per bucket, not cumulative; the last one is beyond 2.5 s */
    atomic_uint_fast64_t sum_ns[FAM_N];
    atomic_uint_fast64_t matches, bookings[WEB_BOOK_N], db_errors;
};

static int family_of(const char *path)
{
    if (!strncmp(path, "/route/", 7))
        return FAM_ROUTE;
    if (!strncmp(path, "/table/", 7))
        return FAM_TABLE;
    if (!strncmp(path, "/nearest/", 9))
        return FAM_NEAREST;
    if (!strcmp(path, "/health"))
        return FAM_HEALTH;
    if (!strcmp(path, "/metrics"))
        return FAM_METRICS;
    if (!strncmp(path, "/v1/", 4)) {
        const char *t = path + 4;
        static const struct {
            const char *name;
            int fam;
        } v1[] = {{"offers", FAM_V1_OFFERS},
                  {"requests", FAM_V1_REQUESTS},
                  {"search", FAM_V1_SEARCH},
                  {"bookings", FAM_V1_BOOKINGS}};
        for (size_t i = 0; i < sizeof v1 / sizeof *v1; i++) {
            size_t n = strlen(v1[i].name);
            if (!strncmp(t, v1[i].name, n) && (t[n] == '\0' || t[n] == '/'))
                return v1[i].fam;
        }
    }
    return FAM_OTHER;
}

struct web_metrics *web_metrics_new(void)
{
    struct web_metrics *m = calloc(1, sizeof *m);
    return m;
}

void web_metrics_free(struct web_metrics *m)
{
    free(m);
}

void web_metrics_count(struct web_metrics *m, const char *path, int status, int64_t ns)
{
    int f = family_of(path);
    if (status >= STATUS_MIN && status < STATUS_MIN + STATUS_N)
        atomic_fetch_add_explicit(&m->requests[f][status - STATUS_MIN], 1, memory_order_relaxed);
    if (ns < 0)
        ns = 0;
    double sec = (double)ns / 1e9;
    size_t b = 0;
    while (b < HIST_N && sec > hist_le[b])
        b++;
    atomic_fetch_add_explicit(&m->hist[f][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sum_ns[f], (uint_fast64_t)ns, memory_order_relaxed);
}

void web_count_matches(web_req *r, size_t n)
{
    atomic_fetch_add_explicit(&r->metrics->matches, n, memory_order_relaxed);
}

void web_count_booking(web_req *r, web_booking_action a)
{
    if (a < WEB_BOOK_N)
        atomic_fetch_add_explicit(&r->metrics->bookings[a], 1, memory_order_relaxed);
}

void web_count_db_error(web_req *r)
{
    atomic_fetch_add_explicit(&r->metrics->db_errors, 1, memory_order_relaxed);
}

/* A growing text buffer; on allocation failure it stays failed (NULL). */
typedef struct tbuf {
    char *p;
    size_t len, cap;
    int failed;
} tbuf;

static void tb_printf(tbuf *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void tb_printf(tbuf *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if (t->p && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 16384;
        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        char *q = realloc(t->p, cap);
        if (!q) {
            free(t->p);
            t->p = NULL;
            t->failed = 1;
            return;
        }
        t->p = q, t->cap = cap;
    }
}

/* The workspace this thread could not make (its database out of reach) set an error answer: the scrape answers all
   the same, without the database's figures. */
static int unreachable(web_req *r)
{
    json_decref(r->body);
    r->body = NULL;
    return CV_EUNAVAILABLE;
}

int web_metrics_answer(web_req *r, const unsigned *open_conns, unsigned nworkers)
{
    if (r->nargs)
        return web_error(r, MHD_HTTP_BAD_REQUEST, osrm_word(OSRM_INVALID_QUERY), "/metrics takes no parameters");
    struct web_metrics *m = r->metrics;
    tbuf t = {0};
    int db_rc = 0;
    tb_printf(&t, "# HELP covoit_http_requests_total HTTP requests answered, by endpoint family and status.\n"
                  "# TYPE covoit_http_requests_total counter\n");
    for (int f = 0; f < FAM_N; f++)
        for (int i = 0; i < STATUS_N; i++) {
            uint_fast64_t v = atomic_load_explicit(&m->requests[f][i], memory_order_relaxed);
            if (v)
                tb_printf(&t, "covoit_http_requests_total{endpoint=\"%s\",status=\"%d\"} %llu\n", fam_names[f],
                          i + STATUS_MIN, (unsigned long long)v);
        }
    tb_printf(&t, "# HELP covoit_http_request_duration_seconds Time from the request's headers to its answer.\n"
                  "# TYPE covoit_http_request_duration_seconds histogram\n");
    for (int f = 0; f < FAM_N; f++) {
        uint64_t cum = 0;
        uint_fast64_t sum_ns = atomic_load_explicit(&m->sum_ns[f], memory_order_relaxed);
        for (size_t b = 0; b <= HIST_N; b++) {
            cum += atomic_load_explicit(&m->hist[f][b], memory_order_relaxed);
            if (b < HIST_N)
                tb_printf(&t, "covoit_http_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%g\"} %llu\n",
                          fam_names[f], hist_le[b], (unsigned long long)cum);
            else
                tb_printf(&t, "covoit_http_request_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} %llu\n",
                          fam_names[f], (unsigned long long)cum);
        }
        tb_printf(&t, "covoit_http_request_duration_seconds_sum{endpoint=\"%s\"} %.9f\n", fam_names[f],
                  (double)sum_ns / 1e9);
        tb_printf(&t, "covoit_http_request_duration_seconds_count{endpoint=\"%s\"} %llu\n", fam_names[f],
                  (unsigned long long)cum);
    }
    if (r->matcher) {
        cv_matcher_stats st;
        cv_matcher_get_stats(r->matcher, &st);
        tb_printf(&t,
                  "# HELP covoit_active_offers Open offers in the matcher's index.\n"
                  "# TYPE covoit_active_offers gauge\ncovoit_active_offers %zu\n"
                  "# HELP covoit_active_requests Open requests in the matcher's index.\n"
                  "# TYPE covoit_active_requests gauge\ncovoit_active_requests %zu\n",
                  st.offers, st.requests);
    }
    tb_printf(&t,
              "# HELP covoit_matches_served_total Matches returned by the match and search endpoints.\n"
              "# TYPE covoit_matches_served_total counter\ncovoit_matches_served_total %llu\n",
              (unsigned long long)atomic_load_explicit(&m->matches, memory_order_relaxed));
    static const char *const actions[WEB_BOOK_N] = {"create", "accept", "refuse", "cancel"};
    tb_printf(&t, "# HELP covoit_bookings_total Bookings created, accepted, refused and cancelled.\n"
                  "# TYPE covoit_bookings_total counter\n");
    for (int a = 0; a < WEB_BOOK_N; a++)
        tb_printf(&t, "covoit_bookings_total{action=\"%s\"} %llu\n", actions[a],
                  (unsigned long long)atomic_load_explicit(&m->bookings[a], memory_order_relaxed));
    if (r->matcher && r->operator_name) {
        /* the booking events owed to partners (partners.c): the outbox as the database holds it, shared by every
           server on it, and this process's delivery attempts */
        cv_outbox_stats ob;
        cv_error err = {0};
        cv_matcher_ws *w = web_matcher_ws(r);
        if (!w) { /* this thread could not open the database: said as such, not as a failed scrape */
            db_rc = unreachable(r);
            goto no_database;
        }
        if ((db_rc = cv_store_outbox_stats(cv_matcher_store(w), &ob, &err)) == CV_EUNAVAILABLE)
            goto no_database;
        if (db_rc) {
            free(t.p);
            return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_word(OSRM_ERROR), "%s", err.text);
        }
        uint64_t sent, failed, refused;
        web_outbox_figures(r, &sent, &failed, &refused);
        int64_t age = ob.oldest ? (int64_t)time(NULL) - ob.oldest : 0;
        tb_printf(&t,
                  "# HELP covoit_outbox_events Booking events owed to partners, by state (held: its partner is not "
                  "configured).\n# TYPE covoit_outbox_events gauge\n"
                  "covoit_outbox_events{state=\"waiting\"} %lld\ncovoit_outbox_events{state=\"held\"} %lld\n"
                  "covoit_outbox_events{state=\"delivered\"} %lld\ncovoit_outbox_events{state=\"refused\"} %lld\n"
                  "# HELP covoit_outbox_oldest_waiting_seconds Age of the oldest booking event not delivered yet.\n"
                  "# TYPE covoit_outbox_oldest_waiting_seconds gauge\ncovoit_outbox_oldest_waiting_seconds %lld\n"
                  "# HELP covoit_outbox_attempts_total Deliveries of booking events this process tried, by result.\n"
                  "# TYPE covoit_outbox_attempts_total counter\n"
                  "covoit_outbox_attempts_total{result=\"delivered\"} %llu\n"
                  "covoit_outbox_attempts_total{result=\"failed\"} %llu\n"
                  "covoit_outbox_attempts_total{result=\"refused\"} %llu\n",
                  (long long)ob.waiting, (long long)ob.held, (long long)ob.delivered, (long long)ob.refused,
                  (long long)(age > 0 ? age : 0), (unsigned long long)sent, (unsigned long long)failed,
                  (unsigned long long)refused);
    }
    if (r->matcher) {
        /* the carpool proofs owed to the register (proofs.c): as the database holds them, and this process's
           attempts */
        cv_proof_stats ps;
        cv_error err = {0};
        cv_matcher_ws *w = web_matcher_ws(r);
        if (!w) { /* this thread could not open the database: said as such, not as a failed scrape */
            db_rc = unreachable(r);
            goto no_database;
        }
        if ((db_rc = cv_store_proof_stats(cv_matcher_store(w), &ps, &err)) == CV_EUNAVAILABLE)
            goto no_database;
        if (db_rc) {
            free(t.p);
            return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_word(OSRM_ERROR), "%s", err.text);
        }
        uint64_t sent, failed, refused;
        web_proof_figures(r, &sent, &failed, &refused);
        int64_t age = ps.oldest ? (int64_t)time(NULL) - ps.oldest : 0;
        tb_printf(&t,
                  "# HELP covoit_proofs Carpool proofs, by state (waiting: owed to the register, or kept for an "
                  "export when none is configured).\n# TYPE covoit_proofs gauge\n"
                  "covoit_proofs{state=\"waiting\"} %lld\ncovoit_proofs{state=\"acknowledged\"} %lld\n"
                  "covoit_proofs{state=\"refused\"} %lld\n"
                  "# HELP covoit_proofs_oldest_waiting_seconds Age of the oldest carpool proof not acknowledged yet.\n"
                  "# TYPE covoit_proofs_oldest_waiting_seconds gauge\ncovoit_proofs_oldest_waiting_seconds %lld\n"
                  "# HELP covoit_proof_attempts_total Deliveries of carpool proofs this process tried, by result.\n"
                  "# TYPE covoit_proof_attempts_total counter\n"
                  "covoit_proof_attempts_total{result=\"acknowledged\"} %llu\n"
                  "covoit_proof_attempts_total{result=\"failed\"} %llu\n"
                  "covoit_proof_attempts_total{result=\"refused\"} %llu\n",
                  (long long)ps.waiting, (long long)ps.acknowledged, (long long)ps.refused,
                  (long long)(age > 0 ? age : 0), (unsigned long long)sent, (unsigned long long)failed,
                  (unsigned long long)refused);
    }
no_database:
    if (r->matcher) {
        /* whether the trip database answered just now (a failover under way: 0, and the figures it holds are left
           out), and how far this server's index has followed its change log (two servers on one database agree
           when theirs are equal) */
        tb_printf(&t,
                  "# HELP covoit_database_up Whether the trip database answered this scrape.\n"
                  "# TYPE covoit_database_up gauge\ncovoit_database_up %d\n"
                  "# HELP covoit_changes_applied The last entry of the database's change log this server's index "
                  "holds.\n# TYPE covoit_changes_applied gauge\ncovoit_changes_applied %lld\n",
                  db_rc != CV_EUNAVAILABLE, (long long)cv_matcher_seq(r->matcher));
    }
    tb_printf(&t, "# HELP covoit_open_connections Open HTTP connections, by worker thread.\n"
                  "# TYPE covoit_open_connections gauge\n");
    for (unsigned i = 0; i < nworkers; i++)
        tb_printf(&t, "covoit_open_connections{worker=\"%u\"} %u\n", i, open_conns[i]);
    tb_printf(&t,
              "# HELP covoit_database_errors_total Requests that failed on a database or internal error.\n"
              "# TYPE covoit_database_errors_total counter\ncovoit_database_errors_total %llu\n",
              (unsigned long long)atomic_load_explicit(&m->db_errors, memory_order_relaxed));
    if (t.failed)
        return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_word(OSRM_ERROR), "out of memory");
    r->text = t.p;
    r->content_type = "text/plain; version=0.0.4";
    r->status = MHD_HTTP_OK;
    return 0;
}
