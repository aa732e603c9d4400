"""Takeover with paho: a second client with the same ID disconnects the
first (which is driven by hand so that it does not reconnect)."""

import time

from util import T, Client, check

old = Client("paho-dup", clean=False)
old.connect(loop=False)
deadline = time.monotonic() + T
while not old.connected.is_set() and time.monotonic() < deadline:
    old.c.loop(timeout=0.05)
check(old.connected.is_set(), "first client: no CONNACK")
old.c.subscribe("paho/tk", 1)
while old.subacks.empty() and time.monotonic() < deadline:
    old.c.loop(timeout=0.05)
check(not old.subacks.empty(), "first client: no SUBACK")

new = Client("paho-dup", clean=False).connect()
check(new.session_present, "takeover with clean=False must report the session")

deadline = time.monotonic() + T
while not old.disconnected.is_set() and time.monotonic() < deadline:
    old.c.loop(timeout=0.05)
check(old.disconnected.is_set(), "first client was not disconnected")

pub = Client("paho-tk-pub").connect()
pub.publish("paho/tk", b"to the new one", qos=1)
new.expect("paho/tk", b"to the new one", 1)
check(old.messages.empty(), "the old connection received a message")
new.disconnect()
pub.disconnect()
print("ok")
