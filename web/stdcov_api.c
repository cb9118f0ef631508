/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* stdcov_api.c — the carpool interoperability standard ("standard covoiturage", fabmob) under /stdcov/v1/, for
   partner operators: trip planners, MaaS apps and other cooperatives. Answered from the same matcher as /v1 (no
   second matching path), as JSON typed as the standard's OpenAPI file types it: timestamps are integer UNIX
   seconds, coordinates numbers, distances metres, radii kilometres. Errors are {"error": ...} as the standard
   writes them (with our "code" and "message" beside it). Every route but /status needs a key with the interop
   scope when the server requires keys.

   A driver journey is one way one of our offers can carry the partner's passenger on one date: the question is a
   search that stores nothing (cv_matcher_search), the pickup and drop-off are where our matcher puts them, and only
   those within the radii and the time window asked are answered. Nothing in an answer shows a driver's exact origin
   or destination (../shared/DESIGN.md, "What leaves the server"): the driver is named by an alias, and the points
   given are the passenger's pickup and drop-off. A passenger journey is one occurrence of one of our requests that
   leaves from near the departure for near the arrival within the time window (cv_matcher_requests_near), for a
   partner's driver. A partner's booking on a driver journey is a covoit booking like any other (a request of the
   partner's, booked on the offer), with what the standard keeps beside it in the store (cv_partner_booking). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "web/osrm_json.h"
#include "web/trip_json.h"
#include "web/web_int.h"
#include "matcher/timeutil.h"
#include "routing/path.h"
#include "routing/snap.h"

#define BAD MHD_HTTP_BAD_REQUEST

/* The standard's defaults: a quarter of an hour either side of the date, a kilometre around each point. */
#define STDCOV_TIME_DELTA_S 900
#define STDCOV_RADIUS_KM 1.0
/* The widest radius searched: beyond it a pickup is no longer "near" the place asked, whatever the client says. */
#define STDCOV_MAX_RADIUS_KM 100.0
/* Journeys considered before the radius and count filters (the matcher's best first). */
#define STDCOV_CANDIDATES 1000

/* {"error": message, "code": code, "message": message}; returns -1. */
static int stdcov_error(web_req *r, int status, const char *code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static int stdcov_error(web_req *r, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    web_error(r, status, code, "%s", msg); /* makes the text valid UTF-8 */
    json_t *m = r->body ? json_object_get(r->body, "message") : NULL;
    if (m)
        json_object_set_new(r->body, "error", json_string(json_string_value(m)));
    return -1;
}

/* --- query parameters, typed as the standard types them --- */

/* A number parameter: *present 0 when absent; -1 after a 400 when it is not a number within lo..hi. */
static int number_arg(web_req *r, const char *key, double lo, double hi, double *out, int *present)
{
    const char *v = web_arg(r, key);
    *present = v != NULL;
    if (!v)
        return 0;
    char *end = NULL;
    errno = 0;
    double x = strtod(v, &end);
    /* a plain decimal number: strtod alone would take spaces, hex, inf and nan */
    if (!*v || *end || errno || !isfinite(x) || strspn(v, "0123456789.eE+-") != strlen(v))
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "%s='%.60s': not a number", key, v);
    if (x < lo || x > hi)
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "%s=%.60s: must be between %g and %g", key, v, lo,
                            hi);
    *out = x;
    return 0;
}

/* An integer parameter (UNIX seconds, seconds, a count). */
static int integer_arg(web_req *r, const char *key, long long lo, long long hi, long long *out, int *present)
{
    const char *v = web_arg(r, key);
    *present = v != NULL;
    if (!v)
        return 0;
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || errno || strspn(v, "0123456789-") != strlen(v))
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "%s='%.60s': not a whole number", key, v);
    if (x < lo || x > hi)
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "%s=%.60s: must be between %lld and %lld", key, v,
                            lo, hi);
    *out = x;
    return 0;
}

static int required(web_req *r, int present, const char *key)
{
    return present ? 0 : stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "%s: required", key);
}

/* Refuses a parameter the route does not know: a misspelt one would otherwise be silently ignored. */
static int known_args(web_req *r, const char *const *keys)
{
    for (size_t i = 0; i < r->nargs; i++) {
        size_t k = 0;
        while (keys[k] && strcmp(keys[k], r->arg_key[i]))
            k++;
        if (!keys[k])
            return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_QUERY), "unknown parameter '%.60s'", r->arg_key[i]);
    }
    return 0;
}

/* The question of a journey search. */
typedef struct journey_query {
    cv_coord departure, arrival;
    int64_t date;              /* departureDate, UTC seconds */
    int64_t time_delta;        /* seconds either side */
    double departure_radius_m; /* of the pickup around departure */
    double arrival_radius_m;   /* of the drop-off around arrival */
    long long count;           /* at most this many results; -1: all */
} journey_query;

static int parse_journey_query(web_req *r, journey_query *q)
{
    static const char *const keys[] = {
        "departureLat", "departureLng",    "arrivalLat",    "arrivalLng", "departureDate",
        "timeDelta",    "departureRadius", "arrivalRadius", "count",      NULL};
    double dlat = 0, dlng = 0, alat = 0, alng = 0, drad = STDCOV_RADIUS_KM, arad = STDCOV_RADIUS_KM;
    long long date = 0, delta = STDCOV_TIME_DELTA_S, count = -1;
    int p[9];
    if (known_args(r, keys) || number_arg(r, "departureLat", -90, 90, &dlat, &p[0]) ||
        required(r, p[0], "departureLat") || number_arg(r, "departureLng", -180, 180, &dlng, &p[1]) ||
        required(r, p[1], "departureLng") || number_arg(r, "arrivalLat", -90, 90, &alat, &p[2]) ||
        required(r, p[2], "arrivalLat") || number_arg(r, "arrivalLng", -180, 180, &alng, &p[3]) ||
        required(r, p[3], "arrivalLng") || integer_arg(r, "departureDate", 0, 253402300799LL, &date, &p[4]) ||
        required(r, p[4], "departureDate") || integer_arg(r, "timeDelta", 0, CV_MAX_MARGIN_S, &delta, &p[5]) ||
        number_arg(r, "departureRadius", 0, STDCOV_MAX_RADIUS_KM, &drad, &p[6]) ||
        number_arg(r, "arrivalRadius", 0, STDCOV_MAX_RADIUS_KM, &arad, &p[7]) ||
        integer_arg(r, "count", 0, 1000000, &count, &p[8]))
        return -1;
    q->departure = (cv_coord){cv_fixed(dlng), cv_fixed(dlat)};
    q->arrival = (cv_coord){cv_fixed(alng), cv_fixed(alat)};
    q->date = date;
    q->time_delta = delta;
    q->departure_radius_m = drad * 1000.0;
    q->arrival_radius_m = arad * 1000.0;
    q->count = count;
    return 0;
}

/* --- answers --- */

/* "2026-12-08" for a local date. */
static void day_text(cv_day d, char out[16])
{
    int y, m, dd;
    cv_day_to_ymd(d, &y, &m, &dd);
    snprintf(out, 16, "%04d-%02d-%02d", y, m, dd);
}

/* The journey's link on our map page, when the server knows where people reach it: the journey's id with the
   passenger's pickup, drop-off and (when it has one, 0: none) pickup time, which the page searches again to show
   the ride (docs/API.md, The map page). */
static void set_web_url(const web_req *r, json_t *j, const char *id, cv_coord pickup, cv_coord dropoff, int64_t at)
{
    if (!j || !r->public_url)
        return;
    size_t n = strlen(r->public_url);
    char url[1400], when[32] = "";
    if (at > 0)
        snprintf(when, sizeof when, "&at=%lld", (long long)at);
    snprintf(url, sizeof url, "%s%s?journey=%s&from=%.6f,%.6f&to=%.6f,%.6f%s", r->public_url,
             n && r->public_url[n - 1] == '/' ? "" : "/", id, cv_deg(pickup.lon), cv_deg(pickup.lat),
             cv_deg(dropoff.lon), cv_deg(dropoff.lat), when);
    json_object_set_new(j, "webUrl", json_string(url));
}

/* The standard's User for our driver of an offer: an id and an alias that name the offer, never the person. */
static json_t *driver_user(const web_req *r, int64_t offer_id)
{
    char id[40], alias[48];
    snprintf(id, sizeof id, "driver-%lld", (long long)offer_id);
    snprintf(alias, sizeof alias, "Driver %lld", (long long)offer_id);
    return json_pack("{s:s,s:s,s:s}", "id", id, "alias", alias, "operator", r->operator_name);
}

