/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* cmd_proofs.c — `covoit proofs export`: the carpool proofs of the trip database as JSON lines, one register
   journey document per line (web/proofs.h), for an operator who files them with the register another way than
   the server's own sending (docs/proofs.md). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "matcher/store.h"
#include "matcher/timeutil.h"
#include "web/proofs.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: covoit proofs export --db FILE [--from YYYY-MM-DD] [--to YYYY-MM-DD] [-o FILE]\n"
               "                            [--waiting] [--mark-filed]\n\n"
               "Writes the carpool proofs of rides whose pickup falls between --from and --to (local dates in the\n"
               "database's zone, both included; default: all) as JSON lines: each line one journey as the French\n"
               "register of carpool proofs (RPC, API v3, POST /v3.x/journeys) reads it, to stdout or -o FILE.\n"
               "A proof is written when both sides of an accepted booking completed one of its rides\n"
               "(POST /v1/bookings/ID/complete). --waiting: only those not acknowledged yet. --mark-filed: record\n"
               "the ones written as acknowledged, for an operator who files them with the register themselves\n"
               "(the server then stops sending them). A summary goes to stderr.\n");
}

static int parse_day(const char *opt, const char *text, cv_day *out)
{
    cv_error err = {0};
    if (cv_parse_date(text, out, &err))
        return cli_fail(CV_EINVAL, CLI_USAGE, "%s: %s", opt, err.text);
    return 0;
}

int cmd_proofs(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "export"))
        return cli_fail(CV_EINVAL, CLI_USAGE, "unknown proofs operation '%s' (export)", argv[1]);
    const char *db = NULL, *from_text = NULL, *to_text = NULL, *out_path = NULL;
    int waiting = 0, mark = 0;
    for (int i = 2; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--db") && i + 1 < argc) {
            db = argv[++i];
        } else if (!strcmp(argv[i], "--from") && i + 1 < argc) {
            from_text = argv[++i];
        } else if (!strcmp(argv[i], "--to") && i + 1 < argc) {
            to_text = argv[++i];
        } else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            out_path = argv[++i];
        } else if (!strcmp(argv[i], "--waiting")) {
            waiting = 1;
        } else if (!strcmp(argv[i], "--mark-filed")) {
            mark = 1;
        } else {
            return cli_fail(CV_EINVAL, CLI_USAGE, "unknown or incomplete option '%s' (try `covoit proofs --help`)",
                            argv[i]);
        }
    }
    if (!db)
        return cli_fail(CV_EINVAL, CLI_USAGE, "--db FILE is required");
    char why[600];
    int zst = cli_zone(NULL, db, 0, "--tz", why, sizeof why);
    if (zst)
        return cli_fail((zst == CLI_USAGE ? CV_EINVAL : CV_EZONE), zst, "%s", why);
    cv_day from_day = 0, to_day = 0;
    if ((from_text && parse_day("--from", from_text, &from_day)) || (to_text && parse_day("--to", to_text, &to_day)))
        return CLI_USAGE;
    if (from_text && to_text && to_day < from_day)
        return cli_fail(CV_EINVAL, CLI_USAGE, "--to %s is before --from %s", to_text, from_text);
    int64_t from = from_text ? cv_local_to_utc(from_day, 0) : INT64_MIN;
    int64_t to = to_text ? cv_local_to_utc(to_day + 1, 0) : INT64_MAX;
    cv_error err = {0};
    cv_store *s = NULL;
    if (cv_store_open(db, &s, &err))
        return cli_fail(err.code ? err.code : CV_EIO, CLI_FAIL, "%s", err.text);
    cv_proof *p = NULL;
    size_t n = 0;
    int rc = cv_store_list_proofs(s, from, to, NULL, &p, &n, &err);
    FILE *out = stdout;
    if (!rc && out_path && !(out = fopen(out_path, "w"))) {
        snprintf(err.text, sizeof err.text, "cannot write %s", out_path);
        rc = CV_EIO;
    }
    size_t written = 0, marked = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        if (waiting && p[i].done)
            continue;
        json_t *doc = web_proof_json(&p[i]);
        char *line = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
        json_decref(doc);
        if (!line || fprintf(out, "%s\n", line) < 0) {
            free(line);
            snprintf(err.text, sizeof err.text, "cannot write the proofs%s%s", out_path ? " to " : "",
                     out_path ? out_path : "");
            rc = CV_EIO;
            break;
        }
        free(line);
        written++;
    }
    if (out != stdout && fclose(out) && !rc) {
        snprintf(err.text, sizeof err.text, "cannot write %s", out_path);
        rc = CV_EIO;
    }
    /* marked once all of them are written out, so that a failed write marks none */
    for (size_t i = 0; !rc && mark && i < n; i++)
        if (!p[i].done &&
            !(rc = cv_store_proof_done(s, p[i].id, 0, "filed by the operator (covoit proofs export)", &err)))
            marked++;
    free(p);
    cv_store_close(s);
    if (rc)
        return cli_fail(rc, CLI_FAIL, "%s", err.text);
    fprintf(stderr, "%zu proofs written%s", written, out_path ? " to " : "");
    if (out_path)
        fprintf(stderr, "%s", out_path);
    if (mark)
        fprintf(stderr, ", %zu marked as filed", marked);
    fprintf(stderr, "\n");
    return CLI_OK;
}
