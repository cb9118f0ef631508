/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* cmd_route.c — `covoit route GRAPH LON,LAT LON,LAT`: one route as an OSRM-shaped JSON document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routing/ch.h"
#include "cli/cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: covoit route GRAPH LON,LAT LON,LAT [--geometry polyline|polyline6|geojson] [--max-snap METRES]\n"
            "                    [--algorithm ch|dijkstra] [--steps]\n\n"
            "Prints the fastest car route between the two points (lon,lat order, as in OSRM) as an OSRM route\n"
            "response on stdout: code, routes[0] (distance in m, duration in s, geometry) and waypoints. Points\n"
            "farther than --max-snap (default 300 m) from a road give NoSegment; unconnected points NoRoute.\n"
            "On error the JSON carries code and message, the message also goes to stderr, and the exit is 1.\n"
            "Routes come from the contraction hierarchy; --algorithm dijkstra answers the same with plain Dijkstra.\n"
            "--steps adds turn-by-turn steps and the summary to the leg, as OSRM's steps=true does.\n");
}

int cmd_route(int argc, char **argv)
{
    const char *graph = NULL, *pts[2] = {NULL, NULL};
    int npts = 0, geometry = OSRM_GEOM_POLYLINE, use_dijkstra = 0, steps = 0;
    cv_snap_options sopt = cv_snap_defaults();
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--geometry") || !strcmp(argv[i], "--geometries")) {
            const char *v = ++i < argc ? argv[i] : "";
            if (!strcmp(v, "polyline"))
                geometry = OSRM_GEOM_POLYLINE;
            else if (!strcmp(v, "polyline6"))
                geometry = OSRM_GEOM_POLYLINE6;
            else if (!strcmp(v, "geojson"))
                geometry = OSRM_GEOM_GEOJSON;
            else
                return cli_fail_json(CV_EINVAL, "--geometry must be polyline, polyline6 or geojson", CLI_USAGE);
        } else if (!strcmp(argv[i], "--steps")) {
            steps = 1;
        } else if (!strcmp(argv[i], "--algorithm")) {
            const char *v = ++i < argc ? argv[i] : "";
            if (!strcmp(v, "ch"))
                use_dijkstra = 0;
            else if (!strcmp(v, "dijkstra"))
                use_dijkstra = 1;
            else
                return cli_fail_json(CV_EINVAL, "--algorithm must be ch or dijkstra", CLI_USAGE);
        } else if (!strcmp(argv[i], "--max-snap")) {
            char *end = NULL;
            const char *v = ++i < argc ? argv[i] : "";
            sopt.max_distance_m = strtod(v, &end);
            if (!*v || *end || !(sopt.max_distance_m > 0 && sopt.max_distance_m <= 100000))
                return cli_fail_json(CV_EINVAL, "--max-snap must be a distance in metres between 0 and 100000",
                                     CLI_USAGE);
        } else if (argv[i][0] == '-' && !(argv[i][1] >= '0' && argv[i][1] <= '9') && argv[i][1] != '.') {
            char msg[300];
            snprintf(msg, sizeof msg, "unknown option '%.200s'", argv[i]);
            return cli_fail_json(CV_EINVAL, msg, CLI_USAGE);
        } else if (!graph) {
            graph = argv[i];
        } else if (npts < 2) {
            pts[npts++] = argv[i];
        } else {
            return cli_fail_json(CV_EINVAL, "route takes exactly two points", CLI_USAGE);
        }
    }
    if (!graph || npts != 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    cv_coord c[2];
    for (int k = 0; k < 2; k++) {
        if (cv_parse_lonlat(pts[k], &c[k])) {
            char msg[400];
            snprintf(msg, sizeof msg, "'%.200s' is not a coordinate: give LON,LAT in decimal degrees", pts[k]);
            return cli_fail_json(CV_EINVAL, msg, CLI_USAGE);
        }
    }
    cv_error err = {0};
    cv_graph *g = cv_graph_open(graph, &err);
    if (!g)
        return cli_fail_json(err.code, err.text, CLI_FAIL);
    cv_snap s[2];
    int rc = CLI_OK;
    cv_dijkstra *w = NULL;
    cv_ch_query *chq = NULL;
    cv_path path = {0};
    for (int k = 0; k < 2 && rc == CLI_OK; k++)
        if (cv_snap_point(g, c[k], &sopt, &s[k], &err))
            rc = cli_fail_json(err.code, err.text, CLI_FAIL);
    if (rc == CLI_OK && !(use_dijkstra ? (void *)(w = cv_dijkstra_new(g)) : (void *)(chq = cv_ch_query_new(g))))
        rc = cli_fail_json(CV_ENOMEM, "out of memory", CLI_FAIL);
    if (rc == CLI_OK &&
        (use_dijkstra ? cv_dijkstra_route(w, &s[0], &s[1], &path, &err) : cv_ch_route(chq, &s[0], &s[1], &path, &err)))
        rc = cli_fail_json(err.code, err.text, CLI_FAIL);
    if (rc == CLI_OK) {
        json_t *route = osrm_json_route(g, &path, geometry, steps);
        if (!route) {
            rc = cli_fail_json(CV_ENOMEM, "out of memory", CLI_FAIL);
        } else {
            cli_print_json(json_pack("{s:s,s:[o],s:[oo]}", "code", osrm_word(OSRM_OK), "routes", route, "waypoints",
                                     osrm_json_waypoint(g, &s[0]), osrm_json_waypoint(g, &s[1])));
        }
    }
    cv_path_free(&path);
    cv_dijkstra_free(w);
    cv_ch_query_free(chq);
    cv_graph_close(g);
    return rc;
}
