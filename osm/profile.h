/* profile.h — the car profile: OSM way tags to routability, direction, speed and access class (table-driven C). */
#ifndef CV_PROFILE_H
#define CV_PROFILE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif
#include <stdint.h>

/* Bump when a rule changes what the importer produces; it is stored in the graph file header. */
#define CV_PROFILE_VERSION 1

typedef struct cv_tag {
    const char *key;
    const char *value;
} cv_tag;

/* Road classes, in order of importance. Stored per edge in the graph file. */
typedef enum cv_road_class {
    CV_RC_MOTORWAY = 0,
    CV_RC_MOTORWAY_LINK,
    CV_RC_TRUNK,
    CV_RC_TRUNK_LINK,
    CV_RC_PRIMARY,
    CV_RC_PRIMARY_LINK,
    CV_RC_SECONDARY,
    CV_RC_SECONDARY_LINK,
    CV_RC_TERTIARY,
    CV_RC_TERTIARY_LINK,
    CV_RC_UNCLASSIFIED,
    CV_RC_RESIDENTIAL,
    CV_RC_LIVING_STREET,
    CV_RC_SERVICE,
    CV_RC_ROAD,
    CV_RC_FERRY,
    CV_RC_COUNT
} cv_road_class;

/* Way flags. */
enum {
    CV_WAY_FORWARD = 1u << 0,    /* drivable in the direction of the node list */
    CV_WAY_BACKWARD = 1u << 1,   /* drivable against the node list */
    CV_WAY_NO_THROUGH = 1u << 2, /* private/destination/delivery/customers (or driveway/parking aisle):
                                    may start or end a route, never be crossed to save time */
    CV_WAY_FERRY = 1u << 3       /* route=ferry */
};

/* What the profile says of one way. */
typedef struct cv_way_attr {
    uint8_t road_class;   /* cv_road_class */
    uint8_t flags;        /* CV_WAY_* */
    float speed_kmh;      /* effective travel speed, > 0 */
    float maxspeed_kmh;   /* parsed maxspeed tag, 0 if absent or unparseable */
    uint32_t duration_s;  /* ferry: the `duration` tag in seconds for the whole way, 0 if absent */
} cv_way_attr;

typedef struct cv_profile_options {
    int ferries;          /* 1 to route over route=ferry ways (the default) */
} cv_profile_options;

/* Default options (ferries on). */
cv_profile_options cv_profile_defaults(void);

/* Applies the car profile to a way's tags. Returns 1 and fills *out when cars may use the way in at least one
   direction, 0 when the way is not routable. Tags need not be sorted; later duplicates are ignored. */
int cv_profile_way(const cv_profile_options *opt, const cv_tag *tags, size_t ntags, cv_way_attr *out);

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

/* Parses a ferry duration tag ("HH:MM", "HH:MM:SS", "MM" minutes, ISO 8601 "PT1H30M") into seconds, 0 if unparseable. */
uint32_t cv_profile_parse_duration(const char *value);

#ifdef __cplusplus
}
#endif

#endif
