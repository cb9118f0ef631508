/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* The few SQLite helpers the store and the backup share; matcher/ only. */
#ifndef COVOIT_MATCHER_SQLITE_INT_H
#define COVOIT_MATCHER_SQLITE_INT_H

#include <sqlite3.h>
#include <stdint.h>

#include "util/cv_error.h"

/* The CV_E* code for an SQLite result code: NOMEM, NOTADB (a file that is not a database), CORRUPT, BUSY or LOCKED
   (another process kept the database locked), a UNIQUE or PRIMARY KEY constraint (a conflict), another constraint
   (invalid data), anything else an I/O error. */
int cv_sqlite_code(int rc);

/* Fills err with SQLite's message for rc on db (after "what: " unless what is NULL) and returns its CV_E* code. Call
   it before anything else touches the connection: a reset or rollback replaces sqlite3_errmsg. */
int cv_sqlite_fail(sqlite3 *db, cv_error *err, int rc, const char *what);

/* Runs a statement returning one row and reads its first column into *v: an SQLite result code, SQLITE_DONE when
   there was no row. On failure sqlite3_errmsg(db) still describes it. */
int cv_sqlite_int64(sqlite3 *db, const char *sql, int64_t *v);

#endif
