/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_timeutil.c — matcher/timeutil.c and the checks of matcher/trip.c: day numbers, time zones and
   daylight-saving changes (Lisbon, Paris, New York, Dublin), ISO-8601 / weekday parsing and formatting, and the
   validation of schedules, offers and requests. */
#define _DEFAULT_SOURCE /* localtime_r and tm_gmtoff, for the reference */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/cv_error.h"
#include "matcher/timeutil.h"
#include "matcher/trip.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define H 3600
#define M 60

/* UTC seconds of a UTC date and time (day arithmetic is checked against literal values first). */
static int64_t utc_of(int y, int mo, int d, int h, int mi)
{
    return (int64_t)cv_day_from_ymd(y, mo, d) * 86400 + h * H + mi * M;
}

static void set_zone(const char *name)
{
    cv_error err = {0};
    int rc = cv_tz_set(name, &err);
    if (rc != 0)
        fail_msg("cv_tz_set(%s): %s", name, err.text);
    assert_string_equal(cv_tz_name(), name && *name ? name : "UTC");
}

/* Back to UTC after every test, so that no test depends on the order. */
static int reset_zone(void **state)
{
    (void)state;
    return cv_tz_set(NULL, NULL);
}

/* Asserts that the local time y-mo-d h:mi in the current zone is the UTC instant want. */
static void assert_local(int y, int mo, int d, int h, int mi, int64_t want)
{
    int64_t got = cv_local_to_utc(cv_day_from_ymd(y, mo, d), h * H + mi * M);
    if (got != want)
        fail_msg("%s: %04d-%02d-%02d %02d:%02d local -> %lld, want %lld (off by %lld s)", cv_tz_name(), y, mo, d, h, mi,
                 (long long)got, (long long)want, (long long)(got - want));
}

/* Asserts that UTC instant t is local y-mo-d h:mi on weekday wd. */
static void assert_to_local(int64_t t, int y, int mo, int d, int h, int mi, int wd)
{
    cv_day day;
    int32_t tod;
    int weekday;
    cv_utc_to_local(t, &day, &tod, &weekday);
    assert_int_equal(day, cv_day_from_ymd(y, mo, d));
    assert_int_equal(tod, h * H + mi * M);
    assert_int_equal(weekday, wd);
}

/* ---- day numbers ---- */

static void test_day_known_dates(void **state)
{
    (void)state;
    assert_int_equal(cv_day_from_ymd(1970, 1, 1), 0);
    assert_int_equal(cv_day_from_ymd(1969, 12, 31), -1);
    assert_int_equal(cv_day_from_ymd(2000, 1, 1), 10957);
    assert_int_equal(cv_day_from_ymd(2000, 2, 29), 11016);
    assert_int_equal(cv_day_from_ymd(2000, 3, 1), 11017);
    assert_int_equal(cv_day_from_ymd(2024, 12, 31), 20088);
    assert_int_equal(cv_day_from_ymd(1900, 3, 1), -25508); /* 1900 is not a leap year */
    assert_int_equal(cv_day_from_ymd(1, 1, 1), -719162);
    assert_int_equal(cv_day_from_ymd(2026, 11, 30), 20787);

    int y, m, d;
    cv_day_to_ymd(11016, &y, &m, &d);
    assert_int_equal(y, 2000);
    assert_int_equal(m, 2);
    assert_int_equal(d, 29);
    cv_day_to_ymd(-1, &y, &m, &d);
    assert_int_equal(y, 1969);
    assert_int_equal(m, 12);
    assert_int_equal(d, 31);
    cv_day_to_ymd(20088, NULL, &m, NULL); /* outputs may be NULL */
    assert_int_equal(m, 12);

    assert_int_equal(cv_day_weekday(0), 3);                             /* Thursday */
    assert_int_equal(cv_day_weekday(-1), 2);                            /* Wednesday */
    assert_int_equal(cv_day_weekday(cv_day_from_ymd(2026, 11, 30)), 0); /* Monday */
    assert_int_equal(cv_day_weekday(cv_day_from_ymd(1900, 1, 1)), 0);   /* Monday */
    assert_int_equal(cv_day_weekday(cv_day_from_ymd(2026, 3, 29)), 6);  /* Sunday */
    assert_int_equal(cv_day_weekday(cv_day_from_ymd(2000, 2, 29)), 1);  /* Tuesday */
    assert_int_equal(cv_day_weekday(cv_day_from_ymd(1, 1, 1)), 0);      /* Monday */
}

/* Every day from 1600 to 2400: back and forth, consecutive days are consecutive dates, weekdays cycle. */
static void test_day_round_trip(void **state)
{
    (void)state;
    cv_day first = cv_day_from_ymd(1600, 1, 1), last = cv_day_from_ymd(2400, 12, 31);
    int py, pm, pd;
    cv_day_to_ymd(first - 1, &py, &pm, &pd);
    assert_int_equal(py, 1599);
    assert_int_equal(pm, 12);
    assert_int_equal(pd, 31);
    int pw = cv_day_weekday(first - 1);
    long leap_days = 0;
    for (cv_day day = first; day <= last; day++) {
        int y, m, d;
        cv_day_to_ymd(day, &y, &m, &d);
        assert_int_equal(cv_day_from_ymd(y, m, d), day);
        if (d == pd + 1) {
            assert_int_equal(y, py);
            assert_int_equal(m, pm);
        } else {
            assert_int_equal(d, 1);
            assert_int_equal(m, pm == 12 ? 1 : pm + 1);
            assert_int_equal(y, pm == 12 ? py + 1 : py);
        }
        leap_days += m == 2 && d == 29;
        int w = cv_day_weekday(day);
        assert_int_equal(w, (pw + 1) % 7);
        py = y, pm = m, pd = d, pw = w;
    }
    assert_int_equal(leap_days, 195); /* 201 multiples of 4 minus 1700, 1800, 1900, 2100, 2200, 2300 */
}

/* ---- time zones ---- */

static void test_tz_utc_default(void **state)
{
    (void)state;
    set_zone(NULL);
    set_zone("");
    assert_string_equal(cv_tz_name(), "UTC");
    cv_day day = cv_day_from_ymd(2026, 3, 29);
    assert_int_equal(cv_local_to_utc(day, 90 * M), (int64_t)day * 86400 + 90 * M);
    assert_to_local(utc_of(2026, 3, 29, 1, 30), 2026, 3, 29, 1, 30, 6);
    cv_day day2;
    int32_t tod;
    int wd;
    cv_utc_to_local(-1, &day2, &tod, &wd);
    assert_int_equal(day2, -1);
    assert_int_equal(tod, 86399);
    assert_int_equal(wd, 2);
    cv_utc_to_local(0, NULL, NULL, NULL); /* outputs may be NULL */
}

