/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* profile.c — the car profile: static tables turn OSM way tags into routability, direction, speed and access. */
#include "osm/profile.h"

#include <stdio.h>
#include <string.h>

/* ---- small locale-free string helpers (tags are untrusted, so every parse is bounded by a length) ---- */

typedef struct {
    const char *p;
    size_t n;
} slice;

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}
static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static slice trim(slice s)
{
    while (s.n && is_space(s.p[0]))
        s.p++, s.n--;
    while (s.n && is_space(s.p[s.n - 1]))
        s.n--;
    return s;
}

static slice mkslice(const char *s)
{
    return (slice){s, s ? strlen(s) : 0};
}

/* Case-insensitive: OSM values are lowercase by convention, but "Yes" or "fr:urban" mean the same thing. */
static int slice_eq(slice s, const char *lit)
{
    size_t i = 0;
    for (; i < s.n; i++)
        if (!lit[i] || lower(s.p[i]) != lower(lit[i]))
            return 0;
    return lit[i] == '\0';
}

static int slice_starts(slice s, const char *lit)
{
    size_t i = 0;
    for (; lit[i]; i++)
        if (i >= s.n || lower(s.p[i]) != lower(lit[i]))
            return 0;
    return 1;
}

/* Unsigned integer; at most 9 significant digits, so it never overflows and anything longer is garbage. */
static size_t parse_uint(const char *s, size_t n, uint32_t *out)
{
    size_t i = 0, sig = 0;
    uint32_t v = 0;
    while (i < n && is_digit(s[i])) {
        if (v || s[i] != '0')
            if (++sig > 9)
                return 0;
        v = v * 10 + (uint32_t)(s[i] - '0');
        i++;
    }
    if (i == 0)
        return 0;
    *out = v;
    return i;
}

/* Unsigned decimal ("50", "48.5"); no sign, exponent, inf/nan or locale comma, unlike strtod. */
static size_t parse_number(const char *s, size_t n, double *out)
{
    uint32_t ip;
    size_t i = parse_uint(s, n, &ip);
    if (i == 0)
        return 0;
    double v = ip, scale = 0.1;
    if (i + 1 < n && s[i] == '.' && is_digit(s[i + 1])) {
        for (i++; i < n && is_digit(s[i]); i++, scale *= 0.1)
            if (scale > 1e-9)
                v += (s[i] - '0') * scale; /* further digits cannot matter */
    }
    *out = v;
    return i;
}

/* ---- road classes ---- */

/* Indexed by cv_road_class; the names double as the highway=* values that select each class. */
static const struct {
    const char *name;
    float kmh;
} class_table[CV_RC_COUNT] = {
    [CV_RC_MOTORWAY] = {"motorway", 90},
    [CV_RC_MOTORWAY_LINK] = {"motorway_link", 45},
    [CV_RC_TRUNK] = {"trunk", 85},
    [CV_RC_TRUNK_LINK] = {"trunk_link", 40},
    [CV_RC_PRIMARY] = {"primary", 65},
    [CV_RC_PRIMARY_LINK] = {"primary_link", 30},
    [CV_RC_SECONDARY] = {"secondary", 55},
    [CV_RC_SECONDARY_LINK] = {"secondary_link", 25},
    [CV_RC_TERTIARY] = {"tertiary", 40},
    [CV_RC_TERTIARY_LINK] = {"tertiary_link", 20},
    [CV_RC_UNCLASSIFIED] = {"unclassified", 25},
    [CV_RC_RESIDENTIAL] = {"residential", 25},
    [CV_RC_LIVING_STREET] = {"living_street", 10},
    [CV_RC_SERVICE] = {"service", 15},
    [CV_RC_ROAD] = {"road", 20},
    [CV_RC_FERRY] = {"ferry", 5},
};

const char *cv_profile_class_name(int road_class)
{
    return (road_class >= 0 && road_class < CV_RC_COUNT) ? class_table[road_class].name : "unknown";
}

float cv_profile_class_speed(int road_class)
{
    return (road_class >= 0 && road_class < CV_RC_COUNT) ? class_table[road_class].kmh : 0.0f;
}

/* Anything not found here (footway, track, construction, proposed, ...) is not for cars, unless a tag for cars
   (motorcar, motor_vehicle or vehicle; not the general access, which speaks of the way's own users) opens it:
   then it is driven at OSRM's default speed, as a road of unknown class. */
static int highway_class(slice v)
{
    for (int c = 0; c < CV_RC_COUNT; c++)
        if (c != CV_RC_FERRY && slice_eq(v, class_table[c].name))
            return c;
    return -1;
}

static int is_fast_class(int c)
{
    return c == CV_RC_MOTORWAY || c == CV_RC_MOTORWAY_LINK || c == CV_RC_TRUNK || c == CV_RC_TRUNK_LINK;
}

#define OPENED_KMH 10.0f

/* highway=* values that no access tag opens to cars: not a way to drive along. */
static const char *const never_opened[] = {"steps",    "construction", "proposed", "platform", "elevator",   "corridor",
                                           "bus_stop", "abandoned",    "disused",  "razed",    "dismantled", "no"};

