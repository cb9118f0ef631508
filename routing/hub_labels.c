/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* hub_labels.c — hub labels from the contraction hierarchy, built top-down.

   The label of a node is made from the labels of its upper neighbours: Lf(r) = {(r, 0)} plus, for each upward
   link r -> w of weight c, every (h, d) of Lf(w) as (h, d + c), keeping the least per hub. An entry (h, d) is then
   pruned when the labels already built show a shorter way: some other candidate x with Lf(r)[x] + Lb(h)[x] < d.
   What is left is exactly the set of nodes whose upward distance from r is their true distance: the top node of
   a shortest route always survives (the path up to it and the path down from it are both exact), and a candidate
   whose distance is too long is always beaten through that top node. Backward labels are the mirror image.

   A node depends only on higher ones, so nodes are grouped in levels (the top is level 0, a node one below its
   deepest upper neighbour) and each level is shared among threads; a level's labels are appended to the arrays
   once all of its threads are done, so no thread ever reads memory another one is writing. */
#define _POSIX_C_SOURCE 200809L
#include "routing/hub_labels.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "routing/ch.h"

/* Bytes of one label entry: what merges read, the duration and distance, the hop. */
#define ENTRY_BYTES (sizeof(cv_hl_entry) + sizeof(cv_hl_info) + sizeof(cv_hl_hop))

/* A candidate while a label is built. */
typedef struct cand {
    uint32_t hub, weight, duration_ds, distance_dm, arc, next, pruned;
} cand;

/* A thread's workspace: dense per-node marks (a stamp per label) and the labels of its share of a level. */
typedef struct worker {
    const cv_hub_labels *hl;
    uint32_t *mark; /* stamp of the label being built when the node is a candidate */
    uint32_t *slot; /* its index in cand */
    uint32_t stamp;
    cand *cand;
    size_t ncand, cap_cand;
    /* output of one level: entries of every label it built, in order, and per node its count */
    cv_hl_entry *out_e;
    cv_hl_info *out_i;
    cv_hl_hop *out_h;
    size_t nout, cap_out;
    const uint32_t *nodes; /* the level's nodes handed to this worker: nodes[k * stride + offset] */
    uint32_t count, offset, stride;
    uint32_t *len; /* per node of the level (by position in it): its label length in this direction */
    int forward;
    int failed;
} worker;

static int grow_cand(worker *w)
{
    size_t nc = w->cap_cand ? w->cap_cand * 2 : 256;
    cand *p = realloc(w->cand, nc * sizeof *p);
    if (!p)
        return -1;
    w->cand = p;
    w->cap_cand = nc;
    return 0;
}

static int cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    return (x->hub > y->hub) - (x->hub < y->hub);
}

/* Builds the label of r in direction `forward` into w->cand (sorted by hub); returns its length or -1. */
static long build_label(worker *w, uint32_t r, int forward)
{
    const cv_hub_labels *hl = w->hl;
    const cv_graph *g = hl->g;
    const uint32_t *first = forward ? g->a.ch_up_first : g->a.ch_down_first;
    const cv_ch_link *links = forward ? g->a.ch_up : g->a.ch_down;
    if (++w->stamp == 0) {
        memset(w->mark, 0, hl->n * sizeof *w->mark);
        w->stamp = 1;
    }
    uint32_t st = w->stamp;
    w->ncand = 0;
    if (w->ncand == w->cap_cand && grow_cand(w))
        return -1;
    w->cand[w->ncand++] = (cand){r, 0, 0, 0, CV_HL_END, CV_HL_END, 0};
    w->mark[r] = st;
    w->slot[r] = 0;
    for (uint32_t k = first[r]; k < first[r + 1]; k++) {
        const cv_ch_link *l = &links[k];
        const cv_ch_unpack *a = &g->a.ch_arcs[l->arc];
        uint32_t n;
        const cv_hl_info *info;
        const cv_hl_entry *e = cv_hl_label(hl, forward, l->node, &n, &info);
        uint64_t base = hl->start[forward][l->node];
        for (uint32_t i = 0; i < n; i++) {
            uint64_t d = (uint64_t)e[i].weight + l->weight;
            if (d >= CV_INF_WEIGHT)
                continue;
            uint32_t h = e[i].hub;
            cand c = {.hub = h,
                      .weight = (uint32_t)d,
                      .duration_ds = a->duration_ds + info[i].duration_ds,
                      .distance_dm = a->distance_dm + info[i].distance_dm,
                      .arc = l->arc,
                      .next = (uint32_t)(base + i)};
            if (w->mark[h] == st) { /* h reached before: keep the lower weight */
                cand *old = &w->cand[w->slot[h]];
                if (c.weight < old->weight)
                    *old = c;
                continue;
            }
            if (w->ncand == w->cap_cand && grow_cand(w))
                return -1;
            w->mark[h] = st;
            w->slot[h] = (uint32_t)w->ncand;
            w->cand[w->ncand++] = c;
        }
    }
    /* prune: (h, d) goes when a shared hub x of this label and the opposite label of h gives less than d */
    for (size_t i = 1; i < w->ncand; i++) {
        const cand *c = &w->cand[i];
        uint32_t n;
        const cv_hl_entry *e = cv_hl_label(hl, !forward, c->hub, &n, NULL);
        int beaten = 0;
        for (uint32_t j = 0; j < n && !beaten; j++) {
            uint32_t x = e[j].hub;
            if (x != c->hub && w->mark[x] == st && (uint64_t)w->cand[w->slot[x]].weight + e[j].weight < c->weight)
                beaten = 1;
        }
        /* keep the candidate in place (others' pruning reads it by slot); mark the pruned ones */
        if (beaten)
            w->cand[i].pruned = 1;
    }
    size_t o = 0;
    for (size_t i = 0; i < w->ncand; i++)
        if (!w->cand[i].pruned)
            w->cand[o++] = w->cand[i];
    w->ncand = o;
    qsort(w->cand, w->ncand, sizeof *w->cand, cmp_cand);
    return (long)w->ncand;
}

