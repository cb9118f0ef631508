/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* server.c — the HTTP server's glue to libmicrohttpd: start and stop, the daemons' callbacks that carry a request
   from its line to its end (with the refusals answered before any handler runs), the router table (method + path
   prefix → handler) and the per-thread routing and matcher workspaces. The rooms it joins: acceptor.c
   (connections), auth.c and ratelimit.c (API keys), metrics.c, access_log.c (log lines) and response.c (every
   answer). */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "web/web_int.h"
#include "web/acceptor.h"
#include "web/access_log.h"
#include "web/auth.h"
#include "web/metrics.h"
#include "web/ratelimit.h"
#include "web/response.h"
#include "web/osrm_json.h"
#include "web/partners.h"
#include "web/proofs.h"

/* A routing or a matcher workspace made for one worker thread, kept here so that stop frees them all. */
typedef struct ws_slot {
    cv_ch_query *q; /* one of the two, the other NULL */
    cv_matcher_ws *w;
    struct ws_slot *next;
} ws_slot;

struct cv_server {
    /* One libmicrohttpd daemon per worker thread, each with its own polling thread and no listening socket: the
       acceptor (acceptor.c) takes every connection and gives it to the daemon with the fewest open connections. */
    struct MHD_Daemon **d;
    unsigned nd;
    web_acceptor *acc;
    atomic_int stopping;
    const cv_graph *g;
    cv_server_options o;
    uint64_t serial; /* tells this server's thread-local workspaces from an earlier server's */
    uint16_t port;
    atomic_uint_fast64_t next_id;
    atomic_long inflight;       /* requests begun (request line in) and not yet completed */
    struct req_state **pending; /* per daemon, touched by its thread only: requests whose headers no handler saw */
    pthread_mutex_t mu;         /* guards slots */
    pthread_mutex_t places_mu;  /* one query of the place index at a time (its statements are shared) */
    pthread_mutex_t tiles_mu;   /* one read of the tiles at a time, likewise */
    web_feed_cache gtfs;        /* /feeds/gtfs.zip, made when the trips change */
    web_feed_cache siri;        /* /feeds/siri-et.xml, likewise, and each minute */
    ws_slot *slots;
    int auth;           /* keys required (the database held an active key at start) */
    web_ratelimit rate; /* per key client and per address, when auth */
    struct web_metrics *metrics;
    web_outbox *outbox; /* delivers the booking events partners are owed, when the server has a matcher and an
                           operator name */
    web_proofs *proofs; /* sends carpool proofs to the register, when the server has a matcher and a proof_url */
};

/* The calling worker thread's workspace. MHD's pool threads live exactly as long as their daemon, so the pointer
   never outlives the server that made it; the serial guards against a later server at the same address. */
static _Thread_local struct {
    uint64_t serial;
    cv_ch_query *q;
} tl_query;

static _Thread_local struct {
    uint64_t serial;
    cv_matcher_ws *w;
} tl_matcher;

static atomic_uint_fast64_t server_serials = 1;

#define MAX_THREADS 1024 /* worker threads at most (cv_server_options.threads) */

cv_server_options cv_server_defaults(void)
{
    cv_server_options o = {0};
    o.address = "127.0.0.1";
    o.port = 8080;
    o.threads = 0;
    o.connection_limit = 1024;
    o.per_ip_limit = 64;
    o.timeout_s = 30;
    o.request_timeout_s = 30;
    o.max_body = 64 * 1024;
    o.max_route_coords = 100;
    o.max_table_coords = 1000;
    o.stop_grace_ms = 10000;
    return o;
}

static int answer_mhd_error(cv_server *s, unsigned status);
static _Thread_local int tl_closed_after_raw;

/* libmicrohttpd's own messages (bind failures, dropped connections) go through the same logger. The error answers
   it writes itself carry an HTML page, which is left out of the line; those it would write twice are answered in
   JSON instead (answer_mhd_error), and their requests logged like any other. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    static const char err[] = "Error processing request (HTTP response code is ";
    static const char app_err[] = "Application reported internal error";
    if (tl_closed_after_raw && !strncmp(msg, app_err, sizeof app_err - 1)) {
        tl_closed_after_raw = 0;
        return; /* on_request answered and ended the connection itself */
    }
    if (!strncmp(msg, err, sizeof err - 1)) {
        if (answer_mhd_error(cls, (unsigned)strtoul(msg + sizeof err - 1, NULL, 10)))
            return;
        char *page = strstr(msg, " ('");
        if (page)
            snprintf(page, sizeof msg - (size_t)(page - msg), "). Closing connection.");
    }
    cv_log("warn", "mhd: %s", msg);
}

const char *web_arg(const web_req *r, const char *key)
{
    for (size_t i = 0; i < r->nargs; i++)
        if (!strcmp(r->arg_key[i], key))
            return r->arg_val[i];
    return NULL;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    web_req *r = cls;
    if (r->nargs == WEB_MAX_ARGS) {
        r->too_many_args = 1;
        return MHD_NO;
    }
    r->arg_key[r->nargs] = key;
    r->arg_val[r->nargs++] = value ? value : "";
    return MHD_YES;
}

