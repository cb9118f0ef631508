/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* run_scenarios.c — the scenario tier: tiny hand-written OSM maps routed through the covoit binary.

   For every NAME.osm in COVOIT_SCENARIOS (sorted by name) the runner imports the map with
       COVOIT_BIN import NAME.osm -o COVOIT_TMP/scenario_NAME.cvg --quiet
   then runs every `route` line of NAME.txt as
       COVOIT_BIN route GRAPH FROM TO --geometry geojson [--max-snap M]
   parses its stdout with jansson and checks the expectations. It prints one line per check, starting with `ok`
   or `FAIL`, then `N passed, M failed` on a line of its own, and exits 1 when a check failed or none ran.
   Arguments, if any, restrict the run to the maps of those names (`test_scenarios oneway rings`).

   Expectation files (NAME.txt), one query per line:

       # a comment; blank lines are ignored too; `#` also starts a comment after the last field of a line
       route FROM TO [KEY=VALUE ...]

   FROM and TO are passed to covoit as they are (normally LON,LAT in decimal degrees, as OSRM orders them). Keys:

       code=Ok|NoRoute|NoSegment|InvalidQuery|...   the response's `code` (default Ok). The exit status must agree:
                                   0 for Ok, non-zero (but not a crash) for anything else.
       max-snap=M                  passes --max-snap M to covoit.
       distance=V±T                routes[0].distance is within T metres of V (`+-` may be written for `±`).
       duration=V±T                routes[0].duration, seconds.
       weight=V±T                  routes[0].weight, seconds (duration plus no-through penalties).
       via=LON,LAT                 the geometry passes within 2 m of the point. Several via= on one line must be
                                   passed in the order written (each is looked for after the previous one).
       avoid=LON,LAT               the geometry never comes within 5 m of the point.
       from=LON,LAT / to=LON,LAT   waypoints[0] / waypoints[1] `location` is within 1 m of the point.
       from_name=NAME / to_name=NAME  waypoints[0] / waypoints[1] `name` is NAME (`_` for a space; empty: a street
                                   without a name), the street the point was snapped onto.
       steps=STEP,STEP,...         runs covoit with --steps; the leg's steps are exactly these, in order. A STEP is
                                   TYPE[:MODIFIER][#EXIT][@NAME], `_` standing for a space in each part
                                   (`new_name:straight@Rua_Nova`, `roundabout:left#3@Praça`, `merge@` for a road
                                   with no name); a part left out is not checked; `steps=*` checks only the
                                   structure. With steps= the runner also
                                   checks the steps' structure: depart first, arrive last with zero distance and
                                   duration, step distances, durations and weights adding up to the leg's (0.05),
                                   and every step geometry starting at its maneuver and as long as its distance.
       summary=TEXT                the leg's summary (`_` for a space), with steps=.

   The distance, duration, weight, via, avoid, from and to keys need code=Ok. Every line is checked for a sane
   exit status and for its code, then each key is one more check. Every Ok route also gets three structural
   checks: the geometry is a GeoJSON LineString of at least two positions; it starts at waypoints[0].location and
   ends at waypoints[1].location (within 1 m); and its length agrees with routes[0].distance (within 1 m + 0.2%).
   An unknown key or a malformed value fails the line. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#ifndef COVOIT_BIN
#error "COVOIT_BIN must name the covoit binary"
#endif
#ifndef COVOIT_SCENARIOS
#error "COVOIT_SCENARIOS must name the scenario directory"
#endif
#ifndef COVOIT_TMP
#error "COVOIT_TMP must name a writable directory"
#endif

#define VIA_TOLERANCE_M 2.0
#define AVOID_RADIUS_M 5.0
#define WAYPOINT_TOLERANCE_M 1.0
#define ENDS_TOLERANCE_M 1.0
#define MAX_TOKENS 64
#define MAX_POINTS 32

static const double EARTH_RADIUS_M = 6371008.8;
static const double DEG = 3.14159265358979323846 / 180.0;

static int npassed, nfailed;

/* Prints one check line and counts it. */
static void report(int ok, const char *where, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void report(int ok, const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%-4s %s: ", ok ? "ok" : "FAIL", where);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
    fflush(stdout);
    if (ok)
        npassed++;
    else
        nfailed++;
}

/* ---- geometry ---- */

typedef struct pt {
    double lon, lat;
} pt;

static double haversine_m(pt a, pt b)
{
    double la1 = a.lat * DEG, la2 = b.lat * DEG;
    double s1 = sin((la2 - la1) / 2), s2 = sin((b.lon - a.lon) * DEG / 2);
    double h = s1 * s1 + cos(la1) * cos(la2) * s2 * s2;
    if (h > 1)
        h = 1;
    return 2 * EARTH_RADIUS_M * asin(sqrt(h));
}

/* Distance in metres from p to the part of segment a-b from parameter tmin on (local flat frame around p);
 *t gets the parameter of the nearest point. */
static double seg_dist(pt p, pt a, pt b, double tmin, double *t)
{
    double kx = cos(p.lat * DEG) * DEG * EARTH_RADIUS_M, ky = DEG * EARTH_RADIUS_M;
    double ax = (a.lon - p.lon) * kx, ay = (a.lat - p.lat) * ky;
    double bx = (b.lon - p.lon) * kx, by = (b.lat - p.lat) * ky;
    double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
    double f = len2 > 0 ? -(ax * dx + ay * dy) / len2 : 0;
    if (f < tmin)
        f = tmin;
    if (f > 1)
        f = 1;
    *t = f;
    double x = ax + f * dx, y = ay + f * dy;
    return sqrt(x * x + y * y);
}

/* Smallest distance from p to the polyline. */
static double line_dist(pt p, const pt *line, size_t n)
{
    double best = INFINITY, t;
    if (n == 1)
        return haversine_m(p, line[0]);
    for (size_t i = 0; i + 1 < n; i++) {
        double d = seg_dist(p, line[i], line[i + 1], 0, &t);
        if (d < best)
            best = d;
    }
    return best;
}

/* The first position at or after (*seg, *t) where the polyline comes within tol of p; returns 1 and moves
   (*seg, *t) there, or 0. */
static int find_after(pt p, const pt *line, size_t n, double tol, size_t *seg, double *t)
{
    if (n == 1) {
        if (haversine_m(p, line[0]) <= tol) {
            *seg = 0, *t = 0;
            return 1;
        }
        return 0;
    }
    for (size_t i = *seg; i + 1 < n; i++) {
        double tt;
        double d = seg_dist(p, line[i], line[i + 1], i == *seg ? *t : 0, &tt);
        if (d <= tol) {
            *seg = i, *t = tt;
            return 1;
        }
    }
    return 0;
}

/* ---- text helpers ---- */

static int parse_lonlat(const char *s, pt *out)
{
    char *end;
    errno = 0;
    double lon = strtod(s, &end);
    if (end == s || *end != ',')
        return -1;
    const char *q = end + 1;
    double lat = strtod(q, &end);
    if (end == q || *end || errno || !isfinite(lon) || !isfinite(lat))
        return -1;
    out->lon = lon, out->lat = lat;
    return 0;
}

/* "V±T" or "V+-T". */
static int parse_tol(const char *s, double *v, double *tol)
{
    char *end;
    *v = strtod(s, &end);
    if (end == s)
        return -1;
    if (!strncmp(end, "\xc2\xb1", 2))
        end += 2;
    else if (!strncmp(end, "+-", 2))
        end += 2;
    else
        return -1;
    const char *q = end;
    *tol = strtod(q, &end);
    if (end == q || *end || !(*tol >= 0) || !isfinite(*v))
        return -1;
    return 0;
}

/* Appends s single-quoted for the shell. */
static int shell_append(char *buf, size_t cap, const char *s)
{
    size_t n = strlen(buf);
    if (n + 3 >= cap)
        return -1;
    buf[n++] = ' ';
    buf[n++] = '\'';
    for (; *s; s++) {
        if (*s == '\'') {
            if (n + 5 >= cap)
                return -1;
            memcpy(buf + n, "'\\''", 4);
            n += 4;
        } else {
            if (n + 2 >= cap)
                return -1;
            buf[n++] = *s;
        }
    }
    if (n + 2 >= cap)
        return -1;
    buf[n++] = '\'';
    buf[n] = '\0';
    return 0;
}

/* Builds a shell command from a NULL-terminated argument list. */
static int build_cmd(char *buf, size_t cap, const char *const *argv, const char *stderr_path)
{
    buf[0] = '\0';
    for (size_t i = 0; argv[i]; i++)
        if (shell_append(buf, cap, argv[i]))
            return -1;
    size_t n = strlen(buf);
    int w = snprintf(buf + n, cap - n, " 2>");
    if (w < 0 || (size_t)w >= cap - n)
        return -1;
    return shell_append(buf, cap, stderr_path);
}

/* Runs a command, captures stdout into a malloc'ed string and returns the exit status (0-255), or -1 when it
   could not be run, or 1000 + signal number when it was killed. */
static int run_capture(const char *cmd, char **out)
{
    *out = NULL;
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    if (!buf) {
        pclose(f);
        return -1;
    }
    size_t r;
    while ((r = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += r;
        if (cap - len < 2) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                pclose(f);
                return -1;
            }
            buf = nb;
            cap *= 2;
        }
    }
    buf[len] = '\0';
    int st = pclose(f);
    *out = buf;
    if (st == -1)
        return -1;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 1000 + WTERMSIG(st);
    return -1;
}

/* First line of a file, for failure messages. */
static void first_line(const char *path, char *buf, size_t cap)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (fgets(buf, (int)cap, f))
        buf[strcspn(buf, "\r\n")] = '\0';
    fclose(f);
}

