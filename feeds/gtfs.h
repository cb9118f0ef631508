/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* gtfs.h — the drivers' open offers as a GTFS feed for trip planners: each offer a route of type 1551 (sharing
   taxi, which OpenTripPlanner reads as CARPOOL) with one trip, its dates in calendar.txt (a regular offer) or
   calendar_dates.txt (a single one, and the dates a regular one is full), its stops the public meeting areas that
   stand for the driver's origin, vias and destination (privacy.h: never the exact places), times from the graph's
   routes, a shape along the roads between those areas, and GTFS-Flex booking rules that send people to the map
   page to book. Written as a zip with libzip. */
#ifndef CV_GTFS_H
#define CV_GTFS_H

#include <stddef.h>
#include <stdint.h>

#include "util/cv_error.h"
#include "routing/ch.h"
#include "routing/graph.h"
#include "matcher/store.h"
#include "places/places.h"

#define CV_GTFS_DAYS_DEFAULT 30
#define CV_GTFS_DAYS_MAX 366

typedef struct cv_gtfs_options {
    const char *operator_name; /* agency_name (NULL: "covoit") */
    const char *public_url;    /* the map page's address, for agency_url, route_url and booking_url (NULL: none
                                  configured: http://127.0.0.1/, said in feed_info) */
    int days;                  /* dates from today on, 1 .. CV_GTFS_DAYS_MAX */
    cv_places *places;         /* names for the meeting areas; NULL: "Meeting area" and the area's coordinates */
} cv_gtfs_options;

cv_gtfs_options cv_gtfs_defaults(void);

/* What the feed holds. */
typedef struct cv_gtfs_stats {
    size_t offers, stops, dates, shape_points;
} cv_gtfs_stats;

/* Builds the feed of the open offers of store s that run on some date from today (now, in the server's zone) to
   today + days - 1: the zip in *zip (malloc'ed), *len bytes. The same store and day give the same bytes. Returns 0
   or a CV_E* code. */
int cv_gtfs_build(const cv_graph *g, cv_ch_query *q, cv_store *s, const cv_gtfs_options *o, int64_t now, void **zip,
                  size_t *len, cv_gtfs_stats *stats, cv_error *err);

#endif
