/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* stats.c — the territory's figures by week and cell, k-anonymous (stats.h). */
#define _POSIX_C_SOURCE 200809L
#include "feeds/stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/privacy.h"
#include "matcher/matcher.h"
#include "matcher/timeutil.h"
#include "matcher/trip.h"
#include "routing/geo.h"
#include "routing/snap.h"

typedef struct acc {
    cv_stats_row *v;
    size_t n, cap;
    int oom;
    const cv_stats_areas *areas; /* NULL: the grid */
    size_t outside;
} acc;

void cv_stats_areas_free(cv_stats_areas *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i].pts), free(a->v[i].ring_end);
    free(a->v);
    memset(a, 0, sizeof *a);
}

/* Whether c is inside area a: a ray to the east crosses its rings an odd number of times. */
static int inside(const cv_stats_area *a, cv_coord c)
{
    int in = 0;
    size_t start = 0;
    for (size_t r = 0; r < a->nrings; r++) {
        size_t end = a->ring_end[r];
        for (size_t i = start, j = end - 1; i < end; j = i++) {
            cv_coord p = a->pts[i], q = a->pts[j];
            if ((p.lat > c.lat) != (q.lat > c.lat) &&
                c.lon < (double)(q.lon - p.lon) * (double)(c.lat - p.lat) / (double)(q.lat - p.lat) + p.lon)
                in = !in;
        }
        start = end;
    }
    return in;
}

int cv_stats_area_of(const cv_stats_areas *a, cv_coord c)
{
    for (size_t i = 0; a && i < a->n; i++)
        if (inside(&a->v[i], c))
            return (int)i;
    return -1;
}

static void cell_of(cv_coord c, double cell_m, cv_stats_row *r)
{
    cv_coord centre;
    cv_grid_cell(c, cell_m, &r->ix, &r->iy, &centre);
    r->lon = cv_deg(centre.lon), r->lat = cv_deg(centre.lat);
}

static cv_stats_row *add(acc *a, int32_t week, cv_coord at, double cell_m)
{
    int area = a->areas ? cv_stats_area_of(a->areas, at) : 0;
    if (area < 0) {
        a->outside++;
        return NULL;
    }
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 256;
        cv_stats_row *g = realloc(a->v, cap * sizeof *g);
        if (!g) {
            a->oom = 1;
            return NULL;
        }
        a->v = g, a->cap = cap;
    }
    cv_stats_row *r = &a->v[a->n++];
    memset(r, 0, sizeof *r);
    r->week = week;
    if (a->areas) {
        const cv_stats_area *x = &a->areas->v[area];
        r->ix = area, r->iy = 0, r->area = x->name;
        r->lon = cv_deg(x->centre.lon), r->lat = cv_deg(x->centre.lat);
    } else {
        cell_of(at, cell_m, r);
    }
    return r;
}

static int32_t week_of(cv_day d)
{
    return d - cv_day_weekday(d);
}

/* How many dates of d fall in each week of [from, to]: calls fn for every week with a count. */
typedef void (*per_week_fn)(void *ctx, int32_t week, size_t n);
static void per_week(cv_dates d, cv_day from, cv_day to, per_week_fn fn, void *ctx)
{
    cv_dates in = cv_dates_intersect(d, (cv_dates){from, to, 0x7f});
    if (cv_dates_empty(in))
        return;
    int32_t week = 0;
    size_t n = 0;
    for (cv_day day = cv_dates_next(in, in.first); day >= 0 && day <= in.last; day = cv_dates_next(in, day + 1)) {
        if (n && week_of(day) != week) {
            fn(ctx, week, n);
            n = 0;
        }
        week = week_of(day);
        n++;
    }
    if (n)
        fn(ctx, week, n);
}

typedef struct trip_ctx {
    acc *a;
    cv_coord at;
    double cell_m;
    int what; /* 0 offered, 1 requested, 2 matched */
    double shared_km, avoided_km;
} trip_ctx;

static void count_trip(void *arg, int32_t week, size_t n)
{
    trip_ctx *t = arg;
    cv_stats_row *r = add(t->a, week, t->at, t->cell_m);
    if (!r)
        return;
    if (t->what == 0)
        r->offered = n;
    else if (t->what == 1)
        r->requested = n;
    else {
        r->matched = n;
        r->shared_km = t->shared_km * (double)n;
        r->avoided_km = t->avoided_km * (double)n;
    }
}