/* service=* refinements: car parks, driveways and drive-throughs are driven at the service class's speed (OSRM's)
   but only as trip ends, never as shortcuts; kmh 0 means excluded. */
static const struct {
    const char *name;
    float kmh;
    uint8_t flags;
} service_table[] = {
    {"emergency_access", 0, 0},
    {"parking_aisle", 15, CV_WAY_NO_THROUGH},
    {"driveway", 15, CV_WAY_NO_THROUGH},
    {"drive-through", 15, CV_WAY_NO_THROUGH},
    {"drive-thru", 15, CV_WAY_NO_THROUGH},
    {"parking", 15, CV_WAY_NO_THROUGH},
    {"alley", 15, 0},
};

/* Any way carrying one of these tags is dropped whatever its class. */
static const struct {
    const char *key, *value;
} excluded_tags[] = {
    {"area", "yes"},
    {"impassable", "yes"},
    {"status", "impassable"},
};

/* ---- access ---- */

static const struct {
    const char *name;
    cv_access access;
} access_table[] = {
    {"yes", CV_ACCESS_YES},
    {"permissive", CV_ACCESS_YES},
    {"designated", CV_ACCESS_YES},
    {"official", CV_ACCESS_YES},
    {"discouraged", CV_ACCESS_YES}, /* advisory only */
    {"no", CV_ACCESS_NO},
    {"agricultural", CV_ACCESS_NO},
    {"forestry", CV_ACCESS_NO},
    {"emergency", CV_ACCESS_NO},
    {"psv", CV_ACCESS_NO},
    {"bus", CV_ACCESS_NO},
    {"hgv", CV_ACCESS_NO},
    {"use_sidepath", CV_ACCESS_NO},
    {"military", CV_ACCESS_NO},
    {"private", CV_ACCESS_DESTINATION},
    {"destination", CV_ACCESS_DESTINATION},
    {"delivery", CV_ACCESS_DESTINATION},
    {"customers", CV_ACCESS_DESTINATION},
    {"permit", CV_ACCESS_DESTINATION},
    {"residents", CV_ACCESS_DESTINATION},
};

/* Most specific first: the first of these with a known value decides. */
static const char *const access_keys[] = {"motorcar", "motor_vehicle", "vehicle", "access"};

static cv_access access_one(slice v)
{
    for (size_t i = 0; i < sizeof access_table / sizeof access_table[0]; i++)
        if (slice_eq(v, access_table[i].name))
            return access_table[i].access;
    return CV_ACCESS_UNKNOWN;
}

cv_access cv_profile_parse_access(const char *value)
{
    /* A list such as "agricultural;forestry" names every allowed group: the most permissive known entry wins. */
    static const int rank[] = {
        [CV_ACCESS_UNKNOWN] = 0, [CV_ACCESS_NO] = 1, [CV_ACCESS_DESTINATION] = 2, [CV_ACCESS_YES] = 3};
    cv_access best = CV_ACCESS_UNKNOWN;
    slice s = mkslice(value);
    while (s.p && s.n) {
        const char *semi = memchr(s.p, ';', s.n);
        size_t len = semi ? (size_t)(semi - s.p) : s.n;
        cv_access a = access_one(trim((slice){s.p, len}));
        if (rank[a] > rank[best])
            best = a;
        if (!semi)
            break;
        s.p += len + 1, s.n -= len + 1;
    }
    return best;
}

/* ---- direction ---- */

#define DIR_BOTH (CV_WAY_FORWARD | CV_WAY_BACKWARD)

/* dir 0 means the direction changes over the day (reversible lanes, a few times a day), which a static graph
   cannot represent: the way is closed. Alternating ones change every few minutes (one lane under traffic lights):
   both directions, as OSRM routes them. */
#define DIR_REVERSIBLE 0
#define DIR_IMPLIED 0xff /* as the road's kind implies: both ways, but one way on motorways and roundabouts */
static const struct {
    const char *name;
    uint8_t dir;
    uint8_t rule;
} oneway_table[] = {
    /* clang-format off */
    {"yes", CV_WAY_FORWARD, 0},  {"1", CV_WAY_FORWARD, 0},     {"true", CV_WAY_FORWARD, 0},
    {"-1", CV_WAY_BACKWARD, 0},  {"reverse", CV_WAY_BACKWARD, 0},
    {"no", DIR_BOTH, 0},         {"0", DIR_BOTH, 0},           {"false", DIR_BOTH, 0},
    {"reversible", DIR_REVERSIBLE, 0},
    {"alternating", DIR_IMPLIED, CV_RULE_ALTERNATING},
    /* clang-format on */
};

/* Mode-specific oneways, most specific first; the first present replaces `oneway` (oneway:vehicle=no lifts
   oneway=yes for cars, as it does for bicycles with oneway:bicycle). */
static const char *const oneway_keys[] = {"oneway:motorcar", "oneway:motor_vehicle", "oneway:vehicle"};

