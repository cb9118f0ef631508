/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* popgen — writes a synthetic commuter population (batch/synth.h) as the participants' CSV of `covoit batch`: the
   generator the tests and bench_batch use, for anyone who wants a population to try the batch on.

   popgen --graph FILE -n N [--seed S] [--centres K] [--spread M] [--min-trip M] [--drivers F] [--passengers F]
          -o FILE */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/synth.h"

static int usage(void)
{
    fprintf(stderr, "usage: popgen --graph FILE -n N [--seed S] [--centres K] [--spread M] [--min-trip M]\n"
                    "              [--drivers F] [--passengers F] -o FILE\n"
                    "Writes N synthetic commuters on the graph (homes on residential streets, workplaces around K\n"
                    "centres within about M metres, trips of at least --min-trip metres; shares of drivers and\n"
                    "passengers, the rest either) as covoit batch's CSV. The same seed gives the same file.\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *graph = NULL, *out = NULL;
    long n = 0;
    cv_synth_options o = cv_synth_defaults();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return usage();
        if (!strcmp(a, "--graph"))
            graph = v;
        else if (!strcmp(a, "-o"))
            out = v;
        else if (!strcmp(a, "-n"))
            n = atol(v);
        else if (!strcmp(a, "--seed"))
            o.seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--centres"))
            o.centres = atoi(v);
        else if (!strcmp(a, "--spread"))
            o.centre_m = atof(v);
        else if (!strcmp(a, "--min-trip"))
            o.min_trip_m = atof(v);
        else if (!strcmp(a, "--drivers"))
            o.drivers = atof(v);
        else if (!strcmp(a, "--passengers"))
            o.passengers = atof(v);
        else
            return usage();
        i++;
    }
    if (!graph || !out || n <= 0 || o.drivers < 0 || o.passengers < 0 || o.drivers + o.passengers > 1)
        return usage();
    cv_error err = {0};
    cv_graph *g = cv_graph_open(graph, &err);
    cv_person *v = NULL;
    if (!g || cv_population_synth(g, (size_t)n, &o, &v, &err) || cv_population_write(out, v, (size_t)n, &err)) {
        fprintf(stderr, "popgen: %s\n", err.text);
        cv_graph_close(g);
        free(v);
        return 1;
    }
    cv_graph_close(g);
    free(v);
    return 0;
}
