//! Parking idle connections.
//!
//! A live connection costs a glommio task plus a glommio stream with an
//! armed io_uring poll (~1.2 KB together, docs/benchmarks.md); most of a
//! large broker's connections are idle. After `tuning.park_after` seconds
//! without traffic (PINGREQs do not count) the keep-alive wheel asks the task
//! to park: once nothing is in flight on it and its transport agrees, it
//! keeps only its handler state (`Conn`) and its detached transport in this
//! shard's lot, and the shard's epoll set ([`Poller`]) watches the socket.
//! The task and stream are freed.
//!
//! A parked connection comes back as a new task when its socket has
//! something other than PINGREQs to read (a token from the poller thread;
//! the transport answers PINGREQs in place, [`Detached::listen_parked`]), or
//! when anything on the shard wakes its handle: a delivery, a kick
//! (takeover, keep-alive expiry). Its session, keep-alive and handle stay
//! where they were. If its socket closes, it ends where it lies.

use super::io::Reader;
use super::{run, CloseReason, Conn, Connection};
use crate::metrics::ShardMetrics;
use crate::shard::poller::Poller;
use crate::shard::{spawn_guarded, Shard};
use crate::transport::{Detached, Heard};
use futures_lite::AsyncReadExt;
use glommio::net::UnixStream;
use std::cell::RefCell;
use std::future::poll_fn;
use std::os::fd::{AsFd, FromRawFd, IntoRawFd};
use std::rc::Rc;
use std::task::{Poll, Waker};
use tracing::{debug, warn};

/// A parked connection: its handler state and its detached transport.
struct Parked {
    conn: Conn,
    io: Detached,
}

/// This shard's parked connections, by slot.
#[derive(Default)]
pub struct ParkingLot {
    slots: Vec<Option<Parked>>,
    free: Vec<u32>,
    poller: Option<Poller>,
}

impl ParkingLot {
    fn vacant(&mut self) -> u32 {
        self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            (self.slots.len() - 1) as u32
        })
    }

    /// The connection parked under `token`, if it is still there.
    fn get_mut(&mut self, token: u64) -> Option<&mut Parked> {
        let (slot, id) = (token as u32, (token >> 32) as u32);
        let p = self.slots.get_mut(slot as usize)?.as_mut()?;
        // Stale: that connection left and the slot was reused.
        (p.conn.handle.id as u32 == id).then_some(p)
    }

    /// Watch the socket parked under `token` (just looked up) again; false
    /// if that failed.
    fn rearm(&self, token: u64) -> bool {
        let Some(Some(p)) = self.slots.get(token as u32 as usize) else {
            return false;
        };
        let poller = self.poller.as_ref();
        poller.is_some_and(|poller| poller.rearm(p.io.as_fd(), token).is_ok())
    }

    /// Take the connection parked under `token`, if it is still there.
    fn take(&mut self, token: u64) -> Option<Parked> {
        self.get_mut(token)?;
        let slot = token as u32;
        let p = self.slots[slot as usize].take()?;
        self.free.push(slot);
        if let Some(poller) = &self.poller {
            poller.unwatch(p.io.as_fd());
        }
        Some(p)
    }
}

/// A token names a slot and (the low half of) its connection's id, so a
/// token that arrives after the slot changed hands is ignored.
fn token(slot: u32, conn_id: u64) -> u64 {
    (conn_id << 32) | slot as u64
}

/// Tokens of parked connections woken from inside the shard. Thread-local
/// because a handle is woken without a reference to its shard; a shard is
/// one thread.
#[derive(Default)]
struct Woken {
    tokens: Vec<u64>,
    waker: Option<Waker>,
}

thread_local! {
    static WOKEN: RefCell<Woken> = RefCell::default();
}

/// Called by [`super::ConnHandle::wake`] for a parked connection.
pub(super) fn wake_parked(slot: u32, conn_id: u64) {
    let waker = WOKEN.with(|w| {
        let mut w = w.borrow_mut();
        w.tokens.push(token(slot, conn_id));
        w.waker.take()
    });
    if let Some(w) = waker {
        w.wake();
    }
}

/// Start this shard's poller and the two tasks that bring connections back.
/// Without a poller (epoll or thread creation failed) nothing parks.
pub fn start(shard: &Rc<Shard>) {
    if shard.wheel.borrow().park_after_ms() == 0 {
        return;
    }
    match Poller::start(shard.id) {
        Ok((poller, tokens)) => {
            shard.parking.borrow_mut().poller = Some(poller);
            // SAFETY: `tokens` is an open socket we own; the stream takes
            // it over (glommio offers only `from_raw_fd`).
            let tokens = unsafe { UnixStream::from_raw_fd(tokens.into_raw_fd()) };
            glommio::spawn_local(ready_loop(shard.clone(), tokens)).detach();
            glommio::spawn_local(woken_loop(shard.clone())).detach();
        }
        Err(e) => {
            warn!(shard = shard.id, error = %e, "cannot start the idle poller: connections will not park");
            shard.wheel.borrow_mut().disable_parking();
        }
    }
}

