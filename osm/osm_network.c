/* osm_network.c — collects routable ways, needed node locations and turn restrictions from an OSM file. */
#include "osm_network.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct reader_ctx {
    cv_network *net;
    const cv_profile_options *opt;
    cv_progress *progress;
    cv_net_node *all;      /* every node location read (pruned to needed ones at the end) */
    size_t nall, capall;
    int64_t last_node_id;
    int oom;
} reader_ctx;

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 1024;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = nc;
    return 0;
}

static int on_node(void *ud, int64_t id, int32_t lon, int32_t lat)
{
    reader_ctx *c = ud;
    c->net->input_nodes++;
    if (grow((void **)&c->all, &c->capall, c->nall + 1, sizeof *c->all))
        return c->oom = CV_ENOMEM;
    if (id <= c->last_node_id)
        c->net->input_sorted = 0;
    c->last_node_id = id;
    c->all[c->nall++] = (cv_net_node){id, lon, lat};
    return 0;
}

static int on_way(void *ud, int64_t id, const int64_t *refs, size_t nrefs, const cv_tag *tags, size_t ntags)
{
    reader_ctx *c = ud;
    cv_network *net = c->net;
    net->input_ways++;
    cv_way_attr attr;
    if (nrefs < 2 || !cv_profile_way(c->opt, tags, ntags, &attr))
        return 0;
    if (nrefs > UINT32_MAX || net->nrefs + nrefs > UINT32_MAX)
        return c->oom = CV_ETOOBIG;
    if (grow((void **)&net->ways, &net->cap_ways, net->nways + 1, sizeof *net->ways) ||
        grow((void **)&net->refs, &net->cap_refs, net->nrefs + nrefs, sizeof *net->refs))
        return c->oom = CV_ENOMEM;
    net->ways[net->nways++] = (cv_net_way){id, (uint32_t)net->nrefs, (uint32_t)nrefs, attr};
    memcpy(net->refs + net->nrefs, refs, nrefs * sizeof *refs);
    net->nrefs += nrefs;
    return 0;
}

static const char *tag_get(const cv_tag *tags, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (tags[i].key && strcmp(tags[i].key, key) == 0)
            return tags[i].value;
    return NULL;
}

/* Restrictions that bind cars: restriction=* or restriction:motorcar=* (the latter wins), minus `except` for
   motorcar. Only via-node restrictions are kept; via-way ones are counted as skipped. */
static int on_relation(void *ud, int64_t id, const cv_osm_member *m, size_t nm, const cv_tag *tags, size_t ntags)
{
    reader_ctx *c = ud;
    cv_network *net = c->net;
    net->input_relations++;
    const char *type = tag_get(tags, ntags, "type");
    if (!type || strcmp(type, "restriction") != 0)
        return 0;
    const char *r = tag_get(tags, ntags, "restriction:motorcar");
    if (!r)
        r = tag_get(tags, ntags, "restriction");
    if (!r)
        return 0;
    const char *except = tag_get(tags, ntags, "except");
    if (except && (strstr(except, "motorcar") || strstr(except, "motor_vehicle")))
        return 0;
    uint8_t kind;
    if (strncmp(r, "no_", 3) == 0)
        kind = CV_RESTR_NO;
    else if (strncmp(r, "only_", 5) == 0)
        kind = CV_RESTR_ONLY;
    else
        return 0;
    int64_t from = 0, to = 0, via = 0;
    int nfrom = 0, nto = 0, nvia = 0, via_is_way = 0;
    for (size_t i = 0; i < nm; i++) {
        if (strcmp(m[i].role, "from") == 0 && m[i].type == 'w') {
            from = m[i].ref;
            nfrom++;
        } else if (strcmp(m[i].role, "to") == 0 && m[i].type == 'w') {
            to = m[i].ref;
            nto++;
        } else if (strcmp(m[i].role, "via") == 0) {
            if (m[i].type == 'n') {
                via = m[i].ref;
                nvia++;
            } else {
                via_is_way = 1;
            }
        }
    }
    if (via_is_way || nfrom != 1 || nto != 1 || nvia != 1) {
        net->restrictions_skipped++;
        return 0;
    }
    if (grow((void **)&net->restrictions, &net->cap_restrictions, net->nrestrictions + 1,
             sizeof *net->restrictions))
        return c->oom = CV_ENOMEM;
    net->restrictions[net->nrestrictions++] = (cv_net_restriction){from, via, to, id, kind};
    return 0;
}

