/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* graph_build.c — import-time graph construction: split ways at junctions, compress degree-2 chains, number
   nodes along a Hilbert curve, build arcs, strongly connected components and the spatial grid, then write. */
#define _POSIX_C_SOURCE 200809L
#include "routing/graph_build.h"
#include "routing/order_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "routing/geo.h"
#include "routing/ch.h"
#include "routing/graph.h"

#include "routing/graph_build_int.h"

static uint8_t way_edge_flags(const cv_way_attr *a)
{
    uint8_t f = 0;
    if (a->flags & CV_WAY_FORWARD)
        f |= CV_EDGE_FORWARD;
    if (a->flags & CV_WAY_BACKWARD)
        f |= CV_EDGE_BACKWARD;
    if (a->flags & CV_WAY_NO_THROUGH)
        f |= CV_EDGE_NO_THROUGH;
    if (a->flags & CV_WAY_FERRY)
        f |= CV_EDGE_FERRY;
    return f;
}

static uint8_t reverse_flags(uint8_t f)
{
    uint8_t r = f & ~(CV_EDGE_FORWARD | CV_EDGE_BACKWARD);
    if (f & CV_EDGE_FORWARD)
        r |= CV_EDGE_BACKWARD;
    if (f & CV_EDGE_BACKWARD)
        r |= CV_EDGE_FORWARD;
    return r;
}

