//! The records of the durable log: their kinds and bodies. Framing (length,
//! CRC32C, kind, partition) is `frame.rs`; this file is what goes inside.
//!
//! Sessions and messages are named by per-stream ids (`sid`, `mid`), never
//! by `SessionKey`, which a restart reassigns. A record may reference only
//! messages written earlier in the same segment, so a segment that begins
//! with a snapshot stands on its own once the older ones are deleted.

use crate::protocol::{
    decode_packet, encode_publish, parse_frame_header, MqttStr, Packet, ProtocolVersion,
    PublishRef, QoS, RetainHandling, SubscriptionOptions,
};
use crate::session::{Message, Origin, Subscription};
use bytes::Bytes;
use std::num::NonZeroU32;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Kinds. 1 is the segment header (`frame.rs`).
pub mod kind {
    pub const SNAP_BEGIN: u8 = 2;
    pub const SNAP_END: u8 = 3;
    /// A persistent session was created: sid, expiry, client ID.
    pub const SESSION: u8 = 10;
    pub const EXPIRY: u8 = 11;
    /// Its connection went away at this wall-clock time (ms).
    pub const OFFLINE: u8 = 12;
    pub const END: u8 = 13;
    pub const SUB: u8 = 14;
    pub const UNSUB: u8 = 15;
    /// A will waiting for its delay: delay, then the will as a PUBLISH.
    pub const WILL: u8 = 16;
    pub const WILL_GONE: u8 = 17;
    pub const QOS2_IN: u8 = 18;
    pub const QOS2_REL: u8 = 19;
    /// The whole state of one session (compaction): replaces what came before.
    pub const STATE: u8 = 20;
    /// This shard delivered a persistent publisher's QoS 2 message
    /// (publisher, packet id: `persist/qos2.rs`), and the end of that.
    pub const QOS2_SEEN: u8 = 21;
    pub const QOS2_FORGET: u8 = 22;
    /// A message body, stored once per segment: mid, wall-clock ms, PUBLISH.
    pub const MSG: u8 = 30;
    /// Joined the back of a session's queue: sid, mid, grant.
    pub const QUEUE: u8 = 31;
    /// Put in flight directly: sid, packet id, mid, grant.
    pub const SEND: u8 = 32;
    /// The queue's front went on the wire with this packet id (0: QoS 0, gone).
    pub const SEND_QUEUED: u8 = 33;
    pub const DROP_FRONT: u8 = 34;
    pub const DROP_INFLIGHT: u8 = 35;
    /// PUBACK or PUBCOMP: no longer in flight.
    pub const ACK: u8 = 36;
    /// PUBREC: in flight waiting for PUBCOMP, payload no longer needed.
    pub const REC: u8 = 37;
    /// A retained message (wall-clock ms, PUBLISH) or its deletion (topic).
    pub const RETAIN: u8 = 50;
    pub const UNRETAIN: u8 = 51;

    /// A name for reports (`check-data`).
    pub fn name(k: u8) -> &'static str {
        match k {
            1 => "header",
            SNAP_BEGIN => "snapshot-begin",
            SNAP_END => "snapshot-end",
            SESSION => "session",
            EXPIRY => "expiry",
            OFFLINE => "offline",
            END => "end",
            SUB => "subscribe",
            UNSUB => "unsubscribe",
            WILL => "will",
            WILL_GONE => "will-gone",
            QOS2_IN => "qos2-in",
            QOS2_REL => "qos2-released",
            STATE => "session-state",
            QOS2_SEEN => "qos2-seen",
            QOS2_FORGET => "qos2-forget",
            MSG => "message",
            QUEUE => "queue",
            SEND => "send",
            SEND_QUEUED => "send-queued",
            DROP_FRONT => "drop-front",
            DROP_INFLIGHT => "drop-inflight",
            ACK => "ack",
            REC => "pubrec",
            RETAIN => "retain",
            UNRETAIN => "unretain",
            _ => "unknown",
        }
    }
}

/// A record body that does not parse: corruption the CRC missed, or a
/// format this build does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadBody(pub &'static str);

impl std::fmt::Display for BadBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad record body: {}", self.0)
    }
}

/// Writes the fields of a body.
pub trait Put {
    fn u8(&mut self, v: u8);
    fn u16(&mut self, v: u16);
    fn u32(&mut self, v: u32);
    fn u64(&mut self, v: u64);
    /// A string of at most 65,535 bytes (MQTT's own limit).
    fn str(&mut self, s: &str);
    fn bytes(&mut self, b: &[u8]);
}

