/* cmd_serve.c — `covoit serve --graph FILE [--db FILE]`: the HTTP server in the foreground until SIGINT or
   SIGTERM; with --db, the carpool API under /v1 over the matcher. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "page.h"
#include "server.h"
#include "timeutil.h"

#ifndef COVOIT_PAGE_DIR
#define COVOIT_PAGE_DIR "web/page" /* CMake gives the source tree's */
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: covoit serve --graph FILE [--db FILE] [--tz ZONE] [--listen ADDR:PORT] [--threads N] "
               "[--rate N] [--demo-trips N] [--page DIR] [--quiet]\n\n"
               "Serves OSRM-compatible routing over HTTP until SIGINT or SIGTERM, then finishes the requests in\n"
               "flight and exits:\n"
               "  GET /route/v1/driving/LON,LAT;LON,LAT[;...]?geometries=polyline|polyline6|geojson&overview=...\n"
               "  GET /table/v1/driving/LON,LAT;...?sources=...&destinations=...&annotations=duration,distance\n"
               "  GET /nearest/v1/driving/LON,LAT\n"
               "  GET /health, GET /metrics (Prometheus text)\n"
               "With --db FILE (the trip store, created when missing), the carpool API, JSON in and out:\n"
               "  POST /v1/offers, GET /v1/offers?owner=REF, GET|DELETE /v1/offers/ID, POST /v1/offers/ID/cancel,\n"
               "  GET /v1/offers/ID/matches?limit=N, the same under /v1/requests, POST /v1/search,\n"
               "  POST /v1/bookings {offer_id, request_id}, GET /v1/bookings/ID,\n"
               "  POST /v1/bookings/ID/accept|refuse|cancel\n"
               "(without --db they answer 503). --tz ZONE is the time zone of local times and regular schedules\n"
               "(default $COVOIT_TZ, else UTC).\n"
               "--demo-trips N (with --db): when the database holds fewer than N offers still to come, adds punctual demo\n"
               "offers (owner \"demo\", tomorrow 07:00-09:00 local, main-network points at least 3 km apart) up to N.\n"
               "GET / is the map page and GET /static/... its files, from --page DIR (default %s), with\n"
               "Leaflet from DIR/node_modules (`npm ci --prefix web/page`); no key needed for the page.\n"
               "GET /metrics answers Prometheus text (request counts and latencies, trips, bookings), open to all.\n"
               "--listen defaults to 127.0.0.1:8080 (port 0: any free port); --threads to the number of cores.\n"
               "One logfmt line per request goes to stderr (--quiet: errors only).\n"
               "API keys (`covoit key add --db FILE ...`): when the database holds one, every request but /health, /metrics\n"
               "needs X-API-Key: KEY (or Authorization: Bearer KEY), and --rate N limits each key and each address to\n"
               "N requests per second, bursts of 2N (default 100; beyond: 429 with Retry-After). Without a key the\n"
               "server runs in local demo mode, on 127.0.0.1 only.\n",
            COVOIT_PAGE_DIR);
}

/* A junction of the main network near the point at fraction f of the graph's box diagonal: example requests
   that answer Ok on any extract. */
static cv_coord example_point(const cv_graph *g, double f)
{
    const int32_t *b = g->hdr.bbox;
    cv_coord want = {(int32_t)(b[0] + f * ((double)b[2] - b[0])), (int32_t)(b[1] + f * ((double)b[3] - b[1]))};
    cv_coord best = want;
    double bestd = -1;
    for (uint32_t i = 0; i < g->hdr.njunctions; i++) {
        if (g->a.node_component[i] != g->hdr.largest_component)
            continue;
        double d = cv_distance_m(want, g->a.node_coord[i]);
        if (bestd < 0 || d < bestd)
            bestd = d, best = g->a.node_coord[i];
    }
    return best;
}

/* --demo-trips N: tops the database up to N open offers with punctual drives for tomorrow 07:00-09:00 local
   between random junctions of the main network (the largest component) at least 3 km apart, owner "demo".
   Returns the number added, or -1 with err filled. */
