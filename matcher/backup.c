/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* backup.c — online copies of the trip database (sqlite3_backup_* over one held read snapshot), checked, synced and
   renamed into place. */
#define _POSIX_C_SOURCE 200809L
#include "matcher/backup.h"

#include "matcher/store.h"
#include "matcher/sqlite_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The application_id store.c writes into every covoit database ("covt"); test_backup checks that a store's
   database carries it. */
#define COVOIT_APPLICATION_ID 0x636f7674

#define PATH_CAP 4096

cv_backup_options cv_backup_defaults(void)
{
    return (cv_backup_options){.pages_per_step = 256, .pause_ms = 0, .busy_timeout_ms = 30000};
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) && errno == EINTR)
        ;
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* path with a suffix ("-wal"), or -1 when it does not fit */
static int side(char *out, const char *path, const char *suffix)
{
    int n = snprintf(out, PATH_CAP, "%s%s", path, suffix);
    return n > 0 && n < PATH_CAP ? 0 : -1;
}

/* Removes a database file and the files SQLite keeps beside it. */
static void remove_db_files(const char *path)
{
    static const char *const suffixes[] = {"", "-journal", "-wal", "-shm"};
    char p[PATH_CAP];
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++)
        if (!side(p, path, suffixes[i]))
            unlink(p);
}

static int db_fail(sqlite3 *db, int rc, cv_error *err, const char *what, const char *path)
{
    int code = cv_sqlite_code(rc);
    if (code == CV_EFORMAT)
        return cv_fail(err, code, "%s is not an SQLite database", path);
    return cv_fail(err, code, "%s %s: %s", what, path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/* fsync of a file, or of a directory (so that a rename in it is on disk too); 0 or errno */
static int sync_path(const char *path, int dir)
{
    int fd = open(path, O_RDONLY | (dir ? O_DIRECTORY : 0));
    if (fd < 0)
        return errno;
    int e = fsync(fd) ? errno : 0;
    close(fd);
    return e;
}

/* The directory part of path ("." when it has none). */
static void dir_of(const char *path, char *out)
{
    snprintf(out, PATH_CAP, "%s", path);
    char *slash = strrchr(out, '/');
    if (!slash)
        snprintf(out, PATH_CAP, ".");
    else if (slash == out)
        out[1] = '\0';
    else
        *slash = '\0';
}

/* Refuses a copy_path that cannot be (over)written, and with force takes over a database left there: its log must
   not outlive it, or SQLite would replay the old database's commits onto the new file at the next open. */
static int check_destination(const char *db_path, const struct stat *src, const char *copy, int force, cv_error *err)
{
    struct stat st;
    if (lstat(copy, &st)) {
        if (errno == ENOENT)
            return 0;
        return cv_fail(err, CV_EIO, "cannot write the copy %s: %s", copy, strerror(errno));
    }
    if (S_ISDIR(st.st_mode))
        return cv_fail(err, CV_EINVAL, "the copy %s is a directory: give a file name", copy);
    if (stat(copy, &st) == 0 && st.st_dev == src->st_dev && st.st_ino == src->st_ino)
        return cv_fail(err, CV_ECONFLICT, "the copy %s is the database %s itself", copy, db_path);
    if (!force)
        return cv_fail(err, CV_ECONFLICT, "the copy %s exists already (--force replaces it)", copy);
    char wal[PATH_CAP], shm[PATH_CAP];
    if (side(wal, copy, "-wal") || side(shm, copy, "-shm"))
        return cv_fail(err, CV_EINVAL, "the copy's name %s is too long", copy);
    if (!exists(wal) && !exists(shm))
        return 0;
    /* Leaving WAL mode needs the only connection to the file: it fails while a server has it open, and otherwise
       checkpoints the log into the old file and deletes it. */
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(copy, &db, SQLITE_OPEN_READWRITE, NULL);
    const char *mode = NULL;
    sqlite3_stmt *q = NULL;
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 1000);
        rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = DELETE", -1, &q, NULL);
        if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
            mode = (const char *)sqlite3_column_text(q, 0);
            rc = mode && !strcmp(mode, "delete") ? SQLITE_OK : SQLITE_BUSY;
        }
    }
    int busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
    char msg[256];
    snprintf(msg, sizeof msg, "%s", db && rc != SQLITE_OK ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_finalize(q);
    sqlite3_close(db);
    if (busy)
        return cv_fail(err, CV_ECONFLICT,
                       "the copy %s is a database in use (another connection holds it): stop the "
                       "server on it first",
                       copy);
    if (rc != SQLITE_OK)
        return cv_fail(err, CV_ECONFLICT, "cannot take over %s (%s); if nothing uses it, remove %s and %s", copy, msg,
                       wal, shm);
    if (exists(wal))
        return cv_fail(err, CV_ECONFLICT, "%s is still there after taking over %s: another connection uses it", wal,
                       copy);
    unlink(shm); /* no connection left to need it */
    return 0;
}

