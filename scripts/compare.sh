#!/usr/bin/env bash
# Same shardmq-bench scenarios against shardmq and Mosquitto, one after the
# other, broker pinned to one CPU and the load generator to another; prints a
# markdown table with the ratio. Loopback only; every run is bounded.
#
# usage: scripts/compare.sh [DURATION_SECS]      (default 5)
# env:   PAYLOAD bytes (default 16, the tool's minimum), REPEAT runs per
#        cell (default 3; the table shows the median run and the min–max of
#        msg/s), BROKER_CPU (default 1), TOOL_CPU (default 0), PORT (default 18850),
#        WINDOW / QUEUE: set the same QoS 1/2 in-flight window and session
#        queue bound on both brokers (default: each broker's defaults, 20/1000),
#        SHARDMQ / BENCH: binaries to use instead of building target/release
#        (to compare two builds), OTHER=shardmq:PATH to put a second shardmq
#        binary in Mosquitto's column (a before/after run on the same machine),
#        MQTT protocol version for every client (3.1.1 default, 3.1 or 5),
#        ALIAS=1 with MQTT=5: publishers use topic aliases (--topic-alias),
#        ROWS: a subset of the rows (fanin0 fanin1 p2p0 p2p1 fanout0)
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-5}
payload=${PAYLOAD:-16}
repeat=${REPEAT:-3}
bcpu=${BROKER_CPU:-1}
tcpu=${TOOL_CPU:-0}
port=${PORT:-18850}
if [ -z "${SHARDMQ:-}" ] || [ -z "${BENCH:-}" ]; then
    cargo build --release -q -p shardmq -p shardmq-bench
fi
shardmq=${SHARDMQ:-./target/release/shardmq}
bench=${BENCH:-./target/release/shardmq-bench}
other=${OTHER:-mosquitto}
mqtt=${MQTT:-3.1.1}
proto_args=(--mqtt-version "$mqtt")
[ -z "${ALIAS:-}" ] || proto_args+=(--topic-alias)

conf=$(mktemp -d)
trap 'rm -rf "$conf"' EXIT
: >"$conf/shardmq.toml"
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" >"$conf/mosquitto.conf"
if [ -n "${WINDOW:-}${QUEUE:-}" ]; then
    printf '[limits]\nmax_inflight = %s\nmax_queued_messages = %s\n' "${WINDOW:-20}" "${QUEUE:-1000}" >"$conf/shardmq.toml"
    printf 'max_inflight_messages %s\nmax_queued_messages %s\n' "${WINDOW:-20}" "${QUEUE:-1000}" >>"$conf/mosquitto.conf"
fi

[ "$other" != mosquitto ] || command -v mosquitto >/dev/null \
    || { echo "needs mosquitto: apt-get install mosquitto" >&2; exit 2; }

start_broker() { # name
    if [ "$1" = shardmq ] || [ "${1%%:*}" = shardmq ]; then
        local bin=$shardmq
        [ "$1" = shardmq ] || bin=${1#shardmq:}
        taskset -c "$bcpu" "$bin" --listen 127.0.0.1:$port --shards 1 \
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
    json=$("$bench" "$@" "${proto_args[@]}" --port $port --cpus "$tcpu" --payload "$payload" --duration "$dur" -q --json 2>/dev/null | tail -1) || true
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

# REPEAT runs of one cell; prints "median_out min_out max_out p50 p99 lost"
# (latency and loss of the median run).
runs() { # broker scenario args...
    local i results=()
    for ((i = 0; i < repeat; i++)); do
        results+=("$(run "$@")")
    done
    python3 -c '
import sys
rs = sorted((float(r.split()[0]),) + tuple(r.split()[1:]) for r in sys.argv[1:])
out, p50, p99, lost = rs[len(rs) // 2]
print("%.0f %.0f %.0f %s %s %s" % (out, rs[0][0], rs[-1][0], p50, p99, lost))
' "${results[@]}"
}

# "3.23 M (3.10–3.30 M)": the median and, over several runs, the range.
rate() { # median min max
    python3 -c '
import sys
def f(v):
    v = float(v)
    return "%.2f M" % (v / 1e6) if v >= 1e6 else "%.1f k" % (v / 1e3) if v >= 1e3 else "%.0f" % v
med, lo, hi = sys.argv[1:4]
print(f(med) if int(sys.argv[4]) < 2 else "%s (%s–%s)" % (f(med), f(lo), f(hi)))
' "$1" "$2" "$3" "$repeat"
}

row() { # label scenario args...
    local label=$1
    shift
    read -r s_out s_lo s_hi s_p50 s_p99 s_lost < <(runs shardmq "$@")
    read -r m_out m_lo m_hi m_p50 m_p99 m_lost < <(runs "$other" "$@")
    local ratio
    ratio=$(python3 -c "print(f'{$s_out / max($m_out, 1):.2f}')")
    echo "| $label | $(rate "$s_out" "$s_lo" "$s_hi") | $s_p50 / $s_p99 | $s_lost | $(rate "$m_out" "$m_lo" "$m_hi") | $m_p50 / $m_p99 | $m_lost | **${ratio}×** |"
}

echo "MQTT $mqtt${ALIAS:+ with topic aliases}, window ${WINDOW:-default}, queue ${QUEUE:-default}; median of $repeat run(s), range in brackets."
other_name=Mosquitto
[ "$other" = mosquitto ] || other_name="${other#shardmq:}"
echo "| scenario ($dur s, $payload B payload) | shardmq msg/s out | p50 / p99 µs | lost | $other_name msg/s out | p50 / p99 µs | lost | ratio |"
echo "|---|---|---|---|---|---|---|---|"
# ROWS="fanin0 p2p1" runs only those rows (default: all).
want() { [ -z "${ROWS:-}" ] || [[ " $ROWS " == *" $1 "* ]]; }
want fanin0 && row "fanin 10→1 QoS 0" fanin --qos 0
want fanin1 && row "fanin 10→1 QoS 1" fanin --qos 1
want p2p0 && row "p2p 10 pairs QoS 0" p2p --qos 0
want p2p1 && row "p2p 10 pairs QoS 1" p2p --qos 1
want fanout0 && row "fanout 1→10 QoS 0" fanout --qos 0
true
