/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* osm_network.h — the routable part of an OSM file in memory: profiled ways, their node locations, restrictions. */
#ifndef CV_OSM_NETWORK_H
#define CV_OSM_NETWORK_H

#include <stddef.h>
#include <stdint.h>

#include "util/cv_error.h"
#include "util/cv_progress.h"
#include "osm/osm_reader.h"
#include "osm/profile.h"

/* One routable way, as the profile saw it. */
typedef struct cv_net_way {
    int64_t id;
    uint32_t first_ref; /* index into cv_network.refs */
    uint32_t nrefs;
    cv_way_attr attr;
    uint32_t name;      /* index into cv_network.names */
    uint8_t roundabout; /* junction=roundabout or junction=circular */
} cv_net_way;

/* A way's street name: byte offsets into cv_network.strings (0 is the empty string). */
typedef struct cv_net_name {
    uint32_t name, ref, destination;
} cv_net_name;

#define CV_NAME_MAX_BYTES 255 /* longer tag values are cut (at a UTF-8 character boundary) */

/* A node location, 1e-7 degrees. */
typedef struct cv_net_node {
    int64_t id;
    int32_t lon, lat;
} cv_net_node;

enum { CV_RESTR_NO = 0, CV_RESTR_ONLY = 1 };

/* The direction a restriction names (no_left_turn: left), used to tell which part of a from or to way that passes
   through the via node is meant. */
enum { CV_TURN_ANY = 0, CV_TURN_LEFT, CV_TURN_RIGHT, CV_TURN_STRAIGHT, CV_TURN_UTURN };

/* A turn restriction from way `from` over node `via`, or over one or more ways, onto way `to`. */
typedef struct cv_net_restriction {
    int64_t from_way, to_way;
    int64_t via_node;   /* the via node, or 0 when the via is ways */
    uint32_t via_first; /* via ways: cv_network.via_ways[via_first .. via_first + nvia), in relation order */
    uint32_t nvia;
    int64_t relation_id;
    uint8_t kind; /* CV_RESTR_NO or CV_RESTR_ONLY */
    uint8_t turn; /* CV_TURN_*: the direction the restriction's value names */
} cv_net_restriction;

/* A node cars cannot pass through. */
typedef struct cv_net_block {
    int64_t id;
    uint8_t rule; /* cv_node_rule: CV_NODE_BARRIER or CV_NODE_CLOSED */
} cv_net_block;

typedef struct cv_network {
    cv_net_way *ways;
    size_t nways, cap_ways;
    int64_t *refs; /* node ids of all routable ways, concatenated */
    size_t nrefs, cap_refs;
    cv_net_node *nodes; /* locations of the nodes the ways use, sorted by id, unique */
    size_t nnodes, cap_nodes;
    cv_net_restriction *restrictions;
    size_t nrestrictions, cap_restrictions;
    int64_t *via_ways; /* the via ways of via-way restrictions */
    size_t nvia_ways, cap_via_ways;
    cv_net_block *blocks; /* nodes cars cannot pass, sorted by id (only those on routable ways) */
    size_t nblocks, cap_blocks;
    char *strings;                /* NUL-terminated UTF-8 strings, deduplicated; the first is "" */
    size_t nstrings, cap_strings; /* bytes */
    cv_net_name *names;           /* deduplicated (name, ref, destination); names[0] is the unnamed street */
    size_t nnames, cap_names;
    /* what was read */
    uint64_t input_nodes, input_ways, input_relations;
    uint64_t restrictions_skipped;         /* malformed: members missing or of the wrong type */
    uint64_t restrictions_via_way;         /* read with via ways (kept in restrictions) */
    uint64_t closed_ways[CV_CLOSED_COUNT]; /* road ways the profile closed, per cv_way_closed reason */
    uint64_t rule_ways[CV_RULE_COUNT];     /* routable ways shaped by each CV_RULE_* bit (bit order) */
    int input_sorted;                      /* 1 when node ids arrived in increasing order */
    cv_osm_header header;
} cv_network;

/* Reads path with the car profile into a new network. Unsorted input is handled (locations are collected and
   sorted in memory, so order in the file does not matter). progress may be NULL. On failure returns a CV_E* code,
   fills err and leaves *out empty. Free with cv_network_free. */
int cv_network_read(const char *path, const cv_profile_options *opt, cv_progress *progress, cv_network *out,
                    cv_error *err);

/* Location of node id, or NULL when the extract does not contain it. */
const cv_net_node *cv_network_node(const cv_network *net, int64_t id);

/* The blocked node of that id (a barrier or a node access tags close), or NULL. */
const cv_net_block *cv_network_block(const cv_network *net, int64_t id);

/* Frees everything the network owns; accepts a zeroed network. */
void cv_network_free(cv_network *net);

#endif
