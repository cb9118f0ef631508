/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* guidance.c — turn-by-turn steps from a route's original edges: where to announce a maneuver, its type and
   direction, roundabout exits, the intersections passed, and each step's geometry, distance, duration and weight.

   A route is first cut into segments, one per edge travelled (the first and last ones partial, from and to the
   snapped points). At each junction between two segments the turn angle is the difference between the bearing of
   the arriving road and that of the leaving road, both taken LOOKAHEAD_M along the road from the junction (so a
   kink right at the junction does not decide), and the junction's other roads tell whether there was a choice.
   A step starts where the driver must be told something; everything up to the next such junction stays in it. */
#include "routing/guidance.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "routing/road_class.h"

#define LOOKAHEAD_M 10.0
#define MAX_ROADS 64
#define NONE UINT32_MAX

/* Angles (degrees of deviation from straight on) that name the modifiers, as OSRM draws them. */
#define STRAIGHT_MAX 20.0
#define SLIGHT_MAX 40.0
#define TURN_MAX 120.0
/* A way on is obvious (nothing to announce, or only a new name) when it deviates at most OBVIOUS_MAX and every
   other road that may be taken deviates at least OBVIOUS_GAP more, and at least OBVIOUS_OTHER_MIN. */
#define OBVIOUS_MAX 45.0
#define OBVIOUS_GAP 30.0
#define OBVIOUS_OTHER_MIN 60.0
/* Roads within this of straight on, from a motorway or a ramp, make a fork. */
#define FORK_MAX 60.0

typedef struct seg {
    uint32_t code; /* edge << 1 | 1 when travelled from v to u */
    uint32_t dist_dm, dur_ds;
    size_t p0, np; /* points in the scratch array, travel order, both ends included */
} seg;

typedef struct road {
    uint32_t code; /* the edge code leaving the junction along this road */
    uint16_t bearing;
    uint8_t entry;
} road;

typedef struct ctx {
    const cv_graph *g;
    cv_steps *out;
    seg *segs;
    size_t nsegs, cap_segs;
    cv_coord *pts;
    size_t npts, cap_pts;
    size_t *seg_step; /* per segment: the step that holds it */
} ctx;

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 16;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q)
        return CV_ENOMEM;
    *p = q;
    *cap = nc;
    return 0;
}

static int same_coord(cv_coord a, cv_coord b)
{
    return a.lon == b.lon && a.lat == b.lat;
}

/* ---- segments ---- */

/* Appends p to the scratch points unless it repeats the last point of the segment that starts at `from`. */
static int push_pt(ctx *c, size_t from, cv_coord p)
{
    if (c->npts > from && same_coord(c->pts[c->npts - 1], p))
        return 0;
    if (grow((void **)&c->pts, &c->cap_pts, c->npts + 1, sizeof *c->pts))
        return CV_ENOMEM;
    c->pts[c->npts++] = p;
    return 0;
}

/* The points of edge e strictly between positions a and b (global point index + fraction), in travel order. */
static int push_part(ctx *c, size_t from, uint32_t e, double a, double b)
{
    uint32_t first = c->g->a.edge_first_point[e], last = c->g->a.edge_first_point[e + 1] - 1;
    const cv_coord *P = c->g->a.points;
    if (a <= b) {
        for (uint32_t p = first; p <= last; p++)
            if ((double)p > a && (double)p < b && push_pt(c, from, P[p]))
                return CV_ENOMEM;
    } else {
        for (uint32_t p = last + 1; p-- > first;)
            if ((double)p < a && (double)p > b && push_pt(c, from, P[p]))
                return CV_ENOMEM;
    }
    return 0;
}

static seg *new_seg(ctx *c, uint32_t code, uint32_t dist, uint32_t dur)
{
    if (grow((void **)&c->segs, &c->cap_segs, c->nsegs + 1, sizeof *c->segs))
        return NULL;
    seg *s = &c->segs[c->nsegs++];
    *s = (seg){code, dist, dur, c->npts, 0};
    return s;
}

/* Cuts the path into segments whose distances and durations add up to the path's exactly (the same parts that
   cv_path_finish adds). */
