/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* federation.c — cooperatives pooling their offers through the interoperability standard: a /v1 search that also
   asks every configured partner's /driver_journeys (web_federated_search), and our users' bookings on partners'
   journeys, sent to the partner's POST /bookings and followed by its booking events (web_partner_book,
   web_remote_*). The calls themselves are partners.c's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "web/osrm_json.h"
#include "web/partners.h"
#include "web/trip_json.h"
#include "web/web_int.h"
#include "routing/geo.h"
#include "util/cv_sha256.h"

#define BAD MHD_HTTP_BAD_REQUEST
#define BAD_GATEWAY 502
#define DEFAULT_PARTNER_TIMEOUT_MS 2000
#define BOOKING_TIMEOUT_MS 5000
#define PARTNER_RADIUS_KM 1 /* the departureRadius and arrivalRadius we ask partners for: door to door, as ours */

static long partner_timeout(const web_req *r)
{
    unsigned t = web_server_options(r->server)->partner_timeout_ms;
    return t ? (long)t : DEFAULT_PARTNER_TIMEOUT_MS;
}

/* --- federated search --- */

/* One journey of the merged answer and what it is ranked by. */
typedef struct ranked {
    json_t *item;      /* the item (a partner's), or */
    char *text;        /* the item written (WEB_JSON_FLAGS; ours, written on the search's thread) */
    double mismatch_s; /* |pickup time - the wished departure| */
    double walk_m;     /* from the origin to the pickup and from the drop-off to the destination */
    double price;
    size_t order; /* its place in its operator's own answer */
} ranked;

/* What every operator's answer tells: the time first, then the passenger's way to and from the car, then the
   price, then each operator's own order (ours: the smallest detour first). */
static int rank_cmp(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->mismatch_s != b->mismatch_s)
        return a->mismatch_s < b->mismatch_s ? -1 : 1;
    if (fabs(a->walk_m - b->walk_m) > 1)
        return a->walk_m < b->walk_m ? -1 : 1;
    if (a->price != b->price)
        return a->price < b->price ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

static int number(json_t *j, const char *key, double lo, double hi, double *out)
{
    json_t *v = json_object_get(j, key);
    if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi)
        return -1;
    *out = json_number_value(v);
    return 0;
}

/* A partner's DriverJourney as an item of our answer, when it is one and answers q (its pickup and drop-off
   within the radius asked, its pickup in the time window): NULL otherwise, and the partner's answer is not
   trusted further than that. */
