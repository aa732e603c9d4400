//! The first packet of a connection: read it under the connect timeout
//! (it must be a CONNECT [MQTT-3.1.0-1]), and refuse it with the CONNACK
//! the spec gives, written before the close.

use super::connack::{self, Refused};
use super::io::{poll_append, ShardIo};
use crate::metrics::ShardMetrics;
use crate::protocol::{
    decode_packet, encode, parse_frame_header, Connect, DecodeError, Packet, ProtocolVersion,
    ReasonCode,
};
use crate::shard::Shard;
use crate::transport::Transport;
use bytes::Bytes;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use std::future::poll_fn;
use std::time::Duration;
use tracing::debug;

/// Why the first packet did not give us a CONNECT.
#[derive(Debug)]
pub enum FirstPacketError {
    Closed,
    /// The read failed (reset, or the transport refused what came).
    Failed(std::io::Error),
    /// [MQTT-3.1.0-1] the first packet must be CONNECT.
    NotConnect,
    /// The CONNECT did not decode; the protocol level, if its bytes came.
    Decode(DecodeError, Option<u8>),
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
        let failed = |e| FirstPacketError::Decode(e, sniff_level(&buf));
        if let Some(h) = parse_frame_header(&buf, max).map_err(failed)? {
            let end = h.total_len();
            if buf.len() >= end {
                let frame = Bytes::copy_from_slice(&buf[..end]);
                return match decode_packet(frame, &h, ProtocolVersion::V3_1_1).map_err(failed)? {
                    Packet::Connect(c) => Ok((*c, buf[end..].to_vec())),
                    _ => Err(FirstPacketError::NotConnect),
                };
            }
        }
        let n = poll_fn(|cx| poll_append(cx, io, shard_io, &mut buf))
            .await
            .map_err(FirstPacketError::Failed)?;
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
        FirstPacketError::Failed(e) => {
            debug!(shard = shard.id, error = %e, "read failed before CONNECT")
        }
        FirstPacketError::NotConnect => {
            ShardMetrics::inc(&m.protocol_errors);
            debug!(
                shard = shard.id,
                "[MQTT-3.1.0-1] first packet is not CONNECT: closing"
            );
        }
        FirstPacketError::Decode(DecodeError::UnsupportedProtocolLevel(level), _) => {
            ShardMetrics::inc(&m.refused_protocol_version);
            debug!(
                shard = shard.id,
                level, "[MQTT-3.1.2-2] unsupported protocol level: CONNACK 1"
            );
            // A level we do not know gets the 3.1.1 format: the client may
            // not understand any other (§3.1.2.2).
            let r = Refused::new(ReasonCode::UnsupportedProtocolVersion, "");
            let v = ProtocolVersion::V3_1_1;
            refuse(io, connack::refusal(shard, r, v, None), v).await;
        }
        FirstPacketError::Decode(e, Some(5)) => {
            // An MQTT 5 CONNECT that breaks a rule: CONNACK 0x81, 0x82 or
            // 0x95 before the close (§3.1.4, §4.13.1).
            count_decode_error(m, &e);
            let code = super::goodbye::connack_reason(&e);
            debug!(shard = shard.id, error = %e, code = code.name(), "bad MQTT 5 CONNECT: refused");
            let r = Refused::new(code, "CONNECT does not decode");
            let v = ProtocolVersion::V5;
            refuse(io, connack::refusal(shard, r, v, Some(usize::MAX)), v).await;
        }
        FirstPacketError::Decode(e, _) => {
            count_decode_error(m, &e);
            debug!(shard = shard.id, error = %e, "malformed CONNECT: closing");
        }
    }
}

/// The protocol level of a CONNECT whose first bytes are in `buf`, if
/// they reach it (fixed header, protocol name, level).
fn sniff_level(buf: &[u8]) -> Option<u8> {
    let len_bytes = buf.get(1..)?.iter().take(4).position(|b| b & 0x80 == 0)? + 1;
    let at = 1 + len_bytes;
    let name_len = u16::from_be_bytes([*buf.get(at)?, *buf.get(at + 1)?]) as usize;
    buf.get(at + 2 + name_len).copied()
}

pub fn count_decode_error(m: &ShardMetrics, e: &DecodeError) {
    match e {
        DecodeError::PacketTooLarge { .. } => ShardMetrics::inc(&m.oversize_packets),
        _ => ShardMetrics::inc(&m.malformed_packets),
    }
}

/// Answer a refused CONNECT and close without losing the answer: write it,
/// shut down our side, and drain what the client sent until it closes (a
/// close with unread input would send RST and could discard the CONNACK).
pub async fn refuse(mut io: Transport, connack: Packet, version: ProtocolVersion) {
    let mut out = Vec::new();
    encode(&connack, version, &mut out);
    let bounded = glommio::timer::timeout(Duration::from_secs(1), async {
        io.write_all(&out).await?;
        io.close().await?; // our side only: the client's bytes still drain
        let mut sink = [0u8; 256];
        while io.read(&mut sink).await? > 0 {}
        Ok(())
    });
    let _ = bounded.await;
}
