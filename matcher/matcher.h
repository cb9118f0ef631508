/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* matcher.h — the matcher: offers and requests checked, snapped, stored and kept in a bucket index over the
   contraction hierarchy, so that one request is matched against every active offer with four searches and no
   per-candidate route query (and one offer against every open request the same way); bookings with atomic seat
   acceptance; contributions without commission. Knows nothing of JSON or HTTP. */
#ifndef CV_MATCHER_H
#define CV_MATCHER_H

#include <stddef.h>
#include <stdint.h>

#include "util/cv_error.h"
#include "routing/graph.h"
#include "routing/hub_labels.h"
#include "matcher/match.h"
#include "matcher/store.h"
#include "matcher/trip.h"

typedef struct cv_matcher_options {
    double price_per_km;         /* default rate of new offers (CV_DEFAULT_PRICE_PER_KM) */
    cv_rounding rounding;        /* contribution rounding (ten cents by default) */
    double max_snap_m;           /* how far a point may be from a road (300 m) */
    int max_results;             /* cap on matches returned (100) */
    const cv_hub_labels *labels; /* hub labels of the graph (kept by the caller while the matcher is open): search
                                    spaces come from them instead of CH searches; NULL: CH searches */
    int follow_ms;               /* > 0: a thread follows the store's change log this often (cv_matcher_sync), so
                                    that writes of other processes reach the index; 0: only at this matcher's own
                                    writes and explicit syncs (a one-shot command) */
    int retention_days;          /* > 0: the follow thread deletes the trips whose last date is this many days
                                    past (cv_store_purge_before), at start and hourly; 0: kept for ever */
} cv_matcher_options;

/* Past trips are kept 13 months by default (396 days), then purged by the server itself. */
#define CV_RETENTION_DAYS_DEFAULT 396

cv_matcher_options cv_matcher_defaults(void);

/* The shared matcher: graph (read-only, owned by the caller, must outlive it), index, options. */
typedef struct cv_matcher cv_matcher;

/* A per-thread workspace: its own store connection and search state. */
typedef struct cv_matcher_ws cv_matcher_ws;

/* Opens the store at db_path (created and migrated as needed) and rebuilds the index from the open offers and
   requests in it. Returns 0 and *out, or a CV_E* code with err filled. */
int cv_matcher_open(const cv_graph *g, const char *db_path, const cv_matcher_options *opt, int64_t now,
                    cv_matcher **out, cv_error *err);
void cv_matcher_close(cv_matcher *m);

/* A workspace for the calling thread. NULL with err filled on failure. */
cv_matcher_ws *cv_matcher_ws_new(cv_matcher *m, cv_error *err);
void cv_matcher_ws_free(cv_matcher_ws *w);

/* The workspace's store connection (for reads such as lists). */
cv_store *cv_matcher_store(cv_matcher_ws *w);

/* Checks, snaps (never onto a motorway), stores and indexes a new offer; fills o->id and its direct route.
   Bad input (CV_EINVAL, CV_ENOSEGMENT, CV_ENOROUTE) writes nothing. price_per_km <= 0 takes the server's. */
int cv_matcher_add_offer(cv_matcher_ws *w, cv_offer *o, int64_t now, cv_error *err);
int cv_matcher_add_request(cv_matcher_ws *w, cv_request *r, int64_t now, cv_error *err);

/* Cancels and unindexes. CV_ENOTFOUND, CV_ECONFLICT (already cancelled). */
int cv_matcher_cancel_offer(cv_matcher_ws *w, int64_t id, cv_error *err);
int cv_matcher_cancel_request(cv_matcher_ws *w, int64_t id, cv_error *err);

/* Applies to the index the store's changes since the last one applied (store.h, the change log), whichever
   process wrote them: each offer or request named is read again from the store and indexed again, or taken out.
   Every write of this matcher syncs at once (its own change and any before it); a matcher opened with follow_ms
   also syncs on that timer. When the log has been pruned past the last change applied, the index is built again
   from the tables. Returns 0 or a CV_E* code (nothing is skipped: the next sync starts where this one stopped). */
int cv_matcher_sync(cv_matcher_ws *w, int64_t now, cv_error *err);

/* The sequence number of the last change applied. */
int64_t cv_matcher_seq(cv_matcher *m);

/* One way a request can ride with an offer. */
typedef struct cv_match {
    int64_t offer_id, request_id;
    cv_coord pickup, dropoff;          /* the snapped points */
    int64_t pickup_time, dropoff_time; /* UTC seconds, on the first date they travel together */
    int regular;                       /* both regular: they travel together every week on `weekdays` */
    uint8_t weekdays;
    cv_day first_day, last_day;     /* dates they travel together (equal for a single trip) */
    int seats_left;                 /* seats free on the passenger's stretch on the fullest of those dates,
                                       before this passenger */
    int64_t detour_ds, detour_dm;   /* the driver's extra travel for this passenger */
    double detour_percent;          /* of the driver's own route's duration */
    int64_t shared_ds, shared_dm;   /* the passenger's ride */
    int64_t total_ds, total_dm;     /* the driver's route with this passenger */
    int64_t mismatch_s;             /* |pickup time - the passenger's wish| */
    double pickup_key, dropoff_key; /* where they go in the offer's stop sequence */
    int64_t plan_version;           /* ... of that version of the sequence (store.h) */
    cv_contribution contribution;
} cv_match;

/* Every open offer request_id can join, best first (smallest detour, then time mismatch), at most limit
   (<= 0: the server's cap). *out is malloc'ed. CV_ENOTFOUND for an unknown request. */
