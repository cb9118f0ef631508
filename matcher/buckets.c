/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* buckets.c — per-node arrays of (reference, distances) in time slices, grown and shrunk in place. */
#include "matcher/buckets.h"

#include <stdlib.h>
#include <string.h>

/* A node's bucket: its time slices in increasing order of key. Most nodes hold a few; the nodes at the top of the
   hierarchy, which every search reaches, hold one per quarter of an hour in which offers start. */
typedef struct bucket {
    cv_bucket_slice *s;
    uint32_t n, cap;
} bucket;

#define TAIL_MAX 32

struct cv_buckets {
    uint32_t nnodes;
    bucket *at;
    size_t nitems, bytes;
};

cv_buckets *cv_buckets_new(uint32_t nnodes)
{
    cv_buckets *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->nnodes = nnodes;
    b->at = calloc(nnodes ? nnodes : 1, sizeof *b->at);
    if (!b->at) {
        free(b);
        return NULL;
    }
    b->bytes = (size_t)nnodes * sizeof *b->at;
    return b;
}

void cv_buckets_free(cv_buckets *b)
{
    if (!b)
        return;
    for (uint32_t i = 0; i < b->nnodes; i++) {
        for (uint32_t k = 0; k < b->at[i].n; k++)
            free(b->at[i].s[k].items);
        free(b->at[i].s);
    }
    free(b->at);
    free(b);
}

static int32_t slice_key(cv_span span)
{
    if (span.lo == INT64_MIN)
        return INT32_MIN;
    int64_t k = span.lo >= 0 ? span.lo / CV_SLICE_S : -((-span.lo + CV_SLICE_S - 1) / CV_SLICE_S);
    /* far-off times share the end slices, which stay exact since every item is tested against its own span */
    return k <= INT32_MIN ? INT32_MIN + 1 : k > INT32_MAX ? INT32_MAX : (int32_t)k;
}

