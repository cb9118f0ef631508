/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* feeds_api.c — the feeds a territory's trip planners read: GET /feeds/gtfs.zip (feeds/gtfs.h), made again when the
   trips change (the store's change log moves on) or the day does, and GET /feeds/siri-et.xml (feeds/siri.h), made
   again when the trips change or a minute has passed (its window moves with the clock); each kept between, with an
   ETag naming that state, so a planner polling with If-None-Match gets 304 until something changed. Open like the
   map page: what they show is public (meeting areas, not people's places; no names). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "feeds/gtfs.h"
#include "feeds/siri.h"
#include "feeds/stats.h"
#include "matcher/matcher.h"
#include "matcher/timeutil.h"
#include "web/osrm_json.h"
#include "web/trip_json.h"
#include "web/web_int.h"

void web_feed_cache_init(web_feed_cache *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
}

void web_feed_cache_free(web_feed_cache *c)
{
    free(c->data);
    pthread_mutex_destroy(&c->mu);
}

/* The feed kind builds in c for state (seq, period), unless it is there already; then answers it. */
static int feed(web_req *r, web_feed_cache *c, int siri)
{
    cv_matcher_ws *w = web_matcher_ws(r);
    if (!w)
        return -1;
    if (!r->q)
        return web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, osrm_word(OSRM_UNAVAILABLE), "out of memory");
    cv_store *store = cv_matcher_store(w);
    int64_t now = (int64_t)time(NULL), first = 0, last = 0;
    cv_change *none = NULL;
    size_t n = 0;
    cv_error err = {0};
    if (cv_store_changes(store, 0, 0, &none, &n, &first, &last, &err))
        return web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, osrm_word(OSRM_UNAVAILABLE), "%s", err.text);
    free(none);
    cv_day today;
    cv_utc_to_local(now, &today, NULL, NULL);
    int32_t period = siri ? (int32_t)(now / 60) : today; /* SIRI's window moves with the clock */
    pthread_mutex_lock(&c->mu);
    if (!c->data || c->seq != last || c->day != period) {
        void *data = NULL;
        size_t len = 0;
        if (r->places)
            pthread_mutex_lock(r->places_mu);
        int rc;
        if (siri) {
            cv_siri_options o = cv_siri_defaults();
            o.operator_name = r->operator_name;
            o.public_url = r->public_url;
            o.places = r->places;
            rc = cv_siri_build(r->g, r->q, store, &o, now, (char **)&data, &len, NULL, &err);
        } else {
            cv_gtfs_options o = cv_gtfs_defaults();
            o.operator_name = r->operator_name;
            o.public_url = r->public_url;
            o.places = r->places;
            rc = cv_gtfs_build(r->g, r->q, store, &o, now, &data, &len, NULL, &err);
        }
        if (r->places)
            pthread_mutex_unlock(r->places_mu);
        if (rc) {
            pthread_mutex_unlock(&c->mu);
            return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_word(OSRM_ERROR), "%s", err.text);
        }
        free(c->data);
        c->data = data, c->len = len, c->seq = last, c->day = period;
        snprintf(c->etag, sizeof c->etag, "\"%s-%lld-%ld\"", siri ? "siri" : "gtfs", (long long)last, (long)period);
    }
    snprintf(r->etag, sizeof r->etag, "%s", c->etag);
    int fresh = r->if_none_match && !strcmp(r->if_none_match, r->etag);
    char *copy = fresh ? calloc(1, 1) : malloc(c->len ? c->len : 1);
    if (copy && !fresh)
        memcpy(copy, c->data, c->len);
    size_t len = c->len;
    pthread_mutex_unlock(&c->mu);
    if (!copy)
        return -1;
    r->status = fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK;
    r->text = copy;
    r->text_len = fresh ? 0 : len;
    r->content_type = siri ? "application/xml" : "application/zip";
    r->cache_control = "public, no-cache"; /* kept, and asked again each time with its ETag */
    return 0;
}

