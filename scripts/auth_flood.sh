#!/usr/bin/env bash
# Does a CONNECT flood with wrong passwords hurt other clients? A steady
# QoS 0 stream (shardmq-bench p2p, fixed rate) is measured once alone and
# once while scripts/auth_flood.py hammers the broker with CONNECTs whose
# argon2id password check fails. Target: the stream's p99 stays below 10 ms.
# Loopback only; every part stops by itself. Not a test: numbers go to
# docs/benchmarks.md.
#
# usage: scripts/auth_flood.sh     (after cargo build --release -p shardmq -p shardmq-bench)
# knobs: PORT, SHARDS, BROKER_CPUS, TOOL_CPU, PAIRS, RATE (msg/s per
#        publisher), DURATION (s), FLOOD_WORKERS, FLOOD_MAX
# By default (2 CPUs) the broker runs one shard on CPU 0, so its password
# checks compete only with that shard for CPU 0; the stream's clients and
# the flood run on CPU 1.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/shardmq
BENCH=target/release/shardmq-bench
PORT=${PORT:-19611}
SHARDS=${SHARDS:-1}
BROKER_CPUS=${BROKER_CPUS:-0}
TOOL_CPU=${TOOL_CPU:-1}
PAIRS=${PAIRS:-10}
RATE=${RATE:-1000}
DURATION=${DURATION:-20}
FLOOD_WORKERS=${FLOOD_WORKERS:-32}
FLOOD_MAX=${FLOOD_MAX:-100000}
for b in "$BIN" "$BENCH"; do
    [ -x "$b" ] || { echo "missing $b: cargo build --release -p shardmq -p shardmq-bench" >&2; exit 2; }
done

dir=$(mktemp -d)
broker=""
cleanup() {
    [ -n "$broker" ] && kill "$broker" 2>/dev/null && wait "$broker" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT

"$BIN" passwd -c -b "$dir/passwd" bench bench-pw
"$BIN" passwd -b "$dir/passwd" victim the-right-one
cat > "$dir/shardmq.toml" <<CONF
listen = "127.0.0.1:$PORT"
shards = $SHARDS
metrics_listen = "127.0.0.1:$((PORT + 1))"
log = "warn"
[auth]
allow_anonymous = false
password_file = "$dir/passwd"
CONF
taskset -c "$BROKER_CPUS" "$BIN" --config "$dir/shardmq.toml" > "$dir/broker.out" 2> "$dir/broker.err" &
broker=$!
for _ in $(seq 100); do grep -q "listening" "$dir/broker.out" && break; sleep 0.1; done
grep -q "listening" "$dir/broker.out" || { cat "$dir/broker.err"; exit 1; }

snap() { # file: the broker's metrics now
    curl -s "http://127.0.0.1:$((PORT + 1))/metrics" > "$dir/$1.prom"
}

# The broker's own publish-to-delivery histogram between two snapshots:
# the bucket bound under which 99 % of that phase's deliveries fall. Unlike
# the tool's figure it leaves out the tool's own scheduling on a busy box.
broker_p99() { # before after
    python3 - "$dir/$1.prom" "$dir/$2.prom" <<'PY'
import sys
def buckets(path):
    out = {}
    for line in open(path):
        if line.startswith("shardmq_publish_to_delivery_seconds_bucket{le="):
            le = line.split('"')[1]
            out[le] = float(line.split()[-1])
    return out
a, b = buckets(sys.argv[1]), buckets(sys.argv[2])
d = [(float("inf") if le == "+Inf" else float(le), b[le] - a.get(le, 0)) for le in b]
d.sort()
total = d[-1][1]
bound = next(le for le, n in d if n >= 0.99 * total)
print("          broker publish-to-delivery: p99 <= %g ms (%d deliveries)" % (bound * 1e3, total))
PY
}

stream() { # label
    snap "$1-before"
    "$BENCH" p2p --port "$PORT" --cpus "$TOOL_CPU" --pairs "$PAIRS" --rate "$RATE" --qos 0 \
        --warmup 2 --duration "$DURATION" --username bench --password bench-pw \
        --json -q > "$dir/$1.json" || true
    python3 - "$dir/$1.json" "$1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
l, c = s["latency_us"], s["connections"]
print("%-9s %6.0f msg/s   latency µs: p50 %d  p99 %d  p99.9 %d  max %d   CONNACK p99 %s µs   lost %d"
      % (sys.argv[2], s["throughput"]["out_msgs_per_s"], l["p50"], l["p99"], l["p999"], l["max"],
         (c["connack_us"] or {}).get("p99"), s["messages"]["lost"]))
PY
    sleep 1.2 # shards post their numbers once a second
    snap "$1-after"
    broker_p99 "$1-before" "$1-after"
}

metric() { # name
    curl -s "http://127.0.0.1:$((PORT + 1))/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "stream: $PAIRS pairs x $RATE msg/s QoS 0, ${DURATION} s, on CPU $TOOL_CPU; broker: $SHARDS shard(s) on CPU $BROKER_CPUS"
stream alone
taskset -c "$TOOL_CPU" python3 scripts/auth_flood.py "$PORT" victim "$FLOOD_WORKERS" "$FLOOD_MAX" $((DURATION + 6)) &
flood=$!
sleep 2
stream flooded
wait "$flood"
sleep 1.2 # shards post their counters once a second
for m in shardmq_auth_verifications_total shardmq_auth_cache_hits_total \
         shardmq_auth_slot_waits_total shardmq_auth_slot_timeouts_total; do
    echo "$m $(metric $m)"
done
echo "refused bad_credentials: $(metric 'shardmq_connections_refused_total{reason="bad_credentials"}')"
