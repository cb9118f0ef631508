/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* response.c — a request's answer: what the handlers set in their web_req (web_error, web_ok, web_created), and
   the libmicrohttpd response made of it once it is finished (web_response: a JSON body, a text such as /metrics,
   or one of the map page's files, with their headers). Also the raw answer written straight to a socket where
   libmicrohttpd could not give one (web_raw_answer). Every response the server sends is made here. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/cv_utf8.h"
#include "web/response.h"
#include "web/osrm_json.h"

int web_error(web_req *r, int status, const char *code, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* messages quote what the client sent, which need not be UTF-8, and '%.60s' or the buffer's end may cut a
       character in two; JSON strings must be UTF-8 (jansson refuses anything else), so every byte that does not
       start a whole UTF-8 character becomes '?' */
    for (size_t i = 0, n = strlen(msg); i < n;) {
        size_t k = cv_utf8_seq((const unsigned char *)msg + i, n - i);
        if (k == 0)
            msg[i++] = '?';
        else
            i += k;
    }
    /* a database that cannot be reached (a failover under way, a connection lost) is a 503 the client retries,
       wherever it surfaces: the callers say it with the code Unavailable (osrm_code of CV_EUNAVAILABLE) */
    if (status == MHD_HTTP_INTERNAL_SERVER_ERROR && code && strcmp(code, osrm_word(OSRM_UNAVAILABLE)) == 0) {
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
        if (!r->retry_after)
            r->retry_after = 1;
    }
    json_decref(r->body);
    r->status = status;
    r->body = json_pack("{s:s,s:s}", "code", code, "message", msg);
    return -1;
}

int web_ok(web_req *r, json_t *doc)
{
    json_decref(r->body);
    r->body = doc;
    r->status = doc ? MHD_HTTP_OK : MHD_HTTP_INTERNAL_SERVER_ERROR;
    return 0;
}

int web_created(web_req *r, json_t *doc)
{
    web_ok(r, doc);
    if (doc)
        r->status = MHD_HTTP_CREATED;
    return 0;
}

/* The response for a has_file answer (page.c), with its Content-Type and the page's headers; takes the file (closed
   on failure, which gives NULL). */
static struct MHD_Response *file_response(web_req *r)
{
    int fd = r->file_fd;
    r->has_file = 0;
    r->file_fd = -1;
    /* libmicrohttpd owns fd from here (closed when the response is destroyed); HEAD gets the headers only */
    struct MHD_Response *resp = MHD_create_response_from_fd64(r->file_size, fd);
    if (!resp) {
        close(fd);
        return NULL;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_X_CONTENT_TYPE_OPTIONS, "nosniff");
    /* the page changes with the server; revalidate rather than cache stale copies */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    if (!strncmp(r->content_type, "text/html", 9)) {
        /* everything from this server only; images also from the tile server the operator named (its origin:
           scheme, host and port of --tile-url) */
        const char *t = r->tile_url, *host = t ? strstr(t, "://") : NULL;
        int origin = host ? (int)(host + 3 - t) + (int)strcspn(host + 3, "/") : 0;
        char csp[1400];
        snprintf(csp, sizeof csp,
                 "default-src 'self'; img-src 'self' data: blob:%s%.*s; style-src 'self' 'unsafe-inline'; "
                 "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                 "form-action 'none'",
                 origin ? " " : "", origin, origin ? t : "");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_SECURITY_POLICY, csp);
    }
    return resp;
}

struct MHD_Response *web_response(web_req *r, int closing, int *status_out)
{
    int want_file = r->has_file; /* the map page's files */
    struct MHD_Response *file = want_file ? file_response(r) : NULL;
    if (want_file && !file)
        web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_word(OSRM_ERROR), "cannot send the file");
    char *text = file ? NULL : r->text ? r->text : r->body ? json_dumps(r->body, WEB_JSON_FLAGS) : NULL;
    const char *ctype = r->text ? r->content_type : "application/json; charset=utf-8";
    r->text = NULL;
    int status = r->status;
    if (!text && !file) {
        static const char oom[] = "{\"code\":\"Error\",\"message\":\"out of memory\"}";
        text = malloc(sizeof oom);
        if (text)
            memcpy(text, oom, sizeof oom);
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    size_t len = text ? (r->text_len ? r->text_len : strlen(text)) : 0;
    struct MHD_Response *resp = file   ? file
                                : text ? MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE)
                                       : NULL;
    if (resp) {
        if (!file && status != MHD_HTTP_NO_CONTENT && status != MHD_HTTP_NOT_MODIFIED)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
        if (!file && r->content_encoding)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, r->content_encoding);
        if (!file && r->cache_control)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, r->cache_control);
        if (!file && r->etag[0])
            MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
        if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow ? r->allow : "GET, HEAD");
        if ((status == MHD_HTTP_TOO_MANY_REQUESTS || status == MHD_HTTP_SERVICE_UNAVAILABLE) && r->retry_after) {
            char ra[24];
            snprintf(ra, sizeof ra, "%u", r->retry_after);
            MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
        }
        if (closing)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    } else {
        free(text);
    }
    *status_out = status;
    return resp;
}

int web_raw_answer(int fd, unsigned status, const char *code, const char *message)
{
    json_t *doc = json_pack("{s:s,s:s}", "code", code, "message", message);
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!body)
        return 0;
    char out[1024], date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 %u %s\r\nDate: %s\r\nConnection: close\r\n"
                     "Content-Type: application/json; charset=utf-8\r\nContent-Length: %zu\r\n\r\n%s",
                     status, MHD_get_reason_phrase_for(status), date, strlen(body), body);
    free(body);
    if (n <= 0 || (size_t)n >= sizeof out || send(fd, out, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) <= 0)
        return 0; /* no room in the socket (a client that does not read what it is sent) */
    shutdown(fd, SHUT_WR);
    return 1;
}

int web_check_args(web_req *r, const char *const *allowed)
{
    for (size_t i = 0; i < r->nargs; i++) {
        int known = 0;
        for (const char *const *a = allowed; *a && !known; a++)
            known = !strcmp(*a, r->arg_key[i]);
        if (!known)
            return web_error(r, MHD_HTTP_BAD_REQUEST, osrm_word(OSRM_INVALID_QUERY), "unknown query parameter '%.100s'",
                             r->arg_key[i]);
    }
    return 0;
}
