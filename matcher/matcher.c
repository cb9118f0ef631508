/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* matcher.c — the matching index (offer stops and request points in CH buckets), the matching of a request
   against every offer and of an offer against every request, and the booking flow on top of the store. */
#define _POSIX_C_SOURCE 200809L
#include "matcher/matcher.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "matcher/buckets.h"
#include "routing/ch.h"
#include "routing/route.h"
#include "routing/snap.h"
#include "matcher/timeutil.h"

#define NONE UINT32_MAX
#define STOP_BITS 5 /* offer references: slot << STOP_BITS | stop index (CV_PLAN_MAX_STOPS = 32) */

enum { TO_P = 0, FROM_P = 1, TO_Q = 2, FROM_Q = 3 };

/* An indexed offer. Its per-stop arrays live in one allocation sized for its stops (most offers have two), so
   that 100,000 offers do not cost 100,000 times the largest possible plan. */
/* An indexed offer: every stop it makes on some date (the union of its dates' plans). Its per-stop arrays live in
   one allocation sized for its stops (most offers have two), so that 100,000 offers do not cost 100,000 times the
   largest possible plan. When its passengers do not all ride on all its dates (a regular offer with a passenger
   on Mondays only), its plans differ by date: `varied`, with the cost between any two of its stops, so that one
   date's plan (its stops made that day) is put together when a candidate is evaluated. */
typedef struct offer_slot {
    int used;
    cv_offer o;
    int nstops;
    int varied;
    int64_t version;  /* of the stop sequence in the store (cv_store_offer_plan) */
    cv_snap *snaps;   /* [nstops] */
    double *keys;     /* [nstops] */
    int64_t *rider;   /* [nstops] pickups: the request of the booking, else 0 */
    cv_dates *sdates; /* [nstops] the dates each stop is made (CV_DATES_ALL for the driver's own) */
    cv_plan plan;     /* plan.stops: [nstops]; loads of every passenger, whatever the date */
    cv_cost *pair;    /* varied: [nstops * nstops], i -> j for i < j; else NULL */
    void *mem;        /* the one allocation behind the arrays */
} offer_slot;

static int slot_alloc(offer_slot *sl, int n)
{
    size_t sz =
        (size_t)n * (sizeof(cv_snap) + sizeof(double) + sizeof(int64_t) + sizeof(cv_plan_stop) + sizeof(cv_dates));
    char *p = calloc(1, sz);
    if (!p)
        return -1;
    sl->mem = p;
    sl->snaps = (cv_snap *)p;
    p += (size_t)n * sizeof(cv_snap);
    sl->keys = (double *)p;
    p += (size_t)n * sizeof(double);
    sl->rider = (int64_t *)p;
    p += (size_t)n * sizeof(int64_t);
    sl->plan.stops = (cv_plan_stop *)p;
    p += (size_t)n * sizeof(cv_plan_stop);
    sl->sdates = (cv_dates *)p;
    return 0;
}

static void slot_release(offer_slot *sl)
{
    free(sl->mem);
    free(sl->pair);
    sl->mem = NULL;
    sl->pair = NULL;
}

typedef struct request_slot {
    int used;
    cv_request r;
    cv_snap p, q;
    cv_cost pq;
    int nriding;
    cv_dates *riding; /* [nriding] the dates of its accepted bookings: it rides in a car then (malloc'ed) */
} request_slot;

static void request_slot_release(request_slot *sl)
{
    free(sl->riding);
    sl->riding = NULL;
    sl->nriding = 0;
}

/* When an offer can pick anyone up at all: between its departure less its margin and its departure plus its
   margin and the longest route it may drive (UTC seconds; unbounded for regular offers). A punctual offer with no
   stop but its ends also keeps its departure's range and its origin's edge, for the test of pickup times that
   follows the first scan of a request. */
typedef struct offer_window {
    int64_t lo, hi;
    int64_t dep_lo, dep_hi; /* departure less and plus the margin; dep_lo > dep_hi: no such test */
    uint32_t origin_edge;
} offer_window;

/* int64 id -> slot, open addressing with linear probing; ids are > 0, 0 marks an empty cell, -1 a removed one. */
typedef struct id_map {
    int64_t *keys;
    uint32_t *vals;
    uint32_t cap, used;
} id_map;

struct cv_matcher {
    const cv_graph *g;
    char *db_path;
    cv_matcher_options opt;
    pthread_rwlock_t lock;
    offer_slot *offers;
    uint32_t noffers, cap_offers, *free_offers, nfree_offers;
    offer_window *win; /* per offer slot, compact, for the first test of a scan */
    uint8_t *nstops;   /* per offer slot: its stop count, so that a scan need not read the slot */
    uint32_t cap_win;
    request_slot *requests;
    uint32_t nrequests, cap_requests, *free_requests, nfree_requests;
    id_map offer_ids, request_ids;
    /* spaces from offer stops (all but the last), to offer stops (all but the first); [0] for offers that are only
       a ride from origin to destination, [1] for those with stops on the way (vias, passengers): a passenger
       joins a ride of the first kind between its two ends, so only the costs origin -> p and q -> destination
       matter, and the scans for p -> a stop and a stop -> q read only the second kind's buckets */
    cv_buckets *off_fwd[2], *off_bwd[2];
    cv_buckets *req_fwd, *req_bwd; /* spaces from and to request points: ref = slot << 1 | (0 pickup, 1 drop-off) */
    /* by edge (buckets over edge ids): the offer stops and request points on each edge, for the rides along one
       edge that no hierarchy search sees (a passenger waiting down the driver's own street) */
    cv_buckets *off_edge, *req_edge;
    size_t active_offers, active_requests;
    /* following the store's change log (cv_matcher_sync) */
    pthread_mutex_t sync_mu;
    int64_t seq;       /* the last change applied */
    uint64_t rebuilds; /* times the log had been pruned past seq and the index was rebuilt */
    pthread_t follower;
    int following;
    pthread_mutex_t follow_mu;
    pthread_cond_t follow_cv;
    int follow_stop;
};

/* What a query learns about one slot of the other side: costs between each stop of the offer involved and p and q,
   in four runs of nstops entries (TO_P, FROM_P, TO_Q, FROM_Q) in the workspace's flat arrays. */
typedef struct acc {
    uint32_t slot;
    uint32_t first; /* into cw / cc */
    uint32_t nstops;
} acc;

typedef struct space {
    cv_space_entry *e;
    size_t n, cap;
} space;

struct cv_matcher_ws {
    cv_matcher *m;
    cv_store *store;
    cv_ch_query *ch;
    space sp[4];
    uint32_t stamp;
    uint32_t *slot_stamp, *slot_acc;
    uint64_t *touched; /* one bit per slot touched by the current query: a test that stays in L1 */
    size_t cap_slots;
    acc *pool;
    size_t npool, cap_pool;
    uint32_t *cw; /* weights, for keeping the least */
    cv_cost *cc;  /* the costs that go with them */
    size_t ncost, cap_cost;
    uint32_t *node_stamp; /* per hierarchy node, for meeting two spaces */
    uint32_t *node_w, *node_ds, *node_dm;
    uint32_t nstamp;
    cv_path path;
    uint64_t scanned, passed; /* bucket items looked at and kept by the last query */
};

cv_matcher_options cv_matcher_defaults(void)
{
    cv_matcher_options o = {.price_per_km = CV_DEFAULT_PRICE_PER_KM,
                            .rounding = CV_ROUND_TEN_CENTS,
                            .max_snap_m = CV_SNAP_DEFAULT_MAX_M,
                            .max_results = 100};
    return o;
}

/* ---------------------------------------------------------------- id map */

static uint32_t hash64(int64_t k, uint32_t cap)
{
    uint64_t x = (uint64_t)k * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(x >> 32) & (cap - 1);
}

static int map_put(id_map *m, int64_t key, uint32_t val);

static int map_grow(id_map *m)
{
    id_map n = {0};
    n.cap = m->cap ? m->cap * 2 : 1024;
    n.keys = calloc(n.cap, sizeof *n.keys);
    n.vals = malloc(n.cap * sizeof *n.vals);
    if (!n.keys || !n.vals) {
        free(n.keys), free(n.vals);
        return -1;
    }
    for (uint32_t i = 0; i < m->cap; i++)
        if (m->keys[i] > 0)
            map_put(&n, m->keys[i], m->vals[i]);
    free(m->keys), free(m->vals);
    *m = n;
    return 0;
}

