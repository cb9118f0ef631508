/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* groups.h — whether a driver can carry a group of passengers to work and back, and how: every order of the
   pickups and drop-offs each way (a passenger picked up before being dropped off, the driver's own home first and
   work last, and the reverse back), the one that adds least distance within the driver's detour limits and for
   which a departure exists that puts every member inside their windows. Pure computation on costs found
   elsewhere, given through a callback so that the caller routes only the legs an order needs. The rules are
   docs/batch.md's ("What a carpool is"). */
#ifndef CV_GROUPS_H
#define CV_GROUPS_H

#include <stdint.h>

#include "matcher/match.h"
#include "batch/population.h"

#define CV_GROUP_MAX 4 /* passengers of one car, at most */

/* The group's places: 0 the driver's home, 1 the driver's work, 2 + 2i passenger i's home, 3 + 2i their work. */
typedef cv_cost (*cv_group_leg)(void *ctx, int from, int to);

/* A driver or passenger as the group sees them: their rules and their own trips alone. */
typedef struct cv_group_member {
    const cv_person *p;
    cv_cost out, back; /* alone: home to work, work to home */
} cv_group_member;

/* How the group travels. Times are seconds after midnight. */
typedef struct cv_group_plan {
    int np;
    uint8_t out[2 * CV_GROUP_MAX];     /* the stops out, in order: places (2 + 2i pickups, 3 + 2i drop-offs) */
    uint8_t back[2 * CV_GROUP_MAX];    /* the stops back (3 + 2i pickups, 2 + 2i drop-offs) */
    int64_t out_at[2 * CV_GROUP_MAX];  /* the car at each stop out */
    int64_t back_at[2 * CV_GROUP_MAX]; /* the car at each stop back */
    int64_t out_depart, out_arrive;    /* the driver leaving home, arriving at work */
    int64_t back_depart, back_arrive;  /* the driver leaving work, arriving home */
    cv_cost out_added, back_added;     /* the driver's added travel each way (never below 0) */
} cv_group_plan;

/* Whether driver d carries the np passengers ps (1 <= np <= CV_GROUP_MAX) both ways: 1 and *out filled when so;
   0 when no order keeps within the detour limits; -1 when some do but no departure fits everyone's hours. With
   one passenger this is the pair rule (batch.c's pair_check, which the pairs' search takes as a fast path). Days and
   seats are the caller's. */
int cv_group_eval(const cv_group_member *d, const cv_group_member *ps, int np, cv_group_leg leg, void *ctx,
                  cv_group_plan *out);

/* The driver's allowed added duration (ds) and distance (dm) on a trip of cost own. */
void cv_group_allowed(const cv_person *d, cv_cost own, int64_t *ds, int64_t *dm);

#endif
