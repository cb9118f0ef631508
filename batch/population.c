/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* population.c — reading the participants' CSV (population.h) with libcsv: the parser splits records and fields
   (quotes, escaped quotes, line ends within quotes), this file checks what they say. */
#define _POSIX_C_SOURCE 200809L
#include "batch/population.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FIELD 256    /* bytes of one value at most */
#define MAX_FIELDS 64    /* values in one row at most */
#define MAX_ROWS 2000000 /* participants at most */

enum {
    C_ID,
    C_ROLE,
    C_HOME_LON,
    C_HOME_LAT,
    C_WORK_LON,
    C_WORK_LAT,
    C_ARRIVE_BY,
    C_LEAVE_AT,
    C_DAYS,
    C_SEATS,
    C_FLEX,
    C_DETOUR_MIN,
    C_DETOUR_PCT,
    C_HOME,
    C_WORK,
    C_N,
    C_REQUIRED = C_FLEX /* the columns before this one must be in the header (home_lon... or home, work) */
};

static const char *const column_names[C_N] = {"id",       "role",           "home_lon",       "home_lat", "work_lon",
                                              "work_lat", "arrive_by",      "leave_at",       "days",     "seats",
                                              "flex_min", "max_detour_min", "max_detour_pct", "home",     "work"};

const char *cv_role_name(cv_role r)
{
    return r == CV_ROLE_DRIVER ? "driver" : r == CV_ROLE_PASSENGER ? "passenger" : "either";
}

typedef struct reader {
    const char *name;
    int line;     /* the physical line being fed */
    int rec_line; /* where the current row's first value ended */
    char fields[MAX_FIELDS][MAX_FIELD];
    size_t nfields;
    int too_long; /* a value of the current row is over MAX_FIELD bytes: its index + 1 */
    int header;   /* 1 once the header is read */
    int col[C_N]; /* the column of each name, -1 when absent */
    size_t ncols;
    cv_person *v;
    size_t n, cap;
    int failed;
    cv_error *err;
    cv_geocode_fn geocode; /* place names in home and work (NULL: none) */
    void *geocode_ctx;
} reader;

