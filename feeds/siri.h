/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* siri.h — the trips of the coming hours as SIRI-ET, the way OpenTripPlanner's carpooling updater
   (siri-et-carpooling-updater, its CarpoolSiriMapper) reads them: one EstimatedVehicleJourney per occurrence of an
   offer, its EstimatedCalls the driver's origin, the confirmed passengers' pickups and drop-offs of that date and
   the destination, each a public meeting area (privacy.h) given as an ExpectedFlexibleArea/CircularArea with its
   name, aimed and expected times from the graph's routes, LatestExpectedArrivalTime (the driver's detour budget
   left), the car's capacity and who is aboard; Cancellation for a cancelled occurrence; PublicContact the map
   page's link. Written with libxml2's xmlTextWriter. */
#ifndef CV_SIRI_H
#define CV_SIRI_H

#include <stddef.h>
#include <stdint.h>

#include "util/cv_error.h"
#include "routing/ch.h"
#include "routing/graph.h"
#include "matcher/store.h"
#include "places/places.h"

#define CV_SIRI_HOURS_DEFAULT 12
#define CV_SIRI_HOURS_MAX 168

typedef struct cv_siri_options {
    const char *operator_name; /* OperatorRef and ProducerRef (NULL: "covoit") */
    const char *public_url;    /* PublicContact/Url base (NULL: http://127.0.0.1/) */
    int hours;                 /* occurrences leaving within this many hours (or under way now) */
    cv_places *places;         /* names of the meeting areas (NULL: "Meeting area" and coordinates) */
} cv_siri_options;

cv_siri_options cv_siri_defaults(void);

typedef struct cv_siri_stats {
    size_t journeys, calls, cancelled;
} cv_siri_stats;

/* The SIRI-ET document of the occurrences of the offers of s (open ones, and cancelled ones as cancellations) that
   leave between now and now + hours, or left and have not arrived: *xml (malloc'ed, NUL-terminated), *len bytes.
   Returns 0 or a CV_E* code. */
int cv_siri_build(const cv_graph *g, cv_ch_query *q, cv_store *s, const cv_siri_options *o, int64_t now, char **xml,
                  size_t *len, cv_siri_stats *stats, cv_error *err);

#endif
