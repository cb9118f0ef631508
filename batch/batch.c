/* batch.c — the shareability graph and the plans (batch.h): snapping, everyone's trips alone, the driver-passenger
   pairs that hold both ways (found through a grid of homes and a lower bound on the detour before any route is
   asked), the exact optimum (matching.h) and the greedy plan. */
#define _POSIX_C_SOURCE 200809L
#include "batch/batch.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch/matching.h"
#include "routing/ch.h"

#define DEFAULT_PER_KM 0.06
#define CO2_KG_PER_KM 0.218 /* docs/batch.md: ADEME's figure for an average car, per vehicle-km */
#define GRID_CELL_M 1000.0
#define PI 3.14159265358979323846
#define MATCHED_WEIGHT 1000000000000LL /* per pair with --objective matched: more than any total of km */

cv_batch_options cv_batch_defaults(void)
{
    cv_batch_options o = {0};
    o.objective = CV_OBJECTIVE_KM;
    o.max_passengers = 1;
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

/* The driver's allowed added duration (ds) and distance (dm) on a trip of cost own. */
static void allowed(const cv_person *d, cv_cost own, int64_t *ds, int64_t *dm)
{
    double pct = d->max_detour_pct >= 0 ? d->max_detour_pct : CV_PERSON_DEFAULT_PCT;
    *ds = (int64_t)floor(pct / 100.0 * own.ds);
    *dm = (int64_t)floor(pct / 100.0 * own.dm);
    if (d->max_detour_s >= 0 && *ds > (int64_t)d->max_detour_s * 10)
        *ds = (int64_t)d->max_detour_s * 10;
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
                      cv_cost dp, cv_cost pd, cv_cost dw, cv_cost ph, const cv_batch_options *o, cv_carpool *c)
{
    if (!reachable(dp) || !reachable(pd) || !reachable(dw) || !reachable(ph))
        return 0;
    int64_t lim_ds, lim_dm, blim_ds, blim_dm;
    allowed(d, dx->out, &lim_ds, &lim_dm);
    allowed(d, dx->back, &blim_ds, &blim_dm);
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
    if (c) {
        memset(c, 0, sizeof *c);
        c->days = days;
        c->out_depart = hi;
        c->out_pickup = hi + (dp.ds + 5) / 10;
        c->out_drop = hi + a;
        c->out_arrive = hi + b;
        c->back_depart = lo2;
        c->back_pickup = lo2 + w;
        c->back_drop = lo2 + ((int64_t)dw.ds + px->back.ds + 5) / 10;
        c->back_arrive = lo2 + (back_ds + 5) / 10;
        c->out_added = (cv_cost){(uint32_t)max64(add_ds, 0), (uint32_t)max64(add_dm, 0)};
        c->back_added = (cv_cost){(uint32_t)max64(badd_ds, 0), (uint32_t)max64(badd_dm, 0)};
        c->saved_dm = saved_day * popcount7(days);
        c->contribution = cv_contribution_compute(px->out.dm, max64(add_dm, 0), o->per_km, o->rounding).amount;
    }
    return 1;
}

int cv_batch_pair(const cv_person *d, const cv_batch_person *dx, const cv_person *p, const cv_batch_person *px,
                  cv_cost dp, cv_cost pd, cv_cost dw, cv_cost ph, const cv_batch_options *o, cv_carpool *c)
{
    return pair_check(d, dx, p, px, dp, pd, dw, ph, o, c) == 1;
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
    cv_cost dp, pd, dw;
} cand;

/* A directed pair: driver d carries passenger p. */
typedef struct pair {
    uint32_t d, p;
    cv_carpool c;
} pair;

typedef struct pairs {
    pair *v;
    size_t n, cap;
} pairs;

static int pairs_add(pairs *ps, const pair *x)
{
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 1024;
        pair *w = realloc(ps->v, cap * sizeof *w);
        if (!w)
            return -1;
        ps->v = w, ps->cap = cap;
    }
    ps->v[ps->n++] = *x;
    return 0;
}

static int64_t pair_weight(const cv_batch_options *o, const cv_carpool *c)
{
    return o->objective == CV_OBJECTIVE_MATCHED ? MATCHED_WEIGHT + c->saved_dm : c->saved_dm;
}

static void figures(const cv_person *v, const cv_batch_result *r, const cv_batch_options *o, cv_batch_plan *plan)
{
    double solo = 0, saved = 0;
    for (size_t i = 0; i < r->n; i++)
        solo += popcount7(v[i].days) * ((double)r->people[i].out.dm + r->people[i].back.dm) / 10000.0;
    for (size_t k = 0; k < plan->ncarpools; k++)
        saved += plan->carpools[k].saved_dm / 10000.0;
    plan->figures = (cv_plan_figures){plan->ncarpools, 2 * plan->ncarpools, saved, solo, saved * o->co2_kg_per_km};
}