static void test_tz_unknown_refused(void **state)
{
    (void)state;
    set_zone("Europe/Paris");
    static const char *const bad[] = {"Nowhere/Foo",    "../etc/passwd",  "Europe/../Europe/Paris",
                                      "/etc/localtime", "Europe//Paris",  "Europe/",
                                      "/Europe/Paris",  "Europe",         "zone.tab",
                                      "tzdata.zi",      "Europe/Paris ",  "CET-1CEST,M3.5.0,M10.5.0/3",
                                      "right/UTC",      "Europe/./Paris", "europe/paris"};
    for (size_t i = 0; i < NELEM(bad); i++) {
        cv_error err = {0};
        if (cv_tz_set(bad[i], &err) != CV_EINVAL)
            fail_msg("zone '%s' accepted", bad[i]);
        assert_int_equal(err.code, CV_EINVAL);
        if (strlen(bad[i]) < 40 && !strstr(err.text, bad[i]))
            fail_msg("message for '%s' does not name it: %s", bad[i], err.text);
        assert_string_equal(cv_tz_name(), "Europe/Paris"); /* a refusal changes nothing */
    }
    cv_error err = {0};
    assert_int_equal(cv_tz_set("Nowhere/Foo", &err), CV_EINVAL);
    assert_non_null(strstr(err.text, "unknown time zone 'Nowhere/Foo'"));
    assert_int_equal(cv_tz_set("Nowhere/Foo", NULL), CV_EINVAL); /* err may be NULL */
    /* still Paris: 08:00 in January is 07:00Z */
    assert_local(2026, 1, 15, 8, 0, utc_of(2026, 1, 15, 7, 0));
    set_zone("Etc/UTC");
    assert_local(2026, 1, 15, 8, 0, utc_of(2026, 1, 15, 8, 0));
}

/* Lisbon: UTC+0 in winter, UTC+1 in summer; changes at 01:00Z on 2026-03-29 (01:00 -> 02:00 local) and 2026-10-25
   (02:00 -> 01:00 local). */
static void test_tz_lisbon(void **state)
{
    (void)state;
    set_zone("Europe/Lisbon");
    assert_int_equal(utc_of(2026, 3, 29, 1, 30), 1774747800); /* literal anchors for utc_of */
    assert_int_equal(utc_of(2026, 10, 25, 0, 30), 1792888200);

    assert_local(2026, 3, 28, 8, 0, utc_of(2026, 3, 28, 8, 0));
    assert_local(2026, 3, 30, 8, 0, utc_of(2026, 3, 30, 7, 0));
    assert_local(2026, 3, 29, 0, 59, utc_of(2026, 3, 29, 0, 59));
    assert_local(2026, 3, 29, 1, 0, utc_of(2026, 3, 29, 1, 0));   /* 01:00 does not exist: 02:00 = 01:00Z */
    assert_local(2026, 3, 29, 1, 30, utc_of(2026, 3, 29, 1, 30)); /* 02:30 local */
    assert_local(2026, 3, 29, 2, 0, utc_of(2026, 3, 29, 1, 0));
    assert_local(2026, 3, 29, 2, 30, utc_of(2026, 3, 29, 1, 30));
    assert_to_local(utc_of(2026, 3, 29, 1, 30), 2026, 3, 29, 2, 30, 6);
    assert_to_local(utc_of(2026, 3, 29, 0, 59), 2026, 3, 29, 0, 59, 6);

    assert_local(2026, 10, 25, 1, 30, utc_of(2026, 10, 25, 0, 30)); /* first of 00:30Z and 01:30Z */
    assert_local(2026, 10, 25, 1, 0, utc_of(2026, 10, 25, 0, 0));
    assert_local(2026, 10, 25, 0, 59, utc_of(2026, 10, 24, 23, 59));
    assert_local(2026, 10, 25, 2, 0, utc_of(2026, 10, 25, 2, 0));
    assert_local(2026, 10, 24, 8, 0, utc_of(2026, 10, 24, 7, 0));
    assert_local(2026, 10, 26, 8, 0, utc_of(2026, 10, 26, 8, 0));
    assert_to_local(utc_of(2026, 10, 25, 0, 30), 2026, 10, 25, 1, 30, 6);
    assert_to_local(utc_of(2026, 10, 25, 1, 30), 2026, 10, 25, 1, 30, 6);
    /* midnight and the day boundary */
    assert_local(2026, 7, 1, 0, 0, utc_of(2026, 6, 30, 23, 0));
    assert_to_local(utc_of(2026, 6, 30, 23, 0), 2026, 7, 1, 0, 0, 2);
    assert_to_local(utc_of(2026, 6, 30, 22, 59), 2026, 6, 30, 23, 59, 1);
}

/* Paris: UTC+1 / UTC+2; 02:00 -> 03:00 on 2026-03-29, 03:00 -> 02:00 on 2026-10-25, both at 01:00Z. */
static void test_tz_paris(void **state)
{
    (void)state;
    set_zone("Europe/Paris");
    assert_local(2026, 3, 28, 8, 0, utc_of(2026, 3, 28, 7, 0));
    assert_local(2026, 3, 30, 8, 0, utc_of(2026, 3, 30, 6, 0));
    assert_local(2026, 3, 29, 2, 30, utc_of(2026, 3, 29, 1, 30)); /* nonexistent: 03:30 local */
    assert_local(2026, 3, 29, 3, 0, utc_of(2026, 3, 29, 1, 0));
    assert_local(2026, 3, 29, 1, 59, utc_of(2026, 3, 29, 0, 59));
    assert_to_local(utc_of(2026, 3, 29, 1, 30), 2026, 3, 29, 3, 30, 6);
    assert_local(2026, 10, 25, 2, 30, utc_of(2026, 10, 25, 0, 30)); /* first of 00:30Z and 01:30Z */
    assert_local(2026, 10, 25, 3, 0, utc_of(2026, 10, 25, 2, 0));
    assert_to_local(utc_of(2026, 10, 25, 1, 30), 2026, 10, 25, 2, 30, 6);
    assert_local(2026, 10, 26, 0, 0, utc_of(2026, 10, 25, 23, 0));
}

/* Paris in 2030, to the second at both edges of each change (02:00 -> 03:00 on 31 March, 03:00 -> 02:00 on 27
   October, both at 01:00Z), against localtime_r for every instant: a skipped time moves later by the hour and
   localtime_r reads it back as summer time; the repeated hour is its first (summer) copy, and an explicit offset
   reaches the second. A daily 02:30 and a daily 08:00 over a week across each change are 24 hours apart but for
   the change itself (the skipped 02:30 lands at 03:30, which is 24 h after the day before's 02:30). */
