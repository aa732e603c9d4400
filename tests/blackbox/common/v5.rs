//! MQTT 5.0 for the black-box tests, in raw bytes and independent of the
//! broker's codec: a property builder, builders for the packets a client
//! sends, parsers for the ones the broker sends, and `Client` helpers.
//! CONNECT is `packets::Connect::v5(..).props(..)`.

use super::client::Client;
use super::packets::{hex, mqtt_str, packet, remaining_length, Connect};
use super::{Recv, WAIT};
use std::time::Duration;

/// Property identifiers (§2.2.2.2).
pub mod prop {
    pub const PAYLOAD_FORMAT_INDICATOR: u8 = 0x01;
    pub const MESSAGE_EXPIRY_INTERVAL: u8 = 0x02;
    pub const CONTENT_TYPE: u8 = 0x03;
    pub const RESPONSE_TOPIC: u8 = 0x08;
    pub const CORRELATION_DATA: u8 = 0x09;
    pub const SUBSCRIPTION_IDENTIFIER: u8 = 0x0B;
    pub const SESSION_EXPIRY_INTERVAL: u8 = 0x11;
    pub const ASSIGNED_CLIENT_IDENTIFIER: u8 = 0x12;
    pub const SERVER_KEEP_ALIVE: u8 = 0x13;
    pub const AUTHENTICATION_METHOD: u8 = 0x15;
    pub const AUTHENTICATION_DATA: u8 = 0x16;
    pub const REQUEST_PROBLEM_INFORMATION: u8 = 0x17;
    pub const WILL_DELAY_INTERVAL: u8 = 0x18;
    pub const REQUEST_RESPONSE_INFORMATION: u8 = 0x19;
    pub const RESPONSE_INFORMATION: u8 = 0x1A;
    pub const SERVER_REFERENCE: u8 = 0x1C;
    pub const REASON_STRING: u8 = 0x1F;
    pub const RECEIVE_MAXIMUM: u8 = 0x21;
    pub const TOPIC_ALIAS_MAXIMUM: u8 = 0x22;
    pub const TOPIC_ALIAS: u8 = 0x23;
    pub const MAXIMUM_QOS: u8 = 0x24;
    pub const RETAIN_AVAILABLE: u8 = 0x25;
    pub const USER_PROPERTY: u8 = 0x26;
    pub const MAXIMUM_PACKET_SIZE: u8 = 0x27;
    pub const WILDCARD_SUBSCRIPTION_AVAILABLE: u8 = 0x28;
    pub const SUBSCRIPTION_IDENTIFIER_AVAILABLE: u8 = 0x29;
    pub const SHARED_SUBSCRIPTION_AVAILABLE: u8 = 0x2A;
}

/// Builds a property block: `Props::new().u32(prop::X, 10).build()` gives
/// the varint length followed by the properties, in the order added (so
/// tests can also build duplicates and misplaced properties on purpose).
#[derive(Clone, Debug, Default)]
pub struct Props(Vec<u8>);

impl Props {
    pub fn new() -> Props {
        Props(Vec::new())
    }
    pub fn byte(mut self, id: u8, v: u8) -> Props {
        self.0.extend([id, v]);
        self
    }
    pub fn u16(mut self, id: u8, v: u16) -> Props {
        self.0.push(id);
        self.0.extend(v.to_be_bytes());
        self
    }
    pub fn u32(mut self, id: u8, v: u32) -> Props {
        self.0.push(id);
        self.0.extend(v.to_be_bytes());
        self
    }
    pub fn varint(mut self, id: u8, v: u32) -> Props {
        self.0.push(id);
        self.0.extend(remaining_length(v as usize));
        self
    }
    pub fn str(self, id: u8, s: &str) -> Props {
        self.bin(id, s.as_bytes())
    }
    pub fn bin(mut self, id: u8, b: &[u8]) -> Props {
        self.0.push(id);
        self.0.extend(mqtt_str(b));
        self
    }
    pub fn user(mut self, k: &str, v: &str) -> Props {
        self.0.push(prop::USER_PROPERTY);
        self.0.extend(mqtt_str(k.as_bytes()));
        self.0.extend(mqtt_str(v.as_bytes()));
        self
    }
    /// Bytes as given, for malformed properties.
    pub fn raw(mut self, bytes: &[u8]) -> Props {
        self.0.extend_from_slice(bytes);
        self
    }
    pub fn build(&self) -> Vec<u8> {
        let mut out = remaining_length(self.0.len());
        out.extend_from_slice(&self.0);
        out
    }
}

