/* cmd_import.c — `covoit import INPUT -o GRAPH`: OSM file to graph file, with progress and a summary. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cv_progress.h"
#include "graph_build.h"
#include "osm_network.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: covoit import INPUT -o GRAPH [--no-ferries] [--progress] [--quiet]\n\n"
               "Reads INPUT (.osm.pbf, .osm or .osm.bz2; sorted or not) with the car profile and writes the routing\n"
               "graph file GRAPH. Progress goes to stderr when it is a terminal (--progress forces it), then a\n"
               "summary (--quiet drops it).\n");
}

int cmd_import(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    int force_progress = 0, quiet = 0;
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
    if (!quiet) {
        fprintf(stderr,
                "imported %s in %.2f s%s\n"
                "  input:        %llu nodes, %llu ways, %llu relations; %llu routable ways\n"
                "  graph:        %u junctions (+%u copies at %u restricted junctions), %u edges (%u before compressing\n"
                "                chains), %u arcs, %u geometry points, %u hierarchy shortcuts\n"
                "  restrictions: %u stored, %llu dropped (via ways, ambiguous or off the graph)\n"
                "  components:   %u strongly connected, the largest has %u routing nodes (%.1f%%)\n"
                "  missing:      %llu way node references without a location\n"
                "  file:         %s, %.1f MB\n",
                in, cv_now() - t0, sorted ? "" : " (input was not sorted: locations were sorted in memory)",
                (unsigned long long)st.input_nodes, (unsigned long long)st.input_ways,
                (unsigned long long)st.input_relations, (unsigned long long)st.routable_ways, st.junctions,
                st.nodes - st.junctions, st.split_junctions, st.edges, st.raw_edges, st.arcs, st.points, st.shortcuts, st.restrictions, (unsigned long long)st.restrictions_dropped,
                st.components, st.largest_component_nodes,
                st.nodes ? 100.0 * st.largest_component_nodes / st.nodes : 0.0, (unsigned long long)st.missing_nodes,
                out, st.file_size / 1e6);
    }
    return CLI_OK;
}