int cv_matcher_request_matches(cv_matcher_ws *w, int64_t request_id, int64_t now, int limit, cv_match **out, size_t *n,
                               cv_error *err);

/* Every open request offer_id can serve, best first. */
int cv_matcher_offer_matches(cv_matcher_ws *w, int64_t offer_id, int64_t now, int limit, cv_match **out, size_t *n,
                             cv_error *err);

/* Matches an ad-hoc trip (not stored) against the open offers. */
int cv_matcher_search(cv_matcher_ws *w, const cv_request *r, int64_t now, int limit, cv_match **out, size_t *n,
                      cv_error *err);

/* The match of one offer and one request computed pair by pair with point-to-point routes (no buckets): used to
   book, and by tests as the oracle. Returns 1 and *out when they match, 0 when not, or a CV_E* code. */
int cv_matcher_pair(cv_matcher_ws *w, int64_t offer_id, int64_t request_id, int64_t now, cv_match *out, cv_error *err);

/* Books seats for request_id on offer_id: the pair must match now; stores a pending booking with the match's
   pickup, drop-off, times and contribution. CV_ECONFLICT when they do not match. */
int cv_matcher_book(cv_matcher_ws *w, int64_t offer_id, int64_t request_id, int64_t now, cv_booking *out,
                    cv_error *err);

/* Two points of one road (one edge) nearer than this are one place: the leg between them is no leg, whichever
   way round the road would go (a stored stop, rounded to 1e-6 degrees, snaps again a few centimetres away). */
#define CV_SAME_PLACE_M 2.0

/* The stops (snapped) an indexed offer makes on day whose keys lie strictly between lo and hi, in order: at most
   cap of them into out. Returns how many, or -1 when the offer is not in the index. For drawing a passenger's
   ride between their pickup and drop-off keys (cv_match). */
int cv_matcher_stops_between(cv_matcher_ws *w, int64_t offer_id, cv_day day, double lo, double hi, cv_snap *out,
                             int cap);

/* One occurrence of an open request: the passenger wants to go from pickup to dropoff (the snapped points of
   its ends), leaving at depart (UTC) on local date day. */
typedef struct cv_request_near {
    int64_t request_id;
    cv_day day;
    int64_t depart;
    cv_coord pickup, dropoff;
    int seats;
    int64_t direct_ds, direct_dm; /* the passenger's own route */
} cv_request_near;

/* The occurrences of open requests that start within from_m metres of from and end within to_m metres of to
   (great-circle, from the snapped ends), leaving between t0 and t1 (UTC seconds, inclusive; a regular request on
   each of its dates there, but those it already rides in a car), the closest to the middle of [t0, t1] first, at
   most limit. *out is malloc'ed. For partners' drivers (the interoperability standard's passenger journeys): a
   question of places and times, not of a route. */
int cv_matcher_requests_near(cv_matcher_ws *w, cv_coord from, double from_m, cv_coord to, double to_m, int64_t t0,
                             int64_t t1, size_t limit, cv_request_near **out, size_t *n, cv_error *err);

/* One open regular request near a place: its id, snapped ends, weekdays, local time of day and dates. */
typedef struct cv_regular_near {
    int64_t request_id;
    cv_coord pickup, dropoff;
    uint8_t weekdays;    /* the days it travels that were asked for */
    int32_t time_of_day; /* local, seconds after midnight */
    cv_day first, last;  /* its dates within those asked for */
    int seats;
    int64_t direct_ds, direct_dm;
} cv_regular_near;

/* The open regular requests that start within from_m metres of from and end within to_m of to, on one of weekdays,
   at a local time of day within delta seconds of time_of_day, with a date between first and last: the closest
   time first, at most limit. *out is malloc'ed. */
int cv_matcher_regular_requests_near(cv_matcher_ws *w, cv_coord from, double from_m, cv_coord to, double to_m,
                                     uint8_t weekdays, int32_t time_of_day, int32_t delta, cv_day first, cv_day last,
                                     size_t limit, cv_regular_near **out, size_t *n, cv_error *err);

/* Accepts (atomically against seats, see cv_store_accept_booking), refuses or cancels a booking; the offer's
   stops and index follow (rebuilt as of `now`).

   A booking holds its seats, and its stops are made, on its dates only: a passenger riding a regular offer on
   Mondays leaves the seat free on the other days. */
int cv_matcher_accept(cv_matcher_ws *w, int64_t booking_id, int64_t now, cv_error *err);
int cv_matcher_refuse(cv_matcher_ws *w, int64_t booking_id, int64_t now, cv_error *err);
int cv_matcher_cancel_booking(cv_matcher_ws *w, int64_t booking_id, int64_t now, cv_error *err);
/* One of the three above, as the action names it. */
int cv_matcher_act(cv_matcher_ws *w, cv_booking_action action, int64_t booking_id, int64_t now, cv_error *err);

/* What the workspace's last matching query did: bucket items scanned, items kept after pruning, slots of the
   other side touched (for benchmarks). */
void cv_matcher_ws_counters(const cv_matcher_ws *w, uint64_t *scanned, uint64_t *kept, uint64_t *touched);

/* Index figures: active offers and requests, bucket items and bytes. */
typedef struct cv_matcher_stats {
    size_t offers, requests, offer_items, request_items, bytes;
    uint64_t rebuilds; /* times the change log had been pruned past the index and it was built again */
} cv_matcher_stats;
void cv_matcher_get_stats(cv_matcher *m, cv_matcher_stats *st);

#endif
