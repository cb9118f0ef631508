/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_profile.c — every rule of the car profile (osm/profile.c), one test function per rule. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "osm/profile.h"

#define EPS 0.01f
#define BOTH (CV_WAY_FORWARD | CV_WAY_BACKWARD)
#define NTAGS(arr) (sizeof(arr) / sizeof((arr)[0]))

/* Runs the profile with default options on a literal tag list: WAY(&attr, {"highway", "primary"}, ...). */
#define WAY(out, ...) way_default((const cv_tag[]){__VA_ARGS__}, NTAGS(((const cv_tag[]){__VA_ARGS__})), (out))

static uint64_t next_u64(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int way_default(const cv_tag *tags, size_t n, cv_way_attr *out)
{
    cv_profile_options opt = cv_profile_defaults();
    return cv_profile_way(&opt, tags, n, out);
}

/* ---- classes ---- */

static void test_defaults_ferries_on(void **state)
{
    (void)state;
    assert_int_equal(cv_profile_defaults().ferries, 1);
}

static void test_class_names_and_speeds(void **state)
{
    (void)state;
    static const struct {
        int rc;
        const char *name;
        float kmh;
    } want[] = {
        /* clang-format off */
        {CV_RC_MOTORWAY, "motorway", 90},       {CV_RC_MOTORWAY_LINK, "motorway_link", 45},
        {CV_RC_TRUNK, "trunk", 85},             {CV_RC_TRUNK_LINK, "trunk_link", 40},
        {CV_RC_PRIMARY, "primary", 65},         {CV_RC_PRIMARY_LINK, "primary_link", 30},
        {CV_RC_SECONDARY, "secondary", 55},     {CV_RC_SECONDARY_LINK, "secondary_link", 25},
        {CV_RC_TERTIARY, "tertiary", 40},       {CV_RC_TERTIARY_LINK, "tertiary_link", 20},
        {CV_RC_UNCLASSIFIED, "unclassified", 25}, {CV_RC_RESIDENTIAL, "residential", 25},
        {CV_RC_LIVING_STREET, "living_street", 10}, {CV_RC_SERVICE, "service", 15},
        {CV_RC_ROAD, "road", 20},               {CV_RC_FERRY, "ferry", 5},
        /* clang-format on */
    };
    assert_int_equal(NTAGS(want), CV_RC_COUNT);
    for (size_t i = 0; i < NTAGS(want); i++) {
        assert_string_equal(cv_profile_class_name(want[i].rc), want[i].name);
        assert_float_equal(cv_profile_class_speed(want[i].rc), want[i].kmh, EPS);
    }
    /* Out of range: no crash, no NULL. */
    assert_non_null(cv_profile_class_name(-1));
    assert_non_null(cv_profile_class_name(CV_RC_COUNT));
    assert_float_equal(cv_profile_class_speed(CV_RC_COUNT), 0, EPS);
}

static void test_routable_highways_get_class_and_default_speed(void **state)
{
    (void)state;
    for (int rc = 0; rc < CV_RC_COUNT; rc++) {
        if (rc == CV_RC_FERRY)
            continue;
        cv_way_attr a;
        const cv_tag tags[] = {{"highway", cv_profile_class_name(rc)}};
        assert_int_equal(way_default(tags, 1, &a), 1);
        assert_int_equal(a.road_class, rc);
        assert_float_equal(a.speed_kmh, cv_profile_class_speed(rc), EPS);
        assert_float_equal(a.maxspeed_kmh, 0, EPS);
        assert_int_equal(a.duration_s, 0);
        assert_int_equal(a.flags, rc == CV_RC_MOTORWAY ? CV_WAY_FORWARD : BOTH);
    }
}

static void test_non_car_highways_not_routable(void **state)
{
    (void)state;
    static const char *const no[] = {"footway",   "path",         "cycleway", "pedestrian", "steps",    "track",
                                     "bridleway", "bus_guideway", "raceway",  "platform",   "corridor", "construction",
                                     "proposed",  "abandoned",    "ferry",    "",           "MOTORWAYX"};
    for (size_t i = 0; i < NTAGS(no); i++) {
        cv_way_attr a;
        const cv_tag tags[] = {{"highway", no[i]}};
        assert_int_equal(way_default(tags, 1, &a), 0);
    }
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"name", "Rue de la Paix"}), 0);
    assert_int_equal(WAY(&a, {"highway", NULL}), 0);
}

/* A way that is no car road is opened by a tag for cars (motorcar, motor_vehicle, vehicle), never by the general
   access (it speaks of the way's own users: a footway with access=yes is for everyone on foot). */
static void test_non_car_way_opened_by_car_access(void **state)
{
    (void)state;
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"highway", "footway"}, {"motorcar", "yes"}), 1);
    assert_int_equal(a.road_class, CV_RC_ROAD);
    assert_float_equal(a.speed_kmh, 10, EPS);
    assert_true(a.rules & CV_RULE_OPENED_BY_ACCESS);
    assert_int_equal(a.flags, BOTH);
    assert_int_equal(WAY(&a, {"highway", "track"}, {"motor_vehicle", "designated"}), 1);
    assert_int_equal(WAY(&a, {"highway", "runway"}, {"vehicle", "permissive"}), 1);
    /* per direction */
    assert_int_equal(WAY(&a, {"highway", "pedestrian"}, {"vehicle:forward", "yes"}), 1);
    assert_int_equal(a.flags, CV_WAY_FORWARD);
    /* not by access=yes, nor by a no-through value, nor on steps */
    assert_int_equal(WAY(&a, {"highway", "track"}, {"access", "yes"}), 0);
    assert_int_equal(WAY(&a, {"highway", "footway"}, {"access", "permissive"}), 0);
    assert_int_equal(WAY(&a, {"highway", "track"}, {"motor_vehicle", "destination"}), 0);
    assert_int_equal(WAY(&a, {"highway", "steps"}, {"motorcar", "yes"}), 0);
    assert_int_equal(WAY(&a, {"highway", "construction"}, {"motorcar", "yes"}), 0);
    /* and a closing tag still closes it */
    assert_int_equal(WAY(&a, {"highway", "track"}, {"motor_vehicle", "yes"}, {"motorcar", "no"}), 0);
}

static void test_not_routable_zeroes_out(void **state)
{
    (void)state;
    cv_way_attr a;
    memset(&a, 0xAB, sizeof a);
    assert_int_equal(WAY(&a, {"highway", "footway"}), 0);
    assert_int_equal(a.road_class, 0);
    assert_int_equal(a.flags, 0);
    assert_float_equal(a.speed_kmh, 0, EPS);
}

/* ---- ferries ---- */

