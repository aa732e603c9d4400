//! Encoding of every MQTT 3.1/3.1.1 packet. Lengths are computed first so
//! each packet is written front to back in one pass, and so callers can size
//! buffers with [`encoded_len`]. The MQTT 5 parts of the packet model
//! (properties, subscription options beyond the QoS, reason codes beyond
//! 3.1.1's) have no place in these versions and are left out or narrowed,
//! so one `Packet` can go to any client.

use super::connect;
use crate::codec_util::{
    packet_type::*, put_fixed_header, put_prefixed, remaining_len_size, write_remaining_len,
};
use crate::packet::*;
use bytes::BufMut;

/// Write any packet.
pub fn encode<B: BufMut>(packet: &Packet, out: &mut B) {
    match packet {
        Packet::Connect(c) => connect::encode(c, out),
        Packet::ConnAck(a) => {
            put_fixed_header(out, CONNACK << 4, 2);
            out.put_u8(u8::from(a.session_present));
            out.put_u8(a.code.to_v3_connack() as u8);
        }
        Packet::Publish(p) => encode_publish(&PublishRef::from(p), out),
        Packet::PubAck(a) => put_ack(out, PUBACK << 4, a.packet_id),
        Packet::PubRec(a) => put_ack(out, PUBREC << 4, a.packet_id),
        Packet::PubRel(a) => put_ack(out, PUBREL << 4 | 0b0010, a.packet_id),
        Packet::PubComp(a) => put_ack(out, PUBCOMP << 4, a.packet_id),
        Packet::UnsubAck(a) => put_ack(out, UNSUBACK << 4, a.packet_id),
        Packet::Subscribe(s) => {
            put_fixed_header(out, SUBSCRIBE << 4 | 0b0010, remaining_len(packet));
            out.put_u16(s.packet_id);
            // 3.1.1 has only the QoS of the options byte (§3.8.3.1).
            for (filter, opts) in &s.filters {
                put_prefixed(out, filter.as_bytes());
                out.put_u8(opts.qos as u8);
            }
        }
        Packet::SubAck(s) => {
            put_fixed_header(out, SUBACK << 4, remaining_len(packet));
            out.put_u16(s.packet_id);
            for code in &s.codes {
                out.put_u8(code.to_v3_suback());
            }
        }
        Packet::Unsubscribe(u) => {
            put_fixed_header(out, UNSUBSCRIBE << 4 | 0b0010, remaining_len(packet));
            out.put_u16(u.packet_id);
            for filter in &u.filters {
                put_prefixed(out, filter.as_bytes());
            }
        }
        Packet::PingReq => put_fixed_header(out, PINGREQ << 4, 0),
        Packet::PingResp => put_fixed_header(out, PINGRESP << 4, 0),
        // 3.1.1's DISCONNECT has no reason code: whatever the reason, it
        // is the plain one (the broker closes 3.1.1 connections without one).
        Packet::Disconnect(_) => put_fixed_header(out, DISCONNECT << 4, 0),
        // AUTH does not exist before MQTT 5; nothing sends it to a 3.1.1 peer.
        Packet::Auth(_) => debug_assert!(false, "AUTH encoded as MQTT 3.1.1"),
    }
}

fn put_ack<B: BufMut>(out: &mut B, first_byte: u8, packet_id: u16) {
    out.put_slice(&[first_byte, 2]);
    out.put_u16(packet_id);
}

/// Remaining length (body size) of `packet`.
pub fn remaining_len(packet: &Packet) -> usize {
    match packet {
        Packet::Connect(c) => connect::remaining_len(c),
        Packet::Publish(p) => publish_remaining_len(p.topic.len(), p.payload.len(), p.qos),
        Packet::ConnAck(_)
        | Packet::PubAck(_)
        | Packet::PubRec(_)
        | Packet::PubRel(_)
        | Packet::PubComp(_)
        | Packet::UnsubAck(_) => 2,
        Packet::Subscribe(s) => {
            2 + s
                .filters
                .iter()
                .map(|(f, _)| 2 + f.len() + 1)
                .sum::<usize>()
        }
        Packet::SubAck(s) => 2 + s.codes.len(),
        Packet::Unsubscribe(u) => 2 + u.filters.iter().map(|f| 2 + f.len()).sum::<usize>(),
        Packet::PingReq | Packet::PingResp | Packet::Disconnect(_) => 0,
        Packet::Auth(_) => 0,
    }
}

/// Total bytes `packet` takes on the wire, fixed header included.
pub fn encoded_len(packet: &Packet) -> usize {
    let rem = remaining_len(packet);
    1 + remaining_len_size(rem) + rem
}

#[inline]
fn publish_remaining_len(topic_len: usize, payload_len: usize, qos: QoS) -> usize {
    let id_len = if qos == QoS::AtMostOnce { 0 } else { 2 };
    2 + topic_len + id_len + payload_len
}

/// See [`crate::publish_len`].
#[inline]
pub fn publish_len(p: &PublishRef) -> usize {
    let rem = publish_remaining_len(p.topic.len(), p.payload.len(), p.qos);
    1 + remaining_len_size(rem) + rem
}

/// See [`crate::encode_publish`]. `p.properties`, `p.topic_alias` and
/// `p.subscription_ids` have no place in 3.1.1.
#[inline]
pub fn encode_publish<B: BufMut>(p: &PublishRef, out: &mut B) {
    let PublishRef {
        topic,
        payload,
        qos,
        retain,
        dup,
        packet_id,
        properties: _,
        topic_alias: _,
        subscription_ids: _,
    } = *p;
    debug_assert!(
        topic.len() <= usize::from(u16::MAX),
        "topic of {} bytes",
        topic.len()
    );
    debug_assert!(
        qos == QoS::AtMostOnce || packet_id != 0,
        "QoS>0 PUBLISH needs a packet id"
    );
    // DUP must stay 0 at QoS 0 [MQTT-3.3.1-2]; masking it here keeps a
    // redelivery path from ever emitting a packet peers must reject.
    let dup = dup && qos != QoS::AtMostOnce;
    let first = PUBLISH << 4 | u8::from(dup) << 3 | (qos as u8) << 1 | u8::from(retain);
    let rem = publish_remaining_len(topic.len(), payload.len(), qos);
    // Fixed header and topic length go out in a single put_slice: with a
    // BytesMut each put is a capacity check, and this runs per delivery.
    let mut head = [0u8; 7];
    head[0] = first;
    let n = 1 + write_remaining_len(rem, &mut head[1..]);
    head[n..n + 2].copy_from_slice(&(topic.len() as u16).to_be_bytes());
    out.put_slice(&head[..n + 2]);
    out.put_slice(topic.as_bytes());
    if qos != QoS::AtMostOnce {
        out.put_u16(packet_id);
    }
    out.put_slice(payload);
}
