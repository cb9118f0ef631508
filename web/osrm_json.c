/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* osrm_json.c — OSRM-shaped JSON for routes, waypoints and tables, and the table of answer code words (one
   implementation for the server and the CLI). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "routing/guidance.h"
#include "web/osrm_json.h"

/* No CV_E* code: a word that only a handler's own check gives (InvalidUrl: a routing URL that is not one). */
#define NO_CV 1

/* Every code word of an answer, with the CV_E* code it answers. The special mappings:
   - CV_EINVAL is InvalidQuery on the routing side, as OSRM answers a request it cannot take; the carpool API answers
     it InvalidValue, a field of a body out of range or of the wrong type (trip_json_code, web/trip_json.c). Routing
     handlers say InvalidValue too, by id, for a parameter's value (a coordinate out of range, radiuses=abc).
   - CV_EZONE, a database kept in another time zone than the one running, is a Conflict, as CV_ECONFLICT.
   - Every code without a word (CV_ENOMEM, CV_EIO, CV_EFORMAT, CV_ECORRUPT, CV_EINTERNAL, ...) is Error.
   Each failure comes from one side only: the routing calls never give Conflict or Busy, the matcher never TooBig. */
static const struct osrm_code_row {
    const char *word;
    int cv;
} osrm_codes[OSRM_NCODES] = {
    [OSRM_OK] = {"Ok", CV_OK},
    [OSRM_INVALID_URL] = {"InvalidUrl", NO_CV},
    [OSRM_INVALID_QUERY] = {"InvalidQuery", CV_EINVAL},
    [OSRM_INVALID_VALUE] = {"InvalidValue", NO_CV},
    [OSRM_INVALID_OPTIONS] = {"InvalidOptions", NO_CV},
    [OSRM_NO_SEGMENT] = {"NoSegment", CV_ENOSEGMENT},
    [OSRM_NO_ROUTE] = {"NoRoute", CV_ENOROUTE},
    [OSRM_TOO_BIG] = {"TooBig", CV_ETOOBIG},
    [OSRM_BAD_REQUEST] = {"BadRequest", NO_CV},
    [OSRM_UNAUTHORIZED] = {"Unauthorized", NO_CV},
    [OSRM_FORBIDDEN] = {"Forbidden", NO_CV},
    [OSRM_NOT_FOUND] = {"NotFound", CV_ENOTFOUND},
    [OSRM_METHOD_NOT_ALLOWED] = {"MethodNotAllowed", NO_CV},
    [OSRM_CONFLICT] = {"Conflict", CV_ECONFLICT},
    [OSRM_TOO_MANY_REQUESTS] = {"TooManyRequests", NO_CV},
    [OSRM_ERROR] = {"Error", NO_CV},
    [OSRM_NOT_IMPLEMENTED] = {"NotImplemented", NO_CV},
    [OSRM_UNAVAILABLE] = {"Unavailable", CV_EUNAVAILABLE},
    [OSRM_SHUTTING_DOWN] = {"ShuttingDown", NO_CV},
    [OSRM_BUSY] = {"Busy", CV_EBUSY},
};

const char *osrm_word(osrm_code_id id)
{
    return (unsigned)id < OSRM_NCODES ? osrm_codes[id].word : osrm_codes[OSRM_ERROR].word;
}

const char *osrm_code(int code)
{
    if (code == CV_EZONE)
        code = CV_ECONFLICT;
    if (code == CV_ERETRY) /* a transaction that lost its conflicts every time it ran: the client tries later */
        code = CV_EUNAVAILABLE;
    for (int i = 0; i < OSRM_NCODES; i++)
        if (osrm_codes[i].cv == code)
            return osrm_codes[i].word;
    return osrm_codes[OSRM_ERROR].word;
}

/* OSRM rounds distances and durations to one decimal. */
static json_t *osrm_json_1dp(double v)
{
    return json_real(round(v * 10.0) / 10.0);
}

