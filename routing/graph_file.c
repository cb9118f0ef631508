/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* graph_file.c — writes graph files and maps them back, trusting nothing read from disk until it is checked. */
#define _POSIX_C_SOURCE 200809L
#include "routing/graph.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "util/cv_utf8.h"

static uint32_t crc_of(const void *p, uint64_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    const unsigned char *b = p;
    while (n > 0) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, b, chunk);
        b += chunk;
        n -= chunk;
    }
    return (uint32_t)c;
}

static uint32_t header_crc(const cv_graph_header *h)
{
    cv_graph_header copy = *h;
    copy.header_crc32 = 0;
    return crc_of(&copy, sizeof copy);
}

typedef struct sec_src {
    const void *data;
    uint64_t count;
    uint32_t elem;
} sec_src;

static void section_sources(const cv_graph_header *h, const cv_graph_arrays *a, sec_src s[CV_SEC_COUNT])
{
    uint64_t ncells = (uint64_t)h->grid_cols * h->grid_rows;
    s[CV_SEC_NODE_COORD] = (sec_src){a->node_coord, h->nnodes, sizeof(cv_coord)};
    s[CV_SEC_NODE_COMPONENT] = (sec_src){a->node_component, h->nnodes, sizeof(uint32_t)};
    s[CV_SEC_COMPONENT_SIZE] = (sec_src){a->component_size, h->ncomponents, sizeof(uint32_t)};
    s[CV_SEC_EDGE] = (sec_src){a->edges, h->nedges, sizeof(cv_edge)};
    s[CV_SEC_EDGE_FIRST_POINT] = (sec_src){a->edge_first_point, (uint64_t)h->nedges + 1, sizeof(uint32_t)};
    s[CV_SEC_POINT] = (sec_src){a->points, h->npoints, sizeof(cv_coord)};
    s[CV_SEC_OUT_FIRST] = (sec_src){a->out_first, (uint64_t)h->nnodes + 1, sizeof(uint32_t)};
    s[CV_SEC_OUT_ARC] = (sec_src){a->out_arcs, h->narcs, sizeof(cv_arc)};
    s[CV_SEC_IN_FIRST] = (sec_src){a->in_first, (uint64_t)h->nnodes + 1, sizeof(uint32_t)};
    s[CV_SEC_IN_ARC] = (sec_src){a->in_arcs, h->narcs, sizeof(cv_arc)};
    s[CV_SEC_RESTRICTION] = (sec_src){a->restrictions, h->nrestrictions, sizeof(cv_restriction)};
    s[CV_SEC_GRID_FIRST] = (sec_src){a->grid_first, ncells + 1, sizeof(uint32_t)};
    s[CV_SEC_GRID_ITEM] = (sec_src){a->grid_items, a->ngrid_items, sizeof(cv_grid_item)};
    s[CV_SEC_SPLIT] = (sec_src){a->splits, h->nsplits, sizeof(cv_split)};
    s[CV_SEC_CH_RANK] = (sec_src){a->ch_rank, h->nnodes, sizeof(uint32_t)};
    s[CV_SEC_CH_UP_FIRST] = (sec_src){a->ch_up_first, (uint64_t)h->nnodes + 1, sizeof(uint32_t)};
    s[CV_SEC_CH_UP] = (sec_src){a->ch_up, h->nch_up, sizeof(cv_ch_link)};
    s[CV_SEC_CH_DOWN_FIRST] = (sec_src){a->ch_down_first, (uint64_t)h->nnodes + 1, sizeof(uint32_t)};
    s[CV_SEC_CH_DOWN] = (sec_src){a->ch_down, h->nch_down, sizeof(cv_ch_link)};
    s[CV_SEC_CH_ARC] = (sec_src){a->ch_arcs, h->nch_arcs, sizeof(cv_ch_unpack)};
    s[CV_SEC_EDGE_NAME] = (sec_src){a->edge_name, h->nedges, sizeof(uint32_t)};
    s[CV_SEC_NAME] = (sec_src){a->names, h->nnames, sizeof(cv_street_name)};
    s[CV_SEC_NAME_CHAR] = (sec_src){a->name_chars, h->nname_chars, 1};
    s[CV_SEC_RESTRICTION_ARC] = (sec_src){a->restriction_arcs, h->nrestriction_arcs, sizeof(uint32_t)};
    s[CV_SEC_SPLIT_IN] = (sec_src){a->split_in, h->nsplit_in, sizeof(uint32_t)};
}