/* The passenger's ride along the driver's route as a Google encoded polyline (precision 5, malloc'ed): from the
   pickup, through the stops the driver makes on the way on that date (vias, other passengers), to the drop-off.
   Only this stretch, so that the driver's own origin and destination never show. NULL when it cannot be made. */
static char *ride_polyline(web_req *r, cv_matcher_ws *w, const cv_match *m)
{
    web_plan rt;
    if (web_plan_route(r, w, m, 0, &rt))
        return NULL;
    cv_buf buf = {0};
    int bad = cv_polyline_encode(rt.pts, rt.n, 5, &buf);
    web_plan_free(&rt);
    if (bad) {
        cv_buf_free(&buf);
        return NULL;
    }
    return buf.data;
}

/* A DriverJourney of the standard for match m (on its first date). */
static json_t *driver_journey(web_req *r, cv_matcher_ws *w, const cv_match *m)
{
    char day[16], id[64];
    day_text(m->first_day, day);
    snprintf(id, sizeof id, "offer-%lld-%s", (long long)m->offer_id, day);
    json_t *j =
        json_pack("{s:s,s:s,s:s,s:f,s:f,s:f,s:f,s:I,s:I,s:I,s:o,s:i,s:{s:s,s:f,s:s}}", "id", id, "operator",
                  r->operator_name, "type", "PLANNED", "passengerPickupLat", cv_deg(m->pickup.lat),
                  "passengerPickupLng", cv_deg(m->pickup.lon), "passengerDropLat", cv_deg(m->dropoff.lat),
                  "passengerDropLng", cv_deg(m->dropoff.lon), "passengerPickupDate", (json_int_t)m->pickup_time,
                  "duration", (json_int_t)((m->shared_ds + 5) / 10), "distance", (json_int_t)((m->shared_dm + 5) / 10),
                  "driver", driver_user(r, m->offer_id), "availableSeats", m->seats_left, "price", "type",
                  m->contribution.amount > 0 ? "PAYING" : "FREE", "amount", m->contribution.amount, "currency", "EUR");
    set_web_url(r, j, id, m->pickup, m->dropoff, m->pickup_time);
    char *line = j ? ride_polyline(r, w, m) : NULL;
    if (line)
        json_object_set_new(j, "journeyPolyline", json_string(line));
    free(line);
    return j;
}

/* The search a partner asks, as one of our requests that stores nothing: for one seat, owned by the asking
   operator, its schedule left to the caller. */
static cv_request asking(const web_req *r, cv_coord from, cv_coord to, int64_t now)
{
    cv_request q = {0};
    snprintf(q.owner, sizeof q.owner, "%s", r->auth ? r->client : "partner");
    q.from = from;
    q.to = to;
    q.seats = 1;
    q.status = CV_TRIP_OPEN;
    q.created = now;
    return q;
}

/* The answer to a search the matcher could not make (list is dropped): 500, logged. */
static int search_failed(web_req *r, json_t *list, int rc, const cv_error *err)
{
    json_decref(list);
    cv_log("error", "%s %s: %s", r->method, r->path, err->text);
    return stdcov_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, trip_json_code(rc), "%s", err->text);
}

/* A search's answer: the array list (NULL: out of memory, a 500), counted in the metrics. */
static int answer_list(web_req *r, json_t *list)
{
    web_count_matches(r, list ? json_array_size(list) : 0);
    return web_ok(r, list);
}

/* Whether match m answers q: pickup and drop-off within the radii, pickup within the time window. */
static int answers(const journey_query *q, const cv_match *m)
{
    return cv_distance_m(q->departure, m->pickup) <= q->departure_radius_m &&
           cv_distance_m(q->arrival, m->dropoff) <= q->arrival_radius_m &&
           llabs((long long)(m->pickup_time - q->date)) <= q->time_delta;
}

/* GET /stdcov/v1/driver_journeys */
static int driver_journeys(web_req *r, cv_matcher_ws *w, const journey_query q, int64_t now, json_t *list)
{
    cv_request ask = asking(r, q.departure, q.arrival, now);
    ask.when.kind = CV_PUNCTUAL;
    /* a window that starts in the past starts now: the matcher refuses past departures */
    ask.when.depart = q.date - q.time_delta < now ? (q.date + q.time_delta + now) / 2 : q.date;
    ask.when.margin_s = (int32_t)(q.date + q.time_delta - ask.when.depart);
    cv_match *v = NULL;
    size_t n = 0;
    cv_error err = {0};
    int rc = cv_matcher_search(w, &ask, now, STDCOV_CANDIDATES, &v, &n, &err);
    if (rc == CV_ENOSEGMENT || rc == CV_ENOROUTE) /* no road near a point, or none between them: no journey */
        rc = 0, n = 0;
    if (rc) {
        free(v);
        return search_failed(r, list, rc, &err);
    }
    for (size_t i = 0; i < n && (q.count < 0 || (long long)json_array_size(list) < q.count); i++)
        if (answers(&q, &v[i]) && json_array_append_new(list, driver_journey(r, w, &v[i]))) {
            json_decref(list);
            list = NULL;
            break;
        }
    free(v);
    return answer_list(r, list);
}

/* The standard's User for our passenger of a request, named by the request. */
static json_t *passenger_user(const web_req *r, int64_t request_id)
{
    char id[40], alias[48];
    snprintf(id, sizeof id, "passenger-%lld", (long long)request_id);
    snprintf(alias, sizeof alias, "Passenger %lld", (long long)request_id);
    return json_pack("{s:s,s:s,s:s}", "id", id, "alias", alias, "operator", r->operator_name);
}

/* A PassengerJourney of the standard for one occurrence of one of our requests. The standard requires a
   driverDepartureDate, which no partner's driver has given yet: it is the passenger's departure. */
static json_t *passenger_journey(const web_req *r, const cv_request_near *h)
{
    char day[16], id[64];
    day_text(h->day, day);
    snprintf(id, sizeof id, "request-%lld-%s", (long long)h->request_id, day);
    json_t *j = json_pack("{s:s,s:s,s:s,s:f,s:f,s:f,s:f,s:I,s:I,s:I,s:I,s:o,s:i}", "id", id, "operator",
                          r->operator_name, "type", "PLANNED", "passengerPickupLat", cv_deg(h->pickup.lat),
                          "passengerPickupLng", cv_deg(h->pickup.lon), "passengerDropLat", cv_deg(h->dropoff.lat),
                          "passengerDropLng", cv_deg(h->dropoff.lon), "passengerPickupDate", (json_int_t)h->depart,
                          "driverDepartureDate", (json_int_t)h->depart, "duration",
                          (json_int_t)((h->direct_ds + 5) / 10), "distance", (json_int_t)((h->direct_dm + 5) / 10),
                          "passenger", passenger_user(r, h->request_id), "requestedSeats", h->seats);
    set_web_url(r, j, id, h->pickup, h->dropoff, h->depart);
    return j;
}

/* GET /stdcov/v1/passenger_journeys: our passengers who leave from near the departure for near the arrival within
   the time window, for a partner's driver. */
static int passenger_journeys(web_req *r, cv_matcher_ws *w, const journey_query q, int64_t now, json_t *list)
{
    cv_request_near *v = NULL;
    size_t n = 0;
    cv_error err = {0};
    int64_t t0 = q.date - q.time_delta < now ? now : q.date - q.time_delta;
    int rc = cv_matcher_requests_near(w, q.departure, q.departure_radius_m, q.arrival, q.arrival_radius_m, t0,
                                      q.date + q.time_delta, q.count < 0 ? STDCOV_CANDIDATES : (size_t)q.count, &v, &n,
                                      &err);
    if (rc)
        return search_failed(r, list, rc, &err);
    for (size_t i = 0; i < n; i++) {
        int theirs = 0; /* a partner's user riding with one of our drivers is not our passenger to offer back */
        if ((rc = cv_store_request_of_partner(cv_matcher_store(w), v[i].request_id, &theirs, &err))) {
            free(v);
            return search_failed(r, list, rc, &err);
        }
        if (!theirs && json_array_append_new(list, passenger_journey(r, &v[i]))) {
            json_decref(list);
            list = NULL;
            break;
        }
    }
    free(v);
    return answer_list(r, list);
}

/* --- regular trips --- */

/* RFC 3339's partial-time, "07:30:00" (a fraction of a second may follow), or "07:30": seconds after midnight, or
   -1. */
