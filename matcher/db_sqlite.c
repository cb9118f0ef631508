/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* db_sqlite.c — db.h over SQLite: a thin layer on its own API (WAL, a busy timeout, BEGIN IMMEDIATE for writers). */
#define _POSIX_C_SOURCE 200809L
#include "matcher/db_int.h"
#include "matcher/sqlite_int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUSY_TIMEOUT_MS 5000

typedef struct lite_db {
    cv_db base;
    sqlite3 *db;
} lite_db;

typedef struct lite_stmt {
    cv_db_stmt base;
    sqlite3_stmt *st;
} lite_stmt;

static void lite_close(cv_db *d)
{
    lite_db *l = (lite_db *)d;
    sqlite3_close(l->db);
    free(l);
}

static int lite_exec(cv_db *d, const char *sql, cv_error *err)
{
    lite_db *l = (lite_db *)d;
    d->statements++;
    int rc = sqlite3_exec(l->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : cv_sqlite_fail(l->db, err, rc, NULL);
}

static int lite_prepare(cv_db *d, const char *sql, cv_db_stmt **out, cv_error *err)
{
    lite_db *l = (lite_db *)d;
    lite_stmt *s = calloc(1, sizeof *s);
    if (!s)
        return cv_fail(err, CV_ENOMEM, "out of memory");
    int rc = sqlite3_prepare_v2(l->db, sql, -1, &s->st, NULL);
    if (rc != SQLITE_OK) {
        free(s);
        return cv_sqlite_fail(l->db, err, rc, NULL);
    }
    s->base.db = d;
    *out = &s->base;
    return 0;
}

static sqlite3_stmt *st_of(cv_db_stmt *s)
{
    return ((lite_stmt *)s)->st;
}

static void lite_bind_int64(cv_db_stmt *s, int i, int64_t v)
{
    sqlite3_bind_int64(st_of(s), i, v);
}
static void lite_bind_double(cv_db_stmt *s, int i, double v)
{
    sqlite3_bind_double(st_of(s), i, v);
}
static void lite_bind_text(cv_db_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st_of(s), i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st_of(s), i);
}
static void lite_bind_blob(cv_db_stmt *s, int i, const void *v, size_t n)
{
    sqlite3_bind_blob(st_of(s), i, v, (int)n, SQLITE_TRANSIENT);
}
static void lite_bind_null(cv_db_stmt *s, int i)
{
    sqlite3_bind_null(st_of(s), i);
}

static int lite_step(cv_db_stmt *s, cv_error *err)
{
    if (!sqlite3_stmt_busy(st_of(s)))
        s->db->statements++; /* its first step runs it */
    int rc = sqlite3_step(st_of(s));
    if (rc == SQLITE_ROW)
        return CV_DB_ROW;
    if (rc == SQLITE_DONE)
        return CV_DB_DONE;
    return cv_sqlite_fail(((lite_db *)s->db)->db, err, sqlite3_extended_errcode(((lite_db *)s->db)->db), NULL);
}

static int64_t lite_int64(cv_db_stmt *s, int i)
{
    return sqlite3_column_int64(st_of(s), i);
}
static double lite_double(cv_db_stmt *s, int i)
{
    return sqlite3_column_double(st_of(s), i);
}
static const char *lite_text(cv_db_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(st_of(s), i);
}
static const void *lite_blob(cv_db_stmt *s, int i, size_t *n)
{
    const void *p = sqlite3_column_blob(st_of(s), i);
    *n = (size_t)sqlite3_column_bytes(st_of(s), i);
    return p;
}
static int lite_is_null(cv_db_stmt *s, int i)
{
    return sqlite3_column_type(st_of(s), i) == SQLITE_NULL;
}
static int lite_count(cv_db_stmt *s)
{
    return sqlite3_column_count(st_of(s));
}
static void lite_reset(cv_db_stmt *s)
{
    sqlite3_reset(st_of(s));
    sqlite3_clear_bindings(st_of(s));
}
static void lite_finalize(cv_db_stmt *s)
{
    sqlite3_finalize(st_of(s));
    free(s);
}
static int64_t lite_changes(cv_db *d)
{
    return sqlite3_changes(((lite_db *)d)->db);
}

static int lite_begin(cv_db *d, int write, cv_error *err)
{
    return lite_exec(d, write ? "BEGIN IMMEDIATE" : "BEGIN", err);
}
static int lite_commit(cv_db *d, cv_error *err)
{
    return lite_exec(d, "COMMIT", err);
}
static void lite_rollback(cv_db *d)
{
    if (!sqlite3_get_autocommit(((lite_db *)d)->db))
        sqlite3_exec(((lite_db *)d)->db, "ROLLBACK", NULL, NULL, NULL);
}
static int lite_in_tx(cv_db *d)
{
    return !sqlite3_get_autocommit(((lite_db *)d)->db);
}

/* SQLite has no notifications: its followers poll, here by sleeping the timeout. */
static int lite_listen(cv_db *d, const char *channel, cv_error *err)
{
    (void)d, (void)channel, (void)err;
    return 0;
}
static int lite_notify(cv_db *d, const char *channel, cv_error *err)
{
    (void)d, (void)channel, (void)err;
    return 0;
}
static int lite_wait(cv_db *d, int timeout_ms, cv_error *err)
{
    (void)d, (void)err;
    struct timespec t = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
    return 1;
}
static void *lite_handle(cv_db *d)
{
    return ((lite_db *)d)->db;
}

static const cv_db_ops lite_ops = {
    lite_close,     lite_exec,   lite_prepare,  lite_bind_int64, lite_bind_double, lite_bind_text, lite_bind_blob,
    lite_bind_null, lite_step,   lite_int64,    lite_double,     lite_text,        lite_blob,      lite_is_null,
    lite_count,     lite_reset,  lite_finalize, lite_changes,    lite_begin,       lite_commit,    lite_rollback,
    lite_in_tx,     lite_listen, lite_notify,   lite_wait,       lite_handle,
};

int cv_db_open_sqlite(const char *path, cv_db **out, cv_error *err)
{
    lite_db *l = calloc(1, sizeof *l);
    if (!l)
        return cv_fail(err, CV_ENOMEM, "out of memory");
    int rc = sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = cv_fail(err, cv_sqlite_code(rc), "cannot open %s: %s", path,
                     l->db ? sqlite3_errmsg(l->db) : sqlite3_errstr(rc));
        sqlite3_close(l->db);
        free(l);
        return rc;
    }
    sqlite3_extended_result_codes(l->db, 1);
    sqlite3_busy_timeout(l->db, BUSY_TIMEOUT_MS);
    l->base.ops = &lite_ops;
    l->base.engine = CV_DB_SQLITE;
    rc = lite_exec(&l->base, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON", err);
    if (rc) {
        lite_close(&l->base);
        return rc;
    }
    *out = &l->base;
    return 0;
}
