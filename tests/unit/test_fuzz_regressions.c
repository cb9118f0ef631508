/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_fuzz_regressions.c — what the fuzz targets (tests/fuzz) found wrong in covoit, one test per fix; the
   inputs that found them are in the targets' seed corpora (tests/fuzz/corpus/<target>/found-*). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "routing/geo.h"
#include "routing/graph_build.h"
#include "routing/guidance.h"
#include "osm/osm_network.h"
#include "routing/route.h"
#include "routing/snap.h"
#include "osm/osm_reader.h"

/* fuzz_graph: a graph file whose points are far from the query point (a longitude of -214.7 degrees in a file with
   good checksums) made cv_project_planar subtract the int32 coordinates in int: signed overflow, and a wrapped
   difference. Points on either side of the antimeridian are as far apart with valid coordinates. */
/* Imports the OSM file `in` as `covoit import` does into the graph file `out`, and opens it. */
static cv_graph *import_and_open(const char *in, const char *out)
{
    cv_profile_options popt = cv_profile_defaults();
    cv_network net;
    cv_error err = {0};
    assert_int_equal(cv_network_read(in, &popt, NULL, &net, &err), 0);
    int rc = cv_graph_build(&net, in, out, NULL, NULL, &err);
    cv_network_free(&net);
    if (rc)
        fail_msg("build: %s", err.text);
    cv_graph *g = cv_graph_open(out, &err);
    if (!g)
        fail_msg("open: %s", err.text);
    return g;
}

