/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* synth.h — synthetic commuter populations on any graph, seeded and reproducible, for the tests, the benchmark and
   the example shipped with the repository: homes spread over residential streets, workplaces concentrated around a
   few centres, hours around the morning and evening peaks, a share of drivers, passengers and either. */
#ifndef CV_SYNTH_H
#define CV_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "util/cv_error.h"
#include "routing/graph.h"
#include "batch/population.h"

typedef struct cv_synth_options {
    uint64_t seed;   /* the same seed, graph and options give the same population */
    int centres;     /* workplaces' centres (default 4) */
    double centre_m; /* how far from its centre a workplace lies, typically (default 1500 m) */
    double drivers;  /* shares of roles (default 0.40 driver, 0.35 passenger, the rest either) */
    double passengers;
    double min_trip_m; /* home and work at least this far apart, straight line (default 1500 m) */
} cv_synth_options;

cv_synth_options cv_synth_defaults(void);

/* n participants on g (ids "c1", "c2", ...; every place snaps where a car may stop). *out is malloc'ed. */
int cv_population_synth(const cv_graph *g, size_t n, const cv_synth_options *o, cv_person **out, cv_error *err);

/* Writes v as the participants' CSV (the format cv_population_read reads). */
int cv_population_write(const char *path, const cv_person *v, size_t n, cv_error *err);

#endif
