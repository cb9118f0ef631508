/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_cli_trips.c — a whole carpool scenario scripted through the covoit binary, as an operator would from a
   shell: a driver's offer across Monaco, passengers' requests along its route, at another time and the other way,
   a regular request; matches both ways; a booking accepted, shown, cancelled, another refused; seats running out;
   bookings accepted together; the errors an operator meets; and the lists at the end. Every command is its own
   process on the same graph and trip store, so the store's persistence is exercised throughout. Each command's
   stdout is one JSON document (parsed with jansson), its exit status is checked, its stderr kept for messages.

   The tests run in order and share the store: later ones build on the ids kept by earlier ones (and skip when
   those are missing). */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MONACO_PBF COVOIT_TEST_DATA "/monaco.osm.pbf"
#define GRAPH COVOIT_TMP "/cli_trips.cvg"
#define DB COVOIT_TMP "/cli_trips.db"
#define OUT_FILE COVOIT_TMP "/cli_trips.stdout"
#define ERR_FILE COVOIT_TMP "/cli_trips.stderr"

#define NOW "2030-06-01T00:00"
#define NOW_ISO "2030-06-01T00:00:00+02:00" /* --now in Europe/Paris, as the CLI prints it */
#define TZ "Europe/Paris"

/* The driver: Fontvieille to Larvotto. */
#define FROM "7.4165,43.7310"
#define TO "7.4360,43.7470"

#define MARGIN_S 900      /* the default margin, +-15 min */
#define DETOUR_LIMIT 0.25 /* the default detour limit, +25 % */

/* ------------------------------------------------------------------------------------------ the scenario --- */

/* The driver's route (from `covoit route`), and points on it at fractions of its geometry. */
static double *route_lon, *route_lat;
static size_t route_n;
static double route_distance;
enum { P20, P30, P40, P60, P70, P80, NPOINTS };
static const double fractions[NPOINTS] = {0.2, 0.3, 0.4, 0.6, 0.7, 0.8};
static char pt[NPOINTS][48]; /* "lon,lat" */
static double pt_lon[NPOINTS], pt_lat[NPOINTS];

/* Ids kept from one test to the next. */
static json_int_t offer_main, req_along, req_late, req_reverse, req_regular;
static json_t *along_match; /* the along-route request's match, as `request matches` printed it */
static json_int_t booking_first, booking_refused;
static json_int_t offer_seats, seat_req[3], seat_booking[3];
static json_int_t offer_together, offer_disjoint, offer_spare;

/* ---------------------------------------------------------------------------------------------- helpers --- */

/* A command's stdout and stderr, read back from their files (static: nothing to free when an assertion fails). */
static char out_buf[1 << 20], err_buf[1 << 16];

/* Reads path into buf (NUL-terminated); -1 when it cannot be read or does not fit. */
static int slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t len = fread(buf, 1, cap - 1, f);
    int whole = len < cap - 1 && !ferror(f);
    fclose(f);
    buf[len] = 0;
    return whole ? 0 : -1;
}

/* Every JSON value the commands printed, released after each test (so that a failing assertion leaks nothing). */
static json_t *pool[1024];
static size_t npool;

static json_t *keep(json_t *j)
{
    if (j) {
        if (npool == NELEM(pool))
            fail_msg("too many JSON documents held at once");
        pool[npool++] = j;
    }
    return j;
}

static int release(void **state)
{
    (void)state;
    while (npool)
        json_decref(pool[--npool]);
    return 0;
}

/* Runs COVOIT_BIN with argv[1..] = args (argc of them), stdout and stderr to files that are read back into
   out_buf and err_buf. Returns the raw wait status, or -1 when the process could not be run. */
static int spawn(const char *const *args, int argc)
{
    char *argv[64];
    if (argc + 2 > (int)NELEM(argv))
        return -1;
    argv[0] = (char *)COVOIT_BIN;
    for (int i = 0; i < argc; i++)
        argv[i + 1] = (char *)args[i];
    argv[argc + 1] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fo = open(OUT_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(ERR_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
            _exit(127);
        close(fo);
        close(fe);
        execv(COVOIT_BIN, argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (slurp(OUT_FILE, out_buf, sizeof out_buf) || slurp(ERR_FILE, err_buf, sizeof err_buf))
        return -1;
    return status;
}

/* The command line, for messages. */
static const char *cmdline(const char *const *args, int argc)
{
    static char buf[2048];
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < argc && n < sizeof buf - 1; i++) {
        int k = snprintf(buf + n, sizeof buf - n, "%s%s", i ? " " : "covoit ", args[i]);
        if (k < 0)
            break;
        n += (size_t)k;
    }
    return buf;
}

/* Runs covoit with the args (after the common --graph/--db/--now/--tz when `common`), expects exit status
   want_exit and, when want_code is not NULL, one JSON document on stdout whose "code" is want_code (with a
   message, also on stderr, when it is not "Ok"; and nothing on stderr when it is). Returns the document (new
   reference held until the end of the test; NULL when want_code is NULL). */
static json_t *run_args(int common, int want_exit, const char *want_code, const char *const *in, int nin)
{
    const char *args[60];
    int argc = 0;
    for (int i = 0; i < nin && argc < (int)NELEM(args); i++)
        args[argc++] = in[i];
    if (common) {
        static const char *const extra[] = {"--graph", GRAPH, "--db", DB, "--now", NOW, "--tz", TZ};
        for (size_t i = 0; i < NELEM(extra); i++)
            args[argc++] = extra[i];
    }
    const char *out = out_buf, *err = err_buf;
    int status = spawn(args, argc);
    if (status == -1)
        fail_msg("%s: could not run", cmdline(args, argc));
    if (!WIFEXITED(status))
        fail_msg("%s: killed by signal %d; stderr: %s", cmdline(args, argc),
                 WIFSIGNALED(status) ? WTERMSIG(status) : -1, err);
    if (WEXITSTATUS(status) != want_exit)
        fail_msg("%s: exit status %d, expected %d\nstdout: %s\nstderr: %s", cmdline(args, argc), WEXITSTATUS(status),
                 want_exit, out, err);
    json_t *doc = NULL;
    if (want_code) {
        json_error_t je;
        doc = keep(json_loads(out, 0, &je));
        if (!doc)
            fail_msg("%s: stdout is not one JSON document (%s): [%s]", cmdline(args, argc), je.text, out);
        const char *code = json_string_value(json_object_get(doc, "code"));
        if (!code || strcmp(code, want_code))
            fail_msg("%s: code %s, expected %s\nstdout: %s\nstderr: %s", cmdline(args, argc), code ? code : "(none)",
                     want_code, out, err);
        if (strcmp(want_code, "Ok")) {
            const char *msg = json_string_value(json_object_get(doc, "message"));
            if (!msg || !*msg)
                fail_msg("%s: no message in %s", cmdline(args, argc), out);
            if (strncmp(err, "covoit: ", 8) != 0 || !strstr(err, msg))
                fail_msg("%s: stderr does not carry the message '%s': [%s]", cmdline(args, argc), msg, err);
        } else if (*err) {
            fail_msg("%s: succeeded but wrote on stderr: [%s]", cmdline(args, argc), err);
        }
    }
    return doc;
}

static json_t *run_list(int common, int want_exit, const char *want_code, ...)
{
    const char *args[48];
    int n = 0;
    va_list ap;
    va_start(ap, want_code);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < (int)NELEM(args))
        args[n++] = a;
    va_end(ap);
    return run_args(common, want_exit, want_code, args, n);
}

/* A trip command (with the common flags), or a bare one. */
#define TRIP(want_exit, want_code, ...) run_list(1, want_exit, want_code, __VA_ARGS__, (const char *)NULL)
#define BARE(want_exit, want_code, ...) run_list(0, want_exit, want_code, __VA_ARGS__, (const char *)NULL)

/* j as compact text, for messages (a few buffers in turn: several may appear in one message). */
static const char *dump(const json_t *j)
{
    static char buf[4][8192];
    static int k;
    k = (k + 1) % 4;
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    snprintf(buf[k], sizeof buf[k], "%s", s ? s : "(null)");
    free(s);
    return buf[k];
}

/* The value at a dotted path ("matches.0.pickup.time": numbers index arrays), or NULL. */
static json_t *jpath(json_t *root, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = root;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ".", &save); cur && tok; tok = strtok_r(NULL, ".", &save)) {
        if (json_is_array(cur))
            cur = json_array_get(cur, (size_t)strtoul(tok, NULL, 10));
        else
            cur = json_object_get(cur, tok);
    }
    return cur;
}

