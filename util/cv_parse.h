/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* cv_parse.h — whole numbers from text, as the CLI and the HTTP API both read them (ids, counts, limits). */
#ifndef CV_PARSE_H
#define CV_PARSE_H

/* A whole number in [lo, hi] from the whole of text (no sign-only, blank or trailing characters). Returns 0, or -1
   with *out untouched. */
int cv_parse_integer(const char *text, long long lo, long long hi, long long *out);

#endif
