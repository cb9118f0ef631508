/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* partners.c — outgoing calls to partner operators (partners.h): libcurl's easy interface for one call, its multi
   interface for a search of every partner at once, and the outbox thread; the one HTTP client of the server, also
   for the register of carpool proofs (proofs.c). */
#define _POSIX_C_SOURCE 200809L
#include "web/partners.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "web/loop.h"
#include "web/server.h"

#define ANSWER_MAX (1u << 20) /* bytes of a partner's answer we read at most */
#define EVENT_TIMEOUT_MS 5000 /* one delivery of a booking event */
#define BACKOFF_MAX_S 300

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static double mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* An answer as it arrives. */
typedef struct answer_buf {
    char *p;
    size_t len;
    int too_big;
} answer_buf;

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
    answer_buf *b = arg;
    size_t n = size * nmemb;
    if (b->len + n > ANSWER_MAX) {
        b->too_big = 1;
        return 0; /* ends the transfer with CURLE_WRITE_ERROR */
    }
    char *q = realloc(b->p, b->len + n + 1);
    if (!q)
        return 0;
    memcpy(q + b->len, data, n);
    b->p = q, b->len += n;
    b->p[b->len] = '\0';
    return n;
}

/* A handle for method url with the header auth (the partner's key, the register's token; NULL: none): no redirect,
   http and https only, no signal (threads). */
static CURL *make_handle(const char *auth, const char *method, const char *url, const char *body, long timeout_ms,
                         answer_buf *ab, struct curl_slist **headers)
{
    pthread_once(&curl_once, curl_setup);
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    struct curl_slist *hs = curl_slist_append(NULL, "Accept: application/json");
    if (hs && auth)
        hs = curl_slist_append(hs, auth);
    if (hs && body)
        hs = curl_slist_append(hs, "Content-Type: application/json");
    if (!hs) {
        curl_easy_cleanup(h);
        return NULL;
    }
    *headers = hs;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "covoit");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, ab);
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 128L * 1024); /* a search's answer in one or two reads */
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    return h;
}

/* Fills res from a finished transfer of h (code: its result). */
static int finish_call(CURL *h, CURLcode code, answer_buf *ab, web_call_result *res)
{
    if (code == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
        res->body = ab->p;
        ab->p = NULL;
        if (!res->body)
            res->body = calloc(1, 1);
        return 0;
    }
    snprintf(res->error, sizeof res->error, "%s", ab->too_big ? "answer over 1 MiB" : curl_easy_strerror(code));
    free(ab->p);
    ab->p = NULL;
    return -1;
}

/* The header that carries partner p's key. */
static void partner_auth(const cv_partner *p, char *buf, size_t cap)
{
    snprintf(buf, cap, "X-API-Key: %s", p->api_key);
}

int web_partner_call(const cv_partner *p, const char *method, const char *url, const char *body, long timeout_ms,
                     web_call_result *res)
{
    char auth[300];
    partner_auth(p, auth, sizeof auth);
    return web_http_call(auth, method, url, body, timeout_ms, res);
}

int web_http_call(const char *auth, const char *method, const char *url, const char *body, long timeout_ms,
                  web_call_result *res)
{
    memset(res, 0, sizeof *res);
    double t0 = mono_ms();
    answer_buf ab = {0};
    struct curl_slist *hs = NULL;
    CURL *h = make_handle(auth, method, url, body, timeout_ms, &ab, &hs);
    if (!h) {
        snprintf(res->error, sizeof res->error, "out of memory");
        return -1;
    }
    int rc = finish_call(h, curl_easy_perform(h), &ab, res);
    curl_easy_cleanup(h);
    curl_slist_free_all(hs);
    res->ms = mono_ms() - t0;
    return rc;
}

/* --- federated search --- */

/* Each thread that searches partners keeps one multi handle, and with it libcurl's cache of open connections: a
   partner asked again is asked on the connection it kept alive (no new TCP or TLS handshake per search). Freed when
   the thread ends. */
static pthread_key_t multi_key;
static pthread_once_t multi_once = PTHREAD_ONCE_INIT;

static void multi_free(void *m)
{
    curl_multi_cleanup(m);
}

static void multi_key_make(void)
{
    pthread_key_create(&multi_key, multi_free);
}

static CURLM *thread_multi(void)
{
    pthread_once(&curl_once, curl_setup);
    pthread_once(&multi_once, multi_key_make);
    CURLM *m = pthread_getspecific(multi_key);
    if (!m && (m = curl_multi_init()) && pthread_setspecific(multi_key, m)) {
        curl_multi_cleanup(m);
        m = NULL;
    }
    return m;
}