static int build_segments(ctx *c, const cv_path *p)
{
    const cv_graph *g = c->g;
    const cv_snap *s = &p->src, *t = &p->dst;
    double ps = s->point + s->t, pt = t->point + t->t;
    seg *sg;
    if (p->direct) {
        int fwd = (g->a.edges[s->edge].flags & CV_EDGE_FORWARD) && ps <= pt;
        if (!(sg = new_seg(c, s->edge << 1 | (uint32_t)!fwd, p->distance_dm, p->duration_ds)) ||
            push_pt(c, sg->p0, s->location) || push_part(c, sg->p0, s->edge, ps, pt) || push_pt(c, sg->p0, t->location))
            return CV_ENOMEM;
        sg->np = c->npts - sg->p0;
        return 0;
    }
    double sf = g->a.edge_first_point[s->edge], sl = g->a.edge_first_point[s->edge + 1] - 1;
    if (!(sg = new_seg(c, s->edge << 1 | (uint32_t)!p->src_forward, p->src_forward ? s->to_v_dm : s->from_u_dm,
                       p->src_forward ? s->to_v_ds : s->to_u_ds)) ||
        push_pt(c, sg->p0, s->location) || push_part(c, sg->p0, s->edge, ps, p->src_forward ? sl + 1 : sf - 1))
        return CV_ENOMEM;
    sg->np = c->npts - sg->p0;
    for (size_t i = 0; i < p->narcs; i++) {
        uint32_t code = p->arcs[i], e = code >> 1;
        const cv_edge *ed = &g->a.edges[e];
        double f = g->a.edge_first_point[e], l = g->a.edge_first_point[e + 1] - 1;
        if (!(sg = new_seg(c, code, ed->length_dm, cv_edge_duration(ed, code & 1))) ||
            push_part(c, sg->p0, e, (code & 1) ? l + 1 : f - 1, (code & 1) ? f - 1 : l + 1))
            return CV_ENOMEM;
        sg->np = c->npts - sg->p0;
    }
    double tf = g->a.edge_first_point[t->edge], tl = g->a.edge_first_point[t->edge + 1] - 1;
    if (!(sg = new_seg(c, t->edge << 1 | (uint32_t)!p->dst_forward, p->dst_forward ? t->from_u_dm : t->to_v_dm,
                       p->dst_forward ? t->from_u_ds : t->from_v_ds)) ||
        push_part(c, sg->p0, t->edge, p->dst_forward ? tf - 1 : tl + 1, pt) || push_pt(c, sg->p0, t->location))
        return CV_ENOMEM;
    sg->np = c->npts - sg->p0;
    /* a partial segment of a single point, or of no length once rounded (the snapped point is the junction, or
       centimetres from it: the route starts or ends there, and the edge's direction may not even be drivable), has
       nothing to announce: its neighbour takes its distance and duration, and starts or ends at the snapped point */
    seg *first = &c->segs[0];
    if (c->nsegs > 1 && (first->np <= 1 || (first->dist_dm == 0 && first->dur_ds == 0))) {
        c->segs[1].dist_dm += first->dist_dm;
        c->segs[1].dur_ds += first->dur_ds;
        c->pts[c->segs[1].p0] = s->location;
        memmove(c->segs, c->segs + 1, (c->nsegs - 1) * sizeof *c->segs);
        c->nsegs--;
    }
    seg *last = &c->segs[c->nsegs - 1];
    if (c->nsegs > 1 && (last->np <= 1 || (last->dist_dm == 0 && last->dur_ds == 0))) {
        seg *prev = last - 1;
        prev->dist_dm += last->dist_dm;
        prev->dur_ds += last->dur_ds;
        c->pts[prev->p0 + prev->np - 1] = t->location;
        c->nsegs--;
    }
    return 0;
}

/* ---- bearings ---- */

/* Bearing from a to b in degrees clockwise from north, [0, 360); -1 when the points are the same. */
static double bearing_deg(cv_coord a, cv_coord b)
{
    double dx = ((double)b.lon - a.lon) / CV_COORD_SCALE * cos(cv_deg(a.lat) * CV_PI / 180.0);
    double dy = ((double)b.lat - a.lat) / CV_COORD_SCALE;
    if (dx == 0 && dy == 0)
        return -1;
    double d = atan2(dx, dy) * 180.0 / CV_PI;
    return d < 0 ? d + 360.0 : d;
}