/* The plan of pairs chosen[0..k) (indices into ps). */
static int make_plan(const pairs *ps, const size_t *chosen, size_t k, cv_batch_plan *plan)
{
    plan->carpools = malloc((k ? k : 1) * sizeof *plan->carpools);
    if (!plan->carpools)
        return -1;
    for (size_t i = 0; i < k; i++) {
        plan->carpools[i] = ps->v[chosen[i]].c;
        plan->carpools[i].driver = ps->v[chosen[i]].d;
        plan->carpools[i].passenger = ps->v[chosen[i]].p;
    }
    plan->ncarpools = k;
    return 0;
}

static int by_pair(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    uint32_t xa = x->d < x->p ? x->d : x->p, xb = x->d < x->p ? x->p : x->d;
    uint32_t ya = y->d < y->p ? y->d : y->p, yb = y->d < y->p ? y->p : y->d;
    if (xa != ya)
        return xa < ya ? -1 : 1;
    if (xb != yb)
        return xb < yb ? -1 : 1;
    return x->d < y->d ? -1 : x->d > y->d;
}

/* Whether x and y pair the same two people (either way round). */
static int same_people(const pair *x, const pair *y)
{
    return (x->d == y->d && x->p == y->p) || (x->d == y->p && x->p == y->d);
}

/* The optimum: a maximum-weight matching of the people by their pairs, each pair of people by its better
   direction. */
static int solve_exact(const pairs *ps, size_t n, const cv_batch_options *o, cv_batch_plan *plan, cv_error *err)
{
    cv_wedge *e = malloc((ps->n ? ps->n : 1) * sizeof *e);
    size_t *best = malloc((ps->n ? ps->n : 1) * sizeof *best);
    int64_t *mate = malloc((n ? n : 1) * sizeof *mate);
    size_t m = 0;
    int rc = 0;
    if (!e || !best || !mate)
        rc = cv_fail(err, CV_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < ps->n;) {
        size_t j = i, top = i;
        while (j < ps->n && same_people(&ps->v[i], &ps->v[j])) {
            if (pair_weight(o, &ps->v[j].c) > pair_weight(o, &ps->v[top].c))
                top = j;
            j++;
        }
        e[m] = (cv_wedge){ps->v[top].d, ps->v[top].p, pair_weight(o, &ps->v[top].c)};
        best[m++] = top;
        i = j;
    }
    if (!rc && cv_max_weight_matching(n, e, m, mate, NULL))
        rc = cv_fail(err, CV_ENOMEM, "the matching solver ran out of memory");
    size_t k = 0;
    for (size_t i = 0; !rc && i < m; i++)
        if (mate[e[i].a] == (int64_t)e[i].b)
            best[k++] = best[i];
    if (!rc && make_plan(ps, best, k, plan))
        rc = cv_fail(err, CV_ENOMEM, "out of memory");
    free(e), free(best), free(mate);
    return rc;
}

/* The greedy plan: every participant who can drive, in the file's order, not taken yet, takes the passenger not
   taken yet whose ride saves most. */
