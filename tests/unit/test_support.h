/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_support.h — helpers the real-data unit tests share: a seeded generator, building a graph file from an
   extract, random snapped points. Include after cmocka.h. */
#ifndef CV_TEST_SUPPORT_H
#define CV_TEST_SUPPORT_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "routing/graph_build.h"
#include "osm/osm_network.h"
#include "routing/snap.h"

/* xorshift64: the same sequence on every machine for a given seed (never 0). */
static inline uint64_t tst_rand(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* Imports pbf with the car profile into COVOIT_TMP/name and opens it; fails the test on any error. */
static inline cv_graph *tst_build_graph(const char *pbf, const char *name)
{
    char out[1024];
    snprintf(out, sizeof out, "%s/%s", COVOIT_TMP, name);
    cv_network net;
    cv_error err = {0};
    cv_profile_options opt = cv_profile_defaults();
    if (cv_network_read(pbf, &opt, NULL, &net, &err))
        fail_msg("%s", err.text);
    if (cv_graph_build(&net, pbf, out, NULL, NULL, &err))
        fail_msg("%s", err.text);
    cv_network_free(&net);
    cv_graph *g = cv_graph_open(out, &err);
    if (!g)
        fail_msg("%s", err.text);
    return g;
}

/* A random point on edge `on` (UINT32_MAX: on a random edge) whose two ends are in the largest component, snapped
   with the default options (so it may land on another edge); draws again until the snap succeeds. */
static inline cv_snap tst_random_snap(const cv_graph *g, uint64_t *rng, uint32_t on)
{
    for (;;) {
        uint32_t e = on != UINT32_MAX ? on : (uint32_t)(tst_rand(rng) % g->hdr.nedges);
        const cv_edge *ed = &g->a.edges[e];
        if (g->a.node_component[ed->u] != g->hdr.largest_component ||
            g->a.node_component[ed->v] != g->hdr.largest_component)
            continue;
        uint32_t n;
        const cv_coord *pts = cv_graph_edge_points(g, e, &n);
        uint32_t k = (uint32_t)(tst_rand(rng) % (n - 1));
        double t = (double)(tst_rand(rng) % 1001) / 1000.0;
        cv_coord p = {(int32_t)lround(pts[k].lon + t * (pts[k + 1].lon - pts[k].lon)),
                      (int32_t)lround(pts[k].lat + t * (pts[k + 1].lat - pts[k].lat))};
        cv_snap s;
        cv_snap_options o = cv_snap_defaults();
        if (cv_snap_point(g, p, &o, &s, NULL) == 0)
            return s;
    }
}

/* Removes an SQLite database and its WAL and shared-memory files, so that a test starts from nothing. */
static inline void tst_remove_db(const char *path)
{
    char side[1100];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

#endif