static int32_t partial_time(const char *t)
{
    int h = 0, m = 0, sec = 0, used = 0;
    if (sscanf(t, "%2d:%2d%n", &h, &m, &used) != 2 || used != 5)
        return -1;
    if (t[5] == ':') {
        int more = 0;
        if (sscanf(t + 6, "%2d%n", &sec, &more) != 1 || more != 2)
            return -1;
        used = 8;
        if (t[8] == '.' && t[9] >= '0' && t[9] <= '9')
            for (used = 9; t[used] >= '0' && t[used] <= '9';)
                used++;
    }
    if (t[used] || h > 23 || m > 59 || sec > 59 || t[0] < '0' || t[0] > '9' || t[3] < '0' || t[3] > '9')
        return -1;
    return h * 3600 + m * 60 + sec;
}

/* departureWeekdays: "MON,TUE" (any case, as form style writes an array), or ["MON","TUE"] as some clients send
   it; absent or empty: every day. 0, or -1 after a 400. */
static int weekdays_arg(web_req *r, uint8_t *out)
{
    const char *v = web_arg(r, "departureWeekdays");
    *out = 0x7f;
    if (!v)
        return 0;
    char buf[128];
    size_t n = 0;
    for (const char *p = v; *p && n + 1 < sizeof buf; p++)
        if (*p != '[' && *p != ']' && *p != '"' && *p != ' ')
            buf[n++] = *p;
    buf[n] = '\0';
    cv_error err = {0};
    if (n && cv_parse_weekdays(buf, out, &err))
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "departureWeekdays: %s (MON,TUE,...,SUN)", err.text);
    return 0;
}

/* The question of a regular trip search. */
typedef struct trip_query {
    cv_coord departure, arrival;
    int32_t time_of_day, delta; /* local, seconds */
    uint8_t weekdays;
    double departure_radius_m, arrival_radius_m;
    cv_day first, last; /* the dates asked for, from today on */
    long long count;
} trip_query;

/* The longest span of dates searched when the client gives no maxDepartureDate: a year. */
#define STDCOV_TRIP_DAYS 365

static int parse_trip_query(web_req *r, int64_t now, trip_query *q)
{
    static const char *const keys[] = {"departureLat",
                                       "departureLng",
                                       "arrivalLat",
                                       "arrivalLng",
                                       "departureTimeOfDay",
                                       "departureWeekdays",
                                       "timeDelta",
                                       "departureRadius",
                                       "arrivalRadius",
                                       "minDepartureDate",
                                       "maxDepartureDate",
                                       "count",
                                       NULL};
    double dlat = 0, dlng = 0, alat = 0, alng = 0, drad = STDCOV_RADIUS_KM, arad = STDCOV_RADIUS_KM;
    long long delta = STDCOV_TIME_DELTA_S, count = -1, lo = 0, hi = 0;
    int p[10];
    if (known_args(r, keys) || number_arg(r, "departureLat", -90, 90, &dlat, &p[0]) ||
        required(r, p[0], "departureLat") || number_arg(r, "departureLng", -180, 180, &dlng, &p[1]) ||
        required(r, p[1], "departureLng") || number_arg(r, "arrivalLat", -90, 90, &alat, &p[2]) ||
        required(r, p[2], "arrivalLat") || number_arg(r, "arrivalLng", -180, 180, &alng, &p[3]) ||
        required(r, p[3], "arrivalLng") ||
        required(r, web_arg(r, "departureTimeOfDay") != NULL, "departureTimeOfDay") || weekdays_arg(r, &q->weekdays) ||
        integer_arg(r, "timeDelta", 0, CV_MAX_MARGIN_S, &delta, &p[4]) ||
        number_arg(r, "departureRadius", 0, STDCOV_MAX_RADIUS_KM, &drad, &p[5]) ||
        number_arg(r, "arrivalRadius", 0, STDCOV_MAX_RADIUS_KM, &arad, &p[6]) ||
        integer_arg(r, "minDepartureDate", 0, 253402300799LL, &lo, &p[7]) ||
        integer_arg(r, "maxDepartureDate", 0, 253402300799LL, &hi, &p[8]) ||
        integer_arg(r, "count", 0, 1000000, &count, &p[9]))
        return -1;
    const char *tod = web_arg(r, "departureTimeOfDay");
    if ((q->time_of_day = partial_time(tod)) < 0)
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE),
                            "departureTimeOfDay='%.60s': not a time of day (HH:MM:SS, e.g. 07:30:00)", tod);
    q->departure = (cv_coord){cv_fixed(dlng), cv_fixed(dlat)};
    q->arrival = (cv_coord){cv_fixed(alng), cv_fixed(alat)};
    q->delta = (int32_t)delta;
    q->departure_radius_m = drad * 1000.0;
    q->arrival_radius_m = arad * 1000.0;
    q->count = count;
    cv_utc_to_local(p[7] && lo > now ? lo : now, &q->first, NULL, NULL);
    if (p[8])
        cv_utc_to_local(hi, &q->last, NULL, NULL);
    else
        q->last = q->first + STDCOV_TRIP_DAYS - 1;
    if (q->last > q->first + CV_MAX_SCHEDULE_DAYS - 1)
        q->last = q->first + CV_MAX_SCHEDULE_DAYS - 1;
    return 0;
}

static const char *const weekday_words[7] = {"MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"};

/* The schedules of a weekly trip of ours: one per weekday, at the local time of day, each with its next journey
   (id prefix-DATE) from first on. */
static json_t *weekly_schedules(const char *prefix, uint8_t weekdays, int32_t time_of_day, cv_day first, cv_day last)
{
    json_t *list = json_array();
    char tod[16];
    snprintf(tod, sizeof tod, "%02d:%02d:%02d", time_of_day / 3600, time_of_day / 60 % 60, time_of_day % 60);
    for (int i = 0; list && i < 7; i++) {
        if (!(weekdays & (1u << i)))
            continue;
        cv_day d = cv_dates_next((cv_dates){first, last, (uint8_t)(1u << i)}, first);
        if (d < 0)
            continue;
        char day[16], id[96];
        day_text(d, day);
        snprintf(id, sizeof id, "%s-%s", prefix, day);
        json_t *s = json_pack("{s:s,s:s,s:[{s:s,s:I,s:s}]}", "passengerPickupDay", weekday_words[i],
                              "passengerPickupTimeOfDay", tod, "journeySchedules", "id", id, "passengerPickupDate",
                              (json_int_t)cv_local_to_utc(d, time_of_day), "type", "PLANNED");
        if (json_array_append_new(list, s))
            json_decref(list), list = NULL;
    }
    return list;
}

/* Whether pickup and drop-off are within the radii of q. */
static int trip_near(const trip_query *q, cv_coord pickup, cv_coord dropoff)
{
    return cv_distance_m(q->departure, pickup) <= q->departure_radius_m &&
           cv_distance_m(q->arrival, dropoff) <= q->arrival_radius_m;
}

/* The fields of a Trip of the standard. */
static json_t *trip_base(const web_req *r, cv_coord pickup, cv_coord dropoff, int64_t ds, int64_t dm)
{
    return json_pack("{s:s,s:f,s:f,s:f,s:f,s:I,s:I}", "operator", r->operator_name, "passengerPickupLat",
                     cv_deg(pickup.lat), "passengerPickupLng", cv_deg(pickup.lon), "passengerDropLat",
                     cv_deg(dropoff.lat), "passengerDropLng", cv_deg(dropoff.lon), "duration",
                     (json_int_t)((ds + 5) / 10), "distance", (json_int_t)((dm + 5) / 10));
}

/* A regular trip of the standard: the Trip fields, the person under who (user, taken), its schedules (taken) and
   its link; NULL when memory runs out (nothing leaks). */
static json_t *weekly_trip(const web_req *r, const char *prefix, cv_coord pickup, cv_coord dropoff, int64_t ds,
                           int64_t dm, const char *who, json_t *user, json_t *schedules)
{
    json_t *t = trip_base(r, pickup, dropoff, ds, dm);
    if (!t || !user || !schedules) {
        json_decref(t), json_decref(user), json_decref(schedules);
        return NULL;
    }
    set_web_url(r, t, prefix, pickup, dropoff, 0);
    if (json_object_set_new(t, who, user)) { /* set_new takes the value even when it fails */
        json_decref(schedules), json_decref(t);
        return NULL;
    }
    if (json_object_set_new(t, "schedules", schedules)) {
        json_decref(t);
        return NULL;
    }
    return t;
}

/* GET /stdcov/v1/driver_regular_trips: our weekly offers that can carry a passenger from near the departure to
   near the arrival at the time of day asked, on some of the weekdays asked, as a regular request of ours would be
   matched. */
