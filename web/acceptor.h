/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* acceptor.h — the connection acceptor (acceptor.c): the listening socket, the thread that hands each connection
   to a worker's libmicrohttpd daemon under the server's connection limits, the daemons' notifications of
   connections opened and closed, and the request deadline. Used by server.c only. */
#ifndef CV_ACCEPTOR_H
#define CV_ACCEPTOR_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "web/server.h"

typedef struct web_acceptor web_acceptor;

/* One open connection as the acceptor counts and watches it: libmicrohttpd's socket context of the connection. */
typedef struct web_conn web_conn;

/* What the acceptor tells the server. Both are called on a daemon's or the acceptor's thread. */
typedef struct web_acceptor_hooks {
    void *ctx;
    /* libmicrohttpd closed a connection in the middle of req (the request given to web_conn_begin) without telling
       it completed: the request ends here. */
    void (*request_dropped)(void *ctx, void *req);
    /* a connection whose request line had not come (no request to log) missed its deadline after ns nanoseconds:
       its line, as a 408 */
    void (*deadline_missed)(void *ctx, int64_t ns);
} web_acceptor_hooks;

/* An acceptor for the limits and deadlines of o and the nd daemons d, both kept by the caller (d filled before
   web_acceptor_start) until web_acceptor_free. NULL when out of memory. */
web_acceptor *web_acceptor_new(const cv_server_options *o, struct MHD_Daemon *const *d, unsigned nd,
                               web_acceptor_hooks hooks);

/* Listens on sa (IPv4, or IPv6 taking IPv4 clients too when dual). Returns 0, or -1 with errno set. */
int web_acceptor_listen(web_acceptor *a, const struct sockaddr *sa, socklen_t len, int dual);

/* The port listened on. */
uint16_t web_acceptor_port(const web_acceptor *a);

/* Starts the acceptor's thread. Returns 0, or -1 when it cannot be started. */
int web_acceptor_start(web_acceptor *a);

/* Stops taking connections (they then wait in the kernel's queue until the listening socket, closed here, goes)
   and stops the thread. Returns 1 when the thread had been started. */
int web_acceptor_stop(web_acceptor *a);

/* While the server stops: waits until *inflight (the requests begun) is 0 and no connection has a request coming
   in, closing those past their deadline, for stop_grace_ms at most. */
void web_acceptor_drain(web_acceptor *a, atomic_long *inflight);

/* Frees a, once the daemons are stopped. Accepts NULL. */
void web_acceptor_free(web_acceptor *a);

/* The open connections of each daemon, nd of them, into out. */
void web_acceptor_open_conns(web_acceptor *a, unsigned *out);

/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION, with the acceptor as its closure. */
void web_acceptor_notify(void *cls, struct MHD_Connection *c, void **socket_ctx,
                         enum MHD_ConnectionNotificationCode what);

/* The daemon (0 .. nd - 1) and the socket of c (-1 when unknown); both fixed for its life. */
unsigned web_conn_daemon(const web_conn *c);
int web_conn_fd(const web_conn *c);

/* The request req's line came on c: its deadline runs from its first byte. Returns 1 when c already missed its
   deadline (its 408 is logged). */
int web_conn_begin(web_acceptor *a, web_conn *c, void *req);

/* req is in whole on c: its answer is made with no deadline. Returns 0 when the deadline passed first (c is
   already shut down: the request must not be processed). */
int web_conn_answering(web_acceptor *a, web_conn *c);

/* req ended on c, which is ready for its next request. Returns 1 when c missed its deadline. */
int web_conn_end(web_acceptor *a, web_conn *c, void *req);

#endif
