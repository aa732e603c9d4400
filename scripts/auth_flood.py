#!/usr/bin/env python3
"""A CONNECT flood with wrong passwords against a broker on loopback: WORKERS
threads, each opening a connection, sending an MQTT 3.1.1 CONNECT for USER
with a wrong password, reading the CONNACK (or the close), and starting
again. Bounded: stops after MAX attempts or SECONDS, whichever comes first.
Prints what the broker answered and how fast.

usage: auth_flood.py PORT USER [WORKERS [MAX [SECONDS]]]   (loopback only)
"""
import collections
import socket
import sys
import threading
import time


def connect_packet(client_id, user, password):
    def s(b):
        return len(b).to_bytes(2, "big") + b

    # flags: user name, password, clean session; keep alive 60
    body = b"\x00\x04MQTT\x04\xc2\x00\x3c" + s(client_id) + s(user) + s(password)
    return bytes([0x10, len(body)]) + body


def main():
    port = int(sys.argv[1])
    user = sys.argv[2].encode()
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else 100_000
    seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 30.0
    deadline = time.monotonic() + seconds
    answers = collections.Counter()
    lock = threading.Lock()
    attempts = [0]

    def worker(w):
        n = 0
        while time.monotonic() < deadline:
            with lock:
                if attempts[0] >= limit:
                    return
                attempts[0] += 1
            n += 1
            pkt = connect_packet(b"flood-%d-%d" % (w, n), user, b"wrong-%d" % n)
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
                    s.sendall(pkt)
                    got = s.recv(4)
                    what = "connack %d" % got[3] if len(got) == 4 else "closed"
            except OSError as e:
                what = type(e).__name__
            with lock:
                answers[what] += 1

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - t0
    total = sum(answers.values())
    print("flood: %d CONNECTs with wrong passwords in %.1f s (%.0f/s), %d workers; answers: %s"
          % (total, took, total / took, workers, dict(answers)))


if __name__ == "__main__":
    main()
