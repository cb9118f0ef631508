#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# bench/failover.sh — covoit's failover, on 127.0.0.1 only: a three-member etcd, three PostgreSQL nodes managed by
# Patroni with synchronous replication (synchronous_mode), and two `covoit serve` processes on that database through
# a multi-host URI (target_session_attrs=read-write). Booking load goes through both servers (bench/failover_load.py:
# offers, requests, bookings, acceptances, each failed step retried); beside it a plain client writes one row at a
# time with psql. Then the primary's node dies (kill -9 of its Patroni and its postmaster: the machine is gone), and
# the script measures, for the bookings and for the plain writes: the time until writes succeed again, the requests
# that failed meanwhile (each must be a 503 with a JSON body and Retry-After), and the acknowledged acceptances and
# writes the new primary lacks (must be 0). Prints its figures; exit 1 when an acknowledged write was lost or a
# failure was not a clear 503, 77 (skipped) when a package is missing.
#
# Needs Debian's postgresql, patroni and etcd-server (apt-get install postgresql patroni etcd-server), and a built
# covoit (COVOIT_BIN, else build/covoit). Usage: bench/failover.sh [SECONDS_OF_LOAD]
set -euo pipefail
load_s=${1:-30}
here=$(cd "$(dirname "$0")" && pwd)
covoit=${COVOIT_BIN:-$here/../build/covoit}
[ -x "$covoit" ] || { echo "failover: no covoit binary at $covoit (build it, or set COVOIT_BIN)" >&2; exit 1; }
for c in patroni etcd psql; do # (77: ctest's "skipped", for the slow-labelled test)
    command -v $c >/dev/null || { echo "SKIP failover: $c is missing (apt-get install postgresql patroni etcd-server)"; exit 77; }
done
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
dir=$(mktemp -d /tmp/covoit-failover-XXXXXX)
as=""
if [ "$(id -u)" = 0 ]; then
    chown postgres: "$dir"
    as="runuser -u postgres --"
fi
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    pkill -9 -f "$dir" 2>/dev/null || true
    sleep 0.5
    rm -rf "$dir"
}
trap cleanup EXIT

# --- etcd: three members ---
cluster="e1=http://127.0.0.1:23801,e2=http://127.0.0.1:23802,e3=http://127.0.0.1:23803"
for i in 1 2 3; do
    etcd --name e$i --data-dir "$dir/etcd$i" --listen-client-urls http://127.0.0.1:2379$i \
        --advertise-client-urls http://127.0.0.1:2379$i --listen-peer-urls http://127.0.0.1:2380$i \
        --initial-advertise-peer-urls http://127.0.0.1:2380$i --initial-cluster "$cluster" \
        --initial-cluster-state new --initial-cluster-token covoit-failover >"$dir/etcd$i.log" 2>&1 &
    pids+=($!)
    disown
done
for i in $(seq 1 50); do
    curl -sf http://127.0.0.1:23791/health | grep -q true && break
    sleep 0.2
done
curl -sf http://127.0.0.1:23791/health | grep -q true || { echo "failover: etcd did not start" >&2; exit 1; }

# --- three PostgreSQL nodes under Patroni ---
for i in 1 2 3; do
    cat >"$dir/pg$i.yml" <<EOF
scope: covoit
name: pg$i
restapi:
  listen: 127.0.0.1:1800$i
  connect_address: 127.0.0.1:1800$i
etcd3:
  hosts: 127.0.0.1:23791,127.0.0.1:23792,127.0.0.1:23793
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 1
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        wal_log_hints: "on"
  initdb:
    - encoding: UTF8
  pg_hba:
    - host replication replicator 127.0.0.1/32 trust
    - host all all 127.0.0.1/32 trust
    - local all all trust
postgresql:
  listen: 127.0.0.1:5432$i
  connect_address: 127.0.0.1:5432$i
  data_dir: $dir/pg$i
  bin_dir: $bin
  pgpass: $dir/pgpass$i
  authentication:
    superuser: {username: postgres, password: covoit}
    replication: {username: replicator, password: covoit}
  parameters:
    unix_socket_directories: $dir
tags: {}
EOF
    [ -n "$as" ] && chown postgres: "$dir/pg$i.yml"
    $as patroni "$dir/pg$i.yml" >"$dir/patroni$i.log" 2>&1 &
    pids+=($!)
    disown
    sleep 1
