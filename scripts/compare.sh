#!/usr/bin/env bash
# Same shardmq-bench scenarios against shardmq and Mosquitto, one after the
# other, broker pinned to one CPU and the load generator to another; prints a
# markdown table with the ratio (and, per broker, messages lost and how long
# the tool's publishers were held back), and draws each row's median runs on one
# chart (latency percentiles and throughput over time, PLOTS/ROW.svg, with
# the runs' --json beside it). Loopback only; every run is bounded.
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
#        ROWS: a subset of the rows (fanin0 fanin1 p2p0 p2p1 fanout0, and
#        p2p1x100: 100 QoS 1 pairs, not run by default; handshake: new
#        connections per second, see HS_*); issue 12's back-pressure table
#        (lost must be 0) is ROWS="p2p1x100 fanin1",
#        TLS=1: every row over TLS 1.3 with the same throw-away certificates on
#        both brokers (scripts/tls_certs.sh; TLS_KEY=rsa, RSA 2048, by default,
#        or ec, ECDSA P-256); rows default to fanin0 p2p1 handshake,
#        HS_CONC handshakes in flight in the handshake row (default 64),
#        HS_BUDGET: shardmq's limits.tls_handshakes_per_second (default: the
#        broker's default; 0 lifts it to measure what one shard can do),
#        PLOTS: where the charts go (default target/compare; empty: none),
#        FSYNC=always|interval|never: durable rows: shardmq with [persistence]
#        and that fsync policy, Mosquitto with persistence on (a fresh data
#        directory per run), every client with clean session 0; FSYNC=off:
#        clean session 0, persistence off on both (the memory-only baseline)
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
other_name=Mosquitto
[ "$other" = mosquitto ] || other_name="${other#shardmq:}"
plots=${PLOTS-target/compare}
[ -z "$plots" ] || mkdir -p "$plots"
mqtt=${MQTT:-3.1.1}
proto_args=(--mqtt-version "$mqtt")
[ -z "${ALIAS:-}" ] || proto_args+=(--topic-alias)

conf=$(mktemp -d)
trap 'rm -rf "$conf"' EXIT
: >"$conf/shardmq.toml"
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" >"$conf/mosquitto.conf"
if [ -n "${WINDOW:-}${QUEUE:-}${HS_BUDGET:-}" ]; then
    echo '[limits]' >"$conf/shardmq.toml"
fi
if [ -n "${WINDOW:-}${QUEUE:-}" ]; then
    printf 'max_inflight = %s\nmax_queued_messages = %s\n' "${WINDOW:-20}" "${QUEUE:-1000}" >>"$conf/shardmq.toml"
    printf 'max_inflight_messages %s\nmax_queued_messages %s\n' "${WINDOW:-20}" "${QUEUE:-1000}" >>"$conf/mosquitto.conf"
fi
[ -z "${HS_BUDGET:-}" ] || echo "tls_handshakes_per_second = $HS_BUDGET" >>"$conf/shardmq.toml"
listen_args=(--listen "127.0.0.1:$port")
tls_args=()
if [ -n "${TLS:-}" ]; then
    command -v openssl >/dev/null || { echo "needs openssl: apt-get install openssl" >&2; exit 2; }
    scripts/tls_certs.sh "$conf/tls"
    # shardmq: the TLS listener is the only one. No cafile: it would ask
    # every client for a certificate; Mosquitto does not with cafile alone.
    listen_args=()
    printf '[[listeners]]\nbind = "127.0.0.1:%s"\ntransport = "tls"\ncertfile = "%s"\nkeyfile = "%s"\n' \
        "$port" "$conf/tls/server.pem" "$conf/tls/server.key" >>"$conf/shardmq.toml"
    # Mosquitto started as root reads the key after dropping to its own
    # user, which cannot enter this private directory: it stays root.
    printf 'certfile %s\nkeyfile %s\ncafile %s\nuser root\n' \
        "$conf/tls/server.pem" "$conf/tls/server.key" "$conf/tls/ca.pem" >>"$conf/mosquitto.conf"
    tls_args=(--tls --cafile "$conf/tls/ca.pem")
