/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* siri.c — the coming hours' trips as SIRI-ET for OpenTripPlanner's carpooling updater (siri.h), written by
   libxml2's xmlTextWriter. */
#define _POSIX_C_SOURCE 200809L
#include "feeds/siri.h"

#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "feeds/privacy.h"
#include "matcher/timeutil.h"
#include "matcher/match.h"
#include "matcher/trip.h"
#include "routing/geo.h"
#include "routing/snap.h"

cv_siri_options cv_siri_defaults(void)
{
    return (cv_siri_options){NULL, NULL, CV_SIRI_HOURS_DEFAULT, NULL};
}

/* ISO 8601 with the server zone's offset: 2026-12-08T08:00:00+01:00 */
static void when(int64_t utc, char out[40])
{
    cv_format_datetime(utc, out);
}

/* One call of a journey: where (its meeting area) and when. */
typedef struct call {
    cv_area area;
    char name[400];
    int64_t aimed;   /* departure (arrival for the last call) */
    int64_t arrival; /* 0 for the first call */
    int onboard;     /* people in the car when it leaves (the driver included) */
} call;

static int w_el(xmlTextWriterPtr w, const char *name, const char *text)
{
    return xmlTextWriterWriteElement(w, BAD_CAST name, BAD_CAST text) < 0;
}

static int w_time(xmlTextWriterPtr w, const char *name, int64_t utc)
{
    char t[40];
    when(utc, t);
    return w_el(w, name, t);
}

/* <ArrivalStopAssignment> or <DepartureStopAssignment> with the area as a circle around its meeting point */
static int w_area(xmlTextWriterPtr w, const char *name, const call *c)
{
    char lon[32], lat[32], r[16];
    snprintf(lon, sizeof lon, "%.6f", cv_deg(c->area.meet.location.lon));
    snprintf(lat, sizeof lat, "%.6f", cv_deg(c->area.meet.location.lat));
    snprintf(r, sizeof r, "%d", CV_AREA_RADIUS_M);
    int bad = xmlTextWriterStartElement(w, BAD_CAST name) < 0;
    bad |= xmlTextWriterStartElement(w, BAD_CAST "ExpectedFlexibleArea") < 0;
    bad |= xmlTextWriterStartElement(w, BAD_CAST "CircularArea") < 0;
    bad |= w_el(w, "Longitude", lon) | w_el(w, "Latitude", lat) | w_el(w, "Radius", r);
    bad |= xmlTextWriterEndElement(w) < 0; /* CircularArea */
    bad |= xmlTextWriterEndElement(w) < 0; /* ExpectedFlexibleArea */
    bad |= xmlTextWriterEndElement(w) < 0;
    return bad;
}

