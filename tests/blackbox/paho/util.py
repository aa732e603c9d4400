"""Small helpers shared by the paho-mqtt interop scripts.

Each script is run as `python3 SCRIPT PORT`, talks to the broker on
127.0.0.1:PORT and exits non-zero (with a message on stderr) on failure.
Every wait is bounded by T seconds.
"""

import queue
import sys
import threading

import paho.mqtt.client as mqtt

PORT = int(sys.argv[1])
T = 5.0


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


class Client:
    """A paho client running its network loop in a thread."""

    def __init__(self, client_id, clean=True, protocol=mqtt.MQTTv311, will=None, transport="tcp"):
        self.id = client_id
        self.c = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean,
            protocol=protocol,
            transport=transport,
        )
        if will is not None:
            self.c.will_set(**will)
        self.messages = queue.Queue()
        self.subacks = queue.Queue()
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.session_present = None
        self.c.on_connect = self._on_connect
        self.c.on_message = lambda c, u, msg: self.messages.put(msg)
        self.c.on_subscribe = lambda c, u, mid, codes, p: self.subacks.put((mid, codes))
        self.c.on_disconnect = lambda c, u, flags, rc, p: self.disconnected.set()

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            print(f"{self.id}: CONNACK {reason_code}", file=sys.stderr)
            return
        self.session_present = flags.session_present
        self.connected.set()

    def connect(self, keepalive=60, loop=True, port=None):
        self.c.connect("127.0.0.1", port or PORT, keepalive=keepalive)
        if loop:
            self.c.loop_start()
            check(self.connected.wait(T), f"{self.id}: no CONNACK")
        return self

    def subscribe(self, topic, qos):
        _, mid = self.c.subscribe(topic, qos)
        try:
            got_mid, codes = self.subacks.get(timeout=T)
        except queue.Empty:
            fail(f"{self.id}: no SUBACK for {topic}")
        check(got_mid == mid, f"{self.id}: SUBACK mid {got_mid} != {mid}")
        granted = [getattr(c, "value", c) for c in codes]
        check(granted == [qos], f"{self.id}: granted {granted}, wanted [{qos}]")

    def publish(self, topic, payload, qos=0, retain=False):
        info = self.c.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(T)
        check(info.is_published(), f"{self.id}: publish to {topic} not completed")

    def expect(self, topic, payload, qos, retain=False):
        try:
            m = self.messages.get(timeout=T)
        except queue.Empty:
            fail(f"{self.id}: no message on {topic}")
        got = (m.topic, m.payload, m.qos, bool(m.retain))
        want = (topic, payload, qos, retain)
        check(got == want, f"{self.id}: got {got}, wanted {want}")

    def expect_nothing(self, secs=0.3):
        try:
            m = self.messages.get(timeout=secs)
            fail(f"{self.id}: unexpected message {m.topic} {m.payload!r}")
        except queue.Empty:
            pass

    def disconnect(self):
        self.c.disconnect()
        self.c.loop_stop()

    def drop(self):
        """Ends the connection without DISCONNECT."""
        self.c.loop_stop()
        sock = self.c.socket()
        import socket

        sock.shutdown(socket.SHUT_RDWR)
        sock.close()


class V5:
    """A paho MQTT 5 client with its network loop in a thread. `alias_max`
    lets the broker send topic aliases, which `next` resolves (paho 2.2
    leaves that to the application)."""

    def __init__(self, client_id, alias_max=0):
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        self.id = client_id
        self.alias_max = alias_max
        self.c = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self.messages = queue.Queue()
        self.subacks = queue.Queue()
        self.aliases = {}
        self.connected = threading.Event()
        self.flags = None
        self.connack_props = None
        self.c.on_connect = self._on_connect
        self.c.on_message = lambda c, u, m: self.messages.put(m)
        self.c.on_subscribe = lambda c, u, mid, codes, p: self.subacks.put((mid, codes))
        self._props = lambda kind: Properties(getattr(PacketTypes, kind))

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            print(f"{self.id}: CONNACK {reason_code}", file=sys.stderr)
            return
        self.flags = flags
        self.connack_props = properties
        self.connected.set()

    def connect(self, clean_start=True, expiry=None):
        props = self._props("CONNECT")
        props.TopicAliasMaximum = self.alias_max
        if expiry is not None:
            props.SessionExpiryInterval = expiry
        self.connected.clear()
        self.c.connect("127.0.0.1", PORT, clean_start=clean_start, properties=props)
        self.c.loop_start()
        check(self.connected.wait(T), f"{self.id}: no CONNACK")
        return self

    def subscribe(self, topic, qos, sub_id=None):
        props = None
        if sub_id is not None:
            props = self._props("SUBSCRIBE")
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
        """The next message and its topic, the topic alias resolved."""
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

    def disconnect(self):
        self.c.disconnect()
        self.c.loop_stop()