static int driver_regular_trips(web_req *r, cv_matcher_ws *w, const trip_query q, int64_t now, json_t *list)
{
    cv_request ask = asking(r, q.departure, q.arrival, now);
    ask.when.kind = CV_REGULAR;
    ask.when.weekdays = q.weekdays;
    ask.when.time_of_day = q.time_of_day;
    ask.when.first_day = q.first;
    ask.when.last_day = q.last;
    ask.when.margin_s = q.delta;
    cv_match *v = NULL;
    size_t n = 0;
    cv_error err = {0};
    int rc = cv_matcher_search(w, &ask, now, STDCOV_CANDIDATES, &v, &n, &err);
    if (rc == CV_ENOSEGMENT || rc == CV_ENOROUTE)
        rc = 0, n = 0;
    if (rc) {
        free(v);
        return search_failed(r, list, rc, &err);
    }
    for (size_t i = 0; list && i < n && (q.count < 0 || (long long)json_array_size(list) < q.count); i++) {
        const cv_match *m = &v[i];
        if (!m->regular || !trip_near(&q, m->pickup, m->dropoff))
            continue;
        int32_t tod;
        cv_utc_to_local(m->pickup_time, NULL, &tod, NULL);
        char prefix[48];
        snprintf(prefix, sizeof prefix, "offer-%lld", (long long)m->offer_id);
        if (json_array_append_new(list,
                                  weekly_trip(r, prefix, m->pickup, m->dropoff, m->shared_ds, m->shared_dm, "driver",
                                              driver_user(r, m->offer_id),
                                              weekly_schedules(prefix, m->weekdays, tod, m->first_day, m->last_day)))) {
            json_decref(list);
            list = NULL;
            break;
        }
    }
    free(v);
    return answer_list(r, list);
}

/* GET /stdcov/v1/passenger_regular_trips: our passengers' weekly requests from near the departure to near the
   arrival at about the time of day asked, on some of the weekdays asked. */
static int passenger_regular_trips(web_req *r, cv_matcher_ws *w, const trip_query q, json_t *list)
{
    cv_regular_near *v = NULL;
    size_t n = 0;
    cv_error err = {0};
    int rc = cv_matcher_regular_requests_near(w, q.departure, q.departure_radius_m, q.arrival, q.arrival_radius_m,
                                              q.weekdays, q.time_of_day, q.delta, q.first, q.last,
                                              q.count < 0 ? STDCOV_CANDIDATES : (size_t)q.count, &v, &n, &err);
    if (rc)
        return search_failed(r, list, rc, &err);
    for (size_t i = 0; list && i < n; i++) {
        const cv_regular_near *h = &v[i];
        char prefix[48];
        snprintf(prefix, sizeof prefix, "request-%lld", (long long)h->request_id);
        if (json_array_append_new(
                list, weekly_trip(r, prefix, h->pickup, h->dropoff, h->direct_ds, h->direct_dm, "passenger",
                                  passenger_user(r, h->request_id),
                                  weekly_schedules(prefix, h->weekdays, h->time_of_day, h->first, h->last)))) {
            json_decref(list);
            list = NULL;
            break;
        }
    }
    free(v);
    return answer_list(r, list);
}

/* --- bookings --- */

static int not_get(web_req *r);

/* Refuses (405) any method but POST; 0 for POST. */
static int not_post(web_req *r)
{
    if (!strcmp(r->method, "POST"))
        return 0;
    r->allow = "POST";
    return stdcov_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, osrm_word(OSRM_METHOD_NOT_ALLOWED),
                        "%s is not allowed on %s: use POST", r->method, r->path);
}

/* The request's body as a JSON object (the caller releases it), or NULL after a 400 naming what it must be. */
static json_t *body_object(web_req *r, const char *what)
{
    json_error_t je;
    json_t *doc = json_loadb(r->upload, r->upload_len, JSON_REJECT_DUPLICATES, &je);
    if (json_is_object(doc))
        return doc;
    int json = doc != NULL;
    json_decref(doc);
    stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "the body must be %s: %s", what,
                 json ? "it is other JSON" : je.text);
    return NULL;
}

static const char *const partner_words[] = {"WAITING_CONFIRMATION", "CONFIRMED", "COMPLETED_PENDING_VALIDATION",
                                            "VALIDATED", "CANCELLED"};

static int partner_status_parse(const char *w)
{
    for (int i = 0; w && i <= CV_PARTNER_CANCELLED; i++)
        if (!strcmp(w, partner_words[i]))
            return i;
    return -1;
}

/* The standard's status of a partner's booking: our driver's answer (pending, accepted, or no longer live) with
   the progress the partner reported after it. */
static cv_partner_status partner_status(const cv_partner_booking *pb, const cv_booking *b)
{
    cv_partner_status ours = b->status == CV_BOOKING_PENDING    ? CV_PARTNER_WAITING
                             : b->status == CV_BOOKING_ACCEPTED ? CV_PARTNER_CONFIRMED
                                                                : CV_PARTNER_CANCELLED;
    if (ours == CV_PARTNER_CANCELLED || pb->status == CV_PARTNER_CANCELLED)
        return CV_PARTNER_CANCELLED;
    return pb->status > ours ? pb->status : ours;
}

/* 8-4-4-4-12 hexadecimal digits (any version: the standard advises version 4, partners' tools send others). */
int web_is_uuid(const char *t)
{
    static const int dash[] = {8, 13, 18, 23};
    if (strlen(t) != 36)
        return 0;
    for (int i = 0, k = 0; i < 36; i++) {
        if (k < 4 && i == dash[k]) {
            if (t[i] != '-')
                return 0;
            k++;
        } else if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f') || (t[i] >= 'A' && t[i] <= 'F'))) {
            return 0;
        }
    }
    return 1;
}

const char *web_stdcov_status_word(int status)
{
    return status >= 0 && status <= CV_PARTNER_CANCELLED ? partner_words[status] : "";
}

/* The standard's Booking for a partner's booking pb, our booking b of offer b->offer_id, at status (-1: as they
   stand now). */
static json_t *booking_at(const web_req *r, const cv_partner_booking *pb, const cv_booking *b, int status)
{
    json_t *j = json_pack(
        "{s:s,s:o,s:{s:s,s:s,s:s},s:I,s:f,s:f,s:f,s:f,s:s,s:{s:s,s:f,s:s},s:s}", "id", pb->uuid, "driver",
        driver_user(r, b->offer_id), "passenger", "id", pb->user_id, "alias", pb->user_alias, "operator",
        pb->user_operator, "passengerPickupDate", (json_int_t)b->pickup_time, "passengerPickupLat",
        cv_deg(b->pickup.lat), "passengerPickupLng", cv_deg(b->pickup.lon), "passengerDropLat", cv_deg(b->dropoff.lat),
        "passengerDropLng", cv_deg(b->dropoff.lon), "status",
        partner_words[status < 0 ? (int)partner_status(pb, b) : status], "price", "type",
        b->amount > 0 ? "PAYING" : "FREE", "amount", b->amount, "currency", "EUR", "driverJourneyId", pb->journey);
    set_web_url(r, j, pb->journey, b->pickup, b->dropoff, b->pickup_time);
    return j;
}

static json_t *booking_json(const web_req *r, const cv_partner_booking *pb, const cv_booking *b)
{
    return booking_at(r, pb, b, -1);
}

json_t *web_stdcov_event(void *server, cv_store *store, const cv_outbox_event *e)
{
    /* the Booking as a request of ours would show it: the server's operator and public URL are all it reads */
    const cv_server_options *o = web_server_options(server);
    web_req r = {.operator_name = o->operator_name, .public_url = o->public_url};
    cv_partner_booking pb;
    cv_booking b;
    cv_error err = {0};
    json_t *data = NULL;
    int rc = cv_store_get_partner_booking(store, e->uuid, &pb, &err);
    if (rc == CV_ENOTFOUND) { /* a partner's driver on our passenger's journey: the Booking it made, as it stands */
        cv_remote_booking rb;
        json_error_t je;
        if (cv_store_get_remote_booking(store, e->uuid, &rb, &err) || !(data = json_loads(rb.doc, 0, &je)))
            return NULL;
        json_object_set_new(data, "status", json_string(partner_words[e->status]));
    } else if (rc || cv_store_get_booking(store, pb.booking_id, &b, &err)) {
        return NULL;
    } else {
        data = booking_at(&r, &pb, &b, (int)e->status);
    }
    if (data && !json_object_get(data, "webUrl")) /* required in an event: empty when we have no page to link */
        json_object_set_new(data, "webUrl", json_string(""));
    /* a DriverCarpoolBooking when the driver is ours, a PassengerCarpoolBooking when the passenger is; no OpenID
       Connect here, so no token */
    return data ? json_pack("{s:s,s:s,s:o}", "id", e->event, "idToken", "", "data", data) : NULL;
}

