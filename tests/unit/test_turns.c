/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_turns.c — turn restrictions, barriers and U-turns against a brute-force reference on random road networks.

   Each round draws a small road network (a jittered grid of two-node ways, some one-way, some nodes closed by a
   bollard), random turn restrictions over it (no_* and only_*, via a node, via one way and via two ways, some
   with from = to), builds the graph file as `covoit import` does, and routes random pairs of points with
   Dijkstra, the contraction hierarchy and hub labels. The reference knows nothing of split junctions: it searches
   states (the arc just driven and the arcs before it) with the rules written plainly:
     - a restriction's arcs are never all driven in a row (no_*); after an only_* one's arcs but the last, the
       last is taken (several only_* from the same arcs allow any of theirs);
     - a route turns round (leaves by the road it came) only at a dead end for that arrival (no other road leaves
       the junction), where an only_u_turn restriction tells it to, or at a junction that is neither restricted
       (where a restriction's arcs so far end) nor a junction of exactly two roads;
     - nothing passes a closed node: a road reaching it ends there.
   Every way has a name of its own, so that no two of them are compressed into one edge and the reference can
   speak of ways and edges alike. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "routing/ch.h"
#include "routing/graph_build.h"
#include "routing/hub_labels.h"
#include "osm/osm_network.h"
#include "routing/route.h"
#include "test_support.h"

#define GW 6
#define GH 6
#define MAXR 24
#define MAXHIST 4 /* arcs a state remembers: the longest restriction (from, two via ways, to) less one */

/* ---- a random network ---- */

typedef struct build {
    cv_network net;
    int64_t node_ids[GW * GH];
    uint64_t rng;
} build;

static void *xgrow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t nc = *cap ? *cap * 2 : 64;
    while (nc < need)
        nc *= 2;
    p = realloc(p, nc * elem);
    assert_non_null(p);
    *cap = nc;
    return p;
}

static void add_way(build *b, int64_t id, int64_t n1, int64_t n2, int oneway)
{
    cv_network *net = &b->net;
    cv_tag tags[2] = {{"highway", "residential"}, {"oneway", oneway > 0 ? "yes" : "-1"}};
    cv_way_attr a;
    assert_int_equal(cv_profile_way(NULL, tags, oneway ? 2 : 1, &a), 1);
    net->ways = xgrow(net->ways, &net->cap_ways, net->nways + 1, sizeof *net->ways);
    net->refs = xgrow(net->refs, &net->cap_refs, net->nrefs + 2, sizeof *net->refs);
    /* a name of its own (an index no other way has): no chain compression across ways */
    net->ways[net->nways] = (cv_net_way){id, (uint32_t)net->nrefs, 2, a, (uint32_t)(1000 + net->nways), 0};
    net->refs[net->nrefs++] = n1;
    net->refs[net->nrefs++] = n2;
    net->nways++;
}

static void add_restriction(build *b, int64_t from, const int64_t *via_ways, uint32_t nvia, int64_t via_node,
                            int64_t to, uint8_t kind)
{
    cv_network *net = &b->net;
    uint32_t first = (uint32_t)net->nvia_ways;
    net->via_ways = xgrow(net->via_ways, &net->cap_via_ways, net->nvia_ways + nvia + 1, sizeof *net->via_ways);
    for (uint32_t k = 0; k < nvia; k++)
        net->via_ways[net->nvia_ways++] = via_ways[k];
    net->restrictions =
        xgrow(net->restrictions, &net->cap_restrictions, net->nrestrictions + 1, sizeof *net->restrictions);
    net->restrictions[net->nrestrictions++] =
        (cv_net_restriction){from, to, via_node, first, nvia, (int64_t)net->nrestrictions + 1, kind, CV_TURN_ANY};
}

/* The ways (by index) with node n as an end. */
static int ways_at(const cv_network *net, int64_t n, uint32_t *out, int max)
{
    int k = 0;
    for (uint32_t w = 0; w < net->nways && k < max; w++)
        if (net->refs[net->ways[w].first_ref] == n || net->refs[net->ways[w].first_ref + 1] == n)
            out[k++] = w;
    return k;
}

