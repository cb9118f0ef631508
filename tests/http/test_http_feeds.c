/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_http_feeds.c — the feeds trip planners read, from a real server on 127.0.0.1 on Monaco: /feeds/siri-et.xml
   parsed back with libxml2 and checked field by field against what OpenTripPlanner's carpooling updater
   (CarpoolSiriMapper) reads: one EstimatedVehicleJourney per trip of the coming hours with its code and operator,
   at least two calls, each with one stop assignment holding an ExpectedFlexibleArea/CircularArea and a
   StopPointName, departure times on all but the last, arrival times and LatestExpectedArrivalTime on all but the
   first, in time order, the capacity and who is aboard (the accepted passenger counted), the public contact URL,
   Cancellation for a cancelled trip, nothing of a trip days away; no coordinate in it is a person's exact place;
   ETag and 304; /feeds/gtfs.zip served as a zip; the errors. (The GTFS feed's consumer test is feed_gtfs.) */
#define _GNU_SOURCE /* strcasestr */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http_client.h"

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <zip.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "feeds/stats.h"
#include "matcher/matcher.h"
#include "matcher/timeutil.h"
#include "routing/geo.h"
#include "web/server.h"
#include "test_support.h"
#include "db_target.h"

#define DB COVOIT_TMP "/http_feeds.db"

static cv_graph *graph;
static cv_matcher *matcher;
static cv_server *server;
static uint16_t port;
static int64_t offer_soon, offer_cancelled, offer_later;
static cv_stats_areas areas;   /* Monaco as a box, and a box at sea nothing starts in */
static double route_pts[2][2]; /* the passenger's places, along the first driver's route */
static double exact[24][2];    /* every stored place: origins, destinations, the passenger's pickup and drop-off */
static int nexact;

static char *text_of(json_t *doc)
{
    char *t = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return t;
}

static json_t *post(const char *path, json_t *body, int status)
{
    char *t = text_of(body);
    reply r = http_request(port, "POST", path, NULL, t, t ? strlen(t) : 0);
    free(t);
    if (r.status != status)
        fail_msg("POST %s: %d, expected %d: %s", path, r.status, status, r.raw);
    json_t *doc = json_incref(r.json);
    reply_free(&r);
    return doc;
}

/* An offer leaving at utc from (a) to (b), with its id. */
static int64_t offer(double a0, double a1, double b0, double b1, int64_t utc)
{
    char when[40];
    cv_format_datetime(utc, when);
    json_t *d = post("/v1/offers",
                     json_pack("{s:[f,f],s:[f,f],s:s,s:i,s:s}", "from", a0, a1, "to", b0, b1, "depart", when, "seats",
                               3, "owner", "driver"),
                     201);
    int64_t id = json_integer_value(json_object_get(json_object_get(d, "offer"), "id"));
    json_decref(d);
    exact[nexact][0] = a0, exact[nexact++][1] = a1;
    exact[nexact][0] = b0, exact[nexact++][1] = b1;
    return id;
}

static int setup(void **state)
{
    (void)state;
    graph = tst_build_graph(COVOIT_TEST_DATA "/monaco.osm.pbf", "http_feeds_monaco.cvg");
    tst_db_remove(DB);
    cv_error err = {0};
    if (cv_tz_set("Europe/Monaco", &err))
        return -1;
    cv_matcher_options mo = cv_matcher_defaults();
    if (cv_matcher_open(graph, tst_db(DB), &mo, (int64_t)time(NULL), &matcher, &err))
        return -1;
    cv_server_options o = cv_server_defaults();
    o.port = 0;
    o.threads = 4;
    o.quiet = 1;
    o.matcher = matcher;
    o.operator_name = "monaco-coop.example.org";
    o.public_url = "https://carpool.example.org/";
    static const double boxes[2][4] = {{7.40, 43.72, 7.44, 43.76}, {7.50, 43.60, 7.55, 43.65}};
    static const char *const names[2] = {"Monaco", "At sea"};
    areas.v = calloc(2, sizeof *areas.v);
    for (int i = 0; areas.v && i < 2; i++) {
        cv_stats_area *a = &areas.v[areas.n++];
        snprintf(a->name, sizeof a->name, "%s", names[i]);
        a->pts = malloc(5 * sizeof *a->pts);
        a->ring_end = malloc(sizeof *a->ring_end);
        const double *b = boxes[i];
        double xy[5][2] = {{b[0], b[1]}, {b[2], b[1]}, {b[2], b[3]}, {b[0], b[3]}, {b[0], b[1]}};
        for (int k = 0; k < 5; k++)
            a->pts[k] = (cv_coord){cv_fixed(xy[k][0]), cv_fixed(xy[k][1])};
        a->ring_end[0] = 5, a->nrings = 1;
        a->centre = (cv_coord){cv_fixed((b[0] + b[2]) / 2), cv_fixed((b[1] + b[3]) / 2)};
    }
    o.stats_areas = &areas;
    server = cv_server_start(graph, &o, &err);
    if (!server)
        return -1;
    port = cv_server_port(server);
    int64_t now = (int64_t)time(NULL);
    /* in an hour from the Casino to Fontvieille, with a passenger picked up on the way and accepted */
    offer_soon = offer(7.4275, 43.7396, 7.4160, 43.7290, now + 3600);
    /* the passenger's places: along the driver's own route, a quarter and three quarters of the way */
    reply rt =
        http_request(port, "GET", "/route/v1/driving/7.4275,43.7396;7.4160,43.7290?geometries=geojson", NULL, NULL, 0);
    json_t *coords = json_object_get(json_object_get(json_array_get(json_object_get(rt.json, "routes"), 0), "geometry"),
                                     "coordinates");
    size_t ncoords = json_array_size(coords);
    if (ncoords < 8)
        fail_msg("route: %s", rt.raw);
    double p[2][2];
    for (int k = 0; k < 2; k++) {
        json_t *c = json_array_get(coords, k ? 3 * ncoords / 4 : ncoords / 4);
        p[k][0] = json_number_value(json_array_get(c, 0)), p[k][1] = json_number_value(json_array_get(c, 1));
        route_pts[k][0] = p[k][0], route_pts[k][1] = p[k][1];
        exact[nexact][0] = p[k][0], exact[nexact++][1] = p[k][1];
    }
    reply_free(&rt);
    char when[40];
    cv_format_datetime(now + 3600 + 60, when);
    json_t *d = post("/v1/requests",
                     json_pack("{s:[f,f],s:[f,f],s:s,s:i,s:s}", "from", p[0][0], p[0][1], "to", p[1][0], p[1][1],
                               "depart", when, "margin_min", 30, "owner", "rider"),
                     201);
    int64_t req = json_integer_value(json_object_get(json_object_get(d, "request"), "id"));
    json_decref(d);
    char path[96];
    snprintf(path, sizeof path, "{\"offer_id\":%lld,\"request_id\":%lld}", (long long)offer_soon, (long long)req);
    reply r = http_request(port, "POST", "/v1/bookings", NULL, path, strlen(path));
    if (r.status != 201)
        fail_msg("booking: %d %s", r.status, r.raw);
    int64_t b = json_integer_value(json_object_get(json_object_get(r.json, "booking"), "id"));
    reply_free(&r);
    snprintf(path, sizeof path, "/v1/bookings/%lld/accept", (long long)b);
    json_decref(post(path, json_object(), 200));
    /* in two hours, cancelled; in three days */
    offer_cancelled = offer(7.4200, 43.7340, 7.4340, 43.7450, now + 7200);
    snprintf(path, sizeof path, "/v1/offers/%lld/cancel", (long long)offer_cancelled);
    json_decref(post(path, json_object(), 200));
    offer_later = offer(7.4200, 43.7340, 7.4340, 43.7450, now + 3 * 86400);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cv_server_stop(server);
    cv_matcher_close(matcher);
    cv_graph_close(graph);
    cv_stats_areas_free(&areas);
    return 0;
}

static xmlXPathContextPtr ctx;

static xmlXPathObjectPtr find(xmlNodePtr at, const char *xpath)
{
    ctx->node = at;
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
    if (!o)
        fail_msg("bad XPath %s", xpath);
    return o;
}

static int count(xmlNodePtr at, const char *xpath)
{
    xmlXPathObjectPtr o = find(at, xpath);
    int n = o->nodesetval ? o->nodesetval->nodeNr : 0;
    xmlXPathFreeObject(o);
    return n;
}

/* The text of the one node xpath names under at ("" when none). */
static const char *text(xmlNodePtr at, const char *xpath, char *out, size_t cap)
{
    xmlXPathObjectPtr o = find(at, xpath);
    out[0] = '\0';
    if (o->nodesetval && o->nodesetval->nodeNr == 1) {
        xmlChar *t = xmlNodeGetContent(o->nodesetval->nodeTab[0]);
        snprintf(out, cap, "%s", t ? (const char *)t : "");
        xmlFree(t);
    }
    xmlXPathFreeObject(o);
    return out;
}

static int64_t iso(xmlNodePtr at, const char *xpath)
{
    char t[64];
    int64_t utc = 0;
    cv_error err = {0};
    if (!*text(at, xpath, t, sizeof t) || cv_parse_datetime(t, &utc, &err))
        return 0;
    return utc;
}

static int header(const reply *r, const char *name, char *out, size_t cap)
{
    const char *h = strcasestr(r->raw, name);
    if (!h || h > r->body)
        return 0;
    h += strlen(name) + 1;
    while (*h == ' ')
        h++;
    size_t n = strcspn(h, "\r\n");
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), h);
    return 1;
}

