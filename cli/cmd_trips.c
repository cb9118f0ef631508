/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* cmd_trips.c — the operator and scripting commands of the matcher: `covoit offer|request add|list|show|cancel|
   matches`, `covoit book`, `covoit booking accept|refuse|cancel|show`. Each opens the graph and the trip store,
   does one thing and prints exactly one JSON document on stdout: {"code":"Ok", ...}, or {"code","message"} on
   error with the message also on stderr (exit 1, or 2 for usage errors). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "matcher/timeutil.h"
#include "util/cv_parse.h"

/* ------------------------------------------------------------------------------------------------ usage --- */

static const char common_help[] =
    "Every command takes:\n"
    "  --graph FILE      the routing graph (from `covoit import`); required, but by show and list, which read\n"
    "                    the database alone\n"
    "  --db FILE         the trip store (SQLite, created when missing), required\n"
    "  --tz ZONE         the time zone (TZ database name; default $COVOIT_TZ, else the zone the database keeps,\n"
    "                    else UTC): times without an offset and regular schedules are local to it; a database\n"
    "                    records its zone when created and is refused in another\n"
    "  --convert-tz      convert the database to --tz first (regular schedules keep their first instant)\n"
    "  --now ISO-8601    pretend the current time is this (tests and scripts; default: the clock)\n\n"
    "Output: one JSON document on stdout, {\"code\":\"Ok\",...}; on error {\"code\",\"message\"} (codes InvalidValue,\n"
    "NoSegment, NoRoute, NotFound, Conflict, Error), the message also on stderr, exit 1 (2 for usage errors).\n"
    "Durations are in seconds, distances in metres, money in euros (no commission).\n";

static const char trip_flags_help[] =
    "  --from LON,LAT --to LON,LAT      where the trip starts and ends (decimal degrees, lon first)\n"
    "  --depart ISO-8601                a single trip (e.g. 2030-06-03T08:00, local unless it has an offset), or\n"
    "  --weekdays mon,tue,... --time HH:MM [--first-date DATE] [--last-date DATE]\n"
    "                                   every week on those days (also weekdays, weekend, daily); from today\n"
    "                                   (default) to a year later (default)\n"
    "  --margin MINUTES                 flexibility around the time, +- (default 15)\n"
    "  --owner REF                      the owner's reference on the calling platform (default \"cli\")\n";

static void offer_usage(FILE *f)
{
    fprintf(f,
            "usage: covoit offer add --graph FILE --db FILE --from LON,LAT --to LON,LAT\n"
            "                        (--depart ISO-8601 | --weekdays DAYS --time HH:MM [--first-date DATE]\n"
            "                        [--last-date DATE]) [--via LON,LAT]... [--margin MIN] [--seats N]\n"
            "                        [--max-detour-min MIN] [--max-detour-km KM] [--price-per-km EUR] [--owner REF]\n"
            "       covoit offer list --db FILE [--owner REF] [--all]\n"
            "       covoit offer show ID --db FILE\n"
            "       covoit offer cancel ID --graph FILE --db FILE\n"
            "       covoit offer matches ID --graph FILE --db FILE [--limit N]\n\n"
            "Drivers' offers. `add` checks, snaps and stores an offer and prints it with its id and direct route;\n"
            "`list` prints the open offers (all with --all), newest first; `show` one offer with its stops and\n"
            "bookings; `cancel` cancels it (and its bookings); `matches` the open requests it can serve, best\n"
            "first.\n\n"
            "add:\n%s"
            "  --via LON,LAT                    a point the driver goes through (repeatable, at most %d, in order)\n"
            "  --seats N                        seats offered (default %d)\n"
            "  --max-detour-min MIN             longest detour accepted, minutes (default +%d%% of the direct route)\n"
            "  --max-detour-km KM               longest detour accepted, km (default +%d%% of the direct route)\n"
            "  --price-per-km EUR               contribution per km (default: the server's)\n\n%s",
            trip_flags_help, CV_MAX_VIAS, CV_DEFAULT_SEATS, CV_DEFAULT_DETOUR_PERCENT, CV_DEFAULT_DETOUR_PERCENT,
            common_help);
}

