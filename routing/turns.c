/* turns.c — import-time routing arcs: one arc per drivable edge direction, and junctions that carry turn
   restrictions split into one node per incoming arc so that every query honours them without knowing they exist. */
#include <stdlib.h>
#include <string.h>

#include "graph_build.h"

#define NONE UINT32_MAX

typedef struct base_arc {
    uint32_t tail, head, weight, code;
} base_arc;

static int cmp_restr_via(const void *a, const void *b)
{
    const cv_restriction *x = a, *y = b;
    return (x->via_node > y->via_node) - (x->via_node < y->via_node);
}

/* May a route arrive at node u over arc b and leave over arc a? */
static int turn_allowed(const cv_edge *edges, const base_arc *b, const base_arc *a, const cv_restriction *r,
                        uint32_t nr)
{
    uint32_t eb = b->code >> 1, ea = a->code >> 1;
    if (eb == ea && b->code != a->code && edges[ea].u != edges[ea].v)
        return 0; /* no U-turn back along the same road at a restricted junction */
    for (uint32_t i = 0; i < nr; i++) {
        if (r[i].from_edge != eb)
            continue;
        if (r[i].kind == 0 && r[i].to_edge == ea)
            return 0;
        if (r[i].kind == 1 && r[i].to_edge != ea)
            return 0;
    }
    return 1;
}

