/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* trip.c — validation of offers, requests and schedules as callers give them, and status names. */
#include "matcher/trip.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/cv_utf8.h"
#include "matcher/timeutil.h"

#define MAX_LON_FIXED 1800000000 /* 180 degrees in 1e-7 */
#define MAX_LAT_FIXED 900000000  /* 90 degrees */
#define MAX_DETOUR_S (CV_MAX_DETOUR_MIN * 60)
#define MAX_DETOUR_M (CV_MAX_DETOUR_KM * 1000)

/* Returns 1 when some day in [from, to] falls on one of the weekdays. */
static int has_weekday_between(uint8_t weekdays, cv_day from, cv_day to)
{
    for (int64_t d = from; d <= to && d < (int64_t)from + 7; d++)
        if (weekdays & (1u << cv_day_weekday((cv_day)d)))
            return 1;
    return 0;
}

int cv_schedule_check(const cv_schedule *s, int64_t now, cv_error *err)
{
    if (!s)
        return cv_fail(err, CV_EINVAL, "missing schedule");
    if (s->margin_s < 0 || s->margin_s > CV_MAX_MARGIN_S)
        return cv_fail(err, CV_EINVAL, "margin_s must be between 0 and %d (got %d)", CV_MAX_MARGIN_S, (int)s->margin_s);

    if (s->kind == CV_PUNCTUAL) {
        /* depart + margin < now, without overflow at either end of int64: when depart < now the difference is
           positive and below 2^64, so the unsigned subtraction is exact. */
        if (s->depart < now && (uint64_t)now - (uint64_t)s->depart > (uint64_t)s->margin_s) {
            char when[32], at[32];
            cv_format_datetime(s->depart, when);
            cv_format_datetime(now, at);
            return cv_fail(err, CV_EINVAL, "departure %s is in the past (now %s, margin %d s)", when, at,
                           (int)s->margin_s);
        }
        return 0;
    }
    if (s->kind != CV_REGULAR)
        return cv_fail(err, CV_EINVAL, "schedule kind must be punctual (%d) or regular (%d) (got %d)", CV_PUNCTUAL,
                       CV_REGULAR, (int)s->kind);

    if (s->weekdays == 0)
        return cv_fail(err, CV_EINVAL, "weekdays must name at least one day");
    if (s->weekdays & ~0x7fu)
        return cv_fail(err, CV_EINVAL, "weekdays has bits beyond Sunday (got 0x%02x)", (unsigned)s->weekdays);
    if (s->time_of_day < 0 || s->time_of_day >= 86400)
        return cv_fail(err, CV_EINVAL, "time_of_day must be between 0 and 86399 seconds (got %d)", (int)s->time_of_day);

    char first[16], last[16];
    cv_format_date(s->first_day, first);
    cv_format_date(s->last_day, last);
    if (s->first_day > s->last_day)
        return cv_fail(err, CV_EINVAL, "first_day %s is after last_day %s", first, last);
    if ((int64_t)s->last_day - s->first_day >= CV_MAX_SCHEDULE_DAYS)
        return cv_fail(err, CV_EINVAL,
                       "first_day %s to last_day %s is more than %d days: a regular schedule runs "
                       "for two years at most",
                       first, last, CV_MAX_SCHEDULE_DAYS);
    cv_day today;
    cv_utc_to_local(now, &today, NULL, NULL);
    if (s->last_day < today) {
        char t[16];
        cv_format_date(today, t);
        return cv_fail(err, CV_EINVAL, "last_day %s is in the past (today is %s)", last, t);
    }
    /* A schedule whose remaining dates never fall on its weekdays (mon only, from a Tuesday to a Friday) would be
       stored and never match; it is as much a mistake as one that ended. */
    cv_day from = s->first_day > today ? s->first_day : today;
    if (!has_weekday_between(s->weekdays, from, s->last_day)) {
        char days[32], f[16];
        cv_format_weekdays(s->weekdays, days);
        cv_format_date(from, f);
        return cv_fail(err, CV_EINVAL, "no %s between %s and last_day %s: the schedule has no trip left", days, f,
                       last);
    }
    return 0;
}