/* A string member of at most cap - 1 bytes (may be empty: the standard sets no minimum), into out. */
static int text_member(web_req *r, json_t *obj, const char *where, const char *key, char *out, size_t cap)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "%s%s: required, a string", where, key);
    if (json_string_length(v) >= cap)
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "%s%s: at most %zu bytes", where, key, cap - 1);
    snprintf(out, cap, "%s", json_string_value(v));
    return 0;
}

static int coord_members(web_req *r, json_t *doc, const char *lat_key, const char *lng_key, cv_coord *out)
{
    json_t *lat = json_object_get(doc, lat_key), *lng = json_object_get(doc, lng_key);
    if (!json_is_number(lat) || !json_is_number(lng) || fabs(json_number_value(lat)) > 90 ||
        fabs(json_number_value(lng)) > 180)
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "%s, %s: required, numbers in degrees", lat_key,
                            lng_key);
    *out = (cv_coord){cv_fixed(json_number_value(lng)), cv_fixed(json_number_value(lat))};
    return 0;
}

/* The booking uuid as the partner that asks may see it: 404 missing_booking when there is none or another partner
   made it. 0, or -1 after the answer. */
static int find_booking(web_req *r, cv_matcher_ws *w, const char *uuid, cv_partner_booking *pb, cv_booking *b)
{
    cv_error err = {0};
    int rc = web_is_uuid(uuid) ? cv_store_get_partner_booking(cv_matcher_store(w), uuid, pb, &err) : CV_ENOTFOUND;
    if (!rc && r->auth && !(r->scopes & CV_SCOPE_ADMIN) && strcmp(pb->partner, r->client))
        rc = CV_ENOTFOUND;
    if (!rc)
        rc = cv_store_get_booking(cv_matcher_store(w), pb->booking_id, b, &err);
    if (rc == CV_ENOTFOUND)
        return stdcov_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND), "missing_booking");
    if (rc)
        return stdcov_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, trip_json_code(rc), "%s", err.text);
    return 0;
}

/* The owner of the request a partner's user books with: the partner's client as with every /v1 client
   ("CLIENT:REF", "partner" without keys), REF the user's operator and id ("partner.example.net/u-42"), printable
   ASCII only. */
static void partner_owner(const web_req *r, const cv_partner_booking *pb, char owner[CV_OWNER_MAX])
{
    int n = snprintf(owner, CV_OWNER_MAX, "%.60s:%.30s/%.30s", r->auth ? r->client : "partner", pb->user_operator,
                     pb->user_id);
    for (int i = 0; i < n && i < CV_OWNER_MAX - 1; i++)
        if ((unsigned char)owner[i] < 0x21 || (unsigned char)owner[i] > 0x7e)
            owner[i] = '_';
}

/* Whether a booking has this id already, either way. */
static int booking_known(cv_matcher_ws *w, const char *uuid)
{
    cv_error err = {0};
    cv_partner_booking pb;
    cv_remote_booking rb;
    return !cv_store_get_partner_booking(cv_matcher_store(w), uuid, &pb, &err) ||
           !cv_store_get_remote_booking(cv_matcher_store(w), uuid, &rb, &err);
}

#define OFFER_RADIUS_M 2000.0 /* how far from our passenger's own points a partner's driver may pick up and drop */

/* POST /stdcov/v1/bookings with a passengerJourneyId: a partner's driver offers to carry our passenger on one of
   their journeys (request-N-YYYY-MM-DD). Recorded as a booking with that partner, waiting for our passenger's
   answer (/v1/bookings/{id}/accept or refuse), which the partner gets as a booking event. doc is borrowed. */
static int offer_to_passenger(web_req *r, cv_matcher_ws *w, json_t *doc, const char *uuid, cv_coord pickup,
                              cv_coord drop, int64_t when)
{
    cv_remote_booking b = {.status = CV_PARTNER_WAITING, .side = 1};
    char passenger_id[CV_PARTNER_TEXT_MAX], passenger_op[CV_PARTNER_TEXT_MAX], driver_op[CV_PARTNER_TEXT_MAX];
    json_t *passenger = json_object_get(doc, "passenger");
    if (text_member(r, doc, "", "passengerJourneyId", b.journey, sizeof b.journey) ||
        text_member(r, json_object_get(doc, "driver"), "driver.", "operator", driver_op, sizeof driver_op) ||
        text_member(r, passenger, "passenger.", "id", passenger_id, sizeof passenger_id) ||
        text_member(r, passenger, "passenger.", "operator", passenger_op, sizeof passenger_op))
        return -1;
    long long id = 0, who = 0;
    int y = 0, mo = 0, d = 0, used = 0, used2 = 0;
    if (sscanf(b.journey, "request-%lld-%4d-%2d-%2d%n", &id, &y, &mo, &d, &used) != 4 ||
        used != (int)strlen(b.journey) || id <= 0)
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "missing_journey: no passenger journey '%.60s'",
                            b.journey);
    if (strcmp(passenger_op, r->operator_name) || sscanf(passenger_id, "passenger-%lld%n", &who, &used2) != 1 ||
        used2 != (int)strlen(passenger_id) || who != id)
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), /* the standard declares no 404 here */
                            "missing_user: the passenger of %s is passenger-%lld of %s", b.journey, id,
                            r->operator_name);
    cv_error err = {0};
    if (booking_known(w, uuid))
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "booking already exists (id %s)", uuid);
    cv_request q;
    int rc = cv_store_get_request(cv_matcher_store(w), id, &q, &err);
    cv_day day, on = cv_day_from_ymd(y, mo, d);
    cv_utc_to_local(when, &day, NULL, NULL);
    if (rc == CV_ENOTFOUND || (!rc && (q.status != CV_TRIP_OPEN || !cv_dates_contains(cv_schedule_dates(&q.when), on))))
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "missing_journey: no passenger journey %s",
                            b.journey);
    if (rc)
        return stdcov_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, trip_json_code(rc), "%s", err.text);
    if (day != on)
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "passengerPickupDate: not on the date of journey %s",
                            b.journey);
    if (cv_distance_m(pickup, q.from) > OFFER_RADIUS_M || cv_distance_m(drop, q.to) > OFFER_RADIUS_M)
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE),
                            "the pickup and the drop-off must be within %.0f m of the passenger's own (%.0f m and "
                            "%.0f m)",
                            OFFER_RADIUS_M, cv_distance_m(pickup, q.from), cv_distance_m(drop, q.to));
    snprintf(b.uuid, sizeof b.uuid, "%s", uuid);
    /* the partner is the client of the key; without keys (local demo mode), its driver's operator */
    snprintf(b.partner, sizeof b.partner, "%.127s", r->auth ? r->client : driver_op[0] ? driver_op : "partner");
    snprintf(b.owner, sizeof b.owner, "%s", q.owner);
    b.request_id = q.id;
    char *text = json_dumps(doc, WEB_JSON_FLAGS);
    if (!text || strlen(text) >= sizeof b.doc) {
        free(text);
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "the booking is too large");
    }
    snprintf(b.doc, sizeof b.doc, "%s", text);
    free(text);
    if ((rc = cv_store_add_remote_booking(cv_matcher_store(w), &b, &err)))
        return stdcov_error(r, rc == CV_ECONFLICT ? BAD : MHD_HTTP_INTERNAL_SERVER_ERROR, trip_json_code(rc), "%s",
                            err.text);
    web_count_booking(r, WEB_BOOK_CREATE);
    return web_created(r, json_incref(doc));
}

/* POST /stdcov/v1/bookings: a partner's user books a seat on one of our driver journeys (driverJourneyId). It is a
   covoit booking like any other: a request of the partner's user (partner_owner) from the pickup to the
   drop-off at the pickup date, booked on the offer, pending until our driver accepts. */
