"""Will messages with paho: sent on a dropped connection, not after a
clean disconnect; will retain."""

from util import Client

w = Client("paho-watcher").connect()
w.subscribe("paho/will/#", 1)

c = Client("paho-dies", will=dict(topic="paho/will/x", payload=b"bye", qos=1))
c.connect()
c.drop()
w.expect("paho/will/x", b"bye", 1)

c = Client("paho-polite", will=dict(topic="paho/will/x", payload=b"no", qos=1))
c.connect()
c.disconnect()
m = Client("paho-marker").connect()
m.publish("paho/will/marker", b"m", qos=1)
w.expect("paho/will/marker", b"m", 1)
w.expect_nothing()

c = Client("paho-ret", will=dict(topic="paho/will/r", payload=b"kept", qos=1, retain=True))
c.connect()
c.drop()
w.expect("paho/will/r", b"kept", 1)
later = Client("paho-later").connect()
later.subscribe("paho/will/r", 1)
later.expect("paho/will/r", b"kept", 1, retain=True)
print("ok")
