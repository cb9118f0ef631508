/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* timeutil.c — day numbers, the server's time zone, local <-> UTC across daylight-saving changes, ISO-8601 and
   weekday parsing and formatting. */
#define _DEFAULT_SOURCE /* setenv, tzset, localtime_r and struct tm's tm_gmtoff (glibc hides it in strict C11) */

#include "matcher/timeutil.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ZONEINFO_DIR "/usr/share/zoneinfo"
#define SECS_PER_DAY 86400
#define MAX_OFFSET_S (18 * 3600) /* ISO 8601 / RFC 3339 offsets beyond +-18:00 are refused */
#define ECHO_MAX 100             /* bytes of a bad input echoed back in a message */

/* ---- the server's time zone ---- */

static char tz_name[256] = "UTC";                                    /* as given to cv_tz_set */
static atomic_uint tz_generation;                                    /* bumped by cv_tz_set: cached offsets expire */
static char tz_value[sizeof ZONEINFO_DIR + sizeof tz_name] = "UTC0"; /* what TZ is set to */

/* A TZ database name is a relative path of non-empty components made of the characters the database uses;
   "..", "." and empty components would let a caller point outside the zone directory. */
static int tz_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof tz_name)
        return 0;
    const char *comp = name;
    for (const char *p = name;; p++) {
        if (*p == '/' || *p == '\0') {
            size_t len = (size_t)(p - comp);
            if (len == 0 || (len == 1 && comp[0] == '.') || (len == 2 && comp[0] == '.' && comp[1] == '.'))
                return 0;
            if (*p == '\0')
                return 1;
            comp = p + 1;
        } else if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '+' && *p != '.') {
            return 0;
        }
    }
}

/* 1 when path is a compiled zone file (TZif magic): directories and the database's text files (zone.tab,
   tzdata.zi, ...) exist under the same directory but are not zones. */
static int is_tzif(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char magic[4];
    size_t got = fread(magic, 1, sizeof magic, f);
    fclose(f);
    return got == sizeof magic && memcmp(magic, "TZif", 4) == 0;
}

int cv_tz_set(const char *name, cv_error *err)
{
    if (!name || !*name || strcmp(name, "UTC") == 0) {
        /* UTC needs no zone file: a POSIX rule works even where tzdata is not installed. */
        strcpy(tz_name, "UTC");
        strcpy(tz_value, "UTC0");
    } else {
        if (!tz_name_ok(name))
            return cv_fail(err, CV_EINVAL, "'%.*s' is not a time zone name (e.g. Europe/Lisbon)", ECHO_MAX, name);
        /* The right/ zones count leap seconds in time_t; everything here (and SQLite, and clients) assumes POSIX
           time, where a day is 86400 s. */
        if (strncmp(name, "right/", 6) == 0)
            return cv_fail(err, CV_EINVAL, "time zone '%s' counts leap seconds; use the zone without 'right/'", name);
        char path[sizeof tz_value];
        snprintf(path, sizeof path, "%s/%s", ZONEINFO_DIR, name);
        if (!is_tzif(path))
            return cv_fail(err, CV_EINVAL, "unknown time zone '%s' (no zone file %s)", name, path);
        snprintf(tz_name, sizeof tz_name, "%s", name);
        /* TZ gets the absolute path of the file just checked, not the bare name: glibc would look the bare name
           up under $TZDIR when that is set, and silently fall back to UTC when it is not found there. */
        memcpy(tz_value, path, sizeof path);
    }
    setenv("TZ", tz_value, 1);
    tzset();
    atomic_fetch_add(&tz_generation, 1);
    return 0;
}

const char *cv_tz_name(void)
{
    return tz_name;
}

/* ---- day numbers (proleptic Gregorian; Howard Hinnant's days_from_civil / civil_from_days) ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    return a - floor_div(a, b) * b;
}

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    /* months outside 1..12 carry into the year; days past the month's end simply count on */
    y += floor_div(m - 1, 12);
    m = floor_mod(m - 1, 12) + 1;
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;                                   /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] for a real date */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *py, int *pm, int *pd)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;                                      /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11], March first */
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *py = yoe + era * 400 + (m <= 2);
    *pm = m;
    *pd = d;
}

