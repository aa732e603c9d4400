//! The flusher task: takes everything appended so far, writes it, fsyncs
//! per policy, starts new segments, deletes old ones, and turns the log
//! unhealthy on the first failure.

use super::segment::{plain, SegFile};
use super::{FsyncPolicy, Log, Lost, Mode, Roll};
use crate::persist::frame::FLAG_SNAPSHOT;
use crate::persist::layout::{self, SegmentFile};
use std::future::poll_fn;
use std::io;
use std::path::Path;
use std::rc::Rc;
use std::task::Poll;
use std::time::Instant;
use tracing::{debug, info, warn};

/// Largest single write: bounds the DMA buffer a large batch (a snapshot)
/// needs.
const MAX_WRITE: usize = 8 << 20;
/// Largest batch buffer kept for reuse (a snapshot's is given back).
const SPARE_MAX: usize = 4 << 20;

impl Log {
    /// The flusher: spawn it once per log on the shard's executor. Returns
    /// after [`Log::close`].
    pub async fn run(self: Rc<Self>) {
        let Some(mut seg) = self.seg.borrow_mut().take() else {
            return;
        };
        loop {
            self.wait().await;
            self.write_pending(&mut seg).await;
            self.sync_if_due(&mut seg).await;
            self.run_deletes().await;
            if self.closing.get() && self.pending.borrow().is_empty() {
                break;
            }
        }
        if let Err(e) = seg.close().await {
            debug!(shard = self.shard, error = %e, "persistence: closing the segment");
        }
        self.exited.set(true);
        self.exit_waiters.take().into_iter().for_each(|w| w.wake());
    }

    /// Until there is something to write, to fsync, or to delete.
    async fn wait(&self) {
        let work = poll_fn(|cx| {
            if self.has_work() {
                return Poll::Ready(());
            }
            *self.flusher.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        });
        match self.sync_in() {
            Some(d) => futures_lite::future::or(work, glommio::timer::sleep(d)).await,
            None => work.await,
        }
    }

    fn has_work(&self) -> bool {
        let written = self.written.get();
        !self.pending.borrow().is_empty()
            || !self.rolls.borrow().is_empty()
            || self.closing.get()
            || self.deletes.borrow().iter().any(|&(lsn, _)| lsn <= written)
    }

    /// Under `Interval`, how long until unsynced data is due.
    fn sync_in(&self) -> Option<std::time::Duration> {
        match self.cfg.fsync {
            FsyncPolicy::Interval(d) if self.unsynced() => {
                Some(d.saturating_sub(self.last_sync.get().elapsed()))
            }
            _ => None,
        }
    }

    fn unsynced(&self) -> bool {
        self.mode.get() != Mode::Failed && self.written.get() > self.synced.get()
    }

    /// Writes what was appended, starting the segments asked for on the
    /// way. A failure discards the rest.
    async fn write_pending(&self, seg: &mut SegFile) {
        if self.mode.get() == Mode::Failed {
            return;
        }
        let spare = self.spare.take();
        let mut batch = std::mem::replace(&mut *self.pending.borrow_mut(), spare);
        let base = self.pending_lsn.get();
        self.pending_lsn.set(base + batch.len() as u64);
        let records = self.pending_records.replace(0);
        let rolls: Vec<Roll> = self.rolls.borrow_mut().drain(..).collect();
        let ok = self.write_batch(seg, &batch, base, &rolls).await;
        if batch.capacity() <= SPARE_MAX {
            batch.clear();
            *self.spare.borrow_mut() = batch;
        }
        if !ok {
            self.bump(|s| s.discarded += records);
            return;
        }
        self.unsynced_records
            .set(self.unsynced_records.get() + records);
        if self.mode.get() == Mode::Recovering {
            self.set_healthy(seg.number);
        }
    }

