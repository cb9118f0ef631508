/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* plan_route.c — the driver's route of a match as the matcher plans it: the offer's stops of that date in key
   order, with the passenger's pickup and drop-off at the keys the matcher chose, routed leg by leg on the graph
   from the snapped points (not from coordinates sent back by a client, which would snap again elsewhere). Stops
   at one place make no leg, as the matcher counts them, so the length is the match's driver_total. The driver's
   origin and destination never show: the line drawn starts where the route leaves the grid cell of the origin
   (or at the pickup, when that comes first) and ends where it enters the destination's (or at the drop-off), and
   the two are given as their public meeting areas (feeds/privacy.h). Nor do the places of the others in the car:
   the points where it stops for passengers already booked (and the driver's vias) are left out of the line. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "feeds/privacy.h"
#include "matcher/matcher.h"
#include "routing/ch.h"
#include "routing/geo.h"
#include "routing/path.h"
#include "routing/snap.h"
#include "web/web_int.h"

/* Appends the geometry of the leg a -> b to *all (the first point dropped when it repeats the last one). */
static int add_leg(web_req *r, const cv_snap *a, const cv_snap *b, cv_coord **all, size_t *n, int64_t *ds, int64_t *dm)
{
    if (a->edge == b->edge && cv_distance_m(a->location, b->location) < CV_SAME_PLACE_M)
        return 0;
    cv_error err = {0};
    cv_path p = {0};
    cv_coord *pts = NULL;
    size_t np = 0;
    int ok = cv_ch_route(r->q, a, b, &p, &err) == 0 && cv_path_geometry(r->g, &p, &pts, &np) == 0;
    if (ok) {
        *ds += p.duration_ds;
        *dm += p.distance_dm;
    }
    cv_path_free(&p);
    cv_coord *grown = ok ? realloc(*all, (*n + np) * sizeof **all) : NULL;
    if (grown) {
        size_t skip = *n && np && pts[0].lon == grown[*n - 1].lon && pts[0].lat == grown[*n - 1].lat;
        memcpy(grown + *n, pts + skip, (np - skip) * sizeof *pts);
        *all = grown, *n += np - skip;
    }
    free(pts);
    return grown ? 0 : -1;
}

int web_plan_route(web_req *r, cv_matcher_ws *w, const cv_match *m, int whole, web_plan *out)
{
    memset(out, 0, sizeof *out);
    if (!r->q)
        return -1;
    enum { CAP = CV_PLAN_MAX_STOPS + 2 };
    cv_snap at[CAP];
    cv_snap_options so = cv_snap_defaults();
    cv_error err = {0};
    int n = 0, k, ip, id;
    if (whole) { /* the driver's stops before the pickup: the origin (key 0) first */
        if ((k = cv_matcher_stops_between(w, m->offer_id, m->first_day, -1.0, m->pickup_key, at, CAP - 2)) < 0)
            return -1;
        n = k;
    }
    ip = n;
    if (cv_snap_point(r->g, m->pickup, &so, &at[n++], &err))
        return -1;
    if ((k = cv_matcher_stops_between(w, m->offer_id, m->first_day, m->pickup_key, m->dropoff_key, at + n,
                                      CAP - 1 - n)) < 0)
        return -1;
    n += k;
    id = n;
    if (cv_snap_point(r->g, m->dropoff, &so, &at[n++], &err))
        return -1;
    if (whole) { /* and after the drop-off, to the destination */
        if ((k = cv_matcher_stops_between(w, m->offer_id, m->first_day, m->dropoff_key, 1e300, at + n, CAP - n)) < 0)
            return -1;
        n += k;
    }
    size_t stop_pt[CAP] = {0}; /* where each stop is in the line */
    for (int i = 1; i < n; i++) {
        if (add_leg(r, &at[i - 1], &at[i], &out->pts, &out->n, &out->duration_ds, &out->distance_dm)) {
            web_plan_free(out);
            return -1;
        }
        stop_pt[i] = out->n ? out->n - 1 : 0;
    }
    if (out->n == 0) { /* every stop at one place: a point */
        if (!(out->pts = malloc(sizeof *out->pts)))
            return -1;
        out->pts[0] = at[0].location, out->n = 1;
    }
    /* the stops of other people on the way (passengers already booked, the driver's vias) are on the road the
       car takes, but not marked on the line: their points are left out of it */
    size_t kept = 0, removed = 0;
    size_t shift[CAP] = {0};
    cv_coord hide = {0, 0};
    int hiding = 0;
    for (size_t j = 0, s = 1; j < out->n; j++) {
        int drop = 0;
        for (; s < (size_t)n - 1 && stop_pt[s] <= j; s++)
            if (stop_pt[s] == j && (int)s != ip && (int)s != id && stop_pt[s] != stop_pt[ip] &&
                stop_pt[s] != stop_pt[id] && j > 0 && j + 1 < out->n)
                drop = 1, hide = out->pts[j], hiding = 1;
        while (drop && hiding && kept > 1 && cv_distance_m(out->pts[kept - 1], hide) < 1.0)
            kept--, removed++; /* and just before it */
        /* the same place again next to it, within a metre (a stop at a junction is also the road's own point) */
        if (!drop && hiding && j + 1 < out->n && cv_distance_m(out->pts[j], hide) < 1.0)
            drop = 1;
        else if (!drop)
            hiding = 0;
        if (drop) {
            removed++;
            continue;
        }
        out->pts[kept++] = out->pts[j];
        for (int i = 0; i < n; i++)
            if (stop_pt[i] == j)
                shift[i] = removed;
    }
    out->n = kept;
    for (int i = 0; i < n; i++)
        stop_pt[i] -= shift[i];
    if (whole && out->n > 1) {
        int32_t ox, oy, dx, dy, x, y;
        cv_area_cell(at[0].input, &ox, &oy);
        cv_area_cell(at[n - 1].input, &dx, &dy);
        size_t a = stop_pt[ip], b = stop_pt[id];
        for (size_t j = 0; j < stop_pt[ip]; j++) {
            cv_area_cell(out->pts[j], &x, &y);
            if (x != ox || y != oy) {
                a = j;
                break;
            }
        }
        for (size_t j = out->n - 1; j > stop_pt[id]; j--) {
            cv_area_cell(out->pts[j], &x, &y);
            if (x != dx || y != dy) {
                b = j;
                break;
            }
        }
        if (a > b)
            a = b;
        memmove(out->pts, out->pts + a, (b - a + 1) * sizeof *out->pts);
        out->n = b - a + 1;
        out->areas = cv_area_of(r->g, at[0].input, &out->origin, &err) == 0 &&
                     cv_area_of(r->g, at[n - 1].input, &out->destination, &err) == 0;
    }
    return 0;
}

void web_plan_free(web_plan *rt)
{
    free(rt->pts);
    memset(rt, 0, sizeof *rt);
}

int web_ride_distance(web_req *r, cv_matcher_ws *w, const cv_booking *b, cv_day day, int64_t *metres)
{
    cv_match m;
    memset(&m, 0, sizeof m);
    m.offer_id = b->offer_id;
    m.first_day = day;
    m.pickup = b->pickup, m.dropoff = b->dropoff;
    m.pickup_key = b->pickup_key, m.dropoff_key = b->dropoff_key;
    web_plan plan;
    if (web_plan_route(r, w, &m, 0, &plan) == 0) {
        *metres = (plan.distance_dm + 5) / 10;
        web_plan_free(&plan);
        return 0;
    }
    /* the offer has left the index (its dates are past): the road from the pickup to the drop-off */
    if (!r->q)
        return -1;
    cv_snap_options so = cv_snap_defaults();
    cv_error err = {0};
    cv_snap a, z;
    if (cv_snap_point(r->g, b->pickup, &so, &a, &err) || cv_snap_point(r->g, b->dropoff, &so, &z, &err))
        return -1;
    cv_coord *pts = NULL;
    size_t n = 0;
    int64_t ds = 0, dm = 0;
    int rc = add_leg(r, &a, &z, &pts, &n, &ds, &dm);
    free(pts);
    if (rc)
        return -1;
    *metres = (dm + 5) / 10;
    return 0;
}
