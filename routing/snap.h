/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* snap.h — snapping a coordinate onto the nearest drivable road segment (a "phantom" point on an edge). */
#ifndef CV_SNAP_H
#define CV_SNAP_H

#include <stdint.h>

#include "util/cv_error.h"
#include "routing/geo.h"
#include "routing/graph.h"

#define CV_SNAP_DEFAULT_MAX_M 300.0

/* A point on an edge. Routes start and end at such points, not at nodes. */
typedef struct cv_snap {
    uint32_t edge;      /* edge id */
    uint32_t point;     /* global index of the segment's first point */
    double t;           /* position along the segment, [0, 1] */
    cv_coord location;  /* the snapped point */
    cv_coord input;     /* the coordinate that was snapped */
    double distance_m;  /* from input to location */
    uint32_t from_u_dm; /* length along the edge from u to the point */
    uint32_t to_v_dm;   /* from the point to v; from_u_dm + to_v_dm == edge length */
    uint32_t from_u_ds; /* travel time from u to the point */
    uint32_t to_v_ds;   /* from the point to v; with from_u_ds, the edge's duration from u to v */
    uint32_t from_v_ds; /* travel time from v to the point (driving from v towards u) */
    uint32_t to_u_ds;   /* from the point to u; with from_v_ds, the edge's duration from v to u */
} cv_snap;

typedef struct cv_snap_options {
    double max_distance_m;    /* beyond this the answer is CV_ENOSEGMENT; <= 0 means the default */
    uint32_t exclude_classes; /* bit (1 << road_class) set: never snap to such edges (e.g. motorways) */
    int any_component;        /* 1: nearest road whatever its component; 0: prefer the largest component */
    int stop_only;            /* 1: only a place where a car may stop to let someone in or out (not a motorway
                                 nor its links), where a pickup or a drop-off goes */
} cv_snap_options;

/* The size (routing nodes) from which the largest component is the main network that snapping prefers. */
#define CV_SNAP_BIG_COMPONENT 1000

/* Default options: 300 m, nothing excluded, largest component preferred, stop_only off. */
cv_snap_options cv_snap_defaults(void);

/* Snaps p to the nearest segment of an allowed edge within max_distance_m. An edge whose both ends are in the
   graph's largest strongly connected component is preferred over a nearer one that is not (so that a point next
   to an isolated car park still gets a route out); a nearer island edge is used only when no edge of the largest
   component is in range. When the largest component has fewer than CV_SNAP_BIG_COMPONENT routing nodes there is
   no preference: the nearest edge wins. Returns 0, or CV_ENOSEGMENT with err naming the point and the distance. */
int cv_snap_point(const cv_graph *g, cv_coord p, const cv_snap_options *opt, cv_snap *out, cv_error *err);

/* Fills the partial lengths and durations of s from its edge, point and t. */
void cv_snap_fill(const cv_graph *g, cv_snap *s);

#endif