/* One EstimatedVehicleJourney: the occurrence of offer o on day, leaving at dep. */
static int w_journey(xmlTextWriterPtr w, const cv_siri_options *o, const cv_offer *of, cv_day day, const call *calls,
                     int n, int64_t budget_s, int64_t now)
{
    char code[64], day_s[16], url[1200], line[48], n_s[16];
    cv_format_date(day, day_s);
    snprintf(code, sizeof code, "offer-%lld-%s", (long long)of->id, day_s);
    snprintf(line, sizeof line, "covoit:Line:offer-%lld", (long long)of->id);
    const char *base = o->public_url && *o->public_url ? o->public_url : "http://127.0.0.1/";
    size_t bl = strlen(base);
    snprintf(url, sizeof url, "%s%s?journey=%s", base, bl && base[bl - 1] == '/' ? "" : "/", code);
    const char *op = o->operator_name && *o->operator_name ? o->operator_name : "covoit";
    int cancelled = of->status == CV_TRIP_CANCELLED;
    int bad = xmlTextWriterStartElement(w, BAD_CAST "EstimatedVehicleJourney") < 0;
    bad |= w_time(w, "RecordedAtTime", now);
    bad |= w_el(w, "LineRef", line) | w_el(w, "DirectionRef", "outbound");
    bad |= w_el(w, "EstimatedVehicleJourneyCode", code) | w_el(w, "ExtraJourney", "true");
    bad |= w_el(w, "VehicleMode", "taxi") | w_el(w, "OperatorRef", op) | w_el(w, "Monitored", "true");
    if (cancelled)
        bad |= w_el(w, "Cancellation", "true");
    bad |= w_el(w, "DataSource", op);
    bad |= xmlTextWriterStartElement(w, BAD_CAST "PublicContact") < 0;
    bad |= w_el(w, "Url", url);
    bad |= xmlTextWriterEndElement(w) < 0;
    bad |= xmlTextWriterStartElement(w, BAD_CAST "EstimatedCalls") < 0;
    for (int i = 0; i < n; i++) {
        const call *c = &calls[i];
        bad |= xmlTextWriterStartElement(w, BAD_CAST "EstimatedCall") < 0;
        snprintf(n_s, sizeof n_s, "%d", i + 1);
        bad |= w_el(w, "Order", n_s) | w_el(w, "StopPointName", c->name);
        if (cancelled)
            bad |= w_el(w, "Cancellation", "true");
        if (i > 0) { /* arrivals: not at the origin */
            bad |= w_time(w, "AimedArrivalTime", c->arrival) | w_time(w, "ExpectedArrivalTime", c->arrival);
            bad |= w_time(w, "LatestExpectedArrivalTime", c->arrival + budget_s);
            bad |= w_area(w, "ArrivalStopAssignment", c);
        }
        if (i < n - 1) { /* departures: not at the destination */
            bad |= w_time(w, "AimedDepartureTime", c->aimed) | w_time(w, "ExpectedDepartureTime", c->aimed);
            bad |= w_area(w, "DepartureStopAssignment", c);
            char k[16];
            snprintf(k, sizeof k, "%d", c->onboard);
            bad |= xmlTextWriterStartElement(w, BAD_CAST "ExpectedDepartureOccupancies") < 0;
            bad |= w_el(w, "OnboardCount", k);
            bad |= xmlTextWriterEndElement(w) < 0;
            snprintf(k, sizeof k, "%d", of->seats + 1);
            bad |= xmlTextWriterStartElement(w, BAD_CAST "ExpectedDepartureCapacities") < 0;
            bad |= w_el(w, "TotalCapacity", k);
            bad |= xmlTextWriterEndElement(w) < 0;
        }
        bad |= xmlTextWriterEndElement(w) < 0; /* EstimatedCall */
    }
    bad |= xmlTextWriterEndElement(w) < 0; /* EstimatedCalls */
    bad |= xmlTextWriterEndElement(w) < 0; /* EstimatedVehicleJourney */
    return bad;
}

/* The calls of offer o on day, leaving at dep: its stops of that date in key order (origin, the accepted passengers'
   pickups and drop-offs, vias, destination), each as its meeting area, consecutive ones in one area made one; the
   times from the routes between the stops themselves. Returns the number of calls (< 2: nothing to publish), or -1
   on a failure of the store. *budget_s: the detour the driver still accepts that day. */
static int calls_of(const cv_graph *g, cv_ch_query *q, cv_store *s, cv_places *places, const cv_offer *o, cv_day day,
                    int64_t dep, call *out, int cap, int64_t *budget_s, cv_error *err)
{
    cv_stop *stops = NULL;
    size_t ns = 0;
    int64_t version = 0;
    if (cv_store_offer_plan(s, o->id, &stops, &ns, &version, err))
        return -1;
    cv_snap_options so = cv_snap_defaults();
    so.stop_only = 1;
    int n = 0, aboard = 1;
    int64_t t = dep, drive_ds = 0;
    cv_snap prev;
    int have_prev = 0;
    for (size_t i = 0; i < ns && n < cap; i++) {
        const cv_stop *st = &stops[i];
        if (!cv_dates_contains(st->dates, day))
            continue;
        cv_snap here;
        cv_error e2 = {0};
        if (cv_snap_point(g, st->at, &so, &here, &e2))
            continue;
        if (have_prev) {
            cv_table_cell cell;
            if (cv_ch_cost(q, &prev, &here, &cell) == 0) {
                t += (cell.duration_ds + 5) / 10;
                drive_ds += cell.duration_ds;
            }
        }
        prev = here, have_prev = 1;
        aboard += st->seats_delta;
        cv_area a;
        if (cv_area_of(g, st->at, &a, &e2))
            continue;
        if (n && out[n - 1].area.ix == a.ix && out[n - 1].area.iy == a.iy) {
            out[n - 1].aimed = t; /* one call: it leaves when the last stop in the area is made */
            out[n - 1].onboard = aboard;
            continue;
        }
        call *c = &out[n++];
        memset(c, 0, sizeof *c);
        c->area = a;
        c->arrival = n > 1 ? t : 0;
        c->aimed = t;
        c->onboard = aboard;
        cv_area_name(places, a.meet.location, c->name, sizeof c->name);
    }
    free(stops);
    /* the budget: the driver's detour limit less the detour their passengers of that day already take */
    int64_t direct = o->direct_duration_ds,
            limit = o->max_detour_s >= 0 ? (int64_t)o->max_detour_s * 10 : direct * CV_DEFAULT_DETOUR_PERCENT / 100;
    int64_t used = drive_ds > direct ? drive_ds - direct : 0;
    *budget_s = limit > used ? (limit - used) / 10 : 0;
    return n;
}

