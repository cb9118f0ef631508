/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* batch.c — the shareability graph and the plans (batch.h): snapping, everyone's trips alone, the driver-passenger
   pairs that hold both ways (found through a grid of homes and a lower bound on the detour before any route is
   asked), each driver's groups of several passengers built from their best pairs (groups.h), the plans chosen
   among them (packing.h) and each carpool's schedule. */
#define _POSIX_C_SOURCE 200809L
#include "batch/batch.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch/packing.h"
#include "routing/ch.h"

#define DEFAULT_PER_KM 0.06
#define CO2_KG_PER_KM 0.218 /* docs/batch.md: ADEME's figure for an average car, per vehicle-km */
#define GRID_CELL_M 1000.0
#define PI 3.14159265358979323846
#define DEFAULT_CANDIDATES 8 /* a driver's groups: from their best this many passengers */
#define MAX_CANDIDATES 16
#define DEFAULT_EXACT_SECONDS 20.0
#define DEFAULT_EXACT_COLUMNS 200000
#define BOUND_SECONDS 20.0 /* the Lagrangian bound's steps, at most */

cv_batch_options cv_batch_defaults(void)
{
    cv_batch_options o = {0};
    o.objective = CV_OBJECTIVE_KM;
    o.max_passengers = 0;
    o.candidates = DEFAULT_CANDIDATES;
    o.exact_seconds = DEFAULT_EXACT_SECONDS;
    o.exact_columns = DEFAULT_EXACT_COLUMNS;
    o.per_km = DEFAULT_PER_KM;
    o.rounding = CV_ROUND_TEN_CENTS;
    o.co2_kg_per_km = CO2_KG_PER_KM;
    return o;
}

static int popcount7(uint8_t d)
{
    int n = 0;
    for (; d; d &= (uint8_t)(d - 1))
        n++;
    return n;
}

static int reachable(cv_cost c)
{
    return c.ds != CV_UNREACHABLE && c.dm != CV_UNREACHABLE;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* 1 feasible; 0 not within the detour limits (or nothing saved); -1 within them but the days or hours do not
   fit. */
static int pair_check(const cv_person *d, const cv_batch_person *dx, const cv_person *p, const cv_batch_person *px,
                      cv_cost dp, cv_cost pd, cv_cost dw, cv_cost ph, int64_t *saved)
{
    if (!reachable(dp) || !reachable(pd) || !reachable(dw) || !reachable(ph))
        return 0;
    int64_t lim_ds, lim_dm, blim_ds, blim_dm;
    cv_group_allowed(d, dx->out, &lim_ds, &lim_dm);
    cv_group_allowed(d, dx->back, &blim_ds, &blim_dm);
    /* outward: d's home, p's home, p's work, d's work */
    int64_t out_ds = (int64_t)dp.ds + px->out.ds + pd.ds, out_dm = (int64_t)dp.dm + px->out.dm + pd.dm;
    int64_t add_ds = out_ds - dx->out.ds, add_dm = out_dm - dx->out.dm;
    /* back: d's work, p's work, p's home, d's home */
    int64_t back_ds = (int64_t)dw.ds + px->back.ds + ph.ds, back_dm = (int64_t)dw.dm + px->back.dm + ph.dm;
    int64_t badd_ds = back_ds - dx->back.ds, badd_dm = back_dm - dx->back.dm;
    if (add_ds > lim_ds || add_dm > lim_dm || badd_ds > blim_ds || badd_dm > blim_dm)
        return 0;
    int64_t saved_day = (int64_t)px->out.dm + px->back.dm - max64(add_dm, 0) - max64(badd_dm, 0);
    if (saved_day <= 0)
        return 0;
    uint8_t days = d->days & p->days;
    if (!days)
        return -1;
    /* outward, seconds: the driver leaves at t; p arrives at work at t + a, d at t + a + b; each within
       [arrive_by - flex, arrive_by]; the latest t that holds */
    int64_t a = ((int64_t)dp.ds + px->out.ds + 5) / 10, b = (out_ds + 5) / 10;
    int64_t lo = max64(p->arrive_by_s - p->flex_s - a, d->arrive_by_s - d->flex_s - b);
    int64_t hi = min64(p->arrive_by_s - a, d->arrive_by_s - b);
    if (lo > hi)
        return -1;
    /* back: the driver leaves work at t2 in [leave_at, leave_at + flex], p is picked up at t2 + w, also within
       its own; the earliest t2 that holds */
    int64_t w = (dw.ds + 5) / 10;
    int64_t lo2 = max64(d->leave_at_s, p->leave_at_s - w),
            hi2 = min64(d->leave_at_s + d->flex_s, p->leave_at_s + p->flex_s - w);
    if (lo2 > hi2)
        return -1;
    if (saved)
        *saved = saved_day * popcount7(days);
    return 1;
}

/* The route from s to t, counted in *asked: with fixed_target, one of a run of sources to the one target t
   (cv_ch_cost_to), else of a run of targets from s (cv_ch_cost). */
static cv_cost route_cost(cv_ch_query *q, const cv_snap *s, const cv_snap *t, int fixed_target, uint64_t *asked)
{
    cv_table_cell cell;
    (*asked)++;
    if (fixed_target ? cv_ch_cost_to(q, s, t, &cell) : cv_ch_cost(q, s, t, &cell))
        return (cv_cost){CV_UNREACHABLE, CV_UNREACHABLE};
    return (cv_cost){cell.duration_ds, cell.distance_dm};
}

static cv_cost cost(cv_ch_query *q, const cv_snap *s, const cv_snap *t, uint64_t *asked)
{
    return route_cost(q, s, t, 0, asked);
}

static cv_cost cost_to(cv_ch_query *q, const cv_snap *s, const cv_snap *t, uint64_t *asked)
{
    return route_cost(q, s, t, 1, asked);
}

/* A uniform grid of the riders' homes. */
typedef struct grid {
    double lon0, lat0, cell_lon, cell_lat;
    int nx, ny;
    uint32_t *first; /* [nx * ny + 1] */
    uint32_t *items;
} grid;

static int cell_of(const grid *g, cv_coord c, int *x, int *y)
{
    *x = (int)floor((cv_deg(c.lon) - g->lon0) / g->cell_lon);
    *y = (int)floor((cv_deg(c.lat) - g->lat0) / g->cell_lat);
    if (*x < 0)
        *x = 0;
    if (*y < 0)
        *y = 0;
    if (*x >= g->nx)
        *x = g->nx - 1;
    if (*y >= g->ny)
        *y = g->ny - 1;
    return 0;
}

static int grid_build(grid *g, const cv_coord *at, size_t n)
{
    double lo_lon = 180, hi_lon = -180, lo_lat = 90, hi_lat = -90;
    for (size_t i = 0; i < n; i++) {
        double x = cv_deg(at[i].lon), y = cv_deg(at[i].lat);
        lo_lon = fmin(lo_lon, x), hi_lon = fmax(hi_lon, x), lo_lat = fmin(lo_lat, y), hi_lat = fmax(hi_lat, y);
    }
    double mid = (lo_lat + hi_lat) / 2 * PI / 180;
    g->cell_lat = GRID_CELL_M / 111195.0;
    g->cell_lon = GRID_CELL_M / (111195.0 * fmax(cos(mid), 0.01));
    g->lon0 = lo_lon, g->lat0 = lo_lat;
    g->nx = (int)((hi_lon - lo_lon) / g->cell_lon) + 1;
    g->ny = (int)((hi_lat - lo_lat) / g->cell_lat) + 1;
    if (g->nx > 4096)
        g->cell_lon *= g->nx / 4096.0, g->nx = 4096;
    if (g->ny > 4096)
        g->cell_lat *= g->ny / 4096.0, g->ny = 4096;
    size_t cells = (size_t)g->nx * (size_t)g->ny;
    g->first = calloc(cells + 1, sizeof *g->first);
    g->items = malloc((n ? n : 1) * sizeof *g->items);
    if (!g->first || !g->items)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int x, y;
        cell_of(g, at[i], &x, &y);
        g->first[(size_t)y * g->nx + x + 1]++;
    }
    for (size_t c = 0; c < cells; c++)
        g->first[c + 1] += g->first[c];
    uint32_t *fill = malloc((cells + 1) * sizeof *fill);
    if (!fill)
        return -1;
    memcpy(fill, g->first, (cells + 1) * sizeof *fill);
    for (size_t i = 0; i < n; i++) {
        int x, y;
        cell_of(g, at[i], &x, &y);
        g->items[fill[(size_t)y * g->nx + x]++] = (uint32_t)i;
    }
    free(fill);
    return 0;
}

