/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_buckets.c — the matcher's buckets: items kept per node in time slices, each slice sorted by budget, slices
   in order of their start, added and removed without leaving empty slices behind, and nothing stored on failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "matcher/buckets.h"

#define H 3600

/* A space of n nodes starting at node first, with durations 10, 20, ... */
static void space(cv_space_entry *e, size_t n, uint32_t first)
{
    for (size_t i = 0; i < n; i++)
        e[i] = (cv_space_entry){first + (uint32_t)i, 10 * (uint32_t)(i + 1), 10 * (uint32_t)(i + 1), 100 * (uint32_t)i};
}

static uint32_t count_at(const cv_buckets *b, uint32_t node)
{
    uint32_t ns, total = 0;
    const cv_bucket_slice *s = cv_buckets_at(b, node, &ns);
    for (uint32_t k = 0; k < ns; k++)
        total += s[k].n;
    return total;
}

static void test_slices_by_start(void **state)
{
    (void)state;
    cv_buckets *b = cv_buckets_new(10);
    assert_non_null(b);
    cv_space_entry e[3];
    space(e, 3, 2);
    /* three trips: 08:00-09:00, 08:10-08:20 (same quarter of an hour), 10:00-11:00; one at any time */
    int64_t day = 1900000000 / 86400 * 86400;
    assert_int_equal(cv_buckets_add(b, 1, (cv_span){day + 8 * H, day + 9 * H}, e, 3, 1000), 0);
    assert_int_equal(cv_buckets_add(b, 2, (cv_span){day + 8 * H + 600, day + 8 * H + 1200}, e, 3, 1000), 0);
    assert_int_equal(cv_buckets_add(b, 3, (cv_span){day + 10 * H, day + 11 * H}, e, 3, 1000), 0);
    assert_int_equal(cv_buckets_add(b, 4, CV_SPAN_ANY, e, 3, UINT32_MAX), 0);
    assert_int_equal(cv_buckets_items(b), 12);
    uint32_t ns;
    const cv_bucket_slice *s = cv_buckets_at(b, 3, &ns);
    assert_int_equal(ns, 3);
    /* in order of start, the unbounded slice first */
    assert_int_equal(s[0].key, INT32_MIN);
    assert_true(s[1].key < s[2].key);
    assert_int_equal((int64_t)s[1].key * CV_SLICE_S, day + 8 * H);
    assert_int_equal(s[1].n, 2);
    assert_int_equal(s[1].hi_max, day + 9 * H);
    /* budgets: total less the duration to the node, decreasing in a slice once sorted */
    assert_int_equal(s[2].items[0].budget_ds, 1000 - 20);
    assert_int_equal(s[0].items[0].budget_ds, UINT32_MAX);
    /* which slices can meet a window */
    assert_true(cv_slice_meets(&s[0], day, day + 1)); /* any time meets everything */
    assert_true(cv_slice_meets(&s[1], day + 8 * H + 1800, day + 8 * H + 2400));
    assert_false(cv_slice_meets(&s[1], day + 9 * H + 1, day + 10 * H)); /* ends before */
    assert_false(cv_slice_meets(&s[2], day + 9 * H, day + 10 * H - 1)); /* starts after */
    assert_true(cv_slice_meets(&s[2], day + 9 * H, day + 10 * H));
    /* removing with the span it was added with empties and drops the 10:00 slice */
    cv_buckets_remove(b, 3, (cv_span){day + 10 * H, day + 11 * H}, e, 3);
    s = cv_buckets_at(b, 3, &ns);
    assert_int_equal(ns, 2);
    assert_int_equal(cv_buckets_items(b), 9);
    cv_buckets_remove(b, 1, (cv_span){day + 8 * H, day + 9 * H}, e, 3);
    cv_buckets_remove(b, 2, (cv_span){day + 8 * H + 600, day + 8 * H + 1200}, e, 3);
    cv_buckets_remove(b, 4, CV_SPAN_ANY, e, 3);
    assert_int_equal(cv_buckets_items(b), 0);
    for (uint32_t x = 0; x < 10; x++) {
        cv_buckets_at(b, x, &ns);
        assert_int_equal(ns, 0);
    }
    cv_buckets_free(b);
}

/* Entries beyond the total are not stored; a slice keeps its budgets sorted across merges of its tail; negative
   and far-off times get slices too. */
static void test_budgets_sorted(void **state)
{
    (void)state;
    cv_buckets *b = cv_buckets_new(4);
    cv_space_entry e[4];
    space(e, 4, 0);
    assert_int_equal(cv_buckets_add(b, 7, (cv_span){-1000, 500}, e, 4, 25), 0); /* durations 10, 20 only */
    assert_int_equal(count_at(b, 0), 1);
    assert_int_equal(count_at(b, 2), 0);
    uint32_t ns;
    const cv_bucket_slice *s = cv_buckets_at(b, 0, &ns);
    assert_int_equal(s[0].key, -2); /* -1000 s lies in [-1800, -900) */
    srand(3);
    for (uint32_t r = 0; r < 500; r++) {
        cv_space_entry one = {3, (uint32_t)rand() % 5000, (uint32_t)rand() % 5000, 0};
        assert_int_equal(cv_buckets_add(b, 100 + r, (cv_span){INT64_MAX - 10, INT64_MAX}, &one, 1, 6000), 0);
    }
    s = cv_buckets_at(b, 3, &ns);
    assert_int_equal(ns, 1);
    assert_int_equal(s[0].n, 500);
    assert_true(s[0].nsorted >= 500 - 33);
    for (uint32_t k = 1; k < s[0].nsorted; k++)
        assert_true(s[0].items[k - 1].budget_ds >= s[0].items[k].budget_ds);
    /* removing from the middle keeps the order */
    for (uint32_t r = 0; r < 500; r += 2) {
        cv_space_entry one = {3, 0, 0, 0};
        cv_buckets_remove(b, 100 + r, (cv_span){INT64_MAX - 10, INT64_MAX}, &one, 1);
    }
    s = cv_buckets_at(b, 3, &ns);
    assert_int_equal(s[0].n, 250);
    for (uint32_t k = 1; k < s[0].nsorted; k++)
        assert_true(s[0].items[k - 1].budget_ds >= s[0].items[k].budget_ds);
    for (uint32_t k = 0; k < s[0].n; k++)
        assert_int_equal(s[0].items[k].ref % 2, 1);
    /* an entry for a node that does not exist: nothing stored at all */
    cv_space_entry bad[2] = {{0, 1, 1, 1}, {99, 1, 1, 1}};
    size_t before = cv_buckets_items(b);
    assert_int_equal(cv_buckets_add(b, 9, (cv_span){0, 10}, bad, 2, 100), CV_ENOMEM);
    assert_int_equal(cv_buckets_items(b), before);
    s = cv_buckets_at(b, 0, &ns);
    assert_int_equal(ns, 1); /* the slice opened for it at node 0 is gone again */
    cv_buckets_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slices_by_start),
        cmocka_unit_test(test_budgets_sorted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
