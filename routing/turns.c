/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* turns.c — import-time routing arcs: one arc per drivable edge direction, with turn restrictions compiled into
   the graph so that every query honours them without knowing they exist.

   A restriction is a sequence of arcs: from, the via ways' arcs (none for a via node), to. The routing graph
   remembers, at each node, the part of a restriction sequence just driven: an Aho–Corasick automaton over the
   restrictions' prefixes, whose states are the routing nodes. A junction where some prefix ends (a via node, the
   far end of a via way) is split into one node per arriving arc (the state "just arrived by that arc"), plus one
   node per longer prefix ending there (the state "just drove from, then the via ways so far"). Every other
   junction stays one node with no memory. A node keeps the turns allowed in its state: a no_* restriction whose
   prefix is a suffix of the state forbids its last arc, an only_* one every other arc, and a U-turn back along the
   arriving road is not allowed at a split junction unless it is the only way on. */
#include <stdlib.h>
#include <string.h>

#include "routing/graph_build.h"
#include "routing/order_int.h"

#define NONE UINT32_MAX
#define ROOT 0u /* the automaton state with no memory */

typedef struct base_arc {
    uint32_t tail, head, weight, code;
} base_arc;

/* A state deeper than one arc: a prefix of length >= 2. */
typedef struct deep {
    uint32_t parent; /* automaton state of the prefix without its last arc */
    uint32_t arc;    /* base arc index of its last arc */
    uint32_t depth;
    uint32_t fail; /* the longest proper suffix that is a state */
    uint32_t id;   /* routing node */
} deep;

/* A restriction's end: the state of its full prefix, and what it says of the next arc. */
typedef struct rule {
    uint32_t state;
    uint32_t to;   /* arc code */
    uint32_t kind; /* 0 no_, 1 only_ */
} rule;

typedef struct automaton {
    const cv_edge *edges;
    const base_arc *ba;
    uint32_t nb;                /* base arcs; states 1 .. nb are "just arrived by base arc s - 1" */
    const uint32_t *code_to_ba; /* per arc code: base arc index or NONE (not drivable) */
    const uint8_t *split;
    deep *d; /* states nb + 1 + i */
    uint32_t nd, capd;
    uint32_t *hash; /* open addressing on (parent, arc): deep index + 1, 0 empty */
    uint32_t hslots;
    rule *rules; /* sorted by state */
    uint32_t nrules;
} automaton;

static uint32_t hash2(uint32_t a, uint32_t b)
{
    uint64_t h = ((uint64_t)a << 32 | b) * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 32);
}

/* Child state of `state` by base arc i among the deep states, or NONE. */
static uint32_t deep_child(const automaton *m, uint32_t state, uint32_t i)
{
    if (!m->hslots)
        return NONE;
    for (uint32_t j = hash2(state, i) & (m->hslots - 1);; j = (j + 1) & (m->hslots - 1)) {
        uint32_t v = m->hash[j];
        if (!v)
            return NONE;
        const deep *x = &m->d[v - 1];
        if (x->parent == state && x->arc == i)
            return m->nb + v; /* nb + 1 + (v - 1) */
    }
}

static int deep_add(automaton *m, uint32_t state, uint32_t i, uint32_t depth, uint32_t *out)
{
    if ((m->nd + 1) * 2 > m->hslots) {
        uint32_t ns = m->hslots ? m->hslots * 2 : 64;
        uint32_t *nh = calloc(ns, sizeof *nh);
        if (!nh)
            return CV_ENOMEM;
        for (uint32_t k = 0; k < m->nd; k++) {
            uint32_t j = hash2(m->d[k].parent, m->d[k].arc) & (ns - 1);
            while (nh[j])
                j = (j + 1) & (ns - 1);
            nh[j] = k + 1;
        }
        free(m->hash);
        m->hash = nh, m->hslots = ns;
    }
    if (m->nd == m->capd) {
        uint32_t nc = m->capd ? m->capd * 2 : 64;
        deep *nd = realloc(m->d, nc * sizeof *nd);
        if (!nd)
            return CV_ENOMEM;
        m->d = nd, m->capd = nc;
    }
    m->d[m->nd] = (deep){state, i, depth, ROOT, NONE};
    uint32_t j = hash2(state, i) & (m->hslots - 1);
    while (m->hash[j])
        j = (j + 1) & (m->hslots - 1);
    m->hash[j] = ++m->nd;
    *out = m->nb + m->nd;
    return 0;
}

static uint32_t state_fail(const automaton *m, uint32_t s)
{
    return s > m->nb ? m->d[s - m->nb - 1].fail : ROOT;
}

