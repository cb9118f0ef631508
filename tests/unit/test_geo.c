/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_geo.c — routing/geo.c: distances, projection onto segments, box bounds, coordinate parsing, polylines and
   the Hilbert curve. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cv_error.h"
#include "routing/geo.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Earth radius used by geo.c (mean radius); metres per degree of a great circle. */
#define R_EARTH 6371008.8
#define M_PER_DEG (R_EARTH * CV_PI / 180.0)

/* ---- deterministic PRNG (xorshift64*) ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng_next(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform integer in [lo, hi]. */
static int64_t rng_range(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rng_next() % (uint64_t)(hi - lo + 1));
}

static cv_coord C(double lon, double lat)
{
    return (cv_coord){cv_fixed(lon), cv_fixed(lat)};
}

/* The chord through the Earth is a lower bound on the haversine distance, and close to it: within 2 mm up to
   10 km, within 0.1 % up to 500 km (batch/ prunes pairs with it). */
static void test_chord(void **state)
{
    (void)state;
    uint64_t x = 12345;
    for (int i = 0; i < 20000; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        double lat = (double)(x >> 40) / (1 << 24) * 170 - 85,
               lon = (double)((x >> 16) & 0xffffff) / (1 << 24) * 360 - 180;
        double r = (double)(x & 0xffff) / 65536.0 * (i % 2 ? 10000 : 500000); /* metres */
        double b = (double)((x >> 8) & 0xff) / 256 * 6.283;
        cv_coord a = {cv_fixed(lon), cv_fixed(lat)};
        cv_coord c = {cv_fixed(lon + r * sin(b) / (111195.0 * cos(lat * 3.14159265358979323846 / 180))),
                      cv_fixed(lat + r * cos(b) / 111195.0)};
        double arc = cv_distance_m(a, c), chord = cv_chord_m(cv_xyz_of(a), cv_xyz_of(c));
        assert_true(chord <= arc + 1e-6);
        if (arc <= 10000)
            assert_true(arc - chord <= 0.002);
        else
            assert_true(arc - chord <= 0.001 * arc);
    }
    cv_coord p = {cv_fixed(-8.6110), cv_fixed(41.1496)};
    assert_true(cv_chord_m(cv_xyz_of(p), cv_xyz_of(p)) == 0);
}

/* ---- cv_fixed / cv_deg ---- */

static void test_fixed_rounding(void **state)
{
    (void)state;
    assert_int_equal(cv_fixed(7.4246), 74246000);
    assert_int_equal(cv_fixed(43.7384), 437384000);
    assert_int_equal(cv_fixed(1.23456789), 12345679);
    assert_int_equal(cv_fixed(-1.23456789), -12345679);
    assert_int_equal(cv_fixed(180.0), 1800000000);
    assert_int_equal(cv_fixed(-180.0), -1800000000);
    assert_int_equal(cv_fixed(0.0), 0);
    assert_true(fabs(cv_deg(123456789) - 12.3456789) < 1e-12);
    assert_true(fabs(cv_deg(-900000000) + 90.0) < 1e-12);
}

/* ---- cv_distance_m ---- */