/// One decoded property value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Int(u32),
    Str(String),
    Bin(Vec<u8>),
    Pair(String, String),
}

/// Properties received from the broker, in wire order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PropList(pub Vec<(u8, Value)>);

impl PropList {
    pub fn get(&self, id: u8) -> Option<&Value> {
        self.0.iter().find(|(i, _)| *i == id).map(|(_, v)| v)
    }
    pub fn int(&self, id: u8) -> Option<u32> {
        match self.get(id)? {
            Value::Int(v) => Some(*v),
            other => panic!("property 0x{id:02x} is not an integer: {other:?}"),
        }
    }
    pub fn str(&self, id: u8) -> Option<String> {
        match self.get(id)? {
            Value::Str(s) => Some(s.clone()),
            other => panic!("property 0x{id:02x} is not a string: {other:?}"),
        }
    }
    pub fn bin(&self, id: u8) -> Option<Vec<u8>> {
        match self.get(id)? {
            Value::Bin(b) => Some(b.clone()),
            other => panic!("property 0x{id:02x} is not binary: {other:?}"),
        }
    }
    pub fn all_ints(&self, id: u8) -> Vec<u32> {
        let ints = self.0.iter().filter(|(i, _)| *i == id);
        ints.map(|(_, v)| match v {
            Value::Int(n) => *n,
            other => panic!("property 0x{id:02x} is not an integer: {other:?}"),
        })
        .collect()
    }
    pub fn users(&self) -> Vec<(String, String)> {
        let pairs = self.0.iter().filter_map(|(_, v)| match v {
            Value::Pair(k, v) => Some((k.clone(), v.clone())),
            _ => None,
        });
        pairs.collect()
    }
}

/// A reader over a packet body that panics (fails the test) on anything
/// malformed, naming the bytes.
pub struct Body<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Body<'a> {
    pub fn new(b: &'a [u8]) -> Body<'a> {
        Body { b, at: 0 }
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        assert!(self.at + n <= self.b.len(), "short packet: {}", hex(self.b));
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        s
    }
    pub fn u8(&mut self) -> u8 {
        self.take(1)[0]
    }
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.take(2).try_into().unwrap())
    }
    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.take(4).try_into().unwrap())
    }
    pub fn varint(&mut self) -> u32 {
        let (mut v, mut mult) = (0u32, 1u32);
        for _ in 0..4 {
            let b = self.u8();
            v += u32::from(b & 0x7f) * mult;
            if b & 0x80 == 0 {
                return v;
            }
            mult *= 128;
        }
        panic!("varint over 4 bytes: {}", hex(self.b))
    }
    pub fn bin(&mut self) -> Vec<u8> {
        let n = self.u16() as usize;
        self.take(n).to_vec()
    }
    pub fn string(&mut self) -> String {
        String::from_utf8(self.bin()).unwrap_or_else(|_| panic!("not UTF-8: {}", hex(self.b)))
    }
    pub fn rest(&mut self) -> Vec<u8> {
        self.take(self.b.len() - self.at).to_vec()
    }
    pub fn is_empty(&self) -> bool {
        self.at == self.b.len()
    }

    /// A property block; unknown identifiers fail the test.
    pub fn props(&mut self) -> PropList {
        let len = self.varint() as usize;
        let end = self.at + len;
        let mut out = Vec::new();
        while self.at < end {
            let id = self.u8();
            let v = match id {
                0x01 | 0x17 | 0x19 | 0x24 | 0x25 | 0x28 | 0x29 | 0x2A => {
                    Value::Int(self.u8().into())
                }
                0x13 | 0x21 | 0x22 | 0x23 => Value::Int(self.u16().into()),
                0x02 | 0x11 | 0x18 | 0x27 => Value::Int(self.u32()),
                0x0B => Value::Int(self.varint()),
                0x03 | 0x08 | 0x12 | 0x15 | 0x1A | 0x1C | 0x1F => Value::Str(self.string()),
                0x09 | 0x16 => Value::Bin(self.bin()),
                0x26 => Value::Pair(self.string(), self.string()),
                other => panic!("unknown property 0x{other:02x} in {}", hex(self.b)),
            };
            out.push((id, v));
        }
        assert_eq!(self.at, end, "property block overruns: {}", hex(self.b));
        PropList(out)
    }
}