static int append_out(worker *w)
{
    if (w->nout + w->ncand > w->cap_out) {
        size_t nc = w->cap_out ? w->cap_out * 2 : 4096;
        while (nc < w->nout + w->ncand)
            nc *= 2;
        cv_hl_entry *e = realloc(w->out_e, nc * sizeof *e);
        if (e)
            w->out_e = e;
        cv_hl_info *i = realloc(w->out_i, nc * sizeof *i);
        if (i)
            w->out_i = i;
        cv_hl_hop *v = realloc(w->out_h, nc * sizeof *v);
        if (v)
            w->out_h = v;
        if (!e || !i || !v)
            return -1;
        w->cap_out = nc;
    }
    for (size_t i = 0; i < w->ncand; i++) {
        const cand *c = &w->cand[i];
        w->out_e[w->nout] = (cv_hl_entry){c->hub, c->weight};
        w->out_i[w->nout] = (cv_hl_info){c->duration_ds, c->distance_dm};
        w->out_h[w->nout] = (cv_hl_hop){c->arc, c->next};
        w->nout++;
    }
    return 0;
}

/* One worker's share of a level, in one direction. */
static void *run_level(void *arg)
{
    worker *w = arg;
    w->nout = 0;
    for (uint32_t k = 0; k < w->count && !w->failed; k++) {
        uint32_t pos = k * w->stride + w->offset;
        uint32_t r = w->nodes[pos];
        long n = build_label(w, r, w->forward);
        if (n < 0 || append_out(w))
            w->failed = 1;
        else
            w->len[pos] = (uint32_t)n;
    }
    return NULL;
}

void cv_hub_labels_free(cv_hub_labels *hl)
{
    if (!hl)
        return;
    for (int d = 0; d < 2; d++)
        free(hl->start[d]), free(hl->len[d]), free(hl->e[d]), free(hl->info[d]), free(hl->hop[d]);
    free(hl->unpacked_first), free(hl->unpacked);
    free(hl);
}

uint64_t cv_hub_labels_bytes(const cv_hub_labels *hl)
{
    uint64_t b = sizeof *hl + ((uint64_t)hl->g->hdr.nch_arcs + 1) * sizeof(uint32_t);
    if (hl->unpacked_first)
        b += (uint64_t)hl->unpacked_first[hl->g->hdr.nch_arcs] * sizeof(uint32_t);
    for (int d = 0; d < 2; d++)
        b += (uint64_t)hl->n * (sizeof(uint64_t) + sizeof(uint32_t)) + hl->nentries[d] * ENTRY_BYTES;
    return b;
}