static void test_distance_known(void **state)
{
    (void)state;
    /* Paris (Notre-Dame area) to London (Charing Cross): about 343.5 km. */
    double pl = cv_distance_m(C(2.3522, 48.8566), C(-0.1278, 51.5074));
    assert_true(fabs(pl - 343500.0) < 500.0);
    /* symmetric, zero on the same point */
    assert_true(fabs(cv_distance_m(C(-0.1278, 51.5074), C(2.3522, 48.8566)) - pl) < 1e-9);
    assert_true(cv_distance_m(C(7.4246, 43.7384), C(7.4246, 43.7384)) == 0.0);
    /* one degree of latitude anywhere, one degree of longitude on the equator and at 60 degrees */
    assert_true(fabs(cv_distance_m(C(0, 0), C(0, 1)) - M_PER_DEG) < 1e-3);
    assert_true(fabs(cv_distance_m(C(7.42, 43), C(7.42, 44)) - M_PER_DEG) < 1e-3);
    assert_true(fabs(cv_distance_m(C(0, 0), C(1, 0)) - M_PER_DEG) < 1e-3);
    assert_true(fabs(cv_distance_m(C(0, 60), C(1, 60)) - 55597.0109) < 0.01);
    /* half the circumference: antipodes on the equator, pole to pole */
    assert_true(fabs(cv_distance_m(C(0, 0), C(180, 0)) - CV_PI * R_EARTH) < 1.0);
    assert_true(fabs(cv_distance_m(C(0, 90), C(0, -90)) - CV_PI * R_EARTH) < 1.0);
    assert_true(fabs(cv_distance_m(C(-90, 0), C(90, 0)) - CV_PI * R_EARTH) < 1.0);
    /* across the antimeridian: 179.5 E to 179.5 W on the equator is one degree */
    assert_true(fabs(cv_distance_m(C(179.5, 0), C(-179.5, 0)) - M_PER_DEG) < 1e-3);
}

static void test_distance_smallest_steps(void **state)
{
    (void)state;
    const double step = M_PER_DEG * 1e-7; /* about 1.1 cm */
    static const double lats[] = {0.0, 43.7384, 60.0, -33.9, 89.0};
    for (size_t i = 0; i < NELEM(lats); i++) {
        cv_coord a = C(7.4246, lats[i]);
        cv_coord n = {a.lon, a.lat + 1}, e = {a.lon + 1, a.lat};
        double dn = cv_distance_m(a, n), de = cv_distance_m(a, e);
        /* a 1.1 cm step is computed as the difference of two ~1 rad latitudes: expect ~1e-7 relative error */
        assert_true(fabs(dn - step) < 1e-8);
        assert_true(fabs(de - step * cos(lats[i] * CV_PI / 180.0)) < 1e-8);
        /* ten steps are ten times one step */
        cv_coord n10 = {a.lon, a.lat + 10};
        assert_true(fabs(cv_distance_m(a, n10) - 10 * step) < 1e-8);
        /* diagonal step: Pythagoras at this scale */
        cv_coord ne = {a.lon + 1, a.lat + 1};
        assert_true(fabs(cv_distance_m(a, ne) - sqrt(dn * dn + de * de)) < 1e-8);
    }
}

static void test_distance_triangle_inequality(void **state)
{
    (void)state;
    for (int i = 0; i < 2000; i++) {
        cv_coord p[3];
        for (int k = 0; k < 3; k++)
            p[k] = (cv_coord){(int32_t)rng_range(-1800000000, 1800000000), (int32_t)rng_range(-900000000, 900000000)};
        double ab = cv_distance_m(p[0], p[1]), bc = cv_distance_m(p[1], p[2]), ac = cv_distance_m(p[0], p[2]);
        assert_true(ab >= 0 && ab <= CV_PI * R_EARTH + 1e-6);
        assert_true(ac <= ab + bc + 1e-6);
        assert_true(fabs(ab - cv_distance_m(p[1], p[0])) < 1e-6);
    }
}

/* ---- cv_project ---- */