static void request_usage(FILE *f)
{
    fprintf(f,
            "usage: covoit request add --graph FILE --db FILE --from LON,LAT --to LON,LAT\n"
            "                          (--depart ISO-8601 | --weekdays DAYS --time HH:MM [--first-date DATE]\n"
            "                          [--last-date DATE]) [--margin MIN] [--seats N] [--owner REF]\n"
            "       covoit request list --db FILE [--owner REF] [--all]\n"
            "       covoit request show ID --db FILE\n"
            "       covoit request cancel ID --graph FILE --db FILE\n"
            "       covoit request matches ID --graph FILE --db FILE [--limit N]\n\n"
            "Passengers' requests. `add` checks, snaps and stores a request (the time is the wished pickup);\n"
            "`list` prints the open requests (all with --all), newest first; `show` one request; `cancel` cancels\n"
            "it; `matches` the open offers it can join, best first (smallest detour, then time mismatch).\n\n"
            "add:\n%s"
            "  --seats N                        seats needed (default 1)\n\n%s",
            trip_flags_help, common_help);
}

static void book_usage(FILE *f)
{
    fprintf(f,
            "usage: covoit book OFFER_ID REQUEST_ID --graph FILE --db FILE\n\n"
            "Books the request's seats on the offer: the pair must match now. Prints the pending booking with\n"
            "its pickup, drop-off and contribution; the driver then accepts or refuses it (`covoit booking`).\n\n%s",
            common_help);
}

static void booking_usage(FILE *f)
{
    fprintf(f,
            "usage: covoit booking accept|refuse|cancel ID --graph FILE --db FILE\n"
            "       covoit booking show ID --db FILE\n\n"
            "accept: the driver accepts a pending booking (Conflict when no seat is left on its legs);\n"
            "refuse: the driver refuses a pending booking; cancel: either side cancels a pending or accepted\n"
            "booking (the seats come back); show: prints it. Prints the booking after the change.\n\n%s",
            common_help);
}

/* ------------------------------------------------------------------------------------------------ errors --- */

static int usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static int usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cli_fail(CV_EINVAL, CLI_USAGE, "%s (see `covoit %s --help`)", msg, cmd);
}

/* ------------------------------------------------------------------------------------------------ options --- */

/* Which flags a command accepts, besides --graph, --db, --tz and --now. */
enum {
    OPT_TRIP = 1 << 0,  /* --from --to --depart --weekdays --time --first-date --last-date --margin --seats --owner */
    OPT_OFFER = 1 << 1, /* --via --max-detour-min --max-detour-km --price-per-km */
    OPT_LIST = 1 << 2,  /* --owner --all */
    OPT_LIMIT = 1 << 3  /* --limit */
};

#define MAX_POSITIONAL 3

typedef struct trip_args {
    const char *graph, *db, *tz, *now;
    const char *from, *to, *depart, *weekdays, *time, *first_date, *last_date;
    const char *vias[CV_MAX_VIAS];
    int nvias;
    const char *margin, *seats, *max_detour_min, *max_detour_km, *price, *owner, *limit;
    int all, convert_tz;
    const char *pos[MAX_POSITIONAL];
    int npos;
} trip_args;