static void describe_status(int st, char *buf, size_t cap)
{
    if (st >= 1000)
        snprintf(buf, cap, "killed by signal %d", st - 1000);
    else if (st < 0)
        snprintf(buf, cap, "could not be run");
    else
        snprintf(buf, cap, "exit status %d", st);
}

/* ---- one route line ---- */

typedef struct expect {
    const char *from, *to;
    const char *code;
    const char *max_snap;
    int has_dist, has_dur, has_weight;
    double dist, dist_tol, dur, dur_tol, weight, weight_tol;
    pt via[MAX_POINTS], avoid[MAX_POINTS];
    const char *via_text[MAX_POINTS], *avoid_text[MAX_POINTS];
    size_t nvia, navoid;
    int has_wp[2];
    pt wp[2];
    const char *wp_text[2];
    const char *wp_name[2]; /* from_name= / to_name=, NULL when absent */
    const char *steps;      /* the steps= value, NULL when absent */
    const char *summary;
    int nchecks; /* expectation checks that need an Ok route */
} expect;

/* Parses the fields after "route"; returns 0, or -1 with msg filled. */
static int parse_expect(char **tok, int ntok, expect *e, char *msg, size_t cap)
{
    memset(e, 0, sizeof *e);
    if (ntok < 2) {
        snprintf(msg, cap, "route needs FROM and TO");
        return -1;
    }
    e->from = tok[0];
    e->to = tok[1];
    e->code = "Ok";
    for (int i = 2; i < ntok; i++) {
        char *k = tok[i], *v = strchr(k, '=');
        if (!v) {
            snprintf(msg, cap, "'%s' is not KEY=VALUE", k);
            return -1;
        }
        *v++ = '\0';
        int bad = 0;
        if (!strcmp(k, "code")) {
            e->code = v;
        } else if (!strcmp(k, "max-snap")) {
            e->max_snap = v;
        } else if (!strcmp(k, "distance")) {
            bad = parse_tol(v, &e->dist, &e->dist_tol);
            e->has_dist = 1;
            e->nchecks++;
        } else if (!strcmp(k, "duration")) {
            bad = parse_tol(v, &e->dur, &e->dur_tol);
            e->has_dur = 1;
            e->nchecks++;
        } else if (!strcmp(k, "weight")) {
            bad = parse_tol(v, &e->weight, &e->weight_tol);
            e->has_weight = 1;
            e->nchecks++;
        } else if (!strcmp(k, "via") || !strcmp(k, "avoid")) {
            int is_via = k[0] == 'v';
            size_t *n = is_via ? &e->nvia : &e->navoid;
            if (*n == MAX_POINTS) {
                snprintf(msg, cap, "too many %s= points", k);
                return -1;
            }
            bad = parse_lonlat(v, is_via ? &e->via[*n] : &e->avoid[*n]);
            (is_via ? e->via_text : e->avoid_text)[*n] = v;
            (*n)++;
            e->nchecks++;
        } else if (!strcmp(k, "steps")) {
            e->steps = v;
            bad = !*v;
            e->nchecks += 3;
        } else if (!strcmp(k, "summary")) {
            e->summary = v;
            e->nchecks++;
        } else if (!strcmp(k, "from_name") || !strcmp(k, "to_name")) {
            e->wp_name[k[0] == 't'] = v;
            e->nchecks++;
        } else if (!strcmp(k, "from") || !strcmp(k, "to")) {
            int w = k[0] == 't';
            bad = parse_lonlat(v, &e->wp[w]);
            e->has_wp[w] = 1;
            e->wp_text[w] = v;
            e->nchecks++;
        } else {
            snprintf(msg, cap, "unknown key '%s'", k);
            return -1;
        }
        if (bad) {
            snprintf(msg, cap, "bad value for %s: '%s'", k, v);
            return -1;
        }
    }
    if (strcmp(e->code, "Ok") && e->nchecks) {
        snprintf(msg, cap, "route checks given with code=%s", e->code);
        return -1;
    }
    if (e->summary && !e->steps) {
        snprintf(msg, cap, "summary= needs steps=");
        return -1;
    }
    return 0;
}

