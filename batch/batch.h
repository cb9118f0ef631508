/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* batch.h — offline batch matching: the carpools a whole community of commuters should form, each a driver with
   the passengers they carry to work and back on the days they share. From the participants (population.h) it
   builds the shareability graph with the routing core (every feasible driver-passenger pair: time windows both
   ways, the driver's detour limits, shared days), each driver's groups of several passengers (groups.h), and
   chooses the carpools (packing.h: exact where the instance allows, with a proven bound beyond) beside the greedy
   plan every report compares with. Rules in docs/batch.md. */
#ifndef CV_BATCH_H
#define CV_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "util/cv_error.h"
#include "util/cv_progress.h"
#include "routing/graph.h"
#include "routing/hub_labels.h"
#include "routing/snap.h"
#include "matcher/match.h"
#include "batch/population.h"
#include "batch/groups.h"

typedef enum cv_objective {
    CV_OBJECTIVE_KM = 0,     /* vehicle-km saved per week */
    CV_OBJECTIVE_MATCHED = 1 /* participants matched, then km saved */
} cv_objective;

typedef struct cv_batch_options {
    cv_objective objective;
    int max_passengers;   /* per car, 1 .. CV_GROUP_MAX; 0: the car's seats (up to CV_GROUP_MAX) */
    int candidates;       /* a driver's groups are made of their best this many passengers (at most 16) */
    double exact_seconds; /* for the integer program of carpools of several */
    size_t exact_columns; /* the integer program is tried up to this many feasible carpools */
    double per_km;        /* the contribution rate (the matcher's rule, zero commission) */
    cv_rounding rounding;
    double co2_kg_per_km;        /* per vehicle-km avoided */
    const cv_hub_labels *labels; /* NULL: CH searches */
    int threads;                 /* for the shareability graph; 0: one per core */
} cv_batch_options;

/* Defaults: km saved, up to the car's seats, groups from each driver's best 8 passengers, 20 s and 200,000
   carpools for the integer program, 0.06 EUR/km rounded to ten cents, 0.218 kg CO2 per km. */
cv_batch_options cv_batch_defaults(void);

/* One participant's trips alone and what the plan gives them. */
typedef struct cv_batch_person {
    cv_snap home, work;
    cv_cost out, back; /* alone: home to work, work to home */
    int carpool;       /* index into the plan's carpools, -1: unmatched */
    int driver;        /* 1: drives their carpool */
    int why;           /* unmatched: CV_WHY_* */
} cv_batch_person;

enum {
    CV_WHY_MATCHED = 0,
    CV_WHY_NO_ONE_NEAR, /* no one whose trips a car could share within the detour limits */
    CV_WHY_TIMES,       /* some within reach, but the hours or the days do not fit */
    CV_WHY_TAKEN        /* every partner who fits is in another carpool */
};

/* A passenger of a carpool. */
typedef struct cv_carpool_rider {
    uint32_t p;                                           /* index into the population */
    uint8_t days;                                         /* the days they ride: theirs and the driver's */
    int64_t out_pickup, out_drop, back_pickup, back_drop; /* seconds after midnight, on the days all ride */
    double contribution;                                  /* per one-way trip (the matcher's rule) */
} cv_carpool_rider;

/* A carpool: a driver and the passengers they carry both ways on the days they share, the riders in the order
   they are picked up on the way out. The times are those of the days every member travels; on a day some do not,
   the others ride as the carpool without them (a carpool holds only if each of its smaller groups does). */
typedef struct cv_carpool {
    uint32_t driver; /* index into the population */
    int np;          /* passengers, 1 .. CV_GROUP_MAX */
    cv_carpool_rider riders[CV_GROUP_MAX];
    uint8_t days;                                             /* the days the driver carries someone */
    uint8_t out_stops[2 * CV_GROUP_MAX];                      /* the stops out: 2 + 2i riders[i]'s home, 3 + 2i work */
    uint8_t back_stops[2 * CV_GROUP_MAX];                     /* the stops back, likewise */
    int64_t out_depart, out_arrive, back_depart, back_arrive; /* the driver's, seconds after midnight */
    cv_cost out_added, back_added;                            /* the driver's added travel each way */
    int64_t saved_dm;                                         /* vehicle-decimetres saved per week */
} cv_carpool;

typedef struct cv_plan_figures {
    size_t carpools, passengers, matched; /* matched: drivers and passengers */
    double km_saved_week, solo_km_week, co2_kg_week;
} cv_plan_figures;

typedef struct cv_batch_plan {
    cv_carpool *carpools;
    size_t ncarpools;
    cv_plan_figures figures;
} cv_batch_plan;

typedef struct cv_batch_result {
    cv_batch_person *people; /* [n] */
    size_t n;
    size_t pairs;          /* feasible driver-passenger pairs (directed) */
    size_t groups;         /* feasible carpools of more than one passenger */
    uint64_t within_bound; /* driver-rider pairs the straight-line bound on the detour let through */
    uint64_t routes;       /* routes asked to check them */
    cv_batch_plan optimal; /* the best plan found: the optimum when proven_optimal */
    cv_batch_plan greedy;  /* each driver in turn takes the carpool of theirs that saves most */
    char method[512];      /* how optimal was found */
    int proven_optimal;    /* 1: optimal is proven so */
    double upper_bound;    /* a proven bound on the objective's first figure (km saved per week, or participants
                              matched); = optimal's when proven */
    double seconds;
    double share_s, exact_s; /* of them: the shareability graph, the plan */
} cv_batch_result;

/* Plans the n participants of v on g: every home and work snapped (CV_ENOSEGMENT naming the participant's line
   and column when one is off the roads), the shareability graph, the optimum and the greedy plan. progress may be
   NULL. Free out with cv_batch_result_free. */
int cv_batch_run(const cv_graph *g, const cv_person *v, size_t n, const cv_batch_options *o, cv_progress *progress,
                 cv_batch_result *out, cv_error *err);

void cv_batch_result_free(cv_batch_result *r);

#endif