int cv_build_arcs(const cv_edge *edges, uint32_t nedges, uint32_t nn, cv_restriction *restr, uint32_t nr,
                  cv_arcs_out *o)
{
    memset(o, 0, sizeof *o);
    uint8_t *has_through = calloc(nn ? nn : 1, 1);
    base_arc *ba = malloc((2 * (size_t)nedges + 1) * sizeof *ba);
    uint32_t *bin_first = calloc((size_t)nn + 1, sizeof *bin_first); /* base in-arcs per node */
    uint32_t *bin = NULL, *copy_of_in = NULL;
    uint8_t *split = calloc(nn ? nn : 1, 1);
    int rc = CV_ENOMEM;
    if (!has_through || !ba || !bin_first || !split)
        goto done;
    for (uint32_t e = 0; e < nedges; e++)
        if (!(edges[e].flags & CV_EDGE_NO_THROUGH))
            has_through[edges[e].u] = has_through[edges[e].v] = 1;
    uint32_t nb = 0;
    for (uint32_t e = 0; e < nedges; e++)
        for (uint32_t dir = 0; dir < 2; dir++) {
            if (!(edges[e].flags & (dir ? CV_EDGE_BACKWARD : CV_EDGE_FORWARD)))
                continue;
            uint32_t t = dir ? edges[e].v : edges[e].u, h = dir ? edges[e].u : edges[e].v;
            uint32_t w = edges[e].duration_ds;
            /* entering a no-through road from a junction that also has an open road costs the penalty */
            if ((edges[e].flags & CV_EDGE_NO_THROUGH) && has_through[t])
                w += CV_NO_THROUGH_PENALTY;
            ba[nb++] = (base_arc){t, h, w, e << 1 | dir};
            bin_first[h + 1]++;
        }
    for (uint32_t i = 0; i < nn; i++)
        bin_first[i + 1] += bin_first[i];
    bin = malloc((nb ? nb : 1) * sizeof *bin);
    copy_of_in = malloc((nb ? nb : 1) * sizeof *copy_of_in);
    uint32_t *fill = malloc((nn ? nn : 1) * sizeof *fill);
    if (!bin || !copy_of_in || !fill) {
        free(fill);
        goto done;
    }
    memcpy(fill, bin_first, nn * sizeof *fill);
    for (uint32_t i = 0; i < nb; i++)
        bin[fill[ba[i].head]++] = i;
    free(fill);

    /* split every via node: its first in-arc keeps the node's id, the others get new ids after nn */
    qsort(restr, nr, sizeof *restr, cmp_restr_via);
    for (uint32_t i = 0; i < nr; i++)
        split[restr[i].via_node] = 1;
    uint32_t nextra = 0, nsplits = 0;
    for (uint32_t v = 0; v < nn; v++)
        if (split[v]) {
            nsplits++;
            uint32_t indeg = bin_first[v + 1] - bin_first[v];
            nextra += indeg > 1 ? indeg - 1 : 0;
        }
    o->splits = malloc((nsplits ? nsplits : 1) * sizeof *o->splits);
    o->copy_of = malloc((nextra ? nextra : 1) * sizeof *o->copy_of);
    if (!o->splits || !o->copy_of)
        goto done;
    uint32_t next = nn;
    for (uint32_t v = 0; v < nn; v++) {
        if (!split[v])
            continue;
        uint32_t indeg = bin_first[v + 1] - bin_first[v];
        o->splits[o->nsplits++] = (cv_split){v, next, indeg > 1 ? indeg - 1 : 0};
        for (uint32_t k = bin_first[v]; k < bin_first[v + 1]; k++) {
            uint32_t id = k == bin_first[v] ? v : next++;
            copy_of_in[bin[k]] = id;
            if (id != v)
                o->copy_of[id - nn] = v;
        }
    }
    uint32_t NN = next;

    /* routing arcs: heads are the copy for the arriving arc; tails every copy whose arrival allows the turn */
    size_t cap = nb + 16, n = 0;
    base_arc *ra = malloc(cap * sizeof *ra);
    if (!ra)
        goto done;
    for (uint32_t i = 0; i < nb; i++) {
        const base_arc *a = &ba[i];
        uint32_t head = split[a->head] ? copy_of_in[i] : a->head;
        uint32_t u = a->tail;
        uint32_t k0 = bin_first[u], k1 = bin_first[u + 1];
        if (!split[u] || k0 == k1) {
            if (n == cap) {
                base_arc *q = realloc(ra, (cap *= 2) * sizeof *ra);
                if (!q) { free(ra); goto done; }
                ra = q;
            }
            ra[n++] = (base_arc){u, head, a->weight, a->code};
            continue;
        }
        /* restrictions at u: a contiguous run of the list sorted by via node */
        uint32_t lo = 0, hi = nr;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (restr[mid].via_node < u)
                lo = mid + 1;
            else
                hi = mid;
        }
        uint32_t r1 = lo;
        while (r1 < nr && restr[r1].via_node == u)
            r1++;
        for (uint32_t k = k0; k < k1; k++) {
            const base_arc *b = &ba[bin[k]];
            if (!turn_allowed(edges, b, a, restr + lo, r1 - lo))
                continue;
            if (n == cap) {
                base_arc *q = realloc(ra, (cap *= 2) * sizeof *ra);
                if (!q) { free(ra); goto done; }
                ra = q;
            }
            ra[n++] = (base_arc){copy_of_in[bin[k]], head, a->weight, a->code};
        }
    }
    o->nnodes = NN;
    o->narcs = (uint32_t)n;
    o->out_first = calloc((size_t)NN + 1, sizeof *o->out_first);
    o->in_first = calloc((size_t)NN + 1, sizeof *o->in_first);
    o->out_arcs = malloc((n ? n : 1) * sizeof *o->out_arcs);
    o->in_arcs = malloc((n ? n : 1) * sizeof *o->in_arcs);
    uint32_t *of = malloc(((size_t)NN + 1) * sizeof *of), *inf = malloc(((size_t)NN + 1) * sizeof *inf);
    if (!o->out_first || !o->in_first || !o->out_arcs || !o->in_arcs || !of || !inf) {
        free(ra), free(of), free(inf);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        o->out_first[ra[i].tail + 1]++;
        o->in_first[ra[i].head + 1]++;
    }
    for (uint32_t i = 0; i < NN; i++) {
        o->out_first[i + 1] += o->out_first[i];
        o->in_first[i + 1] += o->in_first[i];
    }
    memcpy(of, o->out_first, NN * sizeof *of);
    memcpy(inf, o->in_first, NN * sizeof *inf);
    for (size_t i = 0; i < n; i++) {
        o->out_arcs[of[ra[i].tail]++] = (cv_arc){ra[i].head, ra[i].weight, ra[i].code};
        o->in_arcs[inf[ra[i].head]++] = (cv_arc){ra[i].tail, ra[i].weight, ra[i].code};
    }
    free(ra), free(of), free(inf);
    rc = 0;
done:
    free(has_through), free(ba), free(bin_first), free(bin), free(copy_of_in), free(split);
    if (rc)
        cv_arcs_free(o);
    return rc;
}

void cv_arcs_free(cv_arcs_out *o)
{
    free(o->out_first), free(o->out_arcs), free(o->in_first), free(o->in_arcs), free(o->splits), free(o->copy_of);
    memset(o, 0, sizeof *o);
}