static int get_number(json_t *obj, const char *key, double *out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    return 0;
}

static int get_point(json_t *arr, pt *out)
{
    if (!json_is_array(arr) || json_array_size(arr) != 2 || !json_is_number(json_array_get(arr, 0)) ||
        !json_is_number(json_array_get(arr, 1)))
        return -1;
    out->lon = json_number_value(json_array_get(arr, 0));
    out->lat = json_number_value(json_array_get(arr, 1));
    return 0;
}

static void check_tol(const char *where, const char *what, int ok_json, double got, double want, double tol)
{
    if (!ok_json)
        report(0, where, "%s: missing from the response", what);
    else
        report(fabs(got - want) <= tol + 1e-9, where, "%s %.1f, expected %.1f±%g", what, got, want, tol);
}

/* Copies src into dst (cap bytes) with `_` turned into spaces. */
static void underscores(char *dst, size_t cap, const char *src, size_t n)
{
    size_t k = 0;
    for (; k < n && k + 1 < cap; k++)
        dst[k] = src[k] == '_' ? ' ' : src[k];
    dst[k] = '\0';
}

/* One expected step: TYPE[:MODIFIER][#EXIT][@NAME]; an empty part (has_* 0) is not checked. */
typedef struct want_step {
    char type[64], modifier[64], name[256];
    int has_modifier, has_name;
    long exit; /* -1: not checked */
} want_step;

