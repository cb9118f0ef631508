/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* geo.c — distances, projection and polyline encoding on fixed-point coordinates. */
#include "routing/geo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/cv_error.h"

#define EARTH_RADIUS_M 6371008.8
#define DEG2RAD (CV_PI / 180.0)

int32_t cv_fixed(double deg)
{
    return (int32_t)lround(deg * CV_COORD_SCALE);
}

double cv_distance_m(cv_coord a, cv_coord b)
{
    double la1 = cv_deg(a.lat) * DEG2RAD, la2 = cv_deg(b.lat) * DEG2RAD;
    double dla = la2 - la1, dlo = (cv_deg(b.lon) - cv_deg(a.lon)) * DEG2RAD;
    double s1 = sin(dla / 2), s2 = sin(dlo / 2);
    double h = s1 * s1 + cos(la1) * cos(la2) * s2 * s2;
    if (h > 1)
        h = 1;
    return 2 * EARTH_RADIUS_M * asin(sqrt(h));
}

cv_xyz cv_xyz_of(cv_coord p)
{
    double la = cv_deg(p.lat) * DEG2RAD, lo = cv_deg(p.lon) * DEG2RAD;
    return (cv_xyz){EARTH_RADIUS_M * cos(la) * cos(lo), EARTH_RADIUS_M * cos(la) * sin(lo), EARTH_RADIUS_M * sin(la)};
}

cv_local_frame cv_frame_at(cv_coord p)
{
    /* Good to centimetres over the few hundred metres that snapping looks at. */
    return (cv_local_frame){cos(cv_deg(p.lat) * DEG2RAD) * DEG2RAD * EARTH_RADIUS_M / CV_COORD_SCALE,
                            DEG2RAD * EARTH_RADIUS_M / CV_COORD_SCALE};
}

double cv_project_planar(const cv_local_frame *fr, cv_coord p, cv_coord a, cv_coord b, double *t, cv_coord *onto)
{
    double kx = fr->kx, ky = fr->ky;
    /* differences in double: two int32 coordinates can be more than INT32_MAX apart (across the antimeridian) */
    double ax = ((double)a.lon - p.lon) * kx, ay = ((double)a.lat - p.lat) * ky;
    double bx = ((double)b.lon - p.lon) * kx, by = ((double)b.lat - p.lat) * ky;
    double dx = bx - ax, dy = by - ay;
    double len2 = dx * dx + dy * dy;
    double f = len2 > 0 ? -(ax * dx + ay * dy) / len2 : 0;
    if (f < 0)
        f = 0;
    else if (f > 1)
        f = 1;
    cv_coord q = {(int32_t)lround(a.lon + f * ((double)b.lon - a.lon)),
                  (int32_t)lround(a.lat + f * ((double)b.lat - a.lat))};
    if (t)
        *t = f;
    if (onto)
        *onto = q;
    double qx = ((double)q.lon - p.lon) * kx, qy = ((double)q.lat - p.lat) * ky;
    return sqrt(qx * qx + qy * qy);
}

double cv_project(cv_coord p, cv_coord a, cv_coord b, double *t, cv_coord *onto)
{
    /* the point is projected in a local frame around p; the returned distance is haversine's */
    cv_local_frame fr = cv_frame_at(p);
    cv_coord q;
    cv_project_planar(&fr, p, a, b, t, &q);
    if (onto)
        *onto = q;
    return cv_distance_m(p, q);
}

double cv_box_distance_m(cv_coord p, cv_coord lo, cv_coord hi)
{
    cv_coord q = p;
    if (q.lon < lo.lon)
        q.lon = lo.lon;
    if (q.lon > hi.lon)
        q.lon = hi.lon;
    if (q.lat < lo.lat)
        q.lat = lo.lat;
    if (q.lat > hi.lat)
        q.lat = hi.lat;
    return cv_distance_m(p, q) * 0.999; /* a hair under, so rounding never prunes the true nearest */
}