static void test_ferry(void **state)
{
    (void)state;
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"route", "ferry"}, {"duration", "01:30"}), 1);
    assert_int_equal(a.road_class, CV_RC_FERRY);
    assert_int_equal(a.flags, CV_WAY_FERRY | BOTH);
    assert_float_equal(a.speed_kmh, 5, EPS);
    assert_int_equal(a.duration_s, 5400);

    /* No duration tag: 0. */
    assert_int_equal(WAY(&a, {"route", "ferry"}), 1);
    assert_int_equal(a.duration_s, 0);

    /* oneway applies to ferries too. */
    assert_int_equal(WAY(&a, {"route", "ferry"}, {"oneway", "yes"}), 1);
    assert_int_equal(a.flags, CV_WAY_FERRY | CV_WAY_FORWARD);

    /* A foot-only ferry. */
    assert_int_equal(WAY(&a, {"route", "ferry"}, {"motor_vehicle", "no"}), 0);

    /* A ferry's speed ignores maxspeed: the boat decides. */
    assert_int_equal(WAY(&a, {"route", "ferry"}, {"maxspeed", "50"}), 1);
    assert_float_equal(a.speed_kmh, 5, EPS);
}

static void test_ferry_option_off(void **state)
{
    (void)state;
    cv_profile_options opt = {.ferries = 0};
    cv_way_attr a;
    const cv_tag ferry[] = {{"route", "ferry"}};
    assert_int_equal(cv_profile_way(&opt, ferry, 1, &a), 0);
    const cv_tag road[] = {{"highway", "primary"}};
    assert_int_equal(cv_profile_way(&opt, road, 1, &a), 1);
    /* NULL options means the defaults, ferries included. */
    assert_int_equal(cv_profile_way(NULL, ferry, 1, &a), 1);
    /* Other route= values are not roads. */
    assert_int_equal(WAY(&a, {"route", "bus"}), 0);
}

/* ---- service ---- */

static void test_service_emergency_access_excluded(void **state)
{
    (void)state;
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"highway", "service"}, {"service", "emergency_access"}), 0);
}

static void test_service_car_parks_and_driveways_no_through(void **state)
{
    (void)state;
    static const char *const kinds[] = {"parking_aisle", "driveway", "drive-through", "drive-thru", "parking"};
    for (size_t i = 0; i < NTAGS(kinds); i++) {
        cv_way_attr a;
        const cv_tag tags[] = {{"service", kinds[i]}, {"highway", "service"}};
        assert_int_equal(way_default(tags, 2, &a), 1);
        assert_int_equal(a.road_class, CV_RC_SERVICE);
        assert_int_equal(a.flags, BOTH | CV_WAY_NO_THROUGH);
        assert_float_equal(a.speed_kmh, 15, EPS);
    }
}

static void test_service_alley_and_plain(void **state)
{
    (void)state;
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"highway", "service"}, {"service", "alley"}), 1);
    assert_int_equal(a.flags, BOTH);
    assert_float_equal(a.speed_kmh, 15, EPS);

    assert_int_equal(WAY(&a, {"highway", "service"}, {"service", "siding"}), 1);
    assert_int_equal(a.flags, BOTH);
    assert_float_equal(a.speed_kmh, 15, EPS);

    /* service=* only refines highway=service. */
    assert_int_equal(WAY(&a, {"highway", "residential"}, {"service", "parking_aisle"}), 1);
    assert_int_equal(a.flags, BOTH);
    assert_float_equal(a.speed_kmh, 25, EPS);
}

/* ---- exclusions ---- */

static void test_area_yes_excluded(void **state)
{
    (void)state;
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"highway", "pedestrian"}, {"area", "yes"}), 0);
    assert_int_equal(WAY(&a, {"highway", "service"}, {"area", "yes"}), 0);
    assert_int_equal(WAY(&a, {"highway", "service"}, {"area", "no"}), 1);
}

static void test_construction_and_proposed_excluded(void **state)
{
    (void)state;
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"highway", "construction"}, {"construction", "primary"}), 0);
    assert_int_equal(WAY(&a, {"highway", "proposed"}, {"proposed", "motorway"}), 0);
    /* Only the highway value counts: a construction=* tag on a built road does not close it. */
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"construction", "minor"}), 1);
    assert_int_equal(a.road_class, CV_RC_PRIMARY);
}

static void test_impassable_excluded(void **state)
{
    (void)state;
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"highway", "unclassified"}, {"impassable", "yes"}), 0);
    assert_int_equal(WAY(&a, {"highway", "unclassified"}, {"status", "impassable"}), 0);
    assert_int_equal(WAY(&a, {"highway", "unclassified"}, {"impassable", "no"}), 1);
}

/* ---- access ---- */

static void test_parse_access_values(void **state)
{
    (void)state;
    static const char *const yes[] = {"yes", "permissive", "designated", "official", "discouraged"};
    static const char *const no[] = {"no",  "agricultural", "forestry",     "emergency", "psv",
                                     "bus", "hgv",          "use_sidepath", "military"};
    static const char *const dest[] = {"private", "destination", "delivery", "customers", "permit", "residents"};
    static const char *const unknown[] = {"unknown", "", "maybe", ";", "yesno"};
    for (size_t i = 0; i < NTAGS(yes); i++)
        assert_int_equal(cv_profile_parse_access(yes[i]), CV_ACCESS_YES);
    for (size_t i = 0; i < NTAGS(no); i++)
        assert_int_equal(cv_profile_parse_access(no[i]), CV_ACCESS_NO);
    for (size_t i = 0; i < NTAGS(dest); i++)
        assert_int_equal(cv_profile_parse_access(dest[i]), CV_ACCESS_DESTINATION);
    for (size_t i = 0; i < NTAGS(unknown); i++)
        assert_int_equal(cv_profile_parse_access(unknown[i]), CV_ACCESS_UNKNOWN);
    assert_int_equal(cv_profile_parse_access(NULL), CV_ACCESS_UNKNOWN);
    /* Lists name every allowed group: the most permissive known one wins. */
    assert_int_equal(cv_profile_parse_access("agricultural;forestry"), CV_ACCESS_NO);
    assert_int_equal(cv_profile_parse_access("delivery; no"), CV_ACCESS_DESTINATION);
    assert_int_equal(cv_profile_parse_access("foo;yes"), CV_ACCESS_YES);
}

static void test_access_no_not_routable(void **state)
{
    (void)state;
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"highway", "residential"}, {"access", "no"}), 0);
    assert_int_equal(WAY(&a, {"highway", "residential"}, {"vehicle", "no"}), 0);
    assert_int_equal(WAY(&a, {"highway", "residential"}, {"motor_vehicle", "agricultural"}), 0);
    assert_int_equal(WAY(&a, {"highway", "residential"}, {"motorcar", "psv"}), 0);
    assert_int_equal(WAY(&a, {"highway", "unclassified"}, {"motor_vehicle", "agricultural;forestry"}), 0);
}

