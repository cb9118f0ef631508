/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* cmd_export.c — what a territory reads, from the command line: `covoit export gtfs`, the open offers of a trip
   database as a GTFS feed (feeds/gtfs.h), the same file `covoit serve` gives at /feeds/gtfs.zip; `covoit stats`, the
   open statistics GET /v1/stats gives (feeds/stats.h). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "feeds/gtfs.h"
#include "feeds/stats.h"
#include "matcher/timeutil.h"
#include "web/trip_json.h"
#include "matcher/store.h"
#include "places/places.h"
#include "routing/ch.h"
#include "routing/geo.h"

#include <jansson.h>

/* The trip database db must be there (these commands read it, they make none), and its zone (or tz) set: 0, or
   the exit status after saying why. */
static int existing_db(const char *db, const char *tz)
{
    if (!cv_store_is_postgres(db) && access(db, F_OK) != 0) {
        cli_error("--db %s: no such trip database", db);
        return CLI_FAIL;
    }
    char why[400];
    int zst = cli_zone(tz, db, 0, "--tz", why, sizeof why);
    if (zst)
        cli_error("%s", why);
    return zst;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: covoit export gtfs --graph FILE --db FILE -o feed.zip [--days N] [--operator DOMAIN]\n"
               "                          [--public-url URL] [--places FILE] [--tz ZONE]\n\n"
               "Writes the open offers of the trip database as a GTFS feed for trip planners: each offer a route\n"
               "of type 1551 (carpool) with its dates from today on (--days, 30, at most 366), its stops the public\n"
               "meeting areas that stand for the driver's origin, vias and destination (never the exact places),\n"
               "times and shapes along the roads between them, GTFS-Flex booking rules linking to the map page\n"
               "(--public-url, as covoit serve --public-url), the agency named by --operator (covoit serve's\n"
               "domain). Stops are named from the place index (--places FILE,\n"
               "default GRAPH.places when present). The file is written whole or not at all.\n");
}

int cmd_export(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "gtfs")) {
        cli_error("export: unknown feed '%s' (gtfs)", argv[1]);
        return CLI_USAGE;
    }
    const char *graph = NULL, *db = NULL, *out = NULL, *places_path = NULL, *tz = NULL;
    cv_gtfs_options o = cv_gtfs_defaults();
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            usage(stdout);
            return CLI_OK;
        } else if (!v) {
            cli_error("export gtfs: '%s' needs a value, or is unknown (try --help)", a);
            return CLI_USAGE;
        } else if (!strcmp(a, "--graph")) {
            graph = v, i++;
        } else if (!strcmp(a, "--db")) {
            db = v, i++;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            out = v, i++;
        } else if (!strcmp(a, "--places")) {
            places_path = v, i++;
        } else if (!strcmp(a, "--operator")) {
            o.operator_name = v, i++;
        } else if (!strcmp(a, "--public-url")) {
            o.public_url = v, i++;
        } else if (!strcmp(a, "--tz")) {
            tz = v, i++;
        } else if (!strcmp(a, "--days")) {
            char *end = NULL;
            errno = 0;
            long d = strtol(v, &end, 10);
            if (*end || errno || d < 1 || d > CV_GTFS_DAYS_MAX) {
                cli_error("--days: a whole number from 1 to %d, not '%.40s'", CV_GTFS_DAYS_MAX, v);
                return CLI_USAGE;
            }
            o.days = (int)d, i++;
        } else {
            cli_error("export gtfs: unknown option '%s' (try --help)", a);
            return CLI_USAGE;
        }
    }
    if (!graph || !db || !out) {
        cli_error("export gtfs needs --graph FILE, --db FILE and -o feed.zip");
        return CLI_USAGE;
    }
    int zst = existing_db(db, tz);
    if (zst)
        return zst;
    cv_error err = {0};
    int status = CLI_FAIL;
    cv_store *s = NULL;
    cv_places *pl = NULL;
    cv_ch_query *q = NULL;
    void *zip = NULL;
    size_t len = 0;
    cv_graph *g = cv_graph_open(graph, &err);
    char idx[4200], tmp[4200];
    if (!g)
        goto done;
    if (places_path)
        snprintf(idx, sizeof idx, "%s", places_path);
    else
        cv_places_path_for(graph, idx, sizeof idx);
    if ((places_path || access(idx, F_OK) == 0) && cv_places_open(idx, &pl, &err))
        goto done;
    o.places = pl;
    if (!(q = cv_ch_query_new(g))) {
        cv_fail(&err, CV_ENOMEM, "out of memory");
        goto done;
    }
    cv_gtfs_stats st;
    if (cv_store_open(db, &s, &err) || cv_gtfs_build(g, q, s, &o, (int64_t)time(NULL), &zip, &len, &st, &err))
        goto done;
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    FILE *f = fopen(tmp, "wb");
    if (!f || fwrite(zip, 1, len, f) != len || fclose(f) != 0 || rename(tmp, out) != 0) {
        cv_fail(&err, CV_EIO, "cannot write %s: %s", out, strerror(errno));
        unlink(tmp);
        goto done;
    }
    fprintf(stderr,
            "%s: GTFS of %zu offers on %zu dates (%d days from today), %zu meeting areas, %zu shape points, "
            "%zu bytes\n",
            out, st.offers, st.dates, o.days, st.stops, st.shape_points, len);
    status = CLI_OK;