cv_day cv_day_from_ymd(int y, int m, int d)
{
    return (cv_day)days_from_civil(y, m, d);
}

void cv_day_to_ymd(cv_day day, int *y, int *m, int *d)
{
    int64_t yy;
    int mm, dd;
    civil_from_days(day, &yy, &mm, &dd);
    if (y)
        *y = (int)yy; /* every int32 day number is within a few million years */
    if (m)
        *m = mm;
    if (d)
        *d = dd;
}

int cv_day_weekday(cv_day day)
{
    return (int)floor_mod((int64_t)day + 3, 7); /* 1970-01-01 was a Thursday */
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

/* ---- local <-> UTC ---- */

/* The zone's UTC offset at instant t (seconds east). localtime_r only fails for instants whose year does not fit an
   int; those are treated as UTC. */
static int64_t offset_uncached(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!localtime_r(&tt, &tm))
        return 0;
    return tm.tm_gmtoff;
}

/* The same, remembered per thread for the quarter of an hour of UTC around t, when the zone has one offset all
   through it (checked at both ends: nearly every change falls on a quarter, the few that did not, such as
   Monrovia's in 1972, are then looked up every time). glibc's localtime_r takes a process-wide lock on every
   call, which the server's threads, formatting hundreds of times per answer, would otherwise queue on. */
#define QUARTER_S 900
static int64_t offset_at(int64_t t)
{
    static _Thread_local struct {
        int64_t quarter;
        int64_t offset;
        unsigned gen;
        int valid;
    } cache[8];
    if (t < 0 || t > 4102444800) /* before 1970 or after 2100: as the zone says, uncached */
        return offset_uncached(t);
    int64_t q = t / QUARTER_S;
    unsigned gen = atomic_load_explicit(&tz_generation, memory_order_relaxed);
    unsigned slot = (unsigned)(q & 7);
    if (cache[slot].valid && cache[slot].quarter == q && cache[slot].gen == gen)
        return cache[slot].offset;
    int64_t first = offset_uncached(q * QUARTER_S), last = offset_uncached(q * QUARTER_S + QUARTER_S - 1);
    if (first != last)
        return offset_uncached(t);
    cache[slot].quarter = q;
    cache[slot].offset = first;
    cache[slot].gen = gen;
    cache[slot].valid = 1;
    return first;
}

/* Not mktime: glibc's mktime with tm_isdst = -1 resolves an ambiguous time to the standard-time (second)
   occurrence, and the tm_isdst hints behave differently again in zones with negative DST (Europe/Dublin's winter
   time is its "DST" in current tzdata), where it moves skipped times earlier. Instead the local time is read as
   if it were UTC ("wall") and tried against the offsets in force a day before and a day after; a candidate is
   right when the zone really has that offset at the resulting instant. A day either side brackets every real
   offset (all are within +-15 h), and zones never change twice within two days. */
int64_t cv_local_to_utc(cv_day day, int32_t time_of_day)
{
    int64_t wall = (int64_t)day * SECS_PER_DAY + time_of_day;
    int64_t before = offset_at(wall - SECS_PER_DAY), after = offset_at(wall + SECS_PER_DAY);
    int64_t offs[3] = {before, after, offset_at(wall)};
    int found = 0;
    int64_t best = 0;
    for (int i = 0; i < 3; i++) {
        int64_t t = wall - offs[i];
        if (offset_at(t) == offs[i] && (!found || t < best)) { /* the earliest: the first of a repeated hour */
            best = t;
            found = 1;
        }
    }
    if (found)
        return best;
    /* Skipped by a change: read with the offset from before the gap, the instant lands after the gap at the wall
       time plus the gap's length (01:30 in a 01:00 -> 02:00 gap is 02:30). */
    return wall - before;
}

void cv_utc_to_local(int64_t utc, cv_day *day, int32_t *time_of_day, int *weekday)
{
    int64_t local = utc + offset_at(utc);
    int64_t d = floor_div(local, SECS_PER_DAY), tod = floor_mod(local, SECS_PER_DAY);
    if (day)
        *day = (cv_day)d;
    if (time_of_day)
        *time_of_day = (int32_t)tod;
    if (weekday)
        *weekday = cv_day_weekday((cv_day)d);
}