static void parse_step(const char *s, size_t n, want_step *w)
{
    memset(w, 0, sizeof *w);
    w->exit = -1;
    size_t t = strcspn(s, ":#@");
    if (t > n)
        t = n;
    underscores(w->type, sizeof w->type, s, t);
    const char *p = s + t, *end = s + n;
    while (p < end) {
        char c = *p++;
        size_t k = strcspn(p, c == '@' ? "" : ":#@");
        if (p + k > end)
            k = (size_t)(end - p);
        if (c == ':')
            underscores(w->modifier, sizeof w->modifier, p, k), w->has_modifier = 1;
        else if (c == '#')
            w->exit = strtol(p, NULL, 10);
        else
            underscores(w->name, sizeof w->name, p, k), w->has_name = 1;
        p += k;
    }
}

/* The steps of a route as TYPE:MODIFIER#EXIT@NAME text, for messages. */
static void describe_steps(json_t *steps, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < json_array_size(steps) && n + 1 < cap; i++) {
        json_t *st = json_array_get(steps, i), *m = json_object_get(st, "maneuver");
        const char *type = json_string_value(json_object_get(m, "type"));
        const char *mod = json_string_value(json_object_get(m, "modifier"));
        json_t *ex = json_object_get(m, "exit");
        const char *name = json_string_value(json_object_get(st, "name"));
        int w = snprintf(buf + n, cap - n, "%s%s%s%s", i ? "," : "", type ? type : "?", mod ? ":" : "", mod ? mod : "");
        if (w > 0 && (size_t)w < cap - n)
            n += (size_t)w;
        if (json_is_integer(ex)) {
            w = snprintf(buf + n, cap - n, "#%lld", (long long)json_integer_value(ex));
            if (w > 0 && (size_t)w < cap - n)
                n += (size_t)w;
        }
        w = snprintf(buf + n, cap - n, "@%s", name ? name : "?");
        if (w > 0 && (size_t)w < cap - n)
            n += (size_t)w;
    }
}

