/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* db.h — one SQL interface over the two engines the trip store runs on: SQLite (a file, the embedded default) and
   PostgreSQL (a libpq connection URI, for several servers on one replicated database: docs/deploy.md). The store
   writes its statements once, in the SQL both engines speak (?N parameters, INSERT ... ON CONFLICT DO NOTHING,
   RETURNING, count(*) FILTER (WHERE ...)), and keeps per-engine only what differs (its schema's DDL). Statements
   are prepared, bound by position, stepped row by row and read by column, as SQLite's API does; transactions are
   SQLite's BEGIN IMMEDIATE (one writer at a time) or PostgreSQL's SERIALIZABLE (a conflict is CV_ERETRY: the
   caller runs the transaction again); changes are announced and waited for (PostgreSQL's LISTEN/NOTIFY; SQLite
   has no such thing: the wait is a sleep, and followers poll). matcher/ only. */
#ifndef CV_MATCHER_DB_H
#define CV_MATCHER_DB_H

#include <stddef.h>
#include <stdint.h>

#include "util/cv_error.h"

typedef enum cv_db_engine { CV_DB_SQLITE = 0, CV_DB_POSTGRES = 1 } cv_db_engine;

typedef struct cv_db cv_db;
typedef struct cv_db_stmt cv_db_stmt;

/* Whether target names a PostgreSQL database (a libpq URI: postgresql://... or postgres://...) rather than a file. */
int cv_db_is_postgres(const char *target);

/* Opens target: a SQLite file (created when missing) or a PostgreSQL URI (multi-host with
   target_session_attrs=read-write allowed). 0 and *out, or a CV_E* code with err naming the problem (the password
   of a URI is never repeated in it). */
int cv_db_open(const char *target, cv_db **out, cv_error *err);
void cv_db_close(cv_db *db); /* accepts NULL */
cv_db_engine cv_db_engine_of(const cv_db *db);

/* Runs sql, one or more statements without parameters whose rows are not read (DDL, settings). */
int cv_db_exec(cv_db *db, const char *sql, cv_error *err);

/* Prepares one statement with parameters ?1, ?2, ... (each may appear several times). 0 and *out, or a CV_E* code.
   A statement is used by one thread at a time, on its connection. PostgreSQL types each parameter from what is
   bound, or from where it stands when NULL is: a NULL whose type nothing around it tells ("?1 IS NULL") is taken
   as text outside a transaction, and must be cast inside one (CAST(?1 AS TEXT), which SQLite reads too). */
int cv_db_prepare(cv_db *db, const char *sql, cv_db_stmt **out, cv_error *err);

/* Binds parameter i (from 1) until the statement is reset; a parameter not bound is NULL. text is copied. */
void cv_db_bind_int64(cv_db_stmt *st, int i, int64_t v);
void cv_db_bind_double(cv_db_stmt *st, int i, double v);
void cv_db_bind_text(cv_db_stmt *st, int i, const char *v); /* NULL binds NULL */
void cv_db_bind_blob(cv_db_stmt *st, int i, const void *v, size_t n);
void cv_db_bind_null(cv_db_stmt *st, int i);

#define CV_DB_ROW 1
#define CV_DB_DONE 0

/* Runs the statement (first call) or moves to its next row: CV_DB_ROW with a row to read, CV_DB_DONE at the end,
   or a negative CV_E* code: CV_ECONFLICT for a unique or primary key violation, CV_EINVAL for another constraint,
   CV_ERETRY for a serialization failure or a deadlock (run the transaction again), CV_EBUSY when the database
   stayed locked, CV_EUNAVAILABLE when the connection is lost, CV_EIO otherwise; err holds the engine's own words,
   and the caller says what it was doing. */
int cv_db_step(cv_db_stmt *st, cv_error *err);

/* Column i (from 0) of the current row. Text stays valid until the next step or reset. */
int64_t cv_db_column_int64(cv_db_stmt *st, int i);
double cv_db_column_double(cv_db_stmt *st, int i);
const char *cv_db_column_text(cv_db_stmt *st, int i); /* NULL for NULL */
const void *cv_db_column_blob(cv_db_stmt *st, int i, size_t *n);
int cv_db_column_is_null(cv_db_stmt *st, int i);
int cv_db_column_count(cv_db_stmt *st); /* of the current row */

/* Ends the current execution and clears the bindings, for the statement to run again. */
void cv_db_reset(cv_db_stmt *st);
void cv_db_finalize(cv_db_stmt *st); /* accepts NULL */

/* Rows the last INSERT, UPDATE or DELETE of the connection changed. */
int64_t cv_db_changes(cv_db *db);

/* Transactions: a write one (SQLite: BEGIN IMMEDIATE; PostgreSQL: SERIALIZABLE) or a read one (a snapshot). */
int cv_db_begin(cv_db *db, int write, cv_error *err);
int cv_db_commit(cv_db *db, cv_error *err); /* CV_ERETRY: a serialization failure at commit, nothing written */
void cv_db_rollback(cv_db *db);
int cv_db_in_transaction(cv_db *db);

/* Change notifications on channel (a plain identifier): cv_db_listen subscribes this connection, cv_db_notify
   announces (delivered at commit when inside a transaction), cv_db_wait waits up to timeout_ms for an announcement:
   1 when one came (or, on SQLite, always after the timeout: followers poll), 0 at the timeout, or a CV_E* code. */
int cv_db_listen(cv_db *db, const char *channel, cv_error *err);
int cv_db_notify(cv_db *db, const char *channel, cv_error *err);
int cv_db_wait(cv_db *db, int timeout_ms, cv_error *err);

/* Statements the connection has run so far: on PostgreSQL each is one round trip to the server (a transaction's
   BEGIN and COMMIT included), on SQLite a call into the library. For the metrics and the cost benchmark. */
int64_t cv_db_statements(const cv_db *db);

/* The engine's own connection handle (sqlite3 *, PGconn *), for what only one engine does (backup, WAL). */
void *cv_db_handle(cv_db *db);

#endif