static void test_access_most_specific_wins(void **state)
{
    (void)state;
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"access", "no"}, {"highway", "motorway"}, {"motorcar", "yes"}), 1);
    assert_int_equal(a.road_class, CV_RC_MOTORWAY);
    assert_int_equal(a.flags, CV_WAY_FORWARD);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"access", "yes"}, {"motor_vehicle", "no"}), 0);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"vehicle", "no"}, {"motor_vehicle", "yes"}), 1);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"motor_vehicle", "no"}, {"motorcar", "destination"}), 1);
    assert_int_equal(a.flags, BOTH | CV_WAY_NO_THROUGH);
    /* A more specific tag that does not say yes or no grants nothing. */
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"access", "no"}, {"motorcar", "unknown"}), 0);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"access", "no"}, {"motorcar", "sometimes"}), 0);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"access", "yes"}, {"motorcar", "sometimes"}), 1);
    assert_int_equal(a.flags, BOTH);
}

static void test_access_destination_no_through(void **state)
{
    (void)state;
    static const char *const vals[] = {"private", "destination", "delivery", "customers", "permit", "residents"};
    for (size_t i = 0; i < NTAGS(vals); i++) {
        cv_way_attr a;
        const cv_tag tags[] = {{"highway", "residential"}, {"access", vals[i]}};
        assert_int_equal(way_default(tags, 2, &a), 1);
        assert_int_equal(a.flags, BOTH | CV_WAY_NO_THROUGH);
        assert_float_equal(a.speed_kmh, 25, EPS);
    }
    /* ...unless a more specific tag opens it. */
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"highway", "residential"}, {"access", "private"}, {"motorcar", "yes"}), 1);
    assert_int_equal(a.flags, BOTH);
}

static void test_access_discouraged_is_advisory(void **state)
{
    (void)state;
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"highway", "tertiary"}, {"motor_vehicle", "discouraged"}, {"access", "no"}), 1);
    assert_int_equal(a.flags, BOTH);
}

/* ---- direction ---- */

static void test_oneway_forward(void **state)
{
    (void)state;
    static const char *const vals[] = {"yes", "1", "true"};
    for (size_t i = 0; i < NTAGS(vals); i++) {
        cv_way_attr a;
        const cv_tag tags[] = {{"highway", "residential"}, {"oneway", vals[i]}};
        assert_int_equal(way_default(tags, 2, &a), 1);
        assert_int_equal(a.flags, CV_WAY_FORWARD);
    }
}

static void test_oneway_backward(void **state)
{
    (void)state;
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"highway", "residential"}, {"oneway", "-1"}), 1);
    assert_int_equal(a.flags, CV_WAY_BACKWARD);
    assert_float_equal(a.speed_kmh, 25, EPS);
    assert_int_equal(WAY(&a, {"highway", "residential"}, {"oneway", "reverse"}), 1);
    assert_int_equal(a.flags, CV_WAY_BACKWARD);
}

static void test_oneway_no_overrides_implied(void **state)
{
    (void)state;
    static const char *const vals[] = {"no", "0", "false"};
    for (size_t i = 0; i < NTAGS(vals); i++) {
        cv_way_attr a;
        const cv_tag mw[] = {{"highway", "motorway"}, {"oneway", vals[i]}};
        assert_int_equal(way_default(mw, 2, &a), 1);
        assert_int_equal(a.flags, BOTH);
        const cv_tag rb[] = {{"highway", "primary"}, {"junction", "roundabout"}, {"oneway", vals[i]}};
        assert_int_equal(way_default(rb, 3, &a), 1);
        assert_int_equal(a.flags, BOTH);
    }
}

static void test_oneway_reversible_not_routable(void **state)
{
    (void)state;
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"oneway", "reversible"}), 0);
    assert_int_equal(a.closed_by, CV_CLOSED_REVERSIBLE);
    assert_int_equal(WAY(&a, {"highway", "motorway"}, {"oneway", "reversible"}), 0);
}

/* oneway=alternating (one lane, the direction changing every few minutes): both ways as the road implies */
static void test_oneway_alternating_routable(void **state)
{
    (void)state;
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"oneway", "alternating"}), 1);
    assert_int_equal(a.flags, BOTH);
    assert_true(a.rules & CV_RULE_ALTERNATING);
    /* it does not lift a motorway's or a roundabout's implied direction */
    assert_int_equal(WAY(&a, {"highway", "motorway"}, {"oneway", "alternating"}), 1);
    assert_int_equal(a.flags, CV_WAY_FORWARD);
    assert_int_equal(WAY(&a, {"highway", "tertiary"}, {"junction", "roundabout"}, {"oneway", "alternating"}), 1);
    assert_int_equal(a.flags, CV_WAY_FORWARD);
}

/* oneway:motorcar > oneway:motor_vehicle > oneway:vehicle > oneway: the most specific present decides alone */
static void test_oneway_mode_specific(void **state)
{
    (void)state;
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"oneway:motorcar", "yes"}), 1);
    assert_int_equal(a.flags, CV_WAY_FORWARD);
    assert_true(a.rules & CV_RULE_MODE_ONEWAY);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"oneway:motor_vehicle", "-1"}), 1);
    assert_int_equal(a.flags, CV_WAY_BACKWARD);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"oneway:vehicle", "yes"}, {"oneway", "no"}), 1);
    assert_int_equal(a.flags, CV_WAY_FORWARD);
    /* oneway:vehicle=no lifts oneway=yes for cars */
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"oneway", "yes"}, {"oneway:vehicle", "no"}), 1);
    assert_int_equal(a.flags, BOTH);
    /* the most specific mode wins over a less specific one, whatever their order */
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"oneway:motor_vehicle", "no"}, {"oneway:motorcar", "yes"}), 1);
    assert_int_equal(a.flags, CV_WAY_FORWARD);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"oneway:vehicle", "no"}, {"oneway:motor_vehicle", "yes"}), 1);
    assert_int_equal(a.flags, CV_WAY_FORWARD);
    /* bicycles' and buses' oneways are theirs */
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"oneway", "yes"}, {"oneway:bicycle", "no"}), 1);
    assert_int_equal(a.flags, CV_WAY_FORWARD);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"oneway:psv", "yes"}), 1);
    assert_int_equal(a.flags, BOTH);
    /* a motorway made two-way for cars */
    assert_int_equal(WAY(&a, {"highway", "motorway"}, {"oneway:motor_vehicle", "no"}), 1);
    assert_int_equal(a.flags, BOTH);
    /* reversible for cars closes the way */
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"oneway:vehicle", "reversible"}), 0);
    assert_int_equal(a.closed_by, CV_CLOSED_REVERSIBLE);
}

