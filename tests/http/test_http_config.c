/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_http_config.c — `covoit serve` as a process: settings from a --config file (port 0, threads, limits) and
   the command line winning over it, bad config files and options refused with exit status 2 and a message naming
   the problem, the body cap (413 TooBig, with and without Content-Length), the per-address connection limit and the
   idle timeout (connections beyond the limit closed while the server keeps serving), IPv6 on [::1] and dual stack
   on [::], demo mode refusing wildcard addresses, host names in --listen (localhost serves, a name that does not
   resolve is refused), --no-quiet over a file's quiet, the request deadline (slow requests closed, the clock
   starting at each request's first byte), SIGTERM under keep-alive writes (every request answered whole or not
   processed; --long-stop repeats it 50 times, the `slow` ctest), and a log line for every error answer. Runs the
   built covoit binary on the Monaco graph. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <sqlite3.h>

#include "matcher/store.h"
#include "places/places.h"
#include "test_support.h"
#include "db_target.h"

#define GRAPH COVOIT_TMP "/http_config_monaco.cvg"
#define CONF COVOIT_TMP "/http_config.json"
#define ERR_FILE COVOIT_TMP "/http_config.err"
#define DB_KEYS COVOIT_TMP "/http_config_keys.db"
#define DB_EXAMPLE COVOIT_TMP "/http_config_example.db"
#define DB_STOP COVOIT_TMP "/http_config_stop.db"
#define EXAMPLE COVOIT_TEST_DATA "/../../docs/covoit.example.json"
#define ROUTE2 "/route/v1/driving/7.4275,43.7396;7.4160,43.7290?overview=false"
#define ROUTE4 "/route/v1/driving/7.4275,43.7396;7.4160,43.7290;7.4200,43.7350;7.4250,43.7380?overview=false"

static char err_buf[1 << 21];

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) && errno == EINTR)
        ;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The whole of ERR_FILE into err_buf. */
static const char *read_err(void)
{
    err_buf[0] = '\0';
    FILE *f = fopen(ERR_FILE, "r");
    if (!f)
        return err_buf;
    size_t n = fread(err_buf, 1, sizeof err_buf - 1, f);
    err_buf[n] = '\0';
    fclose(f);
    return err_buf;
}

/* Forks covoit serve with args (after "serve"); stderr to ERR_FILE, stdout to *out_fd (a pipe) or to /dev/null. */
static pid_t spawn(const char *const *args, int *out_fd)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)COVOIT_BIN;
    argv[argc++] = (char *)"serve";
    for (int i = 0; args[i] && argc < 63; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    int p[2] = {-1, -1};
    if (out_fd && pipe(p))
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fe = open(ERR_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fo = out_fd ? p[1] : open("/dev/null", O_WRONLY);
        if (fe < 0 || fo < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
            _exit(127);
        if (out_fd)
            close(p[0]);
        execv(COVOIT_BIN, argv);
        _exit(127);
    }
    if (out_fd) {
        close(p[1]);
        *out_fd = p[0];
    }
    return pid;
}

/* Waits up to seconds for pid; returns its wait status, or -1 (after killing it) when it did not end. */
static int wait_for(pid_t pid, int seconds)
{
    for (int i = 0; i < seconds * 50; i++) {
        int status;
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            return status;
        if (w < 0 && errno != EINTR)
            return -1;
        sleep_ms(20);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

/* Runs covoit serve with args to its end (it must not start serving); returns the exit status, stderr in
   err_buf. */
static int run_to_exit(const char *const *args)
{
    pid_t pid = spawn(args, NULL);
    assert_true(pid > 0);
    int status = wait_for(pid, 60);
    read_err();
    if (status == -1)
        fail_msg("covoit serve did not exit; stderr: %s", err_buf);
    if (!WIFEXITED(status))
        fail_msg("covoit serve killed by signal %d; stderr: %s", WTERMSIG(status), err_buf);
    return WEXITSTATUS(status);
}

typedef struct server_proc {
    pid_t pid;
    int out;
    uint16_t port;
    char host[80]; /* as the URL writes it: 127.0.0.1, [::1] */
} server_proc;

/* Starts covoit serve with args and reads its stdout until the "covoit serving ... on http://HOST:PORT/" line. */
/* What the last server started printed on stdout by the time start() returned. */
static char start_out[8192];

static server_proc start(const char *const *args)
{
    server_proc s = {0};
    s.pid = spawn(args, &s.out);
    assert_true(s.pid > 0);
    char buf[8192];
    size_t len = 0;
    const char *at = NULL;
    while (!at) {
        struct pollfd pfd = {s.out, POLLIN, 0};
        int r = poll(&pfd, 1, 60000);
        ssize_t got = r > 0 ? read(s.out, buf + len, sizeof buf - 1 - len) : -1;
        if (got <= 0) {
            kill(s.pid, SIGKILL);
            int status = 0;
            waitpid(s.pid, &status, 0);
            fail_msg("covoit serve did not start (status %d); stdout: %.*s; stderr: %s", status, (int)len, buf,
                     read_err());
        }
        len += (size_t)got;
        buf[len] = '\0';
        const char *line = strstr(buf, "covoit serving ");
        at = line ? strstr(line, " on http://") : NULL;
        if (at && !strstr(at, "/ "))
            at = NULL; /* the line is not all in yet */
    }
    snprintf(start_out, sizeof start_out, "%s", buf);
    const char *host = at + strlen(" on http://");
    const char *colon = *host == '[' ? strstr(host, "]:") + 1 : strchr(host, ':');
    assert_non_null(colon);
    snprintf(s.host, sizeof s.host, "%.*s", (int)(colon - host), host);
    s.port = (uint16_t)atoi(colon + 1);
    assert_true(s.port > 0);
    return s;
}

/* SIGTERM, and the server must finish cleanly (exit 0: no leak, no crash). */
static void stop(server_proc *s)
{
    kill(s->pid, SIGTERM);
    int status = wait_for(s->pid, 60);
    close(s->out);
    read_err();
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status))
        fail_msg("covoit serve did not stop cleanly (status %d); stderr: %s", status, err_buf);
}

/* A connected TCP socket to the loopback address of family (AF_INET or AF_INET6), or -1. */
static int connect_loopback(int family, uint16_t port)
{
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    int rc;
    if (family == AF_INET6) {
        struct sockaddr_in6 sa = {0};
        sa.sin6_family = AF_INET6;
        sa.sin6_port = htons(port);
        sa.sin6_addr = in6addr_loopback;
        rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    } else {
        struct sockaddr_in sa = {0};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    }
    if (rc) {
        close(fd);
        return -1;
    }
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* Sends text (a whole request) over a new connection and returns the answer's status (0: none, -1: no
   connection); the body goes to body (when not NULL, capacity cap). */
static int raw_request(int family, uint16_t port, const char *text, char *body, size_t cap)
{
    int fd = connect_loopback(family, port);
    if (fd < 0)
        return -1;
    if (send(fd, text, strlen(text), MSG_NOSIGNAL) < 0) {
        close(fd);
        return 0;
    }
    char buf[65536];
    size_t len = 0;
    for (;;) {
        ssize_t got = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(fd);
    buf[len] = '\0';
    if (strncmp(buf, "HTTP/1.1 ", 9))
        return 0;
    const char *sep = strstr(buf, "\r\n\r\n");
    if (body)
        snprintf(body, cap, "%s", sep ? sep + 4 : "");
    return atoi(buf + 9);
}

static int get_status(int family, uint16_t port, const char *path)
{
    char req[1024];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", path);
    return raw_request(family, port, req, NULL, 0);
}

/* Whether the server closes fd (end of file or reset) within ms, with nothing sent. */
static int closed_within(int fd, int ms)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, ms) <= 0)
        return 0;
    char c;
    ssize_t got = recv(fd, &c, 1, MSG_DONTWAIT);
    return got == 0 || (got < 0 && errno == ECONNRESET);
}