static int map_put(id_map *m, int64_t key, uint32_t val)
{
    if ((m->used + 1) * 2 > m->cap && map_grow(m))
        return -1;
    uint32_t i = hash64(key, m->cap);
    while (m->keys[i] > 0 && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    if (m->keys[i] != key)
        m->used++;
    m->keys[i] = key;
    m->vals[i] = val;
    return 0;
}

static uint32_t map_get(const id_map *m, int64_t key)
{
    if (!m->cap)
        return NONE;
    uint32_t i = hash64(key, m->cap);
    while (m->keys[i] != 0) {
        if (m->keys[i] == key)
            return m->vals[i];
        i = (i + 1) & (m->cap - 1);
    }
    return NONE;
}

static void map_del(id_map *m, int64_t key)
{
    if (!m->cap)
        return;
    uint32_t i = hash64(key, m->cap);
    while (m->keys[i] != 0) {
        if (m->keys[i] == key) {
            m->keys[i] = -1; /* a tombstone keeps later probes going */
            return;
        }
        i = (i + 1) & (m->cap - 1);
    }
}

/* ---------------------------------------------------------------- helpers */

static cv_snap_options snap_options(const cv_matcher *m)
{
    cv_snap_options o = cv_snap_defaults();
    o.max_distance_m = m->opt.max_snap_m;
    /* pickups and drop-offs are never placed on motorways: snap to the nearest road where a car may stop */
    o.stop_only = 1;
    return o;
}

static int snap(cv_matcher_ws *w, cv_coord c, const char *what, cv_snap *out, cv_error *err)
{
    cv_snap_options o = snap_options(w->m);
    cv_error e;
    if (cv_snap_point(w->m->g, c, &o, out, &e))
        return cv_fail(err, e.code, "%s: %s", what, e.text);
    return 0;
}

/* Travel cost from a to b with the hierarchy (no path needed, so none is unpacked). */

static int route_cost(cv_matcher_ws *w, const cv_snap *a, const cv_snap *b, cv_cost *c, cv_error *err)
{
    (void)err;
    /* A passenger picked up where the driver starts (or set down where they end): the booking keeps the pickup as
       the snapped point rounded to 1e-6 degrees, which snaps again a few centimetres from the driver's own point,
       possibly behind it on a one-way road, and the way round the block is no leg: it would count as a detour
       already made and shut the offer to every other passenger. */
    if (a->edge == b->edge && cv_distance_m(a->location, b->location) < CV_SAME_PLACE_M) {
        *c = (cv_cost){0, 0};
        return 0;
    }
    cv_table_cell cell;
    if (cv_ch_cost(w->ch, a, b, &cell) == CV_ENOROUTE) {
        *c = (cv_cost){CV_UNREACHABLE, CV_UNREACHABLE};
        return 0;
    }
    *c = (cv_cost){cell.duration_ds, cell.distance_dm};
    return 0;
}

static int64_t detour_limit(int32_t absolute, int64_t base, int scale)
{
    /* absolute limits come in seconds or metres; routes are in deciseconds and decimetres */
    if (absolute >= 0)
        return (int64_t)absolute * scale;
    return base * CV_DEFAULT_DETOUR_PERCENT / 100;
}

/* When offer o and request r can travel together. */
typedef struct frame {
    int64_t dep;      /* the offer's planned departure on the first common date, UTC */
    int64_t wish_rel; /* the passenger's wished pickup, seconds after dep */
    cv_day first, last;
    uint8_t weekdays;
    int regular;
} frame;

static cv_day today(int64_t now)
{
    cv_day d;
    cv_utc_to_local(now, &d, NULL, NULL);
    return d;
}

static int day_ok(cv_day d, uint8_t weekdays, cv_day first, cv_day last)
{
    return d >= first && d <= last && (weekdays & (1u << cv_day_weekday(d)));
}

static int find_frame(const cv_offer *o, const cv_request *r, int64_t now, frame *f)
{
    const cv_schedule *so = &o->when, *sr = &r->when;
    memset(f, 0, sizeof *f);
    if (so->kind == CV_PUNCTUAL && sr->kind == CV_PUNCTUAL) {
        f->dep = so->depart;
        f->wish_rel = sr->depart - so->depart;
    } else if (so->kind == CV_REGULAR && sr->kind == CV_PUNCTUAL) {
        cv_day d;
        cv_utc_to_local(sr->depart, &d, NULL, NULL);
        if (!day_ok(d, so->weekdays, so->first_day, so->last_day))
            return 0;
        f->dep = cv_local_to_utc(d, so->time_of_day);
        f->wish_rel = sr->depart - f->dep;
    } else if (so->kind == CV_PUNCTUAL && sr->kind == CV_REGULAR) {
        cv_day d;
        cv_utc_to_local(so->depart, &d, NULL, NULL);
        if (!day_ok(d, sr->weekdays, sr->first_day, sr->last_day))
            return 0;
        f->dep = so->depart;
        f->wish_rel = cv_local_to_utc(d, sr->time_of_day) - so->depart;
    } else {
        /* both regular: the weeks they share, compared in local time of day (the same on every date, whatever
           daylight saving does) */
        uint8_t common = so->weekdays & sr->weekdays;
        cv_day first = so->first_day > sr->first_day ? so->first_day : sr->first_day;
        cv_day last = so->last_day < sr->last_day ? so->last_day : sr->last_day;
        cv_day t = today(now);
        if (first < t)
            first = t;
        int64_t margin = so->margin_s;
        while (first <= last &&
               (!(common & (1u << cv_day_weekday(first))) || cv_local_to_utc(first, so->time_of_day) + margin < now))
            first++;
        while (last >= first && !(common & (1u << cv_day_weekday(last))))
            last--;
        if (!common || first > last)
            return 0;
        f->regular = 1;
        f->weekdays = common;
        f->first = first;
        f->last = last;
        f->dep = cv_local_to_utc(first, so->time_of_day);
        f->wish_rel = (int64_t)sr->time_of_day - so->time_of_day;
        return 1;
    }
    /* punctual offers in the past are not matched */
    if (f->dep + so->margin_s < now)
        return 0;
    f->first = f->last = -1; /* the date, for a match only: see frame_date (local time costs a zone lookup) */
    return 1;
}

/* Fills the date of a single-trip frame. */
static void frame_date(frame *f)
{
    if (f->first != -1)
        return;
    cv_day d;
    cv_utc_to_local(f->dep, &d, NULL, NULL);
    f->first = f->last = d;
    f->weekdays = (uint8_t)(1u << cv_day_weekday(d));
}

/* ---------------------------------------------------------------- offers: plan and index */

/* Fills a slot from the offer's stops in the store: snaps, legs, loads, confirmed pickups' windows. */
static int build_offer_slot(cv_matcher_ws *w, const cv_offer *o, int64_t now, offer_slot *sl, cv_error *err)
{
    cv_stop *stops = NULL;
    size_t n = 0;
    int64_t version = 0;
    int rc = cv_store_offer_plan(w->store, o->id, &stops, &n, &version, err);
    if (rc)
        return rc;
    if (n < 2 || n > CV_PLAN_MAX_STOPS) {
        free(stops);
        return cv_fail(err, CV_EINVAL, "offer %lld has %zu stops (2 to %d allowed)", (long long)o->id, n,
                       CV_PLAN_MAX_STOPS);
    }
    memset(sl, 0, sizeof *sl);
    if (slot_alloc(sl, (int)n)) {
        free(stops);
        return cv_fail(err, CV_ENOMEM, "out of memory");
    }
    sl->used = 1;
    sl->o = *o;
    sl->nstops = (int)n;
    sl->version = version;
    cv_plan *pl = &sl->plan;
    pl->nstops = (int)n;
    pl->seats = o->seats;
    pl->margin_s = o->when.margin_s;
    pl->base_ds = o->direct_duration_ds;
    pl->base_dm = o->direct_distance_dm;
    pl->max_detour_ds = detour_limit(o->max_detour_s, pl->base_ds, 10);
    pl->max_detour_dm = detour_limit(o->max_detour_m, pl->base_dm, 10);
    int load = 0;
    /* the offer's dates from today on: a passenger riding on fewer makes its plans differ by date */
    cv_dates live = cv_dates_intersect(cv_schedule_dates(&o->when), (cv_dates){today(now), INT32_MAX, 0x7f});
    for (size_t k = 0; k < n && !rc; k++) {
        sl->keys[k] = stops[k].key;
        sl->sdates[k] = stops[k].booking_id ? stops[k].dates : CV_DATES_ALL;
        if (stops[k].booking_id && !cv_dates_empty(live)) {
            cv_dates e = cv_dates_intersect(stops[k].dates, live);
            if (e.first != live.first || e.last != live.last || e.weekdays != live.weekdays)
                sl->varied = 1;
        }
        rc = snap(w, stops[k].at, "stop", &sl->snaps[k], err);
        load += stops[k].seats_delta;
        pl->stops[k].load = load;
        pl->stops[k].win_lo = INT32_MIN;
        pl->stops[k].win_hi = INT32_MAX;
        if (!rc && stops[k].kind == CV_STOP_PICKUP) {
            cv_booking b;
            cv_request r;
            frame f;
            rc = cv_store_get_booking(w->store, stops[k].booking_id, &b, err);
            if (!rc)
                rc = cv_store_get_request(w->store, b.request_id, &r, err);
            if (!rc)
                sl->rider[k] = r.id;
            if (!rc && find_frame(o, &r, now, &f)) {
                pl->stops[k].is_pickup = 1;
                pl->stops[k].win_lo = f.wish_rel - r.when.margin_s;
                pl->stops[k].win_hi = f.wish_rel + r.when.margin_s;
            }
        }
    }
    for (size_t k = 0; k + 1 < n && !rc; k++) {
        rc = route_cost(w, &sl->snaps[k], &sl->snaps[k + 1], &pl->stops[k].leg, err);
        if (!rc && pl->stops[k].leg.ds == CV_UNREACHABLE)
            rc = cv_fail(err, CV_ENOROUTE, "offer %lld: no route between its stops %zu and %zu", (long long)o->id, k,
                         k + 1);
    }
    if (!rc && sl->varied && !(sl->pair = malloc(n * n * sizeof *sl->pair)))
        rc = cv_fail(err, CV_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && sl->varied && i + 1 < n; i++)
        for (size_t j = i + 1; !rc && j < n; j++) {
            if (j == i + 1)
                sl->pair[i * n + j] = pl->stops[i].leg;
            else
                rc = route_cost(w, &sl->snaps[i], &sl->snaps[j], &sl->pair[i * n + j], err);
        }
    free(stops);
    if (rc)
        slot_release(sl);
    return rc;
}

/* When an offer can pick anyone up (its window), and when a request wishes to be picked up: the time slices its
   items go to in the buckets. */
static cv_span offer_span(const cv_matcher *m, uint32_t slot)
{
    return (cv_span){m->win[slot].lo, m->win[slot].hi};
}

static cv_span request_span(const cv_request *r)
{
    if (r->when.kind != CV_PUNCTUAL)
        return CV_SPAN_ANY;
    return (cv_span){r->when.depart - r->when.margin_s, r->when.depart + r->when.margin_s};
}

static int compute_space(cv_matcher_ws *w, const cv_snap *s, int forward, space *sp, cv_error *err)
{
    return cv_ch_space(w->ch, s, forward, &sp->e, &sp->n, &sp->cap, err);
}

/* Adds (add = 1) or removes the offer slot's spaces to or from the buckets. The spaces are computed by the caller's
   workspace outside the lock only for adding; removing recomputes them under the lock (they are deterministic). */
/* Stores (add = 1) or removes point ref under its edge in the by-edge buckets b. */
static int index_edge(cv_buckets *b, uint32_t ref, cv_span span, const cv_snap *at, int add)
{
    cv_space_entry e = {at->edge, 0, 0, 0};
    if (add)
        return cv_buckets_add(b, ref, span, &e, 1, UINT32_MAX);
    cv_buckets_remove(b, ref, span, &e, 1);
    return 0;
}

static int index_offer_spaces(cv_matcher_ws *w, uint32_t slot, int add, cv_error *err)
{
    cv_matcher *m = w->m;
    offer_slot *sl = &m->offers[slot];
    for (int k = 0; k < sl->nstops; k++) {
        uint32_t ref = slot << STOP_BITS | (uint32_t)k;
        if (index_edge(m->off_edge, ref, offer_span(m, slot), &sl->snaps[k], add))
            return cv_fail(err, CV_ENOMEM, "out of memory while indexing offer %lld", (long long)sl->o.id);
        for (int dir = 0; dir < 2; dir++) {
            if ((dir == 0 && k == sl->nstops - 1) || (dir == 1 && k == 0))
                continue;
            int rc = compute_space(w, &sl->snaps[k], dir == 0, &w->sp[0], err);
            if (rc)
                return rc;
            int kind = sl->nstops > 2;
            cv_buckets *b = dir == 0 ? m->off_fwd[kind] : m->off_bwd[kind];
            if (add) {
                /* no route with this driver may take longer than the driver's own plus the detour allowed */
                int64_t total = sl->plan.base_ds + sl->plan.max_detour_ds;
                if (cv_buckets_add(b, ref, offer_span(m, slot), w->sp[0].e, w->sp[0].n,
                                   total > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)total))
                    return cv_fail(err, CV_ENOMEM, "out of memory while indexing offer %lld", (long long)sl->o.id);
            } else {
                cv_buckets_remove(b, ref, offer_span(m, slot), w->sp[0].e, w->sp[0].n);
            }
        }
    }
    return 0;
}

static int index_request_spaces(cv_matcher_ws *w, uint32_t slot, int add, cv_error *err)
{
    cv_matcher *m = w->m;
    request_slot *sl = &m->requests[slot];
    for (int pt = 0; pt < 2; pt++) {
        if (index_edge(m->req_edge, slot << 1 | (uint32_t)pt, request_span(&sl->r), pt ? &sl->q : &sl->p, add))
            return cv_fail(err, CV_ENOMEM, "out of memory while indexing request %lld", (long long)sl->r.id);
        for (int dir = 0; dir < 2; dir++) {
            int rc = compute_space(w, pt ? &sl->q : &sl->p, dir == 0, &w->sp[0], err);
            if (rc)
                return rc;
            cv_buckets *b = dir == 0 ? m->req_fwd : m->req_bwd;
            uint32_t ref = slot << 1 | (uint32_t)pt;
            if (add) {
                if (cv_buckets_add(b, ref, request_span(&sl->r), w->sp[0].e, w->sp[0].n, UINT32_MAX))
                    return cv_fail(err, CV_ENOMEM, "out of memory while indexing request %lld", (long long)sl->r.id);
            } else {
                cv_buckets_remove(b, ref, request_span(&sl->r), w->sp[0].e, w->sp[0].n);
            }
        }
    }
    return 0;
}

/* A slot from the free list, or a new one at the end of arr (grown, with the free list that may one day hold
   every slot). NONE when out of memory or when references would overflow. */
static uint32_t take_slot(uint32_t *nslots, uint32_t *cap, void **arr, size_t elem, uint32_t **freel, uint32_t *nfree)
{
    if (*nfree > 0)
        return (*freel)[--*nfree];
    if (*nslots == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 256;
        if (nc > (1u << (32 - STOP_BITS)))
            return NONE;
        void *p = realloc(*arr, nc * elem);
        if (!p)
            return NONE;
        *arr = p;
        uint32_t *f = realloc(*freel, nc * sizeof *f);
        if (!f)
            return NONE;
        *freel = f;
        *cap = nc;
    }
    return (*nslots)++;
}

/* Puts a built offer slot into the index (write lock held by the caller). */
static offer_window window_of(const offer_slot *sl)
{
    if (sl->o.when.kind != CV_PUNCTUAL)
        return (offer_window){INT64_MIN, INT64_MAX, 1, 0, 0};
    const cv_schedule *t = &sl->o.when;
    offer_window w = {t->depart - t->margin_s,
                      t->depart + t->margin_s + (sl->plan.base_ds + sl->plan.max_detour_ds) / 10 + 1, 1, 0,
                      sl->snaps[0].edge};
    if (sl->nstops == 2) {
        w.dep_lo = t->depart - t->margin_s;
        w.dep_hi = t->depart + t->margin_s;
    }
    return w;
}

