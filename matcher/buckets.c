/* buckets.c — per-node arrays of (reference, distances), grown and shrunk in place. */
#include "buckets.h"

#include <stdlib.h>
#include <string.h>

/* A bucket keeps items[0 .. nsorted) sorted by budget, largest first, so that a query stops at the first item
   whose budget it exceeds; new items go to a short unsorted tail that is merged in when it grows. */
typedef struct bucket {
    cv_bucket_item *items;
    uint32_t n, cap, nsorted;
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
    for (uint32_t i = 0; i < b->nnodes; i++)
        free(b->at[i].items);
    free(b->at);
    free(b);
}

static int reserve(cv_buckets *b, bucket *k, uint32_t need)
{
    if (need <= k->cap)
        return 0;
    uint32_t nc = k->cap ? k->cap : 4;
    while (nc < need)
        nc *= 2;
    cv_bucket_item *p = realloc(k->items, nc * sizeof *p);
    if (!p)
        return -1;
    b->bytes += (size_t)(nc - k->cap) * sizeof *p;
    k->items = p;
    k->cap = nc;
    return 0;
}

static int cmp_budget_desc(const void *x, const void *y)
{
    uint32_t a = ((const cv_bucket_item *)x)->budget_ds, c = ((const cv_bucket_item *)y)->budget_ds;
    return (a < c) - (a > c);
}

/* Sorts the tail and merges it into the sorted part, from the back, in place. */
static void merge_tail(bucket *k)
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

int cv_buckets_add(cv_buckets *b, uint32_t ref, const cv_space_entry *e, size_t n, uint32_t total_ds)
{
    /* reserve first, so that a failure leaves nothing half stored */
    for (size_t i = 0; i < n; i++)
        if (e[i].node >= b->nnodes ||
            (e[i].duration_ds <= total_ds && reserve(b, &b->at[e[i].node], b->at[e[i].node].n + 1)))
            return CV_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (e[i].duration_ds > total_ds)
            continue;
        bucket *k = &b->at[e[i].node];
        k->items[k->n++] = (cv_bucket_item){ref, e[i].weight, e[i].duration_ds, e[i].distance_dm,
                                            total_ds == UINT32_MAX ? UINT32_MAX : total_ds - e[i].duration_ds};
        if (k->n - k->nsorted > TAIL_MAX)
            merge_tail(k);
        b->nitems++;
    }
    return 0;
}

void cv_buckets_remove(cv_buckets *b, uint32_t ref, const cv_space_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (e[i].node >= b->nnodes)
            continue;
        bucket *k = &b->at[e[i].node];
        for (uint32_t j = 0; j < k->n; j++)
            if (k->items[j].ref == ref) {
                if (j < k->nsorted) { /* keep the order: shift the rest of the sorted part down */
                    memmove(k->items + j, k->items + j + 1, (k->n - j - 1) * sizeof *k->items);
                    k->nsorted--;
                } else {
                    k->items[j] = k->items[k->n - 1];
                }
                k->n--;
                b->nitems--;
                break;
            }
    }
}

const cv_bucket_item *cv_buckets_at(const cv_buckets *b, uint32_t node, uint32_t *n, uint32_t *nsorted)
{
    *n = b->at[node].n;
    *nsorted = b->at[node].nsorted;
    return b->at[node].items;
}

size_t cv_buckets_items(const cv_buckets *b)
{
    return b->nitems;
}

size_t cv_buckets_bytes(const cv_buckets *b)
{
    return b->bytes;
}