/* access:forward / access:backward: the most specific mode decides, and within a mode the direction beats plain */
static void test_access_directional(void **state)
{
    (void)state;
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"access:forward", "no"}), 1);
    assert_int_equal(a.flags, CV_WAY_BACKWARD);
    assert_true(a.rules & CV_RULE_DIRECTIONAL_ACCESS);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"motor_vehicle:backward", "no"}), 1);
    assert_int_equal(a.flags, CV_WAY_FORWARD);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"vehicle:forward", "no"}, {"vehicle:backward", "no"}), 0);
    assert_int_equal(a.closed_by, CV_CLOSED_ACCESS);
    /* direction beats plain within a mode: access=no, access:forward=yes opens forward only */
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"access", "no"}, {"access:forward", "yes"}), 1);
    assert_int_equal(a.flags, CV_WAY_FORWARD);
    /* a more specific mode beats a direction of a less specific one */
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"access:forward", "no"}, {"motorcar", "yes"}), 1);
    assert_int_equal(a.flags, BOTH);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"motor_vehicle", "no"}, {"motorcar:backward", "yes"}), 1);
    assert_int_equal(a.flags, CV_WAY_BACKWARD);
    /* with a oneway, closing the one open direction closes the way */
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"oneway", "yes"}, {"motorcar:forward", "no"}), 0);
    assert_int_equal(a.closed_by, CV_CLOSED_ACCESS);
    /* destination one way: the road is a no-through road */
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"access:backward", "destination"}), 1);
    assert_int_equal(a.flags, BOTH | CV_WAY_NO_THROUGH);
    /* a closed direction's destination value does not make the open one no-through */
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"oneway", "yes"}, {"access:backward", "destination"}), 1);
    assert_int_equal(a.flags, CV_WAY_FORWARD);
}

/* construction=* (but no, minor, widening) and proposed=* close a road that is otherwise built */
static void test_construction_proposed_tags(void **state)
{
    (void)state;
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"construction", "yes"}), 0);
    assert_int_equal(a.closed_by, CV_CLOSED_CONSTRUCTION);
    assert_int_equal(WAY(&a, {"highway", "residential"}, {"construction", "resurfacing"}), 0);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"construction", "no"}), 1);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"construction", "widening"}), 1);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"proposed", "yes"}), 0);
    assert_int_equal(a.closed_by, CV_CLOSED_PROPOSED);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"proposed", "motorway"}), 0);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"proposed", "no"}), 1);
}

static void test_implied_oneway(void **state)
{
    (void)state;
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"highway", "motorway"}), 1);
    assert_int_equal(a.flags, CV_WAY_FORWARD);
    assert_int_equal(WAY(&a, {"highway", "tertiary"}, {"junction", "roundabout"}), 1);
    assert_int_equal(a.flags, CV_WAY_FORWARD);
    assert_int_equal(WAY(&a, {"highway", "residential"}, {"junction", "circular"}), 1);
    assert_int_equal(a.flags, CV_WAY_FORWARD);
    /* Not implied elsewhere, links included. */
    assert_int_equal(WAY(&a, {"highway", "motorway_link"}), 1);
    assert_int_equal(a.flags, BOTH);
    assert_int_equal(WAY(&a, {"highway", "trunk"}), 1);
    assert_int_equal(a.flags, BOTH);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"junction", "yes"}), 1);
    assert_int_equal(a.flags, BOTH);
    /* An explicit oneway beats the implied one; an unknown oneway value does not. */
    assert_int_equal(WAY(&a, {"highway", "motorway"}, {"oneway", "-1"}), 1);
    assert_int_equal(a.flags, CV_WAY_BACKWARD);
    assert_int_equal(WAY(&a, {"highway", "motorway"}, {"oneway", "maybe"}), 1);
    assert_int_equal(a.flags, CV_WAY_FORWARD);
    assert_int_equal(WAY(&a, {"highway", "residential"}, {"oneway", "maybe"}), 1);
    assert_int_equal(a.flags, BOTH);
}

/* ---- physical limits ---- */

static void test_parse_length(void **state)
{
    (void)state;
    assert_float_equal(cv_profile_parse_length("2.5"), 2.5, 1e-9);
    assert_float_equal(cv_profile_parse_length("2.5 m"), 2.5, 1e-9);
    assert_float_equal(cv_profile_parse_length("2.5m"), 2.5, 1e-9);
    assert_float_equal(cv_profile_parse_length(" 2,5 "), 2.5, 1e-9);
    assert_float_equal(cv_profile_parse_length("250 cm"), 2.5, 1e-9);
    assert_float_equal(cv_profile_parse_length("6'"), 6 * 0.3048, 1e-9);
    assert_float_equal(cv_profile_parse_length("6'6\""), 78 * 0.0254, 1e-9);
    assert_float_equal(cv_profile_parse_length("6' 6\""), 78 * 0.0254, 1e-9);
    assert_float_equal(cv_profile_parse_length("6'6"), 78 * 0.0254, 1e-9);
    assert_float_equal(cv_profile_parse_length("6 ft 6 in"), 78 * 0.0254, 1e-9);
    assert_float_equal(cv_profile_parse_length("7 ft"), 7 * 0.3048, 1e-9);
    /* no limit */
    assert_float_equal(cv_profile_parse_length("none"), 0, 0);
    assert_float_equal(cv_profile_parse_length("default"), 0, 0);
    assert_float_equal(cv_profile_parse_length("below_default"), 0, 0);
    assert_float_equal(cv_profile_parse_length("unsigned"), 0, 0);
    assert_float_equal(cv_profile_parse_length("no-sign"), 0, 0);
    /* unreadable */
    assert_true(cv_profile_parse_length("narrow") < 0);
    assert_true(cv_profile_parse_length("") < 0);
    assert_true(cv_profile_parse_length(NULL) < 0);
    assert_true(cv_profile_parse_length("2.5 m 3") < 0);
    assert_true(cv_profile_parse_length("3 m 2 in") < 0);
    assert_true(cv_profile_parse_length("2.5 parsecs") < 0);
}

static void test_parse_weight(void **state)
{
    (void)state;
    assert_float_equal(cv_profile_parse_weight("3.5"), 3500, 1e-6);
    assert_float_equal(cv_profile_parse_weight("3.5 t"), 3500, 1e-6);
    assert_float_equal(cv_profile_parse_weight("3500 kg"), 3500, 1e-6);
    assert_float_equal(cv_profile_parse_weight("1,5t"), 1500, 1e-6);
    assert_float_equal(cv_profile_parse_weight("10000 lbs"), 4535.9237, 1e-4);
    assert_float_equal(cv_profile_parse_weight("3 st"), 3 * 907.18474, 1e-6);
    assert_float_equal(cv_profile_parse_weight("none"), 0, 0);
    assert_true(cv_profile_parse_weight("heavy") < 0);
    assert_true(cv_profile_parse_weight("3 bananas") < 0);
}

