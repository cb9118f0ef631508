#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# The main job: installs what is missing, builds the optimised covoit, imports the bundled Porto extract when its
# graph is missing or older than the input, shows a route and a table on it, and starts the HTTP server with demo
# carpool offers and its map page on http://127.0.0.1:8080 in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCOVOIT_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target covoit >/dev/null
graph=build/porto.cvg
if [ ! -f "$graph" ] || [ ! -f "$graph.places" ] || [ data/porto.osm.pbf -nt "$graph" ] ||
   ! ./build/covoit info "$graph" >/dev/null 2>&1; then
  ./build/covoit import data/porto.osm.pbf -o "$graph"
fi
# the map page's basemap: vector tiles of the same extract, made by Debian's tilemaker with covoit's configuration
if [ ! -f "$graph.mbtiles" ] || [ data/porto.osm.pbf -nt "$graph.mbtiles" ] || [ tiles/tilemaker/process.lua -nt "$graph.mbtiles" ]; then
  rm -f "$graph.mbtiles"
  tilemaker --input data/porto.osm.pbf --output "$graph.mbtiles" --config tiles/tilemaker/config.json \
    --process tiles/tilemaker/process.lua >/dev/null
fi
echo
echo "Routes on the Porto metropolitan area (data © OpenStreetMap contributors, ODbL):"
echo "== route Porto (Aliados) -> Matosinhos: $(./build/covoit route "$graph" -8.6110,41.1496 -8.6900,41.1820 | head -c 160) ..."
echo "== table Aliados, Matosinhos -> Gaia, Maia: $(./build/covoit table "$graph" --sources "-8.6110,41.1496;-8.6900,41.1820" --destinations "-8.6110,41.1240;-8.6230,41.2350" | head -c 160) ..."
echo
# The server: the carpool API over a kept database, topped up to 200 demo offers for tomorrow morning.
url=http://127.0.0.1:8080
tomorrow=$(TZ=Europe/Lisbon date -d tomorrow +%F)
echo "Starting the covoit server on $url (Ctrl-C stops)."
echo "The map page: open $url/ in a browser (type a place or click the map; route, find a ride, offer a ride)."
echo "Or try, from another terminal:"
echo "  curl '$url/route/v1/driving/-8.6110,41.1496;-8.6900,41.1820?overview=false'"
echo "  curl -X POST '$url/v1/search?limit=3' -d '{\"from\":[-8.6110,41.1496],\"to\":[-8.6290,41.1580],\"depart\":\"${tomorrow}T08:00\"}'"
echo
exec ./build/covoit serve --graph "$graph" --db build/porto-trips.db --demo-trips 200 --tz Europe/Lisbon --listen 127.0.0.1:8080
