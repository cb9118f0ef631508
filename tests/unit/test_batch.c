/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_batch.c — offline batch matching on the Monaco extract: the participants' CSV and its errors; the optimal
   plan against a brute force over every set of carpools of small random populations (pairs found without the
   planner's grid and bounds); every carpool re-checked with routes of its own; greedy never above the optimum. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "batch/batch.h"
#include "batch/packing.h"
#include "batch/synth.h"
#include "routing/ch.h"
#include "test_support.h"

static cv_graph *g;

static int setup(void **state)
{
    (void)state;
    g = tst_build_graph(COVOIT_TEST_DATA "/monaco.osm.pbf", "batch_monaco.cvg");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cv_graph_close(g);
    return 0;
}

#define HEAD "id,role,home_lon,home_lat,work_lon,work_lat,arrive_by,leave_at,days,seats\n"

static void parse_fails(const char *text, const char *expect)
{
    cv_person *v = NULL;
    size_t n = 0;
    cv_error err = {0};
    int rc = cv_population_parse("p.csv", text, strlen(text), &v, &n, &err);
    if (rc != CV_EINVAL || !strstr(err.text, expect))
        fail_msg("expected an error saying '%s', got %d '%s' for:\n%s", expect, rc, err.text, text);
    assert_null(v);
}

static void test_csv(void **state)
{
    (void)state;
    const char *good = "\xEF\xBB\xBF" HEAD "a,driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,\"mon,tue,wed\",3\n"
                       "\"b, the second\",passenger,7.4180,43.7325,7.4350,43.7460,8:45,17:30,mon-fri,\n"
                       "c,EITHER,7.42,43.735,7.436,43.7465,08:55,17:35,sat sun,2\n";
    cv_person *v = NULL;
    size_t n = 0;
    cv_error err = {0};
    if (cv_population_parse("p.csv", good, strlen(good), &v, &n, &err))
        fail_msg("%s", err.text);
    assert_int_equal(n, 3);
    assert_string_equal(v[1].id, "b, the second");
    assert_int_equal(v[0].role, CV_ROLE_DRIVER);
    assert_int_equal(v[1].role, CV_ROLE_PASSENGER);
    assert_int_equal(v[2].role, CV_ROLE_EITHER);
    assert_int_equal(v[0].days, 0x07);
    assert_int_equal(v[1].days, 0x1f);
    assert_int_equal(v[2].days, 0x60);
    assert_int_equal(v[1].arrive_by_s, 8 * 3600 + 45 * 60);
    assert_int_equal(v[0].seats, 3);
    assert_int_equal(v[1].seats, 0);
    assert_int_equal(v[0].flex_s, 900);
    assert_int_equal(v[0].max_detour_s, -1);
    assert_int_equal(v[2].line, 4);
    free(v);
    const char *optional = "id,role,home_lon,home_lat,work_lon,work_lat,arrive_by,leave_at,days,seats,flex_min,"
                           "max_detour_min,max_detour_pct\n"
                           "a,driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon,3,30,10,40\n";
    if (cv_population_parse("p.csv", optional, strlen(optional), &v, &n, &err))
        fail_msg("%s", err.text);
    assert_int_equal(v[0].flex_s, 1800);
    assert_int_equal(v[0].max_detour_s, 600);
    assert_true(v[0].max_detour_pct == 40);
    free(v);

    /* every kind of bad line, named by line and column */
    parse_fails("", "p.csv:1: empty");
    parse_fails(HEAD, "no participant");
    parse_fails("id,role,home_lon\n", "no column 'home_lat'");
    parse_fails("id,role,work_lon,work_lat,arrive_by,leave_at,days,seats\n",
                "no column 'home_lon' (nor 'home', a place name)");
    parse_fails("id,role,home,work_lon,work_lat,arrive_by,leave_at,days,seats\n",
                "p.csv:1:3: column 3 (home): place names need the place index");
    parse_fails("id,role,home_lon,home_lat,work_lon,work_lat,arrive_by,leave_at,days,seats,colour\n", "p.csv:1:11: "
                                                                                                      "unknown column "
                                                                                                      "'colour'");
    parse_fails("id,id,home_lon,home_lat,work_lon,work_lat,arrive_by,leave_at,days,seats\n", "column 'id' twice");
    parse_fails(HEAD "a,driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon\n", "p.csv:2: 9 values, the header names "
                                                                                 "10");
    parse_fails(HEAD "a,pilot,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon,3\n",
                "p.csv:2:2: column 2 (role): 'pilot' is not driver, passenger or either");
    parse_fails(HEAD "a,driver,7.4x,43.7310,7.4360,43.7470,09:00,17:30,mon,3\n",
                "p.csv:2:3: column 3 (home_lon): '7.4x' is not a number");
    parse_fails(HEAD "a,driver,7.4165,93.7310,7.4360,43.7470,09:00,17:30,mon,3\n", "p.csv:2:4: column 4 (home_lat): "
                                                                                   "93.731 is out of range");
    parse_fails(HEAD "a,driver,7.4165,43.7310,7.4360,43.7470,25:00,17:30,mon,3\n",
                "p.csv:2:7: column 7 (arrive_by): '25:00' is not a time of day");
    parse_fails(HEAD "a,driver,7.4165,43.7310,7.4360,43.7470,09:00,08:30,mon,3\n", "p.csv:2:8: column 8 (leave_at): "
                                                                                   "leaves work (08:30) before");
    parse_fails(HEAD "a,driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,funday,3\n",
                "p.csv:2:9: column 9 (days): 'funday' is not a list of weekdays");
    parse_fails(HEAD "a,driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon,0\n",
                "p.csv:2:10: column 10 (seats): a driver needs the passenger seats");
    parse_fails(HEAD "a,passenger,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon,2\n",
                "p.csv:2:10: column 10 (seats): a passenger has no car");
    parse_fails(HEAD "a,driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon,3\n"
                     "b,passenger,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon,\n"
                     "a,passenger,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon,\n",
                "p.csv:4:1: column 1 (id): id 'a' is also on line 2");
    parse_fails(HEAD "a,driver,7.4165,43.7310,7.4165,43.7310,09:00,17:30,mon,3\n", "work is home");
    parse_fails(HEAD "\"a,driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon,3\n", "a quote left open");
    parse_fails(HEAD ",driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon,3\n", "p.csv:2:1: column 1 (id): an id");
}

/* --- small random populations: the optimum against a brute force --- */

static const double centres[][2] = {{7.4165, 43.7310}, {7.4275, 43.7396}, {7.4215, 43.7350}, {7.4360, 43.7470}};

static cv_coord near_centre(uint64_t *rng, int c, double radius_m)
{
    cv_snap_options so = cv_snap_defaults();
    so.stop_only = 1;
    for (;;) {
        double dx = ((double)(tst_rand(rng) % 2001) / 1000.0 - 1) * radius_m;
        double dy = ((double)(tst_rand(rng) % 2001) / 1000.0 - 1) * radius_m;
        cv_coord p = {cv_fixed(centres[c][0] + dx / 80500.0), cv_fixed(centres[c][1] + dy / 111195.0)};
        cv_snap s;
        if (!cv_snap_point(g, p, &so, &s, NULL))
            return s.location;
    }
}

static void random_population(uint64_t *rng, cv_person *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cv_person *p = &v[i];
        memset(p, 0, sizeof *p);
        snprintf(p->id, sizeof p->id, "p%zu", i);
        int r = (int)(tst_rand(rng) % 3);
        p->role = r == 0 ? CV_ROLE_DRIVER : r == 1 ? CV_ROLE_PASSENGER : CV_ROLE_EITHER;
        p->seats = p->role == CV_ROLE_PASSENGER ? 0 : 1 + (int)(tst_rand(rng) % 3);
        int h = (int)(tst_rand(rng) % 2) * 2, w = 1 + (int)(tst_rand(rng) % 2) * 2;
        if (tst_rand(rng) % 5 == 0) /* some go the other way */
            h = 3 - h, w = 3 - w;
        p->home = near_centre(rng, h, 250);
        p->work = near_centre(rng, w, 200);
        p->arrive_by_s = 8 * 3600 + (int32_t)(tst_rand(rng) % 3) * 600;
        p->leave_at_s = 17 * 3600 + (int32_t)(tst_rand(rng) % 3) * 600;
        p->days = (uint8_t)(0x1f & ~(tst_rand(rng) % 2 ? 1u << (tst_rand(rng) % 5) : 0));
        p->flex_s = 900 + (int32_t)(tst_rand(rng) % 3) * 600;
        p->max_detour_s = -1;
        /* Monaco's trips are short and its streets one-way: detours of 25 % would rarely let anyone share */
        p->max_detour_pct = tst_rand(rng) % 4 == 0 ? -1 : 80 + (double)(tst_rand(rng) % 3) * 60;
        p->line = (int)i + 2;
    }
}

