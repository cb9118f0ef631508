/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* order_int.h — things sorted by a 32-bit key with their index breaking ties, so that qsort (which is not stable)
   gives one order on every platform: the graph builder's nodes along a Hilbert curve, the hierarchy's order and the
   turn automaton's states. routing/ only. */
#ifndef CV_ROUTING_ORDER_INT_H
#define CV_ROUTING_ORDER_INT_H

#include <stdint.h>

typedef struct cv_key_index {
    uint32_t key, index;
} cv_key_index;

/* qsort's comparison for cv_key_index: by key, then by index. */
static inline int cv_key_index_cmp(const void *a, const void *b)
{
    const cv_key_index *x = a, *y = b;
    if (x->key != y->key)
        return (x->key > y->key) - (x->key < y->key);
    return (x->index > y->index) - (x->index < y->index);
}

#endif
