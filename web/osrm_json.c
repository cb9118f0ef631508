/* osrm_json.c — OSRM-shaped JSON for routes, waypoints and tables (one implementation for the server and the CLI). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "osrm_json.h"

const char *osrm_code(int code)
{
    switch (code) {
    case CV_OK: return "Ok";
    case CV_ENOSEGMENT: return "NoSegment";
    case CV_ENOROUTE: return "NoRoute";
    case CV_ETOOBIG: return "TooBig";
    case CV_EINVAL: return "InvalidQuery";
    case CV_ENOTFOUND: return "NotFound";
    default: return "Error";
    }
}

/* OSRM rounds distances and durations to one decimal. */
static json_t *json_1dp(double v)
{
    return json_real(round(v * 10.0) / 10.0);
}

json_t *json_lonlat(cv_coord c)
{
    return json_pack("[ff]", round(cv_deg(c.lon) * 1e6) / 1e6, round(cv_deg(c.lat) * 1e6) / 1e6);
}

json_t *json_waypoint(const cv_snap *s)
{
    return json_pack("{s:o,s:o,s:s,s:s}", "location", json_lonlat(s->location), "distance",
                     json_real(round(s->distance_m * 1e6) / 1e6), "name", "", "hint", "");
}

static json_t *json_geometry(const cv_coord *pts, size_t n, int geometry)
{
    if (geometry == GEOM_GEOJSON) {
        json_t *coords = json_array();
        for (size_t i = 0; coords && i < n; i++)
            if (json_array_append_new(coords, json_lonlat(pts[i]))) {
                json_decref(coords);
                return NULL;
            }
        if (coords && n == 1) /* a LineString needs two positions: a route from a point to itself repeats it */
            json_array_append_new(coords, json_lonlat(pts[0]));
        return json_pack("{s:s,s:o}", "type", "LineString", "coordinates", coords);
    }
    cv_buf b = {0};
    if (cv_polyline_encode(pts, n, geometry == GEOM_POLYLINE6 ? 6 : 5, &b))
        return NULL;
    json_t *s = json_string(b.data ? b.data : "");
    cv_buf_free(&b);
    return s;
}

/* The geometry of all legs end to end; the point where one leg ends and the next begins appears once.
   OVERVIEW_SIMPLIFIED gives the full geometry too: OSRM simplifies for the zoom level of the whole route, which
   only saves bytes, and every client accepts the full line. */
static json_t *legs_geometry(const cv_graph *g, const cv_path *paths, size_t n, int geometry)
{
    cv_coord *all = NULL;
    size_t nall = 0;
    for (size_t i = 0; i < n; i++) {
        cv_coord *pts = NULL;
        size_t np = 0;
        if (cv_path_geometry(g, &paths[i], &pts, &np)) {
            free(all);
            return NULL;
        }
        size_t skip = nall && np && !memcmp(&all[nall - 1], &pts[0], sizeof *pts);
        cv_coord *grown = realloc(all, (nall + np + 1) * sizeof *all);
        if (!grown) {
            free(pts), free(all);
            return NULL;
        }
        all = grown;
        if (np > skip)
            memcpy(all + nall, pts + skip, (np - skip) * sizeof *pts);
        nall += np - skip;
        free(pts);
    }
    json_t *geom = json_geometry(all, nall, geometry);
    free(all);
    return geom;
}

json_t *json_route_legs(const cv_graph *g, const cv_path *paths, size_t n, int geometry, int overview)
{
    json_t *legs = json_array();
    uint64_t dist = 0, dur = 0, w = 0;
    for (size_t i = 0; legs && i < n; i++) {
        const cv_path *p = &paths[i];
        dist += p->distance_dm, dur += p->duration_ds, w += p->weight;
        json_t *leg = json_pack("{s:o,s:o,s:o,s:s,s:[]}", "distance", json_1dp(p->distance_dm / 10.0), "duration",
                                json_1dp(p->duration_ds / 10.0), "weight", json_1dp(p->weight / 10.0), "summary", "",
                                "steps");
        if (json_array_append_new(legs, leg)) {
            json_decref(legs);
            return NULL;
        }
    }
    if (!legs)
        return NULL;
    json_t *geom = NULL;
    if (overview != OVERVIEW_FALSE && !(geom = legs_geometry(g, paths, n, geometry))) {
        json_decref(legs);
        return NULL;
    }
    /* Keys in OSRM's order: geometry before legs. json_object_set_new takes its value even when it fails. */
    json_t *route = json_pack("{s:o,s:o,s:o,s:s}", "distance", json_1dp(dist / 10.0), "duration",
                              json_1dp(dur / 10.0), "weight", json_1dp(w / 10.0), "weight_name", "routability");
    if (!route) {
        json_decref(geom);
        json_decref(legs);
        return NULL;
    }
    int bad = geom ? json_object_set_new(route, "geometry", geom) : 0;
    bad |= json_object_set_new(route, "legs", legs);
    if (bad) {
        json_decref(route);
        return NULL;
    }
    return route;
}

json_t *json_route(const cv_graph *g, const cv_path *p, int geometry)
{
    return json_route_legs(g, p, 1, geometry, OVERVIEW_FULL);
}

int json_table_set(json_t *doc, const cv_table_cell *cells, size_t ns, size_t nd, int durations, int distances)
{
    json_t *durs = durations ? json_array() : NULL, *dists = distances ? json_array() : NULL;
    int bad = (durations && !durs) || (distances && !dists);
    for (size_t i = 0; !bad && i < ns; i++) {
        json_t *rd = durations ? json_array() : NULL, *rl = distances ? json_array() : NULL;
        for (size_t j = 0; j < nd; j++) {
            const cv_table_cell *c = &cells[i * nd + j];
            int ok = c->weight != CV_INF_WEIGHT;
            if (rd)
                bad |= json_array_append_new(rd, ok ? json_real(c->duration_ds / 10.0) : json_null());
            if (rl)
                bad |= json_array_append_new(rl, ok ? json_real(c->distance_dm / 10.0) : json_null());
        }
        if (durations)
            bad |= json_array_append_new(durs, rd);
        if (distances)
            bad |= json_array_append_new(dists, rl);
    }
    if (!bad && durs)
        bad |= json_object_set_new(doc, "durations", durs), durs = NULL;
    if (!bad && dists)
        bad |= json_object_set_new(doc, "distances", dists), dists = NULL;
    json_decref(durs);
    json_decref(dists);
    return bad ? CV_ENOMEM : 0;
}
