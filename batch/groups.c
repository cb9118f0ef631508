/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* groups.c — a group's best order each way (groups.h): a depth-first walk over the orders of the pickups and
   drop-offs, cut as soon as the legs so far exceed the driver's detour limits (the legs to come only add), each
   complete order checked against everyone's windows. */
#include "batch/groups.h"

#include <math.h>
#include <string.h>

void cv_group_allowed(const cv_person *d, cv_cost own, int64_t *ds, int64_t *dm)
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

/* One way's walk. */
typedef struct walk {
    const cv_group_member *d, *ps;
    int np, back;
    cv_group_leg leg;
    void *ctx;
    int64_t own_ds, own_dm, lim_ds, lim_dm;
    uint8_t seq[2 * CV_GROUP_MAX];
    int64_t cum_ds[2 * CV_GROUP_MAX]; /* deciseconds from the start to each stop */
    int found, hours_failed;
    int64_t best_dm, best_ds, best_t, best_total_ds;
    uint8_t best_seq[2 * CV_GROUP_MAX];
    int64_t best_cum[2 * CV_GROUP_MAX];
} walk;

static int64_t secs(int64_t ds)
{
    return (ds + 5) / 10;
}

/* A complete order: its departure, if one fits everyone's windows. Out, the latest departure that brings every
   member to work within [arrive_by - flex, arrive_by]; back, the earliest the driver may leave work (within
   [leave_at, leave_at + flex]) that has each passenger picked up within their own. */
static int fits(const walk *w, int64_t total_ds, int64_t *t)
{
    const cv_person *d = w->d->p;
    int n = 2 * w->np;
    if (!w->back) {
        int64_t a = secs(total_ds);
        int64_t lo = d->arrive_by_s - d->flex_s - a, hi = d->arrive_by_s - a;
        for (int k = 0; k < n; k++) {
            if (w->seq[k] % 2 == 0)
                continue; /* a pickup */
            const cv_person *p = w->ps[(w->seq[k] - 2) / 2].p;
            int64_t at = secs(w->cum_ds[k]);
            lo = max64(lo, p->arrive_by_s - p->flex_s - at);
            hi = min64(hi, p->arrive_by_s - at);
        }
        *t = hi;
        return lo <= hi;
    }
    int64_t lo = d->leave_at_s, hi = (int64_t)d->leave_at_s + d->flex_s;
    for (int k = 0; k < n; k++) {
        if (w->seq[k] % 2 == 0)
            continue; /* back, the pickups are the workplaces: odd places */
        const cv_person *p = w->ps[(w->seq[k] - 3) / 2].p;
        int64_t at = secs(w->cum_ds[k]);
        lo = max64(lo, p->leave_at_s - at);
        hi = min64(hi, (int64_t)p->leave_at_s + p->flex_s - at);
    }
    *t = lo;
    return lo <= hi;
}

static void step(walk *w, int depth, int last, int64_t ds, int64_t dm, unsigned picked, unsigned dropped)
{
    int end = w->back ? 0 : 1;
    if (depth == 2 * w->np) {
        cv_cost c = w->leg(w->ctx, last, end);
        if (c.ds == CV_UNREACHABLE || c.dm == CV_UNREACHABLE)
            return;
        int64_t add_ds = ds + c.ds - w->own_ds, add_dm = dm + c.dm - w->own_dm, t;
        if (add_ds > w->lim_ds || add_dm > w->lim_dm)
            return;
        if (!fits(w, ds + c.ds, &t)) {
            w->hours_failed = 1;
            return;
        }
        if (w->found && (add_dm > w->best_dm || (add_dm == w->best_dm && add_ds >= w->best_ds)))
            return;
        w->found = 1;
        w->best_dm = add_dm, w->best_ds = add_ds, w->best_t = t, w->best_total_ds = ds + c.ds;
        memcpy(w->best_seq, w->seq, sizeof w->seq);
        memcpy(w->best_cum, w->cum_ds, sizeof w->cum_ds);
        return;
    }
    for (int i = 0; i < w->np; i++) {
        unsigned bit = 1u << i;
        int next;
        if (!(picked & bit))
            next = w->back ? 3 + 2 * i : 2 + 2 * i;
        else if (!(dropped & bit))
            next = w->back ? 2 + 2 * i : 3 + 2 * i;
        else
            continue;
        cv_cost c = w->leg(w->ctx, last, next);
        if (c.ds == CV_UNREACHABLE || c.dm == CV_UNREACHABLE)
            continue;
        int64_t nds = ds + c.ds, ndm = dm + c.dm;
        if (nds - w->own_ds > w->lim_ds || ndm - w->own_dm > w->lim_dm)
            continue; /* the legs to come only add */
        w->seq[depth] = (uint8_t)next;
        w->cum_ds[depth] = nds;
        step(w, depth + 1, next, nds, ndm, picked | bit, (picked & bit) ? dropped | bit : dropped);
    }
}

int cv_group_eval(const cv_group_member *d, const cv_group_member *ps, int np, cv_group_leg leg, void *ctx,
                  cv_group_plan *out)
{
    if (np < 1 || np > CV_GROUP_MAX)
        return 0;
    walk w[2];
    int hours = 0;
    for (int b = 0; b < 2; b++) {
        memset(&w[b], 0, sizeof w[b]);
        w[b].d = d, w[b].ps = ps, w[b].np = np, w[b].back = b, w[b].leg = leg, w[b].ctx = ctx;
        cv_cost own = b ? d->back : d->out;
        w[b].own_ds = own.ds, w[b].own_dm = own.dm;
        cv_group_allowed(d->p, own, &w[b].lim_ds, &w[b].lim_dm);
        step(&w[b], 0, b ? 1 : 0, 0, 0, 0, 0);
        hours |= w[b].hours_failed;
        if (!w[b].found)
            return hours ? -1 : 0;
    }
    if (out) {
        memset(out, 0, sizeof *out);
        out->np = np;
        memcpy(out->out, w[0].best_seq, sizeof out->out);
        memcpy(out->back, w[1].best_seq, sizeof out->back);
        for (int k = 0; k < 2 * np; k++) {
            out->out_at[k] = w[0].best_t + secs(w[0].best_cum[k]);
            out->back_at[k] = w[1].best_t + secs(w[1].best_cum[k]);
        }
        out->out_depart = w[0].best_t;
        out->out_arrive = w[0].best_t + secs(w[0].best_total_ds);
        out->back_depart = w[1].best_t;
        out->back_arrive = w[1].best_t + secs(w[1].best_total_ds);
        out->out_added = (cv_cost){(uint32_t)max64(w[0].best_ds, 0), (uint32_t)max64(w[0].best_dm, 0)};
        out->back_added = (cv_cost){(uint32_t)max64(w[1].best_ds, 0), (uint32_t)max64(w[1].best_dm, 0)};
    }
    return 1;
}