    async fn write_batch(
        &self,
        seg: &mut SegFile,
        batch: &[u8],
        base: u64,
        rolls: &[Roll],
    ) -> bool {
        let mut pos = 0;
        for roll in rolls {
            let cut = (roll.lsn - base) as usize;
            if !self.write(seg, &batch[pos..cut], base + pos as u64).await {
                return false;
            }
            if !self.roll(seg, *roll).await {
                return false;
            }
            pos = cut;
        }
        self.write(seg, &batch[pos..], base + pos as u64).await
    }

    /// Writes `bytes` (LSN `lsn` onwards) into the current segment.
    async fn write(&self, seg: &mut SegFile, bytes: &[u8], lsn: u64) -> bool {
        if bytes.is_empty() {
            return true;
        }
        if self.over_limit(seg, bytes.len()) {
            let path = seg.path.clone();
            self.fail(seg, "max_disk_bytes reached", &path, None);
            return false;
        }
        let mut done = lsn;
        for chunk in bytes.chunks(MAX_WRITE) {
            if let Err(e) = seg.write(chunk).await {
                let path = seg.path.clone();
                self.fail(seg, "write", &path, Some(&e));
                return false;
            }
            done += chunk.len() as u64;
            self.written.set(done);
            self.bump(|s| s.bytes_written += chunk.len() as u64);
        }
        self.seg_data.set(seg.data_len());
        self.seg_file.set(seg.file_len());
        if self.cfg.fsync != FsyncPolicy::Always {
            self.release();
        }
        true
    }

    fn over_limit(&self, seg: &SegFile, n: usize) -> bool {
        let max = self.cfg.max_disk_bytes;
        max > 0 && !self.compacting.get() && self.disk_bytes() + seg.growth(n) > max
    }

    /// Closes the current segment, durable whole (only the last segment
    /// may have a torn tail), and creates the next.
    async fn roll(&self, seg: &mut SegFile, roll: Roll) -> bool {
        let done = match seg.broken {
            true => seg.cut_to_data().await,
            false if self.written.get() > self.synced.get() => self.sync(seg).await,
            false => Ok(()),
        };
        if let Err(e) = done {
            let path = seg.path.clone();
            self.fail(seg, "making the segment durable", &path, Some(&e));
            return false;
        }
        let path = layout::segment_path(&self.dir, roll.number);
        let new = match SegFile::create(path.clone(), roll.number, false).await {
            Ok(new) => new,
            Err(e) => {
                self.fail(seg, "creating a segment", &path, Some(&e));
                return false;
            }
        };
        let old = std::mem::replace(seg, new);
        let size = old.file_len();
        let entry = SegmentFile {
            number: old.number,
            path: old.path.clone(),
            size,
        };
        if let Err(e) = old.close().await {
            debug!(shard = self.shard, error = %e, "persistence: closing a segment");
        }
        self.older.borrow_mut().push_back(entry);
        self.seg_number.set(roll.number);
        self.seg_data.set(0);
        self.seg_file.set(0);
        self.compacting.set(roll.flags & FLAG_SNAPSHOT != 0);
        self.bump(|s| s.segments_created += 1);
        true
    }

    /// fdatasync per policy, or because a deletion or shutdown waits.
    async fn sync_if_due(&self, seg: &mut SegFile) {
        if !self.unsynced() {
            return;
        }
        let (written, synced) = (self.written.get(), self.synced.get());
        let for_delete = self
            .deletes
            .borrow()
            .iter()
            .any(|&(l, _)| l > synced && l <= written);
        let due = self.closing.get()
            || for_delete
            || match self.cfg.fsync {
                FsyncPolicy::Always => true,
                FsyncPolicy::Interval(d) => self.last_sync.get().elapsed() >= d,
                FsyncPolicy::Never => false,
            };
        if !due {
            return;
        }
        if let Err(e) = self.sync(seg).await {
            let path = seg.path.clone();
            self.fail(seg, "fdatasync", &path, Some(&e));
        }
    }