/* A rider in reach of the driver being looked at, and the legs routed so far. */
typedef struct cand {
    uint32_t p;
    cv_cost dp, pd, dw, ph;
    int64_t saved_dm; /* the pair's, when it holds */
} cand;

/* The carpools found (the columns of packing.h). */
typedef struct columns {
    cv_column *v;
    size_t n, cap;
} columns;

static int columns_add(columns *cs, const cv_column *x)
{
    if (cs->n == cs->cap) {
        size_t cap = cs->cap ? cs->cap * 2 : 1024;
        cv_column *w = realloc(cs->v, cap * sizeof *w);
        if (!w)
            return -1;
        cs->v = w, cs->cap = cap;
    }
    cs->v[cs->n++] = *x;
    return 0;
}

/* By driver, then size, then passengers: the order the greedy rule walks, independent of the threads. */
static int by_column(const void *a, const void *b)
{
    const cv_column *x = a, *y = b;
    if (x->d != y->d)
        return x->d < y->d ? -1 : 1;
    if (x->np != y->np)
        return x->np < y->np ? -1 : 1;
    for (int i = 0; i < x->np; i++)
        if (x->p[i] != y->p[i])
            return x->p[i] < y->p[i] ? -1 : 1;
    return 0;
}

/* --- a driver's group: its places and the legs between them, routed when first asked --- */

#define MAX_POINTS (2 * MAX_CANDIDATES + 2)

typedef struct places {
    cv_ch_query *q;
    uint64_t *routes;
    int npts;
    const cv_snap *pt[MAX_POINTS]; /* 0 the driver's home, 1 work, 2 + 2c candidate c's home, 3 + 2c work */
    cv_cost memo[MAX_POINTS * MAX_POINTS];
    char known[MAX_POINTS * MAX_POINTS];
    int map[2 * CV_GROUP_MAX + 2]; /* the group's places (groups.h) among these */
} places;

static void places_set(places *pl, int a, int b, cv_cost c)
{
    pl->memo[a * MAX_POINTS + b] = c;
    pl->known[a * MAX_POINTS + b] = 1;
}

/* The driver and the candidates px[0..nc), with the legs their own trips give. */
static void places_init(places *pl, const cv_batch_person *dx, const cv_batch_person *const *px, int nc)
{
    pl->npts = 2 + 2 * nc;
    memset(pl->known, 0, (size_t)pl->npts * MAX_POINTS);
    pl->pt[0] = &dx->home, pl->pt[1] = &dx->work;
    for (int c = 0; c < nc; c++) {
        pl->pt[2 + 2 * c] = &px[c]->home, pl->pt[3 + 2 * c] = &px[c]->work;
        places_set(pl, 2 + 2 * c, 3 + 2 * c, px[c]->out);
        places_set(pl, 3 + 2 * c, 2 + 2 * c, px[c]->back);
    }
    pl->map[0] = 0, pl->map[1] = 1;
}

/* The group's members are candidates cand[0..np). */
static void places_group(places *pl, const int *cand, int np)
{
    for (int g = 0; g < np; g++)
        pl->map[2 + 2 * g] = 2 + 2 * cand[g], pl->map[3 + 2 * g] = 3 + 2 * cand[g];
}

