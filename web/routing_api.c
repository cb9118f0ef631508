/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* routing_api.c — the OSRM-compatible routing service: /route/v1, /table/v1, /nearest/v1 and /health. URL
   grammar → validated parameters → routing/ → osrm_json, with OSRM's codes (every non-Ok answer is a 400, as OSRM
   gives it). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "matcher/timeutil.h"
#include "web/osrm_json.h"
#include "web/web_int.h"

#define BAD MHD_HTTP_BAD_REQUEST

/* The largest snapping radius: `unlimited`, and any larger radius, mean this. The snapper walks its grid ring by
   ring out to the radius and stops early only once it has found a road of the main network, so a point with none
   near (at sea, beside an isolated road) costs every cell within the radius, and a point far off the map, which a
   limit smaller than its distance to the grid rejects at once, costs every ring from it to the grid: one point on
   another continent took 0.2 s with the Porto graph and no limit (AddressSanitizer build). 10 km bounds one snap to
   about 110k cells of the smallest size (60 m); a point at sea 10 km from any road of Porto takes 0.1 ms. No point
   worth snapping is that far from a road. */
#define RADIUS_MAX_M 10000.0

/* --- URL grammar --- */

/* Checks the profile segment of rest ("driving/...") and returns what follows it, or NULL after web_error. This
   server has one profile, the car's: OSRM's usual names for it are accepted. */
static const char *after_profile(web_req *r)
{
    const char *slash = strchr(r->rest, '/');
    if (!slash) {
        web_error(r, BAD, osrm_word(OSRM_INVALID_URL), "URL must be /{service}/v1/{profile}/{coordinates}");
        return NULL;
    }
    size_t n = (size_t)(slash - r->rest);
    if (!((n == 7 && !strncmp(r->rest, "driving", 7)) || (n == 3 && !strncmp(r->rest, "car", 3)))) {
        web_error(r, BAD, osrm_word(OSRM_INVALID_URL),
                  "profile '%.*s' is not served: this server routes cars ('driving')", (int)(n < 60 ? n : 60), r->rest);
        return NULL;
    }
    return slash + 1;
}

/* True when text is two decimal numbers separated by a comma (whatever their range). */
static int two_numbers(const char *text)
{
    char *end;
    errno = 0;
    strtod(text, &end);
    if (end == text || *end != ',')
        return 0;
    const char *lat = end + 1;
    strtod(lat, &end);
    return end != lat && !*end && !errno;
}

/* Parses "lon,lat;lon,lat[...][.json]" into a new array of at most max coordinates. Returns the count, or -1
   after web_error (InvalidUrl for text that is not coordinates, InvalidValue for out-of-range ones, TooBig beyond
   max). */
static long parse_coords(web_req *r, const char *text, size_t max, cv_coord **out)
{
    size_t len = strlen(text);
    if (len > 5 && !strcmp(text + len - 5, ".json"))
        len -= 5;
    if (!len)
        return web_error(r, BAD, osrm_word(OSRM_INVALID_URL), "no coordinates in the URL");
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += text[i] == ';';
    if (n > max)
        return web_error(r, BAD, osrm_word(OSRM_TOO_BIG), "%zu coordinates, at most %zu in one request", n, max);
    cv_coord *c = malloc(n * sizeof *c);
    char *copy = malloc(len + 1);
    if (!c || !copy) {
        free(c), free(copy);
        return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_word(OSRM_ERROR), "out of memory");
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    char *item = copy;
    for (size_t k = 0; k < n; k++) {
        char *semi = strchr(item, ';');
        if (semi)
            *semi = '\0';
        if (cv_parse_lonlat(item, &c[k])) {
            if (two_numbers(item))
                web_error(r, BAD, osrm_word(OSRM_INVALID_VALUE),
                          "coordinate %zu (%.60s) is out of range: longitude in [-180, 180], latitude in [-90, 90], "
                          "lon,lat order",
                          k, item);
            else
                web_error(r, BAD, osrm_word(OSRM_INVALID_URL),
                          "coordinate %zu ('%.60s') is not LON,LAT in decimal degrees", k, item);
            free(c), free(copy);
            return -1;
        }
        item = semi ? semi + 1 : item;
    }
    free(copy);
    *out = c;
    return (long)n;
}

