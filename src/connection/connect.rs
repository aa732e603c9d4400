//! From an accepted socket to a connected client: read the CONNECT under the
//! connect timeout, hand the socket to the owner shard if needed, then on the
//! owner check identity and credentials, resolve takeover, attach or create
//! the session and answer CONNACK (§3.1, §3.2).

use super::handle::ConnHandle;
use super::io::{poll_append, ShardIo};
use crate::auth::{AuthDecision, AuthRequest};
use crate::metrics::ShardMetrics;
use crate::plane::{
    self,
    messages::{Control, HandOff},
};
use crate::protocol::{
    decode_packet, encode, parse_frame_header, ConnAck, Connect, DecodeError, MqttStr, Packet,
    ProtocolVersion, ReasonCode, Will,
};
use crate::session::{Message, Origin, SessionKey};
use crate::shard::Shard;
use crate::transport::Transport;
use bytes::Bytes;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use std::future::poll_fn;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tracing::debug;

/// Why the first packet did not give us a CONNECT.
#[derive(Debug)]
pub enum FirstPacketError {
    Closed,
    /// [MQTT-3.1.0-1] the first packet must be CONNECT.
    NotConnect,
    Decode(DecodeError),
}

impl From<DecodeError> for FirstPacketError {
    fn from(e: DecodeError) -> Self {
        FirstPacketError::Decode(e)
    }
}

/// A client that passed CONNECT.
pub struct Admitted {
    pub key: SessionKey,
    pub handle: Rc<ConnHandle>,
    pub client_id: MqttStr,
    pub version: ProtocolVersion,
}

/// Read bytes until one whole CONNECT is there. Returns it and whatever the
/// client pipelined behind it.
pub async fn read_connect(
    io: &mut Transport,
    shard_io: &ShardIo,
    max: usize,
) -> Result<(Connect, Vec<u8>), FirstPacketError> {
    let mut buf = Vec::new();
    loop {
        if buf.first().is_some_and(|&b| (b >> 4) != 1u8) {
            return Err(FirstPacketError::NotConnect);
        }
        if let Some(h) = parse_frame_header(&buf, max)? {
            let end = h.total_len();
            if buf.len() >= end {
                let frame = Bytes::copy_from_slice(&buf[..end]);
                return match decode_packet(frame, &h, ProtocolVersion::V3_1_1)? {
                    Packet::Connect(c) => Ok((*c, buf[end..].to_vec())),
                    _ => Err(FirstPacketError::NotConnect),
                };
            }
        }
        let n = poll_fn(|cx| poll_append(cx, io, shard_io, &mut buf))
            .await
            .map_err(|_| FirstPacketError::Closed)?;
        if n == 0 {
            return Err(FirstPacketError::Closed);
        }
    }
}

/// Count and log a failed first packet; answer CONNACK 1 where the spec asks.
pub async fn reject_first_packet(shard: &Shard, io: Transport, err: FirstPacketError) {
    let m = &shard.metrics;
    match err {
        FirstPacketError::Closed => debug!(shard = shard.id, "socket closed before CONNECT"),
        FirstPacketError::NotConnect => {
            ShardMetrics::inc(&m.protocol_errors);
            debug!(
                shard = shard.id,
                "[MQTT-3.1.0-1] first packet is not CONNECT: closing"
            );
        }
        FirstPacketError::Decode(DecodeError::UnsupportedProtocolLevel(level)) => {
            ShardMetrics::inc(&m.refused_protocol_version);
            debug!(
                shard = shard.id,
                level, "[MQTT-3.1.2-2] unsupported protocol level: CONNACK 1"
            );
            refuse(
                io,
                ReasonCode::UnsupportedProtocolVersion,
                ProtocolVersion::V3_1_1,
            )
            .await;
        }
        FirstPacketError::Decode(e) => {
            count_decode_error(m, &e);
            debug!(shard = shard.id, error = %e, "malformed CONNECT: closing");
        }
    }
}

pub fn count_decode_error(m: &ShardMetrics, e: &DecodeError) {
    match e {
        DecodeError::PacketTooLarge { .. } => ShardMetrics::inc(&m.oversize_packets),
        _ => ShardMetrics::inc(&m.malformed_packets),
    }
}

/// Move a connection to the shard that owns its client ID. The transport
/// goes detached (glommio streams are tied to their executor's ring); the
/// owner attaches it to its own ring.
pub fn hand_off(
    shard: &Shard,
    io: Transport,
    owner: usize,
    connect: Connect,
    rest: Vec<u8>,
    accepted_at: Instant,
) {
    let conn = match io.detach() {
        Ok(conn) => conn,
        Err(e) => {
            debug!(shard = shard.id, error = %e.error, "cannot detach for hand-off: closing");
            return;
        }
    };
    let msg = Control::HandOff(Box::new(HandOff {
        conn,
        connect,
        rest,
        accepted_at,
    }));
    if shard.mesh.send_control(owner, msg) {
        ShardMetrics::inc(&shard.metrics.handoffs);
    } else {
        // The message, and with it the socket, was dropped: closed.
        ShardMetrics::inc(&shard.metrics.control_dropped);
    }
}