/* A leg of the group (cv_group_leg). One into the driver's home or work is asked as one of a run of sources to
   that place, as the pairs' legs are, so that a carpool found and the same carpool scheduled see the same costs. */
static cv_cost places_leg(void *ctx, int from, int to)
{
    places *pl = ctx;
    int a = pl->map[from], b = pl->map[to];
    size_t k = (size_t)a * MAX_POINTS + b;
    if (!pl->known[k]) {
        pl->memo[k] = route_cost(pl->q, pl->pt[a], pl->pt[b], b < 2, pl->routes);
        pl->known[k] = 1;
    }
    return pl->memo[k];
}

static cv_group_member member(const cv_person *p, const cv_batch_person *x)
{
    return (cv_group_member){p, x->out, x->back};
}

static void figures(const cv_person *v, const cv_batch_result *r, const cv_batch_options *o, cv_batch_plan *plan)
{
    double solo = 0, saved = 0;
    size_t passengers = 0;
    for (size_t i = 0; i < r->n; i++)
        solo += popcount7(v[i].days) * ((double)r->people[i].out.dm + r->people[i].back.dm) / 10000.0;
    for (size_t k = 0; k < plan->ncarpools; k++)
        saved += plan->carpools[k].saved_dm / 10000.0, passengers += (size_t)plan->carpools[k].np;
    plan->figures = (cv_plan_figures){plan->ncarpools, passengers, plan->ncarpools + passengers,
                                      saved,           solo,       saved * o->co2_kg_per_km};
}

static int stop_at(const uint8_t *stops, int n, int place)
{
    for (int k = 0; k < n; k++)
        if (stops[k] == place)
            return k;
    return 0;
}

/* The carpool of column col with its schedule: the group's best order each way, its riders in the order they
   are picked up on the way out. -1 when the group does not hold (it was found to). */
static int carpool_of(places *pl, const cv_person *v, const cv_batch_result *r, const cv_batch_options *o,
                      const cv_column *col, cv_carpool *c)
{
    const cv_batch_person *px[CV_GROUP_MAX];
    cv_group_member ms[CV_GROUP_MAX];
    int cand[CV_GROUP_MAX];
    for (int i = 0; i < col->np; i++)
        px[i] = &r->people[col->p[i]], ms[i] = member(&v[col->p[i]], px[i]), cand[i] = i;
    places_init(pl, &r->people[col->d], px, col->np);
    places_group(pl, cand, col->np);
    cv_group_member dm = member(&v[col->d], &r->people[col->d]);
    cv_group_plan gp;
    if (cv_group_eval(&dm, ms, col->np, places_leg, pl, &gp) != 1)
        return -1;
    memset(c, 0, sizeof *c);
    c->driver = col->d;
    c->np = col->np;
    /* riders renumbered by their pickup out */
    int to_new[CV_GROUP_MAX], n = 0;
    for (int k = 0; k < 2 * col->np; k++)
        if (gp.out[k] % 2 == 0)
            to_new[(gp.out[k] - 2) / 2] = n++;
    int64_t all_dm = 0;
    for (int i = 0; i < col->np; i++)
        all_dm += px[i]->out.dm;
    for (int i = 0; i < col->np; i++) {
        cv_carpool_rider *x = &c->riders[to_new[i]];
        x->p = col->p[i];
        x->days = v[col->d].days & v[col->p[i]].days;
        c->days |= x->days;
        x->out_pickup = gp.out_at[stop_at(gp.out, 2 * col->np, 2 + 2 * i)];
        x->out_drop = gp.out_at[stop_at(gp.out, 2 * col->np, 3 + 2 * i)];
        x->back_pickup = gp.back_at[stop_at(gp.back, 2 * col->np, 3 + 2 * i)];
        x->back_drop = gp.back_at[stop_at(gp.back, 2 * col->np, 2 + 2 * i)];
        /* the matcher's rule: their distance and their share of the driver's detour, in proportion to their
           distance (one passenger: the whole detour) */
        int64_t share = all_dm > 0 ? (int64_t)llround((double)gp.out_added.dm * px[i]->out.dm / all_dm) : 0;
        x->contribution = cv_contribution_compute(px[i]->out.dm, share, o->per_km, o->rounding).amount;
    }
    for (int k = 0; k < 2 * col->np; k++) {
        int i = (gp.out[k] - 2) / 2, b = (gp.back[k] - 2) / 2;
        c->out_stops[k] = (uint8_t)(2 + 2 * to_new[i] + gp.out[k] % 2);
        c->back_stops[k] = (uint8_t)(2 + 2 * to_new[b] + gp.back[k] % 2);
    }
    c->out_depart = gp.out_depart, c->out_arrive = gp.out_arrive;
    c->back_depart = gp.back_depart, c->back_arrive = gp.back_arrive;
    c->out_added = gp.out_added, c->back_added = gp.back_added;
    c->saved_dm = col->saved_dm;
    return 0;
}

/* The plan of the columns chosen[0..k), each carpool scheduled. */
static int make_plan(cv_ch_query *q, uint64_t *routes, const cv_person *v, const cv_batch_result *r,
                     const cv_batch_options *o, const columns *cs, const size_t *chosen, size_t k, cv_batch_plan *plan,
                     cv_error *err)
{
    plan->carpools = malloc((k ? k : 1) * sizeof *plan->carpools);
    places *pl = malloc(sizeof *pl);
    if (!plan->carpools || !pl) {
        free(pl);
        return cv_fail(err, CV_ENOMEM, "out of memory");
    }
    pl->q = q, pl->routes = routes;
    for (size_t i = 0; i < k; i++)
        if (carpool_of(pl, v, r, o, &cs->v[chosen[i]], &plan->carpools[i])) {
            free(pl);
            return cv_fail(err, CV_EINVAL, "participant '%s': a carpool found feasible does not hold when scheduled",
                           v[cs->v[chosen[i]].d].id);
        }
    plan->ncarpools = k;
    free(pl);
    return 0;
}

