/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* store.c — the trip store on either engine of db.h (SQLite or PostgreSQL): schema and migrations, prepared
   statements, offers, requests, stops, bookings, keys, partners, messages, proofs. Its statements are written once,
   in the SQL both engines speak; what differs is the schema's DDL (SQLite's migrations here, PostgreSQL's whole
   schema in schema_pg.c), a random UUID in SQL, and what only SQLite has (its file header, WAL, secure_delete). */
#define _POSIX_C_SOURCE 200809L
#include "matcher/store.h"
#include "matcher/db.h"
#include "matcher/sqlite_int.h"
#include "matcher/store_int.h"

#include "util/cv_sha256.h"
#include "matcher/timeutil.h"

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Written into the database header so that another application's SQLite file is told apart from ours. */
#define COVOIT_APPLICATION_ID 0x636f7674 /* "covt" */

/* Long enough for a server under load to finish its queued writes; short enough that a stuck lock shows up. */
#define BUSY_TIMEOUT_MS 5000

/* ---- schema ----

   migrations[v] brings a database from user_version v to v + 1; each step runs in its own BEGIN IMMEDIATE
   transaction together with the user_version bump, so a failed step leaves the previous version intact. A later
   schema appends a step here and raises CV_STORE_SCHEMA_VERSION; never edit a step that has shipped.

   Coordinates are integers in 1e-7 degrees (cv_coord as is), times integer UTC seconds, days cv_day numbers.
   The stops table holds an offer's whole sequence: the driver's origin, vias and destination (booking_id NULL)
   and the pickups and drop-offs of accepted bookings, ordered by a REAL key (see store.h). */
/* A random (version 4) UUID, in SQLite's SQL (PostgreSQL has gen_random_uuid: UUID_SQL). */
#define RANDOM_UUID                                                                                                    \
    "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || "        \
    "substr('89AB', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))"

/* A statement holding a random UUID between before and after, in the SQL of the store's engine. */
#define UUID_SQL(s, before, after) ((s)->pg ? before "gen_random_uuid()::text" after : before RANDOM_UUID after)

static const char *const migrations[] = {
    /* 0 -> 1: the first schema */
    "CREATE TABLE owners ("
    "  ref TEXT PRIMARY KEY CHECK (length(ref) > 0),"
    "  created INTEGER NOT NULL"
    ") WITHOUT ROWID;"

    "CREATE TABLE offers ("
    "  id INTEGER PRIMARY KEY,"
    "  owner TEXT NOT NULL REFERENCES owners(ref),"
    "  from_lon INTEGER NOT NULL, from_lat INTEGER NOT NULL,"
    "  to_lon INTEGER NOT NULL, to_lat INTEGER NOT NULL,"
    "  sched_kind INTEGER NOT NULL CHECK (sched_kind IN (0, 1)),"
    "  depart INTEGER NOT NULL,"
    "  weekdays INTEGER NOT NULL CHECK (weekdays BETWEEN 0 AND 127),"
    "  time_of_day INTEGER NOT NULL,"
    "  first_day INTEGER NOT NULL,"
    "  last_day INTEGER NOT NULL,"
    "  margin_s INTEGER NOT NULL CHECK (margin_s >= 0),"
    "  seats INTEGER NOT NULL CHECK (seats > 0),"
    "  max_detour_s INTEGER NOT NULL,"
    "  max_detour_m INTEGER NOT NULL,"
    "  price_per_km REAL NOT NULL CHECK (price_per_km >= 0),"
    "  status INTEGER NOT NULL CHECK (status IN (0, 1)),"
    "  created INTEGER NOT NULL,"
    "  direct_duration_ds INTEGER NOT NULL,"
    "  direct_distance_dm INTEGER NOT NULL,"
    "  CHECK (from_lon BETWEEN -1800000000 AND 1800000000 AND to_lon BETWEEN -1800000000 AND 1800000000),"
    "  CHECK (from_lat BETWEEN -900000000 AND 900000000 AND to_lat BETWEEN -900000000 AND 900000000)"
    ");"
    "CREATE INDEX offers_by_owner ON offers(owner, created);"

    "CREATE TABLE requests ("
    "  id INTEGER PRIMARY KEY,"
    "  owner TEXT NOT NULL REFERENCES owners(ref),"
    "  from_lon INTEGER NOT NULL, from_lat INTEGER NOT NULL,"
    "  to_lon INTEGER NOT NULL, to_lat INTEGER NOT NULL,"
    "  sched_kind INTEGER NOT NULL CHECK (sched_kind IN (0, 1)),"
    "  depart INTEGER NOT NULL,"
    "  weekdays INTEGER NOT NULL CHECK (weekdays BETWEEN 0 AND 127),"
    "  time_of_day INTEGER NOT NULL,"
    "  first_day INTEGER NOT NULL,"
    "  last_day INTEGER NOT NULL,"
    "  margin_s INTEGER NOT NULL CHECK (margin_s >= 0),"
    "  seats INTEGER NOT NULL CHECK (seats > 0),"
    "  status INTEGER NOT NULL CHECK (status IN (0, 1)),"
    "  created INTEGER NOT NULL,"
    "  CHECK (from_lon BETWEEN -1800000000 AND 1800000000 AND to_lon BETWEEN -1800000000 AND 1800000000),"
    "  CHECK (from_lat BETWEEN -900000000 AND 900000000 AND to_lat BETWEEN -900000000 AND 900000000)"
    ");"
    "CREATE INDEX requests_by_owner ON requests(owner, created);"

    "CREATE TABLE bookings ("
    "  id INTEGER PRIMARY KEY,"
    "  offer_id INTEGER NOT NULL REFERENCES offers(id),"
    "  request_id INTEGER NOT NULL REFERENCES requests(id),"
    "  seats INTEGER NOT NULL CHECK (seats > 0),"
    "  status INTEGER NOT NULL CHECK (status IN (0, 1, 2, 3))," /* pending, accepted, refused, cancelled */
    "  pickup_lon INTEGER NOT NULL, pickup_lat INTEGER NOT NULL,"
    "  dropoff_lon INTEGER NOT NULL, dropoff_lat INTEGER NOT NULL,"
    "  pickup_key REAL NOT NULL, dropoff_key REAL NOT NULL,"
    "  pickup_time INTEGER NOT NULL, dropoff_time INTEGER NOT NULL,"
    "  amount REAL NOT NULL CHECK (amount >= 0),"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL,"
    "  CHECK (0 <= pickup_key AND pickup_key < dropoff_key AND dropoff_key <= 1000000)"
    ");"
    "CREATE INDEX bookings_by_offer ON bookings(offer_id, status);"
    "CREATE INDEX bookings_by_request ON bookings(request_id);"
    /* The rule "one live booking per request and offer" held by the database itself, behind the explicit check. */
    "CREATE UNIQUE INDEX bookings_one_live ON bookings(offer_id, request_id) WHERE status IN (0, 1);"

    "CREATE TABLE stops ("
    "  id INTEGER PRIMARY KEY,"
    "  offer_id INTEGER NOT NULL REFERENCES offers(id),"
    "  key REAL NOT NULL CHECK (key BETWEEN 0 AND 1000000),"
    "  kind INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 4)," /* origin, via, pickup, drop-off, destination */
    "  lon INTEGER NOT NULL, lat INTEGER NOT NULL,"
    "  booking_id INTEGER REFERENCES bookings(id),"
    "  seats_delta INTEGER NOT NULL,"
    "  CHECK ((booking_id IS NOT NULL) = (kind IN (2, 3))),"
    "  CHECK (CASE kind WHEN 2 THEN seats_delta > 0 WHEN 3 THEN seats_delta < 0 ELSE seats_delta = 0 END)"
    ");"
    "CREATE INDEX stops_by_offer ON stops(offer_id, key);"
    "CREATE INDEX stops_by_booking ON stops(booking_id) WHERE booking_id IS NOT NULL;",
    /* 1 -> 2: API keys, stored as the SHA-256 of the secret only */
    "CREATE TABLE api_keys ("
    "  id INTEGER PRIMARY KEY,"
    "  client TEXT NOT NULL CHECK (length(client) > 0),"
    "  hash BLOB NOT NULL UNIQUE,"
    "  scopes INTEGER NOT NULL,"
    "  created INTEGER,"
    "  revoked INTEGER"
    ");",
    /* 2 -> 3: a booking holds its seats on the dates its passenger rides (first_day..last_day on weekdays, within
       the offer's dates), and may be superseded (4) when its request is accepted in another car on those dates.
       SQLite cannot change a CHECK in place: the table is rebuilt (foreign keys are off while migrating, see
       migrate). Bookings made before carry every date of their offer, as they did. */
    "CREATE TABLE bookings_v3 ("
    "  id INTEGER PRIMARY KEY,"
    "  offer_id INTEGER NOT NULL REFERENCES offers(id),"
    "  request_id INTEGER NOT NULL REFERENCES requests(id),"
    "  seats INTEGER NOT NULL CHECK (seats > 0),"
    "  status INTEGER NOT NULL CHECK (status IN (0, 1, 2, 3, 4)),"
    "  first_day INTEGER NOT NULL, last_day INTEGER NOT NULL,"
    "  weekdays INTEGER NOT NULL CHECK (weekdays BETWEEN 1 AND 127),"
    "  pickup_lon INTEGER NOT NULL, pickup_lat INTEGER NOT NULL,"
    "  dropoff_lon INTEGER NOT NULL, dropoff_lat INTEGER NOT NULL,"
    "  pickup_key REAL NOT NULL, dropoff_key REAL NOT NULL,"
    "  pickup_time INTEGER NOT NULL, dropoff_time INTEGER NOT NULL,"
    "  amount REAL NOT NULL CHECK (amount >= 0),"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL,"
    "  CHECK (0 <= pickup_key AND pickup_key < dropoff_key AND dropoff_key <= 1000000),"
    "  CHECK (first_day <= last_day)"
    ");"
    "INSERT INTO bookings_v3 (id, offer_id, request_id, seats, status, first_day, last_day, weekdays, pickup_lon,"
    "  pickup_lat, dropoff_lon, dropoff_lat, pickup_key, dropoff_key, pickup_time, dropoff_time, amount, created,"
    "  updated)"
    "  SELECT id, offer_id, request_id, seats, status, -2147483648, 2147483647, 127, pickup_lon, pickup_lat,"
    "  dropoff_lon, dropoff_lat, pickup_key, dropoff_key, pickup_time, dropoff_time, amount, created, updated"
    "  FROM bookings;"
    "DROP TABLE bookings;"
    "ALTER TABLE bookings_v3 RENAME TO bookings;"
    "CREATE INDEX bookings_by_offer ON bookings(offer_id, status);"
    "CREATE INDEX bookings_by_request ON bookings(request_id, status);"
    "CREATE UNIQUE INDEX bookings_one_live ON bookings(offer_id, request_id) WHERE status IN (0, 1);",
    /* 3 -> 4: the database's own settings; 'tz' is the zone its local dates and times of day are in (regular
       schedules, booking dates), written by the first covoit that opens it (cv_store_open) */
    "CREATE TABLE settings ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL"
    ") WITHOUT ROWID;"
    /* ... and the version of each offer's stop sequence, bumped whenever a passenger's stops come or go; a booking
       remembers the version it was placed on, and is accepted only on that one (see cv_store_accept_booking) */
    "ALTER TABLE offers ADD COLUMN plan_version INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE bookings ADD COLUMN placed_version INTEGER NOT NULL DEFAULT -1;",
    /* 4 -> 5: the change log. Every write that changes what a matching index holds appends the offer or request it
       touched, in the same transaction; every process holding an index follows it (cv_matcher_sync), so that the
       database is the one truth for all of them. AUTOINCREMENT: a sequence number is never reused, even after the
       last rows are pruned. */
    "CREATE TABLE changes ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  kind INTEGER NOT NULL CHECK (kind IN (0, 1))," /* offer, request */
    "  ref INTEGER NOT NULL,"
    "  at INTEGER NOT NULL"
    ");",
    /* 5 -> 6: bookings partner operators made through the interoperability standard: the covoit booking each one
       is, and what the standard keeps beside it (cv_partner_booking) */
    "CREATE TABLE partner_bookings ("
    "  uuid TEXT PRIMARY KEY,"
    "  partner TEXT NOT NULL,"
    "  booking_id INTEGER NOT NULL UNIQUE REFERENCES bookings(id),"
    "  journey TEXT NOT NULL,"
    "  user_id TEXT NOT NULL,"
    "  user_alias TEXT NOT NULL,"
    "  user_operator TEXT NOT NULL,"
    "  status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 4),"
    "  message TEXT,"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    /* ... and messages partners' users send ours about a journey or a booking (cv_message) */
    "CREATE TABLE messages ("
    "  id INTEGER PRIMARY KEY,"
    "  owner TEXT NOT NULL,"
    "  trip_kind INTEGER NOT NULL CHECK (trip_kind IN (0, 1))," /* to the driver of an offer, the passenger of a request
                                                                 */
    "  trip_id INTEGER NOT NULL,"
    "  partner TEXT NOT NULL,"
    "  from_id TEXT NOT NULL,"
    "  from_alias TEXT NOT NULL,"
    "  from_operator TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  journey TEXT NOT NULL,"
    "  booking TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  read_at INTEGER"
    ");"
    "CREATE INDEX messages_by_owner ON messages(owner, id);",
    /* 6 -> 7: partner operators (cv_partner), the booking events we owe them (cv_outbox_event), written by a
       trigger in the same transaction as the change of the booking they report, so that no path that changes a
       partner's booking can forget one and no crash can lose one; and the bookings our users made on partners'
       journeys (cv_remote_booking) with the events partners sent us about them. */
    "CREATE TABLE partners ("
    "  name TEXT PRIMARY KEY CHECK (length(name) > 0),"
    "  base_url TEXT NOT NULL,"
    "  api_key TEXT NOT NULL,"
    "  events_url TEXT NOT NULL,"
    "  created INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  kind INTEGER NOT NULL DEFAULT 0 CHECK (kind IN (0, 1))," /* a booking event, a message */
    "  partner TEXT NOT NULL,"
    "  uuid TEXT NOT NULL," /* what is delivered in order: a booking's events, one partner's messages */
    "  event TEXT NOT NULL UNIQUE,"
    "  status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 4),"
    "  body TEXT," /* a message's document */
    "  created INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_at INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT,"
    "  done INTEGER," /* when it was delivered or refused; NULL while it waits */
    "  refused INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE INDEX outbox_waiting ON outbox(uuid, id) WHERE done IS NULL;"
    /* our booking's status as the standard says it (pending, accepted, anything else), for the partner that made
       it, unless the partner cancelled it itself; the event's id a random UUID (version 4) */
    "CREATE TRIGGER partner_booking_event AFTER UPDATE OF status ON bookings WHEN OLD.status <> NEW.status "
    "BEGIN "
    "  INSERT INTO outbox(partner, uuid, event, status, created) "
    "  SELECT pb.partner, pb.uuid, "
    "    " RANDOM_UUID ", "
    "    CASE NEW.status WHEN 0 THEN 0 WHEN 1 THEN 1 ELSE 4 END, CAST(strftime('%s', 'now') AS INTEGER) "
    "  FROM partner_bookings pb WHERE pb.booking_id = NEW.id AND pb.status <> 4; "
    "END;"
    "CREATE TABLE remote_bookings ("
    "  uuid TEXT PRIMARY KEY,"
    "  partner TEXT NOT NULL,"
    "  owner TEXT NOT NULL,"
    "  journey TEXT NOT NULL,"
    "  side INTEGER NOT NULL CHECK (side IN (0, 1))," /* 0: we asked the partner's driver; 1: its driver asked us */
    "  request_id INTEGER,"                           /* side 1: our passenger's request */
    "  doc TEXT NOT NULL,"                            /* the standard's Booking as it was made */
    "  status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 4),"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX remote_bookings_by_owner ON remote_bookings(owner);"
    "CREATE TABLE remote_events ("
    "  id TEXT PRIMARY KEY,"
    "  uuid TEXT NOT NULL,"
    "  status INTEGER NOT NULL,"
    "  at INTEGER NOT NULL"
    ") WITHOUT ROWID;",
    /* 7 -> 8: carpool proofs. Each side's validation of one ride of a booking (the booking on one date), and the
       proof written when both sides have (cv_proof): the register's record of the ride, also the outbox it is sent
       from. A proof refers to no owner (pseudonyms) and to its booking by number only, without a foreign key: it
       is kept when the booking is erased. The pseudonyms' secret is drawn here, once per database. */
    "CREATE TABLE validations ("
    "  booking_id INTEGER NOT NULL REFERENCES bookings(id),"
    "  day INTEGER NOT NULL,"
    "  side INTEGER NOT NULL CHECK (side IN (0, 1))," /* driver, passenger */
    "  at INTEGER NOT NULL,"
    "  PRIMARY KEY (booking_id, day, side)"
    ") WITHOUT ROWID;"
    "CREATE TABLE proofs ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  journey_id TEXT NOT NULL UNIQUE,"
    "  trip_id TEXT NOT NULL,"
    "  booking_id INTEGER NOT NULL,"
    "  offer_id INTEGER NOT NULL,"
    "  day INTEGER NOT NULL,"
    "  start_time INTEGER NOT NULL, start_lon INTEGER NOT NULL, start_lat INTEGER NOT NULL,"
    "  end_time INTEGER NOT NULL, end_lon INTEGER NOT NULL, end_lat INTEGER NOT NULL,"
    "  distance_m INTEGER NOT NULL CHECK (distance_m >= 0),"
    "  seats INTEGER NOT NULL CHECK (seats > 0),"
    "  contribution_cents INTEGER NOT NULL CHECK (contribution_cents >= 0),"
    "  passenger TEXT NOT NULL,"
    "  driver TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_at INTEGER NOT NULL DEFAULT 0,"
    "  done INTEGER,"
    "  refused INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT"
    ");"
    "CREATE INDEX proofs_waiting ON proofs(next_at) WHERE done IS NULL;"
    "CREATE INDEX proofs_by_start ON proofs(start_time);"
    "INSERT OR IGNORE INTO settings(key, value) VALUES ('pseudonym_secret', lower(hex(randomblob(32))));",
};

_Static_assert(sizeof migrations / sizeof migrations[0] == CV_STORE_SCHEMA_VERSION,
               "one migration step per schema version");

/* ---- prepared statements ---- */

#define OFFER_COLS                                                                                                     \
    "id, owner, from_lon, from_lat, to_lon, to_lat, sched_kind, depart, weekdays, time_of_day, first_day, "            \
    "last_day, margin_s, seats, max_detour_s, max_detour_m, price_per_km, status, created, direct_duration_ds, "       \
    "direct_distance_dm"
#define REQUEST_COLS                                                                                                   \
    "id, owner, from_lon, from_lat, to_lon, to_lat, sched_kind, depart, weekdays, time_of_day, first_day, "            \
    "last_day, margin_s, seats, status, created"
#define BOOKING_COLS                                                                                                   \
    "id, offer_id, request_id, seats, status, pickup_lon, pickup_lat, dropoff_lon, dropoff_lat, pickup_key, "          \
    "dropoff_key, pickup_time, dropoff_time, amount, created, updated, first_day, last_day, weekdays, "                \
    "placed_version"

enum {
    ST_OWNER_ADD,
    ST_OFFER_ADD,
    ST_OFFER_GET,
    ST_OFFER_LIST_OWNER,
    ST_OFFER_LIST_ALL,
    ST_OFFER_VIAS,
    ST_OFFER_STATE,
    ST_OFFER_SET_STATUS,
    ST_STOP_ADD,
    ST_STOPS_OF_OFFER,
    ST_STOPS_DEL_BOOKING,
    ST_STOPS_DEL_OFFER_PASSENGERS,
    ST_STOPS_DEL_REQUEST_PASSENGERS,
    ST_REQUEST_ADD,
    ST_REQUEST_GET,
    ST_REQUEST_LIST_OWNER,
    ST_REQUEST_LIST_ALL,
    ST_REQUEST_STATE,
    ST_REQUEST_SET_STATUS,
    ST_BOOKING_ADD,
    ST_BOOKING_GET,
    ST_BOOKING_LIST,
    ST_BOOKING_LIVE,
    ST_BOOKING_SET_STATUS,
    ST_BOOKING_PLACE,
    ST_BOOKING_LOAD,
    ST_BOOKINGS_CANCEL_OF_OFFER,
    ST_BOOKINGS_CANCEL_OF_REQUEST,
    ST_BOOKING_LIST_REQUEST,
    ST_BOOKING_LIST_OWNER,
    ST_BOOKINGS_OF_REQUEST_IN,
    ST_OFFER_VERSION,
    ST_OFFER_BUMP,
    ST_CHANGE_ADD,
    ST_CHANGE_OFFERS_OF_REQUEST,
    ST_CHANGE_REQUESTS_OF_OFFER,
    ST_CHANGES_AFTER,
    ST_CHANGES_RANGE,
    ST_CHANGES_PRUNE,
    ST_OFFERS_BUMP_OF_REQUEST,
    ST_KEY_CHECK,
    ST_COUNT
};

