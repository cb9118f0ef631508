/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* report.c — plan.csv (libcsv quotes its values), summary.json and plan.geojson (jansson), report.html and its
   data and scripts, written to temporary names first and renamed into place together (report.h). */
#define _POSIX_C_SOURCE 200809L
#include "batch/report.h"

#include <csv.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "routing/ch.h"
#include "routing/path.h"

static const char *const why_names[] = {"matched", "no one near", "times do not fit", "partners taken"};

static void hhmm(int64_t s, char out[8])
{
    s = ((s % 86400) + 86400) % 86400;
    snprintf(out, 8, "%02d:%02d", (int)(s / 3600), (int)(s / 60 % 60));
}

static void days_text(uint8_t d, char out[32])
{
    static const char *const names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    out[0] = '\0';
    for (int i = 0; i < 7; i++)
        if (d & (1u << i)) {
            if (out[0])
                strcat(out, ",");
            strcat(out, names[i]);
        }
}

/* One CSV row of the values given. */
static void row(FILE *f, const char *const *cells, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', f);
        csv_fwrite(f, cells[i], strlen(cells[i]));
    }
    fputc('\n', f);
}

static int write_plan_csv(const char *path, const cv_person *v, const cv_batch_result *r)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    static const char *const head[] = {"id",
                                       "carpool",
                                       "role",
                                       "driver",
                                       "pickup_order",
                                       "days",
                                       "out_pickup",
                                       "out_dropoff",
                                       "back_pickup",
                                       "back_dropoff",
                                       "added_min",
                                       "km_saved_week",
                                       "contribution_per_trip",
                                       "unmatched_why"};
    row(f, head, sizeof head / sizeof *head);
    for (size_t i = 0; i < r->n; i++) {
        const cv_batch_person *x = &r->people[i];
        char carpool[24] = "", order[8] = "", days[32] = "", op[8] = "", od[8] = "", bp[8] = "", bd[8] = "",
             added[24] = "", saved[32] = "", money[24] = "";
        const char *role = "", *driver = "", *why = x->carpool < 0 ? why_names[x->why] : "";
        if (x->carpool >= 0) {
            const cv_carpool *c = &r->optimal.carpools[x->carpool];
            int k = 0;
            while (!x->driver && k < c->np - 1 && c->riders[k].p != i)
                k++;
            const cv_carpool_rider *rd = &c->riders[k];
            snprintf(carpool, sizeof carpool, "%d", x->carpool + 1);
            role = x->driver ? "driver" : "passenger";
            driver = v[c->driver].id;
            snprintf(order, sizeof order, "%d", x->driver ? 0 : k + 1);
            days_text(x->driver ? c->days : rd->days, days);
            /* the driver: leaving home and arriving at work, leaving work and arriving home; a passenger: picked
               up and dropped off, both ways */
            hhmm(x->driver ? c->out_depart : rd->out_pickup, op);
            hhmm(x->driver ? c->out_arrive : rd->out_drop, od);
            hhmm(x->driver ? c->back_depart : rd->back_pickup, bp);
            hhmm(x->driver ? c->back_arrive : rd->back_drop, bd);
            snprintf(added, sizeof added, "%.1f", x->driver ? (c->out_added.ds + c->back_added.ds) / 600.0 : 0.0);
            snprintf(saved, sizeof saved, "%.2f", c->saved_dm / 10000.0);
            /* a passenger's contribution; the driver's row: all of them, what one way with everyone brings */
            double sum = 0;
            for (int t = 0; t < c->np; t++)
                sum += c->riders[t].contribution;
            snprintf(money, sizeof money, "%.2f", x->driver ? sum : rd->contribution);
        }
        const char *cells[] = {v[i].id, carpool, role, driver, order, days, op, od, bp, bd, added, saved, money, why};
        row(f, cells, sizeof cells / sizeof *cells);
    }
    return fclose(f) ? -1 : 0;
}

