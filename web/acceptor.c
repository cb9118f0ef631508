/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* acceptor.c — the connection acceptor: one thread takes every connection from the server's own listening socket
   and gives it to the libmicrohttpd daemon (one per worker thread) with the fewest open connections. In
   libmicrohttpd's thread pool, each worker accepts for itself from a shared socket and keeps what it accepted, so a
   burst of keep-alive connections (a client's pool, a load generator) could all land on one worker and leave the
   others idle. The acceptor also enforces the connection limits for the whole server (all clients together, and
   per address), keeps the counts through the daemons' notifications of connections opened and closed, and shuts
   down the connections whose request misses its deadline. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* struct tcp_info (glibc hides it in strict C11) */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "web/acceptor.h"
#include "web/web_clock.h"

/* Open connections per client address: an open-addressed table of 16-byte addresses (IPv4 as mapped IPv6), slots
   whose count fell to 0 reused, rebuilt when no free slot is left for a probe to end on. */
typedef struct addr_count {
    uint8_t addr[16];
    uint32_t count;
    uint8_t used;
} addr_count;

/* What the server counts and watches of one open connection (its socket context in libmicrohttpd). daemon, addr
   and fd are set once; the rest is guarded by the acceptor's mu. */
struct web_conn {
    unsigned daemon;
    uint8_t addr[16];
    int fd;                       /* its socket, shut down (never closed) here when its request is too slow */
    struct web_conn *prev, *next; /* the server's open connections */
    double ready;                 /* monotonic seconds: handed to its worker, or its last answer sent */
    double start;                 /* monotonic seconds: the current request's first byte, 0 while none came */
    int answering;                /* the request is in whole: its answer is being made or sent (no deadline) */
    int timed_out;                /* its request missed the deadline: the socket is shut down */
    void *req;                    /* the server's current request once its request line is in */
};

struct web_acceptor {
    const cv_server_options *o;  /* the server's: its limits and the request deadline */
    struct MHD_Daemon *const *d; /* the server's daemons, one per worker thread */
    unsigned nd;
    web_acceptor_hooks hooks;
    int listen_fd;
    int wake[2]; /* the acceptor's wake-up pipe (stop) */
    pthread_t thread;
    int started;
    atomic_int stopping;
    pthread_mutex_t mu;     /* guards what follows */
    unsigned *daemon_conns; /* open connections per daemon */
    unsigned total_conns;
    addr_count *addrs;
    size_t naddrs;
    double refused_logged_at; /* refusals are logged at most once a second, with a count */
    unsigned long refused_since;
    web_conn *conns;   /* open connections */
    double reap_every; /* seconds between two looks for requests past their deadline */
    double reaped_at;
    unsigned begun; /* at that look: connections with a request begun and not yet in whole */
};

/* The listening socket (IPv4, IPv6, or dual-stack for "::"). -1 on failure, errno set. */
static int listen_on(const struct sockaddr *sa, socklen_t len, int dual)
{
    int fd = socket(sa->sa_family, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (sa->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, dual ? &zero : &one, sizeof one);
    if (bind(fd, sa, len) || listen(fd, 1024) || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static void addr_key(const struct sockaddr *sa, uint8_t out[16])
{
    memset(out, 0, 16);
    if (sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    } else if (sa->sa_family == AF_INET) {
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    }
}

static size_t addr_hash(const uint8_t a[16], size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < 16; i++)
        h = (h ^ a[i]) * 1099511628211ull;
    return (size_t)(h & (n - 1));
}

/* The slot of addr: its own, else (add) a free or emptied one; NULL when absent and not adding. Under mu. */
static addr_count *addr_slot(web_acceptor *ac, const uint8_t addr[16], int add)
{
    for (int pass = 0; pass < 2; pass++) {
        size_t i = addr_hash(addr, ac->naddrs), reuse = SIZE_MAX;
        for (size_t k = 0; k < ac->naddrs; k++, i = (i + 1) & (ac->naddrs - 1)) {
            addr_count *a = &ac->addrs[i];
            if (!a->used) {
                if (!add)
                    return NULL;
                if (reuse == SIZE_MAX)
                    reuse = i;
                break;
            }
            if (!memcmp(a->addr, addr, 16))
                return a;
            if (a->count == 0 && reuse == SIZE_MAX)
                reuse = i;
        }
        if (!add)
            return NULL;
        if (reuse != SIZE_MAX) {
            addr_count *a = &ac->addrs[reuse];
            memcpy(a->addr, addr, 16);
            a->count = 0;
            a->used = 1;
            return a;
        }
        /* every slot used once: keep the addresses with open connections, drop the rest, and try again */
        size_t live = 0;
        for (size_t k = 0; k < ac->naddrs; k++)
            if (ac->addrs[k].used && ac->addrs[k].count)
                ac->addrs[live++] = ac->addrs[k];
        addr_count *keep = malloc(live * sizeof *keep + 1);
        if (!keep)
            return NULL;
        memcpy(keep, ac->addrs, live * sizeof *keep);
        memset(ac->addrs, 0, ac->naddrs * sizeof *ac->addrs);
        for (size_t k = 0; k < live; k++) {
            size_t j = addr_hash(keep[k].addr, ac->naddrs);
            while (ac->addrs[j].used)
                j = (j + 1) & (ac->naddrs - 1);
            ac->addrs[j] = keep[k];
        }
        free(keep);
    }
    return NULL;
}

/* libmicrohttpd tells when a connection it was given starts and when it is closed. */
void web_acceptor_notify(void *cls, struct MHD_Connection *c, void **socket_ctx,
                         enum MHD_ConnectionNotificationCode what)
{
    web_acceptor *ac = cls;
    if (what == MHD_CONNECTION_NOTIFY_STARTED) {
        web_conn *ca = calloc(1, sizeof *ca);
        *socket_ctx = ca;
        if (!ca)
            return;
        const union MHD_ConnectionInfo *di = MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON);
        const union MHD_ConnectionInfo *ai = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const union MHD_ConnectionInfo *fi = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        for (unsigned i = 0; di && i < ac->nd; i++)
            if (ac->d[i] == di->daemon)
                ca->daemon = i;
        if (ai && ai->client_addr)
            addr_key(ai->client_addr, ca->addr);
        ca->fd = fi ? fi->connect_fd : -1;
        ca->ready = web_mono_s();
        /* counted already, by the acceptor, when it gave the connection; watched for its requests' deadlines
           from here (libmicrohttpd closes the socket only after telling it closed, when it leaves the list) */
        pthread_mutex_lock(&ac->mu);
        ca->next = ac->conns;
        if (ac->conns)
            ac->conns->prev = ca;
        ac->conns = ca;
        pthread_mutex_unlock(&ac->mu);
    } else if (what == MHD_CONNECTION_NOTIFY_CLOSED) {
        web_conn *ca = *socket_ctx;
        if (!ca)
            return;
        /* libmicrohttpd 0.9.75 may close a connection in the middle of a request without on_completed (after an
           error answer it could not send, or a second error): the request ends here */
        if (ca->req)
            ac->hooks.request_dropped(ac->hooks.ctx, ca->req);
        pthread_mutex_lock(&ac->mu);
        if (ca->prev)
            ca->prev->next = ca->next;
        else
            ac->conns = ca->next;
        if (ca->next)
            ca->next->prev = ca->prev;
        ac->daemon_conns[ca->daemon]--;
        ac->total_conns--;
        addr_count *a = addr_slot(ac, ca->addr, 0);
        if (a && a->count)
            a->count--;
        pthread_mutex_unlock(&ac->mu);
        free(ca);
        *socket_ctx = NULL;
    }
}

/* Logs a refused connection, at most once a second (a client over its limit may retry thousands of times). */
static void log_refusal(web_acceptor *ac, const struct sockaddr *sa, unsigned open)
{
    double now = web_mono_s();
    pthread_mutex_lock(&ac->mu);
    unsigned long n = ++ac->refused_since;
    int log = now - ac->refused_logged_at >= 1.0;
    if (log) {
        ac->refused_logged_at = now;
        ac->refused_since = 0;
    }
    pthread_mutex_unlock(&ac->mu);
    if (!log)
        return;
    char a[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, a, sizeof a);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, a, sizeof a);
    cv_log("warn",
           "connection from %s refused: %u open from that address (max_connections_per_ip %u); %lu "
           "refused in the last second",
           a, open, ac->o->per_ip_limit, n);
}

/* The request deadline (request_timeout_s from a request's first byte until it is in whole). libmicrohttpd's own
   timeout counts idle time only, so a client sending a byte a second would hold its connection for ever, and a few
   hundred such would hold every connection of the server; and libmicrohttpd can queue an answer only once the
   headers are in, so a request past its deadline is not answered: its socket is shut down (libmicrohttpd then
   sees the connection end and closes it) and its line logged as a 408. The first byte of a request: its request
   line's arrival (web_conn_begin), or earlier, the socket's last data time (TCP_INFO) when data came after the
   connection was ready for a request -- the request line itself may be what trickles in. Called by the acceptor,
   and by web_acceptor_drain while the server stops; at most every reap_every seconds unless forced. Counts in
   ac->begun the connections with a request begun and not yet in whole. */
static void reap(web_acceptor *ac, int force)
{
    double now = web_mono_s();
    if (!force && now - ac->reaped_at < ac->reap_every)
        return;
    ac->reaped_at = now;
    unsigned begun = 0;
    pthread_mutex_lock(&ac->mu);
    for (web_conn *ca = ac->conns; ca; ca = ca->next) {
        if (ca->timed_out || ca->answering)
            continue;
        if (!ca->start && ca->fd >= 0) {
            struct tcp_info ti;
            socklen_t len = sizeof ti;
            /* 10 ms of slack: the kernel keeps that time in jiffies, and the last request's bytes all came before
               its answer made the connection ready again */
            if (!getsockopt(ca->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) &&
                len >= offsetof(struct tcp_info, tcpi_last_data_recv) + sizeof ti.tcpi_last_data_recv) {
                double at = now - ti.tcpi_last_data_recv / 1e3;
                if (at > ca->ready + 0.010)
                    ca->start = at;
            }
        }
        if (!ca->start)
            continue;
        if (now - ca->start < ac->o->request_timeout_s) {
            begun++;
            continue;
        }
        ca->timed_out = 1;
        shutdown(ca->fd, SHUT_RDWR);
        if (!ca->req) /* its request line is not in: on_completed will not hear of it */
            ac->hooks.deadline_missed(ac->hooks.ctx, (int64_t)((now - ca->start) * 1e9));
    }
    pthread_mutex_unlock(&ac->mu);
    ac->begun = begun;
}

/* The acceptor: takes connections while the server is under its connection limit (beyond it they wait in the
   listen queue), closes at once those from an address already at its own limit, and gives the others to the
   daemon with the fewest open connections. It also closes the connections whose request is past its deadline
   (reap). */
static void *acceptor_main(void *arg)
{
    web_acceptor *ac = arg;
    unsigned next = 0;
    while (!atomic_load(&ac->stopping)) {
        pthread_mutex_lock(&ac->mu);
        int full = ac->total_conns >= ac->o->connection_limit, busy = ac->total_conns > 0;
        pthread_mutex_unlock(&ac->mu);
        struct pollfd p[2] = {{ac->wake[0], POLLIN, 0}, {ac->listen_fd, full ? 0 : POLLIN, 0}};
        /* at the limit, look again every 20 ms for a connection that closed */
        int wait_ms = full ? 20 : busy ? (int)(ac->reap_every * 1e3) : -1;
        if (poll(p, 2, wait_ms) < 0 && errno != EINTR)
            break;
        if (p[0].revents || atomic_load(&ac->stopping))
            break;
        reap(ac, 0);
        if (full || !(p[1].revents & POLLIN))
            continue;
        pthread_mutex_lock(&ac->mu);
        full = ac->total_conns >= ac->o->connection_limit;
        pthread_mutex_unlock(&ac->mu);
        if (full)
            continue;
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = accept(ac->listen_fd, (struct sockaddr *)&ss, &len);
        if (fd >= 0 && (fcntl(fd, F_SETFD, FD_CLOEXEC) || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK))) {
            close(fd);
            continue;
        }
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                cv_log("warn", "accept: %s", strerror(errno));
                struct timespec nap = {0, 10000000};
                nanosleep(&nap, NULL);
            }
            continue;
        }
        /* counted here, before libmicrohttpd has even seen it, so that the next accept already sees it */
        uint8_t key[16];
        addr_key((struct sockaddr *)&ss, key);
        pthread_mutex_lock(&ac->mu);
        addr_count *a = addr_slot(ac, key, 1);
        unsigned open = a ? a->count : 0;
        unsigned best = next % ac->nd;
        for (unsigned k = 0; k < ac->nd; k++) {
            unsigned i = (next + k) % ac->nd;
            if (ac->daemon_conns[i] < ac->daemon_conns[best])
                best = i;
        }
        int refuse = open >= ac->o->per_ip_limit;
        if (!refuse) {
            if (a)
                a->count++;
            ac->daemon_conns[best]++;
            ac->total_conns++;
        }
        pthread_mutex_unlock(&ac->mu);
        if (refuse) {
            close(fd);
            log_refusal(ac, (struct sockaddr *)&ss, open);
            continue;
        }
        next = best + 1;
        /* libmicrohttpd closes the socket itself when it cannot take it */
        if (MHD_add_connection(ac->d[best], fd, (struct sockaddr *)&ss, len) != MHD_YES) {
            cv_log("warn", "connection dropped: libmicrohttpd could not take it (%s)", strerror(errno));
            pthread_mutex_lock(&ac->mu);
            if (a && a->count)
                a->count--;
            ac->daemon_conns[best]--;
            ac->total_conns--;
            pthread_mutex_unlock(&ac->mu);
        }
    }
    return NULL;
}

