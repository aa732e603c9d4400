//! One client connection: a single task per connection that reads packets
//! from its transport (through the shard's scratch buffer), handles them, and
//! writes whatever the session or other connections queued on its handle.
//!
//! Life of a connection: [`serve_accepted`] reads the CONNECT under the
//! connect timeout on the accepting shard and either continues locally or
//! hands the transport to the owner shard ([`serve_handoff`]);
//! [`serve_connected`] admits the client (`connect.rs`), runs the packet loop
//! (`packets.rs`) and cleans up (will, session) when it ends. An idle connection parks in
//! between (`park.rs`): its task ends and a new one takes over on traffic.

mod aliases;
mod connack;
mod connect;
mod disconnect;
mod durable;
mod encoder;
mod first;
mod goodbye;
mod handle;
mod io;
mod packets;
mod park;
mod publish;
mod v5;

pub use park::{start as start_parking, ParkingLot};

pub use connect::publish_will;
pub use encoder::{Encoder, Wire};
pub use goodbye::shutdown;
pub use handle::{CloseReason, ConnHandle, OutBuf};
pub use io::ShardIo;

use crate::auth::AuthDecision;
use crate::metrics::{Failure, ShardMetrics};
use crate::plane::{self, messages::HandOff};
use crate::protocol::{Connect, DecodeError, MqttStr, ProtocolVersion};
use crate::session::SessionKey;
use crate::shard::{spawn_guarded, Shard};
use crate::transport::Transport;
use connect::Admitted;
use glommio::net::TcpStream;
use io::{Flow, ReadError, Reader, Writer};
use packets::Hold;
use std::cell::Cell;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Instant;
use tracing::debug;

/// Reads per poll before the task yields to others on the shard. One: a
/// 64 KiB read is ~1,500 small PUBLISHes, and subscribers' writers must get
/// the CPU between publishers' reads or their buffers overflow (measured:
/// at 32, fan-in QoS 0 delivered 120 k of 2.6 M msg/s; at 1, 1.97 M of 2.4 M).
const READ_BUDGET: usize = 1;

/// Where and when a connection came in, and what its credentials came to,
/// carried to its owner shard.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    /// Index of its listener in `Shard::listeners`.
    pub listener: u8,
    pub accepted_at: Instant,
    /// The user name is the client certificate's CN: no password to check.
    pub certified: bool,
    /// The accepting shard's check of the CONNECT's credentials.
    pub auth: AuthDecision,
}

/// Entry point for a socket accepted by this shard on `listener`: upgrade
/// it to the listener's transport and read its CONNECT, both under the
/// connect timeout; check its credentials here (a password hash is awaited
/// off the shard thread, within the same deadline); then admit it here or
/// hand it to its owner shard.
pub async fn serve_accepted(
    shard: Rc<Shard>,
    stream: TcpStream,
    listener: u8,
    accepted_at: Instant,
) {
    let l = &shard.listeners[listener as usize];
    let max = shard.cfg.limits.max_packet_size;
    let deadline = accepted_at + shard.cfg.connect_timeout();
    let upgraded = Cell::new(false);
    let first = glommio::timer::timeout(shard.cfg.connect_timeout(), async {
        let up = match crate::listener::upgrade(&shard, l, stream).await {
            Ok(up) => up,
            Err(why) => return Ok(Err(why)),
        };
        upgraded.set(true);
        let mut io = up.io;
        let read = first::read_connect(&mut io, &shard.io, max).await;
        Ok(Ok((io, up.identity, read)))
    })
    .await;
    let (io, identity, read) = match first {
        Err(_) if !upgraded.get() => return upgrade_failed(&shard, listener, Failure::Timeout),
        Err(_) => {
            ShardMetrics::inc(&shard.metrics.connect_timeouts);
            debug!(
                shard = shard.id,
                "no complete CONNECT within the connect timeout: closing"
            );
            return;
        }
        Ok(Err(why)) => return upgrade_failed(&shard, listener, why),
        Ok(Ok(done)) => done,
    };
    let (mut c, rest) = match read {
        Err(e) => {
            if let first::FirstPacketError::Failed(e) = &e {
                l.metrics.count_read_error(e); // a refused WebSocket frame
            }
            return first::reject_first_packet(&shard, io, e).await;
        }
        Ok(first) => first,
    };
    let certified = identity.is_some();
    if let Some(cn) = identity {
        c.username = Some(MqttStr::from(cn.as_str()));
        c.password = None;
    }
    let auth = connect::check_credentials(&shard, &c, certified, deadline).await;
    let arrival = Arrival {
        listener,
        accepted_at,
        certified,
        auth,
    };
    let owner = connect::owner_of(&shard, &c);
    if owner == shard.id {
        serve_connected(shard, io, c, rest, arrival);
    } else {
        connect::hand_off(&shard, io, owner, c, rest, arrival);
    }
}