static json_t *plan_json(const cv_batch_plan *p)
{
    const cv_plan_figures *f = &p->figures;
    return json_pack("{s:I,s:I,s:I,s:f,s:f,s:f}", "carpools", (json_int_t)f->carpools, "passengers_matched",
                     (json_int_t)f->passengers, "participants_matched", (json_int_t)f->matched, "km_saved_per_week",
                     f->km_saved_week, "co2_kg_avoided_per_week", f->co2_kg_week, "solo_km_per_week", f->solo_km_week);
}

static int write_summary(const char *path, const cv_person *v, const cv_batch_result *r, const cv_batch_options *o)
{
    size_t why[4] = {0};
    for (size_t i = 0; i < r->n; i++)
        why[r->people[i].why]++;
    (void)v;
    json_t *opt = plan_json(&r->optimal), *greedy = plan_json(&r->greedy);
    double share = r->n ? (double)r->optimal.figures.matched / (double)r->n : 0;
    int km = o->objective == CV_OBJECTIVE_KM;
    double value = km ? r->optimal.figures.km_saved_week : (double)r->optimal.figures.matched;
    json_t *doc = json_pack(
        "{s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:s,s:s,s:b,s:f,s:f,s:f,s:o,s:{s:I,s:I,s:I},s:{s:f,s:s,s:i,s:f}}",
        "participants", (json_int_t)r->n, "carpools", (json_int_t)r->optimal.figures.carpools, "passengers_matched",
        (json_int_t)r->optimal.figures.passengers, "participants_matched", (json_int_t)r->optimal.figures.matched,
        "matched_share", share, "km_saved_per_week", r->optimal.figures.km_saved_week, "solo_km_per_week",
        r->optimal.figures.solo_km_week, "co2_kg_avoided_per_week", r->optimal.figures.co2_kg_week, "objective",
        km ? "km" : "matched", "method", r->method, "proven_optimal", r->proven_optimal,
        km ? "upper_bound_km_per_week" : "upper_bound_participants_matched", r->upper_bound, "gap",
        r->upper_bound > 0 ? (r->upper_bound - value) / r->upper_bound : 0.0, "seconds", r->seconds, "greedy", greedy,
        "unmatched", "no_one_near", (json_int_t)why[1], "times_do_not_fit", (json_int_t)why[2], "partners_taken",
        (json_int_t)why[3], "rules", "co2_kg_per_km", o->co2_kg_per_km, "co2_source",
        "ADEME, average car, per vehicle-km", "max_passengers", o->max_passengers, "price_per_km", o->per_km);
    if (doc) {
        json_object_set_new(doc, "optimal", opt);
        json_object_set_new(doc, "feasible_pairs", json_integer((json_int_t)r->pairs));
        json_object_set_new(doc, "feasible_groups", json_integer((json_int_t)r->groups));
    } else {
        json_decref(opt);
    }
    int rc = doc ? json_dump_file(doc, path, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) : -1;
    json_decref(doc);
    return rc;
}

static json_t *point(const char *kind, const cv_person *p, cv_coord at, const cv_batch_person *x)
{
    return json_pack("{s:s,s:{s:s,s:[f,f]},s:{s:s,s:s,s:s,s:i}}", "type", "Feature", "geometry", "type", "Point",
                     "coordinates", cv_deg(at.lon), cv_deg(at.lat), "properties", "kind", kind, "id", p->id, "role",
                     cv_role_name(p->role), "carpool", x->carpool + 1);
}

/* The route through stops a, b, c, d as a LineString's coordinates; NULL when a leg has no route. */
/* A carpool's places in the order the car passes them, each way (the driver's home, the stops, the driver's
   work; back the reverse): their count. */
static int carpool_stops(const cv_batch_result *r, const cv_carpool *c, const cv_snap **out, const cv_snap **back)
{
    const cv_batch_person *d = &r->people[c->driver];
    int n = 2 * c->np;
    out[0] = &d->home, out[n + 1] = &d->work;
    back[0] = &d->work, back[n + 1] = &d->home;
    for (int k = 0; k < n; k++) {
        const cv_batch_person *p = &r->people[c->riders[(c->out_stops[k] - 2) / 2].p];
        const cv_batch_person *b = &r->people[c->riders[(c->back_stops[k] - 2) / 2].p];
        out[k + 1] = c->out_stops[k] % 2 ? &p->work : &p->home;
        back[k + 1] = c->back_stops[k] % 2 ? &b->work : &b->home;
    }
    return n + 2;
}