/* --- query parameters --- */

/* Index of the value of key among choices (NULL-terminated), def when absent, or -1 after web_error. */
static int choice_arg(web_req *r, const char *key, const char *const *choices, int def)
{
    const char *v = web_arg(r, key);
    if (!v)
        return def;
    for (int i = 0; choices[i]; i++)
        if (!strcmp(v, choices[i]))
            return i;
    char list[200] = "";
    for (int i = 0; choices[i]; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, choices[i], sizeof list - strlen(list) - 1);
    }
    return web_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "%s='%.60s': must be one of %s", key, v, list);
}

static const char *const bools[] = {"false", "true", NULL};

/* The parameters every service shares. Hints are always empty here (a graph file maps in milliseconds, so there
   is nothing to save by sending them back), so generate_hints is accepted and has no effect, and so are hints
   ("{hint};{hint}...", which clients such as Leaflet Routing Machine send back by default): ignored. */
static int common_args(web_req *r)
{
    if (choice_arg(r, "generate_hints", bools, 1) < 0)
        return -1;
    return 0;
}

/* Parses radiuses ("{radius};{radius}...", OSRM's: one per coordinate, metres >= 0 or `unlimited`, empty for the
   default) into radii[n], the snapping limit of each coordinate in metres; without the parameter every one is the
   default (300 m). Returns 0, or -1 after web_error: InvalidValue for a value that is not a radius, then
   InvalidOptions (OSRM's code for it) when the count is not that of the coordinates. */
static int parse_radiuses(web_req *r, size_t n, double *radii)
{
    for (size_t i = 0; i < n; i++)
        radii[i] = CV_SNAP_DEFAULT_MAX_M;
    const char *v = web_arg(r, "radiuses");
    if (!v)
        return 0;
    size_t cnt = 1;
    for (const char *p = v; *p; p++)
        cnt += *p == ';';
    const char *p = v;
    for (size_t i = 0; i < cnt; i++) {
        size_t k = strcspn(p, ";");
        double x = CV_SNAP_DEFAULT_MAX_M;
        if (k == 9 && !strncmp(p, "unlimited", 9)) {
            x = RADIUS_MAX_M;
        } else if (k) {
            /* a plain decimal number: strtod alone would also take spaces, signs, hex, inf and nan */
            char *end = NULL;
            if (((*p >= '0' && *p <= '9') || *p == '.') && strspn(p, "0123456789.eE+-") >= k)
                x = strtod(p, &end);
            if (end != p + k || !isfinite(x)) /* web_error keeps the quote valid UTF-8 */
                return web_error(r, BAD, osrm_word(OSRM_INVALID_VALUE),
                                 "radiuses: value %zu ('%.*s') is not a radius: give metres >= 0, 'unlimited', or "
                                 "nothing for the default (%g m)",
                                 i, (int)(k < 60 ? k : 60), p, CV_SNAP_DEFAULT_MAX_M);
            if (x > RADIUS_MAX_M)
                x = RADIUS_MAX_M;
        }
        if (i < n)
            radii[i] = x;
        p += k + (p[k] == ';');
    }
    if (cnt != n)
        return web_error(r, BAD, osrm_word(OSRM_INVALID_OPTIONS),
                         "radiuses: %zu value%s for %zu coordinate%s: give one per coordinate", cnt,
                         cnt == 1 ? "" : "s", n, n == 1 ? "" : "s");
    return 0;
}

/* Snaps every coordinate within its radius (the radiuses parameter, else the default); NoSegment names the first
   one too far from a road. Returns 0 or -1 after web_error. */
