/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* trip_json.c — JSON for the matcher's objects (offers, requests, schedules, stops, bookings, matches) and the
   codes of its errors, shared by the trip subcommands and the HTTP server's /v1 API. One builder per object kind;
   each returns a new reference, or NULL when out of memory. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "web/osrm_json.h"
#include "web/trip_json.h"
#include "matcher/timeutil.h"

const char *trip_json_code(int code)
{
    /* the one code the carpool API answers otherwise than the routing side (the table in osrm_json.c) */
    return code == CV_EINVAL ? osrm_word(OSRM_INVALID_VALUE) : osrm_code(code);
}

json_t *trip_json_error(int code, const char *message)
{
    return json_pack("{s:s,s:s}", "code", trip_json_code(code), "message", message ? message : "");
}

/* v rounded to `decimals` decimals, as a JSON real. */
static json_t *trip_json_round(double v, int decimals)
{
    double f = pow(10.0, decimals);
    return json_real(round(v * f) / f);
}

/* Tenths (decisecond or decimetre) to units, one decimal. */
static json_t *trip_json_tenths(int64_t v)
{
    return trip_json_round((double)v / 10.0, 1);
}

/* A whole number as an integer, anything else as a real. */
static json_t *trip_json_number(double v)
{
    if (v == floor(v) && fabs(v) < 9e15)
        return json_integer((json_int_t)v);
    return json_real(v);
}

json_t *trip_json_datetime(int64_t utc)
{
    char buf[40];
    cv_format_datetime(utc, buf);
    return json_string(buf);
}

static json_t *trip_json_date(cv_day day)
{
    char buf[16];
    cv_format_date(day, buf);
    return json_string(buf);
}

/* A stop time of a booking: trip.h allows seconds after local midnight (regular) besides UTC seconds, so values
   below one day are shown as a local time of day "HH:MM", larger ones as a date-time. */
static json_t *trip_json_stop_time(int64_t t)
{
    if (t >= 0 && t < 86400) {
        char buf[8];
        cv_format_time_of_day((int32_t)t, buf);
        return json_string(buf);
    }
    return trip_json_datetime(t);
}

json_t *trip_json_schedule(const cv_schedule *s)
{
    json_t *margin = trip_json_number(s->margin_s / 60.0);
    if (s->kind == CV_PUNCTUAL)
        return json_pack("{s:s,s:o,s:o}", "type", "punctual", "depart", trip_json_datetime(s->depart), "margin_min",
                         margin);
    char days[40], tod[8];
    cv_format_weekdays(s->weekdays, days);
    cv_format_time_of_day(s->time_of_day, tod);
    return json_pack("{s:s,s:s,s:s,s:o,s:o,s:o}", "type", "regular", "weekdays", days, "time", tod, "first_date",
                     trip_json_date(s->first_day), "last_date", trip_json_date(s->last_day), "margin_min", margin);
}

json_t *trip_json_offer(const cv_offer *o)
{
    json_t *vias = json_array();
    for (int i = 0; vias && i < o->nvias && i < CV_MAX_VIAS; i++)
        json_array_append_new(vias, osrm_json_lonlat(o->vias[i]));
    json_t *max_detour =
        json_pack("{s:o,s:o}", "duration", o->max_detour_s < 0 ? json_null() : json_integer(o->max_detour_s),
                  "distance", o->max_detour_m < 0 ? json_null() : json_integer(o->max_detour_m));
    return json_pack("{s:I,s:s,s:s,s:o,s:o,s:o,s:o,s:i,s:o,s:o,s:{s:o,s:o},s:o}", "id", (json_int_t)o->id, "owner",
                     o->owner, "status", cv_trip_status_name(o->status), "from", osrm_json_lonlat(o->from), "to",
                     osrm_json_lonlat(o->to), "vias", vias, "schedule", trip_json_schedule(&o->when), "seats", o->seats,
                     "max_detour", max_detour, "price_per_km", trip_json_round(o->price_per_km, 4), "direct",
                     "duration", trip_json_tenths(o->direct_duration_ds), "distance",
                     trip_json_tenths(o->direct_distance_dm), "created", trip_json_datetime(o->created));
}

