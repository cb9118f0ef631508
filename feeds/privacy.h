/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* privacy.h — what stands for a person's exact place (a driver's home, their workplace) in whatever leaves the
   server: a public meeting area. The area is the cell of a fixed grid of CV_AREA_CELL_M metres that holds the
   place, and its meeting point the road nearest the cell's centre where a car may stop: the same for every place of
   the cell, never centred on the place itself, and revealing of it only the cell. */
#ifndef CV_PRIVACY_H
#define CV_PRIVACY_H

#include <stdint.h>

#include "util/cv_error.h"
#include "routing/graph.h"
#include "routing/snap.h"
#include "places/places.h"

#define CV_AREA_CELL_M 500   /* side of a grid cell, metres (north-south; east-west the same at its latitude) */
#define CV_AREA_RADIUS_M 400 /* the radius a feed gives the area: the cell's half diagonal, rounded up */
#define CV_AREA_SNAP_M 1500  /* how far from the cell's centre its meeting point may be */

typedef struct cv_area {
    int32_t ix, iy;  /* the cell: its column and row */
    cv_coord centre; /* the cell's centre */
    cv_snap meet;    /* the meeting point: the road nearest the centre where a car may stop */
} cv_area;

/* The cell of a grid of squares of about cell_m metres that holds c (its column and row), and its centre when
   asked: the grid of the meeting areas (cv_area_cell) and of the open statistics (stats.h). */
void cv_grid_cell(cv_coord c, double cell_m, int32_t *ix, int32_t *iy, cv_coord *centre);

/* The meeting areas' grid cell that holds c. */
void cv_area_cell(cv_coord c, int32_t *ix, int32_t *iy);

/* The public area of exact. CV_ENOSEGMENT when no road where a car may stop is within CV_AREA_SNAP_M of the
   cell's centre. */
int cv_area_of(const cv_graph *g, cv_coord exact, cv_area *out, cv_error *err);

/* What people call the meeting point at: "Meeting area: " and the stop or street within 300 m, else the settlement
   within 5 km, from the place index; its coordinates without one (places NULL) or nothing named near. */
void cv_area_name(cv_places *places, cv_coord at, char *out, size_t cap);

#endif
