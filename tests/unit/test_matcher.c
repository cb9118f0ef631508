/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_matcher.c — the matcher on the bundled Porto extract: the bucket index finds exactly the matches (and
   detours) that pair-by-pair point-to-point routing finds, in both directions; the index survives a restart;
   bookings change seats and stops; regular schedules cross a daylight-saving change. */
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
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#include "routing/ch.h"
#include "routing/graph_build.h"
#include "feeds/gtfs.h"
#include "matcher/matcher.h"
#include "osm/osm_network.h"
#include "test_support.h"
#include "matcher/timeutil.h"

static cv_graph *graph;
static char graph_path[1024];

static uint64_t rng = 0x853c49e6748fea9bull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double frand(double lo, double hi)
{
    return lo + (hi - lo) * (double)(next_rand() % 1000001) / 1000000.0;
}

/* Imports map into out and opens it (NULL on failure, with the reason on stderr). */
static cv_graph *import(const char *map, const char *out)
{
    cv_network net;
    cv_error err = {0};
    cv_profile_options opt = cv_profile_defaults();
    if (cv_network_read(map, &opt, NULL, &net, &err) || cv_graph_build(&net, map, out, NULL, NULL, &err)) {
        fprintf(stderr, "%s: %s\n", map, err.text);
        return NULL;
    }
    cv_network_free(&net);
    cv_graph *g = cv_graph_open(out, &err);
    if (!g)
        fprintf(stderr, "%s: %s\n", out, err.text);
    return g;
}

static int setup(void **state)
{
    (void)state;
    snprintf(graph_path, sizeof graph_path, "%s/matcher_porto.cvg", COVOIT_TMP);
    graph = import(COVOIT_TEST_DATA "/../../data/porto.osm.pbf", graph_path);
    return graph ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    cv_graph_close(graph);
    unlink(graph_path);
    return 0;
}

static void db_path(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", COVOIT_TMP, name);
    tst_remove_db(buf);
}

/* The matcher on g over the trip database at db (options mo, NULL for the defaults) and a workspace; fails the
   test on error. */
static cv_matcher_ws *open_db(const cv_graph *g, const char *db, const cv_matcher_options *mo, int64_t now,
                              cv_matcher **m)
{
    cv_error err;
    if (cv_matcher_open(g, db, mo, now, m, &err))
        fail_msg("%s", err.text);
    cv_matcher_ws *w = cv_matcher_ws_new(*m, &err);
    if (!w)
        fail_msg("%s", err.text);
    return w;
}

/* A fresh trip database COVOIT_TMP/name, the matcher on g over it and a workspace; fails the test on error. */
static cv_matcher_ws *open_index(const cv_graph *g, const char *name, int64_t now, cv_matcher **m)
{
    char db[1024];
    db_path(db, sizeof db, name);
    return open_db(g, db, NULL, now, m);
}

/* 2030-06-03 (a Monday) at h:m UTC. */
static int64_t at(int h, int m)
{
    return cv_local_to_utc(cv_day_from_ymd(2030, 6, 3), 0) + h * 3600 + m * 60;
}

static cv_coord lonlat(double lon, double lat)
{
    return (cv_coord){cv_fixed(lon), cv_fixed(lat)};
}

/* A point on the driver's own route from a to b, a fraction f along it, moved a few tens of metres. */
static cv_coord on_route(cv_coord a, cv_coord b, double f)
{
    cv_snap_options o = cv_snap_defaults();
    cv_snap s, t;
    if (cv_snap_point(graph, a, &o, &s, NULL) || cv_snap_point(graph, b, &o, &t, NULL))
        return a;
    cv_ch_query *q = cv_ch_query_new(graph);
    cv_path p = {0};
    cv_coord c = a;
    if (cv_ch_route(q, &s, &t, &p, NULL) == 0) {
        cv_coord *pts;
        size_t n;
        if (cv_path_geometry(graph, &p, &pts, &n) == 0) {
            c = pts[(size_t)(f * (double)(n - 1))];
            free(pts);
        }
    }
    cv_path_free(&p);
    cv_ch_query_free(q);
    c.lon += (int32_t)frand(-3000, 3000);
    c.lat += (int32_t)frand(-3000, 3000);
    return c;
}

static cv_offer new_offer(cv_coord from, cv_coord to, int64_t depart)
{
    cv_offer o;
    memset(&o, 0, sizeof o);
    snprintf(o.owner, sizeof o.owner, "driver");
    o.from = from;
    o.to = to;
    o.when = (cv_schedule){CV_PUNCTUAL, depart, 0, 0, 0, 0, 15 * 60};
    o.seats = 3;
    o.max_detour_s = -1;
    o.max_detour_m = -1;
    return o;
}

static cv_request new_request(cv_coord from, cv_coord to, int64_t depart)
{
    cv_request r;
    memset(&r, 0, sizeof r);
    snprintf(r.owner, sizeof r.owner, "passenger");
    r.from = from;
    r.to = to;
    r.when = (cv_schedule){CV_PUNCTUAL, depart, 0, 0, 0, 0, 15 * 60};
    r.seats = 1;
    return r;
}

/* Random offers across Porto, and requests along some of them (so that many match) and elsewhere. */
static void populate(cv_matcher_ws *w, int64_t now, int noffers, int nrequests, int64_t *oids, int64_t *rids)
{
    cv_offer *offers = calloc((size_t)noffers, sizeof *offers);
    int k = 0;
    while (k < noffers) {
        cv_coord a = lonlat(frand(-8.68, -8.55), frand(41.10, 41.25)),
                 b = lonlat(frand(-8.68, -8.55), frand(41.10, 41.25));
        if (cv_distance_m(a, b) < 3000)
            continue;
        cv_offer o = new_offer(a, b, at(7, 30) + (int64_t)(next_rand() % 3600));
        /* some drivers insist on a via point near the middle, some drive every weekday */
        if (k % 4 == 1) {
            o.nvias = 1;
            o.vias[0] = lonlat((cv_deg(a.lon) + cv_deg(b.lon)) / 2 + frand(-0.01, 0.01),
                               (cv_deg(a.lat) + cv_deg(b.lat)) / 2 + frand(-0.01, 0.01));
        }
        if (k % 5 == 2) {
            cv_day d = cv_day_from_ymd(2030, 6, 3);
            o.when = (cv_schedule){CV_REGULAR,
                                   0,
                                   CV_MON | CV_TUE | CV_WED | CV_THU | CV_FRI,
                                   (int32_t)(o.when.depart - cv_local_to_utc(d, 0)),
                                   d - 7,
                                   d + 30,
                                   15 * 60};
        }
        cv_error err;
        if (cv_matcher_add_offer(w, &o, now, &err) != 0)
            continue; /* off the road network (sea, river): draw again */
        offers[k] = o;
        oids[k++] = o.id;
    }
    k = 0;
    while (k < nrequests) {
        cv_request r;
        if (k % 3 != 2) {
            const cv_offer *o = &offers[next_rand() % (uint64_t)noffers];
            double f1 = frand(0.05, 0.5), f2 = frand(0.55, 0.95);
            int64_t dep = o->when.kind == CV_PUNCTUAL
                              ? o->when.depart
                              : cv_local_to_utc(cv_day_from_ymd(2030, 6, 3), o->when.time_of_day);
            r = new_request(on_route(o->from, o->to, f1), on_route(o->from, o->to, f2), dep + (int64_t)frand(0, 1200));
        } else {
            r = new_request(lonlat(frand(-8.68, -8.55), frand(41.10, 41.25)),
                            lonlat(frand(-8.68, -8.55), frand(41.10, 41.25)),
                            at(7, 30) + (int64_t)(next_rand() % 3600));
        }
        cv_error err;
        if (cv_matcher_add_request(w, &r, now, &err) != 0)
            continue;
        rids[k++] = r.id;
    }
    free(offers);
}