/* A limit below an ordinary car's (2.0 m high, 1.9 m wide, 4.8 m long, 2 t) closes the directions it applies to. */
static void test_physical_limits(void **state)
{
    (void)state;
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"maxheight", "1.9"}), 0);
    assert_int_equal(a.closed_by, CV_CLOSED_PHYSICAL);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"maxheight", "2"}), 1);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"maxheight", "6'6\""}), 0); /* 1.98 m */
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"maxheight:physical", "1.5"}, {"maxheight", "3"}), 0);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"maxheight", "below_default"}), 1);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"maxheight", "garbage"}), 1);
    /* width: at or below the car's closes; width= and est_width= count when no maxwidth is given */
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"maxwidth", "1.9"}), 0);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"maxwidth", "2"}), 1);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"width", "1.8"}), 0);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"est_width", "1"}), 0);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"width", "6'3\""}), 1); /* 1.905 m */
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"width", "narrow"}), 1);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"maxwidth", "3"}, {"width", "1"}), 1); /* maxwidth first */
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"maxlength", "4"}), 0);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"maxlength", "12"}), 1);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"maxweight", "1.5"}), 0);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"maxweight", "3.5"}), 1);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"maxweight", "0.1 lbs"}), 0);
    /* per direction */
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"maxheight:forward", "1.5"}), 1);
    assert_int_equal(a.flags, CV_WAY_BACKWARD);
    assert_true(a.rules & CV_RULE_PHYSICAL_ONE_WAY);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"oneway", "yes"}, {"maxheight:forward", "1.5"}), 0);
}

/* ---- nodes ---- */

#define NODE(...) cv_profile_node((cv_tag[]){__VA_ARGS__}, sizeof((cv_tag[]){__VA_ARGS__}) / sizeof(cv_tag))

static void test_node_barriers(void **state)
{
    (void)state;
    assert_int_equal(cv_profile_node(NULL, 0), CV_NODE_OPEN);
    assert_int_equal(NODE({"highway", "traffic_signals"}), CV_NODE_OPEN);
    const char *blocking[] = {"bollard", "block",         "chain", "jersey_barrier", "kissing_gate", "wall",
                              "fence",   "cycle_barrier", "yes",   "swing_gate",     "some_tag",     "debris"};
    for (size_t i = 0; i < sizeof blocking / sizeof blocking[0]; i++)
        assert_int_equal(NODE({"barrier", blocking[i]}), CV_NODE_BARRIER);
    const char *passable[] = {"gate",       "lift_gate", "toll_booth",        "cattle_grid", "border_control",
                              "sally_port", "entrance",  "height_restrictor", "arch",        "no"};
    for (size_t i = 0; i < sizeof passable / sizeof passable[0]; i++)
        assert_int_equal(NODE({"barrier", passable[i]}), CV_NODE_OPEN);
    /* a rising bollard lets cars through; a removable one does not */
    assert_int_equal(NODE({"barrier", "bollard"}, {"bollard", "rising"}), CV_NODE_OPEN);
    assert_int_equal(NODE({"barrier", "bollard"}, {"bollard", "removable"}), CV_NODE_BARRIER);
    /* kerbs: lowered or flush, or on a crossing, are driven over */
    assert_int_equal(NODE({"barrier", "kerb"}), CV_NODE_BARRIER);
    assert_int_equal(NODE({"barrier", "kerb"}, {"kerb", "lowered"}), CV_NODE_OPEN);
    assert_int_equal(NODE({"barrier", "kerb"}, {"kerb", "flush"}), CV_NODE_OPEN);
    assert_int_equal(NODE({"barrier", "kerb"}, {"kerb", "raised"}), CV_NODE_BARRIER);
    assert_int_equal(NODE({"barrier", "kerb"}, {"highway", "crossing"}), CV_NODE_OPEN);
    /* a height restrictor lower than a car */
    assert_int_equal(NODE({"barrier", "height_restrictor"}, {"maxheight", "1.9"}), CV_NODE_BARRIER);
    assert_int_equal(NODE({"barrier", "height_restrictor"}, {"maxheight", "2.1"}), CV_NODE_OPEN);
}

static void test_node_access(void **state)
{
    (void)state;
    /* access tags decide alone when present */
    assert_int_equal(NODE({"access", "no"}), CV_NODE_CLOSED);
    assert_int_equal(NODE({"motor_vehicle", "agricultural"}), CV_NODE_CLOSED);
    assert_int_equal(NODE({"vehicle", "forestry"}), CV_NODE_CLOSED);
    assert_int_equal(NODE({"motorcar", "psv"}), CV_NODE_CLOSED);
    assert_int_equal(NODE({"access", "emergency"}), CV_NODE_CLOSED);
    assert_int_equal(NODE({"barrier", "wall"}, {"access", "yes"}), CV_NODE_OPEN);
    assert_int_equal(NODE({"barrier", "gate"}, {"access", "no"}), CV_NODE_CLOSED);
    assert_int_equal(NODE({"barrier", "gate"}, {"access", "agricultural"}), CV_NODE_CLOSED);
    /* private and the other no-through values do not close a node: a private gate is a way home */
    assert_int_equal(NODE({"barrier", "gate"}, {"access", "private"}), CV_NODE_OPEN);
    assert_int_equal(NODE({"access", "destination"}), CV_NODE_OPEN);
    /* the most specific mode wins */
    assert_int_equal(NODE({"access", "no"}, {"motorcar", "yes"}), CV_NODE_OPEN);
    assert_int_equal(NODE({"motor_vehicle", "no"}, {"vehicle", "yes"}), CV_NODE_CLOSED);
    /* an unknown value is no access tag: the barrier decides */
    assert_int_equal(NODE({"barrier", "bollard"}, {"access", "maybe"}), CV_NODE_BARRIER);
    /* foot and bicycle tags are not ours */
    assert_int_equal(NODE({"barrier", "gate"}, {"foot", "no"}), CV_NODE_OPEN);
}

/* ---- maxspeed parsing ---- */

static void test_maxspeed_numbers_and_units(void **state)
{
    (void)state;
    const int rc = CV_RC_PRIMARY;
    assert_float_equal(cv_profile_parse_maxspeed("50", rc), 50, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("50 km/h", rc), 50, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("50km/h", rc), 50, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("50kmh", rc), 50, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("50 kph", rc), 50, EPS);
    assert_float_equal(cv_profile_parse_maxspeed(" 70 ", rc), 70, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("7.5", rc), 7.5f, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("30 mph", rc), 48.28f, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("30mph", rc), 48.28f, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("10 knots", rc), 18.52f, EPS);
}

static void test_maxspeed_keywords(void **state)
{
    (void)state;
    /* none: a cruising 130 where roads are built for it, else 0 (class default). */
    assert_float_equal(cv_profile_parse_maxspeed("none", CV_RC_MOTORWAY), 130, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("none", CV_RC_MOTORWAY_LINK), 130, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("none", CV_RC_TRUNK), 130, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("none", CV_RC_TRUNK_LINK), 130, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("none", CV_RC_PRIMARY), 0, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("none", CV_RC_RESIDENTIAL), 0, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("walk", CV_RC_LIVING_STREET), 7, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("signals", CV_RC_MOTORWAY), 0, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("variable", CV_RC_MOTORWAY), 0, EPS);
}

