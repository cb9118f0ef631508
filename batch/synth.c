/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* synth.c — synthetic commuter populations (synth.h): homes at random points of the residential streets (each
   street by its length), workplaces scattered around a few centres on the main roads, a morning and an evening
   peak, and the CSV writer for them (libcsv quotes the values). */
#define _POSIX_C_SOURCE 200809L
#include "batch/synth.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routing/road_class.h"
#include "routing/snap.h"

#define TRIES 200

cv_synth_options cv_synth_defaults(void)
{
    cv_synth_options o = {0};
    o.seed = 1;
    o.centres = 4;
    o.centre_m = 1500;
    o.drivers = 0.40;
    o.passengers = 0.35;
    o.min_trip_m = 1500;
    return o;
}

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s)
{
    return (double)(next(s) >> 11) / 9007199254740992.0;
}

static double normal(uint64_t *s)
{
    double u = uniform(s), v = uniform(s);
    return sqrt(-2 * log(u > 1e-12 ? u : 1e-12)) * cos(2 * 3.14159265358979323846 * v);
}

/* Edges of the wanted classes in the largest component, with their cumulative lengths. */
typedef struct edge_pool {
    uint32_t *edge;
    double *upto;
    size_t n;
} edge_pool;

static int pool_make(const cv_graph *g, uint32_t classes, edge_pool *p)
{
    p->edge = malloc((g->hdr.nedges ? g->hdr.nedges : 1) * sizeof *p->edge);
    p->upto = malloc((g->hdr.nedges ? g->hdr.nedges : 1) * sizeof *p->upto);
    p->n = 0;
    if (!p->edge || !p->upto)
        return -1;
    double total = 0;
    for (uint32_t e = 0; e < g->hdr.nedges; e++) {
        const cv_edge *ed = &g->a.edges[e];
        if (!(classes >> ed->road_class & 1) || g->a.node_component[ed->u] != g->hdr.largest_component ||
            g->a.node_component[ed->v] != g->hdr.largest_component)
            continue;
        total += ed->length_dm;
        p->edge[p->n] = e;
        p->upto[p->n++] = total;
    }
    return 0;
}