static void test_tz_paris_changes_to_the_second(void **state)
{
    (void)state;
    set_zone("Europe/Paris");
    cv_day spring = cv_day_from_ymd(2030, 3, 31), autumn = cv_day_from_ymd(2030, 10, 27);
    assert_int_equal(cv_day_weekday(spring), 6);
    assert_int_equal(cv_day_weekday(autumn), 6);
    struct {
        cv_day day;
        int32_t tod;
        int64_t want;  /* UTC */
        int32_t shown; /* local time of day localtime_r gives for it */
        int isdst;
    } cases[] = {
        {spring, 1 * H + 59 * M + 59, utc_of(2030, 3, 31, 0, 59) + 59, 1 * H + 59 * M + 59, 0},
        {spring, 2 * H, utc_of(2030, 3, 31, 1, 0), 3 * H, 1},                                   /* skipped */
        {spring, 2 * H + 30 * M, utc_of(2030, 3, 31, 1, 30), 3 * H + 30 * M, 1},                /* skipped */
        {spring, 2 * H + 59 * M + 59, utc_of(2030, 3, 31, 1, 59) + 59, 3 * H + 59 * M + 59, 1}, /* skipped */
        {spring, 3 * H, utc_of(2030, 3, 31, 1, 0), 3 * H, 1},
        {autumn, 1 * H + 59 * M + 59, utc_of(2030, 10, 26, 23, 59) + 59, 1 * H + 59 * M + 59, 1},
        {autumn, 2 * H, utc_of(2030, 10, 27, 0, 0), 2 * H, 1}, /* repeated: the first */
        {autumn, 2 * H + 30 * M, utc_of(2030, 10, 27, 0, 30), 2 * H + 30 * M, 1},
        {autumn, 2 * H + 59 * M + 59, utc_of(2030, 10, 27, 0, 59) + 59, 2 * H + 59 * M + 59, 1},
        {autumn, 3 * H, utc_of(2030, 10, 27, 2, 0), 3 * H, 0},
    };
    for (size_t i = 0; i < NELEM(cases); i++) {
        int64_t got = cv_local_to_utc(cases[i].day, cases[i].tod);
        if (got != cases[i].want)
            fail_msg("case %zu: %lld, want %lld (off by %lld s)", i, (long long)got, (long long)cases[i].want,
                     (long long)(got - cases[i].want));
        time_t tt = (time_t)got;
        struct tm tm;
        assert_non_null(localtime_r(&tt, &tm));
        assert_int_equal(tm.tm_hour * H + tm.tm_min * M + tm.tm_sec, cases[i].shown);
        assert_int_equal(tm.tm_isdst, cases[i].isdst);
        assert_int_equal(cv_day_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday), cases[i].day);
    }
    /* both copies of 02:30 read back as 02:30, and an offset picks either */
    assert_to_local(utc_of(2030, 10, 27, 0, 30), 2030, 10, 27, 2, 30, 6);
    assert_to_local(utc_of(2030, 10, 27, 1, 30), 2030, 10, 27, 2, 30, 6);
    int64_t t;
    assert_int_equal(cv_parse_datetime("2030-10-27T02:30", &t, NULL), 0);
    assert_int_equal(t, utc_of(2030, 10, 27, 0, 30));
    assert_int_equal(cv_parse_datetime("2030-10-27T02:30+02:00", &t, NULL), 0);
    assert_int_equal(t, utc_of(2030, 10, 27, 0, 30));
    assert_int_equal(cv_parse_datetime("2030-10-27T02:30+01:00", &t, NULL), 0);
    assert_int_equal(t, utc_of(2030, 10, 27, 1, 30));
    assert_int_equal(cv_parse_datetime("2030-03-31T02:30", &t, NULL), 0);
    assert_int_equal(t, utc_of(2030, 3, 31, 1, 30));
    char buf[32];
    cv_format_datetime(utc_of(2030, 3, 31, 1, 30), buf);
    assert_string_equal(buf, "2030-03-31T03:30:00+02:00");
    cv_format_datetime(utc_of(2030, 10, 27, 1, 30), buf);
    assert_string_equal(buf, "2030-10-27T02:30:00+01:00");
    /* a week of daily departures across each change */
    struct {
        cv_day change;
        int32_t tod;
        int64_t gap_before, gap_after; /* the day before -> the change, the change -> the day after */
    } runs[] = {
        /* clang-format off */
        {spring, 2 * H + 30 * M, 24 * H, 23 * H}, {spring, 8 * H, 23 * H, 24 * H},
        {autumn, 2 * H + 30 * M, 24 * H, 25 * H}, {autumn, 8 * H, 25 * H, 24 * H},
        /* clang-format on */
    };
    for (size_t i = 0; i < NELEM(runs); i++) {
        for (cv_day d = runs[i].change - 3; d < runs[i].change + 3; d++) {
            int64_t gap = cv_local_to_utc(d + 1, runs[i].tod) - cv_local_to_utc(d, runs[i].tod);
            int64_t want = d == runs[i].change - 1 ? runs[i].gap_before
                           : d == runs[i].change   ? runs[i].gap_after
                                                   : 24 * H;
            if (gap != want)
                fail_msg("run %zu: day %d -> %d: %lld s apart, want %lld", i, d, d + 1, (long long)gap,
                         (long long)want);
            /* and every departure but the skipped one is at its local time of day */
            cv_day back;
            int32_t tod;
            cv_utc_to_local(cv_local_to_utc(d, runs[i].tod), &back, &tod, NULL);
            assert_int_equal(back, d);
            if (!(d == spring && runs[i].tod == 2 * H + 30 * M))
                assert_int_equal(tod, runs[i].tod);
        }
    }
}

/* New York: UTC-5 / UTC-4; 02:00 -> 03:00 on 2026-03-08 (07:00Z), 02:00 -> 01:00 on 2026-11-01 (06:00Z). */
static void test_tz_new_york(void **state)
{
    (void)state;
    set_zone("America/New_York");
    assert_local(2026, 3, 7, 8, 0, utc_of(2026, 3, 7, 13, 0));
    assert_local(2026, 3, 9, 8, 0, utc_of(2026, 3, 9, 12, 0));
    assert_local(2026, 3, 8, 2, 30, utc_of(2026, 3, 8, 7, 30)); /* nonexistent: 03:30 EDT */
    assert_local(2026, 3, 8, 1, 59, utc_of(2026, 3, 8, 6, 59));
    assert_local(2026, 3, 8, 3, 0, utc_of(2026, 3, 8, 7, 0));
    assert_to_local(utc_of(2026, 3, 8, 7, 30), 2026, 3, 8, 3, 30, 6);
    assert_local(2026, 11, 1, 1, 30, utc_of(2026, 11, 1, 5, 30)); /* first of 05:30Z (EDT) and 06:30Z (EST) */
    assert_local(2026, 11, 1, 2, 0, utc_of(2026, 11, 1, 7, 0));
    assert_local(2026, 11, 1, 0, 59, utc_of(2026, 11, 1, 4, 59));
    assert_to_local(utc_of(2026, 11, 1, 6, 30), 2026, 11, 1, 1, 30, 6);
    /* a local evening is the next UTC day */
    assert_local(2026, 12, 31, 22, 0, utc_of(2027, 1, 1, 3, 0));
    assert_to_local(utc_of(2027, 1, 1, 3, 0), 2026, 12, 31, 22, 0, 3);
}

/* Dublin: tzdata describes Irish winter time (GMT) as the "daylight saving" one (negative DST), which turns
   glibc's tm_isdst guesses around; the results must be the same as Lisbon's. */
static void test_tz_dublin_negative_dst(void **state)
{
    (void)state;
    set_zone("Europe/Dublin");
    assert_local(2026, 3, 29, 1, 30, utc_of(2026, 3, 29, 1, 30)); /* moved later, to 02:30 IST */
    assert_local(2026, 10, 25, 1, 30, utc_of(2026, 10, 25, 0, 30));
    assert_local(2026, 1, 15, 8, 0, utc_of(2026, 1, 15, 8, 0));
    assert_local(2026, 7, 15, 8, 0, utc_of(2026, 7, 15, 7, 0));
}

