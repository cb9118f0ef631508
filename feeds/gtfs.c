/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* gtfs.c — the open offers as a GTFS feed (gtfs.h): rows quoted by libcsv, the files zipped in memory by libzip. */
#define _POSIX_C_SOURCE 200809L
#include "feeds/gtfs.h"

#include <csv.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "feeds/privacy.h"
#include "matcher/timeutil.h"
#include "matcher/trip.h"
#include "routing/geo.h"
#include "routing/path.h"

cv_gtfs_options cv_gtfs_defaults(void)
{
    return (cv_gtfs_options){NULL, NULL, CV_GTFS_DAYS_DEFAULT, NULL};
}

/* --- a text file of the feed, grown as rows come --- */

typedef struct text {
    char *s;
    size_t n, cap;
    int oom;
} text;

static void put(text *t, const char *s, size_t len)
{
    if (t->oom)
        return;
    if (t->n + len + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->n + len + 1)
            cap *= 2;
        char *g = realloc(t->s, cap);
        if (!g) {
            t->oom = 1;
            return;
        }
        t->s = g, t->cap = cap;
    }
    memcpy(t->s + t->n, s, len);
    t->n += len;
    t->s[t->n] = '\0';
}

/* One CSV row of n values: each quoted by libcsv when it must be (a comma, a quote, a line end in it). */
static void row(text *t, int n, const char *const *v)
{
    for (int i = 0; i < n; i++) {
        const char *f = v[i] ? v[i] : "";
        size_t len = strlen(f);
        if (i)
            put(t, ",", 1);
        if (strpbrk(f, ",\"\r\n")) {
            size_t cap = 2 * len + 3;
            char *q = malloc(cap);
            if (!q) {
                t->oom = 1;
                return;
            }
            size_t w = csv_write(q, cap, f, len);
            put(t, q, w);
            free(q);
        } else {
            put(t, f, len);
        }
    }
    put(t, "\n", 1);
}

#define ROW(t, ...)                                                                                                    \
    do {                                                                                                               \
        const char *const v_[] = {__VA_ARGS__};                                                                        \
        row((t), (int)(sizeof v_ / sizeof *v_), v_);                                                                   \
    } while (0)

/* printf into a small buffer kept by the caller (values of one row) */
static const char *fmt(char *buf, size_t cap, const char *f, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static const char *fmt(char *buf, size_t cap, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, cap, f, ap);
    va_end(ap);
    return buf;
}

static const char *ymd(cv_day d, char buf[16])
{
    int y, m, dd;
    cv_day_to_ymd(d, &y, &m, &dd);
    snprintf(buf, 16, "%04d%02d%02d", y, m, dd);
    return buf;
}