static int find_match(const cv_match *ms, size_t n, int64_t offer, int64_t request)
{
    for (size_t i = 0; i < n; i++)
        if (ms[i].offer_id == offer && ms[i].request_id == request)
            return (int)i;
    return -1;
}

static void assert_same_match(const cv_match *a, const cv_match *b)
{
    if (a->detour_ds != b->detour_ds || a->detour_dm != b->detour_dm || a->pickup_time != b->pickup_time)
        fail_msg(
            "offer %lld request %lld: index says detour %lld ds %lld dm pickup %lld, pair says %lld ds %lld dm %lld",
            (long long)a->offer_id, (long long)a->request_id, (long long)a->detour_ds, (long long)a->detour_dm,
            (long long)a->pickup_time, (long long)b->detour_ds, (long long)b->detour_dm, (long long)b->pickup_time);
    assert_true(fabs(a->contribution.amount - b->contribution.amount) < 1e-9);
    assert_true(a->contribution.commission == 0.0);
}

/* The oracle: for every request and every offer, the matches the index returns are exactly the pairs that match
   when computed one by one with point-to-point routes, with the same detours. */
static void check_against_pairs(cv_matcher_ws *w, int64_t now, const int64_t *oids, int no, const int64_t *rids, int nr,
                                int *nmatches)
{
    *nmatches = 0;
    for (int j = 0; j < nr; j++) {
        cv_match *ms;
        size_t n;
        cv_error err;
        assert_int_equal(cv_matcher_request_matches(w, rids[j], now, 1000, &ms, &n, &err), 0);
        for (size_t i = 1; i < n; i++) /* ranked: smallest detour first */
            assert_true(ms[i - 1].detour_ds <= ms[i].detour_ds);
        for (int i = 0; i < no; i++) {
            cv_match pm;
            int rc = cv_matcher_pair(w, oids[i], rids[j], now, &pm, &err);
            assert_true(rc == 0 || rc == 1);
            int idx = find_match(ms, n, oids[i], rids[j]);
            if (rc == 1 && idx < 0)
                fail_msg("offer %lld and request %lld match pair by pair (detour %lld ds) but not in the index",
                         (long long)oids[i], (long long)rids[j], (long long)pm.detour_ds);
            if (rc == 0 && idx >= 0)
                fail_msg("offer %lld and request %lld match in the index but not pair by pair", (long long)oids[i],
                         (long long)rids[j]);
            if (rc == 1) {
                assert_same_match(&ms[idx], &pm);
                (*nmatches)++;
            }
        }
        free(ms);
    }
    /* the reverse question gives the same pairs */
    for (int i = 0; i < no; i++) {
        cv_match *ms;
        size_t n;
        cv_error err;
        assert_int_equal(cv_matcher_offer_matches(w, oids[i], now, 1000, &ms, &n, &err), 0);
        for (int j = 0; j < nr; j++) {
            cv_match pm;
            int rc = cv_matcher_pair(w, oids[i], rids[j], now, &pm, &err);
            int idx = find_match(ms, n, oids[i], rids[j]);
            if ((rc == 1) != (idx >= 0))
                fail_msg("offer %lld / request %lld: pair says %d, offer matches say %d", (long long)oids[i],
                         (long long)rids[j], rc, idx >= 0);
            if (rc == 1)
                assert_same_match(&ms[idx], &pm);
        }
        free(ms);
    }
}

/* Times at the edges, offers carrying passengers: requests along offers wishing to leave from 30 min before to
   40 min after the driver, with margins of 10 to 30 min, so that many pickups fall just inside or just outside the
   windows (the index drops two-stop offers that cannot be there in time right after its first scan, and keeps offers
   with stops on the way in buckets of their own); a few offers get a passenger aboard first. The index must still give
   exactly the pairs that match one by one. */
static void test_times_at_the_edges(void **state)
{
    (void)state;
    assert_int_equal(cv_tz_set("Europe/Lisbon", NULL), 0);
    int64_t now = at(0, 0);
    cv_matcher *m;
    cv_error err;
    cv_matcher_ws *w = open_index(graph, "matcher_edges.db", now, &m);
    enum { NO = 24, NR = 48 };
    cv_offer offers[NO];
    int64_t oids[NO], rids[NR];
    int k = 0;
    while (k < NO) {
        cv_coord a = lonlat(frand(-8.68, -8.55), frand(41.10, 41.25)),
                 b = lonlat(frand(-8.68, -8.55), frand(41.10, 41.25));
        if (cv_distance_m(a, b) < 4000)
            continue;
        /* spread over the morning, so that offers fall in several time slices */
        cv_offer o = new_offer(a, b, at(6, 0) + (int64_t)(next_rand() % (4 * 3600)));
        o.when.margin_s = (int32_t)(1 + next_rand() % 3) * 600;
        if (cv_matcher_add_offer(w, &o, now, &err) != 0)
            continue;
        offers[k] = o;
        oids[k++] = o.id;
    }
    int aboard = 0;
    k = 0;
    while (k < NR) {
        const cv_offer *o = &offers[next_rand() % NO];
        double f1 = frand(0.05, 0.5), f2 = frand(0.55, 0.95);
        cv_request r = new_request(on_route(o->from, o->to, f1), on_route(o->from, o->to, f2),
                                   o->when.depart + (int64_t)frand(-1800, 2400));
        r.when.margin_s = (int32_t)(1 + next_rand() % 2) * 600;
        if (cv_matcher_add_request(w, &r, now, &err) != 0)
            continue;
        rids[k++] = r.id;
        /* the first few that match ride: their offers now have four stops */
        cv_match pm;
        cv_booking bk;
        if (aboard < 4 && cv_matcher_pair(w, o->id, r.id, now, &pm, &err) == 1 &&
            cv_matcher_book(w, o->id, r.id, now, &bk, &err) == 0 && cv_matcher_accept(w, bk.id, now, &err) == 0)
            aboard++;
    }
    assert_true(aboard >= 2);
    int nmatch;
    check_against_pairs(w, now, oids, NO, rids, NR, &nmatch);
    print_message("%d matching pairs among %d offers x %d requests, %d offers with a passenger aboard\n", nmatch, NO,
                  NR, aboard);
    assert_true(nmatch >= NR / 4);
    cv_matcher_ws_free(w);
    cv_matcher_close(m);
}

