/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* cv_error.c — filling cv_error and naming codes. */
#include "util/cv_error.h"

#include <stdarg.h>
#include <stdio.h>

int cv_fail(cv_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->text, sizeof err->text, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

const char *cv_strerror(int code)
{
    switch (code) {
    case CV_OK:
        return "ok";
    case CV_EINVAL:
        return "invalid value";
    case CV_ENOMEM:
        return "out of memory";
    case CV_EIO:
        return "input/output error";
    case CV_EFORMAT:
        return "malformed input";
    case CV_ECORRUPT:
        return "corrupt file";
    case CV_EVERSION:
        return "unsupported version";
    case CV_ENOSEGMENT:
        return "no road segment near the point";
    case CV_ENOROUTE:
        return "no route";
    case CV_EUNSORTED:
        return "input not sorted";
    case CV_ETOOBIG:
        return "too big";
    case CV_ENOTFOUND:
        return "not found";
    case CV_ECONFLICT:
        return "conflict";
    case CV_EINTERNAL:
        return "internal error";
    case CV_EZONE:
        return "time zone mismatch";
    case CV_ESTALE:
        return "stale";
    case CV_EBUSY:
        return "busy";
    case CV_ERETRY:
        return "serialization conflict";
    case CV_EUNAVAILABLE:
        return "database unavailable";
    default:
        return "unknown error";
    }
}
