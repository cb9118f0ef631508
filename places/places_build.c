/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* places_build.c — the place index from an OSM file (places.h): one read of the file keeping every node's
   location and the named things, then streets joined where their segments of one name meet, each place told apart
   by the settlement it lies in, and the whole written to SQLite with its full-text and R*Tree indexes. */
#define _POSIX_C_SOURCE 200809L
#include "places/places.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "osm/osm_reader.h"

typedef struct node_at {
    int64_t id;
    int32_t lon, lat;
} node_at;

/* A place as read: its location given, or to come from nodes (a way's middle node, or the centroid of its
   nodes). */
typedef struct cand {
    cv_place_kind kind;
    char *name, *detail;
    double importance;
    int has_at;
    cv_coord at;
    size_t ref0, nrefs; /* into refs: the way's nodes */
    int centroid;       /* 1: the centroid of its nodes; 0: its middle node */
} cand;

typedef struct builder {
    node_at *nodes;
    size_t nnodes, cap_nodes;
    int sorted;
    cand *c;
    size_t nc, cap_c;
    int64_t *refs;
    size_t nrefs, cap_refs;
    int oom;
    cv_progress *progress;
} builder;

static const char *tag(const cv_tag *t, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(t[i].key, key))
            return t[i].value;
    return NULL;
}

static void *grow(void *p, size_t *cap, size_t need, size_t size, int *oom)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    void *q = realloc(p, c * size);
    if (!q) {
        *oom = 1;
        return p;
    }
    *cap = c;
    return q;
}

static cand *add(builder *b, cv_place_kind kind, const char *name, const char *detail, double importance)
{
    b->c = grow(b->c, &b->cap_c, b->nc + 1, sizeof *b->c, &b->oom);
    if (b->oom)
        return NULL;
    cand *x = &b->c[b->nc++];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->name = strdup(name);
    x->detail = detail ? strdup(detail) : NULL;
    x->importance = importance;
    if (!x->name || (detail && !x->detail))
        b->oom = 1;
    return x;
}

static double settlement_importance(const char *v)
{
    static const struct {
        const char *v;
        double w;
    } kinds[] = {
        {"city", 1.0},     {"town", 0.85},          {"village", 0.7}, {"suburb", 0.7},    {"quarter", 0.6},
        {"borough", 0.65}, {"neighbourhood", 0.55}, {"hamlet", 0.45}, {"locality", 0.35}, {"isolated_dwelling", 0.3}};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (!strcmp(v, kinds[i].v))
            return kinds[i].w;
    return -1;
}

/* A stop or station: its label, or NULL. */
static const char *stop_kind(const cv_tag *t, size_t n)
{
    const char *hw = tag(t, n, "highway"), *rw = tag(t, n, "railway"), *pt = tag(t, n, "public_transport");
    const char *amenity = tag(t, n, "amenity");
    if (rw && (!strcmp(rw, "station") || !strcmp(rw, "halt")))
        return "train station";
    if (rw && !strcmp(rw, "tram_stop"))
        return "tram stop";
    if (tag(t, n, "station") && !strcmp(tag(t, n, "station"), "subway"))
        return "metro station";
    if (hw && !strcmp(hw, "bus_stop"))
        return "bus stop";
    if (amenity && !strcmp(amenity, "bus_station"))
        return "bus station";
    if (pt && (!strcmp(pt, "station") || !strcmp(pt, "platform") || !strcmp(pt, "stop_position")))
        return "stop";
    return NULL;
}

/* A named place of interest: what it is, or NULL. */
static const char *poi_kind(const cv_tag *t, size_t n)
{
    static const char *const keys[] = {"amenity", "shop", "tourism", "leisure", "office", "historic", "healthcare"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const char *v = tag(t, n, keys[i]);
        if (v && strcmp(v, "yes") && strcmp(v, "no"))
            return v;
    }
    return NULL;
}