/// Park a quiescent connection; gives it back if it cannot be parked.
#[allow(clippy::result_large_err)]
pub(super) fn park(conn: Connection) -> Result<(), Connection> {
    let shard = conn.st.shard.clone();
    let mut lot = shard.parking.borrow_mut();
    if lot.poller.is_none() {
        conn.st.handle.set_parked(None); // withdraws the request
        return Err(conn);
    }
    let Connection {
        st,
        io,
        reader,
        writer,
    } = conn;
    let io = match io.detach() {
        Ok(io) => io,
        Err(e) => {
            debug!(client_id = %st.client_id, error = %e.error, "cannot detach: not parking");
            st.handle.set_parked(None);
            let io = e.transport;
            return Err(Connection {
                st,
                io,
                reader,
                writer,
            });
        }
    };
    let slot = lot.vacant();
    let watched = lot
        .poller
        .as_ref()
        .unwrap()
        .watch(io.as_fd(), token(slot, st.handle.id));
    if let Err(e) = watched {
        lot.free.push(slot);
        debug!(client_id = %st.client_id, error = %e, "cannot watch the socket: not parking");
        st.handle.set_parked(None);
        return Err(Connection::resume(st, io, Vec::new()));
    }
    st.handle.clear_waker();
    st.handle.set_parked(Some(slot));
    lot.slots[slot as usize] = Some(Parked { conn: st, io });
    let m = &shard.metrics;
    ShardMetrics::inc(&m.parks);
    ShardMetrics::inc(&m.connections_parked);
    Ok(())
}

/// The poller says the socket parked under `token` is readable: the
/// transport answers PINGREQs in place; anything else brings the
/// connection back.
fn on_readable(shard: &Rc<Shard>, token: u64) {
    let mut lot = shard.parking.borrow_mut();
    let Some(p) = lot.get_mut(token) else { return };
    let (heard, unsent) = p.io.listen_parked();
    if let Heard::Pings(n) = heard {
        p.conn.handle.last_seen_ms.set(shard.now_ms()); // keep-alive, not activity
        ShardMetrics::add(&shard.metrics.pings_while_parked, n as u64);
    }
    let pending = match heard {
        Heard::Pings(_) if !unsent.is_empty() => Vec::new(),
        Heard::Pings(_) | Heard::Nothing if lot.rearm(token) => return,
        Heard::Pings(_) | Heard::Nothing => Vec::new(),
        Heard::Wake(bytes) => bytes,
        Heard::Closed => {
            drop(lot);
            return close_parked(shard, token);
        }
    };
    drop(lot);
    unpark(shard, token, pending, unsent);
}

/// The client went away while parked: end the connection where it lies,
/// without a task or a stream (a disconnect storm of parked clients would
/// otherwise rebuild thousands of streams just to read end-of-stream).
fn close_parked(shard: &Rc<Shard>, token: u64) {
    let Some(Parked { mut conn, io }) = leave(shard, token) else {
        return;
    };
    drop(io); // closes the socket
    conn.finish(CloseReason::SocketClosed);
}

/// Take the connection parked under `token` out of the lot, if it is still
/// there: its handle is live again (wakes reach a task) and it is counted out.
fn leave(shard: &Shard, token: u64) -> Option<Parked> {
    let p = shard.parking.borrow_mut().take(token)?;
    p.conn.handle.set_parked(None);
    let m = &shard.metrics;
    ShardMetrics::inc(&m.unparks);
    ShardMetrics::dec(&m.connections_parked);
    Some(p)
}

/// Bring the connection parked under `token` back as a running task, with
/// input already read from its socket and output still to write.
fn unpark(shard: &Rc<Shard>, token: u64, pending: Vec<u8>, unsent: Vec<u8>) {
    let Some(Parked { conn, io }) = leave(shard, token) else {
        return;
    };
    if !unsent.is_empty() {
        conn.handle.write_encoded(&unsent);
    }
    // Its next idle check may be much earlier than its keep-alive entry.
    shard.wheel.borrow_mut().add(&conn.handle);
    spawn_guarded(shard, run(Connection::resume(conn, io, pending)));
}

/// Tokens of sockets that became readable, from the poller thread.
async fn ready_loop(shard: Rc<Shard>, mut tokens: UnixStream) {
    let mut buf = vec![0u8; 8 * 512];
    let mut have = 0;
    loop {
        let n = match tokens.read(&mut buf[have..]).await {
            Ok(n) if n > 0 => n,
            other => {
                warn!(shard = shard.id, result = ?other, "idle poller gone: parked connections wake only from inside the shard");
                return;
            }
        };
        have += n;
        let whole = have / 8 * 8;
        for t in buf[..whole].chunks_exact(8) {
            on_readable(&shard, u64::from_le_bytes(t.try_into().unwrap()));
        }
        buf.copy_within(whole..have, 0);
        have -= whole;
    }
}

/// Tokens of parked connections woken by the shard itself.
async fn woken_loop(shard: Rc<Shard>) {
    loop {
        let tokens = poll_fn(|cx| {
            WOKEN.with(|w| {
                let mut w = w.borrow_mut();
                if w.tokens.is_empty() {
                    w.waker = Some(cx.waker().clone());
                    Poll::Pending
                } else {
                    Poll::Ready(std::mem::take(&mut w.tokens))
                }
            })
        })
        .await;
        for t in tokens {
            unpark(&shard, t, Vec::new(), Vec::new());
        }
    }
}

impl Connection {
    /// A connection back from the lot: its transport on this ring again,
    /// and the bytes read while it was parked (it parked with nothing in
    /// flight).
    fn resume(st: Conn, io: Detached, pending: Vec<u8>) -> Connection {
        Connection {
            st,
            io: io.attach(),
            reader: Reader::with_pending(pending),
            writer: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;
    use std::os::fd::OwnedFd;

    #[test]
    fn a_parked_transport_costs_its_fd_and_one_pointer() {
        // The pointer is the boxed TLS session (none for TCP).
        let bare = size_of::<Option<(Conn, OwnedFd, Box<u8>)>>();
        assert_eq!(size_of::<Option<Parked>>(), bare, "lot slot");
    }
}
