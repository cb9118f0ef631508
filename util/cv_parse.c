/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* cv_parse.c — whole numbers from text. */
#include "util/cv_parse.h"

#include <errno.h>
#include <stdlib.h>

int cv_parse_integer(const char *text, long long lo, long long hi, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!*text || *end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}
