/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* restrict_resolve.c — import time: OSM turn restrictions (from way, via node or via ways, to way) turned into
   sequences of arcs of the built graph, which turns.c compiles into the routing graph.

   The from way must meet the via at one of its ends, the via ways must form one chain, and the to way must leave
   the chain's far end. A from or to way that passes through its via node instead of ending there (invalid tagging,
   but common) has two candidate arcs: the direction the restriction names (no_left_turn: left) picks one, and the
   restriction is dropped as ambiguous when it does not. An only_* restriction onto an arc no car can drive still
   forbids every other turn, as OSRM reads it. */
#include <math.h>
#include <string.h>

#include "routing/geo.h"
#include "routing/graph_build_int.h"
#include "routing/path.h"

#define NONE UINT32_MAX
#define MAX_CAND 8
#define MAX_PATH 256

/* A raw edge travelled from one of its ends: e, and whether it goes from its v to its u. */
typedef struct step {
    uint32_t e;
    uint8_t rev;
} step;

static uint8_t raw_flags(const builder *b, const raw_edge *e)
{
    return b->net->ways[e->way].attr.flags;
}

/* Can raw edge s.e be driven in the direction of s? */
static int drivable(const builder *b, step s)
{
    const raw_edge *e = &((const raw_edge *)b->raw.p)[s.e];
    return (raw_flags(b, e) & (s.rev ? CV_WAY_BACKWARD : CV_WAY_FORWARD)) != 0;
}

static uint32_t step_head(const builder *b, step s)
{
    const raw_edge *e = &((const raw_edge *)b->raw.p)[s.e];
    return s.rev ? e->u : e->v;
}

/* Bearing in degrees (0 north, clockwise) from a to c. */
static double bearing(cv_coord a, cv_coord c)
{
    double la1 = cv_deg(a.lat) * CV_PI / 180, la2 = cv_deg(c.lat) * CV_PI / 180;
    double dl = (cv_deg(c.lon) - cv_deg(a.lon)) * CV_PI / 180;
    double y = sin(dl) * cos(la2), x = cos(la1) * sin(la2) - sin(la1) * cos(la2) * cos(dl);
    return atan2(y, x) * 180 / CV_PI;
}

/* The turn from arriving along `in` to leaving along `out` at their common node, in degrees (-180, 180]: positive
   to the right. Measured on the points next to the node. */
static double turn_angle(const builder *b, step in, step out)
{
    const raw_edge *re = b->raw.p;
    const cv_coord *pts = b->raw_pts.p;
    const raw_edge *x = &re[in.e], *y = &re[out.e];
    cv_coord at = in.rev ? pts[x->p0] : pts[x->p0 + x->np - 1];
    cv_coord before = in.rev ? pts[x->p0 + 1] : pts[x->p0 + x->np - 2];
    cv_coord after = out.rev ? pts[y->p0 + y->np - 2] : pts[y->p0 + 1];
    double a = bearing(at, after) - bearing(before, at);
    while (a <= -180)
        a += 360;
    while (a > 180)
        a -= 360;
    return a;
}

/* How far a turn angle is from the direction a restriction names (0: exactly), or a large value when it is not that
   kind of turn at all. */
static double turn_misfit(double a, uint8_t turn)
{
    switch (turn) {
    case CV_TURN_LEFT:
        return a < -20 && a > -170 ? fabs(a + 90) : 1e9;
    case CV_TURN_RIGHT:
        return a > 20 && a < 170 ? fabs(a - 90) : 1e9;
    case CV_TURN_STRAIGHT:
        return fabs(a) < 60 ? fabs(a) : 1e9;
    case CV_TURN_UTURN:
        return fabs(a) > 120 ? 180 - fabs(a) : 1e9;
    default:
        return 1e9;
    }
}

/* The raw edges of way w touching node n, each as travelled into n (into = 1) or out of n. */
static int edges_at(const builder *b, uint32_t w, uint32_t n, int into, step *out)
{
    const raw_edge *re = b->raw.p;
    int k = 0;
    for (uint32_t i = b->inc_first[n]; i < b->inc_first[n + 1] && k < MAX_CAND; i++) {
        uint32_t e = b->inc[i] >> 1, at_v = b->inc[i] & 1;
        if (re[e].way != w)
            continue;
        /* arriving at its v end means travelling u to v (not reversed) */
        out[k++] = (step){e, (uint8_t)(into ? !at_v : at_v)};
    }
    return k;
}

