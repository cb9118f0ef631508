/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* ch_build.c — import-time contraction: node order by a lazily updated priority, bounded witness searches,
   shortcuts that remember the two arcs they replace. */
#include <stdlib.h>
#include <string.h>

#include "routing/ch.h"

#define NONE UINT32_MAX

/* Witness search limits: during the simulation that computes a priority, and during the real contraction. */
#define SIM_SETTLED 100
#define SIM_HOPS 5
#define REAL_SETTLED 2000
#define REAL_HOPS 16

typedef struct adj_e {
    uint32_t node, weight, arc;
} adj_e;

typedef struct adj {
    adj_e *e;
    uint32_t n, cap;
} adj;

typedef struct hitem {
    uint32_t key, node;
} hitem;

typedef struct builder {
    uint32_t n;
    adj *out, *in;
    uint8_t *contracted;
    uint32_t *level, *cn;
    cv_ch_unpack *arcs;
    uint32_t *arc_hops; /* per arc: original arcs it stands for */
    uint32_t narcs, cap_arcs;
    /* witness search workspace */
    uint32_t *dist, *hops, *stamp, q;
    uint32_t *target, tq; /* target[x] == tq: x is a node the current search must reach */
    hitem *wheap;
    uint32_t nw, capw;
    /* priority queue: indexed min-heap over nodes */
    int32_t *prio;
    uint32_t *heap, *pos, nheap;
    /* result links, appended in contraction order */
    cv_ch_link *up, *down;
    uint32_t nup, capup, ndown, capdown;
} builder;

static int adj_put(adj *a, uint32_t node, uint32_t weight, uint32_t arc)
{
    if (a->n == a->cap) {
        uint32_t nc = a->cap ? a->cap * 2 : 4;
        adj_e *q = realloc(a->e, nc * sizeof *q);
        if (!q)
            return -1;
        a->e = q;
        a->cap = nc;
    }
    a->e[a->n++] = (adj_e){node, weight, arc};
    return 0;
}

static void adj_remove(adj *a, uint32_t node)
{
    for (uint32_t i = 0; i < a->n; i++)
        if (a->e[i].node == node) {
            a->e[i] = a->e[--a->n];
            return;
        }
}

static int new_arc(builder *b, cv_ch_unpack u, uint32_t *id)
{
    if (b->narcs == b->cap_arcs) {
        uint32_t nc = b->cap_arcs ? b->cap_arcs * 2 : 1024;
        cv_ch_unpack *q = realloc(b->arcs, (size_t)nc * sizeof *q);
        if (!q)
            return -1;
        b->arcs = q;
        uint32_t *h = realloc(b->arc_hops, (size_t)nc * sizeof *h);
        if (!h)
            return -1;
        b->arc_hops = h;
        b->cap_arcs = nc;
    }
    *id = b->narcs;
    b->arcs[b->narcs] = u;
    b->arc_hops[b->narcs++] = u.second == CV_CH_ORIGINAL ? 1 : b->arc_hops[u.first] + b->arc_hops[u.second];
    return 0;
}

/* Adds arc u->x or lowers the weight of the one there. Returns -1 when out of memory. */
static int put_arc(builder *b, uint32_t u, uint32_t x, uint32_t w, cv_ch_unpack what)
{
    adj *o = &b->out[u];
    for (uint32_t i = 0; i < o->n; i++) {
        if (o->e[i].node != x)
            continue;
        if (o->e[i].weight <= w)
            return 0;
        uint32_t id;
        if (new_arc(b, what, &id))
            return -1;
        o->e[i].weight = w;
        o->e[i].arc = id;
        adj *in = &b->in[x];
        for (uint32_t k = 0; k < in->n; k++)
            if (in->e[k].node == u) {
                in->e[k].weight = w;
                in->e[k].arc = id;
            }
        return 0;
    }
    uint32_t id;
    if (new_arc(b, what, &id) || adj_put(o, x, w, id) || adj_put(&b->in[x], u, w, id))
        return -1;
    return 0;
}

static int wpush(builder *b, uint32_t key, uint32_t node)
{
    if (b->nw == b->capw) {
        uint32_t nc = b->capw ? b->capw * 2 : 256;
        hitem *q = realloc(b->wheap, nc * sizeof *q);
        if (!q)
            return -1;
        b->wheap = q;
        b->capw = nc;
    }
    uint32_t i = b->nw++;
    while (i > 0 && b->wheap[(i - 1) / 2].key > key) {
        b->wheap[i] = b->wheap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    b->wheap[i] = (hitem){key, node};
    return 0;
}

static hitem wpop(builder *b)
{
    hitem top = b->wheap[0], last = b->wheap[--b->nw];
    uint32_t i = 0;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= b->nw)
            break;
        if (c + 1 < b->nw && b->wheap[c + 1].key < b->wheap[c].key)
            c++;
        if (b->wheap[c].key >= last.key)
            break;
        b->wheap[i] = b->wheap[c];
        i = c;
    }
    if (b->nw > 0)
        b->wheap[i] = last;
    return top;
}

