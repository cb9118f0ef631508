/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* bench_import.c — the benchmark driver behind bench/run.sh. For each OSM extract it measures, in child processes:

     floor   osm_floor FILE                      libosmium alone reading the file (see osm_floor.cpp)
     import  covoit import FILE -o GRAPH --quiet the whole import
     info    covoit info GRAPH                   graph nodes, edges, components, file size
     route   bench_route GRAPH --pairs N         route query times (see bench_route.c)

   Floor and import run alternately, one untimed round (warm page cache) then --runs rounds; wall time is taken around
   fork..wait4 and peak memory is the child's ru_maxrss from wait4; the figure kept is the median of the runs. Prints a
   table on stdout and writes everything as JSON to --out.

   Extracts: each --bundled FILE, then every *.osm.pbf in --shared-dir; names given with --expect that are not in
   --shared-dir are reported absent. A file with the same bytes as one listed before it is not measured again. */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <glob.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef BENCH_COVOIT
#define BENCH_COVOIT "covoit"
#endif
#ifndef BENCH_FLOOR
#define BENCH_FLOOR "osm_floor"
#endif
#ifndef BENCH_ROUTE
#define BENCH_ROUTE "bench_route"
#endif

#define MAX_EXTRACTS 64
#define MAX_RUNS 99

typedef struct extract {
    char name[128];  /* base name without .osm.pbf */
    char label[160]; /* name, plus the origin when two different files share a name */
    char path[4096];
    const char *origin; /* "bundled" or "shared" */
    int same_as;        /* index of an earlier extract with the same bytes, or -1 */
    long long size;
} extract;

typedef struct run_result {
    int status; /* exit code, -1 when killed */
    int signal; /* the signal that killed it, or 0 */
    double wall_s, cpu_s;
    long maxrss_kb;
} run_result;

typedef struct measured {
    double wall_s, cpu_s, maxrss_kb; /* medians */
    double wall_runs[MAX_RUNS], cpu_runs[MAX_RUNS];
    long rss_runs[MAX_RUNS];
    int n;
} measured;

static char tmpdir[4096];
static char out_txt[4200], floor_txt[4200], err_txt[4200];

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_import: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs argv[0] (a path) with stdout and stderr sent to files; fills r. Returns 0, or -1 when it could not run. */
static int run_child(char *const argv[], const char *out_path, const char *err_path, run_result *r)
{
    fflush(NULL);
    double t0 = mono_s();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fo = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(err_path ? err_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
            _exit(126);
        close(fo);
        close(fe);
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    struct rusage ru;
    while (wait4(pid, &st, 0, &ru) < 0)
        if (errno != EINTR)
            return -1;
    r->wall_s = mono_s() - t0;
    r->cpu_s =
        (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    r->maxrss_kb = ru.ru_maxrss;
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    return 0;
}

/* The file's text (at most 64 KiB), trailing white space removed; "" when unreadable. Caller frees. */
static char *read_text(const char *path)
{
    char *buf = calloc(65537, 1);
    if (!buf)
        die("out of memory");
    FILE *f = fopen(path, "r");
    if (f) {
        size_t n = fread(buf, 1, 65536, f);
        buf[n] = '\0';
        fclose(f);
    }
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return buf;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    double s[MAX_RUNS];
    memcpy(s, v, (size_t)n * sizeof *v);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* Runs argv once with stdout sent to out_path and stderr to err_txt. On failure returns -1 with *error set to a
   malloc'ed message (with the child's stderr). */
static int run_once(char *const argv[], const char *out_path, run_result *r, char **error)
{
    if (run_child(argv, out_path, err_txt, r)) {
        char *msg = malloc(4400);
        snprintf(msg, 4400, "cannot run %s: %s", argv[0], strerror(errno));
        *error = msg;
        return -1;
    }
    if (r->status != 0) {
        char *text = read_text(err_txt);
        char *msg = malloc(strlen(text) + 200);
        if (r->signal)
            sprintf(msg, "killed by signal %d (%s)%s%s", r->signal, strsignal(r->signal), *text ? ": " : "", text);
        else
            sprintf(msg, "exit status %d%s%s", r->status, *text ? ": " : "", text);
        free(text);
        *error = msg;
        return -1;
    }
    return 0;
}

/* Records timed run k of m. */
static void record(measured *m, int k, const run_result *r)
{
    m->wall_runs[k] = r->wall_s;
    m->cpu_runs[k] = r->cpu_s;
    m->rss_runs[k] = r->maxrss_kb;
    m->n = k + 1;
}

/* Medians of the recorded runs. */
static void finish(measured *m)
{
    double rss[MAX_RUNS];
    for (int i = 0; i < m->n; i++)
        rss[i] = (double)m->rss_runs[i];
    m->wall_s = median(m->wall_runs, m->n);
    m->cpu_s = median(m->cpu_runs, m->n);
    m->maxrss_kb = median(rss, m->n);
}

/* Runs argv warmup + runs times; the timed runs' medians go to *m. */
static int measure(char *const argv[], const char *out_path, int warmup, int runs, measured *m, char **error)
{
    memset(m, 0, sizeof *m);
    for (int i = 0; i < warmup + runs; i++) {
        run_result r;
        if (run_once(argv, out_path, &r, error))
            return -1;
        if (i >= warmup)
            record(m, i - warmup, &r);
    }
    finish(m);
    return 0;
}

/* Parses the JSON a run printed to path. */
static json_t *load_out_json(const char *path, char **error)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j) {
        char *msg = malloc(512);
        snprintf(msg, 512, "unreadable JSON output: %s (line %d)", je.text, je.line);
        *error = msg;
    }
    return j;
}

