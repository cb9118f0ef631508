/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* loop.c — the server's background threads (loop.h): a mutex, a condition variable, a pass at a time. */
#define _POSIX_C_SOURCE 200809L
#include "web/loop.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct web_loop {
    web_pass pass;
    void *arg;
    unsigned period_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, woken;
};

static void *loop_main(void *a)
{
    web_loop *l = a;
    for (;;) {
        pthread_mutex_lock(&l->mu);
        int stop = l->stop;
        l->woken = 0;
        pthread_mutex_unlock(&l->mu);
        if (stop)
            break;
        l->pass(l->arg, l);
        /* the next pass: when woken, or after the period (work others' writes owe, retries coming due) */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += l->period_ms / 1000;
        until.tv_nsec += (long)(l->period_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L)
            until.tv_sec++, until.tv_nsec -= 1000000000L;
        pthread_mutex_lock(&l->mu);
        while (!l->stop && !l->woken && pthread_cond_timedwait(&l->cv, &l->mu, &until) == 0)
            ;
        pthread_mutex_unlock(&l->mu);
    }
    return NULL;
}

web_loop *web_loop_start(const char *what, unsigned period_ms, web_pass pass, void *arg, cv_error *err)
{
    web_loop *l = calloc(1, sizeof *l);
    if (!l) {
        cv_fail(err, CV_ENOMEM, "out of memory");
        return NULL;
    }
    l->pass = pass, l->arg = arg, l->period_ms = period_ms;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    if (pthread_create(&l->thread, NULL, loop_main, l)) {
        cv_fail(err, CV_ENOMEM, "cannot start the thread that %s", what);
        pthread_cond_destroy(&l->cv);
        pthread_mutex_destroy(&l->mu);
        free(l);
        return NULL;
    }
    return l;
}

void web_loop_wake(web_loop *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->woken = 1;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

int web_loop_stopping(web_loop *l)
{
    pthread_mutex_lock(&l->mu);
    int stop = l->stop;
    pthread_mutex_unlock(&l->mu);
    return stop;
}

void web_loop_stop(web_loop *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}