done
uri="postgresql://postgres@127.0.0.1:54321,127.0.0.1:54322,127.0.0.1:54323/postgres?target_session_attrs=read-write&connect_timeout=1"
# the cluster as any living member's REST API tells it
cluster() { for p in 18001 18002 18003; do curl -sf --max-time 1 http://127.0.0.1:$p/cluster && return; done; }
leader() { cluster | python3 -c "import sys,json;print([m['name'] for m in json.load(sys.stdin)['members'] if m['role']=='leader'][0])" 2>/dev/null || true; }
for i in $(seq 1 120); do
    sync=$(cluster | python3 -c "import sys,json;print(sum(m['role']=='sync_standby' for m in json.load(sys.stdin)['members']))" 2>/dev/null || echo 0)
    [ -n "$(leader)" ] && [ "$sync" -ge 1 ] && psql "$uri" -qAtc "SELECT 1" >/dev/null 2>&1 && break
    sleep 0.5
done
first=$(leader)
[ -n "$first" ] || { echo "failover: no leader elected" >&2; tail -5 "$dir"/patroni*.log >&2; exit 1; }
echo "cluster up: leader $first, a synchronous standby, $(cluster | python3 -c "import sys,json;print(len(json.load(sys.stdin)['members']))") members"
psql "$uri" -qAtc "CREATE TABLE acks (n BIGINT PRIMARY KEY, at TIMESTAMPTZ DEFAULT now())" >/dev/null
psql "$uri" -qAtc "CREATE DATABASE covoit" >/dev/null

# --- two covoit servers on that database, a graph of Monaco ---
curi="postgresql://postgres@127.0.0.1:54321,127.0.0.1:54322,127.0.0.1:54323/covoit?target_session_attrs=read-write&connect_timeout=1"
"$covoit" import "$here/../tests/data/monaco.osm.pbf" -o "$dir/monaco.cvg" >"$dir/import.log" 2>&1
ports=()
for i in 1 2; do
    port=$((18080 + i))
    "$covoit" serve --graph "$dir/monaco.cvg" --db "$curi" --listen 127.0.0.1:$port --threads 4 --tz UTC \
        >"$dir/covoit$i.log" 2>&1 &
    pids+=($!)
    disown
    ports+=($port)
done
for port in "${ports[@]}"; do
    for i in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
        sleep 0.1
    done
    curl -sf "http://127.0.0.1:$port/health" >/dev/null || { echo "failover: covoit on $port did not start" >&2; tail -5 "$dir"/covoit*.log >&2; exit 1; }
done
echo "two covoit servers on ports ${ports[*]}, one database through $(echo "$curi" | sed 's/?.*//')"
python3 "$here/failover_load.py" "${ports[0]}" "${ports[1]}" "$load_s" "$dir/killed_at" "$dir/load.json" 4 &
loader=$!

# --- the load: one write at a time, each acknowledged one recorded; the primary's node dies a third of the way ---
: >"$dir/acked"
: >"$dir/failed"
now_ms() { date +%s%3N; }
start=$(now_ms)
kill_at=$((start + load_s * 1000 / 3))
killed=0 killed_ms=0 back_ms=0 n=0
while [ $(($(now_ms) - start)) -lt $((load_s * 1000)) ]; do
    n=$((n + 1))
    if [ $killed = 0 ] && [ "$(now_ms)" -ge $kill_at ]; then
        victim=${first#pg}
        pm=$(head -1 "$dir/pg$victim/postmaster.pid" 2>/dev/null || true)
        # the node dies whole: its Patroni (and the runuser above it) and its postmaster, children included
        pkill -9 -f "patroni $dir/pg$victim.yml" || true
        kill -9 $pm 2>/dev/null || true
        pkill -9 -f -- "-D $dir/pg$victim" || true
        killed=1 killed_ms=$(now_ms)
        echo "$killed_ms" >"$dir/killed_at"
        echo "killed the primary's node $first (Patroni and postmaster $pm) at +$((killed_ms - start)) ms"
    fi
    if psql "$uri" -qAtc "INSERT INTO acks (n) VALUES ($n) RETURNING n" >/dev/null 2>>"$dir/errors"; then
        echo $n >>"$dir/acked"
        [ $killed = 1 ] && [ $back_ms = 0 ] && back_ms=$(now_ms)
    else
        echo $n >>"$dir/failed"
        sleep 0.05
    fi
done
for i in $(seq 1 20); do # the cluster's view settles
    second=$(leader)
    [ -n "$second" ] && [ "$second" != "$first" ] && break
    sleep 0.5
done
acked=$(wc -l <"$dir/acked")
failed=$(wc -l <"$dir/failed")
# every acknowledged write, on the new primary
psql "$uri" -qAtc "SELECT n FROM acks ORDER BY n" >"$dir/present"
lost=$(comm -23 <(sort "$dir/acked") <(sort "$dir/present") | wc -l)
echo "new leader: $second"
echo "writes: $acked acknowledged, $failed failed during the failover ($(sort -u "$dir/errors" | sed -E 's/^psql: error: //' | cut -c1-110 | sort | uniq -c | sort -rn | head -2 | tr '\n' ';'))"
if [ $back_ms -gt 0 ]; then
    echo "writes succeeded again $((back_ms - killed_ms)) ms after the primary's node died"
else
    echo "writes did not succeed again within the run"
fi
echo "acknowledged writes lost: $lost"

# --- the bookings through the two covoit servers ---
wait $loader
psql "$curi" -qAtc "SELECT id FROM bookings WHERE status = 1 ORDER BY id" >"$dir/accepted_present"
read -r b_acked b_before b_back b_failed b_unclear b_requests b_by <<<"$(python3 -c "
import json; d = json.load(open('$dir/load.json'))
print(len(d['accepted']), d['accepted_before_kill'], d['back_after_ms'], d['failed'], d['failed_unclear'],
      d['requests'], json.dumps(d['failed_by_status'], separators=(',', ':')))")"
python3 -c "import json; print('\n'.join(str(i) for i in json.load(open('$dir/load.json'))['accepted']))" >"$dir/accepted_acked"
b_lost=$(comm -23 <(sort "$dir/accepted_acked") <(sort "$dir/accepted_present") | wc -l)
echo "bookings: $b_requests requests through the two servers, $b_acked acceptances acknowledged ($b_before before the kill)"
echo "bookings: $b_failed requests failed during the failover $b_by, each retried; not a 503 with a JSON body and Retry-After: $b_unclear"
echo "bookings: writes succeeded again $b_back ms after the primary's node died"
echo "acknowledged bookings lost: $b_lost"
for i in 1 2; do grep -c "status=503" "$dir/covoit$i.log" | sed "s/^/covoit server $i logged 503s: /"; done
[ "$lost" = 0 ] && [ $back_ms -gt 0 ] && [ "$second" != "$first" ] && [ "$b_lost" = 0 ] && [ "$b_unclear" = 0 ] &&
    [ "$b_back" != None ] && [ "$b_acked" -gt "$b_before" ]
