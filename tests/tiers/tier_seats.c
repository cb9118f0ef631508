/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* tier_seats.c — the seat race tier: many passengers race for the last seats of one offer over HTTP, against
   `covoit serve` as a real process. Each round, one punctual offer with 2 seats and N requests of N passengers
   (one seat each), one thread per passenger; all start together, and either each books its request and accepts
   the booking at once, or all book first and then all accept together. Exactly 2 acceptances succeed; every
   other passenger is refused with 409 Conflict and a JSON reason (at booking: the full offer no longer matches;
   at acceptance: no seat left); the offer then lists exactly those 2 bookings accepted, their pickups and
   drop-offs in its stops, no seat left; one more passenger cannot get in either; and a refused acceptance left
   its booking as it was.

   Besides (the booking model with dates, see the section below): one passenger booked in two cars whose drivers
   accept at once (one car wins, the other booking is superseded), and a regular offer whose passengers ride on
   two dates (2 seats on each date: a stale placement must not let a third passenger in, see 413791a).

   With --servers 2 (and --pg 1), the same races run against two `covoit serve` processes on one PostgreSQL
   database (a server of the tier's own, tests/unit/pg_temp.h): the passengers alternate between the servers, so
   that the last seats, and one passenger's two cars, are fought over across them; each round's offer, written
   through the first, must be in the second's index (its /metrics covoit_changes_applied) within one second.

   usage: tier_seats [--racers N] [--rounds N] [--two-car-rounds N] [--regular-rounds N] [--seed S] [--name STEM]
                     [--pg 1] [--servers 1|2]
   Prints the rounds, races, acceptances and refusals (and how long the second server took to see each write). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "tier_support.h"
#include "../unit/pg_temp.h"

#define NAME "tier_seats"
#define SEATS 2

typedef enum race_kind {
    R_BOOK_AND_ACCEPT,   /* each passenger books, then accepts its own booking, all at once */
    R_ACCEPT_TOGETHER,   /* all book first; then all bookings are accepted at once */
    R_REGULAR_TWO_DATES, /* booking model: a regular offer, passengers on two dates */
    R_TWO_CARS           /* booking model: one passenger booked on two offers, both accepted at once */
} race_kind;

static const char *const kind_names[] = {"book and accept", "accept together", "regular offer, two dates",
                                         "one passenger, two cars"};

/* The round as the main thread set it up. */
static struct {
    race_kind kind;
    int round;
    int64_t offer_id;
    int64_t shared_bookings[2]; /* R_TWO_CARS: the passenger's booking in each car */
    char day[2][16];            /* the travel dates (the second for R_REGULAR_TWO_DATES) */
} cur;

typedef struct racer {
    pthread_t th;
    int index;
    tier_conn c;
    /* this round */
    int64_t request_id, booking_id;
    json_t *booked;                 /* the booking as its creation answered */
    int day;                        /* 0 or 1: which of cur.day it travels on */
    int book_status, accept_status; /* 0: not tried */
    char reason[256];               /* the message of a refusal */
} racer;

static racer *racers;
static int nracers;
static pthread_barrier_t b_setup, b_go, b_done;
static int quitting;

static int64_t post_id(tier_conn *c, const char *path, const char *body, const char *member)
{
    tier_reply r = tier_http(c, "POST", path, NULL, body);
    TIER_CHECK(r.status == 201, "POST %s %s: status %d: %s", path, body, r.status, r.body ? r.body : "");
    int64_t id = (int64_t)json_integer_value(json_object_get(json_object_get(r.json, member), "id"));
    tier_reply_free(&r);
    TIER_CHECK(id > 0, "POST %s: no id", path);
    return id;
}

/* POST path (body or none): the status, the refusal's message into reason; the id of a created booking, and the
   booking itself into *doc (when not NULL). */
static int post_status(tier_conn *c, const char *path, const char *body, int64_t *id, json_t **doc, char *reason,
                       size_t cap)
{
    tier_reply r = tier_http(c, "POST", path, NULL, body);
    int st = r.status;
    if (st == 201 && id)
        *id = (int64_t)json_integer_value(json_object_get(json_object_get(r.json, "booking"), "id"));
    if (st == 201 && doc)
        *doc = json_incref(json_object_get(r.json, "booking"));
    if (st == 409) {
        TIER_CHECK(!strcmp(tier_code(&r), "Conflict") && *tier_message(&r),
                   "POST %s: 409 without a Conflict code and a"
                   " message: %s",
                   path, r.body);
        snprintf(reason, cap, "%s", tier_message(&r));
    } else if (st != 200 && st != 201) {
        tier_fail("POST %s %s: status %d in a race (only 200, 201 or 409 are right): %s", path, body ? body : "", st,
                  r.body ? r.body : "(no answer)");
    }
    tier_reply_free(&r);
    return st;
}

static void book(racer *me, int64_t offer_id)
{
    char body[96];
    snprintf(body, sizeof body, "{\"offer_id\":%lld,\"request_id\":%lld}", (long long)offer_id,
             (long long)me->request_id);
    me->book_status =
        post_status(&me->c, "/v1/bookings", body, &me->booking_id, &me->booked, me->reason, sizeof me->reason);
}

static void accept_booking(racer *me, int64_t booking_id)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/bookings/%lld/accept", (long long)booking_id);
    me->accept_status = post_status(&me->c, path, NULL, NULL, NULL, me->reason, sizeof me->reason);
}