static json_t *measured_json(const measured *m)
{
    json_t *walls = json_array(), *rss = json_array();
    for (int i = 0; i < m->n; i++) {
        json_array_append_new(walls, json_real(m->wall_runs[i]));
        json_array_append_new(rss, json_integer(m->rss_runs[i]));
    }
    json_t *o = json_object();
    json_object_set_new(o, "wall_s", json_real(m->wall_s));
    json_object_set_new(o, "cpu_s", json_real(m->cpu_s));
    json_object_set_new(o, "peak_rss_kib", json_integer((json_int_t)m->maxrss_kb));
    json_object_set_new(o, "wall_s_runs", walls);
    json_object_set_new(o, "peak_rss_kib_runs", rss);
    return o;
}

static int same_bytes(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    static char ba[65536], bb[65536];
    while (same) {
        size_t na = fread(ba, 1, sizeof ba, fa), nb = fread(bb, 1, sizeof bb, fb);
        if (na != nb || memcmp(ba, bb, na))
            same = 0;
        if (na == 0 || na != nb)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

static void base_name(const char *path, char *out, size_t cap)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(out, cap, "%s", b);
    size_t n = strlen(out);
    const char *suffixes[] = {".osm.pbf", ".pbf", ".osm.bz2", ".osm"};
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        size_t k = strlen(suffixes[i]);
        if (n > k && !strcmp(out + n - k, suffixes[i])) {
            out[n - k] = '\0';
            break;
        }
    }
}

static int mkdir_p(const char *dir)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0777) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return mkdir(buf, 0777) && errno != EEXIST ? -1 : 0;
}

static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    if (!d)
        return;
    struct dirent *de;
    char p[8400];
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", tmpdir, de->d_name);
            unlink(p);
        }
    closedir(d);
    rmdir(tmpdir);
}

static double jnum(json_t *o, const char *path)
{
    /* path like "graph.nodes" */
    char key[128];
    const char *p = path;
    while (o && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        snprintf(key, sizeof key, "%.*s", (int)n, p);
        o = json_object_get(o, key);
        p = dot ? dot + 1 : p + n;
    }
    return json_is_number(o) ? json_number_value(o) : -1;
}