static cv_cost cost_of(cv_ch_query *q, const cv_snap *a, const cv_snap *b)
{
    cv_table_cell c;
    if (cv_ch_cost(q, a, b, &c))
        return (cv_cost){CV_UNREACHABLE, CV_UNREACHABLE};
    return (cv_cost){c.duration_ds, c.distance_dm};
}

/* --- an oracle of the carpool rules, written apart from the planner: every order of the stops (all permutations,
   those with a passenger dropped before being picked up thrown away), every leg its own point-to-point route --- */

typedef struct oracle {
    cv_ch_query *q;
    const cv_person *v;
    const cv_batch_result *r;
    int n;
    signed char *holds; /* [driver][subset of people]: -1 unknown, 0, 1 */
    int64_t *added;     /* [driver][subset]: both ways together */
    int64_t *saved;     /* [driver][subset]: per week */
} oracle;

static const cv_snap *place_of(const oracle *o, int person, int work)
{
    return work ? &o->r->people[person].work : &o->r->people[person].home;
}

static int64_t limit_of(const cv_person *d, uint32_t own, int distance)
{
    double pct = d->max_detour_pct >= 0 ? d->max_detour_pct : 25;
    int64_t lim = (int64_t)floor(pct / 100.0 * own);
    if (!distance && d->max_detour_s >= 0 && lim > (int64_t)d->max_detour_s * 10)
        lim = (int64_t)d->max_detour_s * 10;
    return lim;
}

static int next_permutation(int *a, int n)
{
    int i = n - 2;
    while (i >= 0 && a[i] >= a[i + 1])
        i--;
    if (i < 0)
        return 0;
    int j = n - 1;
    while (a[j] <= a[i])
        j--;
    int t = a[i];
    a[i] = a[j], a[j] = t;
    for (int l = i + 1, r = n - 1; l < r; l++, r--)
        t = a[l], a[l] = a[r], a[r] = t;
    return 1;
}

/* The least distance the driver d adds on way `back` carrying ps[0..m), over the orders that keep the limits and
   windows; -1 when none does. The stops: 2k the pickup of ps[k], 2k + 1 the drop-off. The order's stops and times
   in *stops and *at (the car at each), the driver's departure in *t0 and arrival in *t1, when given. */
