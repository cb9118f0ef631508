/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* route.h — the exact bidirectional Dijkstra router between snapped points, with a reusable per-thread workspace.
   Its routes are paths (path.h). */
#ifndef CV_ROUTE_H
#define CV_ROUTE_H

#include <stdint.h>

#include "util/cv_error.h"
#include "routing/graph.h"
#include "routing/path.h"
#include "routing/snap.h"

/* An exact Dijkstra workspace. Not thread-safe: one per thread, reused across queries. */
typedef struct cv_dijkstra cv_dijkstra;

/* Creates a workspace for g (which must outlive it). Returns NULL when out of memory. */
cv_dijkstra *cv_dijkstra_new(const cv_graph *g);
void cv_dijkstra_free(cv_dijkstra *w);

/* Shortest route by weight from s to t with a bidirectional Dijkstra. Fills *out (its arcs buffer is reused).
   Returns 0, or CV_ENOROUTE when t cannot be reached from s, or CV_ENOMEM. */
int cv_dijkstra_route(cv_dijkstra *w, const cv_snap *s, const cv_snap *t, cv_path *out, cv_error *err);

/* Number of nodes settled by the last query (for benchmarks). */
uint64_t cv_dijkstra_settled(const cv_dijkstra *w);

#endif
