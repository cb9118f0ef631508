/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* geo.h — geometry on fixed-point coordinates: distances, projection onto segments, polyline encoding. */
#ifndef CV_GEO_H
#define CV_GEO_H

#include <stddef.h>
#include <math.h>
#include <stdint.h>

#define CV_PI 3.14159265358979323846
#define CV_COORD_SCALE 1e7 /* coordinates are int32 in 1e-7 degrees, as OSM stores them */

/* A coordinate in 1e-7 degrees. */
typedef struct cv_coord {
    int32_t lon, lat;
} cv_coord;

static inline double cv_deg(int32_t fixed)
{
    return (double)fixed / CV_COORD_SCALE;
}
/* Degrees to fixed point, rounded; the caller checks the range first. */
int32_t cv_fixed(double deg);

/* Great-circle distance in metres (haversine, mean Earth radius). */
double cv_distance_m(cv_coord a, cv_coord b);

/* A point as a vector from the Earth's centre (metres, mean radius), for cv_chord_m. */
typedef struct cv_xyz {
    double x, y, z;
} cv_xyz;

cv_xyz cv_xyz_of(cv_coord p);

/* The straight line through the Earth between two points, in metres: never more than cv_distance_m (the arc over
   it), within 2 mm of it up to 10 km and 0.1 % up to 500 km, and no trigonometry: a cheap lower bound on
   any distance over the ground when the points' vectors are made once. */
static inline double cv_chord_m(cv_xyz a, cv_xyz b)
{
    double dx = a.x - b.x, dy = a.y - b.y, dz = a.z - b.z;
    return sqrt(dx * dx + dy * dy + dz * dz);
}

/* Projects p onto the segment a-b in a local equirectangular frame around p. Returns the distance in metres from p
   to the nearest point of the segment; *t gets its position along the segment in [0, 1] and *onto the point. */
double cv_project(cv_coord p, cv_coord a, cv_coord b, double *t, cv_coord *onto);

/* A local frame in metres around a point (x east, y north), for projecting many segments from one point. */
typedef struct cv_local_frame {
    double kx, ky; /* metres per coordinate unit of longitude and latitude */
} cv_local_frame;

cv_local_frame cv_frame_at(cv_coord p);

/* cv_project in the frame of p made once: the same *t and *onto, and the distance from p to *onto measured in
   the frame (within 1 % of cv_distance_m up to a few kilometres), not with haversine. */
double cv_project_planar(const cv_local_frame *fr, cv_coord p, cv_coord a, cv_coord b, double *t, cv_coord *onto);

/* Lower bound in metres of the distance from p to any point of the box [lo, hi]. */
double cv_box_distance_m(cv_coord p, cv_coord lo, cv_coord hi);

/* Parses "LON,LAT" (decimal degrees) into *c. Returns 0, or -1 when the text is not two numbers or the values are
   out of range (|lon| > 180, |lat| > 90). */
int cv_parse_lonlat(const char *text, cv_coord *c);

/* A growable byte buffer for encoded output. */
typedef struct cv_buf {
    char *data;
    size_t len, cap;
} cv_buf;

int cv_buf_putc(cv_buf *b, char c);
void cv_buf_free(cv_buf *b);

/* Appends the Google encoded polyline of pts (lat,lon order as the format wants) with precision 5 or 6 to b,
   NUL-terminated. Returns 0 or CV_ENOMEM. */
int cv_polyline_encode(const cv_coord *pts, size_t n, int precision, cv_buf *b);

/* Decodes a polyline into at most cap points; returns the number of points, or -1 on malformed input. */
long cv_polyline_decode(const char *s, int precision, cv_coord *pts, size_t cap);

/* Position of (x, y) on a Hilbert curve over a 2^16 x 2^16 grid: used to number nodes so that neighbours on the
   map are neighbours in memory. */
uint32_t cv_hilbert16(uint32_t x, uint32_t y);

#endif
