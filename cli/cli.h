/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* cli.h — the covoit subcommands and the helpers they share. */
#ifndef CV_CLI_H
#define CV_CLI_H

#include <jansson.h>

#include "util/cv_error.h"
#include "matcher/matcher.h"
#include "web/osrm_json.h"
#include "routing/route.h"
#include "web/trip_json.h"

/* Exit statuses. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

int cmd_import(int argc, char **argv);
int cmd_route(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_table(int argc, char **argv);
int cmd_offer(int argc, char **argv);
int cmd_request(int argc, char **argv);
int cmd_book(int argc, char **argv);
int cmd_booking(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_partner(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_proofs(int argc, char **argv);

/* The areas of a GeoJSON FeatureCollection of Polygons and MultiPolygons (feeds/stats.h), for covoit stats --areas
   and covoit serve --stats-areas. 0, or -1 with why naming the file, the feature and what is wrong. */
struct cv_stats_areas;
int cli_load_areas(const char *path, struct cv_stats_areas *out, char *why, size_t cap);

/* Sets the process's time zone (before any thread starts) for a command working on the trip database db (NULL:
   none): tz when given (--tz, else $COVOIT_TZ), else the zone db keeps its local times in, else UTC. With
   convert, a database kept in another zone than tz is converted to it first (cv_store_convert_zone) and says so
   on stderr. Returns 0, or an exit status with why filled (option names the --tz option or config key). */
int cli_zone(const char *tz, const char *db, int convert, const char *option, char *why, size_t cap);

/* Where a data directory of covoit is (the map page, the batch report's files): PREFIX/share/covoit/name when
   the running binary is PREFIX/bin/covoit and that directory is there (an installed covoit), else built_in (the
   source tree a built binary was made from). Into out; returns out. */
const char *cli_data_dir(const char *name, const char *built_in, char *out, size_t cap);

/* Reads a `covoit serve --config` file the way serve does, and starts nothing: 0 when it is a JSON object of known
   settings, each of its type and in range; -1 after printing the problem (the fuzz target's entry point). */
int cmd_serve_check_config(const char *path);

/* Prints "covoit: <text>" on stderr. */
void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* True when arg is -h or --help. */
int cli_is_help(const char *arg);

/* The failure of `route` and `table`: "covoit: msg" on stderr and {"code": osrm_code(code), "message": msg} on
   stdout. Returns status, the exit status. */
int cli_fail_json(int code, const char *msg, int status);

/* A failure as every subcommand but route and table reports it: "covoit: message" on stderr and {"code",
   "message"} on stdout, the code of the carpool API (InvalidValue, NotFound, Conflict, …) for code (a CV_E*).
   Returns status, the exit status. */
int cli_fail(int code, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Writes doc to stdout as one JSON document with a trailing newline and releases it. */
void cli_print_json(json_t *doc);

#endif
