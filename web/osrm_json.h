/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* osrm_json.h — OSRM-shaped JSON for routes, waypoints and tables, and the code words of answers, shared by the
   server (web/) and the CLI. */
#ifndef CV_OSRM_JSON_H
#define CV_OSRM_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "routing/ch.h"
#include "routing/route.h"

/* Geometry formats of route output (OSRM's `geometries`). */
enum { OSRM_GEOM_POLYLINE = 0, OSRM_GEOM_POLYLINE6, OSRM_GEOM_GEOJSON };

/* What a route carries as its overall geometry (OSRM's `overview`). */
enum { OSRM_OVERVIEW_FULL = 0, OSRM_OVERVIEW_SIMPLIFIED, OSRM_OVERVIEW_FALSE };

/* What a leg's annotation holds (OSRM's `annotations`), or'ed together. OSRM's `nodes` is not among them: the
   graph file does not keep OSM node ids. */
enum {
    OSRM_ANNOTATE_DISTANCE = 1,
    OSRM_ANNOTATE_DURATION = 2,
    OSRM_ANNOTATE_DATASOURCES = 4,
    OSRM_ANNOTATE_WEIGHT = 8,
    OSRM_ANNOTATE_SPEED = 16,
    OSRM_ANNOTATE_ALL = 31
};

/* The annotation kinds in OSRM's key order, with their bits: what the parameter accepts and the leg carries. */
typedef struct osrm_annotation_kind {
    const char *name;
    int bit;
} osrm_annotation_kind;

#define OSRM_ANNOTATION_KINDS 5
extern const osrm_annotation_kind osrm_annotation_kinds[OSRM_ANNOTATION_KINDS];

/* The code words of answers ({"code": ..., "message": ...}): OSRM's, which the carpool API and the server's own
   answers use too. They are written once, in the table of osrm_json.c: handlers and the CLI name a word by its id
   (osrm_word) or by the CV_E* code it answers (osrm_code). */
typedef enum osrm_code_id {
    OSRM_OK,
    OSRM_INVALID_URL,
    OSRM_INVALID_QUERY,
    OSRM_INVALID_VALUE,
    OSRM_INVALID_OPTIONS,
    OSRM_NO_SEGMENT,
    OSRM_NO_ROUTE,
    OSRM_TOO_BIG,
    OSRM_BAD_REQUEST,
    OSRM_UNAUTHORIZED,
    OSRM_FORBIDDEN,
    OSRM_NOT_FOUND,
    OSRM_METHOD_NOT_ALLOWED,
    OSRM_CONFLICT,
    OSRM_TOO_MANY_REQUESTS,
    OSRM_ERROR,
    OSRM_NOT_IMPLEMENTED,
    OSRM_UNAVAILABLE,
    OSRM_SHUTTING_DOWN,
    OSRM_BUSY,
    OSRM_NCODES
} osrm_code_id;

/* The word of id: "Ok", "InvalidUrl", ... */
const char *osrm_word(osrm_code_id id);

/* The word answering a failure with a CV_E* code, on the routing side (the /route, /table and /nearest handlers,
   `covoit route|table`): "Ok", "InvalidQuery" (CV_EINVAL), "NoSegment", "NoRoute", "TooBig", "NotFound",
   "Conflict", "Busy", else "Error". The carpool API differs on CV_EINVAL only (trip_json_code). */
const char *osrm_code(int cv_code);

/* [lon, lat] as numbers, rounded to 1e-6 degree. A new reference, NULL when out of memory. */
json_t *osrm_json_lonlat(cv_coord c);

/* An OSRM waypoint object for a point snapped on g: location, distance (m from the input), name (the name tag of
   the street it was snapped onto, "" when it has none), hint "". */
json_t *osrm_json_waypoint(const cv_graph *g, const cv_snap *s);

/* An OSRM route over n consecutive legs (paths[i] runs from waypoint i to waypoint i + 1): distance (m),
   duration (s), weight, weight_name, geometry (absent for OSRM_OVERVIEW_FALSE) and one leg object per path. Totals are
   the sums of the legs. With steps, each leg carries its turn-by-turn steps (OSRM RouteStep objects, geometries
   in the `geometry` format) and its summary; without, "steps" is [] and "summary" "". With annotations (ANNOTATE_*
   bits), each leg also has an "annotation" object: one array per kind asked for, one value per step between two
   consecutive points of the leg's full geometry (whatever overview says). NULL when out of memory. */
json_t *osrm_json_route_legs(const cv_graph *g, const cv_path *paths, size_t n, int geometry, int overview, int steps,
                             int annotations);

/* osrm_json_route_legs for one path with the full geometry. */
json_t *osrm_json_route(const cv_graph *g, const cv_path *p, int geometry, int steps);

/* The durations (s) and/or distances (m) matrices of an OSRM table response, set on doc as "durations" and
   "distances" (null where there is no route); cells is ns x nd, row-major. Returns 0 or CV_ENOMEM. */
int osrm_json_table_set(json_t *doc, const cv_table_cell *cells, size_t ns, size_t nd, int durations, int distances);

#endif
