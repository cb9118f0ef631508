/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* snap.c — nearest-segment search over the uniform grid stored in the graph file. */
#include "routing/snap.h"

#include "routing/path.h"
#include "routing/road_class.h"

#include <math.h>

/* Road classes where a car may not stop to let someone in or out (stop_only): motorways and their links. */
#define NO_STOPPING ((1u << CV_RC_MOTORWAY) | (1u << CV_RC_MOTORWAY_LINK))

cv_snap_options cv_snap_defaults(void)
{
    cv_snap_options o = {CV_SNAP_DEFAULT_MAX_M, 0, 0, 0};
    return o;
}

void cv_snap_fill(const cv_graph *g, cv_snap *s)
{
    const cv_edge *e = &g->a.edges[s->edge];
    uint32_t first = g->a.edge_first_point[s->edge];
    const cv_coord *pts = g->a.points;
    double along = 0, total = 0;
    for (uint32_t p = first; p + 1 < g->a.edge_first_point[s->edge + 1]; p++) {
        double d = cv_distance_m(pts[p], pts[p + 1]);
        if (p < s->point)
            along += d;
        else if (p == s->point)
            along += d * s->t;
        total += d;
    }
    /* an edge of zero length (two nodes at one place) is measured in segments, so that its ends are its ends */
    uint32_t nseg = g->a.edge_first_point[s->edge + 1] - first - 1;
    double frac = total > 0 ? along / total : nseg ? ((double)(s->point - first) + s->t) / nseg : 0;
    if (frac > 1)
        frac = 1;
    s->from_u_dm = (uint32_t)lround(frac * e->length_dm);
    if (s->from_u_dm > e->length_dm)
        s->from_u_dm = e->length_dm;
    s->to_v_dm = e->length_dm - s->from_u_dm;
    s->from_u_ds = (uint32_t)lround(frac * e->duration_ds);
    if (s->from_u_ds > e->duration_ds)
        s->from_u_ds = e->duration_ds;
    s->to_v_ds = e->duration_ds - s->from_u_ds;
    s->to_u_ds = (uint32_t)lround(frac * e->duration_back_ds);
    if (s->to_u_ds > e->duration_back_ds)
        s->to_u_ds = e->duration_back_ds;
    s->from_v_ds = e->duration_back_ds - s->to_u_ds;
}

typedef struct best {
    int found;
    double d;
    uint32_t edge, point;
    double t;
    cv_coord onto;
} best;

static void consider(best *b, double d, uint32_t edge, uint32_t point, double t, cv_coord onto)
{
    /* ties (the same segment seen from several cells, or two edges meeting at a node) go to the lower ids so that
       the answer does not depend on the visiting order */
    if (!b->found || d < b->d || (d == b->d && (edge < b->edge || (edge == b->edge && point < b->point)))) {
        b->found = 1;
        b->d = d;
        b->edge = edge;
        b->point = point;
        b->t = t;
        b->onto = onto;
    }
}

/* Is junction j in the main network: one of its routing nodes in component `big`? (At a split junction the
   junction's own id is the node for one arrival only, which may be a dead state or come from nowhere.) */
static int in_main(const cv_graph *g, uint32_t j, uint32_t big)
{
    if (g->a.node_component[j] == big)
        return 1;
    uint32_t c[CV_MAX_SEEDS];
    uint32_t n = cv_graph_node_copies(g, j, c, CV_MAX_SEEDS);
    for (uint32_t k = 1; k < n; k++)
        if (g->a.node_component[c[k]] == big)
            return 1;
    return 0;
}

