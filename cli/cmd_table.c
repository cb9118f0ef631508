/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* cmd_table.c — `covoit table GRAPH --sources ... --destinations ...`: an OSRM-style table of durations and
   distances, computed many-to-many on the contraction hierarchy. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routing/ch.h"
#include "cli/cli.h"

#define TABLE_MAX_POINTS 10000

static void usage(FILE *f)
{
    fprintf(f,
            "usage: covoit table GRAPH --sources LON,LAT;LON,LAT;... [--destinations LON,LAT;...] [--max-snap M]\n\n"
            "Prints an OSRM table response: durations (s) and distances (m) from every source to every\n"
            "destination (null where there is no route), with the snapped sources and destinations. Without\n"
            "--destinations the sources are used as destinations too. At most %d points a side.\n",
            TABLE_MAX_POINTS);
}

/* Parses "lon,lat;lon,lat;..." into a new array; returns the count, or -1 with msg filled. */
static long parse_points(const char *text, cv_coord **out, char *msg, size_t cap)
{
    size_t n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ';';
    if (n > TABLE_MAX_POINTS) {
        snprintf(msg, cap, "too many points (%zu, at most %d)", n, TABLE_MAX_POINTS);
        return -2;
    }
    cv_coord *c = malloc(n * sizeof *c);
    char *copy = strdup(text);
    if (!c || !copy) {
        free(c), free(copy);
        snprintf(msg, cap, "out of memory");
        return -1;
    }
    size_t k = 0;
    char *save = NULL;
    for (char *tok = copy;; tok = NULL) {
        char *item = strtok_r(tok, ";", &save);
        if (!item)
            break;
        if (cv_parse_lonlat(item, &c[k])) {
            snprintf(msg, cap, "'%.100s' is not a coordinate: give LON,LAT in decimal degrees", item);
            free(c), free(copy);
            return -1;
        }
        k++;
    }
    free(copy);
    if (k != n) {
        snprintf(msg, cap, "empty coordinate in '%.100s'", text);
        free(c);
        return -1;
    }
    *out = c;
    return (long)k;
}

static json_t *snaps_json(const cv_graph *g, const cv_snap *s, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, osrm_json_waypoint(g, &s[i]));
    return a;
}

int cmd_table(int argc, char **argv)
{
    const char *graph = NULL, *srcs = NULL, *dsts = NULL;
    cv_snap_options sopt = cv_snap_defaults();
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--sources") && i + 1 < argc) {
            srcs = argv[++i];
        } else if (!strcmp(argv[i], "--destinations") && i + 1 < argc) {
            dsts = argv[++i];
        } else if (!strcmp(argv[i], "--max-snap") && i + 1 < argc) {
            char *end;
            sopt.max_distance_m = strtod(argv[++i], &end);
            if (*end || !(sopt.max_distance_m > 0 && sopt.max_distance_m <= 100000))
                return cli_fail_json(CV_EINVAL, "--max-snap must be a distance in metres between 0 and 100000",
                                     CLI_USAGE);
        } else if (argv[i][0] == '-') {
            char msg[300];
            snprintf(msg, sizeof msg, "unknown or incomplete option '%.200s'", argv[i]);
            return cli_fail_json(CV_EINVAL, msg, CLI_USAGE);
        } else if (!graph) {
            graph = argv[i];
        } else {
            return cli_fail_json(CV_EINVAL, "table takes one graph file", CLI_USAGE);
        }
    }
    if (!graph || !srcs) {
        usage(stderr);
        return CLI_USAGE;
    }
    char msg[300];
    cv_coord *cs = NULL, *cd = NULL;
    long ns = parse_points(srcs, &cs, msg, sizeof msg), nd;
    if (ns < 0)
        return cli_fail_json(ns == -2 ? CV_ETOOBIG : CV_EINVAL, msg, CLI_USAGE);
    nd = dsts ? parse_points(dsts, &cd, msg, sizeof msg) : ns;
    if (nd < 0) {
        free(cs);
        return cli_fail_json(nd == -2 ? CV_ETOOBIG : CV_EINVAL, msg, CLI_USAGE);
    }
    cv_error err = {0};
    cv_graph *g = cv_graph_open(graph, &err);
    int rc = CLI_OK;
    cv_snap *ss = calloc((size_t)ns, sizeof *ss), *sd = calloc((size_t)nd, sizeof *sd);
    cv_table_cell *cells = malloc((size_t)ns * (size_t)nd * sizeof *cells);
    cv_ch_query *q = NULL;
    if (!g)
        rc = cli_fail_json(err.code, err.text, CLI_FAIL);
    else if (!ss || !sd || !cells || !(q = cv_ch_query_new(g)))
        rc = cli_fail_json(CV_ENOMEM, "out of memory", CLI_FAIL);
    for (long i = 0; rc == CLI_OK && i < ns; i++)
        if (cv_snap_point(g, cs[i], &sopt, &ss[i], &err))
            rc = cli_fail_json(err.code, err.text, CLI_FAIL);
    for (long i = 0; rc == CLI_OK && i < nd; i++)
        if (cv_snap_point(g, dsts ? cd[i] : cs[i], &sopt, &sd[i], &err))
            rc = cli_fail_json(err.code, err.text, CLI_FAIL);
    if (rc == CLI_OK && cv_ch_table(q, ss, (size_t)ns, sd, (size_t)nd, cells, &err))
        rc = cli_fail_json(err.code, err.text, CLI_FAIL);
    if (rc == CLI_OK) {
        json_t *doc = json_pack("{s:s}", "code", osrm_word(OSRM_OK));
        if (!doc || osrm_json_table_set(doc, cells, (size_t)ns, (size_t)nd, 1, 1) ||
            json_object_set_new(doc, "sources", snaps_json(g, ss, (size_t)ns)) ||
            json_object_set_new(doc, "destinations", snaps_json(g, sd, (size_t)nd))) {
            json_decref(doc);
            rc = cli_fail_json(CV_ENOMEM, "out of memory", CLI_FAIL);
        } else {
            cli_print_json(doc);
        }
    }
    free(cs), free(cd), free(ss), free(sd), free(cells);
    cv_ch_query_free(q);
    cv_graph_close(g);
    return rc;
}