/* --- routing workspaces --- */

/* Keeps a new workspace, q or w, for stop to free. Returns 0, or -1 when out of memory (the caller frees it). */
static int keep_ws(cv_server *s, cv_ch_query *q, cv_matcher_ws *w)
{
    ws_slot *slot = malloc(sizeof *slot);
    if (!slot)
        return -1;
    slot->q = q;
    slot->w = w;
    pthread_mutex_lock(&s->mu);
    slot->next = s->slots;
    s->slots = slot;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static cv_ch_query *thread_query(cv_server *s)
{
    if (tl_query.serial == s->serial)
        return tl_query.q;
    cv_ch_query *q = cv_ch_query_new(s->g);
    if (q && ((s->o.labels && cv_ch_use_labels(q, s->o.labels)) || keep_ws(s, q, NULL))) {
        cv_ch_query_free(q);
        return NULL;
    }
    if (q) {
        tl_query.serial = s->serial;
        tl_query.q = q;
    }
    return q;
}

cv_matcher_ws *web_matcher_ws(web_req *r)
{
    cv_server *s = r->server;
    if (!s->o.matcher) {
        web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, osrm_word(OSRM_UNAVAILABLE),
                  "the carpool API is not available: this server runs without a trip database (--db)");
        return NULL;
    }
    if (tl_matcher.serial == s->serial)
        return tl_matcher.w;
    cv_error err = {0};
    cv_matcher_ws *w = cv_matcher_ws_new(s->o.matcher, &err);
    if (w && keep_ws(s, NULL, w)) {
        cv_matcher_ws_free(w);
        w = NULL;
        cv_fail(&err, CV_ENOMEM, "out of memory");
    }
    if (!w) {
        cv_log("error", "cannot make a matcher workspace: %s", err.text);
        web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_code(err.code), "cannot open the trip database");
        return NULL;
    }
    tl_matcher.serial = s->serial;
    tl_matcher.w = w;
    return w;
}

/* --- the router --- */

typedef struct web_route_entry {
    const char *method;
    const char *prefix;
    int exact; /* 1: the path must equal prefix; 0: prefix, the rest goes to the handler */
               /* method "*": every method, the handler checks it */
    int (*handler)(web_req *r);
    unsigned scope; /* the key scope it needs (0: the handler checks) */
} web_route_entry;

static const web_route_entry routes[] = {
    {"GET", "/route/v1/", 0, web_route, CV_SCOPE_ROUTING},
    {"GET", "/table/v1/", 0, web_table, CV_SCOPE_ROUTING},
    {"GET", "/nearest/v1/", 0, web_nearest, CV_SCOPE_ROUTING},
    {"GET", "/health", 1, web_health, 0},
    {"GET", "/metrics", 1, web_metrics, 0},
    {"*", "/v1/places", 0, web_places, CV_SCOPE_ROUTING}, /* before /v1/, whose every method it would take */
    {"*", "/v1/", 0, web_v1, 0},
    {"*", "/stdcov/v1/", 0, web_stdcov, 0},
    {"GET", "/", 1, web_page_index, 0},
    {"GET", "/static/", 0, web_page_static, 0},
    {"GET", "/tiles/", 0, web_tiles, 0},
    {"GET", "/feeds/", 0, web_feeds, 0},
};

static void dispatch(cv_server *s, web_req *r)
{
    const web_route_entry *found = NULL, *other_method = NULL;
    /* HEAD is GET without a body; libmicrohttpd drops the body itself. */
    const char *m = !strcmp(r->method, "HEAD") ? "GET" : r->method;
    for (size_t i = 0; i < sizeof routes / sizeof *routes && !found; i++) {
        const web_route_entry *e = &routes[i];
        size_t n = strlen(e->prefix);
        if (e->exact ? strcmp(r->path, e->prefix) : strncmp(r->path, e->prefix, n))
            continue;
        if (strcmp(e->method, "*") && strcmp(m, e->method))
            other_method = e;
        else
            found = e;
    }
    if (!found && other_method) {
        web_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, osrm_word(OSRM_METHOD_NOT_ALLOWED), "%s is not allowed on %s: use %s",
                  r->method, other_method->prefix, other_method->method);
        return;
    }
    if (!found) {
        web_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND), "no such endpoint: %s", r->path);
        return;
    }
    if (r->too_many_args) {
        web_error(r, MHD_HTTP_BAD_REQUEST, osrm_word(OSRM_INVALID_QUERY), "too many query parameters (at most %d)",
                  WEB_MAX_ARGS);
        return;
    }
    if (found->scope && web_need_scope(r, found->scope))
        return;
    r->rest = r->path + strlen(found->prefix);
    r->q = thread_query(s);
    if (!r->q) {
        web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_word(OSRM_ERROR), "out of memory");
        return;
    }
    found->handler(r);
    if (!r->body && !r->text && !r->has_file)
        web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_word(OSRM_ERROR), "out of memory");
}

