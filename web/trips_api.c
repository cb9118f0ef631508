/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* trips_api.c — the carpool API under /v1: offers, requests, matches, search and bookings as JSON, over the
   matcher with one workspace per worker thread. Bodies are parsed with jansson into the matcher's structs (the
   same ones the CLI fills), checked by the matcher, and answered with the shared builders of trip_json.c. Errors
   are {"code","message"}: InvalidValue, NoSegment and NoRoute 400, NotFound 404, Conflict 409; a refused request
   writes nothing. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "web/osrm_json.h"
#include "matcher/timeutil.h"
#include "web/proofs.h"
#include "web/trip_json.h"
#include "web/web_int.h"
#include "util/cv_parse.h"

#define BAD MHD_HTTP_BAD_REQUEST
#define V1_MAX_LIMIT 1000

/* --- answers --- */

static int status_of(int code)
{
    switch (code) {
    case CV_EINVAL:
    case CV_ENOSEGMENT:
    case CV_ENOROUTE:
        return MHD_HTTP_BAD_REQUEST;
    case CV_ENOTFOUND:
        return MHD_HTTP_NOT_FOUND;
    case CV_ECONFLICT:
        return MHD_HTTP_CONFLICT;
    case CV_EBUSY:
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    default:
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
}

/* The answer to a failed matcher or store call. */
static int fail(web_req *r, int code, const cv_error *err)
{
    if (code == CV_EBUSY)
        r->retry_after = 1; /* another process held the database's write lock for the whole busy timeout */
    if (status_of(code) >= 500) {
        cv_log("error", "%s %s: %s", r->method, r->path, err->text);
        web_count_db_error(r);
    }
    return web_error(r, status_of(code), trip_json_code(code), "%s", err->text);
}

/* {"code":"Ok", key: value} (value taken; NULL means out of memory) with status 200 or 201. */
static int ok(web_req *r, int created, const char *key, json_t *value)
{
    json_t *doc = value ? json_pack("{s:s,s:o}", "code", osrm_word(OSRM_OK), key, value) : NULL;
    return created ? web_created(r, doc) : web_ok(r, doc);
}

static int invalid(web_req *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static int invalid(web_req *r, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return web_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "%s", msg);
}

/* --- query arguments --- */

/* ?limit=N, or 0 (the server's cap) when absent. */
static int parse_limit(web_req *r, int *limit)
{
    const char *v = web_arg(r, "limit");
    long long n = 0;
    if (v && cv_parse_integer(v, 1, V1_MAX_LIMIT, &n))
        return invalid(r, "limit: '%.100s' is not a count (1 to %d)", v, V1_MAX_LIMIT);
    *limit = (int)n;
    return 0;
}

/* --- bodies --- */

/* The request body as a JSON object, or NULL after web_error. */
static json_t *body_object(web_req *r)
{
    if (!r->upload_len)
        return invalid(r, "a JSON object is required as the request body"), NULL;
    json_error_t je;
    json_t *doc = json_loadb(r->upload, r->upload_len, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        return invalid(r, "malformed JSON at line %d, column %d: %s", je.line, je.column, je.text), NULL;
    if (!json_is_object(doc)) {
        json_decref(doc);
        return invalid(r, "the request body must be a JSON object"), NULL;
    }
    return doc;
}

/* Refuses members of doc outside the NULL-terminated list allowed (a misspelt option must not pass silently). */
static int check_members(web_req *r, json_t *doc, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v)
    {
        int known = 0;
        for (const char *const *a = allowed; *a && !known; a++)
            known = !strcmp(*a, key);
        if (!known)
            return invalid(r, "unknown field '%.100s'", key);
    }
    return 0;
}

/* [lon, lat] in decimal degrees, in range. */
static int get_coord(web_req *r, json_t *v, const char *name, cv_coord *c)
{
    if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_number(json_array_get(v, 0)) ||
        !json_is_number(json_array_get(v, 1)))
        return invalid(r, "%s: must be [lon, lat] in decimal degrees", name);
    double lon = json_number_value(json_array_get(v, 0)), lat = json_number_value(json_array_get(v, 1));
    if (!isfinite(lon) || !isfinite(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90)
        return invalid(r, "%s: [%g, %g] is out of range (longitude -180..180, latitude -90..90)", name, lon, lat);
    c->lon = cv_fixed(lon);
    c->lat = cv_fixed(lat);
    return 0;
}

static int required_coord(web_req *r, json_t *doc, const char *name, cv_coord *c)
{
    json_t *v = json_object_get(doc, name);
    if (!v)
        return invalid(r, "%s: required ([lon, lat])", name);
    return get_coord(r, v, name, c);
}

/* An optional number in [lo, hi]; *present says whether it was given. */
static int opt_number(web_req *r, json_t *doc, const char *name, double lo, double hi, double *out, int *present)
{
    json_t *v = json_object_get(doc, name);
    *present = v && !json_is_null(v);
    if (!*present)
        return 0;
    if (!json_is_number(v))
        return invalid(r, "%s: must be a number", name);
    double d = json_number_value(v);
    if (!isfinite(d) || d < lo || d > hi)
        return invalid(r, "%s: %g is out of range (%g to %g)", name, d, lo, hi);
    *out = d;
    return 0;
}

/* An optional string member. */
static int opt_string(web_req *r, json_t *doc, const char *name, const char **out)
{
    json_t *v = json_object_get(doc, name);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return invalid(r, "%s: must be a string", name);
    *out = json_string_value(v);
    return 0;
}

/* "depart": an ISO-8601 string (a single trip) or {weekdays, time, first_date?, last_date?} (every week); and
   "margin_min". */
static int get_schedule(web_req *r, json_t *doc, int64_t now, cv_schedule *s)
{
    cv_error err = {0};
    memset(s, 0, sizeof *s);
    double margin = CV_DEFAULT_MARGIN_S / 60.0;
    int present;
    if (opt_number(r, doc, "margin_min", 0, CV_MAX_MARGIN_S / 60.0, &margin, &present))
        return -1;
    s->margin_s = (int32_t)lround(margin * 60.0);
    json_t *d = json_object_get(doc, "depart");
    if (!d)
        return invalid(r, "depart: required (an ISO-8601 date-time, or {\"weekdays\", \"time\", \"first_date\", "
                          "\"last_date\"})");
    if (json_is_string(d)) {
        s->kind = CV_PUNCTUAL;
        if (cv_parse_datetime(json_string_value(d), &s->depart, &err))
            return invalid(r, "depart: %s", err.text);
        return 0;
    }
    if (!json_is_object(d))
        return invalid(r, "depart: must be an ISO-8601 string or an object {weekdays, time, first_date, last_date}");
    static const char *const members[] = {"weekdays", "time", "first_date", "last_date", NULL};
    if (check_members(r, d, members))
        return -1;
    const char *days, *tod, *first, *last;
    if (opt_string(r, d, "weekdays", &days) || opt_string(r, d, "time", &tod) ||
        opt_string(r, d, "first_date", &first) || opt_string(r, d, "last_date", &last))
        return -1;
    if (!days || !tod)
        return invalid(r, "depart: weekdays and time are required for a regular trip");
    s->kind = CV_REGULAR;
    if (cv_parse_weekdays(days, &s->weekdays, &err))
        return invalid(r, "depart.weekdays: %s", err.text);
    if (cv_parse_time_of_day(tod, &s->time_of_day, &err))
        return invalid(r, "depart.time: %s", err.text);
    if (first) {
        if (cv_parse_date(first, &s->first_day, &err))
            return invalid(r, "depart.first_date: %s", err.text);
    } else {
        cv_utc_to_local(now, &s->first_day, NULL, NULL);
    }
    if (last) {
        if (cv_parse_date(last, &s->last_day, &err))
            return invalid(r, "depart.last_date: %s", err.text);
    } else {
        s->last_day = s->first_day + 365;
    }
    return 0;
}

static int get_owner(web_req *r, json_t *doc, int required, char owner[CV_OWNER_MAX])
{
    const char *v;
    if (opt_string(r, doc, "owner", &v))
        return -1;
    if (!v && !required) {
        snprintf(owner, CV_OWNER_MAX, "%s", "search");
        return 0;
    }
    if (!v && r->auth) {
        owner[0] = '\0';
        return 0;
    }
    if (!v)
        return invalid(r, "owner: required (the owner's reference on the calling platform)");
    if (!*v || strlen(v) >= CV_OWNER_MAX)
        return invalid(r, "owner: must be 1 to %d bytes", CV_OWNER_MAX - 1);
    memcpy(owner, v, strlen(v) + 1);
    return 0;
}

static int get_seats(web_req *r, json_t *doc, int dflt, int *seats)
{
    json_t *v = json_object_get(doc, "seats");
    *seats = dflt;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > CV_MAX_SEATS)
        return invalid(r, "seats: must be a whole number from 1 to %d", CV_MAX_SEATS);
    *seats = (int)json_integer_value(v);
    return 0;
}

