/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* test_graph_file.c — routing/graph_file.c (and the import path that feeds it): a graph built from the Monaco
   extract opens and looks sane; every kind of damaged file is refused with the right code and a message naming
   the problem, by the library and by the covoit CLI; imports of road-less, missing and unsorted inputs. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <bzlib.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "util/cv_error.h"
#include "routing/geo.h"
#include "routing/graph.h"
#include "routing/graph_build.h"
#include "routing/hub_labels.h"
#include "osm/osm_network.h"
#include "osm/profile.h"
#include "routing/route.h"
#include "routing/snap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MONACO_PBF COVOIT_TEST_DATA "/monaco.osm.pbf"

/* Names that cv_graph_open uses in its messages; sections added later have no entry here (NULL) and are checked
   with the generic part of the message only. */
static const char *const section_names[CV_SEC_COUNT] = {
    [CV_SEC_NODE_COORD] = "node coordinates",
    [CV_SEC_NODE_COMPONENT] = "node components",
    [CV_SEC_COMPONENT_SIZE] = "component sizes",
    [CV_SEC_EDGE] = "edges",
    [CV_SEC_EDGE_FIRST_POINT] = "edge geometry offsets",
    [CV_SEC_POINT] = "geometry points",
    [CV_SEC_OUT_FIRST] = "out-arc offsets",
    [CV_SEC_OUT_ARC] = "out-arcs",
    [CV_SEC_IN_FIRST] = "in-arc offsets",
    [CV_SEC_IN_ARC] = "in-arcs",
    [CV_SEC_RESTRICTION] = "turn restrictions",
    [CV_SEC_GRID_FIRST] = "spatial grid offsets",
    [CV_SEC_GRID_ITEM] = "spatial grid items",
    [CV_SEC_EDGE_NAME] = "edge street names",
    [CV_SEC_NAME] = "street names",
    [CV_SEC_NAME_CHAR] = "street name strings",
};

/* ---- helpers ---- */

/* COVOIT_TMP/tgf_<name>: every file of this test starts with tgf_ so that tests running in parallel never meet. */
static const char *tmp_path(char *buf, size_t cap, const char *name)
{
    int n = snprintf(buf, cap, "%s/tgf_%s", COVOIT_TMP, name);
    assert_true(n > 0 && (size_t)n < cap);
    return buf;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    unsigned char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    b[n] = 0;
    *len = (size_t)n;
    return b;
}

static void write_all(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len)
        assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void write_text(const char *path, const char *text)
{
    write_all(path, text, strlen(text));
}

/* Reads an OSM file with the default profile and builds a graph at out. Returns the build's return code. */
static int import(const char *osm, const char *out, cv_build_stats *st, cv_error *err, int *sorted)
{
    cv_profile_options popt = cv_profile_defaults();
    cv_network net;
    int rc = cv_network_read(osm, &popt, NULL, &net, err);
    if (rc)
        return rc;
    if (sorted)
        *sorted = net.input_sorted;
    rc = cv_graph_build(&net, osm, out, NULL, st, err);
    cv_network_free(&net);
    return rc;
}

/* Opens path expecting a failure with code and a message that names the file and contains `what`. */
static void expect_refused(const char *path, int code, const char *what)
{
    cv_error err;
    memset(&err, 0, sizeof err);
    cv_graph *g = cv_graph_open(path, &err);
    if (g) {
        cv_graph_close(g);
        fail_msg("%s: opened, expected code %d (%s)", path, code, what);
    }
    if (err.code != code)
        fail_msg("%s: code %d (%s), expected %d; message: %s", path, err.code, cv_strerror(err.code), code, err.text);
    if (!strstr(err.text, path))
        fail_msg("message does not name the file: %s", err.text);
    if (what && !strstr(err.text, what))
        fail_msg("message does not say '%s': %s", what, err.text);
    assert_null(strchr(err.text, '\n'));
}

static void write_and_expect(const char *name, const void *data, size_t len, int code, const char *what)
{
    char p[1024];
    tmp_path(p, sizeof p, name);
    write_all(p, data, len);
    expect_refused(p, code, what);
    unlink(p);
}

/* Runs COVOIT_BIN with args (NULL-terminated), stdout and stderr to files; returns the raw wait status. */
static int run_covoit(const char *const *args, char **out, char **errout)
{
    char po[1024], pe[1024];
    tmp_path(po, sizeof po, "cli.stdout");
    tmp_path(pe, sizeof pe, "cli.stderr");
    char *argv[16];
    size_t n = 0;
    argv[n++] = (char *)COVOIT_BIN;
    for (; args[n - 1] && n < NELEM(argv) - 1; n++)
        argv[n] = (char *)args[n - 1];
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fo = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0644), fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
            _exit(127);
        close(fo);
        close(fe);
        execv(COVOIT_BIN, argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    size_t len;
    *out = (char *)read_all(po, &len);
    *errout = (char *)read_all(pe, &len);
    unlink(po);
    unlink(pe);
    return status;
}

/* `covoit info FILE` and `covoit route FILE A B` both fail cleanly: exit status 1 (no signal), stderr exactly one
   line "covoit: <what cv_graph_open says>", and route's JSON on stdout carries the same message. */
static void expect_cli_fails(const char *path)
{
    cv_error err;
    memset(&err, 0, sizeof err);
    cv_graph *g = cv_graph_open(path, &err);
    if (g) {
        cv_graph_close(g);
        fail_msg("%s: opened, expected a failure", path);
    }
    char want[600];
    snprintf(want, sizeof want, "covoit: %s\n", err.text);

    const char *info[] = {"info", path, NULL};
    const char *route[] = {"route", path, "7.4246,43.7384", "7.4160,43.7290", NULL};
    const char *const *cmds[] = {info, route};
    for (size_t k = 0; k < NELEM(cmds); k++) {
        char *out = NULL, *errout = NULL;
        int status = run_covoit(cmds[k], &out, &errout);
        if (!WIFEXITED(status))
            fail_msg("covoit %s %s: killed by signal %d; stderr: %s", cmds[k][0], path,
                     WIFSIGNALED(status) ? WTERMSIG(status) : -1, errout);
        if (WEXITSTATUS(status) != 1)
            fail_msg("covoit %s %s: exit status %d, expected 1; stderr: %s", cmds[k][0], path, WEXITSTATUS(status),
                     errout);
        if (strncmp(errout, "covoit: ", 8) != 0 || strchr(errout, '\n') != errout + strlen(errout) - 1)
            fail_msg("covoit %s %s: stderr is not one 'covoit: ...' line: [%s]", cmds[k][0], path, errout);
        assert_string_equal(errout, want);
        if (k == 0) {
            assert_string_equal(out, ""); /* info prints no JSON on failure */
        } else {
            json_error_t je;
            json_t *doc = json_loads(out, 0, &je);
            if (!doc)
                fail_msg("covoit route %s: stdout is not JSON: %s", path, out);
            const char *code = json_string_value(json_object_get(doc, "code"));
            const char *msg = json_string_value(json_object_get(doc, "message"));
            assert_non_null(code);
            assert_non_null(msg);
            assert_string_not_equal(code, "Ok");
            assert_string_equal(msg, err.text);
            json_decref(doc);
        }
        free(out);
        free(errout);
    }
}

/* ---- the Monaco graph, built once for the whole file ---- */

typedef struct fixture {
    char path[1024];
    unsigned char *bytes; /* the file as written */
    size_t len;
    cv_graph_header hdr;
    cv_build_stats st;
} fixture;

static fixture F;

static int setup_monaco(void **state)
{
    (void)state;
    tmp_path(F.path, sizeof F.path, "monaco.graph");
    cv_error err;
    memset(&err, 0, sizeof err);
    int rc = import(MONACO_PBF, F.path, &F.st, &err, NULL);
    if (rc) {
        fprintf(stderr, "cannot build %s: %s\n", F.path, err.text);
        return -1;
    }
    FILE *f = fopen(F.path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    F.len = (size_t)ftell(f);
    rewind(f);
    F.bytes = malloc(F.len);
    if (!F.bytes || fread(F.bytes, 1, F.len, f) != F.len) {
        fclose(f);
        return -1;
    }
    fclose(f);
    if (F.len < sizeof F.hdr)
        return -1;
    memcpy(&F.hdr, F.bytes, sizeof F.hdr);
    return 0;
}

static int teardown_monaco(void **state)
{
    (void)state;
    free(F.bytes);
    unlink(F.path);
    /* what failed tests left behind */
    DIR *d = opendir(COVOIT_TMP);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strncmp(de->d_name, "tgf_", 4) != 0)
                continue;
            char p[1024];
            snprintf(p, sizeof p, "%s/%s", COVOIT_TMP, de->d_name);
            if (unlink(p) != 0)
                rmdir(p);
        }
        closedir(d);
    }
    return 0;
}

static unsigned char *copy_bytes(void)
{
    unsigned char *b = malloc(F.len + 8192);
    assert_non_null(b);
    memcpy(b, F.bytes, F.len);
    return b;
}

/* Recomputes every section checksum and the header checksum of a graph image, so that only the content checks
   can catch what was changed. */
static void reseal(unsigned char *b)
{
    cv_graph_header h;
    memcpy(&h, b, sizeof h);
    for (int i = 0; i < CV_SEC_COUNT; i++)
        if (h.sections[i].size <= F.len && h.sections[i].offset <= F.len - h.sections[i].size)
            h.sections[i].crc32 = (uint32_t)crc32(0L, b + h.sections[i].offset, (uInt)h.sections[i].size);
    h.header_crc32 = 0;
    h.header_crc32 = (uint32_t)crc32(0L, (const Bytef *)&h, sizeof h);
    memcpy(b, &h, sizeof h);
}

static void *section_ptr(unsigned char *b, int sec)
{
    return b + F.hdr.sections[sec].offset;
}

/* ---- a good file ---- */