static int insert_offer(cv_matcher_ws *w, const offer_slot *built, cv_error *err)
{
    cv_matcher *m = w->m;
    uint32_t slot = take_slot(&m->noffers, &m->cap_offers, (void **)&m->offers, sizeof *m->offers, &m->free_offers,
                              &m->nfree_offers);
    if (slot == NONE)
        return cv_fail(err, CV_ENOMEM, "out of memory (offer index full)");
    if (m->cap_win < m->cap_offers) {
        offer_window *nw = realloc(m->win, (size_t)m->cap_offers * sizeof *nw);
        uint8_t *ns = nw ? realloc(m->nstops, m->cap_offers) : NULL;
        if (nw)
            m->win = nw;
        if (!ns) {
            m->free_offers[m->nfree_offers++] = slot;
            return cv_fail(err, CV_ENOMEM, "out of memory");
        }
        m->nstops = ns;
        m->cap_win = m->cap_offers;
    }
    m->nstops[slot] = (uint8_t)built->nstops;
    m->offers[slot] = *built;
    m->win[slot] = window_of(built);
    int rc = index_offer_spaces(w, slot, 1, err);
    if (!rc && map_put(&m->offer_ids, built->o.id, slot))
        rc = cv_fail(err, CV_ENOMEM, "out of memory");
    if (rc) {
        index_offer_spaces(w, slot, 0, NULL);
        m->offers[slot].used = 0;
        slot_release(&m->offers[slot]);
        m->free_offers[m->nfree_offers++] = slot;
        return rc;
    }
    m->active_offers++;
    return 0;
}

static void remove_offer(cv_matcher_ws *w, int64_t id)
{
    cv_matcher *m = w->m;
    uint32_t slot = map_get(&m->offer_ids, id);
    if (slot == NONE)
        return;
    index_offer_spaces(w, slot, 0, NULL);
    m->offers[slot].used = 0;
    slot_release(&m->offers[slot]);
    map_del(&m->offer_ids, id);
    m->free_offers[m->nfree_offers++] = slot;
    m->active_offers--;
}

static int insert_request(cv_matcher_ws *w, const request_slot *built, cv_error *err)
{
    cv_matcher *m = w->m;
    uint32_t slot = take_slot(&m->nrequests, &m->cap_requests, (void **)&m->requests, sizeof *m->requests,
                              &m->free_requests, &m->nfree_requests);
    if (slot == NONE)
        return cv_fail(err, CV_ENOMEM, "out of memory (request index full)");
    m->requests[slot] = *built;
    int rc = index_request_spaces(w, slot, 1, err);
    if (!rc && map_put(&m->request_ids, built->r.id, slot))
        rc = cv_fail(err, CV_ENOMEM, "out of memory");
    if (rc) {
        index_request_spaces(w, slot, 0, NULL);
        m->requests[slot].used = 0;
        request_slot_release(&m->requests[slot]);
        m->free_requests[m->nfree_requests++] = slot;
        return rc;
    }
    m->active_requests++;
    return 0;
}

static void remove_request(cv_matcher_ws *w, int64_t id)
{
    cv_matcher *m = w->m;
    uint32_t slot = map_get(&m->request_ids, id);
    if (slot == NONE)
        return;
    index_request_spaces(w, slot, 0, NULL);
    m->requests[slot].used = 0;
    request_slot_release(&m->requests[slot]);
    map_del(&m->request_ids, id);
    m->free_requests[m->nfree_requests++] = slot;
    m->active_requests--;
}

/* Snaps both ends of a request and finds the cost of its own ride. */
static int build_request_slot(cv_matcher_ws *w, const cv_request *r, request_slot *sl, cv_error *err)
{
    memset(sl, 0, sizeof *sl);
    sl->used = 1;
    sl->r = *r;
    int rc = snap(w, r->from, "pickup point", &sl->p, err);
    if (!rc)
        rc = snap(w, r->to, "drop-off point", &sl->q, err);
    if (!rc)
        rc = route_cost(w, &sl->p, &sl->q, &sl->pq, err);
    if (!rc && sl->pq.ds == CV_UNREACHABLE)
        rc = cv_fail(err, CV_ENOROUTE, "no route from the pickup point to the drop-off point");
    /* a stored request riding in a car on some dates is matched on the others only (one car at a time) */
    cv_booking *bk = NULL;
    size_t nb = 0;
    if (!rc && r->id > 0)
        rc = cv_store_list_request_bookings(w->store, r->id, &bk, &nb, err);
    for (size_t i = 0; !rc && i < nb; i++) {
        if (bk[i].status != CV_BOOKING_ACCEPTED)
            continue;
        cv_dates *g = realloc(sl->riding, (size_t)(sl->nriding + 1) * sizeof *g);
        if (!g) {
            rc = cv_fail(err, CV_ENOMEM, "out of memory");
            break;
        }
        sl->riding = g;
        sl->riding[sl->nriding++] = bk[i].dates;
    }
    free(bk);
    if (rc)
        request_slot_release(sl);
    return rc;
}

/* ---------------------------------------------------------------- following the store */

/* Brings offer id's entry in the index up to the store: built again when the offer is open and still to come,
   removed otherwise. An offer that cannot be planned on this graph (a road gone in a re-import) stays stored and
   out of the index, as at open: only running out of memory fails. */
static int refresh_offer(cv_matcher_ws *w, int64_t id, int64_t now, cv_error *err)
{
    cv_offer o;
    cv_error e = {0};
    int rc = cv_store_get_offer(w->store, id, &o, &e);
    if (rc && rc != CV_ENOTFOUND)
        return cv_fail(err, rc, "%s", e.text);
    int keep = !rc && o.status == CV_TRIP_OPEN &&
               !(o.when.kind == CV_PUNCTUAL && o.when.depart + o.when.margin_s < now); /* gone: never matches */
    offer_slot *sl = keep ? calloc(1, sizeof *sl) : NULL;
    if (keep && !sl)
        return cv_fail(err, CV_ENOMEM, "out of memory");
    if (sl && build_offer_slot(w, &o, now, sl, &e)) {
        free(sl);
        sl = NULL;
        if (e.code == CV_ENOMEM)
            return cv_fail(err, CV_ENOMEM, "%s", e.text);
    }
    rc = 0;
    pthread_rwlock_wrlock(&w->m->lock);
    remove_offer(w, id);
    if (sl)
        rc = insert_offer(w, sl, err);
    pthread_rwlock_unlock(&w->m->lock);
    free(sl);
    return rc;
}

static int refresh_request(cv_matcher_ws *w, int64_t id, cv_error *err)
{
    cv_request r;
    cv_error e = {0};
    int rc = cv_store_get_request(w->store, id, &r, &e);
    if (rc && rc != CV_ENOTFOUND)
        return cv_fail(err, rc, "%s", e.text);
    request_slot sl;
    int keep = !rc && r.status == CV_TRIP_OPEN;
    if (keep && build_request_slot(w, &r, &sl, &e)) {
        keep = 0;
        if (e.code == CV_ENOMEM)
            return cv_fail(err, CV_ENOMEM, "%s", e.text);
    }
    rc = 0;
    pthread_rwlock_wrlock(&w->m->lock);
    remove_request(w, id);
    if (keep)
        rc = insert_request(w, &sl, err); /* the index owns sl's riding dates from here, even on failure */
    pthread_rwlock_unlock(&w->m->lock);
    return rc;
}

/* Fills the (empty) index from the store: the open offers still to come and the open requests; then the change log
   is followed from the latest entry written before they were read. */
static int load_all(cv_matcher_ws *w, int64_t now, cv_error *err)
{
    cv_matcher *m = w->m;
    cv_offer *offers = NULL;
    cv_request *reqs = NULL;
    cv_change *none = NULL;
    size_t no = 0, nr = 0, nn = 0;
    int64_t last = 0;
    /* first the log's position: a change written while the tables are read is applied again after, which is
       harmless (applying a change rebuilds the entry from the store) */
    int rc = cv_store_changes(w->store, 0, 0, &none, &nn, NULL, &last, err);
    free(none);
    if (!rc)
        rc = cv_store_list_offers(w->store, NULL, 1, &offers, &no, err);
    if (!rc)
        rc = cv_store_list_requests(w->store, NULL, 1, &reqs, &nr, err);
    offer_slot *os = rc ? NULL : calloc(1, sizeof *os);
    request_slot rs;
    if (!rc && !os)
        rc = cv_fail(err, CV_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < no; i++) {
        if (offers[i].when.kind == CV_PUNCTUAL && offers[i].when.depart + offers[i].when.margin_s < now)
            continue; /* gone: it would never match again */
        cv_error e;
        if (build_offer_slot(w, &offers[i], now, os, &e))
            continue; /* e.g. a graph re-imported without that road: the offer stays stored, unmatched */
        pthread_rwlock_wrlock(&m->lock);
        rc = insert_offer(w, os, err);
        pthread_rwlock_unlock(&m->lock);
    }
    for (size_t i = 0; !rc && i < nr; i++) {
        cv_error e;
        if (build_request_slot(w, &reqs[i], &rs, &e))
            continue;
        pthread_rwlock_wrlock(&m->lock);
        rc = insert_request(w, &rs, err);
        pthread_rwlock_unlock(&m->lock);
    }
    free(os), free(offers), free(reqs);
    if (!rc)
        m->seq = last;
    return rc;
}

/* Empties the index. */
static void unload_all(cv_matcher_ws *w)
{
    cv_matcher *m = w->m;
    pthread_rwlock_wrlock(&m->lock);
    for (uint32_t i = 0; i < m->noffers; i++)
        if (m->offers[i].used)
            remove_offer(w, m->offers[i].o.id);
    for (uint32_t i = 0; i < m->nrequests; i++)
        if (m->requests[i].used)
            remove_request(w, m->requests[i].r.id);
    pthread_rwlock_unlock(&m->lock);
}

int cv_matcher_sync(cv_matcher_ws *w, int64_t now, cv_error *err)
{
    cv_matcher *m = w->m;
    pthread_mutex_lock(&m->sync_mu);
    int rc = 0;
    for (;;) {
        enum { BATCH = 512 };
        cv_change *ch = NULL;
        size_t n = 0;
        int64_t first = 0, last = 0;
        rc = cv_store_changes(w->store, m->seq, BATCH, &ch, &n, &first, &last, err);
        if (rc)
            break;
        if (last > m->seq && first > m->seq + 1) {
            /* the entries after ours were pruned: what changed is unknown, so everything is read again */
            free(ch);
            unload_all(w);
            m->rebuilds++;
            rc = load_all(w, now, err);
            break;
        }
        for (size_t i = 0; !rc && i < n; i++) {
            /* the same entry twice in a row (an offer with two passengers accepted) is one refresh */
            if (i > 0 && ch[i].kind == ch[i - 1].kind && ch[i].ref == ch[i - 1].ref) {
                m->seq = ch[i].seq;
                continue;
            }
            rc = ch[i].kind == CV_CHANGE_OFFER ? refresh_offer(w, ch[i].ref, now, err)
                                               : refresh_request(w, ch[i].ref, err);
            if (!rc)
                m->seq = ch[i].seq;
        }
        free(ch);
        if (rc || n < BATCH)
            break;
    }
    pthread_mutex_unlock(&m->sync_mu);
    return rc;
}

int64_t cv_matcher_seq(cv_matcher *m)
{
    pthread_mutex_lock(&m->sync_mu);
    int64_t s = m->seq;
    pthread_mutex_unlock(&m->sync_mu);
    return s;
}

/* How long the change log keeps its entries: a follower further behind rebuilds its index. */
#define CHANGES_KEEP_S 86400
/* How often the follower purges the trips past the retention (at start, then hourly). */
#define RETENTION_EVERY_S 3600

/* The follower: syncs when the log announces a change (PostgreSQL) or every follow_ms, and prunes the log once a
   minute. */
static void *follow_main(void *arg)
{
    cv_matcher *m = arg;
    cv_error err;
    cv_matcher_ws *w = cv_matcher_ws_new(m, &err);
    int64_t pruned = 0, purged = 0;
    /* on PostgreSQL the log's notifications wake it at once (another server's write is searched within a few
       milliseconds); on SQLite, and while the database cannot be reached, it polls every follow_ms */
    int notified = w && cv_store_shared(cv_matcher_store(w)), waited = 0;
    pthread_mutex_lock(&m->follow_mu);
    while (!m->follow_stop) {
        if (notified && waited) {
            pthread_mutex_unlock(&m->follow_mu);
            waited = cv_store_wait_changes(cv_matcher_store(w), m->opt.follow_ms, &err) >= 0;
            pthread_mutex_lock(&m->follow_mu);
        } else {
            struct timespec t;
            clock_gettime(CLOCK_REALTIME, &t);
            int64_t ns = t.tv_nsec + (int64_t)m->opt.follow_ms * 1000000;
            t.tv_sec += (time_t)(ns / 1000000000);
            t.tv_nsec = (long)(ns % 1000000000);
            pthread_cond_timedwait(&m->follow_cv, &m->follow_mu, &t);
            waited = 1;
        }
        if (m->follow_stop || !w)
            continue;
        pthread_mutex_unlock(&m->follow_mu);
        int64_t now = (int64_t)time(NULL);
        cv_matcher_sync(w, now, &err); /* a failure (the database busy, say) is tried again at the next tick */
        if (now - pruned >= 60) {
            cv_store_prune_changes(cv_matcher_store(w), now - CHANGES_KEEP_S, &err);
            pruned = now;
        }
        if (m->opt.retention_days > 0 && now - purged >= RETENTION_EVERY_S) {
            /* past trips kept no longer than the retention: deleted with their bookings, the files cleaned */
            cv_day today;
            cv_utc_to_local(now, &today, NULL, NULL);
            cv_erase_counts c;
            if (cv_store_purge_before(cv_matcher_store(w), today - m->opt.retention_days, &c, &err) == 0 &&
                (c.offers || c.requests))
                cv_matcher_sync(w, now, &err);
            purged = now;
        }
        pthread_mutex_lock(&m->follow_mu);
    }
    pthread_mutex_unlock(&m->follow_mu);
    cv_matcher_ws_free(w);
    return NULL;
}