static uint16_t round_bearing(double d)
{
    long r = lround(d);
    return (uint16_t)(((r % 360) + 360) % 360);
}

/* The bearing of the line pts (n points, walked backwards when reverse) from its first point towards the point
   LOOKAHEAD_M along it (its far end when shorter); -1 when every point is the same. */
static double lookahead_bearing(const cv_coord *pts, size_t n, int reverse)
{
#define AT(i) (reverse ? pts[n - 1 - (i)] : pts[(i)])
    if (n < 2)
        return -1;
    cv_coord from = AT(0), target = AT(n - 1);
    double acc = 0;
    for (size_t i = 1; i < n; i++) {
        double d = cv_distance_m(AT(i - 1), AT(i));
        if (acc + d >= LOOKAHEAD_M && d > 0) {
            double f = (LOOKAHEAD_M - acc) / d;
            cv_coord a = AT(i - 1), b = AT(i);
            target = (cv_coord){(int32_t)lround(a.lon + f * ((double)b.lon - a.lon)),
                                (int32_t)lround(a.lat + f * ((double)b.lat - a.lat))};
            if (same_coord(target, from))
                target = b;
            break;
        }
        acc += d;
    }
    return bearing_deg(from, target);
#undef AT
}

/* Bearing of the road leaving its junction along edge code (the whole edge's geometry). */
static double road_bearing(const cv_graph *g, uint32_t code)
{
    uint32_t n;
    const cv_coord *pts = cv_graph_edge_points(g, code >> 1, &n);
    double b = lookahead_bearing(pts, n, (int)(code & 1));
    return b < 0 ? 0 : b;
}

/* Turn angle from travel bearing `before` to `after`, (-180, 180]: positive to the right. */
static double turn_angle(double before, double after)
{
    double d = fmod(after - before + 540.0, 360.0) - 180.0;
    return d <= -180.0 ? d + 360.0 : d;
}

static uint8_t modifier_of(double delta)
{
    double d = fabs(delta);
    if (d <= STRAIGHT_MAX)
        return CV_MOD_STRAIGHT;
    if (d <= SLIGHT_MAX)
        return delta > 0 ? CV_MOD_SLIGHT_RIGHT : CV_MOD_SLIGHT_LEFT;
    if (d <= TURN_MAX)
        return delta > 0 ? CV_MOD_RIGHT : CV_MOD_LEFT;
    return delta > 0 ? CV_MOD_SHARP_RIGHT : CV_MOD_SHARP_LEFT;
}

/* A slight modifier on the side of delta, for ramps and merges that run almost straight. */
static uint8_t side_modifier(double delta)
{
    if (fabs(delta) > SLIGHT_MAX)
        return modifier_of(delta);
    return delta >= 0 ? CV_MOD_SLIGHT_RIGHT : CV_MOD_SLIGHT_LEFT;
}

/* ---- junctions ---- */

static int cmp_road(const void *a, const void *b)
{
    const road *x = a, *y = b;
    if (x->bearing != y->bearing)
        return x->bearing < y->bearing ? -1 : 1;
    return (x->code > y->code) - (x->code < y->code);
}

/* Every road at junction j (leaving codes, bearings), sorted by bearing; entry says whether the route, standing
   at routing node `at` (j or one of its copies), may take it. Returns the count. */
static size_t junction_roads(const cv_graph *g, uint32_t j, uint32_t at, road *r)
{
    uint32_t copies[MAX_ROADS];
    uint32_t nc = cv_graph_node_copies(g, j, copies, MAX_ROADS);
    size_t n = 0;
    for (uint32_t k = 0; k < nc; k++) {
        uint32_t v = copies[k];
        for (int in = 0; in < 2; in++) {
            const uint32_t *first = in ? g->a.in_first : g->a.out_first;
            const cv_arc *arcs = in ? g->a.in_arcs : g->a.out_arcs;
            for (uint32_t a = first[v]; a < first[v + 1]; a++) {
                uint32_t code = in ? arcs[a].edge ^ 1u : arcs[a].edge;
                size_t q = 0;
                while (q < n && r[q].code != code)
                    q++;
                if (q == n && n < MAX_ROADS)
                    r[n++] = (road){code, 0, 0};
            }
        }
    }
    for (size_t q = 0; q < n; q++) {
        r[q].bearing = round_bearing(road_bearing(g, r[q].code));
        for (uint32_t a = g->a.out_first[at]; a < g->a.out_first[at + 1]; a++)
            if (g->a.out_arcs[a].edge == r[q].code)
                r[q].entry = 1;
    }
    qsort(r, n, sizeof *r, cmp_road);
    return n;
}