static int64_t oracle_way(const oracle *o, int d, const int *ps, int m, int back, int *stops, int64_t *at, int64_t *t0,
                          int64_t *t1, int64_t *add_ds)
{
    const cv_person *dv = &o->v[d];
    const cv_batch_person *dx = &o->r->people[d];
    cv_cost own = back ? dx->back : dx->out;
    int64_t lim_ds = limit_of(dv, own.ds, 0), lim_dm = limit_of(dv, own.dm, 1);
    int perm[2 * CV_GROUP_MAX], best_perm[2 * CV_GROUP_MAX];
    int64_t best = 0, best_ds = 0, best_t = 0, best_end = 0, cum[2 * CV_GROUP_MAX], best_cum[2 * CV_GROUP_MAX];
    int found = 0;
    for (int k = 0; k < 2 * m; k++)
        perm[k] = k;
    do {
        int ok = 1;
        for (int k = 0; ok && k < 2 * m; k++)
            for (int l = k + 1; ok && l < 2 * m; l++)
                ok = !(perm[k] % 2 == 1 && perm[l] == perm[k] - 1); /* a drop-off before its pickup */
        if (!ok)
            continue;
        /* out: pickups at homes, drop-offs at work; back: pickups at work, drop-offs at homes */
        const cv_snap *from = place_of(o, d, back);
        int64_t ds = 0, dm = 0;
        for (int k = 0; ok && k <= 2 * m; k++) {
            const cv_snap *to = k == 2 * m ? place_of(o, d, !back) : place_of(o, ps[perm[k] / 2], (perm[k] % 2) ^ back);
            cv_cost c = cost_of(o->q, from, to);
            ok = c.ds != CV_UNREACHABLE;
            ds += c.ds, dm += c.dm;
            if (k < 2 * m)
                cum[k] = ds;
            from = to;
        }
        if (!ok || ds - own.ds > lim_ds || dm - own.dm > lim_dm)
            continue;
        int64_t lo, hi, end = (ds + 5) / 10;
        if (!back) {
            lo = dv->arrive_by_s - dv->flex_s - end, hi = dv->arrive_by_s - end;
            for (int k = 0; k < 2 * m; k++)
                if (perm[k] % 2) {
                    const cv_person *p = &o->v[ps[perm[k] / 2]];
                    int64_t a = (cum[k] + 5) / 10;
                    lo = lo > p->arrive_by_s - p->flex_s - a ? lo : p->arrive_by_s - p->flex_s - a;
                    hi = hi < p->arrive_by_s - a ? hi : p->arrive_by_s - a;
                }
        } else {
            lo = dv->leave_at_s, hi = (int64_t)dv->leave_at_s + dv->flex_s;
            for (int k = 0; k < 2 * m; k++)
                if (perm[k] % 2 == 0) {
                    const cv_person *p = &o->v[ps[perm[k] / 2]];
                    int64_t a = (cum[k] + 5) / 10;
                    lo = lo > p->leave_at_s - a ? lo : p->leave_at_s - a;
                    hi = hi < (int64_t)p->leave_at_s + p->flex_s - a ? hi : (int64_t)p->leave_at_s + p->flex_s - a;
                }
        }
        if (lo > hi)
            continue;
        int64_t add = dm - own.dm, addt = ds - own.ds;
        if (!found || add < best || (add == best && addt < best_ds)) {
            found = 1;
            best = add, best_ds = addt, best_t = back ? lo : hi, best_end = end;
            memcpy(best_perm, perm, sizeof perm);
            memcpy(best_cum, cum, sizeof cum);
        }
    } while (next_permutation(perm, 2 * m));
    if (!found)
        return -1;
    if (stops)
        for (int k = 0; k < 2 * m; k++)
            stops[k] = best_perm[k], at[k] = best_t + (best_cum[k] + 5) / 10;
    if (t0)
        *t0 = best_t, *t1 = best_t + best_end;
    if (add_ds)
        *add_ds = best_ds > 0 ? best_ds : 0;
    return best > 0 ? best : 0;
}

/* Whether driver d carries the people of subset s (a bit each) under the rules: seats, shared days, each smaller
   group holding, an order each way, something saved over the week counted day by day. */
static int oracle_holds(oracle *o, int d, unsigned s, int K)
{
    size_t k = (size_t)d * (1u << o->n) + s;
    if (o->holds[k] >= 0)
        return o->holds[k];
    o->holds[k] = 0;
    int ps[CV_GROUP_MAX], m = 0;
    const cv_person *dv = &o->v[d];
    for (int i = 0; i < o->n; i++)
        if (s >> i & 1) {
            if (m == CV_GROUP_MAX || i == d || !cv_person_rides(&o->v[i]) || !(dv->days & o->v[i].days))
                return 0;
            ps[m++] = i;
        }
    if (!m || !cv_person_drives(dv) || m > dv->seats || m > K)
        return 0;
    for (int t = 0; m > 1 && t < m; t++)
        if (!oracle_holds(o, d, s & ~(1u << ps[t]), K))
            return 0;
    int64_t a = oracle_way(o, d, ps, m, 0, NULL, NULL, NULL, NULL, NULL);
    int64_t b = a < 0 ? -1 : oracle_way(o, d, ps, m, 1, NULL, NULL, NULL, NULL, NULL);
    if (a < 0 || b < 0)
        return 0;
    o->added[k] = a + b;
    int64_t saved = 0;
    for (int day = 0; day < 7; day++) {
        if (!(dv->days >> day & 1))
            continue;
        unsigned rs = 0;
        int64_t own = 0;
        for (int t = 0; t < m; t++)
            if (o->v[ps[t]].days >> day & 1)
                rs |= 1u << ps[t], own += (int64_t)o->r->people[ps[t]].out.dm + o->r->people[ps[t]].back.dm;
        if (rs)
            saved += own - o->added[(size_t)d * (1u << o->n) + rs];
    }
    if (m == 1 && (saved <= 0 || o->r->people[ps[0]].out.dm + o->r->people[ps[0]].back.dm - (a + b) <= 0))
        return 0;
    if (saved <= 0)
        return 0;
    o->saved[k] = saved;
    return o->holds[k] = 1;
}

/* The best total weight of a set of carpools over the people not in `used`, by brute force. */
static int64_t best_packing(oracle *o, unsigned used, int K, cv_objective obj, int64_t *memo)
{
    unsigned all = (1u << o->n) - 1;
    if (used == all)
        return 0;
    if (memo[used] >= 0)
        return memo[used];
    int i = __builtin_ctz(~used & all);
    int64_t best = best_packing(o, used | 1u << i, K, obj, memo); /* i alone */
    for (int d = 0; d < o->n; d++) {
        if (used >> d & 1)
            continue;
        unsigned freep = all & ~used & ~(1u << d);
        /* carpools of d that hold i (as driver or passenger): subsets of the free */
        for (unsigned s = freep; s; s = (s - 1) & freep) {
            if (d != i && !(s >> i & 1))
                continue;
            if (__builtin_popcount(s) > CV_GROUP_MAX || !oracle_holds(o, d, s, K))
                continue;
            size_t k = (size_t)d * (1u << o->n) + s;
            int64_t w = (obj == CV_OBJECTIVE_MATCHED ? 1000000000000LL * (__builtin_popcount(s) + 1) : 0) + o->saved[k];
            int64_t x = w + best_packing(o, used | s | 1u << d, K, obj, memo);
            if (x > best)
                best = x;
        }
    }
    return memo[used] = best;
}

static int64_t plan_weight(const cv_batch_plan *p, cv_objective obj)
{
    int64_t s = 0;
    for (size_t k = 0; k < p->ncarpools; k++)
        s += (obj == CV_OBJECTIVE_MATCHED ? 1000000000000LL * (p->carpools[k].np + 1) : 0) + p->carpools[k].saved_dm;
    return s;
}

/* A carpool checked with routes of its own: the times follow the legs in the carpool's order, the windows and the
   detour limits hold, the days, the seats, and what it saves (by the oracle). */
