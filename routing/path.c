/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* path.c — what every router (Dijkstra, the hierarchy, hub labels) shares about a route between snapped points:
   the seeds its searches start and end with, the ride along a single edge, a path's arcs buffer and totals, and
   its geometry with the running sums per point. */
#include "routing/path.h"

#include <stdlib.h>

#define NONE UINT32_MAX

void cv_path_free(cv_path *p)
{
    free(p->arcs);
    p->arcs = NULL;
    p->narcs = p->cap = 0;
}

int cv_path_reserve(cv_path *p, size_t n)
{
    if (p->narcs + n <= p->cap)
        return 0;
    size_t nc = p->cap ? p->cap * 2 : 64;
    while (nc < p->narcs + n)
        nc *= 2;
    uint32_t *a = realloc(p->arcs, nc * sizeof *a);
    if (!a)
        return CV_ENOMEM;
    p->arcs = a;
    p->cap = nc;
    return 0;
}

uint32_t cv_arc_penalty(const cv_graph *g, uint32_t tail, uint32_t edge_dir)
{
    for (uint32_t k = g->a.out_first[tail]; k < g->a.out_first[tail + 1]; k++)
        if (g->a.out_arcs[k].edge == edge_dir)
            return g->a.out_arcs[k].weight - cv_edge_duration(&g->a.edges[edge_dir >> 1], edge_dir & 1);
    return 0;
}

static uint32_t add_seed(cv_seed *out, uint32_t n, uint32_t max, cv_seed sd)
{
    for (uint32_t k = 0; k < n; k++)
        if (out[k].node == sd.node) {
            if (sd.weight < out[k].weight)
                out[k] = sd;
            return n;
        }
    if (n < max)
        out[n++] = sd;
    return n;
}

/* A snapped point on an end node of its edge (within rounding of both its length and its travel time, which
   disagree on an edge of zero length): that junction, else NONE. */
static uint32_t at_junction(const cv_graph *g, const cv_snap *s, int *at_v)
{
    const cv_edge *e = &g->a.edges[s->edge];
    if (s->from_u_dm == 0 && s->from_u_ds == 0 && s->to_u_ds == 0) {
        *at_v = 0;
        return e->u;
    }
    if (s->to_v_dm == 0 && s->to_v_ds == 0 && s->from_v_ds == 0) {
        *at_v = 1;
        return e->v;
    }
    return NONE;
}

uint32_t cv_source_seeds(const cv_graph *g, const cv_snap *s, cv_seed *out, uint32_t max)
{
    const cv_edge *e = &g->a.edges[s->edge];
    uint32_t n = 0;
    int at_v;
    uint32_t j = at_junction(g, s, &at_v), copies[CV_MAX_SEEDS];
    /* on a junction the route leaves it by any arc, each with its own penalty: the edge the snap happened to
       pick (say a private lane) must not lend its "already inside" start */
    if (j != NONE) {
        uint32_t nc = cv_graph_node_copies(g, j, copies, CV_MAX_SEEDS);
        for (uint32_t k = 0; k < nc; k++)
            n = add_seed(out, n, max, (cv_seed){copies[k], 0, 0, 0, at_v});
        return n;
    }
    if (e->flags & CV_EDGE_FORWARD)
        n = add_seed(out, n, max, (cv_seed){cv_graph_arc_head(g, s->edge << 1), s->to_v_ds, s->to_v_ds, s->to_v_dm, 1});
    if (e->flags & CV_EDGE_BACKWARD)
        n = add_seed(out, n, max,
                     (cv_seed){cv_graph_arc_head(g, s->edge << 1 | 1), s->to_u_ds, s->to_u_ds, s->from_u_dm, 0});
    return n;
}