json_t *osrm_json_lonlat(cv_coord c)
{
    return json_pack("[ff]", round(cv_deg(c.lon) * 1e6) / 1e6, round(cv_deg(c.lat) * 1e6) / 1e6);
}

json_t *osrm_json_waypoint(const cv_graph *g, const cv_snap *s)
{
    /* OSRM's waypoint name is the name tag alone, not the ref: the street the point was snapped onto */
    const char *name = cv_graph_string(g, cv_graph_edge_name(g, s->edge)->name);
    return json_pack("{s:o,s:o,s:s,s:s}", "location", osrm_json_lonlat(s->location), "distance",
                     json_real(round(s->distance_m * 1e6) / 1e6), "name", name, "hint", "");
}

static json_t *osrm_json_geometry(const cv_coord *pts, size_t n, int geometry)
{
    if (geometry == OSRM_GEOM_GEOJSON) {
        json_t *coords = json_array();
        for (size_t i = 0; coords && i < n; i++)
            if (json_array_append_new(coords, osrm_json_lonlat(pts[i]))) {
                json_decref(coords);
                return NULL;
            }
        if (coords && n == 1) /* a LineString needs two positions: a route from a point to itself repeats it */
            json_array_append_new(coords, osrm_json_lonlat(pts[0]));
        return json_pack("{s:s,s:o}", "type", "LineString", "coordinates", coords);
    }
    cv_buf b = {0};
    if (cv_polyline_encode(pts, n, geometry == OSRM_GEOM_POLYLINE6 ? 6 : 5, &b))
        return NULL;
    json_t *s = json_string(b.data ? b.data : "");
    cv_buf_free(&b);
    return s;
}

/* The geometry of all legs end to end; the point where one leg ends and the next begins appears once.
   OSRM_OVERVIEW_SIMPLIFIED gives the full geometry too: OSRM simplifies for the zoom level of the whole route, which
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
    json_t *geom = osrm_json_geometry(all, nall, geometry);
    free(all);
    return geom;
}

/* One OSRM intersection: location, bearings, entry, and in / out where the route arrives and leaves. */
static json_t *osrm_json_intersection(const cv_steps *S, const cv_intersection *x)
{
    json_t *b = json_array(), *e = json_array();
    int bad = !b || !e;
    for (size_t k = 0; !bad && k < x->nbearings; k++) {
        bad |= json_array_append_new(b, json_integer(S->bearings[x->first_bearing + k]));
        bad |= json_array_append_new(e, json_boolean(S->entry[x->first_bearing + k]));
    }
    json_t *o =
        bad ? NULL : json_pack("{s:o,s:o,s:o}", "location", osrm_json_lonlat(x->location), "bearings", b, "entry", e);
    if (bad) {
        json_decref(b);
        json_decref(e);
        return NULL;
    }
    if (o && x->in >= 0 && json_object_set_new(o, "in", json_integer(x->in)))
        json_decref(o), o = NULL;
    if (o && x->out >= 0 && json_object_set_new(o, "out", json_integer(x->out)))
        json_decref(o), o = NULL;
    return o;
}