/* Creates an empty file of the given mode under a new temporary name next to copy; 0, or CV_EIO. */
static int make_temp(const char *copy, mode_t mode, char *tmp, cv_error *err)
{
    for (int k = 0; k < 100; k++) {
        int n = k ? snprintf(tmp, PATH_CAP, "%s.partial-%ld-%d", copy, (long)getpid(), k)
                  : snprintf(tmp, PATH_CAP, "%s.partial-%ld", copy, (long)getpid());
        if (n < 0 || n >= PATH_CAP - 16) /* room for SQLite's -journal beside it */
            return cv_fail(err, CV_EINVAL, "the copy's name %s is too long", copy);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0 && errno == EEXIST)
            continue;
        if (fd < 0)
            return cv_fail(err, CV_EIO, "cannot write the copy %s: cannot create %s: %s", copy, tmp, strerror(errno));
        int e = fchmod(fd, mode) ? errno : 0;
        close(fd);
        if (e) {
            unlink(tmp);
            return cv_fail(err, CV_EIO, "cannot write the copy %s: %s", copy, strerror(e));
        }
        return 0;
    }
    return cv_fail(err, CV_EIO, "cannot write the copy %s: no free temporary name beside it", copy);
}

/* Checks what the store checks before it uses a database: covoit's application_id and a schema version it knows;
   version 0 is an empty or foreign file. */
static int check_identity(sqlite3 *db, const char *path, int *version, cv_error *err)
{
    int64_t v = 0, app = 0;
    int rc = cv_sqlite_int64(db, "PRAGMA user_version", &v);
    if (rc == SQLITE_OK)
        rc = cv_sqlite_int64(db, "PRAGMA application_id", &app);
    if (rc != SQLITE_OK)
        return db_fail(db, rc, err, "cannot read", path);
    if (v == 0)
        return cv_fail(err, CV_EFORMAT,
                       "%s is an SQLite database without covoit's schema (empty, or another "
                       "application's)",
                       path);
    if (app != COVOIT_APPLICATION_ID)
        return cv_fail(err, CV_EFORMAT, "%s is an SQLite database but not covoit's (application_id %lld)", path,
                       (long long)app);
    if (v < 0 || v > CV_STORE_SCHEMA_VERSION)
        return cv_fail(err, CV_EVERSION, "%s has schema version %lld, not one of 1 to %d known to this covoit", path,
                       (long long)v, CV_STORE_SCHEMA_VERSION);
    *version = (int)v;
    return 0;
}