static void test_monaco_opens_and_is_sane(void **state)
{
    (void)state;
    cv_error err;
    memset(&err, 0, sizeof err);
    cv_graph *g = cv_graph_open(F.path, &err);
    if (!g)
        fail_msg("cv_graph_open: %s", err.text);
    const cv_graph_header *h = &g->hdr;
    assert_memory_equal(h->magic, CV_GRAPH_MAGIC, 8);
    assert_int_equal(h->version, CV_GRAPH_VERSION);
    assert_int_equal(h->header_size, sizeof(cv_graph_header));
    assert_int_equal(h->nsections, CV_SEC_COUNT);
    assert_int_equal(h->profile_version, CV_PROFILE_VERSION);
    assert_int_equal(h->file_size, F.len);
    assert_int_equal(g->map_size, F.len);
    assert_string_equal(h->source, "monaco.osm.pbf");
    /* counts: what the build reported, and plausible for Monaco (about 2000 nodes) */
    assert_int_equal(h->nnodes, F.st.nodes);
    assert_int_equal(h->nedges, F.st.edges);
    assert_int_equal(h->narcs, F.st.arcs);
    assert_int_equal(h->npoints, F.st.points);
    assert_int_equal(h->nrestrictions, F.st.restrictions);
    assert_int_equal(h->ncomponents, F.st.components);
    assert_int_equal(F.st.file_size, F.len);
    assert_true(h->nnodes > 1000 && h->nnodes < 100000);
    assert_true(h->nedges > 1000 && h->nedges < 200000);
    assert_true(h->narcs >= h->nedges && h->narcs <= 2 * (uint64_t)h->nedges);
    assert_true(h->npoints >= 2 * (uint64_t)h->nedges);
    assert_true(h->nrestrictions > 0);
    assert_true(F.st.raw_edges >= h->nedges);
    assert_true(h->input_nodes > h->nnodes && h->input_ways > 1000 && h->input_relations > 0);
    assert_true(h->ncomponents >= 1 && h->largest_component < h->ncomponents);
    /* components: sizes add up, the largest is the largest and holds most of the graph */
    uint64_t sum = 0;
    for (uint32_t c = 0; c < h->ncomponents; c++) {
        sum += g->a.component_size[c];
        assert_true(g->a.component_size[c] >= 1);
        assert_true(g->a.component_size[c] <= g->a.component_size[h->largest_component]);
    }
    assert_int_equal(sum, h->nnodes);
    assert_int_equal(g->a.component_size[h->largest_component], F.st.largest_component_nodes);
    assert_true(g->a.component_size[h->largest_component] > h->nnodes / 2);
    /* Monaco and a little of France: the box */
    assert_true(h->bbox[0] < h->bbox[2] && h->bbox[1] < h->bbox[3]);
    assert_true(h->bbox[0] > cv_fixed(7.2) && h->bbox[2] < cv_fixed(7.7));
    assert_true(h->bbox[1] > cv_fixed(43.6) && h->bbox[3] < cv_fixed(43.9));
    /* every node and point inside the box; every edge's geometry runs from u to v; arcs match their edges */
    for (uint32_t i = 0; i < h->nnodes; i++) {
        cv_coord c = g->a.node_coord[i];
        assert_true(c.lon >= h->bbox[0] && c.lon <= h->bbox[2] && c.lat >= h->bbox[1] && c.lat <= h->bbox[3]);
    }
    uint64_t ndir = 0;
    for (uint32_t e = 0; e < h->nedges; e++) {
        const cv_edge *ed = &g->a.edges[e];
        uint32_t n;
        const cv_coord *p = cv_graph_edge_points(g, e, &n);
        assert_true(n >= 2);
        assert_true(p[0].lon == g->a.node_coord[ed->u].lon && p[0].lat == g->a.node_coord[ed->u].lat);
        assert_true(p[n - 1].lon == g->a.node_coord[ed->v].lon && p[n - 1].lat == g->a.node_coord[ed->v].lat);
        assert_true(ed->duration_ds >= 1);
        assert_true(ed->road_class < CV_RC_COUNT);
        assert_true(ed->flags & (CV_EDGE_FORWARD | CV_EDGE_BACKWARD));
        ndir += !!(ed->flags & CV_EDGE_FORWARD) + !!(ed->flags & CV_EDGE_BACKWARD);
        double len = 0;
        for (uint32_t k = 0; k + 1 < n; k++)
            len += cv_distance_m(p[k], p[k + 1]);
        assert_true(fabs(len * 10 - ed->length_dm) <= 1.0 + len * 1e-6);
    }
    /* routing nodes: junctions (edge ends), then copies of the junctions split for turn restrictions */
    assert_int_equal(h->njunctions, F.st.junctions);
    assert_int_equal(h->nsplits, F.st.split_junctions);
    assert_true(h->njunctions <= h->nnodes && h->njunctions > 1000);
    uint32_t *junction = malloc(h->nnodes * sizeof *junction);
    assert_non_null(junction);
    for (uint32_t i = 0; i < h->njunctions; i++)
        junction[i] = i;
    uint64_t copies = 0;
    for (uint32_t s = 0; s < h->nsplits; s++) {
        const cv_split *sp = &g->a.splits[s];
        assert_true(sp->node < h->njunctions);
        for (uint32_t c = 0; c < sp->count; c++) {
            junction[sp->first_copy + c] = sp->node;
            assert_true(g->a.node_coord[sp->first_copy + c].lon == g->a.node_coord[sp->node].lon &&
                        g->a.node_coord[sp->first_copy + c].lat == g->a.node_coord[sp->node].lat);
        }
        copies += sp->count;
    }
    assert_int_equal(copies, h->nnodes - h->njunctions);
    /* arcs run along their edge, in a drivable direction, between (copies of) the edge's ends */
    uint8_t *seen = calloc(2 * (size_t)h->nedges, 1);
    assert_non_null(seen);
    for (uint32_t i = 0; i < h->nnodes; i++) {
        for (uint32_t k = g->a.out_first[i]; k < g->a.out_first[i + 1]; k++) {
            const cv_arc *a = &g->a.out_arcs[k];
            const cv_edge *ed = &g->a.edges[a->edge >> 1];
            uint32_t tail = (a->edge & 1) ? ed->v : ed->u, head = (a->edge & 1) ? ed->u : ed->v;
            assert_int_equal(tail, junction[i]);
            assert_int_equal(head, junction[a->node]);
            assert_true(ed->flags & ((a->edge & 1) ? CV_EDGE_BACKWARD : CV_EDGE_FORWARD));
            assert_true(a->weight >= ed->duration_ds);
            seen[a->edge] = 1;
        }
        for (uint32_t k = g->a.in_first[i]; k < g->a.in_first[i + 1]; k++) {
            const cv_arc *a = &g->a.in_arcs[k];
            const cv_edge *ed = &g->a.edges[a->edge >> 1];
            uint32_t tail = (a->edge & 1) ? ed->v : ed->u, head = (a->edge & 1) ? ed->u : ed->v;
            assert_int_equal(head, junction[i]);
            assert_int_equal(tail, junction[a->node]);
        }
    }
    /* nearly every drivable direction has an arc (restrictions may leave out a few) */
    uint64_t nseen = 0;
    for (size_t k = 0; k < 2 * (size_t)h->nedges; k++)
        nseen += seen[k];
    assert_true(nseen <= ndir && nseen >= ndir - ndir / 50);
    assert_true(h->narcs >= nseen);
    free(seen);
    free(junction);
    /* the header copy is the file's */
    assert_memory_equal(&g->hdr, F.bytes, sizeof g->hdr);
    cv_graph_close(g);
    cv_graph_close(NULL);
}

static void test_build_is_deterministic(void **state)
{
    (void)state;
    char p[1024];
    tmp_path(p, sizeof p, "monaco2.graph");
    cv_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(import(MONACO_PBF, p, NULL, &err, NULL), 0);
    size_t len;
    unsigned char *b = read_all(p, &len);
    assert_int_equal(len, F.len);
    cv_graph_header h;
    memcpy(&h, b, sizeof h);
    for (int i = 0; i < CV_SEC_COUNT; i++) {
        assert_int_equal(h.sections[i].offset, F.hdr.sections[i].offset);
        assert_int_equal(h.sections[i].size, F.hdr.sections[i].size);
        assert_int_equal(h.sections[i].crc32, F.hdr.sections[i].crc32);
    }
    /* everything after the header is byte-identical (only the creation time may differ) */
    assert_memory_equal(b + sizeof h, F.bytes + sizeof h, len - sizeof h);
    free(b);
    assert_true(file_exists(p));
    unlink(p);
    /* no temporary file left behind */
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    assert_false(file_exists(tmp));
}

/* ---- damaged files ---- */

static void test_truncated(void **state)
{
    (void)state;
    const size_t hs = sizeof(cv_graph_header);
    struct {
        size_t len;
        int code;
        const char *what;
    } cases[] = {
        {0, CV_EFORMAT, "too short"},          {4, CV_EFORMAT, "too short"},
        {7, CV_EFORMAT, "too short"},          {8, CV_ECORRUPT, "truncated"},
        {12, CV_ECORRUPT, "truncated"},        {16, CV_ECORRUPT, "truncated"},
        {100, CV_ECORRUPT, "truncated"},       {hs - 1, CV_ECORRUPT, "truncated"},
        {hs, CV_ECORRUPT, "truncated"},        {hs + 1, CV_ECORRUPT, "truncated"},
        {F.len / 2, CV_ECORRUPT, "truncated"}, {F.len - 64, CV_ECORRUPT, "truncated"},
        {F.len - 1, CV_ECORRUPT, "truncated"},
    };
    for (size_t i = 0; i < NELEM(cases); i++) {
        char name[64];
        snprintf(name, sizeof name, "trunc%zu.graph", cases[i].len);
        write_and_expect(name, F.bytes, cases[i].len, cases[i].code, cases[i].what);
    }
}

static void test_header_byte_flips(void **state)
{
    (void)state;
    unsigned char *b = copy_bytes();
    char p[1024];
    tmp_path(p, sizeof p, "hdrflip.graph");
    /* magic */
    for (size_t off = 0; off < 8; off++) {
        b[off] ^= 0x20;
        write_all(p, b, F.len);
        expect_refused(p, CV_EFORMAT, "wrong magic");
        b[off] ^= 0x20;
    }
    /* version */
    for (size_t off = 8; off < 12; off++) {
        b[off] ^= 0x04;
        write_all(p, b, F.len);
        expect_refused(p, CV_EVERSION, "version");
        b[off] ^= 0x04;
    }
    /* every other byte of the header, counts, box, grid, names, section table and checksum included */
    for (size_t off = 12; off < sizeof(cv_graph_header); off++) {
        unsigned char mask = (unsigned char)(1u << (off % 8));
        b[off] ^= mask;
        write_all(p, b, F.len);
        expect_refused(p, CV_ECORRUPT, "header checksum mismatch");
        b[off] ^= mask;
    }
    /* untouched copy still opens */
    write_all(p, b, F.len);
    cv_error err;
    cv_graph *g = cv_graph_open(p, &err);
    assert_non_null(g);
    cv_graph_close(g);
    unlink(p);
    free(b);
}