/// PUBLISH with properties; `pid` is written only when qos > 0.
pub fn publish(
    topic: &str,
    payload: &[u8],
    qos: u8,
    retain: bool,
    pid: u16,
    props: &Props,
) -> Vec<u8> {
    let mut body = mqtt_str(topic.as_bytes());
    if qos > 0 {
        body.extend(pid.to_be_bytes());
    }
    body.extend(props.build());
    body.extend_from_slice(payload);
    packet(0x30 | (qos << 1) | retain as u8, &body)
}

/// SUBSCRIBE with options bytes (QoS | no-local 0x04 | retain-as-published
/// 0x08 | retain handling << 4).
pub fn subscribe(pid: u16, filters: &[(&str, u8)], props: &Props) -> Vec<u8> {
    let mut body = pid.to_be_bytes().to_vec();
    body.extend(props.build());
    for (f, opts) in filters {
        body.extend(mqtt_str(f.as_bytes()));
        body.push(*opts);
    }
    packet(0x82, &body)
}

pub fn unsubscribe(pid: u16, filters: &[&str], props: &Props) -> Vec<u8> {
    let mut body = pid.to_be_bytes().to_vec();
    body.extend(props.build());
    for f in filters {
        body.extend(mqtt_str(f.as_bytes()));
    }
    packet(0xa2, &body)
}

/// PUBACK (0x40), PUBREC (0x50), PUBREL (0x62), PUBCOMP (0x70) with a
/// reason code and properties.
pub fn ack(first: u8, pid: u16, reason: u8, props: &Props) -> Vec<u8> {
    let mut body = pid.to_be_bytes().to_vec();
    body.push(reason);
    body.extend(props.build());
    packet(first, &body)
}

pub fn disconnect(reason: u8, props: &Props) -> Vec<u8> {
    let mut body = vec![reason];
    body.extend(props.build());
    packet(0xe0, &body)
}

pub fn auth(reason: u8, props: &Props) -> Vec<u8> {
    let mut body = vec![reason];
    body.extend(props.build());
    packet(0xf0, &body)
}

#[derive(Clone, Debug)]
pub struct ConnAck {
    pub session_present: bool,
    pub reason: u8,
    pub props: PropList,
}

#[derive(Clone, Debug)]
pub struct Publish {
    pub first: u8,
    pub topic: String,
    pub pid: Option<u16>,
    pub props: PropList,
    pub payload: Vec<u8>,
}

impl Publish {
    pub fn qos(&self) -> u8 {
        (self.first >> 1) & 3
    }
    pub fn dup(&self) -> bool {
        self.first & 0x08 != 0
    }
    pub fn retain(&self) -> bool {
        self.first & 0x01 != 0
    }
}

/// A reason-code packet (acks, DISCONNECT, AUTH), short forms expanded:
/// a missing reason code is 0x00, missing properties are none (§3.4.2.1).
#[derive(Clone, Debug)]
pub struct Reasoned {
    pub first: u8,
    pub pid: Option<u16>,
    pub reason: u8,
    pub props: PropList,
}

/// SUBACK or UNSUBACK.
#[derive(Clone, Debug)]
pub struct SubAck {
    pub pid: u16,
    pub props: PropList,
    pub codes: Vec<u8>,
}