/* What a node or a way with these tags names; its refs (a way's) when not a node. */
static void named(builder *b, const cv_tag *t, size_t n, int is_way, int32_t lon, int32_t lat, const int64_t *refs,
                  size_t nrefs)
{
    const char *name = tag(t, n, "name"), *hw = tag(t, n, "highway"), *place = tag(t, n, "place");
    const char *number = tag(t, n, "addr:housenumber"), *street = tag(t, n, "addr:street");
    cand *x = NULL;
    if (is_way && name && hw && nrefs >= 2) {
        double w = !strcmp(hw, "motorway") || !strcmp(hw, "trunk") || !strcmp(hw, "primary") ? 0.5
                   : !strcmp(hw, "secondary")                                                ? 0.45
                   : !strcmp(hw, "tertiary")                                                 ? 0.4
                   : !strcmp(hw, "residential") || !strcmp(hw, "unclassified") || !strcmp(hw, "living_street") ||
                           !strcmp(hw, "pedestrian")
                       ? 0.35
                       : 0.3;
        x = add(b, CV_PLACE_STREET, name, NULL, w);
    }
    const char *sk = name ? stop_kind(t, n) : NULL, *pk = name ? poi_kind(t, n) : NULL;
    double si = place && name ? settlement_importance(place) : -1;
    cand *y = NULL;
    if (si >= 0)
        y = add(b, CV_PLACE_SETTLEMENT, name, place, si);
    else if (sk && !is_way)
        y = add(b, CV_PLACE_STOP, name, sk, !strcmp(sk, "bus stop") || !strcmp(sk, "stop") ? 0.45 : 0.6);
    else if (pk && !(is_way && hw))
        y = add(b, CV_PLACE_POI, name, pk, 0.4);
    cand *z = NULL;
    if (number && street) {
        char label[200];
        snprintf(label, sizeof label, "%s %s", street, number);
        z = add(b, CV_PLACE_ADDRESS, label, NULL, 0.25);
    }
    cand *all[3] = {x, y, z};
    if (is_way && (x || y || z)) { /* the way's nodes, once for all it names */
        b->refs = grow(b->refs, &b->cap_refs, b->nrefs + nrefs, sizeof *b->refs, &b->oom);
        if (b->oom)
            return;
        memcpy(b->refs + b->nrefs, refs, nrefs * sizeof *refs);
    }
    for (int k = 0; k < 3; k++) {
        if (!all[k])
            continue;
        if (!is_way) {
            all[k]->has_at = 1;
            all[k]->at = (cv_coord){lon, lat};
        } else {
            all[k]->ref0 = b->nrefs, all[k]->nrefs = nrefs, all[k]->centroid = all[k] != x;
        }
    }
    if (is_way && (x || y || z))
        b->nrefs += nrefs;
}

static int on_node(void *ud, int64_t id, int32_t lon, int32_t lat, const cv_tag *tags, size_t ntags)
{
    builder *b = ud;
    b->nodes = grow(b->nodes, &b->cap_nodes, b->nnodes + 1, sizeof *b->nodes, &b->oom);
    if (b->oom)
        return CV_ENOMEM;
    if (b->nnodes && b->nodes[b->nnodes - 1].id >= id)
        b->sorted = 0;
    b->nodes[b->nnodes++] = (node_at){id, lon, lat};
    if (ntags)
        named(b, tags, ntags, 0, lon, lat, NULL, 0);
    return b->oom ? CV_ENOMEM : 0;
}

static int on_way(void *ud, int64_t id, const int64_t *refs, size_t nrefs, const cv_tag *tags, size_t ntags)
{
    (void)id;
    builder *b = ud;
    if (ntags && nrefs)
        named(b, tags, ntags, 1, 0, 0, refs, nrefs);
    return b->oom ? CV_ENOMEM : 0;
}

static void on_progress(void *ud, uint64_t done, uint64_t total)
{
    builder *b = ud;
    if (b->progress)
        cv_progress_update(b->progress, done, total);
}