/* Whether this machine can bind the IPv6 loopback address. */
static int have_ipv6_loopback(char *why, size_t cap)
{
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) {
        snprintf(why, cap, "no IPv6 sockets: %s", strerror(errno));
        return 0;
    }
    struct sockaddr_in6 sa = {0};
    sa.sin6_family = AF_INET6;
    sa.sin6_addr = in6addr_loopback;
    int ok = !bind(fd, (struct sockaddr *)&sa, sizeof sa);
    if (!ok)
        snprintf(why, cap, "cannot bind [::1]: %s", strerror(errno));
    close(fd);
    return ok;
}

static int setup(void **state)
{
    (void)state;
    cv_graph_close(tst_build_graph(COVOIT_TEST_DATA "/monaco.osm.pbf", "http_config_monaco.cvg"));
    /* a trip database with one API key: auth mode, which may listen on any address */
    tst_db_remove(DB_KEYS);
    cv_error err = {0};
    cv_store *s = NULL;
    char secret[CV_KEY_SECRET_MAX];
    if (cv_store_open(tst_db(DB_KEYS), &s, &err) || cv_store_add_key(s, "ops", CV_SCOPE_ALL, secret, NULL, &err))
        fail_msg("%s", err.text);
    cv_store_close(s);
    return 0;
}

/* The config file sets port 0, threads and every limit; the server starts, answers and logs them. */
static void test_config_file(void **state)
{
    (void)state;
    write_file(CONF, "{\"graph\": \"" GRAPH "\", \"listen\": \"127.0.0.1:0\", \"threads\": 2,\n"
                     " \"max_connections\": 20, \"max_connections_per_ip\": 5, \"connection_timeout_s\": 7,\n"
                     " \"request_timeout_s\": 9,\n"
                     " \"max_body_bytes\": 1234, \"max_route_coords\": 3, \"max_table_coords\": 50,\n"
                     " \"rate\": 40, \"price_per_km\": 0.1, \"tz\": \"Europe/Monaco\", \"quiet\": true,\n"
                     " \"hub_labels_mb\": 0}\n");
    const char *args[] = {"--config", CONF, NULL};
    server_proc s = start(args);
    assert_string_equal(s.host, "127.0.0.1");
    reply r = http_request(s.port, "GET", "/health", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    r = http_request(s.port, "GET", ROUTE2, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    r = http_request(s.port, "GET", ROUTE4, NULL, NULL, 0); /* 4 coordinates, 3 allowed */
    assert_int_equal(r.status, 400);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), "TooBig");
    reply_free(&r);
    stop(&s);
    char want[128];
    snprintf(want, sizeof want, "msg=listening listen=127.0.0.1:%u port=%u threads=2 ", s.port, s.port);
    if (!strstr(err_buf, want))
        fail_msg("no '%s' in: %s", want, err_buf);
    static const char *const pairs[] = {
        "max_connections=20 ",  "max_connections_per_ip=5 ", "connection_timeout_s=7 ", "request_timeout_s=9 ",
        "max_body_bytes=1234 ", "max_route_coords=3 ",       "max_table_coords=50 ",    "auth=demo",
        "hub_labels=off"};
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++)
        if (!strstr(err_buf, pairs[i]))
            fail_msg("no '%s' in: %s", pairs[i], err_buf);
    assert_null(strstr(err_buf, "method=GET")); /* quiet */
}

/* Options on the command line win over the file, wherever they stand; the file fills in the rest. */
static void test_command_line_wins(void **state)
{
    (void)state;
    write_file(CONF, "{\"graph\": \"/nonexistent.cvg\", \"listen\": \"127.0.0.1:1\", \"threads\": 2,"
                     " \"max_connections\": 20, \"max_body_bytes\": 1234}");
    const char *args[] = {"--threads", "1",           "--config",   CONF, "--graph", GRAPH,
                          "--listen",  "127.0.0.1:0", "--max-body", "99", NULL};
    server_proc s = start(args);
    reply r = http_request(s.port, "GET", "/health", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    char body[100];
    memset(body, ' ', sizeof body);
    r = http_request(s.port, "POST", "/v1/search", NULL, body, sizeof body);
    assert_int_equal(r.status, 413);
    reply_free(&r);
    stop(&s);
    /* hub labels are on by default */
    static const char *const pairs[] = {"threads=1 ", "max_connections=20 ", "max_body_bytes=99 ", "method=GET",
                                        "hub_labels=on"};
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++)
        if (!strstr(err_buf, pairs[i]))
            fail_msg("no '%s' in: %s", pairs[i], err_buf);
}

/* docs/covoit.example.json is a good file (its graph and database replaced on the command line), and it sets every
   key of the configuration table of docs/API.md, as that page says. */