static int cmp_i64pair(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

uint32_t cv_build_way(const builder *b, int64_t id)
{
    int64_t key[2] = {id, 0};
    const int64_t *hit = bsearch(key, b->way_index, b->net->nways, 2 * sizeof *b->way_index, cmp_i64pair);
    return hit ? (uint32_t)hit[1] : NONE;
}

static uint32_t find_node(const cv_network *net, int64_t id)
{
    const cv_net_node *n = cv_network_node(net, id);
    return n ? (uint32_t)(n - net->nodes) : NONE;
}

/* Resolves node references and marks junctions: way ends, nodes used twice, restriction via nodes, and nodes next
   to a reference whose location is missing (the way is cut there). */
static int mark_junctions(builder *b)
{
    const cv_network *net = b->net;
    b->ref_node = malloc((net->nrefs ? net->nrefs : 1) * sizeof *b->ref_node);
    b->is_junction = calloc(net->nnodes ? net->nnodes : 1, 1);
    b->keep = calloc(net->nnodes ? net->nnodes : 1, 1);
    b->blocked = calloc(net->nnodes ? net->nnodes : 1, 1);
    uint8_t *seen = calloc(net->nnodes ? net->nnodes : 1, 1);
    if (!b->ref_node || !b->is_junction || !b->keep || !b->blocked || !seen) {
        free(seen);
        return CV_ENOMEM;
    }
    for (size_t i = 0; i < net->nrefs; i++) {
        b->ref_node[i] = find_node(net, net->refs[i]);
        if (b->ref_node[i] == NONE)
            b->st->missing_nodes++;
    }
    for (size_t w = 0; w < net->nways; w++) {
        const cv_net_way *way = &net->ways[w];
        const uint32_t *r = b->ref_node + way->first_ref;
        uint32_t prev = NONE;
        int first = 1;
        for (uint32_t i = 0; i < way->nrefs; i++) {
            uint32_t n = r[i];
            if (n == NONE) {
                if (prev != NONE)
                    b->is_junction[prev] = 1;
                prev = NONE;
                first = 1;
                continue;
            }
            if (n == prev)
                continue; /* repeated node in a row: one point */
            if (first)
                b->is_junction[n] = 1;
            first = 0;
            if (seen[n])
                b->is_junction[n] = 1;
            seen[n] = 1;
            prev = n;
        }
        if (prev != NONE)
            b->is_junction[prev] = 1;
    }
    free(seen);
    /* via nodes, and the ends of via ways (where from, via and to ways meet), stay nodes of their own */
    b->way_index = malloc((net->nways ? net->nways : 1) * 2 * sizeof *b->way_index);
    if (!b->way_index)
        return CV_ENOMEM;
    for (size_t w = 0; w < net->nways; w++)
        b->way_index[2 * w] = net->ways[w].id, b->way_index[2 * w + 1] = (int64_t)w;
    qsort(b->way_index, net->nways, 2 * sizeof *b->way_index, cmp_i64pair);
    for (size_t i = 0; i < net->nrestrictions; i++) {
        const cv_net_restriction *r = &net->restrictions[i];
        uint32_t n = r->via_node ? find_node(net, r->via_node) : NONE;
        if (n != NONE)
            b->is_junction[n] = b->keep[n] = 1;
        for (uint32_t k = 0; k < r->nvia; k++) {
            uint32_t w = cv_build_way(b, net->via_ways[r->via_first + k]);
            if (w == NONE)
                continue;
            const cv_net_way *way = &net->ways[w];
            for (uint32_t end = 0; end < 2; end++) {
                uint32_t m = b->ref_node[way->first_ref + (end ? way->nrefs - 1 : 0)];
                if (m != NONE)
                    b->is_junction[m] = b->keep[m] = 1;
            }
        }
    }
    /* nodes cars cannot pass: a junction of their own, split apart after chains are compressed */
    for (size_t i = 0; i < net->nblocks; i++) {
        uint32_t n = find_node(net, net->blocks[i].id);
        if (n != NONE)
            b->is_junction[n] = b->keep[n] = 1, b->blocked[n] = net->blocks[i].rule;
    }
    return 0;
}

/* Splits every way at junctions into raw edges. */
static int split_ways(builder *b)
{
    const cv_network *net = b->net;
    b->way_len = calloc(net->nways ? net->nways : 1, sizeof *b->way_len);
    b->way_first_raw = calloc(net->nways ? net->nways : 1, sizeof *b->way_first_raw);
    b->way_nraw = calloc(net->nways ? net->nways : 1, sizeof *b->way_nraw);
    if (!b->way_len || !b->way_first_raw || !b->way_nraw)
        return CV_ENOMEM;
    for (size_t w = 0; w < net->nways; w++) {
        b->way_first_raw[w] = (uint32_t)b->raw.n;
        if ((w & 1023) == 0 && b->progress)
            cv_progress_update(b->progress, w, net->nways);
        const cv_net_way *way = &net->ways[w];
        const uint32_t *r = b->ref_node + way->first_ref;
        uint32_t start = NONE, prev = NONE;
        size_t p0 = 0;
        double len = 0;
        for (uint32_t i = 0; i < way->nrefs; i++) {
            uint32_t n = r[i];
            if (n == NONE) {
                start = prev = NONE;
                continue;
            }
            if (n == prev)
                continue;
            cv_coord c = {net->nodes[n].lon, net->nodes[n].lat};
            if (start == NONE) {
                start = prev = n;
                p0 = b->raw_pts.n;
                len = 0;
                cv_coord *pp = vec_push(&b->raw_pts);
                if (!pp)
                    return CV_ENOMEM;
                *pp = c;
                continue;
            }
            cv_coord pc = {net->nodes[prev].lon, net->nodes[prev].lat};
            len += cv_distance_m(pc, c);
            cv_coord *pp = vec_push(&b->raw_pts);
            if (!pp)
                return CV_ENOMEM;
            *pp = c;
            prev = n;
            if (b->is_junction[n]) {
                uint32_t np = (uint32_t)(b->raw_pts.n - p0);
                if (!(n == start && np <= 3)) { /* drop a node-to-itself edge with no body */
                    raw_edge *e = vec_push(&b->raw);
                    if (!e)
                        return CV_ENOMEM;
                    *e = (raw_edge){start, n, (uint32_t)p0, np, (uint32_t)w, len};
                    b->way_len[w] += len;
                }
                /* the next edge starts with this node */
                start = n;
                p0 = b->raw_pts.n;
                len = 0;
                pp = vec_push(&b->raw_pts);
                if (!pp)
                    return CV_ENOMEM;
                *pp = c;
            }
        }
        if (start != NONE && b->raw_pts.n - p0 == 1)
            b->raw_pts.n--; /* the dangling first point of an edge that never came */
        b->way_nraw[w] = (uint32_t)b->raw.n - b->way_first_raw[w];
    }
    if (b->raw.n >= NONE / 2)
        return cv_fail(b->err, CV_ETOOBIG, "too many edges for one graph");
    b->st->raw_edges = (uint32_t)b->raw.n;
    return 0;
}

static int build_incidence(builder *b)
{
    const cv_network *net = b->net;
    const raw_edge *re = b->raw.p;
    b->inc_first = calloc(net->nnodes + 1, sizeof *b->inc_first);
    b->inc = malloc((b->raw.n ? b->raw.n : 1) * 2 * sizeof *b->inc);
    if (!b->inc_first || !b->inc)
        return CV_ENOMEM;
    for (size_t e = 0; e < b->raw.n; e++) {
        b->inc_first[re[e].u + 1]++;
        b->inc_first[re[e].v + 1]++;
    }
    for (size_t n = 0; n < net->nnodes; n++)
        b->inc_first[n + 1] += b->inc_first[n];
    uint32_t *fill = malloc((net->nnodes ? net->nnodes : 1) * sizeof *fill);
    if (!fill)
        return CV_ENOMEM;
    memcpy(fill, b->inc_first, net->nnodes * sizeof *fill);
    for (size_t e = 0; e < b->raw.n; e++) {
        b->inc[fill[re[e].u]++] = (uint32_t)e << 1;
        b->inc[fill[re[e].v]++] = (uint32_t)e << 1 | 1;
    }
    free(fill);
    return 0;
}

/* Attributes that must be equal for two edges to become one. */
static int same_attrs(const builder *b, const raw_edge *x, const raw_edge *y)
{
    const cv_net_way *wx = &b->net->ways[x->way], *wy = &b->net->ways[y->way];
    const cv_way_attr *a = &wx->attr, *c = &wy->attr;
    /* a change of street name or a roundabout's end stays a node: turn-by-turn steps are announced there */
    if (wx->name != wy->name || wx->roundabout != wy->roundabout)
        return 0;
    return a->road_class == c->road_class && !(a->flags & CV_WAY_FERRY) && !(c->flags & CV_WAY_FERRY) &&
           ((a->flags ^ c->flags) & CV_WAY_NO_THROUGH) == 0;
}

/* Flags of raw edge e when travelled away from node `from` (which is one of its ends). */
static uint8_t oriented_flags(const builder *b, const raw_edge *e, int from_v_end)
{
    uint8_t f = way_edge_flags(&b->net->ways[e->way].attr);
    return from_v_end ? reverse_flags(f) : f;
}

/* Speed of raw edge e driven from its u to its v (backward 0) or from v to u (backward 1). */
static float raw_speed(const builder *b, const raw_edge *e, int backward)
{
    const cv_way_attr *a = &b->net->ways[e->way].attr;
    return backward ? a->speed_back_kmh : a->speed_kmh;
}

/* A node disappears into a chain when exactly two different edges meet there with equal attributes, the same
   drivable directions and the same speeds along the chain, and no restriction refers to it. */
static int mergeable(const builder *b, uint32_t n)
{
    if (b->keep[n] || b->inc_first[n + 1] - b->inc_first[n] != 2)
        return 0;
    uint32_t i0 = b->inc[b->inc_first[n]], i1 = b->inc[b->inc_first[n] + 1];
    if ((i0 >> 1) == (i1 >> 1))
        return 0;
    const raw_edge *re = b->raw.p;
    const raw_edge *e0 = &re[i0 >> 1], *e1 = &re[i1 >> 1];
    if (!same_attrs(b, e0, e1))
        return 0;
    /* travelling into n along e0 then out along e1 */
    uint8_t in = reverse_flags(oriented_flags(b, e0, i0 & 1));
    uint8_t out = oriented_flags(b, e1, i1 & 1);
    /* the speeds that way (into n along e0, out along e1) and the other way (into n along e1, out along e0) */
    int e0_forward_in = (int)(i0 & 1), e1_forward_out = !(i1 & 1);
    return in == out && raw_speed(b, e0, !e0_forward_in) == raw_speed(b, e1, !e1_forward_out) &&
           raw_speed(b, e0, e0_forward_in) == raw_speed(b, e1, e1_forward_out);
}

static int append_points(builder *b, const raw_edge *e, int reversed, int skip_first)
{
    const cv_coord *pts = (const cv_coord *)b->raw_pts.p + e->p0;
    for (uint32_t k = skip_first ? 1 : 0; k < e->np; k++) {
        cv_coord *pp = vec_push(&b->chain_pts);
        if (!pp)
            return CV_ENOMEM;
        *pp = reversed ? pts[e->np - 1 - k] : pts[k];
    }
    return 0;
}

/* Walks from node `start` along raw edge incidence `inc` through mergeable nodes and emits one chain edge. */
static int walk_chain(builder *b, uint32_t start, uint32_t inc, uint8_t *mergeable_node)
{
    raw_edge *re = b->raw.p;
    uint32_t chain_id = (uint32_t)b->chains.n;
    chain_edge ce = {.u = start, .p0 = (uint32_t)b->chain_pts.n};
    uint32_t e = inc >> 1;
    int rev = inc & 1; /* start is the v end: walk the edge backwards */
    ce.way = re[e].way;
    ce.flags = oriented_flags(b, &re[e], rev);
    int first = 1;
    for (;;) {
        if (append_points(b, &re[e], rev, !first))
            return CV_ENOMEM;
        first = 0;
        b->merged_of[e] = chain_id;
        b->merged_rev[e] = (uint8_t)rev;
        ce.len_m += re[e].len_m;
        const cv_way_attr *a = &b->net->ways[re[e].way].attr;
        if ((a->flags & CV_WAY_FERRY) && a->duration_s > 0 && b->way_len[re[e].way] > 0) {
            double dur = a->duration_s * 10.0 * re[e].len_m / b->way_len[re[e].way];
            ce.dur_ds += dur, ce.dur_back_ds += dur;
        } else {
            /* along the chain is against the way when the raw edge is walked backwards */
            ce.dur_ds += re[e].len_m / (raw_speed(b, &re[e], rev) / 3.6) * 10.0;
            ce.dur_back_ds += re[e].len_m / (raw_speed(b, &re[e], !rev) / 3.6) * 10.0;
        }
        uint32_t m = rev ? re[e].u : re[e].v;
        if (m == start || !mergeable_node[m]) {
            ce.v = m;
            break;
        }
        /* continue through m along its other edge */
        uint32_t i0 = b->inc[b->inc_first[m]], i1 = b->inc[b->inc_first[m] + 1];
        uint32_t next = (i0 >> 1) == e ? i1 : i0;
        e = next >> 1;
        rev = next & 1;
        if (b->merged_of[e] != NONE) { /* closed a loop */
            ce.v = m;
            break;
        }
    }
    ce.np = (uint32_t)(b->chain_pts.n - ce.p0);
    chain_edge *slot = vec_push(&b->chains);
    if (!slot)
        return CV_ENOMEM;
    *slot = ce;
    return 0;
}

static int compress_chains(builder *b)
{
    const cv_network *net = b->net;
    uint8_t *mnode = calloc(net->nnodes ? net->nnodes : 1, 1);
    b->merged_of = malloc((b->raw.n ? b->raw.n : 1) * sizeof *b->merged_of);
    b->merged_rev = calloc(b->raw.n ? b->raw.n : 1, 1);
    if (!mnode || !b->merged_of || !b->merged_rev) {
        free(mnode);
        return CV_ENOMEM;
    }
    memset(b->merged_of, 0xff, b->raw.n * sizeof *b->merged_of);
    for (uint32_t n = 0; n < net->nnodes; n++)
        mnode[n] = (uint8_t)mergeable(b, n);
    for (uint32_t n = 0; n < net->nnodes; n++) {
        if (mnode[n])
            continue;
        for (uint32_t k = b->inc_first[n]; k < b->inc_first[n + 1]; k++) {
            uint32_t inc = b->inc[k];
            if (b->merged_of[inc >> 1] != NONE)
                continue;
            if (walk_chain(b, n, inc, mnode)) {
                free(mnode);
                return CV_ENOMEM;
            }
        }
    }
    /* rings made only of mergeable nodes: start anywhere, the start stays a node */
    const raw_edge *re = b->raw.p;
    for (uint32_t e = 0; e < b->raw.n; e++) {
        if (b->merged_of[e] != NONE)
            continue;
        mnode[re[e].u] = 0;
        if (walk_chain(b, re[e].u, e << 1, mnode)) {
            free(mnode);
            return CV_ENOMEM;
        }
    }
    free(mnode);
    return 0;
}

/* A node cars cannot pass through (a bollard, a node with access=no) is cut: every chain edge end there after the
   first gets a node of its own at the same place, so each road reaching it ends there. A route may start or end at
   the barrier, and a snapped point lies on one side of it, never both. */
static int split_blocked(builder *b)
{
    const cv_network *net = b->net;
    chain_edge *ch = b->chains.p;
    uint8_t *used = calloc(net->nnodes ? net->nnodes : 1, 1);
    vec extra = {.elem = sizeof(uint32_t)};
    if (!used)
        return CV_ENOMEM;
    b->nnodes = (uint32_t)net->nnodes;
    for (size_t e = 0; e < b->chains.n; e++)
        for (int end = 0; end < 2; end++) {
            uint32_t *n = end ? &ch[e].v : &ch[e].u;
            if (!b->blocked[*n])
                continue;
            if (!used[*n]) {
                used[*n] = 1;
                b->st->blocked_nodes[b->blocked[*n] == CV_NODE_CLOSED]++;
                continue;
            }
            uint32_t *slot = vec_push(&extra);
            if (!slot || b->nnodes == NONE - 1) {
                free(used), free(extra.p);
                return CV_ENOMEM;
            }
            *slot = *n;
            *n = b->nnodes++;
        }
    free(used);
    b->extra_of = extra.p;
    b->st->blocked_ends = (uint32_t)extra.n;
    return 0;
}

/* Iterative Tarjan over out-arcs. comp[n] gets the component id; returns the count. */
static int strongly_connected(uint32_t n, const uint32_t *first, const cv_arc *arcs, uint32_t *comp, uint32_t *ncomp)
{
    uint32_t *index = malloc((n ? n : 1) * sizeof *index), *low = malloc((n ? n : 1) * sizeof *low);
    uint32_t *stack = malloc((n ? n : 1) * sizeof *stack), *cstack = malloc((n ? n : 1) * sizeof *cstack);
    uint32_t *cpos = malloc((n ? n : 1) * sizeof *cpos);
    uint8_t *on = calloc(n ? n : 1, 1);
    if (!index || !low || !stack || !cstack || !cpos || !on) {
        free(index), free(low), free(stack), free(cstack), free(cpos), free(on);
        return CV_ENOMEM;
    }
    memset(index, 0xff, n * sizeof *index);
    uint32_t next = 0, sp = 0, nc = 0;
    for (uint32_t r = 0; r < n; r++) {
        if (index[r] != NONE)
            continue;
        uint32_t csp = 0;
        cstack[csp] = r;
        cpos[csp++] = first[r];
        index[r] = low[r] = next++;
        stack[sp++] = r;
        on[r] = 1;
        while (csp > 0) {
            uint32_t v = cstack[csp - 1];
            if (cpos[csp - 1] < first[v + 1]) {
                uint32_t w = arcs[cpos[csp - 1]++].node;
                if (index[w] == NONE) {
                    index[w] = low[w] = next++;
                    stack[sp++] = w;
                    on[w] = 1;
                    cstack[csp] = w;
                    cpos[csp++] = first[w];
                } else if (on[w] && index[w] < low[v]) {
                    low[v] = index[w];
                }
                continue;
            }
            csp--;
            if (csp > 0) {
                uint32_t p = cstack[csp - 1];
                if (low[v] < low[p])
                    low[p] = low[v];
            }
            if (low[v] == index[v]) {
                uint32_t w;
                do {
                    w = stack[--sp];
                    on[w] = 0;
                    comp[w] = nc;
                } while (w != v);
                nc++;
            }
        }
    }
    *ncomp = nc;
    free(index), free(low), free(stack), free(cstack), free(cpos), free(on);
    return 0;
}

/* Grid entries (segment, cell) if each segment goes into every cell of its bounding box, for cells of clon by clat
   from (lo_lon, lo_lat); O(segments). */
static uint64_t grid_entries(const uint32_t *efirst, const cv_coord *pts, uint32_t nedges, int32_t lo_lon,
                             int32_t lo_lat, int32_t clon, int32_t clat)
{
    uint64_t n = 0;
    for (uint32_t e = 0; e < nedges; e++)
        for (uint32_t p = efirst[e]; p + 1 < efirst[e + 1]; p++) {
            int64_t a0 = pts[p].lon, a1 = pts[p + 1].lon, b0 = pts[p].lat, b1 = pts[p + 1].lat;
            int64_t dc = (a0 > a1 ? a0 : a1) - lo_lon, cc = (a0 < a1 ? a0 : a1) - lo_lon;
            int64_t dr = (b0 > b1 ? b0 : b1) - lo_lat, rr = (b0 < b1 ? b0 : b1) - lo_lat;
            n += (uint64_t)(dc / clon - cc / clon + 1) * (uint64_t)(dr / clat - rr / clat + 1);
        }
    return n;
}

/* Builds the uniform grid over segments: cells of a size that puts a few segments in each. */
static int build_grid(cv_graph_header *h, const cv_edge *edges, const uint32_t *efirst, const cv_coord *pts,
                      uint32_t nedges, uint32_t **out_first, cv_grid_item **out_items, uint64_t *nitems)
{
    int32_t lo_lon = INT32_MAX, lo_lat = INT32_MAX, hi_lon = INT32_MIN, hi_lat = INT32_MIN;
    uint32_t np = efirst[nedges];
    for (uint32_t i = 0; i < np; i++) {
        if (pts[i].lon < lo_lon)
            lo_lon = pts[i].lon;
        if (pts[i].lat < lo_lat)
            lo_lat = pts[i].lat;
        if (pts[i].lon > hi_lon)
            hi_lon = pts[i].lon;
        if (pts[i].lat > hi_lat)
            hi_lat = pts[i].lat;
    }
    h->bbox[0] = lo_lon, h->bbox[1] = lo_lat, h->bbox[2] = hi_lon, h->bbox[3] = hi_lat;
    double midlat = cv_deg(lo_lat / 2 + hi_lat / 2);
    double mlat = 111195.0, mlon = 111195.0 * cos(midlat * CV_PI / 180.0);
    /* the spans in int64: a graph may reach across more than half the world's longitudes (INT32_MAX is 214.7°) */
    double w_m = ((double)hi_lon - lo_lon) / CV_COORD_SCALE * mlon + 1;
    double h_m = ((double)hi_lat - lo_lat) / CV_COORD_SCALE * mlat + 1;
    double nseg = (double)(np - nedges);
    double side = sqrt(w_m * h_m / (nseg / 3.0 + 1));
    if (side < 60)
        side = 60;
    if (side > 5000)
        side = 5000;
    while ((w_m / side + 2) * (h_m / side + 2) > 16e6)
        side *= 1.5;
    /* A segment goes into every cell of its bounding box: a few long ones across a sparse, wide graph (a corrupt
       file, a fuzzer's; real roads are far shorter than a cell) would take millions of cells each, gigabytes and
       minutes (and the uint32 cell counts could wrap). The cells grow until the entries are a few per segment. */
    uint64_t budget = 8 * (uint64_t)nseg + (1u << 20);
    int32_t clon, clat;
    for (;;) {
        double fl = ceil(side / mlon * CV_COORD_SCALE), fa = ceil(side / mlat * CV_COORD_SCALE);
        clon = fl > INT32_MAX ? INT32_MAX : fl < 1 ? 1 : (int32_t)fl;
        clat = fa > INT32_MAX ? INT32_MAX : fa < 1 ? 1 : (int32_t)fa;
        if (grid_entries(efirst, pts, nedges, lo_lon, lo_lat, clon, clat) <= budget ||
            (clon == INT32_MAX && clat == INT32_MAX))
            break;
        side *= 2;
    }
    uint32_t cols = (uint32_t)(((int64_t)hi_lon - lo_lon) / clon + 1),
             rows = (uint32_t)(((int64_t)hi_lat - lo_lat) / clat + 1);
    h->grid_lon0 = lo_lon, h->grid_lat0 = lo_lat, h->grid_cell_lon = clon, h->grid_cell_lat = clat;
    h->grid_cols = cols, h->grid_rows = rows;
    uint64_t ncells = (uint64_t)cols * rows;
    uint32_t *first = calloc(ncells + 1, sizeof *first);
    if (!first)
        return CV_ENOMEM;
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t e = 0; e < nedges; e++) {
            for (uint32_t p = efirst[e]; p + 1 < efirst[e + 1]; p++) {
                int32_t a0 = pts[p].lon < pts[p + 1].lon ? pts[p].lon : pts[p + 1].lon;
                int32_t a1 = pts[p].lon < pts[p + 1].lon ? pts[p + 1].lon : pts[p].lon;
                int32_t b0 = pts[p].lat < pts[p + 1].lat ? pts[p].lat : pts[p + 1].lat;
                int32_t b1 = pts[p].lat < pts[p + 1].lat ? pts[p + 1].lat : pts[p].lat;
                uint32_t c0 = (uint32_t)(((int64_t)a0 - lo_lon) / clon), c1 = (uint32_t)(((int64_t)a1 - lo_lon) / clon);
                uint32_t r0 = (uint32_t)(((int64_t)b0 - lo_lat) / clat), r1 = (uint32_t)(((int64_t)b1 - lo_lat) / clat);
                for (uint32_t r = r0; r <= r1; r++)
                    for (uint32_t c = c0; c <= c1; c++) {
                        uint64_t cell = (uint64_t)r * cols + c;
                        if (pass == 0)
                            first[cell + 1]++;
                        else
                            (*out_items)[first[cell]++] = (cv_grid_item){e, p};
                    }
            }
        }
        if (pass == 0) {
            for (uint64_t c = 0; c < ncells; c++)
                first[c + 1] += first[c];
            *nitems = first[ncells];
            *out_items = malloc((*nitems ? *nitems : 1) * sizeof **out_items);
            if (!*out_items) {
                free(first);
                return CV_ENOMEM;
            }
        }
    }
    /* the fill pass advanced each cell's start to the next cell's: shift back */
    memmove(first + 1, first, ncells * sizeof *first);
    first[0] = 0;
    (void)edges;
    *out_first = first;
    return 0;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* What the phases of cv_graph_build make once the builder has its chains: the arrays of the graph file, grouped by
   the phase that makes them. Every array is malloc'ed (free_parts frees them). */
