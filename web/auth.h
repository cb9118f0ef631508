/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* auth.h — API keys (auth.c): who is calling (the key's client and scopes) and at what rate. Used by server.c
   before its router when keys are required; handlers check a scope with web_need_scope (web_int.h). */
#ifndef CV_AUTH_H
#define CV_AUTH_H

#include <sys/socket.h>

#include "web/ratelimit.h"
#include "web/web_int.h"

/* With keys required: the per-address limit of rl, then the key, from x_api_key or else authorization ("Bearer
   KEY"), either NULL when absent (401 when missing, unknown or revoked), then the per-key limit; r's auth, client
   and scopes are then the caller's. addr is the client's address (NULL when unknown). GET /health, /metrics and
   the map page are open to all. Returns 0 when the request may go on, -1 after web_error. */
int web_authenticate(web_req *r, web_ratelimit *rl, const struct sockaddr *addr, const char *x_api_key,
                     const char *authorization);

#endif