static int post_booking(web_req *r, cv_matcher_ws *w)
{
    json_t *doc = body_object(r, "a Booking object");
    if (!doc)
        return -1;
    cv_partner_booking pb = {0};
    char driver_id[CV_PARTNER_TEXT_MAX], status[40];
    cv_coord pickup, drop;
    json_t *driver = json_object_get(doc, "driver"), *passenger = json_object_get(doc, "passenger");
    json_t *date = json_object_get(doc, "passengerPickupDate");
    int rc = text_member(r, doc, "", "id", pb.uuid, sizeof pb.uuid);
    if (!rc && !web_is_uuid(pb.uuid))
        rc = stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "id: must be a UUID (8-4-4-4-12 hex digits)");
    if (!rc && !json_is_object(driver))
        rc = stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "driver: required, a User");
    if (!rc && !json_is_object(passenger))
        rc = stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "passenger: required, a User");
    if (!rc)
        rc = text_member(r, driver, "driver.", "id", driver_id, sizeof driver_id) ||
             text_member(r, passenger, "passenger.", "id", pb.user_id, sizeof pb.user_id) ||
             text_member(r, passenger, "passenger.", "alias", pb.user_alias, sizeof pb.user_alias) ||
             text_member(r, passenger, "passenger.", "operator", pb.user_operator, sizeof pb.user_operator) ||
             coord_members(r, doc, "passengerPickupLat", "passengerPickupLng", &pickup) ||
             coord_members(r, doc, "passengerDropLat", "passengerDropLng", &drop) ||
             text_member(r, doc, "", "status", status, sizeof status);
    if (!rc && !json_is_integer(date))
        rc = stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "passengerPickupDate: required, UNIX seconds");
    if (!rc && !json_is_object(json_object_get(doc, "price")))
        rc = stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "price: required, a Price");
    if (!rc && strcmp(status, "WAITING_CONFIRMATION"))
        rc = stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE),
                          "status: a new booking is WAITING_CONFIRMATION, not '%.40s'", status);
    if (!rc && !json_object_get(doc, "driverJourneyId")) {
        if (json_object_get(doc, "passengerJourneyId")) { /* a partner's driver offers our passenger a ride */
            rc = offer_to_passenger(r, w, doc, pb.uuid, pickup, drop, json_integer_value(date));
            json_decref(doc);
            return rc;
        }
        rc = stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE),
                          "driverJourneyId or passengerJourneyId: one is required");
    }
    if (!rc)
        rc = text_member(r, doc, "", "driverJourneyId", pb.journey, sizeof pb.journey);
    long long offer_id = 0;
    int y = 0, mo = 0, d = 0, used = 0;
    if (!rc && (sscanf(pb.journey, "offer-%lld-%4d-%2d-%2d%n", &offer_id, &y, &mo, &d, &used) != 4 ||
                used != (int)strlen(pb.journey) || offer_id <= 0))
        rc = stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "missing_journey: no driver journey '%.60s'",
                          pb.journey);
    int64_t when = json_integer_value(date);
    json_decref(doc);
    if (rc)
        return -1;
    cv_error err = {0};
    if (booking_known(w, pb.uuid))
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "booking already exists (id %s)", pb.uuid);
    cv_offer o;
    if ((rc = cv_store_get_offer(cv_matcher_store(w), offer_id, &o, &err)) == CV_ENOTFOUND ||
        (!rc && o.status != CV_TRIP_OPEN))
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "missing_journey: no driver journey %s", pb.journey);
    if (rc)
        return stdcov_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, trip_json_code(rc), "%s", err.text);
    cv_day day;
    cv_utc_to_local(when, &day, NULL, NULL);
    if (day != cv_day_from_ymd(y, mo, d))
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "passengerPickupDate: not on the date of journey %s",
                            pb.journey);
    int64_t now = (int64_t)time(NULL);
    cv_request q = {0};
    partner_owner(r, &pb, q.owner);
    q.from = pickup;
    q.to = drop;
    q.when.kind = CV_PUNCTUAL;
    q.when.depart = when;
    q.when.margin_s = CV_DEFAULT_MARGIN_S;
    q.seats = 1;
    q.status = CV_TRIP_OPEN;
    q.created = now;
    cv_booking b;
    if ((rc = cv_matcher_add_request(w, &q, now, &err)))
        return stdcov_error(
            r, rc == CV_EINVAL || rc == CV_ENOSEGMENT || rc == CV_ENOROUTE ? BAD : MHD_HTTP_INTERNAL_SERVER_ERROR,
            trip_json_code(rc), "%s", err.text);
    if ((rc = cv_matcher_book(w, offer_id, q.id, now, &b, &err))) {
        cv_error ignore = {0};
        cv_matcher_cancel_request(w, q.id, &ignore);
        if (rc == CV_ENOTFOUND)
            return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "missing_journey: %s", err.text);
        if (rc == CV_ECONFLICT || rc == CV_EINVAL) /* the journey cannot take this passenger: 400, as the standard
                                                      declares no 409 here */
            return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE),
                                "journey %s cannot take this passenger: no seat left on that date, or the times or "
                                "the driver's detour no longer fit",
                                pb.journey);
        return stdcov_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, trip_json_code(rc), "%s", err.text);
    }
    /* the partner is the client of the key; without keys (local demo mode), the operator its user belongs to */
    snprintf(pb.partner, sizeof pb.partner, "%.127s",
             r->auth               ? r->client
             : pb.user_operator[0] ? pb.user_operator
                                   : "partner");
    pb.booking_id = b.id;
    pb.status = CV_PARTNER_WAITING;
    if ((rc = cv_store_add_partner_booking(cv_matcher_store(w), &pb, &err))) {
        cv_error ignore = {0};
        cv_matcher_cancel_request(w, q.id, &ignore); /* cancels the booking with it */
        if (rc == CV_ECONFLICT)                      /* another request with the same id came first */
            return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "%s", err.text);
        return stdcov_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, trip_json_code(rc), "%s", err.text);
    }
    web_count_booking(r, WEB_BOOK_CREATE);
    return web_created(r, booking_json(r, &pb, &b));
}

/* PATCH /stdcov/v1/bookings/{id}?status=...[&message=...]: the partner moves its booking on. Forward only (409
   status_already_set otherwise); CONFIRMED is our driver's answer, not the partner's; statuses may be skipped, as
   the standard says: a ride the partner reports completed or validated without our driver's answer is the
   partner's word, kept as such, and our booking stays as our driver left it; CANCELLED frees the seat at once. */
static int patch_booking(web_req *r, cv_matcher_ws *w, const char *uuid)
{
    static const char *const keys[] = {"status", "message", NULL};
    if (known_args(r, keys))
        return -1;
    const char *word = web_arg(r, "status"), *message = web_arg(r, "message");
    int to = partner_status_parse(word);
    if (!word)
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "status: required");
    if (to < 0)
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "%.60s is not a valid status", word);
    if (message && strlen(message) >= CV_PARTNER_MESSAGE_MAX)
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "message: at most %d characters",
                            CV_PARTNER_MESSAGE_MAX - 1);
    cv_partner_booking pb;
    cv_booking b;
    if (find_booking(r, w, uuid, &pb, &b))
        return -1;
    cv_partner_status now_at = partner_status(&pb, &b);
    if (to <= (int)now_at)
        return stdcov_error(r, MHD_HTTP_CONFLICT, osrm_word(OSRM_CONFLICT), "status_already_set");
    if (to == CV_PARTNER_CONFIRMED)
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE),
                            "CONFIRMED: our driver confirms a booking on their journey, not the passenger's operator");
    cv_error err = {0};
    /* the partner's status first: a cancellation it makes itself owes it no booking event (the store's trigger) */
    int rc = cv_store_set_partner_status(cv_matcher_store(w), pb.uuid, (cv_partner_status)to, message, &err);
    if (!rc && to == CV_PARTNER_CANCELLED && (b.status == CV_BOOKING_PENDING || b.status == CV_BOOKING_ACCEPTED) &&
        (rc = cv_matcher_cancel_booking(w, b.id, (int64_t)time(NULL), &err))) {
        cv_error ignore = {0}; /* the seat is still held: the partner's status goes back so that it can try again */
        cv_store_set_partner_status(cv_matcher_store(w), pb.uuid, pb.status, pb.message, &ignore);
    }
    if (!rc)
        rc = cv_store_get_partner_booking(cv_matcher_store(w), pb.uuid, &pb, &err) ||
             cv_store_get_booking(cv_matcher_store(w), pb.booking_id, &b, &err);
    if (rc)
        return stdcov_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, trip_json_code(rc), "%s", err.text);
    if (to == CV_PARTNER_CANCELLED)
        web_count_booking(r, WEB_BOOK_CANCEL);
    return web_ok(r, booking_json(r, &pb, &b));
}

/* An optional string member of 1 to cap - 1 bytes into out ("" when absent). */
static int optional_text(web_req *r, json_t *doc, const char *key, char *out, size_t cap)
{
    json_t *v = json_object_get(doc, key);
    out[0] = '\0';
    if (!v)
        return 0;
    if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) >= cap)
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "%s: a string of 1 to %zu bytes", key, cap - 1);
    snprintf(out, cap, "%s", json_string_value(v));
    return 0;
}