static uint64_t align_up(uint64_t x)
{
    return (x + CV_GRAPH_ALIGN - 1) / CV_GRAPH_ALIGN * CV_GRAPH_ALIGN;
}

static int write_all(FILE *f, const void *p, uint64_t n)
{
    return n == 0 || fwrite(p, 1, n, f) == n ? 0 : -1;
}

int cv_graph_write(const char *path, const cv_graph_header *hin, const cv_graph_arrays *a, cv_error *err)
{
    cv_graph_header h = *hin;
    memcpy(h.magic, CV_GRAPH_MAGIC, 8);
    h.version = CV_GRAPH_VERSION;
    h.header_size = sizeof h;
    h.nsections = CV_SEC_COUNT;
    sec_src src[CV_SEC_COUNT];
    section_sources(&h, a, src);
    uint64_t off = align_up(sizeof h);
    for (int i = 0; i < CV_SEC_COUNT; i++) {
        cv_graph_section *s = &h.sections[i];
        s->offset = off;
        s->count = src[i].count;
        s->elem_size = src[i].elem;
        s->size = src[i].count * src[i].elem;
        s->crc32 = crc_of(src[i].data, s->size);
        off = align_up(off + s->size);
    }
    h.file_size = off;
    h.header_crc32 = 0;
    h.header_crc32 = header_crc(&h);

    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!tmp)
        return cv_fail(err, CV_ENOMEM, "out of memory");
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        int rc = cv_fail(err, CV_EIO, "%s: cannot create: %s", tmp, strerror(errno));
        free(tmp);
        return rc;
    }
    static const char zeros[CV_GRAPH_ALIGN];
    int bad = write_all(f, &h, sizeof h);
    uint64_t pos = sizeof h;
    for (int i = 0; i < CV_SEC_COUNT && !bad; i++) {
        bad |= write_all(f, zeros, h.sections[i].offset - pos);
        bad |= write_all(f, src[i].data, h.sections[i].size);
        pos = h.sections[i].offset + h.sections[i].size;
    }
    bad |= write_all(f, zeros, h.file_size - pos);
    bad |= fflush(f) != 0;
    bad |= fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        int rc = cv_fail(err, CV_EIO, "%s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return rc;
    }
    free(tmp);
    return 0;
}

/* Checks a CSR offset array: first[0] == 0, non-decreasing, last == total. */
static int check_csr(const uint32_t *first, uint64_t n, uint64_t total)
{
    if (first[0] != 0 || first[n] != total)
        return -1;
    for (uint64_t i = 0; i < n; i++)
        if (first[i] > first[i + 1])
            return -1;
    return 0;
}

/* The hierarchy. Ranks form a permutation; links point at valid ranks and arcs, up links go up and down links
   come from above; every shortcut unpacks into arcs with smaller indexes (so unpacking terminates) and lasts as long
   as its halves together, every original arc as long as its edge. And the hierarchy fits the graph: the edge of an
   original arc joins the junctions of the nodes its link joins (a rank given to the wrong node, or a link turned
   round, breaks that), an arc used by several links joins the same nodes in each, and a shortcut's halves meet at a
   node below both its ends. `junction` maps every routing node to its junction. Returns 0 or CV_ECORRUPT with err
   naming the first problem. */