static json_t *route_line(cv_ch_query *q, const cv_graph *g, const cv_snap *const *stops, int n)
{
    json_t *line = json_array();
    for (int k = 0; line && k + 1 < n; k++) {
        cv_path path = {0};
        cv_coord *pts = NULL;
        size_t np = 0;
        cv_error e = {0};
        if (cv_ch_route(q, stops[k], stops[k + 1], &path, &e) || cv_path_geometry(g, &path, &pts, &np)) {
            cv_path_free(&path);
            json_decref(line);
            return NULL;
        }
        for (size_t i = k && np ? 1 : 0; i < np; i++) /* the joints once */
            json_array_append_new(line, json_pack("[f,f]", cv_deg(pts[i].lon), cv_deg(pts[i].lat)));
        free(pts);
        cv_path_free(&path);
    }
    return line;
}

/* Streamed one feature at a time: a plan of ten thousand carpools holds millions of points, which as one jansson
   document would take gigabytes. */
static int write_feature(FILE *f, json_t *feature, int *first)
{
    if (!feature)
        return -1;
    int rc = fputs(*first ? "\n" : ",\n", f) < 0 || json_dumpf(feature, f, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(feature);
    *first = 0;
    return rc ? -1 : 0;
}

/* The report draws each carpool's way out as its road route while there are at most this many carpools (the
   page stays a few megabytes), and as its stops joined by straight lines beyond. */
#define REPORT_ROUTES_MAX 2000
#define REPORT_ROUTE_TOLERANCE_M 15.0 /* how far the simplified route may stray from the road */

/* line (a LineString's [lon, lat] coordinates) simplified by Douglas-Peucker to within tol_m, as [lat, lon] pairs
   (Leaflet's order) rounded to 1e-5 degree; NULL when out of memory. */
static json_t *simplified(const json_t *line, double tol_m)
{
    size_t n = json_array_size(line);
    double *x = malloc((n ? n : 1) * sizeof *x), *y = malloc((n ? n : 1) * sizeof *y);
    char *keep = calloc(n ? n : 1, 1);
    size_t *stack = malloc((2 * n + 2) * sizeof *stack);
    json_t *out = x && y && keep && stack ? json_array() : NULL;
    if (out && n) {
        double lat0 = json_real_value(json_array_get(json_array_get(line, 0), 1));
        double kx = 111195.0 * cos(lat0 * 3.14159265358979323846 / 180), ky = 111195.0;
        for (size_t i = 0; i < n; i++) {
            json_t *pt = json_array_get(line, i);
            x[i] = json_real_value(json_array_get(pt, 0)) * kx;
            y[i] = json_real_value(json_array_get(pt, 1)) * ky;
        }
        keep[0] = keep[n - 1] = 1;
        size_t top = 0;
        stack[top++] = 0, stack[top++] = n - 1;
        while (top) {
            size_t b = stack[--top], a = stack[--top], far = a;
            double dx = x[b] - x[a], dy = y[b] - y[a], len2 = dx * dx + dy * dy, worst = 0;
            for (size_t i = a + 1; i < b; i++) {
                double t = len2 > 0 ? ((x[i] - x[a]) * dx + (y[i] - y[a]) * dy) / len2 : 0;
                t = t < 0 ? 0 : t > 1 ? 1 : t;
                double ex = x[a] + t * dx - x[i], ey = y[a] + t * dy - y[i], d2 = ex * ex + ey * ey;
                if (d2 > worst)
                    worst = d2, far = i;
            }
            if (worst > tol_m * tol_m) {
                keep[far] = 1;
                stack[top++] = a, stack[top++] = far, stack[top++] = far, stack[top++] = b;
            }
        }
        for (size_t i = 0; i < n; i++)
            if (keep[i])
                json_array_append_new(out,
                                      json_pack("[f,f]", round(y[i] / ky * 1e5) / 1e5, round(x[i] / kx * 1e5) / 1e5));
    }
    free(x), free(y), free(keep), free(stack);
    return out;
}

/* plan.geojson; with routes (when not NULL) getting each carpool's way out, simplified for the report. */
static int write_geojson(const char *path, const cv_graph *g, const cv_person *v, const cv_batch_result *r,
                         json_t **routes)
{
    FILE *f = fopen(path, "w");
    cv_ch_query *q = f ? cv_ch_query_new(g) : NULL;
    int bad = !q || fputs("{\"type\":\"FeatureCollection\",\"features\":[", f) < 0, first = 1;
    for (size_t i = 0; !bad && i < r->n; i++)
        bad = write_feature(f, point("home", &v[i], r->people[i].home.location, &r->people[i]), &first) ||
              write_feature(f, point("work", &v[i], r->people[i].work.location, &r->people[i]), &first);
    for (size_t k = 0; !bad && k < r->optimal.ncarpools; k++) {
        const cv_carpool *c = &r->optimal.carpools[k];
        const cv_snap *out[2 * CV_GROUP_MAX + 2], *back[2 * CV_GROUP_MAX + 2];
        int ns = carpool_stops(r, c, out, back);
        json_t *ids = json_array();
        for (int t = 0; ids && t < c->np; t++)
            json_array_append_new(ids, json_string(v[c->riders[t].p].id));
        for (int way = 0; !bad && way < 2; way++) {
            json_t *line = route_line(q, g, way ? back : out, ns);
            if (line && routes && !way && !(routes[k] = simplified(line, REPORT_ROUTE_TOLERANCE_M)))
                bad = 1;
            bad = bad || !line ||
                  write_feature(f,
                                json_pack("{s:s,s:{s:s,s:o},s:{s:s,s:i,s:s,s:s,s:O,s:f,s:f}}", "type", "Feature",
                                          "geometry", "type", "LineString", "coordinates", line, "properties", "kind",
                                          "carpool", "carpool", (int)k + 1, "way", way ? "back" : "out", "driver",
                                          v[c->driver].id, "passengers", ids, "km_saved_week", c->saved_dm / 10000.0,
                                          "added_min", (way ? c->back_added.ds : c->out_added.ds) / 600.0),
                                &first);
        }
        json_decref(ids);
    }
    cv_ch_query_free(q);
    if (!bad)
        bad = fputs("\n]}\n", f) < 0;
    if (f && fclose(f))
        bad = 1;
    return bad ? -1 : 0;
}

/* --- report.html --- */

enum { A_REPORT_JS, A_REPORT_CSS, A_LEAFLET_JS, A_LEAFLET_CSS, A_CHART_JS, NASSETS };
static const char *const asset_name[NASSETS] = {"report.js", "report.css", "lib/leaflet.js", "lib/leaflet.css",
                                                "lib/chart.umd.js"};

static void asset_path(const cv_report_assets *a, int k, char *out, size_t cap)
{
    static const char *const src[NASSETS] = {"report.js", "report.css", "leaflet/dist/leaflet.js",
                                             "leaflet/dist/leaflet.css", "chart.js/dist/chart.umd.js"};
    snprintf(out, cap, "%s/%s", k < A_LEAFLET_JS ? a->page_dir : a->npm_dir, src[k]);
}

int cv_report_assets_ok(const cv_report_assets *a, char *why, size_t cap)
{
    for (int k = 0; k < NASSETS; k++) {
        char path[4096];
        asset_path(a, k, path, sizeof path);
        if (access(path, R_OK)) {
            snprintf(why, cap, "%s is missing", path);
            return 0;
        }
    }
    return 1;
}

static int copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    char buf[65536];
    size_t got;
    int bad = !out;
    while (!bad && (got = fread(buf, 1, sizeof buf, in)) > 0)
        bad = fwrite(buf, 1, got, out) != got;
    bad |= in && ferror(in);
    if (in)
        fclose(in);
    if (out && fclose(out))
        bad = 1;
    return bad ? -1 : 0;
}

