"""MQTT 5 with paho: a v5 publisher's properties reach a v5 subscriber
unchanged (user properties in order, expiry interval, content type,
response topic, correlation data, subscription identifier, topic aliases
both ways) and a 3.1.1 subscriber as a plain message; a 3.1.1 publisher
reaches the v5 subscriber without properties."""

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from util import T, V5, Client, check


sub = V5("paho-v5-sub", alias_max=5).connect()
sub.subscribe("v5/#", 1, 9)
old = Client("paho-311-sub").connect()
old.subscribe("v5/#", 1)

pub = V5("paho-v5-pub").connect()
props = Properties(PacketTypes.PUBLISH)
props.UserProperty = [("k", "1"), ("a", "2"), ("k", "3")]
props.ContentType = "text/plain"
props.ResponseTopic = "v5/reply"
props.CorrelationData = b"\x00\x01"
props.MessageExpiryInterval = 60
props.PayloadFormatIndicator = 1
for i in range(3):
    info = pub.c.publish("v5/t", f"m{i}".encode(), qos=1, properties=props)
    info.wait_for_publish(T)
    check(info.is_published(), "publish not acknowledged")

for i in range(3):
    topic, m = sub.next()
    check(i == 0 or sub.aliases, "the broker assigned a topic alias")
    check((topic, m.payload) == ("v5/t", f"m{i}".encode()), f"got {topic} {m.payload}")
    p = m.properties
    check(p.UserProperty == [("k", "1"), ("a", "2"), ("k", "3")], f"users {p.UserProperty}")
    check(p.ContentType == "text/plain", "content type")
    check(p.ResponseTopic == "v5/reply", "response topic")
    check(p.CorrelationData == b"\x00\x01", "correlation data")
    check(p.PayloadFormatIndicator == 1, "payload format")
    check(0 < p.MessageExpiryInterval <= 60, f"expiry {p.MessageExpiryInterval}")
    check(p.SubscriptionIdentifier == [9], f"subscription ids {p.SubscriptionIdentifier}")
    old.expect("v5/t", f"m{i}".encode(), 1)

plain = Client("paho-311-pub").connect()
plain.publish("v5/plain", b"no props", qos=1)
topic, m = sub.next()
check((topic, m.payload) == ("v5/plain", b"no props"), "3.1.1 to v5")
check(not hasattr(m.properties, "UserProperty"), "no user properties")
old.expect("v5/plain", b"no props", 1)
print("ok")
