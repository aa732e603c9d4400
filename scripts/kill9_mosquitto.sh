#!/usr/bin/env bash
# The kill -9 scenario of shardmq's persistence test
# (tests/blackbox/persistence_kill9.rs) against Debian's Mosquitto with
# persistence on: persistent QoS 1 / QoS 2 subscribers (connected and
# offline), publishers at full speed, mosquitto SIGKILLed at random moments
# and restarted on the same persistence file; reports how many messages that
# were acknowledged to their publisher never reached a subscriber. Once with
# the default autosave_interval (1800 s) and once with autosave_interval 1.
# Documentation for docs/benchmarks.md, not a gate: always exits 0 once it
# has run. Loopback only, each run bounded (timeout), stops by itself. A
# control run without kills comes first (it must lose nothing).
#
# usage: scripts/kill9_mosquitto.sh [SEED]
# env:   SHARDMQ=BINARY also runs the same scenario against shardmq
#        (--data-dir, fsync "always") with the same client code, for comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v mosquitto >/dev/null || { echo "needs mosquitto: apt-get install mosquitto" >&2; exit 2; }
python3 -c 'import paho.mqtt' 2>/dev/null || {
    python3 -m pip install --quiet 'paho-mqtt>=2,<3' \
        || python3 -m pip install --quiet --break-system-packages 'paho-mqtt>=2,<3'
}
seed=${1:-$RANDOM$RANDOM}
# Control: no kill, nothing may be lost (validates the measurement).
echo "# control run without kills (KILL9_ROUNDS=0), autosave_interval 1" >&2
KILL9_ROUNDS=0 timeout 240 python3 scripts/kill9_mosquitto.py 1 "$seed" \
    || echo '{"control": true, "error": "run failed or timed out"}'
for autosave in 1800 1; do
    echo "# mosquitto $(mosquitto -h 2>/dev/null | head -1 | awk '{print $3}'), persistence true, autosave_interval $autosave, seed $seed" >&2
    timeout 240 python3 scripts/kill9_mosquitto.py "$autosave" "$seed" \
        || echo "{\"autosave_interval\": $autosave, \"error\": \"run failed or timed out\"}"
done
if [ -n "${SHARDMQ:-}" ]; then
    echo "# shardmq $("$SHARDMQ" --version | awk '{print $2}'), fsync always, seed $seed" >&2
    KILL9_SHARDMQ="$SHARDMQ" timeout 240 python3 scripts/kill9_mosquitto.py 0 "$seed" \
        || echo '{"broker": "shardmq", "error": "run failed or timed out"}'
fi
