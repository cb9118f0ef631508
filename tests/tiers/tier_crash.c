/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* tier_crash.c — the crash tier: `covoit serve --db FILE` as a real process under write load, killed with SIGKILL
   at a random moment, again and again, then stopped cleanly. Client threads create offers, requests and bookings,
   accept them and cancel some (a booking, its request or its offer, by DELETE or POST .../cancel) as fast as they
   can, and record every write the server acknowledged (a 2xx answer, with its id and content). After each restart
   on the same database every acknowledged write must be there, read back by GET with the same content and the
   state its later acknowledged writes gave it; no write is there twice (each trip carries a unique owner, each
   booking a unique offer and request); a write whose answer was lost to the kill may be there or not, at most
   once. After the final clean stop the database is opened with SQLite directly: PRAGMA integrity_check "ok", no
   dangling foreign key, no booking twice, a pickup and a drop-off stop for each accepted booking and none for
   the others.

   usage: tier_crash [--kills N] [--threads N] [--min-ms MS] [--max-ms MS] [--seed S] [--name STEM]
   Prints the writes acknowledged, found and lost (always 0 when it passes) and the kills. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>

#include "tier_support.h"

#define NAME "tier_crash"

static char graph[1024], db_path[1024], err_path[1024];
static char depart_day[16];
static atomic_int killing; /* set just before kill -9: an unanswered request is then expected */

/* A write's outcome as the client knows it: not made, acknowledged, unanswered (the kill came first), or
   unanswered and found written after the restart (a trip then counts as stored). */
typedef enum known { K_NONE, K_ACKED, K_UNKNOWN, K_FOUND } known;

/* What the clients wrote for one trip unit: an offer, a request on its way, a booking of one on the other, its
   acceptance, and at last perhaps a cancellation. Only its thread touches it while the server runs; the main
   thread reads it once the threads are joined. */
typedef struct unit {
    char tag[48]; /* "eE-tT-N": owners are tag-o and tag-r, unique in the run */
    known offer, request, booking, accept, cancel;
    int cancel_what; /* 1 the booking, 2 the request, 3 the offer */
    int64_t offer_id, request_id, booking_id;
    json_t *offer_json, *request_json, *booking_json; /* the last acknowledged content */
} unit;

typedef struct worker {
    pthread_t th;
    int index, epoch;
    uint16_t port;
    uint64_t rng;
    unit *units;
    size_t n, cap;
    long acked[5]; /* offers, requests, bookings, accepts, cancels acknowledged */
    long unknown;  /* writes sent whose answer the kill took */
} worker;

static const char *const write_names[5] = {"offers", "requests", "bookings", "accepts", "cancels"};

/* One write: 2xx is acknowledged (its JSON member `member` kept in *keep), no answer after the request went out
   (only while killing) is unknown; anything else fails the tier. */
static known do_write(worker *w, tier_conn *c, const char *method, const char *path, const char *body, int okstatus,
                      const char *member, json_t **keep, int what)
{
    tier_reply r = tier_http(c, method, path, NULL, body);
    if (r.status == okstatus) {
        json_t *v = json_object_get(r.json, member);
        TIER_CHECK(json_is_object(v), "%s %s: no %s in %s", method, path, member, r.body);
        json_decref(*keep);
        *keep = json_incref(v);
        w->acked[what]++;
        tier_reply_free(&r);
        return K_ACKED;
    }
    if (r.status == 0 && atomic_load(&killing)) {
        int sent = r.sent;
        tier_reply_free(&r);
        if (!sent)
            return K_NONE; /* never reached the server */
        w->unknown++;
        return K_UNKNOWN;
    }
    tier_fail("%s %s %s: status %d (expected %d) before any kill: %s", method, path, body ? body : "", r.status,
              okstatus, r.body ? r.body : "(no answer)");
}

static int64_t id_of(const json_t *obj)
{
    return (int64_t)json_integer_value(json_object_get(obj, "id"));
}