static void recheck(oracle *o, const cv_carpool *c, int K)
{
    const cv_person *v = o->v, *d = &v[c->driver];
    const cv_batch_person *dx = &o->r->people[c->driver];
    assert_true(cv_person_drives(d));
    assert_true(c->np >= 1 && c->np <= d->seats && c->np <= K);
    unsigned s = 0;
    uint8_t days = 0;
    for (int i = 0; i < c->np; i++) {
        const cv_person *p = &v[c->riders[i].p];
        assert_true(cv_person_rides(p) && c->riders[i].p != c->driver);
        assert_int_equal(c->riders[i].days, d->days & p->days);
        assert_true(c->riders[i].days != 0);
        days |= c->riders[i].days;
        s |= 1u << c->riders[i].p;
    }
    assert_int_equal(c->days, days);
    assert_int_equal(oracle_holds(o, (int)c->driver, s, K), 1);
    assert_int_equal(c->saved_dm, o->saved[(size_t)c->driver * (1u << o->n) + s]);
    for (int way = 0; way < 2; way++) {
        const uint8_t *stops = way ? c->back_stops : c->out_stops;
        const cv_snap *from = way ? &dx->work : &dx->home;
        int64_t t = way ? c->back_depart : c->out_depart, ds = 0, dm = 0;
        int pickups = 0;
        for (int k = 0; k <= 2 * c->np; k++) {
            const cv_snap *to;
            int rider = -1, work = 0;
            if (k < 2 * c->np) {
                rider = (stops[k] - 2) / 2, work = stops[k] % 2;
                to = work ? &o->r->people[c->riders[rider].p].work : &o->r->people[c->riders[rider].p].home;
            } else {
                to = way ? &dx->home : &dx->work;
            }
            cv_path path = {0};
            cv_error err = {0};
            assert_int_equal(cv_ch_route(o->q, from, to, &path, &err), 0);
            ds += path.duration_ds, dm += path.distance_dm;
            cv_path_free(&path);
            int64_t at = t + (ds + 5) / 10;
            from = to;
            if (rider < 0) {
                assert_true(llabs(at - (way ? c->back_arrive : c->out_arrive)) <= 1);
                continue;
            }
            const cv_carpool_rider *x = &c->riders[rider];
            const cv_person *p = &v[x->p];
            int pickup = work == way; /* out: picked up at home; back: at work */
            if (pickup && !way)
                assert_int_equal(rider, pickups++); /* the riders in the order they are picked up out */
            int64_t given = way ? (pickup ? x->back_pickup : x->back_drop) : (pickup ? x->out_pickup : x->out_drop);
            assert_true(llabs(at - given) <= 1);
            if (!way && !pickup)
                assert_true(at >= p->arrive_by_s - p->flex_s - 1 && at <= p->arrive_by_s + 1);
            if (way && pickup)
                assert_true(at >= p->leave_at_s - 1 && at <= p->leave_at_s + p->flex_s + 1);
        }
        if (!way)
            assert_true(c->out_arrive >= d->arrive_by_s - d->flex_s - 1 && c->out_arrive <= d->arrive_by_s + 1);
        else
            assert_true(c->back_depart >= d->leave_at_s && c->back_depart <= d->leave_at_s + d->flex_s);
        cv_cost own = way ? dx->back : dx->out;
        assert_true(ds - own.ds <= limit_of(d, own.ds, 0) + 1);
        assert_true(dm - own.dm <= limit_of(d, own.dm, 1) + 1);
        const cv_cost *added = way ? &c->back_added : &c->out_added;
        assert_true(llabs((int64_t)added->dm - (dm > own.dm ? dm - own.dm : 0)) <= 2);
    }
}

static void exactness(cv_objective obj, uint64_t seed, int rounds, int max_passengers)
{
    uint64_t rng = seed;
    cv_ch_query *q = cv_ch_query_new(g);
    assert_non_null(q);
    int seen = 0, groups_seen = 0, greedy_below = 0, in_plan_groups = 0, heuristic_below = 0;
    for (int round = 0; round < rounds; round++) {
        int n = 6 + (int)(tst_rand(&rng) % 5); /* 6 to 10 */
        cv_person v[10];
        random_population(&rng, v, (size_t)n);
        cv_batch_options o = cv_batch_defaults();
        o.objective = obj;
        o.max_passengers = max_passengers;
        o.candidates = 16; /* every passenger of a driver: the brute force knows no limit */
        cv_batch_result r;
        cv_error err = {0};
        if (cv_batch_run(g, v, (size_t)n, &o, NULL, &r, &err))
            fail_msg("%s", err.text);
        int K = max_passengers ? max_passengers : CV_GROUP_MAX;
        size_t cells = (size_t)n << n;
        oracle orc = {q, v, &r, n, malloc(cells), calloc(cells, sizeof(int64_t)), calloc(cells, sizeof(int64_t))};
        memset(orc.holds, -1, cells);
        int64_t *memo = malloc(sizeof *memo << n);
        for (size_t k = 0; k < (size_t)1 << n; k++)
            memo[k] = -1;
        int64_t brute = best_packing(&orc, 0, K, obj, memo);
        for (int d = 0; d < n; d++)
            for (unsigned s = 1; s < 1u << n; s++)
                if (orc.holds[((size_t)d << n) + s] == 1)
                    seen++, groups_seen += __builtin_popcount(s) > 1;
        int64_t opt = plan_weight(&r.optimal, obj), greedy = plan_weight(&r.greedy, obj);
        if (r.proven_optimal && opt != brute)
            fail_msg("round %d (n %d): the plan's weight %lld, the brute force's %lld", round, n, (long long)opt,
                     (long long)brute);
        assert_true(r.proven_optimal); /* a dozen people: always solved to the end */
        assert_true(greedy <= opt);
        greedy_below += greedy < opt;
        for (size_t k = 0; k < r.optimal.ncarpools; k++) {
            recheck(&orc, &r.optimal.carpools[k], K);
            in_plan_groups += r.optimal.carpools[k].np > 1;
        }
        for (size_t k = 0; k < r.greedy.ncarpools; k++)
            recheck(&orc, &r.greedy.carpools[k], K);
        /* each participant in at most one carpool, and the reasons of the others */
        for (int i = 0; i < n; i++) {
            int in = 0;
            for (size_t k = 0; k < r.optimal.ncarpools; k++) {
                in += r.optimal.carpools[k].driver == (uint32_t)i;
                for (int t = 0; t < r.optimal.carpools[k].np; t++)
                    in += r.optimal.carpools[k].riders[t].p == (uint32_t)i;
            }
            assert_true(in <= 1);
            assert_int_equal(in == 1, r.people[i].why == CV_WHY_MATCHED);
        }
        /* the regime beyond the integer program: the matching and exchanges, never above the optimum, and a bound
           never below it */
        if (max_passengers != 1) {
            cv_batch_result h;
            o.exact_columns = 0;
            if (cv_batch_run(g, v, (size_t)n, &o, NULL, &h, &err))
                fail_msg("%s", err.text);
            assert_true(plan_weight(&h.optimal, obj) <= brute);
            double best = 0;
            for (size_t k = 0; k < r.optimal.ncarpools; k++)
                best +=
                    obj == CV_OBJECTIVE_KM ? r.optimal.carpools[k].saved_dm / 10000.0 : r.optimal.carpools[k].np + 1;
            assert_true(h.upper_bound >= best - 1e-6);
            heuristic_below += plan_weight(&h.optimal, obj) < brute;
            for (size_t k = 0; k < h.optimal.ncarpools; k++)
                recheck(&orc, &h.optimal.carpools[k], K);
            cv_batch_result_free(&h);
        }
        free(orc.holds), free(orc.added), free(orc.saved), free(memo);
        cv_batch_result_free(&r);
    }
    cv_ch_query_free(q);
    print_message("%d rounds (at most %d passengers): %d feasible carpools, %d of several, %d of several in the plans, "
                  "greedy below the optimum in %d, the heuristic alone in %d\n",
                  rounds, max_passengers ? max_passengers : CV_GROUP_MAX, seen, groups_seen, in_plan_groups,
                  greedy_below, heuristic_below);
    assert_true(seen > rounds); /* the populations do share trips: the test compares something */
    if (max_passengers != 1)
        assert_true(groups_seen > rounds && in_plan_groups > 0);
}

