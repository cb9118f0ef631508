/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* stats.h — open statistics for the territory: trips offered, requested and matched, the km shared, the
   vehicle-km and CO2 avoided, by week and by area (a grid of square cells, at least 1 km), from the trip store.
   k-anonymity: a row (a week and a cell) with fewer than k trips offered or requested is not shown, and the totals
   are those of the rows shown, so no cell's figures can be worked out from them. */
#ifndef CV_STATS_H
#define CV_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "util/cv_error.h"
#include "routing/ch.h"
#include "routing/graph.h"
#include "matcher/store.h"

#define CV_STATS_K 5                 /* the fewest trips a row may show */
#define CV_STATS_CO2_KG_PER_KM 0.218 /* ADEME's average car, per vehicle-km (as docs/batch.md) */
#define CV_STATS_MAX_DAYS 1100       /* the longest period asked at once */

/* The areas a local authority supplies instead of the grid (a GeoJSON FeatureCollection of Polygons and
   MultiPolygons, read by the caller): each area its rings, outer and holes, tested together by the even-odd rule. */
typedef struct cv_stats_area {
    char name[128];
    cv_coord *pts;    /* every ring's points, one ring after another */
    size_t *ring_end; /* ring i is pts[ring_end[i-1] .. ring_end[i]) */
    size_t nrings;
    cv_coord centre; /* of its bounding box */
} cv_stats_area;

typedef struct cv_stats_areas {
    cv_stats_area *v;
    size_t n;
} cv_stats_areas;

void cv_stats_areas_free(cv_stats_areas *a);

/* The area of areas that holds c (the first one), or -1. */
int cv_stats_area_of(const cv_stats_areas *a, cv_coord c);

typedef struct cv_stats_row {
    int32_t week;      /* the Monday that starts the week (a cv_day) */
    int32_t ix, iy;    /* the cell; with areas: ix the area, iy 0 */
    const char *area;  /* with areas: its name (NULL for a cell) */
    double lon, lat;   /* its centre, degrees */
    size_t offered;    /* drivers' trips (an offer once per date it runs) */
    size_t requested;  /* passengers' trips (a request once per date) */
    size_t matched;    /* passengers' trips with an accepted booking (once per date they ride) */
    double shared_km;  /* km the passengers rode */
    double avoided_km; /* vehicle-km avoided: the passengers' rides less the drivers' detours for them */
    double co2_kg;     /* avoided_km x CV_STATS_CO2_KG_PER_KM */
} cv_stats_row;

typedef struct cv_stats {
    cv_stats_row *rows; /* the rows shown, by week then cell */
    size_t nrows;
    size_t suppressed;  /* rows not shown: fewer than k trips */
    size_t outside;     /* with areas: trips that start in none of them */
    cv_stats_row total; /* of the rows shown */
    double cell_km;
} cv_stats;

/* The statistics of the trips on dates [from, to] (the server's zone), by ISO week (Monday first) and by cell of
   cell_km (1 to 50): a trip counts in the cell of its start (a booking: its pickup). Returns 0 and *out
   (cv_stats_free), or CV_EINVAL for a bad period or cell, or the store's error. */
int cv_stats_build(const cv_graph *g, cv_ch_query *q, cv_store *s, int32_t from, int32_t to, double cell_km, int k,
                   cv_stats *out, cv_error *err);
void cv_stats_free(cv_stats *st);

/* The same by the areas given (a trip starting in none is left out, and counted in outside); cell_km is then 0. */
int cv_stats_build_areas(const cv_graph *g, cv_ch_query *q, cv_store *s, int32_t from, int32_t to,
                         const cv_stats_areas *areas, int k, cv_stats *out, cv_error *err);

/* The rows as CSV with a header (week,cell_lon,cell_lat,offered,requested,matched,shared_km,vehicle_km_avoided,
   co2_kg_avoided), malloc'ed; NULL when out of memory. */
char *cv_stats_csv(const cv_stats *st);

#endif
