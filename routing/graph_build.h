/* graph_build.h — import-time code: turns an in-memory OSM road network into a graph file. */
#ifndef CV_GRAPH_BUILD_H
#define CV_GRAPH_BUILD_H

#include <stdint.h>

#include "cv_error.h"
#include "cv_progress.h"
#include "graph.h"
#include "osm_network.h"

typedef struct cv_build_stats {
    uint64_t input_nodes, input_ways, input_relations;
    uint64_t routable_ways;
    uint64_t missing_nodes;          /* way node references with no location in the extract */
    uint32_t nodes, edges, arcs, points;   /* nodes: routing nodes, junction copies included */
    uint32_t junctions, split_junctions;
    uint32_t shortcuts;              /* contraction hierarchy shortcuts */
    uint32_t raw_edges;              /* edges before compressing degree-2 chains */
    uint32_t restrictions;           /* stored */
    uint64_t restrictions_dropped;   /* via-way, ambiguous or not matching the graph */
    uint32_t components, largest_component_nodes;
    uint64_t file_size;
} cv_build_stats;

/* Builds the graph of net and writes it to out_path. source_name is recorded in the header (its base name).
   progress and stats may be NULL. Returns 0 or a CV_E* code with err filled; an extract with no routable road
   is an error (CV_EFORMAT), never an empty graph. */
int cv_graph_build(const cv_network *net, const char *source_name, const char *out_path, cv_progress *progress,
                   cv_build_stats *stats, cv_error *err);

/* Routing arcs built from edges and restrictions (import time). */
typedef struct cv_arcs_out {
    uint32_t nnodes;            /* routing nodes: nn junctions plus copies */
    uint32_t narcs;
    uint32_t *out_first, *in_first;
    cv_arc *out_arcs, *in_arcs;
    cv_split *splits;
    uint32_t nsplits;
    uint32_t *copy_of;          /* per copy (id - nn): the junction it copies */
} cv_arcs_out;

/* Builds the routing arcs of nedges edges over nn junctions: one arc per drivable direction, weighted by duration
   plus the no-through penalty; junctions that are the via node of a restriction are split into one node per
   incoming arc, and turns (including U-turns) that a restriction forbids are left out. restr is sorted in place.
   Returns 0 or CV_ENOMEM; free with cv_arcs_free. */
int cv_build_arcs(const cv_edge *edges, uint32_t nedges, uint32_t nn, cv_restriction *restr, uint32_t nr,
                  cv_arcs_out *out);
void cv_arcs_free(cv_arcs_out *o);

#endif
