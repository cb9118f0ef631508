/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* cv_error.h — error codes and the caller-owned error struct shared by every covoit module. */
#ifndef CV_ERROR_H
#define CV_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes: 0 is success, failures are small negative ints. */
enum {
    CV_OK = 0,
    CV_EINVAL = -1,       /* bad argument or bad input value */
    CV_ENOMEM = -2,       /* allocation failed */
    CV_EIO = -3,          /* read/write/open failed */
    CV_EFORMAT = -4,      /* input file malformed or not what it claims */
    CV_ECORRUPT = -5,     /* graph file corrupt (checksum, bounds) */
    CV_EVERSION = -6,     /* graph file of an unsupported version */
    CV_ENOSEGMENT = -7,   /* no road within snapping distance */
    CV_ENOROUTE = -8,     /* no route between two snapped points */
    CV_EUNSORTED = -9,    /* input not sorted as needed */
    CV_ETOOBIG = -10,     /* request over a configured limit */
    CV_ENOTFOUND = -11,   /* unknown id */
    CV_ECONFLICT = -12,   /* state does not allow the operation */
    CV_EINTERNAL = -13,   /* a bug: an invariant did not hold */
    CV_EZONE = -14,       /* a database kept in another time zone than the one running */
    CV_ESTALE = -15,      /* computed on data that has changed since: compute again */
    CV_EBUSY = -16,       /* a database another process kept locked past the busy timeout: try again */
    CV_ERETRY = -17,      /* a transaction lost a serialization conflict or a deadlock: run it again */
    CV_EUNAVAILABLE = -18 /* the database cannot be reached (connection lost, no primary): try again later */
};

/* Filled by a failing call when the caller passes one; `text` is a one-line message that names the problem. */
typedef struct cv_error {
    int code;       /* one of the CV_E* codes */
    char text[512]; /* human-readable, no trailing newline */
} cv_error;

/* Sets err (if not NULL) to code and a printf-style message; returns code so callers can `return cv_fail(...)`. */
int cv_fail(cv_error *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* A short constant name for a code ("corrupt file", "no route", ...). */
const char *cv_strerror(int code);

#ifdef __cplusplus
}
#endif

#endif
