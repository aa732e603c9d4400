#!/usr/bin/env bash
# Idle-connection memory of shardmq and of Mosquitto, same client, same box.
# usage: scripts/idle_rss.sh [CONNECTIONS]   (default 15000; < 19,990 fds here)
# env:   SKIP_MOSQUITTO=1 to measure shardmq only
#        TRANSPORT=ws to measure MQTT over WebSocket (both brokers)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-15000}
ulimit -n 20000
cargo build --release -q
port=18840
conf=$(mktemp -d)
trap 'rm -rf "$conf"' EXIT
measure=$port
if [ "${TRANSPORT:-tcp}" = ws ]; then
    measure=$((port + 2))
    printf '[[listeners]]\nbind = "127.0.0.1:%s"\ntransport = "ws"\n' $measure >"$conf/shardmq.toml"
else
    : >"$conf/shardmq.toml"
fi
./target/release/shardmq --listen 127.0.0.1:$port --shards 1 --config "$conf/shardmq.toml" >/dev/null 2>&1 &
sleep 1
pid=$(pgrep -f "shardmq --listen 127.0.0.1:$port")
echo -n "shardmq (1 shard):  "; python3 scripts/idle_rss.py $measure "$n" "$pid" || true
kill -TERM "$pid"; wait 2>/dev/null || true
if [ -z "${SKIP_MOSQUITTO:-}" ] && command -v mosquitto >/dev/null; then
    sleep 2
    mport=$((port + 1))
    if [ "${TRANSPORT:-tcp}" = ws ]; then
        # Mosquitto 2.0.11 will not start with a WebSocket listener alone.
        printf 'listener %s 127.0.0.1\nlistener %s\nprotocol websockets\nallow_anonymous true\n' \
            $((port + 3)) $mport >"$conf/mosquitto.conf"
    else
        printf 'listener %s 127.0.0.1\nallow_anonymous true\n' $mport >"$conf/mosquitto.conf"
    fi
    mosquitto -c "$conf/mosquitto.conf" >/dev/null 2>&1 &
    sleep 1
    pid=$(pgrep -f "mosquitto -c $conf/mosquitto.conf")
    echo -n "mosquitto:          "; python3 scripts/idle_rss.py $mport "$n" "$pid" || true
    kill "$pid"; wait 2>/dev/null || true
fi