/* A point along an edge of the pool, drawn by length. */
static cv_coord pool_point(const cv_graph *g, const edge_pool *p, uint64_t *s)
{
    double x = uniform(s) * p->upto[p->n - 1];
    size_t lo = 0, hi = p->n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->upto[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t n;
    const cv_coord *pts = cv_graph_edge_points(g, p->edge[lo], &n);
    uint32_t k = n > 1 ? (uint32_t)(next(s) % (n - 1)) : 0;
    double t = uniform(s);
    const cv_coord *b = n > 1 ? &pts[k + 1] : &pts[k];
    return (cv_coord){(int32_t)lround(pts[k].lon + t * (b->lon - pts[k].lon)),
                      (int32_t)lround(pts[k].lat + t * (b->lat - pts[k].lat))};
}

/* p snapped where a car may stop: 0 and *out, or -1. */
static int stop_at(const cv_graph *g, cv_coord p, cv_coord *out)
{
    cv_snap_options so = cv_snap_defaults();
    so.stop_only = 1;
    cv_snap s;
    if (cv_snap_point(g, p, &so, &s, NULL))
        return -1;
    /* on the main network only: a place that snaps to an island (no edge of the largest component within reach)
       would have no route to anyone's */
    const cv_edge *e = &g->a.edges[s.edge];
    if (g->a.node_component[e->u] != g->hdr.largest_component || g->a.node_component[e->v] != g->hdr.largest_component)
        return -1;
    *out = s.location;
    return 0;
}

static int32_t five_minutes(double s, double lo, double hi)
{
    s = fmin(fmax(s, lo), hi);
    return (int32_t)(lround(s / 300.0) * 300);
}

int cv_population_synth(const cv_graph *g, size_t n, const cv_synth_options *o, cv_person **out, cv_error *err)
{
    *out = NULL;
    edge_pool homes = {0}, mains = {0};
    uint32_t home_classes = 1u << CV_RC_RESIDENTIAL | 1u << CV_RC_LIVING_STREET | 1u << CV_RC_UNCLASSIFIED;
    uint32_t main_classes = 1u << CV_RC_PRIMARY | 1u << CV_RC_SECONDARY | 1u << CV_RC_TERTIARY;
    cv_person *v = calloc(n ? n : 1, sizeof *v);
    int rc = 0;
    if (!v || pool_make(g, home_classes, &homes) || pool_make(g, main_classes, &mains))
        rc = cv_fail(err, CV_ENOMEM, "out of memory");
    if (!rc && !homes.n)
        rc = cv_fail(err, CV_EINVAL, "the graph has no residential street in its main network");
    if (!rc && !mains.n) /* a small map: workplaces around streets of any kind */
        free(mains.edge), free(mains.upto), mains = homes, homes.edge = NULL;
    uint64_t s = o->seed ? o->seed : 1;
    int nc = o->centres > 0 ? o->centres : 1;
    cv_coord centre[64];
    if (nc > 64)
        nc = 64;
    for (int c = 0; !rc && c < nc; c++)
        centre[c] = pool_point(g, &mains, &s);
    const edge_pool *home_pool = homes.edge ? &homes : &mains;
    for (size_t i = 0; !rc && i < n; i++) {
        cv_person *p = &v[i];
        snprintf(p->id, sizeof p->id, "c%zu", i + 1);
        double r = uniform(&s);
        p->role = r < o->drivers ? CV_ROLE_DRIVER : r < o->drivers + o->passengers ? CV_ROLE_PASSENGER : CV_ROLE_EITHER;
        p->seats = p->role == CV_ROLE_PASSENGER ? 0 : 1 + (int)(next(&s) % 4);
        int placed = 0;
        for (int t = 0; !placed && t < TRIES; t++) {
            cv_coord c = centre[next(&s) % (uint64_t)nc];
            double dx = normal(&s) * o->centre_m / sqrt(2), dy = normal(&s) * o->centre_m / sqrt(2);
            double lat = cv_deg(c.lat);
            cv_coord w = {cv_fixed(cv_deg(c.lon) + dx / (111195.0 * cos(lat * 3.14159265358979323846 / 180))),
                          cv_fixed(lat + dy / 111195.0)};
            cv_coord h = pool_point(g, home_pool, &s);
            if (stop_at(g, w, &p->work) || stop_at(g, h, &p->home) || cv_distance_m(p->home, p->work) < o->min_trip_m)
                continue;
            placed = 1;
        }
        if (!placed) {
            rc = cv_fail(err, CV_EINVAL, "the map is too small for trips of %.0f m between a home and a workplace",
                         o->min_trip_m);
            break;
        }
        p->arrive_by_s = five_minutes(8.25 * 3600 + normal(&s) * 1800, 6 * 3600, 10.5 * 3600);
        p->leave_at_s =
            five_minutes(p->arrive_by_s + 8 * 3600 + uniform(&s) * 5400, p->arrive_by_s + 3600, 23.9 * 3600);
        double d = uniform(&s);
        p->days = 0x1f;
        if (d > 0.75) /* some work four days, a few three */
            p->days &= (uint8_t) ~(1u << (next(&s) % 5));
        if (d > 0.90)
            p->days &= (uint8_t) ~(1u << (next(&s) % 5));
        static const int flex_min[] = {10, 15, 15, 20, 30};
        p->flex_s = flex_min[next(&s) % 5] * 60;
        p->max_detour_s = -1;
        p->max_detour_pct = -1;
        p->line = (int)i + 2;
    }
    free(homes.edge), free(homes.upto), free(mains.edge), free(mains.upto);
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    return 0;
}

static void hhmm(int32_t s, char out[8])
{
    s = ((s % 86400) + 86400) % 86400;
    snprintf(out, 8, "%02d:%02d", (int)(s / 3600) % 24, (int)(s / 60 % 60));
}

int cv_population_write(const char *path, const cv_person *v, size_t n, cv_error *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return cv_fail(err, CV_EIO, "cannot write %s: %s", path, strerror(errno));
    static const char *const names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    int caps = 0; /* the detour caps' columns, when someone has one */
    for (size_t i = 0; i < n; i++)
        caps |= v[i].max_detour_s >= 0 || v[i].max_detour_pct >= 0;
    fputs("id,role,home_lon,home_lat,work_lon,work_lat,arrive_by,leave_at,days,seats,flex_min", f);
    fputs(caps ? ",max_detour_min,max_detour_pct\n" : "\n", f);
    for (size_t i = 0; i < n; i++) {
        const cv_person *p = &v[i];
        char days[40] = "", a[8], l[8];
        for (int d = 0; d < 7; d++)
            if (p->days >> d & 1) {
                if (days[0])
                    strcat(days, ",");
                strcat(days, names[d]);
            }
        hhmm(p->arrive_by_s, a);
        hhmm(p->leave_at_s, l);
        csv_fwrite(f, p->id, strlen(p->id));
        fprintf(f, ",%s,%.7f,%.7f,%.7f,%.7f,%s,%s,", cv_role_name(p->role), cv_deg(p->home.lon), cv_deg(p->home.lat),
                cv_deg(p->work.lon), cv_deg(p->work.lat), a, l);
        csv_fwrite(f, days, strlen(days));
        fprintf(f, ",%d,%d", p->seats, p->flex_s / 60);
        if (caps && p->max_detour_s >= 0)
            fprintf(f, ",%d", p->max_detour_s / 60);
        else if (caps)
            fputs(",", f);
        if (caps && p->max_detour_pct >= 0)
            fprintf(f, ",%.17g", p->max_detour_pct);
        else if (caps)
            fputs(",", f);
        fputs("\n", f);
    }
    return fclose(f) ? cv_fail(err, CV_EIO, "cannot write %s: %s", path, strerror(errno)) : 0;
}