typedef struct graph_parts {
    /* numbering: junctions along a Hilbert curve */
    uint32_t *gid;    /* per builder node: its junction id (NONE: not a junction) */
    uint32_t nn;      /* junctions */
    cv_coord *coords; /* per routing node: junctions, then (from the arcs on) their copies */
    /* edges: one per chain, their geometry and names */
    uint32_t nch; /* edges */
    cv_edge *edges;
    uint32_t *efirst;
    cv_coord *pts;
    uint32_t *edge_name;
    cv_street_name *names;
    const char *strings; /* the network's, or an empty table */
    uint32_t nnames, nchars;
    /* turn restrictions */
    cv_restriction *restr;
    uint32_t nr, *restr_arcs, nrarcs;
    /* routing arcs, restricted junctions split */
    cv_arcs_out arcs;
    /* strongly connected components */
    uint32_t *comp, *comp_size, ncomp, largest;
    /* the contraction hierarchy */
    cv_ch_data hier;
    /* the spatial index */
    uint32_t *grid_first;
    cv_grid_item *grid_items;
    uint64_t nitems;
} graph_parts;

static void free_parts(graph_parts *p)
{
    free(p->gid), free(p->efirst), free(p->comp), free(p->comp_size);
    cv_arcs_free(&p->arcs);
    cv_ch_data_free(&p->hier);
    free(p->grid_first), free(p->coords), free(p->pts), free(p->edges), free(p->restr), free(p->restr_arcs);
    free(p->grid_items), free(p->edge_name), free(p->names);
}

