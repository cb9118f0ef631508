/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* web_clock.h — monotonic seconds, the clock of the rate limiter's buckets (ratelimit.c) and of the connections'
   deadlines (acceptor.c). Included by those two only. */
#ifndef CV_WEB_CLOCK_H
#define CV_WEB_CLOCK_H

#include <time.h>

static inline double web_mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

#endif