int web_feeds(web_req *r)
{
    if (r->nargs)
        return web_error(r, MHD_HTTP_BAD_REQUEST, osrm_word(OSRM_INVALID_QUERY), "/feeds/ take no parameters");
    if (!strcmp(r->rest, "gtfs.zip"))
        return feed(r, r->gtfs, 0);
    if (!strcmp(r->rest, "siri-et.xml"))
        return feed(r, r->siri, 1);
    return web_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND),
                     "no such feed: %.100s (/feeds/gtfs.zip, /feeds/siri-et.xml)", r->path);
}

/* GET /v1/stats?from=DATE&to=DATE&cell_km=N&format=json|csv: the territory's figures by week and cell, k-anonymous
   (feeds/stats.h). Open like the feeds: only counts and sums of at least CV_STATS_K trips leave. */
int web_stats(web_req *r, cv_matcher_ws *w)
{
    static const char *const args[] = {"from", "to", "cell_km", "area", "format", NULL};
    if (web_check_args(r, args))
        return -1;
    if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")) {
        r->allow = "GET, HEAD";
        return web_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, osrm_word(OSRM_METHOD_NOT_ALLOWED),
                         "%s is not allowed on /v1/stats: use GET", r->method);
    }
    cv_error err = {0};
    int64_t now = (int64_t)time(NULL);
    cv_day today, from, to;
    cv_utc_to_local(now, &today, NULL, NULL);
    const char *f = web_arg(r, "from"), *t = web_arg(r, "to"), *c = web_arg(r, "cell_km"), *fmt = web_arg(r, "format");
    to = today;
    if (t && cv_parse_date(t, &to, &err))
        return web_error(r, MHD_HTTP_BAD_REQUEST, osrm_word(OSRM_INVALID_VALUE), "to: %s", err.text);
    from = to - 83; /* twelve weeks */
    if (f && cv_parse_date(f, &from, &err))
        return web_error(r, MHD_HTTP_BAD_REQUEST, osrm_word(OSRM_INVALID_VALUE), "from: %s", err.text);
    char *end = NULL;
    double cell = c ? strtod(c, &end) : 2.0;
    if (c && (!*c || *end))
        return web_error(r, MHD_HTTP_BAD_REQUEST, osrm_word(OSRM_INVALID_VALUE), "cell_km: '%.40s' is not a number", c);
    const char *area = web_arg(r, "area");
    if (area && strcmp(area, "grid") && strcmp(area, "areas"))
        return web_error(r, MHD_HTTP_BAD_REQUEST, osrm_word(OSRM_INVALID_VALUE), "area: grid or areas, not '%.20s'",
                         area);
    int by_areas = area && !strcmp(area, "areas");
    int csv = fmt && !strcmp(fmt, "csv");
    if (fmt && !csv && strcmp(fmt, "json"))
        return web_error(r, MHD_HTTP_BAD_REQUEST, osrm_word(OSRM_INVALID_VALUE), "format: json or csv, not '%.20s'",
                         fmt);
    if (!r->q)
        return web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, osrm_word(OSRM_UNAVAILABLE), "out of memory");
    cv_stats st;
    int rc = by_areas ? cv_stats_build_areas(r->g, r->q, cv_matcher_store(w), from, to, r->stats_areas, CV_STATS_K, &st,
                                             &err)
                      : cv_stats_build(r->g, r->q, cv_matcher_store(w), from, to, cell, CV_STATS_K, &st, &err);
    if (rc == CV_EINVAL)
        return web_error(r, MHD_HTTP_BAD_REQUEST, osrm_word(OSRM_INVALID_VALUE), "%s", err.text);
    if (rc)
        return web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, osrm_word(OSRM_UNAVAILABLE), "%s", err.text);
    if (csv) {
        char *text = cv_stats_csv(&st);
        cv_stats_free(&st);
        if (!text)
            return -1;
        r->status = MHD_HTTP_OK;
        r->text = text;
        r->content_type = "text/csv; charset=utf-8";
        return 0;
    }
    json_t *doc = trip_json_stats(&st, from, to);
    cv_stats_free(&st);
    return web_ok(r, doc);
}