static void test_example_config(void **state)
{
    (void)state;
    json_error_t jerr;
    json_t *example = json_load_file(EXAMPLE, 0, &jerr);
    if (!example)
        fail_msg("%s: %s", EXAMPLE, jerr.text);
    FILE *api = fopen(COVOIT_TEST_DATA "/../../docs/API.md", "r");
    assert_non_null(api);
    char line[2048];
    int keys = 0;
    while (fgets(line, sizeof line, api)) {
        /* | `--option ...` | `key` | type | default | meaning | */
        if (strncmp(line, "| `--", 5))
            continue;
        char *cell = strstr(line + 1, "| `");
        if (!cell)
            continue;
        char *end = strchr(cell + 3, '`');
        assert_non_null(end);
        *end = '\0';
        if (!json_object_get(example, cell + 3))
            fail_msg("docs/covoit.example.json does not set '%s' (docs/API.md, Configuration)", cell + 3);
        keys++;
    }
    fclose(api);
    assert_int_equal((size_t)keys, json_object_size(example));
    json_decref(example);
    tst_db_remove(DB_EXAMPLE);
    /* the example's files are the run script's; here, Monaco's: its place index and a small MBTiles */
    char places[1100], tiles[1100];
    snprintf(places, sizeof places, "%s/http_config_monaco.places", COVOIT_TMP);
    snprintf(tiles, sizeof tiles, "%s/http_config.mbtiles", COVOIT_TMP);
    cv_error err = {0};
    if (cv_places_build(COVOIT_TEST_DATA "/monaco.osm.pbf", places, NULL, NULL, &err))
        fail_msg("%s", err.text);
    unlink(tiles);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(tiles, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE metadata(name TEXT, value TEXT); CREATE TABLE tiles(zoom_level INTEGER,"
                                  " tile_column INTEGER, tile_row INTEGER, tile_data BLOB); INSERT INTO metadata"
                                  " VALUES('format','pbf'),('minzoom','5'),('maxzoom','14');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    char areas[1100];
    snprintf(areas, sizeof areas, "%s/../../data/areas-porto.geojson", COVOIT_TEST_DATA);
    /* the register's token, from a file of the test's (the example names one under /etc) */
    char token[1100];
    snprintf(token, sizeof token, "%s/http_config_rpc_token", COVOIT_TMP);
    FILE *tf = fopen(token, "w");
    assert_non_null(tf);
    fputs("example-token\n", tf);
    fclose(tf);
    const char *args[] = {"--config",           EXAMPLE, "--graph",  GRAPH,         "--db",          tst_db(DB_EXAMPLE),
                          "--places",           places,  "--tiles",  tiles,         "--stats-areas", areas,
                          "--proof-token-file", token,   "--listen", "127.0.0.1:0", "--quiet",       NULL};
    server_proc s = start(args);
    assert_int_equal(get_status(AF_INET, s.port, "/health"), 200);
    assert_int_equal(get_status(AF_INET, s.port, "/v1/offers?owner=x"), 200);
    stop(&s);
    assert_non_null(strstr(err_buf, " threads=4 max_connections=1024 max_connections_per_ip=64 "));
    tst_db_remove(DB_EXAMPLE);
}

/* The example requests `covoit serve` prints route between two different junctions some way apart, also on an
   extract whose box is mostly empty: here a town's grid of roads in one corner and a lone road far off (as Malta's
   box, mostly sea, once made both ends of the example route the same junction). */
static void test_example_route(void **state)
{
    (void)state;
    char osm[1100], graph[1100];
    snprintf(osm, sizeof osm, "%s/http_config_corner.osm", COVOIT_TMP);
    snprintf(graph, sizeof graph, "%s/http_config_corner.cvg", COVOIT_TMP);
    FILE *f = fopen(osm, "w");
    assert_non_null(f);
    fprintf(f, "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6' generator='test'>\n");
    /* a 4 x 4 grid of junctions 600 m apart at 45 N, 10 E; ways along its rows and columns */
    for (int i = 0; i < 16; i++)
        fprintf(f, "<node id='%d' version='1' lat='%.6f' lon='%.6f'/>\n", i + 1, 45.0 + (i / 4) * 0.0054,
                10.0 + (i % 4) * 0.0076);
    fprintf(f, "<node id='101' version='1' lat='45.3' lon='10.3'/>\n<node id='102' version='1' lat='45.3' "
               "lon='10.31'/>\n");
    int way = 1;
    for (int k = 0; k < 4; k++) {
        fprintf(f, "<way id='%d' version='1'>", way++);
        for (int j = 0; j < 4; j++)
            fprintf(f, "<nd ref='%d'/>", k * 4 + j + 1);
        fprintf(f, "<tag k='highway' v='residential'/></way>\n<way id='%d' version='1'>", way++);
        for (int j = 0; j < 4; j++)
            fprintf(f, "<nd ref='%d'/>", j * 4 + k + 1);
        fprintf(f, "<tag k='highway' v='residential'/></way>\n");
    }
    fprintf(f, "<way id='99' version='1'><nd ref='101'/><nd ref='102'/><tag k='highway' v='residential'/></way>\n"
               "</osm>\n");
    fclose(f);
    char cmd[2400];
    snprintf(cmd, sizeof cmd, "%s import %s -o %s --no-places > /dev/null 2>&1", COVOIT_BIN, osm, graph);
    assert_int_equal(system(cmd), 0);
    const char *args[] = {"--graph", graph, "--listen", "127.0.0.1:0", "--hub-labels-mb", "0", NULL};
    server_proc s = start(args);
    /* the rest of what it prints: the example requests */
    char buf[8192];
    size_t len = strlen(start_out);
    memcpy(buf, start_out, len + 1);
    const char *route = strstr(buf, "/route/v1/driving/");
    while (!route || !strchr(route, '?')) {
        struct pollfd pfd = {s.out, POLLIN, 0};
        ssize_t got = poll(&pfd, 1, 20000) > 0 ? read(s.out, buf + len, sizeof buf - 1 - len) : -1;
        if (got <= 0)
            fail_msg("no example route printed: %.*s", (int)len, buf);
        len += (size_t)got;
        buf[len] = '\0';
        route = strstr(buf, "/route/v1/driving/");
    }
    char path[200];
    snprintf(path, sizeof path, "%.*s", (int)(strchr(route, '?') - route), route);
    const char *semi = strchr(path, ';');
    assert_non_null(semi);
    if (!strncmp(path + strlen("/route/v1/driving/"), semi + 1, strlen(semi + 1)))
        fail_msg("the example route goes from a place to itself: %s", path);
    char body[4096];
    char req[400];
    snprintf(req, sizeof req, "GET %s?overview=false HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", path);
    assert_int_equal(raw_request(AF_INET, s.port, req, body, sizeof body), 200);
    json_t *doc = json_loads(body, 0, NULL);
    double d = json_number_value(json_object_get(json_array_get(json_object_get(doc, "routes"), 0), "distance"));
    json_decref(doc);
    if (d < 1000)
        fail_msg("the example route is %g m long: %s", d, path);
    stop(&s);
}

/* Bad config files and bad options: exit status 2, one line naming the file and the key, or the option. */
static void test_bad_settings(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want1, *want2;
    } files[] = {
        {"{\"graph\": \"x.cvg\",", "not JSON", "line 1"},
        {"{\"graph\": \"x.cvg\", \"colour\": \"red\"}", "unknown key 'colour'", "known keys: graph"},
        {"{\"threads\": \"4\"}", "'threads' must be a whole number from 1 to 1024", "not a string"},
        {"{\"threads\": -2}", "'threads' must be a whole number", "not -2"},
        {"{\"threads\": 1.5}", "'threads' must be a whole number", "not 1.5"},
        {"{\"max_body_bytes\": 0}", "'max_body_bytes'", "not 0"},
        {"{\"max_connections_per_ip\": null}", "'max_connections_per_ip'", "not null"},
        {"{\"quiet\": \"yes\"}", "'quiet' must be true or false", "not a string"},
        {"{\"listen\": \"localhost\"}", "'listen' must be HOST:PORT", "not 'localhost'"},
        {"{\"listen\": \"localhost:65536\"}", "'listen' must be HOST:PORT", "localhost:65536"},
        {"{\"graph\": 3}", "'graph' must be a string", ""},
        {"{\"price_per_km\": -1}", "'price_per_km' must be a number from 0.0001 to 10", ""},
        {"{\"price_per_km\": 50}", "'price_per_km' must be a number from 0.0001 to 10", "not 50"},
        {"{\"hub_labels_mb\": -5}", "'hub_labels_mb' must be a whole number from 0", "not -5"},
        {"{\"request_timeout_s\": 0}", "'request_timeout_s' must be a whole number from 1 to 86400", "not 0"},
        {"{\"request_timeout_s\": \"30\"}", "'request_timeout_s' must be a whole number", "not a string"},
        {"{\"operator\": \"localhost\"}", "'operator' must be a host name", "not 'localhost'"},
        {"{\"operator\": \"https://carpool.example.org\"}", "'operator' must be a host name", "no scheme"},
        {"{\"operator\": \"-bad.example.org\"}", "'operator' must be a host name", ""},
        {"{\"operator\": 7}", "'operator' must be a string", ""},
        {"{\"public_url\": \"carpool.example.org\"}", "'public_url' must be an http:// or https:// URL", ""},
        {"{\"public_url\": \"https://carpool.example.org/?a=1\"}", "'public_url' must be an http", "without query"},
        {"{\"public_url\": \"https:///x\"}", "'public_url'", ""},
        {"{\"tile_url\": \"https://tiles.example.org/{z}/{x}.png\"}", "'tile_url' must be an http", "{y}"},
        {"{\"tile_url\": \"file:///srv/{z}/{x}/{y}.png\"}", "'tile_url' must be an http", ""},
        {"{\"proof_url\": \"register.example.org/v3.1/journeys\"}", "'proof_url' must be an http", ""},
        {"{\"source_url\": 3}", "'source_url' must be a string", ""},
        {"{\"graph\": \"a\", \"graph\": \"b\"}", "duplicate", ""},
        {"[1, 2]", "must be a JSON object", ""},
        {"", "not JSON", ""},
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        write_file(CONF, files[i].text);
        const char *args[] = {"--config", CONF, NULL};
        int rc = run_to_exit(args);
        if (rc != 2 || !strstr(err_buf, "config " CONF ": ") || !strstr(err_buf, files[i].want1) ||
            !strstr(err_buf, files[i].want2))
            fail_msg("config %s: exit %d, stderr: %s", files[i].text, rc, err_buf);
        if (strchr(err_buf, '\n') != err_buf + strlen(err_buf) - 1)
            fail_msg("config %s: not one line: %s", files[i].text, err_buf);
    }
    const char *missing[] = {"--config", COVOIT_TMP "/no_such_config.json", NULL};
    assert_int_equal(run_to_exit(missing), 2);
    assert_non_null(strstr(err_buf, "no_such_config.json"));

    static const struct {
        const char *opt, *val, *want;
    } opts[] = {
        {"--threads", "0", "--threads must be a whole number from 1 to 1024"},
        {"--max-connections", "many", "--max-connections must be"},
        {"--max-connections-per-ip", "0", "--max-connections-per-ip must be"},
        {"--connection-timeout", "-1", "--connection-timeout must be"},
        {"--request-timeout", "0", "--request-timeout must be a whole number from 1 to 86400"},
        {"--request-timeout", "86401", "--request-timeout must be"},
        {"--max-body", "1e3", "--max-body must be"},
        {"--max-table-coords", "0", "--max-table-coords must be"},
        {"--price-per-km", "50", "--price-per-km must be a number from 0.0001 to 10"},
        {"--price-per-km", "0", "--price-per-km must be"},
        {"--listen", "::1:8080", "--listen must be HOST:PORT"},
        {"--listen", "[localhost]:8080", "--listen must be"},
        {"--listen", "local host:8080", "--listen must be"},
        {"--listen", "localhost:", "--listen must be"},
        {"--listen", "[::1]", "--listen must be"},
        {"--listen", "[::1]8080", "--listen must be"},
        {"--listen", "127.0.0.1:65536", "--listen must be"},
        {"--listen", "127.0.0.1:", "--listen must be"},
        {"--listen", "300.1.1.1:80", "--listen must be"},
        {"--listen", "[fe80::zz]:80", "--listen must be"},
        {"--demo-trips", "5", "--demo-trips needs --db FILE"}, /* said at once, before the hub labels are built */
    };
    for (size_t i = 0; i < sizeof opts / sizeof *opts; i++) {
        const char *args[] = {"--graph", GRAPH, opts[i].opt, opts[i].val, NULL};
        int rc = run_to_exit(args);
        if (rc != 2 || !strstr(err_buf, opts[i].want))
            fail_msg("%s %s: exit %d, stderr: %s", opts[i].opt, opts[i].val, rc, err_buf);
    }
    /* a good file does not save a bad option, and a missing graph is named */
    write_file(CONF, "{\"threads\": 2}");
    const char *bad_opt[] = {"--config", CONF, "--threads", "2000", NULL};
    assert_int_equal(run_to_exit(bad_opt), 2);
    assert_non_null(strstr(err_buf, "--threads"));
    const char *no_graph[] = {"--config", CONF, NULL};
    assert_int_equal(run_to_exit(no_graph), 2);
    assert_non_null(strstr(err_buf, "no graph"));
}

/* Bodies beyond --max-body: 413 TooBig JSON, announced by Content-Length or not (chunked). */
static void test_max_body(void **state)
{
    (void)state;
    const char *args[] = {"--graph", GRAPH, "--listen", "127.0.0.1:0", "--max-body", "64", "--quiet", NULL};
    server_proc s = start(args);
    char big[200];
    memset(big, ' ', sizeof big);
    big[0] = '{', big[sizeof big - 1] = '}';
    reply r = http_request(s.port, "POST", "/v1/search", NULL, big, sizeof big);
    assert_int_equal(r.status, 413);
    assert_non_null(r.json);
    assert_string_equal(json_string_value(json_object_get(r.json, "code")), "TooBig");
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "message")), "64 bytes"));
    assert_non_null(strstr(r.raw, "application/json"));
    reply_free(&r);
    /* within the cap: through to the handler (503: no database) */
    r = http_request(s.port, "POST", "/v1/search", NULL, big, 64);
    assert_int_equal(r.status, 503);
    reply_free(&r);
    /* chunked, no Content-Length: 40 + 40 bytes */
    char req[512], body[512];
    snprintf(req, sizeof req,
             "POST /v1/search HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\n"
             "Transfer-Encoding: chunked\r\n\r\n28\r\n%.40s\r\n28\r\n%.40s\r\n0\r\n\r\n",
             big, big + 100);
    assert_int_equal(raw_request(AF_INET, s.port, req, body, sizeof body), 413);
    assert_non_null(strstr(body, "\"TooBig\""));
    /* the server goes on */
    assert_int_equal(get_status(AF_INET, s.port, "/health"), 200);
    stop(&s);
}

