/* json_out.c — OSRM-shaped JSON for routes and waypoints, shared by the route subcommand (and later the server). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("covoit: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_is_help(const char *arg)
{
    return arg && (!strcmp(arg, "-h") || !strcmp(arg, "--help"));
}

const char *cli_osrm_code(int code)
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

void cli_print_json(json_t *doc)
{
    if (!doc) {
        cli_error("out of memory");
        return;
    }
    char *s = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(10));
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
    json_decref(doc);
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
            json_array_append_new(coords, json_lonlat(pts[i]));
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

json_t *json_route(const cv_graph *g, const cv_path *p, int geometry)
{
    cv_coord *pts = NULL;
    size_t n = 0;
    if (cv_path_geometry(g, p, &pts, &n))
        return NULL;
    json_t *geom = json_geometry(pts, n, geometry);
    free(pts);
    if (!geom)
        return NULL;
    double dist = p->distance_dm / 10.0, dur = p->duration_ds / 10.0, w = p->weight / 10.0;
    json_t *leg = json_pack("{s:o,s:o,s:o,s:s,s:[]}", "distance", json_1dp(dist), "duration", json_1dp(dur),
                            "weight", json_1dp(w), "summary", "", "steps");
    return json_pack("{s:o,s:o,s:o,s:s,s:o,s:[o]}", "distance", json_1dp(dist), "duration", json_1dp(dur), "weight",
                     json_1dp(w), "weight_name", "routability", "geometry", geom, "legs", leg);
}