static void on_progress(void *ud, uint64_t done, uint64_t total)
{
    reader_ctx *c = ud;
    if (c->progress)
        cv_progress_update(c->progress, done, total);
}

static int cmp_node(const void *a, const void *b)
{
    int64_t x = ((const cv_net_node *)a)->id, y = ((const cv_net_node *)b)->id;
    return (x > y) - (x < y);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

const cv_net_node *cv_network_node(const cv_network *net, int64_t id)
{
    size_t lo = 0, hi = net->nnodes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (net->nodes[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < net->nnodes && net->nodes[lo].id == id ? &net->nodes[lo] : NULL;
}

/* Keeps only the locations of nodes that routable ways reference: a sorted unique list of referenced ids is
   merged against the (sorted) list of all locations. */
static int keep_needed_nodes(reader_ctx *c)
{
    cv_network *net = c->net;
    if (!net->input_sorted)
        qsort(c->all, c->nall, sizeof *c->all, cmp_node);
    int64_t *ids = malloc((net->nrefs ? net->nrefs : 1) * sizeof *ids);
    if (!ids)
        return CV_ENOMEM;
    if (net->nrefs > 0)
        memcpy(ids, net->refs, net->nrefs * sizeof *ids);
    qsort(ids, net->nrefs, sizeof *ids, cmp_i64);
    size_t nu = 0;
    for (size_t i = 0; i < net->nrefs; i++)
        if (nu == 0 || ids[nu - 1] != ids[i])
            ids[nu++] = ids[i];
    net->nodes = malloc((nu ? nu : 1) * sizeof *net->nodes);
    if (!net->nodes) {
        free(ids);
        return CV_ENOMEM;
    }
    size_t j = 0, k = 0;
    for (size_t i = 0; i < nu; i++) {
        while (j < c->nall && c->all[j].id < ids[i])
            j++;
        if (j < c->nall && c->all[j].id == ids[i])
            net->nodes[k++] = c->all[j];
    }
    net->nnodes = k;
    net->cap_nodes = nu;
    free(ids);
    return 0;
}

int cv_network_read(const char *path, const cv_profile_options *opt, cv_progress *progress, cv_network *out,
                    cv_error *err)
{
    memset(out, 0, sizeof *out);
    out->input_sorted = 1;
    FILE *probe = fopen(path, "rb");
    if (!probe)
        return cv_fail(err, CV_EIO, "%s: cannot open: %s", path, strerror(errno));
    fclose(probe);
    reader_ctx c = {.net = out, .opt = opt, .progress = progress, .last_node_id = INT64_MIN};
    cv_osm_handler h = {&c, on_node, on_way, on_relation, on_progress};
    if (progress)
        cv_progress_phase(progress, "reading OSM");
    int rc = cv_osm_read(path, &h, &out->header, err);
    if (rc == 0 && c.oom)
        rc = c.oom;
    if (rc == 0) {
        if (progress)
            cv_progress_phase(progress, out->input_sorted ? "collecting locations" : "sorting locations");
        rc = keep_needed_nodes(&c);
    }
    free(c.all);
    if (rc != 0) {
        if (err && rc == CV_ENOMEM)
            cv_fail(err, rc, "%s: out of memory while reading", path);
        else if (err && rc == CV_ETOOBIG)
            cv_fail(err, rc, "%s: too many way nodes for one graph (over 4 billion)", path);
        cv_network_free(out);
        return rc;
    }
    return 0;
}

void cv_network_free(cv_network *net)
{
    if (!net)
        return;
    free(net->ways);
    free(net->refs);
    free(net->nodes);
    free(net->restrictions);
    memset(net, 0, sizeof *net);
}