static void *race(void *arg)
{
    racer *me = arg;
    for (;;) {
        pthread_barrier_wait(&b_setup);
        if (quitting)
            break;
        me->booking_id = 0;
        json_decref(me->booked);
        me->booked = NULL;
        me->book_status = me->accept_status = 0;
        me->reason[0] = '\0';
        me->day = cur.kind == R_REGULAR_TWO_DATES ? me->index % 2 : 0;
        if (cur.kind != R_TWO_CARS) {
            char body[512];
            snprintf(body, sizeof body,
                     "{\"from\":[7.422055,43.737749],\"to\":[7.416246,43.73148],\"depart\":\"%sT08:05:00Z\","
                     "\"margin_min\":30,\"owner\":\"passenger-%d-%d\"}",
                     cur.day[me->day], cur.round, me->index);
            me->request_id = post_id(&me->c, "/v1/requests", body, "request");
            if (cur.kind != R_BOOK_AND_ACCEPT) {
                book(me, cur.offer_id);
                TIER_CHECK(me->book_status == 201, "round %d: booking before any acceptance refused: %s", cur.round,
                           me->reason);
            }
        }
        pthread_barrier_wait(&b_go);
        if (cur.kind == R_BOOK_AND_ACCEPT) {
            book(me, cur.offer_id);
            if (me->book_status == 201)
                accept_booking(me, me->booking_id);
        } else if (cur.kind == R_TWO_CARS) {
            accept_booking(me, cur.shared_bookings[me->index % 2]);
        } else {
            accept_booking(me, me->booking_id);
        }
        pthread_barrier_wait(&b_done);
    }
    json_decref(me->booked);
    tier_conn_close(&me->c);
    return NULL;
}

/* GET /v1/offers/{id}: the offer with its bookings and stops. */
static json_t *get_offer(tier_conn *c, int64_t id)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/offers/%lld", (long long)id);
    tier_reply r = tier_http(c, "GET", path, NULL, NULL);
    TIER_CHECK(r.status == 200, "GET %s: status %d", path, r.status);
    json_t *o = json_incref(json_object_get(r.json, "offer"));
    tier_reply_free(&r);
    return o;
}

static int64_t new_offer(tier_conn *c, int regular, int round)
{
    char body[512], last[16];
    if (regular) {
        tier_date(8, last);
        snprintf(body, sizeof body,
                 "{\"from\":[7.4275,43.7396],\"to\":[7.4160,43.7290],\"depart\":{\"weekdays\":\"daily\",\"time\":"
                 "\"08:00\",\"first_date\":\"%s\",\"last_date\":\"%s\"},\"margin_min\":30,\"seats\":%d,"
                 "\"owner\":\"driver-%d\"}",
                 cur.day[0], last, SEATS, round);
    } else {
        snprintf(body, sizeof body,
                 "{\"from\":[7.4275,43.7396],\"to\":[7.4160,43.7290],\"depart\":\"%sT08:00:00Z\",\"margin_min\":30,"
                 "\"seats\":%d,\"owner\":\"driver-%d\"}",
                 cur.day[0], SEATS, round);
    }
    return post_id(c, "/v1/offers", body, "offer");
}