pub fn parse_connack(first: u8, body: &[u8]) -> ConnAck {
    assert_eq!(
        first,
        0x20,
        "expected CONNACK, got {}",
        hex(&packet(first, body))
    );
    let mut b = Body::new(body);
    let flags = b.u8();
    assert!(flags <= 1, "CONNACK flags {flags:#x}");
    let reason = b.u8();
    let props = b.props();
    assert!(b.is_empty(), "CONNACK trailing bytes: {}", hex(body));
    ConnAck {
        session_present: flags == 1,
        reason,
        props,
    }
}

pub fn parse_publish(first: u8, body: &[u8]) -> Publish {
    assert_eq!(
        first >> 4,
        3,
        "expected PUBLISH, got {}",
        hex(&packet(first, body))
    );
    let mut b = Body::new(body);
    let topic = b.string();
    let pid = ((first >> 1) & 3 > 0).then(|| b.u16());
    let props = b.props();
    Publish {
        first,
        topic,
        pid,
        props,
        payload: b.rest(),
    }
}

/// Acks (with packet id), DISCONNECT and AUTH (without).
pub fn parse_reasoned(first: u8, body: &[u8]) -> Reasoned {
    let mut b = Body::new(body);
    let pid = matches!(first >> 4, 4..=7).then(|| b.u16());
    let reason = if b.is_empty() { 0 } else { b.u8() };
    let props = if b.is_empty() {
        PropList::default()
    } else {
        b.props()
    };
    assert!(
        b.is_empty(),
        "trailing bytes: {}",
        hex(&packet(first, body))
    );
    Reasoned {
        first,
        pid,
        reason,
        props,
    }
}

pub fn parse_suback(first: u8, body: &[u8]) -> SubAck {
    assert!(
        first == 0x90 || first == 0xb0,
        "expected (UN)SUBACK, got {}",
        hex(&packet(first, body))
    );
    let mut b = Body::new(body);
    let pid = b.u16();
    let props = b.props();
    SubAck {
        pid,
        props,
        codes: b.rest(),
    }
}

/// Options byte of a v5 subscription.
pub fn sub_opts(qos: u8, no_local: bool, retain_as_published: bool, retain_handling: u8) -> u8 {
    qos | (no_local as u8) << 2 | (retain_as_published as u8) << 3 | retain_handling << 4
}

impl Client {
    /// Sends a v5 CONNECT and returns the CONNACK, whatever its reason.
    pub fn connect_v5(port: u16, connect: &Connect) -> (Client, ConnAck) {
        assert_eq!(
            connect.level, 5,
            "connect_v5 with a level {} CONNECT",
            connect.level
        );
        let mut c = Client::tcp(port, &String::from_utf8_lossy(&connect.client_id));
        c.send(&connect.build());
        let (first, body) = c.recv_packet();
        (c, parse_connack(first, &body))
    }

    pub fn recv_publish_v5(&mut self) -> Publish {
        let (first, body) = self.recv_packet();
        parse_publish(first, &body)
    }

    /// Next packet must be a reason-code packet with this first byte.
    pub fn recv_reasoned(&mut self, first: u8) -> Reasoned {
        let (f, body) = self.recv_packet();
        assert_eq!(
            f,
            first,
            "[{}] expected {first:#x}, got {}",
            self.name,
            hex(&packet(f, &body))
        );
        parse_reasoned(f, &body)
    }

    /// Next packet is a DISCONNECT with `reason`, then the broker closes.
    pub fn expect_disconnect_v5(&mut self, reason: u8) -> Reasoned {
        let d = self.recv_reasoned(0xe0);
        assert_eq!(d.reason, reason, "[{}] DISCONNECT reason: {d:?}", self.name);
        self.expect_closed(WAIT);
        d
    }

    /// SUBSCRIBE (v5) and the SUBACK.
    pub fn subscribe_v5(&mut self, filters: &[(&str, u8)], props: &Props) -> SubAck {
        let pid = self.pid();
        self.send(&subscribe(pid, filters, props));
        let (first, body) = self.recv_packet();
        let ack = parse_suback(first, &body);
        assert_eq!(ack.pid, pid, "[{}] SUBACK packet id", self.name);
        ack
    }