static int check_owner(const char *owner, cv_error *err)
{
    const char *end = memchr(owner, '\0', CV_OWNER_MAX);
    if (!end)
        return cv_fail(err, CV_EINVAL, "owner must be at most %d bytes", CV_OWNER_MAX - 1);
    if (end == owner)
        return cv_fail(err, CV_EINVAL, "owner must not be empty");
    /* Owners are UTF-8 text without control characters (C0, DEL, C1) or the line and paragraph separators
       U+2028/U+2029, which break lines in logs, CSV exports and JavaScript. */
    const unsigned char *u = (const unsigned char *)owner;
    size_t n = (size_t)(end - owner);
    for (size_t i = 0; i < n;) {
        size_t k = cv_utf8_seq(u + i, n - i);
        if (!k)
            return cv_fail(err, CV_EINVAL, "owner is not UTF-8 (byte 0x%02x at offset %zu)", u[i], i);
        unsigned cp = k == 1   ? u[i]
                      : k == 2 ? (u[i] & 0x1fu) << 6 | (u[i + 1] & 0x3fu)
                      : k == 3 ? (u[i] & 0x0fu) << 12 | (u[i + 1] & 0x3fu) << 6 | (u[i + 2] & 0x3fu)
                               : 0x10000; /* four bytes: above the BMP, no control there */
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029)
            return cv_fail(err, CV_EINVAL, "owner contains a control or line-breaking character (U+%04X at offset %zu)",
                           cp, i);
        i += k;
    }
    return 0;
}

static int check_coord(cv_coord c, const char *field, cv_error *err)
{
    if (c.lon < -MAX_LON_FIXED || c.lon > MAX_LON_FIXED)
        return cv_fail(err, CV_EINVAL, "%s longitude must be between -180 and 180 (got %.7f)", field, cv_deg(c.lon));
    if (c.lat < -MAX_LAT_FIXED || c.lat > MAX_LAT_FIXED)
        return cv_fail(err, CV_EINVAL, "%s latitude must be between -90 and 90 (got %.7f)", field, cv_deg(c.lat));
    return 0;
}

/* The checks an offer and a request share: owner, endpoints, seats. */
static int check_common(const char *owner, cv_coord from, cv_coord to, int seats, cv_error *err)
{
    int rc;
    if ((rc = check_owner(owner, err)) || (rc = check_coord(from, "from", err)) || (rc = check_coord(to, "to", err)))
        return rc;
    if (from.lon == to.lon && from.lat == to.lat)
        return cv_fail(err, CV_EINVAL, "from and to are the same point (%.7f,%.7f)", cv_deg(from.lon),
                       cv_deg(from.lat));
    if (seats < 1 || seats > CV_MAX_SEATS)
        return cv_fail(err, CV_EINVAL, "seats must be between 1 and %d (got %d)", CV_MAX_SEATS, seats);
    return 0;
}

int cv_offer_check(const cv_offer *o, int64_t now, cv_error *err)
{
    if (!o)
        return cv_fail(err, CV_EINVAL, "missing offer");
    int rc = check_common(o->owner, o->from, o->to, o->seats, err);
    if (rc)
        return rc;
    if (o->nvias < 0 || o->nvias > CV_MAX_VIAS)
        return cv_fail(err, CV_EINVAL, "nvias must be between 0 and %d (got %d)", CV_MAX_VIAS, o->nvias);
    for (int i = 0; i < o->nvias; i++) {
        char field[24];
        snprintf(field, sizeof field, "vias[%d]", i);
        if ((rc = check_coord(o->vias[i], field, err)))
            return rc;
    }
    if (o->max_detour_s != -1 && (o->max_detour_s < 0 || o->max_detour_s > MAX_DETOUR_S))
        return cv_fail(err, CV_EINVAL, "max_detour_s must be -1 (default) or between 0 and %d (got %d)", MAX_DETOUR_S,
                       (int)o->max_detour_s);
    if (o->max_detour_m != -1 && (o->max_detour_m < 0 || o->max_detour_m > MAX_DETOUR_M))
        return cv_fail(err, CV_EINVAL, "max_detour_m must be -1 (default) or between 0 and %d (got %d)", MAX_DETOUR_M,
                       (int)o->max_detour_m);
    /* 0 stands for the server's rate (cv_matcher_add_offer puts it in); a rate so small that it would be kept and
       shown as 0 is refused */
    if (!isfinite(o->price_per_km) || o->price_per_km < 0 || o->price_per_km > CV_MAX_PRICE_PER_KM ||
        (o->price_per_km > 0 && o->price_per_km < CV_MIN_PRICE_PER_KM))
        return cv_fail(err, CV_EINVAL, "price_per_km must be between %g and %g euros (got %g)", CV_MIN_PRICE_PER_KM,
                       CV_MAX_PRICE_PER_KM, o->price_per_km);
    return cv_schedule_check(&o->when, now, err);
}

