//! Encoding of every MQTT 5 packet. As in 3.1.1, lengths come first so each
//! packet is written front to back in one pass. The short forms are written
//! wherever the spec allows them: an ack with Success and no properties is
//! the 4 bytes 3.1.1 sends, a DISCONNECT with Success and no properties is
//! 2 bytes, and a reason code without properties leaves out the property
//! length. Properties that are `Some` but empty count as absent.

use super::connect;
use super::props::block_len;
use super::props_encode::{self as props, PublishView, Visit};
use crate::codec_util::{
    packet_type::*, put_fixed_header, put_prefixed, remaining_len_size, write_remaining_len,
};
use crate::packet::*;
use bytes::BufMut;

/// Write any packet (CONNECT in MQTT 5 whatever its `protocol`; the
/// dispatcher sends 3.x CONNECTs to the v3 encoder).
pub fn encode<B: BufMut>(packet: &Packet, out: &mut B) {
    match packet {
        Packet::Connect(c) => connect::encode(c, out),
        Packet::ConnAck(a) => {
            let n = props::len(a.properties.as_deref());
            put_fixed_header(out, CONNACK << 4, 2 + block_len(n));
            out.put_slice(&[u8::from(a.session_present), a.code as u8]);
            props::put(out, a.properties.as_deref(), n);
        }
        Packet::Publish(p) => encode_publish(&PublishRef::from(p), out),
        Packet::PubAck(a) => put_ack(out, PUBACK << 4, a),
        Packet::PubRec(a) => put_ack(out, PUBREC << 4, a),
        Packet::PubRel(a) => put_ack(out, PUBREL << 4 | 0b0010, a),
        Packet::PubComp(a) => put_ack(out, PUBCOMP << 4, a),
        Packet::Subscribe(s) => {
            let n = props::len(s.properties.as_deref());
            put_fixed_header(out, SUBSCRIBE << 4 | 0b0010, subscribe_len(s, n));
            out.put_u16(s.packet_id);
            props::put(out, s.properties.as_deref(), n);
            for (filter, opts) in &s.filters {
                put_prefixed(out, filter.as_bytes());
                out.put_u8(options_byte(opts));
            }
        }
        Packet::SubAck(s) => put_codes(out, SUBACK << 4, s.packet_id, &s.properties, &s.codes),
        Packet::UnsubAck(u) => put_codes(out, UNSUBACK << 4, u.packet_id, &u.properties, &u.codes),
        Packet::Unsubscribe(u) => {
            let n = props::len(u.properties.as_deref());
            put_fixed_header(out, UNSUBSCRIBE << 4 | 0b0010, unsubscribe_len(u, n));
            out.put_u16(u.packet_id);
            props::put(out, u.properties.as_deref(), n);
            for filter in &u.filters {
                put_prefixed(out, filter.as_bytes());
            }
        }
        Packet::PingReq => put_fixed_header(out, PINGREQ << 4, 0),
        Packet::PingResp => put_fixed_header(out, PINGRESP << 4, 0),
        Packet::Disconnect(d) => {
            put_reason_props(out, DISCONNECT << 4, d.reason, d.properties.as_deref())
        }
        Packet::Auth(a) => put_reason_props(out, AUTH << 4, a.reason, a.properties.as_deref()),
    }
}

/// Subscription options byte (§3.8.3.1).
fn options_byte(o: &SubscriptionOptions) -> u8 {
    o.qos as u8
        | u8::from(o.no_local) << 2
        | u8::from(o.retain_as_published) << 3
        | (o.retain_handling as u8) << 4
}

/// Body after the packet identifier (if any) of an ack, DISCONNECT or
/// AUTH: nothing for Success without properties, the reason code alone
/// without properties, else code, property length, properties.
fn reason_props_len(reason: ReasonCode, props_len: usize) -> usize {
    match (reason, props_len) {
        (ReasonCode::Success, 0) => 0,
        (_, 0) => 1,
        (_, n) => 1 + block_len(n),
    }
}

fn put_reason_props<B: BufMut, P: Visit>(
    out: &mut B,
    first_byte: u8,
    reason: ReasonCode,
    p: Option<&P>,
) {
    let n = props::len(p);
    put_fixed_header(out, first_byte, reason_props_len(reason, n));
    put_reason_tail(out, reason, p, n);
}

fn put_reason_tail<B: BufMut, P: Visit>(out: &mut B, reason: ReasonCode, p: Option<&P>, n: usize) {
    match (reason, n) {
        (ReasonCode::Success, 0) => {}
        (_, 0) => out.put_u8(reason as u8),
        _ => {
            out.put_u8(reason as u8);
            props::put(out, p, n);
        }
    }
}

fn put_ack<B: BufMut>(out: &mut B, first_byte: u8, a: &Ack) {
    let p = a.properties.as_deref();
    let n = props::len(p);
    if n == 0 && a.reason == ReasonCode::Success {
        // The 3.1.1 ack, in one put: the hot case.
        let id = a.packet_id.to_be_bytes();
        out.put_slice(&[first_byte, 2, id[0], id[1]]);
        return;
    }
    put_fixed_header(out, first_byte, 2 + reason_props_len(a.reason, n));
    out.put_u16(a.packet_id);
    put_reason_tail(out, a.reason, p, n);
}

