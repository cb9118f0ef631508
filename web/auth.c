/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* auth.c — API keys: a request's key (X-API-Key, or Authorization: Bearer) checked against the store for its
   client and scopes, the rate limits per address and per key (429 TooManyRequests with Retry-After), and the
   scope check the handlers call. Only used when the server requires keys (its database held an active key). */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "web/auth.h"
#include "web/osrm_json.h"

static int too_many(web_req *r, unsigned wait, const char *what)
{
    r->retry_after = wait;
    return web_error(r, MHD_HTTP_TOO_MANY_REQUESTS, osrm_word(OSRM_TOO_MANY_REQUESTS),
                     "rate limit of %s exceeded: retry in %u s", what, wait);
}

int web_need_scope(web_req *r, unsigned scope)
{
    if (!r->auth || (r->scopes & (scope | CV_SCOPE_ADMIN)))
        return 0;
    return web_error(r, MHD_HTTP_FORBIDDEN, osrm_word(OSRM_FORBIDDEN), "this API key is not allowed to use %s",
                     r->path);
}

int web_authenticate(web_req *r, web_ratelimit *rl, const struct sockaddr *addr, const char *x_api_key,
                     const char *authorization)
{
    /* the map page and its basemap need no key (its API calls do): the tiles are OpenStreetMap data that a renderer
       fetches without headers; nor the open feeds trip planners read (meeting areas, never people's places), the
       health checks, the interoperability standard's status */
    if (!strcmp(r->path, "/health") || !strcmp(r->path, "/metrics") || !strcmp(r->path, "/") ||
        !strncmp(r->path, "/static/", 8) || !strncmp(r->path, "/tiles/", 7) || !strncmp(r->path, "/feeds/", 7) ||
        !strcmp(r->path, "/v1/stats") || !strcmp(r->path, "/stdcov/v1/status"))
        return 0;
    r->auth = 1;
    char name[CV_OWNER_MAX + 4] = "a:?";
    if (addr && addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, name + 2, sizeof name - 2);
    else if (addr && addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, name + 2, sizeof name - 2);
    unsigned wait = web_rate_take(rl, name);
    if (wait)
        return too_many(r, wait, "this address");
    const char *key = x_api_key;
    if (!key && authorization && !strncasecmp(authorization, "Bearer ", 7)) {
        key = authorization + 7;
        while (*key == ' ')
            key++;
    }
    if (!key || !*key)
        return web_error(r, MHD_HTTP_UNAUTHORIZED, osrm_word(OSRM_UNAUTHORIZED),
                         "an API key is required (X-API-Key: KEY or Authorization: Bearer KEY)");
    cv_matcher_ws *w = web_matcher_ws(r);
    if (!w)
        return -1;
    cv_error err = {0};
    int rc = cv_store_check_key(cv_matcher_store(w), key, r->client, &r->scopes, &err);
    if (rc == CV_ENOTFOUND)
        return web_error(r, MHD_HTTP_UNAUTHORIZED, osrm_word(OSRM_UNAUTHORIZED), "unknown or revoked API key");
    if (rc) {
        cv_log("error", "checking an API key: %s", err.text);
        return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_word(OSRM_ERROR), "cannot check the API key");
    }
    snprintf(name, sizeof name, "k:%s", r->client);
    wait = web_rate_take(rl, name);
    if (wait)
        return too_many(r, wait, "this API key");
    return 0;
}