static int64_t other_end(const cv_network *net, uint32_t w, int64_t n)
{
    const int64_t *r = net->refs + net->ways[w].first_ref;
    return r[0] == n ? r[1] : r[0];
}

static void random_network(build *b)
{
    cv_network *net = &b->net;
    memset(net, 0, sizeof *net);
    net->nodes = calloc(GW * GH, sizeof *net->nodes);
    assert_non_null(net->nodes);
    for (int y = 0; y < GH; y++)
        for (int x = 0; x < GW; x++) {
            int i = y * GW + x;
            int32_t jx = (int32_t)(tst_rand(&b->rng) % 400) - 200, jy = (int32_t)(tst_rand(&b->rng) % 400) - 200;
            net->nodes[i] = (cv_net_node){100 + i, 70000000 + x * 10000 + jx, 430000000 + y * 10000 + jy};
            b->node_ids[i] = 100 + i;
        }
    net->nnodes = GW * GH;
    int64_t wid = 1;
    for (int y = 0; y < GH; y++)
        for (int x = 0; x < GW; x++) {
            int i = y * GW + x;
            int nb[3][2] = {{x + 1, y}, {x, y + 1}, {x + 1, y + 1}};
            for (int k = 0; k < 3; k++) {
                int nx = nb[k][0], ny = nb[k][1];
                if (nx >= GW || ny >= GH || tst_rand(&b->rng) % 100 >= (k == 2 ? 15u : 80u))
                    continue;
                int r = (int)(tst_rand(&b->rng) % 100);
                add_way(b, wid++, 100 + i, 100 + ny * GW + nx, r < 12 ? 1 : r < 24 ? -1 : 0);
            }
        }
    /* a few bollards */
    for (int i = 0; i < GW * GH; i++)
        if (tst_rand(&b->rng) % 100 < 5) {
            net->blocks = xgrow(net->blocks, &net->cap_blocks, net->nblocks + 1, sizeof *net->blocks);
            net->blocks[net->nblocks++] = (cv_net_block){100 + i, CV_NODE_BARRIER};
        }
    /* restrictions: walk a random path of 2 to 4 ways meeting end to end, visiting no node twice (a from way that
       touches the via ways at both its ends would be ambiguous, and is dropped by the importer: tested by the
       scenarios); the last way may go back along the way before it (a U-turn restriction) */
    for (int r = 0; r < 14; r++) {
        uint32_t w0 = (uint32_t)(tst_rand(&b->rng) % net->nways), path[4];
        int end = (int)(tst_rand(&b->rng) & 1);
        int64_t at = net->refs[net->ways[w0].first_ref + end],
                seen[5] = {net->refs[net->ways[w0].first_ref + !end], at};
        int nseen = 2, len = 2 + (int)(tst_rand(&b->rng) % 3), ok = 1;
        path[0] = w0;
        int64_t via_node = at;
        for (int k = 1; k < len && ok; k++) {
            uint32_t cand[16];
            int nc = ways_at(net, at, cand, 16);
            uint32_t pick = cand[tst_rand(&b->rng) % (uint64_t)nc];
            if (k < len - 1) {
                int64_t next = other_end(net, pick, at);
                for (int q = 0; q < nseen; q++)
                    if (seen[q] == next)
                        ok = 0;
                seen[nseen++] = at = next;
            }
            path[k] = pick;
        }
        if (!ok)
            continue;
        int64_t ids[4];
        for (int k = 0; k < len; k++)
            ids[k] = net->ways[path[k]].id;
        uint8_t kind = tst_rand(&b->rng) % 100 < 30 ? CV_RESTR_ONLY : CV_RESTR_NO;
        if (len == 2)
            add_restriction(b, ids[0], NULL, 0, via_node, ids[1], kind);
        else
            add_restriction(b, ids[0], ids + 1, (uint32_t)len - 2, 0, ids[len - 1], kind);
    }
    /* the blocked node list and the nodes are sorted by id, as the reader leaves them */
}