/* A request (or an ad-hoc search, where owner is optional) from the body. */
static int parse_request(web_req *r, json_t *doc, int64_t now, int search, cv_request *q)
{
    static const char *const members[] = {"from", "to", "depart", "margin_min", "seats", "owner", NULL};
    static const char *const search_members[] = {"from",  "to",    "depart",   "margin_min",
                                                 "seats", "owner", "partners", NULL};
    memset(q, 0, sizeof *q);
    if (check_members(r, doc, search ? search_members : members) || required_coord(r, doc, "from", &q->from) ||
        required_coord(r, doc, "to", &q->to) || get_schedule(r, doc, now, &q->when) ||
        get_seats(r, doc, 1, &q->seats) || get_owner(r, doc, !search, q->owner))
        return -1;
    q->status = CV_TRIP_OPEN;
    q->created = now;
    return 0;
}

static int parse_offer(web_req *r, json_t *doc, int64_t now, cv_offer *o)
{
    static const char *const members[] = {
        "from",          "to",           "vias",  "depart", "margin_min", "seats", "max_detour_min",
        "max_detour_km", "price_per_km", "owner", NULL};
    memset(o, 0, sizeof *o);
    if (check_members(r, doc, members) || required_coord(r, doc, "from", &o->from) ||
        required_coord(r, doc, "to", &o->to) || get_schedule(r, doc, now, &o->when) ||
        get_seats(r, doc, CV_DEFAULT_SEATS, &o->seats) || get_owner(r, doc, 1, o->owner))
        return -1;
    json_t *vias = json_object_get(doc, "vias");
    if (vias && !json_is_null(vias)) {
        if (!json_is_array(vias) || json_array_size(vias) > CV_MAX_VIAS)
            return invalid(r, "vias: must be an array of at most %d [lon, lat] points", CV_MAX_VIAS);
        for (size_t i = 0; i < json_array_size(vias); i++) {
            char name[32];
            snprintf(name, sizeof name, "vias[%zu]", i);
            if (get_coord(r, json_array_get(vias, i), name, &o->vias[i]))
                return -1;
        }
        o->nvias = (int)json_array_size(vias);
    }
    double v;
    int present;
    o->max_detour_s = -1;
    o->max_detour_m = -1;
    o->price_per_km = -1;
    if (opt_number(r, doc, "max_detour_min", 0, CV_MAX_DETOUR_MIN, &v, &present))
        return -1;
    if (present)
        o->max_detour_s = (int32_t)lround(v * 60.0);
    if (opt_number(r, doc, "max_detour_km", 0, CV_MAX_DETOUR_KM, &v, &present))
        return -1;
    if (present)
        o->max_detour_m = (int32_t)lround(v * 1000.0);
    if (opt_number(r, doc, "price_per_km", CV_MIN_PRICE_PER_KM, CV_MAX_PRICE_PER_KM, &v, &present))
        return -1;
    if (present)
        o->price_per_km = v;
    o->status = CV_TRIP_OPEN;
    o->created = now;
    return 0;
}

/* --- the path --- */

typedef enum kind { K_OFFER, K_REQUEST } kind;

/* "123" or "123/tail": the id and the tail ("" when none). Returns 0, or -1 when it does not start with an id. */
static int split_id(const char *text, int64_t *id, const char **tail)
{
    char buf[24];
    const char *slash = strchr(text, '/');
    size_t n = slash ? (size_t)(slash - text) : strlen(text);
    long long v;
    if (!n || n >= sizeof buf)
        return -1;
    memcpy(buf, text, n);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (buf[i] < '0' || buf[i] > '9')
            return -1;
    if (cv_parse_integer(buf, 1, INT64_MAX, &v))
        return -1;
    *id = (int64_t)v;
    *tail = slash ? slash + 1 : "";
    return 0;
}

static int method_is(const web_req *r, const char *m)
{
    return !strcmp(r->method, m) || (!strcmp(m, "GET") && !strcmp(r->method, "HEAD"));
}

static int not_allowed(web_req *r, const char *allow)
{
    r->allow = allow;
    return web_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, osrm_word(OSRM_METHOD_NOT_ALLOWED),
                     "%s is not allowed on %s: use %s", r->method, r->path, allow);
}

static const char *const no_args[] = {NULL};

/* --- who may do what (auth on) --- */

/* Whether the caller may act on what owner owns: its key's client is owner, or the "CLIENT:" of "CLIENT:REF". */
static int owns(const web_req *r, const char *owner)
{
    if (!r->auth || (r->scopes & CV_SCOPE_ADMIN))
        return 1;
    size_t n = strlen(r->client);
    return !strncmp(owner, r->client, n) && (owner[n] == '\0' || owner[n] == ':');
}

static int forbidden(web_req *r, const char *what, int64_t id)
{
    return web_error(r, MHD_HTTP_FORBIDDEN, osrm_word(OSRM_FORBIDDEN), "%s %lld belongs to another client", what,
                     (long long)id);
}