static void test_optimal_km(void **state)
{
    (void)state;
    exactness(CV_OBJECTIVE_KM, 20261207, 40, 0);
}

/* --- the solvers alone, on random carpools: every set packing tried --- */

static int64_t pack_brute(const cv_column *cols, size_t m, unsigned used, unsigned all, cv_pack_goal goal,
                          int64_t *memo)
{
    if (used == all)
        return 0;
    if (memo[used] >= 0)
        return memo[used];
    int i = __builtin_ctz(~used & all);
    int64_t best = pack_brute(cols, m, used | 1u << i, all, goal, memo);
    for (size_t j = 0; j < m; j++) {
        unsigned s = 1u << cols[j].d;
        for (int t = 0; t < cols[j].np; t++)
            s |= 1u << cols[j].p[t];
        if (!(s >> i & 1) || (s & used))
            continue;
        int64_t x = cv_column_weight(&cols[j], goal) + pack_brute(cols, m, used | s, all, goal, memo);
        if (x > best)
            best = x;
    }
    return memo[used] = best;
}

static int by_driver(const void *a, const void *b)
{
    const cv_column *x = a, *y = b;
    return x->d < y->d ? -1 : x->d > y->d;
}

static void test_packing(void **state)
{
    (void)state;
    uint64_t rng = 31337;
    int parts_seen = 0;
    for (int round = 0; round < 150; round++) {
        size_t n = 8 + tst_rand(&rng) % 7, m = 5 + tst_rand(&rng) % 40; /* 8 to 14 people, 5 to 44 carpools */
        cv_column cols[44];
        for (size_t j = 0; j < m; j++) {
            cv_column *c = &cols[j];
            memset(c, 0, sizeof *c);
            /* people in a few clusters, so that the program often falls apart */
            size_t base = round % 2 ? 0 : (tst_rand(&rng) % 2) * (n / 2), span = round % 2 ? n : n / 2;
            c->d = (uint32_t)(base + tst_rand(&rng) % span);
            c->np = (uint8_t)(1 + tst_rand(&rng) % 3);
            for (int t = 0; t < c->np; t++) {
                uint32_t p;
                int again;
                do {
                    p = (uint32_t)(base + tst_rand(&rng) % span);
                    again = p == c->d;
                    for (int u = 0; u < t; u++)
                        again |= c->p[u] == p;
                } while (again);
                c->p[t] = p;
            }
            c->saved_dm = 1 + (int64_t)(tst_rand(&rng) % 1000);
        }
        qsort(cols, m, sizeof *cols, by_driver);
        for (int goal = 0; goal < 2; goal++) {
            int64_t memo[1 << 14];
            for (size_t k = 0; k < ((size_t)1 << n); k++)
                memo[k] = -1;
            int64_t brute = pack_brute(cols, m, 0, (1u << n) - 1, (cv_pack_goal)goal, memo);
            double brute_primary = goal ? (double)(brute / 1000000000000LL) : (double)brute;
            size_t chosen[14], k = 0;
            cv_error err = {0};
            /* the heuristics: never above the optimum, the bound never below */
            assert_int_equal(cv_pack_greedy(cols, m, n, (cv_pack_goal)goal, chosen, &k, &err), 0);
            int64_t w = 0;
            for (size_t t = 0; t < k; t++)
                w += cv_column_weight(&cols[chosen[t]], (cv_pack_goal)goal);
            assert_true(w <= brute);
            assert_int_equal(cv_pack_improve(cols, m, n, (cv_pack_goal)goal, chosen, &k, &err), 0);
            int64_t w2 = 0;
            for (size_t t = 0; t < k; t++)
                w2 += cv_column_weight(&cols[chosen[t]], (cv_pack_goal)goal);
            assert_true(w2 >= w && w2 <= brute);
            double prices[14];
            double bound = cv_pack_bound(cols, m, n, (cv_pack_goal)goal, 0, 5.0, prices);
            assert_true(bound >= brute_primary - 1e-6);
            size_t k2 = 0, chosen2[14];
            assert_int_equal(cv_pack_priced(cols, m, n, (cv_pack_goal)goal, prices, chosen2, &k2, &err), 0);
            int64_t w3 = 0;
            unsigned used = 0;
            for (size_t t = 0; t < k2; t++) {
                const cv_column *c = &cols[chosen2[t]];
                w3 += cv_column_weight(c, (cv_pack_goal)goal);
                assert_false(used >> c->d & 1);
                used |= 1u << c->d;
                for (int u = 0; u < c->np; u++) {
                    assert_false(used >> c->p[u] & 1);
                    used |= 1u << c->p[u];
                }
            }
            assert_true(w3 <= brute);
            /* the integer program: the optimum, proven, from the improved plan */
            cv_pack_exact_result ex;
            assert_int_equal(cv_pack_exact(cols, m, n, (cv_pack_goal)goal, 20.0, chosen, &k, &ex, &err), 0);
            assert_true(ex.solved && ex.proven);
            int64_t w4 = 0;
            for (size_t t = 0; t < k; t++)
                w4 += cv_column_weight(&cols[chosen[t]], (cv_pack_goal)goal);
            if (w4 != brute)
                fail_msg("round %d goal %d: the program's %lld, the brute force's %lld", round, goal, (long long)w4,
                         (long long)brute);
            assert_true(fabs(ex.bound - brute_primary) < 1e-6);
        }
        /* how often the people fall apart into independent groups */
        uint32_t up[14];
        for (size_t i = 0; i < n; i++)
            up[i] = (uint32_t)i;
        int groups = (int)n;
        for (size_t j = 0; j < m; j++)
            for (int t = 0; t < cols[j].np; t++) {
                uint32_t a = cols[j].d, b = cols[j].p[t];
                while (up[a] != a)
                    a = up[a];
                while (up[b] != b)
                    b = up[b];
                if (a != b)
                    up[a] = b, groups--;
            }
        parts_seen += groups > 1;
    }
    print_message("150 rounds of random carpools: the program split in %d\n", parts_seen);
    assert_true(parts_seen > 20);
}

