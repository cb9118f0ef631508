/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_match_edges.c — the matcher's limits exactly at their edges: the detour limits (at the limit and one unit
   beyond, relative and absolute), the time windows (at the edge and one second past), offers gone by, the first and
   last days of regular schedules, and daylight-saving changes in Europe/Paris (a time in the spring gap, the
   repeated autumn hour, a regular commute on both sides of a change). The expected edges are computed here from
   point-to-point routes on the Monaco graph, not from the matcher's own evaluation. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "routing/ch.h"
#include "matcher/match.h"
#include "matcher/matcher.h"
#include "osm/profile.h"
#include "routing/route.h"
#include "test_support.h"
#include "matcher/timeutil.h"

#define H 3600
#define MIN 60

static cv_graph *graph;
static cv_ch_query *chq;
static cv_dijkstra *dij;

static int setup(void **state)
{
    (void)state;
    graph = tst_build_graph(COVOIT_TEST_DATA "/monaco.osm.pbf", "match_edges_monaco.cvg");
    chq = cv_ch_query_new(graph);
    dij = cv_dijkstra_new(graph);
    return chq && dij ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char p[1024];
    cv_ch_query_free(chq);
    cv_dijkstra_free(dij);
    cv_graph_close(graph);
    snprintf(p, sizeof p, "%s/match_edges_monaco.cvg", COVOIT_TMP);
    unlink(p);
    return cv_tz_set(NULL, NULL);
}

/* ---------------------------------------------------------------- cv_plan_insert on hand-made costs */

/* A plan origin -> destination (one leg of `leg`) and a passenger whose pickup p and drop-off q cost as given. */
typedef struct two_stops {
    cv_plan plan;
    cv_plan_stop st[2];
    cv_cost to_p[2], from_p[2], to_q[2], from_q[2];
    cv_candidate c;
} two_stops;

static void two_stops_init(two_stops *t, cv_cost leg, cv_cost op, cv_cost pq, cv_cost qd)
{
    memset(t, 0, sizeof *t);
    t->st[0].leg = leg;
    for (int k = 0; k < 2; k++) {
        t->st[k].win_lo = INT32_MIN;
        t->st[k].win_hi = INT32_MAX;
    }
    t->plan = (cv_plan){2, t->st, 3, 15 * MIN, leg.ds, leg.dm, 100000, 1000000};
    t->to_p[0] = op;
    t->from_q[1] = qd;
    t->to_p[1] = t->from_p[0] = t->from_p[1] = t->to_q[0] = t->to_q[1] = t->from_q[0] =
        (cv_cost){CV_UNREACHABLE, CV_UNREACHABLE};
    t->c = (cv_candidate){t->to_p, t->from_p, t->to_q, t->from_q, pq, 1, 0, 10 * MIN};
    t->c.wish = op.ds / 10;
}

/* The detour limits hold with equality, in both units, and refuse the smallest step beyond. */
static void test_plan_detour_limits_at_the_edge(void **state)
{
    (void)state;
    two_stops t;
    /* 10 km in 1000.0 s; through p and q: 3.1 + 4.2 + 4.4 km in 1100.7 s, a detour of 100.7 s and 1.7 km */
    two_stops_init(&t, (cv_cost){10000, 100000}, (cv_cost){3001, 31000}, (cv_cost){4003, 42000},
                   (cv_cost){4003, 44000});
    int64_t dds = 3001 + 4003 + 4003 - 10000, ddm = 31000 + 42000 + 44000 - 100000;
    cv_insertion ins;
    assert_int_equal(cv_plan_insert(&t.plan, &t.c, &ins), 1);
    assert_int_equal(ins.added_ds, dds);
    assert_int_equal(ins.added_dm, ddm);
    /* distance: the limit itself is accepted, one decimetre less refused */
    t.plan.max_detour_dm = ddm;
    assert_int_equal(cv_plan_insert(&t.plan, &t.c, &ins), 1);
    t.plan.max_detour_dm = ddm - 1;
    assert_int_equal(cv_plan_insert(&t.plan, &t.c, &ins), 0);
    /* duration, the same */
    t.plan.max_detour_dm = ddm;
    t.plan.max_detour_ds = dds;
    assert_int_equal(cv_plan_insert(&t.plan, &t.c, &ins), 1);
    t.plan.max_detour_ds = dds - 1;
    assert_int_equal(cv_plan_insert(&t.plan, &t.c, &ins), 0);
    /* the limit bounds the whole route against the driver's own: with a passenger aboard who already costs
       40.0 s and 500 m (the current route is longer than base), what is left for the newcomer is the rest */
    t.plan.max_detour_ds = dds + 400;
    t.plan.max_detour_dm = ddm + 5000;
    t.plan.base_ds -= 400;
    t.plan.base_dm -= 5000;
    assert_int_equal(cv_plan_insert(&t.plan, &t.c, &ins), 1);
    assert_int_equal(ins.total_detour_ds, dds + 400);
    assert_int_equal(ins.total_detour_dm, ddm + 5000);
    t.plan.base_dm -= 1;
    assert_int_equal(cv_plan_insert(&t.plan, &t.c, &ins), 0);
    t.plan.base_dm += 1;
    t.plan.base_ds -= 1;
    assert_int_equal(cv_plan_insert(&t.plan, &t.c, &ins), 0);
}

/* The time window: the driver reaches p arr_p deciseconds after leaving, may leave up to its margin early or late,
   and the passenger accepts a pickup up to its margin before or after the wish. The last wish (whole seconds)
   that can be met is floor(arr_p / 10) + both margins after the departure, the first ceil(arr_p / 10) - both
   margins; one second beyond either, nothing. */