/* --- the shareability graph, its drivers shared out over threads --- */

/* What the threads share (read only but for next) and what each finds. */
typedef struct share_ctx {
    const cv_person *v;
    size_t n;
    const cv_batch_options *o;
    const cv_batch_result *out;
    const grid *gr;
    const cv_xyz *hx, *wx; /* everyone's snapped home and work as vectors (cv_chord_m) */
    atomic_size_t next;    /* the next driver to look at */
    cv_progress *progress;
} share_ctx;

typedef struct share_worker {
    share_ctx *ctx;
    int first; /* the thread that shows progress */
    cv_ch_query *q;
    columns cs;        /* the carpools found: pairs and groups */
    size_t groups;     /* of them, of several passengers */
    char *near, *fits; /* per participant: someone in reach; a feasible pair */
    places *pl;        /* a driver's group's places */
    uint32_t *stamp;   /* [1 << MAX_CANDIDATES]: a group of the driver's candidates (a bit each) was looked at for
                          the driver stamped so */
    uint32_t now;
    char *ok;           /* [1 << MAX_CANDIDATES]: it holds (all its smaller groups too) */
    int64_t *added;     /* [1 << MAX_CANDIDATES]: the driver's added distance, both ways together */
    uint32_t *lists[2]; /* groups of one size that hold, the next size's */
    uint64_t within_bound, routes;
    int rc;
    cv_error err;
} share_worker;

static int by_saving(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->saved_dm != y->saved_dm)
        return x->saved_dm > y->saved_dm ? -1 : 1;
    return x->p < y->p ? -1 : x->p > y->p;
}

/* The carpools of driver di with several passengers, into w: groups of their best candidates fc[0..nf) (the pairs
   that hold, best first), each group holding when each of its groups one passenger smaller holds (so that a
   carpool still holds on a day a member does not travel) and its best order each way keeps everyone's limits and
   windows. Its saving is counted day by day, each day with the passengers who travel then. */
static int driver_groups(share_worker *w, size_t di, cand *fc, size_t nf)
{
    const share_ctx *c = w->ctx;
    const cv_person *v = c->v, *d = &v[di];
    const cv_batch_result *out = c->out;
    int K = c->o->max_passengers > 0 ? c->o->max_passengers : CV_GROUP_MAX;
    if (K > d->seats)
        K = d->seats;
    if (K > CV_GROUP_MAX)
        K = CV_GROUP_MAX;
    if (K < 2 || nf < 2)
        return 0;
    qsort(fc, nf, sizeof *fc, by_saving);
    int L = c->o->candidates < 2 ? 2 : c->o->candidates > MAX_CANDIDATES ? MAX_CANDIDATES : c->o->candidates;
    if ((size_t)L > nf)
        L = (int)nf;
    const cv_batch_person *px[MAX_CANDIDATES];
    cv_group_member ms[MAX_CANDIDATES], dm = member(d, &out->people[di]);
    for (int i = 0; i < L; i++)
        px[i] = &out->people[fc[i].p], ms[i] = member(&v[fc[i].p], px[i]);
    places *pl = w->pl;
    places_init(pl, &out->people[di], px, L);
    for (int i = 0; i < L; i++) {
        places_set(pl, 0, 2 + 2 * i, fc[i].dp);
        places_set(pl, 3 + 2 * i, 1, fc[i].pd);
        places_set(pl, 1, 3 + 2 * i, fc[i].dw);
        places_set(pl, 2 + 2 * i, 0, fc[i].ph);
    }
    if (++w->now == 0) {
        memset(w->stamp, 0, sizeof *w->stamp << MAX_CANDIDATES);
        w->now = 1;
    }
    /* the groups of one: the pairs, as the group rule sees them */
    size_t ncur = 0;
    for (int i = 0; i < L; i++) {
        cv_group_plan gp;
        int cand[1] = {i};
        places_group(pl, cand, 1);
        uint32_t m = 1u << i;
        w->stamp[m] = w->now;
        w->ok[m] = cv_group_eval(&dm, &ms[i], 1, places_leg, pl, &gp) == 1;
        if (w->ok[m]) {
            w->added[m] = (int64_t)gp.out_added.dm + gp.back_added.dm;
            w->lists[0][ncur++] = m;
        }
    }
    int rc = 0;
    for (int size = 2; !rc && size <= K && ncur; size++) {
        size_t nnext = 0;
        for (size_t k = 0; !rc && k < ncur; k++) {
            uint32_t base = w->lists[0][k];
            int top = 31 - __builtin_clz(base);
            for (int j = top + 1; !rc && j < L; j++) {
                uint32_t m = base | 1u << j;
                int holds = 1;
                for (uint32_t rest = m; holds && rest; rest &= rest - 1) {
                    uint32_t sub = m & ~(rest & -rest);
                    holds = w->stamp[sub] == w->now && w->ok[sub];
                }
                w->stamp[m] = w->now;
                w->ok[m] = 0;
                if (!holds)
                    continue;
                int cand[CV_GROUP_MAX], np = 0;
                cv_group_member gm[CV_GROUP_MAX];
                for (uint32_t rest = m; rest; rest &= rest - 1) {
                    int b = __builtin_ctz(rest);
                    cand[np] = b, gm[np++] = ms[b];
                }
                places_group(pl, cand, np);
                cv_group_plan gp;
                if (cv_group_eval(&dm, gm, np, places_leg, pl, &gp) != 1)
                    continue;
                w->added[m] = (int64_t)gp.out_added.dm + gp.back_added.dm;
                /* the week, day by day: who travels, and what that day's group saves */
                int64_t saved = 0;
                for (int day = 0; day < 7; day++) {
                    if (!(d->days >> day & 1))
                        continue;
                    uint32_t r = 0;
                    int64_t own = 0;
                    for (int t = 0; t < np; t++)
                        if (v[fc[cand[t]].p].days >> day & 1)
                            r |= 1u << cand[t], own += (int64_t)px[cand[t]]->out.dm + px[cand[t]]->back.dm;
                    if (r)
                        saved += own - w->added[r];
                }
                if (saved <= 0)
                    continue;
                w->ok[m] = 1;
                w->lists[1][nnext++] = m;
                cv_column col = {(uint32_t)di, {0, 0, 0, 0}, (uint8_t)np, saved};
                for (int t = 0; t < np; t++)
                    col.p[t] = fc[cand[t]].p;
                if (columns_add(&w->cs, &col))
                    rc = cv_fail(&w->err, CV_ENOMEM, "out of memory");
                w->groups++;
            }
        }
        uint32_t *swap = w->lists[0];
        w->lists[0] = w->lists[1], w->lists[1] = swap;
        ncur = nnext;
    }
    return rc;
}

