"""Retained messages with paho: stored, replaced, deleted."""

from util import Client

pub = Client("paho-ret-pub").connect()
pub.publish("paho/ret/a", b"first", qos=1, retain=True)
pub.publish("paho/ret/a", b"second", qos=1, retain=True)
pub.publish("paho/ret/b", b"other", qos=1, retain=True)

s = Client("paho-ret-sub1").connect()
s.subscribe("paho/ret/a", 1)
s.expect("paho/ret/a", b"second", 1, retain=True)
s.expect_nothing()
# live delivery: retain flag clear
pub.publish("paho/ret/a", b"live", qos=1, retain=True)
s.expect("paho/ret/a", b"live", 1, retain=False)
s.disconnect()

pub.publish("paho/ret/a", b"", qos=1, retain=True)  # delete
s = Client("paho-ret-sub2").connect()
s.subscribe("paho/ret/#", 0)
s.expect("paho/ret/b", b"other", 0, retain=True)
s.expect_nothing()
s.disconnect()
pub.disconnect()
print("ok")