static void fail_at(reader *r, size_t col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The first error wins: "NAME:LINE:COLUMN: column COLUMN (its name): ..." (col 0: the row as a whole). */
static void fail_at(reader *r, size_t col, const char *fmt, ...)
{
    if (r->failed)
        return;
    r->failed = 1;
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *cname = "";
    for (int c = 0; col && c < C_N; c++)
        if (r->header && r->col[c] == (int)col - 1)
            cname = column_names[c];
    if (col && cname[0])
        cv_fail(r->err, CV_EINVAL, "%s:%d:%zu: column %zu (%s): %s", r->name, r->rec_line, col, col, cname, what);
    else if (col)
        cv_fail(r->err, CV_EINVAL, "%s:%d:%zu: %s", r->name, r->rec_line, col, what);
    else
        cv_fail(r->err, CV_EINVAL, "%s:%d: %s", r->name, r->rec_line, what);
}

static void on_field(void *data, size_t len, void *arg)
{
    reader *r = arg;
    if (r->failed)
        return;
    if (r->nfields == 0)
        r->rec_line = r->line;
    if (r->nfields >= MAX_FIELDS) {
        if (r->nfields == MAX_FIELDS)
            fail_at(r, 0, "more than %d values in a row", MAX_FIELDS);
        r->nfields++;
        return;
    }
    if (len >= MAX_FIELD && !r->too_long)
        r->too_long = (int)r->nfields + 1;
    size_t k = len < MAX_FIELD ? len : MAX_FIELD - 1;
    memcpy(r->fields[r->nfields], data ? data : "", data ? k : 0);
    r->fields[r->nfields][data ? k : 0] = '\0';
    r->nfields++;
}

/* The value of column c of the current row, spaces around it trimmed ("" when the column is absent). */
static const char *value(reader *r, int c)
{
    if (r->col[c] < 0)
        return "";
    char *t = r->fields[r->col[c]];
    while (isspace((unsigned char)*t))
        t++;
    size_t n = strlen(t);
    while (n && isspace((unsigned char)t[n - 1]))
        t[--n] = '\0';
    return t;
}

static size_t at(const reader *r, int c)
{
    return (size_t)r->col[c] + 1;
}

static int number(reader *r, int c, double lo, double hi, double *out)
{
    const char *t = value(r, c);
    char *end = NULL;
    errno = 0;
    double v = *t ? strtod(t, &end) : 0;
    if (!*t || *end || errno || !isfinite(v)) {
        fail_at(r, at(r, c), "'%.40s' is not a number", t);
        return -1;
    }
    if (v < lo || v > hi) {
        fail_at(r, at(r, c), "%g is out of range (%g to %g)", v, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

/* An optional whole number (empty: dflt). */
static int whole(reader *r, int c, long lo, long hi, long dflt, long *out)
{
    const char *t = value(r, c);
    if (!*t) {
        *out = dflt;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long v = strtol(t, &end, 10);
    if (*end || errno) {
        fail_at(r, at(r, c), "'%.40s' is not a whole number", t);
        return -1;
    }
    if (v < lo || v > hi) {
        fail_at(r, at(r, c), "%ld is out of range (%ld to %ld)", v, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

/* "HH:MM" (or "H:MM"), 00:00 to 23:59. */
static int clock_time(reader *r, int c, int32_t *out)
{
    const char *t = value(r, c);
    int h = -1, m = -1, used = 0;
    if (sscanf(t, "%2d:%2d%n", &h, &m, &used) != 2 || used != (int)strlen(t) || h < 0 || h > 23 || m < 0 || m > 59 ||
        strlen(t) < 4) {
        fail_at(r, at(r, c), "'%.40s' is not a time of day HH:MM", t);
        return -1;
    }
    *out = (int32_t)(h * 3600 + m * 60);
    return 0;
}

/* Weekdays: names or three-letter abbreviations, separated by commas, semicolons, spaces or '|', and ranges
   ("mon-fri"). */
static int weekdays(reader *r, int c, uint8_t *out)
{
    static const char *const names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    static const char *const full[7] = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
    const char *t = value(r, c);
    uint8_t days = 0;
    char word[32];
    for (const char *p = t; *p;) {
        size_t n = strcspn(p, ",; |");
        if (n) {
            if (n >= sizeof word)
                n = sizeof word - 1;
            memcpy(word, p, n);
            word[n] = '\0';
            char *dash = strchr(word, '-');
            if (dash)
                *dash = '\0';
            int a = -1, b = -1;
            for (int d = 0; d < 7; d++) {
                if (!strcasecmp(word, names[d]) || !strcasecmp(word, full[d]))
                    a = d;
                if (dash && (!strcasecmp(dash + 1, names[d]) || !strcasecmp(dash + 1, full[d])))
                    b = d;
            }
            if (a < 0 || (dash && b < 0)) {
                fail_at(r, at(r, c), "'%.40s' is not a list of weekdays (mon,tue,wed,thu,fri,sat,sun or mon-fri)", t);
                return -1;
            }
            for (int d = a;; d = (d + 1) % 7) {
                days |= (uint8_t)(1u << d);
                if (!dash || d == b)
                    break;
            }
        }
        p += n;
        if (*p)
            p++;
    }
    if (!days) {
        fail_at(r, at(r, c), "no weekday: at least one of mon,tue,wed,thu,fri,sat,sun");
        return -1;
    }
    *out = days;
    return 0;
}

/* A place of the row: its coordinates (columns clon, clat) when given, else its name (column cname) found in the
   place index. */
static int place(reader *r, int clon, int clat, int cname, cv_coord *out)
{
    const char *name = value(r, cname);
    int given = r->col[clon] >= 0 && (*value(r, clon) || *value(r, clat) || !*name);
    if (given) {
        double lon, lat;
        if (number(r, clon, -180, 180, &lon) || number(r, clat, -90, 90, &lat))
            return -1;
        *out = (cv_coord){cv_fixed(lon), cv_fixed(lat)};
        return 0;
    }
    if (!*name) {
        fail_at(r, at(r, cname), "a place name is required (or %s and %s)", column_names[clon], column_names[clat]);
        return -1;
    }
    char why[200] = "";
    if (r->geocode(r->geocode_ctx, name, out, why, sizeof why)) {
        fail_at(r, at(r, cname), "'%.80s': %s", name, why[0] ? why : "no such place in the place index");
        return -1;
    }
    return 0;
}

static void read_header(reader *r)
{
    for (int c = 0; c < C_N; c++)
        r->col[c] = -1;
    r->header = 1;
    for (size_t i = 0; i < r->nfields && !r->failed; i++) {
        char *t = r->fields[i];
        while (isspace((unsigned char)*t))
            t++;
        size_t n = strlen(t);
        while (n && isspace((unsigned char)t[n - 1]))
            t[--n] = '\0';
        if (i == 0 && !strncmp(t, "\xEF\xBB\xBF", 3)) /* a UTF-8 byte order mark */
            memmove(t, t + 3, strlen(t + 3) + 1);
        int c = 0;
        while (c < C_N && strcasecmp(t, column_names[c]))
            c++;
        if (c == C_N)
            fail_at(r, i + 1,
                    "unknown column '%.40s' (expected id, role, home_lon, home_lat, work_lon, work_lat (or home, "
                    "work: place names), arrive_by, leave_at, days, seats, and optionally flex_min, max_detour_min, "
                    "max_detour_pct)",
                    t);
        else if (r->col[c] >= 0)
            fail_at(r, i + 1, "column '%s' twice (also column %d)", column_names[c], r->col[c] + 1);
        else
            r->col[c] = (int)i;
    }
    for (int c = 0; c < C_REQUIRED && !r->failed; c++) {
        /* a place is given by its coordinates or by its name */
        int named = (c == C_HOME_LON || c == C_HOME_LAT) ? C_HOME : (c == C_WORK_LON || c == C_WORK_LAT) ? C_WORK : -1;
        if (r->col[c] < 0 && (named < 0 || r->col[named] < 0))
            fail_at(r, 0, "the header has no column '%s'%s", column_names[c],
                    named < 0         ? ""
                    : named == C_HOME ? " (nor 'home', a place name)"
                                      : " (nor 'work', a place name)");
    }
    if (!r->failed && (r->col[C_HOME] >= 0 || r->col[C_WORK] >= 0) && !r->geocode)
        fail_at(r, (size_t)(r->col[C_HOME] >= 0 ? r->col[C_HOME] : r->col[C_WORK]) + 1,
                "place names need the place index (covoit import writes GRAPH.places; covoit batch --places FILE)");
    r->ncols = r->nfields;
}

static void read_row(reader *r)
{
    if (r->nfields != r->ncols) {
        fail_at(r, 0, "%zu values, the header names %zu columns", r->nfields, r->ncols);
        return;
    }
    if (r->too_long) {
        fail_at(r, (size_t)r->too_long, "a value of more than %d bytes", MAX_FIELD - 1);
        return;
    }
    if (r->n >= MAX_ROWS) {
        fail_at(r, 0, "more than %d participants", MAX_ROWS);
        return;
    }
    cv_person p = {0};
    p.line = r->rec_line;
    const char *id = value(r, C_ID), *role = value(r, C_ROLE);
    if (!*id || strlen(id) >= CV_PERSON_ID_MAX) {
        fail_at(r, at(r, C_ID), "an id of 1 to %d bytes is required", CV_PERSON_ID_MAX - 1);
        return;
    }
    snprintf(p.id, sizeof p.id, "%s", id);
    if (!strcasecmp(role, "driver"))
        p.role = CV_ROLE_DRIVER;
    else if (!strcasecmp(role, "passenger"))
        p.role = CV_ROLE_PASSENGER;
    else if (!strcasecmp(role, "either"))
        p.role = CV_ROLE_EITHER;
    else {
        fail_at(r, at(r, C_ROLE), "'%.40s' is not driver, passenger or either", role);
        return;
    }
    long seats, flex, dmin;
    if (place(r, C_HOME_LON, C_HOME_LAT, C_HOME, &p.home) || place(r, C_WORK_LON, C_WORK_LAT, C_WORK, &p.work) ||
        clock_time(r, C_ARRIVE_BY, &p.arrive_by_s) || clock_time(r, C_LEAVE_AT, &p.leave_at_s) ||
        weekdays(r, C_DAYS, &p.days) || whole(r, C_SEATS, 0, CV_PERSON_SEATS_MAX, 0, &seats) ||
        whole(r, C_FLEX, 0, 240, CV_PERSON_DEFAULT_FLEX_S / 60, &flex) || whole(r, C_DETOUR_MIN, 0, 600, -1, &dmin))
        return;
    p.seats = (int)seats;
    p.flex_s = (int32_t)(flex * 60);
    p.max_detour_s = dmin < 0 ? -1 : (int32_t)(dmin * 60);
    p.max_detour_pct = -1;
    if (*value(r, C_DETOUR_PCT) && number(r, C_DETOUR_PCT, 0, 1000, &p.max_detour_pct))
        return;
    if (p.leave_at_s <= p.arrive_by_s) {
        fail_at(r, at(r, C_LEAVE_AT), "leaves work (%s) before arriving (%s)", value(r, C_LEAVE_AT),
                value(r, C_ARRIVE_BY));
        return;
    }
    if (p.role == CV_ROLE_PASSENGER && p.seats > 0) {
        fail_at(r, at(r, C_SEATS), "a passenger has no car: seats must be 0 or empty");
        return;
    }
    if (p.role != CV_ROLE_PASSENGER && p.seats == 0) {
        fail_at(r, at(r, C_SEATS), "a %s needs the passenger seats of their car (1 to %d)", cv_role_name(p.role),
                CV_PERSON_SEATS_MAX);
        return;
    }
    if (cv_distance_m(p.home, p.work) < 1) {
        fail_at(r, at(r, r->col[C_WORK_LON] >= 0 ? C_WORK_LON : C_WORK), "work is home: nothing to share");
        return;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        cv_person *w = realloc(r->v, cap * sizeof *w);
        if (!w) {
            r->failed = 1;
            cv_fail(r->err, CV_ENOMEM, "out of memory");
            return;
        }
        r->v = w, r->cap = cap;
    }
    r->v[r->n++] = p;
}

static void on_row(int c, void *arg)
{
    (void)c;
    reader *r = arg;
    if (!r->failed) {
        if (!r->header)
            read_header(r);
        else
            read_row(r);
    }
    r->nfields = 0;
    r->too_long = 0;
}

typedef struct id_index {
    const char *id;
    int line;
} id_index;

static int by_id(const void *a, const void *b)
{
    const id_index *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

int cv_population_parse(const char *name, const char *text, size_t len, cv_person **out, size_t *n, cv_error *err)
{
    return cv_population_parse_with(name, text, len, NULL, NULL, out, n, err);
}

int cv_population_parse_with(const char *name, const char *text, size_t len, cv_geocode_fn geocode, void *ctx,
                             cv_person **out, size_t *n, cv_error *err)
{
    *out = NULL;
    *n = 0;
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL))
        return cv_fail(err, CV_ENOMEM, "out of memory");
    reader *r = calloc(1, sizeof *r);
    if (!r) {
        csv_free(&p);
        return cv_fail(err, CV_ENOMEM, "out of memory");
    }
    r->name = name;
    r->err = err;
    r->geocode = geocode;
    r->geocode_ctx = ctx;
    r->line = 1;
    /* fed one line at a time, so that a value's callback knows its line */
    for (size_t i = 0; i < len && !r->failed;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t k = nl ? (size_t)(nl - (text + i)) + 1 : len - i;
        if (csv_parse(&p, text + i, k, on_field, on_row, r) != k) {
            r->rec_line = r->line;
            fail_at(r, 0, "not CSV: %s", csv_strerror(csv_error(&p)));
        }
        i += k;
        r->line++;
    }
    if (!r->failed && csv_fini(&p, on_field, on_row, r)) {
        r->rec_line = r->line - 1;
        fail_at(r, 0, "not CSV: %s (a quote left open?)", csv_strerror(csv_error(&p)));
    }
    csv_free(&p);
    if (!r->failed && !r->header)
        r->rec_line = 1, fail_at(r, 0, "empty: a header row and one row per participant expected");
    else if (!r->failed && !r->n)
        r->rec_line = r->line - 1, fail_at(r, 0, "no participant after the header");
    if (!r->failed) { /* ids are unique */
        id_index *ix = malloc(r->n * sizeof *ix);
        if (!ix) {
            r->failed = 1;
            cv_fail(err, CV_ENOMEM, "out of memory");
        }
        for (size_t i = 0; ix && i < r->n; i++)
            ix[i] = (id_index){r->v[i].id, r->v[i].line};
        if (ix)
            qsort(ix, r->n, sizeof *ix, by_id);
        for (size_t i = 1; ix && i < r->n && !r->failed; i++)
            if (!strcmp(ix[i].id, ix[i - 1].id)) {
                r->rec_line = ix[i].line;
                fail_at(r, at(r, C_ID), "id '%s' is also on line %d", ix[i].id, ix[i - 1].line);
            }
        free(ix);
    }
    int rc = r->failed ? (err && err->code ? err->code : CV_EINVAL) : 0;
    if (!rc) {
        *out = r->v;
        *n = r->n;
    } else {
        free(r->v);
    }
    free(r);
    return rc;
}

int cv_population_read(const char *path, cv_person **out, size_t *n, cv_error *err)
{
    return cv_population_read_with(path, NULL, NULL, out, n, err);
}

int cv_population_read_with(const char *path, cv_geocode_fn geocode, void *ctx, cv_person **out, size_t *n,
                            cv_error *err)
{
    *out = NULL;
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cv_fail(err, CV_EIO, "cannot open %s: %s", path, strerror(errno));
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 > cap) {
            size_t c = cap ? cap * 2 : 1 << 20;
            char *t = realloc(text, c);
            if (!t) {
                free(text);
                fclose(f);
                return cv_fail(err, CV_ENOMEM, "out of memory reading %s", path);
            }
            text = t, cap = c;
        }
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(text);
        return cv_fail(err, CV_EIO, "cannot read %s", path);
    }
    int rc = cv_population_parse_with(path, text, len, geocode, ctx, out, n, err);
    free(text);
    return rc;
}