/* One OSRM RouteStep. */
static json_t *osrm_json_step(const cv_graph *g, const cv_steps *S, const cv_step *st, int geometry)
{
    json_t *m = json_pack("{s:o,s:i,s:i,s:s}", "location", osrm_json_lonlat(st->location), "bearing_before",
                          (int)st->bearing_before, "bearing_after", (int)st->bearing_after, "type",
                          cv_maneuver_type_name(st->type));
    const char *mod = cv_modifier_name(st->modifier);
    int bad = !m;
    if (!bad && mod)
        bad |= json_object_set_new(m, "modifier", json_string(mod));
    if (!bad && st->exit)
        bad |= json_object_set_new(m, "exit", json_integer(st->exit));
    json_t *xs = json_array();
    bad |= !xs;
    for (size_t k = 0; !bad && k < st->nintersections; k++)
        bad |= json_array_append_new(xs, osrm_json_intersection(S, &S->intersections[st->first_intersection + k]));
    json_t *geom = bad ? NULL : osrm_json_geometry(S->points + st->first_point, st->npoints, geometry);
    if (bad || !geom) {
        json_decref(m), json_decref(xs), json_decref(geom);
        return NULL;
    }
    const cv_street_name *nm = &g->a.names[st->name];
    json_t *o =
        json_pack("{s:o,s:o,s:s,s:s,s:s}", "geometry", geom, "maneuver", m, "mode", st->ferry ? "ferry" : "driving",
                  "driving_side", "right", "name", cv_graph_string(g, nm->name));
    if (!o) {
        json_decref(xs);
        return NULL;
    }
    if (nm->ref)
        bad |= json_object_set_new(o, "ref", json_string(cv_graph_string(g, nm->ref)));
    if (nm->destination)
        bad |= json_object_set_new(o, "destinations", json_string(cv_graph_string(g, nm->destination)));
    bad |= json_object_set_new(o, "intersections", xs);
    bad |= json_object_set_new(o, "weight", osrm_json_1dp(st->weight / 10.0));
    bad |= json_object_set_new(o, "duration", osrm_json_1dp(st->duration_ds / 10.0));
    bad |= json_object_set_new(o, "distance", osrm_json_1dp(st->distance_dm / 10.0));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* OSRM's annotation of a leg: for each step between two consecutive points of its full geometry, the kinds that
   ann asks for, in OSRM's key order. The running sums along the leg are rounded to 0.1 (m, s) and a step gets the
   difference of the rounded sums at its ends: every value is a multiple of 0.1 and the values of a leg add up to
   its distance, duration and weight (to floating-point error; the leg's own figures are rounded to 0.1 too).
   speed is distance / duration rounded to 0.1 m/s, as OSRM computes it; on a step too short to take 0.1 s it
   repeats the step before's (0 on the first), as OSRM does rather than divide by zero. One data source: 0. */
const osrm_annotation_kind osrm_annotation_kinds[OSRM_ANNOTATION_KINDS] = {{"distance", OSRM_ANNOTATE_DISTANCE},
                                                                           {"duration", OSRM_ANNOTATE_DURATION},
                                                                           {"datasources", OSRM_ANNOTATE_DATASOURCES},
                                                                           {"weight", OSRM_ANNOTATE_WEIGHT},
                                                                           {"speed", OSRM_ANNOTATE_SPEED}};

static json_t *osrm_json_annotation(const cv_graph *g, const cv_path *p, int ann)
{
    const osrm_annotation_kind *kinds = osrm_annotation_kinds;
    enum { NKINDS = OSRM_ANNOTATION_KINDS };
    cv_path_point *pts = NULL;
    size_t n = 0;
    if (cv_path_points(g, p, &pts, &n))
        return NULL;
    json_t *o = json_object(), *arr[NKINDS] = {NULL};
    int bad = !o;
    for (size_t k = 0; !bad && k < NKINDS; k++)
        if (ann & kinds[k].bit)
            bad = !(arr[k] = json_array());
    double speed = 0;
    for (size_t i = 1; !bad && i < n; i++) {
        /* differences of the running sums in decimetres and deciseconds, each rounded */
        double dist = (double)(llround(pts[i].distance_dm) - llround(pts[i - 1].distance_dm)) / 10.0;
        double dur = (double)(llround(pts[i].duration_ds) - llround(pts[i - 1].duration_ds)) / 10.0;
        double w = (double)(llround(pts[i].weight) - llround(pts[i - 1].weight)) / 10.0;
        if (dur > 0)
            speed = round(dist / dur * 10.0) / 10.0;
        const double v[NKINDS] = {dist, dur, 0, w, speed};
        for (size_t k = 0; !bad && k < NKINDS; k++)
            if (arr[k])
                bad = json_array_append_new(arr[k], kinds[k].bit == OSRM_ANNOTATE_DATASOURCES ? json_integer(0)
                                                                                              : json_real(v[k]));
    }
    free(pts);
    for (size_t k = 0; k < NKINDS; k++)
        if (arr[k]) {
            bad |= json_object_set_new(o, kinds[k].name, arr[k]); /* takes arr[k] even when it fails */
            arr[k] = NULL;
        }
    if (!bad && (ann & OSRM_ANNOTATE_DATASOURCES))
        bad = json_object_set_new(o, "metadata", json_pack("{s:[s]}", "datasource_names", "lua profile"));
    if (bad) {
        for (size_t k = 0; k < NKINDS; k++)
            json_decref(arr[k]);
        json_decref(o);
        return NULL;
    }
    return o;
}

/* A leg: distance, duration, weight, and with steps its summary and steps (else "" and []); with annotations
   (ANNOTATE_* bits) its annotation. */
static json_t *osrm_json_leg(const cv_graph *g, const cv_path *p, int geometry, cv_steps *S, int annotations)
{
    json_t *leg = json_pack("{s:o,s:o,s:o}", "distance", osrm_json_1dp(p->distance_dm / 10.0), "duration",
                            osrm_json_1dp(p->duration_ds / 10.0), "weight", osrm_json_1dp(p->weight / 10.0));
    json_t *steps = json_array();
    char summary[600] = "";
    int bad = !leg || !steps;
    if (!bad && S) {
        bad = cv_path_steps(g, p, S) != 0;
        for (size_t k = 0; !bad && k < S->n; k++)
            bad |= json_array_append_new(steps, osrm_json_step(g, S, &S->steps[k], geometry));
        if (!bad)
            cv_steps_summary(g, S, summary, sizeof summary);
    }
    if (!bad)
        bad |= json_object_set_new(leg, "summary", json_string(summary));
    if (!bad) {
        bad |= json_object_set_new(leg, "steps", steps);
        steps = NULL;
    }
    json_decref(steps);
    if (!bad && annotations)
        bad |= json_object_set_new(leg, "annotation", osrm_json_annotation(g, p, annotations));
    if (bad) {
        json_decref(leg);
        return NULL;
    }
    return leg;
}

json_t *osrm_json_route_legs(const cv_graph *g, const cv_path *paths, size_t n, int geometry, int overview, int steps,
                             int annotations)
{
    json_t *legs = json_array();
    uint64_t dist = 0, dur = 0, w = 0;
    cv_steps S = {0};
    for (size_t i = 0; legs && i < n; i++) {
        const cv_path *p = &paths[i];
        dist += p->distance_dm, dur += p->duration_ds, w += p->weight;
        if (json_array_append_new(legs, osrm_json_leg(g, p, geometry, steps ? &S : NULL, annotations))) {
            json_decref(legs);
            legs = NULL;
        }
    }
    cv_steps_free(&S);
    if (!legs)
        return NULL;
    json_t *geom = NULL;
    if (overview != OSRM_OVERVIEW_FALSE && !(geom = legs_geometry(g, paths, n, geometry))) {
        json_decref(legs);
        return NULL;
    }
    /* Keys in OSRM's order: geometry before legs. json_object_set_new takes its value even when it fails. */
    json_t *route =
        json_pack("{s:o,s:o,s:o,s:s}", "distance", osrm_json_1dp(dist / 10.0), "duration", osrm_json_1dp(dur / 10.0),
                  "weight", osrm_json_1dp(w / 10.0), "weight_name", "routability");
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

json_t *osrm_json_route(const cv_graph *g, const cv_path *p, int geometry, int steps)
{
    return osrm_json_route_legs(g, p, 1, geometry, OSRM_OVERVIEW_FULL, steps, 0);
}

int osrm_json_table_set(json_t *doc, const cv_table_cell *cells, size_t ns, size_t nd, int durations, int distances)
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
