/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_matcher_oracle.c — the matcher against an oracle of its own, which shares none of its feasibility code
   (match.c, evaluate_pair): each pair of an offer and a request is worked out here from point-to-point routes
   between the snapped points (the hierarchy's, each confirmed by Dijkstra) — when they travel together (dates, time
   of day in the server's zone, offers gone by), every order of the driver's stops with the passenger's pickup and
   drop-off put in (pickups before their drop-offs, the driver's stops and passengers already aboard in their order)
   on the plan of each date (passengers aboard ride on their bookings' dates only), seats per leg, the detour limits
   and everyone's time windows — and the set of matches and their detours must be what the matcher answers,
   by request, by offer and by an ad-hoc search: on random trips over the Monaco graph (seeded) and on a hand-made
   map. `test_matcher_oracle --rounds N` runs N seeds (the slow tier runs more than the default one). */
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
#include "matcher/matcher.h"
#include "osm/profile.h"
#include "routing/route.h"
#include "test_support.h"
#include "matcher/timeutil.h"

#define H 3600
#define MIN 60
#define MAX_STOPS 8 /* stops of an offer the oracle handles: origin, a via, two passengers, destination */

static cv_graph *monaco;
static int rounds = 1;

/* ---------------------------------------------------------------- routes, as the oracle sees them */

typedef struct oracle {
    const cv_graph *g;
    cv_ch_query *ch;
    cv_dijkstra *dij;
    uint64_t routes; /* queries made */
    uint64_t ties;   /* of which Dijkstra found another route of the same weight (another length) */
    uint64_t varied; /* pairs whose dates together have plans of more than one shape */
} oracle;

/* Pickups and drop-offs are placed as docs/API.md says: on a road within 300 m, never a motorway. */
static int osnap(const oracle * or, cv_coord c, cv_snap *s)
{
    cv_snap_options o = cv_snap_defaults();
    o.exclude_classes = (1u << CV_RC_MOTORWAY) | (1u << CV_RC_MOTORWAY_LINK);
    return cv_snap_point(or->g, c, &o, s, NULL) == 0;
}

typedef struct ocost {
    int64_t ds, dm; /* -1: no route */
} ocost;

/* The route from a to b: the hierarchy's point-to-point answer, whose weight Dijkstra must confirm. Between routes
   of equal weight the two may choose differently (other lengths), so the figures are the hierarchy's, as the
   matcher's are: what is checked here is everything the matcher does with them. */
static ocost oroute(oracle * or, const cv_snap *a, const cv_snap *b)
{
    cv_path p = {0};
    cv_table_cell cell;
    or->routes++;
    int rc = cv_ch_cost(or->ch, a, b, &cell), rd = cv_dijkstra_route(or->dij, a, b, &p, NULL);
    if ((rc == 0) != (rd == 0) || (rc == 0 && cell.weight != p.weight))
        fail_msg("routes disagree: hierarchy %d (weight %u), Dijkstra %d (weight %u)", rc, rc ? 0 : cell.weight, rd,
                 rd ? 0 : p.weight);
    or->ties += rc == 0 && (cell.duration_ds != p.duration_ds || cell.distance_dm != p.distance_dm);
    cv_path_free(&p);
    return rc ? (ocost){-1, -1} : (ocost){cell.duration_ds, cell.distance_dm};
}

/* ---------------------------------------------------------------- when two trips travel together */

typedef struct oframe {
    int64_t dep;  /* the driver's departure that day, UTC */
    int64_t wish; /* the passenger's wished pickup, UTC */
    cv_day first, last;
    uint8_t weekdays; /* of the dates from first to last they travel together */
    int regular;
} oframe;

static int on_days(const cv_schedule *s, cv_day d)
{
    return d >= s->first_day && d <= s->last_day && (s->weekdays >> cv_day_weekday(d) & 1);
}

/* The date of a single trip (a punctual departure), or of the first trip two regular schedules share that has not
   left yet; the driver's departure and the passenger's wish that day. A regular schedule departs at its local time
   of day on each date, so two regular trips compare their local times of day (docs/API.md). An offer whose
   departure plus margin is before now is gone. */
static int oracle_frame(const cv_schedule *so, const cv_schedule *sr, int64_t now, oframe *f)
{
    memset(f, 0, sizeof *f);
    if (so->kind == CV_PUNCTUAL || sr->kind == CV_PUNCTUAL) {
        cv_day d;
        cv_utc_to_local(so->kind == CV_PUNCTUAL ? so->depart : sr->depart, &d, NULL, NULL);
        if ((so->kind == CV_REGULAR && !on_days(so, d)) || (sr->kind == CV_REGULAR && !on_days(sr, d)))
            return 0;
        f->dep = so->kind == CV_PUNCTUAL ? so->depart : cv_local_to_utc(d, so->time_of_day);
        f->wish = sr->kind == CV_PUNCTUAL ? sr->depart : cv_local_to_utc(d, sr->time_of_day);
        f->first = f->last = d;
        f->weekdays = (uint8_t)(1u << cv_day_weekday(d));
        return f->dep + so->margin_s >= now;
    }
    cv_day today;
    cv_utc_to_local(now, &today, NULL, NULL);
    cv_day lo = so->first_day > sr->first_day ? so->first_day : sr->first_day;
    cv_day hi = so->last_day < sr->last_day ? so->last_day : sr->last_day;
    f->first = f->last = -1;
    for (cv_day d = lo > today ? lo : today; d <= hi; d++) {
        if (!on_days(so, d) || !on_days(sr, d))
            continue;
        if (f->first < 0 && cv_local_to_utc(d, so->time_of_day) + so->margin_s >= now)
            f->first = d;
        if (f->first >= 0)
            f->last = d;
    }
    if (f->first < 0)
        return 0;
    f->regular = 1;
    f->weekdays = so->weekdays & sr->weekdays;
    f->dep = cv_local_to_utc(f->first, so->time_of_day);
    f->wish = f->dep + (sr->time_of_day - so->time_of_day);
    return 1;
}

/* ---------------------------------------------------------------- an offer as the oracle knows it */

typedef struct ostop {
    cv_snap at;
    int delta;           /* seats taken on at a pickup, given back at a drop-off */
    int pickup, dropoff; /* of a passenger aboard: the index of its other stop */
    int fixed;           /* origin, via, destination: the driver's own */
    int windowed;        /* a pickup whose passenger's window still holds */
    int64_t lo, hi;      /* that window, seconds after the driver's departure on the passenger's date(s) */
    cv_dates dates;      /* the dates the stop is made (a passenger's stops: the booking's) */
} ostop;

typedef struct ooffer {
    cv_offer o;
    int n;
    ostop st[MAX_STOPS];
    int64_t base_ds, base_dm; /* the driver's own route, through its vias */
    int64_t lim_ds, lim_dm;   /* how much longer its route may become */
    int64_t cur_ds, cur_dm;   /* its route now, with the passengers aboard */
    int64_t riders[MAX_STOPS];
    int nriders;
} ooffer;

/* Reads the offer's stops from the store (the truth the matcher also reads) and routes them. */
static void oracle_offer(oracle * or, cv_store *store, const cv_offer *o, int64_t now, ooffer *oo)
{
    memset(oo, 0, sizeof *oo);
    oo->o = *o;
    cv_stop *stops;
    size_t n;
    cv_error err;
    if (cv_store_offer_stops(store, o->id, &stops, &n, &err))
        fail_msg("%s", err.text);
    assert_true(n >= 2 && n <= MAX_STOPS);
    oo->n = (int)n;
    for (int k = 0; k < oo->n; k++) {
        ostop *s = &oo->st[k];
        if (!osnap(or, stops[k].at, &s->at))
            fail_msg("offer %lld: stop %d does not snap", (long long)o->id, k);
        s->delta = stops[k].seats_delta;
        s->pickup = s->dropoff = -1;
        s->fixed =
            stops[k].kind == CV_STOP_ORIGIN || stops[k].kind == CV_STOP_VIA || stops[k].kind == CV_STOP_DESTINATION;
        s->dates = stops[k].dates;
        if (stops[k].kind == CV_STOP_PICKUP) {
            cv_booking b;
            cv_request r;
            oframe f;
            assert_int_equal(cv_store_get_booking(store, stops[k].booking_id, &b, &err), 0);
            assert_int_equal(cv_store_get_request(store, b.request_id, &r, &err), 0);
            oo->riders[oo->nriders++] = r.id;
            for (int j = k + 1; j < oo->n; j++)
                if (stops[j].kind == CV_STOP_DROPOFF && stops[j].booking_id == stops[k].booking_id)
                    s->dropoff = j;
            assert_true(s->dropoff > k);
            if (oracle_frame(&o->when, &r.when, now, &f)) {
                s->windowed = 1;
                s->lo = f.wish - f.dep - r.when.margin_s;
                s->hi = f.wish - f.dep + r.when.margin_s;
            }
        }
    }
    for (int k = 0; k < oo->n; k++)
        if (oo->st[k].dropoff >= 0)
            oo->st[oo->st[k].dropoff].pickup = k;
    free(stops);
    /* the driver's own route: origin, vias, destination */
    int prev = 0;
    for (int k = 1; k < oo->n; k++) {
        if (!oo->st[k].fixed)
            continue;
        ocost c = oroute(or, &oo->st[prev].at, &oo->st[k].at);
        assert_true(c.ds >= 0);
        oo->base_ds += c.ds;
        oo->base_dm += c.dm;
        prev = k;
    }
    for (int k = 0; k + 1 < oo->n; k++) {
        ocost c = oroute(or, &oo->st[k].at, &oo->st[k + 1].at);
        assert_true(c.ds >= 0);
        oo->cur_ds += c.ds;
        oo->cur_dm += c.dm;
    }
    /* limits in whole seconds and metres, or a quarter of the driver's own route */
    oo->lim_ds = o->max_detour_s >= 0 ? (int64_t)o->max_detour_s * 10 : oo->base_ds * CV_DEFAULT_DETOUR_PERCENT / 100;
    oo->lim_dm = o->max_detour_m >= 0 ? (int64_t)o->max_detour_m * 10 : oo->base_dm * CV_DEFAULT_DETOUR_PERCENT / 100;
}

/* ---------------------------------------------------------------- the answer for one pair */

typedef struct oanswer {
    int64_t detour_ds, detour_dm; /* added to the driver's current route */
    int64_t total_ds, total_dm;   /* the driver's route with the passenger */
    int64_t mismatch_ds;          /* |pickup - wish|, deciseconds */
    int64_t pickup_ds;            /* after the departure */
    cv_day first, last;
    int regular;
    int reordered_better;      /* some order that moves passengers aboard would do better, or only it works */
    int seq[MAX_STOPS + 2], m; /* the stops in order (the offer's indexes; n: the pickup, n + 1: the drop-off) */
    int missed;                /* no match, yet one place for the pickup and drop-off suits every date */
} oanswer;

/* The sequence seq[0..m) of stop indexes (n = P, n + 1 = Q) against everything: costs from cost[][]. Returns 1 with
   the figures when it is feasible. */
typedef struct pair_ctx {
    const ooffer *oo;
    int seats;         /* the passenger's */
    int64_t wish_ds;   /* wish relative to the departure */
    int64_t margin_ds; /* the passenger's */
    ocost cost[MAX_STOPS + 2][MAX_STOPS + 2];
    int have[MAX_STOPS + 2][MAX_STOPS + 2];
} pair_ctx;

static int feasible(pair_ctx *c, oracle * or, const cv_snap *pts, const int *seq, int m, oanswer *a)
{
    const ooffer *oo = c->oo;
    int P = oo->n, Q = oo->n + 1, load = 0;
    int64_t t = 0, dm = 0;
    int64_t lo = -(int64_t)oo->o.when.margin_s * 10, hi = (int64_t)oo->o.when.margin_s * 10, at_p = 0;
    for (int k = 0; k < m; k++) {
        int s = seq[k];
        if (k > 0) {
            int r = seq[k - 1];
            if (!c->have[r][s]) {
                c->cost[r][s] = oroute(or, &pts[r], &pts[s]);
                c->have[r][s] = 1;
            }
            if (c->cost[r][s].ds < 0)
                return 0;
            t += c->cost[r][s].ds;
            dm += c->cost[r][s].dm;
        }
        /* the time window of a pickup: some departure shift puts every one inside its own */
        int64_t wlo = INT64_MIN / 4, whi = INT64_MAX / 4;
        if (s == P) {
            wlo = c->wish_ds - c->margin_ds;
            whi = c->wish_ds + c->margin_ds;
            at_p = t;
        } else if (s < oo->n && oo->st[s].windowed) {
            wlo = oo->st[s].lo * 10;
            whi = oo->st[s].hi * 10;
        }
        if (wlo - t > lo)
            lo = wlo - t;
        if (whi - t < hi)
            hi = whi - t;
        load += s == P ? c->seats : s == Q ? -c->seats : oo->st[s].delta;
        if (k + 1 < m && load > oo->o.seats)
            return 0;
    }
    if (lo > hi)
        return 0;
    if (t - oo->base_ds > oo->lim_ds || dm - oo->base_dm > oo->lim_dm)
        return 0;
    int64_t shift = c->wish_ds - at_p;
    shift = shift < lo ? lo : shift > hi ? hi : shift;
    a->total_ds = t;
    a->total_dm = dm;
    a->detour_ds = t - oo->cur_ds;
    a->detour_dm = dm - oo->cur_dm;
    a->pickup_ds = at_p + shift;
    a->mismatch_ds = llabs(a->pickup_ds - c->wish_ds);
    return 1;
}

static int better(const oanswer *a, const oanswer *b)
{
    if (a->detour_ds != b->detour_ds)
        return a->detour_ds < b->detour_ds;
    if (a->detour_dm != b->detour_dm)
        return a->detour_dm < b->detour_dm;
    return a->mismatch_ds < b->mismatch_ds;
}

/* Every permutation of items[k..m) after items[0..k), by swaps. */
typedef struct perm_ctx {
    pair_ctx *c;
    oracle * or ;
    const cv_snap *pts;
    int seq[MAX_STOPS + 2];
    int m;
    int found, found_any;
    oanswer best, best_any;
    int best_seq[MAX_STOPS + 2];
} perm_ctx;

/* 1 when seq keeps the driver's stops and the passengers aboard in the order they have now. */
static int keeps_order(const int *seq, int m, int n)
{
    int last = -1;
    for (int k = 0; k < m; k++)
        if (seq[k] < n) {
            if (seq[k] < last)
                return 0;
            last = seq[k];
        }
    return 1;
}

static void visit(perm_ctx *p)
{
    const ooffer *oo = p->c->oo;
    int n = oo->n, pos[MAX_STOPS + 2];
    for (int k = 0; k < p->m; k++)
        pos[p->seq[k]] = k;
    if (pos[n] > pos[n + 1])
        return; /* the pickup before the drop-off */
    int last_fixed = -1;
    for (int s = 0; s < n; s++) {
        if (oo->st[s].dropoff >= 0 && pos[s] > pos[oo->st[s].dropoff])
            return; /* so for everyone aboard */
        if (oo->st[s].fixed) {
            if (pos[s] < last_fixed)
                return; /* the driver's vias in its order */
            last_fixed = pos[s];
        }
    }
    oanswer a;
    if (!feasible(p->c, p->or, p->pts, p->seq, p->m, &a))
        return;
    if (keeps_order(p->seq, p->m, n)) {
        if (!p->found || better(&a, &p->best)) {
            p->best = a;
            memcpy(p->best_seq, p->seq, sizeof p->best_seq);
        }
        p->found = 1;
    }
    if (!p->found_any || better(&a, &p->best_any))
        p->best_any = a;
    p->found_any = 1;
}

static void permute(perm_ctx *p, int k)
{
    if (k == p->m - 1) { /* the destination stays last, the origin first */
        visit(p);
        return;
    }
    for (int i = k; i < p->m - 1; i++) {
        int t = p->seq[k];
        p->seq[k] = p->seq[i];
        p->seq[i] = t;
        permute(p, k + 1);
        p->seq[i] = p->seq[k];
        p->seq[k] = t;
    }
}

/* The offer as it runs on a date whose stops are `mask` (bits of oo's stops): those stops alone, and its route that
   day. full[] gets each of sub's stops' index in oo. */
static void sub_offer(oracle * or, const ooffer *oo, uint32_t mask, ooffer *sub, int *full)
{
    int map[MAX_STOPS];
    *sub = *oo;
    sub->n = 0;
    for (int k = 0; k < oo->n; k++)
        if (mask >> k & 1) {
            map[k] = sub->n;
            full[sub->n] = k;
            sub->st[sub->n++] = oo->st[k];
        }
    sub->cur_ds = sub->cur_dm = 0;
    for (int k = 0; k < sub->n; k++) {
        ostop *s = &sub->st[k];
        /* a booking's pickup and drop-off are made on the same dates */
        if (s->dropoff >= 0) {
            assert_true(mask >> s->dropoff & 1);
            s->dropoff = map[s->dropoff];
        }
        if (s->pickup >= 0) {
            assert_true(mask >> s->pickup & 1);
            s->pickup = map[s->pickup];
        }
        if (k + 1 < sub->n) {
            ocost c = oroute(or, &sub->st[k].at, &sub->st[k + 1].at);
            assert_true(c.ds >= 0);
            sub->cur_ds += c.ds;
            sub->cur_dm += c.dm;
        }
    }
}

/* The passenger, wishing to be picked up wish_ds after the departure (+- margin_ds), on the plan sub: the best of
   every order of the stops. The sequence in out is in the full offer's indexes (full[], P = nfull, Q = nfull + 1). */
static int best_on(oracle * or, const ooffer *sub, const int *full, int nfull, const cv_request *r, const cv_snap *p,
                   const cv_snap *q, int64_t wish_ds, oanswer *out)
{
    pair_ctx *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->oo = sub;
    c->seats = r->seats;
    c->wish_ds = wish_ds;
    c->margin_ds = (int64_t)r->when.margin_s * 10;
    cv_snap pts[MAX_STOPS + 2];
    for (int k = 0; k < sub->n; k++)
        pts[k] = sub->st[k].at;
    pts[sub->n] = *p;
    pts[sub->n + 1] = *q;
    perm_ctx *pc = calloc(1, sizeof *pc);
    assert_non_null(pc);
    *pc = (perm_ctx){.c = c, .or = or, .pts = pts, .m = sub->n + 2};
    /* origin first, then the other stops and P, Q, the destination last */
    int m = 0;
    for (int k = 0; k + 1 < sub->n; k++)
        pc->seq[m++] = k;
    pc->seq[m++] = sub->n;
    pc->seq[m++] = sub->n + 1;
    pc->seq[m++] = sub->n - 1;
    permute(pc, 1);
    int found = pc->found;
    if (found) {
        *out = pc->best;
        out->reordered_better = pc->found_any && better(&pc->best_any, &pc->best);
        out->m = pc->m;
        for (int k = 0; k < pc->m; k++)
            out->seq[k] = pc->best_seq[k] < sub->n ? full[pc->best_seq[k]] : nfull + (pc->best_seq[k] - sub->n);
    }
    free(pc);
    free(c);
    return found;
}

/* The passenger put, on the plan sub, right after the last of its stops at or before full index a (the pickup) and
   b >= a (the drop-off), as the matcher keeps a booking's place among the stops of every date. */
static int placed_on(oracle * or, const ooffer *sub, const int *full, const cv_request *r, const cv_snap *p,
                     const cv_snap *q, int64_t wish_ds, int a, int b, oanswer *out)
{
    pair_ctx *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->oo = sub;
    c->seats = r->seats;
    c->wish_ds = wish_ds;
    c->margin_ds = (int64_t)r->when.margin_s * 10;
    cv_snap pts[MAX_STOPS + 2];
    for (int k = 0; k < sub->n; k++)
        pts[k] = sub->st[k].at;
    pts[sub->n] = *p;
    pts[sub->n + 1] = *q;
    int pa = 0, pb = 0, seq[MAX_STOPS + 2], m = 0;
    for (int k = 0; k + 1 < sub->n; k++) {
        if (full[k] <= a)
            pa = k;
        if (full[k] <= b)
            pb = k;
    }
    for (int k = 0; k < sub->n; k++) {
        seq[m++] = k;
        if (k == pa)
            seq[m++] = sub->n;
        if (k == pb)
            seq[m++] = sub->n + 1;
    }
    int ok = feasible(c, or, pts, seq, m, out);
    free(c);
    return ok;
}

/* Whether request r (snapped to p and q) rides with offer oo at now, and how. The plan of each date they travel
   together holds the stops made that date (passengers aboard ride on their bookings' dates only); when the plans
   differ, the place is chosen on the first date's (the best there), and must suit every other date as it is
   (docs: a booking has one pickup and one drop-off on all its dates). */
static int oracle_pair(oracle * or, const ooffer *oo, const cv_request *r, const cv_snap *p, const cv_snap *q,
                       int64_t now, oanswer *out)
{
    oframe f;
    if (!oracle_frame(&oo->o.when, &r->when, now, &f))
        return 0;
    int64_t wish_ds = (f.wish - f.dep) * 10;
    /* the different plans over the dates, the first date's first */
    uint32_t masks[16];
    int nmasks = 0;
    for (cv_day d = f.first; d <= f.last; d++) {
        if (!(f.weekdays >> cv_day_weekday(d) & 1))
            continue;
        uint32_t mk = 0;
        for (int k = 0; k < oo->n; k++) {
            const cv_dates *ds = &oo->st[k].dates;
            if (d >= ds->first && d <= ds->last && (ds->weekdays >> cv_day_weekday(d) & 1))
                mk |= 1u << k;
        }
        int known = 0;
        for (int i = 0; i < nmasks && !known; i++)
            known = masks[i] == mk;
        if (!known) {
            assert_true(nmasks < 16);
            masks[nmasks++] = mk;
        }
    }
    assert_true(nmasks >= 1);
    or->varied += nmasks > 1;
    ooffer *sub = malloc(sizeof *sub);
    assert_non_null(sub);
    int full[MAX_STOPS];
    sub_offer(or, oo, masks[0], sub, full);
    int ok = best_on(or, sub, full, oo->n, r, p, q, wish_ds, out);
    if (nmasks > 1) {
        /* one place among all the offer's stops (after full index aa for the pickup, bb for the drop-off) that
           holds on every date's plan; of those, the best on the first date's */
        ok = 0;
        for (int aa = 0; aa + 1 < oo->n; aa++)
            for (int bb = aa; bb + 1 < oo->n; bb++) {
                oanswer first, other;
                sub_offer(or, oo, masks[0], sub, full);
                int all = placed_on(or, sub, full, r, p, q, wish_ds, aa, bb, &first);
                for (int i = 1; all && i < nmasks; i++) {
                    sub_offer(or, oo, masks[i], sub, full);
                    all = placed_on(or, sub, full, r, p, q, wish_ds, aa, bb, &other);
                }
                if (all && (!ok || better(&first, out))) {
                    first.reordered_better = 0;
                    *out = first;
                    ok = 1;
                }
            }
    }
    free(sub);
    out->missed = 0;
    if (!ok)
        return 0;
    out->first = f.first;
    out->last = f.last;
    out->regular = f.regular;
    return 1;
}

/* ---------------------------------------------------------------- comparing with the matcher */

typedef struct world {
    oracle or ;
    cv_matcher *m;
    cv_matcher_ws *w;
    cv_offer *offers;
    int noffers;
    cv_request *reqs;
    int nreqs;
    int64_t *riders;
    int nriders;
    ooffer *oo;       /* [noffers], as of `now` */
    cv_snap *rp, *rq; /* [nreqs] */
    /* figures */
    long pairs, matches, reordered, missed;
} world;

static int rider(const world *W, int64_t id)
{
    for (int k = 0; k < W->nriders; k++)
        if (W->riders[k] == id)
            return 1;
    return 0;
}

static void fail_pair(const world *W, const char *what, const cv_offer *o, const cv_request *r, const cv_match *mt,
                      const oanswer *a)
{
    (void)W;
    fail_msg("offer %lld (%.6f,%.6f -> %.6f,%.6f, %s, margin %d s, seats %d, limits %d s %d m, %d vias) x request "
             "%lld (%.6f,%.6f -> %.6f,%.6f, %s, margin %d s, seats %d): %s; matcher: %s detour %lld ds %lld dm "
             "total %lld ds %lld dm mismatch %lld s; oracle: %s detour %lld ds %lld dm total %lld ds %lld dm mismatch "
             "%lld ds",
             (long long)o->id, cv_deg(o->from.lon), cv_deg(o->from.lat), cv_deg(o->to.lon), cv_deg(o->to.lat),
             o->when.kind == CV_PUNCTUAL ? "punctual" : "regular", (int)o->when.margin_s, o->seats,
             (int)o->max_detour_s, (int)o->max_detour_m, o->nvias, (long long)r->id, cv_deg(r->from.lon),
             cv_deg(r->from.lat), cv_deg(r->to.lon), cv_deg(r->to.lat),
             r->when.kind == CV_PUNCTUAL ? "punctual" : "regular", (int)r->when.margin_s, r->seats, what,
             mt ? "match" : "none", mt ? (long long)mt->detour_ds : 0, mt ? (long long)mt->detour_dm : 0,
             mt ? (long long)mt->total_ds : 0, mt ? (long long)mt->total_dm : 0, mt ? (long long)mt->mismatch_s : 0,
             a ? "match" : "none", a ? (long long)a->detour_ds : 0, a ? (long long)a->detour_dm : 0,
             a ? (long long)a->total_ds : 0, a ? (long long)a->total_dm : 0, a ? (long long)a->mismatch_ds : 0);
}

/* The matcher's match mt against the oracle's answer a for the same pair: the detour exactly (both are sums of
   the same routes), times to the rounding of deciseconds to seconds. */
static void same_answer(const world *W, const cv_offer *o, const cv_request *r, const cv_match *mt, const oanswer *a,
                        int64_t dep)
{
    if (mt->detour_ds != a->detour_ds || mt->detour_dm != a->detour_dm || mt->total_ds != a->total_ds ||
        mt->total_dm != a->total_dm)
        fail_pair(W, "another detour", o, r, mt, a);
    if (llabs(mt->mismatch_s * 10 - a->mismatch_ds) > 10 || llabs((mt->pickup_time - dep) * 10 - a->pickup_ds) > 10)
        fail_pair(W, "another pickup time", o, r, mt, a);
    if (mt->first_day != a->first || mt->last_day != a->last || !!mt->regular != a->regular)
        fail_pair(W, "other dates", o, r, mt, a);
}

static const cv_match *find(const cv_match *ms, size_t n, int64_t offer_id, int64_t request_id)
{
    for (size_t i = 0; i < n; i++)
        if (ms[i].offer_id == offer_id && ms[i].request_id == request_id)
            return &ms[i];
    return NULL;
}

/* The departure of the frame a match was found in (for comparing pickup times). */
static int64_t frame_dep(const cv_offer *o, const cv_request *r, int64_t now)
{
    oframe f;
    return oracle_frame(&o->when, &r->when, now, &f) ? f.dep : 0;
}

/* Every way of asking the matcher, against the oracle on every pair. */
static void compare(world *W, int64_t now)
{
    cv_error err;
    for (int i = 0; i < W->noffers; i++)
        oracle_offer(&W->or, cv_matcher_store(W->w), &W->offers[i], now, &W->oo[i]);
    /* the oracle's answer for every pair */
    int no = W->noffers, nr = W->nreqs;
    oanswer *ans = calloc((size_t)no * (size_t)nr, sizeof *ans);
    char *ok = calloc((size_t)no * (size_t)nr, 1);
    assert_true(ans && ok);
    for (int j = 0; j < nr; j++) {
        if (rider(W, W->reqs[j].id))
            continue;
        for (int i = 0; i < no; i++) {
            ok[i * nr + j] =
                (char)oracle_pair(&W->or, &W->oo[i], &W->reqs[j], &W->rp[j], &W->rq[j], now, &ans[i * nr + j]);
            W->pairs++;
            W->matches += ok[i * nr + j];
            W->reordered += ok[i * nr + j] && ans[i * nr + j].reordered_better;
            W->missed += !ok[i * nr + j] && ans[i * nr + j].missed;
        }
    }
    /* by request, and the same trip searched ad hoc */
    for (int j = 0; j < nr; j++) {
        const cv_request *r = &W->reqs[j];
        if (rider(W, r->id))
            continue;
        cv_match *ms;
        size_t n;
        assert_int_equal(cv_matcher_request_matches(W->w, r->id, now, 0, &ms, &n, &err), 0);
        cv_match *ss = NULL;
        size_t nss = 0;
        cv_request adhoc = *r;
        adhoc.id = 0;
        int searched = cv_request_check(&adhoc, now, NULL) == 0;
        if (searched)
            assert_int_equal(cv_matcher_search(W->w, &adhoc, now, 0, &ss, &nss, &err), 0);
        size_t want = 0;
        for (int i = 0; i < no; i++) {
            const cv_offer *o = &W->offers[i];
            const cv_match *mt = find(ms, n, o->id, r->id);
            const oanswer *a = ok[i * nr + j] ? &ans[i * nr + j] : NULL;
            want += a != NULL;
            if (!!mt != !!a)
                fail_pair(
                    W, a ? "only the oracle matches (request matches)" : "only the matcher matches (request matches)",
                    o, r, mt, a);
            if (a)
                same_answer(W, o, r, mt, a, frame_dep(o, r, now));
            if (searched) {
                const cv_match *st = find(ss, nss, o->id, 0);
                if (!!st != !!a)
                    fail_pair(W, a ? "only the oracle matches (search)" : "only the matcher matches (search)", o, r, st,
                              a);
                if (a)
                    same_answer(W, o, r, st, a, frame_dep(o, r, now));
            }
        }
        assert_int_equal(n, want);
        free(ms);
        free(ss);
    }
    /* by offer (the passengers aboard are left out: they ride already) */
    for (int i = 0; i < no; i++) {
        const cv_offer *o = &W->offers[i];
        cv_match *ms;
        size_t n;
        assert_int_equal(cv_matcher_offer_matches(W->w, o->id, now, 0, &ms, &n, &err), 0);
        for (int j = 0; j < nr; j++) {
            const cv_request *r = &W->reqs[j];
            if (rider(W, r->id))
                continue;
            const cv_match *mt = find(ms, n, o->id, r->id);
            const oanswer *a = ok[i * nr + j] ? &ans[i * nr + j] : NULL;
            if (!!mt != !!a)
                fail_pair(W, a ? "only the oracle matches (offer matches)" : "only the matcher matches (offer matches)",
                          o, r, mt, a);
            if (a)
                same_answer(W, o, r, mt, a, frame_dep(o, r, now));
        }
        free(ms);
    }
    free(ans);
    free(ok);
}

/* ---------------------------------------------------------------- random trips on Monaco */

static uint64_t rng;

static double frand(double lo, double hi)
{
    return lo + (hi - lo) * (double)(tst_rand(&rng) % 1000001) / 1000000.0;
}

static int pick(int n)
{
    return (int)(tst_rand(&rng) % (uint64_t)n);
}

static cv_coord random_point(const oracle * or)
{
    for (;;) {
        const int32_t *bb = or->g->hdr.bbox;
        cv_coord c = {(int32_t)frand(bb[0], bb[2]), (int32_t)frand(bb[1], bb[3])};
        cv_snap s;
        if (osnap(or, c, &s))
            return c;
    }
}

/* A point a fraction f along the route from a to b, moved up to ~30 m. */
static cv_coord along(oracle * or, cv_coord a, cv_coord b, double f)
{
    cv_snap s, t;
    if (!osnap(or, a, &s) || !osnap(or, b, &t))
        return a;
    cv_path p = {0};
    cv_coord c = a;
    if (cv_ch_route(or->ch, &s, &t, &p, NULL) == 0) {
        cv_coord *pts;
        size_t n;
        if (cv_path_geometry(or->g, &p, &pts, &n) == 0) {
            c = pts[(size_t)(f * (double)(n - 1))];
            free(pts);
        }
    }
    cv_path_free(&p);
    c.lon += (int32_t)frand(-3000, 3000);
    c.lat += (int32_t)frand(-3000, 3000);
    return c;
}

/* margins, 0 now and then */
static const int32_t margins[] = {0, 5 * MIN, 10 * MIN, 10 * MIN, 15 * MIN, 15 * MIN, 20 * MIN, 30 * MIN};
#define MARGIN() margins[pick((int)(sizeof margins / sizeof *margins))]

/* The trips of one round: offers over the morning of `day` (some with a via, some regular, limits of every kind),
   requests along them and elsewhere (some regular), and passengers aboard a few offers (on a regular offer, on
   their own dates only). */
static void populate(world *W, cv_day day, int64_t created, int noffers, int nreqs)
{
    cv_error err;
    W->offers = calloc((size_t)noffers, sizeof *W->offers);
    W->oo = calloc((size_t)noffers, sizeof *W->oo);
    W->reqs = calloc((size_t)nreqs, sizeof *W->reqs);
    W->rp = calloc((size_t)nreqs, sizeof *W->rp);
    W->rq = calloc((size_t)nreqs, sizeof *W->rq);
    W->riders = calloc((size_t)noffers * 2, sizeof *W->riders);
    assert_true(W->offers && W->oo && W->reqs && W->rp && W->rq && W->riders);
    /* half the offers run between a few hubs, so that drivers share roads and a passenger has several to choose
       from; the others anywhere */
    cv_coord hubs[5];
    for (int k = 0; k < 5; k++)
        hubs[k] = random_point(&W->or);
    while (W->noffers < noffers) {
        cv_offer o;
        memset(&o, 0, sizeof o);
        snprintf(o.owner, sizeof o.owner, "driver");
        if (W->noffers % 2) {
            o.from = hubs[pick(5)];
            o.to = hubs[pick(5)];
            o.from.lon += (int32_t)frand(-15000, 15000), o.from.lat += (int32_t)frand(-10000, 10000);
            o.to.lon += (int32_t)frand(-15000, 15000), o.to.lat += (int32_t)frand(-10000, 10000);
        } else {
            o.from = random_point(&W->or);
            o.to = random_point(&W->or);
        }
        if (cv_distance_m(o.from, o.to) < 800)
            continue;
        int k = W->noffers;
        if (k % 4 == 1) {
            o.nvias = 1;
            o.vias[0] = random_point(&W->or);
        }
        int32_t tod = 7 * H + pick(2 * H);
        o.when = (cv_schedule){CV_PUNCTUAL, cv_local_to_utc(day, tod), 0, 0, 0, 0, MARGIN()};
        if (k % 5 == 3) {
            uint8_t wd = (uint8_t)(1u << cv_day_weekday(day) | (tst_rand(&rng) & 0x7f));
            o.when = (cv_schedule){CV_REGULAR, 0, wd, tod, day - pick(3), day + pick(10), MARGIN()};
        }
        o.seats = 1 + pick(3);
        o.max_detour_s = o.max_detour_m = -1;
        switch (k % 3) {
        case 1: /* absolute, both */
            o.max_detour_s = pick(300);
            o.max_detour_m = pick(3000);
            break;
        case 2: /* one absolute, the other the default */
            if (pick(2))
                o.max_detour_s = pick(200);
            else
                o.max_detour_m = pick(2000);
            break;
        }
        if (cv_matcher_add_offer(W->w, &o, created, &err) != 0)
            continue; /* off the roads, or no route to a via on an island: draw again */
        W->offers[W->noffers++] = o;
    }
    /* requests: two in three along an offer, from a bit before it leaves to a bit after */
    int aboard = 0, *nboard = calloc((size_t)noffers, sizeof *nboard);
    assert_non_null(nboard);
    while (W->nreqs < nreqs) {
        cv_request r;
        memset(&r, 0, sizeof r);
        snprintf(r.owner, sizeof r.owner, "passenger");
        int k = W->nreqs;
        const cv_offer *o = &W->offers[pick(W->noffers)];
        int64_t odep = o->when.kind == CV_PUNCTUAL ? o->when.depart : cv_local_to_utc(day, o->when.time_of_day);
        if (k % 3 != 2) {
            /* picked up near when the driver passes, give or take 20 minutes */
            double f1 = frand(0.0, 0.5), f2 = frand(0.5, 1.0);
            r.from = along(&W->or, o->from, o->to, f1);
            r.to = along(&W->or, o->from, o->to, f2);
            int64_t passes = odep + (int64_t)(f1 * (double)o->direct_duration_ds / 10);
            r.when = (cv_schedule){CV_PUNCTUAL, passes + (int64_t)frand(-20 * MIN, 20 * MIN), 0, 0, 0, 0, MARGIN()};
        } else {
            r.from = random_point(&W->or);
            r.to = random_point(&W->or);
            r.when = (cv_schedule){CV_PUNCTUAL, cv_local_to_utc(day, 7 * H + pick(2 * H)), 0, 0, 0, 0, MARGIN()};
        }
        if (k % 6 == 4) {
            cv_day d;
            int32_t tod;
            cv_utc_to_local(r.when.depart, &d, &tod, NULL);
            uint8_t wd = (uint8_t)(1u << cv_day_weekday(day) | (tst_rand(&rng) & 0x7f));
            r.when = (cv_schedule){CV_REGULAR, 0, wd, tod, day - pick(5), day + pick(10), MARGIN()};
        }
        r.seats = 1 + (pick(4) == 0);
        cv_snap p, q;
        if (!osnap(&W->or, r.from, &p) || !osnap(&W->or, r.to, &q))
            continue;
        if (cv_matcher_add_request(W->w, &r, created, &err) != 0)
            continue;
        /* some passengers along punctual offers are aboard before anything is compared */
        cv_match pm;
        cv_booking b;
        int oi = (int)(o - W->offers);
        if (k % 3 == 0 && aboard < noffers / 3 && nboard[oi] < 2 &&
            cv_matcher_pair(W->w, o->id, r.id, created, &pm, &err) == 1 &&
            cv_matcher_book(W->w, o->id, r.id, created, &b, &err) == 0 &&
            cv_matcher_accept(W->w, b.id, created, &err) == 0) {
            W->riders[W->nriders++] = r.id;
            nboard[oi]++;
            aboard++;
        }
        W->reqs[W->nreqs] = r;
        W->rp[W->nreqs] = p;
        W->rq[W->nreqs++] = q;
    }
    free(nboard);
}

static void world_free(world *W, const char *db)
{
    cv_matcher_ws_free(W->w);
    cv_matcher_close(W->m);
    cv_dijkstra_free(W->or.dij);
    cv_ch_query_free(W->or.ch);
    free(W->offers), free(W->oo), free(W->reqs), free(W->rp), free(W->rq), free(W->riders);
    tst_remove_db(db);
}

static void world_open(world *W, const cv_graph *g, const char *db, int64_t now)
{
    memset(W, 0, sizeof *W);
    W->or.g = g;
    W->or.dij = cv_dijkstra_new(g);
    W->or.ch = cv_ch_query_new(g);
    assert_true(W->or.dij && W->or.ch);
    tst_remove_db(db);
    cv_matcher_options mo = cv_matcher_defaults();
    mo.max_results = 1000000; /* every match: the sets are compared whole */
    cv_error err;
    if (cv_matcher_open(g, db, &mo, now, &W->m, &err))
        fail_msg("%s", err.text);
    W->w = cv_matcher_ws_new(W->m, &err);
    if (!W->w)
        fail_msg("%s", err.text);
}

static void test_random_monaco(void **state)
{
    (void)state;
    assert_int_equal(cv_tz_set("Europe/Paris", NULL), 0);
    char db[1024];
    snprintf(db, sizeof db, "%s/matcher_oracle_monaco.db", COVOIT_TMP);
    long pairs = 0, matches = 0, reordered = 0, riders = 0, missed = 0;
    uint64_t nroutes = 0, ties = 0, varied = 0;
    for (int round = 0; round < rounds; round++) {
        rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)(round + 1) * 0xbf58476d1ce4e5b9ull;
        cv_day day = cv_day_from_ymd(2030, 6, 4) + round % 7;
        int64_t created = cv_local_to_utc(day - 3, 0);
        world W;
        world_open(&W, monaco, db, created);
        populate(&W, day, created, 24, 36);
        /* long before anything leaves, then during the morning (some offers gone, regular ones on later dates) */
        compare(&W, created);
        compare(&W, cv_local_to_utc(day, 7 * H + 40 * MIN));
        pairs += W.pairs;
        matches += W.matches;
        reordered += W.reordered;
        missed += W.missed;
        riders += W.nriders;
        nroutes += W.or.routes;
        ties += W.or.ties;
        varied += W.or.varied;
        world_free(&W, db);
    }
    print_message("%d round(s): %ld pairs, %ld matches agree, %ld passengers aboard, %llu oracle routes (%llu with "
                  "an equal-weight alternative); %ld matches would be cheaper (or only possible) by reordering the "
                  "passengers aboard; %llu pairs over dates with plans of different shapes, %ld of them not matched "
                  "though one place in the sequence suits every date\n",
                  rounds, pairs, matches, riders, (unsigned long long)nroutes, (unsigned long long)ties, reordered,
                  (unsigned long long)varied, missed);
    /* the draw must exercise what is compared */
    assert_true(matches >= pairs / 50);
    assert_true(riders >= rounds * 2);
}

/* ---------------------------------------------------------------- a hand-made map */

/* A main road west-east (1 -> 5, two-way, 4 km) with a spur north at its middle (3 -> 6, 500 m, two-way) and a
   one-way loop south (2 -> 7 -> 4): a passenger up the spur costs the driver the spur both ways; one on the loop
   only the loop's extra length. Offers get limits exactly at, and one unit below, the oracle's detour. */
static const char hand_osm[] = "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6' generator='hand'>\n"
                               "<node id='1' lat='43.7000' lon='7.4000'/><node id='2' lat='43.7000' lon='7.4125'/>\n"
                               "<node id='3' lat='43.7000' lon='7.4250'/><node id='4' lat='43.7000' lon='7.4375'/>\n"
                               "<node id='5' lat='43.7000' lon='7.4500'/><node id='6' lat='43.7045' lon='7.4250'/>\n"
                               "<node id='7' lat='43.6970' lon='7.4250'/>\n"
                               "<way id='1'><nd ref='1'/><nd ref='2'/><nd ref='3'/><nd ref='4'/><nd ref='5'/>"
                               "<tag k='highway' v='secondary'/></way>\n"
                               "<way id='2'><nd ref='3'/><nd ref='6'/><tag k='highway' v='residential'/></way>\n"
                               "<way id='3'><nd ref='2'/><nd ref='7'/><nd ref='4'/><tag k='highway' v='residential'/>"
                               "<tag k='oneway' v='yes'/></way>\n"
                               "</osm>\n";

/* The hand-made map imported into COVOIT_TMP/<name>.cvg (the map and the graph file are removed by
   hand_close). */
static cv_graph *hand_open(const char *name)
{
    char map[1024], gpath[1024];
    snprintf(map, sizeof map, "%s/%s.osm", COVOIT_TMP, name);
    snprintf(gpath, sizeof gpath, "%s/%s.cvg", COVOIT_TMP, name);
    FILE *f = fopen(map, "w");
    assert_non_null(f);
    fputs(hand_osm, f);
    fclose(f);
    cv_network net;
    cv_error err;
    cv_profile_options po = cv_profile_defaults();
    assert_int_equal(cv_network_read(map, &po, NULL, &net, &err), 0);
    assert_int_equal(cv_graph_build(&net, map, gpath, NULL, NULL, &err), 0);
    cv_network_free(&net);
    cv_graph *g = cv_graph_open(gpath, &err);
    assert_non_null(g);
    unlink(map);
    return g;
}

static void hand_close(cv_graph *g, const char *name)
{
    char gpath[1024];
    cv_graph_close(g);
    snprintf(gpath, sizeof gpath, "%s/%s.cvg", COVOIT_TMP, name);
    unlink(gpath);
}

static cv_coord at_lon(double lon)
{
    return (cv_coord){cv_fixed(lon), cv_fixed(43.7)};
}

static void test_hand_made_map(void **state)
{
    (void)state;
    assert_int_equal(cv_tz_set("Europe/Paris", NULL), 0);
    char db[1024];
    snprintf(db, sizeof db, "%s/oracle_hand.db", COVOIT_TMP);
    cv_error err;
    cv_graph *g = hand_open("oracle_hand");
    cv_day day = cv_day_from_ymd(2030, 6, 4);
    int64_t now = cv_local_to_utc(day - 1, 0), dep = cv_local_to_utc(day, 8 * H);
    world W;
    world_open(&W, g, db, now);
    W.offers = calloc(16, sizeof *W.offers);
    W.oo = calloc(16, sizeof *W.oo);
    W.reqs = calloc(8, sizeof *W.reqs);
    W.rp = calloc(8, sizeof *W.rp);
    W.rq = calloc(8, sizeof *W.rq);
    W.riders = calloc(8, sizeof *W.riders);
    cv_coord west = {cv_fixed(7.4010), cv_fixed(43.7)}, east = {cv_fixed(7.4490), cv_fixed(43.7)};
    struct {
        cv_coord from, to;
    } trips[] = {
        {{cv_fixed(7.4100), cv_fixed(43.7)}, {cv_fixed(7.4400), cv_fixed(43.7)}},    /* on the way: no detour */
        {{cv_fixed(7.4250), cv_fixed(43.7040)}, {cv_fixed(7.4450), cv_fixed(43.7)}}, /* up the spur */
        {{cv_fixed(7.4250), cv_fixed(43.6971)}, {cv_fixed(7.4450), cv_fixed(43.7)}}, /* on the loop */
        {{cv_fixed(7.4400), cv_fixed(43.7)}, {cv_fixed(7.4100), cv_fixed(43.7)}},    /* backwards */
        {{cv_fixed(7.4150), cv_fixed(43.7)}, {cv_fixed(7.4350), cv_fixed(43.7)}},    /* on the way, two seats */
    };
    for (int j = 0; j < 5; j++) {
        cv_request r;
        memset(&r, 0, sizeof r);
        snprintf(r.owner, sizeof r.owner, "passenger");
        r.from = trips[j].from;
        r.to = trips[j].to;
        r.when = (cv_schedule){CV_PUNCTUAL, dep + 2 * MIN, 0, 0, 0, 0, 10 * MIN};
        r.seats = j == 4 ? 2 : 1;
        assert_int_equal(cv_matcher_add_request(W.w, &r, now, &err), 0);
        assert_true(osnap(&W.or, r.from, &W.rp[j]) && osnap(&W.or, r.to, &W.rq[j]));
        W.reqs[W.nreqs++] = r;
    }
    /* an offer with the default limit, then for each passenger with a detour, offers limited at it and just below */
    cv_offer base;
    memset(&base, 0, sizeof base);
    snprintf(base.owner, sizeof base.owner, "driver");
    base.from = west;
    base.to = east;
    base.when = (cv_schedule){CV_PUNCTUAL, dep, 0, 0, 0, 0, 10 * MIN};
    base.seats = 2;
    base.max_detour_s = base.max_detour_m = -1;
    assert_int_equal(cv_matcher_add_offer(W.w, &base, now, &err), 0);
    W.offers[W.noffers++] = base;
    ooffer oo;
    oracle_offer(&W.or, cv_matcher_store(W.w), &base, now, &oo);
    oo.lim_ds = oo.lim_dm = INT64_MAX / 4; /* for the figures alone */
    int64_t limited[2][3]; /* per passenger with a detour: offers limited at it, a second below, a metre below */
    for (int j = 0; j < 4; j++) {
        oanswer a;
        assert_int_equal(oracle_pair(&W.or, &oo, &W.reqs[j], &W.rp[j], &W.rq[j], now, &a), 1);
        if (j == 0)
            assert_true(a.detour_ds == 0 && a.detour_dm == 0);
        if (j == 0 || j == 3)
            continue;
        assert_true(a.detour_ds > 10 && a.detour_dm > 10);
        int32_t s = (int32_t)((a.detour_ds + 9) / 10), mm = (int32_t)((a.detour_dm + 9) / 10);
        const int32_t ds_off[] = {0, -1, 0}, dm_off[] = {0, 0, -1};
        for (int k = 0; k < 3; k++) {
            cv_offer o = base;
            o.max_detour_s = s + ds_off[k];
            o.max_detour_m = mm + dm_off[k];
            assert_int_equal(cv_matcher_add_offer(W.w, &o, now, &err), 0);
            W.offers[W.noffers++] = o;
            limited[j - 1][k] = o.id;
        }
    }
    compare(&W, now);
    print_message("hand-made map: %ld pairs, %ld matches agree\n", W.pairs, W.matches);
    /* the spur and the loop: the passenger fits the offer limited at its detour, not those a unit below */
    for (int j = 1; j <= 2; j++) {
        cv_match *ms;
        size_t n;
        assert_int_equal(cv_matcher_request_matches(W.w, W.reqs[j].id, now, 0, &ms, &n, &err), 0);
        assert_non_null(find(ms, n, limited[j - 1][0], W.reqs[j].id));
        assert_null(find(ms, n, limited[j - 1][1], W.reqs[j].id));
        assert_null(find(ms, n, limited[j - 1][2], W.reqs[j].id));
        free(ms);
    }
    assert_true(W.matches >= 7 + 1 + 1 + 7); /* everyone takes the passengers on the way */
    /* a passenger aboard (on the way, two seats offered): the others are inserted around it */
    cv_match pm;
    cv_booking b;
    assert_int_equal(cv_matcher_pair(W.w, base.id, W.reqs[0].id, now, &pm, &err), 1);
    assert_int_equal(cv_matcher_book(W.w, base.id, W.reqs[0].id, now, &b, &err), 0);
    assert_int_equal(cv_matcher_accept(W.w, b.id, now, &err), 0);
    W.riders[W.nriders++] = W.reqs[0].id;
    W.pairs = W.matches = 0;
    compare(&W, now);
    /* the two-seat passenger no longer fits the base offer, where one seat of two is taken on its way, and
       still fits the others */
    cv_match *ms;
    size_t n;
    assert_int_equal(cv_matcher_request_matches(W.w, W.reqs[4].id, now, 0, &ms, &n, &err), 0);
    assert_null(find(ms, n, base.id, W.reqs[4].id));
    assert_int_equal(n, W.noffers - 1);
    free(ms);
    world_free(&W, db);
    hand_close(g, "oracle_hand");
}

/* A passenger aboard whose pickup comes after the newcomer's drop-off, with a window of a minute and a driver who
   leaves on time: the newcomer going up the spur on the way (after another passenger aboard has got off) would
   make the driver two minutes late for that pickup, so the newcomer is only taken where that delay falls after it;
   the oracle, which times every stop of every order, and the matcher must agree on where, and what it costs. */
static void test_hand_made_riders(void **state)
{
    (void)state;
    assert_int_equal(cv_tz_set("Europe/Paris", NULL), 0);
    char db[1024];
    snprintf(db, sizeof db, "%s/oracle_riders.db", COVOIT_TMP);
    cv_error err;
    cv_graph *g = hand_open("oracle_riders");
    cv_day day = cv_day_from_ymd(2030, 6, 4);
    int64_t now = cv_local_to_utc(day - 1, 0), dep = cv_local_to_utc(day, 8 * H);
    world W;
    world_open(&W, g, db, now);
    W.offers = calloc(1, sizeof *W.offers);
    W.oo = calloc(1, sizeof *W.oo);
    W.reqs = calloc(4, sizeof *W.reqs);
    W.rp = calloc(4, sizeof *W.rp);
    W.rq = calloc(4, sizeof *W.rq);
    W.riders = calloc(4, sizeof *W.riders);
    cv_offer o;
    memset(&o, 0, sizeof o);
    snprintf(o.owner, sizeof o.owner, "driver");
    o.from = at_lon(7.4010);
    o.to = at_lon(7.4490);
    o.when = (cv_schedule){CV_PUNCTUAL, dep, 0, 0, 0, 0, 0};
    o.seats = 3;
    o.max_detour_s = 3600;
    o.max_detour_m = 100000;
    assert_int_equal(cv_matcher_add_offer(W.w, &o, now, &err), 0);
    W.offers[W.noffers++] = o;
    /* the times at which the driver passes each point of the main road, leaving on time */
    cv_snap so;
    assert_true(osnap(&W.or, o.from, &so));
    struct {
        cv_coord from, to;
        int32_t margin;
    } who[3] = {
        {at_lon(7.4150), at_lon(7.4200), 5 * MIN}, /* A: aboard, off before the spur */
        {at_lon(7.4420), at_lon(7.4470), 1 * MIN}, /* B: aboard, picked up late, a minute's window */
        {at_lon(7.4100), {cv_fixed(7.4250), cv_fixed(43.7040)}, 10 * MIN}, /* the newcomer, to the spur's end */
    };
    for (int k = 0; k < 3; k++) {
        cv_request r;
        memset(&r, 0, sizeof r);
        snprintf(r.owner, sizeof r.owner, "passenger");
        r.from = who[k].from;
        r.to = who[k].to;
        cv_snap p, q;
        assert_true(osnap(&W.or, r.from, &p) && osnap(&W.or, r.to, &q));
        r.when = (cv_schedule){CV_PUNCTUAL, dep + oroute(&W.or, &so, &p).ds / 10, 0, 0, 0, 0, who[k].margin};
        r.seats = 1;
        assert_int_equal(cv_matcher_add_request(W.w, &r, now, &err), 0);
        if (k < 2) {
            cv_match pm;
            cv_booking b;
            assert_int_equal(cv_matcher_pair(W.w, o.id, r.id, now, &pm, &err), 1);
            assert_int_equal(cv_matcher_book(W.w, o.id, r.id, now, &b, &err), 0);
            if (cv_matcher_accept(W.w, b.id, now, &err))
                fail_msg("%s", err.text);
            W.riders[W.nriders++] = r.id;
        }
        W.reqs[W.nreqs] = r;
        W.rp[W.nreqs] = p;
        W.rq[W.nreqs++] = q;
    }
    /* the oracle's answer, and what it would be were B's window not kept */
    ooffer oo;
    oracle_offer(&W.or, cv_matcher_store(W.w), &o, now, &oo);
    assert_int_equal(oo.n, 6);
    oanswer kept, loose;
    assert_int_equal(oracle_pair(&W.or, &oo, &W.reqs[2], &W.rp[2], &W.rq[2], now, &kept), 1);
    for (int k = 0; k < oo.n; k++)
        oo.st[k].windowed = 0;
    assert_int_equal(oracle_pair(&W.or, &oo, &W.reqs[2], &W.rp[2], &W.rq[2], now, &loose), 1);
    print_message("the newcomer costs %lld ds with B's window kept, %lld ds without it\n", (long long)kept.detour_ds,
                  (long long)loose.detour_ds);
    assert_true(kept.detour_ds > loose.detour_ds); /* the window decides */
    compare(&W, now);
    assert_int_equal(W.matches, 1);
    world_free(&W, db);
    hand_close(g, "oracle_riders");
}

/* Plans that differ by date: a regular offer with one seat, every day for a week, and a passenger aboard on the
   Wednesday only. A regular newcomer riding the same stretch every day cannot be taken (the Wednesday is full),
   one riding on Monday and Tuesday only can, and so can one whose stretch ends before the Wednesday passenger
   gets on; the oracle works each date's plan out on its own. */
static void test_hand_made_dates(void **state)
{
    (void)state;
    assert_int_equal(cv_tz_set("Europe/Paris", NULL), 0);
    char db[1024];
    snprintf(db, sizeof db, "%s/oracle_dates.db", COVOIT_TMP);
    cv_error err;
    cv_graph *g = hand_open("oracle_dates");
    cv_day mon = cv_day_from_ymd(2030, 6, 3);
    assert_int_equal(cv_day_weekday(mon), 0);
    int64_t now = cv_local_to_utc(mon - 2, 0);
    world W;
    world_open(&W, g, db, now);
    W.offers = calloc(1, sizeof *W.offers);
    W.oo = calloc(1, sizeof *W.oo);
    W.reqs = calloc(4, sizeof *W.reqs);
    W.rp = calloc(4, sizeof *W.rp);
    W.rq = calloc(4, sizeof *W.rq);
    W.riders = calloc(4, sizeof *W.riders);
    cv_offer o;
    memset(&o, 0, sizeof o);
    snprintf(o.owner, sizeof o.owner, "driver");
    o.from = at_lon(7.4010);
    o.to = at_lon(7.4490);
    o.when = (cv_schedule){CV_REGULAR, 0, 0x7f, 8 * H, mon, mon + 6, 10 * MIN};
    o.seats = 1;
    /* limits that leave room for no U-turn: on the Wednesday the newcomer keeps the place it has on the Monday,
       ahead of the passenger aboard (the gap after the origin), and riding it means going back */
    o.max_detour_s = 120;
    o.max_detour_m = 1000;
    assert_int_equal(cv_matcher_add_offer(W.w, &o, now, &err), 0);
    W.offers[W.noffers++] = o;
    cv_snap so;
    assert_true(osnap(&W.or, o.from, &so));
    struct {
        double from, to;
        uint8_t weekdays;
        int punctual; /* on the Wednesday only */
    } who[4] = {
        {7.4150, 7.4400, 0, 1},               /* aboard on Wednesday */
        {7.4200, 7.4450, 0x7f, 0},            /* every day, over the same stretch */
        {7.4200, 7.4450, CV_MON | CV_TUE, 0}, /* the same, Monday and Tuesday */
        {7.4050, 7.4120, 0x7f, 0},            /* every day, off before the Wednesday passenger gets on */
    };
    for (int k = 0; k < 4; k++) {
        cv_request r;
        memset(&r, 0, sizeof r);
        snprintf(r.owner, sizeof r.owner, "passenger");
        r.from = at_lon(who[k].from);
        r.to = at_lon(who[k].to);
        cv_snap p, q;
        assert_true(osnap(&W.or, r.from, &p) && osnap(&W.or, r.to, &q));
        int32_t at_p = (int32_t)(oroute(&W.or, &so, &p).ds / 10);
        if (who[k].punctual)
            r.when = (cv_schedule){CV_PUNCTUAL, cv_local_to_utc(mon + 2, 8 * H + at_p), 0, 0, 0, 0, 5 * MIN};
        else
            r.when = (cv_schedule){CV_REGULAR, 0, who[k].weekdays, 8 * H + at_p, mon, mon + 6, 5 * MIN};
        r.seats = 1;
        assert_int_equal(cv_matcher_add_request(W.w, &r, now, &err), 0);
        if (k == 0) {
            cv_match pm;
            cv_booking b;
            assert_int_equal(cv_matcher_pair(W.w, o.id, r.id, now, &pm, &err), 1);
            assert_int_equal(cv_matcher_book(W.w, o.id, r.id, now, &b, &err), 0);
            if (cv_matcher_accept(W.w, b.id, now, &err))
                fail_msg("%s", err.text);
            W.riders[W.nriders++] = r.id;
        }
        W.reqs[W.nreqs] = r;
        W.rp[W.nreqs] = p;
        W.rq[W.nreqs++] = q;
    }
    compare(&W, now);
    cv_match *ms;
    size_t n;
    int want[4] = {-1, 0, 1, 1};
    for (int k = 1; k < 4; k++) {
        assert_int_equal(cv_matcher_request_matches(W.w, W.reqs[k].id, now, 0, &ms, &n, &err), 0);
        if ((int)n != want[k])
            fail_msg("newcomer %d: %zu matches, want %d", k, n, want[k]);
        free(ms);
    }
    world_free(&W, db);
    hand_close(g, "oracle_dates");
}

/* A passenger on Wednesday only, near the start; a newcomer riding every weekday further on. On the first date
   (Monday) the newcomer follows the origin; on the Wednesday it must go after the Wednesday passenger's stops,
   which lie between: the one place that holds on every date is found, not just the first date's first gap
   (regression: the newcomer was refused). */
static void test_hand_made_later_on_other_dates(void **state)
{
    (void)state;
    assert_int_equal(cv_tz_set("Europe/Paris", NULL), 0);
    char db[1024];
    snprintf(db, sizeof db, "%s/oracle_later.db", COVOIT_TMP);
    cv_error err;
    cv_graph *g = hand_open("oracle_later");
    cv_day mon = cv_day_from_ymd(2030, 6, 3);
    int64_t now = cv_local_to_utc(mon - 2, 0);
    world W;
    world_open(&W, g, db, now);
    W.offers = calloc(1, sizeof *W.offers);
    W.oo = calloc(1, sizeof *W.oo);
    W.reqs = calloc(2, sizeof *W.reqs);
    W.rp = calloc(2, sizeof *W.rp);
    W.rq = calloc(2, sizeof *W.rq);
    W.riders = calloc(2, sizeof *W.riders);
    cv_offer o;
    memset(&o, 0, sizeof o);
    snprintf(o.owner, sizeof o.owner, "driver");
    o.from = at_lon(7.4010);
    o.to = at_lon(7.4490);
    o.when = (cv_schedule){CV_REGULAR, 0, 0x1f, 8 * H, mon, mon + 4, 10 * MIN};
    o.seats = 2;
    o.max_detour_s = 120;
    o.max_detour_m = 1000;
    assert_int_equal(cv_matcher_add_offer(W.w, &o, now, &err), 0);
    W.offers[W.noffers++] = o;
    cv_snap so;
    assert_true(osnap(&W.or, o.from, &so));
    static const double stretch[2][2] = {{7.4050, 7.4100}, {7.4200, 7.4400}};
    for (int k = 0; k < 2; k++) {
        cv_request r;
        memset(&r, 0, sizeof r);
        snprintf(r.owner, sizeof r.owner, "passenger");
        r.from = at_lon(stretch[k][0]);
        r.to = at_lon(stretch[k][1]);
        cv_snap p, q;
        assert_true(osnap(&W.or, r.from, &p) && osnap(&W.or, r.to, &q));
        int32_t at_p = (int32_t)(oroute(&W.or, &so, &p).ds / 10);
        if (k == 0)
            r.when = (cv_schedule){CV_PUNCTUAL, cv_local_to_utc(mon + 2, 8 * H + at_p), 0, 0, 0, 0, 5 * MIN};
        else
            r.when = (cv_schedule){CV_REGULAR, 0, 0x1f, 8 * H + at_p, mon, mon + 4, 5 * MIN};
        r.seats = 1;
        assert_int_equal(cv_matcher_add_request(W.w, &r, now, &err), 0);
        if (k == 0) {
            cv_booking b;
            assert_int_equal(cv_matcher_book(W.w, o.id, r.id, now, &b, &err), 0);
            if (cv_matcher_accept(W.w, b.id, now, &err))
                fail_msg("%s", err.text);
            W.riders[W.nriders++] = r.id;
        }
        W.reqs[W.nreqs] = r;
        W.rp[W.nreqs] = p;
        W.rq[W.nreqs++] = q;
    }
    compare(&W, now);
    cv_match *ms;
    size_t n;
    assert_int_equal(cv_matcher_request_matches(W.w, W.reqs[1].id, now, 0, &ms, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_true(ms[0].detour_ds == 0);
    free(ms);
    /* booked and accepted: its stops go after the Wednesday passenger's in the sequence */
    cv_booking b;
    assert_int_equal(cv_matcher_book(W.w, o.id, W.reqs[1].id, now, &b, &err), 0);
    if (cv_matcher_accept(W.w, b.id, now, &err))
        fail_msg("%s", err.text);
    cv_stop *st;
    assert_int_equal(cv_store_offer_stops(cv_matcher_store(W.w), o.id, &st, &n, &err), 0);
    assert_int_equal(n, 6);
    assert_int_equal(st[3].booking_id, b.id);
    assert_int_equal(st[3].kind, CV_STOP_PICKUP);
    free(st);
    world_free(&W, db);
    hand_close(g, "oracle_later");
}

static int setup(void **state)
{
    (void)state;
    monaco = tst_build_graph(COVOIT_TEST_DATA "/monaco.osm.pbf", "matcher_oracle_monaco.cvg");
    return monaco ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char p[1024];
    cv_graph_close(monaco);
    snprintf(p, sizeof p, "%s/matcher_oracle_monaco.cvg", COVOIT_TMP);
    unlink(p);
    return cv_tz_set(NULL, NULL);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rounds") && i + 1 < argc && atoi(argv[i + 1]) > 0) {
            rounds = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: test_matcher_oracle [--rounds N]\n");
            return 2;
        }
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_made_map),   cmocka_unit_test(test_hand_made_riders),
        cmocka_unit_test(test_hand_made_dates), cmocka_unit_test(test_hand_made_later_on_other_dates),
        cmocka_unit_test(test_random_monaco),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
