/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* db_target.h — the trip database an HTTP test runs on: the SQLite file it names, or, when the environment variable
   COVOIT_TEST_PG holds a PostgreSQL server's URI (tests/http/with_pg.c starts a server of its own and sets it), a
   database of that server named after the file, so that the same test runs on both engines. Include after
   cmocka.h and test_support.h. */
#ifndef CV_TEST_DB_TARGET_H
#define CV_TEST_DB_TARGET_H

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matcher/db.h"

/* The PostgreSQL server the test runs on, or NULL when it runs on SQLite files. */
static inline const char *tst_pg_server(void)
{
    const char *uri = getenv("COVOIT_TEST_PG");
    return uri && *uri ? uri : NULL;
}

static inline int tst_db_is_pg(void)
{
    return tst_pg_server() != NULL;
}

/* Runs sql on the server's own database: CREATE and DROP DATABASE cannot run in the database they name. */
static inline void tst_pg_admin(const char *sql)
{
    cv_db *db = NULL;
    cv_error err = {0};
    int rc = cv_db_open(tst_pg_server(), &db, &err);
    if (!rc)
        rc = cv_db_exec(db, sql, &err);
    cv_db_close(db);
    if (rc)
        fail_msg("%s: %s", sql, err.text);
}

/* The database name on the server, made anew: dropped first (WITH (FORCE) ends the connections an earlier part of
   the test left open), so that it starts from nothing as a removed file does. */
static inline void tst_pg_fresh(const char *name)
{
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    tst_pg_admin(sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    tst_pg_admin(sql);
}

/* The files this process has given a database to, and their URIs: a test names a file several times (opening,
   reopening, passing it to a child process) and must find the same database each time. */
#define TST_DB_MAX 8
static struct {
    char file[512];
    char name[64];
    char uri[640];
} tst_dbs[TST_DB_MAX];
static int tst_ndbs;

/* The database to open for file: file itself on SQLite; on PostgreSQL the URI of a database named after its base
   name without ".db" (COVOIT_TMP "/http_trips.db": http_trips), made new the first time this process names it. */
static inline const char *tst_db(const char *file)
{
    const char *server = tst_pg_server();
    if (!server)
        return file;
    for (int i = 0; i < tst_ndbs; i++)
        if (!strcmp(tst_dbs[i].file, file))
            return tst_dbs[i].uri;
    if (tst_ndbs == TST_DB_MAX)
        fail_msg("db_target.h: more than %d databases; raise TST_DB_MAX", TST_DB_MAX);
    const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    size_t len = strlen(base);
    if (len > 3 && !strcmp(base + len - 3, ".db"))
        len -= 3;
    if (!len || len >= sizeof tst_dbs[0].name)
        fail_msg("db_target.h: no database name for %s", file);
    /* an identifier PostgreSQL takes unquoted: lower-case letters, digits and underscores */
    char name[64];
    for (size_t i = 0; i < len; i++)
        name[i] = isalnum((unsigned char)base[i]) ? (char)tolower((unsigned char)base[i]) : '_';
    name[len] = '\0';
    /* the server's URI with name for its database; a query string (?sslmode=...) stays after it */
    const char *query = strchr(server, '?');
    size_t head = query ? (size_t)(query - server) : strlen(server);
    const char *slash = server + head;
    while (slash > server && slash[-1] != '/')
        slash--;
    if (slash - server <= (ptrdiff_t)strlen("postgresql://"))
        fail_msg("COVOIT_TEST_PG=%s: not a URI naming a database (postgresql://user@host:port/database)", server);
    tst_pg_fresh(name);
    int k = tst_ndbs++;
    snprintf(tst_dbs[k].file, sizeof tst_dbs[k].file, "%s", file);
    snprintf(tst_dbs[k].name, sizeof tst_dbs[k].name, "%s", name);
    snprintf(tst_dbs[k].uri, sizeof tst_dbs[k].uri, "%.*s%s%s", (int)(slash - server), server, name,
             query ? query : "");
    return tst_dbs[k].uri;
}

/* Removes file's database, for the test to start again from nothing: the file and its WAL and shared-memory files
   on SQLite; on PostgreSQL the database dropped and made again (a connection still open to it is ended). */
static inline void tst_db_remove(const char *file)
{
    if (!tst_pg_server()) {
        tst_remove_db(file);
        return;
    }
    for (int i = 0; i < tst_ndbs; i++)
        if (!strcmp(tst_dbs[i].file, file)) {
            tst_pg_fresh(tst_dbs[i].name);
            return;
        }
    tst_db(file); /* named for the first time: made new */
}

#endif