static void test_project_clamps_to_ends(void **state)
{
    (void)state;
    cv_coord a = C(7.42, 43.73), b = C(7.43, 43.73); /* west to east, about 804 m */
    double t = -1;
    cv_coord q = {0, 0};
    /* beyond a (west of it, and south-west of it): t = 0, the point is a */
    cv_coord p = C(7.41, 43.73);
    double d = cv_project(p, a, b, &t, &q);
    assert_true(t == 0.0);
    assert_int_equal(q.lon, a.lon);
    assert_int_equal(q.lat, a.lat);
    assert_true(fabs(d - cv_distance_m(p, a)) < 1e-9);
    p = C(7.415, 43.725);
    d = cv_project(p, a, b, &t, &q);
    assert_true(t == 0.0);
    assert_true(q.lon == a.lon && q.lat == a.lat);
    assert_true(fabs(d - cv_distance_m(p, a)) < 1e-9);
    /* beyond b: t = 1, the point is b */
    p = C(7.44, 43.731);
    d = cv_project(p, a, b, &t, &q);
    assert_true(t == 1.0);
    assert_true(q.lon == b.lon && q.lat == b.lat);
    assert_true(fabs(d - cv_distance_m(p, b)) < 1e-9);
    /* the same with the segment reversed */
    d = cv_project(p, b, a, &t, &q);
    assert_true(t == 0.0);
    assert_true(q.lon == b.lon && q.lat == b.lat);
    /* exactly on an end */
    d = cv_project(a, a, b, &t, &q);
    assert_true(d == 0.0 && t == 0.0 && q.lon == a.lon && q.lat == a.lat);
    d = cv_project(b, a, b, &t, &q);
    assert_true(d == 0.0 && t == 1.0 && q.lon == b.lon && q.lat == b.lat);
}

static void test_project_perpendicular_foot(void **state)
{
    (void)state;
    /* horizontal segment, point 0.001 degree north of its middle: the foot is the middle, ~111 m away */
    cv_coord a = C(7.42, 43.73), b = C(7.43, 43.73);
    cv_coord p = C(7.425, 43.731);
    double t;
    cv_coord q;
    double d = cv_project(p, a, b, &t, &q);
    assert_true(fabs(t - 0.5) < 1e-9);
    assert_true(abs(q.lon - cv_fixed(7.425)) <= 1);
    assert_int_equal(q.lat, a.lat);
    assert_true(fabs(d - 0.001 * M_PER_DEG) < 0.01);
    assert_true(fabs(d - cv_distance_m(p, q)) < 1e-9);
    /* vertical segment, point east of it at a quarter */
    a = C(7.42, 43.73), b = C(7.42, 43.74);
    p = C(7.421, 43.7325);
    d = cv_project(p, a, b, &t, &q);
    assert_true(fabs(t - 0.25) < 1e-9);
    assert_int_equal(q.lon, a.lon);
    assert_true(abs(q.lat - cv_fixed(43.7325)) <= 1);
    assert_true(fabs(d - 0.001 * M_PER_DEG * cos(43.7325 * CV_PI / 180)) < 0.05);
    /* random diagonal segments near Monaco: the foot is on the segment, p - foot is perpendicular to it, and no
       sampled point of the segment is nearer than the answer (beyond centimetre rounding) */
    for (int i = 0; i < 2000; i++) {
        cv_coord base = C(7.42, 43.73);
        a = (cv_coord){base.lon + (int32_t)rng_range(-50000, 50000), base.lat + (int32_t)rng_range(-50000, 50000)};
        b = (cv_coord){base.lon + (int32_t)rng_range(-50000, 50000), base.lat + (int32_t)rng_range(-50000, 50000)};
        p = (cv_coord){base.lon + (int32_t)rng_range(-80000, 80000), base.lat + (int32_t)rng_range(-80000, 80000)};
        d = cv_project(p, a, b, &t, &q);
        assert_true(t >= 0.0 && t <= 1.0);
        assert_true(fabs(d - cv_distance_m(p, q)) < 1e-9);
        /* q is a + t (b - a), rounded to the 1e-7 grid */
        assert_true(fabs(q.lon - (a.lon + t * (double)(b.lon - a.lon))) <= 0.5 + 1e-9);
        assert_true(fabs(q.lat - (a.lat + t * (double)(b.lat - a.lat))) <= 0.5 + 1e-9);
        double best = INFINITY;
        for (int k = 0; k <= 200; k++) {
            double f = k / 200.0;
            cv_coord s = {(int32_t)lround(a.lon + f * (double)(b.lon - a.lon)),
                          (int32_t)lround(a.lat + f * (double)(b.lat - a.lat))};
            double ds = cv_distance_m(p, s);
            if (ds < best)
                best = ds;
        }
        assert_true(d <= best + 0.02);
        assert_true(d <= cv_distance_m(p, a) + 0.02 && d <= cv_distance_m(p, b) + 0.02);
        if (t > 0.0 && t < 1.0) {
            /* perpendicular in a local metric frame (cos of the latitude), to rounding of q */
            double kx = cos(cv_deg(p.lat) * CV_PI / 180.0);
            double ux = (b.lon - a.lon) * kx, uy = b.lat - a.lat;
            double vx = (p.lon - q.lon) * kx, vy = p.lat - q.lat;
            double cosang = (ux * vx + uy * vy) / (sqrt(ux * ux + uy * uy) * sqrt(vx * vx + vy * vy) + 1e-300);
            if (d > 1.0)
                assert_true(fabs(cosang) < 0.02);
        }
    }
}

