/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* proofs.h — carpool proofs for public incentives (docs/proofs.md): a proof as the French register of carpool
   proofs (RPC, API v3: POST /v3.x/journeys) reads it, and the thread that sends the proofs the store holds to the
   register URL an operator configured, until each is acknowledged. web/ (and cli/, which writes them as JSON
   lines) only. */
#ifndef CV_WEB_PROOFS_H
#define CV_WEB_PROOFS_H

#include <jansson.h>
#include <stdint.h>

#include "matcher/matcher.h"
#include "matcher/store.h"

/* The register's journey document of p: operator_journey_id, operator_trip_id, operator_class "C" (the operator
   knows both people and the ride was validated by both), start and end {datetime (UTC), lat, lon}, distance (m),
   passenger {identity {operator_user_id}, contribution (cents), seats}, driver {identity, revenue (cents)}, and
   incentives (none paid by the operator). No commission: the driver's revenue is the passenger's contribution. */
json_t *web_proof_json(const cv_proof *p);

/* The same with what covoit knows of its delivery, for its own API and exports: {"proof": document, "status":
   "waiting" | "acknowledged" | "refused", "attempts", "last_error", "sent"}. */
json_t *web_proof_record_json(const cv_proof *p);

typedef struct web_proofs web_proofs;

/* Starts the thread that POSTs each waiting proof to url (the register's journeys endpoint) with "Authorization:
   Bearer token" (token may be NULL), one after the other in the order they were written: a 2xx answer, or 409 (the
   register has it already: a repeat after a lost answer), acknowledges it; another 4xx (but 408 and 429) refuses it
   for good, kept with the register's answer; anything else (5xx, no answer) is retried with back-off (1 s doubling
   to 5 min). NULL with err filled when it cannot start. */
web_proofs *web_proofs_start(cv_matcher *m, const char *url, const char *token, cv_error *err);

/* Wakes the thread to look now (after a proof was written). Accepts NULL. */
void web_proofs_wake(web_proofs *p);

/* Stops the thread (an attempt in flight is finished first) and frees p. Accepts NULL. */
void web_proofs_stop(web_proofs *p);

/* Attempts so far in this process: acknowledged, failed (to be retried), refused for good. */
void web_proofs_attempts(const web_proofs *p, uint64_t *acknowledged, uint64_t *failed, uint64_t *refused);

#endif