static void test_section_byte_flips(void **state)
{
    (void)state;
    unsigned char *b = copy_bytes();
    char p[1024];
    tmp_path(p, sizeof p, "secflip.graph");
    int nonempty = 0;
    for (int i = 0; i < CV_SEC_COUNT; i++) {
        const cv_graph_section *s = &F.hdr.sections[i];
        if (s->size == 0)
            continue;
        nonempty++;
        char what[128];
        if (section_names[i])
            snprintf(what, sizeof what, "checksum mismatch in section '%s'", section_names[i]);
        else
            snprintf(what, sizeof what, "checksum mismatch in section '");
        uint64_t offs[3] = {s->offset, s->offset + s->size / 2, s->offset + s->size - 1};
        for (int k = 0; k < 3; k++) {
            b[offs[k]] ^= 0x10;
            write_all(p, b, F.len);
            expect_refused(p, CV_ECORRUPT, what);
            b[offs[k]] ^= 0x10;
        }
    }
    assert_int_equal(nonempty, CV_SEC_COUNT); /* Monaco has something in every section */
    unlink(p);
    free(b);
}

static void test_wrong_magic(void **state)
{
    (void)state;
    unsigned char *b = copy_bytes();
    memcpy(b, "COVOITGX", 8);
    write_and_expect("magic.graph", b, F.len, CV_EFORMAT, "not a covoit graph file");
    memcpy(b, "covoitgr", 8);
    write_and_expect("magic2.graph", b, F.len, CV_EFORMAT, "wrong magic");
    free(b);
    /* things people pass by mistake: the OSM extract itself, a text file */
    size_t len;
    unsigned char *pbf = read_all(MONACO_PBF, &len);
    write_and_expect("pbf.graph", pbf, len, CV_EFORMAT, "wrong magic");
    free(pbf);
    const char *text = "this is not a graph file, just some text that is long enough\n";
    write_and_expect("text.graph", text, strlen(text), CV_EFORMAT, "wrong magic");
}

static void test_other_versions(void **state)
{
    (void)state;
    unsigned char *b = copy_bytes();
    uint32_t v = CV_GRAPH_VERSION + 1;
    memcpy(b + 8, &v, 4);
    write_and_expect("v2.graph", b, F.len, CV_EVERSION, "upgrade covoit");
    char want[64];
    snprintf(want, sizeof want, "version %u", (unsigned)v);
    write_and_expect("v2b.graph", b, F.len, CV_EVERSION, want);
    /* the same with a header checksum that matches: the version alone decides */
    reseal(b);
    write_and_expect("v2c.graph", b, F.len, CV_EVERSION, want);
    v = 0x7fffffffu;
    memcpy(b + 8, &v, 4);
    write_and_expect("vbig.graph", b, F.len, CV_EVERSION, "version 2147483647");
    /* an older version: refused too, without suggesting an upgrade */
    v = 0;
    memcpy(b + 8, &v, 4);
    char p[1024];
    tmp_path(p, sizeof p, "v0.graph");
    write_all(p, b, F.len);
    expect_refused(p, CV_EVERSION, "re-import");
    cv_error err;
    assert_null(cv_graph_open(p, &err));
    assert_null(strstr(err.text, "upgrade"));
    unlink(p);
    free(b);
}

static void test_extra_bytes(void **state)
{
    (void)state;
    unsigned char *b = copy_bytes();
    memset(b + F.len, 0, 8192);
    static const size_t extra[] = {1, 63, 64, 4096, 8192};
    for (size_t i = 0; i < NELEM(extra); i++)
        write_and_expect("extra.graph", b, F.len + extra[i], CV_ECORRUPT, "extended");
    free(b);
}

static void test_directory_and_missing(void **state)
{
    (void)state;
    char d[1024];
    tmp_path(d, sizeof d, "dir.graph");
    rmdir(d);
    assert_int_equal(mkdir(d, 0755), 0);
    expect_refused(d, CV_EIO, "not a regular file");
    assert_int_equal(rmdir(d), 0);
    char m[1024];
    tmp_path(m, sizeof m, "missing.graph");
    unlink(m);
    expect_refused(m, CV_EIO, "cannot open");
    expect_refused(m, CV_EIO, strerror(ENOENT));
    expect_refused(COVOIT_TMP "/tgf_no_such_dir/x.graph", CV_EIO, "cannot open");
}

/* Content that checksums cannot catch (a writer bug, or a crafted file): every id is checked against the counts. */
static void expect_content_refused(unsigned char *b, const char *name, const char *what)
{
    reseal(b);
    write_and_expect(name, b, F.len, CV_ECORRUPT, what);
}

static void test_bad_contents_with_good_checksums(void **state)
{
    (void)state;
    const cv_graph_header *h = &F.hdr;
    unsigned char *b;

    b = copy_bytes();
    ((cv_edge *)section_ptr(b, CV_SEC_EDGE))[0].u = h->nnodes;
    expect_content_refused(b, "c_edge_u.graph", "edge 0 has an end node out of range");
    free(b);

    b = copy_bytes();
    ((cv_edge *)section_ptr(b, CV_SEC_EDGE))[h->nedges - 1].v = UINT32_MAX;
    expect_content_refused(b, "c_edge_v.graph", "end node out of range");
    free(b);

    b = copy_bytes();
    ((cv_edge *)section_ptr(b, CV_SEC_EDGE))[7].duration_ds = 0;
    expect_content_refused(b, "c_edge_dur.graph", "edge 7 has a zero travel time");
    free(b);

    b = copy_bytes();
    ((uint32_t *)section_ptr(b, CV_SEC_NODE_COMPONENT))[3] = h->ncomponents;
    expect_content_refused(b, "c_comp.graph", "node 3 has component");
    free(b);

    b = copy_bytes();
    {
        cv_graph_header hh;
        memcpy(&hh, b, sizeof hh);
        hh.largest_component = hh.ncomponents;
        memcpy(b, &hh, sizeof hh);
    }
    expect_content_refused(b, "c_largest.graph", "largest component id out of range");
    free(b);

    b = copy_bytes();
    ((uint32_t *)section_ptr(b, CV_SEC_EDGE_FIRST_POINT))[h->nedges] = h->npoints + 1;
    expect_content_refused(b, "c_efirst.graph", "edge geometry offsets are inconsistent");
    free(b);

    b = copy_bytes();
    {
        uint32_t *first = section_ptr(b, CV_SEC_EDGE_FIRST_POINT);
        first[1] = first[0] + 1; /* edge 0 with a single point, still non-decreasing */
    }
    expect_content_refused(b, "c_onepoint.graph", "edge 0 has fewer than two points");
    free(b);

    b = copy_bytes();
    {
        uint32_t *first = section_ptr(b, CV_SEC_EDGE_FIRST_POINT);
        uint32_t t = first[10];
        first[10] = first[11];
        first[11] = t; /* decreasing */
    }
    expect_content_refused(b, "c_efirst2.graph", "inconsistent");
    free(b);

    b = copy_bytes();
    ((uint32_t *)section_ptr(b, CV_SEC_OUT_FIRST))[0] = 1;
    expect_content_refused(b, "c_outfirst.graph", "adjacency offsets are inconsistent");
    free(b);

    b = copy_bytes();
    ((uint32_t *)section_ptr(b, CV_SEC_IN_FIRST))[h->nnodes] = h->narcs - 1;
    expect_content_refused(b, "c_infirst.graph", "adjacency offsets are inconsistent");
    free(b);

    b = copy_bytes();
    ((cv_arc *)section_ptr(b, CV_SEC_OUT_ARC))[5].node = h->nnodes;
    expect_content_refused(b, "c_arc_node.graph", "arc 5 refers outside the graph");
    free(b);

    b = copy_bytes();
    ((cv_arc *)section_ptr(b, CV_SEC_IN_ARC))[h->narcs - 1].edge = h->nedges << 1;
    expect_content_refused(b, "c_arc_edge.graph", "refers outside the graph");
    free(b);

    b = copy_bytes();
    ((cv_arc *)section_ptr(b, CV_SEC_OUT_ARC))[0].weight = 0;
    expect_content_refused(b, "c_arc_w.graph", "arc 0 refers outside the graph");
    free(b);

    b = copy_bytes();
    ((cv_restriction *)section_ptr(b, CV_SEC_RESTRICTION))[0].narcs = 1;
    expect_content_refused(b, "c_restr.graph", "restriction 0 refers outside the graph");
    free(b);

    b = copy_bytes();
    ((cv_restriction *)section_ptr(b, CV_SEC_RESTRICTION))[0].first = h->nrestriction_arcs;
    expect_content_refused(b, "c_restr_first.graph", "restriction 0 refers outside the graph");
    free(b);

    /* an arc that does not leave where the one before arrives (the restriction's first arc taken twice) */
    b = copy_bytes();
    {
        const cv_restriction *r = &((cv_restriction *)section_ptr(b, CV_SEC_RESTRICTION))[0];
        uint32_t *ra = (uint32_t *)section_ptr(b, CV_SEC_RESTRICTION_ARC);
        ra[r->first + 1] = ra[r->first];
    }
    expect_content_refused(b, "c_restr_gap.graph", "restriction 0 refers outside the graph");
    free(b);

    b = copy_bytes();
    ((uint32_t *)section_ptr(b, CV_SEC_SPLIT_IN))[0] ^= 1; /* the same edge, the other way: leaves, not arrives */
    expect_content_refused(b, "c_split_in.graph", "lists an arc that does not arrive there");
    free(b);

    b = copy_bytes();
    ((cv_restriction *)section_ptr(b, CV_SEC_RESTRICTION))[0].kind = 2;
    expect_content_refused(b, "c_restr2.graph", "restriction 0 refers outside the graph");
    free(b);

    b = copy_bytes();
    {
        const cv_restriction *r = &((cv_restriction *)section_ptr(b, CV_SEC_RESTRICTION))[h->nrestrictions - 1];
        ((uint32_t *)section_ptr(b, CV_SEC_RESTRICTION_ARC))[r->first + r->narcs - 1] = h->nedges << 1;
    }
    expect_content_refused(b, "c_restr3.graph", "refers outside the graph");
    free(b);

    b = copy_bytes();
    ((uint32_t *)section_ptr(b, CV_SEC_GRID_FIRST))[0] = 1;
    expect_content_refused(b, "c_gfirst.graph", "spatial grid offsets are inconsistent");
    free(b);

    b = copy_bytes();
    ((cv_grid_item *)section_ptr(b, CV_SEC_GRID_ITEM))[0].edge = h->nedges;
    expect_content_refused(b, "c_gitem.graph", "spatial grid item 0 refers outside the graph");
    free(b);

    b = copy_bytes();
    {
        cv_grid_item *it = section_ptr(b, CV_SEC_GRID_ITEM);
        const uint32_t *first = (const uint32_t *)(F.bytes + h->sections[CV_SEC_EDGE_FIRST_POINT].offset);
        it[1].point = first[it[1].edge + 1] - 1; /* the edge's last point: no segment starts there */
    }
    expect_content_refused(b, "c_gitem2.graph", "spatial grid item 1 refers outside the graph");
    free(b);

    b = copy_bytes();
    {
        cv_grid_item *it = section_ptr(b, CV_SEC_GRID_ITEM);
        const uint32_t *first = (const uint32_t *)(F.bytes + h->sections[CV_SEC_EDGE_FIRST_POINT].offset);
        uint64_t k = 0;
        while (k < h->sections[CV_SEC_GRID_ITEM].count && first[it[k].edge] == 0)
            k++; /* an item of an edge other than edge 0, so that "before its first point" does not wrap */
        assert_true(k < h->sections[CV_SEC_GRID_ITEM].count);
        it[k].point = first[it[k].edge] - 1;
        char what[96];
        snprintf(what, sizeof what, "spatial grid item %llu refers outside the graph", (unsigned long long)k);
        expect_content_refused(b, "c_gitem3.graph", what);
    }
    free(b);

    /* header fields (section table, counts, grid): the header checksum is made to match */
    b = copy_bytes();
    {
        cv_graph_header hh;
        memcpy(&hh, b, sizeof hh);
        hh.grid_cell_lon = 0;
        memcpy(b, &hh, sizeof hh);
    }
    expect_content_refused(b, "c_cell.graph", "spatial grid has no cells");
    free(b);

    b = copy_bytes();
    {
        cv_graph_header hh;
        memcpy(&hh, b, sizeof hh);
        hh.sections[CV_SEC_EDGE].offset += 4; /* misaligned */
        memcpy(b, &hh, sizeof hh);
    }
    expect_content_refused(b, "c_align.graph", "section 'edges' does not fit the file");
    free(b);

    b = copy_bytes();
    {
        cv_graph_header hh;
        memcpy(&hh, b, sizeof hh);
        uint64_t more = F.len / sizeof(cv_grid_item) + 1; /* runs past the end of the file */
        hh.sections[CV_SEC_GRID_ITEM].count += more;
        hh.sections[CV_SEC_GRID_ITEM].size += more * sizeof(cv_grid_item);
        memcpy(b, &hh, sizeof hh);
    }
    expect_content_refused(b, "c_past.graph", "section 'spatial grid items' does not fit the file");
    free(b);

    b = copy_bytes();
    {
        cv_graph_header hh;
        memcpy(&hh, b, sizeof hh);
        hh.sections[CV_SEC_POINT].elem_size = 4; /* wrong element size, size still count * elem */
        hh.sections[CV_SEC_POINT].size = hh.sections[CV_SEC_POINT].count * 4;
        memcpy(b, &hh, sizeof hh);
    }
    expect_content_refused(b, "c_elem.graph", "section 'geometry points' does not fit the file");
    free(b);

    b = copy_bytes();
    {
        cv_graph_header hh;
        memcpy(&hh, b, sizeof hh);
        hh.nnodes += 1; /* counts that disagree with the sections */
        memcpy(b, &hh, sizeof hh);
    }
    expect_content_refused(b, "c_nnodes.graph", "section 'node coordinates' does not fit the file");
    free(b);

    b = copy_bytes();
    {
        cv_graph_header hh;
        memcpy(&hh, b, sizeof hh);
        hh.sections[CV_SEC_GRID_ITEM].count = UINT64_MAX / 4; /* count * elem_size overflows */
        hh.sections[CV_SEC_GRID_ITEM].size = hh.sections[CV_SEC_GRID_ITEM].count * 8;
        memcpy(b, &hh, sizeof hh);
    }
    expect_content_refused(b, "c_overflow.graph", "section 'spatial grid items' does not fit the file");
    free(b);

    b = copy_bytes();
    {
        cv_graph_header hh;
        memcpy(&hh, b, sizeof hh);
        hh.sections[CV_SEC_NODE_COORD].offset = 0; /* over the header */
        memcpy(b, &hh, sizeof hh);
    }
    expect_content_refused(b, "c_overhdr.graph", "section 'node coordinates' does not fit the file");
    free(b);

    b = copy_bytes();
    {
        cv_graph_header hh;
        memcpy(&hh, b, sizeof hh);
        hh.header_size += 8;
        memcpy(b, &hh, sizeof hh);
    }
    expect_content_refused(b, "c_hsize.graph", "corrupt graph file");
    free(b);

    b = copy_bytes();
    {
        cv_graph_header hh;
        memcpy(&hh, b, sizeof hh);
        hh.nsections = CV_SEC_COUNT - 1;
        memcpy(b, &hh, sizeof hh);
    }
    expect_content_refused(b, "c_nsec.graph", "corrupt graph file");
    free(b);
}