/* Checks the leg's steps against steps= and their structure (see the top of this file). */
static void check_steps(const char *where, const expect *e, json_t *route)
{
    json_t *leg = json_array_get(json_object_get(route, "legs"), 0);
    json_t *steps = json_object_get(leg, "steps");
    size_t n = json_array_size(steps);
    char got[4096];
    describe_steps(steps, got, sizeof got);
    /* the sequence */
    size_t nwant = 1;
    for (const char *p = e->steps; *p; p++)
        nwant += *p == ',';
    int any = !strcmp(e->steps, "*");
    int ok = any || nwant == n;
    const char *p = e->steps;
    for (size_t i = 0; ok && !any && i < n; i++) {
        size_t len = strcspn(p, ",");
        want_step w;
        parse_step(p, len, &w);
        p += len + (p[len] == ',');
        json_t *st = json_array_get(steps, i), *m = json_object_get(st, "maneuver");
        const char *type = json_string_value(json_object_get(m, "type"));
        const char *mod = json_string_value(json_object_get(m, "modifier"));
        const char *name = json_string_value(json_object_get(st, "name"));
        json_t *ex = json_object_get(m, "exit");
        if (!type || strcmp(type, w.type) || (w.has_modifier && (!mod || strcmp(mod, w.modifier))) ||
            (w.has_name && (!name || strcmp(name, w.name))) ||
            (w.exit >= 0 && (!json_is_integer(ex) || json_integer_value(ex) != w.exit)))
            ok = 0;
    }
    report(ok, where, "steps %s%s%s", got, ok ? "" : ", expected ", ok ? "" : e->steps);
    /* depart first, arrive last with nothing left to travel */
    json_t *first = json_object_get(json_array_get(steps, 0), "maneuver");
    json_t *lastst = json_array_get(steps, n ? n - 1 : 0);
    const char *t0 = json_string_value(json_object_get(first, "type"));
    const char *tn = json_string_value(json_object_get(json_object_get(lastst, "maneuver"), "type"));
    double ld = NAN, lt = NAN;
    get_number(lastst, "distance", &ld);
    get_number(lastst, "duration", &lt);
    report(n >= 2 && t0 && !strcmp(t0, "depart") && tn && !strcmp(tn, "arrive") && ld == 0 && lt == 0, where,
           "steps: %zu, first %s, last %s with distance %.1f and duration %.1f", n, t0 ? t0 : "?", tn ? tn : "?", ld,
           lt);
    /* sums, and each step's geometry */
    double sum[3] = {0, 0, 0}, leg_v[3] = {NAN, NAN, NAN};
    static const char *const keys[3] = {"distance", "duration", "weight"};
    int geom_ok = 1;
    char geom_msg[256] = "";
    for (size_t i = 0; i < n; i++) {
        json_t *st = json_array_get(steps, i);
        double v[3] = {NAN, NAN, NAN};
        for (int k = 0; k < 3; k++) {
            get_number(st, keys[k], &v[k]);
            sum[k] += v[k];
        }
        json_t *coords = json_object_get(json_object_get(st, "geometry"), "coordinates");
        size_t np = json_array_size(coords);
        pt loc, a, b;
        double len = 0;
        int okp = np >= 2 && !get_point(json_object_get(json_object_get(st, "maneuver"), "location"), &loc) &&
                  !get_point(json_array_get(coords, 0), &a);
        for (size_t q = 1; okp && q < np; q++) {
            okp = !get_point(json_array_get(coords, q), &b);
            len += okp ? haversine_m(a, b) : 0;
            a = b;
        }
        if (okp && !get_point(json_array_get(coords, 0), &a) &&
            (haversine_m(a, loc) > ENDS_TOLERANCE_M || fabs(len - v[0]) > 1.0 + 0.01 * v[0]))
            okp = 0;
        if (!okp && geom_ok) {
            geom_ok = 0;
            snprintf(geom_msg, sizeof geom_msg, "; step %zu: %zu points, %.1f m long for a distance of %.1f m", i, np,
                     len, v[0]);
        }
    }
    int sums_ok = 1;
    for (int k = 0; k < 3; k++) {
        get_number(leg, keys[k], &leg_v[k]);
        if (!(fabs(sum[k] - leg_v[k]) <= 0.05))
            sums_ok = 0;
    }
    report(sums_ok && geom_ok, where, "steps add up to %.1f m, %.1f s, %.1f (leg %.1f m, %.1f s, %.1f)%s", sum[0],
           sum[1], sum[2], leg_v[0], leg_v[1], leg_v[2], geom_msg);
    if (e->summary) {
        char want[512];
        underscores(want, sizeof want, e->summary, strlen(e->summary));
        const char *sm = json_string_value(json_object_get(leg, "summary"));
        report(sm && !strcmp(sm, want), where, "summary '%s', expected '%s'", sm ? sm : "(none)", want);
    }
}

