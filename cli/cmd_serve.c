/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* cmd_serve.c — `covoit serve --graph FILE [--db FILE]`: the HTTP server in the foreground until SIGINT or
   SIGTERM; with --db, the carpool API under /v1 over the matcher. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "feeds/stats.h"
#include "places/places.h"
#include "tiles/mbtiles.h"
#include "web/page.h"
#include "web/server.h"
#include "matcher/store.h"
#include "matcher/timeutil.h"
#include "matcher/trip.h"

#ifndef COVOIT_PAGE_DIR
#define COVOIT_PAGE_DIR "web/page" /* CMake gives the source tree's */
#endif

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: covoit serve --graph FILE [--db FILE] [--config FILE] [--tz ZONE [--convert-tz]] [--listen HOST:PORT]\n"
        "                    [--threads N] [--max-connections N] [--max-connections-per-ip N]\n"
        "                    [--connection-timeout SECONDS] [--request-timeout SECONDS] [--max-body BYTES]\n"
        "                    [--rate N] [--demo-trips N] [--price-per-km EUR] [--max-route-coords N]\n"
        "                    [--max-table-coords N] [--page DIR] [--hub-labels-mb MB] [--quiet|--no-quiet]\n"
        "                    [--operator HOST] [--public-url URL] [--tile-url TEMPLATE] [--partner-timeout MS]\n"
        "                    [--retention-days N] [--stats-areas FILE.geojson] [--places FILE] [--tiles "
        "FILE.mbtiles]\n"
        "                    [--proof-url URL [--proof-token-file FILE]] [--source-url URL]\n\n"
        "Serves OSRM-compatible routing over HTTP until SIGINT or SIGTERM, then finishes and answers the requests\n"
        "in flight (a request begun after the signal gets 503 ShuttingDown, unprocessed) and exits:\n"
        "  GET /route/v1/driving/LON,LAT;LON,LAT[;...]?geometries=polyline|polyline6|geojson&overview=...\n"
        "  GET /table/v1/driving/LON,LAT;...?sources=...&destinations=...&annotations=duration,distance\n"
        "  GET /nearest/v1/driving/LON,LAT\n"
        "  GET /health, GET /metrics (Prometheus text)\n"
        "  GET /v1/places?q=WORDS&near=LON,LAT&limit=N (autocomplete), GET /v1/places/reverse?at=LON,LAT\n"
        "  from the place index --places FILE (default GRAPH.places, which covoit import writes, else the one in\n"
        "  the trip database, covoit import --places DB; 503 without)\n"
        "  GET /tiles/{z}/{x}/{y}.pbf, the map page's basemap: vector tiles from --tiles FILE.mbtiles (default\n"
        "  GRAPH.mbtiles, which scripts/run.sh makes with tilemaker from the same extract)\n"
        "With --db FILE (the trip store, created when missing), the carpool API, JSON in and out:\n"
        "  POST /v1/offers, GET /v1/offers?owner=REF, GET|DELETE /v1/offers/ID, POST /v1/offers/ID/cancel,\n"
        "  GET /v1/offers/ID/matches?limit=N, the same under /v1/requests, POST /v1/search,\n"
        "  POST /v1/bookings {offer_id, request_id}, GET /v1/bookings/ID,\n"
        "  POST /v1/bookings/ID/accept|refuse|cancel\n"
        "(without --db they answer 503). --tz ZONE is the time zone of local times and regular schedules\n"
        "(default $COVOIT_TZ, else the zone the database keeps, else UTC). A database records its zone when\n"
        "created and is refused in another; --convert-tz converts it to --tz first.\n"
        "--demo-trips N (with --db): when the database holds fewer than N offers still to come, adds punctual demo\n"
        "offers (owner \"demo\", tomorrow 07:00-09:00 local, main-network points at least 3 km apart) up to N.\n"
        "GET / is the map page and GET /static/... its files, from --page DIR (default %s), with\n"
        "Leaflet from DIR/node_modules (`npm ci --prefix web/page`); no key needed for the page. The page fetches\n"
        "nothing from any other host: its basemap comes from --tile-url TEMPLATE when the operator gives one\n"
        "(e.g. http://127.0.0.1:8081/{z}/{x}/{y}.png, a tile server of their own); without it the page outlines\n"
        "the area the graph covers.\n"
        "GET /metrics answers Prometheus text (request counts and latencies, trips, bookings), open to all.\n"
        "--listen HOST:PORT: an IPv4 address, a host name, or an IPv6 address in brackets ([::1]:8080;\n"
        "[::]:8080 takes IPv4 clients too); default 127.0.0.1:8080, port 0: any free port. A name\n"
        "(localhost:8080) is resolved once at start; of its addresses the server takes the first IPv4 one,\n"
        "else the first IPv6 one, and logs which.\n"
        "Limits (defaults in parentheses): --threads N worker threads (the number of cores), --max-connections N\n"
        "open connections in all (1024), --max-connections-per-ip N from one address (64), --connection-timeout\n"
        "SECONDS before an idle connection is closed (30), --request-timeout SECONDS to send a whole request from\n"
        "its first byte, headers and body, else the connection is closed without an answer (30), --max-body\n"
        "BYTES per request body, beyond: 413 TooBig\n"
        "(65536), --max-route-coords N per /route (100) and --max-table-coords N per /table (1000), beyond: 400\n"
        "TooBig. --price-per-km EUR: the contribution rate of offers that set none (0.06).\n"
        "--hub-labels-mb MB: at start, hub labels are built from the graph's hierarchy (about a second and 150 MB\n"
        "for a city the size of Porto) and answer routes, tables and carpool searches several times faster than\n"
        "the hierarchy alone; when they would need more than MB megabytes (1024), or with 0, the server answers\n"
        "from the hierarchy alone.\n"
        "The carpool interoperability standard (\"standard covoiturage\") is served under /stdcov/v1/ to partner\n"
        "operators (keys with the interop scope): --operator HOST is this platform's domain, named in every\n"
        "journey (without it /stdcov/v1/ answers 503); --public-url URL, where people reach the map page, makes\n"
        "the journeys' webUrl links. Partner operators (`covoit partner add`) get the booking events they are\n"
        "owed, and POST /v1/search with \"partners\": true asks them too, waiting --partner-timeout MS for\n"
        "their answers (2000). Past trips are deleted, with their bookings, once their last date is\n"
        "--retention-days N days past (396, 13 months; 0 keeps them), at start and hourly (docs/privacy.md).\n"
        "POST /v1/bookings/ID/complete {\"as\": \"driver\"|\"passenger\", \"date\": \"YYYY-MM-DD\"}: once both\n"
        "sides say a ride took place, its carpool proof is written, and sent to the register of carpool proofs at\n"
        "--proof-url URL (its journeys endpoint, e.g. https://api.covoiturage.beta.gouv.fr/v3.1/journeys) with\n"
        "the bearer token read from --proof-token-file FILE, retried until acknowledged; without --proof-url\n"
        "they are kept for `covoit proofs export` (docs/proofs.md). --source-url URL: where the source of the\n"
        "covoit you run is (AGPL-3.0 section 13: a modified covoit links to its own); the page and /health\n"
        "show it (default the project's).\n"
        "--config FILE: a JSON object of the same settings, keys named after the options: graph, db, listen,\n"
        "tz, threads, max_connections, max_connections_per_ip, connection_timeout_s, request_timeout_s,\n"
        "max_body_bytes, rate, demo_trips, price_per_km, max_route_coords, max_table_coords, page, hub_labels_mb,\n"
        "operator, public_url, tile_url, partner_timeout_ms, retention_days, stats_areas, places, tiles,\n"
        "proof_url, proof_token_file, source_url\n"
        "(strings and whole numbers as on the command line, quiet true|false), e.g. {\"graph\": \"porto.cvg\",\n"
        "\"listen\": \"[::1]:8080\", \"threads\": 4}\n"
        "(see docs/covoit.example.json). Options given on the command line win over the file; an unknown key, a\n"
        "wrong type or a value out of range stops with a message naming the key and the file (exit status 2).\n"
        "The server logs its effective settings (address, port, threads, limits) in one line at start.\n"
        "One logfmt line per request goes to stderr (--quiet: errors only; --no-quiet: every request, over a\n"
        "config file's \"quiet\": true).\n"
        "API keys (`covoit key add --db FILE ...`): when the database holds one, every request but /health, /metrics\n"
        "needs X-API-Key: KEY (or Authorization: Bearer KEY), and --rate N limits each key and each address to\n"
        "N requests per second, bursts of 2N (default 100; beyond: 429 with Retry-After). Without a key the\n"
        "server runs in local demo mode, on 127.0.0.1 or [::1] only.\n",
        COVOIT_PAGE_DIR);
}