/* The state after `state` drives base arc i (the automaton's goto with failure links). */
static uint32_t step(const automaton *m, uint32_t state, uint32_t i)
{
    for (;;) {
        if (state == ROOT)
            return m->split[m->ba[i].head] ? 1 + i : ROOT;
        uint32_t c = deep_child(m, state, i);
        if (c != NONE)
            return c;
        state = state_fail(m, state);
    }
}

/* Base arc index of the last arc of a state (ROOT has none). */
static uint32_t last_arc(const automaton *m, uint32_t s)
{
    return s > m->nb ? m->d[s - m->nb - 1].arc : s - 1;
}

static int cmp_rule(const void *a, const void *b)
{
    const rule *x = a, *y = b;
    if (x->state != y->state)
        return (x->state > y->state) - (x->state < y->state);
    return (x->to > y->to) - (x->to < y->to);
}

/* May a route in `state` take base arc i? outdeg is the number of base arcs leaving the junction. */
static int allowed(const automaton *m, uint32_t state, uint32_t i, uint32_t outdeg)
{
    uint32_t code = m->ba[i].code;
    /* no U-turn back along the arriving road at a split junction (a loop driven back the way it came included),
       unless the road has no other way on there (a dead end for that arrival: turning round is what a driver
       does), or an only_u_turn restriction names it */
    int uturn_banned = 0;
    if (state != ROOT) {
        uint32_t last = m->ba[last_arc(m, state)].code;
        uturn_banned = (last >> 1) == (code >> 1) && last != code && outdeg > 1;
    }
    int named = 0;
    for (uint32_t s = state; s != ROOT; s = state_fail(m, s)) {
        uint32_t lo = 0, hi = m->nrules;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (m->rules[mid].state < s)
                lo = mid + 1;
            else
                hi = mid;
        }
        int any_only = 0, only_ok = 0;
        for (uint32_t k = lo; k < m->nrules && m->rules[k].state == s; k++) {
            if (m->rules[k].kind == 0 && m->rules[k].to == code)
                return 0;
            if (m->rules[k].kind == 1) {
                any_only = 1;
                only_ok |= m->rules[k].to == code;
            }
        }
        /* several only_* from the same prefix allow any of their targets */
        if (any_only && !only_ok)
            return 0;
        named |= only_ok;
    }
    return !uturn_banned || named;
}

static int push_arc(base_arc **ra, size_t *n, size_t *cap, base_arc a)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 1024;
        base_arc *q = realloc(*ra, nc * sizeof *q);
        if (!q)
            return -1;
        *ra = q, *cap = nc;
    }
    (*ra)[(*n)++] = a;
    return 0;
}

