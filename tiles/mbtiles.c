/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* mbtiles.c — reading an MBTiles file (mbtiles.h): the metadata once, then one indexed lookup per tile. */
#include "tiles/mbtiles.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cv_mbtiles {
    sqlite3 *db;
    sqlite3_stmt *get;
};

void cv_mbtiles_close(cv_mbtiles *t)
{
    if (!t)
        return;
    sqlite3_finalize(t->get);
    sqlite3_close(t->db);
    free(t);
}

int cv_mbtiles_open(const char *path, cv_mbtiles **out, cv_mbtiles_info *info, cv_error *err)
{
    *out = NULL;
    cv_mbtiles *t = calloc(1, sizeof *t);
    if (!t)
        return cv_fail(err, CV_ENOMEM, "out of memory");
    if (sqlite3_open_v2(path, &t->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        int rc =
            cv_fail(err, CV_EIO, "cannot open the tiles %s: %s", path, t->db ? sqlite3_errmsg(t->db) : "out of memory");
        cv_mbtiles_close(t);
        return rc;
    }
    memset(info, 0, sizeof *info);
    info->maxzoom = -1;
    sqlite3_stmt *st = NULL;
    int rows = 0;
    if (sqlite3_prepare_v2(t->db, "SELECT name, value FROM metadata", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *k = (const char *)sqlite3_column_text(st, 0), *v = (const char *)sqlite3_column_text(st, 1);
            rows++;
            if (!k || !v)
                continue;
            if (!strcmp(k, "minzoom"))
                info->minzoom = atoi(v);
            else if (!strcmp(k, "maxzoom"))
                info->maxzoom = atoi(v);
            else if (!strcmp(k, "name"))
                snprintf(info->name, sizeof info->name, "%s", v);
            else if (!strcmp(k, "format"))
                snprintf(info->format, sizeof info->format, "%s", v);
            else if (!strcmp(k, "bounds"))
                sscanf(v, "%lf,%lf,%lf,%lf", &info->bounds[0], &info->bounds[1], &info->bounds[2], &info->bounds[3]);
        }
    }
    sqlite3_finalize(st);
    if (!rows || strcmp(info->format, "pbf") || info->maxzoom < info->minzoom || info->maxzoom > 24 ||
        sqlite3_prepare_v2(t->db,
                           "SELECT tile_data FROM tiles WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3",
                           -1, &t->get, NULL) != SQLITE_OK) {
        cv_mbtiles_close(t);
        return cv_fail(err, CV_EFORMAT, "%s is not MBTiles of vector tiles (metadata format pbf, a tiles table)", path);
    }
    *out = t;
    return 0;
}

int cv_mbtiles_get(cv_mbtiles *t, int z, int x, int y, unsigned char **data, size_t *len, cv_error *err)
{
    *data = NULL;
    *len = 0;
    if (z < 0 || z > 30 || x < 0 || y < 0 || x >= (1 << z) || y >= (1 << z))
        return 0;
    sqlite3_bind_int(t->get, 1, z);
    sqlite3_bind_int(t->get, 2, x);
    sqlite3_bind_int(t->get, 3, (1 << z) - 1 - y); /* MBTiles rows count from the south (TMS) */
    int rc = 0, st = sqlite3_step(t->get);
    if (st == SQLITE_ROW) {
        int n = sqlite3_column_bytes(t->get, 0);
        const void *blob = sqlite3_column_blob(t->get, 0);
        *data = malloc(n > 0 ? (size_t)n : 1);
        if (!*data) {
            rc = cv_fail(err, CV_ENOMEM, "out of memory");
        } else {
            if (n > 0)
                memcpy(*data, blob, (size_t)n);
            *len = (size_t)n;
            rc = 1;
        }
    } else if (st != SQLITE_DONE) {
        rc = cv_fail(err, CV_EIO, "tiles: %s", sqlite3_errmsg(t->db));
    }
    sqlite3_reset(t->get);
    return rc;
}