int cv_request_check(const cv_request *r, int64_t now, cv_error *err)
{
    if (!r)
        return cv_fail(err, CV_EINVAL, "missing request");
    int rc = check_common(r->owner, r->from, r->to, r->seats, err);
    if (rc)
        return rc;
    return cv_schedule_check(&r->when, now, err);
}

int cv_booking_action_parse(const char *word, cv_booking_action *a)
{
    static const struct {
        const char *word;
        cv_booking_action action;
    } actions[] = {{"accept", CV_ACT_ACCEPT}, {"refuse", CV_ACT_REFUSE}, {"cancel", CV_ACT_CANCEL}};
    for (size_t i = 0; word && i < sizeof actions / sizeof *actions; i++)
        if (!strcmp(word, actions[i].word)) {
            *a = actions[i].action;
            return 0;
        }
    return -1;
}

const char *cv_booking_status_name(cv_booking_status s)
{
    switch (s) {
    case CV_BOOKING_PENDING:
        return "pending";
    case CV_BOOKING_ACCEPTED:
        return "accepted";
    case CV_BOOKING_REFUSED:
        return "refused";
    case CV_BOOKING_CANCELLED:
        return "cancelled";
    case CV_BOOKING_SUPERSEDED:
        return "superseded";
    }
    return "unknown";
}

const char *cv_trip_status_name(cv_trip_status s)
{
    switch (s) {
    case CV_TRIP_OPEN:
        return "open";
    case CV_TRIP_CANCELLED:
        return "cancelled";
    }
    return "unknown";
}

cv_dates cv_schedule_dates(const cv_schedule *s)
{
    if (s->kind == CV_REGULAR)
        return (cv_dates){s->first_day, s->last_day, s->weekdays};
    cv_day d;
    cv_utc_to_local(s->depart, &d, NULL, NULL);
    return (cv_dates){d, d, (uint8_t)(1u << cv_day_weekday(d))};
}

int cv_dates_contains(cv_dates d, cv_day day)
{
    return day >= d.first && day <= d.last && (d.weekdays & (1u << cv_day_weekday(day)));
}

cv_day cv_dates_next(cv_dates d, cv_day from)
{
    int64_t x = from < d.first ? d.first : from; /* 64 bits: d.last may be the largest day */
    for (int k = 0; k < 7 && x <= d.last; k++, x++)
        if (d.weekdays & (1u << cv_day_weekday((cv_day)x)))
            return (cv_day)x;
    return -1;
}

/* The last date of d on or before to, or -1 when none. */
static cv_day dates_prev(cv_dates d, cv_day to)
{
    int64_t x = to > d.last ? d.last : to;
    for (int k = 0; k < 7 && x >= d.first; k++, x--)
        if (d.weekdays & (1u << cv_day_weekday((cv_day)x)))
            return (cv_day)x;
    return -1;
}

int cv_dates_empty(cv_dates d)
{
    return (d.weekdays & 0x7f) == 0 || cv_dates_next(d, d.first) < 0;
}

cv_dates cv_dates_intersect(cv_dates a, cv_dates b)
{
    cv_dates r = {a.first > b.first ? a.first : b.first, a.last < b.last ? a.last : b.last,
                  (uint8_t)(a.weekdays & b.weekdays & 0x7f)};
    cv_day f = r.weekdays && r.first <= r.last ? cv_dates_next(r, r.first) : -1;
    if (f < 0)
        return (cv_dates){1, 0, 0};
    r.last = dates_prev(r, r.last);
    r.first = f;
    return r;
}
