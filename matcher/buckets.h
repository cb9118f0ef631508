/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* buckets.h — search spaces of many points kept in per-node buckets (Geisberger et al., "Fast Detour
   Computation for Ride Sharing"): a point's forward (or backward) CH search space is stored once, under a
   reference, at every node it settles; one search from another point then reads, at the nodes it settles, the
   distances to or from every stored point at once. Not thread-safe: the matcher guards it with a lock. */
#ifndef CV_BUCKETS_H
#define CV_BUCKETS_H

#include <stddef.h>
#include <stdint.h>

#include "routing/ch.h"

typedef struct cv_bucket_item {
    uint32_t ref;    /* the caller's reference of the stored point */
    uint32_t weight; /* between the point and this node */
    uint32_t duration_ds;
    uint32_t distance_dm;
    uint32_t budget_ds; /* travel time left to the stored point's trip after this node: a query pruning on it
                           skips an item when its own time to the node already exceeds it */
} cv_bucket_item;

/* When the stored point's trip can be joined (UTC seconds): items are kept in time slices of a node's bucket, so
   that a query for one time of day skips the slices of other times. INT64_MIN / INT64_MAX: at any time. */
typedef struct cv_span {
    int64_t lo, hi;
} cv_span;

#define CV_SPAN_ANY ((cv_span){INT64_MIN, INT64_MAX})

/* Width of a time slice: items whose span starts in the same CV_SLICE_S seconds share a slice. */
#define CV_SLICE_S 900

/* One time slice of a node's bucket: items whose span starts in [key * CV_SLICE_S, (key + 1) * CV_SLICE_S)
   (INT32_MIN: unbounded spans), hi_max at least the end of every item's span. items[0 .. nsorted) are in
   decreasing order of budget (a scan may stop at the first whose budget it exceeds); the rest, a short tail, are
   in no order. */
typedef struct cv_bucket_slice {
    int32_t key;
    uint32_t n, cap, nsorted;
    int64_t hi_max;
    cv_bucket_item *items;
} cv_bucket_slice;

/* Can a slice hold an item whose span meets [lo, hi]? */
static inline int cv_slice_meets(const cv_bucket_slice *s, int64_t lo, int64_t hi)
{
    return s->hi_max >= lo && (s->key == INT32_MIN || (int64_t)s->key * CV_SLICE_S <= hi);
}

typedef struct cv_buckets cv_buckets;

/* Buckets for a hierarchy of nnodes nodes. NULL when out of memory. */
cv_buckets *cv_buckets_new(uint32_t nnodes);
void cv_buckets_free(cv_buckets *b);

/* Stores the search space e[0..n) under ref, with its span, each item with budget_ds = total_ds - its duration;
   entries whose duration already exceeds total_ds are not stored (no trip can use them). UINT32_MAX stores
   everything. Returns 0 or CV_ENOMEM (then nothing is stored). */
int cv_buckets_add(cv_buckets *b, uint32_t ref, cv_span span, const cv_space_entry *e, size_t n, uint32_t total_ds);

/* Removes ref's items at the nodes of the space e[0..n) (the space and span it was added with; nodes where
   nothing was stored are skipped). */
void cv_buckets_remove(cv_buckets *b, uint32_t ref, cv_span span, const cv_space_entry *e, size_t n);

/* The time slices of a node's bucket, in increasing order of key; *n gets their count. */
const cv_bucket_slice *cv_buckets_at(const cv_buckets *b, uint32_t node, uint32_t *n);

/* Items stored, and bytes held. */
size_t cv_buckets_items(const cv_buckets *b);
size_t cv_buckets_bytes(const cv_buckets *b);

#endif