static int road_index(const road *r, size_t n, uint32_t code)
{
    for (size_t q = 0; q < n; q++)
        if (r[q].code == code)
            return (int)q;
    return -1;
}

/* ---- output ---- */

static int add_intersection(cv_steps *o, cv_coord loc, const uint16_t *bearings, const uint8_t *entry, size_t n, int in,
                            int out)
{
    if (grow((void **)&o->intersections, &o->cap_intersections, o->nintersections + 1, sizeof *o->intersections))
        return CV_ENOMEM;
    if (grow((void **)&o->bearings, &o->cap_bearings, o->nbearings + n, sizeof *o->bearings) ||
        grow((void **)&o->entry, &o->cap_entry, o->nbearings + n, sizeof *o->entry))
        return CV_ENOMEM;
    memcpy(o->bearings + o->nbearings, bearings, n * sizeof *bearings);
    memcpy(o->entry + o->nbearings, entry, n);
    o->intersections[o->nintersections++] = (cv_intersection){loc, o->nbearings, n, in, out};
    o->nbearings += n;
    if (o->n > 0)
        o->steps[o->n - 1].nintersections++;
    return 0;
}

/* Closes the current step (a geometry needs two points: a step of one point repeats it) and opens a new one. */
static int new_step(cv_steps *o, uint8_t type, uint8_t mod, cv_coord loc, double before, double after, uint32_t name,
                    int ferry)
{
    for (cv_step *prev = o->n > 0 ? &o->steps[o->n - 1] : NULL; prev && prev->npoints < 2; prev->npoints++) {
        if (grow((void **)&o->points, &o->cap_points, o->npoints + 1, sizeof *o->points))
            return CV_ENOMEM;
        o->points[o->npoints] = prev->npoints ? o->points[o->npoints - 1] : loc;
        o->npoints++;
    }
    if (grow((void **)&o->steps, &o->cap, o->n + 1, sizeof *o->steps))
        return CV_ENOMEM;
    o->steps[o->n++] = (cv_step){
        .type = type,
        .modifier = mod,
        .ferry = (uint8_t)ferry,
        .location = loc,
        .bearing_before = round_bearing(before),
        .bearing_after = round_bearing(after),
        .name = name,
        .first_point = o->npoints,
        .first_intersection = o->nintersections,
    };
    return 0;
}

/* Adds segment s to the current step: its distance and duration, and its points after the step's last one. */
static int add_seg(ctx *c, const seg *s)
{
    cv_steps *o = c->out;
    cv_step *st = &o->steps[o->n - 1];
    c->seg_step[s - c->segs] = o->n - 1;
    st->distance_dm += s->dist_dm;
    st->duration_ds += s->dur_ds;
    for (size_t i = 0; i < s->np; i++) {
        cv_coord p = c->pts[s->p0 + i];
        if (st->npoints && same_coord(o->points[o->npoints - 1], p))
            continue;
        if (grow((void **)&o->points, &o->cap_points, o->npoints + 1, sizeof *o->points))
            return CV_ENOMEM;
        o->points[o->npoints++] = p;
        st->npoints++;
    }
    return 0;
}

static int is_highway(int rc)
{
    return rc == CV_RC_MOTORWAY || rc == CV_RC_TRUNK;
}

static int is_ramp(int rc)
{
    return rc == CV_RC_MOTORWAY_LINK || rc == CV_RC_TRUNK_LINK;
}

/* Roads that do not make a junction a choice for a driver on a public road: driveways, parking aisles, private
   and other destination-only roads. */
static int is_minor(const cv_edge *e)
{
    return (e->flags & CV_EDGE_NO_THROUGH) || e->road_class == CV_RC_SERVICE;
}

