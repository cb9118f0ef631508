/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* graph.h — the routing graph file: format, writing, and read-only mmapped access with full validation. */
#ifndef CV_GRAPH_H
#define CV_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "util/cv_error.h"
#include "routing/geo.h"

#define CV_GRAPH_MAGIC "COVOITGR" /* 8 bytes, no NUL */
#define CV_GRAPH_VERSION 5        /* bump on any layout change; older and newer files are refused */
#define CV_GRAPH_ALIGN 64         /* every section starts on a 64-byte boundary */

/* Weight added when entering a no-through-traffic road (private, destination, ...) from a road open to all.
   Routes may start or end on such roads, but crossing one costs more than any detour in a metropolitan area, so
   they are never crossed to save time. Weights are what routes minimise; durations are what they report. */
#define CV_NO_THROUGH_PENALTY 1000000u /* deciseconds (about 28 hours) */

/* Edge flags. */
enum {
    CV_EDGE_FORWARD = 1u << 0,    /* drivable from u to v */
    CV_EDGE_BACKWARD = 1u << 1,   /* drivable from v to u */
    CV_EDGE_NO_THROUGH = 1u << 2, /* destination-only road */
    CV_EDGE_FERRY = 1u << 3,
    CV_EDGE_ROUNDABOUT = 1u << 4, /* part of a roundabout (junction=roundabout or circular) */
    CV_EDGE_ALL_FLAGS = (1u << 5) - 1
};

/* A road edge: a chain of OSM nodes between two graph nodes, compressed into one edge that keeps its geometry. */
typedef struct cv_edge {
    uint32_t u, v;             /* end nodes (graph node ids); geometry runs from u to v */
    uint32_t length_dm;        /* length in decimetres */
    uint32_t duration_ds;      /* travel time over the whole edge from u to v in deciseconds, >= 1 */
    uint32_t duration_back_ds; /* from v to u (maxspeed:forward/backward can differ), >= 1 */
    uint8_t flags;             /* CV_EDGE_* */
    uint8_t road_class;        /* cv_road_class from road_class.h */
    uint16_t speed_kmh10;      /* speed in 0.1 km/h (informational) */
    uint32_t way_id_lo;        /* low 32 bits of the OSM way id the edge came from (informational) */
} cv_edge;

/* A directed arc of the adjacency arrays. Out-arcs are grouped by tail, in-arcs by head. */
typedef struct cv_arc {
    uint32_t node;   /* head for out-arcs, tail for in-arcs */
    uint32_t weight; /* duration_ds, plus CV_NO_THROUGH_PENALTY when entering a no-through road */
    uint32_t edge;   /* edge id << 1 | 1 when the arc runs from v to u */
} cv_arc;

/* A turn restriction: a sequence of arcs (edge << 1 | dir) in a row, from the arc arriving at the first via
   junction, over the arcs of the via ways if any, to the arc it turns onto. kind 0 (no_*): a route never drives
   the whole sequence. kind 1 (only_*): a route that has driven all but the last arc must take the last. */
typedef struct cv_restriction {
    uint32_t first;    /* its arcs are restriction_arcs[first .. first + narcs) */
    uint32_t narcs;    /* >= 2: 2 for a restriction via a node */
    uint32_t kind;     /* 0: no_*, 1: only_* */
    uint32_t via_ways; /* 1 when the via is one or more ways, else 0 */
} cv_restriction;

/* A junction split because turn restrictions apply there (or because two roads meet there: no U-turn mid-road).
   Its routing nodes are `node` and the copies first_copy .. first_copy + count - 1: first one per arc arriving at
   the junction (the k-th arriving arc of split_in[first_in .. first_in + nin), ascending, has `node` for k = 0 and
   first_copy + k - 1 after), each with the turns allowed after arriving by that arc; then one per state of a
   via-way restriction (the junction reached after driving a restriction's arcs so far), with the turns allowed
   there; and last, when some road could not be taken freshly from the others, one node with no memory and every
   road out, for a route that starts on the junction itself. A U-turn back along the arriving road is allowed at a
   split junction only where no other road leaves it, or where an only_u_turn restriction names it. */
typedef struct cv_split {
    uint32_t node, first_copy, count;
    uint32_t first_in, nin;
} cv_split;

/* An arc of the contraction hierarchy as a search sees it. */
typedef struct cv_ch_link {
    uint32_t node; /* rank of the other end (head for up arcs, tail for down arcs) */
    uint32_t weight;
    uint32_t arc; /* index into the hierarchy's arc table */
} cv_ch_link;

/* What a hierarchy arc stands for: an original arc (second == CV_CH_ORIGINAL, first = its edge code) or a
   shortcut over two earlier arcs (first then second, both with smaller indexes, so unpacking always ends). */