/* ---------------------------------------------------------------- open, close, workspaces */

int cv_matcher_open(const cv_graph *g, const char *db_path, const cv_matcher_options *opt, int64_t now,
                    cv_matcher **out, cv_error *err)
{
    cv_matcher *m = calloc(1, sizeof *m);
    if (!m)
        return cv_fail(err, CV_ENOMEM, "out of memory");
    m->g = g;
    m->opt = opt ? *opt : cv_matcher_defaults();
    m->db_path = malloc(strlen(db_path) + 1);
    if (m->db_path)
        strcpy(m->db_path, db_path);
    pthread_rwlock_init(&m->lock, NULL);
    uint32_t nn = g->hdr.nnodes;
    for (int k = 0; k < 2; k++) {
        m->off_fwd[k] = cv_buckets_new(nn);
        m->off_bwd[k] = cv_buckets_new(nn);
    }
    m->req_fwd = cv_buckets_new(nn);
    m->req_bwd = cv_buckets_new(nn);
    m->off_edge = cv_buckets_new(g->hdr.nedges);
    m->req_edge = cv_buckets_new(g->hdr.nedges);
    if (!m->db_path || !m->off_fwd[0] || !m->off_bwd[0] || !m->off_fwd[1] || !m->off_bwd[1] || !m->req_fwd ||
        !m->req_bwd || !m->off_edge || !m->req_edge) {
        cv_matcher_close(m);
        return cv_fail(err, CV_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&m->sync_mu, NULL);
    pthread_mutex_init(&m->follow_mu, NULL);
    pthread_cond_init(&m->follow_cv, NULL);
    /* build the index from the store, the truth, and follow its change log from there */
    cv_matcher_ws *w = cv_matcher_ws_new(m, err);
    if (!w) {
        cv_matcher_close(m);
        return err ? err->code : CV_ENOMEM;
    }
    int rc = load_all(w, now, err);
    cv_matcher_ws_free(w);
    if (!rc && m->opt.follow_ms > 0) {
        if (pthread_create(&m->follower, NULL, follow_main, m))
            rc = cv_fail(err, CV_ENOMEM, "cannot start the thread following the change log");
        else
            m->following = 1;
    }
    if (rc) {
        cv_matcher_close(m);
        return rc;
    }
    *out = m;
    return 0;
}

void cv_matcher_close(cv_matcher *m)
{
    if (!m)
        return;
    if (m->following) {
        pthread_mutex_lock(&m->follow_mu);
        m->follow_stop = 1;
        pthread_cond_signal(&m->follow_cv);
        pthread_mutex_unlock(&m->follow_mu);
        pthread_join(m->follower, NULL);
        m->following = 0;
    }
    for (uint32_t i = 0; i < m->noffers; i++)
        if (m->offers[i].used)
            slot_release(&m->offers[i]);
    for (uint32_t i = 0; i < m->nrequests; i++)
        if (m->requests[i].used)
            request_slot_release(&m->requests[i]);
    for (int k = 0; k < 2; k++)
        cv_buckets_free(m->off_fwd[k]), cv_buckets_free(m->off_bwd[k]);
    cv_buckets_free(m->req_fwd), cv_buckets_free(m->req_bwd);
    cv_buckets_free(m->off_edge), cv_buckets_free(m->req_edge);
    free(m->offers), free(m->free_offers), free(m->win), free(m->nstops), free(m->requests), free(m->free_requests);
    free(m->offer_ids.keys), free(m->offer_ids.vals), free(m->request_ids.keys), free(m->request_ids.vals);
    free(m->db_path);
    pthread_rwlock_destroy(&m->lock);
    pthread_mutex_destroy(&m->sync_mu);
    pthread_mutex_destroy(&m->follow_mu);
    pthread_cond_destroy(&m->follow_cv);
    free(m);
}

cv_matcher_ws *cv_matcher_ws_new(cv_matcher *m, cv_error *err)
{
    cv_matcher_ws *w = calloc(1, sizeof *w);
    if (!w) {
        cv_fail(err, CV_ENOMEM, "out of memory");
        return NULL;
    }
    w->m = m;
    uint32_t nn = m->g->hdr.nnodes;
    w->ch = cv_ch_query_new(m->g);
    w->node_stamp = calloc(nn ? nn : 1, sizeof *w->node_stamp);
    w->node_w = malloc((nn ? nn : 1) * sizeof *w->node_w);
    w->node_ds = malloc((nn ? nn : 1) * sizeof *w->node_ds);
    w->node_dm = malloc((nn ? nn : 1) * sizeof *w->node_dm);
    if (!w->ch || !w->node_stamp || !w->node_w || !w->node_ds || !w->node_dm ||
        (m->opt.labels && cv_ch_use_labels(w->ch, m->opt.labels))) {
        cv_fail(err, CV_ENOMEM, "out of memory");
        cv_matcher_ws_free(w);
        return NULL;
    }
    if (cv_store_open(m->db_path, &w->store, err)) {
        cv_matcher_ws_free(w);
        return NULL;
    }
    return w;
}

void cv_matcher_ws_free(cv_matcher_ws *w)
{
    if (!w)
        return;
    cv_store_close(w->store);
    cv_ch_query_free(w->ch);
    for (int i = 0; i < 4; i++)
        free(w->sp[i].e);
    free(w->slot_stamp), free(w->slot_acc), free(w->touched), free(w->pool), free(w->cw), free(w->cc);
    free(w->node_stamp), free(w->node_w), free(w->node_ds), free(w->node_dm);
    cv_path_free(&w->path);
    free(w);
}

cv_store *cv_matcher_store(cv_matcher_ws *w)
{
    return w->store;
}

void cv_matcher_get_stats(cv_matcher *m, cv_matcher_stats *st)
{
    pthread_rwlock_rdlock(&m->lock);
    st->offers = m->active_offers;
    st->requests = m->active_requests;
    st->offer_items = 0;
    for (int k = 0; k < 2; k++)
        st->offer_items += cv_buckets_items(m->off_fwd[k]) + cv_buckets_items(m->off_bwd[k]);
    st->request_items = cv_buckets_items(m->req_fwd) + cv_buckets_items(m->req_bwd);
    st->rebuilds = m->rebuilds;
    st->bytes = cv_buckets_bytes(m->off_fwd[0]) + cv_buckets_bytes(m->off_bwd[0]) + cv_buckets_bytes(m->off_fwd[1]) +
                cv_buckets_bytes(m->off_bwd[1]) + cv_buckets_bytes(m->req_fwd) + cv_buckets_bytes(m->req_bwd) +
                (size_t)m->cap_offers * sizeof(offer_slot) + (size_t)m->cap_requests * sizeof(request_slot);
    pthread_rwlock_unlock(&m->lock);
}

/* ---------------------------------------------------------------- adding and cancelling */

static int point_ok(const cv_matcher *m, cv_coord c)
{
    (void)m;
    return c.lon >= -1800000000 && c.lon <= 1800000000 && c.lat >= -900000000 && c.lat <= 900000000;
}

int cv_matcher_add_offer(cv_matcher_ws *w, cv_offer *o, int64_t now, cv_error *err)
{
    cv_store_set_clock(w->store, now);
    cv_matcher *m = w->m;
    if (o->price_per_km <= 0)
        o->price_per_km = m->opt.price_per_km;
    int rc = cv_offer_check(o, now, err);
    if (rc)
        return rc;
    (void)point_ok;
    /* snap every point and find the driver's own route before anything is written */
    cv_snap pts[CV_MAX_VIAS + 2];
    int np = 0;
    rc = snap(w, o->from, "origin", &pts[np++], err);
    for (int i = 0; !rc && i < o->nvias; i++)
        rc = snap(w, o->vias[i], "via point", &pts[np++], err);
    if (!rc)
        rc = snap(w, o->to, "destination", &pts[np++], err);
    int64_t ds = 0, dm = 0;
    for (int i = 0; !rc && i + 1 < np; i++) {
        cv_cost c;
        rc = route_cost(w, &pts[i], &pts[i + 1], &c, err);
        if (!rc && c.ds == CV_UNREACHABLE)
            rc = cv_fail(err, CV_ENOROUTE, "no route from the %s to the %s", i == 0 ? "origin" : "via point",
                         i + 2 == np ? "destination" : "next via point");
        ds += c.ds;
        dm += c.dm;
    }
    if (rc)
        return rc;
    o->direct_duration_ds = ds;
    o->direct_distance_dm = dm;
    o->status = CV_TRIP_OPEN;
    if ((rc = cv_store_add_offer(w->store, o, err)))
        return rc;
    /* the index follows the store's change log, this write's entry with the others (at once, for its own) */
    return cv_matcher_sync(w, now, err);
}

int cv_matcher_add_request(cv_matcher_ws *w, cv_request *r, int64_t now, cv_error *err)
{
    cv_store_set_clock(w->store, now);
    int rc = cv_request_check(r, now, err);
    if (rc)
        return rc;
    /* snapped and routed before anything is written: a request with no road near is refused, not stored */
    request_slot sl;
    if ((rc = build_request_slot(w, r, &sl, err)))
        return rc;
    request_slot_release(&sl);
    r->status = CV_TRIP_OPEN;
    if ((rc = cv_store_add_request(w->store, r, err)))
        return rc;
    return cv_matcher_sync(w, now, err);
}

/* Cancellations happen "now" as the store's clock has it (the caller's --now, else the real clock). */
int cv_matcher_cancel_offer(cv_matcher_ws *w, int64_t id, cv_error *err)
{
    int rc = cv_store_cancel_offer(w->store, id, err);
    return rc ? rc : cv_matcher_sync(w, cv_store_clock(w->store), err);
}

int cv_matcher_cancel_request(cv_matcher_ws *w, int64_t id, cv_error *err)
{
    int rc = cv_store_cancel_request(w->store, id, err);
    return rc ? rc : cv_matcher_sync(w, cv_store_clock(w->store), err);
}

/* ---------------------------------------------------------------- matching */

static int grow_slots(cv_matcher_ws *w, size_t n)
{
    if (n <= w->cap_slots)
        return 0;
    size_t nc = n + 1024;
    uint32_t *a = realloc(w->slot_stamp, nc * sizeof *a), *b;
    if (!a)
        return -1;
    w->slot_stamp = a;
    b = realloc(w->slot_acc, nc * sizeof *b);
    if (!b)
        return -1;
    w->slot_acc = b;
    memset(w->slot_stamp + w->cap_slots, 0, (nc - w->cap_slots) * sizeof *a);
    uint64_t *t = realloc(w->touched, (nc / 64 + 1) * sizeof *t);
    if (!t)
        return -1;
    memset(t + (w->cap_slots ? w->cap_slots / 64 + 1 : 0), 0,
           ((nc / 64 + 1) - (w->cap_slots ? w->cap_slots / 64 + 1 : 0)) * sizeof *t);
    w->touched = t;
    w->cap_slots = nc;
    return 0;
}

/* The accumulator of a slot for the current query, created on first touch with every cost unknown. */
static acc *touch(cv_matcher_ws *w, uint32_t slot, uint32_t nstops)
{
    if (w->slot_stamp[slot] == w->stamp)
        return &w->pool[w->slot_acc[slot]];
    if (w->npool == w->cap_pool) {
        size_t nc = w->cap_pool ? w->cap_pool * 2 : 64;
        acc *p = realloc(w->pool, nc * sizeof *p);
        if (!p)
            return NULL;
        w->pool = p;
        w->cap_pool = nc;
    }
    size_t need = w->ncost + 4 * (size_t)nstops;
    if (need > w->cap_cost) {
        size_t nc = w->cap_cost ? w->cap_cost * 2 : 4096;
        while (nc < need)
            nc *= 2;
        uint32_t *a = realloc(w->cw, nc * sizeof *a);
        if (!a)
            return NULL;
        w->cw = a;
        cv_cost *b = realloc(w->cc, nc * sizeof *b);
        if (!b)
            return NULL;
        w->cc = b;
        w->cap_cost = nc;
    }
    acc *a = &w->pool[w->npool];
    a->slot = slot;
    a->first = (uint32_t)w->ncost;
    a->nstops = nstops;
    for (size_t i = w->ncost; i < need; i++) {
        w->cw[i] = CV_UNREACHABLE;
        w->cc[i] = (cv_cost){CV_UNREACHABLE, CV_UNREACHABLE};
    }
    w->ncost = need;
    w->slot_stamp[slot] = w->stamp;
    w->slot_acc[slot] = (uint32_t)w->npool++;
    w->touched[slot >> 6] |= 1ull << (slot & 63);
    return a;
}

void cv_matcher_ws_counters(const cv_matcher_ws *w, uint64_t *scanned, uint64_t *kept, uint64_t *touched)
{
    *scanned = w->scanned;
    *kept = w->passed;
    *touched = w->npool;
}

static void next_stamp(cv_matcher_ws *w)
{
    w->scanned = w->passed = 0;
    for (size_t i = 0; i < w->npool; i++) /* clear the bits the last query set */
        w->touched[w->pool[i].slot >> 6] = 0;
    if (++w->stamp == 0) {
        memset(w->slot_stamp, 0, w->cap_slots * sizeof *w->slot_stamp);
        w->stamp = 1;
    }
    w->npool = 0;
    w->ncost = 0;
}

static void costs_update(cv_matcher_ws *w, const acc *a, int which, int k, uint32_t wt, uint32_t ds, uint32_t dm)
{
    size_t i = a->first + (size_t)which * a->nstops + (size_t)k;
    /* equal weights: the shorter of the two routes, whatever order the nodes came in */
    if (wt < w->cw[i] || (wt == w->cw[i] && dm < w->cc[i].dm)) {
        w->cw[i] = wt;
        w->cc[i] = (cv_cost){ds, dm};
    }
}

/* Scans the buckets b at the nodes of space sp: a bucket item (ref, x->stop or stop->x) plus the space's
   (x, point->x or x->point) gives a cost between a stored point and the query point. For offer buckets (refs
   slot << STOP_BITS | k) the result goes to accumulator `which` at stop k; for request buckets (slot << 1 | pt),
   to which + 2 * pt at index `stop`. */
/* A punctual passenger's window [lo, hi] (UTC) for the first scan, or NULL. */
typedef struct wish_window {
    int64_t lo, hi;
} wish_window;

/* Scans one time slice of a bucket for the space entry e (need: the query's part against each item's budget). */
static int scan_slice(cv_matcher_ws *w, const cv_space_entry *e, const cv_bucket_slice *s, int offers, int which,
                      int stop, uint32_t nstops, uint64_t need, uint32_t limit_ds, int only_touched,
                      const wish_window *ww)
{
    const cv_matcher *m = w->m;
    const cv_bucket_item *it = s->items;
    uint32_t n = s->n, nsorted = s->nsorted;
    for (uint32_t j = 0; j < n; j++) {
        if (need > it[j].budget_ds) {
            if (j < nsorted)
                j = nsorted - 1; /* budgets only fall from here to the end of the sorted part */
            continue;
        }
        w->scanned++;
        if (need + it[j].duration_ds > limit_ds)
            continue;
        /* No test of the time the driver would reach p through this node: it would be inexact, since the
           shortest way from a stop to p may run through a node such a test drops, leaving a slower way that
           happens to fit the window. That time is tested on the shortest way, in cv_plan_insert. */
        uint32_t slot = offers ? it[j].ref >> STOP_BITS : it[j].ref >> 1;
        /* every insertion needs a way from some stop to the pickup: offers the first scan did not reach are
           out of the question */
        if (only_touched && !(w->touched[slot >> 6] & (1ull << (slot & 63))))
            continue;
        /* an offer that picks nobody up in the passenger's window is out too (exact: whatever way it takes) */
        if (ww && (m->win[slot].hi < ww->lo || m->win[slot].lo > ww->hi))
            continue;
        w->passed++;
        uint64_t wt = (uint64_t)it[j].weight + e->weight;
        if (wt >= CV_UNREACHABLE)
            continue;
        acc *a = (w->touched[slot >> 6] & (1ull << (slot & 63))) ? &w->pool[w->slot_acc[slot]]
                                                                 : touch(w, slot, offers ? m->nstops[slot] : nstops);
        if (!a)
            return CV_ENOMEM;
        if (offers)
            costs_update(w, a, which, (int)(it[j].ref & ((1u << STOP_BITS) - 1)), (uint32_t)wt,
                         it[j].duration_ds + e->duration_ds, it[j].distance_dm + e->distance_dm);
        else
            costs_update(w, a, which + 2 * (int)(it[j].ref & 1), stop, (uint32_t)wt, it[j].duration_ds + e->duration_ds,
                         it[j].distance_dm + e->distance_dm);
    }
    return 0;
}

static int scan(cv_matcher_ws *w, const space *sp, const cv_buckets *b, int offers, int which, int stop,
                uint32_t nstops, uint32_t extra_ds, uint32_t limit_ds, int only_touched, const wish_window *ww,
                wish_window when)
{
    for (size_t i = 0; i < sp->n; i++) {
        const cv_space_entry *e = &sp->e[i];
        /* the query's own part, plus what the trip must add anyway (p -> q), against each item's budget */
        uint64_t need = (uint64_t)e->duration_ds + extra_ds;
        if (need > limit_ds)
            continue;
        uint32_t nslices;
        const cv_bucket_slice *sl = cv_buckets_at(b, e->node, &nslices);
        for (uint32_t k = 0; k < nslices; k++) {
            /* items of other times are not even looked at; slices further on start later still */
            if (!cv_slice_meets(&sl[k], when.lo, when.hi)) {
                if (sl[k].key != INT32_MIN && (int64_t)sl[k].key * CV_SLICE_S > when.hi)
                    break;
                continue;
            }
            int rc = scan_slice(w, e, &sl[k], offers, which, stop, nstops, need, limit_ds, only_touched, ww);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* A ride along one edge beats the hierarchy's answer when both points share it. */
static void direct_update(cv_matcher_ws *w, const acc *a, int which, int k, const cv_snap *from, const cv_snap *to)
{
    const cv_graph *g = w->m->g;
    uint64_t dw = cv_path_direct_weight(g, from, to);
    if (dw == UINT64_MAX)
        return;
    uint32_t dm = from->from_u_dm > to->from_u_dm ? from->from_u_dm - to->from_u_dm : to->from_u_dm - from->from_u_dm;
    costs_update(w, a, which, k, (uint32_t)dw, (uint32_t)dw, dm);
}

static int cmp_match(const void *x, const void *y)
{
    const cv_match *a = x, *b = y;
    if (a->detour_ds != b->detour_ds)
        return a->detour_ds < b->detour_ds ? -1 : 1;
    if (a->mismatch_s != b->mismatch_s)
        return a->mismatch_s < b->mismatch_s ? -1 : 1;
    if (a->offer_id != b->offer_id)
        return a->offer_id < b->offer_id ? -1 : 1;
    return (a->request_id > b->request_id) - (a->request_id < b->request_id);
}

/* One date's plan of a varied offer: the stops made that day (mask: bits of the slot's stops), legs from the
   slot's pair costs, loads of the passengers riding that day, and the candidate's costs for those stops. */
typedef struct day_plan {
    int idx[CV_PLAN_MAX_STOPS]; /* the slot's index of each stop */
    cv_plan_stop st[CV_PLAN_MAX_STOPS];
    cv_cost c[4][CV_PLAN_MAX_STOPS];
    cv_plan plan;
} day_plan;

static uint32_t day_mask(const offer_slot *os, cv_day d)
{
    uint32_t m = 0;
    for (int k = 0; k < os->nstops; k++)
        if (cv_dates_contains(os->sdates[k], d))
            m |= 1u << k;
    return m;
}

static void day_plan_build(const offer_slot *os, uint32_t mask, const cv_cost *c0, uint32_t ns, day_plan *v)
{
    int n = 0, load = 0;
    for (int k = 0; k < os->nstops; k++) {
        if (!(mask & (1u << k)))
            continue;
        const cv_plan_stop *u = &os->plan.stops[k];
        v->idx[n] = k;
        v->st[n] = *u;
        load += u->load - (k ? os->plan.stops[k - 1].load : 0); /* the stop's own change of load */
        v->st[n].load = load;
        for (int which = 0; which < 4; which++)
            v->c[which][n] = c0[(uint32_t)which * ns + (uint32_t)k];
        n++;
    }
    for (int t = 0; t + 1 < n; t++)
        v->st[t].leg = os->pair[v->idx[t] * os->nstops + v->idx[t + 1]];
    v->plan = os->plan;
    v->plan.nstops = n;
    v->plan.stops = v->st;
}

/* Seats free on every leg from i to j of a plan. */
static int seats_free(const cv_plan *pl, int i, int j)
{
    int most = 0;
    for (int k = i; k <= j; k++)
        if (pl->stops[k].load > most)
            most = pl->stops[k].load;
    return pl->seats - most;
}

/* The leg of a plan (stops at the slot's indices idx) a key falls into. */
static int leg_of(const offer_slot *os, const int *idx, int n, double key)
{
    int leg = -1;
    for (int t = 0; t < n && os->keys[idx[t]] < key; t++)
        leg = t;
    return leg;
}

/* Keys for a pickup in gap g of the slot's whole sequence (between its stops g and g + 1) and a drop-off in gap
   h >= g: strictly inside them, so that on any date the booking's stops sit between the same stops of that day. */
static void place_keys(const offer_slot *os, int g, int h, double *kp, double *kd)
{
    double ka = os->keys[g], kb = os->keys[g + 1];
    if (g == h) {
        *kp = ka + (kb - ka) / 3;
        *kd = ka + 2 * (kb - ka) / 3;
    } else {
        *kp = (ka + kb) / 2;
        *kd = (os->keys[h] + os->keys[h + 1]) / 2;
    }
}

static int insertion_better(const cv_insertion *a, const cv_insertion *b)
{
    if (a->added_ds != b->added_ds)
        return a->added_ds < b->added_ds;
    if (a->added_dm != b->added_dm)
        return a->added_dm < b->added_dm;
    return a->mismatch_s < b->mismatch_s;
}

/* A passenger riding a varied offer on several dates: one pickup and one drop-off in the whole sequence, feasible
   on every date's plan. The first date's insertions are tried from the cheapest, and for each, every pair of gaps
   of the whole sequence that lands there on the first date (stops made on other dates only may lie between the
   first date's stops: the passenger may go before or after them); the first that holds on every other date's plan
   wins. v: the first date's plan; c: the candidate's costs over the slot's stops. Returns 1 with the insertion on
   the first date, the keys and the fewest seats free on the passenger's stretch, or 0. c0, ns: the candidate's
   costs as the workspace keeps them (day_plan_build). */
static int place_on_every_date(const offer_slot *os, const cv_candidate *c, const cv_cost *c0, uint32_t ns,
                               const day_plan *v, const frame *f, cv_insertion *ins, double *kp, double *kd,
                               int *seats_left)
{
    /* the other dates' plans, each different one once: plans change only where some passenger's dates start or
       end, so few differ */
    enum { MAX_PLANS = 64 };
    uint32_t masks[MAX_PLANS];
    int nmasks = 0;
    cv_dates fd = {f->first, f->last, f->weekdays};
    uint32_t first_mask = day_mask(os, f->first);
    for (cv_day d = cv_dates_next(fd, f->first + 1); d >= 0; d = cv_dates_next(fd, d + 1)) {
        uint32_t mk = day_mask(os, d);
        int known = mk == first_mask;
        for (int t = 0; t < nmasks && !known; t++)
            known = masks[t] == mk;
        if (known)
            continue;
        if (nmasks == MAX_PLANS)
            return 0; /* more different plans than a booking can be checked against: not proposed */
        masks[nmasks++] = mk;
    }
    day_plan *others = nmasks ? malloc((size_t)nmasks * sizeof *others) : NULL;
    cv_candidate *oc = nmasks ? malloc((size_t)nmasks * sizeof *oc) : NULL;
    if (nmasks && (!others || !oc)) {
        free(others), free(oc);
        return 0;
    }
    for (int t = 0; t < nmasks; t++) {
        day_plan_build(os, masks[t], c0, ns, &others[t]);
        oc[t] = *c;
        oc[t].to_p = others[t].c[TO_P], oc[t].from_p = others[t].c[FROM_P];
        oc[t].to_q = others[t].c[TO_Q], oc[t].from_q = others[t].c[FROM_Q];
    }
    cv_candidate c1 = *c;
    c1.to_p = v->c[TO_P], c1.from_p = v->c[FROM_P], c1.to_q = v->c[TO_Q], c1.from_q = v->c[FROM_Q];
    int n = v->plan.nstops, found = 0;
    cv_insertion cand;
    for (int i = 0; i + 1 < n; i++)
        for (int j = i; j + 1 < n; j++) {
            if (!cv_plan_insert_at(&v->plan, &c1, i, j, &cand) || (found && !insertion_better(&cand, ins)))
                continue;
            /* the gaps of the whole sequence that fall in the first date's legs i and j */
            int placed = 0;
            for (int g = v->idx[i]; g < v->idx[i + 1] && !placed; g++)
                for (int h = i == j ? g : v->idx[j]; h < v->idx[j + 1] && !placed; h++) {
                    double p, q;
                    place_keys(os, g, h, &p, &q);
                    int fewest = seats_free(&v->plan, i, j), ok = 1;
                    for (int t = 0; t < nmasks && ok; t++) {
                        int i2 = leg_of(os, others[t].idx, others[t].plan.nstops, p);
                        int j2 = leg_of(os, others[t].idx, others[t].plan.nstops, q);
                        cv_insertion other;
                        ok = cv_plan_insert_at(&others[t].plan, &oc[t], i2, j2, &other);
                        int sl = ok ? seats_free(&others[t].plan, i2, j2) : 0;
                        if (sl < fewest)
                            fewest = sl;
                    }
                    if (ok) {
                        placed = found = 1;
                        *ins = cand;
                        *kp = p;
                        *kd = q;
                        *seats_left = fewest;
                    }
                }
        }
    free(others), free(oc);
    return found;
}

/* Evaluates offer slot os with request (r, p, q, pq) given the costs in a; appends a match when they fit. A varied
   offer is evaluated on the plan of each date they would travel together: the insertion is chosen on the first
   date's, and must hold, at the same place in the sequence, on every other date's (a booking has one pickup and one
   drop-off on all its dates). */
static int evaluate_pair(cv_matcher_ws *w, const offer_slot *os, const request_slot *rs, const acc *a, int64_t now,
                         cv_match *out)
{
    const cv_request *r = &rs->r;
    const cv_snap *p = &rs->p, *q = &rs->q;
    cv_cost pq = rs->pq;
    frame f;
    for (int k = 0; k < os->nstops; k++)
        if (os->rider[k] == r->id && r->id != 0)
            return 0; /* already aboard this offer */
    if (!find_frame(&os->o, r, now, &f))
        return 0;
    /* cheap bound before anything else: the wish must be reachable within the margins */
    int64_t slack = (int64_t)os->o.when.margin_s + r->when.margin_s;
    if (f.wish_rel + slack < 0 || f.wish_rel - slack > (os->plan.base_ds + os->plan.max_detour_ds) / 10)
        return 0;
    for (int k = 0; k < os->nstops; k++) {
        direct_update(w, a, TO_P, k, &os->snaps[k], p);
        direct_update(w, a, FROM_P, k, p, &os->snaps[k]);
        direct_update(w, a, TO_Q, k, &os->snaps[k], q);
        direct_update(w, a, FROM_Q, k, q, &os->snaps[k]);
    }
    const cv_cost *c0 = w->cc + a->first;
    uint32_t ns = a->nstops;
    cv_candidate c = {c0 + TO_P * ns, c0 + FROM_P * ns, c0 + TO_Q * ns,  c0 + FROM_Q * ns, pq,
                      r->seats,       f.wish_rel,       r->when.margin_s};
    cv_insertion ins;
    const cv_plan *pl = &os->plan;
    int identity[CV_PLAN_MAX_STOPS];
    const int *idx = identity;
    day_plan v;
    int seats_left;
    if (!os->varied) {
        if (!cv_plan_insert(pl, &c, &ins))
            return 0;
        frame_date(&f);
        for (int k = 0; k < os->nstops; k++)
            identity[k] = k;
    } else {
        frame_date(&f);
        day_plan_build(os, day_mask(os, f.first), c0, ns, &v);
        cv_candidate cv1 = c;
        cv1.to_p = v.c[TO_P], cv1.from_p = v.c[FROM_P], cv1.to_q = v.c[TO_Q], cv1.from_q = v.c[FROM_Q];
        if (!cv_plan_insert(&v.plan, &cv1, &ins))
            return 0;
        pl = &v.plan;
        idx = v.idx;
    }
    for (int i = 0; i < rs->nriding; i++)
        if (!cv_dates_empty(cv_dates_intersect(rs->riding[i], (cv_dates){f.first, f.last, f.weekdays})))
            return 0; /* in another car on one of these dates already */
    double kp = 0, kd = 0;
    if (os->varied && f.first != f.last) {
        if (!place_on_every_date(os, &c, c0, ns, &v, &f, &ins, &kp, &kd, &seats_left))
            return 0;
    } else {
        /* keys strictly inside the gaps of the slot's whole sequence, right after the stops the insertion follows */
        place_keys(os, idx[ins.pickup_leg], idx[ins.dropoff_leg], &kp, &kd);
        seats_left = seats_free(pl, ins.pickup_leg, ins.dropoff_leg);
    }
    memset(out, 0, sizeof *out);
    out->offer_id = os->o.id;
    out->request_id = r->id;
    out->pickup = p->location;
    out->dropoff = q->location;
    out->pickup_time = f.dep + ins.pickup_s;
    out->dropoff_time = f.dep + ins.dropoff_s;
    out->regular = f.regular;
    out->weekdays = f.weekdays;
    out->first_day = f.first;
    out->last_day = f.last;
    out->seats_left = seats_left;
    out->detour_ds = ins.added_ds;
    out->detour_dm = ins.added_dm;
    out->detour_percent = pl->base_ds > 0 ? 100.0 * (double)ins.added_ds / (double)pl->base_ds : 0;
    out->shared_ds = ins.shared_ds;
    out->shared_dm = ins.shared_dm;
    int64_t tot_ds = 0, tot_dm = 0;
    for (int k = 0; k + 1 < pl->nstops; k++) {
        tot_ds += pl->stops[k].leg.ds;
        tot_dm += pl->stops[k].leg.dm;
    }
    out->total_ds = tot_ds + ins.added_ds;
    out->total_dm = tot_dm + ins.added_dm;
    out->mismatch_s = ins.mismatch_s;
    out->pickup_key = kp;
    out->dropoff_key = kd;
    out->plan_version = os->version;
    out->contribution = cv_contribution_compute(ins.shared_dm, ins.added_dm, os->o.price_per_km, w->m->opt.rounding);
    return 1;
}

static int push_match(cv_match **out, size_t *n, size_t *cap, const cv_match *mt)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        cv_match *p = realloc(*out, nc * sizeof *p);
        if (!p)
            return -1;
        *out = p;
        *cap = nc;
    }
    (*out)[(*n)++] = *mt;
    return 0;
}

static void finish_matches(cv_matcher *m, cv_match *res, size_t *n, int limit)
{
    if (*n == 0)
        return;
    qsort(res, *n, sizeof *res, cmp_match);
    size_t cap = limit > 0 ? (size_t)limit : (size_t)m->opt.max_results;
    if (cap > (size_t)m->opt.max_results)
        cap = (size_t)m->opt.max_results;
    if (*n > cap)
        *n = cap;
}

/* p -> q from the forward space of p and the backward space of q (plus a ride along one shared edge). */
static cv_cost meet_cost(cv_matcher_ws *w, const space *fp, const space *bq, const cv_snap *p, const cv_snap *q)
{
    if (++w->nstamp == 0) {
        memset(w->node_stamp, 0, w->m->g->hdr.nnodes * sizeof *w->node_stamp);
        w->nstamp = 1;
    }
    for (size_t i = 0; i < fp->n; i++) {
        uint32_t x = fp->e[i].node;
        w->node_stamp[x] = w->nstamp;
        w->node_w[x] = fp->e[i].weight;
        w->node_ds[x] = fp->e[i].duration_ds;
        w->node_dm[x] = fp->e[i].distance_dm;
    }
    uint64_t best = UINT64_MAX;
    cv_cost c = {CV_UNREACHABLE, CV_UNREACHABLE};
    for (size_t i = 0; i < bq->n; i++) {
        uint32_t x = bq->e[i].node;
        if (w->node_stamp[x] != w->nstamp)
            continue;
        uint64_t wt = (uint64_t)w->node_w[x] + bq->e[i].weight;
        if (wt < best) {
            best = wt;
            c = (cv_cost){w->node_ds[x] + bq->e[i].duration_ds, w->node_dm[x] + bq->e[i].distance_dm};
        }
    }
    uint64_t dw = cv_path_direct_weight(w->m->g, p, q);
    if (dw < best)
        c = (cv_cost){(uint32_t)dw,
                      p->from_u_dm > q->from_u_dm ? p->from_u_dm - q->from_u_dm : q->from_u_dm - p->from_u_dm};
    return c;
}

/* Touches the offers with a stop on the edge of point x (offers = 1; ww: the passenger's window, tested per
   offer as in the first scan), or the requests with a point on it (offers = 0, for an offer of nstops stops): a
   ride along one edge is no hierarchy search's answer, and when the way round through the nodes is too long for
   the driver's budget, no bucket brings such a pair together. evaluate_pair then takes the ride along the edge. */
static int touch_on_edge(cv_matcher_ws *w, const cv_buckets *b, const cv_snap *x, int offers, uint32_t nstops,
                         const wish_window *ww, wish_window when)
{
    const cv_matcher *m = w->m;
    uint32_t ns;
    const cv_bucket_slice *sl = cv_buckets_at(b, x->edge, &ns);
    for (uint32_t k = 0; k < ns; k++) {
        if (!cv_slice_meets(&sl[k], when.lo, when.hi))
            continue;
        for (uint32_t j = 0; j < sl[k].n; j++) {
            uint32_t slot = offers ? sl[k].items[j].ref >> STOP_BITS : sl[k].items[j].ref >> 1;
            if (ww && (m->win[slot].hi < ww->lo || m->win[slot].lo > ww->hi))
                continue;
            if (!touch(w, slot, offers ? m->nstops[slot] : nstops))
                return CV_ENOMEM;
        }
    }
    return 0;
}

/* After the first scan of a punctual request: a punctual offer without stops on the way picks p up at its
   departure (shifted within its margin) plus the time from its origin to p, which the scan has just found (the
   least over every node, as cv_plan_insert will take it). Offers that cannot be there in the passenger's window
   are dropped now, so the other three scans and the evaluation skip them: the same test cv_plan_insert makes,
   made early. A ride along the origin's own edge, which the buckets do not see, keeps the offer. */
static void drop_untimely(cv_matcher_ws *w, const cv_request *r, const cv_snap *p)
{
    const cv_matcher *m = w->m;
    /* the window takes arrivals that round into it, as cv_plan_insert does */
    int64_t lo = 10 * (r->when.depart - r->when.margin_s) - 5, hi = 10 * (r->when.depart + r->when.margin_s) + 4;
    for (size_t i = 0; i < w->npool; i++) {
        const acc *a = &w->pool[i];
        const offer_window *ow = &m->win[a->slot];
        if (ow->dep_lo > ow->dep_hi || ow->origin_edge == p->edge)
            continue;
        uint32_t ds = w->cc[a->first + TO_P * a->nstops].ds; /* stop 0 -> p */
        if (ds == CV_UNREACHABLE || 10 * ow->dep_hi + ds < lo || 10 * ow->dep_lo + ds > hi)
            w->touched[a->slot >> 6] &= ~(1ull << (a->slot & 63));
    }
}

/* Matches a request (stored or not) against every offer in the index. */
static int match_request(cv_matcher_ws *w, const request_slot *rs, int64_t now, int limit, cv_match **out, size_t *nout,
                         cv_error *err)
{
    cv_matcher *m = w->m;
    const cv_request *r = &rs->r;
    const cv_snap *p = &rs->p, *q = &rs->q;
    *out = NULL;
    *nout = 0;
    /* four searches, outside the lock: back from p and q, forward from p and q */
    int rc = compute_space(w, p, 0, &w->sp[TO_P], err);
    if (!rc)
        rc = compute_space(w, p, 1, &w->sp[FROM_P], err);
    if (!rc)
        rc = compute_space(w, q, 0, &w->sp[TO_Q], err);
    if (!rc)
        rc = compute_space(w, q, 1, &w->sp[FROM_Q], err);
    if (rc)
        return rc;
    cv_cost pq = meet_cost(w, &w->sp[FROM_P], &w->sp[TO_Q], p, q);
    if (pq.ds == CV_UNREACHABLE)
        return 0;
    request_slot here = *rs;
    here.pq = pq; /* as the searches find it, which the index's costs agree with */
    pthread_rwlock_rdlock(&m->lock);
    if (grow_slots(w, m->noffers)) {
        pthread_rwlock_unlock(&m->lock);
        return cv_fail(err, CV_ENOMEM, "out of memory");
    }
    next_stamp(w);
    /* stop -> p and stop -> q meet the stops' forward spaces; p -> stop and q -> stop their backward spaces */
    /* a route through stop -> p continues p -> q, one through q -> stop came p -> q: both count against the
       driver's budget */
    /* a punctual passenger's window is tested per offer in the first scan, and skips the offers' buckets' time
       slices that end before it or start after it in all four (an offer the first scan did not keep is out) */
    cv_span sp = request_span(r);
    /* a second wider: an arrival that rounds into the window counts (cv_plan_insert) */
    wish_window ww = {sp.lo == INT64_MIN ? sp.lo : sp.lo - 1, sp.hi == INT64_MAX ? sp.hi : sp.hi + 1};
    for (int k = 0; k < 2 && !rc; k++)
        rc = scan(w, &w->sp[TO_P], m->off_fwd[k], 1, TO_P, 0, 0, pq.ds, UINT32_MAX, 0,
                  r->when.kind == CV_PUNCTUAL ? &ww : NULL, ww);
    if (!rc)
        rc = touch_on_edge(w, m->off_edge, p, 1, 0, r->when.kind == CV_PUNCTUAL ? &ww : NULL, ww);
    if (!rc && r->when.kind == CV_PUNCTUAL)
        drop_untimely(w, r, p);
    if (!rc)
        rc = scan(w, &w->sp[FROM_P], m->off_bwd[1], 1, FROM_P, 0, 0, 0, UINT32_MAX, 1, NULL, ww);
    if (!rc)
        rc = scan(w, &w->sp[TO_Q], m->off_fwd[1], 1, TO_Q, 0, 0, 0, UINT32_MAX, 1, NULL, ww);
    for (int k = 0; k < 2 && !rc; k++)
        rc = scan(w, &w->sp[FROM_Q], m->off_bwd[k], 1, FROM_Q, 0, 0, pq.ds, UINT32_MAX, 1, NULL, ww);
    size_t cap = 0;
    for (size_t i = 0; !rc && i < w->npool; i++) {
        uint32_t slot = w->pool[i].slot;
        if (!(w->touched[slot >> 6] & (1ull << (slot & 63))))
            continue; /* dropped */
        const offer_slot *os = &m->offers[slot];
        cv_match mt;
        if (!os->used || os->o.id == 0)
            continue;
        if (evaluate_pair(w, os, &here, &w->pool[i], now, &mt) && push_match(out, nout, &cap, &mt))
            rc = CV_ENOMEM;
    }
    pthread_rwlock_unlock(&m->lock);
    if (rc) {
        free(*out);
        *out = NULL;
        *nout = 0;
        return cv_fail(err, rc, "out of memory");
    }
    finish_matches(m, *out, nout, limit);
    return 0;
}

int cv_matcher_request_matches(cv_matcher_ws *w, int64_t request_id, int64_t now, int limit, cv_match **out, size_t *n,
                               cv_error *err)
{
    cv_request r;
    int rc = cv_store_get_request(w->store, request_id, &r, err);
    if (rc)
        return rc;
    if (r.status != CV_TRIP_OPEN) {
        *out = NULL;
        *n = 0;
        return 0;
    }
    request_slot sl;
    if ((rc = build_request_slot(w, &r, &sl, err)))
        return rc;
    rc = match_request(w, &sl, now, limit, out, n, err);
    request_slot_release(&sl);
    return rc;
}

int cv_matcher_search(cv_matcher_ws *w, const cv_request *r, int64_t now, int limit, cv_match **out, size_t *n,
                      cv_error *err)
{
    int rc = cv_request_check(r, now, err);
    if (rc)
        return rc;
    request_slot sl;
    cv_request adhoc = *r;
    adhoc.id = 0; /* not stored: no booking of its own */
    if ((rc = build_request_slot(w, &adhoc, &sl, err)))
        return rc;
    rc = match_request(w, &sl, now, limit, out, n, err);
    request_slot_release(&sl);
    return rc;
}

int cv_matcher_stops_between(cv_matcher_ws *w, int64_t offer_id, cv_day day, double lo, double hi, cv_snap *out,
                             int cap)
{
    cv_matcher *m = w->m;
    int n = 0;
    pthread_rwlock_rdlock(&m->lock);
    uint32_t slot = map_get(&m->offer_ids, offer_id);
    if (slot == NONE) {
        n = -1;
    } else {
        const offer_slot *os = &m->offers[slot];
        for (int k = 0; k < os->nstops && n < cap; k++)
            if (os->keys[k] > lo && os->keys[k] < hi && cv_dates_contains(os->sdates[k], day))
                out[n++] = os->snaps[k];
    }
    pthread_rwlock_unlock(&m->lock);
    return n;
}

/* The order of requests near a place: the departure closest to the middle of the window first, then by id and
   date (one order whatever the index's layout). */
typedef struct near_key {
    int64_t off, id;
    cv_day day;
    size_t at;
} near_key;

static int cmp_near(const void *a, const void *b)
{
    const near_key *x = a, *y = b;
    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return (x->day > y->day) - (x->day < y->day);
}

/* The n items of v (size bytes each) in the order of keys k (their .at: an item's index), in a new array; k and v
   are freed. NULL when k is NULL or memory runs out. */
static void *sorted_near(near_key *k, void *v, size_t n, size_t size)
{
    char *out = k ? malloc((n ? n : 1) * size) : NULL;
    if (out) {
        qsort(k, n, sizeof *k, cmp_near);
        for (size_t i = 0; i < n; i++)
            memcpy(out + i * size, (const char *)v + k[i].at * size, size);
    }
    free(k);
    free(v);
    return out;
}

/* Room in *a (n items of size bytes used, *cap allocated) for one more, doubling. 0 or CV_ENOMEM. */
static int room_for_one(void **a, size_t n, size_t *cap, size_t size, cv_error *err)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? 2 * *cap : 64;
    void *grown = realloc(*a, nc * size);
    if (!grown)
        return cv_fail(err, CV_ENOMEM, "out of memory");
    *a = grown;
    *cap = nc;
    return 0;
}

/* Whether a request rides in a car on day (an accepted booking of its dates). */
static int rides_on(const request_slot *sl, cv_day day)
{
    for (int i = 0; i < sl->nriding; i++)
        if (cv_dates_contains(sl->riding[i], day))
            return 1;
    return 0;
}

int cv_matcher_requests_near(cv_matcher_ws *w, cv_coord from, double from_m, cv_coord to, double to_m, int64_t t0,
                             int64_t t1, size_t limit, cv_request_near **out, size_t *n, cv_error *err)
{
    cv_matcher *m = w->m;
    *out = NULL;
    *n = 0;
    if (t0 > t1 || limit == 0)
        return 0;
    cv_day d0, d1;
    cv_utc_to_local(t0, &d0, NULL, NULL);
    cv_utc_to_local(t1, &d1, NULL, NULL);
    cv_request_near *v = NULL;
    size_t nv = 0, cap = 0;
    int rc = 0;
    pthread_rwlock_rdlock(&m->lock);
    for (uint32_t i = 0; !rc && i < m->nrequests; i++) {
        const request_slot *sl = &m->requests[i];
        if (!sl->used || sl->r.status != CV_TRIP_OPEN || cv_distance_m(sl->p.location, from) > from_m ||
            cv_distance_m(sl->q.location, to) > to_m)
            continue;
        const cv_schedule *s = &sl->r.when;
        cv_dates dates = cv_schedule_dates(s);
        /* a local date's departure can fall on the UTC day before or after: look one day either side */
        for (cv_day d = d0 - 1; !rc && d <= d1 + 1; d++) {
            if (!cv_dates_contains(dates, d) || rides_on(sl, d))
                continue;
            int64_t dep = s->kind == CV_PUNCTUAL ? s->depart : cv_local_to_utc(d, s->time_of_day);
            if (dep < t0 || dep > t1)
                continue;
            if ((rc = room_for_one((void **)&v, nv, &cap, sizeof *v, err)))
                break;
            v[nv++] =
                (cv_request_near){sl->r.id, d, dep, sl->p.location, sl->q.location, sl->r.seats, sl->pq.ds, sl->pq.dm};
        }
    }
    pthread_rwlock_unlock(&m->lock);
    if (rc) {
        free(v);
        return rc;
    }
    near_key *k = malloc((nv ? nv : 1) * sizeof *k);
    int64_t mid = t0 + (t1 - t0) / 2;
    for (size_t i = 0; k && i < nv; i++)
        k[i] = (near_key){llabs(v[i].depart - mid), v[i].request_id, v[i].day, i};
    *out = sorted_near(k, v, nv, sizeof *v);
    if (!*out)
        return cv_fail(err, CV_ENOMEM, "out of memory");
    *n = nv < limit ? nv : limit;
    return 0;
}

int cv_matcher_regular_requests_near(cv_matcher_ws *w, cv_coord from, double from_m, cv_coord to, double to_m,
                                     uint8_t weekdays, int32_t time_of_day, int32_t delta, cv_day first, cv_day last,
                                     size_t limit, cv_regular_near **out, size_t *n, cv_error *err)
{
    cv_matcher *m = w->m;
    *out = NULL;
    *n = 0;
    if (limit == 0 || first > last || !weekdays)
        return 0;
    cv_regular_near *v = NULL;
    size_t nv = 0, cap = 0;
    int rc = 0;
    pthread_rwlock_rdlock(&m->lock);
    for (uint32_t i = 0; i < m->nrequests; i++) {
        const request_slot *sl = &m->requests[i];
        const cv_schedule *s = &sl->r.when;
        if (!sl->used || sl->r.status != CV_TRIP_OPEN || s->kind != CV_REGULAR ||
            abs(s->time_of_day - time_of_day) > delta || cv_distance_m(sl->p.location, from) > from_m ||
            cv_distance_m(sl->q.location, to) > to_m)
            continue;
        cv_dates both = cv_dates_intersect(cv_schedule_dates(s), (cv_dates){first, last, weekdays});
        if (cv_dates_empty(both))
            continue;
        if ((rc = room_for_one((void **)&v, nv, &cap, sizeof *v, err)))
            break;
        v[nv++] = (cv_regular_near){sl->r.id,       sl->p.location, sl->q.location, (uint8_t)(s->weekdays & weekdays),
                                    s->time_of_day, both.first,     both.last,      sl->r.seats,
                                    sl->pq.ds,      sl->pq.dm};
    }
    pthread_rwlock_unlock(&m->lock);
    if (rc) {
        free(v);
        return rc;
    }
    near_key *k = malloc((nv ? nv : 1) * sizeof *k);
    for (size_t i = 0; k && i < nv; i++)
        k[i] = (near_key){abs(v[i].time_of_day - time_of_day), v[i].request_id, 0, i};
    *out = sorted_near(k, v, nv, sizeof *v);
    if (!*out)
        return cv_fail(err, CV_ENOMEM, "out of memory");
    *n = nv < limit ? nv : limit;
    return 0;
}

int cv_matcher_offer_matches(cv_matcher_ws *w, int64_t offer_id, int64_t now, int limit, cv_match **out, size_t *n,
                             cv_error *err)
{
    cv_matcher *m = w->m;
    *out = NULL;
    *n = 0;
    cv_offer o;
    int rc = cv_store_get_offer(w->store, offer_id, &o, err);
    if (rc || o.status != CV_TRIP_OPEN)
        return rc;
    offer_slot *os = calloc(1, sizeof *os);
    if (!os)
        return cv_fail(err, CV_ENOMEM, "out of memory");
    if ((rc = build_offer_slot(w, &o, now, os, err))) {
        free(os);
        return rc;
    }
    /* per stop: a forward search meets the requests' backward spaces (stop -> p, stop -> q) and a backward search
       their forward spaces (p -> stop, q -> stop); the searches run outside the lock, one stop at a time */
    space *all_f = calloc((size_t)os->nstops, sizeof *all_f), *all_b = calloc((size_t)os->nstops, sizeof *all_b);
    if (!all_f || !all_b)
        rc = cv_fail(err, CV_ENOMEM, "out of memory");
    for (int k = 0; !rc && k < os->nstops; k++) {
        if (k + 1 < os->nstops)
            rc = compute_space(w, &os->snaps[k], 1, &all_f[k], err);
        if (!rc && k > 0)
            rc = compute_space(w, &os->snaps[k], 0, &all_b[k], err);
    }
    size_t cap = 0;
    /* nothing the driver does with a passenger takes longer than its own route plus the detour allowed */
    int64_t total = os->plan.base_ds + os->plan.max_detour_ds;
    uint32_t budget = total > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)total;
    /* requests whose window misses the offer's are out, so their time slices are skipped */
    offer_window ow = window_of(os);
    wish_window when = {ow.lo, ow.hi};
    if (!rc) {
        pthread_rwlock_rdlock(&m->lock);
        if (grow_slots(w, m->nrequests))
            rc = CV_ENOMEM;
        next_stamp(w);
        for (int k = 0; !rc && k < os->nstops; k++) {
            /* stop k -> p lands in TO_P (and -> q in TO_Q); p -> stop k in FROM_P (q -> stop k in FROM_Q) */
            if (k + 1 < os->nstops)
                rc = scan(w, &all_f[k], m->req_bwd, 0, TO_P, k, (uint32_t)os->nstops, 0, budget, 0, NULL, when);
            if (!rc && k > 0)
                rc = scan(w, &all_b[k], m->req_fwd, 0, FROM_P, k, (uint32_t)os->nstops, 0, budget, 0, NULL, when);
            if (!rc)
                rc = touch_on_edge(w, m->req_edge, &os->snaps[k], 0, (uint32_t)os->nstops, NULL, when);
        }
        for (size_t i = 0; !rc && i < w->npool; i++) {
            const request_slot *rs = &m->requests[w->pool[i].slot];
            cv_match mt;
            if (!rs->used)
                continue;
            if (evaluate_pair(w, os, rs, &w->pool[i], now, &mt) && push_match(out, n, &cap, &mt))
                rc = CV_ENOMEM;
        }
        pthread_rwlock_unlock(&m->lock);
    }
    for (int k = 0; all_f && all_b && k < os->nstops; k++)
        free(all_f[k].e), free(all_b[k].e);
    free(all_f), free(all_b);
    slot_release(os);
    free(os);
    if (rc) {
        free(*out);
        *out = NULL;
        *n = 0;
        return err && err->code == rc ? rc : cv_fail(err, rc, "out of memory");
    }
    finish_matches(m, *out, n, limit);
    return 0;
}

