/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* ratelimit.h — the rate limiter (ratelimit.c): token buckets by name, each refilled at a steady rate with a burst
   of twice that. Used by auth.c (per address, then per key) and set up by server.c. */
#ifndef CV_RATELIMIT_H
#define CV_RATELIMIT_H

#include <pthread.h>

typedef struct web_ratelimit {
    unsigned rate;               /* tokens per second of each bucket */
    pthread_mutex_t mu;          /* guards buckets */
    struct rate_bucket *buckets; /* NULL when off */
} web_ratelimit;

/* Sets rl up at rate tokens per second (0 means 100), with its buckets when on (else no bucket is made: rl is
   only its rate). Returns 0, or -1 when out of memory (rl then needs no web_rate_free). */
int web_rate_init(web_ratelimit *rl, unsigned rate, int on);

/* Takes one token from name's bucket: 0, or the seconds to wait until one is there. rl must be on. */
unsigned web_rate_take(web_ratelimit *rl, const char *name);

void web_rate_free(web_ratelimit *rl);

#endif