/* Our own search, run beside the partners' calls. */
typedef struct beside {
    void (*fn)(void *);
    void *arg;
} beside;

static void *run_beside(void *a)
{
    beside *b = a;
    b->fn(b->arg);
    return NULL;
}

/* Reads the answers that are in: a finished transfer of h[i] fills out[i]. */
static void take_answers(CURLM *multi, CURL **h, answer_buf *ab, size_t n, double t0, web_partner_answer *out)
{
    CURLMsg *msg;
    int queued;
    while ((msg = curl_multi_info_read(multi, &queued)))
        for (size_t i = 0; msg->msg == CURLMSG_DONE && i < n; i++) {
            if (h[i] != msg->easy_handle)
                continue;
            web_call_result res = {0};
            finish_call(h[i], msg->data.result, &ab[i], &res);
            out[i].ms = mono_ms() - t0;
            json_error_t je;
            json_t *doc = res.body ? json_loads(res.body, 0, &je) : NULL;
            if (res.status == 200 && json_is_array(doc)) {
                out[i].ok = 1;
                out[i].journeys = doc;
                doc = NULL;
            } else if (res.status) {
                snprintf(out[i].error, sizeof out[i].error, "HTTP %ld%s", res.status,
                         res.status == 200 ? ": not a list of journeys" : "");
            } else {
                snprintf(out[i].error, sizeof out[i].error, "%s", res.error);
            }
            json_decref(doc);
            free(res.body);
        }
}

void web_partners_search(const cv_partner *v, size_t n, const char *query, long timeout_ms, void (*between)(void *),
                         void *arg, web_partner_answer *out)
{
    double t0 = mono_ms();
    CURLM *multi = n ? thread_multi() : NULL;
    CURL **h = calloc(n ? n : 1, sizeof *h);
    answer_buf *ab = calloc(n ? n : 1, sizeof *ab);
    struct curl_slist **hs = calloc(n ? n : 1, sizeof *hs);
    for (size_t i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        out[i].partner = &v[i];
        snprintf(out[i].error, sizeof out[i].error, "no answer within %ld ms", timeout_ms);
        char url[1200];
        snprintf(url, sizeof url, "%s/driver_journeys?%s", v[i].base_url, query);
        char auth[300];
        partner_auth(&v[i], auth, sizeof auth);
        h[i] = multi && h && ab && hs ? make_handle(auth, "GET", url, NULL, timeout_ms, &ab[i], &hs[i]) : NULL;
        if (!h[i])
            snprintf(out[i].error, sizeof out[i].error, "out of memory");
        else if (curl_multi_add_handle(multi, h[i]) != CURLM_OK)
            curl_easy_cleanup(h[i]), h[i] = NULL, snprintf(out[i].error, sizeof out[i].error, "cannot start the call");
    }
    /* the partners' calls go out first (a kept-alive connection sends at once), then our own search runs on
       another thread: the answer takes the longer of the two, not their sum */
    int running = 0;
    if (multi)
        curl_multi_perform(multi, &running);
    beside b = {between, arg};
    pthread_t th;
    int threaded = between && multi && !pthread_create(&th, NULL, run_beside, &b);
    if (between && !threaded)
        between(arg);
    while (multi) {
        take_answers(multi, h, ab, n, t0, out);
        double left = timeout_ms - (mono_ms() - t0);
        if (!running || left <= 0)
            break;
        curl_multi_poll(multi, NULL, 0, left < 100 ? (int)left + 1 : 100, NULL);
        curl_multi_perform(multi, &running);
    }
    if (threaded)
        pthread_join(th, NULL);
    for (size_t i = 0; i < n; i++) {
        if (h[i]) {
            curl_multi_remove_handle(multi, h[i]); /* its connection stays in the multi handle's cache */
            curl_easy_cleanup(h[i]);
        }
        if (hs)
            curl_slist_free_all(hs[i]);
        if (ab)
            free(ab[i].p);
        if (!out[i].ok && !out[i].ms)
            out[i].ms = mono_ms() - t0;
    }
    free(h), free(ab), free(hs);
}

void web_partner_answers_free(web_partner_answer *a, size_t n)
{
    for (size_t i = 0; a && i < n; i++)
        json_decref(a[i].journeys);
}

/* --- the outbox --- */

struct web_outbox {
    cv_matcher_ws *w;
    web_event_maker make_event;
    void *ctx;
    web_loop *loop;
    atomic_uint_fast64_t delivered, failed, refused;
};

