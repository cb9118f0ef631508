/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* ch_query.c — queries on the contraction hierarchy: bidirectional point-to-point with stall-on-demand and
   unpacking, and bucket-based many-to-many tables. With hub labels attached, points meet at the hubs of their
   labels instead of searching (the label side is in hub_labels.c). */
#include <stdlib.h>
#include <string.h>

#include "routing/ch.h"
#include "routing/order_int.h"
#include "routing/hub_labels.h"

#define NONE UINT32_MAX
#define SEED_FWD (UINT32_MAX - 1) /* pred: a seed reached along its edge's u-to-v direction */
#define SEED_BWD (UINT32_MAX - 2) /* pred: a seed reached along v to u */

/* Per-node search state, split in two: what every visit reads (8 bytes, eight nodes to a cache line, so that
   stall checks, which look at many nodes they never touch, stay in cache) and what only relaxing writes. */
typedef struct node_hot {
    uint32_t stamp; /* q: reached in query q; q + 1: settled (queries count in steps of 2) */
    uint32_t dist;  /* weight */
} node_hot;

typedef struct node_cold {
    uint32_t pred;      /* hierarchy arc that reached the node, or SEED_* */
    uint32_t pred_node; /* rank of that arc's other end */
} node_cold;

/* Duration and distance along the search tree: written for seeds when they are relaxed, and for other nodes only
   when they are settled by a search that tracks them (from their predecessor's, which was settled before), so
   relaxing an arc never reads the arc table. */
typedef struct node_track {
    uint32_t dur, len;
} node_track;

typedef struct heap_item {
    uint32_t key, node;
} heap_item;

typedef struct side {
    node_hot *hot;     /* by rank */
    node_cold *cold;   /* by rank */
    node_track *track; /* by rank */
    heap_item *heap;   /* lazy: may hold a node more than once */
    uint32_t nheap;
    size_t cap;
} side;

typedef struct bucket_entry {
    uint32_t node; /* rank */
    uint32_t target;
    uint32_t weight, dur, len;
} bucket_entry;

typedef struct bucket_hot {
    uint32_t target, weight;
} bucket_hot;

typedef struct bucket_cold {
    uint32_t dur, len;
} bucket_cold;

struct cv_ch_query {
    const cv_graph *g;
    uint32_t n;
    uint32_t q;
    side f, b;
    uint64_t settled;
    uint32_t *stack; /* unpacking */
    size_t cap_stack;
    bucket_entry *bk; /* table buckets */
    size_t nbk, cap_bk;
    /* the same entries grouped by node, split: what every scan reads, and what only an improvement reads */
    bucket_hot *grouped;
    bucket_cold *grouped_cold;
    size_t cap_grouped;
    uint32_t *bk_first, *bk_count, *bk_stamp, *bk_touched;
    /* hub labels, when attached, and the workspace of the queries answered from them */
    const cv_hub_labels *hl;
    cv_hl_query *hlq;
};

/* A search settles each node once and relaxes each of its links once, so the lazy heap never holds more than
   nodes + links entries. */
static int side_init(side *s, uint32_t n, size_t links)
{
    size_t m = n ? n : 1;
    s->hot = calloc(m, sizeof *s->hot);
    s->cold = malloc(m * sizeof *s->cold);
    s->track = malloc(m * sizeof *s->track);
    s->cap = m + links + 64;
    s->heap = malloc(s->cap * sizeof *s->heap);
    return s->hot && s->cold && s->track && s->heap ? 0 : -1;
}

static void side_free(side *s)
{
    free(s->hot), free(s->cold), free(s->track), free(s->heap);
}

cv_ch_query *cv_ch_query_new(const cv_graph *g)
{
    if (g->hdr.nnodes == 0)
        return NULL;
    cv_ch_query *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->g = g;
    q->n = g->hdr.nnodes;
    q->bk_first = malloc(q->n * sizeof *q->bk_first);
    q->bk_count = malloc(q->n * sizeof *q->bk_count);
    q->bk_stamp = calloc(q->n, sizeof *q->bk_stamp);
    q->bk_touched = malloc(q->n * sizeof *q->bk_touched);
    if (side_init(&q->f, q->n, g->hdr.nch_up) || side_init(&q->b, q->n, g->hdr.nch_down) || !q->bk_first ||
        !q->bk_count || !q->bk_stamp || !q->bk_touched) {
        cv_ch_query_free(q);
        return NULL;
    }
    return q;
}

