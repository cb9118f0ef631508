/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* cmd_info.c — `covoit info GRAPH`: the header of a graph file as JSON, after a full check of the file. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "cli/cli.h"
#include "routing/hub_labels.h"
#include "web/osrm_json.h"

int cmd_info(int argc, char **argv)
{
    if (argc != 2 || cli_is_help(argv[1])) {
        fprintf(
            argc == 2 ? stdout : stderr,
            "usage: covoit info GRAPH\n\nChecks GRAPH whole (checksums, bounds) and prints its header as JSON, with\n"
            "the memory the hub labels of `covoit serve` would take (estimated from 256 search spaces, in MB:\n"
            "what --hub-labels-mb must allow).\n");
        return argc == 2 ? CLI_OK : CLI_USAGE;
    }
    cv_error err = {0};
    cv_graph *g = cv_graph_open(argv[1], &err);
    if (!g) {
        cli_error("%s", err.text);
        return CLI_FAIL;
    }
    const cv_graph_header *h = &g->hdr;
    char built[32];
    time_t t = (time_t)h->created_unix;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(built, sizeof built, "%Y-%m-%dT%H:%M:%SZ", &tm); /* ISO 8601, as every time covoit writes */
    json_t *doc = json_pack(
        "{s:s,s:i,s:i,s:s,s:s,s:s,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I},s:{s:I,s:I,s:I},s:[ffff],s:I}", "code",
        osrm_word(OSRM_OK), "format_version", (int)h->version, "profile_version", (int)h->profile_version, "source",
        h->source, "osm_timestamp", h->osm_timestamp, "created", built, "graph", "nodes", (json_int_t)h->nnodes,
        "edges", (json_int_t)h->nedges, "arcs", (json_int_t)h->narcs, "points", (json_int_t)h->npoints, "restrictions",
        (json_int_t)h->nrestrictions, "components", (json_int_t)h->ncomponents, "largest_component_nodes",
        (json_int_t)(h->ncomponents ? g->a.component_size[h->largest_component] : 0), "input", "nodes",
        (json_int_t)h->input_nodes, "ways", (json_int_t)h->input_ways, "relations", (json_int_t)h->input_relations,
        "bbox", cv_deg(h->bbox[0]), cv_deg(h->bbox[1]), cv_deg(h->bbox[2]), cv_deg(h->bbox[3]), "file_size",
        (json_int_t)h->file_size);
    /* what `covoit serve` would need for its hub labels, so that --hub-labels-mb can be chosen before starting it */
    double est_mb = (double)cv_hub_labels_estimate(g, 128) / 1048576.0;
    json_object_set_new(doc, "hub_labels", json_pack("{s:f}", "estimated_mb", round(est_mb * 10.0) / 10.0));
    cli_print_json(doc);
    cv_graph_close(g);
    return CLI_OK;
}