int64_t cv_hl_find(const cv_hub_labels *hl, int forward, uint32_t r, uint32_t h)
{
    uint32_t n;
    const cv_hl_entry *e = cv_hl_label(hl, forward, r, &n, NULL);
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (e[mid].hub < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && e[lo].hub == h ? (int64_t)lo : -1;
}

/* Where the original arc codes of each hierarchy arc start in the array of all of them unpacked: first[a] and
   first[a + 1] bound arc a's, first[na] is the total (a shortcut's halves come before it, so one pass in arc order
   does). first has nch_arcs + 1 entries. Returns 0, CV_EINTERNAL or CV_ETOOBIG. */
static int unpacked_offsets(const cv_graph *g, uint32_t *first, cv_error *err)
{
    uint64_t total = 0;
    first[0] = 0;
    for (uint32_t a = 0; a < g->hdr.nch_arcs; a++) {
        const cv_ch_unpack *u = &g->a.ch_arcs[a];
        if (u->second != CV_CH_ORIGINAL && (u->first >= a || u->second >= a))
            return cv_fail(err, CV_EINTERNAL, "hierarchy arc %u refers to a later arc", a);
        total += u->second == CV_CH_ORIGINAL
                     ? 1
                     : (uint64_t)(first[u->first + 1] - first[u->first]) + (first[u->second + 1] - first[u->second]);
        if (total >= UINT32_MAX)
            return cv_fail(err, CV_ETOOBIG, "unpacked hierarchy arcs would exceed %u entries", UINT32_MAX - 1);
        first[a + 1] = (uint32_t)total;
    }
    return 0;
}

/* Every hierarchy arc unpacked to original arc codes, in arc order. */
static int build_unpacked(cv_hub_labels *hl, uint64_t max_bytes, uint64_t used, cv_error *err)
{
    const cv_graph *g = hl->g;
    uint32_t na = g->hdr.nch_arcs;
    hl->unpacked_first = malloc(((size_t)na + 1) * sizeof *hl->unpacked_first);
    if (!hl->unpacked_first)
        return CV_ENOMEM;
    int rc = unpacked_offsets(g, hl->unpacked_first, err);
    if (rc)
        return rc;
    uint64_t total = hl->unpacked_first[na];
    if (max_bytes && used + total * sizeof(uint32_t) > max_bytes)
        return cv_fail(err, CV_ETOOBIG, "hub labels would exceed %llu MB (with the unpacked arcs)",
                       (unsigned long long)(max_bytes >> 20));
    hl->unpacked = malloc((total ? total : 1) * sizeof *hl->unpacked);
    if (!hl->unpacked)
        return CV_ENOMEM;
    const uint32_t *f = hl->unpacked_first;
    for (uint32_t a = 0; a < na; a++) {
        const cv_ch_unpack *u = &g->a.ch_arcs[a];
        uint32_t *out = hl->unpacked + f[a];
        if (u->second == CV_CH_ORIGINAL) {
            *out = u->first;
            continue;
        }
        uint32_t n1 = f[u->first + 1] - f[u->first];
        memcpy(out, hl->unpacked + f[u->first], n1 * sizeof *out);
        memcpy(out + n1, hl->unpacked + f[u->second], (f[u->second + 1] - f[u->second]) * sizeof *out);
    }
    return 0;
}

uint64_t cv_hub_labels_estimate(const cv_graph *g, unsigned samples)
{
    cv_ch_query *q = g->hdr.nedges ? cv_ch_query_new(g) : NULL;
    if (!q)
        return 0;
    cv_space_entry *sp = NULL;
    size_t n = 0, cap = 0;
    uint64_t total = 0, spaces = 0, x = 0x2545f4914f6cdd1dull;
    for (unsigned i = 0; i < samples; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint32_t e = (uint32_t)(x % g->hdr.nedges);
        uint32_t np;
        const cv_coord *p = cv_graph_edge_points(g, e, &np);
        cv_snap s = {0};
        s.edge = e;
        s.point = g->a.edge_first_point[e];
        s.t = 0.5;
        s.location = (cv_coord){p[0].lon / 2 + p[1].lon / 2, p[0].lat / 2 + p[1].lat / 2};
        s.input = s.location;
        cv_snap_fill(g, &s);
        for (int fwd = 0; fwd < 2; fwd++)
            if (cv_ch_space(q, &s, fwd, &sp, &n, &cap, NULL) == 0)
                total += n, spaces++;
    }
    free(sp);
    cv_ch_query_free(q);
    /* the rest is known exactly: per node where its labels start and their lengths, and the unpacked arcs */
    uint32_t na = g->hdr.nch_arcs;
    uint32_t *first = malloc(((size_t)na + 1) * sizeof *first);
    cv_error ignored;
    uint64_t unpacked = first && unpacked_offsets(g, first, &ignored) == 0 ? first[na] : 0;
    free(first);
    if (!spaces)
        return 0;
    double per_node = (double)total / (double)spaces; /* one way */
    double entries = per_node * 2.0 * g->hdr.nnodes * ENTRY_BYTES;
    return (uint64_t)entries + (uint64_t)g->hdr.nnodes * 2 * (sizeof(uint64_t) + sizeof(uint32_t)) +
           ((uint64_t)na + 1 + unpacked) * sizeof(uint32_t) + sizeof(cv_hub_labels);
}

/* Levels: the top node is level 0; a node is one below the deepest of its upper neighbours (either direction).
   Returns the nodes sorted by level in *order and the start of each level in *lstart (levels + 1 entries). */
static int make_levels(const cv_graph *g, uint32_t n, uint32_t **order, uint32_t **lstart, uint32_t *nlevels)
{
    uint32_t *level = malloc((n ? n : 1) * sizeof *level);
    if (!level)
        return -1;
    uint32_t maxl = 0;
    for (uint32_t r = n; r-- > 0;) {
        uint32_t l = 0;
        for (uint32_t k = g->a.ch_up_first[r]; k < g->a.ch_up_first[r + 1]; k++)
            if (level[g->a.ch_up[k].node] + 1 > l)
                l = level[g->a.ch_up[k].node] + 1;
        for (uint32_t k = g->a.ch_down_first[r]; k < g->a.ch_down_first[r + 1]; k++)
            if (level[g->a.ch_down[k].node] + 1 > l)
                l = level[g->a.ch_down[k].node] + 1;
        level[r] = l;
        maxl = l > maxl ? l : maxl;
    }
    *nlevels = n ? maxl + 1 : 0;
    *lstart = calloc((size_t)*nlevels + 2, sizeof **lstart);
    *order = malloc((n ? n : 1) * sizeof **order);
    if (!*lstart || !*order) {
        free(level), free(*lstart), free(*order);
        *lstart = NULL, *order = NULL; /* the caller frees them too */
        return -1;
    }
    for (uint32_t r = 0; r < n; r++)
        (*lstart)[level[r] + 1]++;
    for (uint32_t l = 0; l < *nlevels; l++)
        (*lstart)[l + 1] += (*lstart)[l];
    uint32_t *at = malloc(((size_t)*nlevels + 1) * sizeof *at);
    if (!at) {
        free(level), free(*lstart), free(*order);
        *lstart = NULL, *order = NULL;
        return -1;
    }
    memcpy(at, *lstart, ((size_t)*nlevels + 1) * sizeof *at);
    for (uint32_t r = n; r-- > 0;)
        (*order)[at[level[r]]++] = r;
    free(at);
    free(level);
    return 0;
}

/* Search spaces sampled for the estimate that refuses labels far over the limit before building any. */
#define ESTIMATE_SAMPLES 128

int cv_hub_labels_build(const cv_graph *g, unsigned threads, uint64_t max_bytes, cv_progress *progress,
                        cv_hub_labels **out, cv_error *err)
{
    *out = NULL;
    double t0 = cv_now();
    uint32_t n = g->hdr.nnodes;
    if (threads == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        threads = c > 0 ? (unsigned)c : 1;
    }
    if (threads > 16)
        threads = 16;
    if (max_bytes) {
        /* the estimate runs up to a fifth over (1.03 to 1.22 on the extracts at hand): refuse at once only what is
           clearly over; in between, the build stops at the level where the limit is crossed */
        uint64_t est = cv_hub_labels_estimate(g, ESTIMATE_SAMPLES);
        if (est / 5 * 4 > max_bytes)
            return cv_fail(err, CV_ETOOBIG,
                           "hub labels would exceed %llu MB: about %llu MB, estimated from %u search spaces; queries "
                           "use the hierarchy alone",
                           (unsigned long long)(max_bytes >> 20), (unsigned long long)(est >> 20),
                           2 * ESTIMATE_SAMPLES);
    }
    cv_hub_labels *hl = calloc(1, sizeof *hl);
    uint32_t *order = NULL, *lstart = NULL, *len = NULL;
    worker *ws = calloc(threads, sizeof *ws);
    int rc = CV_ENOMEM;
    if (!hl || !ws)
        goto done;
    hl->g = g;
    hl->n = n;
    uint64_t cap[2] = {0, 0};
    for (int d = 0; d < 2; d++) {
        hl->start[d] = calloc(n ? n : 1, sizeof *hl->start[d]);
        hl->len[d] = calloc(n ? n : 1, sizeof *hl->len[d]);
        if (!hl->start[d] || !hl->len[d])
            goto done;
    }
    if (make_levels(g, n, &order, &lstart, &hl->levels))
        goto done;
    len = malloc((n ? n : 1) * sizeof *len);
    if (!len)
        goto done;
    for (unsigned t = 0; t < threads; t++) {
        ws[t].hl = hl;
        ws[t].mark = calloc(n ? n : 1, sizeof *ws[t].mark);
        ws[t].slot = malloc((n ? n : 1) * sizeof *ws[t].slot);
        if (!ws[t].mark || !ws[t].slot)
            goto done;
    }
    if (progress)
        cv_progress_phase(progress, "hub labels");
    uint32_t done_nodes = 0;
    for (uint32_t lv = 0; lv < hl->levels; lv++) {
        uint32_t a = lstart[lv], b = lstart[lv + 1], cnt = b - a;
        for (int d = 1; d >= 0; d--) {
            /* small levels are not worth a thread */
            unsigned nt = cnt >= 64 * threads ? threads : 1;
            pthread_t tid[16];
            unsigned started = 0;
            for (unsigned t = 0; t < nt; t++) {
                worker *w = &ws[t];
                w->nodes = order + a;
                w->offset = t;
                w->stride = nt;
                w->count = cnt > t ? (cnt - t + nt - 1) / nt : 0;
                w->len = len + a;
                w->forward = d;
                w->failed = 0;
                if (t > 0 && pthread_create(&tid[t], NULL, run_level, w) == 0)
                    started |= 1u << t;
                else if (t > 0)
                    run_level(w);
            }
            run_level(&ws[0]);
            for (unsigned t = 1; t < nt; t++)
                if (started & (1u << t))
                    pthread_join(tid[t], NULL);
            /* append in worker order; within a worker, labels are in its node order */
            uint64_t add = 0;
            for (unsigned t = 0; t < nt; t++) {
                if (ws[t].failed)
                    goto done;
                add += ws[t].nout;
            }
            uint64_t need = hl->nentries[d] + add;
            uint64_t bytes_now = (hl->nentries[0] + hl->nentries[1] + add) * ENTRY_BYTES;
            if (max_bytes && bytes_now > max_bytes) {
                rc = cv_fail(err, CV_ETOOBIG,
                             "hub labels would exceed %llu MB (%llu MB at level %u of %u); queries use the "
                             "hierarchy alone",
                             (unsigned long long)(max_bytes >> 20), (unsigned long long)(bytes_now >> 20), lv,
                             hl->levels);
                goto done;
            }
            if (need >= CV_HL_END) {
                rc = cv_fail(err, CV_ETOOBIG, "hub labels would have more than %u entries", CV_HL_END - 1);
                goto done;
            }
            if (need > cap[d]) {
                uint64_t nc = cap[d] ? cap[d] * 2 : 65536;
                while (nc < need)
                    nc *= 2;
                cv_hl_entry *e = realloc(hl->e[d], nc * sizeof *e);
                if (e)
                    hl->e[d] = e;
                cv_hl_info *in = realloc(hl->info[d], nc * sizeof *in);
                if (in)
                    hl->info[d] = in;
                cv_hl_hop *v = realloc(hl->hop[d], nc * sizeof *v);
                if (v)
                    hl->hop[d] = v;
                if (!e || !in || !v)
                    goto done;
                cap[d] = nc;
            }
            for (unsigned t = 0; t < nt; t++) {
                worker *w = &ws[t];
                uint64_t at = hl->nentries[d];
                memcpy(hl->e[d] + at, w->out_e, w->nout * sizeof *w->out_e);
                memcpy(hl->info[d] + at, w->out_i, w->nout * sizeof *w->out_i);
                memcpy(hl->hop[d] + at, w->out_h, w->nout * sizeof *w->out_h);
                for (uint32_t k = 0; k < w->count; k++) {
                    uint32_t pos = k * w->stride + w->offset;
                    uint32_t r = order[a + pos];
                    hl->start[d][r] = at;
                    hl->len[d][r] = len[a + pos];
                    at += len[a + pos];
                }
                hl->nentries[d] = at;
            }
        }
        done_nodes += cnt;
        if (progress)
            cv_progress_update(progress, done_nodes, n);
    }
    /* the arrays grew by doubling: give back the unused tail (shrinking never fails in practice; if it does, the
       larger block stays) */
    for (int d = 0; d < 2; d++) {
        uint64_t m = hl->nentries[d] ? hl->nentries[d] : 1;
        cv_hl_entry *e = realloc(hl->e[d], m * sizeof *e);
        hl->e[d] = e ? e : hl->e[d];
        cv_hl_info *in = realloc(hl->info[d], m * sizeof *in);
        hl->info[d] = in ? in : hl->info[d];
        cv_hl_hop *hp = realloc(hl->hop[d], m * sizeof *hp);
        hl->hop[d] = hp ? hp : hl->hop[d];
    }
    rc = build_unpacked(hl, max_bytes, cv_hub_labels_bytes(hl), err);
done:
    if (ws)
        for (unsigned t = 0; t < threads; t++)
            free(ws[t].mark), free(ws[t].slot), free(ws[t].cand), free(ws[t].out_e), free(ws[t].out_i),
                free(ws[t].out_h);
    free(ws), free(order), free(lstart), free(len);
    if (rc == 0) {
        hl->build_s = cv_now() - t0;
        *out = hl;
    } else {
        if (rc == CV_ENOMEM)
            cv_fail(err, CV_ENOMEM, "out of memory building hub labels");
        else if (progress)
            cv_progress_done(progress);
        cv_hub_labels_free(hl);
    }
    return rc;
}

/* --- queries on the labels --- */

#define NONE UINT32_MAX

/* One hub of a point's combined label: the least weight over its seeds, the seed that gave it and that seed's
   entry (its duration and distance are read only where a query needs them). */
typedef struct hl_cell {
    uint32_t weight, seed, pos;
} hl_cell;

struct cv_hl_query {
    const cv_hub_labels *hl;
    /* a dense per-hub combination of the labels of a point's seeds */
    uint32_t mark;   /* the combination's stamp */
    uint32_t *hmark; /* by hub: the stamp of the combination it is in */
    hl_cell *hcell;  /* by hub */
    uint32_t *hhubs; /* the hubs of the combination, in the order found */
    uint32_t nhubs;
    int forward; /* the combination is of forward labels (a source's) */
    cv_seed seeds[CV_MAX_SEEDS];
    cv_snap last; /* the point combined last (when have_last): asked again, its combination stands as it is */
    int have_last;
    uint32_t *stack; /* the hierarchy arcs of a route, while it is unpacked */
    size_t cap_stack;
};

cv_hl_query *cv_hl_query_new(const cv_hub_labels *hl)
{
    cv_hl_query *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->hl = hl;
    size_t m = hl->n ? hl->n : 1;
    w->hmark = calloc(m, sizeof *w->hmark);
    w->hcell = malloc(m * sizeof *w->hcell);
    w->hhubs = malloc(m * sizeof *w->hhubs);
    if (!w->hmark || !w->hcell || !w->hhubs) {
        cv_hl_query_free(w);
        return NULL;
    }
    return w;
}

void cv_hl_query_free(cv_hl_query *w)
{
    if (!w)
        return;
    free(w->hmark), free(w->hcell), free(w->hhubs), free(w->stack);
    free(w);
}

uint32_t cv_hl_combine(cv_hl_query *w, const cv_snap *s, int forward)
{
    const cv_hub_labels *hl = w->hl;
    const cv_graph *g = hl->g;
    /* a point asked again, the same way (a driver against each of many riders): nothing to redo */
    if (w->have_last && w->forward == forward && !memcmp(&w->last, s, sizeof *s))
        return w->nhubs;
    w->last = *s;
    w->have_last = 1;
    uint32_t n =
        forward ? cv_source_seeds(g, s, w->seeds, CV_MAX_SEEDS) : cv_target_seeds(g, s, w->seeds, CV_MAX_SEEDS);
    if (++w->mark == 0) { /* stamps wrapped: clear them once every 4 billion combinations */
        memset(w->hmark, 0, hl->n * sizeof *w->hmark);
        w->mark = 1;
    }
    uint32_t qs = w->mark;
    w->forward = forward;
    w->nhubs = 0;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t len;
        const cv_hl_entry *e = cv_hl_label(hl, forward, g->a.ch_rank[w->seeds[k].node], &len, NULL);
        uint32_t base = (uint32_t)(e - hl->e[forward]);
        for (uint32_t i = 0; i < len; i++) {
            uint64_t c = (uint64_t)w->seeds[k].weight + e[i].weight;
            if (c >= CV_INF_WEIGHT)
                continue;
            uint32_t h = e[i].hub;
            if (w->hmark[h] != qs) {
                w->hmark[h] = qs;
                w->hcell[h] = (hl_cell){(uint32_t)c, k, base + i};
                w->hhubs[w->nhubs++] = h;
            } else if (c < w->hcell[h].weight) {
                w->hcell[h] = (hl_cell){(uint32_t)c, k, base + i};
            }
        }
    }
    return w->nhubs;
}