static json_t *partner_item(const char *op, json_t *j, const cv_request *q, ranked *rk)
{
    double plat, plng, dlat, dlng;
    json_t *id = json_object_get(j, "id"), *date = json_object_get(j, "passengerPickupDate");
    if (!json_is_object(j) || !json_is_string(id) || !json_string_length(id) || json_string_length(id) > 255 ||
        !json_is_integer(date) || number(j, "passengerPickupLat", -90, 90, &plat) ||
        number(j, "passengerPickupLng", -180, 180, &plng) || number(j, "passengerDropLat", -90, 90, &dlat) ||
        number(j, "passengerDropLng", -180, 180, &dlng) || !json_is_object(json_object_get(j, "driver")))
        return NULL;
    cv_coord pickup = {cv_fixed(plng), cv_fixed(plat)}, drop = {cv_fixed(dlng), cv_fixed(dlat)};
    int64_t at = (int64_t)json_integer_value(date);
    double mismatch = fabs((double)(at - q->when.depart));
    double walk_from = cv_distance_m(q->from, pickup), walk_to = cv_distance_m(drop, q->to);
    if (walk_from > PARTNER_RADIUS_KM * 1000.0 + 1 || walk_to > PARTNER_RADIUS_KM * 1000.0 + 1 ||
        mismatch > q->when.margin_s)
        return NULL;
    json_t *price = json_object_get(j, "price"), *seats = json_object_get(j, "availableSeats");
    json_t *amount = json_is_object(price) ? json_object_get(price, "amount") : NULL;
    json_t *currency = json_is_object(price) ? json_object_get(price, "currency") : NULL;
    json_t *duration = json_object_get(j, "duration"), *distance = json_object_get(j, "distance");
    json_t *url = json_object_get(j, "webUrl");
    json_int_t ds = json_is_integer(duration) ? json_integer_value(duration) : 0;
    rk->mismatch_s = mismatch;
    rk->walk_m = walk_from + walk_to;
    rk->price = json_is_number(amount) ? json_number_value(amount) : 0;
    json_t *item = json_pack(
        "{s:s,s:O,s:{s:[f,f],s:o},s:{s:[f,f],s:o?},s:O?,s:I,s:{s:f,s:s,s:i},s:{s:O?,s:O?},s:O?,s:O}", "operator", op,
        "journey_id", id, "pickup", "location", plng, plat, "time", trip_json_datetime(at), "dropoff", "location", dlng,
        dlat, "time", ds > 0 ? trip_json_datetime(at + ds) : NULL, "seats_left", json_is_integer(seats) ? seats : NULL,
        "time_mismatch", (json_int_t)mismatch, "contribution", "amount", rk->price, "currency",
        json_is_string(currency) ? json_string_value(currency) : "EUR", "commission", 0, "shared", "duration", duration,
        "distance", distance, "web_url", json_is_string(url) ? url : NULL, "journey", j);
    /* the journey as a booking takes it back: its polyline, the bulk of it, is no part of a booking (j is the
       partner's answer, parsed for this search alone) */
    if (item)
        json_object_del(j, "journeyPolyline");
    return item;
}

typedef struct own_search {
    cv_matcher_ws *w;
    const cv_request *q;
    int64_t now;
    int limit;
    const char *operator_name; /* ours, in each of our items */
    cv_match *v;
    size_t n;
    ranked *items; /* v as answer items, n of them (NULL when out of memory) */
    int rc;
    cv_error err;
} own_search;

/* Our own search and its answer items, made and written while the partners' answers are awaited. */
static void run_own_search(void *arg)
{
    own_search *s = arg;
    s->rc = cv_matcher_search(s->w, s->q, s->now, s->limit, &s->v, &s->n, &s->err);
    if (s->rc)
        return;
    s->items = calloc(s->n ? s->n : 1, sizeof *s->items);
    for (size_t i = 0; s->items && i < s->n; i++) {
        const cv_match *m = &s->v[i];
        json_t *item = trip_json_match(m);
        if (item)
            json_object_set_new(item, "operator", json_string(s->operator_name));
        s->items[i] = (ranked){NULL,
                               item ? json_dumps(item, WEB_JSON_FLAGS) : NULL,
                               fabs((double)(m->pickup_time - s->q->when.depart)),
                               cv_distance_m(s->q->from, m->pickup) + cv_distance_m(m->dropoff, s->q->to),
                               m->contribution.amount,
                               i};
        json_decref(item);
    }
}