/* construction=* values that do not close a built road (OSRM's whitelist). */
static const char *const construction_open[] = {"no", "widening", "minor"};

/* junction=* values that make a way oneway forward unless tagged otherwise. */
static const char *const oneway_junctions[] = {"roundabout", "circular"};

/* ---- maxspeed ---- */

#define MPH(x) ((float)((x)*1.609344))
#define KMH_NONE (-1.0f)  /* sentinel for "none" in the keyword table */
#define KMH_ABSURD 200.0f /* above this a value is a tagging error */

static const struct {
    const char *name;
    float kmh;
} maxspeed_words[] = {
    {"none", KMH_NONE},
    {"walk", 7},
    {"signals", 0},
    {"variable", 0},
};

static const struct {
    const char *name;
    double factor;
} maxspeed_units[] = {
    {"", 1}, {"km/h", 1}, {"kmh", 1}, {"kph", 1}, {"km/hr", 1}, {"mph", 1.609344}, {"knots", 1.852},
};

/* Implicit limits "CC:type" (source: the OSM wiki's default speed limit table, rounded to the national rule).
   Rows with an empty country are the fallback for any country, or for a type a country's rows lack. */
static const struct {
    const char *country, *type;
    float kmh;
} maxspeed_zones[] = {
    /* clang-format off */
    {"FR", "urban", 50}, {"FR", "rural", 80}, {"FR", "trunk", 110}, {"FR", "motorway", 130},
    {"FR", "living_street", 20},
    {"DE", "urban", 50}, {"DE", "rural", 100}, {"DE", "motorway", 130}, /* no limit, 130 advisory */
    {"DE", "living_street", 7}, {"DE", "bicycle_road", 30},
    {"AT", "urban", 50}, {"AT", "rural", 100}, {"AT", "trunk", 100}, {"AT", "motorway", 130},
    {"CH", "urban", 50}, {"CH", "rural", 80}, {"CH", "trunk", 100}, {"CH", "motorway", 120},
    {"BE", "urban", 50}, {"BE", "rural", 90}, {"BE", "trunk", 120}, {"BE", "motorway", 120},
    {"BE", "living_street", 20}, {"BE-VLG", "rural", 70}, /* Flanders lowered its rural default */
    {"NL", "urban", 50}, {"NL", "rural", 80}, {"NL", "trunk", 100},
    {"NL", "motorway", 100}, /* the daytime limit on nearly all motorways since 2020 */
    {"LU", "urban", 50}, {"LU", "rural", 90}, {"LU", "motorway", 130},
    {"IT", "urban", 50}, {"IT", "rural", 90}, {"IT", "trunk", 110}, {"IT", "motorway", 130},
    {"ES", "urban", 50}, {"ES", "rural", 90}, {"ES", "motorway", 120},
    {"PT", "urban", 50}, {"PT", "rural", 90}, {"PT", "trunk", 100}, {"PT", "motorway", 120},
    {"GB", "urban", MPH(30)}, {"GB", "nsl_restricted", MPH(30)}, {"GB", "nsl_single", MPH(60)},
    {"GB", "nsl_dual", MPH(70)}, {"GB", "motorway", MPH(70)},
    {"UK", "urban", MPH(30)}, {"UK", "nsl_restricted", MPH(30)}, {"UK", "nsl_single", MPH(60)},
    {"UK", "nsl_dual", MPH(70)}, {"UK", "motorway", MPH(70)},
    {"IE", "urban", 50}, {"IE", "rural", 80}, {"IE", "regional", 80}, {"IE", "national", 100},
    {"IE", "trunk", 100}, {"IE", "motorway", 120},
    {"DK", "urban", 50}, {"DK", "rural", 80}, {"DK", "trunk", 80}, {"DK", "motorway", 130},
    {"SE", "urban", 50}, {"SE", "rural", 70}, {"SE", "motorway", 110},
    {"NO", "urban", 50}, {"NO", "rural", 80}, {"NO", "motorway", 90},
    {"FI", "urban", 50}, {"FI", "rural", 80}, {"FI", "motorway", 120},
    {"PL", "urban", 50}, {"PL", "rural", 90}, {"PL", "trunk", 100}, {"PL", "motorway", 140},
    {"CZ", "urban", 50}, {"CZ", "rural", 90}, {"CZ", "trunk", 110}, {"CZ", "motorway", 130},
    {"SK", "urban", 50}, {"SK", "rural", 90}, {"SK", "motorway", 130},
    {"HU", "urban", 50}, {"HU", "rural", 90}, {"HU", "trunk", 110}, {"HU", "motorway", 130},
    {"RO", "urban", 50}, {"RO", "rural", 90}, {"RO", "trunk", 100}, {"RO", "motorway", 130},
    {"GR", "urban", 50}, {"GR", "rural", 90}, {"GR", "motorway", 130},
    {"RU", "urban", 60}, {"RU", "rural", 90}, {"RU", "motorway", 110}, {"RU", "living_street", 20},
    {"UA", "urban", 50}, {"UA", "rural", 90}, {"UA", "motorway", 130},
    /* US limits are set by states; these are common values. */
    {"US", "urban", MPH(25)}, {"US", "rural", MPH(55)}, {"US", "motorway", MPH(65)},
    {"", "urban", 50}, {"", "rural", 90}, {"", "trunk", 100}, {"", "motorway", 120},
    {"", "living_street", 10}, {"", "walk", 7},
    /* clang-format on */
};

