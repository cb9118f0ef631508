/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* json_out.c — the CLI's output helpers: error lines and JSON documents on stdout (the OSRM builders are in
   web/osrm_json.c, shared with the server), and where its data directories are. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "web/trip_json.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("covoit: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_is_help(const char *arg)
{
    return arg && (!strcmp(arg, "-h") || !strcmp(arg, "--help"));
}

int cli_fail_json(int code, const char *msg, int status)
{
    cli_error("%s", msg);
    cli_print_json(json_pack("{s:s,s:s}", "code", osrm_code(code), "message", msg));
    return status;
}

void cli_print_json(json_t *doc)
{
    if (!doc) {
        cli_error("out of memory");
        return;
    }
    char *s = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(10));
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
    json_decref(doc);
}

const char *cli_data_dir(const char *name, const char *built_in, char *out, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash && slash - exe >= 4 && !strncmp(slash - 4, "/bin", 4)) { /* PREFIX/bin/covoit */
            slash[-4] = '\0';
            snprintf(out, cap, "%s/share/covoit/%s", exe, name);
            if (access(out, R_OK | X_OK) == 0)
                return out;
        }
    }
    snprintf(out, cap, "%s", built_in);
    return out;
}

int cli_fail(int code, int status, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cli_error("%s", msg);
    cli_print_json(trip_json_error(code, msg));
    return status;
}