/* With auth on, the stored owner is "CLIENT:REF" (REF the caller's reference), or CLIENT alone when ref is NULL. */
static int scoped_owner(web_req *r, const char *ref, char owner[CV_OWNER_MAX])
{
    if (!r->auth) {
        snprintf(owner, CV_OWNER_MAX, "%s", ref ? ref : "");
        return 0;
    }
    int n =
        ref ? snprintf(owner, CV_OWNER_MAX, "%s:%s", r->client, ref) : snprintf(owner, CV_OWNER_MAX, "%s", r->client);
    if (n < 0 || n >= CV_OWNER_MAX)
        return invalid(r, "owner: too long (with the client's name, at most %d bytes)", CV_OWNER_MAX - 1);
    return 0;
}

/* The owner of offer or request id into owner; -1 after web_error (404 when unknown). */
static int trip_owner(web_req *r, cv_store *store, int is_offer, int64_t id, char owner[CV_OWNER_MAX]);

/* --- offers and requests --- */

static int trip_create(web_req *r, cv_matcher_ws *w, kind k)
{
    if (web_check_args(r, no_args))
        return -1;
    int64_t now = (int64_t)time(NULL);
    json_t *doc = body_object(r);
    if (!doc)
        return -1;
    cv_offer o;
    cv_request q;
    cv_error err = {0};
    int rc, st = k == K_OFFER ? parse_offer(r, doc, now, &o) : parse_request(r, doc, now, 0, &q);
    json_decref(doc);
    if (st)
        return -1;
    if (r->auth) {
        char *own = k == K_OFFER ? o.owner : q.owner, ref[CV_OWNER_MAX];
        snprintf(ref, sizeof ref, "%s", own);
        if (scoped_owner(r, ref[0] ? ref : NULL, own))
            return -1;
    }
    cv_store *store = cv_matcher_store(w);
    if (k == K_OFFER) {
        if ((rc = cv_matcher_add_offer(w, &o, now, &err)) || (rc = cv_store_get_offer(store, o.id, &o, &err)))
            return fail(r, rc, &err);
        return ok(r, 1, "offer", trip_json_offer(&o));
    }
    if ((rc = cv_matcher_add_request(w, &q, now, &err)) || (rc = cv_store_get_request(store, q.id, &q, &err)))
        return fail(r, rc, &err);
    return ok(r, 1, "request", trip_json_request(&q));
}

static int trip_list(web_req *r, cv_matcher_ws *w, kind k)
{
    static const char *const args[] = {"owner", "all", NULL};
    if (web_check_args(r, args))
        return -1;
    const char *owner = web_arg(r, "owner"), *all = web_arg(r, "all");
    if (owner && !*owner)
        return invalid(r, "owner: must not be empty");
    if (all && strcmp(all, "true") && strcmp(all, "false"))
        return invalid(r, "all: must be true or false");
    int open_only = !all || !strcmp(all, "false");
    char scoped[CV_OWNER_MAX];
    if (r->auth && !(r->scopes & CV_SCOPE_ADMIN)) {
        if (scoped_owner(r, owner, scoped))
            return -1;
        owner = scoped;
    }
    cv_error err = {0};
    int rc = 0;
    json_t *list = trip_json_list(cv_matcher_store(w), k == K_OFFER, owner, open_only, &rc, &err);
    if (rc)
        return fail(r, rc, &err);
    return ok(r, 0, k == K_OFFER ? "offers" : "requests", list);
}

/* GET (cancel 0) or cancel (cancel 1) one offer or request. */
static int trip_one(web_req *r, cv_matcher_ws *w, kind k, int64_t id, int cancel)
{
    if (web_check_args(r, no_args))
        return -1;
    cv_error err = {0};
    cv_store *store = cv_matcher_store(w);
    int rc = 0;
    char owner[CV_OWNER_MAX];
    if (r->auth && trip_owner(r, store, k == K_OFFER, id, owner))
        return -1;
    if (r->auth && !owns(r, owner))
        return forbidden(r, k == K_OFFER ? "offer" : "request", id);
    if (k == K_OFFER) {
        cv_offer o;
        if ((cancel && (rc = cv_matcher_cancel_offer(w, id, &err))) || (rc = cv_store_get_offer(store, id, &o, &err)))
            return fail(r, rc, &err);
        json_t *obj = trip_json_offer_detail(store, &o, (int64_t)time(NULL), &rc, &err);
        if (!obj && rc)
            return fail(r, rc, &err);
        return ok(r, 0, "offer", obj);
    }
    cv_request q;
    if ((cancel && (rc = cv_matcher_cancel_request(w, id, &err))) || (rc = cv_store_get_request(store, id, &q, &err)))
        return fail(r, rc, &err);
    json_t *obj = trip_json_request_detail(store, &q, &rc, &err);
    if (!obj && rc)
        return fail(r, rc, &err);
    /* and the bookings with partners' drivers on it */
    cv_remote_booking *rv = NULL;
    size_t nr = 0;
    if ((rc = cv_store_list_remote_bookings(store, NULL, q.id, &rv, &nr, &err))) {
        json_decref(obj);
        return fail(r, rc, &err);
    }
    json_t *partner = json_array();
    for (size_t i = 0; partner && i < nr; i++)
        json_array_append_new(partner, web_remote_booking_json(&rv[i]));
    free(rv);
    if (obj && partner)
        json_object_set_new(obj, "partner_bookings", partner);
    else
        json_decref(partner);
    return ok(r, 0, "request", obj);
}

/* The query string of a list of matches: limit and nothing else. 0, or -1 after web_error. */
/* The query of a list of matches: limit, and geometry=true for each match's route (web_plan_route). */
static int match_args(web_req *r, int *limit, int *geometry)
{
    static const char *const args[] = {"limit", "geometry", NULL};
    if (web_check_args(r, args) || parse_limit(r, limit))
        return -1;
    const char *g = web_arg(r, "geometry");
    *geometry = g && !strcmp(g, "true");
    if (g && !*geometry && strcmp(g, "false"))
        return invalid(r, "geometry='%.40s': must be one of false, true", g);
    return 0;
}

/* A public meeting area as JSON: its meeting point and the radius that covers its cell. */
static json_t *area_json(const cv_area *a)
{
    return json_pack("{s:o,s:i}", "location", osrm_json_lonlat(a->meet.location), "radius", CV_AREA_RADIUS_M);
}

/* The driver's whole route with this passenger, as the matcher plans it: {geometry (GeoJSON LineString: from where
   it leaves the origin's area to where it enters the destination's), distance, duration (the whole route's),
   origin_area, destination_area}; null when it cannot be made. */
static json_t *match_route(web_req *r, cv_matcher_ws *w, const cv_match *m)
{
    web_plan rt;
    if (web_plan_route(r, w, m, 1, &rt))
        return json_null();
    json_t *line = json_array();
    for (size_t i = 0; line && i < rt.n; i++)
        if (json_array_append_new(line, osrm_json_lonlat(rt.pts[i])))
            json_decref(line), line = NULL;
    json_t *o = line ? json_pack("{s:{s:s,s:o},s:f,s:f,s:o,s:o}", "geometry", "type", "LineString", "coordinates", line,
                                 "distance", rt.distance_dm / 10.0, "duration", rt.duration_ds / 10.0, "origin_area",
                                 rt.areas ? area_json(&rt.origin) : json_null(), "destination_area",
                                 rt.areas ? area_json(&rt.destination) : json_null())
                     : NULL;
    web_plan_free(&rt);
    return o ? o : json_null();
}

