/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* places_api.c — GET /v1/places (autocomplete: places whose names hold the words typed, near a point first) and
   GET /v1/places/reverse (the street and number at a point): the place index of places.h, and the graph's street
   names for the street a point lies on. docs/API.md, "Places". */
#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "places/places.h"
#include "routing/snap.h"
#include "web/osrm_json.h"
#include "web/web_int.h"

#define BAD MHD_HTTP_BAD_REQUEST
#define REVERSE_ADDRESS_M 60.0 /* a house number this near the point is its address */
#define REVERSE_STREET_M 300.0 /* the nearest road this near names its street */

/* "lon,lat" into *c; web_error and -1 when it is not one. */
static int lonlat(web_req *r, const char *key, const char *v, cv_coord *c)
{
    double lon, lat;
    int used = 0;
    if (sscanf(v, "%lf,%lf%n", &lon, &lat, &used) != 2 || v[used] || !(lon >= -180 && lon <= 180) ||
        !(lat >= -90 && lat <= 90))
        return web_error(r, BAD, osrm_word(OSRM_INVALID_VALUE),
                         "%s='%.60s': a longitude and a latitude in degrees, lon,lat", key, v);
    *c = (cv_coord){cv_fixed(lon), cv_fixed(lat)};
    return 0;
}

static json_t *place_json(const cv_place *p, int with_distance)
{
    char label[300];
    snprintf(label, sizeof label, "%s%s%s", p->name, p->detail[0] ? ", " : "", p->detail);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:[f,f]}", "name", p->name, "kind", cv_place_kind_name(p->kind), "detail",
                          p->detail, "label", label, "location", round(cv_deg(p->at.lon) * 1e6) / 1e6,
                          round(cv_deg(p->at.lat) * 1e6) / 1e6);
    if (o && with_distance)
        json_object_set_new(o, "distance_m", json_real(round(p->distance_m * 10) / 10));
    return o;
}

static int search(web_req *r)
{
    static const char *const allowed[] = {"q", "near", "limit", NULL};
    if (web_check_args(r, allowed))
        return -1;
    const char *q = web_arg(r, "q"), *near = web_arg(r, "near"), *lim = web_arg(r, "limit");
    if (!q || !*q)
        return web_error(r, BAD, osrm_word(OSRM_INVALID_QUERY), "q: the words to look for are missing");
    if (strlen(q) > 200)
        return web_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "q: at most 200 bytes");
    cv_coord at = {0, 0};
    if (near && lonlat(r, "near", near, &at))
        return -1;
    long limit = 10;
    if (lim) {
        char *end;
        limit = strtol(lim, &end, 10);
        if (!*lim || *end || limit < 1 || limit > CV_PLACES_LIMIT_MAX)
            return web_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "limit='%.30s': a whole number from 1 to %d", lim,
                             CV_PLACES_LIMIT_MAX);
    }
    cv_place found[CV_PLACES_LIMIT_MAX];
    size_t n = 0;
    cv_error err = {0};
    pthread_mutex_lock(r->places_mu);
    int rc = cv_places_search(r->places, q, near != NULL, at, (int)limit, found, &n, &err);
    pthread_mutex_unlock(r->places_mu);
    if (rc == CV_EINVAL)
        return web_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "%s", err.text);
    if (rc)
        return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_word(OSRM_ERROR), "%s", err.text);
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++)
        json_array_append_new(list, place_json(&found[i], near != NULL));
    return web_ok(r, list ? json_pack("{s:s,s:o}", "code", osrm_word(OSRM_OK), "places", list) : NULL);
}