/* The feasible pairs of driver di into w (its riders in reach first, then their legs, one leg at a time), then
   its groups. */
static int driver_pairs(share_worker *w, size_t di, cand **csp, size_t *cap_c)
{
    const share_ctx *c = w->ctx;
    const cv_person *v = c->v;
    const cv_batch_result *out = c->out;
    const grid *gr = c->gr;
    cv_ch_query *q = w->q;
    char *near = w->near, *fits = w->fits;
    cand *cs = *csp;
    size_t nc = 0;
    int rc = 0;
    const cv_person *d = &v[di];
    const cv_batch_person *dx = &out->people[di];
    if (!cv_person_drives(d))
        return 0;
    int64_t lim_ds, lim_dm, blim_ds, blim_dm;
    cv_group_allowed(d, dx->out, &lim_ds, &lim_dm);
    cv_group_allowed(d, dx->back, &blim_ds, &blim_dm);
    double reach_m = (lim_dm + (int64_t)dx->out.dm) / 10.0; /* the rider's home is within this of d's */
    int x0, y0, x1, y1;
    double dlat = reach_m / 111195.0, dlon = reach_m / (111195.0 * fmax(cos(cv_deg(d->home.lat) * PI / 180), 0.01));
    cv_coord dh = dx->home.location;
    cell_of(gr, (cv_coord){cv_fixed(cv_deg(dh.lon) - dlon), cv_fixed(cv_deg(dh.lat) - dlat)}, &x0, &y0);
    cell_of(gr, (cv_coord){cv_fixed(cv_deg(dh.lon) + dlon), cv_fixed(cv_deg(dh.lat) + dlat)}, &x1, &y1);
    for (int y = y0; !rc && y <= y1; y++)
        for (int x = x0; !rc && x <= x1; x++) {
            size_t cell = (size_t)y * gr->nx + x;
            for (uint32_t k = gr->first[cell]; !rc && k < gr->first[cell + 1]; k++) {
                uint32_t pi = gr->items[k];
                const cv_person *p = &v[pi];
                const cv_batch_person *px = &out->people[pi];
                if (pi == di || !cv_person_rides(p))
                    continue;
                /* the driver's added distance is at least the straight lines to the rider's home and from the
                   rider's work (roads between snapped points are never shorter; the chords through the Earth, which
                   are shorter still and cost no trigonometry), plus the rider's own route, minus the driver's */
                double to_p = 10.0 * cv_chord_m(c->hx[di], c->hx[pi]);
                double from_p = 10.0 * cv_chord_m(c->wx[pi], c->wx[di]);
                if (to_p + from_p + px->out.dm - dx->out.dm > lim_dm)
                    continue;
                w->within_bound++;
                /* within reach: the days and the hours that can never fit, before any route. Out, the driver
                   reaches work after the rider, by the leg from the rider's work to the driver's, which the
                   detour's limit caps (the whole way out, less the rider's own route); back, the driver reaches the
                   rider's work after leaving their own, by a leg the limit caps likewise */
                int64_t leg_out_s = (lim_ds + (int64_t)dx->out.ds - px->out.ds) / 10 + 1;
                int64_t leg_back_s = (blim_ds + (int64_t)dx->back.ds - px->back.ds) / 10 + 1;
                if (!(d->days & p->days) || p->arrive_by_s - p->flex_s > d->arrive_by_s ||
                    d->arrive_by_s - d->flex_s > p->arrive_by_s + leg_out_s ||
                    d->leave_at_s > p->leave_at_s + p->flex_s ||
                    p->leave_at_s > d->leave_at_s + d->flex_s + leg_back_s) {
                    near[di] = near[pi] = 1;
                    continue;
                }
                /* the routes one leg at a time, each checked against the bound it tightens; first the one from
                   the driver's home, for every rider in reach (the driver's label is combined once) */
                cv_cost dp = cost(q, &dx->home, &px->home, &w->routes);
                if (!reachable(dp) || (int64_t)dp.dm + from_p + px->out.dm - dx->out.dm > lim_dm ||
                    (int64_t)dp.ds + px->out.ds - dx->out.ds > lim_ds)
                    continue;
                if (nc == *cap_c) {
                    size_t cap = *cap_c ? *cap_c * 2 : 256;
                    cand *grown = realloc(cs, cap * sizeof *grown);
                    if (!grown) {
                        rc = cv_fail(&w->err, CV_ENOMEM, "out of memory");
                        break;
                    }
                    cs = grown, *cap_c = cap;
                }
                cs[nc++] = (cand){pi, dp, {0, 0}, {0, 0}, {0, 0}, 0};
            }
        }
    *csp = cs;
    /* then the rider's work to the driver's (the whole way out; the driver's work's label combined once for all),
       the driver's work to the rider's (likewise), the rider's home to the driver's (likewise), and the rules */
    size_t kept = 0;
    for (size_t k = 0; !rc && k < nc; k++) {
        const cv_batch_person *px = &out->people[cs[k].p];
        cv_cost pd = cost_to(q, &px->work, &dx->work, &w->routes), dp = cs[k].dp;
        if (!reachable(pd) || (int64_t)dp.dm + px->out.dm + pd.dm - dx->out.dm > lim_dm ||
            (int64_t)dp.ds + px->out.ds + pd.ds - dx->out.ds > lim_ds)
            continue;
        cs[k].pd = pd;
        cs[kept++] = cs[k];
    }
    for (size_t k = 0; !rc && k < kept; k++)
        cs[k].dw = cost(q, &dx->work, &out->people[cs[k].p].work, &w->routes);
    size_t feasible = 0;
    for (size_t k = 0; !rc && k < kept; k++) {
        uint32_t pi = cs[k].p;
        const cv_batch_person *px = &out->people[pi];
        cs[k].ph = cost_to(q, &px->home, &dx->home, &w->routes);
        cv_column col = {(uint32_t)di, {pi, 0, 0, 0}, 1, 0};
        int ok = pair_check(d, dx, &v[pi], px, cs[k].dp, cs[k].pd, cs[k].dw, cs[k].ph, &col.saved_dm);
        if (ok)
            near[di] = near[pi] = 1;
        if (ok == 1) {
            fits[di] = fits[pi] = 1;
            cs[k].saved_dm = col.saved_dm;
            cs[feasible++] = cs[k];
            if (columns_add(&w->cs, &col))
                rc = cv_fail(&w->err, CV_ENOMEM, "out of memory");
        }
    }
    if (!rc)
        rc = driver_groups(w, di, cs, feasible);
    return rc;
}