static int snap_all(web_req *r, const cv_coord *c, size_t n, cv_snap *out)
{
    double one, *radii = n == 1 ? &one : malloc(n * sizeof *radii);
    if (!radii)
        return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_word(OSRM_ERROR), "out of memory");
    int rc = parse_radiuses(r, n, radii);
    cv_snap_options o = cv_snap_defaults();
    cv_error err = {0};
    for (size_t i = 0; !rc && i < n; i++) {
        /* the snapper reads a limit <= 0 as its default: for a radius of 0 the least positive double keeps only a
           road through the point itself */
        o.max_distance_m = radii[i] > 0 ? radii[i] : DBL_MIN;
        if (cv_snap_point(r->g, c[i], &o, &out[i], &err) == 0)
            continue;
        if (err.code == CV_ENOSEGMENT)
            rc = web_error(r, BAD, osrm_word(OSRM_NO_SEGMENT), "coordinate %zu: no road within %g m of %.7f,%.7f", i,
                           radii[i], cv_deg(c[i].lon), cv_deg(c[i].lat));
        else
            rc = web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_code(err.code), "coordinate %zu: %s", i, err.text);
    }
    if (radii != &one)
        free(radii);
    return rc;
}

/* The waypoint objects of s[idx[0]], s[idx[1]]... (idx NULL: s[0..n-1]), each named after its street. */
static json_t *waypoints_json(const cv_graph *g, const cv_snap *s, const size_t *idx, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, osrm_json_waypoint(g, &s[idx ? idx[i] : i]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* --- /route/v1 --- */

/* OSRM's annotations of a route: true (every kind served), false, or kinds separated by ','. Returns ANNOTATE_*
   bits, or -1 after web_error (InvalidValue). OSRM's `nodes` is refused by name: its values are OSM node ids,
   which the graph file does not keep (its nodes are dense ids, and the points inside an edge have none). */
static int annotations_arg(web_req *r)
{
    const char *v = web_arg(r, "annotations");
    if (!v || !strcmp(v, "false"))
        return 0;
    if (!strcmp(v, "true"))
        return OSRM_ANNOTATE_ALL;
    const osrm_annotation_kind *kinds = osrm_annotation_kinds;
    int bits = 0;
    for (const char *p = v;;) {
        size_t k = strcspn(p, ","), i = 0;
        while (i < OSRM_ANNOTATION_KINDS && !(strlen(kinds[i].name) == k && !strncmp(p, kinds[i].name, k)))
            i++;
        if (k == 5 && !strncmp(p, "nodes", 5))
            return web_error(r, BAD, osrm_word(OSRM_INVALID_VALUE),
                             "annotations: nodes is not supported: the graph file does not keep OSM node ids; ask "
                             "for distance, duration, datasources, weight or speed");
        if (i == OSRM_ANNOTATION_KINDS)
            return web_error(r, BAD, osrm_word(OSRM_INVALID_VALUE),
                             "annotations='%.60s': give true, false, or kinds separated by ',' among distance, "
                             "duration, datasources, weight, speed",
                             v);
        bits |= kinds[i].bit;
        if (!p[k])
            break;
        p += k + 1;
    }
    return bits;
}

int web_route(web_req *r)
{
    static const char *const allowed[] = {
        "geometries",     "overview", "steps",          "alternatives", "annotations", "continue_straight",
        "generate_hints", "hints",    "skip_waypoints", "radiuses",     NULL};
    static const char *const geometries[] = {"polyline", "polyline6", "geojson", NULL};
    static const char *const overviews[] = {"full", "simplified", "false", NULL};
    static const char *const straight[] = {"default", "true", "false", NULL};
    const char *coords = after_profile(r);
    if (!coords || web_check_args(r, allowed) || common_args(r))
        return -1;
    int geometry = choice_arg(r, "geometries", geometries, OSRM_GEOM_POLYLINE);
    /* OSRM's default overview is simplified, which gives the full geometry here (see osrm_json.c). */
    int overview = geometry < 0 ? -1 : choice_arg(r, "overview", overviews, OSRM_OVERVIEW_SIMPLIFIED);
    int steps = overview < 0 ? -1 : choice_arg(r, "steps", bools, 0);
    int annotations = steps < 0 ? -1 : annotations_arg(r);
    int skip_wp = annotations < 0 ? -1 : choice_arg(r, "skip_waypoints", bools, 0);
    /* continue_straight is about u-turns at waypoints; routes here never turn round mid-road (there are no nodes
       inside an edge), so every value gives the same route. */
    if (skip_wp < 0 || choice_arg(r, "continue_straight", straight, 0) < 0)
        return -1;
    /* alternatives: OSRM returns at most the number asked for, possibly fewer; this server returns the fastest
       route only, which is an answer OSRM gives too. */
    const char *alt = web_arg(r, "alternatives");
    if (alt && strcmp(alt, "true") && strcmp(alt, "false")) {
        char *end;
        unsigned long k = strtoul(alt, &end, 10);
        if (!*alt || *end || k > 10)
            return web_error(r, BAD, osrm_word(OSRM_INVALID_VALUE),
                             "alternatives='%.60s': must be true, false or a number", alt);
    }
    cv_coord *c = NULL;
    long n = parse_coords(r, coords, r->max_route_coords, &c);
    if (n < 0)
        return -1;
    if (n < 2) {
        free(c);
        return web_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "a route needs at least two coordinates");
    }
    cv_snap *s = calloc((size_t)n, sizeof *s);
    cv_path *paths = calloc((size_t)n - 1, sizeof *paths);
    int rc = 0;
    if (!s || !paths)
        rc = web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_word(OSRM_ERROR), "out of memory");
    if (!rc)
        rc = snap_all(r, c, (size_t)n, s);
    cv_error err = {0};
    /* without geometry, steps or annotations, a leg is its distance, duration and weight: the search alone gives
       them, with nothing unpacked (the same figures, tested) */
    int cost_only = overview == OSRM_OVERVIEW_FALSE && !steps && !annotations;
    for (long i = 0; !rc && i + 1 < n; i++) {
        if (cost_only) {
            cv_table_cell c;
            if (cv_ch_cost(r->q, &s[i], &s[i + 1], &c) == 0) {
                paths[i].weight = c.weight;
                paths[i].duration_ds = c.duration_ds;
                paths[i].distance_dm = c.distance_dm;
                continue;
            }
            cv_fail(&err, CV_ENOROUTE, "no route from %.7f,%.7f to %.7f,%.7f", cv_deg(s[i].location.lon),
                    cv_deg(s[i].location.lat), cv_deg(s[i + 1].location.lon), cv_deg(s[i + 1].location.lat));
        } else if (cv_ch_route(r->q, &s[i], &s[i + 1], &paths[i], &err) == 0) {
            continue;
        }
        rc = web_error(r, err.code == CV_ENOROUTE ? BAD : MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_code(err.code),
                       "no route from coordinate %ld to coordinate %ld: %s", i, i + 1, err.text);
    }
    if (!rc) {
        json_t *doc =
            json_pack("{s:s,s:[o]}", "code", osrm_word(OSRM_OK), "routes",
                      osrm_json_route_legs(r->g, paths, (size_t)n - 1, geometry, overview, steps, annotations));
        if (doc && !skip_wp && json_object_set_new(doc, "waypoints", waypoints_json(r->g, s, NULL, (size_t)n))) {
            json_decref(doc);
            doc = NULL;
        }
        web_ok(r, doc);
    }
    for (long i = 0; paths && i + 1 < n; i++)
        cv_path_free(&paths[i]);
    free(paths), free(s), free(c);
    return rc;
}

