//! `Log`: the per-shard appender of the durable log.
//!
//! Records are appended synchronously into an in-memory tail; one flusher
//! task per shard ([`Log::run`]) writes whatever accumulated with one
//! direct-I/O write and fsyncs per policy. Under `Always`, what is appended
//! during one fdatasync goes out with the next: group commit, one fsync
//! for many records. Single-threaded: the shard's executor owns it.
//!
//! LSNs count the bytes appended by this process, across segments. A
//! waiter for LSN L is settled when every byte up to L is written (fsynced
//! under `Always`), or lost when a failure discarded any of them.

mod flush;
mod segment;
mod waiters;

use super::frame::{self, Header, FLAG_RESYNC};
use super::layout::{self, SegmentFile};
use crate::metrics::Latency;
use hdrhistogram::Histogram;
use segment::SegFile;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::poll_fn;
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use waiters::Waiters;

/// A health-change callback; Rc so that they can be called outside the
/// borrow (one may register another).
type HealthFn = Rc<dyn Fn(bool)>;

/// When the flusher fsyncs (`persistence.fsync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// After every write; acks wait for it.
    Always,
    /// At most this often; a crash of the machine loses up to that much.
    Interval(Duration),
    /// Never (the OS decides).
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogConfig {
    pub fsync: FsyncPolicy,
    /// This log's share of `persistence.max_disk_bytes`, over all its
    /// segments; 0: no limit. Older segments are measured by [`Log::open`].
    pub max_disk_bytes: u64,
}

/// The write that carried a record failed, or the record was discarded
/// while the log was unhealthy: it is not on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lost;

/// Counters since the log was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogStats {
    pub records: u64,
    /// Records appended while unhealthy, or whose write failed.
    pub discarded: u64,
    pub bytes_written: u64,
    pub fsyncs: u64,
    pub write_errors: u64,
    pub segments_created: u64,
    pub segments_deleted: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Healthy,
    /// A write failed: appends are discarded until a new segment is
    /// started.
    Failed,
    /// A new segment was started after a failure: appends are kept, and
    /// the log is healthy once that segment is written.
    Recovering,
}

/// A segment to start once the bytes before `lsn` are written.
#[derive(Debug, Clone, Copy)]
struct Roll {
    lsn: u64,
    number: u64,
    flags: u8,
}

pub struct Log {
    dir: PathBuf,
    shard: u16,
    cfg: LogConfig,
    mode: Cell<Mode>,
    /// Appended, not yet taken by the flusher; `pending_lsn` is the LSN of
    /// its first byte.
    pending: RefCell<Vec<u8>>,
    pending_lsn: Cell<u64>,
    pending_records: Cell<u64>,
    /// The buffer of the last batch, cleared: the next one reuses its
    /// capacity instead of growing a new one.
    spare: RefCell<Vec<u8>>,
    /// Encodes what is discarded while unhealthy, to count its bytes.
    scratch: RefCell<Vec<u8>>,
    appended: Cell<u64>,
    written: Cell<u64>,
    synced: Cell<u64>,
    last_sync: Cell<Instant>,
    /// Highest segment number handed out; the flusher creates them.
    last_number: Cell<u64>,
    rolls: RefCell<VecDeque<Roll>>,
    /// Segments other than the current one (on disk before `open`, or
    /// rolled from), oldest first.
    older: RefCell<VecDeque<SegmentFile>>,
    /// (lsn, segment): delete segments before `segment` once `lsn` is fsynced.
    deletes: RefCell<Vec<(u64, u64)>>,
    /// A snapshot segment was started and older segments are not deleted
    /// yet: compaction needs room to free room, so max_disk_bytes waits.
    compacting: Cell<bool>,
    /// The current segment (the flusher holds it while it runs).
    seg: RefCell<Option<SegFile>>,
    seg_number: Cell<u64>,
    seg_data: Cell<u64>,
    seg_file: Cell<u64>,
    waiters: RefCell<Waiters>,
    flusher: RefCell<Option<Waker>>,
    health: RefCell<Vec<HealthFn>>,
    /// A failure was logged at warn level in this unhealthy episode.
    warned: Cell<bool>,
    closing: Cell<bool>,
    exited: Cell<bool>,
    exit_waiters: RefCell<Vec<Waker>>,
    stats: Cell<LogStats>,
    /// Records written since the last fsync (one group commit).
    unsynced_records: Cell<u64>,
    fsync_latency: RefCell<Latency>,
    group_commits: RefCell<Histogram<u64>>,
}