/* With one passenger per car, the plan is the maximum-weight matching of the pairs. */
static void test_optimal_pairs(void **state)
{
    (void)state;
    exactness(CV_OBJECTIVE_KM, 99, 25, 1);
}

static void test_optimal_matched(void **state)
{
    (void)state;
    exactness(CV_OBJECTIVE_MATCHED, 7, 25, 0);
}

static void test_off_the_roads(void **state)
{
    (void)state;
    const char *text = HEAD "a,driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon,3\n"
                            "b,passenger,7.5000,43.6500,7.4350,43.7460,09:00,17:30,mon,\n";
    cv_person *v = NULL;
    size_t n = 0;
    cv_error err = {0};
    assert_int_equal(cv_population_parse("p.csv", text, strlen(text), &v, &n, &err), 0);
    cv_batch_options o = cv_batch_defaults();
    cv_batch_result r;
    assert_int_equal(cv_batch_run(g, v, n, &o, NULL, &r, &err), CV_ENOSEGMENT);
    assert_non_null(strstr(err.text, "line 3: participant 'b': the home"));
    o.max_passengers = CV_GROUP_MAX + 1;
    assert_int_equal(cv_batch_run(g, v, n, &o, NULL, &r, &err), CV_EINVAL);
    assert_non_null(strstr(err.text, "--max-passengers"));
    free(v);
}

static int run_batch(const char *csv_path, const char *out_dir)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s batch --graph %s/batch_monaco.cvg --in %s --out %s >/dev/null 2>%s.err", COVOIT_BIN,
             COVOIT_TMP, csv_path, out_dir, csv_path);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The command as an operator runs it: the files written, or with a bad row nothing at all and exit 2. */
static void test_command(void **state)
{
    (void)state;
    char csv[1024], out[1024], path[1200];
    snprintf(csv, sizeof csv, "%s/batch_people.csv", COVOIT_TMP);
    snprintf(out, sizeof out, "%s/batch_out", COVOIT_TMP);
    snprintf(path, sizeof path, "rm -rf %s", out);
    assert_int_equal(system(path), 0);
    write_text(csv, HEAD "d1,driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,\"mon,tue,wed,thu,fri\",3\n"
                         "p1,passenger,7.4180,43.7325,7.4350,43.7460,09:00,17:30,\"mon,tue,wed,thu,fri\",\n"
                         "p4,passenger,7.4100,43.7280,7.4400,43.7500,07:00,15:00,sat,\n");
    assert_int_equal(run_batch(csv, out), 0);
    snprintf(path, sizeof path, "%s/plan.csv", out);
    char *plan = read_text(path);
    assert_non_null(plan);
    assert_non_null(strstr(plan, "\"id\",\"carpool\",\"role\",\"driver\""));
    assert_non_null(strstr(plan, "\"p1\",\"1\",\"passenger\",\"d1\""));
    assert_non_null(strstr(plan, "\"p4\",\"\""));
    free(plan);
    snprintf(path, sizeof path, "%s/summary.json", out);
    char *sum = read_text(path);
    assert_non_null(sum);
    assert_non_null(strstr(sum, "\"participants\": 3"));
    assert_non_null(strstr(sum, "\"proven_optimal\": true"));
    assert_non_null(strstr(sum, "\"greedy\""));
    free(sum);
    snprintf(path, sizeof path, "%s/plan.geojson", out);
    char *geo = read_text(path);
    assert_non_null(geo);
    assert_non_null(strstr(geo, "\"type\":\"FeatureCollection\""));
    assert_non_null(strstr(geo, "\"LineString\""));
    assert_non_null(strstr(geo, "\"way\":\"back\""));
    free(geo);
    /* the report and what it loads, beside it (the browser test opens it) */
    snprintf(path, sizeof path, "%s/report.html", out);
    char *html = read_text(path);
    assert_non_null(html);
    assert_non_null(strstr(html, "<td class=\"best\" id=\"carpools\">1</td>"));
    assert_non_null(strstr(html, "OpenStreetMap"));
    free(html);
    static const char *const beside[] = {"report-data.js", "report.js",       "report.css",
                                         "lib/leaflet.js", "lib/leaflet.css", "lib/chart.umd.js"};
    for (size_t i = 0; i < sizeof beside / sizeof *beside; i++) {
        snprintf(path, sizeof path, "%s/%s", out, beside[i]);
        assert_int_equal(access(path, R_OK), 0);
    }
    /* a car of two passengers: both in the plan, in their pickup order, the route through all their places */
    write_text(csv, "id,role,home_lon,home_lat,work_lon,work_lat,arrive_by,leave_at,days,seats,max_detour_pct\n"
                    "d1,driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,\"mon,tue,wed,thu,fri\",3,100\n"
                    "p1,passenger,7.4180,43.7325,7.4350,43.7460,09:00,17:30,\"mon,tue,wed,thu,fri\",,\n"
                    "p2,passenger,7.4172,43.7318,7.4356,43.7466,09:00,17:30,\"mon,tue,wed\",,\n");
    snprintf(path, sizeof path, "rm -rf %s", out);
    assert_int_equal(system(path), 0);
    assert_int_equal(run_batch(csv, out), 0);
    snprintf(path, sizeof path, "%s/plan.csv", out);
    plan = read_text(path);
    assert_non_null(plan);
    assert_non_null(strstr(plan, "\"d1\",\"1\",\"driver\",\"d1\",\"0\",\"mon,tue,wed,thu,fri\""));
    /* the pickup orders, 1 and 2 */
    char *p1 = strstr(plan, "\"p1\",\"1\",\"passenger\",\"d1\",\"1\""),
         *p2 = strstr(plan, "\"p2\",\"1\",\"passenger\",\"d1\",\"2\"");
    if (!p1 || !p2)
        p1 = strstr(plan, "\"p1\",\"1\",\"passenger\",\"d1\",\"2\""),
        p2 = strstr(plan, "\"p2\",\"1\",\"passenger\",\"d1\",\"1\"");
    assert_non_null(p1);
    assert_non_null(p2);
    assert_non_null(strstr(p2, "\"mon,tue,wed\"")); /* p2's days */
    free(plan);
    snprintf(path, sizeof path, "%s/plan.geojson", out);
    geo = read_text(path);
    assert_non_null(geo);
    assert_true(strstr(geo, "\"passengers\":[\"p1\",\"p2\"]") || strstr(geo, "\"passengers\":[\"p2\",\"p1\"]"));
    free(geo);
    snprintf(path, sizeof path, "%s/summary.json", out);
    sum = read_text(path);
    assert_non_null(sum);
    assert_non_null(strstr(sum, "\"passengers_matched\": 2"));
    assert_non_null(strstr(sum, "\"feasible_groups\": 1"));
    free(sum);
    /* a bad row: exit 2, the error names it, the directory is left as it was */
    char out2[1100];
    snprintf(out2, sizeof out2, "%s2", out);
    snprintf(path, sizeof path, "rm -rf %s", out2);
    assert_int_equal(system(path), 0);
    write_text(csv, HEAD "d1,driver,7.4165,43.7310,7.4360,43.7470,9h,17:30,mon,3\n");
    assert_int_equal(run_batch(csv, out2), 2);
    char bad_threads[4096];
    snprintf(bad_threads, sizeof bad_threads,
             "%s batch --graph %s/batch_monaco.cvg --in %s --out %s --threads 0 2>/dev/null", COVOIT_BIN, COVOIT_TMP,
             csv, out2);
    int st = system(bad_threads);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    snprintf(path, sizeof path, "%s.err", csv);
    char *msg = read_text(path);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "batch_people.csv:2:7: column 7 (arrive_by)"));
    free(msg);
    snprintf(path, sizeof path, "%s/plan.csv", out2);
    assert_int_equal(access(path, F_OK), -1);
    /* a place off the roads: exit 2 naming the participant's line */
    write_text(csv, HEAD "d1,driver,7.4165,43.7310,7.4360,43.7470,09:00,17:30,mon,3\n"
                         "p1,passenger,7.5000,43.6500,7.4350,43.7460,09:00,17:30,mon,\n");
    assert_int_equal(run_batch(csv, out2), 2);
    assert_int_equal(access(path, F_OK), -1);
}