int cv_parse_lonlat(const char *text, cv_coord *c)
{
    if (!text)
        return -1;
    char *end;
    double lon = strtod(text, &end);
    if (end == text || *end != ',')
        return -1;
    const char *q = end + 1;
    double lat = strtod(q, &end);
    if (end == q || *end != '\0')
        return -1;
    if (!isfinite(lon) || !isfinite(lat) || fabs(lon) > 180 || fabs(lat) > 90)
        return -1;
    c->lon = cv_fixed(lon);
    c->lat = cv_fixed(lat);
    return 0;
}

int cv_buf_putc(cv_buf *b, char c)
{
    if (b->len + 1 >= b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 256;
        char *d = realloc(b->data, nc);
        if (!d)
            return CV_ENOMEM;
        b->data = d;
        b->cap = nc;
    }
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
    return 0;
}

void cv_buf_free(cv_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static int put_value(cv_buf *b, int64_t v)
{
    uint64_t u = v < 0 ? ~((uint64_t)v << 1) : (uint64_t)v << 1;
    while (u >= 0x20) {
        if (cv_buf_putc(b, (char)((0x20 | (u & 0x1f)) + 63)))
            return CV_ENOMEM;
        u >>= 5;
    }
    return cv_buf_putc(b, (char)(u + 63));
}

/* Fixed 1e-7 to the polyline's 1e-5 or 1e-6 grid, rounding half away from zero. */
static int64_t to_precision(int32_t v, int precision)
{
    int64_t div = precision == 6 ? 10 : 100;
    return v >= 0 ? ((int64_t)v + div / 2) / div : -((-(int64_t)v + div / 2) / div);
}

int cv_polyline_encode(const cv_coord *pts, size_t n, int precision, cv_buf *b)
{
    int64_t plat = 0, plon = 0;
    if (cv_buf_putc(b, 'x'))
        return CV_ENOMEM;
    b->len--; /* ensure a NUL-terminated buffer even when n == 0 */
    b->data[b->len] = '\0';
    for (size_t i = 0; i < n; i++) {
        int64_t lat = to_precision(pts[i].lat, precision), lon = to_precision(pts[i].lon, precision);
        if (put_value(b, lat - plat) || put_value(b, lon - plon))
            return CV_ENOMEM;
        plat = lat;
        plon = lon;
    }
    return 0;
}

long cv_polyline_decode(const char *s, int precision, cv_coord *pts, size_t cap)
{
    int64_t mul = precision == 6 ? 10 : 100;
    int64_t lat = 0, lon = 0;
    size_t n = 0;
    while (*s) {
        int64_t vals[2];
        for (int k = 0; k < 2; k++) {
            uint64_t u = 0;
            int shift = 0, c;
            do {
                if (!*s || shift > 60)
                    return -1;
                c = *s++ - 63;
                if (c < 0 || c > 63)
                    return -1;
                u |= (uint64_t)(c & 0x1f) << shift;
                shift += 5;
            } while (c >= 0x20);
            vals[k] = (u & 1) ? ~(int64_t)(u >> 1) : (int64_t)(u >> 1);
        }
        lat += vals[0];
        lon += vals[1];
        if (n < cap)
            pts[n] = (cv_coord){(int32_t)(lon * mul), (int32_t)(lat * mul)};
        n++;
    }
    return (long)n;
}

uint32_t cv_hilbert16(uint32_t x, uint32_t y)
{
    x &= 0xffffu;
    y &= 0xffffu;
    uint32_t d = 0;
    for (uint32_t s = 1u << 15; s > 0; s >>= 1) {
        uint32_t rx = (x & s) > 0, ry = (y & s) > 0;
        d += s * s * ((3 * rx) ^ ry);
        if (ry == 0) {
            if (rx == 1) {
                x = 0xffffu - x;
                y = 0xffffu - y;
            }
            uint32_t t = x;
            x = y;
            y = t;
        }
    }
    return d;
}
