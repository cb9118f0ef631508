/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* server.h — the covoit HTTP server: one acceptor thread handing connections to one libmicrohttpd daemon per worker
   thread (poll; docs/ARCHITECTURE.md says why), serving JSON, with OSRM-compatible routing endpoints over one
   shared read-only graph and, when given, its hub labels. */
#ifndef CV_SERVER_H
#define CV_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "util/cv_error.h"
#include "routing/graph.h"
#include "routing/hub_labels.h"
#include "matcher/matcher.h"

typedef struct cv_server_options {
    const char *address;         /* IPv4 or IPv6 address to listen on, IPv6 without brackets ("::1"); "::" takes
                                    IPv4 clients too (dual stack); NULL means 127.0.0.1 */
    uint16_t port;               /* 0: any free port (read it back with cv_server_port) */
    unsigned threads;            /* worker threads; 0 means the number of online cores (at most
                                    connection_limit: more could never all be busy) */
    unsigned connection_limit;   /* open connections at once, all clients together */
    unsigned per_ip_limit;       /* open connections at once from one address */
    unsigned timeout_s;          /* an idle connection is closed after this many seconds */
    unsigned request_timeout_s;  /* a request must be in whole (request line, headers and body) this many seconds
                                    after its first byte, else its connection is closed (logged as a 408) */
    size_t max_body;             /* request bodies beyond this get 413 TooBig */
    unsigned max_route_coords;   /* coordinates in one /route request beyond this: 400 TooBig */
    unsigned max_table_coords;   /* coordinates in one /table request beyond this: 400 TooBig */
    unsigned stop_grace_ms;      /* cv_server_stop waits this long at most for requests in flight */
    int quiet;                   /* 1: no per-request log lines (errors are still logged) */
    unsigned rate;               /* with API keys: requests per second per key and per address (burst twice
                                    that); 0 means 100 */
    cv_matcher *matcher;         /* the carpool matcher behind /v1 (the caller keeps it open until cv_server_stop
                                    returns), or NULL: /v1 answers 503 Unavailable */
    const cv_hub_labels *labels; /* hub labels of the graph, kept by the caller until cv_server_stop returns: routes
                                    and tables are answered from them; NULL: CH searches */
    const char *page_dir;        /* the map page's directory (web/page, with node_modules/leaflet from npm), kept by
                                    the caller: GET / and /static/...; NULL: GET / answers 503 Unavailable */
    const char *operator_name;   /* this platform's domain in the interoperability standard (/stdcov/v1), kept by
                                    the caller; NULL: /stdcov/v1 answers 503 Unavailable */
    const char *tile_url;        /* the map page's basemap, an {z}/{x}/{y} URL template the operator chose, kept by
                                    the caller (GET /health names it to the page); NULL: no basemap */
    const char *public_url;      /* where people reach the map page (https://carpool.example.org/), kept by the
                                    caller, for the links of /stdcov/v1 answers; NULL: no links */
    unsigned partner_timeout_ms; /* how long a federated search waits for partners' answers (0: 2000) */
    struct cv_places *places;    /* the place index behind /v1/places (places.h), kept by the caller until
                                    cv_server_stop returns; NULL: /v1/places answers 503 Unavailable */
    const struct cv_stats_areas *stats_areas; /* the areas of GET /v1/stats?area=areas (feeds/stats.h), kept by the
                                                 caller; NULL: only the grid */
    struct cv_mbtiles *tiles;         /* the map's vector tiles behind /tiles/ (tiles/mbtiles.h), kept by the caller;
                                         NULL: /tiles/ answers 404 and the page has no basemap of its own */
    int tiles_minzoom, tiles_maxzoom; /* theirs, for /health */
    const char *proof_url;            /* the register of carpool proofs' journeys endpoint (docs/proofs.md), kept by
                                         the caller; NULL: proofs are kept for `covoit proofs export` */
    const char *proof_token;          /* its bearer token, kept by the caller; NULL: none */
    const char *source_url;           /* where the source of the covoit that runs is (AGPL-3.0 section 13), kept
                                         by the caller, shown by the page and /health; NULL: the project's own */
} cv_server_options;

/* Defaults: 127.0.0.1, port 8080, one thread per core, 1024 connections, 64 per address, 30 s idle timeout, 30 s
   to send a request, 64 KiB bodies, 100 coordinates a route and 1000 a table, 10 s grace at stop, request lines
   logged, no matcher. */
cv_server_options cv_server_defaults(void);

typedef struct cv_server cv_server;

/* Whether s requires API keys: its database held at least one key that was not revoked when it started. Without
   keys the server runs in local demo mode and listens on the loopback address only. */
int cv_server_auth(const cv_server *s);

/* Starts serving g (which the caller keeps open until cv_server_stop returns) with options o (copied; NULL means
   the defaults). SIGPIPE is ignored from here on. API keys are required when the matcher's database holds one
   that is not revoked; otherwise (demo mode) an address other than 127.0.0.1 or ::1 is refused with CV_EINVAL.
   Logs one logfmt line with the effective settings (address, real port, threads, limits) once listening.
   Returns the server, or NULL with err filled (CV_EINVAL for bad options, CV_EIO when the address cannot be
   bound, CV_ENOMEM). */
cv_server *cv_server_start(const cv_graph *g, const cv_server_options *o, cv_error *err);

/* The port the server listens on (the real one when 0 was asked for). */
uint16_t cv_server_port(const cv_server *s);

/* Stops accepting connections and requests: a request begun before this call is finished and answered (up to
   stop_grace_ms), one begun after it gets 503 ShuttingDown without being processed, and every answer from then on
   closes its connection. Then stops the workers and frees everything, including their routing and matcher
   workspaces. Accepts NULL. */
void cv_server_stop(cv_server *s);

/* Writes one logfmt line "ts=... level=LEVEL msg=..." on stderr (one write, so lines from several threads never
   mix). */
void cv_log(const char *level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