/* --- /table/v1 --- */

/* Parses "all" or "i;j;k" (indexes below n) into a new array. Returns the count or -1 after web_error. */
static long parse_indexes(web_req *r, const char *key, size_t n, size_t **out)
{
    const char *v = web_arg(r, key);
    size_t cnt = 1;
    if (v && strcmp(v, "all"))
        for (const char *p = v; *p; p++)
            cnt += *p == ';';
    else
        cnt = n;
    size_t *idx = malloc((cnt ? cnt : 1) * sizeof *idx);
    if (!idx)
        return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_word(OSRM_ERROR), "out of memory");
    if (!v || !strcmp(v, "all")) {
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
    } else {
        const char *p = v;
        for (size_t k = 0; k < cnt; k++) {
            char *end;
            errno = 0;
            unsigned long x = strtoul(p, &end, 10);
            if (end == p || *p == '-' || *p == '+' || errno || (*end && *end != ';')) {
                free(idx);
                return web_error(r, BAD, osrm_word(OSRM_INVALID_QUERY),
                                 "%s='%.60s': give 'all' or indexes separated by ';'", key, v);
            }
            if (x >= n) {
                free(idx);
                return web_error(r, BAD, osrm_word(OSRM_INVALID_VALUE),
                                 "%s: index %lu is out of range (%zu coordinates)", key, x, n);
            }
            idx[k] = x;
            p = end + (*end == ';');
        }
    }
    *out = idx;
    return (long)cnt;
}