/* The caller's address and key headers, for web_authenticate (auth.c), when keys are required. */
static int authenticate(cv_server *s, struct MHD_Connection *c, web_req *r)
{
    if (!s->auth)
        return 0;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return web_authenticate(r, &s->rate, ci ? ci->client_addr : NULL,
                            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-API-Key"),
                            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
}

/* --- libmicrohttpd callbacks --- */

/* The longest request target (URL) and header block served; beyond them: 414 and 431 TooBig, in JSON. Each
   connection gets CONN_MEMORY bytes from libmicrohttpd (its default is 32 KiB, with which a request of about
   32 KB left no room to write any answer), room enough for both and the answer. A head larger than the memory is
   refused by libmicrohttpd itself (414 or 431, an HTML page); one that nearly fills it gets 431, written by
   raw_answer. 32 KiB of URL holds a /table of 1000 points with sources and destinations. */
#define MAX_URL_BYTES 32768
#define MAX_HEADER_BYTES 32768
#define CONN_MEMORY (96 * 1024)

/* Why a request is answered as soon as its headers are in, without a handler and before any body is read. */
enum { REFUSE_NONE, REFUSE_STOPPING, REFUSE_MEMORY, REFUSE_URL, REFUSE_HEADERS, REFUSE_FRAMING, REFUSE_CODING };

typedef struct req_state {
    struct timespec t0; /* its request line in; from its headers on, their arrival (the duration logged) */
    uint64_t id;
    char *body; /* the request body so far (at most max_body bytes) */
    size_t body_len;
    int too_big;
    struct MHD_Connection *conn;
    web_conn *ca;         /* its connection (NULL when that could not be allocated) */
    size_t uri_len;       /* the request target as sent */
    char uri[160];        /* its first bytes, for the line of a request that no handler answered */
    int called;           /* on_request has seen its headers */
    int admitted;         /* begun before the server started stopping; else answered 503 */
    int refuse;           /* REFUSE_* */
    int tight;            /* its head nearly fills the connection's memory: answered by raw_answer */
    const char *te;       /* its Transfer-Encoding when refused for it (libmicrohttpd's, for the request) */
    int logged;           /* its line is written */
    unsigned answered_by; /* the status raw_answer wrote for it */
    int in_pending;       /* in its daemon's pending list (until on_request sees its headers) */
    unsigned daemon;
    struct req_state *pprev, *pnext;
} req_state;

/* The daemon whose polling thread this is, set by each request line it reads: answer_mhd_error looks among that
   daemon's requests only (each daemon's requests are touched by its own thread alone). */
static _Thread_local struct {
    uint64_t serial;
    unsigned daemon;
} tl_daemon;

static void pending_add(cv_server *s, req_state *st)
{
    st->pprev = NULL;
    st->pnext = s->pending[st->daemon];
    if (st->pnext)
        st->pnext->pprev = st;
    s->pending[st->daemon] = st;
    st->in_pending = 1;
}

static void pending_remove(cv_server *s, req_state *st)
{
    if (!st->in_pending)
        return;
    if (st->pprev)
        st->pprev->pnext = st->pnext;
    else
        s->pending[st->daemon] = st->pnext;
    if (st->pnext)
        st->pnext->pprev = st->pprev;
    st->in_pending = 0;
}

/* GET /metrics: the counters (metrics.c) with each worker's open connections. */
int web_metrics(web_req *r)
{
    cv_server *s = r->server;
    unsigned open[MAX_THREADS];
    web_acceptor_open_conns(s->acc, open);
    return web_metrics_answer(r, open, s->nd);
}

/* One line for the request (not with --quiet, unless a 5xx) and its count in the metrics. */
static void log_request(cv_server *s, const char *method, const char *path, int status, int64_t ns, uint64_t id)
{
    web_metrics_count(s->metrics, path, status, ns);
    /* a write that may have owed a partner an event or a message: sent now rather than at the next look */
    if (status < 300 && strcmp(method, "GET") && strcmp(method, "HEAD") &&
        (!strncmp(path, "/v1/bookings", 12) || !strncmp(path, "/v1/offers", 10) || !strncmp(path, "/v1/requests", 12) ||
         !strncmp(path, "/v1/messages", 12) || !strncmp(path, "/stdcov/v1/bookings", 19)))
        web_outbox_wake(s->outbox);
    if (status < 300 && !strcmp(method, "POST") && !strncmp(path, "/v1/bookings/", 13) && strstr(path, "/complete"))
        web_proofs_wake(s->proofs);
    if (s->o.quiet && status < 500)
        return;
    web_log_request(method, path, status, ns, id);
}

static int64_t ns_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (int64_t)(t1.tv_sec - t0->tv_sec) * 1000000000 + (t1.tv_nsec - t0->tv_nsec);
}

