/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* dijkstra.c — exact bidirectional Dijkstra between snapped points, on the adjacency arrays of the graph file. */
#include "routing/route.h"

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
#define FROM_SNAP_FWD (UINT32_MAX - 1) /* pred: reached from the snapped point along its edge's direction u to v */
#define FROM_SNAP_BWD (UINT32_MAX - 2) /* pred: reached from the snapped point along v to u */

/* Binary min-heap of node ids keyed by distance, with positions for decrease-key. */
typedef struct heap {
    uint32_t *node;
    uint32_t *key;
    uint32_t n;
} heap;

typedef struct side {
    uint32_t *dist;
    uint32_t *pred;      /* arc code (edge << 1 | dir) that reached the node, or FROM_SNAP_* */
    uint32_t *pred_node; /* the other end of that arc */
    uint32_t *stamp;     /* dist/pred/pos are valid when stamp == current query */
    uint32_t *pos;       /* heap position, NONE when settled or not queued */
    heap h;
} side;

struct cv_dijkstra {
    const cv_graph *g;
    uint32_t n;
    uint32_t query;
    side f, b;
    uint64_t settled;
};

static int side_init(side *s, uint32_t n)
{
    size_t m = n ? n : 1;
    s->dist = malloc(m * sizeof *s->dist);
    s->pred = malloc(m * sizeof *s->pred);
    s->pred_node = malloc(m * sizeof *s->pred_node);
    s->stamp = calloc(m, sizeof *s->stamp);
    s->pos = malloc(m * sizeof *s->pos);
    s->h.node = malloc(m * sizeof *s->h.node);
    s->h.key = malloc(m * sizeof *s->h.key);
    s->h.n = 0;
    return s->dist && s->pred && s->pred_node && s->stamp && s->pos && s->h.node && s->h.key ? 0 : -1;
}

static void side_free(side *s)
{
    free(s->dist), free(s->pred), free(s->pred_node), free(s->stamp), free(s->pos), free(s->h.node), free(s->h.key);
}

cv_dijkstra *cv_dijkstra_new(const cv_graph *g)
{
    cv_dijkstra *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->g = g;
    w->n = g->hdr.nnodes;
    if (side_init(&w->f, w->n) || side_init(&w->b, w->n)) {
        cv_dijkstra_free(w);
        return NULL;
    }
    return w;
}

void cv_dijkstra_free(cv_dijkstra *w)
{
    if (!w)
        return;
    side_free(&w->f);
    side_free(&w->b);
    free(w);
}

uint64_t cv_dijkstra_settled(const cv_dijkstra *w)
{
    return w->settled;
}

static void sift_up(side *s, uint32_t i)
{
    heap *h = &s->h;
    uint32_t node = h->node[i], key = h->key[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (h->key[p] <= key)
            break;
        h->node[i] = h->node[p];
        h->key[i] = h->key[p];
        s->pos[h->node[i]] = i;
        i = p;
    }
    h->node[i] = node;
    h->key[i] = key;
    s->pos[node] = i;
}

static void sift_down(side *s, uint32_t i)
{
    heap *h = &s->h;
    uint32_t node = h->node[i], key = h->key[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->key[c + 1] < h->key[c])
            c++;
        if (h->key[c] >= key)
            break;
        h->node[i] = h->node[c];
        h->key[i] = h->key[c];
        s->pos[h->node[i]] = i;
        i = c;
    }
    h->node[i] = node;
    h->key[i] = key;
    s->pos[node] = i;
}

/* Lowers (or sets) the distance of node to d through pred. */
static void relax(side *s, uint32_t q, uint32_t node, uint32_t d, uint32_t pred, uint32_t pred_node)
{
    if (s->stamp[node] != q) {
        s->stamp[node] = q;
        s->dist[node] = d;
        s->pred[node] = pred;
        s->pred_node[node] = pred_node;
        uint32_t i = s->h.n++;
        s->h.node[i] = node;
        s->h.key[i] = d;
        sift_up(s, i);
    } else if (d < s->dist[node] && s->pos[node] != NONE) {
        s->dist[node] = d;
        s->pred[node] = pred;
        s->pred_node[node] = pred_node;
        s->h.key[s->pos[node]] = d;
        sift_up(s, s->pos[node]);
    }
}

static uint32_t pop(side *s)
{
    heap *h = &s->h;
    uint32_t top = h->node[0];
    s->pos[top] = NONE;
    if (--h->n > 0) {
        h->node[0] = h->node[h->n];
        h->key[0] = h->key[h->n];
        sift_down(s, 0);
    }
    return top;
}

static int push_arc(cv_path *p, uint32_t a)
{
    if (cv_path_reserve(p, 1))
        return CV_ENOMEM;
    p->arcs[p->narcs++] = a;
    return 0;
}