static json_t *jreq(json_t *root, const char *path)
{
    json_t *v = jpath(root, path);
    if (!v)
        fail_msg("no %s in %s", path, dump(root));
    return v;
}

static const char *jstr(json_t *root, const char *path)
{
    json_t *v = jreq(root, path);
    if (!json_is_string(v))
        fail_msg("%s is not a string in %s", path, dump(root));
    return json_string_value(v);
}

static double jnum(json_t *root, const char *path)
{
    json_t *v = jreq(root, path);
    if (!json_is_number(v))
        fail_msg("%s is not a number in %s", path, dump(root));
    return json_number_value(v);
}

static json_int_t jint(json_t *root, const char *path)
{
    json_t *v = jreq(root, path);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer in %s", path, dump(root));
    return json_integer_value(v);
}

static size_t jlen(json_t *root, const char *path)
{
    json_t *v = jreq(root, path);
    if (!json_is_array(v))
        fail_msg("%s is not an array in %s", path, dump(root));
    return json_array_size(v);
}

static void expect_str(json_t *root, const char *path, const char *want)
{
    const char *v = jstr(root, path);
    if (strcmp(v, want))
        fail_msg("%s is '%s', expected '%s' in %s", path, v, want, dump(root));
}

static void expect_int(json_t *root, const char *path, json_int_t want)
{
    json_int_t v = jint(root, path);
    if (v != want)
        fail_msg("%s is %lld, expected %lld in %s", path, (long long)v, (long long)want, dump(root));
}

/* [lon, lat] at path. */
static void jlonlat(json_t *root, const char *path, double *lon, double *lat)
{
    json_t *v = jreq(root, path);
    if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_number(json_array_get(v, 0)) ||
        !json_is_number(json_array_get(v, 1)))
        fail_msg("%s is not [lon, lat] in %s", path, dump(root));
    *lon = json_number_value(json_array_get(v, 0));
    *lat = json_number_value(json_array_get(v, 1));
}

static double metres(double lon1, double lat1, double lon2, double lat2)
{
    const double r = 6371008.8, d = 3.14159265358979323846 / 180.0;
    double dlat = (lat2 - lat1) * d, dlon = (lon2 - lon1) * d;
    double a = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * d) * cos(lat2 * d) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * asin(sqrt(a));
}

/* The location at path is within tol metres of (lon, lat). */
static void expect_near(json_t *root, const char *path, double lon, double lat, double tol)
{
    double x, y;
    jlonlat(root, path, &x, &y);
    double m = metres(x, y, lon, lat);
    if (m > tol)
        fail_msg("%s [%.6f,%.6f] is %.1f m from [%.6f,%.6f] (at most %.0f m expected) in %s", path, x, y, m, lon, lat,
                 tol, dump(root));
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* A date-time "YYYY-MM-DDTHH:MM:SS+02:00" (Monaco's offset in June) as UTC seconds; fails on anything else. */
static int64_t local_time(const char *s)
{
    int y, mo, d, h, mi, se, oh, om, n = 0;
    char sign;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &sign, &oh, &om, &n) != 9 || s[n] ||
        strlen(s) != 25)
        fail_msg("'%s' is not an ISO-8601 date-time with an offset", s);
    if (sign != '+' || oh != 2 || om != 0)
        fail_msg("'%s' is not at Monaco's summer offset +02:00", s);
    return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - 2 * 3600;
}

static int64_t jtime(json_t *root, const char *path)
{
    return local_time(jstr(root, path));
}

/* Index of the route geometry's vertex nearest to (lon, lat). */
static size_t route_index(double lon, double lat)
{
    size_t best = 0;
    double bd = INFINITY;
    for (size_t i = 0; i < route_n; i++) {
        double m = metres(lon, lat, route_lon[i], route_lat[i]);
        if (m < bd)
            bd = m, best = i;
    }
    return best;
}

static const char *id_str(json_int_t id)
{
    static char buf[8][24];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%lld", (long long)id);
    return buf[k];
}

static json_t *offer_list(int all)
{
    json_t *doc = all ? TRIP(0, "Ok", "offer", "list", "--all") : TRIP(0, "Ok", "offer", "list");
    return jreq(doc, "offers");
}

static json_t *request_list(int all)
{
    json_t *doc = all ? TRIP(0, "Ok", "request", "list", "--all") : TRIP(0, "Ok", "request", "list");
    return jreq(doc, "requests");
}

/* The element of a list of trips with that id, or NULL. */
static json_t *find_id(json_t *list, json_int_t id)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (json_integer_value(json_object_get(v, "id")) == id)
            return v;
    }
    return NULL;
}

/* Adds a trip, checks the common fields, returns its id. */
static json_int_t add_punctual(const char *kind, const char *from, const char *to, const char *depart,
                               const char *seats)
{
    json_t *doc = seats ? TRIP(0, "Ok", kind, "add", "--from", from, "--to", to, "--depart", depart, "--seats", seats)
                        : TRIP(0, "Ok", kind, "add", "--from", from, "--to", to, "--depart", depart);
    json_t *t = jreq(doc, kind);
    json_int_t id = jint(t, "id");
    assert_true(id > 0);
    expect_str(t, "status", "open");
    expect_str(t, "owner", "cli");
    expect_str(t, "schedule.type", "punctual");
    char want[40];
    snprintf(want, sizeof want, "%s:00+02:00", depart);
    expect_str(t, "schedule.depart", want);
    assert_true(jnum(t, "schedule.margin_min") == 15);
    expect_str(t, "created", NOW_ISO);
    return id;
}