/* ---- parsing ---- */

/* Reads exactly n digits at *pp into *out and advances; 0 when they are not all digits. */
static int digits(const char **pp, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*pp)[i];
        if (c < '0' || c > '9')
            return 0;
        v = v * 10 + (c - '0');
    }
    *pp += n;
    *out = v;
    return 1;
}

/* "YYYY-MM-DD" at *pp, advancing; 0 when malformed or not a real date. */
static int parse_ymd(const char **pp, cv_day *day)
{
    int y, m, d;
    const char *p = *pp;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &m) || *p++ != '-' || !digits(&p, 2, &d))
        return 0;
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return 0;
    *pp = p;
    *day = cv_day_from_ymd(y, m, d);
    return 1;
}

static int bad_datetime(const char *text, cv_error *err)
{
    return cv_fail(err, CV_EINVAL, "'%.*s' is not a valid date-time (ISO 8601, e.g. 2026-12-01T08:30)", ECHO_MAX, text);
}

int cv_parse_datetime(const char *text, int64_t *utc, cv_error *err)
{
    if (!text)
        return cv_fail(err, CV_EINVAL, "missing date-time (ISO 8601, e.g. 2026-12-01T08:30)");
    const char *p = text;
    cv_day day;
    int h, mi, s = 0;
    if (!parse_ymd(&p, &day))
        return bad_datetime(text, err);
    if (*p != 'T' && *p != 't' && *p != ' ') /* RFC 3339 allows lower case and a space */
        return bad_datetime(text, err);
    p++;
    if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
        return bad_datetime(text, err);
    if (*p == ':') {
        p++;
        if (!digits(&p, 2, &s))
            return bad_datetime(text, err);
    }
    if (h > 23 || mi > 59 || s > 59)
        return bad_datetime(text, err);
    int32_t tod = h * 3600 + mi * 60 + s;

    if (*p == '\0') {
        *utc = cv_local_to_utc(day, tod);
        return 0;
    }
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || om > 59)
            return bad_datetime(text, err);
        offset = sign * (oh * 3600 + om * 60);
        if (offset > MAX_OFFSET_S || offset < -MAX_OFFSET_S)
            return bad_datetime(text, err);
    } else {
        return bad_datetime(text, err);
    }
    if (*p != '\0')
        return bad_datetime(text, err);
    *utc = (int64_t)day * SECS_PER_DAY + tod - offset;
    return 0;
}

int cv_parse_date(const char *text, cv_day *day, cv_error *err)
{
    const char *p = text;
    cv_day d;
    if (!text || !parse_ymd(&p, &d) || *p != '\0')
        return cv_fail(err, CV_EINVAL, "'%.*s' is not a valid date (YYYY-MM-DD, e.g. 2026-12-01)", ECHO_MAX,
                       text ? text : "");
    *day = d;
    return 0;
}

int cv_parse_time_of_day(const char *text, int32_t *seconds, cv_error *err)
{
    const char *p = text;
    int h, m;
    if (!text || !(digits(&p, 2, &h) || digits(&p, 1, &h)) || *p++ != ':' || !digits(&p, 2, &m) || *p != '\0' ||
        h > 23 || m > 59)
        return cv_fail(err, CV_EINVAL, "'%.*s' is not a valid time of day (HH:MM, e.g. 08:30)", ECHO_MAX,
                       text ? text : "");
    *seconds = h * 3600 + m * 60;
    return 0;
}

static const char *const day_abbr[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
static const char *const day_full[7] = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};

/* Weekday bits of one name of n bytes, any case; 0 when unknown. */
static uint8_t weekday_bits(const char *name, size_t n)
{
    char low[16];
    if (n == 0 || n >= sizeof low)
        return 0;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)name[i]);
    low[n] = '\0';
    for (int i = 0; i < 7; i++)
        if (strcmp(low, day_abbr[i]) == 0 || strcmp(low, day_full[i]) == 0)
            return (uint8_t)(1u << i);
    if (strcmp(low, "weekdays") == 0)
        return CV_MON | CV_TUE | CV_WED | CV_THU | CV_FRI;
    if (strcmp(low, "weekend") == 0)
        return CV_SAT | CV_SUN;
    if (strcmp(low, "daily") == 0)
        return 0x7f;
    return 0;
}

