#!/usr/bin/env bash
# Same shardmq-bench scenarios against shardmq and Mosquitto, one after the
# other, broker pinned to one CPU and the load generator to another; prints a
# markdown table with the ratio. Loopback only; every run is bounded.
#
# usage: scripts/compare.sh [DURATION_SECS]      (default 5)
# env:   BROKER_CPU (default 1), TOOL_CPU (default 0), PORT (default 18850),
#        WINDOW / QUEUE: set the same QoS 1/2 in-flight window and session
#        queue bound on both brokers (default: each broker's defaults, 20/1000)
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-5}
bcpu=${BROKER_CPU:-1}
tcpu=${TOOL_CPU:-0}
port=${PORT:-18850}
command -v mosquitto >/dev/null || { echo "needs mosquitto: apt-get install mosquitto" >&2; exit 2; }
cargo build --release -q -p shardmq -p shardmq-bench
bench=./target/release/shardmq-bench

conf=$(mktemp -d)
trap 'rm -rf "$conf"' EXIT
: >"$conf/shardmq.toml"
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" >"$conf/mosquitto.conf"
if [ -n "${WINDOW:-}${QUEUE:-}" ]; then
    printf '[limits]\nmax_inflight = %s\nmax_queued_messages = %s\n' "${WINDOW:-20}" "${QUEUE:-1000}" >"$conf/shardmq.toml"
    printf 'max_inflight_messages %s\nmax_queued_messages %s\n' "${WINDOW:-20}" "${QUEUE:-1000}" >>"$conf/mosquitto.conf"
fi

start_broker() { # name
    if [ "$1" = shardmq ]; then
        taskset -c "$bcpu" ./target/release/shardmq --listen 127.0.0.1:$port --shards 1 \
            --config "$conf/shardmq.toml" >/dev/null 2>&1 &
    else
        taskset -c "$bcpu" mosquitto -c "$conf/mosquitto.conf" >/dev/null 2>&1 &
    fi
    broker_pid=$!
    sleep 1
}

stop_broker() {
    kill "$broker_pid" 2>/dev/null || true
    wait "$broker_pid" 2>/dev/null || true
    sleep 1
}

# One run; prints "out_msgs_per_s p50_us p99_us lost".
run() { # broker scenario args...
    local b=$1
    shift
    start_broker "$b"
    local json
    json=$("$bench" "$@" --port $port --cpus "$tcpu" --payload 24 --duration "$dur" -q --json 2>/dev/null | tail -1) || true
    stop_broker
    python3 -c '
import json, sys
try:
    d = json.loads(sys.argv[1])
    t, l, m = d["throughput"], d["latency_us"], d["messages"]
    print("%.0f %s %s %s" % (t["out_msgs_per_s"], l["p50"], l["p99"], m["lost"]))
except Exception:
    print("0 - - -")
' "$json"
}

row() { # label scenario args...
    local label=$1
    shift
    read -r s_out s_p50 s_p99 s_lost < <(run shardmq "$@")
    read -r m_out m_p50 m_p99 m_lost < <(run mosquitto "$@")
    local ratio
    ratio=$(python3 -c "print(f'{$s_out / max($m_out, 1):.2f}')")
    echo "| $label | $s_out | $s_p50 / $s_p99 | $s_lost | $m_out | $m_p50 / $m_p99 | $m_lost | **${ratio}×** |"
}

echo "Window ${WINDOW:-default}, queue ${QUEUE:-default}."
echo "| scenario ($dur s, 24 B payload) | shardmq msg/s out | p50 / p99 µs | lost | Mosquitto msg/s out | p50 / p99 µs | lost | ratio |"
echo "|---|---|---|---|---|---|---|---|"
row "fanin 10→1 QoS 0" fanin --qos 0
row "fanin 10→1 QoS 1" fanin --qos 1
row "p2p 10 pairs QoS 0" p2p --qos 0
row "p2p 10 pairs QoS 1" p2p --qos 1
row "fanout 1→10 QoS 0" fanout --qos 0