impl Log {
    /// Creates segment `segment` in `stream_dir` (which must not exist
    /// yet: a torn last segment is cut first) and writes its HEADER. The
    /// stream's older segments are listed here (once, before the shard
    /// serves) for [`Log::disk_bytes`] and [`Log::delete_before`].
    pub async fn open(
        stream_dir: &Path,
        shard: u16,
        segment: u64,
        flags: u8,
        cfg: LogConfig,
    ) -> io::Result<Rc<Log>> {
        let older = layout::list_segments(stream_dir)
            .map_err(|e| layout::named(stream_dir, "cannot list", e))?;
        let path = layout::segment_path(stream_dir, segment);
        let mut seg = SegFile::create(path.clone(), segment, true)
            .await
            .map_err(|e| layout::named(&path, "cannot create", e))?;
        let mut head = Vec::new();
        Header {
            shard,
            segment,
            flags,
        }
        .put(&mut head);
        let res = match seg.write(&head).await {
            Ok(()) => seg.sync().await,
            Err(e) => Err(e),
        };
        res.map_err(|e| layout::named(&path, "cannot write", e))?;
        let log = Log::new(stream_dir, shard, cfg, older.into());
        log.install(seg, head.len() as u64, flags);
        Ok(Rc::new(log))
    }

    fn new(dir: &Path, shard: u16, cfg: LogConfig, older: VecDeque<SegmentFile>) -> Log {
        Log {
            dir: dir.to_path_buf(),
            shard,
            cfg,
            mode: Cell::new(Mode::Healthy),
            pending: RefCell::default(),
            pending_lsn: Cell::new(0),
            pending_records: Cell::new(0),
            spare: RefCell::default(),
            scratch: RefCell::default(),
            appended: Cell::new(0),
            written: Cell::new(0),
            synced: Cell::new(0),
            last_sync: Cell::new(Instant::now()),
            last_number: Cell::new(0),
            rolls: RefCell::default(),
            older: RefCell::new(older),
            deletes: RefCell::default(),
            compacting: Cell::new(false),
            seg: RefCell::new(None),
            seg_number: Cell::new(0),
            seg_data: Cell::new(0),
            seg_file: Cell::new(0),
            waiters: RefCell::default(),
            flusher: RefCell::new(None),
            health: RefCell::default(),
            warned: Cell::new(false),
            closing: Cell::new(false),
            exited: Cell::new(false),
            exit_waiters: RefCell::default(),
            stats: Cell::default(),
            unsynced_records: Cell::new(0),
            fsync_latency: RefCell::default(),
            group_commits: RefCell::new(
                Histogram::new_with_bounds(1, 1 << 24, 2).expect("static bounds are valid"),
            ),
        }
    }

    /// The first segment, written and fsynced by `open`.
    fn install(&self, seg: SegFile, head: u64, flags: u8) {
        for lsn in [
            &self.appended,
            &self.written,
            &self.synced,
            &self.pending_lsn,
        ] {
            lsn.set(head);
        }
        self.last_number.set(seg.number);
        self.seg_number.set(seg.number);
        self.seg_data.set(seg.data_len());
        self.seg_file.set(seg.file_len());
        self.compacting.set(flags & frame::FLAG_SNAPSHOT != 0);
        *self.seg.borrow_mut() = Some(seg);
        self.bump(|s| s.segments_created += 1);
    }

    /// Appends one record to the in-memory tail: never blocks, never
    /// fails. `body` encodes after kind and partition and must not call
    /// back into the log. While unhealthy the record is discarded (and
    /// counted); waiters for it get [`Lost`].
    pub fn append(&self, kind: u8, partition: u16, body: impl FnOnce(&mut Vec<u8>)) {
        if self.mode.get() == Mode::Failed {
            let mut s = self.scratch.borrow_mut();
            s.clear();
            frame::put(&mut s, kind, partition, body);
            self.appended.set(self.appended.get() + s.len() as u64);
            self.bump(|s| s.discarded += 1);
            return;
        }
        let mut p = self.pending.borrow_mut();
        let before = p.len();
        frame::put(&mut p, kind, partition, body);
        self.appended
            .set(self.appended.get() + (p.len() - before) as u64);
        self.pending_records.set(self.pending_records.get() + 1);
        self.bump(|s| s.records += 1);
        drop(p);
        self.wake_flusher();
    }

    /// LSN of everything appended so far.
    pub fn appended(&self) -> u64 {
        self.appended.get()
    }

    /// LSN up to which everything is fsynced.
    pub fn durable(&self) -> u64 {
        self.synced.get()
    }

    /// LSN up to which everything is written to the file (not necessarily
    /// fsynced).
    pub fn written(&self) -> u64 {
        self.written.get()
    }

    /// What acks may wait for under the policy: fsynced under `Always`,
    /// written otherwise (a kill -9 loses nothing written).
    pub fn settled(&self) -> u64 {
        match self.cfg.fsync {
            FsyncPolicy::Always => self.synced.get(),
            _ => self.written.get(),
        }
    }

    /// Bytes appended and not yet taken by the flusher (memory held by
    /// the tail while the disk is slower than the appends).
    pub fn backlog(&self) -> u64 {
        self.pending.borrow().len() as u64
    }