uint32_t cv_target_seeds(const cv_graph *g, const cv_snap *t, cv_seed *out, uint32_t max)
{
    const cv_edge *e = &g->a.edges[t->edge];
    uint32_t n = 0, tails[CV_MAX_SEEDS];
    int at_v;
    uint32_t j = at_junction(g, t, &at_v);
    if (j != NONE) { /* arriving at the junction by any arc ends the route */
        uint32_t nc = cv_graph_node_copies(g, j, tails, CV_MAX_SEEDS);
        for (uint32_t k = 0; k < nc; k++)
            n = add_seed(out, n, max, (cv_seed){tails[k], 0, 0, 0, !at_v});
        return n;
    }
    for (uint32_t dir = 0; dir < 2; dir++) {
        if (!(e->flags & (dir ? CV_EDGE_BACKWARD : CV_EDGE_FORWARD)))
            continue;
        uint32_t code = t->edge << 1 | dir;
        uint32_t nt = cv_graph_arc_tails(g, code, tails, CV_MAX_SEEDS);
        uint32_t dur = dir ? t->from_v_ds : t->from_u_ds, len = dir ? t->to_v_dm : t->from_u_dm;
        for (uint32_t k = 0; k < nt && k < CV_MAX_SEEDS; k++)
            n = add_seed(out, n, max, (cv_seed){tails[k], dur + cv_arc_penalty(g, tails[k], code), dur, len, !dir});
    }
    return n;
}

uint64_t cv_path_direct_weight(const cv_graph *g, const cv_snap *s, const cv_snap *t)
{
    if (s->edge != t->edge)
        return UINT64_MAX;
    const cv_edge *e = &g->a.edges[s->edge];
    double ps = s->point + s->t, pt = t->point + t->t;
    uint64_t best = UINT64_MAX;
    if ((e->flags & CV_EDGE_FORWARD) && ps <= pt)
        best = t->from_u_ds > s->from_u_ds ? t->from_u_ds - s->from_u_ds : 0;
    if ((e->flags & CV_EDGE_BACKWARD) && ps >= pt) {
        uint64_t c = s->to_u_ds > t->to_u_ds ? s->to_u_ds - t->to_u_ds : 0;
        if (c < best)
            best = c;
    }
    return best;
}

int cv_path_finish(const cv_graph *g, cv_path *p)
{
    const cv_snap *s = &p->src, *t = &p->dst;
    if (p->direct) {
        /* along the edge forwards when it may be driven so, else backwards (as cv_path_direct_weight chose) */
        const cv_edge *e = &g->a.edges[s->edge];
        int fwd = (e->flags & CV_EDGE_FORWARD) && s->point + s->t <= t->point + t->t;
        p->duration_ds = fwd ? (t->from_u_ds > s->from_u_ds ? t->from_u_ds - s->from_u_ds : 0)
                             : (s->to_u_ds > t->to_u_ds ? s->to_u_ds - t->to_u_ds : 0);
        p->distance_dm = s->from_u_dm > t->from_u_dm ? s->from_u_dm - t->from_u_dm : t->from_u_dm - s->from_u_dm;
        return 0;
    }
    uint64_t dur = (p->src_forward ? s->to_v_ds : s->to_u_ds) + (p->dst_forward ? t->from_u_ds : t->from_v_ds);
    uint64_t dist = (p->src_forward ? s->to_v_dm : s->from_u_dm) + (p->dst_forward ? t->from_u_dm : t->to_v_dm);
    for (size_t i = 0; i < p->narcs; i++) {
        const cv_edge *e = &g->a.edges[p->arcs[i] >> 1];
        dur += cv_edge_duration(e, p->arcs[i] & 1);
        dist += e->length_dm;
    }
    p->duration_ds = dur > UINT32_MAX ? UINT32_MAX : (uint32_t)dur;
    p->distance_dm = dist > UINT32_MAX ? UINT32_MAX : (uint32_t)dist;
    return 0;
}

/* Points of a route's geometry as they are walked. With part kept, each point also records the part of the path
   that put it: 0 the first edge's (from the snapped source), 1 + i arc i, narcs + 1 the last edge's. */
