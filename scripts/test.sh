#!/usr/bin/env bash
# Run shardmq's whole test suite: unit tests, black-box tests against the real
# binary, and interoperability tests with mosquitto_pub/sub and paho-mqtt.
# Installs the third-party clients the tests use when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root to install: $*" >&2; return 1; fi; }

if ! command -v mosquitto_pub >/dev/null || ! command -v mosquitto_sub >/dev/null; then
    echo "installing mosquitto-clients (used by the interoperability tests)"
    as_root apt-get install -y mosquitto-clients >/dev/null || { as_root apt-get update >/dev/null && as_root apt-get install -y mosquitto-clients >/dev/null; }
fi
if ! python3 -c 'import paho.mqtt' 2>/dev/null; then
    echo "installing paho-mqtt (used by the interoperability tests)"
    python3 -m pip install --quiet 'paho-mqtt>=2,<3' || python3 -m pip install --quiet --break-system-packages 'paho-mqtt>=2,<3'
fi

cargo test --workspace "$@"
