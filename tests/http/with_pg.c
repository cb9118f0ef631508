/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* with_pg.c — runs a test on PostgreSQL: starts a server of its own (tests/unit/pg_temp.h: initdb and pg_ctl in a
   temporary directory, a free port), runs the command given with COVOIT_TEST_PG set to the server's URI (the test
   makes its databases there: tests/http/db_target.h), stops the server and exits as the test did. Exits 77 (skipped)
   with a message when Debian's PostgreSQL server is not installed. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pg_temp.h"

static volatile sig_atomic_t child;

/* An interrupted run (ctest's timeout, ^C) goes to the test first, so that the server is still stopped after it. */
static void forward(int sig)
{
    if (child > 0)
        kill((pid_t)child, sig);
}

/* A process of its own, outside this one's tree, that stops the server if this one is killed before it does (ctest's
   timeout kills the test's process tree with SIGKILL, which nothing catches, and pg_ctl's server is no child of it):
   it waits on a pipe whose other end this process holds, and stops the server at its end unless told "done" first.
   Returns the pipe's end to write "done" to, or -1 (no watchdog: the run goes on without it). */
static int watchdog(void)
{
    int p[2];
    if (pipe(p))
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        /* twice, so that it belongs to init rather than to this process; with its own session, and none of the
           test's output pipes, which ctest reads until every end is closed */
        if (fork() != 0)
            _exit(0);
        setsid();
        close(p[1]);
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0), dup2(null, 1), dup2(null, 2);
        char c = 0;
        ssize_t n;
        while ((n = read(p[0], &c, 1)) < 0 && errno == EINTR)
            ;
        if (n != 1)
            tst_pg_stop();
        _exit(0);
    }
    close(p[0]);
    if (pid < 0) {
        close(p[1]);
        return -1;
    }
    waitpid(pid, NULL, 0);
    fcntl(p[1], F_SETFD, FD_CLOEXEC); /* the test does not hold it: its end is this process's end */
    return p[1];
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: with_pg TEST [ARGS...]\n");
        return 2;
    }
    if (!tst_pg_installed()) {
        printf("SKIP: PostgreSQL's server is not installed (apt-get install postgresql)\n");
        return 77;
    }
    char uri[256], why[256];
    if (tst_pg_start(uri, sizeof uri, why, sizeof why)) {
        /* installed but not started: a broken test machine, not a skip */
        fprintf(stderr, "with_pg: %s\n", why);
        tst_pg_stop();
        return 1;
    }
    int guard = watchdog();
    printf("with_pg: %s on PostgreSQL at %s\n", argv[1], uri);
    fflush(stdout);
    setenv("COVOIT_TEST_PG", uri, 1);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        fprintf(stderr, "with_pg: cannot run %s: %s\n", argv[1], strerror(errno));
        _exit(127);
    }
    int status = 0, rc;
    if (pid < 0) {
        fprintf(stderr, "with_pg: fork: %s\n", strerror(errno));
        rc = 1;
    } else {
        child = pid;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (WIFEXITED(status))
            rc = WEXITSTATUS(status);
        else {
            fprintf(stderr, "with_pg: %s killed by signal %d\n", argv[1], WTERMSIG(status));
            rc = 128 + WTERMSIG(status);
        }
    }
    tst_pg_stop();
    if (guard >= 0 && write(guard, "d", 1) != 1)
        fprintf(stderr, "with_pg: the watchdog is gone\n");
    return rc;
}
