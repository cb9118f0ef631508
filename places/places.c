/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* places.c — querying the place index (places.h): FTS5 for the words typed, every word a prefix, the candidates
   then ranked here (importance, how the name begins, distance); the R*Tree for what is near a point. */
#include "places/places.h"

#include <ctype.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEARCH_TOP 200  /* the most important matches anywhere, ranked here */
#define SEARCH_NEAR 400 /* and the most important in the cells around the point given */
#define CELL_LON 0.025  /* the grid of cell words: about 2 km */
#define CELL_LAT 0.018

struct cv_places {
    sqlite3 *db;
    sqlite3_stmt *search, *box;
};

void cv_places_cell(cv_coord at, int dx, int dy, char *out, size_t cap)
{
    long x = (long)floor((cv_deg(at.lon) + 180.0) / CELL_LON) + dx,
         y = (long)floor((cv_deg(at.lat) + 90.0) / CELL_LAT) + dy;
    snprintf(out, cap, "g%ldx%ld", x, y);
}

const char *cv_place_kind_name(cv_place_kind k)
{
    static const char *const names[] = {"settlement", "street", "address", "stop", "poi"};
    return (unsigned)k < 5 ? names[k] : "place";
}

int cv_places_open(const char *path, cv_places **out, cv_error *err)
{
    *out = NULL;
    cv_places *p = calloc(1, sizeof *p);
    if (!p)
        return cv_fail(err, CV_ENOMEM, "out of memory");
    if (sqlite3_open_v2(path, &p->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        int rc = cv_fail(err, CV_EIO, "cannot open the place index %s: %s", path,
                         p->db ? sqlite3_errmsg(p->db) : "out of memory");
        cv_places_close(p);
        return rc;
    }
    sqlite3_stmt *st = NULL;
    int schema = -1;
    if (sqlite3_prepare_v2(p->db, "SELECT value FROM meta WHERE key='schema'", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        schema = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (schema != CV_PLACES_SCHEMA) {
        cv_places_close(p);
        return cv_fail(err, CV_EFORMAT, "%s is not a covoit place index of schema %d (covoit import makes one)", path,
                       CV_PLACES_SCHEMA);
    }
    /* not ordered by bm25, which costs tens of milliseconds when a prefix of two letters matches ten thousand
       names: the first matches (the ids follow importance, places_build.c), anywhere and then in the cells around
       the point (the cell words intersected with the words typed, inside the full-text index), ranked here */
    if (sqlite3_prepare_v2(p->db,
                           "SELECT p.kind, p.name, p.detail, p.lon, p.lat, p.importance, p.id FROM place_fts f JOIN"
                           " place p ON p.id = f.rowid WHERE place_fts MATCH ? LIMIT ?",
                           -1, &p->search, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(p->db,
                           "SELECT p.kind, p.name, p.detail, p.lon, p.lat, p.importance FROM place_at a JOIN place p"
                           " ON p.id = a.id WHERE a.min_lon >= ? AND a.max_lon <= ? AND a.min_lat >= ? AND"
                           " a.max_lat <= ? AND (? < 0 OR p.kind = ?)",
                           -1, &p->box, NULL) != SQLITE_OK) {
        int rc = cv_fail(err, CV_EFORMAT, "%s: %s", path, sqlite3_errmsg(p->db));
        cv_places_close(p);
        return rc;
    }
    *out = p;
    return 0;
}

void cv_places_close(cv_places *p)
{
    if (!p)
        return;
    sqlite3_finalize(p->search);
    sqlite3_finalize(p->box);
    sqlite3_close(p->db);
    free(p);
}

/* Lower case, the accents of Latin letters dropped (UTF-8 in, ASCII-ish out): enough to compare how a name begins
   with what was typed; the index folds on its own (unicode61, remove_diacritics). */
static void fold(const char *s, char *out, size_t cap)
{
    static const char *const from[] = {"áàâãäå", "éèêë", "íìîï", "óòôõöø", "úùûü", "ç", "ñ",
                                       "ÁÀÂÃÄÅ", "ÉÈÊË", "ÍÌÎÏ", "ÓÒÔÕÖØ", "ÚÙÛÜ", "Ç", "Ñ"};
    static const char to[] = "aeioucnaeioucn";
    size_t k = 0;
    while (*s && k + 1 < cap) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x80) {
            out[k++] = (char)tolower(c);
            s++;
            continue;
        }
        int done = 0;
        for (size_t g = 0; !done && g < sizeof from / sizeof *from; g++)
            for (const char *f = from[g]; !done && *f; f += 2)
                if (s[0] == f[0] && s[1] == f[1]) {
                    out[k++] = to[g];
                    s += 2;
                    done = 1;
                }
        if (!done)
            out[k++] = *s++;
    }
    out[k] = '\0';
}

/* The FTS5 query of what was typed: every word quoted and a prefix, all required. 0 words: -1. */
static int fts_query(const char *q, char *out, size_t cap)
{
    size_t k = 0;
    int words = 0;
    const char *s = q;
    while (*s) {
        while (*s && ((unsigned char)*s < 0x80 && !isalnum((unsigned char)*s)))
            s++;
        if (!*s)
            break;
        const char *w = s;
        while (*s && !((unsigned char)*s < 0x80 && !isalnum((unsigned char)*s)))
            s++;
        size_t len = (size_t)(s - w);
        if (k + len + 5 >= cap)
            break;
        out[k++] = '"';
        memcpy(out + k, w, len);
        k += len;
        out[k++] = '"';
        out[k++] = '*';
        out[k++] = ' ';
        words++;
    }
    out[k] = '\0';
    return words ? 0 : -1;
}

static void row_place(sqlite3_stmt *st, cv_place *x)
{
    memset(x, 0, sizeof *x);
    x->kind = (cv_place_kind)sqlite3_column_int(st, 0);
    snprintf(x->name, sizeof x->name, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(x->detail, sizeof x->detail, "%s", (const char *)sqlite3_column_text(st, 2));
    x->at = (cv_coord){cv_fixed(sqlite3_column_double(st, 3)), cv_fixed(sqlite3_column_double(st, 4))};
    x->score = sqlite3_column_double(st, 5);
}

static int by_score(const void *a, const void *b)
{
    const cv_place *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(x->name, y->name);
}

int cv_places_search(cv_places *p, const char *q, int has_near, cv_coord near, int limit, cv_place *out, size_t *n,
                     cv_error *err)
{
    *n = 0;
    char match[1024], typed[256];
    if (fts_query(q, match, sizeof match))
        return cv_fail(err, CV_EINVAL, "q: no word to look for in '%s'", q);
    if (limit < 1)
        limit = 1;
    if (limit > CV_PLACES_LIMIT_MAX)
        limit = CV_PLACES_LIMIT_MAX;
    fold(q, typed, sizeof typed);
    size_t tl = strlen(typed);
    while (tl && typed[tl - 1] == ' ')
        typed[--tl] = '\0';
    cv_place *all = malloc((SEARCH_TOP + SEARCH_NEAR) * sizeof *all);
    int64_t *ids = malloc((SEARCH_TOP + SEARCH_NEAR) * sizeof *ids);
    if (!all || !ids) {
        free(all), free(ids);
        return cv_fail(err, CV_ENOMEM, "out of memory");
    }
    size_t m = 0;
    int bad = 0;
    for (int pass = 0; !bad && pass < 1 + has_near; pass++) {
        sqlite3_stmt *st = p->search;
        char q2[1600];
        if (pass) {
            /* the words in the names, and one of the 3 x 3 cells around the point */
            size_t k = (size_t)snprintf(q2, sizeof q2, "{name detail} : (%s) AND cell : (", match);
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    char cell[40];
                    cv_places_cell(near, dx, dy, cell, sizeof cell);
                    k += (size_t)snprintf(q2 + k, sizeof q2 - k, "%s%s", dx == -1 && dy == -1 ? "" : " OR ", cell);
                }
            snprintf(q2 + k, sizeof q2 - k, ")");
        } else {
            snprintf(q2, sizeof q2, "{name detail} : (%s)", match);
        }
        sqlite3_bind_text(st, 1, q2, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 2, pass ? SEARCH_NEAR : SEARCH_TOP);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && m < SEARCH_TOP + SEARCH_NEAR) {
            int64_t id = sqlite3_column_int64(st, 6);
            int seen = 0;
            for (size_t k = 0; pass && !seen && k < m; k++)
                seen = ids[k] == id;
            if (seen)
                continue;
            ids[m] = id;
            cv_place *x = &all[m++];
            row_place(st, x);
            char name[sizeof x->name];
            fold(x->name, name, sizeof name);
            /* the name as typed from its start counts most, then a word of it */
            if (!strncmp(name, typed, tl))
                x->score += 0.3;
            else if (strstr(name, typed))
                x->score += 0.1;
            if (has_near) {
                x->distance_m = cv_distance_m(near, x->at);
                x->score -= 0.5 * x->distance_m / (x->distance_m + 3000.0);
            }
        }
        bad = rc != SQLITE_ROW && rc != SQLITE_DONE;
        sqlite3_reset(st);
    }
    free(ids);
    if (bad) {
        free(all);
        return cv_fail(err, CV_EIO, "place index: %s", sqlite3_errmsg(p->db));
    }
    if (m)
        qsort(all, m, sizeof *all, by_score);
    /* the same name at nearly the same place once */
    for (size_t i = 0; i < m && *n < (size_t)limit; i++) {
        int dup = 0;
        for (size_t j = 0; !dup && j < *n; j++)
            dup = !strcmp(out[j].name, all[i].name) && cv_distance_m(out[j].at, all[i].at) < 200;
        if (!dup)
            out[(*n)++] = all[i];
    }
    free(all);
    return 0;
}

/* The nearest place of kind (-1: any) within max_m. */
static int nearest(cv_places *p, cv_coord at, int kind, double max_m, cv_place *out, cv_error *err)
{
    double lat = cv_deg(at.lat), lon = cv_deg(at.lon);
    double dlat = max_m / 111195.0, dlon = max_m / (111195.0 * fmax(cos(lat * 3.14159265358979 / 180), 0.01));
    sqlite3_bind_double(p->box, 1, lon - dlon);
    sqlite3_bind_double(p->box, 2, lon + dlon);
    sqlite3_bind_double(p->box, 3, lat - dlat);
    sqlite3_bind_double(p->box, 4, lat + dlat);
    sqlite3_bind_int(p->box, 5, kind);
    sqlite3_bind_int(p->box, 6, kind);
    int found = 0, st;
    while ((st = sqlite3_step(p->box)) == SQLITE_ROW) {
        cv_place x;
        row_place(p->box, &x);
        x.distance_m = cv_distance_m(at, x.at);
        if (x.distance_m <= max_m && (!found || x.distance_m < out->distance_m))
            *out = x, found = 1;
    }
    int bad = st != SQLITE_DONE;
    sqlite3_reset(p->box);
    if (bad)
        return cv_fail(err, CV_EIO, "place index: %s", sqlite3_errmsg(p->db));
    return found;
}

int cv_places_nearest_address(cv_places *p, cv_coord at, double max_m, cv_place *out, cv_error *err)
{
    return nearest(p, at, CV_PLACE_ADDRESS, max_m, out, err);
}

int cv_places_nearest(cv_places *p, cv_coord at, cv_place_kind kind, double max_m, cv_place *out, cv_error *err)
{
    return nearest(p, at, (int)kind, max_m, out, err);
}

int cv_places_info_get(cv_places *p, cv_places_info *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(p->db, "SELECT key, value FROM meta", -1, &st, NULL) != SQLITE_OK)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0), *v = (const char *)sqlite3_column_text(st, 1);
        if (!k || !v)
            continue;
        if (!strcmp(k, "places"))
            out->places = (size_t)strtoull(v, NULL, 10);
        else if (!strcmp(k, "source"))
            snprintf(out->source, sizeof out->source, "%s", v);
        else if (!strcmp(k, "built"))
            snprintf(out->built, sizeof out->built, "%s", v);
    }
    sqlite3_finalize(st);
    return 0;
}