/* --- settings: each is a long option and a key of the --config file; the command line wins over the file --- */

typedef enum set_kind { SET_STR, SET_LISTEN, SET_INT, SET_NUM, SET_BOOL, SET_HOST, SET_URL, SET_TILES } set_kind;

typedef struct setting {
    const char *key; /* in the --config file */
    const char *opt; /* on the command line */
    set_kind kind;
    double lo, hi; /* SET_INT, SET_NUM: lo..hi */
} setting;

enum {
    S_GRAPH,
    S_DB,
    S_LISTEN,
    S_TZ,
    S_THREADS,
    S_MAX_CONN,
    S_MAX_CONN_IP,
    S_TIMEOUT,
    S_REQ_TIMEOUT,
    S_MAX_BODY,
    S_RATE,
    S_DEMO_TRIPS,
    S_PRICE,
    S_ROUTE_COORDS,
    S_TABLE_COORDS,
    S_PAGE,
    S_QUIET,
    S_LABELS_MB,
    S_OPERATOR,
    S_PUBLIC_URL,
    S_TILE_URL,
    S_PARTNER_TIMEOUT,
    S_RETENTION,
    S_STATS_AREAS,
    S_PLACES,
    S_TILES,
    S_PROOF_URL,
    S_PROOF_TOKEN,
    S_SOURCE_URL,
    S_N
};

