/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* ch.h — contraction hierarchies: built at import over the routing nodes, queried point-to-point (bidirectional,
   stall-on-demand) and many-to-many (buckets), with restrictions honoured because the routing graph encodes them. */
#ifndef CV_CH_H
#define CV_CH_H

#include <stddef.h>
#include <stdint.h>

#include "util/cv_error.h"
#include "util/cv_progress.h"
#include "routing/graph.h"
#include "routing/hub_labels.h"
#include "routing/route.h"
#include "routing/snap.h"

/* --- build (import time) --- */

/* The hierarchy as built, before it goes into the graph file. All arrays are malloc'ed. */
typedef struct cv_ch_data {
    uint32_t nnodes;
    uint32_t *rank;     /* per routing node: its rank (0 = contracted first) */
    uint32_t *up_first; /* per rank, CSR into up: arcs to higher ranks, for forward searches */
    cv_ch_link *up;
    uint32_t *down_first; /* per rank, CSR into down: arcs from higher ranks, for backward searches */
    cv_ch_link *down;
    cv_ch_unpack *arcs; /* every arc of the hierarchy: original arcs, then shortcuts */
    uint32_t nup, ndown, narcs;
    uint32_t nshortcuts;
} cv_ch_data;

/* Contracts the routing graph given by its out-arcs (nn nodes) in the order of a lazily updated priority (edge
   difference, contracted neighbours, search-space depth), with witness searches bounded in hops and settled
   nodes. progress may be NULL. Returns 0 or CV_ENOMEM; free with cv_ch_data_free. */
int cv_ch_build(uint32_t nn, const uint32_t *out_first, const cv_arc *out_arcs, const cv_edge *edges,
                cv_progress *progress, cv_ch_data *out);
void cv_ch_data_free(cv_ch_data *d);

/* --- queries (one read-only graph, one workspace per thread) --- */

typedef struct cv_ch_query cv_ch_query;

/* A workspace for g, reused across queries; not thread-safe. NULL when out of memory or when g has no
   hierarchy. */
cv_ch_query *cv_ch_query_new(const cv_graph *g);
void cv_ch_query_free(cv_ch_query *q);

/* Answers the queries below from hub labels built for the same graph (NULL: back to CH searches). The labels
   must outlive the workspace's use of them. Returns 0, CV_EINVAL (labels built for another cv_graph) or
   CV_ENOMEM. */
int cv_ch_use_labels(cv_ch_query *q, const cv_hub_labels *hl);

/* Shortest route by weight from s to t, unpacked to original edges (same answer as cv_dijkstra_route). Returns
   0, CV_ENOROUTE or CV_ENOMEM. */
int cv_ch_route(cv_ch_query *q, const cv_snap *s, const cv_snap *t, cv_path *out, cv_error *err);

/* One cell of a table: weight CV_INF_WEIGHT when unreachable. */
typedef struct cv_table_cell {
    uint32_t weight;
    uint32_t duration_ds;
    uint32_t distance_dm;
} cv_table_cell;

/* The weight, duration and distance of the route from s to t, without the path: the searches carry durations
   and distances along, so nothing is unpacked. Returns 0, or CV_ENOROUTE (out->weight CV_INF_WEIGHT). */
int cv_ch_cost(cv_ch_query *q, const cv_snap *s, const cv_snap *t, cv_table_cell *out);

/* The same, for a run of sources to one target t: with hub labels, t's are combined once for the run (cv_ch_cost
   keeps the source's for a run of targets). Without them, cv_ch_cost. */
int cv_ch_cost_to(cv_ch_query *q, const cv_snap *s, const cv_snap *t, cv_table_cell *out);

/* Many-to-many: out[i * nd + j] is the route from src[i] to dst[j]. Backward searches from the destinations fill
   per-node buckets, forward searches from the sources scan them. Returns 0 or CV_ENOMEM. */
int cv_ch_table(cv_ch_query *q, const cv_snap *src, size_t ns, const cv_snap *dst, size_t nd, cv_table_cell *out,
                cv_error *err);

/* One node of a search space: a hierarchy node (search id) with the route from the search's point to it
   (forward spaces) or from it to the point (backward spaces). */
typedef struct cv_space_entry {
    uint32_t node;
    uint32_t weight;
    uint32_t duration_ds;
    uint32_t distance_dm;
} cv_space_entry;

/* The search space of an upward search from s (forward = 1) or towards s (forward = 0), stall-on-demand
   applied: every node settled and not stalled, in the order settled. With labels attached, the point's combined
   label instead (every hub of its seeds' labels at the least weight over the seeds, in the order found; fewer
   nodes, and cv_ch_settled gives 0); either kind meets the other as below. Two spaces meet in a route: the least
   forward(a).weight + backward(b).weight over common nodes is the weight from a to b (unless a and b share an edge, see
   cv_path_direct_weight). Entries are written to *out (grown with realloc, *cap its capacity); *n gets the count.
   Returns 0 or CV_ENOMEM. */
int cv_ch_space(cv_ch_query *q, const cv_snap *s, int forward, cv_space_entry **out, size_t *n, size_t *cap,
                cv_error *err);

/* Sets the workspace's query number (rounded down to even), so that tests can bring the restart of the numbers
   (every 2^31 queries, when every stamp is cleared) within reach. */
void cv_ch_query_set_number(cv_ch_query *q, uint32_t number);

/* Number of hierarchy nodes (search ids run from 0 to this - 1). */
uint32_t cv_ch_nodes(const cv_ch_query *q);

/* Nodes settled by the last query (for benchmarks). */
uint64_t cv_ch_settled(const cv_ch_query *q);

#endif
