//! The part of a connection that the rest of the shard may touch: its write
//! buffer, a way to wake its task, a way to ask it to close, and the
//! keep-alive and idle clocks. The connection task owns the socket itself;
//! while the connection is parked (`park.rs`) there is no task, and waking
//! the handle brings one back.

use super::encoder::Wire;
use super::v5::V5State;
use crate::protocol::{Packet, ProtocolVersion, ReasonCode};
use crate::session::{Delivery, Outlet};
use std::cell::{Cell, RefCell};
use std::task::Waker;
use std::time::Instant;

/// Why a connection ends. Decides whether its will is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The client sent DISCONNECT: the will is discarded [MQTT-3.1.2-10].
    ClientDisconnect,
    /// The client sent an MQTT 5 DISCONNECT with a reason code other than
    /// 0x00 (0x04 asks for it): the will is published [MQTT-3.14.4-3].
    ClientDisconnectWithWill,
    /// The peer closed the socket or it failed.
    SocketClosed,
    /// No packet within 1.5 × keep-alive [MQTT-3.1.2-24].
    KeepAliveTimeout,
    /// Protocol violation (MQTT 5 DISCONNECT 0x82).
    ProtocolError,
    /// A violation with its own MQTT 5 DISCONNECT reason code (0x81
    /// malformed, 0x95 packet too large, ...).
    Violation(ReasonCode),
    /// A new connection with the same client ID took over [MQTT-3.1.4-2].
    TakenOver,
    /// The broker is shutting down.
    Shutdown,
}

impl CloseReason {
    /// Wills are published for every end that is not the client's own choice,
    /// except broker shutdown.
    pub fn publishes_will(self) -> bool {
        !matches!(self, CloseReason::ClientDisconnect | CloseReason::Shutdown)
    }

    /// The reason code of the DISCONNECT an MQTT 5 client gets before the
    /// broker closes (§4.13.2); `None` when the client ended it.
    pub fn disconnect_code(self) -> Option<ReasonCode> {
        match self {
            CloseReason::ClientDisconnect
            | CloseReason::ClientDisconnectWithWill
            | CloseReason::SocketClosed => None,
            CloseReason::KeepAliveTimeout => Some(ReasonCode::KeepAliveTimeout),
            CloseReason::ProtocolError => Some(ReasonCode::ProtocolError),
            CloseReason::Violation(code) => Some(code),
            CloseReason::TakenOver => Some(ReasonCode::SessionTakenOver),
            CloseReason::Shutdown => Some(ReasonCode::ServerShuttingDown),
        }
    }
}

/// Bytes queued for the socket, and the publish time of every delivery in
/// them (turned into publish-to-delivery latency once they are written).
#[derive(Debug, Default)]
pub struct OutBuf {
    pub bytes: Vec<u8>,
    pub stamps: Vec<Instant>,
}

impl OutBuf {
    /// Drop the allocations (an idle connection holds no buffer).
    pub fn release(&mut self) {
        *self = OutBuf::default();
    }
}

/// Shared between a connection task and the session/shard that feed it.
#[derive(Debug)]
pub struct ConnHandle {
    pub id: u64,
    /// The encoder and the bytes it queued for the socket.
    out: RefCell<Wire>,
    waker: RefCell<Option<Waker>>,
    close: Cell<Option<CloseReason>>,
    /// Shard clock (ms, wrapping) at the last packet received.
    pub last_seen_ms: Cell<u32>,
    /// Shard clock (ms, wrapping) at the last sign of real traffic: a packet
    /// other than PINGREQ, or a delivery written. Idle connections park.
    pub last_active_ms: Cell<u32>,
    /// 1.5 × keep-alive in ms; 0 disables the check.
    pub expiry_ms: u32,
    /// The parking-lot slot while the connection is parked.
    parked: Cell<Option<u32>>,
    /// The keep-alive wheel asked the task to park when it is quiescent.
    park_requested: Cell<bool>,
    /// Held back: a session it publishes to is full (`plane/pressure.rs`);
    /// its socket is not read, so keep-alive does not apply meanwhile.
    held: Cell<bool>,
    /// Generation of this handle's live entry in the keep-alive wheel.
    pub wheel_gen: Cell<u32>,
    /// The client's Receive Maximum (MQTT 5; 65535 = none given, and for
    /// 3.1.1): the session's window is at most this [MQTT-3.3.4-9].
    receive_maximum: Cell<u16>,
}

impl ConnHandle {
    pub fn new(id: u64, version: ProtocolVersion, keep_alive_secs: u16, now_ms: u32) -> ConnHandle {
        ConnHandle {
            id,
            out: RefCell::new(Wire::new(version)),
            waker: RefCell::new(None),
            close: Cell::new(None),
            last_seen_ms: Cell::new(now_ms),
            last_active_ms: Cell::new(now_ms),
            expiry_ms: keep_alive_secs as u32 * 1500,
            parked: Cell::new(None),
            park_requested: Cell::new(false),
            held: Cell::new(false),
            wheel_gen: Cell::new(0),
            receive_maximum: Cell::new(u16::MAX),
        }
    }