done:
    if (status != CLI_OK)
        cli_error("%s", err.text);
    free(zip);
    cv_store_close(s);
    cv_places_close(pl);
    cv_ch_query_free(q);
    cv_graph_close(g);
    return status;
}

static void stats_usage(FILE *f)
{
    fprintf(f,
            "usage: covoit stats --graph FILE --db FILE [--from DATE] [--to DATE] [--cell-km N | --areas FILE]\n"
            "                    [--csv] [--tz ZONE]\n\n"
            "The territory's open statistics, as GET /v1/stats gives them: trips offered, requested and matched,\n"
            "km shared, vehicle-km and CO2 avoided (0.218 kg per km), by week (Monday first) and by square cell\n"
            "of --cell-km (2; 1 to 50) around where each trip starts, from --from to --to (default: the twelve\n"
            "weeks to today). k-anonymous: a week and cell with fewer than 5 trips offered or requested is not\n"
            "shown (counted in suppressed), and the totals are those of the rows shown. --areas FILE.geojson: by the\n"
            "areas a local authority supplies (a FeatureCollection of Polygons and MultiPolygons, named by their\n"
            "properties.name) instead of the grid. JSON, or CSV (--csv).\n");
}

int cmd_stats(int argc, char **argv)
{
    const char *graph = NULL, *db = NULL, *from_s = NULL, *to_s = NULL, *tz = NULL, *areas_path = NULL;
    double cell = 2.0;
    int csv = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            stats_usage(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--csv")) {
            csv = 1;
        } else if (!v) {
            cli_error("stats: '%s' needs a value, or is unknown (try --help)", a);
            return CLI_USAGE;
        } else if (!strcmp(a, "--graph")) {
            graph = v, i++;
        } else if (!strcmp(a, "--db")) {
            db = v, i++;
        } else if (!strcmp(a, "--from")) {
            from_s = v, i++;
        } else if (!strcmp(a, "--to")) {
            to_s = v, i++;
        } else if (!strcmp(a, "--tz")) {
            tz = v, i++;
        } else if (!strcmp(a, "--areas")) {
            areas_path = v, i++;
        } else if (!strcmp(a, "--cell-km")) {
            char *end = NULL;
            cell = strtod(v, &end);
            if (!*v || *end) {
                cli_error("--cell-km: a number of km from 1 to 50, not '%.40s'", v);
                return CLI_USAGE;
            }
            i++;
        } else {
            cli_error("stats: unknown option '%s' (try --help)", a);
            return CLI_USAGE;
        }
    }
    if (!graph || !db) {
        cli_error("covoit stats needs --graph FILE and --db FILE");
        return CLI_USAGE;
    }
    int zst = existing_db(db, tz);
    if (zst)
        return zst;
    cv_error err = {0};
    cv_day today, from, to;
    cv_utc_to_local((int64_t)time(NULL), &today, NULL, NULL);
    to = today;
    if (to_s && cv_parse_date(to_s, &to, &err)) {
        cli_error("--to: %s", err.text);
        return CLI_USAGE;
    }
    from = to - 83;
    if (from_s && cv_parse_date(from_s, &from, &err)) {
        cli_error("--from: %s", err.text);
        return CLI_USAGE;
    }
    cv_stats_areas areas = {0};
    char why[600];
    if (areas_path && cli_load_areas(areas_path, &areas, why, sizeof why)) {
        cli_error("--areas %s", why);
        return CLI_USAGE;
    }
    int status = CLI_FAIL;
    cv_store *s = NULL;
    cv_ch_query *q = NULL;
    cv_stats st = {0};
    cv_graph *g = cv_graph_open(graph, &err);
    if (g && !(q = cv_ch_query_new(g)))
        cv_fail(&err, CV_ENOMEM, "out of memory");
    int rc = g && q ? cv_store_open(db, &s, &err) : -1;
    if (!rc)
        rc = areas_path ? cv_stats_build_areas(g, q, s, from, to, &areas, CV_STATS_K, &st, &err)
                        : cv_stats_build(g, q, s, from, to, cell, CV_STATS_K, &st, &err);
    if (!rc) {
        if (csv) {
            char *text = cv_stats_csv(&st);
            if (text)
                fputs(text, stdout);
            free(text);
        } else {
            json_t *doc = trip_json_stats(&st, from, to);
            char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) : NULL;
            if (text)
                puts(text);
            free(text);
            json_decref(doc);
        }
        status = CLI_OK;
    } else {
        cli_error("%s", err.text);
        status = rc == CV_EINVAL ? CLI_USAGE : CLI_FAIL;
    }
    cv_stats_free(&st);
    cv_stats_areas_free(&areas);
    cv_store_close(s);
    cv_ch_query_free(q);
    cv_graph_close(g);
    return status;
}