typedef struct geom_buf {
    cv_coord *pts;
    uint32_t *part; /* NULL unless keep_parts */
    size_t n, cap;
    int keep_parts;
    uint32_t cur; /* the part being walked */
} geom_buf;

static int put_pt(geom_buf *b, cv_coord c)
{
    if (b->n > 0 && b->pts[b->n - 1].lon == c.lon && b->pts[b->n - 1].lat == c.lat)
        return 0;
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 64;
        cv_coord *q = realloc(b->pts, nc * sizeof *q);
        if (!q)
            return CV_ENOMEM;
        b->pts = q;
        if (b->keep_parts) {
            uint32_t *k = realloc(b->part, nc * sizeof *k);
            if (!k)
                return CV_ENOMEM;
            b->part = k;
        }
        b->cap = nc;
    }
    if (b->keep_parts)
        b->part[b->n] = b->cur;
    b->pts[b->n++] = c;
    return 0;
}

/* Appends the part of edge e's geometry between positions a and b (global point index + t), in travel order. */
static int put_edge_part(const cv_graph *g, uint32_t e, double a, double b, geom_buf *out)
{
    uint32_t first = g->a.edge_first_point[e], last = g->a.edge_first_point[e + 1] - 1;
    const cv_coord *P = g->a.points;
    if (a <= b) {
        for (uint32_t p = first; p <= last; p++)
            if ((double)p > a && (double)p < b && put_pt(out, P[p]))
                return CV_ENOMEM;
    } else {
        for (uint32_t p = last + 1; p-- > first;)
            if ((double)p < a && (double)p > b && put_pt(out, P[p]))
                return CV_ENOMEM;
    }
    return 0;
}

/* The geometry of p into b (consecutive duplicates removed), each point tagged with its part when b keeps them. */
static int walk_geometry(const cv_graph *g, const cv_path *p, geom_buf *b)
{
    const cv_snap *s = &p->src, *t = &p->dst;
    double ps = s->point + s->t, pt = t->point + t->t;
    b->cur = 0;
    int rc = put_pt(b, s->location);
    if (!rc && p->direct) {
        rc = put_edge_part(g, s->edge, ps, pt, b);
    } else if (!rc) {
        uint32_t sf = g->a.edge_first_point[s->edge], sl = g->a.edge_first_point[s->edge + 1] - 1;
        rc = put_edge_part(g, s->edge, ps, p->src_forward ? (double)sl + 1 : (double)sf - 1, b);
        for (size_t i = 0; !rc && i < p->narcs; i++) {
            uint32_t e = p->arcs[i] >> 1;
            double f = g->a.edge_first_point[e], l = g->a.edge_first_point[e + 1] - 1;
            b->cur = (uint32_t)i + 1;
            rc = (p->arcs[i] & 1) ? put_edge_part(g, e, l + 1, f - 1, b) : put_edge_part(g, e, f - 1, l + 1, b);
        }
        uint32_t tf = g->a.edge_first_point[t->edge], tl = g->a.edge_first_point[t->edge + 1] - 1;
        b->cur = (uint32_t)p->narcs + 1;
        if (!rc)
            rc = put_edge_part(g, t->edge, p->dst_forward ? (double)tf - 1 : (double)tl + 1, pt, b);
    }
    if (!rc)
        rc = put_pt(b, t->location);
    return rc;
}

int cv_path_geometry(const cv_graph *g, const cv_path *p, cv_coord **out, size_t *nout)
{
    geom_buf b = {0};
    int rc = walk_geometry(g, p, &b);
    if (rc) {
        free(b.pts);
        return rc;
    }
    *out = b.pts;
    *nout = b.n;
    return 0;
}

/* Part k of a path (numbered as in geom_buf): its edge and the duration and length travelled on it, the same
   shares that cv_path_finish adds (partial from and to the snapped points). */
