/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* cmd_batch.c — `covoit batch --graph FILE --in participants.csv --out DIR`: the carpool plan of a whole community
   of commuters (batch/), optimal and greedy side by side, written into DIR. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch/batch.h"
#include "batch/report.h"
#include "cli/cli.h"
#include "places/places.h"

#ifndef COVOIT_PAGE_DIR
#define COVOIT_PAGE_DIR "web/page" /* CMake gives the source tree's: its node_modules hold Leaflet and Chart.js */
#endif
#ifndef COVOIT_REPORT_DIR
#define COVOIT_REPORT_DIR "batch/report_page" /* the report's own script and style sheet */
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: covoit batch --graph FILE --in PARTICIPANTS.csv --out DIR [--objective km|matched]\n"
               "                    [--max-passengers N] [--candidates N] [--exact-seconds S]\n"
               "                    [--exact-carpools N] [--price-per-km EUR] [--hub-labels-mb MB] [--threads N]\n"
               "                    [--places FILE] [--no-report]\n\n"
               "Plans the carpools of a community of commuters: who should drive whom to work and back, to save\n"
               "the most vehicle-km per week (--objective km, the default) or to match the most people\n"
               "(--objective matched). A car takes up to its seats (at most 4; --max-passengers N fewer), each\n"
               "driver's groups made of their best --candidates passengers (8). With one passenger per car the\n"
               "plan is a maximum-weight matching (exact); with several, an integer program over every feasible\n"
               "carpool (GLPK; exact when it ends within --exact-seconds, 20, and has at most --exact-carpools,\n"
               "200000), the matching improved by exchanges beyond, with a proven bound and the gap to it. The\n"
               "greedy plan (each driver in turn takes the passengers who save most) is computed beside it. "
               "PARTICIPANTS.csv (docs/batch.md): a header row, then\n"
               "id,role,home_lon,home_lat,work_lon,work_lat,arrive_by,leave_at,days,seats[,flex_min,\n"
               "max_detour_min,max_detour_pct]; a home or workplace may be named instead (columns home, work: an\n"
               "address, a street, a stop), found in the place index (--places FILE, default GRAPH.places);\n"
               "role driver, passenger or either; times HH:MM; days such as\n"
               "\"mon,tue,wed,thu,fri\". Writes DIR/plan.csv (one row per participant), DIR/summary.json (the\n"
               "figures, optimal and greedy), DIR/plan.geojson (homes, workplaces, each carpool's routes) and\n"
               "DIR/report.html (the figures, a map, charts and who is unmatched and why, with its scripts beside\n"
               "it: Leaflet and Chart.js from web/page's npm packages; --no-report leaves it out);\n"
               "nothing is written when the run fails. A bad row stops the run\n"
               "with its line and column (exit 2). The pairs are found on one thread per core (--threads N\n"
               "to use fewer); the plan is the same whatever their number.\n");
}

/* A home or workplace by its name: the place index's best match (an address, a street's middle, a stop...). */
typedef struct geocoder {
    const char *path; /* the index, opened at the first name */
    cv_places *places;
    int failed;
    size_t found;
} geocoder;

static int geocode(void *ctx, const char *name, cv_coord *out, char *why, size_t cap)
{
    geocoder *gc = ctx;
    cv_error err = {0};
    if (!gc->places && !gc->failed && cv_places_open(gc->path, &gc->places, &err)) {
        gc->failed = 1;
        snprintf(why, cap, "place names need the place index: %s", err.text);
    }
    if (!gc->places) {
        if (!why[0])
            snprintf(why, cap, "place names need the place index %s, which cannot be opened", gc->path);
        return -1;
    }
    cv_place best;
    size_t n = 0;
    if (cv_places_search(gc->places, name, 0, (cv_coord){0, 0}, 1, &best, &n, &err)) {
        snprintf(why, cap, "%s", err.text);
        return -1;
    }
    if (!n) {
        snprintf(why, cap, "no place by that name in %s", gc->path);
        return -1;
    }
    *out = best.at;
    gc->found++;
    return 0;
}