    /// One fdatasync: everything written so far becomes durable.
    async fn sync(&self, seg: &SegFile) -> io::Result<()> {
        let written = self.written.get();
        let t = Instant::now();
        seg.sync().await?;
        self.fsync_latency.borrow_mut().record(t.elapsed());
        let group = self.unsynced_records.replace(0).max(1);
        self.group_commits.borrow_mut().saturating_record(group);
        self.bump(|s| s.fsyncs += 1);
        self.synced.set(written);
        self.last_sync.set(Instant::now());
        self.release();
        Ok(())
    }

    /// Wakes and calls everything the settled LSN covers.
    fn release(&self) {
        let due = self.waiters.borrow_mut().due(self.settled());
        due.run(Ok(()));
    }

    /// Deletes the segments that `delete_before` asked for, once what was
    /// appended before the request is durable. Oldest first; stops at the
    /// first error (the rest is retried at the next request).
    async fn run_deletes(&self) {
        let synced = self.synced.get();
        let before = {
            let mut d = self.deletes.borrow_mut();
            let ready = d
                .iter()
                .filter(|&&(l, _)| l <= synced)
                .map(|&(_, s)| s)
                .max();
            d.retain(|&(l, _)| l > synced);
            ready
        };
        let Some(before) = before else {
            return;
        };
        let mut removed = 0;
        while let Some(old) = self.oldest_below(before) {
            match glommio::io::remove(&old.path).await.map_err(plain) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    warn!(shard = self.shard, path = %old.path.display(), error = %e, "persistence: cannot delete an old segment");
                    return;
                }
            }
            self.older.borrow_mut().pop_front();
            removed += 1;
        }
        self.bump(|s| s.segments_deleted += removed);
        self.compacting.set(false);
        if removed > 0 {
            if let Err(e) = super::segment::sync_dir(&self.dir).await {
                debug!(shard = self.shard, error = %e, "persistence: fsync of the stream dir");
            }
        }
    }

    fn oldest_below(&self, before: u64) -> Option<SegmentFile> {
        self.older
            .borrow()
            .front()
            .filter(|s| s.number < before)
            .cloned()
    }

    /// A write, fsync or the disk limit failed: the log turns unhealthy,
    /// drops what is pending and fails its waiters. Logged once per
    /// episode (compaction retries every second).
    fn fail(&self, seg: &mut SegFile, what: &str, path: &Path, err: Option<&io::Error>) {
        if err.is_some() {
            seg.broken = true;
            self.bump(|s| s.write_errors += 1);
        }
        if self.mode.get() == Mode::Failed {
            return;
        }
        self.log_failure(what, path, err);
        self.mode.set(Mode::Failed);
        let dropped = self.pending_records.replace(0);
        self.pending.borrow_mut().clear();
        self.bump(|s| s.discarded += dropped);
        self.rolls.borrow_mut().clear();
        self.last_number.set(self.seg_number.get());
        let synced = self.synced.get();
        self.deletes.borrow_mut().retain(|&(l, _)| l <= synced);
        let due = self.waiters.borrow_mut().lose_after(self.settled());
        due.run(Err(Lost));
        self.notify_health(false);
    }

    fn log_failure(&self, what: &str, path: &Path, err: Option<&io::Error>) {
        let first = !self.warned.replace(true);
        let errno = err.and_then(io::Error::raw_os_error).unwrap_or(0);
        let error = err.map_or_else(String::new, |e| e.to_string());
        let path = path.display();
        let msg = "persistence: the log is unhealthy: records are discarded until compaction writes a new segment";
        match first {
            true => warn!(shard = self.shard, %path, errno, %error, what, "{msg}"),
            false => debug!(shard = self.shard, %path, errno, %error, what, "{msg}"),
        }
    }

    fn set_healthy(&self, segment: u64) {
        self.mode.set(Mode::Healthy);
        self.warned.set(false);
        info!(
            shard = self.shard,
            segment, "persistence: the log is healthy again"
        );
        self.notify_health(true);
    }

    fn notify_health(&self, healthy: bool) {
        let fs: Vec<_> = self.health.borrow().clone();
        fs.iter().for_each(|f| f(healthy));
    }
}
