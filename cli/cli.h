/* cli.h — the covoit subcommands and the helpers they share. */
#ifndef CV_CLI_H
#define CV_CLI_H

#include <jansson.h>

#include "cv_error.h"
#include "route.h"

/* Exit statuses. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

int cmd_import(int argc, char **argv);
int cmd_route(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_table(int argc, char **argv);

/* Prints "covoit: <text>" on stderr. */
void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* True when arg is -h or --help. */
int cli_is_help(const char *arg);

/* OSRM's code string for an error code ("NoSegment", "NoRoute", "InvalidQuery", ...). */
const char *cli_osrm_code(int cv_code);

/* Writes doc to stdout as one JSON document with a trailing newline and releases it. */
void cli_print_json(json_t *doc);

/* Geometry formats of route output. */
enum { GEOM_POLYLINE = 0, GEOM_POLYLINE6, GEOM_GEOJSON };

/* Builds an OSRM-shaped route object for p (distance, duration, weight, geometry, legs). NULL when out of memory. */
json_t *json_route(const cv_graph *g, const cv_path *p, int geometry);

/* An OSRM waypoint object for a snapped point. */
json_t *json_waypoint(const cv_snap *s);

/* [lon, lat] as numbers. */
json_t *json_lonlat(cv_coord c);

#endif