/* Books, checks the pending booking, returns its id. */
static json_int_t book(json_int_t offer, json_int_t request)
{
    json_t *doc = TRIP(0, "Ok", "book", id_str(offer), id_str(request));
    json_t *b = jreq(doc, "booking");
    json_int_t id = jint(b, "id");
    assert_true(id > 0);
    expect_int(b, "offer_id", offer);
    expect_int(b, "request_id", request);
    expect_str(b, "status", "pending");
    return id;
}

/* booking ACTION ID succeeds and leaves it in status want. */
static void booking_op(const char *action, json_int_t id, const char *want)
{
    json_t *doc = TRIP(0, "Ok", "booking", action, id_str(id));
    expect_int(doc, "booking.id", id);
    expect_str(doc, "booking.status", want);
}

/* booking ACTION ID fails with exit 1 and code. */
static void booking_op_fails(const char *action, json_int_t id, const char *code)
{
    TRIP(1, code, "booking", action, id_str(id));
}

static void expect_booking_status(json_int_t id, const char *want)
{
    booking_op("show", id, want);
}

/* `offer show ID`; the stops are checked: origin first, destination last, keys strictly increasing, the load
   (sum of seats_delta) within [0, seats] on every leg and back to 0 at the end. */
static json_t *offer_show(json_int_t id)
{
    json_t *doc = TRIP(0, "Ok", "offer", "show", id_str(id));
    json_t *o = jreq(doc, "offer");
    expect_int(o, "id", id);
    size_t n = jlen(o, "stops");
    assert_true(n >= 2);
    json_t *stops = json_object_get(o, "stops");
    expect_str(json_array_get(stops, 0), "kind", "origin");
    expect_str(json_array_get(stops, n - 1), "kind", "destination");
    json_int_t load = 0, seats = jint(o, "seats");
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(stops, i);
        const char *kind = jstr(s, "kind");
        if (!strcmp(kind, "pickup") || !strcmp(kind, "dropoff"))
            load += jint(s, "seats_delta");
        if (load < 0 || load > seats)
            fail_msg("offer %lld: load %lld after stop %zu: %s", (long long)id, (long long)load, i, dump(o));
    }
    assert_int_equal(load, 0);
    return o;
}

/* The stops' kinds are those given (NULL-terminated). */
static void expect_stop_kinds(json_t *o, ...)
{
    va_list ap;
    va_start(ap, o);
    size_t i = 0;
    const char *k;
    json_t *stops = jreq(o, "stops");
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *kind = json_string_value(json_object_get(json_array_get(stops, i), "kind"));
        if (!kind || strcmp(kind, k))
            fail_msg("stop %zu is not a %s: %s", i, k, dump(stops));
        i++;
    }
    va_end(ap);
    if (json_array_size(stops) != i)
        fail_msg("%zu stops, expected %zu: %s", json_array_size(stops), i, dump(stops));
}

/* Keys strictly increase along the stops: the stored order is the driving order, with no ties. */
static void expect_keys_increasing(json_t *o)
{
    json_t *stops = jreq(o, "stops");
    for (size_t i = 1; i < json_array_size(stops); i++) {
        double a = jnum(json_array_get(stops, i - 1), "key"), b = jnum(json_array_get(stops, i), "key");
        if (!(a < b))
            fail_msg("stop keys do not increase: stop %zu key %.4f, stop %zu key %.4f: %s", i - 1, a, i, b,
                     dump(stops));
    }
}

/* The passengers' stops (all on the driver's route) come in the order the route passes them. */
static void expect_route_order(json_t *o)
{
    json_t *stops = jreq(o, "stops");
    size_t prev = 0;
    for (size_t i = 1; i + 1 < json_array_size(stops); i++) {
        double lon, lat;
        jlonlat(json_array_get(stops, i), "location", &lon, &lat);
        size_t at = route_index(lon, lat);
        if (at < prev)
            fail_msg("stop %zu (%s of booking %lld, %.0f%% along the route) comes after a stop %.0f%% along the "
                     "route: the stops are not in driving order: %s",
                     i, jstr(json_array_get(stops, i), "kind"), (long long)jint(json_array_get(stops, i), "booking_id"),
                     100.0 * (double)at / (double)route_n, 100.0 * (double)prev / (double)route_n, dump(stops));
        prev = at;
    }
}

/* One match of request (wishing `wish`, from point pf to pt_) with the main offer (punctual 08:00, margin 15 min). */
static void check_match(json_t *m, json_int_t offer, json_int_t request, const char *wish, int pf, int pto)
{
    expect_int(m, "offer_id", offer);
    expect_int(m, "request_id", request);
    double direct_ds = 0, direct_dm = 0, per_km = 0;
    int64_t depart = 0;
    {
        json_t *doc = TRIP(0, "Ok", "offer", "show", id_str(offer));
        direct_ds = jnum(doc, "offer.direct.duration");
        direct_dm = jnum(doc, "offer.direct.distance");
        per_km = jnum(doc, "offer.price_per_km");
        depart = jtime(doc, "offer.schedule.depart");
    }
    /* where: the request's own points, which lie on roads */
    expect_near(m, "pickup.location", pt_lon[pf], pt_lat[pf], 30);
    expect_near(m, "dropoff.location", pt_lon[pto], pt_lat[pto], 30);
    /* when: local times, the ride lasting the shared duration, the pickup within the driver's reach */
    int64_t pick = jtime(m, "pickup.time"), drop = jtime(m, "dropoff.time");
    double shared_s = jnum(m, "shared.duration"), shared_m = jnum(m, "shared.distance");
    assert_true(drop > pick);
    if (fabs((double)(drop - pick) - shared_s) > 1.5)
        fail_msg("dropoff - pickup = %lld s, shared duration %.1f s: %s", (long long)(drop - pick), shared_s, dump(m));
    if (pick < depart - MARGIN_S || pick > depart + MARGIN_S + (int64_t)ceil(direct_ds))
        fail_msg("pickup out of the driver's reach (departs %lld +-%d s, route %.1f s): %s", (long long)depart,
                 MARGIN_S, direct_ds, dump(m));
    int64_t w = local_time(wish);
    json_int_t mismatch = jint(m, "time_mismatch");
    assert_true(mismatch >= 0 && mismatch <= MARGIN_S);
    if (llabs((long long)((pick > w ? pick - w : w - pick) - mismatch)) > 1)
        fail_msg("time_mismatch %lld but |pickup - wish| = %lld: %s", (long long)mismatch,
                 (long long)(pick > w ? pick - w : w - pick), dump(m));
    /* how far: the passenger rides part of the route, the detour is small (on the route) and adds up */
    assert_true(shared_s > 0);
    if (!(shared_m > 0 && shared_m <= direct_dm))
        fail_msg("shared distance %.1f not in (0, %.1f]: %s", shared_m, direct_dm, dump(m));
    double det_s = jnum(m, "detour.duration"), det_m = jnum(m, "detour.distance"), pct = jnum(m, "detour.percent");
    if (fabs(det_m) > 0.01 * direct_dm || fabs(det_s) > 0.01 * direct_ds)
        fail_msg("a passenger along the route costs a detour of %.1f s, %.1f m: %s", det_s, det_m, dump(m));
    assert_true(det_s <= DETOUR_LIMIT * direct_ds + 0.1 && det_m <= DETOUR_LIMIT * direct_dm + 0.1);
    if (fabs(pct - 100.0 * det_s / direct_ds) > 0.11)
        fail_msg("detour percent %.1f, expected %.1f: %s", pct, 100.0 * det_s / direct_ds, dump(m));
    if (fabs(jnum(m, "driver_total.duration") - (direct_ds + det_s)) > 0.25 ||
        fabs(jnum(m, "driver_total.distance") - (direct_dm + det_m)) > 0.25)
        fail_msg("driver_total is not direct + detour (%.1f s, %.1f m): %s", direct_ds + det_s, direct_dm + det_m,
                 dump(m));
    /* the contribution: per km of the ride (and detour), no commission */
    double amount = jnum(m, "contribution.amount");
    assert_true(amount >= 0);
    expect_str(m, "contribution.currency", "EUR");
    expect_int(m, "contribution.commission", 0);
    assert_true(fabs(jnum(m, "contribution.per_km") - per_km) < 1e-9);
    double km = jnum(m, "contribution.distance_km");
    if (fabs(km - (shared_m + (det_m > 0 ? det_m : 0)) / 1000.0) > 0.0011)
        fail_msg("contribution distance %.3f km, ride %.1f m + detour %.1f m: %s", km, shared_m, det_m, dump(m));
    const char *rounding = jstr(m, "contribution.rounding");
    double step = !strcmp(rounding, "cent")        ? 0.01
                  : !strcmp(rounding, "ten_cents") ? 0.10
                  : !strcmp(rounding, "half_euro") ? 0.50
                                                   : 1.00;
    if (fabs(amount - km * per_km) > step / 2 + 0.005)
        fail_msg("contribution %.2f for %.3f km at %.4f/km (rounding %s): %s", amount, km, per_km, rounding, dump(m));
}

