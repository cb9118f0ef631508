/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* response.h — answers on the wire (response.c): the one place that makes libmicrohttpd responses out of a
   finished web_req, and the raw answers written where libmicrohttpd cannot give one. Used by server.c only;
   handlers fill their web_req through web_int.h (web_error, web_ok, web_created, or a file as page.c does). */
#ifndef CV_RESPONSE_H
#define CV_RESPONSE_H

#include <microhttpd.h>

#include "web/web_int.h"

/* The response for the finished request r: its file, its text or its JSON body, with their headers (Content-Type;
   the page's headers on a file; Allow on a 405; Retry-After on a 429 or 503 that sets one; Connection: close when
   closing), and in *status the status to queue it with (r's, or 500 when it could not be made as asked). Takes r's
   text and file; r's body stays r's. NULL when libmicrohttpd could make no response at all. */
struct MHD_Response *web_response(web_req *r, int closing, int *status);

/* Writes a whole answer, status and {"code", "message"} with Connection: close, straight to socket fd, and shuts
   the socket for writing. Returns 1 when written, 0 when not (no memory, or no room in the socket). */
int web_raw_answer(int fd, unsigned status, const char *code, const char *message);

#endif
