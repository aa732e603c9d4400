//! Start-up: read every stream of the data directory (the main thread,
//! before the executors run), cut torn tails, replay into images, split them
//! by partition when the shard count changed, and hand each shard its part;
//! each shard then installs it ([`install`]) and its first compaction writes
//! it to a new snapshot segment.
//!
//! A re-home writes the new shard count's streams into generation G+1; only
//! when every shard's first snapshot is on disk does `meta` switch to it and
//! generation G go (see [`Switch`]). A crash before that finds G intact.

use super::frame::Frame;
use super::image::{Image, Replay, SessionImage};
use super::layout::{self, DataDir, Meta};
use super::scan::{self, Stream};
use crate::shard::PartitionMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tracing::{info, warn};

/// What one shard starts its log with.
pub struct ShardStart {
    pub image: Image,
    pub stream_dir: PathBuf,
    /// The segment the shard opens (its first snapshot goes there).
    pub segment: u64,
    /// Set on a re-home: tell it once this shard's first snapshot is on disk.
    pub switch: Option<Arc<Switch>>,
    /// How long reading and replaying took (shard 0 reports it).
    pub took: Option<std::time::Duration>,
}

/// Everything recovered, and how long it took.
pub struct Recovered {
    pub shards: Vec<ShardStart>,
    pub records: u64,
    pub secs: f64,
}

/// Read, replay and (if needed) re-home the data in `dir` for `shards`.
pub fn prepare(dir: &Path, shards: usize) -> Result<Recovered, String> {
    let t = Instant::now();
    let mut dd = DataDir::open(dir).map_err(|e| e.to_string())?;
    let meta = dd.init(shards as u16).map_err(|e| e.to_string())?;
    for gone in dd.remove_leftovers().map_err(|e| e.to_string())? {
        warn!(dir = %gone.display(), "removed an unfinished re-home");
    }
    let streams = (0..meta.shards)
        .map(|k| read(&dd.stream_dir(k)))
        .collect::<Result<Vec<_>, _>>()?;
    let images = replay_all(&streams)?;
    let records = images.iter().map(|i| i.records).sum();
    let mut out = if meta.shards as usize == shards {
        keep(&dd, &streams, images)
    } else {
        rehome(&dd, meta, images, shards)?
    };
    out[0].took = Some(t.elapsed());
    let secs = t.elapsed().as_secs_f64();
    let sessions: usize = out.iter().map(|s| s.image.sessions.len()).sum();
    info!(dir = %dir.display(), records, sessions, secs, "data directory recovered");
    Ok(Recovered {
        shards: out,
        records,
        secs,
    })
}

/// One stream, its torn tail cut (and logged).
fn read(stream_dir: &Path) -> Result<Stream, String> {
    let s = scan::read_stream(stream_dir).map_err(|e| e.to_string())?;
    if let Some(t) = &s.torn {
        warn!(file = %t.path.display(), offset = t.offset, reason = %t.reason, "torn tail: cutting the log at the last good record");
        scan::cut(t).map_err(|e| format!("cannot cut {}: {e}", t.path.display()))?;
    }
    Ok(s)
}

/// Replay every stream, one thread each.
fn replay_all(streams: &[Stream]) -> Result<Vec<Image>, String> {
    std::thread::scope(|sc| {
        let hs: Vec<_> = streams.iter().map(|s| sc.spawn(|| replay(s))).collect();
        hs.into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("replay panicked".into())))
            .collect()
    })
}

pub fn replay(s: &Stream) -> Result<Image, String> {
    let mut r = Replay::default();
    for seg in &s.segments {
        r.segment(seg.header.resync());
        for f in seg.records() {
            apply(&mut r, &seg.path, &f)?;
        }
    }
    Ok(r.finish())
}

fn apply(r: &mut Replay, path: &Path, f: &Frame<'_>) -> Result<(), String> {
    r.apply(f.kind, f.partition, f.body).map_err(|e| {
        format!(
            "corrupt record in {} at offset {}: {e}; run `shardmq check-data DIR`",
            path.display(),
            f.offset
        )
    })
}

/// Same shard count: each shard goes on with its own stream.
fn keep(dd: &DataDir, streams: &[Stream], images: Vec<Image>) -> Vec<ShardStart> {
    let each = images.into_iter().zip(streams).enumerate();
    each.map(|(k, (image, s))| ShardStart {
        image,
        stream_dir: dd.stream_dir(k as u16),
        segment: s.next_segment(),
        switch: None,
        took: None,
    })
    .collect()
}

/// Another shard count: partitions move whole to their new shards, into the
/// streams of generation G+1. Session ids are renumbered (ids of different
/// old streams may collide in one new stream).
fn rehome(
    dd: &DataDir,
    meta: Meta,
    images: Vec<Image>,
    shards: usize,
) -> Result<Vec<ShardStart>, String> {
    info!(
        from = meta.shards,
        to = shards,
        "shard count changed: re-homing partitions"
    );
    let map = PartitionMap::new(shards);
    let mut out: Vec<Image> = (0..shards).map(|_| Image::default()).collect();
    for image in images {
        for (_, s) in image.sessions {
            let o = &mut out[map.shard_of_partition(s.partition)];
            add_session(o, s);
        }
        for (topic, (p, m)) in image.retained {
            out[map.shard_of_partition(p)]
                .retained
                .insert(topic, (p, m));
        }
    }
    let next = Meta {
        generation: meta.generation + 1,
        shards: shards as u16,
    };
    let g = dd.generation_dir(next.generation);
    let switch = Arc::new(Switch {
        left: AtomicUsize::new(shards),
        root: dd.root().to_path_buf(),
        old: dd.generation_dir(meta.generation),
        next,
    });
    let mut starts = Vec::new();
    for (k, image) in out.into_iter().enumerate() {
        let dir = layout::stream_dir_in(&g, k as u16);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        starts.push(ShardStart {
            image,
            stream_dir: dir,
            segment: 1,
            switch: Some(switch.clone()),
            took: None,
        });
    }
    Ok(starts)
}

fn add_session(o: &mut Image, s: SessionImage) {
    let sid = o.next_sid.max(1);
    o.next_sid = sid + 1;
    o.sessions.insert(sid, s);
}

/// The end of a re-home: the last shard to have its first snapshot on disk
/// switches `meta` to the new generation and deletes the old one.
pub struct Switch {
    left: AtomicUsize,
    root: PathBuf,
    old: PathBuf,
    next: Meta,
}

impl Switch {
    /// This shard's part is on disk; true for the last one, which must then
    /// call [`Switch::finish`] (blocking file-system work: off the executor).
    pub fn done(&self) -> bool {
        self.left.fetch_sub(1, Ordering::AcqRel) == 1
    }

    pub fn finish(&self) -> Result<(), String> {
        let gen = self.root.join(format!("g{}", self.next.generation));
        layout::sync_tree(&gen).map_err(|e| e.to_string())?;
        layout::write_meta(&self.root, self.next).map_err(|e| e.to_string())?;
        std::fs::remove_dir_all(&self.old)
            .map_err(|e| format!("cannot remove {}: {e}", self.old.display()))?;
        layout::sync_dir(&self.root).map_err(|e| e.to_string())?;
        info!(
            generation = self.next.generation,
            shards = self.next.shards,
            "re-home complete"
        );
        Ok(())
    }
}
