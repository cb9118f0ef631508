#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# install.sh BUILD_DIR SOURCE_DIR — covoit installed (`cmake --install`) to a prefix of its own and moved away from
# the tree it was built in finds its map page and serves it: the binary looks for PREFIX/share/covoit beside itself
# (cli_data_dir), not only at the source path compiled into it.
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
mv "$work/prefix" "$work/moved" # installed somewhere, then moved: nothing may point back at the first place
covoit=$work/moved/bin/covoit
"$covoit" import "$src/tests/data/monaco.osm.pbf" -o "$work/monaco.cvg" --quiet --no-places
"$covoit" serve --graph "$work/monaco.cvg" --listen 127.0.0.1:0 --quiet >"$work/out" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  grep -q "map page on\|map page not available" "$work/out" && break
  sleep 0.1
done
cat "$work/out"
grep -q "map page on http://127.0.0.1:[0-9]*/ (from $work/moved/share/covoit/page)" "$work/out" ||
  { echo "FAIL: the installed covoit does not serve its page from $work/moved/share/covoit/page"; exit 1; }
port=$(sed -n 's|.*on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/out" | head -1)
for path in / /static/app.js /static/i18n.js /static/leaflet/leaflet.js /static/protomaps/protomaps-leaflet.js; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$path")
  [ "$code" = 200 ] || { echo "FAIL: GET $path answered $code"; exit 1; }
  echo "ok   GET $path: 200"
done
echo "ok   the installed, moved covoit serves its map page"