static void test_plan_time_window_at_the_edge(void **state)
{
    (void)state;
    static const uint32_t arrivals[] = {6000, 6005, 6009, 1};
    for (size_t a = 0; a < sizeof arrivals / sizeof *arrivals; a++) {
        uint32_t arr = arrivals[a];
        two_stops t;
        two_stops_init(&t, (cv_cost){20000, 200000}, (cv_cost){arr, arr * 10}, (cv_cost){5000, 50000},
                       (cv_cost){20000 - arr, 200000 - arr * 10});
        t.plan.margin_s = 15 * MIN;
        t.c.margin_s = 10 * MIN;
        /* windows take every arrival that rounds into them: the edges are the arrival rounded to the second (half
           up) plus or minus both margins */
        int64_t rounded = (arr + 5) / 10;
        int64_t slack = 25 * MIN, latest = rounded + slack, earliest = rounded - slack;
        cv_insertion ins;
        t.c.wish = latest;
        if (cv_plan_insert(&t.plan, &t.c, &ins) != 1)
            fail_msg("arrival %u ds: the latest wish %lld s refused", arr, (long long)latest);
        /* the driver leaves as late as it may, and the pickup is the passenger's margin before the wish (to the
           rounding of the arrival to whole seconds) */
        assert_int_equal(ins.shift_s, 15 * MIN);
        assert_true(ins.mismatch_s >= 10 * MIN - 1 && ins.mismatch_s <= 10 * MIN + 1);
        t.c.wish = latest + 1;
        assert_int_equal(cv_plan_insert(&t.plan, &t.c, &ins), 0);
        t.c.wish = earliest;
        if (cv_plan_insert(&t.plan, &t.c, &ins) != 1)
            fail_msg("arrival %u ds: the earliest wish %lld s refused", arr, (long long)earliest);
        assert_int_equal(ins.shift_s, -15 * MIN);
        t.c.wish = earliest - 1;
        assert_int_equal(cv_plan_insert(&t.plan, &t.c, &ins), 0);
        /* no margin on either side: the arrival rounded to the second, whatever its tenths (regression: a wish of
           exactly the pickup time the matcher tells was refused unless the arrival fell on a whole second), and
           not a second before or after it */
        t.plan.margin_s = 0;
        t.c.margin_s = 0;
        t.c.wish = rounded;
        if (cv_plan_insert(&t.plan, &t.c, &ins) != 1)
            fail_msg("arrival %u ds, no margins: the wish %lld s refused", arr, (long long)rounded);
        assert_int_equal(ins.mismatch_s, 0);
        t.c.wish = rounded + 1;
        assert_int_equal(cv_plan_insert(&t.plan, &t.c, &ins), 0);
        t.c.wish = rounded - 1;
        assert_int_equal(cv_plan_insert(&t.plan, &t.c, &ins), 0);
    }
}

/* ---------------------------------------------------------------- the matcher on Monaco */

/* As the matcher places pickups and drop-offs (docs/API.md: within 300 m of a road, never on a motorway). */
static cv_snap msnap(cv_coord c)
{
    cv_snap_options o = cv_snap_defaults();
    o.exclude_classes = (1u << CV_RC_MOTORWAY) | (1u << CV_RC_MOTORWAY_LINK);
    cv_snap s;
    cv_error err;
    if (cv_snap_point(graph, c, &o, &s, &err))
        fail_msg("snap %.6f,%.6f: %s", cv_deg(c.lon), cv_deg(c.lat), err.text);
    return s;
}

/* The route from a to b by Dijkstra, which must agree with the hierarchy's (the matcher's) to the decisecond and
   decimetre: the edges below are exact, so both must give the same figures. */
static cv_cost route(cv_coord a, cv_coord b)
{
    cv_snap s = msnap(a), t = msnap(b);
    cv_path p = {0};
    cv_error err;
    if (cv_dijkstra_route(dij, &s, &t, &p, &err))
        fail_msg("no route: %s", err.text);
    cv_table_cell cell;
    assert_int_equal(cv_ch_cost(chq, &s, &t, &cell), 0);
    if (cell.duration_ds != p.duration_ds || cell.distance_dm != p.distance_dm)
        fail_msg("Dijkstra %u ds %u dm, hierarchy %u ds %u dm", p.duration_ds, p.distance_dm, cell.duration_ds,
                 cell.distance_dm);
    cv_cost c = {p.duration_ds, p.distance_dm};
    cv_path_free(&p);
    return c;
}

static cv_coord ll(double lon, double lat)
{
    return (cv_coord){cv_fixed(lon), cv_fixed(lat)};
}

/* The offer's ends and the passenger's, in Monaco: Fontvieille to the east end; the passenger from the casino
   (off the driver's way) to near the end. */
#define O_FROM ll(7.4165, 43.7310)
#define O_TO ll(7.4360, 43.7470)
#define P_OFF ll(7.4275, 43.7396)
#define Q_OFF ll(7.4330, 43.7440)

static int64_t local(int y, int mo, int d, int h, int mi)
{
    return cv_local_to_utc(cv_day_from_ymd(y, mo, d), h * H + mi * MIN);
}

static cv_matcher_ws *open_index(const char *name, int64_t now, cv_matcher **m)
{
    char db[1024];
    snprintf(db, sizeof db, "%s/%s", COVOIT_TMP, name);
    tst_remove_db(db);
    cv_matcher_options mo = cv_matcher_defaults();
    mo.max_results = 1000;
    cv_error err;
    if (cv_matcher_open(graph, db, &mo, now, m, &err))
        fail_msg("%s", err.text);
    cv_matcher_ws *w = cv_matcher_ws_new(*m, &err);
    if (!w)
        fail_msg("%s", err.text);
    return w;
}

static void close_index(cv_matcher_ws *w, cv_matcher *m, const char *name)
{
    char db[1024];
    cv_matcher_ws_free(w);
    cv_matcher_close(m);
    snprintf(db, sizeof db, "%s/%s", COVOIT_TMP, name);
    tst_remove_db(db);
}

static cv_offer offer(cv_coord from, cv_coord to, int64_t depart, int32_t margin_s)
{
    cv_offer o;
    memset(&o, 0, sizeof o);
    snprintf(o.owner, sizeof o.owner, "driver");
    o.from = from;
    o.to = to;
    o.when = (cv_schedule){CV_PUNCTUAL, depart, 0, 0, 0, 0, margin_s};
    o.seats = 3;
    o.max_detour_s = -1;
    o.max_detour_m = -1;
    return o;
}

static cv_schedule regular(uint8_t weekdays, int32_t tod, cv_day first, cv_day last, int32_t margin_s)
{
    return (cv_schedule){CV_REGULAR, 0, weekdays, tod, first, last, margin_s};
}

