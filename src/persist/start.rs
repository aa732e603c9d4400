//! A shard's durable log at start: open its segment, hear session events,
//! install the recovered image, start the flusher and compaction.

use super::book::Book;
use super::frame::FLAG_SNAPSHOT;
use super::observer::Recorder;
use super::recover::ShardStart;
use super::writer::{FsyncPolicy as Policy, Log, LogConfig};
use super::Persist;
use crate::config::FsyncPolicy;
use crate::shard::Shard;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tracing::warn;

/// Open the log of `shard` (not yet shared: before the mesh connects).
pub async fn open(shard: &mut Shard, s: &mut ShardStart) -> Result<(), String> {
    let p = &shard.cfg.persistence;
    let fsync = match p.fsync {
        FsyncPolicy::Always => Policy::Always,
        FsyncPolicy::Interval => Policy::Interval(Duration::from_secs_f64(p.fsync_interval)),
        FsyncPolicy::Never => Policy::Never,
    };
    // Each shard's log gets its share of the limit.
    let cfg = LogConfig {
        fsync,
        max_disk_bytes: p.max_disk_bytes / shard.count as u64,
    };
    let id = shard.id as u16;
    let log = Log::open(&s.stream_dir, id, s.segment, FLAG_SNAPSHOT, cfg)
        .await
        .map_err(|e| {
            format!(
                "shard {id}: cannot open its log in {}: {e}",
                s.stream_dir.display()
            )
        })?;
    let book = Book::new(log.clone(), s.image.next_sid, s.image.next_mid);
    let always = p.fsync == FsyncPolicy::Always;
    let persist = Persist::new(log, book, always, shard.id, shard.count);
    let recorder = Recorder(persist.book.clone());
    shard.sessions.get_mut().observe(Box::new(recorder));
    shard.persist = Some(persist);
    Ok(())
}

/// Install the recovered state and start the log's tasks (mesh connected,
/// listeners not yet accepting).
pub fn run(shard: &Rc<Shard>, s: ShardStart) {
    let p = shard.persist.as_ref().expect("opened");
    glommio::spawn_local(p.log.clone().run()).detach();
    // Peers refuse QoS 1/2 for this shard while its log cannot write.
    let weak = Rc::downgrade(shard);
    p.log.on_health_change(Box::new(move |healthy| {
        let Some(s) = weak.upgrade() else { return };
        for peer in (0..s.count).filter(|&q| q != s.id) {
            let msg = crate::plane::messages::Control::LogHealth { healthy };
            s.mesh.send_control_always(peer, msg);
        }
    }));
    if let Some(t) = s.took {
        shard.hist.borrow_mut().recovery.record(t);
    }
    super::install::install(shard, s.image);
    let on_first: Option<Box<dyn FnOnce()>> = s.switch.map(|sw| {
        Box::new(move || {
            if sw.done() {
                let work = glommio::executor().spawn_blocking(move || sw.finish());
                glommio::spawn_local(async move {
                    if let Err(e) = work.await {
                        warn!(error = %e, "re-home: could not switch to the new generation");
                    }
                })
                .detach();
            }
        }) as Box<dyn FnOnce()>
    });
    glommio::spawn_local(super::compact::run(shard.clone(), s.segment, on_first)).detach();
}

/// Wait, before accepting clients, until every shard installed its
/// recovered state and every peer applied this shard's interest in it: a
/// client that published earlier would find no subscriber on a shard still
/// installing, and its message, acknowledged, would reach none.
pub async fn gate(shard: &Rc<Shard>, installing: &AtomicUsize) {
    installing.fetch_sub(1, Ordering::AcqRel);
    let seq = shard.acks.current();
    let deadline = Instant::now() + Duration::from_secs(60);
    while installing.load(Ordering::Acquire) > 0 || !shard.acks.done(seq) {
        if Instant::now() > deadline {
            warn!(
                shard = shard.id,
                "peers slow to install their recovered state: accepting anyway"
            );
            return;
        }
        glommio::timer::sleep(Duration::from_millis(1)).await;
    }
}