/// The owner shard for a CONNECT (an empty client ID is assigned here).
pub fn owner_of(shard: &Shard, connect: &Connect) -> usize {
    if connect.client_id.is_empty() {
        shard.id
    } else {
        shard.partitions.owner(connect.client_id.as_bytes())
    }
}

/// Decide a CONNECT on the owner shard. On success the CONNACK (and any
/// resent in-flight messages) are already queued on the handle.
pub fn admit(shard: &Shard, mut c: Connect, accepted_at: Instant) -> Result<Admitted, ReasonCode> {
    check_identifier(shard, &mut c)?;
    authenticate(shard, &c)?;
    // The decoded ID points into the whole CONNECT frame (password, will);
    // the session keeps it for its lifetime, so keep only the ID's bytes.
    c.client_id = MqttStr::from(c.client_id.as_str());
    if shard.global.stopping()
        || !shard
            .global
            .try_add_connection(shard.cfg.limits.max_connections)
    {
        return Err(ReasonCode::ServerUnavailable);
    }
    let handle = Rc::new(ConnHandle::new(
        shard.next_conn_id(),
        c.protocol,
        c.keep_alive,
        shard.now_ms(),
    ));
    super::v5::configure(&handle, &c, &shard.cfg.limits);
    let opened = shard
        .sessions
        .borrow_mut()
        .open(&c.client_id, c.clean_session, c.will, &handle);
    let (key, present) = (opened.key, opened.present);
    handle.send(&Packet::ConnAck(ConnAck::new(present, ReasonCode::Success)));
    if present {
        shard.sessions.borrow_mut().replay(key);
    }
    plane::forget_interest(shard, opened.lost);
    if let Some(w) = opened.displaced_will {
        publish_will(shard, key, *w);
    }
    shard.wheel.borrow_mut().add(&handle);
    shard
        .hist
        .borrow_mut()
        .connect_handshake
        .record(accepted_at.elapsed());
    ShardMetrics::inc(&shard.metrics.connections_total);
    ShardMetrics::inc(&shard.metrics.connections_current);
    debug!(shard = shard.id, client_id = %c.client_id, present, "connected");
    Ok(Admitted {
        key,
        handle,
        client_id: c.client_id,
        version: c.protocol,
    })
}

/// Publish the will of a connection of session `key` that ended.
pub fn publish_will(shard: &Shard, key: SessionKey, w: Will) {
    ShardMetrics::inc(&shard.metrics.wills_published);
    let origin = Origin::Session {
        shard: shard.id as u16,
        key,
    };
    plane::publish(shard, Message::from_will(w, origin));
}

fn check_identifier(shard: &Shard, c: &mut Connect) -> Result<(), ReasonCode> {
    let refuse = |why: &str| {
        ShardMetrics::inc(&shard.metrics.refused_identifier);
        debug!(shard = shard.id, client_id = %c.client_id, "{why}: CONNACK 2");
        Err(ReasonCode::ClientIdentifierNotValid)
    };
    if c.protocol == ProtocolVersion::V3_1 && !(1..=23).contains(&c.client_id.len()) {
        return refuse("MQTT 3.1 client IDs are 1 to 23 characters");
    }
    if c.client_id.is_empty() {
        if !c.clean_session {
            return refuse("[MQTT-3.1.3-8] empty client ID with clean session 0");
        }
        c.client_id = shard.assign_client_id(); // [MQTT-3.1.3-6]
    }
    Ok(())
}

fn authenticate(shard: &Shard, c: &Connect) -> Result<(), ReasonCode> {
    let req = AuthRequest {
        client_id: &c.client_id,
        username: c.username.as_deref(),
        password: c.password.as_deref(),
    };
    let m = &shard.metrics;
    match shard.auth.authenticate(&req) {
        AuthDecision::Allow => Ok(()),
        AuthDecision::BadCredentials => {
            ShardMetrics::inc(&m.refused_bad_credentials);
            debug!(shard = shard.id, client_id = %c.client_id, "bad user name or password: CONNACK 4");
            Err(ReasonCode::BadUserNameOrPassword)
        }
        AuthDecision::NotAuthorized => {
            ShardMetrics::inc(&m.refused_not_authorized);
            debug!(shard = shard.id, client_id = %c.client_id, "not authorized: CONNACK 5");
            Err(ReasonCode::NotAuthorized)
        }
    }
}

/// Answer a refused CONNECT and close without losing the answer: write it,
/// shut down our side, and drain what the client sent until it closes (a
/// close with unread input would send RST and could discard the CONNACK).
pub async fn refuse(mut io: Transport, code: ReasonCode, version: ProtocolVersion) {
    let mut out = Vec::new();
    encode(
        &Packet::ConnAck(ConnAck::new(false, code)),
        version,
        &mut out,
    );
    let bounded = glommio::timer::timeout(Duration::from_secs(1), async {
        io.write_all(&out).await?;
        io.close().await?; // our side only: the client's bytes still drain
        let mut sink = [0u8; 256];
        while io.read(&mut sink).await? > 0 {}
        Ok(())
    });
    let _ = bounded.await;
}