static int check_ch(const cv_graph *g, const uint32_t *junction, const char *path, cv_error *err)
{
    const cv_graph_header *h = &g->hdr;
    const cv_graph_arrays *a = &g->a;
    uint32_t n = h->nnodes, na = h->nch_arcs;
#define BAD(...) (rc = cv_fail(err, CV_ECORRUPT, __VA_ARGS__))
    int rc = 0;
    if (check_csr(a->ch_up_first, n, h->nch_up))
        return BAD("%s: corrupt graph file: hierarchy up offsets are inconsistent", path);
    if (check_csr(a->ch_down_first, n, h->nch_down))
        return BAD("%s: corrupt graph file: hierarchy down offsets are inconsistent", path);
    uint32_t *node_of = malloc((n ? n : 1) * sizeof *node_of);         /* rank -> node */
    uint32_t *ends = malloc((na ? (size_t)na : 1) * 2 * sizeof *ends); /* arc -> tail, head node (or UINT32_MAX) */
    if (!node_of || !ends) {
        free(node_of), free(ends);
        return cv_fail(err, CV_ENOMEM, "out of memory");
    }
    for (uint32_t r = 0; r < n; r++)
        node_of[r] = UINT32_MAX;
    for (uint32_t i = 0; i < n && !rc; i++) {
        uint32_t r = a->ch_rank[i];
        if (r >= n)
            BAD("%s: corrupt graph file: hierarchy rank %u of node %u is beyond the %u ranks", path, r, i, n);
        else if (node_of[r] != UINT32_MAX)
            BAD("%s: corrupt graph file: hierarchy rank %u is given to nodes %u and %u", path, r, node_of[r], i);
        else
            node_of[r] = i;
    }
    for (uint32_t i = 0; i < na && !rc; i++) {
        const cv_ch_unpack *u = &a->ch_arcs[i];
        ends[2 * (size_t)i] = ends[2 * (size_t)i + 1] = UINT32_MAX;
        if (u->second == CV_CH_ORIGINAL) {
            const cv_edge *e = (u->first >> 1) < h->nedges ? &a->edges[u->first >> 1] : NULL;
            if (!e)
                BAD("%s: corrupt graph file: hierarchy arc %u stands for edge %u, beyond the %u edges", path, i,
                    u->first >> 1, h->nedges);
            else if (u->duration_ds != cv_edge_duration(e, u->first & 1) || u->distance_dm != e->length_dm)
                BAD("%s: corrupt graph file: hierarchy arc %u (%u ds, %u dm) does not last as long as its edge %u "
                    "(%u ds, %u dm)",
                    path, i, u->duration_ds, u->distance_dm, u->first >> 1, cv_edge_duration(e, u->first & 1),
                    e->length_dm);
        } else if (u->first >= i || u->second >= i) {
            BAD("%s: corrupt graph file: hierarchy shortcut %u unpacks into arc %u, not an earlier one", path, i,
                u->first >= i ? u->first : u->second);
        } else {
            const cv_ch_unpack *x = &a->ch_arcs[u->first], *y = &a->ch_arcs[u->second];
            if ((uint64_t)x->duration_ds + y->duration_ds != u->duration_ds ||
                (uint64_t)x->distance_dm + y->distance_dm != u->distance_dm)
                BAD("%s: corrupt graph file: hierarchy shortcut %u (%u ds, %u dm) does not last as long as its halves "
                    "%u and %u together",
                    path, i, u->duration_ds, u->distance_dm, u->first, u->second);
        }
    }
    /* links: up links at rank r go to the higher rank l.node; down links at rank r come from the higher l.node */
    for (int down = 0; down < 2 && !rc; down++) {
        const uint32_t *first = down ? a->ch_down_first : a->ch_up_first;
        const cv_ch_link *links = down ? a->ch_down : a->ch_up;
        const char *kind = down ? "down" : "up";
        for (uint32_t r = 0; r < n && !rc; r++)
            for (uint32_t k = first[r]; k < first[r + 1] && !rc; k++) {
                const cv_ch_link *l = &links[k];
                if (l->node >= n) {
                    BAD("%s: corrupt graph file: hierarchy %s arc %u of rank %u joins rank %u, beyond the %u ranks",
                        path, kind, k, r, l->node, n);
                    break;
                }
                if (l->node <= r) {
                    BAD("%s: corrupt graph file: hierarchy %s arc %u of rank %u %s rank %u, not a higher one", path,
                        kind, k, r, down ? "comes from" : "goes to", l->node);
                    break;
                }
                if (l->arc >= na) {
                    BAD("%s: corrupt graph file: hierarchy %s arc %u of rank %u stands for arc %u, beyond the %u arcs",
                        path, kind, k, r, l->arc, na);
                    break;
                }
                const cv_ch_unpack *u = &a->ch_arcs[l->arc];
                uint32_t tail = node_of[down ? l->node : r], head = node_of[down ? r : l->node];
                if (l->weight < u->duration_ds)
                    BAD("%s: corrupt graph file: hierarchy %s arc %u of rank %u weighs %u, less than the %u ds it "
                        "lasts",
                        path, kind, k, r, l->weight, u->duration_ds);
                uint32_t *e2 = &ends[2 * (size_t)l->arc];
                if (!rc && e2[0] != UINT32_MAX && (e2[0] != tail || e2[1] != head))
                    BAD("%s: corrupt graph file: hierarchy arc %u joins nodes %u and %u in one link, %u and %u in "
                        "another",
                        path, l->arc, e2[0], e2[1], tail, head);
                e2[0] = tail;
                e2[1] = head;
                if (!rc && u->second == CV_CH_ORIGINAL) {
                    const cv_edge *e = &a->edges[u->first >> 1];
                    uint32_t from = (u->first & 1) ? e->v : e->u, to = (u->first & 1) ? e->u : e->v;
                    if (junction[tail] != from || junction[head] != to)
                        BAD("%s: corrupt graph file: hierarchy %s arc %u of rank %u joins nodes %u and %u (junctions "
                            "%u and %u), but stands for edge %u from junction %u to %u",
                            path, kind, k, r, tail, head, junction[tail], junction[head], u->first >> 1, from, to);
                }
            }
    }
    /* shortcuts whose ends are known: the first half leaves the tail, the second reaches the head, and they meet
       at a node contracted before both ends (halves of arcs no link uses any more are not known) */
    for (uint32_t i = na; i-- > 0 && !rc;) {
        const cv_ch_unpack *u = &a->ch_arcs[i];
        uint32_t *e2 = &ends[2 * (size_t)i];
        if (u->second == CV_CH_ORIGINAL || e2[0] == UINT32_MAX)
            continue;
        uint32_t *x = &ends[2 * (size_t)u->first], *y = &ends[2 * (size_t)u->second];
        /* a half no link uses takes its known ends from the shortcut */
        if (x[0] == UINT32_MAX)
            x[0] = e2[0];
        if (y[1] == UINT32_MAX)
            y[1] = e2[1];
        if (x[1] == UINT32_MAX)
            x[1] = y[0];
        if (y[0] == UINT32_MAX)
            y[0] = x[1];
        uint32_t mid = x[1];
        if (x[0] != e2[0] || y[1] != e2[1] || x[1] != y[0] ||
            (mid != UINT32_MAX && (a->ch_rank[mid] >= a->ch_rank[e2[0]] || a->ch_rank[mid] >= a->ch_rank[e2[1]])))
            BAD("%s: corrupt graph file: hierarchy shortcut %u from node %u to node %u does not unpack into arcs %u "
                "and %u meeting at a node below both",
                path, i, e2[0], e2[1], u->first, u->second);
    }
#undef BAD
    free(node_of);
    free(ends);
    return rc;
}

