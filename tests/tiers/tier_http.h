/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* tier_http.h — the HTTP/1.1 client of the server tiers: one kept-alive connection per caller (a tier opens
   thousands of requests; a new connection each would measure the kernel), from a chosen loopback source address
   (the per-address buckets and limits of the server are per source), answers read by Content-Length or chunks.
   A connection that fails mid-request is closed and gives status 0: the caller decides what an unanswered
   request means (the crash tier counts it as a write of unknown outcome). Include after the feature macros. */
#ifndef CV_TIER_HTTP_H
#define CV_TIER_HTTP_H

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

typedef struct tier_conn {
    int fd;                    /* -1 when not connected */
    uint16_t port;             /* the server's, on 127.0.0.1 */
    char src[INET_ADDRSTRLEN]; /* the source address to bind ("" : the kernel's choice, 127.0.0.1) */
    int timeout_s;             /* receive timeout of one answer */
} tier_conn;

typedef struct tier_reply {
    int status; /* 0 when no whole answer came */
    int sent;   /* 1: the whole request went out (so the server may have acted on it) */
    char *head; /* the status line and headers, NUL-terminated */
    char *body; /* the body, NUL-terminated ("" when none) */
    size_t body_len;
    json_t *json; /* the parsed body, NULL when it is not JSON */
} tier_reply;