static void test_project_planar_far_points(void **state)
{
    (void)state;
    static const struct {
        cv_coord p, a, b;
    } cases[] = {
        {{437000000, 437000000}, {-2146691264, 0}, {-2146691264, 1000}}, /* what fuzz_graph found */
        {{1799000000, 5000}, {-1799000000, 0}, {-1799000000, 10000}},    /* across the antimeridian */
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
    assert_int_equal(
        cv_osm_read(COVOIT_TEST_DATA "/../fuzz/corpus/fuzz_osm_pbf/found-tag-with-nul.osm.pbf", &h, NULL, &err), 0);
    assert_int_equal(ways[0].n, 5);
    assert_string_equal(ways[0].first, "highway=livin\x06");
    assert_string_equal(ways[0].last_value, "name");
    assert_string_equal(ways[0].name, "");
    assert_int_equal(ways[1].n, 2);
    assert_string_equal(ways[1].first, "highway=primary");
    assert_string_equal(ways[1].name, "Fast Way");
}

/* fuzz_osm_pbf (found-wide-bbox.osm.pbf): a graph whose roads span more than 214.7 degrees of longitude made the
   grid builder subtract the int32 bounds in int (signed overflow, and a negative width: a garbage grid); the
   bearings of the turn-by-turn steps had the same subtraction, done in double now too. A road on the 10th
   parallel from -179.9 to 179.9 (one segment across the antimeridian, 359.8 degrees apart as coordinates, then a
   short one) builds, gets the whole span as its bounding box, snaps at both ends and routes end to end. */
static void test_graph_across_the_world(void **state)
{
    (void)state;
    char in[1024], out[1024];
    snprintf(in, sizeof in, "%s/fuzz_wide.osm", COVOIT_TMP);
    snprintf(out, sizeof out, "%s/fuzz_wide.graph", COVOIT_TMP);
    FILE *f = fopen(in, "w");
    assert_non_null(f);
    fputs("<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\" generator=\"test\">\n"
          " <node id=\"1\" lat=\"10\" lon=\"-179.9\"/>\n <node id=\"2\" lat=\"10\" lon=\"179.9\"/>\n"
          " <node id=\"3\" lat=\"10.001\" lon=\"179.9\"/>\n"
          " <way id=\"1\"><nd ref=\"1\"/><nd ref=\"2\"/><nd ref=\"3\"/><tag k=\"highway\" v=\"residential\"/></way>\n"
          "</osm>\n",
          f);
    assert_int_equal(fclose(f), 0);
    cv_error err = {0};
    cv_graph *g = import_and_open(in, out);
    assert_int_equal(g->hdr.bbox[0], -1799000000);
    assert_int_equal(g->hdr.bbox[2], 1799000000);
    assert_true(g->hdr.grid_cols >= 1 && g->hdr.grid_rows >= 1);
    /* every point of the span is inside the grid */
    assert_true((int64_t)g->hdr.grid_lon0 + (int64_t)g->hdr.grid_cols * g->hdr.grid_cell_lon > 1799000000);
    cv_snap_options so = cv_snap_defaults();
    cv_snap s, t;
    assert_int_equal(cv_snap_point(g, (cv_coord){-1798999000, 100000000}, &so, &s, &err), 0);
    assert_int_equal(cv_snap_point(g, (cv_coord){1799000000, 100005000}, &so, &t, &err), 0);
    assert_true(s.distance_m < 1 && t.distance_m < 1);
    cv_dijkstra *w = cv_dijkstra_new(g);
    assert_non_null(w);
    cv_path p;
    memset(&p, 0, sizeof p);
    if (cv_dijkstra_route(w, &s, &t, &p, &err))
        fail_msg("route: %s", err.text);
    /* the segment crosses the antimeridian: 0.2 degrees of the parallel (21.9 km) and 111 m north */
    assert_true(p.distance_dm > 218000u && p.distance_dm < 221000u);
    cv_steps st;
    memset(&st, 0, sizeof st);
    assert_int_equal(cv_path_steps(g, &p, &st), 0);
    assert_true(st.n >= 2);
    cv_steps_free(&st);
    cv_path_free(&p);
    cv_dijkstra_free(w);
    cv_graph_close(g);
}

static int count_open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static int skip_node(void *ud, int64_t id, int32_t lon, int32_t lat, const cv_tag *tags, size_t ntags)
{
    (void)ud, (void)id, (void)lon, (void)lat, (void)tags, (void)ntags;
    return 0;
}

/* fuzz_osm_pbf (a long run): every PBF that libosmium fails to parse left its file descriptor open (its PBF parser
   closes the file only after reading it to the end), until open failed after some 20,000 bad inputs. A truncated
   Monaco read 50 times fails 50 times with a message and leaves no descriptor open; a good read neither. */
static void test_bad_pbf_leaves_no_descriptor(void **state)
{
    (void)state;
    char cut[1024];
    snprintf(cut, sizeof cut, "%s/fuzz_truncated.osm.pbf", COVOIT_TMP);
    FILE *in = fopen(COVOIT_TEST_DATA "/monaco.osm.pbf", "rb"), *out = fopen(cut, "wb");
    assert_non_null(in);
    assert_non_null(out);
    static char buf[60000];
    size_t n = fread(buf, 1, sizeof buf, in);
    assert_int_equal(n, sizeof buf);
    assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
    cv_osm_handler h = {0};
    h.node = skip_node;
    int before = count_open_fds();
    for (int i = 0; i < 50; i++) {
        cv_error err = {0};
        assert_int_equal(cv_osm_read(cut, &h, NULL, &err), CV_EFORMAT);
        assert_non_null(strstr(err.text, "cannot read OSM data"));
    }
    assert_int_equal(count_open_fds(), before);
    cv_error err = {0};
    assert_int_equal(cv_osm_read(COVOIT_TEST_DATA "/monaco.osm.pbf", &h, NULL, &err), 0);
    assert_int_equal(count_open_fds(), before);
    unlink(cut);
}

/* fuzz_osm_pbf (a long run, found-wide-grid.osm.pbf): an 11 KB file whose 53 roads are scattered over the world
   took 65 s and 2 GB to import. A segment goes into every grid cell of its bounding box, and the cells are at most
   5 km: a few long diagonal segments filled millions of cells each. The cells now grow until the entries are a few
   per segment. Four roads across the world, each one long diagonal segment: a handful of entries each, and the
   points at their ends still snap. */
static void test_grid_of_long_segments(void **state)
{
    (void)state;
    char in[1024], out[1024];
    snprintf(in, sizeof in, "%s/fuzz_long_segments.osm", COVOIT_TMP);
    snprintf(out, sizeof out, "%s/fuzz_long_segments.graph", COVOIT_TMP);
    FILE *f = fopen(in, "w");
    assert_non_null(f);
    fputs("<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\" generator=\"test\">\n", f);
    for (int w = 0; w < 4; w++) {
        double lon0 = -170 + 5 * w, lat0 = -70 + 3 * w;
        fprintf(f, " <node id=\"%d\" lat=\"%.4f\" lon=\"%.4f\"/>\n <node id=\"%d\" lat=\"%.4f\" lon=\"%.4f\"/>\n",
                10 * w + 1, lat0, lon0, 10 * w + 2, -lat0, -lon0);
        fprintf(f, " <way id=\"%d\"><nd ref=\"%d\"/><nd ref=\"%d\"/><tag k=\"highway\" v=\"primary\"/></way>\n", w + 1,
                10 * w + 1, 10 * w + 2);
    }
    fputs("</osm>\n", f);
    assert_int_equal(fclose(f), 0);
    cv_error err = {0};
    cv_graph *g = import_and_open(in, out);
    uint64_t items = g->hdr.sections[CV_SEC_GRID_ITEM].count;
    /* within the budget of 8 per segment and 2^20 (it was about 16 million per segment) */
    assert_true(items >= 4 && items <= 8 * 4 + (1u << 20));
    cv_snap_options so = cv_snap_defaults();
    cv_snap s;
    assert_int_equal(cv_snap_point(g, (cv_coord){-1700000000, -700000000}, &so, &s, &err), 0);
    assert_true(s.distance_m < 1);
    assert_int_equal(cv_snap_point(g, (cv_coord){1550000000, 610000000}, &so, &s, &err), 0);
    assert_true(s.distance_m < 1);
    cv_graph_close(g);
    unlink(in);
    unlink(out);
}

/* fuzz_osm_xml (an hour's run): a restriction whose via member is node 0 read as "via ways" with no via way, and
   the resolver read an unset via way: a crash. The reader now skips such a relation (node 0 is no OSM node), and
   the resolver refuses a restriction with neither a via node nor via ways. */
static void test_restriction_via_node_zero(void **state)
{
    (void)state;
    char in[1024], out[1024];
    snprintf(in, sizeof in, "%s/fuzz_via_zero.osm", COVOIT_TMP);
    snprintf(out, sizeof out, "%s/fuzz_via_zero.graph", COVOIT_TMP);
    FILE *f = fopen(in, "w");
    assert_non_null(f);
    fputs("<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\" generator=\"test\">\n"
          " <node id=\"1\" lat=\"43.70\" lon=\"7.398\"/>\n <node id=\"2\" lat=\"43.70\" lon=\"7.400\"/>\n"
          " <node id=\"3\" lat=\"43.70\" lon=\"7.402\"/>\n <node id=\"4\" lat=\"43.7015\" lon=\"7.400\"/>\n"
          " <way id=\"10\"><nd ref=\"1\"/><nd ref=\"2\"/><tag k=\"highway\" v=\"residential\"/></way>\n"
          " <way id=\"11\"><nd ref=\"2\"/><nd ref=\"3\"/><tag k=\"highway\" v=\"residential\"/></way>\n"
          " <way id=\"12\"><nd ref=\"2\"/><nd ref=\"4\"/><tag k=\"highway\" v=\"residential\"/></way>\n"
          " <relation id=\"20\"><member type=\"way\" ref=\"10\" role=\"from\"/>"
          "<member type=\"node\" ref=\"0\" role=\"via\"/><member type=\"way\" ref=\"12\" role=\"to\"/>"
          "<tag k=\"type\" v=\"restriction\"/><tag k=\"restriction\" v=\"no_left_turn\"/></relation>\n"
          " <relation id=\"21\"><member type=\"way\" ref=\"10\" role=\"from\"/>"
          "<member type=\"node\" ref=\"2\" role=\"via\"/><member type=\"way\" ref=\"11\" role=\"to\"/>"
          "<tag k=\"type\" v=\"restriction\"/><tag k=\"restriction\" v=\"no_straight_on\"/></relation>\n"
          "</osm>\n",
          f);
    assert_int_equal(fclose(f), 0);
    cv_profile_options popt = cv_profile_defaults();
    cv_network net;
    cv_error err = {0};
    assert_int_equal(cv_network_read(in, &popt, NULL, &net, &err), 0);
    assert_int_equal(net.nrestrictions, 1); /* relation 21 */
    assert_true(net.restrictions_skipped >= 1);
    /* the resolver on its own: the kept restriction made into one with no via at all */
    net.restrictions[0].via_node = 0;
    net.restrictions[0].nvia = 0;
    assert_int_equal(cv_graph_build(&net, in, out, NULL, NULL, &err), 0);
    cv_network_free(&net);
    cv_graph *g = cv_graph_open(out, &err);
    assert_non_null(g);
    assert_int_equal(g->hdr.nrestrictions, 0);
    cv_graph_close(g);
    /* and the whole import as covoit import does it */
    g = import_and_open(in, out);
    assert_true(g->hdr.nrestrictions >= 1); /* no_straight_on at node 2 */
    cv_graph_close(g);
    unlink(in);
    unlink(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_project_planar_far_points), cmocka_unit_test(test_pbf_tag_with_nul),
        cmocka_unit_test(test_graph_across_the_world),    cmocka_unit_test(test_bad_pbf_leaves_no_descriptor),
        cmocka_unit_test(test_grid_of_long_segments),     cmocka_unit_test(test_restriction_via_node_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
