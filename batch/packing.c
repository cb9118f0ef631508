/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* packing.c — the solvers of packing.h: LEMON's matching for pairs, exchanges, the greedy rule, GLPK's branch and
   cut for the set-packing program, and the Lagrangian bound. */
#include "batch/packing.h"

#include <glpk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "batch/matching.h"
#include "util/cv_progress.h"

#define MATCHED_WEIGHT 1000000000000LL /* per member with the matched goal: more than any total of km */
#define IMPROVE_PASSES 100

int64_t cv_column_weight(const cv_column *c, cv_pack_goal goal)
{
    return goal == CV_PACK_MATCHED ? MATCHED_WEIGHT * (c->np + 1) + c->saved_dm : c->saved_dm;
}

double cv_column_primary(const cv_column *c, cv_pack_goal goal)
{
    return goal == CV_PACK_MATCHED ? (double)(c->np + 1) : (double)c->saved_dm;
}

/* --- the matching of pairs --- */

typedef struct edge {
    uint32_t a, b; /* a < b */
    int64_t w;
    size_t col;
} edge;

static int by_edge(const void *x, const void *y)
{
    const edge *e = x, *f = y;
    if (e->a != f->a)
        return e->a < f->a ? -1 : 1;
    if (e->b != f->b)
        return e->b < f->b ? -1 : 1;
    if (e->w != f->w)
        return e->w > f->w ? -1 : 1; /* the better direction first */
    return e->col < f->col ? -1 : e->col > f->col;
}

int cv_pack_matching(const cv_column *cols, size_t m, size_t n, cv_pack_goal goal, size_t *chosen, size_t *k,
                     cv_error *err)
{
    edge *es = malloc((m ? m : 1) * sizeof *es);
    cv_wedge *we = malloc((m ? m : 1) * sizeof *we);
    size_t *col = malloc((m ? m : 1) * sizeof *col);
    int64_t *mate = malloc((n ? n : 1) * sizeof *mate);
    int rc = es && we && col && mate ? 0 : cv_fail(err, CV_ENOMEM, "out of memory");
    size_t ne = 0, nw = 0;
    for (size_t i = 0; !rc && i < m; i++)
        if (cols[i].np == 1) {
            uint32_t a = cols[i].d, b = cols[i].p[0];
            es[ne++] = (edge){a < b ? a : b, a < b ? b : a, cv_column_weight(&cols[i], goal), i};
        }
    if (!rc && ne)
        qsort(es, ne, sizeof *es, by_edge);
    for (size_t i = 0; !rc && i < ne; i++)
        if (i == 0 || es[i].a != es[i - 1].a || es[i].b != es[i - 1].b) {
            we[nw] = (cv_wedge){es[i].a, es[i].b, es[i].w};
            col[nw++] = es[i].col;
        }
    if (!rc && cv_max_weight_matching(n, we, nw, mate, NULL))
        rc = cv_fail(err, CV_ENOMEM, "the matching solver ran out of memory");
    *k = 0;
    for (size_t i = 0; !rc && i < nw; i++)
        if (mate[we[i].a] == (int64_t)we[i].b)
            chosen[(*k)++] = col[i];
    free(es), free(we), free(col), free(mate);
    return rc;
}

/* --- exchanges --- */

typedef struct weighed {
    int64_t w;
    size_t col;
} weighed;

static int by_weight(const void *x, const void *y)
{
    const weighed *a = x, *b = y;
    if (a->w != b->w)
        return a->w > b->w ? -1 : 1;
    return a->col < b->col ? -1 : a->col > b->col;
}

static int members(const cv_column *c, uint32_t *out)
{
    out[0] = c->d;
    for (int i = 0; i < c->np; i++)
        out[i + 1] = c->p[i];
    return c->np + 1;
}

