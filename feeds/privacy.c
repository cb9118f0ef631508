/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* privacy.c — a person's exact place replaced by the public meeting area of its grid cell (privacy.h). */
#define _DEFAULT_SOURCE /* M_PI */
#include "feeds/privacy.h"

#include <math.h>
#include <stdio.h>

#include "routing/geo.h"
#include "routing/road_class.h"

/* Degrees of latitude per metre. */
#define DEG_PER_M (1.0 / 111320.0)

void cv_grid_cell(cv_coord c, double cell_m, int32_t *ix, int32_t *iy, cv_coord *centre)
{
    /* rows of cell_m; a cell's east-west size in degrees is taken at the latitude of its row's centre, so that
       every cell is about square and a row has one width */
    double dlat = cell_m * DEG_PER_M;
    *iy = (int32_t)floor(cv_deg(c.lat) / dlat);
    double row_lat = (*iy + 0.5) * dlat;
    double dlon = dlat / fmax(cos(row_lat * M_PI / 180.0), 0.01);
    *ix = (int32_t)floor(cv_deg(c.lon) / dlon);
    if (centre)
        *centre = (cv_coord){cv_fixed((*ix + 0.5) * dlon), cv_fixed(row_lat)};
}

void cv_area_cell(cv_coord c, int32_t *ix, int32_t *iy)
{
    cv_grid_cell(c, CV_AREA_CELL_M, ix, iy, NULL);
}

int cv_area_of(const cv_graph *g, cv_coord exact, cv_area *out, cv_error *err)
{
    cv_grid_cell(exact, CV_AREA_CELL_M, &out->ix, &out->iy, &out->centre);
    cv_snap_options so = cv_snap_defaults();
    so.max_distance_m = CV_AREA_SNAP_M;
    so.stop_only = 1;
    so.exclude_classes = (1u << CV_RC_MOTORWAY) | (1u << CV_RC_MOTORWAY_LINK);
    return cv_snap_point(g, out->centre, &so, &out->meet, err);
}

void cv_area_name(cv_places *places, cv_coord at, char *out, size_t cap)
{
    cv_place p;
    cv_error err = {0};
    if (places && cv_places_nearest(places, at, CV_PLACE_STOP, 300, &p, &err) == 1)
        snprintf(out, cap, "Meeting area: %s", p.name);
    else if (places && cv_places_nearest(places, at, CV_PLACE_STREET, 300, &p, &err) == 1)
        snprintf(out, cap, "Meeting area: %s%s%s", p.name, p.detail[0] ? ", " : "", p.detail);
    else if (places && cv_places_nearest(places, at, CV_PLACE_SETTLEMENT, 5000, &p, &err) == 1)
        snprintf(out, cap, "Meeting area: %s", p.name);
    else
        snprintf(out, cap, "Meeting area %.4f, %.4f", cv_deg(at.lat), cv_deg(at.lon));
}
