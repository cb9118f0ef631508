/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* db_pg.c — db.h over PostgreSQL with libpq. A statement's ?N parameters become $N; each run sends the statement
   with its parameters' types taken from what was bound (so that "?1 IS NULL" is understood whatever ?1 is) in one
   round trip (PQexecParams), and its rows are read from the result. Write transactions are SERIALIZABLE: a
   conflict with another server's transaction is CV_ERETRY, and the caller runs its transaction again. Errors are
   told by their SQLSTATE. */
#define _POSIX_C_SOURCE 200809L
#include "matcher/db_int.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* PostgreSQL's type oids of what a statement is bound with (pg_type.h: int8, float8, text, bytea) */
enum { OID_INT8 = 20, OID_FLOAT8 = 701, OID_TEXT = 25, OID_BYTEA = 17 };

#define MAX_PARAMS 64

typedef struct pg_db {
    cv_db base;
    PGconn *conn;
    int64_t changes;
    int broken;         /* the server went away or is a standby now: connect again before the next statement */
    char listening[64]; /* the channel LISTENed to, listened to again on a new connection ("" none) */
} pg_db;

/* What every connection sets first: quiet notices (a table that exists already), UTF-8, and how long a statement
   waits for a lock (the store's write lock another server holds, a table an administrator locked): SQLite's busy
   timeout, after which it fails as "locked" (CV_EBUSY, a 503 Busy that clients retry) instead of holding its
   caller, a server thread, as long as the lock is kept. */
#define SESSION_SQL "SET client_min_messages = warning; SET client_encoding = 'UTF8'; SET lock_timeout = 5000"

typedef struct pg_param {
    unsigned type; /* 0: NULL */
    char *value;   /* text, or the bytes of a blob */
    int length;
    char num[32]; /* a number's text */
} pg_param;

typedef struct pg_stmt {
    cv_db_stmt base;
    char *sql; /* with $N */
    int nparams;
    pg_param p[MAX_PARAMS];
    PGresult *res;
    int row, nrows;      /* the current row; -1 before the first step */
    unsigned char *blob; /* the current blob column, decoded */
} pg_stmt;

/* The CV_E* code of a failed result (or of the connection, when res is NULL). */
static int pg_code(PGconn *conn, const PGresult *res)
{
    if (PQstatus(conn) != CONNECTION_OK)
        return CV_EUNAVAILABLE;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!state)
        return CV_EIO;
    if (!strcmp(state, "23505"))
        return CV_ECONFLICT; /* unique_violation */
    if (!strncmp(state, "23", 2))
        return CV_EINVAL; /* another integrity constraint */
    if (!strcmp(state, "40001") || !strcmp(state, "40P01"))
        return CV_ERETRY; /* serialization_failure, deadlock_detected */
    if (!strcmp(state, "55P03"))
        return CV_EBUSY; /* lock_not_available: lock_timeout passed */
    if (!strncmp(state, "08", 2) || !strcmp(state, "57P01") || !strcmp(state, "57P02") || !strcmp(state, "57P03") ||
        !strcmp(state, "25006"))
        return CV_EUNAVAILABLE; /* connection lost, server shutting down or starting, a read-only standby */
    if (!strcmp(state, "53100") || !strcmp(state, "53200"))
        return CV_ENOMEM;
    return CV_EIO;
}

/* err from PostgreSQL's message, without its trailing newline (after "what: " unless what is NULL). */
static int pg_fail(PGconn *conn, const PGresult *res, cv_error *err, const char *what)
{
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
    int n = (int)strcspn(msg, "\n");
    if (!what)
        return cv_fail(err, pg_code(conn, res), "%.*s", n, msg);
    return cv_fail(err, pg_code(conn, res), "%s: %.*s", what, n, msg);
}

static void pg_close(cv_db *d)
{
    pg_db *g = (pg_db *)d;
    PQfinish(g->conn);
    free(g);
}