int web_table(web_req *r)
{
    static const char *const allowed[] = {"sources", "destinations",   "annotations", "generate_hints",
                                          "hints",   "skip_waypoints", "radiuses",    NULL};
    const char *coords = after_profile(r);
    if (!coords || web_check_args(r, allowed) || common_args(r))
        return -1;
    int skip_wp = choice_arg(r, "skip_waypoints", bools, 0);
    if (skip_wp < 0)
        return -1;
    int want_dur = 0, want_dist = 0;
    const char *ann = web_arg(r, "annotations");
    if (!ann) {
        want_dur = 1; /* OSRM's default */
    } else {
        for (const char *p = ann;;) {
            size_t k = strcspn(p, ",");
            if (k == 8 && !strncmp(p, "duration", 8))
                want_dur = 1;
            else if (k == 8 && !strncmp(p, "distance", 8))
                want_dist = 1;
            else
                return web_error(r, BAD, osrm_word(OSRM_INVALID_VALUE),
                                 "annotations='%.60s': give duration, distance or both separated by ','", ann);
            if (!p[k])
                break;
            p += k + 1;
        }
    }
    cv_coord *c = NULL;
    long n = parse_coords(r, coords, r->max_table_coords, &c);
    if (n < 0)
        return -1;
    size_t *si = NULL, *di = NULL;
    long ns = parse_indexes(r, "sources", (size_t)n, &si);
    long nd = ns < 0 ? -1 : parse_indexes(r, "destinations", (size_t)n, &di);
    cv_snap *s = NULL, *ss = NULL, *sd = NULL;
    cv_table_cell *cells = NULL;
    int rc = nd < 0 ? -1 : 0;
    if (!rc) {
        s = calloc((size_t)n, sizeof *s);
        ss = calloc((size_t)ns + 1, sizeof *ss);
        sd = calloc((size_t)nd + 1, sizeof *sd);
        cells = malloc(((size_t)ns * (size_t)nd + 1) * sizeof *cells);
        if (!s || !ss || !sd || !cells)
            rc = web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_word(OSRM_ERROR), "out of memory");
    }
    if (!rc)
        rc = snap_all(r, c, (size_t)n, s);
    cv_error err = {0};
    if (!rc) {
        for (long i = 0; i < ns; i++)
            ss[i] = s[si[i]];
        for (long j = 0; j < nd; j++)
            sd[j] = s[di[j]];
        if (cv_ch_table(r->q, ss, (size_t)ns, sd, (size_t)nd, cells, &err))
            rc = web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_code(err.code), "%s", err.text);
    }
    if (!rc) {
        json_t *doc = json_pack("{s:s}", "code", osrm_word(OSRM_OK));
        if (doc &&
            (osrm_json_table_set(doc, cells, (size_t)ns, (size_t)nd, want_dur, want_dist) ||
             (!skip_wp && (json_object_set_new(doc, "sources", waypoints_json(r->g, s, si, (size_t)ns)) ||
                           json_object_set_new(doc, "destinations", waypoints_json(r->g, s, di, (size_t)nd)))))) {
            json_decref(doc);
            doc = NULL;
        }
        web_ok(r, doc);
    }
    free(c), free(si), free(di), free(s), free(ss), free(sd), free(cells);
    return rc;
}