/* ---- the reference, on the built graph's edges (one per way) ---- */

typedef struct ref_restr {
    uint32_t arcs[MAXHIST + 1];
    int n;
    uint8_t kind;
} ref_restr;

typedef struct refnet {
    const cv_graph *g;
    ref_restr r[MAXR];
    int nr;
    uint8_t *split;   /* per junction */
    uint32_t *outdeg; /* per junction: drivable arcs leaving it */
} refnet;

static uint32_t arc_tail(const cv_graph *g, uint32_t c)
{
    const cv_edge *e = &g->a.edges[c >> 1];
    return c & 1 ? e->v : e->u;
}

static uint32_t arc_head(const cv_graph *g, uint32_t c)
{
    const cv_edge *e = &g->a.edges[c >> 1];
    return c & 1 ? e->u : e->v;
}

static int drivable(const cv_graph *g, uint32_t c)
{
    return (g->a.edges[c >> 1].flags & (c & 1 ? CV_EDGE_BACKWARD : CV_EDGE_FORWARD)) != 0;
}

/* The edge of OSM way id, or UINT32_MAX. */
static uint32_t edge_of_way(const cv_graph *g, int64_t id)
{
    for (uint32_t e = 0; e < g->hdr.nedges; e++)
        if (g->a.edges[e].way_id_lo == (uint32_t)id)
            return e;
    return UINT32_MAX;
}

/* The junction at a node's location (UINT32_MAX when the node is on no edge, or closed: then several). */
static uint32_t junction_at(const cv_graph *g, const cv_net_node *n)
{
    uint32_t found = UINT32_MAX;
    for (uint32_t j = 0; j < g->hdr.njunctions; j++)
        if (g->a.node_coord[j].lon == n->lon && g->a.node_coord[j].lat == n->lat) {
            if (found != UINT32_MAX)
                return UINT32_MAX;
            found = j;
        }
    return found;
}

/* The arc of edge e arriving at (into = 1) or leaving junction j. */
static uint32_t arc_at(const cv_graph *g, uint32_t e, uint32_t j, int into)
{
    const cv_edge *ed = &g->a.edges[e];
    if (into)
        return ed->v == j ? e << 1 : e << 1 | 1;
    return ed->u == j ? e << 1 : e << 1 | 1;
}