static int reverse(web_req *r)
{
    static const char *const allowed[] = {"at", NULL};
    if (web_check_args(r, allowed))
        return -1;
    const char *v = web_arg(r, "at");
    if (!v)
        return web_error(r, BAD, osrm_word(OSRM_INVALID_QUERY), "at: the point (lon,lat) is missing");
    cv_coord at;
    if (lonlat(r, "at", v, &at))
        return -1;
    /* the street: the road the point snaps to, by its name in the graph */
    cv_snap_options so = cv_snap_defaults();
    so.max_distance_m = REVERSE_STREET_M;
    cv_snap s;
    const char *street = NULL;
    double street_m = 0;
    if (!cv_snap_point(r->g, at, &so, &s, NULL)) {
        const cv_street_name *nm = cv_graph_edge_name(r->g, s.edge);
        const char *name = cv_graph_string(r->g, nm->name);
        if (name && *name)
            street = name, street_m = cv_distance_m(at, s.location);
    }
    cv_place addr, stop, settlement, road;
    cv_error err = {0};
    pthread_mutex_lock(r->places_mu);
    /* the road nearest may have no name (a service road, a parking aisle): then the named street nearest */
    int has_road = street ? 0 : cv_places_nearest(r->places, at, CV_PLACE_STREET, REVERSE_STREET_M, &road, &err);
    if (has_road == 1)
        street = road.name, street_m = road.distance_m;
    int has_addr = has_road >= 0 ? cv_places_nearest_address(r->places, at, REVERSE_ADDRESS_M, &addr, &err) : -1;
    int has_stop = has_addr >= 0 ? cv_places_nearest(r->places, at, CV_PLACE_STOP, 300, &stop, &err) : -1;
    int has_set = has_stop >= 0 ? cv_places_nearest(r->places, at, CV_PLACE_SETTLEMENT, 5000, &settlement, &err) : -1;
    pthread_mutex_unlock(r->places_mu);
    if (has_addr < 0 || has_stop < 0 || has_set < 0)
        return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_word(OSRM_ERROR), "%s", err.text);
    /* a house number on that street (or, with no street known, the nearest one) names the point best */
    char label[300] = "";
    if (has_addr && (!street || !strncmp(addr.name, street, strlen(street))))
        snprintf(label, sizeof label, "%s", addr.name);
    else if (street)
        snprintf(label, sizeof label, "%s", street);
    else if (has_stop)
        snprintf(label, sizeof label, "%s", stop.name);
    if (!label[0] && !has_set) /* nothing named near: an answer too, not an error */
        return web_ok(r, json_pack("{s:s,s:n}", "code", osrm_word(OSRM_OK), "label"));
    json_t *doc = json_pack("{s:s,s:s}", "code", osrm_word(OSRM_OK), "label", label[0] ? label : settlement.name);
    if (doc && street)
        json_object_set_new(doc, "street",
                            json_pack("{s:s,s:f}", "name", street, "distance_m", round(street_m * 10) / 10));
    if (doc && has_addr)
        json_object_set_new(doc, "address", place_json(&addr, 1));
    if (doc && has_stop)
        json_object_set_new(doc, "stop", place_json(&stop, 1));
    if (doc && has_set)
        json_object_set_new(doc, "settlement", json_string(settlement.name));
    if (doc && label[0] && has_set && strcmp(label, settlement.name)) {
        char full[400];
        snprintf(full, sizeof full, "%s, %s", label, settlement.name);
        json_object_set_new(doc, "label", json_string(full));
    }
    return web_ok(r, doc);
}

int web_places(web_req *r)
{
    if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")) {
        r->allow = "GET, HEAD";
        return web_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, osrm_word(OSRM_METHOD_NOT_ALLOWED),
                         "%s is not allowed on %s: use GET", r->method, r->path);
    }
    if (!r->places)
        return web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, osrm_word(OSRM_UNAVAILABLE),
                         "no place index: this server runs without one (covoit import writes GRAPH.places beside the "
                         "graph; covoit serve --places FILE)");
    if (!*r->rest)
        return search(r);
    if (!strcmp(r->rest, "/reverse"))
        return reverse(r);
    return web_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND), "no such endpoint: %s", r->path);
}
