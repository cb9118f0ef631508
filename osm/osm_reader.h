/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* osm_reader.h — reads .osm.pbf / .osm / .osm.bz2 with libosmium (C++17 shim) and hands entities to C callbacks. */
#ifndef CV_OSM_READER_H
#define CV_OSM_READER_H

#include <stddef.h>
#include <stdint.h>

#include "util/cv_error.h"
#include "osm/profile.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cv_osm_member {
    char type;        /* 'n', 'w' or 'r' */
    int64_t ref;      /* OSM id of the member */
    const char *role; /* never NULL */
} cv_osm_member;

/* Callbacks; any may be NULL. Pointers passed in are valid only during the call. A non-zero return stops the
   read and is passed back by cv_osm_read. */
typedef struct cv_osm_handler {
    void *ud;
    /* 1e-7 degrees; tags (ntags 0 for the many untagged nodes) as for ways */
    int (*node)(void *ud, int64_t id, int32_t lon, int32_t lat, const cv_tag *tags, size_t ntags);
    int (*way)(void *ud, int64_t id, const int64_t *refs, size_t nrefs, const cv_tag *tags, size_t ntags);
    int (*relation)(void *ud, int64_t id, const cv_osm_member *members, size_t nmembers, const cv_tag *tags,
                    size_t ntags);
    void (*progress)(void *ud, uint64_t done, uint64_t total); /* bytes of the input file */
} cv_osm_handler;

/* What the file header says. */
typedef struct cv_osm_header {
    char timestamp[40]; /* replication or file timestamp (ISO 8601), "" if none */
    char generator[64]; /* writing program, "" if none */
    int sorted;         /* 1 when the header declares Type_then_ID sorting */
    int has_bbox;       /* 1 when the header carries a bounding box */
    int32_t bbox[4];    /* min lon, min lat, max lon, max lat (1e-7 degrees) */
} cv_osm_header;

/* Reads the whole file once, in file order, calling the handler for nodes (with a valid location), ways and
   relations. Metadata (user, version, timestamps) is not decoded. Returns 0, a callback's non-zero value, or a
   CV_E* code with err filled (unreadable file, unknown format, decoding error). hdr may be NULL. */
int cv_osm_read(const char *path, const cv_osm_handler *h, cv_osm_header *hdr, cv_error *err);

#ifdef __cplusplus
}
#endif

#endif