/* ------------------------------------------------------------------------------------------------ setup --- */

static void remove_db(void)
{
    unlink(DB);
    unlink(DB "-wal");
    unlink(DB "-shm");
    unlink(DB "-journal");
}

static int group_setup(void **state)
{
    (void)state;
    unlink(GRAPH);
    remove_db();
    const char *args[] = {"import", MONACO_PBF, "-o", GRAPH, "--quiet"};
    int status = spawn(args, (int)NELEM(args));
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "covoit import %s failed (status %d): %s\n", MONACO_PBF, status, err_buf);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    release(state);
    json_decref(along_match);
    free(route_lon);
    free(route_lat);
    remove_db();
    unlink(GRAPH);
    unlink(OUT_FILE);
    unlink(ERR_FILE);
    return 0;
}

/* ------------------------------------------------------------------------------------------------ tests --- */

/* The driver's trip routes; the offer is stored with its direct route and a local schedule. */
static void test_offer_add(void **state)
{
    (void)state;
    json_t *doc = BARE(0, "Ok", "route", GRAPH, FROM, TO, "--geometry", "geojson");
    route_distance = jnum(doc, "routes.0.distance");
    assert_true(route_distance > 1000); /* across Monaco */
    json_t *coords = jreq(doc, "routes.0.geometry.coordinates");
    route_n = json_array_size(coords);
    assert_true(route_n >= 20);
    route_lon = malloc(route_n * sizeof *route_lon);
    route_lat = malloc(route_n * sizeof *route_lat);
    assert_non_null(route_lon);
    assert_non_null(route_lat);
    for (size_t i = 0; i < route_n; i++) {
        char p[24];
        snprintf(p, sizeof p, "%zu", i);
        jlonlat(coords, p, &route_lon[i], &route_lat[i]);
    }
    for (int k = 0; k < NPOINTS; k++) {
        size_t i = (size_t)(fractions[k] * (double)route_n);
        pt_lon[k] = route_lon[i];
        pt_lat[k] = route_lat[i];
        snprintf(pt[k], sizeof pt[k], "%.6f,%.6f", pt_lon[k], pt_lat[k]);
    }
    /* the points at 30 % and 70 % route too, the right way */
    BARE(0, "Ok", "route", GRAPH, pt[P30], pt[P70]);

    doc = TRIP(0, "Ok", "offer", "add", "--from", FROM, "--to", TO, "--depart", "2030-06-03T08:00", "--seats", "2");
    json_t *o = jreq(doc, "offer");
    offer_main = jint(o, "id");
    assert_true(offer_main > 0);
    expect_str(o, "status", "open");
    expect_str(o, "owner", "cli");
    expect_int(o, "seats", 2);
    expect_str(o, "schedule.type", "punctual");
    expect_str(o, "schedule.depart", "2030-06-03T08:00:00+02:00");
    assert_true(jnum(o, "schedule.margin_min") == 15);
    expect_str(o, "created", NOW_ISO);
    expect_near(o, "from", 7.4165, 43.7310, 1);
    expect_near(o, "to", 7.4360, 43.7470, 1);
    assert_int_equal(jlen(o, "vias"), 0);
    double dur = jnum(o, "direct.duration"), dist = jnum(o, "direct.distance");
    assert_true(dur > 0);
    assert_true(dist > 0);
    if (fabs(dist - route_distance) > 0.01 * route_distance + 1)
        fail_msg("the offer's direct route is %.1f m, `covoit route` says %.1f m", dist, route_distance);
    assert_true(jnum(o, "price_per_km") > 0);

    /* shown from the store by another process: the same, with its two stops and no bookings */
    o = offer_show(offer_main);
    expect_stop_kinds(o, "origin", "destination", (const char *)NULL);
    expect_keys_increasing(o);
    assert_int_equal(jlen(o, "bookings"), 0);
    expect_str(o, "status", "open");
    assert_true(jnum(o, "direct.distance") == dist);
}