static void path_part(const cv_graph *g, const cv_path *p, size_t k, uint32_t *edge, uint32_t *dur, uint32_t *dist)
{
    const cv_snap *s = &p->src, *t = &p->dst;
    if (p->direct) {
        *edge = s->edge, *dur = p->duration_ds, *dist = p->distance_dm;
    } else if (k == 0) {
        *edge = s->edge;
        *dur = p->src_forward ? s->to_v_ds : s->to_u_ds;
        *dist = p->src_forward ? s->to_v_dm : s->from_u_dm;
    } else if (k <= p->narcs) {
        *edge = p->arcs[k - 1] >> 1;
        *dur = cv_edge_duration(&g->a.edges[*edge], p->arcs[k - 1] & 1);
        *dist = g->a.edges[*edge].length_dm;
    } else {
        *edge = t->edge;
        *dur = p->dst_forward ? t->from_u_ds : t->from_v_ds;
        *dist = p->dst_forward ? t->from_u_dm : t->to_v_dm;
    }
}

int cv_path_points(const cv_graph *g, const cv_path *p, cv_path_point **out, size_t *nout)
{
    geom_buf b = {.keep_parts = 1};
    int rc = walk_geometry(g, p, &b);
    cv_path_point *pp = rc ? NULL : malloc(b.n * sizeof *pp);
    if (!pp) {
        free(b.pts), free(b.part);
        return CV_ENOMEM;
    }
    size_t nparts = p->direct ? 1 : p->narcs + 2;
    uint32_t penalty = p->weight > p->duration_ds ? p->weight - p->duration_ds : 0;
    /* the running sums at the end of the parts walked so far: exact integers */
    uint64_t dur_end = 0, dist_end = 0;
    double pen = 0;         /* the penalty once the route has entered the no-through road */
    int pending = 0;        /* the penalty is due on the next step of the geometry */
    size_t i = 1, last = 0; /* next point to place; the last point placed */
    pp[0] = (cv_path_point){b.pts[0], 0, 0, 0};
    int prev_no_through = 0;
    for (size_t k = 0; k < nparts; k++) {
        uint32_t e, dur, dist;
        path_part(g, p, k, &e, &dur, &dist);
        dur_end += dur, dist_end += dist;
        int no_through = !!(g->a.edges[e].flags & CV_EDGE_NO_THROUGH);
        if (k > 0 && no_through && !prev_no_through && penalty && !pen)
            pending = 1;
        prev_no_through = no_through;
        size_t j = i;
        while (j < b.n && b.part[j] == k)
            j++;
        if (j == i)
            continue; /* no point of its own (the snapped point is the junction): the next part carries it */
        /* points i..j-1 share what is left to reach the end of the part in proportion to length from `last` */
        double len = 0;
        for (size_t q = i; q < j; q++)
            len += cv_distance_m(b.pts[q - 1], b.pts[q]);
        double d0 = pp[last].duration_ds, l0 = pp[last].distance_dm, acc = 0;
        if (pending)
            pen = penalty, pending = 0;
        for (size_t q = i; q < j; q++) {
            acc += cv_distance_m(b.pts[q - 1], b.pts[q]);
            double f = q + 1 == j || len <= 0 ? 1.0 : acc / len;
            double d = q + 1 == j ? (double)dur_end : d0 + f * ((double)dur_end - d0);
            double l = q + 1 == j ? (double)dist_end : l0 + f * ((double)dist_end - l0);
            pp[q] = (cv_path_point){b.pts[q], d, l, d + pen};
        }
        last = j - 1;
        i = j;
    }
    /* parts with no point of their own at the end, and a penalty never placed, go to the last step */
    pp[b.n - 1].duration_ds = (double)p->duration_ds;
    pp[b.n - 1].distance_dm = (double)p->distance_dm;
    pp[b.n - 1].weight = (double)p->duration_ds + penalty;
    free(b.pts), free(b.part);
    *out = pp;
    *nout = b.n;
    return 0;
}
