"""MQTT 5.0 with paho: properties pass through, 3.1.1 <-> 5.0 exchange,
session expiry, subscription identifiers, topic aliases from the client,
assigned client identifiers. Run as `python3 v5.py PORT`."""

import queue
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from util import PORT, T, Client, check, fail


class V5:
    """A paho MQTT 5 client with its network loop in a thread."""

    def __init__(self, client_id):
        self.id = client_id
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=mqtt.MQTTv5)
        self.messages = queue.Queue()
        self.subacks = queue.Queue()
        self.connected = threading.Event()
        self.flags = None
        self.connack_props = None
        self.c.on_connect = self._on_connect
        self.c.on_message = lambda c, u, m: self.messages.put(m)
        self.c.on_subscribe = lambda c, u, mid, codes, p: self.subacks.put((mid, codes))

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            print(f"{self.id}: CONNACK {reason_code}")
            return
        self.flags = flags
        self.connack_props = properties
        self.connected.set()

    def connect(self, clean_start=True, expiry=None):
        props = None
        if expiry is not None:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = expiry
        self.connected.clear()
        self.c.connect("127.0.0.1", PORT, clean_start=clean_start, properties=props)
        self.c.loop_start()
        check(self.connected.wait(T), f"{self.id}: no CONNACK")
        return self

    def subscribe(self, topic, qos, sub_id=None):
        props = None
        if sub_id is not None:
            props = Properties(PacketTypes.SUBSCRIBE)
            props.SubscriptionIdentifier = sub_id
        _, mid = self.c.subscribe(topic, qos, properties=props)
        try:
            got, codes = self.subacks.get(timeout=T)
        except queue.Empty:
            fail(f"{self.id}: no SUBACK for {topic}")
        check(got == mid, f"{self.id}: SUBACK mid {got} != {mid}")
        check([c.value for c in codes] == [qos], f"{self.id}: SUBACK {codes}")

    def publish(self, topic, payload, qos=0, props=None):
        info = self.c.publish(topic, payload, qos=qos, properties=props)
        info.wait_for_publish(T)
        check(info.is_published(), f"{self.id}: publish to {topic!r} not completed")

    def next(self):
        try:
            return self.messages.get(timeout=T)
        except queue.Empty:
            fail(f"{self.id}: no message")

    def disconnect(self):
        self.c.disconnect()
        self.c.loop_stop()


def full_props():
    p = Properties(PacketTypes.PUBLISH)
    p.PayloadFormatIndicator = 1
    p.MessageExpiryInterval = 3600
    p.ContentType = "text/plain"
    p.ResponseTopic = "v5/reply"
    p.CorrelationData = b"\x00corr\xff"
    p.UserProperty = [("k1", "v1"), ("k2", "v2"), ("k1", "again")]
    return p


# Properties pass through to a v5 subscriber; a 3.1.1 subscriber gets the
# same message as plain 3.1.1.
v5sub = V5("paho5-sub").connect()
v5sub.subscribe("v5/#", 1)
v3sub = Client("paho311-sub").connect()
v3sub.subscribe("v5/#", 1)
pub = V5("paho5-pub").connect()
pub.publish("v5/props", b"hello", qos=1, props=full_props())
m = v5sub.next()
check((m.topic, m.payload, m.qos) == ("v5/props", b"hello", 1), f"v5 sub got {m.topic} {m.payload}")
p = m.properties
check(getattr(p, "PayloadFormatIndicator", None) == 1, f"payload format: {p}")
check(0 < getattr(p, "MessageExpiryInterval", 0) <= 3600, f"expiry: {p}")
check(getattr(p, "ContentType", None) == "text/plain", f"content type: {p}")
check(getattr(p, "ResponseTopic", None) == "v5/reply", f"response topic: {p}")
check(getattr(p, "CorrelationData", None) == b"\x00corr\xff", f"correlation: {p}")
check(getattr(p, "UserProperty", None) == [("k1", "v1"), ("k2", "v2"), ("k1", "again")],
      f"user properties (order kept): {p}")
v3sub.expect("v5/props", b"hello", 1)

# 3.1.1 publisher -> v5 subscriber: no properties appear.
v3pub = Client("paho311-pub").connect()
v3pub.publish("v5/plain", b"from 3.1.1", qos=1)
m = v5sub.next()
check((m.topic, m.payload) == ("v5/plain", b"from 3.1.1"), f"v5 sub got {m.topic}")
check(not getattr(m.properties, "UserProperty", None), f"unexpected properties {m.properties}")
v3sub.expect("v5/plain", b"from 3.1.1", 1)
v3pub.disconnect()

# Topic alias from the publisher: set once with the topic, then used alone.
p = Properties(PacketTypes.PUBLISH)
p.TopicAlias = 3
pub.publish("v5/alias", b"first", qos=1, props=p)
pub.publish("", b"second", qos=1, props=p)
for want in (b"first", b"second"):
    m = v5sub.next()
    check((m.topic, m.payload) == ("v5/alias", want), f"alias: got {m.topic!r} {m.payload}")
    v3sub.expect("v5/alias", want, 1)
v5sub.disconnect()
v3sub.disconnect()

# Subscription identifier comes back on the matching PUBLISH.
ids = V5("paho5-ids").connect()
ids.subscribe("ids/+", 0, sub_id=42)
pub.publish("ids/x", b"x")
m = ids.next()
check(getattr(m.properties, "SubscriptionIdentifier", None) == [42], f"sub id: {m.properties}")
ids.disconnect()

# Session expiry: an offline session keeps its subscription and queue.
s = V5("paho5-persist").connect(clean_start=True, expiry=60)
s.subscribe("persist/t", 1)
s.disconnect()
pub.publish("persist/t", b"while away", qos=1)
s = V5("paho5-persist").connect(clean_start=False, expiry=60)
check(s.flags.session_present, "session present after reconnect within expiry")
m = s.next()
check((m.topic, m.payload) == ("persist/t", b"while away"), f"queued: {m.topic} {m.payload}")
s.disconnect()

# An empty client ID gets one assigned.
anon = V5("").connect()
assigned = getattr(anon.connack_props, "AssignedClientIdentifier", "")
check(len(assigned) > 0, f"no assigned client identifier: {anon.connack_props}")
anon.disconnect()
pub.disconnect()
print("ok")