/* Whether going from edge ea onto eb stays on the same street as a driver sees it: the same name and ref, or a
   named road that only gains or loses its ref, or a road with a ref that only gains or loses its name (OSM often
   names part of a numbered road). Names and refs are offsets into the deduplicated string table. */
static int same_street(const cv_graph *g, uint32_t ea, uint32_t eb)
{
    const cv_street_name *a = cv_graph_edge_name(g, ea), *b = cv_graph_edge_name(g, eb);
    if (a->name == b->name)
        return a->ref == b->ref || (a->name && (!a->ref || !b->ref));
    if (!a->name || !b->name)
        return a->ref && a->ref == b->ref;
    return 0;
}

/* The maneuver at a junction off the roundabouts: 0 when there is nothing to announce, else 1 with *type and
 *mod set. */
static int plain_maneuver(const cv_graph *g, uint32_t in_code, uint32_t out_code, const road *r, size_t nr,
                          double before, double delta, uint8_t *type, uint8_t *mod)
{
    const cv_edge *ea = &g->a.edges[in_code >> 1], *eb = &g->a.edges[out_code >> 1];
    if (out_code == (in_code ^ 1u)) {
        *type = CV_MAN_TURN, *mod = CV_MOD_UTURN;
        return 1;
    }
    int in_hw = is_highway(ea->road_class), in_ramp = is_ramp(ea->road_class);
    int out_hw = is_highway(eb->road_class), out_ramp = is_ramp(eb->road_class);
    /* the other roads that may be taken (not back where the route came from) */
    double other[MAX_ROADS];
    uint32_t other_code[MAX_ROADS];
    size_t nother = 0;
    int out_minor = is_minor(eb);
    for (size_t q = 0; q < nr; q++) {
        if (!r[q].entry || r[q].code == (in_code ^ 1u) || r[q].code == out_code)
            continue;
        if (!out_minor && is_minor(&g->a.edges[r[q].code >> 1]))
            continue;
        other_code[nother] = r[q].code;
        other[nother++] = turn_angle(before, r[q].bearing);
    }
    if ((in_hw || in_ramp) && (out_hw || out_ramp) && fabs(delta) <= FORK_MAX) {
        /* motorway forks and exits: the other fast roads near straight on. Two roads of the same kind (two
           motorways, two ramps) make a fork; a motorway going on beside the ramp taken makes an off ramp. */
        size_t ncand = 0, nleft = 0, nright = 0;
        double hw_delta = 0;
        int hw_other = 0;
        for (size_t k = 0; k < nother; k++) {
            int rc = g->a.edges[other_code[k] >> 1].road_class;
            if (fabs(other[k]) > FORK_MAX)
                continue;
            if (is_highway(rc))
                hw_other = 1, hw_delta = other[k];
            if (!(out_hw ? is_highway(rc) : is_ramp(rc)))
                continue;
            ncand++;
            nleft += other[k] < delta;
            nright += other[k] > delta;
        }
        if (in_hw && out_ramp && hw_other) {
            *type = CV_MAN_OFF_RAMP;
            *mod = side_modifier(delta - hw_delta);
            return 1;
        }
        if (ncand > 0) {
            *type = CV_MAN_FORK;
            *mod = nleft == 0 ? CV_MOD_SLIGHT_LEFT : nright == 0 ? CV_MOD_SLIGHT_RIGHT : CV_MOD_STRAIGHT;
            return 1;
        }
    }
    if (in_hw && out_ramp) {
        *type = CV_MAN_OFF_RAMP, *mod = side_modifier(delta);
        return 1;
    }
    if (!in_hw && !in_ramp && out_ramp) {
        *type = CV_MAN_ON_RAMP, *mod = modifier_of(delta);
        return 1;
    }
    if (in_ramp && out_hw) {
        /* the side the driver moves to, as OSRM says it: a ramp joining from the right bends right into the
           motorway's direction and merges left */
        *type = CV_MAN_MERGE, *mod = side_modifier(-delta);
        return 1;
    }
    if (in_hw && out_hw) { /* staying on the motorway: the ramps leaving it are no choice to announce */
        size_t k2 = 0;
        for (size_t k = 0; k < nother; k++)
            if (!is_ramp(g->a.edges[other_code[k] >> 1].road_class))
                other[k2++] = other[k];
        nother = k2;
    }
    int same = same_street(g, in_code >> 1, out_code >> 1);
    /* obvious: near straight on, and every other way clearly more of a turn; on the same street it is enough to
       be the straightest way on */
    int obvious = fabs(delta) <= OBVIOUS_MAX, straightest = obvious;
    for (size_t k = 0; obvious && k < nother; k++) {
        if (fabs(other[k]) < fabs(delta) + OBVIOUS_GAP || fabs(other[k]) < OBVIOUS_OTHER_MIN)
            obvious = 0;
        if (fabs(other[k]) <= fabs(delta))
            straightest = 0;
    }
    if (same && straightest)
        obvious = 1;
    if (nother == 0 || obvious) {
        if (!same) {
            *type = CV_MAN_NEW_NAME, *mod = modifier_of(delta);
            return 1;
        }
        if ((ea->flags ^ eb->flags) & CV_EDGE_FERRY) {
            *type = CV_MAN_NOTIFICATION, *mod = modifier_of(delta);
            return 1;
        }
        return 0;
    }
    const cv_street_name *nm = cv_graph_edge_name(g, out_code >> 1);
    *type = same && (nm->name || nm->ref) ? CV_MAN_CONTINUE : CV_MAN_TURN;
    *mod = modifier_of(delta);
    return 1;
}