/* Over every quarter hour of 2026 in each zone: local -> UTC -> local is the identity except in the skipped hour
   (moved by one hour), and UTC -> local -> UTC is the identity except in the second copy of the repeated hour
   (which maps to the first). */
static void test_tz_round_trips(void **state)
{
    (void)state;
    static const char *const zones[] = {"Europe/Lisbon", "Europe/Paris",     "America/New_York",
                                        "Europe/Dublin", "Australia/Sydney", "Asia/Kolkata"};
    static const int changes[] = {1, 1, 1, 1, 1, 0}; /* zones with DST: one gap and one overlap a year */
    for (size_t z = 0; z < NELEM(zones); z++) {
        set_zone(zones[z]);
        cv_day first = cv_day_from_ymd(2026, 1, 1), last = cv_day_from_ymd(2026, 12, 31);
        int moved = 0;
        for (cv_day day = first; day <= last; day++) {
            for (int32_t tod = 0; tod < 86400; tod += 15 * M) {
                int64_t t = cv_local_to_utc(day, tod);
                cv_day d2;
                int32_t tod2;
                cv_utc_to_local(t, &d2, &tod2, NULL);
                int64_t shift = ((int64_t)d2 - day) * 86400 + tod2 - tod;
                if (shift != 0) {
                    if (shift != H)
                        fail_msg("%s day %d tod %d moved by %lld", zones[z], day, tod, (long long)shift);
                    moved++;
                }
            }
        }
        assert_int_equal(moved, changes[z] * 4);

        int folded = 0;
        for (int64_t t = utc_of(2026, 1, 1, 0, 0); t < utc_of(2027, 1, 1, 0, 0); t += 15 * M) {
            cv_day d;
            int32_t tod;
            cv_utc_to_local(t, &d, &tod, NULL);
            int64_t back = cv_local_to_utc(d, tod);
            if (back != t) {
                if (back != t - H)
                    fail_msg("%s t %lld came back as %lld", zones[z], (long long)t, (long long)back);
                folded++;
            }
        }
        assert_int_equal(folded, changes[z] * 4);
    }
}

/* ---- formatting ---- */

/* Formatting and local dates come from offsets remembered per quarter of an hour: they must equal what
   localtime_r says, instant by instant, around every change of zones with half- and quarter-hour offsets, negative
   DST, and a change off the quarter (Monrovia, 1972), and after switching zones. */
static void test_cached_offsets_agree(void **state)
{
    (void)state;
    static const char *const zones[] = {"Europe/Lisbon", "America/St_Johns", "Asia/Kathmandu",  "Australia/Lord_Howe",
                                        "Europe/Dublin", "Africa/Monrovia",  "Pacific/Chatham", "UTC"};
    uint64_t seed = 99;
    for (size_t z = 0; z < sizeof zones / sizeof *zones; z++) {
        assert_int_equal(cv_tz_set(zones[z], NULL), 0);
        for (int i = 0; i < 22000; i++) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            /* half anywhere in 1970-2100, half within minutes of a quarter of an hour */
            int64_t t = (int64_t)(seed % 4102444800u);
            if (i % 2)
                t = t / 900 * 900 + (int64_t)(seed >> 40) % 121 - 60;
            /* and every second of the two quarters around 1972-01-07 00:44:30 UTC, Monrovia's change */
            if (i >= 20000)
                t = 63593070 - 1000 + (i - 20000);
            if (t < 0)
                t = 0;
            char got[64], want[64];
            cv_format_datetime(t, got);
            time_t tt = (time_t)t;
            struct tm tm;
            assert_non_null(localtime_r(&tt, &tm));
            long off = (tm.tm_gmtoff + (tm.tm_gmtoff < 0 ? -30 : 30)) / 60;
            snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_gmtoff < 0 ? '-' : '+', labs(off) / 60,
                     labs(off) % 60);
            if (strcmp(got, want))
                fail_msg("%s at %lld: %s, localtime_r says %s", zones[z], (long long)t, got, want);
            cv_day d;
            int32_t tod;
            cv_utc_to_local(t, &d, &tod, NULL);
            assert_int_equal(d, cv_day_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday));
            assert_int_equal(tod, tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
        }
    }
}

static void test_format(void **state)
{
    (void)state;
    char buf[32];
    set_zone("Europe/Lisbon");
    cv_format_datetime(utc_of(2026, 1, 15, 8, 30), buf);
    assert_string_equal(buf, "2026-01-15T08:30:00+00:00");
    cv_format_datetime(utc_of(2026, 7, 15, 8, 30) + 5, buf);
    assert_string_equal(buf, "2026-07-15T09:30:05+01:00");
    set_zone("Europe/Paris");
    cv_format_datetime(utc_of(2026, 1, 15, 8, 30), buf);
    assert_string_equal(buf, "2026-01-15T09:30:00+01:00");
    cv_format_datetime(utc_of(2026, 10, 25, 0, 30), buf);
    assert_string_equal(buf, "2026-10-25T02:30:00+02:00");
    cv_format_datetime(utc_of(2026, 10, 25, 1, 30), buf);
    assert_string_equal(buf, "2026-10-25T02:30:00+01:00");
    set_zone("America/New_York");
    cv_format_datetime(utc_of(2027, 1, 1, 3, 0), buf);
    assert_string_equal(buf, "2026-12-31T22:00:00-05:00");
    set_zone("Asia/Kolkata");
    cv_format_datetime(0, buf);
    assert_string_equal(buf, "1970-01-01T05:30:00+05:30");
    set_zone("UTC");
    cv_format_datetime(utc_of(2026, 12, 1, 8, 30), buf);
    assert_string_equal(buf, "2026-12-01T08:30:00+00:00");

    /* what format_datetime writes, parse_datetime reads back */
    set_zone("Europe/Paris");
    for (int64_t t = utc_of(2026, 1, 1, 0, 0); t < utc_of(2027, 1, 1, 0, 0); t += 3 * H + 7 * M + 11) {
        int64_t back = 0;
        cv_format_datetime(t, buf);
        assert_int_equal(cv_parse_datetime(buf, &back, NULL), 0);
        assert_int_equal(back, t);
    }

    cv_format_date(cv_day_from_ymd(2026, 12, 1), buf);
    assert_string_equal(buf, "2026-12-01");
    cv_format_date(cv_day_from_ymd(2000, 2, 29), buf);
    assert_string_equal(buf, "2000-02-29");
    cv_format_date(cv_day_from_ymd(33, 3, 3), buf);
    assert_string_equal(buf, "0033-03-03");

    cv_format_time_of_day(8 * H + 30 * M, buf);
    assert_string_equal(buf, "08:30");
    cv_format_time_of_day(0, buf);
    assert_string_equal(buf, "00:00");
    cv_format_time_of_day(86399, buf);
    assert_string_equal(buf, "23:59");

    cv_format_weekdays(0, buf);
    assert_string_equal(buf, "");
    cv_format_weekdays(CV_MON | CV_TUE, buf);
    assert_string_equal(buf, "mon,tue");
    cv_format_weekdays(CV_MON | CV_SUN, buf);
    assert_string_equal(buf, "mon,sun");
    cv_format_weekdays(0xff, buf);
    assert_string_equal(buf, "mon,tue,wed,thu,fri,sat,sun");
}

