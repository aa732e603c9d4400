#!/usr/bin/env python3
"""Idle-connection memory of an MQTT broker: open N MQTT 3.1.1 connections
(CONNECT, wait for CONNACK 0), hold them idle, report the broker's RSS growth
per connection. Loopback only; connections are spread over 127.0.0.2.. so one
address's ephemeral ports are not the limit.

usage: idle_rss.py PORT N BROKER_PID      (run with `ulimit -n` above N)
env:   SETTLE=seconds to hold the connections idle before measuring (default
       30: shardmq parks a connection after `tuning.park_after` (5 s) idle,
       at most 1,024 a second, so 19,000 are all parked after ~25 s; the
       same wait for Mosquitto)
       IP_BASE=first source address 127.0.0.IP_BASE (default 2; 10,000 each)
       TLS_CAFILE=PEM CA file: connect over TLS, trusting it (the server
       certificate must name 127.0.0.1)
       KEEPALIVE=seconds in CONNECT (default 60; the broker drops a client
       silent for 1.5 times that, so slow openings need more)
       TIME_LIMIT=seconds to spend opening connections (default 900); the
       rest are not opened and the figure is per connection opened
       TRANSPORT=ws: MQTT over WebSocket (upgrade on /mqtt, subprotocol mqtt,
       CONNECT in a masked binary frame) instead of plain TCP
"""
import os
import socket
import ssl
import sys
import time


def rss(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) * 1024
    raise SystemExit(f"no VmRSS for pid {pid}")


def connect_packet(client_id, keepalive):
    cid = client_id.encode()
    body = (b"\x00\x04MQTT\x04\x02" + keepalive.to_bytes(2, "big")
            + len(cid).to_bytes(2, "big") + cid)
    return bytes([0x10, len(body)]) + body


def tls_context():
    cafile = os.environ.get("TLS_CAFILE")
    if not cafile:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile)
    return ctx


UPGRADE = (b"GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n")


def ws_frame(payload, mask=b"\x5a\xa5\x0f\xf0"):
    """One masked binary frame (a client's, RFC 6455 §5.2), payload < 126 B."""
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x82, 0x80 | len(payload)]) + mask + masked


def ws_open(s, client_id, keepalive):
    """Upgrade, then CONNECT in a frame; the CONNACK comes in one too."""
    s.sendall(UPGRADE)
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1024)
        if not chunk:
            raise SystemExit("upgrade refused: connection closed")
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        raise SystemExit(f"upgrade refused: {head[:40]!r}")
    s.sendall(ws_frame(connect_packet(client_id, keepalive)))


def main():
    port, n, pid = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    keepalive = int(os.environ.get("KEEPALIVE", "60"))
    deadline = time.monotonic() + float(os.environ.get("TIME_LIMIT", "900"))
    tls = tls_context()
    time.sleep(0.5)
    base = rss(pid)
    # Consecutive runs from other source addresses skip the last run's TIME_WAITs.
    ip_base = int(os.environ.get("IP_BASE", "2"))
    ws = os.environ.get("TRANSPORT", "tcp") == "ws"
    connack = b"\x82\x04\x20\x02\x00\x00" if ws else b"\x20\x02\x00\x00"
    socks = []
    began = time.monotonic()
    for i in range(n):
        if time.monotonic() > deadline:
            print(f"TIME_LIMIT reached after {i} connections", file=sys.stderr)
            break
        s = socket.socket()
        s.settimeout(10)
        s.bind((f"127.0.0.{ip_base + i // 10000}", 0))
        s.connect(("127.0.0.1", port))
        if tls:
            s = tls.wrap_socket(s, server_hostname="127.0.0.1")
        if ws:
            ws_open(s, f"idle-{i}", keepalive)
        else:
            s.sendall(connect_packet(f"idle-{i}", keepalive))
        socks.append(s)
        if tls and (i + 1) % 2000 == 0:
            rate = (i + 1) / (time.monotonic() - began)
            print(f"  {i + 1}/{n} open, {rate:.0f}/s", file=sys.stderr)
    ok = sum(1 for s in socks if s.recv(len(connack)) == connack)
    time.sleep(float(os.environ.get("SETTLE", "30")))
    after = rss(pid)
    opened = max(len(socks), 1)
    print(f"{ok}/{n} connected; broker RSS {base / 1e6:.2f} MB -> {after / 1e6:.2f} MB: "
          f"{(after - base) / opened:.0f} B per idle connection")
    sys.exit(0 if ok == n else 1)


if __name__ == "__main__":
    main()