json_t *trip_json_request(const cv_request *r)
{
    return json_pack("{s:I,s:s,s:s,s:o,s:o,s:o,s:i,s:o}", "id", (json_int_t)r->id, "owner", r->owner, "status",
                     cv_trip_status_name(r->status), "from", osrm_json_lonlat(r->from), "to", osrm_json_lonlat(r->to),
                     "schedule", trip_json_schedule(&r->when), "seats", r->seats, "created",
                     trip_json_datetime(r->created));
}

static const char *stop_kind_name(cv_stop_kind k)
{
    switch (k) {
    case CV_STOP_ORIGIN:
        return "origin";
    case CV_STOP_VIA:
        return "via";
    case CV_STOP_PICKUP:
        return "pickup";
    case CV_STOP_DROPOFF:
        return "dropoff";
    case CV_STOP_DESTINATION:
        return "destination";
    }
    return "unknown";
}

json_t *trip_json_dates(cv_dates d)
{
    if (d.first == CV_DATES_ALL.first && d.last == CV_DATES_ALL.last)
        return json_null(); /* a booking made before bookings had dates: every date of its offer */
    char days[40];
    cv_format_weekdays(d.weekdays, days);
    return json_pack("{s:o,s:o,s:s}", "first_date", trip_json_date(d.first), "last_date", trip_json_date(d.last),
                     "weekdays", days);
}

json_t *trip_json_stop(const cv_stop *s)
{
    json_t *o =
        json_pack("{s:s,s:f,s:o}", "kind", stop_kind_name(s->kind), "key", s->key, "location", osrm_json_lonlat(s->at));
    if (o && (s->kind == CV_STOP_PICKUP || s->kind == CV_STOP_DROPOFF)) {
        json_object_set_new(o, "booking_id", json_integer(s->booking_id));
        json_object_set_new(o, "seats_delta", json_integer(s->seats_delta));
        json_object_set_new(o, "dates", trip_json_dates(s->dates));
    }
    return o;
}

json_t *trip_json_booking(const cv_booking *b)
{
    return json_pack("{s:I,s:I,s:I,s:i,s:s,s:o,s:{s:o,s:o},s:{s:o,s:o},s:{s:o,s:s,s:i},s:o,s:o}", "id",
                     (json_int_t)b->id, "offer_id", (json_int_t)b->offer_id, "request_id", (json_int_t)b->request_id,
                     "seats", b->seats, "status", cv_booking_status_name(b->status), "dates", trip_json_dates(b->dates),
                     "pickup", "location", osrm_json_lonlat(b->pickup), "time", trip_json_stop_time(b->pickup_time),
                     "dropoff", "location", osrm_json_lonlat(b->dropoff), "time", trip_json_stop_time(b->dropoff_time),
                     "contribution", "amount", trip_json_round(b->amount, 2), "currency", "EUR", "commission", 0,
                     "created", trip_json_datetime(b->created), "updated", trip_json_datetime(b->updated));
}

static json_t *trip_json_contribution(const cv_contribution *c)
{
    return json_pack("{s:o,s:s,s:i,s:o,s:o,s:s}", "amount", trip_json_round(c->amount, 2), "currency", "EUR",
                     "commission", 0, "per_km", trip_json_round(c->per_km, 4), "distance_km",
                     trip_json_round(c->distance_km, 3), "rounding", cv_rounding_name(c->rounding));
}

