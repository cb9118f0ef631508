/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* db.c — db.h: which engine a target names, and the calls passed on to it (db_sqlite.c, db_pg.c). */
#include "matcher/db_int.h"

#include <string.h>

int cv_db_is_postgres(const char *target)
{
    return target && (!strncmp(target, "postgresql://", 13) || !strncmp(target, "postgres://", 11));
}

int cv_db_open(const char *target, cv_db **out, cv_error *err)
{
    *out = NULL;
    if (!target || !*target)
        return cv_fail(err, CV_EINVAL, "no database named (a file, or a postgresql:// URI)");
    return cv_db_is_postgres(target) ? cv_db_open_postgres(target, out, err) : cv_db_open_sqlite(target, out, err);
}

void cv_db_close(cv_db *db)
{
    if (db)
        db->ops->close(db);
}

cv_db_engine cv_db_engine_of(const cv_db *db)
{
    return db->engine;
}

int cv_db_exec(cv_db *db, const char *sql, cv_error *err)
{
    return db->ops->exec(db, sql, err);
}

int cv_db_prepare(cv_db *db, const char *sql, cv_db_stmt **out, cv_error *err)
{
    *out = NULL;
    return db->ops->prepare(db, sql, out, err);
}

void cv_db_bind_int64(cv_db_stmt *st, int i, int64_t v)
{
    st->db->ops->bind_int64(st, i, v);
}

void cv_db_bind_double(cv_db_stmt *st, int i, double v)
{
    st->db->ops->bind_double(st, i, v);
}

void cv_db_bind_text(cv_db_stmt *st, int i, const char *v)
{
    st->db->ops->bind_text(st, i, v);
}

void cv_db_bind_blob(cv_db_stmt *st, int i, const void *v, size_t n)
{
    st->db->ops->bind_blob(st, i, v, n);
}

void cv_db_bind_null(cv_db_stmt *st, int i)
{
    st->db->ops->bind_null(st, i);
}

int cv_db_step(cv_db_stmt *st, cv_error *err)
{
    return st->db->ops->step(st, err);
}

int64_t cv_db_column_int64(cv_db_stmt *st, int i)
{
    return st->db->ops->column_int64(st, i);
}

double cv_db_column_double(cv_db_stmt *st, int i)
{
    return st->db->ops->column_double(st, i);
}

const char *cv_db_column_text(cv_db_stmt *st, int i)
{
    return st->db->ops->column_text(st, i);
}

const void *cv_db_column_blob(cv_db_stmt *st, int i, size_t *n)
{
    return st->db->ops->column_blob(st, i, n);
}

int cv_db_column_is_null(cv_db_stmt *st, int i)
{
    return st->db->ops->column_is_null(st, i);
}

int cv_db_column_count(cv_db_stmt *st)
{
    return st->db->ops->column_count(st);
}

void cv_db_reset(cv_db_stmt *st)
{
    st->db->ops->reset(st);
}

void cv_db_finalize(cv_db_stmt *st)
{
    if (st)
        st->db->ops->finalize(st);
}

int64_t cv_db_changes(cv_db *db)
{
    return db->ops->changes(db);
}

int cv_db_begin(cv_db *db, int write, cv_error *err)
{
    return db->ops->begin(db, write, err);
}

int cv_db_commit(cv_db *db, cv_error *err)
{
    return db->ops->commit(db, err);
}

void cv_db_rollback(cv_db *db)
{
    db->ops->rollback(db);
}

int cv_db_in_transaction(cv_db *db)
{
    return db->ops->in_transaction(db);
}

int cv_db_listen(cv_db *db, const char *channel, cv_error *err)
{
    return db->ops->listen(db, channel, err);
}

int cv_db_notify(cv_db *db, const char *channel, cv_error *err)
{
    return db->ops->notify(db, channel, err);
}

int cv_db_wait(cv_db *db, int timeout_ms, cv_error *err)
{
    return db->ops->wait(db, timeout_ms, err);
}

int64_t cv_db_statements(const cv_db *db)
{
    return db ? db->statements : 0;
}

void *cv_db_handle(cv_db *db)
{
    return db->ops->handle(db);
}