/* The answer of a finished request, made by web_response (response.c), queued, counted and logged. */
static enum MHD_Result send_answer(cv_server *s, struct MHD_Connection *c, req_state *st, const char *method,
                                   const char *url, web_req *r)
{
    int status;
    /* once stopping, every answer ends its connection: a client must not send another request on it */
    struct MHD_Response *resp = web_response(r, atomic_load(&s->stopping), &status);
    enum MHD_Result ok = MHD_NO;
    if (resp) {
        ok = MHD_queue_response(c, (unsigned)status, resp);
        MHD_destroy_response(resp);
    }
    log_request(s, method, url, status, ns_since(&st->t0), st->id);
    st->logged = 1;
    return ok;
}

/* Answers st with web_raw_answer (response.c), for the answers libmicrohttpd cannot give (see the callers): only on
   the daemon's own thread, while libmicrohttpd is writing nothing on that connection; what it tries to write
   afterwards fails, and it closes the connection. Returns 1 when written. */
static int raw_answer(req_state *st, unsigned status, const char *code, const char *message)
{
    if (!st->ca || web_conn_fd(st->ca) < 0 || !web_raw_answer(web_conn_fd(st->ca), status, code, message))
        return 0;
    st->answered_by = status;
    return 1;
}

/* tl_closed_after_raw (above mhd_log) is set when on_request ends a connection it answered itself
   (raw_answer): libmicrohttpd's message that the application reported an error is then not logged. */

/* The query arguments libmicrohttpd would store for a request target: one record of CONN_ARG_BYTES each in the
   connection's memory. */
#define CONN_ARG_BYTES 64
static size_t count_args(const char *uri)
{
    const char *q = strchr(uri, '?');
    if (!q || !q[1])
        return 0;
    size_t n = 1;
    for (q++; *q; q++)
        n += *q == '&';
    return n;
}

/* libmicrohttpd's early hook: the request line is in (the headers and body may not be). From here the request is
   in flight (cv_server_stop waits for it), its deadline runs from its first byte, and it is admitted unless the
   server is already stopping. Its state becomes the request's context (on_request's *ctx). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    cv_server *s = cls;
    req_state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL; /* on_request closes the connection */
    clock_gettime(CLOCK_MONOTONIC, &st->t0);
    st->id = atomic_fetch_add(&s->next_id, 1) + 1;
    st->conn = c;
    st->uri_len = strlen(uri);
    snprintf(st->uri, sizeof st->uri, "%s", uri);
    /* counted before stopping is read, while cv_server_stop sets stopping before it reads the count: either the
       request is refused or the stop waits for it */
    atomic_fetch_add(&s->inflight, 1);
    st->admitted = !atomic_load(&s->stopping);
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    st->ca = ci ? ci->socket_context : NULL;
    if (!st->ca)
        return st;
    st->logged = web_conn_begin(s->acc, st->ca, st); /* its 408 was logged when the deadline closed the connection */
    st->daemon = web_conn_daemon(st->ca);
    pending_add(s, st);
    tl_daemon.serial = s->serial;
    tl_daemon.daemon = st->daemon;
    /* Right after this hook libmicrohttpd stores the query arguments, and when they do not fit in the
       connection's memory (some 1,500 of them) it drops the connection without a word: answered here instead,
       far beyond the WEB_MAX_ARGS the router takes (which answers 400 for 33 and up in the usual order). */
    size_t nargs = count_args(uri);
    if (nargs * CONN_ARG_BYTES > CONN_MEMORY / 4) {
        char msg[128];
        snprintf(msg, sizeof msg, "too many query parameters: %zu (at most %d)", nargs, WEB_MAX_ARGS);
        raw_answer(st, MHD_HTTP_BAD_REQUEST, osrm_word(OSRM_INVALID_QUERY), msg);
    }
    return st;
}

/* Whether the connection's memory may be too full for libmicrohttpd to write an answer's head (status line and
   headers): the request's head, the records of its headers, arguments and cookies, and the copy of its Cookie
   header that libmicrohttpd parses, within 4 KiB of the end. */
static int memory_nearly_full(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *hi = MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    int n = MHD_get_connection_values(c, MHD_HEADER_KIND | MHD_GET_ARGUMENT_KIND | MHD_COOKIE_KIND, NULL, NULL);
    const char *cookie = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE);
    size_t used = (hi ? hi->header_size : 0) + (n > 0 ? (size_t)n : 0) * CONN_ARG_BYTES + (cookie ? strlen(cookie) : 0);
    return used + 4096 > CONN_MEMORY;
}