static int solve_greedy(const pairs *ps, size_t n, const cv_batch_options *o, cv_batch_plan *plan, cv_error *err)
{
    char *taken = calloc(n ? n : 1, 1);
    size_t *first = calloc(n + 1, sizeof *first); /* pairs by driver: ps is sorted by pair, so index them */
    size_t *by_driver = malloc((ps->n ? ps->n : 1) * sizeof *by_driver);
    size_t *chosen = malloc((n ? n : 1) * sizeof *chosen);
    if (!taken || !first || !by_driver || !chosen) {
        free(taken), free(first), free(by_driver), free(chosen);
        return cv_fail(err, CV_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < ps->n; i++)
        first[ps->v[i].d + 1]++;
    for (size_t i = 0; i < n; i++)
        first[i + 1] += first[i];
    size_t *fill = malloc((n + 1) * sizeof *fill);
    if (!fill) {
        free(taken), free(first), free(by_driver), free(chosen);
        return cv_fail(err, CV_ENOMEM, "out of memory");
    }
    memcpy(fill, first, (n + 1) * sizeof *fill);
    for (size_t i = 0; i < ps->n; i++)
        by_driver[fill[ps->v[i].d]++] = i;
    free(fill);
    size_t k = 0;
    for (size_t d = 0; d < n; d++) {
        if (taken[d])
            continue;
        size_t best = SIZE_MAX;
        for (size_t j = first[d]; j < first[d + 1]; j++) {
            const pair *x = &ps->v[by_driver[j]];
            if (!taken[x->p] && (best == SIZE_MAX || pair_weight(o, &x->c) > pair_weight(o, &ps->v[best].c)))
                best = by_driver[j];
        }
        if (best != SIZE_MAX) {
            taken[d] = taken[ps->v[best].p] = 1;
            chosen[k++] = best;
        }
    }
    int rc = make_plan(ps, chosen, k, plan) ? cv_fail(err, CV_ENOMEM, "out of memory") : 0;
    free(taken), free(first), free(by_driver), free(chosen);
    return rc;
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
    pairs ps;
    char *near, *fits; /* per participant: someone in reach; a feasible pair */
    uint64_t within_bound, routes;
    int rc;
    cv_error err;
} share_worker;

/* The feasible pairs of driver di into w (its riders in reach first, then their legs, one leg at a time). */
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
    allowed(d, dx->out, &lim_ds, &lim_dm);
    allowed(d, dx->back, &blim_ds, &blim_dm);
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
                cs[nc++] = (cand){pi, dp, {0, 0}, {0, 0}};
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
    for (size_t k = 0; !rc && k < kept; k++) {
        uint32_t pi = cs[k].p;
        const cv_batch_person *px = &out->people[pi];
        cv_cost ph = cost_to(q, &px->home, &dx->home, &w->routes);
        pair pr = {(uint32_t)di, pi, {0}};
        int ok = pair_check(d, dx, &v[pi], px, cs[k].dp, cs[k].pd, cs[k].dw, ph, c->o, &pr.c);
        if (ok)
            near[di] = near[pi] = 1;
        if (ok == 1) {
            fits[di] = fits[pi] = 1;
            if (pairs_add(&w->ps, &pr))
                rc = cv_fail(&w->err, CV_ENOMEM, "out of memory");
        }
    }
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

/* The feasible pairs of the population into *ps, and near and fits marked, with one thread per core (each with its
   own search workspace; the pairs are sorted afterwards, so the result does not depend on how the drivers fell). */
static int shareability(const cv_graph *g, const cv_person *v, size_t n, const cv_batch_options *o,
                        cv_batch_result *out, const grid *gr, char *near, char *fits, cv_progress *progress, pairs *ps,
                        cv_error *err)
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
        if (!w[t].q || !w[t].near || !w[t].fits)
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
        for (size_t k = 0; !rc && k < w[t].ps.n; k++)
            if (pairs_add(ps, &w[t].ps.v[k]))
                rc = cv_fail(err, CV_ENOMEM, "out of memory");
        free(w[t].ps.v);
        if (t)
            free(w[t].near), free(w[t].fits);
        cv_ch_query_free(w[t].q);
    }
    free(w), free(th), free(hx), free(wx);
    return rc;
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
    if (o->max_passengers != 1)
        return cv_fail(err, CV_EINVAL,
                       "--max-passengers %d: carpools of one driver and one passenger are planned "
                       "so far; give --max-passengers 1",
                       o->max_passengers);
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
    pairs ps = {0};
    char *near = calloc(n ? n : 1, 1), *fits = calloc(n ? n : 1, 1);
    cv_coord *homes = malloc((n ? n : 1) * sizeof *homes);
    for (size_t i = 0; !rc && homes && i < n; i++)
        homes[i] = out->people[i].home.location;
    if (!rc && (!homes || grid_build(&gr, homes, n) || !near || !fits))
        rc = cv_fail(err, CV_ENOMEM, "out of memory");
    free(homes);
    if (!rc && progress)
        cv_progress_phase(progress, "shareability");
    double t1 = cv_now();
    if (!rc)
        rc = shareability(g, v, n, o, out, &gr, near, fits, progress, &ps, err);
    out->share_s = cv_now() - t1;
    free(gr.first), free(gr.items);
    cv_ch_query_free(q);
    if (!rc) {
        if (progress)
            cv_progress_phase(progress, "optimal plan");
        if (ps.n)
            qsort(ps.v, ps.n, sizeof *ps.v, by_pair);
        out->pairs = ps.n;
        t1 = cv_now();
        rc = solve_exact(&ps, n, o, &out->optimal, err);
        out->exact_s = cv_now() - t1;
    }
    if (!rc) {
        if (progress)
            cv_progress_phase(progress, "greedy plan");
        rc = solve_greedy(&ps, n, o, &out->greedy, err);
    }
    if (!rc) {
        for (size_t k = 0; k < out->optimal.ncarpools; k++) {
            const cv_carpool *c = &out->optimal.carpools[k];
            out->people[c->driver].carpool = out->people[c->passenger].carpool = (int)k;
            out->people[c->driver].driver = 1;
        }
        for (size_t i = 0; i < n; i++)
            out->people[i].why = out->people[i].carpool >= 0 ? CV_WHY_MATCHED
                                 : fits[i]                   ? CV_WHY_TAKEN
                                 : near[i]                   ? CV_WHY_TIMES
                                                             : CV_WHY_NO_ONE_NEAR;
        figures(v, out, o, &out->optimal);
        figures(v, out, o, &out->greedy);
        out->proven_optimal = 1;
        out->upper_bound_km = out->optimal.figures.km_saved_week;
        out->seconds = cv_now() - t0;
        if (progress)
            cv_progress_done(progress);
    }
    free(ps.v), free(near), free(fits);
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