static void reference_setup(refnet *R, const cv_graph *g, const cv_network *net)
{
    memset(R, 0, sizeof *R);
    R->g = g;
    uint32_t nj = g->hdr.njunctions;
    R->split = calloc(nj, 1);
    R->outdeg = calloc(nj, sizeof *R->outdeg);
    uint8_t *ends = calloc(nj, 1), *arrive = calloc(nj, 1);
    assert_true(R->split && R->outdeg && ends && arrive);
    for (uint32_t e = 0; e < g->hdr.nedges; e++) {
        const cv_edge *ed = &g->a.edges[e];
        ends[ed->u]++, ends[ed->v]++;
        for (uint32_t d = 0; d < 2; d++)
            if (drivable(g, e << 1 | d)) {
                R->outdeg[arc_tail(g, e << 1 | d)]++;
                arrive[arc_head(g, e << 1 | d)] = 1;
            }
    }
    for (uint32_t j = 0; j < nj; j++)
        R->split[j] = ends[j] == 2; /* the middle of a road: two ways meet (no loops here) */
    /* restrictions in arcs, where they can be placed: a from way ending at the via, via ways in a row, no closed
       node where the sequence turns */
    for (size_t i = 0; i < net->nrestrictions && R->nr < MAXR; i++) {
        const cv_net_restriction *r = &net->restrictions[i];
        uint32_t ways[4];
        int n = 0;
        ways[n++] = edge_of_way(g, r->from_way);
        for (uint32_t k = 0; k < r->nvia; k++)
            ways[n++] = edge_of_way(g, net->via_ways[r->via_first + k]);
        ways[n++] = edge_of_way(g, r->to_way);
        /* the node where from meets the first via: the via node, or the end the from way shares with it */
        int64_t from_node = r->via_node;
        const int64_t *fr = net->refs + net->ways[r->from_way - 1].first_ref;
        if (!from_node) {
            const int64_t *vr = net->refs + net->ways[net->via_ways[r->via_first] - 1].first_ref;
            from_node = (fr[0] == vr[0] || fr[0] == vr[1]) ? fr[0] : fr[1];
        }
        ref_restr rr = {.n = n, .kind = r->kind};
        int ok = 1;
        int64_t at_node = from_node;
        for (int k = 0; k < n && ok; k++) {
            if (ways[k] == UINT32_MAX) {
                ok = 0;
                break;
            }
            const cv_net_node *nd = cv_network_node(net, at_node);
            uint32_t j = junction_at(g, nd);
            if (j == UINT32_MAX || cv_network_block(net, at_node)) {
                ok = 0; /* a closed node in the sequence: the restriction is dropped */
                break;
            }
            if (k == 0) {
                rr.arcs[0] = arc_at(g, ways[0], j, 1);
                ok = drivable(g, rr.arcs[0]);
            } else {
                rr.arcs[k] = arc_at(g, ways[k], j, 0);
                if (k < n - 1 || r->kind == CV_RESTR_NO)
                    ok = drivable(g, rr.arcs[k]);
                const int64_t *wr =
                    net->refs + net->ways[(k < n - 1 ? net->via_ways[r->via_first + k - 1] : r->to_way) - 1].first_ref;
                at_node = wr[0] == at_node ? wr[1] : wr[0];
            }
        }
        if (!ok)
            continue;
        R->r[R->nr++] = rr;
        for (int k = 0; k + 1 < n; k++)
            R->split[arc_head(g, rr.arcs[k])] = 1;
    }
    for (uint32_t j = 0; j < nj; j++)
        if (!arrive[j])
            R->split[j] = 0;
    free(ends), free(arrive);
}

static void reference_free(refnet *R)
{
    free(R->split), free(R->outdeg);
}

typedef struct state {
    uint32_t hist[MAXHIST]; /* the arcs driven, the last one where the state is */
    int n;
} state;

/* Does the history end with arcs a[0..k)? */
static int ends_with(const state *s, const uint32_t *a, int k)
{
    if (k > s->n)
        return 0;
    for (int i = 0; i < k; i++)
        if (s->hist[s->n - k + i] != a[i])
            return 0;
    return 1;
}

static int ref_allowed(const refnet *R, const state *s, uint32_t b)
{
    const cv_graph *g = R->g;
    uint32_t a = s->hist[s->n - 1], j = arc_head(g, a);
    int uturn_banned = (a >> 1) == (b >> 1) && a != b && R->split[j] && R->outdeg[j] > 1, named = 0;
    for (int i = 0; i < R->nr; i++) {
        const ref_restr *r = &R->r[i];
        if (!ends_with(s, r->arcs, r->n - 1))
            continue;
        if (r->kind == CV_RESTR_NO && r->arcs[r->n - 1] == b)
            return 0;
        if (r->kind == CV_RESTR_ONLY && r->arcs[r->n - 1] == b)
            named = 1; /* only_u_turn: the U-turn it names is allowed */
        if (r->kind == CV_RESTR_ONLY && r->arcs[r->n - 1] != b) {
            /* another only_* with the same arcs before may allow b */
            int allowed_by_other = 0;
            for (int k = 0; k < R->nr; k++)
                if (R->r[k].kind == CV_RESTR_ONLY && R->r[k].n == r->n && R->r[k].arcs[r->n - 1] == b &&
                    !memcmp(R->r[k].arcs, r->arcs, (size_t)(r->n - 1) * sizeof *r->arcs))
                    allowed_by_other = 1;
            if (!allowed_by_other)
                return 0;
        }
    }
    return !uturn_banned || named;
}