    /// QoS 1/2 deliveries that may be unacknowledged at once: the broker's
    /// `max_inflight`, lowered to the client's Receive Maximum.
    #[inline]
    pub fn send_window(&self, max_inflight: u16) -> u16 {
        max_inflight.min(self.receive_maximum.get())
    }

    pub fn set_receive_maximum(&self, n: u16) {
        self.receive_maximum.set(n);
    }

    /// Work on the MQTT 5 state of the connection; `None` for 3.1/3.1.1.
    pub fn v5<R>(&self, f: impl FnOnce(&mut V5State) -> R) -> Option<R> {
        self.out.borrow_mut().enc.v5_mut().map(f)
    }

    /// Work on the write side and wake the task if its buffer was empty
    /// and is not any more.
    #[inline]
    pub fn with_outlet<R>(&self, f: impl FnOnce(&mut Wire) -> R) -> R {
        let mut out = self.out.borrow_mut();
        let was_empty = out.buf.bytes.is_empty();
        let r = f(&mut out);
        if was_empty && !out.buf.bytes.is_empty() {
            drop(out);
            self.wake();
        }
        r
    }

    /// Queue one PUBLISH for the client; false if it exceeds the client's
    /// maximum packet size and was not written.
    #[inline]
    pub fn deliver(&self, d: &Delivery<'_>) -> bool {
        self.with_outlet(|w| w.publish(d))
    }

    /// Queue one control packet for the client.
    pub fn send(&self, p: &Packet) {
        self.with_outlet(|w| w.packet(p));
    }

    /// Queue bytes already encoded for this connection (a transport's
    /// answers written while parked).
    pub fn write_encoded(&self, bytes: &[u8]) {
        self.with_outlet(|w| w.buf.bytes.extend_from_slice(bytes));
    }

    pub fn pending_bytes(&self) -> usize {
        self.out.borrow().buf.bytes.len()
    }

    /// Take everything queued for writing, leaving `spare` (an empty buffer
    /// with capacity, or a fresh one) in its place.
    pub fn take_out(&self, spare: OutBuf) -> OutBuf {
        std::mem::replace(&mut self.out.borrow_mut().buf, spare)
    }

    /// Ask the task to close; the first reason wins.
    pub fn kick(&self, reason: CloseReason) {
        if self.close.get().is_none() {
            self.close.set(Some(reason));
            self.wake();
        }
    }

    pub fn close_reason(&self) -> Option<CloseReason> {
        self.close.get()
    }

    pub fn set_waker(&self, w: &Waker) {
        let mut slot = self.waker.borrow_mut();
        if !slot.as_ref().is_some_and(|old| old.will_wake(w)) {
            *slot = Some(w.clone());
        }
    }

    /// Wake the task, or bring a parked connection back to life.
    pub fn wake(&self) {
        if let Some(slot) = self.parked.get() {
            super::park::wake_parked(slot, self.id);
        } else if let Some(w) = self.waker.borrow().as_ref() {
            w.wake_by_ref();
        }
    }

    pub fn parked(&self) -> bool {
        self.parked.get().is_some()
    }

    pub(crate) fn set_parked(&self, slot: Option<u32>) {
        self.parked.set(slot);
        self.park_requested.set(false);
    }

    /// Ask a live task to park once it has nothing in flight on its socket.
    pub fn request_park(&self) {
        if !self.parked() && !self.park_requested.replace(true) {
            self.wake();
        }
    }

    pub fn park_requested(&self) -> bool {
        self.park_requested.get()
    }

    /// The task cannot park now (something is in flight).
    pub fn decline_park(&self) {
        self.park_requested.set(false);
    }

    /// Has there been no real traffic for `after_ms` at shard time `now_ms`?
    pub fn idle_for(&self, after_ms: u32, now_ms: u32) -> bool {
        after_ms != 0 && now_ms.wrapping_sub(self.last_active_ms.get()) >= after_ms
    }

    /// Drop the stored waker (the task is ending) so no cycle keeps it alive.
    pub fn clear_waker(&self) {
        self.waker.borrow_mut().take();
    }

    /// Has the keep-alive expired at shard time `now_ms`?
    pub fn expired(&self, now_ms: u32) -> bool {
        self.expiry_ms != 0
            && !self.held.get()
            && now_ms.wrapping_sub(self.last_seen_ms.get()) >= self.expiry_ms
    }

    /// Held back by back-pressure: the task reads nothing until released.
    pub fn held(&self) -> bool {
        self.held.get()
    }

    /// Hold the connection back: its task reads nothing more.
    pub fn hold(&self) {
        self.held.set(true);
    }

    /// Let a held connection go, waking it, with a fresh keep-alive period
    /// (its PINGREQs went unread meanwhile).
    pub fn let_go(&self, now_ms: u32) {
        self.held.set(false);
        self.last_seen_ms.set(now_ms);
        self.wake();
    }
}
#[cfg(test)]
mod tests {
    /// Every connection, parked or not, holds one handle and one session:
    /// both must stay in mimalloc's 128-byte size class (idle memory per
    /// connection is a headline number, docs/benchmarks.md).
    #[test]
    fn handle_and_session_fit_128_bytes() {
        assert!(std::mem::size_of::<super::ConnHandle>() <= 128);
        assert!(std::mem::size_of::<crate::session::Session>() <= 128);
    }
}