/* The metres of the route from a to b (0 for one place, -1 when there is none). */
static double leg_m(cv_ch_query *q, const cv_snap *a, const cv_snap *b)
{
    if (a->edge == b->edge && cv_distance_m(a->location, b->location) < CV_SAME_PLACE_M)
        return 0;
    cv_table_cell c;
    return cv_ch_cost(q, a, b, &c) == 0 ? c.distance_dm / 10.0 : -1;
}

/* The driver's km that day through the plan's stops, with and without booking b's: its detour. And b's ride. */
static void ride_of(const cv_graph *g, cv_ch_query *q, cv_store *s, const cv_booking *b, double *shared_km,
                    double *detour_km)
{
    *shared_km = *detour_km = 0;
    cv_snap_options so = cv_snap_defaults();
    so.stop_only = 1;
    cv_error err = {0};
    cv_snap p, d;
    if (cv_snap_point(g, b->pickup, &so, &p, &err) || cv_snap_point(g, b->dropoff, &so, &d, &err))
        return;
    double ride = leg_m(q, &p, &d);
    *shared_km = ride > 0 ? ride / 1000.0 : 0;
    cv_stop *stops = NULL;
    size_t ns = 0;
    int64_t version;
    if (cv_store_offer_plan(s, b->offer_id, &stops, &ns, &version, &err))
        return;
    double with = 0, without = 0;
    cv_snap prev_all, prev_other;
    int have_all = 0, have_other = 0;
    cv_day day = b->dates.first;
    for (size_t i = 0; i < ns; i++) {
        if (!cv_dates_contains(stops[i].dates, day))
            continue;
        cv_snap here;
        if (cv_snap_point(g, stops[i].at, &so, &here, &err))
            continue;
        if (have_all)
            with += fmax(leg_m(q, &prev_all, &here), 0);
        prev_all = here, have_all = 1;
        if (stops[i].booking_id == b->id)
            continue;
        if (have_other)
            without += fmax(leg_m(q, &prev_other, &here), 0);
        prev_other = here, have_other = 1;
    }
    free(stops);
    *detour_km = with > without ? (with - without) / 1000.0 : 0;
}

static int by_key(const void *x, const void *y)
{
    const cv_stats_row *a = x, *b = y;
    if (a->week != b->week)
        return a->week < b->week ? -1 : 1;
    if (a->iy != b->iy)
        return a->iy < b->iy ? -1 : 1;
    return (a->ix > b->ix) - (a->ix < b->ix);
}