static void *work(void *arg)
{
    worker *w = arg;
    tier_conn c = tier_conn_make(w->port, NULL);
    for (long seq = 0;; seq++) {
        if (w->n == w->cap) {
            w->cap = w->cap ? 2 * w->cap : 256;
            w->units = realloc(w->units, w->cap * sizeof *w->units);
            TIER_CHECK(w->units != NULL, "out of memory");
        }
        unit *u = &w->units[w->n++];
        memset(u, 0, sizeof *u);
        snprintf(u->tag, sizeof u->tag, "e%d-t%d-%ld", w->epoch, w->index, seq);
        int minute = (int)(tier_rand(&w->rng) % 30), seats = 2 + (int)(tier_rand(&w->rng) % 7);
        char body[512], path[96];
        snprintf(body, sizeof body,
                 "{\"from\":[7.4275,43.7396],\"to\":[7.4160,43.7290],\"depart\":\"%sT08:%02d:00Z\",\"margin_min\":30,"
                 "\"seats\":%d,\"owner\":\"%s-o\"}",
                 depart_day, minute, seats, u->tag);
        if ((u->offer = do_write(w, &c, "POST", "/v1/offers", body, 201, "offer", &u->offer_json, 0)) != K_ACKED)
            break;
        u->offer_id = id_of(u->offer_json);
        snprintf(body, sizeof body,
                 "{\"from\":[7.422055,43.737749],\"to\":[7.416246,43.73148],\"depart\":\"%sT08:%02d:00Z\","
                 "\"margin_min\":30,\"owner\":\"%s-r\"}",
                 depart_day, minute + 5, u->tag);
        u->request = do_write(w, &c, "POST", "/v1/requests", body, 201, "request", &u->request_json, 1);
        if (u->request != K_ACKED)
            break;
        u->request_id = id_of(u->request_json);
        snprintf(body, sizeof body, "{\"offer_id\":%lld,\"request_id\":%lld}", (long long)u->offer_id,
                 (long long)u->request_id);
        u->booking = do_write(w, &c, "POST", "/v1/bookings", body, 201, "booking", &u->booking_json, 2);
        if (u->booking != K_ACKED)
            break;
        u->booking_id = id_of(u->booking_json);
        snprintf(path, sizeof path, "/v1/bookings/%lld/accept", (long long)u->booking_id);
        if ((u->accept = do_write(w, &c, "POST", path, NULL, 200, "booking", &u->booking_json, 3)) != K_ACKED)
            break;
        /* then a quarter keep it all, a quarter cancel the booking, the request or the offer */
        int what = (int)(tier_rand(&w->rng) % 4), by_delete = (int)(tier_rand(&w->rng) % 2);
        if (!what)
            continue;
        u->cancel_what = what;
        known k;
        if (what == 1) {
            snprintf(path, sizeof path, "/v1/bookings/%lld/cancel", (long long)u->booking_id);
            k = do_write(w, &c, "POST", path, NULL, 200, "booking", &u->booking_json, 4);
        } else {
            const char *kind = what == 2 ? "requests" : "offers";
            int64_t id = what == 2 ? u->request_id : u->offer_id;
            if (by_delete)
                snprintf(path, sizeof path, "/v1/%s/%lld", kind, (long long)id);
            else
                snprintf(path, sizeof path, "/v1/%s/%lld/cancel", kind, (long long)id);
            k = do_write(w, &c, by_delete ? "DELETE" : "POST", path, NULL, 200, what == 2 ? "request" : "offer",
                         what == 2 ? &u->request_json : &u->offer_json, 4);
        }
        u->cancel = k;
        if (k != K_ACKED)
            break;
    }
    tier_conn_close(&c);
    return NULL;
}

/* --- checking what the restarted server holds --- */

