#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Writes the seed corpus of every fuzz target into tests/fuzz/corpus/<target>/ (committed; run again after a change
# of the graph file format, the API or the config keys). Files named found-* are inputs a fuzzer found wrong once,
# kept as they are. Needs a fuzz tree with covoit and osm_extract built:
#   cmake --build build-fuzz --target covoit osm_extract && bash tests/fuzz/make_seeds.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-fuzz}
covoit=$build/covoit
extract=$build/tests/fuzz/osm_extract
for t in "$covoit" "$extract"; do
  [ -x "$t" ] || { echo "make_seeds: $t is missing: cmake --build $build --target covoit osm_extract" >&2; exit 1; }
done
out=tests/fuzz/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export ASAN_OPTIONS=detect_leaks=0
# inputs the fuzzers found (found-*: a crash, a failed check) are kept; every other seed is written again
for t in fuzz_http_raw fuzz_http_api fuzz_http_auth fuzz_graph fuzz_osm_xml fuzz_osm_pbf fuzz_config; do
  mkdir -p "$out/$t"
  find "$out/$t" -type f ! -name 'found-*' -delete
done

# --- HTTP: every endpoint of docs/API.md, as the structured input of fuzz_http_api ("METHOD PATH", header lines,
# an empty line, the body) and as the raw request of fuzz_http_raw ---
n=0
api() { # METHOD PATH [BODY [HEADER]]
  local method=$1 path=$2 body=${3:-} header=${4:-}
  n=$((n + 1))
  local name
  name=$(printf '%02d-%s' "$n" "$(printf '%s' "$method${path%%\?*}" | tr -c 'A-Za-z0-9' '_' | cut -c1-40)")
  { printf '%s %s\n' "$method" "$path"; [ -n "$header" ] && printf '%s\n' "$header"; printf '\n%s' "$body"; } \
    >"$out/fuzz_http_api/$name"
  # fuzz_http_auth: the same with the owner's key (@OWNER@: the harness puts the secret in)
  { printf '%s %s\n' "$method" "$path"; printf '%s\n' "${header:-X-API-Key: @OWNER@}"; printf '\n%s' "$body"; } \
    >"$out/fuzz_http_auth/$name"
  { printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n' "$method" "$path"
    [ -n "$header" ] && printf '%s\r\n' "$header"
    [ -n "$body" ] && printf 'Content-Type: application/json\r\nContent-Length: %d\r\n' "${#body}"
    printf '\r\n%s' "$body"; } >"$out/fuzz_http_raw/$name"
}
A="7.4165,43.7310" B="7.4360,43.7470" C="7.4275,43.7396" D="7.4215,43.7350"
api GET "/route/v1/driving/$A;$B?overview=false"
api GET "/route/v1/driving/$A;$D?steps=true&geometries=geojson&overview=full"
api GET "/route/v1/driving/$C;7.4262,43.7392?annotations=duration,speed&overview=false&skip_waypoints=true"
api GET "/route/v1/car/$A;$C;$B.json?annotations=true&geometries=polyline6&radiuses=100;unlimited;&alternatives=2&continue_straight=default&generate_hints=false&hints=;;"
api GET "/route/v1/driving/43.7310,7.4165;43.7470,7.4360"
api GET "/route/v1/bike/$A;$B?steps=yes"
api POST "/route/v1/driving/$A;$B"
api GET "/table/v1/driving/$A;$B;$C?annotations=duration,distance"
api GET "/table/v1/driving/$A;$B;$C?sources=0&destinations=1;2&skip_waypoints=true&radiuses=;50;unlimited"
api GET "/table/v1/driving/$A;$B?sources=all&destinations=all&annotations=distance"
api GET "/nearest/v1/driving/$C"
api GET "/nearest/v1/driving/$C?number=1&radiuses=50&generate_hints=true"
api GET "/health"
api HEAD "/health"
api GET "/metrics"
api GET "/"
api GET "/static/app.js"
api GET "/static/leaflet/leaflet.css"
api GET "/static/%2e%2e/%2e%2e/etc/passwd"
api POST "/v1/offers" '{"from":[7.4275,43.7396],"to":[7.4160,43.7290],"depart":"2030-06-03T08:00+02:00","margin_min":30,"seats":3,"owner":"driver-1"}'
api POST "/v1/offers" '{"from":[7.4165,43.7310],"to":[7.4360,43.7470],"vias":[[7.4275,43.7396]],"depart":{"weekdays":"mon,tue,wed,thu,fri","time":"07:45","first_date":"2030-06-03","last_date":"2030-12-20"},"seats":2,"max_detour_min":10,"max_detour_km":3,"price_per_km":0.08,"owner":"driver-2"}'
api POST "/v1/offers" '{"from":[43.7396,7.4275],"to":[7.4160,43.7290],"depart":"2020-06-03 08:00","owner":"x"}'
api PUT "/v1/offers" '{}'
api GET "/v1/offers?owner=driver-1&all=true"
api GET "/v1/offers/1"
api GET "/v1/offers/1/matches?limit=3"
api POST "/v1/offers/2/cancel"
api DELETE "/v1/offers/2"
api POST "/v1/requests" '{"from":[7.422055,43.737749],"to":[7.416246,43.73148],"depart":"2030-06-03T08:05+02:00","margin_min":30,"owner":"rider-1"}'
api POST "/v1/requests" '{"from":[7.422055,43.737749],"to":[7.416246,43.73148],"depart":{"weekdays":"weekdays","time":"08:05"},"seats":2,"owner":"rider-3"}'
api GET "/v1/requests?owner=rider-1&all=false"
api GET "/v1/requests/1"
api GET "/v1/requests/1/matches?limit=1000"
api POST "/v1/requests/2/cancel"
api DELETE "/v1/requests/2"
api POST "/v1/search?limit=3" '{"from":[7.422055,43.737749],"to":[7.416246,43.73148],"depart":"2030-06-03T08:00+02:00"}'
api POST "/v1/bookings" '{"offer_id":1,"request_id":1}'
api GET "/v1/bookings/1"
api POST "/v1/bookings/1/accept"
api POST "/v1/bookings/2/refuse"
api POST "/v1/bookings/1/cancel"
api GET "/v1/bookings/abc"
api GET "/v1/offers" "" "X-API-Key: cvk_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
api GET "/nope"
api GET "/stdcov/v1/driver_journeys?departureLat=43.7350&departureLng=7.4215&arrivalLat=43.7290&arrivalLng=7.4160&departureDate=1906704000&timeDelta=3600&departureRadius=2&arrivalRadius=1.5&count=5"
api GET "/stdcov/v1/driver_journeys?departureLat=43.7350&departureLng=7.4215&arrivalLat=north&departureDate=1906704000.5"
api GET "/stdcov/v1/status"
api GET "/stdcov/v1/passenger_journeys?departureLat=43.7350&departureLng=7.4215&arrivalLat=43.7290&arrivalLng=7.4160&departureDate=1906704000&count=2"
api GET "/stdcov/v1/driver_regular_trips?departureLat=43.7350&departureLng=7.4215&arrivalLat=43.7290&arrivalLng=7.4160&departureTimeOfDay=07:45:00&departureWeekdays=MON,TUE&timeDelta=1800"
api GET "/stdcov/v1/passenger_regular_trips?departureLat=43.7350&departureLng=7.4215&arrivalLat=43.7290&arrivalLng=7.4160&departureTimeOfDay=07:45:00.5&departureWeekdays=[%22WED%22]&minDepartureDate=1906704000&maxDepartureDate=1909296000"
api POST "/stdcov/v1/bookings" '{"id":"0b7d5f2e-3c41-4a8e-9d2b-6f1e8a9c4d01","driver":{"id":"driver-1","alias":"Driver 1","operator":"carpool.example.org"},"passenger":{"id":"u-42","alias":"Alice","operator":"partner.example.net"},"passengerPickupDate":1906704300,"passengerPickupLat":43.7350,"passengerPickupLng":7.4215,"passengerDropLat":43.7290,"passengerDropLng":7.4160,"price":{},"status":"WAITING_CONFIRMATION","driverJourneyId":"offer-1-2030-06-03"}'
api PATCH "/stdcov/v1/bookings/0b7d5f2e-3c41-4a8e-9d2b-6f1e8a9c4d01?status=CANCELLED&message=sorry"
api POST "/stdcov/v1/messages" '{"from":{"id":"u-42","alias":"Alice","operator":"partner.example.net"},"to":{"id":"driver-1","alias":"Driver 1","operator":"carpool.example.org"},"message":"At the corner at 8","recipientCarpoolerType":"DRIVER","driverJourneyId":"offer-1-2030-06-03"}'
api GET "/v1/messages?owner=driver-1&unread=true"
api POST "/v1/messages/1/read"
api POST "/stdcov/v1/booking_events" '{"id":"91523cf5-6600-4472-a04b-21603d4a076b","idToken":"","data":{"id":"6fcf3150-b452-4f79-930f-524750dbbef4","passengerDropLat":43.7290,"passengerDropLng":7.4160,"passengerPickupDate":1906704300,"passengerPickupLat":43.7350,"passengerPickupLng":7.4215,"status":"CONFIRMED","webUrl":"","driver":{"alias":"Bob","id":"d-1","operator":"partner.example.net"},"price":{}}}'
api POST "/stdcov/v1/bookings" '{"id":"5b8f0c2a-9d4e-4f1a-8b3c-2e7d6a1f0c93","driver":{"id":"pd-7","alias":"Pat","operator":"partner.example.net"},"passenger":{"id":"passenger-1","alias":"Passenger 1","operator":"carpool.example.org"},"passengerPickupDate":1906704300,"passengerPickupLat":43.7350,"passengerPickupLng":7.4215,"passengerDropLat":43.7290,"passengerDropLng":7.4160,"status":"WAITING_CONFIRMATION","price":{"type":"PAYING","amount":1.5,"currency":"EUR"},"passengerJourneyId":"request-1-2030-06-03"}'
api POST "/v1/search?limit=5" '{"from":[7.4215,43.7350],"to":[7.4160,43.7290],"depart":"2030-06-03T08:00+02:00","partners":true}'
api POST "/v1/bookings" '{"operator":"partner.example.net","journey":{"id":"offer-1-2030-06-03","passengerPickupLat":43.7350,"passengerPickupLng":7.4215,"passengerDropLat":43.7290,"passengerDropLng":7.4160,"passengerPickupDate":1906704300,"driver":{"id":"driver-1","alias":"Driver 1","operator":"partner.example.net"},"price":{"type":"FREE"}},"owner":"p1"}'
api GET "/v1/bookings/5b8f0c2a-9d4e-4f1a-8b3c-2e7d6a1f0c93"
api POST "/v1/bookings/5b8f0c2a-9d4e-4f1a-8b3c-2e7d6a1f0c93/accept"
api POST "/v1/messages/1/reply" '{"text":"Yes, a big one"}'
# auth only: the other keys on the owner's trips (ids 1 and 2 are the owner's), a routing key, none, Bearer
auth() { printf "$2" >"$out/fuzz_http_auth/auth-$1"; }
auth other-offer 'GET /v1/offers/1\nX-API-Key: @OTHER@\n\n'
auth other-matches 'GET /v1/requests/2/matches\nX-API-Key: @OTHER@\n\n'
auth other-booking 'POST /v1/bookings/1/accept\nAuthorization: Bearer @OTHER@\n\n'
auth other-list 'GET /v1/offers?owner=driver-1&all=true\nX-API-Key: @OTHER@\n\n'
auth other-books 'POST /v1/bookings\nX-API-Key: @OTHER@\n\n{"offer_id":1,"request_id":1}'
auth router-offers 'GET /v1/offers\nX-API-Key: @ROUTER@\n\n'
auth router-route 'GET /route/v1/driving/7.4165,43.7310;7.4360,43.7470\nX-API-Key: @ROUTER@\n\n'
auth admin-cancel 'DELETE /v1/requests/2\nX-API-Key: @ADMIN@\n\n'
auth none-offers 'GET /v1/offers/1\n\n'
auth none-health 'GET /health\n\n'
auth both-keys 'GET /v1/bookings/2\nX-API-Key: @OTHER@\nAuthorization: Bearer @OWNER@\n\n'
# raw only: what a client may do to the framing
raw() { printf "$2" >"$out/fuzz_http_raw/raw-$1"; }
raw pipelined 'GET /health HTTP/1.1\r\nHost: x\r\n\r\nHEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
raw http10 'GET /nearest/v1/driving/7.4275,43.7396 HTTP/1.0\r\n\r\n'
raw chunked 'POST /v1/search HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"fro\r\n5\r\nm":[]\r\n1\r\n}\r\n0\r\n\r\n'
raw expect 'POST /v1/bookings HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 31\r\n\r\n{"offer_id":1,"request_id":1}  '
raw toobig 'POST /v1/offers HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{}'
raw bearer 'GET /v1/requests HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer abc\r\nConnection: close\r\n\r\n'