web_acceptor *web_acceptor_new(const cv_server_options *o, struct MHD_Daemon *const *d, unsigned nd,
                               web_acceptor_hooks hooks)
{
    web_acceptor *ac = calloc(1, sizeof *ac);
    if (!ac)
        return NULL;
    ac->o = o;
    ac->d = d;
    ac->nd = nd;
    ac->hooks = hooks;
    ac->listen_fd = -1;
    ac->wake[0] = ac->wake[1] = -1;
    atomic_init(&ac->stopping, 0);
    pthread_mutex_init(&ac->mu, NULL);
    size_t na = 16;
    while (na < 2 * (size_t)o->connection_limit + 16)
        na *= 2;
    ac->naddrs = na;
    ac->daemon_conns = calloc(nd, sizeof *ac->daemon_conns);
    ac->addrs = calloc(na, sizeof *ac->addrs);
    /* a twentieth of the deadline between two looks, within 20..250 ms */
    ac->reap_every = o->request_timeout_s / 20.0;
    ac->reap_every = ac->reap_every < 0.020 ? 0.020 : ac->reap_every > 0.250 ? 0.250 : ac->reap_every;
    if (!ac->daemon_conns || !ac->addrs || pipe(ac->wake)) {
        web_acceptor_free(ac);
        return NULL;
    }
    return ac;
}