static float zone_lookup(slice country, slice type)
{
    for (size_t i = 0; i < sizeof maxspeed_zones / sizeof maxspeed_zones[0]; i++)
        if (slice_eq(country, maxspeed_zones[i].country) && slice_eq(type, maxspeed_zones[i].type))
            return maxspeed_zones[i].kmh;
    return 0;
}

/* "CC:type", "CC-RRR:type", "CC:zoneNN", "CC:zone:NN". */
static float parse_zone(slice v)
{
    const char *colon = memchr(v.p, ':', v.n);
    if (!colon)
        return 0;
    slice country = {v.p, (size_t)(colon - v.p)};
    slice type = {colon + 1, v.n - country.n - 1};
    if (country.n < 2 || country.n > 6 || !is_alpha(country.p[0]) || !is_alpha(country.p[1]))
        return 0;
    for (size_t i = 2; i < country.n; i++)
        if (!is_alpha(country.p[i]) && !(i == 2 && country.p[i] == '-'))
            return 0;

    if (slice_starts(type, "zone")) {
        slice nn = {type.p + 4, type.n - 4};
        if (nn.n && nn.p[0] == ':')
            nn.p++, nn.n--;
        double kmh;
        return (parse_number(nn.p, nn.n, &kmh) == nn.n && nn.n) ? (float)kmh : 0;
    }
    float kmh = zone_lookup(country, type);
    if (kmh == 0 && country.n > 2)
        kmh = zone_lookup((slice){country.p, 2}, type); /* region → its country */
    if (kmh == 0)
        kmh = zone_lookup((slice){"", 0}, type);
    return kmh;
}

/* One value of a possibly ';'-separated list; 0 if unparseable. */
static float parse_maxspeed_one(slice v, int road_class)
{
    v = trim(v);
    if (!v.n)
        return 0;
    for (size_t i = 0; i < sizeof maxspeed_words / sizeof maxspeed_words[0]; i++)
        if (slice_eq(v, maxspeed_words[i].name)) {
            /* "none" has a meaning only where roads are built for speed (German Autobahn): cap it at a
               plausible cruising limit there; elsewhere it is a tagging slip and the class default is safer. */
            if (maxspeed_words[i].kmh == KMH_NONE)
                return is_fast_class(road_class) ? 130.0f : 0.0f;
            return maxspeed_words[i].kmh;
        }

    double num;
    size_t used = parse_number(v.p, v.n, &num);
    if (used) {
        slice unit = trim((slice){v.p + used, v.n - used});
        for (size_t i = 0; i < sizeof maxspeed_units / sizeof maxspeed_units[0]; i++)
            if (slice_eq(unit, maxspeed_units[i].name))
                return (float)(num * maxspeed_units[i].factor);
        return 0;
    }
    return parse_zone(v);
}

float cv_profile_parse_maxspeed(const char *value, int road_class)
{
    float best = 0;
    slice s = mkslice(value);
    /* "50;30" (e.g. two signs on one way): the lowest limit is the one a driver must respect. */
    while (s.p && s.n) {
        const char *semi = memchr(s.p, ';', s.n);
        size_t len = semi ? (size_t)(semi - s.p) : s.n;
        float kmh = parse_maxspeed_one((slice){s.p, len}, road_class);
        if (kmh > 0 && kmh <= KMH_ABSURD && (best == 0 || kmh < best))
            best = kmh;
        if (!semi)
            break;
        s.p += len + 1, s.n -= len + 1;
    }
    return best;
}

/* ---- ferry duration ---- */

#define DURATION_MAX 4294967295.0 /* UINT32_MAX seconds */

/* ISO 8601 "PnDTnHnMnS" (also weeks "PnW"); designators must come in order. */
static uint32_t parse_iso_duration(slice v)
{
    static const struct {
        char c;
        int in_time;
        double seconds;
    } parts[] = {{'w', 0, 604800}, {'d', 0, 86400}, {'h', 1, 3600}, {'m', 1, 60}, {'s', 1, 1}};
    size_t i = 1, next = 0;
    int in_time = 0, any = 0;
    double total = 0;
    while (i < v.n) {
        if (lower(v.p[i]) == 't' && !in_time) {
            in_time = 1, i++;
            if (i == v.n)
                return 0; /* "PT" with nothing after */
            continue;
        }
        double num;
        size_t used = parse_number(v.p + i, v.n - i, &num);
        if (!used || i + used >= v.n)
            return 0;
        i += used;
        char d = lower(v.p[i]);
        size_t k = next;
        while (k < sizeof parts / sizeof parts[0] && (parts[k].c != d || parts[k].in_time != in_time))
            k++;
        if (k == sizeof parts / sizeof parts[0])
            return 0; /* unknown, months/years, or out of order */
        total += num * parts[k].seconds;
        next = k + 1, any = 1, i++;
    }
    total += 0.5; /* round before the range check, so the cast below is always defined */
    if (!any || total > DURATION_MAX)
        return 0;
    return (uint32_t)total;
}