static inline void tier_reply_free(tier_reply *r)
{
    free(r->head);
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/* A connection to 127.0.0.1:port from source address src (NULL or "": any); connected on first use. */
static inline tier_conn tier_conn_make(uint16_t port, const char *src)
{
    tier_conn c = {-1, port, "", 30};
    if (src)
        snprintf(c.src, sizeof c.src, "%s", src);
    return c;
}

static inline void tier_conn_close(tier_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static inline int tier_conn_open(tier_conn *c)
{
    tier_conn_close(c);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (c->src[0]) {
        struct sockaddr_in from = {0};
        from.sin_family = AF_INET;
        if (inet_pton(AF_INET, c->src, &from.sin_addr) != 1 || bind(fd, (struct sockaddr *)&from, sizeof from)) {
            close(fd);
            return -1;
        }
    }
    struct sockaddr_in to = {0};
    to.sin_family = AF_INET;
    to.sin_port = htons(c->port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&to, sizeof to)) {
        close(fd);
        return -1;
    }
    struct timeval tv = {c->timeout_s, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    c->fd = fd;
    return 0;
}

/* The value of header name in head (case-insensitive), copied into out; 0 when present. */
static inline int tier_header(const char *head, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *line = head ? strstr(head, "\r\n") : NULL; line; line = strstr(line + 2, "\r\n")) {
        const char *h = line + 2;
        if (!strncasecmp(h, name, n) && h[n] == ':') {
            h += n + 1;
            while (*h == ' ' || *h == '\t')
                h++;
            size_t len = strcspn(h, "\r\n");
            if (len >= cap)
                len = cap - 1;
            memcpy(out, h, len);
            out[len] = '\0';
            return 0;
        }
    }
    return -1;
}

/* A growing receive buffer over one connection. */
typedef struct tier_rbuf {
    char *p;
    size_t len, cap, off; /* off: what the parser has consumed */
} tier_rbuf;

/* Reads more bytes into b; 0, or -1 at the end of the stream or on an error. */
static inline int tier_read_more(int fd, tier_rbuf *b)
{
    if (b->cap - b->len < 4096) {
        size_t cap = b->cap ? 2 * b->cap : 1 << 14;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    ssize_t got;
    do
        got = recv(fd, b->p + b->len, b->cap - b->len - 1, 0);
    while (got < 0 && errno == EINTR);
    if (got <= 0)
        return -1;
    b->len += (size_t)got;
    b->p[b->len] = '\0';
    return 0;
}

/* Reads one answer off c->fd: 0 with r filled, or -1 (the connection is then unusable). keep says whether the
   connection may carry another request. */
static inline int tier_read_answer(tier_conn *c, int head_only, tier_reply *r, int *keep)
{
    tier_rbuf b = {0};
    char *end;
    while (!b.p || !(end = strstr(b.p, "\r\n\r\n")))
        if (tier_read_more(c->fd, &b))
            goto bad;
    size_t hlen = (size_t)(end - b.p) + 4;
    if (strncmp(b.p, "HTTP/1.", 7))
        goto bad;
    r->head = strndup(b.p, hlen);
    r->status = atoi(b.p + 9);
    char v[64];
    *keep = !(tier_header(r->head, "Connection", v, sizeof v) == 0 && !strcasecmp(v, "close"));
    size_t cap = 0;
    b.off = hlen;
    if (head_only || r->status == 204 || r->status == 304 || r->status < 200) {
        r->body_len = 0;
    } else if (tier_header(r->head, "Transfer-Encoding", v, sizeof v) == 0 && !strncasecmp(v, "chunked", 7)) {
        for (;;) {
            char *eol;
            while (!(eol = strstr(b.p + b.off, "\r\n")))
                if (tier_read_more(c->fd, &b))
                    goto bad;
            size_t n = strtoul(b.p + b.off, NULL, 16);
            b.off = (size_t)(eol - b.p) + 2;
            while (b.len - b.off < n + 2)
                if (tier_read_more(c->fd, &b))
                    goto bad;
            if (!n)
                break; /* no trailers from our server */
            if (r->body_len + n + 1 > cap) {
                cap = 2 * (r->body_len + n + 1);
                char *p = realloc(r->body, cap);
                if (!p)
                    goto bad;
                r->body = p;
            }
            memcpy(r->body + r->body_len, b.p + b.off, n);
            r->body_len += n;
            b.off += n + 2;
        }
    } else if (tier_header(r->head, "Content-Length", v, sizeof v) == 0) {
        size_t n = strtoul(v, NULL, 10);
        while (b.len - b.off < n)
            if (tier_read_more(c->fd, &b))
                goto bad;
        r->body = malloc(n + 1);
        if (!r->body)
            goto bad;
        memcpy(r->body, b.p + b.off, n);
        r->body_len = n;
    } else {
        while (!tier_read_more(c->fd, &b))
            ; /* to the end of the stream */
        *keep = 0;
        r->body_len = b.len - b.off;
        r->body = malloc(r->body_len + 1);
        if (!r->body)
            goto bad;
        memcpy(r->body, b.p + b.off, r->body_len);
    }
    if (!r->body)
        r->body = calloc(1, 1);
    else
        r->body[r->body_len] = '\0';
    free(b.p);
    if (!r->body)
        return -1;
    r->json = json_loadb(r->body, r->body_len, 0, NULL);
    return 0;
bad:
    free(b.p);
    tier_reply_free(r);
    return -1;
}

/* Sends method path with extra header lines (each ending in CRLF, or NULL) and a JSON body (NULL: none) over c,
   connecting (again) when needed, and reads the answer. A connection the server closed while idle is opened
   again before sending; one that fails after the request went out is not retried: status 0. */
static inline tier_reply tier_http(tier_conn *c, const char *method, const char *path, const char *headers,
                                   const char *body)
{
    tier_reply r = {0};
    if (c->fd >= 0) {
        struct pollfd p = {c->fd, POLLIN, 0};
        if (poll(&p, 1, 0) != 0)
            tier_conn_close(c); /* closed by the server (or stray bytes): start over */
    }
    if (c->fd < 0 && tier_conn_open(c))
        return r;
    size_t blen = body ? strlen(body) : 0;
    size_t cap = strlen(method) + strlen(path) + (headers ? strlen(headers) : 0) + blen + 256;
    char *req = malloc(cap);
    if (!req)
        return r;
    int n = snprintf(req, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s", method, path, headers ? headers : "");
    if (body)
        n += snprintf(req + n, cap - (size_t)n, "Content-Type: application/json\r\nContent-Length: %zu\r\n", blen);
    n += snprintf(req + n, cap - (size_t)n, "\r\n");
    if (body) {
        memcpy(req + n, body, blen);
        n += (int)blen;
    }
    size_t off = 0;
    while (off < (size_t)n) {
        ssize_t w = send(c->fd, req + off, (size_t)n - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    free(req);
    int keep = 0, sent = off == (size_t)n;
    if (!sent || tier_read_answer(c, !strcmp(method, "HEAD"), &r, &keep)) {
        tier_conn_close(c);
        r.status = 0;
        r.sent = sent;
        return r;
    }
    r.sent = 1;
    if (!keep)
        tier_conn_close(c);
    return r;
}

/* The "code" of a JSON answer, or "" when there is none. */
static inline const char *tier_code(const tier_reply *r)
{
    const char *s = json_string_value(json_object_get(r->json, "code"));
    return s ? s : "";
}

/* The "message" of a JSON answer, or "". */
static inline const char *tier_message(const tier_reply *r)
{
    const char *s = json_string_value(json_object_get(r->json, "message"));
    return s ? s : "";
}

#endif
