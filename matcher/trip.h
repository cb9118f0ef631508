/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* trip.h — the carpool model: offers (drivers), requests (passengers), schedules, bookings and matches, as plain
   structs validated once at the boundary. Times are UTC seconds; regular schedules are in the server's zone. */
#ifndef CV_TRIP_H
#define CV_TRIP_H

#include <stdint.h>
#include <time.h>

#include "util/cv_error.h"
#include "routing/geo.h"

#define CV_MAX_VIAS 8                 /* via points a driver may insist on */
#define CV_OWNER_MAX 128              /* bytes of an owner reference, NUL included */
#define CV_DEFAULT_MARGIN_S (15 * 60) /* default time margin: +-15 min */
#define CV_MAX_MARGIN_S (12 * 3600)   /* margins beyond +-12 h are refused */
#define CV_DEFAULT_SEATS 3
#define CV_MAX_SEATS 8
#define CV_DEFAULT_DETOUR_PERCENT 25 /* default detour limit: +25 % of the direct route, time and distance */
#define CV_DEFAULT_PRICE_PER_KM 0.06

/* The limits of an offer's settings in the units people give them: the one table that the HTTP API, the CLI, the
   server's settings and docs/API.md follow (cv_offer_check enforces them in the units stored). */
#define CV_MAX_DETOUR_MIN 1440     /* an absolute detour limit beyond a day is a mistake */
#define CV_MAX_DETOUR_KM 1000      /* ... and so is one beyond 1000 km */
#define CV_MIN_PRICE_PER_KM 0.0001 /* euros: the precision prices are kept and shown at */
#define CV_MAX_PRICE_PER_KM 10.0   /* carpooling shares costs, it is not a taxi fare */

/* Weekdays as bits: Monday is bit 0, Sunday bit 6 (ISO order). */
enum {
    CV_MON = 1 << 0,
    CV_TUE = 1 << 1,
    CV_WED = 1 << 2,
    CV_THU = 1 << 3,
    CV_FRI = 1 << 4,
    CV_SAT = 1 << 5,
    CV_SUN = 1 << 6
};

/* A date in the server's time zone, as a day number: days since 1970-01-01 (proleptic Gregorian). */
typedef int32_t cv_day;

typedef enum cv_schedule_kind {
    CV_PUNCTUAL = 0, /* one departure at a date and time */
    CV_REGULAR = 1   /* every week on some weekdays at a local time of day, between two dates */
} cv_schedule_kind;

typedef struct cv_schedule {
    cv_schedule_kind kind;
    int64_t depart;      /* punctual: departure (driver) or pickup wish (passenger), UTC seconds */
    uint8_t weekdays;    /* regular: CV_MON | ... */
    int32_t time_of_day; /* regular: seconds after local midnight */
    cv_day first_day;    /* regular: first date (inclusive) */
    cv_day last_day;     /* regular: last date (inclusive) */
    int32_t margin_s;    /* +- this many seconds around the time */
} cv_schedule;

/* A set of dates: every day in [first, last] on one of weekdays. Bookings carry the dates their passenger rides;
   an offer's or a request's schedule has its own (cv_schedule_dates). Empty when first > last or weekdays is 0. */
typedef struct cv_dates {
    cv_day first, last;
    uint8_t weekdays;
} cv_dates;

/* Every date there is. */
#define CV_DATES_ALL ((cv_dates){INT32_MIN, INT32_MAX, 0x7f})

/* The longest regular schedule: seats, stops and bookings are kept per date, and two years of commuting is the
   longest plan a carpool platform needs to hold. */
#define CV_MAX_SCHEDULE_DAYS 731

typedef enum cv_trip_status { CV_TRIP_OPEN = 0, CV_TRIP_CANCELLED = 1 } cv_trip_status;