int web_federated_search(web_req *r, cv_matcher_ws *w, const cv_request *q, int limit, int64_t now)
{
    if (!r->operator_name)
        return web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, osrm_word(OSRM_UNAVAILABLE),
                         "partners: this server names no operator (start it with --operator HOST) and so has none");
    if (q->when.kind != CV_PUNCTUAL)
        return web_error(r, BAD, osrm_word(OSRM_INVALID_VALUE),
                         "partners: a search of partners' journeys is for one departure: give depart as a date-time");
    cv_error err = {0};
    cv_partner *partners = NULL;
    size_t np = 0;
    int rc = cv_store_list_partners(cv_matcher_store(w), &partners, &np, &err);
    if (rc)
        return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, trip_json_code(rc), "%s", err.text);
    int cap = limit > 0 ? limit : 100;
    char query[512];
    snprintf(query, sizeof query,
             "departureLat=%.7f&departureLng=%.7f&arrivalLat=%.7f&arrivalLng=%.7f&departureDate=%lld&timeDelta=%d&"
             "departureRadius=%d&arrivalRadius=%d&count=%d",
             cv_deg(q->from.lat), cv_deg(q->from.lon), cv_deg(q->to.lat), cv_deg(q->to.lon), (long long)q->when.depart,
             (int)q->when.margin_s, PARTNER_RADIUS_KM, PARTNER_RADIUS_KM, cap);
    own_search own = {.w = w, .q = q, .now = now, .limit = limit, .operator_name = r->operator_name};
    web_partner_answer *answers = calloc(np ? np : 1, sizeof *answers);
    if (!answers) {
        free(partners);
        return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_word(OSRM_ERROR), "out of memory");
    }
    web_partners_search(partners, np, query, partner_timeout(r), run_own_search, &own, answers);
    /* a trip our map cannot route (outside it, no road) may be a partner's to serve: a partner's answer stands,
       with our error named; otherwise our failure is the answer */
    int own_unroutable = own.rc == CV_ENOSEGMENT || own.rc == CV_ENOROUTE, any_answer = 0;
    for (size_t i = 0; i < np; i++)
        any_answer |= answers[i].ok;
    if (own.rc && !(own_unroutable && any_answer)) {
        web_partner_answers_free(answers, np);
        free(answers), free(partners), free(own.v);
        return web_error(r, own.rc == CV_EINVAL || own_unroutable ? BAD : 500, trip_json_code(own.rc), "%s",
                         own.err.text);
    }
    if (own.rc)
        own.n = 0;
    size_t total = own.n;
    for (size_t i = 0; i < np; i++)
        total += answers[i].ok ? json_array_size(answers[i].journeys) : 0;
    ranked *all = calloc(total ? total : 1, sizeof *all);
    json_t *report = json_array();
    size_t k = 0;
    int lost = !all || (own.n && !own.items); /* out of memory (own.items: on the search's thread) */
    for (size_t i = 0; own.items && i < own.n; i++) {
        if (all && own.items[i].text)
            all[k++] = own.items[i];
        else
            lost = 1, free(own.items[i].text);
    }
    for (size_t i = 0; all && i < np; i++) {
        size_t kept = 0, dropped = 0;
        for (size_t j = 0; answers[i].ok && j < json_array_size(answers[i].journeys); j++) {
            ranked rk = {.order = j};
            json_t *item = partner_item(partners[i].name, json_array_get(answers[i].journeys, j), q, &rk);
            if (!item) {
                dropped++;
                continue;
            }
            rk.item = item;
            all[k++] = rk;
            kept++;
        }
        json_t *line = json_pack("{s:s,s:b,s:i,s:f}", "operator", partners[i].name, "answered", answers[i].ok,
                                 "journeys", (int)kept, "ms", round(answers[i].ms * 10) / 10);
        if (line && !answers[i].ok)
            json_object_set_new(line, "error", json_string(answers[i].error));
        if (line && dropped)
            json_object_set_new(line, "ignored", json_integer((json_int_t)dropped)); /* not answers to the question */
        json_array_append_new(report, line);
        if (!answers[i].ok)
            cv_log("warn", "federated search: partner %s left out: %s", partners[i].name, answers[i].error);
    }
    if (k)
        qsort(all, k, sizeof *all, rank_cmp);
    size_t shown = limit <= 0 || (size_t)cap > k ? k : (size_t)cap;
    for (size_t i = 0; i < shown; i++)
        if (all[i].item && !(all[i].text = json_dumps(all[i].item, WEB_JSON_FLAGS)))
            lost = 1;
    /* The answer: {"code":"Ok","matches":[...],"partners":[...],"own_error":{...}}, each part written by jansson;
       the items are joined as they were written (ours on the search's thread while the partners' were awaited),
       not built again into one document to be written once more. */
    json_t *tail = NULL;
    if (!lost && report)
        tail = json_pack("{s:o}", "partners", report), report = NULL;
    if (tail && own.rc)
        json_object_set_new(tail, "own_error",
                            json_pack("{s:s,s:s}", "code", trip_json_code(own.rc), "message", own.err.text));
    json_t *code = json_pack("{s:s}", "code", osrm_word(OSRM_OK));
    char *head = code ? json_dumps(code, WEB_JSON_FLAGS) : NULL, *text = NULL;
    char *tail_text = tail ? json_dumps(tail, WEB_JSON_FLAGS) : NULL;
    json_decref(code);
    if (head && tail_text) {
        static const char matches[] = ",\"matches\":[";
        size_t hn = strlen(head) - 1; /* without its closing brace */
        size_t len = hn + sizeof matches + strlen(tail_text) + 2;
        for (size_t i = 0; i < shown; i++)
            len += strlen(all[i].text) + 1;
        if ((text = malloc(len))) {
            char *at = text;
            memcpy(at, head, hn), at += hn;
            memcpy(at, matches, sizeof matches - 1), at += sizeof matches - 1;
            for (size_t i = 0; i < shown; i++) {
                size_t n = strlen(all[i].text);
                if (i)
                    *at++ = ',';
                memcpy(at, all[i].text, n), at += n;
            }
            *at++ = ']', *at++ = ',';
            strcpy(at, tail_text + 1); /* the tail's members, without its opening brace */
        }
    }
    for (size_t i = 0; i < k; i++)
        json_decref(all[i].item), free(all[i].text);
    web_count_matches(r, own.n);
    web_partner_answers_free(answers, np);
    json_decref(report), json_decref(tail);
    free(head), free(tail_text), free(answers), free(partners), free(own.v), free(own.items), free(all);
    if (!text)
        return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_word(OSRM_ERROR), "out of memory");
    r->text = text;
    r->content_type = "application/json; charset=utf-8";
    r->status = MHD_HTTP_OK;
    return 0;
}