/* Runs one route query and checks it. */
static void run_route(const char *graph, const expect *e, const char *where, const char *errpath)
{
    const char *argv[16];
    int a = 0;
    argv[a++] = COVOIT_BIN;
    argv[a++] = "route";
    argv[a++] = graph;
    argv[a++] = e->from;
    argv[a++] = e->to;
    argv[a++] = "--geometry";
    argv[a++] = "geojson";
    if (e->max_snap) {
        argv[a++] = "--max-snap";
        argv[a++] = e->max_snap;
    }
    if (e->steps)
        argv[a++] = "--steps";
    argv[a] = NULL;
    char cmd[8192], where2[2048], desc[64], errline[512];
    snprintf(where2, sizeof where2, "%s route %s %s%s%s%s", where, e->from, e->to, e->max_snap ? " --max-snap " : "",
             e->max_snap ? e->max_snap : "", e->steps ? " --steps" : "");
    if (build_cmd(cmd, sizeof cmd, argv, errpath)) {
        report(0, where2, "command line too long");
        return;
    }
    char *out = NULL;
    int st = run_capture(cmd, &out);
    describe_status(st, desc, sizeof desc);
    first_line(errpath, errline, sizeof errline);
    int want_ok = !strcmp(e->code, "Ok");

    json_error_t jerr;
    json_t *root = out ? json_loads(out, 0, &jerr) : NULL;
    free(out);
    const char *code = root ? json_string_value(json_object_get(root, "code")) : NULL;

    /* exit status consistent with the code, and no crash */
    if (st < 0 || st >= 1000)
        report(0, where2, "covoit %s%s%s", desc, errline[0] ? ": " : "", errline);
    else if (code)
        report(!strcmp(code, "Ok") ? st == 0 : st != 0, where2, "%s with code %s", desc, code);

    if (!root) {
        report(0, where2, "stdout is not a JSON document%s%s", errline[0] ? "; stderr: " : "", errline);
    } else if (!code) {
        report(0, where2, "no string `code` in the response");
    } else {
        const char *msg = json_string_value(json_object_get(root, "message"));
        report(!strcmp(code, e->code), where2, "code %s, expected %s%s%s", code, e->code, msg ? ": " : "",
               msg ? msg : "");
    }
    if (!want_ok || !code || strcmp(code, "Ok")) {
        for (int i = 0; want_ok && i < e->nchecks; i++)
            report(0, where2, "check %d of %d not run: no route", i + 1, e->nchecks);
        json_decref(root);
        return;
    }

    json_t *route = json_array_get(json_object_get(root, "routes"), 0);
    json_t *wps = json_object_get(root, "waypoints");
    double v = NAN;
    int okv;
    okv = route && !get_number(route, "distance", &v);
    double distance = okv ? v : NAN;
    if (e->has_dist)
        check_tol(where2, "distance", okv, v, e->dist, e->dist_tol);
    if (e->has_dur) {
        okv = route && !get_number(route, "duration", &v);
        check_tol(where2, "duration", okv, v, e->dur, e->dur_tol);
    }
    if (e->has_weight) {
        okv = route && !get_number(route, "weight", &v);
        check_tol(where2, "weight", okv, v, e->weight, e->weight_tol);
    }

    /* waypoints */
    pt wp[2];
    int have_wp[2];
    for (int k = 0; k < 2; k++) {
        have_wp[k] = !get_point(json_object_get(json_array_get(wps, (size_t)k), "location"), &wp[k]);
        if (!e->has_wp[k])
            continue;
        if (!have_wp[k])
            report(0, where2, "%s: waypoints[%d].location missing", k ? "to" : "from", k);
        else {
            double d = haversine_m(wp[k], e->wp[k]);
            report(d <= WAYPOINT_TOLERANCE_M, where2, "%s: waypoint %.6f,%.6f is %.2f m from %s", k ? "to" : "from",
                   wp[k].lon, wp[k].lat, d, e->wp_text[k]);
        }
    }

    for (int k = 0; k < 2; k++) {
        if (!e->wp_name[k])
            continue;
        char want[256];
        underscores(want, sizeof want, e->wp_name[k], strlen(e->wp_name[k]));
        const char *name = json_string_value(json_object_get(json_array_get(wps, (size_t)k), "name"));
        report(name && !strcmp(name, want), where2, "%s_name: waypoint name '%s', expected '%s'", k ? "to" : "from",
               name ? name : "(none)", want);
    }

    /* geometry */
    json_t *geom = route ? json_object_get(route, "geometry") : NULL;
    json_t *coords = json_object_get(geom, "coordinates");
    const char *gtype = json_string_value(json_object_get(geom, "type"));
    size_t n = json_is_array(coords) ? json_array_size(coords) : 0;
    pt *line = malloc((n ? n : 1) * sizeof *line);
    int geom_ok = gtype && !strcmp(gtype, "LineString") && json_is_array(coords) && line;
    for (size_t i = 0; geom_ok && i < n; i++)
        if (get_point(json_array_get(coords, i), &line[i]))
            geom_ok = 0;
    report(geom_ok && n >= 2, where2, "geometry: %s with %zu position%s (GeoJSON needs at least 2)",
           gtype ? gtype : "(no type)", n, n == 1 ? "" : "s");
    if (!geom_ok || n == 0) {
        for (int i = 0; i < (int)(e->nvia + e->navoid); i++)
            report(0, where2, "via/avoid check %d not run: no usable geometry", i + 1);
        free(line);
        json_decref(root);
        return;
    }
    if (have_wp[0] && have_wp[1]) {
        double d0 = haversine_m(line[0], wp[0]), d1 = haversine_m(line[n - 1], wp[1]);
        report(d0 <= ENDS_TOLERANCE_M && d1 <= ENDS_TOLERANCE_M, where2,
               "geometry ends are %.2f m and %.2f m from the waypoints", d0, d1);
    } else {
        report(0, where2, "waypoints missing from the response");
    }
    double glen = 0;
    for (size_t i = 0; i + 1 < n; i++)
        glen += haversine_m(line[i], line[i + 1]);
    if (isnan(distance))
        report(0, where2, "geometry length %.1f m, but no distance in the response", glen);
    else
        report(fabs(glen - distance) <= 1.0 + 0.002 * distance, where2, "geometry length %.1f m, route distance %.1f m",
               glen, distance);

    size_t seg = 0;
    double t = 0;
    for (size_t i = 0; i < e->nvia; i++) {
        size_t s2 = seg;
        double t2 = t;
        if (find_after(e->via[i], line, n, VIA_TOLERANCE_M, &s2, &t2)) {
            report(1, where2, "via %s", e->via_text[i]);
            seg = s2, t = t2;
        } else {
            double d = line_dist(e->via[i], line, n);
            if (d <= VIA_TOLERANCE_M)
                report(0, where2, "via %s: passed, but not after the previous via point", e->via_text[i]);
            else
                report(0, where2, "via %s: the route stays %.1f m away", e->via_text[i], d);
        }
    }
    for (size_t i = 0; i < e->navoid; i++) {
        double d = line_dist(e->avoid[i], line, n);
        report(d > AVOID_RADIUS_M, where2, "avoid %s: closest approach %.1f m", e->avoid_text[i], d);
    }
    if (e->steps)
        check_steps(where2, e, route);
    free(line);
    json_decref(root);
}

