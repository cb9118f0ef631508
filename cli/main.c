/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* main.c — the covoit command: dispatches to subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

typedef struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} subcommand;

static const subcommand commands[] = {
    {"import", cmd_import, "read an OpenStreetMap file into a routing graph file"},
    {"route", cmd_route, "fastest route between two points, as OSRM-style JSON"},
    {"table", cmd_table, "durations and distances between many points, as an OSRM-style table"},
    {"info", cmd_info, "describe a graph file (and check it whole)"},
    {"offer", cmd_offer, "drivers' offers: add, list, show, cancel, matches"},
    {"request", cmd_request, "passengers' requests: add, list, show, cancel, matches"},
    {"book", cmd_book, "book seats for a request on an offer"},
    {"booking", cmd_booking, "accept, refuse, cancel or show a booking"},
    {"serve", cmd_serve, "HTTP server: OSRM-compatible routing endpoints"},
    {"key", cmd_key, "API keys of the server: add, list, revoke"},
    {"batch", cmd_batch, "the optimal carpool plan of a community of commuters (CSV in, plan and report out)"},
    {"partner", cmd_partner, "partner operators of the interoperability standard: add, list, remove"},
    {"export", cmd_export, "the open offers as a GTFS feed for trip planners (export gtfs)"},
    {"stats", cmd_stats, "open statistics of the territory by week and area, k-anonymous (JSON or CSV)"},
    {"proofs", cmd_proofs, "carpool proofs for public incentives as JSON lines (proofs export)"},
    {"backup", cmd_backup, "copy the trip database while the server runs (and restore a copy)"},
};

static void usage(FILE *f)
{
    fprintf(f, "covoit — cooperative carpool matcher on OpenStreetMap roads (no commission, no external API)\n\n"
               "usage: covoit SUBCOMMAND [ARGS...]\n\nsubcommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n`covoit SUBCOMMAND --help` says how to use each.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (cli_is_help(argv[1]) || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("covoit 0.1.0\n");
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    cli_error("unknown subcommand '%s' (try `covoit --help`)", argv[1]);
    return CLI_USAGE;
}
