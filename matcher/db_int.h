/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* db_int.h — what the two engines of db.h implement: a table of operations each connection and statement points
   to (db.c dispatches). matcher/ only. */
#ifndef CV_MATCHER_DB_INT_H
#define CV_MATCHER_DB_INT_H

#include "matcher/db.h"

typedef struct cv_db_ops {
    void (*close)(cv_db *db);
    int (*exec)(cv_db *db, const char *sql, cv_error *err);
    int (*prepare)(cv_db *db, const char *sql, cv_db_stmt **out, cv_error *err);
    void (*bind_int64)(cv_db_stmt *st, int i, int64_t v);
    void (*bind_double)(cv_db_stmt *st, int i, double v);
    void (*bind_text)(cv_db_stmt *st, int i, const char *v);
    void (*bind_blob)(cv_db_stmt *st, int i, const void *v, size_t n);
    void (*bind_null)(cv_db_stmt *st, int i);
    int (*step)(cv_db_stmt *st, cv_error *err);
    int64_t (*column_int64)(cv_db_stmt *st, int i);
    double (*column_double)(cv_db_stmt *st, int i);
    const char *(*column_text)(cv_db_stmt *st, int i);
    const void *(*column_blob)(cv_db_stmt *st, int i, size_t *n);
    int (*column_is_null)(cv_db_stmt *st, int i);
    int (*column_count)(cv_db_stmt *st);
    void (*reset)(cv_db_stmt *st);
    void (*finalize)(cv_db_stmt *st);
    int64_t (*changes)(cv_db *db);
    int (*begin)(cv_db *db, int write, cv_error *err);
    int (*commit)(cv_db *db, cv_error *err);
    void (*rollback)(cv_db *db);
    int (*in_transaction)(cv_db *db);
    int (*listen)(cv_db *db, const char *channel, cv_error *err);
    int (*notify)(cv_db *db, const char *channel, cv_error *err);
    int (*wait)(cv_db *db, int timeout_ms, cv_error *err);
    void *(*handle)(cv_db *db);
} cv_db_ops;

struct cv_db {
    const cv_db_ops *ops;
    cv_db_engine engine;
    int64_t statements; /* run so far (cv_db_statements) */
};

struct cv_db_stmt {
    cv_db *db;
};

int cv_db_open_sqlite(const char *path, cv_db **out, cv_error *err);
int cv_db_open_postgres(const char *uri, cv_db **out, cv_error *err);

#endif
