/* SPDX-License-Identifier: AGPL-3.0-or-later */
#include "matcher/sqlite_int.h"
#include "util/cv_error.h"

int cv_sqlite_code(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_NOMEM:
        return CV_ENOMEM;
    case SQLITE_NOTADB:
        return CV_EFORMAT;
    case SQLITE_CORRUPT:
        return CV_ECORRUPT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return CV_EBUSY;
    case SQLITE_CONSTRAINT:
        return (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) ? CV_ECONFLICT : CV_EINVAL;
    default:
        return CV_EIO;
    }
}

int cv_sqlite_fail(sqlite3 *db, cv_error *err, int rc, const char *what)
{
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (!what)
        return cv_fail(err, cv_sqlite_code(rc), "%s", msg);
    return cv_fail(err, cv_sqlite_code(rc), "%s: %s", what, msg);
}

int cv_sqlite_int64(sqlite3 *db, const char *sql, int64_t *v)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *v = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
    }
    /* a failed step leaves its message on the connection, which finalizing the statement keeps */
    sqlite3_finalize(st);
    return rc;
}
