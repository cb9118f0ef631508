/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* places.h — the place index: the names people type (streets, house numbers, named places, points of interest,
   transit stops) with their coordinates, built from the OSM extract at import into an SQLite file beside the graph
   (full-text search with FTS5: prefixes, accents folded; an R*Tree for what is near a point), and queried for
   autocomplete and reverse lookups. Built from what osm/ reads; queried by web/ and the CLI. No outside service. */
#ifndef CV_PLACES_H
#define CV_PLACES_H

#include <stddef.h>
#include <stdint.h>

#include "util/cv_error.h"
#include "util/cv_progress.h"
#include "routing/geo.h"

#define CV_PLACES_SCHEMA 2
#define CV_PLACES_LIMIT_MAX 50

/* What a place is. */
typedef enum cv_place_kind {
    CV_PLACE_SETTLEMENT = 0, /* place=city|town|village|suburb|quarter|neighbourhood|hamlet|locality */
    CV_PLACE_STREET,         /* a named road (its segments of one name near each other joined) */
    CV_PLACE_ADDRESS,        /* addr:housenumber on addr:street */
    CV_PLACE_STOP,           /* a bus, tram or train stop or station */
    CV_PLACE_POI             /* a named amenity, shop, office, tourism or leisure place */
} cv_place_kind;

const char *cv_place_kind_name(cv_place_kind k);

typedef struct cv_places_stats {
    size_t settlements, streets, addresses, stops, pois;
    double seconds;
} cv_places_stats;

/* Reads the OSM file and writes the index to path: a file of its own (to path.tmp first, renamed when whole), or,
   when path is an SQLite database of something else (the trip store), into it, replacing the index it holds in one
   transaction. CV_EFORMAT when path exists and is no SQLite database. */
int cv_places_build(const char *osm_path, const char *path, cv_progress *progress, cv_places_stats *stats,
                    cv_error *err);

/* The index file that goes with a graph file: GRAPH.places. */
void cv_places_path_for(const char *graph_path, char *out, size_t cap);

typedef struct cv_places cv_places; /* an open index, read only; one per thread (SQLite connections) */

/* Opens an index (CV_EIO when it cannot be read, CV_EFORMAT when it is not one of ours or of another schema). */
int cv_places_open(const char *path, cv_places **out, cv_error *err);
void cv_places_close(cv_places *p);

/* One answer. */
typedef struct cv_place {
    cv_place_kind kind;
    char name[160];  /* as OSM names it (an address: "Street Number") */
    char detail[96]; /* what tells it apart: its settlement, or its kind of place ("bus stop", "pharmacy") */
    cv_coord at;
    double distance_m; /* from near (0 without near) */
    double score;      /* higher first */
} cv_place;

/* Autocomplete: the places whose names hold every word of q (each as a prefix, accents and case folded), ranked by
   importance, how well the name matches, and distance to near (when has_near). Up to limit (1..CV_PLACES_LIMIT_MAX)
   in out; *n their number. CV_EINVAL when q has no word. */
int cv_places_search(cv_places *p, const char *q, int has_near, cv_coord near, int limit, cv_place *out, size_t *n,
                     cv_error *err);

/* The nearest house number within max_m of at (1 and *out), or 0 when none. */
int cv_places_nearest_address(cv_places *p, cv_coord at, double max_m, cv_place *out, cv_error *err);

/* The nearest named place of kind (a stop, a settlement...) within max_m; 1 and *out, or 0. */
int cv_places_nearest(cv_places *p, cv_coord at, cv_place_kind kind, double max_m, cv_place *out, cv_error *err);

/* The word of the index that names the cell of the grid (about 2 km square) at, moved dx, dy cells: what the
   search near a point asks for besides the words typed. */
void cv_places_cell(cv_coord at, int dx, int dy, char *out, size_t cap);

/* The index's size and source, for /health and `covoit info`. */
typedef struct cv_places_info {
    size_t places;
    char source[128];
    char built[40];
} cv_places_info;
int cv_places_info_get(cv_places *p, cv_places_info *out);

#endif
