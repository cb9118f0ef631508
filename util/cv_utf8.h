/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* cv_utf8.h — UTF-8 well-formedness, shared by the importer (which cleans names) and the graph file reader (which
   refuses a file whose strings are not UTF-8). */
#ifndef CV_UTF8_H
#define CV_UTF8_H

#include <stddef.h>

/* Length of the UTF-8 sequence at p (at most n >= 1 bytes available), 0 when it is not well-formed (overlong
   forms, surrogates and code points above U+10FFFF included). */
size_t cv_utf8_seq(const unsigned char *p, size_t n);

#endif