static void test_maxspeed_multiple_values(void **state)
{
    (void)state;
    assert_float_equal(cv_profile_parse_maxspeed("50;30", CV_RC_PRIMARY), 30, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("30;50", CV_RC_PRIMARY), 30, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("garbage;40", CV_RC_PRIMARY), 40, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("40;", CV_RC_PRIMARY), 40, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("signals;60", CV_RC_PRIMARY), 60, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("FR:urban;30 mph", CV_RC_PRIMARY), 48.28f, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("999;50", CV_RC_PRIMARY), 50, EPS);
    assert_float_equal(cv_profile_parse_maxspeed(";;", CV_RC_PRIMARY), 0, EPS);
}

static void test_maxspeed_country_tables(void **state)
{
    (void)state;
    static const struct {
        const char *v;
        float kmh;
    } want[] = {
        /* clang-format off */
        {"FR:urban", 50},       {"FR:rural", 80},         {"FR:trunk", 110},        {"FR:motorway", 130},
        {"FR:zone30", 30},      {"DE:urban", 50},         {"DE:rural", 100},        {"DE:motorway", 130},
        {"DE:living_street", 7}, {"DE:zone30", 30},       {"DE:walk", 7},           {"RU:urban", 60},
        {"RU:rural", 90},       {"RU:motorway", 110},     {"RU:living_street", 20}, {"PT:urban", 50},
        {"PT:rural", 90},       {"PT:trunk", 100},        {"PT:motorway", 120},     {"ES:urban", 50},
        {"ES:rural", 90},       {"ES:motorway", 120},     {"IT:urban", 50},         {"IT:rural", 90},
        {"IT:trunk", 110},      {"IT:motorway", 130},     {"GB:nsl_single", 96.56f}, {"GB:nsl_dual", 112.65f},
        {"GB:motorway", 112.65f}, {"UK:nsl_single", 96.56f}, {"UK:nsl_dual", 112.65f}, {"UK:motorway", 112.65f},
        {"BE:urban", 50},       {"BE:motorway", 120},     {"NL:rural", 80},         {"AT:rural", 100},
        {"AT:motorway", 130},   {"CH:rural", 80},         {"CH:motorway", 120},     {"PL:motorway", 140},
        {"CZ:rural", 90},       {"DK:motorway", 130},     {"SE:rural", 70},         {"NO:rural", 80},
        {"US:urban", 40.23f},
        /* clang-format on */
    };
    for (size_t i = 0; i < NTAGS(want); i++)
        assert_float_equal(cv_profile_parse_maxspeed(want[i].v, CV_RC_PRIMARY), want[i].kmh, EPS);
}

static void test_maxspeed_country_case_and_fallbacks(void **state)
{
    (void)state;
    const int rc = CV_RC_PRIMARY;
    assert_float_equal(cv_profile_parse_maxspeed("fr:urban", rc), 50, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("De:Rural", rc), 100, EPS);
    /* Unknown country: the generic row. */
    assert_float_equal(cv_profile_parse_maxspeed("XX:urban", rc), 50, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("XX:rural", rc), 90, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("XX:trunk", rc), 100, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("XX:motorway", rc), 120, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("XX:living_street", rc), 10, EPS);
    /* Known country lacking that type: generic too. */
    assert_float_equal(cv_profile_parse_maxspeed("ES:living_street", rc), 10, EPS);
    /* Region codes fall back to their country. */
    assert_float_equal(cv_profile_parse_maxspeed("BE-VLG:rural", rc), 70, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("BE-WAL:rural", rc), 90, EPS);
    /* Zones of any country. */
    assert_float_equal(cv_profile_parse_maxspeed("XX:zone20", rc), 20, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("IT:zone:30", rc), 30, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("CH:Zone30", rc), 30, EPS);
    /* Unknown type, broken zones, broken country codes. */
    assert_float_equal(cv_profile_parse_maxspeed("XX:moon", rc), 0, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("DE:zone", rc), 0, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("DE:zone:", rc), 0, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("DE:zone30x", rc), 0, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("DE:zone-30", rc), 0, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("DE:zone999", rc), 0, EPS);
    assert_float_equal(cv_profile_parse_maxspeed(":urban", rc), 0, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("1X:urban", rc), 0, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("FR:", rc), 0, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("zone30", rc), 0, EPS);
}

static void test_maxspeed_garbage_is_zero(void **state)
{
    (void)state;
    static const char *const bad[] = {"-50",
                                      "-50 km/h",
                                      "+50",
                                      "abc",
                                      "",
                                      "   ",
                                      "0",
                                      "0.0",
                                      "50 furlongs",
                                      "50.",
                                      ".5",
                                      "5e1",
                                      "1e309",
                                      "nan",
                                      "inf",
                                      "NaN",
                                      "300",
                                      "201",
                                      "99999999999999999999999",
                                      "50,5",
                                      "fifty",
                                      "50 km/h extra",
                                      "mph"};
    for (size_t i = 0; i < NTAGS(bad); i++)
        assert_float_equal(cv_profile_parse_maxspeed(bad[i], CV_RC_PRIMARY), 0, EPS);
    assert_float_equal(cv_profile_parse_maxspeed(NULL, CV_RC_PRIMARY), 0, EPS);
    /* 200 is the highest accepted value. */
    assert_float_equal(cv_profile_parse_maxspeed("200", CV_RC_PRIMARY), 200, EPS);
    /* An out-of-range road class must not crash; "none" is then simply unknown. */
    assert_float_equal(cv_profile_parse_maxspeed("none", -7), 0, EPS);
    assert_float_equal(cv_profile_parse_maxspeed("50", 1000), 50, EPS);
}

/* ---- effective speed ---- */

static void test_speed_from_maxspeed(void **state)
{
    (void)state;
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"highway", "residential"}, {"maxspeed", "50"}), 1);
    assert_float_equal(a.maxspeed_kmh, 50, EPS);
    assert_float_equal(a.speed_kmh, 40, EPS);
    assert_int_equal(WAY(&a, {"highway", "motorway"}, {"maxspeed", "130"}), 1);
    assert_float_equal(a.speed_kmh, 104, EPS);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"maxspeed", "30 mph"}), 1);
    assert_float_equal(a.maxspeed_kmh, 48.28f, EPS);
    assert_float_equal(a.speed_kmh, 38.62f, EPS);
    assert_int_equal(WAY(&a, {"highway", "motorway"}, {"maxspeed", "none"}), 1);
    assert_float_equal(a.maxspeed_kmh, 130, EPS);
    assert_float_equal(a.speed_kmh, 104, EPS);
    assert_int_equal(WAY(&a, {"highway", "living_street"}, {"maxspeed", "walk"}), 1);
    assert_float_equal(a.speed_kmh, 5.6f, EPS);
    assert_int_equal(WAY(&a, {"highway", "secondary"}, {"maxspeed", "FR:rural"}), 1);
    assert_float_equal(a.speed_kmh, 64, EPS);
}

