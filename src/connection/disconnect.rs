//! DISCONNECT from the client (§3.14): 0x00 discards the will
//! [MQTT-3.14.4-3], any other reason code (0x04 asks for it) publishes it;
//! an MQTT 5 DISCONNECT may change the session expiry interval, but not
//! from 0 to non-zero [MQTT-3.14.2-2].

use super::connack::cap_expiry;
use super::io::Flow;
use super::{CloseReason, Conn};
use crate::metrics::{ReasonKind, ShardMetrics};
use crate::protocol::{Disconnect, ProtocolVersion, ReasonCode};
use tracing::debug;

impl Conn {
    pub(super) fn on_disconnect(&mut self, d: Disconnect) -> Flow {
        if self.version == ProtocolVersion::V5 {
            self.shard
                .reasons
                .inc(ReasonKind::DisconnectReceived, d.reason);
        }
        let asked = d
            .properties
            .as_ref()
            .and_then(|p| p.session_expiry_interval);
        if let Some(secs) = asked {
            let secs = cap_expiry(&self.shard.cfg.limits, secs);
            let changed = self.shard.sessions.borrow_mut().set_expiry(self.key, secs);
            if changed.is_err() {
                ShardMetrics::inc(&self.shard.metrics.protocol_errors);
                debug!(client_id = %self.client_id, "[MQTT-3.14.2-2] DISCONNECT sets a session expiry after CONNECT said 0: closing");
                self.close = Some(CloseReason::ProtocolError);
                return Flow::Stop;
            }
        }
        let reason = if d.reason == ReasonCode::Success {
            self.shard.sessions.borrow_mut().discard_will(self.key);
            CloseReason::ClientDisconnect
        } else {
            debug!(client_id = %self.client_id, code = d.reason.name(), "DISCONNECT with a reason code: the will goes out");
            CloseReason::ClientDisconnectWithWill
        };
        self.close = Some(reason);
        Flow::Stop
    }
}
