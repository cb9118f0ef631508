/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_match.c — inserting passengers into an offer's stop sequence (seats per leg, time windows, detour
   limits, cheapest positions) and contributions, on hand-made distances. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "matcher/match.h"

/* A straight road with stops at the given kilometre marks, 1 km a minute (600 ds, 10000 dm). Points p and q lie
   on the road too, so every cost is |a - b| in both directions: insertions on the way add no detour. */
typedef struct line {
    cv_plan plan;
    cv_plan_stop stops[CV_PLAN_MAX_STOPS];
    cv_cost to_p[CV_PLAN_MAX_STOPS], from_p[CV_PLAN_MAX_STOPS], to_q[CV_PLAN_MAX_STOPS], from_q[CV_PLAN_MAX_STOPS];
    cv_candidate cand;
} line;

static cv_cost km_cost(double a, double b)
{
    double d = fabs(a - b);
    return (cv_cost){(uint32_t)lround(d * 600), (uint32_t)lround(d * 10000)};
}

static void make_line(line *l, const double *marks, int n, int seats, double p, double q, int pseats)
{
    memset(l, 0, sizeof *l);
    l->plan.stops = l->stops;
    l->plan.nstops = n;
    l->plan.seats = seats;
    l->plan.margin_s = 15 * 60;
    for (int k = 0; k < n; k++) {
        if (k + 1 < n)
            l->plan.stops[k].leg = km_cost(marks[k], marks[k + 1]);
        l->plan.stops[k].win_lo = INT32_MIN;
        l->plan.stops[k].win_hi = INT32_MAX;
        l->to_p[k] = km_cost(marks[k], p);
        l->from_p[k] = km_cost(p, marks[k]);
        l->to_q[k] = km_cost(marks[k], q);
        l->from_q[k] = km_cost(q, marks[k]);
    }
    l->plan.base_ds = (int64_t)lround((marks[n - 1] - marks[0]) * 600);
    l->plan.base_dm = (int64_t)lround((marks[n - 1] - marks[0]) * 10000);
    l->plan.max_detour_ds = l->plan.base_ds / 4;
    l->plan.max_detour_dm = l->plan.base_dm / 4;
    l->cand = (cv_candidate){l->to_p, l->from_p, l->to_q, l->from_q, km_cost(p, q), pseats, 0, 15 * 60};
    /* the passenger wishes to be picked up when the driver passes p */
    l->cand.wish = (int64_t)lround((p - marks[0]) * 60);
}

/* The example: 3 seats, A rides km 0-20 (2 seats... here 1), B km 30-50; C from 0 to 50 fits only if every
   leg has room. */
static void test_seats_per_leg(void **state)
{
    (void)state;
    /* stops: origin 0, A pickup 0, A drop 20, B pickup 30, B drop 50, destination 50 */
    static const double marks[] = {0, 0.001, 20, 30, 50, 50.001};
    line l;
    make_line(&l, marks, 6, 3, 0.0005, 50.0005, 1);
    /* A takes 2 seats on km 0-20, B 2 seats on km 30-50: every leg has 1 free seat */
    int loads[] = {0, 2, 0, 2, 0, 0};
    for (int k = 0; k < 6; k++)
        l.plan.stops[k].load = loads[k];
    cv_insertion ins;
    assert_int_equal(cv_plan_insert(&l.plan, &l.cand, &ins), 1);
    assert_int_equal(ins.pickup_leg, 0);
    assert_int_equal(ins.dropoff_leg, 4);
    assert_true(ins.added_ds >= -2 && ins.added_ds <= 2); /* on the way: no detour but rounding */
    /* with 2 seats asked, the legs carrying A or B are full */
    l.cand.seats = 2;
    assert_int_equal(cv_plan_insert(&l.plan, &l.cand, &ins), 0);
    /* but 2 seats from km 21 to 29 fit between them */
    make_line(&l, marks, 6, 3, 21, 29, 2);
    for (int k = 0; k < 6; k++)
        l.plan.stops[k].load = loads[k];
    assert_int_equal(cv_plan_insert(&l.plan, &l.cand, &ins), 1);
    assert_int_equal(ins.pickup_leg, 2);
    assert_int_equal(ins.dropoff_leg, 2);
}