/* Node index of way w's first (end 0) or last (end 1) located reference. */
static uint32_t way_end(const builder *b, uint32_t w, int end)
{
    const cv_net_way *way = &b->net->ways[w];
    const uint32_t *r = b->ref_node + way->first_ref;
    if (end) {
        for (uint32_t i = way->nrefs; i-- > 0;)
            if (r[i] != NONE)
                return r[i];
    } else {
        for (uint32_t i = 0; i < way->nrefs; i++)
            if (r[i] != NONE)
                return r[i];
    }
    return NONE;
}

/* The raw edges of way w in order from its end node `from` to its other end (w's raw edges are consecutive), or
   -1 when the way is cut (a missing location) or is a closed loop. */
static int way_path(const builder *b, uint32_t w, uint32_t from, step *out, int max)
{
    const raw_edge *re = b->raw.p;
    uint32_t f = b->way_first_raw[w], n = b->way_nraw[w];
    if (n == 0 || (int)n > max || way_end(b, w, 0) == way_end(b, w, 1))
        return -1;
    int rev = re[f].u != from;
    if (rev && re[f + n - 1].v != from)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t e = rev ? f + n - 1 - i : f + i;
        out[i] = (step){e, (uint8_t)rev};
        if (i && step_head(b, out[i - 1]) != (rev ? re[e].v : re[e].u))
            return -1; /* a gap: the way was cut where a location is missing */
    }
    return (int)n;
}

typedef enum { PLACED = 0, OFF_GRAPH, AMBIGUOUS } outcome;

/* Picks the one (from, to) pair among the candidates: the only one, or the one the named direction fits clearly
   best. Returns PLACED with *fi, *ti set, or AMBIGUOUS / OFF_GRAPH. */
static outcome pick_pair(const builder *b, const step *fc, int nf, const step *tc, int nt, uint8_t turn, int *fi,
                         int *ti)
{
    if (nf == 0 || nt == 0)
        return OFF_GRAPH;
    if (nf == 1 && nt == 1) {
        *fi = *ti = 0;
        return PLACED;
    }
    double best = 1e9, second = 1e9;
    for (int i = 0; i < nf; i++)
        for (int j = 0; j < nt; j++) {
            double m = turn_misfit(turn_angle(b, fc[i], tc[j]), turn);
            if (m < best) {
                second = best, best = m;
                *fi = i, *ti = j;
            } else if (m < second) {
                second = m;
            }
        }
    return best < 1e8 && (second >= 1e8 || second - best >= 30) ? PLACED : AMBIGUOUS;
}

/* Chain arc code of raw step s. */
static uint32_t chain_code(const builder *b, step s)
{
    return b->merged_of[s.e] << 1 | (uint32_t)(s.rev ^ b->merged_rev[s.e]);
}

static uint32_t arc_tail(const cv_edge *edges, uint32_t code)
{
    return code & 1 ? edges[code >> 1].v : edges[code >> 1].u;
}

static uint32_t arc_head(const cv_edge *edges, uint32_t code)
{
    return code & 1 ? edges[code >> 1].u : edges[code >> 1].v;
}

/* Walks the via ways in the relation's order (as OSM asks them to be) from node `at`, each driven from the end the
   walk is at to its other end, and ending where the to way touches. Returns the number of steps written to out,
   or -1 when the chain breaks, a via way is listed twice, or a via way cannot be driven that way. */
static int via_chain(const builder *b, const uint32_t *vw, uint32_t nvia, uint32_t at, uint32_t tw, step *out, int max)
{
    int n = 0;
    for (uint32_t k = 0; k < nvia; k++) {
        for (uint32_t q = 0; q < k; q++)
            if (vw[q] == vw[k])
                return -1;
        if (way_end(b, vw[k], 0) != at && way_end(b, vw[k], 1) != at)
            return -1;
        int m = way_path(b, vw[k], at, out + n, max - n);
        if (m < 0)
            return -1;
        for (int i = 0; i < m; i++)
            if (!drivable(b, out[n + i]) || b->blocked[step_head(b, out[n + i])])
                return -1; /* no car drives the via path that way: the restriction never applies */
        n += m;
        at = step_head(b, out[n - 1]);
    }
    for (uint32_t i = b->inc_first[at]; i < b->inc_first[at + 1]; i++)
        if (((const raw_edge *)b->raw.p)[b->inc[i] >> 1].way == tw)
            return n;
    return -1;
}