/* Every member of want but those named in skip (NULL-terminated) is in got with an equal value. */
static void expect_members(const json_t *want, const json_t *got, const char *const *skip, const char *what)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)want, key, v)
    {
        int skipped = 0;
        for (const char *const *s = skip; s && *s && !skipped; s++)
            skipped = !strcmp(*s, key);
        if (skipped)
            continue;
        if (!json_equal(v, json_object_get(got, key))) {
            char *a = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
            char *b = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
            tier_fail("%s: '%s' differs after the restart\n  acknowledged: %s\n  read back:    %s", what, key, a, b);
        }
    }
}

static const char *status_of(const json_t *obj)
{
    const char *s = json_string_value(json_object_get(obj, "status"));
    return s ? s : "";
}

/* GET path: 200 and its member. */
static json_t *get_one(tier_conn *c, const char *path, const char *member)
{
    tier_reply r = tier_http(c, "GET", path, NULL, NULL);
    TIER_CHECK(r.status == 200, "GET %s after the restart: status %d: %s (an acknowledged write is lost)", path,
               r.status, r.body ? r.body : "");
    json_t *v = json_incref(json_object_get(r.json, member));
    tier_reply_free(&r);
    TIER_CHECK(json_is_object(v), "GET %s: no %s", path, member);
    return v;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* How many times owner occurs in the sorted owners (0 or 1 when the tier passes). */
static int occurrences(char **owners, size_t n, const char *owner)
{
    char **at = bsearch(&owner, owners, n, sizeof *owners, cmp_str);
    if (!at)
        return 0;
    while (at > owners && !strcmp(at[-1], owner))
        at--;
    int k = 0;
    while (at + k < owners + n && !strcmp(at[k], owner))
        k++;
    return k;
}

/* The owners of every offer or request the server lists (all statuses), sorted; fails on one listed twice or on
   one no client wrote. */
static char **list_owners(tier_conn *c, const char *kind, size_t *n, json_t **doc)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/%s?all=true", kind);
    tier_reply r = tier_http(c, "GET", path, NULL, NULL);
    TIER_CHECK(r.status == 200, "GET %s: status %d", path, r.status);
    *doc = json_incref(json_object_get(r.json, kind));
    tier_reply_free(&r);
    *n = json_array_size(*doc);
    char **owners = malloc((*n + 1) * sizeof *owners);
    TIER_CHECK(owners != NULL, "out of memory");
    for (size_t i = 0; i < *n; i++) {
        const char *o = json_string_value(json_object_get(json_array_get(*doc, i), "owner"));
        TIER_CHECK(o && o[0] == 'e', "%s: an owner no client wrote: %s", kind, o ? o : "(none)");
        owners[i] = (char *)o;
    }
    qsort(owners, *n, sizeof *owners, cmp_str);
    for (size_t i = 1; i < *n; i++)
        TIER_CHECK(strcmp(owners[i - 1], owners[i]), "%s: %s is there twice after a restart", kind, owners[i]);
    return owners;
}

typedef struct tally {
    long found, lost, unknown_found, unknown_absent;
} tally;

/* Checks a trip (offer or request) of u against the server, and settles what the kill left unknown. */
static void check_trip(tier_conn *c, unit *u, int is_offer, char **owners, size_t n, tally *t)
{
    char owner[64], path[96];
    snprintf(owner, sizeof owner, "%s-%c", u->tag, is_offer ? 'o' : 'r');
    known *k = is_offer ? &u->offer : &u->request;
    int present = occurrences(owners, n, owner);
    if (*k == K_UNKNOWN) {
        /* its answer was lost: it may have been written, once; from now on it is what it is */
        present ? t->unknown_found++ : t->unknown_absent++;
        *k = present ? K_FOUND : K_NONE;
        return;
    }
    if (*k == K_FOUND)
        TIER_CHECK(present, "%s (written though unanswered, found after an earlier restart) is gone", owner);
    if (*k != K_ACKED)
        return;
    if (!present) {
        t->lost++;
        tier_fail("%s %lld (owner %s) was acknowledged and is not listed after the restart",
                  is_offer ? "offer" : "request", (long long)(is_offer ? u->offer_id : u->request_id), owner);
    }
    snprintf(path, sizeof path, "/v1/%s/%lld", is_offer ? "offers" : "requests",
             (long long)(is_offer ? u->offer_id : u->request_id));
    json_t *got = get_one(c, path, is_offer ? "offer" : "request");
    json_t **want = is_offer ? &u->offer_json : &u->request_json;
    int mine = u->cancel_what == (is_offer ? 3 : 2);
    const char *st = status_of(got);
    if (mine && u->cancel == K_UNKNOWN) {
        TIER_CHECK(!strcmp(st, "open") || !strcmp(st, "cancelled"), "%s: status %s", path, st);
    } else {
        const char *expected = mine && u->cancel == K_ACKED ? "cancelled" : "open";
        TIER_CHECK(!strcmp(st, expected), "%s: status %s after the restart, acknowledged %s", path, st, expected);
    }
    static const char *const skip_status[] = {"status", NULL};
    expect_members(*want, got, skip_status, path);
    json_decref(*want);
    *want = got; /* settled: later restarts compare with this */
    t->found++;
}

