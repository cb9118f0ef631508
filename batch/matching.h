/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* matching.h — a maximum-weight matching of a general graph, exact: LEMON's MaxWeightedMatching (a C++ library)
   behind this C interface (matching.cpp), as osm/ puts libosmium behind one. */
#ifndef CV_MATCHING_H
#define CV_MATCHING_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cv_wedge {
    uint32_t a, b;  /* two distinct nodes < n */
    int64_t weight; /* > 0 */
} cv_wedge;

/* A matching of the n nodes by the m edges whose total weight is the largest there is: mate[i] the node matched
   with i, or -1. *total (when not NULL) its weight. 0, or -1 when out of memory or an edge is invalid. */
int cv_max_weight_matching(size_t n, const cv_wedge *edges, size_t m, int64_t *mate, int64_t *total);

#ifdef __cplusplus
}
#endif

#endif
