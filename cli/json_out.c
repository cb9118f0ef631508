/* json_out.c — the CLI's output helpers: error lines and JSON documents on stdout (the OSRM builders are in
   web/osrm_json.c, shared with the server). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

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