static int by_node_id(const void *a, const void *b)
{
    const node_at *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static const node_at *find_node(const builder *b, int64_t id)
{
    size_t lo = 0, hi = b->nnodes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->nodes[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < b->nnodes && b->nodes[lo].id == id ? &b->nodes[lo] : NULL;
}

/* A street's segment meeting another of its name at an end node. */
typedef struct end {
    const char *name;
    int64_t node;
    size_t seg;
} end;

static int by_end(const void *a, const void *b)
{
    const end *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->node < y->node ? -1 : x->node > y->node;
}

/* How far a settlement of this importance names the places around it. */
static double reach_m(double importance)
{
    return importance >= 1.0    ? 15000
           : importance >= 0.85 ? 7000
           : importance >= 0.65 ? 3000
           : importance >= 0.6  ? 2000
           : importance >= 0.55 ? 1500
                                : 1000;
}

/* A place's rank in the file: its importance, and where it was read. */
typedef struct ranked {
    double importance;
    size_t i;
} ranked;

static int by_importance(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->importance != y->importance)
        return x->importance > y->importance ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static size_t find(size_t *up, size_t i)
{
    while (up[i] != i)
        i = up[i] = up[up[i]];
    return i;
}

static const char *const schema_sql =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE place(id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, name TEXT NOT NULL, detail TEXT NOT NULL,"
    " lon REAL NOT NULL, lat REAL NOT NULL, importance REAL NOT NULL, cell TEXT NOT NULL);"
    "CREATE VIRTUAL TABLE place_fts USING fts5(name, detail, cell, content='place', content_rowid='id',"
    " tokenize=\"unicode61 remove_diacritics 2\", prefix='1 2 3');"
    "CREATE VIRTUAL TABLE place_at USING rtree(id, min_lon, max_lon, min_lat, max_lat);";

/* Where the index goes: 0 a file of its own (written to path.tmp, renamed when whole: absent, or an index already),
   1 inside the SQLite database at path (another database, the trip store: its tables are replaced in one
   transaction), or a CV_E* code when path is something else. */
static int target_of(const char *path, cv_error *err)
{
    if (access(path, F_OK) != 0)
        return 0;
    sqlite3 *db = NULL;
    int rc = 0, tables = -1, ours = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        rc = cv_fail(err, CV_EIO, "cannot read %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_stmt *st = NULL;
    if (!rc &&
        sqlite3_prepare_v2(db,
                           "SELECT count(*), count(*) FILTER (WHERE name IN ('meta','place','place_fts',"
                           "'place_at') OR name GLOB 'place_*') FROM sqlite_schema WHERE type='table'",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        tables = sqlite3_column_int(st, 0), ours = sqlite3_column_int(st, 1);
    else if (!rc)
        rc = cv_fail(err, CV_EFORMAT, "%s exists and is not an SQLite database: give another file for the place index",
                     path);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc ? rc : tables > ours; /* tables of another kind: a database the index goes into */
}

int cv_places_build(const char *osm_path, const char *path, cv_progress *progress, cv_places_stats *stats,
                    cv_error *err)
{
    double t0 = cv_now();
    builder b = {0};
    b.sorted = 1;
    b.progress = progress;
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (progress)
        cv_progress_phase(progress, "places: reading");
    cv_osm_handler h = {&b, on_node, on_way, NULL, on_progress};
    int rc = cv_osm_read(osm_path, &h, NULL, err);
    if (!rc && b.oom)
        rc = cv_fail(err, CV_ENOMEM, "out of memory");
    if (!rc && !b.sorted)
        qsort(b.nodes, b.nnodes, sizeof *b.nodes, by_node_id);
    /* locations of what ways name */
    size_t kept = 0;
    for (size_t i = 0; !rc && i < b.nc; i++) {
        cand *x = &b.c[i];
        if (!x->has_at) {
            double lon = 0, lat = 0;
            size_t found = 0;
            if (x->centroid) {
                for (size_t k = 0; k < x->nrefs; k++) {
                    const node_at *nd = find_node(&b, b.refs[x->ref0 + k]);
                    if (nd)
                        lon += nd->lon, lat += nd->lat, found++;
                }
            } else {
                const node_at *nd = find_node(&b, b.refs[x->ref0 + x->nrefs / 2]);
                if (nd)
                    lon = nd->lon, lat = nd->lat, found = 1;
            }
            if (!found) { /* its nodes are outside the extract */
                free(x->name), free(x->detail);
                continue;
            }
            x->has_at = 1;
            x->at = (cv_coord){(int32_t)lrint(lon / found), (int32_t)lrint(lat / found)};
        }
        b.c[kept++] = *x;
    }
    b.nc = kept;
    /* streets: the segments of one name that meet at an end node are one street, placed at the middle node of its
       longest segment */
    size_t *up = NULL;
    end *ends = NULL;
    if (!rc) {
        up = malloc((b.nc ? b.nc : 1) * sizeof *up);
        ends = malloc((2 * b.nc + 1) * sizeof *ends);
        if (!up || !ends)
            rc = cv_fail(err, CV_ENOMEM, "out of memory");
    }
    size_t ne = 0;
    for (size_t i = 0; !rc && i < b.nc; i++) {
        up[i] = i;
        if (b.c[i].kind == CV_PLACE_STREET && b.c[i].nrefs) {
            ends[ne++] = (end){b.c[i].name, b.refs[b.c[i].ref0], i};
            ends[ne++] = (end){b.c[i].name, b.refs[b.c[i].ref0 + b.c[i].nrefs - 1], i};
        }
    }
    if (!rc && ne)
        qsort(ends, ne, sizeof *ends, by_end);
    for (size_t k = 1; !rc && k < ne; k++)
        if (!strcmp(ends[k].name, ends[k - 1].name) && ends[k].node == ends[k - 1].node) {
            size_t a = find(up, ends[k].seg), c = find(up, ends[k - 1].seg);
            if (a != c)
                up[a] = c;
        }
    /* the longest segment of each street stands for it; the others go */
    char *keep = !rc ? calloc(b.nc ? b.nc : 1, 1) : NULL;
    if (!rc && !keep)
        rc = cv_fail(err, CV_ENOMEM, "out of memory");
    /* the best segment of each root: one pass over the streets */
    size_t *best_of = !rc ? malloc((b.nc ? b.nc : 1) * sizeof *best_of) : NULL;
    if (!rc && !best_of)
        rc = cv_fail(err, CV_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < b.nc; i++)
        best_of[i] = SIZE_MAX;
    for (size_t i = 0; !rc && i < b.nc; i++)
        if (b.c[i].kind == CV_PLACE_STREET) {
            size_t r = find(up, i);
            if (best_of[r] == SIZE_MAX || b.c[i].nrefs > b.c[best_of[r]].nrefs)
                best_of[r] = i;
        }
    for (size_t i = 0; !rc && i < b.nc; i++)
        keep[i] = b.c[i].kind != CV_PLACE_STREET || best_of[find(up, i)] == i;
    free(best_of);
    /* each place told apart by the settlement nearest to it (a suburb, a village, a town) */
    size_t nset = 0;
    for (size_t i = 0; !rc && i < b.nc; i++)
        nset += b.c[i].kind == CV_PLACE_SETTLEMENT;
    size_t *sets = !rc ? malloc((nset ? nset : 1) * sizeof *sets) : NULL;
    nset = 0;
    for (size_t i = 0; sets && i < b.nc; i++)
        if (b.c[i].kind == CV_PLACE_SETTLEMENT && b.c[i].importance >= 0.45)
            sets[nset++] = i;
    /* written most important first: the ids follow importance, so the full-text index lists a word's places in that
       order and the most important matches of a short prefix are its first ones, with nothing to sort */
    ranked *order = !rc ? malloc((b.nc ? b.nc : 1) * sizeof *order) : NULL;
    if (!rc && !order)
        rc = cv_fail(err, CV_ENOMEM, "out of memory");
    for (size_t i = 0; order && i < b.nc; i++)
        order[i] = (ranked){b.c[i].importance, i};
    if (order && b.nc)
        qsort(order, b.nc, sizeof *order, by_importance);
    /* write: a file of its own, or into the database at path (the trip store, say) in one transaction that
       replaces the index it may hold, while a server keeps using the rest */
    int inside = rc ? 0 : target_of(path, err);
    if (inside < 0 || inside > 1)
        rc = inside, inside = 0;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, inside ? "%s" : "%s.tmp", path);
    if (!inside)
        unlink(tmp);
    sqlite3 *db = NULL;
    if (!rc && sqlite3_open(tmp, &db) != SQLITE_OK)
        rc = cv_fail(err, CV_EIO, "cannot write %s: %s", tmp, db ? sqlite3_errmsg(db) : "out of memory");
    char *msg = NULL;
    if (!rc && inside)
        sqlite3_busy_timeout(db, 10000);
    if (!rc && (sqlite3_exec(db,
                             inside ? "BEGIN IMMEDIATE; DROP TABLE IF EXISTS place_fts; DROP TABLE IF EXISTS place_at;"
                                      " DROP TABLE IF EXISTS place; DROP TABLE IF EXISTS meta;"
                                    : "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN;",
                             NULL, NULL, &msg) ||
                sqlite3_exec(db, schema_sql, NULL, NULL, &msg)))
        rc = cv_fail(err, CV_EIO, "%s: %s", tmp, msg ? msg : "cannot write");
    sqlite3_free(msg), msg = NULL;
    sqlite3_stmt *ins = NULL, *rt = NULL;
    if (!rc && (sqlite3_prepare_v2(db, "INSERT INTO place VALUES(?,?,?,?,?,?,?,?)", -1, &ins, NULL) ||
                sqlite3_prepare_v2(db, "INSERT INTO place_at VALUES(?,?,?,?,?)", -1, &rt, NULL)))
        rc = cv_fail(err, CV_EIO, "%s: %s", tmp, sqlite3_errmsg(db));
    if (!rc && progress)
        cv_progress_phase(progress, "places: writing");
    int64_t id = 0;
    for (size_t oi = 0; !rc && oi < b.nc; oi++) {
        size_t i = order[oi].i;
        const cand *x = &b.c[i];
        if (!keep[i])
            continue;
        char detail[96] = "";
        const char *what = x->kind == CV_PLACE_STREET || x->kind == CV_PLACE_ADDRESS ? NULL : x->detail;
        /* the settlement it lies in, unless it is one: the nearest for its size (a city reaches farther than a
           hamlet), none when none reaches it */
        const char *in = NULL;
        double best = 1.0;
        for (size_t s = 0; x->kind != CV_PLACE_SETTLEMENT && s < nset; s++) {
            double d = cv_distance_m(x->at, b.c[sets[s]].at) / reach_m(b.c[sets[s]].importance);
            if (d < best)
                best = d, in = b.c[sets[s]].name;
        }
        if (what && in)
            snprintf(detail, sizeof detail, "%s, %s", what, in);
        else if (what || in)
            snprintf(detail, sizeof detail, "%s", what ? what : in);
        for (size_t k = 0; detail[k]; k++)
            if (detail[k] == '_')
                detail[k] = ' ';
        double lon = cv_deg(x->at.lon), lat = cv_deg(x->at.lat);
        id++;
        sqlite3_bind_int64(ins, 1, id);
        sqlite3_bind_int(ins, 2, (int)x->kind);
        sqlite3_bind_text(ins, 3, x->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, detail, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(ins, 5, lon);
        sqlite3_bind_double(ins, 6, lat);
        sqlite3_bind_double(ins, 7, x->importance);
        char cell[40];
        cv_places_cell(x->at, 0, 0, cell, sizeof cell);
        sqlite3_bind_text(ins, 8, cell, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(rt, 1, id);
        sqlite3_bind_double(rt, 2, lon), sqlite3_bind_double(rt, 3, lon);
        sqlite3_bind_double(rt, 4, lat), sqlite3_bind_double(rt, 5, lat);
        if (sqlite3_step(ins) != SQLITE_DONE || sqlite3_step(rt) != SQLITE_DONE)
            rc = cv_fail(err, CV_EIO, "%s: %s", tmp, sqlite3_errmsg(db));
        sqlite3_reset(ins), sqlite3_reset(rt);
        if (stats) {
            size_t *count[] = {&stats->settlements, &stats->streets, &stats->addresses, &stats->stops, &stats->pois};
            (*count[x->kind])++;
        }
    }
    sqlite3_finalize(ins), sqlite3_finalize(rt);
    if (!rc) {
        char when[40];
        time_t now = time(NULL);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
        const char *base = strrchr(osm_path, '/') ? strrchr(osm_path, '/') + 1 : osm_path;
        char *q = sqlite3_mprintf("INSERT INTO meta VALUES('schema','%d'),('source',%Q),('built',%Q),('places','%lld');"
                                  "INSERT INTO place_fts(place_fts) VALUES('rebuild'); COMMIT;",
                                  CV_PLACES_SCHEMA, base, when, (long long)id);
        if (!q || sqlite3_exec(db, q, NULL, NULL, &msg))
            rc = cv_fail(err, CV_EIO, "%s: %s", tmp, msg ? msg : "out of memory");
        sqlite3_free(q), sqlite3_free(msg);
    }
    if (rc && inside && db)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL); /* the database as it was */
    if (db && sqlite3_close(db) != SQLITE_OK && !rc)
        rc = cv_fail(err, CV_EIO, "cannot close %s", tmp);
    if (!rc && !inside && rename(tmp, path))
        rc = cv_fail(err, CV_EIO, "cannot rename %s to %s", tmp, path);
    if (rc && !inside)
        unlink(tmp);
    for (size_t i = 0; i < b.nc; i++)
        free(b.c[i].name), free(b.c[i].detail);
    free(b.c), free(b.nodes), free(b.refs), free(up), free(ends), free(keep), free(sets), free(order);
    if (stats)
        stats->seconds = cv_now() - t0;
    if (progress && !rc)
        cv_progress_done(progress);
    return rc;
}

void cv_places_path_for(const char *graph_path, char *out, size_t cap)
{
    snprintf(out, cap, "%s.places", graph_path);
}