/* The contraction hierarchy, checked as a whole: a file whose checksums are right but whose hierarchy does not
   hold together (a link going the wrong way, ranks not a permutation or given to the wrong nodes, an arc turned
   round, a shortcut that does not add up or unpacks wrongly) is refused with a message naming the problem, before
   any query could follow it. */
static void test_bad_hierarchy_with_good_checksums(void **state)
{
    (void)state;
    const cv_graph_header *h = &F.hdr;
    const uint32_t *rank = (const uint32_t *)(F.bytes + h->sections[CV_SEC_CH_RANK].offset);
    const uint32_t *up_first = (const uint32_t *)(F.bytes + h->sections[CV_SEC_CH_UP_FIRST].offset);
    const cv_ch_link *up = (const cv_ch_link *)(F.bytes + h->sections[CV_SEC_CH_UP].offset);
    const uint32_t *down_first = (const uint32_t *)(F.bytes + h->sections[CV_SEC_CH_DOWN_FIRST].offset);
    const cv_ch_unpack *arcs = (const cv_ch_unpack *)(F.bytes + h->sections[CV_SEC_CH_ARC].offset);
    const cv_edge *edges = (const cv_edge *)(F.bytes + h->sections[CV_SEC_EDGE].offset);
    unsigned char *b;
    char what[160];

    /* a rank with up links and one with down links, beyond rank 0 */
    uint32_t ru = 1, rd = 1;
    while (ru < h->nnodes && up_first[ru] == up_first[ru + 1])
        ru++;
    while (rd < h->nnodes && down_first[rd] == down_first[rd + 1])
        rd++;
    assert_true(ru < h->nnodes && rd < h->nnodes);

    /* an up link that goes down */
    b = copy_bytes();
    ((cv_ch_link *)section_ptr(b, CV_SEC_CH_UP))[up_first[ru]].node = ru - 1;
    snprintf(what, sizeof what, "hierarchy up arc %u of rank %u goes to rank %u, not a higher one", up_first[ru], ru,
             ru - 1);
    expect_content_refused(b, "c_ch_updown.graph", what);
    free(b);

    /* a down link from its own rank */
    b = copy_bytes();
    ((cv_ch_link *)section_ptr(b, CV_SEC_CH_DOWN))[down_first[rd]].node = rd;
    snprintf(what, sizeof what, "hierarchy down arc %u of rank %u comes from rank %u, not a higher one", down_first[rd],
             rd, rd);
    expect_content_refused(b, "c_ch_downup.graph", what);
    free(b);

    /* a link to no rank, a link to no arc */
    b = copy_bytes();
    ((cv_ch_link *)section_ptr(b, CV_SEC_CH_UP))[up_first[ru]].node = h->nnodes;
    expect_content_refused(b, "c_ch_uprange.graph", "beyond the");
    free(b);
    b = copy_bytes();
    ((cv_ch_link *)section_ptr(b, CV_SEC_CH_DOWN))[down_first[rd]].arc = h->nch_arcs;
    snprintf(what, sizeof what, "stands for arc %u, beyond the %u arcs", h->nch_arcs, h->nch_arcs);
    expect_content_refused(b, "c_ch_arcrange.graph", what);
    free(b);

    /* ranks that are not a permutation: one given twice, one beyond the last */
    b = copy_bytes();
    ((uint32_t *)section_ptr(b, CV_SEC_CH_RANK))[1] = rank[0];
    snprintf(what, sizeof what, "hierarchy rank %u is given to nodes 0 and 1", rank[0]);
    expect_content_refused(b, "c_ch_rank2.graph", what);
    free(b);
    b = copy_bytes();
    ((uint32_t *)section_ptr(b, CV_SEC_CH_RANK))[5] = h->nnodes;
    snprintf(what, sizeof what, "hierarchy rank %u of node 5 is beyond the %u ranks", h->nnodes, h->nnodes);
    expect_content_refused(b, "c_ch_rankrange.graph", what);
    free(b);

    /* ranks still a permutation but two of them exchanged: the links of each rank now leave the other node, whose
       roads they are not */
    b = copy_bytes();
    {
        uint32_t *rk = section_ptr(b, CV_SEC_CH_RANK);
        uint32_t x = 0, y = h->njunctions / 2;
        uint32_t t = rk[x];
        rk[x] = rk[y];
        rk[y] = t;
    }
    expect_content_refused(b, "c_ch_swap.graph", "but stands for edge");
    free(b);

    /* an original arc turned round: same duration and length (a two-way edge as fast both ways), but it now runs
       from the link's head to its tail */
    b = copy_bytes();
    {
        uint32_t k = 0;
        for (; k < h->nch_up; k++) {
            const cv_ch_unpack *u = &arcs[up[k].arc];
            const cv_edge *e = &edges[u->first >> 1];
            if (u->second == CV_CH_ORIGINAL && (e->flags & CV_EDGE_FORWARD) && (e->flags & CV_EDGE_BACKWARD) &&
                e->duration_ds == e->duration_back_ds && e->u != e->v)
                break;
        }
        assert_true(k < h->nch_up);
        ((cv_ch_unpack *)section_ptr(b, CV_SEC_CH_ARC))[up[k].arc].first ^= 1;
    }
    expect_content_refused(b, "c_ch_turned.graph", "but stands for edge");
    free(b);

    /* an original arc that does not last as long as its edge; a shortcut that does not last as long as its halves;
       a shortcut that unpacks into itself; a shortcut whose halves are exchanged (the same sum, the wrong way
       round) */
    uint32_t orig = 0, sc = 0;
    while (arcs[orig].second != CV_CH_ORIGINAL)
        orig++;
    for (uint32_t k = 0; k < h->nch_up && !sc; k++)
        if (arcs[up[k].arc].second != CV_CH_ORIGINAL)
            sc = up[k].arc; /* a shortcut a link uses, so that its ends are known */
    assert_true(sc > 0);
    b = copy_bytes();
    ((cv_ch_unpack *)section_ptr(b, CV_SEC_CH_ARC))[orig].duration_ds += 1;
    snprintf(what, sizeof what, "hierarchy arc %u (%u ds, %u dm) does not last as long as its edge", orig,
             arcs[orig].duration_ds + 1, arcs[orig].distance_dm);
    expect_content_refused(b, "c_ch_origdur.graph", what);
    free(b);
    b = copy_bytes();
    ((cv_ch_unpack *)section_ptr(b, CV_SEC_CH_ARC))[sc].distance_dm -= 1;
    snprintf(what, sizeof what, "hierarchy shortcut %u (%u ds, %u dm) does not last as long as its halves", sc,
             arcs[sc].duration_ds, arcs[sc].distance_dm - 1);
    expect_content_refused(b, "c_ch_scdur.graph", what);
    free(b);
    b = copy_bytes();
    ((cv_ch_unpack *)section_ptr(b, CV_SEC_CH_ARC))[sc].second = sc;
    snprintf(what, sizeof what, "hierarchy shortcut %u unpacks into arc %u, not an earlier one", sc, sc);
    expect_content_refused(b, "c_ch_self.graph", what);
    free(b);
    b = copy_bytes();
    {
        cv_ch_unpack *u = &((cv_ch_unpack *)section_ptr(b, CV_SEC_CH_ARC))[sc];
        uint32_t t = u->first;
        u->first = u->second;
        u->second = t;
    }
    snprintf(what, sizeof what, "hierarchy shortcut %u from node", sc);
    expect_content_refused(b, "c_ch_halves.graph", what);
    expect_content_refused(b, "c_ch_halves.graph", "meeting at a node below both");
    free(b);

    /* a link lighter than the time it stands for (searches would prefer it to the real way) */
    b = copy_bytes();
    ((cv_ch_link *)section_ptr(b, CV_SEC_CH_UP))[up_first[ru]].weight = 0;
    expect_content_refused(b, "c_ch_light.graph", "less than the");
    free(b);

    /* each of these files, through the CLI: refused cleanly, never a crash */
    b = copy_bytes();
    {
        uint32_t *rk = section_ptr(b, CV_SEC_CH_RANK);
        uint32_t t = rk[0];
        rk[0] = rk[h->njunctions / 2];
        rk[h->njunctions / 2] = t;
    }
    reseal(b);
    char p[1024];
    tmp_path(p, sizeof p, "c_ch_cli.graph");
    write_all(p, b, F.len);
    expect_cli_fails(p);
    unlink(p);
    free(b);
}

