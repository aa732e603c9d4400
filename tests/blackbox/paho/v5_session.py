"""MQTT 5.0 with paho, beyond v5_publish.py: topic aliases from the
publisher, session expiry keeping an offline queue, assigned client
identifiers. Run as `python3 v5_session.py PORT`."""

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from util import V5, Client, check

# Topic alias from the publisher: set once with the topic, then used alone;
# the 3.1.1 subscriber gets the full topic every time.
v5sub = V5("paho5-sub").connect()
v5sub.subscribe("v5/#", 1)
v3sub = Client("paho311-sub").connect()
v3sub.subscribe("v5/#", 1)
pub = V5("paho5-pub").connect()
p = Properties(PacketTypes.PUBLISH)
p.TopicAlias = 3
pub.publish("v5/alias", b"first", qos=1, props=p)
pub.publish("", b"second", qos=1, props=p)
for want in (b"first", b"second"):
    topic, m = v5sub.next()
    check((topic, m.payload) == ("v5/alias", want), f"alias: got {topic!r} {m.payload}")
    check(getattr(m.properties, "TopicAlias", None) is None, "alias forwarded")
    v3sub.expect("v5/alias", want, 1)
v5sub.disconnect()
v3sub.disconnect()

# Session expiry: an offline session keeps its subscription and queue.
s = V5("paho5-persist").connect(clean_start=True, expiry=60)
s.subscribe("persist/t", 1)
s.disconnect()
pub.publish("persist/t", b"while away", qos=1)
s = V5("paho5-persist").connect(clean_start=False, expiry=60)
check(s.flags.session_present, "session present after reconnect within expiry")
topic, m = s.next()
check((topic, m.payload) == ("persist/t", b"while away"), f"queued: {topic} {m.payload}")
s.disconnect()

# An empty client ID gets one assigned.
anon = V5("").connect()
assigned = getattr(anon.connack_props, "AssignedClientIdentifier", "")
check(len(assigned) > 0, f"no assigned client identifier: {anon.connack_props}")
anon.disconnect()
pub.disconnect()
print("ok")
