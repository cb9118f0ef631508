#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-or-later
# bench/run.sh [BUILD_DIR] [--out FILE] [--runs N] [--pairs N] [--seed N]
#
# Builds covoit and the benchmark programs in BUILD_DIR (default: build/ at the top of the repository, which should
# be a Release build), then measures every extract: the bundled ones (data/porto.osm.pbf, tests/data/monaco.osm.pbf)
# and those in ../shared/data when present. Prints a table on stdout and writes JSON (default
# bench/results/import_route.json). See bench/README.md.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

usage() {
    echo "usage: bench/run.sh [BUILD_DIR] [--out FILE] [--runs N] [--pairs N] [--seed N]" >&2
    exit 2
}

abs() {
    case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$PWD" "$1" ;;
    esac
}

build=""
out="$root/bench/results/import_route.json"
runs=3
pairs=1000
seed=42
while [ $# -gt 0 ]; do
    case "$1" in
    --out) [ $# -ge 2 ] || usage; out=$(abs "$2"); shift 2 ;;
    --runs) [ $# -ge 2 ] || usage; runs=$2; shift 2 ;;
    --pairs) [ $# -ge 2 ] || usage; pairs=$2; shift 2 ;;
    --seed) [ $# -ge 2 ] || usage; seed=$2; shift 2 ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) [ -z "$build" ] || usage; build=$(abs "$1"); shift ;;
    esac
done
[ -n "$build" ] || build="$root/build"

if [ ! -f "$build/CMakeCache.txt" ]; then
    echo "bench/run.sh: $build is not a configured build directory" >&2
    echo "  configure one with: cmake -S $root -B $build -DCMAKE_BUILD_TYPE=Release" >&2
    exit 1
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")
if [ "$build_type" != "Release" ]; then
    echo "bench/run.sh: warning: $build is a '${build_type:-no type}' build, not Release: figures are not comparable" >&2
fi
if grep -q '^COVOIT_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then
    echo "bench/run.sh: warning: $build is built with sanitizers: figures are not comparable" >&2
    build_type="$build_type+sanitize"
fi

# build output goes to stderr so that stdout carries only the table
cmake --build "$build" -j2 --target covoit bench_route osm_floor bench_import >&2

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "")
if [ -n "$commit" ] && [ -n "$(git -C "$root" status --porcelain 2>/dev/null)" ]; then
    commit="$commit+dirty"
fi

# paths are given relative to the repository so that the report names them as the issue does
cd "$root"
exec "$build/bench/bench_import" \
    --covoit "$build/covoit" --floor "$build/bench/osm_floor" --route "$build/bench/bench_route" \
    --out "$out" --runs "$runs" --pairs "$pairs" --seed "$seed" \
    --bundled data/porto.osm.pbf --bundled tests/data/monaco.osm.pbf \
    --shared-dir ../shared/data --expect monaco,andorra,heidelberg,columbus,porto \
    --build-type "$build_type" --commit "$commit"
