/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* path.h — a route between snapped points as every router gives it and every reader takes it: the path type
   (the edges it crosses), its totals, geometry and running sums; and the seeds where a search starts and ends,
   which Dijkstra (route.h), the hierarchy (ch.h) and hub labels (hub_labels.h) share. */
#ifndef CV_PATH_H
#define CV_PATH_H

#include <stddef.h>
#include <stdint.h>

#include "util/cv_error.h"
#include "routing/geo.h"
#include "routing/graph.h"
#include "routing/snap.h"

#define CV_INF_WEIGHT UINT32_MAX

/* A route from src to dst: the full edges it crosses between the two snapped points. When direct is set the route
   runs along the single edge src.edge from src to dst and narcs is 0. */
typedef struct cv_path {
    uint32_t weight;      /* what was minimised: duration plus no-through penalties, deciseconds */
    uint32_t duration_ds; /* travel time, deciseconds */
    uint32_t distance_dm; /* length, decimetres */
    cv_snap src, dst;
    int direct;      /* 1: along one edge from src to dst */
    int src_forward; /* leaves src towards its edge's v (1) or u (0); meaningless when direct */
    int dst_forward; /* reaches dst coming from its edge's u (1) or v (0) */
    uint32_t *arcs;  /* edge id << 1 | 1 when travelled v to u; owned, grown as needed */
    size_t narcs, cap;
} cv_path;

/* Frees the arcs of a path; the struct itself belongs to the caller. */
void cv_path_free(cv_path *p);

/* Room in p->arcs for n more arcs (grown by doubling). Returns 0 or CV_ENOMEM. */
int cv_path_reserve(cv_path *p, size_t n);

/* The route's geometry from src location to dst location, consecutive duplicates removed. *pts is malloc'ed
   (caller frees). Returns 0 or CV_ENOMEM. */
int cv_path_geometry(const cv_graph *g, const cv_path *p, cv_coord **pts, size_t *n);

/* A point of a route's geometry with the running sums of the route from src to it: duration and weight in
   deciseconds, distance in decimetres, unrounded. */
typedef struct cv_path_point {
    cv_coord c;
    double duration_ds, distance_dm, weight;
} cv_path_point;

/* The points of cv_path_geometry (the same ones, in the same order), each with the running sums of the route up
   to it: what the route covers per step between two points (OSRM's annotations). Each edge's share (partial on
   the first and last edges, as cv_path_finish counts them) is spread over its points in proportion to length, so
   at every junction the sums are the exact sums of the edges before it, and at the last point they are the
   path's duration_ds, distance_dm and weight. The path's no-through penalty (weight - duration) is added on the
   step that enters the first no-through road from an open one (else on the last step), as the steps of
   guidance.h count it. *out is malloc'ed (caller frees). Returns 0 or CV_ENOMEM. */
int cv_path_points(const cv_graph *g, const cv_path *p, cv_path_point **out, size_t *n);

/* Weight of the direct ride along one edge from s to t when both are on the same edge and its direction allows
   it, else UINT64_MAX. */
uint64_t cv_path_direct_weight(const cv_graph *g, const cv_snap *s, const cv_snap *t);

/* Fills duration_ds and distance_dm of a path whose src, dst, direct, src_forward, dst_forward and arcs are set.
   Returns 0. */
int cv_path_finish(const cv_graph *g, cv_path *p);

/* Where a search starts or ends: a routing node and what it costs to get there from the snapped point (or from
   it to the snapped point). */
typedef struct cv_seed {
    uint32_t node;   /* routing node */
    uint32_t weight; /* includes the no-through penalty when a target is entered over such an arc */
    uint32_t duration_ds;
    uint32_t distance_dm;
    int forward; /* source: leaves towards its edge's v; target: is entered from its edge's u */
} cv_seed;

#define CV_MAX_SEEDS 64

/* Seeds of a search from s: the ends of its edge that the edge's directions allow (at a split junction, the copy
   for arriving over that edge), and when s lies on an end node, every copy of that node at no cost (a route may
   leave a junction along any road). Returns the number written (at most max). */
uint32_t cv_source_seeds(const cv_graph *g, const cv_snap *s, cv_seed *out, uint32_t max);

/* Seeds of a search towards t: every node from which t's edge may be entered, paying the arc's penalty, and
   when t lies on an end node, every copy of that node at no cost. */
uint32_t cv_target_seeds(const cv_graph *g, const cv_snap *t, cv_seed *out, uint32_t max);

/* Penalty that the arc leaving `tail` along edge code `edge_dir` carries (0 or CV_NO_THROUGH_PENALTY). */
uint32_t cv_arc_penalty(const cv_graph *g, uint32_t tail, uint32_t edge_dir);

#endif