/* Split junctions (the restriction automaton's copies of a junction): every copy belongs to one split junction and
   stands where it does, each split junction's arcs arrive at it, every arc leaves the junction of its tail node
   and reaches that of its head node. A file breaking one of these with good checksums is refused by name. */
static void test_bad_split_junctions_with_good_checksums(void **state)
{
    (void)state;
    const cv_graph_header *h = &F.hdr;
    const cv_split *splits = (const cv_split *)(F.bytes + h->sections[CV_SEC_SPLIT].offset);
    const uint32_t *out_first = (const uint32_t *)(F.bytes + h->sections[CV_SEC_OUT_FIRST].offset);
    const cv_arc *out = (const cv_arc *)(F.bytes + h->sections[CV_SEC_OUT_ARC].offset);
    unsigned char *b;
    char what[200];
    assert_true(h->nsplits >= 2 && h->nnodes > h->njunctions);
    /* two split junctions with copies, the second's claimed by the first as well */
    uint32_t i1 = 0;
    while (i1 < h->nsplits && splits[i1].count == 0)
        i1++;
    uint32_t i2 = i1 + 1;
    while (i2 < h->nsplits && splits[i2].count == 0)
        i2++;
    assert_true(i2 < h->nsplits);
    b = copy_bytes();
    ((cv_split *)section_ptr(b, CV_SEC_SPLIT))[i2].first_copy = splits[i1].first_copy;
    snprintf(what, sizeof what, "routing node %u is a copy of both junction %u and junction %u", splits[i1].first_copy,
             splits[i1].node, splits[i2].node);
    expect_content_refused(b, "c_split_shared.graph", what);
    free(b);

    /* a copy away from its junction */
    b = copy_bytes();
    ((cv_coord *)section_ptr(b, CV_SEC_NODE_COORD))[splits[i1].first_copy].lat += 1;
    snprintf(what, sizeof what, "routing node %u, a copy of junction %u, is not where its junction is",
             splits[i1].first_copy, splits[i1].node);
    expect_content_refused(b, "c_split_moved.graph", what);
    free(b);

    /* a split junction that names another junction as its own (still in order): its arriving arcs do not arrive */
    uint32_t k = 0;
    while (k + 1 < h->nsplits && splits[k + 1].node <= splits[k].node + 1)
        k++;
    assert_true(k + 1 < h->nsplits);
    b = copy_bytes();
    ((cv_split *)section_ptr(b, CV_SEC_SPLIT))[k].node += 1;
    snprintf(what, sizeof what, "split junction %u lists an arc that does not arrive there", k);
    expect_content_refused(b, "c_split_node.graph", what);
    free(b);

    /* an arc of a copy sent to another junction than its edge reaches */
    uint32_t c = splits[i1].first_copy;
    assert_true(out_first[c + 1] > out_first[c]);
    uint32_t a = out_first[c];
    uint32_t elsewhere = out[a].node == 0 ? 1 : 0;
    b = copy_bytes();
    ((cv_arc *)section_ptr(b, CV_SEC_OUT_ARC))[a].node = elsewhere;
    snprintf(what, sizeof what, "out-arc %u from routing node %u (junction %u) to %u (junction %u) runs along edge", a,
             c, splits[i1].node, elsewhere, elsewhere);
    expect_content_refused(b, "c_split_arc.graph", what);
    free(b);

    /* a junction's arc moved to leave a copy of another junction (its tail in the in-arcs) */
    const uint32_t *in_first = (const uint32_t *)(F.bytes + h->sections[CV_SEC_IN_FIRST].offset);
    const cv_arc *in = (const cv_arc *)(F.bytes + h->sections[CV_SEC_IN_ARC].offset);
    uint32_t y = 0;
    while (y < h->njunctions && in_first[y + 1] == in_first[y])
        y++;
    assert_true(y < h->njunctions);
    uint32_t ia = in_first[y];
    uint32_t tail = in[ia].node == c ? c + 1 : c;
    b = copy_bytes();
    ((cv_arc *)section_ptr(b, CV_SEC_IN_ARC))[ia].node = tail;
    snprintf(what, sizeof what, "in-arc %u from routing node %u", ia, tail);
    expect_content_refused(b, "c_split_inarc.graph", what);
    free(b);

    /* through the CLI */
    b = copy_bytes();
    ((cv_split *)section_ptr(b, CV_SEC_SPLIT))[i2].first_copy = splits[i1].first_copy;
    reseal(b);
    char p[1024];
    tmp_path(p, sizeof p, "c_split_cli.graph");
    write_all(p, b, F.len);
    expect_cli_fails(p);
    unlink(p);
    free(b);
}

/* The street names (turn-by-turn steps read them): indexes, offsets, termination and UTF-8 are checked. */
static void test_bad_street_names(void **state)
{
    (void)state;
    const cv_graph_header *h = &F.hdr;
    assert_true(h->nnames > 1 && h->nname_chars > 1);
    unsigned char *b;

    b = copy_bytes();
    ((uint32_t *)section_ptr(b, CV_SEC_EDGE_NAME))[3] = h->nnames;
    expect_content_refused(b, "c_ename.graph", "edge 3 has a street name out of range");
    free(b);

    b = copy_bytes();
    ((uint32_t *)section_ptr(b, CV_SEC_EDGE_NAME))[h->nedges - 1] = UINT32_MAX;
    expect_content_refused(b, "c_ename2.graph", "has a street name out of range");
    free(b);

    b = copy_bytes();
    ((cv_street_name *)section_ptr(b, CV_SEC_NAME))[1].name = h->nname_chars;
    expect_content_refused(b, "c_name_off.graph", "street name 1 refers outside the name table");
    free(b);

    b = copy_bytes();
    {
        /* an offset into the middle of a string: in range, but not the start of a string */
        cv_street_name *nm = section_ptr(b, CV_SEC_NAME);
        const char *chars = (const char *)section_ptr(b, CV_SEC_NAME_CHAR);
        uint32_t k = 0;
        while (k < h->nnames && (nm[k].name == 0 || chars[nm[k].name] == '\0' || chars[nm[k].name + 1] == '\0'))
            k++;
        assert_true(k < h->nnames);
        nm[k].name += 1;
        char what[80];
        snprintf(what, sizeof what, "street name %u refers outside the name table", k);
        expect_content_refused(b, "c_name_mid.graph", what);
    }
    free(b);

    b = copy_bytes();
    ((cv_street_name *)section_ptr(b, CV_SEC_NAME))[h->nnames - 1].destination = UINT32_MAX;
    expect_content_refused(b, "c_name_dest.graph", "refers outside the name table");
    free(b);

    b = copy_bytes();
    ((char *)section_ptr(b, CV_SEC_NAME_CHAR))[h->nname_chars - 1] = 'x'; /* the last string runs off the end */
    expect_content_refused(b, "c_name_term.graph", "the street name table is not terminated");
    free(b);

    b = copy_bytes();
    ((char *)section_ptr(b, CV_SEC_NAME_CHAR))[0] = 'x'; /* the empty string at offset 0 is not empty */
    expect_content_refused(b, "c_name_first.graph", "the street name table is not terminated");
    free(b);

    b = copy_bytes();
    {
        unsigned char *chars = section_ptr(b, CV_SEC_NAME_CHAR);
        uint32_t k = 1;
        while (k < h->nname_chars && chars[k] == 0)
            k++;
        assert_true(k < h->nname_chars);
        chars[k] = 0xff; /* never valid in UTF-8 */
        char what[80];
        snprintf(what, sizeof what, "street name byte %u is not UTF-8", k);
        expect_content_refused(b, "c_name_utf8.graph", what);
    }
    free(b);

    b = copy_bytes();
    ((cv_edge *)section_ptr(b, CV_SEC_EDGE))[5].flags |= 0x80;
    expect_content_refused(b, "c_edge_flags.graph", "edge 5 has unknown flags");
    free(b);
}

/* Street names and roundabouts as the importer keeps them: Monaco's edges carry names from the name table, some
   of them on roundabouts; every string is reachable and a name's text is found again by its edges. */
