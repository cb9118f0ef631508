/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* metrics.h — the server's counters (metrics.c): requests by endpoint family and status, their durations, and
   what the carpool service counts (web_count_* in web_int.h); shown by GET /metrics. server.c keeps one per server
   and counts each request it logs. */
#ifndef CV_METRICS_H
#define CV_METRICS_H

#include <stdint.h>

#include "web/web_int.h"

/* All counters at 0, or NULL when out of memory. */
struct web_metrics *web_metrics_new(void);
void web_metrics_free(struct web_metrics *m);

/* Counts one answered request: its path's endpoint family, its status, its duration (ns, from its headers). */
void web_metrics_count(struct web_metrics *m, const char *path, int status, int64_t ns);

/* The GET /metrics answer for r: r->metrics in Prometheus text format, the matcher's index sizes (when r has a
   matcher) and open_conns[i] open connections for each of the nworkers worker threads. */
int web_metrics_answer(web_req *r, const unsigned *open_conns, unsigned nworkers);

#endif