/* Plain Dijkstra over states with a linear scan (the graphs are tiny). */
typedef struct qitem {
    state s;
    uint64_t d;
    int done;
} qitem;

/* The junction a snapped point lies on (t 0 at u, or 1 at v), or UINT32_MAX. */
static uint32_t on_junction(const cv_graph *g, const cv_snap *s)
{
    if (s->from_u_dm == 0 && s->from_u_ds == 0)
        return g->a.edges[s->edge].u;
    if (s->to_v_dm == 0 && s->to_v_ds == 0)
        return g->a.edges[s->edge].v;
    return UINT32_MAX;
}

static uint64_t reference_weight(const refnet *R, const cv_snap *src, const cv_snap *dst)
{
    const cv_graph *g = R->g;
    size_t cap = 1 << 16, n = 0;
    qitem *q = malloc(cap * sizeof *q);
    assert_non_null(q);
    uint32_t sj = on_junction(g, src), tj = on_junction(g, dst);
    uint64_t best = sj != UINT32_MAX || tj != UINT32_MAX ? UINT64_MAX : cv_path_direct_weight(g, src, dst);
    if (sj != UINT32_MAX && sj == tj)
        best = 0;
    if (sj != UINT32_MAX) {
        /* on a junction: arrived by nothing, it may leave by any road, with no U-turn to forbid */
        for (uint32_t e = 0; e < g->hdr.nedges; e++)
            for (uint32_t dir = 0; dir < 2; dir++) {
                uint32_t b = e << 1 | dir;
                if (arc_tail(g, b) != sj || !drivable(g, b))
                    continue;
                if (tj == UINT32_MAX && e == dst->edge) {
                    uint64_t c = dir ? dst->from_v_ds : dst->from_u_ds;
                    if (c < best)
                        best = c;
                }
                q[n++] = (qitem){{{b}, 1}, cv_edge_duration(&g->a.edges[e], dir), 0};
            }
    } else {
        for (uint32_t d = 0; d < 2; d++) {
            uint32_t c = src->edge << 1 | d;
            if (!drivable(g, c))
                continue;
            q[n++] = (qitem){{{c}, 1}, d ? src->to_u_ds : src->to_v_ds, 0};
        }
    }
    for (;;) {
        size_t bi = SIZE_MAX;
        for (size_t i = 0; i < n; i++)
            if (!q[i].done && (bi == SIZE_MAX || q[i].d < q[bi].d))
                bi = i;
        if (bi == SIZE_MAX || q[bi].d >= best)
            break;
        q[bi].done = 1;
        state s = q[bi].s;
        uint64_t d = q[bi].d;
        uint32_t j = arc_head(g, s.hist[s.n - 1]);
        if (j == tj) { /* a target on the junction: reached whatever the arrival */
            if (d < best)
                best = d;
            continue;
        }
        for (uint32_t e = 0; e < g->hdr.nedges; e++)
            for (uint32_t dir = 0; dir < 2; dir++) {
                uint32_t b = e << 1 | dir;
                if (arc_tail(g, b) != j || !drivable(g, b) || !ref_allowed(R, &s, b))
                    continue;
                uint32_t w = cv_edge_duration(&g->a.edges[e], dir); /* no penalties: every road is open */
                if (tj == UINT32_MAX && e == dst->edge) {           /* into the target's edge: it ends at the point */
                    uint64_t c = d + (dir ? dst->from_v_ds : dst->from_u_ds);
                    if (c < best)
                        best = c;
                }
                state t = s;
                if (t.n == MAXHIST)
                    memmove(t.hist, t.hist + 1, (MAXHIST - 1) * sizeof *t.hist), t.n--;
                t.hist[t.n++] = b;
                size_t k = 0;
                while (k < n && !(q[k].s.n == t.n && !memcmp(q[k].s.hist, t.hist, (size_t)t.n * sizeof *t.hist)))
                    k++;
                if (k == n) {
                    assert_true(n < cap);
                    q[n++] = (qitem){t, d + w, 0};
                } else if (!q[k].done && d + w < q[k].d) {
                    q[k].d = d + w;
                }
            }
    }
    free(q);
    return best;
}

