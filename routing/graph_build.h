/* graph_build.h — import-time code: turns an in-memory OSM road network into a graph file. */
#ifndef CV_GRAPH_BUILD_H
#define CV_GRAPH_BUILD_H

#include <stdint.h>

#include "cv_error.h"
#include "cv_progress.h"
#include "osm_network.h"

typedef struct cv_build_stats {
    uint64_t input_nodes, input_ways, input_relations;
    uint64_t routable_ways;
    uint64_t missing_nodes;          /* way node references with no location in the extract */
    uint32_t nodes, edges, arcs, points;
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

#endif