/* Why a request whose headers are in is answered at once (REFUSE_*), or REFUSE_NONE. */
static int refusal(req_state *st, struct MHD_Connection *c, const char *method, const char *version)
{
    if (!st->admitted)
        return REFUSE_STOPPING;
    if (st->uri_len > MAX_URL_BYTES)
        return REFUSE_URL;
    const union MHD_ConnectionInfo *hi = MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    size_t line = strlen(method) + st->uri_len + strlen(version) + 4;
    if (hi && hi->header_size > line && hi->header_size - line > MAX_HEADER_BYTES)
        return REFUSE_HEADERS;
    if (st->tight)
        return REFUSE_MEMORY;
    /* libmicrohttpd reads a body of any other coding to the end of the connection: without an answer here, the
       client would wait for one until it closes */
    const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if (!te || !strcasecmp(te, "chunked"))
        return REFUSE_NONE;
    st->te = te;
    const char *last = strrchr(te, ',');
    last = last ? last + 1 : te;
    last += strspn(last, " \t");
    /* RFC 9112 6.3: when chunked is not the last coding, the body's length cannot be known (400); chunked after
       another coding is a coding this server does not decode (501) */
    return strncasecmp(last, "chunked", 7) || last[7 + strspn(last + 7, " \t")] ? REFUSE_FRAMING : REFUSE_CODING;
}

/* The request is in whole: from here its answer is made and sent, with no deadline. 0 when the deadline passed
   first: the connection is already shut down, and the request must not be processed. */
