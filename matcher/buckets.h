/* buckets.h — search spaces of many points kept in per-node buckets (Geisberger et al., "Fast Detour
   Computation for Ride Sharing"): a point's forward (or backward) CH search space is stored once, under a
   reference, at every node it settles; one search from another point then reads, at the nodes it settles, the
   distances to or from every stored point at once. Not thread-safe: the matcher guards it with a lock. */
#ifndef CV_BUCKETS_H
#define CV_BUCKETS_H

#include <stddef.h>
#include <stdint.h>

#include "ch.h"

typedef struct cv_bucket_item {
    uint32_t ref;          /* the caller's reference of the stored point */
    uint32_t weight;       /* between the point and this node */
    uint32_t duration_ds;
    uint32_t distance_dm;
    uint32_t budget_ds;    /* travel time left to the stored point's trip after this node: a query pruning on it
                              skips an item when its own time to the node already exceeds it */
} cv_bucket_item;

typedef struct cv_buckets cv_buckets;

/* Buckets for a hierarchy of nnodes nodes. NULL when out of memory. */
cv_buckets *cv_buckets_new(uint32_t nnodes);
void cv_buckets_free(cv_buckets *b);

/* Stores the search space e[0..n) under ref, each item with budget_ds = total_ds - its duration; entries whose
   duration already exceeds total_ds are not stored (no trip can use them). UINT32_MAX stores everything. Returns
   0 or CV_ENOMEM (then nothing is stored). */
int cv_buckets_add(cv_buckets *b, uint32_t ref, const cv_space_entry *e, size_t n, uint32_t total_ds);

/* Removes ref's items at the nodes of the space e[0..n) (the space it was added with; nodes where nothing was
   stored are skipped). */
void cv_buckets_remove(cv_buckets *b, uint32_t ref, const cv_space_entry *e, size_t n);

/* The items at a node; *n gets their count. The first *nsorted are in decreasing order of budget (a scan may
   stop at the first whose budget it exceeds); the rest, a short tail, are in no order. */
const cv_bucket_item *cv_buckets_at(const cv_buckets *b, uint32_t node, uint32_t *n, uint32_t *nsorted);

/* Items stored, and bytes held. */
size_t cv_buckets_items(const cv_buckets *b);
size_t cv_buckets_bytes(const cv_buckets *b);

#endif