/* Checks u's booking: its acknowledged content, and the status its acknowledged accept and cancellations gave it
   (cancelling the request or the offer cancels the booking with it). */
static void check_booking(tier_conn *c, unit *u, tally *t)
{
    char path[96];
    if (u->booking == K_UNKNOWN) {
        /* look for it on the offer: at most one booking of this request */
        snprintf(path, sizeof path, "/v1/offers/%lld", (long long)u->offer_id);
        json_t *offer = get_one(c, path, "offer");
        int k = 0;
        size_t i;
        json_t *b;
        json_array_foreach(json_object_get(offer, "bookings"), i, b) k +=
            json_integer_value(json_object_get(b, "request_id")) == u->request_id;
        json_decref(offer);
        TIER_CHECK(k <= 1, "request %lld has %d bookings on offer %lld", (long long)u->request_id, k,
                   (long long)u->offer_id);
        k ? t->unknown_found++ : t->unknown_absent++;
        u->booking = K_NONE;
        return;
    }
    if (u->booking != K_ACKED)
        return;
    snprintf(path, sizeof path, "/v1/bookings/%lld", (long long)u->booking_id);
    json_t *got = get_one(c, path, "booking");
    const char *st = status_of(got);
    int cancelled = u->cancel_what && u->cancel == K_ACKED, maybe_cancelled = u->cancel_what && u->cancel == K_UNKNOWN;
    const char *before = u->accept == K_ACKED ? "accepted" : "pending";
    int ok = !strcmp(st, cancelled ? "cancelled" : before) || (maybe_cancelled && !strcmp(st, "cancelled")) ||
             (u->accept == K_UNKNOWN && !cancelled && !strcmp(st, "accepted"));
    TIER_CHECK(ok, "%s: status %s after the restart (accept %s, cancel %s)", path, st,
               u->accept == K_ACKED     ? "acknowledged"
               : u->accept == K_UNKNOWN ? "unanswered"
                                        : "not sent",
               cancelled         ? "acknowledged"
               : maybe_cancelled ? "unanswered"
                                 : "none");
    /* acceptance may move the pickup and drop-off: compare them only when the status is the acknowledged one */
    static const char *const skip_changed[] = {"status", "updated", NULL};
    static const char *const skip_placed[] = {"status", "updated", "pickup", "dropoff", "contribution", "dates", NULL};
    /* an unanswered acceptance happened whole or not at all: still pending, the booking is as created (not placed
       again: regression of a kill between placing and accepting, 2ddccd5); accepted, it was placed anew */
    int same_state = !strcmp(st, status_of(u->booking_json));
    int placed_unseen = u->accept == K_UNKNOWN && !strcmp(st, "accepted");
    expect_members(u->booking_json, got, same_state ? NULL : placed_unseen ? skip_placed : skip_changed, path);
    if (u->accept == K_UNKNOWN) {
        u->accept = !strcmp(st, "pending") ? K_NONE : K_ACKED;
        u->accept == K_ACKED ? t->unknown_found++ : t->unknown_absent++;
    }
    if (maybe_cancelled) {
        u->cancel = !strcmp(st, "cancelled") ? K_ACKED : K_NONE;
        u->cancel == K_ACKED ? t->unknown_found++ : t->unknown_absent++;
    }
    json_decref(u->booking_json);
    u->booking_json = got;
    t->found++;
}