static const char *const statement_sql[ST_COUNT] = {
    [ST_OWNER_ADD] = "INSERT INTO owners(ref, created) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    [ST_OFFER_ADD] = "INSERT INTO offers(owner, from_lon, from_lat, to_lon, to_lat, sched_kind, depart, weekdays, "
                     "time_of_day, first_day, last_day, margin_s, seats, max_detour_s, max_detour_m, price_per_km, "
                     "status, created, direct_duration_ds, direct_distance_dm) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
                     "?20) RETURNING id",
    [ST_OFFER_GET] = "SELECT " OFFER_COLS " FROM offers WHERE id = ?1",
    [ST_OFFER_LIST_OWNER] = "SELECT " OFFER_COLS " FROM offers WHERE owner = ?1 AND (?2 = 0 OR status = 0) "
                            "ORDER BY created DESC, id DESC",
    [ST_OFFER_LIST_ALL] = "SELECT " OFFER_COLS " FROM offers WHERE ?1 = 0 OR status = 0 "
                          "ORDER BY created DESC, id DESC",
    [ST_OFFER_VIAS] = "SELECT lon, lat FROM stops WHERE offer_id = ?1 AND kind = 1 ORDER BY key",
    [ST_OFFER_STATE] = "SELECT status, seats FROM offers WHERE id = ?1",
    [ST_OFFER_SET_STATUS] = "UPDATE offers SET status = ?2 WHERE id = ?1",
    [ST_STOP_ADD] = "INSERT INTO stops(offer_id, key, kind, lon, lat, booking_id, seats_delta) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    /* At one key drop-offs come before the driver's stop, which comes before pickups (a passenger leaves before
       another boards, nobody boards before the origin or leaves after the destination); then insertion order. */
    [ST_STOPS_OF_OFFER] = "SELECT s.key, s.kind, s.lon, s.lat, s.booking_id, s.seats_delta, b.first_day, "
                          "b.last_day, b.weekdays FROM stops s LEFT JOIN bookings b ON b.id = s.booking_id "
                          "WHERE s.offer_id = ?1 ORDER BY s.key, "
                          "CASE WHEN s.seats_delta > 0 THEN 1 WHEN s.seats_delta < 0 THEN -1 ELSE 0 END, s.id",
    [ST_STOPS_DEL_BOOKING] = "DELETE FROM stops WHERE booking_id = ?1",
    [ST_STOPS_DEL_OFFER_PASSENGERS] = "DELETE FROM stops WHERE offer_id = ?1 AND booking_id IS NOT NULL",
    [ST_STOPS_DEL_REQUEST_PASSENGERS] = "DELETE FROM stops WHERE booking_id IN "
                                        "(SELECT id FROM bookings WHERE request_id = ?1 AND status = 1)",
    [ST_REQUEST_ADD] = "INSERT INTO requests(owner, from_lon, from_lat, to_lon, to_lat, sched_kind, depart, "
                       "weekdays, time_of_day, first_day, last_day, margin_s, seats, status, created) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) RETURNING id",
    [ST_REQUEST_GET] = "SELECT " REQUEST_COLS " FROM requests WHERE id = ?1",
    [ST_REQUEST_LIST_OWNER] = "SELECT " REQUEST_COLS " FROM requests WHERE owner = ?1 AND (?2 = 0 OR status = 0) "
                              "ORDER BY created DESC, id DESC",
    [ST_REQUEST_LIST_ALL] = "SELECT " REQUEST_COLS " FROM requests WHERE ?1 = 0 OR status = 0 "
                            "ORDER BY created DESC, id DESC",
    [ST_REQUEST_STATE] = "SELECT status FROM requests WHERE id = ?1",
    [ST_REQUEST_SET_STATUS] = "UPDATE requests SET status = ?2 WHERE id = ?1",
    [ST_BOOKING_ADD] = "INSERT INTO bookings(offer_id, request_id, seats, status, pickup_lon, pickup_lat, "
                       "dropoff_lon, dropoff_lat, pickup_key, dropoff_key, pickup_time, dropoff_time, amount, "
                       "created, updated, first_day, last_day, weekdays, placed_version) "
                       "VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?14, ?15, ?16, ?17) "
                       "RETURNING id",
    [ST_BOOKING_GET] = "SELECT " BOOKING_COLS " FROM bookings WHERE id = ?1",
    [ST_BOOKING_LIST] = "SELECT " BOOKING_COLS " FROM bookings WHERE offer_id = ?1 AND (?2 < 0 OR status = ?2) "
                        "ORDER BY id",
    [ST_BOOKING_LIVE] = "SELECT id, status FROM bookings WHERE offer_id = ?1 AND request_id = ?2 "
                        "AND status IN (0, 1) LIMIT 1",
    [ST_BOOKING_SET_STATUS] = "UPDATE bookings SET status = ?2, updated = ?3 WHERE id = ?1",
    [ST_BOOKING_PLACE] = "UPDATE bookings SET pickup_lon = ?2, pickup_lat = ?3, dropoff_lon = ?4, dropoff_lat = ?5, "
                         "pickup_key = ?6, dropoff_key = ?7, pickup_time = ?8, dropoff_time = ?9, amount = ?10, "
                         "updated = ?11, first_day = ?12, last_day = ?13, weekdays = ?14, placed_version = ?15 "
                         "WHERE id = ?1 AND status = 0",
    /* Accepted bookings whose [pickup, dropoff) overlaps [?2, ?3). */
    [ST_BOOKING_LOAD] = "SELECT pickup_key, dropoff_key, seats, first_day, last_day, weekdays FROM bookings "
                        "WHERE offer_id = ?1 AND status = 1 AND pickup_key < ?3 AND dropoff_key > ?2",
    [ST_BOOKINGS_CANCEL_OF_OFFER] = "UPDATE bookings SET status = 3, updated = ?2 "
                                    "WHERE offer_id = ?1 AND status IN (0, 1)",
    [ST_BOOKINGS_CANCEL_OF_REQUEST] = "UPDATE bookings SET status = 3, updated = ?2 "
                                      "WHERE request_id = ?1 AND status IN (0, 1)",
    [ST_CHANGE_ADD] = "INSERT INTO changes(kind, ref, at) VALUES (?1, ?2, ?3)",
    /* the offers whose stops a request's accepted bookings are part of, and the requests riding an offer */
    [ST_CHANGE_OFFERS_OF_REQUEST] = "INSERT INTO changes(kind, ref, at) SELECT DISTINCT 0, offer_id, ?2 FROM bookings "
                                    "WHERE request_id = ?1 AND status = 1",
    [ST_CHANGE_REQUESTS_OF_OFFER] = "INSERT INTO changes(kind, ref, at) SELECT DISTINCT 1, request_id, ?2 FROM "
                                    "bookings WHERE offer_id = ?1 AND status = 1",
    [ST_CHANGES_AFTER] = "SELECT seq, kind, ref FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    /* the last number given is the highest one kept: a prune keeps it (ST_CHANGES_PRUNE), and nothing else
       deletes from the log */
    [ST_CHANGES_RANGE] = "SELECT coalesce(min(seq), 0), coalesce(max(seq), 0) FROM changes",
    [ST_CHANGES_PRUNE] = "DELETE FROM changes WHERE at < ?1 AND seq < (SELECT max(seq) FROM changes)",
    [ST_OFFER_VERSION] = "SELECT plan_version FROM offers WHERE id = ?1",
    [ST_OFFER_BUMP] = "UPDATE offers SET plan_version = plan_version + 1 WHERE id = ?1",
    [ST_OFFERS_BUMP_OF_REQUEST] = "UPDATE offers SET plan_version = plan_version + 1 WHERE id IN "
                                  "(SELECT offer_id FROM bookings WHERE request_id = ?1 AND status = 1)",
    [ST_BOOKING_LIST_REQUEST] = "SELECT " BOOKING_COLS " FROM bookings WHERE request_id = ?1 ORDER BY id",
    [ST_BOOKING_LIST_OWNER] = "SELECT " BOOKING_COLS " FROM bookings WHERE (?2 <> 2 AND offer_id IN (SELECT id FROM "
                              "offers WHERE owner = ?1)) OR (?2 <> 1 AND request_id IN (SELECT id FROM requests "
                              "WHERE owner = ?1)) ORDER BY id DESC LIMIT ?3",
    /* The request's bookings in state ?2 but booking ?3, with their offers' schedules: their dates are the
       booking's within the offer's. */
    [ST_BOOKINGS_OF_REQUEST_IN] = "SELECT b.id, b.offer_id, b.first_day, b.last_day, b.weekdays, o.sched_kind, "
                                  "o.depart, o.weekdays, o.time_of_day, o.first_day, o.last_day, o.margin_s "
                                  "FROM bookings b JOIN offers o ON o.id = b.offer_id "
                                  "WHERE b.request_id = ?1 AND b.status = ?2 AND b.id != ?3 ORDER BY b.id",
    [ST_KEY_CHECK] = "SELECT client, scopes FROM api_keys WHERE hash = ?1 AND revoked IS NULL",
};

struct cv_store {
    cv_db *db;                /* SQLite or PostgreSQL (db.h) */
    int pg;                   /* the engine is PostgreSQL */
    cv_db_stmt *st[ST_COUNT]; /* prepared once at open, reset after every use */
    int64_t clock;            /* the caller's "now" for timestamps (cv_store_set_clock), 0: the real clock */
    int writing;              /* inside a write transaction: holds write_mu */
    int listening;            /* PostgreSQL: this connection listens to the change feed's channel */
    int setting_up;           /* PostgreSQL: making the schema (no change log to lock yet: SETUP_LOCK_SQL) */
    int announced;            /* PostgreSQL: this transaction has sent its NOTIFY (announce_change) */
    cv_durability durability; /* which commits wait for the disk (cv_store_set_durability) */
};

/* The channel a write that logs a change announces itself on (PostgreSQL's NOTIFY, at commit). */
#define CHANGES_CHANNEL "covoit_changes"

/* ---- helpers ---- */

/* Says what failed in err: `what`, then the engine's own words that db.h's call left there. Returns rc. */
static int db_fail(cv_error *err, int rc, const char *what)
{
    if (!err)
        return rc;
    char why[sizeof err->text];
    snprintf(why, sizeof why, "%s", err->text);
    return cv_fail(err, rc, "%s: %s", what, why);
}

/* What a list hands over once its read transaction has ended: the rows (their count in *n) when rc is 0, else
   NULL with the rows freed (*n stays 0). */
static void *rows_kept(int rc, void *rows, size_t nrows, size_t *n)
{
    if (rc) {
        free(rows);
        return NULL;
    }
    *n = nrows;
    return rows;
}

/* Leaves a statement ready for its next use: no open read cursor (which would pin an old WAL snapshot), no
   bindings pointing into the caller's buffers. */
static void finish(cv_db_stmt *st)
{
    cv_db_reset(st);
}

/* Runs a statement that returns no row. */
static int run(cv_store *s, int which, cv_error *err, const char *what)
{
    cv_db_stmt *st = s->st[which];
    int rc = cv_db_step(st, err);
    finish(st);
    return rc < 0 ? db_fail(err, rc, what) : 0;
}

/* Runs sql (no parameters), whose first row's first column is an integer, into *v (0 when it has no row). */
static int store_int64(cv_store *s, const char *sql, int64_t *v, cv_error *err, const char *what)
{
    cv_db_stmt *st = NULL;
    *v = 0;
    int rc = cv_db_prepare(s->db, sql, &st, err);
    if (!rc && (rc = cv_db_step(st, err)) == CV_DB_ROW)
        *v = cv_db_column_int64(st, 0);
    cv_db_finalize(st);
    return rc < 0 ? db_fail(err, rc, what) : 0;
}

/* Runs an INSERT ... RETURNING id: the new row's id into *id. */
static int run_insert(cv_store *s, int which, int64_t *id, cv_error *err, const char *what)
{
    cv_db_stmt *st = s->st[which];
    int rc = cv_db_step(st, err);
    if (rc == CV_DB_ROW)
        *id = cv_db_column_int64(st, 0);
    finish(st);
    if (rc < 0)
        return db_fail(err, rc, what);
    return rc == CV_DB_ROW ? 0 : cv_fail(err, CV_EINTERNAL, "%s: no id returned", what);
}

/* Runs sql (no parameters, no rows read) on the store's connection. */
static int store_exec(cv_store *s, const char *sql, cv_error *err, const char *what)
{
    int rc = cv_db_exec(s->db, sql, err);
    return rc ? db_fail(err, rc, what) : 0;
}

/* The writers of this process queue here rather than at SQLite's lock, which a busy writer finds taken and polls
   for, sleeping: under steady writes from several threads, with a disk sync per commit, some would poll past the
   busy timeout and fail while others got in. Writers of other processes still meet at SQLite's lock, or on
   PostgreSQL at the store's advisory lock (tx_begin). */
static pthread_mutex_t write_mu = PTHREAD_MUTEX_INITIALIZER;

/* The lock every write transaction of the store takes first on PostgreSQL: the store's writers follow one another,
   on every server, as SQLite's BEGIN IMMEDIATE makes them do on one machine. The change log needs it: its sequence
   numbers are drawn in the order the writers come, and only if they commit in that same order can a follower that
   has read up to number n never see a smaller one appear later. It is a table lock taken by the transaction's first
   statement because a SERIALIZABLE transaction's snapshot is taken by its first query: LOCK TABLE comes before it,
   so that the writer reads what the one before it committed (an advisory lock taken by a SELECT would wait with a
   snapshot already older than that commit). The mode conflicts with itself and with writes to the log, not with
   its readers. */
#define WRITE_LOCK_SQL "LOCK TABLE changes IN SHARE ROW EXCLUSIVE MODE"
/* The store's first opening of a database, which makes the schema (the log's table too), takes a session-level
   advisory lock ("covt") before its transaction instead. */
#define SETUP_LOCK_SQL "SELECT pg_advisory_lock(1668249204)"
#define SETUP_UNLOCK_SQL "SELECT pg_advisory_unlock(1668249204)"

static int tx_begin(cv_store *s, int write, cv_error *err)
{
    if (write)
        pthread_mutex_lock(&write_mu);
    int rc = cv_db_begin(s->db, write, err);
    if (rc)
        rc = db_fail(err, rc, write ? "cannot start a write transaction" : "cannot start a read transaction");
    if (!rc && write && s->pg && !s->setting_up &&
        (rc = store_exec(s, WRITE_LOCK_SQL, err, "cannot take the store's write lock")))
        cv_db_rollback(s->db);
    if (write && rc)
        pthread_mutex_unlock(&write_mu);
    if (!rc) { /* a BEGIN refused inside a transaction leaves the outer one's lock to its own tx_end */
        s->writing = write;
        s->announced = 0;
    }
    return rc;
}

/* Commits when rc is 0, rolls back otherwise (a refused call writes nothing); returns the final code. */
static int tx_end(cv_store *s, int rc, cv_error *err)
{
    if (rc == 0 && (rc = cv_db_commit(s->db, err)))
        rc = db_fail(err, rc, "cannot commit");
    if (rc && cv_db_in_transaction(s->db))
        cv_db_rollback(s->db); /* err already says what went wrong */
    if (s->writing) {
        s->writing = 0;
        pthread_mutex_unlock(&write_mu);
    }
    return rc;
}

/* Runs a write transaction again while PostgreSQL reports it lost a serialization conflict or a deadlock
   (CV_ERETRY: it wrote nothing), up to 10 times, after a short random pause that grows; SQLite never reports it. */
#define RETRYING(rc, call)                                                                                             \
    do {                                                                                                               \
        for (int attempt_ = 0;; attempt_++) {                                                                          \
            (rc) = (call);                                                                                             \
            if ((rc) != CV_ERETRY || attempt_ >= 9)                                                                    \
                break;                                                                                                 \
            retry_pause(attempt_);                                                                                     \
        }                                                                                                              \
    } while (0)

static void retry_pause(int attempt)
{
    unsigned r = 0;
    cv_random_bytes(&r, sizeof r);
    long us = (long)(500u << (attempt < 6 ? attempt : 6));
    struct timespec t = {0, (us + (long)(r % (unsigned)us)) * 1000L};
    nanosleep(&t, NULL);
}

static int64_t now_or(int64_t t)
{
    return t ? t : (int64_t)time(NULL);
}

/* Timestamps of changes: the caller's clock when it set one, else the real one. */
static int64_t store_now(const cv_store *s)
{
    return s->clock ? s->clock : (int64_t)time(NULL);
}

int64_t cv_store_clock(const cv_store *s)
{
    return store_now(s);
}

void cv_store_set_clock(cv_store *s, int64_t now)
{
    if (s)
        s->clock = now;
}

static int check_owner(const char *owner, const char *what, cv_error *err)
{
    if (!memchr(owner, '\0', CV_OWNER_MAX))
        return cv_fail(err, CV_EINVAL, "%s owner is longer than %d bytes", what, CV_OWNER_MAX - 1);
    if (!owner[0])
        return cv_fail(err, CV_EINVAL, "%s owner is empty", what);
    return 0;
}

static void bind_schedule(cv_db_stmt *st, int first, const cv_schedule *w)
{
    cv_db_bind_int64(st, first, (int)w->kind);
    cv_db_bind_int64(st, first + 1, w->depart);
    cv_db_bind_int64(st, first + 2, w->weekdays);
    cv_db_bind_int64(st, first + 3, w->time_of_day);
    cv_db_bind_int64(st, first + 4, w->first_day);
    cv_db_bind_int64(st, first + 5, w->last_day);
    cv_db_bind_int64(st, first + 6, w->margin_s);
}

static void read_schedule(cv_db_stmt *st, int first, cv_schedule *w)
{
    w->kind = (cv_schedule_kind)(int)cv_db_column_int64(st, first);
    w->depart = cv_db_column_int64(st, first + 1);
    w->weekdays = (uint8_t)(int)cv_db_column_int64(st, first + 2);
    w->time_of_day = (int)cv_db_column_int64(st, first + 3);
    w->first_day = (int)cv_db_column_int64(st, first + 4);
    w->last_day = (int)cv_db_column_int64(st, first + 5);
    w->margin_s = (int)cv_db_column_int64(st, first + 6);
}

static void read_owner(cv_db_stmt *st, int col, char *owner)
{
    const char *z = cv_db_column_text(st, col);
    snprintf(owner, CV_OWNER_MAX, "%s", z ? z : "");
}

static cv_coord read_coord(cv_db_stmt *st, int col)
{
    return (cv_coord){(int)cv_db_column_int64(st, col), (int)cv_db_column_int64(st, col + 1)};
}

/* Reads a row into out (a cv_offer, a cv_booking, ... as the reader says). */
typedef void (*row_reader)(cv_db_stmt *st, void *out);

/* Columns 0 to 13 of OFFER_COLS and REQUEST_COLS, the ones they share. */
static void read_trip_head(cv_db_stmt *st, int64_t *id, char *owner, cv_coord *from, cv_coord *to, cv_schedule *w,
                           int *seats)
{
    *id = cv_db_column_int64(st, 0);
    read_owner(st, 1, owner);
    *from = read_coord(st, 2);
    *to = read_coord(st, 4);
    read_schedule(st, 6, w);
    *seats = (int)cv_db_column_int64(st, 13);
}

/* Row of OFFER_COLS into a cv_offer, vias not included. */
static void read_offer_row(cv_db_stmt *st, void *out)
{
    cv_offer *o = out;
    memset(o, 0, sizeof *o);
    read_trip_head(st, &o->id, o->owner, &o->from, &o->to, &o->when, &o->seats);
    o->max_detour_s = (int)cv_db_column_int64(st, 14);
    o->max_detour_m = (int)cv_db_column_int64(st, 15);
    o->price_per_km = cv_db_column_double(st, 16);
    o->status = (cv_trip_status)(int)cv_db_column_int64(st, 17);
    o->created = cv_db_column_int64(st, 18);
    o->direct_duration_ds = cv_db_column_int64(st, 19);
    o->direct_distance_dm = cv_db_column_int64(st, 20);
}

/* Row of REQUEST_COLS into a cv_request. */
static void read_request_row(cv_db_stmt *st, void *out)
{
    cv_request *r = out;
    memset(r, 0, sizeof *r);
    read_trip_head(st, &r->id, r->owner, &r->from, &r->to, &r->when, &r->seats);
    r->status = (cv_trip_status)(int)cv_db_column_int64(st, 14);
    r->created = cv_db_column_int64(st, 15);
}

/* Row of BOOKING_COLS into a cv_booking. */
static void read_booking_row(cv_db_stmt *st, void *out)
{
    cv_booking *b = out;
    memset(b, 0, sizeof *b);
    b->id = cv_db_column_int64(st, 0);
    b->offer_id = cv_db_column_int64(st, 1);
    b->request_id = cv_db_column_int64(st, 2);
    b->seats = (int)cv_db_column_int64(st, 3);
    b->status = (cv_booking_status)(int)cv_db_column_int64(st, 4);
    b->pickup = read_coord(st, 5);
    b->dropoff = read_coord(st, 7);
    b->pickup_key = cv_db_column_double(st, 9);
    b->dropoff_key = cv_db_column_double(st, 10);
    b->pickup_time = cv_db_column_int64(st, 11);
    b->dropoff_time = cv_db_column_int64(st, 12);
    b->amount = cv_db_column_double(st, 13);
    b->created = cv_db_column_int64(st, 14);
    b->updated = cv_db_column_int64(st, 15);
    b->dates = (cv_dates){(int)cv_db_column_int64(st, 16), (int)cv_db_column_int64(st, 17),
                          (uint8_t)(int)cv_db_column_int64(st, 18)};
    b->plan_version = cv_db_column_int64(st, 19);
}

/* Grows a malloc'ed array of elem-sized items to hold at least need; 0 or CV_ENOMEM. */
static int grow(void **a, size_t *cap, size_t need, size_t elem, cv_error *err)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*a, ncap * elem);
    if (!p)
        return cv_fail(err, CV_ENOMEM, "out of memory listing %zu rows", need);
    *a = p;
    *cap = ncap;
    return 0;
}

/* Steps statement `which`, bound to id at ?1, to its one row: 0 with the row ready to read, CV_ENOTFOUND ("offer 12
   not found") when there is none, else the failure ("cannot read offer"). The caller reads it, then finishes it. */
static int step_one(cv_store *s, int which, int64_t id, const char *name, cv_error *err)
{
    cv_db_stmt *st = s->st[which];
    cv_db_bind_int64(st, 1, id);
    int rc = cv_db_step(st, err);
    if (rc == CV_DB_ROW)
        return 0;
    if (rc == CV_DB_DONE)
        return cv_fail(err, CV_ENOTFOUND, "%s %lld not found", name, (long long)id);
    char what[48];
    snprintf(what, sizeof what, "cannot read %s", name);
    return db_fail(err, rc, what);
}

/* The one row of statement `which` for id (see step_one), read into out. */
static int read_one(cv_store *s, int which, int64_t id, const char *name, row_reader read, void *out, cv_error *err)
{
    int rc = step_one(s, which, id, name, err);
    if (!rc)
        read(s->st[which], out);
    finish(s->st[which]);
    return rc;
}

/* Every row of statement `which`, bound by the caller, each read into the next elem-sized item of a malloc'ed array:
 *out and *n, or the failure (SQLite's says `what`) with *out NULL and *n 0. */
/* Steps st to its end, reading each row into a growing array of elem-byte rows: *out (malloc'ed) and *n, or NULL
   and 0 on failure. */
static int collect_rows(cv_db_stmt *st, size_t elem, row_reader read, void **out, size_t *n, const char *what,
                        cv_error *err)
{
    void *a = NULL;
    size_t na = 0, cap = 0;
    int rc, full = 0;
    while ((rc = cv_db_step(st, err)) == CV_DB_ROW) {
        if ((full = grow(&a, &cap, na + 1, elem, err)) != 0) {
            rc = full;
            break;
        }
        read(st, (char *)a + na++ * elem);
    }
    if (rc == CV_DB_DONE)
        rc = 0;
    else if (!full)
        rc = db_fail(err, rc, what);
    if (rc) {
        free(a);
        a = NULL;
        na = 0;
    }
    *out = a;
    *n = na;
    return rc;
}

static int read_rows(cv_store *s, int which, size_t elem, row_reader read, void **out, size_t *n, const char *what,
                     cv_error *err)
{
    int rc = collect_rows(s->st[which], elem, read, out, n, what, err);
    finish(s->st[which]);
    return rc;
}

/* ---- opening ---- */

/* SQLite: runs one statement returning one integer (PRAGMA user_version and the like). */
static int query_int(sqlite3 *db, const char *sql, int *value, cv_error *err, const char *what)
{
    int64_t v = 0;
    int rc = cv_sqlite_int64(db, sql, &v);
    if (rc != SQLITE_OK)
        return cv_sqlite_fail(db, err, rc, what);
    *value = (int)v;
    return 0;
}