static void test_project_degenerate_segment(void **state)
{
    (void)state;
    cv_coord a = C(7.4246, 43.7384);
    cv_coord p = C(7.4256, 43.7394);
    double t = -1;
    cv_coord q = {0, 0};
    double d = cv_project(p, a, a, &t, &q);
    assert_true(t == 0.0);
    assert_true(q.lon == a.lon && q.lat == a.lat);
    assert_true(fabs(d - cv_distance_m(p, a)) < 1e-9);
    assert_false(isnan(d));
    /* p on the degenerate segment */
    d = cv_project(a, a, a, &t, &q);
    assert_true(d == 0.0 && t == 0.0 && q.lon == a.lon && q.lat == a.lat);
}

/* ---- cv_box_distance_m ---- */

static void test_box_distance_inside_is_zero(void **state)
{
    (void)state;
    cv_coord lo = C(7.40, 43.72), hi = C(7.45, 43.76);
    assert_true(cv_box_distance_m(C(7.42, 43.74), lo, hi) == 0.0);
    assert_true(cv_box_distance_m(lo, lo, hi) == 0.0);
    assert_true(cv_box_distance_m(hi, lo, hi) == 0.0);
    assert_true(cv_box_distance_m(C(7.40, 43.75), lo, hi) == 0.0); /* on an edge */
    /* degenerate box (a point) */
    assert_true(cv_box_distance_m(lo, lo, lo) == 0.0);
    for (int i = 0; i < 1000; i++) {
        cv_coord p = {(int32_t)rng_range(lo.lon, hi.lon), (int32_t)rng_range(lo.lat, hi.lat)};
        assert_true(cv_box_distance_m(p, lo, hi) == 0.0);
    }
}

static void test_box_distance_lower_bound(void **state)
{
    (void)state;
    /* boxes up to ~10 km, points up to ~50 km away: the bound never exceeds the distance to any point of the box,
       and it is tight (within 0.2 %) for the box's nearest corner or edge point */
    for (int i = 0; i < 500; i++) {
        int32_t clon = (int32_t)rng_range(-1700000000, 1700000000), clat = (int32_t)rng_range(-700000000, 700000000);
        cv_coord lo = {clon - (int32_t)rng_range(0, 600000), clat - (int32_t)rng_range(0, 450000)};
        cv_coord hi = {clon + (int32_t)rng_range(0, 600000), clat + (int32_t)rng_range(0, 450000)};
        cv_coord p = {clon + (int32_t)rng_range(-6000000, 6000000), clat + (int32_t)rng_range(-4500000, 4500000)};
        double lb = cv_box_distance_m(p, lo, hi);
        assert_true(lb >= 0.0);
        double best = INFINITY;
        for (int k = 0; k < 400; k++) {
            cv_coord q;
            switch (k % 5) {
            case 0: /* anywhere inside */
                q = (cv_coord){(int32_t)rng_range(lo.lon, hi.lon), (int32_t)rng_range(lo.lat, hi.lat)};
                break;
            case 1:
                q = (cv_coord){lo.lon, (int32_t)rng_range(lo.lat, hi.lat)};
                break;
            case 2:
                q = (cv_coord){hi.lon, (int32_t)rng_range(lo.lat, hi.lat)};
                break;
            case 3:
                q = (cv_coord){(int32_t)rng_range(lo.lon, hi.lon), lo.lat};
                break;
            default:
                q = (cv_coord){(int32_t)rng_range(lo.lon, hi.lon), hi.lat};
                break;
            }
            double d = cv_distance_m(p, q);
            assert_true(lb <= d);
            if (d < best)
                best = d;
        }
        /* the clamped point itself */
        cv_coord c = p;
        c.lon = c.lon < lo.lon ? lo.lon : c.lon > hi.lon ? hi.lon : c.lon;
        c.lat = c.lat < lo.lat ? lo.lat : c.lat > hi.lat ? hi.lat : c.lat;
        double dc = cv_distance_m(p, c);
        assert_true(lb <= dc);
        assert_true(lb >= 0.998 * dc);
    }
    /* a box east of a point at the same latitude: the bound is just under the distance to the west edge */
    cv_coord lo = C(7.43, 43.70), hi = C(7.44, 43.80), p = C(7.42, 43.75);
    double lb = cv_box_distance_m(p, lo, hi), d = cv_distance_m(p, C(7.43, 43.75));
    assert_true(lb <= d && lb > 0.998 * d);
}