#define SHARE_CHUNK 16 /* drivers a thread takes at a time */

static void *share_main(void *arg)
{
    share_worker *w = arg;
    share_ctx *c = w->ctx;
    cand *cs = NULL; /* a driver's riders in reach, as their legs are routed */
    size_t cap_c = 0;
    while (!w->rc) {
        size_t from = atomic_fetch_add(&c->next, SHARE_CHUNK);
        if (from >= c->n)
            break;
        for (size_t di = from; !w->rc && di < from + SHARE_CHUNK && di < c->n; di++)
            w->rc = driver_pairs(w, di, &cs, &cap_c);
        if (w->first && c->progress)
            cv_progress_update(c->progress, from + SHARE_CHUNK < c->n ? from + SHARE_CHUNK : c->n, c->n);
    }
    free(cs);
    return NULL;
}

/* The feasible carpools of the population into *cs (pairs and groups), and near and fits marked, with one thread per
   core (each with its own search workspace; the pairs are sorted afterwards, so the result does not depend on how the
   drivers fell). */
static int shareability(const cv_graph *g, const cv_person *v, size_t n, const cv_batch_options *o,
                        cv_batch_result *out, const grid *gr, char *near, char *fits, cv_progress *progress,
                        columns *cs, cv_error *err)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int nt = o->threads > 0 ? o->threads : cores > 0 ? (int)cores : 1;
    if (nt > 64)
        nt = 64;
    share_ctx c = {v, n, o, out, gr, NULL, NULL, 0, progress};
    cv_xyz *hx = malloc((n ? n : 1) * sizeof *hx), *wx = malloc((n ? n : 1) * sizeof *wx);
    for (size_t i = 0; hx && wx && i < n; i++)
        hx[i] = cv_xyz_of(out->people[i].home.location), wx[i] = cv_xyz_of(out->people[i].work.location);
    c.hx = hx, c.wx = wx;
    share_worker *w = calloc((size_t)nt, sizeof *w);
    pthread_t *th = calloc((size_t)nt, sizeof *th);
    int rc = w && th && hx && wx ? 0 : cv_fail(err, CV_ENOMEM, "out of memory");
    int started = 0;
    for (int t = 0; !rc && t < nt; t++) {
        w[t].ctx = &c;
        w[t].first = t == 0;
        w[t].q = cv_ch_query_new(g);
        w[t].near = t ? calloc(n ? n : 1, 1) : near;
        w[t].fits = t ? calloc(n ? n : 1, 1) : fits;
        w[t].pl = malloc(sizeof *w[t].pl);
        w[t].stamp = calloc((size_t)1 << MAX_CANDIDATES, sizeof *w[t].stamp);
        w[t].ok = malloc((size_t)1 << MAX_CANDIDATES);
        w[t].added = malloc(sizeof *w[t].added << MAX_CANDIDATES);
        w[t].lists[0] = malloc(sizeof *w[t].lists[0] << MAX_CANDIDATES);
        w[t].lists[1] = malloc(sizeof *w[t].lists[1] << MAX_CANDIDATES);
        if (w[t].pl)
            w[t].pl->q = w[t].q, w[t].pl->routes = &w[t].routes;
        if (!w[t].q || !w[t].near || !w[t].fits || !w[t].pl || !w[t].stamp || !w[t].ok || !w[t].added ||
            !w[t].lists[0] || !w[t].lists[1])
            rc = cv_fail(err, CV_ENOMEM, "out of memory");
        else if (o->labels && cv_ch_use_labels(w[t].q, o->labels))
            rc = cv_fail(err, CV_EINVAL, "the hub labels are not this graph's");
    }
    for (int t = 1; !rc && t < nt; t++)
        if (pthread_create(&th[t], NULL, share_main, &w[t]))
            break;
        else
            started = t;
    if (!rc)
        share_main(&w[0]);
    for (int t = 1; t <= started; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; w && t < nt; t++) {
        if (!rc && w[t].rc)
            rc = w[t].rc, *err = w[t].err;
        out->within_bound += w[t].within_bound;
        out->routes += w[t].routes;
        for (size_t i = 0; t && w[t].near && w[t].fits && i < n; i++)
            near[i] |= w[t].near[i], fits[i] |= w[t].fits[i];
        out->groups += w[t].groups;
        if (!rc && w[t].cs.n) {
            cv_column *grown = realloc(cs->v, (cs->n + w[t].cs.n) * sizeof *grown);
            if (!grown) {
                rc = cv_fail(err, CV_ENOMEM, "out of memory");
            } else {
                memcpy(grown + cs->n, w[t].cs.v, w[t].cs.n * sizeof *grown);
                cs->v = grown, cs->n += w[t].cs.n, cs->cap = cs->n;
            }
        }
        free(w[t].cs.v);
        if (t)
            free(w[t].near), free(w[t].fits);
        free(w[t].pl), free(w[t].stamp), free(w[t].ok), free(w[t].added), free(w[t].lists[0]), free(w[t].lists[1]);
        cv_ch_query_free(w[t].q);
    }
    free(w), free(th), free(hx), free(wx);
    return rc;
}