/* The synthetic population: the same seed gives the same people, written and read back unchanged, on the roads,
   and they do share trips. */
static void test_synth(void **state)
{
    (void)state;
    cv_synth_options so = cv_synth_defaults();
    so.seed = 42;
    so.centre_m = 300;
    so.min_trip_m = 800;
    cv_person *a = NULL, *b = NULL, *back = NULL;
    cv_error err = {0};
    if (cv_population_synth(g, 60, &so, &a, &err) || cv_population_synth(g, 60, &so, &b, &err))
        fail_msg("%s", err.text);
    assert_memory_equal(a, b, 60 * sizeof *a);
    char path[1024];
    snprintf(path, sizeof path, "%s/batch_synth.csv", COVOIT_TMP);
    assert_int_equal(cv_population_write(path, a, 60, &err), 0);
    size_t n = 0;
    if (cv_population_read(path, &back, &n, &err))
        fail_msg("%s", err.text);
    assert_int_equal(n, 60);
    int roles[3] = {0};
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(back[i].id, a[i].id);
        assert_int_equal(back[i].role, a[i].role);
        assert_true(labs((long)back[i].home.lon - a[i].home.lon) <= 1 &&
                    labs((long)back[i].work.lat - a[i].work.lat) <= 1);
        assert_int_equal(back[i].arrive_by_s, a[i].arrive_by_s);
        assert_int_equal(back[i].leave_at_s, a[i].leave_at_s);
        assert_int_equal(back[i].days, a[i].days);
        assert_int_equal(back[i].seats, a[i].seats);
        assert_int_equal(back[i].flex_s, a[i].flex_s);
        assert_true(cv_distance_m(a[i].home, a[i].work) >= 800);
        roles[a[i].role]++;
    }
    assert_true(roles[0] > 0 && roles[1] > 0 && roles[2] > 0);
    so.seed = 43;
    free(b);
    if (cv_population_synth(g, 60, &so, &b, &err))
        fail_msg("%s", err.text);
    assert_memory_not_equal(a, b, 60 * sizeof *a);
    cv_batch_options o = cv_batch_defaults();
    cv_batch_result r;
    if (cv_batch_run(g, back, n, &o, NULL, &r, &err))
        fail_msg("%s", err.text);
    print_message("60 synthetic commuters on Monaco: %zu feasible pairs, %zu carpools (greedy %zu)\n", r.pairs,
                  r.optimal.ncarpools, r.greedy.ncarpools);
    assert_true(r.optimal.figures.km_saved_week >= r.greedy.figures.km_saved_week);
    /* the same plan on one thread and on three as on one per core */
    for (int t = 1; t <= 3; t += 2) {
        cv_batch_result r2;
        o.threads = t;
        if (cv_batch_run(g, back, n, &o, NULL, &r2, &err))
            fail_msg("%s", err.text);
        assert_int_equal(r2.pairs, r.pairs);
        assert_int_equal(r2.routes, r.routes);
        assert_int_equal(r2.optimal.ncarpools, r.optimal.ncarpools);
        for (size_t k = 0; k < r.optimal.ncarpools; k++) {
            assert_int_equal(r2.optimal.carpools[k].driver, r.optimal.carpools[k].driver);
            assert_int_equal(r2.optimal.carpools[k].np, r.optimal.carpools[k].np);
            for (int t = 0; t < r.optimal.carpools[k].np; t++)
                assert_int_equal(r2.optimal.carpools[k].riders[t].p, r.optimal.carpools[k].riders[t].p);
        }
        assert_true(r2.optimal.figures.km_saved_week == r.optimal.figures.km_saved_week);
        cv_batch_result_free(&r2);
    }
    cv_batch_result_free(&r);
    free(a), free(b), free(back);
}