/* Passengers: one along the route at the driver's time, the same at 14:00, one the other way, one every weekday. */
static void test_requests_add(void **state)
{
    (void)state;
    if (!offer_main)
        skip();
    req_along = add_punctual("request", pt[P30], pt[P70], "2030-06-03T08:03", NULL);
    req_late = add_punctual("request", pt[P30], pt[P70], "2030-06-03T14:00", NULL);
    req_reverse = add_punctual("request", pt[P70], pt[P30], "2030-06-03T08:03", NULL);

    json_t *doc =
        TRIP(0, "Ok", "request", "add", "--from", pt[P30], "--to", pt[P70], "--weekdays", "mon,tue,wed,thu,fri",
             "--time", "08:00", "--first-date", "2030-06-01", "--last-date", "2030-06-30");
    json_t *r = jreq(doc, "request");
    req_regular = jint(r, "id");
    expect_str(r, "status", "open");
    expect_int(r, "seats", 1);
    expect_str(r, "schedule.type", "regular");
    expect_str(r, "schedule.weekdays", "mon,tue,wed,thu,fri");
    expect_str(r, "schedule.time", "08:00");
    expect_str(r, "schedule.first_date", "2030-06-01");
    expect_str(r, "schedule.last_date", "2030-06-30");
    expect_near(r, "from", pt_lon[P30], pt_lat[P30], 1);
    expect_near(r, "to", pt_lon[P70], pt_lat[P70], 1);

    json_int_t ids[] = {req_along, req_late, req_reverse, req_regular};
    for (size_t i = 0; i < NELEM(ids); i++)
        for (size_t j = 0; j < i; j++)
            assert_true(ids[i] != ids[j]);

    /* all four listed, open */
    json_t *list = request_list(0);
    assert_int_equal(json_array_size(list), 4);
    for (size_t i = 0; i < NELEM(ids); i++) {
        json_t *t = find_id(list, ids[i]);
        if (!t)
            fail_msg("request %lld not listed: %s", (long long)ids[i], dump(list));
        expect_str(t, "status", "open");
    }
    doc = TRIP(0, "Ok", "request", "show", id_str(req_reverse));
    expect_near(doc, "request.from", pt_lon[P70], pt_lat[P70], 1);
}

/* `request matches`: the request along the route gets exactly the offer; the late and reverse ones nothing. */
static void test_request_matches(void **state)
{
    (void)state;
    if (!req_regular)
        skip();
    json_t *doc = TRIP(0, "Ok", "request", "matches", id_str(req_along));
    assert_int_equal(jlen(doc, "matches"), 1);
    json_t *m = jreq(doc, "matches.0");
    check_match(m, offer_main, req_along, "2030-06-03T08:03:00+02:00", P30, P70);
    expect_str(m, "schedule.first_date", "2030-06-03");
    expect_str(m, "schedule.last_date", "2030-06-03");
    assert_true(json_is_false(jreq(m, "schedule.regular")));
    along_match = json_incref(m);

    const json_int_t none[] = {req_late, req_reverse};
    for (size_t i = 0; i < NELEM(none); i++) {
        doc = TRIP(0, "Ok", "request", "matches", id_str(none[i]));
        if (jlen(doc, "matches") != 0)
            fail_msg("request %lld should match nothing: %s", (long long)none[i], dump(doc));
    }

    /* the regular request travels with the punctual offer on its one date, a Monday */
    doc = TRIP(0, "Ok", "request", "matches", id_str(req_regular));
    assert_int_equal(jlen(doc, "matches"), 1);
    m = jreq(doc, "matches.0");
    check_match(m, offer_main, req_regular, "2030-06-03T08:00:00+02:00", P30, P70);
    expect_str(m, "schedule.first_date", "2030-06-03");
    expect_str(m, "schedule.last_date", "2030-06-03");

    /* --limit 1 still finds it */
    doc = TRIP(0, "Ok", "request", "matches", id_str(req_along), "--limit", "1");
    assert_int_equal(jlen(doc, "matches"), 1);
}

/* `offer matches`: the requests along the route (punctual and regular), not the late or reverse one; the same
   match as seen from the request. */
static void test_offer_matches(void **state)
{
    (void)state;
    if (!along_match)
        skip();
    json_t *doc = TRIP(0, "Ok", "offer", "matches", id_str(offer_main));
    json_t *list = jreq(doc, "matches");
    int seen_along = 0, seen_regular = 0;
    size_t i;
    json_t *m;
    json_array_foreach(list, i, m)
    {
        expect_int(m, "offer_id", offer_main);
        json_int_t r = jint(m, "request_id");
        if (r == req_along) {
            seen_along++;
            static const char *const same[] = {"pickup",       "dropoff",       "detour",      "shared",
                                               "driver_total", "time_mismatch", "contribution"};
            for (size_t k = 0; k < NELEM(same); k++)
                if (!json_equal(jreq(m, same[k]), jreq(along_match, same[k])))
                    fail_msg("%s differs between offer matches (%s) and request matches (%s)", same[k],
                             dump(jreq(m, same[k])), dump(jreq(along_match, same[k])));
        } else if (r == req_regular) {
            seen_regular++;
        } else {
            fail_msg("offer %lld should not match request %lld: %s", (long long)offer_main, (long long)r, dump(doc));
        }
    }
    assert_int_equal(seen_along, 1);
    assert_int_equal(seen_regular, 1);
}

/* A booking's life: booked (pending, at the match's pickup), accepted (the offer gains two stops), shown,
   cancelled (the stops go); another booking refused, which cannot be accepted afterwards. */
