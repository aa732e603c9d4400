"""Persistent session with paho: session present, queued QoS 1 in order."""

from util import Client, check

s = Client("paho-persist", clean=False).connect()
s.subscribe("paho/ps", 1)
s.disconnect()

pub = Client("paho-ps-pub").connect()
for i in range(5):
    pub.publish("paho/ps", f"m{i}".encode(), qos=1)
pub.publish("paho/ps", b"qos0 is not queued", qos=0)

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
