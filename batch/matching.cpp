/* SPDX-License-Identifier: AGPL-3.0-or-later */
// matching.cpp — cv_max_weight_matching (matching.h) with LEMON: a ListGraph of the nodes and edges, their
// weights in an edge map, MaxWeightedMatching (Edmonds' blossom algorithm with dual variables) run on it.
#include "batch/matching.h"

// LEMON's ArrayMap constructs its default Arc/Node values (Value()), whose one int GCC 12 with -O2 and the
// sanitizers reports as maybe uninitialized where the template is instantiated, here; the value is overwritten
// before any read. The diagnostic is silenced for this shim only, not for our C code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <lemon/list_graph.h>
#include <lemon/matching.h>

#include <new>
#include <vector>

extern "C" int cv_max_weight_matching(size_t n, const cv_wedge *edges, size_t m, int64_t *mate, int64_t *total)
{
    try {
        lemon::ListGraph g;
        g.reserveNode(static_cast<int>(n));
        g.reserveEdge(static_cast<int>(m));
        std::vector<lemon::ListGraph::Node> nodes;
        nodes.reserve(n);
        for (size_t i = 0; i < n; i++)
            nodes.push_back(g.addNode());
        lemon::ListGraph::EdgeMap<long long> weight(g);
        for (size_t k = 0; k < m; k++) {
            if (edges[k].a >= n || edges[k].b >= n || edges[k].a == edges[k].b || edges[k].weight <= 0)
                return -1;
            lemon::ListGraph::Edge e = g.addEdge(nodes[edges[k].a], nodes[edges[k].b]);
            weight[e] = edges[k].weight;
        }
        lemon::MaxWeightedMatching<lemon::ListGraph, lemon::ListGraph::EdgeMap<long long>> solver(g, weight);
        solver.run();
        for (size_t i = 0; i < n; i++) {
            lemon::ListGraph::Node other = solver.mate(nodes[i]);
            mate[i] = other == lemon::INVALID ? -1 : g.id(other);
        }
        if (total)
            *total = solver.matchingWeight();
        return 0;
    } catch (const std::bad_alloc &) {
        return -1;
    }
}
