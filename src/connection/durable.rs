//! Answers that wait for the disk (`persistence.fsync = "always"`): a
//! PUBACK, PUBREC or PUBCOMP goes out only once every record its packet
//! caused is durable (`persist/durable.rs`), and answers keep the order of
//! the packets they answer [MQTT-4.6.0-2] [MQTT-4.6.0-3]. The connection
//! goes on reading meanwhile: one fsync covers many clients' packets.

use super::handle::CloseReason;
use super::Conn;
use crate::metrics::ShardMetrics;
use crate::persist::durable::Outcome;
use crate::protocol::{Ack, Packet, ProtocolVersion, ReasonCode};
use std::collections::VecDeque;
use std::task::Context;
use tracing::debug;

/// Answers held for the disk, oldest first, with the point each waits for.
pub(super) type Waiting = Option<Box<VecDeque<(u64, Packet)>>>;

/// Held answers past this: stop reading the client until the disk catches up.
pub(super) const MAX_WAITING: usize = 65_536;

impl Conn {
    /// Send `p` (an answer to a PUBLISH or PUBREL) now, or once what its
    /// packet caused is on disk.
    pub(super) fn answer(&mut self, p: Packet) {
        let point = match self.shard.persist.as_ref().filter(|p| p.always) {
            Some(persist) => persist.points.point(&self.shard.mesh.sent_counts()),
            None => None,
        };
        match (point, &mut self.waiting) {
            (None, None) => self.send_answer(p),
            (point, w) => w
                .get_or_insert_with(Default::default)
                .push_back((point.unwrap_or(0), p)),
        }
    }

    pub(super) fn waiting_len(&self) -> usize {
        self.waiting.as_ref().map_or(0, |w| w.len())
    }

    /// Send the held answers that may go now; with a context, register to
    /// be woken when more may. False while some still wait.
    pub(super) fn release_answers(&mut self, cx: Option<&mut Context<'_>>) -> bool {
        let Some(persist) = self.shard.persist.as_ref() else {
            return true;
        };
        let points = persist.points.clone();
        while let Some((point, _)) = self.waiting.as_ref().and_then(|w| w.front()) {
            let outcome = points.outcome(*point);
            if outcome == Outcome::Pending {
                if let Some(cx) = cx {
                    points.wait(cx.waker());
                }
                return false;
            }
            let w = self.waiting.as_mut().expect("front seen");
            let (_, p) = w.pop_front().expect("front seen");
            match outcome {
                Outcome::Lost => self.refuse_lost(p),
                _ => self.send_answer(p),
            }
        }
        self.waiting = None;
        true
    }

    /// Send an answer; a PUBREC that accepts a QoS 2 message lets the log
    /// keep its packet id (`Sessions::qos2_acknowledged`).
    fn send_answer(&mut self, p: Packet) {
        if let Packet::PubRec(a) = &p {
            if (a.reason as u8) < 0x80 {
                self.sessions().qos2_acknowledged(self.key, a.packet_id);
            }
        }
        self.reply(&p);
    }

    /// Its records could not be written: an MQTT 5 client hears 0x80 in
    /// the PUBACK/PUBREC, a 3.1.1 one (no codes) loses the connection.
    fn refuse_lost(&mut self, p: Packet) {
        ShardMetrics::inc(&self.shard.metrics.log_refused);
        debug!(client_id = %self.client_id, "log write failed: acknowledgement refused");
        let code = ReasonCode::UnspecifiedError;
        let v5 = self.version == ProtocolVersion::V5;
        match p {
            Packet::PubAck(a) if v5 => self.reply(&Packet::PubAck(refused(a, code))),
            Packet::PubRec(a) if v5 => {
                // A failed PUBREC ends the exchange: the id is free again.
                self.sessions().qos2_released(self.key, a.packet_id);
                self.reply(&Packet::PubRec(refused(a, code)))
            }
            Packet::PubComp(_) => self.reply(&p), // no failure code exists
            _ => self.close = Some(CloseReason::Violation(code)),
        }
    }
}

fn refused(a: Ack, code: ReasonCode) -> Ack {
    Ack::with_reason(a.packet_id, code)
}
