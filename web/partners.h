/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* partners.h — covoit talking to the partner operators of the carpool interoperability standard (`covoit partner
   add`), over HTTP with libcurl: the booking events it owes them (a thread that delivers the store's outbox), the
   journeys of theirs a federated search asks for, and the bookings our users make on those journeys. With the
   proofs of carpools sent to the register an operator configured (proofs.h, through web_http_call), the only
   outgoing calls the server makes. web/ only. */
#ifndef CV_WEB_PARTNERS_H
#define CV_WEB_PARTNERS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "matcher/matcher.h"
#include "matcher/store.h"

/* --- one call --- */

typedef struct web_call_result {
    long status;     /* the partner's HTTP status; 0 when no answer came */
    char *body;      /* its answer (malloc'ed, NUL-terminated, at most 1 MiB), NULL when none */
    char error[256]; /* when status is 0: why (connection refused, timeout, ...) */
    double ms;       /* how long the call took */
} web_call_result;

/* method url to partner p with its key (X-API-Key), body (NULL: none) as JSON, within timeout_ms. 0 when an
   answer came (of any status), -1 otherwise (res->error says why). Free res->body. */
int web_partner_call(const cv_partner *p, const char *method, const char *url, const char *body, long timeout_ms,
                     web_call_result *res);

/* The same call with the header auth ("Authorization: Bearer ..."; NULL: none), for the register of carpool
   proofs (proofs.h), the one other host an operator may configure. */
int web_http_call(const char *auth, const char *method, const char *url, const char *body, long timeout_ms,
                  web_call_result *res);

/* --- federated search --- */

/* What one partner answered a search. */
typedef struct web_partner_answer {
    const cv_partner *partner;
    int ok;           /* 1: a list of journeys came (journeys) */
    json_t *journeys; /* its DriverJourneys (owned), NULL unless ok */
    char error[256];  /* unless ok: why it is left out (timeout, HTTP status, not the standard's answer) */
    double ms;
} web_partner_answer;

/* Asks every partner of v[0..n) GET BASE/driver_journeys?QUERY (query: the encoded query string) at once, runs
   between(arg) while they answer (our own search), and waits for them at most timeout_ms from the start: a
   partner that fails or is slow is left out with why. out[i] answers v[i]; free with web_partner_answers_free. */
void web_partners_search(const cv_partner *v, size_t n, const char *query, long timeout_ms, void (*between)(void *),
                         void *arg, web_partner_answer *out);
void web_partner_answers_free(web_partner_answer *a, size_t n);

/* --- the outbox of booking events --- */

typedef struct web_outbox web_outbox;

/* Starts the thread that delivers the booking events the store holds for partners (cv_store_outbox_due): each
   POSTed as the standard's CarpoolBookingEvent to the partner's booking-events URL, one booking's events in order,
   retried with back-off (1 s doubling to 5 min) while the partner fails or cannot be reached, dropped only when
   the partner refuses one for good (a 4xx other than 408 and 429). make_event builds an event's document (the
   standard's Booking of it, see stdcov_api.c). NULL with err filled when it cannot start. */
typedef json_t *(*web_event_maker)(void *ctx, cv_store *store, const cv_outbox_event *e);
web_outbox *web_outbox_start(cv_matcher *m, web_event_maker make_event, void *ctx, cv_error *err);

/* Wakes the thread to look at the outbox now (after a write that may have owed an event). Accepts NULL. */
void web_outbox_wake(web_outbox *o);

/* Stops the thread (an attempt in flight is finished first) and frees o. Accepts NULL. */
void web_outbox_stop(web_outbox *o);

/* Attempts so far in this process: delivered, failed (to be retried), refused for good. */
void web_outbox_attempts(const web_outbox *o, uint64_t *delivered, uint64_t *failed, uint64_t *refused);

#endif
