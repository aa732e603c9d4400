"""Persistent session with paho: session present, queued QoS 1 in order.

usage: session.py PORT PROBE_ID, where PROBE_ID is a client ID owned by the
same shard as "paho-persist" (any ID against a single-threaded broker).
"""

import sys

from util import Client, check

PROBE_ID = sys.argv[2]

s = Client("paho-persist", clean=False).connect()
s.subscribe("paho/ps", 1)
s.disconnect()

# Reconnect only once the session's shard has handled every message: a
# subscriber on that shard gets them in the same delivery step.
probe = Client(PROBE_ID).connect()
probe.subscribe("paho/ps", 1)

pub = Client("paho-ps-pub").connect()
for i in range(5):
    pub.publish("paho/ps", f"m{i}".encode(), qos=1)
pub.publish("paho/ps", b"qos0 is not queued", qos=0)
for i in range(5):
    probe.expect("paho/ps", f"m{i}".encode(), 1)
probe.expect("paho/ps", b"qos0 is not queued", 0)
probe.disconnect()

s = Client("paho-persist", clean=False).connect()
check(s.session_present, "session present must be set on reconnect")
for i in range(5):
    s.expect("paho/ps", f"m{i}".encode(), 1)
s.expect_nothing()
s.disconnect()

s = Client("paho-persist", clean=True).connect()
check(not s.session_present, "clean session must not report a session")
s.disconnect()
print("ok")
