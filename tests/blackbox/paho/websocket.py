"""paho-mqtt over WebSocket and secure WebSocket (`transport="websockets"`).

Run as `python3 websocket.py TCP_PORT WS_PORT WSS_PORT CAFILE`: subscribers
over ws and wss (MQTT 3.1.1 and 3.1) get what a TCP client and each other
publish, QoS 0 to 2, a payload larger than one frame included.
"""

import sys

import paho.mqtt.client as mqtt

from util import Client

WS, WSS, CAFILE = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]


def ws(client_id, tls=False, protocol=mqtt.MQTTv311):
    c = Client(client_id, protocol=protocol, transport="websockets")
    c.c.ws_set_options(path="/mqtt")
    if tls:
        c.c.tls_set(ca_certs=CAFILE)
    return c.connect(port=WSS if tls else WS)


subs = [
    ws("paho-ws-sub"),
    ws("paho-wss-sub", tls=True),
    ws("paho-ws31-sub", protocol=mqtt.MQTTv31),
]
for s in subs:
    s.subscribe("pws/#", 2)

pubs = [Client("paho-tcp-pub").connect(), ws("paho-ws-pub"), ws("paho-wss-pub", tls=True)]
for n, p in enumerate(pubs):
    for q in range(3):
        payload = f"{p.id} at {q}".encode()
        p.publish(f"pws/{n}", payload, qos=q)
        for s in subs:
            s.expect(f"pws/{n}", payload, q)
big = bytes(range(256)) * 400  # 100 KiB: many frames' worth
pubs[2].publish("pws/big", big, qos=1)
for s in subs:
    s.expect("pws/big", big, 1)

for c in subs + pubs:
    c.expect_nothing(0.1)
    c.disconnect()
print("ok")
