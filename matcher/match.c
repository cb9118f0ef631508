/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* match.c — inserting a passenger into an offer's stop sequence, and contributions. */
#include "matcher/match.h"

#include <math.h>
#include <string.h>

static int reachable(cv_cost c)
{
    return c.ds != CV_UNREACHABLE && c.dm != CV_UNREACHABLE;
}

/* Intersects [*lo, *hi] with [a, b]. */
static void clip(int64_t *lo, int64_t *hi, int64_t a, int64_t b)
{
    if (a > *lo)
        *lo = a;
    if (b < *hi)
        *hi = b;
}

static int better(const cv_insertion *a, const cv_insertion *b)
{
    if (a->added_ds != b->added_ds)
        return a->added_ds < b->added_ds;
    if (a->added_dm != b->added_dm)
        return a->added_dm < b->added_dm;
    return a->mismatch_s < b->mismatch_s;
}

/* Evaluates p into leg i and q into leg j (i <= j). Returns 1 with *out filled when feasible. */
static int evaluate(const cv_plan *pl, const cv_candidate *c, int i, int j, cv_insertion *out)
{
    const cv_plan_stop *st = pl->stops;
    /* seats on every leg the passenger rides, cheapest test first */
    for (int k = i; k <= j; k++)
        if (st[k].load + c->seats > pl->seats)
            return 0;
    int64_t add_ds, add_dm, delay_after_p, delay_after_q; /* delays of stops after leg i and after leg j */
    int64_t arr_p, arr_q, shared_ds, shared_dm;
    int64_t arr_i = 0;
    for (int k = 0; k < i; k++)
        arr_i += st[k].leg.ds;
    if (i == j) {
        if (!reachable(c->to_p[i]) || !reachable(c->pq) || !reachable(c->from_q[i + 1]))
            return 0;
        add_ds = (int64_t)c->to_p[i].ds + c->pq.ds + c->from_q[i + 1].ds - st[i].leg.ds;
        add_dm = (int64_t)c->to_p[i].dm + c->pq.dm + c->from_q[i + 1].dm - st[i].leg.dm;
        arr_p = arr_i + c->to_p[i].ds;
        arr_q = arr_p + c->pq.ds;
        shared_ds = c->pq.ds;
        shared_dm = c->pq.dm;
        delay_after_p = delay_after_q = add_ds;
    } else {
        if (!reachable(c->to_p[i]) || !reachable(c->from_p[i + 1]) || !reachable(c->to_q[j]) ||
            !reachable(c->from_q[j + 1]))
            return 0;
        int64_t a1 = (int64_t)c->to_p[i].ds + c->from_p[i + 1].ds - st[i].leg.ds;
        int64_t m1 = (int64_t)c->to_p[i].dm + c->from_p[i + 1].dm - st[i].leg.dm;
        int64_t a2 = (int64_t)c->to_q[j].ds + c->from_q[j + 1].ds - st[j].leg.ds;
        int64_t m2 = (int64_t)c->to_q[j].dm + c->from_q[j + 1].dm - st[j].leg.dm;
        add_ds = a1 + a2;
        add_dm = m1 + m2;
        arr_p = arr_i + c->to_p[i].ds;
        /* from p on to stop i+1, then the unchanged legs up to stop j, then to q */
        shared_ds = c->from_p[i + 1].ds;
        shared_dm = c->from_p[i + 1].dm;
        for (int k = i + 1; k < j; k++) {
            shared_ds += st[k].leg.ds;
            shared_dm += st[k].leg.dm;
        }
        shared_ds += c->to_q[j].ds;
        shared_dm += c->to_q[j].dm;
        arr_q = arr_p + shared_ds;
        delay_after_p = a1;
        delay_after_q = a1 + a2;
    }
    /* the route after insertion must stay within the driver's detour limits */
    int64_t total_ds = 0, total_dm = 0;
    for (int k = 0; k + 1 < pl->nstops; k++) {
        total_ds += st[k].leg.ds;
        total_dm += st[k].leg.dm;
    }
    int64_t det_ds = total_ds + add_ds - pl->base_ds, det_dm = total_dm + add_dm - pl->base_dm;
    if (det_ds > pl->max_detour_ds || det_dm > pl->max_detour_dm)
        return 0;
    /* departure shift: within the driver's margin, putting p in the passenger's window and every confirmed pickup
       in its own after the delays this insertion causes; all in deciseconds (windows and margins come in
       seconds, travel costs in deciseconds) */
    /* a window in whole seconds takes every arrival that rounds into it (half a second early to just under half a
       second late): with no margin, a wish of exactly the pickup time told in seconds is met */
    int64_t wish = c->wish * 10, cm = (int64_t)c->margin_s * 10;
    int64_t lo = -(int64_t)pl->margin_s * 10, hi = (int64_t)pl->margin_s * 10;
    clip(&lo, &hi, wish - cm - 5 - arr_p, wish + cm + 4 - arr_p);
    int64_t arr = 0;
    for (int k = 0; k < pl->nstops && lo <= hi; k++) {
        if (st[k].is_pickup) {
            int64_t delay = k > j ? delay_after_q : k > i ? delay_after_p : 0;
            clip(&lo, &hi, st[k].win_lo * 10 - 5 - arr - delay, st[k].win_hi * 10 + 4 - arr - delay);
        }
        arr += st[k].leg.ds;
    }
    if (lo > hi)
        return 0;
    /* the shift that brings the pickup closest to the wish */
    int64_t shift = wish - arr_p;
    if (shift < lo)
        shift = lo;
    if (shift > hi)
        shift = hi;
    out->pickup_leg = i;
    out->dropoff_leg = j;
    out->added_ds = add_ds;
    out->added_dm = add_dm;
    out->total_detour_ds = det_ds;
    out->total_detour_dm = det_dm;
    out->shift_s = shift;
    /* times are in seconds; leg costs in deciseconds */
    out->pickup_s = shift + arr_p;
    out->dropoff_s = shift + arr_q;
    out->mismatch_s = out->pickup_s > wish ? out->pickup_s - wish : wish - out->pickup_s;
    out->shared_ds = shared_ds;
    out->shared_dm = shared_dm;
    return 1;
}

