#!/usr/bin/env python3
"""The kill -9 scenario of shardmq's persistence test
(tests/blackbox/persistence_kill9.rs) against Mosquitto with persistence on.

Persistent subscribers (clean session 0) at QoS 1 and 2, some connected
and acknowledging, some offline until the end; publishers at QoS 1 and 2
with persistent sessions, payload "(publisher, sequence)", a window of
unacknowledged messages in flight; paho-mqtt re-sends what is unacknowledged
after a reconnect. Mosquitto is SIGKILLed at random moments (seeded) and
restarted on the same persistence file. At the end the publishers finish what
is in flight and every subscriber drains; the report counts, per subscriber,
messages acknowledged to their publisher (PUBACK / PUBCOMP) that never
arrived, duplicates, and sessions Mosquitto forgot (session present 0 on a
reconnect: the subscriber re-subscribes, as a careful client would).

usage: kill9_mosquitto.py AUTOSAVE_INTERVAL [SEED]   (one JSON line on stdout)
env:   KILL9_ROUNDS kills (default 4; 0 = control run),
       KILL9_SHARDMQ=BINARY: the same run against shardmq (--data-dir, fsync
       "always", 2 shards; AUTOSAVE_INTERVAL is then ignored) for comparison.
Loopback only; every wait is bounded.
"""

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import paho.mqtt.client as mqtt