static json_t *latlon(cv_coord c)
{
    return json_pack("[f,f]", round(cv_deg(c.lat) * 1e6) / 1e6, round(cv_deg(c.lon) * 1e6) / 1e6);
}

/* report-data.js: window.COVOIT_REPORT, the plan as the page draws it (carpools as their stops, the unmatched and
   why, the figures of both plans). */
static int write_report_data(const char *path, const cv_person *v, const cv_batch_result *r, json_t **routes)
{
    json_t *carpools = json_array(), *unmatched = json_array();
    for (size_t k = 0; carpools && k < r->optimal.ncarpools; k++) {
        const cv_carpool *c = &r->optimal.carpools[k];
        const cv_snap *out[2 * CV_GROUP_MAX + 2], *back[2 * CV_GROUP_MAX + 2];
        int ns = carpool_stops(r, c, out, back);
        json_t *ids = json_array(), *stops = json_array(), *homes = json_array();
        for (int t = 0; ids && t < c->np; t++) {
            json_array_append_new(ids, json_string(v[c->riders[t].p].id));
            json_array_append_new(homes, latlon(r->people[c->riders[t].p].home.location));
        }
        for (int t = 0; stops && t < ns; t++)
            json_array_append_new(stops, latlon(out[t]->location));
        json_array_append_new(carpools, json_pack("{s:i,s:s,s:o,s:o,s:o,s:f,s:f,s:f}", "id", (int)k + 1, "driver",
                                                  v[c->driver].id, "passengers", ids, "stops", stops, "homes", homes,
                                                  "added_out_min", c->out_added.ds / 600.0, "added_back_min",
                                                  c->back_added.ds / 600.0, "km_saved_week", c->saved_dm / 10000.0));
        if (routes && routes[k])
            json_object_set(json_array_get(carpools, json_array_size(carpools) - 1), "route", routes[k]);
    }
    for (size_t i = 0; unmatched && i < r->n; i++)
        if (r->people[i].carpool < 0)
            json_array_append_new(unmatched,
                                  json_pack("{s:s,s:s,s:o}", "id", v[i].id, "why", why_names[r->people[i].why], "home",
                                            latlon(r->people[i].home.location)));
    json_t *doc =
        json_pack("{s:I,s:o,s:o,s:o,s:o}", "participants", (json_int_t)r->n, "optimal", plan_json(&r->optimal),
                  "greedy", plan_json(&r->greedy), "carpools", carpools, "unmatched", unmatched);
    FILE *f = doc ? fopen(path, "w") : NULL;
    int bad = !f || fputs("window.COVOIT_REPORT = ", f) < 0 ||
              json_dumpf(doc, f, JSON_COMPACT | JSON_REAL_PRECISION(8)) || fputs(";\n", f) < 0;
    if (f && fclose(f))
        bad = 1;
    json_decref(doc);
    return bad ? -1 : 0;
}