/* The street names: the string table is UTF-8 (JSON carries it as it is) and ends with a NUL, every name entry
   points at the start of one of its strings, every edge at a name entry. */
static int check_names(const cv_graph *g, const char *path, cv_error *err)
{
    const cv_graph_header *h = &g->hdr;
    const unsigned char *c = (const unsigned char *)g->a.name_chars;
    uint32_t n = h->nname_chars;
    if ((h->nnames > 0 || n > 0) && (n == 0 || c[0] != 0 || c[n - 1] != 0))
        return cv_fail(err, CV_ECORRUPT, "%s: corrupt graph file: the street name table is not terminated", path);
    for (uint32_t i = 0; i < n;) {
        size_t k = cv_utf8_seq(c + i, n - i);
        if (!k)
            return cv_fail(err, CV_ECORRUPT, "%s: corrupt graph file: street name byte %u is not UTF-8", path, i);
        i += (uint32_t)k;
    }
    for (uint32_t i = 0; i < h->nnames; i++) {
        const uint32_t off[3] = {g->a.names[i].name, g->a.names[i].ref, g->a.names[i].destination};
        for (int k = 0; k < 3; k++)
            if (off[k] >= n || (off[k] > 0 && c[off[k] - 1] != 0))
                return cv_fail(err, CV_ECORRUPT, "%s: corrupt graph file: street name %u refers outside the name table",
                               path, i);
    }
    for (uint32_t e = 0; e < h->nedges; e++)
        if (g->a.edge_name[e] >= h->nnames)
            return cv_fail(err, CV_ECORRUPT, "%s: corrupt graph file: edge %u has a street name out of range", path, e);
    return 0;
}

/* Every routing node's junction, into *out (malloc'ed): a junction is its own, a copy that of the split junction
   whose copies it is among. No copy may belong to two split junctions (the counts adding up then means every copy
   belongs to one), and a copy stands where its junction does. Returns 0 or CV_ECORRUPT (CV_ENOMEM). */