static void test_booking_lifecycle(void **state)
{
    (void)state;
    if (!along_match)
        skip();
    json_t *doc = TRIP(0, "Ok", "book", id_str(offer_main), id_str(req_along));
    json_t *b = jreq(doc, "booking");
    booking_first = jint(b, "id");
    assert_true(booking_first > 0);
    expect_int(b, "offer_id", offer_main);
    expect_int(b, "request_id", req_along);
    expect_int(b, "seats", 1);
    expect_str(b, "status", "pending");
    /* the same place and time (the match's stops also say where they go among the offer's: key) */
    if (!json_equal(jreq(b, "pickup.location"), jreq(along_match, "pickup.location")) ||
        !json_equal(jreq(b, "pickup.time"), jreq(along_match, "pickup.time")) ||
        !json_equal(jreq(b, "dropoff.location"), jreq(along_match, "dropoff.location")) ||
        !json_equal(jreq(b, "dropoff.time"), jreq(along_match, "dropoff.time")))
        fail_msg("the booking's pickup/dropoff %s %s are not the match's %s %s", dump(jreq(b, "pickup")),
                 dump(jreq(b, "dropoff")), dump(jreq(along_match, "pickup")), dump(jreq(along_match, "dropoff")));
    (void)jtime(b, "pickup.time");
    assert_true(jnum(b, "contribution.amount") == jnum(along_match, "contribution.amount"));
    expect_str(b, "contribution.currency", "EUR");
    expect_int(b, "contribution.commission", 0);
    json_t *pickup = jreq(b, "pickup");

    /* a second booking of the same pair while this one is pending is refused */
    TRIP(1, "Conflict", "book", id_str(offer_main), id_str(req_along));

    booking_op("accept", booking_first, "accepted");

    json_t *o = offer_show(offer_main);
    expect_stop_kinds(o, "origin", "pickup", "dropoff", "destination", (const char *)NULL);
    expect_keys_increasing(o);
    expect_int(o, "stops.1.booking_id", booking_first);
    expect_int(o, "stops.1.seats_delta", 1);
    expect_int(o, "stops.2.booking_id", booking_first);
    expect_int(o, "stops.2.seats_delta", -1);
    if (!json_equal(jreq(o, "stops.1.location"), jreq(pickup, "location")))
        fail_msg("the pickup stop %s is not the booking's pickup %s", dump(jreq(o, "stops.1.location")), dump(pickup));
    assert_int_equal(jlen(o, "bookings"), 1);
    expect_int(o, "bookings.0.id", booking_first);
    expect_str(o, "bookings.0.status", "accepted");
    /* seats per date: one of them taken on the booking's one date */
    assert_int_equal(jlen(o, "seats_left"), 1);
    expect_str(o, "seats_left.0.date", json_string_value(jreq(o, "bookings.0.dates.first_date")));
    expect_int(o, "seats_left.0.seats_left", jint(o, "seats") - 1);
    expect_str(o, "stops.1.dates.first_date", json_string_value(jreq(o, "bookings.0.dates.first_date")));
    doc = TRIP(0, "Ok", "request", "show", id_str(req_along));
    assert_int_equal(jlen(doc, "request.bookings"), 1);
    expect_str(doc, "request.bookings.0.status", "accepted");

    doc = TRIP(0, "Ok", "booking", "show", id_str(booking_first));
    expect_str(doc, "booking.status", "accepted");
    expect_int(doc, "booking.offer_id", offer_main);
    if (!json_equal(jreq(doc, "booking.pickup"), pickup))
        fail_msg("booking show: pickup %s, booked %s", dump(jreq(doc, "booking.pickup")), dump(pickup));

    /* accepted twice: Conflict */
    booking_op_fails("accept", booking_first, "Conflict");

    booking_op("cancel", booking_first, "cancelled");
    o = offer_show(offer_main);
    expect_stop_kinds(o, "origin", "destination", (const char *)NULL);
    expect_str(o, "bookings.0.status", "cancelled");
    booking_op_fails("cancel", booking_first, "Conflict");
    booking_op_fails("accept", booking_first, "Conflict");

    /* booked again (the seat is free again), refused; a refused booking cannot be accepted */
    booking_refused = book(offer_main, req_along);
    assert_true(booking_refused != booking_first);
    booking_op("refuse", booking_refused, "refused");
    booking_op_fails("accept", booking_refused, "Conflict");
    booking_op_fails("refuse", booking_refused, "Conflict");
    expect_booking_status(booking_refused, "refused");
    o = offer_show(offer_main);
    expect_stop_kinds(o, "origin", "destination", (const char *)NULL);
    assert_int_equal(jlen(o, "bookings"), 2);

    /* reading needs no graph: show and list read the database alone; what routes asks for one */
    json_t *d = run_list(0, 0, "Ok", "booking", "show", id_str(booking_refused), "--db", DB, "--tz", TZ, NULL);
    expect_str(d, "booking.status", "refused");
    d = run_list(0, 0, "Ok", "offer", "show", id_str(offer_main), "--db", DB, "--tz", TZ, NULL);
    assert_int_equal(jlen(jreq(d, "offer"), "bookings"), 2);
    d = run_list(0, 0, "Ok", "request", "list", "--db", DB, "--tz", TZ, "--all", NULL);
    assert_true(jlen(d, "requests") >= 1);
    d = run_list(0, 2, "InvalidValue", "booking", "accept", id_str(booking_refused), "--db", DB, "--tz", TZ, NULL);
    assert_non_null(strstr(json_string_value(json_object_get(d, "message")), "--graph FILE is required"));
}

/* Two seats, three one-seat passengers on overlapping stretches, all booked first: the third acceptance finds
   no seat left. */
static void test_seats_run_out(void **state)
{
    (void)state;
    if (!offer_main)
        skip();
    offer_seats = add_punctual("offer", FROM, TO, "2030-06-04T08:00", "2");
    seat_req[0] = add_punctual("request", pt[P20], pt[P60], "2030-06-04T08:02", NULL);
    seat_req[1] = add_punctual("request", pt[P30], pt[P70], "2030-06-04T08:03", NULL);
    seat_req[2] = add_punctual("request", pt[P40], pt[P80], "2030-06-04T08:04", NULL);
    for (int i = 0; i < 3; i++)
        seat_booking[i] = book(offer_seats, seat_req[i]);
    booking_op("accept", seat_booking[0], "accepted");
    booking_op("accept", seat_booking[1], "accepted");
    booking_op_fails("accept", seat_booking[2], "Conflict");
    expect_booking_status(seat_booking[2], "pending");

    json_t *o = offer_show(offer_seats); /* checks the load stays within 2 */
    assert_int_equal(jlen(o, "stops"), 6);
    assert_int_equal(jlen(o, "bookings"), 3);

    /* with the middle stretch full, the third request no longer matches the offer */
    json_t *doc = TRIP(0, "Ok", "request", "matches", id_str(seat_req[2]));
    json_t *m;
    size_t i;
    json_array_foreach(jreq(doc, "matches"), i, m)
    {
        if (jint(m, "offer_id") == offer_seats)
            fail_msg("request %lld still matches the full offer %lld: %s", (long long)seat_req[2],
                     (long long)offer_seats, dump(doc));
    }

    /* a seat comes back when a passenger cancels: now the third one can be accepted */
    booking_op("cancel", seat_booking[0], "cancelled");
    booking_op("accept", seat_booking[2], "accepted");
    o = offer_show(offer_seats);
    assert_int_equal(jlen(o, "stops"), 6);
}

/* Two passengers booked while both pending, then accepted: one rides inside the other's stretch. The offer's
   stops must come in driving order (B's pickup at 20 %, A's at 40 %, A's drop-off at 60 %, B's at 80 %). */
static void test_accepted_together_stop_order(void **state)
{
    (void)state;
    if (!offer_main)
        skip();
    offer_together = add_punctual("offer", FROM, TO, "2030-06-05T08:00", "3");
    json_int_t a = add_punctual("request", pt[P40], pt[P60], "2030-06-05T08:04", NULL);
    json_int_t b = add_punctual("request", pt[P20], pt[P80], "2030-06-05T08:02", NULL);
    json_int_t ba = book(offer_together, a), bb = book(offer_together, b);
    booking_op("accept", ba, "accepted");
    booking_op("accept", bb, "accepted");
    json_t *o = offer_show(offer_together);
    assert_int_equal(jlen(o, "stops"), 6);
    expect_route_order(o);
    expect_keys_increasing(o);
    expect_stop_kinds(o, "origin", "pickup", "pickup", "dropoff", "dropoff", "destination", (const char *)NULL);
    expect_int(o, "stops.1.booking_id", bb);
    expect_int(o, "stops.2.booking_id", ba);
    expect_int(o, "stops.3.booking_id", ba);
    expect_int(o, "stops.4.booking_id", bb);
}

/* One seat, two passengers on stretches that do not overlap (20-40 % and 60-80 % of the route), both booked
   while pending: the driver can accept both, one after the other. */