uint32_t cv_profile_parse_duration(const char *value)
{
    slice v = trim(mkslice(value));
    if (!v.n)
        return 0;
    if (lower(v.p[0]) == 'p')
        return parse_iso_duration(v);

    /* "MM", "HH:MM" or "HH:MM:SS": up to three integer fields. */
    uint32_t f[3];
    size_t nf = 0, i = 0;
    for (;;) {
        size_t used = parse_uint(v.p + i, v.n - i, &f[nf]);
        if (!used)
            return 0;
        i += used, nf++;
        if (i == v.n)
            break;
        if (v.p[i] != ':' || nf == 3)
            return 0;
        i++;
    }
    double total;
    if (nf == 1) {
        total = f[0] * 60.0;
    } else {
        if (f[1] >= 60 || (nf == 3 && f[2] >= 60))
            return 0;
        total = f[0] * 3600.0 + f[1] * 60.0 + (nf == 3 ? f[2] : 0);
    }
    return total > DURATION_MAX ? 0 : (uint32_t)total;
}

/* ---- the profile ---- */

cv_profile_options cv_profile_defaults(void)
{
    return (cv_profile_options){.ferries = 1};
}

/* First occurrence wins, even if its value is NULL (then the tag counts as absent). */
static const char *tag_get(const cv_tag *tags, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (tags[i].key && strcmp(tags[i].key, key) == 0)
            return tags[i].value;
    return NULL;
}

static int tag_is(const cv_tag *tags, size_t n, const char *key, const char *value)
{
    const char *v = tag_get(tags, n, key);
    return v && slice_eq(trim(mkslice(v)), value);
}

/* Fills *out as "not routable" with the reason, and returns 0. */
static int closed(cv_way_attr *out, cv_way_closed why)
{
    if (out) {
        memset(out, 0, sizeof *out);
        out->closed_by = (uint8_t)why;
    }
    return 0;
}

/* The value of `key:forward` (dir 0) or `key:backward` (dir 1). */
static const char *tag_dir(const cv_tag *tags, size_t n, const char *key, int dir)
{
    char k[64];
    snprintf(k, sizeof k, "%s:%s", key, dir ? "backward" : "forward");
    return tag_get(tags, n, k);
}

/* Access for one direction (0 forward, 1 backward): for each key from the most specific mode, the directional tag
   then the plain one; the first known value decides. *directional is set when a directional tag decided.
   vehicles_only leaves out the last key, the general `access`. */
static cv_access access_for(const cv_tag *tags, size_t n, int dir, int *directional, int vehicles_only)
{
    *directional = 0;
    size_t nkeys = sizeof access_keys / sizeof access_keys[0] - (vehicles_only ? 1 : 0);
    for (size_t i = 0; i < nkeys; i++) {
        cv_access a = cv_profile_parse_access(tag_dir(tags, n, access_keys[i], dir));
        if (a != CV_ACCESS_UNKNOWN) {
            *directional = 1;
            return a;
        }
        a = cv_profile_parse_access(tag_get(tags, n, access_keys[i]));
        if (a != CV_ACCESS_UNKNOWN)
            return a;
    }
    return CV_ACCESS_UNKNOWN;
}

/* ---- physical limits ---- */

/* Values that mean "no limit" (or one only lorries care about). */
static const char *const no_limit_words[] = {"none",    "default", "below_default", "unsigned", "no_sign",
                                             "no-sign", "no",      "unknown"};

static int no_limit(slice v)
{
    for (size_t i = 0; i < sizeof no_limit_words / sizeof no_limit_words[0]; i++)
        if (slice_eq(v, no_limit_words[i]))
            return 1;
    return 0;
}

/* A decimal with '.' or ',' as the separator; returns the characters used (0: none). */
static size_t parse_decimal(const char *s, size_t n, double *out)
{
    char buf[32];
    size_t k = 0;
    while (k < n && k + 1 < sizeof buf && (is_digit(s[k]) || s[k] == '.' || s[k] == ',')) {
        buf[k] = s[k] == ',' ? '.' : s[k];
        k++;
    }
    return k ? parse_number(buf, k, out) : 0;
}

static const struct {
    const char *unit;
    double metres;
} length_units[] = {
    /* clang-format off */
    {"", 1}, {"m", 1}, {"meter", 1}, {"meters", 1}, {"metre", 1}, {"metres", 1}, {"cm", 0.01}, {"mm", 0.001},
    {"ft", 0.3048}, {"feet", 0.3048}, {"foot", 0.3048}, {"'", 0.3048}, {"in", 0.0254}, {"\"", 0.0254},
    /* clang-format on */
};

