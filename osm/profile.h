/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* profile.h — the car profile: OSM way tags to routability, direction, speed and access class (table-driven C). */
#ifndef CV_PROFILE_H
#define CV_PROFILE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif
#include <stdint.h>

/* the road classes it assigns, which the graph file stores (cv_road_class, CV_RC_*) */
#include "routing/road_class.h"

/* Bump when a rule changes what the importer produces; it is stored in the graph file header. */
#define CV_PROFILE_VERSION 2

typedef struct cv_tag {
    const char *key;
    const char *value;
} cv_tag;

/* Way flags. */
enum {
    CV_WAY_FORWARD = 1u << 0,    /* drivable in the direction of the node list */
    CV_WAY_BACKWARD = 1u << 1,   /* drivable against the node list */
    CV_WAY_NO_THROUGH = 1u << 2, /* private/destination/delivery/customers (or driveway/parking aisle):
                                    may start or end a route, never be crossed to save time */
    CV_WAY_FERRY = 1u << 3       /* route=ferry */
};

/* Why a way with a car road class is not routable (cv_way_attr.closed_by when cv_profile_way returns 0), for the
   importer's summary. */
typedef enum cv_way_closed {
    CV_CLOSED_NONE = 0,     /* routable, or not a road for cars at all (footway, track, no highway) */
    CV_CLOSED_ACCESS,       /* access tags close both directions (motorcar=no, access:forward=no + oneway, ...) */
    CV_CLOSED_CONSTRUCTION, /* construction=* (but no, minor, widening) on a built road */
    CV_CLOSED_PROPOSED,     /* proposed=* on a built road */
    CV_CLOSED_REVERSIBLE,   /* oneway=reversible: its direction changes over the day */
    CV_CLOSED_PHYSICAL,     /* maxheight, maxwidth, maxlength or maxweight below an ordinary car's */
    CV_CLOSED_OTHER,        /* area=yes, impassable, emergency access, ferries turned off */
    CV_CLOSED_COUNT
} cv_way_closed;

/* Rules beyond class, access and oneway that shaped a routable way (cv_way_attr.rules), for the summary. */
enum {
    CV_RULE_DIRECTIONAL_ACCESS = 1u << 0, /* an access:forward/backward-like tag closed one direction */
    CV_RULE_MODE_ONEWAY = 1u << 1,        /* oneway:motorcar/motor_vehicle/vehicle decided the direction */
    CV_RULE_ALTERNATING = 1u << 2,        /* oneway=alternating: both ways, turn by turn */
    CV_RULE_PHYSICAL_ONE_WAY = 1u << 3,   /* a physical limit (maxheight:forward, ...) closed one direction */
    CV_RULE_OPENED_BY_ACCESS = 1u << 4,   /* not a car road (track, pedestrian, ...), opened by motorcar=yes & co */
    CV_RULE_COUNT = 5
};

/* What the profile says of one way. */
typedef struct cv_way_attr {
    uint8_t road_class;   /* cv_road_class */
    uint8_t flags;        /* CV_WAY_* */
    uint8_t closed_by;    /* cv_way_closed: set when the way is not routable */
    uint8_t rules;        /* CV_RULE_* that applied to a routable way */
    float speed_kmh;      /* effective travel speed along the way, > 0 */
    float speed_back_kmh; /* against it (maxspeed:backward and the like), > 0 */
    float maxspeed_kmh;   /* parsed speed limit along the way, 0 if absent or unparseable */
    uint32_t duration_s;  /* ferry: the `duration` tag in seconds for the whole way, 0 if absent */
} cv_way_attr;

typedef struct cv_profile_options {
    int ferries; /* 1 to route over route=ferry ways (the default) */
} cv_profile_options;

/* Default options (ferries on). */
cv_profile_options cv_profile_defaults(void);

/* Applies the car profile to a way's tags. Returns 1 and fills *out when cars may use the way in at least one
   direction, 0 when the way is not routable (then out->closed_by says why, when the way was a road at all). Tags
   need not be sorted; later duplicates are ignored. */
int cv_profile_way(const cv_profile_options *opt, const cv_tag *tags, size_t ntags, cv_way_attr *out);

/* What a node's tags do to cars passing through it. */
typedef enum cv_node_rule {
    CV_NODE_OPEN = 0, /* nothing, or a barrier cars pass (gate, lift_gate, toll_booth, cattle_grid, ...) */
    CV_NODE_BARRIER,  /* a barrier cars cannot pass (bollard, block, chain, jersey_barrier, wall, ...) */
    CV_NODE_CLOSED    /* access tags on the node close it (access=no, motor_vehicle=agricultural, ...) */
} cv_node_rule;

/* Applies the car profile to a node's tags, as OSRM's car profile does: access tags (motorcar > motor_vehicle >
   vehicle > access) decide when present (no, agricultural, forestry, emergency, psv, ... close the node; private,
   destination and the other no-through values do not), and a barrier is considered only when no access tag is:
   passable barriers are gate, lift_gate, toll_booth, cattle_grid, border_control, sally_port, entrance, arch, no,
   height_restrictor (unless its maxheight is below an ordinary car's), a rising bollard, and a kerb that is
   lowered, flush or on a crossing; every other barrier value blocks. */
cv_node_rule cv_profile_node(const cv_tag *tags, size_t ntags);

/* A length in metres from a maxheight/maxwidth/maxlength value ("2.5", "2.5 m", "2,5", "6'6\"", "6 ft", "250 cm").
   Returns the metres, 0 when the value says there is no limit (none, default, below_default, unsigned, no_sign),
   or -1 when it cannot be read (the caller then ignores it). */
double cv_profile_parse_length(const char *value);

/* A weight in kilograms from a maxweight value ("3.5", "3.5 t", "3500 kg", "7 st", "10000 lbs"). Returns the kg,
   0 for no limit (none, default, unsigned), -1 when it cannot be read. */
double cv_profile_parse_weight(const char *value);

/* The dimensions of an ordinary car, below which a physical limit closes a way (OSRM's car profile values). */
#define CV_CAR_HEIGHT_M 2.0
#define CV_CAR_WIDTH_M 1.9
#define CV_CAR_LENGTH_M 4.8
#define CV_CAR_WEIGHT_KG 2000.0

/* Parses a maxspeed value ("50", "30 mph", "none", "walk", "FR:urban", "RU:rural", "DE:zone30", "50;30", ...)
   into km/h. `road_class` picks the value of `none`. Returns the speed in km/h, or 0 when the value cannot be
   parsed (the caller then keeps the class default). Never negative. */
float cv_profile_parse_maxspeed(const char *value, int road_class);

/* Access class of a value of access/vehicle/motor_vehicle/motorcar. */
typedef enum cv_access {
    CV_ACCESS_UNKNOWN = 0, /* not an access value we know: ignore it, less specific tags decide */
    CV_ACCESS_YES,         /* yes, permissive, designated, ... */
    CV_ACCESS_NO,          /* no, agricultural, forestry, emergency, psv, ... */
    CV_ACCESS_DESTINATION  /* private, destination, delivery, customers: no through traffic */
} cv_access;

cv_access cv_profile_parse_access(const char *value);

/* Default speed of a road class in km/h. */
float cv_profile_class_speed(int road_class);

/* Name of a road class ("motorway", ...). */
const char *cv_profile_class_name(int road_class);

/* Parses a ferry duration tag ("HH:MM", "HH:MM:SS", "MM" minutes, ISO 8601 "PT1H30M") into seconds, 0 if unparseable.
 */
uint32_t cv_profile_parse_duration(const char *value);

#ifdef __cplusplus
}
#endif

#endif