/* A point well inside edge e (its single segment), snapped there. */
static cv_snap inside(const cv_graph *g, uint32_t e, uint64_t *rng)
{
    cv_snap s;
    memset(&s, 0, sizeof s);
    s.edge = e;
    s.point = g->a.edge_first_point[e];
    s.t = 0.2 + (double)(tst_rand(rng) % 600) / 1000.0;
    const cv_coord *a = &g->a.points[s.point], *b = a + 1;
    s.location = (cv_coord){a->lon + (int32_t)(s.t * (b->lon - a->lon)), a->lat + (int32_t)(s.t * (b->lat - a->lat))};
    s.input = s.location;
    cv_snap_fill(g, &s);
    return s;
}

/* A point exactly on an end of edge e (its u, or its v when at_v). */
static cv_snap on_node(const cv_graph *g, uint32_t e, int at_v)
{
    cv_snap s;
    memset(&s, 0, sizeof s);
    s.edge = e;
    s.point = g->a.edge_first_point[e];
    s.t = at_v ? 1 : 0;
    s.location = g->a.points[s.point + (at_v ? 1 : 0)];
    s.input = s.location;
    cv_snap_fill(g, &s);
    return s;
}

static void test_random_networks(void **state)
{
    (void)state;
    build b = {.rng = 0x5eed1234abcdULL};
    int compared = 0, reached = 0, restricted = 0;
    for (int round = 0; round < 40; round++) {
        random_network(&b);
        char path[1024];
        snprintf(path, sizeof path, "%s/turns_random.cvg", COVOIT_TMP);
        cv_error err = {0};
        cv_build_stats st;
        assert_int_equal(cv_graph_build(&b.net, "random", path, NULL, &st, &err), 0);
        cv_graph *g = cv_graph_open(path, &err);
        assert_non_null(g);
        refnet R;
        reference_setup(&R, g, &b.net);
        restricted += R.nr;
        cv_hub_labels *hl = NULL;
        assert_int_equal(cv_hub_labels_build(g, 1, 0, NULL, &hl, &err), 0);
        cv_dijkstra *dj = cv_dijkstra_new(g);
        cv_ch_query *ch = cv_ch_query_new(g), *lq = cv_ch_query_new(g);
        assert_true(dj && ch && lq);
        assert_int_equal(cv_ch_use_labels(lq, hl), 0);
        cv_path p = {0};
        for (int i = 0; i < 60; i++) {
            uint32_t es = (uint32_t)(tst_rand(&b.rng) % g->hdr.nedges), et;
            /* half of the routes start on a restriction's from edge */
            if (R.nr && (i & 1))
                es = R.r[tst_rand(&b.rng) % (uint64_t)R.nr].arcs[0] >> 1;
            et = (uint32_t)(tst_rand(&b.rng) % g->hdr.nedges);
            cv_snap s = inside(g, es, &b.rng), t = inside(g, et, &b.rng);
            /* a quarter start on a junction, a quarter end on one */
            if (i % 4 == 1)
                s = on_node(g, es, (int)(tst_rand(&b.rng) & 1));
            if (i % 4 == 2)
                t = on_node(g, et, (int)(tst_rand(&b.rng) & 1));
            uint64_t want = reference_weight(&R, &s, &t);
            {
                cv_ch_query *qs[2] = {ch, lq};
                int rc = cv_dijkstra_route(dj, &s, &t, &p, NULL);
                if (want == UINT64_MAX || want >= CV_INF_WEIGHT) {
                    if (rc != CV_ENOROUTE)
                        fail_msg("round %d: edge %u -> %u: a route of %u where the reference has none", round, es, et,
                                 p.weight);
                } else {
                    if (rc != 0 || p.weight != want)
                        fail_msg("round %d (pair %d): edge %u -> %u: dijkstra %s %u, reference %llu", round, i, es, et,
                                 rc ? "no route" : "weight", rc ? 0 : p.weight, (unsigned long long)want);
                    reached++;
                }
                for (int k = 0; k < 2; k++) {
                    int rk = cv_ch_route(qs[k], &s, &t, &p, NULL);
                    if (want == UINT64_MAX || want >= CV_INF_WEIGHT)
                        assert_int_equal(rk, CV_ENOROUTE);
                    else if (rk != 0 || p.weight != want)
                        fail_msg("round %d: edge %u -> %u: %s %u, reference %llu", round, es, et,
                                 k ? "hub labels" : "ch", rk ? 0 : p.weight, (unsigned long long)want);
                }
            }
            compared++;
        }
        cv_path_free(&p);
        cv_dijkstra_free(dj);
        cv_ch_query_free(ch);
        cv_ch_query_free(lq);
        cv_hub_labels_free(hl);
        reference_free(&R);
        cv_graph_close(g);
        cv_network_free(&b.net);
    }
    printf("random networks: %d routes compared, %d reached, %d restrictions placed\n", compared, reached, restricted);
    assert_true(reached > compared / 3);
    assert_true(restricted > 100);
}