/* Answers a list of matches (v, n: freed here) as {"code": "Ok", "matches": [...]}, or the failure rc; with
   geometry, each match has its route. */
static int answer_matches(web_req *r, cv_matcher_ws *w, int rc, cv_match *v, size_t n, int geometry, cv_error *err)
{
    if (rc) {
        free(v);
        return fail(r, rc, err);
    }
    web_count_matches(r, n);
    json_t *list = trip_json_matches(v, n);
    for (size_t i = 0; list && geometry && i < n; i++)
        json_object_set_new(json_array_get(list, i), "route", match_route(r, w, &v[i]));
    free(v);
    return ok(r, 0, "matches", list);
}

static int trip_matches(web_req *r, cv_matcher_ws *w, kind k, int64_t id)
{
    int limit = 0, geometry = 0;
    if (match_args(r, &limit, &geometry))
        return -1;
    char owner[CV_OWNER_MAX];
    if (r->auth && trip_owner(r, cv_matcher_store(w), k == K_OFFER, id, owner))
        return -1;
    if (r->auth && !owns(r, owner))
        return forbidden(r, k == K_OFFER ? "offer" : "request", id);
    int64_t now = (int64_t)time(NULL);
    cv_error err = {0};
    cv_match *v = NULL;
    size_t n = 0;
    int rc = k == K_OFFER ? cv_matcher_offer_matches(w, id, now, limit, &v, &n, &err)
                          : cv_matcher_request_matches(w, id, now, limit, &v, &n, &err);
    return answer_matches(r, w, rc, v, n, geometry, &err);
}

/* /v1/offers... and /v1/requests...; rest is what follows "offers" or "requests". */
static int trips(web_req *r, cv_matcher_ws *w, kind k, const char *rest)
{
    size_t rl = strlen(rest);
    if (web_need_scope(r, rl >= 8 && !strcmp(rest + rl - 8, "/matches") ? CV_SCOPE_SEARCH : CV_SCOPE_TRIPS))
        return -1;
    if (!*rest || !strcmp(rest, "/")) {
        if (method_is(r, "POST"))
            return trip_create(r, w, k);
        if (method_is(r, "GET"))
            return trip_list(r, w, k);
        return not_allowed(r, "GET, HEAD, POST");
    }
    int64_t id;
    const char *tail;
    if (rest[0] != '/' || split_id(rest + 1, &id, &tail))
        return web_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND),
                         "no such endpoint: %s (ids are positive integers)", r->path);
    if (!*tail) {
        if (method_is(r, "GET"))
            return trip_one(r, w, k, id, 0);
        if (method_is(r, "DELETE"))
            return trip_one(r, w, k, id, 1);
        return not_allowed(r, "GET, HEAD, DELETE");
    }
    if (!strcmp(tail, "cancel")) {
        if (method_is(r, "POST"))
            return trip_one(r, w, k, id, 1);
        return not_allowed(r, "POST");
    }
    if (!strcmp(tail, "matches")) {
        if (method_is(r, "GET"))
            return trip_matches(r, w, k, id);
        return not_allowed(r, "GET, HEAD");
    }
    return web_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND), "no such endpoint: %s", r->path);
}

/* --- search --- */

static int search(web_req *r, cv_matcher_ws *w)
{
    if (web_need_scope(r, CV_SCOPE_SEARCH))
        return -1;
    if (!method_is(r, "POST"))
        return not_allowed(r, "POST");
    int limit = 0, geometry = 0;
    if (match_args(r, &limit, &geometry))
        return -1;
    int64_t now = (int64_t)time(NULL);
    json_t *doc = body_object(r);
    if (!doc)
        return -1;
    cv_request q;
    int st = parse_request(r, doc, now, 1, &q);
    json_t *partners = json_object_get(doc, "partners");
    int federated = json_is_true(partners);
    if (!st && partners && !json_is_boolean(partners))
        st = invalid(r, "partners: true or false");
    json_decref(doc);
    if (st)
        return -1;
    if (federated)
        return web_federated_search(r, w, &q, limit, now);
    cv_error err = {0};
    cv_match *v = NULL;
    size_t n = 0;
    int rc = cv_matcher_search(w, &q, now, limit, &v, &n, &err);
    return answer_matches(r, w, rc, v, n, geometry, &err);
}

/* --- bookings --- */

static int show_booking(web_req *r, cv_matcher_ws *w, int64_t id, int created)
{
    cv_error err = {0};
    cv_booking b;
    int rc = cv_store_get_booking(cv_matcher_store(w), id, &b, &err);
    if (rc)
        return fail(r, rc, &err);
    if (r->auth && !created) {
        char driver[CV_OWNER_MAX], passenger[CV_OWNER_MAX];
        if (trip_owner(r, cv_matcher_store(w), 1, b.offer_id, driver) ||
            trip_owner(r, cv_matcher_store(w), 0, b.request_id, passenger))
            return -1;
        if (!owns(r, driver) && !owns(r, passenger))
            return forbidden(r, "booking", id);
    }
    return ok(r, created, "booking", trip_json_booking(&b));
}

static int trip_owner(web_req *r, cv_store *store, int is_offer, int64_t id, char owner[CV_OWNER_MAX])
{
    cv_error err = {0};
    int rc;
    if (is_offer) {
        cv_offer o;
        rc = cv_store_get_offer(store, id, &o, &err);
        if (!rc)
            memcpy(owner, o.owner, CV_OWNER_MAX);
    } else {
        cv_request q;
        rc = cv_store_get_request(store, id, &q, &err);
        if (!rc)
            memcpy(owner, q.owner, CV_OWNER_MAX);
    }
    return rc ? fail(r, rc, &err) : 0;
}

/* A positive integer member. */
static int get_id(web_req *r, json_t *doc, const char *name, int64_t *id)
{
    json_t *v = json_object_get(doc, name);
    if (!v)
        return invalid(r, "%s: required (an id)", name);
    if (!json_is_integer(v) || json_integer_value(v) < 1)
        return invalid(r, "%s: must be an id (a positive integer)", name);
    *id = (int64_t)json_integer_value(v);
    return 0;
}

