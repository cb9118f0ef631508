/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* osm_network.c — collects routable ways, needed node locations and turn restrictions from an OSM file. */
#include "osm/osm_network.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cv_utf8.h"

typedef struct reader_ctx {
    cv_network *net;
    const cv_profile_options *opt;
    cv_progress *progress;
    cv_net_node *all; /* every node location read (pruned to needed ones at the end) */
    size_t nall, capall;
    int64_t last_node_id;
    int oom;
    uint32_t *str_hash; /* open addressing: string offset + 1, 0 for an empty slot */
    size_t str_slots, str_used;
    uint32_t *name_hash; /* name index + 1 */
    size_t name_slots, name_used;
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

static int on_node(void *ud, int64_t id, int32_t lon, int32_t lat, const cv_tag *tags, size_t ntags)
{
    reader_ctx *c = ud;
    c->net->input_nodes++;
    if (ntags) {
        cv_node_rule rule = cv_profile_node(tags, ntags);
        if (rule != CV_NODE_OPEN) {
            cv_network *net = c->net;
            if (grow((void **)&net->blocks, &net->cap_blocks, net->nblocks + 1, sizeof *net->blocks))
                return c->oom = CV_ENOMEM;
            net->blocks[net->nblocks++] = (cv_net_block){id, (uint8_t)rule};
        }
    }
    if (grow((void **)&c->all, &c->capall, c->nall + 1, sizeof *c->all))
        return c->oom = CV_ENOMEM;
    if (id <= c->last_node_id)
        c->net->input_sorted = 0;
    c->last_node_id = id;
    c->all[c->nall++] = (cv_net_node){id, lon, lat};
    return 0;
}

/* ---- street names ---- */

static uint64_t fnv1a(const void *p, size_t n, uint64_t h)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

#define FNV_SEED 14695981039346656037ull

/* Cleans a tag value into out (at least CV_NAME_MAX_BYTES + 1 bytes): malformed UTF-8 bytes dropped, control
   characters turned into spaces, spaces trimmed at both ends, cut to CV_NAME_MAX_BYTES at a character boundary. */
static size_t clean_value(const char *v, char *out)
{
    size_t n = 0, len = v ? strlen(v) : 0;
    const unsigned char *p = (const unsigned char *)v;
    for (size_t i = 0; i < len;) {
        size_t k = cv_utf8_seq(p + i, len - i);
        if (!k) {
            i++;
            continue;
        }
        if (n + k > CV_NAME_MAX_BYTES)
            break;
        if (k == 1 && (p[i] < 0x20 || p[i] == 0x7f))
            out[n++] = ' ';
        else
            memcpy(out + n, p + i, k), n += k;
        i += k;
    }
    size_t s = 0;
    while (s < n && out[s] == ' ')
        s++;
    while (n > s && out[n - 1] == ' ')
        n--;
    memmove(out, out + s, n - s);
    n -= s;
    out[n] = '\0';
    return n;
}

static int rehash(uint32_t **tab, size_t *slots, size_t want, uint64_t (*hash_of)(reader_ctx *, uint32_t),
                  reader_ctx *c)
{
    uint32_t *nt = calloc(want, sizeof *nt);
    if (!nt)
        return -1;
    for (size_t i = 0; i < *slots; i++) {
        uint32_t v = (*tab)[i];
        if (!v)
            continue;
        size_t j = hash_of(c, v - 1) & (want - 1);
        while (nt[j])
            j = (j + 1) & (want - 1);
        nt[j] = v;
    }
    free(*tab);
    *tab = nt;
    *slots = want;
    return 0;
}

static uint64_t string_hash_at(reader_ctx *c, uint32_t off)
{
    const char *s = c->net->strings + off;
    return fnv1a(s, strlen(s), FNV_SEED);
}

static uint64_t name_hash_at(reader_ctx *c, uint32_t i)
{
    return fnv1a(&c->net->names[i], sizeof c->net->names[i], FNV_SEED);
}

/* Offset of string s (n bytes) in the network's string table, added when new. */
static int intern_string(reader_ctx *c, const char *s, size_t n, uint32_t *off)
{
    cv_network *net = c->net;
    if (n == 0) {
        *off = 0;
        return 0;
    }
    if ((c->str_used + 1) * 2 > c->str_slots &&
        rehash(&c->str_hash, &c->str_slots, c->str_slots ? c->str_slots * 2 : 1024, string_hash_at, c))
        return CV_ENOMEM;
    size_t j = fnv1a(s, n, FNV_SEED) & (c->str_slots - 1);
    for (; c->str_hash[j]; j = (j + 1) & (c->str_slots - 1)) {
        const char *t = net->strings + c->str_hash[j] - 1;
        if (!strncmp(t, s, n) && t[n] == '\0') {
            *off = c->str_hash[j] - 1;
            return 0;
        }
    }
    if (net->nstrings + n + 1 >= UINT32_MAX)
        return CV_ETOOBIG;
    if (grow((void **)&net->strings, &net->cap_strings, net->nstrings + n + 1, 1))
        return CV_ENOMEM;
    *off = (uint32_t)net->nstrings;
    memcpy(net->strings + net->nstrings, s, n);
    net->strings[net->nstrings + n] = '\0';
    net->nstrings += n + 1;
    c->str_hash[j] = *off + 1;
    c->str_used++;
    return 0;
}

/* Index of the street name (name, ref, destination) in the network's names, added when new. */
static int intern_name(reader_ctx *c, const cv_net_name *nm, uint32_t *index)
{
    cv_network *net = c->net;
    if ((c->name_used + 1) * 2 > c->name_slots &&
        rehash(&c->name_hash, &c->name_slots, c->name_slots ? c->name_slots * 2 : 1024, name_hash_at, c))
        return CV_ENOMEM;
    size_t j = fnv1a(nm, sizeof *nm, FNV_SEED) & (c->name_slots - 1);
    for (; c->name_hash[j]; j = (j + 1) & (c->name_slots - 1)) {
        const cv_net_name *t = &net->names[c->name_hash[j] - 1];
        if (t->name == nm->name && t->ref == nm->ref && t->destination == nm->destination) {
            *index = c->name_hash[j] - 1;
            return 0;
        }
    }
    if (net->nnames >= UINT32_MAX - 1)
        return CV_ETOOBIG;
    if (grow((void **)&net->names, &net->cap_names, net->nnames + 1, sizeof *net->names))
        return CV_ENOMEM;
    *index = (uint32_t)net->nnames;
    net->names[net->nnames++] = *nm;
    c->name_hash[j] = *index + 1;
    c->name_used++;
    return 0;
}

static const char *tag_get(const cv_tag *tags, size_t n, const char *key);

/* The street name of a way's tags: name, ref, and destination as OSRM shows it ("destination:ref: destination"). */
static int way_name(reader_ctx *c, const cv_tag *tags, size_t ntags, uint32_t *index)
{
    char buf[CV_NAME_MAX_BYTES + 1], dref[CV_NAME_MAX_BYTES + 1], dest[2 * CV_NAME_MAX_BYTES + 8];
    cv_net_name nm = {0, 0, 0};
    size_t n = clean_value(tag_get(tags, ntags, "name"), buf);
    int rc = intern_string(c, buf, n, &nm.name);
    n = clean_value(tag_get(tags, ntags, "ref"), buf);
    if (!rc)
        rc = intern_string(c, buf, n, &nm.ref);
    size_t nr = clean_value(tag_get(tags, ntags, "destination:ref"), dref);
    size_t nd = clean_value(tag_get(tags, ntags, "destination"), buf);
    if (nr && nd)
        snprintf(dest, sizeof dest, "%s: %s", dref, buf);
    else
        snprintf(dest, sizeof dest, "%s", nr ? dref : buf);
    n = clean_value(dest, buf); /* the joined text cut back to the limit */
    if (!rc)
        rc = intern_string(c, buf, n, &nm.destination);
    if (!rc)
        rc = intern_name(c, &nm, index);
    return rc;
}

static int on_way(void *ud, int64_t id, const int64_t *refs, size_t nrefs, const cv_tag *tags, size_t ntags)
{
    reader_ctx *c = ud;
    cv_network *net = c->net;
    net->input_ways++;
    cv_way_attr attr;
    if (nrefs < 2)
        return 0;
    if (!cv_profile_way(c->opt, tags, ntags, &attr)) {
        if (attr.closed_by < CV_CLOSED_COUNT)
            net->closed_ways[attr.closed_by]++;
        return 0;
    }
    for (int b = 0; b < CV_RULE_COUNT; b++)
        if (attr.rules & (1u << b))
            net->rule_ways[b]++;
    if (nrefs > UINT32_MAX || net->nrefs + nrefs > UINT32_MAX)
        return c->oom = CV_ETOOBIG;
    if (grow((void **)&net->ways, &net->cap_ways, net->nways + 1, sizeof *net->ways) ||
        grow((void **)&net->refs, &net->cap_refs, net->nrefs + nrefs, sizeof *net->refs))
        return c->oom = CV_ENOMEM;
    uint32_t name = 0;
    int rc = way_name(c, tags, ntags, &name);
    if (rc)
        return c->oom = rc;
    const char *junction = tag_get(tags, ntags, "junction");
    uint8_t roundabout = junction && (!strcmp(junction, "roundabout") || !strcmp(junction, "circular"));
    net->ways[net->nways++] = (cv_net_way){id, (uint32_t)net->nrefs, (uint32_t)nrefs, attr, name, roundabout};
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

/* Restriction keys that bind cars, most specific first (restriction:hgv and the like do not). */
static const char *const restriction_keys[] = {"restriction:motorcar", "restriction:motor_vehicle",
                                               "restriction:vehicle", "restriction"};

/* Transport modes in `except` that exempt cars. */
static const char *const except_car[] = {"motorcar", "motor_vehicle", "vehicle"};

static int list_has(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *e = p;
        while (*e && *e != ';')
            e++;
        const char *t = e;
        while (t > p && t[-1] == ' ')
            t--;
        if ((size_t)(t - p) == n && !strncmp(p, word, n))
            return 1;
        p = e;
    }
    return 0;
}

#define MAX_PAIRS 64    /* from x to pairs of one relation (no_entry, no_exit) */
#define MAX_VIA_WAYS 32 /* via ways of one relation */

/* Is member i (a way of that role) a repeat of an earlier member? */
static int member_seen(const cv_osm_member *m, size_t i, const char *role)
{
    for (size_t k = 0; k < i; k++)
        if (m[k].type == 'w' && m[k].ref == m[i].ref && !strcmp(m[k].role, role))
            return 1;
    return 0;
}

/* The direction named by a restriction value ("no_left_turn": left). */
static uint8_t restriction_turn(const char *r)
{
    if (strstr(r, "left"))
        return CV_TURN_LEFT;
    if (strstr(r, "right"))
        return CV_TURN_RIGHT;
    if (strstr(r, "straight"))
        return CV_TURN_STRAIGHT;
    if (strstr(r, "u_turn"))
        return CV_TURN_UTURN;
    return CV_TURN_ANY;
}

/* Restrictions that bind cars: the most specific of restriction:motorcar, :motor_vehicle, :vehicle and plain
   restriction, unless `except` names a car mode. Any no_* or only_* value counts (no_entry, only_u_turn, ...).
   Via a node or via one or more ways (up to MAX_VIA_WAYS). Several from ways (no_entry) or to ways (no_exit) give
   one restriction per pair (repeated members once, at most MAX_PAIRS pairs); an only_* with several to ways is
   malformed. */
static int on_relation(void *ud, int64_t id, const cv_osm_member *m, size_t nm, const cv_tag *tags, size_t ntags)
{
    reader_ctx *c = ud;
    cv_network *net = c->net;
    net->input_relations++;
    const char *type = tag_get(tags, ntags, "type");
    if (!type || strcmp(type, "restriction") != 0)
        return 0;
    const char *r = NULL;
    for (size_t i = 0; i < sizeof restriction_keys / sizeof restriction_keys[0] && !r; i++)
        r = tag_get(tags, ntags, restriction_keys[i]);
    if (!r)
        return 0;
    const char *except = tag_get(tags, ntags, "except");
    for (size_t i = 0; i < sizeof except_car / sizeof except_car[0]; i++)
        if (list_has(except, except_car[i]))
            return 0;
    /* no_turn_on_red, no_right_turn_on_red: a rule about red lights, not a restriction on the route */
    size_t rn = strlen(r);
    if (rn > 7 && !strcmp(r + rn - 7, "_on_red"))
        return 0;
    uint8_t kind;
    if (strncmp(r, "no_", 3) == 0)
        kind = CV_RESTR_NO;
    else if (strncmp(r, "only_", 5) == 0)
        kind = CV_RESTR_ONLY;
    else
        return 0;
    size_t nfrom = 0, nto = 0, nvia_node = 0, nvia_way = 0;
    int64_t via_node = 0;
    for (size_t i = 0; i < nm; i++) {
        if (!strcmp(m[i].role, "from") && m[i].type == 'w')
            nfrom++;
        else if (!strcmp(m[i].role, "to") && m[i].type == 'w')
            nto++;
        else if (!strcmp(m[i].role, "via") && m[i].type == 'n')
            nvia_node++, via_node = m[i].ref;
        else if (!strcmp(m[i].role, "via") && m[i].type == 'w')
            nvia_way++;
    }
    /* no_entry and no_exit name several from or to ways: one restriction per pair, a bounded number of them */
    /* node id 0 is no OSM node (negative ids are, in files not uploaded yet), and via_node 0 means "via ways" */
    int bad = nfrom == 0 || nto == 0 || (nvia_node == 1) == (nvia_way > 0) || nvia_node > 1 ||
              (nvia_node == 1 && via_node == 0) || (kind == CV_RESTR_ONLY && nto > 1) ||
              (nvia_way && (nfrom > 1 || nto > 1)) || nfrom * nto > MAX_PAIRS || nvia_way > MAX_VIA_WAYS;
    if (bad) {
        net->restrictions_skipped++;
        return 0;
    }
    uint32_t via_first = (uint32_t)net->nvia_ways;
    if (nvia_way) {
        if (grow((void **)&net->via_ways, &net->cap_via_ways, net->nvia_ways + nvia_way, sizeof *net->via_ways))
            return c->oom = CV_ENOMEM;
        for (size_t i = 0; i < nm; i++)
            if (!strcmp(m[i].role, "via") && m[i].type == 'w')
                net->via_ways[net->nvia_ways++] = m[i].ref;
        net->restrictions_via_way++;
    }
    for (size_t i = 0; i < nm; i++) {
        if (strcmp(m[i].role, "from") || m[i].type != 'w' || member_seen(m, i, "from"))
            continue;
        for (size_t k = 0; k < nm; k++) {
            if (strcmp(m[k].role, "to") || m[k].type != 'w' || member_seen(m, k, "to"))
                continue;
            if (grow((void **)&net->restrictions, &net->cap_restrictions, net->nrestrictions + 1,
                     sizeof *net->restrictions))
                return c->oom = CV_ENOMEM;
            net->restrictions[net->nrestrictions++] = (cv_net_restriction){
                m[i].ref, m[k].ref, via_node, via_first, (uint32_t)nvia_way, id, kind, restriction_turn(r)};
        }
    }
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

static int cmp_block(const void *a, const void *b)
{
    int64_t x = ((const cv_net_block *)a)->id, y = ((const cv_net_block *)b)->id;
    return (x > y) - (x < y);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The element of id in an array of n elements of `size` bytes sorted by an int64_t id at their start, or NULL. */
static const void *find_by_id(const void *arr, size_t n, size_t size, int64_t id)
{
    const char *a = arr;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (*(const int64_t *)(a + mid * size) < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && *(const int64_t *)(a + lo * size) == id ? a + lo * size : NULL;
}

const cv_net_node *cv_network_node(const cv_network *net, int64_t id)
{
    return find_by_id(net->nodes, net->nnodes, sizeof *net->nodes, id);
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
    /* blocked nodes: sorted, unique, and only those a routable way uses */
    if (net->nblocks)
        qsort(net->blocks, net->nblocks, sizeof *net->blocks, cmp_block);
    size_t nb = 0;
    for (size_t i = 0; i < net->nblocks; i++)
        if ((nb == 0 || net->blocks[nb - 1].id != net->blocks[i].id) && cv_network_node(net, net->blocks[i].id))
            net->blocks[nb++] = net->blocks[i];
    net->nblocks = nb;
    return 0;
}

const cv_net_block *cv_network_block(const cv_network *net, int64_t id)
{
    return find_by_id(net->blocks, net->nblocks, sizeof *net->blocks, id);
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
    /* the empty string and the unnamed street come first, whatever the input */
    uint32_t unnamed;
    cv_net_name none = {0, 0, 0};
    int bad = grow((void **)&out->strings, &out->cap_strings, 1, 1);
    if (!bad) {
        out->strings[0] = '\0';
        out->nstrings = 1;
        bad = intern_name(&c, &none, &unnamed);
    }
    if (bad) {
        free(c.name_hash);
        cv_network_free(out);
        return cv_fail(err, CV_ENOMEM, "%s: out of memory while reading", path);
    }
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
    free(c.str_hash);
    free(c.name_hash);
    if (rc != 0) {
        if (err && rc == CV_ENOMEM)
            cv_fail(err, rc, "%s: out of memory while reading", path);
        else if (err && rc == CV_ETOOBIG)
            cv_fail(err, rc, "%s: too many way nodes or street names for one graph (over 4 billion)", path);
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
    free(net->via_ways);
    free(net->blocks);
    free(net->strings);
    free(net->names);
    memset(net, 0, sizeof *net);
}