static cv_request request(cv_coord from, cv_coord to, int64_t depart, int32_t margin_s)
{
    cv_request r;
    memset(&r, 0, sizeof r);
    snprintf(r.owner, sizeof r.owner, "passenger");
    r.from = from;
    r.to = to;
    r.when = (cv_schedule){CV_PUNCTUAL, depart, 0, 0, 0, 0, margin_s};
    r.seats = 1;
    return r;
}

static void add_offer(cv_matcher_ws *w, cv_offer *o, int64_t now)
{
    cv_error err;
    if (cv_matcher_add_offer(w, o, now, &err))
        fail_msg("offer refused: %s", err.text);
}

static void add_request(cv_matcher_ws *w, cv_request *r, int64_t now)
{
    cv_error err;
    if (cv_matcher_add_request(w, r, now, &err))
        fail_msg("request refused: %s", err.text);
}

/* The offers that stored request r matches at now, as a bit set over oids[0..n). Every way of asking must agree:
   the request's matches, each offer's matches, the ad-hoc search and the pair. The match of offer oids[k], if any,
   goes to got[k]. */
static unsigned matched(cv_matcher_ws *w, const cv_request *r, const int64_t *oids, int n, int64_t now, cv_match *got)
{
    cv_error err;
    cv_match *ms;
    size_t nm;
    unsigned set = 0;
    assert_int_equal(cv_matcher_request_matches(w, r->id, now, 0, &ms, &nm, &err), 0);
    for (size_t i = 0; i < nm; i++)
        for (int k = 0; k < n; k++)
            if (ms[i].offer_id == oids[k]) {
                set |= 1u << k;
                if (got)
                    got[k] = ms[i];
            }
    free(ms);
    for (int k = 0; k < n; k++) {
        cv_match pm;
        int rc = cv_matcher_pair(w, oids[k], r->id, now, &pm, &err);
        assert_true(rc == 0 || rc == 1);
        if (rc != !!(set & (1u << k)))
            fail_msg("offer %lld, request %lld: request matches say %d, the pair says %d", (long long)oids[k],
                     (long long)r->id, !!(set & (1u << k)), rc);
        assert_int_equal(cv_matcher_offer_matches(w, oids[k], now, 0, &ms, &nm, &err), 0);
        int found = 0;
        for (size_t i = 0; i < nm; i++)
            found |= ms[i].request_id == r->id;
        free(ms);
        if (found != !!(set & (1u << k)))
            fail_msg("offer %lld, request %lld: request matches say %d, offer matches say %d", (long long)oids[k],
                     (long long)r->id, !!(set & (1u << k)), found);
    }
    /* the same trip, asked ad hoc (only while it is not in the past itself) */
    cv_request adhoc = *r;
    adhoc.id = 0;
    if (cv_request_check(&adhoc, now, NULL) == 0) {
        assert_int_equal(cv_matcher_search(w, &adhoc, now, 0, &ms, &nm, &err), 0);
        unsigned s2 = 0;
        for (size_t i = 0; i < nm; i++)
            for (int k = 0; k < n; k++)
                s2 |= (ms[i].offer_id == oids[k]) << k;
        free(ms);
        if (s2 != set)
            fail_msg("request %lld: matches %#x, the ad-hoc search %#x", (long long)r->id, set, s2);
    }
    return set;
}

/* Absolute limits (max_detour_s, max_detour_m) through the whole matcher: the passenger's detour, computed here
   from four routes, fits an offer whose limits are that detour rounded up to the unit given (a second, a metre),
   and not one whose limit is one unit less, in either figure. */
static void test_absolute_detour_limits(void **state)
{
    (void)state;
    assert_int_equal(cv_tz_set("Europe/Paris", NULL), 0);
    int64_t now = local(2030, 6, 1, 0, 0), dep = local(2030, 6, 3, 8, 0);
    cv_matcher *m;
    cv_matcher_ws *w = open_index("match_edges_limits.db", now, &m);
    cv_cost od = route(O_FROM, O_TO), op = route(O_FROM, P_OFF), pq = route(P_OFF, Q_OFF), qd = route(Q_OFF, O_TO);
    int64_t dds = (int64_t)op.ds + pq.ds + qd.ds - od.ds, ddm = (int64_t)op.dm + pq.dm + qd.dm - od.dm;
    print_message("detour of the passenger: %lld ds, %lld dm (direct %u ds, %u dm)\n", (long long)dds, (long long)ddm,
                  od.ds, od.dm);
    assert_true(dds > 20 && ddm > 20);
    int32_t lim_s = (int32_t)((dds + 9) / 10), lim_m = (int32_t)((ddm + 9) / 10);
    /* inside; one second short; one metre short; both at zero */
    static const int32_t ds_off[] = {0, -1, 0}, dm_off[] = {0, 0, -1};
    int64_t oids[4];
    for (int k = 0; k < 3; k++) {
        cv_offer o = offer(O_FROM, O_TO, dep, 15 * MIN);
        o.max_detour_s = lim_s + ds_off[k];
        o.max_detour_m = lim_m + dm_off[k];
        add_offer(w, &o, now);
        oids[k] = o.id;
    }
    cv_offer z = offer(O_FROM, O_TO, dep, 15 * MIN);
    z.max_detour_s = z.max_detour_m = 0;
    add_offer(w, &z, now);
    oids[3] = z.id;
    /* the passenger wants to be picked up when the driver, leaving on time, reaches the casino */
    cv_request r = request(P_OFF, Q_OFF, dep + op.ds / 10, 5 * MIN);
    add_request(w, &r, now);
    cv_match got[4];
    assert_int_equal(matched(w, &r, oids, 4, now, got), 1u);
    assert_int_equal(got[0].detour_ds, dds);
    assert_int_equal(got[0].detour_dm, ddm);
    close_index(w, m, "match_edges_limits.db");
}

/* The hierarchy's cost from a to b (CV_UNREACHABLE when none), for searching many pairs quickly; what is found is
   checked again with route(). */