static int pg_in_tx(cv_db *d);

/* Runs sql as it is, on the connection as it is. */
static int exec_raw(pg_db *g, const char *sql, cv_error *err)
{
    PGresult *res = PQexec(g->conn, sql);
    g->base.statements++;
    ExecStatusType st = PQresultStatus(res);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : pg_fail(g->conn, res, err, NULL);
    if (!rc)
        g->changes = strtoll(PQcmdTuples(res), NULL, 10);
    if (rc == CV_EUNAVAILABLE)
        g->broken = 1;
    PQclear(res);
    return rc;
}

/* Outside a transaction, a connection that was lost (or that reached a server no longer the primary) is made
   again from its URI, which with several hosts and target_session_attrs=read-write finds the new primary; its
   session settings and its LISTEN are set again. CV_EUNAVAILABLE while no server answers. */
static int pg_ready(pg_db *g, cv_error *err)
{
    if (!g->broken && PQstatus(g->conn) == CONNECTION_OK)
        return 0;
    if (pg_in_tx(&g->base)) /* a transaction under way fails whole: its caller runs it again */
        return cv_fail(err, CV_EUNAVAILABLE, "lost the database connection");
    PQreset(g->conn);
    if (PQstatus(g->conn) != CONNECTION_OK) {
        const char *msg = PQerrorMessage(g->conn);
        return cv_fail(err, CV_EUNAVAILABLE, "cannot connect to PostgreSQL again: %.*s", (int)strcspn(msg, "\n"), msg);
    }
    g->broken = 0;
    int rc = exec_raw(g, SESSION_SQL, err);
    if (!rc && g->listening[0]) {
        char sql[96];
        snprintf(sql, sizeof sql, "LISTEN %s", g->listening);
        rc = exec_raw(g, sql, err);
    }
    return rc;
}

static int pg_exec(cv_db *d, const char *sql, cv_error *err)
{
    pg_db *g = (pg_db *)d;
    int rc = pg_ready(g, err);
    return rc ? rc : exec_raw(g, sql, err);
}

/* sql with ?N as $N (outside quoted strings and identifiers), and the highest N; -1 on a bare ? or N over
   MAX_PARAMS. */