int cv_matcher_pair(cv_matcher_ws *w, int64_t offer_id, int64_t request_id, int64_t now, cv_match *out, cv_error *err)
{
    cv_offer o;
    cv_request r;
    int rc = cv_store_get_offer(w->store, offer_id, &o, err);
    if (!rc)
        rc = cv_store_get_request(w->store, request_id, &r, err);
    if (rc)
        return rc;
    if (o.status != CV_TRIP_OPEN || r.status != CV_TRIP_OPEN)
        return 0;
    offer_slot *os = calloc(1, sizeof *os);
    request_slot rs;
    memset(&rs, 0, sizeof rs);
    if (!os)
        return cv_fail(err, CV_ENOMEM, "out of memory");
    rc = build_offer_slot(w, &o, now, os, err);
    if (!rc)
        rc = build_request_slot(w, &r, &rs, err);
    const acc *a = NULL;
    if (!rc) {
        if (grow_slots(w, 1))
            rc = cv_fail(err, CV_ENOMEM, "out of memory");
        next_stamp(w);
        if (!rc && !(a = touch(w, 0, (uint32_t)os->nstops)))
            rc = cv_fail(err, CV_ENOMEM, "out of memory");
    }
    /* every cost with its own point-to-point route: the oracle the buckets must agree with */
    for (int k = 0; !rc && k < os->nstops; k++) {
        const cv_snap *pts[4][2] = {
            {&os->snaps[k], &rs.p}, {&rs.p, &os->snaps[k]}, {&os->snaps[k], &rs.q}, {&rs.q, &os->snaps[k]}};
        for (int which = 0; which < 4 && !rc; which++) {
            cv_cost c;
            if (!(rc = route_cost(w, pts[which][0], pts[which][1], &c, err))) {
                size_t i = a->first + (size_t)which * a->nstops + (size_t)k;
                w->cc[i] = c;
                w->cw[i] = 0; /* routes already include rides along a shared edge */
            }
        }
    }
    if (!rc)
        rc = evaluate_pair(w, os, &rs, a, now, out);
    request_slot_release(&rs);
    slot_release(os);
    free(os);
    return rc;
}

