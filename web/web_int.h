/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* web_int.h — the handlers' interface: a request as a handler sees it (web_req) and what a handler may call; shared
   by the server's files (server.c, response.c, auth.c, metrics.c) and the service files (routing_api.c,
   trips_api.c, page.c). No HTTP library type here; not a public API. */
#ifndef CV_WEB_INT_H
#define CV_WEB_INT_H

#include <jansson.h>
#include <pthread.h>

#include "routing/ch.h"
#include "web/server.h"
#include "matcher/store.h"
#include "feeds/privacy.h"

#define WEB_MAX_ARGS 32

/* A feed made once and kept until the trips change (the store's change log moves on) or the day does
   (feeds_api.c). */
typedef struct web_feed_cache {
    pthread_mutex_t mu;
    void *data; /* NULL until made */
    size_t len;
    int64_t seq;   /* the change log's last sequence number when made */
    int32_t day;   /* the server's date when made (GTFS), its minute (SIRI) */
    char etag[40]; /* names that state (fits web_req.etag) */
} web_feed_cache;
void web_feed_cache_init(web_feed_cache *c);
void web_feed_cache_free(web_feed_cache *c);

/* One request as a handler sees it. Handlers fill status and body (or call web_error); they never touch HTTP. */
/* How every JSON answer is written (json_dumps flags): compact, numbers with 10 significant digits. */
#define WEB_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(10))

typedef struct web_req {
    const cv_graph *g;
    cv_ch_query *q;      /* this worker thread's workspace (NULL when it could not be allocated) */
    cv_matcher *matcher; /* the server's matcher, NULL when it has none */
    cv_server *server;
    struct web_metrics *metrics; /* the server's counters (metrics.c) */
    const char *upload;          /* the request body, NUL-terminated ("" when none) */
    size_t upload_len;
    const char *allow; /* the Allow header of a 405 answer (NULL: "GET, HEAD") */
    const char *method;
    const char *path; /* the whole path, percent-decoded */
    const char *rest; /* the path after the route's prefix */
    size_t nargs;
    const char *arg_key[WEB_MAX_ARGS], *arg_val[WEB_MAX_ARGS];
    int too_many_args;
    size_t max_route_coords; /* the server's caps on coordinates per /route and per /table request */
    size_t max_table_coords;
    int auth; /* 1: the server requires API keys, and client and scopes are the caller's */
    char client[CV_OWNER_MAX];
    unsigned scopes;
    unsigned retry_after;      /* the Retry-After of a 429, or of a 503 Busy, seconds */
    int status;                /* HTTP status of the response */
    json_t *body;              /* the response document (owned) */
    char *text;                /* instead of body: a malloc'ed text answer (owned), e.g. /metrics */
    const char *content_type;  /* the text answer's Content-Type */
    const char *page_dir;      /* the map page's directory (cv_server_options.page_dir), NULL when none */
    const char *operator_name; /* cv_server_options.operator_name, NULL when none */
    const char *public_url;    /* cv_server_options.public_url, NULL when none */
    const char *tile_url;      /* cv_server_options.tile_url, NULL when none */
    const struct cv_stats_areas *stats_areas; /* cv_server_options.stats_areas, NULL when none */
    struct cv_places *places;                 /* cv_server_options.places, NULL when none; used under places_mu */
    pthread_mutex_t *places_mu;
    struct cv_mbtiles *tiles; /* cv_server_options.tiles, NULL when none; used under tiles_mu */
    pthread_mutex_t *tiles_mu;
    web_feed_cache *gtfs; /* GET /feeds/gtfs.zip's */
    web_feed_cache *siri; /* GET /feeds/siri-et.xml's */
    int tiles_minzoom, tiles_maxzoom;
    size_t text_len;              /* the text answer's length when it is binary (0: strlen) */
    const char *content_encoding; /* of the text answer, NULL for none */
    const char *cache_control;    /* of the text answer, NULL for none */
    char etag[40];                /* of the text answer, "" for none */
    const char *if_none_match;    /* the request's If-None-Match, NULL when absent */
    int has_file;                 /* instead of body and text: send file_fd (owned), file_size bytes (page.c) */
    int file_fd;
    uint64_t file_size;
} web_req;

