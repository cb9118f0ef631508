/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* cmd_import.c — `covoit import INPUT -o GRAPH`: OSM file to graph file, with progress and a summary. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/cv_progress.h"
#include "routing/graph_build.h"
#include "osm/osm_network.h"
#include "places/places.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: covoit import INPUT -o GRAPH [--no-ferries] [--places FILE | --no-places] [--progress] "
               "[--quiet]\n\n"
               "Reads INPUT (.osm.pbf, .osm or .osm.bz2; sorted or not) with the car profile and writes the routing\n"
               "graph file GRAPH, and the place index `covoit serve` answers /v1/places from (streets, house numbers,\n"
               "named places, points of interest, stops): beside the graph as GRAPH.places, or in FILE (--places):\n"
               "a file of its own, or the trip database (an SQLite database of covoit's, written in one transaction\n"
               "while a server may use it), which `covoit serve --db` then finds there. --no-places skips it.\n"
               "Progress goes to stderr when it is a terminal (--progress forces it), then a summary (--quiet drops "
               "it).\n");
}

int cmd_import(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *places_to = NULL;
    int force_progress = 0, quiet = 0, places = 1;
    cv_profile_options popt = cv_profile_defaults();
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
            if (++i >= argc) {
                cli_error("import: -o needs a file name");
                return CLI_USAGE;
            }
            out = argv[i];
        } else if (!strcmp(argv[i], "--no-ferries")) {
            popt.ferries = 0;
        } else if (!strcmp(argv[i], "--no-places")) {
            places = 0;
        } else if (!strcmp(argv[i], "--places")) {
            if (++i >= argc || !*argv[i]) {
                cli_error("import: --places needs a file name");
                return CLI_USAGE;
            }
            places_to = argv[i];
        } else if (!strcmp(argv[i], "--progress")) {
            force_progress = 1;
        } else if (!strcmp(argv[i], "--quiet")) {
            quiet = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            cli_error("import: unknown option '%s'", argv[i]);
            usage(stderr);
            return CLI_USAGE;
        } else if (!in) {
            in = argv[i];
        } else {
            cli_error("import: more than one input file ('%s')", argv[i]);
            return CLI_USAGE;
        }
    }
    if (!in || !out) {
        usage(stderr);
        return CLI_USAGE;
    }
    double t0 = cv_now();
    cv_progress prog;
    cv_progress_init(&prog, force_progress);
    if (quiet)
        prog.enabled = 0;
    cv_error err = {0};
    cv_network net;
    if (cv_network_read(in, &popt, &prog, &net, &err)) {
        cv_progress_done(&prog);
        cli_error("%s", err.text);
        return CLI_FAIL;
    }
    cv_build_stats st;
    int rc = cv_graph_build(&net, in, out, &prog, &st, &err);
    cv_progress_done(&prog);
    int sorted = net.input_sorted;
    cv_network_free(&net);
    if (rc) {
        cli_error("%s", err.text);
        return CLI_FAIL;
    }
    char places_path[4200];
    cv_places_stats ps = {0};
    if (places) {
        if (places_to)
            snprintf(places_path, sizeof places_path, "%s", places_to);
        else
            cv_places_path_for(out, places_path, sizeof places_path);
        cv_progress_init(&prog, force_progress);
        if (quiet)
            prog.enabled = 0;
        if (cv_places_build(in, places_path, &prog, &ps, &err)) {
            cv_progress_done(&prog);
            cli_error("%s", err.text);
            return CLI_FAIL;
        }
    }
    if (!quiet) {
        const uint64_t *cw = st.closed_ways, *rw = st.rule_ways;
        fprintf(stderr,
                "imported %s in %.2f s%s\n"
                "  input:        %llu nodes, %llu ways, %llu relations; %llu routable ways\n"
                "  ways closed:  access %llu, construction %llu, proposed %llu, oneway=reversible %llu, physical\n"
                "                limits %llu\n"
                "  ways shaped:  one direction closed by directional access %llu, by a physical limit %llu;\n"
                "                oneway for cars only %llu; oneway=alternating %llu; opened by car access %llu\n"
                "  nodes closed: %u barriers, %u by access tags (%u road ends added where they cut a road)\n"
                "  graph:        %u junctions (+%u copies at %u split junctions, %u of them mid-road), %u edges\n"
                "                (%u before compressing chains), %u arcs, %u geometry points, %u shortcuts\n"
                "  restrictions: %u stored (%u via ways, adding %u states), %llu dropped (%llu malformed, %llu off\n"
                "                the car graph, %llu ambiguous)\n"
                "  components:   %u strongly connected, the largest has %u routing nodes (%.1f%%)\n"
                "  missing:      %llu way node references without a location\n"
                "  file:         %s, %.1f MB\n",
                in, cv_now() - t0, sorted ? "" : " (input was not sorted: locations were sorted in memory)",
                (unsigned long long)st.input_nodes, (unsigned long long)st.input_ways,
                (unsigned long long)st.input_relations, (unsigned long long)st.routable_ways,
                (unsigned long long)cw[CV_CLOSED_ACCESS], (unsigned long long)cw[CV_CLOSED_CONSTRUCTION],
                (unsigned long long)cw[CV_CLOSED_PROPOSED], (unsigned long long)cw[CV_CLOSED_REVERSIBLE],
                (unsigned long long)cw[CV_CLOSED_PHYSICAL], (unsigned long long)rw[0], (unsigned long long)rw[3],
                (unsigned long long)rw[1], (unsigned long long)rw[2], (unsigned long long)rw[4], st.blocked_nodes[0],
                st.blocked_nodes[1], st.blocked_ends, st.junctions, st.nodes - st.junctions, st.split_junctions,
                st.mid_road_junctions, st.edges, st.raw_edges, st.arcs, st.points, st.shortcuts, st.restrictions,
                st.restrictions_via_way, st.restriction_states, (unsigned long long)st.restrictions_dropped,
                (unsigned long long)st.restrictions_malformed, (unsigned long long)st.restrictions_off_graph,
                (unsigned long long)st.restrictions_ambiguous, st.components, st.largest_component_nodes,
                st.nodes ? 100.0 * st.largest_component_nodes / st.nodes : 0.0, (unsigned long long)st.missing_nodes,
                out, st.file_size / 1e6);
        if (places)
            fprintf(stderr,
                    "  places:       %zu streets, %zu addresses, %zu settlements, %zu stops, %zu points of interest\n"
                    "                in %s (%.2f s)\n",
                    ps.streets, ps.addresses, ps.settlements, ps.stops, ps.pois, places_path, ps.seconds);
    }
    return CLI_OK;
}