json_t *trip_json_match(const cv_match *m)
{
    char days[40];
    cv_format_weekdays(m->weekdays, days);
    json_t *schedule = json_pack("{s:b,s:s,s:o,s:o}", "regular", m->regular != 0, "weekdays", days, "first_date",
                                 trip_json_date(m->first_day), "last_date", trip_json_date(m->last_day));
    /* pickup.key and dropoff.key: where the matcher puts them among the offer's stops (the keys of GET
       /v1/offers/{id}), so that a client draws the very route that driver_total measures */
    return json_pack(
        "{s:I,s:I,s:i,s:{s:o,s:o,s:f},s:{s:o,s:o,s:f},s:{s:o,s:o,s:o},s:{s:o,s:o},s:{s:o,s:o},s:I,s:o,s:o}", "offer_id",
        (json_int_t)m->offer_id, "request_id", (json_int_t)m->request_id, "seats_left", m->seats_left, "pickup",
        "location", osrm_json_lonlat(m->pickup), "time", trip_json_datetime(m->pickup_time), "key", m->pickup_key,
        "dropoff", "location", osrm_json_lonlat(m->dropoff), "time", trip_json_datetime(m->dropoff_time), "key",
        m->dropoff_key, "detour", "duration", trip_json_tenths(m->detour_ds), "distance",
        trip_json_tenths(m->detour_dm), "percent", trip_json_round(m->detour_percent, 1), "shared", "duration",
        trip_json_tenths(m->shared_ds), "distance", trip_json_tenths(m->shared_dm), "driver_total", "duration",
        trip_json_tenths(m->total_ds), "distance", trip_json_tenths(m->total_dm), "time_mismatch",
        (json_int_t)m->mismatch_s, "schedule", schedule, "contribution", trip_json_contribution(&m->contribution));
}

json_t *trip_json_matches(const cv_match *v, size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++)
        if (json_array_append_new(list, trip_json_match(&v[i])))
            json_decref(list), list = NULL;
    return list;
}

static json_t *trip_json_bookings(const cv_booking *v, size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++)
        if (json_array_append_new(list, trip_json_booking(&v[i])))
            json_decref(list), list = NULL;
    return list;
}

json_t *trip_json_offer_detail(cv_store *store, const cv_offer *o, int64_t now, int *rc, cv_error *err)
{
    cv_stop *stops = NULL;
    cv_booking *bookings = NULL;
    cv_day_seats *left = NULL;
    size_t nstops = 0, nbookings = 0, nleft = 0;
    json_t *obj = NULL;
    cv_day today;
    cv_utc_to_local(now, &today, NULL, NULL);
    if ((*rc = cv_store_offer_stops(store, o->id, &stops, &nstops, err)) ||
        (*rc = cv_store_list_bookings(store, o->id, -1, &bookings, &nbookings, err)) ||
        (*rc = cv_store_seats_left(store, o->id, today, &left, &nleft, err)))
        goto done;
    obj = trip_json_offer(o);
    json_t *js = json_array(), *jb = trip_json_bookings(bookings, nbookings), *jl = json_array();
    for (size_t i = 0; js && i < nstops; i++)
        if (json_array_append_new(js, trip_json_stop(&stops[i])))
            json_decref(js), js = NULL;
    for (size_t i = 0; jl && i < nleft; i++)
        if (json_array_append_new(
                jl, json_pack("{s:o,s:i}", "date", trip_json_date(left[i].day), "seats_left", left[i].seats_left)))
            json_decref(jl), jl = NULL;
    if (!obj || !js || !jb || !jl) {
        json_decref(obj), json_decref(js), json_decref(jb), json_decref(jl);
        obj = NULL;
    } else if (json_object_set_new(obj, "stops", js) | json_object_set_new(obj, "bookings", jb) |
               json_object_set_new(obj, "seats_left", jl)) {
        json_decref(obj); /* set_new releases the value even when it fails */
        obj = NULL;
    }
done:
    free(stops);
    free(bookings);
    free(left);
    return obj;
}

