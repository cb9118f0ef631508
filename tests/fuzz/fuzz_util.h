/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* fuzz_util.h — what the libFuzzer targets share: a private scratch directory (on /dev/shm when there is one, so
   that the files an input becomes never touch a disk), writing bytes to a file there, and failing loudly. */
/* Include after defining _POSIX_C_SOURCE 200809L or _GNU_SOURCE (mkdtemp, O_CLOEXEC). */
#ifndef CV_FUZZ_UTIL_H
#define CV_FUZZ_UTIL_H

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Prints through the sanitizers' report descriptor: stderr, or with -close_fd_mask=2 (which the noisy targets
   run with) the copy of it that libFuzzer keeps for itself and the sanitizers, while the code under test writes
   into /dev/null. */
void __sanitizer_report_error_summary(const char *error_summary);

/* Stops the run as a finding: libFuzzer saves the input that got here (abort is a crash to it). */
static inline void fz_fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2), noreturn))
#endif
    ;
static inline void fz_fail(const char *fmt, ...)
{
    char msg[2048];
    int n = snprintf(msg, sizeof msg, "fuzz check failed: ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    __sanitizer_report_error_summary(msg);
    abort();
}

static char fz_dir_path[256];

static void fz_dir_remove(void)
{
    char cmd[300];
    if (!fz_dir_path[0])
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fz_dir_path);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz: could not remove %s\n", fz_dir_path);
}

/* The scratch directory of this process, made on first use and removed at exit (a crash leaves it behind:
   /dev/shm/covoit-fuzz-*). */
static inline const char *fz_dir(void)
{
    if (fz_dir_path[0])
        return fz_dir_path;
    struct stat st;
    const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0 ? "/dev/shm"
                       : getenv("TMPDIR") ? getenv("TMPDIR")
                                          : "/tmp";
    snprintf(fz_dir_path, sizeof fz_dir_path, "%s/covoit-fuzz-XXXXXX", base);
    if (!mkdtemp(fz_dir_path))
        fz_fail("cannot make a scratch directory under %s", base);
    atexit(fz_dir_remove);
    return fz_dir_path;
}

/* fz_dir()/name, in buf. */
static inline const char *fz_path(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", fz_dir(), name);
    return buf;
}

/* Writes data to path (replacing it). */
static inline void fz_write_file(const char *path, const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        fz_fail("cannot write %s", path);
    for (size_t off = 0; off < size;) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0)
            fz_fail("cannot write %s", path);
        off += (size_t)w;
    }
    close(fd);
}

#endif