typedef struct cv_ch_unpack {
    uint32_t duration_ds;
    uint32_t distance_dm;
    uint32_t first, second;
} cv_ch_unpack;

#define CV_CH_ORIGINAL UINT32_MAX

/* The street name of an edge (what turn-by-turn steps announce): byte offsets into the name string table, each the
   start of a NUL-terminated UTF-8 string; offset 0 is the empty string. Deduplicated: edges of the same street
   share one entry, and entry 0 is the street with no name at all. */
typedef struct cv_street_name {
    uint32_t name;        /* OSM name=* */
    uint32_t ref;         /* OSM ref=* ("A 28", "N12;N13") */
    uint32_t destination; /* OSM destination:ref and destination=*, as OSRM joins them ("A 28: Porto") */
} cv_street_name;

/* One segment in the spatial grid: points[point] to points[point + 1] of edge `edge`. */
typedef struct cv_grid_item {
    uint32_t edge;
    uint32_t point;
} cv_grid_item;

enum cv_graph_section_id {
    CV_SEC_NODE_COORD = 0,   /* cv_coord[nnodes]: routing nodes (junctions, then copies of split junctions) */
    CV_SEC_NODE_COMPONENT,   /* uint32_t[nnodes]: strongly connected component id */
    CV_SEC_COMPONENT_SIZE,   /* uint32_t[ncomponents] */
    CV_SEC_EDGE,             /* cv_edge[nedges] */
    CV_SEC_EDGE_FIRST_POINT, /* uint32_t[nedges + 1]: geometry of edge e is points[first[e] .. first[e+1]) */
    CV_SEC_POINT,            /* cv_coord[npoints] */
    CV_SEC_OUT_FIRST,        /* uint32_t[nnodes + 1] */
    CV_SEC_OUT_ARC,          /* cv_arc[narcs] */
    CV_SEC_IN_FIRST,         /* uint32_t[nnodes + 1] */
    CV_SEC_IN_ARC,           /* cv_arc[narcs] */
    CV_SEC_RESTRICTION,      /* cv_restriction[nrestrictions] */
    CV_SEC_GRID_FIRST,       /* uint32_t[grid_cols * grid_rows + 1] */
    CV_SEC_GRID_ITEM,        /* cv_grid_item[...] */
    CV_SEC_SPLIT,            /* cv_split[nsplits], sorted by node */
    CV_SEC_CH_RANK,          /* uint32_t[nnodes]: rank of each routing node in the hierarchy */
    CV_SEC_CH_UP_FIRST,      /* uint32_t[nnodes + 1], indexed by rank */
    CV_SEC_CH_UP,            /* cv_ch_link[nch_up] */
    CV_SEC_CH_DOWN_FIRST,    /* uint32_t[nnodes + 1], indexed by rank */
    CV_SEC_CH_DOWN,          /* cv_ch_link[nch_down] */
    CV_SEC_CH_ARC,           /* cv_ch_unpack[nch_arcs] */
    CV_SEC_EDGE_NAME,        /* uint32_t[nedges]: index into the street names */
    CV_SEC_NAME,             /* cv_street_name[nnames] */
    CV_SEC_NAME_CHAR,        /* char[nname_chars]: NUL-terminated strings, the first one empty */
    CV_SEC_RESTRICTION_ARC,  /* uint32_t[nrestriction_arcs]: the arcs of the restrictions */
    CV_SEC_SPLIT_IN,         /* uint32_t[nsplit_in]: per split junction, its arriving arcs, ascending */
    CV_SEC_COUNT
};

typedef struct cv_graph_section {
    uint64_t offset;    /* from the start of the file */
    uint64_t size;      /* bytes */
    uint64_t count;     /* elements */
    uint32_t elem_size; /* bytes per element */
    uint32_t crc32;     /* zlib crc32 of the section bytes */
} cv_graph_section;

typedef struct cv_graph_header {
    char magic[8];
    uint32_t version;
    uint32_t header_size; /* sizeof(cv_graph_header) */
    uint32_t profile_version;
    uint32_t nsections;
    uint64_t file_size;
    uint32_t nnodes, nedges, narcs, npoints;
    uint32_t nrestrictions, ncomponents, largest_component, flags;
    uint32_t njunctions; /* junction nodes (edge ends are below this); nnodes - njunctions are copies */
    uint32_t nsplits;    /* junctions split for turn restrictions */
    uint32_t nch_up, nch_down, nch_arcs, nch_shortcuts;
    uint32_t nnames, nname_chars; /* street names and the bytes of their string table */
    uint32_t nrestriction_arcs, nsplit_in;
    int32_t bbox[4];                      /* min lon, min lat, max lon, max lat of the graph */
    int32_t grid_lon0, grid_lat0;         /* south-west corner of the grid */
    int32_t grid_cell_lon, grid_cell_lat; /* cell size, 1e-7 degrees */
    uint32_t grid_cols, grid_rows;
    uint64_t input_nodes, input_ways, input_relations;
    int64_t created_unix;   /* when the file was written */
    char source[128];       /* base name of the OSM file */
    char osm_timestamp[40]; /* from the OSM header, "" if none */
    uint32_t header_crc32;  /* crc32 of this header with this field zero */
    uint32_t reserved;
    cv_graph_section sections[CV_SEC_COUNT];
} cv_graph_header;

