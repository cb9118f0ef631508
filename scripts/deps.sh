#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Installs the Debian 12 packages covoit needs, only those that are missing (run as root on a fresh machine), and
# the npm packages (Leaflet and Chart.js for the map page and the batch report, pinned by web/page/package-lock.json;
# with --tests, Chromium, playwright-core and axe-core for the browser tests and node-gtfs, the GTFS feed's consumer,
# pinned by tests/browser/package-lock.json) when
# they are missing or older.
set -euo pipefail
# clang, libclang-rt-14-dev (libFuzzer and clang's sanitizer runtimes) and llvm (llvm-symbolizer, for readable
# stacks): the fuzz targets of tests/fuzz; clang-format: the test command checks the tree is formatted
# tilemaker: the map page's vector tiles, made from the extract (scripts/run.sh, tiles/tilemaker); libcurl: covoit's
# calls to partner operators; liblemon-dev, libglpk-dev and libcsv-dev: batch matching (its
# matching, its integer program of carpools, its CSV files); libzip-dev and libxml2-dev: the GTFS feed's
# zip and the SIRI-ET feed's XML (feeds/); libpq-dev: the trip store on PostgreSQL (matcher/db_pg.c), whose
# server (postgresql) the test suite starts in a temporary directory
pkgs=(build-essential cmake pkg-config libosmium2-dev libprotozero-dev zlib1g-dev libbz2-dev libexpat1-dev
      libmicrohttpd-dev libcurl4-openssl-dev liblemon-dev libglpk-dev libcsv-dev libzip-dev libxml2-dev libsqlite3-dev
      libjansson-dev libcmocka-dev libpq-dev
      clang libclang-rt-14-dev llvm clang-format tilemaker)
# --tests: what only the test suite needs too (scripts/test.sh): Chromium for the browser tests, curl for the
# install test, PostgreSQL's server for the store's tests on that engine
[ "${1:-}" = "--tests" ] && pkgs+=(chromium curl postgresql)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm for the map page, by command rather than package: a Node.js from elsewhere brings its own npm.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
page="$(cd "$(dirname "$0")/.." && pwd)/web/page"
if [ ! -f "$page/node_modules/leaflet/dist/leaflet.js" ] ||
   [ "$page/package-lock.json" -nt "$page/node_modules/.package-lock.json" ]; then
  echo "installing the map page's npm packages: npm ci --prefix web/page" >&2
  npm ci --prefix "$page" --no-audit --no-fund --loglevel=error >/dev/null
fi
browser="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
if [ "${1:-}" = "--tests" ] && { [ ! -d "$browser/node_modules/playwright-core" ] ||
   [ "$browser/package-lock.json" -nt "$browser/node_modules/.package-lock.json" ]; }; then
  echo "installing the browser tests' npm packages: npm ci --prefix tests/browser" >&2
  npm ci --prefix "$browser" --no-audit --no-fund --loglevel=error >/dev/null
fi