/* ---- parsing ---- */

static void test_parse_datetime_good(void **state)
{
    (void)state;
    struct {
        const char *text;
        int64_t want;
    } good[] = {
        {"2026-12-01T08:30", utc_of(2026, 12, 1, 8, 30)},
        {"2026-12-01T08:30:15", utc_of(2026, 12, 1, 8, 30) + 15},
        {"2026-12-01 08:30", utc_of(2026, 12, 1, 8, 30)},
        {"2026-12-01t08:30z", utc_of(2026, 12, 1, 8, 30)},
        {"2026-12-01T08:30Z", utc_of(2026, 12, 1, 8, 30)},
        {"2026-12-01T08:30:59Z", utc_of(2026, 12, 1, 8, 30) + 59},
        {"2026-12-01T08:30+01:00", utc_of(2026, 12, 1, 7, 30)},
        {"2026-12-01T08:30-05:30", utc_of(2026, 12, 1, 14, 0)},
        {"2026-12-01T08:30-00:00", utc_of(2026, 12, 1, 8, 30)},
        {"2026-12-01T00:30+01:00", utc_of(2026, 11, 30, 23, 30)},
        {"2024-02-29T23:59:59", utc_of(2024, 2, 29, 23, 59) + 59},
        {"2000-02-29T00:00", utc_of(2000, 2, 29, 0, 0)},
        {"1970-01-01T00:00Z", 0},
        {"2026-12-01T08:30+18:00", utc_of(2026, 11, 30, 14, 30)},
    };
    set_zone("UTC");
    for (size_t i = 0; i < NELEM(good); i++) {
        int64_t t = -1;
        cv_error err = {0};
        if (cv_parse_datetime(good[i].text, &t, &err) != 0)
            fail_msg("'%s' refused: %s", good[i].text, err.text);
        if (t != good[i].want)
            fail_msg("'%s' -> %lld, want %lld", good[i].text, (long long)t, (long long)good[i].want);
    }

    /* without an offset the time is local */
    set_zone("Europe/Lisbon");
    int64_t t = 0;
    assert_int_equal(cv_parse_datetime("2026-07-01T08:00", &t, NULL), 0);
    assert_int_equal(t, utc_of(2026, 7, 1, 7, 0));
    assert_int_equal(cv_parse_datetime("2026-03-29T01:30", &t, NULL), 0); /* skipped: 02:30 */
    assert_int_equal(t, utc_of(2026, 3, 29, 1, 30));
    assert_int_equal(cv_parse_datetime("2026-10-25T01:30", &t, NULL), 0); /* repeated: the first */
    assert_int_equal(t, utc_of(2026, 10, 25, 0, 30));
    assert_int_equal(cv_parse_datetime("2026-07-01T08:00Z", &t, NULL), 0); /* an offset wins over the zone */
    assert_int_equal(t, utc_of(2026, 7, 1, 8, 0));
}

static void test_parse_datetime_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "2026-02-30T08:00",
        "2025-02-29T08:00",
        "1900-02-29T08:00",
        "2026-04-31T08:00",
        "2026-13-01T08:00",
        "2026-00-10T08:00",
        "2026-12-00T08:00",
        "2026-12-01T24:00",
        "2026-12-01T08:60",
        "2026-12-01T08:30:60",
        "2026-12-01",
        "2026-12-01T8:30",
        "2026-12-01T08:30Zjunk",
        "2026-12-01T08:30+0100",
        "2026-12-01T08:30+01",
        "2026-12-01T08:30+19:00",
        "2026-12-01T08:30+01:60",
        "",
        " 2026-12-01T08:30",
        "2026-12-01T08:30 ",
        "2026-12-01X08:30",
        "26-12-01T08:30",
        "2026-1-01T08:30",
        "2026-12-01T08:30:5",
        "2026-12-01T08:30.5",
        "2026-12-01T08:30:00.000Z",
        "2026/12/01T08:30",
        "2026-12-01T08:",
        "2026-12-01T",
        "now",
        "+2026-12-01T08:30",
    };
    for (size_t i = 0; i < NELEM(bad); i++) {
        int64_t t = 42;
        cv_error err = {0};
        if (cv_parse_datetime(bad[i], &t, &err) != CV_EINVAL)
            fail_msg("'%s' accepted (-> %lld)", bad[i], (long long)t);
        assert_int_equal(err.code, CV_EINVAL);
        assert_int_equal(t, 42); /* untouched on failure */
        char quoted[64];
        snprintf(quoted, sizeof quoted, "'%s'", bad[i]);
        if (!strstr(err.text, quoted))
            fail_msg("message for '%s' does not name it: %s", bad[i], err.text);
    }
    cv_error err = {0};
    int64_t t;
    assert_int_equal(cv_parse_datetime("2026-02-30T08:00", &t, &err), CV_EINVAL);
    assert_string_equal(err.text, "'2026-02-30T08:00' is not a valid date-time (ISO 8601, e.g. 2026-12-01T08:30)");
    assert_int_equal(cv_parse_datetime(NULL, &t, &err), CV_EINVAL);
    assert_int_equal(cv_parse_datetime("x", &t, NULL), CV_EINVAL); /* err may be NULL */

    /* a long input is echoed shortened, the message stays one bounded line */
    char longtext[2000];
    memset(longtext, '9', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    assert_int_equal(cv_parse_datetime(longtext, &t, &err), CV_EINVAL);
    assert_true(strlen(err.text) < 200);
}

static void test_parse_date(void **state)
{
    (void)state;
    cv_day d = 0;
    cv_error err = {0};
    assert_int_equal(cv_parse_date("2026-12-01", &d, &err), 0);
    assert_int_equal(d, cv_day_from_ymd(2026, 12, 1));
    assert_int_equal(cv_parse_date("2000-02-29", &d, &err), 0);
    assert_int_equal(d, 11016);
    assert_int_equal(cv_parse_date("1969-12-31", &d, &err), 0);
    assert_int_equal(d, -1);

    static const char *const bad[] = {"1900-02-29", "2026-02-29",       "2026-04-31",  "2026-13-01",
                                      "2026-12-1",  "2026-12-01T08:30", "2026-12-01 ", "",
                                      "20261201",   "2026-00-01",       "2026-12-32"};
    for (size_t i = 0; i < NELEM(bad); i++) {
        d = 42;
        if (cv_parse_date(bad[i], &d, &err) != CV_EINVAL)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(d, 42);
        char quoted[64];
        snprintf(quoted, sizeof quoted, "'%s'", bad[i]);
        assert_non_null(strstr(err.text, quoted));
    }
    assert_int_equal(cv_parse_date(NULL, &d, &err), CV_EINVAL);
}

