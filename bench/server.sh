#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# bench/server.sh [--build DIR] [--duration S] [--conns "1 16 256"] [--threads N] [--wrk-threads N] [--offers N]
#                 [--pairs N] [--searches N] [--seed N] [--soak MINUTES | --full] [--perf] [--retries N]
#                 [--quiet-wait S] [--log-duration S] [--log-reps N] [--hub-labels-mb MB] [--out FILE] [--keep]
#
# The HTTP load benchmark (issue 5): starts `covoit serve` on the Porto graph with --offers active demo offers,
# loads it with wrk on loopback (route requests and POST /v1/search, at each connection count, keep-alive on and
# off), takes the server-side latency from the request log of a second, non-quiet run, samples the server's memory,
# and with --soak runs mixed load for that many minutes. Prints a table and writes JSON (default
# bench/results/server.json). Exit status 1 when an answer was not 2xx or a socket failed where none should.
# See bench/README.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

usage() {
    sed -n '2,5p' "$0" | sed 's/^# //' >&2
    exit 2
}

build="$root/build-bench"
duration=10
conns="1 16 256"
server_threads=$(nproc)
labels_mb=1024 # covoit serve's default; 0: the server answers from the hierarchy alone
wrk_threads=1
offers=10000
pairs=2000
searches=1000
seed=42
soak=0
perf=0
keep=0
retries=2
quiet_wait=60
log_duration=5
log_reps=3
out="$root/bench/results/server.json"
graph=""
while [ $# -gt 0 ]; do
    case "$1" in
    --build) build=$(realpath -m "$2"); shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --conns) conns=$2; shift 2 ;;
    --threads) server_threads=$2; shift 2 ;;
    --hub-labels-mb) labels_mb=$2; shift 2 ;;
    --wrk-threads) wrk_threads=$2; shift 2 ;;
    --offers) offers=$2; shift 2 ;;
    --pairs) pairs=$2; shift 2 ;;
    --searches) searches=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --soak) soak=$2; shift 2 ;;
    --full) soak=10; shift ;;
    --perf) perf=1; shift ;;
    --graph) graph=$(realpath -m "$2"); shift 2 ;;
    --out) out=$(realpath -m "$2"); shift 2 ;;
    --keep) keep=1; shift ;;
    --retries) retries=$2; shift 2 ;;
    --quiet-wait) quiet_wait=$2; shift 2 ;;
    --log-duration) log_duration=$2; shift 2 ;;
    --log-reps) log_reps=$2; shift 2 ;;
    *) usage ;;
    esac
done
for v in "$duration" "$retries" "$quiet_wait" "$log_duration" "$log_reps" "$server_threads" "$wrk_threads" "$offers" "$pairs" "$searches" "$seed" "$soak"; do
    [[ "$v" =~ ^[0-9]+$ ]] || usage
done
[ -n "$graph" ] || graph="$build/porto.cvg"