/* ---- cv_parse_lonlat ---- */

static void test_parse_lonlat_good(void **state)
{
    (void)state;
    cv_coord c = {0, 0};
    assert_int_equal(cv_parse_lonlat("7.4246,43.7384", &c), 0);
    assert_int_equal(c.lon, 74246000);
    assert_int_equal(c.lat, 437384000);
    assert_int_equal(cv_parse_lonlat("-0.1278,51.5074", &c), 0);
    assert_int_equal(c.lon, -1278000);
    assert_int_equal(c.lat, 515074000);
    assert_int_equal(cv_parse_lonlat("180,90", &c), 0);
    assert_int_equal(c.lon, 1800000000);
    assert_int_equal(c.lat, 900000000);
    assert_int_equal(cv_parse_lonlat("-180,-90", &c), 0);
    assert_int_equal(c.lon, -1800000000);
    assert_int_equal(c.lat, -900000000);
    assert_int_equal(cv_parse_lonlat("0,0", &c), 0);
    assert_int_equal(c.lon, 0);
    assert_int_equal(c.lat, 0);
    assert_int_equal(cv_parse_lonlat("1.23456789,-2.5", &c), 0);
    assert_int_equal(c.lon, 12345679);
    assert_int_equal(c.lat, -25000000);
    assert_int_equal(cv_parse_lonlat("1e1,2", &c), 0);
    assert_int_equal(c.lon, 100000000);
    assert_int_equal(c.lat, 20000000);
}

static void test_parse_lonlat_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",      "1",    "a,b",  "1,2,3", "200,0",          "0,95",         "1,2x",  ",",
        "1,",    ",2",   "1;2",  "1 2",   "-180.0000001,0", "0,90.0000001", "0,-95", "nan,0",
        "0,inf", "1,2 ", "x1,2", "1,,2"};
    for (size_t i = 0; i < NELEM(bad); i++) {
        cv_coord c = {0, 0};
        int rc = cv_parse_lonlat(bad[i], &c);
        if (rc != -1)
            fail_msg("cv_parse_lonlat(\"%s\") returned %d, expected -1", bad[i], rc);
    }
    cv_coord c;
    assert_int_equal(cv_parse_lonlat(NULL, &c), -1);
}

/* ---- polylines ---- */

static char *encode(const cv_coord *pts, size_t n, int precision)
{
    cv_buf b = {0};
    assert_int_equal(cv_polyline_encode(pts, n, precision, &b), 0);
    assert_non_null(b.data);
    assert_int_equal(strlen(b.data), b.len);
    return b.data; /* caller frees */
}

