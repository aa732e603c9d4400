#!/usr/bin/env bash
# Build the Debian package: shardmq, shardmq-bench, the systemd unit, a
# default /etc/shardmq/shardmq.toml, the shardmq user and /var/lib/shardmq
# (Cargo.toml [package.metadata.deb], scripts/debian/). Installs cargo-deb
# when missing. Prints the path of the .deb on stdout.
#
# usage: scripts/package.sh                 release build -> target/debian/
#        BIN_DIR=DIR scripts/package.sh     package DIR/shardmq and
#            DIR/shardmq-bench as they are, stripped, quickly compressed
#            -> target/debian-bin/ (the package test: BIN_DIR=target/debug)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-deb >/dev/null; then
    echo "installing cargo-deb" >&2
    cargo install cargo-deb --locked >&2
fi
if [ -z "${BIN_DIR:-}" ]; then
    # Both binaries first: cargo-deb builds only this package's, not loadtest's.
    cargo build --release -p shardmq -p shardmq-bench >&2
    mkdir -p target/debian
    exec cargo deb --no-build --output target/debian
fi
# cargo-deb takes binaries from TARGET_DIR/release: stage copies there
# (copies: whatever it does to them never reaches the originals).
out=target/debian-bin
rm -rf "$out/stage"
mkdir -p "$out/stage/release"
cp "$BIN_DIR/shardmq" "$BIN_DIR/shardmq-bench" "$out/stage/release/"
CARGO_TARGET_DIR="$out/stage" cargo deb --no-build --strip --fast --output "$out"
rm -rf "$out/stage"
