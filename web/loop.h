/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* loop.h — a background thread of the server that does one pass of work when woken and at least every period,
   until stopped: what delivers the booking events partners are owed (partners.c) and what sends carpool proofs to
   the register (proofs.c). web/ only. */
#ifndef CV_WEB_LOOP_H
#define CV_WEB_LOOP_H

#include "util/cv_error.h"

typedef struct web_loop web_loop;

/* One pass of the work (arg as given to web_loop_start); a long one asks web_loop_stopping between its items. */
typedef void (*web_pass)(void *arg, web_loop *l);

/* Starts a thread that runs pass(arg, l) at once, then whenever woken and every period_ms. NULL with err filled
   (naming what) when it cannot start. */
web_loop *web_loop_start(const char *what, unsigned period_ms, web_pass pass, void *arg, cv_error *err);

/* Has the thread run a pass now (after the one under way, if any). Accepts NULL. */
void web_loop_wake(web_loop *l);

/* 1 once web_loop_stop was called: a pass should end soon. */
int web_loop_stopping(web_loop *l);

/* Stops the thread (the pass under way is finished first) and frees l. Accepts NULL. */
void web_loop_stop(web_loop *l);

#endif
