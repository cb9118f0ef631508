/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* page.c — the map page: GET / is DIR/index.html and GET /static/NAME is DIR/NAME, where DIR is the page directory
   (`covoit serve --page DIR`, web/page/ of the source tree by default); /static/leaflet/NAME is Leaflet from
   DIR/node_modules/leaflet/dist/NAME, installed by `npm ci` (never vendored, never a CDN). A file is answered by
   opening it into the web_req with its Content-Type (response.c sends it). A static path is a list of plain names:
   '..', '.' and hidden segments, empty segments and any other character (after percent-decoding) are refused with
   400 before any file is touched, so nothing outside DIR can be reached by name. No API key is needed for the page;
   the API calls it makes follow the usual rules. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "web/page.h"
#include "web/web_int.h"
#include "web/osrm_json.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

#define INSTALL_HINT "run `npm ci --prefix web/page` (or `bash scripts/deps.sh`) in the source tree"

static int is_file(const char *dir, const char *rel)
{
    char path[PATH_MAX];
    struct stat st;
    int n = snprintf(path, sizeof path, "%s/%s", dir, rel);
    return n > 0 && (size_t)n < sizeof path && !stat(path, &st) && S_ISREG(st.st_mode);
}

int cv_page_ready(const char *dir, char *msg, size_t cap)
{
    if (!dir || !*dir) {
        snprintf(msg, cap, "no page directory (covoit serve --page DIR)");
        return 0;
    }
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
        snprintf(msg, cap, "the page directory %.300s does not exist (--page DIR: covoit's web/page directory)", dir);
        return 0;
    }
    if (!is_file(dir, "index.html")) {
        snprintf(msg, cap, "%.300s/index.html is missing (--page DIR must be covoit's web/page directory)", dir);
        return 0;
    }
    if (!is_file(dir, CV_PAGE_LEAFLET_DIR "/leaflet.js")) {
        snprintf(msg, cap, "Leaflet is not installed in %.300s/node_modules: " INSTALL_HINT, dir);
        return 0;
    }
    return 1;
}

/* Content-Type by file extension; what the page and Leaflet's dist hold, and a safe default. */
static const char *content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        /* clang-format off */
        {".html", "text/html; charset=utf-8"},      {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".json", "application/json; charset=utf-8"}, {".map", "application/json; charset=utf-8"},
        {".png", "image/png"},                      {".svg", "image/svg+xml"},
        {".ico", "image/x-icon"},                   {".txt", "text/plain; charset=utf-8"},
        {".md", "text/plain; charset=utf-8"},
        /* clang-format on */
    };
    const char *dot = strrchr(name, '.');
    const char *slash = strrchr(name, '/');
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof types / sizeof *types; i++)
            if (!strcmp(dot, types[i].ext))
                return types[i].type;
    return "application/octet-stream";
}

/* Opens dir/rel as the answer: 200 with the file, 404 NotFound (with hint when it is missing), 500 otherwise. */
static int send_file(web_req *r, const char *dir, const char *rel, const char *hint)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (n < 0 || (size_t)n >= sizeof path)
        return web_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND), "no such file: %.200s", r->path);
    /* O_NONBLOCK: a FIFO put there must not hang a worker; it is refused below as not a regular file. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) || !S_ISREG(st.st_mode))) {
        close(fd);
        fd = -1;
        errno = ENOENT;
    }
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR || errno == EISDIR || errno == ELOOP || errno == ENAMETOOLONG)
            return web_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND), "no such file: %.200s%s%s", r->path,
                             hint ? " — " : "", hint ? hint : "");
        cv_log("error", "cannot open %s: %s", path, strerror(errno));
        return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_word(OSRM_ERROR), "cannot read %.200s", r->path);
    }
    json_decref(r->body);
    r->body = NULL;
    r->has_file = 1;
    r->file_fd = fd;
    r->file_size = (uint64_t)st.st_size;
    r->content_type = content_type(rel);
    r->status = MHD_HTTP_OK;
    return 0;
}

int web_page_index(web_req *r)
{
    char why[600];
    if (!cv_page_ready(r->page_dir, why, sizeof why))
        return web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, osrm_word(OSRM_UNAVAILABLE),
                         "the map page is not available: %s", why);
    return send_file(r, r->page_dir, "index.html", NULL);
}

/* True when rest is a static path this server may serve: segments of [A-Za-z0-9_.~+@-] separated by single
   '/', none empty and none starting with '.' (so no '.', '..' or hidden file), at most 255 bytes. */
static int plain_path(const char *rest)
{
    size_t len = strlen(rest);
    if (!len || len > 255)
        return 0;
    int start = 1;
    for (const char *p = rest; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '/') {
            if (start)
                return 0; /* empty segment: a leading '/' (absolute) or '//' */
            start = 1;
            continue;
        }
        if (start && c == '.')
            return 0;
        start = 0;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-' || c == '~' || c == '+' || c == '@'))
            return 0;
    }
    return !start; /* a trailing '/' names a directory */
}

int web_page_static(web_req *r)
{
    if (!plain_path(r->rest))
        return web_error(r, MHD_HTTP_BAD_REQUEST, osrm_word(OSRM_INVALID_URL),
                         "'%.200s' is not a static file path: plain names separated by '/', no '..', no hidden, "
                         "empty or absolute segments",
                         r->path);
    if (!r->page_dir || !*r->page_dir)
        return web_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND),
                         "no such file: %.200s (this server has no page directory: covoit serve --page DIR)", r->path);
    /* the npm packages the page loads, each under a name of its own */
    static const struct {
        const char *prefix, *dir, *name;
    } npm[] = {{"leaflet/", CV_PAGE_LEAFLET_DIR, "Leaflet"},
               {"protomaps/", "node_modules/protomaps-leaflet/dist", "protomaps-leaflet"},
               {"chart/", "node_modules/chart.js/dist", "Chart.js"}};
    for (size_t k = 0; k < sizeof npm / sizeof *npm; k++) {
        size_t n = strlen(npm[k].prefix);
        if (strncmp(r->rest, npm[k].prefix, n))
            continue;
        char dir[PATH_MAX], hint[200];
        snprintf(dir, sizeof dir, "%s/%s", r->page_dir, npm[k].dir);
        snprintf(hint, sizeof hint, "%s is not installed: " INSTALL_HINT, npm[k].name);
        struct stat st;
        return send_file(r, dir, r->rest + n, stat(dir, &st) ? hint : NULL);
    }
    /* the page's own files only: node_modules is reached through /static/leaflet/, /static/protomaps/ and
       /static/chart/ */
    if (!strcmp(r->rest, "node_modules") || !strncmp(r->rest, "node_modules/", 13))
        return web_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND), "no such file: %.200s", r->path);
    return send_file(r, r->page_dir, r->rest, NULL);
}