int web_acceptor_listen(web_acceptor *ac, const struct sockaddr *sa, socklen_t len, int dual)
{
    ac->listen_fd = listen_on(sa, len, dual);
    return ac->listen_fd < 0 ? -1 : 0;
}

uint16_t web_acceptor_port(const web_acceptor *ac)
{
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    getsockname(ac->listen_fd, (struct sockaddr *)&bound, &blen);
    return ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                             : ((struct sockaddr_in *)&bound)->sin_port);
}

int web_acceptor_start(web_acceptor *ac)
{
    if (pthread_create(&ac->thread, NULL, acceptor_main, ac))
        return -1;
    ac->started = 1;
    return 0;
}

int web_acceptor_stop(web_acceptor *ac)
{
    int was = ac->started;
    atomic_store(&ac->stopping, 1);
    if (ac->started) {
        ssize_t w = write(ac->wake[1], "x", 1);
        (void)w;
        pthread_join(ac->thread, NULL);
        ac->started = 0;
    }
    if (ac->listen_fd >= 0)
        close(ac->listen_fd);
    ac->listen_fd = -1;
    return was;
}

void web_acceptor_drain(web_acceptor *ac, atomic_long *inflight)
{
    double t0 = web_mono_s();
    struct timespec nap = {0, 2000000};
    for (;;) {
        if (atomic_load(inflight) > 0) {
            reap(ac, 0);
        } else if (web_mono_s() - ac->reaped_at >= 0.010) {
            /* nothing in flight: a look at every socket (at most every 10 ms), a request line may be trickling in
               (a request ends its connection's start before it leaves the count) */
            reap(ac, 1);
            if (atomic_load(inflight) <= 0 && !ac->begun)
                break;
        }
        if ((web_mono_s() - t0) * 1e3 >= ac->o->stop_grace_ms) {
            cv_log("warn", "stopping with %ld requests still in flight", (long)atomic_load(inflight));
            break;
        }
        nanosleep(&nap, NULL);
    }
}