/* The network's ways split into raw edges at junctions; CV_EFORMAT when no road is left. */
static int split_network(builder *b)
{
    const cv_network *net = b->net;
    int rc;
    if (b->progress)
        cv_progress_phase(b->progress, "splitting ways");
    if ((rc = mark_junctions(b)) || (rc = split_ways(b)) || (rc = build_incidence(b)))
        return rc;
    if (b->raw.n == 0)
        return cv_fail(b->err, CV_EFORMAT,
                       "no routable road in the input (%llu nodes, %llu ways read, %llu way nodes without a location): "
                       "is it an extract with car roads? if node locations are missing, the file may be cut badly",
                       (unsigned long long)net->input_nodes, (unsigned long long)net->input_ways,
                       (unsigned long long)b->st->missing_nodes);
    return 0;
}

/* Raw edges merged into chains between junctions, then split where a barrier blocks one. */
static int compress_network(builder *b)
{
    int rc;
    if (b->progress)
        cv_progress_phase(b->progress, "compressing chains");
    if ((rc = compress_chains(b)) || (rc = split_blocked(b)))
        return rc;
    return 0;
}

/* Numbers the surviving nodes along a Hilbert curve over the bounding box: p->gid, p->nn, p->coords. */
static int number_junctions(const builder *b, graph_parts *p)
{
    const cv_network *net = b->net;
    const chain_edge *ch = b->chains.p;
    uint32_t nch = (uint32_t)b->chains.n;
    uint32_t *gid = p->gid = malloc((b->nnodes ? b->nnodes : 1) * sizeof *gid);
    cv_key_index *order = malloc((b->nnodes ? b->nnodes : 1) * sizeof *order);
    if (!gid || !order) {
        free(order);
        return CV_ENOMEM;
    }
    memset(gid, 0xff, b->nnodes * sizeof *gid);
    int32_t blo = INT32_MAX, bla = INT32_MAX, bhi = INT32_MIN, bha = INT32_MIN;
    for (uint32_t i = 0; i < net->nnodes; i++) {
        if (net->nodes[i].lon < blo)
            blo = net->nodes[i].lon;
        if (net->nodes[i].lon > bhi)
            bhi = net->nodes[i].lon;
        if (net->nodes[i].lat < bla)
            bla = net->nodes[i].lat;
        if (net->nodes[i].lat > bha)
            bha = net->nodes[i].lat;
    }
    double sx = 65535.0 / ((double)bhi - blo + 1), sy = 65535.0 / ((double)bha - bla + 1);
    uint32_t nn = 0;
    for (uint32_t e = 0; e < nch; e++) {
        uint32_t ends[2] = {ch[e].u, ch[e].v};
        for (int k = 0; k < 2; k++) {
            uint32_t n = ends[k];
            if (gid[n] != NONE)
                continue;
            gid[n] = 0;
            cv_coord at = cv_build_node_loc(b, n);
            order[nn++] = (cv_key_index){
                cv_hilbert16((uint32_t)(((double)at.lon - blo) * sx), (uint32_t)(((double)at.lat - bla) * sy)), n};
        }
    }
    qsort(order, nn, sizeof *order, cv_key_index_cmp);
    cv_coord *coords = p->coords = malloc((nn ? nn : 1) * sizeof *coords);
    if (!coords) {
        free(order);
        return CV_ENOMEM;
    }
    for (uint32_t i = 0; i < nn; i++) {
        gid[order[i].index] = i;
        coords[i] = cv_build_node_loc(b, order[i].index);
    }
    free(order);
    p->nn = nn;
    return 0;
}

