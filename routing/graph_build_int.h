/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* graph_build_int.h — what the import-time graph builder shares between its files (graph_build.c builds the graph,
   restrict_resolve.c turns OSM turn restrictions into arc sequences of that graph). Not for use outside routing/. */
#ifndef CV_GRAPH_BUILD_INT_H
#define CV_GRAPH_BUILD_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/cv_error.h"
#include "util/cv_progress.h"
#include "routing/graph.h"
#include "routing/graph_build.h"
#include "osm/osm_network.h"

#define NONE UINT32_MAX

/* An edge between two junctions of one way, before chains are compressed. */
typedef struct raw_edge {
    uint32_t u, v;   /* node indexes into net->nodes */
    uint32_t p0, np; /* points[p0 .. p0 + np) from u to v */
    uint32_t way;    /* index into net->ways */
    double len_m;
} raw_edge;

/* An edge after compression, before final numbering. */
typedef struct chain_edge {
    uint32_t u, v;   /* node indexes into net->nodes */
    uint32_t p0, np; /* into the chain point array */
    uint32_t way;    /* way of the first raw edge (attributes are equal along a chain) */
    uint8_t flags;   /* CV_EDGE_* oriented u to v */
    double len_m;
    double dur_ds;      /* from u to v */
    double dur_back_ds; /* from v to u */
} chain_edge;

typedef struct vec {
    void *p;
    size_t n, cap, elem;
} vec;

static inline void *vec_push(vec *v)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 1024;
        void *q = realloc(v->p, nc * v->elem);
        if (!q)
            return NULL;
        v->p = q;
        v->cap = nc;
    }
    return (char *)v->p + v->elem * v->n++;
}

typedef struct builder {
    const cv_network *net;
    cv_progress *progress;
    cv_build_stats *st;
    cv_error *err;
    uint32_t *ref_node;      /* per ref: node index or NONE */
    uint8_t *is_junction;    /* per node */
    uint8_t *keep;           /* per node: never compressed away (restriction via nodes, via ways' ends, barriers) */
    uint8_t *blocked;        /* per node: cv_node_rule of a node cars cannot pass (0: open) */
    uint32_t *way_first_raw; /* per way: its first raw edge (a way's raw edges are consecutive, in way order) */
    uint32_t *way_nraw;      /* per way: its number of raw edges */
    uint8_t *merged_rev;     /* per raw edge: 1 when its chain runs from its v to its u */
    uint32_t nnodes;         /* net->nnodes plus the nodes added where barriers split a node */
    uint32_t *extra_of;      /* per added node (index - net->nnodes): the node whose place it shares */
    int64_t *way_index;      /* (OSM id, index) of every way, sorted by id: cv_build_way */
    vec raw;                 /* raw_edge */
    vec raw_pts;             /* cv_coord */
    double *way_len;         /* per way: total length in metres (ferry durations are shared by length) */
    uint32_t *inc_first;     /* per node CSR of incident raw edges */
    uint32_t *inc;           /* raw edge id << 1 | (1 if the node is the edge's v end) */
    vec chains;              /* chain_edge */
    vec chain_pts;           /* cv_coord */
    uint32_t *merged_of;     /* per raw edge: chain edge id */
} builder;

/* The location of node index n (added nodes share their original's). */
static inline cv_coord cv_build_node_loc(const builder *b, uint32_t n)
{
    if (n >= b->net->nnodes)
        n = b->extra_of[n - b->net->nnodes];
    return (cv_coord){b->net->nodes[n].lon, b->net->nodes[n].lat};
}

/* Index in net->ways of the way with OSM id `id`, or UINT32_MAX. */
uint32_t cv_build_way(const builder *b, int64_t id);

/* Resolves the network's turn restrictions on the built chains: each becomes a sequence of arcs (edge << 1 | dir,
   edges numbered as chains, their ends already junction ids) written to *restr (narcs >= 2) and *arcs (both
   malloc'ed). Restrictions that cannot be placed are counted in b->st by reason. Returns 0 or CV_ENOMEM. */
int cv_resolve_restrictions(builder *b, const cv_edge *edges, cv_restriction **restr, uint32_t *nr, uint32_t **arcs,
                            uint32_t *narcs);

#endif