/* --- our users' bookings on partners' journeys --- */

/* A random (version 4) UUID; -1 when the kernel gives no randomness. */
static int new_uuid(char out[40])
{
    unsigned char b[16];
    if (cv_random_bytes(b, sizeof b))
        return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* the RFC 4122 variant */
    snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
             b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return 0;
}

json_t *web_remote_booking_json(const cv_remote_booking *b)
{
    json_error_t je;
    json_t *doc = json_loads(b->doc, 0, &je);
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:b,s:o,s:o,s:o}", "id", b->uuid, "operator", b->partner, "journey_id",
                          b->journey, "status", web_stdcov_status_word(b->status), "offered_by_partner", b->side == 1,
                          "created", trip_json_datetime(b->created), "updated", trip_json_datetime(b->updated),
                          "booking", doc ? doc : json_null());
    if (j && b->side == 1)
        json_object_set_new(j, "request_id", json_integer(b->request_id));
    return j;
}

/* The partner's error message in its answer, for ours. */
static void partner_says(const web_call_result *res, char *out, size_t cap)
{
    json_error_t je;
    json_t *doc = res->body ? json_loads(res->body, 0, &je) : NULL;
    json_t *e = json_object_get(doc, "error");
    if (!json_is_string(e))
        e = json_object_get(doc, "message");
    snprintf(out, cap, "%.200s", json_is_string(e) ? json_string_value(e) : res->body ? res->body : "");
    json_decref(doc);
}