static int build(const cv_graph *g, cv_ch_query *q, cv_store *s, int32_t from, int32_t to, double cell_km,
                 const cv_stats_areas *areas, int k, cv_stats *out, cv_error *err)
{
    memset(out, 0, sizeof *out);
    if (to < from || to - from >= CV_STATS_MAX_DAYS)
        return cv_fail(err, CV_EINVAL, "the period must run forward and last at most %d days", CV_STATS_MAX_DAYS);
    if (!areas && !(cell_km >= 1 && cell_km <= 50))
        return cv_fail(err, CV_EINVAL, "cell_km: %g is not 1 to 50 (cells of at least 1 km)", cell_km);
    if (k < 1)
        k = 1;
    double cell_m = cell_km * 1000;
    acc a = {0};
    a.areas = areas;
    cv_offer *offers = NULL;
    cv_request *requests = NULL;
    size_t no = 0, nr = 0;
    int rc = cv_store_list_offers(s, NULL, 0, &offers, &no, err);
    if (!rc)
        rc = cv_store_list_requests(s, NULL, 0, &requests, &nr, err);
    for (size_t i = 0; !rc && i < no; i++) {
        trip_ctx t = {&a, offers[i].from, cell_m, 0, 0, 0};
        per_week(cv_schedule_dates(&offers[i].when), from, to, count_trip, &t);
        cv_booking *b = NULL;
        size_t nb = 0;
        rc = cv_store_list_bookings(s, offers[i].id, CV_BOOKING_ACCEPTED, &b, &nb, err);
        for (size_t j = 0; !rc && j < nb; j++) {
            cv_dates d = cv_dates_intersect(b[j].dates, cv_schedule_dates(&offers[i].when));
            if (cv_dates_empty(cv_dates_intersect(d, (cv_dates){from, to, 0x7f})))
                continue;
            double shared, detour;
            ride_of(g, q, s, &b[j], &shared, &detour);
            trip_ctx m = {&a, b[j].pickup, cell_m, 2, shared, shared - detour};
            per_week(d, from, to, count_trip, &m);
        }
        free(b);
    }
    for (size_t i = 0; !rc && i < nr; i++) {
        trip_ctx t = {&a, requests[i].from, cell_m, 1, 0, 0};
        per_week(cv_schedule_dates(&requests[i].when), from, to, count_trip, &t);
    }
    free(offers);
    free(requests);
    if (!rc && a.oom)
        rc = cv_fail(err, CV_ENOMEM, "out of memory");
    if (rc) {
        free(a.v);
        return rc;
    }
    /* one row per week and cell, then the rows with too few trips left out */
    if (a.n)
        qsort(a.v, a.n, sizeof *a.v, by_key);
    size_t w = 0;
    for (size_t i = 0; i < a.n; i++) {
        if (w && !by_key(&a.v[w - 1], &a.v[i])) {
            cv_stats_row *r = &a.v[w - 1];
            r->offered += a.v[i].offered, r->requested += a.v[i].requested, r->matched += a.v[i].matched;
            r->shared_km += a.v[i].shared_km, r->avoided_km += a.v[i].avoided_km;
        } else {
            a.v[w++] = a.v[i];
        }
    }
    size_t kept = 0;
    for (size_t i = 0; i < w; i++) {
        cv_stats_row *r = &a.v[i];
        if (r->offered + r->requested < (size_t)k) {
            out->suppressed++;
            continue;
        }
        r->co2_kg = r->avoided_km * CV_STATS_CO2_KG_PER_KM;
        out->total.offered += r->offered, out->total.requested += r->requested, out->total.matched += r->matched;
        out->total.shared_km += r->shared_km, out->total.avoided_km += r->avoided_km, out->total.co2_kg += r->co2_kg;
        a.v[kept++] = *r;
    }
    out->rows = a.v;
    out->nrows = kept;
    out->cell_km = areas ? 0 : cell_km;
    out->outside = a.outside;
    return 0;
}

int cv_stats_build(const cv_graph *g, cv_ch_query *q, cv_store *s, int32_t from, int32_t to, double cell_km, int k,
                   cv_stats *out, cv_error *err)
{
    return build(g, q, s, from, to, cell_km, NULL, k, out, err);
}

int cv_stats_build_areas(const cv_graph *g, cv_ch_query *q, cv_store *s, int32_t from, int32_t to,
                         const cv_stats_areas *areas, int k, cv_stats *out, cv_error *err)
{
    if (!areas || !areas->n)
        return cv_fail(err, CV_EINVAL,
                       "area=areas: this server has no areas (covoit serve --stats-areas FILE.geojson)");
    return build(g, q, s, from, to, 0, areas, k, out, err);
}

void cv_stats_free(cv_stats *st)
{
    free(st->rows);
    memset(st, 0, sizeof *st);
}

char *cv_stats_csv(const cv_stats *st)
{
    size_t cap = 256 + st->nrows * 160, n = 0;
    for (size_t i = 0; i < st->nrows; i++)
        cap += st->rows[i].area ? 2 * strlen(st->rows[i].area) + 3 : 0;
    char *text = malloc(cap);
    if (!text)
        return NULL;
    n += (size_t)snprintf(text + n, cap - n,
                          "week,%s,offered,requested,matched,shared_km,vehicle_km_avoided,co2_kg_avoided\n",
                          st->cell_km > 0 ? "cell_lon,cell_lat" : "area,area_lon,area_lat");
    for (size_t i = 0; i < st->nrows; i++) {
        const cv_stats_row *x = &st->rows[i];
        char day[16];
        cv_format_date(x->week, day);
        n += (size_t)snprintf(text + n, cap - n, "%s,", day);
        if (x->area) { /* quoted, its quotes doubled */
            text[n++] = '"';
            for (const char *c = x->area; *c; c++) {
                if (*c == '"')
                    text[n++] = '"';
                text[n++] = *c;
            }
            text[n++] = '"';
            text[n++] = ',';
        }
        n += (size_t)snprintf(text + n, cap - n, "%.5f,%.5f,%zu,%zu,%zu,%.1f,%.1f,%.1f\n", x->lon, x->lat, x->offered,
                              x->requested, x->matched, x->shared_km, x->avoided_km, x->co2_kg);
    }
    return text;
}