/* evaluate works in deciseconds; insertions are given in seconds */
static void to_seconds(cv_insertion *x, int64_t wish_s)
{
    x->shift_s = (x->shift_s + (x->shift_s >= 0 ? 5 : -5)) / 10;
    x->pickup_s = (x->pickup_s + (x->pickup_s >= 0 ? 5 : -5)) / 10;
    x->dropoff_s = (x->dropoff_s + (x->dropoff_s >= 0 ? 5 : -5)) / 10;
    /* between the pickup time as told (in seconds) and the wish */
    x->mismatch_s = x->pickup_s > wish_s ? x->pickup_s - wish_s : wish_s - x->pickup_s;
}

int cv_plan_insert(const cv_plan *pl, const cv_candidate *c, cv_insertion *out)
{
    if (pl->nstops < 2 || pl->nstops > CV_PLAN_MAX_STOPS || c->seats <= 0)
        return 0;
    int found = 0;
    cv_insertion best, cand;
    memset(&best, 0, sizeof best);
    for (int i = 0; i + 1 < pl->nstops; i++)
        for (int j = i; j + 1 < pl->nstops; j++) {
            if (pl->stops[j].load + c->seats > pl->seats)
                break; /* a full leg blocks every drop-off beyond it */
            if (evaluate(pl, c, i, j, &cand) && (!found || better(&cand, &best))) {
                best = cand;
                found = 1;
            }
        }
    if (!found)
        return 0;
    to_seconds(&best, c->wish);
    *out = best;
    return 1;
}

int cv_plan_insert_at(const cv_plan *pl, const cv_candidate *c, int i, int j, cv_insertion *out)
{
    if (pl->nstops < 2 || pl->nstops > CV_PLAN_MAX_STOPS || c->seats <= 0 || i < 0 || j < i || j + 1 >= pl->nstops)
        return 0;
    if (!evaluate(pl, c, i, j, out))
        return 0;
    to_seconds(out, c->wish);
    return 1;
}

static const char *const rounding_names[] = {"cent", "ten_cents", "half_euro", "euro"};
static const double rounding_steps[] = {0.01, 0.10, 0.50, 1.00};

const char *cv_rounding_name(cv_rounding r)
{
    return (unsigned)r < 4 ? rounding_names[r] : "cent";
}

int cv_rounding_parse(const char *name)
{
    for (int i = 0; name && i < 4; i++)
        if (!strcmp(name, rounding_names[i]))
            return i;
    return -1;
}

cv_contribution cv_contribution_compute(int64_t passenger_dm, int64_t detour_dm, double per_km, cv_rounding r)
{
    cv_contribution c;
    if (detour_dm < 0)
        detour_dm = 0; /* a passenger who shortens the route never earns the driver less than the ride */
    c.distance_km = (double)(passenger_dm + detour_dm) / 1e4;
    c.per_km = per_km;
    c.unrounded = c.distance_km * per_km;
    double step = rounding_steps[(unsigned)r < 4 ? r : 0];
    /* work in hundredths so that 0.145 is not 0.14499999 */
    double cents = round(c.unrounded * 100.0 * 1e6) / 1e6;
    double step_cents = step * 100.0;
    c.amount = floor(cents / step_cents + 0.5) * step_cents / 100.0;
    c.commission = 0.0;
    c.rounding = r;
    return c;
}
