/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_store.c — matcher/store.c: round trips, lists, state changes, per-leg seats, rollback of refused calls,
   schema versions and foreign files, and concurrent acceptance of the last seats from many connections; the same
   tests on both engines: SQLite files, and databases of a PostgreSQL server the test starts itself (pg_temp.h; that
   group is skipped with a message when the package is absent). What only one engine has (SQLite's migrations, its
   file checks) is tested on that one. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/cv_error.h"
#include "matcher/db.h"
#include "matcher/store.h"
#include "pg_temp.h"
#include "test_support.h"
#include "matcher/timeutil.h"
#include "matcher/trip.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fixture: a fresh database per test ---- */

typedef struct fixture {
    char path[512]; /* a file, or a postgresql:// URI */
    cv_store *s;
} fixture;

/* The PostgreSQL group: the server's own database, in which the tests' databases are made. */
static int pg;
static char pg_uri[256];

/* Runs sql on the server's own database (CREATE and DROP DATABASE cannot run in a test's). */
static void pg_admin(const char *sql)
{
    cv_db *db = NULL;
    cv_error err = {0};
    if (cv_db_open(pg_uri, &db, &err) || cv_db_exec(db, sql, &err))
        fprintf(stderr, "%s: %s\n", sql, err.text);
    cv_db_close(db);
}

/* A database unique to this process and call, new: a file under COVOIT_TMP (removed first in case an earlier run
   left it), or in the PostgreSQL group a database of its own on the test's server. */
static void tmp_path(char *buf, size_t size, const char *tag)
{
    static int counter;
    if (pg) {
        char name[64], sql[128];
        snprintf(name, sizeof name, "store_%d_%s", ++counter, tag);
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", name);
        pg_admin(sql);
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
        pg_admin(sql);
        snprintf(buf, size, "%.*s/%s", (int)(strrchr(pg_uri, '/') - pg_uri), pg_uri, name);
        return;
    }
    snprintf(buf, size, "%s/test_store_%ld_%d_%s.db", COVOIT_TMP, (long)getpid(), ++counter, tag);
    tst_remove_db(buf);
}

static void remove_db(const char *path)
{
    if (!cv_db_is_postgres(path)) {
        tst_remove_db(path);
        return;
    }
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", strrchr(path, '/') + 1);
    pg_admin(sql);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    tmp_path(f->path, sizeof f->path, "main");
    cv_error err = {0};
    if (cv_store_open(f->path, &f->s, &err) != 0) {
        fprintf(stderr, "cv_store_open: %s\n", err.text);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    cv_store_close(f->s);
    remove_db(f->path);
    free(f);
    return 0;
}

static int setup_sqlite(void **state)
{
    (void)state;
    pg = 0;
    return 0;
}

static int setup_pg(void **state)
{
    (void)state;
    char why[256];
    if (tst_pg_start(pg_uri, sizeof pg_uri, why, sizeof why)) {
        fprintf(stderr, "%s\n", why);
        return -1;
    }
    pg = 1;
    return 0;
}

static int teardown_pg(void **state)
{
    (void)state;
    tst_pg_stop();
    pg = 0;
    return 0;
}

/* ---- raw SQL on a second connection, to look at what the store wrote ---- */

static cv_db *raw_open(const char *path)
{
    cv_db *db = NULL;
    cv_error err = {0};
    if (cv_db_open(path, &db, &err))
        fprintf(stderr, "%s: %s\n", path, err.text);
    assert_non_null(db);
    return db;
}

static void raw_exec(const char *path, const char *sql)
{
    cv_db *db = raw_open(path);
    cv_error err = {0};
    int rc = cv_db_exec(db, sql, &err);
    if (rc)
        fprintf(stderr, "%s: %s\n", sql, err.text);
    cv_db_close(db);
    assert_int_equal(rc, 0);
}

/* The first column of the one row of sql, as text (malloc'ed). */
static char *raw_text(const char *path, const char *sql)
{
    cv_db *db = raw_open(path);
    cv_db_stmt *st = NULL;
    cv_error err = {0};
    int rc = cv_db_prepare(db, sql, &st, &err);
    if (!rc)
        rc = cv_db_step(st, &err);
    if (rc != CV_DB_ROW)
        fprintf(stderr, "%s: %s\n", sql, err.text);
    assert_int_equal(rc, CV_DB_ROW);
    const char *z = cv_db_column_text(st, 0);
    char *copy = strdup(z ? z : "");
    cv_db_finalize(st);
    cv_db_close(db);
    return copy;
}

static long long raw_int(const char *path, const char *sql)
{
    char *t = raw_text(path, sql);
    long long v = strtoll(t, NULL, 10);
    free(t);
    return v;
}

/* The whole content of every table as one string, to prove that a refused call changed nothing. */
static char *fingerprint(const char *path)
{
    static const char *const tables[] = {"owners", "offers", "requests", "bookings", "stops"};
    cv_db *db = raw_open(path);
    size_t cap = 4096, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    out[0] = '\0';
    for (size_t t = 0; t < NELEM(tables); t++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY 1", tables[t]);
        cv_db_stmt *st = NULL;
        cv_error err = {0};
        assert_int_equal(cv_db_prepare(db, sql, &st, &err), 0);
        while (cv_db_step(st, &err) == CV_DB_ROW) {
            int ncol = cv_db_column_count(st);
            for (int c = 0; c < ncol; c++) {
                const char *z = cv_db_column_text(st, c);
                size_t need = len + (z ? strlen(z) : 4) + 2 + 1;
                if (need > cap) {
                    while (cap < need)
                        cap *= 2;
                    out = realloc(out, cap);
                    assert_non_null(out);
                }
                len += (size_t)sprintf(out + len, "%s%c", z ? z : "NULL", c + 1 < ncol ? '|' : '\n');
            }
        }
        cv_db_finalize(st);
    }
    cv_db_close(db);
    return out;
}

static long long count(const char *path, const char *table_and_where)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table_and_where);
    return raw_int(path, sql);
}

/* ---- builders ---- */

/* Points around Monaco, in 1e-7 degrees. */
static cv_coord P(int i)
{
    return (cv_coord){74200000 + i * 10000, 437300000 + i * 5000};
}

static cv_offer make_offer(const char *owner, int seats, int nvias)
{
    cv_offer o;
    memset(&o, 0, sizeof o);
    snprintf(o.owner, sizeof o.owner, "%s", owner);
    o.from = P(0);
    o.to = P(100);
    o.nvias = nvias;
    for (int i = 0; i < nvias; i++)
        o.vias[i] = P(10 + i);
    o.when.kind = CV_PUNCTUAL;
    o.when.depart = 1900000000;
    o.when.margin_s = CV_DEFAULT_MARGIN_S;
    o.seats = seats;
    o.max_detour_s = -1;
    o.max_detour_m = 2500;
    o.price_per_km = CV_DEFAULT_PRICE_PER_KM;
    o.status = CV_TRIP_OPEN;
    o.direct_duration_ds = 12345;
    o.direct_distance_dm = 67890;
    return o;
}

static cv_request make_request(const char *owner, int seats)
{
    cv_request r;
    memset(&r, 0, sizeof r);
    snprintf(r.owner, sizeof r.owner, "%s", owner);
    r.from = P(20);
    r.to = P(80);
    r.when.kind = CV_PUNCTUAL;
    r.when.depart = 1900000600;
    r.when.margin_s = 600;
    r.seats = seats;
    r.status = CV_TRIP_OPEN;
    return r;
}

static cv_booking make_booking(int64_t offer_id, int64_t request_id, int seats, double pickup_key, double dropoff_key)
{
    cv_booking b;
    memset(&b, 0, sizeof b);
    b.offer_id = offer_id;
    b.request_id = request_id;
    b.seats = seats;
    b.pickup = P(30);
    b.dropoff = P(70);
    b.pickup_key = pickup_key;
    b.dropoff_key = dropoff_key;
    b.pickup_time = 1900000900;
    b.dropoff_time = 1900001800;
    b.amount = 1.25;
    b.plan_version = -1;                                            /* keys given here, not placed by the matcher */
    cv_schedule when = {.kind = CV_PUNCTUAL, .depart = 1900000000}; /* make_offer's departure: its one date */
    b.dates = cv_schedule_dates(&when);
    return b;
}

static int64_t add_offer(cv_store *s, int seats, int nvias)
{
    cv_offer o = make_offer("driver", seats, nvias);
    cv_error err = {0};
    assert_int_equal(cv_store_add_offer(s, &o, &err), 0);
    assert_true(o.id > 0);
    return o.id;
}

static int64_t add_request(cv_store *s, const char *owner)
{
    cv_request r = make_request(owner, 1);
    cv_error err = {0};
    assert_int_equal(cv_store_add_request(s, &r, &err), 0);
    assert_true(r.id > 0);
    return r.id;
}

/* A new request and a pending booking of it on offer_id. */
static int64_t add_booking(cv_store *s, int64_t offer_id, int seats, double pickup_key, double dropoff_key)
{
    cv_booking b = make_booking(offer_id, add_request(s, "passenger"), seats, pickup_key, dropoff_key);
    cv_error err = {0};
    int rc = cv_store_add_booking(s, &b, &err);
    if (rc)
        fprintf(stderr, "add_booking: %s\n", err.text);
    assert_int_equal(rc, 0);
    assert_true(b.id > 0);
    return b.id;
}

static int booking_status(cv_store *s, int64_t id)
{
    cv_booking b;
    cv_error err = {0};
    assert_int_equal(cv_store_get_booking(s, id, &b, &err), 0);
    return (int)b.status;
}

static void assert_coord_equal(cv_coord a, cv_coord b)
{
    assert_int_equal(a.lon, b.lon);
    assert_int_equal(a.lat, b.lat);
}

static void assert_offer_equal(const cv_offer *a, const cv_offer *b)
{
    assert_int_equal(a->id, b->id);
    assert_string_equal(a->owner, b->owner);
    assert_coord_equal(a->from, b->from);
    assert_coord_equal(a->to, b->to);
    assert_int_equal(a->nvias, b->nvias);
    for (int i = 0; i < a->nvias; i++)
        assert_coord_equal(a->vias[i], b->vias[i]);
    assert_int_equal(a->when.kind, b->when.kind);
    assert_int_equal(a->when.depart, b->when.depart);
    assert_int_equal(a->when.weekdays, b->when.weekdays);
    assert_int_equal(a->when.time_of_day, b->when.time_of_day);
    assert_int_equal(a->when.first_day, b->when.first_day);
    assert_int_equal(a->when.last_day, b->when.last_day);
    assert_int_equal(a->when.margin_s, b->when.margin_s);
    assert_int_equal(a->seats, b->seats);
    assert_int_equal(a->max_detour_s, b->max_detour_s);
    assert_int_equal(a->max_detour_m, b->max_detour_m);
    assert_true(a->price_per_km == b->price_per_km);
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->created, b->created);
    assert_int_equal(a->direct_duration_ds, b->direct_duration_ds);
    assert_int_equal(a->direct_distance_dm, b->direct_distance_dm);
}

/* ---- round trips ---- */

static void test_offer_round_trip_punctual(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    cv_offer o = make_offer("alice", 3, 2);
    o.created = 0;
    int64_t before = (int64_t)time(NULL);
    assert_int_equal(cv_store_add_offer(f->s, &o, &err), 0);
    assert_true(o.id > 0);
    assert_true(o.created >= before && o.created <= (int64_t)time(NULL));

    cv_offer back;
    assert_int_equal(cv_store_get_offer(f->s, o.id, &back, &err), 0);
    assert_offer_equal(&back, &o);

    cv_stop *stops = NULL;
    size_t n = 0;
    assert_int_equal(cv_store_offer_stops(f->s, o.id, &stops, &n, &err), 0);
    assert_int_equal(n, 4);
    const cv_stop_kind kinds[] = {CV_STOP_ORIGIN, CV_STOP_VIA, CV_STOP_VIA, CV_STOP_DESTINATION};
    const cv_coord at[] = {o.from, o.vias[0], o.vias[1], o.to};
    const double keys[] = {0.0, CV_STOP_KEY_END / 3.0, 2.0 * CV_STOP_KEY_END / 3.0, CV_STOP_KEY_END};
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(stops[i].kind, kinds[i]);
        assert_coord_equal(stops[i].at, at[i]);
        assert_true(fabs(stops[i].key - keys[i]) < 1e-6);
        assert_int_equal(stops[i].booking_id, 0);
        assert_int_equal(stops[i].seats_delta, 0);
    }
    free(stops);
}