/* A ring junction is an exit when a road off the ring may be taken there. */
static int is_exit(const cv_graph *g, uint32_t in_code, const road *r, size_t nr)
{
    for (size_t q = 0; q < nr; q++)
        if (r[q].entry && r[q].code != (in_code ^ 1u) && !(g->a.edges[r[q].code >> 1].flags & CV_EDGE_ROUNDABOUT))
            return 1;
    return 0;
}

static uint8_t roundabout_modifier(double delta)
{
    return fabs(delta) >= 170.0 ? CV_MOD_UTURN : modifier_of(delta);
}

static int make_steps(ctx *c, const cv_path *p)
{
    const cv_graph *g = c->g;
    cv_steps *o = c->out;
    const seg *s0 = &c->segs[0];
    double dep = lookahead_bearing(c->pts + s0->p0, s0->np, 0);
    if (dep < 0)
        dep = 0;
    const cv_edge *e0 = &g->a.edges[s0->code >> 1];
    uint16_t b0 = round_bearing(dep);
    uint8_t yes = 1;
    if (new_step(o, CV_MAN_DEPART, CV_MOD_NONE, c->pts[s0->p0], 0, dep, g->a.edge_name[s0->code >> 1],
                 !!(e0->flags & CV_EDGE_FERRY)) ||
        add_intersection(o, c->pts[s0->p0], &b0, &yes, 1, -1, 0) || add_seg(c, s0))
        return CV_ENOMEM;
    /* roundabout state: the step that entered it (NONE when the route started on it), the bearing arriving at
       its entry, and the exits passed */
    size_t ra_step = SIZE_MAX;
    double ra_before = 0;
    uint32_t exits = 0;
    road r[MAX_ROADS];
    uint16_t bearings[MAX_ROADS];
    uint8_t entry[MAX_ROADS];
    for (size_t i = 1; i < c->nsegs; i++) {
        const seg *A = &c->segs[i - 1], *B = &c->segs[i];
        const cv_edge *ea = &g->a.edges[A->code >> 1], *eb = &g->a.edges[B->code >> 1];
        uint32_t j = (A->code & 1) ? ea->u : ea->v;
        cv_coord loc = g->a.node_coord[j];
        size_t nr = junction_roads(g, j, cv_graph_arc_head(g, A->code), r);
        int in = road_index(r, nr, A->code ^ 1u), out = road_index(r, nr, B->code);
        double before = fmod(road_bearing(g, A->code ^ 1u) + 180.0, 360.0), after = road_bearing(g, B->code);
        double delta = turn_angle(before, after);
        int ra_a = !!(ea->flags & CV_EDGE_ROUNDABOUT), ra_b = !!(eb->flags & CV_EDGE_ROUNDABOUT);
        uint8_t type = 0, mod = CV_MOD_NONE;
        int announce = 0;
        uint32_t exit = 0;
        if (ra_a && ra_b) {
            exits += (uint32_t)is_exit(g, A->code, r, nr);
        } else if (!ra_a && ra_b) {
            type = CV_MAN_ROUNDABOUT, mod = CV_MOD_STRAIGHT, announce = 1;
            ra_step = o->n;
            ra_before = before;
            exits = 0;
        } else if (ra_a && !ra_b) {
            exit = ++exits;
            mod = roundabout_modifier(ra_step != SIZE_MAX ? turn_angle(ra_before, after) : delta);
            if (ra_step != SIZE_MAX) {
                o->steps[ra_step].exit = exit;
                o->steps[ra_step].modifier = mod;
            }
            type = CV_MAN_EXIT_ROUNDABOUT, announce = 1;
            ra_step = SIZE_MAX;
        } else {
            announce = plain_maneuver(g, A->code, B->code, r, nr, before, delta, &type, &mod);
        }
        if (announce) {
            if (new_step(o, type, mod, loc, before, after, g->a.edge_name[B->code >> 1], !!(eb->flags & CV_EDGE_FERRY)))
                return CV_ENOMEM;
            o->steps[o->n - 1].exit = exit;
        }
        for (size_t q = 0; q < nr; q++)
            bearings[q] = r[q].bearing, entry[q] = r[q].entry;
        if (add_intersection(o, loc, bearings, entry, nr, in, out) || add_seg(c, B))
            return CV_ENOMEM;
    }
    /* arrive: zero distance at the last point */
    const seg *sl = &c->segs[c->nsegs - 1];
    double arr = lookahead_bearing(c->pts + sl->p0, sl->np, 1);
    arr = arr < 0 ? 0 : fmod(arr + 180.0, 360.0);
    if (ra_step != SIZE_MAX) /* ends on the roundabout */
        o->steps[ra_step].modifier = roundabout_modifier(turn_angle(ra_before, arr));
    cv_coord end = c->pts[sl->p0 + sl->np - 1];
    uint16_t bin = round_bearing(fmod(arr + 180.0, 360.0));
    if (new_step(o, CV_MAN_ARRIVE, CV_MOD_NONE, end, arr, 0, g->a.edge_name[sl->code >> 1],
                 !!(g->a.edges[sl->code >> 1].flags & CV_EDGE_FERRY)) ||
        add_intersection(o, end, &bin, &yes, 1, 0, -1))
        return CV_ENOMEM;
    cv_step *last = &o->steps[o->n - 1];
    if (grow((void **)&o->points, &o->cap_points, o->npoints + 2, sizeof *o->points))
        return CV_ENOMEM;
    o->points[o->npoints++] = end;
    o->points[o->npoints++] = end;
    last->npoints = 2;

    /* weights: each step weighs its duration; the no-through penalties of the path go to the step that enters
       the first no-through road from an open one (else to the last step that moves) */
    uint64_t dur = 0;
    for (size_t k = 0; k < o->n; k++) {
        o->steps[k].weight = o->steps[k].duration_ds;
        dur += o->steps[k].duration_ds;
    }
    if (p->weight > dur) {
        size_t target = o->n >= 2 ? o->n - 2 : 0;
        for (size_t i = 1; i < c->nsegs; i++)
            if ((g->a.edges[c->segs[i].code >> 1].flags & CV_EDGE_NO_THROUGH) &&
                !(g->a.edges[c->segs[i - 1].code >> 1].flags & CV_EDGE_NO_THROUGH)) {
                target = c->seg_step[i];
                break;
            }
        uint64_t w = o->steps[target].weight + (p->weight - dur);
        o->steps[target].weight = w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
    }
    return 0;
}