impl Put for Vec<u8> {
    fn u8(&mut self, v: u8) {
        self.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u16(s.len() as u16);
        self.extend_from_slice(s.as_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len() as u32);
        self.extend_from_slice(b);
    }
}

/// Reads the fields of a body, in the order they were put.
pub struct Body<'a> {
    b: &'a [u8],
}

impl<'a> Body<'a> {
    pub fn new(b: &'a [u8]) -> Body<'a> {
        Body { b }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], BadBody> {
        if self.b.len() < n {
            return Err(BadBody("truncated"));
        }
        let (h, t) = self.b.split_at(n);
        self.b = t;
        Ok(h)
    }

    pub fn u8(&mut self) -> Result<u8, BadBody> {
        Ok(self.take(1)?[0])
    }
    pub fn u16(&mut self) -> Result<u16, BadBody> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().unwrap()))
    }
    pub fn u32(&mut self) -> Result<u32, BadBody> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    pub fn u64(&mut self) -> Result<u64, BadBody> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    pub fn str(&mut self) -> Result<MqttStr, BadBody> {
        let n = self.u16()? as usize;
        let s = std::str::from_utf8(self.take(n)?).map_err(|_| BadBody("not UTF-8"))?;
        Ok(MqttStr::from(s))
    }
    pub fn bytes(&mut self) -> Result<&'a [u8], BadBody> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

/// Wall-clock milliseconds now.
pub fn unix_ms() -> u64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH);
    d.map_or(0, |d| d.as_millis() as u64)
}

/// The `Instant` of a wall-clock time in the past (now if in the future).
pub fn instant_of(ms: u64) -> Instant {
    let ago = unix_ms().saturating_sub(ms);
    let now = Instant::now();
    now.checked_sub(Duration::from_millis(ago)).unwrap_or(now)
}

/// The wall-clock time of an `Instant`, from one reading of both clocks
/// taken once per process: no clock read per record (a message's time
/// only decides its expiry, so a wall clock set later does not matter).
pub fn ms_of(t: Instant) -> u64 {
    static BASE: std::sync::OnceLock<(Instant, u64)> = std::sync::OnceLock::new();
    let (i, ms) = *BASE.get_or_init(|| (Instant::now(), unix_ms()));
    match t.checked_duration_since(i) {
        Some(d) => ms + d.as_millis() as u64,
        None => ms.saturating_sub(i.duration_since(t).as_millis() as u64),
    }
}

/// A message as an MQTT 5 PUBLISH (topic, payload, QoS, RETAIN, its
/// properties): the codec already writes and checks every property.
pub fn put_message(out: &mut Vec<u8>, m: &Message) {
    let p = PublishRef {
        topic: &m.topic,
        payload: &m.payload,
        qos: m.qos,
        retain: m.retain,
        dup: false,
        packet_id: if m.qos == QoS::AtMostOnce { 0 } else { 1 },
        properties: m.properties.as_deref(),
        topic_alias: None,
        subscription_ids: &[],
    };
    let at = out.len();
    out.u32(0);
    encode_publish(&p, ProtocolVersion::V5, out);
    let n = (out.len() - at - 4) as u32;
    out[at..at + 4].copy_from_slice(&n.to_le_bytes());
}

/// The message [`put_message`] wrote, published at wall-clock `ms`. Its
/// origin is the broker: the publisher's session key meant nothing after a
/// restart, and no-local was decided when it was delivered.
pub fn get_message(b: &mut Body<'_>, ms: u64) -> Result<Message, BadBody> {
    let raw = b.bytes()?;
    let h = parse_frame_header(raw, usize::MAX)
        .map_err(|_| BadBody("message header"))?
        .ok_or(BadBody("message header"))?;
    let frame = Bytes::copy_from_slice(raw);
    let Ok(Packet::Publish(p)) = decode_packet(frame, &h, ProtocolVersion::V5) else {
        return Err(BadBody("message is not a PUBLISH"));
    };
    Ok(Message {
        topic: p.topic,
        payload: p.payload,
        qos: p.qos,
        retain: p.retain,
        properties: p.properties,
        origin: Origin::Broker,
        published_at: instant_of(ms),
    })
}

/// A delivery's grant: QoS, RETAIN and subscription identifiers.
pub fn put_grant(out: &mut Vec<u8>, qos: QoS, retain: bool, ids: &[u32]) {
    out.u8(qos as u8 | (retain as u8) << 2);
    out.u8(ids.len().min(255) as u8);
    for &id in ids.iter().take(255) {
        out.u32(id);
    }
}

