/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* backup.h — online copies of the trip database: SQLite's backup API over one read snapshot of the live database
   (in WAL mode the server keeps writing meanwhile), into a temporary file next to the copy that is checked
   (integrity_check, covoit's schema) and synced before it is renamed to the copy's name, so that name never holds a
   partial or unchecked file. The same call restores: copying a backup over a stopped server's database. */
#ifndef CV_BACKUP_H
#define CV_BACKUP_H

#include <stdint.h>

#include "util/cv_error.h"

typedef struct cv_backup_options {
    int pages_per_step;  /* pages copied per sqlite3_backup_step (256); the snapshot is held between steps */
    int pause_ms;        /* sleep between steps (0), to leave the disk to the server on a long copy */
    int busy_timeout_ms; /* how long a lock may keep the copy waiting before it gives up (30000) */
    int force;           /* replace an existing copy, unless it is a database still in use */
    void (*progress)(void *ctx, uint64_t done, uint64_t total); /* pages copied so far, after each step; NULL: none */
    void *progress_ctx;
} cv_backup_options;

cv_backup_options cv_backup_defaults(void);

/* What a backup copied. */
typedef struct cv_backup_stats {
    int64_t pages, page_size, bytes;    /* of the copy */
    int schema_version;                 /* PRAGMA user_version of the copy */
    int64_t offers, requests, bookings; /* rows in the copy, all statuses */
    int steps, busy_waits;              /* backup steps taken, and retries after SQLITE_BUSY or SQLITE_LOCKED */
    double seconds;
} cv_backup_stats;

/* Copies the covoit trip database db_path, as it is at one instant while others may go on writing it, to
   copy_path. The database must be covoit's (its application_id and a schema version this covoit knows); the copy is
   written under a temporary name in copy_path's directory, passes PRAGMA integrity_check and has covoit's
   application_id, schema version and tables before it is synced and renamed to copy_path (with the database's
   permission bits); it is not opened as a store, which would migrate an older schema or record a time zone. Nothing is
   left under either name when it fails. An existing copy_path is refused unless opt->force; with force, a copy_path
   that still has its -wal or -shm file is taken over only when no other connection uses it (its log is checkpointed and
   removed, so that it cannot be replayed onto the new file). opt NULL: the defaults. Returns 0 and fills st (when not
   NULL), or a CV_E* code with err filled: CV_EINVAL (bad arguments, copy_path a directory), CV_EIO (the database
   missing or unreadable, the copy not writable), CV_EFORMAT (not SQLite, or not a covoit database), CV_EVERSION (a
   newer schema), CV_ECORRUPT (the copy fails integrity_check: the database is damaged), CV_ECONFLICT (copy_path exists,
   is in use, or is db_path itself), CV_EBUSY (a lock held longer than busy_timeout_ms, as the store says it). */
int cv_backup_run(const char *db_path, const char *copy_path, const cv_backup_options *opt, cv_backup_stats *st,
                  cv_error *err);

#endif
