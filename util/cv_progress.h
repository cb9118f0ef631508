/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* cv_progress.h — phase and percentage reporting on stderr, shown only when stderr is a terminal. */
#ifndef CV_PROGRESS_H
#define CV_PROGRESS_H

#include <stdint.h>

typedef struct cv_progress {
    int enabled;        /* 1 when stderr is a terminal (or forced) */
    const char *phase;  /* current phase name, a string literal */
    int last_percent;   /* last percentage printed, -1 before the first */
    double phase_start; /* monotonic seconds when the phase began */
} cv_progress;

/* Initialises p; force_on = 1 prints even when stderr is not a terminal. */
void cv_progress_init(cv_progress *p, int force_on);
/* Starts a named phase (the previous one is closed with its time). */
void cv_progress_phase(cv_progress *p, const char *phase);
/* Reports done out of total for the current phase; prints only when the percentage changes. */
void cv_progress_update(cv_progress *p, uint64_t done, uint64_t total);
/* Closes the current phase, printing its time. */
void cv_progress_done(cv_progress *p);

/* Monotonic clock in seconds. */
double cv_now(void);

#endif