/* The offer's accepted bookings as the server lists them: their number and seats, and whether each one's
   pickup and drop-off are in the stops (+seats, -seats), nothing else there. */
static int accepted_on(const json_t *offer, int64_t *ids, int cap, int *seats)
{
    int n = 0;
    *seats = 0;
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(offer, "bookings"), i, b)
    {
        if (strcmp(json_string_value(json_object_get(b, "status")), "accepted"))
            continue;
        TIER_CHECK(n < cap, "too many accepted bookings");
        ids[n++] = (int64_t)json_integer_value(json_object_get(b, "id"));
        *seats += (int)json_integer_value(json_object_get(b, "seats"));
    }
    int load = 0, pickups = 0;
    json_array_foreach(json_object_get(offer, "stops"), i, b)
    {
        const char *kind = json_string_value(json_object_get(b, "kind"));
        if (strcmp(kind, "pickup") && strcmp(kind, "dropoff"))
            continue;
        int64_t bid = (int64_t)json_integer_value(json_object_get(b, "booking_id"));
        int found = 0;
        for (int k = 0; k < n; k++)
            found |= ids[k] == bid;
        TIER_CHECK(found, "offer %lld: a %s stop of booking %lld, which is not accepted",
                   (long long)json_integer_value(json_object_get(offer, "id")), kind, (long long)bid);
        load += (int)json_integer_value(json_object_get(b, "seats_delta"));
        pickups += !strcmp(kind, "pickup");
    }
    TIER_CHECK(load == 0 && pickups == n, "offer %lld: stops of %d pickups for %d accepted bookings (balance %d)",
               (long long)json_integer_value(json_object_get(offer, "id")), pickups, n, load);
    return n;
}

/* Booking model with dates: the offer's "seats_left" entry of day, or -1 when the offer has no such list. */
static int seats_left_on(const json_t *offer, const char *day)
{
    const json_t *list = json_object_get(offer, "seats_left");
    if (!json_is_array(list))
        return -1;
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) if (!strcmp(json_string_value(json_object_get(e, "date")), day)) return (
        int)json_integer_value(json_object_get(e, "seats_left"));
    return (int)json_integer_value(json_object_get(offer, "seats")); /* no entry: no seat taken that day */
}

/* A passenger who comes after the race: booking or acceptance refused with 409. */
static void one_more(tier_conn *c, int64_t offer_id, const char *day)
{
    char body[512], reason[256] = "";
    snprintf(body, sizeof body,
             "{\"from\":[7.422055,43.737749],\"to\":[7.416246,43.73148],\"depart\":\"%sT08:05:00Z\",\"margin_min\":30,"
             "\"owner\":\"latecomer-%lld\"}",
             day, (long long)offer_id);
    int64_t request = post_id(c, "/v1/requests", body, "request"), booking = 0;
    snprintf(body, sizeof body, "{\"offer_id\":%lld,\"request_id\":%lld}", (long long)offer_id, (long long)request);
    int st = post_status(c, "/v1/bookings", body, &booking, NULL, reason, sizeof reason);
    if (st == 201) {
        char path[64];
        snprintf(path, sizeof path, "/v1/bookings/%lld/accept", (long long)booking);
        st = post_status(c, path, NULL, NULL, NULL, reason, sizeof reason);
    }
    TIER_CHECK(st == 409, "offer %lld on %s: a passenger after the race got a seat (status %d)", (long long)offer_id,
               day, st);
}

typedef struct totals {
    long races, accepted, refused_booking, refused_accept, dated_races;
    long refusals_checked; /* refused acceptances whose booking was read back unchanged */
    char sample_booking[256], sample_accept[256];
} totals;

