/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* pg_temp.h — a PostgreSQL server of a test's own: initdb in a temporary directory and pg_ctl on a free port of
   127.0.0.1 (its socket in that directory too), trust authentication for one user, fsync off; stopped and removed
   by tst_pg_stop. PostgreSQL refuses to run as root: as root, the server runs as the postgres user of Debian's
   package. When the package is not installed, tst_pg_start says why and the caller skips its PostgreSQL part. */
#ifndef CV_TEST_PG_TEMP_H
#define CV_TEST_PG_TEMP_H

#include <arpa/inet.h>
#include <glob.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static char tst_pg_dir[64];
static char tst_pg_bin[128];
static char tst_pg_as[64]; /* "runuser -u postgres -- " as root */
static int tst_pg_port_used;

/* A port free now on 127.0.0.1. */
static inline int tst_pg_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    int port = -1;
    if (fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof sa) && !getsockname(fd, (struct sockaddr *)&sa, &len))
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* Whether Debian's PostgreSQL server is installed. */
static inline int tst_pg_installed(void)
{
    glob_t g;
    int yes = !glob("/usr/lib/postgresql/*/bin/pg_ctl", 0, NULL, &g) && g.gl_pathc > 0;
    globfree(&g);
    return yes;
}

/* Starts the server: 0 and uri (postgresql://covoit@127.0.0.1:PORT/covoit), or -1 and why. */
static inline int tst_pg_start(char *uri, size_t cap, char *why, size_t wcap)
{
    glob_t g;
    if (glob("/usr/lib/postgresql/*/bin/pg_ctl", 0, NULL, &g) || !g.gl_pathc) {
        snprintf(why, wcap, "PostgreSQL's server is not installed (apt-get install postgresql)");
        return -1;
    }
    snprintf(tst_pg_bin, sizeof tst_pg_bin, "%.*s", (int)(strlen(g.gl_pathv[g.gl_pathc - 1]) - strlen("/pg_ctl")),
             g.gl_pathv[g.gl_pathc - 1]);
    globfree(&g);
    snprintf(tst_pg_dir, sizeof tst_pg_dir, "/tmp/covoit-pg-XXXXXX");
    if (!mkdtemp(tst_pg_dir)) {
        snprintf(why, wcap, "cannot make a temporary directory");
        return -1;
    }
    tst_pg_as[0] = '\0';
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam("postgres");
        if (!pw || chown(tst_pg_dir, pw->pw_uid, pw->pw_gid)) {
            snprintf(why, wcap, "running as root, and there is no postgres user to run PostgreSQL as");
            return -1;
        }
        snprintf(tst_pg_as, sizeof tst_pg_as, "runuser -u postgres -- ");
    }
    int port = tst_pg_port();
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "%s%s/initdb -D %s/data -U covoit --auth=trust -E UTF8 --locale=C.UTF-8 > %s/initdb.log 2>&1 && "
             "%s%s/pg_ctl -D %s/data -w -t 60 -l %s/server.log -o \"-p %d -k %s -h 127.0.0.1 -c fsync=off -c "
             "synchronous_commit=off -c full_page_writes=off\" start > %s/pg_ctl.log 2>&1 && "
             "%s%s/createdb -h 127.0.0.1 -p %d -U covoit covoit >> %s/pg_ctl.log 2>&1",
             tst_pg_as, tst_pg_bin, tst_pg_dir, tst_pg_dir, tst_pg_as, tst_pg_bin, tst_pg_dir, tst_pg_dir, port,
             tst_pg_dir, tst_pg_dir, tst_pg_as, tst_pg_bin, port, tst_pg_dir);
    if (system(cmd)) {
        snprintf(why, wcap, "PostgreSQL did not start (see %s/*.log)", tst_pg_dir);
        return -1;
    }
    snprintf(uri, cap, "postgresql://covoit@127.0.0.1:%d/covoit", port);
    tst_pg_port_used = port;
    return 0;
}

/* The server goes away under its clients (pg_ctl stop -m fast: their connections cut, as a crash or a failover
   cuts them), keeping what it committed: this server runs with fsync and synchronous_commit off, so an immediate
   stop would lose its last commits, which a real primary under synchronous replication does not (bench/failover.sh
   kills one). tst_pg_resume starts it again on the same port and data. 0 or -1. */
static inline int tst_pg_halt(void)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s%s/pg_ctl -D %s/data -m fast -w stop >> %s/pg_ctl.log 2>&1", tst_pg_as, tst_pg_bin,
             tst_pg_dir, tst_pg_dir);
    return system(cmd) ? -1 : 0;
}

static inline int tst_pg_resume(void)
{
    char cmd[1536];
    snprintf(cmd, sizeof cmd,
             "%s%s/pg_ctl -D %s/data -w -t 60 -l %s/server.log -o \"-p %d -k %s -h 127.0.0.1 -c fsync=off -c "
             "synchronous_commit=off -c full_page_writes=off\" start >> %s/pg_ctl.log 2>&1",
             tst_pg_as, tst_pg_bin, tst_pg_dir, tst_pg_dir, tst_pg_port_used, tst_pg_dir, tst_pg_dir);
    return system(cmd) ? -1 : 0;
}

static inline void tst_pg_stop(void)
{
    if (!tst_pg_dir[0])
        return;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s%s/pg_ctl -D %s/data -m immediate stop > /dev/null 2>&1; rm -rf %s", tst_pg_as,
             tst_pg_bin, tst_pg_dir, tst_pg_dir);
    if (system(cmd)) {
        /* already stopped: the directory is removed all the same */
    }
    tst_pg_dir[0] = '\0';
}

#endif
