#!/usr/bin/env bash
# Recovery time of the durable log: SESSIONS offline persistent sessions
# (3.1.1, clean session 0) each with MSGS queued QoS 1 messages (one
# publisher, fan-out: each payload stored once), the broker killed with
# SIGKILL, restarted; prints the replay time the broker logs and the time
# until it answers a CONNECT, then checks one session gets all its messages.
#
#   scripts/recovery_time.sh [SESSIONS] [MSGS]      (default 1000 × 1000 = 1 M)
#
# Loopback only, bounded in time, cleans up after itself. Needs a release
# build (cargo build --release) and mosquitto_pub/mosquitto_sub.
set -euo pipefail
cd "$(dirname "$0")/.."
sessions=${1:-1000}
msgs=${2:-1000}
port=${PORT:-18960}
bin=target/release/shardmq
bench=target/release/shardmq-bench
d=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null || true; rm -rf "$d"' EXIT
printf '[persistence]\ndir = "%s/data"\n[limits]\nmax_queued_messages = %d\n' "$d" "$msgs" >"$d/c.toml"

start() {
    "$bin" --listen 127.0.0.1:$port --config "$d/c.toml" >"$d/log" 2>&1 &
    pid=$!
}
ready() { # wait (bounded) until the broker answers a CONNECT
    for _ in $(seq 600); do
        mosquitto_pub -h 127.0.0.1 -p $port -t probe -m x -q 0 2>/dev/null && return 0
        sleep 0.05
    done
    echo "broker never became ready" >&2
    return 1
}

start
ready
"$bench" sub -n "$sessions" --port $port --clean-session false --client-id "rec-%i" \
    --topic rec/t --qos 1 --duration 2 --drain 0 --conn-rate 20000 >/dev/null 2>&1
seq "$msgs" | timeout 120 mosquitto_pub -h 127.0.0.1 -p $port -q 1 -t rec/t -l
sleep 2 # the interval fsync
kill -9 $pid
wait $pid 2>/dev/null || true
du -sh "$d/data" | awk '{print "data on disk: " $1}'
t0=$(date +%s.%N)
start
ready
t1=$(date +%s.%N)
grep -o 'data directory recovered.*' "$d/log" || true
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "start to first CONNACK: %.2f s\n", b - a }'
got=$(timeout 60 mosquitto_sub -h 127.0.0.1 -p $port -i rec-0 -c -q 1 -t rec/t -C "$msgs" -W 30 | wc -l)
echo "session rec-0 received $got of $msgs queued messages"
[ "$got" = "$msgs" ]