/* One "number unit" part of a length; returns the characters used (0: not a length), *m the metres and *unit_m
   the unit's size in metres (1 when there was no unit). */
static size_t length_part(slice v, double *m, double *unit_m)
{
    double num;
    size_t used = parse_decimal(v.p, v.n, &num);
    if (!used)
        return 0;
    size_t k = used;
    while (k < v.n && is_space(v.p[k]))
        k++;
    size_t ul = 0;
    if (k < v.n && (v.p[k] == '\'' || v.p[k] == '"'))
        ul = 1; /* 6'6" */
    else
        while (k + ul < v.n && is_alpha(v.p[k + ul]))
            ul++;
    slice unit = {v.p + k, ul};
    for (size_t i = 0; i < sizeof length_units / sizeof length_units[0]; i++)
        if (slice_eq(unit, length_units[i].unit)) {
            *m = num * length_units[i].metres;
            *unit_m = length_units[i].metres;
            return ul ? k + ul : used;
        }
    return 0;
}

double cv_profile_parse_length(const char *value)
{
    slice v = trim(mkslice(value));
    if (!v.n)
        return -1;
    if (no_limit(v))
        return 0;
    double m, unit;
    size_t used = length_part(v, &m, &unit);
    if (!used)
        return -1;
    slice rest = trim((slice){v.p + used, v.n - used});
    if (!rest.n)
        return m;
    /* feet then inches: 6'6", 6' 6, 6 ft 6 in */
    double m2, unit2;
    size_t used2 = unit == 0.3048 ? length_part(rest, &m2, &unit2) : 0;
    if (!used2 || (unit2 != 0.0254 && unit2 != 1) || trim((slice){rest.p + used2, rest.n - used2}).n)
        return -1;
    return m + (unit2 == 1 ? m2 * 0.0254 : m2);
}

static const struct {
    const char *unit;
    double kg;
} weight_units[] = {
    /* clang-format off */
    {"", 1000}, {"t", 1000}, {"tonne", 1000}, {"tonnes", 1000}, {"ton", 1000}, {"tons", 1000},
    {"kg", 1}, {"st", 907.18474}, {"lbs", 0.45359237}, {"lb", 0.45359237},
    /* clang-format on */
};

double cv_profile_parse_weight(const char *value)
{
    slice v = trim(mkslice(value));
    if (!v.n)
        return -1;
    if (no_limit(v))
        return 0;
    double num;
    size_t used = parse_decimal(v.p, v.n, &num);
    if (!used)
        return -1;
    slice unit = trim((slice){v.p + used, v.n - used});
    for (size_t i = 0; i < sizeof weight_units / sizeof weight_units[0]; i++)
        if (slice_eq(unit, weight_units[i].unit))
            return num * weight_units[i].kg;
    return -1;
}

/* For each direction, the first of `keys` present as key:forward/backward or key (OSRM's rule for limits). */
static void limit_values(const cv_tag *tags, size_t n, const char *const *keys, size_t nkeys, const char *v[2])
{
    v[0] = v[1] = NULL;
    for (size_t i = 0; i < nkeys && (!v[0] || !v[1]); i++)
        for (int d = 0; d < 2; d++) {
            if (!v[d])
                v[d] = tag_dir(tags, n, keys[i], d);
            if (!v[d])
                v[d] = tag_get(tags, n, keys[i]);
        }
}

/* The directions (CV_WAY_FORWARD | CV_WAY_BACKWARD) that physical limits leave open to an ordinary car. A limit
   closes when it is known and below the car: height and length strictly below, width at or below (a 1.9 m car
   needs some room), weight below. Unreadable values are ignored. */
static uint8_t physical_dirs(const cv_tag *tags, size_t n)
{
    static const char *const height[] = {"maxheight:physical", "maxheight"};
    static const char *const width[] = {"maxwidth:physical", "maxwidth", "width", "est_width"};
    static const char *const length[] = {"maxlength:physical", "maxlength"};
    static const char *const weight[] = {"maxweight:physical", "maxweight"};
    uint8_t open = DIR_BOTH;
    const char *v[2];
    for (int d = 0; d < 2; d++) {
        uint8_t bit = d ? CV_WAY_BACKWARD : CV_WAY_FORWARD;
        double x;
        limit_values(tags, n, height, 2, v);
        if (v[d] && (x = cv_profile_parse_length(v[d])) > 0 && x < CV_CAR_HEIGHT_M)
            open &= (uint8_t)~bit;
        limit_values(tags, n, width, 4, v);
        if (v[d] && (x = cv_profile_parse_length(v[d])) > 0 && x <= CV_CAR_WIDTH_M)
            open &= (uint8_t)~bit;
        limit_values(tags, n, length, 2, v);
        if (v[d] && (x = cv_profile_parse_length(v[d])) > 0 && x < CV_CAR_LENGTH_M)
            open &= (uint8_t)~bit;
        limit_values(tags, n, weight, 2, v);
        if (v[d] && (x = cv_profile_parse_weight(v[d])) > 0 && x < CV_CAR_WEIGHT_KG)
            open &= (uint8_t)~bit;
    }
    return open;
}