/* GTFS times run past midnight for a trip that does: 25:10:00. */
static const char *hms(int64_t s, char buf[64])
{
    snprintf(buf, 64, "%02lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60), (long long)(s % 60));
    return buf;
}

/* --- the meeting areas: one stop per grid cell used --- */

typedef struct area_stop {
    int32_t ix, iy;
    cv_coord at;
    char id[48], name[400];
} area_stop;

typedef struct feed {
    const cv_graph *g;
    cv_ch_query *q;
    const cv_gtfs_options *o;
    area_stop *stops;
    size_t nstops, cap;
    text agency, feed_info, routes, trips, stop_times, calendar, calendar_dates, shapes, booking_rules;
    cv_gtfs_stats st;
} feed;

/* The stop of area a (added when first used); NULL when out of memory. */
static const area_stop *stop_of(feed *f, const cv_area *a)
{
    for (size_t i = 0; i < f->nstops; i++)
        if (f->stops[i].ix == a->ix && f->stops[i].iy == a->iy)
            return &f->stops[i];
    if (f->nstops == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 64;
        area_stop *g = realloc(f->stops, cap * sizeof *g);
        if (!g)
            return NULL;
        f->stops = g, f->cap = cap;
    }
    area_stop *s = &f->stops[f->nstops++];
    memset(s, 0, sizeof *s);
    s->ix = a->ix, s->iy = a->iy, s->at = a->meet.location;
    snprintf(s->id, sizeof s->id, "area_%d_%d", (int)a->ix, (int)a->iy);
    cv_area_name(f->o->places, s->at, s->name, sizeof s->name);
    return s;
}

/* The link to the map page for offer id (its weekly trip, or its date). */
static void offer_url(const feed *f, int64_t id, char *out, size_t cap)
{
    const char *base = f->o->public_url && *f->o->public_url ? f->o->public_url : "http://127.0.0.1/";
    size_t n = strlen(base);
    snprintf(out, cap, "%s%s?journey=offer-%lld", base, n && base[n - 1] == '/' ? "" : "/", (long long)id);
}

/* One offer: its areas, legs, times, dates and rows; 0 when written, 1 when it has nothing to publish (no date in
   the window, one area only, no route between its areas), or a CV_E* code. */
static int add_offer(feed *f, cv_store *s, const cv_offer *o, cv_day today, cv_day last, int64_t now, cv_error *err)
{
    /* the dates it runs in the window, less those it is full */
    cv_dates window = {today, last, 0x7f};
    cv_dates d = cv_dates_intersect(cv_schedule_dates(&o->when), window);
    if (cv_dates_empty(d) || (o->when.kind == CV_PUNCTUAL && o->when.depart + o->when.margin_s < now))
        return 1;
    cv_day_seats *full = NULL;
    size_t nfull = 0;
    int rc = cv_store_seats_left(s, o->id, today, &full, &nfull, err);
    if (rc)
        return rc;
    size_t kept = 0;
    for (size_t i = 0; i < nfull; i++)
        if (full[i].seats_left <= 0 && cv_dates_contains(d, full[i].day))
            full[kept++] = full[i];
    nfull = kept;
    size_t ndates = 0;
    for (cv_day day = cv_dates_next(d, d.first); day >= 0 && day <= d.last; day = cv_dates_next(d, day + 1)) {
        int is_full = 0;
        for (size_t i = 0; i < nfull; i++)
            is_full |= full[i].day == day;
        ndates += !is_full;
    }
    if (!ndates) {
        free(full);
        return 1;
    }
    /* the public areas of its origin, vias and destination (one stop for places of one cell in a row) */
    cv_coord pts[CV_MAX_VIAS + 2];
    int np = 0;
    pts[np++] = o->from;
    for (int i = 0; i < o->nvias; i++)
        pts[np++] = o->vias[i];
    pts[np++] = o->to;
    cv_area areas[CV_MAX_VIAS + 2];
    int na = 0;
    for (int i = 0; i < np; i++) {
        cv_area a;
        cv_error e2 = {0};
        if (cv_area_of(f->g, pts[i], &a, &e2))
            continue; /* no road near that cell's centre: the area is left out */
        if (na && areas[na - 1].ix == a.ix && areas[na - 1].iy == a.iy)
            continue;
        areas[na++] = a;
    }
    if (na < 2) {
        free(full);
        return 1;
    }
    /* legs between the areas' meeting points: times and the shape */
    int64_t at_s[CV_MAX_VIAS + 2];
    double dist_m[CV_MAX_VIAS + 2];
    int32_t t0 = o->when.time_of_day;
    if (o->when.kind == CV_PUNCTUAL)
        cv_utc_to_local(o->when.depart, NULL, &t0, NULL);
    at_s[0] = t0, dist_m[0] = 0;
    char id[48], url[1200], b1[64], b2[64], b3[64], b4[64];
    snprintf(id, sizeof id, "offer-%lld", (long long)o->id);
    size_t seq = 0;
    for (int i = 1; i < na; i++) {
        cv_path p = {0};
        cv_coord *geo = NULL;
        size_t ng = 0;
        cv_error e2 = {0};
        if (cv_ch_route(f->q, &areas[i - 1].meet, &areas[i].meet, &p, &e2) || cv_path_geometry(f->g, &p, &geo, &ng)) {
            cv_path_free(&p);
            free(geo);
            free(full);
            return 1;
        }
        at_s[i] = at_s[i - 1] + (p.duration_ds + 5) / 10;
        double run = dist_m[i - 1];
        for (size_t k = 0; k < ng; k++) {
            if (k)
                run += cv_distance_m(geo[k - 1], geo[k]);
            if (k == 0 && i > 1)
                continue; /* the leg before ended there */
            ROW(&f->shapes, id, fmt(b1, sizeof b1, "%.6f", cv_deg(geo[k].lat)),
                fmt(b2, sizeof b2, "%.6f", cv_deg(geo[k].lon)), fmt(b3, sizeof b3, "%zu", ++seq),
                fmt(b4, sizeof b4, "%.1f", run));
        }
        f->st.shape_points += ng;
        dist_m[i] = run;
        cv_path_free(&p);
        free(geo);
    }
    /* the route, its trip, its stops and times, its booking rule */
    /* both added first: adding one may move the array, and with it a pointer taken to the other */
    if (!stop_of(f, &areas[0]) || !stop_of(f, &areas[na - 1])) {
        free(full);
        return cv_fail(err, CV_ENOMEM, "out of memory");
    }
    const area_stop *first = stop_of(f, &areas[0]), *end = stop_of(f, &areas[na - 1]);
    char name[900];
    snprintf(name, sizeof name, "Carpool %s to %s", first->name + (strncmp(first->name, "Meeting area: ", 14) ? 0 : 14),
             end->name + (strncmp(end->name, "Meeting area: ", 14) ? 0 : 14));
    offer_url(f, o->id, url, sizeof url);
    ROW(&f->routes, id, "covoit", fmt(b1, sizeof b1, "C%lld", (long long)o->id), name, "1551", url);
    ROW(&f->trips, id, id, id, end->name, id);
    ROW(&f->booking_rules, id, "1", "15",
        "Book this carpool on the operator's map page: the driver accepts or refuses, no commission is taken.", url,
        url);
    for (int i = 0; i < na; i++) {
        const area_stop *st = stop_of(f, &areas[i]);
        if (!st) {
            free(full);
            return cv_fail(err, CV_ENOMEM, "out of memory");
        }
        ROW(&f->stop_times, id, hms(at_s[i], b1), hms(at_s[i], b2), st->id, fmt(b3, sizeof b3, "%d", i + 1),
            i == na - 1 ? "1" : "2", i == 0 ? "1" : "2", i == na - 1 ? "" : id, i == 0 ? "" : id,
            fmt(b4, sizeof b4, "%.1f", dist_m[i]));
    }
    /* its dates: a weekly offer's days in calendar.txt, the full dates taken out; a single one's date */
    if (o->when.kind == CV_REGULAR) {
        uint8_t w = d.weekdays;
        char a[16], z[16];
        ROW(&f->calendar, id, w & CV_MON ? "1" : "0", w & (CV_MON << 1) ? "1" : "0", w & (CV_MON << 2) ? "1" : "0",
            w & (CV_MON << 3) ? "1" : "0", w & (CV_MON << 4) ? "1" : "0", w & (CV_MON << 5) ? "1" : "0",
            w & (CV_MON << 6) ? "1" : "0", ymd(d.first, a), ymd(d.last, z));
        for (size_t i = 0; i < nfull; i++)
            ROW(&f->calendar_dates, id, ymd(full[i].day, a), "2");
    } else {
        char a[16];
        ROW(&f->calendar_dates, id, ymd(d.first, a), "1");
    }
    f->st.offers++;
    f->st.dates += ndates;
    free(full);
    return 0;
}

/* The zip of the feed's files, in memory. */
static int zip_files(const char *const *names, text *const *files, int n, void **out, size_t *len, cv_error *err)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
    zip_t *za = src ? zip_open_from_source(src, ZIP_TRUNCATE, &ze) : NULL;
    int rc = 0;
    if (!za) {
        rc = cv_fail(err, CV_ENOMEM, "cannot make the GTFS zip: %s", zip_error_strerror(&ze));
        zip_source_free(src);
        zip_error_fini(&ze);
        return rc;
    }
    zip_source_keep(src); /* read back after zip_close */
    for (int i = 0; i < n && !rc; i++) {
        zip_source_t *fs = zip_source_buffer(za, files[i]->s ? files[i]->s : "", files[i]->n, 0);
        zip_int64_t idx = fs ? zip_file_add(za, names[i], fs, ZIP_FL_ENC_UTF_8) : -1;
        if (idx < 0) {
            zip_source_free(fs);
            rc = cv_fail(err, CV_ENOMEM, "cannot add %s to the GTFS zip: %s", names[i], zip_strerror(za));
        } else {
            zip_file_set_mtime(za, (zip_uint64_t)idx, 1577836800, 0); /* the same bytes for the same feed */
        }
    }
    if (rc) {
        zip_discard(za);
    } else if (zip_close(za) < 0) {
        rc = cv_fail(err, CV_EIO, "cannot write the GTFS zip: %s", zip_strerror(za));
        zip_discard(za);
    }
    zip_stat_t zs;
    if (!rc && (zip_source_open(src) < 0 || zip_source_stat(src, &zs) < 0))
        rc = cv_fail(err, CV_EIO, "cannot read the GTFS zip back");
    char *buf = !rc ? malloc(zs.size ? zs.size : 1) : NULL;
    if (!rc && !buf)
        rc = cv_fail(err, CV_ENOMEM, "out of memory");
    if (!rc && zip_source_read(src, buf, zs.size) != (zip_int64_t)zs.size)
        rc = cv_fail(err, CV_EIO, "cannot read the GTFS zip back");
    if (zip_source_is_deleted(src) == 0)
        zip_source_close(src);
    zip_source_free(src);
    zip_error_fini(&ze);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = zs.size;
    return 0;
}

