/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* fuzz_http.c — the HTTP request path through the real server: covoit serve's server (web/server.c) started
   in-process on 127.0.0.1 port 0 over the Monaco graph, its hub labels and a trip database seeded with offers,
   requests and bookings, spoken to over a loopback socket, one connection per input.

   Three targets are built from this file:
   - fuzz_http_raw (FUZZ_HTTP_RAW): the input is the bytes sent, as they are (request line, headers, body,
     pipelined requests, garbage). The write side is then shut so that an incomplete request ends.
   - fuzz_http_api: the input is "METHOD PATH\n", header lines, an empty line and a body; the harness makes one
     well-formed HTTP/1.1 request of it (path bytes escaped, Content-Length computed, Connection: close), so that
     every input reaches covoit's router and handlers rather than libmicrohttpd's parser.
   - fuzz_http_auth (FUZZ_HTTP_AUTH): the same, with API keys in the database (auth mode); @OWNER@, @OTHER@,
     @ROUTER@ and @ADMIN@ in a header stand for their secrets, and every success must be one the key may have
     (check_access: no key, a routing-only key, another client than the trips' owner).

   What must hold for every input: the answer comes before the receive timeout (no hang) or the connection is
   closed; the answer is a sequence of well-framed HTTP responses; each response covoit made (it has a
   Content-Type) with JSON is a JSON object with a string "code", "Ok" exactly on 200/201, an error "message", a
   status that the code goes with in docs/API.md's table (read at start), an Allow header on 405, and never a 500
   (an internal error from a client's request is a bug). fuzz_http_api and fuzz_http_auth also require exactly one
   response, covoit's.

   Every COVOIT_FUZZ_HTTP_RESET inputs (default 2000) the server is stopped and the database seeded afresh, so that
   a long run does not pile up offers, and ids 1 and 2 stay meaningful. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "fuzz_util.h"
#include "routing/graph_build.h"
#include "routing/hub_labels.h"
#include "matcher/matcher.h"
#include "osm/osm_network.h"
#include "web/server.h"
#include "matcher/store.h"

#define RECV_TIMEOUT_S 10 /* an answer later than this is a hang (the server's own idle timeout is 15 s) */

static cv_graph *graph;
static cv_hub_labels *labels;
static cv_matcher *matcher;
static cv_server *server;
static uint16_t port;
static char db_path[512];
static unsigned long inputs, reset_every = 2000;

/* --- one connection --- */

typedef struct answer {
    char *buf;
    size_t len;
    int reset; /* the server reset the connection (it may close before reading all we sent) */
} answer;

/* Sends req to the server, shuts the write side and reads until the server closes. A silent server past
   RECV_TIMEOUT_S is a finding. */
static answer exchange(const uint8_t *req, size_t n)
{
    answer a = {0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fz_fail("socket: %s", strerror(errno));
    struct timeval tv = {RECV_TIMEOUT_S, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        /* a signal (libFuzzer's timer) interrupted it: the connection goes on in the background, wait for it */
        int e = errno;
        if (e == EINTR) {
            struct pollfd pf = {fd, POLLOUT, 0};
            int r;
            while ((r = poll(&pf, 1, RECV_TIMEOUT_S * 1000)) < 0 && errno == EINTR)
                ;
            socklen_t len = sizeof e;
            if (r <= 0)
                e = r == 0 ? ETIMEDOUT : errno;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len))
                e = errno;
        }
        if (e)
            fz_fail("connect to the server: %s", strerror(e));
    }
    for (size_t off = 0; off < n;) {
        ssize_t w = send(fd, req + off, n - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            fz_fail("the server read nothing of the request for %d s", RECV_TIMEOUT_S);
        if (w <= 0)
            break; /* it answered (413) and closed before reading it all */
        off += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    size_t cap = 1 << 16;
    a.buf = malloc(cap);
    for (;;) {
        if (a.len + 4096 > cap)
            a.buf = realloc(a.buf, cap *= 2);
        if (!a.buf)
            fz_fail("out of memory");
        ssize_t got = recv(fd, a.buf + a.len, cap - a.len - 1, 0);
        if (got > 0) {
            a.len += (size_t)got;
            continue;
        }
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            fz_fail("no answer and no close within %d s (a hang); %zu bytes so far", RECV_TIMEOUT_S, a.len);
        if (got < 0)
            a.reset = 1;
        break;
    }
    a.buf[a.len] = '\0';
    close(fd);
    return a;
}

/* --- checking the answer --- */

typedef struct response {
    int status;
    char ctype[256]; /* Content-Type value, "" when absent */
    char headers[8192];
    int has_allow;
    long long content_length; /* -1 when absent */
    const char *body;
    size_t body_len;
    int bodiless; /* an answer to HEAD (or an interim 1xx) */
} response;

/* The value of header name in the header block h (lines "Name: value\r\n"), copied into out; NULL if absent. */
static const char *header_value(const char *h, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *line = h; *line;) {
        const char *end = strstr(line, "\r\n");
        if (!end)
            end = line + strlen(line);
        if ((size_t)(end - line) > n && !strncasecmp(line, name, n) && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            snprintf(out, cap, "%.*s", (int)(end - v), v);
            return out;
        }
        line = *end ? end + 2 : end;
    }
    return NULL;
}

/* The HTTP status of each error code, read from the table of docs/API.md (Codes and statuses: rows
   "| 400 | `InvalidUrl` | when |"): the documentation is the oracle, a code or a status it does not list is a
   finding. */
static struct {
    int status;
    char code[32];
} api_codes[64];
static size_t napi_codes;

static void read_api_codes(void)
{
    const char *doc = getenv("COVOIT_FUZZ_API_MD"); /* another copy, to see the check fail */
    FILE *f = fopen(doc ? doc : COVOIT_SOURCE_DIR "/docs/API.md", "r");
    if (!f)
        fz_fail("cannot read docs/API.md");
    char line[1024];
    while (fgets(line, sizeof line, f) && napi_codes < sizeof api_codes / sizeof *api_codes) {
        int status;
        char code[32];
        if (sscanf(line, "| %3d | `%31[A-Za-z]` |", &status, code) == 2 && status >= 100 && status < 600) {
            api_codes[napi_codes].status = status;
            snprintf(api_codes[napi_codes].code, sizeof api_codes[napi_codes].code, "%s", code);
            napi_codes++;
        }
    }
    fclose(f);
    if (napi_codes < 5)
        fz_fail("docs/API.md: the table of codes and statuses was not found");
}

/* Codes the server answers with and the table does not list yet (found by this target, reported; the text of
   docs/API.md names them): accepted here with their status so that the check holds for every other code. Remove a
   line once the table has it. */
static const struct {
    int status;
    const char *code;
} undocumented[] = {
    {400, "InvalidOptions"}, /* radiuses: not one per coordinate (routing_api.c) */
};

static int status_fits(const char *code, int status)
{
    for (size_t i = 0; i < napi_codes; i++)
        if (api_codes[i].status == status && !strcmp(api_codes[i].code, code))
            return 1;
    for (size_t i = 0; i < sizeof undocumented / sizeof *undocumented; i++)
        if (undocumented[i].status == status && !strcmp(undocumented[i].code, code))
            return 1;
    return 0;
}

/* Parses one response at p (n bytes) into r; returns its length, 0 when p does not hold a whole one. head_only:
   the request was HEAD, no body follows the headers. */
static size_t parse_response(const char *p, size_t n, int head_only, response *r)
{
    memset(r, 0, sizeof *r);
    r->content_length = -1;
    if (n < 12 || strncmp(p, "HTTP/1.", 7) || (p[7] != '0' && p[7] != '1') || p[8] != ' ')
        return 0;
    if (p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9')
        return 0;
    r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    const char *eol = memmem(p, n, "\r\n", 2);
    const char *end = memmem(p, n, "\r\n\r\n", 4);
    if (!eol || !end)
        return 0;
    size_t hlen = (size_t)(end + 2 - (eol + 2));
    if (hlen >= sizeof r->headers)
        return 0;
    memcpy(r->headers, eol + 2, hlen);
    r->headers[hlen] = '\0';
    char v[256];
    header_value(r->headers, "Content-Type", r->ctype, sizeof r->ctype);
    r->has_allow = header_value(r->headers, "Allow", v, sizeof v) != NULL;
    if (header_value(r->headers, "Transfer-Encoding", v, sizeof v))
        fz_fail("a chunked answer (%s): covoit's answers all have a length", v);
    if (header_value(r->headers, "Content-Length", v, sizeof v)) {
        char *e;
        r->content_length = strtoll(v, &e, 10);
        if (*e || r->content_length < 0)
            fz_fail("bad Content-Length '%s'", v);
    }
    size_t head = (size_t)(end + 4 - p);
    r->body = p + head;
    r->bodiless = head_only || r->status < 200;
    if (r->bodiless || r->content_length < 0) {
        r->body_len = r->bodiless ? 0 : n - head; /* without a length the body runs to the close */
        return head + r->body_len;
    }
    if ((unsigned long long)r->content_length > n - head)
        return 0;
    r->body_len = (size_t)r->content_length;
    return head + r->body_len;
}

/* What must hold for a response covoit made: see the top of the file. */
static void check_access(const char *req, int status, const char *body, size_t body_len);
static void decoded_path(const char *req, char *out, size_t cap);

static void check_response(const response *r, const char *req)
{
    check_access(req, r->status, r->body, r->body_len);
    if (r->status == 500)
        fz_fail("500 for a client's request: %.*s\nrequest: %.300s", (int)r->body_len, r->body, req);
    if (r->status == 405 && !r->has_allow)
        fz_fail("405 without an Allow header\nrequest: %.300s", req);
    if (strncmp(r->ctype, "application/json", 16) || r->bodiless)
        return;
    json_error_t je;
    json_t *doc = json_loadb(r->body, r->body_len, 0, &je);
    char path[1024];
    decoded_path(req, path, sizeof path);
    if ((r->status == 200 || r->status == 201) && !strncmp(path, "/stdcov/v1/", 11)) {
        /* the interoperability standard's successes are its own documents: an array of journeys, a booking */
        if (!json_is_array(doc) && !json_is_object(doc))
            fz_fail("status %d on %s: the body is not JSON (%s): %.*s\nrequest: %.300s", r->status, path, je.text,
                    (int)(r->body_len < 400 ? r->body_len : 400), r->body, req);
        json_decref(doc);
        return;
    }
    if (!json_is_object(doc))
        fz_fail("status %d: the body is not a JSON object (%s): %.*s\nrequest: %.300s", r->status, je.text,
                (int)(r->body_len < 400 ? r->body_len : 400), r->body, req);
    const char *code = json_string_value(json_object_get(doc, "code"));
    if (!code)
        fz_fail("status %d: no string \"code\" in %.400s\nrequest: %.300s", r->status, r->body, req);
    int ok = r->status == 200 || r->status == 201;
    if (ok != !strcmp(code, "Ok"))
        fz_fail("status %d with code %s\nrequest: %.300s", r->status, code, req);
    if (!ok && !json_is_string(json_object_get(doc, "message")))
        fz_fail("status %d, code %s, without a message: %.400s\nrequest: %.300s", r->status, code, r->body, req);
    if (!ok && !status_fits(code, r->status))
        fz_fail("status %d with code %s: not in the table of docs/API.md: %.400s\nrequest: %.300s", r->status, code,
                r->body, req);
    json_decref(doc);
}

/* The statuses libmicrohttpd answers by itself (without a Content-Type) when it refuses a request it cannot
   parse: 400, 413 (headers too large), 414, 431, 501, 505; and the interim 100 Continue. */
static int mhd_own(int status)
{
    return status == 100 || status == 400 || status == 413 || status == 414 || status == 431 || status == 501 ||
           status == 505;
}

/* Checks every response in a; returns how many there were and how many covoit made. */
static void check_answer(const answer *a, int first_is_head, const char *req, int *nresp, int *ncovoit)
{
    *nresp = *ncovoit = 0;
    size_t off = 0;
    while (off < a->len) {
        response r;
        const char *p = a->buf + off;
        size_t n = a->len - off;
        int head = *nresp == 0 ? first_is_head : 0;
        size_t used = parse_response(p, n, head, &r);
        /* a later answer to a pipelined HEAD has no body: the next status line or the end follows its headers (a
           body of the length announced may then end, by chance, where another answer does; no answer of covoit's
           starts with a status line) */
        if (!head && !(used && (used == n || !strncmp(p + used, "HTTP/1.", 7)) && strncmp(r.body, "HTTP/1.", 7))) {
            response r2;
            size_t u2 = parse_response(p, n, 1, &r2);
            if (u2 && r2.content_length > 0 && (u2 == n || !strncmp(p + u2, "HTTP/1.", 7))) {
                used = u2;
                r = r2;
            }
        }
        /* the answers covoit writes itself while libmicrohttpd reads the headers (400 for a malformed
           Content-Length, 413, 431: docs/API.md, "Requests the server cannot read") carry their JSON body even to
           a HEAD, whose method libmicrohttpd does not tell at that point; the connection closes after them */
        if (head && used && used < n && strncmp(p + used, "HTTP/1.", 7)) {
            response r2;
            char conn[64];
            size_t u2 = parse_response(p, n, 0, &r2);
            if (u2 == n && (r2.status == 400 || r2.status == 413 || r2.status == 431) && r2.ctype[0] &&
                header_value(r2.headers, "Connection", conn, sizeof conn) && !strcmp(conn, "close")) {
                used = u2;
                r = r2;
            }
        }
        if (!used) {
            if (a->reset)
                break; /* cut by a reset: what came whole was checked */
            fz_fail("answer byte %zu: not a whole HTTP response: %.200s\nrequest: %.300s", off, p, req);
        }
        if (r.ctype[0]) {
            check_response(&r, req);
            (*ncovoit)++;
        } else if (!mhd_own(r.status)) {
            fz_fail("status %d without a Content-Type\nrequest: %.300s", r.status, req);
        }
        if (r.status >= 200)
            (*nresp)++;
        off += used;
    }
}

/* --- the structured form: METHOD PATH, headers, body --- */

static int is_token(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !strchr("()<>@,;:\\\"/[]?={}", c);
}

typedef struct tbuf {
    char *p;
    size_t len, cap;
} tbuf;

static void tb_add(tbuf *t, const void *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        while (t->len + n + 1 > t->cap)
            t->cap = t->cap ? t->cap * 2 : 1024;
        t->p = realloc(t->p, t->cap);
        if (!t->p)
            fz_fail("out of memory");
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

static void tb_str(tbuf *t, const char *s)
{
    tb_add(t, s, strlen(s));
}

/* --- API keys (fuzz_http_auth) --- */

/* The keys the database holds in auth mode, and the placeholders an input writes in a header for them (the
   fuzzer cannot guess a random secret): @OWNER@ (client "owner", routing, search and trips: the seeded trips and
   bookings are its), @OTHER@ (client "other", the same scopes), @ROUTER@ (client "router", routing only),
   @ADMIN@ (everything). Without FUZZ_HTTP_AUTH no key exists and the placeholders stay as they are. */
enum { KEY_OWNER, KEY_OTHER, KEY_ROUTER, KEY_ADMIN, KEY_N, KEY_NONE = KEY_N, KEY_UNSURE };
static const char *const key_names[KEY_N] = {"@OWNER@", "@OTHER@", "@ROUTER@", "@ADMIN@"};
static const char *const key_clients[KEY_N] = {"owner", "other", "router", "admin"};
static const unsigned key_scopes[KEY_N] = {CV_SCOPE_ROUTING | CV_SCOPE_SEARCH | CV_SCOPE_TRIPS,
                                           CV_SCOPE_ROUTING | CV_SCOPE_SEARCH | CV_SCOPE_TRIPS, CV_SCOPE_ROUTING,
                                           CV_SCOPE_ALL};
static char key_secrets[KEY_N][CV_KEY_SECRET_MAX];
static int auth_mode;

/* The secret for the placeholder at s (n bytes there), or NULL. */
static const char *key_at(const char *s, size_t n)
{
    for (int k = 0; auth_mode && k < KEY_N; k++)
        if (n >= strlen(key_names[k]) && !memcmp(s, key_names[k], strlen(key_names[k])))
            return key_secrets[k];
    return NULL;
}

/* Which key the server takes from request req (built by make_request): the first X-API-Key header, else the
   first Authorization: Bearer; KEY_NONE without one or with a text that holds no secret, KEY_UNSURE when a secret
   is in it with more around it (how the server trims is then not this oracle's business). */
static int key_of(const char *req)
{
    const char *api = NULL, *bearer = NULL;
    size_t api_n = 0, bearer_n = 0;
    const char *line = strstr(req, "\r\n");
    while (line && strncmp(line, "\r\n\r\n", 4)) {
        line += 2;
        const char *end = strstr(line, "\r\n");
        if (!end)
            break;
        if (!api && !strncasecmp(line, "X-API-Key:", 10))
            api = line + 10, api_n = (size_t)(end - api);
        else if (!bearer && !strncasecmp(line, "Authorization:", 14))
            bearer = line + 14, bearer_n = (size_t)(end - bearer);
        line = end;
    }
    const char *v = api;
    size_t n = api_n;
    if (!v && bearer) {
        while (bearer_n && (*bearer == ' ' || *bearer == '\t'))
            bearer++, bearer_n--;
        if (bearer_n < 7 || strncasecmp(bearer, "Bearer ", 7))
            return KEY_NONE;
        v = bearer + 7, n = bearer_n - 7;
    }
    if (!v)
        return KEY_NONE;
    while (n && (*v == ' ' || *v == '\t'))
        v++, n--;
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    for (int k = 0; k < KEY_N; k++) {
        size_t len = strlen(key_secrets[k]);
        if (n == len && !memcmp(v, key_secrets[k], len))
            return k;
        if (memmem(v, n, key_secrets[k], len) || memmem(v, n, key_secrets[k], 12))
            return KEY_UNSURE;
    }
    return KEY_NONE;
}

/* The request's path as the server sees it: the request target up to '?' with %XX decoded (libmicrohttpd's
   unescaping: a '%' not followed by two hex digits stays). */
static void decoded_path(const char *req, char *out, size_t cap)
{
    const char *p = strchr(req, ' ');
    size_t n = 0;
    for (p = p ? p + 1 : req; *p && *p != ' ' && *p != '?' && n + 1 < cap; p++) {
        unsigned v;
        if (*p == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2]) &&
            sscanf(p + 1, "%2x", &v) == 1) {
            out[n++] = (char)v;
            p += 2;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
}

/* Whether the JSON value v holds, at any depth, an "owner" of client "owner" (stored as "owner" or "owner:REF"). */
static int shows_owner(json_t *v)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
        {
            const char *s = json_string_value(x);
            if (!strcmp(k, "owner") && s && !strncmp(s, "owner", 5) && (s[5] == '\0' || s[5] == ':'))
                return 1;
            if (shows_owner(x))
                return 1;
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            if (shows_owner(json_array_get(v, i)))
                return 1;
    }
    return 0;
}

/* What a key may be answered, docs/API.md (Authentication and limits): without a key, only /health, /metrics and
   the map page; a routing key, no /v1; another client, nothing of the owner's (its trips, their matches, its
   bookings 1 and 2). A success that breaks this is a finding. */
static void check_access(const char *req, int status, const char *body, size_t body_len)
{
    if (!auth_mode || status < 200 || status > 299)
        return;
    int key = key_of(req);
    if (key == KEY_UNSURE || key == KEY_OWNER || key == KEY_ADMIN)
        return;
    char path[1024];
    decoded_path(req, path, sizeof path);
    int open = !strcmp(path, "/health") || !strcmp(path, "/metrics") || !strcmp(path, "/") ||
               !strncmp(path, "/static/", 8) || !strcmp(path, "/stdcov/v1/status");
    if (key == KEY_NONE && !open)
        fz_fail("status %d without a key on %s\nrequest: %.300s", status, path, req);
    if (key == KEY_ROUTER && !open && (!strncmp(path, "/v1/", 4) || !strncmp(path, "/stdcov/", 8)))
        fz_fail("status %d for a routing-only key on %s\nrequest: %.300s", status, path, req);
    if (key != KEY_OTHER)
        return;
    unsigned long id;
    char what[16], tail[32];
    int n = sscanf(path, "/v1/%15[a-z]/%lu/%31s", what, &id, tail);
    if (n >= 2 && (id == 1 || id == 2) && strspn(path + 4 + strlen(what) + 1, "0123456789") > 0 &&
        (!strcmp(what, "offers") || !strcmp(what, "requests") || !strcmp(what, "bookings")))
        fz_fail("status %d for another client on the owner's %s %lu (%s)\nrequest: %.300s", status, what, id, path,
                req);
    json_t *doc = json_loadb(body, body_len, 0, NULL);
    int leak = shows_owner(doc);
    json_decref(doc);
    if (leak)
        fz_fail("status %d for another client shows the owner's trips: %.400s\nrequest: %.300s", status, body, req);
}

/* One well-formed request from the structured input (see the top); *head tells whether its method is HEAD. */
static tbuf make_request(const uint8_t *d, size_t n, int *head)
{
    tbuf t = {0};
    const uint8_t *end = d + n, *nl = memchr(d, '\n', n);
    const uint8_t *line_end = nl ? nl : end;
    const uint8_t *sp = memchr(d, ' ', (size_t)(line_end - d));
    /* method: its token characters; none means GET */
    size_t mlen = 0;
    if (sp)
        for (const uint8_t *c = d; c < sp; c++)
            if (is_token(*c) && mlen < 32) {
                tb_add(&t, c, 1);
                mlen++;
            }
    if (!mlen)
        tb_str(&t, "GET");
    *head = !strcmp(t.p, "HEAD");
    tb_str(&t, " ");
    /* path: from '/', bytes an HTTP request line cannot hold escaped, '%' left alone for the server to decode */
    const uint8_t *path = sp ? sp + 1 : d;
    if (path >= line_end || *path != '/')
        tb_str(&t, "/");
    for (const uint8_t *c = path; c < line_end; c++) {
        if (*c <= 0x20 || *c >= 0x7f || *c == '#') {
            char esc[4];
            snprintf(esc, sizeof esc, "%%%02X", *c);
            tb_str(&t, esc);
        } else {
            tb_add(&t, c, 1);
        }
    }
    tb_str(&t, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    /* headers until an empty line: a token name and a value without control characters; the framing ones are
       the harness's */
    const uint8_t *p = nl ? nl + 1 : end;
    while (p < end) {
        const uint8_t *e = memchr(p, '\n', (size_t)(end - p));
        if (!e)
            e = end;
        if (e == p || (e == p + 1 && *p == '\r')) {
            p = e + 1;
            break;
        }
        const uint8_t *colon = memchr(p, ':', (size_t)(e - p));
        int ok = colon && colon > p;
        for (const uint8_t *c = p; ok && c < colon; c++)
            ok = is_token(*c);
        static const char *const framing[] = {"Host",   "Connection", "Content-Length", "Transfer-Encoding",
                                              "Expect", "Upgrade",    "Keep-Alive",     "TE",
                                              "Trailer"};
        for (size_t k = 0; ok && k < sizeof framing / sizeof *framing; k++)
            ok = !((size_t)(colon - p) == strlen(framing[k]) &&
                   !strncasecmp((const char *)p, framing[k], (size_t)(colon - p)));
        if (ok) {
            tb_add(&t, p, (size_t)(colon - p) + 1);
            for (const uint8_t *c = colon + 1; c < e; c++) {
                unsigned char ch = *c;
                const char *secret = key_at((const char *)c, (size_t)(e - c));
                if (secret) {
                    tb_str(&t, secret);
                    c += strlen(key_names[0]) - 1; /* the placeholders have one length */
                    continue;
                }
                if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                    ch = ' ';
                tb_add(&t, &ch, 1);
            }
            tb_str(&t, "\r\n");
        }
        p = e + 1;
    }
    size_t blen = p < end ? (size_t)(end - p) : 0;
    char cl[48];
    snprintf(cl, sizeof cl, "Content-Length: %zu\r\n\r\n", blen);
    tb_str(&t, cl);
    if (blen)
        tb_add(&t, p, blen);
    return t;
}

/* --- the server and its state --- */

/* Seeds the database through the API itself: two offers (one regular with a via), two requests along the first
   offer's route, two pending bookings. A failure here is a failure of the set-up, not of an input. */
static void seed_trips(void)
{
    static const char *const reqs[] = {
        "POST /v1/offers\n\n{\"from\":[7.4275,43.7396],\"to\":[7.4160,43.7290],\"depart\":\"2030-06-03T08:00+02:00\","
        "\"margin_min\":30,\"seats\":3,\"owner\":\"driver-1\"}",
        "POST /v1/offers\n\n{\"from\":[7.4165,43.7310],\"to\":[7.4360,43.7470],\"vias\":[[7.4275,43.7396]],"
        "\"depart\":{\"weekdays\":\"mon,tue,wed,thu,fri\",\"time\":\"07:45\",\"first_date\":\"2030-06-03\","
        "\"last_date\":\"2030-12-20\"},\"seats\":2,\"max_detour_min\":10,\"max_detour_km\":3,\"price_per_km\":0.08,"
        "\"owner\":\"driver-2\"}",
        "POST /v1/requests\n\n{\"from\":[7.422055,43.737749],\"to\":[7.416246,43.73148],"
        "\"depart\":\"2030-06-03T08:05+02:00\",\"margin_min\":30,\"owner\":\"rider-1\"}",
        "POST /v1/requests\n\n{\"from\":[7.422055,43.737749],\"to\":[7.416246,43.73148],"
        "\"depart\":\"2030-06-03T08:10+02:00\",\"seats\":2,\"owner\":\"rider-2\"}",
        "POST /v1/bookings\n\n{\"offer_id\":1,\"request_id\":1}",
        "POST /v1/bookings\n\n{\"offer_id\":1,\"request_id\":2}",
    };
    for (size_t i = 0; i < sizeof reqs / sizeof *reqs; i++) {
        int head;
        char with_key[1024];
        const char *nl = strchr(reqs[i], '\n');
        snprintf(with_key, sizeof with_key, "%.*sX-API-Key: @OWNER@%s", (int)(nl - reqs[i] + 1), reqs[i], nl);
        const char *req = auth_mode ? with_key : reqs[i];
        tbuf t = make_request((const uint8_t *)req, strlen(req), &head);
        answer a = exchange((const uint8_t *)t.p, t.len);
        if (strncmp(a.buf, "HTTP/1.1 201 ", 13))
            fz_fail("seeding the trip database: %s -> %.300s", reqs[i], a.buf);
        free(a.buf);
        free(t.p);
    }
}

static void start_server(void)
{
    char side[600];
    remove(db_path);
    snprintf(side, sizeof side, "%s-wal", db_path);
    remove(side);
    snprintf(side, sizeof side, "%s-shm", db_path);
    remove(side);
    cv_error err = {0};
    cv_matcher_options mo = cv_matcher_defaults();
    mo.labels = labels;
    if (cv_matcher_open(graph, db_path, &mo, (int64_t)time(NULL), &matcher, &err))
        fz_fail("matcher: %s", err.text);
    if (auth_mode) {
        cv_store *st;
        if (cv_store_open(db_path, &st, &err))
            fz_fail("keys: %s", err.text);
        for (int k = 0; k < KEY_N; k++)
            if (cv_store_add_key(st, key_clients[k], key_scopes[k], key_secrets[k], NULL, &err))
                fz_fail("keys: %s", err.text);
        cv_store_close(st);
    }
    cv_server_options o = cv_server_defaults();
    o.rate = 1000000; /* auth mode: the fuzzer's pace is no abuse to limit */
    o.port = 0;
    o.threads = 1;
    o.quiet = 1;
    o.per_ip_limit = 1000;
    o.timeout_s = 15;
    o.max_body = 8192; /* small, so that inputs reach 413 too */
    o.stop_grace_ms = 2000;
    o.matcher = matcher;
    o.labels = labels;
    o.page_dir = COVOIT_SOURCE_DIR "/web/page";
    o.operator_name = "carpool.example.org";
    o.public_url = "https://carpool.example.org/";
    server = cv_server_start(graph, &o, &err);
    if (!server)
        fz_fail("server: %s", err.text);
    port = cv_server_port(server);
    seed_trips();
}

static void stop_server(void)
{
    cv_server_stop(server);
    cv_matcher_close(matcher);
    server = NULL;
    matcher = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *every = getenv("COVOIT_FUZZ_HTTP_RESET");
    if (every && atol(every) > 0)
        reset_every = (unsigned long)atol(every);
    read_api_codes();
#ifdef FUZZ_HTTP_AUTH
    auth_mode = 1;
#endif
    char cvg[512];
    fz_path(cvg, sizeof cvg, "monaco.cvg");
    fz_path(db_path, sizeof db_path, "trips.db");
    cv_network net;
    cv_error err = {0};
    cv_profile_options po = cv_profile_defaults();
    if (cv_network_read(COVOIT_TEST_DATA "/monaco.osm.pbf", &po, NULL, &net, &err) ||
        cv_graph_build(&net, "monaco.osm.pbf", cvg, NULL, NULL, &err))
        fz_fail("importing Monaco: %s", err.text);
    cv_network_free(&net);
    graph = cv_graph_open(cvg, &err);
    if (!graph || cv_hub_labels_build(graph, 1, 0, NULL, &labels, &err))
        fz_fail("opening Monaco: %s", err.text);
    start_server();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (++inputs % reset_every == 0) {
        stop_server();
        start_server();
    }
    int head;
#ifdef FUZZ_HTTP_RAW
    head = size >= 5 && !memcmp(data, "HEAD ", 5);
    char *req = malloc(size + 1);
    if (!req)
        return 0;
    memcpy(req, data, size);
    req[size] = '\0';
    answer a = exchange(data, size);
#else
    tbuf t = make_request(data, size, &head);
    char *req = t.p;
    answer a = exchange((const uint8_t *)t.p, t.len);
#endif
    int nresp, ncovoit;
    check_answer(&a, head, req, &nresp, &ncovoit);
#ifndef FUZZ_HTTP_RAW
    if (nresp != 1 || ncovoit != 1)
        fz_fail("%d answers, %d of them covoit's, to one well-formed request: %.300s\nrequest: %.300s", nresp, ncovoit,
                a.buf, req);
#endif
    free(a.buf);
    free(req);
    return 0;
}