fn put_codes<B: BufMut>(
    out: &mut B,
    first_byte: u8,
    packet_id: u16,
    p: &Option<Box<AckProperties>>,
    codes: &[ReasonCode],
) {
    let n = props::len(p.as_deref());
    put_fixed_header(out, first_byte, 2 + block_len(n) + codes.len());
    out.put_u16(packet_id);
    props::put(out, p.as_deref(), n);
    for code in codes {
        out.put_u8(*code as u8);
    }
}

fn subscribe_len(s: &Subscribe, props_len: usize) -> usize {
    let filters: usize = s.filters.iter().map(|(f, _)| 2 + f.len() + 1).sum();
    2 + block_len(props_len) + filters
}

fn unsubscribe_len(u: &Unsubscribe, props_len: usize) -> usize {
    let filters: usize = u.filters.iter().map(|f| 2 + f.len()).sum();
    2 + block_len(props_len) + filters
}

/// Remaining length (body size) of `packet`.
pub fn remaining_len(packet: &Packet) -> usize {
    match packet {
        Packet::Connect(c) => connect::remaining_len(c),
        Packet::Publish(p) => publish_remaining_len(&PublishRef::from(p)).0,
        Packet::ConnAck(a) => 2 + props::full_len(a.properties.as_deref()),
        Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
            2 + reason_props_len(a.reason, props::len(a.properties.as_deref()))
        }
        Packet::Subscribe(s) => subscribe_len(s, props::len(s.properties.as_deref())),
        Packet::SubAck(s) => 2 + props::full_len(s.properties.as_deref()) + s.codes.len(),
        Packet::UnsubAck(u) => 2 + props::full_len(u.properties.as_deref()) + u.codes.len(),
        Packet::Unsubscribe(u) => unsubscribe_len(u, props::len(u.properties.as_deref())),
        Packet::PingReq | Packet::PingResp => 0,
        Packet::Disconnect(d) => reason_props_len(d.reason, props::len(d.properties.as_deref())),
        Packet::Auth(a) => reason_props_len(a.reason, props::len(a.properties.as_deref())),
    }
}

/// Total bytes `packet` takes on the wire, fixed header included.
pub fn encoded_len(packet: &Packet) -> usize {
    let rem = remaining_len(packet);
    1 + remaining_len_size(rem) + rem
}

#[inline]
fn view<'a>(p: &PublishRef<'a>) -> PublishView<'a> {
    PublishView {
        props: p.properties,
        topic_alias: p.topic_alias,
        subscription_ids: p.subscription_ids,
    }
}

/// (remaining length, property block size without prefix) of a PUBLISH.
#[inline]
fn publish_remaining_len(p: &PublishRef) -> (usize, usize) {
    let id_len = if p.qos == QoS::AtMostOnce { 0 } else { 2 };
    let n = if p.properties.is_none() && p.topic_alias.is_none() && p.subscription_ids.is_empty() {
        0
    } else {
        props::len(Some(&view(p)))
    };
    (
        2 + p.topic.len() + id_len + block_len(n) + p.payload.len(),
        n,
    )
}

/// See [`crate::publish_len`].
#[inline]
pub fn publish_len(p: &PublishRef) -> usize {
    let rem = publish_remaining_len(p).0;
    1 + remaining_len_size(rem) + rem
}

/// See [`crate::encode_publish`]. Puts: header with topic length, topic,
/// packet identifier with property length, properties (if any), payload.
#[inline]
pub fn encode_publish<B: BufMut>(p: &PublishRef, out: &mut B) {
    debug_assert!(
        p.topic.len() <= usize::from(u16::MAX),
        "topic of {} bytes",
        p.topic.len()
    );
    debug_assert!(
        p.qos == QoS::AtMostOnce || p.packet_id != 0,
        "QoS>0 PUBLISH needs a packet id"
    );
    let qos = p.qos;
    // DUP must stay 0 at QoS 0 [MQTT-3.3.1-2].
    let dup = p.dup && qos != QoS::AtMostOnce;
    let first = PUBLISH << 4 | u8::from(dup) << 3 | (qos as u8) << 1 | u8::from(p.retain);
    let (rem, n) = publish_remaining_len(p);
    let mut head = [0u8; 7];
    head[0] = first;
    let h = 1 + write_remaining_len(rem, &mut head[1..]);
    head[h..h + 2].copy_from_slice(&(p.topic.len() as u16).to_be_bytes());
    out.put_slice(&head[..h + 2]);
    out.put_slice(p.topic.as_bytes());
    // Packet identifier and property length in one put.
    let mut mid = [0u8; 6];
    let mut m = 0;
    if qos != QoS::AtMostOnce {
        mid[..2].copy_from_slice(&p.packet_id.to_be_bytes());
        m = 2;
    }
    m += write_remaining_len(n, &mut mid[m..]);
    out.put_slice(&mid[..m]);
    if n != 0 {
        view(p).visit(&mut super::props::Put(out));
    }
    out.put_slice(p.payload);
}