/* --- /nearest/v1 --- */

int web_nearest(web_req *r)
{
    static const char *const allowed[] = {"number", "generate_hints", "hints", "radiuses", NULL};
    const char *coords = after_profile(r);
    if (!coords || web_check_args(r, allowed) || common_args(r))
        return -1;
    const char *num = web_arg(r, "number");
    if (num) {
        char *end;
        unsigned long k = strtoul(num, &end, 10);
        if (!*num || *end || *num == '-' || k < 1)
            return web_error(r, BAD, osrm_word(OSRM_INVALID_VALUE),
                             "number='%.60s': must be a whole number of at least 1", num);
        if (k > 1)
            return web_error(r, BAD, osrm_word(OSRM_INVALID_VALUE),
                             "number=%lu is not supported yet: only the nearest road (1)", k);
    }
    cv_coord *c = NULL;
    long n = parse_coords(r, coords, 1, &c);
    if (n < 0)
        return -1;
    cv_snap s;
    int rc = snap_all(r, c, 1, &s);
    free(c);
    if (!rc)
        web_ok(r, json_pack("{s:s,s:[o]}", "code", osrm_word(OSRM_OK), "waypoints", osrm_json_waypoint(r->g, &s)));
    return rc;
}

/* --- /health --- */

int web_health(web_req *r)
{
    if (r->nargs)
        return web_error(r, BAD, osrm_word(OSRM_INVALID_QUERY), "/health takes no parameters");
    const cv_graph_header *h = &r->g->hdr;
    char built[32];
    time_t t = (time_t)h->created_unix;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(built, sizeof built, "%Y-%m-%dT%H:%M:%SZ", &tm); /* ISO 8601, as every time covoit writes */
    /* bbox (min lon, min lat, max lon, max lat): what the map page fits its view to at start; page.tiles: the
       basemap the operator chose (--tile-url), null for none */
    json_t *vt = r->tiles ? json_pack("{s:s,s:i,s:i}", "url", "/tiles/{z}/{x}/{y}.pbf", "minzoom", r->tiles_minzoom,
                                      "maxzoom", r->tiles_maxzoom)
                          : json_null();
    /* licence.source: where the source of this covoit is (AGPL-3.0 section 13), as the operator says; the page
       links to it */
    const char *src = web_server_options(r->server)->source_url;
    return web_ok(r,
                  json_pack("{s:s,s:s,s:s,s:{s:s,s:s?},s:{s:s?,s:o},s:{s:s#,s:s#,s:I,s:I,s:I,s:I,s:s,s:[ffff]}}",
                            "code", osrm_word(OSRM_OK), "status", "ready", "time_zone", cv_tz_name(), "licence", "spdx",
                            "AGPL-3.0-or-later", "source", src, "page", "tiles", r->tile_url, "vector_tiles", vt,
                            "graph", "source", h->source, (int)strnlen(h->source, sizeof h->source), "osm_timestamp",
                            h->osm_timestamp, (int)strnlen(h->osm_timestamp, sizeof h->osm_timestamp), "nodes",
                            (json_int_t)h->nnodes, "edges", (json_int_t)h->nedges, "restrictions",
                            (json_int_t)h->nrestrictions, "shortcuts", (json_int_t)h->nch_shortcuts, "created", built,
                            "bbox", cv_deg(h->bbox[0]), cv_deg(h->bbox[1]), cv_deg(h->bbox[2]), cv_deg(h->bbox[3])));
}