/* The final edges, their geometry and their street names. */
static int make_edges(const builder *b, graph_parts *p)
{
    const cv_network *net = b->net;
    const chain_edge *ch = b->chains.p;
    uint32_t nch = p->nch = (uint32_t)b->chains.n;
    const uint32_t *gid = p->gid;
    cv_edge *edges = p->edges = malloc(nch * sizeof *edges);
    uint32_t *efirst = p->efirst = malloc((nch + 1) * sizeof *efirst);
    cv_coord *pts = p->pts = malloc((b->chain_pts.n ? b->chain_pts.n : 1) * sizeof *pts);
    uint32_t *edge_name = p->edge_name = malloc((nch ? nch : 1) * sizeof *edge_name);
    cv_street_name *names = p->names = malloc((net->nnames ? net->nnames : 1) * sizeof *names);
    if (!edges || !efirst || !pts || !edge_name || !names)
        return CV_ENOMEM;
    if (b->chain_pts.n >= NONE)
        return cv_fail(b->err, CV_ETOOBIG, "too many geometry points for one graph");
    memcpy(pts, b->chain_pts.p, b->chain_pts.n * sizeof *pts);
    for (uint32_t e = 0; e < nch; e++) {
        const cv_way_attr *a = &net->ways[ch[e].way].attr;
        double dm = ch[e].len_m * 10.0, ds = ch[e].dur_ds, dsb = ch[e].dur_back_ds;
        edges[e] = (cv_edge){
            .u = gid[ch[e].u],
            .v = gid[ch[e].v],
            .length_dm = dm > 4e9 ? 4000000000u : (uint32_t)lround(dm),
            .duration_ds = ds < 1     ? 1
                           : ds > 4e8 ? 400000000u
                                      : (uint32_t)lround(ds),
            .duration_back_ds = dsb < 1     ? 1
                                : dsb > 4e8 ? 400000000u
                                            : (uint32_t)lround(dsb),
            .flags = (uint8_t)(ch[e].flags | (net->ways[ch[e].way].roundabout ? CV_EDGE_ROUNDABOUT : 0)),
            .road_class = a->road_class,
            .speed_kmh10 = (uint16_t)(a->speed_kmh * 10 > 65535 ? 65535 : a->speed_kmh * 10),
            .way_id_lo = (uint32_t)(uint64_t)net->ways[ch[e].way].id,
        };
        efirst[e] = ch[e].p0;
        edge_name[e] = net->ways[ch[e].way].name < net->nnames ? net->ways[ch[e].way].name : 0;
    }
    /* a network built by hand may have no name table: then every edge is the unnamed street */
    static const char no_strings[1] = "";
    p->strings = net->nstrings ? net->strings : no_strings;
    p->nnames = net->nnames ? (uint32_t)net->nnames : 1, p->nchars = net->nstrings ? (uint32_t)net->nstrings : 1;
    names[0] = (cv_street_name){0, 0, 0};
    for (size_t i = 0; i < net->nnames; i++)
        names[i] = (cv_street_name){net->names[i].name, net->names[i].ref, net->names[i].destination};
    efirst[nch] = (uint32_t)b->chain_pts.n;
    return 0;
}

