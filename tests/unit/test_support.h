/* test_support.h — helpers the real-data unit tests share: a seeded generator and building a graph file from an
   extract. Include after cmocka.h. */
#ifndef CV_TEST_SUPPORT_H
#define CV_TEST_SUPPORT_H

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "graph_build.h"
#include "osm_network.h"

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
