//! Compaction: a new segment that begins with a snapshot of the shard's
//! live state, written a few sessions at a time between the shard's other
//! work; once it is complete and on disk, the older segments are deleted.
//!
//! Live records keep flowing into the new segment while the snapshot is
//! written. Replay makes that safe: a live record about a session not yet
//! snapshotted applies to the state the older segments built (or, once
//! they are gone, is ignored: the session's `STATE`, written later from
//! memory, already includes it), and `SNAP_END` drops what the snapshot did
//! not mention (`image.rs`).
//!
//! It runs at start (the recovered state becomes the first segment), when
//! the segment outgrows twice the last snapshot (at least `compact_min_bytes`),
//! and every second while the log is unhealthy (a RESYNC snapshot is how a
//! log that lost records after a write error becomes whole again).

use super::frame::{FLAG_RESYNC, FLAG_SNAPSHOT, PARTITION_NONE};
use super::record::kind;
use super::snapshot::{self, Written};
use crate::metrics::ShardMetrics;
use crate::router::RetainedMessage;
use crate::shard::Shard;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tracing::{debug, info};

/// Retained messages written per step before yielding.
const STEP: usize = 64;
/// Time spent on sessions per step before yielding: the shard's clients
/// wait at most about this long for a compaction.
const SLICE: Duration = Duration::from_micros(250);

/// The compaction task of one shard. `first_segment`: the segment opened
/// at start, which the first snapshot fills.
pub async fn run(shard: Rc<Shard>, first_segment: u64, on_first: Option<Box<dyn FnOnce()>>) {
    let Some(p) = shard.persist.as_ref() else {
        return;
    };
    let min = shard.cfg.persistence.compact_min_bytes;
    let mut size = pass(&shard, first_segment).await;
    if let Some(f) = on_first {
        // A re-home switches generations only once this is on disk
        // (`delete_before` fsyncs whatever the policy).
        let end = p.log.appended();
        while p.log.durable() < end && p.log.healthy() {
            glommio::timer::sleep(Duration::from_millis(5)).await;
        }
        if p.log.healthy() {
            f();
        }
    }
    loop {
        glommio::timer::sleep(Duration::from_secs(1)).await;
        if shard.global.stopping() {
            return;
        }
        let seg = if !p.log.healthy() {
            p.log.start_segment(FLAG_SNAPSHOT | FLAG_RESYNC)
        } else if p.log.segment_bytes() > min.max(2 * size) {
            p.log.start_segment(FLAG_SNAPSHOT)
        } else {
            continue;
        };
        size = pass(&shard, seg).await;
    }
}

/// Write one snapshot into segment `seg` (already started), then delete
/// the segments before it. Returns the snapshot's size in bytes.
async fn pass(shard: &Rc<Shard>, seg: u64) -> u64 {
    let p = shard.persist.as_ref().expect("persistence on");
    let t = Instant::now();
    let start = p.log.appended();
    let mut written = Written::default();
    {
        let mut book = p.book.borrow_mut();
        book.new_segment();
        book.log.append(kind::SNAP_BEGIN, PARTITION_NONE, |_| {});
    }
    // Slots walked as they are at each step: a session created behind the
    // cursor wrote its own SESSION record into this segment.
    let (mut slot, mut sessions) = (0, 0);
    while (slot as usize) < shard.sessions.borrow().slot_count() {
        sessions += sessions_step(shard, &mut written, &mut slot);
        futures_lite::future::yield_now().await;
    }
    let mut retained: Vec<RetainedMessage> = Vec::new();
    (shard.router.borrow().retained).for_each(|m| retained.push(m.clone()));
    for chunk in retained.chunks(STEP) {
        chunk
            .iter()
            .for_each(|m| snapshot::retained(&p.book.borrow(), m));
        futures_lite::future::yield_now().await;
    }
    let seen: Vec<_> = p.seen.borrow().iter().copied().collect();
    for k in seen {
        p.log.append(kind::QOS2_SEEN, PARTITION_NONE, |b| {
            super::qos2::put_key(b, k)
        });
    }
    p.log.append(kind::SNAP_END, PARTITION_NONE, |_| {});
    p.log.delete_before(seg);
    let size = p.log.appended() - start;
    ShardMetrics::inc(&shard.metrics.compactions);
    let ms = t.elapsed().as_millis();
    debug!(
        shard = shard.id,
        segment = seg,
        bytes = size,
        ms,
        "compaction snapshot written"
    );
    if seg == 1 || sessions > 10_000 {
        info!(
            shard = shard.id,
            sessions,
            bytes = size,
            ms,
            "log snapshot written"
        );
    }
    size
}

/// Snapshot the sessions from slot `*slot` on for about [`SLICE`] (at
/// least one slot); moves `*slot` past them and returns how many it wrote.
fn sessions_step(shard: &Shard, written: &mut Written, slot: &mut u32) -> usize {
    let p = shard.persist.as_ref().expect("persistence on");
    let sessions = shard.sessions.borrow();
    let mut book = p.book.borrow_mut();
    let now = shard.elapsed_ms();
    let t = Instant::now();
    let mut n = 0;
    while (*slot as usize) < sessions.slot_count() {
        let key = sessions.key_at(*slot);
        *slot += 1;
        let found = key.and_then(|k| Some((book.sid(k)?, sessions.view(k)?)));
        if let Some(((sid, part), v)) = found {
            snapshot::session(&mut book, written, sid, part, &v, now);
            n += 1;
        }
        if t.elapsed() >= SLICE {
            break;
        }
    }
    n
}