/* Turn restrictions, resolved on raw edges (where each edge belongs to one way), then mapped to chains. */
static int resolve_restrictions(builder *b, graph_parts *p)
{
    if (b->progress)
        cv_progress_phase(b->progress, "turn restrictions");
    return cv_resolve_restrictions(b, p->edges, &p->restr, &p->nr, &p->restr_arcs, &p->nrarcs);
}

/* Routing arcs, with restricted junctions split; the copies of split junctions get their junction's place. */
static int make_arcs(const builder *b, graph_parts *p)
{
    uint32_t nn = p->nn, nch = p->nch;
    const cv_edge *edges = p->edges;
    /* junctions where exactly two roads meet (a name or a class changes) are split too: a route does not turn
       round in the middle of a road, only where another road gives it a way to (or at a dead end) */
    uint8_t *mid_road = calloc(nn ? nn : 1, 1);
    uint8_t *ends = calloc(nn ? nn : 1, 1);
    if (!mid_road || !ends) {
        free(mid_road), free(ends);
        return CV_ENOMEM;
    }
    for (uint32_t e = 0; e < nch; e++)
        if (edges[e].u != edges[e].v) {
            ends[edges[e].u] += ends[edges[e].u] < 3;
            ends[edges[e].v] += ends[edges[e].v] < 3;
        } else {
            ends[edges[e].u] = 3;
        }
    for (uint32_t j = 0; j < nn; j++)
        if (ends[j] == 2) {
            mid_road[j] = 1;
            b->st->mid_road_junctions++;
        }
    free(ends);
    int rc = cv_build_arcs(edges, nch, nn, p->restr, p->nr, p->restr_arcs, mid_road, &p->arcs);
    free(mid_road);
    if (rc)
        return rc;
    uint32_t NN = p->arcs.nnodes;
    cv_coord *all_coords = realloc(p->coords, (NN ? NN : 1) * sizeof *p->coords);
    if (!all_coords)
        return CV_ENOMEM;
    p->coords = all_coords;
    for (uint32_t i = nn; i < NN; i++)
        p->coords[i] = p->coords[p->arcs.copy_of[i - nn]];
    return 0;
}