/* Every unit of every epoch so far against the restarted server. */
static void check_all(uint16_t port, worker **epochs, int nepochs, int nthreads, tally *t)
{
    tier_conn c = tier_conn_make(port, NULL);
    json_t *offers, *requests;
    size_t no, nr;
    char **oo = list_owners(&c, "offers", &no, &offers), **ro = list_owners(&c, "requests", &nr, &requests);
    long stored_offers = 0, stored_requests = 0;
    for (int e = 0; e < nepochs; e++)
        for (int i = 0; i < nthreads; i++)
            for (size_t k = 0; k < epochs[e][i].n; k++) {
                unit *u = &epochs[e][i].units[k];
                /* a cancellation without answer settles on the booking (it may have cascaded there) */
                known cancel_before = u->cancel;
                check_trip(&c, u, 1, oo, no, t);
                check_trip(&c, u, 0, ro, nr, t);
                if (u->cancel_what >= 2 && cancel_before == K_UNKNOWN) {
                    /* the trip's status says whether the cancellation happened */
                    const json_t *trip = u->cancel_what == 3 ? u->offer_json : u->request_json;
                    if ((u->cancel_what == 3 ? u->offer : u->request) == K_ACKED) {
                        u->cancel = !strcmp(status_of(trip), "cancelled") ? K_ACKED : K_NONE;
                        t->unknown_found += u->cancel == K_ACKED;
                        t->unknown_absent += u->cancel != K_ACKED;
                    }
                }
                check_booking(&c, u, t);
                stored_offers += u->offer == K_ACKED || u->offer == K_FOUND;
                stored_requests += u->request == K_ACKED || u->request == K_FOUND;
            }
    /* nothing but what the clients wrote: acknowledged ones and lost answers that were written after all */
    TIER_CHECK((long)no == stored_offers && (long)nr == stored_requests,
               "%zu offers and %zu requests listed, %ld and "
               "%ld written",
               no, nr, stored_offers, stored_requests);
    free(oo);
    free(ro);
    json_decref(offers);
    json_decref(requests);
    tier_conn_close(&c);
}

