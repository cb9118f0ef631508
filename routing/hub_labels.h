/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* hub_labels.h — hub labels computed from the contraction hierarchy (Abraham, Delling, Goldberg, Werneck,
   "A hub-based labeling algorithm for shortest paths in road networks", SEA 2011).

   Each hierarchy node r gets a forward label: the nodes its upward searches reach at their exact distance, each
   with that distance; and a backward label, the same for searches towards r. The weight from a to b is then the
   least Lf(a)[h] + Lb(b)[h] over the hubs h the two labels share: a merge of two short lists instead of a search.
   A label is exactly the part of a node's CH search space whose distance is exact, so labels and CH search spaces
   can be mixed. A route is unpacked from labels too: each entry keeps the first hierarchy arc of its route, r -> w,
   and where in w's label the route goes on.

   Labels are built top-down from the hierarchy in the graph file, in memory, level by level in parallel, when a
   process that answers many queries starts (the server); they are not stored in the file. */
#ifndef CV_HUB_LABELS_H
#define CV_HUB_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "util/cv_error.h"
#include "util/cv_progress.h"
#include "routing/graph.h"
#include "routing/path.h"
#include "routing/snap.h"

/* What a query reads for every entry (8 bytes): hubs are hierarchy ranks, in increasing order within a label. */
typedef struct cv_hl_entry {
    uint32_t hub;
    uint32_t weight;
} cv_hl_entry;

/* What only the entries a query ends on need: the duration and distance of the entry's route. */
typedef struct cv_hl_info {
    uint32_t duration_ds;
    uint32_t distance_dm;
} cv_hl_info;

/* What only unpacking a route needs: the first hierarchy arc of the entry's route (r -> w for forward labels, w -> r
   for backward ones) and the index of the same hub's entry in w's label, where the route goes on; next is
   CV_HL_END for a node's own entry. */
typedef struct cv_hl_hop {
    uint32_t arc;
    uint32_t next;
} cv_hl_hop;

#define CV_HL_END UINT32_MAX

typedef struct cv_hub_labels {
    const cv_graph *g;
    uint32_t n;         /* hierarchy nodes */
    uint64_t *start[2]; /* [0] backward, [1] forward: per rank, where its label starts in e and info */
    uint32_t *len[2];   /* per rank, its label's length */
    cv_hl_entry *e[2];
    cv_hl_info *info[2];
    cv_hl_hop *hop[2];
    uint64_t nentries[2];
    /* every hierarchy arc unpacked once for all: the original arc codes of arc a are
       unpacked[unpacked_first[a] .. unpacked_first[a + 1]), so unpacking a route is a copy per hierarchy arc */
    uint32_t *unpacked_first;
    uint32_t *unpacked;
    uint32_t levels; /* depth of the hierarchy's dependency levels */
    double build_s;
} cv_hub_labels;

/* Builds the labels of g's hierarchy with `threads` threads (0: one per online CPU). Fails with CV_ENOMEM, or
   CV_ETOOBIG (message naming the size) when the labels would need more than max_bytes (0: no limit), so that a
   caller can fall back to plain CH queries on a graph too large for labels. progress may be NULL. */
int cv_hub_labels_build(const cv_graph *g, unsigned threads, uint64_t max_bytes, cv_progress *progress,
                        cv_hub_labels **out, cv_error *err);
void cv_hub_labels_free(cv_hub_labels *hl);

/* An estimate, from above, of the bytes the labels of g would take (what cv_hub_labels_bytes gives once they are
   built), in a few milliseconds: for the entries, the mean size of the CH search spaces of points at the middle of
   `samples` edges drawn with a fixed seed, times the nodes, both ways (a node's label is the part of its search
   space at exact distances: on Porto the spaces hold 61 nodes a side, the labels 53); the per-node offsets and
   the unpacked arcs exactly. cv_hub_labels_build uses it to refuse at once labels clearly over its limit (by more than
   a quarter). 0 when g has no hierarchy or memory is short. */
uint64_t cv_hub_labels_estimate(const cv_graph *g, unsigned samples);

/* Bytes held by the labels. */
uint64_t cv_hub_labels_bytes(const cv_hub_labels *hl);

/* The label of rank r: forward = 1 for Lf, 0 for Lb; *n gets its length, *info the parallel info array. */
static inline const cv_hl_entry *cv_hl_label(const cv_hub_labels *hl, int forward, uint32_t r, uint32_t *n,
                                             const cv_hl_info **info)
{
    uint64_t a = hl->start[forward][r];
    *n = hl->len[forward][r];
    if (info)
        *info = hl->info[forward] + a;
    return hl->e[forward] + a;
}

/* Position of hub h in the label of r (binary search), or -1. */
int64_t cv_hl_find(const cv_hub_labels *hl, int forward, uint32_t r, uint32_t h);

/* --- queries on the labels: a hierarchy query workspace with labels attached (cv_ch_use_labels in ch.h) answers
   from these --- */

/* A workspace for queries on one set of labels. Not thread-safe: one per thread, reused across queries. */
typedef struct cv_hl_query cv_hl_query;

/* A workspace for hl (which must outlive it). NULL when out of memory. */
cv_hl_query *cv_hl_query_new(const cv_hub_labels *hl);
void cv_hl_query_free(cv_hl_query *w);

/* The combined label of point s: the hubs of the forward labels of its source seeds (forward = 1) or of the
   backward labels of its target seeds (0), each at the least weight over the seeds. Returns the number of hubs,
   read with cv_hl_hub in the order found until the next combination or query. */
uint32_t cv_hl_combine(cv_hl_query *w, const cv_snap *s, int forward);

/* Hub k of the combination (a hierarchy rank); *weight gets the weight from the point to it (or from it to the
   point). */
uint32_t cv_hl_hub(const cv_hl_query *w, uint32_t k, uint32_t *weight);

/* The duration and distance between the point and hub k, read apart from the weight, where a query needs them. */
void cv_hl_hub_track(const cv_hl_query *w, uint32_t k, uint32_t *dur, uint32_t *len);

/* Shortest route by weight from s to t, from the labels of their seeds merged at their common hubs and unpacked
   (the same answer as the hierarchy's search). out's src and dst are set, direct 0, no arcs. Returns 0,
   CV_ENOROUTE, CV_ENOMEM or CV_EINTERNAL (labels that do not lead to their hub). */
int cv_hl_route(cv_hl_query *w, const cv_snap *s, const cv_snap *t, cv_path *out, cv_error *err);

/* The same as cv_hl_cost, with the target's labels combined instead of the source's: for a run of sources to one
   target (the target is combined once, as cv_hl_combine keeps it), where cv_hl_cost suits one source and many
   targets. */
void cv_hl_cost_to(cv_hl_query *w, const cv_snap *s, const cv_snap *t, uint64_t *weight, int *direct, uint32_t *dur,
                   uint32_t *len);

/* The cost of the route from s to t, without the path: *weight gets its weight (UINT64_MAX when t cannot be
   reached), *direct whether the ride along one edge is best (cv_path_direct_weight), and when neither, *dur and
   *len its duration and distance. */
void cv_hl_cost(cv_hl_query *w, const cv_snap *s, const cv_snap *t, uint64_t *weight, int *direct, uint32_t *dur,
                uint32_t *len);

#endif