/* Every synthetic commuter has a road route from home to work and back: a place that snapped to an island of the
   road network (no edge of the main one within 300 m) made `covoit batch` refuse a whole population (seed 7 on
   Monaco: its 12th commuter's workplace). */
static void test_synth_routable(void **state)
{
    (void)state;
    cv_synth_options so = cv_synth_defaults();
    so.seed = 7;
    cv_person *v = NULL;
    cv_error err = {0};
    if (cv_population_synth(g, 200, &so, &v, &err))
        fail_msg("%s", err.text);
    cv_ch_query *q = cv_ch_query_new(g);
    assert_non_null(q);
    cv_snap_options o = cv_snap_defaults();
    o.stop_only = 1;
    for (size_t i = 0; i < 200; i++) {
        cv_snap h, w;
        assert_int_equal(cv_snap_point(g, v[i].home, &o, &h, NULL), 0);
        assert_int_equal(cv_snap_point(g, v[i].work, &o, &w, NULL), 0);
        cv_cost out = cost_of(q, &h, &w), back = cost_of(q, &w, &h);
        if (out.ds == CV_UNREACHABLE || back.ds == CV_UNREACHABLE)
            fail_msg("commuter %s (seed 7): no route between home and work", v[i].id);
    }
    cv_ch_query_free(q);
    free(v);
}

/* The example population the repository ships (data/commuters-porto.csv, made with bench/popgen on Porto, seed
   2026, one work centre): it reads whole, 500 commuters of every role, all in the Porto area. */
static void test_example_file(void **state)
{
    (void)state;
    cv_person *v = NULL;
    size_t n = 0;
    cv_error err = {0};
    if (cv_population_read(COVOIT_DATA "/commuters-porto.csv", &v, &n, &err))
        fail_msg("%s", err.text);
    assert_int_equal(n, 500);
    int roles[3] = {0};
    for (size_t i = 0; i < n; i++) {
        roles[v[i].role]++;
        const cv_coord *c[2] = {&v[i].home, &v[i].work};
        for (int k = 0; k < 2; k++)
            assert_true(cv_deg(c[k]->lon) > -8.9 && cv_deg(c[k]->lon) < -8.2 && cv_deg(c[k]->lat) > 40.9 &&
                        cv_deg(c[k]->lat) < 41.5);
        assert_true(v[i].arrive_by_s < v[i].leave_at_s && v[i].days);
    }
    assert_true(roles[0] > 0 && roles[1] > 0 && roles[2] > 0);
    free(v);
}

/* Homes and workplaces by name (columns home and work), found in the place index covoit import writes: the
   coordinates are the index's; a name it does not know stops the run at its line and column; without an index the
   error says what is needed. */
static void test_places_by_name(void **state)
{
    (void)state;
    char cmd[8192], csv[1024], out[1024], graph[1024], path[1100];
    snprintf(graph, sizeof graph, "%s/batch_named.cvg", COVOIT_TMP);
    snprintf(cmd, sizeof cmd, "%s import %s/monaco.osm.pbf -o %s --quiet", COVOIT_BIN, COVOIT_TEST_DATA, graph);
    assert_int_equal(system(cmd), 0);
    snprintf(csv, sizeof csv, "%s/batch_named.csv", COVOIT_TMP);
    snprintf(out, sizeof out, "%s/batch_named_out", COVOIT_TMP);
    write_text(csv, "id,role,home,work,arrive_by,leave_at,days,seats,max_detour_pct\n"
                    "d1,driver,Jardin Exotique,Avenue Princesse Grace,09:00,17:30,mon-fri,3,100\n"
                    "p1,passenger,Rue Grimaldi,Place du Casino,09:00,17:30,mon-fri,,\n");
    snprintf(cmd, sizeof cmd, "rm -rf %s; %s batch --graph %s --in %s --out %s >/dev/null 2>%s.err", out, COVOIT_BIN,
             graph, csv, out, csv);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/plan.geojson", out);
    char *geo = read_text(path);
    assert_non_null(geo);
    /* the places are the index's: the passenger's home on Rue Grimaldi, their work the Place du Casino stop, the
       driver's work on Avenue Princesse Grace */
    assert_non_null(strstr(geo, "[7.4185584,43.7343016]},\"properties\":{\"kind\":\"home\",\"id\":\"p1\""));
    assert_non_null(strstr(geo, "[7.4275372,43.7399476]},\"properties\":{\"kind\":\"work\",\"id\":\"p1\""));
    assert_non_null(strstr(geo, "[7.4311702,43.7439161]},\"properties\":{\"kind\":\"work\",\"id\":\"d1\""));
    free(geo);
    snprintf(path, sizeof path, "%s/summary.json", out);
    char *sum = read_text(path);
    assert_non_null(sum);
    assert_non_null(strstr(sum, "\"carpools\": 1,"));
    free(sum);
    /* an unknown name: its line and column */
    write_text(csv, "id,role,home,work,arrive_by,leave_at,days,seats\n"
                    "d1,driver,Jardin Exotique,Avenue Princesse Grace,09:00,17:30,mon-fri,3\n"
                    "p1,passenger,Qwxyzzy Street,Place du Casino,09:00,17:30,mon-fri,\n");
    snprintf(cmd, sizeof cmd, "rm -rf %s; %s batch --graph %s --in %s --out %s >/dev/null 2>%s.err", out, COVOIT_BIN,
             graph, csv, out, csv);
    assert_int_equal(WEXITSTATUS(system(cmd)), 2);
    snprintf(path, sizeof path, "%s.err", csv);
    char *said = read_text(path);
    assert_non_null(said);
    if (!strstr(said, ":3:3: column 3 (home): 'Qwxyzzy Street': no place by that name"))
        fail_msg("unexpected error: %s", said);
    free(said);
    /* the graph of the other tests has no index beside it */
    assert_int_equal(run_batch(csv, out), 2);
    said = read_text(path);
    assert_non_null(said);
    if (!strstr(said, "place names need the place index"))
        fail_msg("unexpected error: %s", said);
    free(said);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_optimal_km),
        cmocka_unit_test(test_optimal_matched),
        cmocka_unit_test(test_optimal_pairs),
        cmocka_unit_test(test_packing),
        cmocka_unit_test(test_off_the_roads),
        cmocka_unit_test(test_command),
        cmocka_unit_test(test_places_by_name),
        cmocka_unit_test(test_synth),
        cmocka_unit_test(test_example_file),
        cmocka_unit_test(test_synth_routable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