static int begin_answer(cv_server *s, req_state *st)
{
    return !st->ca || web_conn_answering(s->acc, st->ca);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **ctx)
{
    cv_server *s = cls;
    req_state *st = *ctx;
    if (!st)
        return MHD_NO; /* no memory for it when its request line came */
    if (st->answered_by) {
        tl_closed_after_raw = 1;
        return MHD_NO; /* answered by on_uri: the connection is ending */
    }
    if (!st->called) {
        /* First call: the headers are in. A request refused for its head, or whose announced body is larger
           than the cap, is answered now, before its body is read (libmicrohttpd then closes the connection). */
        st->called = 1;
        pending_remove(s, st);
        clock_gettime(CLOCK_MONOTONIC, &st->t0);
        st->tight = memory_nearly_full(c);
        st->refuse = refusal(st, c, method, version);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > s->o.max_body)
            st->too_big = 1;
        if (!st->refuse && !st->too_big)
            return MHD_YES;
    } else if (*upload_size) {
        if (!st->too_big && *upload_size > s->o.max_body - st->body_len) {
            st->too_big = 1; /* the rest is read and dropped; the answer is 413 once it is all in */
        } else if (!st->too_big) {
            char *grown = realloc(st->body, st->body_len + *upload_size + 1);
            if (!grown)
                return MHD_NO;
            st->body = grown;
            memcpy(st->body + st->body_len, upload, *upload_size);
            st->body_len += *upload_size;
            st->body[st->body_len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (!begin_answer(s, st))
        return MHD_NO;
    web_req r = {.g = s->g,
                 .method = method,
                 .path = url,
                 .status = MHD_HTTP_INTERNAL_SERVER_ERROR,
                 .matcher = s->o.matcher,
                 .server = s,
                 .upload = st->body ? st->body : "",
                 .upload_len = st->body_len,
                 .max_route_coords = s->o.max_route_coords,
                 .max_table_coords = s->o.max_table_coords};
    r.page_dir = s->o.page_dir;
    r.operator_name = s->o.operator_name;
    r.public_url = s->o.public_url;
    r.tile_url = s->o.tile_url;
    r.stats_areas = s->o.stats_areas;
    r.places = s->o.places;
    r.places_mu = &s->places_mu;
    r.tiles = s->o.tiles;
    r.tiles_mu = &s->tiles_mu;
    r.gtfs = &s->gtfs;
    r.siri = &s->siri;
    r.tiles_minzoom = s->o.tiles_minzoom;
    r.tiles_maxzoom = s->o.tiles_maxzoom;
    r.if_none_match = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    r.metrics = s->metrics;
    r.file_fd = -1;
    switch (st->refuse) {
    case REFUSE_STOPPING:
        web_error(&r, MHD_HTTP_SERVICE_UNAVAILABLE, osrm_word(OSRM_SHUTTING_DOWN),
                  "the server is shutting down: this request was not processed (send it again once it is back)");
        break;
    case REFUSE_MEMORY:
        web_error(&r, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, osrm_word(OSRM_TOO_BIG),
                  "request line and header fields too large for this server (%d KiB with their records)",
                  CONN_MEMORY / 1024);
        break;
    case REFUSE_URL:
        web_error(&r, MHD_HTTP_URI_TOO_LONG, osrm_word(OSRM_TOO_BIG), "URL longer than %d bytes", MAX_URL_BYTES);
        break;
    case REFUSE_HEADERS:
        web_error(&r, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, osrm_word(OSRM_TOO_BIG),
                  "request header fields longer than %d bytes", MAX_HEADER_BYTES);
        break;
    case REFUSE_FRAMING:
        web_error(&r, MHD_HTTP_BAD_REQUEST, osrm_word(OSRM_BAD_REQUEST),
                  "Transfer-Encoding '%.60s' does not end with chunked: the body's length cannot be known", st->te);
        break;
    case REFUSE_CODING:
        web_error(&r, MHD_HTTP_NOT_IMPLEMENTED, osrm_word(OSRM_NOT_IMPLEMENTED),
                  "Transfer-Encoding '%.60s' is not supported: only chunked, alone", st->te);
        break;
    default:
        if (st->too_big) {
            /* When Content-Length announced it, this is queued before the body is read, and libmicrohttpd closes
               the connection after the response. */
            web_error(&r, MHD_HTTP_CONTENT_TOO_LARGE, osrm_word(OSRM_TOO_BIG), "request body larger than %zu bytes",
                      s->o.max_body);
        } else if (!authenticate(s, c, &r)) {
            MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &r);
            dispatch(s, &r);
        }
    }
    enum MHD_Result ok;
    json_t *code = json_object_get(r.body, "code"), *message = json_object_get(r.body, "message");
    if (st->tight && json_is_string(code) && json_is_string(message) &&
        raw_answer(st, (unsigned)r.status, json_string_value(code), json_string_value(message))) {
        /* a head that nearly fills the connection's memory: libmicrohttpd would find no room for the answer's
           head and close the connection without a word */
        log_request(s, method, url, r.status, ns_since(&st->t0), st->id);
        st->logged = 1;
        tl_closed_after_raw = 1;
        ok = MHD_NO;
    } else {
        ok = send_answer(s, c, st, method, url, &r);
    }
    json_decref(r.body);
    free(r.text);
    return ok;
}

/* libmicrohttpd answers a few broken requests itself, with an HTML page, and those it finds while checking the
   headers as a whole (a Content-Length it cannot read: 20 digits, or not a number; more cookies than its memory
   holds) with the status line and headers written twice: 0.9.75 resets the request's state after queueing such an
   error. Called from mhd_log on the daemon's own thread, before anything of libmicrohttpd's answer is written: when
   the request is known for certain, it is answered here, in JSON (raw_answer). Known for certain: of this daemon's
   requests whose headers no handler saw, the only one whose headers are all in and that has no answer queued. A
   request is in that state only while its headers are checked, and the thread that checks them takes it from
   there straight to on_request, so no other can be at this moment. Returns 1 when answered. */
static int answer_mhd_error(cv_server *s, unsigned status)
{
    if (!s || tl_daemon.serial != s->serial || !s->pending)
        return 0;
    req_state *hit = NULL;
    int n = 0;
    for (req_state *p = s->pending[tl_daemon.daemon]; p; p = p->pnext)
        if (!p->answered_by && MHD_get_connection_info(p->conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE) &&
            !MHD_get_connection_info(p->conn, MHD_CONNECTION_INFO_HTTP_STATUS))
            hit = p, n++;
    if (n != 1)
        return 0;
    char msg[160];
    switch (status) {
    case MHD_HTTP_CONTENT_TOO_LARGE:
        snprintf(msg, sizeof msg, "Content-Length larger than this server reads (request bodies up to %zu bytes)",
                 s->o.max_body);
        return raw_answer(hit, status, osrm_word(OSRM_TOO_BIG), msg);
    case MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE:
        return raw_answer(hit, status, osrm_word(OSRM_TOO_BIG), "more header fields or cookies than this server takes");
    case MHD_HTTP_BAD_REQUEST:
        return raw_answer(hit, status, osrm_word(OSRM_BAD_REQUEST),
                          "malformed Content-Length: a whole number of bytes is expected");
    default:
        return 0;
    }
}

/* The end of a request, answered or not: its line when no handler answered it (raw_answer did, libmicrohttpd did
   with an HTML page of status mhd_status, or its deadline closed the connection; a client that left before any
   answer gets none), and its connection ready for the next one. */
static void finish_request(cv_server *s, req_state *st, int mhd_status)
{
    pending_remove(s, st);
    int timed_out = st->ca && web_conn_end(s->acc, st->ca, st);
    int status = st->answered_by ? (int)st->answered_by : timed_out ? MHD_HTTP_REQUEST_TIMEOUT : mhd_status;
    if (!st->logged && status) {
        char path[sizeof st->uri + 32];
        if (st->uri_len >= sizeof st->uri)
            snprintf(path, sizeof path, "%.*s...(%zu bytes)", (int)sizeof st->uri - 1, st->uri, st->uri_len);
        else
            snprintf(path, sizeof path, "%s", st->uri);
        log_request(s, "-", path, status, ns_since(&st->t0), st->id);
    }
    free(st->body);
    free(st);
    atomic_fetch_sub(&s->inflight, 1);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **ctx, enum MHD_RequestTerminationCode why)
{
    (void)why;
    req_state *st = *ctx;
    if (!st)
        return;
    const union MHD_ConnectionInfo *hs = MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
    finish_request(cls, st, hs ? (int)hs->http_status : 0);
    *ctx = NULL;
}

/* The acceptor's hooks (acceptor.h): a request libmicrohttpd dropped with its connection, and the line of a
   connection whose request line missed its deadline. */
static void request_dropped(void *ctx, void *req)
{
    finish_request(ctx, req, 0);
}

static void deadline_missed(void *ctx, int64_t ns)
{
    cv_server *s = ctx;
    log_request(s, "-", "-", MHD_HTTP_REQUEST_TIMEOUT, ns, atomic_fetch_add(&s->next_id, 1) + 1);
}

/* --- start and stop --- */

cv_server *cv_server_start(const cv_graph *g, const cv_server_options *opt, cv_error *err)
{
    cv_server_options o = opt ? *opt : cv_server_defaults();
    if (!o.address)
        o.address = "127.0.0.1";
    if (!o.threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        o.threads = n > 0 ? (unsigned)n : 1;
    }
    if (o.threads > MAX_THREADS || !o.connection_limit || !o.per_ip_limit || !o.timeout_s || !o.request_timeout_s ||
        !o.max_body || o.max_route_coords < 2 || !o.max_table_coords) {
        cv_fail(err, CV_EINVAL,
                "server options out of range (threads at most 1024; limits, timeouts, body cap and "
                "table coordinates above 0; route coordinates at least 2)");
        return NULL;
    }
    /* libmicrohttpd shares the connection limit out between the pool threads: each needs one at least. */
    if (o.threads > o.connection_limit)
        o.threads = o.connection_limit;
    /* IPv4, else IPv6 ("::" as a dual-stack socket that takes IPv4 clients too, as mapped addresses). */
    struct sockaddr_in sa;
    struct sockaddr_in6 sa6;
    memset(&sa, 0, sizeof sa);
    memset(&sa6, 0, sizeof sa6);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(o.port);
    sa6.sin6_family = AF_INET6;
    sa6.sin6_port = htons(o.port);
    int v6 = 0, loopback = 0;
    if (inet_pton(AF_INET, o.address, &sa.sin_addr) == 1) {
        loopback = ntohl(sa.sin_addr.s_addr) == INADDR_LOOPBACK;
    } else if (inet_pton(AF_INET6, o.address, &sa6.sin6_addr) == 1) {
        v6 = 1;
        loopback = IN6_IS_ADDR_LOOPBACK(&sa6.sin6_addr);
        if (MHD_is_feature_supported(MHD_FEATURE_IPv6) != MHD_YES) {
            cv_fail(err, CV_EINVAL, "cannot listen on %.100s: this libmicrohttpd has no IPv6", o.address);
            return NULL;
        }
    } else {
        cv_fail(err, CV_EINVAL, "'%.100s' is not an IPv4 or IPv6 address", o.address);
        return NULL;
    }
    int auth = 0;
    if (o.matcher) {
        cv_matcher_ws *w = cv_matcher_ws_new(o.matcher, err);
        int n = 0;
        if (!w || cv_store_active_keys(cv_matcher_store(w), &n, err)) {
            cv_matcher_ws_free(w);
            return NULL;
        }
        cv_matcher_ws_free(w);
        auth = n > 0;
    }
    if (!auth && !loopback) {
        cv_fail(err, CV_EINVAL,
                "demo mode: no API key configured, so the server listens on 127.0.0.1 or ::1 only, "
                "not on %.100s (add a key with `covoit key add`)",
                o.address);
        return NULL;
    }
    /* A client that hangs up mid-response must not kill the process. */
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, NULL);

    cv_server *s = calloc(1, sizeof *s);
    if (!s) {
        cv_fail(err, CV_ENOMEM, "out of memory");
        return NULL;
    }
    s->g = g;
    s->o = o;
    s->serial = atomic_fetch_add(&server_serials, 1);
    atomic_init(&s->next_id, 0);
    atomic_init(&s->inflight, 0);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->places_mu, NULL);
    pthread_mutex_init(&s->tiles_mu, NULL);
    web_feed_cache_init(&s->gtfs);
    web_feed_cache_init(&s->siri);
    s->auth = auth;
    if (web_rate_init(&s->rate, o.rate, auth)) {
        cv_fail(err, CV_ENOMEM, "out of memory");
        pthread_mutex_destroy(&s->mu);
        pthread_mutex_destroy(&s->places_mu);
        pthread_mutex_destroy(&s->tiles_mu);
        web_feed_cache_free(&s->gtfs);
        web_feed_cache_free(&s->siri);
        free(s);
        return NULL;
    }

    atomic_init(&s->stopping, 0);
    s->nd = o.threads;
    s->d = calloc(s->nd, sizeof *s->d);
    s->pending = calloc(s->nd, sizeof *s->pending);
    s->metrics = web_metrics_new();
    s->acc = web_acceptor_new(&s->o, s->d, s->nd, (web_acceptor_hooks){s, request_dropped, deadline_missed});
    if (!s->d || !s->pending || !s->metrics || !s->acc) {
        cv_fail(err, CV_ENOMEM, "out of memory");
        cv_server_stop(s);
        return NULL;
    }
    int listening =
        v6 ? web_acceptor_listen(s->acc, (struct sockaddr *)&sa6, sizeof sa6, IN6_IS_ADDR_UNSPECIFIED(&sa6.sin6_addr))
           : web_acceptor_listen(s->acc, (struct sockaddr *)&sa, sizeof sa, 0);
    if (listening) {
        cv_fail(err, CV_EIO, "cannot listen on %s%s%s:%u: %s", v6 ? "[" : "", o.address, v6 ? "]" : "",
                (unsigned)o.port, strerror(errno));
        cv_server_stop(s);
        return NULL;
    }
    /* Each daemon: its own polling thread with poll(), no listening socket (ITC wakes it when the acceptor adds a
       connection); the limits are the acceptor's, the idle timeout each daemon's. Not epoll: with connections
       added from another thread, libmicrohttpd 0.9.75's epoll loop can miss the wake-up of a burst of them, which
       then wait until a later connection comes (measured: 256 connections at once, 60 answers/s instead of 19k;
       with poll, every run served them all). A daemon polls at most its share of the connection limit. Each
       connection gets CONN_MEMORY (see MAX_URL_BYTES); on_uri sees each request line before its headers. */
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_POLL;
    for (unsigned i = 0; i < s->nd; i++) {
        /* The logger goes first: libmicrohttpd reports problems with the options that follow through it. */
        s->d[i] = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                                   MHD_OPTION_CONNECTION_LIMIT, (unsigned int)o.connection_limit + 16,
                                   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)o.timeout_s,
                                   MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY, MHD_OPTION_URI_LOG_CALLBACK,
                                   on_uri, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                   MHD_OPTION_NOTIFY_CONNECTION, web_acceptor_notify, s->acc, MHD_OPTION_END);
        if (!s->d[i]) {
            cv_fail(err, CV_EIO, "cannot start the HTTP worker threads");
            cv_server_stop(s);
            return NULL;
        }
    }
    if (o.matcher && o.operator_name && !(s->outbox = web_outbox_start(o.matcher, web_stdcov_event, s, err))) {
        cv_server_stop(s);
        return NULL;
    }
    if (o.matcher && o.proof_url && !(s->proofs = web_proofs_start(o.matcher, o.proof_url, o.proof_token, err))) {
        cv_server_stop(s);
        return NULL;
    }
    s->port = web_acceptor_port(s->acc);
    if (web_acceptor_start(s->acc)) {
        cv_fail(err, CV_ENOMEM, "cannot start the acceptor thread");
        cv_server_stop(s);
        return NULL;
    }
    web_log_start(&s->o, s->port, v6, s->auth, s->rate.rate);
    return s;
}