/* Where a way's speed limit is read, for each direction the first present (with key:forward or key:backward
   before key): an advisory limit before the legal one, and the source of the limit (FR:urban) when no number is
   given, as OSRM reads them. */
static const char *const speed_keys[] = {"maxspeed:advisory", "maxspeed", "source:maxspeed", "maxspeed:type"};

/* ---- nodes ---- */

/* Barriers a car passes (OSRM's car whitelist). */
static const char *const passable_barriers[] = {
    "gate",       "lift_gate", "toll_booth", "cattle_grid", "border_control",
    "sally_port", "entrance",  "arch",       "no",          "height_restrictor"};

cv_node_rule cv_profile_node(const cv_tag *tags, size_t ntags)
{
    if (!tags)
        ntags = 0;
    for (size_t i = 0; i < sizeof access_keys / sizeof access_keys[0]; i++) {
        cv_access a = cv_profile_parse_access(tag_get(tags, ntags, access_keys[i]));
        if (a == CV_ACCESS_UNKNOWN)
            continue;
        /* an access tag decides alone: a wall with access=yes is passed, a gate with access=no is not, and a
           private gate is a place a route may start or end behind, as a private road is */
        return a == CV_ACCESS_NO ? CV_NODE_CLOSED : CV_NODE_OPEN;
    }
    slice barrier = trim(mkslice(tag_get(tags, ntags, "barrier")));
    if (!barrier.n)
        return CV_NODE_OPEN;
    for (size_t i = 0; i < sizeof passable_barriers / sizeof passable_barriers[0]; i++)
        if (slice_eq(barrier, passable_barriers[i])) {
            if (slice_eq(barrier, "height_restrictor")) {
                double h = cv_profile_parse_length(tag_get(tags, ntags, "maxheight"));
                if (h > 0 && h < CV_CAR_HEIGHT_M)
                    return CV_NODE_BARRIER;
            }
            return CV_NODE_OPEN;
        }
    if (tag_is(tags, ntags, "bollard", "rising"))
        return CV_NODE_OPEN;
    if (slice_eq(barrier, "kerb") && (tag_is(tags, ntags, "kerb", "lowered") || tag_is(tags, ntags, "kerb", "flush") ||
                                      tag_is(tags, ntags, "highway", "crossing")))
        return CV_NODE_OPEN;
    return CV_NODE_BARRIER;
}