static long seed_demo_trips(const cv_graph *g, cv_matcher *m, long want, cv_error *err)
{
    cv_matcher_ws *w = cv_matcher_ws_new(m, err);
    if (!w)
        return -1;
    cv_offer *open = NULL;
    size_t have = 0;
    if (cv_store_list_offers(cv_matcher_store(w), NULL, 1, &open, &have, err)) {
        cv_matcher_ws_free(w);
        return -1;
    }
    /* only offers still to come count: a kept demo database from another day is topped up again */
    size_t future = 0;
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < have; i++)
        if (open[i].when.kind == CV_REGULAR || open[i].when.depart + open[i].when.margin_s >= now)
            future++;
    have = future;
    free(open);
    uint32_t *main_nodes = malloc((g->hdr.njunctions ? g->hdr.njunctions : 1) * sizeof *main_nodes);
    uint32_t nmain = 0;
    if (!main_nodes) {
        cv_matcher_ws_free(w);
        cv_fail(err, CV_ENOMEM, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < g->hdr.njunctions; i++)
        if (g->a.node_component[i] == g->hdr.largest_component)
            main_nodes[nmain++] = i;
    now = (int64_t)time(NULL);
    cv_day today;
    int32_t tod;
    int wd;
    cv_utc_to_local(now, &today, &tod, &wd);
    uint64_t x = (uint64_t)now * 6364136223846793005ull + 1442695040888963407ull;
    long added = 0, tries = 0;
    while (nmain >= 2 && (long)have + added < want && tries < want * 50 + 1000) {
        tries++;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        cv_coord a = g->a.node_coord[main_nodes[(x >> 8) % nmain]];
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        cv_coord b = g->a.node_coord[main_nodes[(x >> 8) % nmain]];
        if (cv_distance_m(a, b) < 3000)
            continue;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        cv_offer o = {0};
        snprintf(o.owner, sizeof o.owner, "demo");
        o.from = a;
        o.to = b;
        o.when.kind = CV_PUNCTUAL;
        o.when.depart = cv_local_to_utc(today + 1, 7 * 3600 + (int32_t)((x >> 8) % 121) * 60);
        o.when.margin_s = CV_DEFAULT_MARGIN_S;
        o.seats = 1 + (int)((x >> 20) % CV_DEFAULT_SEATS);
        o.max_detour_s = -1;
        o.max_detour_m = -1;
        o.status = CV_TRIP_OPEN;
        cv_error e = {0};
        int rc = cv_matcher_add_offer(w, &o, now, &e);
        if (rc == CV_EINVAL || rc == CV_ENOSEGMENT || rc == CV_ENOROUTE)
            continue; /* a point off the road network or no route: draw again */
        if (rc) {
            *err = e;
            added = -1;
            break;
        }
        added++;
    }
    free(main_nodes);
    cv_matcher_ws_free(w);
    return added;
}