static void thousands(double x, char *out, size_t cap)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", x);
    size_t n = strlen(digits), k = 0, lead = digits[0] == '-';
    for (size_t i = 0; i < n && k + 2 < cap; i++) {
        if (i > lead && (n - i) % 3 == 0)
            out[k++] = ',';
        out[k++] = digits[i];
    }
    out[k] = '\0';
}

/* report.html: the headline figures (in the page itself, readable without its scripts), then the map, the charts
   and the unmatched, which report.js draws. Numbers only come from the plan: nothing to escape. */
static int write_report_html(const char *path, const cv_batch_result *r, const cv_batch_options *o)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    const cv_plan_figures *a = &r->optimal.figures, *b = &r->greedy.figures;
    char when[32], ak[32], bk[32], ac[32], bc[32], solo[32], people[32], ac_n[32], bc_n[32], am[32], bm[32];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d", gmtime(&now));
    thousands(a->km_saved_week, ak, sizeof ak), thousands(b->km_saved_week, bk, sizeof bk);
    thousands(a->co2_kg_week, ac, sizeof ac), thousands(b->co2_kg_week, bc, sizeof bc);
    thousands(a->solo_km_week, solo, sizeof solo);
    thousands((double)r->n, people, sizeof people);
    thousands((double)a->carpools, ac_n, sizeof ac_n), thousands((double)b->carpools, bc_n, sizeof bc_n);
    thousands((double)a->matched, am, sizeof am), thousands((double)b->matched, bm, sizeof bm);
    double gain = b->km_saved_week > 0 ? 100.0 * (a->km_saved_week / b->km_saved_week - 1) : 0;
    char proof[160];
    if (r->proven_optimal)
        snprintf(proof, sizeof proof, "proven optimal");
    else if (o->objective == CV_OBJECTIVE_KM)
        snprintf(proof, sizeof proof, "within %.1f %% of the optimum (no plan saves more than %.0f km a week)",
                 r->upper_bound > 0 ? 100.0 * (r->upper_bound - a->km_saved_week) / r->upper_bound : 0.0,
                 r->upper_bound);
    else
        snprintf(proof, sizeof proof, "within %.1f %% of the optimum (no plan matches more than %.0f commuters)",
                 r->upper_bound > 0 ? 100.0 * (r->upper_bound - (double)a->matched) / r->upper_bound : 0.0,
                 r->upper_bound);
    fprintf(f,
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>Carpool plan: who should ride with whom</title>\n"
            "<link rel=\"stylesheet\" href=\"lib/leaflet.css\">\n<link rel=\"stylesheet\" href=\"report.css\">\n"
            "</head>\n<body>\n<h1>Who should ride with whom</h1>\n"
            "<p class=\"sub\">%s commuters, planned by covoit on %s. They drive %s km a week alone.</p>\n"
            "<table class=\"figures\">\n<tr><th></th><th>optimal plan</th><th>greedy rule</th></tr>\n"
            "<tr><td>carpools</td><td class=\"best\" id=\"carpools\">%s</td><td>%s</td></tr>\n"
            "<tr><td>commuters in a carpool</td><td class=\"best\">%s (%.0f %%)</td><td>%s (%.0f %%)</td></tr>\n"
            "<tr><td>passengers per car</td><td class=\"best\" id=\"per-car\">%.2f</td><td>%.2f</td></tr>\n"
            "<tr><td>car km saved per week</td><td class=\"best\" id=\"km\">%s</td><td>%s</td></tr>\n"
            "<tr><td>CO&#8322; avoided per week</td><td class=\"best\">%s kg</td><td>%s kg</td></tr>\n"
            "</table>\n"
            "<p class=\"method\">The optimal plan saves %.1f %% more than the greedy rule (each driver in turn takes "
            "the passengers who save most). Method: %s; %s. A carpool is a driver and up to %d passengers, to work and "
            "back on the days they share, within everyone's hours and at most +%.0f %% (or each one's own limit) of "
            "the driver's own route in added time and distance. CO&#8322;: %.3f kg per car km (ADEME, average "
            "car).</p>\n"
            "<h2>The carpools</h2>\n<div id=\"map\"></div>\n"
            "<div class=\"charts\">\n<div><h2>Optimal plan and greedy rule</h2><canvas id=\"versus\"></canvas></div>\n"
            "<div><h2>Drivers' added time</h2><canvas id=\"detours\"></canvas></div>\n"
            "<div><h2>Car km saved per carpool</h2><canvas id=\"saved\"></canvas></div>\n</div>\n"
            "<h2>Not in a carpool, and why</h2>\n<div id=\"unmatched\"></div>\n"
            "<footer>Made by covoit batch. Map data &copy; OpenStreetMap contributors, ODbL. "
            "The full plan: plan.csv, summary.json, plan.geojson.</footer>\n"
            "<script src=\"lib/leaflet.js\"></script>\n<script src=\"lib/chart.umd.js\"></script>\n"
            "<script src=\"report-data.js\"></script>\n<script src=\"report.js\"></script>\n</body>\n</html>\n",
            people, when, solo, ac_n, bc_n, am, r->n ? 100.0 * a->matched / r->n : 0.0, bm,
            r->n ? 100.0 * b->matched / r->n : 0.0, a->carpools ? (double)a->passengers / a->carpools : 0.0,
            b->carpools ? (double)b->passengers / b->carpools : 0.0, ak, bk, ac, bc, gain, r->method, proof,
            o->max_passengers > 0 ? o->max_passengers : CV_GROUP_MAX, CV_PERSON_DEFAULT_PCT, o->co2_kg_per_km);
    int bad = ferror(f);
    if (fclose(f))
        bad = 1;
    return bad ? -1 : 0;
}