static void cpu_model(char *out, size_t cap)
{
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "model name", 10)) {
            char *c = strchr(line, ':');
            if (c) {
                c++;
                while (*c == ' ' || *c == '\t')
                    c++;
                c[strcspn(c, "\n")] = '\0';
                snprintf(out, cap, "%s", c);
            }
            break;
        }
    }
    fclose(f);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_import [--covoit BIN] [--floor BIN] [--route BIN] [--out JSON] [--runs N] [--pairs N]\n"
               "                    [--seed S] [--bundled FILE]... [--shared-dir DIR] [--expect NAME,NAME...]\n"
               "                    [--build-type T] [--commit C]\n\n"
               "Measures import time and peak memory, the libosmium read floor, graph size and route query times for\n"
               "each extract; prints a table and writes JSON (default bench/results/import_route.json).\n"
               "Normally run through bench/run.sh.\n");
}

int main(int argc, char **argv)
{
    const char *covoit = BENCH_COVOIT, *floor_bin = BENCH_FLOOR, *route_bin = BENCH_ROUTE;
    const char *out_json = "bench/results/import_route.json", *shared_dir = NULL, *expect = "";
    const char *build_type = "", *commit = "";
    const char *bundled[MAX_EXTRACTS];
    int nbundled = 0, runs = 3, pairs = 1000;
    long seed = 42;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc || a[0] != '-') {
            usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--covoit"))
            covoit = v;
        else if (!strcmp(a, "--floor"))
            floor_bin = v;
        else if (!strcmp(a, "--route"))
            route_bin = v;
        else if (!strcmp(a, "--out"))
            out_json = v;
        else if (!strcmp(a, "--runs"))
            runs = atoi(v);
        else if (!strcmp(a, "--pairs"))
            pairs = atoi(v);
        else if (!strcmp(a, "--seed"))
            seed = atol(v);
        else if (!strcmp(a, "--bundled") && nbundled < MAX_EXTRACTS)
            bundled[nbundled++] = v;
        else if (!strcmp(a, "--shared-dir"))
            shared_dir = v;
        else if (!strcmp(a, "--expect"))
            expect = v;
        else if (!strcmp(a, "--build-type"))
            build_type = v;
        else if (!strcmp(a, "--commit"))
            commit = v;
        else {
            usage(stderr);
            return 2;
        }
    }
    if (runs < 1 || runs > MAX_RUNS || pairs < 1)
        die("--runs must be 1..%d and --pairs at least 1", MAX_RUNS);
    const char *bins[] = {covoit, floor_bin, route_bin};
    for (int i = 0; i < 3; i++)
        if (access(bins[i], X_OK))
            die("%s: not an executable (build first: cmake --build BUILD_DIR)", bins[i]);

    /* the extracts */
    static extract ex[MAX_EXTRACTS];
    int nex = 0;
    json_t *absent = json_array(), *notes = json_array();
    for (int i = 0; i < nbundled; i++) {
        struct stat sb;
        if (stat(bundled[i], &sb) || !S_ISREG(sb.st_mode)) {
            json_array_append_new(absent, json_pack("{s:s,s:s}", "path", bundled[i], "origin", "bundled"));
            continue;
        }
        extract *e = &ex[nex++];
        snprintf(e->path, sizeof e->path, "%s", bundled[i]);
        e->origin = "bundled";
        e->size = (long long)sb.st_size;
    }
    if (shared_dir) {
        struct stat sb;
        if (stat(shared_dir, &sb) || !S_ISDIR(sb.st_mode)) {
            char msg[4400];
            snprintf(msg, sizeof msg, "shared data directory %s not found: no shared extract measured", shared_dir);
            json_array_append_new(notes, json_string(msg));
        } else {
            char pat[4200];
            snprintf(pat, sizeof pat, "%s/*.osm.pbf", shared_dir);
            glob_t gl;
            if (glob(pat, 0, NULL, &gl) == 0) {
                for (size_t k = 0; k < gl.gl_pathc && nex < MAX_EXTRACTS; k++) {
                    if (stat(gl.gl_pathv[k], &sb) || !S_ISREG(sb.st_mode))
                        continue;
                    extract *e = &ex[nex++];
                    snprintf(e->path, sizeof e->path, "%s", gl.gl_pathv[k]);
                    e->origin = "shared";
                    e->size = (long long)sb.st_size;
                }
                globfree(&gl);
            }
        }
    }
    for (int i = 0; i < nex; i++) {
        base_name(ex[i].path, ex[i].name, sizeof ex[i].name);
        ex[i].same_as = -1;
        for (int j = 0; j < i && ex[i].same_as < 0; j++)
            if (ex[j].same_as < 0 && ex[j].size == ex[i].size && same_bytes(ex[j].path, ex[i].path))
                ex[i].same_as = j;
    }
    for (int i = 0; i < nex; i++) {
        int clash = 0;
        for (int j = 0; j < nex; j++)
            if (j != i && ex[j].same_as < 0 && ex[i].same_as < 0 && !strcmp(ex[i].name, ex[j].name))
                clash = 1;
        snprintf(ex[i].label, sizeof ex[i].label, clash ? "%s (%s)" : "%s", ex[i].name, ex[i].origin);
    }
    /* expected shared extracts that are not there */
    if (*expect) {
        char list[1024];
        snprintf(list, sizeof list, "%s", expect);
        for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
            int found = 0;
            for (int i = 0; i < nex; i++)
                if (!strcmp(ex[i].origin, "shared") && !strcmp(ex[i].name, tok))
                    found = 1;
            if (!found) {
                char p[4400];
                snprintf(p, sizeof p, "%s/%s.osm.pbf", shared_dir ? shared_dir : "?", tok);
                json_array_append_new(absent, json_pack("{s:s,s:s}", "path", p, "origin", "shared"));
            }
        }
    }

    const char *tmp = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/covoit-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(tmpdir))
        die("cannot create a temporary directory: %s", strerror(errno));
    atexit(remove_tmpdir);
    snprintf(out_txt, sizeof out_txt, "%s/stdout.txt", tmpdir);
    snprintf(err_txt, sizeof err_txt, "%s/stderr.txt", tmpdir);
    snprintf(floor_txt, sizeof floor_txt, "%s/floor.txt", tmpdir);

    double t_start = mono_s();
    /* what spawning a trivial process costs with this method (a lower bound on every wall and memory figure) */
    measured base;
    char *error = NULL;
    char *true_argv[] = {"/bin/true", NULL};
    int have_base = access("/bin/true", X_OK) == 0 && measure(true_argv, NULL, 1, runs, &base, &error) == 0;
    free(error);
    error = NULL;

    json_t *results = json_array();
    int failures = 0;
    for (int i = 0; i < nex; i++) {
        extract *e = &ex[i];
        json_t *r = json_object();
        json_array_append_new(results, r);
        json_object_set_new(r, "name", json_string(e->label));
        json_object_set_new(r, "path", json_string(e->path));
        json_object_set_new(r, "origin", json_string(e->origin));
        json_object_set_new(r, "input_bytes", json_integer(e->size));
        if (e->same_as >= 0) {
            json_object_set_new(r, "same_bytes_as", json_string(ex[e->same_as].path));
            continue;
        }
        fprintf(stderr, "bench: %s ...\n", e->path);
        char graph[4400];
        snprintf(graph, sizeof graph, "%s/%d.graph", tmpdir, i);
        const char *step = "floor";
        json_t *floor_out = NULL, *info = NULL, *route = NULL;
        measured mf, mi, mr;
        char *floor_argv[] = {(char *)floor_bin, e->path, NULL};
        char *import_argv[] = {(char *)covoit, "import", e->path, "-o", graph, "--quiet", NULL};
        char *info_argv[] = {(char *)covoit, "info", graph, NULL};
        char spairs[32], sseed[32];
        snprintf(spairs, sizeof spairs, "%d", pairs);
        snprintf(sseed, sizeof sseed, "%ld", seed);
        char *route_argv[] = {(char *)route_bin, graph, "--pairs", spairs, "--seed", sseed, NULL};
        /* floor and import alternate, one untimed round first, so that both see the same machine load */
        memset(&mf, 0, sizeof mf);
        memset(&mi, 0, sizeof mi);
        for (int k = -1; k < runs; k++) {
            run_result rr;
            step = "floor";
            if (run_once(floor_argv, floor_txt, &rr, &error))
                goto fail;
            if (k >= 0)
                record(&mf, k, &rr);
            step = "import";
            if (run_once(import_argv, NULL, &rr, &error))
                goto fail;
            if (k >= 0)
                record(&mi, k, &rr);
        }
        finish(&mf);
        finish(&mi);
        step = "floor";
        if (!(floor_out = load_out_json(floor_txt, &error)))
            goto fail;
        json_t *fo = measured_json(&mf);
        json_object_set_new(fo, "reader", floor_out);
        json_object_set_new(r, "floor", fo);
        json_object_set_new(r, "import", measured_json(&mi));
        json_object_set_new(r, "import_to_floor", json_real(mi.wall_s / mf.wall_s));
        step = "info";
        if (measure(info_argv, out_txt, 0, 1, &mr, &error) || !(info = load_out_json(out_txt, &error)))
            goto fail;
        json_object_set_new(r, "graph", json_incref(json_object_get(info, "graph")));
        json_object_set_new(r, "graph_bytes", json_incref(json_object_get(info, "file_size")));
        json_decref(info);
        step = "route";
        if (measure(route_argv, out_txt, 0, 1, &mr, &error) || !(route = load_out_json(out_txt, &error)))
            goto fail;
        json_object_del(route, "graph");
        json_object_set_new(route, "process_wall_s", json_real(mr.wall_s));
        json_object_set_new(r, "route", route);
        unlink(graph);
        continue;
    fail:
        failures++;
        json_object_set_new(r, "failed_step", json_string(step));
        json_object_set_new(r, "error", json_string(error ? error : "?"));
        fprintf(stderr, "bench: %s: %s failed: %s\n", e->path, step, error ? error : "?");
        free(error);
        error = NULL;
        unlink(graph);
    }
    double total_s = mono_s() - t_start;

    /* the document */
    struct utsname un;
    char host[300] = "unknown", cpu[256], when[64];
    if (uname(&un) == 0)
        snprintf(host, sizeof host, "%s %s %s", un.sysname, un.release, un.machine);
    cpu_model(cpu, sizeof cpu);
    time_t now = time(NULL);
    struct tm tmv;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tmv));
    json_t *env = json_object();
    json_object_set_new(env, "date", json_string(when));
    json_object_set_new(env, "system", json_string(host));
    json_object_set_new(env, "cpu", json_string(cpu));
    json_object_set_new(env, "cpus_online", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
    json_object_set_new(env, "build_type", json_string(build_type));
    json_object_set_new(env, "commit", json_string(commit));
    const char *pool = getenv("OSMIUM_POOL_THREADS");
    json_object_set_new(env, "osmium_pool_threads", pool ? json_string(pool) : json_null());
    json_t *method = json_object();
    json_object_set_new(method, "runs", json_integer(runs));
    json_object_set_new(method, "warmup_runs", json_integer(1));
    json_object_set_new(method, "statistic",
                        json_string("median of runs (wall clock around fork..wait4; peak "
                                    "memory = ru_maxrss of the child)"));
    json_object_set_new(method, "route_pairs", json_integer(pairs));
    json_object_set_new(method, "route_seed", json_integer(seed));
    json_object_set_new(method, "route_points",
                        json_string("midpoints of random edges with both ends in the "
                                    "largest strongly connected component, snapped"));
    json_t *doc = json_object();
    json_object_set_new(doc, "benchmark", json_string("covoit import and route"));
    json_object_set_new(doc, "environment", env);
    json_object_set_new(doc, "method", method);
    if (have_base)
        json_object_set_new(doc, "spawn_baseline", measured_json(&base));
    json_object_set_new(doc, "extracts", results);
    json_object_set_new(doc, "absent", absent);
    json_object_set_new(doc, "notes", notes);
    json_object_set_new(doc, "total_s", json_real(total_s));

    /* the table */
    printf("%-12s %9s %7s %7s %9s %9s %9s %6s %8s %10s %10s %7s\n", "extract", "input", "nodes", "edges", "graph",
           "import", "floor", "ratio", "peak", "route p50", "route p95", "NoRoute");
    printf("%-12s %9s %7s %7s %9s %9s %9s %6s %8s %10s %10s %7s\n", "", "MiB", "", "", "MiB", "ms", "ms", "", "MiB",
           "us", "us", "");
    size_t idx;
    json_t *r;
    json_array_foreach(results, idx, r)
    {
        if (json_object_get(r, "same_bytes_as"))
            continue;
        const char *name = json_string_value(json_object_get(r, "name"));
        double in_mib = jnum(r, "input_bytes") / 1048576.0;
        if (json_object_get(r, "error")) {
            printf("%-12s %9.2f  FAILED at %s: see below\n", name, in_mib,
                   json_string_value(json_object_get(r, "failed_step")));
            continue;
        }
        printf("%-12s %9.2f %7.0f %7.0f %9.2f %9.1f %9.1f %6.2f %8.1f %10.1f %10.1f %7.0f\n", name, in_mib,
               jnum(r, "graph.nodes"), jnum(r, "graph.edges"), jnum(r, "graph_bytes") / 1048576.0,
               jnum(r, "import.wall_s") * 1e3, jnum(r, "floor.wall_s") * 1e3, jnum(r, "import_to_floor"),
               jnum(r, "import.peak_rss_kib") / 1024.0, jnum(r, "route.route_us.median"), jnum(r, "route.route_us.p95"),
               jnum(r, "route.no_route"));
    }
    printf("\n");
    json_array_foreach(results, idx, r)
    {
        const char *name = json_string_value(json_object_get(r, "name"));
        const char *path = json_string_value(json_object_get(r, "path"));
        json_t *same = json_object_get(r, "same_bytes_as");
        if (same) {
            printf("note: %s has the same bytes as %s: measured once (row %s)\n", path, json_string_value(same), name);
            continue;
        }
        if (json_object_get(r, "error")) {
            printf("FAILED: %s: %s: %s\n", path, json_string_value(json_object_get(r, "failed_step")),
                   json_string_value(json_object_get(r, "error")));
            continue;
        }
        json_t *rd = json_object_get(json_object_get(r, "floor"), "reader");
        if (json_is_false(json_object_get(rd, "sorted")))
            printf("note: %s is not sorted (Type_then_ID); the importer sorts locations in memory\n", path);
        if (jnum(r, "route.snap_failures") > 0 || jnum(r, "route.snapped_off_component") > 0)
            printf("note: %s: %.0f snap failures, %.0f points snapped outside the largest component\n", path,
                   jnum(r, "route.snap_failures"), jnum(r, "route.snapped_off_component"));
        if (jnum(r, "route.no_route") > 0)
            printf("note: %s: %.0f of %.0f queries ended in NoRoute\n", path, jnum(r, "route.no_route"),
                   jnum(r, "route.queries"));
    }
    size_t k;
    json_t *a;
    json_array_foreach(absent, k, a) printf("absent: %s (%s)\n", json_string_value(json_object_get(a, "path")),
                                            json_string_value(json_object_get(a, "origin")));
    json_array_foreach(notes, k, a) printf("note: %s\n", json_string_value(a));
    if (have_base)
        printf("spawn baseline (/bin/true): %.2f ms, %.1f MiB peak\n", base.wall_s * 1e3, base.maxrss_kb / 1024.0);
    printf("median of %d runs after 1 warm-up; routes: %d pairs, seed %ld; build %s%s%s; total %.1f s\n", runs, pairs,
           seed, *build_type ? build_type : "?", *commit ? ", commit " : "", commit, total_s);

    /* the JSON file */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", out_json);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdir_p(dir))
            die("cannot create %s: %s", dir, strerror(errno));
    }
    if (json_dump_file(doc, out_json, JSON_INDENT(2) | JSON_REAL_PRECISION(6)))
        die("cannot write %s", out_json);
    printf("JSON: %s\n", out_json);
    json_decref(doc);
    return failures ? 1 : 0;
}