/* Duration and distance from the combined point (its seeds) to the hub of cell c, or from that hub to the point. */
static inline void hl_track(const cv_hl_query *w, const hl_cell *c, uint32_t *dur, uint32_t *len)
{
    const cv_hl_info *in = &w->hl->info[w->forward][c->pos];
    *dur = w->seeds[c->seed].duration_ds + in->duration_ds;
    *len = w->seeds[c->seed].distance_dm + in->distance_dm;
}

uint32_t cv_hl_hub(const cv_hl_query *w, uint32_t k, uint32_t *weight)
{
    uint32_t h = w->hhubs[k];
    *weight = w->hcell[h].weight;
    return h;
}

void cv_hl_hub_track(const cv_hl_query *w, uint32_t k, uint32_t *dur, uint32_t *len)
{
    hl_track(w, &w->hcell[w->hhubs[k]], dur, len);
}

/* Where the labels of a source and a target meet. The source's are the workspace's combination. */
typedef struct hl_meet {
    uint64_t best; /* UINT64_MAX when unreachable */
    int direct;    /* the ride along one edge is best */
    uint32_t hub, src_seed, dst_seed, dst_pos, dur, len;
    cv_seed ts[CV_MAX_SEEDS];
    uint32_t nts;
} hl_meet;

static void hl_search(cv_hl_query *w, const cv_snap *s, const cv_snap *t, hl_meet *m)
{
    const cv_hub_labels *hl = w->hl;
    const cv_graph *g = hl->g;
    m->best = cv_path_direct_weight(g, s, t);
    m->direct = m->best != UINT64_MAX;
    m->hub = NONE;
    m->nts = cv_target_seeds(g, t, m->ts, CV_MAX_SEEDS);
    cv_hl_combine(w, s, 1);
    for (uint32_t j = 0; j < m->nts; j++) {
        const cv_seed *sd = &m->ts[j];
        uint32_t len;
        const cv_hl_entry *e = cv_hl_label(hl, 0, g->a.ch_rank[sd->node], &len, NULL);
        uint32_t base = (uint32_t)(e - hl->e[0]);
        for (uint32_t i = 0; i < len; i++) {
            uint32_t h = e[i].hub;
            if (w->hmark[h] != w->mark)
                continue;
            uint64_t c = (uint64_t)w->hcell[h].weight + sd->weight + e[i].weight;
            if (c < m->best) {
                m->best = c;
                m->direct = 0;
                m->hub = h;
                m->dst_seed = j;
                m->dst_pos = base + i;
            }
        }
    }
    if (m->hub != NONE) {
        const hl_cell *f = &w->hcell[m->hub];
        const cv_hl_info *b = &hl->info[0][m->dst_pos];
        m->src_seed = f->seed;
        hl_track(w, f, &m->dur, &m->len);
        m->dur += m->ts[m->dst_seed].duration_ds + b->duration_ds;
        m->len += m->ts[m->dst_seed].distance_dm + b->distance_dm;
    }
}

