/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* cmd_partner.c — `covoit partner add|list|remove`: the partner operators of the carpool interoperability standard
   this server works with: where their standard's endpoints are, the key they gave us, where their booking events
   go. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "matcher/store.h"
#include "web/osrm_json.h"
#include "web/trip_json.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: covoit partner add NAME --db FILE --url BASE_URL --key THEIR_KEY [--events-url URL]\n"
               "       covoit partner list --db FILE\n"
               "       covoit partner remove NAME --db FILE\n\n"
               "Partner operators of the carpool interoperability standard (standard covoiturage).\n"
               "NAME is the partner's operator name, a host name (coop-b.example): the `operator` of its journeys\n"
               "and the client of the key it calls this server with. BASE_URL is its standard's base\n"
               "(https://coop-b.example/stdcov/v1): `covoit serve` asks its /driver_journeys in federated\n"
               "searches and sends bookings to its /bookings, with X-API-Key THEIR_KEY. Booking events about the\n"
               "bookings it made here go to --events-url (default BASE_URL/booking_events).\n"
               "The partner calls this server with a key of client NAME and scope interop (covoit key add --client\n"
               "NAME --scopes interop); `remove` revokes its keys. Events owed to a removed partner stay in the\n"
               "outbox until it is added again.\n"
               "--tz ZONE: the zone a new database records (default COVOIT_TZ, else the machine's); an existing\n"
               "database keeps its own.\n");
}

/* A host name: letters, digits, '-' and '.', 1 to 127 bytes. */
static int is_host(const char *t)
{
    size_t n = strlen(t);
    if (!n || n >= CV_OWNER_MAX || t[0] == '.' || t[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)t[i]) && t[i] != '-' && t[i] != '.')
            return 0;
    return 1;
}

/* An http or https URL with a host, no query, no fragment, no space, that fits in cap bytes without its trailing
   '/'; copied to out without it. */
static int url_arg(const char *opt, const char *t, char *out, size_t cap)
{
    const char *rest = !strncmp(t, "http://", 7) ? t + 7 : !strncmp(t, "https://", 8) ? t + 8 : NULL;
    size_t n = strlen(t);
    while (n && t[n - 1] == '/')
        n--;
    if (!rest || !*rest || *rest == '/' || strpbrk(t, "?# \t\r\n") || n >= cap) {
        cli_error("%s: an http:// or https:// URL with a host and no query, at most %zu bytes, not '%.100s'", opt,
                  cap - 1, t);
        return -1;
    }
    snprintf(out, cap, "%.*s", (int)n, t);
    return 0;
}

/* The partner's active keys with us. */
static int partner_keys(cv_store *s, const char *name, int revoke, int *count, cv_error *err)
{
    cv_key_info *v = NULL;
    size_t n = 0;
    int rc = cv_store_list_keys(s, &v, &n, err);
    *count = 0;
    for (size_t i = 0; !rc && i < n; i++)
        if (!v[i].revoked && !strcmp(v[i].client, name)) {
            (*count)++;
            if (revoke)
                rc = cv_store_revoke_key(s, v[i].id, err);
        }
    free(v);
    return rc;
}

static json_t *partner_json(const cv_partner *p)
{
    /* the key they gave us is a secret: shown by its first characters only */
    char shown[16];
    snprintf(shown, sizeof shown, "%.4s…", p->api_key);
    return json_pack("{s:s,s:s,s:s,s:s,s:o}", "name", p->name, "url", p->base_url, "key", shown, "events_url",
                     p->events_url, "created", trip_json_datetime(p->created));
}

