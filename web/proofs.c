/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* proofs.c — carpool proofs for the register (proofs.h): their document, and the thread that sends them, through
   the server's one HTTP client (partners.c). */
#define _POSIX_C_SOURCE 200809L
#include "web/proofs.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "routing/geo.h"
#include "web/loop.h"
#include "web/partners.h"
#include "web/server.h"

#define PROOF_TIMEOUT_MS 10000 /* one delivery of a proof */
#define BACKOFF_MAX_S 300

static json_t *utc_datetime(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[32];
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

static json_t *place(int64_t t, cv_coord c)
{
    return json_pack("{s:o, s:f, s:f}", "datetime", utc_datetime(t), "lat", cv_deg(c.lat), "lon", cv_deg(c.lon));
}

static json_t *identity(const char *pseudonym)
{
    return json_pack("{s:s}", "operator_user_id", pseudonym);
}

json_t *web_proof_json(const cv_proof *p)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:I, s:{s:o, s:I, s:i}, s:{s:o, s:I}, s:[]}", "operator_journey_id",
                     p->journey_id, "operator_trip_id", p->trip_id, "operator_class", "C", "start",
                     place(p->start_time, p->start), "end", place(p->end_time, p->end), "distance",
                     (json_int_t)p->distance_m, "passenger", "identity", identity(p->passenger), "contribution",
                     (json_int_t)p->contribution_cents, "seats", p->seats, "driver", "identity", identity(p->driver),
                     "revenue", (json_int_t)p->contribution_cents, "incentives");
}

json_t *web_proof_record_json(const cv_proof *p)
{
    const char *status = !p->done ? "waiting" : p->refused ? "refused" : "acknowledged";
    json_t *j = json_pack("{s:o, s:s, s:i}", "proof", web_proof_json(p), "status", status, "attempts", p->attempts);
    if (j && p->last_error[0])
        json_object_set_new(j, "last_error", json_string(p->last_error));
    if (j && p->done)
        json_object_set_new(j, p->refused ? "refused" : "acknowledged", utc_datetime(p->done));
    return j;
}

/* --- the sender --- */

struct web_proofs {
    cv_matcher_ws *w;
    char *url;
    char auth[600];
    web_loop *loop;
    atomic_uint_fast64_t acknowledged, failed, refused;
};

static void deliver(web_proofs *o, cv_store *s, const cv_proof *p)
{
    cv_error err = {0};
    json_t *doc = web_proof_json(p);
    char *body = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(doc);
    web_call_result res;
    char why[300];
    int refused = 0, ok = 0;
    if (!body) {
        snprintf(why, sizeof why, "cannot make the proof: out of memory");
    } else if (web_http_call(o->auth[0] ? o->auth : NULL, "POST", o->url, body, PROOF_TIMEOUT_MS, &res)) {
        snprintf(why, sizeof why, "%s", res.error);
    } else {
        /* 409: the register has this journey already (our earlier attempt got there, its answer did not) */
        ok = (res.status >= 200 && res.status < 300) || res.status == 409;
        refused = !ok && res.status >= 400 && res.status < 500 && res.status != 408 && res.status != 429;
        snprintf(why, sizeof why, "HTTP %ld%s%.200s", res.status, res.body && *res.body ? ": " : "",
                 res.body ? res.body : "");
        free(res.body);
    }
    free(body);
    int rc;
    if (ok || refused) {
        rc = cv_store_proof_done(s, p->id, refused, ok ? NULL : why, &err);
        atomic_fetch_add(ok ? &o->acknowledged : &o->refused, 1);
        if (refused)
            cv_log("warn", "carpool proof %s refused by the register, not sent again: %s", p->journey_id, why);
    } else {
        int shift = p->attempts < 9 ? p->attempts : 9;
        int64_t delay = (int64_t)1 << shift;
        if (delay > BACKOFF_MAX_S)
            delay = BACKOFF_MAX_S;
        rc = cv_store_proof_retry(s, p->id, (int64_t)time(NULL) + delay, why, &err);
        atomic_fetch_add(&o->failed, 1);
        cv_log("warn", "carpool proof %s to the register failed (attempt %d): %s; next in %lld s", p->journey_id,
               p->attempts + 1, why, (long long)delay);
    }
    if (rc)
        cv_log("error", "proofs: %s", err.text);
}

/* One look at the proofs: each one due now, taken first so that another server on the database does not send it
   at the same time (woken after a completion, else every second: proofs other servers wrote, retries coming
   due). */
static void proofs_pass(void *arg, web_loop *l)
{
    web_proofs *o = arg;
    cv_store *s = cv_matcher_store(o->w);
    cv_proof *due = NULL;
    size_t n = 0;
    cv_error err = {0};
    if (cv_store_proofs_due(s, (int64_t)time(NULL), 32, &due, &n, &err))
        cv_log("error", "proofs: %s", err.text);
    for (size_t i = 0; i < n && !web_loop_stopping(l); i++) {
        int64_t now = (int64_t)time(NULL);
        int taken = cv_store_proof_claim(s, due[i].id, now, now + PROOF_TIMEOUT_MS / 1000 + 20, &err);
        if (taken < 0)
            cv_log("error", "proofs: %s", err.text);
        if (taken == 1)
            deliver(o, s, &due[i]);
    }
    free(due);
}

web_proofs *web_proofs_start(cv_matcher *m, const char *url, const char *token, cv_error *err)
{
    web_proofs *o = calloc(1, sizeof *o);
    if (!o || !(o->url = strdup(url))) {
        free(o);
        cv_fail(err, CV_ENOMEM, "out of memory");
        return NULL;
    }
    if (token && *token)
        snprintf(o->auth, sizeof o->auth, "Authorization: Bearer %s", token);
    if (!(o->w = cv_matcher_ws_new(m, err)) ||
        !(o->loop = web_loop_start("sends carpool proofs", 1000, proofs_pass, o, err))) {
        cv_matcher_ws_free(o->w);
        free(o->url);
        free(o);
        return NULL;
    }
    return o;
}

void web_proofs_wake(web_proofs *o)
{
    if (o)
        web_loop_wake(o->loop);
}

void web_proofs_stop(web_proofs *o)
{
    if (!o)
        return;
    web_loop_stop(o->loop);
    cv_matcher_ws_free(o->w);
    free(o->url);
    free(o);
}

void web_proofs_attempts(const web_proofs *o, uint64_t *acknowledged, uint64_t *failed, uint64_t *refused)
{
    *acknowledged = o ? atomic_load(&o->acknowledged) : 0;
    *failed = o ? atomic_load(&o->failed) : 0;
    *refused = o ? atomic_load(&o->refused) : 0;
}