/* The slot of a flag that takes a value, or NULL when cmd does not take it. */
static const char **value_slot(trip_args *a, const char *name, unsigned allowed)
{
    static const struct {
        const char *name;
        unsigned group;
        size_t offset;
    } flags[] = {
        {"--graph", 0, offsetof(trip_args, graph)},
        {"--db", 0, offsetof(trip_args, db)},
        {"--tz", 0, offsetof(trip_args, tz)},
        {"--now", 0, offsetof(trip_args, now)},
        {"--from", OPT_TRIP, offsetof(trip_args, from)},
        {"--to", OPT_TRIP, offsetof(trip_args, to)},
        {"--depart", OPT_TRIP, offsetof(trip_args, depart)},
        {"--weekdays", OPT_TRIP, offsetof(trip_args, weekdays)},
        {"--time", OPT_TRIP, offsetof(trip_args, time)},
        {"--first-date", OPT_TRIP, offsetof(trip_args, first_date)},
        {"--last-date", OPT_TRIP, offsetof(trip_args, last_date)},
        {"--margin", OPT_TRIP, offsetof(trip_args, margin)},
        {"--seats", OPT_TRIP, offsetof(trip_args, seats)},
        {"--owner", OPT_TRIP | OPT_LIST, offsetof(trip_args, owner)},
        {"--max-detour-min", OPT_OFFER, offsetof(trip_args, max_detour_min)},
        {"--max-detour-km", OPT_OFFER, offsetof(trip_args, max_detour_km)},
        {"--price-per-km", OPT_OFFER, offsetof(trip_args, price)},
        {"--limit", OPT_LIMIT, offsetof(trip_args, limit)},
    };
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++)
        if (!strcmp(name, flags[i].name) && (!flags[i].group || (flags[i].group & allowed)))
            return (const char **)((char *)a + flags[i].offset);
    return NULL;
}

/* Parses argv[first..argc) into *a. Returns -1 when help was asked, 0, or an exit status after reporting. */
static int parse_args(int argc, char **argv, int first, unsigned allowed, int max_pos, const char *cmd, trip_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = first; i < argc; i++) {
        const char *arg = argv[i];
        const char **slot;
        if (cli_is_help(arg))
            return -1;
        if (!strcmp(arg, "--all") && (allowed & OPT_LIST)) {
            a->all = 1;
        } else if (!strcmp(arg, "--convert-tz")) {
            a->convert_tz = 1;
        } else if (!strcmp(arg, "--via") && (allowed & OPT_OFFER)) {
            if (i + 1 >= argc)
                return usage_error(cmd, "--via needs a value");
            if (a->nvias >= CV_MAX_VIAS)
                return cli_fail(CV_EINVAL, CLI_USAGE, "--via: at most %d via points", CV_MAX_VIAS);
            a->vias[a->nvias++] = argv[++i];
        } else if (arg[0] == '-' && arg[1] && (slot = value_slot(a, arg, allowed))) {
            if (i + 1 >= argc)
                return usage_error(cmd, "%s needs a value", arg);
            if (*slot)
                return usage_error(cmd, "%s given twice", arg);
            *slot = argv[++i];
        } else if (arg[0] == '-' && arg[1]) {
            return usage_error(cmd, "unknown option '%.200s'", arg);
        } else if (a->npos < max_pos) {
            a->pos[a->npos++] = arg;
        } else {
            return usage_error(cmd, "unexpected argument '%.200s'", arg);
        }
    }
    if (a->npos < max_pos)
        return usage_error(cmd, "missing argument%s", max_pos - a->npos > 1 ? "s" : "");
    if (!a->db)
        return usage_error(cmd, "--db FILE is required");
    return 0;
}

