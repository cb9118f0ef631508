/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* fuzz_graph.c — the graph file loader: bytes → a memory file → cv_graph_open, which must refuse them with an
   error or load them, never crash; a graph it loads must then answer snapping, Dijkstra, CH and hub-label routes,
   a table, the route's geometry, annotations and steps without crashing or hanging either.

   Each input is opened twice: as it is (what a damaged file meets), and with its checksums made right (the
   file size, every section's CRC32 that fits the file, then the header's), so that mutated counts, offsets and
   contents get past the checksums to the checks of the contents and to the queries behind them. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <zlib.h>

#include "routing/ch.h"
#include "fuzz_util.h"
#include "routing/graph.h"
#include "routing/guidance.h"
#include "routing/hub_labels.h"
#include "routing/route.h"
#include "routing/snap.h"

#define LABELS_MAX_NODES 20000u /* hub labels only on graphs this small: they are built per input */
#define LABELS_MAX_BYTES (64ull << 20)

static int memfd = -1;
static char memfd_path[64];

/* The graph bytes as a file: one memory file, rewritten for each input. */
static const char *as_file(const uint8_t *data, size_t size)
{
    if (memfd < 0) {
        memfd = memfd_create("covoit-fuzz-graph", MFD_CLOEXEC);
        if (memfd < 0)
            fz_fail("memfd_create failed");
        snprintf(memfd_path, sizeof memfd_path, "/proc/self/fd/%d", memfd);
    }
    if (ftruncate(memfd, 0) || (size && pwrite(memfd, data, size, 0) != (ssize_t)size))
        fz_fail("cannot write the memory file");
    return memfd_path;
}

static uint32_t crc(const uint8_t *p, uint64_t n)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

/* Makes the file size and the checksums of a graph file right (see the top). */
static void fix_checksums(uint8_t *data, size_t size)
{
    cv_graph_header h;
    memcpy(&h, data, sizeof h);
    h.file_size = size;
    for (unsigned i = 0; i < CV_SEC_COUNT; i++) {
        cv_graph_section *s = &h.sections[i];
        if (s->offset <= size && s->size <= size - s->offset)
            s->crc32 = crc(data + s->offset, s->size);
    }
    h.header_crc32 = 0;
    h.header_crc32 = crc((const uint8_t *)&h, sizeof h);
    memcpy(data, &h, sizeof h);
}

/* Queries that must not crash on any graph cv_graph_open accepted. */
static void query(const cv_graph *g)
{
    if (!g->hdr.nnodes || !g->hdr.nedges)
        return;
    const cv_coord *nc = g->a.node_coord;
    const int32_t *b = g->hdr.bbox;
    cv_coord pts[4] = {nc[0],
                       nc[g->hdr.nnodes - 1],
                       {(int32_t)(((int64_t)b[0] + b[2]) / 2), (int32_t)(((int64_t)b[1] + b[3]) / 2)},
                       nc[g->hdr.nnodes / 2]};
    cv_snap snaps[4];
    size_t ns = 0;
    for (int k = 0; k < 4; k++) {
        cv_snap_options so = cv_snap_defaults();
        so.any_component = k & 1;
        so.max_distance_m = k == 2 ? 10000 : 0;
        if (cv_snap_point(g, pts[k], &so, &snaps[ns], NULL) == 0)
            ns++;
    }
    if (ns < 2)
        return;
    cv_dijkstra *dij = cv_dijkstra_new(g);
    cv_ch_query *ch = cv_ch_query_new(g);
    cv_hub_labels *hl = NULL;
    cv_ch_query *hq = NULL;
    if (ch && g->hdr.nnodes <= LABELS_MAX_NODES && cv_hub_labels_build(g, 1, LABELS_MAX_BYTES, NULL, &hl, NULL) == 0) {
        hq = cv_ch_query_new(g);
        if (hq && cv_ch_use_labels(hq, hl)) {
            cv_ch_query_free(hq);
            hq = NULL;
        }
    }
    cv_path p = {0};
    cv_steps steps = {0};
    for (size_t i = 0; i + 1 < ns; i++) {
        if (dij && cv_dijkstra_route(dij, &snaps[i], &snaps[i + 1], &p, NULL) == 0) {
            cv_coord *geo = NULL;
            size_t n = 0;
            if (cv_path_geometry(g, &p, &geo, &n) == 0)
                free(geo);
            cv_path_point *pp = NULL;
            if (cv_path_points(g, &p, &pp, &n) == 0)
                free(pp);
            if (cv_path_steps(g, &p, &steps) == 0) {
                char summary[256];
                cv_steps_summary(g, &steps, summary, sizeof summary);
            }
        }
        if (ch && cv_ch_route(ch, &snaps[i], &snaps[i + 1], &p, NULL) == 0 && cv_path_steps(g, &p, &steps) == 0) {
            char summary[256];
            cv_steps_summary(g, &steps, summary, sizeof summary);
        }
        if (hq)
            (void)cv_ch_route(hq, &snaps[i], &snaps[i + 1], &p, NULL);
    }
    cv_table_cell cells[16];
    if (ch)
        (void)cv_ch_table(ch, snaps, ns, snaps, ns, cells, NULL);
    if (hq)
        (void)cv_ch_table(hq, snaps, ns, snaps, ns, cells, NULL);
    cv_steps_free(&steps);
    cv_path_free(&p);
    cv_ch_query_free(hq);
    cv_hub_labels_free(hl);
    cv_ch_query_free(ch);
    cv_dijkstra_free(dij);
}

static void open_and_query(const uint8_t *data, size_t size)
{
    cv_error err = {0};
    cv_graph *g = cv_graph_open(as_file(data, size), &err);
    if (!g) {
        if (!err.code || !err.text[0])
            fz_fail("cv_graph_open refused the file without an error");
        return;
    }
    query(g);
    cv_graph_close(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    open_and_query(data, size);
    if (size >= sizeof(cv_graph_header) && !memcmp(data, CV_GRAPH_MAGIC, 8)) {
        uint8_t *copy = malloc(size);
        if (!copy)
            return 0;
        memcpy(copy, data, size);
        fix_checksums(copy, size);
        open_and_query(copy, size);
        free(copy);
    }
    return 0;
}