/* A driver's offer. */
typedef struct cv_offer {
    int64_t id;               /* 0 until stored */
    char owner[CV_OWNER_MAX]; /* opaque user reference of the calling platform */
    cv_coord from, to;
    cv_coord vias[CV_MAX_VIAS]; /* in order */
    int nvias;
    cv_schedule when;
    int seats;            /* seats offered to passengers */
    int32_t max_detour_s; /* absolute limit in seconds, or -1: CV_DEFAULT_DETOUR_PERCENT of direct */
    int32_t max_detour_m; /* absolute limit in metres, or -1: CV_DEFAULT_DETOUR_PERCENT of direct */
    double price_per_km;  /* contribution rate, euros */
    cv_trip_status status;
    int64_t created; /* UTC seconds */
    /* filled when stored: the driver's own route through the vias */
    int64_t direct_duration_ds;
    int64_t direct_distance_dm;
} cv_offer;

/* A passenger's request. */
typedef struct cv_request {
    int64_t id;
    char owner[CV_OWNER_MAX];
    cv_coord from, to;
    cv_schedule when;
    int seats; /* seats needed */
    cv_trip_status status;
    int64_t created;
} cv_request;

typedef enum cv_booking_status {
    CV_BOOKING_PENDING = 0,
    CV_BOOKING_ACCEPTED = 1,
    CV_BOOKING_REFUSED = 2,
    CV_BOOKING_CANCELLED = 3,
    CV_BOOKING_SUPERSEDED = 4 /* the passenger's request was accepted in another car on these dates */
} cv_booking_status;

/* What the parties do to a pending or accepted booking: the driver accepts or refuses it, the passenger cancels
   it (cv_matcher_act). */
typedef enum cv_booking_action { CV_ACT_ACCEPT, CV_ACT_REFUSE, CV_ACT_CANCEL } cv_booking_action;

/* The action a word names: "accept", "refuse" or "cancel"; 0 and *a, or -1 for any other word. */
int cv_booking_action_parse(const char *word, cv_booking_action *a);

/* A passenger's booking of seats on an offer. Accepted bookings become stops of the offer. */
typedef struct cv_booking {
    int64_t id;
    int64_t offer_id, request_id;
    int seats;
    cv_booking_status status;
    cv_dates dates;                 /* the dates the passenger rides (one for a single trip), within the
                                       offer's and the request's */
    cv_coord pickup, dropoff;       /* where the match placed them */
    double pickup_key, dropoff_key; /* positions in the offer's stop sequence (see store.h) */
    int64_t pickup_time;            /* UTC seconds (punctual) or seconds after local midnight (regular) */
    int64_t dropoff_time;
    double amount; /* contribution agreed, euros */
    int64_t created, updated;
    int64_t plan_version; /* the version of the offer's stops it was placed on (store.h); -1: its
                             keys were given by the caller, not placed against a plan (tools, tests) */
} cv_booking;

/* Checks a schedule: margin in range, weekdays non-empty and dates ordered for a regular one. Returns 0 or
   CV_EINVAL with err naming the field. `now` (UTC seconds) refuses punctual departures in the past. */
int cv_schedule_check(const cv_schedule *s, int64_t now, cv_error *err);

/* Checks an offer or a request as given by a caller (coordinates in range, seats, margins, limits, owner length).
   Snapping is checked by the matcher, which has the graph. */
int cv_offer_check(const cv_offer *o, int64_t now, cv_error *err);
int cv_request_check(const cv_request *r, int64_t now, cv_error *err);

/* The dates of a schedule: the local date of a punctual departure, or a regular schedule's range and weekdays. */
cv_dates cv_schedule_dates(const cv_schedule *s);

/* Set operations on dates. cv_dates_intersect's result is trimmed to its first and last real date (empty: first >
   last). */
int cv_dates_empty(cv_dates d);
int cv_dates_contains(cv_dates d, cv_day day);
cv_dates cv_dates_intersect(cv_dates a, cv_dates b);

/* The first date of d on or after from, or -1 when none. */
cv_day cv_dates_next(cv_dates d, cv_day from);

const char *cv_booking_status_name(cv_booking_status s);
const char *cv_trip_status_name(cv_trip_status s);

#endif