/* integrity_check, identity and the tables the store reads, on the finished copy (connection db). */
static int check_copy(sqlite3 *db, const char *db_path, const char *tmp, cv_backup_stats *st, cv_error *err)
{
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check(20)", -1, &q, NULL);
    char first[400] = "";
    int problems = 0;
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        rc = sqlite3_step(q);
        if (rc != SQLITE_ROW)
            break;
        const char *line = (const char *)sqlite3_column_text(q, 0);
        if (line && !strcmp(line, "ok"))
            continue;
        if (!problems++) {
            /* one line for the message: SQLite may prefix the database's name on a line of its own */
            const char *prefix = "*** in database main ***";
            if (line && !strncmp(line, prefix, strlen(prefix)))
                line += strlen(prefix);
            while (line && (*line == '\n' || *line == ' '))
                line++;
            snprintf(first, sizeof first, "%s", line ? line : "?");
            for (char *c = first; *c; c++)
                if (*c == '\n' || *c == '\r')
                    *c = ' ';
        }
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE && !problems)
        return db_fail(db, rc, err, "cannot check the copy of", db_path);
    if (problems)
        return cv_fail(err, CV_ECORRUPT, "%s is damaged: integrity_check on its copy finds %d problem%s, the first: %s",
                       db_path, problems, problems > 1 ? "s" : "", first);
    /* the copy's own header, which is what a server opening it will read */
    if ((rc = check_identity(db, tmp, &st->schema_version, err)))
        return rc;
    static const char *const counts[] = {"SELECT count(*) FROM offers", "SELECT count(*) FROM requests",
                                         "SELECT count(*) FROM bookings"};
    int64_t *out[] = {&st->offers, &st->requests, &st->bookings};
    for (int i = 0; i < 3; i++)
        if ((rc = cv_sqlite_int64(db, counts[i], out[i])) != SQLITE_OK)
            return cv_fail(err, CV_EFORMAT, "%s lacks covoit's tables (%s)", db_path, sqlite3_errmsg(db));
    int64_t pages = 0, size = 0;
    if (cv_sqlite_int64(db, "PRAGMA page_count", &pages) == SQLITE_OK &&
        cv_sqlite_int64(db, "PRAGMA page_size", &size) == SQLITE_OK) {
        st->pages = pages;
        st->page_size = size;
        st->bytes = pages * size;
    }
    return 0;
}

/* The copy itself: the source's snapshot is held by an open read transaction for the whole copy, so that no write
   by another connection restarts it (the backup API starts over when the source changes between steps), and the
   server, in WAL mode, is not blocked meanwhile. */
static int copy_pages(sqlite3 *src, const char *db_path, const char *tmp, const cv_backup_options *o,
                      cv_backup_stats *st, cv_error *err)
{
    sqlite3 *dst = NULL;
    int rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        rc = db_fail(dst, rc, err, "cannot open the copy", tmp);
        sqlite3_close(dst);
        return rc;
    }
    sqlite3_extended_result_codes(dst, 1);
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        rc = cv_fail(err, CV_EIO, "cannot start copying %s: %s", db_path, sqlite3_errmsg(dst));
        sqlite3_close(dst);
        return rc;
    }
    int waited = 0;
    for (;;) {
        rc = sqlite3_backup_step(b, o->pages_per_step);
        st->steps++;
        if (rc == SQLITE_OK || rc == SQLITE_DONE) {
            if (o->progress) {
                int total = sqlite3_backup_pagecount(b);
                o->progress(o->progress_ctx, (uint64_t)(total - sqlite3_backup_remaining(b)), (uint64_t)total);
            }
            if (rc == SQLITE_DONE)
                break;
            waited = 0;
            if (o->pause_ms > 0)
                sleep_ms(o->pause_ms);
            continue;
        }
        int base = rc & 0xff;
        if ((base == SQLITE_BUSY || base == SQLITE_LOCKED) && waited < o->busy_timeout_ms) {
            st->busy_waits++;
            sleep_ms(10);
            waited += 10;
            continue;
        }
        break;
    }
    int frc = sqlite3_backup_finish(b);
    if (rc == SQLITE_DONE)
        rc = frc;
    if (rc != SQLITE_OK) {
        int base = rc & 0xff;
        if (base == SQLITE_BUSY || base == SQLITE_LOCKED)
            rc = cv_fail(err, CV_ECONFLICT, "%s stayed locked for more than %d ms: copy given up", db_path,
                         o->busy_timeout_ms);
        else if (base == SQLITE_CORRUPT || base == SQLITE_NOTADB)
            rc = cv_fail(err, CV_ECORRUPT, "%s is damaged: %s", db_path, sqlite3_errmsg(dst));
        else
            rc = cv_fail(err, cv_sqlite_code(rc), "cannot copy %s to %s: %s", db_path, tmp, sqlite3_errmsg(dst));
        sqlite3_close(dst);
        return rc;
    }
    rc = check_copy(dst, db_path, tmp, st, err);
    if (sqlite3_close(dst) != SQLITE_OK && !rc)
        rc = cv_fail(err, CV_EIO, "cannot close the copy %s", tmp);
    return rc;
}