/* ---- one map ---- */

static int split_tokens(char *line, char **tok, int max)
{
    int n = 0;
    for (char *p = strtok(line, " \t\r\n"); p; p = strtok(NULL, " \t\r\n")) {
        if (p[0] == '#')
            break;
        if (n == max)
            return -1;
        tok[n++] = p;
    }
    return n;
}

static void run_map(const char *base)
{
    char osm[4096], txt[4096], graph[4096], errpath[4096], cmd[16384], where[1024];
    snprintf(osm, sizeof osm, "%s/%s.osm", COVOIT_SCENARIOS, base);
    snprintf(txt, sizeof txt, "%s/%s.txt", COVOIT_SCENARIOS, base);
    snprintf(graph, sizeof graph, "%s/scenario_%s.cvg", COVOIT_TMP, base);
    snprintf(errpath, sizeof errpath, "%s/scenario_stderr_%ld.txt", COVOIT_TMP, (long)getpid());

    FILE *f = fopen(txt, "r");
    if (!f) {
        snprintf(where, sizeof where, "%s.txt", base);
        report(0, where, "cannot open %s: %s", txt, strerror(errno));
        return;
    }

    remove(graph);
    const char *argv[] = {COVOIT_BIN, "import", osm, "-o", graph, "--quiet", NULL};
    int imported = 0;
    snprintf(where, sizeof where, "%s.osm", base);
    if (build_cmd(cmd, sizeof cmd, argv, errpath)) {
        report(0, where, "import: command line too long");
    } else {
        char *out = NULL, desc[64], errline[512];
        int st = run_capture(cmd, &out);
        free(out);
        describe_status(st, desc, sizeof desc);
        first_line(errpath, errline, sizeof errline);
        imported = st == 0 && access(graph, R_OK) == 0;
        report(imported, where, "import: %s%s%s", desc, errline[0] ? ": " : "", errline);
    }

    char line[8192];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        snprintf(where, sizeof where, "%s.txt:%d", base, lineno);
        if (!strchr(line, '\n') && !feof(f)) {
            report(0, where, "line too long");
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n')
                ;
            continue;
        }
        char *tok[MAX_TOKENS];
        int ntok = split_tokens(line, tok, MAX_TOKENS);
        if (ntok == 0)
            continue;
        if (ntok < 0) {
            report(0, where, "too many fields");
            continue;
        }
        if (strcmp(tok[0], "route")) {
            report(0, where, "unknown directive '%s'", tok[0]);
            continue;
        }
        expect e;
        char msg[512];
        if (parse_expect(tok + 1, ntok - 1, &e, msg, sizeof msg)) {
            report(0, where, "%s", msg);
            continue;
        }
        if (!imported) {
            report(0, where, "route %s %s not run: the import failed", e.from, e.to);
            continue;
        }
        run_route(graph, &e, where, errpath);
    }
    fclose(f);
    remove(errpath);
}

/* ---- main ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int selected(const char *base, int argc, char **argv)
{
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++) {
        size_t n = strlen(base);
        if (!strcmp(argv[i], base) || (!strncmp(argv[i], base, n) && !strcmp(argv[i] + n, ".osm")))
            return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    DIR *d = opendir(COVOIT_SCENARIOS);
    if (!d) {
        fprintf(stderr, "cannot open %s: %s\n", COVOIT_SCENARIOS, strerror(errno));
        printf("0 passed, 1 failed\n");
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *ent;
    while ((ent = readdir(d))) {
        size_t len = strlen(ent->d_name);
        if (len <= 4 || strcmp(ent->d_name + len - 4, ".osm"))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) {
                fprintf(stderr, "out of memory\n");
                return 1;
            }
            names = nn;
        }
        names[n] = malloc(len - 3);
        if (!names[n]) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
        memcpy(names[n], ent->d_name, len - 4);
        names[n][len - 4] = '\0';
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (selected(names[i], argc, argv))
            run_map(names[i]);
        free(names[i]);
    }
    free(names);
    printf("%d passed, %d failed\n", npassed, nfailed);
    return nfailed > 0 || npassed == 0;
}