    /// Ready once everything up to `lsn` is settled, or lost.
    pub fn poll_settled(&self, lsn: u64, cx: &mut Context<'_>) -> Poll<Result<(), Lost>> {
        let mut w = self.waiters.borrow_mut();
        if w.is_lost(lsn) {
            return Poll::Ready(Err(Lost));
        }
        if lsn <= self.settled() {
            return Poll::Ready(Ok(()));
        }
        w.add_waker(lsn, cx.waker().clone());
        Poll::Pending
    }

    /// [`Log::poll_settled`] as a future.
    pub async fn settle(&self, lsn: u64) -> Result<(), Lost> {
        poll_fn(|cx| self.poll_settled(lsn, cx)).await
    }

    /// Runs `f` once everything appended so far is settled, or lost. Runs
    /// it before returning when that is already known.
    pub fn on_settled(&self, f: Box<dyn FnOnce(Result<(), Lost>)>) {
        let lsn = self.appended();
        let res = {
            let mut w = self.waiters.borrow_mut();
            if w.is_lost(lsn) {
                Err(Lost)
            } else if lsn <= self.settled() {
                Ok(())
            } else {
                w.add_call(lsn, f);
                return;
            }
        };
        f(res)
    }

    pub fn healthy(&self) -> bool {
        self.mode.get() == Mode::Healthy
    }

    /// `f(false)` when a failure turns the log unhealthy, `f(true)` when a
    /// new segment makes it healthy again.
    pub fn on_health_change(&self, f: Box<dyn Fn(bool)>) {
        self.health.borrow_mut().push(Rc::from(f));
    }

    /// Starts a new segment after what was appended so far: the flusher
    /// makes the current one durable, creates the new one and writes its
    /// HEADER (appended here). Returns its number. While unhealthy, this
    /// is how the log recovers: appends are kept again from here, FLAG_RESYNC
    /// is added, and the log is healthy once the segment is written.
    pub fn start_segment(&self, flags: u8) -> u64 {
        let mut flags = flags;
        if self.mode.get() == Mode::Failed {
            flags |= FLAG_RESYNC;
            self.mode.set(Mode::Recovering);
            self.waiters.borrow_mut().regained(self.appended());
            self.pending_lsn.set(self.appended());
        }
        let number = self.last_number.get() + 1;
        self.last_number.set(number);
        let lsn = self.appended();
        self.rolls
            .borrow_mut()
            .push_back(Roll { lsn, number, flags });
        let mut p = self.pending.borrow_mut();
        let before = p.len();
        Header {
            shard: self.shard,
            segment: number,
            flags,
        }
        .put(&mut p);
        self.appended.set(lsn + (p.len() - before) as u64);
        drop(p);
        self.wake_flusher();
        number
    }

    /// Deletes the segments numbered below `segment` once everything
    /// appended so far is fsynced (whatever the policy: the flusher fsyncs
    /// for it). Oldest first, so an interrupted deletion leaves a stream
    /// that still starts at a snapshot or at its oldest records.
    /// Ignored while unhealthy: the snapshot that would make them useless
    /// may be lost.
    pub fn delete_before(&self, segment: u64) {
        if self.mode.get() == Mode::Failed {
            return;
        }
        self.deletes.borrow_mut().push((self.appended(), segment));
        self.wake_flusher();
    }

    /// Bytes of data written to the current segment.
    pub fn segment_bytes(&self) -> u64 {
        self.seg_data.get()
    }

    /// Bytes on disk in all segments of the stream.
    pub fn disk_bytes(&self) -> u64 {
        self.older.borrow().iter().map(|s| s.size).sum::<u64>() + self.seg_file.get()
    }

    /// Number of the segment being written.
    pub fn segment(&self) -> u64 {
        self.seg_number.get()
    }

    /// Waiters and callbacks not settled yet.
    pub fn waiting(&self) -> usize {
        self.waiters.borrow().len()
    }

    pub fn stats(&self) -> LogStats {
        self.stats.get()
    }

    /// fdatasync latencies since the last call.
    pub fn take_fsync_latency(&self) -> Latency {
        std::mem::take(&mut *self.fsync_latency.borrow_mut())
    }

    /// Records per fsync (group-commit sizes) since the last call.
    pub fn take_group_commits(&self) -> Histogram<u64> {
        let mut h = self.group_commits.borrow_mut();
        let out = h.clone();
        h.reset();
        out
    }

    /// Final flush and fdatasync (shutdown): waits for the flusher to
    /// write everything appended so far and exit. The flusher must be
    /// running ([`Log::run`]).
    pub async fn close(&self) {
        self.closing.set(true);
        self.wake_flusher();
        poll_fn(|cx| match self.exited.get() {
            true => Poll::Ready(()),
            false => {
                self.exit_waiters.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }

    fn wake_flusher(&self) {
        if let Some(w) = self.flusher.borrow_mut().take() {
            w.wake();
        }
    }

    fn bump(&self, f: impl FnOnce(&mut LogStats)) {
        let mut s = self.stats.get();
        f(&mut s);
        self.stats.set(s);
    }
}

#[cfg(test)]
mod tests;
