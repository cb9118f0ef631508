/* test_fuzz_regressions.c — what the fuzz targets (tests/fuzz) found wrong in covoit, one test per fix; the
   inputs that found them are in the targets' seed corpora (tests/fuzz/corpus/<target>/found-*). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "geo.h"

/* fuzz_graph: a graph file whose points are far from the query point (a longitude of -214.7 degrees in a file with
   good checksums) made cv_project_planar subtract the int32 coordinates in int: signed overflow, and a wrapped
   difference. Points on either side of the antimeridian are as far apart with valid coordinates. */
static void test_project_planar_far_points(void **state)
{
    (void)state;
    static const struct {
        cv_coord p, a, b;
    } cases[] = {
        {{437000000, 437000000}, {-2146691264, 0}, {-2146691264, 1000}},      /* what fuzz_graph found */
        {{1799000000, 5000}, {-1799000000, 0}, {-1799000000, 10000}},         /* across the antimeridian */
        {{-1800000000, -900000000}, {1800000000, 900000000}, {1800000000, 899999000}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cv_coord p = cases[i].p, a = cases[i].a, b = cases[i].b;
        cv_local_frame fr = cv_frame_at(p);
        double t;
        cv_coord onto;
        double d = cv_project_planar(&fr, p, a, b, &t, &onto);
        /* the same projection in doubles throughout */
        double ax = ((double)a.lon - p.lon) * fr.kx, ay = ((double)a.lat - p.lat) * fr.ky;
        double bx = ((double)b.lon - p.lon) * fr.kx, by = ((double)b.lat - p.lat) * fr.ky;
        double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
        double f = len2 > 0 ? -(ax * dx + ay * dy) / len2 : 0;
        f = f < 0 ? 0 : f > 1 ? 1 : f;
        double qlon = round(a.lon + f * ((double)b.lon - a.lon)), qlat = round(a.lat + f * ((double)b.lat - a.lat));
        double qx = (qlon - p.lon) * fr.kx, qy = (qlat - p.lat) * fr.ky;
        assert_true(fabs(t - f) < 1e-9);
        assert_int_equal(onto.lon, (int32_t)qlon);
        assert_int_equal(onto.lat, (int32_t)qlat);
        assert_true(fabs(d - sqrt(qx * qx + qy * qy)) <= 1e-6 * d);
        /* far: tens of thousands of kilometres in the local frame, never a wrapped few */
        assert_true(d > 1e7);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_project_planar_far_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