static int junction_map(const cv_graph *g, const char *path, uint32_t **out, cv_error *err)
{
    const cv_graph_header *h = &g->hdr;
    const cv_graph_arrays *a = &g->a;
    uint32_t *j = malloc((h->nnodes ? h->nnodes : 1) * sizeof *j);
    if (!j)
        return cv_fail(err, CV_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < h->nnodes; i++)
        j[i] = i < h->njunctions ? i : UINT32_MAX;
    for (uint32_t i = 0; i < h->nsplits; i++) {
        const cv_split *sp = &a->splits[i];
        for (uint32_t c = sp->first_copy; c < sp->first_copy + sp->count; c++) {
            int rc = 0;
            if (j[c] != UINT32_MAX)
                rc = cv_fail(err, CV_ECORRUPT,
                             "%s: corrupt graph file: routing node %u is a copy of both junction %u "
                             "and junction %u",
                             path, c, j[c], sp->node);
            else if (a->node_coord[c].lon != a->node_coord[sp->node].lon ||
                     a->node_coord[c].lat != a->node_coord[sp->node].lat)
                rc = cv_fail(err, CV_ECORRUPT,
                             "%s: corrupt graph file: routing node %u, a copy of junction %u, is "
                             "not where its junction is",
                             path, c, sp->node);
            if (rc) {
                free(j);
                return rc;
            }
            j[c] = sp->node;
        }
    }
    *out = j;
    return 0;
}

/* Every arc runs along its edge from the junction of its tail node to the junction of its head node (an arc of
   a copy leaves the junction the copy stands for). */
static int check_arc_ends(const cv_graph *g, const uint32_t *junction, const char *path, cv_error *err)
{
    const cv_graph_header *h = &g->hdr;
    const cv_graph_arrays *a = &g->a;
    for (int in = 0; in < 2; in++) {
        const uint32_t *first = in ? a->in_first : a->out_first;
        const cv_arc *arcs = in ? a->in_arcs : a->out_arcs;
        for (uint32_t x = 0; x < h->nnodes; x++)
            for (uint32_t k = first[x]; k < first[x + 1]; k++) {
                const cv_edge *e = &a->edges[arcs[k].edge >> 1];
                uint32_t from = (arcs[k].edge & 1) ? e->v : e->u, to = (arcs[k].edge & 1) ? e->u : e->v;
                uint32_t tail = in ? arcs[k].node : x, head = in ? x : arcs[k].node;
                if (junction[tail] != from || junction[head] != to)
                    return cv_fail(err, CV_ECORRUPT,
                                   "%s: corrupt graph file: %s-arc %u from routing node %u "
                                   "(junction %u) to %u (junction %u) runs along edge %u from junction %u to %u",
                                   path, in ? "in" : "out", k, tail, junction[tail], head, junction[head],
                                   arcs[k].edge >> 1, from, to);
            }
    }
    return 0;
}