int cmd_serve(int argc, char **argv)
{
    const char *graph = NULL, *db = NULL, *tz = NULL, *listen = "127.0.0.1:8080";
    cv_server_options o = cv_server_defaults();
    long demo_trips = 0;
    const char *page = COVOIT_PAGE_DIR;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--graph") && i + 1 < argc) {
            graph = argv[++i];
        } else if (!strcmp(argv[i], "--db") && i + 1 < argc) {
            db = argv[++i];
        } else if (!strcmp(argv[i], "--tz") && i + 1 < argc) {
            tz = argv[++i];
        } else if (!strcmp(argv[i], "--listen") && i + 1 < argc) {
            listen = argv[++i];
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 1 || n > 1024) {
                cli_error("--threads must be a number from 1 to 1024");
                return CLI_USAGE;
            }
            o.threads = (unsigned)n;
        } else if (!strcmp(argv[i], "--rate") && i + 1 < argc) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 1 || n > 1000000) {
                cli_error("--rate must be a number of requests per second from 1 to 1000000");
                return CLI_USAGE;
            }
            o.rate = (unsigned)n;
        } else if (!strcmp(argv[i], "--demo-trips") && i + 1 < argc) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 0 || n > 100000) {
                cli_error("--demo-trips must be a number from 0 to 100000");
                return CLI_USAGE;
            }
            demo_trips = n;
        } else if (!strcmp(argv[i], "--page") && i + 1 < argc) {
            page = argv[++i];
        } else if (!strcmp(argv[i], "--quiet")) {
            o.quiet = 1;
        } else {
            cli_error("unknown or incomplete option '%s' (try `covoit serve --help`)", argv[i]);
            return CLI_USAGE;
        }
    }
    if (!graph) {
        usage(stderr);
        return CLI_USAGE;
    }
    char addr[64];
    const char *colon = strrchr(listen, ':');
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof addr || !colon[1] || *end || port < 0 ||
        port > 65535) {
        cli_error("--listen must be ADDR:PORT, such as 127.0.0.1:8080");
        return CLI_USAGE;
    }
    memcpy(addr, listen, (size_t)(colon - listen));
    addr[colon - listen] = '\0';
    o.address = addr;
    o.port = (uint16_t)port;

    cv_error err = {0};
    if (!tz)
        tz = getenv("COVOIT_TZ");
    if (cv_tz_set(tz, &err)) { /* before any thread starts: it sets the process's TZ */
        cli_error("--tz: %s", err.text);
        return CLI_USAGE;
    }
    cv_graph *g = cv_graph_open(graph, &err);
    if (!g) {
        cli_error("%s", err.text);
        return CLI_FAIL;
    }
    cv_matcher *m = NULL;
    if (db) {
        cv_matcher_options mo = cv_matcher_defaults();
        if (cv_matcher_open(g, db, &mo, (int64_t)time(NULL), &m, &err)) {
            cli_error("%s", err.text);
            cv_graph_close(g);
            return CLI_FAIL;
        }
        o.matcher = m;
        if (demo_trips > 0) {
            long added = seed_demo_trips(g, m, demo_trips, &err);
            if (added < 0) {
                cli_error("--demo-trips: %s", err.text);
                cv_matcher_close(m);
                cv_graph_close(g);
                return CLI_FAIL;
            }
            printf("demo trips: added %ld offers (owner \"demo\", tomorrow 07:00-09:00) to reach %ld open ones\n",
                   added, demo_trips);
        }
    } else if (demo_trips > 0) {
        cli_error("--demo-trips needs --db FILE");
        return CLI_USAGE;
    }
    /* Blocked before the workers start, so that they inherit the mask and only sigwait below sees the signals. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    o.page_dir = page;
    cv_server *s = cv_server_start(g, &o, &err);
    if (!s) {
        cli_error("%s", err.text);
        cv_matcher_close(m);
        cv_graph_close(g);
        return CLI_FAIL;
    }
    if (!cv_server_auth(s))
        printf("demo mode: no API key configured, listening on 127.0.0.1 only\n");
    else
        printf("API keys required (X-API-Key or Authorization: Bearer), %u requests/s per key and address\n",
               o.rate ? o.rate : 100);
    cv_coord a = example_point(g, 0.4), b = example_point(g, 0.6);
    printf("covoit serving %s on http://%s:%u/ (Ctrl-C stops)\ntry:\n"
           "  curl 'http://%s:%u/route/v1/driving/%.6f,%.6f;%.6f,%.6f?overview=false'\n"
           "  curl 'http://%s:%u/table/v1/driving/%.6f,%.6f;%.6f,%.6f?annotations=duration,distance'\n",
           graph, addr, cv_server_port(s), addr, cv_server_port(s), cv_deg(a.lon), cv_deg(a.lat), cv_deg(b.lon),
           cv_deg(b.lat), addr, cv_server_port(s), cv_deg(a.lon), cv_deg(a.lat), cv_deg(b.lon), cv_deg(b.lat));
    if (m)
        printf("carpool API on http://%s:%u/v1/ (trips in %s, time zone %s)\n", addr, cv_server_port(s), db,
               cv_tz_name());
    else
        printf("no --db: the carpool API (/v1) answers 503\n");
    char why[700];
    if (cv_page_ready(page, why, sizeof why))
        printf("map page on http://%s:%u/ (from %s)\n", addr, cv_server_port(s), page);
    else
        cv_log("warn", "map page not available, GET / answers 503: %s", why);
    fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    cv_log("info", "%s received: finishing requests in flight", sig == SIGINT ? "SIGINT" : "SIGTERM");
    cv_server_stop(s);
    cv_matcher_close(m);
    cv_graph_close(g);
    cv_log("info", "stopped");
    return CLI_OK;
}