/* Every booking whose acceptance was refused is what its creation answered: "A refused carpool request writes
   nothing to the database" (docs/API.md), in a race too (regression: a booking placed again before the accepting
   transaction refused it kept its new placement and `updated`, fixed by 2ddccd5). */
static void check_refusals(tier_conn *c, totals *t)
{
    for (int i = 0; i < nracers; i++) {
        racer *r = &racers[i];
        if (r->book_status != 201 || r->accept_status != 409)
            continue;
        char path[64];
        snprintf(path, sizeof path, "/v1/bookings/%lld", (long long)r->booking_id);
        tier_reply rep = tier_http(c, "GET", path, NULL, NULL);
        TIER_CHECK(rep.status == 200, "GET %s: %d", path, rep.status);
        json_t *now = json_object_get(rep.json, "booking");
        if (!json_equal(now, r->booked)) {
            char *a = json_dumps(r->booked, JSON_COMPACT), *b = json_dumps(now, JSON_COMPACT);
            tier_fail("round %d: %s changed though its acceptance was refused (\"%s\")\n  created: %s\n  now:     %s",
                      cur.round, path, r->reason, a, b);
        }
        t->refusals_checked++;
        tier_reply_free(&rep);
    }
}

/* The punctual races: exactly SEATS acceptances, the others 409, and the offer agrees. */
static void check_punctual(tier_conn *c, totals *t)
{
    int ok = 0;
    int64_t won[64];
    for (int i = 0; i < nracers; i++) {
        racer *r = &racers[i];
        if (r->accept_status == 200) {
            won[ok++] = r->booking_id;
        } else {
            TIER_CHECK(r->book_status == 409 || r->accept_status == 409,
                       "round %d: passenger %d: booking %d, "
                       "acceptance %d",
                       cur.round, i, r->book_status, r->accept_status);
            if (r->book_status == 409) {
                t->refused_booking++;
                snprintf(t->sample_booking, sizeof t->sample_booking, "%s", r->reason);
            } else {
                t->refused_accept++;
                snprintf(t->sample_accept, sizeof t->sample_accept, "%s", r->reason);
            }
        }
    }
    TIER_CHECK(ok == SEATS, "round %d (%s): %d passengers accepted on an offer of %d seats", cur.round,
               kind_names[cur.kind], ok, SEATS);
    t->accepted += ok;
    json_t *offer = get_offer(c, cur.offer_id);
    int64_t ids[64];
    int seats, n = accepted_on(offer, ids, 64, &seats);
    TIER_CHECK(n == SEATS, "round %d: the offer lists %d accepted bookings, %d acceptances answered 200", cur.round, n,
               ok);
    for (int k = 0; k < n; k++)
        TIER_CHECK(ids[k] == won[0] || ids[k] == won[1], "round %d: booking %lld accepted, its acceptance was refused",
                   cur.round, (long long)ids[k]);
    int total = (int)json_integer_value(json_object_get(offer, "seats"));
    TIER_CHECK(total - seats == 0, "round %d: %d seats left on the offer after the race", cur.round, total - seats);
    /* booking model with dates: the offer's own count agrees */
    int left = seats_left_on(offer, cur.day[0]);
    TIER_CHECK(left == -1 || left == 0, "round %d: seats_left of %s is %d, not 0", cur.round, cur.day[0], left);
    json_decref(offer);
    check_refusals(c, t);
    one_more(c, cur.offer_id, cur.day[0]);
}

/* ---- the booking model with dates (being changed: see the report of issue 11) ----
   Whether bookings carry dates is read from the answers: with dates, a regular offer has SEATS seats on each
   date and a passenger rides in one car per date; without (the model before), a booking holds its seats on
   every date of the offer and these two races are only counted. */

static int booking_has_dates(tier_conn *c, int64_t booking_id)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/bookings/%lld", (long long)booking_id);
    tier_reply r = tier_http(c, "GET", path, NULL, NULL);
    TIER_CHECK(r.status == 200, "GET %s: status %d", path, r.status);
    int has = json_is_object(json_object_get(json_object_get(r.json, "booking"), "dates"));
    tier_reply_free(&r);
    return has;
}