int cv_gtfs_build(const cv_graph *g, cv_ch_query *q, cv_store *s, const cv_gtfs_options *o, int64_t now, void **zip,
                  size_t *len, cv_gtfs_stats *stats, cv_error *err)
{
    *zip = NULL;
    *len = 0;
    cv_gtfs_options opt = o ? *o : cv_gtfs_defaults();
    if (opt.days < 1 || opt.days > CV_GTFS_DAYS_MAX)
        return cv_fail(err, CV_EINVAL, "days: %d is not 1 to %d", opt.days, CV_GTFS_DAYS_MAX);
    feed f = {0};
    f.g = g, f.q = q, f.o = &opt;
    cv_day today;
    cv_utc_to_local(now, &today, NULL, NULL);
    cv_day last = today + opt.days - 1;
    cv_offer *offers = NULL;
    size_t n = 0;
    int rc = cv_store_list_offers(s, NULL, 1, &offers, &n, err);
    /* in id order: the same feed for the same trips */
    for (size_t i = 0, j = n; !rc && i < n / 2; i++) {
        cv_offer t = offers[i];
        offers[i] = offers[--j];
        offers[j] = t;
    }
    ROW(&f.routes, "route_id", "agency_id", "route_short_name", "route_long_name", "route_type", "route_url");
    ROW(&f.trips, "route_id", "service_id", "trip_id", "trip_headsign", "shape_id");
    ROW(&f.stop_times, "trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence", "pickup_type",
        "drop_off_type", "pickup_booking_rule_id", "drop_off_booking_rule_id", "shape_dist_traveled");
    ROW(&f.calendar, "service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
        "start_date", "end_date");
    ROW(&f.calendar_dates, "service_id", "date", "exception_type");
    ROW(&f.shapes, "shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence", "shape_dist_traveled");
    ROW(&f.booking_rules, "booking_rule_id", "booking_type", "prior_notice_duration_min", "message", "info_url",
        "booking_url");
    for (size_t i = 0; !rc && i < n; i++)
        if ((rc = add_offer(&f, s, &offers[i], today, last, now, err)) == 1)
            rc = 0;
    free(offers);
    const char *name = opt.operator_name && *opt.operator_name ? opt.operator_name : "covoit";
    const char *url = opt.public_url && *opt.public_url ? opt.public_url : "http://127.0.0.1/";
    char a[16], z[16], version[64];
    ROW(&f.agency, "agency_id", "agency_name", "agency_url", "agency_timezone", "agency_lang");
    ROW(&f.agency, "covoit", name, url, cv_tz_name(), "en");
    snprintf(version, sizeof version, "%s-%zu", ymd(today, a), f.st.offers);
    ROW(&f.feed_info, "feed_publisher_name", "feed_publisher_url", "feed_lang", "feed_start_date", "feed_end_date",
        "feed_version");
    ROW(&f.feed_info, name, url, "en", ymd(today, a), ymd(last, z), version);
    text stops = {0};
    ROW(&stops, "stop_id", "stop_name", "stop_lat", "stop_lon", "location_type");
    for (size_t i = 0; i < f.nstops; i++) {
        char la[32], lo[32];
        ROW(&stops, f.stops[i].id, f.stops[i].name, fmt(la, sizeof la, "%.6f", cv_deg(f.stops[i].at.lat)),
            fmt(lo, sizeof lo, "%.6f", cv_deg(f.stops[i].at.lon)), "0");
    }
    f.st.stops = f.nstops;
    static const char *const names[] = {"agency.txt", "feed_info.txt",    "routes.txt",   "trips.txt",
                                        "stops.txt",  "stop_times.txt",   "calendar.txt", "calendar_dates.txt",
                                        "shapes.txt", "booking_rules.txt"};
    text *const files[] = {&f.agency,     &f.feed_info, &f.routes,         &f.trips,  &stops,
                           &f.stop_times, &f.calendar,  &f.calendar_dates, &f.shapes, &f.booking_rules};
    int oom = 0;
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        oom |= files[i]->oom;
    if (!rc && oom)
        rc = cv_fail(err, CV_ENOMEM, "out of memory");
    if (!rc)
        rc = zip_files(names, files, (int)(sizeof files / sizeof *files), zip, len, err);
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        free(files[i]->s);
    free(f.stops);
    if (!rc && stats)
        *stats = f.st;
    return rc;
}
