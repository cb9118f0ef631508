/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* mbtiles.h — the map's own vector tiles: an MBTiles file (SQLite: a tiles table by zoom, column and TMS row, and
   its metadata), made from the same OSM extract by Debian's tilemaker (scripts/run.sh), read here so that
   `covoit serve` answers /tiles/{z}/{x}/{y}.pbf and the map page asks no other host for its basemap. Read only. */
#ifndef CV_MBTILES_H
#define CV_MBTILES_H

#include <stddef.h>
#include <stdint.h>

#include "util/cv_error.h"

typedef struct cv_mbtiles cv_mbtiles; /* one connection: one reader at a time (the server holds a lock) */

typedef struct cv_mbtiles_info {
    int minzoom, maxzoom;
    double bounds[4]; /* west, south, east, north (degrees); all 0 when the file gives none */
    char name[128];
    char format[16]; /* "pbf" */
} cv_mbtiles_info;

/* Opens path: CV_EIO when it cannot be read, CV_EFORMAT when it is not MBTiles of vector tiles ("pbf"). */
int cv_mbtiles_open(const char *path, cv_mbtiles **out, cv_mbtiles_info *info, cv_error *err);
void cv_mbtiles_close(cv_mbtiles *t);

/* The tile z/x/y (XYZ numbering, y from the north) as stored (gzip-compressed protobuf from tilemaker): 1 and
 *data (malloc'ed) and *len; 0 when the file has no such tile; CV_E* on a read error. */
int cv_mbtiles_get(cv_mbtiles *t, int z, int x, int y, unsigned char **data, size_t *len, cv_error *err);

#endif
