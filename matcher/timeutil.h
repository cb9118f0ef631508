/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* timeutil.h — dates and times for schedules: the server's time zone (TZ database), local dates and times of day
   to UTC and back across daylight-saving changes, ISO-8601 and weekday parsing and formatting. */
#ifndef CV_TIMEUTIL_H
#define CV_TIMEUTIL_H

#include <stdint.h>

#include "util/cv_error.h"
#include "matcher/trip.h"

/* Sets the server's time zone by TZ database name ("Europe/Lisbon"); NULL or "" means UTC. Call once at start,
   before threads (it sets the process's TZ). Returns 0, or CV_EINVAL when the zone is unknown (no such file
   under /usr/share/zoneinfo) with err naming it. */
int cv_tz_set(const char *name, cv_error *err);

/* The zone set by cv_tz_set ("UTC" by default). */
const char *cv_tz_name(void);

/* Day number of a calendar date (days since 1970-01-01), and back. */
cv_day cv_day_from_ymd(int y, int m, int d);
void cv_day_to_ymd(cv_day day, int *y, int *m, int *d);

/* Weekday of a day: 0 = Monday .. 6 = Sunday. */
int cv_day_weekday(cv_day day);

/* UTC seconds of a local date and time of day in the server's zone. A time that does not exist (skipped by a
   spring-forward change) is moved later by the length of the gap; a time that exists twice (the repeated hour of a
   fall-back change) is the first of the two. */
int64_t cv_local_to_utc(cv_day day, int32_t time_of_day);

/* Local date, time of day (seconds after midnight) and weekday (0 = Monday) of a UTC instant. Any output may be
   NULL. */
void cv_utc_to_local(int64_t utc, cv_day *day, int32_t *time_of_day, int *weekday);

/* Parses an ISO-8601 date-time: "2026-12-01T08:30", with optional ":SS", and an optional "Z" or "+HH:MM" /
   "-HH:MM" offset. Without an offset the time is local in the server's zone. Returns 0 or CV_EINVAL. */
int cv_parse_datetime(const char *text, int64_t *utc, cv_error *err);

/* "2026-12-01" -> day. Returns 0 or CV_EINVAL (malformed or not a real date). */
int cv_parse_date(const char *text, cv_day *day, cv_error *err);

/* "08:30" or "8:30" -> seconds after midnight. Returns 0 or CV_EINVAL. */
int cv_parse_time_of_day(const char *text, int32_t *seconds, cv_error *err);

/* "mon,tue,fri" (any case; also full names, and "weekdays", "weekend", "daily") -> CV_MON | ... Returns 0 or
   CV_EINVAL (unknown name, empty). */
int cv_parse_weekdays(const char *text, uint8_t *days, cv_error *err);

/* "mon,tue,..." for a weekday mask, into buf (at least 32 bytes). */
void cv_format_weekdays(uint8_t days, char *buf);

/* Local ISO-8601 with offset, e.g. "2026-12-01T08:30:00+00:00", into buf (at least 32 bytes). */
void cv_format_datetime(int64_t utc, char *buf);

/* "2026-12-01" into buf (at least 11 bytes). */
void cv_format_date(cv_day day, char *buf);

/* "08:30" into buf (at least 6 bytes). */
void cv_format_time_of_day(int32_t seconds, char *buf);

#endif
