/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* cv_progress.c — terminal progress lines for long work (import, contraction, batch). */
#define _POSIX_C_SOURCE 200809L
#include "util/cv_progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double cv_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cv_progress_init(cv_progress *p, int force_on)
{
    p->enabled = force_on || isatty(STDERR_FILENO);
    p->phase = NULL;
    p->last_percent = -1;
    p->phase_start = cv_now();
}

void cv_progress_done(cv_progress *p)
{
    if (p->phase && p->enabled)
        fprintf(stderr, "\r%-32s done in %.2f s\n", p->phase, cv_now() - p->phase_start);
    p->phase = NULL;
}

void cv_progress_phase(cv_progress *p, const char *phase)
{
    cv_progress_done(p);
    p->phase = phase;
    p->last_percent = -1;
    p->phase_start = cv_now();
    if (p->enabled) {
        fprintf(stderr, "%-32s ...", phase);
        fflush(stderr);
    }
}

void cv_progress_update(cv_progress *p, uint64_t done, uint64_t total)
{
    if (!p->enabled || !p->phase || total == 0)
        return;
    int pct = (int)(done * 100 / total);
    if (pct > 100)
        pct = 100;
    if (pct == p->last_percent)
        return;
    p->last_percent = pct;
    fprintf(stderr, "\r%-32s %3d%%", p->phase, pct);
    fflush(stderr);
}