ROUNDS = int(os.environ.get("KILL9_ROUNDS", "4"))  # 0: a control run, nothing may be lost
WINDOW = 20  # = max_inflight_messages below: with 32, a control run (no kill) lost QoS 2 messages
TOPIC = "k9/data"
DRAIN_S = 60


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Mosquitto:
    """A mosquitto process on `port` with persistence in `dir`."""

    def __init__(self, dir, port, autosave):
        self.dir, self.port, self.proc = dir, port, None
        self.conf = os.path.join(dir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write(
                f"listener {port} 127.0.0.1\nallow_anonymous true\n"
                f"persistence true\npersistence_location {dir}/\n"
                f"autosave_interval {autosave}\nmax_queued_messages 0\n"
                f"max_inflight_messages 20\nuser root\n"
                f"log_dest file {dir}/mosquitto.log\n"
            )

    def start(self):
        self.proc = subprocess.Popen(
            self.command(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise SystemExit("mosquitto did not start within 15 s")

    def command(self):
        return ["mosquitto", "-c", self.conf]

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill9()


class Shardmq(Mosquitto):
    """shardmq with its durable log in `dir` (fsync "always")."""

    def __init__(self, binary, dir, port):
        self.binary, self.dir, self.port, self.proc = binary, dir, port, None
        self.conf = os.path.join(dir, "shardmq.toml")
        os.makedirs(os.path.join(dir, "data"))
        with open(self.conf, "w") as f:
            f.write('log = "warn"\n[limits]\nmax_queued_messages = 1000000\n'
                    '[persistence]\nfsync = "always"\n')

    def command(self):
        return [self.binary, "--listen", f"127.0.0.1:{self.port}", "--shards", "2",
                "--config", self.conf, "--data-dir", os.path.join(self.dir, "data")]


def client(cid):
    c = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=cid,
        clean_session=False,
        protocol=mqtt.MQTTv311,
    )
    c.reconnect_delay_set(min_delay=0.05, max_delay=0.2)
    c.max_inflight_messages_set(WINDOW)
    c.max_queued_messages_set(0)
    return c


class Publisher:
    def __init__(self, port, tag, qos):
        self.tag, self.qos, self.port = tag, qos, port
        self.lock = threading.Lock()
        # mid -> seq of unacknowledged messages; mids acknowledged before
        # publish() returned them (the callback runs on paho's thread).
        self.mid_seq, self.early, self.acked, self.sent = {}, set(), set(), 0
        self.stop = threading.Event()
        self.c = client(f"k9pub-{tag}")
        self.c.on_publish = self.on_publish

    def on_publish(self, c, userdata, mid, rc, props):
        with self.lock:
            seq = self.mid_seq.pop(mid, None)
            if seq is None:
                self.early.add(mid)
            else:
                self.acked.add(seq)

    def run(self):
        self.c.connect("127.0.0.1", self.port, keepalive=30)
        self.c.loop_start()
        while not self.stop.is_set():
            with self.lock:
                room = self.sent - len(self.acked) < WINDOW
            if not room:
                time.sleep(0.001)
                continue
            seq = self.sent
            payload = f"{self.tag:08x} {seq:08x}".encode()
            # Not under self.lock: publish() takes paho's locks, which its
            # thread holds while it calls on_publish.
            info = self.c.publish(TOPIC, payload, self.qos)
            with self.lock:
                if info.mid in self.early:
                    self.early.discard(info.mid)
                    self.acked.add(seq)
                else:
                    self.mid_seq[info.mid] = seq
                self.sent += 1

    def finish(self, deadline):
        while time.time() < deadline:
            with self.lock:
                if len(self.acked) == self.sent:
                    break
            time.sleep(0.05)
        self.c.disconnect()
        self.c.loop_stop()


class Subscriber:
    def __init__(self, port, cid, qos):
        self.cid, self.qos, self.port = cid, qos, port
        self.got, self.lock = [], threading.Lock()
        self.connects, self.sessions_lost = 0, 0
        self.c = client(cid)
        self.c.on_connect = self.on_connect
        self.c.on_message = self.on_message

    def on_connect(self, c, userdata, flags, rc, props):
        self.connects += 1
        if self.connects > 1 and not flags.session_present:
            self.sessions_lost += 1
            c.subscribe("k9/#", self.qos)

    def on_message(self, c, userdata, m):
        tag, seq = (int(x, 16) for x in m.payload.decode().split())
        with self.lock:
            self.got.append((tag, seq))

    def create(self):
        self.c.connect("127.0.0.1", self.port, keepalive=30)
        self.c.loop_start()
        done = threading.Event()
        self.c.on_subscribe = lambda *a: done.set()
        self.c.subscribe("k9/#", self.qos)
        done.wait(5)

    def leave(self):
        self.c.disconnect()
        self.c.loop_stop()

    def resume(self):
        self.c.connect("127.0.0.1", self.port, keepalive=30)
        self.c.loop_start()

    def wait_for(self, targets, deadline):
        last, last_len = time.time(), -1
        while time.time() < deadline:
            with self.lock:
                have = set(self.got)
                n = len(self.got)
            if all((t, s) in have for t, n_ in targets.items() for s in range(n_)):
                return
            if n != last_len:
                last, last_len = time.time(), n
            elif time.time() - last > 5:
                return
            time.sleep(0.1)


def main():
    # `timeout` sends SIGTERM: unwind, so that `finally` stops mosquitto.
    signal.signal(signal.SIGTERM, lambda *a: sys.exit("terminated"))
    autosave = int(sys.argv[1])
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else random.randrange(1 << 32)
    rng = random.Random(seed)
    dir = tempfile.mkdtemp(prefix="kill9-mosquitto-")
    shardmq = os.environ.get("KILL9_SHARDMQ")
    if shardmq:
        broker = Shardmq(shardmq, dir, free_port())
    else:
        broker = Mosquitto(dir, free_port(), autosave)
    try:
        broker.start()
        subs = []
        for qos in (1, 2):
            for live in (True, False):
                for i in range(2):
                    kind = "live" if live else "off"
                    s = Subscriber(broker.port, f"k9sub-q{qos}-{kind}-{i}", qos)
                    s.create()
                    if not live:
                        s.leave()
                    subs.append((s, live))
        pubs = [Publisher(broker.port, tag, qos) for tag, qos in enumerate((1, 1, 2, 2))]
        threads = [threading.Thread(target=p.run, daemon=True) for p in pubs]
        for t in threads:
            t.start()
        kills = []
        for _ in range(ROUNDS):
            run = 0.5 + rng.random() * 1.5
            time.sleep(run)
            broker.kill9()
            down = rng.random() * 0.3
            time.sleep(down)
            broker.start()
            kills.append((round(run, 3), round(down, 3)))
        time.sleep(1)
        for p in pubs:
            p.stop.set()
        for t in threads:
            t.join(10)
        deadline = time.time() + DRAIN_S
        for p in pubs:
            p.finish(deadline)
        targets = {p.tag: len(p.acked) for p in pubs}
        contiguous = all(p.acked == set(range(len(p.acked))) for p in pubs)
        for s, live in subs:
            if not live:
                s.resume()
        for s, _ in subs:
            s.wait_for(targets, deadline)
            s.leave()
        report = []
        for s, live in subs:
            with s.lock:
                got = list(s.got)
            have = set(got)
            missing = [(t, q) for t, n in targets.items() for q in range(n) if (t, q) not in have]
            lost = len(missing)
            report.append(
                {
                    "subscriber": s.cid,
                    "qos": s.qos,
                    "connected": live,
                    "lost_acknowledged": lost,
                    "missing_sample": missing[:6],
                    "duplicates": len(got) - len(have),
                    "sessions_lost": s.sessions_lost,
                }
            )
        print(
            json.dumps(
                {
                    "broker": "shardmq" if shardmq else "mosquitto",
                    "autosave_interval": None if shardmq else autosave,
                    "seed": seed,
                    "kills": kills,
                    "acknowledged": targets,
                    "publishers_acked_contiguously": contiguous,
                    "acknowledged_total": sum(targets.values()),
                    "lost_acknowledged_total": sum(r["lost_acknowledged"] for r in report),
                    "subscribers": report,
                }
            )
        )
    finally:
        broker.stop()
        shutil.rmtree(dir, ignore_errors=True)


if __name__ == "__main__":
    main()