static cv_cost quick(const cv_snap *a, const cv_snap *b)
{
    cv_table_cell cell;
    if (cv_ch_cost(chq, a, b, &cell))
        return (cv_cost){CV_UNREACHABLE, CV_UNREACHABLE};
    return (cv_cost){cell.duration_ds, cell.distance_dm};
}

/* n points near the driver's way from O_FROM to O_TO (up to ~300 m off it, drawn with a fixed seed), snapped as
   the matcher snaps them, with the driver's costs from its origin to each and from each to its destination: detours
   of every size, small ones common. */
static void near_the_way(int n, cv_coord *at, cv_snap *pts, cv_cost *op, cv_cost *qd)
{
    cv_snap o = msnap(O_FROM), d = msnap(O_TO);
    uint64_t seed = 0x2545f4914f6cdd1dull;
    cv_snap_options so = cv_snap_defaults();
    so.exclude_classes = (1u << CV_RC_MOTORWAY) | (1u << CV_RC_MOTORWAY_LINK);
    cv_path way = {0};
    cv_coord *geo;
    size_t ngeo;
    assert_int_equal(cv_ch_route(chq, &o, &d, &way, NULL), 0);
    assert_int_equal(cv_path_geometry(graph, &way, &geo, &ngeo), 0);
    cv_path_free(&way);
    for (int i = 0; i < n;) {
        at[i] = geo[tst_rand(&seed) % ngeo];
        at[i].lon += (int32_t)(tst_rand(&seed) % 80001) - 40000;
        at[i].lat += (int32_t)(tst_rand(&seed) % 60001) - 30000;
        if (cv_snap_point(graph, at[i], &so, &pts[i], NULL))
            continue;
        op[i] = quick(&o, &pts[i]);
        qd[i] = quick(&pts[i], &d);
        if (op[i].ds != CV_UNREACHABLE && qd[i].ds != CV_UNREACHABLE)
            i++;
    }
    free(geo);
}

/* The default limit, a quarter of the driver's own route in time and in distance, at its edge. Among passengers
   between many points of Monaco, the ones whose detour (four routes, computed here) comes closest to a quarter of
   the driver's route from inside, and from outside, in each unit: those inside ride, those outside do not. */
static void test_default_detour_limit_at_the_edge(void **state)
{
    (void)state;
    assert_int_equal(cv_tz_set("Europe/Paris", NULL), 0);
    int64_t now = local(2030, 6, 1, 0, 0), dep = local(2030, 6, 3, 8, 0);
    cv_cost od = route(O_FROM, O_TO);
    int64_t lds = (int64_t)od.ds * CV_DEFAULT_DETOUR_PERCENT / 100,
            ldm = (int64_t)od.dm * CV_DEFAULT_DETOUR_PERCENT / 100;
    enum { N = 220 };
    cv_snap pts[N];
    cv_coord at[N];
    cv_cost op[N], qd[N];
    near_the_way(N, at, pts, op, qd);
    /* [0]: time, inside; [1]: time, outside (distance inside); [2], [3]: the same for the distance */
    int64_t gap[4] = {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX};
    int pi[4] = {-1, -1, -1, -1}, qi[4] = {-1, -1, -1, -1};
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            cv_cost pq = i == j ? (cv_cost){CV_UNREACHABLE, 0} : quick(&pts[i], &pts[j]);
            if (pq.ds == CV_UNREACHABLE)
                continue;
            int64_t dds = (int64_t)op[i].ds + pq.ds + qd[j].ds - od.ds,
                    ddm = (int64_t)op[i].dm + pq.dm + qd[j].dm - od.dm;
            int64_t g[4] = {ddm <= ldm ? lds - dds : -1, ddm <= ldm ? dds - lds - 1 : -1, dds <= lds ? ldm - ddm : -1,
                            dds <= lds ? ddm - ldm - 1 : -1};
            for (int k = 0; k < 4; k++)
                if (g[k] >= 0 && g[k] < gap[k]) {
                    gap[k] = g[k];
                    pi[k] = i;
                    qi[k] = j;
                }
        }
    print_message("limit %lld ds %lld dm; closest detours: %lld ds and %lld ds inside and outside, %lld dm and %lld "
                  "dm\n",
                  (long long)lds, (long long)ldm, (long long)gap[0], (long long)gap[1], (long long)gap[2],
                  (long long)gap[3]);
    /* close enough that a limit a hundredth larger or smaller in time (a fiftieth in distance: a quarter of the
       distance in less than a quarter of the time is rarer) would change the answer */
    assert_true(gap[0] < lds / 100 && gap[1] < lds / 100 && gap[2] < ldm / 50 && gap[3] < ldm / 50);
    cv_matcher *m;
    cv_matcher_ws *w = open_index("match_edges_default.db", now, &m);
    cv_offer of = offer(O_FROM, O_TO, dep, 30 * MIN);
    add_offer(w, &of, now);
    for (int k = 0; k < 4; k++) {
        cv_coord p = at[pi[k]], q = at[qi[k]];
        /* the figures again, by Dijkstra */
        cv_cost a = route(O_FROM, p), b = route(p, q), c = route(q, O_TO);
        int64_t dds = (int64_t)a.ds + b.ds + c.ds - od.ds, ddm = (int64_t)a.dm + b.dm + c.dm - od.dm;
        unsigned want = dds <= lds && ddm <= ldm;
        assert_int_equal(want, k % 2 == 0);
        cv_request r = request(p, q, dep + a.ds / 10, 30 * MIN);
        add_request(w, &r, now);
        cv_match got;
        unsigned set = matched(w, &r, &of.id, 1, now, &got);
        if (set != want)
            fail_msg("detour %lld ds %lld dm against the default limit %lld ds %lld dm: %s", (long long)dds,
                     (long long)ddm, (long long)lds, (long long)ldm, set ? "matched" : "not matched");
        if (set)
            assert_true(got.detour_ds == dds && got.detour_dm == ddm);
    }
    close_index(w, m, "match_edges_default.db");
}

/* Absolute limits equal to the detour to the unit: for a passenger whose detour is a whole number of seconds (and
   one whose detour is a whole number of metres), an offer limited at exactly that takes it, one limited a unit
   below does not. */