int cmd_batch(int argc, char **argv)
{
    const char *graph = NULL, *in = NULL, *out = NULL, *places = NULL;
    cv_batch_options o = cv_batch_defaults();
    long labels_mb = 1024;
    int report = 1;
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--no-report")) {
            report = 0;
        } else if (!strcmp(argv[i], "--graph") && i + 1 < argc) {
            graph = argv[++i];
        } else if (!strcmp(argv[i], "--places") && i + 1 < argc) {
            places = argv[++i];
        } else if (!strcmp(argv[i], "--in") && i + 1 < argc) {
            in = argv[++i];
        } else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(argv[i], "--objective") && i + 1 < argc) {
            const char *w = argv[++i];
            if (!strcmp(w, "km"))
                o.objective = CV_OBJECTIVE_KM;
            else if (!strcmp(w, "matched"))
                o.objective = CV_OBJECTIVE_MATCHED;
            else {
                cli_error("--objective: km or matched, not '%.40s'", w);
                return CLI_USAGE;
            }
        } else if (!strcmp(argv[i], "--max-passengers") && i + 1 < argc) {
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > CV_GROUP_MAX) {
                cli_error("--max-passengers: a whole number from 1 to %d", CV_GROUP_MAX);
                return CLI_USAGE;
            }
            o.max_passengers = (int)v;
        } else if (!strcmp(argv[i], "--candidates") && i + 1 < argc) {
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 2 || v > 16) {
                cli_error("--candidates: a whole number from 2 to 16");
                return CLI_USAGE;
            }
            o.candidates = (int)v;
        } else if (!strcmp(argv[i], "--exact-seconds") && i + 1 < argc) {
            double v = strtod(argv[++i], &end);
            if (*end || !(v >= 0 && v <= 86400)) {
                cli_error("--exact-seconds: a number of seconds from 0 to 86400");
                return CLI_USAGE;
            }
            o.exact_seconds = v;
        } else if (!strcmp(argv[i], "--exact-carpools") && i + 1 < argc) {
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 0 || v > 100000000) {
                cli_error("--exact-carpools: a whole number from 0 to 100000000");
                return CLI_USAGE;
            }
            o.exact_columns = (size_t)v;
        } else if (!strcmp(argv[i], "--price-per-km") && i + 1 < argc) {
            double v = strtod(argv[++i], &end);
            if (*end || !(v >= CV_MIN_PRICE_PER_KM && v <= CV_MAX_PRICE_PER_KM)) {
                cli_error("--price-per-km: a number from %g to %g", CV_MIN_PRICE_PER_KM, CV_MAX_PRICE_PER_KM);
                return CLI_USAGE;
            }
            o.per_km = v;
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            long t = strtol(argv[++i], &end, 10);
            if (*end || t < 1 || t > 64) {
                cli_error("--threads: a whole number from 1 to 64 (default: one per core)");
                return CLI_USAGE;
            }
            o.threads = (int)t;
        } else if (!strcmp(argv[i], "--hub-labels-mb") && i + 1 < argc) {
            labels_mb = strtol(argv[++i], &end, 10);
            if (*end || labels_mb < 0) {
                cli_error("--hub-labels-mb: a whole number of megabytes (0: none)");
                return CLI_USAGE;
            }
        } else {
            cli_error("unknown or incomplete option '%s' (try `covoit batch --help`)", argv[i]);
            return CLI_USAGE;
        }
    }
    if (!graph || !in || !out) {
        cli_error("covoit batch needs --graph FILE, --in PARTICIPANTS.csv and --out DIR");
        return CLI_USAGE;
    }
    cv_error err = {0};
    cv_person *people = NULL;
    size_t n = 0;
    char places_path[4200];
    if (places)
        snprintf(places_path, sizeof places_path, "%s", places);
    else
        cv_places_path_for(graph, places_path, sizeof places_path);
    geocoder gc = {places_path, NULL, 0, 0};
    int rc = cv_population_read_with(in, geocode, &gc, &people, &n, &err);
    cv_places_close(gc.places);
    if (!rc && gc.found)
        fprintf(stderr, "%zu homes and workplaces found by name in %s\n", gc.found, places_path);
    if (rc) {
        cli_error("%s", err.text);
        return rc == CV_EINVAL ? CLI_USAGE : CLI_FAIL;
    }
    cv_graph *g = cv_graph_open(graph, &err);
    if (!g) {
        free(people);
        cli_error("%s", err.text);
        return CLI_FAIL;
    }
    cv_progress pr;
    cv_progress_init(&pr, 0);
    cv_hub_labels *hl = NULL;
    if (labels_mb > 0 && n > 200) { /* a second to build: worth it for a population, not for a handful */
        int lrc = cv_hub_labels_build(g, 0, (uint64_t)labels_mb << 20, &pr, &hl, &err);
        if (lrc && lrc != CV_ETOOBIG) {
            cli_error("%s", err.text);
            cv_graph_close(g);
            free(people);
            return CLI_FAIL;
        }
    }
    o.labels = hl;
    cv_batch_result r;
    rc = cv_batch_run(g, people, n, &o, &pr, &r, &err);
    char report_dir[4200], page_dir[4200], npm_dir[4300];
    cli_data_dir("report_page", COVOIT_REPORT_DIR, report_dir, sizeof report_dir);
    snprintf(npm_dir, sizeof npm_dir, "%s/node_modules",
             cli_data_dir("page", COVOIT_PAGE_DIR, page_dir, sizeof page_dir));
    cv_report_assets assets = {report_dir, npm_dir};
    char why[512];
    if (report && !cv_report_assets_ok(&assets, why, sizeof why)) {
        fprintf(stderr, "covoit batch: report.html left out: %s (bash scripts/deps.sh installs the npm packages)\n",
                why);
        report = 0;
    }
    if (!rc)
        rc = cv_batch_write(out, g, people, &r, &o, report ? &assets : NULL, &err);
    char gap[96] = "";
    if (!rc) {
        double value =
            o.objective == CV_OBJECTIVE_KM ? r.optimal.figures.km_saved_week : (double)r.optimal.figures.matched;
        snprintf(gap, sizeof gap, "within %.2f %% of the optimum",
                 r.upper_bound > 0 ? 100.0 * (r.upper_bound - value) / r.upper_bound : 0.0);
    }
    if (!rc)
        printf(
            "%zu participants, %llu pairs within the detour's bound, %llu routes, %zu feasible pairs and %zu groups: "
            "%zu carpools, %zu matched (%.0f %%), %.1f km saved per week, %s (greedy: %zu carpools, %.1f km); "
            "%s in %.1f s\n",
            n, (unsigned long long)r.within_bound, (unsigned long long)r.routes, r.pairs, r.groups,
            r.optimal.figures.carpools, r.optimal.figures.matched, n ? 100.0 * r.optimal.figures.matched / n : 0.0,
            r.optimal.figures.km_saved_week, r.proven_optimal ? "proven optimal" : gap, r.greedy.figures.carpools,
            r.greedy.figures.km_saved_week, out, r.seconds);
    else
        cli_error("%s", err.text);
    int code = rc == 0 ? CLI_OK : rc == CV_ENOSEGMENT || rc == CV_ENOROUTE || rc == CV_EINVAL ? CLI_USAGE : CLI_FAIL;
    cv_batch_result_free(&r);
    cv_hub_labels_free(hl);
    cv_graph_close(g);
    free(people);
    return code;
}
