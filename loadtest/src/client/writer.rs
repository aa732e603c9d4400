//! The writer half of a connection: everything written goes through here,
//! batched. Each round takes the reader's pending acks, adds as many
//! PUBLISHes as the rate, the QoS window and the batch size allow, adds a
//! PINGREQ when one is due, and writes it all with one `write_all`, so a
//! slow broker slows the publisher down through TCP back-pressure.

use super::conn::Conn;
use super::publisher::{PubResult, Publisher, BATCH_BYTES};
use crate::clock::{now_ns, sleep_until};
use crate::net::Half;
use futures_lite::{future, AsyncWriteExt};
use shardmq_protocol::{encode, Disconnect, Packet};
use std::time::Duration;

/// How long the final DISCONNECT may take.
pub const GOODBYE: Duration = Duration::from_secs(1);

/// Runs until the end of the run or until the connection is lost; gives
/// the publisher back for its report.
pub async fn run(c: &Conn<'_>, mut publisher: Option<Publisher>) -> Option<PubResult> {
    let ctx = c.ctx;
    let ping_ns = ctx.cfg.ping_ns;
    let mut batch = Vec::with_capacity(if publisher.is_some() {
        BATCH_BYTES + 1024
    } else {
        64
    });
    let mut last_write = now_ns();
    while !c.closed.get() && !ctx.end.is_set() {
        batch.clear();
        batch.append(&mut c.ctrl.borrow_mut());
        let now = now_ns();
        let mut wake = publisher
            .as_mut()
            .map_or(u64::MAX, |p| p.fill(c, &mut batch, now));
        if ping_ns > 0 {
            if now >= last_write + ping_ns {
                encode(&Packet::PingReq, ctx.cfg.version, &mut batch);
                ctx.stats.borrow_mut().counts.pings += 1;
            } else {
                wake = wake.min(last_write + ping_ns);
            }
        }
        if batch.is_empty() {
            idle(c, wake).await;
            continue;
        }
        if let Some(p) = publisher.as_mut() {
            p.writing();
        }
        let write = async {
            let mut io = Half(&c.io);
            let written = io.write_all(&batch).await;
            Some(match written {
                Ok(()) => io.flush().await,
                e => e,
            })
        };
        let end = async {
            ctx.end.wait().await;
            None
        };
        match future::or(write, end).await {
            Some(Ok(())) => {
                last_write = now_ns();
                if let Some(p) = publisher.as_mut() {
                    p.commit(c, last_write);
                }
            }
            Some(Err(e)) => c.lost(format!("write: {e}")),
            // The run ended mid-write: the stream may end inside a packet,
            // so a DISCONNECT after it would be garbage. Just close.
            None => return publisher.map(|mut p| p.finish(ctx)),
        }
        glommio::yield_if_needed().await;
    }
    goodbye(c).await;
    publisher.map(|mut p| p.finish(ctx))
}

/// Nothing to write: wait for a kick from the reader, the start, the next
/// due time, or the end.
async fn idle(c: &Conn<'_>, wake: u64) {
    let ctx = c.ctx;
    let timer = async {
        if wake == u64::MAX {
            future::pending::<()>().await;
        }
        sleep_until(wake).await;
    };
    let go = async {
        if ctx.go.is_set() {
            future::pending::<()>().await;
        }
        ctx.go.wait().await;
    };
    future::or(
        future::or(c.kick.notified(), ctx.end.wait()),
        future::or(go, timer),
    )
    .await;
}

/// DISCONNECT, then close (over TLS that sends close_notify), bounded: a
/// broker that stopped reading must not hold us.
async fn goodbye(c: &Conn<'_>) {
    if c.closed.get() {
        return;
    }
    let mut out = Vec::with_capacity(2);
    encode(
        &Packet::Disconnect(Disconnect::NORMAL),
        c.ctx.cfg.version,
        &mut out,
    );
    let write = async {
        let mut io = Half(&c.io);
        if io.write_all(&out).await.is_ok() {
            let _ = io.close().await;
        }
    };
    future::or(write, async {
        glommio::timer::Timer::new(GOODBYE).await;
    })
    .await;
}