int cv_build_arcs(const cv_edge *edges, uint32_t nedges, uint32_t nn, const cv_restriction *restr, uint32_t nr,
                  const uint32_t *rarcs, const uint8_t *force_split, cv_arcs_out *o)
{
    memset(o, 0, sizeof *o);
    automaton m = {.edges = edges};
    uint8_t *has_through = calloc(nn ? nn : 1, 1);
    base_arc *ba = malloc((2 * (size_t)nedges + 1) * sizeof *ba);
    uint32_t *code_to_ba = malloc((2 * (size_t)nedges + 1) * sizeof *code_to_ba);
    uint32_t *bin_first = calloc((size_t)nn + 1, sizeof *bin_first), *bout_first = calloc((size_t)nn + 1, 4);
    uint32_t *bin = NULL, *bout = NULL, *depth1_id = NULL;
    uint8_t *split = calloc(nn ? nn : 1, 1);
    cv_key_index *order = NULL; /* deep states by a sort key (their depth, or their junction) */
    base_arc *ra = NULL;
    uint8_t *start = NULL;
    uint32_t *start_id = NULL;
    size_t n = 0, cap = 0;
    int rc = CV_ENOMEM;
    if (!has_through || !ba || !code_to_ba || !bin_first || !bout_first || !split)
        goto done;

    /* base arcs, one per drivable edge direction, in code order */
    for (uint32_t e = 0; e < nedges; e++)
        if (!(edges[e].flags & CV_EDGE_NO_THROUGH))
            has_through[edges[e].u] = has_through[edges[e].v] = 1;
    uint32_t nb = 0;
    for (uint32_t e = 0; e < nedges; e++)
        for (uint32_t dir = 0; dir < 2; dir++) {
            code_to_ba[e << 1 | dir] = NONE;
            if (!(edges[e].flags & (dir ? CV_EDGE_BACKWARD : CV_EDGE_FORWARD)))
                continue;
            uint32_t t = dir ? edges[e].v : edges[e].u, h = dir ? edges[e].u : edges[e].v;
            uint32_t w = cv_edge_duration(&edges[e], dir);
            /* entering a no-through road from a junction that also has an open road costs the penalty */
            if ((edges[e].flags & CV_EDGE_NO_THROUGH) && has_through[t])
                w += CV_NO_THROUGH_PENALTY;
            code_to_ba[e << 1 | dir] = nb;
            ba[nb++] = (base_arc){t, h, w, e << 1 | dir};
            bin_first[h + 1]++;
            bout_first[t + 1]++;
        }
    for (uint32_t i = 0; i < nn; i++) {
        bin_first[i + 1] += bin_first[i];
        bout_first[i + 1] += bout_first[i];
    }
    bin = malloc((nb ? nb : 1) * sizeof *bin);
    bout = malloc((nb ? nb : 1) * sizeof *bout);
    depth1_id = malloc((nb ? nb : 1) * sizeof *depth1_id);
    uint32_t *fill = malloc(2 * ((size_t)nn + 1) * sizeof *fill);
    if (!bin || !bout || !depth1_id || !fill) {
        free(fill);
        goto done;
    }
    memcpy(fill, bin_first, nn * sizeof *fill);
    memcpy(fill + nn + 1, bout_first, nn * sizeof *fill);
    for (uint32_t i = 0; i < nb; i++) {
        bin[fill[ba[i].head]++] = i; /* ascending codes per junction: ba is in code order */
        bout[fill[nn + 1 + ba[i].tail]++] = i;
    }
    free(fill);
    m.ba = ba, m.nb = nb, m.code_to_ba = code_to_ba, m.split = split;

    /* split junctions: where a proper prefix of a restriction ends, and where asked */
    for (uint32_t r = 0; r < nr; r++)
        for (uint32_t k = 0; k + 1 < restr[r].narcs; k++) {
            uint32_t i = code_to_ba[rarcs[restr[r].first + k]];
            if (i != NONE)
                split[ba[i].head] = 1;
        }
    for (uint32_t v = 0; force_split && v < nn; v++)
        split[v] |= force_split[v];
    for (uint32_t v = 0; v < nn; v++)
        if (bin_first[v] == bin_first[v + 1])
            split[v] = 0; /* nothing arrives: nothing to remember */

    /* deep states: every prefix of length >= 2, and the rules at the end of each full prefix */
    m.rules = malloc((nr ? nr : 1) * sizeof *m.rules);
    if (!m.rules)
        goto done;
    for (uint32_t r = 0; r < nr; r++) {
        const uint32_t *a = rarcs + restr[r].first;
        uint32_t i0 = code_to_ba[a[0]];
        if (i0 == NONE || !split[ba[i0].head])
            continue; /* cannot happen for a restriction the resolver kept */
        uint32_t s = 1 + i0;
        int ok = 1;
        for (uint32_t k = 1; k + 1 < restr[r].narcs && ok; k++) {
            uint32_t i = code_to_ba[a[k]];
            if (i == NONE) {
                ok = 0;
                break;
            }
            uint32_t c = deep_child(&m, s, i);
            if (c == NONE && deep_add(&m, s, i, k + 1, &c))
                goto done;
            s = c;
        }
        if (ok)
            m.rules[m.nrules++] = (rule){s, a[restr[r].narcs - 1], restr[r].kind};
    }
    qsort(m.rules, m.nrules, sizeof *m.rules, cmp_rule);
    /* failure links, by depth (a parent is always shallower than its child) */
    order = malloc((m.nd ? m.nd : 1) * sizeof *order);
    if (!order)
        goto done;
    for (uint32_t k = 0; k < m.nd; k++)
        order[k] = (cv_key_index){m.d[k].depth, k};
    qsort(order, m.nd, sizeof *order, cv_key_index_cmp);
    for (uint32_t k = 0; k < m.nd; k++) {
        deep *x = &m.d[order[k].index];
        x->fail = step(&m, state_fail(&m, x->parent), x->arc);
    }

    /* routing node ids: per split junction, its arriving arcs (the first keeps the junction's id), then its deep
       states */
    for (uint32_t k = 0; k < m.nd; k++)
        order[k] = (cv_key_index){ba[m.d[k].arc].head, k};
    qsort(order, m.nd, sizeof *order, cv_key_index_cmp);
    /* a route that starts exactly on a split junction has arrived by no arc: it may leave by any, with nothing
       remembered. When no arrival allows some arc that way (a U-turn onto the one road that arrives, a road every
       arrival is forbidden to take, an arc that every arrival takes into a via-way restriction), the junction gets
       one more node, the state with no memory, for such starts */
    start = calloc(nn ? nn : 1, 1);
    start_id = malloc((nn ? nn : 1) * sizeof *start_id);
    if (!start || !start_id)
        goto done;
    uint32_t nsplits = 0, nin = 0, nextra = 0;
    for (uint32_t v = 0; v < nn; v++)
        if (split[v]) {
            nsplits++;
            nin += bin_first[v + 1] - bin_first[v];
            nextra += bin_first[v + 1] - bin_first[v] - 1;
            uint32_t outdeg = bout_first[v + 1] - bout_first[v];
            for (uint32_t k = bout_first[v]; k < bout_first[v + 1] && !start[v]; k++) {
                /* some arrival must allow the arc and lead where a start would (not into a longer restriction) */
                int some = 0;
                uint32_t fresh = step(&m, ROOT, bout[k]);
                for (uint32_t q = bin_first[v]; q < bin_first[v + 1] && !some; q++)
                    some = allowed(&m, 1 + bin[q], bout[k], outdeg) && step(&m, 1 + bin[q], bout[k]) == fresh;
                start[v] = !some;
            }
            nextra += start[v];
        }
    nextra += m.nd;
    o->splits = malloc((nsplits ? nsplits : 1) * sizeof *o->splits);
    o->split_in = malloc((nin ? nin : 1) * sizeof *o->split_in);
    o->copy_of = malloc((nextra ? nextra : 1) * sizeof *o->copy_of);
    if (!o->splits || !o->split_in || !o->copy_of)
        goto done;
    uint32_t next = nn, kd = 0;
    for (uint32_t v = 0; v < nn; v++) {
        if (!split[v])
            continue;
        cv_split *sp = &o->splits[o->nsplits++];
        *sp = (cv_split){v, next, 0, o->nsplit_in, bin_first[v + 1] - bin_first[v]};
        for (uint32_t k = bin_first[v]; k < bin_first[v + 1]; k++) {
            uint32_t id = k == bin_first[v] ? v : next++;
            depth1_id[bin[k]] = id;
            o->split_in[o->nsplit_in++] = ba[bin[k]].code;
            if (id != v)
                o->copy_of[id - nn] = v;
        }
        while (kd < m.nd && order[kd].key < v)
            kd++;
        for (; kd < m.nd && order[kd].key == v; kd++) {
            m.d[order[kd].index].id = next;
            o->copy_of[next - nn] = v;
            next++, o->nstates++;
        }
        if (start[v]) {
            start_id[v] = next;
            o->copy_of[next - nn] = v;
            next++, o->nstarts++;
        }
        sp->count = next - sp->first_copy;
    }
    uint32_t NN = next;

    /* arcs: from every state of every junction, the allowed base arcs, to the state they lead to */
    for (uint32_t u = 0; u < nn; u++) {
        uint32_t k0 = bin_first[u], k1 = bin_first[u + 1];
        /* the states of u: ROOT when not split, else one per arriving arc, then its deep states, then the state
           with no memory when u has one for starts */
        uint32_t nstate = split[u] ? k1 - k0 : 1, dlo = 0, dhi = m.nd, ndeep = 0;
        while (split[u] && dlo < dhi) {
            uint32_t mid = dlo + (dhi - dlo) / 2;
            if (order[mid].key < u)
                dlo = mid + 1;
            else
                dhi = mid;
        }
        while (split[u] && dlo + ndeep < m.nd && order[dlo + ndeep].key == u)
            ndeep++;
        uint32_t nall = nstate + ndeep + (split[u] && start[u]);
        for (uint32_t si = 0; si < nall; si++) {
            uint32_t state, id;
            if (si < nstate) {
                state = split[u] ? 1 + bin[k0 + si] : ROOT;
                id = split[u] ? depth1_id[bin[k0 + si]] : u;
            } else if (si < nstate + ndeep) {
                state = nb + 1 + order[dlo + si - nstate].index;
                id = m.d[order[dlo + si - nstate].index].id;
            } else {
                state = ROOT;
                id = start_id[u];
            }
            for (uint32_t k = bout_first[u]; k < bout_first[u + 1]; k++) {
                uint32_t i = bout[k];
                if (!allowed(&m, state, i, bout_first[u + 1] - bout_first[u]))
                    continue;
                uint32_t to = step(&m, state, i);
                uint32_t head = to == ROOT ? ba[i].head : to <= nb ? depth1_id[to - 1] : m.d[to - nb - 1].id;
                if (push_arc(&ra, &n, &cap, (base_arc){id, head, ba[i].weight, ba[i].code}))
                    goto done;
            }
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
        free(of), free(inf);
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
    free(of), free(inf);
    rc = 0;
done:
    free(has_through), free(ba), free(code_to_ba), free(bin_first), free(bout_first), free(bin), free(bout);
    free(depth1_id), free(split), free(order), free(ra), free(start), free(start_id);
    free(m.d), free(m.hash), free(m.rules);
    if (rc)
        cv_arcs_free(o);
    return rc;
}

void cv_arcs_free(cv_arcs_out *o)
{
    free(o->out_first), free(o->out_arcs), free(o->in_first), free(o->in_arcs), free(o->splits), free(o->copy_of);
    free(o->split_in);
    memset(o, 0, sizeof *o);
}
