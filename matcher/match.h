/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* match.h — feasibility and cost of carrying a passenger: inserting a pickup and a drop-off into an offer's stop
   sequence at the cheapest positions that keep seats, time windows and the detour limit, and the contribution
   that follows (zero commission). Pure computation on distances found elsewhere. */
#ifndef CV_MATCH_H
#define CV_MATCH_H

#include <stdint.h>

#include "matcher/trip.h"

#define CV_PLAN_MAX_STOPS 32
#define CV_UNREACHABLE UINT32_MAX

/* A travel cost between two points: duration (ds) and distance (dm); CV_UNREACHABLE when there is no route. */
typedef struct cv_cost {
    uint32_t ds, dm;
} cv_cost;

/* A stop of an offer as the matcher plans it. */
typedef struct cv_plan_stop {
    int is_pickup;          /* a confirmed passenger's pickup: its window must keep holding */
    int load;               /* seats taken on the leg that starts here */
    cv_cost leg;            /* from this stop to the next (unused for the last) */
    int64_t win_lo, win_hi; /* pickups: allowed arrival, seconds relative to the planned departure */
} cv_plan_stop;

/* An offer's current route: origin, vias and confirmed passengers' stops, destination. */
typedef struct cv_plan {
    int nstops;                           /* 2 .. CV_PLAN_MAX_STOPS */
    cv_plan_stop *stops;                  /* owned by whoever built the plan */
    int seats;                            /* seats offered */
    int32_t margin_s;                     /* the driver may leave this much earlier or later */
    int64_t base_ds, base_dm;             /* the driver's own route (through vias, no passengers) */
    int64_t max_detour_ds, max_detour_dm; /* limits on (current route + insertion) - base */
} cv_plan;

/* What is known of a candidate passenger, in the offer's frame: costs between the plan's stops and the new
   pickup p and drop-off q, seats, and the wished pickup time relative to the offer's planned departure. */
typedef struct cv_candidate {
    const cv_cost *to_p;   /* [k]: stop k -> p */
    const cv_cost *from_p; /* [k]: p -> stop k */
    const cv_cost *to_q;   /* [k]: stop k -> q */
    const cv_cost *from_q; /* [k]: q -> stop k */
    cv_cost pq;            /* p -> q */
    int seats;
    int64_t wish;     /* wished pickup, seconds after the offer's planned departure (may be negative) */
    int32_t margin_s; /* the passenger's margin */
} cv_candidate;

/* The best insertion found. */
typedef struct cv_insertion {
    int pickup_leg, dropoff_leg;              /* p goes into leg i (after stop i), q into leg j >= i */
    int64_t added_ds, added_dm;               /* the driver's extra travel (the detour this passenger causes) */
    int64_t total_detour_ds, total_detour_dm; /* route after insertion minus the driver's own route */
    int64_t shift_s;                          /* departure shift chosen within the driver's margin */
    int64_t pickup_s, dropoff_s;  /* arrival at p and q, seconds after the planned departure (shift included) */
    int64_t mismatch_s;           /* |pickup - wish| */
    int64_t shared_ds, shared_dm; /* the passenger's ride from p to q along the new route */
} cv_insertion;

/* Finds the insertion of (p, q) with the least added duration (then distance, then time mismatch) such that every
   leg between p and q has room for the seats, the route stays within the detour limits, and some departure shift
   within the driver's margin puts p inside the passenger's window and every confirmed pickup inside its own.
   Returns 1 and fills *out when one exists, else 0. */
int cv_plan_insert(const cv_plan *plan, const cv_candidate *c, cv_insertion *out);

/* The same with p into leg i and q into leg j given (a booking placed already, tried on another date's plan):
   1 and *out when that insertion is feasible, else 0. */
int cv_plan_insert_at(const cv_plan *plan, const cv_candidate *c, int i, int j, cv_insertion *out);

/* Rounding of contributions. */
typedef enum cv_rounding {
    CV_ROUND_CENT = 0,  /* to 0.01 */
    CV_ROUND_TEN_CENTS, /* to 0.10 */
    CV_ROUND_HALF_EURO, /* to 0.50 */
    CV_ROUND_EURO       /* to 1.00 */
} cv_rounding;

typedef struct cv_contribution {
    double amount;      /* what the passenger pays and the driver receives, euros */
    double commission;  /* always 0: covoit takes nothing */
    double per_km;      /* the rate applied */
    double distance_km; /* passenger's distance plus the driver's detour */
    double unrounded;   /* distance_km * per_km before rounding */
    cv_rounding rounding;
} cv_contribution;

/* Mobicoop's rule: (passenger's distance + driver's detour distance) x price per km, rounded to the nearest step
   of the rule (halves away from zero). */
cv_contribution cv_contribution_compute(int64_t passenger_dm, int64_t detour_dm, double per_km, cv_rounding r);

/* "cent", "ten_cents", "half_euro", "euro" <-> rule; parse returns -1 for an unknown name. */
const char *cv_rounding_name(cv_rounding r);
int cv_rounding_parse(const char *name);

#endif