/* Sends event e now; records the outcome. */
static void deliver(web_outbox *o, cv_store *s, const cv_outbox_event *e)
{
    cv_error err = {0};
    cv_partner p;
    if (cv_store_get_partner(s, e->partner, &p, &err))
        return; /* removed meanwhile: held until it is configured again */
    /* a booking event goes to the partner's booking-events URL, a message to its /messages */
    json_t *doc = e->kind ? NULL : o->make_event(o->ctx, s, e);
    char *body = e->kind ? strdup(e->body) : doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(doc);
    char url[600];
    snprintf(url, sizeof url, "%s", p.events_url);
    if (e->kind)
        snprintf(url, sizeof url, "%.500s/messages", p.base_url);
    web_call_result res;
    char why[300];
    int refused = 0, ok = 0;
    if (!body) {
        snprintf(why, sizeof why, "cannot make the event: %.250s", err.text[0] ? err.text : "out of memory");
    } else if (web_partner_call(&p, "POST", url, body, EVENT_TIMEOUT_MS, &res)) {
        snprintf(why, sizeof why, "%s", res.error);
    } else {
        ok = res.status >= 200 && res.status < 300;
        refused = res.status >= 400 && res.status < 500 && res.status != 408 && res.status != 429;
        snprintf(why, sizeof why, "HTTP %ld%s%.200s", res.status, res.body && *res.body ? ": " : "",
                 res.body ? res.body : "");
        free(res.body);
    }
    free(body);
    int rc;
    if (ok || refused) {
        rc = cv_store_outbox_done(s, e->id, refused, ok ? NULL : why, &err);
        atomic_fetch_add(ok ? &o->delivered : &o->refused, 1);
        if (refused)
            cv_log("warn", "%s %s of %s refused by partner %s, not sent again: %s",
                   e->kind ? "message" : "booking event", e->event, e->uuid, e->partner, why);
    } else {
        int shift = e->attempts < 9 ? e->attempts : 9;
        int64_t delay = (int64_t)1 << shift;
        if (delay > BACKOFF_MAX_S)
            delay = BACKOFF_MAX_S;
        rc = cv_store_outbox_retry(s, e->id, (int64_t)time(NULL) + delay, why, &err);
        atomic_fetch_add(&o->failed, 1);
        cv_log("warn", "booking event %s of booking %s to partner %s failed (attempt %d): %s; next in %lld s", e->event,
               e->uuid, e->partner, e->attempts + 1, why, (long long)delay);
    }
    if (rc)
        cv_log("error", "outbox: %s", err.text);
}

/* One look at the outbox: every event due now, each booking's in order (woken after a write, else every half
   second: events other servers' writes owe, retries coming due). */
static void outbox_pass(void *arg, web_loop *l)
{
    web_outbox *o = arg;
    cv_store *s = cv_matcher_store(o->w);
    cv_outbox_event *due = NULL;
    size_t n = 0;
    cv_error err = {0};
    if (cv_store_outbox_due(s, (int64_t)time(NULL), 64, &due, &n, &err))
        cv_log("error", "outbox: %s", err.text);
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < n && !web_loop_stopping(l); i++) {
        /* taken first, for the time a delivery can take: another server on the database leaves it alone */
        int taken = cv_store_outbox_claim(s, due[i].id, now, now + EVENT_TIMEOUT_MS / 1000 + 20, &err);
        if (taken < 0)
            cv_log("error", "outbox: %s", err.text);
        if (taken == 1)
            deliver(o, s, &due[i]);
    }
    free(due);
}

web_outbox *web_outbox_start(cv_matcher *m, web_event_maker make_event, void *ctx, cv_error *err)
{
    web_outbox *o = calloc(1, sizeof *o);
    if (!o) {
        cv_fail(err, CV_ENOMEM, "out of memory");
        return NULL;
    }
    o->make_event = make_event;
    o->ctx = ctx;
    pthread_once(&curl_once, curl_setup);
    if (!(o->w = cv_matcher_ws_new(m, err)) ||
        !(o->loop = web_loop_start("delivers partners' booking events", 500, outbox_pass, o, err))) {
        cv_matcher_ws_free(o->w);
        free(o);
        return NULL;
    }
    return o;
}

void web_outbox_wake(web_outbox *o)
{
    if (o)
        web_loop_wake(o->loop);
}

void web_outbox_stop(web_outbox *o)
{
    if (!o)
        return;
    web_loop_stop(o->loop);
    cv_matcher_ws_free(o->w);
    free(o);
}

void web_outbox_attempts(const web_outbox *o, uint64_t *delivered, uint64_t *failed, uint64_t *refused)
{
    *delivered = o ? atomic_load(&o->delivered) : 0;
    *failed = o ? atomic_load(&o->failed) : 0;
    *refused = o ? atomic_load(&o->refused) : 0;
}