static void check_regular(tier_conn *c, totals *t)
{
    int ok[2] = {0, 0};
    for (int i = 0; i < nracers; i++) {
        racer *r = &racers[i];
        if (r->accept_status == 200)
            ok[r->day]++;
        else
            TIER_CHECK(r->accept_status == 409, "round %d: passenger %d: acceptance %d", cur.round, i,
                       r->accept_status);
    }
    int dated = booking_has_dates(c, racers[0].booking_id);
    t->dated_races += dated;
    json_t *offer = get_offer(c, cur.offer_id);
    int64_t ids[64];
    int seats, n = accepted_on(offer, ids, 64, &seats);
    TIER_CHECK(n == ok[0] + ok[1], "round %d: the offer lists %d accepted bookings, %d acceptances answered 200",
               cur.round, n, ok[0] + ok[1]);
    if (dated) {
        for (int d = 0; d < 2; d++) {
            if (ok[d] != SEATS) {
                char *stops = json_dumps(json_object_get(offer, "stops"), JSON_COMPACT);
                char *left = json_dumps(json_object_get(offer, "seats_left"), JSON_COMPACT);
                tier_fail("round %d (regular offer %lld): %d passengers accepted on %s, %d seats a date; stops %s; "
                          "seats_left %s",
                          cur.round, (long long)cur.offer_id, ok[d], cur.day[d], SEATS, stops, left);
            }
            int left = seats_left_on(offer, cur.day[d]);
            TIER_CHECK(left == 0, "round %d: seats_left of %s is %d, not 0", cur.round, cur.day[d], left);
        }
        one_more(c, cur.offer_id, cur.day[1]);
    } else {
        TIER_CHECK(ok[0] + ok[1] == SEATS, "round %d (regular offer, bookings without dates): %d accepted", cur.round,
                   ok[0] + ok[1]);
    }
    t->accepted += ok[0] + ok[1];
    t->refused_accept += nracers - ok[0] - ok[1];
    json_decref(offer);
    check_refusals(c, t);
}

/* Sets up R_TWO_CARS: two offers, one passenger booked on each. */
static void setup_two_cars(tier_conn *c)
{
    int64_t second = new_offer(c, 0, 100000 + cur.round);
    char body[512];
    snprintf(body, sizeof body,
             "{\"from\":[7.422055,43.737749],\"to\":[7.416246,43.73148],\"depart\":\"%sT08:05:00Z\",\"margin_min\":30,"
             "\"owner\":\"passenger-%d-both\"}",
             cur.day[0], cur.round);
    int64_t request = post_id(c, "/v1/requests", body, "request");
    int64_t offers[2] = {cur.offer_id, second};
    for (int k = 0; k < 2; k++) {
        snprintf(body, sizeof body, "{\"offer_id\":%lld,\"request_id\":%lld}", (long long)offers[k],
                 (long long)request);
        cur.shared_bookings[k] = post_id(c, "/v1/bookings", body, "booking");
    }
}

static void check_two_cars(tier_conn *c, totals *t)
{
    int ok = 0;
    for (int i = 0; i < nracers; i++) {
        TIER_CHECK(racers[i].accept_status == 200 || racers[i].accept_status == 409, "round %d: acceptance %d",
                   cur.round, racers[i].accept_status);
        ok += racers[i].accept_status == 200;
    }
    int dated = booking_has_dates(c, cur.shared_bookings[0]);
    t->dated_races += dated;
    const char *st[2];
    json_t *docs[2];
    for (int k = 0; k < 2; k++) {
        char path[64];
        snprintf(path, sizeof path, "/v1/bookings/%lld", (long long)cur.shared_bookings[k]);
        tier_reply r = tier_http(c, "GET", path, NULL, NULL);
        TIER_CHECK(r.status == 200, "GET %s: %d", path, r.status);
        docs[k] = json_incref(json_object_get(r.json, "booking"));
        st[k] = json_string_value(json_object_get(docs[k], "status"));
        tier_reply_free(&r);
    }
    if (dated) {
        /* one car per date: one acceptance wins, the other booking is superseded or refused at acceptance */
        TIER_CHECK(ok == 1, "round %d: the passenger was accepted %d times in two cars on the same date", cur.round,
                   ok);
        int a = !strcmp(st[0], "accepted"), b = !strcmp(st[1], "accepted");
        TIER_CHECK(a + b == 1, "round %d: bookings %s and %s", cur.round, st[0], st[1]);
        TIER_CHECK(!strcmp(st[a ? 1 : 0], "superseded"), "round %d: the losing booking is %s, not superseded",
                   cur.round, st[a ? 1 : 0]);
    } else {
        /* without dates a passenger may ride in two cars; each booking is accepted once */
        TIER_CHECK(ok == 2, "round %d: %d acceptances of two bookings", cur.round, ok);
    }
    t->accepted += ok;
    t->refused_accept += nracers - ok;
    json_decref(docs[0]);
    json_decref(docs[1]);
}