static int book(web_req *r, cv_matcher_ws *w)
{
    if (web_check_args(r, no_args))
        return -1;
    json_t *doc = body_object(r);
    if (!doc)
        return -1;
    if (json_object_get(doc, "operator")) { /* a partner's journey: the booking goes to that partner */
        static const char *const remote[] = {"operator", "journey", "owner", NULL};
        char owner[CV_OWNER_MAX];
        int st = check_members(r, doc, remote) || get_owner(r, doc, 1, owner) || web_partner_book(r, w, doc, owner);
        json_decref(doc);
        return st ? -1 : 0;
    }
    static const char *const members[] = {"offer_id", "request_id", NULL};
    int64_t offer_id = 0, request_id = 0;
    int st = check_members(r, doc, members) || get_id(r, doc, "offer_id", &offer_id) ||
             get_id(r, doc, "request_id", &request_id);
    json_decref(doc);
    if (st)
        return -1;
    char owner[CV_OWNER_MAX];
    if (r->auth && trip_owner(r, cv_matcher_store(w), 0, request_id, owner))
        return -1;
    if (r->auth && !owns(r, owner))
        return forbidden(r, "request", request_id);
    int64_t now = (int64_t)time(NULL);
    cv_error err = {0};
    cv_booking b;
    int rc = cv_matcher_book(w, offer_id, request_id, now, &b, &err);
    if (rc)
        return fail(r, rc, &err);
    web_count_booking(r, WEB_BOOK_CREATE);
    return show_booking(r, w, b.id, 1);
}

/* /v1/bookings/{uuid}[/accept|/refuse|/cancel]: a booking between one of our passengers and a partner's driver.
   One our passenger made on the partner's journey is cancelled at the partner (its driver answers there); one
   the partner's driver offered our passenger is accepted, refused or cancelled here, and the partner is sent the
   news as a booking event. */
static int remote_booking(web_req *r, cv_matcher_ws *w, const char *uuid, const char *tail)
{
    if (web_check_args(r, no_args))
        return -1;
    cv_partner_status to = CV_PARTNER_CANCELLED;
    int act = *tail != '\0';
    if (!strcmp(tail, "/accept"))
        to = CV_PARTNER_CONFIRMED;
    else if (act && strcmp(tail, "/refuse") && strcmp(tail, "/cancel"))
        return web_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND), "no such endpoint: %s", r->path);
    if (act ? !method_is(r, "POST") : !method_is(r, "GET"))
        return not_allowed(r, act ? "POST" : "GET, HEAD");
    cv_error err = {0};
    cv_remote_booking b;
    int rc = cv_store_get_remote_booking(cv_matcher_store(w), uuid, &b, &err);
    if (rc)
        return fail(r, rc, &err);
    if (!owns(r, b.owner))
        return web_error(r, MHD_HTTP_FORBIDDEN, osrm_word(OSRM_FORBIDDEN), "booking %s belongs to another client",
                         uuid);
    if (!act)
        return ok(r, 0, "booking", web_remote_booking_json(&b));
    if (b.side == 0) {
        if (strcmp(tail, "/cancel"))
            return web_error(r, MHD_HTTP_CONFLICT, osrm_word(OSRM_CONFLICT),
                             "booking %s is on a journey of %s: its driver answers there; our passenger may cancel",
                             uuid, b.partner);
        return web_remote_cancel(r, w, &b);
    }
    int pending = b.status == CV_PARTNER_WAITING, live = pending || b.status == CV_PARTNER_CONFIRMED;
    int cancel = !strcmp(tail, "/cancel");
    if (cancel ? !live : !pending)
        return web_error(r, MHD_HTTP_CONFLICT, osrm_word(OSRM_CONFLICT), "booking %s is %s, not %s", uuid,
                         web_stdcov_status_word(b.status), cancel ? "waiting or confirmed" : "waiting for an answer");
    if ((rc = cv_store_remote_status(cv_matcher_store(w), NULL, uuid, NULL, to, 1, NULL, &err)) ||
        (rc = cv_store_get_remote_booking(cv_matcher_store(w), uuid, &b, &err)))
        return fail(r, rc, &err);
    web_count_booking(r, to == CV_PARTNER_CONFIRMED ? WEB_BOOK_ACCEPT
                         : strcmp(tail, "/cancel")  ? WEB_BOOK_REFUSE
                                                    : WEB_BOOK_CANCEL);
    return ok(r, 0, "booking", web_remote_booking_json(&b));
}

#define OWNER_BOOKINGS_MAX 500

/* GET /v1/bookings?owner=REF[&as=driver|passenger]: an owner's bookings, newest first, each with the side they
   are on. In auth mode, REF is among the caller's own (as trips are). */
static int owner_bookings(web_req *r, cv_matcher_ws *w)
{
    static const char *const args[] = {"owner", "as", NULL};
    if (web_check_args(r, args))
        return -1;
    const char *ref = web_arg(r, "owner"), *as = web_arg(r, "as");
    if (!ref || !*ref)
        return invalid(r, "owner: whose bookings (the reference of their offers and requests) is missing");
    int side = 0;
    if (as && !strcmp(as, "driver"))
        side = 1;
    else if (as && !strcmp(as, "passenger"))
        side = 2;
    else if (as)
        return invalid(r, "as='%.40s': driver or passenger", as);
    char owner[CV_OWNER_MAX];
    if (r->auth && !(r->scopes & CV_SCOPE_ADMIN)) {
        if (scoped_owner(r, ref, owner))
            return -1;
    } else {
        snprintf(owner, sizeof owner, "%s", ref);
    }
    cv_store *store = cv_matcher_store(w);
    cv_booking *b = NULL;
    size_t n = 0;
    cv_error err = {0};
    int rc = cv_store_list_owner_bookings(store, owner, side, OWNER_BOOKINGS_MAX, &b, &n, &err);
    if (rc)
        return fail(r, rc, &err);
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++) {
        json_t *one = trip_json_booking(&b[i]);
        cv_offer o;
        int driver =
            side == 1 || (side == 0 && !cv_store_get_offer(store, b[i].offer_id, &o, NULL) && !strcmp(o.owner, owner));
        if (one)
            json_object_set_new(one, "as", json_string(driver ? "driver" : "passenger"));
        json_array_append_new(list, one);
    }
    free(b);
    return list ? web_ok(r, json_pack("{s:s,s:o}", "code", osrm_word(OSRM_OK), "bookings", list)) : -1;
}

/* --- completing a ride: the carpool proof (docs/proofs.md) --- */

/* The date of booking b a completion names (text: "YYYY-MM-DD", or NULL for the booking's only date). */
static int completion_day(web_req *r, const cv_booking *b, const char *text, cv_day *day)
{
    if (!text) {
        if (b->dates.first != b->dates.last)
            return invalid(r, "date: required (booking %lld rides on several dates)", (long long)b->id);
        *day = b->dates.first;
        return 0;
    }
    cv_error err = {0};
    if (cv_parse_date(text, day, &err))
        return invalid(r, "date: %s", err.text);
    return 0;
}

static int completion_answer(web_req *r, cv_store *store, const cv_booking *b, cv_day day, const cv_completion *c)
{
    char date[16];
    cv_format_date(day, date);
    json_t *proof = json_null();
    if (c->proof_id) {
        cv_error err = {0};
        cv_proof p;
        int rc = cv_store_get_proof(store, c->proof_id, &p, &err);
        if (rc)
            return fail(r, rc, &err);
        proof = web_proof_record_json(&p);
    }
    return ok(r, 0, "completion",
              json_pack("{s:I, s:s, s:b, s:b, s:o}", "booking", (json_int_t)b->id, "date", date, "driver", c->driver,
                        "passenger", c->passenger, "proof", proof));
}