static void test_street_names_imported(void **state)
{
    (void)state;
    cv_error err;
    memset(&err, 0, sizeof err);
    cv_graph *g = cv_graph_open(F.path, &err);
    if (!g)
        fail_msg("cv_graph_open: %s", err.text);
    const cv_street_name *none = &g->a.names[0];
    assert_int_equal(none->name, 0);
    assert_int_equal(none->ref, 0);
    assert_int_equal(none->destination, 0);
    assert_string_equal(cv_graph_string(g, 0), "");
    uint32_t named = 0, with_ref = 0, roundabout = 0;
    int found_grimaldi = 0;
    for (uint32_t e = 0; e < g->hdr.nedges; e++) {
        const cv_street_name *nm = cv_graph_edge_name(g, e);
        const char *name = cv_graph_string(g, nm->name);
        named += name[0] != '\0';
        with_ref += cv_graph_string(g, nm->ref)[0] != '\0';
        roundabout += !!(g->a.edges[e].flags & CV_EDGE_ROUNDABOUT);
        found_grimaldi |= !strcmp(name, "Rue Grimaldi");
        assert_true(strlen(name) <= 255);
    }
    assert_true(named > g->hdr.nedges / 2);
    assert_true(with_ref > 0);
    assert_true(roundabout > 10);
    assert_true(found_grimaldi);
    /* deduplicated: no two entries alike */
    for (uint32_t i = 1; i < g->hdr.nnames && i < 2000; i++)
        for (uint32_t j = 0; j < i; j++)
            assert_false(g->a.names[i].name == g->a.names[j].name && g->a.names[i].ref == g->a.names[j].ref &&
                         g->a.names[i].destination == g->a.names[j].destination);
    cv_graph_close(g);
}

/* A grid item whose point is UINT32_MAX passes the range check because `point + 1` wraps to 0; cv_snap_point then
   reads g->a.points[4294967295]. */
static void test_grid_item_point_wraparound(void **state)
{
    (void)state;
    unsigned char *b = copy_bytes();
    ((cv_grid_item *)section_ptr(b, CV_SEC_GRID_ITEM))[0].point = UINT32_MAX;
    expect_content_refused(b, "c_gitem_wrap.graph", "spatial grid item 0 refers outside the graph");
    free(b);
}

/* A CLI run that failed as it should: exit status 1, not a signal, one "covoit: ..." line on stderr. */
static void expect_clean_failure(const char *cmd, const char *path, int status, const char *errout)
{
    if (!WIFEXITED(status))
        fail_msg("covoit %s %s: killed by signal %d; stderr: %.300s", cmd, path,
                 WIFSIGNALED(status) ? WTERMSIG(status) : -1, errout);
    if (WEXITSTATUS(status) != 1 || strncmp(errout, "covoit: ", 8) != 0 ||
        strchr(errout, '\n') != errout + strlen(errout) - 1)
        fail_msg("covoit %s %s: exit status %d, stderr: %.300s", cmd, path, WEXITSTATUS(status), errout);
}

/* Writes a graph with the counts of h (no nodes, edges or points expected) where every array is zeros: each
   pointer of cv_graph_arrays is aimed at one zero buffer, whatever sections the format has. */
static void write_empty_graph(const char *path, const cv_graph_header *h)
{
    static const uint64_t zeros[64];
    union {
        cv_graph_arrays a;
        const void *slot[sizeof(cv_graph_arrays) / sizeof(void *)];
    } u;
    assert_int_equal(sizeof(void *), sizeof(uint64_t)); /* pointers and ngrid_items share the slot size */
    for (size_t i = 0; i < NELEM(u.slot); i++)
        u.slot[i] = zeros;
    u.a.ngrid_items = 0;
    cv_error err;
    memset(&err, 0, sizeof err);
    if (cv_graph_write(path, h, &u.a, &err))
        fail_msg("cv_graph_write: %s", err.text);
    /* with a matching largest component it is a valid (if useless) graph */
}

/* A graph with no node but components: the largest component id is only checked when there are nodes, yet
   `covoit info` reads component_size[largest_component] whenever there are components. */
static void test_empty_graph_largest_component_checked(void **state)
{
    (void)state;
    char p[1024];
    tmp_path(p, sizeof p, "empty_comp.graph");
    cv_graph_header h;
    memset(&h, 0, sizeof h);
    h.ncomponents = 1;
    h.largest_component = 0x40000000u; /* component_size[] has one element */
    h.grid_cols = h.grid_rows = 1;
    h.grid_cell_lon = h.grid_cell_lat = 10000;
    write_empty_graph(p, &h);
    expect_refused(p, CV_ECORRUPT, "largest component id out of range");
    unlink(p);
}

/* The same file through `covoit info`: it must fail cleanly, not read component_size[0x40000000]. */
static void test_cli_info_on_empty_graph(void **state)
{
    (void)state;
    char p[1024];
    tmp_path(p, sizeof p, "empty_comp_cli.graph");
    cv_graph_header h;
    memset(&h, 0, sizeof h);
    h.ncomponents = 1;
    h.largest_component = 0x40000000u;
    h.grid_cols = h.grid_rows = 1;
    h.grid_cell_lon = h.grid_cell_lat = 10000;
    write_empty_graph(p, &h);
    const char *info[] = {"info", p, NULL};
    char *out, *errout;
    int status = run_covoit(info, &out, &errout);
    unlink(p);
    expect_clean_failure("info", p, status, errout);
    free(out);
    free(errout);
}

/* The wrapped grid item through `covoit route`, with a point in the grid cell that holds item 0: the file must be
   refused, not read at points[4294967295]. */
static void test_cli_route_on_wrapped_grid_item(void **state)
{
    (void)state;
    unsigned char *b = copy_bytes();
    ((cv_grid_item *)section_ptr(b, CV_SEC_GRID_ITEM))[0].point = UINT32_MAX;
    reseal(b);
    char p[1024];
    tmp_path(p, sizeof p, "gitem_wrap_cli.graph");
    write_all(p, b, F.len);
    free(b);
    const cv_graph_header *h = &F.hdr;
    const uint32_t *gfirst = (const uint32_t *)(F.bytes + h->sections[CV_SEC_GRID_FIRST].offset);
    uint64_t cell = 0;
    while (gfirst[cell + 1] == 0)
        cell++; /* the first non-empty cell holds item 0 */
    uint64_t row = cell / h->grid_cols, col = cell % h->grid_cols;
    cv_coord c = {(int32_t)(h->grid_lon0 + (int64_t)col * h->grid_cell_lon + h->grid_cell_lon / 2),
                  (int32_t)(h->grid_lat0 + (int64_t)row * h->grid_cell_lat + h->grid_cell_lat / 2)};
    char pt[64];
    snprintf(pt, sizeof pt, "%.7f,%.7f", cv_deg(c.lon), cv_deg(c.lat));
    const char *route[] = {"route", p, pt, pt, "--max-snap", "5000", NULL};
    char *out, *errout;
    int status = run_covoit(route, &out, &errout);
    unlink(p);
    expect_clean_failure("route", p, status, errout);
    free(out);
    free(errout);
}

/* ---- the CLI on damaged files ---- */

static void test_cli_on_damaged_files(void **state)
{
    (void)state;
    char p[1024];
    tmp_path(p, sizeof p, "cli.graph");
    unsigned char *b = copy_bytes();
    /* empty, truncated */
    static const int lens[] = {0, 4, 100, -2, -1}; /* -2: half, -1: size - 1 */
    for (size_t i = 0; i < NELEM(lens); i++) {
        size_t len = lens[i] >= 0 ? (size_t)lens[i] : lens[i] == -2 ? F.len / 2 : F.len - 1;
        write_all(p, b, len);
        expect_cli_fails(p);
    }
    /* a flipped byte in the header, in each section */
    b[40] ^= 1;
    write_all(p, b, F.len);
    expect_cli_fails(p);
    b[40] ^= 1;
    for (int s = 0; s < CV_SEC_COUNT; s++) {
        uint64_t off = F.hdr.sections[s].offset + F.hdr.sections[s].size / 2;
        b[off] ^= 0x40;
        write_all(p, b, F.len);
        expect_cli_fails(p);
        b[off] ^= 0x40;
    }
    /* wrong magic, newer version, extra bytes */
    b[0] = 'X';
    write_all(p, b, F.len);
    expect_cli_fails(p);
    b[0] = F.bytes[0];
    uint32_t v = CV_GRAPH_VERSION + 1;
    memcpy(b + 8, &v, 4);
    write_all(p, b, F.len);
    expect_cli_fails(p);
    memcpy(b + 8, F.bytes + 8, 4);
    memset(b + F.len, 0, 100);
    write_all(p, b, F.len + 100);
    expect_cli_fails(p);
    /* content errors behind good checksums */
    ((cv_edge *)section_ptr(b, CV_SEC_EDGE))[0].u = F.hdr.nnodes;
    reseal(b);
    write_all(p, b, F.len);
    expect_cli_fails(p);
    unlink(p);
    free(b);
    /* a directory, a missing file */
    char d[1024];
    tmp_path(d, sizeof d, "clidir.graph");
    rmdir(d);
    assert_int_equal(mkdir(d, 0755), 0);
    expect_cli_fails(d);
    rmdir(d);
    tmp_path(p, sizeof p, "climissing.graph");
    unlink(p);
    expect_cli_fails(p);
    /* and the good file works through the same runner */
    const char *info[] = {"info", F.path, NULL};
    char *out, *errout;
    int status = run_covoit(info, &out, &errout);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    json_error_t je;
    json_t *doc = json_loads(out, 0, &je);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "code")), "Ok");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "graph"), "nodes")), F.hdr.nnodes);
    /* the hub labels' estimate, as the library gives it (Monaco: about 1.7 MB) */
    cv_error e2 = {0};
    cv_graph *g = cv_graph_open(F.path, &e2);
    assert_non_null(g);
    double want = round((double)cv_hub_labels_estimate(g, 128) / 1048576.0 * 10.0) / 10.0;
    cv_graph_close(g);
    double got = json_real_value(json_object_get(json_object_get(doc, "hub_labels"), "estimated_mb"));
    assert_true(want > 0.5 && got == want);
    json_decref(doc);
    free(out);
    free(errout);
}

/* ---- imports that cannot give a graph ---- */

static void expect_build_fails_formatted(const char *osm_text, const char *name)
{
    char in[1024], out[1024], tmp[1100];
    char iname[128], oname[128];
    snprintf(iname, sizeof iname, "%s.osm", name);
    snprintf(oname, sizeof oname, "%s.graph", name);
    tmp_path(in, sizeof in, iname);
    tmp_path(out, sizeof out, oname);
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    unlink(out);
    unlink(tmp);
    write_text(in, osm_text);
    cv_profile_options popt = cv_profile_defaults();
    cv_network net;
    cv_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(cv_network_read(in, &popt, NULL, &net, &err), 0);
    cv_build_stats st;
    int rc = cv_graph_build(&net, in, out, NULL, &st, &err);
    cv_network_free(&net);
    if (rc != CV_EFORMAT)
        fail_msg("%s: build returned %d (%s), expected CV_EFORMAT", name, rc, err.text);
    assert_int_equal(err.code, CV_EFORMAT);
    assert_non_null(strstr(err.text, "no routable road"));
    assert_false(file_exists(out));
    assert_false(file_exists(tmp));
    unlink(in);
}