say() { printf 'server.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# --- tools: wrk, curl, python3 (Debian packages); perf only with --perf ---
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v curl >/dev/null || need+=(curl)
[ -x /usr/bin/python3 ] || need+=(python3)
command -v cmake >/dev/null || need+=(cmake)
if [ ${#need[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing ${need[*]}: install them (apt-get install ${need[*]})"
    say "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ "$perf" = 1 ] && ! command -v perf >/dev/null; then
    die "--perf needs perf (Debian: linux-perf)"
fi
py=/usr/bin/python3
helper="$here/wrk/helper.py"
lua="$here/wrk/requests.lua"

# --- build (Release) and graph ---
if [ ! -f "$build/CMakeCache.txt" ]; then
    say "configuring $build"
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCOVOIT_TESTS=OFF >&2
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")
[ "$build_type" = Release ] || say "warning: $build is a '${build_type:-no type}' build, not Release"
# the commit is read when the binary is built: other work may land in the tree while the benchmark runs
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "")
[ -z "$(git -C "$root" status --porcelain 2>/dev/null)" ] || commit="$commit+dirty"
cmake --build "$build" -j2 --target covoit bench_srcaddr >&2
covoit="$build/covoit"
shim="$build/bench/libbench_srcaddr.so"
# imported when missing, or when this covoit does not read it (an older graph format)
if [ ! -f "$graph" ] || ! "$covoit" info "$graph" >/dev/null 2>&1; then
    say "importing data/porto.osm.pbf to $graph"
    "$covoit" import "$root/data/porto.osm.pbf" -o "$graph" --quiet
fi
bbox=$("$covoit" info "$graph" | $py -c 'import json,sys; print(",".join(map(str, json.load(sys.stdin)["bbox"])))')

work=$(mktemp -d /tmp/covoit-server-bench.XXXXXX)
server_pid=""
bg_pids=()
cleanup() {
    for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; done
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    if [ "$keep" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the server ---
url=""
start_server() { # start_server LOGFILE [--quiet]
    local log=$1; shift
    "$covoit" serve --graph "$graph" --db "$work/trips.db" --tz Europe/Lisbon --listen 127.0.0.1:0 \
        --threads "$server_threads" --demo-trips "$offers" --hub-labels-mb "$labels_mb" "$@" >"$work/server.out" 2>"$log" &
    server_pid=$!
    local t0=$SECONDS port=""
    while [ -z "$port" ]; do
        kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; die "the server exited at start"; }
        [ $((SECONDS - t0)) -lt 600 ] || die "the server did not start within 600 s"
        port=$(sed -n 's|^covoit serving .* on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$work/server.out")
        [ -n "$port" ] || sleep 0.2
    done
    url="http://127.0.0.1:$port"
    curl -sf "$url/health" >/dev/null || die "GET /health failed"
}
stop_server() {
    kill -TERM "$server_pid"
    wait "$server_pid" || die "the server exited with status $? on SIGTERM"
    server_pid=""
}
snap_status() { cp "/proc/$server_pid/status" "$1"; }
snap_metrics() { $py "$helper" metrics "$url" "$1"; }
rss_mib() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$server_pid/status"; }

# CPU accounting, in clock ticks: the machine's busy and total time (/proc/stat) and the server's (utime + stime)
cpu_snap() {
    echo "$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat)" \
        "$(awk '{print $14 + $15}' "/proc/$server_pid/stat")"
}
# per thread of the server: "TID NAME TICKS" (the MHD-worker threads answer the requests)
thread_snap() {
    local t
    for t in /proc/"$server_pid"/task/*; do
        [ -r "$t/stat" ] && awk -v tid="${t##*/}" '{print tid, $2, $14 + $15}' "$t/stat"
    done 2>/dev/null || true
}
# Waits (at most --quiet-wait seconds) until the rest of the machine is quiet: under 10 % of the CPU busy over a second, the
# server being idle. Other people's builds and benchmarks on the same cores would be measured too.
wait_quiet() {
    local i a b
    [ "$quiet_wait" -gt 0 ] || return 0
    for i in $(seq 1 "$quiet_wait"); do
        a=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat)
        sleep 1
        b=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat)
        if awk -v a="$a" -v b="$b" 'BEGIN {split(a, x); split(b, y); exit !((y[1] - x[1]) < 0.10 * (y[2] - x[2]))}'; then
            return 0
        fi
        [ "$i" != 1 ] || say "waiting for the machine to be quiet (other processes use the CPU)"
    done
    say "warning: the machine stayed busy for $quiet_wait s; measuring anyway"
}

# run_wrk NAME FILE CONNS KEEPALIVE(1|0) SECONDS [one-address]: wrk's output in $work/NAME.wrk; CPU used in
# $work/NAME.cpu: "total_ticks busy_ticks server_ticks wrk_user_s wrk_sys_s" over the run
run_wrk() {
    local name=$1 file=$2 c=$3 ka=$4 secs=$5 one=${6:-}
    local t=$wrk_threads close=""
    [ "$t" -le "$c" ] || t=$c
    [ "$ka" = 1 ] || close=close
    # 32 connections at most per source address (the server allows 64 per address), unless told one address
    local naddr=$(((c + 31) / 32))
    [ -z "$one" ] || naddr=1
    local before after TIMEFORMAT='%3U %3S'
    thread_snap >"$work/$name.threads_before"
    before=$(cpu_snap)
    { time LD_PRELOAD="$shim" COVOIT_SRC_ADDRS=$naddr \
        wrk -t"$t" -c"$c" -d"${secs}s" --timeout 10s -s "$lua" "$url" -- "$work/$file" $close \
        >"$work/$name.wrk" 2>&1; } 2>"$work/$name.time" || true
    after=$(cpu_snap)
    thread_snap >"$work/$name.threads_after"
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/$name.wrk" >&2; die "the server died during $name"; }
    echo "$before $after $(tail -1 "$work/$name.time")" |
        awk '{print $5 - $2, $4 - $1, $6 - $3, $7, $8}' >"$work/$name.cpu"
}
# the share of the machine that neither the server nor wrk used during NAME, in percent
other_pct() {
    awk -v hz="$(getconf CLK_TCK)" '{printf "%.0f", 100 * ($2 - $3 - ($4 + $5) * hz) / $1}' "$work/$1.cpu"
}

cells=()
# cell NAME ENDPOINT FILE CONNS KA [diagnostic NOTE]: measured again (up to --retries times) when other processes
# took more than 15 % of the machine during the run
cell() {
    local name=$1 ep=$2 file=$3 c=$4 ka=$5 diag=${6:-} note=${7:-}
    local attempt other
    for attempt in $(seq 1 $((retries + 1))); do
        wait_quiet
        snap_status "$work/$name.status_before"
        snap_metrics "$work/$name.metrics_before"
        run_wrk "$name" "$file" "$c" "$ka" "$duration" ${diag:+one}
        sleep 1 # closing connections drain before the snapshots and the next cell
        snap_status "$work/$name.status_after"
        snap_metrics "$work/$name.metrics_after"
        other=$(other_pct "$name")
        [ "$other" -gt 15 ] || break
        [ "$attempt" -gt "$retries" ] || say "$name: other processes took ${other} % of the CPU: measuring again"
    done
    local t=$wrk_threads
    [ "$t" -le "$c" ] || t=$c
    cells+=("$(printf '{"name":"%s","endpoint":"%s","conns":%d,"keepalive":%s,"wrk_threads":%d,"src_addrs":%d,"attempts":%d%s}' \
        "$name" "$ep" "$c" "$([ "$ka" = 1 ] && echo true || echo false)" "$t" \
        "$([ -n "$diag" ] && echo 1 || echo $(((c + 31) / 32)))" "$attempt" \
        "${diag:+,\"diagnostic\":true,\"expect_errors\":true,\"note\":\"$note\"}")")
    say "$(printf '%-24s %s' "$name" "$(grep -o 'Requests/sec: *[0-9.]*' "$work/$name.wrk" || echo 'no result')")  RSS $(rss_mib) MiB, other CPU ${other} %"
}
phases=()
phase_begin() { snap_status "$work/phase_$1.status_before"; phases+=("\"$1\""); }
phase_end() { snap_status "$work/phase_$1.status_after"; }

# --- quiet server: seeding, request generation, the matrix ---
t0=$SECONDS
start_server "$work/server_quiet.log" --quiet
seed_s=$((SECONDS - t0))
say "server up at $url in ${seed_s}s ($(grep -o 'added [0-9]* offers' "$work/server.out" || echo 'no demo offer added'))"
active=$(curl -sf "$url/metrics" | sed -n 's/^covoit_active_offers //p')
[ "$active" -ge "$offers" ] || die "only $active active offers, wanted $offers"
snap_status "$work/server_start.status"

say "drawing and checking $pairs route pairs and $searches searches (warm-up)"
$py "$helper" gen "$url" "$work" --bbox "$bbox" --pairs "$pairs" --searches "$searches" --seed "$seed" >/dev/null

phase_begin route
for c in $conns; do
    for ka in 1 0; do
        cell "route_c${c}_ka${ka}" route route.txt "$c" "$ka"
    done
done
cell "routefull_c16_ka1" route_full route_full.txt 16 1
phase_end route

phase_begin match
for c in $conns; do
    for ka in 1 0; do
        cell "search_c${c}_ka${ka}" search search.txt "$c" "$ka"
    done
done
phase_end match

# what 256 connections from a single address get: the server's per-address limit is 64
phase_begin oneaddr
cell "route_c256_ka1_oneaddr" route route.txt 256 1 diagnostic \
    "256 connections from ONE source address: the per-address limit (64) refuses the rest"
phase_end oneaddr

if [ "$perf" = 1 ]; then
    mkdir -p "$(dirname "$out")"
    for ep in route search; do
        say "perf record -g on the server during $ep, 16 keep-alive connections"
        perf record -g -o "$work/perf_$ep.data" -p "$server_pid" -- sleep "$duration" >/dev/null 2>&1 &
        perf_pid=$!
        run_wrk "perf_$ep" "$ep.txt" 16 1 "$duration"
        wait "$perf_pid" || true
        {
            echo "# perf record -g -p SERVER during wrk -t$wrk_threads -c16 ${duration}s ($ep, keep-alive); perf report --no-children"
            grep -o 'Requests/sec: *[0-9.]*' "$work/perf_$ep.wrk" || true
            echo "## by shared object"
            perf report -i "$work/perf_$ep.data" --no-children --stdio --sort dso -g none 2>/dev/null |
                grep -v '^#' | grep -v '^$' | head -15 || true
            echo "## by symbol"
            perf report -i "$work/perf_$ep.data" --no-children --stdio --sort dso,sym -g none 2>/dev/null |
                grep -v '^#' | grep -v '^$' | head -60 || true
        } >"$(dirname "$out")/server_perf_$ep.txt"
    done
fi

soak_json=""
if [ "$soak" -gt 0 ]; then
    phase_begin soak
    secs=$((soak * 60))
    say "soak: ${soak} min of mixed load (10 routes : 1 search), 16 keep-alive + 4 close connections"
    snap_metrics "$work/soak.metrics_before"
    soak_cpu0=$(cpu_snap)
    LD_PRELOAD="$shim" COVOIT_SRC_ADDRS=1 \
        wrk -t1 -c16 -d"${secs}s" --timeout 10s -s "$lua" "$url" -- "$work/mixed.txt" >"$work/soak_ka.wrk" 2>&1 &
    bg_pids+=($!)
    LD_PRELOAD="$shim" COVOIT_SRC_ADDRS=1 \
        wrk -t1 -c4 -d"${secs}s" --timeout 10s -s "$lua" "$url" -- "$work/mixed.txt" close \
        >"$work/soak_close.wrk" 2>&1 &
    bg_pids+=($!)
    : >"$work/soak_samples.tsv"
    ts=$SECONDS
    while :; do
        el=$((SECONDS - ts))
        kill -0 "$server_pid" 2>/dev/null || die "the server died during the soak"
        awk -v t="$el" '/^VmRSS/ {r=$2} /^RssAnon/ {a=$2} /^VmHWM/ {h=$2} END {print t, r, a, h}' \
            "/proc/$server_pid/status" >>"$work/soak_samples.tsv"
        say "soak t=${el}s RSS $(rss_mib) MiB"
        [ "$el" -lt "$secs" ] || break
        next=$(((el / 30 + 1) * 30))
        [ "$next" -le "$secs" ] || next=$secs
        sleep $((next - el))
    done
    wait "${bg_pids[@]}" || true
    bg_pids=()
    echo "$soak_cpu0 $(cpu_snap)" | awk '{print $5 - $2, $4 - $1, $6 - $3}' >"$work/soak.cpu"
    sleep 1
    snap_metrics "$work/soak.metrics_after"
    phase_end soak
    soak_json=$(printf '{"minutes":%d,"load":"wrk -t1 -c16 keep-alive and wrk -t1 -c4 Connection: close, each cycling through mixed.txt (per search: 8 routes overview=false, 2 routes overview=full polyline, 1 POST /v1/search), for the whole soak; VmRSS, RssAnon and VmHWM of the server sampled every 30 s","wrk":["soak_ka","soak_close"]}' "$soak")
fi
snap_status "$work/server_end_quiet.status"
stop_server

# --- server-side latency: a second run without --quiet, one logfmt line (with dur_ms) per request ---
say "server-side latency: non-quiet server, $log_reps runs of ${log_duration}s each"
start_server "$work/server_logged.log"
logged=()
logged_run() { # NAME ENDPOINT FILE CONNS: --log-reps runs of --log-duration seconds, each after 1 s of warm-up
    local name=$1 ep=$2 file=$3 c=$4 rep start end
    for rep in $(seq 1 "$log_reps"); do
        wait_quiet
        run_wrk "${name}_r$rep" "$file" "$c" 1 1 >/dev/null # warm-up, not counted
        sleep 0.5
        start=$(stat -c %s "$work/server_logged.log")
        run_wrk "${name}_r$rep" "$file" "$c" 1 "$log_duration"
        sleep 0.5
        end=$(stat -c %s "$work/server_logged.log")
        logged+=("$(printf '{"name":"%s","endpoint":"%s","conns":%d,"keepalive":true,"rep":%d,"start":%d,"end":%d}' \
            "${name}_r$rep" "$ep" "$c" "$rep" "$start" "$end")")
    done
}
logged_run logged_route_c1 route route.txt 1
logged_run logged_route_c16 route route.txt 16
logged_run logged_search_c1 search search.txt 1
logged_run logged_search_c16 search search.txt 16
stop_server

# --- report ---
join() { local IFS=,; echo "$*"; }
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
mhd=$(dpkg-query -W -f='${Version}' libmicrohttpd12 2>/dev/null || echo unknown)
cat >"$work/manifest.json" <<EOF
{"environment": {"date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "cpu": "$cpu", "cores": $(nproc),
  "kernel": "$(uname -sr)", "commit": "$commit", "build_type": "$build_type", "graph": "$(basename "$graph")",
  "wrk": "$(wrk --version 2>&1 | head -1 | awk '{print $1, $2}')", "libmicrohttpd": "$mhd",
  "server_threads": $server_threads, "wrk_threads": $wrk_threads, "duration_s": $duration,
  "logged_run_s": $log_duration, "logged_reps": $log_reps, "retries": $retries, "quiet_wait_s": $quiet_wait, "clk_tck": $(getconf CLK_TCK), "loadavg_at_end": "$(cut -d' ' -f1-3 /proc/loadavg)", "seed": $seed, "server_start_s": $seed_s,
  "shared_cores": "wrk and the server run on the same $(nproc) cores: every figure is the server with wrk taking part of the CPU"},
 "offers": $offers,
 "method": {
  "server": "covoit serve --graph $(basename "$graph") --db (fresh) --tz Europe/Lisbon --listen 127.0.0.1:0 --threads $server_threads --demo-trips $offers --hub-labels-mb $labels_mb --quiet",
  "load": "wrk $(wrk --version 2>&1 | head -1 | awk '{print $2}') with bench/wrk/requests.lua: -t$wrk_threads (capped at the connection count), -d${duration}s, --timeout 10s; latencies are wrk's, client side (from writing a request to reading its answer; a new connection's connect time is not in them)",
  "keepalive_off": "every request carries Connection: close, so each request is a new TCP connection",
  "source_addresses": "LD_PRELOAD bench_srcaddr spreads connections over 127.0.0.2.. (32 per address at most) so that 256 connections stay under the server's per-address limit of 64; the oneaddr cell shows what one address gets",
  "route": "GET /route/v1/driving/A;B?overview=false, $pairs pairs of uniform random points of the graph box snapped by /nearest, kept when the route answers 200; route_full: the same pairs with overview=full&geometries=polyline",
  "search": "POST /v1/search (default limit, 100 matches at most), $searches bodies: half along a demo offer's route (pickup at 20-40 %, drop-off at 60-80 %, +-30 m, departure +0-10 min), half between random network points >= 2 km apart with a demo offer's departure +-10 min; each answered 200 in the warm-up",
  "server_latency": "server-side: a second server run without --quiet, $log_reps runs of ${log_duration}s per endpoint and connection count, each after 1 s of warm-up; exact percentiles of the dur_ms of every logged 2xx request (time from the request's headers to its answer queued, 0.01 ms resolution); per cell, the /metrics histogram delta gives the server's mean and bucket bounds",
  "memory": "VmRSS, RssAnon, VmHWM from /proc/PID/status before and after each cell and phase (VmRSS includes the mapped graph file)"},
 "cells": [$(join "${cells[@]}")],
 "phases": [$(join "${phases[@]}")],
 "logged_runs": [$(join "${logged[@]}")],
 "soak": ${soak_json:-null}}
EOF
mkdir -p "$(dirname "$out")"
$py "$helper" report "$work" "$out"