/* Connections beyond --max-connections-per-ip are closed at once; idle ones after --connection-timeout; the
   server keeps serving throughout. */
static void test_per_ip_limit_and_timeout(void **state)
{
    (void)state;
    const char *args[] = {"--graph",
                          GRAPH,
                          "--listen",
                          "127.0.0.1:0",
                          "--threads",
                          "2",
                          "--max-connections-per-ip",
                          "3",
                          "--connection-timeout",
                          "3",
                          "--quiet",
                          NULL};
    server_proc s = start(args);
    int held[3];
    for (int i = 0; i < 3; i++) {
        held[i] = connect_loopback(AF_INET, s.port);
        assert_true(held[i] >= 0);
    }
    sleep_ms(300); /* accepted by the server, idle */
    int extra = connect_loopback(AF_INET, s.port);
    assert_true(extra >= 0); /* the kernel accepts; the server closes it */
    assert_true(closed_within(extra, 1500));
    close(extra);
    for (int i = 0; i < 3; i++)
        assert_false(closed_within(held[i], 0)); /* the first three stay open */
    /* a fourth request from this address is refused while three are held */
    assert_true(get_status(AF_INET, s.port, "/health") <= 0);
    /* the idle connections are closed after the 3 s timeout, and the address is served again */
    for (int i = 0; i < 3; i++) {
        if (!closed_within(held[i], 6000))
            fail_msg("idle connection %d not closed after the 3 s timeout", i);
        close(held[i]);
    }
    sleep_ms(200);
    assert_int_equal(get_status(AF_INET, s.port, "/health"), 200);
    stop(&s);
}