int cv_batch_write(const char *dir, const cv_graph *g, const cv_person *v, const cv_batch_result *r,
                   const cv_batch_options *o, const cv_report_assets *assets, cv_error *err)
{
    if (mkdir(dir, 0755) && errno != EEXIST)
        return cv_fail(err, CV_EIO, "cannot make %s: %s", dir, strerror(errno));
    char lib[4096];
    snprintf(lib, sizeof lib, "%s/lib", dir);
    if (assets && mkdir(lib, 0755) && errno != EEXIST)
        return cv_fail(err, CV_EIO, "cannot make %s: %s", lib, strerror(errno));
    enum { F_PLAN, F_SUMMARY, F_GEOJSON, F_HTML, F_DATA, F_ASSETS, NFILES = F_ASSETS + NASSETS };
    static const char *const names[F_ASSETS] = {"plan.csv", "summary.json", "plan.geojson", "report.html",
                                                "report-data.js"};
    int nfiles = assets ? NFILES : F_HTML;
    char tmp[NFILES][4200], final[NFILES][4200];
    for (int i = 0; i < nfiles; i++) {
        const char *name = i < F_ASSETS ? names[i] : asset_name[i - F_ASSETS];
        const char *slash = strrchr(name, '/');
        snprintf(final[i], sizeof final[i], "%s/%s", dir, name);
        snprintf(tmp[i], sizeof tmp[i], "%s/%.*s.%s.%ld.tmp", dir, slash ? (int)(slash - name + 1) : 0, name,
                 slash ? slash + 1 : name, (long)getpid());
    }
    size_t nroutes = assets && r->optimal.ncarpools <= REPORT_ROUTES_MAX ? r->optimal.ncarpools : 0;
    json_t **routes = nroutes ? calloc(nroutes, sizeof *routes) : NULL;
    int bad = nroutes && !routes                               ? F_HTML
              : write_plan_csv(tmp[F_PLAN], v, r)              ? F_PLAN
              : write_summary(tmp[F_SUMMARY], v, r, o)         ? F_SUMMARY
              : write_geojson(tmp[F_GEOJSON], g, v, r, routes) ? F_GEOJSON
                                                               : -1;
    if (bad < 0 && assets)
        bad = write_report_html(tmp[F_HTML], r, o)           ? F_HTML
              : write_report_data(tmp[F_DATA], v, r, routes) ? F_DATA
                                                             : -1;
    for (size_t k = 0; k < nroutes && routes; k++)
        json_decref(routes[k]);
    free(routes);
    for (int k = 0; bad < 0 && assets && k < NASSETS; k++) {
        char from[4096];
        asset_path(assets, k, from, sizeof from);
        if (copy_file(from, tmp[F_ASSETS + k]))
            bad = F_ASSETS + k;
    }
    for (int i = 0; bad < 0 && i < nfiles; i++)
        if (rename(tmp[i], final[i]))
            bad = i;
    if (bad >= 0) {
        int e = errno;
        for (int i = 0; i < nfiles; i++)
            unlink(tmp[i]);
        return cv_fail(err, CV_EIO, "cannot write %s: %s", final[bad], e ? strerror(e) : "out of memory");
    }
    return 0;
}