static int check_contents(const cv_graph *g, const char *path, cv_error *err)
{
    const cv_graph_header *h = &g->hdr;
    const cv_graph_arrays *a = &g->a;
#define BAD(...) cv_fail(err, CV_ECORRUPT, __VA_ARGS__)
    if (h->njunctions > h->nnodes)
        return BAD("%s: corrupt graph file: more junctions than routing nodes", path);
    uint64_t copies = 0;
    for (uint32_t i = 0; i < h->nsplits; i++) {
        const cv_split *sp = &a->splits[i];
        if (sp->node >= h->njunctions || (i > 0 && sp->node <= a->splits[i - 1].node) ||
            sp->first_copy < h->njunctions || (uint64_t)sp->first_copy + sp->count > h->nnodes || sp->nin == 0 ||
            sp->count < sp->nin - 1 || (uint64_t)sp->first_in + sp->nin > h->nsplit_in)
            return BAD("%s: corrupt graph file: split junction %u is out of range", path, i);
        copies += sp->count;
    }
    if (copies != (uint64_t)h->nnodes - h->njunctions)
        return BAD("%s: corrupt graph file: split junction copies do not add up", path);
    if ((h->nnodes > 0 || h->ncomponents > 0) && h->largest_component >= h->ncomponents)
        return BAD("%s: corrupt graph file: largest component id out of range", path);
    for (uint32_t i = 0; i < h->nnodes; i++)
        if (a->node_component[i] >= h->ncomponents)
            return BAD("%s: corrupt graph file: node %u has component %u of %u", path, i, a->node_component[i],
                       h->ncomponents);
    if (check_csr(a->edge_first_point, h->nedges, h->npoints))
        return BAD("%s: corrupt graph file: edge geometry offsets are inconsistent", path);
    for (uint32_t e = 0; e < h->nedges; e++) {
        const cv_edge *ed = &a->edges[e];
        if (ed->u >= h->njunctions || ed->v >= h->njunctions)
            return BAD("%s: corrupt graph file: edge %u has an end node out of range", path, e);
        if (a->edge_first_point[e + 1] - a->edge_first_point[e] < 2)
            return BAD("%s: corrupt graph file: edge %u has fewer than two points", path, e);
        if (ed->duration_ds == 0 || ed->duration_back_ds == 0)
            return BAD("%s: corrupt graph file: edge %u has a zero travel time", path, e);
        if (ed->flags & ~CV_EDGE_ALL_FLAGS)
            return BAD("%s: corrupt graph file: edge %u has unknown flags 0x%02x", path, e, ed->flags);
    }
    if (check_csr(a->out_first, h->nnodes, h->narcs) || check_csr(a->in_first, h->nnodes, h->narcs))
        return BAD("%s: corrupt graph file: adjacency offsets are inconsistent", path);
    for (uint32_t i = 0; i < h->narcs; i++) {
        if (a->out_arcs[i].node >= h->nnodes || a->in_arcs[i].node >= h->nnodes ||
            (a->out_arcs[i].edge >> 1) >= h->nedges || (a->in_arcs[i].edge >> 1) >= h->nedges ||
            a->out_arcs[i].weight == 0 || a->in_arcs[i].weight == 0)
            return BAD("%s: corrupt graph file: arc %u refers outside the graph", path, i);
    }
    /* restrictions: arcs of the graph, each arriving where the next leaves */
    for (uint32_t i = 0; i < h->nrestrictions; i++) {
        const cv_restriction *r = &a->restrictions[i];
        int bad =
            r->narcs < 2 || r->kind > 1 || r->via_ways > 1 || (uint64_t)r->first + r->narcs > h->nrestriction_arcs;
        for (uint32_t k = 0; !bad && k < r->narcs; k++) {
            uint32_t c = a->restriction_arcs[r->first + k];
            if ((c >> 1) >= h->nedges) {
                bad = 1;
            } else if (k > 0) {
                uint32_t p = a->restriction_arcs[r->first + k - 1];
                const cv_edge *x = &a->edges[p >> 1], *y = &a->edges[c >> 1];
                bad = ((p & 1) ? x->u : x->v) != ((c & 1) ? y->v : y->u);
            }
        }
        if (bad)
            return BAD("%s: corrupt graph file: restriction %u refers outside the graph", path, i);
    }
    /* split junctions: their arriving arcs arrive there, in ascending order */
    for (uint32_t i = 0; i < h->nsplits; i++) {
        const cv_split *sp = &a->splits[i];
        for (uint32_t k = 0; k < sp->nin; k++) {
            uint32_t c = a->split_in[sp->first_in + k];
            const cv_edge *e = (c >> 1) < h->nedges ? &a->edges[c >> 1] : NULL;
            if (!e || ((c & 1) ? e->u : e->v) != sp->node || (k > 0 && c <= a->split_in[sp->first_in + k - 1]))
                return BAD("%s: corrupt graph file: split junction %u lists an arc that does not arrive there", path,
                           i);
        }
    }
    uint64_t ncells = (uint64_t)h->grid_cols * h->grid_rows;
    if (h->grid_cell_lon <= 0 || h->grid_cell_lat <= 0 || ncells == 0)
        return BAD("%s: corrupt graph file: spatial grid has no cells", path);
    if (check_csr(a->grid_first, ncells, a->ngrid_items))
        return BAD("%s: corrupt graph file: spatial grid offsets are inconsistent", path);
    for (uint64_t i = 0; i < a->ngrid_items; i++) {
        const cv_grid_item *it = &a->grid_items[i];
        if (it->edge >= h->nedges || it->point < a->edge_first_point[it->edge] ||
            (uint64_t)it->point + 1 >= a->edge_first_point[it->edge + 1])
            return BAD("%s: corrupt graph file: spatial grid item %llu refers outside the graph", path,
                       (unsigned long long)i);
    }
#undef BAD
    uint32_t *junction = NULL;
    int rc = junction_map(g, path, &junction, err);
    if (rc)
        return rc;
    rc = check_arc_ends(g, junction, path, err);
    if (!rc)
        rc = check_ch(g, junction, path, err);
    free(junction);
    return rc ? rc : check_names(g, path, err);
}