const cv_server_options *web_server_options(const cv_server *s)
{
    return &s->o;
}

void web_outbox_figures(web_req *r, uint64_t *delivered, uint64_t *failed, uint64_t *refused)
{
    web_outbox_attempts(r->server->outbox, delivered, failed, refused);
}

void web_proof_figures(web_req *r, uint64_t *acknowledged, uint64_t *failed, uint64_t *refused)
{
    web_proofs_attempts(r->server->proofs, acknowledged, failed, refused);
}

int cv_server_auth(const cv_server *s)
{
    return s->auth;
}

uint16_t cv_server_port(const cv_server *s)
{
    return s->port;
}

void cv_server_stop(cv_server *s)
{
    if (!s)
        return;
    /* Stop accepting (connections then wait in the kernel's queue until the socket closes) and admitting: a
       request whose line comes from now on gets 503 ShuttingDown, unprocessed, and every answer closes its
       connection. Then give the requests begun before time to be answered: MHD_stop_daemon would close their
       connections, and drop an answer queued but not yet sent. Requests still coming in are waited for too (their
       503 must be whole), within their deadline. */
    atomic_store(&s->stopping, 1);
    if (s->acc) {
        if (web_acceptor_stop(s->acc))
            cv_log("info", "stopping: %ld requests in flight are finished, new ones get 503 ShuttingDown",
                   (long)atomic_load(&s->inflight));
        web_acceptor_drain(s->acc, &s->inflight);
    }
    for (unsigned i = 0; s->d && i < s->nd; i++)
        if (s->d[i])
            MHD_stop_daemon(s->d[i]);
    web_outbox_stop(s->outbox);
    web_proofs_stop(s->proofs);
    web_acceptor_free(s->acc);
    free(s->d), free(s->pending);
    web_metrics_free(s->metrics);
    for (ws_slot *k = s->slots, *next; k; k = next) {
        next = k->next;
        cv_ch_query_free(k->q);
        cv_matcher_ws_free(k->w);
        free(k);
    }
    web_rate_free(&s->rate);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->places_mu);
    pthread_mutex_destroy(&s->tiles_mu);
    web_feed_cache_free(&s->gtfs);
    web_feed_cache_free(&s->siri);
    free(s);
}