/* POST /stdcov/v1/messages: a partner's user writes to one of ours, the driver of a journey (DRIVER, to
   driver-N) or the passenger (PASSENGER, to passenger-N). Stored for our user, who reads it in /v1/messages. 404
   missing_user for a recipient we do not have. */
static int post_message(web_req *r, cv_matcher_ws *w)
{
    if (not_post(r))
        return -1;
    json_t *doc = body_object(r, "a message object");
    if (!doc)
        return -1;
    cv_message m = {0};
    char to_id[CV_PARTNER_TEXT_MAX], to_op[CV_PARTNER_TEXT_MAX], to_alias[CV_PARTNER_TEXT_MAX], kind[16];
    char djid[256], pjid[256];
    json_t *from = json_object_get(doc, "from"), *to = json_object_get(doc, "to");
    int rc = 0;
    if (!json_is_object(from) || !json_is_object(to))
        rc = stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "from, to: required, Users");
    if (!rc)
        rc = text_member(r, from, "from.", "id", m.from_id, sizeof m.from_id) ||
             text_member(r, from, "from.", "alias", m.from_alias, sizeof m.from_alias) ||
             text_member(r, from, "from.", "operator", m.from_operator, sizeof m.from_operator) ||
             text_member(r, to, "to.", "id", to_id, sizeof to_id) ||
             text_member(r, to, "to.", "alias", to_alias, sizeof to_alias) ||
             text_member(r, to, "to.", "operator", to_op, sizeof to_op) ||
             text_member(r, doc, "", "message", m.text, sizeof m.text) ||
             text_member(r, doc, "", "recipientCarpoolerType", kind, sizeof kind) ||
             optional_text(r, doc, "driverJourneyId", djid, sizeof djid) ||
             optional_text(r, doc, "passengerJourneyId", pjid, sizeof pjid) ||
             optional_text(r, doc, "bookingId", m.booking, sizeof m.booking);
    json_decref(doc);
    if (rc)
        return -1;
    if (!m.text[0])
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "message: must not be empty");
    int driver = !strcmp(kind, "DRIVER");
    if (!driver && strcmp(kind, "PASSENGER"))
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE),
                            "recipientCarpoolerType: DRIVER or PASSENGER, not '%.20s'", kind);
    if (m.booking[0] && !web_is_uuid(m.booking))
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "bookingId: must be a UUID");
    snprintf(m.journey, sizeof m.journey, "%.127s", driver ? djid : pjid[0] ? pjid : djid);
    long long id = 0;
    int used = 0;
    cv_error err = {0};
    rc = CV_ENOTFOUND;
    if (!strcmp(to_op, r->operator_name) &&
        sscanf(to_id, driver ? "driver-%lld%n" : "passenger-%lld%n", &id, &used) == 1 && used == (int)strlen(to_id) &&
        id > 0) {
        if (driver) {
            cv_offer o;
            if (!(rc = cv_store_get_offer(cv_matcher_store(w), id, &o, &err)))
                snprintf(m.owner, sizeof m.owner, "%s", o.owner);
        } else {
            cv_request q;
            if (!(rc = cv_store_get_request(cv_matcher_store(w), id, &q, &err)))
                snprintf(m.owner, sizeof m.owner, "%s", q.owner);
        }
    } else if (!driver && !strcmp(to_op, r->operator_name) && !strncmp(to_id, "p-", 2) && web_is_uuid(to_id + 2)) {
        /* our passenger of a booking on the partner's journey, as we named them to it (federation.c) */
        cv_remote_booking rb;
        if (!(rc = cv_store_get_remote_booking(cv_matcher_store(w), to_id + 2, &rb, &err)) && r->auth &&
            !(r->scopes & CV_SCOPE_ADMIN) && strcmp(rb.partner, r->client))
            rc = CV_ENOTFOUND;
        if (!rc) {
            snprintf(m.owner, sizeof m.owner, "%s", rb.owner);
            snprintf(m.booking, sizeof m.booking, "%s", rb.uuid);
        }
    }
    if (rc == CV_ENOTFOUND)
        return stdcov_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND), "missing_user");
    m.trip_kind = driver ? 0 : 1;
    m.trip_id = id;
    snprintf(m.partner, sizeof m.partner, "%.127s",
             r->auth              ? r->client
             : m.from_operator[0] ? m.from_operator
                                  : "partner");
    if (rc || (rc = cv_store_add_message(cv_matcher_store(w), &m, &err)))
        return stdcov_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, trip_json_code(rc), "%s", err.text);
    return web_created(r, json_object()); /* the standard's 201 has no body */
}

/* A booking a partner tells us of that we never asked for: one of our users booked on the partner's own site
   (its webUrl), and the event's Booking names our operator as the passenger's. Recorded as a remote booking with
   no owner of ours (the partner cannot know our users' references: the operator sees it, and the partner reads it
   back with GET /bookings/{id}). CV_ENOTFOUND when the passenger is not ours. */
static int record_partner_booking(web_req *r, cv_matcher_ws *w, const char *partner, json_t *data, const char *uuid,
                                  const char *event, int status, cv_error *err)
{
    json_t *passenger = json_object_get(data, "passenger"), *journey = json_object_get(data, "driverJourneyId");
    json_t *op = json_is_object(passenger) ? json_object_get(passenger, "operator") : NULL;
    if (!r->operator_name || !json_is_string(op) || strcmp(json_string_value(op), r->operator_name) ||
        !json_is_object(json_object_get(data, "driver")))
        return cv_fail(err, CV_ENOTFOUND, "not ours");
    cv_remote_booking b = {.side = 0, .status = (cv_partner_status)status};
    json_t *bare = json_copy(data); /* the Booking without its status, which the row keeps */
    if (bare)
        json_object_del(bare, "status");
    char *doc = bare ? json_dumps(bare, WEB_JSON_FLAGS) : NULL;
    json_decref(bare);
    if (!doc || strlen(doc) >= sizeof b.doc) {
        free(doc);
        return cv_fail(err, CV_EINVAL, "data: a Booking of at most %zu bytes", sizeof b.doc - 1);
    }
    snprintf(b.doc, sizeof b.doc, "%s", doc);
    free(doc);
    snprintf(b.uuid, sizeof b.uuid, "%s", uuid);
    snprintf(b.partner, sizeof b.partner, "%s", partner);
    snprintf(b.journey, sizeof b.journey, "%s", json_is_string(journey) ? json_string_value(journey) : "");
    return cv_store_add_event_booking(cv_matcher_store(w), &b, event, err);
}

/* POST /stdcov/v1/booking_events: a partner tells us what became of a booking one of our users made on its
   journey (web_v1's partner bookings, or on the partner's own site: record_partner_booking): a
   CarpoolBookingEvent. The status only moves forward (the standard: statuses may be skipped, a change that does not
   go forward is dismissed: 400 status_already_set, the standard declaring no 409 here); an event seen before
   changes nothing and is answered 200 again, so that a partner may send it again. The partner is the client of the
   key (without keys, the driver's operator the event names). 400 missing_booking for a booking that is neither
   ours nor of one of our users (the standard declares no 404 here). */
static int post_booking_event(web_req *r, cv_matcher_ws *w)
{
    if (not_post(r))
        return -1;
    json_t *doc = body_object(r, "a CarpoolBookingEvent object");
    if (!doc)
        return -1;
    char event[40], uuid[40], status[40], op[CV_OWNER_MAX] = "";
    json_t *data = json_object_get(doc, "data");
    int rc = text_member(r, doc, "", "id", event, sizeof event);
    if (!rc && !json_is_string(json_object_get(doc, "idToken")))
        rc = stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "idToken: required, a string");
    if (!rc && !json_is_object(data))
        rc = stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "data: required, a CarpoolBooking");
    if (!rc)
        rc = text_member(r, data, "data.", "id", uuid, sizeof uuid) ||
             text_member(r, data, "data.", "status", status, sizeof status);
    json_t *driver = data ? json_object_get(data, "driver") : NULL;
    if (!rc && json_is_object(driver) && json_is_string(json_object_get(driver, "operator")))
        snprintf(op, sizeof op, "%s", json_string_value(json_object_get(driver, "operator")));
    int to = rc ? -1 : partner_status_parse(status);
    if (!rc && (!web_is_uuid(event) || !web_is_uuid(uuid)))
        rc = stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "id, data.id: UUIDs (8-4-4-4-12 hex digits)");
    if (!rc && to < 0)
        rc = stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "data.status: %.40s is not a booking status", status);
    if (rc) {
        json_decref(doc);
        return -1;
    }
    const char *partner = r->auth ? r->client : op;
    cv_error err = {0};
    int applied = 0;
    rc = cv_store_remote_status(cv_matcher_store(w), partner, uuid, event, (cv_partner_status)to, 0, &applied, &err);
    if (rc == CV_ENOTFOUND) {
        cv_error why = {0};
        int made = record_partner_booking(r, w, partner, data, uuid, event, to, &why);
        if (!made)
            rc = 0, applied = 1;
        else if (made == CV_ECONFLICT) /* another partner's booking of that id, or its event id */
            rc = CV_ENOTFOUND;
        else if (made != CV_ENOTFOUND)
            rc = made, err = why;
    }
    json_decref(doc);
    if (rc == CV_ENOTFOUND) /* 400: the standard declares no 404 on this route */
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE),
                            "missing_booking: no booking %s of yours here, nor of a passenger of ours", uuid);
    if (rc == CV_EINVAL)
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "%s", err.text);
    if (rc)
        return stdcov_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, trip_json_code(rc), "%s", err.text);
    if (applied < 0)
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE),
                            "status_already_set: booking %s does not go from its status to %s", uuid,
                            partner_words[to]);
    if (applied > 0)
        cv_log("info", "partner booking %s is now %s (event %s)", uuid, partner_words[to], event);
    return web_ok(r, json_object()); /* the standard's 200 has no body */
}

