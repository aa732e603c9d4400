#!/usr/bin/env bash
# Idle-connection memory of shardmq and of Mosquitto, same client, same box.
# usage: scripts/idle_rss.sh [CONNECTIONS]   (default 15000; < 19,990 fds here)
# env:   SKIP_MOSQUITTO=1 to measure shardmq only
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-15000}
ulimit -n 20000
cargo build --release -q
port=18840
./target/release/shardmq --listen 127.0.0.1:$port --shards 1 >/dev/null 2>&1 &
sleep 1
pid=$(pgrep -f "shardmq --listen 127.0.0.1:$port")
echo -n "shardmq (1 shard):  "; python3 scripts/idle_rss.py $port "$n" "$pid" || true
kill -TERM "$pid"; wait 2>/dev/null || true
if [ -z "${SKIP_MOSQUITTO:-}" ] && command -v mosquitto >/dev/null; then
    sleep 2
    mosquitto -p $((port + 1)) >/dev/null 2>&1 &
    sleep 1
    pid=$(pgrep -f "mosquitto -p $((port + 1))")
    echo -n "mosquitto:          "; python3 scripts/idle_rss.py $((port + 1)) "$n" "$pid" || true
    kill "$pid"; wait 2>/dev/null || true
fi
