/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* cmd_key.c — `covoit key add|list|revoke`: the API keys of the HTTP server, kept hashed in the trip store. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "matcher/store.h"
#include "web/osrm_json.h"
#include "web/trip_json.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: covoit key add --db FILE --client NAME --scopes routing,search,trips,admin,interop\n"
               "       covoit key list --db FILE\n"
               "       covoit key revoke ID --db FILE\n\n"
               "API keys of `covoit serve`. `add` prints the new secret once (only its SHA-256 is stored); when\n"
               "the database holds at least one key that is not revoked, the server requires a key on every\n"
               "request but GET /health (X-API-Key: SECRET or Authorization: Bearer SECRET).\n"
               "Scopes: routing (the OSRM endpoints), search (/v1/search and matches), trips (offers, requests,\n"
               "bookings), admin (everything, anyone's trips), interop (a partner operator: the carpool\n"
               "interoperability standard's endpoints under /stdcov/v1/).\n"
               "--tz ZONE: the zone a new database records (default COVOIT_TZ, else the machine's); an existing\n"
               "database keeps its own.\n");
}

/* The scope names, bit i is names[i]. */
static const char *const scope_names[] = {"routing", "search", "trips", "admin", "interop"};
#define NSCOPES (sizeof scope_names / sizeof *scope_names)

static int parse_scopes(const char *text, unsigned *out)
{
    unsigned v = 0;
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, ","), i = 0;
        while (i < NSCOPES && (strlen(scope_names[i]) != n || strncmp(p, scope_names[i], n)))
            i++;
        if (i == NSCOPES)
            return -1;
        v |= 1u << i;
        p += n;
        if (*p == ',')
            p++;
    }
    *out = v;
    return v ? 0 : -1;
}

static json_t *scopes_json(unsigned s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < NSCOPES && a; i++)
        if (s & (1u << i))
            json_array_append_new(a, json_string(scope_names[i]));
    return a;
}

int cmd_key(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    const char *op = argv[1], *db = NULL, *tz = NULL, *client = NULL, *scopes_text = NULL, *id_text = NULL;
    for (int i = 2; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--db") && i + 1 < argc) {
            db = argv[++i];
        } else if (!strcmp(argv[i], "--tz") && i + 1 < argc) {
            tz = argv[++i];
        } else if (!strcmp(argv[i], "--client") && i + 1 < argc) {
            client = argv[++i];
        } else if (!strcmp(argv[i], "--scopes") && i + 1 < argc) {
            scopes_text = argv[++i];
        } else if (!strcmp(op, "revoke") && !id_text && argv[i][0] != '-') {
            id_text = argv[i];
        } else {
            return cli_fail(CV_EINVAL, CLI_USAGE, "unknown or incomplete option '%s' (try `covoit key --help`)",
                            argv[i]);
        }
    }
    if (strcmp(op, "add") && strcmp(op, "list") && strcmp(op, "revoke")) {
        return cli_fail(CV_EINVAL, CLI_USAGE, "unknown key operation '%s' (add, list or revoke)", op);
    }
    if (!db) {
        return cli_fail(CV_EINVAL, CLI_USAGE, "--db FILE is required");
    }
    unsigned scopes = 0;
    long long id = 0;
    if (!strcmp(op, "add")) {
        if (!client || !scopes_text) {
            return cli_fail(CV_EINVAL, CLI_USAGE, "key add needs --client NAME and --scopes LIST");
        }
        if (parse_scopes(scopes_text, &scopes)) {
            return cli_fail(CV_EINVAL, CLI_USAGE,
                            "--scopes: a comma-separated list of routing, search, trips, admin, interop");
        }
    } else if (!strcmp(op, "revoke")) {
        char *end = NULL;
        id = id_text ? strtoll(id_text, &end, 10) : 0;
        if (!id_text || *end || id < 1) {
            return cli_fail(CV_EINVAL, CLI_USAGE, "key revoke needs the key's id (a positive integer)");
        }
    }
    /* the database's own zone unless told (--tz, COVOIT_TZ): a key or a partner has no local time of its own */
    char why[600];
    int zst = cli_zone(tz, db, 0, "--tz", why, sizeof why);
    if (zst) {
        return cli_fail((zst == CLI_USAGE ? CV_EINVAL : CV_EZONE), zst, "%s", why);
    }
    cv_error err = {0};
    cv_store *s = NULL;
    int rc = cv_store_open(db, &s, &err);
    if (rc) {
        return cli_fail(err.code ? err.code : CV_EIO, CLI_FAIL, "%s", err.text);
    }
    if (!strcmp(op, "add")) {
        char secret[CV_KEY_SECRET_MAX];
        int64_t kid = 0;
        rc = cv_store_add_key(s, client, scopes, secret, &kid, &err);
        if (!rc)
            cli_print_json(json_pack("{s:s,s:I,s:s,s:o,s:s}", "code", osrm_word(OSRM_OK), "id", (json_int_t)kid,
                                     "client", client, "scopes", scopes_json(scopes), "secret", secret));
        memset(secret, 0, sizeof secret);
    } else if (!strcmp(op, "list")) {
        cv_key_info *v = NULL;
        size_t n = 0;
        rc = cv_store_list_keys(s, &v, &n, &err);
        json_t *list = rc ? NULL : json_array();
        for (size_t i = 0; list && i < n; i++)
            json_array_append_new(list, json_pack("{s:I,s:s,s:o,s:o,s:b}", "id", (json_int_t)v[i].id, "client",
                                                  v[i].client, "scopes", scopes_json(v[i].scopes), "created",
                                                  trip_json_datetime(v[i].created), "revoked", v[i].revoked != 0));
        free(v);
        if (!rc)
            cli_print_json(json_pack("{s:s,s:o}", "code", osrm_word(OSRM_OK), "keys", list));
    } else {
        rc = cv_store_revoke_key(s, (int64_t)id, &err);
        if (!rc)
            cli_print_json(json_pack("{s:s,s:I,s:b}", "code", osrm_word(OSRM_OK), "id", (json_int_t)id, "revoked", 1));
    }
    cv_store_close(s);
    if (rc)
        return cli_fail(rc, CLI_FAIL, "%s", err.text);
    return CLI_OK;
}