int cv_pack_improve(const cv_column *cols, size_t m, size_t n, cv_pack_goal goal, size_t *chosen, size_t *k,
                    cv_error *err)
{
    int64_t *owner = malloc((n ? n : 1) * sizeof *owner);
    char *in = calloc(m ? m : 1, 1);
    weighed *order = malloc((m ? m : 1) * sizeof *order);
    if (!owner || !in || !order) {
        free(owner), free(in), free(order);
        return cv_fail(err, CV_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        owner[i] = -1;
    for (size_t j = 0; j < *k; j++) {
        uint32_t mem[CV_GROUP_MAX + 1];
        int nm = members(&cols[chosen[j]], mem);
        for (int t = 0; t < nm; t++)
            owner[mem[t]] = (int64_t)chosen[j];
        in[chosen[j]] = 1;
    }
    for (size_t i = 0; i < m; i++)
        order[i] = (weighed){cv_column_weight(&cols[i], goal), i};
    if (m)
        qsort(order, m, sizeof *order, by_weight);
    for (int pass = 0; pass < IMPROVE_PASSES; pass++) {
        size_t changed = 0;
        for (size_t r = 0; r < m; r++) {
            size_t c = order[r].col;
            if (in[c])
                continue;
            uint32_t mem[CV_GROUP_MAX + 1];
            int nm = members(&cols[c], mem), nx = 0;
            int64_t gain = cv_column_weight(&cols[c], goal), out[CV_GROUP_MAX + 1];
            for (int t = 0; t < nm; t++) {
                int64_t o = owner[mem[t]];
                int seen = o < 0;
                for (int u = 0; !seen && u < nx; u++)
                    seen = out[u] == o;
                if (!seen) {
                    out[nx++] = o;
                    gain -= cv_column_weight(&cols[o], goal);
                }
            }
            if (gain <= 0)
                continue;
            for (int u = 0; u < nx; u++) {
                uint32_t om[CV_GROUP_MAX + 1];
                int no = members(&cols[out[u]], om);
                for (int t = 0; t < no; t++)
                    owner[om[t]] = -1;
                in[out[u]] = 0;
            }
            for (int t = 0; t < nm; t++)
                owner[mem[t]] = (int64_t)c;
            in[c] = 1;
            changed++;
        }
        if (!changed)
            break;
    }
    *k = 0;
    for (size_t c = 0; c < m; c++)
        if (in[c])
            chosen[(*k)++] = c;
    free(owner), free(in), free(order);
    return 0;
}

/* --- greedy --- */

int cv_pack_greedy(const cv_column *cols, size_t m, size_t n, cv_pack_goal goal, size_t *chosen, size_t *k,
                   cv_error *err)
{
    char *taken = calloc(n ? n : 1, 1);
    size_t *first = calloc(n + 1, sizeof *first); /* columns by driver, as they are sorted */
    if (!taken || !first) {
        free(taken), free(first);
        return cv_fail(err, CV_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < m; i++)
        first[cols[i].d + 1]++;
    for (size_t i = 0; i < n; i++)
        first[i + 1] += first[i];
    *k = 0;
    for (size_t d = 0; d < n; d++) {
        if (taken[d])
            continue;
        size_t best = SIZE_MAX;
        for (size_t j = first[d]; j < first[d + 1]; j++) {
            const cv_column *c = &cols[j];
            int free_all = 1;
            for (int t = 0; free_all && t < c->np; t++)
                free_all = !taken[c->p[t]];
            if (free_all && (best == SIZE_MAX || cv_column_weight(c, goal) > cv_column_weight(&cols[best], goal)))
                best = j;
        }
        if (best != SIZE_MAX) {
            uint32_t mem[CV_GROUP_MAX + 1];
            int nm = members(&cols[best], mem);
            for (int t = 0; t < nm; t++)
                taken[mem[t]] = 1;
            chosen[(*k)++] = best;
        }
    }
    free(taken), free(first);
    return 0;
}

/* --- the integer program --- */

typedef struct mip_cb {
    const double *start; /* [1 + m]: the plan given, as the program's first solution (NULL: none) */
    int given;
    double bound; /* the best bound among the open nodes, as last seen */
    int seen_bound;
} mip_cb;

static void on_tree(glp_tree *tree, void *info)
{
    mip_cb *cb = info;
    switch (glp_ios_reason(tree)) {
    case GLP_IHEUR:
        if (cb->start && !cb->given) {
            glp_ios_heur_sol(tree, cb->start);
            cb->given = 1;
        }
        break;
    case GLP_ISELECT: {
        int best = glp_ios_best_node(tree);
        if (best) {
            cb->bound = glp_ios_node_bound(tree, best);
            cb->seen_bound = 1;
        }
        break;
    }
    default:
        break;
    }
}

/* One program: maximise obj over the packing rows (and, when floor_row, the members at least floor). Returns the
   glp_intopt code; *x the solution found (1-based) when any, *proven, *bound. */
static int run_mip(glp_prob *lp, const double *obj, size_t m, const double *start, double seconds, double *x, int *have,
                   int *proven, double *bound)
{
    for (size_t j = 0; j < m; j++)
        glp_set_obj_coef(lp, (int)j + 1, obj[j]);
    *have = *proven = 0;
    glp_smcp sp;
    glp_init_smcp(&sp);
    sp.msg_lev = GLP_MSG_OFF;
    sp.tm_lim = (int)fmax(1.0, seconds * 1000.0);
    double t0 = cv_now();
    if (glp_simplex(lp, &sp) || glp_get_status(lp) != GLP_OPT)
        return -1;
    seconds -= cv_now() - t0; /* the relaxation's time is the program's */
    *bound = glp_get_obj_val(lp);
    glp_iocp ip;
    glp_init_iocp(&ip);
    ip.msg_lev = GLP_MSG_OFF;
    ip.tm_lim = (int)fmax(1.0, seconds * 1000.0);
    ip.clq_cuts = GLP_ON; /* a participant's columns form cliques: the cuts set packing wants */
    ip.gmi_cuts = GLP_ON; /* Gomory's cuts: on commuters of Porto they close the gap several times faster */
    ip.mip_gap = 0.0;
    ip.tol_obj = 1e-10;
    mip_cb cb = {start, 0, 0, 0};
    ip.cb_func = on_tree;
    ip.cb_info = &cb;
    int rc = glp_intopt(lp, &ip);
    int st = glp_mip_status(lp);
    if (st == GLP_OPT || st == GLP_FEAS) {
        *have = 1;
        for (size_t j = 0; j < m; j++)
            x[j + 1] = glp_mip_col_val(lp, (int)j + 1);
    }
    if (rc == 0 && st == GLP_OPT) {
        *proven = 1;
        *bound = glp_mip_obj_val(lp);
    } else if (cb.seen_bound && cb.bound < *bound) {
        *bound = cb.bound;
    }
    return rc;
}

static double plan_value(const double *x, size_t m, const double *obj)
{
    double v = 0;
    for (size_t j = 0; j < m; j++)
        if (x[j + 1] > 0.5)
            v += obj[j];
    return v;
}

/* One program over all of cols[0..m) (chosen: indices into them). */
static int exact_part(const cv_column *cols, size_t m, size_t n, cv_pack_goal goal, double seconds, size_t *chosen,
                      size_t *k, cv_pack_exact_result *out, cv_error *err)
{
    memset(out, 0, sizeof *out);
    double t0 = cv_now();
    int *row = malloc((n ? n : 1) * sizeof *row);
    int *ia = malloc((m * (CV_GROUP_MAX + 1) + 2) * sizeof *ia),
        *ja = malloc((m * (CV_GROUP_MAX + 1) + 2) * sizeof *ja);
    double *ar = malloc((m * (CV_GROUP_MAX + 1) + 2) * sizeof *ar);
    double *start = calloc(m + 1, sizeof *start), *x = calloc(m + 1, sizeof *x);
    double *obj = malloc((m ? m : 1) * sizeof *obj), *km = malloc((m ? m : 1) * sizeof *km);
    glp_prob *lp = glp_create_prob();
    if (!row || !ia || !ja || !ar || !start || !x || !obj || !km || !lp) {
        free(row), free(ia), free(ja), free(ar), free(start), free(x), free(obj), free(km);
        if (lp)
            glp_delete_prob(lp);
        return cv_fail(err, CV_ENOMEM, "out of memory");
    }
    /* a row per participant in some column: at most one of their columns */
    int nrows = 0;
    for (size_t i = 0; i < n; i++)
        row[i] = 0;
    size_t nz = 0;
    for (size_t j = 0; j < m; j++) {
        uint32_t mem[CV_GROUP_MAX + 1];
        int nm = members(&cols[j], mem);
        for (int t = 0; t < nm; t++) {
            if (!row[mem[t]])
                row[mem[t]] = ++nrows;
            nz++;
            ia[nz] = row[mem[t]], ja[nz] = (int)j + 1, ar[nz] = 1.0;
        }
        obj[j] = cv_column_primary(&cols[j], goal);
        km[j] = (double)cols[j].saved_dm;
    }
    glp_term_out(GLP_OFF);
    glp_set_obj_dir(lp, GLP_MAX);
    if (nrows)
        glp_add_rows(lp, nrows);
    for (int r = 1; r <= nrows; r++)
        glp_set_row_bnds(lp, r, GLP_UP, 0.0, 1.0);
    if (m)
        glp_add_cols(lp, (int)m);
    for (size_t j = 0; j < m; j++)
        glp_set_col_kind(lp, (int)j + 1, GLP_BV);
    glp_load_matrix(lp, (int)nz, ia, ja, ar);
    for (size_t j = 0; j < *k; j++)
        start[chosen[j] + 1] = 1.0;
    double given = plan_value(start, m, obj), given_km = plan_value(start, m, km);
    int have = 0, proven = 0, rc = 0;
    double bound = 0;
    if (m) {
        rc = run_mip(lp, obj, m, start, seconds, x, &have, &proven, &bound);
        out->bound = bound;
        if (rc >= 0 && goal == CV_PACK_MATCHED && proven) {
            /* the most members proven: now the most km among the plans with that many */
            double best = plan_value(x, m, obj);
            int r = glp_add_rows(lp, 1);
            int *ind = malloc((m + 1) * sizeof *ind);
            double *val = malloc((m + 1) * sizeof *val);
            if (!ind || !val) {
                free(ind), free(val);
                rc = -2;
            } else {
                for (size_t j = 0; j < m; j++)
                    ind[j + 1] = (int)j + 1, val[j + 1] = obj[j];
                glp_set_mat_row(lp, r, (int)m, ind, val);
                glp_set_row_bnds(lp, r, GLP_LO, best - 0.5, 0.0);
                free(ind), free(val);
                int have2 = 0, proven2 = 0;
                double bound_km = 0, left = seconds - (cv_now() - t0);
                double *x2 = calloc(m + 1, sizeof *x2);
                if (!x2) {
                    rc = -2;
                } else {
                    int sgiven = plan_value(start, m, obj) >= best - 0.5;
                    run_mip(lp, km, m, sgiven ? start : NULL, left > 1 ? left : 1, x2, &have2, &proven2, &bound_km);
                    if (have2 && plan_value(x2, m, km) >= plan_value(x, m, km))
                        memcpy(x, x2, (m + 1) * sizeof *x);
                    proven = proven2;
                    free(x2);
                }
            }
        }
    } else {
        proven = 1;
    }
    if (rc == -2) {
        glp_delete_prob(lp);
        free(row), free(ia), free(ja), free(ar), free(start), free(x), free(obj), free(km);
        return cv_fail(err, CV_ENOMEM, "out of memory");
    }
    if (have) {
        double v = plan_value(x, m, obj), vkm = plan_value(x, m, km);
        if (v > given + 0.5 || (v > given - 0.5 && vkm > given_km + 0.5)) {
            out->improved = 1;
            *k = 0;
            for (size_t j = 0; j < m; j++)
                if (x[j + 1] > 0.5)
                    chosen[(*k)++] = j;
        } else if (v < given - 0.5 || (v < given + 0.5 && vkm < given_km - 0.5)) {
            proven = 0; /* an "optimum" below the plan given: not one to trust */
        }
    }
    out->solved = rc >= 0;
    out->proven = proven;
    if (!m)
        out->bound = 0;
    out->seconds = cv_now() - t0;
    glp_delete_prob(lp);
    free(row), free(ia), free(ja), free(ar), free(start), free(x), free(obj), free(km);
    return 0;
}

static uint32_t root(uint32_t *up, uint32_t i)
{
    while (up[i] != i)
        i = up[i] = up[up[i]];
    return i;
}

typedef struct part {
    uint32_t root;
    size_t first, count; /* its columns in the order by part */
} part;

static int by_size(const void *a, const void *b)
{
    const part *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? -1 : 1;
    return x->root < y->root ? -1 : x->root > y->root;
}

/* The program falls apart into independent ones, one per group of participants the carpools connect: each is
   solved alone (the small ones at once, proven; the time left to the largest), their plans and bounds summed. */
int cv_pack_exact(const cv_column *cols, size_t m, size_t n, cv_pack_goal goal, double seconds, size_t *chosen,
                  size_t *k, cv_pack_exact_result *out, cv_error *err)
{
    memset(out, 0, sizeof *out);
    double t0 = cv_now();
    uint32_t *up = malloc((n ? n : 1) * sizeof *up);
    size_t *count = calloc(n + 1, sizeof *count), *order = malloc((m ? m : 1) * sizeof *order);
    char *in = calloc(m ? m : 1, 1);
    cv_column *local = malloc((m ? m : 1) * sizeof *local);
    size_t *lchosen = malloc((n ? n : 1) * sizeof *lchosen), *result = malloc((n ? n : 1) * sizeof *result);
    part *parts = malloc((n ? n : 1) * sizeof *parts);
    int rc = up && count && order && in && local && lchosen && result && parts ? 0 : -1;
    for (size_t i = 0; !rc && i < n; i++)
        up[i] = (uint32_t)i;
    for (size_t j = 0; !rc && j < m; j++) {
        uint32_t mem[CV_GROUP_MAX + 1];
        int nm = members(&cols[j], mem);
        for (int t = 1; t < nm; t++) {
            uint32_t a = root(up, mem[0]), b = root(up, mem[t]);
            if (a != b)
                up[a < b ? b : a] = a < b ? a : b;
        }
    }
    /* the columns by part, the parts smallest first */
    size_t np = 0;
    for (size_t j = 0; !rc && j < m; j++)
        count[root(up, cols[j].d) + 1]++;
    for (size_t i = 0; !rc && i < n; i++) {
        if (count[i + 1])
            parts[np++] = (part){(uint32_t)i, 0, count[i + 1]};
        count[i + 1] += count[i];
    }
    for (size_t t = 0; !rc && t < np; t++)
        parts[t].first = count[parts[t].root];
    for (size_t j = 0; !rc && j < m; j++)
        order[count[root(up, cols[j].d)]++] = j;
    if (!rc && np)
        qsort(parts, np, sizeof *parts, by_size);
    for (size_t j = 0; !rc && j < *k; j++)
        in[chosen[j]] = 1;
    size_t nk = 0, left = m;
    int proven = 1, improved = 0;
    double bound = 0;
    for (size_t t = 0; !rc && t < np; t++) {
        size_t lk = 0;
        for (size_t c = 0; c < parts[t].count; c++) {
            size_t j = order[parts[t].first + c];
            local[c] = cols[j];
            if (in[j])
                lchosen[lk++] = c;
        }
        /* its share of the time left, and at least a second or two: a small part ends long before */
        double rest = seconds - (cv_now() - t0), budget = rest * (double)parts[t].count / (double)left;
        if (budget < fmin(rest, 2.0))
            budget = fmin(rest, 2.0);
        cv_pack_exact_result pr;
        if ((rc = exact_part(local, parts[t].count, n, goal, budget > 0.05 ? budget : 0.05, lchosen, &lk, &pr, err)))
            break;
        left -= parts[t].count;
        if (!pr.solved) {
            proven = 0;
            break;
        }
        proven &= pr.proven, improved |= pr.improved, bound += pr.bound;
        for (size_t c = 0; c < lk; c++)
            result[nk++] = order[parts[t].first + lchosen[c]];
        if (t + 1 == np) {
            out->solved = 1;
            out->proven = proven, out->improved = improved, out->bound = bound;
            memcpy(chosen, result, nk * sizeof *result);
            *k = nk;
        }
    }
    if (!rc && !np)
        out->solved = out->proven = 1;
    out->seconds = cv_now() - t0;
    free(up), free(count), free(order), free(in), free(local), free(lchosen), free(result), free(parts);
    if (rc < 0)
        return cv_fail(err, CV_ENOMEM, "out of memory");
    return rc;
}

/* --- the Lagrangian bound --- */

double cv_pack_bound(const cv_column *cols, size_t m, size_t n, cv_pack_goal goal, double lower, double seconds,
                     double *prices)
{
    double *u = calloc(n ? n : 1, sizeof *u), *g = malloc((n ? n : 1) * sizeof *g);
    char *used = calloc(n ? n : 1, 1);
    double best = INFINITY;
    if (!u || !g || !used) {
        free(u), free(g), free(used);
        /* without memory, the weakest bound there is: every column at once */
        double all = 0;
        for (size_t j = 0; j < m; j++)
            all += cv_column_primary(&cols[j], goal);
        return all;
    }
    /* start where every column is priced out: each participant worth the best share of a column of theirs */
    for (size_t j = 0; j < m; j++) {
        uint32_t mem[CV_GROUP_MAX + 1];
        int nm = members(&cols[j], mem);
        double share = cv_column_primary(&cols[j], goal) / nm;
        for (int t = 0; t < nm; t++)
            u[mem[t]] = fmax(u[mem[t]], share), used[mem[t]] = 1;
    }
    double t0 = cv_now(), lambda = 2.0;
    int stale = 0;
    for (int it = 0; it < 2000 && cv_now() - t0 < seconds; it++) {
        double L = 0;
        for (size_t i = 0; i < n; i++)
            L += u[i], g[i] = 1.0;
        for (size_t j = 0; j < m; j++) {
            uint32_t mem[CV_GROUP_MAX + 1];
            int nm = members(&cols[j], mem);
            double rest = cv_column_primary(&cols[j], goal);
            for (int t = 0; t < nm; t++)
                rest -= u[mem[t]];
            if (rest > 0) {
                L += rest;
                for (int t = 0; t < nm; t++)
                    g[mem[t]] -= 1.0;
            }
        }
        if (L < best) {
            best = L, stale = 0;
            if (prices)
                memcpy(prices, u, n * sizeof *u);
        } else if (++stale >= 20)
            lambda /= 2, stale = 0;
        double norm = 0;
        for (size_t i = 0; i < n; i++) {
            if (!used[i] || (u[i] <= 0 && g[i] > 0))
                g[i] = 0;
            norm += g[i] * g[i];
        }
        if (norm == 0 || L - lower <= 1e-9 * fmax(1.0, fabs(L)) || lambda < 1e-6)
            break;
        double theta = lambda * (L - lower) / norm;
        for (size_t i = 0; i < n; i++)
            u[i] = fmax(0.0, u[i] - theta * g[i]);
    }
    if (!isfinite(best)) {
        best = 0;
        for (size_t i = 0; i < n; i++)
            best += u[i];
        if (prices)
            memcpy(prices, u, n * sizeof *u);
    }
    free(u), free(g), free(used);
    return best;
}

typedef struct priced {
    double rest; /* the column's worth beyond its members' prices */
    size_t col;
} priced;

static int by_rest(const void *a, const void *b)
{
    const priced *x = a, *y = b;
    if (x->rest != y->rest)
        return x->rest > y->rest ? -1 : 1;
    return x->col < y->col ? -1 : x->col > y->col;
}

int cv_pack_priced(const cv_column *cols, size_t m, size_t n, cv_pack_goal goal, const double *prices, size_t *chosen,
                   size_t *k, cv_error *err)
{
    priced *ps = malloc((m ? m : 1) * sizeof *ps);
    char *taken = calloc(n ? n : 1, 1);
    if (!ps || !taken) {
        free(ps), free(taken);
        return cv_fail(err, CV_ENOMEM, "out of memory");
    }
    for (size_t j = 0; j < m; j++) {
        uint32_t mem[CV_GROUP_MAX + 1];
        int nm = members(&cols[j], mem);
        double rest = cv_column_primary(&cols[j], goal);
        for (int t = 0; t < nm; t++)
            rest -= prices[mem[t]];
        /* ties (and the matched goal's many equal values) by the km, so the prices steer and the km decide */
        ps[j] = (priced){rest + 1e-9 * (double)cols[j].saved_dm, j};
    }
    if (m)
        qsort(ps, m, sizeof *ps, by_rest);
    *k = 0;
    for (size_t r = 0; r < m; r++) {
        uint32_t mem[CV_GROUP_MAX + 1];
        int nm = members(&cols[ps[r].col], mem), free_all = 1;
        for (int t = 0; free_all && t < nm; t++)
            free_all = !taken[mem[t]];
        if (!free_all)
            continue;
        for (int t = 0; t < nm; t++)
            taken[mem[t]] = 1;
        chosen[(*k)++] = ps[r].col;
    }
    free(ps), free(taken);
    return 0;
}