fi

if [ -n "${FSYNC:-}" ]; then
    proto_args+=(--clean-session false)
fi
if [ -n "${FSYNC:-}" ] && [ "$FSYNC" != off ]; then
    printf '[persistence]\ndir = "%s/sdata"\nfsync = "%s"\n' "$conf" "$FSYNC" >>"$conf/shardmq.toml"
    printf 'persistence true\npersistence_location %s/mdata/\nuser root\n' "$conf" >>"$conf/mosquitto.conf"
fi

[ "$other" != mosquitto ] || command -v mosquitto >/dev/null \
    || { echo "needs mosquitto: apt-get install mosquitto" >&2; exit 2; }

start_broker() { # name
    rm -rf "$conf/sdata" "$conf/mdata"
    mkdir -p "$conf/mdata"
    if [ "$1" = shardmq ] || [ "${1%%:*}" = shardmq ]; then
        local bin=$shardmq
        [ "$1" = shardmq ] || bin=${1#shardmq:}
        taskset -c "$bcpu" "$bin" "${listen_args[@]}" --shards 1 \
            --config "$conf/shardmq.toml" >/dev/null 2>&1 &
    else
        taskset -c "$bcpu" mosquitto -c "$conf/mosquitto.conf" >/dev/null 2>&1 &
    fi
    broker_pid=$!
    sleep 1
    # A busy machine may need longer: wait (5 s at most) until it listens.
    local i
    for ((i = 0; i < 50; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
}

stop_broker() {
    kill "$broker_pid" 2>/dev/null || true
    wait "$broker_pid" 2>/dev/null || true
    sleep 1
}

# One run, its --json result in FILE; prints "out_msgs_per_s p50_us p99_us
# lost held", for connect-rate "conn_per_s p50_us p99_us failed -" (latency:
# handshake + CONNACK). held: "P%/LONGEST_ms", the share of the publishers'
# time they were held back (window or socket full for 10 ms or more) and
# the longest such wait.
run() { # broker file scenario args...
    local b=$1 file=$2
    shift 2
    local len=(--payload "$payload" --duration "$dur")
    [ "$1" != connect-rate ] || len=(--time-limit "$dur")
    start_broker "$b"
    { "$bench" "$@" "${proto_args[@]}" "${tls_args[@]}" --port $port --cpus "$tcpu" "${len[@]}" -q --json 2>/dev/null | tail -1 >"$file"; } || true
    stop_broker
    python3 -c '
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    if d["scenario"] == "connect-rate":
        c = d["connections"]
        l = c["connack_us"]
        print("%.0f %s %s %s -" % (c["connect_rate_per_s"], l["p50"], l["p99"], c["failed"]))
    else:
        t, l, m = d["throughput"], d["latency_us"], d["messages"]
        h = d.get("held_back")
        span = d["publishers"] * (d["warmup_s"] + d["duration_s"])
        held = "%.0f%%/%.0fms" % (100 * h["total_s"] / span, 1e3 * h["longest_s"]) if h and span else "-"
        print("%.0f %s %s %s %s" % (t["out_msgs_per_s"], l["p50"], l["p99"], m["lost"], held))
except Exception:
    print("0 - - - -")
' "$file"
}

# REPEAT runs of one cell; prints "median_out min_out max_out p50 p99 lost
# held file" (latency, loss, held back and --json file of the median run).
runs() { # key broker scenario args...
    local key=$1 b=$2 i file results=()
    shift 2
    for ((i = 0; i < repeat; i++)); do
        file="$conf/$key-${b//[^a-z0-9]/_}-$i.json"
        results+=("$(run "$b" "$file" "$@") $file")
    done
    python3 -c '
import sys
rs = sorted((float(r.split()[0]),) + tuple(r.split()[1:]) for r in sys.argv[1:])
out, p50, p99, lost, held, file = rs[len(rs) // 2]
print("%.0f %.0f %.0f %s %s %s %s %s" % (out, rs[0][0], rs[-1][0], p50, p99, lost, held, file))
' "${results[@]}"
}

# Both median runs of a row on one chart, their --json beside it.
plot() { # key label shardmq_json other_json
    [ -n "$plots" ] || return 0
    cp "$3" "$plots/$1-shardmq.json"
    cp "$4" "$plots/$1-other.json"
    "$bench" plot "shardmq=$plots/$1-shardmq.json" "$other_name=$plots/$1-other.json" \
        --title "$2 (median of $repeat, $(date -u +%Y-%m-%d))" -o "$plots/$1.svg" >&2 \
        && charts+=("$plots/$1.svg") || echo "no chart for $1 (a run failed?)" >&2
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

# "12%/180ms" (one word for `read`) -> "12% / 180ms".
spaced() { echo "${1/\// / }"; }

row() { # key label scenario args...
    local key=$1 label=$2
    shift 2
    read -r s_out s_lo s_hi s_p50 s_p99 s_lost s_held s_file < <(runs "$key" shardmq "$@")
    read -r m_out m_lo m_hi m_p50 m_p99 m_lost m_held m_file < <(runs "$key" "$other" "$@")
    plot "$key" "$label" "$s_file" "$m_file"
    local ratio
    ratio=$(python3 -c "print(f'{$s_out / max($m_out, 1):.2f}')")
    echo "| $label | $(rate "$s_out" "$s_lo" "$s_hi") | $s_p50 / $s_p99 | $s_lost | $(spaced "$s_held") | $(rate "$m_out" "$m_lo" "$m_hi") | $m_p50 / $m_p99 | $m_lost | $(spaced "$m_held") | **${ratio}×** |"
}

over=
[ -z "${TLS:-}" ] || over=" over TLS ($([ "${TLS_KEY:-rsa}" = ec ] && echo ECDSA P-256 || echo RSA 2048)), shardmq handshake budget ${HS_BUDGET:-default}"
echo "MQTT $mqtt${ALIAS:+ with topic aliases}$over, window ${WINDOW:-default}, queue ${QUEUE:-default}; median of $repeat run(s), range in brackets."
echo "| scenario ($dur s, $payload B payload) | shardmq msg/s out | p50 / p99 µs | lost | held back % / longest | $other_name msg/s out | p50 / p99 µs | lost | held back % / longest | ratio |"
echo "|---|---|---|---|---|---|---|---|---|---|"
# ROWS="fanin0 p2p1" runs only those rows (default: all but handshake and
# p2p1x100; over TLS fanin0 p2p1 handshake).
[ -z "${TLS:-}" ] || rows=${ROWS:-fanin0 p2p1 handshake}
rows=${rows:-${ROWS:-fanin0 fanin1 p2p0 p2p1 fanout0}}
want() { [[ " $rows " == *" $1 "* ]]; }
charts=()
want fanin0 && row fanin0 "fanin 10→1 QoS 0" fanin --qos 0
want fanin1 && row fanin1 "fanin 10→1 QoS 1" fanin --qos 1
want p2p0 && row p2p0 "p2p 10 pairs QoS 0" p2p --qos 0
want p2p1 && row p2p1 "p2p 10 pairs QoS 1" p2p --qos 1
want p2p1x100 && row p2p1x100 "p2p 100 pairs QoS 1" p2p --qos 1 --pairs 100
want fanout0 && row fanout0 "fanout 1→10 QoS 0" fanout --qos 0
# New connections for DURATION seconds, HS_CONC at a time, each CONNECT ->
# CONNACK -> DISCONNECT -> close; from 64 source addresses so TIME_WAIT
# never runs out of ports. The numbers are connections per second.
hs_conc=${HS_CONC:-64}
want handshake && row handshake "handshake: new ${TLS:+TLS }conn/s, $hs_conc in flight" \
    connect-rate --connections 10000000 --concurrency "$hs_conc" --source-ips 127.0.3.1-127.0.3.64
[ ${#charts[@]} -eq 0 ] || { echo; echo "Charts (median runs): ${charts[*]}"; }
true