    /// Next packet, or `None` if the connection closed or stayed quiet for
    /// `within`.
    pub fn next_within(&mut self, within: Duration) -> Option<(u8, Vec<u8>)> {
        match self.try_recv(within) {
            Recv::Packet(f, b) => Some((f, b)),
            Recv::Closed(_) | Recv::Timeout => None,
        }
    }
}

/// Connects with this v5 CONNECT, which must be accepted (reason 0x00).
pub fn connect5(port: u16, connect: &Connect) -> (Client, ConnAck) {
    let (c, ack) = Client::connect_v5(port, connect);
    assert_eq!(ack.reason, 0, "[{}] CONNACK refused: {ack:?}", c.name);
    (c, ack)
}

/// A v5 CONNECT with clean start `clean` and Session Expiry Interval
/// `expiry` (absent when `None`).
pub fn connect_expiry(id: &str, clean: bool, expiry: Option<u32>) -> Connect {
    let props = match expiry {
        Some(e) => Props::new().u32(prop::SESSION_EXPIRY_INTERVAL, e),
        None => Props::new(),
    };
    Connect::v5(id).clean(clean).props(props.build())
}

impl super::Broker {
    /// A v5 client with these CONNECT properties (clean start); the
    /// CONNACK must accept it.
    pub fn connect_v5(&self, id: &str, props: &Props) -> Client {
        self.connect_v5_with(Connect::v5(id).props(props.build()))
    }

    /// A v5 client from this CONNECT; the CONNACK must accept it.
    pub fn connect_v5_with(&self, connect: Connect) -> Client {
        let (c, ack) = Client::connect_v5(self.port, &connect);
        assert_eq!(ack.reason, 0, "[{}] CONNACK {ack:?}", c.name);
        c
    }
}

impl Client {
    /// PUBLISH (v5) and complete the sender's side of its QoS flow; returns
    /// the PUBACK or PUBREC (None at QoS 0).
    pub fn publish_v5(
        &mut self,
        topic: &str,
        payload: &[u8],
        qos: u8,
        retain: bool,
        props: &Props,
    ) -> Option<Reasoned> {
        let pid = if qos > 0 { self.pid() } else { 0 };
        self.send(&publish(topic, payload, qos, retain, pid, props));
        let ack = match qos {
            0 => return None,
            1 => self.recv_reasoned(0x40),
            _ => self.recv_reasoned(0x50),
        };
        assert_eq!(ack.pid, Some(pid), "[{}] ack packet id", self.name);
        if qos == 2 && ack.reason < 0x80 {
            self.send(&ack_packet(0x62, pid));
            let comp = self.recv_reasoned(0x70);
            assert_eq!((comp.pid, comp.reason), (Some(pid), 0), "[{}]", self.name);
        }
        Some(ack)
    }

    /// Next packet is a v5 PUBLISH on `topic` with `payload`; acknowledged.
    pub fn expect_msg_v5(&mut self, topic: &str, payload: &[u8]) -> Publish {
        let p = self.recv_publish_v5();
        assert_eq!(
            (p.topic.as_str(), &p.payload[..]),
            (topic, payload),
            "[{}] unexpected PUBLISH {p:?}",
            self.name
        );
        self.ack_v5(&p);
        p
    }

    /// The receiver's side of the QoS flow of `p`.
    pub fn ack_v5(&mut self, p: &Publish) {
        let Some(pid) = p.pid else { return };
        if p.qos() == 1 {
            return self.send(&ack_packet(0x40, pid));
        }
        self.send(&ack_packet(0x50, pid));
        let rel = self.recv_reasoned(0x62);
        assert_eq!(rel.pid, Some(pid), "[{}] PUBREL packet id", self.name);
        self.send(&ack_packet(0x70, pid));
    }
}

/// An ack with reason 0 in its short form (packet id only).
pub fn ack_packet(first: u8, pid: u16) -> Vec<u8> {
    packet(first, &pid.to_be_bytes())
}