int cmd_partner(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    const char *op = argv[1], *db = NULL, *tz = NULL, *name = NULL, *url = NULL, *key = NULL, *events = NULL;
    for (int i = 2; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--db") && i + 1 < argc) {
            db = argv[++i];
        } else if (!strcmp(argv[i], "--tz") && i + 1 < argc) {
            tz = argv[++i];
        } else if (!strcmp(argv[i], "--url") && i + 1 < argc) {
            url = argv[++i];
        } else if (!strcmp(argv[i], "--key") && i + 1 < argc) {
            key = argv[++i];
        } else if (!strcmp(argv[i], "--events-url") && i + 1 < argc) {
            events = argv[++i];
        } else if (strcmp(op, "list") && !name && argv[i][0] != '-') {
            name = argv[i];
        } else {
            cli_error("unknown or incomplete option '%s' (try `covoit partner --help`)", argv[i]);
            return CLI_USAGE;
        }
    }
    int add = !strcmp(op, "add"), list = !strcmp(op, "list");
    if (!add && !list && strcmp(op, "remove")) {
        cli_error("unknown partner operation '%s' (add, list or remove)", op);
        return CLI_USAGE;
    }
    if (!db) {
        cli_error("--db FILE is required");
        return CLI_USAGE;
    }
    if (!list && (!name || !is_host(name))) {
        cli_error("partner %s needs the partner's name, a host name (letters, digits, '-', '.'), not '%.100s'", op,
                  name ? name : "");
        return CLI_USAGE;
    }
    cv_partner p = {0};
    if (add) {
        if (!url || !key) {
            cli_error("partner add needs --url BASE_URL and --key THEIR_KEY");
            return CLI_USAGE;
        }
        if (!*key || strlen(key) >= sizeof p.api_key || strpbrk(key, "\r\n")) {
            cli_error("--key: 1 to %zu characters on one line", sizeof p.api_key - 1);
            return CLI_USAGE;
        }
        snprintf(p.name, sizeof p.name, "%s", name);
        snprintf(p.api_key, sizeof p.api_key, "%s", key);
        if (url_arg("--url", url, p.base_url, sizeof p.base_url - 16))
            return CLI_USAGE;
        if (events ? url_arg("--events-url", events, p.events_url, sizeof p.events_url) : 0)
            return CLI_USAGE;
        if (!events)
            snprintf(p.events_url, sizeof p.events_url, "%.490s/booking_events", p.base_url);
    }
    /* the database's own zone unless told (--tz, COVOIT_TZ): a key or a partner has no local time of its own */
    char why[600];
    int zst = cli_zone(tz, db, 0, "--tz", why, sizeof why);
    if (zst) {
        cli_error("%s", why);
        return zst;
    }
    cv_error err = {0};
    cv_store *s = NULL;
    int rc = cv_store_open(db, &s, &err);
    if (rc) {
        cli_error("%s", err.text);
        return CLI_FAIL;
    }
    int keys = 0;
    if (add) {
        rc = cv_store_add_partner(s, &p, &err);
        if (!rc)
            rc = partner_keys(s, name, 0, &keys, &err);
        if (!rc && !cv_store_get_partner(s, name, &p, &err)) {
            json_t *out =
                json_pack("{s:s,s:o,s:i}", "code", osrm_word(OSRM_OK), "partner", partner_json(&p), "their_keys", keys);
            cli_print_json(out);
            if (!keys)
                fprintf(stderr,
                        "covoit: %s has no key to call this server with: when the server requires keys, give it one "
                        "(covoit key add --db %s --client %s --scopes interop)\n",
                        name, db, name);
        }
    } else if (list) {
        cv_partner *v = NULL;
        size_t n = 0;
        rc = cv_store_list_partners(s, &v, &n, &err);
        json_t *all = rc ? NULL : json_array();
        for (size_t i = 0; all && i < n; i++)
            json_array_append_new(all, partner_json(&v[i]));
        free(v);
        if (!rc)
            cli_print_json(json_pack("{s:s,s:o}", "code", osrm_word(OSRM_OK), "partners", all));
    } else {
        rc = cv_store_remove_partner(s, name, &err);
        if (!rc)
            rc = partner_keys(s, name, 1, &keys, &err);
        if (!rc)
            cli_print_json(
                json_pack("{s:s,s:s,s:i}", "code", osrm_word(OSRM_OK), "removed", name, "keys_revoked", keys));
    }
    cv_store_close(s);
    if (rc) {
        cli_error("%s", err.text);
        return CLI_FAIL;
    }
    return CLI_OK;
}