int web_partner_book(web_req *r, cv_matcher_ws *w, json_t *doc, const char *owner)
{
    if (!r->operator_name)
        return web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, osrm_word(OSRM_UNAVAILABLE),
                         "operator: this server names no operator (start it with --operator HOST) and so has no "
                         "partners");
    json_t *op = json_object_get(doc, "operator"), *j = json_object_get(doc, "journey");
    if (!json_is_string(op) || !json_string_length(op) || json_string_length(op) >= CV_OWNER_MAX)
        return web_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "operator: required, the partner's name");
    cv_error err = {0};
    cv_partner p;
    int rc = cv_store_get_partner(cv_matcher_store(w), json_string_value(op), &p, &err);
    if (rc == CV_ENOTFOUND)
        return web_error(r, MHD_HTTP_NOT_FOUND, osrm_word(OSRM_NOT_FOUND), "no partner operator named %s",
                         json_string_value(op));
    if (rc)
        return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, trip_json_code(rc), "%s", err.text);
    double plat, plng, dlat, dlng;
    json_t *id = json_object_get(j, "id"), *date = json_object_get(j, "passengerPickupDate");
    json_t *driver = json_object_get(j, "driver");
    if (!json_is_object(j) || !json_is_string(id) || !json_string_length(id) || json_string_length(id) > 255 ||
        !json_is_integer(date) || number(j, "passengerPickupLat", -90, 90, &plat) ||
        number(j, "passengerPickupLng", -180, 180, &plng) || number(j, "passengerDropLat", -90, 90, &dlat) ||
        number(j, "passengerDropLng", -180, 180, &dlng) || !json_is_object(driver) ||
        !json_is_string(json_object_get(driver, "id")) || !json_is_string(json_object_get(driver, "alias")) ||
        !json_is_string(json_object_get(driver, "operator")))
        return web_error(r, BAD, osrm_word(OSRM_INVALID_VALUE),
                         "journey: required, the partner's DriverJourney as a search gave it (id, driver, "
                         "passengerPickupLat/Lng, passengerDropLat/Lng, passengerPickupDate)");
    cv_remote_booking b = {.status = CV_PARTNER_WAITING};
    if (new_uuid(b.uuid))
        return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, osrm_word(OSRM_ERROR), "no randomness for a booking id");
    snprintf(b.partner, sizeof b.partner, "%s", p.name);
    snprintf(b.owner, sizeof b.owner, "%s", owner);
    snprintf(b.journey, sizeof b.journey, "%s", json_string_value(id));
    /* our passenger as the partner sees them: an id for this booking only, never our owner reference */
    char pid[48];
    snprintf(pid, sizeof pid, "p-%s", b.uuid);
    json_t *price = json_object_get(j, "price");
    json_t *pr = json_is_object(price) ? json_incref(price) : json_object();
    json_t *booking =
        json_pack("{s:s,s:O,s:{s:s,s:s,s:s},s:O,s:f,s:f,s:f,s:f,s:s,s:o,s:O}", "id", b.uuid, "driver", driver,
                  "passenger", "id", pid, "alias", "Passenger", "operator", r->operator_name, "passengerPickupDate",
                  date, "passengerPickupLat", plat, "passengerPickupLng", plng, "passengerDropLat", dlat,
                  "passengerDropLng", dlng, "status", web_stdcov_status_word(0), "price", pr, "driverJourneyId", id);
    static const char *const copied[] = {"duration", "distance"};
    for (size_t i = 0; booking && i < 2; i++)
        if (json_is_integer(json_object_get(j, copied[i])))
            json_object_set(booking, copied[i], json_object_get(j, copied[i]));
    char *text = booking ? json_dumps(booking, WEB_JSON_FLAGS) : NULL;
    json_decref(booking);
    if (!text || strlen(text) >= sizeof b.doc) {
        free(text);
        return web_error(r, BAD, osrm_word(OSRM_INVALID_VALUE), "journey: too large");
    }
    snprintf(b.doc, sizeof b.doc, "%s", text);
    /* recorded first: the partner's events about it may come before its answer does */
    if ((rc = cv_store_add_remote_booking(cv_matcher_store(w), &b, &err))) {
        free(text);
        return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, trip_json_code(rc), "%s", err.text);
    }
    char url[600];
    snprintf(url, sizeof url, "%s/bookings", p.base_url);
    web_call_result res;
    int called = web_partner_call(&p, "POST", url, text, BOOKING_TIMEOUT_MS, &res);
    free(text);
    if (!called && res.status == 201) {
        free(res.body);
        web_count_booking(r, WEB_BOOK_CREATE);
        cv_store_get_remote_booking(cv_matcher_store(w), b.uuid, &b, &err);
        return web_created(r,
                           json_pack("{s:s,s:o}", "code", osrm_word(OSRM_OK), "booking", web_remote_booking_json(&b)));
    }
    /* not made: cancelled here, and at the partner too in case it made it but its answer was lost */
    cv_error ignore = {0};
    cv_store_remote_status(cv_matcher_store(w), p.name, b.uuid, NULL, CV_PARTNER_CANCELLED, 0, NULL, &ignore);
    char why[256];
    if (called) {
        web_call_result undo;
        snprintf(url, sizeof url, "%s/bookings/%s?status=CANCELLED", p.base_url, b.uuid);
        if (!web_partner_call(&p, "PATCH", url, NULL, BOOKING_TIMEOUT_MS, &undo))
            free(undo.body);
        return web_error(r, BAD_GATEWAY, osrm_word(OSRM_UNAVAILABLE), "partner %s did not answer: %s", p.name,
                         res.error);
    }
    partner_says(&res, why, sizeof why);
    long status = res.status;
    free(res.body);
    if (status >= 400 && status < 500)
        return web_error(r, MHD_HTTP_CONFLICT, osrm_word(OSRM_CONFLICT),
                         "partner %s refused the booking (HTTP %ld): %s", p.name, status, why);
    return web_error(r, BAD_GATEWAY, osrm_word(OSRM_UNAVAILABLE), "partner %s failed (HTTP %ld): %s", p.name, status,
                     why);
}

