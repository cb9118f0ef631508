/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* srcaddr.c — an LD_PRELOAD shim for the load generator of bench/server.sh: spreads its loopback connections over
   several source addresses, as many clients would, so that the server's per-address connection limit (64, see
   docs/API.md) is not what a test of 256 connections measures.

   With COVOIT_SRC_ADDRS=N (N >= 2), every IPv4 connect() to 127.0.0.1 first binds the socket to source address
   127.0.0.2, 127.0.0.3, ... 127.0.0.(N+1), round robin (the port stays the kernel's choice at connect time:
   IP_BIND_ADDRESS_NO_PORT). Without it, or for any other destination, connect() is untouched.

   build: bench/CMakeLists.txt (target bench_srcaddr); use: LD_PRELOAD=.../libbench_srcaddr.so COVOIT_SRC_ADDRS=8 wrk
   ... */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    static int (*real_connect)(int, const struct sockaddr *, socklen_t);
    static atomic_uint next;
    if (!real_connect) {
        real_connect = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
        if (!real_connect)
            abort();
    }
    const char *e = getenv("COVOIT_SRC_ADDRS");
    long n = e ? strtol(e, NULL, 10) : 0;
    if (n >= 2 && n <= 250 && addr && addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in) &&
        ((const struct sockaddr_in *)addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK)) {
        unsigned k = atomic_fetch_add(&next, 1) % (unsigned)n;
        struct sockaddr_in src = {0};
        src.sin_family = AF_INET;
        src.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + k);
        int one = 1;
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        bind(fd, (const struct sockaddr *)&src, sizeof src); /* on failure, the kernel picks the source as usual */
    }
    return real_connect(fd, addr, len);
}
