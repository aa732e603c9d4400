//! How the broker ends an MQTT 5 connection: a DISCONNECT with the reason
//! code (§4.13.2: 0x8E session taken over, 0x8D keep alive timeout, 0x8B
//! server shutting down, 0x81/0x82/0x95 for bad input, ...) written before
//! the socket closes. 3.1/3.1.1 clients are closed without one, as 3.1.1
//! has no server DISCONNECT.

use super::{CloseReason, Connection};
use crate::metrics::ReasonKind;
use crate::protocol::{DecodeError, Disconnect, Packet, ProtocolVersion, ReasonCode};
use crate::shard::Shard;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use std::future::poll_fn;
use std::rc::Rc;
use std::time::Duration;
use tracing::debug;

/// How long a goodbye may take: write, shut down our side, read until the
/// client closes (a close with unread input sends RST, which can discard
/// the DISCONNECT before the client reads it).
const GOODBYE: Duration = Duration::from_secs(1);

/// The DISCONNECT reason code for a packet that did not decode (0x81
/// malformed, 0x82 protocol error, 0x95 too large, 0x94 topic alias, ...),
/// within the codes a DISCONNECT may carry (§3.14.2.1).
pub fn decode_reason(e: &DecodeError) -> ReasonCode {
    match e.reason_code() {
        ReasonCode::UnsupportedProtocolVersion => ReasonCode::ProtocolError,
        code => code,
    }
}

/// The CONNACK reason code for a CONNECT that did not decode, within the
/// codes a CONNACK may carry (§3.2.2.2).
pub fn connack_reason(e: &DecodeError) -> ReasonCode {
    use ReasonCode::*;
    match e.reason_code() {
        c @ (MalformedPacket
        | ProtocolError
        | ImplementationSpecificError
        | UnsupportedProtocolVersion
        | TopicNameInvalid
        | PacketTooLarge) => c,
        _ => ProtocolError,
    }
}

impl Connection {
    /// The reason code of the DISCONNECT this connection gets before it
    /// closes for `reason`: MQTT 5 only, and not when the client ended it.
    pub(super) fn goodbye_code(&self, reason: CloseReason) -> Option<ReasonCode> {
        let v5 = self.st.version == ProtocolVersion::V5;
        reason.disconnect_code().filter(|_| v5)
    }

    /// The session has let go of the connection: tell the MQTT 5 client
    /// why, then close. Bounded by [`GOODBYE`].
    pub(super) async fn goodbye(self, code: ReasonCode) {
        let Connection {
            st,
            mut io,
            mut writer,
            ..
        } = self;
        st.shard.closing.set(st.shard.closing.get() + 1);
        st.handle
            .send(&Packet::Disconnect(Disconnect::with_reason(code)));
        st.shard.reasons.inc(ReasonKind::DisconnectSent, code);
        debug!(client_id = %st.client_id, code = code.name(), "DISCONNECT sent");
        let _ = glommio::timer::timeout(GOODBYE, async {
            poll_fn(|cx| writer.poll_flush(cx, &mut io, &st.handle, &st.shard.hist)).await?;
            io.close().await?; // our side only
            let mut sink = [0u8; 256];
            while io.read(&mut sink).await? > 0 {}
            Ok(())
        })
        .await;
        st.shard.closing.set(st.shard.closing.get() - 1);
    }
}

/// SIGINT/SIGTERM: every connection of this shard is asked to close (MQTT 5
/// clients hear DISCONNECT 0x8B first); wait, bounded, until they have.
pub async fn shutdown(shard: &Rc<Shard>) {
    let conns = shard.sessions.borrow().connections();
    for c in &conns {
        c.kick(CloseReason::Shutdown);
    }
    drop(conns);
    let deadline = std::time::Instant::now() + GOODBYE + Duration::from_millis(500);
    while shard.metrics.connections_current.get() + shard.closing.get() as u64 > 0
        && std::time::Instant::now() < deadline
    {
        glommio::timer::sleep(Duration::from_millis(5)).await;
    }
}
