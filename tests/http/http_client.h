/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* http_client.h — the tiny HTTP/1.1 client the HTTP tests share: one request per connection (Connection: close),
   an optional extra header and body, the whole answer read until the server closes. */
#ifndef CV_HTTP_CLIENT_H
#define CV_HTTP_CLIENT_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct reply {
    int status;       /* 0 when no answer came */
    char *raw;        /* the whole answer */
    const char *body; /* into raw */
    json_t *json;     /* parsed body, NULL if it is not JSON */
} reply;

static inline void reply_free(reply *r)
{
    free(r->raw);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/* Sends method path to 127.0.0.1:port with an extra header line (no CRLF; NULL for none) and a JSON body of
   body_len bytes (NULL for none), and reads the answer. */
static inline reply http_request(uint16_t port, const char *method, const char *path, const char *header,
                                 const char *body, size_t body_len)
{
    reply r = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return r;
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        close(fd);
        return r;
    }
    size_t hcap = strlen(method) + strlen(path) + (header ? strlen(header) : 0) + 256;
    char *head = malloc(hcap);
    int n = snprintf(head, hcap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n", method, path);
    if (header)
        n += snprintf(head + n, hcap - (size_t)n, "%s\r\n", header);
    if (body)
        n +=
            snprintf(head + n, hcap - (size_t)n, "Content-Type: application/json\r\nContent-Length: %zu\r\n", body_len);
    n += snprintf(head + n, hcap - (size_t)n, "\r\n");
    int ok = send(fd, head, (size_t)n, MSG_NOSIGNAL) == n;
    free(head);
    for (size_t off = 0; ok && body && off < body_len;) {
        ssize_t w = send(fd, body + off, body_len - off, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* the server may answer 413 and close before the body is all sent */
        off += (size_t)w;
    }
    size_t len = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 4096 > cap)
            buf = realloc(buf, cap *= 2);
        ssize_t got = recv(fd, buf + len, cap - len - 1, 0);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(fd);
    buf[len] = '\0';
    r.raw = buf;
    char *sep = strstr(buf, "\r\n\r\n");
    if (strncmp(buf, "HTTP/1.1 ", 9) || !sep)
        return r;
    r.status = atoi(buf + 9);
    r.body = sep + 4;
    r.json = json_loads(r.body, 0, NULL);
    return r;
}

/* Milliseconds on the monotonic clock. */
static inline double http_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Writes the exact bytes req (len) to 127.0.0.1:port over a new connection while reading what comes back, until
   the server closes the connection (*closed = 1) or timeout_ms pass (*closed = 0). Sending stops without a failure
   when the server closes first (it may answer before reading everything). Returns what was read, NUL-terminated
   (*n bytes, malloc'ed), or NULL when it could not connect. */
static inline char *http_raw(uint16_t port, const char *req, size_t len, int timeout_ms, size_t *n, int *closed)
{
    *n = 0;
    *closed = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return NULL;
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        close(fd);
        return NULL;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    size_t cap = 1 << 16, got = 0, sent = 0;
    char *buf = malloc(cap);
    double end = http_now_ms() + timeout_ms;
    while (!*closed && http_now_ms() < end) {
        struct pollfd p = {fd, (short)(POLLIN | (sent < len ? POLLOUT : 0)), 0};
        if (poll(&p, 1, (int)(end - http_now_ms()) + 1) <= 0)
            continue;
        if (p.revents & POLLIN || p.revents & (POLLHUP | POLLERR)) {
            if (got + 4096 > cap)
                buf = realloc(buf, cap *= 2);
            ssize_t r = recv(fd, buf + got, cap - got - 1, 0);
            if (r > 0)
                got += (size_t)r;
            else if (r == 0 || (errno != EAGAIN && errno != EINTR))
                *closed = 1;
        }
        if (!*closed && sent < len && (p.revents & POLLOUT)) {
            ssize_t w = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
            if (w > 0)
                sent += (size_t)w;
            else if (errno != EAGAIN && errno != EINTR)
                sent = len; /* the server stopped reading: keep reading its answer */
        }
    }
    close(fd);
    buf[got] = '\0';
    *n = got;
    return buf;
}

#endif