static void test_speed_floor_and_fast_class_cap(void **state)
{
    (void)state;
    cv_way_attr a;
    /* At least 3 km/h... */
    assert_int_equal(WAY(&a, {"highway", "residential"}, {"maxspeed", "2"}), 1);
    assert_float_equal(a.speed_kmh, 3, EPS);
    /* ...but a motorway or trunk never exceeds its limit. */
    assert_int_equal(WAY(&a, {"highway", "motorway"}, {"maxspeed", "2"}), 1);
    assert_float_equal(a.speed_kmh, 2, EPS);
    assert_int_equal(WAY(&a, {"highway", "trunk_link"}, {"maxspeed", "3"}), 1);
    assert_float_equal(a.speed_kmh, 3, EPS);
}

static void test_speed_garbage_maxspeed_keeps_class_default(void **state)
{
    (void)state;
    static const char *const bad[] = {"garbage", "-50", "none", "signals", "variable", "900", ""};
    for (size_t i = 0; i < NTAGS(bad); i++) {
        cv_way_attr a;
        const cv_tag tags[] = {{"highway", "secondary"}, {"maxspeed", bad[i]}};
        assert_int_equal(way_default(tags, 2, &a), 1);
        assert_float_equal(a.maxspeed_kmh, 0, EPS);
        assert_float_equal(a.speed_kmh, 55, EPS);
    }
}

static void test_speed_service_subtype_keeps_reduced_speed(void **state)
{
    (void)state;
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"highway", "service"}, {"service", "parking_aisle"}, {"maxspeed", "30"}), 1);
    assert_float_equal(a.maxspeed_kmh, 30, EPS);
    assert_float_equal(a.speed_kmh, 15, EPS);
    assert_int_equal(WAY(&a, {"highway", "service"}, {"service", "alley"}, {"maxspeed", "50"}), 1);
    assert_float_equal(a.speed_kmh, 15, EPS);
    /* A lower limit still slows it. */
    assert_int_equal(WAY(&a, {"highway", "service"}, {"service", "alley"}, {"maxspeed", "10"}), 1);
    assert_float_equal(a.speed_kmh, 8, EPS);
    assert_int_equal(WAY(&a, {"highway", "service"}, {"service", "driveway"}, {"maxspeed", "5"}), 1);
    assert_float_equal(a.speed_kmh, 4, EPS);
    /* Plain service follows the normal rule. */
    assert_int_equal(WAY(&a, {"highway", "service"}, {"maxspeed", "30"}), 1);
    assert_float_equal(a.speed_kmh, 24, EPS);
}

/* ---- durations ---- */

static void test_duration(void **state)
{
    (void)state;
    assert_int_equal(cv_profile_parse_duration("01:30"), 5400);
    assert_int_equal(cv_profile_parse_duration("1:05"), 3900);
    assert_int_equal(cv_profile_parse_duration("00:45:30"), 2730);
    assert_int_equal(cv_profile_parse_duration("26:00"), 93600);
    assert_int_equal(cv_profile_parse_duration("45"), 2700);
    assert_int_equal(cv_profile_parse_duration(" 45 "), 2700);
    assert_int_equal(cv_profile_parse_duration("PT1H30M"), 5400);
    assert_int_equal(cv_profile_parse_duration("PT45M"), 2700);
    assert_int_equal(cv_profile_parse_duration("PT30S"), 30);
    assert_int_equal(cv_profile_parse_duration("PT1H0M10S"), 3610);
    assert_int_equal(cv_profile_parse_duration("P1DT2H"), 93600);
    assert_int_equal(cv_profile_parse_duration("PT1.5H"), 5400);
    assert_int_equal(cv_profile_parse_duration("pt20m"), 1200);
}

static void test_duration_garbage_is_zero(void **state)
{
    (void)state;
    static const char *const bad[] = {"",
                                      "abc",
                                      "-10",
                                      "1:60",
                                      "1:30:60",
                                      "1:2:3:4",
                                      "1:",
                                      ":30",
                                      "1::30",
                                      "12 min",
                                      "P",
                                      "PT",
                                      "PT1H1H",
                                      "PT30M1H",
                                      "P1M",
                                      "P1Y",
                                      "PTH",
                                      "PT5",
                                      "PT1HT",
                                      "1h30",
                                      "99999999999999999999",
                                      "999999999:00"};
    for (size_t i = 0; i < NTAGS(bad); i++)
        assert_int_equal(cv_profile_parse_duration(bad[i]), 0);
    assert_int_equal(cv_profile_parse_duration(NULL), 0);
}

/* ---- tag handling ---- */

static void test_duplicate_keys_first_wins(void **state)
{
    (void)state;
    cv_way_attr a;
    assert_int_equal(WAY(&a, {"highway", "footway"}, {"highway", "primary"}), 0);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"highway", "footway"}), 1);
    assert_int_equal(a.road_class, CV_RC_PRIMARY);
    assert_int_equal(WAY(&a, {"oneway", "-1"}, {"highway", "primary"}, {"oneway", "yes"}), 1);
    assert_int_equal(a.flags, CV_WAY_BACKWARD);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"access", "yes"}, {"access", "no"}), 1);
    /* A NULL first value makes the key absent, not the later duplicate present. */
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"access", NULL}, {"access", "no"}), 1);
}

/* Random tags over every key the profile reads, with values of random bytes, digits, units and separators: the
   profile answers, never crashes, and what it answers is sane (a routable way has a class, a direction and speeds
   above zero). */