/* Beyond --max-connections, a new connection waits (in the listen queue) until one closes, then is served. */
static void test_connection_limit(void **state)
{
    (void)state;
    const char *args[] = {"--graph",           GRAPH, "--listen", "127.0.0.1:0", "--threads", "2",
                          "--max-connections", "2",   "--quiet",  NULL};
    server_proc s = start(args);
    int held[2];
    for (int i = 0; i < 2; i++) {
        held[i] = connect_loopback(AF_INET, s.port);
        assert_true(held[i] >= 0);
    }
    sleep_ms(300);
    int extra = connect_loopback(AF_INET, s.port);
    assert_true(extra >= 0);
    static const char req[] = "GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
    assert_int_equal(send(extra, req, sizeof req - 1, MSG_NOSIGNAL), (ssize_t)(sizeof req - 1));
    struct pollfd pfd = {extra, POLLIN, 0};
    assert_int_equal(poll(&pfd, 1, 1000), 0); /* not served while two are open */
    close(held[0]);
    char buf[64] = "";
    ssize_t got = recv(extra, buf, sizeof buf - 1, 0); /* SO_RCVTIMEO 10 s */
    assert_true(got > 12);
    buf[got] = '\0';
    assert_int_equal(strncmp(buf, "HTTP/1.1 200", 12), 0);
    close(extra);
    close(held[1]);
    stop(&s);
}

/* IPv6: [::1] serves over IPv6; [::] (with an API key, so not demo mode) takes IPv4 clients too, and the per-IP
   limit of 127.0.0.1 leaves ::1 served. */
static void test_ipv6(void **state)
{
    (void)state;
    char why[200];
    if (!have_ipv6_loopback(why, sizeof why)) {
        printf("test_ipv6 skipped: this machine has no IPv6 loopback (%s)\n", why);
        skip();
    }
    const char *args[] = {"--graph", GRAPH, "--listen", "[::1]:0", "--quiet", NULL};
    server_proc s = start(args);
    assert_string_equal(s.host, "[::1]");
    assert_int_equal(get_status(AF_INET6, s.port, "/health"), 200);
    assert_int_equal(get_status(AF_INET6, s.port, ROUTE2), 200);
    stop(&s);
    char want[64];
    snprintf(want, sizeof want, "listen=[::1]:%u ", s.port);
    assert_non_null(strstr(err_buf, want));

    const char *dual[] = {
        "--graph", GRAPH,     "--db", tst_db(DB_KEYS), "--listen", "[::]:0", "--max-connections-per-ip",
        "2",       "--quiet", NULL};
    s = start(dual);
    assert_int_equal(get_status(AF_INET, s.port, "/health"), 200);
    assert_int_equal(get_status(AF_INET6, s.port, "/health"), 200);
    sleep_ms(200); /* those connections are cleaned up and no longer count */
    int held[2];
    for (int i = 0; i < 2; i++) {
        held[i] = connect_loopback(AF_INET, s.port);
        assert_true(held[i] >= 0);
    }
    sleep_ms(300);
    int extra = connect_loopback(AF_INET, s.port);
    assert_true(extra >= 0);
    assert_true(closed_within(extra, 1500));
    close(extra);
    assert_int_equal(get_status(AF_INET6, s.port, "/health"), 200); /* another address */
    for (int i = 0; i < 2; i++)
        close(held[i]);
    stop(&s);
    assert_non_null(strstr(err_buf, "auth=keys"));
}

/* Demo mode (no API key) listens on loopback only: [::] and 0.0.0.0 are refused. */
static void test_demo_refuses_wildcards(void **state)
{
    (void)state;
    static const char *const addrs[] = {"[::]:0", "0.0.0.0:0"};
    for (size_t i = 0; i < 2; i++) {
        const char *args[] = {"--graph", GRAPH, "--listen", addrs[i], NULL};
        int rc = run_to_exit(args);
        if (rc == 0 || !strstr(err_buf, "demo mode"))
            fail_msg("--listen %s in demo mode: exit %d, stderr: %s", addrs[i], rc, err_buf);
    }
}

/* The loopback address a server started with a host name listens on, from its start line in err_buf: 127.0.0.1
   (IPv4 first), or ::1 where the name has no IPv4 address; fails on anything else. */
static int listened_family(const server_proc *s)
{
    char v4[64], v6[64];
    snprintf(v4, sizeof v4, "msg=listening listen=127.0.0.1:%u ", s->port);
    snprintf(v6, sizeof v6, "msg=listening listen=[::1]:%u ", s->port);
    if (strstr(err_buf, v4))
        return AF_INET;
    if (strstr(err_buf, v6))
        return AF_INET6;
    fail_msg("no loopback listen=...:%u in the start line: %s", s->port, err_buf);
    return -1;
}

/* --listen and "listen" take a host name, resolved at start: localhost serves in demo mode (loopback only), and
   the log says which address it resolved to. */
static void test_listen_host_name(void **state)
{
    (void)state;
    const char *args[] = {"--graph", GRAPH, "--listen", "localhost:0", "--hub-labels-mb", "0", "--quiet", NULL};
    server_proc s = start(args);
    int family = !strcmp(s.host, "[::1]") ? AF_INET6 : AF_INET;
    if (family == AF_INET)
        assert_string_equal(s.host, "127.0.0.1");
    assert_int_equal(get_status(family, s.port, "/health"), 200);
    stop(&s);
    assert_int_equal(listened_family(&s), family);
    assert_non_null(strstr(err_buf, "host name localhost resolves to "));
    assert_non_null(strstr(err_buf, "auth=demo"));

    write_file(CONF, "{\"graph\": \"" GRAPH "\", \"listen\": \"localhost:0\", \"hub_labels_mb\": 0, \"quiet\": true}");
    const char *conf[] = {"--config", CONF, NULL};
    s = start(conf);
    assert_int_equal(get_status(family, s.port, "/health"), 200);
    stop(&s);
    assert_int_equal(listened_family(&s), family);
}

/* A name that does not resolve stops the server before it starts (exit status 2), naming the option or the file
   and key, and the name; a command line --listen wins over a file's unresolvable name, which is never looked up. */
static void test_listen_unresolvable(void **state)
{
    (void)state;
    const char *args[] = {"--graph", GRAPH, "--listen", "nosuchhost.invalid:8080", NULL};
    int rc = run_to_exit(args);
    if (rc != 2 || !strstr(err_buf, "--listen: cannot resolve host name 'nosuchhost.invalid': "))
        fail_msg("--listen nosuchhost.invalid:8080: exit %d, stderr: %s", rc, err_buf);

    write_file(CONF, "{\"graph\": \"" GRAPH "\", \"listen\": \"nosuchhost.invalid:8080\"}");
    const char *conf[] = {"--config", CONF, NULL};
    rc = run_to_exit(conf);
    if (rc != 2 || !strstr(err_buf, "config " CONF ": 'listen': cannot resolve host name 'nosuchhost.invalid': "))
        fail_msg("config listen nosuchhost.invalid:8080: exit %d, stderr: %s", rc, err_buf);

    const char *over[] = {"--config", CONF, "--listen", "127.0.0.1:0", "--hub-labels-mb", "0", "--quiet", NULL};
    server_proc s = start(over);
    assert_int_equal(get_status(AF_INET, s.port, "/health"), 200);
    stop(&s);
    assert_null(strstr(err_buf, "nosuchhost"));
}