static void test_absolute_limits_equal_to_the_detour(void **state)
{
    (void)state;
    assert_int_equal(cv_tz_set("Europe/Paris", NULL), 0);
    int64_t now = local(2030, 6, 1, 0, 0), dep = local(2030, 6, 3, 8, 0);
    cv_cost od = route(O_FROM, O_TO);
    enum { N = 60 };
    cv_snap pts[N];
    cv_coord at[N];
    cv_cost op[N], qd[N];
    near_the_way(N, at, pts, op, qd);
    cv_matcher *m;
    cv_matcher_ws *w = open_index("match_edges_equal.db", now, &m);
    for (int unit = 0; unit < 2; unit++) {
        int fi = -1, fj = -1;
        for (int i = 0; i < N && fi < 0; i++)
            for (int j = 0; j < N && fi < 0; j++) {
                cv_cost pq = i == j ? (cv_cost){CV_UNREACHABLE, 0} : quick(&pts[i], &pts[j]);
                if (pq.ds == CV_UNREACHABLE)
                    continue;
                int64_t dd = unit == 0 ? (int64_t)op[i].ds + pq.ds + qd[j].ds - od.ds
                                       : (int64_t)op[i].dm + pq.dm + qd[j].dm - od.dm;
                if (dd >= 50 && dd % 10 == 0)
                    fi = i, fj = j;
            }
        assert_true(fi >= 0);
        cv_cost a = route(O_FROM, at[fi]), b = route(at[fi], at[fj]), c = route(at[fj], O_TO);
        int64_t dds = (int64_t)a.ds + b.ds + c.ds - od.ds, ddm = (int64_t)a.dm + b.dm + c.dm - od.dm;
        assert_int_equal((unit == 0 ? dds : ddm) % 10, 0);
        int64_t oids[2];
        for (int k = 0; k < 2; k++) {
            cv_offer o = offer(O_FROM, O_TO, dep, 30 * MIN);
            /* the unit tested at the detour and a unit below, the other with room to spare */
            o.max_detour_s = (int32_t)(unit == 0 ? dds / 10 - k : (dds + 9) / 10 + 60);
            o.max_detour_m = (int32_t)(unit == 1 ? ddm / 10 - k : (ddm + 9) / 10 + 100);
            add_offer(w, &o, now);
            oids[k] = o.id;
        }
        cv_request r = request(at[fi], at[fj], dep + a.ds / 10, 30 * MIN);
        add_request(w, &r, now);
        cv_match got[2];
        unsigned set = matched(w, &r, oids, 2, now, got);
        if (set != 1u)
            fail_msg("detour %lld ds %lld dm, limits equal to it in %s and a unit below: matched %#x, want 0x1",
                     (long long)dds, (long long)ddm, unit == 0 ? "seconds" : "metres", set);
        assert_true(got[0].detour_ds == dds && got[0].detour_dm == ddm);
    }
    close_index(w, m, "match_edges_equal.db");
}

/* A point a fraction f along the driver's route from a to b (on the road itself). */
static cv_coord on_route(cv_coord a, cv_coord b, double f)
{
    cv_snap s = msnap(a), t = msnap(b);
    cv_path p = {0};
    assert_int_equal(cv_ch_route(chq, &s, &t, &p, NULL), 0);
    cv_coord *pts;
    size_t n;
    assert_int_equal(cv_path_geometry(graph, &p, &pts, &n), 0);
    cv_coord c = pts[(size_t)(f * (double)(n - 1))];
    free(pts);
    cv_path_free(&p);
    return c;
}

/* The time window through the whole matcher: the driver leaves at dep within +-10 min, reaches p arr deciseconds
   later (a route computed here); a passenger with +-5 min is served when its wish is within 15 min of arr rounded
   to the second (half up) after dep, both ends included, and not one second outside. For a pickup where the
   driver starts (arr 0), one a whole number of seconds away and one not. */
static void test_time_window_at_the_edge(void **state)
{
    (void)state;
    assert_int_equal(cv_tz_set("Europe/Paris", NULL), 0);
    int64_t now = local(2030, 6, 1, 0, 0), dep = local(2030, 6, 3, 8, 0);
    cv_matcher *m;
    cv_matcher_ws *w = open_index("match_edges_window.db", now, &m);
    cv_offer o = offer(O_FROM, O_TO, dep, 10 * MIN);
    o.max_detour_s = 3600; /* the window is what is tested, not the detour */
    o.max_detour_m = 100000;
    add_offer(w, &o, now);
    cv_coord q = on_route(O_FROM, O_TO, 0.8);
    cv_coord pickups[3] = {O_FROM, O_FROM, on_route(O_FROM, O_TO, 0.4)};
    /* a point on the way whose time from the start is a whole number of seconds */
    int whole = 0;
    for (int k = 1; k < 60 && !whole; k++) {
        pickups[1] = on_route(O_FROM, O_TO, k / 100.0);
        whole = route(O_FROM, pickups[1]).ds % 10 == 0 && route(O_FROM, pickups[1]).ds > 0;
    }
    assert_true(whole);
    for (int pk = 0; pk < 3; pk++) {
        cv_coord p = pickups[pk];
        uint32_t arr = route(O_FROM, p).ds;
        /* arrivals that round into the window count: the edges are the arrival rounded to the second */
        int64_t slack = 15 * MIN, latest = dep + (arr + 5) / 10 + slack, earliest = dep + (arr + 5) / 10 - slack;
        print_message("pickup %u ds after the departure: wishes from %+lld s to %+lld s\n", arr,
                      (long long)(earliest - dep), (long long)(latest - dep));
        static const int64_t off[] = {0, 1, 0, -1};
        for (int k = 0; k < 4; k++) {
            int64_t wish = (k < 2 ? latest : earliest) + off[k];
            cv_request r = request(p, q, wish, 5 * MIN);
            add_request(w, &r, now);
            cv_match got;
            unsigned set = matched(w, &r, &o.id, 1, now, &got);
            if (set != (off[k] == 0))
                fail_msg("pickup %u ds away, wish %+lld s after the departure: %s", arr, (long long)(wish - dep),
                         set ? "matched, one second outside the window" : "not matched, inside the window");
            if (set) {
                /* the pickup is within the passenger's margin of the wish, and the driver within its own */
                assert_true(got.mismatch_s <= 5 * MIN);
                assert_true(llabs(got.pickup_time - wish) <= 5 * MIN);
                assert_true(llabs(got.pickup_time - (dep + (arr + 5) / 10)) <= 10 * MIN);
            }
        }
    }
    close_index(w, m, "match_edges_window.db");
}