static void test_polyline_google_example(void **state)
{
    (void)state;
    /* https://developers.google.com/maps/documentation/utilities/polylinealgorithm */
    const char *want = "_p~iF~ps|U_ulLnnqC_mqNvxq`@";
    cv_coord pts[3] = {C(-120.2, 38.5), C(-120.95, 40.7), C(-126.453, 43.252)};
    char *s = encode(pts, 3, 5);
    assert_string_equal(s, want);
    free(s);
    cv_coord out[4];
    memset(out, 0, sizeof out);
    assert_int_equal(cv_polyline_decode(want, 5, out, 4), 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(out[i].lon, pts[i].lon);
        assert_int_equal(out[i].lat, pts[i].lat);
    }
    /* the documented single value: -179.9832104 encodes as `~oia@ (here as a latitude, longitude 0 is "?") */
    cv_coord one = C(0, -179.9832104);
    s = encode(&one, 1, 5);
    assert_string_equal(s, "`~oia@?");
    free(s);
    /* cap smaller than the number of points: the count is still returned, only cap points are written */
    cv_coord few[2] = {{111, 222}, {333, 444}};
    assert_int_equal(cv_polyline_decode(want, 5, few, 1), 3);
    assert_int_equal(few[0].lon, pts[0].lon);
    assert_int_equal(few[0].lat, pts[0].lat);
    assert_int_equal(few[1].lon, 333);
    assert_int_equal(few[1].lat, 444);
    assert_int_equal(cv_polyline_decode(want, 5, NULL, 0), 3);
}

static void test_polyline_empty_and_append(void **state)
{
    (void)state;
    char *s = encode(NULL, 0, 5);
    assert_string_equal(s, "");
    free(s);
    assert_int_equal(cv_polyline_decode("", 5, NULL, 0), 0);
    /* encoding appends to what the buffer holds */
    cv_buf b = {0};
    assert_int_equal(cv_buf_putc(&b, 'a'), 0);
    assert_int_equal(cv_buf_putc(&b, 'b'), 0);
    cv_coord pts[3] = {C(-120.2, 38.5), C(-120.95, 40.7), C(-126.453, 43.252)};
    assert_int_equal(cv_polyline_encode(pts, 3, 5, &b), 0);
    assert_string_equal(b.data, "ab_p~iF~ps|U_ulLnnqC_mqNvxq`@");
    assert_int_equal(b.len, strlen(b.data));
    cv_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    cv_buf_free(&b); /* twice is fine */
}

static void test_polyline_malformed(void **state)
{
    (void)state;
    cv_coord out[8];
    assert_int_equal(cv_polyline_decode("_p~iF", 5, out, 8), -1);                /* a latitude without longitude */
    assert_int_equal(cv_polyline_decode("_", 5, out, 8), -1);                    /* unterminated value */
    assert_int_equal(cv_polyline_decode("_p~iF~ps|", 5, out, 8), -1);            /* unterminated longitude */
    assert_int_equal(cv_polyline_decode("?? ?", 5, out, 8), -1);                 /* byte below '?' */
    assert_int_equal(cv_polyline_decode("??\x7f?", 5, out, 8), -1);              /* byte above '~' */
    assert_int_equal(cv_polyline_decode("~~~~~~~~~~~~~~~~~~??", 5, out, 8), -1); /* endless continuation */
    assert_int_equal(cv_polyline_decode("??", 5, out, 8), 1);
    assert_int_equal(out[0].lon, 0);
    assert_int_equal(out[0].lat, 0);
}

static int64_t round_div(int64_t v, int64_t div)
{
    return v >= 0 ? (v + div / 2) / div : -((-v + div / 2) / div);
}