/* Strongly connected components of the routing nodes, their sizes and the largest. */
static int find_components(const builder *b, graph_parts *p)
{
    if (b->progress)
        cv_progress_phase(b->progress, "components");
    uint32_t NN = p->arcs.nnodes;
    p->comp = malloc((NN ? NN : 1) * sizeof *p->comp);
    if (!p->comp)
        return CV_ENOMEM;
    int rc;
    if ((rc = strongly_connected(NN, p->arcs.out_first, p->arcs.out_arcs, p->comp, &p->ncomp)))
        return rc;
    p->comp_size = calloc(p->ncomp ? p->ncomp : 1, sizeof *p->comp_size);
    if (!p->comp_size)
        return CV_ENOMEM;
    p->largest = 0;
    for (uint32_t i = 0; i < NN; i++)
        p->comp_size[p->comp[i]]++;
    for (uint32_t c = 0; c < p->ncomp; c++)
        if (p->comp_size[c] > p->comp_size[p->largest])
            p->largest = c;
    return 0;
}

/* The contraction hierarchy over the routing arcs (cv_ch_build announces its own phases). */
static int contract(const builder *b, graph_parts *p)
{
    return cv_ch_build(p->arcs.nnodes, p->arcs.out_first, p->arcs.out_arcs, p->edges, b->progress, &p->hier);
}

/* The spatial index over the edges' segments; sets the header's bounding box and grid. */
static int index_segments(const builder *b, graph_parts *p, cv_graph_header *h)
{
    if (b->progress)
        cv_progress_phase(b->progress, "spatial index");
    return build_grid(h, p->edges, p->efirst, p->pts, p->nch, &p->grid_first, &p->grid_items, &p->nitems);
}