static void test_siri(void **state)
{
    (void)state;
    reply r = http_request(port, "GET", "/feeds/siri-et.xml", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    char v[200], etag[64];
    assert_true(header(&r, "Content-Type", v, sizeof v));
    assert_string_equal(v, "application/xml");
    assert_true(header(&r, "ETag", etag, sizeof etag));
    xmlDocPtr doc = xmlReadMemory(r.body, (int)strlen(r.body), "siri-et.xml", NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    ctx = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(ctx, BAD_CAST "s", BAD_CAST "http://www.siri.org.uk/siri");
    xmlNodePtr root = xmlDocGetRootElement(doc);
    assert_string_equal((const char *)root->name, "Siri");
    assert_int_equal(count(root, "/s:Siri/s:ServiceDelivery/s:EstimatedTimetableDelivery/"
                                 "s:EstimatedJourneyVersionFrame"),
                     1);
    xmlXPathObjectPtr evjs = find(root, "//s:EstimatedVehicleJourney");
    assert_int_equal(evjs->nodesetval->nodeNr, 2); /* the one in an hour and the cancelled one; not the one in 3 days */
    int seen_soon = 0, seen_cancelled = 0;
    for (int j = 0; j < evjs->nodesetval->nodeNr; j++) {
        xmlNodePtr evj = evjs->nodesetval->nodeTab[j];
        char code[80], want[80], day[16], op[80], url[300];
        text(evj, "s:EstimatedVehicleJourneyCode", code, sizeof code);
        text(evj, "s:OperatorRef", op, sizeof op);
        assert_string_equal(op, "monaco-coop.example.org");
        text(evj, "s:PublicContact/s:Url", url, sizeof url);
        if (strncmp(url, "https://carpool.example.org/?journey=", 37) || strcmp(url + 37, code))
            fail_msg("PublicContact/Url %s for %s", url, code);
        xmlXPathObjectPtr calls = find(evj, "s:EstimatedCalls/s:EstimatedCall");
        int nc = calls->nodesetval ? calls->nodesetval->nodeNr : 0;
        assert_true(nc >= 2);
        int64_t start = 0, prev = 0;
        int max_onboard = 0;
        for (int i = 0; i < nc; i++) {
            xmlNodePtr c = calls->nodesetval->nodeTab[i];
            int first = i == 0, last = i == nc - 1;
            assert_true(*text(c, "s:StopPointName", v, sizeof v));
            /* exactly one stop assignment is read: the departure one, else the arrival one */
            assert_int_equal(count(c, "s:DepartureStopAssignment"), last ? 0 : 1);
            assert_int_equal(count(c, "s:ArrivalStopAssignment"), first ? 0 : 1);
            const char *assign = last ? "s:ArrivalStopAssignment" : "s:DepartureStopAssignment";
            char path[160];
            snprintf(path, sizeof path, "%s/s:ExpectedFlexibleArea/s:CircularArea", assign);
            assert_int_equal(count(c, path), 1);
            snprintf(path, sizeof path, "%s/s:ExpectedFlexibleArea/s:CircularArea/s:Radius", assign);
            assert_true(atoi(text(c, path, v, sizeof v)) >= 300);
            char lon[40], lat[40];
            snprintf(path, sizeof path, "%s/s:ExpectedFlexibleArea/s:CircularArea/s:Longitude", assign);
            text(c, path, lon, sizeof lon);
            snprintf(path, sizeof path, "%s/s:ExpectedFlexibleArea/s:CircularArea/s:Latitude", assign);
            text(c, path, lat, sizeof lat);
            cv_coord at = {cv_fixed(atof(lon)), cv_fixed(atof(lat))};
            for (int k = 0; k < nexact; k++) /* never a person's exact place */
                assert_true(cv_distance_m(at, (cv_coord){cv_fixed(exact[k][0]), cv_fixed(exact[k][1])}) > 1.0);
            if (!last) {
                int64_t dep = iso(c, "s:AimedDepartureTime");
                assert_true(dep > 0 && iso(c, "s:ExpectedDepartureTime") == dep);
                assert_true(dep >= prev);
                prev = dep;
                if (first)
                    start = dep;
                assert_int_equal(atoi(text(c, "s:ExpectedDepartureCapacities/s:TotalCapacity", v, sizeof v)), 4);
                int on = atoi(text(c, "s:ExpectedDepartureOccupancies/s:OnboardCount", v, sizeof v));
                assert_true(on >= 1);
                if (on > max_onboard)
                    max_onboard = on;
            }
            if (!first) {
                int64_t arr = iso(c, "s:AimedArrivalTime"), latest = iso(c, "s:LatestExpectedArrivalTime");
                assert_true(arr > 0 && iso(c, "s:ExpectedArrivalTime") == arr);
                assert_true(arr >= prev && latest >= arr);
                prev = arr;
            }
            if (last)
                assert_true(prev > start); /* the end after the start */
        }
        xmlXPathFreeObject(calls);
        int cancelled = count(evj, "s:Cancellation[text()='true']");
        snprintf(want, sizeof want, "offer-%lld-", (long long)offer_soon);
        if (!strncmp(code, want, strlen(want))) {
            seen_soon = 1;
            assert_int_equal(cancelled, 0);
            assert_int_equal(max_onboard, 2); /* the driver and the accepted passenger */
            cv_day d;
            cv_utc_to_local((int64_t)time(NULL) + 3600, &d, NULL, NULL);
            cv_format_date(d, day);
            assert_string_equal(code + strlen(want), day);
        }
        snprintf(want, sizeof want, "offer-%lld-", (long long)offer_cancelled);
        if (!strncmp(code, want, strlen(want))) {
            seen_cancelled = 1;
            assert_int_equal(cancelled, 1);
        }
    }
    assert_true(seen_soon && seen_cancelled);
    xmlXPathFreeObject(evjs);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    reply_free(&r);
    /* the same state: 304 */
    char h[100];
    snprintf(h, sizeof h, "If-None-Match: %s", etag);
    r = http_request(port, "GET", "/feeds/siri-et.xml", h, NULL, 0);
    assert_int_equal(r.status, 304);
    reply_free(&r);
}

static void test_gtfs_and_errors(void **state)
{
    (void)state;
    reply r = http_request(port, "GET", "/feeds/gtfs.zip", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    char v[100];
    assert_true(header(&r, "Content-Type", v, sizeof v));
    assert_string_equal(v, "application/zip");
    assert_memory_equal(r.body, "PK\x03\x04", 4);
    reply_free(&r);
    r = http_request(port, "GET", "/feeds/gtfs.zip?days=3", NULL, NULL, 0);
    assert_int_equal(r.status, 400);
    reply_free(&r);
    r = http_request(port, "GET", "/feeds/netex.xml", NULL, NULL, 0);
    assert_int_equal(r.status, 404);
    reply_free(&r);
    /* without a trip database: 503 */
    cv_server_options o = cv_server_defaults();
    o.port = 0;
    o.threads = 1;
    o.quiet = 1;
    cv_error err = {0};
    cv_server *s = cv_server_start(graph, &o, &err);
    assert_non_null(s);
    r = http_request(cv_server_port(s), "GET", "/feeds/siri-et.xml", NULL, NULL, 0);
    assert_int_equal(r.status, 503);
    reply_free(&r);
    cv_server_stop(s);
}

/* --- no driver's home in any public output --- */

/* The drivers' stored origins and destinations (exact[]: the first 2, and the last 4: offers' pairs). */
static int is_driver_place(int k)
{
    return k < 2 || k >= 4;
}

/* Fails when (lon, lat) is within a metre of a driver's stored place. */
static void not_a_home(double lon, double lat, const char *where)
{
    cv_coord c = {cv_fixed(lon), cv_fixed(lat)};
    for (int k = 0; k < nexact; k++)
        if (is_driver_place(k) && cv_distance_m(c, (cv_coord){cv_fixed(exact[k][0]), cv_fixed(exact[k][1])}) < 1.0)
            fail_msg("%s gives %.6f,%.6f: a driver's stored place", where, lon, lat);
}

/* Every [lon, lat] pair and every {..."Lat": x, ..."Lng": y} of a JSON document. */
static size_t json_places(json_t *v, const char *where)
{
    size_t n = 0;
    if (json_is_array(v) && json_array_size(v) == 2 && json_is_number(json_array_get(v, 0)) &&
        json_is_number(json_array_get(v, 1))) {
        not_a_home(json_number_value(json_array_get(v, 0)), json_number_value(json_array_get(v, 1)), where);
        return 1;
    }
    if (json_is_array(v))
        for (size_t i = 0; i < json_array_size(v); i++)
            n += json_places(json_array_get(v, i), where);
    if (json_is_object(v)) {
        const char *key;
        json_t *x;
        json_object_foreach(v, key, x)
        {
            size_t kl = strlen(key);
            if (kl > 3 && !strcmp(key + kl - 3, "Lat") && json_is_number(x)) {
                char lng[96];
                snprintf(lng, sizeof lng, "%.*sLng", (int)(kl - 3), key);
                json_t *y = json_object_get(v, lng);
                if (json_is_number(y)) {
                    not_a_home(json_number_value(y), json_number_value(x), where);
                    n++;
                }
            }
            n += json_places(x, where);
        }
    }
    return n;
}

/* The text of file name in a zip in memory. */
static char *zip_text(const char *data, size_t len, const char *name)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &ze);
    zip_t *za = src ? zip_open_from_source(src, ZIP_RDONLY, &ze) : NULL;
    char *out = NULL;
    zip_stat_t st;
    zip_file_t *f = za && zip_stat(za, name, 0, &st) == 0 ? zip_fopen(za, name, 0) : NULL;
    if (f && (out = calloc(1, st.size + 1)) && zip_fread(f, out, st.size) != (zip_int64_t)st.size) {
        free(out);
        out = NULL;
    }
    if (f)
        zip_fclose(f);
    if (za)
        zip_close(za);
    else
        zip_source_free(src);
    zip_error_fini(&ze);
    return out;
}

/* A body of reply r with its length (Content-Length): binary bodies hold NULs. */
static size_t body_len(const reply *r)
{
    char v[32];
    return header(r, "Content-Length", v, sizeof v) ? (size_t)atol(v) : strlen(r->body);
}

/* What leaves the server for anyone who asks: the GTFS feed (stops and shapes), a search with the drivers' routes,
   the interoperability standard's driver journeys. None gives a driver's stored origin or destination. (The
   SIRI-ET feed is checked the same way in test_siri.) */
static void test_no_home_in_public_outputs(void **state)
{
    (void)state;
    /* GTFS: every stop and shape point */
    reply r = http_request(port, "GET", "/feeds/gtfs.zip", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    size_t points = 0;
    for (int f = 0; f < 2; f++) {
        char *t = zip_text(r.body, body_len(&r), f ? "shapes.txt" : "stops.txt");
        assert_non_null(t);
        for (char *line = strchr(t, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
            char *fields[6] = {0};
            int nf = 0;
            for (char *p = line + 1; nf < 6 && p && *p && *p != '\n';
                 p = strpbrk(p, ",\n"), p = p && *p == ',' ? p + 1 : NULL)
                fields[nf++] = p;
            /* stops.txt: stop_id,stop_name,stop_lat,stop_lon (names have no comma here: quoted otherwise);
               shapes.txt: shape_id,shape_pt_lat,shape_pt_lon */
            double lat = atof(fields[f ? 1 : 2] ? fields[f ? 1 : 2] : "0"),
                   lon = atof(fields[f ? 2 : 3] ? fields[f ? 2 : 3] : "0");
            not_a_home(lon, lat, f ? "the GTFS shapes" : "the GTFS stops");
            points++;
        }
        free(t);
    }
    assert_true(points > 10);
    reply_free(&r);
    /* a search from the passenger's places, with the drivers' routes */
    char when[40], body[400];
    cv_format_datetime((int64_t)time(NULL) + 3600 + 60, when);
    snprintf(body, sizeof body, "{\"from\":[%.6f,%.6f],\"to\":[%.6f,%.6f],\"depart\":\"%s\",\"margin_min\":60}",
             route_pts[0][0], route_pts[0][1], route_pts[1][0], route_pts[1][1], when);
    r = http_request(port, "POST", "/v1/search?geometry=true", NULL, body, strlen(body));
    assert_int_equal(r.status, 200);
    assert_true(json_array_size(json_object_get(r.json, "matches")) >= 1);
    assert_true(json_places(r.json, "a search") > 10);
    reply_free(&r);
    /* the standard's driver journeys for the same trip */
    char path[400];
    snprintf(path, sizeof path,
             "/stdcov/v1/driver_journeys?departureLat=%.6f&departureLng=%.6f&arrivalLat=%.6f&arrivalLng=%.6f&"
             "departureDate=%lld&timeDelta=3600",
             route_pts[0][1], route_pts[0][0], route_pts[1][1], route_pts[1][0], (long long)time(NULL) + 3600 + 60);
    r = http_request(port, "GET", path, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_true(json_array_size(r.json) >= 1);
    assert_true(json_places(r.json, "the standard's driver journeys") >= 2);
    reply_free(&r);
}

/* GET /v1/stats: five drivers and a passenger matched on one date, in one cell, shown with the km shared and
   avoided; a date with a single trip suppressed (k-anonymity); CSV; the errors. */
static void test_stats(void **state)
{
    (void)state;
    int64_t t = (int64_t)time(NULL) + 2 * 86400;
    int64_t first = 0;
    for (int i = 0; i < 5; i++) {
        int64_t id = offer(7.4275, 43.7396, 7.4160, 43.7290, t + 60 * i);
        if (!i)
            first = id;
    }
    nexact -= 10; /* these are no one's home: keep the list of the first trips for the other tests */
    char when[40], body[400], path[400];
    cv_format_datetime(t + 60, when);
    snprintf(body, sizeof body,
             "{\"from\":[%.6f,%.6f],\"to\":[%.6f,%.6f],\"depart\":\"%s\",\"margin_min\":30,\"owner\":\"stats-rider\"}",
             route_pts[0][0], route_pts[0][1], route_pts[1][0], route_pts[1][1], when);
    json_t *d = post("/v1/requests", json_loads(body, 0, NULL), 201);
    int64_t req = json_integer_value(json_object_get(json_object_get(d, "request"), "id"));
    json_decref(d);
    snprintf(body, sizeof body, "{\"offer_id\":%lld,\"request_id\":%lld}", (long long)first, (long long)req);
    d = post("/v1/bookings", json_loads(body, 0, NULL), 201);
    snprintf(path, sizeof path, "/v1/bookings/%lld/accept",
             (long long)json_integer_value(json_object_get(json_object_get(d, "booking"), "id")));
    json_decref(d);
    json_decref(post(path, json_object(), 200));
    cv_day day;
    cv_utc_to_local(t, &day, NULL, NULL);
    char ds[16];
    cv_format_date(day, ds);
    snprintf(path, sizeof path, "/v1/stats?from=%s&to=%s&cell_km=50", ds, ds);
    reply r = http_request(port, "GET", path, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    json_t *rows = json_object_get(r.json, "rows");
    assert_int_equal(json_array_size(rows), 1);
    json_t *row = json_array_get(rows, 0);
    assert_int_equal(json_integer_value(json_object_get(row, "offered")), 5);
    assert_int_equal(json_integer_value(json_object_get(row, "requested")), 1);
    assert_int_equal(json_integer_value(json_object_get(row, "matched")), 1);
    double shared = json_number_value(json_object_get(row, "shared_km")),
           avoided = json_number_value(json_object_get(row, "vehicle_km_avoided")),
           co2 = json_number_value(json_object_get(row, "co2_kg_avoided"));
    assert_true(shared > 0.3 && avoided <= shared + 0.05);
    assert_true(fabs(co2 - avoided * 0.218) < 0.1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r.json, "total"), "offered")), 5);
    assert_int_equal(json_integer_value(json_object_get(r.json, "k")), 5);
    reply_free(&r);
    /* the date of the trip in three days: one driver, not shown */
    cv_utc_to_local((int64_t)time(NULL) + 3 * 86400, &day, NULL, NULL);
    cv_format_date(day, ds);
    snprintf(path, sizeof path, "/v1/stats?from=%s&to=%s&cell_km=50", ds, ds);
    r = http_request(port, "GET", path, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "rows")), 0);
    assert_int_equal(json_integer_value(json_object_get(r.json, "suppressed")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r.json, "total"), "offered")), 0);
    reply_free(&r);
    /* CSV */
    cv_utc_to_local(t, &day, NULL, NULL);
    cv_format_date(day, ds);
    snprintf(path, sizeof path, "/v1/stats?from=%s&to=%s&cell_km=50&format=csv", ds, ds);
    r = http_request(port, "GET", path, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_true(!strncmp(r.body,
                         "week,cell_lon,cell_lat,offered,requested,matched,shared_km,vehicle_km_avoided,"
                         "co2_kg_avoided\n",
                         87));
    assert_non_null(strstr(r.body, ",5,1,1,"));
    reply_free(&r);
    /* by the areas of a local authority: all in Monaco's, none at sea */
    snprintf(path, sizeof path, "/v1/stats?from=%s&to=%s&area=areas", ds, ds);
    r = http_request(port, "GET", path, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    rows = json_object_get(r.json, "rows");
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "area")), "Monaco");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "offered")), 5);
    assert_string_equal(json_string_value(json_object_get(r.json, "area")), "areas");
    reply_free(&r);
    snprintf(path, sizeof path, "/v1/stats?from=%s&to=%s&area=areas&format=csv", ds, ds);
    r = http_request(port, "GET", path, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "week,area,area_lon,area_lat,offered"));
    assert_non_null(strstr(r.body, ",\"Monaco\",7.42000,43.74000,5,1,1,"));
    reply_free(&r);
    /* errors */
    static const char *const bad[] = {
        "/v1/stats?area=districts", "/v1/stats?cell_km=0.5",    "/v1/stats?from=2030-02-01&to=2030-01-01",
        "/v1/stats?format=xml",     "/v1/stats?from=yesterday", "/v1/stats?area=x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        r = http_request(port, "GET", bad[i], NULL, NULL, 0);
        if (r.status != 400)
            fail_msg("%s: %d %s", bad[i], r.status, r.raw);
        reply_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siri),
        cmocka_unit_test(test_gtfs_and_errors),
        cmocka_unit_test(test_no_home_in_public_outputs),
        cmocka_unit_test(test_stats),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    xmlCleanupParser();
    return rc;
}