json_t *trip_json_request_detail(cv_store *store, const cv_request *r, int *rc, cv_error *err)
{
    cv_booking *bookings = NULL;
    size_t nbookings = 0;
    if ((*rc = cv_store_list_request_bookings(store, r->id, &bookings, &nbookings, err)))
        return NULL;
    json_t *obj = trip_json_request(r), *jb = trip_json_bookings(bookings, nbookings);
    free(bookings);
    if (!obj || !jb) {
        json_decref(obj), json_decref(jb);
        return NULL;
    }
    if (json_object_set_new(obj, "bookings", jb)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

json_t *trip_json_list(cv_store *store, int offers, const char *owner, int open_only, int *rc, cv_error *err)
{
    cv_offer *o = NULL;
    cv_request *q = NULL;
    size_t n = 0;
    json_t *list = json_array();
    *rc = offers ? cv_store_list_offers(store, owner, open_only, &o, &n, err)
                 : cv_store_list_requests(store, owner, open_only, &q, &n, err);
    for (size_t i = 0; !*rc && list && i < n; i++)
        if (json_array_append_new(list, offers ? trip_json_offer(&o[i]) : trip_json_request(&q[i])))
            json_decref(list), list = NULL;
    free(o);
    free(q);
    if (*rc) {
        json_decref(list);
        return NULL;
    }
    return list;
}

json_t *trip_json_message(const cv_message *m)
{
    return json_pack("{s:I,s:{s:I},s:{s:s,s:s,s:s},s:s,s:s?,s:s?,s:o,s:b}", "id", (json_int_t)m->id, "to",
                     m->trip_kind == 0 ? "offer_id" : "request_id", (json_int_t)m->trip_id, "from", "id", m->from_id,
                     "alias", m->from_alias, "operator", m->from_operator, "text", m->text, "journey",
                     m->journey[0] ? m->journey : NULL, "booking", m->booking[0] ? m->booking : NULL, "created",
                     trip_json_datetime(m->created), "read", m->read_at != 0);
}

static json_t *tenths(double v)
{
    return json_real(round(v * 10) / 10);
}

json_t *trip_json_stats(const cv_stats *st, int32_t from, int32_t to)
{
    char day[16], from_s[16], to_s[16];
    json_t *rows = json_array();
    for (size_t i = 0; rows && i < st->nrows; i++) {
        const cv_stats_row *x = &st->rows[i];
        cv_format_date(x->week, day);
        json_t *row =
            json_pack("{s:s,s:I,s:I,s:I,s:o,s:o,s:o}", "week", day, "offered", (json_int_t)x->offered, "requested",
                      (json_int_t)x->requested, "matched", (json_int_t)x->matched, "shared_km", tenths(x->shared_km),
                      "vehicle_km_avoided", tenths(x->avoided_km), "co2_kg_avoided", tenths(x->co2_kg));
        if (row && x->area) /* an area the authority supplied: its name and the centre of its box */
            json_object_set_new(row, "area", json_string(x->area)),
                json_object_set_new(row, "centre", json_pack("[f,f]", x->lon, x->lat));
        else if (row)
            json_object_set_new(row, "cell", json_pack("[f,f]", x->lon, x->lat));
        if (json_array_append_new(rows, row))
            json_decref(rows), rows = NULL;
    }
    cv_format_date(from, from_s);
    cv_format_date(to, to_s);
    json_t *doc =
        json_pack("{s:s,s:s,s:s,s:s,s:i,s:f,s:I,s:{s:I,s:I,s:I,s:o,s:o,s:o},s:o}", "code", "Ok", "from", from_s, "to",
                  to_s, "area", st->cell_km > 0 ? "grid" : "areas", "k", CV_STATS_K, "co2_kg_per_km",
                  CV_STATS_CO2_KG_PER_KM, "suppressed", (json_int_t)st->suppressed, "total", "offered",
                  (json_int_t)st->total.offered, "requested", (json_int_t)st->total.requested, "matched",
                  (json_int_t)st->total.matched, "shared_km", tenths(st->total.shared_km), "vehicle_km_avoided",
                  tenths(st->total.avoided_km), "co2_kg_avoided", tenths(st->total.co2_kg), "rows", rows);
    if (doc && st->cell_km > 0)
        json_object_set_new(doc, "cell_km", json_real(st->cell_km));
    else if (doc)
        json_object_set_new(doc, "outside", json_integer((json_int_t)st->outside));
    return doc;
}
