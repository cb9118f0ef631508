#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# bench/fuzz.sh [--seconds S] [--build DIR] [--work DIR] [--max-crashes N] [TARGET...]
#
# The long fuzz run: each libFuzzer target of tests/fuzz (all of them by default) for S seconds (3600), one after
# the other and under `nice -n 19`, so that one core at most is taken on a shared machine. Each target keeps a
# working corpus in WORK/corpus/TARGET (default WORK: /var/tmp/covoit-fuzz, outside the repository), which grows
# from run to run and starts from the committed seeds; crashes go to WORK/crashes/, logs to WORK/logs/. After a
# crash the target starts again for the time left (at most --max-crashes times, 5). Prints per target at the end:
# seconds run, executions, exec/s, coverage (cov: edges, ft: features), corpus size and crashes.
# Exit status 1 when any target crashed. See bench/README.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
seconds=3600
build="$root/build-fuzz"
work="${COVOIT_FUZZ_WORK:-/var/tmp/covoit-fuzz}"
max_crashes=5
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --max-crashes) max_crashes=$2; shift 2 ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
    esac
done
all=(fuzz_http_raw fuzz_http_api fuzz_http_auth fuzz_graph fuzz_osm_xml fuzz_osm_pbf fuzz_config fuzz_population)
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

# the same flags as the short runs of tests/fuzz/CMakeLists.txt
dict_of() {
    case "$1" in
    fuzz_http_raw | fuzz_http_api | fuzz_http_auth) echo http ;;
    fuzz_osm_xml) echo osm_xml ;;
    fuzz_config) echo config ;;
    fuzz_population) echo population ;;
    esac
}
quiet_of() {
    case "$1" in
    fuzz_http_raw | fuzz_http_api | fuzz_http_auth | fuzz_config | fuzz_population) echo -close_fd_mask=2 ;;
    esac
}

# nice ranks processes only within their autogroup (a session, with the kernel's autogroups on), so niced fuzzers
# still take their session's fair share of the cores. Run in a session of its own (setsid bash bench/fuzz.sh ...),
# the script lowers its whole group instead and yields the cores to everything else; never a terminal's session,
# which it would slow down too.
if [ -w /proc/self/autogroup ] && [ "$(ps -o sid= -p $$ | tr -d ' ')" = "$$" ]; then
    echo 19 >/proc/self/autogroup 2>/dev/null || true
fi

if [ ! -f "$build/CMakeCache.txt" ]; then
    CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOVOIT_FUZZ=ON \
        -DCOVOIT_TESTS=OFF >/dev/null
fi
nice -n 19 cmake --build "$build" --target fuzz -j2 >&2
mkdir -p "$work/crashes" "$work/logs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

summary=()
failed=0
for t in "${targets[@]}"; do
    bin="$build/tests/fuzz/$t"
    [ -x "$bin" ] || { echo "fuzz.sh: no target $t in $build" >&2; exit 2; }
    mkdir -p "$work/corpus/$t"
    log="$work/logs/$t.log"
    : >"$log"
    args=(-timeout=60 -rss_limit_mb=2560 -print_final_stats=1 "-artifact_prefix=$work/crashes/$t-")
    d=$(dict_of "$t")
    [ -n "$d" ] && args+=("-dict=$root/tests/fuzz/$d.dict")
    q=$(quiet_of "$t")
    [ -n "$q" ] && args+=("$q")
    start=$(date +%s)
    crashes=0 execs=0
    echo "fuzz.sh: $t for $seconds s, log $log" >&2
    while :; do
        left=$((seconds - ($(date +%s) - start)))
        [ "$left" -gt 0 ] || break
        rc=0
        nice -n 19 "$bin" -max_total_time="$left" "${args[@]}" "$work/corpus/$t" "$root/tests/fuzz/corpus/$t" \
            >>"$log" 2>&1 || rc=$?
        n=$(grep -a 'stat::number_of_executed_units' "$log" | tail -1 | awk '{print $2}')
        execs=$((execs + ${n:-0}))
        [ "$rc" -eq 0 ] && break
        crashes=$((crashes + 1))
        echo "fuzz.sh: $t stopped (status $rc), crash $crashes; see $log" >&2
        [ "$crashes" -lt "$max_crashes" ] || break
    done
    took=$(($(date +%s) - start))
    last=$(grep -a -E '^#[0-9]+.*cov: ' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' <<<"$last")
    [ "$crashes" -eq 0 ] || failed=1
    summary+=("$(printf '%-14s %7s %10s %8s %6s %7s %12s %7s' "$t" "$took" "$execs" \
        "$((execs / (took > 0 ? took : 1)))" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes")")
done

printf '%-14s %7s %10s %8s %6s %7s %12s %7s\n' target seconds execs exec/s cov ft corpus crashes
printf '%s\n' "${summary[@]}"
ls "$work/crashes" 2>/dev/null | sed 's|^|crash file: '"$work"'/crashes/|' || true
exit $failed
