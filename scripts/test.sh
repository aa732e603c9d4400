#!/usr/bin/env bash
# Run shardmq's whole test suite: unit tests, black-box tests against the real
# binary, interoperability tests (mosquitto_pub/sub, paho-mqtt) and the
# metrics format check (promtool), MQTT.js in headless Chromium. Installs
# those tools when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else echo "need root to run: $*" >&2; return 1; fi
}

apt_install() { # package...
    as_root apt-get install -y "$@" >/dev/null 2>&1 \
        || { as_root apt-get update >/dev/null && as_root apt-get install -y "$@" >/dev/null; }
}

missing=()
command -v mosquitto_pub >/dev/null && command -v mosquitto_sub >/dev/null || missing+=(mosquitto-clients)
command -v promtool >/dev/null || missing+=(prometheus)
command -v capsh >/dev/null || missing+=(libcap2-bin)
# mosquitto_passwd writes the Mosquitto password files the auth tests read.
command -v mosquitto_passwd >/dev/null || missing+=(mosquitto)
command -v systemd-analyze >/dev/null || missing+=(systemd)
# shardmq-bench's charts measure and draw text with a TrueType font.
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
# The package test installs the .deb into a scratch root (as root, or
# under fakeroot).
[ "$(id -u)" = 0 ] || command -v fakeroot >/dev/null || missing+=(fakeroot)
# MQTT.js in a real browser (tests/blackbox/websocket_browser.rs): the test
# installs the npm `mqtt` package itself.
command -v chromium >/dev/null || missing+=(chromium)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} (used by the tests)"
    apt_install "${missing[@]}"
fi
if ! command -v cargo-deb >/dev/null; then
    echo "installing cargo-deb (scripts/package.sh; the package test)"
    cargo install cargo-deb --locked --quiet
fi
if ! python3 -c 'import paho.mqtt' 2>/dev/null; then
    echo "installing paho-mqtt (used by the interoperability tests)"
    python3 -m pip install --quiet 'paho-mqtt>=2,<3' \
        || python3 -m pip install --quiet --break-system-packages 'paho-mqtt>=2,<3'
fi

# The black-box tests (one binary, tests/blackbox) mostly wait on sockets
# and timers, so they run 8 at a time even on 2 cores: each starts its own
# broker on its own port. `-- --test-threads N` overrides it.
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-8}"
cargo test --workspace "$@"
# The black-box suite again with every connection parking as soon as it is
# idle at a wheel tick: parked connections must behave exactly like live ones.
echo "black-box tests again with tuning.park_after = 1 ms"
SHARDMQ_TEST_PARK_AFTER=0.001 cargo test -p shardmq --test blackbox "$@"