/* --no-quiet wins over a config file's "quiet": true: request lines are logged with it, not without. */
static void test_no_quiet(void **state)
{
    (void)state;
    write_file(CONF, "{\"graph\": \"" GRAPH "\", \"listen\": \"127.0.0.1:0\", \"hub_labels_mb\": 0, \"quiet\": true}");
    for (int no_quiet = 0; no_quiet < 2; no_quiet++) {
        const char *args[] = {"--config", CONF, no_quiet ? "--no-quiet" : NULL, NULL};
        server_proc s = start(args);
        assert_int_equal(get_status(AF_INET, s.port, "/health"), 200);
        stop(&s);
        if (!strstr(err_buf, "msg=listening"))
            fail_msg("no start line: %s", err_buf);
        if (!strstr(err_buf, "method=GET") != !no_quiet)
            fail_msg("%s: request lines %s: %s", no_quiet ? "--no-quiet" : "quiet", no_quiet ? "missing" : "logged",
                     err_buf);
    }
    /* and --quiet, the other way round, over a file without it */
    write_file(CONF, "{\"graph\": \"" GRAPH "\", \"listen\": \"127.0.0.1:0\", \"hub_labels_mb\": 0}");
    const char *quiet[] = {"--config", CONF, "--quiet", NULL};
    server_proc s = start(quiet);
    assert_int_equal(get_status(AF_INET, s.port, "/health"), 200);
    stop(&s);
    assert_null(strstr(err_buf, "method=GET"));
}

