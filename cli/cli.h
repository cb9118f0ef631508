/* cli.h — the covoit subcommands and the helpers they share. */
#ifndef CV_CLI_H
#define CV_CLI_H

#include <jansson.h>

#include "cv_error.h"
#include "matcher.h"
#include "osrm_json.h"
#include "route.h"

/* Exit statuses. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

int cmd_import(int argc, char **argv);
int cmd_route(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_table(int argc, char **argv);
int cmd_offer(int argc, char **argv);
int cmd_request(int argc, char **argv);
int cmd_book(int argc, char **argv);
int cmd_booking(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* Prints "covoit: <text>" on stderr. */
void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* True when arg is -h or --help. */
int cli_is_help(const char *arg);

/* OSRM's code string for an error code ("NoSegment", "NoRoute", "InvalidQuery", ...). */
const char *cli_osrm_code(int cv_code);

/* Writes doc to stdout as one JSON document with a trailing newline and releases it. */
void cli_print_json(json_t *doc);

/* --- trips (trip_json.c): the matcher's objects as JSON, one builder per kind, each a new reference or NULL
   when out of memory. Durations in seconds and distances in metres (one decimal), times ISO-8601 in the
   server's zone, money in euros with commission 0. --- */

/* The code string of a matcher error: "InvalidValue", "NoSegment", "NoRoute", "NotFound", "Conflict", else
   "Error" ("Ok" for 0). */
const char *cli_trip_code(int cv_code);

/* {"code": cli_trip_code(code), "message": message}. */
json_t *json_trip_error(int code, const char *message);

/* A UTC instant as local ISO-8601 with offset. */
json_t *json_datetime(int64_t utc);

/* {"type":"punctual","depart","margin_min"} or {"type":"regular","weekdays","time","first_date","last_date",
   "margin_min"}. */
json_t *json_schedule(const cv_schedule *s);

/* {id, owner, status, from, to, vias, schedule, seats, max_detour {duration, distance} (null: the default),
   price_per_km, direct {duration, distance}, created}. */
json_t *json_offer(const cv_offer *o);

/* {id, owner, status, from, to, schedule, seats, created}. */
json_t *json_request(const cv_request *r);

/* {kind, key, location} (+ booking_id, seats_delta for pickups and drop-offs). */
json_t *json_stop(const cv_stop *s);

/* {id, offer_id, request_id, seats, status, pickup {location, time}, dropoff {location, time},
   contribution {amount, currency, commission}, created, updated}. */
json_t *json_booking(const cv_booking *b);

/* {offer_id, request_id, pickup, dropoff, detour {duration, distance, percent}, shared, driver_total,
   time_mismatch, schedule {regular, weekdays, first_date, last_date}, contribution {amount, currency,
   commission, per_km, distance_km, rounding}}. */
json_t *json_match(const cv_match *m);

#endif