/* A passenger off the road: the detour is to_p + pq + from_q - leg, and the limit refuses too big a one. */
static void test_detour_limit(void **state)
{
    (void)state;
    static const double marks[] = {0, 40};
    line l;
    make_line(&l, marks, 2, 3, 10, 30, 1);
    /* p and q 2 km off the road: going to p and back costs 4 km extra, to q and back 4 more */
    l.to_p[0] = (cv_cost){(uint32_t)lround(sqrt(104.0) * 600), (uint32_t)lround(sqrt(104.0) * 10000)};
    l.from_q[1] = l.to_p[0];
    l.cand.pq = (cv_cost){(uint32_t)lround(sqrt(404.0) * 600), (uint32_t)lround(sqrt(404.0) * 10000)};
    cv_insertion ins;
    assert_int_equal(cv_plan_insert(&l.plan, &l.cand, &ins), 1);
    int64_t expect = (int64_t)l.to_p[0].ds + l.cand.pq.ds + l.from_q[1].ds - l.plan.stops[0].leg.ds;
    assert_int_equal(ins.added_ds, expect);
    assert_int_equal(ins.total_detour_ds, expect);
    assert_int_equal(ins.shared_ds, l.cand.pq.ds);
    /* a limit just below the detour refuses it, the exact one accepts */
    l.plan.max_detour_ds = expect - 1;
    assert_int_equal(cv_plan_insert(&l.plan, &l.cand, &ins), 0);
    l.plan.max_detour_ds = expect;
    assert_int_equal(cv_plan_insert(&l.plan, &l.cand, &ins), 1);
    /* the distance limit works the same way */
    l.plan.max_detour_dm = ins.added_dm - 1;
    assert_int_equal(cv_plan_insert(&l.plan, &l.cand, &ins), 0);
    /* unreachable points never match */
    l.plan.max_detour_dm = 1000000;
    l.to_p[0] = (cv_cost){CV_UNREACHABLE, CV_UNREACHABLE};
    assert_int_equal(cv_plan_insert(&l.plan, &l.cand, &ins), 0);
}

/* Time: the driver reaches p at departure + d(s,p), shifted within its margin; that must meet the passenger's
   window. */
static void test_time_window(void **state)
{
    (void)state;
    static const double marks[] = {0, 40};
    line l;
    make_line(&l, marks, 2, 3, 10, 30, 1);
    cv_insertion ins;
    /* the driver passes p 10 minutes after leaving; a wish 25 min later is met by leaving 15 min late */
    l.cand.wish = 600 + 25 * 60;
    l.cand.margin_s = 10 * 60;
    assert_int_equal(cv_plan_insert(&l.plan, &l.cand, &ins), 1);
    assert_int_equal(ins.shift_s, 15 * 60);
    assert_int_equal(ins.pickup_s, 600 + 15 * 60);
    assert_int_equal(ins.mismatch_s, 10 * 60);
    /* 36 min later is out of reach: 15 min of the driver's margin plus 10 of the passenger's is 25 */
    l.cand.wish = 600 + 36 * 60;
    assert_int_equal(cv_plan_insert(&l.plan, &l.cand, &ins), 0);
    /* exactly on time: no shift, no mismatch */
    l.cand.wish = 600;
    assert_int_equal(cv_plan_insert(&l.plan, &l.cand, &ins), 1);
    assert_int_equal(ins.shift_s, 0);
    assert_int_equal(ins.mismatch_s, 0);
    assert_int_equal(ins.dropoff_s, 600 + 20 * 60);
}

/* An offer with a confirmed passenger: the new one goes where it costs least, and the confirmed pickup's window
   still holds after the delay the insertion causes. */