static cv_pack_goal goal_of(const cv_batch_options *o)
{
    return o->objective == CV_OBJECTIVE_MATCHED ? CV_PACK_MATCHED : CV_PACK_KM;
}

/* The best plan of the columns into chosen[0..*k): with pairs only, the maximum-weight matching (exact); with
   groups, the better of the matching and of a Lagrangian heuristic, each improved by exchanges, with the
   Lagrangian bound; then the integer program, seeded with it, while the instance is small enough (exact when it
   finishes within its time). out's method, proven_optimal and upper_bound (in the objective's first figure: dm of
   km saved, or participants) set. */
static int solve(const columns *cs, size_t n, const cv_batch_options *o, const size_t *greedy, size_t kg,
                 cv_batch_result *out, size_t *chosen, size_t *k, cv_error *err)
{
    cv_pack_goal goal = goal_of(o);
    int rc = cv_pack_matching(cs->v, cs->n, n, goal, chosen, k, err);
    if (rc)
        return rc;
    if (!out->groups) {
        snprintf(out->method, sizeof out->method, "%s",
                 "maximum-weight matching of the shareability graph (LEMON), exact");
        out->proven_optimal = 1;
        return 0;
    }
    if ((rc = cv_pack_improve(cs->v, cs->n, n, goal, chosen, k, err)))
        return rc;
    double value = 0;
    for (size_t j = 0; j < *k; j++)
        value += cv_column_primary(&cs->v[chosen[j]], goal);
    /* the Lagrangian bound, and from its prices a second plan, improved the same way: the better one stays */
    double *prices = malloc((n ? n : 1) * sizeof *prices);
    size_t *other = malloc((n ? n : 1) * sizeof *other), k2 = 0;
    if (!prices || !other) {
        free(prices), free(other);
        return cv_fail(err, CV_ENOMEM, "out of memory");
    }
    out->upper_bound = cv_pack_bound(cs->v, cs->n, n, goal, value, BOUND_SECONDS, prices);
    rc = cv_pack_priced(cs->v, cs->n, n, goal, prices, other, &k2, err);
    if (!rc)
        rc = cv_pack_improve(cs->v, cs->n, n, goal, other, &k2, err);
    int64_t a = 0, b = 0;
    for (size_t j = 0; !rc && j < *k; j++)
        a += cv_column_weight(&cs->v[chosen[j]], goal);
    for (size_t j = 0; !rc && j < k2; j++)
        b += cv_column_weight(&cs->v[other[j]], goal);
    int priced = !rc && b > a;
    if (priced) {
        memcpy(chosen, other, k2 * sizeof *other);
        *k = k2;
        a = b;
    }
    /* and the greedy plan improved likewise, so that the plan is never below the greedy rule's */
    memcpy(other, greedy, kg * sizeof *greedy);
    k2 = kg;
    if (!rc)
        rc = cv_pack_improve(cs->v, cs->n, n, goal, other, &k2, err);
    b = 0;
    for (size_t j = 0; !rc && j < k2; j++)
        b += cv_column_weight(&cs->v[other[j]], goal);
    int from_greedy = !rc && b > a;
    if (from_greedy) {
        memcpy(chosen, other, k2 * sizeof *other);
        *k = k2;
    }
    free(prices), free(other);
    if (rc)
        return rc;
    const char *heuristic =
        from_greedy ? "the greedy plan improved by exchanges of carpools, better than LEMON's maximum-weight matching "
                      "of the pairs and a Lagrangian heuristic improved likewise"
        : priced    ? "a Lagrangian heuristic (carpools taken by their worth beyond the bound's prices) improved by "
                      "exchanges of carpools, better than LEMON's maximum-weight matching of the pairs and the greedy "
                      "plan improved likewise"
                    : "LEMON's maximum-weight matching of the pairs improved by exchanges of carpools, better than a "
                      "Lagrangian heuristic and the greedy plan improved likewise";
    if (cs->n <= o->exact_columns) {
        cv_pack_exact_result ex;
        if ((rc = cv_pack_exact(cs->v, cs->n, n, goal, o->exact_seconds, chosen, k, &ex, err)))
            return rc;
        if (ex.proven) {
            snprintf(out->method, sizeof out->method, "%s",
                     "integer program over every feasible carpool (GLPK branch and cut), exact");
            out->proven_optimal = 1;
            return 0;
        }
        if (ex.solved) {
            snprintf(out->method, sizeof out->method,
                     "%s, then the integer program over every feasible carpool (GLPK branch and cut) stopped at its "
                     "time limit%s; bound: the least of the Lagrangian relaxation's and the program's",
                     heuristic, ex.improved ? " with a better plan" : "");
            if (ex.bound < out->upper_bound)
                out->upper_bound = ex.bound;
            return 0;
        }
    }
    snprintf(out->method, sizeof out->method, "%s; bound: Lagrangian relaxation", heuristic);
    return 0;
}

/* Snaps p's place (home: 1, work: 0) where a car may stop; CV_ENOSEGMENT naming its line and column. */
static int snap_place(const cv_graph *g, const cv_person *p, int home, cv_snap *out, cv_error *err)
{
    cv_snap_options so = cv_snap_defaults();
    so.stop_only = 1;
    cv_error e = {0};
    if (cv_snap_point(g, home ? p->home : p->work, &so, out, &e))
        return cv_fail(err, CV_ENOSEGMENT,
                       "line %d: participant '%s': the %s (%.6f,%.6f) is not near a road a car may "
                       "stop on (within %.0f m)",
                       p->line, p->id, home ? "home" : "work", cv_deg((home ? p->home : p->work).lon),
                       cv_deg((home ? p->home : p->work).lat), CV_SNAP_DEFAULT_MAX_M);
    return 0;
}

