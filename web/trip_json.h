/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* trip_json.h — the matcher's objects as JSON, shared by the CLI's trip subcommands and the server's /v1 API: one
   builder per kind, each a new reference or NULL when out of memory. Durations in seconds and distances in metres
   (one decimal), times ISO-8601 in the server's zone, money in euros with commission 0. */
#ifndef CV_TRIP_JSON_H
#define CV_TRIP_JSON_H

#include <stdint.h>

#include <jansson.h>

#include "util/cv_error.h"
#include "matcher/matcher.h"
#include "feeds/stats.h"

/* The code word of a matcher error: osrm_code's (the table in osrm_json.c), but "InvalidValue" for CV_EINVAL:
   "NoSegment", "NoRoute", "NotFound", "Conflict" (CV_ECONFLICT, CV_EZONE), "Busy", else "Error" ("Ok" for 0). */
const char *trip_json_code(int cv_code);

/* {"code": trip_json_code(code), "message": message}. */
json_t *trip_json_error(int code, const char *message);

/* A UTC instant as local ISO-8601 with offset. */
json_t *trip_json_datetime(int64_t utc);

/* {"type":"punctual","depart","margin_min"} or {"type":"regular","weekdays","time","first_date","last_date",
   "margin_min"}. */
json_t *trip_json_schedule(const cv_schedule *s);

/* {id, owner, status, from, to, vias, schedule, seats, max_detour {duration, distance} (null: the default),
   price_per_km, direct {duration, distance}, created}. */
json_t *trip_json_offer(const cv_offer *o);

/* trip_json_offer with "stops" (in order), "bookings" (all statuses, oldest first) and "seats_left" (the dates from
   now's on where some seat is taken: [{date, seats_left}]) read from store. NULL with *rc and err set on a store
   error (*rc 0: out of memory). */
json_t *trip_json_offer_detail(cv_store *store, const cv_offer *o, int64_t now, int *rc, cv_error *err);

/* {id, owner, status, from, to, schedule, seats, created}. */
json_t *trip_json_request(const cv_request *r);

/* trip_json_request with "bookings" (on any offer, all statuses, oldest first). NULL as trip_json_offer_detail. */
json_t *trip_json_request_detail(cv_store *store, const cv_request *r, int *rc, cv_error *err);

/* The offers (offers 1) or requests (0) of owner (all owners when NULL), open ones only when open_only, newest
   first, as an array of trip_json_offer or trip_json_request: what `covoit offer|request list` prints and GET
   /v1/offers and /v1/requests answer. NULL as trip_json_offer_detail. */
json_t *trip_json_list(cv_store *store, int offers, const char *owner, int open_only, int *rc, cv_error *err);

/* {first_date, last_date, weekdays}, or null for CV_DATES_ALL. */
json_t *trip_json_dates(cv_dates d);

/* {kind, key, location} (+ booking_id, seats_delta, dates for pickups and drop-offs). */
json_t *trip_json_stop(const cv_stop *s);

/* {id, offer_id, request_id, seats, status, dates {first_date, last_date, weekdays}, pickup {location, time},
   dropoff {location, time}, contribution {amount, currency, commission}, created, updated}. */
json_t *trip_json_booking(const cv_booking *b);

/* A message from a partner's user: {id, to: {offer_id | request_id}, from: {id, alias, operator}, text, journey,
   booking, created, read}. */
json_t *trip_json_message(const cv_message *m);

/* {offer_id, request_id, seats_left, pickup, dropoff, detour {duration, distance, percent}, shared, driver_total,
   time_mismatch, schedule {regular, weekdays, first_date, last_date}, contribution {amount, currency,
   commission, per_km, distance_km, rounding}}. */
json_t *trip_json_match(const cv_match *m);

/* A JSON array of n matches, or NULL when out of memory. */
json_t *trip_json_matches(const cv_match *v, size_t n);

/* The territory's statistics of [from, to] (feeds/stats.h) as GET /v1/stats and `covoit stats` give them. */
json_t *trip_json_stats(const cv_stats *st, int32_t from, int32_t to);

#endif