/* ---------------------------------------------------------------- bookings */

/* Why a request does not match an offer, when the trips themselves say it: either is cancelled, or the offer has
   fewer seats left than the request needs on the date it asks for (a punctual request). CV_ECONFLICT naming it, or 0
   when none of these is the reason. */
static int unmatched_why(cv_matcher_ws *w, int64_t offer_id, int64_t request_id, cv_error *err)
{
    cv_offer o;
    cv_request r;
    if (cv_store_get_offer(w->store, offer_id, &o, NULL) || cv_store_get_request(w->store, request_id, &r, NULL))
        return 0;
    if (o.status == CV_TRIP_CANCELLED)
        return cv_fail(err, CV_ECONFLICT, "offer %lld is cancelled", (long long)offer_id);
    if (r.status == CV_TRIP_CANCELLED)
        return cv_fail(err, CV_ECONFLICT, "request %lld is cancelled", (long long)request_id);
    if (r.when.kind != CV_PUNCTUAL)
        return 0;
    cv_day day;
    int32_t tod;
    int wd;
    cv_utc_to_local(r.when.depart, &day, &tod, &wd);
    cv_day_seats *ds = NULL;
    size_t nd = 0;
    int rc = 0;
    if (cv_store_seats_left(w->store, offer_id, day, &ds, &nd, NULL) == 0 && nd && ds[0].day == day &&
        ds[0].seats_left < r.seats) {
        int y, m, d;
        cv_day_to_ymd(day, &y, &m, &d);
        rc = ds[0].seats_left <= 0
                 ? cv_fail(err, CV_ECONFLICT, "offer %lld is full on %04d-%02d-%02d: its %d seat%s taken",
                           (long long)offer_id, y, m, d, o.seats, o.seats > 1 ? "s are" : " is")
                 : cv_fail(err, CV_ECONFLICT, "offer %lld has %d seat%s left on %04d-%02d-%02d, request %lld needs %d",
                           (long long)offer_id, ds[0].seats_left, ds[0].seats_left > 1 ? "s" : "", y, m, d,
                           (long long)request_id, r.seats);
    }
    free(ds);
    return rc;
}