static void test_random_tags_never_crash(void **state)
{
    (void)state;
    static const char *const keys[] = {"highway",
                                       "oneway",
                                       "oneway:motorcar",
                                       "oneway:motor_vehicle",
                                       "oneway:vehicle",
                                       "access",
                                       "access:forward",
                                       "access:backward",
                                       "motorcar",
                                       "motor_vehicle:backward",
                                       "vehicle:forward",
                                       "maxspeed",
                                       "maxspeed:forward",
                                       "maxspeed:backward",
                                       "maxspeed:advisory",
                                       "source:maxspeed",
                                       "maxspeed:type",
                                       "maxheight",
                                       "maxheight:physical",
                                       "maxwidth",
                                       "width",
                                       "est_width",
                                       "maxlength",
                                       "maxweight",
                                       "construction",
                                       "proposed",
                                       "junction",
                                       "service",
                                       "route",
                                       "duration",
                                       "barrier",
                                       "bollard",
                                       "kerb",
                                       "area",
                                       "impassable",
                                       "status"};
    static const char *const words[] = {
        "yes",        "no",          "-1",      "primary", "track", "footway",  "reversible",    "alternating",
        "roundabout", "1.9",         "6'6\"",   "2,5 m",   "3.5 t", "none",     "below_default", "FR:urban",
        "50 mph",     "destination", "private", "bollard", "gate",  "rising",   "lowered",       "ferry",
        "01:30",      "PT1H",        ";",       "",        " ",     "\xff\xfe", "9999999999"};
    uint64_t rng = 0x1234567890abcdefULL;
    char vals[8][64];
    for (int round = 0; round < 20000; round++) {
        cv_tag tags[8];
        size_t n = 1 + (size_t)(next_u64(&rng) % 8);
        for (size_t i = 0; i < n; i++) {
            tags[i].key = keys[next_u64(&rng) % NTAGS(keys)];
            if (next_u64(&rng) % 4) {
                tags[i].value = words[next_u64(&rng) % NTAGS(words)];
            } else {
                size_t len = (size_t)(next_u64(&rng) % 63);
                for (size_t k = 0; k < len; k++)
                    vals[i][k] = (char)(1 + next_u64(&rng) % 255);
                vals[i][len] = '\0';
                tags[i].value = vals[i];
            }
        }
        cv_way_attr a;
        if (way_default(tags, n, &a)) {
            assert_true(a.road_class < CV_RC_COUNT);
            assert_true(a.flags & (CV_WAY_FORWARD | CV_WAY_BACKWARD));
            assert_true(a.speed_kmh > 0 && a.speed_back_kmh > 0);
        } else {
            assert_true(a.closed_by < CV_CLOSED_COUNT);
        }
        cv_node_rule r = cv_profile_node(tags, n);
        assert_true(r == CV_NODE_OPEN || r == CV_NODE_BARRIER || r == CV_NODE_CLOSED);
        double l = cv_profile_parse_length(tags[0].value), w = cv_profile_parse_weight(tags[0].value);
        assert_true(l == -1 || l >= 0);
        assert_true(w == -1 || w >= 0);
    }
}

static void test_null_and_garbage_tags_do_not_crash(void **state)
{
    (void)state;
    cv_way_attr a;
    assert_int_equal(cv_profile_way(NULL, NULL, 0, &a), 0);
    assert_int_equal(cv_profile_way(NULL, NULL, 5, &a), 0);
    assert_int_equal(WAY(&a, {NULL, "primary"}, {"highway", "primary"}, {NULL, NULL}, {"oneway", NULL},
                         {"maxspeed", NULL}, {"access", NULL}, {"service", NULL}, {"junction", NULL}),
                     1);
    assert_int_equal(a.flags, BOTH);
    assert_float_equal(a.speed_kmh, 65, EPS);
    assert_int_equal(WAY(&a, {"route", "ferry"}, {"duration", NULL}), 1);
    assert_int_equal(a.duration_s, 0);
    /* A NULL out pointer still classifies. */
    const cv_tag t[] = {{"highway", "primary"}};
    assert_int_equal(cv_profile_way(NULL, t, 1, NULL), 1);

    /* Long strings, in every parsed tag. */
    size_t n = 100000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, '9', n);
    big[n] = '\0';
    assert_float_equal(cv_profile_parse_maxspeed(big, CV_RC_PRIMARY), 0, EPS);
    assert_int_equal(cv_profile_parse_duration(big), 0);
    assert_int_equal(WAY(&a, {"highway", "primary"}, {"maxspeed", big}, {"oneway", big}, {"access", big}), 1);
    assert_float_equal(a.speed_kmh, 65, EPS);
    memset(big, ';', n);
    assert_float_equal(cv_profile_parse_maxspeed(big, CV_RC_PRIMARY), 0, EPS);
    assert_int_equal(cv_profile_parse_access(big), CV_ACCESS_UNKNOWN);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)("DE:zone:PT1H;-."[i % 15]);
    assert_float_equal(cv_profile_parse_maxspeed(big, CV_RC_PRIMARY), 0, EPS);
    assert_int_equal(cv_profile_parse_duration(big), 0);
    memcpy(big, "PT1H", 4);
    memset(big + 4, '1', n - 4);
    assert_int_equal(cv_profile_parse_duration(big), 0);
    memcpy(big, "DE:zone", 7);
    assert_float_equal(cv_profile_parse_maxspeed(big, CV_RC_PRIMARY), 0, EPS);
    assert_int_equal(WAY(&a, {big, big}, {"highway", big}), 0);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_ferries_on),
        cmocka_unit_test(test_class_names_and_speeds),
        cmocka_unit_test(test_routable_highways_get_class_and_default_speed),
        cmocka_unit_test(test_non_car_highways_not_routable),
        cmocka_unit_test(test_non_car_way_opened_by_car_access),
        cmocka_unit_test(test_not_routable_zeroes_out),
        cmocka_unit_test(test_ferry),
        cmocka_unit_test(test_ferry_option_off),
        cmocka_unit_test(test_service_emergency_access_excluded),
        cmocka_unit_test(test_service_car_parks_and_driveways_no_through),
        cmocka_unit_test(test_service_alley_and_plain),
        cmocka_unit_test(test_area_yes_excluded),
        cmocka_unit_test(test_construction_and_proposed_excluded),
        cmocka_unit_test(test_impassable_excluded),
        cmocka_unit_test(test_parse_access_values),
        cmocka_unit_test(test_access_no_not_routable),
        cmocka_unit_test(test_access_most_specific_wins),
        cmocka_unit_test(test_access_destination_no_through),
        cmocka_unit_test(test_access_discouraged_is_advisory),
        cmocka_unit_test(test_oneway_forward),
        cmocka_unit_test(test_oneway_backward),
        cmocka_unit_test(test_oneway_no_overrides_implied),
        cmocka_unit_test(test_oneway_reversible_not_routable),
        cmocka_unit_test(test_oneway_alternating_routable),
        cmocka_unit_test(test_oneway_mode_specific),
        cmocka_unit_test(test_access_directional),
        cmocka_unit_test(test_construction_proposed_tags),
        cmocka_unit_test(test_parse_length),
        cmocka_unit_test(test_parse_weight),
        cmocka_unit_test(test_physical_limits),
        cmocka_unit_test(test_node_barriers),
        cmocka_unit_test(test_node_access),
        cmocka_unit_test(test_implied_oneway),
        cmocka_unit_test(test_maxspeed_numbers_and_units),
        cmocka_unit_test(test_maxspeed_keywords),
        cmocka_unit_test(test_maxspeed_multiple_values),
        cmocka_unit_test(test_maxspeed_country_tables),
        cmocka_unit_test(test_maxspeed_country_case_and_fallbacks),
        cmocka_unit_test(test_maxspeed_garbage_is_zero),
        cmocka_unit_test(test_speed_from_maxspeed),
        cmocka_unit_test(test_speed_floor_and_fast_class_cap),
        cmocka_unit_test(test_speed_garbage_maxspeed_keeps_class_default),
        cmocka_unit_test(test_speed_service_subtype_keeps_reduced_speed),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_duration_garbage_is_zero),
        cmocka_unit_test(test_duplicate_keys_first_wins),
        cmocka_unit_test(test_null_and_garbage_tags_do_not_crash),
        cmocka_unit_test(test_random_tags_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