/* Resolves one restriction into raw steps: path[0] the from step, then the via steps, then the to step. Returns the
   number of steps, or -OFF_GRAPH / -AMBIGUOUS. */
static int resolve_one(const builder *b, const cv_net_restriction *r, step *path)
{
    const cv_network *net = b->net;
    uint32_t fw = cv_build_way(b, r->from_way), tw = cv_build_way(b, r->to_way);
    if (fw == NONE || tw == NONE)
        return -OFF_GRAPH;
    step fc[MAX_CAND], tc[MAX_CAND];
    int fi = 0, ti = 0, n = 0;
    if (r->via_node) {
        const cv_net_node *vn = cv_network_node(net, r->via_node);
        uint32_t via = vn ? (uint32_t)(vn - net->nodes) : NONE;
        if (via == NONE || b->blocked[via])
            return -OFF_GRAPH;
        /* the part of a way through the via node is chosen by geometry first, drivable or not: a one-way part
           that cannot be driven is still the part the mapper meant, and the restriction then forbids nothing */
        int nf = edges_at(b, fw, via, 1, fc), nt = edges_at(b, tw, via, 0, tc);
        outcome o = pick_pair(b, fc, nf, tc, nt, r->turn, &fi, &ti);
        if (o != PLACED)
            return -(int)o;
        path[0] = fc[fi], path[1] = tc[ti];
        /* a from arc no car drives never triggers it; a no_* onto an arc no car drives forbids nothing (an only_*
           still forbids every other turn) */
        if (!drivable(b, path[0]) || (r->kind == CV_RESTR_NO && !drivable(b, path[1])))
            return -OFF_GRAPH;
        return 2;
    }
    /* via ways: find where the from way meets them, then walk the chain of via ways */
    uint32_t nvia = r->nvia, vw[32];
    if (nvia == 0 || nvia > 32) /* neither a via node nor via ways: nothing to resolve (and vw[0] unset) */
        return -OFF_GRAPH;
    for (uint32_t k = 0; k < nvia; k++)
        if ((vw[k] = cv_build_way(b, net->via_ways[r->via_first + k])) == NONE)
            return -OFF_GRAPH;
    /* the from way meets the first via way at one of its ends */
    uint32_t start = NONE;
    int nstart = 0;
    for (int end = 0; end < 2; end++) {
        uint32_t a = way_end(b, fw, end);
        if (a != NONE && (way_end(b, vw[0], 0) == a || way_end(b, vw[0], 1) == a)) {
            if (start != a)
                nstart++;
            start = a;
        }
    }
    if (nstart != 1)
        return nstart ? -AMBIGUOUS : -OFF_GRAPH;
    int nf = edges_at(b, fw, start, 1, fc);
    if (nf > 1)
        return -AMBIGUOUS;
    if (nf != 1 || !drivable(b, fc[0]) || b->blocked[start])
        return -OFF_GRAPH;
    path[n++] = fc[0];
    int m = via_chain(b, vw, nvia, start, tw, path + n, MAX_PATH - 2 - n);
    if (m < 0)
        return -OFF_GRAPH;
    n += m;
    uint32_t at = step_head(b, path[n - 1]);
    int nt = edges_at(b, tw, at, 0, tc);
    step last = path[n - 1];
    outcome o = pick_pair(b, &last, 1, tc, nt, r->turn, &fi, &ti);
    if (o != PLACED)
        return -(int)o;
    path[n++] = tc[ti];
    if (r->kind == CV_RESTR_NO && !drivable(b, tc[ti]))
        return -OFF_GRAPH;
    return n;
}

/* A split junction has one routing node per arriving arc, one per longer restriction prefix ending there and maybe
   one for starts; a search seeds every one of them for a point on the junction, CV_MAX_SEEDS at the most. A
   junction that would need more (none in real data: it takes some 60 roads, or as many via-way restrictions
   ending there) keeps none of the restrictions that would split it, counted off the graph. */
