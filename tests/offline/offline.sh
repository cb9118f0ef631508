#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# offline.sh — covoit works with no route out of the machine: the map page in a real browser (place search, the
# server's own tiles, search, booking on both sides, languages, the no-ride path), the GTFS feed read by node-gtfs
# and the SIRI-ET feed read back, carpool proofs sent to a register on the loopback, all run again inside a
# network namespace that has only a loopback interface
# (unshare -n). Anything that needed another host would fail here. Skipped (exit 77) with a message when this
# machine cannot make a network namespace (not root, or user namespaces off).
#
# offline.sh COVOIT_BIN SOURCE_DIR BUILD_TESTS_DIR
set -euo pipefail
covoit=$1 src=$2 build=$3
if ! unshare -n true 2>/dev/null; then
    echo "SKIP offline: cannot make a network namespace here (unshare -n needs root or user namespaces)"
    exit 77
fi
work="$build/offline"
mkdir -p "$work"
# the graph, its place index and tiles the browser test made, when it ran first (else it makes them again)
for f in page_porto.cvg page_porto.cvg.places page_porto.cvg.mbtiles gtfs_monaco.cvg gtfs_monaco.cvg.places; do
    [ -f "$build/$f" ] && [ ! -f "$work/$f" ] && cp "$build/$f" "$work/$f"
done
exec unshare -n -- bash -euo pipefail -c '
    ip link set lo up
    echo "inside a network namespace with these interfaces: $(ip -brief link | awk "{print \$1}" | tr "\n" " ")"
    if ip route get 1.1.1.1 >/dev/null 2>&1; then echo "FAIL: there is a route out"; exit 1; fi
    echo "ok   no route to any other host (ip route get 1.1.1.1 fails)"
    node "$1/tests/browser/page.mjs" "$2" "$1/data/porto.osm.pbf" "$3"
    node "$1/tests/browser/gtfs.mjs" "$2" "$1/tests/data/monaco.osm.pbf" "$3"
    "$4/test_http_feeds"
    "$4/test_http_proofs"
    echo "all checks passed with no route out"
' offline "$src" "$covoit" "$work" "$build"