/* An offer is matched until its departure plus its margin, included, and from the next second on no more: not in
   any request's matches, not by the pair, not by a search, it lists no request, cannot be booked, and a matcher
   opened then does not index it. Regular offers likewise lose each date once its departure is past. */
static void test_past_offers(void **state)
{
    (void)state;
    assert_int_equal(cv_tz_set("Europe/Paris", NULL), 0);
    int64_t created = local(2030, 6, 1, 0, 0), dep = local(2030, 6, 3, 8, 0);
    cv_matcher *m;
    cv_error err;
    cv_matcher_ws *w = open_index("match_edges_past.db", created, &m);
    cv_offer o = offer(O_FROM, O_TO, dep, 10 * MIN);
    add_offer(w, &o, created);
    /* a later offer on the same road, for comparison */
    cv_offer later = offer(O_FROM, O_TO, dep + 40 * MIN, 10 * MIN);
    add_offer(w, &later, created);
    cv_coord p = on_route(O_FROM, O_TO, 0.3), q = on_route(O_FROM, O_TO, 0.9);
    uint32_t arr = route(O_FROM, p).ds;
    /* a passenger with a wide margin (3 h), so that only the offers' own times decide */
    cv_request r = request(p, q, dep + 20 * MIN + arr / 10, 3 * H);
    add_request(w, &r, created);
    int64_t oids[2] = {o.id, later.id};
    int64_t edge = dep + 10 * MIN;
    assert_int_equal(matched(w, &r, oids, 2, edge, NULL), 3u);
    assert_int_equal(matched(w, &r, oids, 2, edge + 1, NULL), 2u);
    cv_booking b;
    assert_int_equal(cv_matcher_book(w, o.id, r.id, edge + 1, &b, &err), CV_ECONFLICT);
    /* a new matcher over the same store, opened at each instant */
    char db[1024];
    snprintf(db, sizeof db, "%s/match_edges_past.db", COVOIT_TMP);
    for (int k = 0; k < 2; k++) {
        cv_matcher *m2;
        cv_matcher_options mo = cv_matcher_defaults();
        assert_int_equal(cv_matcher_open(graph, db, &mo, edge + k, &m2, &err), 0);
        cv_matcher_stats st;
        cv_matcher_get_stats(m2, &st);
        assert_int_equal(st.offers, 2 - k);
        cv_matcher_close(m2);
    }

    /* a regular offer, daily at 08:00 +-10 min until 5 June: at 08:10 on its last day it still takes the
       passenger riding that day, one second later it has no date left */
    cv_offer reg = offer(O_FROM, O_TO, 0, 10 * MIN);
    cv_day d3 = cv_day_from_ymd(2030, 6, 3), d5 = cv_day_from_ymd(2030, 6, 5);
    reg.when = regular(0x7f, 8 * H, d3, d5, 10 * MIN);
    add_offer(w, &reg, created);
    cv_request rr = request(p, q, 0, 5 * MIN);
    rr.when = regular(0x7f, 8 * H + (int32_t)(arr / 10), d3, d5 + 7, 5 * MIN);
    add_request(w, &rr, created);
    int64_t last_edge = local(2030, 6, 5, 8, 10);
    cv_match got;
    assert_int_equal(matched(w, &rr, &reg.id, 1, last_edge, &got), 1u);
    assert_int_equal(got.first_day, d5);
    assert_int_equal(got.last_day, d5);
    assert_int_equal(matched(w, &rr, &reg.id, 1, last_edge + 1, NULL), 0u);
    /* the same for a punctual passenger on that last day */
    cv_request rp = request(p, q, local(2030, 6, 5, 8, 0) + arr / 10, 5 * MIN);
    add_request(w, &rp, created);
    assert_int_equal(matched(w, &rp, &reg.id, 1, last_edge, NULL), 1u);
    assert_int_equal(matched(w, &rp, &reg.id, 1, last_edge + 1, NULL), 0u);
    close_index(w, m, "match_edges_past.db");
}

/* The first and last dates of a regular schedule are included: a passenger riding on the first or the last day is
   served, one on the day before or after is not; regular passengers whose dates touch the offer's on one day only
   share that day. */