/* A junction where 70 roads meet cannot be split (a search seeds at most CV_MAX_SEEDS nodes for a point on it):
   its restriction is dropped and counted, and every road still reaches every other straight through it. */
static void test_crowded_junction(void **state)
{
    (void)state;
    build b = {.rng = 1};
    cv_network *net = &b.net;
    memset(net, 0, sizeof *net);
    enum { SPOKES = 70 };
    net->nodes = calloc(SPOKES + 1, sizeof *net->nodes);
    assert_non_null(net->nodes);
    net->nodes[0] = (cv_net_node){1, 70000000, 430000000};
    for (int i = 0; i < SPOKES; i++) {
        double a = 2 * 3.14159265358979 * i / SPOKES;
        net->nodes[i + 1] =
            (cv_net_node){2 + i, 70000000 + (int32_t)(20000 * cos(a)), 430000000 + (int32_t)(20000 * sin(a))};
        add_way(&b, 100 + i, 1, 2 + i, 0);
    }
    net->nnodes = SPOKES + 1;
    add_restriction(&b, 100, NULL, 0, 1, 101, CV_RESTR_NO);
    char path[1024];
    snprintf(path, sizeof path, "%s/turns_crowded.cvg", COVOIT_TMP);
    cv_error err = {0};
    cv_build_stats st;
    assert_int_equal(cv_graph_build(net, "crowded", path, NULL, &st, &err), 0);
    assert_int_equal(st.restrictions, 0);
    assert_int_equal(st.restrictions_off_graph, 1);
    cv_graph *g = cv_graph_open(path, &err);
    assert_non_null(g);
    cv_dijkstra *dj = cv_dijkstra_new(g);
    cv_path p = {0};
    for (uint32_t i = 0; i < g->hdr.nedges; i++)
        for (uint32_t k = 0; k < g->hdr.nedges; k += 7) {
            if (i == k)
                continue;
            cv_snap a = inside(g, i, &b.rng), c = inside(g, k, &b.rng);
            assert_int_equal(cv_dijkstra_route(dj, &a, &c, &p, NULL), 0);
            /* straight through the centre: from the point to the centre, then out to the other point */
            const cv_edge *ei = &g->a.edges[i], *ek = &g->a.edges[k];
            int i_u = ei->u == ek->u || ei->u == ek->v, k_u = ek->u == ei->u || ek->u == ei->v;
            uint64_t straight = (uint64_t)(i_u ? a.to_u_ds : a.to_v_ds) + (k_u ? c.from_u_ds : c.from_v_ds);
            assert_int_equal(p.narcs, 0);
            assert_int_equal(p.weight, straight);
        }
    cv_path_free(&p);
    cv_dijkstra_free(dj);
    cv_graph_close(g);
    cv_network_free(net);
}