static const setting settings[S_N] = {
    [S_GRAPH] = {"graph", "--graph", SET_STR, 0, 0},
    [S_DB] = {"db", "--db", SET_STR, 0, 0},
    [S_LISTEN] = {"listen", "--listen", SET_LISTEN, 0, 0},
    [S_TZ] = {"tz", "--tz", SET_STR, 0, 0},
    [S_THREADS] = {"threads", "--threads", SET_INT, 1, 1024},
    [S_MAX_CONN] = {"max_connections", "--max-connections", SET_INT, 1, 1000000},
    [S_MAX_CONN_IP] = {"max_connections_per_ip", "--max-connections-per-ip", SET_INT, 1, 1000000},
    [S_TIMEOUT] = {"connection_timeout_s", "--connection-timeout", SET_INT, 1, 86400},
    [S_REQ_TIMEOUT] = {"request_timeout_s", "--request-timeout", SET_INT, 1, 86400},
    [S_MAX_BODY] = {"max_body_bytes", "--max-body", SET_INT, 1, 64 * 1024 * 1024},
    [S_RATE] = {"rate", "--rate", SET_INT, 1, 1000000},
    [S_DEMO_TRIPS] = {"demo_trips", "--demo-trips", SET_INT, 0, 100000},
    [S_PRICE] = {"price_per_km", "--price-per-km", SET_NUM, CV_MIN_PRICE_PER_KM, CV_MAX_PRICE_PER_KM},
    [S_ROUTE_COORDS] = {"max_route_coords", "--max-route-coords", SET_INT, 2, 10000},
    [S_TABLE_COORDS] = {"max_table_coords", "--max-table-coords", SET_INT, 1, 10000},
    [S_PAGE] = {"page", "--page", SET_STR, 0, 0},
    [S_QUIET] = {"quiet", "--quiet", SET_BOOL, 0, 0},
    [S_LABELS_MB] = {"hub_labels_mb", "--hub-labels-mb", SET_INT, 0, 1 << 20},
    [S_OPERATOR] = {"operator", "--operator", SET_HOST, 0, 0},
    [S_PUBLIC_URL] = {"public_url", "--public-url", SET_URL, 0, 0},
    [S_TILE_URL] = {"tile_url", "--tile-url", SET_TILES, 0, 0},
    [S_PARTNER_TIMEOUT] = {"partner_timeout_ms", "--partner-timeout", SET_INT, 50, 60000},
    [S_RETENTION] = {"retention_days", "--retention-days", SET_INT, 0, 3650},
    [S_STATS_AREAS] = {"stats_areas", "--stats-areas", SET_STR, 0, 0},
    [S_PLACES] = {"places", "--places", SET_STR, 0, 0},
    [S_TILES] = {"tiles", "--tiles", SET_STR, 0, 0},
    [S_PROOF_URL] = {"proof_url", "--proof-url", SET_URL, 0, 0},
    [S_PROOF_TOKEN] = {"proof_token_file", "--proof-token-file", SET_STR, 0, 0},
    [S_SOURCE_URL] = {"source_url", "--source-url", SET_URL, 0, 0},
};

typedef struct setting_value {
    int set;
    const char *s;    /* SET_STR, SET_LISTEN: into argv or the config document */
    long long i;      /* SET_INT, SET_BOOL */
    double d;         /* SET_NUM */
    const char *file; /* the config file it came from, NULL for the command line */
} setting_value;

/* What the host of a --listen value is; a host name has at most 253 characters. */
enum { LISTEN_V4, LISTEN_V6, LISTEN_NAME, LISTEN_HOST_MAX = 254 };

/* "HOST:PORT" (HOST an IPv4 address or a host name) or "[IPV6]:PORT" into host (without brackets), port and
   what the host is. A name is letters, digits, '-', '_' and '.', but not digits and dots only: that is meant as an
   IPv4 address and must be a valid one (300.1.1.1 is a mistake, not a name to look up). Only the syntax is checked
   here: names are resolved once the command line and the file are merged (resolve_listen). Returns 0, or -1 when
   text is not that. */
static int parse_listen(const char *text, char *host, size_t cap, long *port, int *kind)
{
    const char *start = text, *colon;
    int v6 = 0;
    if (*text == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':')
            return -1;
        start = text + 1;
        colon = close + 1;
        v6 = 1;
    } else {
        colon = strchr(text, ':');
        if (!colon || strchr(colon + 1, ':')) /* none, or an IPv6 address without brackets */
            return -1;
    }
    size_t n = (size_t)(colon - start) - (size_t)v6;
    if (!n || n >= cap || colon[1] < '0' || colon[1] > '9')
        return -1;
    memcpy(host, start, n);
    host[n] = '\0';
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (*end || errno || p < 0 || p > 65535)
        return -1;
    unsigned char bin[sizeof(struct in6_addr)];
    if (v6) {
        if (inet_pton(AF_INET6, host, bin) != 1) /* brackets hold an IPv6 address, as in URLs, never a name */
            return -1;
        *kind = LISTEN_V6;
    } else if (strspn(host, "0123456789.") == n) {
        if (inet_pton(AF_INET, host, bin) != 1)
            return -1;
        *kind = LISTEN_V4;
    } else {
        const char *name_chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.";
        if (strspn(host, name_chars) != n || *host == '-' || *host == '.')
            return -1;
        *kind = LISTEN_NAME;
    }
    *port = p;
    return 0;
}

/* The address to listen on for a host name: of getaddrinfo's answers, in its order, the first IPv4 one, else the
   first (IPv6) one. IPv4 first because a hosts file often lists ::1 before 127.0.0.1 for localhost, and 127.0.0.1
   is also the default address. The chosen address goes to addr as text (*v6 says which family), every answer to
   all ("::1, 127.0.0.1") for the log. Returns 0, or getaddrinfo's error code. */