static int drop_crowded(builder *b, const cv_edge *edges, const uint32_t *arcs, cv_restriction *r, size_t *nr)
{
    uint32_t nj = 0;
    for (size_t i = 0; i < b->chains.n; i++) {
        if (edges[i].u + 1 > nj)
            nj = edges[i].u + 1;
        if (edges[i].v + 1 > nj)
            nj = edges[i].v + 1;
    }
    uint32_t *need = calloc(nj ? nj : 1, sizeof *need);
    if (!need)
        return CV_ENOMEM;
    for (size_t e = 0; e < b->chains.n; e++) /* arriving arcs */
        for (uint32_t d = 0; d < 2; d++)
            if (edges[e].flags & (d ? CV_EDGE_BACKWARD : CV_EDGE_FORWARD))
                need[d ? edges[e].u : edges[e].v]++;
    for (size_t i = 0; i < *nr; i++) /* longer prefixes (an upper bound: shared ones are counted again) */
        for (uint32_t k = 1; k + 1 < r[i].narcs; k++)
            need[arc_head(edges, arcs[r[i].first + k])]++;
    size_t kept = 0;
    for (size_t i = 0; i < *nr; i++) {
        int crowded = 0;
        for (uint32_t k = 0; k + 1 < r[i].narcs && !crowded; k++)
            crowded = need[arc_head(edges, arcs[r[i].first + k])] + 1 >= CV_MAX_SEEDS;
        if (crowded)
            b->st->restrictions_off_graph++;
        else
            r[kept++] = r[i];
    }
    *nr = kept;
    free(need);
    return 0;
}

int cv_resolve_restrictions(builder *b, const cv_edge *edges, cv_restriction **restr, uint32_t *nr, uint32_t **arcs,
                            uint32_t *narcs)
{
    const cv_network *net = b->net;
    cv_build_stats *st = b->st;
    *restr = NULL, *arcs = NULL, *nr = *narcs = 0;
    vec rv = {.elem = sizeof(cv_restriction)}, av = {.elem = sizeof(uint32_t)};
    step *path = malloc(MAX_PATH * sizeof *path);
    if (!path)
        return CV_ENOMEM;
    for (size_t i = 0; i < net->nrestrictions; i++) {
        const cv_net_restriction *r = &net->restrictions[i];
        int n = resolve_one(b, r, path);
        if (n < 0) {
            if (n == -AMBIGUOUS)
                st->restrictions_ambiguous++;
            else
                st->restrictions_off_graph++;
            continue;
        }
        /* raw steps to chain arcs: a chain holds several raw edges in a row */
        size_t first = av.n;
        uint32_t last = NONE;
        int ok = 1;
        for (int k = 0; k < n && ok; k++) {
            uint32_t c = chain_code(b, path[k]);
            if (c == last && k != n - 1)
                continue;
            if (last != NONE && arc_head(edges, last) != arc_tail(edges, c))
                ok = 0; /* the chains do not meet: a barrier cut the path */
            uint32_t *slot = vec_push(&av);
            if (!slot) {
                free(path), free(rv.p), free(av.p);
                return CV_ENOMEM;
            }
            *slot = last = c;
        }
        if (!ok || av.n - first < 2) {
            av.n = first;
            st->restrictions_off_graph++;
            continue;
        }
        cv_restriction *slot = vec_push(&rv);
        if (!slot) {
            free(path), free(rv.p), free(av.p);
            return CV_ENOMEM;
        }
        *slot = (cv_restriction){(uint32_t)first, (uint32_t)(av.n - first), r->kind, r->via_node ? 0u : 1u};
    }
    free(path);
    int rc = drop_crowded(b, edges, av.p, rv.p, &rv.n);
    if (rc) {
        free(rv.p), free(av.p);
        return rc;
    }
    for (size_t i = 0; i < rv.n; i++)
        st->restrictions_via_way += ((cv_restriction *)rv.p)[i].via_ways;
    *restr = rv.p, *nr = (uint32_t)rv.n;
    *arcs = av.p, *narcs = (uint32_t)av.n;
    return 0;
}