static void test_first_and_last_days(void **state)
{
    (void)state;
    assert_int_equal(cv_tz_set("Europe/Paris", NULL), 0);
    int64_t now = local(2030, 6, 1, 0, 0);
    cv_day first = cv_day_from_ymd(2030, 6, 4), last = cv_day_from_ymd(2030, 6, 14);
    cv_matcher *m;
    cv_matcher_ws *w = open_index("match_edges_days.db", now, &m);
    cv_offer o = offer(O_FROM, O_TO, 0, 10 * MIN);
    o.when = regular(0x7f, 8 * H, first, last, 10 * MIN); /* every day, so that only the dates decide */
    add_offer(w, &o, now);
    cv_coord p = on_route(O_FROM, O_TO, 0.3), q = on_route(O_FROM, O_TO, 0.9);
    int32_t at_p = (int32_t)(route(O_FROM, p).ds / 10);
    struct {
        cv_day day;
        unsigned want;
    } punctual[] = {{first - 1, 0}, {first, 1}, {first + 1, 1}, {last - 1, 1}, {last, 1}, {last + 1, 0}};
    for (size_t i = 0; i < sizeof punctual / sizeof *punctual; i++) {
        cv_request r = request(p, q, cv_local_to_utc(punctual[i].day, 8 * H + at_p), 5 * MIN);
        add_request(w, &r, now);
        cv_match got;
        unsigned set = matched(w, &r, &o.id, 1, now, &got);
        char d[16];
        cv_format_date(punctual[i].day, d);
        if (set != punctual[i].want)
            fail_msg("a passenger on %s: %s", d, set ? "served outside the offer's dates" : "not served");
        if (set) {
            assert_int_equal(got.first_day, punctual[i].day);
            assert_int_equal(got.last_day, punctual[i].day);
        }
    }
    /* regular passengers: the days in common, first and last included */
    struct {
        cv_day a, b, want_first, want_last; /* want_first > want_last: no match */
    } reg[] = {
        /* clang-format off */
        {first - 5, first, first, first},   {first - 5, first - 1, 1, 0},
        {last, last + 5, last, last},       {last + 1, last + 5, 1, 0},
        {first - 3, last + 3, first, last}, {first + 2, last - 2, first + 2, last - 2},
        /* clang-format on */
    };
    for (size_t i = 0; i < sizeof reg / sizeof *reg; i++) {
        cv_request r = request(p, q, 0, 5 * MIN);
        r.when = regular(0x7f, 8 * H + at_p, reg[i].a, reg[i].b, 5 * MIN);
        add_request(w, &r, now);
        cv_match got;
        unsigned set = matched(w, &r, &o.id, 1, now, &got);
        unsigned want = reg[i].want_first <= reg[i].want_last;
        if (set != want)
            fail_msg("regular passenger %d: %s", (int)i, set ? "served outside the offer's dates" : "not served");
        if (set) {
            assert_true(got.regular);
            assert_int_equal(got.first_day, reg[i].want_first);
            assert_int_equal(got.last_day, reg[i].want_last);
        }
    }
    /* a punctual offer on the first day and regular passengers starting that day or the day after */
    cv_offer single = offer(O_FROM, O_TO, cv_local_to_utc(first, 8 * H), 10 * MIN);
    add_offer(w, &single, now);
    for (int k = 0; k < 3; k++) {
        cv_request r = request(p, q, 0, 5 * MIN);
        cv_day a = k == 0 ? first : k == 1 ? first + 1 : first - 7, b = k == 2 ? first : last;
        r.when = regular(0x7f, 8 * H + at_p, a, b, 5 * MIN);
        add_request(w, &r, now);
        cv_match got;
        unsigned set = matched(w, &r, &single.id, 1, now, &got);
        assert_int_equal(set, k != 1);
        if (set)
            assert_int_equal(got.first_day, first);
    }
    close_index(w, m, "match_edges_days.db");
}

/* ---------------------------------------------------------------- daylight saving (Europe/Paris) */

/* The last Sunday of a month. */
static cv_day last_sunday(int y, int mo)
{
    cv_day d = cv_day_from_ymd(y, mo + 1, 1) - 1;
    while (cv_day_weekday(d) != 6)
        d--;
    return d;
}

/* 02:30 on the last Sunday of March does not exist in Paris (02:00 -> 03:00): a regular offer at 02:30 leaves
   that day at 03:30 summer time (timeutil.h: a skipped time moves later by the gap's length), the instant a
   passenger's "02:30" also names; 01:30 winter time, where an offer moved earlier would be, is not served. */
static void test_dst_spring_gap(void **state)
{
    (void)state;
    assert_int_equal(cv_tz_set("Europe/Paris", NULL), 0);
    cv_day sun = last_sunday(2030, 3);
    int y, mo, d;
    cv_day_to_ymd(sun, &y, &mo, &d);
    assert_true(y == 2030 && mo == 3 && d == 31);
    int64_t now = cv_local_to_utc(sun - 3, 0);
    cv_matcher *m;
    cv_matcher_ws *w = open_index("match_edges_spring.db", now, &m);
    cv_offer o = offer(O_FROM, O_TO, 0, 10 * MIN);
    o.when = regular(0x7f, 2 * H + 30 * MIN, sun - 2, sun + 2, 10 * MIN);
    add_offer(w, &o, now);
    cv_coord p = on_route(O_FROM, O_TO, 0.3), q = on_route(O_FROM, O_TO, 0.9);
    int64_t at_p = route(O_FROM, p).ds / 10;
    /* the departure that day: 03:30 CEST, 01:30 UTC */
    int64_t dep = cv_local_to_utc(sun, 2 * H + 30 * MIN);
    assert_int_equal(dep, (int64_t)sun * 86400 + 1 * H + 30 * MIN);
    char buf[32];
    cv_format_datetime(dep, buf);
    assert_string_equal(buf, "2030-03-31T03:30:00+02:00");
    int64_t t;
    assert_int_equal(cv_parse_datetime("2030-03-31T02:30", &t, NULL), 0);
    assert_int_equal(t, dep);
    struct {
        int64_t wish;
        unsigned want;
    } cases[] = {
        {dep + at_p, 1},            /* 02:30 as the passenger says it, plus the way to p */
        {dep - H + at_p, 0},        /* 01:30 CET: where 02:30 moved earlier would be */
        {dep + H + at_p, 0},        /* 04:30 CEST: an hour late */
        {dep + 15 * MIN + at_p, 1}, /* within the margins */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cv_request r = request(p, q, cases[i].wish, 5 * MIN);
        add_request(w, &r, now);
        cv_match got;
        unsigned set = matched(w, &r, &o.id, 1, now, &got);
        if (set != cases[i].want)
            fail_msg("spring gap, case %d: %s", (int)i, set ? "served" : "not served");
        if (set) {
            assert_int_equal(got.first_day, sun);
            assert_true(got.pickup_time >= dep && got.pickup_time <= dep + at_p + 15 * MIN);
        }
    }
    /* on the days around, 02:30 is 02:30: 01:30 UTC the day before, 00:30 UTC the day after */
    assert_int_equal(cv_local_to_utc(sun - 1, 2 * H + 30 * MIN), (int64_t)(sun - 1) * 86400 + 1 * H + 30 * MIN);
    assert_int_equal(cv_local_to_utc(sun + 1, 2 * H + 30 * MIN), (int64_t)(sun + 1) * 86400 + 30 * MIN);
    cv_request after = request(p, q, cv_local_to_utc(sun + 1, 2 * H + 30 * MIN) + at_p, 5 * MIN);
    add_request(w, &after, now);
    assert_int_equal(matched(w, &after, &o.id, 1, now, NULL), 1u);
    close_index(w, m, "match_edges_spring.db");
}

/* 02:30 on the last Sunday of October happens twice in Paris: a regular offer at 02:30 leaves at the first
   (summer time, timeutil.h), so a passenger asking for the second 02:30 (+01:00), an hour later, is not served. */