# --- graph files: the scenario maps and a box of Monaco, imported (named .graph: *.cvg is ignored by git) ---
for f in tests/scenarios/*.osm; do
  "$covoit" import "$f" -o "$out/fuzz_graph/$(basename "$f" .osm).graph" --quiet
done
"$extract" tests/data/monaco.osm.pbf "$tmp/box.osm.pbf" --bbox 7.424,43.737,7.429,43.741 2>/dev/null
"$covoit" import "$tmp/box.osm.pbf" -o "$out/fuzz_graph/monaco-box.graph" --quiet

# --- OSM: the scenario maps as XML and as PBF (uncompressed, dense and plain nodes), boxes of Monaco ---
for f in tests/scenarios/*.osm; do
  b=$(basename "$f" .osm)
  cp "$f" "$out/fuzz_osm_xml/$b.osm"
  "$extract" "$f" "$out/fuzz_osm_pbf/$b.osm.pbf" 2>/dev/null
done
"$extract" tests/scenarios/restrictions.osm "$out/fuzz_osm_pbf/restrictions-plain.osm.pbf" --no-dense 2>/dev/null
"$extract" tests/scenarios/steps.osm "$out/fuzz_osm_pbf/steps-zlib.osm.pbf" --zlib 2>/dev/null
cp "$tmp/box.osm.pbf" "$out/fuzz_osm_pbf/monaco-box.osm.pbf"
"$extract" tests/data/monaco.osm.pbf "$out/fuzz_osm_xml/monaco-box.osm" --bbox 7.4255,43.7385,7.4275,43.7400 2>/dev/null

# --- config files of covoit serve ---
c=$out/fuzz_config
cp docs/covoit.example.json "$c/example.json"
printf '{"graph": "build/porto.cvg", "db": "build/porto-trips.db", "listen": "[::1]:8080", "threads": 4}\n' >"$c/short.json"
printf '{"listen": "localhost:0", "quiet": true, "price_per_km": 0.0001, "hub_labels_mb": 0}\n' >"$c/edges.json"
printf '{"threads": -1}\n' >"$c/range.json"
printf '{"colour": "blue"}\n' >"$c/unknown.json"
printf '{"threads": 4, "threads": 5}\n' >"$c/duplicate.json"
printf '{"graph": "a.cvg",\n}\n' >"$c/syntax.json"
printf '[]' >"$c/array.json"
du -sh "$out"/* | sed 's|^|seeds: |'