/* The hierarchy arcs of the route through hub m->hub, found by following hops from the two entries the search
   ended on: the upward part, in travel order, at stack[0..*nf), the downward part, in reverse travel order, at
   stack[*nf..*n). Both chains are followed in the same loop, so that their memory reads overlap; each hop goes to
   a node of a higher level, so a chain has at most `levels` arcs. Returns 0, CV_ENOMEM or CV_EINTERNAL. */
static int hl_chains(cv_hl_query *w, const hl_meet *m, size_t *nf, size_t *n)
{
    const cv_hub_labels *hl = w->hl;
    size_t lim = (size_t)hl->levels + 1;
    if (w->cap_stack < 2 * lim) {
        uint32_t *p = realloc(w->stack, 2 * lim * sizeof *p);
        if (!p)
            return CV_ENOMEM;
        w->stack = p;
        w->cap_stack = 2 * lim;
    }
    uint32_t *up = w->stack, *down = w->stack + lim;
    const cv_hl_hop *hf = hl->hop[1], *hb = hl->hop[0];
    uint32_t af = w->hcell[m->hub].pos, ab = m->dst_pos;
    size_t a = 0, b = 0;
    for (;;) {
        int mf = hf[af].next != CV_HL_END, mb = hb[ab].next != CV_HL_END;
        if (!mf && !mb)
            break;
        if (a + mf > lim || b + mb > lim)
            return CV_EINTERNAL;
        if (mf) {
            up[a++] = hf[af].arc;
            af = hf[af].next;
        }
        if (mb) {
            down[b++] = hb[ab].arc;
            ab = hb[ab].next;
        }
    }
    memmove(up + a, down, b * sizeof *down);
    *nf = a;
    *n = a + b;
    return 0;
}

