/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* access_log.h — the server's log lines (access_log.c): one logfmt line per request and the start-up line, on
   stderr like cv_log (server.h), which is defined there too. Used by server.c. */
#ifndef CV_ACCESS_LOG_H
#define CV_ACCESS_LOG_H

#include <stdint.h>

#include "web/server.h"

/* The line of one request: method and path (each shortened when long), status, duration ns and request id. */
void web_log_request(const char *method, const char *path, int status, int64_t ns, uint64_t id);

/* The start-up line: the effective settings o (threads resolved), the real port, auth on (with its rate) or demo. */
void web_log_start(const cv_server_options *o, uint16_t port, int v6, int auth, unsigned rate);

#endif