/* Sets an error response: status, {"code": code, "message": formatted}. Returns -1 for `return web_error(...)`. */
int web_error(web_req *r, int status, const char *code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Sets a 200 response with doc (taken; NULL means out of memory and gives a 500). Returns 0. */
int web_ok(web_req *r, json_t *doc);

/* Sets a 201 response with doc (taken). Returns 0. */
int web_created(web_req *r, json_t *doc);

/* The calling worker thread's matcher workspace, made on first use and freed at stop; NULL (after web_error)
   when the server has no matcher or it cannot be made. */
cv_matcher_ws *web_matcher_ws(web_req *r);

/* With auth on, refuses (403 Forbidden, after web_error) a caller whose key lacks scope; admin has them all.
   Returns 0 when allowed. */
int web_need_scope(web_req *r, unsigned scope);

/* Refuses query arguments outside the NULL-terminated list allowed: 400 InvalidQuery naming the first, after
   web_error, and -1; else 0. */
int web_check_args(web_req *r, const char *const *allowed);

/* The value of query argument key, or NULL when absent ("" when given without a value). */
const char *web_arg(const web_req *r, const char *key);

/* Metrics the carpool service reports (counted in metrics.c, shown by GET /metrics). */
typedef enum web_booking_action {
    WEB_BOOK_CREATE,
    WEB_BOOK_ACCEPT,
    WEB_BOOK_REFUSE,
    WEB_BOOK_CANCEL,
    WEB_BOOK_N
} web_booking_action;
void web_count_matches(web_req *r, size_t n);
void web_count_booking(web_req *r, web_booking_action a);
void web_count_db_error(web_req *r);

/* GET /metrics: Prometheus text format (server.c, rendered by metrics.c). */
int web_metrics(web_req *r);

/* The routing service (routing_api.c). */
int web_route(web_req *r);
int web_table(web_req *r);
int web_nearest(web_req *r);
int web_health(web_req *r);

/* The carpool service under /v1/ (trips_api.c): every method, rest is the path after "/v1/". */
int web_v1(web_req *r);

/* GET /v1/places (autocomplete) and /v1/places/reverse (places_api.c). */
int web_places(web_req *r);

/* GET /tiles/{z}/{x}/{y}.pbf: the map's vector tiles (tiles_api.c). */
int web_tiles(web_req *r);
int web_feeds(web_req *r);
int web_stats(web_req *r, cv_matcher_ws *w); /* GET /v1/stats (feeds_api.c) */

/* The carpool interoperability standard under /stdcov/v1/ (stdcov_api.c): every method, rest is the path after
   "/stdcov/v1/". */
int web_stdcov(web_req *r);

/* The standard's CarpoolBookingEvent for outbox event e of the store, as server (a cv_server) names itself; NULL
   when its booking cannot be read (stdcov_api.c, for the outbox: web_event_maker of partners.h). */
json_t *web_stdcov_event(void *server, cv_store *store, const cv_outbox_event *e);

/* Whether t is a UUID as the standard's ids are: 8-4-4-4-12 hexadecimal digits, any version (stdcov_api.c). */
int web_is_uuid(const char *t);

/* The standard's word for a cv_partner_status ("WAITING_CONFIRMATION", ...; "" for none) (stdcov_api.c). */
const char *web_stdcov_status_word(int status);

/* Federation with partner operators (federation.c): POST /v1/search with "partners": true for request q (our
   own search with limit, and every partner's, merged); POST /v1/bookings on a partner's journey (doc: its body,
   borrowed; owner: our passenger); a remote booking as /v1 shows it; cancelling one at its partner. */
int web_federated_search(web_req *r, cv_matcher_ws *w, const cv_request *q, int limit, int64_t now);
int web_partner_book(web_req *r, cv_matcher_ws *w, json_t *doc, const char *owner);
json_t *web_remote_booking_json(const cv_remote_booking *b);
int web_remote_cancel(web_req *r, cv_matcher_ws *w, cv_remote_booking *b);

/* The driver's route of match m as the matcher plans it (plan_route.c): the offer's stops on the match's first
   date in key order with the pickup and drop-off at the match's keys, routed from the snapped points; whole: from
   the driver's origin to their destination (its length is the match's driver_total), else only the passenger's
   stretch from pickup to drop-off. Returns 0 and *out (web_plan_free), or -1 when it cannot be made. */
typedef struct web_plan {
    cv_coord *pts;
    size_t n;
    int64_t duration_ds, distance_dm;
    int areas;                   /* whole: the driver's origin and destination as public areas (feeds/privacy.h) */
    cv_area origin, destination; /* when areas */
} web_plan;
int web_plan_route(web_req *r, cv_matcher_ws *w, const cv_match *m, int whole, web_plan *out);
void web_plan_free(web_plan *rt);

/* The options server runs with (server.c). */
const cv_server_options *web_server_options(const cv_server *s);

/* The outbox thread's attempts so far: delivered, failed, refused (server.c; zeros when the server has none). */
void web_outbox_figures(web_req *r, uint64_t *delivered, uint64_t *failed, uint64_t *refused);

/* The proof sender's attempts so far: acknowledged, failed, refused (server.c; zeros when the server has none). */
void web_proof_figures(web_req *r, uint64_t *acknowledged, uint64_t *failed, uint64_t *refused);

/* The passenger's ride of accepted booking b on day, in metres on the road: along the offer's stops of that date
   from the pickup to the drop-off (other passengers' stops on the way included), or straight from one to the other
   when the offer's plan is not held any more (plan_route.c). 0 or -1. */
int web_ride_distance(web_req *r, cv_matcher_ws *w, const cv_booking *b, cv_day day, int64_t *metres);

/* The map page (page.c): GET / and GET /static/... from page_dir; no key needed. */
int web_page_index(web_req *r);
int web_page_static(web_req *r);

#endif