void cv_ch_query_free(cv_ch_query *q)
{
    if (!q)
        return;
    side_free(&q->f);
    side_free(&q->b);
    free(q->stack), free(q->bk), free(q->bk_first), free(q->bk_count), free(q->bk_stamp);
    free(q->bk_touched), free(q->grouped), free(q->grouped_cold);
    cv_hl_query_free(q->hlq);
    free(q);
}

uint64_t cv_ch_settled(const cv_ch_query *q)
{
    return q->settled;
}

int cv_ch_use_labels(cv_ch_query *q, const cv_hub_labels *hl)
{
    if (hl && (hl->g != q->g || hl->n != q->n))
        return CV_EINVAL;
    if (hl != q->hl) {
        cv_hl_query *w = hl ? cv_hl_query_new(hl) : NULL;
        if (hl && !w)
            return CV_ENOMEM;
        cv_hl_query_free(q->hlq);
        q->hlq = w;
        q->hl = hl;
    }
    return 0;
}

/* Clears every stamp and starts query numbers again. */
static void restart_queries(cv_ch_query *q)
{
    for (uint32_t i = 0; i < q->n; i++)
        q->f.hot[i].stamp = q->b.hot[i].stamp = 0;
    memset(q->bk_stamp, 0, q->n * sizeof *q->bk_stamp);
    q->q = 0;
}

/* Query numbers are even: q marks a node reached, q + 1 settled. */
static uint32_t next_query(cv_ch_query *q)
{
    q->q += 2;
    if (q->q >= UINT32_MAX - 2) {
        restart_queries(q);
        q->q = 2;
    }
    return q->q;
}

/* Makes sure the next n query numbers come without a restart: a table keeps the number of its buckets while its
   searches take theirs, and a restart in between would clear the buckets' stamps (the sources after it would
   find every bucket empty). */
static void reserve_queries(cv_ch_query *q, uint64_t n)
{
    if ((uint64_t)q->q + 2 * n + 2 >= UINT32_MAX - 2)
        restart_queries(q);
}

void cv_ch_query_set_number(cv_ch_query *q, uint32_t number)
{
    q->q = number & ~1u;
}

/* --- a binary heap of (dist, rank) with lazy deletion: a node whose distance drops is pushed again and its
   stale entries are skipped when they surface. No position bookkeeping means no writes to other nodes' state
   while sifting, which is what a search through a large graph pays for in cache misses. --- */

/* A 4-ary heap: half the levels of a binary one, and the four children of a node share a cache line. */
static inline void heap_push(side *s, uint32_t key, uint32_t node)
{
    uint32_t i = s->nheap++;
    while (i > 0 && s->heap[(i - 1) / 4].key > key) {
        s->heap[i] = s->heap[(i - 1) / 4];
        i = (i - 1) / 4;
    }
    s->heap[i] = (heap_item){key, node};
}

static inline heap_item heap_pop(side *s)
{
    heap_item top = s->heap[0], last = s->heap[--s->nheap];
    uint32_t i = 0, n = s->nheap;
    for (;;) {
        uint32_t c = 4 * i + 1;
        if (c >= n)
            break;
        uint32_t best = c;
        uint32_t end = c + 4 < n ? c + 4 : n;
        for (uint32_t k = c + 1; k < end; k++)
            best = s->heap[k].key < s->heap[best].key ? k : best;
        if (s->heap[best].key >= last.key)
            break;
        s->heap[i] = s->heap[best];
        i = best;
    }
    if (n > 0)
        s->heap[i] = last;
    return top;
}

/* Drops stale entries from the top; returns 1 when a live entry is on top. */
static inline int heap_live(side *s)
{
    while (s->nheap > 0) {
        const node_hot *n = &s->hot[s->heap[0].node];
        if (!(n->stamp & 1) && n->dist == s->heap[0].key)
            return 1;
        heap_pop(s);
    }
    return 0;
}

