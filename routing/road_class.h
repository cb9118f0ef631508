/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* road_class.h — the road classes that the graph file stores per edge (cv_edge.road_class), in order of
   importance. Routing owns them (snapping and guidance read them); the car profile (osm/profile.c) assigns them
   at import. The values are part of the file format: never renumber them. Depends on nothing, so that osm/ may
   include it. */
#ifndef CV_ROAD_CLASS_H
#define CV_ROAD_CLASS_H

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

#endif
