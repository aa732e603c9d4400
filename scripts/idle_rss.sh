#!/usr/bin/env bash
# Idle-connection memory of shardmq and of Mosquitto, same client, same box.
# usage: scripts/idle_rss.sh [CONNECTIONS]   (default 15000; < 19,990 fds here)
# env:   SKIP_MOSQUITTO=1 to measure shardmq only
#        TRANSPORT=tcp (default), tls or ws: tls gives both brokers a TLS
#        listener with the same throw-away certificates (scripts/tls_certs.sh,
#        TLS_KEY=rsa or ec) and the client wraps every connection in TLS,
#        trusting the CA; ws gives both a WebSocket listener and the client
#        upgrades on /mqtt and sends its CONNECT in a binary frame.
#        IP_BASE, SETTLE, KEEPALIVE, TIME_LIMIT: see scripts/idle_rss.py
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-15000}
transport=${TRANSPORT:-tcp}
ulimit -n 20000
cargo build --release -q
port=18840
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/shardmq.toml"
shardmq_args=(--listen "127.0.0.1:$port")
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' $((port + 1)) >"$tmp/mosquitto.conf"
case $transport in
    tcp) ;;
    tls)
        command -v openssl >/dev/null || { echo "needs openssl: apt-get install openssl" >&2; exit 2; }
        scripts/tls_certs.sh "$tmp/tls"
        shardmq_args=()
        printf '[[listeners]]\nbind = "127.0.0.1:%s"\ntransport = "tls"\ncertfile = "%s"\nkeyfile = "%s"\n' \
            "$port" "$tmp/tls/server.pem" "$tmp/tls/server.key" >"$tmp/shardmq.toml"
        # Root Mosquitto reads the key after dropping to its own user, which
        # cannot enter this private directory: it stays root.
        printf 'certfile %s\nkeyfile %s\ncafile %s\nuser root\n' \
            "$tmp/tls/server.pem" "$tmp/tls/server.key" "$tmp/tls/ca.pem" >>"$tmp/mosquitto.conf"
        export TLS_CAFILE=$tmp/tls/ca.pem
        # TLS handshakes make opening slower: keep the first connections
        # inside their keep-alive until the last one is open and settled.
        export KEEPALIVE=${KEEPALIVE:-600}
        ;;
    ws)
        # Mosquitto 2.0.11 will not start with a WebSocket listener alone:
        # its measured port speaks websockets, a TCP one sits beside it.
        shardmq_args=()
        printf '[[listeners]]\nbind = "127.0.0.1:%s"\ntransport = "ws"\n' "$port" >"$tmp/shardmq.toml"
        printf 'listener %s 127.0.0.1\nlistener %s\nprotocol websockets\nallow_anonymous true\n' \
            $((port + 3)) $((port + 1)) >"$tmp/mosquitto.conf"
        ;;
    *) echo "TRANSPORT must be tcp, tls or ws" >&2; exit 2 ;;
esac
./target/release/shardmq "${shardmq_args[@]}" --shards 1 --config "$tmp/shardmq.toml" >/dev/null 2>&1 &
pid=$!
sleep 1
echo -n "shardmq (1 shard, $transport):  "; python3 scripts/idle_rss.py $port "$n" "$pid" || true
kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
if [ -z "${SKIP_MOSQUITTO:-}" ] && command -v mosquitto >/dev/null; then
    sleep 2
    mosquitto -c "$tmp/mosquitto.conf" >/dev/null 2>&1 &
    pid=$!
    sleep 1
    # A second run from the next source addresses: the first run's
    # TIME_WAIT sockets would slow `bind` down.
    export IP_BASE=$((${IP_BASE:-2} + (n + 9999) / 10000))
    echo -n "mosquitto ($transport):          "; python3 scripts/idle_rss.py $((port + 1)) "$n" "$pid" || true
    kill "$pid"; wait "$pid" 2>/dev/null || true
fi