/* The change log entry a server's index has applied, from its /metrics. */
static long long applied(tier_conn *c)
{
    tier_reply r = tier_http(c, "GET", "/metrics", NULL, NULL);
    TIER_CHECK(r.status == 200, "GET /metrics: %d", r.status);
    const char *at = strstr(r.body, "\ncovoit_changes_applied ");
    TIER_CHECK(at != NULL, "no covoit_changes_applied in /metrics");
    long long v = atoll(at + strlen("\ncovoit_changes_applied "));
    tier_reply_free(&r);
    return v;
}

/* Waits until the second server's index holds what the first one wrote; the seconds it took. */
static double caught_up(tier_conn *first, tier_conn *second)
{
    long long want = applied(first);
    double t0 = tier_now_s();
    while (applied(second) < want) {
        TIER_CHECK(tier_now_s() - t0 < 1.0, "the second server has not applied change %lld within a second", want);
        struct timespec ms = {0, 2000000};
        nanosleep(&ms, NULL);
    }
    return tier_now_s() - t0;
}

int main(int argc, char **argv)
{
    tier_init();
    nracers = (int)tier_opt(argc, argv, "--racers", 20);
    int rounds = (int)tier_opt(argc, argv, "--rounds", 6), two_cars = (int)tier_opt(argc, argv, "--two-car-rounds", 1);
    int regular = (int)tier_opt(argc, argv, "--regular-rounds", 2);
    /* one connection per racer, all from 127.0.0.1: below the server's 64 per address */
    TIER_CHECK(nracers >= 4 && nracers <= 60 && rounds >= 0 && two_cars >= 0 && regular >= 0, "bad options");
    uint64_t rng = tier_seed(argc, argv);
    int pg = (int)tier_opt(argc, argv, "--pg", 0), nservers = (int)tier_opt(argc, argv, "--servers", 1);
    TIER_CHECK(nservers == 1 || (nservers == 2 && pg), "--servers 2 takes --pg 1: two servers share PostgreSQL");
    char graph[1024], db[1024], err[1024], err2[1100], why[256];
    tier_set_stem(argc, argv, NAME);
    if (pg && !tst_pg_installed()) {
        printf("SKIP: PostgreSQL's server is not installed (apt-get install postgresql)\n");
        return 77;
    }
    tier_file(".cvg", graph, sizeof graph);
    tier_import(graph);
    if (pg)
        TIER_CHECK(tst_pg_start(db, sizeof db, why, sizeof why) == 0, "%s", why);
    else
        tier_file(".db", db, sizeof db);
    tier_file(".err", err, sizeof err);
    snprintf(err2, sizeof err2, "%s.2", err);
    if (!pg)
        tier_remove_db(db);
    unlink(err);
    const char *args[] = {"--graph",   graph, "--db", db,    "--listen", "127.0.0.1:0",
                          "--threads", "8",   "--tz", "UTC", "--quiet",  NULL};
    tier_server s = tier_serve(args, err), s2 = {0};
    if (nservers == 2)
        s2 = tier_serve(args, err2);
    double t0 = tier_now_s(), seen_max = 0, seen_sum = 0;

    racers = calloc((size_t)nracers, sizeof *racers);
    TIER_CHECK(racers != NULL, "out of memory");
    pthread_barrier_init(&b_setup, NULL, (unsigned)nracers + 1);
    pthread_barrier_init(&b_go, NULL, (unsigned)nracers + 1);
    pthread_barrier_init(&b_done, NULL, (unsigned)nracers + 1);
    for (int i = 0; i < nracers; i++) {
        racers[i].index = i;
        racers[i].c = tier_conn_make(nservers == 2 && i % 2 ? s2.port : s.port, NULL);
        TIER_CHECK(!pthread_create(&racers[i].th, NULL, race, &racers[i]), "pthread_create");
    }
    tier_conn c = tier_conn_make(s.port, NULL), c2 = {0};
    if (nservers == 2)
        c2 = tier_conn_make(s2.port, NULL);
    totals t = {0};
    int total_rounds = rounds + two_cars + regular;
    for (int round = 0; round < total_rounds; round++) {
        cur.round = round;
        cur.kind = round < rounds              ? (race_kind)(round % 2)
                   : round < rounds + two_cars ? R_TWO_CARS
                                               : R_REGULAR_TWO_DATES;
        /* a date 2 to 5 days ahead, so that rounds do not all race on one day */
        int ahead = 2 + (int)(tier_rand(&rng) % 4);
        tier_date(ahead, cur.day[0]);
        tier_date(ahead + 1, cur.day[1]);
        cur.offer_id = new_offer(&c, cur.kind == R_REGULAR_TWO_DATES, round);
        if (cur.kind == R_TWO_CARS)
            setup_two_cars(&c);
        if (nservers == 2) { /* what the first server wrote, in the second's index */
            double took = caught_up(&c, &c2);
            seen_sum += took;
            seen_max = took > seen_max ? took : seen_max;
        }
        pthread_barrier_wait(&b_setup);
        pthread_barrier_wait(&b_go);
        pthread_barrier_wait(&b_done);
        t.races++;
        if (cur.kind <= R_ACCEPT_TOGETHER)
            check_punctual(&c, &t);
        else if (cur.kind == R_REGULAR_TWO_DATES)
            check_regular(&c, &t);
        else
            check_two_cars(&c, &t);
        /* the round's offer is done with: cancelled, so the index of open offers stays small */
        char path[64];
        snprintf(path, sizeof path, "/v1/offers/%lld", (long long)cur.offer_id);
        tier_reply r = tier_http(&c, "DELETE", path, NULL, NULL);
        TIER_CHECK(r.status == 200, "DELETE %s: %d", path, r.status);
        tier_reply_free(&r);
    }
    quitting = 1;
    pthread_barrier_wait(&b_setup);
    for (int i = 0; i < nracers; i++)
        pthread_join(racers[i].th, NULL);
    tier_conn_close(&c);
    tier_stop(&s);
    if (nservers == 2) {
        tier_conn_close(&c2);
        tier_stop(&s2);
        printf("two servers on one PostgreSQL database: the second applied each round's writes of the first %.1f ms "
               "later on average, %.1f ms at most\n",
               1000.0 * seen_sum / (total_rounds ? total_rounds : 1), 1000.0 * seen_max);
    }
    if (pg)
        tst_pg_stop();
    else
        tier_db_check(db);
    printf("seat tier: %ld races of %d passengers for %d seats (%d on a punctual offer, %d of one passenger in two "
           "cars, %d on a regular offer over two dates; bookings with dates in %ld of the last two kinds): %ld "
           "acceptances, %ld refused at booking and %ld at acceptance, all 409 Conflict with a reason (%ld refused "
           "acceptances read back: booking unchanged); %.1f s\n",
           t.races, nracers, SEATS, rounds, two_cars, regular, t.dated_races, t.accepted, t.refused_booking,
           t.refused_accept, t.refusals_checked, tier_now_s() - t0);
    if (t.sample_booking[0])
        printf("  refused at booking: \"%s\"\n", t.sample_booking);
    if (t.sample_accept[0])
        printf("  refused at acceptance: \"%s\"\n", t.sample_accept);
    pthread_barrier_destroy(&b_setup);
    pthread_barrier_destroy(&b_go);
    pthread_barrier_destroy(&b_done);
    free(racers);
    return 0;
}