/* A passenger waiting down the driver's own street: the driver starts on a long street and drives along it; the
   passenger's pickup and drop-off lie further along the same street, all far from its ends. Through the nodes, the
   way from the driver's start to the pickup turns at one end of the street (or goes round the block), far beyond
   the driver's detour budget, so no bucket pairs them: the index must find the ride along the street all the same, in
   both directions of the question (regression: such pairs were missed). */
static void test_along_one_street(void **state)
{
    (void)state;
    assert_int_equal(cv_tz_set("Europe/Lisbon", NULL), 0);
    /* Long Street 1-2 (3.2 km, two-way), and a block round it: 2-3-4-1 (2.2 km + 3.2 km + 2.2 km) */
    static const char osm[] =
        "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6' generator='hand'>\n"
        "<node id='1' lat='43.7000' lon='7.4000'/><node id='2' lat='43.7000' lon='7.4400'/>\n"
        "<node id='3' lat='43.7200' lon='7.4400'/><node id='4' lat='43.7200' lon='7.4000'/>\n"
        "<way id='1'><nd ref='1'/><nd ref='2'/><tag k='highway' v='residential'/><tag k='name' v='Long "
        "Street'/></way>\n"
        "<way id='2'><nd ref='2'/><nd ref='3'/><nd ref='4'/><nd ref='1'/><tag k='highway' v='residential'/></way>\n"
        "</osm>\n";
    char map[1024], gpath[1024];
    snprintf(map, sizeof map, "%s/matcher_street.osm", COVOIT_TMP);
    snprintf(gpath, sizeof gpath, "%s/matcher_street.cvg", COVOIT_TMP);
    FILE *f = fopen(map, "w");
    assert_non_null(f);
    fputs(osm, f);
    fclose(f);
    cv_graph *g = import(map, gpath);
    assert_non_null(g);
    cv_error err;
    int64_t now = at(0, 0);
    cv_matcher *m;
    cv_matcher_ws *w = open_index(g, "matcher_street.db", now, &m);
    cv_offer o = new_offer(lonlat(7.4120, 43.7), lonlat(7.4280, 43.7), at(8, 0));
    if (cv_matcher_add_offer(w, &o, now, &err))
        fail_msg("%s", err.text);
    cv_request r = new_request(lonlat(7.4180, 43.7), lonlat(7.4240, 43.7), at(8, 3));
    if (cv_matcher_add_request(w, &r, now, &err))
        fail_msg("%s", err.text);
    cv_match pm;
    assert_int_equal(cv_matcher_pair(w, o.id, r.id, now, &pm, &err), 1);
    assert_true(pm.detour_ds == 0 && pm.detour_dm == 0); /* on the driver's way */
    cv_match *ms;
    size_t n;
    assert_int_equal(cv_matcher_request_matches(w, r.id, now, 10, &ms, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ms[0].offer_id, o.id);
    assert_same_match(&ms[0], &pm);
    free(ms);
    assert_int_equal(cv_matcher_offer_matches(w, o.id, now, 10, &ms, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ms[0].request_id, r.id);
    assert_same_match(&ms[0], &pm);
    free(ms);
    /* an ad-hoc search too, and once the offer is cancelled, nothing */
    cv_request adhoc = new_request(lonlat(7.4160, 43.7), lonlat(7.4260, 43.7), at(8, 2));
    assert_int_equal(cv_matcher_search(w, &adhoc, now, 10, &ms, &n, &err), 0);
    assert_int_equal(n, 1);
    free(ms);
    assert_int_equal(cv_matcher_cancel_offer(w, o.id, &err), 0);
    assert_int_equal(cv_matcher_search(w, &adhoc, now, 10, &ms, &n, &err), 0);
    assert_int_equal(n, 0);
    free(ms);
    cv_matcher_ws_free(w);
    cv_matcher_close(m);
    cv_graph_close(g);
}

/* Every request's matches, to compare after the index was rebuilt (free with same_matches). */
static void record_matches(cv_matcher_ws *w, int64_t now, const int64_t *rids, int nr, cv_match **ms, size_t *n)
{
    cv_error err;
    for (int j = 0; j < nr; j++)
        assert_int_equal(cv_matcher_request_matches(w, rids[j], now, 1000, &ms[j], &n[j], &err), 0);
}

/* Asks again: the same matches as recorded (frees them). Returns how many. */
static int same_matches(cv_matcher_ws *w, int64_t now, const int64_t *rids, int nr, cv_match **before,
                        const size_t *nbefore)
{
    int total = 0;
    for (int j = 0; j < nr; j++) {
        cv_match *after;
        size_t n;
        cv_error err;
        assert_int_equal(cv_matcher_request_matches(w, rids[j], now, 1000, &after, &n, &err), 0);
        assert_int_equal(n, nbefore[j]);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(after[i].offer_id, before[j][i].offer_id);
            assert_same_match(&after[i], &before[j][i]);
        }
        total += (int)n;
        free(after);
        free(before[j]);
    }
    return total;
}

enum { NO = 40, NR = 30 };

/* Lisbon time, a fresh database COVOIT_TMP/name (its path in db), the matcher on it and NO offers and NR requests
   (populate). */
static cv_matcher_ws *populated(const char *name, char *db, size_t cap, int64_t now, cv_matcher **m, int64_t *oids,
                                int64_t *rids)
{
    assert_int_equal(cv_tz_set("Europe/Lisbon", NULL), 0);
    db_path(db, cap, name);
    cv_matcher_ws *w = open_db(graph, db, NULL, now, m);
    populate(w, now, NO, NR, oids, rids);
    return w;
}

static void test_index_equals_pairs_and_survives_restart(void **state)
{
    (void)state;
    char db[1024];
    int64_t now = at(0, 0);
    cv_matcher *m;
    cv_error err;
    int64_t oids[NO], rids[NR];
    cv_matcher_ws *w = populated("matcher_oracle.db", db, sizeof db, now, &m, oids, rids);
    int nmatch;
    check_against_pairs(w, now, oids, NO, rids, NR, &nmatch);
    print_message("%d matching pairs among %d offers x %d requests\n", nmatch, NO, NR);
    assert_true(nmatch >= NR / 3); /* the requests drawn along offers' routes do match */
    /* remember the answers, restart from the database alone, ask again */
    cv_match *before[NR];
    size_t nbefore[NR];
    record_matches(w, now, rids, NR, before, nbefore);
    cv_matcher_stats st;
    cv_matcher_get_stats(m, &st);
    assert_int_equal(st.offers, NO);
    assert_int_equal(st.requests, NR);
    cv_matcher_ws_free(w);
    cv_matcher_close(m);
    w = open_db(graph, db, NULL, now, &m);
    cv_matcher_get_stats(m, &st);
    assert_int_equal(st.offers, NO);
    same_matches(w, now, rids, NR, before, nbefore);
    /* cancelled offers leave the index */
    assert_int_equal(cv_matcher_cancel_offer(w, oids[0], &err), 0);
    assert_int_equal(cv_matcher_cancel_offer(w, oids[0], &err), CV_ECONFLICT);
    cv_matcher_get_stats(m, &st);
    assert_int_equal(st.offers, NO - 1);
    for (int j = 0; j < NR; j++) {
        cv_match *ms;
        size_t n;
        assert_int_equal(cv_matcher_request_matches(w, rids[j], now, 1000, &ms, &n, &err), 0);
        assert_int_equal(find_match(ms, n, oids[0], rids[j]), -1);
        free(ms);
    }
    cv_matcher_ws_free(w);
    cv_matcher_close(m);
}

/* Hub labels in place of CH searches: a store filled by a matcher on CH searches, reopened with labels (its index
   rebuilt from label spaces), gives the same matches, and still exactly the pairs that match one by one. */
static void test_hub_labels_give_the_same_matches(void **state)
{
    (void)state;
    char db[1024];
    int64_t now = at(0, 0);
    cv_matcher *m;
    cv_error err;
    int64_t oids[NO], rids[NR];
    cv_matcher_ws *w = populated("matcher_labels.db", db, sizeof db, now, &m, oids, rids);
    cv_match *before[NR];
    size_t nbefore[NR];
    record_matches(w, now, rids, NR, before, nbefore);
    cv_matcher_ws_free(w);
    cv_matcher_close(m);

    cv_hub_labels *hl;
    assert_int_equal(cv_hub_labels_build(graph, 2, 0, NULL, &hl, &err), 0);
    cv_matcher_options mo = cv_matcher_defaults();
    mo.labels = hl;
    w = open_db(graph, db, &mo, now, &m);
    int nmatch = same_matches(w, now, rids, NR, before, nbefore);
    assert_true(nmatch >= NR / 3);
    int npairs;
    check_against_pairs(w, now, oids, NO, rids, NR, &npairs);
    assert_int_equal(npairs, nmatch);
    cv_matcher_ws_free(w);
    cv_matcher_close(m);
    cv_hub_labels_free(hl);
}

/* Bookings: the passenger becomes a stop, seats are taken per leg, later passengers are inserted around. */
static void test_booking_flow(void **state)
{
    (void)state;
    int64_t now = at(0, 0);
    cv_matcher *m;
    cv_error err;
    cv_matcher_ws *w = open_index(graph, "matcher_booking.db", now, &m);
    /* across the city without motorways (where no pickup may be placed): Aliados to Foz, one seat */
    cv_offer o = new_offer(lonlat(-8.6110, 41.1496), lonlat(-8.6760, 41.1530), at(8, 0));
    o.seats = 1;
    assert_int_equal(cv_matcher_add_offer(w, &o, now, &err), 0);
    cv_request r1 = new_request(on_route(o.from, o.to, 0.2), on_route(o.from, o.to, 0.6), at(8, 5));
    cv_request r2 = new_request(on_route(o.from, o.to, 0.3), on_route(o.from, o.to, 0.8), at(8, 7));
    cv_request r3 = new_request(on_route(o.from, o.to, 0.7), on_route(o.from, o.to, 0.9), at(8, 8));
    assert_int_equal(cv_matcher_add_request(w, &r1, now, &err), 0);
    assert_int_equal(cv_matcher_add_request(w, &r2, now, &err), 0);
    assert_int_equal(cv_matcher_add_request(w, &r3, now, &err), 0);
    cv_match pm;
    assert_int_equal(cv_matcher_pair(w, o.id, r1.id, now, &pm, &err), 1);
    assert_int_equal(cv_matcher_pair(w, o.id, r2.id, now, &pm, &err), 1);
    cv_booking b1, b2;
    assert_int_equal(cv_matcher_book(w, o.id, r1.id, now, &b1, &err), 0);
    assert_int_equal(cv_matcher_book(w, o.id, r2.id, now, &b2, &err), 0);
    assert_int_equal(cv_matcher_accept(w, b1.id, now, &err), 0);
    /* r1 is aboard: the offer is no longer proposed to it */
    cv_match *mine;
    size_t nmine;
    assert_int_equal(cv_matcher_request_matches(w, r1.id, now, 10, &mine, &nmine, &err), 0);
    assert_int_equal(nmine, 0);
    free(mine);
    /* the only seat is taken on the legs r2 would ride: r2 no longer matches, and cannot be accepted */
    assert_int_equal(cv_matcher_pair(w, o.id, r2.id, now, &pm, &err), 0);
    assert_int_equal(cv_matcher_accept(w, b2.id, now, &err), CV_ECONFLICT);
    /* r3 rides after r1 got off: it still matches, inserted after r1's stops */
    cv_match *ms;
    size_t n;
    assert_int_equal(cv_matcher_request_matches(w, r3.id, now, 10, &ms, &n, &err), 0);
    assert_int_equal(n, 1);
    cv_stop *stops;
    size_t ns;
    assert_int_equal(cv_store_offer_stops(cv_matcher_store(w), o.id, &stops, &ns, &err), 0);
    assert_int_equal(ns, 4);
    assert_int_equal(stops[1].kind, CV_STOP_PICKUP);
    assert_int_equal(stops[2].kind, CV_STOP_DROPOFF);
    assert_true(ms[0].pickup_key > stops[2].key);
    assert_int_equal(cv_matcher_pair(w, o.id, r3.id, now, &pm, &err), 1);
    assert_same_match(&ms[0], &pm);
    free(stops);
    free(ms);
    /* cancelling r1's booking frees the seat: r2 matches again */
    assert_int_equal(cv_matcher_cancel_booking(w, b1.id, now, &err), 0);
    assert_int_equal(cv_matcher_pair(w, o.id, r2.id, now, &pm, &err), 1);
    /* a request that does not match cannot book */
    cv_request far = new_request(lonlat(-8.40, 41.00), lonlat(-8.41, 41.01), at(8, 0));
    if (cv_matcher_add_request(w, &far, now, &err) == 0) {
        cv_booking bx;
        assert_int_equal(cv_matcher_book(w, o.id, far.id, now, &bx, &err), CV_ECONFLICT);
    }
    cv_matcher_ws_free(w);
    cv_matcher_close(m);
}

/* Bad input is refused with a clear error and nothing stored. */
static void test_bad_input(void **state)
{
    (void)state;
    int64_t now = at(0, 0);
    cv_matcher *m;
    cv_error err;
    cv_matcher_ws *w = open_index(graph, "matcher_bad.db", now, &m);
    cv_offer o = new_offer(lonlat(-8.6110, 41.1496), lonlat(-8.6230, 41.2350), at(8, 0));
    cv_offer bad = o;
    bad.from = lonlat(41.1496, -8.6110); /* swapped lat/lon: in the ocean off Africa */
    assert_int_equal(cv_matcher_add_offer(w, &bad, now, &err), CV_ENOSEGMENT);
    assert_non_null(strstr(err.text, "origin"));
    bad = o;
    bad.when.depart = now - 7200; /* in the past */
    assert_int_equal(cv_matcher_add_offer(w, &bad, now, &err), CV_EINVAL);
    bad = o;
    bad.seats = 0;
    assert_int_equal(cv_matcher_add_offer(w, &bad, now, &err), CV_EINVAL);
    bad = o;
    bad.when.margin_s = -5;
    assert_int_equal(cv_matcher_add_offer(w, &bad, now, &err), CV_EINVAL);
    cv_offer *list;
    size_t n;
    assert_int_equal(cv_store_list_offers(cv_matcher_store(w), NULL, 0, &list, &n, &err), 0);
    assert_int_equal(n, 0);
    free(list);
    cv_match *ms;
    assert_int_equal(cv_matcher_request_matches(w, 424242, now, 10, &ms, &n, &err), CV_ENOTFOUND);
    cv_matcher_ws_free(w);
    cv_matcher_close(m);
}

/* A regular commute at 08:00 local matches punctual requests at 08:05 local before and after the clocks change
   (Lisbon, 2030-03-31): the UTC times differ by an hour, the local ones do not. */
static void test_regular_across_dst(void **state)
{
    (void)state;
    assert_int_equal(cv_tz_set("Europe/Lisbon", NULL), 0);
    cv_day first = cv_day_from_ymd(2030, 3, 25), last = cv_day_from_ymd(2030, 4, 5);
    int64_t now = cv_local_to_utc(first, 0);
    cv_matcher *m;
    cv_error err;
    cv_matcher_ws *w = open_index(graph, "matcher_dst.db", now, &m);
    cv_offer o = new_offer(lonlat(-8.6110, 41.1496), lonlat(-8.6230, 41.2350), 0);
    o.when = (cv_schedule){CV_REGULAR, 0, CV_MON | CV_TUE | CV_WED | CV_THU | CV_FRI, 8 * 3600, first, last, 15 * 60};
    assert_int_equal(cv_matcher_add_offer(w, &o, now, &err), 0);
    cv_coord p = on_route(o.from, o.to, 0.3), q = on_route(o.from, o.to, 0.8);
    /* Friday 29 March (UTC+0) and Tuesday 2 April (UTC+1), 08:05 local */
    int64_t before = cv_local_to_utc(cv_day_from_ymd(2030, 3, 29), 8 * 3600 + 300);
    int64_t after = cv_local_to_utc(cv_day_from_ymd(2030, 4, 2), 8 * 3600 + 300);
    assert_int_equal(before % 86400, 8 * 3600 + 300);
    assert_int_equal(after % 86400, 7 * 3600 + 300);
    cv_request r1 = new_request(p, q, before), r2 = new_request(p, q, after);
    assert_int_equal(cv_matcher_add_request(w, &r1, now, &err), 0);
    assert_int_equal(cv_matcher_add_request(w, &r2, now, &err), 0);
    cv_match *ms;
    size_t n;
    int32_t tod1, tod2;
    assert_int_equal(cv_matcher_request_matches(w, r1.id, now, 10, &ms, &n, &err), 0);
    assert_int_equal(n, 1);
    cv_utc_to_local(ms[0].pickup_time, NULL, &tod1, NULL);
    free(ms);
    assert_int_equal(cv_matcher_request_matches(w, r2.id, now, 10, &ms, &n, &err), 0);
    assert_int_equal(n, 1);
    cv_utc_to_local(ms[0].pickup_time, NULL, &tod2, NULL);
    free(ms);
    assert_int_equal(tod1, tod2); /* the same local pickup time on both sides of the change */
    /* a Saturday request does not match a weekday commute */
    cv_request r3 = new_request(p, q, cv_local_to_utc(cv_day_from_ymd(2030, 3, 30), 8 * 3600 + 300));
    assert_int_equal(cv_matcher_add_request(w, &r3, now, &err), 0);
    assert_int_equal(cv_matcher_request_matches(w, r3.id, now, 10, &ms, &n, &err), 0);
    assert_int_equal(n, 0);
    free(ms);
    /* a regular request on Mondays and Saturdays shares Mondays with the offer */
    cv_request r4 = new_request(p, q, 0);
    r4.when = (cv_schedule){CV_REGULAR, 0, CV_MON | CV_SAT, 8 * 3600 + 300, first, last, 15 * 60};
    assert_int_equal(cv_matcher_add_request(w, &r4, now, &err), 0);
    assert_int_equal(cv_matcher_request_matches(w, r4.id, now, 10, &ms, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_true(ms[0].regular);
    assert_int_equal(ms[0].weekdays, CV_MON);
    free(ms);
    cv_matcher_ws_free(w);
    cv_matcher_close(m);
}

/* The matches of request id: the index's answer must equal the pair-by-pair one for each offer in oids. Returns
   how many offers it matches. */
static size_t matches_checked(cv_matcher_ws *w, int64_t now, int64_t id, const int64_t *oids, int no)
{
    cv_error err;
    cv_match *ms;
    size_t n;
    assert_int_equal(cv_matcher_request_matches(w, id, now, 100, &ms, &n, &err), 0);
    for (int i = 0; i < no; i++) {
        cv_match pm;
        int rc = cv_matcher_pair(w, oids[i], id, now, &pm, &err);
        assert_true(rc >= 0);
        int k = find_match(ms, n, oids[i], id);
        if ((k >= 0) != (rc == 1))
            fail_msg("request %lld, offer %lld: index %s, pair %s", (long long)id, (long long)oids[i],
                     k >= 0 ? "matches" : "does not match", rc == 1 ? "matches" : "does not");
        if (k >= 0) {
            assert_same_match(&ms[k], &pm);
            assert_true(ms[k].pickup_key == pm.pickup_key && ms[k].seats_left == pm.seats_left);
        }
    }
    free(ms);
    return n;
}

/* Seats per date on a regular offer: a passenger riding on Mondays leaves the seat free on the other days, in
   matching (index and pair by pair), booking, acceptance and the seats left; a request riding every weekday must
   fit on every date's plan; and a request is in one car at a time. */
static void test_seats_per_date(void **state)
{
    (void)state;
    cv_day first = cv_day_from_ymd(2030, 6, 3), last = cv_day_from_ymd(2030, 6, 28); /* Monday to Friday */
    int64_t now = at(0, 0);
    cv_matcher *m;
    cv_error err;
    cv_matcher_ws *w = open_index(graph, "matcher_per_date.db", now, &m);
    cv_offer o = new_offer(lonlat(-8.6110, 41.1496), lonlat(-8.6760, 41.1530), 0);
    o.when = (cv_schedule){CV_REGULAR, 0, CV_MON | CV_TUE | CV_WED | CV_THU | CV_FRI, 8 * 3600, first, last, 15 * 60};
    o.seats = 1;
    assert_int_equal(cv_matcher_add_offer(w, &o, now, &err), 0);
    cv_coord p = on_route(o.from, o.to, 0.3), q = on_route(o.from, o.to, 0.7);
    cv_request mon = new_request(p, q, 0), rest = new_request(p, q, 0), all = new_request(p, q, 0);
    mon.when = (cv_schedule){CV_REGULAR, 0, CV_MON, 8 * 3600 + 300, first, last, 15 * 60};
    rest.when = (cv_schedule){CV_REGULAR, 0, CV_TUE | CV_WED | CV_THU | CV_FRI, 8 * 3600 + 300, first, last, 15 * 60};
    all.when = (cv_schedule){CV_REGULAR, 0, 0x1f, 8 * 3600 + 300, first, last, 15 * 60};
    cv_request tue = new_request(p, q, cv_local_to_utc(cv_day_from_ymd(2030, 6, 11), 8 * 3600 + 300));
    cv_request mon10 = new_request(p, q, cv_local_to_utc(cv_day_from_ymd(2030, 6, 10), 8 * 3600 + 300));
    cv_request *reqs[] = {&mon, &rest, &all, &tue, &mon10};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(cv_matcher_add_request(w, reqs[i], now, &err), 0);
    /* before anyone is aboard, all of them match */
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(matches_checked(w, now, reqs[i]->id, &o.id, 1), 1);

    cv_booking bm;
    assert_int_equal(cv_matcher_book(w, o.id, mon.id, now, &bm, &err), 0);
    assert_int_equal(bm.dates.first, first);
    assert_int_equal(bm.dates.last, cv_day_from_ymd(2030, 6, 24));
    assert_int_equal(bm.dates.weekdays, CV_MON);
    assert_int_equal(cv_matcher_accept(w, bm.id, now, &err), 0);
    /* Mondays are full, the other days are not */
    assert_int_equal(matches_checked(w, now, rest.id, &o.id, 1), 1);
    assert_int_equal(matches_checked(w, now, tue.id, &o.id, 1), 1);
    assert_int_equal(matches_checked(w, now, mon10.id, &o.id, 1), 0);
    assert_int_equal(matches_checked(w, now, all.id, &o.id, 1), 0); /* every weekday: the Mondays are full */
    cv_match pm;
    assert_int_equal(cv_matcher_pair(w, o.id, tue.id, now, &pm, &err), 1);
    assert_int_equal(pm.seats_left, 1);
    cv_day_seats *left;
    size_t nleft;
    assert_int_equal(cv_store_seats_left(cv_matcher_store(w), o.id, first, &left, &nleft, &err), 0);
    assert_int_equal(nleft, 4); /* the four Mondays */
    for (size_t i = 0; i < nleft; i++)
        assert_true(cv_day_weekday(left[i].day) == 0 && left[i].seats_left == 0);
    free(left);

    /* the rest of the week rides too, and the offer is then full on every date */
    cv_booking br;
    assert_int_equal(cv_matcher_book(w, o.id, rest.id, now, &br, &err), 0);
    assert_int_equal(cv_matcher_accept(w, br.id, now, &err), 0);
    assert_int_equal(matches_checked(w, now, tue.id, &o.id, 1), 0);
    assert_int_equal(cv_store_seats_left(cv_matcher_store(w), o.id, first, &left, &nleft, &err), 0);
    assert_int_equal(nleft, 20);
    free(left);
    /* the matcher rebuilt from the store after a restart agrees */
    char db[1024];
    snprintf(db, sizeof db, "%s/matcher_per_date.db", COVOIT_TMP);
    cv_matcher_ws_free(w);
    cv_matcher_close(m);
    w = open_db(graph, db, NULL, now, &m);
    assert_int_equal(matches_checked(w, now, tue.id, &o.id, 1), 0);
    assert_int_equal(cv_matcher_cancel_booking(w, bm.id, now, &err), 0);
    assert_int_equal(matches_checked(w, now, mon10.id, &o.id, 1), 1);
    assert_int_equal(matches_checked(w, now, tue.id, &o.id, 1), 0);

    /* one car at a time: two drivers on Tuesday 11 June; accepting one supersedes the other */
    cv_offer b = new_offer(o.from, o.to, cv_local_to_utc(cv_day_from_ymd(2030, 6, 11), 8 * 3600));
    cv_offer c = b;
    assert_int_equal(cv_matcher_add_offer(w, &b, now, &err), 0);
    assert_int_equal(cv_matcher_add_offer(w, &c, now, &err), 0);
    cv_booking bb, bc;
    assert_int_equal(cv_matcher_book(w, b.id, tue.id, now, &bb, &err), 0);
    assert_int_equal(cv_matcher_book(w, c.id, tue.id, now, &bc, &err), 0);
    assert_int_equal(cv_matcher_accept(w, bb.id, now, &err), 0);
    cv_booking back;
    assert_int_equal(cv_store_get_booking(cv_matcher_store(w), bc.id, &back, &err), 0);
    assert_int_equal(back.status, CV_BOOKING_SUPERSEDED);
    assert_int_equal(cv_matcher_accept(w, bc.id, now, &err), CV_ECONFLICT);
    cv_matcher_ws_free(w);
    cv_matcher_close(m);
}

/* A passenger riding on Mondays only changes the Monday plan: a passenger riding every weekday is placed once
   (one pickup and one drop-off in the sequence) and must fit with the Monday passenger on Mondays and without
   on the other days; the index and the pair-by-pair oracle agree on random such requests. */
static void test_plans_differ_by_date(void **state)
{
    (void)state;
    cv_day first = cv_day_from_ymd(2030, 6, 3), last = cv_day_from_ymd(2030, 6, 28);
    int64_t now = at(0, 0);
    cv_matcher *m;
    cv_error err;
    cv_matcher_ws *w = open_index(graph, "matcher_plans_by_date.db", now, &m);
    cv_offer o = new_offer(lonlat(-8.6110, 41.1496), lonlat(-8.6760, 41.1530), 0);
    o.when = (cv_schedule){CV_REGULAR, 0, 0x1f, 8 * 3600, first, last, 15 * 60};
    o.seats = 3;
    assert_int_equal(cv_matcher_add_offer(w, &o, now, &err), 0);
    cv_request mon = new_request(on_route(o.from, o.to, 0.2), on_route(o.from, o.to, 0.5), 0);
    mon.when = (cv_schedule){CV_REGULAR, 0, CV_MON, 8 * 3600 + 120, first, last, 15 * 60};
    assert_int_equal(cv_matcher_add_request(w, &mon, now, &err), 0);
    cv_booking bm;
    assert_int_equal(cv_matcher_book(w, o.id, mon.id, now, &bm, &err), 0);
    assert_int_equal(cv_matcher_accept(w, bm.id, now, &err), 0);
    int matched = 0;
    for (int i = 0; i < 30; i++) {
        cv_request r =
            new_request(on_route(o.from, o.to, frand(0.05, 0.6)), on_route(o.from, o.to, frand(0.6, 0.95)), 0);
        uint8_t days = (uint8_t)(1 + next_rand() % 0x1f);
        r.when = (cv_schedule){CV_REGULAR, 0, days, 8 * 3600 + (int32_t)frand(0, 900), first, last, 15 * 60};
        if (cv_matcher_add_request(w, &r, now, &err))
            continue;
        matched += (int)matches_checked(w, now, r.id, &o.id, 1);
    }
    assert_true(matched > 5);
    /* one who rides every weekday: booked once, made on Mondays with the Monday passenger */
    cv_request all = new_request(on_route(o.from, o.to, 0.35), on_route(o.from, o.to, 0.8), 0);
    all.when = (cv_schedule){CV_REGULAR, 0, 0x1f, 8 * 3600 + 300, first, last, 15 * 60};
    assert_int_equal(cv_matcher_add_request(w, &all, now, &err), 0);
    assert_int_equal(matches_checked(w, now, all.id, &o.id, 1), 1);
    cv_booking ba;
    assert_int_equal(cv_matcher_book(w, o.id, all.id, now, &ba, &err), 0);
    assert_int_equal(cv_matcher_accept(w, ba.id, now, &err), 0);
    cv_stop *st;
    size_t ns;
    assert_int_equal(cv_store_offer_stops(cv_matcher_store(w), o.id, &st, &ns, &err), 0);
    assert_int_equal(ns, 6);
    int seen_all = 0;
    for (size_t k = 0; k < ns; k++)
        if (st[k].booking_id == ba.id) {
            seen_all++;
            assert_int_equal(st[k].dates.weekdays, 0x1f);
        } else if (st[k].booking_id == bm.id) {
            assert_int_equal(st[k].dates.weekdays, CV_MON);
        }
    assert_int_equal(seen_all, 2);
    free(st);
    cv_matcher_ws_free(w);
    cv_matcher_close(m);
}

/* Two matchers on one database, as two processes: what one writes the other applies at its next sync, in order;
   when the log was pruned past it, the other builds its index again and still answers as a fresh one. */
/* The GTFS feed of many offers across Porto: more meeting areas than the feed's first allocation holds (a pointer
   to one stop was kept while the next was added, and read after the array moved: found by the feeds' check on the
   shared extracts, under ASan). */
static void test_gtfs_many_areas(void **state)
{
    (void)state;
    int64_t now = at(0, 0);
    char db[1024];
    db_path(db, sizeof db, "matcher_gtfs.db");
    cv_matcher *m;
    cv_error err;
    cv_matcher_ws *w = open_db(graph, db, NULL, now, &m);
    size_t added = 0;
    for (int i = 0; i < 120; i++) {
        cv_offer o = new_offer(lonlat(frand(-8.68, -8.56), frand(41.13, 41.20)),
                               lonlat(frand(-8.68, -8.56), frand(41.13, 41.20)), at(8, i % 60));
        added += cv_matcher_add_offer(w, &o, now, &err) == 0;
    }
    assert_true(added >= 80);
    cv_ch_query *q = cv_ch_query_new(graph);
    assert_non_null(q);
    void *zip = NULL;
    size_t len = 0;
    cv_gtfs_stats st;
    cv_gtfs_options o = cv_gtfs_defaults();
    assert_int_equal(cv_gtfs_build(graph, q, cv_matcher_store(w), &o, now, &zip, &len, &st, &err), 0);
    assert_true(st.stops > 64); /* past the first allocation of stops */
    assert_true(st.offers >= added * 9 / 10);
    assert_true(len > 1000 && !memcmp(zip, "PK\x03\x04", 4));
    free(zip);
    cv_ch_query_free(q);
    cv_matcher_ws_free(w);
    cv_matcher_close(m);
}

/* The server's retention runs by itself: a matcher following the store with retention_days purges, at start, the
   trips whose last date is that far past (the real clock), and keeps the others. */
static void test_retention_purges_by_itself(void **state)
{
    (void)state;
    int64_t now = (int64_t)time(NULL);
    char db[1024];
    db_path(db, sizeof db, "matcher_retention.db");
    cv_matcher *ma, *mb;
    cv_error err;
    int64_t then = now - 20 * 86400;
    cv_matcher_ws *a = open_db(graph, db, NULL, then, &ma);
    cv_offer past = new_offer(lonlat(-8.6110, 41.1496), lonlat(-8.6760, 41.1530), then + 3600);
    cv_offer next = new_offer(lonlat(-8.6110, 41.1496), lonlat(-8.6760, 41.1530), now + 86400);
    assert_int_equal(cv_matcher_add_offer(a, &past, then, &err), 0);
    assert_int_equal(cv_matcher_add_offer(a, &next, then, &err), 0);
    cv_matcher_ws_free(a);
    cv_matcher_close(ma);
    cv_matcher_options mo = cv_matcher_defaults();
    mo.follow_ms = 20;
    mo.retention_days = 10;
    cv_matcher_ws *b = open_db(graph, db, &mo, now, &mb);
    cv_offer got;
    int gone = 0;
    for (int i = 0; i < 200 && !gone; i++) { /* the follow thread's first tick */
        gone = cv_store_get_offer(cv_matcher_store(b), past.id, &got, &err) == CV_ENOTFOUND;
        if (!gone)
            nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    assert_true(gone);
    assert_int_equal(cv_store_get_offer(cv_matcher_store(b), next.id, &got, &err), 0);
    cv_matcher_ws_free(b);
    cv_matcher_close(mb);
}

static void test_two_matchers_follow_the_log(void **state)
{
    (void)state;
    int64_t now = at(0, 0);
    char db[1024];
    db_path(db, sizeof db, "matcher_follow.db");
    cv_matcher *ma, *mb;
    cv_error err;
    cv_matcher_ws *a = open_db(graph, db, NULL, now, &ma), *b = open_db(graph, db, NULL, now, &mb);
    cv_offer o = new_offer(lonlat(-8.6110, 41.1496), lonlat(-8.6760, 41.1530), at(8, 0));
    assert_int_equal(cv_matcher_add_offer(a, &o, now, &err), 0);
    cv_request r = new_request(on_route(o.from, o.to, 0.3), on_route(o.from, o.to, 0.7), at(8, 5));
    assert_int_equal(cv_matcher_add_request(a, &r, now, &err), 0);
    cv_matcher_stats st;
    cv_matcher_get_stats(mb, &st);
    assert_int_equal(st.offers, 0); /* b has not looked yet */
    assert_int_equal(cv_matcher_sync(b, now, &err), 0);
    cv_matcher_get_stats(mb, &st);
    assert_int_equal(st.offers, 1);
    assert_int_equal(st.requests, 1);
    assert_int_equal(cv_matcher_seq(mb), cv_matcher_seq(ma));
    cv_match *ms;
    size_t n;
    assert_int_equal(cv_matcher_request_matches(b, r.id, now, 10, &ms, &n, &err), 0);
    assert_int_equal(n, 1);
    free(ms);
    /* a cancels; the log is then pruned to its last entry before b looks: b rebuilds */
    assert_int_equal(cv_matcher_cancel_offer(a, o.id, &err), 0);
    cv_offer o2 = new_offer(lonlat(-8.6110, 41.1496), lonlat(-8.6760, 41.1530), at(8, 10));
    assert_int_equal(cv_matcher_add_offer(a, &o2, now, &err), 0);
    assert_int_equal(cv_store_prune_changes(cv_matcher_store(a), INT64_MAX, &err), 0);
    assert_int_equal(cv_matcher_sync(b, now, &err), 0);
    cv_matcher_get_stats(mb, &st);
    assert_int_equal(st.rebuilds, 1);
    assert_int_equal(st.offers, 1);
    assert_int_equal(cv_matcher_request_matches(b, r.id, now, 10, &ms, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ms[0].offer_id, o2.id);
    free(ms);
    assert_int_equal(cv_matcher_seq(mb), cv_matcher_seq(ma));
    /* nothing new: a sync is a no-op */
    assert_int_equal(cv_matcher_sync(b, now, &err), 0);
    cv_matcher_get_stats(mb, &st);
    assert_int_equal(st.rebuilds, 1);
    cv_matcher_ws_free(a);
    cv_matcher_ws_free(b);
    cv_matcher_close(ma);
    cv_matcher_close(mb);
}

/* Many passengers accept bookings on the last seats at once, each thread with its own workspace (and so its own
   database connection): exactly as many succeed as there are seats. */
typedef struct racer {
    cv_matcher *m;
    int64_t booking, now;
    pthread_barrier_t *go;
    int rc;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    cv_error err;
    cv_matcher_ws *w = cv_matcher_ws_new(r->m, &err);
    pthread_barrier_wait(r->go);
    r->rc = w ? cv_matcher_accept(w, r->booking, r->now, &err) : -100;
    cv_matcher_ws_free(w);
    return NULL;
}

static void test_racing_for_the_last_seats(void **state)
{
    (void)state;
    int64_t now = at(0, 0);
    cv_matcher *m;
    cv_error err;
    cv_matcher_ws *w = open_index(graph, "matcher_race.db", now, &m);
    cv_offer o = new_offer(lonlat(-8.6110, 41.1496), lonlat(-8.6760, 41.1530), at(8, 0));
    o.seats = 3;
    assert_int_equal(cv_matcher_add_offer(w, &o, now, &err), 0);
    enum { N = 8 };
    racer rs[N];
    pthread_t th[N];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, N);
    /* every passenger rides the same stretch, so every leg they use is shared */
    cv_coord p = on_route(o.from, o.to, 0.3), q = on_route(o.from, o.to, 0.7);
    for (int i = 0; i < N; i++) {
        cv_request r = new_request(p, q, at(8, 3));
        assert_int_equal(cv_matcher_add_request(w, &r, now, &err), 0);
        cv_booking b;
        if (cv_matcher_book(w, o.id, r.id, now, &b, &err))
            fail_msg("%s", err.text);
        rs[i] = (racer){m, b.id, now, &go, 0};
    }
    for (int i = 0; i < N; i++)
        pthread_create(&th[i], NULL, race, &rs[i]);
    int ok = 0, conflict = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        ok += rs[i].rc == 0;
        conflict += rs[i].rc == CV_ECONFLICT;
    }
    pthread_barrier_destroy(&go);
    assert_int_equal(ok, 3);
    assert_int_equal(conflict, N - 3);
    cv_booking *bs;
    size_t nb;
    assert_int_equal(cv_store_list_bookings(cv_matcher_store(w), o.id, CV_BOOKING_ACCEPTED, &bs, &nb, &err), 0);
    assert_int_equal(nb, 3);
    free(bs);
    cv_matcher_ws_free(w);
    cv_matcher_close(m);
}

/* Offers come and go while other threads match: every answer is one the index could give, nothing crashes. */
typedef struct churn_arg {
    cv_matcher *m;
    int64_t now, request;
    atomic_int stop, queries, bad;
} churn_arg;

static void *querier(void *arg)
{
    churn_arg *c = arg;
    cv_error err;
    cv_matcher_ws *w = cv_matcher_ws_new(c->m, &err);
    while (w && !atomic_load(&c->stop)) {
        cv_match *ms;
        size_t n;
        if (cv_matcher_request_matches(w, c->request, c->now, 100, &ms, &n, &err) != 0)
            atomic_fetch_add(&c->bad, 1);
        for (size_t i = 1; i < n; i++)
            if (ms[i - 1].detour_ds > ms[i].detour_ds)
                atomic_fetch_add(&c->bad, 1);
        free(ms);
        atomic_fetch_add(&c->queries, 1);
    }
    cv_matcher_ws_free(w);
    return NULL;
}

static void test_changes_while_matching(void **state)
{
    (void)state;
    int64_t now = at(0, 0);
    cv_matcher *m;
    cv_error err;
    cv_matcher_ws *w = open_index(graph, "matcher_churn.db", now, &m);
    cv_offer base = new_offer(lonlat(-8.6110, 41.1496), lonlat(-8.6760, 41.1530), at(8, 0));
    cv_request r = new_request(on_route(base.from, base.to, 0.3), on_route(base.from, base.to, 0.7), at(8, 3));
    assert_int_equal(cv_matcher_add_request(w, &r, now, &err), 0);
    churn_arg c = {.m = m, .now = now, .request = r.id};
    atomic_init(&c.stop, 0);
    atomic_init(&c.queries, 0);
    atomic_init(&c.bad, 0);
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, querier, &c);
    while (atomic_load(&c.queries) < 2) /* the queriers are running before the changes start */
        sched_yield();
    for (int round = 0; round < 15; round++) {
        cv_offer o = base;
        o.when.depart += round * 10;
        assert_int_equal(cv_matcher_add_offer(w, &o, now, &err), 0);
        if (round % 2)
            assert_int_equal(cv_matcher_cancel_offer(w, o.id, &err), 0);
    }
    atomic_store(&c.stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&c.bad), 0);
    /* afterwards the index holds exactly the offers still open: 8 of the 15 */
    cv_match *ms;
    size_t n;
    assert_int_equal(cv_matcher_request_matches(w, r.id, now, 100, &ms, &n, &err), 0);
    assert_int_equal(n, 8);
    free(ms);
    cv_matcher_ws_free(w);
    cv_matcher_close(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_booking_flow),
        cmocka_unit_test(test_regular_across_dst),
        cmocka_unit_test(test_racing_for_the_last_seats),
        cmocka_unit_test(test_changes_while_matching),
        cmocka_unit_test(test_index_equals_pairs_and_survives_restart),
        cmocka_unit_test(test_hub_labels_give_the_same_matches),
        cmocka_unit_test(test_times_at_the_edges),
        cmocka_unit_test(test_along_one_street),
        /* last: they draw random points, and the tests above were tuned on the sequence without them */
        cmocka_unit_test(test_seats_per_date),
        cmocka_unit_test(test_plans_differ_by_date),
        cmocka_unit_test(test_two_matchers_follow_the_log),
        cmocka_unit_test(test_retention_purges_by_itself),
        cmocka_unit_test(test_gtfs_many_areas),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
