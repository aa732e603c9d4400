#!/usr/bin/env bash
# Does compaction stall the shard? A fixed-rate QoS 1 load to persistent
# sessions (PAIRS pairs × RATE msg/s each) runs against a broker that holds
# SESSIONS offline sessions × MSGS queued messages, once with compaction
# every time the segment passes 1 MiB (the big state is snapshotted again
# and again while the load runs) and once with compaction out of the way;
# prints p50/p99/max of both runs and how many compactions ran.
#
#   scripts/compaction_p99.sh [DURATION_SECS]    (default 10)
#   env: SESSIONS (1000) MSGS (1000) PAIRS (10) RATE (2000) FSYNC (interval)
#
# One shard pinned to CPU 1, the load generator to CPU 0; loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-10}
sessions=${SESSIONS:-1000}
msgs=${MSGS:-1000}
pairs=${PAIRS:-10}
rate=${RATE:-2000}
port=${PORT:-18965}
mport=$((port + 1))
bin=target/release/shardmq
bench=target/release/shardmq-bench
d=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$d"' EXIT

run() { # compact_min_bytes label
    rm -rf "$d/data"
    printf '[persistence]\ndir = "%s/data"\nfsync = "%s"\ncompact_min_bytes = %s\n[limits]\nmax_queued_messages = %d\n' \
        "$d" "${FSYNC:-interval}" "$1" "$msgs" >"$d/c.toml"
    taskset -c 1 "$bin" --listen 127.0.0.1:$port --metrics-listen 127.0.0.1:$mport --shards 1 \
        --config "$d/c.toml" >"$d/log" 2>&1 &
    local pid=$!
    sleep 1
    "$bench" sub -n "$sessions" --port $port --clean-session false --client-id "cp-%i" \
        --topic cp/t --qos 1 --duration 2 --drain 0 --conn-rate 20000 >/dev/null 2>&1 || true
    seq "$msgs" | timeout 120 mosquitto_pub -h 127.0.0.1 -p $port -q 1 -t cp/t -l
    local before
    before=$(curl -s "127.0.0.1:$mport/metrics" | awk '/^shardmq_compactions_total/ {print $2}')
    printf '%-22s ' "$2"
    taskset -c 0 "$bench" p2p --port $port --qos 1 --pairs "$pairs" --rate "$rate" \
        --clean-session false --duration "$dur" --warmup 1 2>"$d/bench.err" | tee "$d/bench.out" | grep -E '^(throughput|latency)' | tr '\n' ' '
    sleep 1.1
    local after
    after=$(curl -s "127.0.0.1:$mport/metrics" | awk '/^shardmq_compactions_total/ {print $2}')
    echo " compactions during the run: $((after - before))"
    grep -qE "^result +OK" "$d/bench.out" || { echo "run failed:"; cat "$d/bench.out" "$d/bench.err"; }
    kill $pid
    wait $pid 2>/dev/null || true
}

run 1048576 "compacting"
run 100000000000 "not compacting"