cv_graph *cv_graph_open(const char *path, cv_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cv_fail(err, CV_EIO, "%s: cannot open graph file: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        cv_fail(err, CV_EIO, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    uint64_t fsize = (uint64_t)st.st_size;
    if (fsize < 8) {
        cv_fail(err, CV_EFORMAT, "%s: not a covoit graph file (too short: %llu bytes)", path,
                (unsigned long long)fsize);
        close(fd);
        return NULL;
    }
    void *map = mmap(NULL, (size_t)fsize, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        cv_fail(err, CV_EIO, "%s: cannot map: %s", path, strerror(errno));
        return NULL;
    }
    cv_graph *g = calloc(1, sizeof *g);
    if (!g) {
        munmap(map, (size_t)fsize);
        cv_fail(err, CV_ENOMEM, "out of memory");
        return NULL;
    }
    g->map = map;
    g->map_size = (size_t)fsize;
    const unsigned char *base = map;
    if (memcmp(base, CV_GRAPH_MAGIC, 8) != 0) {
        cv_fail(err, CV_EFORMAT, "%s: not a covoit graph file (wrong magic); build one with `covoit import`", path);
        goto fail;
    }
    if (fsize < 8 + 2 * sizeof(uint32_t)) {
        cv_fail(err, CV_ECORRUPT, "%s: truncated graph file (%llu bytes)", path, (unsigned long long)fsize);
        goto fail;
    }
    uint32_t version;
    memcpy(&version, base + 8, sizeof version);
    if (version != CV_GRAPH_VERSION) {
        cv_fail(err, CV_EVERSION,
                "%s: graph file format version %u, this covoit reads version %u; re-import it with `covoit import`%s",
                path, version, CV_GRAPH_VERSION, version > CV_GRAPH_VERSION ? " or upgrade covoit" : "");
        goto fail;
    }
    if (fsize < sizeof(cv_graph_header)) {
        cv_fail(err, CV_ECORRUPT, "%s: truncated graph file (%llu bytes, the header alone needs %zu)", path,
                (unsigned long long)fsize, sizeof(cv_graph_header));
        goto fail;
    }
    memcpy(&g->hdr, base, sizeof g->hdr);
    cv_graph_header *h = &g->hdr;
    if (h->header_size != sizeof *h || h->nsections != CV_SEC_COUNT || header_crc(h) != h->header_crc32) {
        cv_fail(err, CV_ECORRUPT, "%s: corrupt graph file: header checksum mismatch", path);
        goto fail;
    }
    if (h->file_size != fsize) {
        cv_fail(err, CV_ECORRUPT, "%s: truncated or extended graph file: %llu bytes, header says %llu", path,
                (unsigned long long)fsize, (unsigned long long)h->file_size);
        goto fail;
    }
    sec_src want[CV_SEC_COUNT];
    cv_graph_arrays counts = {0};
    counts.ngrid_items = h->sections[CV_SEC_GRID_ITEM].count;
    section_sources(h, &counts, want);
    static const char *const names[CV_SEC_COUNT] = {"node coordinates",      "node components",
                                                    "component sizes",       "edges",
                                                    "edge geometry offsets", "geometry points",
                                                    "out-arc offsets",       "out-arcs",
                                                    "in-arc offsets",        "in-arcs",
                                                    "turn restrictions",     "spatial grid offsets",
                                                    "spatial grid items",    "split junctions",
                                                    "hierarchy ranks",       "hierarchy up offsets",
                                                    "hierarchy up arcs",     "hierarchy down offsets",
                                                    "hierarchy down arcs",   "hierarchy arc table",
                                                    "edge street names",     "street names",
                                                    "street name strings",   "restriction arcs",
                                                    "split junction arcs"};
    const void *ptr[CV_SEC_COUNT];
    for (int i = 0; i < CV_SEC_COUNT; i++) {
        const cv_graph_section *s = &h->sections[i];
        if (s->elem_size != want[i].elem || s->count != want[i].count ||
            s->count > UINT64_MAX / (s->elem_size ? s->elem_size : 1) || s->size != s->count * s->elem_size ||
            s->offset % CV_GRAPH_ALIGN != 0 || s->offset < sizeof *h || s->offset > fsize ||
            s->size > fsize - s->offset) {
            cv_fail(err, CV_ECORRUPT, "%s: corrupt graph file: section '%s' does not fit the file", path, names[i]);
            goto fail;
        }
        ptr[i] = base + s->offset;
        if (crc_of(ptr[i], s->size) != s->crc32) {
            cv_fail(err, CV_ECORRUPT, "%s: corrupt graph file: checksum mismatch in section '%s'", path, names[i]);
            goto fail;
        }
    }
    g->a = (cv_graph_arrays){
        ptr[CV_SEC_NODE_COORD],       ptr[CV_SEC_NODE_COMPONENT], ptr[CV_SEC_COMPONENT_SIZE], ptr[CV_SEC_EDGE],
        ptr[CV_SEC_EDGE_FIRST_POINT], ptr[CV_SEC_POINT],          ptr[CV_SEC_OUT_FIRST],      ptr[CV_SEC_OUT_ARC],
        ptr[CV_SEC_IN_FIRST],         ptr[CV_SEC_IN_ARC],         ptr[CV_SEC_RESTRICTION],    ptr[CV_SEC_GRID_FIRST],
        ptr[CV_SEC_GRID_ITEM],        counts.ngrid_items,         ptr[CV_SEC_SPLIT],          ptr[CV_SEC_CH_RANK],
        ptr[CV_SEC_CH_UP_FIRST],      ptr[CV_SEC_CH_UP],          ptr[CV_SEC_CH_DOWN_FIRST],  ptr[CV_SEC_CH_DOWN],
        ptr[CV_SEC_CH_ARC],           ptr[CV_SEC_EDGE_NAME],      ptr[CV_SEC_NAME],           ptr[CV_SEC_NAME_CHAR],
        ptr[CV_SEC_RESTRICTION_ARC],  ptr[CV_SEC_SPLIT_IN]};
    if (check_contents(g, path, err) != 0)
        goto fail;
    return g;
fail:
    cv_graph_close(g);
    return NULL;
}

void cv_graph_close(cv_graph *g)
{
    if (!g)
        return;
    if (g->map)
        munmap(g->map, g->map_size);
    free(g);
}

static const cv_split *find_split(const cv_graph *g, uint32_t node)
{
    uint32_t lo = 0, hi = g->hdr.nsplits;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (g->a.splits[mid].node < node)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g->hdr.nsplits && g->a.splits[lo].node == node ? &g->a.splits[lo] : NULL;
}

static int has_arc(const uint32_t *first, const cv_arc *arcs, uint32_t node, uint32_t code)
{
    for (uint32_t k = first[node]; k < first[node + 1]; k++)
        if (arcs[k].edge == code)
            return 1;
    return 0;
}

uint32_t cv_graph_arc_head(const cv_graph *g, uint32_t code)
{
    const cv_edge *e = &g->a.edges[code >> 1];
    uint32_t h = (code & 1) ? e->u : e->v;
    const cv_split *sp = find_split(g, h);
    if (!sp)
        return h;
    const uint32_t *in = g->a.split_in + sp->first_in;
    uint32_t lo = 0, hi = sp->nin;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (in[mid] < code)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* an arc that cannot arrive here (not drivable that way) has no copy: the junction itself */
    return lo < sp->nin && in[lo] == code && lo > 0 ? sp->first_copy + lo - 1 : h;
}

uint32_t cv_graph_arc_tails(const cv_graph *g, uint32_t code, uint32_t *tails, uint32_t max)
{
    const cv_edge *e = &g->a.edges[code >> 1];
    uint32_t t = (code & 1) ? e->v : e->u;
    uint32_t n = 0;
    if (has_arc(g->a.out_first, g->a.out_arcs, t, code)) {
        if (n < max)
            tails[n] = t;
        n++;
    }
    const cv_split *sp = find_split(g, t);
    for (uint32_t c = sp ? sp->first_copy : 0; sp && c < sp->first_copy + sp->count; c++)
        if (has_arc(g->a.out_first, g->a.out_arcs, c, code)) {
            if (n < max)
                tails[n] = c;
            n++;
        }
    return n;
}

uint32_t cv_graph_node_copies(const cv_graph *g, uint32_t j, uint32_t *out, uint32_t max)
{
    const cv_split *sp = find_split(g, j);
    uint32_t n = 1 + (sp ? sp->count : 0);
    for (uint32_t k = 0; k < n && k < max; k++)
        out[k] = k == 0 ? j : sp->first_copy + k - 1;
    return n < max ? n : max;
}
