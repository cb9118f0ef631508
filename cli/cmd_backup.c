/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* cmd_backup.c — `covoit backup --db FILE -o COPY`: a consistent copy of the trip database while the server runs,
   checked before it takes the copy's name; the same command restores a copy over a stopped server's database. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matcher/backup.h"
#include "matcher/store.h"
#include "cli/cli.h"
#include "util/cv_progress.h"
#include "web/osrm_json.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: covoit backup --db FILE -o COPY [--force] [--step PAGES] [--pause MS] [--progress]\n\n"
            "Copies the trip database FILE to COPY as it is at one instant, while `covoit serve` may go on writing\n"
            "it (SQLite's online backup over one read snapshot). The copy is written under a temporary name next\n"
            "to COPY, checked (PRAGMA integrity_check; covoit's application id, schema version and tables), synced,\n"
            "then renamed to COPY: COPY never holds a partial copy. Prints one JSON document (pages, bytes, counts of "
            "offers,\n"
            "requests and bookings); progress goes to stderr when it is a terminal (--progress forces it).\n"
            "  --force        replace an existing COPY (refused while a server has it open)\n"
            "  --step PAGES   pages copied per step (256; 0: all in one step)\n"
            "  --pause MS     sleep between steps (0), to leave the disk to the server\n"
            "Restore: stop the server, then `covoit backup --db COPY -o FILE --force` (it takes over FILE's\n"
            "write-ahead log so that the old database's last commits cannot be replayed onto the copy), and start\n"
            "the server again.\n");
}

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    cv_progress_update(ctx, done, total);
}

/* A whole number from lo to hi, or -1 */
static long parse_count(const char *text, long lo, long hi)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    return end != text && !*end && v >= lo && v <= hi ? v : -1;
}

int cmd_backup(int argc, char **argv)
{
    const char *db = NULL, *out = NULL;
    int force_progress = 0;
    cv_backup_options opt = cv_backup_defaults();
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--db") || !strcmp(argv[i], "-o") || !strcmp(argv[i], "--output") ||
                   !strcmp(argv[i], "--step") || !strcmp(argv[i], "--pause")) {
            if (i + 1 >= argc) {
                cli_error("backup: %s needs a value", argv[i]);
                return CLI_USAGE;
            }
            const char *opt_name = argv[i++], *v = argv[i];
            if (!strcmp(opt_name, "--db")) {
                db = v;
            } else if (!strcmp(opt_name, "--step")) {
                long n = parse_count(v, 0, INT_MAX);
                if (n < 0) {
                    cli_error("backup: --step must be a whole number of pages, 0 or more, not '%s'", v);
                    return CLI_USAGE;
                }
                opt.pages_per_step = (int)n;
            } else if (!strcmp(opt_name, "--pause")) {
                long n = parse_count(v, 0, 60000);
                if (n < 0) {
                    cli_error("backup: --pause must be a whole number of milliseconds from 0 to 60000, not '%s'", v);
                    return CLI_USAGE;
                }
                opt.pause_ms = (int)n;
            } else {
                out = v;
            }
        } else if (!strcmp(argv[i], "--force")) {
            opt.force = 1;
        } else if (!strcmp(argv[i], "--progress")) {
            force_progress = 1;
        } else {
            cli_error("backup: unknown option or argument '%s'", argv[i]);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (!db || !out) {
        cli_error("backup: --db FILE and -o COPY are required");
        usage(stderr);
        return CLI_USAGE;
    }
    if (cv_store_is_postgres(db) || cv_store_is_postgres(out)) {
        cli_error("backup: copies an SQLite trip database; a PostgreSQL one is backed up with PostgreSQL's own tools "
                  "(pg_dump, or continuous archiving and base backups: docs/deploy.md)");
        return CLI_USAGE;
    }
    cv_progress prog;
    cv_progress_init(&prog, force_progress);
    cv_progress_phase(&prog, "copying the database");
    opt.progress = on_progress;
    opt.progress_ctx = &prog;
    cv_backup_stats st;
    cv_error err = {0};
    int rc = cv_backup_run(db, out, &opt, &st, &err);
    if (rc) {
        if (prog.enabled)
            fputc('\n', stderr); /* end the progress line before the message */
        prog.phase = NULL;
        cli_error("%s", err.text);
        return CLI_FAIL;
    }
    cv_progress_done(&prog);
    cli_print_json(json_pack("{s:s,s:s,s:s,s:i,s:I,s:I,s:I,s:I,s:I,s:f}", "code", osrm_word(OSRM_OK), "db", db, "copy",
                             out, "schema_version", st.schema_version, "pages", (json_int_t)st.pages, "bytes",
                             (json_int_t)st.bytes, "offers", (json_int_t)st.offers, "requests", (json_int_t)st.requests,
                             "bookings", (json_int_t)st.bookings, "seconds", st.seconds));
    return CLI_OK;
}