static inline uint32_t pop(side *s)
{
    uint32_t top = heap_pop(s).node;
    s->hot[top].stamp |= 1;
    return top;
}

static inline int relax(side *s, uint32_t q, uint32_t r, uint32_t d, uint32_t pred, uint32_t pred_node)
{
    node_hot *n = &s->hot[r];
    if ((n->stamp | 1) != (q | 1) || (n->stamp == q && d < n->dist)) {
        *n = (node_hot){q, d};
        s->cold[r] = (node_cold){pred, pred_node};
        heap_push(s, d, r);
        return 1;
    }
    return 0;
}

static void relax_seed(cv_ch_query *q, side *s, uint32_t qs, const cv_seed *seed)
{
    uint32_t r = q->g->a.ch_rank[seed->node];
    if (relax(s, qs, r, seed->weight, seed->forward ? SEED_FWD : SEED_BWD, NONE))
        s->track[r] = (node_track){seed->duration_ds, seed->distance_dm};
}

static void seed_source(cv_ch_query *q, side *s, uint32_t qs, const cv_snap *src)
{
    cv_seed seeds[CV_MAX_SEEDS];
    uint32_t n = cv_source_seeds(q->g, src, seeds, CV_MAX_SEEDS);
    for (uint32_t k = 0; k < n; k++)
        relax_seed(q, s, qs, &seeds[k]);
}

static void seed_target(cv_ch_query *q, side *s, uint32_t qs, const cv_snap *dst)
{
    cv_seed seeds[CV_MAX_SEEDS];
    uint32_t n = cv_target_seeds(q->g, dst, seeds, CV_MAX_SEEDS);
    for (uint32_t k = 0; k < n; k++)
        relax_seed(q, s, qs, &seeds[k]);
}

/* Is r reached more cheaply from above than its tentative distance says? Then nothing relaxed from it can be on
   a shortest route (stall-on-demand). Forward searches look at the arcs coming down into r, backward ones at the
   arcs going up from r. */
static inline int stalled(const cv_graph *g, const side *s, uint32_t qs, uint32_t r, int forward)
{
    const uint32_t *first = forward ? g->a.ch_down_first : g->a.ch_up_first;
    const cv_ch_link *l = forward ? g->a.ch_down : g->a.ch_up;
    uint32_t d = s->hot[r].dist;
    for (uint32_t k = first[r]; k < first[r + 1]; k++) {
        const node_hot *y = &s->hot[l[k].node];
        if ((y->stamp | 1) == (qs | 1) && (uint64_t)y->dist + l[k].weight < d)
            return 1;
    }
    return 0;
}

/* Settles the top of side s and relaxes its arcs; returns the rank settled, or NONE when it was stalled. */
static inline uint32_t step(cv_ch_query *q, side *s, uint32_t qs, int forward, int track)
{
    const cv_graph *g = q->g;
    uint32_t r = pop(s);
    q->settled++;
    if (stalled(g, s, qs, r, forward))
        return NONE;
    if (track && s->cold[r].pred < SEED_BWD) {
        const cv_ch_unpack *a = &g->a.ch_arcs[s->cold[r].pred];
        const node_track *p = &s->track[s->cold[r].pred_node];
        s->track[r] = (node_track){p->dur + a->duration_ds, p->len + a->distance_dm};
    }
    const uint32_t *first = forward ? g->a.ch_up_first : g->a.ch_down_first;
    const cv_ch_link *l = forward ? g->a.ch_up : g->a.ch_down;
    uint32_t dr = s->hot[r].dist;
    for (uint32_t k = first[r]; k < first[r + 1]; k++) {
        uint64_t d = (uint64_t)dr + l[k].weight;
        if (d < CV_INF_WEIGHT)
            relax(s, qs, l[k].node, (uint32_t)d, l[k].arc, r);
    }
    return r;
}

static int push_stack(cv_ch_query *q, size_t *n, uint32_t v)
{
    if (*n == q->cap_stack) {
        size_t nc = q->cap_stack ? q->cap_stack * 2 : 256;
        uint32_t *p = realloc(q->stack, nc * sizeof *p);
        if (!p)
            return -1;
        q->stack = p;
        q->cap_stack = nc;
    }
    q->stack[(*n)++] = v;
    return 0;
}