/* --- the areas of a local authority, from GeoJSON --- */

/* One ring of [lon, lat] pairs into a (appended); 0, or -1 with why. */
static int read_ring(json_t *ring, cv_stats_area *a, size_t *cap, char *why, size_t wcap)
{
    if (!json_is_array(ring) || json_array_size(ring) < 4) {
        snprintf(why, wcap, "a ring is not an array of at least 4 positions");
        return -1;
    }
    size_t start = a->nrings ? a->ring_end[a->nrings - 1] : 0, n = json_array_size(ring);
    if (start + n > *cap) {
        size_t c = (start + n) * 2;
        cv_coord *p = realloc(a->pts, c * sizeof *p);
        if (!p) {
            snprintf(why, wcap, "out of memory");
            return -1;
        }
        a->pts = p, *cap = c;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *pos = json_array_get(ring, i);
        json_t *x = json_array_get(pos, 0), *y = json_array_get(pos, 1);
        if (!json_is_number(x) || !json_is_number(y) || fabs(json_number_value(x)) > 180 ||
            fabs(json_number_value(y)) > 90) {
            snprintf(why, wcap, "position %zu of a ring is not [lon, lat] in degrees", i);
            return -1;
        }
        a->pts[start + i] = (cv_coord){cv_fixed(json_number_value(x)), cv_fixed(json_number_value(y))};
    }
    size_t *e = realloc(a->ring_end, (a->nrings + 1) * sizeof *e);
    if (!e) {
        snprintf(why, wcap, "out of memory");
        return -1;
    }
    a->ring_end = e;
    a->ring_end[a->nrings++] = start + n;
    return 0;
}

int cli_load_areas(const char *path, cv_stats_areas *out, char *why, size_t wcap)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        snprintf(why, wcap, "%s: not JSON (line %d: %s)", path, je.line, je.text);
        return -1;
    }
    json_t *features = json_object_get(doc, "features");
    if (!json_is_array(features) || !json_array_size(features)) {
        snprintf(why, wcap, "%s: not a GeoJSON FeatureCollection with features", path);
        json_decref(doc);
        return -1;
    }
    size_t n = json_array_size(features);
    out->v = calloc(n, sizeof *out->v);
    int rc = out->v ? 0 : -1;
    if (rc)
        snprintf(why, wcap, "out of memory");
    char inner[200] = "";
    for (size_t i = 0; !rc && i < n; i++) {
        json_t *f = json_array_get(features, i), *geom = json_object_get(f, "geometry");
        const char *type = json_string_value(json_object_get(geom, "type"));
        json_t *coords = json_object_get(geom, "coordinates");
        cv_stats_area *a = &out->v[out->n++];
        const char *name = json_string_value(json_object_get(json_object_get(f, "properties"), "name"));
        if (name)
            snprintf(a->name, sizeof a->name, "%s", name);
        else
            snprintf(a->name, sizeof a->name, "area %zu", i + 1);
        size_t cap = 0;
        int multi = type && !strcmp(type, "MultiPolygon");
        if (!type || (!multi && strcmp(type, "Polygon")) || !json_is_array(coords) || !json_array_size(coords)) {
            snprintf(why, wcap, "%s: feature %zu (%s): its geometry is not a Polygon or a MultiPolygon", path, i,
                     a->name);
            rc = -1;
            break;
        }
        for (size_t p = 0; !rc && p < (multi ? json_array_size(coords) : 1); p++) {
            json_t *poly = multi ? json_array_get(coords, p) : coords;
            for (size_t k = 0; !rc && k < json_array_size(poly); k++)
                if (read_ring(json_array_get(poly, k), a, &cap, inner, sizeof inner)) {
                    snprintf(why, wcap, "%s: feature %zu (%s): %s", path, i, a->name, inner);
                    rc = -1;
                }
        }
        if (!rc) { /* the centre of its box */
            cv_coord lo = a->pts[0], hi = a->pts[0];
            for (size_t k = 0; k < a->ring_end[a->nrings - 1]; k++) {
                cv_coord c = a->pts[k];
                lo.lon = c.lon < lo.lon ? c.lon : lo.lon, lo.lat = c.lat < lo.lat ? c.lat : lo.lat;
                hi.lon = c.lon > hi.lon ? c.lon : hi.lon, hi.lat = c.lat > hi.lat ? c.lat : hi.lat;
            }
            a->centre =
                (cv_coord){(int32_t)(((int64_t)lo.lon + hi.lon) / 2), (int32_t)(((int64_t)lo.lat + hi.lat) / 2)};
        }
    }
    json_decref(doc);
    if (rc)
        cv_stats_areas_free(out);
    return rc;
}
