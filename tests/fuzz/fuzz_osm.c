/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* fuzz_osm.c — the OSM importer as `covoit import` runs it (cli/cmd_import.c): bytes → a file named
   in.osm (fuzz_osm_xml) or in.osm.pbf (fuzz_osm_pbf), for libosmium picks the format by the name → the reader and
   the car profile (cv_network_read) → the graph builder (cv_graph_build: restrictions, split junctions,
   components, contraction hierarchy, grid, the file written) → cv_graph_open.

   Bad input must be refused with an error, never crash or hang, and never be an internal error (CV_EINTERNAL is
   an invariant that did not hold). A graph built from any input must open (the builder writes only what the
   loader accepts), and its three routers must agree: between junctions of the graph, Dijkstra, the contraction
   hierarchy and hub labels find a route or not alike, of the same weight. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routing/ch.h"
#include "fuzz_util.h"
#include "routing/graph.h"
#include "routing/graph_build.h"
#include "routing/hub_labels.h"
#include "osm/osm_network.h"
#include "routing/route.h"
#include "routing/snap.h"

#ifndef FUZZ_OSM_EXT
#error "FUZZ_OSM_EXT: the input file's extension, \".osm\" or \".osm.pbf\""
#endif

/* Routes between junctions a and b three ways; they must agree. */
static void compare_routers(const cv_graph *g, cv_dijkstra *dij, cv_ch_query *ch, cv_ch_query *hq, uint32_t a,
                            uint32_t b, cv_path p[3])
{
    cv_snap_options so = cv_snap_defaults();
    cv_snap s, t;
    if (cv_snap_point(g, g->a.node_coord[a], &so, &s, NULL) || cv_snap_point(g, g->a.node_coord[b], &so, &t, NULL))
        return;
    cv_error err = {0};
    int rc[3] = {cv_dijkstra_route(dij, &s, &t, &p[0], &err), cv_ch_route(ch, &s, &t, &p[1], &err),
                 cv_ch_route(hq, &s, &t, &p[2], &err)};
    static const char *const names[3] = {"Dijkstra", "CH", "hub labels"};
    for (int k = 0; k < 3; k++)
        if (rc[k] && rc[k] != CV_ENOROUTE)
            fz_fail("%s route from junction %u to %u: error %d: %s", names[k], a, b, rc[k], err.text);
    for (int k = 1; k < 3; k++) {
        if ((rc[k] == 0) != (rc[0] == 0))
            fz_fail("junction %u to %u: %s %s a route, Dijkstra %s", a, b, names[k], rc[k] ? "finds no" : "finds",
                    rc[0] ? "none" : "one");
        if (rc[0] == 0 && p[k].weight != p[0].weight)
            fz_fail("junction %u to %u: %s weight %u, Dijkstra %u", a, b, names[k], p[k].weight, p[0].weight);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[512], out[512];
    fz_path(in, sizeof in, "in" FUZZ_OSM_EXT);
    fz_path(out, sizeof out, "out.cvg");
    fz_write_file(in, data, size);
    cv_network net;
    cv_error err = {0};
    cv_profile_options po = cv_profile_defaults();
    int rc = cv_network_read(in, &po, NULL, &net, &err);
    if (rc == CV_EINTERNAL)
        fz_fail("reading: internal error: %s", err.text);
    if (rc)
        return 0;
    rc = cv_graph_build(&net, in, out, NULL, NULL, &err);
    cv_network_free(&net);
    if (rc == CV_EINTERNAL)
        fz_fail("building: internal error: %s", err.text);
    if (rc)
        return 0;
    cv_graph *g = cv_graph_open(out, &err);
    if (!g)
        fz_fail("the graph built from the input does not open: %s", err.text);
    cv_dijkstra *dij = cv_dijkstra_new(g);
    cv_ch_query *ch = cv_ch_query_new(g), *hq = cv_ch_query_new(g);
    cv_hub_labels *hl = NULL;
    if (!dij || !ch || !hq || cv_hub_labels_build(g, 1, 0, NULL, &hl, &err) || cv_ch_use_labels(hq, hl))
        fz_fail("routers on the built graph: %s", err.text[0] ? err.text : "out of memory");
    uint32_t nj = g->hdr.njunctions;
    cv_path p[3] = {{0}};
    if (nj) {
        /* a few pairs spread over the junctions, both ways */
        uint32_t pick[4] = {0, nj / 3, 2 * nj / 3, nj - 1};
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                if (pick[i] != pick[j])
                    compare_routers(g, dij, ch, hq, pick[i], pick[j], p);
    }
    for (int k = 0; k < 3; k++)
        cv_path_free(&p[k]);
    cv_ch_query_free(hq);
    cv_ch_query_free(ch);
    cv_hub_labels_free(hl);
    cv_dijkstra_free(dij);
    cv_graph_close(g);
    return 0;
}