static void test_dst_autumn_repeat(void **state)
{
    (void)state;
    assert_int_equal(cv_tz_set("Europe/Paris", NULL), 0);
    cv_day sun = last_sunday(2030, 10);
    int y, mo, d;
    cv_day_to_ymd(sun, &y, &mo, &d);
    assert_true(y == 2030 && mo == 10 && d == 27);
    int64_t now = cv_local_to_utc(sun - 3, 0);
    cv_matcher *m;
    cv_matcher_ws *w = open_index("match_edges_autumn.db", now, &m);
    cv_offer o = offer(O_FROM, O_TO, 0, 10 * MIN);
    o.when = regular(0x7f, 2 * H + 30 * MIN, sun - 2, sun + 2, 10 * MIN);
    add_offer(w, &o, now);
    cv_coord p = on_route(O_FROM, O_TO, 0.3), q = on_route(O_FROM, O_TO, 0.9);
    int64_t at_p = route(O_FROM, p).ds / 10;
    int64_t first = cv_local_to_utc(sun, 2 * H + 30 * MIN), second;
    assert_int_equal(first, (int64_t)sun * 86400 + 30 * MIN); /* 02:30 CEST */
    assert_int_equal(cv_parse_datetime("2030-10-27T02:30+01:00", &second, NULL), 0);
    assert_int_equal(second, first + H);
    int64_t t;
    assert_int_equal(cv_parse_datetime("2030-10-27T02:30", &t, NULL), 0);
    assert_int_equal(t, first);
    cv_request r1 = request(p, q, first + at_p, 5 * MIN), r2 = request(p, q, second + at_p, 5 * MIN);
    add_request(w, &r1, now);
    add_request(w, &r2, now);
    cv_match got;
    assert_int_equal(matched(w, &r1, &o.id, 1, now, &got), 1u);
    assert_true(llabs(got.pickup_time - at_p - first) <= 1); /* the driver on time at the first 02:30 */
    char buf[32];
    cv_format_datetime(first, buf);
    assert_string_equal(buf, "2030-10-27T02:30:00+02:00");
    assert_int_equal(matched(w, &r2, &o.id, 1, now, NULL), 0u);
    /* the day after, 02:30 is 01:30 UTC: 25 hours after the Sunday's */
    assert_int_equal(cv_local_to_utc(sun + 1, 2 * H + 30 * MIN) - first, 25 * H);
    close_index(w, m, "match_edges_autumn.db");
}

/* A regular 08:00 commute matches a regular 08:00 passenger both before and after each change: the first date they
   share is before the change when asked before it, after when asked after, and the pickup is at the same local
   time, an hour apart in UTC. */
static void test_dst_regular_both_sides(void **state)
{
    (void)state;
    assert_int_equal(cv_tz_set("Europe/Paris", NULL), 0);
    static const int months[] = {3, 10};
    for (int i = 0; i < 2; i++) {
        cv_day sun = last_sunday(2030, months[i]);
        cv_day first = sun - 6, last = sun + 12; /* Monday before to the Friday after next */
        assert_int_equal(cv_day_weekday(first), 0);
        int64_t now = cv_local_to_utc(first - 2, 0);
        char name[64];
        snprintf(name, sizeof name, "match_edges_dst%d.db", i);
        cv_matcher *m;
        cv_matcher_ws *w = open_index(name, now, &m);
        uint8_t weekdays = CV_MON | CV_TUE | CV_WED | CV_THU | CV_FRI;
        cv_offer o = offer(O_FROM, O_TO, 0, 10 * MIN);
        o.when = regular(weekdays, 8 * H, first, last, 10 * MIN);
        add_offer(w, &o, now);
        cv_coord p = on_route(O_FROM, O_TO, 0.3), q = on_route(O_FROM, O_TO, 0.9);
        cv_request r = request(p, q, 0, 10 * MIN);
        r.when = regular(weekdays, 8 * H, first, last, 10 * MIN);
        add_request(w, &r, now);
        cv_match before, after;
        assert_int_equal(matched(w, &r, &o.id, 1, now, &before), 1u);
        assert_int_equal(before.first_day, first);
        assert_int_equal(before.last_day, last);
        /* asked on the Monday after the change, at midnight: the dates still to come start that day */
        int64_t later = cv_local_to_utc(sun + 1, 0);
        assert_int_equal(matched(w, &r, &o.id, 1, later, &after), 1u);
        assert_int_equal(after.first_day, sun + 1);
        cv_day d1, d2;
        int32_t tod1, tod2;
        cv_utc_to_local(before.pickup_time, &d1, &tod1, NULL);
        cv_utc_to_local(after.pickup_time, &d2, &tod2, NULL);
        assert_int_equal(d1, first);
        assert_int_equal(d2, sun + 1);
        if (tod1 != tod2)
            fail_msg("change of %d/2030: pickup at %d s after midnight before, %d s after", months[i], tod1, tod2);
        assert_true(tod1 >= 8 * H - 10 * MIN && tod1 <= 8 * H + 10 * MIN);
        /* an hour apart in UTC: spring forward brings 08:00 an hour earlier in UTC, autumn an hour later */
        int64_t utc_shift = (after.pickup_time - (int64_t)d2 * 86400) - (before.pickup_time - (int64_t)d1 * 86400);
        assert_int_equal(utc_shift, months[i] == 3 ? -H : H);
        assert_int_equal(after.detour_ds, before.detour_ds);
        close_index(w, m, name);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_detour_limits_at_the_edge),
        cmocka_unit_test(test_plan_time_window_at_the_edge),
        cmocka_unit_test(test_absolute_detour_limits),
        cmocka_unit_test(test_absolute_limits_equal_to_the_detour),
        cmocka_unit_test(test_default_detour_limit_at_the_edge),
        cmocka_unit_test(test_time_window_at_the_edge),
        cmocka_unit_test(test_past_offers),
        cmocka_unit_test(test_first_and_last_days),
        cmocka_unit_test(test_dst_spring_gap),
        cmocka_unit_test(test_dst_autumn_repeat),
        cmocka_unit_test(test_dst_regular_both_sides),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