/* A booking between one of our passengers and the asking partner's driver (cv_remote_booking), as the standard's
   Booking at its status now. */
static json_t *remote_json(const cv_remote_booking *rb)
{
    json_error_t je;
    json_t *j = json_loads(rb->doc, 0, &je);
    if (j)
        json_object_set_new(j, "status", json_string(partner_words[rb->status]));
    return j;
}

/* PATCH of a booking between our passenger and the partner's driver: forward only; the partner confirms a booking
   our passenger made on its journey (side 0), our passenger confirms one its driver offered (side 1). */
static int patch_remote(web_req *r, cv_matcher_ws *w, cv_remote_booking *rb, int to)
{
    if (to <= (int)rb->status)
        return stdcov_error(r, MHD_HTTP_CONFLICT, osrm_word(OSRM_CONFLICT), "status_already_set");
    if (rb->side == 1 && to == CV_PARTNER_CONFIRMED)
        return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE),
                            "CONFIRMED: our passenger confirms a ride your driver offers, not the driver's operator");
    cv_error err = {0};
    int rc =
        cv_store_remote_status(cv_matcher_store(w), rb->partner, rb->uuid, NULL, (cv_partner_status)to, 0, NULL, &err);
    if (!rc)
        rc = cv_store_get_remote_booking(cv_matcher_store(w), rb->uuid, rb, &err);
    if (rc)
        return stdcov_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, trip_json_code(rc), "%s", err.text);
    return web_ok(r, remote_json(rb));
}

/* The booking uuid between our passenger and the asking partner's driver, when there is one: 1 (rb filled), else
   0. */
static int find_remote(web_req *r, cv_matcher_ws *w, const char *uuid, cv_remote_booking *rb)
{
    cv_error err = {0};
    cv_partner_booking pb;
    if (!web_is_uuid(uuid) || !cv_store_get_partner_booking(cv_matcher_store(w), uuid, &pb, &err) ||
        cv_store_get_remote_booking(cv_matcher_store(w), uuid, rb, &err))
        return 0;
    return !r->auth || (r->scopes & CV_SCOPE_ADMIN) || !strcmp(rb->partner, r->client);
}

/* /stdcov/v1/bookings and /stdcov/v1/bookings/{id} */
static int bookings(web_req *r, cv_matcher_ws *w, const char *rest)
{
    if (!*rest)
        return not_post(r) ? -1 : post_booking(r, w);
    cv_remote_booking rb;
    if (find_remote(r, w, rest, &rb)) {
        static const char *const patch_keys[] = {"status", "message", NULL}, *const none[] = {NULL};
        int patch = !strcmp(r->method, "PATCH");
        if (known_args(r, patch ? patch_keys : none) || (!patch && not_get(r)))
            return -1;
        if (!patch)
            return web_ok(r, remote_json(&rb));
        int to = partner_status_parse(web_arg(r, "status"));
        if (to < 0)
            return stdcov_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "status: required, a booking status");
        return patch_remote(r, w, &rb, to);
    }
    if (!strcmp(r->method, "PATCH"))
        return patch_booking(r, w, rest);
    if (not_get(r))
        return -1;
    static const char *const none[] = {NULL};
    cv_partner_booking pb;
    cv_booking b;
    if (known_args(r, none) || find_booking(r, w, rest, &pb, &b))
        return -1;
    return web_ok(r, booking_json(r, &pb, &b));
}

/* GET /stdcov/v1/driver_journeys (driver 1), /stdcov/v1/passenger_journeys (driver 0): the query, then the
   journeys; nothing in the past is still offered or asked for. */
static int journey_search(web_req *r, cv_matcher_ws *w, int driver)
{
    journey_query q;
    if (parse_journey_query(r, &q))
        return -1;
    json_t *list = json_array();
    int64_t now = (int64_t)time(NULL);
    if (!list || q.count == 0 || q.date + q.time_delta < now)
        return web_ok(r, list);
    return driver ? driver_journeys(r, w, q, now, list) : passenger_journeys(r, w, q, now, list);
}

static int driver_search(web_req *r, cv_matcher_ws *w)
{
    return journey_search(r, w, 1);
}

static int passenger_search(web_req *r, cv_matcher_ws *w)
{
    return journey_search(r, w, 0);
}

/* GET /stdcov/v1/driver_regular_trips (driver 1), /stdcov/v1/passenger_regular_trips (driver 0): the query, then
   the trips. */
static int regular_trips(web_req *r, cv_matcher_ws *w, int driver)
{
    int64_t now = (int64_t)time(NULL);
    trip_query q;
    if (parse_trip_query(r, now, &q))
        return -1;
    json_t *list = json_array();
    if (!list || q.count == 0 || q.first > q.last)
        return web_ok(r, list);
    return driver ? driver_regular_trips(r, w, q, now, list) : passenger_regular_trips(r, w, q, list);
}

static int driver_trips(web_req *r, cv_matcher_ws *w)
{
    return regular_trips(r, w, 1);
}

static int passenger_trips(web_req *r, cv_matcher_ws *w)
{
    return regular_trips(r, w, 0);
}

/* Refuses (405) any method but GET and HEAD; 0 when it is one of them. */
static int not_get(web_req *r)
{
    if (!strcmp(r->method, "GET") || !strcmp(r->method, "HEAD"))
        return 0;
    r->allow = "GET, HEAD";
    return stdcov_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, osrm_word(OSRM_METHOD_NOT_ALLOWED),
                        "%s is not allowed on %s: use GET", r->method, r->path);
}

int web_stdcov(web_req *r)
{
    const char *p = r->rest;
    if (!strcmp(p, "status")) { /* open to all, as the standard says: whether the service is up */
        if (not_get(r))
            return -1;
        return web_ok(r, json_pack("{s:s,s:s?}", "status", "ok", "operator", r->operator_name));
    }
    static const struct {
        const char *name;
        int (*handler)(web_req *, cv_matcher_ws *);
    } routes[] = {{"driver_journeys", driver_search},
                  {"passenger_journeys", passenger_search},
                  {"driver_regular_trips", driver_trips},
                  {"passenger_regular_trips", passenger_trips}};
    size_t k = 0;
    while (k < sizeof routes / sizeof *routes && strcmp(p, routes[k].name))
        k++;
    int booking = !strncmp(p, "bookings", 8) && (p[8] == '\0' || (p[8] == '/' && p[9] && !strchr(p + 9, '/')));
    int message = !strcmp(p, "messages"), event = !strcmp(p, "booking_events");
    /* the endpoint first, as under /v1: an unknown path is 404 whatever the key may do */
    if (k == sizeof routes / sizeof *routes && !booking && !message && !event)
        return stdcov_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND), "no such endpoint: %s", r->path);
    if (web_need_scope(r, CV_SCOPE_INTEROP))
        return -1;
    if (!r->operator_name)
        return stdcov_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, osrm_word(OSRM_UNAVAILABLE),
                            "this server names no operator: start it with --operator HOST (its domain) to serve the "
                            "interoperability standard");
    if (!booking && !message && !event && not_get(r))
        return -1;
    cv_matcher_ws *w = web_matcher_ws(r);
    if (!w)
        return -1;
    if (message)
        return post_message(r, w);
    if (event)
        return post_booking_event(r, w);
    return booking ? bookings(r, w, p[8] ? p + 9 : "") : routes[k].handler(r, w);
}
