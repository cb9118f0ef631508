/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* auth.c — API keys: a request's key (X-API-Key, or Authorization: Bearer) checked against the store for its
   client and scopes, the rate limits per address and per key (429 TooManyRequests with Retry-After), and the
   scope check the handlers call. Only used when the server requires keys (its database held an active key). */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <microhttpd.h>

#include "util/cv_sha256.h"
#include "web/auth.h"
#include "web/osrm_json.h"

/* The keys this process checked against the database lately, by the SHA-256 of the secret: while the database
   cannot be reached (a failover under way), a key it confirmed within the last KEY_STALE_S seconds is taken on
   their word, so that routing, which needs no database, keeps answering its holders. While the database answers
   it is asked every time: a revocation takes effect at once. A small direct-mapped table (a cache: a collision
   forgets the older key). */
#define KEY_CACHE 1024
#define KEY_STALE_S 3600
static struct key_seen {
    unsigned char hash[32];
    char client[CV_OWNER_MAX];
    unsigned scopes;
    time_t confirmed; /* 0: empty */
} key_cache[KEY_CACHE];
static pthread_mutex_t key_mu = PTHREAD_MUTEX_INITIALIZER;

static struct key_seen *key_slot(const unsigned char hash[32])
{
    return &key_cache[(hash[0] | (unsigned)hash[1] << 8) % KEY_CACHE];
}

/* Remembers (confirmed) or forgets (revoked or unknown) the key whose hash is given. */
static void key_note(const unsigned char hash[32], const char *client, unsigned scopes, int confirmed)
{
    pthread_mutex_lock(&key_mu);
    struct key_seen *k = key_slot(hash);
    if (confirmed) {
        memcpy(k->hash, hash, 32);
        snprintf(k->client, sizeof k->client, "%s", client);
        k->scopes = scopes;
        k->confirmed = time(NULL);
    } else if (!memcmp(k->hash, hash, 32)) {
        k->confirmed = 0;
    }
    pthread_mutex_unlock(&key_mu);
}

/* The client and scopes of a key the database confirmed lately: 1, or 0 when there is none. */
static int key_recall(const unsigned char hash[32], char client[CV_OWNER_MAX], unsigned *scopes)
{
    pthread_mutex_lock(&key_mu);
    const struct key_seen *k = key_slot(hash);
    int hit = k->confirmed && time(NULL) - k->confirmed <= KEY_STALE_S && !memcmp(k->hash, hash, 32);
    if (hit) {
        snprintf(client, CV_OWNER_MAX, "%s", k->client);
        *scopes = k->scopes;
    }
    pthread_mutex_unlock(&key_mu);
    return hit;
}

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
    unsigned char hash[32];
    cv_sha256_sum(key, strlen(key), hash);
    cv_error err = {0};
    cv_matcher_ws *w = web_matcher_ws(r); /* (NULL: this thread cannot reach the database, its answer set) */
    int rc = w ? cv_store_check_key(cv_matcher_store(w), key, r->client, &r->scopes, &err) : CV_EUNAVAILABLE;
    if (!w)
        cv_fail(&err, CV_EUNAVAILABLE, "the trip database cannot be reached");
    if (rc == 0) {
        key_note(hash, r->client, r->scopes, 1);
    } else if (rc == CV_ENOTFOUND) {
        key_note(hash, NULL, 0, 0);
        return web_error(r, MHD_HTTP_UNAUTHORIZED, osrm_word(OSRM_UNAUTHORIZED), "unknown or revoked API key");
    } else if ((rc == CV_EUNAVAILABLE || rc == CV_EBUSY) && key_recall(hash, r->client, &r->scopes)) {
        /* the database is out of reach: a key it confirmed lately goes on (the request may still need it) */
        json_decref(r->body);
        r->body = NULL;
        r->status = 0;
        r->retry_after = 0;
    } else {
        cv_log("error", "checking an API key: %s", err.text);
        return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_code(rc), "cannot check the API key");
    }
    snprintf(name, sizeof name, "k:%s", r->client);
    wait = web_rate_take(rl, name);
    if (wait)
        return too_many(r, wait, "this API key");
    return 0;
}
