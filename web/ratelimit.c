/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* ratelimit.c — the server's rate limits: token buckets in an open-addressed table by name ("k:CLIENT" for a key,
   "a:ADDRESS" for an address); a full probe window reuses its stalest bucket, so the table never grows and an
   unseen name starts with a full burst. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/ratelimit.h"
#include "matcher/store.h"
#include "web/web_clock.h"

#define RATE_SLOTS 4096
#define RATE_PROBE 8

typedef struct rate_bucket {
    char name[CV_OWNER_MAX + 4]; /* "k:CLIENT" or "a:ADDRESS"; "" is free */
    double tokens;
    double last; /* monotonic seconds of the last refill */
} rate_bucket;

int web_rate_init(web_ratelimit *rl, unsigned rate, int on)
{
    rl->rate = rate ? rate : 100;
    pthread_mutex_init(&rl->mu, NULL);
    rl->buckets = on ? calloc(RATE_SLOTS, sizeof *rl->buckets) : NULL;
    if (on && !rl->buckets) {
        pthread_mutex_destroy(&rl->mu);
        return -1;
    }
    return 0;
}

unsigned web_rate_take(web_ratelimit *rl, const char *name)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    double now = web_mono_s(), rate = rl->rate, burst = 2.0 * rl->rate;
    unsigned wait = 0;
    pthread_mutex_lock(&rl->mu);
    rate_bucket *b = NULL, *victim = NULL;
    for (unsigned i = 0; i < RATE_PROBE && !b; i++) {
        rate_bucket *e = &rl->buckets[(h + i) % RATE_SLOTS];
        if (!strcmp(e->name, name))
            b = e;
        else if (!victim || (victim->name[0] && (!e->name[0] || e->last < victim->last)))
            victim = e;
    }
    if (!b) {
        b = victim;
        snprintf(b->name, sizeof b->name, "%s", name);
        b->tokens = burst;
        b->last = now;
    }
    b->tokens += (now - b->last) * rate;
    if (b->tokens > burst)
        b->tokens = burst;
    b->last = now;
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
    } else {
        double need = (1.0 - b->tokens) / rate;
        wait = (unsigned)need + 1;
    }
    pthread_mutex_unlock(&rl->mu);
    return wait;
}

void web_rate_free(web_ratelimit *rl)
{
    pthread_mutex_destroy(&rl->mu);
    free(rl->buckets);
}
