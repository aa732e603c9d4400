use super::*;
use crate::persist::frame::{FLAG_RESYNC, FLAG_SNAPSHOT};
use crate::persist::scan::read_stream;
use crate::persist::testdir::TestDir;
use glommio::{LocalExecutorBuilder, Placement};
use std::future::Future;

const ALWAYS: LogConfig = LogConfig {
    fsync: FsyncPolicy::Always,
    max_disk_bytes: 0,
};

/// Runs `f` on a small executor of its own.
fn on_executor<F: Future<Output = ()>>(f: impl FnOnce() -> F) {
    LocalExecutorBuilder::new(Placement::Unbound)
        .io_memory(1 << 20)
        .ring_depth(64)
        .make()
        .expect("executor")
        .run(f());
}

/// Segment 1 of shard 0's stream in `dir`, its flusher running.
async fn start(dir: &Path, cfg: LogConfig) -> Rc<Log> {
    let log = Log::open(dir, 0, 1, 0, cfg).await.unwrap();
    glommio::spawn_local(log.clone().run()).detach();
    log
}

/// Record `i`: kind 10, partition i % 4096, body i then `pad` bytes.
fn rec(log: &Log, i: u32, pad: usize) {
    log.append(10, (i % 4096) as u16, |b| {
        b.extend_from_slice(&i.to_le_bytes());
        b.resize(b.len() + pad, i as u8);
    });
}

/// The record numbers in the stream, in order.
fn numbers(dir: &Path) -> Vec<u32> {
    let s = read_stream(dir).unwrap();
    assert!(s.torn.is_none(), "{:?}", s.torn);
    s.records()
        .map(|(_, f)| u32::from_le_bytes(f.body[..4].try_into().unwrap()))
        .collect()
}

async fn settle_all(log: &Log) {
    log.settle(log.appended()).await.unwrap();
}

#[test]
fn records_survive_many_flushes_and_a_segment_roll() {
    let t = TestDir::new("writer-roundtrip");
    on_executor(|| async {
        let log = start(t.path(), ALWAYS).await;
        for i in 0..300 {
            // Sizes that straddle block boundaries at varying offsets.
            rec(&log, i, (i as usize * 37) % 700);
            if i % 7 == 0 {
                settle_all(&log).await;
            }
        }
        assert_eq!(log.start_segment(0), 2);
        for i in 300..400 {
            rec(&log, i, 10);
        }
        // A large batch: more than one block in a single write.
        rec(&log, 400, 20_000);
        log.close().await;
        assert_eq!(log.segment(), 2);
        assert_eq!(log.stats().segments_created, 2);
        assert_eq!(log.durable(), log.appended());
    });
    assert_eq!(numbers(t.path()), (0..=400).collect::<Vec<_>>());
    let s = read_stream(t.path()).unwrap();
    assert_eq!(
        s.segments.iter().map(|s| s.number).collect::<Vec<_>>(),
        vec![1, 2]
    );
    // Whole blocks on disk: the writer pads the last one.
    assert!(s.segments.iter().all(|s| s.data.len() % 4096 == 0));
}

#[test]
fn rewriting_the_partial_block_keeps_earlier_records() {
    let t = TestDir::new("writer-tail");
    on_executor(|| async {
        let log = start(t.path(), ALWAYS).await;
        for i in 0..5 {
            rec(&log, i, 3);
            settle_all(&log).await;
            // Read back after every write: each rewrote the same block.
            assert_eq!(numbers(t.path()), (0..=i).collect::<Vec<_>>());
            let path = layout::segment_path(t.path(), 1);
            assert_eq!(std::fs::metadata(path).unwrap().len(), 4096);
        }
        assert_eq!(log.segment_bytes(), log.appended());
        log.close().await;
    });
}