int web_remote_cancel(web_req *r, cv_matcher_ws *w, cv_remote_booking *b)
{
    if (b->status == CV_PARTNER_CANCELLED)
        return web_error(r, MHD_HTTP_CONFLICT, osrm_word(OSRM_CONFLICT), "booking %s is cancelled already", b->uuid);
    cv_error err = {0};
    cv_partner p;
    int rc = cv_store_get_partner(cv_matcher_store(w), b->partner, &p, &err);
    if (rc)
        return web_error(r, rc == CV_ENOTFOUND ? BAD_GATEWAY : 500, osrm_word(OSRM_UNAVAILABLE), "partner %s: %s",
                         b->partner, err.text);
    char url[600], why[256];
    snprintf(url, sizeof url, "%s/bookings/%s?status=CANCELLED", p.base_url, b->uuid);
    web_call_result res;
    if (web_partner_call(&p, "PATCH", url, NULL, BOOKING_TIMEOUT_MS, &res))
        return web_error(r, BAD_GATEWAY, osrm_word(OSRM_UNAVAILABLE), "partner %s did not answer: %s", p.name,
                         res.error);
    partner_says(&res, why, sizeof why);
    free(res.body);
    /* 409: the partner has it at this status or later already (cancelled on its side) */
    if (res.status != 200 && res.status != 409)
        return web_error(r, res.status >= 500 ? BAD_GATEWAY : MHD_HTTP_CONFLICT,
                         osrm_word(res.status >= 500 ? OSRM_UNAVAILABLE : OSRM_CONFLICT),
                         "partner %s refused the cancellation (HTTP %ld): %s", p.name, res.status, why);
    if ((rc = cv_store_remote_status(cv_matcher_store(w), b->partner, b->uuid, NULL, CV_PARTNER_CANCELLED, 0, NULL,
                                     &err)) ||
        (rc = cv_store_get_remote_booking(cv_matcher_store(w), b->uuid, b, &err)))
        return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, trip_json_code(rc), "%s", err.text);
    web_count_booking(r, WEB_BOOK_CANCEL);
    return web_ok(r, json_pack("{s:s,s:o}", "code", osrm_word(OSRM_OK), "booking", web_remote_booking_json(b)));
}