int main(int argc, char **argv)
{
    tier_init();
    int kills = (int)tier_opt(argc, argv, "--kills", 3), nthreads = (int)tier_opt(argc, argv, "--threads", 4);
    long min_ms = tier_opt(argc, argv, "--min-ms", 300), max_ms = tier_opt(argc, argv, "--max-ms", 1500);
    TIER_CHECK(kills >= 1 && nthreads >= 1 && nthreads <= 32 && min_ms >= 0 && max_ms >= min_ms, "bad options");
    uint64_t rng = tier_seed(argc, argv);
    tier_set_stem(argc, argv, NAME);
    tier_file(".cvg", graph, sizeof graph);
    tier_import(graph);
    tier_file(".db", db_path, sizeof db_path);
    tier_file(".err", err_path, sizeof err_path);
    tier_remove_db(db_path);
    unlink(err_path);
    tier_date(2, depart_day);
    const char *args[] = {"--graph",   graph, "--db", db_path, "--listen", "127.0.0.1:0",
                          "--threads", "4",   "--tz", "UTC",   "--quiet",  NULL};

    worker **epochs = calloc((size_t)kills, sizeof *epochs);
    TIER_CHECK(epochs != NULL, "out of memory");
    tally t = {0};
    double t0 = tier_now_s(), restart_s = 0;
    for (int e = 0; e <= kills; e++) {
        double ts = tier_now_s();
        tier_server s = tier_serve(args, err_path);
        restart_s += tier_now_s() - ts;
        check_all(s.port, epochs, e, nthreads, &t);
        if (e == kills) {
            tier_stop(&s);
            break;
        }
        worker *ws = calloc((size_t)nthreads, sizeof *ws);
        TIER_CHECK(ws != NULL, "out of memory");
        epochs[e] = ws;
        atomic_store(&killing, 0);
        for (int i = 0; i < nthreads; i++) {
            ws[i].index = i;
            ws[i].epoch = e;
            ws[i].port = s.port;
            ws[i].rng = tier_rand(&rng) | 1;
            TIER_CHECK(!pthread_create(&ws[i].th, NULL, work, &ws[i]), "pthread_create");
        }
        long at = min_ms + (long)(tier_rand(&rng) % (uint64_t)(max_ms - min_ms + 1));
        tier_sleep_ms(at);
        atomic_store(&killing, 1);
        tier_kill9(&s);
        for (int i = 0; i < nthreads; i++)
            pthread_join(ws[i].th, NULL);
        long n = 0;
        for (int i = 0; i < nthreads; i++)
            for (int k = 0; k < 5; k++)
                n += ws[i].acked[k];
        printf("kill %d at %ld ms: %ld writes acknowledged in this run\n", e + 1, at, n);
        fflush(stdout);
    }
    /* the database itself, with the server stopped */
    tier_db_check(db_path);
    sqlite3 *db = tier_db_open(db_path, 1);
    long long twice = tier_db_int(db, "SELECT count(*) FROM (SELECT 1 FROM bookings GROUP BY offer_id, request_id "
                                      "HAVING count(*) > 1)");
    TIER_CHECK(twice == 0, "%lld offer and request pairs with more than one booking", twice);
    /* an acceptance applied twice, or half applied, shows in the stops: one pickup and one drop-off per accepted
       booking (status 1), none for the others */
    long long bad_stops = tier_db_int(db, "SELECT count(*) FROM bookings b WHERE (SELECT count(*) FROM stops s WHERE "
                                          "s.booking_id = b.id) != CASE b.status WHEN 1 THEN 2 ELSE 0 END");
    long long twice_stops = tier_db_int(db, "SELECT count(*) FROM (SELECT 1 FROM stops WHERE booking_id IS NOT NULL "
                                            "GROUP BY booking_id, kind HAVING count(*) > 1)");
    TIER_CHECK(bad_stops == 0 && twice_stops == 0, "%lld bookings with the wrong stops, %lld with a stop twice",
               bad_stops, twice_stops);
    long long stored_offers = tier_db_int(db, "SELECT count(*) FROM offers");
    sqlite3_close(db);

    long acked[5] = {0}, unknown = 0, total = 0;
    for (int e = 0; e < kills; e++)
        for (int i = 0; i < nthreads; i++) {
            for (int k = 0; k < 5; k++)
                acked[k] += epochs[e][i].acked[k];
            unknown += epochs[e][i].unknown;
            for (size_t k = 0; k < epochs[e][i].n; k++) {
                unit *u = &epochs[e][i].units[k];
                json_decref(u->offer_json);
                json_decref(u->request_json);
                json_decref(u->booking_json);
            }
            free(epochs[e][i].units);
        }
    for (int k = 0; k < 5; k++)
        total += acked[k];
    printf("crash tier: %d kills, %ld writes acknowledged (", kills, total);
    for (int k = 0; k < 5; k++)
        printf("%s%s %ld", k ? ", " : "", write_names[k], acked[k]);
    printf("), every one found after each restart (%ld reads of a trip or booking, %ld lost); %ld writes unanswered "
           "at a kill: %ld found written, %ld not; "
           "%lld offers stored; integrity_check ok; %.1f s (%.1f s starting the server)\n",
           t.found, t.lost, unknown, t.unknown_found, t.unknown_absent, stored_offers, tier_now_s() - t0, restart_s);
    for (int e = 0; e < kills; e++)
        free(epochs[e]);
    free(epochs);
    return 0;
}
