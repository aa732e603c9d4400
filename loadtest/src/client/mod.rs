//! One MQTT client: handshake, then a reader and a writer running as two
//! futures of one task until the end of the run.

mod conn;
mod handshake;
mod inflight;
mod publisher;
mod readbuf;
mod writer;

use crate::clock::now_ns;
use crate::runtime::ThreadCtx;
use futures_lite::{future, AsyncWriteExt};
use shardmq_protocol::{encode, Disconnect, Packet};
use std::cell::Cell;
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::atomic::Ordering::Relaxed;

#[cfg(test)]
pub use conn::PairResult;
pub use conn::SubResult;
pub use publisher::PubResult;

#[derive(Debug, Clone)]
pub enum Role {
    Publisher {
        topic: String,
    },
    Subscriber {
        filter: String,
    },
    /// `conn`: connect, ping, disconnect; `connect-rate`: connect,
    /// disconnect.
    Idle,
}

impl Role {
    /// Receive buffer growth step: big for subscribers, tiny for the rest
    /// (they only ever receive acks), so idle connections stay cheap.
    fn read_chunk(&self) -> usize {
        match self {
            Role::Subscriber { .. } => 64 * 1024,
            Role::Publisher { .. } => 4 * 1024,
            Role::Idle => 256,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Spec {
    /// %i: publisher id for publishers, pair index for p2p.
    pub index: u32,
    /// Position among the clients of the same role (staggers rate-limited
    /// publishers so they do not all fire at once).
    pub rank: u32,
    pub role: Role,
    pub client_id: String,
    pub source: Option<IpAddr>,
}

pub enum Outcome {
    /// The handshake failed (already counted and reported).
    Failed,
    Publisher(PubResult),
    Subscriber(SubResult),
    Idle,
}

pub async fn run(ctx: Rc<ThreadCtx>, spec: Spec) -> Outcome {
    let mut rb = readbuf::ReadBuf::new(spec.role.read_chunk());
    let Some(hs) = handshake_bounded(&ctx, &spec, &mut rb).await else {
        return Outcome::Failed;
    };
    conn::Conn::new(&ctx, hs.stream, &spec, hs.window)
        .run(rb, hs.early)
        .await
}

/// `connect-rate`: connect, CONNACK, DISCONNECT, close (bounded), and count
/// the end of it as the last moment of the run so far.
pub async fn cycle(ctx: &ThreadCtx, spec: &Spec) {
    let mut rb = readbuf::ReadBuf::new(spec.role.read_chunk());
    if let Some(mut hs) = handshake_bounded(ctx, spec, &mut rb).await {
        let mut out = Vec::with_capacity(2);
        let bye = Packet::Disconnect(Disconnect::NORMAL);
        encode(&bye, ctx.cfg.version, &mut out);
        let close = async {
            if handshake::send(&mut hs.stream, &out).await.is_ok() {
                let _ = hs.stream.close().await;
            }
        };
        let late = async {
            glommio::timer::Timer::new(writer::GOODBYE).await;
        };
        future::or(close, late).await;
    }
    let mut st = ctx.stats.borrow_mut();
    st.last_connack_ns = st.last_connack_ns.max(now_ns());
}

/// The handshake within the connect timeout (or until the run ends), its
/// latency and outcome counted.
async fn handshake_bounded(
    ctx: &ThreadCtx,
    spec: &Spec,
    rb: &mut readbuf::ReadBuf,
) -> Option<handshake::Handshake> {
    let began = now_ns();
    let stage = Cell::new("TCP connect");
    let timeout = ctx.cfg.connect_timeout;
    let timed_out = async {
        glommio::timer::Timer::new(timeout).await;
        Err(format!(
            "timeout after {}s waiting for {}",
            timeout.as_secs_f64(),
            stage.get()
        ))
    };
    // An aborted run must not wait out the connect timeout of every
    // client still in its handshake.
    let ended = async {
        ctx.end.wait().await;
        Err(format!("run ended while waiting for {}", stage.get()))
    };
    let hs = future::or(
        handshake::run(ctx, spec, rb, &stage),
        future::or(timed_out, ended),
    )
    .await;
    let hs = match hs {
        Ok(hs) => hs,
        Err(e) => {
            ctx.stats.borrow_mut().errors.add(e);
            ctx.live().failed.fetch_add(1, Relaxed);
            return None;
        }
    };
    let done = now_ns();
    {
        let mut st = ctx.stats.borrow_mut();
        st.connack.saturating_record((hs.connack_ns - began) / 1000);
        st.last_connack_ns = st.last_connack_ns.max(done);
        if let Some(q) = hs.granted {
            st.granted = Some(st.granted.map_or(q as u8, |g| g.min(q as u8)));
        }
    }
    ctx.live().connected.fetch_add(1, Relaxed);
    Some(hs)
}