static void roundtrip(int precision, int exact)
{
    enum { N = 300 };
    int64_t div = precision == 6 ? 10 : 100;
    cv_coord pts[N], out[N];
    for (int round = 0; round < 50; round++) {
        size_t n = (size_t)rng_range(1, N);
        for (size_t i = 0; i < n; i++) {
            if (round % 3 == 0) /* anywhere on Earth, big jumps */
                pts[i] =
                    (cv_coord){(int32_t)rng_range(-1800000000, 1800000000), (int32_t)rng_range(-900000000, 900000000)};
            else /* a road: small steps */
                pts[i] = i == 0 ? C(7.42, 43.73)
                                : (cv_coord){pts[i - 1].lon + (int32_t)rng_range(-3000, 3000),
                                             pts[i - 1].lat + (int32_t)rng_range(-3000, 3000)};
            if (exact) {
                pts[i].lon = (int32_t)(round_div(pts[i].lon, div) * div);
                pts[i].lat = (int32_t)(round_div(pts[i].lat, div) * div);
            }
        }
        char *s = encode(pts, n, precision);
        memset(out, 0, sizeof out);
        assert_int_equal(cv_polyline_decode(s, precision, out, N), (long)n);
        for (size_t i = 0; i < n; i++) {
            int64_t wlon = round_div(pts[i].lon, div) * div, wlat = round_div(pts[i].lat, div) * div;
            assert_int_equal(out[i].lon, wlon);
            assert_int_equal(out[i].lat, wlat);
            if (exact) {
                assert_int_equal(out[i].lon, pts[i].lon);
                assert_int_equal(out[i].lat, pts[i].lat);
            }
            assert_true(llabs((long long)out[i].lon - pts[i].lon) <= div / 2);
            assert_true(llabs((long long)out[i].lat - pts[i].lat) <= div / 2);
        }
        /* re-encoding the decoded points gives the same text */
        char *s2 = encode(out, n, precision);
        assert_string_equal(s, s2);
        free(s);
        free(s2);
    }
}

static void test_polyline_roundtrip_5(void **state)
{
    (void)state;
    roundtrip(5, 0);
    roundtrip(5, 1);
}

static void test_polyline_roundtrip_6(void **state)
{
    (void)state;
    roundtrip(6, 0);
    roundtrip(6, 1);
    /* precision 6 keeps a digit that precision 5 loses */
    cv_coord p = C(7.123456, 43.654321);
    char *s = encode(&p, 1, 6);
    cv_coord out;
    assert_int_equal(cv_polyline_decode(s, 6, &out, 1), 1);
    assert_int_equal(out.lon, 71234560);
    assert_int_equal(out.lat, 436543210);
    free(s);
    s = encode(&p, 1, 5);
    assert_int_equal(cv_polyline_decode(s, 5, &out, 1), 1);
    assert_int_equal(out.lon, 71234600);
    assert_int_equal(out.lat, 436543200);
    free(s);
    /* rounding half away from zero on the negative side */
    cv_coord neg = {-150, -250}; /* -0.0000150, -0.0000250 */
    s = encode(&neg, 1, 5);
    assert_int_equal(cv_polyline_decode(s, 5, &out, 1), 1);
    assert_int_equal(out.lon, -200);
    assert_int_equal(out.lat, -300);
    free(s);
}

/* ---- cv_hilbert16 ---- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void test_hilbert_corner_square_is_a_permutation(void **state)
{
    (void)state;
    /* the first 4^8 positions of the curve fill the 256 x 256 square at the origin: every d < 65536 exactly once,
       and consecutive positions are neighbouring cells */
    enum { S = 256 };
    int32_t *cell = malloc((size_t)S * S * sizeof *cell);
    assert_non_null(cell);
    for (size_t i = 0; i < (size_t)S * S; i++)
        cell[i] = -1;
    for (uint32_t x = 0; x < S; x++)
        for (uint32_t y = 0; y < S; y++) {
            uint32_t d = cv_hilbert16(x, y);
            assert_true(d < (uint32_t)S * S);
            assert_int_equal(cell[d], -1);
            cell[d] = (int32_t)(x << 8 | y);
        }
    assert_int_equal(cv_hilbert16(0, 0), 0);
    for (uint32_t d = 0; d + 1 < (uint32_t)S * S; d++) {
        int x0 = cell[d] >> 8, y0 = cell[d] & 255, x1 = cell[d + 1] >> 8, y1 = cell[d + 1] & 255;
        assert_int_equal(abs(x0 - x1) + abs(y0 - y1), 1);
    }
    free(cell);
}