/* POST /v1/bookings/{id}/complete {"as": "driver" | "passenger", "date": "YYYY-MM-DD"}: one side says the ride of
   that date took place; the second side's call writes the proof. GET ...?date=: where it stands. */
static int complete(web_req *r, cv_matcher_ws *w, int64_t id)
{
    static const char *const get_args[] = {"date", NULL};
    static const char *const members[] = {"as", "date", NULL};
    int post = method_is(r, "POST");
    if (!post && !method_is(r, "GET"))
        return not_allowed(r, "GET, HEAD, POST");
    if (web_check_args(r, post ? no_args : get_args))
        return -1;
    cv_store *store = cv_matcher_store(w);
    cv_error err = {0};
    cv_booking b;
    int rc = cv_store_get_booking(store, id, &b, &err);
    if (rc)
        return fail(r, rc, &err);
    char driver[CV_OWNER_MAX], passenger[CV_OWNER_MAX];
    if (trip_owner(r, store, 1, b.offer_id, driver) || trip_owner(r, store, 0, b.request_id, passenger))
        return -1;
    cv_day day;
    if (!post) {
        if (!owns(r, driver) && !owns(r, passenger))
            return forbidden(r, "booking", id);
        if (completion_day(r, &b, web_arg(r, "date"), &day))
            return -1;
        cv_completion c;
        if ((rc = cv_store_completion(store, id, day, &c, &err)))
            return fail(r, rc, &err);
        return completion_answer(r, store, &b, day, &c);
    }
    json_t *doc = body_object(r);
    if (!doc)
        return -1;
    const char *as = NULL, *date = NULL;
    cv_side side;
    if (check_members(r, doc, members) || opt_string(r, doc, "date", &date) || opt_string(r, doc, "as", &as)) {
        json_decref(doc);
        return -1;
    }
    if (!as || (strcmp(as, "driver") && strcmp(as, "passenger"))) {
        json_decref(doc);
        return invalid(r, "as: required, \"driver\" or \"passenger\" (who says the ride took place)");
    }
    side = strcmp(as, "driver") ? CV_SIDE_PASSENGER : CV_SIDE_DRIVER;
    rc = completion_day(r, &b, date, &day);
    json_decref(doc);
    if (rc)
        return -1;
    const char *who = side == CV_SIDE_DRIVER ? "driver" : "passenger";
    if (!owns(r, side == CV_SIDE_DRIVER ? driver : passenger))
        return web_error(r, MHD_HTTP_FORBIDDEN, osrm_word(OSRM_FORBIDDEN),
                         "booking %lld: only its %s may complete it as the %s", (long long)id, who, who);
    /* the passenger's ride on the road, measured before the transaction (the graph is not the database's) */
    int64_t metres = 0;
    if (b.status == CV_BOOKING_ACCEPTED && web_ride_distance(r, w, &b, day, &metres))
        return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError",
                         "booking %lld: cannot measure the ride on the road", (long long)id);
    cv_completion c;
    rc = cv_store_complete_booking(store, id, day, side, metres, (int64_t)time(NULL), &c, &err);
    if (rc)
        return fail(r, rc, &err);
    return completion_answer(r, store, &b, day, &c);
}

static int bookings(web_req *r, cv_matcher_ws *w, const char *rest)
{
    if (web_need_scope(r, CV_SCOPE_TRIPS))
        return -1;
    if (!*rest || !strcmp(rest, "/")) {
        if (method_is(r, "POST"))
            return book(r, w);
        if (method_is(r, "GET"))
            return owner_bookings(r, w);
        return not_allowed(r, "GET, HEAD, POST");
    }
    int64_t id;
    const char *tail;
    if (rest[0] == '/' && strlen(rest + 1) >= 36 && (!rest[37] || rest[37] == '/')) {
        char uuid[40];
        snprintf(uuid, sizeof uuid, "%.36s", rest + 1);
        if (web_is_uuid(uuid))
            return remote_booking(r, w, uuid, rest + 37);
    }
    if (rest[0] != '/' || split_id(rest + 1, &id, &tail))
        return web_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND),
                         "no such endpoint: %s (ids are positive integers)", r->path);
    if (!strcmp(tail, "complete"))
        return complete(r, w, id);
    if (web_check_args(r, no_args))
        return -1;
    if (!*tail) {
        if (method_is(r, "GET"))
            return show_booking(r, w, id, 0);
        return not_allowed(r, "GET, HEAD");
    }
    cv_booking_action action;
    if (cv_booking_action_parse(tail, &action))
        return web_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND), "no such endpoint: %s", r->path);
    if (!method_is(r, "POST"))
        return not_allowed(r, "POST");
    cv_error err = {0};
    int rc;
    if (r->auth) {
        /* The driver accepts or refuses on their own offer; either side cancels (the passenger their ride, the
           driver a passenger they can no longer take), as `covoit booking --help` says. */
        cv_booking b;
        char owner[CV_OWNER_MAX];
        if ((rc = cv_store_get_booking(cv_matcher_store(w), id, &b, &err)))
            return fail(r, rc, &err);
        if (trip_owner(r, cv_matcher_store(w), 1, b.offer_id, owner))
            return -1;
        int allowed = owns(r, owner);
        if (!allowed && action == CV_ACT_CANCEL) {
            if (trip_owner(r, cv_matcher_store(w), 0, b.request_id, owner))
                return -1;
            allowed = owns(r, owner);
        }
        if (!allowed)
            return forbidden(r, "booking", id);
    }
    rc = cv_matcher_act(w, action, id, (int64_t)time(NULL), &err);
    if (rc)
        return fail(r, rc, &err);
    web_count_booking(r, action == CV_ACT_ACCEPT   ? WEB_BOOK_ACCEPT
                         : action == CV_ACT_REFUSE ? WEB_BOOK_REFUSE
                                                   : WEB_BOOK_CANCEL);
    return show_booking(r, w, id, 0);
}

/* --- /v1/ --- */

/* rest starts with name followed by the end or a slash: returns what follows name, else NULL. */
static const char *segment(const char *rest, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(rest, name, n) || (rest[n] && rest[n] != '/'))
        return NULL;
    return rest + n;
}

/* --- messages from partners' users --- */

/* GET /v1/messages[?owner=REF][&unread=true]: the messages for the caller's users (admin and demo mode: for owner,
   or everyone's). */
