//! What the broker answers a CONNECT with (§3.2): the terms it grants an
//! MQTT 5 client (session expiry, keep alive, client identifier, its own
//! limits and features, announced in CONNACK properties) and refusals with
//! a reason code and, when the client wants problem information, a reason
//! string.

use crate::config::Limits;
use crate::metrics::ReasonKind;
use crate::protocol::{
    encode, ConnAck, ConnAckProperties, Connect, MqttStr, Packet, ProtocolVersion, ReasonCode,
};
use crate::shard::Shard;

/// Why a CONNECT was refused: the CONNACK reason code and, for MQTT 5
/// clients that asked for problem information, a reason string.
#[derive(Debug, Clone, Copy)]
pub struct Refused {
    pub code: ReasonCode,
    pub why: &'static str,
}

impl Refused {
    pub fn new(code: ReasonCode, why: &'static str) -> Refused {
        Refused { code, why }
    }
}

/// How large a refusal's CONNACK may grow with a reason string: `None`
/// when the client set Request Problem Information to 0 (absent = 1;
/// with 0 the broker sends no Reason String or User Property except on
/// PUBLISH, CONNACK and DISCONNECT [MQTT-3.1.2-29]; we leave it off the
/// CONNACK too), else the client's Maximum Packet Size [MQTT-3.2.2-19].
pub fn reason_room(c: &Connect) -> Option<usize> {
    let props = c.properties.as_deref();
    let wanted = props.and_then(|p| p.request_problem_information);
    let max = props
        .and_then(|p| p.maximum_packet_size)
        .unwrap_or(u32::MAX);
    wanted.unwrap_or(true).then_some(max as usize)
}

/// The CONNACK refusing a CONNECT, counted by reason code. MQTT 3 gets the
/// narrowed return code and nothing else; MQTT 5 a reason string when
/// there is `room` for it.
pub fn refusal(shard: &Shard, r: Refused, version: ProtocolVersion, room: Option<usize>) -> Packet {
    shard.reasons.inc(ReasonKind::ConnAck, r.code);
    let bare = Packet::ConnAck(ConnAck::new(false, r.code));
    let Some(room) = room.filter(|_| version == ProtocolVersion::V5) else {
        return bare;
    };
    let mut ack = ConnAck::new(false, r.code);
    ack.properties = Some(Box::new(ConnAckProperties {
        reason_string: Some(MqttStr::from(r.why)),
        ..Default::default()
    }));
    let with_reason = Packet::ConnAck(ack);
    let mut size = Vec::new();
    encode(&with_reason, version, &mut size);
    if size.len() <= room {
        with_reason
    } else {
        bare
    }
}

/// The terms of an accepted connection.
#[derive(Debug)]
pub struct Terms {
    /// Keep alive the broker holds the client to, seconds (0 = none).
    pub keep_alive: u16,
    /// Session expiry interval the session gets, seconds ([`NEVER`](crate::session::NEVER)).
    pub expiry: u32,
    /// The keep alive, when it is not the client's (MQTT 5 only).
    server_keep_alive: Option<u16>,
    /// The expiry interval, when it is not the client's.
    expiry_changed: bool,
    /// The identifier the broker chose for an empty one.
    assigned: Option<MqttStr>,
}

impl Terms {
    /// What an MQTT 5 client asked for, within the broker's limits. MQTT 3
    /// clients keep their keep alive: 3.1.1 cannot tell them another one.
    pub fn new(l: &Limits, c: &Connect, assigned: Option<MqttStr>) -> Terms {
        let v5 = c.protocol == ProtocolVersion::V5;
        let max = l.max_keepalive;
        let over = max > 0 && (c.keep_alive == 0 || c.keep_alive > max);
        let keep_alive = if v5 && over { max } else { c.keep_alive };
        let asked = c.properties.as_deref();
        let asked = asked.and_then(|p| p.session_expiry_interval).unwrap_or(0);
        let expiry = cap_expiry(l, asked);
        Terms {
            keep_alive,
            expiry,
            server_keep_alive: (v5 && over).then_some(max),
            expiry_changed: expiry != asked,
            assigned,
        }
    }

    /// The CONNACK accepting the connection, counted.
    pub fn connack(&self, shard: &Shard, present: bool, version: ProtocolVersion) -> Packet {
        shard.reasons.inc(ReasonKind::ConnAck, ReasonCode::Success);
        let mut ack = ConnAck::new(present, ReasonCode::Success);
        if version == ProtocolVersion::V5 {
            ack.properties = Some(Box::new(self.properties(&shard.cfg.limits)));
        }
        Packet::ConnAck(ack)
    }

    /// The broker's limits and features (§3.2.2.3). Maximum QoS is left
    /// out: absent means 2. Response Information is never sent, even when
    /// requested (allowed: §3.1.2.11.6).
    fn properties(&self, l: &Limits) -> ConnAckProperties {
        ConnAckProperties {
            session_expiry_interval: self.expiry_changed.then_some(self.expiry),
            receive_maximum: Some(l.receive_maximum),
            retain_available: Some(true),
            maximum_packet_size: Some(l.max_packet_size as u32),
            assigned_client_identifier: self.assigned.clone(),
            topic_alias_maximum: (l.topic_alias_maximum > 0).then_some(l.topic_alias_maximum),
            wildcard_subscription_available: Some(true),
            subscription_identifiers_available: Some(true),
            shared_subscription_available: Some(true),
            server_keep_alive: self.server_keep_alive,
            ..Default::default()
        }
    }
}

/// A Session Expiry Interval within `limits.session_expiry_max` (which is
/// [`NEVER`](crate::session::NEVER), no cap, by default).
pub fn cap_expiry(l: &Limits, asked: u32) -> u32 {
    asked.min(l.session_expiry_max)
}
