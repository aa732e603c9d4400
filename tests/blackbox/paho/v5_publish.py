"""MQTT 5 with paho: a v5 publisher's properties reach a v5 subscriber
unchanged (user properties in order, expiry interval, content type,
response topic, correlation data, subscription identifier, topic aliases
both ways) and a 3.1.1 subscriber as a plain message; a 3.1.1 publisher
reaches the v5 subscriber without properties."""

import queue
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from util import PORT, T, Client, check, fail


class V5:
    def __init__(self, client_id, alias_max=0):
        self.id = client_id
        self.c = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self.messages = queue.Queue()
        self.subacks = queue.Queue()
        self.aliases = {}
        self.connected = threading.Event()
        self.c.on_connect = lambda c, u, f, rc, p: rc.is_failure or self.connected.set()
        self.c.on_message = lambda c, u, m: self.messages.put(m)
        self.c.on_subscribe = lambda c, u, mid, codes, p: self.subacks.put(codes)
        props = Properties(PacketTypes.CONNECT)
        props.TopicAliasMaximum = alias_max
        self.c.connect("127.0.0.1", PORT, clean_start=True, properties=props)
        self.c.loop_start()
        check(self.connected.wait(T), f"{client_id}: no CONNACK")

    def subscribe(self, topic, qos, sub_id):
        props = Properties(PacketTypes.SUBSCRIBE)
        props.SubscriptionIdentifier = sub_id
        self.c.subscribe(topic, qos, properties=props)
        codes = self.subacks.get(timeout=T)
        check([c.value for c in codes] == [qos], f"{self.id}: SUBACK {codes}")

    def next(self):
        """The next message and its topic, the topic alias resolved (paho
        2.2 leaves that to the application)."""
        try:
            m = self.messages.get(timeout=T)
        except queue.Empty:
            fail(f"{self.id}: no message")
        topic = m.topic
        alias = getattr(m.properties, "TopicAlias", None)
        if alias is not None:
            if topic:
                self.aliases[alias] = topic
            else:
                check(alias in self.aliases, f"{self.id}: unknown alias {alias}")
                topic = self.aliases[alias]
        return topic, m


sub = V5("paho-v5-sub", alias_max=5)
sub.subscribe("v5/#", 1, 9)
old = Client("paho-311-sub").connect()
old.subscribe("v5/#", 1)

pub = V5("paho-v5-pub")
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