int cv_path_steps(const cv_graph *g, const cv_path *p, cv_steps *out)
{
    out->n = out->npoints = out->nintersections = out->nbearings = 0;
    ctx c = {.g = g, .out = out};
    int rc = build_segments(&c, p);
    if (!rc && !(c.seg_step = malloc(c.nsegs * sizeof *c.seg_step)))
        rc = CV_ENOMEM;
    if (!rc)
        rc = make_steps(&c, p);
    free(c.segs);
    free(c.pts);
    free(c.seg_step);
    return rc;
}

void cv_steps_free(cv_steps *s)
{
    if (!s)
        return;
    free(s->steps), free(s->points), free(s->intersections), free(s->bearings), free(s->entry);
    memset(s, 0, sizeof *s);
}

/* Appends text to buf (cap bytes, *n used), cut at a UTF-8 character boundary when it does not fit. */
static void append_cut(char *buf, size_t cap, size_t *n, const char *text)
{
    size_t m = strlen(text);
    if (*n + m >= cap) {
        m = cap - 1 - *n;
        while (m > 0 && ((unsigned char)text[m] & 0xc0) == 0x80)
            m--;
    }
    memcpy(buf + *n, text, m);
    *n += m;
    buf[*n] = '\0';
}

void cv_steps_summary(const cv_graph *g, const cv_steps *s, char *buf, size_t cap)
{
    if (cap == 0)
        return;
    buf[0] = '\0';
    /* distinct roads by the offset of their name (or ref) in the deduplicated string table */
    uint32_t key[2] = {0, 0};
    uint64_t dist[2] = {0, 0};
    size_t first[2] = {0, 0};
    for (size_t k = 0; k < s->n; k++) {
        const cv_street_name *nm = &g->a.names[s->steps[k].name];
        uint32_t kk = nm->name ? nm->name : nm->ref;
        if (!kk)
            continue;
        int seen = 0;
        for (size_t q = 0; q < k; q++) {
            const cv_street_name *o = &g->a.names[s->steps[q].name];
            if ((o->name ? o->name : o->ref) == kk)
                seen = 1;
        }
        if (seen)
            continue;
        uint64_t d = 0;
        for (size_t q = k; q < s->n; q++) {
            const cv_street_name *o = &g->a.names[s->steps[q].name];
            if ((o->name ? o->name : o->ref) == kk)
                d += s->steps[q].distance_dm;
        }
        if (!key[0] || d > dist[0]) {
            key[1] = key[0], dist[1] = dist[0], first[1] = first[0];
            key[0] = kk, dist[0] = d, first[0] = k;
        } else if (!key[1] || d > dist[1]) {
            key[1] = kk, dist[1] = d, first[1] = k;
        }
    }
    if (!key[0])
        return;
    int a = !key[1] || first[0] < first[1] ? 0 : 1;
    size_t n = 0;
    append_cut(buf, cap, &n, cv_graph_string(g, key[a]));
    if (key[1]) {
        append_cut(buf, cap, &n, ", ");
        append_cut(buf, cap, &n, cv_graph_string(g, key[!a]));
    }
}