/* Dijkstra from s among uncontracted nodes, never through `avoid`, up to weight max_w, bounded in settled nodes
   and hops. Afterwards dist[x] is valid where stamp[x] == q. */
static int witness(builder *b, uint32_t s, uint32_t avoid, uint32_t max_w, uint32_t max_settled, uint32_t max_hops,
                   uint32_t ntargets)
{
    if (++b->q == 0) {
        memset(b->stamp, 0, b->n * sizeof *b->stamp);
        b->q = 1;
    }
    uint32_t q = b->q, settled = 0;
    b->nw = 0;
    b->stamp[s] = q;
    b->dist[s] = 0;
    b->hops[s] = 0;
    if (wpush(b, 0, s))
        return -1;
    while (b->nw > 0) {
        hitem h = wpop(b);
        if (h.key != b->dist[h.node])
            continue; /* stale entry */
        if (h.key > max_w || ++settled > max_settled)
            break;
        /* every node a shortcut could lead to is settled: nothing more to learn */
        if (b->target[h.node] == b->tq && --ntargets == 0)
            break;
        if (b->hops[h.node] >= max_hops)
            continue;
        const adj *o = &b->out[h.node];
        for (uint32_t i = 0; i < o->n; i++) {
            uint32_t y = o->e[i].node;
            if (y == avoid)
                continue;
            uint64_t d = (uint64_t)h.key + o->e[i].weight;
            if (d > max_w)
                continue;
            if (b->stamp[y] != q || d < b->dist[y]) {
                b->stamp[y] = q;
                b->dist[y] = (uint32_t)d;
                b->hops[y] = b->hops[h.node] + 1;
                if (wpush(b, (uint32_t)d, y))
                    return -1;
            }
        }
    }
    return 0;
}

/* Contracts v (or only counts the shortcuts it would need when simulate is set). */
static int contract(builder *b, uint32_t v, int simulate, uint32_t *added, uint32_t *added_hops)
{
    *added = 0;
    *added_hops = 0;
    adj *in = &b->in[v], *out = &b->out[v];
    for (uint32_t i = 0; i < in->n; i++) {
        uint32_t u = in->e[i].node, w1 = in->e[i].weight;
        uint64_t max_w = 0;
        for (uint32_t j = 0; j < out->n; j++)
            if (out->e[j].node != u && (uint64_t)w1 + out->e[j].weight > max_w)
                max_w = (uint64_t)w1 + out->e[j].weight;
        if (max_w == 0)
            continue;
        if (max_w >= UINT32_MAX)
            max_w = UINT32_MAX - 1;
        if (++b->tq == 0) {
            memset(b->target, 0, b->n * sizeof *b->target);
            b->tq = 1;
        }
        uint32_t ntargets = 0;
        for (uint32_t j = 0; j < out->n; j++)
            if (out->e[j].node != u && b->target[out->e[j].node] != b->tq) {
                b->target[out->e[j].node] = b->tq;
                ntargets++;
            }
        if (witness(b, u, v, (uint32_t)max_w, simulate ? SIM_SETTLED : REAL_SETTLED, simulate ? SIM_HOPS : REAL_HOPS,
                    ntargets))
            return -1;
        for (uint32_t j = 0; j < out->n; j++) {
            uint32_t x = out->e[j].node;
            if (x == u)
                continue;
            uint64_t sw = (uint64_t)w1 + out->e[j].weight;
            if (sw >= UINT32_MAX)
                continue; /* beyond any weight a query can hold */
            if (b->stamp[x] == b->q && b->dist[x] <= sw)
                continue;
            (*added)++;
            *added_hops += b->arc_hops[in->e[i].arc] + b->arc_hops[out->e[j].arc];
            if (simulate)
                continue;
            const cv_ch_unpack *a1 = &b->arcs[in->e[i].arc], *a2 = &b->arcs[out->e[j].arc];
            cv_ch_unpack sc = {a1->duration_ds + a2->duration_ds, a1->distance_dm + a2->distance_dm, in->e[i].arc,
                               out->e[j].arc};
            if (put_arc(b, u, x, (uint32_t)sw, sc))
                return -1;
            /* put_arc may have moved v's lists: refresh the pointers */
            in = &b->in[v];
            out = &b->out[v];
        }
    }
    return 0;
}