static int message_list(web_req *r, cv_matcher_ws *w)
{
    static const char *const args[] = {"owner", "unread", NULL};
    if (web_check_args(r, args))
        return -1;
    const char *owner = web_arg(r, "owner"), *unread = web_arg(r, "unread");
    if (owner && !*owner)
        return invalid(r, "owner: must not be empty");
    if (unread && strcmp(unread, "true") && strcmp(unread, "false"))
        return invalid(r, "unread: must be true or false");
    char scoped[CV_OWNER_MAX];
    if (r->auth && !(r->scopes & CV_SCOPE_ADMIN)) {
        if (scoped_owner(r, owner, scoped))
            return -1;
        owner = scoped;
    }
    cv_message *v = NULL;
    size_t n = 0;
    cv_error err = {0};
    int rc = cv_store_list_messages(cv_matcher_store(w), owner, unread && !strcmp(unread, "true"), &v, &n, &err);
    if (rc)
        return fail(r, rc, &err);
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++)
        if (json_array_append_new(list, trip_json_message(&v[i])))
            json_decref(list), list = NULL;
    free(v);
    return ok(r, 0, "messages", list);
}

/* /v1/messages and POST /v1/messages/{id}/read */
/* POST /v1/messages/{id}/reply {"text": "..."}: our user answers a partner's user, through the partner's POST
   /messages, queued in the outbox (delivered in order, retried while the partner cannot be reached). From our
   user as the partner knows them (driver-N, passenger-N, p-UUID), never their owner reference. */
static int message_reply(web_req *r, cv_matcher_ws *w, const cv_message *m)
{
    json_t *doc = body_object(r);
    if (!doc)
        return -1;
    static const char *const members[] = {"text", NULL};
    const char *text = NULL;
    int st = check_members(r, doc, members) || opt_string(r, doc, "text", &text);
    if (!st && (!text || !*text || strlen(text) >= CV_PARTNER_MESSAGE_MAX))
        st = invalid(r, "text: required, 1 to %d bytes", CV_PARTNER_MESSAGE_MAX - 1);
    if (st) {
        json_decref(doc);
        return -1;
    }
    if (!r->operator_name) {
        json_decref(doc);
        return web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, osrm_word(OSRM_UNAVAILABLE),
                         "this server names no operator (--operator HOST): it cannot write to partners");
    }
    cv_error err = {0};
    cv_partner p;
    int rc = cv_store_get_partner(cv_matcher_store(w), m->partner, &p, &err);
    if (rc) {
        json_decref(doc);
        if (rc == CV_ENOTFOUND)
            return web_error(r, MHD_HTTP_CONFLICT, osrm_word(OSRM_CONFLICT),
                             "message %lld came from %s, which is not a configured partner (covoit partner add): "
                             "a reply could not be delivered",
                             (long long)m->id, m->partner);
        return fail(r, rc, &err);
    }
    char from[80], alias[64];
    if (m->trip_kind == 0)
        snprintf(from, sizeof from, "driver-%lld", (long long)m->trip_id),
            snprintf(alias, sizeof alias, "Driver %lld", (long long)m->trip_id);
    else if (m->trip_id > 0)
        snprintf(from, sizeof from, "passenger-%lld", (long long)m->trip_id),
            snprintf(alias, sizeof alias, "Passenger %lld", (long long)m->trip_id);
    else
        snprintf(from, sizeof from, "p-%s", m->booking), snprintf(alias, sizeof alias, "Passenger");
    json_t *msg =
        json_pack("{s:{s:s,s:s,s:s},s:{s:s,s:s,s:s},s:s,s:s}", "from", "id", from, "alias", alias, "operator",
                  r->operator_name, "to", "id", m->from_id, "alias", m->from_alias, "operator", m->from_operator,
                  "message", text, "recipientCarpoolerType", m->trip_kind == 0 ? "PASSENGER" : "DRIVER");
    if (msg && m->journey[0])
        json_object_set_new(msg, m->trip_kind == 0 ? "driverJourneyId" : "passengerJourneyId", json_string(m->journey));
    if (msg && m->booking[0])
        json_object_set_new(msg, "bookingId", json_string(m->booking));
    json_decref(doc);
    char *body = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    if (!body || (rc = cv_store_outbox_message(cv_matcher_store(w), p.name, body, &err))) {
        free(body);
        json_decref(msg);
        return body ? fail(r, rc, &err) : web_error(r, 500, osrm_word(OSRM_ERROR), "out of memory");
    }
    free(body);
    json_object_set_new(msg, "queued", json_true());
    json_t *answer = json_pack("{s:s,s:o}", "code", osrm_word(OSRM_OK), "reply", msg);
    web_ok(r, answer);
    if (answer)
        r->status = MHD_HTTP_ACCEPTED; /* queued: the partner has it when the outbox delivers it */
    return 0;
}

static int messages(web_req *r, cv_matcher_ws *w, const char *rest)
{
    if (web_need_scope(r, CV_SCOPE_TRIPS))
        return -1;
    if (!*rest || !strcmp(rest, "/")) {
        if (method_is(r, "GET"))
            return message_list(r, w);
        return not_allowed(r, "GET, HEAD");
    }
    int64_t id;
    const char *tail;
    if (rest[0] != '/' || split_id(rest + 1, &id, &tail) || (strcmp(tail, "read") && strcmp(tail, "reply")))
        return web_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND), "no such endpoint: %s", r->path);
    if (web_check_args(r, no_args))
        return -1;
    if (!method_is(r, "POST"))
        return not_allowed(r, "POST");
    cv_message m;
    cv_error err = {0};
    int rc = cv_store_get_message(cv_matcher_store(w), id, &m, &err);
    if (rc)
        return fail(r, rc, &err);
    if (!owns(r, m.owner))
        return forbidden(r, "message", id);
    if (!strcmp(tail, "reply"))
        return message_reply(r, w, &m);
    if ((rc = cv_store_mark_message_read(cv_matcher_store(w), id, &err)) ||
        (rc = cv_store_get_message(cv_matcher_store(w), id, &m, &err)))
        return fail(r, rc, &err);
    return ok(r, 0, "message", trip_json_message(&m));
}

/* --- a person's data: export and erasure --- */

/* A list of trips of owner (every status) with their detail (stops and bookings), or NULL after web_error. */
static json_t *owner_trips(web_req *r, cv_store *store, int offers, const char *owner, int64_t now)
{
    cv_error err = {0};
    int rc = 0;
    json_t *list = json_array();
    if (offers) {
        cv_offer *v = NULL;
        size_t n = 0;
        rc = cv_store_list_offers(store, owner, 0, &v, &n, &err);
        for (size_t i = 0; !rc && list && i < n; i++) {
            json_t *o = trip_json_offer_detail(store, &v[i], now, &rc, &err);
            if (o && json_array_append_new(list, o))
                rc = CV_ENOMEM;
        }
        free(v);
    } else {
        cv_request *v = NULL;
        size_t n = 0;
        rc = cv_store_list_requests(store, owner, 0, &v, &n, &err);
        for (size_t i = 0; !rc && list && i < n; i++) {
            json_t *o = trip_json_request_detail(store, &v[i], &rc, &err);
            if (o && json_array_append_new(list, o))
                rc = CV_ENOMEM;
        }
        free(v);
    }
    if (rc || !list) {
        json_decref(list);
        fail(r, rc ? rc : CV_ENOMEM, &err);
        return NULL;
    }
    return list;
}