int cv_batch_run(const cv_graph *g, const cv_person *v, size_t n, const cv_batch_options *o, cv_progress *progress,
                 cv_batch_result *out, cv_error *err)
{
    memset(out, 0, sizeof *out);
    if (o->max_passengers < 0 || o->max_passengers > CV_GROUP_MAX)
        return cv_fail(err, CV_EINVAL, "--max-passengers %d: from 1 to %d (0: the car's seats, up to %d)",
                       o->max_passengers, CV_GROUP_MAX, CV_GROUP_MAX);
    double t0 = cv_now();
    out->n = n;
    out->people = calloc(n ? n : 1, sizeof *out->people);
    cv_ch_query *q = cv_ch_query_new(g);
    int rc = 0;
    if (!out->people || !q)
        rc = cv_fail(err, CV_ENOMEM, "out of memory");
    if (!rc && o->labels && cv_ch_use_labels(q, o->labels))
        rc = cv_fail(err, CV_EINVAL, "the hub labels are not this graph's");
    /* everyone's places and trips alone */
    if (progress)
        cv_progress_phase(progress, "trips alone");
    for (size_t i = 0; !rc && i < n; i++) {
        cv_batch_person *x = &out->people[i];
        x->carpool = -1;
        if ((rc = snap_place(g, &v[i], 1, &x->home, err)) || (rc = snap_place(g, &v[i], 0, &x->work, err)))
            break;
        x->out = cost(q, &x->home, &x->work, &out->routes);
        x->back = cost(q, &x->work, &x->home, &out->routes);
        if (!reachable(x->out) || !reachable(x->back))
            rc = cv_fail(err, CV_ENOROUTE, "line %d: participant '%s': no road route between home and work", v[i].line,
                         v[i].id);
        if (progress)
            cv_progress_update(progress, i + 1, n);
    }
    /* the pairs: riders whose home is within reach of a driver's, under a lower bound on the detour (straight
       lines to and from the rider's places, the rider's own road route between them) before any route is asked */
    grid gr = {0};
    columns cs = {0};
    char *near = calloc(n ? n : 1, 1), *fits = calloc(n ? n : 1, 1);
    size_t *chosen = malloc((n ? n : 1) * sizeof *chosen), k = 0;
    size_t *greedy = malloc((n ? n : 1) * sizeof *greedy), kg = 0;
    cv_coord *homes = malloc((n ? n : 1) * sizeof *homes);
    for (size_t i = 0; !rc && homes && i < n; i++)
        homes[i] = out->people[i].home.location;
    if (!rc && (!homes || grid_build(&gr, homes, n) || !near || !fits || !chosen || !greedy))
        rc = cv_fail(err, CV_ENOMEM, "out of memory");
    free(homes);
    if (!rc && progress)
        cv_progress_phase(progress, "shareability");
    double t1 = cv_now();
    if (!rc)
        rc = shareability(g, v, n, o, out, &gr, near, fits, progress, &cs, err);
    out->share_s = cv_now() - t1;
    free(gr.first), free(gr.items);
    if (!rc) {
        if (progress)
            cv_progress_phase(progress, "optimal plan");
        if (cs.n)
            qsort(cs.v, cs.n, sizeof *cs.v, by_column);
        out->pairs = cs.n - out->groups;
        /* the greedy rule first: the report's comparison, and one of the plans the optimum starts from */
        rc = cv_pack_greedy(cs.v, cs.n, n, goal_of(o), greedy, &kg, err);
        t1 = cv_now();
        if (!rc)
            rc = solve(&cs, n, o, greedy, kg, out, chosen, &k, err);
        out->exact_s = cv_now() - t1;
    }
    if (!rc)
        rc = make_plan(q, &out->routes, v, out, o, &cs, chosen, k, &out->optimal, err);
    if (!rc)
        rc = make_plan(q, &out->routes, v, out, o, &cs, greedy, kg, &out->greedy, err);
    cv_ch_query_free(q);
    if (!rc) {
        for (size_t j = 0; j < out->optimal.ncarpools; j++) {
            const cv_carpool *c = &out->optimal.carpools[j];
            out->people[c->driver].carpool = (int)j;
            out->people[c->driver].driver = 1;
            for (int t = 0; t < c->np; t++)
                out->people[c->riders[t].p].carpool = (int)j;
        }
        for (size_t i = 0; i < n; i++)
            out->people[i].why = out->people[i].carpool >= 0 ? CV_WHY_MATCHED
                                 : fits[i]                   ? CV_WHY_TAKEN
                                 : near[i]                   ? CV_WHY_TIMES
                                                             : CV_WHY_NO_ONE_NEAR;
        figures(v, out, o, &out->optimal);
        figures(v, out, o, &out->greedy);
        if (o->objective == CV_OBJECTIVE_KM)
            out->upper_bound /= 10000.0; /* dm to km */
        double value =
            o->objective == CV_OBJECTIVE_KM ? out->optimal.figures.km_saved_week : (double)out->optimal.figures.matched;
        if (out->proven_optimal || out->upper_bound < value)
            out->upper_bound = value;
        out->seconds = cv_now() - t0;
        if (progress)
            cv_progress_done(progress);
    }
    free(cs.v), free(near), free(fits), free(chosen), free(greedy);
    if (rc)
        cv_batch_result_free(out);
    return rc;
}

void cv_batch_result_free(cv_batch_result *r)
{
    if (!r)
        return;
    free(r->people);
    free(r->optimal.carpools);
    free(r->greedy.carpools);
    memset(r, 0, sizeof *r);
}