/// A TLS handshake or WebSocket upgrade failed: counted, logged, closed.
fn upgrade_failed(shard: &Shard, listener: u8, why: Failure) {
    let l = &shard.listeners[listener as usize];
    l.metrics.fail(why);
    debug!(shard = shard.id, listener = %l.spec.label, cause = why.name(), "handshake failed: closing");
}

/// Entry point for a connection handed over by another shard.
pub fn serve_handoff(shard: Rc<Shard>, h: HandOff) {
    let io = h.conn.attach(); // onto this shard's ring
    serve_connected(shard, io, h.connect, h.rest, h.arrival);
}

/// Admit or refuse on the owner shard. Either way the rest runs as a new
/// task: the accept phase's future (CONNECT reading, timeout, refusal) is
/// large and must not stay allocated for the life of every connection.
fn serve_connected(shard: Rc<Shard>, io: Transport, c: Connect, rest: Vec<u8>, arrival: Arrival) {
    let version = c.protocol;
    let room = connack::reason_room(&c);
    match connect::admit(&shard, c, arrival) {
        Err(r) => {
            let ack = connack::refusal(&shard, r, version, room);
            spawn_guarded(&shard, first::refuse(io, ack, version))
        }
        Ok(admitted) => {
            let conn = Connection::new(shard.clone(), io, admitted, rest);
            spawn_guarded(&shard, run(conn));
        }
    }
}

/// Why the packet loop stopped.
enum Exit {
    Close(CloseReason),
    /// Asked to park and nothing is in flight on the connection.
    Park,
}

/// The connected phase: the packet loop until the connection parks (the
/// task ends; another resumes it) or closes (clean-up).
async fn run(mut conn: Connection) {
    loop {
        match poll_fn(|cx| conn.poll_run(cx)).await {
            Exit::Close(reason) => {
                conn.st.finish(reason);
                if let Some(code) = conn.goodbye_code(reason) {
                    // Boxed: its state (timer, drain buffer) would otherwise
                    // enlarge every connection's task, 3.1.1 ones too.
                    Box::pin(conn.goodbye(code)).await;
                }
                return;
            }
            Exit::Park => match park::park(conn) {
                Ok(()) => return,
                Err(back) => conn = back,
            },
        }
    }
}

/// State the packet handlers work on (everything but the socket).
pub(crate) struct Conn {
    shard: Rc<Shard>,
    handle: Rc<ConnHandle>,
    key: SessionKey,
    client_id: MqttStr,
    version: ProtocolVersion,
    /// An answer held until peer shards confirm (SUBACK, retained PUBACK).
    blocked: Option<Box<Hold>>,
    /// Acknowledgements held until the disk has what they promise.
    waiting: durable::Waiting,
    /// Set by a handler that ends the connection.
    close: Option<CloseReason>,
    /// A packet other than PINGREQ arrived since the last read.
    active: bool,
    /// Index of the listener it came in on (`Shard::listeners`).
    listener: u8,
}

struct Connection {
    st: Conn,
    io: Transport,
    reader: Reader,
    writer: Writer,
}

impl Connection {
    fn new(shard: Rc<Shard>, io: Transport, a: Admitted, rest: Vec<u8>) -> Connection {
        if shard.pauses.is_paused(a.key) {
            // Reconnected while held back: still held back.
            a.handle.hold();
        }
        let st = Conn {
            shard,
            handle: a.handle,
            key: a.key,
            client_id: a.client_id,
            version: a.version,
            listener: a.listener,
            blocked: None,
            waiting: None,
            close: None,
            active: false,
        };
        Connection {
            st,
            io,
            reader: Reader::with_pending(rest),
            writer: Writer::default(),
        }
    }