int cv_snap_point(const cv_graph *g, cv_coord p, const cv_snap_options *opt, cv_snap *out, cv_error *err)
{
    cv_snap_options o = opt ? *opt : cv_snap_defaults();
    if (o.max_distance_m <= 0)
        o.max_distance_m = CV_SNAP_DEFAULT_MAX_M;
    if (o.stop_only)
        o.exclude_classes |= NO_STOPPING;
    const cv_graph_header *h = &g->hdr;
    const uint32_t big = h->largest_component;
    /* a graph whose largest component is small (a hand-made map, a village) has no main network to prefer: every
       component is an island there, as OSRM counts components under 1000 nodes, and the nearest road wins */
    if (h->ncomponents == 0 || g->a.component_size[big] < CV_SNAP_BIG_COMPONENT)
        o.any_component = 1;
    double mlat = 111195.0 / 1e7, mlon = mlat * cos(cv_deg(p.lat) * CV_PI / 180.0);
    cv_local_frame fr = cv_frame_at(p);
    double side = fmin(h->grid_cell_lat * mlat, h->grid_cell_lon * mlon);
    int64_t pc = ((int64_t)p.lon - h->grid_lon0) / h->grid_cell_lon - (p.lon < h->grid_lon0);
    int64_t pr = ((int64_t)p.lat - h->grid_lat0) / h->grid_cell_lat - (p.lat < h->grid_lat0);
    int64_t cols = h->grid_cols, rows = h->grid_rows;
    /* the first ring that can touch the grid, and the last that can be within range */
    int64_t r_min = 0;
    if (pc < 0)
        r_min = -pc;
    if (pc >= cols && pc - cols + 1 > r_min)
        r_min = pc - cols + 1;
    if (pr < 0 && -pr > r_min)
        r_min = -pr;
    if (pr >= rows && pr - rows + 1 > r_min)
        r_min = pr - rows + 1;
    int64_t r_max = (int64_t)(o.max_distance_m / side) + 2;
    /* a point farther from the whole grid than the limit (a swapped lat/lon, a pole) is answered at once */
    cv_coord lo = {h->grid_lon0, h->grid_lat0};
    cv_coord hi = {(int32_t)((int64_t)h->grid_lon0 + (int64_t)h->grid_cell_lon * cols),
                   (int32_t)((int64_t)h->grid_lat0 + (int64_t)h->grid_cell_lat * rows)};
    if (cv_box_distance_m(p, lo, hi) > o.max_distance_m)
        r_max = -1;
    /* never more rings than the grid has */
    if (r_max > r_min + (cols > rows ? cols : rows) + 1)
        r_max = r_min + (cols > rows ? cols : rows) + 1;
    best any = {0}, pref = {0};
    for (int64_t r = r_min; r <= r_max; r++) {
        double ring_lb = (double)(r - 1) * side;
        if (pref.found && ring_lb > pref.d)
            break;
        if (ring_lb > o.max_distance_m)
            break;
        for (int64_t row = pr - r; row <= pr + r; row++) {
            if (row < 0 || row >= rows)
                continue;
            int full = row == pr - r || row == pr + r;
            for (int64_t col = pc - r; col <= pc + r; col += full ? 1 : 2 * r) {
                if (col >= 0 && col < cols) {
                    uint64_t cell = (uint64_t)row * (uint64_t)cols + (uint64_t)col;
                    for (uint32_t k = g->a.grid_first[cell]; k < g->a.grid_first[cell + 1]; k++) {
                        const cv_grid_item *it = &g->a.grid_items[k];
                        const cv_edge *e = &g->a.edges[it->edge];
                        if (o.exclude_classes & (1u << (e->road_class & 31)))
                            continue;
                        double t;
                        cv_coord onto;
                        double dp =
                            cv_project_planar(&fr, p, g->a.points[it->point], g->a.points[it->point + 1], &t, &onto);
                        int big_ok = o.any_component || (in_main(g, e->u, big) && in_main(g, e->v, big));
                        /* the frame's distance is within 1 % of the exact one up to 5 km: a segment it puts
                           clearly beyond the limit, or behind every best it could replace, is no candidate, and
                           haversine is spared */
                        if (dp < 5000) {
                            double lo = dp * 0.99 - 0.01;
                            if (lo > o.max_distance_m)
                                continue;
                            if (any.found && lo > any.d && (!big_ok || (pref.found && lo > pref.d)))
                                continue;
                        }
                        double d = cv_distance_m(p, onto);
                        if (d > o.max_distance_m)
                            continue;
                        consider(&any, d, it->edge, it->point, t, onto);
                        if (big_ok)
                            consider(&pref, d, it->edge, it->point, t, onto);
                    }
                }
                if (r == 0)
                    break;
            }
        }
    }
    const best *b = pref.found ? &pref : &any;
    if (!b->found)
        return cv_fail(err, CV_ENOSEGMENT, "no road within %.0f m of %.7f,%.7f", o.max_distance_m, cv_deg(p.lon),
                       cv_deg(p.lat));
    out->edge = b->edge;
    out->point = b->point;
    out->t = b->t;
    out->location = b->onto;
    out->input = p;
    out->distance_m = b->d;
    cv_snap_fill(g, out);
    return 0;
}