int cv_matcher_book(cv_matcher_ws *w, int64_t offer_id, int64_t request_id, int64_t now, cv_booking *out, cv_error *err)
{
    cv_store_set_clock(w->store, now);
    cv_match mt;
    int rc = cv_matcher_pair(w, offer_id, request_id, now, &mt, err);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        if ((rc = unmatched_why(w, offer_id, request_id, err)))
            return rc;
        /* a request riding in a car on some dates is matched on the others only: say so, it is the likely reason */
        cv_booking *bk = NULL;
        size_t nb = 0;
        if (cv_store_list_request_bookings(w->store, request_id, &bk, &nb, NULL) == 0)
            for (size_t i = 0; i < nb; i++)
                if (bk[i].status == CV_BOOKING_ACCEPTED) {
                    rc = cv_fail(err, CV_ECONFLICT,
                                 "request %lld already rides with offer %lld (booking %lld) and does not match offer "
                                 "%lld on any other date",
                                 (long long)request_id, (long long)bk[i].offer_id, (long long)bk[i].id,
                                 (long long)offer_id);
                    break;
                }
        free(bk);
        if (rc)
            return rc;
        return cv_fail(err, CV_ECONFLICT, "request %lld does not match offer %lld (now)", (long long)request_id,
                       (long long)offer_id);
    }
    cv_request r;
    if ((rc = cv_store_get_request(w->store, request_id, &r, err)))
        return rc;
    memset(out, 0, sizeof *out);
    out->offer_id = offer_id;
    out->request_id = request_id;
    out->seats = r.seats;
    out->status = CV_BOOKING_PENDING;
    out->dates = (cv_dates){mt.first_day, mt.last_day, mt.weekdays};
    out->plan_version = mt.plan_version;
    out->pickup = mt.pickup;
    out->dropoff = mt.dropoff;
    out->pickup_key = mt.pickup_key;
    out->dropoff_key = mt.dropoff_key;
    out->pickup_time = mt.pickup_time;
    out->dropoff_time = mt.dropoff_time;
    out->amount = mt.contribution.amount;
    out->created = out->updated = now;
    return cv_store_add_booking(w->store, out, err);
}

