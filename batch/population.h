/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* population.h — the participants of an offline batch matching: a community of commuters (home, work, hours,
   days, who can drive), read from the CSV file docs/batch.md describes, every value checked, every error naming
   its line and column. */
#ifndef CV_POPULATION_H
#define CV_POPULATION_H

#include <stddef.h>
#include <stdint.h>

#include "util/cv_error.h"
#include "routing/geo.h"

typedef enum cv_role {
    CV_ROLE_DRIVER = 0,    /* drives, may take passengers */
    CV_ROLE_PASSENGER = 1, /* rides only */
    CV_ROLE_EITHER = 2     /* the plan decides */
} cv_role;

#define CV_PERSON_ID_MAX 64          /* bytes of an id, NUL included */
#define CV_PERSON_SEATS_MAX 8        /* passenger seats of a car at most */
#define CV_PERSON_DEFAULT_FLEX_S 900 /* 15 min */
#define CV_PERSON_DEFAULT_PCT 25.0   /* the driver's added duration and distance, % of their own route */

typedef struct cv_person {
    char id[CV_PERSON_ID_MAX];
    cv_role role;
    cv_coord home, work;
    int32_t arrive_by_s;   /* latest arrival at work, seconds after midnight (local) */
    int32_t leave_at_s;    /* earliest departure from work, seconds after midnight */
    uint8_t days;          /* weekdays travelled: bit 0 Monday .. bit 6 Sunday */
    int seats;             /* passenger seats of their car, 0 without one */
    int32_t flex_s;        /* arriving up to this much earlier, leaving up to this much later */
    int32_t max_detour_s;  /* cap on the added duration when driving, each way; -1: none given */
    double max_detour_pct; /* cap on the added duration and distance, % of the driver's own route; -1: none given */
    int line;              /* its line in the file */
} cv_person;

/* Reads the participants of path: a header row naming the columns (id, role, home_lon, home_lat, work_lon,
   work_lat (or home, work: place names, cv_population_read_with), arrive_by, leave_at, days, seats; optional flex_min,
   max_detour_min, max_detour_pct; any order), then one row per participant. *out is malloc'ed. On a bad file: CV_EINVAL
   with err saying "PATH:LINE:COLUMN: ..." (the column by its number and name), CV_EIO when it cannot be read. */
int cv_population_read(const char *path, cv_person **out, size_t *n, cv_error *err);

/* The same from a buffer (name: what errors call it). */
int cv_population_parse(const char *name, const char *text, size_t len, cv_person **out, size_t *n, cv_error *err);

/* Finds a place by its name (an address, a street, a stop...): 0 and *out, or non-zero with why filled. */
typedef int (*cv_geocode_fn)(void *ctx, const char *name, cv_coord *out, char *why, size_t cap);

/* The same, where a home or workplace may be given by name instead of coordinates (columns home and work; the
   coordinates win when both are given), found by geocode (the place index: cli/cmd_batch.c). Without geocode, a
   home or work column is an error saying what is needed. */
int cv_population_read_with(const char *path, cv_geocode_fn geocode, void *ctx, cv_person **out, size_t *n,
                            cv_error *err);
int cv_population_parse_with(const char *name, const char *text, size_t len, cv_geocode_fn geocode, void *ctx,
                             cv_person **out, size_t *n, cv_error *err);

/* Whether p may drive (driver or either) and may ride (passenger or either). */
static inline int cv_person_drives(const cv_person *p)
{
    return p->role != CV_ROLE_PASSENGER && p->seats > 0;
}
static inline int cv_person_rides(const cv_person *p)
{
    return p->role != CV_ROLE_DRIVER;
}

/* "driver", "passenger", "either". */
const char *cv_role_name(cv_role r);

#endif