int cv_siri_build(const cv_graph *g, cv_ch_query *q, cv_store *s, const cv_siri_options *opt, int64_t now, char **xml,
                  size_t *len, cv_siri_stats *stats, cv_error *err)
{
    *xml = NULL;
    *len = 0;
    cv_siri_options o = opt ? *opt : cv_siri_defaults();
    if (o.hours < 1 || o.hours > CV_SIRI_HOURS_MAX)
        return cv_fail(err, CV_EINVAL, "hours: %d is not 1 to %d", o.hours, CV_SIRI_HOURS_MAX);
    cv_siri_stats st = {0};
    cv_offer *offers = NULL;
    size_t n = 0;
    int rc = cv_store_list_offers(s, NULL, 0, &offers, &n, err);
    if (rc)
        return rc;
    xmlBufferPtr buf = xmlBufferCreate();
    xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    if (!w) {
        free(offers);
        if (buf)
            xmlBufferFree(buf);
        return cv_fail(err, CV_ENOMEM, "out of memory");
    }
    const char *op = o.operator_name && *o.operator_name ? o.operator_name : "covoit";
    int bad = xmlTextWriterSetIndent(w, 1) < 0;
    bad |= xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0;
    bad |= xmlTextWriterStartElement(w, BAD_CAST "Siri") < 0;
    bad |= xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns", BAD_CAST "http://www.siri.org.uk/siri") < 0;
    bad |= xmlTextWriterWriteAttribute(w, BAD_CAST "version", BAD_CAST "2.1") < 0;
    bad |= xmlTextWriterStartElement(w, BAD_CAST "ServiceDelivery") < 0;
    bad |= w_time(w, "ResponseTimestamp", now) | w_el(w, "ProducerRef", op);
    bad |= xmlTextWriterStartElement(w, BAD_CAST "EstimatedTimetableDelivery") < 0;
    bad |= xmlTextWriterWriteAttribute(w, BAD_CAST "version", BAD_CAST "2.1") < 0;
    bad |= w_time(w, "ResponseTimestamp", now);
    bad |= xmlTextWriterStartElement(w, BAD_CAST "EstimatedJourneyVersionFrame") < 0;
    bad |= w_time(w, "RecordedAtTime", now);
    cv_day today;
    cv_utc_to_local(now, &today, NULL, NULL);
    int64_t until = now + (int64_t)o.hours * 3600;
    /* in id order, each offer's dates in order: the same document for the same trips and time */
    for (size_t k = n; !rc && !bad && k-- > 0;) {
        const cv_offer *of = &offers[k];
        cv_dates dates = cv_schedule_dates(&of->when);
        for (cv_day day = today - 1; !rc && !bad && day <= today + o.hours / 24 + 1; day++) {
            if (!cv_dates_contains(dates, day))
                continue;
            int64_t dep = of->when.kind == CV_PUNCTUAL ? of->when.depart : cv_local_to_utc(day, of->when.time_of_day);
            if (dep > until || dep + (of->direct_duration_ds + 5) / 10 + 3600 < now)
                continue; /* not in the coming hours, nor under way */
            call calls[CV_PLAN_MAX_STOPS];
            int64_t budget = 0;
            int nc = calls_of(g, q, s, o.places, of, day, dep, calls, CV_PLAN_MAX_STOPS, &budget, err);
            if (nc < 0) {
                rc = CV_EIO;
                break;
            }
            if (nc < 2)
                continue;
            bad |= w_journey(w, &o, of, day, calls, nc, budget, now);
            st.journeys++;
            st.calls += (size_t)nc;
            st.cancelled += of->status == CV_TRIP_CANCELLED;
        }
    }
    free(offers);
    bad |= xmlTextWriterEndDocument(w) < 0; /* closes every element still open */
    xmlFreeTextWriter(w);
    if (!rc && bad)
        rc = cv_fail(err, CV_ENOMEM, "cannot write the SIRI document");
    if (!rc) {
        size_t l = (size_t)xmlBufferLength(buf);
        char *out = malloc(l + 1);
        if (!out) {
            rc = cv_fail(err, CV_ENOMEM, "out of memory");
        } else {
            memcpy(out, xmlBufferContent(buf), l);
            out[l] = '\0';
            *xml = out;
            *len = l;
        }
    }
    xmlBufferFree(buf);
    if (!rc && stats)
        *stats = st;
    return rc;
}