/* The arrays of a graph, as built in memory or as mapped from a file (then all pointers point into the map). */
typedef struct cv_graph_arrays {
    const cv_coord *node_coord;
    const uint32_t *node_component;
    const uint32_t *component_size;
    const cv_edge *edges;
    const uint32_t *edge_first_point;
    const cv_coord *points;
    const uint32_t *out_first;
    const cv_arc *out_arcs;
    const uint32_t *in_first;
    const cv_arc *in_arcs;
    const cv_restriction *restrictions;
    const uint32_t *grid_first;
    const cv_grid_item *grid_items;
    uint64_t ngrid_items;
    const cv_split *splits;
    const uint32_t *ch_rank;
    const uint32_t *ch_up_first;
    const cv_ch_link *ch_up;
    const uint32_t *ch_down_first;
    const cv_ch_link *ch_down;
    const cv_ch_unpack *ch_arcs;
    const uint32_t *edge_name;
    const cv_street_name *names;
    const char *name_chars;
    const uint32_t *restriction_arcs;
    const uint32_t *split_in;
} cv_graph_arrays;

/* An open graph: read-only, shared by every thread. */
typedef struct cv_graph {
    cv_graph_header hdr; /* a copy of the file header */
    cv_graph_arrays a;
    void *map; /* the mapping (NULL for in-memory graphs) */
    size_t map_size;
} cv_graph;

/* Writes the arrays as a graph file. hdr supplies counts and metadata; magic, version, sizes, offsets and
   checksums are filled in here. The file is written to path.tmp and renamed, so a crash never leaves a half file
   under the final name. Returns 0 or a CV_E* code with err filled. */
int cv_graph_write(const char *path, const cv_graph_header *hdr, const cv_graph_arrays *a, cv_error *err);

/* Maps a graph file read-only and checks it whole: magic, version, header checksum, every section's bounds,
   element size and crc32, and the ids inside (arc heads, edge ends, CSR offsets) against the counts, so that no
   later access can go out of bounds. Returns a new graph or NULL with err filled (CV_EIO, CV_EFORMAT,
   CV_EVERSION, CV_ECORRUPT). Free with cv_graph_close. */
cv_graph *cv_graph_open(const char *path, cv_error *err);

/* Unmaps and frees; accepts NULL. */
void cv_graph_close(cv_graph *g);

/* Travel time over edge e in direction dir (0: u to v, 1: v to u), deciseconds. */
static inline uint32_t cv_edge_duration(const cv_edge *e, uint32_t dir)
{
    return dir ? e->duration_back_ds : e->duration_ds;
}

/* The geometry of edge e: *n points from u to v. */
static inline const cv_coord *cv_graph_edge_points(const cv_graph *g, uint32_t e, uint32_t *n)
{
    *n = g->a.edge_first_point[e + 1] - g->a.edge_first_point[e];
    return g->a.points + g->a.edge_first_point[e];
}

/* The street name of edge e: name, ref and destination (each "" when absent). */
static inline const cv_street_name *cv_graph_edge_name(const cv_graph *g, uint32_t e)
{
    return &g->a.names[g->a.edge_name[e]];
}

static inline const char *cv_graph_string(const cv_graph *g, uint32_t offset)
{
    return g->a.name_chars + offset;
}

/* The routing node a route is at after travelling arc `code` (edge id << 1 | 1 for v to u) with nothing driven
   before it (a route that starts on the edge): at a split junction, the copy for arriving by that arc. */
uint32_t cv_graph_arc_head(const cv_graph *g, uint32_t code);

/* The routing nodes from which arc `code` may be taken (one, or several copies of a split junction that allow
   the turn). Writes up to max of them to tails and returns how many there are (possibly 0 when every turn onto
   the arc is forbidden). */
uint32_t cv_graph_arc_tails(const cv_graph *g, uint32_t code, uint32_t *tails, uint32_t max);

/* The routing nodes of junction j (j itself, and its copies when it is split). Writes up to max, returns the
   count. */
uint32_t cv_graph_node_copies(const cv_graph *g, uint32_t j, uint32_t *out, uint32_t max);

#endif