#[test]
fn settled_waits_and_callbacks_resolve() {
    let t = TestDir::new("writer-settle");
    on_executor(|| async {
        let log = start(t.path(), ALWAYS).await;
        rec(&log, 1, 0);
        let called = Rc::new(Cell::new(None));
        let c = called.clone();
        log.on_settled(Box::new(move |r| c.set(Some(r))));
        assert_eq!(called.get(), None);
        assert_eq!(log.waiting(), 1);
        settle_all(&log).await;
        assert_eq!(called.get(), Some(Ok(())));
        assert!(log.durable() >= log.appended() && log.settled() == log.durable());
        // Nothing new: runs at once.
        let c = called.clone();
        c.set(None);
        log.on_settled(Box::new(move |r| c.set(Some(r))));
        assert_eq!(called.get(), Some(Ok(())));
        log.close().await;
    });
}

#[test]
fn always_group_commits_concurrent_appends() {
    let t = TestDir::new("writer-group");
    on_executor(|| async {
        let log = start(t.path(), ALWAYS).await;
        let mut tasks = Vec::new();
        for i in 0..400u32 {
            let log = log.clone();
            tasks.push(glommio::spawn_local(async move {
                rec(&log, i, 50);
                log.settle(log.appended()).await.unwrap();
            }));
        }
        for task in tasks {
            task.await;
        }
        let s = log.stats();
        assert_eq!(s.records, 400);
        assert!(s.fsyncs < 400 / 2, "{} fsyncs for 400 records", s.fsyncs);
        let groups = log.take_group_commits();
        assert!(groups.max() > 1, "largest group {}", groups.max());
        assert_eq!(log.take_fsync_latency().count(), s.fsyncs);
        log.close().await;
    });
    assert_eq!(numbers(t.path()).len(), 400);
}

