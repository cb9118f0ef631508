/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* bench_places — the place index: how long it takes to build from each extract, and how long autocomplete and
   reverse lookups take, as people type: for places drawn from the index, the first 2, 3, 5 and 8 letters of their
   name near a random point of the map, and a reverse lookup at each. Prints the medians and the 99th percentiles
   per prefix length and writes them to bench/results/places.txt.

   bench_places [--n 2000] [--seed 1] [--out bench/results/places.txt] EXTRACT.osm.pbf ... */
#define _POSIX_C_SOURCE 200809L
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "places/places.h"

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, by_double);
    return n ? v[(size_t)(p * (n - 1))] : 0;
}

int main(int argc, char **argv)
{
    const char *out_path = "bench/results/places.txt";
    size_t n = 2000;
    uint64_t seed = 1;
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first += 2) {
        if (first + 1 >= argc)
            break;
        if (!strcmp(argv[first], "--n"))
            n = (size_t)strtoul(argv[first + 1], NULL, 10);
        else if (!strcmp(argv[first], "--seed"))
            seed = strtoull(argv[first + 1], NULL, 10);
        else if (!strcmp(argv[first], "--out"))
            out_path = argv[first + 1];
    }
    if (first >= argc) {
        fprintf(stderr, "usage: bench_places [--n N] [--seed S] [--out FILE] EXTRACT.osm.pbf ...\n");
        return 2;
    }
    FILE *rep = fopen(out_path, "w");
    if (!rep) {
        fprintf(stderr, "bench_places: cannot write %s\n", out_path);
        return 1;
    }
    char when[32];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    FILE *outs[2] = {stdout, rep};
    for (int k = 0; k < 2; k++)
        fprintf(outs[k],
                "bench_places (%s): %zu places drawn per extract, each typed as its first 2, 3, 5 and 8 letters near a "
                "random point of the map (limit 10), and a reverse lookup at it; one thread, ms per query\n"
                "%-14s %8s %7s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n",
                when, n, "extract", "places", "build s", "2 med", "2 p99", "3 med", "3 p99", "5 med", "5 p99", "8 med",
                "8 p99", "rev med", "rev p99");
    for (int a = first; a < argc; a++) {
        char path[4200];
        snprintf(path, sizeof path, "/tmp/bench_places_%d.places", (int)getpid());
        cv_places_stats st;
        cv_error err = {0};
        if (cv_places_build(argv[a], path, NULL, &st, &err)) {
            fprintf(stderr, "bench_places: %s\n", err.text);
            return 1;
        }
        /* the places to type: names drawn from the index, and the box of the map */
        sqlite3 *db;
        sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
        sqlite3_stmt *s;
        sqlite3_prepare_v2(db, "SELECT count(*), min(lon), max(lon), min(lat), max(lat) FROM place", -1, &s, NULL);
        sqlite3_step(s);
        size_t total = (size_t)sqlite3_column_int64(s, 0);
        double box[4] = {sqlite3_column_double(s, 1), sqlite3_column_double(s, 2), sqlite3_column_double(s, 3),
                         sqlite3_column_double(s, 4)};
        sqlite3_finalize(s);
        char(*names)[160] = malloc(n * sizeof *names);
        sqlite3_prepare_v2(db, "SELECT name FROM place WHERE id = ?", -1, &s, NULL);
        uint64_t rng = seed;
        for (size_t i = 0; i < n; i++) {
            sqlite3_bind_int64(s, 1, 1 + (int64_t)(next(&rng) % (total ? total : 1)));
            names[i][0] = '\0';
            if (sqlite3_step(s) == SQLITE_ROW)
                snprintf(names[i], sizeof names[i], "%s", (const char *)sqlite3_column_text(s, 0));
            sqlite3_reset(s);
        }
        sqlite3_finalize(s);
        sqlite3_close(db);
        cv_places *p;
        if (cv_places_open(path, &p, &err)) {
            fprintf(stderr, "bench_places: %s\n", err.text);
            return 1;
        }
        static const int lens[4] = {2, 3, 5, 8};
        double *t[5];
        for (int k = 0; k < 5; k++)
            t[k] = malloc(n * sizeof **t);
        cv_place found[10];
        size_t nf;
        for (size_t i = 0; i < n; i++) {
            cv_coord near = {cv_fixed(box[0] + (box[1] - box[0]) * (double)(next(&rng) % 1000) / 1000.0),
                             cv_fixed(box[2] + (box[3] - box[2]) * (double)(next(&rng) % 1000) / 1000.0)};
            for (int k = 0; k < 4; k++) {
                char typed[16];
                snprintf(typed, sizeof typed, "%.*s", lens[k], names[i]);
                double t0 = cv_now();
                cv_places_search(p, typed, 1, near, 10, found, &nf, &err); /* a prefix of no word is fine */
                t[k][i] = (cv_now() - t0) * 1000;
            }
            double t0 = cv_now();
            cv_place ad;
            cv_places_nearest_address(p, near, 60, &ad, &err);
            cv_places_nearest(p, near, CV_PLACE_STOP, 300, &ad, &err);
            cv_places_nearest(p, near, CV_PLACE_SETTLEMENT, 5000, &ad, &err);
            t[4][i] = (cv_now() - t0) * 1000;
        }
        const char *base = strrchr(argv[a], '/') ? strrchr(argv[a], '/') + 1 : argv[a];
        double m[10];
        for (int k = 0; k < 5; k++)
            m[2 * k] = pct(t[k], n, 0.5), m[2 * k + 1] = pct(t[k], n, 0.99);
        for (int k = 0; k < 2; k++)
            fprintf(outs[k], "%-14.14s %8zu %7.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f\n", base,
                    total, st.seconds, m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9]);
        fflush(rep);
        for (int k = 0; k < 5; k++)
            free(t[k]);
        free(names);
        cv_places_close(p);
        unlink(path);
    }
    fclose(rep);
    return 0;
}
