/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* tiles_api.c — GET /tiles/{z}/{x}/{y}.pbf: the map's own vector tiles, from the MBTiles file made from the same
   extract (tiles/mbtiles.h), sent as stored (gzip) with their content type, an ETag and a day of caching; a tile
   the file does not hold is an empty 204, as tile servers answer for the sea. No key needed: the page needs them
   and they are the extract's public OpenStreetMap data. docs/API.md, "Map tiles". */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tiles/mbtiles.h"
#include "web/osrm_json.h"
#include "web/web_int.h"

/* "z/x/y.pbf" into its numbers; -1 when it is not that. */
static int tile_path(const char *p, int *z, int *x, int *y)
{
    int used = 0;
    if (sscanf(p, "%d/%d/%d.pbf%n", z, x, y, &used) != 3 || p[used] || *z < 0 || *x < 0 || *y < 0)
        return -1;
    return 0;
}

int web_tiles(web_req *r)
{
    int z, x, y;
    if (!r->tiles)
        return web_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND),
                         "no map tiles on this server (scripts/run.sh makes them with tilemaker; covoit serve "
                         "--tiles FILE.mbtiles)");
    if (r->nargs)
        return web_error(r, MHD_HTTP_BAD_REQUEST, osrm_word(OSRM_INVALID_QUERY), "/tiles/ takes no parameters");
    if (tile_path(r->rest, &z, &x, &y))
        return web_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND),
                         "no such tile: %.100s (/tiles/{z}/{x}/{y}.pbf)", r->path);
    if (z > 30 || x >= (1 << z) || y >= (1 << z))
        return web_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND), "no tile %d/%d/%d: off the world", z, x, y);
    unsigned char *data = NULL;
    size_t len = 0;
    cv_error err = {0};
    pthread_mutex_lock(r->tiles_mu);
    int rc = cv_mbtiles_get(r->tiles, z, x, y, &data, &len, &err);
    pthread_mutex_unlock(r->tiles_mu);
    if (rc < 0)
        return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_word(OSRM_ERROR), "%s", err.text);
    r->cache_control = "public, max-age=86400";
    if (rc == 0 || len == 0) { /* nothing drawn there */
        free(data);
        r->status = MHD_HTTP_NO_CONTENT;
        r->text = calloc(1, 1);
        r->content_type = "application/vnd.mapbox-vector-tile";
        return r->text ? 0 : -1;
    }
    /* the ETag: FNV-1a of the bytes, which change only when the tiles are made again */
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ data[i]) * 1099511628211ULL;
    snprintf(r->etag, sizeof r->etag, "\"%016llx\"", (unsigned long long)h);
    if (r->if_none_match && !strcmp(r->if_none_match, r->etag)) {
        free(data);
        r->status = MHD_HTTP_NOT_MODIFIED;
        r->text = calloc(1, 1);
        r->content_type = "application/vnd.mapbox-vector-tile";
        return r->text ? 0 : -1;
    }
    r->status = MHD_HTTP_OK;
    r->text = (char *)data;
    r->text_len = len;
    r->content_type = "application/vnd.mapbox-vector-tile";
    if (len >= 2 && data[0] == 0x1f && data[1] == 0x8b)
        r->content_encoding = "gzip"; /* as tilemaker stores them; every browser takes it */
    return 0;
}