/* Appends the original arcs of hierarchy arc a to the path, in travel order, using the stack above `base`. */
static int unpack(cv_ch_query *q, uint32_t a, size_t base, cv_path *out)
{
    size_t n = base;
    if (push_stack(q, &n, a))
        return -1;
    while (n > base) {
        const cv_ch_unpack *u = &q->g->a.ch_arcs[q->stack[--n]];
        if (u->second == CV_CH_ORIGINAL) {
            if (cv_path_reserve(out, 1))
                return -1;
            out->arcs[out->narcs++] = u->first;
        } else if (push_stack(q, &n, u->second) || push_stack(q, &n, u->first)) {
            return -1;
        }
    }
    return 0;
}

/* The bidirectional search from s to t: *best gets the least weight (UINT64_MAX when unreachable), *meet the
   node where the two searches meet (NONE for a ride along one edge, *direct set). */
static void search(cv_ch_query *q, const cv_snap *s, const cv_snap *t, uint64_t *bestp, uint32_t *meetp, int *directp)
{
    const cv_graph *g = q->g;
    uint32_t qs = next_query(q);
    q->f.nheap = q->b.nheap = 0;
    q->settled = 0;
    uint64_t best = cv_path_direct_weight(g, s, t);
    int direct = best != UINT64_MAX;
    uint32_t meet = NONE;
    seed_source(q, &q->f, qs, s);
    seed_target(q, &q->b, qs, t);
    int fdone = 0, bdone = 0;
    for (;;) {
        fdone = fdone || !heap_live(&q->f) || q->f.heap[0].key >= best;
        bdone = bdone || !heap_live(&q->b) || q->b.heap[0].key >= best;
        if (fdone && bdone)
            break;
        int forward = bdone || (!fdone && q->f.heap[0].key <= q->b.heap[0].key);
        side *me = forward ? &q->f : &q->b, *other = forward ? &q->b : &q->f;
        uint32_t r = step(q, me, qs, forward, 0);
        if (r == NONE || (other->hot[r].stamp | 1) != (qs | 1))
            continue;
        uint64_t c = (uint64_t)me->hot[r].dist + other->hot[r].dist;
        if (c < best) {
            best = c;
            meet = r;
            direct = 0;
        }
    }
    *bestp = best;
    *meetp = meet;
    *directp = direct;
}

/* Duration and distance along the search tree of side s from its seed to r, summed down the predecessors: a
   point-to-point search does not carry them, as only the meeting node's are needed. */
static node_track chain_track(const cv_ch_query *q, const side *s, uint32_t r)
{
    node_track t = {0, 0};
    while (s->cold[r].pred < SEED_BWD) {
        const cv_ch_unpack *a = &q->g->a.ch_arcs[s->cold[r].pred];
        t.dur += a->duration_ds;
        t.len += a->distance_dm;
        r = s->cold[r].pred_node;
    }
    t.dur += s->track[r].dur;
    t.len += s->track[r].len;
    return t;
}

/* cv_ch_cost and cv_ch_cost_to: to_many 1 combines the source's labels (one source, many targets), 0 the
   target's. */
static int ch_cost(cv_ch_query *q, const cv_snap *s, const cv_snap *t, int to_many, cv_table_cell *out)
{
    uint64_t best;
    uint32_t meet = NONE, dur = 0, len = 0;
    int direct;
    if (q->hlq) {
        q->settled = 0;
        if (to_many)
            cv_hl_cost(q->hlq, s, t, &best, &direct, &dur, &len);
        else
            cv_hl_cost_to(q->hlq, s, t, &best, &direct, &dur, &len);
    } else {
        search(q, s, t, &best, &meet, &direct);
    }
    if (best == UINT64_MAX) {
        *out = (cv_table_cell){CV_INF_WEIGHT, 0, 0};
        return CV_ENOROUTE;
    }
    out->weight = best > CV_INF_WEIGHT ? CV_INF_WEIGHT : (uint32_t)best;
    if (direct) {
        out->duration_ds = (uint32_t)best;
        out->distance_dm = s->from_u_dm > t->from_u_dm ? s->from_u_dm - t->from_u_dm : t->from_u_dm - s->from_u_dm;
    } else if (q->hlq) {
        out->duration_ds = dur;
        out->distance_dm = len;
    } else {
        node_track f = chain_track(q, &q->f, meet), b = chain_track(q, &q->b, meet);
        out->duration_ds = f.dur + b.dur;
        out->distance_dm = f.len + b.len;
    }
    return 0;
}