static int exec(sqlite3 *db, const char *sql, cv_error *err, const char *what)
{
    char *zmsg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &zmsg);
    sqlite3_free(zmsg); /* the same text is in sqlite3_errmsg(db), which cv_sqlite_fail reads */
    return rc == SQLITE_OK ? 0 : cv_sqlite_fail(db, err, rc, what);
}

/* Refuses a database of another application: one of ours carries our application_id once migrated; an
   unmigrated one (user_version 0) must be empty, but for a place index (covoit import --places DB before the trip
   store was made there: places/places_build.c, tables meta and place*). */
static int check_identity(sqlite3 *db, const char *path, int version, cv_error *err)
{
    int app_id = 0, ntables = 0;
    int rc = query_int(db, "PRAGMA application_id", &app_id, err, "cannot read the application id");
    if (rc)
        return rc;
    if (version > 0 && app_id != COVOIT_APPLICATION_ID)
        return cv_fail(err, CV_EFORMAT, "%s is an SQLite database but not covoit's (application_id %d)", path, app_id);
    if (version == 0) {
        rc = query_int(db,
                       "SELECT count(*) FROM sqlite_master WHERE name NOT IN ('meta', 'sqlite_autoindex_meta_1') AND"
                       " name NOT GLOB 'place' AND name NOT GLOB 'place_*'",
                       &ntables, err, "cannot read the schema");
        if (rc)
            return rc;
        if (ntables > 0)
            return cv_fail(err, CV_EFORMAT,
                           "%s is an SQLite database of another application (%d schema objects, "
                           "no covoit schema version)",
                           path, ntables);
    }
    return 0;
}

static int check_version(const char *path, int version, cv_error *err)
{
    if (version > CV_STORE_SCHEMA_VERSION)
        return cv_fail(err, CV_EVERSION, "%s has schema version %d, newer than version %d known to this covoit", path,
                       version, CV_STORE_SCHEMA_VERSION);
    if (version < 0)
        return cv_fail(err, CV_EFORMAT, "%s has a negative schema version %d", path, version);
    return 0;
}

/* Brings an SQLite file's schema up to CV_STORE_SCHEMA_VERSION, one step per transaction. The version is read
   again inside each transaction because another process may be migrating the same file at the same time. */
static int migrate(sqlite3 *db, const char *path, cv_error *err)
{
    int version = 0;
    int rc = query_int(db, "PRAGMA user_version", &version, err, "cannot read the schema version");
    if (rc || (rc = check_version(path, version, err)) || (rc = check_identity(db, path, version, err)))
        return rc;
    while (version < CV_STORE_SCHEMA_VERSION) {
        if ((rc = exec(db, "BEGIN IMMEDIATE", err, "cannot start the migration")))
            return rc;
        rc = query_int(db, "PRAGMA user_version", &version, err, "cannot read the schema version");
        if (!rc)
            rc = check_version(path, version, err);
        if (!rc && version < CV_STORE_SCHEMA_VERSION) {
            char what[96], bump[128];
            snprintf(what, sizeof what, "cannot migrate to schema version %d", version + 1);
            snprintf(bump, sizeof bump, "PRAGMA application_id = %d; PRAGMA user_version = %d", COVOIT_APPLICATION_ID,
                     version + 1);
            rc = exec(db, migrations[version], err, what);
            int broken = 0;
            if (!rc)
                rc = query_int(db, "SELECT count(*) FROM pragma_foreign_key_check", &broken, err, what);
            if (!rc && broken)
                rc = cv_fail(err, CV_ECORRUPT, "%s: %d rows would refer to rows that do not exist", what, broken);
            if (!rc)
                rc = exec(db, bump, err, what);
            if (!rc)
                version++;
        }
        if (!rc)
            rc = exec(db, "COMMIT", err, "cannot commit the migration");
        if (rc) {
            if (!sqlite3_get_autocommit(db))
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
    }
    return 0;
}

/* SQLite: the file checked (ours, in WAL mode), its schema migrated, foreign keys on. */
static int setup_sqlite(cv_store *s, const char *path, cv_error *err)
{
    sqlite3 *db = cv_db_handle(s->db);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        /* An in-memory database answers "memory"; anything else means WAL is unavailable (e.g. read-only dir). */
        if (!mode || (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0))
            rc = cv_fail(err, CV_EIO, "cannot switch %s to WAL journal mode (it stays in %s)", path,
                         mode ? mode : "an unknown mode");
        else
            rc = SQLITE_OK;
    } else if (rc != SQLITE_OK) {
        rc = cv_sqlite_fail(db, err, rc, "cannot set the journal mode");
    }
    sqlite3_finalize(st);
    if (rc)
        return rc;
    /* FULL: the default durability (CV_DURABLE_BOOKINGS) syncs every commit but the light ones (store.h). */
    /* Foreign keys are off while migrating (a step may rebuild a table others refer to; each step checks them
       before it commits), on for everything else. */
    if ((rc = exec(db, "PRAGMA foreign_keys = OFF; PRAGMA synchronous = FULL", err, "cannot configure the connection")))
        return rc;
    if ((rc = migrate(db, path, err)))
        return rc;
    return exec(db, "PRAGMA foreign_keys = ON", err, "cannot configure the connection");
}

/* The one text value of sql (a setting), "" when it has no row, into out. */
static int read_setting(cv_db *db, const char *sql, char *out, size_t cap, cv_error *err, const char *what)
{
    cv_db_stmt *st = NULL;
    out[0] = '\0';
    int rc = cv_db_prepare(db, sql, &st, err);
    if (!rc && (rc = cv_db_step(st, err)) == CV_DB_ROW) {
        const char *v = cv_db_column_text(st, 0);
        snprintf(out, cap, "%s", v ? v : "");
    }
    cv_db_finalize(st);
    return rc < 0 ? db_fail(err, rc, what) : 0;
}

int cv_store_is_postgres(const char *target)
{
    return cv_db_is_postgres(target);
}

void cv_store_name(const char *target, char *out, size_t cap)
{
    if (!cv_db_is_postgres(target)) {
        snprintf(out, cap, "%s", target ? target : "");
        return;
    }
    const char *rest = target + strcspn(target, ":") + 3; /* past "postgresql://" */
    const char *at = strchr(rest, '@'), *slash = strchr(rest, '/');
    if (at && (!slash || at < slash))
        rest = at + 1;
    snprintf(out, cap, "PostgreSQL database %.*s", (int)strcspn(rest, "?"), rest);
}

/* PostgreSQL: a database covoit has not used yet (no table at all) gets the whole schema (schema_pg.c), its
   version and the pseudonyms' secret, in one transaction under the store's write lock, so that several servers
   starting at once make it once; a database of another application, or of a newer covoit, is refused. */
static int setup_postgres(cv_store *s, const char *target, cv_error *err)
{
    char name[300]; /* the URI without its password, to name the database in messages */
    cv_store_name(target, name, sizeof name);
    int rc = store_exec(s, SETUP_LOCK_SQL, err, "cannot take the store's setup lock");
    if (rc)
        return rc;
    s->setting_up = 1;
    rc = tx_begin(s, 1, err);
    s->setting_up = 0;
    if (rc) {
        store_exec(s, SETUP_UNLOCK_SQL, NULL, "");
        return rc;
    }
    char have[32], version[16];
    rc = read_setting(s->db, "SELECT CAST(count(*) AS TEXT) FROM pg_tables WHERE schemaname = current_schema()", have,
                      sizeof have, err, "cannot read the schema");
    if (!rc && strcmp(have, "0") == 0) {
        unsigned char raw[32];
        char secret[65], sql[160];
        if (cv_random_bytes(raw, sizeof raw))
            rc = cv_fail(err, CV_EIO, "cannot read random bytes for the pseudonyms' secret");
        for (int i = 0; i < 32; i++)
            snprintf(secret + 2 * i, 3, "%02x", raw[i]);
        if (!rc)
            rc = store_exec(s, cv_pg_schema, err, "cannot make the schema");
        snprintf(sql, sizeof sql,
                 "INSERT INTO settings(key, value) VALUES ('schema_version', '%d'), ('pseudonym_secret', '%s')",
                 CV_STORE_SCHEMA_VERSION, secret);
        if (!rc)
            rc = store_exec(s, sql, err, "cannot make the schema");
    } else if (!rc) {
        rc = read_setting(s->db, "SELECT value FROM settings WHERE key = 'schema_version'", version, sizeof version,
                          err, "cannot read the schema version");
        if (rc || !version[0])
            rc = cv_fail(err, CV_EFORMAT, "%s holds %s tables but no covoit schema version", name, have);
        else
            rc = check_version(name, atoi(version), err);
    }
    rc = tx_end(s, rc, err);
    store_exec(s, SETUP_UNLOCK_SQL, NULL, ""); /* (and a lost connection released it) */
    return rc;
}

/* Opens target (a file or a postgresql:// URI) with its schema brought to CV_STORE_SCHEMA_VERSION: the store's
   connection, without its statements. */
static int store_connect(cv_store *s, const char *target, cv_error *err)
{
    int rc = cv_db_open(target, &s->db, err);
    if (rc == CV_EFORMAT && !cv_db_is_postgres(target))
        return cv_fail(err, CV_EFORMAT, "%s is not an SQLite database", target);
    if (rc)
        return rc == CV_EUNAVAILABLE ? rc : db_fail(err, rc, "cannot open the database");
    s->pg = cv_db_engine_of(s->db) == CV_DB_POSTGRES;
    return s->pg ? setup_postgres(s, target, err) : setup_sqlite(s, target, err);
}

/* The zone recorded in the database ("" when none yet) into out. */
static int read_zone(cv_db *db, char out[CV_ZONE_MAX], cv_error *err)
{
    return read_setting(db, "SELECT value FROM settings WHERE key = 'tz'", out, CV_ZONE_MAX, err,
                        "cannot read the database's time zone");
}

/* Local dates and times of day mean something only in a zone: a database records the zone of the first covoit
   that opens it, and refuses a covoit running in another one (its Mondays at 08:00 would be other instants). */
static int check_zone(cv_store *s, const char *path, cv_error *err)
{
    char zone[CV_ZONE_MAX];
    int rc = read_zone(s->db, zone, err);
    if (rc)
        return rc;
    if (!zone[0]) {
        cv_db_stmt *st = NULL;
        rc =
            cv_db_prepare(s->db, "INSERT INTO settings(key, value) VALUES ('tz', ?1) ON CONFLICT DO NOTHING", &st, err);
        if (!rc) {
            cv_db_bind_text(st, 1, cv_tz_name());
            rc = cv_db_step(st, err);
        }
        cv_db_finalize(st);
        if (rc < 0)
            return db_fail(err, rc, "cannot record the database's time zone");
        if ((rc = read_zone(s->db, zone, err))) /* another process may have recorded its own first */
            return rc;
    }
    if (strcmp(zone, cv_tz_name()) != 0)
        return cv_fail(err, CV_EZONE,
                       "%s keeps its local times in zone %s, not %s: leave --tz out (or give --tz %s), or convert "
                       "the database with --convert-tz",
                       cv_db_is_postgres(path) ? "the database" : path, zone, cv_tz_name(), zone);
    return 0;
}

int cv_store_zone(const char *path, char out[CV_ZONE_MAX], cv_error *err)
{
    out[0] = '\0';
    if (cv_db_is_postgres(path)) {
        cv_db *db = NULL;
        if (cv_db_open(path, &db, NULL))
            return 0; /* cannot connect: cv_store_open will say */
        /* a database without the table yet has no zone */
        if (read_zone(db, out, NULL))
            out[0] = '\0';
        cv_db_close(db);
        return 0;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return 0; /* no database yet (or not one): cv_store_open will say */
    }
    int version = 0;
    cv_error e;
    int rc = 0;
    if (query_int(db, "PRAGMA user_version", &version, &e, "") == 0 && version >= 4) {
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(db, "SELECT value FROM settings WHERE key = 'tz'", -1, &st, NULL);
        if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *z = (const char *)sqlite3_column_text(st, 0);
            snprintf(out, CV_ZONE_MAX, "%s", z ? z : "");
        }
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE || rc == SQLITE_OK
                 ? 0
                 : cv_sqlite_fail(db, err, rc, "cannot read the database's time zone");
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return rc;
}