/* Appends the original arcs of hierarchy arc a to the path, in travel order: a copy of the arc unpacked once for
   all. */
static int unpack(const cv_hub_labels *hl, uint32_t a, cv_path *out)
{
    const uint32_t *f = hl->unpacked_first;
    size_t n = f[a + 1] - f[a];
    if (cv_path_reserve(out, n))
        return -1;
    memcpy(out->arcs + out->narcs, hl->unpacked + f[a], n * sizeof *out->arcs);
    out->narcs += n;
    return 0;
}

int cv_hl_route(cv_hl_query *w, const cv_snap *s, const cv_snap *t, cv_path *out, cv_error *err)
{
    const cv_graph *g = w->hl->g;
    hl_meet m;
    hl_search(w, s, t, &m);
    if (m.best == UINT64_MAX)
        return cv_fail(err, CV_ENOROUTE, "no route from %.7f,%.7f to %.7f,%.7f", cv_deg(s->location.lon),
                       cv_deg(s->location.lat), cv_deg(t->location.lon), cv_deg(t->location.lat));
    out->weight = m.best > CV_INF_WEIGHT ? CV_INF_WEIGHT : (uint32_t)m.best;
    if (m.direct) {
        out->direct = 1;
        return cv_path_finish(g, out);
    }
    size_t nf = 0, n = 0;
    int rc = hl_chains(w, &m, &nf, &n);
    /* the upward chain in order, then the downward one from its top */
    for (size_t i = 0; i < nf && rc == 0; i++)
        rc = unpack(w->hl, w->stack[i], out) ? CV_ENOMEM : 0;
    for (size_t i = n; i-- > nf && rc == 0;)
        rc = unpack(w->hl, w->stack[i], out) ? CV_ENOMEM : 0;
    if (rc == CV_ENOMEM)
        return cv_fail(err, CV_ENOMEM, "out of memory");
    if (rc)
        return cv_fail(err, CV_EINTERNAL, "hub labels do not lead to hub %u", m.hub);
    out->src_forward = w->seeds[m.src_seed].forward;
    out->dst_forward = m.ts[m.dst_seed].forward;
    return cv_path_finish(g, out);
}