/* The index of the slice with key in bucket k, or where it would go (*found 0). */
static uint32_t find_slice(const bucket *k, int32_t key, int *found)
{
    uint32_t lo = 0, hi = k->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (k->s[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < k->n && k->s[lo].key == key;
    return lo;
}

/* The slice with key in bucket k, created empty if missing; NULL when out of memory. */
static cv_bucket_slice *get_slice(cv_buckets *b, bucket *k, int32_t key)
{
    int found;
    uint32_t i = find_slice(k, key, &found);
    if (found)
        return &k->s[i];
    if (k->n == k->cap) {
        uint32_t nc = k->cap ? k->cap * 2 : 1;
        cv_bucket_slice *p = realloc(k->s, nc * sizeof *p);
        if (!p)
            return NULL;
        b->bytes += (size_t)(nc - k->cap) * sizeof *p;
        k->s = p;
        k->cap = nc;
    }
    memmove(k->s + i + 1, k->s + i, (k->n - i) * sizeof *k->s);
    k->s[i] = (cv_bucket_slice){key, 0, 0, 0, INT64_MIN, NULL};
    k->n++;
    return &k->s[i];
}

static int reserve(cv_buckets *b, cv_bucket_slice *s, uint32_t need)
{
    if (need <= s->cap)
        return 0;
    uint32_t nc = s->cap ? s->cap : 4;
    while (nc < need)
        nc *= 2;
    cv_bucket_item *p = realloc(s->items, nc * sizeof *p);
    if (!p)
        return -1;
    b->bytes += (size_t)(nc - s->cap) * sizeof *p;
    s->items = p;
    s->cap = nc;
    return 0;
}

static int cmp_budget_desc(const void *x, const void *y)
{
    uint32_t a = ((const cv_bucket_item *)x)->budget_ds, c = ((const cv_bucket_item *)y)->budget_ds;
    return (a < c) - (a > c);
}

/* Sorts the tail and merges it into the sorted part, from the back, in place. */
static void merge_tail(cv_bucket_slice *k)
{
    uint32_t nt = k->n - k->nsorted;
    if (nt == 0)
        return;
    cv_bucket_item tail[TAIL_MAX + 1];
    memcpy(tail, k->items + k->nsorted, nt * sizeof *tail);
    qsort(tail, nt, sizeof *tail, cmp_budget_desc);
    int64_t i = (int64_t)k->nsorted - 1, j = (int64_t)nt - 1, out = (int64_t)k->n - 1;
    while (j >= 0) {
        if (i >= 0 && k->items[i].budget_ds < tail[j].budget_ds)
            k->items[out--] = k->items[i--];
        else
            k->items[out--] = tail[j--];
    }
    k->nsorted = k->n;
}

/* Drops the slice at index i of bucket k when it is empty. */
static void drop_if_empty(cv_buckets *b, bucket *k, uint32_t i)
{
    if (k->s[i].n > 0)
        return;
    b->bytes -= (size_t)k->s[i].cap * sizeof *k->s[i].items;
    free(k->s[i].items);
    memmove(k->s + i, k->s + i + 1, (k->n - i - 1) * sizeof *k->s);
    k->n--;
    if (k->n == 0) {
        b->bytes -= (size_t)k->cap * sizeof *k->s;
        free(k->s);
        k->s = NULL;
        k->cap = 0;
    }
}

int cv_buckets_add(cv_buckets *b, uint32_t ref, cv_span span, const cv_space_entry *e, size_t n, uint32_t total_ds)
{
    int32_t key = slice_key(span);
    /* reserve first, so that a failure leaves nothing half stored (but maybe empty slices, dropped here) */
    size_t i = 0;
    for (; i < n; i++) {
        if (e[i].node >= b->nnodes)
            break;
        if (e[i].duration_ds > total_ds)
            continue;
        cv_bucket_slice *s = get_slice(b, &b->at[e[i].node], key);
        if (!s || reserve(b, s, s->n + 1))
            break;
    }
    if (i < n) {
        for (size_t j = 0; j <= i && j < n; j++) {
            if (e[j].node >= b->nnodes)
                continue;
            bucket *k = &b->at[e[j].node];
            int found;
            uint32_t at = find_slice(k, key, &found);
            if (found)
                drop_if_empty(b, k, at);
        }
        return CV_ENOMEM;
    }
    for (i = 0; i < n; i++) {
        if (e[i].duration_ds > total_ds)
            continue;
        bucket *k = &b->at[e[i].node];
        int found;
        cv_bucket_slice *s = &k->s[find_slice(k, key, &found)];
        s->items[s->n++] = (cv_bucket_item){ref, e[i].weight, e[i].duration_ds, e[i].distance_dm,
                                            total_ds == UINT32_MAX ? UINT32_MAX : total_ds - e[i].duration_ds};
        if (span.hi > s->hi_max)
            s->hi_max = span.hi;
        if (s->n - s->nsorted > TAIL_MAX)
            merge_tail(s);
        b->nitems++;
    }
    return 0;
}

void cv_buckets_remove(cv_buckets *b, uint32_t ref, cv_span span, const cv_space_entry *e, size_t n)
{
    int32_t key = slice_key(span);
    for (size_t i = 0; i < n; i++) {
        if (e[i].node >= b->nnodes)
            continue;
        bucket *k = &b->at[e[i].node];
        int found;
        uint32_t at = find_slice(k, key, &found);
        if (!found)
            continue;
        cv_bucket_slice *s = &k->s[at];
        for (uint32_t j = 0; j < s->n; j++)
            if (s->items[j].ref == ref) {
                if (j < s->nsorted) { /* keep the order: shift the rest of the sorted part down */
                    memmove(s->items + j, s->items + j + 1, (s->n - j - 1) * sizeof *s->items);
                    s->nsorted--;
                } else {
                    s->items[j] = s->items[s->n - 1];
                }
                s->n--;
                b->nitems--;
                break;
            }
        /* hi_max stays as it was: still at least every item's end */
        drop_if_empty(b, k, at);
    }
}

const cv_bucket_slice *cv_buckets_at(const cv_buckets *b, uint32_t node, uint32_t *n)
{
    *n = b->at[node].n;
    return b->at[node].s;
}

size_t cv_buckets_items(const cv_buckets *b)
{
    return b->nitems;
}

size_t cv_buckets_bytes(const cv_buckets *b)
{
    return b->bytes;
}