static void test_hilbert_distinct_on_subsampled_grid(void **state)
{
    (void)state;
    enum { S = 256 };
    uint32_t *d = malloc((size_t)S * S * sizeof *d);
    assert_non_null(d);
    size_t n = 0;
    for (uint32_t i = 0; i < S; i++)
        for (uint32_t j = 0; j < S; j++)
            d[n++] = cv_hilbert16(i * 257u, j * 257u); /* 0 .. 65535 in steps of 257 */
    qsort(d, n, sizeof *d, cmp_u32);
    for (size_t i = 1; i < n; i++)
        assert_true(d[i - 1] != d[i]);
    free(d);
    /* the curve starts at (0,0) and ends at (65535,0), the other corner of the same side */
    assert_int_equal(cv_hilbert16(0, 0), 0);
    assert_int_equal(cv_hilbert16(65535, 0), UINT32_MAX);
    /* only the low 16 bits of x and y count */
    assert_int_equal(cv_hilbert16(65536 + 5, 7), cv_hilbert16(5, 7));
    assert_int_equal(cv_hilbert16(3, 0x10000u + 9), cv_hilbert16(3, 9));
}

static void test_hilbert_consecutive_are_neighbours(void **state)
{
    (void)state;
    /* for random cells of the full 2^16 grid, position d - 1 and d + 1 are among the four neighbours */
    static const int dx[4] = {1, -1, 0, 0}, dy[4] = {0, 0, 1, -1};
    for (int i = 0; i < 20000; i++) {
        uint32_t x = (uint32_t)rng_range(0, 65535), y = (uint32_t)rng_range(0, 65535);
        if (i < 4) { /* corners too */
            x = (i & 1) ? 65535 : 0;
            y = (i & 2) ? 65535 : 0;
        }
        uint32_t d = cv_hilbert16(x, y);
        int next = 0, prev = 0, same = 0;
        for (int k = 0; k < 4; k++) {
            int64_t nx = (int64_t)x + dx[k], ny = (int64_t)y + dy[k];
            if (nx < 0 || ny < 0 || nx > 65535 || ny > 65535)
                continue;
            uint32_t dn = cv_hilbert16((uint32_t)nx, (uint32_t)ny);
            next += d != UINT32_MAX && dn == d + 1;
            prev += d != 0 && dn == d - 1;
            same += dn == d;
        }
        assert_int_equal(same, 0);
        assert_int_equal(next, d != UINT32_MAX ? 1 : 0);
        assert_int_equal(prev, d != 0 ? 1 : 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_rounding),
        cmocka_unit_test(test_chord),
        cmocka_unit_test(test_distance_known),
        cmocka_unit_test(test_distance_smallest_steps),
        cmocka_unit_test(test_distance_triangle_inequality),
        cmocka_unit_test(test_project_clamps_to_ends),
        cmocka_unit_test(test_project_perpendicular_foot),
        cmocka_unit_test(test_project_degenerate_segment),
        cmocka_unit_test(test_box_distance_inside_is_zero),
        cmocka_unit_test(test_box_distance_lower_bound),
        cmocka_unit_test(test_parse_lonlat_good),
        cmocka_unit_test(test_parse_lonlat_bad),
        cmocka_unit_test(test_polyline_google_example),
        cmocka_unit_test(test_polyline_empty_and_append),
        cmocka_unit_test(test_polyline_malformed),
        cmocka_unit_test(test_polyline_roundtrip_5),
        cmocka_unit_test(test_polyline_roundtrip_6),
        cmocka_unit_test(test_hilbert_corner_square_is_a_permutation),
        cmocka_unit_test(test_hilbert_distinct_on_subsampled_grid),
        cmocka_unit_test(test_hilbert_consecutive_are_neighbours),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
