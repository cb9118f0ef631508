/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* run_features.c — the feature tier: small maps drawn as text, with tables of ways, nodes and turn restrictions
   and tables of expected routes, imported and routed in-process by Dijkstra, contraction hierarchy and hub labels.

   Usage: test_features [--min-osrm PERCENT] [--differences FILE.md] FILE.scn ... Each file holds scenarios; each
   scenario is imported once (the map is written as OSM XML to COVOIT_TMP and read back with the real reader, so the
   whole import path runs) and its tables of expectations are checked. The program prints one line per checked row,
   starting with `ok` or `FAIL`, then a summary per file, and exits 1 when a row failed or none ran.

   File format. `#` starts a comment line. Keywords start a line; tables are lines starting with `|` right after
   their keyword, the first being the header.

       (in a cell, `\|` stands for a `|`)
       scenario TITLE     starts a scenario. What comes before the first one (grid, origin, import) is the default
                          for every scenario of the file.
       grid METRES        size of a map cell (default 100). Two characters across or one line down is one cell.
       origin LON,LAT     where the map's top-left corner lies (default 1,1).
       import OPTION      an import option: `no-ferries`.
       own                (before the first scenario) the file holds covoit's own scenarios, not OSRM's: its rows
                          are counted apart from the share of OSRM's rows answered as OSRM, and take no `diff`.
       map                the node map: the following lines, up to a line holding only `end`, as drawn. A letter
                          a-z is an OSM node of that name; a digit 0-9 a named location that is not a node (a place
                          to route from or to). Anything else is a drawing.
       nodes              table: `node`, then tag columns for that node (`lon` and `lat` columns place a node that is
                          not on the map).
       ways               table: `nodes` (the way's node names in order), then tag columns. highway defaults to
                          primary (`(nil)` removes it); name defaults to the nodes text (empty cell: no name, `""`:
                          an empty name). An empty cell means the tag is absent.
       relations          table: `way:ROLE` and `node:ROLE` columns name members (comma-separated; a way is named by
                          its nodes text or that text reversed, or by its name), every other column is a tag.
       routes             table of routes to check: `from`, `to` (node or location names), and any of
                            route     the names of the ways taken, in order, repeats collapsed; empty: no route
                            nodes     the map nodes passed, in order (start and end included when they are nodes)
                            distance  "400 m" or "400 m +- 2" (metres; tolerance 1 m unless given)
                            time      "24 s" or "24 s +- 1" (the route's duration; tolerance 0.5 s unless given)
                            weight    the same for the weight (duration plus no-through penalties)
                            speed     "36 km/h" or "36 km/h +- 2": distance over duration, truncated to km/h
                                      (+- 1 unless given: see SPEED_TOL)
       imported           table of one row: the importer's counts to check (restrictions, via_ways, states,
                          dropped, malformed, off_graph, ambiguous, barriers, closed_nodes, components, junctions,
                          edges); a row of covoit's own.
       routability        table, one way per row on a line of its own: tag columns for the way (`node/KEY` for a
                          node in its middle), and `forw`, `backw`, `bothw`: the way's middle part driven from its
                          second node to its fourth (forw) and back (backw), both (bothw). A value is empty (not
                          routable), `x` (routable), a speed "N km/h [+- T]" (T 1 unless given) or a time
                          "N s [+- T]".

   In both expectation tables a `diff` column marks a row whose expectations are ours, not OSRM's: its value names
   the entry of docs/OSRM_CAR.md that says why (with --differences, a row of that file's table must start with
   "| ID |"). With --min-osrm, fewer rows answering as OSRM than that share of all rows is a failure. Columns whose
   header starts with `#` are comments. An unknown column, node or way is an error of the file, never a silent skip.

   Every route is computed three ways (Dijkstra, CH, hub labels); they must agree on reachability and weight, and
   the path checked is Dijkstra's. With KEEP set in the environment, the OSM files written are kept in COVOIT_TMP
   (to import one by hand with `covoit import`). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "routing/ch.h"
#include "routing/graph_build.h"
#include "routing/hub_labels.h"
#include "osm/osm_network.h"
#include "routing/route.h"
#include "routing/snap.h"

#ifndef COVOIT_TMP
#error "COVOIT_TMP must name a writable directory"
#endif

#define MAX_COLS 32
#define MAX_ROWS 256
#define MAX_NAMES 128
#define CELL_LEN 256
/* A speed read off a route (distance over duration, truncated to km/h as OSRM's harness does) carries up to 1 km/h
   of rounding: durations are whole deciseconds over a few hundred metres, distances are measured on another Earth
   radius than OSRM's, and OSRM's own tables expect 64 or 65 km/h for the same primary road in different scenarios.
   A speed without a tolerance is therefore checked to +-1 km/h, which still tells every rule of the profile apart. */
#define SPEED_TOL 1.0
#define ZOOM_PER_M 0.8990679362704610899694577444566908445396483347536032203503e-5 /* degrees per metre */

/* ---- reporting ---- */

typedef struct tally {
    int as_osrm, differ, failed, file_errors;
    int own;         /* rows of covoit's own scenarios (files marked `own`), which pass */
    int failed_osrm; /* failed rows of OSRM's scenarios */
} tally;

static tally total;
static int file_own;            /* the file being read holds covoit's own scenarios, not OSRM's */
static const char *differences; /* the document whose table must list every diff id used, or NULL */

/* Is `id` a row of the differences table (a line starting with "| id |")? */
static int documented(const char *id)
{
    if (!differences)
        return 1;
    FILE *f = fopen(differences, "r");
    if (!f)
        return 0;
    char line[4096], want[300];
    snprintf(want, sizeof want, "| %s |", id);
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = !strncmp(line, want, strlen(want));
    fclose(f);
    return found;
}

static void report(int ok, const char *where, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void report(int ok, const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%-4s %s: ", ok ? "ok" : "FAIL", where);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
    fflush(stdout);
}

/* ---- tables ---- */

typedef struct table {
    int ncols, nrows;
    char head[MAX_COLS][CELL_LEN];
    char cell[MAX_ROWS][MAX_COLS][CELL_LEN];
    int line[MAX_ROWS]; /* line number of each row in the file */
} table;

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* Splits a `| a | b |` line into cells (`\|` is a `|` inside a cell, as in hov:lanes values); returns the count
   or -1. */
static int split_row(char *line, char out[][CELL_LEN], int max)
{
    char *p = trim(line);
    if (*p != '|')
        return -1;
    p++;
    int n = 0;
    for (;;) {
        char *bar = p;
        while (*bar && !(*bar == '|' && (bar == p || bar[-1] != '\\')))
            bar++;
        if (!*bar)
            break;
        *bar = '\0';
        if (n == max)
            return -1;
        char *c = trim(p);
        size_t k = 0;
        for (char *q = c; *q; q++)
            if (!(q[0] == '\\' && q[1] == '|'))
                c[k++] = *q;
        c[k] = '\0';
        if (k >= CELL_LEN)
            return -1;
        strcpy(out[n++], c);
        p = bar + 1;
    }
    return *trim(p) ? -1 : n;
}

static int col(const table *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (!strcmp(t->head[i], name))
            return i;
    return -1;
}

/* ---- the scenario ---- */

typedef struct node {
    char name;
    double lon, lat;
    int is_osm; /* a-z: an OSM node; 0-9: a location only */
    int64_t id;
    char tags[8][2][CELL_LEN];
    int ntags;
} node;

typedef struct way {
    char nodes[CELL_LEN]; /* node names */
    char name[CELL_LEN];  /* what routes report (the name tag, or the nodes text) */
    int64_t id;
    char tags[MAX_COLS][2][CELL_LEN];
    int ntags;
} way;

typedef struct scenario {
    char file[512];
    char title[256];
    double grid, origin_lon, origin_lat;
    int no_ferries;
    node nodes[MAX_NAMES];
    int nnodes;
    way ways[MAX_ROWS];
    int nways;
    char *relations; /* OSM XML of the relations */
    size_t rel_len, rel_cap;
    int64_t next_id;
    int broken; /* an error in the file: nothing of it is run */
    /* routability: rows become ways on a line of their own */
    int routability_rows;
} scenario;

static void file_error(scenario *sc, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void file_error(scenario *sc, int line, const char *fmt, ...)
{
    char where[800], msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(where, sizeof where, "%s:%d", sc->file, line);
    report(0, where, "%s", msg);
    total.file_errors++;
    sc->broken = 1;
}

static node *find_node(scenario *sc, char name)
{
    for (int i = 0; i < sc->nnodes; i++)
        if (sc->nodes[i].name == name)
            return &sc->nodes[i];
    return NULL;
}

static way *find_way(scenario *sc, const char *name)
{
    for (int i = 0; i < sc->nways; i++)
        if (!strcmp(sc->ways[i].nodes, name))
            return &sc->ways[i];
    char rev[CELL_LEN];
    size_t n = strlen(name);
    if (n >= sizeof rev)
        return NULL;
    for (size_t i = 0; i < n; i++)
        rev[i] = name[n - 1 - i];
    rev[n] = '\0';
    for (int i = 0; i < sc->nways; i++)
        if (!strcmp(sc->ways[i].nodes, rev))
            return &sc->ways[i];
    for (int i = 0; i < sc->nways; i++)
        if (!strcmp(sc->ways[i].name, name))
            return &sc->ways[i];
    return NULL;
}

static int add_node(scenario *sc, char name, double lon, double lat, int line)
{
    if (find_node(sc, name)) {
        file_error(sc, line, "node %c appears twice", name);
        return -1;
    }
    if (sc->nnodes == MAX_NAMES) {
        file_error(sc, line, "too many nodes");
        return -1;
    }
    node *n = &sc->nodes[sc->nnodes++];
    memset(n, 0, sizeof *n);
    n->name = name, n->lon = lon, n->lat = lat;
    n->is_osm = name >= 'a' && name <= 'z';
    n->id = n->is_osm ? sc->next_id++ : 0;
    return 0;
}

static double cell_deg(const scenario *sc)
{
    return sc->grid * ZOOM_PER_M;
}

static void rel_append(scenario *sc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void rel_append(scenario *sc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (sc->rel_len + (size_t)n + 1 > sc->rel_cap) {
        size_t nc = (sc->rel_cap ? sc->rel_cap * 2 : 4096) + (size_t)n;
        char *p = realloc(sc->relations, nc);
        if (!p) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
        sc->relations = p, sc->rel_cap = nc;
    }
    va_start(ap, fmt);
    vsnprintf(sc->relations + sc->rel_len, sc->rel_cap - sc->rel_len, fmt, ap);
    va_end(ap);
    sc->rel_len += (size_t)n;
}

/* XML text of s with the five special characters escaped. */
static void xml_escape(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; *s && n + 7 < cap; s++) {
        const char *r = NULL;
        switch (*s) {
        case '&':
            r = "&amp;";
            break;
        case '<':
            r = "&lt;";
            break;
        case '>':
            r = "&gt;";
            break;
        case '"':
            r = "&quot;";
            break;
        case '\'':
            r = "&apos;";
            break;
        }
        if (r) {
            memcpy(out + n, r, strlen(r));
            n += strlen(r);
        } else {
            out[n++] = *s;
        }
    }
    out[n] = '\0';
}

/* ---- reading the tables into the scenario ---- */

static void take_nodes(scenario *sc, const table *t)
{
    int cn = col(t, "node"), clon = col(t, "lon"), clat = col(t, "lat");
    if (cn < 0) {
        file_error(sc, t->line[0] - 1, "a nodes table needs a `node` column");
        return;
    }
    for (int r = 0; r < t->nrows; r++) {
        const char *nm = t->cell[r][cn];
        if (strlen(nm) != 1) {
            file_error(sc, t->line[r], "node name '%s' is not one character", nm);
            return;
        }
        node *n = find_node(sc, nm[0]);
        if (clon >= 0 && clat >= 0) {
            if (n) {
                file_error(sc, t->line[r], "node %s is placed twice", nm);
                return;
            }
            if (add_node(sc, nm[0], atof(t->cell[r][clon]), atof(t->cell[r][clat]), t->line[r]))
                return;
            n = find_node(sc, nm[0]);
        }
        if (!n) {
            file_error(sc, t->line[r], "unknown node %s", nm);
            return;
        }
        for (int c = 0; c < t->ncols; c++) {
            if (c == cn || c == clon || c == clat || t->head[c][0] == '#' || !t->cell[r][c][0])
                continue;
            if (n->ntags == 8) {
                file_error(sc, t->line[r], "too many tags on node %s", nm);
                return;
            }
            strcpy(n->tags[n->ntags][0], t->head[c]);
            strcpy(n->tags[n->ntags][1], t->cell[r][c]);
            n->ntags++;
        }
    }
}

static int set_way_tag(way *w, const char *k, const char *v)
{
    for (int i = 0; i < w->ntags; i++)
        if (!strcmp(w->tags[i][0], k)) {
            strcpy(w->tags[i][1], v);
            return 0;
        }
    if (w->ntags == MAX_COLS)
        return -1;
    strcpy(w->tags[w->ntags][0], k);
    strcpy(w->tags[w->ntags][1], v);
    w->ntags++;
    return 0;
}

static void drop_way_tag(way *w, const char *k)
{
    for (int i = 0; i < w->ntags; i++)
        if (!strcmp(w->tags[i][0], k)) {
            memmove(w->tags[i], w->tags[i + 1], (size_t)(w->ntags - i - 1) * sizeof w->tags[0]);
            w->ntags--;
            return;
        }
}

static void take_ways(scenario *sc, const table *t)
{
    int cn = col(t, "nodes");
    if (cn < 0) {
        file_error(sc, t->line[0] - 1, "a ways table needs a `nodes` column");
        return;
    }
    for (int r = 0; r < t->nrows; r++) {
        const char *nodes = t->cell[r][cn];
        if (strlen(nodes) < 2) {
            file_error(sc, t->line[r], "way '%s' needs two nodes", nodes);
            return;
        }
        for (const char *p = nodes; *p; p++) {
            node *n = find_node(sc, *p);
            if (!n || !n->is_osm) {
                file_error(sc, t->line[r], "way %s: unknown node %c", nodes, *p);
                return;
            }
        }
        if (sc->nways == MAX_ROWS) {
            file_error(sc, t->line[r], "too many ways");
            return;
        }
        way *w = &sc->ways[sc->nways++];
        memset(w, 0, sizeof *w);
        strcpy(w->nodes, nodes);
        w->id = sc->next_id++;
        set_way_tag(w, "highway", "primary");
        int has_name = 0;
        for (int c = 0; c < t->ncols; c++) {
            const char *k = t->head[c], *v = t->cell[r][c];
            if (c == cn || k[0] == '#')
                continue;
            if (!strcmp(k, "name")) {
                has_name = 1;
                if (!strcmp(v, "\"\"") || !strcmp(v, "''"))
                    set_way_tag(w, "name", "");
                else if (v[0] && strcmp(v, "(nil)"))
                    set_way_tag(w, "name", v);
                continue;
            }
            if (!strcmp(v, "(nil)") || !v[0])
                drop_way_tag(w, k);
            else if (set_way_tag(w, k, v)) {
                file_error(sc, t->line[r], "too many tags");
                return;
            }
        }
        if (!has_name)
            set_way_tag(w, "name", nodes);
        strcpy(w->name, nodes);
        for (int i = 0; i < w->ntags; i++)
            if (!strcmp(w->tags[i][0], "name"))
                strcpy(w->name, w->tags[i][1]);
    }
}

static void take_relations(scenario *sc, const table *t)
{
    for (int r = 0; r < t->nrows; r++) {
        rel_append(sc, "  <relation id=\"%lld\" version=\"1\">\n", (long long)sc->next_id++);
        /* members first, then tags: libosmium's XML reader keeps one tag list per object */
        for (int pass = 0; pass < 2; pass++)
            for (int c = 0; c < t->ncols; c++) {
                const char *k = t->head[c];
                char v[CELL_LEN], esc[CELL_LEN * 6];
                strcpy(v, t->cell[r][c]);
                if (k[0] == '#')
                    continue;
                int is_way = !strncmp(k, "way:", 4), is_node = !strncmp(k, "node:", 5);
                if ((is_way || is_node) != (pass == 0))
                    continue;
                if (is_way || is_node) {
                    const char *role = k + (is_way ? 4 : 5);
                    for (char *save = NULL, *m = strtok_r(v, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
                        m = trim(m);
                        if (is_way) {
                            way *w = find_way(sc, m);
                            if (!w) {
                                file_error(sc, t->line[r], "relation member: unknown way %s", m);
                                return;
                            }
                            rel_append(sc, "    <member type=\"way\" ref=\"%lld\" role=\"%s\"/>\n", (long long)w->id,
                                       role);
                        } else {
                            node *n = strlen(m) == 1 ? find_node(sc, m[0]) : NULL;
                            if (!n || !n->is_osm) {
                                file_error(sc, t->line[r], "relation member: unknown node %s", m);
                                return;
                            }
                            rel_append(sc, "    <member type=\"node\" ref=\"%lld\" role=\"%s\"/>\n", (long long)n->id,
                                       role);
                        }
                    }
                    continue;
                }
                if (!v[0])
                    continue;
                char ek[CELL_LEN * 6];
                xml_escape(k, ek, sizeof ek);
                xml_escape(v, esc, sizeof esc);
                rel_append(sc, "    <tag k=\"%s\" v=\"%s\"/>\n", ek, esc);
            }
        rel_append(sc, "  </relation>\n");
    }
}

/* Routability rows: way r gets nodes at cells 0..4 of its own stretch of the origin's latitude, far from every
   other, named w<r>; node tags (node/KEY columns) go on its middle node. */
typedef struct rb_row {
    int64_t node_ids[5];
    double lon[5], lat;
} rb_row;

/* ---- writing and importing ---- */

static int write_osm(const scenario *sc, const table *rb, rb_row *rows, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    char ek[CELL_LEN * 6], ev[CELL_LEN * 6];
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<osm version=\"0.6\" generator=\"covoit features\">\n");
    for (int i = 0; i < sc->nnodes; i++) {
        const node *n = &sc->nodes[i];
        if (!n->is_osm)
            continue;
        fprintf(f, "  <node id=\"%lld\" version=\"1\" lat=\"%.10f\" lon=\"%.10f\"%s>\n", (long long)n->id, n->lat,
                n->lon, n->ntags ? "" : "/");
        for (int k = 0; k < n->ntags; k++) {
            xml_escape(n->tags[k][0], ek, sizeof ek);
            xml_escape(n->tags[k][1], ev, sizeof ev);
            fprintf(f, "    <tag k=\"%s\" v=\"%s\"/>\n", ek, ev);
        }
        if (n->ntags)
            fprintf(f, "  </node>\n");
    }
    int64_t id = sc->next_id + 1000;
    for (int r = 0; rb && r < rb->nrows; r++) {
        for (int k = 0; k < 5; k++) {
            rows[r].node_ids[k] = id++;
            int tagged = 0;
            if (k == 2)
                for (int c = 0; c < rb->ncols; c++)
                    if (!strncmp(rb->head[c], "node/", 5) && rb->cell[r][c][0])
                        tagged = 1;
            fprintf(f, "  <node id=\"%lld\" version=\"1\" lat=\"%.10f\" lon=\"%.10f\"%s>\n",
                    (long long)rows[r].node_ids[k], rows[r].lat, rows[r].lon[k], tagged ? "" : "/");
            if (tagged) {
                for (int c = 0; c < rb->ncols; c++)
                    if (!strncmp(rb->head[c], "node/", 5) && rb->cell[r][c][0]) {
                        xml_escape(rb->head[c] + 5, ek, sizeof ek);
                        xml_escape(rb->cell[r][c], ev, sizeof ev);
                        fprintf(f, "    <tag k=\"%s\" v=\"%s\"/>\n", ek, ev);
                    }
                fprintf(f, "  </node>\n");
            }
        }
    }
    for (int i = 0; i < sc->nways; i++) {
        const way *w = &sc->ways[i];
        fprintf(f, "  <way id=\"%lld\" version=\"1\">\n", (long long)w->id);
        for (const char *p = w->nodes; *p; p++) {
            const node *n = NULL;
            for (int k = 0; k < sc->nnodes; k++)
                if (sc->nodes[k].name == *p)
                    n = &sc->nodes[k];
            fprintf(f, "    <nd ref=\"%lld\"/>\n", (long long)n->id);
        }
        for (int k = 0; k < w->ntags; k++) {
            xml_escape(w->tags[k][0], ek, sizeof ek);
            xml_escape(w->tags[k][1], ev, sizeof ev);
            fprintf(f, "    <tag k=\"%s\" v=\"%s\"/>\n", ek, ev);
        }
        fprintf(f, "  </way>\n");
    }
    for (int r = 0; rb && r < rb->nrows; r++) {
        fprintf(f, "  <way id=\"%lld\" version=\"1\">\n", (long long)id++);
        for (int k = 0; k < 5; k++)
            fprintf(f, "    <nd ref=\"%lld\"/>\n", (long long)rows[r].node_ids[k]);
        int has_highway = 0;
        for (int c = 0; c < rb->ncols; c++) {
            const char *k = rb->head[c], *v = rb->cell[r][c];
            if (!strncmp(k, "node/", 5) || k[0] == '#' || !strcmp(k, "forw") || !strcmp(k, "backw") ||
                !strcmp(k, "bothw") || !strcmp(k, "diff"))
                continue;
            if (!strcmp(k, "highway"))
                has_highway = 1;
            if (!v[0] || !strcmp(v, "(nil)"))
                continue;
            xml_escape(k, ek, sizeof ek);
            xml_escape(v, ev, sizeof ev);
            fprintf(f, "    <tag k=\"%s\" v=\"%s\"/>\n", ek, ev);
        }
        if (!has_highway)
            fprintf(f, "    <tag k=\"highway\" v=\"primary\"/>\n");
        fprintf(f, "    <tag k=\"name\" v=\"w%d\"/>\n  </way>\n", r);
    }
    if (sc->relations)
        fputs(sc->relations, f);
    fprintf(f, "</osm>\n");
    return fclose(f);
}

/* What a scenario imports to: the graph and three routers. */
typedef struct routers {
    cv_graph *g;
    cv_dijkstra *dij;
    cv_ch_query *ch, *hl_q;
    cv_hub_labels *hl;
    cv_build_stats stats;
} routers;

static void routers_free(routers *r)
{
    cv_dijkstra_free(r->dij);
    cv_ch_query_free(r->ch);
    cv_ch_query_free(r->hl_q);
    cv_hub_labels_free(r->hl);
    cv_graph_close(r->g);
    memset(r, 0, sizeof *r);
}

/* Imports the scenario; returns 0, or -1 with msg filled. A map whose every way the profile drops imports to no
   graph (r->g NULL), and every route on it is answered "no route". */
static int import_scenario(const char *osm, const char *graph, int no_ferries, routers *r, char *msg, size_t cap)
{
    memset(r, 0, sizeof *r);
    cv_error err = {0};
    cv_network net;
    cv_profile_options opt = cv_profile_defaults();
    if (no_ferries)
        opt.ferries = 0;
    if (cv_network_read(osm, &opt, NULL, &net, &err)) {
        snprintf(msg, cap, "reading: %s", err.text);
        return -1;
    }
    int rc = cv_graph_build(&net, osm, graph, NULL, &r->stats, &err);
    cv_network_free(&net);
    if (rc == CV_EFORMAT && strstr(err.text, "no routable road"))
        return 0; /* a map where the profile drops every way: every route is answered "no route" */
    if (rc) {
        snprintf(msg, cap, "import: %s", err.text);
        return -1;
    }
    r->g = cv_graph_open(graph, &err);
    if (!r->g) {
        snprintf(msg, cap, "open: %s", err.text);
        return -1;
    }
    r->dij = cv_dijkstra_new(r->g);
    r->ch = cv_ch_query_new(r->g);
    r->hl_q = cv_ch_query_new(r->g);
    if (!r->dij || !r->ch || !r->hl_q || cv_hub_labels_build(r->g, 1, 0, NULL, &r->hl, &err) ||
        cv_ch_use_labels(r->hl_q, r->hl)) {
        snprintf(msg, cap, "routers: %s", err.text[0] ? err.text : "out of memory");
        routers_free(r);
        return -1;
    }
    return 0;
}

/* ---- one route ---- */

typedef struct answer {
    int ok;   /* 1: a route */
    int code; /* CV_E* when not ok */
    char message[600];
    double distance_m, duration_s, weight_s;
    cv_coord *pts;
    size_t npts;
} answer;

/* Routes a to b three ways; the answer is Dijkstra's. Disagreements between the routers are reported. */
static void route3(routers *r, cv_coord a, cv_coord b, answer *out, const char *where)
{
    memset(out, 0, sizeof *out);
    if (!r->g) {
        out->code = CV_ENOROUTE;
        snprintf(out->message, sizeof out->message, "the map has no routable road");
        return;
    }
    cv_snap_options so = cv_snap_defaults();
    cv_snap s, t;
    cv_error err = {0};
    if (cv_snap_point(r->g, a, &so, &s, &err) || cv_snap_point(r->g, b, &so, &t, &err)) {
        out->code = err.code;
        snprintf(out->message, sizeof out->message, "%s", err.text);
        return;
    }
    cv_path p[3] = {{0}};
    int rc[3];
    rc[0] = cv_dijkstra_route(r->dij, &s, &t, &p[0], &err);
    rc[1] = cv_ch_route(r->ch, &s, &t, &p[1], &err);
    rc[2] = cv_ch_route(r->hl_q, &s, &t, &p[2], &err);
    static const char *const names[3] = {"dijkstra", "ch", "hub labels"};
    for (int k = 1; k < 3; k++) {
        if ((rc[k] == 0) != (rc[0] == 0))
            report(0, where, "%s %s a route, dijkstra %s", names[k], rc[k] ? "finds no" : "finds",
                   rc[0] ? "none" : "one");
        else if (rc[0] == 0 && p[k].weight != p[0].weight)
            report(0, where, "%s weight %u ds, dijkstra %u ds", names[k], p[k].weight, p[0].weight);
        else
            continue;
        total.failed++;
    }
    if (rc[0] == 0) {
        out->ok = 1;
        out->distance_m = p[0].distance_dm / 10.0;
        out->duration_s = p[0].duration_ds / 10.0;
        out->weight_s = p[0].weight / 10.0;
        if (cv_path_geometry(r->g, &p[0], &out->pts, &out->npts)) {
            out->ok = 0;
            out->code = CV_ENOMEM;
        }
    } else {
        out->code = rc[0];
        snprintf(out->message, sizeof out->message, "%s", err.text);
    }
    for (int k = 0; k < 3; k++)
        cv_path_free(&p[k]);
}

static cv_coord to_coord(double lon, double lat)
{
    return (cv_coord){(int32_t)lround(lon * 1e7), (int32_t)lround(lat * 1e7)};
}

/* Distance in metres from p to segment a-b. */
static double seg_dist(cv_coord p, cv_coord a, cv_coord b)
{
    double t;
    cv_coord onto;
    return cv_project(p, a, b, &t, &onto);
}

/* The ways a route takes, by name, repeats collapsed, into buf; and the map nodes it passes. */
static void route_ways(const scenario *sc, const answer *a, char *buf, size_t cap, char *nodes, size_t ncap)
{
    buf[0] = '\0';
    size_t nn = 0;
    const char *last = NULL;
    for (size_t i = 0; i < a->npts; i++) {
        for (int k = 0; k < sc->nnodes; k++) {
            const node *n = &sc->nodes[k];
            if (n->is_osm && cv_distance_m(to_coord(n->lon, n->lat), a->pts[i]) < 0.2 &&
                (nn == 0 || nodes[nn - 1] != n->name) && nn + 1 < ncap)
                nodes[nn++] = n->name;
        }
        if (i + 1 == a->npts)
            break;
        /* the way holding this segment: both points on one of its segments */
        const way *found = NULL;
        for (int w = 0; w < sc->nways && !found; w++) {
            const way *wy = &sc->ways[w];
            for (const char *p = wy->nodes; p[1] && !found; p++) {
                const node *x = find_node((scenario *)sc, p[0]), *y = find_node((scenario *)sc, p[1]);
                cv_coord cx = to_coord(x->lon, x->lat), cy = to_coord(y->lon, y->lat);
                if (seg_dist(a->pts[i], cx, cy) < 0.2 && seg_dist(a->pts[i + 1], cx, cy) < 0.2)
                    found = wy;
            }
        }
        const char *name = found ? found->name : "?";
        if (!last || strcmp(last, name)) {
            size_t n = strlen(buf);
            snprintf(buf + n, cap - n, "%s%s", n ? "," : "", name);
            last = name;
        }
    }
    nodes[nn] = '\0';
}

/* Collapses repeats in a comma-separated list, in place, and drops spaces around the commas. */
static void collapse(char *s)
{
    char out[CELL_LEN * 2] = "", last[CELL_LEN] = "";
    int first = 1;
    for (char *save = NULL, *p = strtok_r(s, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        p = trim(p);
        if (!first && !strcmp(p, last))
            continue;
        size_t n = strlen(out);
        snprintf(out + n, sizeof out - n, "%s%s", first ? "" : ",", p);
        snprintf(last, sizeof last, "%s", p);
        first = 0;
    }
    strcpy(s, out);
}

/* "N UNIT", "N UNIT +- T" or "N UNIT ± T" (UNIT may be glued to N). */
static int parse_measure(const char *s, const char *unit, double *v, double *tol, double def_tol)
{
    char *end;
    *v = strtod(s, &end);
    if (end == s)
        return -1;
    while (*end == ' ')
        end++;
    size_t un = strlen(unit);
    if (strncmp(end, unit, un))
        return -1;
    end += un;
    while (*end == ' ')
        end++;
    *tol = def_tol;
    if (!*end)
        return 0;
    if (!strncmp(end, "+-", 2))
        end += 2;
    else if (!strncmp(end, "\xc2\xb1", 2))
        end += 2;
    else
        return -1;
    char *e2;
    *tol = strtod(end, &e2);
    while (*e2 == ' ')
        e2++;
    return e2 == end || *e2 ? -1 : 0;
}

static node *place(scenario *sc, const char *name)
{
    return strlen(name) == 1 ? find_node(sc, name[0]) : NULL;
}

/* ---- the expectation tables ---- */

/* Does the row carry a `diff` id (our expectations, not OSRM's)? An id the differences table lacks fails it. */
static int row_differs(const table *t, int row, char *msg, size_t cap, int *ok)
{
    int dc = col(t, "diff");
    if (dc < 0 || !t->cell[row][dc][0])
        return 0;
    if (!documented(t->cell[row][dc])) {
        *ok = 0;
        snprintf(msg + strlen(msg), cap - strlen(msg), " difference %s is not in %s;", t->cell[row][dc], differences);
    }
    return 1;
}

static void count_row(int ok, int differs)
{
    if (!ok) {
        total.failed++;
        total.failed_osrm += !file_own;
    } else if (file_own) {
        total.own++;
    } else if (differs) {
        total.differ++;
    } else {
        total.as_osrm++;
    }
}

static const char *const route_cols[] = {"from", "to", "route", "nodes", "distance", "time", "weight", "speed", "diff"};

/* Checks one row of a routes table; returns 1 when it passed. */
static int check_route_row(scenario *sc, routers *r, const table *t, int row)
{
    char where[1024];
    const char *from = t->cell[row][col(t, "from")], *to = t->cell[row][col(t, "to")];
    snprintf(where, sizeof where, "%s:%d [%s] %s -> %s", sc->file, t->line[row], sc->title, from, to);
    node *a = place(sc, from), *b = place(sc, to);
    if (!a || !b) {
        report(0, where, "unknown place %s", a ? to : from);
        total.file_errors++;
        return 0;
    }
    answer ans;
    int failed_before = total.failed;
    route3(r, to_coord(a->lon, a->lat), to_coord(b->lon, b->lat), &ans, where);
    int ok = total.failed == failed_before;
    char msg[2048] = "", got_ways[1024] = "", got_nodes[256] = "";
    if (ans.ok)
        route_ways(sc, &ans, got_ways, sizeof got_ways, got_nodes, sizeof got_nodes);
    int c;
    if ((c = col(t, "route")) >= 0) {
        char want[CELL_LEN * 2];
        snprintf(want, sizeof want, "%s", t->cell[row][c]);
        collapse(want);
        if (!want[0] && ans.ok) {
            ok = 0;
            snprintf(msg + strlen(msg), sizeof msg - strlen(msg), " route %s where none was expected;", got_ways);
        } else if (want[0] && !ans.ok) {
            ok = 0;
            snprintf(msg + strlen(msg), sizeof msg - strlen(msg), " no route (%s), expected %s;", ans.message, want);
        } else if (want[0] && strcmp(want, got_ways)) {
            ok = 0;
            snprintf(msg + strlen(msg), sizeof msg - strlen(msg), " route %s, expected %s;", got_ways, want);
        }
    }
    if ((c = col(t, "nodes")) >= 0 && t->cell[row][c][0]) {
        char want[CELL_LEN];
        size_t k = 0;
        for (const char *p = t->cell[row][c]; *p && k + 1 < sizeof want; p++)
            if (*p != ',' && *p != ' ')
                want[k++] = *p;
        want[k] = '\0';
        if (!ans.ok || strcmp(want, got_nodes)) {
            ok = 0;
            snprintf(msg + strlen(msg), sizeof msg - strlen(msg), " nodes %s, expected %s;",
                     ans.ok ? got_nodes : "(no route)", want);
        }
    }
    static const struct {
        const char *column, *unit;
        double def_tol;
    } measures[] = {{"distance", "m", 1.0}, {"time", "s", 0.5}, {"weight", "", 0.5}, {"speed", "km/h", SPEED_TOL}};
    for (size_t m = 0; m < sizeof measures / sizeof measures[0]; m++) {
        if ((c = col(t, measures[m].column)) < 0 || !t->cell[row][c][0])
            continue;
        double v, tol;
        if (parse_measure(t->cell[row][c], measures[m].unit, &v, &tol, measures[m].def_tol)) {
            report(0, where, "%s: cannot read '%s'", measures[m].column, t->cell[row][c]);
            total.file_errors++;
            ok = 0;
            continue;
        }
        if (!ans.ok) {
            ok = 0;
            snprintf(msg + strlen(msg), sizeof msg - strlen(msg), " no %s (no route);", measures[m].column);
            continue;
        }
        double got = m == 0               ? ans.distance_m
                     : m == 1             ? ans.duration_s
                     : m == 2             ? ans.weight_s
                     : ans.duration_s > 0 ? floor(3.6 * ans.distance_m / ans.duration_s)
                                          : 0;
        if (fabs(got - v) > tol + 1e-9) {
            ok = 0;
            snprintf(msg + strlen(msg), sizeof msg - strlen(msg), " %s %.1f, expected %s;", measures[m].column, got,
                     t->cell[row][c]);
        }
    }
    int dc = col(t, "diff");
    int differs = row_differs(t, row, msg, sizeof msg, &ok);
    if (ok)
        report(1, where, "%s%s%s%s", ans.ok ? got_ways : "no route", differs ? " (differs from OSRM: " : "",
               differs ? t->cell[row][dc] : "", differs ? ")" : "");
    else
        report(0, where, "%s", msg[0] ? msg + 1 : "the routers disagree");
    free(ans.pts);
    count_row(ok, differs);
    return ok;
}

/* Checks one routability row (way w<row> on its own line). */
static void check_routability_row(scenario *sc, routers *r, const table *t, int row, const rb_row *rr)
{
    char where[1024];
    snprintf(where, sizeof where, "%s:%d [%s] w%d", sc->file, t->line[row], sc->title, row);
    answer ans[2];
    for (int d = 0; d < 2; d++) {
        cv_coord a = to_coord(rr->lon[d ? 3 : 1], rr->lat), b = to_coord(rr->lon[d ? 1 : 3], rr->lat);
        route3(r, a, b, &ans[d], where);
        /* a route that leaves the row's own line is not a route of this way */
        for (size_t i = 0; ans[d].ok && i < ans[d].npts; i++)
            if (fabs(ans[d].pts[i].lat / 1e7 - rr->lat) > 1e-6 || ans[d].pts[i].lon / 1e7 < rr->lon[0] - 1e-6 ||
                ans[d].pts[i].lon / 1e7 > rr->lon[4] + 1e-6)
                ans[d].ok = 0;
    }
    int ok = 1;
    char msg[1024] = "";
    static const char *const dirs[3] = {"forw", "backw", "bothw"};
    for (int d = 0; d < 3; d++) {
        int c = col(t, dirs[d]);
        if (c < 0)
            continue;
        const char *want = t->cell[row][c];
        char got[64];
        int any = d < 2 ? ans[d].ok : ans[0].ok && ans[1].ok;
        double v, tol;
        if (!want[0] || !strcmp(want, "x")) {
            int want_route = want[0] != '\0';
            if (d == 2 && !want_route)
                any = ans[0].ok || ans[1].ok;
            if (any != want_route) {
                ok = 0;
                snprintf(msg + strlen(msg), sizeof msg - strlen(msg), " %s: %s, expected %s;", dirs[d],
                         any ? "routable" : "not routable", want_route ? "routable" : "not routable");
            }
            continue;
        }
        int is_speed = !parse_measure(want, "km/h", &v, &tol, SPEED_TOL), is_time = 0;
        if (!is_speed)
            is_time = !parse_measure(want, "s", &v, &tol, 0.5);
        if (!is_speed && !is_time) {
            report(0, where, "%s: cannot read '%s'", dirs[d], want);
            total.file_errors++;
            ok = 0;
            continue;
        }
        for (int k = 0; k < 2; k++) {
            if (d < 2 && k != d)
                continue;
            if (!ans[k].ok) {
                ok = 0;
                snprintf(msg + strlen(msg), sizeof msg - strlen(msg), " %s: not routable, expected %s;", dirs[k], want);
                continue;
            }
            double g = is_speed ? (ans[k].duration_s > 0 ? floor(3.6 * ans[k].distance_m / ans[k].duration_s) : 0)
                                : ans[k].duration_s;
            snprintf(got, sizeof got, is_speed ? "%.0f km/h" : "%.1f s", g);
            if (fabs(g - v) > tol + 1e-9) {
                ok = 0;
                snprintf(msg + strlen(msg), sizeof msg - strlen(msg), " %s: %s, expected %s;", dirs[k], got, want);
            }
        }
    }
    int dc = col(t, "diff");
    int differs = row_differs(t, row, msg, sizeof msg, &ok);
    char tags[512] = "";
    for (int c = 0; c < t->ncols; c++)
        if (t->cell[row][c][0] && strcmp(t->head[c], "forw") && strcmp(t->head[c], "backw") &&
            strcmp(t->head[c], "bothw") && strcmp(t->head[c], "diff") && t->head[c][0] != '#')
            snprintf(tags + strlen(tags), sizeof tags - strlen(tags), "%s%s=%s", tags[0] ? " " : "", t->head[c],
                     t->cell[row][c]);
    if (ok)
        report(1, where, "%s%s%s%s", tags, differs ? " (differs from OSRM: " : "", differs ? t->cell[row][dc] : "",
               differs ? ")" : "");
    else
        report(0, where, "%s:%s", tags, msg);
    for (int d = 0; d < 2; d++)
        free(ans[d].pts);
    count_row(ok, differs);
}

/* ---- reading a file ---- */

typedef struct pending {
    table *routes[16];
    int nroutes;
    table *routability;
    table *imported;
} pending;

/* What an `imported` table may check: the importer's counts. */
static const struct {
    const char *name;
    size_t offset;
    int wide; /* uint64_t, else uint32_t */
} import_counts[] = {
    {"restrictions", offsetof(cv_build_stats, restrictions), 0},
    {"via_ways", offsetof(cv_build_stats, restrictions_via_way), 0},
    {"states", offsetof(cv_build_stats, restriction_states), 0},
    {"dropped", offsetof(cv_build_stats, restrictions_dropped), 1},
    {"malformed", offsetof(cv_build_stats, restrictions_malformed), 1},
    {"off_graph", offsetof(cv_build_stats, restrictions_off_graph), 1},
    {"ambiguous", offsetof(cv_build_stats, restrictions_ambiguous), 1},
    {"barriers", offsetof(cv_build_stats, blocked_nodes), 0},
    {"closed_nodes", offsetof(cv_build_stats, blocked_nodes) + sizeof(uint32_t), 0},
    {"components", offsetof(cv_build_stats, components), 0},
    {"junctions", offsetof(cv_build_stats, junctions), 0},
    {"edges", offsetof(cv_build_stats, edges), 0},
};

/* Checks the one row of an `imported` table against the import's counts. */
static void check_imported(scenario *sc, const table *t, const cv_build_stats *st)
{
    char where[800], msg[1024] = "";
    snprintf(where, sizeof where, "%s:%d [%s] import", sc->file, t->line[0], sc->title);
    int ok = 1;
    for (int c = 0; c < t->ncols; c++) {
        if (t->head[c][0] == '#' || !t->cell[0][c][0])
            continue;
        size_t k = 0;
        while (k < sizeof import_counts / sizeof import_counts[0] && strcmp(import_counts[k].name, t->head[c]))
            k++;
        const char *base = (const char *)st + import_counts[k].offset;
        uint64_t got = import_counts[k].wide ? *(const uint64_t *)base : *(const uint32_t *)base;
        if (got != strtoull(t->cell[0][c], NULL, 10)) {
            ok = 0;
            snprintf(msg + strlen(msg), sizeof msg - strlen(msg), " %s %llu, expected %s;", t->head[c],
                     (unsigned long long)got, t->cell[0][c]);
        } else {
            snprintf(msg + strlen(msg), sizeof msg - strlen(msg), " %s %llu", t->head[c], (unsigned long long)got);
        }
    }
    report(ok, where, "%s", msg[0] ? msg + 1 : "");
    if (ok) /* covoit's own check, whatever the file */
        total.own++;
    else
        total.failed++;
}

static void run_scenario(scenario *sc, pending *pd)
{
    static int serial;
    char osm[1024], graph[1024], msg[1024], where[1024];
    snprintf(osm, sizeof osm, "%s/feature_%ld_%d.osm", COVOIT_TMP, (long)getpid(), serial);
    snprintf(graph, sizeof graph, "%s/feature_%ld_%d.cvg", COVOIT_TMP, (long)getpid(), serial++);
    snprintf(where, sizeof where, "%s [%s]", sc->file, sc->title);
    if (sc->broken || (!pd->nroutes && !pd->routability && !pd->imported))
        goto out;
    rb_row *rows = NULL;
    if (pd->routability) {
        rows = calloc((size_t)pd->routability->nrows, sizeof *rows);
        if (!rows)
            goto out;
        double cell = cell_deg(sc);
        /* as OSRM's harness lays them: on the origin's latitude, 100 cells apart, east of any map */
        for (int r = 0; r < pd->routability->nrows; r++) {
            rows[r].lat = sc->origin_lat;
            for (int k = 0; k < 5; k++)
                rows[r].lon[k] = sc->origin_lon + (k + 100.0 * (r + 1)) * cell;
        }
    }
    if (write_osm(sc, pd->routability, rows, osm)) {
        report(0, where, "cannot write %s: %s", osm, strerror(errno));
        total.failed++;
        free(rows);
        goto out;
    }
    routers r;
    if (import_scenario(osm, graph, sc->no_ferries, &r, msg, sizeof msg)) {
        report(0, where, "%s", msg);
        total.failed++;
        free(rows);
        goto out;
    }
    if (pd->imported)
        check_imported(sc, pd->imported, &r.stats);
    for (int i = 0; i < pd->nroutes; i++)
        for (int row = 0; row < pd->routes[i]->nrows; row++)
            check_route_row(sc, &r, pd->routes[i], row);
    for (int row = 0; pd->routability && row < pd->routability->nrows; row++)
        check_routability_row(sc, &r, pd->routability, row, &rows[row]);
    routers_free(&r);
    free(rows);
    if (!getenv("KEEP"))
        remove(osm);
    remove(graph);
out:
    for (int i = 0; i < pd->nroutes; i++)
        free(pd->routes[i]);
    free(pd->routability);
    free(pd->imported);
    memset(pd, 0, sizeof *pd);
}

/* Reads the `|` lines after a keyword into a new table; *line is advanced. Returns NULL after a file error. */
static table *read_table(scenario *sc, FILE *f, int *lineno, char *buf, size_t cap, int *have_line)
{
    table *t = calloc(1, sizeof *t);
    if (!t) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    int first = 1;
    *have_line = 0;
    while (fgets(buf, (int)cap, f)) {
        (*lineno)++;
        char tmp[8192];
        snprintf(tmp, sizeof tmp, "%s", buf);
        char *p = trim(tmp);
        if (*p != '|') {
            *have_line = 1;
            break;
        }
        char cells[MAX_COLS][CELL_LEN];
        int n = split_row(p, cells, MAX_COLS);
        if (n < 0) {
            file_error(sc, *lineno, "malformed table line");
            free(t);
            return NULL;
        }
        if (first) {
            t->ncols = n;
            memcpy(t->head, cells, sizeof t->head);
            t->line[0] = *lineno + 1;
            first = 0;
            continue;
        }
        if (n != t->ncols) {
            file_error(sc, *lineno, "%d cells where the header has %d", n, t->ncols);
            free(t);
            return NULL;
        }
        if (t->nrows == MAX_ROWS) {
            file_error(sc, *lineno, "table too long");
            free(t);
            return NULL;
        }
        memcpy(t->cell[t->nrows], cells, sizeof t->cell[0]);
        t->line[t->nrows++] = *lineno;
    }
    if (first) {
        file_error(sc, *lineno, "a table was expected");
        free(t);
        return NULL;
    }
    return t;
}

static int check_columns(scenario *sc, const table *t, const char *const *known, size_t nknown)
{
    for (int c = 0; c < t->ncols; c++) {
        if (t->head[c][0] == '#')
            continue;
        size_t k = 0;
        while (k < nknown && strcmp(t->head[c], known[k]))
            k++;
        if (k == nknown) {
            file_error(sc, t->line[0] - 1, "unknown column '%s'", t->head[c]);
            return -1;
        }
    }
    return 0;
}

static void run_file(const char *path)
{
    FILE *f = fopen(path, "r");
    tally before = total;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (!f) {
        printf("FAIL %s: cannot open: %s\n", path, strerror(errno));
        total.file_errors++;
        return;
    }
    static scenario sc, defaults;
    memset(&defaults, 0, sizeof defaults);
    snprintf(defaults.file, sizeof defaults.file, "%s", base);
    defaults.grid = 100, defaults.origin_lon = 1, defaults.origin_lat = 1;
    sc = defaults;
    scenario *cur = &defaults;
    pending pd = {0};
    char buf[8192];
    int lineno = 0, have = 0, in_scenario = 0;
    for (;;) {
        if (!have) {
            if (!fgets(buf, sizeof buf, f))
                break;
            lineno++;
        }
        have = 0;
        char line[8192];
        snprintf(line, sizeof line, "%s", buf);
        char *p = trim(line);
        if (!*p || *p == '#')
            continue;
        char *arg = p;
        while (*arg && *arg != ' ' && *arg != '\t')
            arg++;
        if (*arg)
            *arg++ = '\0';
        arg = trim(arg);
        if (!strcmp(p, "scenario")) {
            if (in_scenario)
                run_scenario(&sc, &pd);
            free(sc.relations);
            sc = defaults;
            sc.relations = NULL;
            snprintf(sc.title, sizeof sc.title, "%s", arg);
            sc.next_id = 1;
            cur = &sc;
            in_scenario = 1;
        } else if (!strcmp(p, "grid")) {
            cur->grid = atof(arg);
            if (!(cur->grid > 0))
                file_error(cur, lineno, "grid needs a size in metres");
        } else if (!strcmp(p, "origin")) {
            if (sscanf(arg, "%lf,%lf", &cur->origin_lon, &cur->origin_lat) != 2)
                file_error(cur, lineno, "origin needs LON,LAT");
        } else if (!strcmp(p, "own")) {
            if (in_scenario)
                file_error(cur, lineno, "`own` marks a whole file: write it before the first scenario");
            file_own = 1;
        } else if (!strcmp(p, "import")) {
            if (!strcmp(arg, "no-ferries"))
                cur->no_ferries = 1;
            else
                file_error(cur, lineno, "unknown import option '%s'", arg);
        } else if (!in_scenario) {
            file_error(cur, lineno, "'%s' outside a scenario", p);
        } else if (!strcmp(p, "map")) {
            int row = 0;
            while (fgets(buf, sizeof buf, f)) {
                lineno++;
                char tmp[8192];
                snprintf(tmp, sizeof tmp, "%s", buf);
                if (!strcmp(trim(tmp), "end"))
                    break;
                for (int ci = 0; buf[ci] && buf[ci] != '\n'; ci++) {
                    char ch = buf[ci];
                    if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
                        add_node(&sc, ch, sc.origin_lon + ci * 0.5 * cell_deg(&sc), sc.origin_lat - row * cell_deg(&sc),
                                 lineno);
                }
                row++;
            }
        } else if (!strcmp(p, "nodes") || !strcmp(p, "ways") || !strcmp(p, "relations") || !strcmp(p, "routes") ||
                   !strcmp(p, "routability") || !strcmp(p, "imported")) {
            table *t = read_table(&sc, f, &lineno, buf, sizeof buf, &have);
            if (!t)
                continue;
            if (!strcmp(p, "nodes")) {
                take_nodes(&sc, t);
                free(t);
            } else if (!strcmp(p, "ways")) {
                take_ways(&sc, t);
                free(t);
            } else if (!strcmp(p, "relations")) {
                take_relations(&sc, t);
                free(t);
            } else if (!strcmp(p, "imported")) {
                int bad = t->nrows != 1 || pd.imported;
                for (int c = 0; c < t->ncols && !bad; c++) {
                    size_t k = 0;
                    while (k < sizeof import_counts / sizeof import_counts[0] &&
                           strcmp(import_counts[k].name, t->head[c]))
                        k++;
                    if (k == sizeof import_counts / sizeof import_counts[0] && t->head[c][0] != '#') {
                        file_error(&sc, t->line[0] - 1, "unknown import count '%s'", t->head[c]);
                        bad = 2;
                    }
                }
                if (bad == 1)
                    file_error(&sc, t->line[0] - 1, "one `imported` table of one row per scenario");
                if (bad)
                    free(t);
                else
                    pd.imported = t;
            } else if (!strcmp(p, "routes")) {
                if (col(t, "from") < 0 || col(t, "to") < 0) {
                    file_error(&sc, t->line[0] - 1, "a routes table needs `from` and `to`");
                    free(t);
                } else if (check_columns(&sc, t, route_cols, sizeof route_cols / sizeof route_cols[0]) ||
                           pd.nroutes == 16) {
                    free(t);
                } else {
                    pd.routes[pd.nroutes++] = t;
                }
            } else {
                if (pd.routability) {
                    file_error(&sc, lineno, "one routability table per scenario");
                    free(t);
                } else if (col(t, "forw") < 0 && col(t, "backw") < 0 && col(t, "bothw") < 0) {
                    file_error(&sc, t->line[0] - 1, "a routability table needs forw, backw or bothw");
                    free(t);
                } else {
                    pd.routability = t;
                }
            }
        } else {
            file_error(&sc, lineno, "unknown keyword '%s'", p);
        }
    }
    if (in_scenario)
        run_scenario(&sc, &pd);
    free(sc.relations);
    sc.relations = NULL;
    fclose(f);
    int failed = total.failed - before.failed;
    if (file_own)
        printf("%s: %d rows of covoit's own, %d failed, %d file errors\n", base, total.own - before.own + failed,
               failed, total.file_errors - before.file_errors);
    else {
        int rows = (total.as_osrm - before.as_osrm) + (total.differ - before.differ) + failed;
        printf("%s: %d rows, %d as OSRM (%.1f%%), %d deliberately different, %d failed, %d file errors\n", base, rows,
               total.as_osrm - before.as_osrm, rows ? 100.0 * (total.as_osrm - before.as_osrm) / rows : 0.0,
               total.differ - before.differ, failed, total.file_errors - before.file_errors);
    }
    file_own = 0;
}

int main(int argc, char **argv)
{
    double min_osrm = 0;
    int nfiles = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--min-osrm") && i + 1 < argc) {
            min_osrm = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--differences") && i + 1 < argc) {
            differences = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: test_features [--min-osrm PERCENT] [--differences FILE.md] FILE.scn ...\n");
            return 2;
        }
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--min-osrm") || !strcmp(argv[i], "--differences")) {
            i++;
            continue;
        }
        run_file(argv[i]);
        nfiles++;
    }
    if (!nfiles) {
        fprintf(stderr, "usage: test_features [--min-osrm PERCENT] [--differences FILE.md] FILE.scn ...\n");
        return 2;
    }
    int osrm_rows = total.as_osrm + total.differ + total.failed_osrm;
    double pct = osrm_rows ? 100.0 * total.as_osrm / osrm_rows : 0.0;
    printf("OSRM's scenarios: %d rows, %d as OSRM (%.1f%%), %d deliberately different; covoit's own: %d rows; "
           "%d failed, %d file errors\n",
           osrm_rows, total.as_osrm, pct, total.differ, total.own + total.failed - total.failed_osrm, total.failed,
           total.file_errors);
    int low = min_osrm > 0 && pct < min_osrm;
    if (low)
        printf("FAIL fewer rows answer as OSRM (%.1f%%) than the %.1f%% asked\n", pct, min_osrm);
    int rows = osrm_rows + total.own + total.failed - total.failed_osrm;
    return total.failed > 0 || total.file_errors > 0 || rows == 0 || low;
}
