/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* graph_build.h — import-time code: turns an in-memory OSM road network into a graph file. */
#ifndef CV_GRAPH_BUILD_H
#define CV_GRAPH_BUILD_H

#include <stdint.h>

#include "util/cv_error.h"
#include "util/cv_progress.h"
#include "routing/graph.h"
#include "osm/osm_network.h"

typedef struct cv_build_stats {
    uint64_t input_nodes, input_ways, input_relations;
    uint64_t routable_ways;
    uint64_t missing_nodes;              /* way node references with no location in the extract */
    uint32_t nodes, edges, arcs, points; /* nodes: routing nodes, junction copies included */
    uint32_t junctions, split_junctions;
    uint32_t mid_road_junctions;     /* junctions of two roads, split so that no route turns round there */
    uint32_t shortcuts;              /* contraction hierarchy shortcuts */
    uint32_t raw_edges;              /* edges before compressing degree-2 chains */
    uint32_t restrictions;           /* stored */
    uint32_t restrictions_via_way;   /* stored, with via ways */
    uint32_t restriction_states;     /* routing nodes added for via-way restrictions (beyond one per arriving arc) */
    uint64_t restrictions_malformed; /* members missing or of the wrong kind (read by the OSM reader) */
    uint64_t restrictions_off_graph; /* a member not on the car graph, or a path no car can drive */
    uint64_t restrictions_ambiguous; /* a from or to way passing through the via, and the turn not telling which part */
    uint64_t restrictions_dropped;   /* all of the above */
    uint32_t blocked_nodes[2];       /* nodes cars cannot pass on the graph: [0] barriers, [1] closed by access tags */
    uint32_t blocked_ends;           /* road ends added where those nodes cut the roads */
    uint64_t closed_ways[CV_CLOSED_COUNT]; /* road ways the profile closed, by reason */
    uint64_t rule_ways[CV_RULE_COUNT];     /* routable ways shaped by each CV_RULE_* */
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
    uint32_t nnodes; /* routing nodes: nn junctions plus copies */
    uint32_t narcs;
    uint32_t *out_first, *in_first;
    cv_arc *out_arcs, *in_arcs;
    cv_split *splits;
    uint32_t nsplits;
    uint32_t *split_in; /* arriving arcs of the split junctions (see cv_split) */
    uint32_t nsplit_in;
    uint32_t *copy_of; /* per copy (id - nn): the junction it copies */
    uint32_t nstates;  /* copies that are via-way restriction states */
    uint32_t nstarts;  /* copies for starting on a split junction (the state with no memory) */
} cv_arcs_out;

/* Builds the routing arcs of nedges edges over nn junctions: one arc per drivable direction, weighted by duration
   plus the no-through penalty. Turn restrictions (restr, their arcs in rarcs) are compiled into the graph as a
   small automaton: every junction where a restriction's prefix ends (a via node; the ends of via ways) is split
   into one node per arriving arc, plus one node per state of a longer restriction prefix reaching it, and each
   node keeps only the turns allowed there (no U-turn back along the arriving road either). force_split (NULL,
   or one byte per junction) splits more junctions the same way, for their U-turn ban alone. Returns 0 or
   CV_ENOMEM; free with cv_arcs_free. */
int cv_build_arcs(const cv_edge *edges, uint32_t nedges, uint32_t nn, const cv_restriction *restr, uint32_t nr,
                  const uint32_t *rarcs, const uint8_t *force_split, cv_arcs_out *out);
void cv_arcs_free(cv_arcs_out *o);

#endif