int cv_ch_cost(cv_ch_query *q, const cv_snap *s, const cv_snap *t, cv_table_cell *out)
{
    return ch_cost(q, s, t, 1, out);
}

int cv_ch_cost_to(cv_ch_query *q, const cv_snap *s, const cv_snap *t, cv_table_cell *out)
{
    return ch_cost(q, s, t, 0, out);
}

int cv_ch_route(cv_ch_query *q, const cv_snap *s, const cv_snap *t, cv_path *out, cv_error *err)
{
    const cv_graph *g = q->g;
    out->narcs = 0;
    out->src = *s;
    out->dst = *t;
    out->direct = 0;
    if (q->hlq) {
        q->settled = 0;
        return cv_hl_route(q->hlq, s, t, out, err);
    }
    uint64_t best;
    uint32_t meet;
    int direct;
    search(q, s, t, &best, &meet, &direct);
    if (best == UINT64_MAX)
        return cv_fail(err, CV_ENOROUTE, "no route from %.7f,%.7f to %.7f,%.7f", cv_deg(s->location.lon),
                       cv_deg(s->location.lat), cv_deg(t->location.lon), cv_deg(t->location.lat));
    out->weight = best > CV_INF_WEIGHT ? CV_INF_WEIGHT : (uint32_t)best;
    if (direct) {
        out->direct = 1;
        return cv_path_finish(g, out);
    }
    /* up from the source to the meeting node: collect the arcs backwards, then unpack them in travel order */
    size_t nup = 0;
    uint32_t r = meet;
    while (q->f.cold[r].pred < SEED_BWD) {
        if (push_stack(q, &nup, q->f.cold[r].pred))
            return cv_fail(err, CV_ENOMEM, "out of memory");
        r = q->f.cold[r].pred_node;
    }
    out->src_forward = q->f.cold[r].pred == SEED_FWD;
    /* the upward arcs stay at the bottom of the stack; unpacking works above them */
    int bad = 0;
    for (size_t i = nup; i-- > 0 && !bad;)
        bad = unpack(q, q->stack[i], nup, out);
    r = meet;
    while (!bad && q->b.cold[r].pred < SEED_BWD) {
        bad = unpack(q, q->b.cold[r].pred, 0, out);
        r = q->b.cold[r].pred_node;
    }
    if (bad)
        return cv_fail(err, CV_ENOMEM, "out of memory");
    out->dst_forward = q->b.cold[r].pred == SEED_FWD;
    return cv_path_finish(g, out);
}

