/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_db.c — matcher/db.h, the same checks on both engines: SQLite (a temporary file) and PostgreSQL (a server of
   the test's own, pg_temp.h; its part is skipped with a message when the package is absent). Parameters by number
   and reused, types of every kind and NULL, ON CONFLICT DO NOTHING and RETURNING, FILTER, a unique violation as
   CV_ECONFLICT, transactions committed and rolled back, a serialization conflict between two connections as
   CV_ERETRY (PostgreSQL), notifications from one connection to another. */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "matcher/db.h"
#include "matcher/store.h"
#include "matcher/store_int.h"
#include "pg_temp.h"

#define DB_FILE COVOIT_TMP "/test_db.sqlite"

static char target[256]; /* the engine under test: a file or a URI */

static cv_db *open_db(void)
{
    cv_db *db = NULL;
    cv_error err = {0};
    if (cv_db_open(target, &db, &err))
        fail_msg("open %s: %s", target, err.text);
    return db;
}

static void exec_ok(cv_db *db, const char *sql)
{
    cv_error err = {0};
    if (cv_db_exec(db, sql, &err))
        fail_msg("%s: %s", sql, err.text);
}

static int setup_sqlite(void **state)
{
    (void)state;
    unlink(DB_FILE);
    unlink(DB_FILE "-wal");
    unlink(DB_FILE "-shm");
    snprintf(target, sizeof target, "%s", DB_FILE);
    return 0;
}

static int setup_pg(void **state)
{
    (void)state;
    char why[300];
    if (tst_pg_start(target, sizeof target, why, sizeof why)) {
        fprintf(stderr, "postgresql: %s\n", why);
        return -1;
    }
    return 0;
}

static int teardown_pg(void **state)
{
    (void)state;
    tst_pg_stop();
    return 0;
}

/* a table of its own for each check */
static int fresh(void **state)
{
    (void)state;
    cv_db *db = open_db();
    exec_ok(db, "DROP TABLE IF EXISTS t; CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT UNIQUE, x DOUBLE "
                "PRECISION, n BIGINT, b BYTEA)");
    cv_db_close(db);
    return 0;
}

static void test_round_trip(void **state)
{
    (void)state;
    cv_db *db = open_db();
    cv_error err = {0};
    cv_db_stmt *ins;
    assert_int_equal(cv_db_prepare(db, "INSERT INTO t (id, name, x, n, b) VALUES (?1, ?2, ?3, ?4, ?5)", &ins, &err), 0);
    static const unsigned char bytes[] = {0, 1, 2, 255, 'a'};
    cv_db_bind_int64(ins, 1, 1);
    cv_db_bind_text(ins, 2, "Avenida dos Aliados, 'quoted' ?1");
    cv_db_bind_double(ins, 3, 0.1 + 0.2);
    cv_db_bind_int64(ins, 4, INT64_C(-9007199254740993));
    cv_db_bind_blob(ins, 5, bytes, sizeof bytes);
    assert_int_equal(cv_db_step(ins, &err), CV_DB_DONE);
    assert_int_equal(cv_db_changes(db), 1);
    cv_db_reset(ins); /* again, with NULLs where nothing is bound */
    cv_db_bind_int64(ins, 1, 2);
    cv_db_bind_text(ins, 2, NULL);
    assert_int_equal(cv_db_step(ins, &err), CV_DB_DONE);
    cv_db_finalize(ins);

    cv_db_stmt *sel;
    assert_int_equal(
        cv_db_prepare(db, "SELECT id, name, x, n, b, ?1 IS NULL FROM t WHERE id >= ?2 ORDER BY id", &sel, &err), 0);
    cv_db_bind_null(sel, 1);
    cv_db_bind_int64(sel, 2, 1);
    assert_int_equal(cv_db_step(sel, &err), CV_DB_ROW);
    assert_int_equal(cv_db_column_int64(sel, 0), 1);
    assert_string_equal(cv_db_column_text(sel, 1), "Avenida dos Aliados, 'quoted' ?1");
    assert_true(cv_db_column_double(sel, 2) == 0.1 + 0.2);
    assert_true(cv_db_column_int64(sel, 3) == INT64_C(-9007199254740993));
    size_t n = 0;
    const unsigned char *b = cv_db_column_blob(sel, 4, &n);
    assert_int_equal(n, sizeof bytes);
    assert_memory_equal(b, bytes, sizeof bytes);
    assert_int_equal(cv_db_column_int64(sel, 5), 1); /* a boolean reads as 1 or 0 on both */
    assert_int_equal(cv_db_step(sel, &err), CV_DB_ROW);
    assert_true(cv_db_column_is_null(sel, 1) && cv_db_column_text(sel, 1) == NULL);
    assert_true(cv_db_column_is_null(sel, 2));
    assert_int_equal(cv_db_step(sel, &err), CV_DB_DONE);
    /* the same statement again, a text parameter where a NULL was */
    cv_db_reset(sel);
    cv_db_bind_text(sel, 1, "x");
    cv_db_bind_int64(sel, 2, 2);
    assert_int_equal(cv_db_step(sel, &err), CV_DB_ROW);
    assert_int_equal(cv_db_column_int64(sel, 0), 2);
    assert_int_equal(cv_db_column_int64(sel, 5), 0);
    cv_db_finalize(sel);
    cv_db_close(db);
}

static void test_sql_both_speak(void **state)
{
    (void)state;
    cv_db *db = open_db();
    cv_error err = {0};
    cv_db_stmt *st;
    /* RETURNING, and ON CONFLICT DO NOTHING: a repeat changes nothing and returns no row */
    assert_int_equal(
        cv_db_prepare(db, "INSERT INTO t (id, name) VALUES (?1, ?2) ON CONFLICT DO NOTHING RETURNING id", &st, &err),
        0);
    for (int round = 0; round < 2; round++) {
        cv_db_reset(st);
        cv_db_bind_int64(st, 1, 7);
        cv_db_bind_text(st, 2, "seven");
        int rc = cv_db_step(st, &err);
        if (round == 0) {
            assert_int_equal(rc, CV_DB_ROW);
            assert_int_equal(cv_db_column_int64(st, 0), 7);
            assert_int_equal(cv_db_step(st, &err), CV_DB_DONE);
        } else {
            assert_int_equal(rc, CV_DB_DONE);
        }
    }
    cv_db_finalize(st);
    /* a unique violation: CV_ECONFLICT; another constraint: CV_EINVAL */
    assert_int_equal(cv_db_prepare(db, "INSERT INTO t (id, name) VALUES (?1, ?2)", &st, &err), 0);
    cv_db_bind_int64(st, 1, 8);
    cv_db_bind_text(st, 2, "seven");
    assert_int_equal(cv_db_step(st, &err), CV_ECONFLICT);
    cv_db_finalize(st);
    exec_ok(db, "CREATE TABLE IF NOT EXISTS c (v BIGINT CHECK (v > 0))");
    assert_int_equal(cv_db_prepare(db, "INSERT INTO c (v) VALUES (?1)", &st, &err), 0);
    cv_db_bind_int64(st, 1, -1);
    assert_int_equal(cv_db_step(st, &err), CV_EINVAL);
    cv_db_finalize(st);
    /* FILTER, and a parameter used twice */
    assert_int_equal(cv_db_prepare(db,
                                   "SELECT count(*) FILTER (WHERE id = ?1), count(*) FILTER (WHERE id <> ?1), "
                                   "coalesce(sum(id), 0) FROM t",
                                   &st, &err),
                     0);
    cv_db_bind_int64(st, 1, 7);
    assert_int_equal(cv_db_step(st, &err), CV_DB_ROW);
    assert_int_equal(cv_db_column_int64(st, 0), 1);
    assert_int_equal(cv_db_column_int64(st, 1), 0);
    assert_int_equal(cv_db_column_int64(st, 2), 7);
    cv_db_finalize(st);
    /* an UPDATE's changes */
    exec_ok(db, "INSERT INTO t (id) VALUES (20), (21), (22)");
    assert_int_equal(cv_db_prepare(db, "UPDATE t SET n = ?1 WHERE id >= ?2", &st, &err), 0);
    cv_db_bind_int64(st, 1, 5);
    cv_db_bind_int64(st, 2, 20);
    assert_int_equal(cv_db_step(st, &err), CV_DB_DONE);
    assert_int_equal(cv_db_changes(db), 3);
    cv_db_finalize(st);
    /* a bad statement: an error naming it, not a crash */
    assert_true(cv_db_exec(db, "SELEKT 1", &err) < 0);
    assert_true(strlen(err.text) > 0);
    cv_db_close(db);
}

static int64_t count_rows(cv_db *db)
{
    cv_db_stmt *st;
    cv_error err = {0};
    assert_int_equal(cv_db_prepare(db, "SELECT count(*) FROM t", &st, &err), 0);
    assert_int_equal(cv_db_step(st, &err), CV_DB_ROW);
    int64_t n = cv_db_column_int64(st, 0);
    cv_db_finalize(st);
    return n;
}

static void test_transactions(void **state)
{
    (void)state;
    cv_db *db = open_db();
    cv_error err = {0};
    assert_int_equal(cv_db_begin(db, 1, &err), 0);
    assert_true(cv_db_in_transaction(db));
    exec_ok(db, "INSERT INTO t (id) VALUES (100)");
    cv_db_rollback(db);
    assert_false(cv_db_in_transaction(db));
    assert_int_equal(count_rows(db), 0);
    assert_int_equal(cv_db_begin(db, 1, &err), 0);
    exec_ok(db, "INSERT INTO t (id) VALUES (101)");
    assert_int_equal(cv_db_commit(db, &err), 0);
    assert_int_equal(count_rows(db), 1);
    /* a failed statement inside a transaction: the transaction is rolled back whole */
    assert_int_equal(cv_db_begin(db, 1, &err), 0);
    exec_ok(db, "INSERT INTO t (id) VALUES (102)");
    assert_int_equal(cv_db_exec(db, "INSERT INTO t (id) VALUES (101)", &err), CV_ECONFLICT);
    cv_db_rollback(db);
    assert_int_equal(count_rows(db), 1);
    cv_db_close(db);
}

/* Two servers' transactions read the same rows and each writes what the other read: on PostgreSQL one of them
   fails with CV_ERETRY (at its write or its commit) and nothing of it stays; run again, it passes. (SQLite takes
   one writer at a time: the second BEGIN waits, so there is no such conflict to show.) */
static void test_serialization_conflict(void **state)
{
    (void)state;
    cv_db *a = open_db(), *b = open_db();
    cv_error err = {0};
    exec_ok(a, "INSERT INTO t (id, n) VALUES (1, 0), (2, 0)");
    if (cv_db_engine_of(a) == CV_DB_POSTGRES) {
        assert_int_equal(cv_db_begin(a, 1, &err), 0);
        assert_int_equal(cv_db_begin(b, 1, &err), 0);
        exec_ok(a, "SELECT sum(n) FROM t");
        exec_ok(b, "SELECT sum(n) FROM t");
        exec_ok(a, "UPDATE t SET n = 1 WHERE id = 1");
        exec_ok(b, "UPDATE t SET n = 1 WHERE id = 2");
        assert_int_equal(cv_db_commit(a, &err), 0);
        int rc = cv_db_commit(b, &err);
        assert_int_equal(rc, CV_ERETRY);
        cv_db_rollback(b);
        /* the loser runs again and sees the winner's write */
        assert_int_equal(cv_db_begin(b, 1, &err), 0);
        exec_ok(b, "UPDATE t SET n = 1 WHERE id = 2");
        assert_int_equal(cv_db_commit(b, &err), 0);
    }
    cv_db_stmt *st;
    assert_int_equal(cv_db_prepare(a, "SELECT count(*) FILTER (WHERE n = 0) FROM t", &st, &err), 0);
    assert_int_equal(cv_db_step(st, &err), CV_DB_ROW);
    assert_int_equal(cv_db_column_int64(st, 0), cv_db_engine_of(a) == CV_DB_POSTGRES ? 0 : 2);
    cv_db_finalize(st);
    cv_db_close(a);
    cv_db_close(b);
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* A follower waits on its connection; a writer's commit wakes it at once (PostgreSQL); without one, the wait
   ends at its timeout. On SQLite a wait is the timeout (followers poll). */
static void test_notifications(void **state)
{
    (void)state;
    cv_db *follower = open_db(), *writer = open_db();
    cv_error err = {0};
    assert_int_equal(cv_db_listen(follower, "trips", &err), 0);
    assert_int_equal(cv_db_listen(follower, "Bad name;", &err),
                     cv_db_engine_of(follower) == CV_DB_POSTGRES ? CV_EINVAL : 0);
    double t0 = now_ms();
    int got = cv_db_wait(follower, 200, &err);
    double waited = now_ms() - t0;
    if (cv_db_engine_of(follower) == CV_DB_POSTGRES) {
        assert_int_equal(got, 0);
        assert_true(waited >= 150);
        /* notified inside a transaction: delivered at its commit, not before */
        assert_int_equal(cv_db_begin(writer, 1, &err), 0);
        exec_ok(writer, "INSERT INTO t (id) VALUES (1)");
        assert_int_equal(cv_db_notify(writer, "trips", &err), 0);
        assert_int_equal(cv_db_wait(follower, 100, &err), 0);
        assert_int_equal(cv_db_commit(writer, &err), 0);
        t0 = now_ms();
        assert_int_equal(cv_db_wait(follower, 5000, &err), 1);
        assert_true(now_ms() - t0 < 1000);
        assert_int_equal(cv_db_wait(follower, 50, &err), 0); /* drained */
    } else {
        assert_int_equal(got, 1);
        assert_true(waited >= 150);
    }
    cv_db_close(follower);
    cv_db_close(writer);
}

/* The column names of every table of db, "table.column" sorted, one per line. */
static char *columns_of(cv_db *db)
{
    cv_error err = {0};
    cv_db_stmt *st;
    const char *sql = cv_db_engine_of(db) == CV_DB_POSTGRES
                          ? "SELECT table_name || '.' || column_name FROM information_schema.columns WHERE "
                            "table_schema = 'public' ORDER BY 1"
                          : "SELECT m.name || '.' || p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE "
                            "m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY 1";
    if (cv_db_prepare(db, sql, &st, &err))
        fail_msg("%s", err.text);
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(1, cap);
    while (cv_db_step(st, &err) == CV_DB_ROW)
        len += (size_t)snprintf(out + len, cap - len, "%s\n", cv_db_column_text(st, 0));
    cv_db_finalize(st);
    return out;
}

/* PostgreSQL's schema has the tables and columns SQLite's has at the same version (a store made by covoit), and
   its trigger owes a partner the event of its booking's new status, as SQLite's does. */
static void test_pg_schema(void **state)
{
    (void)state;
    cv_db *db = open_db();
    assert_int_equal(cv_db_engine_of(db), CV_DB_POSTGRES);
    cv_error err = {0};
    exec_ok(db, "DROP TABLE IF EXISTS t, c");
    if (cv_db_exec(db, cv_pg_schema, &err))
        fail_msg("the schema: %s", err.text);
    char lite_path[300];
    snprintf(lite_path, sizeof lite_path, "%s/test_db_store.sqlite", COVOIT_TMP);
    unlink(lite_path);
    cv_store *s = NULL;
    if (cv_store_open(lite_path, &s, &err))
        fail_msg("%s", err.text);
    cv_store_close(s);
    cv_db *lite = NULL;
    assert_int_equal(cv_db_open(lite_path, &lite, &err), 0);
    char *a = columns_of(lite), *b = columns_of(db);
    if (strcmp(a, b))
        fail_msg("the schemas differ:\nSQLite:\n%s\nPostgreSQL:\n%s", a, b);
    assert_true(strlen(a) > 1000);
    free(a);
    free(b);
    cv_db_close(lite);
    /* a partner's booking: our driver's answer owes it an event, with a UUID of its own; the same status again
       owes nothing */
    exec_ok(db,
            "INSERT INTO owners VALUES ('d', 0), ('p', 0);"
            "INSERT INTO offers (owner, from_lon, from_lat, to_lon, to_lat, sched_kind, depart, weekdays, "
            "time_of_day, first_day, last_day, margin_s, seats, max_detour_s, max_detour_m, price_per_km, status, "
            "created, direct_duration_ds, direct_distance_dm) VALUES ('d', 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, "
            "0.1, 0, 0, 0, 0);"
            "INSERT INTO requests (owner, from_lon, from_lat, to_lon, to_lat, sched_kind, depart, weekdays, "
            "time_of_day, first_day, last_day, margin_s, seats, status, created) VALUES ('p', 0, 0, 1, 1, 0, 0, 0, "
            "0, 0, 0, 0, 1, 0, 0);"
            "INSERT INTO bookings (offer_id, request_id, seats, status, first_day, last_day, weekdays, pickup_lon, "
            "pickup_lat, dropoff_lon, dropoff_lat, pickup_key, dropoff_key, pickup_time, dropoff_time, amount, "
            "created, updated) VALUES (1, 1, 1, 0, 0, 0, 1, 0, 0, 1, 1, 1, 2, 0, 0, 0.5, 0, 0);"
            "INSERT INTO partner_bookings VALUES ('u-1', 'coop-b', 1, 'j', 'x', 'X', 'op', 0, NULL, 0, 0);"
            "UPDATE bookings SET status = 1 WHERE id = 1; UPDATE bookings SET status = 1 WHERE id = 1;");
    cv_db_stmt *st;
    assert_int_equal(cv_db_prepare(db, "SELECT partner, uuid, status, length(event) FROM outbox", &st, &err), 0);
    assert_int_equal(cv_db_step(st, &err), CV_DB_ROW);
    assert_string_equal(cv_db_column_text(st, 0), "coop-b");
    assert_string_equal(cv_db_column_text(st, 1), "u-1");
    assert_int_equal(cv_db_column_int64(st, 2), 1);
    assert_int_equal(cv_db_column_int64(st, 3), 36);
    assert_int_equal(cv_db_step(st, &err), CV_DB_DONE);
    cv_db_finalize(st);
    /* one live booking per request and offer, held by the database itself */
    assert_int_equal(cv_db_exec(db,
                                "INSERT INTO bookings (offer_id, request_id, seats, status, first_day, last_day, "
                                "weekdays, pickup_lon, pickup_lat, dropoff_lon, dropoff_lat, pickup_key, dropoff_key, "
                                "pickup_time, dropoff_time, amount, created, updated) VALUES (1, 1, 1, 0, 0, 0, 1, 0, "
                                "0, 1, 1, 1, 2, 0, 0, 0.5, 0, 0)",
                                &err),
                     CV_ECONFLICT);
    cv_db_close(db);
}

static void test_open_errors(void **state)
{
    (void)state;
    cv_db *db = NULL;
    cv_error err = {0};
    assert_true(cv_db_is_postgres("postgresql://u@h/db") && cv_db_is_postgres("postgres://h/db"));
    assert_false(cv_db_is_postgres("trips.db") || cv_db_is_postgres(NULL));
    assert_int_equal(cv_db_open("", &db, &err), CV_EINVAL);
    /* nobody listens there: unavailable, said without the password */
    int port = tst_pg_port();
    char uri[200];
    snprintf(uri, sizeof uri, "postgresql://covoit:s3cret@127.0.0.1:%d/covoit?connect_timeout=2", port);
    assert_int_equal(cv_db_open(uri, &db, &err), CV_EUNAVAILABLE);
    assert_null(db);
    assert_null(strstr(err.text, "s3cret"));
    assert_non_null(strstr(err.text, "PostgreSQL"));
}

int main(void)
{
#define BOTH                                                                                                           \
    cmocka_unit_test_setup(test_round_trip, fresh), cmocka_unit_test_setup(test_sql_both_speak, fresh),                \
        cmocka_unit_test_setup(test_transactions, fresh), cmocka_unit_test_setup(test_serialization_conflict, fresh),  \
        cmocka_unit_test_setup(test_notifications, fresh), cmocka_unit_test(test_open_errors)
    const struct CMUnitTest tests[] = {BOTH};
    const struct CMUnitTest pg_tests[] = {BOTH, cmocka_unit_test(test_pg_schema)}; /* and PostgreSQL's schema */
    int failed = cmocka_run_group_tests_name("sqlite", tests, setup_sqlite, NULL);
    if (!tst_pg_installed()) {
        printf("SKIP postgresql: PostgreSQL's server is not installed (apt-get install postgresql)\n");
        return failed;
    }
    failed += cmocka_run_group_tests_name("postgresql", pg_tests, setup_pg, teardown_pg);
    return failed;
}