const char *cv_maneuver_type_name(int type)
{
    static const char *const names[CV_MAN_COUNT] = {
        [CV_MAN_DEPART] = "depart",
        [CV_MAN_ARRIVE] = "arrive",
        [CV_MAN_TURN] = "turn",
        [CV_MAN_NEW_NAME] = "new name",
        [CV_MAN_CONTINUE] = "continue",
        [CV_MAN_ROUNDABOUT] = "roundabout",
        [CV_MAN_EXIT_ROUNDABOUT] = "exit roundabout",
        [CV_MAN_ON_RAMP] = "on ramp",
        [CV_MAN_OFF_RAMP] = "off ramp",
        [CV_MAN_MERGE] = "merge",
        [CV_MAN_FORK] = "fork",
        [CV_MAN_NOTIFICATION] = "notification",
    };
    return type >= 0 && type < CV_MAN_COUNT ? names[type] : "turn";
}

const char *cv_modifier_name(int modifier)
{
    static const char *const names[CV_MOD_COUNT] = {
        [CV_MOD_NONE] = NULL,
        [CV_MOD_UTURN] = "uturn",
        [CV_MOD_SHARP_RIGHT] = "sharp right",
        [CV_MOD_RIGHT] = "right",
        [CV_MOD_SLIGHT_RIGHT] = "slight right",
        [CV_MOD_STRAIGHT] = "straight",
        [CV_MOD_SLIGHT_LEFT] = "slight left",
        [CV_MOD_LEFT] = "left",
        [CV_MOD_SHARP_LEFT] = "sharp left",
    };
    return modifier > 0 && modifier < CV_MOD_COUNT ? names[modifier] : NULL;
}
