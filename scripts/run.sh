#!/usr/bin/env bash
# The main job: installs what is missing, builds the optimised covoit, imports the bundled Porto extract when its
# graph is missing or older than the input, and runs example routes on it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCOVOIT_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target covoit >/dev/null
graph=build/porto.cvg
if [ ! -f "$graph" ] || [ data/porto.osm.pbf -nt "$graph" ] || ! ./build/covoit info "$graph" >/dev/null 2>&1; then
  ./build/covoit import data/porto.osm.pbf -o "$graph"
fi
echo
echo "Routes on the Porto metropolitan area (data © OpenStreetMap contributors, ODbL):"
route() {
  echo "== $1"
  ./build/covoit route "$graph" "$2" "$3" | head -c 400
  echo " ..."
}
route "Porto (Aliados) -> Matosinhos" -8.6110,41.1496 -8.6900,41.1820
route "Vila Nova de Gaia -> Maia" -8.6110,41.1240 -8.6230,41.2350
route "Porto (Boavista) -> Porto airport" -8.6290,41.1580 -8.6710,41.2440
echo "== table: Aliados and Matosinhos to Gaia and Maia"
./build/covoit table "$graph" --sources "-8.6110,41.1496;-8.6900,41.1820" --destinations "-8.6110,41.1240;-8.6230,41.2350" | head -c 300
echo " ..."
echo
echo "Carpool matching on the same graph (a throw-away database; --now pins the clock for the example):"
db=build/demo-trips.db
rm -f "$db" "$db-wal" "$db-shm"
trip() { ./build/covoit "$@" --graph "$graph" --db "$db" --tz Europe/Lisbon --now 2030-06-01T00:00; }
echo "== a driver from Aliados to Maia, Monday 08:00, 3 seats"
trip offer add --from -8.6110,41.1496 --to -8.6230,41.2350 --depart 2030-06-03T08:00 --seats 3 --owner driver | head -c 300
echo " ..."
echo "== a passenger along the way, wishing to leave at 08:05"
trip request add --from -8.6229,41.1692 --to -8.6268,41.2209 --depart 2030-06-03T08:05 --owner passenger | head -c 300
echo " ..."
echo "== the passenger's matches: pickup, drop-off, detour and contribution (commission 0)"
trip request matches 1