static void test_parse_time_of_day(void **state)
{
    (void)state;
    struct {
        const char *text;
        int32_t want;
    } good[] = {{"08:30", 8 * H + 30 * M},  {"8:30", 8 * H + 30 * M}, {"0:00", 0}, {"00:00", 0},
                {"23:59", 23 * H + 59 * M}, {"12:05", 12 * H + 5 * M}};
    for (size_t i = 0; i < NELEM(good); i++) {
        int32_t s = -1;
        cv_error err = {0};
        if (cv_parse_time_of_day(good[i].text, &s, &err) != 0)
            fail_msg("'%s' refused: %s", good[i].text, err.text);
        assert_int_equal(s, good[i].want);
    }
    static const char *const bad[] = {"24:00", "08:60", "8:5",   "830",    "",    "08:30:00", "-1:00",
                                      "08:3a", " 8:30", "8:30 ", "108:30", ":30", "8:",       "08h30"};
    for (size_t i = 0; i < NELEM(bad); i++) {
        int32_t s = 42;
        cv_error err = {0};
        if (cv_parse_time_of_day(bad[i], &s, &err) != CV_EINVAL)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(s, 42);
        char quoted[64];
        snprintf(quoted, sizeof quoted, "'%s'", bad[i]);
        assert_non_null(strstr(err.text, quoted));
    }
}

static void test_parse_weekdays(void **state)
{
    (void)state;
    struct {
        const char *text;
        uint8_t want;
    } good[] = {
        {"mon,tue,fri", CV_MON | CV_TUE | CV_FRI},
        {"MON,Tuesday", CV_MON | CV_TUE},
        {"sunday", CV_SUN},
        {"weekdays", CV_MON | CV_TUE | CV_WED | CV_THU | CV_FRI},
        {"Weekend", CV_SAT | CV_SUN},
        {"daily", 0x7f},
        {"mon,mon", CV_MON},
        {"weekdays,sat", 0x7f & ~CV_SUN},
        {"mon, tue", CV_MON | CV_TUE},
        {"wed,thu,THURSDAY", CV_WED | CV_THU},
    };
    for (size_t i = 0; i < NELEM(good); i++) {
        uint8_t days = 0;
        cv_error err = {0};
        if (cv_parse_weekdays(good[i].text, &days, &err) != 0)
            fail_msg("'%s' refused: %s", good[i].text, err.text);
        assert_int_equal(days, good[i].want);
    }
    static const char *const bad[] = {"",   "mon,,tue", "mon,", ",mon",        "funday",
                                      "mo", "mon;tue",  " ",    "monday,tues", "weekday"};
    for (size_t i = 0; i < NELEM(bad); i++) {
        uint8_t days = 42;
        cv_error err = {0};
        if (cv_parse_weekdays(bad[i], &days, &err) != CV_EINVAL)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(days, 42);
    }
    cv_error err = {0};
    uint8_t days;
    assert_int_equal(cv_parse_weekdays("mon,funday", &days, &err), CV_EINVAL);
    assert_non_null(strstr(err.text, "unknown weekday 'funday'"));
    assert_int_equal(cv_parse_weekdays("", &days, &err), CV_EINVAL);
    assert_non_null(strstr(err.text, "empty"));
    assert_int_equal(cv_parse_weekdays(NULL, &days, &err), CV_EINVAL);

    /* every mask survives format -> parse */
    for (unsigned m = 1; m < 128; m++) {
        char buf[32];
        cv_format_weekdays((uint8_t)m, buf);
        days = 0;
        assert_int_equal(cv_parse_weekdays(buf, &days, NULL), 0);
        assert_int_equal(days, m);
    }
}

/* ---- schedule, offer and request checks ---- */

/* "now" for the checks: Monday 2026-06-01 12:00 in UTC. */
static int64_t now_utc(void)
{
    return utc_of(2026, 6, 1, 12, 0);
}

static cv_schedule punctual(int64_t depart)
{
    cv_schedule s = {.kind = CV_PUNCTUAL, .depart = depart, .margin_s = CV_DEFAULT_MARGIN_S};
    return s;
}

static cv_schedule regular(void)
{
    cv_schedule s = {.kind = CV_REGULAR,
                     .weekdays = CV_MON | CV_FRI,
                     .time_of_day = 8 * H,
                     .first_day = cv_day_from_ymd(2026, 6, 1),
                     .last_day = cv_day_from_ymd(2026, 12, 31),
                     .margin_s = CV_DEFAULT_MARGIN_S};
    return s;
}