/* Writes an OSM XML file and reads it with the car profile. */
static void read_osm(const char *name, const char *xml, cv_network *net)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", COVOIT_TMP, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(xml, f);
    fclose(f);
    cv_error err = {0};
    cv_profile_options o = cv_profile_defaults();
    if (cv_network_read(path, &o, NULL, net, &err))
        fail_msg("%s", err.text);
}

/* Hostile relations: a no_entry with 100 from and 100 to ways is refused (one restriction per pair would be 10,000),
   repeated members count once, and a via way listed again and again is dropped at once (it used to take a search
   over every order of the via ways). */
static void test_hostile_relations(void **state)
{
    (void)state;
    size_t cap = 1 << 20, n = 0;
    char *xml = malloc(cap);
    assert_non_null(xml);
    n += (size_t)snprintf(xml + n, cap - n, "<?xml version='1.0'?><osm version='0.6'>");
    for (int i = 0; i < 203; i++)
        n += (size_t)snprintf(xml + n, cap - n, "<node id='%d' lat='43.%04d' lon='7.%04d'/>", 1 + i, 7000 + i % 13,
                              4000 + i);
    for (int i = 0; i < 202; i++)
        n += (size_t)snprintf(xml + n, cap - n,
                              "<way id='%d'><nd ref='%d'/><nd ref='%d'/><tag k='highway' v='residential'/></way>",
                              1000 + i, 1 + i, 2 + i);
    /* no_entry: 100 from, 100 to */
    n += (size_t)snprintf(xml + n, cap - n, "<relation id='1'>");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(xml + n, cap - n, "<member type='way' ref='%d' role='from'/>", 1000 + i);
    n += (size_t)snprintf(xml + n, cap - n, "<member type='node' ref='101' role='via'/>");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(xml + n, cap - n, "<member type='way' ref='%d' role='to'/>", 1100 + i);
    n += (size_t)snprintf(xml + n, cap - n,
                          "<tag k='type' v='restriction'/><tag k='restriction' v='no_entry'/>"
                          "</relation>");
    /* a no_left_turn naming its from and to ways three times each: one restriction */
    n += (size_t)snprintf(xml + n, cap - n, "<relation id='2'>");
    for (int k = 0; k < 3; k++)
        n += (size_t)snprintf(xml + n, cap - n,
                              "<member type='way' ref='1010' role='from'/>"
                              "<member type='way' ref='1011' role='to'/>");
    n += (size_t)snprintf(xml + n, cap - n,
                          "<member type='node' ref='12' role='via'/><tag k='type' "
                          "v='restriction'/><tag k='restriction' v='no_left_turn'/></relation>");
    /* a via way listed 30 times, and a to way that never meets the chain */
    n += (size_t)snprintf(xml + n, cap - n, "<relation id='3'><member type='way' ref='1020' role='from'/>");
    for (int k = 0; k < 30; k++)
        n += (size_t)snprintf(xml + n, cap - n, "<member type='way' ref='1021' role='via'/>");
    n += (size_t)snprintf(xml + n, cap - n,
                          "<member type='way' ref='1150' role='to'/><tag k='type' "
                          "v='restriction'/><tag k='restriction' v='no_u_turn'/></relation></osm>");
    cv_network net;
    read_osm("hostile.osm", xml, &net);
    free(xml);
    assert_int_equal(net.restrictions_skipped, 1); /* the no_entry */
    assert_int_equal(net.nrestrictions, 2);        /* the no_left_turn once, the via-way one */
    char path[1024];
    snprintf(path, sizeof path, "%s/hostile.cvg", COVOIT_TMP);
    cv_error err = {0};
    cv_build_stats st;
    assert_int_equal(cv_graph_build(&net, "hostile", path, NULL, &st, &err), 0);
    assert_int_equal(st.restrictions, 1);
    assert_int_equal(st.restrictions_off_graph, 1); /* the via way repeated */
    cv_network_free(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_networks),
        cmocka_unit_test(test_crowded_junction),
        cmocka_unit_test(test_hostile_relations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
