#!/usr/bin/env python3
"""What parking costs the first message after an idle period: publish ->
delivery time on loopback, first with both clients live (10 ms apart), then
with both parked (2.5 s apart), against a shardmq started with
`[tuning] park_after = 1`:

    printf '[tuning]\\npark_after = 1\\n' > /tmp/p.toml
    ./target/release/shardmq --listen 127.0.0.1:19601 --shards 1 --config /tmp/p.toml &
    scripts/parked_latency.py 19601

usage: parked_latency.py PORT     (loopback only; ends by itself in ~35 s)
"""
import socket
import statistics
import sys
import time


def connect(port, client_id):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    cid = client_id.encode()
    body = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(cid).to_bytes(2, "big") + cid
    s.sendall(bytes([0x10, len(body)]) + body)
    assert s.recv(4) == b"\x20\x02\x00\x00", "CONNACK 0 expected"
    return s


def publish(s, topic, payload):
    t = topic.encode()
    body = len(t).to_bytes(2, "big") + t + payload
    s.sendall(bytes([0x30, len(body)]) + body)


def main():
    port = int(sys.argv[1])
    sub = connect(port, "lat-sub")
    t = b"lat/x"
    body = b"\x00\x01" + len(t).to_bytes(2, "big") + t + b"\x00"
    sub.sendall(bytes([0x82, len(body)]) + body)
    sub.recv(5)  # SUBACK
    pub = connect(port, "lat-pub")

    def sample(idle):
        time.sleep(idle)
        t0 = time.perf_counter()
        publish(pub, "lat/x", b"x" * 16)
        sub.recv(100)
        return (time.perf_counter() - t0) * 1e6

    live = [sample(0.01) for _ in range(50)]
    parked = [sample(2.5) for _ in range(12)]
    print("live:   p50 %.0f µs, max %.0f µs" % (statistics.median(live), max(live)))
    print("parked: p50 %.0f µs, max %.0f µs (publisher and subscriber both parked)"
          % (statistics.median(parked), max(parked)))


if __name__ == "__main__":
    main()
