"""QoS 0/1/2 publish and subscribe with paho, MQTT 3.1.1 and 3.1."""

import paho.mqtt.client as mqtt

from util import Client

subs = {q: Client(f"paho-sub{q}").connect() for q in range(3)}
for q, s in subs.items():
    s.subscribe("paho/t", q)

for proto, name in [(mqtt.MQTTv311, "311"), (mqtt.MQTTv31, "31")]:
    pub = Client(f"paho-pub{name}", protocol=proto).connect()
    for pq in range(3):
        payload = f"{name} at {pq}".encode()
        pub.publish("paho/t", payload, qos=pq)
        for sq, s in subs.items():
            s.expect("paho/t", payload, min(pq, sq))
    pub.disconnect()

for s in subs.values():
    s.expect_nothing()
    s.disconnect()
print("ok")