/* The rest of the header, and the graph file written to out_path. */
static int write_graph(const builder *b, const graph_parts *p, cv_graph_header *h, const char *source_name,
                       const char *out_path)
{
    const cv_network *net = b->net;
    const cv_arcs_out *arcs = &p->arcs;
    const cv_ch_data *hier = &p->hier;
    h->profile_version = CV_PROFILE_VERSION;
    h->nnodes = arcs->nnodes;
    h->njunctions = p->nn;
    h->nsplits = arcs->nsplits;
    h->nch_up = hier->nup;
    h->nch_down = hier->ndown;
    h->nch_arcs = hier->narcs;
    h->nch_shortcuts = hier->nshortcuts;
    h->nedges = p->nch;
    h->narcs = arcs->narcs;
    h->npoints = (uint32_t)b->chain_pts.n;
    h->nrestrictions = p->nr;
    h->nrestriction_arcs = p->nrarcs;
    h->nsplit_in = arcs->nsplit_in;
    h->nnames = p->nnames;
    h->nname_chars = p->nchars;
    h->ncomponents = p->ncomp;
    h->largest_component = p->largest;
    h->input_nodes = net->input_nodes;
    h->input_ways = net->input_ways;
    h->input_relations = net->input_relations;
    h->created_unix = (int64_t)time(NULL);
    snprintf(h->source, sizeof h->source, "%s", base_name(source_name));
    snprintf(h->osm_timestamp, sizeof h->osm_timestamp, "%s", net->header.timestamp);
    cv_graph_arrays arr = {
        p->coords,      p->comp,        p->comp_size,   p->edges,      p->efirst,        p->pts,        arcs->out_first,
        arcs->out_arcs, arcs->in_first, arcs->in_arcs,  p->restr,      p->grid_first,    p->grid_items, p->nitems,
        arcs->splits,   hier->rank,     hier->up_first, hier->up,      hier->down_first, hier->down,    hier->arcs,
        p->edge_name,   p->names,       p->strings,     p->restr_arcs, arcs->split_in};
    if (b->progress)
        cv_progress_phase(b->progress, "writing");
    int rc = cv_graph_write(out_path, h, &arr, b->err);
    if (rc)
        return rc;
    if (b->progress)
        cv_progress_done(b->progress);
    return 0;
}

/* The summary of what was built, once the file is written. */
static void count_built(cv_build_stats *st, const graph_parts *p, const cv_graph_header *h, const char *out_path)
{
    struct stat sst;
    if (stat(out_path, &sst) == 0)
        st->file_size = (uint64_t)sst.st_size;
    uint32_t NN = p->arcs.nnodes;
    st->nodes = NN;
    st->junctions = p->nn;
    st->split_junctions = p->arcs.nsplits;
    st->edges = p->nch;
    st->arcs = p->arcs.narcs;
    st->points = h->npoints;
    st->restrictions = p->nr;
    st->restriction_states = p->arcs.nstates;
    st->restrictions_dropped = st->restrictions_malformed + st->restrictions_off_graph + st->restrictions_ambiguous;
    st->components = p->ncomp;
    st->shortcuts = p->hier.nshortcuts;
    st->largest_component_nodes = NN ? p->comp_size[p->largest] : 0;
}

int cv_graph_build(const cv_network *net, const char *source_name, const char *out_path, cv_progress *progress,
                   cv_build_stats *stats, cv_error *err)
{
    cv_build_stats st_local;
    cv_build_stats *st = stats ? stats : &st_local;
    memset(st, 0, sizeof *st);
    st->input_nodes = net->input_nodes;
    st->input_ways = net->input_ways;
    st->input_relations = net->input_relations;
    st->routable_ways = net->nways;
    st->restrictions_malformed = net->restrictions_skipped;
    memcpy(st->closed_ways, net->closed_ways, sizeof st->closed_ways);
    memcpy(st->rule_ways, net->rule_ways, sizeof st->rule_ways);
    builder b = {.net = net, .progress = progress, .st = st, .err = err};
    b.raw.elem = sizeof(raw_edge);
    b.raw_pts.elem = sizeof(cv_coord);
    b.chains.elem = sizeof(chain_edge);
    b.chain_pts.elem = sizeof(cv_coord);
    graph_parts p = {0};
    cv_graph_header h;
    memset(&h, 0, sizeof h);
    int rc;
    if ((rc = split_network(&b)) || (rc = compress_network(&b)) || (rc = number_junctions(&b, &p)) ||
        (rc = make_edges(&b, &p)) || (rc = resolve_restrictions(&b, &p)) || (rc = make_arcs(&b, &p)) ||
        (rc = find_components(&b, &p)) || (rc = contract(&b, &p)) || (rc = index_segments(&b, &p, &h)) ||
        (rc = write_graph(&b, &p, &h, source_name, out_path)))
        goto done;
    count_built(st, &p, &h, out_path);

done:
    if (rc == CV_ENOMEM)
        cv_fail(err, rc, "out of memory while building the graph");
    free(b.ref_node), free(b.is_junction), free(b.keep), free(b.blocked), free(b.raw.p), free(b.raw_pts.p);
    free(b.way_len), free(b.way_first_raw), free(b.way_nraw), free(b.merged_rev), free(b.extra_of);
    free(b.way_index);
    free(b.inc_first), free(b.inc), free(b.chains.p), free(b.chain_pts.p), free(b.merged_of);
    free_parts(&p);
    return rc;
}
