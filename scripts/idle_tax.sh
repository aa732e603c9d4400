#!/usr/bin/env bash
# The idle-connection tax: broker CPU at a fixed 20 k msg/s fan-in (10
# publishers x 2,000 msg/s, QoS 0), first alone, then with N idle
# connections held open by a second shardmq-bench process.
# usage: scripts/idle_tax.sh [IDLE_CONNECTIONS]   (default 18000)
# env:   PARK_AFTER=seconds, the broker's tuning.park_after (default: its
#        default, 5 s; 0 keeps every idle connection live). The measurement
#        starts once the idle connections have been idle longer than that.
#        PING_INTERVAL=seconds between the idle clients' PINGREQs (default
#        60); short intervals show what waking parked connections costs.
#        SHARDMQ / BENCH: binaries to use instead of building target/release.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-18000}
port=18860
ulimit -n 20000
if [ -z "${SHARDMQ:-}" ] || [ -z "${BENCH:-}" ]; then
    cargo build --release -q -p shardmq -p shardmq-bench
fi
shardmq=${SHARDMQ:-./target/release/shardmq}
bench=${BENCH:-./target/release/shardmq-bench}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

measure() { # label
    local before after
    before=$(cpu_ticks "$pid")
    local out
    out=$($bench fanin --port $port --cpus 0 --publishers 10 --rate 2000 --qos 0 --payload 16 \
        --duration 10 -q 2>&1 | grep -E "throughput|latency")
    after=$(cpu_ticks "$pid")
    local hz
    hz=$(getconf CLK_TCK)
    echo "$1: broker CPU $(( (after - before) * 100 / hz / 10 )) % over ~10 s"
    echo "$out" | sed 's/^/    /'
}

conf=$(mktemp)
trap 'rm -f "$conf"' EXIT
if [ -n "${PARK_AFTER:-}" ]; then printf '[tuning]\npark_after = %s\n' "$PARK_AFTER" >"$conf"; fi
taskset -c 1 "$shardmq" --listen 127.0.0.1:$port --shards 1 --config "$conf" >/dev/null 2>&1 &
sleep 1
pid=$(pgrep -f -- "--listen 127.0.0.1:$port")
measure "no idle connections"
$bench conn --port $port --cpus 0 -n "$n" --rate 5000 --hold 30 --ping-interval "${PING_INTERVAL:-60}" \
    --source-ips 127.0.0.2-127.0.0.40 -q >/tmp/idle_tax_conn.txt 2>&1 &
conn_pid=$!
sleep $(( n / 5000 + 8 ))
echo "idle connections held: $(ls /proc/$pid/fd | wc -l) broker fds"
measure "$n idle connections"
wait $conn_pid || true
kill -TERM "$pid"; wait 2>/dev/null || true
