/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* access_log.c — the server's log lines on stderr, in logfmt: cv_log's "ts=... level=... msg=..." lines, one line
   per request (method, path, status, duration, id) and the start-up line with the effective settings. Each line is
   one write(2), so that lines from several threads never mix. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "web/access_log.h"

/* Appends key=value to buf (at *len, capacity cap), quoting the value as logfmt wants when it holds a space, a
   quote, an equals sign or a control character. */
static void logfmt_pair(char *buf, size_t cap, size_t *len, const char *key, const char *val)
{
    int quote = !*val;
    for (const char *p = val; *p && !quote; p++)
        quote = *p == ' ' || *p == '"' || *p == '=' || (unsigned char)*p < 0x20;
    size_t n = *len;
    int w = snprintf(buf + n, n < cap ? cap - n : 0, "%s%s=%s", n ? " " : "", key, quote ? "\"" : "");
    n += w > 0 ? (size_t)w : 0;
    for (const char *p = val; *p && n + 8 < cap; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"' || ch == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)ch;
        } else if (ch < 0x20) {
            n += (size_t)snprintf(buf + n, cap - n, "\\x%02x", ch);
        } else {
            buf[n++] = (char)ch;
        }
    }
    if (quote && n + 1 < cap)
        buf[n++] = '"';
    if (n >= cap)
        n = cap - 1;
    buf[n] = '\0';
    *len = n;
}

/* As logfmt_pair, with a value longer than max bytes (max < 900) cut to its first max bytes (not inside a UTF-8
   character) and marked with its whole length, so that a long path or method never pushes the fields after it out
   of the line. */
static void logfmt_clipped(char *buf, size_t cap, size_t *len, const char *key, const char *val, size_t max)
{
    size_t n = strlen(val);
    if (n <= max) {
        logfmt_pair(buf, cap, len, key, val);
        return;
    }
    size_t cut = max;
    while (cut > 0 && ((unsigned char)val[cut] & 0xc0) == 0x80)
        cut--;
    char clipped[960];
    snprintf(clipped, sizeof clipped, "%.*s...(%zu bytes)", (int)cut, val, n);
    logfmt_pair(buf, cap, len, key, clipped);
}

static void log_ts(char *buf, size_t cap, size_t *len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char t[40];
    size_t k = strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(t + k, sizeof t - k, ".%03ldZ", ts.tv_nsec / 1000000);
    logfmt_pair(buf, cap, len, "ts", t);
}

/* One write(2) per line, so that lines from several threads never interleave. */
static void log_write(char *buf, size_t len, size_t cap)
{
    if (len >= cap)
        len = cap - 1; /* logfmt_pair keeps len below cap: the newline always fits */
    buf[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, buf, len);
    (void)w;
}

void cv_log(const char *level, const char *fmt, ...)
{
    char msg[1024], line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    size_t len = 0;
    log_ts(line, sizeof line, &len);
    logfmt_pair(line, sizeof line, &len, "level", level);
    logfmt_pair(line, sizeof line, &len, "msg", msg);
    log_write(line, len, sizeof line);
}

void web_log_request(const char *method, const char *path, int status, int64_t ns, uint64_t id)
{
    /* escaped, a control byte takes 4: 4 * (64 + 512) bytes and the short fields fit in the line */
    char line[4096], num[32];
    size_t len = 0;
    log_ts(line, sizeof line, &len);
    logfmt_clipped(line, sizeof line, &len, "method", method, 64);
    logfmt_clipped(line, sizeof line, &len, "path", path, 512);
    snprintf(num, sizeof num, "%d", status);
    logfmt_pair(line, sizeof line, &len, "status", num);
    snprintf(num, sizeof num, "%.2f", (double)(ns < 0 ? 0 : ns) / 1e6);
    logfmt_pair(line, sizeof line, &len, "dur_ms", num);
    snprintf(num, sizeof num, "%llu", (unsigned long long)id);
    logfmt_pair(line, sizeof line, &len, "id", num);
    log_write(line, len, sizeof line);
}

void web_log_start(const cv_server_options *o, uint16_t port, int v6, int auth, unsigned rate)
{
    char line[2048], v[160];
    size_t len = 0;
    log_ts(line, sizeof line, &len);
    logfmt_pair(line, sizeof line, &len, "level", "info");
    logfmt_pair(line, sizeof line, &len, "msg", "listening");
    snprintf(v, sizeof v, "%s%.100s%s:%u", v6 ? "[" : "", o->address, v6 ? "]" : "", (unsigned)port);
    logfmt_pair(line, sizeof line, &len, "listen", v);
    snprintf(v, sizeof v, "%u", (unsigned)port);
    logfmt_pair(line, sizeof line, &len, "port", v);
    static const char *const keys[] = {
        "threads",           "max_connections", "max_connections_per_ip", "connection_timeout_s",
        "request_timeout_s", "max_body_bytes",  "max_route_coords",       "max_table_coords"};
    unsigned long long vals[] = {o->threads,          o->connection_limit,  o->per_ip_limit,
                                 o->timeout_s,        o->request_timeout_s, (unsigned long long)o->max_body,
                                 o->max_route_coords, o->max_table_coords};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        snprintf(v, sizeof v, "%llu", vals[i]);
        logfmt_pair(line, sizeof line, &len, keys[i], v);
    }
    logfmt_pair(line, sizeof line, &len, "poll", "poll");
    logfmt_pair(line, sizeof line, &len, "auth", auth ? "keys" : "demo");
    if (auth) {
        snprintf(v, sizeof v, "%u", rate);
        logfmt_pair(line, sizeof line, &len, "rate", v);
    }
    logfmt_pair(line, sizeof line, &len, "carpool", o->matcher ? "on" : "off");
    logfmt_pair(line, sizeof line, &len, "hub_labels", o->labels ? "on" : "off");
    log_write(line, len, sizeof line);
}