    /// Drive the connection until it must close or may park.
    fn poll_run(&mut self, cx: &mut Context<'_>) -> Poll<Exit> {
        let Connection {
            st,
            io,
            reader,
            writer,
        } = self;
        st.handle.set_waker(cx.waker());
        // Its own handle on the shard: the packet handlers borrow `st`.
        let shard = st.shard.clone();
        let limits = &shard.cfg.limits;
        let (max_packet, max_out) = (limits.max_packet_size, limits.max_outbound_bytes);
        for _ in 0..READ_BUDGET {
            if let Some(r) = st.close.or(st.handle.close_reason()) {
                return Poll::Ready(Exit::Close(r));
            }
            let flushed = match writer.poll_flush(cx, io, &st.handle, &st.shard.hist) {
                Poll::Ready(Err(e)) => {
                    debug!(client_id = %st.client_id, error = %e, "write failed");
                    return Poll::Ready(Exit::Close(CloseReason::SocketClosed));
                }
                Poll::Ready(Ok(())) => true,
                Poll::Pending => false,
            };
            if let Some(at) = writer.take_delivered() {
                // The latency clock read of the write, not another one.
                st.handle.last_active_ms.set(st.shard.ms_at(at));
            }
            if st.handle.park_requested() {
                let quiet = flushed
                    && st.blocked.is_none()
                    && st.waiting.is_none()
                    && !reader.has_pending()
                    && !st.handle.held();
                if quiet && io.can_park() {
                    return Poll::Ready(Exit::Park);
                }
                st.handle.decline_park(); // the wheel asks again later
            }
            if st.blocked.is_some() && !st.try_release(Some(cx)) {
                return Poll::Pending;
            }
            if st.waiting.is_some() {
                let done = st.release_answers(Some(cx));
                if st.close.is_some() {
                    continue; // a 3.1.1 client whose message was lost
                }
                if !done && st.waiting_len() >= durable::MAX_WAITING {
                    return Poll::Pending; // the disk is far behind: stop reading
                }
            }
            // Held back: a session it publishes to is full. Reading nothing
            // more (not even acks behind the next PUBLISH) is what makes TCP
            // push back; `let_go` wakes us.
            if st.handle.held() {
                return Poll::Pending;
            }
            if reader.has_pending() {
                match reader.drain_pending(&shard.io, max_packet, &mut |h, f| st.on_frame(h, f)) {
                    Err(e) => return Poll::Ready(Exit::Close(st.malformed(e))),
                    Ok(Flow::Continue) => {}
                    Ok(_) => continue,
                }
            }
            // Back-pressure: a client that does not read its socket, or a
            // full outbox to another shard, stops us reading from this one.
            if st.handle.pending_bytes() >= max_out
                || st.shard.mesh.congested(cx.waker())
                || st
                    .shard
                    .persist
                    .as_ref()
                    .is_some_and(|p| p.congested(cx.waker()))
            {
                return Poll::Pending;
            }
            let on_frame = &mut |h, f| st.on_frame(h, f);
            match reader.poll_read(cx, io, &shard.io, max_packet, on_frame) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok((false, _))) => {
                    return Poll::Ready(Exit::Close(CloseReason::SocketClosed))
                }
                Poll::Ready(Ok((true, _))) => st.seen(),
                Poll::Ready(Err(ReadError::Io(e))) => {
                    let listener = &shard.listeners[st.listener as usize];
                    listener.metrics.count_read_error(&e); // a refused WebSocket frame
                    debug!(client_id = %st.client_id, error = %e, "read failed");
                    return Poll::Ready(Exit::Close(CloseReason::SocketClosed));
                }
                Poll::Ready(Err(ReadError::Decode(e))) => {
                    return Poll::Ready(Exit::Close(st.malformed(e)))
                }
            }
        }
        // Budget spent: let the other connections of this shard run.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl Conn {
    /// Bytes arrived: the keep-alive clock restarts, and the idle clock too
    /// unless they were only PINGREQs.
    fn seen(&mut self) {
        let now = self.shard.now_ms();
        self.handle.last_seen_ms.set(now);
        if std::mem::take(&mut self.active) {
            self.handle.last_active_ms.set(now);
        }
    }

    /// A packet failed to decode: count, log, close (with DISCONNECT 0x81,
    /// 0x82 or 0x95 for an MQTT 5 client, §4.13).
    fn malformed(&mut self, e: DecodeError) -> CloseReason {
        first::count_decode_error(&self.shard.metrics, &e);
        let id = e.normative_id().unwrap_or("-");
        debug!(client_id = %self.client_id, error = %e, "[{id}] malformed packet: closing");
        let code = goodbye::decode_reason(&e);
        if code == crate::protocol::ReasonCode::TopicAliasInvalid {
            ShardMetrics::inc(&self.shard.metrics.topic_alias_errors); // alias 0
        }
        CloseReason::Violation(code)
    }

    /// The connection is over: the session detaches it (and ends, if it
    /// was clean); the will goes out when the end calls for it.
    fn finish(&mut self, reason: CloseReason) {
        let shard = &*self.shard;
        self.handle.clear_waker();
        self.handle.kick(reason);
        let now = shard.elapsed_ms();
        let closed = shard
            .sessions
            .borrow_mut()
            .close(self.key, &self.handle, reason, now);
        plane::forget_interest(shard, closed.lost);
        if let Some(w) = closed.will {
            connect::publish_will(shard, self.key, *w);
        }
        plane::pressure::flush(shard); // its publishers go on
        shard.global.remove_connection();
        ShardMetrics::dec(&shard.metrics.connections_current);
        let listener = &shard.listeners[self.listener as usize];
        listener.spec.remove_connection();
        ShardMetrics::dec(&listener.metrics.connections);
        debug!(shard = shard.id, client_id = %self.client_id, ?reason, "connection closed");
    }
}