/* GET /v1/owners/{ref}/export: everything stored about a person, and DELETE /v1/owners/{ref}: all of it erased,
   from the database files too (cv_store_erase_owner). With keys, a client reaches its own people (CLIENT:REF);
   an admin key any stored owner as written. */
static int owners(web_req *r, cv_matcher_ws *w, const char *rest)
{
    if (web_check_args(r, (const char *const[]){NULL}))
        return -1;
    if (rest[0] != '/' || !rest[1])
        return web_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND),
                         "no such endpoint: %s (/v1/owners/{ref}/export, DELETE /v1/owners/{ref})", r->path);
    char ref[CV_OWNER_MAX], owner[CV_OWNER_MAX];
    const char *slash = strchr(rest + 1, '/');
    size_t len = slash ? (size_t)(slash - (rest + 1)) : strlen(rest + 1);
    int export = slash && !strcmp(slash, "/export");
    if (!len || len >= CV_OWNER_MAX || (slash && !export))
        return web_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND), "no such endpoint: %s", r->path);
    memcpy(ref, rest + 1, len);
    ref[len] = '\0';
    if (r->auth && !(r->scopes & CV_SCOPE_ADMIN)) {
        if (scoped_owner(r, ref, owner))
            return -1;
    } else {
        memcpy(owner, ref, len + 1);
    }
    cv_store *store = cv_matcher_store(w);
    int64_t now = (int64_t)time(NULL);
    cv_error err = {0};
    if (export) {
        if (!method_is(r, "GET"))
            return not_allowed(r, "GET, HEAD");
        json_t *offers = owner_trips(r, store, 1, owner, now);
        json_t *requests = offers ? owner_trips(r, store, 0, owner, now) : NULL;
        if (!requests) {
            json_decref(offers);
            return -1;
        }
        cv_booking *b = NULL;
        cv_message *m = NULL;
        cv_proof *p = NULL;
        size_t nb = 0, nm = 0, np = 0;
        char pseudonym[CV_PSEUDONYM_MAX];
        int rc = cv_store_list_owner_bookings(store, owner, 0, OWNER_BOOKINGS_MAX, &b, &nb, &err);
        if (!rc)
            rc = cv_store_list_messages(store, owner, 0, &m, &nm, &err);
        if (!rc)
            rc = cv_store_pseudonym(store, owner, pseudonym, &err);
        if (!rc)
            rc = cv_store_list_proofs(store, INT64_MIN, INT64_MAX, pseudonym, &p, &np, &err);
        json_t *bl = json_array(), *ml = json_array(), *pl = json_array();
        for (size_t i = 0; !rc && i < nb; i++)
            json_array_append_new(bl, trip_json_booking(&b[i]));
        for (size_t i = 0; !rc && i < nm; i++)
            json_array_append_new(ml, trip_json_message(&m[i]));
        for (size_t i = 0; !rc && i < np; i++)
            json_array_append_new(pl, web_proof_record_json(&p[i]));
        free(b);
        free(m);
        free(p);
        if (rc) {
            json_decref(offers), json_decref(requests), json_decref(bl), json_decref(ml), json_decref(pl);
            return fail(r, rc, &err);
        }
        return web_ok(r, json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:s,s:o,s:s}", "code", osrm_word(OSRM_OK), "owner",
                                   owner, "exported", trip_json_datetime(now), "offers", offers, "requests", requests,
                                   "bookings", bl, "messages", ml, "pseudonym", pseudonym, "proofs", pl, "note",
                                   "everything covoit stores about this owner: their trips with their stops and "
                                   "bookings, the bookings on both sides, their messages, and the carpool proofs of "
                                   "their rides, where they are named by their pseudonym only; no name, e-mail or "
                                   "phone is ever stored"));
    }
    if (!method_is(r, "DELETE"))
        return not_allowed(r, "DELETE");
    cv_erase_counts c;
    char pseudonym[CV_PSEUDONYM_MAX];
    cv_proof *p = NULL;
    size_t np = 0;
    /* what an erasure did to the files, as the engine does it (docs/privacy.md) */
#define ERASED_REST                                                                                                    \
    "the other side of each booking keeps their own trip. Kept: the carpool proofs of rides both sides validated, "    \
    "owed to the register of public incentives; they name no one (a pseudonym) and go with the retention of past "     \
    "trips (docs/privacy.md)"
    static const char note_file[] =
        "deleted and overwritten in the database file, its write-ahead log emptied; " ERASED_REST;
    static const char note_shared[] =
        "deleted from the PostgreSQL database; their bytes stay in its files until VACUUM "
        "reuses the space, and in its write-ahead log archives and backups until they "
        "expire; " ERASED_REST;
#undef ERASED_REST
    int rc = cv_store_pseudonym(store, owner, pseudonym, &err);
    if (!rc)
        rc = cv_store_list_proofs(store, INT64_MIN, INT64_MAX, pseudonym, &p, &np, &err);
    free(p);
    if (!rc)
        rc = cv_store_erase_owner(store, owner, &c, &err);
    if (rc)
        return fail(r, rc, &err);
    cv_matcher_sync(w, now, &err); /* out of this server's index at once; the others follow the change log */
    return web_ok(r, json_pack("{s:s,s:s,s:{s:I,s:I,s:I,s:I,s:I,s:I},s:{s:I},s:b,s:s}", "code", osrm_word(OSRM_OK),
                               "owner", owner, "erased", "offers", (json_int_t)c.offers, "requests",
                               (json_int_t)c.requests, "bookings", (json_int_t)c.bookings, "stops", (json_int_t)c.stops,
                               "messages", (json_int_t)c.messages, "other", (json_int_t)c.other, "kept", "proofs",
                               (json_int_t)np, "files_clean", c.wal_emptied != 0, "note",
                               cv_store_shared(store) ? note_shared : note_file));
}

int web_v1(web_req *r)
{
    const char *tail;
    kind k = K_OFFER;
    int which; /* 0 trips, 1 search, 2 bookings, 3 messages, 4 owners, 5 stats */
    if ((tail = segment(r->rest, "offers")))
        which = 0, k = K_OFFER;
    else if ((tail = segment(r->rest, "requests")))
        which = 0, k = K_REQUEST;
    else if ((tail = segment(r->rest, "search")) && !*tail)
        which = 1;
    else if ((tail = segment(r->rest, "bookings")))
        which = 2;
    else if ((tail = segment(r->rest, "messages")))
        which = 3;
    else if ((tail = segment(r->rest, "owners")))
        which = 4;
    else if ((tail = segment(r->rest, "stats")) && !*tail)
        which = 5;
    else
        return web_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND), "no such endpoint: %s", r->path);
    cv_matcher_ws *w = web_matcher_ws(r);
    if (!w)
        return -1;
    if (which == 0)
        return trips(r, w, k, tail);
    if (which == 1)
        return search(r, w);
    if (which == 3)
        return messages(r, w, tail);
    if (which == 4)
        return web_need_scope(r, CV_SCOPE_TRIPS) ? -1 : owners(r, w, tail);
    if (which == 5)
        return web_stats(r, w);
    return bookings(r, w, tail);
}