void cv_hl_cost_to(cv_hl_query *w, const cv_snap *s, const cv_snap *t, uint64_t *weight, int *direct, uint32_t *dur,
                   uint32_t *len)
{
    const cv_hub_labels *hl = w->hl;
    const cv_graph *g = hl->g;
    uint64_t best = cv_path_direct_weight(g, s, t);
    *direct = best != UINT64_MAX;
    cv_hl_combine(w, t, 0); /* the target's backward labels, combined once for a run of sources */
    cv_seed ss[CV_MAX_SEEDS];
    uint32_t ns = cv_source_seeds(g, s, ss, CV_MAX_SEEDS), hub = NONE, seed = 0, pos = 0;
    for (uint32_t j = 0; j < ns; j++) {
        uint32_t n;
        const cv_hl_entry *e = cv_hl_label(hl, 1, g->a.ch_rank[ss[j].node], &n, NULL);
        uint32_t base = (uint32_t)(e - hl->e[1]);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t h = e[i].hub;
            if (w->hmark[h] != w->mark)
                continue;
            uint64_t c = (uint64_t)w->hcell[h].weight + ss[j].weight + e[i].weight;
            /* a tie goes where hl_search's goes, the hub first found in the target's labels, so that both give
               the same route's duration and distance */
            if (c < best || (c == best && hub != NONE &&
                             (w->hcell[h].seed < w->hcell[hub].seed ||
                              (w->hcell[h].seed == w->hcell[hub].seed && w->hcell[h].pos < w->hcell[hub].pos))))
                best = c, *direct = 0, hub = h, seed = j, pos = base + i;
        }
    }
    *weight = best;
    if (hub != NONE) {
        const cv_hl_info *f = &hl->info[1][pos];
        uint32_t bd, bl;
        hl_track(w, &w->hcell[hub], &bd, &bl);
        *dur = ss[seed].duration_ds + f->duration_ds + bd;
        *len = ss[seed].distance_dm + f->distance_dm + bl;
    }
}

void cv_hl_cost(cv_hl_query *w, const cv_snap *s, const cv_snap *t, uint64_t *weight, int *direct, uint32_t *dur,
                uint32_t *len)
{
    hl_meet m;
    hl_search(w, s, t, &m);
    *weight = m.best;
    *direct = m.direct;
    if (m.hub != NONE)
        *dur = m.dur, *len = m.len;
}