static void test_offer_round_trip_regular(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    cv_offer o = make_offer("bob", 2, CV_MAX_VIAS);
    o.when.kind = CV_REGULAR;
    o.when.depart = 0;
    o.when.weekdays = CV_MON | CV_WED | CV_FRI;
    o.when.time_of_day = 7 * 3600 + 30 * 60;
    o.when.first_day = 20000;
    o.when.last_day = 20200;
    o.when.margin_s = 1200;
    o.max_detour_s = 600;
    o.max_detour_m = -1;
    o.price_per_km = 0.08;
    o.created = 1700000000;
    assert_int_equal(cv_store_add_offer(f->s, &o, &err), 0);
    assert_int_equal(o.created, 1700000000); /* a given creation time is kept */

    cv_offer back;
    assert_int_equal(cv_store_get_offer(f->s, o.id, &back, &err), 0);
    assert_offer_equal(&back, &o);

    cv_stop *stops = NULL;
    size_t n = 0;
    assert_int_equal(cv_store_offer_stops(f->s, o.id, &stops, &n, &err), 0);
    assert_int_equal(n, CV_MAX_VIAS + 2);
    assert_int_equal(stops[0].kind, CV_STOP_ORIGIN);
    assert_true(stops[0].key == 0.0);
    for (int i = 1; i <= CV_MAX_VIAS; i++) {
        assert_int_equal(stops[i].kind, CV_STOP_VIA);
        assert_coord_equal(stops[i].at, o.vias[i - 1]);
        assert_true(stops[i].key > stops[i - 1].key);
        assert_true(fabs(stops[i].key - i * CV_STOP_KEY_END / (CV_MAX_VIAS + 1)) < 1e-6);
    }
    assert_int_equal(stops[n - 1].kind, CV_STOP_DESTINATION);
    assert_true(stops[n - 1].key == CV_STOP_KEY_END);
    free(stops);

    /* No vias: just the two ends. */
    cv_offer plain = make_offer("bob", 1, 0);
    assert_int_equal(cv_store_add_offer(f->s, &plain, &err), 0);
    assert_int_equal(cv_store_get_offer(f->s, plain.id, &back, &err), 0);
    assert_offer_equal(&back, &plain);
    assert_int_equal(cv_store_offer_stops(f->s, plain.id, &stops, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(stops[0].kind, CV_STOP_ORIGIN);
    assert_int_equal(stops[1].kind, CV_STOP_DESTINATION);
    free(stops);
}

static void test_request_round_trip(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    cv_request r = make_request("carol", 2);
    r.when.kind = CV_REGULAR;
    r.when.weekdays = CV_SAT | CV_SUN;
    r.when.time_of_day = 18 * 3600;
    r.when.first_day = 19000;
    r.when.last_day = 19100;
    assert_int_equal(cv_store_add_request(f->s, &r, &err), 0);
    assert_true(r.id > 0);
    assert_true(r.created > 0);

    cv_request back;
    assert_int_equal(cv_store_get_request(f->s, r.id, &back, &err), 0);
    assert_int_equal(back.id, r.id);
    assert_string_equal(back.owner, "carol");
    assert_coord_equal(back.from, r.from);
    assert_coord_equal(back.to, r.to);
    assert_int_equal(back.when.kind, CV_REGULAR);
    assert_int_equal(back.when.depart, r.when.depart);
    assert_int_equal(back.when.weekdays, CV_SAT | CV_SUN);
    assert_int_equal(back.when.time_of_day, 18 * 3600);
    assert_int_equal(back.when.first_day, 19000);
    assert_int_equal(back.when.last_day, 19100);
    assert_int_equal(back.when.margin_s, 600);
    assert_int_equal(back.seats, 2);
    assert_int_equal(back.status, CV_TRIP_OPEN);
    assert_int_equal(back.created, r.created);
    assert_int_equal(count(f->path, "owners WHERE ref = 'carol'"), 1);
}

static void test_booking_round_trip(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    int64_t offer = add_offer(f->s, 3, 1);
    int64_t req = add_request(f->s, "dave");
    cv_booking b = make_booking(offer, req, 2, 250000.0, 750000.0);
    b.amount = 3.75;
    assert_int_equal(cv_store_add_booking(f->s, &b, &err), 0);
    assert_int_equal(b.status, CV_BOOKING_PENDING);
    assert_true(b.created > 0 && b.updated == b.created);

    cv_booking back;
    assert_int_equal(cv_store_get_booking(f->s, b.id, &back, &err), 0);
    assert_int_equal(back.id, b.id);
    assert_int_equal(back.offer_id, offer);
    assert_int_equal(back.request_id, req);
    assert_int_equal(back.seats, 2);
    assert_int_equal(back.status, CV_BOOKING_PENDING);
    assert_coord_equal(back.pickup, b.pickup);
    assert_coord_equal(back.dropoff, b.dropoff);
    assert_true(back.pickup_key == 250000.0);
    assert_true(back.dropoff_key == 750000.0);
    assert_int_equal(back.pickup_time, b.pickup_time);
    assert_int_equal(back.dropoff_time, b.dropoff_time);
    assert_true(back.amount == 3.75);
    assert_int_equal(back.created, b.created);
    assert_int_equal(back.updated, b.updated);
}

/* ---- lists ---- */

static void test_list_offers_and_requests(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    int64_t ids[4];
    const char *owners[] = {"alice", "alice", "bob", "alice"};
    const int64_t created[] = {1000, 3000, 2000, 2000};
    for (int i = 0; i < 4; i++) {
        cv_offer o = make_offer(owners[i], 2, i % 3);
        o.created = created[i];
        assert_int_equal(cv_store_add_offer(f->s, &o, &err), 0);
        ids[i] = o.id;
    }
    assert_int_equal(cv_store_cancel_offer(f->s, ids[1], &err), 0);

    cv_offer *a = NULL;
    size_t n = 0;
    /* alice, all: created 3000 (ids[1]), 2000 (ids[3]), 1000 (ids[0]) */
    assert_int_equal(cv_store_list_offers(f->s, "alice", 0, &a, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(a[0].id, ids[1]);
    assert_int_equal(a[0].status, CV_TRIP_CANCELLED);
    assert_int_equal(a[1].id, ids[3]);
    assert_int_equal(a[1].nvias, 0);
    assert_int_equal(a[2].id, ids[0]);
    free(a);

    assert_int_equal(cv_store_list_offers(f->s, "alice", 1, &a, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(a[0].id, ids[3]);
    assert_int_equal(a[1].id, ids[0]);
    free(a);

    /* all owners: same creation time breaks on the newer id first */
    assert_int_equal(cv_store_list_offers(f->s, NULL, 0, &a, &n, &err), 0);
    assert_int_equal(n, 4);
    assert_int_equal(a[0].id, ids[1]);
    assert_int_equal(a[1].id, ids[3]);
    assert_int_equal(a[2].id, ids[2]);
    assert_int_equal(a[2].nvias, 2);
    assert_coord_equal(a[2].vias[1], P(11));
    assert_int_equal(a[3].id, ids[0]);
    free(a);

    assert_int_equal(cv_store_list_offers(f->s, NULL, 1, &a, &n, &err), 0);
    assert_int_equal(n, 3);
    free(a);

    assert_int_equal(cv_store_list_offers(f->s, "nobody", 0, &a, &n, &err), 0);
    assert_int_equal(n, 0);
    free(a);

    /* requests */
    int64_t rid[3];
    for (int i = 0; i < 3; i++) {
        cv_request r = make_request(i == 1 ? "bob" : "alice", 1);
        r.created = 5000 + i;
        assert_int_equal(cv_store_add_request(f->s, &r, &err), 0);
        rid[i] = r.id;
    }
    assert_int_equal(cv_store_cancel_request(f->s, rid[0], &err), 0);
    cv_request *ra = NULL;
    assert_int_equal(cv_store_list_requests(f->s, "alice", 0, &ra, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ra[0].id, rid[2]);
    assert_int_equal(ra[1].id, rid[0]);
    assert_int_equal(ra[1].status, CV_TRIP_CANCELLED);
    free(ra);
    assert_int_equal(cv_store_list_requests(f->s, "alice", 1, &ra, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ra[0].id, rid[2]);
    free(ra);
    assert_int_equal(cv_store_list_requests(f->s, NULL, 0, &ra, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(ra[0].id, rid[2]);
    assert_int_equal(ra[1].id, rid[1]);
    assert_int_equal(ra[2].id, rid[0]);
    free(ra);
    assert_int_equal(cv_store_list_requests(f->s, NULL, 1, &ra, &n, &err), 0);
    assert_int_equal(n, 2);
    free(ra);
}

static void test_list_bookings(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    int64_t offer = add_offer(f->s, 3, 0);
    int64_t b1 = add_booking(f->s, offer, 1, 0, 500000);
    int64_t b2 = add_booking(f->s, offer, 1, 0, 500000);
    int64_t b3 = add_booking(f->s, offer, 1, 0, 500000);
    assert_int_equal(cv_store_accept_booking(f->s, b2, &err), 0);

    cv_booking *a = NULL;
    size_t n = 0;
    assert_int_equal(cv_store_list_bookings(f->s, offer, -1, &a, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(a[0].id, b1); /* oldest first */
    assert_int_equal(a[1].id, b2);
    assert_int_equal(a[1].status, CV_BOOKING_ACCEPTED);
    assert_int_equal(a[2].id, b3);
    free(a);
    assert_int_equal(cv_store_list_bookings(f->s, offer, CV_BOOKING_PENDING, &a, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(a[0].id, b1);
    assert_int_equal(a[1].id, b3);
    free(a);
    assert_int_equal(cv_store_list_bookings(f->s, offer, CV_BOOKING_REFUSED, &a, &n, &err), 0);
    assert_int_equal(n, 0);
    free(a);
}

/* ---- refusals ---- */

static void test_cancel_twice(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    int64_t offer = add_offer(f->s, 3, 0);
    assert_int_equal(cv_store_cancel_offer(f->s, offer, &err), 0);
    assert_int_equal(cv_store_cancel_offer(f->s, offer, &err), CV_ECONFLICT);
    assert_int_equal(err.code, CV_ECONFLICT);
    char expect[64];
    snprintf(expect, sizeof expect, "offer %lld is cancelled already", (long long)offer);
    assert_string_equal(err.text, expect);

    int64_t req = add_request(f->s, "erin");
    assert_int_equal(cv_store_cancel_request(f->s, req, &err), 0);
    assert_int_equal(cv_store_cancel_request(f->s, req, &err), CV_ECONFLICT);
    cv_request r;
    assert_int_equal(cv_store_get_request(f->s, req, &r, &err), 0);
    assert_int_equal(r.status, CV_TRIP_CANCELLED);
}

static void test_unknown_ids(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    cv_offer o;
    cv_request r;
    cv_booking b;
    cv_stop *stops = (cv_stop *)&err; /* must be reset to NULL on failure */
    cv_booking *list = (cv_booking *)&err;
    size_t n = 7;

    assert_int_equal(cv_store_get_offer(f->s, 999, &o, &err), CV_ENOTFOUND);
    assert_string_equal(err.text, "offer 999 not found");
    assert_int_equal(cv_store_get_request(f->s, 998, &r, &err), CV_ENOTFOUND);
    assert_string_equal(err.text, "request 998 not found");
    assert_int_equal(cv_store_get_booking(f->s, 997, &b, &err), CV_ENOTFOUND);
    assert_string_equal(err.text, "booking 997 not found");
    assert_int_equal(cv_store_cancel_offer(f->s, 999, &err), CV_ENOTFOUND);
    assert_int_equal(cv_store_cancel_request(f->s, 999, &err), CV_ENOTFOUND);
    assert_int_equal(cv_store_accept_booking(f->s, 999, &err), CV_ENOTFOUND);
    assert_string_equal(err.text, "booking 999 not found");
    assert_int_equal(cv_store_refuse_booking(f->s, 999, &err), CV_ENOTFOUND);
    assert_int_equal(cv_store_cancel_booking(f->s, 999, &err), CV_ENOTFOUND);
    assert_int_equal(cv_store_offer_stops(f->s, 999, &stops, &n, &err), CV_ENOTFOUND);
    assert_null(stops);
    assert_int_equal(n, 0);
    n = 7;
    assert_int_equal(cv_store_list_bookings(f->s, 999, -1, &list, &n, &err), CV_ENOTFOUND);
    assert_null(list);
    assert_int_equal(n, 0);

    int64_t offer = add_offer(f->s, 3, 0);
    int64_t req = add_request(f->s, "frank");
    b = make_booking(999, req, 1, 0, 1000);
    assert_int_equal(cv_store_add_booking(f->s, &b, &err), CV_ENOTFOUND);
    assert_string_equal(err.text, "offer 999 not found");
    b = make_booking(offer, 998, 1, 0, 1000);
    assert_int_equal(cv_store_add_booking(f->s, &b, &err), CV_ENOTFOUND);
    assert_string_equal(err.text, "request 998 not found");
    assert_int_equal(count(f->path, "bookings"), 0);
}

static void test_add_booking_checks(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    int64_t offer = add_offer(f->s, 3, 0);
    int64_t req = add_request(f->s, "gina");
    char *before = fingerprint(f->path);

    cv_booking b = make_booking(offer, req, 0, 0, 1000);
    assert_int_equal(cv_store_add_booking(f->s, &b, &err), CV_EINVAL);
    b.seats = -2;
    assert_int_equal(cv_store_add_booking(f->s, &b, &err), CV_EINVAL);
    const double bad_keys[][2] = {
        {500000, 400000}, {500000, 500000}, {-1, 1000}, {0, CV_STOP_KEY_END + 1}, {NAN, 1000}, {0, NAN},
    };
    for (size_t i = 0; i < NELEM(bad_keys); i++) {
        b = make_booking(offer, req, 1, bad_keys[i][0], bad_keys[i][1]);
        assert_int_equal(cv_store_add_booking(f->s, &b, &err), CV_EINVAL);
        assert_int_equal(b.id, 0);
    }
    char *after = fingerprint(f->path);
    assert_string_equal(before, after);
    free(before);
    free(after);

    /* The whole sequence is allowed: origin to destination. */
    b = make_booking(offer, req, 1, 0, CV_STOP_KEY_END);
    assert_int_equal(cv_store_add_booking(f->s, &b, &err), 0);
    int64_t first = b.id;

    /* One live booking per request and offer. */
    cv_booking again = make_booking(offer, req, 1, 100, 200);
    assert_int_equal(cv_store_add_booking(f->s, &again, &err), CV_ECONFLICT);
    char expect[128];
    snprintf(expect, sizeof expect, "request %lld already has booking %lld (pending) on offer %lld", (long long)req,
             (long long)first, (long long)offer);
    assert_string_equal(err.text, expect);
    assert_int_equal(cv_store_accept_booking(f->s, first, &err), 0);
    assert_int_equal(cv_store_add_booking(f->s, &again, &err), CV_ECONFLICT);
    assert_non_null(strstr(err.text, "(accepted)"));
    /* Once that one is cancelled the request may book again. */
    assert_int_equal(cv_store_cancel_booking(f->s, first, &err), 0);
    assert_int_equal(cv_store_add_booking(f->s, &again, &err), 0);
    assert_int_equal(cv_store_refuse_booking(f->s, again.id, &err), 0);
    again.id = 0;
    assert_int_equal(cv_store_add_booking(f->s, &again, &err), 0);

    /* Closed offer or request. */
    int64_t req2 = add_request(f->s, "hugo");
    assert_int_equal(cv_store_cancel_request(f->s, req2, &err), 0);
    b = make_booking(offer, req2, 1, 0, 1000);
    assert_int_equal(cv_store_add_booking(f->s, &b, &err), CV_ECONFLICT);
    snprintf(expect, sizeof expect, "request %lld is cancelled", (long long)req2);
    assert_string_equal(err.text, expect);
    int64_t req3 = add_request(f->s, "hugo");
    assert_int_equal(cv_store_cancel_offer(f->s, offer, &err), 0);
    b = make_booking(offer, req3, 1, 0, 1000);
    assert_int_equal(cv_store_add_booking(f->s, &b, &err), CV_ECONFLICT);
    snprintf(expect, sizeof expect, "offer %lld is cancelled", (long long)offer);
    assert_string_equal(err.text, expect);
}

/* ---- seats per leg ---- */

static int accept_rc(cv_store *s, int64_t id, cv_error *err)
{
    int rc = cv_store_accept_booking(s, id, err);
    if (rc && rc != CV_ECONFLICT)
        fprintf(stderr, "accept %lld: %s\n", (long long)id, err->text);
    return rc;
}

static void test_per_leg_seats(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    int64_t offer = add_offer(f->s, 3, 1); /* via at key 500000 */

    int64_t a = add_booking(f->s, offer, 2, 0, 200000);
    int64_t b = add_booking(f->s, offer, 2, 300000, 500000);
    assert_int_equal(accept_rc(f->s, a, &err), 0);
    assert_int_equal(accept_rc(f->s, b, &err), 0);
    /* C overlaps both, but never more than 2 + 1 on a leg. */
    int64_t c = add_booking(f->s, offer, 1, 0, 500000);
    assert_int_equal(accept_rc(f->s, c, &err), 0);

    /* D would make the leg [100000, 200000) carry A 2 + C 1 + D 1 = 4 > 3. */
    int64_t d = add_booking(f->s, offer, 1, 100000, 400000);
    char *before = fingerprint(f->path);
    assert_int_equal(accept_rc(f->s, d, &err), CV_ECONFLICT);
    assert_int_equal(err.code, CV_ECONFLICT);
    char expect[256];
    snprintf(expect, sizeof expect,
             "no seat left on offer %lld on 2030-03-17 between keys 100000 and 200000: 3 of 3 taken, booking %lld "
             "needs 1",
             (long long)offer, (long long)d);
    assert_string_equal(err.text, expect);
    char *after = fingerprint(f->path);
    assert_string_equal(before, after);
    free(before);
    free(after);
    assert_int_equal(booking_status(f->s, d), CV_BOOKING_PENDING);

    /* The stops: origin, A up, C up, A down, B up, then at 500000 B and C down before the via, destination. */
    cv_stop *st = NULL;
    size_t n = 0;
    assert_int_equal(cv_store_offer_stops(f->s, offer, &st, &n, &err), 0);
    assert_int_equal(n, 3 + 6);
    const struct {
        double key;
        cv_stop_kind kind;
        int delta;
    } want[] = {
        /* clang-format off */
        {0, CV_STOP_ORIGIN, 0},         {0, CV_STOP_PICKUP, 2},       {0, CV_STOP_PICKUP, 1},
        {200000, CV_STOP_DROPOFF, -2},  {300000, CV_STOP_PICKUP, 2},  {500000, CV_STOP_DROPOFF, -2},
        {500000, CV_STOP_DROPOFF, -1},  {500000, CV_STOP_VIA, 0},     {CV_STOP_KEY_END, CV_STOP_DESTINATION, 0},
        /* clang-format on */
    };
    int load = 0, max_load = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(st[i].key == want[i].key);
        assert_int_equal(st[i].kind, want[i].kind);
        assert_int_equal(st[i].seats_delta, want[i].delta);
        assert_int_equal(st[i].booking_id != 0, want[i].kind == CV_STOP_PICKUP || want[i].kind == CV_STOP_DROPOFF);
        load += st[i].seats_delta;
        if (load > max_load)
            max_load = load;
    }
    assert_int_equal(load, 0);
    assert_int_equal(max_load, 3);
    assert_int_equal(st[1].booking_id, a);
    assert_int_equal(st[2].booking_id, c);
    free(st);

    /* Cancelling C gives its seat back on every leg: D fits now. */
    assert_int_equal(cv_store_cancel_booking(f->s, c, &err), 0);
    assert_int_equal(count(f->path, "stops WHERE booking_id IS NOT NULL"), 4);
    assert_int_equal(accept_rc(f->s, d, &err), 0);
    assert_int_equal(booking_status(f->s, d), CV_BOOKING_ACCEPTED);

    /* Intervals are half-open: E on [200000, 300000) sees only D (A leaves at 200000, B boards at 300000). */
    int64_t e = add_booking(f->s, offer, 2, 200000, 300000);
    assert_int_equal(accept_rc(f->s, e, &err), 0);
    /* Now that leg is full; any more inside it is refused, and one outside the offer's used legs is not. */
    int64_t g = add_booking(f->s, offer, 1, 250000, 260000);
    assert_int_equal(accept_rc(f->s, g, &err), CV_ECONFLICT);
    assert_non_null(strstr(err.text, "between keys 250000 and 260000: 3 of 3 taken"));
    int64_t h = add_booking(f->s, offer, 3, 500000, CV_STOP_KEY_END);
    assert_int_equal(accept_rc(f->s, h, &err), 0);
    /* A drop-off and a pickup at the same key inside the asked interval: X leaves at 400000 as Y boards, so W on
       [200000, 600000) meets at most one of them on any leg and fits into 2 seats. */
    int64_t offer3 = add_offer(f->s, 2, 0);
    int64_t x = add_booking(f->s, offer3, 1, 0, 400000);
    int64_t y = add_booking(f->s, offer3, 1, 400000, 800000);
    int64_t w = add_booking(f->s, offer3, 1, 200000, 600000);
    assert_int_equal(accept_rc(f->s, x, &err), 0);
    assert_int_equal(accept_rc(f->s, y, &err), 0);
    assert_int_equal(accept_rc(f->s, w, &err), 0);
    int64_t w2 = add_booking(f->s, offer3, 1, 399999, 400001);
    assert_int_equal(accept_rc(f->s, w2, &err), CV_ECONFLICT);
    assert_non_null(strstr(err.text, "between keys 399999 and 400000: 2 of 2 taken"));
    /* More seats than the offer has are never accepted, even on an empty leg... */
    int64_t offer2 = add_offer(f->s, 2, 0);
    int64_t big = add_booking(f->s, offer2, 3, 0, 1000);
    assert_int_equal(accept_rc(f->s, big, &err), CV_ECONFLICT);
    assert_non_null(strstr(err.text, "0 of 2 taken, booking"));
    /* ...and bookings on another offer do not count. */
    int64_t other = add_booking(f->s, offer2, 2, 0, CV_STOP_KEY_END);
    assert_int_equal(accept_rc(f->s, other, &err), 0);
}

static void test_booking_states(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    char expect[128];
    int64_t offer = add_offer(f->s, 3, 0);

    int64_t r = add_booking(f->s, offer, 1, 0, 1000);
    assert_int_equal(cv_store_refuse_booking(f->s, r, &err), 0);
    assert_int_equal(booking_status(f->s, r), CV_BOOKING_REFUSED);
    assert_int_equal(cv_store_refuse_booking(f->s, r, &err), CV_ECONFLICT);
    snprintf(expect, sizeof expect, "booking %lld is refused, not pending", (long long)r);
    assert_string_equal(err.text, expect);
    assert_int_equal(cv_store_accept_booking(f->s, r, &err), CV_ECONFLICT);
    assert_string_equal(err.text, expect);
    assert_int_equal(cv_store_cancel_booking(f->s, r, &err), CV_ECONFLICT);
    snprintf(expect, sizeof expect, "booking %lld is refused, not pending or accepted", (long long)r);
    assert_string_equal(err.text, expect);

    int64_t p = add_booking(f->s, offer, 1, 0, 1000);
    assert_int_equal(cv_store_cancel_booking(f->s, p, &err), 0);
    assert_int_equal(booking_status(f->s, p), CV_BOOKING_CANCELLED);
    assert_int_equal(cv_store_accept_booking(f->s, p, &err), CV_ECONFLICT);
    snprintf(expect, sizeof expect, "booking %lld is cancelled, not pending", (long long)p);
    assert_string_equal(err.text, expect);

    int64_t a = add_booking(f->s, offer, 2, 0, 1000);
    assert_int_equal(cv_store_accept_booking(f->s, a, &err), 0);
    cv_booking got;
    assert_int_equal(cv_store_get_booking(f->s, a, &got, &err), 0);
    assert_int_equal(got.status, CV_BOOKING_ACCEPTED);
    assert_true(got.updated >= got.created);
    assert_int_equal(cv_store_accept_booking(f->s, a, &err), CV_ECONFLICT);
    snprintf(expect, sizeof expect, "booking %lld is accepted, not pending", (long long)a);
    assert_string_equal(err.text, expect);
    assert_int_equal(cv_store_refuse_booking(f->s, a, &err), CV_ECONFLICT);
    assert_int_equal(count(f->path, "stops WHERE booking_id IS NOT NULL"), 2);
    assert_int_equal(cv_store_cancel_booking(f->s, a, &err), 0);
    assert_int_equal(count(f->path, "stops WHERE booking_id IS NOT NULL"), 0);
    assert_int_equal(cv_store_cancel_booking(f->s, a, &err), CV_ECONFLICT);
    snprintf(expect, sizeof expect, "booking %lld is cancelled, not pending or accepted", (long long)a);
    assert_string_equal(err.text, expect);
}

static void test_cancel_offer_cascades(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    int64_t offer = add_offer(f->s, 3, 1);
    int64_t keep = add_offer(f->s, 3, 0);
    int64_t pending = add_booking(f->s, offer, 1, 0, 1000);
    int64_t accepted = add_booking(f->s, offer, 1, 100, 2000);
    int64_t refused = add_booking(f->s, offer, 1, 0, 1000);
    int64_t elsewhere = add_booking(f->s, keep, 1, 0, 1000);
    assert_int_equal(cv_store_accept_booking(f->s, accepted, &err), 0);
    assert_int_equal(cv_store_accept_booking(f->s, elsewhere, &err), 0);
    assert_int_equal(cv_store_refuse_booking(f->s, refused, &err), 0);
    assert_int_equal(count(f->path, "stops WHERE booking_id IS NOT NULL"), 4);

    assert_int_equal(cv_store_cancel_offer(f->s, offer, &err), 0);
    cv_offer o;
    assert_int_equal(cv_store_get_offer(f->s, offer, &o, &err), 0);
    assert_int_equal(o.status, CV_TRIP_CANCELLED);
    assert_int_equal(o.nvias, 1);
    assert_int_equal(booking_status(f->s, pending), CV_BOOKING_CANCELLED);
    assert_int_equal(booking_status(f->s, accepted), CV_BOOKING_CANCELLED);
    assert_int_equal(booking_status(f->s, refused), CV_BOOKING_REFUSED);
    assert_int_equal(booking_status(f->s, elsewhere), CV_BOOKING_ACCEPTED);

    /* The driver's own stops stay (history); the passengers' are gone, the other offer's untouched. */
    cv_stop *st = NULL;
    size_t n = 0;
    assert_int_equal(cv_store_offer_stops(f->s, offer, &st, &n, &err), 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(st[i].booking_id, 0);
    free(st);
    assert_int_equal(count(f->path, "stops WHERE booking_id IS NOT NULL"), 2);

    assert_int_equal(cv_store_accept_booking(f->s, pending, &err), CV_ECONFLICT);
    assert_int_equal(cv_store_cancel_offer(f->s, offer, &err), CV_ECONFLICT);
}

static void test_cancel_request_cascades(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    int64_t o1 = add_offer(f->s, 1, 0), o2 = add_offer(f->s, 1, 0);
    int64_t req = add_request(f->s, "ivan");
    cv_booking b1 = make_booking(o1, req, 1, 0, 1000), b2 = make_booking(o2, req, 1, 0, 1000);
    assert_int_equal(cv_store_add_booking(f->s, &b1, &err), 0);
    assert_int_equal(cv_store_add_booking(f->s, &b2, &err), 0);
    assert_int_equal(cv_store_accept_booking(f->s, b1.id, &err), 0);
    /* in one car at a time: the other driver's pending booking is superseded */
    assert_int_equal(booking_status(f->s, b2.id), CV_BOOKING_SUPERSEDED);

    assert_int_equal(cv_store_cancel_request(f->s, req, &err), 0);
    assert_int_equal(booking_status(f->s, b1.id), CV_BOOKING_CANCELLED);
    assert_int_equal(booking_status(f->s, b2.id), CV_BOOKING_SUPERSEDED);
    assert_int_equal(count(f->path, "stops WHERE booking_id IS NOT NULL"), 0);
    /* Its seat is free again. */
    int64_t other = add_booking(f->s, o1, 1, 0, 1000);
    assert_int_equal(cv_store_accept_booking(f->s, other, &err), 0);
}

/* Every kind of refused call leaves every table exactly as it was. */
static void test_refused_calls_write_nothing(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    int64_t offer = add_offer(f->s, 2, 1);
    int64_t full = add_booking(f->s, offer, 2, 0, CV_STOP_KEY_END);
    assert_int_equal(cv_store_accept_booking(f->s, full, &err), 0);
    int64_t waiting = add_booking(f->s, offer, 1, 0, 1000);
    int64_t req = add_request(f->s, "judy");
    int64_t cancelled = add_offer(f->s, 2, 0);
    assert_int_equal(cv_store_cancel_offer(f->s, cancelled, &err), 0);

    long long n_owners = count(f->path, "owners"), n_offers = count(f->path, "offers");
    long long n_requests = count(f->path, "requests"), n_bookings = count(f->path, "bookings");
    long long n_stops = count(f->path, "stops");
    char *before = fingerprint(f->path);

    /* A new owner whose offer fails a CHECK constraint: the owner row is rolled back with it. */
    cv_offer o = make_offer("newcomer", 0, 2);
    assert_int_equal(cv_store_add_offer(f->s, &o, &err), CV_EINVAL);
    assert_int_equal(o.id, 0);
    assert_non_null(strstr(err.text, "seats"));
    o = make_offer("newcomer", 2, 0);
    o.from.lat = 950000000;
    assert_int_equal(cv_store_add_offer(f->s, &o, &err), CV_EINVAL);
    o = make_offer("newcomer", 2, 0);
    o.nvias = CV_MAX_VIAS + 1;
    assert_int_equal(cv_store_add_offer(f->s, &o, &err), CV_EINVAL);
    o = make_offer("", 2, 0);
    assert_int_equal(cv_store_add_offer(f->s, &o, &err), CV_EINVAL);
    memset(o.owner, 'x', sizeof o.owner); /* no terminating NUL */
    assert_int_equal(cv_store_add_offer(f->s, &o, &err), CV_EINVAL);
    cv_request r = make_request("newcomer", 0);
    assert_int_equal(cv_store_add_request(f->s, &r, &err), CV_EINVAL);
    assert_int_equal(r.id, 0);

    cv_booking b = make_booking(offer, req, 1, 0, 1000);
    b.amount = -1;
    assert_int_equal(cv_store_add_booking(f->s, &b, &err), CV_EINVAL);
    b = make_booking(cancelled, req, 1, 0, 1000);
    assert_int_equal(cv_store_add_booking(f->s, &b, &err), CV_ECONFLICT);
    assert_int_equal(cv_store_accept_booking(f->s, waiting, &err), CV_ECONFLICT);
    assert_int_equal(cv_store_accept_booking(f->s, full, &err), CV_ECONFLICT);
    assert_int_equal(cv_store_cancel_offer(f->s, cancelled, &err), CV_ECONFLICT);
    assert_int_equal(cv_store_refuse_booking(f->s, full, &err), CV_ECONFLICT);
    assert_int_equal(cv_store_cancel_booking(f->s, 12345, &err), CV_ENOTFOUND);

    char *after = fingerprint(f->path);
    assert_string_equal(before, after);
    free(before);
    free(after);
    assert_int_equal(count(f->path, "owners"), n_owners);
    assert_int_equal(count(f->path, "owners WHERE ref = 'newcomer'"), 0);
    assert_int_equal(count(f->path, "offers"), n_offers);
    assert_int_equal(count(f->path, "requests"), n_requests);
    assert_int_equal(count(f->path, "bookings"), n_bookings);
    assert_int_equal(count(f->path, "stops"), n_stops);
}

/* ---- files, versions, restarts ---- */

static void test_restart_keeps_data(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    cv_offer o = make_offer("kim", 3, 2);
    assert_int_equal(cv_store_add_offer(f->s, &o, &err), 0);
    int64_t bk = add_booking(f->s, o.id, 2, 100000, 900000);
    assert_int_equal(cv_store_accept_booking(f->s, bk, &err), 0);
    cv_store_close(f->s);
    f->s = NULL;

    if (!pg) {
        assert_int_equal(raw_int(f->path, "PRAGMA user_version"), CV_STORE_SCHEMA_VERSION);
        char *mode = raw_text(f->path, "PRAGMA journal_mode");
        assert_string_equal(mode, "wal");
        free(mode);
    } else {
        assert_int_equal(raw_int(f->path, "SELECT value FROM settings WHERE key = 'schema_version'"),
                         CV_STORE_SCHEMA_VERSION);
    }

    assert_int_equal(cv_store_open(f->path, &f->s, &err), 0);
    cv_offer back;
    assert_int_equal(cv_store_get_offer(f->s, o.id, &back, &err), 0);
    assert_offer_equal(&back, &o);
    assert_int_equal(booking_status(f->s, bk), CV_BOOKING_ACCEPTED);
    cv_stop *st = NULL;
    size_t n = 0;
    assert_int_equal(cv_store_offer_stops(f->s, o.id, &st, &n, &err), 0);
    assert_int_equal(n, 6);
    free(st);
    /* Reopening a current database runs no migration again (nor makes PostgreSQL's schema twice). */
    assert_int_equal(
        raw_int(f->path, pg ? "SELECT count(*) FROM settings WHERE key = 'schema_version'" : "PRAGMA user_version"),
        pg ? 1 : CV_STORE_SCHEMA_VERSION);
    /* And the seat rule still holds across the restart. */
    int64_t more = add_booking(f->s, o.id, 2, 0, CV_STOP_KEY_END);
    assert_int_equal(cv_store_accept_booking(f->s, more, &err), CV_ECONFLICT);
    if (!pg) {
        char *check = raw_text(f->path, "PRAGMA integrity_check");
        assert_string_equal(check, "ok");
        free(check);
    }
}

static void test_schema_of_a_new_database(void **state)
{
    fixture *f = *state;
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), CV_STORE_SCHEMA_VERSION);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                                      "('owners', 'offers', 'requests', 'bookings', 'stops')"),
                     5);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN "
                                      "('offers_by_owner', 'bookings_by_offer', 'stops_by_offer')"),
                     3);
    /* The links the store relies on are declared as foreign keys. */
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_foreign_key_list('bookings')"), 2);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_foreign_key_list('stops')"), 2);
}

/* A regular offer: every day from 2030-03-04 (a Monday) to 2030-03-29 at 08:00. */
static cv_offer make_regular_offer(int seats)
{
    cv_offer o = make_offer("commuter-driver", seats, 0);
    o.when.kind = CV_REGULAR;
    o.when.depart = 0;
    o.when.weekdays = CV_MON | CV_TUE | CV_WED | CV_THU | CV_FRI;
    o.when.time_of_day = 8 * 3600;
    o.when.first_day = cv_day_from_ymd(2030, 3, 4);
    o.when.last_day = cv_day_from_ymd(2030, 3, 29);
    return o;
}

/* A booking riding on the given weekdays of the offer's whole range, or on one date (day >= 0). */
static cv_booking dated_booking(int64_t offer, int64_t req, int seats, uint8_t weekdays, cv_day day)
{
    cv_booking b = make_booking(offer, req, seats, 100000, 900000);
    if (day >= 0)
        b.dates = (cv_dates){day, day, (uint8_t)(1u << cv_day_weekday(day))};
    else
        b.dates = (cv_dates){cv_day_from_ymd(2030, 3, 4), cv_day_from_ymd(2030, 3, 29), weekdays};
    return b;
}

/* Seats are held per date: a passenger riding on Mondays leaves the seat free on the other days, and the
   seats left are told per date. */
static void test_seats_per_date(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    cv_offer o = make_regular_offer(1);
    assert_int_equal(cv_store_add_offer(f->s, &o, &err), 0);
    cv_booking mon = dated_booking(o.id, add_request(f->s, "monday"), 1, CV_MON, -1);
    assert_int_equal(cv_store_add_booking(f->s, &mon, &err), 0);
    assert_int_equal(cv_store_accept_booking(f->s, mon.id, &err), 0);
    /* Tuesday to Friday: the one seat is free */
    cv_booking rest = dated_booking(o.id, add_request(f->s, "rest-of-week"), 1, CV_TUE | CV_WED | CV_THU | CV_FRI, -1);
    assert_int_equal(cv_store_add_booking(f->s, &rest, &err), 0);
    assert_int_equal(cv_store_accept_booking(f->s, rest.id, &err), 0);
    /* one Monday only: full */
    cv_day mon11 = cv_day_from_ymd(2030, 3, 11);
    cv_booking one = dated_booking(o.id, add_request(f->s, "one-monday"), 1, 0, mon11);
    assert_int_equal(cv_store_add_booking(f->s, &one, &err), 0);
    assert_int_equal(cv_store_accept_booking(f->s, one.id, &err), CV_ECONFLICT);
    assert_non_null(strstr(err.text, "no seat left on offer"));
    assert_non_null(strstr(err.text, "on 2030-03-11"));
    /* a Saturday is none of the offer's dates */
    cv_booking sat = dated_booking(o.id, add_request(f->s, "saturday"), 1, 0, cv_day_from_ymd(2030, 3, 9));
    assert_int_equal(cv_store_add_booking(f->s, &sat, &err), CV_EINVAL);
    /* every weekday from the first: taken on every date */
    cv_day_seats *left = NULL;
    size_t n = 0;
    assert_int_equal(cv_store_seats_left(f->s, o.id, cv_day_from_ymd(2030, 3, 1), &left, &n, &err), 0);
    assert_int_equal(n, 20);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(left[i].seats_left, 0);
    free(left);
    /* the Monday passenger cancels: Mondays are free again, and only Mondays */
    assert_int_equal(cv_store_cancel_booking(f->s, mon.id, &err), 0);
    assert_int_equal(cv_store_seats_left(f->s, o.id, cv_day_from_ymd(2030, 3, 12), &left, &n, &err), 0);
    assert_int_equal(n, 12); /* 2030-03-12 to 03-29: 14 weekdays, less the Mondays 18 and 25 */
    for (size_t i = 0; i < n; i++)
        assert_int_not_equal(cv_day_weekday(left[i].day), 0);
    free(left);
    assert_int_equal(cv_store_accept_booking(f->s, one.id, &err), 0);
    /* the stops say when they are made */
    cv_stop *st = NULL;
    assert_int_equal(cv_store_offer_stops(f->s, o.id, &st, &n, &err), 0);
    int pickups = 0;
    for (size_t i = 0; i < n; i++)
        if (st[i].kind == CV_STOP_PICKUP && st[i].booking_id == one.id) {
            pickups++;
            assert_int_equal(st[i].dates.first, mon11);
            assert_int_equal(st[i].dates.last, mon11);
        }
    assert_int_equal(pickups, 1);
    free(st);
}

/* A request rides in one car at a time: a second acceptance on the same date is refused, the other pending
   bookings are superseded, and dates that do not overlap are free. */
static void test_one_car_per_request(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    cv_offer a = make_regular_offer(3), b = make_regular_offer(3), c = make_regular_offer(3);
    assert_int_equal(cv_store_add_offer(f->s, &a, &err), 0);
    assert_int_equal(cv_store_add_offer(f->s, &b, &err), 0);
    assert_int_equal(cv_store_add_offer(f->s, &c, &err), 0);
    int64_t req = add_request(f->s, "rider");
    cv_booking ba = dated_booking(a.id, req, 1, CV_MON | CV_TUE, -1);
    cv_booking bb = dated_booking(b.id, req, 1, CV_TUE | CV_WED, -1);
    cv_booking bc = dated_booking(c.id, req, 1, CV_THU | CV_FRI, -1);
    assert_int_equal(cv_store_add_booking(f->s, &ba, &err), 0);
    assert_int_equal(cv_store_add_booking(f->s, &bb, &err), 0);
    assert_int_equal(cv_store_add_booking(f->s, &bc, &err), 0);
    assert_int_equal(cv_store_accept_booking(f->s, ba.id, &err), 0);
    /* b shares Tuesdays with a: superseded; c shares no date: still pending, and can be accepted */
    assert_int_equal(booking_status(f->s, bb.id), CV_BOOKING_SUPERSEDED);
    assert_int_equal(booking_status(f->s, bc.id), CV_BOOKING_PENDING);
    assert_int_equal(cv_store_accept_booking(f->s, bb.id, &err), CV_ECONFLICT);
    assert_non_null(strstr(err.text, "superseded, not pending"));
    assert_int_equal(cv_store_accept_booking(f->s, bc.id, &err), 0);
    /* a new booking on a date the request already rides is refused at once, naming the car and the date */
    cv_offer d = make_regular_offer(3);
    assert_int_equal(cv_store_add_offer(f->s, &d, &err), 0);
    cv_booking bd = dated_booking(d.id, req, 1, CV_FRI, -1);
    char *before = fingerprint(f->path);
    assert_int_equal(cv_store_add_booking(f->s, &bd, &err), CV_ECONFLICT);
    char expect[160];
    snprintf(expect, sizeof expect, "request %lld already rides with offer %lld on 2030-03-08 (booking %lld accepted)",
             (long long)req, (long long)c.id, (long long)bc.id);
    assert_string_equal(err.text, expect);
    char *after = fingerprint(f->path);
    assert_string_equal(before, after);
    free(before), free(after);
    /* the passenger sees every booking of the request with its status */
    cv_booking *list = NULL;
    size_t n = 0;
    assert_int_equal(cv_store_list_request_bookings(f->s, req, &list, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(list[1].id, bb.id);
    assert_int_equal(list[1].status, CV_BOOKING_SUPERSEDED);
    free(list);
    /* Wednesdays became free with b superseded? No: b is superseded as a whole; a new booking on b for Wednesdays
       only is accepted */
    cv_booking wed = dated_booking(b.id, req, 1, CV_WED, -1);
    assert_int_equal(cv_store_add_booking(f->s, &wed, &err), 0);
    assert_int_equal(cv_store_accept_booking(f->s, wed.id, &err), 0);
}

/* A version 2 database (bookings without dates) is brought to version 3: its bookings keep their statuses and
   stops and hold every date of their offer, as they did; the new status is accepted after. */
static void test_migrate_v2_to_v3(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    int64_t offer = add_offer(f->s, 2, 1);
    int64_t bk = add_booking(f->s, offer, 2, 100000, 400000);
    assert_int_equal(cv_store_accept_booking(f->s, bk, &err), 0);
    cv_store_close(f->s);
    f->s = NULL;
    /* the version 2 bookings table, as it shipped */
    raw_exec(f->path,
             "PRAGMA foreign_keys = OFF; BEGIN;"
             "CREATE TABLE b2 (id INTEGER PRIMARY KEY, offer_id INTEGER NOT NULL REFERENCES offers(id),"
             " request_id INTEGER NOT NULL REFERENCES requests(id), seats INTEGER NOT NULL CHECK (seats > 0),"
             " status INTEGER NOT NULL CHECK (status IN (0, 1, 2, 3)), pickup_lon INTEGER NOT NULL,"
             " pickup_lat INTEGER NOT NULL, dropoff_lon INTEGER NOT NULL, dropoff_lat INTEGER NOT NULL,"
             " pickup_key REAL NOT NULL, dropoff_key REAL NOT NULL, pickup_time INTEGER NOT NULL,"
             " dropoff_time INTEGER NOT NULL, amount REAL NOT NULL CHECK (amount >= 0), created INTEGER NOT NULL,"
             " updated INTEGER NOT NULL,"
             " CHECK (0 <= pickup_key AND pickup_key < dropoff_key AND dropoff_key <= 1000000));"
             "INSERT INTO b2 SELECT id, offer_id, request_id, seats, status, pickup_lon, pickup_lat, dropoff_lon,"
             " dropoff_lat, pickup_key, dropoff_key, pickup_time, dropoff_time, amount, created, updated FROM bookings;"
             "DROP TABLE bookings; ALTER TABLE b2 RENAME TO bookings;"
             "CREATE INDEX bookings_by_offer ON bookings(offer_id, status);"
             "CREATE INDEX bookings_by_request ON bookings(request_id);"
             "CREATE UNIQUE INDEX bookings_one_live ON bookings(offer_id, request_id) WHERE status IN (0, 1);"
             "DROP TABLE partner_bookings; DROP TABLE messages; DROP TABLE settings; DROP TABLE changes;"
             "DROP TABLE partners; DROP TABLE outbox; DROP TABLE remote_bookings; DROP TABLE remote_events;"
             "DROP TABLE validations; DROP TABLE proofs;"
             "ALTER TABLE offers DROP COLUMN plan_version;"
             "PRAGMA user_version = 2; COMMIT;");
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_table_info('bookings') WHERE name = 'weekdays'"), 0);
    assert_int_equal(cv_store_open(f->path, &f->s, &err), 0);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), CV_STORE_SCHEMA_VERSION);
    cv_booking b;
    assert_int_equal(cv_store_get_booking(f->s, bk, &b, &err), 0);
    assert_int_equal(b.status, CV_BOOKING_ACCEPTED);
    assert_int_equal(b.dates.first, CV_DATES_ALL.first);
    assert_int_equal(b.dates.last, CV_DATES_ALL.last);
    /* its seats are still held on the offer's date */
    int64_t more = add_booking(f->s, offer, 1, 0, CV_STOP_KEY_END);
    assert_int_equal(cv_store_accept_booking(f->s, more, &err), CV_ECONFLICT);
    assert_int_equal(count(f->path, "stops WHERE booking_id IS NOT NULL"), 2);
    /* the new status fits the new table */
    int64_t req = add_request(f->s, "two-cars");
    cv_offer o2 = make_offer("other-driver", 3, 0);
    assert_int_equal(cv_store_add_offer(f->s, &o2, &err), 0);
    int64_t o3 = add_offer(f->s, 3, 0);
    cv_booking x = make_booking(o2.id, req, 1, 0, 1000), y = make_booking(o3, req, 1, 0, 1000);
    assert_int_equal(cv_store_add_booking(f->s, &x, &err), 0);
    assert_int_equal(cv_store_add_booking(f->s, &y, &err), 0);
    assert_int_equal(cv_store_accept_booking(f->s, x.id, &err), 0);
    assert_int_equal(booking_status(f->s, y.id), CV_BOOKING_SUPERSEDED);
    char *check = raw_text(f->path, "PRAGMA integrity_check");
    assert_string_equal(check, "ok");
    free(check);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_foreign_key_list('stops')"), 2);
}

/* A booking placed against one version of an offer's stops is not accepted once a passenger's stops came or went
   since: placed on an empty plan, two passengers of one date fit by seats (one off before the other boards) but
   not by route (regression: 3 passengers accepted on a 2-seat date, the driver sent back and forth). */
static void test_stale_placement_refused(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    int64_t offer = add_offer(f->s, 1, 0);
    cv_stop *st = NULL;
    size_t n = 0;
    int64_t v0 = -1, v1 = -1, v2 = -1;
    assert_int_equal(cv_store_offer_plan(f->s, offer, &st, &n, &v0, &err), 0);
    free(st);
    cv_booking a = make_booking(offer, add_request(f->s, "a"), 1, 100000, 200000);
    cv_booking b = make_booking(offer, add_request(f->s, "b"), 1, 300000, 400000);
    a.plan_version = b.plan_version = v0;
    assert_int_equal(cv_store_add_booking(f->s, &a, &err), 0);
    assert_int_equal(cv_store_add_booking(f->s, &b, &err), 0);
    assert_int_equal(cv_store_accept_booking(f->s, a.id, &err), 0);
    assert_int_equal(cv_store_offer_plan(f->s, offer, &st, &n, &v1, &err), 0);
    free(st);
    assert_true(v1 == v0 + 1);
    char *before = fingerprint(f->path);
    assert_int_equal(cv_store_accept_booking(f->s, b.id, &err), CV_ESTALE);
    assert_non_null(strstr(err.text, "placed on version"));
    char *after = fingerprint(f->path);
    assert_string_equal(before, after);
    free(before), free(after);
    /* placed and accepted in one go on the stale version: refused, and the placement is not written either (a
       refused call writes nothing) */
    cv_booking moved = b;
    moved.pickup_key = 500000;
    moved.dropoff_key = 600000;
    before = fingerprint(f->path);
    assert_int_equal(cv_store_accept_placed(f->s, b.id, &moved, 0, &err), CV_ESTALE);
    after = fingerprint(f->path);
    assert_string_equal(before, after);
    free(before), free(after);
    /* ... or where the seats are taken: refused, nothing written */
    moved.plan_version = v1;
    moved.pickup_key = 150000;
    before = fingerprint(f->path);
    assert_int_equal(cv_store_accept_placed(f->s, b.id, &moved, 0, &err), CV_ECONFLICT);
    assert_non_null(strstr(err.text, "no seat left"));
    after = fingerprint(f->path);
    assert_string_equal(before, after);
    free(before), free(after);
    /* placed on the current version: accepted, with that placement */
    moved.pickup_key = 500000;
    assert_int_equal(cv_store_accept_placed(f->s, b.id, &moved, 0, &err), 0);
    cv_booking back;
    assert_int_equal(cv_store_get_booking(f->s, b.id, &back, &err), 0);
    assert_true(back.pickup_key == 500000 && back.dropoff_key == 600000 && back.plan_version == v1);
    /* a cancellation changes the plan too */
    assert_int_equal(cv_store_cancel_booking(f->s, a.id, &err), 0);
    assert_int_equal(cv_store_offer_plan(f->s, offer, &st, &n, &v2, &err), 0);
    free(st);
    assert_true(v2 == v1 + 2);
}

/* A database records the zone it was created in, refuses another, and converts: a Monday 00:30 commute in Paris
   (UTC+1 in January) is a Sunday 23:30 one in UTC, with its dates, weekdays and its booking moved the same way. */
static void test_zone_kept_and_converted(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    char zone[CV_ZONE_MAX];
    assert_int_equal(cv_store_zone(f->path, zone, &err), 0);
    assert_string_equal(zone, "UTC"); /* the fixture opened it in the default zone */
    char path[512];
    tmp_path(path, sizeof path, "zone");
    assert_int_equal(cv_store_zone(path, zone, &err), 0);
    assert_string_equal(zone, ""); /* no database yet */
    assert_int_equal(cv_tz_set("Europe/Paris", &err), 0);
    cv_store *s = NULL;
    assert_int_equal(cv_store_open(path, &s, &err), 0);
    cv_offer o = make_regular_offer(2);
    o.when.time_of_day = 30 * 60;
    o.when.weekdays = CV_MON;
    o.when.first_day = cv_day_from_ymd(2030, 1, 7);
    o.when.last_day = cv_day_from_ymd(2030, 2, 25);
    assert_int_equal(cv_store_add_offer(s, &o, &err), 0);
    int64_t req = add_request(s, "night-owl");
    cv_booking b = make_booking(o.id, req, 1, 100000, 900000);
    b.dates = (cv_dates){cv_day_from_ymd(2030, 1, 14), cv_day_from_ymd(2030, 2, 25), CV_MON};
    b.pickup_time = 40 * 60; /* 00:40 local */
    b.dropoff_time = 55 * 60;
    assert_int_equal(cv_store_add_booking(s, &b, &err), 0);
    cv_store_close(s);
    assert_int_equal(cv_store_zone(path, zone, &err), 0);
    assert_string_equal(zone, "Europe/Paris");

    /* opened in UTC: refused, nothing written */
    assert_int_equal(cv_tz_set("UTC", &err), 0);
    assert_int_equal(cv_store_open(path, &s, &err), CV_EZONE);
    assert_non_null(strstr(err.text, "zone Europe/Paris, not UTC"));
    /* converting needs the zone it is in */
    assert_int_equal(cv_store_convert_zone(path, "Europe/Lisbon", &err), CV_EZONE);
    assert_int_equal(cv_store_convert_zone(path, "Europe/Paris", &err), 0);
    assert_string_equal(cv_tz_name(), "UTC");
    assert_int_equal(cv_store_open(path, &s, &err), 0);
    cv_offer back;
    assert_int_equal(cv_store_get_offer(s, o.id, &back, &err), 0);
    assert_int_equal(back.when.time_of_day, 23 * 3600 + 30 * 60);
    assert_int_equal(back.when.weekdays, CV_SUN);
    assert_int_equal(back.when.first_day, cv_day_from_ymd(2030, 1, 6));
    assert_int_equal(back.when.last_day, cv_day_from_ymd(2030, 2, 24));
    cv_booking bb;
    assert_int_equal(cv_store_get_booking(s, b.id, &bb, &err), 0);
    assert_int_equal(bb.dates.first, cv_day_from_ymd(2030, 1, 13));
    assert_int_equal(bb.dates.last, cv_day_from_ymd(2030, 2, 24));
    assert_int_equal(bb.dates.weekdays, CV_SUN);
    assert_int_equal(bb.pickup_time, 23 * 3600 + 40 * 60);
    assert_int_equal(bb.dropoff_time, 23 * 3600 + 55 * 60);
    /* the instant of the first occurrence is kept */
    assert_int_equal(cv_local_to_utc(back.when.first_day, back.when.time_of_day),
                     cv_local_to_utc(cv_day_from_ymd(2030, 1, 6), 23 * 3600 + 30 * 60));
    cv_store_close(s);
    assert_int_equal(cv_store_zone(path, zone, &err), 0);
    assert_string_equal(zone, "UTC");
    remove_db(path);
}

/* A version 1 database (before API keys) is brought to the current version with its trips intact. */
static void test_migrate_v1_to_v2(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    cv_offer o = make_offer("v1-driver", 3, 0);
    assert_int_equal(cv_store_add_offer(f->s, &o, &err), 0);
    cv_store_close(f->s);
    f->s = NULL;
    raw_exec(f->path, "DROP TABLE validations; DROP TABLE proofs; "
                      "DROP TRIGGER partner_booking_event; DROP TABLE partners; DROP TABLE outbox; "
                      "DROP TABLE remote_bookings; DROP TABLE remote_events;"
                      "DROP TABLE partner_bookings; DROP TABLE messages; DROP TABLE api_keys; DROP TABLE settings; "
                      "DROP TABLE changes;"
                      "ALTER TABLE offers DROP COLUMN plan_version;"
                      "ALTER TABLE bookings DROP COLUMN placed_version; PRAGMA user_version = 1");
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name = 'api_keys'"), 0);
    assert_int_equal(cv_store_open(f->path, &f->s, &err), 0);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), CV_STORE_SCHEMA_VERSION);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name = 'api_keys'"), 1);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name = 'partner_bookings'"), 1);
    /* ... up to the proofs (8), with the pseudonyms' secret drawn */
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name = 'proofs'"), 1);
    assert_int_equal(raw_int(f->path, "SELECT length(value) FROM settings WHERE key = 'pseudonym_secret'"), 64);
    cv_offer back;
    assert_int_equal(cv_store_get_offer(f->s, o.id, &back, &err), 0);
    assert_string_equal(back.owner, "v1-driver");
    int n = -1;
    assert_int_equal(cv_store_active_keys(f->s, &n, &err), 0);
    assert_int_equal(n, 0);
}

static void test_api_keys(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    char a[CV_KEY_SECRET_MAX], b[CV_KEY_SECRET_MAX], client[CV_OWNER_MAX];
    int64_t ida = 0, idb = 0;
    unsigned scopes = 0;
    assert_int_equal(cv_store_add_key(f->s, "platform-a", CV_SCOPE_ROUTING | CV_SCOPE_TRIPS, a, &ida, &err), 0);
    assert_int_equal(cv_store_add_key(f->s, "platform-b", CV_SCOPE_SEARCH, b, &idb, &err), 0);
    assert_int_equal(strlen(a), 68);
    assert_memory_equal(a, "cvk_", 4);
    assert_string_not_equal(a, b);
    assert_true(ida > 0 && idb > ida);
    /* Only the hash is stored. */
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM api_keys WHERE length(hash) = 32"), 2);
    int n = 0;
    assert_int_equal(cv_store_active_keys(f->s, &n, &err), 0);
    assert_int_equal(n, 2);

    assert_int_equal(cv_store_check_key(f->s, a, client, &scopes, &err), 0);
    assert_string_equal(client, "platform-a");
    assert_int_equal(scopes, CV_SCOPE_ROUTING | CV_SCOPE_TRIPS);
    assert_int_equal(cv_store_check_key(f->s, "cvk_nope", client, &scopes, &err), CV_ENOTFOUND);
    assert_int_equal(cv_store_check_key(f->s, "", client, &scopes, &err), CV_ENOTFOUND);

    assert_int_equal(cv_store_revoke_key(f->s, ida, &err), 0);
    assert_int_equal(cv_store_check_key(f->s, a, client, &scopes, &err), CV_ENOTFOUND);
    assert_int_equal(cv_store_revoke_key(f->s, ida, &err), CV_ENOTFOUND);
    assert_int_equal(cv_store_revoke_key(f->s, 999, &err), CV_ENOTFOUND);
    assert_int_equal(cv_store_check_key(f->s, b, client, &scopes, &err), 0);
    assert_string_equal(client, "platform-b");

    cv_key_info *v = NULL;
    size_t nk = 0;
    assert_int_equal(cv_store_list_keys(f->s, &v, &nk, &err), 0);
    assert_int_equal(nk, 2);
    assert_int_equal(v[0].id, ida);
    assert_true(v[0].revoked != 0);
    assert_int_equal(v[1].revoked, 0);
    free(v);
    assert_int_equal(cv_store_active_keys(f->s, &n, &err), 0);
    assert_int_equal(n, 1);

    /* Bad input. */
    assert_int_equal(cv_store_add_key(f->s, "", CV_SCOPE_ROUTING, a, NULL, &err), CV_EINVAL);
    assert_int_equal(cv_store_add_key(f->s, "a:b", CV_SCOPE_ROUTING, a, NULL, &err), CV_EINVAL);
    assert_int_equal(cv_store_add_key(f->s, "c", 0, a, NULL, &err), CV_EINVAL);
    assert_int_equal(cv_store_add_key(f->s, "c", CV_SCOPE_ALL + 1, a, NULL, &err), CV_EINVAL); /* no such scope */
    assert_int_equal(cv_store_add_key(f->s, "partner.example.net", CV_SCOPE_INTEROP, a, NULL, &err), 0);
}

static void test_newer_schema_refused(void **state)
{
    (void)state;
    char path[512];
    tmp_path(path, sizeof path, "v99");
    raw_exec(path, "CREATE TABLE later(x); PRAGMA user_version = 99");
    cv_store *s = (cv_store *)&path; /* must be reset to NULL */
    cv_error err = {0};
    assert_int_equal(cv_store_open(path, &s, &err), CV_EVERSION);
    assert_int_equal(err.code, CV_EVERSION);
    assert_null(s);
    assert_non_null(strstr(err.text, "schema version 99"));
    assert_null(strchr(err.text, '\n'));
    /* Untouched: still version 99, the table still there. */
    assert_int_equal(raw_int(path, "PRAGMA user_version"), 99);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_master"), 1);
    tst_remove_db(path);
}

static void test_foreign_files_refused(void **state)
{
    (void)state;
    cv_error err = {0};
    cv_store *s = NULL;
    char path[512];

    /* Garbage. */
    tmp_path(path, sizeof path, "garbage");
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++)
        fputs("this is not an SQLite database, just text\n", fp);
    fclose(fp);
    assert_int_equal(cv_store_open(path, &s, &err), CV_EFORMAT);
    assert_null(s);
    assert_non_null(strstr(err.text, "not an SQLite database"));
    tst_remove_db(path);

    /* Another application's SQLite database. */
    tmp_path(path, sizeof path, "foreign");
    raw_exec(path, "CREATE TABLE photos(id INTEGER PRIMARY KEY, name TEXT)");
    assert_int_equal(cv_store_open(path, &s, &err), CV_EFORMAT);
    assert_null(s);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_master"), 1);
    tst_remove_db(path);

    /* A versioned database that is not covoit's. */
    tmp_path(path, sizeof path, "other_app");
    raw_exec(path, "CREATE TABLE t(x); PRAGMA user_version = 1; PRAGMA application_id = 42");
    assert_int_equal(cv_store_open(path, &s, &err), CV_EFORMAT);
    assert_non_null(strstr(err.text, "not covoit's"));
    tst_remove_db(path);

    /* An empty file is a new database. */
    tmp_path(path, sizeof path, "empty");
    fp = fopen(path, "wb");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(cv_store_open(path, &s, &err), 0);
    cv_store_close(s);
    s = NULL;
    tst_remove_db(path);

    /* A directory that does not exist. */
    assert_int_equal(cv_store_open(COVOIT_TMP "/no/such/dir/store.db", &s, &err), CV_EIO);
    assert_null(s);
    assert_int_equal(cv_store_open(NULL, &s, &err), CV_EINVAL);
    cv_store_close(NULL);
}

typedef struct opener {
    const char *path;
    pthread_barrier_t *start;
    int rc;
    cv_error err;
} opener;

/* Opens and closes a store once the others are ready too (no cmocka assertion off the test's thread). */
static void *open_together(void *arg)
{
    opener *o = arg;
    cv_store *s = NULL;
    pthread_barrier_wait(o->start);
    o->rc = cv_store_open(o->path, &s, &o->err);
    cv_store_close(s);
    return NULL;
}

/* PostgreSQL: a database holding another application's tables, or covoit's of a newer schema version, is refused
   and left as it was; an unreachable server is CV_EUNAVAILABLE, said without the password. */
static void test_pg_foreign_and_newer_refused(void **state)
{
    (void)state;
    cv_error err = {0};
    cv_store *s = (cv_store *)&err; /* must be reset to NULL */
    char path[512];
    tmp_path(path, sizeof path, "photos");
    raw_exec(path, "CREATE TABLE photos(id BIGINT PRIMARY KEY, name TEXT)");
    assert_int_equal(cv_store_open(path, &s, &err), CV_EFORMAT);
    assert_null(s);
    assert_non_null(strstr(err.text, "no covoit schema version"));
    assert_int_equal(raw_int(path, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"), 1);
    remove_db(path);

    tmp_path(path, sizeof path, "v99");
    assert_int_equal(cv_store_open(path, &s, &err), 0);
    cv_store_close(s);
    raw_exec(path, "UPDATE settings SET value = '99' WHERE key = 'schema_version'");
    assert_int_equal(cv_store_open(path, &s, &err), CV_EVERSION);
    assert_null(s);
    assert_non_null(strstr(err.text, "schema version 99"));
    remove_db(path);

    /* stores opening a new database at the same time (servers starting together) make its schema once, and every
       one of them opens (two servers once failed so: the second saw no table yet and made them again) */
    tmp_path(path, sizeof path, "together");
    opener o[4];
    pthread_t th[4];
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, 4), 0);
    for (int i = 0; i < 4; i++) {
        o[i] = (opener){.path = path, .start = &start, .rc = 1};
        assert_int_equal(pthread_create(&th[i], NULL, open_together, &o[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        if (o[i].rc)
            fprintf(stderr, "opener %d: %s\n", i, o[i].err.text);
        assert_int_equal(o[i].rc, 0);
    }
    pthread_barrier_destroy(&start);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM settings WHERE key = 'pseudonym_secret'"), 1);
    assert_int_equal(raw_int(path, "SELECT length(value) FROM settings WHERE key = 'pseudonym_secret'"), 64);
    remove_db(path);

    char uri[200];
    snprintf(uri, sizeof uri, "postgresql://covoit:s3cret@127.0.0.1:%d/covoit?connect_timeout=2", tst_pg_port());
    assert_int_equal(cv_store_open(uri, &s, &err), CV_EUNAVAILABLE);
    assert_null(s);
    assert_null(strstr(err.text, "s3cret"));
}

/* PostgreSQL: a write while another connection keeps the change log locked against writers (as another server
   stopped in the middle of a write would, or an administrator's LOCK TABLE) fails as on SQLite after its busy
   timeout: CV_EBUSY after about 5 s, nothing written; and goes through once the lock is let go. (It waited for as
   long as the lock was held, and a server's thread and client with it.) */
static void test_pg_write_locked_elsewhere(void **state)
{
    fixture *f = *state;
    cv_db *other = raw_open(f->path);
    cv_error err = {0};
    /* every write of the store logs a change; readers are not held (EXCLUSIVE lets ACCESS SHARE through) */
    assert_int_equal(cv_db_exec(other, "BEGIN; LOCK TABLE changes IN EXCLUSIVE MODE", &err), 0);
    cv_offer o = make_offer("locked-out", 2, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(cv_store_add_offer(f->s, &o, &err), CV_EBUSY);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(waited >= 4.5 && waited < 30);
    assert_non_null(strstr(err.text, "lock"));
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM offers"), 0);
    assert_int_equal(cv_db_exec(other, "ROLLBACK", &err), 0);
    cv_db_close(other);
    assert_int_equal(cv_store_add_offer(f->s, &o, &err), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM offers"), 1);
}

/* ---- many connections racing for the last seats ---- */

#define RACERS 20

typedef struct racer {
    const char *path;
    pthread_barrier_t *start;
    int64_t booking;
    int open_rc, rc;
    cv_error err;
} racer;

/* No cmocka assertions here: they longjmp, which is only valid on the test's own thread. */
static void *race(void *arg)
{
    racer *r = arg;
    cv_store *s = NULL;
    r->open_rc = cv_store_open(r->path, &s, &r->err);
    pthread_barrier_wait(r->start);
    if (r->open_rc == 0) {
        r->rc = cv_store_accept_booking(s, r->booking, &r->err);
        cv_store_close(s);
    }
    return NULL;
}

static void test_concurrent_accept(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    int64_t offer = add_offer(f->s, 3, 0);
    racer r[RACERS];
    pthread_t th[RACERS];
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, RACERS), 0);
    for (int i = 0; i < RACERS; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i].path = f->path;
        r[i].start = &start;
        r[i].booking = add_booking(f->s, offer, 1, 0, 500000);
        r[i].rc = 1;
    }
    for (int i = 0; i < RACERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
    for (int i = 0; i < RACERS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);

    int won = 0, lost = 0;
    for (int i = 0; i < RACERS; i++) {
        if (r[i].open_rc != 0 || (r[i].rc != 0 && r[i].rc != CV_ECONFLICT))
            fprintf(stderr, "racer %d: open %d accept %d: %s\n", i, r[i].open_rc, r[i].rc, r[i].err.text);
        assert_int_equal(r[i].open_rc, 0);
        if (r[i].rc == 0)
            won++;
        else if (r[i].rc == CV_ECONFLICT) {
            lost++;
            assert_non_null(strstr(r[i].err.text, "no seat left on offer"));
        }
    }
    assert_int_equal(won, 3);
    assert_int_equal(lost, RACERS - 3);

    char where[128];
    snprintf(where, sizeof where, "bookings WHERE offer_id = %lld AND status = 1", (long long)offer);
    assert_int_equal(count(f->path, where), 3);
    snprintf(where, sizeof where, "bookings WHERE offer_id = %lld AND status = 0", (long long)offer);
    assert_int_equal(count(f->path, where), RACERS - 3);
    assert_int_equal(count(f->path, "stops WHERE booking_id IS NOT NULL"), 6);
    cv_booking *a = NULL;
    size_t n = 0;
    assert_int_equal(cv_store_list_bookings(f->s, offer, CV_BOOKING_ACCEPTED, &a, &n, &err), 0);
    assert_int_equal(n, 3);
    free(a);
    if (!pg) {
        char *check = raw_text(f->path, "PRAGMA integrity_check");
        assert_string_equal(check, "ok");
        free(check);
        assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    }
}

/* The outbox: every change of status of the covoit booking behind a partner's booking owes the partner an event,
   written in the same transaction; the partner's own cancellation owes none; events of one booking go out in
   order, one at a time; a removed partner's events are held, not lost. */
static void test_partner_outbox(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    cv_partner p = {.name = "coop-b.example"};
    snprintf(p.base_url, sizeof p.base_url, "http://127.0.0.1:9/stdcov/v1");
    snprintf(p.api_key, sizeof p.api_key, "their-key");
    snprintf(p.events_url, sizeof p.events_url, "http://127.0.0.1:9/stdcov/v1/booking_events");
    assert_int_equal(cv_store_add_partner(f->s, &p, &err), 0);
    assert_int_equal(cv_store_add_partner(f->s, &p, &err), CV_ECONFLICT);
    cv_partner bad = {.name = "x"};
    assert_int_equal(cv_store_add_partner(f->s, &bad, &err), CV_EINVAL);
    cv_partner got;
    assert_int_equal(cv_store_get_partner(f->s, "coop-b.example", &got, &err), 0);
    assert_string_equal(got.events_url, "http://127.0.0.1:9/stdcov/v1/booking_events");
    assert_int_equal(cv_store_get_partner(f->s, "nobody", &got, &err), CV_ENOTFOUND);

    int64_t offer = add_offer(f->s, 3, 0);
    int64_t b1 = add_booking(f->s, offer, 1, 100000, 400000);
    int64_t b2 = add_booking(f->s, offer, 1, 100000, 400000);
    int64_t b3 = add_booking(f->s, offer, 1, 100000, 400000); /* ours: no partner, no event */
    const char *uuid[2] = {"11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"};
    int64_t ids[2] = {b1, b2};
    for (int i = 0; i < 2; i++) {
        cv_partner_booking pb = {.booking_id = ids[i], .status = CV_PARTNER_WAITING};
        snprintf(pb.uuid, sizeof pb.uuid, "%s", uuid[i]);
        snprintf(pb.partner, sizeof pb.partner, "coop-b.example");
        snprintf(pb.journey, sizeof pb.journey, "offer-%lld-2030-03-17", (long long)offer);
        assert_int_equal(cv_store_add_partner_booking(f->s, &pb, &err), 0);
    }
    cv_outbox_event *ev = NULL;
    size_t n = 0;
    assert_int_equal(cv_store_outbox_due(f->s, 2000000000, 10, &ev, &n, &err), 0);
    assert_int_equal(n, 0); /* a new booking owes nothing: the partner made it */
    free(ev);

    assert_int_equal(cv_store_accept_booking(f->s, b1, &err), 0);
    assert_int_equal(cv_store_accept_booking(f->s, b3, &err), 0);
    assert_int_equal(cv_store_cancel_booking(f->s, b1, &err), 0);
    /* the partner cancels b2 itself: its status first, then the booking (as PATCH /stdcov/v1/bookings does) */
    assert_int_equal(cv_store_set_partner_status(f->s, uuid[1], CV_PARTNER_CANCELLED, NULL, &err), 0);
    assert_int_equal(cv_store_cancel_booking(f->s, b2, &err), 0);

    assert_int_equal(cv_store_outbox_due(f->s, 2000000000, 10, &ev, &n, &err), 0);
    assert_int_equal(n, 1); /* b1's first event only: its second waits */
    assert_string_equal(ev[0].uuid, uuid[0]);
    assert_int_equal(ev[0].status, CV_PARTNER_CONFIRMED);
    assert_int_equal(ev[0].attempts, 0);
    assert_int_equal(strlen(ev[0].event), 36);
    assert_int_equal(ev[0].event[14], '4');
    int64_t first = ev[0].id;
    char first_event[40];
    snprintf(first_event, sizeof first_event, "%s", ev[0].event);
    free(ev);

    /* a failed attempt: not due before its next time, then due again with the same event id */
    assert_int_equal(cv_store_outbox_retry(f->s, first, 2000000100, "connection refused", &err), 0);
    assert_int_equal(cv_store_outbox_due(f->s, 2000000000, 10, &ev, &n, &err), 0);
    assert_int_equal(n, 0);
    free(ev);
    assert_int_equal(cv_store_outbox_due(f->s, 2000000100, 10, &ev, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].id, first);
    assert_int_equal(ev[0].attempts, 1);
    assert_string_equal(ev[0].event, first_event);
    free(ev);
    /* taken by one sender (one server of several): the other finds it taken, and it is not due until the lease
       ends; then another takes it */
    cv_store *other = NULL;
    assert_int_equal(cv_store_open(f->path, &other, &err), 0);
    assert_int_equal(cv_store_outbox_claim(f->s, first, 2000000100, 2000000130, &err), 1);
    assert_int_equal(cv_store_outbox_claim(other, first, 2000000101, 2000000131, &err), 0);
    assert_int_equal(cv_store_outbox_due(other, 2000000129, 10, &ev, &n, &err), 0);
    assert_int_equal(n, 0); /* b1's later event waits behind it too */
    free(ev);
    assert_int_equal(cv_store_outbox_claim(other, first, 2000000130, 2000000160, &err), 1);
    assert_int_equal(cv_store_outbox_retry(other, first, 2000000100, "connection refused", &err), 0);
    cv_store_close(other);
    cv_outbox_stats st;
    assert_int_equal(cv_store_outbox_stats(f->s, &st, &err), 0);
    assert_int_equal(st.waiting, 2);
    assert_int_equal(st.delivered, 0);
    assert_true(st.oldest > 0);

    /* delivered: the next event of the booking comes up, CANCELLED */
    assert_int_equal(cv_store_outbox_done(f->s, first, 0, NULL, &err), 0);
    assert_int_equal(cv_store_outbox_due(f->s, 2000000100, 10, &ev, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_true(ev[0].id > first);
    assert_int_equal(ev[0].status, CV_PARTNER_CANCELLED);
    assert_string_not_equal(ev[0].event, first_event);
    int64_t second = ev[0].id;
    free(ev);

    /* the partner removed: its event is held, not lost; configured again, it is due again */
    assert_int_equal(cv_store_remove_partner(f->s, "coop-b.example", &err), 0);
    assert_int_equal(cv_store_remove_partner(f->s, "coop-b.example", &err), CV_ENOTFOUND);
    assert_int_equal(cv_store_outbox_due(f->s, 2000000100, 10, &ev, &n, &err), 0);
    assert_int_equal(n, 0);
    free(ev);
    assert_int_equal(cv_store_outbox_stats(f->s, &st, &err), 0);
    assert_int_equal(st.held, 1);
    assert_int_equal(cv_store_add_partner(f->s, &p, &err), 0);
    assert_int_equal(cv_store_outbox_due(f->s, 2000000100, 10, &ev, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].id, second);
    free(ev);
    assert_int_equal(cv_store_outbox_done(f->s, second, 1, "HTTP 400", &err), 0);
    assert_int_equal(cv_store_outbox_stats(f->s, &st, &err), 0);
    assert_int_equal(st.waiting, 0);
    assert_int_equal(st.delivered, 1);
    assert_int_equal(st.refused, 1);
    assert_int_equal(st.oldest, 0);
    cv_partner *all = NULL;
    assert_int_equal(cv_store_list_partners(f->s, &all, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(all[0].name, "coop-b.example");
    free(all);
}

/* Bookings our users made on partners' journeys: the partner's news only moves their status forward, an event
   seen before changes nothing, and another partner cannot touch them. */
static void test_remote_bookings(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    cv_remote_booking b = {.status = CV_PARTNER_WAITING};
    snprintf(b.uuid, sizeof b.uuid, "33333333-3333-4333-8333-333333333333");
    snprintf(b.partner, sizeof b.partner, "coop-b.example");
    snprintf(b.owner, sizeof b.owner, "p1");
    snprintf(b.journey, sizeof b.journey, "offer-1-2030-03-17");
    snprintf(b.doc, sizeof b.doc, "{\"id\":\"%s\"}", b.uuid);
    assert_int_equal(cv_store_add_remote_booking(f->s, &b, &err), 0);
    assert_int_equal(cv_store_add_remote_booking(f->s, &b, &err), CV_ECONFLICT);
    int applied = -1;
    assert_int_equal(
        cv_store_remote_status(f->s, "coop-c.example", b.uuid, NULL, CV_PARTNER_CONFIRMED, 0, &applied, &err),
        CV_ENOTFOUND);
    const char *e1 = "44444444-4444-4444-8444-444444444444", *e2 = "55555555-5555-4555-8555-555555555555";
    assert_int_equal(cv_store_remote_status(f->s, b.partner, b.uuid, e1, CV_PARTNER_CONFIRMED, 0, &applied, &err), 0);
    assert_int_equal(applied, 1);
    assert_int_equal(cv_store_remote_status(f->s, b.partner, b.uuid, e1, CV_PARTNER_CONFIRMED, 0, &applied, &err), 0);
    assert_int_equal(applied, 0); /* seen before */
    assert_int_equal(cv_store_remote_status(f->s, b.partner, b.uuid, e2, CV_PARTNER_WAITING, 0, &applied, &err), 0);
    assert_int_equal(applied, -1); /* backwards: dismissed, and not taken as seen */
    assert_int_equal(cv_store_remote_status(f->s, b.partner, b.uuid, e2, CV_PARTNER_CONFIRMED, 0, &applied, &err), 0);
    assert_int_equal(applied, -1); /* the same status again, in a new event */
    cv_remote_booking got;
    assert_int_equal(cv_store_get_remote_booking(f->s, b.uuid, &got, &err), 0);
    assert_int_equal(got.status, CV_PARTNER_CONFIRMED);
    assert_string_equal(got.doc, b.doc);
    assert_string_equal(got.owner, "p1");
    assert_int_equal(cv_store_remote_status(f->s, b.partner, b.uuid, NULL, CV_PARTNER_CANCELLED, 0, &applied, &err), 0);
    assert_int_equal(applied, 1);
    assert_int_equal(cv_store_get_remote_booking(f->s, b.uuid, &got, &err), 0);
    assert_int_equal(got.status, CV_PARTNER_CANCELLED);
    assert_int_equal(cv_store_get_remote_booking(f->s, "nope", &got, &err), CV_ENOTFOUND);

    /* the partner's driver asks our passenger (side 1): our passenger's answer owes the partner an event, queued
       with it; a message to the partner waits in the outbox behind the ones before it */
    cv_partner p = {.name = "coop-b.example"};
    snprintf(p.base_url, sizeof p.base_url, "http://127.0.0.1:9/stdcov/v1");
    snprintf(p.api_key, sizeof p.api_key, "k");
    snprintf(p.events_url, sizeof p.events_url, "http://127.0.0.1:9/stdcov/v1/booking_events");
    assert_int_equal(cv_store_add_partner(f->s, &p, &err), 0);
    cv_remote_booking asked = {.status = CV_PARTNER_WAITING, .side = 1, .request_id = 7};
    snprintf(asked.uuid, sizeof asked.uuid, "66666666-6666-4666-8666-666666666666");
    snprintf(asked.partner, sizeof asked.partner, "coop-b.example");
    snprintf(asked.owner, sizeof asked.owner, "p1");
    snprintf(asked.journey, sizeof asked.journey, "request-7-2030-03-17");
    snprintf(asked.doc, sizeof asked.doc, "{}");
    assert_int_equal(cv_store_add_remote_booking(f->s, &asked, &err), 0);
    cv_remote_booking *list = NULL;
    size_t n = 0;
    assert_int_equal(cv_store_list_remote_bookings(f->s, "p1", 7, &list, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].side, 1);
    assert_int_equal(list[0].request_id, 7);
    free(list);
    assert_int_equal(cv_store_list_remote_bookings(f->s, "p1", 0, &list, &n, &err), 0);
    assert_int_equal(n, 2);
    free(list);
    assert_int_equal(cv_store_list_remote_bookings(f->s, "p2", 0, &list, &n, &err), 0);
    assert_int_equal(n, 0);
    free(list);
    assert_int_equal(cv_store_outbox_message(f->s, "coop-b.example", "{\"message\":\"first\"}", &err), 0);
    assert_int_equal(cv_store_remote_status(f->s, NULL, asked.uuid, NULL, CV_PARTNER_CONFIRMED, 1, &applied, &err), 0);
    assert_int_equal(applied, 1);
    assert_int_equal(cv_store_outbox_message(f->s, "coop-b.example", "{\"message\":\"second\"}", &err), 0);
    cv_outbox_event *ev = NULL;
    assert_int_equal(cv_store_outbox_due(f->s, 2000000000, 10, &ev, &n, &err), 0);
    assert_int_equal(n, 2); /* the first message and the event; the second message waits for the first */
    assert_int_equal(ev[0].kind, 1);
    assert_string_equal(ev[0].body, "{\"message\":\"first\"}");
    assert_int_equal(ev[1].kind, 0);
    assert_string_equal(ev[1].uuid, asked.uuid);
    assert_int_equal(ev[1].status, CV_PARTNER_CONFIRMED);
    assert_int_equal(cv_store_outbox_done(f->s, ev[0].id, 0, NULL, &err), 0);
    free(ev);
    assert_int_equal(cv_store_outbox_due(f->s, 2000000000, 10, &ev, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(ev[1].body, "{\"message\":\"second\"}");
    free(ev);
    /* no move, no event */
    assert_int_equal(cv_store_remote_status(f->s, NULL, asked.uuid, NULL, CV_PARTNER_CONFIRMED, 1, &applied, &err), 0);
    assert_int_equal(applied, -1);
    cv_outbox_stats st;
    assert_int_equal(cv_store_outbox_stats(f->s, &st, &err), 0);
    assert_int_equal(st.waiting, 2);
}

/* The retention: trips whose last date is before the cut-off go with their bookings and stops (and their owners
   with nothing left); a trip still to come, a regular one still running, and the owners of what stays remain. */
static void test_purge_before(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    cv_day cut = cv_day_from_ymd(2030, 3, 1);
    /* nothing to purge writes nothing: not even the change log's sequence row (the server purges at start, and a
       reader compared the database before and after a request; tier_authz saw it change) */
    cv_erase_counts none;
    assert_int_equal(cv_store_purge_before(f->s, cut, &none, &err), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM changes"), 0);
    if (!pg)
        assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_sequence"), 0);
    assert_int_equal(none.offers + none.requests + none.owner, 0);
    cv_offer old = make_offer("old-driver", 3, 0);
    old.when.depart = cv_local_to_utc(cut - 10, 8 * 3600);
    cv_offer soon = make_offer("new-driver", 3, 0);
    soon.when.depart = cv_local_to_utc(cut + 1, 8 * 3600);
    cv_offer weekly = make_offer("new-driver", 3, 0);
    weekly.when.kind = CV_REGULAR;
    weekly.when.weekdays = 0x1f;
    weekly.when.time_of_day = 8 * 3600;
    weekly.when.first_day = cut - 30;
    weekly.when.last_day = cut + 30;
    cv_offer ended = weekly;
    snprintf(ended.owner, sizeof ended.owner, "%s", "old-commuter");
    ended.when.last_day = cut - 1;
    assert_int_equal(cv_store_add_offer(f->s, &old, &err), 0);
    assert_int_equal(cv_store_add_offer(f->s, &soon, &err), 0);
    assert_int_equal(cv_store_add_offer(f->s, &weekly, &err), 0);
    assert_int_equal(cv_store_add_offer(f->s, &ended, &err), 0);
    cv_request r = make_request("old-rider", 1);
    r.when.depart = old.when.depart + 300;
    assert_int_equal(cv_store_add_request(f->s, &r, &err), 0);
    cv_booking b = make_booking(old.id, r.id, 1, 250000.0, 750000.0);
    b.dates = cv_schedule_dates(&old.when);
    b.pickup_time = old.when.depart + 300, b.dropoff_time = old.when.depart + 900;
    if (cv_store_add_booking(f->s, &b, &err))
        fail_msg("%s", err.text);
    assert_int_equal(cv_store_accept_booking(f->s, b.id, &err), 0);
    /* its ride completed by both sides: a proof */
    cv_completion done;
    int64_t after = old.when.depart + 3600;
    assert_int_equal(cv_store_complete_booking(f->s, b.id, cut - 10, CV_SIDE_DRIVER, 1000, after, &done, &err), 0);
    assert_int_equal(cv_store_complete_booking(f->s, b.id, cut - 10, CV_SIDE_PASSENGER, 1000, after, &done, &err), 0);
    assert_true(done.proof_id > 0);
    cv_erase_counts c;
    assert_int_equal(cv_store_purge_before(f->s, cut - 11, &c, &err), 0); /* a cut-off before its ride: kept */
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM proofs"), 1);
    assert_int_equal(cv_store_purge_before(f->s, cut, &c, &err), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM validations"), 0); /* they went with the booking */
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM proofs"), 0);      /* and the proof, as old */
    assert_int_equal(c.offers, 2); /* the old single trip and the ended commute */
    assert_int_equal(c.requests, 1);
    assert_int_equal(c.bookings, 1);
    assert_true(c.stops >= 2 + 2 + 2); /* their origins and destinations, the passenger's pickup and drop-off */
    assert_int_equal(c.owner, 3);      /* old-driver, old-commuter, old-rider: nothing left of them */
    cv_offer got;
    assert_int_equal(cv_store_get_offer(f->s, old.id, &got, &err), CV_ENOTFOUND);
    assert_int_equal(cv_store_get_offer(f->s, ended.id, &got, &err), CV_ENOTFOUND);
    assert_int_equal(cv_store_get_offer(f->s, soon.id, &got, &err), 0);
    assert_int_equal(cv_store_get_offer(f->s, weekly.id, &got, &err), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM owners"), 1);
    /* again: nothing more */
    assert_int_equal(cv_store_purge_before(f->s, cut, &c, &err), 0);
    assert_int_equal(c.offers + c.requests + c.bookings + c.other, 0);
}

/* A ride is completed by its two sides; the second writes the proof, once, from the booking's facts; what cannot
   be completed is refused and writes nothing. */
static void test_complete_booking(void **state)
{
    fixture *f = *state;
    cv_error err = {0};
    cv_offer o = make_offer("d1", 3, 0);
    o.when.kind = CV_REGULAR;
    o.when.weekdays = 0x7f;
    o.when.time_of_day = 8 * 3600;
    o.when.first_day = cv_day_from_ymd(2030, 3, 1);
    o.when.last_day = cv_day_from_ymd(2030, 3, 31);
    assert_int_equal(cv_store_add_offer(f->s, &o, &err), 0);
    cv_request r = make_request("p1", 2);
    r.when = o.when;
    assert_int_equal(cv_store_add_request(f->s, &r, &err), 0);
    cv_booking b = make_booking(o.id, r.id, 2, 250000.0, 750000.0);
    b.dates = cv_schedule_dates(&o.when);
    b.pickup_time = 8 * 3600 + 300, b.dropoff_time = 8 * 3600 + 900; /* times of day: a regular trip */
    b.amount = 1.35;
    assert_int_equal(cv_store_add_booking(f->s, &b, &err), 0);
    cv_day day = cv_day_from_ymd(2030, 3, 12);
    int64_t pickup = cv_local_to_utc(day, 8 * 3600 + 300);
    cv_completion c;
    /* pending: not yet */
    assert_int_equal(cv_store_complete_booking(f->s, b.id, day, CV_SIDE_DRIVER, 5000, pickup + 60, &c, &err),
                     CV_ECONFLICT);
    assert_int_equal(cv_store_accept_booking(f->s, b.id, &err), 0);
    /* before its pickup, a date it does not ride, an unknown booking */
    assert_int_equal(cv_store_complete_booking(f->s, b.id, day, CV_SIDE_DRIVER, 5000, pickup - 60, &c, &err),
                     CV_ECONFLICT);
    assert_non_null(strstr(err.text, "has not started"));
    assert_int_equal(
        cv_store_complete_booking(f->s, b.id, cv_day_from_ymd(2030, 4, 2), CV_SIDE_DRIVER, 5000, pickup, &c, &err),
        CV_EINVAL);
    assert_int_equal(cv_store_complete_booking(f->s, 9999, day, CV_SIDE_DRIVER, 5000, pickup, &c, &err), CV_ENOTFOUND);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM validations"), 0);
    /* the driver, twice; then the passenger: the proof */
    assert_int_equal(cv_store_complete_booking(f->s, b.id, day, CV_SIDE_DRIVER, 5000, pickup + 60, &c, &err), 0);
    assert_true(c.driver && !c.passenger && !c.proof_id);
    assert_int_equal(cv_store_complete_booking(f->s, b.id, day, CV_SIDE_DRIVER, 5000, pickup + 90, &c, &err), 0);
    assert_int_equal(cv_store_complete_booking(f->s, b.id, day, CV_SIDE_PASSENGER, 5000, pickup + 900, &c, &err), 0);
    assert_true(c.driver && c.passenger && c.proof_id > 0);
    cv_proof p;
    assert_int_equal(cv_store_get_proof(f->s, c.proof_id, &p, &err), 0);
    char want[48];
    snprintf(want, sizeof want, "booking-%lld-2030-03-12", (long long)b.id);
    assert_string_equal(p.journey_id, want);
    snprintf(want, sizeof want, "offer-%lld-2030-03-12", (long long)o.id);
    assert_string_equal(p.trip_id, want);
    assert_int_equal(p.start_time, pickup);
    assert_int_equal(p.end_time, cv_local_to_utc(day, 8 * 3600 + 900));
    assert_int_equal(p.start.lon, b.pickup.lon);
    assert_int_equal(p.end.lat, b.dropoff.lat);
    assert_int_equal(p.distance_m, 5000);
    assert_int_equal(p.seats, 2);
    assert_int_equal(p.contribution_cents, 135);
    assert_int_equal(p.done, 0);
    char d1[CV_PSEUDONYM_MAX], p1[CV_PSEUDONYM_MAX];
    assert_int_equal(cv_store_pseudonym(f->s, "d1", d1, &err), 0);
    assert_int_equal(cv_store_pseudonym(f->s, "p1", p1, &err), 0);
    assert_string_equal(p.driver, d1);
    assert_string_equal(p.passenger, p1);
    assert_int_equal(strlen(d1), 32);
    assert_string_not_equal(d1, p1);
    /* again by either side: the same proof, no second one; another date is another ride */
    assert_int_equal(cv_store_complete_booking(f->s, b.id, day, CV_SIDE_PASSENGER, 5000, pickup + 950, &c, &err), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM proofs"), 1);
    int64_t proof_id = c.proof_id;
    assert_int_equal(cv_store_completion(f->s, b.id, day + 1, &c, &err), 0);
    assert_true(!c.driver && !c.passenger && !c.proof_id);
    c.proof_id = proof_id;
    /* the proofs of a range, of a person; those to send, then sent */
    cv_proof *v = NULL;
    size_t n = 0;
    assert_int_equal(cv_store_list_proofs(f->s, pickup, pickup + 1, p1, &v, &n, &err), 0);
    assert_int_equal(n, 1);
    free(v);
    assert_int_equal(cv_store_list_proofs(f->s, pickup + 1, INT64_MAX, NULL, &v, &n, &err), 0);
    assert_int_equal(n, 0);
    free(v);
    assert_int_equal(cv_store_proofs_due(f->s, pickup + 1000, 10, &v, &n, &err), 0);
    assert_int_equal(n, 1);
    free(v);
    /* one sender takes it; another (a second server) does not, until the lease ends */
    assert_int_equal(cv_store_proof_claim(f->s, c.proof_id, pickup + 1000, pickup + 1030, &err), 1);
    assert_int_equal(cv_store_proof_claim(f->s, c.proof_id, pickup + 1001, pickup + 1031, &err), 0);
    assert_int_equal(cv_store_proofs_due(f->s, pickup + 1001, 10, &v, &n, &err), 0);
    assert_int_equal(n, 0);
    free(v);
    assert_int_equal(cv_store_proof_claim(f->s, c.proof_id, pickup + 1030, pickup + 1060, &err), 1);
    assert_int_equal(cv_store_proof_retry(f->s, c.proof_id, pickup + 2000, "HTTP 503", &err), 0);
    assert_int_equal(cv_store_proofs_due(f->s, pickup + 1000, 10, &v, &n, &err), 0);
    assert_int_equal(n, 0); /* not before its next attempt */
    free(v);
    assert_int_equal(cv_store_proof_done(f->s, c.proof_id, 0, NULL, &err), 0);
    assert_int_equal(cv_store_proof_claim(f->s, c.proof_id, pickup + 9000, pickup + 9030, &err), 0); /* done */
    cv_proof_stats st;
    assert_int_equal(cv_store_proof_stats(f->s, &st, &err), 0);
    assert_int_equal(st.acknowledged, 1);
    assert_int_equal(st.waiting, 0);
    /* the erasure of the passenger leaves the proof, which names no one */
    cv_erase_counts ec;
    assert_int_equal(cv_store_erase_owner(f->s, "p1", &ec, &err), 0);
    assert_int_equal(ec.bookings, 1);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM proofs"), 1);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM validations"), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define BOTH                                                                                                           \
    T(test_offer_round_trip_punctual), T(test_offer_round_trip_regular), T(test_request_round_trip),                   \
        T(test_booking_round_trip), T(test_purge_before), T(test_complete_booking), T(test_list_offers_and_requests),  \
        T(test_list_bookings), T(test_cancel_twice), T(test_unknown_ids), T(test_add_booking_checks),                  \
        T(test_per_leg_seats), T(test_booking_states), T(test_cancel_offer_cascades), T(test_cancel_request_cascades), \
        T(test_refused_calls_write_nothing), T(test_restart_keeps_data), T(test_seats_per_date),                       \
        T(test_one_car_per_request), T(test_zone_kept_and_converted), T(test_stale_placement_refused),                 \
        T(test_api_keys), T(test_concurrent_accept), T(test_partner_outbox), T(test_remote_bookings)
    /* what only SQLite has: its migrations, its file checks */
    const struct CMUnitTest tests[] = {
        BOTH,
        T(test_schema_of_a_new_database),
        T(test_migrate_v1_to_v2),
        T(test_migrate_v2_to_v3),
        T(test_newer_schema_refused),
        T(test_foreign_files_refused),
    };
    const struct CMUnitTest pg_tests[] = {BOTH, cmocka_unit_test(test_pg_foreign_and_newer_refused),
                                          T(test_pg_write_locked_elsewhere)};
#undef T
    int failed = cmocka_run_group_tests_name("sqlite", tests, setup_sqlite, NULL);
    if (!tst_pg_installed()) {
        printf("SKIP postgresql: PostgreSQL's server is not installed (apt-get install postgresql)\n");
        return failed;
    }
    return failed + cmocka_run_group_tests_name("postgresql", pg_tests, setup_pg, teardown_pg);
}
