/* test_fuzz_regressions.c — what the fuzz targets (tests/fuzz) found wrong in covoit, one test per fix; the
   inputs that found them are in the targets' seed corpora (tests/fuzz/corpus/<target>/found-*). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "geo.h"
#include "osm_reader.h"

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

/* fuzz_osm_pbf: a PBF whose string table holds an entry with NUL bytes in it ("living_street" mutated into "livin",
   0x06 and NULs). libosmium copies the entry as it is into the tag list, which then holds more strings than it has
   pairs, and the reader stepped from NUL to NUL past the end of the list (a heap over-read, or garbage tags). The
   tags are now read within the list: way 3 gets the shifted strings and drops the unpaired last one, and the ways
   with whole strings keep their tags. */
typedef struct way_tags {
    int64_t id;
    size_t n;
    char first[64], last_value[64], name[64];
} way_tags;

static int on_way(void *ud, int64_t id, const int64_t *refs, size_t nrefs, const cv_tag *tags, size_t ntags)
{
    (void)refs, (void)nrefs;
    way_tags *w = ud;
    for (; w->id && w->id != id; w++)
        ;
    if (!w->id)
        return 0;
    w->n = ntags;
    if (ntags) {
        snprintf(w->first, sizeof w->first, "%s=%s", tags[0].key, tags[0].value);
        snprintf(w->last_value, sizeof w->last_value, "%s", tags[ntags - 1].value);
    }
    for (size_t i = 0; i < ntags; i++)
        if (!strcmp(tags[i].key, "name"))
            snprintf(w->name, sizeof w->name, "%s", tags[i].value);
    return 0;
}

static void test_pbf_tag_with_nul(void **state)
{
    (void)state;
    way_tags ways[] = {{3, 0, "", "", ""}, {5, 0, "", "", ""}, {0, 0, "", "", ""}};
    cv_osm_handler h = {0};
    h.ud = ways;
    h.way = on_way;
    cv_error err = {0};
    assert_int_equal(cv_osm_read(COVOIT_TEST_DATA "/../fuzz/corpus/fuzz_osm_pbf/found-tag-with-nul.osm.pbf", &h, NULL,
                                 &err), 0);
    assert_int_equal(ways[0].n, 5);
    assert_string_equal(ways[0].first, "highway=livin\x06");
    assert_string_equal(ways[0].last_value, "name");
    assert_string_equal(ways[0].name, "");
    assert_int_equal(ways[1].n, 2);
    assert_string_equal(ways[1].first, "highway=primary");
    assert_string_equal(ways[1].name, "Fast Way");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_project_planar_far_points),
        cmocka_unit_test(test_pbf_tag_with_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