int cv_parse_weekdays(const char *text, uint8_t *days, cv_error *err)
{
    if (!text)
        return cv_fail(err, CV_EINVAL, "missing weekdays (e.g. mon,tue,fri or weekdays)");
    uint8_t mask = 0;
    const char *p = text;
    for (;;) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        /* spaces around a name are forgiven ("mon, tue") */
        const char *a = p, *b = end;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        if (a == b)
            return cv_fail(err, CV_EINVAL, "'%.*s' has an empty weekday name (e.g. mon,tue,fri or weekdays)", ECHO_MAX,
                           text);
        uint8_t bits = weekday_bits(a, (size_t)(b - a));
        if (!bits)
            return cv_fail(err, CV_EINVAL,
                           "unknown weekday '%.*s' in '%.*s' (mon..sun, monday..sunday, weekdays, weekend, daily)",
                           (int)(b - a < ECHO_MAX ? b - a : ECHO_MAX), a, ECHO_MAX, text);
        mask |= bits;
        if (*end == '\0')
            break;
        p = end + 1;
    }
    *days = mask;
    return 0;
}

/* ---- formatting ---- */

void cv_format_weekdays(uint8_t days, char *buf)
{
    char *p = buf;
    for (int i = 0; i < 7; i++) {
        if (!(days & (1u << i)))
            continue;
        if (p != buf)
            *p++ = ',';
        memcpy(p, day_abbr[i], 3);
        p += 3;
    }
    *p = '\0'; /* at most 7 * 4 bytes */
}

/* Writes v (0 <= v < 10^n) as exactly n digits at p; returns the end. The fixed-width fields are written by hand
   rather than with snprintf, whose output length the compiler cannot bound from the callers' buffer sizes. */
static char *put_digits(char *p, int64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + n;
}

/* Years outside 0..9999 do not fit the fixed-width formats; they come only from nonsense instants and are shown
   clamped rather than overflowing the caller's buffer. */
static int64_t clamp_year(int64_t y)
{
    return y < 0 ? 0 : y > 9999 ? 9999 : y;
}

static char *put_ymd(char *p, int64_t y, int m, int d)
{
    p = put_digits(p, clamp_year(y), 4);
    *p++ = '-';
    p = put_digits(p, m, 2);
    *p++ = '-';
    return put_digits(p, d, 2);
}

void cv_format_datetime(int64_t utc, char *buf)
{
    /* beyond year 9999 either way, as before: the extreme stamps */
    if (utc < -62135596800 || utc > 253402300799) {
        strcpy(buf, utc < 0 ? "0000-01-01T00:00:00+00:00" : "9999-12-31T23:59:59+00:00");
        return;
    }
    int64_t off = offset_at(utc), local = utc + off;
    int64_t y;
    int mo, d;
    civil_from_days(floor_div(local, SECS_PER_DAY), &y, &mo, &d);
    int64_t tod = floor_mod(local, SECS_PER_DAY);
    char *p = put_ymd(buf, y, mo, d);
    *p++ = 'T';
    p = put_digits(p, tod / 3600, 2);
    *p++ = ':';
    p = put_digits(p, tod / 60 % 60, 2);
    *p++ = ':';
    p = put_digits(p, tod % 60, 2);
    *p++ = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    /* Offsets are whole minutes since the 1970s; older local mean times are rounded to the minute. */
    off = (off + 30) / 60;
    p = put_digits(p, off / 60 % 100, 2);
    *p++ = ':';
    p = put_digits(p, off % 60, 2);
    *p = '\0';
}

void cv_format_date(cv_day day, char *buf)
{
    int64_t y;
    int m, d;
    civil_from_days(day, &y, &m, &d);
    *put_ymd(buf, y, m, d) = '\0';
}

void cv_format_time_of_day(int32_t seconds, char *buf)
{
    int64_t s = floor_mod(seconds, SECS_PER_DAY);
    char *p = put_digits(buf, s / 3600, 2);
    *p++ = ':';
    p = put_digits(p, s / 60 % 60, 2);
    *p = '\0';
}