static void test_insertion_keeps_confirmed_windows(void **state)
{
    (void)state;
    /* stops: origin 0, confirmed pickup at km 20, its drop-off at km 30, destination 40 */
    static const double marks[] = {0, 20, 30, 40};
    line l;
    make_line(&l, marks, 4, 3, 5, 10, 1);
    l.plan.stops[1].load = 1;
    l.plan.stops[1].is_pickup = 1;
    /* the new passenger's p is 3 km off the road at km 5 (6 km there and back) */
    for (int k = 0; k < 4; k++) {
        double d = sqrt(pow(marks[k] - 5, 2) + 9);
        l.to_p[k] = l.from_p[k] = (cv_cost){(uint32_t)lround(d * 600), (uint32_t)lround(d * 10000)};
    }
    l.cand.pq = (cv_cost){(uint32_t)lround(sqrt(34.0) * 600), (uint32_t)lround(sqrt(34.0) * 10000)};
    l.cand.wish = 5 * 60;
    l.plan.max_detour_ds = 100000;
    l.plan.max_detour_dm = 10000000;
    cv_insertion ins;
    /* the confirmed passenger wants the pickup at 20 min, +-5 min */
    l.plan.stops[1].win_lo = 15 * 60;
    l.plan.stops[1].win_hi = 25 * 60;
    assert_int_equal(cv_plan_insert(&l.plan, &l.cand, &ins), 1);
    assert_int_equal(ins.pickup_leg, 0);
    assert_int_equal(ins.dropoff_leg, 0);
    int64_t delay_s = (ins.added_ds + 5) / 10;
    assert_true(delay_s > 0);
    /* the confirmed pickup now happens at 20 min + delay + shift: inside its window */
    int64_t at = 20 * 60 + delay_s + ins.shift_s;
    assert_true(at >= 15 * 60 - 1 && at <= 25 * 60 + 1);
    /* with a tight window the delay cannot be absorbed unless the driver leaves early enough */
    l.plan.stops[1].win_lo = 20 * 60;
    l.plan.stops[1].win_hi = 20 * 60;
    l.plan.margin_s = 0;
    assert_int_equal(cv_plan_insert(&l.plan, &l.cand, &ins), 0);
}

static void test_contribution(void **state)
{
    (void)state;
    /* 12.34 km ride + 0.66 km detour = 13 km at 0.06 = 0.78 */
    cv_contribution c = cv_contribution_compute(123400, 6600, 0.06, CV_ROUND_CENT);
    assert_true(fabs(c.amount - 0.78) < 1e-9);
    assert_true(c.commission == 0.0);
    assert_true(fabs(c.distance_km - 13.0) < 1e-9);
    c = cv_contribution_compute(123400, 6600, 0.06, CV_ROUND_TEN_CENTS);
    assert_true(fabs(c.amount - 0.80) < 1e-9);
    c = cv_contribution_compute(123400, 6600, 0.06, CV_ROUND_HALF_EURO);
    assert_true(fabs(c.amount - 1.00) < 1e-9);
    c = cv_contribution_compute(123400, 6600, 0.06, CV_ROUND_EURO);
    assert_true(fabs(c.amount - 1.00) < 1e-9);
    /* halves round up: 2.5 km at 0.05 = 0.125 -> 0.13 */
    c = cv_contribution_compute(25000, 0, 0.05, CV_ROUND_CENT);
    assert_true(fabs(c.amount - 0.13) < 1e-9);
    /* a negative detour (the passenger is on the way) never lowers the price below the ride */
    c = cv_contribution_compute(100000, -5000, 0.1, CV_ROUND_CENT);
    assert_true(fabs(c.amount - 1.00) < 1e-9);
    assert_int_equal(cv_rounding_parse("half_euro"), CV_ROUND_HALF_EURO);
    assert_int_equal(cv_rounding_parse("nope"), -1);
    assert_string_equal(cv_rounding_name(CV_ROUND_TEN_CENTS), "ten_cents");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seats_per_leg), cmocka_unit_test(test_detour_limit),
        cmocka_unit_test(test_time_window),   cmocka_unit_test(test_insertion_keeps_confirmed_windows),
        cmocka_unit_test(test_contribution),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