/* A decimal number in [lo, hi]. */
static int parse_number(const char *text, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (!*text || *end || errno || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_id(const char *cmd, const char *what, const char *text, int64_t *id)
{
    long long v;
    if (cv_parse_integer(text, 1, INT64_MAX, &v))
        return usage_error(cmd, "%s '%.100s' is not an id (a positive integer)", what, text);
    *id = (int64_t)v;
    return 0;
}

static int parse_coord(const char *flag, const char *text, cv_coord *c)
{
    if (cv_parse_lonlat(text, c))
        return cli_fail(CV_EINVAL, CLI_USAGE, "%s: '%.200s' is not a coordinate: give LON,LAT in decimal degrees", flag,
                        text);
    return 0;
}

/* --depart, or --weekdays/--time/--first-date/--last-date, and --margin, into *s. */
static int parse_schedule(const char *cmd, const trip_args *a, int64_t now, cv_schedule *s)
{
    cv_error err = {0};
    memset(s, 0, sizeof *s);
    double margin_min = CV_DEFAULT_MARGIN_S / 60.0;
    if (a->margin && parse_number(a->margin, 0, 100000, &margin_min))
        return cli_fail(CV_EINVAL, CLI_USAGE, "--margin: '%.100s' is not a number of minutes (0 or more)", a->margin);
    s->margin_s = (int32_t)lround(margin_min * 60.0);
    if (a->depart) {
        if (a->weekdays || a->time || a->first_date || a->last_date)
            return usage_error(cmd, "give either --depart or --weekdays with --time, not both");
        s->kind = CV_PUNCTUAL;
        if (cv_parse_datetime(a->depart, &s->depart, &err))
            return cli_fail(CV_EINVAL, CLI_USAGE, "--depart: %s", err.text);
        return 0;
    }
    if (!a->weekdays && !a->time)
        return usage_error(cmd, "--depart, or --weekdays with --time, is required");
    if (!a->weekdays || !a->time)
        return usage_error(cmd, "--weekdays and --time go together");
    s->kind = CV_REGULAR;
    if (cv_parse_weekdays(a->weekdays, &s->weekdays, &err))
        return cli_fail(CV_EINVAL, CLI_USAGE, "--weekdays: %s", err.text);
    if (cv_parse_time_of_day(a->time, &s->time_of_day, &err))
        return cli_fail(CV_EINVAL, CLI_USAGE, "--time: %s", err.text);
    if (a->first_date) {
        if (cv_parse_date(a->first_date, &s->first_day, &err))
            return cli_fail(CV_EINVAL, CLI_USAGE, "--first-date: %s", err.text);
    } else {
        cv_utc_to_local(now, &s->first_day, NULL, NULL);
    }
    if (a->last_date) {
        if (cv_parse_date(a->last_date, &s->last_day, &err))
            return cli_fail(CV_EINVAL, CLI_USAGE, "--last-date: %s", err.text);
    } else {
        s->last_day = s->first_day + 365;
    }
    return 0;
}

static int parse_owner(const trip_args *a, char owner[CV_OWNER_MAX])
{
    const char *v = a->owner ? a->owner : "cli";
    if (!*v || strlen(v) >= CV_OWNER_MAX)
        return cli_fail(CV_EINVAL, CLI_USAGE, "--owner: must be 1 to %d bytes", CV_OWNER_MAX - 1);
    memcpy(owner, v, strlen(v) + 1);
    return 0;
}

static int parse_seats(const trip_args *a, int dflt, int *seats)
{
    long long v = dflt;
    if (a->seats && cv_parse_integer(a->seats, 1, 1000, &v))
        return cli_fail(CV_EINVAL, CLI_USAGE, "--seats: '%.100s' is not a number of seats (1 or more)", a->seats);
    *seats = (int)v;
    return 0;
}

/* --------------------------------------------------------------------------------------------- the session --- */

/* What a command opens: the graph, the matcher over the store, a workspace; or, for a command that only reads the
   database (show, list) and is given no graph, the store alone. */
typedef struct session {
    cv_graph *g;
    cv_matcher *m;
    cv_matcher_ws *ws;
    cv_store *store;
    cv_store *own_store; /* opened without a matcher */
    int64_t now;
} session;

static void session_close(session *s)
{
    cv_matcher_ws_free(s->ws);
    cv_matcher_close(s->m);
    cv_graph_close(s->g);
    cv_store_close(s->own_store);
    memset(s, 0, sizeof *s);
}

int cli_zone(const char *tz, const char *db, int convert, const char *option, char *why, size_t cap)
{
    cv_error err = {0};
    char kept[CV_ZONE_MAX] = "";
    if (db && cv_store_zone(db, kept, &err)) {
        snprintf(why, cap, "%s", err.text);
        return CLI_FAIL;
    }
    if (!tz || !*tz)
        tz = getenv("COVOIT_TZ");
    if (!tz || !*tz)
        tz = kept[0] ? kept : NULL; /* the database's own zone is the default: the CLI and the server agree */
    if (cv_tz_set(tz, &err)) {
        snprintf(why, cap, "%s: %s", option, err.text);
        return CLI_USAGE;
    }
    if (convert && !db) {
        snprintf(why, cap, "--convert-tz needs --db FILE");
        return CLI_USAGE;
    }
    if (convert && kept[0] && strcmp(kept, cv_tz_name()) != 0) {
        if (cv_store_convert_zone(db, kept, &err)) {
            snprintf(why, cap, "%s", err.text);
            return CLI_FAIL;
        }
        fprintf(stderr, "covoit: converted %s from zone %s to %s\n", db, kept, cv_tz_name());
    }
    return 0;
}

/* Sets the time zone and the current time; done first, before any date is parsed. */
static int session_clock(const trip_args *a, int64_t *now)
{
    cv_error err = {0};
    char why[600];
    int st = cli_zone(a->tz, a->db, a->convert_tz, "--tz", why, sizeof why);
    if (st)
        return cli_fail(st == CLI_USAGE ? CV_EINVAL : CV_EZONE, st, "%s", why);
    *now = (int64_t)time(NULL);
    if (a->now && cv_parse_datetime(a->now, now, &err))
        return cli_fail(CV_EINVAL, CLI_USAGE, "--now: %s", err.text);
    return 0;
}

static int session_open(const trip_args *a, int64_t now, int read_only, session *s)
{
    cv_error err = {0};
    memset(s, 0, sizeof *s);
    s->now = now;
    if (!a->graph && read_only) {
        int rc = cv_store_open(a->db, &s->own_store, &err);
        if (rc)
            return cli_fail(rc, CLI_FAIL, "%s", err.text);
        s->store = s->own_store;
        return 0;
    }
    if (!a->graph)
        return cli_fail(CV_EINVAL, CLI_USAGE,
                        "--graph FILE is required: this command routes (show and list read the "
                        "database alone and need none)");
    if (!(s->g = cv_graph_open(a->graph, &err)))
        return cli_fail(err.code, CLI_FAIL, "%s", err.text);
    cv_matcher_options opt = cv_matcher_defaults();
    int rc = cv_matcher_open(s->g, a->db, &opt, now, &s->m, &err);
    if (rc) {
        s->m = NULL;
        session_close(s);
        return cli_fail(rc, CLI_FAIL, "%s", err.text);
    }
    if (!(s->ws = cv_matcher_ws_new(s->m, &err))) {
        session_close(s);
        return cli_fail(err.code ? err.code : CV_ENOMEM, CLI_FAIL, "%s", err.code ? err.text : "out of memory");
    }
    s->store = cv_matcher_store(s->ws);
    cv_store_set_clock(s->store, now); /* every change is stamped with --now */
    return 0;
}

/* Prints {"code":"Ok", key: value} (value stolen); CLI_OK, or CLI_FAIL when value is NULL (out of memory). */
static int print_ok(const char *key, json_t *value)
{
    if (!value)
        return cli_fail(CV_ENOMEM, CLI_FAIL, "out of memory");
    cli_print_json(json_pack("{s:s,s:o}", "code", osrm_word(OSRM_OK), key, value));
    return CLI_OK;
}

/* ------------------------------------------------------------------------------------------ offer, request --- */

typedef enum trip_kind { KIND_OFFER, KIND_REQUEST } trip_kind;

static int trip_add(trip_kind kind, const trip_args *a, int64_t now)
{
    const char *cmd = kind == KIND_OFFER ? "offer" : "request";
    cv_offer o;
    cv_request r;
    memset(&o, 0, sizeof o);
    memset(&r, 0, sizeof r);
    cv_coord from, to;
    cv_schedule when;
    char owner[CV_OWNER_MAX];
    int seats = 0, st;
    if (!a->from || !a->to)
        return usage_error(cmd, "--from and --to are required");
    if ((st = parse_coord("--from", a->from, &from)) || (st = parse_coord("--to", a->to, &to)) ||
        (st = parse_schedule(cmd, a, now, &when)) || (st = parse_owner(a, owner)) ||
        (st = parse_seats(a, kind == KIND_OFFER ? CV_DEFAULT_SEATS : 1, &seats)))
        return st;
    if (kind == KIND_OFFER) {
        o.from = from;
        o.to = to;
        o.when = when;
        o.seats = seats;
        memcpy(o.owner, owner, sizeof owner);
        o.status = CV_TRIP_OPEN;
        o.max_detour_s = -1;
        o.max_detour_m = -1;
        o.price_per_km = -1;
        o.created = now; /* the store keeps a given creation time (else its clock): --now holds for it too */
        for (int i = 0; i < a->nvias; i++)
            if ((st = parse_coord("--via", a->vias[i], &o.vias[i])))
                return st;
        o.nvias = a->nvias;
        double v;
        if (a->max_detour_min) {
            if (parse_number(a->max_detour_min, 0, CV_MAX_DETOUR_MIN, &v))
                return cli_fail(CV_EINVAL, CLI_USAGE, "--max-detour-min: '%.100s' is not a number of minutes (0 to %d)",
                                a->max_detour_min, CV_MAX_DETOUR_MIN);
            o.max_detour_s = (int32_t)lround(v * 60.0);
        }
        if (a->max_detour_km) {
            if (parse_number(a->max_detour_km, 0, CV_MAX_DETOUR_KM, &v))
                return cli_fail(CV_EINVAL, CLI_USAGE, "--max-detour-km: '%.100s' is not a distance in km (0 to %d)",
                                a->max_detour_km, CV_MAX_DETOUR_KM);
            o.max_detour_m = (int32_t)lround(v * 1000.0);
        }
        if (a->price) {
            if (parse_number(a->price, CV_MIN_PRICE_PER_KM, CV_MAX_PRICE_PER_KM, &v))
                return cli_fail(
                    CV_EINVAL, CLI_USAGE,
                    "--price-per-km: '%.100s' is not an amount of euros from %g to %g (leave it out for the "
                    "server's rate)",
                    a->price, CV_MIN_PRICE_PER_KM, CV_MAX_PRICE_PER_KM);
            o.price_per_km = v;
        }
    } else {
        r.from = from;
        r.to = to;
        r.when = when;
        r.seats = seats;
        memcpy(r.owner, owner, sizeof owner);
        r.status = CV_TRIP_OPEN;
        r.created = now;
    }

    session s;
    if ((st = session_open(a, now, 0, &s)))
        return st;
    cv_error err = {0};
    int rc;
    json_t *obj = NULL;
    if (kind == KIND_OFFER) {
        rc = cv_matcher_add_offer(s.ws, &o, now, &err);
        if (!rc) /* print what the store holds */
            rc = cv_store_get_offer(s.store, o.id, &o, &err);
        if (!rc)
            obj = trip_json_offer(&o);
    } else {
        rc = cv_matcher_add_request(s.ws, &r, now, &err);
        if (!rc)
            rc = cv_store_get_request(s.store, r.id, &r, &err);
        if (!rc)
            obj = trip_json_request(&r);
    }
    st = rc ? cli_fail(rc, CLI_FAIL, "%s", err.text) : print_ok(cmd, obj);
    session_close(&s);
    return st;
}

static int trip_list(trip_kind kind, const trip_args *a, int64_t now)
{
    session s;
    int st;
    if ((st = session_open(a, now, 1, &s)))
        return st;
    cv_error err = {0};
    int rc = 0;
    json_t *list = trip_json_list(s.store, kind == KIND_OFFER, a->owner, !a->all, &rc, &err);
    if (rc)
        st = cli_fail(rc, CLI_FAIL, "%s", err.text);
    else
        st = print_ok(kind == KIND_OFFER ? "offers" : "requests", list);
    session_close(&s);
    return st;
}

/* show (cancel = 0) or cancel (cancel = 1) one offer or request. */
static int trip_show(trip_kind kind, const trip_args *a, int64_t now, int cancel)
{
    const char *cmd = kind == KIND_OFFER ? "offer" : "request";
    int64_t id = 0;
    int st;
    if ((st = parse_id(cmd, cmd, a->pos[0], &id)))
        return st;
    session s;
    if ((st = session_open(a, now, !cancel, &s)))
        return st;
    cv_error err = {0};
    int rc = 0;
    json_t *obj = NULL;
    if (kind == KIND_OFFER) {
        cv_offer o;
        if (cancel)
            rc = cv_matcher_cancel_offer(s.ws, id, &err);
        if (!rc)
            rc = cv_store_get_offer(s.store, id, &o, &err);
        if (!rc)
            obj = cancel ? trip_json_offer(&o) : trip_json_offer_detail(s.store, &o, now, &rc, &err);
    } else {
        cv_request r;
        if (cancel)
            rc = cv_matcher_cancel_request(s.ws, id, &err);
        if (!rc)
            rc = cv_store_get_request(s.store, id, &r, &err);
        if (!rc)
            obj = cancel ? trip_json_request(&r) : trip_json_request_detail(s.store, &r, &rc, &err);
    }
    st = rc ? cli_fail(rc, CLI_FAIL, "%s", err.text) : print_ok(cmd, obj);
    session_close(&s);
    return st;
}

static int trip_matches(trip_kind kind, const trip_args *a, int64_t now)
{
    const char *cmd = kind == KIND_OFFER ? "offer" : "request";
    int64_t id = 0;
    long long limit = 0;
    int st;
    if ((st = parse_id(cmd, cmd, a->pos[0], &id)))
        return st;
    if (a->limit && cv_parse_integer(a->limit, 1, 100000, &limit))
        return cli_fail(CV_EINVAL, CLI_USAGE, "--limit: '%.100s' is not a count (1 to 100000)", a->limit);
    session s;
    if ((st = session_open(a, now, 0, &s)))
        return st;
    cv_error err = {0};
    cv_match *v = NULL;
    size_t n = 0;
    int rc = kind == KIND_OFFER ? cv_matcher_offer_matches(s.ws, id, now, (int)limit, &v, &n, &err)
                                : cv_matcher_request_matches(s.ws, id, now, (int)limit, &v, &n, &err);
    if (rc) {
        st = cli_fail(rc, CLI_FAIL, "%s", err.text);
    } else {
        st = print_ok("matches", trip_json_matches(v, n));
    }
    free(v);
    session_close(&s);
    return st;
}

static int cmd_trip(trip_kind kind, int argc, char **argv)
{
    const char *cmd = kind == KIND_OFFER ? "offer" : "request";
    void (*usage)(FILE *) = kind == KIND_OFFER ? offer_usage : request_usage;
    if (argc < 2) {
        usage(stderr);
        return cli_fail(CV_EINVAL, CLI_USAGE, "%s: missing action (add, list, show, cancel or matches)", cmd);
    }
    const char *action = argv[1];
    if (cli_is_help(action) || !strcmp(action, "help")) {
        usage(stdout);
        return CLI_OK;
    }
    unsigned allowed;
    int npos;
    if (!strcmp(action, "add"))
        allowed = OPT_TRIP | (kind == KIND_OFFER ? OPT_OFFER : 0), npos = 0;
    else if (!strcmp(action, "list"))
        allowed = OPT_LIST, npos = 0;
    else if (!strcmp(action, "show") || !strcmp(action, "cancel"))
        allowed = 0, npos = 1;
    else if (!strcmp(action, "matches"))
        allowed = OPT_LIMIT, npos = 1;
    else
        return usage_error(cmd, "unknown action '%.100s' (add, list, show, cancel or matches)", action);

    trip_args a;
    int64_t now = 0;
    int st = parse_args(argc, argv, 2, allowed, npos, cmd, &a);
    if (st < 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (st || (st = session_clock(&a, &now)))
        return st;
    if (!strcmp(action, "add"))
        return trip_add(kind, &a, now);
    if (!strcmp(action, "list"))
        return trip_list(kind, &a, now);
    if (!strcmp(action, "show"))
        return trip_show(kind, &a, now, 0);
    if (!strcmp(action, "cancel"))
        return trip_show(kind, &a, now, 1);
    return trip_matches(kind, &a, now);
}

int cmd_offer(int argc, char **argv)
{
    return cmd_trip(KIND_OFFER, argc, argv);
}

int cmd_request(int argc, char **argv)
{
    return cmd_trip(KIND_REQUEST, argc, argv);
}

/* ---------------------------------------------------------------------------------------- book, booking --- */

/* Reads booking id and prints it. */
static int print_booking(session *s, int64_t id)
{
    cv_error err = {0};
    cv_booking b;
    int rc = cv_store_get_booking(s->store, id, &b, &err);
    if (rc)
        return cli_fail(rc, CLI_FAIL, "%s", err.text);
    return print_ok("booking", trip_json_booking(&b));
}

int cmd_book(int argc, char **argv)
{
    trip_args a;
    int64_t now = 0, offer_id = 0, request_id = 0;
    int st = parse_args(argc, argv, 1, 0, 2, "book", &a);
    if (st < 0) {
        book_usage(stdout);
        return CLI_OK;
    }
    if (st || (st = session_clock(&a, &now)) || (st = parse_id("book", "offer", a.pos[0], &offer_id)) ||
        (st = parse_id("book", "request", a.pos[1], &request_id)))
        return st;
    session s;
    if ((st = session_open(&a, now, 0, &s)))
        return st;
    cv_error err = {0};
    cv_booking b;
    int rc = cv_matcher_book(s.ws, offer_id, request_id, now, &b, &err);
    st = rc ? cli_fail(rc, CLI_FAIL, "%s", err.text) : print_booking(&s, b.id);
    session_close(&s);
    return st;
}

int cmd_booking(int argc, char **argv)
{
    if (argc < 2) {
        booking_usage(stderr);
        return cli_fail(CV_EINVAL, CLI_USAGE, "booking: missing action (accept, refuse, cancel or show)");
    }
    const char *action = argv[1];
    if (cli_is_help(action) || !strcmp(action, "help")) {
        booking_usage(stdout);
        return CLI_OK;
    }
    cv_booking_action act = CV_ACT_ACCEPT;
    int show = !strcmp(action, "show");
    if (!show && cv_booking_action_parse(action, &act))
        return usage_error("booking", "unknown action '%.100s' (accept, refuse, cancel or show)", action);

    trip_args a;
    int64_t now = 0, id = 0;
    int st = parse_args(argc, argv, 2, 0, 1, "booking", &a);
    if (st < 0) {
        booking_usage(stdout);
        return CLI_OK;
    }
    if (st || (st = session_clock(&a, &now)) || (st = parse_id("booking", "booking", a.pos[0], &id)))
        return st;
    session s;
    if ((st = session_open(&a, now, show, &s)))
        return st;
    cv_error err = {0};
    int rc = show ? 0 : cv_matcher_act(s.ws, act, id, now, &err);
    st = rc ? cli_fail(rc, CLI_FAIL, "%s", err.text) : print_booking(&s, id);
    session_close(&s);
    return st;
}