int cv_matcher_accept(cv_matcher_ws *w, int64_t booking_id, int64_t now, cv_error *err)
{
    cv_store_set_clock(w->store, now);
    cv_booking b;
    int rc = cv_store_get_booking(w->store, booking_id, &b, err);
    if (rc)
        return rc;
    if (b.status != CV_BOOKING_PENDING)
        return cv_fail(err, CV_ECONFLICT, "booking %lld is %s, not pending", (long long)booking_id,
                       cv_booking_status_name(b.status));
    /* place it against the offer as it is now: passengers accepted since the booking was made have stops of
       their own, which its pickup and drop-off must fit between. The accepting transaction takes it only on the
       version of the stops it was placed on; when another passenger came or went in between (a race), it is
       placed again. */
    cv_dates dates = b.dates;
    for (int attempt = 0;; attempt++) {
        cv_match mt;
        rc = cv_matcher_pair(w, b.offer_id, b.request_id, now, &mt, err);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return cv_fail(err, CV_ECONFLICT, "booking %lld no longer fits offer %lld (seats, times or detour)",
                           (long long)booking_id, (long long)b.offer_id);
        b.pickup = mt.pickup;
        b.dropoff = mt.dropoff;
        b.pickup_key = mt.pickup_key;
        b.dropoff_key = mt.dropoff_key;
        b.pickup_time = mt.pickup_time;
        b.dropoff_time = mt.dropoff_time;
        b.amount = mt.contribution.amount;
        b.plan_version = mt.plan_version;
        /* the dates still to come (those gone since the booking was made are no longer held) */
        b.dates = cv_dates_intersect(dates, (cv_dates){mt.first_day, mt.last_day, mt.weekdays});
        if (cv_dates_empty(b.dates))
            return cv_fail(err, CV_ECONFLICT, "booking %lld has no date left to ride", (long long)booking_id);
        /* placed and accepted in one transaction, which checks seats, one car and the plan's version: a refusal
           writes nothing */
        rc = cv_store_accept_placed(w->store, booking_id, &b, now, err);
        if (rc != CV_ESTALE)
            break;
        if (attempt >= 100)
            return cv_fail(err, CV_ECONFLICT, "booking %lld: offer %lld keeps changing under it; try again",
                           (long long)booking_id, (long long)b.offer_id);
    }
    if (rc)
        return rc;
    return cv_matcher_sync(w, now, err);
}

int cv_matcher_refuse(cv_matcher_ws *w, int64_t booking_id, int64_t now, cv_error *err)
{
    cv_store_set_clock(w->store, now);
    return cv_store_refuse_booking(w->store, booking_id, err);
}

int cv_matcher_cancel_booking(cv_matcher_ws *w, int64_t booking_id, int64_t now, cv_error *err)
{
    cv_store_set_clock(w->store, now);
    int rc = cv_store_cancel_booking(w->store, booking_id, err);
    return rc ? rc : cv_matcher_sync(w, now, err);
}

int cv_matcher_act(cv_matcher_ws *w, cv_booking_action action, int64_t booking_id, int64_t now, cv_error *err)
{
    switch (action) {
    case CV_ACT_ACCEPT:
        return cv_matcher_accept(w, booking_id, now, err);
    case CV_ACT_REFUSE:
        return cv_matcher_refuse(w, booking_id, now, err);
    case CV_ACT_CANCEL:
        return cv_matcher_cancel_booking(w, booking_id, now, err);
    }
    return cv_fail(err, CV_EINVAL, "unknown booking action %d", (int)action);
}