static void test_import_without_roads(void **state)
{
    (void)state;
    expect_build_fails_formatted("<?xml version='1.0' encoding='UTF-8'?>\n"
                                 "<osm version=\"0.6\" generator=\"test\">\n"
                                 "  <node id=\"1\" lat=\"43.7384\" lon=\"7.4246\"/>\n"
                                 "</osm>\n",
                                 "one_node");
    expect_build_fails_formatted("<?xml version='1.0' encoding='UTF-8'?>\n"
                                 "<osm version=\"0.6\" generator=\"test\">\n"
                                 "  <node id=\"1\" lat=\"43.7384\" lon=\"7.4246\"/>\n"
                                 "  <node id=\"2\" lat=\"43.7390\" lon=\"7.4250\"/>\n"
                                 "  <way id=\"1\"><nd ref=\"1\"/><nd ref=\"2\"/>"
                                 "<tag k=\"highway\" v=\"footway\"/></way>\n"
                                 "</osm>\n",
                                 "footway_only");
    /* a road whose nodes are not in the file */
    expect_build_fails_formatted("<?xml version='1.0' encoding='UTF-8'?>\n"
                                 "<osm version=\"0.6\" generator=\"test\">\n"
                                 "  <way id=\"1\"><nd ref=\"1\"/><nd ref=\"2\"/>"
                                 "<tag k=\"highway\" v=\"residential\"/></way>\n"
                                 "</osm>\n",
                                 "no_locations");
    expect_build_fails_formatted("<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n</osm>\n", "empty");
}

/* Names as the importer cleans them, and a name change along a road keeps a node there (the chain of degree-2
   nodes is not compressed across it) while an unchanged name lets it go. */
static void test_import_names_cleaned_and_kept_apart(void **state)
{
    (void)state;
    char in[1024], out[1024], longname[600] = "";
    for (int i = 0; i < 200; i++)
        strcat(longname, "\xc3\xa9"); /* é: 400 bytes, cut to 127 characters */
    char *osm = malloc(4096);
    assert_non_null(osm);
    snprintf(osm, 4096,
             "<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\" generator=\"test\">\n"
             "<node id='1' lat='43.70' lon='7.40'/><node id='2' lat='43.70' lon='7.401'/>"
             "<node id='3' lat='43.70' lon='7.402'/><node id='4' lat='43.70' lon='7.403'/>"
             "<node id='5' lat='43.70' lon='7.404'/>\n"
             "<way id='1'><nd ref='1'/><nd ref='2'/><tag k='highway' v='residential'/>"
             "<tag k='name' v='  Rua&#9;Nova  '/><tag k='ref' v='N 1'/></way>\n"
             "<way id='2'><nd ref='2'/><nd ref='3'/><tag k='highway' v='residential'/>"
             "<tag k='name' v='Rua Nova'/><tag k='ref' v='N 1'/></way>\n"
             "<way id='3'><nd ref='3'/><nd ref='4'/><tag k='highway' v='residential'/><tag k='name' v='%s'/>"
             "<tag k='destination' v='Porto'/><tag k='destination:ref' v='A 28'/></way>\n"
             "<way id='4'><nd ref='4'/><nd ref='5'/><tag k='highway' v='residential'/>"
             "<tag k='junction' v='roundabout'/><tag k='oneway' v='no'/><tag k='name' v='%s'/></way>\n</osm>\n",
             longname, longname);
    tmp_path(in, sizeof in, "names.osm");
    tmp_path(out, sizeof out, "names.graph");
    write_text(in, osm);
    free(osm);
    cv_error err;
    memset(&err, 0, sizeof err);
    cv_build_stats st;
    if (import(in, out, &st, &err, NULL))
        fail_msg("import: %s", err.text);
    cv_graph *g = cv_graph_open(out, &err);
    if (!g)
        fail_msg("cv_graph_open: %s", err.text);
    /* 1-2-3 is one edge ("Rua Nova", the tab a space, the spaces trimmed); 3-4 another name, 4-5 a roundabout */
    assert_int_equal(g->hdr.nedges, 3);
    int seen = 0;
    for (uint32_t e = 0; e < g->hdr.nedges; e++) {
        const cv_street_name *nm = cv_graph_edge_name(g, e);
        const char *name = cv_graph_string(g, nm->name);
        if (!strcmp(name, "Rua Nova")) {
            assert_string_equal(cv_graph_string(g, nm->ref), "N 1");
            assert_true(g->a.edges[e].length_dm > 1550 && g->a.edges[e].length_dm < 1650); /* two ways, one edge */
            assert_false(g->a.edges[e].flags & CV_EDGE_ROUNDABOUT);
            seen |= 1;
        } else {
            assert_int_equal(strlen(name), 254);
            assert_int_equal(strncmp(name, longname, 254), 0);
            if (g->a.edges[e].flags & CV_EDGE_ROUNDABOUT) {
                assert_string_equal(cv_graph_string(g, nm->destination), "");
                seen |= 2;
            } else {
                assert_string_equal(cv_graph_string(g, nm->destination), "A 28: Porto");
                seen |= 4;
            }
        }
    }
    assert_int_equal(seen, 7);
    cv_graph_close(g);
    unlink(in);
    unlink(out);
}

/* A network without a name table (one built by hand, not read): the graph still has the unnamed street, and every
   edge is on it. */
static void test_network_without_names(void **state)
{
    (void)state;
    char out[1024];
    tmp_path(out, sizeof out, "nonames.graph");
    cv_profile_options popt = cv_profile_defaults();
    cv_network net;
    cv_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(cv_network_read(MONACO_PBF, &popt, NULL, &net, &err), 0);
    free(net.names), free(net.strings);
    net.names = NULL, net.strings = NULL;
    net.nnames = net.cap_names = net.nstrings = net.cap_strings = 0;
    if (cv_graph_build(&net, MONACO_PBF, out, NULL, NULL, &err))
        fail_msg("build: %s", err.text);
    cv_network_free(&net);
    cv_graph *g = cv_graph_open(out, &err);
    if (!g)
        fail_msg("open: %s", err.text);
    assert_int_equal(g->hdr.nnames, 1);
    assert_int_equal(g->hdr.nname_chars, 1);
    for (uint32_t e = 0; e < g->hdr.nedges; e++)
        assert_string_equal(cv_graph_string(g, cv_graph_edge_name(g, e)->name), "");
    cv_graph_close(g);
    unlink(out);
}

static void test_import_missing_or_garbage_input(void **state)
{
    (void)state;
    char in[1024], out[1024];
    tmp_path(in, sizeof in, "does_not_exist.osm.pbf");
    tmp_path(out, sizeof out, "does_not_exist.graph");
    unlink(in);
    unlink(out);
    cv_profile_options popt = cv_profile_defaults();
    cv_network net;
    memset(&net, 0x5a, sizeof net);
    cv_error err;
    memset(&err, 0, sizeof err);
    int rc = cv_network_read(in, &popt, NULL, &net, &err);
    assert_true(rc < 0);
    assert_int_equal(err.code, rc);
    if (!strstr(err.text, in))
        fail_msg("message does not name the input: %s", err.text);
    assert_null(net.ways);
    assert_null(net.nodes);
    assert_int_equal(net.nways, 0);
    cv_network_free(&net);
    /* a file that is not OSM data */
    tmp_path(in, sizeof in, "garbage.osm.pbf");
    write_text(in, "garbage garbage garbage garbage garbage garbage garbage garbage\n");
    memset(&err, 0, sizeof err);
    rc = cv_network_read(in, &popt, NULL, &net, &err);
    assert_true(rc < 0);
    assert_int_equal(err.code, rc);
    if (!strstr(err.text, in))
        fail_msg("message does not name the input: %s", err.text);
    cv_network_free(&net);
    /* through the CLI: exit 1, one line, no output file */
    const char *args[] = {"import", in, "-o", out, "--quiet", NULL};
    char *so, *se;
    int status = run_covoit(args, &so, &se);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    assert_true(strncmp(se, "covoit: ", 8) == 0 && strchr(se, '\n') == se + strlen(se) - 1);
    assert_false(file_exists(out));
    free(so);
    free(se);
    unlink(in);
    char missing[1024];
    tmp_path(missing, sizeof missing, "does_not_exist.osm.pbf");
    const char *args2[] = {"import", missing, "-o", out, "--quiet", NULL};
    status = run_covoit(args2, &so, &se);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    assert_true(strncmp(se, "covoit: ", 8) == 0 && strchr(se, '\n') == se + strlen(se) - 1);
    assert_false(file_exists(out));
    free(so);
    free(se);
}

/* ---- unsorted input ---- */

/* A 4 x 3 grid of streets (one a one-way, one a footway), a stray node and a turn restriction. Node ids are not
   contiguous. */
typedef struct tnode {
    int64_t id;
    double lon, lat;
} tnode;

