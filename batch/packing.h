/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* packing.h — choosing the carpools: the feasible carpools of a population (columns: a driver and the passengers
   they can carry) packed so that each participant is in at most one and the total value is the largest. With one
   passenger per car this is a maximum-weight matching (LEMON, exact at any size); with several, an integer program
   (GLPK's branch and cut, exact while the instance and the time allow it, seeded with and never worse than the
   heuristic), the matching improved by exchanges beyond, and a proven upper bound either way (the linear
   relaxation, or a Lagrangian bound where that is too large to solve). The greedy rule every report compares with
   is here too. Nothing here routes: the columns come from batch.c. */
#ifndef CV_PACKING_H
#define CV_PACKING_H

#include <stddef.h>
#include <stdint.h>

#include "util/cv_error.h"
#include "batch/groups.h"

/* A feasible carpool: driver d and the np passengers p[0..np), saving saved_dm vehicle-decimetres a week. */
typedef struct cv_column {
    uint32_t d;
    uint32_t p[CV_GROUP_MAX];
    uint8_t np;
    int64_t saved_dm;
} cv_column;

/* What is maximised: the km saved, or the participants matched and then the km saved. */
typedef enum cv_pack_goal { CV_PACK_KM = 0, CV_PACK_MATCHED = 1 } cv_pack_goal;

/* A column's value under the goal (the matched goal: members first, by a weight more than any total of km). */
int64_t cv_column_weight(const cv_column *c, cv_pack_goal goal);

/* The goal's first figure of a column: its km saved (dm), or its members. */
double cv_column_primary(const cv_column *c, cv_pack_goal goal);

/* The best plan of the columns with one passenger (others ignored) over n participants: a maximum-weight
   matching, each pair of people by its better direction. chosen[] (room for n) gets column indices, *k their
   count. */
int cv_pack_matching(const cv_column *cols, size_t m, size_t n, cv_pack_goal goal, size_t *chosen, size_t *k,
                     cv_error *err);

/* Improves the plan chosen[0..*k) (room for n) by exchanges: a column not in the plan enters when it is worth more
   than the carpools of the plan it shares a participant with, which leave; until none does. */
int cv_pack_improve(const cv_column *cols, size_t m, size_t n, cv_pack_goal goal, size_t *chosen, size_t *k,
                    cv_error *err);

/* The greedy rule: every driver in the file's order (cols sorted by driver), not taken yet, takes the column of
   theirs whose members are all free and whose value is the highest. */
int cv_pack_greedy(const cv_column *cols, size_t m, size_t n, cv_pack_goal goal, size_t *chosen, size_t *k,
                   cv_error *err);

/* The outcome of the integer program. */
typedef struct cv_pack_exact_result {
    int solved;     /* 1: it ran (0: out of memory or the solver failed before any answer) */
    int proven;     /* 1: the plan is optimal */
    int improved;   /* 1: it found a better plan than the one given, now in chosen */
    double bound;   /* a proven upper bound on the goal's first figure (km saved in dm, or members) */
    double seconds; /* spent */
} cv_pack_exact_result;

/* The set-packing integer program of the columns with GLPK (a binary per column, a row per participant; with the
   matched goal, the members first and then the km among the plans with that many), stopped after seconds, given
   the plan chosen[0..*k) as its first solution, one program per group of participants the columns connect (the
   time shared out by their sizes, the smallest first). chosen and *k are replaced by the plans found (never worse
   than the one given). */
int cv_pack_exact(const cv_column *cols, size_t m, size_t n, cv_pack_goal goal, double seconds, size_t *chosen,
                  size_t *k, cv_pack_exact_result *out, cv_error *err);

/* A proven upper bound on the goal's first figure without solving anything: the Lagrangian relaxation of the
   one-carpool-per-participant rows, minimised by subgradient steps for up to seconds (lower: the value of a known
   plan, which steers the steps). prices (room for n, may be NULL) gets the multipliers of the best bound. */
double cv_pack_bound(const cv_column *cols, size_t m, size_t n, cv_pack_goal goal, double lower, double seconds,
                     double *prices);

/* A plan from the bound's prices (prices[n], from cv_pack_bound): the columns taken greedily by what they are
   worth beyond the prices of their members, each when all its members are free (a Lagrangian heuristic). */
int cv_pack_priced(const cv_column *cols, size_t m, size_t n, cv_pack_goal goal, const double *prices, size_t *chosen,
                   size_t *k, cv_error *err);

#endif
