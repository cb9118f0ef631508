/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* guidance.h — turn-by-turn steps of a route (OSRM's RouteStep model): the route's original edges are cut into
   steps where a driver needs to be told something (a turn, a new street name, a roundabout, a ramp), and each step
   carries its maneuver, the intersections it passes, its geometry and its share of the route's distance, duration
   and weight. Query-time, read-only on the graph; no JSON here (web/osrm_json.c writes it). */
#ifndef CV_GUIDANCE_H
#define CV_GUIDANCE_H

#include <stddef.h>
#include <stdint.h>

#include "routing/geo.h"
#include "routing/graph.h"
#include "routing/path.h"

/* Maneuver types, in OSRM's names (cv_maneuver_type_name). */
typedef enum cv_maneuver_type {
    CV_MAN_DEPART = 0,
    CV_MAN_ARRIVE,
    CV_MAN_TURN,
    CV_MAN_NEW_NAME,
    CV_MAN_CONTINUE,
    CV_MAN_ROUNDABOUT,
    CV_MAN_EXIT_ROUNDABOUT,
    CV_MAN_ON_RAMP,
    CV_MAN_OFF_RAMP,
    CV_MAN_MERGE,
    CV_MAN_FORK,
    CV_MAN_NOTIFICATION,
    CV_MAN_COUNT
} cv_maneuver_type;

/* Direction modifiers (cv_modifier_name); CV_MOD_NONE is left out of the output. */
typedef enum cv_modifier {
    CV_MOD_NONE = 0,
    CV_MOD_UTURN,
    CV_MOD_SHARP_RIGHT,
    CV_MOD_RIGHT,
    CV_MOD_SLIGHT_RIGHT,
    CV_MOD_STRAIGHT,
    CV_MOD_SLIGHT_LEFT,
    CV_MOD_LEFT,
    CV_MOD_SHARP_LEFT,
    CV_MOD_COUNT
} cv_modifier;

/* An intersection a step passes: the bearings of every road there (sorted, degrees clockwise from north, each
   the direction leaving the intersection), whether each may be taken, and which one the route arrived by and left
   by (-1 when the route starts or ends there). */
typedef struct cv_intersection {
    cv_coord location;
    size_t first_bearing, nbearings; /* into cv_steps.bearings and cv_steps.entry */
    int in, out;
} cv_intersection;

typedef struct cv_step {
    uint8_t type;                              /* cv_maneuver_type */
    uint8_t modifier;                          /* cv_modifier */
    uint8_t ferry;                             /* 1: the step is on a ferry (mode "ferry") */
    uint32_t exit;                             /* roundabouts: the exit taken, counted from the entry; 0 when none */
    cv_coord location;                         /* where the maneuver happens */
    uint16_t bearing_before;                   /* travel direction arriving at the maneuver (0 for depart) */
    uint16_t bearing_after;                    /* travel direction leaving it (0 for arrive) */
    uint32_t name;                             /* street name entry (cv_graph_a.names) of the road the step follows */
    uint32_t distance_dm, duration_ds, weight; /* the step's share; the steps of a path add up to its totals */
    size_t first_point, npoints; /* geometry in cv_steps.points: from the maneuver to the next one, >= 2 points */
    size_t first_intersection, nintersections; /* in cv_steps.intersections, the maneuver's first */
} cv_step;

/* The steps of one path, with the arrays they point into. Reused across calls; free with cv_steps_free. */
typedef struct cv_steps {
    cv_step *steps;
    size_t n, cap;
    cv_coord *points;
    size_t npoints, cap_points;
    cv_intersection *intersections;
    size_t nintersections, cap_intersections;
    uint16_t *bearings; /* nbearings of them, and as many entry flags */
    uint8_t *entry;
    size_t nbearings, cap_bearings, cap_entry;
} cv_steps;

/* Cuts path p into steps: a depart step first, an arrive step (zero distance and duration) last, and between them
   one step per maneuver. Consecutive edges with the same name and no real choice of way stay in one step. Returns
   0 or CV_ENOMEM. */
int cv_path_steps(const cv_graph *g, const cv_path *p, cv_steps *out);

/* Frees the arrays of s (the struct belongs to the caller) and zeroes it. */
void cv_steps_free(cv_steps *s);

/* OSRM's summary of a leg: the names of the two roads with the longest distance in its steps, in route order,
   joined by ", " (a road with no name counts by its ref; unnamed roads do not count). Writes "" when there is
   none. buf gets at most cap - 1 bytes and a NUL. */
void cv_steps_summary(const cv_graph *g, const cv_steps *s, char *buf, size_t cap);

const char *cv_maneuver_type_name(int type);
const char *cv_modifier_name(int modifier); /* NULL for CV_MOD_NONE */

#endif