static int32_t priority(builder *b, uint32_t v, int *oom)
{
    uint32_t added, added_hops;
    if (contract(b, v, 1, &added, &added_hops)) {
        *oom = 1;
        return 0;
    }
    int32_t removed = (int32_t)(b->in[v].n + b->out[v].n), removed_hops = 0;
    for (uint32_t i = 0; i < b->in[v].n; i++)
        removed_hops += (int32_t)b->arc_hops[b->in[v].e[i].arc];
    for (uint32_t i = 0; i < b->out[v].n; i++)
        removed_hops += (int32_t)b->arc_hops[b->out[v].e[i].arc];
    /* Edge difference, contracted neighbours, search-space depth, and the original arcs the new shortcuts would
       stand for relative to those removed (Geisberger's "original edges" term). Weights chosen on Porto by the
       hierarchy's query work (settled nodes and arcs scanned) and contraction time. */
    int32_t hop_ratio = removed_hops ? (int32_t)(40 * (int64_t)added_hops / removed_hops) : 0;
    return 6 * ((int32_t)added - removed) + 2 * (int32_t)b->cn[v] + 4 * (int32_t)b->level[v] + hop_ratio;
}

/* indexed heap on prio */
static void hswap(builder *b, uint32_t i, uint32_t j)
{
    uint32_t t = b->heap[i];
    b->heap[i] = b->heap[j];
    b->heap[j] = t;
    b->pos[b->heap[i]] = i;
    b->pos[b->heap[j]] = j;
}

static int hless(const builder *b, uint32_t i, uint32_t j)
{
    int32_t a = b->prio[b->heap[i]], c = b->prio[b->heap[j]];
    return a < c || (a == c && b->heap[i] < b->heap[j]);
}

