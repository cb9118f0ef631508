/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* store.h — the trip store: the truth for offers, requests, stops, bookings and owners, on SQLite (a file, the
   embedded default) or PostgreSQL (a postgresql:// URI, for several servers on one replicated database). It owns
   the schema (SQLite: its migrations, PRAGMA user_version, WAL, foreign keys, a busy timeout; PostgreSQL: the whole
   schema made once, its version in the settings table). Writes run one at a time, in BEGIN IMMEDIATE transactions
   on SQLite and SERIALIZABLE ones under one advisory lock on PostgreSQL, run again by the store itself when
   PostgreSQL reports a serialization failure. A lost PostgreSQL connection is CV_EUNAVAILABLE, and made again by
   the next call. One cv_store per thread. */
#ifndef CV_STORE_H
#define CV_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "util/cv_error.h"
#include "matcher/trip.h"

#define CV_STORE_SCHEMA_VERSION 8

typedef struct cv_store cv_store;

/* Opens (creating if needed) the database at path (a file, or a postgresql:// URI: db.h) and brings its schema up
   to date. A database with a newer schema version than this covoit knows is refused (CV_EVERSION); a file that is
   not SQLite, or a PostgreSQL database holding another application's tables, CV_EFORMAT; a PostgreSQL server that
   cannot be reached, CV_EUNAVAILABLE. A new
   database records the process's time zone (cv_tz_name); one that recorded another is refused (CV_EZONE): its
   local dates and times would mean other instants. Returns 0 and *out, or a CV_E* code with err filled. */
int cv_store_open(const char *path, cv_store **out, cv_error *err);

/* Whether target names a PostgreSQL database (a postgresql:// or postgres:// URI) rather than an SQLite file. */
int cv_store_is_postgres(const char *target);

/* target as messages and logs may show it: a file's path, or "PostgreSQL database HOSTS/NAME" without the user
   and password a URI may carry. */
void cv_store_name(const char *target, char *out, size_t cap);

/* The longest zone name kept. */
#define CV_ZONE_MAX 256

/* The zone the database at path keeps its local times in, into out ("" when there is no database there yet, or it
   has not recorded one): what a covoit started without --tz runs in. */
int cv_store_zone(const char *path, char out[CV_ZONE_MAX], cv_error *err);

/* Converts the database at path from zone `from` (the one it records) to the zone now set (cv_tz_name): regular
   schedules and booking dates keep the instant of their first occurrence (dates and weekdays move with it when
   the day changes), stop times of day likewise; punctual times are instants already. Where the two zones change
   their clocks on different dates, later occurrences keep the new zone's local time. Sets the zone process-wide
   while it works (cv_tz_set): call it before any thread starts. */
int cv_store_convert_zone(const char *path, const char *from, cv_error *err);

/* Sets the "now" this connection stamps changes with (created, updated); 0 returns to the real clock. Lets a
   caller that works at a given time (a script's --now, a test) get consistent records. */
void cv_store_set_clock(cv_store *s, int64_t now);

/* The connection's "now": the caller's clock when it set one, else the real one. */
int64_t cv_store_clock(const cv_store *s);

/* Finalises statements and closes the connection; accepts NULL. */
void cv_store_close(cv_store *s);

/* Stop kinds in an offer's sequence. */
typedef enum cv_stop_kind {
    CV_STOP_ORIGIN = 0,
    CV_STOP_VIA = 1,
    CV_STOP_PICKUP = 2,
    CV_STOP_DROPOFF = 3,
    CV_STOP_DESTINATION = 4
} cv_stop_kind;

/* A stop of an offer. Stops are ordered by key: the origin has key 0, the destination CV_STOP_KEY_END, vias are
   spread between; a passenger's pickup and drop-off get keys between the stops they were inserted between
   (their midpoints), so that the order survives without renumbering. */
#define CV_STOP_KEY_END 1000000.0
typedef struct cv_stop {
    double key;
    cv_stop_kind kind;
    cv_coord at;
    int64_t booking_id; /* pickups and drop-offs: the booking; 0 otherwise */
    int seats_delta;    /* + seats at a pickup, - at a drop-off, 0 otherwise */
    cv_dates dates;     /* the dates the stop is made: its booking's (within the offer's), CV_DATES_ALL for the
                           driver's own stops */
} cv_stop;

/* --- offers --- */

/* Stores o (validated by the caller) with its origin, vias and destination as stops, and its owner. Sets o->id
   and o->created. Returns 0 or a CV_E* code. */
int cv_store_add_offer(cv_store *s, cv_offer *o, cv_error *err);

/* Reads offer id. CV_ENOTFOUND when there is none. */
int cv_store_get_offer(cv_store *s, int64_t id, cv_offer *o, cv_error *err);

/* Offers of owner (all owners when NULL), open ones only when open_only; newest first. *out is malloc'ed. */
int cv_store_list_offers(cv_store *s, const char *owner, int open_only, cv_offer **out, size_t *n, cv_error *err);

/* Cancels an open offer, and its pending and accepted bookings with it. CV_ENOTFOUND, or CV_ECONFLICT when it
   is cancelled already. */
int cv_store_cancel_offer(cv_store *s, int64_t id, cv_error *err);

/* The offer's stops in order of key (origin, vias, accepted passengers' pickups and drop-offs, destination).
 *out is malloc'ed. */
int cv_store_offer_stops(cv_store *s, int64_t offer_id, cv_stop **out, size_t *n, cv_error *err);

/* The same, with the version of that sequence (read in the same transaction): it changes whenever a passenger's
   stops are added or removed, and a booking placed on one version is accepted only on it. */
int cv_store_offer_plan(cv_store *s, int64_t offer_id, cv_stop **out, size_t *n, int64_t *version, cv_error *err);

/* --- requests --- */

int cv_store_add_request(cv_store *s, cv_request *r, cv_error *err);
int cv_store_get_request(cv_store *s, int64_t id, cv_request *r, cv_error *err);
int cv_store_list_requests(cv_store *s, const char *owner, int open_only, cv_request **out, size_t *n, cv_error *err);
int cv_store_cancel_request(cv_store *s, int64_t id, cv_error *err);

/* --- bookings --- */

/* Records a pending booking b (offer_id, request_id, seats, dates, pickup/dropoff with their keys and times,
   amount). The offer and the request must exist and be open, the seats positive, the keys ordered and inside the
   sequence, the dates some of the offer's; a request has at most one pending or accepted booking on an offer, and
   none on a date it already rides in another car (CV_ECONFLICT). Sets b->id. */
int cv_store_add_booking(cv_store *s, cv_booking *b, cv_error *err);

int cv_store_get_booking(cv_store *s, int64_t id, cv_booking *b, cv_error *err);

/* Bookings of owner's trips, newest first, at most limit: side 1 those on their offers (as the driver), 2 those of
   their requests (as the passenger), 0 both. *out is malloc'ed. */
int cv_store_list_owner_bookings(cv_store *s, const char *owner, int side, int limit, cv_booking **out, size_t *n,
                                 cv_error *err);

/* Bookings of a request, on any offer, oldest first. *out is malloc'ed. CV_ENOTFOUND for an unknown request. */
int cv_store_list_request_bookings(cv_store *s, int64_t request_id, cv_booking **out, size_t *n, cv_error *err);

/* Seats left on one date of an offer: its seats less the most that accepted bookings riding that date take on one
   leg. */
typedef struct cv_day_seats {
    cv_day day;
    int seats_left;
} cv_day_seats;

/* The dates of offer_id from `from` on where some seat is taken, with the seats left on each (dates not listed
   have every seat free), in date order. *out is malloc'ed. */
int cv_store_seats_left(cv_store *s, int64_t offer_id, cv_day from, cv_day_seats **out, size_t *n, cv_error *err);

/* Bookings of an offer (all statuses when status < 0), oldest first. *out is malloc'ed. */
int cv_store_list_bookings(cv_store *s, int64_t offer_id, int status, cv_booking **out, size_t *n, cv_error *err);

/* Accepts a pending booking, atomically: inside one BEGIN IMMEDIATE transaction it checks that the offer is
   open, that the request rides in no other car on any of the booking's dates, and that on each of those dates, on
   every leg between the booking's pickup and drop-off key, the seats of the accepted bookings riding that date plus
   this one fit the offer's seats; then marks it accepted, adds its pickup and drop-off as stops (made on its
   dates), and marks the request's other pending bookings on those dates superseded. Two passengers racing for
   the last seat never both get it, nor two drivers the same passenger: the second gets CV_ECONFLICT ("no seat left
   ...", "already rides with ..."). CV_ENOTFOUND for an unknown booking, CV_ECONFLICT when it is not pending.
   CV_ESTALE when the booking was placed (cv_store_place_booking) on an older version of the offer's stops: a
   passenger's stops came or went since, and the placement must be made again. */
int cv_store_accept_booking(cv_store *s, int64_t id, cv_error *err);

/* The same, with the booking placed as `placement` says (pickup, drop-off, keys, times, amount, dates and the plan
   version they were computed on) in the same transaction: the checks above hold for that placement, and when one
   refuses, nothing is written. What the matcher does (cv_matcher_accept). */
int cv_store_accept_placed(cv_store *s, int64_t id, const cv_booking *placement, int64_t now, cv_error *err);

/* Moves a pending booking to a new place in the offer's sequence (pickup, drop-off, their keys and times, the
   amount, its dates, and the plan version it was placed on: placement->plan_version): the matcher places a
   booking again against the offer's stops of the moment it is accepted, since other passengers may have been
   accepted since it was made. CV_ECONFLICT when it is not pending. */
int cv_store_place_booking(cv_store *s, int64_t id, const cv_booking *placement, int64_t now, cv_error *err);

/* Refuses a pending booking (CV_ECONFLICT otherwise). */
int cv_store_refuse_booking(cv_store *s, int64_t id, cv_error *err);

/* Cancels a pending or accepted booking; an accepted one gives its seats back and its stops are removed. */
int cv_store_cancel_booking(cv_store *s, int64_t id, cv_error *err);

/* --- the change log (schema version 5) ---

   Every write that changes what a matching index holds (an offer or a request added or cancelled, a passenger's
   stops added to or removed from an offer) appends, in the same transaction, the offers and requests it touched.
   A process holding an index follows the log from the sequence number it has applied (cv_matcher_sync): the
   database is the one truth, whichever process wrote. Sequence numbers only grow; old entries are pruned, and a
   follower that finds the entries it needed pruned rebuilds its index from the tables. */

typedef enum cv_change_kind { CV_CHANGE_OFFER = 0, CV_CHANGE_REQUEST = 1 } cv_change_kind;

typedef struct cv_change {
    int64_t seq;
    cv_change_kind kind;
    int64_t ref; /* the offer's or the request's id */
} cv_change;

/* Up to max entries after sequence number `after`, in order, into *out (malloc'ed); *first and *last (when not
   NULL): the oldest sequence number still kept (0 when the log is empty) and the latest ever given (0 when none),
   read in the same transaction. */
int cv_store_changes(cv_store *s, int64_t after, size_t max, cv_change **out, size_t *n, int64_t *first, int64_t *last,
                     cv_error *err);

/* Deletes the entries written before UTC second `before`, always keeping the latest. */
int cv_store_prune_changes(cv_store *s, int64_t before, cv_error *err);

/* Waits up to timeout_ms for a change another connection commits: on PostgreSQL the log's notification (LISTEN on
   this store's connection from the first call), on SQLite nothing to wait for (the timeout passes: its followers
   poll). 1 when one came (always on SQLite), 0 at the timeout, or a CV_E* code (CV_EUNAVAILABLE: the connection is
   lost; a follower catches up by sequence number once it is back, so a missed notification loses nothing). */
int cv_store_wait_changes(cv_store *s, int timeout_ms, cv_error *err);

/* Whether the store is a database several servers share and that announces its changes (PostgreSQL), rather than
   an SQLite file; and the engine's name ("sqlite", "postgresql"). */
int cv_store_shared(const cv_store *s);
const char *cv_store_engine(const cv_store *s);

/* Statements the store's connection has run (db.h, cv_db_statements: PostgreSQL's round trips). */
int64_t cv_store_statements(const cv_store *s);

/* --- API keys (schema version 2) --- */

/* Scopes of a key, bits: what its holder may do. */
#define CV_SCOPE_ROUTING 1u /* routing queries: routes, tables, nearest roads */
#define CV_SCOPE_SEARCH 2u  /* searching trips: a search that stores nothing, an offer's or a request's matches */
#define CV_SCOPE_TRIPS 4u   /* writing and reading its own trips: offers, requests and bookings */
#define CV_SCOPE_ADMIN 8u   /* everything, anyone's trips */
#define CV_SCOPE_INTEROP                                                                                               \
    16u /* a partner operator of the carpool interoperability standard: its searches of our                            \
           journeys and trips, its bookings on them and its users' messages */
#define CV_SCOPE_ALL 31u

/* "cvk_" and 64 hex digits, NUL-terminated. */
#define CV_KEY_SECRET_MAX 70

typedef struct cv_key_info {
    int64_t id;
    char client[CV_OWNER_MAX];
    unsigned scopes;
    int64_t created;
    int64_t revoked; /* 0: active */
} cv_key_info;

/* Makes a key for client (1 to CV_OWNER_MAX - 1 bytes, no ':') with scopes: a random 32-byte secret written to
   out_secret as "cvk_" + hex (shown once: only its SHA-256 is stored). Sets *id (when not NULL). */
int cv_store_add_key(cv_store *s, const char *client, unsigned scopes, char out_secret[CV_KEY_SECRET_MAX], int64_t *id,
                     cv_error *err);

/* Every key, revoked ones too, by id. *out is malloc'ed. */
int cv_store_list_keys(cv_store *s, cv_key_info **out, size_t *n, cv_error *err);

/* Revokes key id: CV_ENOTFOUND when there is no such key or it is revoked already. */
int cv_store_revoke_key(cv_store *s, int64_t id, cv_error *err);

/* How many keys are not revoked. */
int cv_store_active_keys(cv_store *s, int *count, cv_error *err);

/* The client and scopes of the active key whose secret this is; CV_ENOTFOUND for an unknown or revoked one. */
int cv_store_check_key(cv_store *s, const char *secret, char client[CV_OWNER_MAX], unsigned *scopes, cv_error *err);

/* --- erasing a person --- */

/* What an erasure deleted. */
typedef struct cv_erase_counts {
    size_t offers, requests, bookings, stops, messages, other, owner;
    int wal_emptied; /* 1: the write-ahead log was copied back and emptied, so no frame of it holds the rows */
} cv_erase_counts;

/* Deletes everything stored about owner, in one transaction: their offers and requests with their stops, every
   booking on them (the other side's request or offer stays, and is logged as changed so that matchers read it
   again; a driver's offer loses this passenger's stops), the partners' records of those bookings and the events
   still owed about them, their messages and the bookings they made with partners' drivers, and the owner's row.
   Deleted content is overwritten (secure_delete), then the write-ahead log is copied back and truncated, so that
   nothing of it stays in the database files. 0 (also when nothing was stored about them) or a CV_E* code. */
int cv_store_erase_owner(cv_store *s, const char *owner, cv_erase_counts *out, cv_error *err);

/* The retention of past trips: deletes, as cv_store_erase_owner does, every offer and request whose last date is
   before day (a single trip's departure before day's local midnight, a regular one's last_day), with their stops
   and bookings, and the owners nothing is stored about any more; the files are cleaned the same way. */
int cv_store_purge_before(cv_store *s, cv_day day, cv_erase_counts *out, cv_error *err);

/* --- bookings made by partner operators (schema version 6) --- */

/* A booking a partner operator made through the carpool interoperability standard, for one of its users, on one of
   our driver's journeys: the covoit booking it is (booking_id, with its seats and acceptance) and what the
   standard keeps beside it: the partner's id for it (a UUID), the journey booked, the partner's user, and the
   progress the partner reports after the ride. */
typedef enum cv_partner_status {
    CV_PARTNER_WAITING = 0,   /* WAITING_CONFIRMATION */
    CV_PARTNER_CONFIRMED = 1, /* CONFIRMED */
    CV_PARTNER_COMPLETED = 2, /* COMPLETED_PENDING_VALIDATION */
    CV_PARTNER_VALIDATED = 3, /* VALIDATED */
    CV_PARTNER_CANCELLED = 4  /* CANCELLED */
} cv_partner_status;

#define CV_PARTNER_TEXT_MAX 256 /* bytes of a partner's user id, alias or operator, NUL included */
#define CV_PARTNER_MESSAGE_MAX 501

typedef struct cv_partner_booking {
    char uuid[40];
    char partner[CV_OWNER_MAX]; /* the client of the key that made it */
    int64_t booking_id;
    char journey[128]; /* the journey booked, as the standard named it */
    char user_id[CV_PARTNER_TEXT_MAX], user_alias[CV_PARTNER_TEXT_MAX], user_operator[CV_PARTNER_TEXT_MAX];
    cv_partner_status status; /* as the partner last set it */
    char message[CV_PARTNER_MESSAGE_MAX];
    int64_t created, updated;
} cv_partner_booking;

/* Records b (its uuid not known yet: CV_ECONFLICT when it is; booking_id an existing booking). */
int cv_store_add_partner_booking(cv_store *s, const cv_partner_booking *b, cv_error *err);

/* The partner booking uuid; CV_ENOTFOUND when there is none. */
int cv_store_get_partner_booking(cv_store *s, const char *uuid, cv_partner_booking *out, cv_error *err);

/* Whether request_id is a partner's user's (made by a partner's booking): *yes 1 or 0. */
int cv_store_request_of_partner(cv_store *s, int64_t request_id, int *yes, cv_error *err);

/* Sets the partner's status (and message, NULL: none) of uuid; CV_ENOTFOUND when there is none. */
int cv_store_set_partner_status(cv_store *s, const char *uuid, cv_partner_status status, const char *message,
                                cv_error *err);

/* A message a partner's user sent one of ours (the driver of an offer, the passenger of a request) through the
   interoperability standard, about a journey or a booking. */
typedef struct cv_message {
    int64_t id;
    char owner[CV_OWNER_MAX]; /* our user it is for: the owner of the trip */
    int trip_kind;            /* 0: to the driver of offer trip_id, 1: to the passenger of request trip_id */
    int64_t trip_id;
    char partner[CV_OWNER_MAX]; /* the client of the key that sent it */
    char from_id[CV_PARTNER_TEXT_MAX], from_alias[CV_PARTNER_TEXT_MAX], from_operator[CV_PARTNER_TEXT_MAX];
    char text[CV_PARTNER_MESSAGE_MAX];
    char journey[128], booking[40]; /* what it is about, as the partner named them ("" for none) */
    int64_t created, read_at;       /* read_at 0: unread */
} cv_message;

/* Stores m (owner, trip and text required); sets m->id and m->created. */
int cv_store_add_message(cv_store *s, cv_message *m, cv_error *err);

/* The messages for owner (NULL: everyone's), oldest first, only the unread ones when unread_only. *out is
   malloc'ed. */
int cv_store_list_messages(cv_store *s, const char *owner, int unread_only, cv_message **out, size_t *n, cv_error *err);

/* Message id; CV_ENOTFOUND when there is none. */
int cv_store_get_message(cv_store *s, int64_t id, cv_message *out, cv_error *err);

/* Marks message id read (once: the first time stays); CV_ENOTFOUND when there is none. */
int cv_store_mark_message_read(cv_store *s, int64_t id, cv_error *err);

/* --- partner operators, the events we owe them, the bookings we made with them (schema version 7) --- */

/* A partner operator of the interoperability standard, as `covoit partner add` configures it. */
typedef struct cv_partner {
    char name[CV_OWNER_MAX]; /* its operator name in the standard (a host name), which is also the client of the key
                                it calls us with */
    char base_url[512];      /* its standard's base (https://coop.example/stdcov/v1), no trailing '/' */
    char api_key[256];       /* the X-API-Key it gave us, sent on every call we make to it */
    char events_url[512];    /* where its booking events go (base_url/booking_events unless told) */
    int64_t created;
} cv_partner;

/* Records p: CV_ECONFLICT when one of that name exists, CV_EINVAL for an empty field. */
int cv_store_add_partner(cv_store *s, const cv_partner *p, cv_error *err);

/* The partner named name; CV_ENOTFOUND when there is none. */
int cv_store_get_partner(cv_store *s, const char *name, cv_partner *out, cv_error *err);

/* Every partner, by name. *out is malloc'ed. */
int cv_store_list_partners(cv_store *s, cv_partner **out, size_t *n, cv_error *err);

/* Removes partner name; CV_ENOTFOUND when there is none. Events owed to it stay in the outbox, held, until a
   partner of that name is configured again. */
int cv_store_remove_partner(cv_store *s, const char *name, cv_error *err);

/* A booking event owed to a partner: the status its booking took on our side (our driver accepted, refused, or
   cancelled it). The store writes one, in the same transaction, whenever the covoit booking behind a partner's
   booking changes status, unless the partner cancelled it itself. */
#define CV_OUTBOX_BODY_MAX 4096
typedef struct cv_outbox_event {
    int64_t id; /* increasing: the order of the events */
    int kind;   /* 0: a booking event (status), 1: a message (body) */
    char partner[CV_OWNER_MAX];
    char uuid[40];  /* the partner's booking */
    char event[40]; /* the event's own id (a UUID), the same on every attempt: the partner's way to drop a repeat */
    cv_partner_status status;
    int64_t created;
    int attempts;                  /* failed attempts so far */
    char body[CV_OUTBOX_BODY_MAX]; /* a message: the standard's message document to POST to BASE/messages */
} cv_outbox_event;

/* The events to send now: for each booking, its oldest waiting event (a later one waits until it is delivered),
   when its next attempt is due (next_at <= now) and its partner is configured; oldest first, at most max. *out is
   malloc'ed. */
int cv_store_outbox_due(cv_store *s, int64_t now, size_t max, cv_outbox_event **out, size_t *n, cv_error *err);

/* Queues a message for partner (body: the standard's POST /messages document, at most CV_OUTBOX_BODY_MAX - 1
   bytes), delivered after the messages queued for it before. */
int cv_store_outbox_message(cv_store *s, const char *partner, const char *body, cv_error *err);

/* Event id is done: delivered, or refused for good by the partner (refused 1, why saying how). */
int cv_store_outbox_done(cv_store *s, int64_t id, int refused, const char *why, cv_error *err);

/* Event id failed this time (why): one more attempt, the next one not before next_at. */
int cv_store_outbox_retry(cv_store *s, int64_t id, int64_t next_at, const char *why, cv_error *err);

/* Takes event id to deliver it now, until `until` (a lease, as cv_store_proof_claim): 1 when taken, 0 when another
   server has it or it is done. Several servers on one database deliver each event once, each booking's in order
   (the booking's later events wait behind a taken one). */
int cv_store_outbox_claim(cv_store *s, int64_t id, int64_t now, int64_t until, cv_error *err);

typedef struct cv_outbox_stats {
    int64_t waiting;   /* events not delivered yet */
    int64_t delivered; /* events delivered */
    int64_t refused;   /* events a partner refused for good */
    int64_t oldest;    /* creation time of the oldest waiting event, 0 when none waits */
    int64_t held;      /* waiting events whose partner is not configured */
} cv_outbox_stats;

int cv_store_outbox_stats(cv_store *s, cv_outbox_stats *st, cv_error *err);

/* A booking between one of our passengers and a partner's driver: one our passenger made on the partner's
   journey, through its POST /bookings (side 0), or one the partner made for its driver on our passenger's journey
   through ours (side 1, passengerJourneyId). */
#define CV_REMOTE_DOC_MAX 4096
typedef struct cv_remote_booking {
    char uuid[40];               /* the booking's id, which both operators keep */
    char partner[CV_OWNER_MAX];  /* the partner's name */
    char owner[CV_OWNER_MAX];    /* our passenger */
    int side;                    /* 0: we asked its driver, 1: its driver asked our passenger */
    int64_t request_id;          /* side 1: our passenger's request */
    char journey[256];           /* the partner's driver journey (side 0), our passenger's journey (side 1) */
    char doc[CV_REMOTE_DOC_MAX]; /* the standard's Booking as it was made (JSON) */
    cv_partner_status status;    /* as it stands */
    int64_t created, updated;
} cv_remote_booking;

/* Records b (CV_ECONFLICT when its uuid exists). */
int cv_store_add_remote_booking(cv_store *s, const cv_remote_booking *b, cv_error *err);

/* Records b, a booking a partner's event tells of that we never asked for (side 0; owner may be empty: one of our
   users who booked on the partner's own site), with event, the partner's event id, as seen: in one transaction
   (CV_ECONFLICT when the uuid or the event exists). */
int cv_store_add_event_booking(cv_store *s, const cv_remote_booking *b, const char *event, cv_error *err);

/* Remote booking uuid; CV_ENOTFOUND when there is none. */
int cv_store_get_remote_booking(cv_store *s, const char *uuid, cv_remote_booking *out, cv_error *err);

/* The remote bookings of owner (NULL: anyone's) and of request request_id (0: any), oldest first. *out is
   malloc'ed. */
int cv_store_list_remote_bookings(cv_store *s, const char *owner, int64_t request_id, cv_remote_booking **out,
                                  size_t *n, cv_error *err);

/* News about remote booking uuid: its status, which only moves forward (WAITING_CONFIRMATION, CONFIRMED,
   COMPLETED_PENDING_VALIDATION, VALIDATED, CANCELLED; an older one changes nothing). From the partner (partner
   its name, which must hold the booking: CV_ENOTFOUND otherwise) or from our passenger (partner NULL). event
   (NULL: none) is the partner's event id: an event seen before changes nothing. owe_event: the partner is owed
   a booking event for the change, queued in the same transaction. *applied (when not NULL): 1 the status moved;
   0 the event was seen before (nothing to do again); -1 the status does not move forward (the standard's
   "dismissed"; such an event is not recorded as seen). */
int cv_store_remote_status(cv_store *s, const char *partner, const char *uuid, const char *event,
                           cv_partner_status status, int owe_event, int *applied, cv_error *err);

/* --- carpool proofs (schema version 8) ---

   A ride of an accepted booking on one of its dates is completed when both sides say so: the driver and the
   passenger each validate it (cv_store_complete_booking). The second validation writes, in the same transaction,
   the proof of the carpool that public incentives are paid on (the French register of carpool proofs, RPC): a row
   of the proofs table, which is also the outbox it is sent from. A proof keeps no owner's reference: the two people
   are pseudonyms (cv_store_pseudonym), so that it outlives their erasure (docs/privacy.md) and says nothing of
   them beyond the ride itself. */

#define CV_PSEUDONYM_MAX 33 /* 32 hex digits */

typedef enum cv_side { CV_SIDE_DRIVER = 0, CV_SIDE_PASSENGER = 1 } cv_side;

typedef struct cv_proof {
    int64_t id;
    char journey_id[48]; /* operator_journey_id: this passenger's ride that date, "booking-ID-YYYY-MM-DD" */
    char trip_id[48];    /* operator_trip_id: the car's trip that date, shared by its passengers, "offer-ID-..." */
    int64_t booking_id, offer_id;
    cv_day day;
    int64_t start_time, end_time; /* UTC seconds: the pickup and the drop-off as planned that date */
    cv_coord start, end;          /* the pickup and the drop-off */
    int64_t distance_m;           /* the passenger's ride on the road, pickup to drop-off */
    int seats;
    int64_t contribution_cents;       /* what the passenger pays, and the driver receives: all of it */
    char passenger[CV_PSEUDONYM_MAX]; /* the two people, as pseudonyms */
    char driver[CV_PSEUDONYM_MAX];
    int64_t created;
    int attempts;         /* failed deliveries so far */
    int64_t next_at;      /* the next delivery not before */
    int64_t done;         /* when the register acknowledged or refused it; 0 while it waits */
    int refused;          /* 1: the register refused it for good (last_error says how) */
    char last_error[256]; /* of the last attempt */
} cv_proof;

/* What is known of one ride of a booking: who validated it, and its proof once both have. */
typedef struct cv_completion {
    int driver, passenger; /* 1: validated */
    int64_t proof_id;      /* 0 until both have */
} cv_completion;

/* Side validates the ride of accepted booking booking_id on day (one of its dates, which must have started by
   now: its pickup time that date is past): in one write transaction, with the passenger's ride distance_m as the
   caller measured it on the road. Validating again changes nothing. When the other side has validated too, the
   proof is written, once. *out (may be NULL) is the state after. CV_ENOTFOUND for an unknown booking,
   CV_ECONFLICT when it is not accepted or the ride has not started, CV_EINVAL for a date not among its dates. */
int cv_store_complete_booking(cv_store *s, int64_t booking_id, cv_day day, cv_side side, int64_t distance_m,
                              int64_t now, cv_completion *out, cv_error *err);

/* The state of the ride of booking_id on day (zeros when nobody validated it). */
int cv_store_completion(cv_store *s, int64_t booking_id, cv_day day, cv_completion *out, cv_error *err);

/* The pseudonym of owner in proofs: the first 128 bits of SHA-256 of a secret this database drew when it was made
   and of the reference, in hex. The same person always gets the same one from one database (the register counts
   their rides); no one without the database can tell whom it stands for, nor link it to another operator's. */
int cv_store_pseudonym(cv_store *s, const char *owner, char out[CV_PSEUDONYM_MAX], cv_error *err);

int cv_store_get_proof(cv_store *s, int64_t id, cv_proof *out, cv_error *err);

/* The proofs whose ride started in [from, to) (UTC seconds), of pseudonym (NULL: everyone's; either side), in
   order of start. *out is malloc'ed. */
int cv_store_list_proofs(cv_store *s, int64_t from, int64_t to, const char *pseudonym, cv_proof **out, size_t *n,
                         cv_error *err);

/* The proofs to send now (waiting, next_at <= now), oldest first, at most max. *out is malloc'ed. */
int cv_store_proofs_due(cv_store *s, int64_t now, size_t max, cv_proof **out, size_t *n, cv_error *err);

/* Takes proof id to send it now, until `until` (a lease: when the sender dies, another takes it after): 1 when
   taken, 0 when another sender has it or it is done. Several servers on one database send each proof once. */
int cv_store_proof_claim(cv_store *s, int64_t id, int64_t now, int64_t until, cv_error *err);

/* Proof id is done: acknowledged by the register, or refused for good (refused 1, why saying how). */
int cv_store_proof_done(cv_store *s, int64_t id, int refused, const char *why, cv_error *err);

/* Proof id failed this time (why): one more attempt, the next one not before next_at. */
int cv_store_proof_retry(cv_store *s, int64_t id, int64_t next_at, const char *why, cv_error *err);

typedef struct cv_proof_stats {
    int64_t waiting, acknowledged, refused;
    int64_t oldest; /* creation time of the oldest waiting proof, 0 when none waits */
} cv_proof_stats;

int cv_store_proof_stats(cv_store *s, cv_proof_stats *out, cv_error *err);

/* --- durability --- */

/* Which commits of a connection wait until the disk has them (docs/ARCHITECTURE.md, Durability). The database is
   in WAL mode: a commit at PRAGMA synchronous=FULL syncs the log before it returns, so it survives an OS crash or a
   power cut; at NORMAL the log is synced at checkpoints only, so such a cut may take back the last commits (never
   corrupting the file, nor keeping a commit without the ones before it). A process crash loses no commit either
   way. FULL costs one fsync per commit: bench/results/writes.txt. */
typedef enum cv_durability {
    CV_DURABLE_BOOKINGS = 0, /* the default: FULL for every commit but the light ones, NORMAL: a new offer or
                                request, and placing a booking again before its acceptance (the acceptance's own
                                FULL commit syncs it, and everything before it) */
    CV_DURABLE_NORMAL = 1,   /* NORMAL for every commit */
    CV_DURABLE_FULL = 2      /* FULL for every commit */
} cv_durability;

/* Sets d for this connection (cv_store_open sets CV_DURABLE_BOOKINGS), from its next transaction on. 0, or
   CV_EINVAL for an unknown d. */
int cv_store_set_durability(cv_store *s, cv_durability d, cv_error *err);

#endif