/* Asserts that call fails with CV_EINVAL and a message containing what; the call passes ERR as its cv_error. */
#define EXPECT_BAD(call, what)                                                                                         \
    do {                                                                                                               \
        cv_error err_ = {0};                                                                                           \
        int rc_ = (call);                                                                                              \
        if (rc_ != CV_EINVAL)                                                                                          \
            fail_msg("%s returned %d, want CV_EINVAL (%s)", #call, rc_, what);                                         \
        if (!strstr(err_.text, what))                                                                                  \
            fail_msg("%s: message '%s' lacks '%s'", #call, err_.text, what);                                           \
    } while (0)
#define ERR (&err_)

static void expect_ok_schedule(const cv_schedule *s, int64_t now)
{
    cv_error err = {0};
    if (cv_schedule_check(s, now, &err) != 0)
        fail_msg("schedule refused: %s", err.text);
}

static void test_schedule_check(void **state)
{
    (void)state;
    int64_t now = now_utc();
    cv_schedule s = punctual(now + 3600);
    expect_ok_schedule(&s, now);
    s = punctual(now - CV_DEFAULT_MARGIN_S); /* late, but within the margin */
    expect_ok_schedule(&s, now);
    s = punctual(now - CV_DEFAULT_MARGIN_S - 1);
    EXPECT_BAD(cv_schedule_check(&s, now, ERR), "departure 2026-06-01T11:44:59+00:00 is in the past");
    s = punctual(INT64_MIN); /* no overflow at the extremes */
    EXPECT_BAD(cv_schedule_check(&s, now, ERR), "is in the past");
    s = punctual(INT64_MAX);
    expect_ok_schedule(&s, now);
    s = punctual(now);
    s.margin_s = 0;
    expect_ok_schedule(&s, now);
    s.margin_s = CV_MAX_MARGIN_S;
    expect_ok_schedule(&s, now);
    s.margin_s = -1;
    EXPECT_BAD(cv_schedule_check(&s, now, ERR), "margin_s must be between 0 and 43200 (got -1)");
    s.margin_s = CV_MAX_MARGIN_S + 1;
    EXPECT_BAD(cv_schedule_check(&s, now, ERR), "margin_s must be between 0 and 43200 (got 43201)");
    s = punctual(now);
    s.kind = (cv_schedule_kind)7;
    EXPECT_BAD(cv_schedule_check(&s, now, ERR), "schedule kind");
    EXPECT_BAD(cv_schedule_check(NULL, now, ERR), "missing schedule");

    s = regular();
    expect_ok_schedule(&s, now);
    s.weekdays = 0x7f;
    expect_ok_schedule(&s, now);
    s.weekdays = 0;
    EXPECT_BAD(cv_schedule_check(&s, now, ERR), "weekdays must name at least one day");
    s.weekdays = 0x80 | CV_MON;
    EXPECT_BAD(cv_schedule_check(&s, now, ERR), "weekdays has bits beyond Sunday (got 0x81)");
    s = regular();
    s.time_of_day = -1;
    EXPECT_BAD(cv_schedule_check(&s, now, ERR), "time_of_day must be between 0 and 86399 seconds (got -1)");
    s.time_of_day = 86400;
    EXPECT_BAD(cv_schedule_check(&s, now, ERR), "(got 86400)");
    s.time_of_day = 86399;
    expect_ok_schedule(&s, now);
    s.time_of_day = 0;
    expect_ok_schedule(&s, now);
    s.margin_s = CV_MAX_MARGIN_S + 1;
    EXPECT_BAD(cv_schedule_check(&s, now, ERR), "margin_s");

    s = regular();
    s.first_day = cv_day_from_ymd(2027, 1, 1);
    EXPECT_BAD(cv_schedule_check(&s, now, ERR), "first_day 2027-01-01 is after last_day 2026-12-31");
    s = regular();
    s.first_day = s.last_day = cv_day_from_ymd(2026, 6, 5); /* one Friday */
    expect_ok_schedule(&s, now);
    s.first_day = cv_day_from_ymd(2026, 1, 1); /* started in the past: fine while it runs */
    s.last_day = cv_day_from_ymd(2026, 6, 1);  /* ends today, a Monday */
    expect_ok_schedule(&s, now);
    s.last_day = cv_day_from_ymd(2026, 5, 31);
    EXPECT_BAD(cv_schedule_check(&s, now, ERR), "last_day 2026-05-31 is in the past (today is 2026-06-01)");
    s = regular();
    s.weekdays = CV_MON;
    s.first_day = cv_day_from_ymd(2026, 6, 2); /* Tuesday to Sunday: never a Monday */
    s.last_day = cv_day_from_ymd(2026, 6, 7);
    EXPECT_BAD(cv_schedule_check(&s, now, ERR), "no mon between 2026-06-02 and last_day 2026-06-07");
    s.weekdays = CV_SUN;
    expect_ok_schedule(&s, now);
    s = regular();
    s.weekdays = CV_SAT | CV_SUN; /* today Monday 06-01 .. Friday 06-05: only weekdays left */
    s.first_day = cv_day_from_ymd(2026, 5, 30);
    s.last_day = cv_day_from_ymd(2026, 6, 5);
    EXPECT_BAD(cv_schedule_check(&s, now, ERR), "no sat,sun between 2026-06-01");

    /* "today" is the server's local day: at 2026-06-01 23:30Z it is already 06-02 in Paris */
    set_zone("Europe/Paris");
    int64_t late = utc_of(2026, 6, 1, 23, 30);
    s = regular();
    s.last_day = cv_day_from_ymd(2026, 6, 1);
    s.first_day = s.last_day;
    s.weekdays = CV_MON;
    EXPECT_BAD(cv_schedule_check(&s, late, ERR), "last_day 2026-06-01 is in the past (today is 2026-06-02)");
    set_zone("UTC");
    expect_ok_schedule(&s, late);
}

static cv_offer good_offer(void)
{
    cv_offer o = {0};
    strcpy(o.owner, "user-42@example.org");
    o.from = (cv_coord){.lon = -91393000, .lat = 387223000}; /* Lisbon */
    o.to = (cv_coord){.lon = -86110000, .lat = 411496000};   /* Porto */
    o.vias[0] = (cv_coord){.lon = -84196000, .lat = 402033000};
    o.nvias = 1;
    o.when = punctual(now_utc() + 86400);
    o.seats = CV_DEFAULT_SEATS;
    o.max_detour_s = -1;
    o.max_detour_m = -1;
    o.price_per_km = CV_DEFAULT_PRICE_PER_KM;
    return o;
}

static void expect_ok_offer(const cv_offer *o)
{
    cv_error err = {0};
    if (cv_offer_check(o, now_utc(), &err) != 0)
        fail_msg("offer refused: %s", err.text);
}

static void test_offer_check(void **state)
{
    (void)state;
    int64_t now = now_utc();
    cv_offer o = good_offer();
    expect_ok_offer(&o);
    o.when = regular();
    expect_ok_offer(&o);
    EXPECT_BAD(cv_offer_check(NULL, now, ERR), "missing offer");

    /* owner */
    o = good_offer();
    o.owner[0] = '\0';
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "owner must not be empty");
    memset(o.owner, 'a', CV_OWNER_MAX - 1);
    o.owner[CV_OWNER_MAX - 1] = '\0';
    expect_ok_offer(&o); /* 127 bytes: the most */
    memset(o.owner, 'a', CV_OWNER_MAX);
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "owner must be at most 127 bytes");
    strcpy(o.owner, "bad\nowner");
    EXPECT_BAD(cv_offer_check(&o, now, ERR),
               "owner contains a control or line-breaking character (U+000A at offset 3)");
    strcpy(o.owner, "del\x7f");
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "U+007F at offset 3");
    strcpy(o.owner, "Jos\xc3\xa9"); /* UTF-8 is fine */
    expect_ok_offer(&o);
    strcpy(o.owner, "\xe6\x97\xa5\xf0\x9f\x9a\x97"); /* three and four bytes */
    expect_ok_offer(&o);
    strcpy(o.owner, "\xc2\xa0nbsp"); /* U+00A0, just past C1 */
    expect_ok_offer(&o);
    strcpy(o.owner, "c1\xc2\x85"); /* NEL, a C1 control */
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "U+0085 at offset 2");
    strcpy(o.owner, "c1\xc2\x80");
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "U+0080");
    strcpy(o.owner, "c1\xc2\x9f");
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "U+009F");
    strcpy(o.owner, "ls\xe2\x80\xa8");
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "U+2028 at offset 2");
    strcpy(o.owner, "ps\xe2\x80\xa9");
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "U+2029");
    strcpy(o.owner, "\xe2\x80\xaa"); /* U+202A, next to them, is text */
    expect_ok_offer(&o);
    strcpy(o.owner, "latin1 Jos\xe9");
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "owner is not UTF-8 (byte 0xe9 at offset 10)");
    strcpy(o.owner, "overlong \xc0\xaf");
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "owner is not UTF-8 (byte 0xc0");
    strcpy(o.owner, "cut \xe2\x80");
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "owner is not UTF-8");

    /* coordinates */
    o = good_offer();
    o.from.lon = 1800000001;
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "from longitude must be between -180 and 180 (got 180.0000001)");
    o.from.lon = -1800000000;
    expect_ok_offer(&o);
    o.from.lon = INT32_MIN;
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "from longitude");
    o = good_offer();
    o.from.lat = 900000001;
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "from latitude must be between -90 and 90 (got 90.0000001)");
    o = good_offer();
    o.to.lat = -900000001;
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "to latitude");
    o = good_offer();
    o.to.lon = INT32_MAX;
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "to longitude");
    o = good_offer();
    o.to = o.from;
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "from and to are the same point (-9.1393000,38.7223000)");

    /* vias */
    o = good_offer();
    o.nvias = -1;
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "nvias must be between 0 and 8 (got -1)");
    o.nvias = CV_MAX_VIAS + 1;
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "(got 9)");
    o.nvias = 0;
    expect_ok_offer(&o);
    o.nvias = CV_MAX_VIAS;
    for (int i = 0; i < CV_MAX_VIAS; i++)
        o.vias[i] = (cv_coord){.lon = -90000000 + i * 100000, .lat = 400000000};
    expect_ok_offer(&o);
    o.vias[3].lat = 900000001;
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "vias[3] latitude");
    o.nvias = 3; /* vias beyond nvias are not looked at */
    expect_ok_offer(&o);

    /* seats */
    o = good_offer();
    o.seats = 0;
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "seats must be between 1 and 8 (got 0)");
    o.seats = CV_MAX_SEATS + 1;
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "seats must be between 1 and 8 (got 9)");
    o.seats = CV_MAX_SEATS;
    expect_ok_offer(&o);
    o.seats = 1;
    expect_ok_offer(&o);

    /* detour limits */
    o = good_offer();
    o.max_detour_s = 0;
    expect_ok_offer(&o);
    o.max_detour_s = 86400;
    expect_ok_offer(&o);
    o.max_detour_s = 86401;
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "max_detour_s must be -1 (default) or between 0 and 86400 (got 86401)");
    o.max_detour_s = -2;
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "max_detour_s");
    o = good_offer();
    o.max_detour_m = 1000000;
    expect_ok_offer(&o);
    o.max_detour_m = 1000001;
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "max_detour_m must be -1 (default) or between 0 and 1000000");
    o.max_detour_m = INT32_MIN;
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "max_detour_m");

    /* price */
    o = good_offer();
    o.price_per_km = 0;
    expect_ok_offer(&o);
    o.price_per_km = 10;
    expect_ok_offer(&o);
    o.price_per_km = 10.01;
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "price_per_km must be between 0.0001 and 10 euros (got 10.01)");
    o.price_per_km = 0.0001;
    expect_ok_offer(&o);
    o.price_per_km = 1e-300; /* it would be stored, and shown, as 0 */
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "(got 1e-300)");
    o.price_per_km = -0.01;
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "price_per_km");
    o.price_per_km = NAN;
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "price_per_km");
    o.price_per_km = INFINITY;
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "price_per_km");

    /* schedule */
    o = good_offer();
    o.when = punctual(now - 3600);
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "is in the past");
    o.when = regular();
    o.when.weekdays = 0;
    EXPECT_BAD(cv_offer_check(&o, now, ERR), "weekdays");
}