static int resolve_listen(const char *name, char *addr, size_t cap, int *v6, char *all, size_t allcap)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(name, NULL, &hints, &res);
    if (rc)
        return rc;
    const struct addrinfo *pick = NULL;
    size_t len = 0;
    all[0] = '\0';
    for (const struct addrinfo *a = res; a; a = a->ai_next) {
        char text[INET6_ADDRSTRLEN];
        const void *bin = NULL;
        if (a->ai_family == AF_INET)
            bin = &((const struct sockaddr_in *)a->ai_addr)->sin_addr;
        else if (a->ai_family == AF_INET6)
            bin = &((const struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
        if (!bin || !inet_ntop(a->ai_family, bin, text, sizeof text))
            continue;
        if (len < allcap)
            len += (size_t)snprintf(all + len, allcap - len, "%s%s", len ? ", " : "", text);
        if (!pick || (pick->ai_family != AF_INET && a->ai_family == AF_INET)) {
            pick = a;
            snprintf(addr, cap, "%s", text);
        }
    }
    if (pick)
        *v6 = pick->ai_family == AF_INET6;
    freeaddrinfo(res);
    return pick ? 0 : EAI_FAMILY; /* only families that cannot be listened on here */
}

/* Where a value came from, for messages: "--threads" or "config FILE: 'threads'". */
static const char *origin(int k, const char *file, char *buf, size_t cap)
{
    if (!file)
        return settings[k].opt;
    snprintf(buf, cap, "config %s: '%s'", file, settings[k].key);
    return buf;
}

/* The first line of file path, a secret (a token): at most cap - 1 bytes of printable ASCII, not empty. 0, or -1
   with why. */
static int read_secret(const char *path, char *out, size_t cap, char *why, size_t wcap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, wcap, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    size_t n = 0;
    int c;
    while ((c = fgetc(f)) != EOF && c != '\n' && c != '\r') {
        if (c < 0x21 || c > 0x7e || n + 1 >= cap) {
            fclose(f);
            snprintf(why, wcap, "%s: %s", path,
                     n + 1 >= cap ? "the token is too long" : "the token must be printable ASCII without spaces");
            return -1;
        }
        out[n++] = (char)c;
    }
    fclose(f);
    out[n] = '\0';
    if (!n) {
        snprintf(why, wcap, "%s: no token on its first line", path);
        return -1;
    }
    return 0;
}

/* What setting k accepts, for messages. */
static const char *expected(int k, char *buf, size_t cap)
{
    const setting *s = &settings[k];
    switch (s->kind) {
    case SET_INT:
        snprintf(buf, cap, "a whole number from %.0f to %.0f", s->lo, s->hi);
        break;
    case SET_NUM:
        snprintf(buf, cap, "a number from %g to %g", s->lo, s->hi);
        break;
    case SET_LISTEN:
        snprintf(buf, cap,
                 "HOST:PORT with an IPv4 address or a host name, or [IPV6]:PORT with an IPv6 address "
                 "(127.0.0.1:8080, localhost:8080, [::1]:8080, [::]:8080)");
        break;
    case SET_BOOL:
        snprintf(buf, cap, "true or false");
        break;
    case SET_HOST:
        snprintf(buf, cap, "a host name such as carpool.example.org (the operator's domain, no scheme or port)");
        break;
    case SET_URL:
        snprintf(buf, cap, "an http:// or https:// URL without query, such as https://carpool.example.org/");
        break;
    case SET_TILES:
        snprintf(buf, cap,
                 "an http:// or https:// URL template with {z}, {x} and {y}, such as "
                 "http://127.0.0.1:8081/{z}/{x}/{y}.png");
        break;
    default:
        snprintf(buf, cap, "a non-empty string");
    }
    return buf;
}

/* A bare host name as the interoperability standard names an operator: labels of letters, digits and inner
   hyphens (1 to 63 characters each), at least two of them, separated by dots, 253 characters at most. */
static int is_host_name(const char *t)
{
    size_t n = strlen(t), label = 0, labels = 1;
    if (n == 0 || n > 253)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (c == '.') {
            if (label == 0 || t[i - 1] == '-')
                return 0;
            label = 0;
            labels++;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   (c == '-' && label > 0)) {
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return label > 0 && t[n - 1] != '-' && labels >= 2;
}

/* An absolute http or https URL with a host, as the base of links to the map page: no spaces or control
   characters, no query or fragment (the links add their own), 1000 characters at most. */
static int is_public_url(const char *t)
{
    size_t skip = !strncmp(t, "https://", 8) ? 8 : !strncmp(t, "http://", 7) ? 7 : 0;
    if (!skip || !t[skip] || t[skip] == '/' || strlen(t) > 1000)
        return 0;
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        if (*p <= ' ' || *p == 0x7f || *p == '?' || *p == '#' || *p == '"' || *p == '<' || *p == '>' || *p == '\\')
            return 0;
    return 1;
}

/* A tile URL template for the map page: an http or https URL with {z}, {x} and {y}, no spaces, quotes, angle
   brackets or backslashes (it goes into the page's JSON and a browser's requests), 1000 characters at most. */
static int is_tile_template(const char *t)
{
    if (strncmp(t, "https://", 8) && strncmp(t, "http://", 7))
        return 0;
    if (!strstr(t, "{z}") || !strstr(t, "{x}") || !strstr(t, "{y}") || strlen(t) > 1000)
        return 0;
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        if (*p <= ' ' || *p == 0x7f || *p == '"' || *p == '<' || *p == '>' || *p == '\\')
            return 0;
    return 1;
}

/* Checks text as a value of setting k (on the command line, or a string in the config file) and stores it.
   Returns 0, or -1 after printing why. */
static int set_from_text(int k, const char *text, const char *file, setting_value *v)
{
    const setting *s = &settings[k];
    char where[600], want[200];
    int ok = 1;
    if (s->kind == SET_INT) {
        char *end;
        errno = 0;
        long long n = strtoll(text, &end, 10);
        ok = *text && !*end && !errno && n >= s->lo && n <= s->hi;
        v->i = n;
    } else if (s->kind == SET_NUM) {
        char *end;
        errno = 0;
        double d = strtod(text, &end);
        ok = *text && !*end && !errno && d >= s->lo && d <= s->hi;
        v->d = d;
    } else if (s->kind == SET_LISTEN) {
        char host[LISTEN_HOST_MAX];
        long port;
        int kind;
        ok = !parse_listen(text, host, sizeof host, &port, &kind);
    } else if (s->kind == SET_HOST) {
        ok = is_host_name(text);
    } else if (s->kind == SET_URL) {
        ok = is_public_url(text);
    } else if (s->kind == SET_TILES) {
        ok = is_tile_template(text);
    } else {
        ok = *text != '\0';
    }
    if (!ok) {
        cli_error("%s must be %s, not '%.100s'", origin(k, file, where, sizeof where), expected(k, want, sizeof want),
                  text);
        return -1;
    }
    v->s = text;
    v->set = 1;
    v->file = file;
    return 0;
}

/* Reads the --config file: one JSON object whose keys are the settings' (graph, db, listen, threads, ...), each
   of the type of its option (strings, whole numbers, true/false for quiet). Fills vals; the document, which
   holds the strings, goes to *doc (the caller releases it). Returns 0, or -1 after printing the problem. */
static int load_config(const char *path, setting_value *vals, json_t **doc)
{
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        if (je.line > 0)
            cli_error("config %s: not JSON: line %d column %d: %s", path, je.line, je.column, je.text);
        else
            cli_error("config %s: %s", path, je.text);
        return -1;
    }
    *doc = root;
    if (!json_is_object(root)) {
        cli_error("config %s: must be a JSON object of settings such as {\"graph\": \"porto.cvg\"}", path);
        return -1;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val)
    {
        int k = 0;
        while (k < S_N && strcmp(settings[k].key, key))
            k++;
        if (k == S_N) {
            char known[400];
            size_t n = 0;
            for (int j = 0; j < S_N && n < sizeof known; j++)
                n += (size_t)snprintf(known + n, sizeof known - n, "%s%s", j ? ", " : "", settings[j].key);
            cli_error("config %s: unknown key '%.100s' (known keys: %s)", path, key, known);
            return -1;
        }
        const setting *s = &settings[k];
        char where[600], want[200], num[64];
        if (s->kind == SET_STR || s->kind == SET_LISTEN || s->kind == SET_HOST || s->kind == SET_URL ||
            s->kind == SET_TILES) {
            if (!json_is_string(val)) {
                cli_error("%s must be a string", origin(k, path, where, sizeof where));
                return -1;
            }
            if (set_from_text(k, json_string_value(val), path, &vals[k]))
                return -1;
            continue;
        }
        int ok;
        if (s->kind == SET_BOOL) {
            ok = json_is_boolean(val);
            vals[k].i = json_is_true(val);
        } else if (s->kind == SET_INT) {
            ok = json_is_integer(val) && json_integer_value(val) >= s->lo && json_integer_value(val) <= s->hi;
            vals[k].i = json_integer_value(val);
        } else {
            ok = json_is_number(val) && json_number_value(val) >= s->lo && json_number_value(val) <= s->hi;
            vals[k].d = json_number_value(val);
        }
        if (!ok) {
            const char *got = json_is_string(val)    ? "a string"
                              : json_is_boolean(val) ? "a boolean"
                              : json_is_null(val)    ? "null"
                              : json_is_array(val)   ? "an array"
                              : json_is_object(val)  ? "an object"
                                                     : NULL;
            if (!got) {
                if (json_is_integer(val))
                    snprintf(num, sizeof num, "%lld", (long long)json_integer_value(val));
                else
                    snprintf(num, sizeof num, "%g", json_number_value(val));
                got = num;
            }
            cli_error("%s must be %s, not %s", origin(k, path, where, sizeof where), expected(k, want, sizeof want),
                      got);
            return -1;
        }
        vals[k].set = 1;
        vals[k].file = path;
    }
    return 0;
}

int cmd_serve_check_config(const char *path)
{
    setting_value vals[S_N];
    memset(vals, 0, sizeof vals);
    json_t *doc = NULL;
    int rc = load_config(path, vals, &doc);
    json_decref(doc);
    return rc;
}

/* A junction of the main network near the point at fraction f of the graph's box diagonal, at least away_m from
   *away (NULL: anywhere) when the network has one: example requests that answer Ok on any extract, and a route
   of some length (on Malta, whose box holds more sea than land, both ends were once the same junction). */
static cv_coord example_point(const cv_graph *g, double f, const cv_coord *away, double away_m)
{
    const int32_t *b = g->hdr.bbox;
    cv_coord want = {(int32_t)(b[0] + f * ((double)b[2] - b[0])), (int32_t)(b[1] + f * ((double)b[3] - b[1]))};
    cv_coord best = want;
    double bestd = -1;
    for (uint32_t i = 0; i < g->hdr.njunctions; i++) {
        if (g->a.node_component[i] != g->hdr.largest_component)
            continue;
        if (away && cv_distance_m(*away, g->a.node_coord[i]) < away_m)
            continue;
        double d = cv_distance_m(want, g->a.node_coord[i]);
        if (bestd < 0 || d < bestd)
            bestd = d, best = g->a.node_coord[i];
    }
    if (bestd < 0 && away) /* the whole network within away_m */
        return example_point(g, f, NULL, 0);
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

static int serve(int argc, char **argv, json_t **config_doc)
{
    setting_value cmd[S_N], file[S_N], v[S_N];
    memset(cmd, 0, sizeof cmd);
    memset(file, 0, sizeof file);
    const char *config = NULL;
    int convert_tz = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return CLI_OK;
        }
        if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            config = argv[++i];
            continue;
        }
        if (!strcmp(argv[i], "--convert-tz")) { /* a one-time act, so not a setting of the config file */
            convert_tz = 1;
            continue;
        }
        /* --no-X turns a true/false setting X off: it wins over the file like any option (a file's "quiet": true
           could not be undone from the command line otherwise) */
        int no = !strncmp(argv[i], "--no-", 5);
        int k = 0;
        while (k < S_N && strcmp(settings[k].opt, argv[i]) &&
               !(no && settings[k].kind == SET_BOOL && !strcmp(settings[k].opt + 2, argv[i] + 5)))
            k++;
        if (k < S_N && settings[k].kind == SET_BOOL) {
            cmd[k].set = 1;
            cmd[k].i = !no;
            continue;
        }
        if (k == S_N || i + 1 >= argc) {
            cli_error("unknown or incomplete option '%s' (try `covoit serve --help`)", argv[i]);
            return CLI_USAGE;
        }
        if (set_from_text(k, argv[++i], NULL, &cmd[k]))
            return CLI_USAGE;
    }
    if (config && load_config(config, file, config_doc))
        return CLI_USAGE;
    for (int k = 0; k < S_N; k++)
        v[k] = cmd[k].set ? cmd[k] : file[k];

    const char *graph = v[S_GRAPH].s, *db = v[S_DB].s, *tz = v[S_TZ].s;
    const char *listen = v[S_LISTEN].set ? v[S_LISTEN].s : "127.0.0.1:8080";
    char page_dir[4200];
    const char *page = v[S_PAGE].set ? v[S_PAGE].s : cli_data_dir("page", COVOIT_PAGE_DIR, page_dir, sizeof page_dir);
    long demo_trips = (long)v[S_DEMO_TRIPS].i;
    cv_server_options o = cv_server_defaults();
    if (v[S_THREADS].set)
        o.threads = (unsigned)v[S_THREADS].i;
    if (v[S_MAX_CONN].set)
        o.connection_limit = (unsigned)v[S_MAX_CONN].i;
    if (v[S_MAX_CONN_IP].set)
        o.per_ip_limit = (unsigned)v[S_MAX_CONN_IP].i;
    if (v[S_TIMEOUT].set)
        o.timeout_s = (unsigned)v[S_TIMEOUT].i;
    if (v[S_REQ_TIMEOUT].set)
        o.request_timeout_s = (unsigned)v[S_REQ_TIMEOUT].i;
    if (v[S_MAX_BODY].set)
        o.max_body = (size_t)v[S_MAX_BODY].i;
    if (v[S_RATE].set)
        o.rate = (unsigned)v[S_RATE].i;
    if (v[S_ROUTE_COORDS].set)
        o.max_route_coords = (unsigned)v[S_ROUTE_COORDS].i;
    if (v[S_TABLE_COORDS].set)
        o.max_table_coords = (unsigned)v[S_TABLE_COORDS].i;
    o.quiet = (int)v[S_QUIET].i;
    if (!graph) {
        cli_error("no graph: give --graph FILE%s (try `covoit serve --help`)",
                  config ? " or \"graph\" in the config file" : "");
        return CLI_USAGE;
    }
    /* bind is the numeric address the server takes (a host name resolved here, at start, once: the server and its
       demo-mode loopback check see addresses only), addr as URLs write it ([::1] for IPv6) */
    char host[LISTEN_HOST_MAX], bind[LISTEN_HOST_MAX], addr[LISTEN_HOST_MAX + 2];
    long port = 0;
    int kind = LISTEN_V4, v6 = 0;
    if (parse_listen(listen, host, sizeof host, &port, &kind)) { /* checked when set; the default is good */
        cli_error("--listen: bad address '%s'", listen);
        return CLI_USAGE;
    }
    if (kind == LISTEN_NAME) {
        char all[512], where[600];
        int rc = resolve_listen(host, bind, sizeof bind, &v6, all, sizeof all);
        if (rc) {
            cli_error("%s: cannot resolve host name '%s': %s", origin(S_LISTEN, v[S_LISTEN].file, where, sizeof where),
                      host, rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
            return CLI_USAGE;
        }
        cv_log("info", "listen: host name %s resolves to %s; listening on %s", host, all, bind);
    } else {
        snprintf(bind, sizeof bind, "%s", host);
        v6 = kind == LISTEN_V6;
    }
    snprintf(addr, sizeof addr, v6 ? "[%s]" : "%s", bind);
    o.address = bind;
    o.port = (uint16_t)port;

    cv_error err = {0};
    if (demo_trips > 0 && !db) { /* a usage error, said before the graph is read and the labels built */
        cli_error("--demo-trips needs --db FILE");
        return CLI_USAGE;
    }
    /* before any thread starts: it sets the process's TZ; without --tz, the zone the database keeps */
    char where[600], zwhy[700];
    int zst = cli_zone(tz, db, convert_tz, origin(S_TZ, v[S_TZ].file, where, sizeof where), zwhy, sizeof zwhy);
    if (zst) {
        cli_error("%s", zwhy);
        return zst;
    }
    /* From here on every way out goes through `done`, which closes whatever was opened, in reverse order. */
    int rc = CLI_FAIL;
    cv_hub_labels *hl = NULL;
    cv_matcher *m = NULL;
    cv_server *s = NULL;
    cv_places *places = NULL;
    cv_stats_areas areas = {0};
    cv_mbtiles *tiles = NULL;
    char proof_token[512] = "";
    cv_graph *g = cv_graph_open(graph, &err);
    if (!g) {
        cli_error("%s", err.text);
        goto done;
    }
    /* hub labels before the matcher, whose index is then built from them too */
    long labels_mb = v[S_LABELS_MB].set ? (long)v[S_LABELS_MB].i : 1024;
    if (labels_mb > 0) {
        cv_progress pr;
        cv_progress_init(&pr, 0);
        int lrc = cv_hub_labels_build(g, o.threads, (uint64_t)labels_mb << 20, &pr, &hl, &err);
        cv_progress_done(&pr);
        if (lrc == 0)
            printf("hub labels: %.1f entries per node each way, %.0f MB, built in %.2f s\n",
                   (double)(hl->nentries[0] + hl->nentries[1]) / 2.0 / (g->hdr.nnodes ? g->hdr.nnodes : 1),
                   (double)cv_hub_labels_bytes(hl) / 1048576.0, hl->build_s);
        else if (lrc == CV_ETOOBIG)
            cv_log("warn", "%s (--hub-labels-mb %ld)", err.text, labels_mb);
        else {
            cli_error("%s", err.text);
            goto done;
        }
    }
    o.labels = hl;
    if (db) {
        cv_matcher_options mo = cv_matcher_defaults();
        mo.labels = hl;
        mo.follow_ms = 200; /* writes of other processes (the CLI, other servers) reach the index within this */
        mo.retention_days = v[S_RETENTION].set ? (int)v[S_RETENTION].i : CV_RETENTION_DAYS_DEFAULT;
        if (v[S_PRICE].set)
            mo.price_per_km = v[S_PRICE].d;
        if (cv_matcher_open(g, db, &mo, (int64_t)time(NULL), &m, &err)) {
            cli_error("%s", err.text);
            goto done;
        }
        o.matcher = m;
        if (demo_trips > 0) {
            long added = seed_demo_trips(g, m, demo_trips, &err);
            if (added < 0) {
                cli_error("--demo-trips: %s", err.text);
                goto done;
            }
            printf("demo trips: added %ld offers (owner \"demo\", tomorrow 07:00-09:00) to reach %ld open ones\n",
                   added, demo_trips);
        }
    }
    /* Blocked before the workers start, so that they inherit the mask and only sigwait below sees the signals. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    o.page_dir = page;
    o.operator_name = v[S_OPERATOR].set ? v[S_OPERATOR].s : NULL;
    o.public_url = v[S_PUBLIC_URL].set ? v[S_PUBLIC_URL].s : NULL;
    o.tile_url = v[S_TILE_URL].set ? v[S_TILE_URL].s : NULL;
    o.partner_timeout_ms = v[S_PARTNER_TIMEOUT].set ? (unsigned)v[S_PARTNER_TIMEOUT].i : 0;
    o.source_url = v[S_SOURCE_URL].set ? v[S_SOURCE_URL].s : NULL;
    if (v[S_PROOF_TOKEN].set && !v[S_PROOF_URL].set) {
        cli_error("--proof-token-file: needs --proof-url (the register the token is for)");
        rc = CLI_USAGE;
        goto done;
    }
    if (v[S_PROOF_URL].set) { /* the register of carpool proofs, and its token, read from a file (not argv) */
        if (!m) {
            cli_error("--proof-url needs --db FILE (the proofs are in the trip database)");
            rc = CLI_USAGE;
            goto done;
        }
        o.proof_url = v[S_PROOF_URL].s;
        if (v[S_PROOF_TOKEN].set) {
            char why[600];
            if (read_secret(v[S_PROOF_TOKEN].s, proof_token, sizeof proof_token, why, sizeof why)) {
                cli_error("--proof-token-file: %s", why);
                goto done;
            }
            o.proof_token = proof_token;
        }
    }
    /* the place index: the one named, or the graph's when there is one, or the one inside the trip database
       (covoit import --places DB) */
    char places_path[4200];
    if (v[S_PLACES].set)
        snprintf(places_path, sizeof places_path, "%s", v[S_PLACES].s);
    else
        cv_places_path_for(graph, places_path, sizeof places_path);
    if (!v[S_PLACES].set && access(places_path, F_OK) != 0 && db && !cv_store_is_postgres(db) &&
        cv_places_open(db, &places, &err) == 0)
        snprintf(places_path, sizeof places_path, "%s", db), o.places = places;
    else if (v[S_PLACES].set || access(places_path, F_OK) == 0) {
        if (cv_places_open(places_path, &places, &err)) {
            cli_error("--places: %s", err.text);
            goto done;
        }
        o.places = places;
    }
    char tiles_path[4200];
    if (v[S_TILES].set)
        snprintf(tiles_path, sizeof tiles_path, "%s", v[S_TILES].s);
    else
        snprintf(tiles_path, sizeof tiles_path, "%s.mbtiles", graph);
    if (v[S_TILES].set || access(tiles_path, F_OK) == 0) {
        cv_mbtiles_info ti;
        if (cv_mbtiles_open(tiles_path, &tiles, &ti, &err)) {
            cli_error("--tiles: %s", err.text);
            goto done;
        }
        o.tiles = tiles;
        o.tiles_minzoom = ti.minzoom, o.tiles_maxzoom = ti.maxzoom;
    }
    if (v[S_STATS_AREAS].set) { /* GET /v1/stats?area=areas: the areas a local authority supplied */
        char why[600];
        if (cli_load_areas(v[S_STATS_AREAS].s, &areas, why, sizeof why)) {
            cli_error("--stats-areas: %s", why);
            goto done;
        }
        o.stats_areas = &areas;
    }
    s = cv_server_start(g, &o, &err);
    if (!s) {
        cli_error("%s", err.text);
        goto done;
    }
    if (!cv_server_auth(s))
        printf("demo mode: no API key configured, listening on the loopback address only\n");
    else
        printf("API keys required (X-API-Key or Authorization: Bearer), %u requests/s per key and address\n",
               o.rate ? o.rate : 100);
    cv_coord a = example_point(g, 0.4, NULL, 0), b = example_point(g, 0.6, &a, 1000);
    printf("covoit serving %s on http://%s:%u/ (Ctrl-C stops)\ntry:\n"
           "  curl 'http://%s:%u/route/v1/driving/%.6f,%.6f;%.6f,%.6f?overview=false'\n"
           "  curl 'http://%s:%u/table/v1/driving/%.6f,%.6f;%.6f,%.6f?annotations=duration,distance'\n",
           graph, addr, cv_server_port(s), addr, cv_server_port(s), cv_deg(a.lon), cv_deg(a.lat), cv_deg(b.lon),
           cv_deg(b.lat), addr, cv_server_port(s), cv_deg(a.lon), cv_deg(a.lat), cv_deg(b.lon), cv_deg(b.lat));
    char db_named[300];
    cv_store_name(db ? db : "", db_named, sizeof db_named); /* (a URI's password is not shown) */
    if (m)
        printf("carpool API on http://%s:%u/v1/ (trips in %s, time zone %s)\n", addr, cv_server_port(s), db_named,
               cv_tz_name());
    else
        printf("no --db: the carpool API (/v1) answers 503\n");
    if (o.proof_url)
        printf("carpool proofs sent to %s as both sides complete rides (docs/proofs.md)\n", o.proof_url);
    else if (m)
        printf("carpool proofs kept in %s for `covoit proofs export` (no --proof-url)\n", db_named);
    if (!o.source_url)
        printf("no --source-url: the page cannot link to the source of this covoit (AGPL-3.0 section 13)\n");
    if (places) {
        cv_places_info pi;
        cv_places_info_get(places, &pi);
        printf("place search on http://%s:%u/v1/places?q=... (%zu places from %s)\n", addr, cv_server_port(s),
               pi.places, places_path);
    } else {
        printf("no place index (%s): /v1/places answers 503\n", places_path);
    }
    if (tiles)
        printf("map tiles on http://%s:%u/tiles/{z}/{x}/{y}.pbf (zoom %d to %d, from %s)\n", addr, cv_server_port(s),
               o.tiles_minzoom, o.tiles_maxzoom, tiles_path);
    char why[700];
    if (cv_page_ready(page, why, sizeof why))
        printf("map page on http://%s:%u/ (from %s)\n", addr, cv_server_port(s), page);
    else
        cv_log("warn", "map page not available, GET / answers 503: %s", why);
    fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    cv_log("info", "%s received: finishing requests in flight", sig == SIGINT ? "SIGINT" : "SIGTERM");
    rc = CLI_OK;
done:
    cv_server_stop(s); /* each of these takes NULL: what was not opened yet */
    cv_places_close(places);
    cv_mbtiles_close(tiles);
    cv_stats_areas_free(&areas);
    cv_matcher_close(m);
    cv_hub_labels_free(hl);
    cv_graph_close(g);
    if (rc == CLI_OK)
        cv_log("info", "stopped");
    return rc;
}

int cmd_serve(int argc, char **argv)
{
    json_t *config_doc = NULL; /* the --config document: the strings of its settings live in it */
    int rc = serve(argc, argv, &config_doc);
    json_decref(config_doc);
    return rc;
}