static void write_grid_osm(const char *path, int unsorted)
{
    tnode nodes[14];
    size_t nn = 0;
    for (int row = 0; row < 3; row++)
        for (int col = 0; col < 4; col++)
            nodes[nn++] = (tnode){1000 + 7 * (row * 4 + col), 7.0 + 0.001 * col, 43.0 + 0.0008 * row};
    nodes[nn++] = (tnode){5000, 7.0025, 43.0025}; /* used by nothing */
    nodes[nn++] = (tnode){999, 7.0035, 43.0004};  /* used by the footway only */
#define N(r, c) (1000 + 7 * ((r)*4 + (c)))
    char ways[4096];
    snprintf(ways, sizeof ways,
             "  <way id=\"1\"><nd ref=\"%d\"/><nd ref=\"%d\"/><nd ref=\"%d\"/><nd ref=\"%d\"/>"
             "<tag k=\"highway\" v=\"residential\"/></way>\n"
             "  <way id=\"2\"><nd ref=\"%d\"/><nd ref=\"%d\"/><nd ref=\"%d\"/><nd ref=\"%d\"/>"
             "<tag k=\"highway\" v=\"residential\"/></way>\n"
             "  <way id=\"3\"><nd ref=\"%d\"/><nd ref=\"%d\"/><nd ref=\"%d\"/><nd ref=\"%d\"/>"
             "<tag k=\"highway\" v=\"residential\"/></way>\n"
             "  <way id=\"4\"><nd ref=\"%d\"/><nd ref=\"%d\"/><nd ref=\"%d\"/>"
             "<tag k=\"highway\" v=\"tertiary\"/></way>\n"
             "  <way id=\"5\"><nd ref=\"%d\"/><nd ref=\"%d\"/><nd ref=\"%d\"/>"
             "<tag k=\"highway\" v=\"residential\"/><tag k=\"oneway\" v=\"yes\"/></way>\n"
             "  <way id=\"6\"><nd ref=\"%d\"/><nd ref=\"%d\"/><nd ref=\"%d\"/>"
             "<tag k=\"highway\" v=\"residential\"/></way>\n"
             "  <way id=\"7\"><nd ref=\"%d\"/><nd ref=\"999\"/><nd ref=\"%d\"/><nd ref=\"%d\"/>"
             "<tag k=\"highway\" v=\"footway\"/></way>\n",
             N(0, 0), N(0, 1), N(0, 2), N(0, 3), N(1, 0), N(1, 1), N(1, 2), N(1, 3), N(2, 0), N(2, 1), N(2, 2), N(2, 3),
             N(0, 0), N(1, 0), N(2, 0), N(2, 3), N(1, 3), N(0, 3), N(0, 1), N(1, 1), N(2, 1), N(0, 2), N(1, 2),
             N(2, 2));
    char rel[1024];
    /* north along way 4, no right turn into way 3 at their common end */
    snprintf(rel, sizeof rel,
             "  <relation id=\"1\"><member type=\"way\" ref=\"4\" role=\"from\"/>"
             "<member type=\"node\" ref=\"%d\" role=\"via\"/><member type=\"way\" ref=\"3\" role=\"to\"/>"
             "<tag k=\"type\" v=\"restriction\"/><tag k=\"restriction\" v=\"no_right_turn\"/></relation>\n",
             N(2, 0));
#undef N
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\" generator=\"test\">\n");
    if (unsorted) {
        /* relations, then ways, then the nodes in a scrambled order */
        fputs(rel, f);
        fputs(ways, f);
        static const int order[] = {9, 3, 13, 0, 11, 6, 12, 1, 10, 4, 8, 2, 7, 5};
        for (size_t i = 0; i < NELEM(order); i++)
            fprintf(f, "  <node id=\"%lld\" lat=\"%.7f\" lon=\"%.7f\"/>\n", (long long)nodes[order[i]].id,
                    nodes[order[i]].lat, nodes[order[i]].lon);
    } else {
        /* nodes by id, ways, relations */
        for (size_t i = 0; i < nn; i++)
            for (size_t j = i + 1; j < nn; j++)
                if (nodes[j].id < nodes[i].id) {
                    tnode t = nodes[i];
                    nodes[i] = nodes[j];
                    nodes[j] = t;
                }
        for (size_t i = 0; i < nn; i++)
            fprintf(f, "  <node id=\"%lld\" lat=\"%.7f\" lon=\"%.7f\"/>\n", (long long)nodes[i].id, nodes[i].lat,
                    nodes[i].lon);
        fputs(ways, f);
        fputs(rel, f);
    }
    fprintf(f, "</osm>\n");
    assert_int_equal(fclose(f), 0);
}

static void route_length(const char *graph, uint32_t *dist_dm, uint32_t *dur_ds)
{
    cv_error err;
    memset(&err, 0, sizeof err);
    cv_graph *g = cv_graph_open(graph, &err);
    if (!g)
        fail_msg("%s", err.text);
    cv_snap s, t;
    assert_int_equal(cv_snap_point(g, (cv_coord){cv_fixed(7.0001), cv_fixed(43.00005)}, NULL, &s, &err), 0);
    assert_int_equal(cv_snap_point(g, (cv_coord){cv_fixed(7.0029), cv_fixed(43.0016)}, NULL, &t, &err), 0);
    cv_dijkstra *w = cv_dijkstra_new(g);
    assert_non_null(w);
    cv_path path = {0};
    if (cv_dijkstra_route(w, &s, &t, &path, &err))
        fail_msg("route: %s", err.text);
    *dist_dm = path.distance_dm;
    *dur_ds = path.duration_ds;
    cv_path_free(&path);
    cv_dijkstra_free(w);
    cv_graph_close(g);
}

/* The same map as .osm and as .osm.bz2 (compressed here with libbz2) gives the same graph. */
static void test_bz2_input_gives_the_same_graph(void **state)
{
    (void)state;
    char in[1024], in_bz[1024], out[1024], out_bz[1024];
    tmp_path(in, sizeof in, "grid_plain.osm");
    tmp_path(in_bz, sizeof in_bz, "grid_plain.osm.bz2");
    tmp_path(out, sizeof out, "grid_plain.graph");
    tmp_path(out_bz, sizeof out_bz, "grid_bz2.graph");
    write_grid_osm(in, 0);
    FILE *f = fopen(in, "rb");
    assert_non_null(f);
    static char raw[1 << 16], packed[1 << 17];
    size_t n = fread(raw, 1, sizeof raw, f);
    fclose(f);
    assert_true(n > 0 && n < sizeof raw);
    unsigned int plen = sizeof packed;
    assert_int_equal(BZ2_bzBuffToBuffCompress(packed, &plen, raw, (unsigned int)n, 9, 0, 0), BZ_OK);
    f = fopen(in_bz, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(packed, 1, plen, f), plen);
    fclose(f);
    cv_build_stats st, st_bz;
    cv_error err;
    memset(&err, 0, sizeof err);
    int sorted;
    if (import(in, out, &st, &err, &sorted))
        fail_msg("plain import: %s", err.text);
    if (import(in_bz, out_bz, &st_bz, &err, &sorted))
        fail_msg("bz2 import: %s", err.text);
    assert_true(st.edges > 0);
    assert_int_equal(st_bz.nodes, st.nodes);
    assert_int_equal(st_bz.edges, st.edges);
    assert_int_equal(st_bz.points, st.points);
    uint32_t d, t, dz, tz;
    route_length(out, &d, &t);
    route_length(out_bz, &dz, &tz);
    assert_int_equal(dz, d);
    assert_int_equal(tz, t);
    unlink(in), unlink(in_bz), unlink(out), unlink(out_bz);
}

static void test_unsorted_input_gives_the_same_graph(void **state)
{
    (void)state;
    char in_s[1024], in_u[1024], out_s[1024], out_u[1024];
    tmp_path(in_s, sizeof in_s, "grid_sorted.osm");
    tmp_path(in_u, sizeof in_u, "grid_unsorted.osm");
    tmp_path(out_s, sizeof out_s, "grid_sorted.graph");
    tmp_path(out_u, sizeof out_u, "grid_unsorted.graph");
    write_grid_osm(in_s, 0);
    write_grid_osm(in_u, 1);
    cv_build_stats st_s, st_u;
    cv_error err;
    memset(&err, 0, sizeof err);
    int sorted_s = -1, sorted_u = -1;
    if (import(in_s, out_s, &st_s, &err, &sorted_s))
        fail_msg("sorted import: %s", err.text);
    if (import(in_u, out_u, &st_u, &err, &sorted_u))
        fail_msg("unsorted import: %s", err.text);
    assert_int_equal(sorted_s, 1);
    assert_int_equal(sorted_u, 0);
    assert_int_equal(st_s.input_nodes, 14);
    assert_int_equal(st_u.input_nodes, 14);
    assert_int_equal(st_s.input_ways, 7);
    assert_int_equal(st_s.routable_ways, 6);
    assert_int_equal(st_u.routable_ways, 6);
    assert_int_equal(st_s.missing_nodes, 0);
    assert_int_equal(st_u.missing_nodes, 0);
    assert_true(st_s.nodes > 0 && st_s.edges > 0);
    assert_int_equal(st_u.nodes, st_s.nodes);
    assert_int_equal(st_u.edges, st_s.edges);
    assert_int_equal(st_u.arcs, st_s.arcs);
    assert_int_equal(st_u.points, st_s.points);
    assert_int_equal(st_u.restrictions, st_s.restrictions);
    assert_int_equal(st_s.restrictions, 1);
    assert_int_equal(st_u.components, st_s.components);
    /* every section is identical: the ways came in the same order and the locations were sorted in memory */
    cv_graph *gs = cv_graph_open(out_s, &err), *gu = cv_graph_open(out_u, &err);
    assert_non_null(gs);
    assert_non_null(gu);
    for (int i = 0; i < CV_SEC_COUNT; i++) {
        if (gs->hdr.sections[i].size != gu->hdr.sections[i].size ||
            gs->hdr.sections[i].crc32 != gu->hdr.sections[i].crc32)
            fail_msg("section %d differs between the sorted and unsorted imports", i);
    }
    assert_memory_equal(gs->hdr.bbox, gu->hdr.bbox, sizeof gs->hdr.bbox);
    cv_graph_close(gs);
    cv_graph_close(gu);
    uint32_t ds, ts, du, tu;
    route_length(out_s, &ds, &ts);
    route_length(out_u, &du, &tu);
    assert_true(ds > 2000 && ds < 10000); /* ~290 m east and ~180 m north: at least 400 m of streets */
    assert_int_equal(du, ds);
    assert_int_equal(tu, ts);
    unlink(in_s);
    unlink(in_u);
    unlink(out_s);
    unlink(out_u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_monaco_opens_and_is_sane),
        cmocka_unit_test(test_build_is_deterministic),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_header_byte_flips),
        cmocka_unit_test(test_section_byte_flips),
        cmocka_unit_test(test_wrong_magic),
        cmocka_unit_test(test_other_versions),
        cmocka_unit_test(test_extra_bytes),
        cmocka_unit_test(test_directory_and_missing),
        cmocka_unit_test(test_bad_contents_with_good_checksums),
        cmocka_unit_test(test_bad_hierarchy_with_good_checksums),
        cmocka_unit_test(test_bad_split_junctions_with_good_checksums),
        cmocka_unit_test(test_grid_item_point_wraparound),
        cmocka_unit_test(test_bad_street_names),
        cmocka_unit_test(test_street_names_imported),
        cmocka_unit_test(test_empty_graph_largest_component_checked),
        cmocka_unit_test(test_cli_info_on_empty_graph),
        cmocka_unit_test(test_cli_route_on_wrapped_grid_item),
        cmocka_unit_test(test_cli_on_damaged_files),
        cmocka_unit_test(test_import_missing_or_garbage_input),
        cmocka_unit_test(test_import_names_cleaned_and_kept_apart),
        cmocka_unit_test(test_network_without_names),
        cmocka_unit_test(test_unsorted_input_gives_the_same_graph),
        cmocka_unit_test(test_bz2_input_gives_the_same_graph),
        /* last: under UBSan, the library's memcpy from NULL on a road-less input aborts the process */
        cmocka_unit_test(test_import_without_roads),
    };
    return cmocka_run_group_tests(tests, setup_monaco, teardown_monaco);
}