static cv_request good_request(void)
{
    cv_request r = {0};
    strcpy(r.owner, "passenger-7");
    r.from = (cv_coord){.lon = -91393000, .lat = 387223000};
    r.to = (cv_coord){.lon = -84196000, .lat = 402033000};
    r.when = punctual(now_utc() + 7200);
    r.seats = 1;
    return r;
}

static void test_request_check(void **state)
{
    (void)state;
    int64_t now = now_utc();
    cv_request r = good_request();
    cv_error err = {0};
    assert_int_equal(cv_request_check(&r, now, &err), 0);
    r.when = regular();
    assert_int_equal(cv_request_check(&r, now, &err), 0);
    r.seats = CV_MAX_SEATS;
    assert_int_equal(cv_request_check(&r, now, &err), 0);
    EXPECT_BAD(cv_request_check(NULL, now, ERR), "missing request");

    r = good_request();
    r.seats = 0;
    EXPECT_BAD(cv_request_check(&r, now, ERR), "seats must be between 1 and 8 (got 0)");
    r.seats = 9;
    EXPECT_BAD(cv_request_check(&r, now, ERR), "seats must be between 1 and 8 (got 9)");
    r = good_request();
    r.owner[0] = '\0';
    EXPECT_BAD(cv_request_check(&r, now, ERR), "owner must not be empty");
    memset(r.owner, 'x', CV_OWNER_MAX);
    EXPECT_BAD(cv_request_check(&r, now, ERR), "owner must be at most");
    strcpy(r.owner, "tab\there");
    EXPECT_BAD(cv_request_check(&r, now, ERR), "control or line-breaking character (U+0009");
    strcpy(r.owner, "nel\xc2\x85");
    EXPECT_BAD(cv_request_check(&r, now, ERR), "U+0085");
    r = good_request();
    r.from.lat = 900000001;
    EXPECT_BAD(cv_request_check(&r, now, ERR), "from latitude");
    r = good_request();
    r.to.lon = -1800000001;
    EXPECT_BAD(cv_request_check(&r, now, ERR), "to longitude");
    r = good_request();
    r.to = r.from;
    EXPECT_BAD(cv_request_check(&r, now, ERR), "from and to are the same point");
    r = good_request();
    r.when.margin_s = -5;
    EXPECT_BAD(cv_request_check(&r, now, ERR), "margin_s must be between 0 and 43200 (got -5)");
    r = good_request();
    r.when = punctual(now - CV_DEFAULT_MARGIN_S - 60);
    EXPECT_BAD(cv_request_check(&r, now, ERR), "is in the past");
    r.when = regular();
    r.when.last_day = cv_day_from_ymd(2026, 1, 31);
    r.when.first_day = cv_day_from_ymd(2026, 1, 1);
    EXPECT_BAD(cv_request_check(&r, now, ERR), "last_day 2026-01-31 is in the past");
}

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(cv_booking_status_name(CV_BOOKING_PENDING), "pending");
    assert_string_equal(cv_booking_status_name(CV_BOOKING_ACCEPTED), "accepted");
    assert_string_equal(cv_booking_status_name(CV_BOOKING_REFUSED), "refused");
    assert_string_equal(cv_booking_status_name(CV_BOOKING_CANCELLED), "cancelled");
    assert_string_equal(cv_booking_status_name((cv_booking_status)99), "unknown");
    assert_string_equal(cv_trip_status_name(CV_TRIP_OPEN), "open");
    assert_string_equal(cv_trip_status_name(CV_TRIP_CANCELLED), "cancelled");
    assert_string_equal(cv_trip_status_name((cv_trip_status)-1), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_day_known_dates, reset_zone),
        cmocka_unit_test_teardown(test_day_round_trip, reset_zone),
        cmocka_unit_test_teardown(test_tz_utc_default, reset_zone),
        cmocka_unit_test_teardown(test_tz_unknown_refused, reset_zone),
        cmocka_unit_test_teardown(test_tz_lisbon, reset_zone),
        cmocka_unit_test_teardown(test_tz_paris, reset_zone),
        cmocka_unit_test_teardown(test_tz_paris_changes_to_the_second, reset_zone),
        cmocka_unit_test_teardown(test_tz_new_york, reset_zone),
        cmocka_unit_test_teardown(test_tz_dublin_negative_dst, reset_zone),
        cmocka_unit_test_teardown(test_tz_round_trips, reset_zone),
        cmocka_unit_test_teardown(test_format, reset_zone),
        cmocka_unit_test_teardown(test_cached_offsets_agree, reset_zone),
        cmocka_unit_test_teardown(test_parse_datetime_good, reset_zone),
        cmocka_unit_test_teardown(test_parse_datetime_bad, reset_zone),
        cmocka_unit_test_teardown(test_parse_date, reset_zone),
        cmocka_unit_test_teardown(test_parse_time_of_day, reset_zone),
        cmocka_unit_test_teardown(test_parse_weekdays, reset_zone),
        cmocka_unit_test_teardown(test_schedule_check, reset_zone),
        cmocka_unit_test_teardown(test_offer_check, reset_zone),
        cmocka_unit_test_teardown(test_request_check, reset_zone),
        cmocka_unit_test_teardown(test_status_names, reset_zone),
    };
    /* every test starts in UTC whatever TZ the environment has */
    if (cv_tz_set(NULL, NULL) != 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