static void test_disjoint_stretches_share_a_seat(void **state)
{
    (void)state;
    if (!offer_main)
        skip();
    offer_disjoint = add_punctual("offer", FROM, TO, "2030-06-06T08:00", "1");
    json_int_t a = add_punctual("request", pt[P20], pt[P40], "2030-06-06T08:02", NULL);
    json_int_t b = add_punctual("request", pt[P60], pt[P80], "2030-06-06T08:04", NULL);
    json_int_t ba = book(offer_disjoint, a), bb = book(offer_disjoint, b);
    booking_op("accept", ba, "accepted");
    booking_op("accept", bb, "accepted"); /* the seat is free again from 40 % on */
    json_t *o = offer_show(offer_disjoint);
    expect_stop_kinds(o, "origin", "pickup", "dropoff", "pickup", "dropoff", "destination", (const char *)NULL);
    expect_keys_increasing(o);
    expect_route_order(o);
}

/* What an operator gets wrong: each refused with its code and exit status, nothing stored. */
static void test_errors(void **state)
{
    (void)state;
    if (!offer_main)
        skip();
    json_t *offers = offer_list(1), *requests = request_list(1), *now;

    /* a point in the sea */
    TRIP(1, "NoSegment", "offer", "add", "--from", "7.45,43.70", "--to", TO, "--depart", "2030-06-03T08:00");
    TRIP(1, "NoSegment", "offer", "add", "--from", FROM, "--to", "7.45,43.70", "--depart", "2030-06-03T08:00");
    TRIP(1, "NoSegment", "request", "add", "--from", pt[P30], "--to", "7.45,43.70", "--depart", "2030-06-03T08:00");
    /* a departure in the past */
    TRIP(1, "InvalidValue", "offer", "add", "--from", FROM, "--to", TO, "--depart", "2030-05-31T08:00");
    TRIP(1, "InvalidValue", "request", "add", "--from", pt[P30], "--to", pt[P70], "--depart", "2030-05-31T08:00");
    /* bad values: usage errors */
    TRIP(2, "InvalidValue", "offer", "add", "--from", FROM, "--to", TO, "--depart", "2030-06-03T08:00", "--seats", "0");
    TRIP(2, "InvalidValue", "offer", "add", "--from", FROM, "--to", TO, "--weekdays", "funday", "--time", "08:00");
    TRIP(2, "InvalidValue", "request", "add", "--from", pt[P30], "--to", pt[P70], "--weekdays", "funday", "--time",
         "08:00");
    TRIP(2, "InvalidValue", "offer", "add", "--from", "7.4165", "--to", TO, "--depart", "2030-06-03T08:00");
    TRIP(2, "InvalidValue", "offer", "add", "--from", FROM, "--to", TO);
    /* the limits of docs/API.md, one step beyond each */
    TRIP(2, "InvalidValue", "offer", "add", "--from", FROM, "--to", TO, "--depart", "2030-06-03T08:00",
         "--max-detour-min", "1441");
    TRIP(2, "InvalidValue", "offer", "add", "--from", FROM, "--to", TO, "--depart", "2030-06-03T08:00",
         "--max-detour-km", "1001");
    TRIP(2, "InvalidValue", "offer", "add", "--from", FROM, "--to", TO, "--depart", "2030-06-03T08:00",
         "--price-per-km", "50");
    TRIP(2, "InvalidValue", "offer", "add", "--from", FROM, "--to", TO, "--depart", "2030-06-03T08:00",
         "--price-per-km", "1e-300");

    now = offer_list(1);
    if (!json_equal(now, offers))
        fail_msg("refused offers changed the store: before %s", dump(offers));
    now = request_list(1);
    if (!json_equal(now, requests))
        fail_msg("refused requests changed the store: before %s", dump(requests));

    /* unknown ids */
    booking_op_fails("show", 999999, "NotFound");
    booking_op_fails("accept", 999999, "NotFound");
    booking_op_fails("cancel", 999999, "NotFound");
    TRIP(1, "NotFound", "offer", "show", "999999");
    TRIP(1, "NotFound", "request", "matches", "999999");
    TRIP(1, "NotFound", "book", "999999", id_str(req_along));
    TRIP(2, "InvalidValue", "booking", "show", "abc");

    /* an offer cancelled twice */
    offer_spare = add_punctual("offer", FROM, TO, "2030-06-07T08:00", "2");
    json_t *doc = TRIP(0, "Ok", "offer", "cancel", id_str(offer_spare));
    expect_int(doc, "offer.id", offer_spare);
    expect_str(doc, "offer.status", "cancelled");
    TRIP(1, "Conflict", "offer", "cancel", id_str(offer_spare));

    /* no --db, no --graph */
    BARE(2, "InvalidValue", "offer", "list", "--graph", GRAPH, "--now", NOW, "--tz", TZ);
    BARE(2, "InvalidValue", "request", "add", "--graph", GRAPH, "--from", pt[P30], "--to", pt[P70], "--depart",
         "2030-06-03T08:03", "--now", NOW, "--tz", TZ);
    BARE(2, "InvalidValue", "book", "1", "1", "--db", DB, "--now", NOW, "--tz", TZ);

    /* `covoit key` reports its errors as the others do: a JSON document on stdout, the message on stderr; its
       times are ISO 8601 as the trips' are */
    BARE(2, "InvalidValue", "key", "add", "--db", DB, "--client", "x", "--scopes", "foo", "--tz", TZ);
    BARE(1, "NotFound", "key", "revoke", "999", "--db", DB, "--tz", TZ);
    BARE(0, "Ok", "key", "add", "--db", DB, "--client", "lister", "--scopes", "routing", "--tz", TZ);
    json_t *keys = BARE(0, "Ok", "key", "list", "--db", DB, "--tz", TZ);
    assert_true(json_is_string(json_object_get(json_array_get(json_object_get(keys, "keys"), 0), "created")));
}

/* After all of it, every process having opened the same store: the lists hold the offers and requests with
   their statuses; cancelling an offer cancels its bookings. */