int cv_dijkstra_route(cv_dijkstra *w, const cv_snap *s, const cv_snap *t, cv_path *out, cv_error *err)
{
    const cv_graph *g = w->g;
    if (++w->query == 0) { /* stamps wrapped: clear them once every 4 billion queries */
        memset(w->f.stamp, 0, w->n * sizeof *w->f.stamp);
        memset(w->b.stamp, 0, w->n * sizeof *w->b.stamp);
        w->query = 1;
    }
    uint32_t q = w->query;
    w->f.h.n = w->b.h.n = 0;
    w->settled = 0;
    out->narcs = 0;
    out->src = *s;
    out->dst = *t;
    out->direct = 0;

    uint64_t best = cv_path_direct_weight(g, s, t);
    uint32_t meet = NONE;
    int direct = best != UINT64_MAX;
    cv_seed seeds[CV_MAX_SEEDS];
    uint32_t ns = cv_source_seeds(g, s, seeds, CV_MAX_SEEDS);
    for (uint32_t k = 0; k < ns; k++)
        relax(&w->f, q, seeds[k].node, seeds[k].weight, seeds[k].forward ? FROM_SNAP_FWD : FROM_SNAP_BWD, NONE);
    ns = cv_target_seeds(g, t, seeds, CV_MAX_SEEDS);
    for (uint32_t k = 0; k < ns; k++)
        relax(&w->b, q, seeds[k].node, seeds[k].weight, seeds[k].forward ? FROM_SNAP_FWD : FROM_SNAP_BWD, NONE);

    while (w->f.h.n > 0 || w->b.h.n > 0) {
        uint64_t mf = w->f.h.n ? w->f.h.key[0] : UINT64_MAX / 4, mb = w->b.h.n ? w->b.h.key[0] : UINT64_MAX / 4;
        if (mf + mb >= best)
            break;
        int fwd = mf <= mb;
        side *me = fwd ? &w->f : &w->b, *other = fwd ? &w->b : &w->f;
        uint32_t x = pop(me);
        w->settled++;
        uint32_t dx = me->dist[x];
        if (other->stamp[x] == q) {
            uint64_t c = (uint64_t)dx + other->dist[x];
            if (c < best) {
                best = c;
                meet = x;
                direct = 0;
            }
        }
        const uint32_t *first = fwd ? g->a.out_first : g->a.in_first;
        const cv_arc *arcs = fwd ? g->a.out_arcs : g->a.in_arcs;
        for (uint32_t k = first[x]; k < first[x + 1]; k++) {
            uint64_t d = (uint64_t)dx + arcs[k].weight;
            if (d >= CV_INF_WEIGHT)
                continue;
            uint32_t y = arcs[k].node;
            relax(me, q, y, (uint32_t)d, arcs[k].edge, x);
            if (other->stamp[y] == q && me->stamp[y] == q) {
                uint64_t c = (uint64_t)me->dist[y] + other->dist[y];
                if (c < best) {
                    best = c;
                    meet = y;
                    direct = 0;
                }
            }
        }
    }
    if (best == UINT64_MAX)
        return cv_fail(err, CV_ENOROUTE, "no route from %.7f,%.7f to %.7f,%.7f", cv_deg(s->location.lon),
                       cv_deg(s->location.lat), cv_deg(t->location.lon), cv_deg(t->location.lat));
    out->weight = best > CV_INF_WEIGHT ? CV_INF_WEIGHT : (uint32_t)best;
    if (direct) {
        out->direct = 1;
        return cv_path_finish(g, out);
    }
    /* forward half: walk preds back from the meeting node to the source, then reverse */
    uint32_t x = meet;
    while (w->f.pred[x] < FROM_SNAP_BWD) {
        if (push_arc(out, w->f.pred[x]))
            return cv_fail(err, CV_ENOMEM, "out of memory");
        x = w->f.pred_node[x];
    }
    out->src_forward = w->f.pred[x] == FROM_SNAP_FWD;
    for (size_t i = 0; i < out->narcs / 2; i++) {
        uint32_t tmp = out->arcs[i];
        out->arcs[i] = out->arcs[out->narcs - 1 - i];
        out->arcs[out->narcs - 1 - i] = tmp;
    }
    x = meet;
    while (w->b.pred[x] < FROM_SNAP_BWD) {
        if (push_arc(out, w->b.pred[x]))
            return cv_fail(err, CV_ENOMEM, "out of memory");
        x = w->b.pred_node[x];
    }
    out->dst_forward = w->b.pred[x] == FROM_SNAP_FWD;
    return cv_path_finish(g, out);
}