int cv_store_open(const char *path, cv_store **out, cv_error *err)
{
    if (!out)
        return cv_fail(err, CV_EINVAL, "cv_store_open: no output pointer");
    *out = NULL;
    if (!path || !*path)
        return cv_fail(err, CV_EINVAL, "cv_store_open: no database path");
    cv_store *s = calloc(1, sizeof *s);
    if (!s)
        return cv_fail(err, CV_ENOMEM, "out of memory opening %s", path);
    int rc = store_connect(s, path, err);
    if (!rc)
        rc = check_zone(s, path, err);
    for (int i = 0; !rc && i < ST_COUNT; i++)
        if ((rc = cv_db_prepare(s->db, statement_sql[i], &s->st[i], err)))
            rc = db_fail(err, rc, "cannot prepare a statement");
    if (rc) {
        cv_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void cv_store_close(cv_store *s)
{
    if (!s)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        cv_db_finalize(s->st[i]);
    cv_db_close(s->db);
    free(s);
}

/* ---- shared checks inside transactions ---- */

/* Reads the status of the offer or request (name) id that statement `which` selects, and the seats (an offer's,
   the second column) when seats is not NULL; CV_ENOTFOUND when there is none. */
static int trip_state(cv_store *s, int which, const char *name, int64_t id, int *status, int *seats, cv_error *err)
{
    int rc = step_one(s, which, id, name, err);
    if (!rc) {
        *status = (int)cv_db_column_int64(s->st[which], 0);
        if (seats)
            *seats = (int)cv_db_column_int64(s->st[which], 1);
    }
    finish(s->st[which]);
    return rc;
}

/* Reads an offer's status and seats; CV_ENOTFOUND when there is none. */
static int offer_state(cv_store *s, int64_t id, int *status, int *seats, cv_error *err)
{
    return trip_state(s, ST_OFFER_STATE, "offer", id, status, seats, err);
}

/* The version of an offer's stop sequence, inside the caller's transaction. */
static int offer_version(cv_store *s, int64_t id, int64_t *version, cv_error *err)
{
    int rc = step_one(s, ST_OFFER_VERSION, id, "offer", err);
    if (!rc)
        *version = cv_db_column_int64(s->st[ST_OFFER_VERSION], 0);
    finish(s->st[ST_OFFER_VERSION]);
    return rc;
}

/* Wakes the followers of the change log on PostgreSQL (cv_store_wait_changes), at the commit of the caller's
   transaction; several announcements in one transaction are one. SQLite's followers poll. */
static int announce_change(cv_store *s, cv_error *err)
{
    if (!s->pg || s->announced)
        return 0;
    int rc = cv_db_notify(s->db, CHANGES_CHANNEL, err);
    if (rc)
        return db_fail(err, rc, "cannot announce the change");
    s->announced = 1; /* once per transaction: PostgreSQL would fold the others into it anyway, a round trip each */
    return 0;
}

/* Appends a change of offer (kind 0) or request (kind 1) ref to the log, inside the caller's transaction. */
static int log_change(cv_store *s, int kind, int64_t ref, cv_error *err)
{
    cv_db_stmt *st = s->st[ST_CHANGE_ADD];
    cv_db_bind_int64(st, 1, kind);
    cv_db_bind_int64(st, 2, ref);
    cv_db_bind_int64(st, 3, store_now(s));
    int rc = run(s, ST_CHANGE_ADD, err, "cannot log the change");
    return rc ? rc : announce_change(s, err);
}

/* Booking b's stops came or went: its offer's plan version moves on, and its offer and request are logged. */
static int plan_changed(cv_store *s, const cv_booking *b, cv_error *err)
{
    cv_db_bind_int64(s->st[ST_OFFER_BUMP], 1, b->offer_id);
    int rc = run(s, ST_OFFER_BUMP, err, "cannot update the offer's plan version");
    if (!rc)
        rc = log_change(s, CV_CHANGE_OFFER, b->offer_id, err);
    if (!rc)
        rc = log_change(s, CV_CHANGE_REQUEST, b->request_id, err);
    return rc;
}

static int request_state(cv_store *s, int64_t id, int *status, cv_error *err)
{
    return trip_state(s, ST_REQUEST_STATE, "request", id, status, NULL, err);
}

static int booking_read(cv_store *s, int64_t id, cv_booking *b, cv_error *err)
{
    return read_one(s, ST_BOOKING_GET, id, "booking", read_booking_row, b, err);
}

static int add_stop(cv_store *s, int64_t offer_id, double key, cv_stop_kind kind, cv_coord at, int64_t booking_id,
                    int seats_delta, cv_error *err)
{
    cv_db_stmt *st = s->st[ST_STOP_ADD];
    cv_db_bind_int64(st, 1, offer_id);
    cv_db_bind_double(st, 2, key);
    cv_db_bind_int64(st, 3, (int)kind);
    cv_db_bind_int64(st, 4, at.lon);
    cv_db_bind_int64(st, 5, at.lat);
    if (booking_id)
        cv_db_bind_int64(st, 6, booking_id);
    else
        cv_db_bind_null(st, 6);
    cv_db_bind_int64(st, 7, seats_delta);
    return run(s, ST_STOP_ADD, err, "cannot store a stop");
}

static int set_status(cv_store *s, int which, int64_t id, int status, cv_error *err, const char *what)
{
    cv_db_bind_int64(s->st[which], 1, id);
    cv_db_bind_int64(s->st[which], 2, status);
    return run(s, which, err, what);
}

/* ---- offers and requests ----

   An offer and a request are stored, read, listed and cancelled alike; a trip_kind says what differs: the table's
   statements, the name in messages, the row, and what an offer has more (its own stops, its vias). */

/* A write transaction with a light commit (store.h, cv_durability): on SQLite at CV_DURABLE_BOOKINGS, NORMAL for
   this transaction only, and *light says so, for tx_end_light to set FULL back. PostgreSQL commits every write
   durably (and, with synchronous replication, on a standby too): an acknowledged write survives a failover. */
static int tx_begin_light(cv_store *s, int *light, cv_error *err)
{
    int rc;
    *light = !s->pg && s->durability == CV_DURABLE_BOOKINGS;
    if (*light && (rc = store_exec(s, "PRAGMA synchronous = NORMAL", err, "cannot set the durability")))
        return rc;
    if ((rc = tx_begin(s, 1, err)) && *light) {
        /* no transaction, so no tx_end_light: FULL again here, or the next booking would commit at NORMAL */
        store_exec(s, "PRAGMA synchronous = FULL", NULL, "cannot set the durability");
        *light = 0;
    }
    return rc;
}

static int tx_end_light(cv_store *s, int light, int rc, cv_error *err)
{
    rc = tx_end(s, rc, err);
    if (light) /* back to FULL; cannot fail short of memory, and the commit above stands either way */
        store_exec(s, "PRAGMA synchronous = FULL", NULL, "cannot set the durability");
    return rc;
}

/* ?1 to ?13 of ST_OFFER_ADD and ST_REQUEST_ADD, the columns they share. */
static void bind_trip_head(cv_db_stmt *st, const char *owner, cv_coord from, cv_coord to, const cv_schedule *w,
                           int seats)
{
    cv_db_bind_text(st, 1, owner);
    cv_db_bind_int64(st, 2, from.lon);
    cv_db_bind_int64(st, 3, from.lat);
    cv_db_bind_int64(st, 4, to.lon);
    cv_db_bind_int64(st, 5, to.lat);
    bind_schedule(st, 6, w);
    cv_db_bind_int64(st, 13, seats);
}

static void bind_offer_row(cv_db_stmt *st, const void *trip, int64_t created)
{
    const cv_offer *o = trip;
    bind_trip_head(st, o->owner, o->from, o->to, &o->when, o->seats);
    cv_db_bind_int64(st, 14, o->max_detour_s);
    cv_db_bind_int64(st, 15, o->max_detour_m);
    cv_db_bind_double(st, 16, o->price_per_km);
    cv_db_bind_int64(st, 17, (int)o->status);
    cv_db_bind_int64(st, 18, created);
    cv_db_bind_int64(st, 19, o->direct_duration_ds);
    cv_db_bind_int64(st, 20, o->direct_distance_dm);
}

static void bind_request_row(cv_db_stmt *st, const void *trip, int64_t created)
{
    const cv_request *r = trip;
    bind_trip_head(st, r->owner, r->from, r->to, &r->when, r->seats);
    cv_db_bind_int64(st, 14, (int)r->status);
    cv_db_bind_int64(st, 15, created);
}

/* An offer's own stops, stored with it: its origin, vias and destination. */
static int add_offer_stops(cv_store *s, const void *trip, int64_t id, cv_error *err)
{
    const cv_offer *o = trip;
    int rc = add_stop(s, id, 0.0, CV_STOP_ORIGIN, o->from, 0, 0, err);
    /* Vias evenly spread leave room on both sides of each for passengers' midpoint keys. */
    for (int i = 0; !rc && i < o->nvias; i++)
        rc = add_stop(s, id, (double)(i + 1) * CV_STOP_KEY_END / (double)(o->nvias + 1), CV_STOP_VIA, o->vias[i], 0, 0,
                      err);
    if (!rc)
        rc = add_stop(s, id, CV_STOP_KEY_END, CV_STOP_DESTINATION, o->to, 0, 0, err);
    return rc;
}

/* Fills an offer's vias and nvias from its via stops. */
static int read_vias(cv_store *s, void *trip, cv_error *err)
{
    cv_offer *o = trip;
    cv_db_stmt *st = s->st[ST_OFFER_VIAS];
    cv_db_bind_int64(st, 1, o->id);
    int rc;
    o->nvias = 0;
    while ((rc = cv_db_step(st, err)) == CV_DB_ROW) {
        if (o->nvias == CV_MAX_VIAS) {
            finish(st);
            return cv_fail(err, CV_EINTERNAL, "offer %lld has more than %d vias", (long long)o->id, CV_MAX_VIAS);
        }
        o->vias[o->nvias++] = read_coord(st, 0);
    }
    rc = rc == CV_DB_DONE ? 0 : db_fail(err, rc, "cannot read the offer's vias");
    finish(st);
    return rc;
}

typedef struct trip_kind {
    const char *name; /* in messages: "offer", "request" */
    size_t size;      /* of a cv_offer, a cv_request */
    cv_change_kind change;
    int st_add, st_get, st_list_owner, st_list_all, st_state, st_set_status;
    int st_log_others; /* logs the trips on the other side of its accepted bookings */
    int st_bump_plans; /* a cancelled request changes the plans of the offers it rides in; -1: none */
    int st_stops_del, st_bookings_cancel, st_bookings;
    const char *stops_del_what; /* the failure to remove its passengers' stops */
    void (*bind_row)(cv_db_stmt *st, const void *trip, int64_t created); /* the values of st_add */
    row_reader read_row; /* a row of st_get and the lists: OFFER_COLS, REQUEST_COLS */
    /* offers only (NULL for requests): their own stops, stored with them, and their vias, read back from the stops.
       A trip read in more statements than its row is read in one transaction, for one snapshot. */
    int (*add_stops)(cv_store *s, const void *trip, int64_t id, cv_error *err);
    int (*read_vias)(cv_store *s, void *trip, cv_error *err);
} trip_kind;

static const trip_kind offer_kind = {
    .name = "offer",
    .size = sizeof(cv_offer),
    .change = CV_CHANGE_OFFER,
    .st_add = ST_OFFER_ADD,
    .st_get = ST_OFFER_GET,
    .st_list_owner = ST_OFFER_LIST_OWNER,
    .st_list_all = ST_OFFER_LIST_ALL,
    .st_state = ST_OFFER_STATE,
    .st_set_status = ST_OFFER_SET_STATUS,
    .st_log_others = ST_CHANGE_REQUESTS_OF_OFFER, /* its passengers ride no more: they match again on those dates */
    .st_bump_plans = -1,
    .st_stops_del = ST_STOPS_DEL_OFFER_PASSENGERS,
    .st_bookings_cancel = ST_BOOKINGS_CANCEL_OF_OFFER,
    .st_bookings = ST_BOOKING_LIST,
    .stops_del_what = "cannot remove the offer's passenger stops",
    .bind_row = bind_offer_row,
    .read_row = read_offer_row,
    .add_stops = add_offer_stops,
    .read_vias = read_vias,
};

static const trip_kind request_kind = {
    .name = "request",
    .size = sizeof(cv_request),
    .change = CV_CHANGE_REQUEST,
    .st_add = ST_REQUEST_ADD,
    .st_get = ST_REQUEST_GET,
    .st_list_owner = ST_REQUEST_LIST_OWNER,
    .st_list_all = ST_REQUEST_LIST_ALL,
    .st_state = ST_REQUEST_STATE,
    .st_set_status = ST_REQUEST_SET_STATUS,
    .st_log_others = ST_CHANGE_OFFERS_OF_REQUEST, /* the offers it rode lose its stops */
    .st_bump_plans = ST_OFFERS_BUMP_OF_REQUEST,
    .st_stops_del = ST_STOPS_DEL_REQUEST_PASSENGERS,
    .st_bookings_cancel = ST_BOOKINGS_CANCEL_OF_REQUEST,
    .st_bookings = ST_BOOKING_LIST_REQUEST,
    .stops_del_what = "cannot remove the request's stops",
    .bind_row = bind_request_row,
    .read_row = read_request_row,
};

/* Stores trip (validated by the caller; its owner is owner) with its owner's row, its own stops and the change, in
   one transaction with a light commit. Sets *id and *created (when it was 0) once it is stored. */
static int add_trip_tx(cv_store *s, const trip_kind *k, const void *trip, const char *owner, int64_t *id,
                       int64_t *created, cv_error *err)
{
    int rc = check_owner(owner, k->name, err);
    if (rc)
        return rc;
    int64_t at = now_or(*created);
    int light;
    if ((rc = tx_begin_light(s, &light, err)))
        return rc;
    cv_db_stmt *st = s->st[ST_OWNER_ADD];
    cv_db_bind_text(st, 1, owner);
    cv_db_bind_int64(st, 2, at);
    char what[64];
    snprintf(what, sizeof what, "cannot store the %s's owner", k->name);
    rc = run(s, ST_OWNER_ADD, err, what);

    int64_t row = 0;
    if (!rc) {
        /* Field checks beyond the caller's validation are left to the CHECK constraints, whose failure rolls
           back the owner row too. */
        k->bind_row(s->st[k->st_add], trip, at);
        snprintf(what, sizeof what, "cannot store the %s", k->name);
        rc = run_insert(s, k->st_add, &row, err, what);
    }
    if (!rc && k->add_stops)
        rc = k->add_stops(s, trip, row, err);
    if (!rc)
        rc = log_change(s, k->change, row, err);

    rc = tx_end_light(s, light, rc, err);
    if (!rc) {
        *id = row;
        *created = at;
    }
    return rc;
}

static int add_trip(cv_store *s, const trip_kind *k, const void *trip, const char *owner, int64_t *id, int64_t *created,
                    cv_error *err)
{
    int rc;
    RETRYING(rc, add_trip_tx(s, k, trip, owner, id, created, err));
    return rc;
}

static int get_trip(cv_store *s, const trip_kind *k, int64_t id, void *trip, cv_error *err)
{
    int rc = k->read_vias ? tx_begin(s, 0, err) : 0;
    if (rc)
        return rc;
    rc = read_one(s, k->st_get, id, k->name, k->read_row, trip, err);
    if (!rc && k->read_vias)
        rc = k->read_vias(s, trip, err);
    return k->read_vias ? tx_end(s, rc, err) : rc;
}

/* Trips of owner (all owners when NULL), open ones only when open_only; newest first. *out is malloc'ed. */
static int list_trips(cv_store *s, const trip_kind *k, const char *owner, int open_only, void **out, size_t *n,
                      cv_error *err)
{
    *out = NULL;
    *n = 0;
    int rc = k->read_vias ? tx_begin(s, 0, err) : 0;
    if (rc)
        return rc;
    int which = owner ? k->st_list_owner : k->st_list_all;
    cv_db_stmt *st = s->st[which];
    if (owner) {
        cv_db_bind_text(st, 1, owner);
        cv_db_bind_int64(st, 2, open_only != 0);
    } else {
        cv_db_bind_int64(st, 1, open_only != 0);
    }
    void *a = NULL;
    size_t na = 0;
    char what[64];
    snprintf(what, sizeof what, "cannot list %ss", k->name);
    rc = read_rows(s, which, k->size, k->read_row, &a, &na, what, err);
    for (size_t i = 0; !rc && k->read_vias && i < na; i++)
        rc = k->read_vias(s, (char *)a + i * k->size, err);
    if (k->read_vias)
        rc = tx_end(s, rc, err);
    *out = rows_kept(rc, a, na, n);
    return rc;
}

/* Cancels an open trip, and its pending and accepted bookings with it: their stops are removed, and the trips on
   the other side of them logged. */
static int cancel_trip_tx(cv_store *s, const trip_kind *k, int64_t id, cv_error *err)
{
    int rc = tx_begin(s, 1, err);
    if (rc)
        return rc;
    int status = 0;
    char what[64];
    rc = trip_state(s, k->st_state, k->name, id, &status, NULL, err);
    if (!rc && status != CV_TRIP_OPEN)
        rc = cv_fail(err, CV_ECONFLICT, "%s %lld is cancelled already", k->name, (long long)id);
    if (!rc) {
        snprintf(what, sizeof what, "cannot cancel %s", k->name);
        rc = set_status(s, k->st_set_status, id, CV_TRIP_CANCELLED, err, what);
    }
    if (!rc && k->st_bump_plans >= 0) {
        cv_db_bind_int64(s->st[k->st_bump_plans], 1, id);
        rc = run(s, k->st_bump_plans, err, "cannot update the offers' plan versions");
    }
    if (!rc)
        rc = log_change(s, k->change, id, err);
    if (!rc) {
        cv_db_bind_int64(s->st[k->st_log_others], 1, id);
        cv_db_bind_int64(s->st[k->st_log_others], 2, store_now(s));
        rc = run(s, k->st_log_others, err, "cannot log the change");
    }
    if (!rc) {
        /* Every passenger stop it is part of belongs to an accepted booking, about to be cancelled. */
        cv_db_bind_int64(s->st[k->st_stops_del], 1, id);
        rc = run(s, k->st_stops_del, err, k->stops_del_what);
    }
    if (!rc) {
        cv_db_bind_int64(s->st[k->st_bookings_cancel], 1, id);
        cv_db_bind_int64(s->st[k->st_bookings_cancel], 2, store_now(s));
        snprintf(what, sizeof what, "cannot cancel the %s's bookings", k->name);
        rc = run(s, k->st_bookings_cancel, err, what);
    }
    return tx_end(s, rc, err);
}

static int cancel_trip(cv_store *s, const trip_kind *k, int64_t id, cv_error *err)
{
    int rc;
    RETRYING(rc, cancel_trip_tx(s, k, id, err));
    return rc;
}

/* The bookings of trip id (checked to exist, in the same read transaction), oldest first: an offer's in state
   status (all when status < 0), a request's all. *out is malloc'ed. */
static int list_trip_bookings(cv_store *s, const trip_kind *k, int64_t id, int status, cv_booking **out, size_t *n,
                              cv_error *err)
{
    *out = NULL;
    *n = 0;
    int rc = tx_begin(s, 0, err);
    if (rc)
        return rc;
    int trip_status = 0;
    rc = trip_state(s, k->st_state, k->name, id, &trip_status, NULL, err);
    void *a = NULL;
    size_t na = 0;
    if (!rc) {
        cv_db_bind_int64(s->st[k->st_bookings], 1, id);
        if (k == &offer_kind) /* the status filter */
            cv_db_bind_int64(s->st[k->st_bookings], 2, status < 0 ? -1 : status);
        rc = read_rows(s, k->st_bookings, sizeof(cv_booking), read_booking_row, &a, &na, "cannot list bookings", err);
    }
    rc = tx_end(s, rc, err);
    *out = rows_kept(rc, a, na, n);
    return rc;
}

/* ---- offers ---- */

int cv_store_add_offer(cv_store *s, cv_offer *o, cv_error *err)
{
    if (!s || !o)
        return cv_fail(err, CV_EINVAL, "cv_store_add_offer: no store or no offer");
    if (o->nvias < 0 || o->nvias > CV_MAX_VIAS)
        return cv_fail(err, CV_EINVAL, "offer has %d vias, at most %d allowed", o->nvias, CV_MAX_VIAS);
    return add_trip(s, &offer_kind, o, o->owner, &o->id, &o->created, err);
}

int cv_store_get_offer(cv_store *s, int64_t id, cv_offer *o, cv_error *err)
{
    if (!s || !o)
        return cv_fail(err, CV_EINVAL, "cv_store_get_offer: no store or no offer");
    return get_trip(s, &offer_kind, id, o, err);
}

int cv_store_list_offers(cv_store *s, const char *owner, int open_only, cv_offer **out, size_t *n, cv_error *err)
{
    if (!s || !out || !n)
        return cv_fail(err, CV_EINVAL, "cv_store_list_offers: missing argument");
    void *a;
    int rc = list_trips(s, &offer_kind, owner, open_only, &a, n, err);
    *out = a;
    return rc;
}

int cv_store_cancel_offer(cv_store *s, int64_t id, cv_error *err)
{
    if (!s)
        return cv_fail(err, CV_EINVAL, "cv_store_cancel_offer: no store");
    return cancel_trip(s, &offer_kind, id, err);
}

int cv_store_offer_stops(cv_store *s, int64_t offer_id, cv_stop **out, size_t *n, cv_error *err)
{
    return cv_store_offer_plan(s, offer_id, out, n, NULL, err);
}

/* Row of ST_STOPS_OF_OFFER into a cv_stop. */
static void read_stop_row(cv_db_stmt *st, void *out)
{
    cv_stop *p = out;
    p->key = cv_db_column_double(st, 0);
    p->kind = (cv_stop_kind)(int)cv_db_column_int64(st, 1);
    p->at = read_coord(st, 2);
    p->booking_id = cv_db_column_int64(st, 4); /* NULL reads as 0 */
    p->seats_delta = (int)cv_db_column_int64(st, 5);
    p->dates = p->booking_id ? (cv_dates){(int)cv_db_column_int64(st, 6), (int)cv_db_column_int64(st, 7),
                                          (uint8_t)(int)cv_db_column_int64(st, 8)}
                             : CV_DATES_ALL;
}

int cv_store_offer_plan(cv_store *s, int64_t offer_id, cv_stop **out, size_t *n, int64_t *version, cv_error *err)
{
    if (!s || !out || !n)
        return cv_fail(err, CV_EINVAL, "cv_store_offer_stops: missing argument");
    *out = NULL;
    *n = 0;
    int rc = tx_begin(s, 0, err);
    if (rc)
        return rc;
    int status = 0;
    rc = offer_state(s, offer_id, &status, NULL, err);
    if (!rc && version)
        rc = offer_version(s, offer_id, version, err);
    void *a = NULL;
    size_t na = 0;
    if (!rc) {
        cv_db_bind_int64(s->st[ST_STOPS_OF_OFFER], 1, offer_id);
        rc = read_rows(s, ST_STOPS_OF_OFFER, sizeof(cv_stop), read_stop_row, &a, &na, "cannot read the offer's stops",
                       err);
    }
    rc = tx_end(s, rc, err);
    *out = rows_kept(rc, a, na, n);
    return rc;
}

/* ---- requests ---- */

int cv_store_add_request(cv_store *s, cv_request *r, cv_error *err)
{
    if (!s || !r)
        return cv_fail(err, CV_EINVAL, "cv_store_add_request: no store or no request");
    return add_trip(s, &request_kind, r, r->owner, &r->id, &r->created, err);
}

int cv_store_get_request(cv_store *s, int64_t id, cv_request *r, cv_error *err)
{
    if (!s || !r)
        return cv_fail(err, CV_EINVAL, "cv_store_get_request: no store or no request");
    return get_trip(s, &request_kind, id, r, err);
}

int cv_store_list_requests(cv_store *s, const char *owner, int open_only, cv_request **out, size_t *n, cv_error *err)
{
    if (!s || !out || !n)
        return cv_fail(err, CV_EINVAL, "cv_store_list_requests: missing argument");
    void *a;
    int rc = list_trips(s, &request_kind, owner, open_only, &a, n, err);
    *out = a;
    return rc;
}

/* A passenger who withdraws frees the seats they held: the request's pending and accepted bookings are cancelled
   with it, and their stops removed, as cv_store_cancel_offer does from the driver's side. */
int cv_store_cancel_request(cv_store *s, int64_t id, cv_error *err)
{
    if (!s)
        return cv_fail(err, CV_EINVAL, "cv_store_cancel_request: no store");
    return cancel_trip(s, &request_kind, id, err);
}

/* ---- bookings ---- */

/* The schedule of offer id, inside the caller's transaction. */
static int offer_schedule(cv_store *s, int64_t id, cv_schedule *w, cv_error *err)
{
    cv_offer o;
    int rc = read_one(s, ST_OFFER_GET, id, "offer", read_offer_row, &o, err);
    if (!rc)
        *w = o.when;
    return rc;
}

/* A booking's dates as they hold: its own within its offer's. */
static cv_dates booking_dates(const cv_booking *b, const cv_schedule *offer)
{
    return cv_dates_intersect(b->dates, cv_schedule_dates(offer));
}

/* The bookings of request_id in state `status` (but booking `except`) that ride on some date of `dates`: their ids
   into *ids (malloc'ed, *n of them), and the first shared date of the first one with its offer. */
static int request_bookings_on(cv_store *s, int64_t request_id, int status, int64_t except, cv_dates dates,
                               int64_t **ids, size_t *n, int64_t *first_offer, cv_day *first_day, cv_error *err)
{
    cv_db_stmt *st = s->st[ST_BOOKINGS_OF_REQUEST_IN];
    cv_db_bind_int64(st, 1, request_id);
    cv_db_bind_int64(st, 2, status);
    cv_db_bind_int64(st, 3, except);
    size_t cap = 0;
    *ids = NULL;
    *n = 0;
    int rc;
    while ((rc = cv_db_step(st, err)) == CV_DB_ROW) {
        cv_dates own = {(int)cv_db_column_int64(st, 2), (int)cv_db_column_int64(st, 3),
                        (uint8_t)(int)cv_db_column_int64(st, 4)};
        cv_schedule w;
        read_schedule(st, 5, &w);
        cv_dates both = cv_dates_intersect(cv_dates_intersect(own, cv_schedule_dates(&w)), dates);
        if (cv_dates_empty(both))
            continue;
        if ((rc = grow((void **)ids, &cap, *n + 1, sizeof **ids, err)))
            break;
        if (*n == 0) {
            *first_offer = cv_db_column_int64(st, 1);
            *first_day = both.first;
        }
        (*ids)[(*n)++] = cv_db_column_int64(st, 0);
    }
    if (rc == CV_DB_DONE)
        rc = 0;
    else if (rc != CV_ENOMEM) /* (grow's failure has its message) */
        rc = db_fail(err, rc, "cannot read the request's bookings");
    finish(st);
    if (rc) {
        free(*ids);
        *ids = NULL;
        *n = 0;
    }
    return rc;
}

/* A request is in one car at a time: refuses (CV_ECONFLICT) when it has an accepted booking, other than `except`,
   on one of `dates`. */
static int check_one_car(cv_store *s, int64_t request_id, int64_t except, cv_dates dates, cv_error *err)
{
    int64_t *ids = NULL, offer = 0;
    size_t n = 0;
    cv_day day = 0;
    int rc = request_bookings_on(s, request_id, CV_BOOKING_ACCEPTED, except, dates, &ids, &n, &offer, &day, err);
    if (!rc && n) {
        char d[16];
        cv_format_date(day, d);
        rc = cv_fail(err, CV_ECONFLICT, "request %lld already rides with offer %lld on %s (booking %lld accepted)",
                     (long long)request_id, (long long)offer, d, (long long)ids[0]);
    }
    free(ids);
    return rc;
}

/* A booking's placement at ?first to ?first + 13, in the order ST_BOOKING_ADD and ST_BOOKING_PLACE share: pickup,
   drop-off, their keys and times, the amount, the time stamp `at`, the dates and the plan version. */
static void bind_placement(cv_db_stmt *st, int first, const cv_booking *p, int64_t at)
{
    cv_db_bind_int64(st, first, p->pickup.lon);
    cv_db_bind_int64(st, first + 1, p->pickup.lat);
    cv_db_bind_int64(st, first + 2, p->dropoff.lon);
    cv_db_bind_int64(st, first + 3, p->dropoff.lat);
    cv_db_bind_double(st, first + 4, p->pickup_key);
    cv_db_bind_double(st, first + 5, p->dropoff_key);
    cv_db_bind_int64(st, first + 6, p->pickup_time);
    cv_db_bind_int64(st, first + 7, p->dropoff_time);
    cv_db_bind_double(st, first + 8, p->amount);
    cv_db_bind_int64(st, first + 9, at);
    cv_db_bind_int64(st, first + 10, p->dates.first);
    cv_db_bind_int64(st, first + 11, p->dates.last);
    cv_db_bind_int64(st, first + 12, p->dates.weekdays);
    cv_db_bind_int64(st, first + 13, p->plan_version);
}

static int add_booking_tx(cv_store *s, cv_booking *b, cv_error *err);

int cv_store_add_booking(cv_store *s, cv_booking *b, cv_error *err)
{
    if (!s || !b)
        return cv_fail(err, CV_EINVAL, "cv_store_add_booking: no store or no booking");
    if (b->seats <= 0)
        return cv_fail(err, CV_EINVAL, "booking seats must be positive, not %d", b->seats);
    /* Written so that NaN keys fail too. */
    if (!(b->pickup_key >= 0.0 && b->pickup_key < b->dropoff_key && b->dropoff_key <= CV_STOP_KEY_END))
        return cv_fail(err, CV_EINVAL, "booking keys must satisfy 0 <= pickup < dropoff <= %.10g, not %.10g and %.10g",
                       CV_STOP_KEY_END, b->pickup_key, b->dropoff_key);
    if (cv_dates_empty(b->dates))
        return cv_fail(err, CV_EINVAL, "booking has no date");
    int rc;
    RETRYING(rc, add_booking_tx(s, b, err));
    return rc;
}

/* cv_store_add_booking's transaction, b checked. */
static int add_booking_tx(cv_store *s, cv_booking *b, cv_error *err)
{
    int64_t created = now_or(b->created);
    int rc = tx_begin(s, 1, err);
    if (rc)
        return rc;
    int status = 0;
    cv_schedule when;
    rc = offer_state(s, b->offer_id, &status, NULL, err);
    if (!rc && status != CV_TRIP_OPEN)
        rc = cv_fail(err, CV_ECONFLICT, "offer %lld is cancelled", (long long)b->offer_id);
    if (!rc)
        rc = offer_schedule(s, b->offer_id, &when, err);
    if (!rc && cv_dates_empty(booking_dates(b, &when)))
        rc = cv_fail(err, CV_EINVAL, "booking dates are none of offer %lld's", (long long)b->offer_id);
    if (!rc)
        rc = request_state(s, b->request_id, &status, err);
    if (!rc && status != CV_TRIP_OPEN)
        rc = cv_fail(err, CV_ECONFLICT, "request %lld is cancelled", (long long)b->request_id);
    if (!rc) {
        cv_db_stmt *st = s->st[ST_BOOKING_LIVE];
        cv_db_bind_int64(st, 1, b->offer_id);
        cv_db_bind_int64(st, 2, b->request_id);
        int step = cv_db_step(st, err);
        if (step == CV_DB_ROW)
            rc = cv_fail(err, CV_ECONFLICT, "request %lld already has booking %lld (%s) on offer %lld",
                         (long long)b->request_id, (long long)cv_db_column_int64(st, 0),
                         cv_booking_status_name((cv_booking_status)(int)cv_db_column_int64(st, 1)),
                         (long long)b->offer_id);
        else if (step != CV_DB_DONE)
            rc = db_fail(err, step, "cannot read bookings");
        finish(st);
    }
    if (!rc)
        rc = check_one_car(s, b->request_id, 0, booking_dates(b, &when), err);
    int64_t id = 0;
    if (!rc) {
        cv_db_stmt *st = s->st[ST_BOOKING_ADD];
        cv_db_bind_int64(st, 1, b->offer_id);
        cv_db_bind_int64(st, 2, b->request_id);
        cv_db_bind_int64(st, 3, b->seats);
        bind_placement(st, 4, b, created);
        rc = run_insert(s, ST_BOOKING_ADD, &id, err, "cannot store the booking");
    }
    rc = tx_end(s, rc, err);
    if (!rc) {
        b->id = id;
        b->status = CV_BOOKING_PENDING;
        b->created = b->updated = created;
    }
    return rc;
}

int cv_store_get_booking(cv_store *s, int64_t id, cv_booking *b, cv_error *err)
{
    if (!s || !b)
        return cv_fail(err, CV_EINVAL, "cv_store_get_booking: no store or no booking");
    return booking_read(s, id, b, err);
}

int cv_store_list_bookings(cv_store *s, int64_t offer_id, int status, cv_booking **out, size_t *n, cv_error *err)
{
    if (!s || !out || !n)
        return cv_fail(err, CV_EINVAL, "cv_store_list_bookings: missing argument");
    return list_trip_bookings(s, &offer_kind, offer_id, status, out, n, err);
}

int cv_store_list_owner_bookings(cv_store *s, const char *owner, int side, int limit, cv_booking **out, size_t *n,
                                 cv_error *err)
{
    if (!s || !owner || !out || !n)
        return cv_fail(err, CV_EINVAL, "cv_store_list_owner_bookings: missing argument");
    *out = NULL;
    *n = 0;
    int rc = tx_begin(s, 0, err);
    if (rc)
        return rc;
    cv_db_stmt *st = s->st[ST_BOOKING_LIST_OWNER];
    cv_db_bind_text(st, 1, owner);
    cv_db_bind_int64(st, 2, side);
    cv_db_bind_int64(st, 3, limit);
    void *a = NULL;
    size_t na = 0;
    rc =
        read_rows(s, ST_BOOKING_LIST_OWNER, sizeof(cv_booking), read_booking_row, &a, &na, "cannot list bookings", err);
    rc = tx_end(s, rc, err);
    *out = rows_kept(rc, a, na, n);
    return rc;
}

int cv_store_list_request_bookings(cv_store *s, int64_t request_id, cv_booking **out, size_t *n, cv_error *err)
{
    if (!s || !out || !n)
        return cv_fail(err, CV_EINVAL, "cv_store_list_request_bookings: missing argument");
    return list_trip_bookings(s, &request_kind, request_id, -1, out, n, err);
}

/* An accepted booking's occupancy of the offer: seats on the legs [pickup, dropoff), on its dates. */
typedef struct leg_use {
    double pickup, dropoff;
    int seats;
    cv_dates dates;
} leg_use;

/* Row of ST_BOOKING_LOAD into a leg_use. */
static void read_leg_row(cv_db_stmt *st, void *out)
{
    leg_use *u = out;
    u->pickup = cv_db_column_double(st, 0);
    u->dropoff = cv_db_column_double(st, 1);
    u->seats = (int)cv_db_column_int64(st, 2);
    u->dates = (cv_dates){(int)cv_db_column_int64(st, 3), (int)cv_db_column_int64(st, 4),
                          (uint8_t)(int)cv_db_column_int64(st, 5)};
}

/* The accepted bookings of offer_id whose [pickup, dropoff) meets [lo, hi) into *out (malloc'ed). */
static int read_load(cv_store *s, int64_t offer_id, double lo, double hi, leg_use **out, size_t *n, cv_error *err)
{
    cv_db_stmt *st = s->st[ST_BOOKING_LOAD];
    cv_db_bind_int64(st, 1, offer_id);
    cv_db_bind_double(st, 2, lo);
    cv_db_bind_double(st, 3, hi);
    void *a;
    int rc = read_rows(s, ST_BOOKING_LOAD, sizeof(leg_use), read_leg_row, &a, n,
                       "cannot read the offer's accepted bookings", err);
    *out = a;
    return rc;
}

/* The most seats taken on one leg of [lo, hi) on date day by the uses in a (and where: *at, the key the leg starts
   at). The load only changes at pickup and drop-off keys, so it is enough to test lo and every pickup or drop-off
   strictly inside; the lowest of the fullest is reported, whatever order the rows came in. */
static int peak_load(const leg_use *a, size_t na, double lo, double hi, cv_day day, double *at)
{
    int peak = -1;
    for (size_t i = 0; i <= 2 * na; i++) {
        double k;
        if (i == 0) {
            k = lo;
        } else {
            const leg_use *u = &a[(i - 1) / 2];
            k = (i % 2) ? u->pickup : u->dropoff;
            if (!(k > lo && k < hi) || !cv_dates_contains(u->dates, day))
                continue;
        }
        int load = 0;
        for (size_t j = 0; j < na; j++)
            if (a[j].pickup <= k && k < a[j].dropoff && cv_dates_contains(a[j].dates, day))
                load += a[j].seats;
        if (load > peak || (load == peak && k < *at)) {
            peak = load;
            *at = k;
        }
    }
    return peak;
}

/* Checks that b fits on every one of its dates (`dates`, within the offer's): on each, for every key in
   [b->pickup_key, b->dropoff_key), the seats of the accepted bookings riding that date and covering the key plus
   b's stay within offer_seats. */
static int check_seats(cv_store *s, const cv_booking *b, int offer_seats, cv_dates dates, cv_error *err)
{
    leg_use *a = NULL;
    size_t na = 0;
    int rc = read_load(s, b->offer_id, b->pickup_key, b->dropoff_key, &a, &na, err);
    if (rc)
        return rc;
    for (cv_day d = cv_dates_next(dates, dates.first); !rc && d >= 0; d = cv_dates_next(dates, d + 1)) {
        double at = b->pickup_key;
        int load = peak_load(a, na, b->pickup_key, b->dropoff_key, d, &at);
        if (load + b->seats <= offer_seats)
            continue;
        /* The leg ends at the next breakpoint that day (or b's drop-off): naming it makes the refusal actionable. */
        double end = b->dropoff_key;
        for (size_t j = 0; j < na; j++) {
            if (!cv_dates_contains(a[j].dates, d))
                continue;
            if (a[j].pickup > at && a[j].pickup < end)
                end = a[j].pickup;
            if (a[j].dropoff > at && a[j].dropoff < end)
                end = a[j].dropoff;
        }
        char day[16];
        cv_format_date(d, day);
        rc = cv_fail(err, CV_ECONFLICT,
                     "no seat left on offer %lld on %s between keys %.10g and %.10g: %d of %d taken, booking %lld "
                     "needs %d",
                     (long long)b->offer_id, day, at, end, load, offer_seats, (long long)b->id, b->seats);
    }
    free(a);
    return rc;
}

int cv_store_seats_left(cv_store *s, int64_t offer_id, cv_day from, cv_day_seats **out, size_t *n, cv_error *err)
{
    if (!s || !out || !n)
        return cv_fail(err, CV_EINVAL, "cv_store_seats_left: missing argument");
    *out = NULL;
    *n = 0;
    int rc = tx_begin(s, 0, err);
    if (rc)
        return rc;
    int status = 0, seats = 0;
    cv_schedule when;
    leg_use *a = NULL;
    size_t na = 0, cap = 0, nd = 0;
    cv_day_seats *d = NULL;
    rc = offer_state(s, offer_id, &status, &seats, err);
    if (!rc)
        rc = offer_schedule(s, offer_id, &when, err);
    if (!rc)
        rc = read_load(s, offer_id, 0.0, CV_STOP_KEY_END, &a, &na, err);
    rc = tx_end(s, rc, err);
    /* the load changes only where some booking's dates start or end: every date of the offer is looked at, which
       CV_MAX_SCHEDULE_DAYS bounds */
    cv_dates all = cv_schedule_dates(&when);
    for (cv_day day = rc ? -1 : cv_dates_next(all, from > all.first ? from : all.first); day >= 0;
         day = cv_dates_next(all, day + 1)) {
        double at = 0.0;
        int load = na ? peak_load(a, na, 0.0, CV_STOP_KEY_END, day, &at) : 0;
        if (load <= 0)
            continue;
        if ((rc = grow((void **)&d, &cap, nd + 1, sizeof *d, err)))
            break;
        d[nd].day = day;
        d[nd].seats_left = seats - load > 0 ? seats - load : 0;
        nd++;
    }
    free(a);
    if (rc) {
        free(d);
        return rc;
    }
    *out = d;
    *n = nd;
    return 0;
}

static int check_placement(int64_t id, const cv_booking *p, cv_error *err)
{
    if (!(p->pickup_key >= 0 && p->pickup_key < p->dropoff_key && p->dropoff_key <= CV_STOP_KEY_END) ||
        !(p->amount >= 0))
        return cv_fail(err, CV_EINVAL, "booking %lld: pickup and drop-off keys out of order", (long long)id);
    if (cv_dates_empty(p->dates))
        return cv_fail(err, CV_EINVAL, "booking %lld: no date", (long long)id);
    return 0;
}

/* Writes placement p of pending booking id, inside the caller's transaction. */
static int write_placement(cv_store *s, int64_t id, const cv_booking *p, int64_t now, cv_error *err)
{
    cv_db_stmt *st = s->st[ST_BOOKING_PLACE];
    cv_db_bind_int64(st, 1, id);
    bind_placement(st, 2, p, now_or(now));
    return run(s, ST_BOOKING_PLACE, err, "cannot update the booking");
}

int cv_store_accept_booking(cv_store *s, int64_t id, cv_error *err)
{
    return cv_store_accept_placed(s, id, NULL, 0, err);
}

static int accept_placed_tx(cv_store *s, int64_t id, const cv_booking *placement, int64_t now, cv_error *err);

int cv_store_accept_placed(cv_store *s, int64_t id, const cv_booking *placement, int64_t now, cv_error *err)
{
    int rc;
    RETRYING(rc, accept_placed_tx(s, id, placement, now, err));
    return rc;
}

static int accept_placed_tx(cv_store *s, int64_t id, const cv_booking *placement, int64_t now, cv_error *err)
{
    if (!s)
        return cv_fail(err, CV_EINVAL, "cv_store_accept_booking: no store");
    int rc = placement ? check_placement(id, placement, err) : 0;
    if (rc)
        return rc;
    /* IMMEDIATE takes the write lock before reading the load, so two acceptances of the last seat serialise here
       and the second one sees the first one's booking. */
    rc = tx_begin(s, 1, err);
    if (rc)
        return rc;
    cv_booking b;
    int status = 0, seats = 0;
    rc = booking_read(s, id, &b, err);
    if (!rc && b.status != CV_BOOKING_PENDING)
        rc = cv_fail(err, CV_ECONFLICT, "booking %lld is %s, not pending", (long long)id,
                     cv_booking_status_name(b.status));
    /* the placement the matcher made against the offer's stops of a moment: written in this same transaction, so
       that a refusal below writes nothing (and a crash between the two cannot leave it half done) */
    if (!rc && placement) {
        b.pickup = placement->pickup;
        b.dropoff = placement->dropoff;
        b.pickup_key = placement->pickup_key;
        b.dropoff_key = placement->dropoff_key;
        b.pickup_time = placement->pickup_time;
        b.dropoff_time = placement->dropoff_time;
        b.amount = placement->amount;
        b.dates = placement->dates;
        b.plan_version = placement->plan_version;
    }
    if (!rc)
        rc = offer_state(s, b.offer_id, &status, &seats, err);
    if (!rc && status != CV_TRIP_OPEN)
        rc =
            cv_fail(err, CV_ECONFLICT, "offer %lld of booking %lld is cancelled", (long long)b.offer_id, (long long)id);
    if (!rc)
        rc = request_state(s, b.request_id, &status, err);
    if (!rc && status != CV_TRIP_OPEN)
        rc = cv_fail(err, CV_ECONFLICT, "request %lld of booking %lld is cancelled", (long long)b.request_id,
                     (long long)id);
    cv_schedule when;
    cv_dates dates = {1, 0, 0};
    if (!rc)
        rc = offer_schedule(s, b.offer_id, &when, err);
    if (!rc && cv_dates_empty(dates = booking_dates(&b, &when)))
        rc = cv_fail(err, CV_ECONFLICT, "booking %lld has no date left on offer %lld", (long long)id,
                     (long long)b.offer_id);
    /* The booking was placed (its keys, checked for detour and times) against the offer's stops of a moment: if a
       passenger came or went since, that placement may no longer be feasible, so it is refused as stale and the
       matcher places it again (cv_matcher_accept). Seats alone cannot tell: two passengers placed apart on two
       plans of the same date fit by seats and not by route. */
    int64_t version = 0;
    if (!rc)
        rc = offer_version(s, b.offer_id, &version, err);
    if (!rc && b.plan_version >= 0 && b.plan_version != version)
        rc = cv_fail(err, CV_ESTALE, "booking %lld was placed on version %lld of offer %lld's stops, now %lld",
                     (long long)id, (long long)b.plan_version, (long long)b.offer_id, (long long)version);
    /* one car at a time: inside the same write transaction, so that two drivers accepting the same passenger
       at once serialise and the second one is refused */
    if (!rc)
        rc = check_one_car(s, b.request_id, id, dates, err);
    if (!rc)
        rc = check_seats(s, &b, seats, dates, err);
    if (!rc && placement)
        rc = write_placement(s, id, &b, now, err);
    if (!rc) {
        cv_db_bind_int64(s->st[ST_BOOKING_SET_STATUS], 3, store_now(s));
        rc = set_status(s, ST_BOOKING_SET_STATUS, id, CV_BOOKING_ACCEPTED, err, "cannot accept booking");
    }
    if (!rc)
        rc = add_stop(s, b.offer_id, b.pickup_key, CV_STOP_PICKUP, b.pickup, id, b.seats, err);
    if (!rc)
        rc = add_stop(s, b.offer_id, b.dropoff_key, CV_STOP_DROPOFF, b.dropoff, id, -b.seats, err);
    if (!rc)
        rc = plan_changed(s, &b, err);
    /* the passenger's other pending bookings on these dates can no longer be accepted: they are superseded, so
       that the passenger and the other drivers see it */
    int64_t *others = NULL, offer = 0;
    size_t nothers = 0;
    cv_day day = 0;
    if (!rc)
        rc = request_bookings_on(s, b.request_id, CV_BOOKING_PENDING, id, dates, &others, &nothers, &offer, &day, err);
    for (size_t i = 0; !rc && i < nothers; i++) {
        cv_db_bind_int64(s->st[ST_BOOKING_SET_STATUS], 3, store_now(s));
        rc = set_status(s, ST_BOOKING_SET_STATUS, others[i], CV_BOOKING_SUPERSEDED, err,
                        "cannot supersede the passenger's other bookings");
    }
    free(others);
    return tx_end(s, rc, err);
}

/* Moves a booking from one of the states in the mask `from` (bits of cv_booking_status) to `to`, removing its
   stops; expected names the allowed states for the refusal message. */
static int booking_transition_tx(cv_store *s, int64_t id, unsigned from, cv_booking_status to, const char *expected,
                                 cv_error *err)
{
    int rc = tx_begin(s, 1, err);
    if (rc)
        return rc;
    cv_booking b;
    rc = booking_read(s, id, &b, err);
    if (!rc && !(from & (1u << b.status)))
        rc = cv_fail(err, CV_ECONFLICT, "booking %lld is %s, not %s", (long long)id, cv_booking_status_name(b.status),
                     expected);
    if (!rc) {
        cv_db_bind_int64(s->st[ST_BOOKING_SET_STATUS], 3, store_now(s));
        rc = set_status(s, ST_BOOKING_SET_STATUS, id, to, err, "cannot update booking");
    }
    if (!rc && b.status == CV_BOOKING_ACCEPTED) {
        cv_db_bind_int64(s->st[ST_STOPS_DEL_BOOKING], 1, id);
        rc = run(s, ST_STOPS_DEL_BOOKING, err, "cannot remove the booking's stops");
        if (!rc)
            rc = plan_changed(s, &b, err);
    }
    return tx_end(s, rc, err);
}

static int booking_transition(cv_store *s, int64_t id, unsigned from, cv_booking_status to, const char *expected,
                              cv_error *err)
{
    int rc;
    RETRYING(rc, booking_transition_tx(s, id, from, to, expected, err));
    return rc;
}

int cv_store_refuse_booking(cv_store *s, int64_t id, cv_error *err)
{
    if (!s)
        return cv_fail(err, CV_EINVAL, "cv_store_refuse_booking: no store");
    return booking_transition(s, id, 1u << CV_BOOKING_PENDING, CV_BOOKING_REFUSED, "pending", err);
}

int cv_store_cancel_booking(cv_store *s, int64_t id, cv_error *err)
{
    if (!s)
        return cv_fail(err, CV_EINVAL, "cv_store_cancel_booking: no store");
    return booking_transition(s, id, (1u << CV_BOOKING_PENDING) | (1u << CV_BOOKING_ACCEPTED), CV_BOOKING_CANCELLED,
                              "pending or accepted", err);
}

static int place_booking_tx(cv_store *s, int64_t id, const cv_booking *p, int64_t now, cv_error *err);

int cv_store_place_booking(cv_store *s, int64_t id, const cv_booking *p, int64_t now, cv_error *err)
{
    int rc;
    RETRYING(rc, place_booking_tx(s, id, p, now, err));
    return rc;
}

static int place_booking_tx(cv_store *s, int64_t id, const cv_booking *p, int64_t now, cv_error *err)
{
    if (!s)
        return cv_fail(err, CV_EINVAL, "cv_store_place_booking: no store");
    int rc = check_placement(id, p, err);
    if (rc)
        return rc;
    int light;
    rc = tx_begin_light(s, &light, err);
    if (rc)
        return rc;
    cv_booking b;
    rc = booking_read(s, id, &b, err);
    if (!rc && b.status != CV_BOOKING_PENDING)
        rc = cv_fail(err, CV_ECONFLICT, "booking %lld is %s, not pending", (long long)id,
                     cv_booking_status_name(b.status));
    if (!rc)
        rc = write_placement(s, id, p, now, err);
    return tx_end_light(s, light, rc, err);
}

/* ---- API keys ---- */

static void key_hash(const char *secret, unsigned char out[32])
{
    cv_sha256_sum(secret, strlen(secret), out);
}

int cv_store_add_key(cv_store *s, const char *client, unsigned scopes, char out_secret[CV_KEY_SECRET_MAX], int64_t *id,
                     cv_error *err)
{
    if (!client || !*client || strlen(client) >= CV_OWNER_MAX || strchr(client, ':'))
        return cv_fail(err, CV_EINVAL, "the client name must be 1 to %d bytes without ':'", CV_OWNER_MAX - 1);
    if (!scopes || (scopes & ~(unsigned)CV_SCOPE_ALL))
        return cv_fail(err, CV_EINVAL, "a key needs at least one scope (routing, search, trips, admin, interop)");
    unsigned char raw[32], hash[32];
    if (cv_random_bytes(raw, sizeof raw))
        return cv_fail(err, CV_EIO, "cannot read random bytes for the key");
    memcpy(out_secret, "cvk_", 4);
    for (int i = 0; i < 32; i++)
        snprintf(out_secret + 4 + 2 * i, 3, "%02x", raw[i]);
    key_hash(out_secret, hash);
    cv_db_stmt *st = NULL;
    int rc = cv_db_prepare(
        s->db, "INSERT INTO api_keys(client, hash, scopes, created) VALUES (?1, ?2, ?3, ?4) RETURNING id", &st, err);
    if (rc == 0) {
        cv_db_bind_text(st, 1, client);
        cv_db_bind_blob(st, 2, hash, sizeof hash);
        cv_db_bind_int64(st, 3, (int64_t)scopes);
        cv_db_bind_int64(st, 4, store_now(s));
        rc = cv_db_step(st, err);
    }
    if (rc != CV_DB_ROW) {
        rc = rc < 0 ? db_fail(err, rc, "cannot add the key") : cv_fail(err, CV_EINTERNAL, "the key got no id");
        cv_db_finalize(st);
        memset(out_secret, 0, CV_KEY_SECRET_MAX);
        return rc;
    }
    if (id)
        *id = cv_db_column_int64(st, 0);
    cv_db_finalize(st);
    return 0;
}

int cv_store_list_keys(cv_store *s, cv_key_info **out, size_t *n, cv_error *err)
{
    *out = NULL;
    *n = 0;
    cv_db_stmt *st = NULL;
    int rc = cv_db_prepare(s->db, "SELECT id, client, scopes, created, revoked FROM api_keys ORDER BY id", &st, err);
    if (rc != 0)
        return db_fail(err, rc, "cannot list the keys");
    size_t cap = 0;
    while ((rc = cv_db_step(st, err)) == CV_DB_ROW) {
        if (grow((void **)out, &cap, *n + 1, sizeof **out, err)) {
            cv_db_finalize(st);
            free(*out);
            *out = NULL;
            *n = 0;
            return CV_ENOMEM;
        }
        cv_key_info *k = &(*out)[(*n)++];
        memset(k, 0, sizeof *k);
        k->id = cv_db_column_int64(st, 0);
        const char *c = cv_db_column_text(st, 1);
        snprintf(k->client, sizeof k->client, "%s", c ? c : "");
        k->scopes = (unsigned)cv_db_column_int64(st, 2);
        k->created = cv_db_column_int64(st, 3);
        k->revoked = cv_db_column_int64(st, 4);
    }
    if (rc != CV_DB_DONE) {
        rc = db_fail(err, rc, "cannot list the keys");
        cv_db_finalize(st);
        free(*out);
        *out = NULL;
        *n = 0;
        return rc;
    }
    cv_db_finalize(st);
    return 0;
}

int cv_store_revoke_key(cv_store *s, int64_t id, cv_error *err)
{
    cv_db_stmt *st = NULL;
    int rc = cv_db_prepare(s->db, "UPDATE api_keys SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL", &st, err);
    if (rc == 0) {
        cv_db_bind_int64(st, 1, id);
        cv_db_bind_int64(st, 2, store_now(s));
        rc = cv_db_step(st, err);
    }
    if (rc != CV_DB_DONE) {
        rc = db_fail(err, rc, "cannot revoke the key");
        cv_db_finalize(st);
        return rc;
    }
    cv_db_finalize(st);
    if (cv_db_changes(s->db) == 0)
        return cv_fail(err, CV_ENOTFOUND, "no key %lld that is not revoked already", (long long)id);
    return 0;
}

int cv_store_active_keys(cv_store *s, int *count, cv_error *err)
{
    int64_t v = 0;
    int rc = store_int64(s, "SELECT count(*) FROM api_keys WHERE revoked IS NULL", &v, err, "cannot count the keys");
    *count = (int)v;
    return rc;
}

int cv_store_check_key(cv_store *s, const char *secret, char client[CV_OWNER_MAX], unsigned *scopes, cv_error *err)
{
    if (!secret || !*secret)
        return cv_fail(err, CV_ENOTFOUND, "no API key");
    unsigned char hash[32];
    key_hash(secret, hash);
    cv_db_stmt *st = s->st[ST_KEY_CHECK];
    cv_db_bind_blob(st, 1, hash, sizeof hash);
    int rc = cv_db_step(st, err);
    if (rc == CV_DB_ROW) {
        const char *c = cv_db_column_text(st, 0);
        snprintf(client, CV_OWNER_MAX, "%s", c ? c : "");
        *scopes = (unsigned)cv_db_column_int64(st, 1);
        finish(st);
        return 0;
    }
    if (rc != CV_DB_DONE)
        rc = db_fail(err, rc, "cannot check the key");
    else
        rc = cv_fail(err, CV_ENOTFOUND, "unknown or revoked API key");
    finish(st);
    return rc;
}

/* ---- bookings made by partner operators ---- */

int cv_store_add_partner_booking(cv_store *s, const cv_partner_booking *b, cv_error *err)
{
    if (!s || !b || !b->uuid[0] || !b->partner[0] || b->booking_id <= 0 || (unsigned)b->status > CV_PARTNER_CANCELLED)
        return cv_fail(err, CV_EINVAL, "cv_store_add_partner_booking: missing argument");
    cv_db_stmt *st = NULL;
    int rc = cv_db_prepare(s->db,
                           "INSERT INTO partner_bookings(uuid, partner, booking_id, journey, user_id, user_alias, "
                           "user_operator, status, message, created, updated) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULLIF(?9, ''), ?10, ?10)",
                           &st, err);
    if (rc == 0) {
        const char *text[] = {b->uuid, b->partner, NULL, b->journey, b->user_id, b->user_alias, b->user_operator};
        for (int i = 0; i < 7; i++)
            if (text[i])
                cv_db_bind_text(st, i + 1, text[i]);
        cv_db_bind_int64(st, 3, b->booking_id);
        cv_db_bind_int64(st, 8, (int)b->status);
        cv_db_bind_text(st, 9, b->message);
        cv_db_bind_int64(st, 10, store_now(s));
        rc = cv_db_step(st, err);
    }
    if (rc == CV_ECONFLICT)
        rc = cv_fail(err, CV_ECONFLICT, "booking %s exists already", b->uuid);
    else if (rc != CV_DB_DONE)
        rc = db_fail(err, rc, "cannot record the partner's booking");
    else
        rc = 0;
    cv_db_finalize(st);
    return rc;
}

int cv_store_get_partner_booking(cv_store *s, const char *uuid, cv_partner_booking *out, cv_error *err)
{
    if (!s || !uuid || !out)
        return cv_fail(err, CV_EINVAL, "cv_store_get_partner_booking: missing argument");
    cv_db_stmt *st = NULL;
    int rc = cv_db_prepare(s->db,
                           "SELECT uuid, partner, booking_id, journey, user_id, user_alias, user_operator, status, "
                           "coalesce(message, ''), created, updated FROM partner_bookings WHERE uuid = ?1",
                           &st, err);
    if (rc == 0) {
        cv_db_bind_text(st, 1, uuid);
        rc = cv_db_step(st, err);
    }
    if (rc == CV_DB_ROW) {
        memset(out, 0, sizeof *out);
        struct {
            char *to;
            size_t cap;
            int col;
        } text[] = {{out->uuid, sizeof out->uuid, 0},
                    {out->partner, sizeof out->partner, 1},
                    {out->journey, sizeof out->journey, 3},
                    {out->user_id, sizeof out->user_id, 4},
                    {out->user_alias, sizeof out->user_alias, 5},
                    {out->user_operator, sizeof out->user_operator, 6},
                    {out->message, sizeof out->message, 8}};
        for (size_t i = 0; i < sizeof text / sizeof *text; i++) {
            const char *v = cv_db_column_text(st, text[i].col);
            snprintf(text[i].to, text[i].cap, "%s", v ? v : "");
        }
        out->booking_id = cv_db_column_int64(st, 2);
        out->status = (cv_partner_status)(int)cv_db_column_int64(st, 7);
        out->created = cv_db_column_int64(st, 9);
        out->updated = cv_db_column_int64(st, 10);
        rc = 0;
    } else if (rc == CV_DB_DONE) {
        rc = cv_fail(err, CV_ENOTFOUND, "booking %s not found", uuid);
    } else {
        rc = db_fail(err, rc, "cannot read the partner's booking");
    }
    cv_db_finalize(st);
    return rc;
}

int cv_store_request_of_partner(cv_store *s, int64_t request_id, int *yes, cv_error *err)
{
    if (!s || !yes)
        return cv_fail(err, CV_EINVAL, "cv_store_request_of_partner: missing argument");
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM partner_bookings pb JOIN bookings b ON b.id = pb.booking_id "
             "WHERE b.request_id = %lld",
             (long long)request_id);
    int64_t v = 0;
    int rc = store_int64(s, sql, &v, err, "cannot read the request's bookings");
    *yes = v != 0;
    return rc;
}

int cv_store_set_partner_status(cv_store *s, const char *uuid, cv_partner_status status, const char *message,
                                cv_error *err)
{
    if (!s || !uuid || (unsigned)status > CV_PARTNER_CANCELLED)
        return cv_fail(err, CV_EINVAL, "cv_store_set_partner_status: missing argument");
    cv_db_stmt *st = NULL;
    int rc = cv_db_prepare(s->db, "UPDATE partner_bookings SET status = ?2, message = ?3, updated = ?4 WHERE uuid = ?1",
                           &st, err);
    if (rc == 0) {
        cv_db_bind_text(st, 1, uuid);
        cv_db_bind_int64(st, 2, (int)status);
        if (message && *message)
            cv_db_bind_text(st, 3, message);
        cv_db_bind_int64(st, 4, store_now(s));
        rc = cv_db_step(st, err);
    }
    if (rc != CV_DB_DONE)
        rc = db_fail(err, rc, "cannot update the partner's booking");
    else
        rc = cv_db_changes(s->db) ? 0 : cv_fail(err, CV_ENOTFOUND, "booking %s not found", uuid);
    cv_db_finalize(st);
    return rc;
}

/* ---- messages from partners' users ---- */

#define MESSAGE_COLS                                                                                                   \
    "id, owner, trip_kind, trip_id, partner, from_id, from_alias, from_operator, body, journey, booking, created, "    \
    "coalesce(read_at, 0)"

static void read_message_row(cv_db_stmt *st, void *out)
{
    cv_message *m = out;
    memset(m, 0, sizeof *m);
    m->id = cv_db_column_int64(st, 0);
    m->trip_kind = (int)cv_db_column_int64(st, 2);
    m->trip_id = cv_db_column_int64(st, 3);
    m->created = cv_db_column_int64(st, 11);
    m->read_at = cv_db_column_int64(st, 12);
    struct {
        char *to;
        size_t cap;
        int col;
    } text[] = {{m->owner, sizeof m->owner, 1},
                {m->partner, sizeof m->partner, 4},
                {m->from_id, sizeof m->from_id, 5},
                {m->from_alias, sizeof m->from_alias, 6},
                {m->from_operator, sizeof m->from_operator, 7},
                {m->text, sizeof m->text, 8},
                {m->journey, sizeof m->journey, 9},
                {m->booking, sizeof m->booking, 10}};
    for (size_t i = 0; i < sizeof text / sizeof *text; i++) {
        const char *v = cv_db_column_text(st, text[i].col);
        snprintf(text[i].to, text[i].cap, "%s", v ? v : "");
    }
}

int cv_store_add_message(cv_store *s, cv_message *m, cv_error *err)
{
    if (!s || !m || !m->owner[0] || m->trip_id <= 0 || (m->trip_kind != 0 && m->trip_kind != 1) || !m->text[0])
        return cv_fail(err, CV_EINVAL, "cv_store_add_message: missing argument");
    cv_db_stmt *st = NULL;
    int rc = cv_db_prepare(s->db,
                           "INSERT INTO messages(owner, trip_kind, trip_id, partner, from_id, from_alias, "
                           "from_operator, body, journey, booking, created) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING id",
                           &st, err);
    m->created = store_now(s);
    if (rc == 0) {
        const char *text[] = {m->owner,         NULL,    NULL,       m->partner, m->from_id, m->from_alias,
                              m->from_operator, m->text, m->journey, m->booking};
        for (int i = 0; i < 10; i++)
            if (text[i])
                cv_db_bind_text(st, i + 1, text[i]);
        cv_db_bind_int64(st, 2, m->trip_kind);
        cv_db_bind_int64(st, 3, m->trip_id);
        cv_db_bind_int64(st, 11, m->created);
        rc = cv_db_step(st, err);
    }
    if (rc != CV_DB_ROW)
        rc = rc < 0 ? db_fail(err, rc, "cannot store the message") : cv_fail(err, CV_EINTERNAL, "no message id");
    else
        rc = 0, m->id = cv_db_column_int64(st, 0);
    cv_db_finalize(st);
    return rc;
}

int cv_store_list_messages(cv_store *s, const char *owner, int unread_only, cv_message **out, size_t *n, cv_error *err)
{
    if (!s || !out || !n)
        return cv_fail(err, CV_EINVAL, "cv_store_list_messages: missing argument");
    *out = NULL;
    *n = 0;
    cv_db_stmt *st = NULL;
    int rc = cv_db_prepare(s->db,
                           "SELECT " MESSAGE_COLS " FROM messages WHERE (CAST(?1 AS TEXT) IS NULL OR owner = ?1) "
                           "AND (?2 = 0 OR read_at IS NULL) ORDER BY id",
                           &st, err);
    size_t cap = 0;
    if (rc == 0) {
        if (owner)
            cv_db_bind_text(st, 1, owner);
        cv_db_bind_int64(st, 2, unread_only != 0);
        while ((rc = cv_db_step(st, err)) == CV_DB_ROW) {
            if ((rc = grow((void **)out, &cap, *n + 1, sizeof **out, err)))
                break;
            read_message_row(st, &(*out)[(*n)++]);
        }
    }
    if (rc == CV_DB_DONE)
        rc = 0;
    else if (rc != CV_ENOMEM) /* (grow's failure has its message) */
        rc = db_fail(err, rc, "cannot list the messages");
    cv_db_finalize(st);
    if (rc) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

int cv_store_get_message(cv_store *s, int64_t id, cv_message *out, cv_error *err)
{
    if (!s || !out)
        return cv_fail(err, CV_EINVAL, "cv_store_get_message: missing argument");
    cv_db_stmt *st = NULL;
    int rc = cv_db_prepare(s->db, "SELECT " MESSAGE_COLS " FROM messages WHERE id = ?1", &st, err);
    if (rc == 0) {
        cv_db_bind_int64(st, 1, id);
        rc = cv_db_step(st, err);
    }
    if (rc == CV_DB_ROW)
        read_message_row(st, out), rc = 0;
    else if (rc == CV_DB_DONE)
        rc = cv_fail(err, CV_ENOTFOUND, "message %lld not found", (long long)id);
    else
        rc = db_fail(err, rc, "cannot read the message");
    cv_db_finalize(st);
    return rc;
}

int cv_store_mark_message_read(cv_store *s, int64_t id, cv_error *err)
{
    if (!s)
        return cv_fail(err, CV_EINVAL, "cv_store_mark_message_read: no store");
    cv_db_stmt *st = NULL;
    int rc = cv_db_prepare(s->db, "UPDATE messages SET read_at = coalesce(read_at, ?2) WHERE id = ?1", &st, err);
    if (rc == 0) {
        cv_db_bind_int64(st, 1, id);
        cv_db_bind_int64(st, 2, store_now(s));
        rc = cv_db_step(st, err);
    }
    if (rc != CV_DB_DONE)
        rc = db_fail(err, rc, "cannot mark the message read");
    else
        rc = cv_db_changes(s->db) ? 0 : cv_fail(err, CV_ENOTFOUND, "message %lld not found", (long long)id);
    cv_db_finalize(st);
    return rc;
}

/* ---- partner operators, the outbox of their booking events, our bookings on their journeys ---- */

/* Binds the arguments of st from 1 on as spec says: 't' a text (NULL binds NULL), 'i' an int64_t, 'n' an int. */
static void bind_vargs(cv_db_stmt *st, const char *spec, va_list ap)
{
    for (int i = 1; *spec; spec++, i++) {
        if (*spec == 't') {
            const char *v = va_arg(ap, const char *);
            if (v)
                cv_db_bind_text(st, i, v);
        } else if (*spec == 'i') {
            cv_db_bind_int64(st, i, va_arg(ap, int64_t));
        } else {
            cv_db_bind_int64(st, i, va_arg(ap, int));
        }
    }
}

static void column_text(cv_db_stmt *st, int col, char *out, size_t cap)
{
    const char *v = cv_db_column_text(st, col);
    snprintf(out, cap, "%s", v ? v : "");
}

/* Prepares sql and binds its arguments as bind_vargs does: 0 or a CV_E* code. */
static int prepare_bound(cv_store *s, const char *sql, cv_db_stmt **st, cv_error *err, const char *spec, va_list ap)
{
    int rc = cv_db_prepare(s->db, sql, st, err);
    if (rc == 0)
        bind_vargs(*st, spec, ap);
    return rc;
}

/* Runs sql, a write of one row found by its key, with the arguments bound as bind_vargs does: 0, CV_ENOTFOUND (with
   missing as the message) when it changed no row, CV_ECONFLICT (with conflict) on a primary key or unique
   conflict. */
static int write_one(cv_store *s, const char *sql, const char *what, const char *missing, const char *conflict,
                     cv_error *err, const char *spec, ...)
{
    cv_db_stmt *st = NULL;
    va_list ap;
    va_start(ap, spec);
    int rc = prepare_bound(s, sql, &st, err, spec, ap);
    va_end(ap);
    if (rc == 0)
        rc = cv_db_step(st, err);
    if (conflict && rc == CV_ECONFLICT)
        rc = cv_fail(err, CV_ECONFLICT, "%s", conflict);
    else if (rc != CV_DB_DONE)
        rc = db_fail(err, rc, what);
    else
        rc = cv_db_changes(s->db) || !missing ? 0 : cv_fail(err, CV_ENOTFOUND, "%s", missing);
    cv_db_finalize(st);
    return rc;
}

/* Runs sql, its arguments bound as bind_vargs does, and collects its rows as collect_rows does. */
static int query_rows(cv_store *s, const char *sql, size_t elem, row_reader read, void **out, size_t *n,
                      const char *what, cv_error *err, const char *spec, ...)
{
    *out = NULL;
    *n = 0;
    cv_db_stmt *st = NULL;
    va_list ap;
    va_start(ap, spec);
    int rc = prepare_bound(s, sql, &st, err, spec, ap);
    va_end(ap);
    rc = rc == 0 ? collect_rows(st, elem, read, out, n, what, err) : db_fail(err, rc, what);
    cv_db_finalize(st);
    return rc;
}

/* Runs sql, a read of one row by its key bound as bind_vargs does, into out: CV_ENOTFOUND (with missing as the
   message) when there is none. */
static int query_one(cv_store *s, const char *sql, row_reader read, void *out, const char *missing, const char *what,
                     cv_error *err, const char *spec, ...)
{
    cv_db_stmt *st = NULL;
    va_list ap;
    va_start(ap, spec);
    int rc = prepare_bound(s, sql, &st, err, spec, ap);
    va_end(ap);
    if (rc == 0)
        rc = cv_db_step(st, err);
    if (rc == CV_DB_ROW)
        read(st, out), rc = 0;
    else if (rc == CV_DB_DONE)
        rc = cv_fail(err, CV_ENOTFOUND, "%s", missing);
    else
        rc = db_fail(err, rc, what);
    cv_db_finalize(st);
    return rc;
}

int cv_store_add_partner(cv_store *s, const cv_partner *p, cv_error *err)
{
    if (!s || !p || !p->name[0] || !p->base_url[0] || !p->api_key[0] || !p->events_url[0])
        return cv_fail(err, CV_EINVAL, "a partner needs a name, a base URL, a key and a booking-events URL");
    char conflict[CV_OWNER_MAX + 40];
    snprintf(conflict, sizeof conflict, "partner %s exists already", p->name);
    return write_one(s,
                     "INSERT INTO partners(name, base_url, api_key, events_url, created) VALUES (?1, ?2, ?3, ?4, ?5)",
                     "cannot record the partner", NULL, conflict, err, "tttti", p->name, p->base_url, p->api_key,
                     p->events_url, store_now(s));
}

#define PARTNER_COLS "name, base_url, api_key, events_url, created"

static void read_partner_row(cv_db_stmt *st, void *out)
{
    cv_partner *p = out;
    memset(p, 0, sizeof *p);
    column_text(st, 0, p->name, sizeof p->name);
    column_text(st, 1, p->base_url, sizeof p->base_url);
    column_text(st, 2, p->api_key, sizeof p->api_key);
    column_text(st, 3, p->events_url, sizeof p->events_url);
    p->created = cv_db_column_int64(st, 4);
}

int cv_store_get_partner(cv_store *s, const char *name, cv_partner *out, cv_error *err)
{
    if (!s || !name || !out)
        return cv_fail(err, CV_EINVAL, "cv_store_get_partner: missing argument");
    char missing[CV_OWNER_MAX + 20];
    snprintf(missing, sizeof missing, "no partner named %s", name);
    return query_one(s, "SELECT " PARTNER_COLS " FROM partners WHERE name = ?1", read_partner_row, out, missing,
                     "cannot read the partner", err, "t", name);
}

int cv_store_list_partners(cv_store *s, cv_partner **out, size_t *n, cv_error *err)
{
    if (!s || !out || !n)
        return cv_fail(err, CV_EINVAL, "cv_store_list_partners: missing argument");
    return query_rows(s, "SELECT " PARTNER_COLS " FROM partners ORDER BY name", sizeof **out, read_partner_row,
                      (void **)out, n, "cannot list the partners", err, "");
}

int cv_store_remove_partner(cv_store *s, const char *name, cv_error *err)
{
    if (!s || !name)
        return cv_fail(err, CV_EINVAL, "cv_store_remove_partner: missing argument");
    char missing[CV_OWNER_MAX + 20];
    snprintf(missing, sizeof missing, "no partner named %s", name);
    return write_one(s, "DELETE FROM partners WHERE name = ?1", "cannot remove the partner", missing, NULL, err, "t",
                     name);
}

static void read_outbox_row(cv_db_stmt *st, void *out)
{
    cv_outbox_event *e = out;
    memset(e, 0, sizeof *e);
    e->id = cv_db_column_int64(st, 0);
    column_text(st, 1, e->partner, sizeof e->partner);
    column_text(st, 2, e->uuid, sizeof e->uuid);
    column_text(st, 3, e->event, sizeof e->event);
    e->status = (cv_partner_status)(int)cv_db_column_int64(st, 4);
    e->created = cv_db_column_int64(st, 5);
    e->attempts = (int)cv_db_column_int64(st, 6);
    e->kind = (int)cv_db_column_int64(st, 7);
    column_text(st, 8, e->body, sizeof e->body);
}

int cv_store_outbox_due(cv_store *s, int64_t now, size_t max, cv_outbox_event **out, size_t *n, cv_error *err)
{
    if (!s || !out || !n)
        return cv_fail(err, CV_EINVAL, "cv_store_outbox_due: missing argument");
    return query_rows(s,
                      "SELECT o.id, o.partner, o.uuid, o.event, o.status, o.created, o.attempts, o.kind, o.body "
                      "FROM outbox o WHERE o.done IS NULL AND o.next_at <= ?1 "
                      "AND o.id = (SELECT min(id) FROM outbox f WHERE f.uuid = o.uuid AND f.done IS NULL) "
                      "AND EXISTS (SELECT 1 FROM partners p WHERE p.name = o.partner) ORDER BY o.id LIMIT ?2",
                      sizeof **out, read_outbox_row, (void **)out, n, "cannot read the outbox", err, "ii", now,
                      (int64_t)max);
}

int cv_store_outbox_message(cv_store *s, const char *partner, const char *body, cv_error *err)
{
    if (!s || !partner || !*partner || !body || strlen(body) >= CV_OUTBOX_BODY_MAX)
        return cv_fail(err, CV_EINVAL, "cv_store_outbox_message: a partner and a body of at most %d bytes",
                       CV_OUTBOX_BODY_MAX - 1);
    char order[CV_OWNER_MAX + 16];
    snprintf(order, sizeof order, "messages:%s", partner);
    return write_one(s,
                     UUID_SQL(s,
                              "INSERT INTO outbox(kind, partner, uuid, event, status, body, created) "
                              "VALUES (1, ?1, ?2, ",
                              ", 0, ?3, ?4)"),
                     "cannot queue the message", NULL, NULL, err, "ttti", partner, order, body, store_now(s));
}

int cv_store_outbox_done(cv_store *s, int64_t id, int refused, const char *why, cv_error *err)
{
    if (!s)
        return cv_fail(err, CV_EINVAL, "cv_store_outbox_done: no store");
    return write_one(s, "UPDATE outbox SET done = ?2, refused = ?3, last_error = ?4 WHERE id = ?1",
                     "cannot mark the event delivered", "no such event", NULL, err, "iint", id, store_now(s),
                     refused ? 1 : 0, why);
}

int cv_store_outbox_retry(cv_store *s, int64_t id, int64_t next_at, const char *why, cv_error *err)
{
    if (!s)
        return cv_fail(err, CV_EINVAL, "cv_store_outbox_retry: no store");
    return write_one(s, "UPDATE outbox SET attempts = attempts + 1, next_at = ?2, last_error = ?3 WHERE id = ?1",
                     "cannot record the failed attempt", "no such event", NULL, err, "iit", id, next_at, why);
}

int cv_store_outbox_claim(cv_store *s, int64_t id, int64_t now, int64_t until, cv_error *err)
{
    if (!s)
        return cv_fail(err, CV_EINVAL, "cv_store_outbox_claim: no store");
    int rc = write_one(s, "UPDATE outbox SET next_at = ?3 WHERE id = ?1 AND done IS NULL AND next_at <= ?2",
                       "cannot take the event to deliver", NULL, NULL, err, "iii", id, now, until);
    return rc ? rc : cv_db_changes(s->db) == 1;
}

int cv_store_outbox_stats(cv_store *s, cv_outbox_stats *out, cv_error *err)
{
    if (!s || !out)
        return cv_fail(err, CV_EINVAL, "cv_store_outbox_stats: missing argument");
    memset(out, 0, sizeof *out);
    cv_db_stmt *st = NULL;
    int rc = cv_db_prepare(
        s->db,
        "SELECT count(*) FILTER (WHERE done IS NULL), count(*) FILTER (WHERE done IS NOT NULL AND refused = 0), "
        "count(*) FILTER (WHERE refused <> 0), coalesce(min(created) FILTER (WHERE done IS NULL), 0), "
        "count(*) FILTER (WHERE done IS NULL AND partner NOT IN (SELECT name FROM partners)) FROM outbox",
        &st, err);
    if (rc == 0)
        rc = cv_db_step(st, err);
    if (rc == CV_DB_ROW) {
        out->waiting = cv_db_column_int64(st, 0);
        out->delivered = cv_db_column_int64(st, 1);
        out->refused = cv_db_column_int64(st, 2);
        out->oldest = cv_db_column_int64(st, 3);
        out->held = cv_db_column_int64(st, 4);
        rc = 0;
    } else {
        rc = db_fail(err, rc, "cannot count the outbox");
    }
    cv_db_finalize(st);
    return rc;
}

/* The row of b, made now (CV_ECONFLICT when its uuid exists). */
static int insert_remote(cv_store *s, const cv_remote_booking *b, int64_t now, cv_error *err)
{
    char conflict[80];
    snprintf(conflict, sizeof conflict, "booking %s exists already", b->uuid);
    return write_one(s,
                     "INSERT INTO remote_bookings(uuid, partner, owner, journey, doc, status, created, updated, "
                     "side, request_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, NULLIF(?9, 0))",
                     "cannot record the booking", NULL, conflict, err, "tttttnini", b->uuid, b->partner, b->owner,
                     b->journey, b->doc, (int)b->status, now, b->side ? 1 : 0, b->request_id);
}

int cv_store_add_remote_booking(cv_store *s, const cv_remote_booking *b, cv_error *err)
{
    if (!s || !b || !b->uuid[0] || !b->partner[0] || !b->owner[0] || (unsigned)b->status > CV_PARTNER_CANCELLED)
        return cv_fail(err, CV_EINVAL, "cv_store_add_remote_booking: missing argument");
    return insert_remote(s, b, store_now(s), err);
}

static int add_event_booking_tx(cv_store *s, const cv_remote_booking *b, const char *event, cv_error *err)
{
    int64_t now = store_now(s);
    int rc = tx_begin(s, 1, err);
    if (!rc)
        rc = insert_remote(s, b, now, err);
    if (!rc)
        rc = write_one(s, "INSERT INTO remote_events(id, uuid, status, at) VALUES (?1, ?2, ?3, ?4)",
                       "cannot record the event", NULL, "the event exists already", err, "ttni", event, b->uuid,
                       (int)b->status, now);
    return tx_end(s, rc, err);
}

int cv_store_add_event_booking(cv_store *s, const cv_remote_booking *b, const char *event, cv_error *err)
{
    if (!s || !b || !b->uuid[0] || !b->partner[0] || !event || b->side || (unsigned)b->status > CV_PARTNER_CANCELLED)
        return cv_fail(err, CV_EINVAL, "cv_store_add_event_booking: missing argument");
    int rc;
    RETRYING(rc, add_event_booking_tx(s, b, event, err));
    return rc;
}

#define REMOTE_COLS "uuid, partner, owner, journey, doc, status, created, updated, side, coalesce(request_id, 0)"

static void read_remote_row(cv_db_stmt *st, void *row)
{
    cv_remote_booking *out = row;
    memset(out, 0, sizeof *out);
    column_text(st, 0, out->uuid, sizeof out->uuid);
    column_text(st, 1, out->partner, sizeof out->partner);
    column_text(st, 2, out->owner, sizeof out->owner);
    column_text(st, 3, out->journey, sizeof out->journey);
    column_text(st, 4, out->doc, sizeof out->doc);
    out->status = (cv_partner_status)(int)cv_db_column_int64(st, 5);
    out->created = cv_db_column_int64(st, 6);
    out->updated = cv_db_column_int64(st, 7);
    out->side = (int)cv_db_column_int64(st, 8);
    out->request_id = cv_db_column_int64(st, 9);
}

int cv_store_get_remote_booking(cv_store *s, const char *uuid, cv_remote_booking *out, cv_error *err)
{
    if (!s || !uuid || !out)
        return cv_fail(err, CV_EINVAL, "cv_store_get_remote_booking: missing argument");
    char missing[80];
    snprintf(missing, sizeof missing, "booking %.40s not found", uuid);
    return query_one(s, "SELECT " REMOTE_COLS " FROM remote_bookings WHERE uuid = ?1", read_remote_row, out, missing,
                     "cannot read the booking", err, "t", uuid);
}

int cv_store_list_remote_bookings(cv_store *s, const char *owner, int64_t request_id, cv_remote_booking **out,
                                  size_t *n, cv_error *err)
{
    if (!s || !out || !n)
        return cv_fail(err, CV_EINVAL, "cv_store_list_remote_bookings: missing argument");
    return query_rows(s,
                      "SELECT " REMOTE_COLS " FROM remote_bookings WHERE (CAST(?1 AS TEXT) IS NULL OR owner = ?1) "
                      "AND (?2 = 0 OR request_id = ?2) ORDER BY created, uuid",
                      sizeof **out, read_remote_row, (void **)out, n, "cannot list the bookings", err, "ti", owner,
                      request_id);
}

static int remote_status_tx(cv_store *s, const char *partner, const char *uuid, const char *event,
                            cv_partner_status status, int owe_event, int *applied, cv_error *err);

int cv_store_remote_status(cv_store *s, const char *partner, const char *uuid, const char *event,
                           cv_partner_status status, int owe_event, int *applied, cv_error *err)
{
    if (applied)
        *applied = 0;
    if (!s || !uuid || (unsigned)status > CV_PARTNER_CANCELLED)
        return cv_fail(err, CV_EINVAL, "cv_store_remote_status: missing argument");
    int rc;
    RETRYING(rc, remote_status_tx(s, partner, uuid, event, status, owe_event, applied, err));
    return rc;
}

static int remote_status_tx(cv_store *s, const char *partner, const char *uuid, const char *event,
                            cv_partner_status status, int owe_event, int *applied, cv_error *err)
{
    char missing[80];
    snprintf(missing, sizeof missing, "booking %s not found", uuid);
    int64_t now = store_now(s);
    int rc = tx_begin(s, 1, err);
    if (!rc)
        rc = write_one(s,
                       "UPDATE remote_bookings SET updated = updated WHERE uuid = ?1 AND (CAST(?2 AS TEXT) IS NULL OR "
                       "partner = ?2)",
                       "cannot read the booking", missing, NULL, err, "tt", uuid, partner);
    int seen = 0, moved = 0;
    if (!rc && event) {
        rc = write_one(s,
                       "INSERT INTO remote_events(id, uuid, status, at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                       "cannot record the event", NULL, NULL, err, "ttni", event, uuid, (int)status, now);
        seen = !rc && !cv_db_changes(s->db);
    }
    if (!rc && !seen) {
        rc = write_one(s, "UPDATE remote_bookings SET status = ?2, updated = ?3 WHERE uuid = ?1 AND status < ?2",
                       "cannot update the booking", NULL, NULL, err, "tni", uuid, (int)status, now);
        moved = !rc && cv_db_changes(s->db) > 0;
    }
    if (!rc && event && !seen && !moved) /* a dismissed event is not kept: it was not taken */
        rc = write_one(s, "DELETE FROM remote_events WHERE id = ?1", "cannot forget the event", NULL, NULL, err, "t",
                       event);
    if (!rc && moved && owe_event)
        rc = write_one(s,
                       UUID_SQL(s, "INSERT INTO outbox(partner, uuid, event, status, created) SELECT partner, uuid, ",
                                ", ?2, ?3 FROM remote_bookings WHERE uuid = ?1"),
                       "cannot queue the booking event", NULL, NULL, err, "tni", uuid, (int)status, now);
    rc = tx_end(s, rc, err);
    if (!rc && applied)
        *applied = moved ? 1 : seen ? 0 : -1;
    return rc;
}

/* ---- durability ---- */

int cv_store_set_durability(cv_store *s, cv_durability d, cv_error *err)
{
    if (!s || (d != CV_DURABLE_BOOKINGS && d != CV_DURABLE_NORMAL && d != CV_DURABLE_FULL))
        return cv_fail(err, CV_EINVAL, "cv_store_set_durability: no store or unknown durability %d", (int)d);
    /* the connection's level between transactions; the light writes lower it for their own commit only. (On
       PostgreSQL every commit is durable: its synchronous_commit is the server's, docs/deploy.md.) */
    int rc = s->pg ? 0
                   : store_exec(s, d == CV_DURABLE_NORMAL ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = FULL",
                                err, "cannot set the durability");
    if (!rc)
        s->durability = d;
    return rc;
}

/* ---- converting a database to another zone ---- */

/* Weekdays moved by shift days (Monday + 1 = Tuesday). */
static uint8_t rotate_weekdays(uint8_t days, int64_t shift)
{
    int k = (int)(((shift % 7) + 7) % 7);
    return (uint8_t)(((days << k) | (days >> (7 - k))) & 0x7f);
}

/* A row to move: its table, id, and the instants its local values stand for (read in the old zone). */
typedef struct zone_row {
    int table; /* 0 offers, 1 requests, 2 bookings */
    int64_t id;
    cv_day first, last;
    uint8_t weekdays;
    int64_t anchor;          /* the first occurrence (schedules), or the instant whose local date the dates follow */
    cv_day anchor_day;       /* bookings: the date the anchor had in the old zone */
    int64_t pickup, dropoff; /* bookings with times of day: their instants on the first date; else -1 */
} zone_row;

static int zone_rows(cv_db *db, zone_row **out, size_t *n, cv_error *err)
{
    static const char *const sql[3] = {
        "SELECT 0, id, first_day, last_day, weekdays, time_of_day, 1, 0, -1, -1 FROM offers WHERE sched_kind = 1",
        "SELECT 1, id, first_day, last_day, weekdays, time_of_day, 1, 0, -1, -1 FROM requests WHERE sched_kind = 1",
        ("SELECT 2, b.id, b.first_day, b.last_day, b.weekdays, o.time_of_day, o.sched_kind, o.depart, b.pickup_time, "
         "b.dropoff_time FROM bookings b JOIN offers o ON o.id = b.offer_id WHERE b.first_day > -2147483648"),
    };
    zone_row *a = NULL;
    size_t na = 0, cap = 0;
    int rc = 0;
    for (int t = 0; t < 3 && !rc; t++) {
        cv_db_stmt *st = NULL;
        rc = cv_db_prepare(db, sql[t], &st, err);
        while (rc == 0 && (rc = cv_db_step(st, err)) == CV_DB_ROW) {
            if ((rc = grow((void **)&a, &cap, na + 1, sizeof *a, err)))
                break;
            zone_row *z = &a[na++];
            z->table = (int)cv_db_column_int64(st, 0);
            z->id = cv_db_column_int64(st, 1);
            z->first = (cv_day)cv_db_column_int64(st, 2);
            z->last = (cv_day)cv_db_column_int64(st, 3);
            z->weekdays = (uint8_t)cv_db_column_int64(st, 4);
            int32_t tod = (int32_t)cv_db_column_int64(st, 5);
            int regular = cv_db_column_int64(st, 6) == CV_REGULAR;
            /* a schedule's first occurrence; a booking's dates follow its offer's: its first ride on a regular
               offer, the departure of a punctual one */
            z->anchor = regular ? cv_local_to_utc(z->first, tod) : cv_db_column_int64(st, 7);
            cv_utc_to_local(z->anchor, &z->anchor_day, NULL, NULL);
            if (z->table < 2)
                z->anchor_day = z->first;
            int64_t pk = cv_db_column_int64(st, 8), dr = cv_db_column_int64(st, 9);
            /* stop times below a day are local times of day (trip.h) */
            z->pickup = pk >= 0 && pk < 86400 ? cv_local_to_utc(z->first, (int32_t)pk) : -1;
            z->dropoff = dr >= 0 && dr < 86400 ? cv_local_to_utc(z->first, (int32_t)dr) : -1;
        }
        if (rc == CV_DB_DONE)
            rc = 0;
        else if (rc != CV_ENOMEM)
            rc = db_fail(err, rc, "cannot read the schedules to convert");
        cv_db_finalize(st);
    }
    if (rc) {
        free(a);
        return rc;
    }
    *out = a;
    *n = na;
    return 0;
}

static int zone_write(cv_db *db, const zone_row *z, cv_error *err)
{
    static const char *const sql[3] = {
        "UPDATE offers SET first_day = ?2, last_day = ?3, weekdays = ?4, time_of_day = ?5 WHERE id = ?1",
        "UPDATE requests SET first_day = ?2, last_day = ?3, weekdays = ?4, time_of_day = ?5 WHERE id = ?1",
        ("UPDATE bookings SET first_day = ?2, last_day = ?3, weekdays = ?4, pickup_time = coalesce(CAST(?6 AS "
         "BIGINT), pickup_time), dropoff_time = coalesce(CAST(?7 AS BIGINT), dropoff_time) WHERE id = ?1"),
    };
    cv_day day;
    int32_t tod;
    cv_utc_to_local(z->anchor, &day, &tod, NULL);
    int64_t shift = (int64_t)day - z->anchor_day;
    cv_db_stmt *st = NULL;
    int rc = cv_db_prepare(db, sql[z->table], &st, err);
    if (rc == 0) {
        cv_db_bind_int64(st, 1, z->id);
        cv_db_bind_int64(st, 2, z->first + shift);
        cv_db_bind_int64(st, 3, z->last + shift);
        cv_db_bind_int64(st, 4, rotate_weekdays(z->weekdays, shift));
        cv_db_bind_int64(st, 5, tod); /* (typed, so that a statement without ?5 takes it too) */
        if (z->table == 2) {
            int32_t t;
            if (z->pickup >= 0) {
                cv_utc_to_local(z->pickup, NULL, &t, NULL);
                cv_db_bind_int64(st, 6, t);
            }
            if (z->dropoff >= 0) {
                cv_utc_to_local(z->dropoff, NULL, &t, NULL);
                cv_db_bind_int64(st, 7, t);
            }
        }
        rc = cv_db_step(st, err);
    }
    cv_db_finalize(st);
    return rc < 0 ? db_fail(err, rc, "cannot convert a schedule") : 0;
}

static int convert_zone_tx(cv_store *s, const char *path, const char *from, const char *to, cv_error *err)
{
    char had[CV_ZONE_MAX];
    zone_row *rows = NULL;
    size_t n = 0;
    int rc = tx_begin(s, 1, err);
    if (rc)
        return rc;
    rc = read_zone(s->db, had, err);
    if (!rc && had[0] && strcmp(had, from) != 0)
        rc = cv_fail(err, CV_EZONE, "%s keeps its local times in zone %s, not %s",
                     cv_db_is_postgres(path) ? "the database" : path, had, from);
    /* read in the old zone, written in the new one */
    if (!rc && strcmp(from, to) != 0) {
        rc = cv_tz_set(from, err);
        if (!rc)
            rc = zone_rows(s->db, &rows, &n, err);
        int back = cv_tz_set(to, rc ? NULL : err);
        rc = rc ? rc : back;
        for (size_t i = 0; !rc && i < n; i++)
            rc = zone_write(s->db, &rows[i], err);
    }
    if (!rc) {
        cv_db_stmt *st = NULL;
        rc = cv_db_prepare(s->db,
                           "INSERT INTO settings(key, value) VALUES ('tz', ?1) ON CONFLICT(key) DO UPDATE SET "
                           "value = excluded.value",
                           &st, err);
        if (!rc) {
            cv_db_bind_text(st, 1, to);
            rc = cv_db_step(st, err);
        }
        cv_db_finalize(st);
        rc = rc < 0 ? db_fail(err, rc, "cannot record the zone") : 0;
    }
    free(rows);
    return tx_end(s, rc, err);
}

int cv_store_convert_zone(const char *path, const char *from, cv_error *err)
{
    char to[CV_ZONE_MAX];
    snprintf(to, sizeof to, "%s", cv_tz_name());
    cv_store s = {0};
    int rc = store_connect(&s, path, err);
    if (!rc)
        RETRYING(rc, convert_zone_tx(&s, path, from, to, err));
    cv_db_close(s.db);
    return rc;
}

/* ---- the change log ---- */

/* Row of ST_CHANGES_AFTER into a cv_change. */
static void read_change_row(cv_db_stmt *st, void *out)
{
    cv_change *c = out;
    c->seq = cv_db_column_int64(st, 0);
    c->kind = (cv_change_kind)(int)cv_db_column_int64(st, 1);
    c->ref = cv_db_column_int64(st, 2);
}

int cv_store_changes(cv_store *s, int64_t after, size_t max, cv_change **out, size_t *n, int64_t *first, int64_t *last,
                     cv_error *err)
{
    if (!s || !out || !n)
        return cv_fail(err, CV_EINVAL, "cv_store_changes: missing argument");
    *out = NULL;
    *n = 0;
    int rc = tx_begin(s, 0, err);
    if (rc)
        return rc;
    cv_db_stmt *st = s->st[ST_CHANGES_RANGE];
    int step = cv_db_step(st, err);
    if (step == CV_DB_ROW) {
        if (first)
            *first = cv_db_column_int64(st, 0);
        if (last)
            *last = cv_db_column_int64(st, 1);
    } else {
        rc = db_fail(err, step, "cannot read the change log");
    }
    finish(st);
    void *a = NULL;
    size_t na = 0;
    if (!rc && max > 0) {
        st = s->st[ST_CHANGES_AFTER];
        cv_db_bind_int64(st, 1, after);
        cv_db_bind_int64(st, 2, (int64_t)max);
        rc = read_rows(s, ST_CHANGES_AFTER, sizeof(cv_change), read_change_row, &a, &na, "cannot read the change log",
                       err);
    }
    rc = tx_end(s, rc, err);
    *out = rows_kept(rc, a, na, n);
    return rc;
}

static int prune_changes_tx(cv_store *s, int64_t before, cv_error *err)
{
    int rc = tx_begin(s, 1, err);
    if (rc)
        return rc;
    cv_db_bind_int64(s->st[ST_CHANGES_PRUNE], 1, before);
    rc = run(s, ST_CHANGES_PRUNE, err, "cannot prune the change log");
    return tx_end(s, rc, err);
}

int cv_store_prune_changes(cv_store *s, int64_t before, cv_error *err)
{
    if (!s)
        return cv_fail(err, CV_EINVAL, "cv_store_prune_changes: no store");
    int rc;
    RETRYING(rc, prune_changes_tx(s, before, err));
    return rc;
}

int cv_store_shared(const cv_store *s)
{
    return s && s->pg;
}

int64_t cv_store_statements(const cv_store *s)
{
    return s ? cv_db_statements(s->db) : 0;
}

const char *cv_store_engine(const cv_store *s)
{
    return s && s->pg ? "postgresql" : "sqlite";
}

int cv_store_wait_changes(cv_store *s, int timeout_ms, cv_error *err)
{
    if (!s)
        return cv_fail(err, CV_EINVAL, "cv_store_wait_changes: no store");
    int rc = 0;
    if (s->pg && !s->listening) {
        if ((rc = cv_db_listen(s->db, CHANGES_CHANNEL, err)))
            return db_fail(err, rc, "cannot listen to the change log");
        s->listening = 1;
    }
    rc = cv_db_wait(s->db, timeout_ms, err);
    if (rc < 0) {
        s->listening = 0; /* a connection made again listens again */
        return db_fail(err, rc, "cannot wait for changes");
    }
    return rc;
}

/* ---- erasing a person (the right to erasure) ---- */

/* The instant bound as ?2 in the statements of the erasure under way (the store's clock, or the purge's cut-off). */
static _Thread_local int64_t erase_t;

/* One statement with key (the owner, or the purge's day) bound as ?1, erase_t as ?2 and the store's clock as ?3
   (where the statement has them), inside the caller's transaction; *changed adds the rows it touched. */
static int erase_step(cv_store *s, const char *sql, const char *key, size_t *changed, cv_error *err)
{
    cv_db_stmt *st = NULL;
    int rc = cv_db_prepare(s->db, sql, &st, err);
    if (rc == 0) { /* (a parameter the statement does not have is not sent) */
        cv_db_bind_text(st, 1, key);
        cv_db_bind_int64(st, 2, erase_t);
        cv_db_bind_int64(st, 3, store_now(s));
        rc = cv_db_step(st, err);
    }
    cv_db_finalize(st);
    if (rc != CV_DB_DONE)
        return db_fail(err, rc, "cannot erase the owner's data");
    if (changed)
        *changed += (size_t)cv_db_changes(s->db);
    return 0;
}

/* Marks the trips to delete into the temp tables erase_offers and erase_requests (select_offers and
   select_requests: INSERT statements with ?1 the owner or the cut-off day and ?2 the cut-off instant), then deletes
   them and everything hanging on them; with owner, also their messages and partner bookings and the owner's row,
   without, the owners left with nothing. Inside a write transaction begun with secure_delete on. */
static int erase_marked(cv_store *s, const char *key, const char *select_offers, const char *select_requests,
                        int by_owner, cv_erase_counts *c, cv_error *err)
{
    static const char *const setup[] = {
        "CREATE TEMP TABLE IF NOT EXISTS erase_offers(id BIGINT PRIMARY KEY)",
        "CREATE TEMP TABLE IF NOT EXISTS erase_requests(id BIGINT PRIMARY KEY)",
        "CREATE TEMP TABLE IF NOT EXISTS erase_bookings(id BIGINT PRIMARY KEY)",
        "CREATE TEMP TABLE IF NOT EXISTS erase_owners(ref TEXT PRIMARY KEY)",
        "DELETE FROM erase_offers",
        "DELETE FROM erase_requests",
        "DELETE FROM erase_bookings",
        "DELETE FROM erase_owners",
    };
    int rc = 0;
    for (size_t i = 0; !rc && i < sizeof setup / sizeof *setup; i++)
        rc = store_exec(s, setup[i], err, "cannot prepare the erasure");
    size_t ignored = 0;
    if (!rc)
        rc = erase_step(s, select_offers, key, &ignored, err);
    if (!rc)
        rc = erase_step(s, select_requests, key, &ignored, err);
    if (!rc)
        rc = erase_step(
            s,
            "INSERT INTO erase_bookings SELECT id FROM bookings WHERE (offer_id IN (SELECT id FROM erase_offers) OR "
            "request_id IN (SELECT id FROM erase_requests)) AND ?1 IS NOT NULL AND ?2 IS NOT NULL",
            key, &ignored, err);
    /* the retention of proofs: those whose ride is older than the cut-off, sent or not (a register takes a
       journey of the last days only, and an operator without one has had the retention to export them) */
    if (!rc && !by_owner)
        rc = erase_step(s, "DELETE FROM proofs WHERE start_time < ?2 AND ?1 IS NOT NULL", key, &c->other, err);
    /* nothing marked: nothing is written (not even the change log's sequence row, which an insert of no rows
       makes on a fresh database) */
    int64_t marked = 0;
    if (!rc)
        rc = store_int64(s,
                         "SELECT (SELECT count(*) FROM erase_offers) + (SELECT count(*) FROM erase_requests) + "
                         "(SELECT count(*) FROM erase_bookings)",
                         &marked, err, "cannot count what to erase");
    if (!rc && !marked && !by_owner)
        return 0; /* (a proof purge above writes its own pages; what it deleted is counted in c->other) */
    /* the other side learns of it through the change log: the offers that lose this passenger's stops (their plan
       moves on) and the requests that lose this driver's booking are read again by every matcher */
    if (!rc)
        rc = erase_step(
            s,
            "UPDATE offers SET plan_version = plan_version + 1 WHERE id NOT IN (SELECT id FROM erase_offers) AND id IN "
            "(SELECT offer_id FROM stops WHERE booking_id IN (SELECT id FROM erase_bookings)) AND ?1 IS NOT NULL AND "
            "?2 IS NOT NULL",
            key, &ignored, err);
    if (!rc)
        rc = erase_step(s,
                        "INSERT INTO changes(kind, ref, at) SELECT DISTINCT 0, offer_id, ?3 FROM "
                        "bookings WHERE id IN (SELECT id FROM erase_bookings) AND ?1 IS NOT NULL AND ?2 IS NOT NULL "
                        "UNION SELECT 0, "
                        "id, ?3 FROM erase_offers",
                        key, &ignored, err);
    if (!rc)
        rc = erase_step(s,
                        "INSERT INTO changes(kind, ref, at) SELECT DISTINCT 1, request_id, ?3 FROM "
                        "bookings WHERE id IN (SELECT id FROM erase_bookings) AND ?1 IS NOT NULL AND ?2 IS NOT NULL "
                        "UNION SELECT 1, "
                        "id, ?3 FROM erase_requests",
                        key, &ignored, err);
    if (!rc)
        rc = announce_change(s, err);
    /* the owners of those trips, who may be left with nothing */
    if (!rc)
        rc = erase_step(
            s,
            "INSERT INTO erase_owners SELECT owner FROM offers WHERE id IN (SELECT id FROM erase_offers) AND ?1 IS NOT "
            "NULL AND ?2 IS NOT NULL UNION SELECT owner FROM requests WHERE id IN (SELECT id FROM "
            "erase_requests) ON CONFLICT DO NOTHING",
            key, &ignored, err);
    /* then every row about them: their stops and their passengers' stops, the partners' records of those bookings
       and the events owed about them, the bookings, the trips */
    if (!rc)
        rc = erase_step(s,
                        "DELETE FROM stops WHERE (offer_id IN (SELECT id FROM erase_offers) OR booking_id IN (SELECT "
                        "id FROM erase_bookings)) AND ?1 "
                        "IS NOT NULL AND ?2 IS NOT NULL",
                        key, &c->stops, err);
    if (!rc)
        rc = erase_step(
            s,
            "DELETE FROM outbox WHERE uuid IN (SELECT uuid FROM partner_bookings WHERE booking_id IN (SELECT id "
            "FROM erase_bookings)) AND ?1 IS NOT NULL AND ?2 IS NOT NULL",
            key, &c->other, err);
    if (!rc)
        rc = erase_step(s,
                        "DELETE FROM partner_bookings WHERE booking_id IN (SELECT id FROM erase_bookings) AND ?1 IS "
                        "NOT NULL AND ?2 "
                        "IS NOT NULL",
                        key, &c->other, err);
    /* the validations of their rides go too; a proof written from them stays (it names no one, see store.h) */
    if (!rc)
        rc = erase_step(s,
                        "DELETE FROM validations WHERE booking_id IN (SELECT id FROM erase_bookings) AND ?1 IS NOT "
                        "NULL AND ?2 IS NOT "
                        "NULL",
                        key, &c->other, err);
    if (!rc)
        rc = erase_step(
            s, "DELETE FROM bookings WHERE id IN (SELECT id FROM erase_bookings) AND ?1 IS NOT NULL AND ?2 IS NOT NULL",
            key, &c->bookings, err);
    if (!rc)
        rc = erase_step(
            s, "DELETE FROM offers WHERE id IN (SELECT id FROM erase_offers) AND ?1 IS NOT NULL AND ?2 IS NOT NULL",
            key, &c->offers, err);
    if (!rc)
        rc = erase_step(
            s, "DELETE FROM requests WHERE id IN (SELECT id FROM erase_requests) AND ?1 IS NOT NULL AND ?2 IS NOT NULL",
            key, &c->requests, err);
    if (!rc && by_owner) { /* the person's own records */
        rc = erase_step(s, "DELETE FROM messages WHERE owner = ?1 AND ?2 IS NOT NULL", key, &c->messages, err);
        if (!rc)
            rc = erase_step(s,
                            "DELETE FROM remote_events WHERE uuid IN (SELECT uuid FROM remote_bookings WHERE owner = "
                            "?1) AND ?2 IS NOT NULL",
                            key, &c->other, err);
        if (!rc)
            rc = erase_step(s, "DELETE FROM remote_bookings WHERE owner = ?1 AND ?2 IS NOT NULL", key, &c->other, err);
        if (!rc)
            rc = erase_step(s, "DELETE FROM owners WHERE ref = ?1 AND ?2 IS NOT NULL", key, &c->owner, err);
    } else if (!rc) { /* the owners of the trips purged that nothing is stored about any more */
        rc =
            erase_step(s,
                       "DELETE FROM owners WHERE ref IN (SELECT ref FROM erase_owners) AND ref NOT IN (SELECT owner "
                       "FROM offers) AND ref "
                       "NOT IN (SELECT owner FROM requests) AND ref NOT IN (SELECT owner FROM messages) AND ref NOT IN "
                       "(SELECT owner FROM remote_bookings) AND ?1 IS NOT NULL AND ?2 IS NOT NULL",
                       key, &c->owner, err);
    }
    return rc;
}

/* Copies the write-ahead log back and empties it, so that no frame of it holds deleted rows; a reader of another
   connection can hold the copy back for a moment, so it is tried again for up to a second. 1 when emptied. */
static int empty_wal(cv_store *s)
{
    for (int tries = 0; tries < 50; tries++) {
        int log = -1, copied = -1;
        int ck = sqlite3_wal_checkpoint_v2(cv_db_handle(s->db), NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &copied);
        if (ck == SQLITE_OK)
            return 1;
        if (ck != SQLITE_BUSY && ck != SQLITE_LOCKED)
            return 0;
        sqlite3_sleep(20);
    }
    return 0;
}

static int erase_tx(cv_store *s, const char *key, const char *select_offers, const char *select_requests, int by_owner,
                    cv_erase_counts *c, cv_error *err)
{
    memset(c, 0, sizeof *c);
    int rc = tx_begin(s, 1, err);
    if (rc)
        return rc;
    rc = erase_marked(s, key, select_offers, select_requests, by_owner, c, err);
    return tx_end(s, rc, err);
}

static int erase(cv_store *s, const char *key, int64_t t, const char *select_offers, const char *select_requests,
                 int by_owner, cv_erase_counts *out, cv_error *err)
{
    cv_erase_counts c = {0};
    erase_t = t;
    /* SQLite: what is deleted is overwritten with zeros, in the tables and their indexes, not left in free pages.
       (PostgreSQL leaves dead rows to its VACUUM: docs/privacy.md.) */
    int rc = s->pg ? 0 : store_exec(s, "PRAGMA secure_delete = ON", err, "cannot turn secure deletion on");
    if (!rc)
        RETRYING(rc, erase_tx(s, key, select_offers, select_requests, by_owner, &c, err));
    /* the log emptied when something was deleted (nothing to clean otherwise: the files stay as they were) */
    if (!rc)
        c.wal_emptied = s->pg                                                                           ? 0
                        : c.offers + c.requests + c.bookings + c.stops + c.messages + c.other + c.owner ? empty_wal(s)
                                                                                                        : 1;
    if (!rc && out)
        *out = c;
    return rc;
}

int cv_store_erase_owner(cv_store *s, const char *owner, cv_erase_counts *out, cv_error *err)
{
    if (!s || !owner || !*owner)
        return cv_fail(err, CV_EINVAL, "cv_store_erase_owner: no owner");
    return erase(s, owner, store_now(s),
                 "INSERT INTO erase_offers SELECT id FROM offers WHERE owner = ?1 AND ?2 IS NOT NULL",
                 "INSERT INTO erase_requests SELECT id FROM requests WHERE owner = ?1 AND ?2 IS NOT NULL", 1, out, err);
}

int cv_store_purge_before(cv_store *s, cv_day day, cv_erase_counts *out, cv_error *err)
{
    if (!s)
        return cv_fail(err, CV_EINVAL, "cv_store_purge_before: no store");
    char key[24];
    snprintf(key, sizeof key, "%d", (int)day);
    /* a trip is past once its last date is before day: a single one's date (of its departure, in the zone), a
       regular one's last_day */
    return erase(s, key, cv_local_to_utc(day, 0),
                 "INSERT INTO erase_offers SELECT id FROM offers WHERE ((sched_kind = 0 AND depart < ?2) OR "
                 "(sched_kind = 1 AND last_day < CAST(?1 AS INTEGER)))",
                 "INSERT INTO erase_requests SELECT id FROM requests WHERE ((sched_kind = 0 AND depart < ?2) OR "
                 "(sched_kind = 1 AND last_day < CAST(?1 AS INTEGER)))",
                 0, out, err);
}

/* ---- carpool proofs ---- */

int cv_store_pseudonym(cv_store *s, const char *owner, char out[CV_PSEUDONYM_MAX], cv_error *err)
{
    if (!s || !owner || !*owner)
        return cv_fail(err, CV_EINVAL, "cv_store_pseudonym: no owner");
    cv_db_stmt *st = NULL;
    int rc = cv_db_prepare(s->db, "SELECT value FROM settings WHERE key = 'pseudonym_secret'", &st, err);
    if (rc == 0)
        rc = cv_db_step(st, err);
    if (rc != CV_DB_ROW) {
        rc = rc == CV_DB_DONE ? cv_fail(err, CV_EIO, "the database has no pseudonym secret")
                              : db_fail(err, rc, "cannot read the pseudonym secret");
        cv_db_finalize(st);
        return rc;
    }
    cv_sha256 h;
    cv_sha256_init(&h);
    const char *secret = cv_db_column_text(st, 0);
    cv_sha256_update(&h, secret ? secret : "", secret ? strlen(secret) : 0);
    cv_db_finalize(st);
    cv_sha256_update(&h, "\n", 1);
    cv_sha256_update(&h, owner, strlen(owner));
    unsigned char sum[32];
    cv_sha256_final(&h, sum);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", sum[i]);
    return 0;
}

static int completion_read(cv_store *s, int64_t booking_id, cv_day day, cv_completion *out, cv_error *err)
{
    memset(out, 0, sizeof *out);
    cv_db_stmt *st = NULL;
    int rc =
        cv_db_prepare(s->db,
                      "SELECT count(*) FILTER (WHERE side = 0), count(*) FILTER (WHERE side = 1), coalesce((SELECT id "
                      "FROM proofs WHERE booking_id = ?1 AND day = ?2), 0) FROM validations WHERE "
                      "booking_id = ?1 AND day = ?2",
                      &st, err);
    if (rc == 0) {
        cv_db_bind_int64(st, 1, booking_id);
        cv_db_bind_int64(st, 2, (int)day);
        rc = cv_db_step(st, err);
    }
    if (rc == CV_DB_ROW) {
        out->driver = (int)cv_db_column_int64(st, 0);
        out->passenger = (int)cv_db_column_int64(st, 1);
        out->proof_id = cv_db_column_int64(st, 2);
        rc = 0;
    } else {
        rc = db_fail(err, rc, "cannot read the ride's validations");
    }
    cv_db_finalize(st);
    return rc;
}

int cv_store_completion(cv_store *s, int64_t booking_id, cv_day day, cv_completion *out, cv_error *err)
{
    if (!s || !out)
        return cv_fail(err, CV_EINVAL, "cv_store_completion: missing argument");
    return completion_read(s, booking_id, day, out, err);
}

/* The pickup and drop-off times of booking b on day, in UTC. */
static void ride_times(const cv_booking *b, int punctual, cv_day day, int64_t *start, int64_t *end)
{
    if (punctual) {
        *start = b->pickup_time, *end = b->dropoff_time;
        return;
    }
    *start = cv_local_to_utc(day, (int32_t)b->pickup_time);
    *end = cv_local_to_utc(day, (int32_t)b->dropoff_time);
    if (*end < *start) /* a ride past local midnight */
        *end = cv_local_to_utc(day + 1, (int32_t)b->dropoff_time);
}

/* Who the two sides of booking b are, and whether its offer is a single trip (inside the caller's transaction:
   cv_store_get_offer would begin one of its own). */
typedef struct ride_sides {
    char driver[CV_OWNER_MAX], passenger[CV_OWNER_MAX];
    int punctual;
} ride_sides;

static void read_sides_row(cv_db_stmt *st, void *out)
{
    ride_sides *r = out;
    column_text(st, 0, r->driver, sizeof r->driver);
    column_text(st, 1, r->passenger, sizeof r->passenger);
    r->punctual = (int)cv_db_column_int64(st, 2) == CV_PUNCTUAL;
}

static int read_sides(cv_store *s, const cv_booking *b, ride_sides *out, cv_error *err)
{
    return query_one(s, "SELECT o.owner, q.owner, o.sched_kind FROM offers o, requests q WHERE o.id = ?1 AND q.id = ?2",
                     read_sides_row, out, "the booking's offer or request is missing",
                     "cannot read the booking's trips", err, "ii", b->offer_id, b->request_id);
}

/* Writes the proof of booking b's ride on day, whose sides are rs and times start and end (inside the caller's
   transaction). */
static int proof_write(cv_store *s, const cv_booking *b, const ride_sides *rs, cv_day day, int64_t start, int64_t end,
                       int64_t distance_m, int64_t now, int64_t *id, cv_error *err)
{
    char driver[CV_PSEUDONYM_MAX], passenger[CV_PSEUDONYM_MAX];
    int rc = cv_store_pseudonym(s, rs->driver, driver, err);
    if (!rc)
        rc = cv_store_pseudonym(s, rs->passenger, passenger, err);
    if (rc)
        return rc;
    char date[16], journey[48], trip[48];
    cv_format_date(day, date);
    snprintf(journey, sizeof journey, "booking-%lld-%s", (long long)b->id, date);
    snprintf(trip, sizeof trip, "offer-%lld-%s", (long long)b->offer_id, date);
    /* the contribution in cents, as agreed (already rounded to a cent or a coarser step) */
    int64_t cents = (int64_t)llround(b->amount * 100.0);
    cv_db_stmt *st = NULL;
    rc = cv_db_prepare(s->db,
                       "INSERT INTO proofs(journey_id, trip_id, booking_id, offer_id, day, start_time, start_lon, "
                       "start_lat, end_time, end_lon, end_lat, distance_m, seats, contribution_cents, passenger, "
                       "driver, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                       "?15, ?16, ?17) RETURNING id",
                       &st, err);
    if (rc == 0) {
        cv_db_bind_text(st, 1, journey);
        cv_db_bind_text(st, 2, trip);
        cv_db_bind_int64(st, 3, b->id);
        cv_db_bind_int64(st, 4, b->offer_id);
        cv_db_bind_int64(st, 5, (int)day);
        cv_db_bind_int64(st, 6, start);
        cv_db_bind_int64(st, 7, b->pickup.lon);
        cv_db_bind_int64(st, 8, b->pickup.lat);
        cv_db_bind_int64(st, 9, end);
        cv_db_bind_int64(st, 10, b->dropoff.lon);
        cv_db_bind_int64(st, 11, b->dropoff.lat);
        cv_db_bind_int64(st, 12, distance_m);
        cv_db_bind_int64(st, 13, b->seats);
        cv_db_bind_int64(st, 14, cents);
        cv_db_bind_text(st, 15, passenger);
        cv_db_bind_text(st, 16, driver);
        cv_db_bind_int64(st, 17, now);
        rc = cv_db_step(st, err);
    }
    if (rc == CV_DB_ROW)
        *id = cv_db_column_int64(st, 0);
    cv_db_finalize(st);
    return rc == CV_DB_ROW ? 0 : db_fail(err, rc < 0 ? rc : CV_EINTERNAL, "cannot write the carpool proof");
}

static int complete_booking_tx(cv_store *s, int64_t booking_id, cv_day day, cv_side side, int64_t distance_m,
                               int64_t now, cv_completion *out, cv_error *err);

int cv_store_complete_booking(cv_store *s, int64_t booking_id, cv_day day, cv_side side, int64_t distance_m,
                              int64_t now, cv_completion *out, cv_error *err)
{
    if (!s || (side != CV_SIDE_DRIVER && side != CV_SIDE_PASSENGER) || distance_m < 0)
        return cv_fail(err, CV_EINVAL, "cv_store_complete_booking: bad argument");
    int rc;
    RETRYING(rc, complete_booking_tx(s, booking_id, day, side, distance_m, now, out, err));
    return rc;
}

static int complete_booking_tx(cv_store *s, int64_t booking_id, cv_day day, cv_side side, int64_t distance_m,
                               int64_t now, cv_completion *out, cv_error *err)
{
    int rc = tx_begin(s, 1, err);
    if (rc)
        return rc;
    cv_booking b;
    ride_sides rs;
    cv_completion c = {0};
    char date[16];
    cv_format_date(day, date);
    rc = booking_read(s, booking_id, &b, err);
    if (!rc && b.status != CV_BOOKING_ACCEPTED)
        rc = cv_fail(err, CV_ECONFLICT, "booking %lld is %s: only an accepted booking's ride is completed",
                     (long long)booking_id, cv_booking_status_name(b.status));
    if (!rc && !cv_dates_contains(b.dates, day))
        rc = cv_fail(err, CV_EINVAL, "date: booking %lld does not ride on %s", (long long)booking_id, date);
    if (!rc)
        rc = read_sides(s, &b, &rs, err);
    int64_t start = 0, end = 0;
    if (!rc) {
        ride_times(&b, rs.punctual, day, &start, &end);
        if (start > now) {
            char at[32];
            cv_format_datetime(start, at);
            rc = cv_fail(err, CV_ECONFLICT, "booking %lld: the ride of %s has not started (pickup at %s)",
                         (long long)booking_id, date, at);
        }
    }
    if (!rc)
        rc = write_one(
            s, "INSERT INTO validations(booking_id, day, side, at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            "cannot record the validation", NULL, NULL, err, "iini", booking_id, (int)day, (int)side, now);
    if (!rc)
        rc = completion_read(s, booking_id, day, &c, err);
    if (!rc && c.driver && c.passenger && !c.proof_id) {
        rc = proof_write(s, &b, &rs, day, start, end, distance_m, now, &c.proof_id, err);
    }
    rc = tx_end(s, rc, err);
    if (!rc && out)
        *out = c;
    return rc;
}

#define PROOF_COLS                                                                                                     \
    "id, journey_id, trip_id, booking_id, offer_id, day, start_time, start_lon, start_lat, end_time, end_lon, "        \
    "end_lat, distance_m, seats, contribution_cents, passenger, driver, created, attempts, next_at, "                  \
    "coalesce(done, 0), refused, last_error"

static void read_proof_row(cv_db_stmt *st, void *out)
{
    cv_proof *p = out;
    memset(p, 0, sizeof *p);
    p->id = cv_db_column_int64(st, 0);
    column_text(st, 1, p->journey_id, sizeof p->journey_id);
    column_text(st, 2, p->trip_id, sizeof p->trip_id);
    p->booking_id = cv_db_column_int64(st, 3);
    p->offer_id = cv_db_column_int64(st, 4);
    p->day = (cv_day)(int)cv_db_column_int64(st, 5);
    p->start_time = cv_db_column_int64(st, 6);
    p->start = (cv_coord){(int)cv_db_column_int64(st, 7), (int)cv_db_column_int64(st, 8)};
    p->end_time = cv_db_column_int64(st, 9);
    p->end = (cv_coord){(int)cv_db_column_int64(st, 10), (int)cv_db_column_int64(st, 11)};
    p->distance_m = cv_db_column_int64(st, 12);
    p->seats = (int)cv_db_column_int64(st, 13);
    p->contribution_cents = cv_db_column_int64(st, 14);
    column_text(st, 15, p->passenger, sizeof p->passenger);
    column_text(st, 16, p->driver, sizeof p->driver);
    p->created = cv_db_column_int64(st, 17);
    p->attempts = (int)cv_db_column_int64(st, 18);
    p->next_at = cv_db_column_int64(st, 19);
    p->done = cv_db_column_int64(st, 20);
    p->refused = (int)cv_db_column_int64(st, 21);
    column_text(st, 22, p->last_error, sizeof p->last_error);
}

int cv_store_get_proof(cv_store *s, int64_t id, cv_proof *out, cv_error *err)
{
    if (!s || !out)
        return cv_fail(err, CV_EINVAL, "cv_store_get_proof: missing argument");
    char missing[48];
    snprintf(missing, sizeof missing, "no proof %lld", (long long)id);
    return query_one(s, "SELECT " PROOF_COLS " FROM proofs WHERE id = ?1", read_proof_row, out, missing,
                     "cannot read the proof", err, "i", id);
}

int cv_store_list_proofs(cv_store *s, int64_t from, int64_t to, const char *pseudonym, cv_proof **out, size_t *n,
                         cv_error *err)
{
    if (!s || !out || !n)
        return cv_fail(err, CV_EINVAL, "cv_store_list_proofs: missing argument");
    return query_rows(
        s,
        "SELECT " PROOF_COLS " FROM proofs WHERE start_time >= ?1 AND start_time < ?2 AND (CAST(?3 AS TEXT) IS "
        "NULL OR passenger = ?3 OR driver = ?3) ORDER BY start_time, id",
        sizeof **out, read_proof_row, (void **)out, n, "cannot list the proofs", err, "iit", from, to, pseudonym);
}

int cv_store_proofs_due(cv_store *s, int64_t now, size_t max, cv_proof **out, size_t *n, cv_error *err)
{
    if (!s || !out || !n)
        return cv_fail(err, CV_EINVAL, "cv_store_proofs_due: missing argument");
    return query_rows(s, "SELECT " PROOF_COLS " FROM proofs WHERE done IS NULL AND next_at <= ?1 ORDER BY id LIMIT ?2",
                      sizeof **out, read_proof_row, (void **)out, n, "cannot read the proofs to send", err, "ii", now,
                      (int64_t)max);
}

int cv_store_proof_claim(cv_store *s, int64_t id, int64_t now, int64_t until, cv_error *err)
{
    if (!s)
        return cv_fail(err, CV_EINVAL, "cv_store_proof_claim: no store");
    int rc = write_one(s, "UPDATE proofs SET next_at = ?3 WHERE id = ?1 AND done IS NULL AND next_at <= ?2",
                       "cannot take the proof to send", NULL, NULL, err, "iii", id, now, until);
    return rc ? rc : cv_db_changes(s->db) == 1;
}

int cv_store_proof_done(cv_store *s, int64_t id, int refused, const char *why, cv_error *err)
{
    if (!s)
        return cv_fail(err, CV_EINVAL, "cv_store_proof_done: no store");
    return write_one(s, "UPDATE proofs SET done = ?2, refused = ?3, last_error = ?4 WHERE id = ?1",
                     "cannot mark the proof sent", "no such proof", NULL, err, "iint", id, store_now(s),
                     refused ? 1 : 0, why);
}

int cv_store_proof_retry(cv_store *s, int64_t id, int64_t next_at, const char *why, cv_error *err)
{
    if (!s)
        return cv_fail(err, CV_EINVAL, "cv_store_proof_retry: no store");
    return write_one(s, "UPDATE proofs SET attempts = attempts + 1, next_at = ?2, last_error = ?3 WHERE id = ?1",
                     "cannot record the failed attempt", "no such proof", NULL, err, "iit", id, next_at, why);
}

int cv_store_proof_stats(cv_store *s, cv_proof_stats *out, cv_error *err)
{
    if (!s || !out)
        return cv_fail(err, CV_EINVAL, "cv_store_proof_stats: missing argument");
    memset(out, 0, sizeof *out);
    cv_db_stmt *st = NULL;
    int rc = cv_db_prepare(s->db,
                           "SELECT count(*) FILTER (WHERE done IS NULL), count(*) FILTER (WHERE done IS NOT NULL "
                           "AND refused = 0), count(*) FILTER (WHERE refused <> 0), coalesce(min(created) FILTER "
                           "(WHERE done IS NULL), 0) FROM proofs",
                           &st, err);
    if (rc == 0)
        rc = cv_db_step(st, err);
    if (rc == CV_DB_ROW) {
        out->waiting = cv_db_column_int64(st, 0);
        out->acknowledged = cv_db_column_int64(st, 1);
        out->refused = cv_db_column_int64(st, 2);
        out->oldest = cv_db_column_int64(st, 3);
        rc = 0;
    } else {
        rc = db_fail(err, rc, "cannot count the proofs");
    }
    cv_db_finalize(st);
    return rc;
}