#[test]
fn interval_fsyncs_later_and_never_only_at_close() {
    let t = TestDir::new("writer-interval");
    on_executor(|| async {
        let d = Duration::from_millis(50);
        let cfg = LogConfig {
            fsync: FsyncPolicy::Interval(d),
            ..ALWAYS
        };
        let log = start(t.path(), cfg).await;
        rec(&log, 1, 0);
        settle_all(&log).await;
        assert_eq!(log.written(), log.appended());
        let deadline = Instant::now() + Duration::from_secs(5);
        while log.durable() < log.appended() && Instant::now() < deadline {
            glommio::timer::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(log.durable(), log.appended());
        assert_eq!(log.stats().fsyncs, 1);
        log.close().await;
    });
    let t = TestDir::new("writer-never");
    on_executor(|| async {
        let cfg = LogConfig {
            fsync: FsyncPolicy::Never,
            ..ALWAYS
        };
        let log = start(t.path(), cfg).await;
        rec(&log, 1, 0);
        settle_all(&log).await;
        assert_eq!(log.stats().fsyncs, 0);
        log.close().await;
        assert_eq!((log.stats().fsyncs, log.durable()), (1, log.appended()));
    });
}

#[test]
fn delete_before_removes_older_segments_once_durable() {
    let t = TestDir::new("writer-delete");
    on_executor(|| async {
        let cfg = LogConfig {
            fsync: FsyncPolicy::Never,
            ..ALWAYS
        };
        let log = start(t.path(), cfg).await;
        rec(&log, 1, 5000);
        assert_eq!(log.start_segment(0), 2);
        rec(&log, 2, 0);
        assert_eq!(log.start_segment(FLAG_SNAPSHOT), 3);
        rec(&log, 3, 0);
        log.delete_before(3);
        settle_all(&log).await;
        let deadline = Instant::now() + Duration::from_secs(5);
        while log.stats().segments_deleted < 2 && Instant::now() < deadline {
            glommio::timer::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(log.stats().segments_deleted, 2);
        assert!(
            log.stats().fsyncs >= 1,
            "deleting fsyncs whatever the policy"
        );
        assert_eq!(log.disk_bytes(), 4096);
        log.close().await;
    });
    assert_eq!(numbers(t.path()), vec![3]);
}

/// Waits (bounded) for the log's health to be `h`.
async fn until_health(log: &Log, h: bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while log.healthy() != h && Instant::now() < deadline {
        glommio::timer::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(log.healthy(), h);
}

#[test]
fn over_max_disk_bytes_turns_unhealthy_and_a_resync_segment_recovers() {
    let t = TestDir::new("writer-full");
    on_executor(|| async {
        let cfg = LogConfig {
            max_disk_bytes: 3 * 4096,
            ..ALWAYS
        };
        let log = start(t.path(), cfg).await;
        let seen = Rc::new(RefCell::new(Vec::new()));
        let s = seen.clone();
        log.on_health_change(Box::new(move |h| s.borrow_mut().push(h)));
        rec(&log, 1, 100);
        settle_all(&log).await;
        rec(&log, 2, 3 * 4096);
        assert_eq!(log.settle(log.appended()).await, Err(Lost));
        assert!(!log.healthy());
        rec(&log, 3, 0);
        assert_eq!(log.settle(log.appended()).await, Err(Lost));
        assert_eq!(log.stats().discarded, 2);
        let got = Rc::new(Cell::new(None));
        let g = got.clone();
        log.on_settled(Box::new(move |r| g.set(Some(r))));
        assert_eq!(got.get(), Some(Err(Lost)));
        // Compaction's retry: a snapshot segment, exempt from the limit
        // until the old segments are deleted.
        assert_eq!(log.start_segment(FLAG_SNAPSHOT), 2);
        rec(&log, 4, 0);
        settle_all(&log).await;
        until_health(&log, true).await;
        assert_eq!(*seen.borrow(), vec![false, true]);
        log.close().await;
    });
    let s = read_stream(t.path()).unwrap();
    assert_eq!(s.segments[1].header.flags, FLAG_SNAPSHOT | FLAG_RESYNC);
    assert_eq!(numbers(t.path()), vec![1, 4]);
}

#[test]
fn a_failed_segment_creation_fails_waiters_and_a_retry_recovers() {
    let t = TestDir::new("writer-create-fails");
    let dir = t.path().join("shard-0");
    std::fs::create_dir(&dir).unwrap();
    on_executor(|| async {
        let log = start(&dir, ALWAYS).await;
        rec(&log, 1, 0);
        settle_all(&log).await;
        // The segment file stays open; the directory for the next is gone.
        let hidden = t.path().join("hidden");
        std::fs::rename(&dir, &hidden).unwrap();
        log.start_segment(0);
        rec(&log, 2, 0);
        assert_eq!(log.settle(log.appended()).await, Err(Lost));
        until_health(&log, false).await;
        assert!(log.stats().write_errors >= 1);
        std::fs::rename(&hidden, &dir).unwrap();
        assert_eq!(log.start_segment(FLAG_SNAPSHOT), 2, "the number is reused");
        rec(&log, 3, 0);
        settle_all(&log).await;
        until_health(&log, true).await;
        log.close().await;
    });
    assert_eq!(numbers(&dir), vec![1, 3]);
}

#[test]
fn open_refuses_an_existing_segment() {
    let t = TestDir::new("writer-exists");
    std::fs::write(layout::segment_path(t.path(), 1), b"x").unwrap();
    on_executor(|| async {
        let e = Log::open(t.path(), 0, 1, 0, ALWAYS).await.err().unwrap();
        assert!(e.to_string().contains("0000000000000001.log"), "{e}");
    });
}

#[test]
fn a_batch_larger_than_one_write_is_split() {
    let t = TestDir::new("writer-big");
    on_executor(|| async {
        let log = start(t.path(), ALWAYS).await;
        rec(&log, 1, 5);
        rec(&log, 2, 9 << 20);
        rec(&log, 3, 5);
        settle_all(&log).await;
        assert_eq!(log.written(), log.appended());
        assert_eq!(log.stats().fsyncs, 1);
        log.close().await;
    });
    assert_eq!(numbers(t.path()), vec![1, 2, 3]);
}