static char *translate(const char *sql, int *nparams)
{
    size_t n = strlen(sql);
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    char quote = 0;
    size_t o = 0;
    *nparams = 0;
    for (size_t i = 0; i < n; i++) {
        char c = sql[i];
        if (quote) {
            quote = c == quote ? 0 : quote;
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '?') {
            char *end;
            long k = strtol(sql + i + 1, &end, 10);
            if (end == sql + i + 1 || k < 1 || k > MAX_PARAMS) {
                free(out);
                *nparams = -1;
                return NULL;
            }
            if (k > *nparams)
                *nparams = (int)k;
            out[o++] = '$';
            size_t digits = (size_t)(end - (sql + i + 1));
            memcpy(out + o, sql + i + 1, digits);
            o += digits;
            i += digits;
            continue;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

static int pg_prepare(cv_db *d, const char *sql, cv_db_stmt **out, cv_error *err)
{
    pg_stmt *s = calloc(1, sizeof *s);
    if (!s)
        return cv_fail(err, CV_ENOMEM, "out of memory");
    s->sql = translate(sql, &s->nparams);
    if (!s->sql) {
        int bad = s->nparams < 0;
        free(s);
        return bad ? cv_fail(err, CV_EINTERNAL, "statement parameters must be ?1 to ?%d: %.80s", MAX_PARAMS, sql)
                   : cv_fail(err, CV_ENOMEM, "out of memory");
    }
    s->base.db = d;
    s->row = -1;
    *out = &s->base;
    return 0;
}

static pg_param *param(cv_db_stmt *st, int i)
{
    pg_stmt *s = (pg_stmt *)st;
    if (i < 1 || i > MAX_PARAMS)
        return NULL;
    pg_param *p = &s->p[i - 1];
    if (p->value != p->num)
        free(p->value);
    memset(p, 0, sizeof *p);
    return p;
}

static void pg_bind_int64(cv_db_stmt *st, int i, int64_t v)
{
    pg_param *p = param(st, i);
    if (!p)
        return;
    p->type = OID_INT8;
    p->length = snprintf(p->num, sizeof p->num, "%" PRId64, v);
    p->value = p->num;
}

static void pg_bind_double(cv_db_stmt *st, int i, double v)
{
    pg_param *p = param(st, i);
    if (!p)
        return;
    p->type = OID_FLOAT8;
    p->length = snprintf(p->num, sizeof p->num, "%.17g", v);
    p->value = p->num;
}

static void pg_bind_text(cv_db_stmt *st, int i, const char *v)
{
    pg_param *p = param(st, i);
    if (!p || !v)
        return;
    p->value = strdup(v);
    if (p->value)
        p->type = OID_TEXT, p->length = (int)strlen(v);
}

static void pg_bind_blob(cv_db_stmt *st, int i, const void *v, size_t n)
{
    pg_param *p = param(st, i);
    if (!p)
        return;
    p->value = malloc(n ? n : 1);
    if (p->value) {
        memcpy(p->value, v, n);
        p->type = OID_BYTEA, p->length = (int)n;
    }
}

static void pg_bind_null(cv_db_stmt *st, int i)
{
    param(st, i);
}

static int pg_step(cv_db_stmt *st, cv_error *err)
{
    pg_stmt *s = (pg_stmt *)st;
    pg_db *g = (pg_db *)st->db;
    if (s->row < 0) { /* the first step runs it */
        int ready = pg_ready(g, err);
        if (ready)
            return ready;
        unsigned types[MAX_PARAMS];
        const char *values[MAX_PARAMS];
        int lengths[MAX_PARAMS], formats[MAX_PARAMS];
        for (int i = 0; i < s->nparams; i++) {
            types[i] = s->p[i].type;
            values[i] = s->p[i].type ? s->p[i].value : NULL;
            lengths[i] = s->p[i].length;
            formats[i] = s->p[i].type == OID_BYTEA; /* a blob's bytes as they are; the rest as text */
        }
        s->res = PQexecParams(g->conn, s->sql, s->nparams, types, values, lengths, formats, 0);
        g->base.statements++;
        ExecStatusType rs = PQresultStatus(s->res);
        const char *state = PQresultErrorField(s->res, PG_DIAG_SQLSTATE);
        if (rs == PGRES_FATAL_ERROR && state && !strcmp(state, "42P18") && !pg_in_tx(st->db)) {
            /* a NULL whose type nothing around it tells ("?1 IS NULL"): as text (outside a transaction only:
               inside, the failed statement has aborted it) */
            for (int i = 0; i < s->nparams; i++)
                if (!types[i])
                    types[i] = OID_TEXT;
            PQclear(s->res);
            s->res = PQexecParams(g->conn, s->sql, s->nparams, types, values, lengths, formats, 0);
            g->base.statements++;
            rs = PQresultStatus(s->res);
        }
        if (rs != PGRES_TUPLES_OK && rs != PGRES_COMMAND_OK) {
            int rc = pg_fail(g->conn, s->res, err, NULL);
            if (rc == CV_EUNAVAILABLE)
                g->broken = 1;
            PQclear(s->res);
            s->res = NULL;
            return rc;
        }
        s->nrows = rs == PGRES_TUPLES_OK ? PQntuples(s->res) : 0;
        if (rs == PGRES_COMMAND_OK || *PQcmdTuples(s->res))
            g->changes = strtoll(PQcmdTuples(s->res), NULL, 10);
    }
    free(s->blob);
    s->blob = NULL;
    s->row++;
    return s->row < s->nrows ? CV_DB_ROW : CV_DB_DONE;
}

static const char *value(cv_db_stmt *st, int i)
{
    pg_stmt *s = (pg_stmt *)st;
    if (!s->res || s->row < 0 || s->row >= s->nrows || i < 0 || i >= PQnfields(s->res) ||
        PQgetisnull(s->res, s->row, i))
        return NULL;
    return PQgetvalue(s->res, s->row, i);
}

static int64_t pg_col_int64(cv_db_stmt *st, int i)
{
    const char *v = value(st, i);
    if (!v)
        return 0;
    if (v[0] == 't' && !v[1]) /* a boolean, as SQLite gives it: 1 or 0 */
        return 1;
    if (v[0] == 'f' && !v[1])
        return 0;
    if (strpbrk(v, ".eE")) /* a numeric or a double: its integer part, as SQLite casts */
        return (int64_t)strtod(v, NULL);
    return strtoll(v, NULL, 10);
}

static double pg_col_double(cv_db_stmt *st, int i)
{
    const char *v = value(st, i);
    return v ? strtod(v, NULL) : 0.0;
}

static const char *pg_col_text(cv_db_stmt *st, int i)
{
    return value(st, i);
}

static const void *pg_col_blob(cv_db_stmt *st, int i, size_t *n)
{
    pg_stmt *s = (pg_stmt *)st;
    const char *v = value(st, i);
    *n = 0;
    if (!v)
        return NULL;
    free(s->blob);
    s->blob = PQunescapeBytea((const unsigned char *)v, n);
    return s->blob;
}

static int pg_is_null(cv_db_stmt *st, int i)
{
    return value(st, i) == NULL;
}

static int pg_count(cv_db_stmt *st)
{
    pg_stmt *s = (pg_stmt *)st;
    return s->res ? PQnfields(s->res) : 0;
}

static void pg_reset(cv_db_stmt *st)
{
    pg_stmt *s = (pg_stmt *)st;
    PQclear(s->res);
    s->res = NULL;
    free(s->blob);
    s->blob = NULL;
    s->row = -1;
    s->nrows = 0;
    for (int i = 1; i <= MAX_PARAMS; i++)
        param(st, i);
}

static void pg_finalize(cv_db_stmt *st)
{
    pg_reset(st);
    free(((pg_stmt *)st)->sql);
    free(st);
}

static int64_t pg_changes(cv_db *d)
{
    return ((pg_db *)d)->changes;
}

static int pg_begin(cv_db *d, int write, cv_error *err)
{
    const char *sql = write ? "BEGIN ISOLATION LEVEL SERIALIZABLE" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    int rc = pg_exec(d, sql, err);
    /* a connection found dead by its BEGIN (the server went away since its last statement: a failover) is made
       again and the BEGIN sent once more, on the new primary: a BEGIN changes nothing, so nothing can happen twice,
       and the caller's transaction runs instead of failing once per connection after every failover */
    if (rc == CV_EUNAVAILABLE && !pg_in_tx(d))
        rc = pg_exec(d, sql, err);
    return rc;
}

static int pg_commit(cv_db *d, cv_error *err)
{
    return pg_exec(d, "COMMIT", err);
}

static void pg_rollback(cv_db *d)
{
    pg_db *g = (pg_db *)d;
    if (PQtransactionStatus(g->conn) != PQTRANS_IDLE)
        PQclear(PQexec(g->conn, "ROLLBACK"));
    g->base.statements++;
}

static int pg_in_tx(cv_db *d)
{
    PGTransactionStatusType t = PQtransactionStatus(((pg_db *)d)->conn);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

/* A channel is a plain lower-case identifier (it goes into the statement as it is). */
static int channel_ok(const char *c)
{
    if (!c || !*c || strlen(c) > 63 || !((*c >= 'a' && *c <= 'z') || *c == '_'))
        return 0;
    for (; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
            return 0;
    return 1;
}

static int pg_channel(cv_db *d, const char *verb, const char *channel, cv_error *err)
{
    if (!channel_ok(channel))
        return cv_fail(err, CV_EINVAL, "bad channel name '%.70s'", channel ? channel : "");
    char sql[96];
    snprintf(sql, sizeof sql, "%s %s", verb, channel);
    return pg_exec(d, sql, err);
}

static int pg_listen(cv_db *d, const char *channel, cv_error *err)
{
    pg_db *g = (pg_db *)d;
    int rc = pg_channel(d, "LISTEN", channel, err);
    if (!rc)
        snprintf(g->listening, sizeof g->listening, "%s", channel);
    return rc;
}

static int pg_notify(cv_db *d, const char *channel, cv_error *err)
{
    return pg_channel(d, "NOTIFY", channel, err);
}

/* Drains the notifications that came: 1 when there was one. */
static int drained(PGconn *conn)
{
    int got = 0;
    PGnotify *n;
    while ((n = PQnotifies(conn))) {
        got = 1;
        PQfreemem(n);
    }
    return got;
}

/* The connection failed under a wait: made again by the next call. */
static int lost(pg_db *g, cv_error *err)
{
    const char *msg = PQerrorMessage(g->conn);
    g->broken = 1;
    return cv_fail(err, CV_EUNAVAILABLE, "lost the database connection: %.*s", (int)strcspn(msg, "\n"), msg);
}

static int pg_wait(cv_db *d, int timeout_ms, cv_error *err)
{
    pg_db *g = (pg_db *)d;
    int ready = pg_ready(g, err);
    if (ready)
        return ready;
    if (!PQconsumeInput(g->conn))
        return lost(g, err);
    if (drained(g->conn))
        return 1;
    struct pollfd pfd = {PQsocket(g->conn), POLLIN, 0};
    if (pfd.fd < 0)
        return cv_fail(err, CV_EUNAVAILABLE, "no database connection");
    int r = poll(&pfd, 1, timeout_ms);
    if (r < 0 && errno != EINTR)
        return cv_fail(err, CV_EIO, "cannot wait for notifications: %s", strerror(errno));
    if (r > 0 && !PQconsumeInput(g->conn))
        return lost(g, err);
    return drained(g->conn);
}

static void *pg_handle(cv_db *d)
{
    return ((pg_db *)d)->conn;
}

static const cv_db_ops pg_ops = {
    pg_close,     pg_exec,   pg_prepare,   pg_bind_int64, pg_bind_double, pg_bind_text, pg_bind_blob,
    pg_bind_null, pg_step,   pg_col_int64, pg_col_double, pg_col_text,    pg_col_blob,  pg_is_null,
    pg_count,     pg_reset,  pg_finalize,  pg_changes,    pg_begin,       pg_commit,    pg_rollback,
    pg_in_tx,     pg_listen, pg_notify,    pg_wait,       pg_handle,
};

int cv_db_open_postgres(const char *uri, cv_db **out, cv_error *err)
{
    pg_db *g = calloc(1, sizeof *g);
    if (!g)
        return cv_fail(err, CV_ENOMEM, "out of memory");
    g->conn = PQconnectdb(uri);
    if (!g->conn || PQstatus(g->conn) != CONNECTION_OK) {
        /* libpq's message names the host and the reason, never the password */
        const char *msg = g->conn ? PQerrorMessage(g->conn) : "out of memory";
        int rc = cv_fail(err, g->conn ? CV_EUNAVAILABLE : CV_ENOMEM, "cannot connect to PostgreSQL: %.*s",
                         (int)strcspn(msg, "\n"), msg);
        PQfinish(g->conn);
        free(g);
        return rc;
    }
    g->base.ops = &pg_ops;
    g->base.engine = CV_DB_POSTGRES;
    int rc = exec_raw(g, SESSION_SQL, err);
    if (rc) {
        pg_close(&g->base);
        return rc;
    }
    *out = &g->base;
    return 0;
}