int cv_backup_run(const char *db_path, const char *copy_path, const cv_backup_options *opt, cv_backup_stats *out,
                  cv_error *err)
{
    if (!db_path || !*db_path || !copy_path || !*copy_path)
        return cv_fail(err, CV_EINVAL, "cv_backup_run: a database and a copy are needed");
    cv_backup_options o = opt ? *opt : cv_backup_defaults();
    if (o.pages_per_step == 0)
        o.pages_per_step = -1; /* all at once */
    cv_backup_stats st;
    memset(&st, 0, sizeof st);
    double t0 = mono_s();

    struct stat src_st;
    if (stat(db_path, &src_st))
        return cv_fail(err, CV_EIO, "cannot read the database %s: %s", db_path, strerror(errno));
    if (!S_ISREG(src_st.st_mode))
        return cv_fail(err, CV_EIO, "the database %s is not a regular file", db_path);
    int rc = check_destination(db_path, &src_st, copy_path, o.force, err);
    if (rc)
        return rc;

    /* The source: no CREATE, so that a missing file is an error, not a new database. */
    sqlite3 *src = NULL;
    rc = sqlite3_open_v2(db_path, &src, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        rc = db_fail(src, rc, err, "cannot open the database", db_path);
        sqlite3_close(src);
        return rc;
    }
    sqlite3_extended_result_codes(src, 1);
    sqlite3_busy_timeout(src, o.busy_timeout_ms);
    int64_t nobj = 0;
    rc = sqlite3_exec(src, "BEGIN", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = cv_sqlite_int64(src, "SELECT count(*) FROM sqlite_master", &nobj); /* the read snapshot starts here */
    if (rc != SQLITE_OK) {
        rc = db_fail(src, rc, err, "cannot read the database", db_path);
        sqlite3_close(src);
        return rc;
    }
    int version = 0;
    if ((rc = check_identity(src, db_path, &version, err))) {
        sqlite3_exec(src, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(src);
        return rc;
    }

    char tmp[PATH_CAP];
    if ((rc = make_temp(copy_path, src_st.st_mode & 07777, tmp, err))) {
        sqlite3_exec(src, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(src);
        return rc;
    }
    rc = copy_pages(src, db_path, tmp, &o, &st, err);
    sqlite3_exec(src, "ROLLBACK", NULL, NULL, NULL); /* ends the read transaction */
    sqlite3_close(src);

    int e = 0;
    char dir[PATH_CAP];
    dir_of(copy_path, dir);
    if (!rc && (e = sync_path(tmp, 0)))
        rc = cv_fail(err, CV_EIO, "cannot sync the copy %s: %s", tmp, strerror(e));
    if (!rc && rename(tmp, copy_path))
        rc = cv_fail(err, CV_EIO, "cannot rename %s to %s: %s", tmp, copy_path, strerror(errno));
    if (rc) {
        remove_db_files(tmp);
        return rc;
    }
    if ((e = sync_path(dir, 1)))
        return cv_fail(err, CV_EIO, "the copy %s is written but its directory %s cannot be synced: %s", copy_path, dir,
                       strerror(e));
    st.seconds = mono_s() - t0;
    if (out)
        *out = st;
    return 0;
}