static void hup(builder *b, uint32_t i)
{
    while (i > 0 && hless(b, i, (i - 1) / 2)) {
        hswap(b, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void hdown(builder *b, uint32_t i)
{
    for (;;) {
        uint32_t c = 2 * i + 1, m = i;
        if (c < b->nheap && hless(b, c, m))
            m = c;
        if (c + 1 < b->nheap && hless(b, c + 1, m))
            m = c + 1;
        if (m == i)
            return;
        hswap(b, i, m);
        i = m;
    }
}

static int push_link(cv_ch_link **v, uint32_t *n, uint32_t *cap, cv_ch_link l)
{
    if (*n == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 1024;
        cv_ch_link *q = realloc(*v, (size_t)nc * sizeof *q);
        if (!q)
            return -1;
        *v = q;
        *cap = nc;
    }
    (*v)[(*n)++] = l;
    return 0;
}

int cv_ch_build(uint32_t nn, const uint32_t *out_first, const cv_arc *out_arcs, const cv_edge *edges,
                cv_progress *progress, cv_ch_data *res)
{
    memset(res, 0, sizeof *res);
    builder b = {.n = nn};
    size_t m = nn ? nn : 1;
    b.out = calloc(m, sizeof *b.out);
    b.in = calloc(m, sizeof *b.in);
    b.contracted = calloc(m, 1);
    b.level = calloc(m, sizeof *b.level);
    b.cn = calloc(m, sizeof *b.cn);
    b.dist = malloc(m * sizeof *b.dist);
    b.hops = malloc(m * sizeof *b.hops);
    b.stamp = calloc(m, sizeof *b.stamp);
    b.target = calloc(m, sizeof *b.target);
    b.prio = malloc(m * sizeof *b.prio);
    b.heap = malloc(m * sizeof *b.heap);
    b.pos = malloc(m * sizeof *b.pos);
    res->rank = malloc(m * sizeof *res->rank);
    res->up_first = calloc(m + 1, sizeof *res->up_first);
    res->down_first = calloc(m + 1, sizeof *res->down_first);
    int rc = CV_ENOMEM, oom = 0;
    if (!b.out || !b.in || !b.contracted || !b.level || !b.cn || !b.dist || !b.hops || !b.stamp || !b.target ||
        !b.prio || !b.heap || !b.pos || !res->rank || !res->up_first || !res->down_first)
        goto done;
    /* original arcs; parallel arcs keep the lightest, loops are never part of a shortest route */
    for (uint32_t u = 0; u < nn; u++)
        for (uint32_t k = out_first[u]; k < out_first[u + 1]; k++) {
            const cv_arc *a = &out_arcs[k];
            if (a->node == u)
                continue;
            const cv_edge *e = &edges[a->edge >> 1];
            if (put_arc(&b, u, a->node, a->weight,
                        (cv_ch_unpack){cv_edge_duration(e, a->edge & 1), e->length_dm, a->edge, CV_CH_ORIGINAL}))
                goto done;
        }
    if (progress)
        cv_progress_phase(progress, "contraction: ordering");
    for (uint32_t v = 0; v < nn; v++) {
        b.prio[v] = priority(&b, v, &oom);
        if (oom)
            goto done;
        b.heap[v] = v;
        b.pos[v] = v;
        if (progress && (v & 4095) == 0)
            cv_progress_update(progress, v, nn);
    }
    b.nheap = nn;
    for (uint32_t i = nn / 2 + 1; i-- > 0;)
        if (i < nn)
            hdown(&b, i);
    if (progress)
        cv_progress_phase(progress, "contraction");
    uint32_t rank = 0;
    while (b.nheap > 0) {
        uint32_t v = b.heap[0];
        /* lazy update: a stale priority that grew goes back into the queue */
        int32_t p = priority(&b, v, &oom);
        if (oom)
            goto done;
        if (p > b.prio[v] && b.nheap > 1) {
            b.prio[v] = p;
            hdown(&b, 0);
            if (b.heap[0] != v)
                continue;
        }
        /* take v out of the queue */
        hswap(&b, 0, --b.nheap);
        if (b.nheap > 0)
            hdown(&b, 0);
        uint32_t added, added_hops;
        if (contract(&b, v, 0, &added, &added_hops))
            goto done;
        res->rank[v] = rank;
        res->up_first[rank] = b.nup;
        res->down_first[rank] = b.ndown;
        for (uint32_t i = 0; i < b.out[v].n; i++)
            if (push_link(&b.up, &b.nup, &b.capup,
                          (cv_ch_link){b.out[v].e[i].node, b.out[v].e[i].weight, b.out[v].e[i].arc}))
                goto done;
        for (uint32_t i = 0; i < b.in[v].n; i++)
            if (push_link(&b.down, &b.ndown, &b.capdown,
                          (cv_ch_link){b.in[v].e[i].node, b.in[v].e[i].weight, b.in[v].e[i].arc}))
                goto done;
        rank++;
        b.contracted[v] = 1;
        /* detach v and refresh its neighbours */
        for (int side = 0; side < 2; side++) {
            adj *l = side ? &b.in[v] : &b.out[v];
            for (uint32_t i = 0; i < l->n; i++) {
                uint32_t x = l->e[i].node;
                adj_remove(side ? &b.out[x] : &b.in[x], v);
                b.cn[x]++;
                if (b.level[x] < b.level[v] + 1)
                    b.level[x] = b.level[v] + 1;
            }
        }
        for (int side = 0; side < 2; side++) {
            adj *l = side ? &b.in[v] : &b.out[v];
            for (uint32_t i = 0; i < l->n; i++) {
                uint32_t x = l->e[i].node;
                int32_t np = priority(&b, x, &oom);
                if (oom)
                    goto done;
                int32_t old = b.prio[x];
                b.prio[x] = np;
                if (np < old)
                    hup(&b, b.pos[x]);
                else if (np > old)
                    hdown(&b, b.pos[x]);
            }
        }
        free(b.out[v].e), free(b.in[v].e);
        b.out[v] = (adj){0};
        b.in[v] = (adj){0};
        if (progress && (rank & 1023) == 0)
            cv_progress_update(progress, rank, nn);
    }
    res->up_first[nn] = b.nup;
    res->down_first[nn] = b.ndown;
    for (uint32_t i = 0; i < b.nup; i++)
        b.up[i].node = res->rank[b.up[i].node];
    for (uint32_t i = 0; i < b.ndown; i++)
        b.down[i].node = res->rank[b.down[i].node];
    uint32_t originals = 0;
    for (uint32_t i = 0; i < b.narcs; i++)
        originals += b.arcs[i].second == CV_CH_ORIGINAL;
    res->nnodes = nn;
    res->up = b.up, res->nup = b.nup;
    res->down = b.down, res->ndown = b.ndown;
    res->arcs = b.arcs, res->narcs = b.narcs;
    res->nshortcuts = b.narcs - originals;
    b.up = b.down = NULL;
    b.arcs = NULL;
    rc = 0;
done:
    for (uint32_t v = 0; b.out && b.in && v < nn; v++)
        free(b.out[v].e), free(b.in[v].e);
    free(b.out), free(b.in), free(b.contracted), free(b.level), free(b.cn), free(b.dist), free(b.hops);
    free(b.stamp), free(b.target), free(b.prio), free(b.heap), free(b.pos), free(b.wheap), free(b.up), free(b.down),
        free(b.arcs), free(b.arc_hops);
    if (rc)
        cv_ch_data_free(res);
    return rc;
}

void cv_ch_data_free(cv_ch_data *d)
{
    free(d->rank), free(d->up_first), free(d->up), free(d->down_first), free(d->down), free(d->arcs);
    memset(d, 0, sizeof *d);
}