int cv_profile_way(const cv_profile_options *opt, const cv_tag *tags, size_t ntags, cv_way_attr *out)
{
    cv_profile_options def = cv_profile_defaults();
    cv_way_attr a = {0};
    if (out)
        *out = a;
    if (!opt)
        opt = &def;
    if (!tags)
        ntags = 0;

    int is_road =
        tag_is(tags, ntags, "route", "ferry") || highway_class(trim(mkslice(tag_get(tags, ntags, "highway")))) >= 0;
    for (size_t i = 0; i < sizeof excluded_tags / sizeof excluded_tags[0]; i++)
        if (tag_is(tags, ntags, excluded_tags[i].key, excluded_tags[i].value))
            return closed(out, is_road ? CV_CLOSED_OTHER : CV_CLOSED_NONE);

    /* Class, and the class's own speed before any maxspeed. route=ferry wins over a highway tag on the same
       way: it is a boat either way. */
    int rc;
    float base, service_kmh = 0;
    if (tag_is(tags, ntags, "route", "ferry")) {
        if (!opt->ferries)
            return closed(out, CV_CLOSED_OTHER);
        rc = CV_RC_FERRY;
        a.flags |= CV_WAY_FERRY;
        a.duration_s = cv_profile_parse_duration(tag_get(tags, ntags, "duration"));
    } else {
        rc = highway_class(trim(mkslice(tag_get(tags, ntags, "highway"))));
    }
    uint8_t opened = 0; /* directions a car access tag opens on a way that is no car road */
    if (rc < 0) {
        slice hw = trim(mkslice(tag_get(tags, ntags, "highway")));
        if (!hw.n)
            return 0;
        for (size_t i = 0; i < sizeof never_opened / sizeof never_opened[0]; i++)
            if (slice_eq(hw, never_opened[i]))
                return 0;
        for (int d = 0; d < 2; d++) {
            int directional;
            if (access_for(tags, ntags, d, &directional, 1) == CV_ACCESS_YES)
                opened |= d ? CV_WAY_BACKWARD : CV_WAY_FORWARD;
        }
        if (!opened)
            return 0;
        rc = CV_RC_ROAD;
        a.rules |= CV_RULE_OPENED_BY_ACCESS;
    }
    base = opened ? OPENED_KMH : class_table[rc].kmh;
    if (rc == CV_RC_SERVICE) {
        slice sv = trim(mkslice(tag_get(tags, ntags, "service")));
        for (size_t i = 0; i < sizeof service_table / sizeof service_table[0]; i++)
            if (slice_eq(sv, service_table[i].name)) {
                if (service_table[i].kmh == 0)
                    return closed(out, CV_CLOSED_OTHER);
                base = service_kmh = service_table[i].kmh;
                a.flags |= service_table[i].flags;
                break;
            }
    }

    /* construction=* and proposed=* on a road that is otherwise open: works going on, or a plan */
    const char *cons = tag_get(tags, ntags, "construction");
    if (cons && trim(mkslice(cons)).n) {
        size_t i = 0;
        while (i < sizeof construction_open / sizeof construction_open[0] &&
               !slice_eq(trim(mkslice(cons)), construction_open[i]))
            i++;
        if (i == sizeof construction_open / sizeof construction_open[0])
            return closed(out, CV_CLOSED_CONSTRUCTION);
    }
    const char *prop = tag_get(tags, ntags, "proposed");
    if (prop && trim(mkslice(prop)).n && !slice_eq(trim(mkslice(prop)), "no"))
        return closed(out, CV_CLOSED_PROPOSED);

    /* direction: implied, then oneway (or the most specific mode-specific oneway) */
    uint8_t dir = DIR_BOTH;
    if (rc == CV_RC_MOTORWAY)
        dir = CV_WAY_FORWARD;
    slice junction = trim(mkslice(tag_get(tags, ntags, "junction")));
    for (size_t i = 0; i < sizeof oneway_junctions / sizeof oneway_junctions[0]; i++)
        if (slice_eq(junction, oneway_junctions[i]))
            dir = CV_WAY_FORWARD;
    const char *ow = NULL;
    for (size_t i = 0; i < sizeof oneway_keys / sizeof oneway_keys[0] && !ow; i++)
        if ((ow = tag_get(tags, ntags, oneway_keys[i])) && !trim(mkslice(ow)).n)
            ow = NULL;
    if (ow)
        a.rules |= CV_RULE_MODE_ONEWAY;
    else
        ow = tag_get(tags, ntags, "oneway");
    slice oneway = trim(mkslice(ow));
    for (size_t i = 0; i < sizeof oneway_table / sizeof oneway_table[0]; i++)
        if (slice_eq(oneway, oneway_table[i].name)) {
            if (oneway_table[i].dir == DIR_REVERSIBLE)
                return closed(out, CV_CLOSED_REVERSIBLE);
            if (oneway_table[i].dir != DIR_IMPLIED)
                dir = oneway_table[i].dir;
            a.rules |= oneway_table[i].rule;
            break;
        }

    /* access, per direction: the most specific mode decides, and within a mode access:forward beats access */
    int directional[2] = {0, 0};
    cv_access acc[2] = {access_for(tags, ntags, 0, &directional[0], 0), access_for(tags, ntags, 1, &directional[1], 0)};
    uint8_t before = dir;
    for (int d = 0; d < 2; d++)
        if (acc[d] == CV_ACCESS_NO)
            dir &= (uint8_t) ~(d ? CV_WAY_BACKWARD : CV_WAY_FORWARD);
    if (opened)
        dir &= opened;
    if (!dir)
        return closed(out, before ? CV_CLOSED_ACCESS : CV_CLOSED_OTHER);
    if (dir != before && (directional[0] || directional[1]))
        a.rules |= CV_RULE_DIRECTIONAL_ACCESS;
    for (int d = 0; d < 2; d++)
        if ((dir & (d ? CV_WAY_BACKWARD : CV_WAY_FORWARD)) && acc[d] == CV_ACCESS_DESTINATION)
            a.flags |= CV_WAY_NO_THROUGH;

    /* physical limits below an ordinary car's close the directions they apply to */
    before = dir;
    dir &= physical_dirs(tags, ntags);
    if (!dir)
        return closed(out, CV_CLOSED_PHYSICAL);
    if (dir != before)
        a.rules |= CV_RULE_PHYSICAL_ONE_WAY;
    a.flags |= dir;

    /* Speed per direction. A ferry's speed is the boat's, not a road limit; its real timing comes from
       duration_s. */
    float speed[2] = {base, base};
    for (int d = 0; d < 2 && rc != CV_RC_FERRY; d++) {
        const char *v[2];
        limit_values(tags, ntags, speed_keys, sizeof speed_keys / sizeof speed_keys[0], v);
        float ms = cv_profile_parse_maxspeed(v[d], rc);
        if (d == 0)
            a.maxspeed_kmh = ms;
        if (ms > 0) {
            float sp = ms * 0.8f; /* traffic, bends and junctions: nobody averages the limit */
            if (sp < 3.0f)
                sp = 3.0f;
            if (is_fast_class(rc) && sp > ms)
                sp = ms;
            /* A car-park subtype keeps its crawl speed unless the limit implies an even slower one. */
            speed[d] = (service_kmh > 0 && service_kmh < sp) ? service_kmh : sp;
        }
    }
    a.road_class = (uint8_t)rc;
    a.speed_kmh = speed[0];
    a.speed_back_kmh = speed[1];
    if (out)
        *out = a;
    return 1;
}