/* Indexes of the n points sorted along a Hilbert curve over the graph's bounding box (malloc'ed). */
static uint32_t *spatial_order(cv_ch_query *q, const cv_snap *pts, size_t n)
{
    const int32_t *bb = q->g->hdr.bbox;
    double sx = 65535.0 / ((double)bb[2] - bb[0] + 1), sy = 65535.0 / ((double)bb[3] - bb[1] + 1);
    cv_key_index *k = malloc((n ? n : 1) * sizeof *k);
    uint32_t *out = malloc((n ? n : 1) * sizeof *out);
    if (!k || !out) {
        free(k), free(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        double x = ((double)pts[i].location.lon - bb[0]) * sx, y = ((double)pts[i].location.lat - bb[1]) * sy;
        x = x < 0 ? 0 : x > 65535 ? 65535 : x;
        y = y < 0 ? 0 : y > 65535 ? 65535 : y;
        k[i] = (cv_key_index){cv_hilbert16((uint32_t)x, (uint32_t)y), (uint32_t)i};
    }
    qsort(k, n, sizeof *k, cv_key_index_cmp);
    for (size_t i = 0; i < n; i++)
        out[i] = k[i].index;
    free(k);
    return out;
}

static int add_bucket(cv_ch_query *q, bucket_entry e)
{
    if (q->nbk == q->cap_bk) {
        size_t nc = q->cap_bk ? q->cap_bk * 2 : 4096;
        bucket_entry *p = realloc(q->bk, nc * sizeof *p);
        if (!p)
            return -1;
        q->bk = p;
        q->cap_bk = nc;
    }
    q->bk[q->nbk++] = e;
    return 0;
}

/* A source reaches node r for `at`: the destinations in r's bucket may be reached through it. */
static inline void scan_bucket(cv_ch_query *q, cv_table_cell *row, uint32_t r, uint32_t weight, uint32_t dur,
                               uint32_t len)
{
    const bucket_hot *e = q->grouped + q->bk_first[r];
    for (uint32_t k = 0, n = q->bk_count[r]; k < n; k++) {
        uint64_t w = (uint64_t)weight + e[k].weight;
        cv_table_cell *c = &row[e[k].target];
        if (w < c->weight) {
            const bucket_cold *x = &q->grouped_cold[q->bk_first[r] + k];
            c->weight = (uint32_t)w;
            c->duration_ds = dur + x->dur;
            c->distance_dm = len + x->len;
        }
    }
}

int cv_ch_table(cv_ch_query *q, const cv_snap *src, size_t ns, const cv_snap *dst, size_t nd, cv_table_cell *out,
                cv_error *err)
{
    const cv_graph *g = q->g;
    q->settled = 0;
    q->nbk = 0;
    reserve_queries(q, (uint64_t)ns + nd + 1);
    for (size_t i = 0; i < ns * nd; i++)
        out[i] = (cv_table_cell){CV_INF_WEIGHT, 0, 0};
    /* searches run in the order of their points along a Hilbert curve: consecutive searches then start near
       each other and find the bottom of the hierarchy still in cache */
    uint32_t *dord = spatial_order(q, dst, nd), *sord = spatial_order(q, src, ns);
    if (!dord || !sord) {
        free(dord), free(sord);
        return cv_fail(err, CV_ENOMEM, "out of memory");
    }
    /* backward searches from every destination leave (destination, weight) in the buckets of the nodes they
       settle */
    for (size_t jj = 0; jj < nd; jj++) {
        size_t j = dord[jj];
        uint32_t qs = next_query(q);
        if (q->hlq) {
            /* with labels, the destination's combined backward label is its bucket content */
            uint32_t nh = cv_hl_combine(q->hlq, &dst[j], 0);
            for (uint32_t k = 0; k < nh; k++) {
                uint32_t weight, dur, len, h = cv_hl_hub(q->hlq, k, &weight);
                cv_hl_hub_track(q->hlq, k, &dur, &len);
                if (add_bucket(q, (bucket_entry){h, (uint32_t)j, weight, dur, len}))
                    goto nomem;
            }
            continue;
        }
        q->b.nheap = 0;
        seed_target(q, &q->b, qs, &dst[j]);
        while (heap_live(&q->b)) {
            uint32_t r = step(q, &q->b, qs, 0, 1);
            if (r == NONE)
                continue;
            if (add_bucket(q, (bucket_entry){r, (uint32_t)j, q->b.hot[r].dist, q->b.track[r].dur, q->b.track[r].len}))
                goto nomem;
        }
    }
    /* group the entries by node without sorting: count per node, lay the buckets out, scatter */
    uint32_t bq = next_query(q);
    size_t ntouched = 0;
    for (size_t k = 0; k < q->nbk; k++) {
        uint32_t r = q->bk[k].node;
        if (q->bk_stamp[r] != bq) {
            q->bk_stamp[r] = bq;
            q->bk_count[r] = 0;
            q->bk_touched[ntouched++] = r;
        }
        q->bk_count[r]++;
    }
    uint32_t at = 0;
    for (size_t i = 0; i < ntouched; i++) {
        uint32_t r = q->bk_touched[i];
        q->bk_first[r] = at;
        at += q->bk_count[r];
        q->bk_count[r] = 0;
    }
    if (q->cap_grouped < q->nbk) {
        bucket_hot *p = realloc(q->grouped, q->nbk * sizeof *p);
        if (p)
            q->grouped = p;
        bucket_cold *c = realloc(q->grouped_cold, q->nbk * sizeof *c);
        if (c)
            q->grouped_cold = c;
        if (!p || !c)
            goto nomem;
        q->cap_grouped = q->nbk;
    }
    for (size_t k = 0; k < q->nbk; k++) {
        uint32_t r = q->bk[k].node;
        uint32_t pos = q->bk_first[r] + q->bk_count[r]++;
        q->grouped[pos] = (bucket_hot){q->bk[k].target, q->bk[k].weight};
        q->grouped_cold[pos] = (bucket_cold){q->bk[k].dur, q->bk[k].len};
    }
    /* forward searches from every source scan the buckets of the nodes they settle */
    for (size_t ii = 0; ii < ns; ii++) {
        size_t i = sord[ii];
        cv_table_cell *row = out + i * nd;
        for (size_t j = 0; j < nd; j++) {
            uint64_t dw = cv_path_direct_weight(g, &src[i], &dst[j]);
            if (dw != UINT64_MAX) {
                uint32_t a = src[i].from_u_dm, b = dst[j].from_u_dm;
                row[j] = (cv_table_cell){(uint32_t)dw, (uint32_t)dw, a > b ? a - b : b - a};
            }
        }
        uint32_t qs = next_query(q);
        if (q->hlq) {
            uint32_t nh = cv_hl_combine(q->hlq, &src[i], 1);
            for (uint32_t k = 0; k < nh; k++) {
                uint32_t weight, dur, len, h = cv_hl_hub(q->hlq, k, &weight);
                if (q->bk_stamp[h] != bq)
                    continue;
                cv_hl_hub_track(q->hlq, k, &dur, &len);
                scan_bucket(q, row, h, weight, dur, len);
            }
            continue;
        }
        q->f.nheap = 0;
        seed_source(q, &q->f, qs, &src[i]);
        while (heap_live(&q->f)) {
            uint32_t r = step(q, &q->f, qs, 1, 1);
            if (r == NONE || q->bk_stamp[r] != bq)
                continue;
            scan_bucket(q, row, r, q->f.hot[r].dist, q->f.track[r].dur, q->f.track[r].len);
        }
    }
    free(dord), free(sord);
    return 0;
nomem:
    free(dord), free(sord);
    return cv_fail(err, CV_ENOMEM, "out of memory");
}

uint32_t cv_ch_nodes(const cv_ch_query *q)
{
    return q->n;
}

int cv_ch_space(cv_ch_query *q, const cv_snap *s, int forward, cv_space_entry **out, size_t *n, size_t *cap,
                cv_error *err)
{
    uint32_t qs = next_query(q);
    side *sd = forward ? &q->f : &q->b;
    sd->nheap = 0;
    q->settled = 0;
    *n = 0;
    if (q->hlq) {
        uint32_t nh = cv_hl_combine(q->hlq, s, forward);
        if (*cap < nh) {
            cv_space_entry *p = realloc(*out, nh * sizeof *p);
            if (!p)
                return cv_fail(err, CV_ENOMEM, "out of memory");
            *out = p;
            *cap = nh;
        }
        for (uint32_t k = 0; k < nh; k++) {
            uint32_t weight, dur, len, h = cv_hl_hub(q->hlq, k, &weight);
            cv_hl_hub_track(q->hlq, k, &dur, &len);
            (*out)[k] = (cv_space_entry){h, weight, dur, len};
        }
        *n = nh;
        return 0;
    }
    if (forward)
        seed_source(q, sd, qs, s);
    else
        seed_target(q, sd, qs, s);
    while (heap_live(sd)) {
        uint32_t r = step(q, sd, qs, forward, 1);
        if (r == NONE)
            continue;
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 256;
            cv_space_entry *p = realloc(*out, nc * sizeof *p);
            if (!p)
                return cv_fail(err, CV_ENOMEM, "out of memory");
            *out = p;
            *cap = nc;
        }
        (*out)[(*n)++] = (cv_space_entry){r, sd->hot[r].dist, sd->track[r].dur, sd->track[r].len};
    }
    return 0;
}