static void test_lists_at_the_end(void **state)
{
    (void)state;
    if (!offer_main || !req_regular)
        skip();
    json_t *doc = TRIP(0, "Ok", "request", "cancel", id_str(req_late));
    expect_str(doc, "request.status", "cancelled");
    TRIP(1, "Conflict", "request", "cancel", id_str(req_late));

    json_t *open = offer_list(0), *all = offer_list(1);
    const json_int_t live[] = {offer_main, offer_seats, offer_together, offer_disjoint};
    for (size_t i = 0; i < NELEM(live); i++) {
        if (!live[i])
            continue;
        json_t *o = find_id(open, live[i]);
        if (!o)
            fail_msg("open offer %lld not in `offer list`: %s", (long long)live[i], dump(open));
        expect_str(o, "status", "open");
    }
    if (offer_spare) {
        if (find_id(open, offer_spare))
            fail_msg("cancelled offer %lld in `offer list`: %s", (long long)offer_spare, dump(open));
        json_t *o = find_id(all, offer_spare);
        if (!o)
            fail_msg("cancelled offer %lld not in `offer list --all`: %s", (long long)offer_spare, dump(all));
        expect_str(o, "status", "cancelled");
    }
    assert_int_equal(json_array_size(all), json_array_size(open) + (offer_spare ? 1 : 0));
    /* newest first: all were created at the same --now, so by id, descending */
    for (size_t i = 1; i < json_array_size(all); i++)
        assert_true(jint(json_array_get(all, i - 1), "id") > jint(json_array_get(all, i), "id"));
    expect_str(find_id(all, offer_main), "schedule.depart", "2030-06-03T08:00:00+02:00");

    open = request_list(0);
    all = request_list(1);
    if (find_id(open, req_late))
        fail_msg("cancelled request %lld in `request list`: %s", (long long)req_late, dump(open));
    expect_str(find_id(all, req_late), "status", "cancelled");
    const json_int_t reqs[] = {req_along, req_reverse, req_regular};
    for (size_t i = 0; i < NELEM(reqs); i++) {
        json_t *r = find_id(open, reqs[i]);
        if (!r)
            fail_msg("open request %lld not in `request list`: %s", (long long)reqs[i], dump(open));
        expect_str(r, "status", "open");
    }
    expect_str(find_id(all, req_regular), "schedule.type", "regular");
    assert_int_equal(json_array_size(all), json_array_size(open) + 1);

    /* the bookings kept their states */
    if (booking_first) {
        expect_booking_status(booking_first, "cancelled");
        expect_booking_status(booking_refused, "refused");
    }
    /* cancelling the offer with passengers cancels their bookings and takes it off the list */
    if (seat_booking[1]) {
        doc = TRIP(0, "Ok", "offer", "cancel", id_str(offer_seats));
        expect_str(doc, "offer.status", "cancelled");
        expect_booking_status(seat_booking[1], "cancelled");
        expect_booking_status(seat_booking[2], "cancelled");
        open = offer_list(0);
        if (find_id(open, offer_seats))
            fail_msg("cancelled offer %lld in `offer list`: %s", (long long)offer_seats, dump(open));
        all = offer_list(1);
        expect_str(find_id(all, offer_seats), "status", "cancelled");
        TRIP(1, "Conflict", "book", id_str(offer_seats), id_str(seat_req[0]));
    }
}

/* Every command ran at --now 2030-06-01T00:00: a booking's creation and update times are that time, like the
   offers' and requests' creation times. */
static void test_booking_times_follow_now(void **state)
{
    (void)state;
    if (!booking_first)
        skip();
    json_t *doc = TRIP(0, "Ok", "booking", "show", id_str(booking_first));
    expect_str(doc, "booking.created", NOW_ISO);
    expect_str(doc, "booking.updated", NOW_ISO);
}

/* The zone belongs to the database: created in Europe/Paris (the common --tz), it is read in that zone without
   --tz (the CLI's default, as the server's), refused in another, and converted on request: a regular 08:00 Paris
   commute in winter is 07:00 in UTC, the same instant. */
#define DB_ZONE COVOIT_TMP "/cli_trips_zone.db"
static void test_zone_belongs_to_the_database(void **state)
{
    (void)state;
    unlink(DB_ZONE);
    unlink(DB_ZONE "-wal");
    unlink(DB_ZONE "-shm");
    const char *common[] = {"--graph", GRAPH, "--db", DB_ZONE, "--now", "2030-01-01T00:00"};
    const char *add[] = {"offer",       "add",        "--from",  FROM,           "--to",         TO,
                         "--weekdays",  "mon",        "--time",  "08:00",        "--first-date", "2030-01-07",
                         "--last-date", "2030-02-25", "--tz",    "Europe/Paris", common[0],      common[1],
                         common[2],     common[3],    common[4], common[5]};
    json_t *doc = run_args(0, 0, "Ok", add, (int)NELEM(add));
    int64_t id = jint(doc, "offer.id");
    /* no --tz: the database's zone */
    const char *show[] = {"offer",   "show",    id_str(id), common[0], common[1],
                          common[2], common[3], common[4],  common[5]};
    doc = run_args(0, 0, "Ok", show, (int)NELEM(show));
    expect_str(doc, "offer.schedule.time", "08:00");
    /* another zone: refused, naming both */
    const char *utc[] = {"offer",   "show",    id_str(id), "--tz",    "UTC",    common[0],
                         common[1], common[2], common[3],  common[4], common[5]};
    doc = run_args(0, 1, "Conflict", utc, (int)NELEM(utc));
    const char *msg = json_string_value(jreq(doc, "message"));
    assert_non_null(strstr(msg, "zone Europe/Paris, not UTC"));
    /* the server says the same, before it starts */
    const char *serve[] = {"serve",       "--graph",         GRAPH, "--db", DB_ZONE, "--tz", "UTC", "--listen",
                           "127.0.0.1:0", "--hub-labels-mb", "0"};
    run_args(0, 1, NULL, serve, (int)NELEM(serve));
    assert_non_null(strstr(err_buf, "zone Europe/Paris, not UTC"));
    /* converted to UTC: the same instant, 07:00 in winter; the database now keeps UTC */
    const char *conv[] = {"offer",   "show",    id_str(id), "--tz",    "UTC",     "--convert-tz",
                          common[0], common[1], common[2],  common[3], common[4], common[5]};
    doc = run_args(0, 0, NULL, conv, (int)NELEM(conv));
    assert_non_null(strstr(err_buf, "from zone Europe/Paris to UTC"));
    json_error_t je;
    doc = keep(json_loads(out_buf, 0, &je));
    assert_non_null(doc);
    expect_str(doc, "offer.schedule.time", "07:00");
    expect_str(doc, "offer.schedule.weekdays", "mon");
    doc = run_args(0, 0, "Ok", show, (int)NELEM(show));
    expect_str(doc, "offer.schedule.time", "07:00");
    const char *paris[] = {"offer",   "show",    id_str(id), "--tz",    "Europe/Paris", common[0],
                           common[1], common[2], common[3],  common[4], common[5]};
    run_args(0, 1, "Conflict", paris, (int)NELEM(paris));
    /* a bad zone is a usage error */
    const char *bad[] = {"offer",   "show",    id_str(id), "--tz",    "Mars/Olympus", common[0],
                         common[1], common[2], common[3],  common[4], common[5]};
    run_args(0, 2, "InvalidValue", bad, (int)NELEM(bad));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_offer_add, release),
        cmocka_unit_test_teardown(test_requests_add, release),
        cmocka_unit_test_teardown(test_request_matches, release),
        cmocka_unit_test_teardown(test_offer_matches, release),
        cmocka_unit_test_teardown(test_booking_lifecycle, release),
        cmocka_unit_test_teardown(test_seats_run_out, release),
        cmocka_unit_test_teardown(test_accepted_together_stop_order, release),
        cmocka_unit_test_teardown(test_disjoint_stretches_share_a_seat, release),
        cmocka_unit_test_teardown(test_errors, release),
        cmocka_unit_test_teardown(test_lists_at_the_end, release),
        cmocka_unit_test_teardown(test_booking_times_follow_now, release),
        cmocka_unit_test_teardown(test_zone_belongs_to_the_database, release),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