void web_acceptor_free(web_acceptor *ac)
{
    if (!ac)
        return;
    if (ac->listen_fd >= 0)
        close(ac->listen_fd);
    if (ac->wake[0] >= 0)
        close(ac->wake[0]), close(ac->wake[1]);
    free(ac->daemon_conns), free(ac->addrs);
    pthread_mutex_destroy(&ac->mu);
    free(ac);
}

void web_acceptor_open_conns(web_acceptor *ac, unsigned *out)
{
    pthread_mutex_lock(&ac->mu);
    memcpy(out, ac->daemon_conns, ac->nd * sizeof *out);
    pthread_mutex_unlock(&ac->mu);
}

unsigned web_conn_daemon(const web_conn *c)
{
    return c->daemon;
}

int web_conn_fd(const web_conn *c)
{
    return c->fd;
}

int web_conn_begin(web_acceptor *ac, web_conn *c, void *req)
{
    double now = web_mono_s();
    pthread_mutex_lock(&ac->mu);
    c->req = req;
    if (!c->start)
        c->start = now;
    int late = c->timed_out;
    pthread_mutex_unlock(&ac->mu);
    return late;
}

int web_conn_answering(web_acceptor *ac, web_conn *c)
{
    pthread_mutex_lock(&ac->mu);
    int late = c->timed_out;
    if (!late)
        c->answering = 1;
    pthread_mutex_unlock(&ac->mu);
    return !late;
}

int web_conn_end(web_acceptor *ac, web_conn *c, void *req)
{
    double now = web_mono_s();
    pthread_mutex_lock(&ac->mu);
    int late = c->timed_out;
    if (c->req == req) {
        c->req = NULL;
        c->start = 0;
        c->answering = 0;
        c->ready = now;
    }
    pthread_mutex_unlock(&ac->mu);
    return late;
}
