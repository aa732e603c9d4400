"""paho-mqtt over TLS: `python3 tls.py TLS_PORT TCP_PORT CERT_DIR`.

A TLS subscriber (trusting the test CA) gets what a TCP publisher sends; a
client presenting a certificate (mTLS) publishes to it over TLS, MQTT 3.1.1
and 5.
"""

import os
import ssl
import sys

import util
from util import V5, Client, check

TCP_PORT = int(sys.argv[2])
CERTS = sys.argv[3]


def over_tls(client, cert=None):
    client.c.tls_set(
        ca_certs=os.path.join(CERTS, "ca.pem"),
        certfile=cert and os.path.join(CERTS, cert + ".pem"),
        keyfile=cert and os.path.join(CERTS, cert + ".key"),
        cert_reqs=ssl.CERT_REQUIRED,
    )
    return client


sub = over_tls(Client("paho-tls-sub")).connect()
sub.subscribe("tls/#", 1)

util.PORT = TCP_PORT
pub = Client("paho-tcp-pub").connect()
pub.publish("tls/a", b"tcp to tls", qos=1)
sub.expect("tls/a", b"tcp to tls", 1)
pub.disconnect()

util.PORT = int(sys.argv[1])
for m in [Client("paho-mtls-311"), V5("paho-mtls-5")]:
    over_tls(m, cert="alice").connect()
    m.publish("tls/b", f"mtls {m.id}".encode(), qos=1)
    sub.expect("tls/b", f"mtls {m.id}".encode(), 1)
    m.disconnect()

sub.expect_nothing()
sub.disconnect()
check(True, "")
print("ok")