/* Hub labels over --hub-labels-mb: the server says why it goes without them, and answers from the hierarchy. */
static void test_hub_labels_over_limit(void **state)
{
    (void)state;
    const char *args[] = {"--graph", GRAPH, "--listen", "127.0.0.1:0", "--hub-labels-mb", "1", NULL};
    server_proc s = start(args);
    reply r = http_request(s.port, "GET", ROUTE2, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_true(json_real_value(json_object_get(json_array_get(json_object_get(r.json, "routes"), 0), "duration")) > 0);
    reply_free(&r);
    stop(&s);
    static const char *const want[] = {"level=warn", "hub labels would exceed 1 MB", "--hub-labels-mb 1",
                                       "hub_labels=off"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (!strstr(err_buf, want[i]))
            fail_msg("no '%s' in: %s", want[i], err_buf);
}

/* Request log lines with very long paths and methods: one line per request, the path shortened, never the status,
   duration or id lost or glued to the next line. */
static void test_long_request_lines(void **state)
{
    (void)state;
    const char *args[] = {"--graph", GRAPH, "--listen", "127.0.0.1:0", "--hub-labels-mb", "0", "--no-quiet", NULL};
    server_proc s = start(args);
    static char long_path[6100], ctl_path[4600], long_method[300];
    memcpy(long_path, "/v1/", 4);
    memset(long_path + 4, 'a', 6000);
    long_path[6004] = '\0';
    ctl_path[0] = '/';
    for (int i = 0; i < 1500; i++)
        memcpy(ctl_path + 1 + 3 * i, "%01", 3); /* each byte is escaped as \x01 in the log: four times longer */
    ctl_path[4501] = '\0';
    memset(long_method, 'X', 299);
    const char *methods[] = {"GET", "GET", long_method, "GET"};
    const char *paths[] = {long_path, ctl_path, "/health", "/health"};
    for (int i = 0; i < 4; i++) {
        reply r = http_request(s.port, methods[i], paths[i], NULL, NULL, 0);
        assert_true(r.status >= 200);
        reply_free(&r);
    }
    stop(&s);
    int lines = 0;
    for (const char *line = err_buf; *line;) {
        const char *eol = strchr(line, '\n');
        assert_non_null(eol);
        size_t n = (size_t)(eol - line);
        char one[8192];
        assert_true(n < sizeof one);
        memcpy(one, line, n);
        one[n] = '\0';
        if (strstr(one, " method=")) {
            lines++;
            if (!strstr(one, " status=") || !strstr(one, " dur_ms=") || !strstr(one, " id=") || strstr(one + 1, "ts="))
                fail_msg("a request line lost its fields: %s", one);
            if (strlen(one) > 4000)
                fail_msg("a request line of %zu bytes", strlen(one));
        }
        line = eol + 1;
    }
    if (lines != 4)
        fail_msg("%d request lines, not 4: %s", lines, err_buf);
    assert_non_null(strstr(err_buf, "...(6004 bytes)"));
    assert_non_null(strstr(err_buf, "...(1501 bytes)"));
    assert_non_null(strstr(err_buf, "...(299 bytes)"));
}

/* --- the request deadline --- */

static double now_ms(void)
{
    return http_now_ms();
}

/* Lines of err_buf that hold every one of the strings (NULL-terminated list). */
static int count_lines(const char *first, ...)
{
    int n = 0;
    for (const char *line = err_buf; *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        int all = 1;
        va_list ap;
        va_start(ap, first);
        for (const char *want = first; want && all; want = va_arg(ap, const char *)) {
            const char *hit = strstr(line, want);
            all = hit && hit < line + len;
        }
        va_end(ap);
        n += all;
        line += len + (eol != NULL);
    }
    return n;
}

/* A slow client: after its head, one byte of drip every 200 ms until the server closes the connection. */
typedef struct slow {
    int fd;
    const char *head, *drip;
    size_t sent;
    double first, closed; /* ms: its request's first byte; the server's close (0 while open) */
    size_t answered;      /* bytes the server sent it */
} slow;

/* Drips every slow client until all are closed or limit_ms pass; fd `waiter` (or -1), a client that sent a whole
   request and waits for the answer, gets its answer's time in *answer_at (ms, 0 when none). */
static void drip(slow *c, int n, int waiter, double *answer_at, double limit_ms)
{
    double end = now_ms() + limit_ms, next = now_ms();
    char buf[4096];
    for (;;) {
        int open = 0;
        for (int i = 0; i < n; i++)
            open += !c[i].closed;
        if ((!open && (waiter < 0 || *answer_at)) || now_ms() > end)
            return;
        if (now_ms() >= next) {
            for (int i = 0; i < n; i++)
                if (!c[i].closed) {
                    if (!c[i].sent) {
                        c[i].first = now_ms();
                        ssize_t w = send(c[i].fd, c[i].head, strlen(c[i].head), MSG_NOSIGNAL);
                        c[i].sent = w > 0 ? (size_t)w : 1;
                    } else {
                        send(c[i].fd, c[i].drip + (c[i].sent - 1) % strlen(c[i].drip), 1, MSG_NOSIGNAL);
                        c[i].sent++;
                    }
                }
            next += 200;
        }
        struct pollfd p[16];
        int np = 0;
        for (int i = 0; i < n; i++)
            p[np++] = (struct pollfd){c[i].closed ? -1 : c[i].fd, POLLIN, 0};
        p[np++] = (struct pollfd){waiter >= 0 && !*answer_at ? waiter : -1, POLLIN, 0};
        poll(p, (nfds_t)np, 20);
        for (int i = 0; i < n; i++)
            if (!c[i].closed && p[i].revents) {
                ssize_t got = recv(c[i].fd, buf, sizeof buf, MSG_DONTWAIT);
                if (got > 0)
                    c[i].answered += (size_t)got;
                else if (got == 0 || (errno != EAGAIN && errno != EINTR))
                    c[i].closed = now_ms();
            }
        if (waiter >= 0 && !*answer_at && p[n].revents) {
            ssize_t got = recv(waiter, buf, sizeof buf - 1, MSG_DONTWAIT);
            if (got > 12 && !strncmp(buf, "HTTP/1.1 200", 12))
                *answer_at = now_ms();
            else if (got >= 0)
                fail_msg("the waiting client got %zd bytes: %.*s", got, (int)(got > 0 ? got : 0), buf);
        }
    }
}

/* --request-timeout 1: connections sending a request a byte every 200 ms (its request line, its headers, its body)
   are closed about 1 s after its first byte, without an answer, and logged as 408; with them holding every
   connection the server allows (--max-connections 4), another client waits in the listen queue and is answered
   once they are closed. On a keep-alive connection the clock starts at each request's first byte: idle longer than
   the deadline after an answer, it is not closed, and its next request gets its own second. (Regression: the idle
   timeout alone counted, so such clients held their connections for ever.) */
static void test_request_timeout(void **state)
{
    (void)state;
    const char *args[] = {
        "--graph",           GRAPH, "--listen",        "127.0.0.1:0", "--threads", "2", "--max-connections", "4",
        "--request-timeout", "1",   "--hub-labels-mb", "0",           NULL};
    server_proc s = start(args);
    double t0 = now_ms();
    slow ka = {.fd = connect_loopback(AF_INET, s.port),
               .head = "GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: ",
               .drip = "abcdefghij"};
    assert_true(ka.fd >= 0);
    static const char req[] = "GET /health HTTP/1.1\r\nHost: t\r\n\r\n";
    assert_int_equal(send(ka.fd, req, sizeof req - 1, MSG_NOSIGNAL), (ssize_t)(sizeof req - 1));
    char buf[2048];
    ssize_t got = recv(ka.fd, buf, sizeof buf - 1, 0);
    assert_true(got > 12 && !strncmp(buf, "HTTP/1.1 200", 12));
    sleep_ms(1500); /* idle for longer than the deadline, between two requests */
    assert_false(closed_within(ka.fd, 0));
    drip(&ka, 1, -1, NULL, 5000);
    double ka_ms = ka.closed - ka.first;
    print_message("keep-alive request closed %.0f ms after its first byte\n", ka_ms);
    if (!ka.closed || ka_ms < 900 || ka_ms > 2500 || ka.answered)
        fail_msg("the keep-alive connection's second request: closed after %.0f ms, %zu bytes answered", ka_ms,
                 ka.answered);
    close(ka.fd);
    sleep_ms(100); /* its place is free again */

    slow c[4] = {
        {.head = "G", .drip = "ET /health HTTP/1.1\r\n"}, /* the request line itself */
        {.head = "GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: ", .drip = "abcdefghij"},
        {.head = "POST /v1/search HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n",
         .drip = " "}, /* the body */
        {.head = "GET /route/v1/driving/7.4275,43.7396;7.4160,43.7290 HTTP/1.1\r\nX-Slow: ", .drip = "0123456789"},
    };
    for (int i = 0; i < 4; i++) {
        c[i].fd = connect_loopback(AF_INET, s.port);
        assert_true(c[i].fd >= 0);
    }
    sleep_ms(100); /* all four taken by the server: the limit is reached */
    int waiter = connect_loopback(AF_INET, s.port);
    assert_true(waiter >= 0);
    static const char health[] = "GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    double sent_at = now_ms(), answer_at = 0;
    assert_int_equal(send(waiter, health, sizeof health - 1, MSG_NOSIGNAL), (ssize_t)(sizeof health - 1));
    drip(c, 4, waiter, &answer_at, 6000);
    for (int i = 0; i < 4; i++) {
        double ms = c[i].closed - c[i].first;
        print_message("slow client %d closed %.0f ms after its first byte\n", i, ms);
        if (!c[i].closed || ms < 900 || ms > 2500 || c[i].answered)
            fail_msg("slow client %d: closed after %.0f ms (0: not closed), %zu bytes answered", i,
                     c[i].closed ? ms : 0, c[i].answered);
        close(c[i].fd);
    }
    print_message("/health answered %.0f ms after it was sent behind 4 slow clients\n", answer_at - sent_at);
    if (!answer_at || answer_at - sent_at > 2500 || answer_at - sent_at < 500)
        fail_msg("/health behind the slow clients: answered after %.0f ms (0: never)",
                 answer_at ? answer_at - sent_at : 0);
    close(waiter);
    stop(&s);
    print_message("test_request_timeout: %.1f s\n", (now_ms() - t0) / 1e3);
    /* one line for each closed request: the one whose request line never came in whole has no method or path */
    assert_int_equal(count_lines("status=408", NULL), 5);
    assert_int_equal(count_lines("method=- path=- status=408", NULL), 1);
    assert_int_equal(count_lines("path=/v1/search status=408", NULL), 1);
}

/* --- SIGTERM under keep-alive writes --- */

enum { WRITERS = 4, MAX_WRITES = 20000 };

/* One keep-alive client: POST /v1/offers on one connection, owners "wW-N", until the connection ends. */
typedef struct writer {
    uint16_t port;
    int w;
    int n;                    /* requests sent whole */
    short status[MAX_WRITES]; /* 201, 503, 0: no answer (the connection ended first), -1: a broken answer */
    int after_503;            /* answers after a 503 on the connection */
    int unsent;               /* a request the connection ended before it was sent whole */
} writer;

/* Reads one whole answer (head and Content-Length body) from fd into buf: its status, 0 when the connection
   ended before any byte, -1 when it ended in the middle or the answer is not HTTP/1.1. */
static int read_whole(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    for (;;) {
        buf[len] = '\0';
        const char *sep = strstr(buf, "\r\n\r\n");
        if (sep) {
            const char *cl = strstr(buf, "Content-Length: ");
            if (!cl || cl > sep)
                return -1;
            size_t want = (size_t)(sep + 4 - buf) + strtoul(cl + 16, NULL, 10);
            if (len >= want)
                return strncmp(buf, "HTTP/1.1 ", 9) ? -1 : atoi(buf + 9);
        }
        ssize_t got = len + 1 < cap ? recv(fd, buf + len, cap - 1 - len, 0) : -1;
        if (got <= 0)
            return len ? -1 : 0;
        len += (size_t)got;
    }
}

static void *write_offers(void *p)
{
    writer *wr = p;
    int fd = connect_loopback(AF_INET, wr->port);
    if (fd < 0)
        return NULL;
    char depart[32], body[512], req[1024], buf[8192];
    time_t t = time(NULL) + 2 * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(depart, sizeof depart, "%Y-%m-%dT08:00Z", &tm);
    int seen_503 = 0;
    while (wr->n < MAX_WRITES) {
        int nb = snprintf(body, sizeof body,
                          "{\"from\":[7.4275,43.7396],\"to\":[7.4160,43.7290],\"depart\":\"%s\","
                          "\"seats\":3,\"owner\":\"w%d-%d\"}",
                          depart, wr->w, wr->n);
        int nr = snprintf(req, sizeof req,
                          "POST /v1/offers HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                          "Content-Length: %d\r\n\r\n%s",
                          nb, body);
        if (send(fd, req, (size_t)nr, MSG_NOSIGNAL) != nr) {
            wr->unsent++;
            break;
        }
        int st = read_whole(fd, buf, sizeof buf);
        wr->status[wr->n++] = (short)st;
        if (seen_503 && st)
            wr->after_503++;
        if (st == 503) {
            seen_503 = 1;
            if (!strstr(buf, "Connection: close") || !strstr(buf, "\"code\":\"ShuttingDown\""))
                wr->status[wr->n - 1] = -1;
        }
        if (st != 201 && st != 503)
            break;
    }
    close(fd);
    return NULL;
}

/* Whether owner "wW-N" is among the n offers. */
static int stored(const cv_offer *o, size_t n, int w, int k)
{
    char owner[32];
    snprintf(owner, sizeof owner, "w%d-%d", w, k);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        found += !strcmp(o[i].owner, owner);
    return found;
}

/* One stop: WRITERS keep-alive clients write offers; SIGTERM after ms_before_stop; then every request got a whole
   answer or none (a 201 and its offer stored, a 503 ShuttingDown and nothing stored, or no answer and nothing
   stored), none after a 503 on its connection, and at most one request per connection (the one in flight) was
   accepted after the server logged that it stops. Returns the requests answered 201. */
static int one_stop(int round, int ms_before_stop, int *refused)
{
    tst_db_remove(DB_STOP);
    const char *args[] = {"--graph",         GRAPH,         "--db",      tst_db(DB_STOP),
                          "--listen",        "127.0.0.1:0", "--threads", "2",
                          "--hub-labels-mb", "0",           NULL};
    server_proc s = start(args);
    static writer wr[WRITERS];
    pthread_t t[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        memset(&wr[i], 0, sizeof wr[i]);
        wr[i].port = s.port;
        wr[i].w = i;
        assert_int_equal(pthread_create(&t[i], NULL, write_offers, &wr[i]), 0);
    }
    sleep_ms(ms_before_stop);
    stop(&s); /* SIGTERM, and a clean exit */
    for (int i = 0; i < WRITERS; i++)
        pthread_join(t[i], NULL);

    cv_store *db = NULL;
    cv_error err = {0};
    cv_offer *o = NULL;
    size_t n = 0;
    if (cv_store_open(tst_db(DB_STOP), &db, &err) || cv_store_list_offers(db, NULL, 0, &o, &n, &err))
        fail_msg("round %d: %s", round, err.text);
    int created = 0, answered = 0;
    for (int i = 0; i < WRITERS; i++) {
        if (wr[i].after_503)
            fail_msg("round %d: writer %d got %d answers after a 503 on its connection", round, i, wr[i].after_503);
        for (int k = 0; k < wr[i].n; k++) {
            int st = wr[i].status[k], in_db = stored(o, n, i, k);
            if (st != 201 && st != 503 && st != 0)
                fail_msg("round %d: writer %d request %d: a broken answer (%d)", round, i, k, st);
            if (in_db != (st == 201))
                fail_msg("round %d: writer %d request %d: answered %d, stored %d times", round, i, k, st, in_db);
            created += st == 201;
            *refused += st == 503;
            answered += st != 0;
        }
    }
    if ((size_t)created != n)
        fail_msg("round %d: %zu offers stored, %d answered 201", round, n, created);
    free(o);
    cv_store_close(db);
    /* after the server says it stops, only the requests then in flight (one per connection) are accepted */
    const char *mark = strstr(err_buf, "msg=\"stopping: ");
    if (!mark)
        fail_msg("round %d: no stopping line: %s", round, err_buf);
    int late = 0;
    for (const char *l = strstr(mark, "status=201"); l; l = strstr(l + 1, "status=201"))
        late++;
    if (late > WRITERS)
        fail_msg("round %d: %d offers accepted after the server said it stops", round, late);
    tst_db_remove(DB_STOP);
    return created;
}

static int stop_rounds = 3;

/* SIGTERM while keep-alive clients write: nothing stored without a 201 its client saw, every 201 stored, no request
   accepted after the stop began but those in flight. (Regression: 2 stops in 14 stored an offer whose client saw
   its connection drop, and a stopping server went on accepting requests on open connections: up to 2,231 writes.)
   Three stops by default; `test_http_config --long-stop` (ctest label slow) runs 50. */
static void test_sigterm_writes(void **state)
{
    (void)state;
    double t0 = now_ms();
    int created = 0, refused = 0;
    for (int round = 0; round < stop_rounds; round++)
        created += one_stop(round, 150 + 97 * round % 300, &refused);
    print_message("%d stops: %d offers created, %d requests refused with 503, %.1f s\n", stop_rounds, created, refused,
                  (now_ms() - t0) / 1e3);
    assert_true(created > 0);
}

/* --- a log line for every error answer --- */

/* Each error answered in JSON by the server core, and by libmicrohttpd past its limits, has its line. */
static void test_error_lines(void **state)
{
    (void)state;
    const char *args[] = {"--graph", GRAPH, "--listen", "127.0.0.1:0", "--hub-labels-mb", "0", "--no-quiet", NULL};
    server_proc s = start(args);
    static char url[41000], hdr[41000];
    int n = snprintf(url, sizeof url, "GET /x");
    memset(url + n, 'u', 40000);
    strcpy(url + n + 40000, " HTTP/1.1\r\nHost: t\r\n\r\n");
    n = snprintf(hdr, sizeof hdr, "GET /health HTTP/1.1\r\nHost: t\r\nX-Big: ");
    memset(hdr + n, 'h', 40000);
    strcpy(hdr + n + 40000, "\r\n\r\n");
    const char *reqs[] = {
        "POST /v1/search HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "POST /v1/search HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST /v1/search HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "POST /v1/search HTTP/1.1\r\nHost: t\r\nContent-Length: 70000\r\n\r\n",
        url,
        hdr,
    };
    for (size_t i = 0; i < sizeof reqs / sizeof *reqs; i++) {
        size_t len;
        int closed;
        char *got = http_raw(s.port, reqs[i], strlen(reqs[i]), 5000, &len, &closed);
        assert_non_null(got);
        assert_true(closed && !strncmp(got, "HTTP/1.1 ", 9));
        free(got);
    }
    stop(&s);
    assert_int_equal(count_lines("method=- path=/v1/search status=413", NULL), 1);
    assert_int_equal(count_lines("method=POST path=/v1/search status=400", NULL), 1);
    assert_int_equal(count_lines("method=POST path=/v1/search status=501", NULL), 1);
    assert_int_equal(count_lines("method=POST path=/v1/search status=413", NULL), 1);
    assert_int_equal(count_lines("status=414", "...(40002 bytes)", NULL), 1);
    assert_int_equal(count_lines("path=/health status=431", NULL), 1);
    assert_null(strstr(err_buf, "<html>")); /* libmicrohttpd's pages stay out of the log */
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1 && !strcmp(argv[1], "--long-stop")) {
        stop_rounds = 50;
        const struct CMUnitTest long_stop[] = {cmocka_unit_test(test_sigterm_writes)};
        return cmocka_run_group_tests(long_stop, setup, NULL);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_file),
        cmocka_unit_test(test_command_line_wins),
        cmocka_unit_test(test_example_config),
        cmocka_unit_test(test_bad_settings),
        cmocka_unit_test(test_max_body),
        cmocka_unit_test(test_per_ip_limit_and_timeout),
        cmocka_unit_test(test_connection_limit),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_demo_refuses_wildcards),
        cmocka_unit_test(test_hub_labels_over_limit),
        cmocka_unit_test(test_listen_host_name),
        cmocka_unit_test(test_listen_unresolvable),
        cmocka_unit_test(test_no_quiet),
        cmocka_unit_test(test_long_request_lines),
        cmocka_unit_test(test_request_timeout),
        cmocka_unit_test(test_sigterm_writes),
        cmocka_unit_test(test_error_lines),
        cmocka_unit_test(test_example_route),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