pub struct Grant {
    pub qos: QoS,
    pub retain: bool,
    pub ids: Vec<u32>,
}

pub fn get_grant(b: &mut Body<'_>) -> Result<Grant, BadBody> {
    let f = b.u8()?;
    let qos = qos_of(f & 3)?;
    let n = b.u8()? as usize;
    let ids = (0..n).map(|_| b.u32()).collect::<Result<_, _>>()?;
    Ok(Grant {
        qos,
        retain: f & 4 != 0,
        ids,
    })
}

pub fn qos_of(v: u8) -> Result<QoS, BadBody> {
    match v {
        0 => Ok(QoS::AtMostOnce),
        1 => Ok(QoS::AtLeastOnce),
        2 => Ok(QoS::ExactlyOnce),
        _ => Err(BadBody("QoS")),
    }
}

/// A subscription: options in one byte as SUBSCRIBE has them, then its
/// identifier (0: none). The ACL mark is derived, not stored.
pub fn put_sub(out: &mut Vec<u8>, filter: &str, s: &Subscription) {
    let o = &s.opts;
    let rh = match o.retain_handling {
        RetainHandling::SendOnSubscribe => 0,
        RetainHandling::SendIfNew => 1,
        RetainHandling::DoNotSend => 2,
    };
    out.u8(o.qos as u8 | (o.no_local as u8) << 2 | (o.retain_as_published as u8) << 3 | rh << 4);
    out.u32(s.id.map_or(0, NonZeroU32::get));
    out.str(filter);
}

pub fn get_sub(b: &mut Body<'_>) -> Result<(MqttStr, Subscription), BadBody> {
    let f = b.u8()?;
    let id = NonZeroU32::new(b.u32()?);
    let retain_handling = match f >> 4 {
        0 => RetainHandling::SendOnSubscribe,
        1 => RetainHandling::SendIfNew,
        2 => RetainHandling::DoNotSend,
        _ => return Err(BadBody("retain handling")),
    };
    let opts = SubscriptionOptions {
        qos: qos_of(f & 3)?,
        no_local: f & 4 != 0,
        retain_as_published: f & 8 != 0,
        retain_handling,
    };
    Ok((b.str()?, Subscription::new(opts, id)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::PublishProperties;
    use std::sync::Arc;

    #[test]
    fn message_round_trip_keeps_properties() {
        let props = PublishProperties {
            message_expiry_interval: Some(60),
            content_type: Some("text/plain".into()),
            ..Default::default()
        };
        let m = Message {
            topic: "a/b".into(),
            payload: Bytes::from_static(b"hello"),
            qos: QoS::ExactlyOnce,
            retain: true,
            properties: Some(Arc::new(props.clone())),
            origin: Origin::Broker,
            published_at: Instant::now(),
        };
        let mut v = Vec::new();
        put_message(&mut v, &m);
        let got = get_message(&mut Body::new(&v), unix_ms()).unwrap();
        assert_eq!(&*got.topic, "a/b");
        assert_eq!(&got.payload[..], b"hello");
        assert_eq!(got.qos, QoS::ExactlyOnce);
        assert!(got.retain);
        assert_eq!(got.properties.as_deref(), Some(&props));
    }

    #[test]
    fn subscription_and_grant_round_trip() {
        let opts = SubscriptionOptions {
            qos: QoS::AtLeastOnce,
            no_local: true,
            retain_as_published: true,
            retain_handling: RetainHandling::DoNotSend,
        };
        let s = Subscription::new(opts, NonZeroU32::new(7));
        let mut v = Vec::new();
        put_sub(&mut v, "x/#", &s);
        put_grant(&mut v, QoS::ExactlyOnce, true, &[3, 9]);
        let mut b = Body::new(&v);
        let (f, got) = get_sub(&mut b).unwrap();
        assert_eq!((&*f, got), ("x/#", s));
        let g = get_grant(&mut b).unwrap();
        assert_eq!(
            (g.qos, g.retain, g.ids),
            (QoS::ExactlyOnce, true, vec![3, 9])
        );
    }

    #[test]
    fn truncated_body_is_refused() {
        let mut v = Vec::new();
        v.u64(5);
        assert!(Body::new(&v[..5]).u64().is_err());
        assert!(get_message(&mut Body::new(&[3, 0, 0, 0, 1, 2, 3]), 0).is_err());
    }
}
