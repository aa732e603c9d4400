//! The data directory going wrong (issue 11, docs/persistence.md "Record
//! frame"): a torn tail is cut and start-up goes on; a corrupt record with
//! valid ones after it, or a missing segment, stops start-up with a message
//! naming the file, and `shardmq check-data DIR [--repair]` reports and
//! repairs it; a read-only directory is refused; a full disk refuses new
//! QoS 1 messages to persistent sessions while QoS 0 and live traffic go on,
//! and the broker recovers by itself when space returns.

use crate::common::broker::TempDir;
use crate::common::durable::*;
use crate::common::v5::{connect5, Props};
use crate::common::*;
use crate::persistence_sess::Sess;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// A persistent session on shard 0 with `n` QoS 1 messages queued
/// ("m0".."m{n-1}" on "dk/t"), the broker killed (everything acknowledged
/// is on disk with fsync "always"). Returns the broker (stopped), the data
/// dir and the session.
fn queued_then_killed(n: usize) -> (Broker, TempDir, Sess) {
    let (mut b, data) = durable("");
    let s = Sess::v3(&id_on_shard("dk", 0));
    let mut c = s.create(b.port);
    s.subscribe(&mut c, &[("dk/t", 1)]);
    s.leave(c);
    let mut p = b.connect("dk-pub", true);
    for i in 0..n {
        p.publish("dk/t", format!("m{i}").as_bytes(), 1, false);
    }
    p.disconnect();
    b.kill9();
    (b, data, s)
}

/// The payloads the session gets on resuming (acknowledged), in order.
fn drain(b: &Broker, s: &Sess) -> Vec<String> {
    let mut c = s.resume(b.port);
    let mut got = Vec::new();
    while let Recv::Packet(first, body) = c.try_recv(ms(500)) {
        let p = Publish::parse(first, &body);
        c.ack(&p);
        got.push(p.payload_str());
    }
    got
}

/// The last segment of shard `shard` that holds frames, with its frames.
fn last_segment(data: &Path, shard: usize) -> (Segment, Vec<u8>, Vec<Frame>) {
    let segs: Vec<Segment> = segments(data)
        .into_iter()
        .filter(|s| s.shard == shard)
        .collect();
    assert!(
        !segs.is_empty(),
        "no segment for shard {shard}: {:?}",
        segments(data)
    );
    let seg = segs.last().unwrap().clone();
    let bytes = fs::read(&seg.path).unwrap();
    let frames = frames(&bytes);
    (seg, bytes, frames)
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// (a) The last record of the last segment cut in its middle (as a write
/// torn by a crash would leave it): start-up goes on, logs the file and
/// offset, and everything before the cut is there.
#[test]
fn torn_tail_is_cut_and_startup_goes_on() {
    if skip_on_mosquitto("shardmq's --data-dir") {
        return;
    }
    let (mut b, data, s) = queued_then_killed(10);
    let (seg, _bytes, frames) = last_segment(data.path(), 0);
    let last = *frames.last().expect("frames in the last segment");
    assert!(frames.len() > 1, "only a header in {}", seg.path.display());
    let cut = last.offset + 8 + last.len / 2;
    eprintln!(
        "cutting {} at {cut}: last record kind {} partition {} at {} ({} bytes)",
        seg.path.display(),
        last.kind,
        last.partition,
        last.offset,
        last.len
    );
    fs::OpenOptions::new()
        .write(true)
        .open(&seg.path)
        .unwrap()
        .set_len(cut as u64)
        .unwrap();
    b.restart();
    let log = b.stderr();
    assert!(
        log.contains(&file_name(&seg.path)) && log.contains(&last.offset.to_string()),
        "the log must name {} and offset {}:\n{log}",
        seg.path.display(),
        last.offset
    );
    let got = drain(&b, &s);
    let want: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
    assert!(
        got.len() >= 9 && got[..] == want[..got.len()],
        "all but at most the cut record must be there, in order: {got:?}"
    );
}

/// (b) A bit flipped in a record in the middle of a segment, valid records
/// after it: start-up fails naming the file, non-zero exit; `check-data`
/// exits 1 naming it; `check-data --repair` truncates there, then start-up
/// works and check-data is happy.
#[test]
fn flipped_bit_mid_stream_stops_startup_until_repaired() {
    if skip_on_mosquitto("shardmq's --data-dir") {
        return;
    }
    let (mut b, data, _s) = queued_then_killed(20);
    let (seg, mut bytes, frames) = last_segment(data.path(), 0);
    assert!(
        frames.len() >= 4,
        "too few records in {}: {frames:?}",
        seg.path.display()
    );
    let victim = frames[frames.len() / 2];
    // Last byte of its body: len stays sane, the crc no longer matches.
    let at = victim.end() - 1;
    bytes[at] ^= 0x10;
    fs::write(&seg.path, &bytes).unwrap();
    eprintln!(
        "flipped a bit at {at} of {} (record at {})",
        seg.path.display(),
        victim.offset
    );
    let name = file_name(&seg.path);

    let refused = b
        .try_restart(SHARDS)
        .expect_err("start-up with a corrupt record went on");
    assert!(
        refused.status.is_some_and(|s| !s.success()),
        "must exit non-zero: {:?}",
        refused.status
    );
    assert!(
        refused.stderr.contains(&name),
        "the message must name {name}:\n{}",
        refused.stderr
    );

    let (code, text) = check_data(data.path(), false);
    assert_eq!(code, Some(1), "check-data must exit 1:\n{text}");
    assert!(text.contains(&name), "check-data must name {name}:\n{text}");
    let (code, text) = check_data(data.path(), true);
    assert_eq!(code, Some(0), "check-data --repair:\n{text}");
    let (code, text) = check_data(data.path(), false);
    assert_eq!(code, Some(0), "check-data after the repair:\n{text}");
    b.restart();
}

/// (c) A segment missing from the middle of a stream: start-up refuses,
/// naming the stream; check-data reports it. Compaction at start-up starts
/// a new segment with a snapshot and deletes the older ones, so a stream
/// rarely has three segments to delete the middle one of: if it has not,
/// the gap is made by adding a valid continuation two numbers on (the last
/// segment's records under a header renumbered, flags cleared).
#[test]
fn missing_segment_is_refused() {
    if skip_on_mosquitto("shardmq's --data-dir") {
        return;
    }
    let (mut b, data, _s) = queued_then_killed(5);
    for round in 0..2 {
        b.restart();
        let mut p = b.connect("dk-pub", true);
        p.publish("dk/t", format!("r{round}").as_bytes(), 1, false);
        p.disconnect();
        b.kill9();
    }
    let segs: Vec<Segment> = segments(data.path())
        .into_iter()
        .filter(|x| x.shard == 0)
        .collect();
    if segs.len() >= 3 {
        let middle = &segs[segs.len() / 2];
        eprintln!(
            "deleting {} of {} segments",
            middle.path.display(),
            segs.len()
        );
        fs::remove_file(&middle.path).unwrap();
    } else {
        let last = segs.last().unwrap();
        let gap = last
            .path
            .with_file_name(format!("{:016}.log", last.number + 2));
        let bytes = renumbered(&fs::read(&last.path).unwrap(), last.number + 2, 0);
        fs::write(&gap, bytes).unwrap();
        eprintln!("{} segment(s): added {}", segs.len(), gap.display());
    }
    let refused = b
        .try_restart(SHARDS)
        .expect_err("start-up with a missing segment went on");
    assert!(
        refused.status.is_some_and(|s| !s.success()),
        "{:?}",
        refused.status
    );
    assert!(
        refused.stderr.contains("shard-0"),
        "the message must name the stream (shard-0):\n{}",
        refused.stderr
    );
    let (code, text) = check_data(data.path(), false);
    assert_eq!(code, Some(1), "check-data must exit 1:\n{text}");
    assert!(
        text.contains("shard-0"),
        "check-data must name the stream:\n{text}"
    );
}

/// (d) A data directory the broker cannot write: start-up refuses with a
/// message naming the directory. As root chmod does not stop writes, so a
/// read-only bind mount is used (skipped if it cannot be made).
#[test]
fn read_only_data_dir_is_refused() {
    if skip_on_mosquitto("shardmq's --data-dir") {
        return;
    }
    let (b, data, _s) = queued_then_killed(3);
    drop(b);
    let ro = TempDir::new("ro");
    let _mount;
    if is_root() {
        match Mount::new(
            &["--bind", "-o", "ro", data.path().to_str().unwrap()],
            ro.path(),
        ) {
            Ok(m) => _mount = m,
            Err(why) => {
                eprintln!("skipped: cannot make a read-only bind mount ({why})");
                return;
            }
        }
        // Older mount(8) ignores "ro" on the first bind: remount.
        let probe = ro.path().join("probe");
        if fs::write(&probe, b"x").is_ok() {
            let _ = fs::remove_file(&probe);
            if Mount::new(&["-o", "remount,bind,ro"], ro.path())
                .map(std::mem::forget)
                .is_err()
            {
                eprintln!("skipped: the bind mount stays writable");
                return;
            }
        }
    } else {
        chmod_tree(data.path(), true);
        fs::remove_dir(ro.path()).unwrap();
        std::os::unix::fs::symlink(data.path(), ro.path()).unwrap();
    }
    let dir = ro.path();
    let refused = try_durable_on("", SHARDS, dir).err();
    if !is_root() {
        chmod_tree(data.path(), false);
    }
    let refused = refused.expect("start-up on a read-only data directory went on");
    assert!(
        refused.status.is_some_and(|s| !s.success()),
        "{:?}",
        refused.status
    );
    let shown = dir.display().to_string();
    assert!(
        refused.stderr.contains(&shown),
        "the message must name {shown}:\n{}",
        refused.stderr
    );
}

/// chmod 0555 (dirs) / 0444 (files) on a tree, or back to 0755 / 0644.
fn chmod_tree(dir: &Path, read_only: bool) {
    use std::os::unix::fs::PermissionsExt;
    for entry in fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            chmod_tree(&p, read_only);
        } else {
            let mode = if read_only { 0o444 } else { 0o644 };
            fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
        }
    }
    let mode = if read_only { 0o555 } else { 0o755 };
    fs::set_permissions(dir, fs::Permissions::from_mode(mode)).unwrap();
}

/// Size of the small filesystem of the full-disk test.
const TMPFS_SIZE: &str = "size=1m";

/// Fills the filesystem of `dir` with `dir/filler` until it is full.
fn fill(dir: &Path) -> u64 {
    let mut f = fs::File::create(dir.join("filler")).unwrap();
    let block = vec![0u8; 4096];
    let mut n = 0u64;
    while f.write_all(&block).is_ok() {
        n += block.len() as u64;
    }
    let _ = f.sync_all();
    n
}

/// (e) A full disk (a small tmpfs; skipped if it cannot be mounted): QoS 1
/// to a persistent session refused (v5 PUBACK 0x97 or 0x80; 3.1.1
/// connection closed), QoS 0 still reaches a live subscriber, and once the
/// filler is deleted QoS 1 is accepted again within a bounded wait; every
/// message acknowledged before and after is in the session's queue.
#[test]
fn full_disk_refuses_then_recovers() {
    if skip_on_mosquitto("shardmq's --data-dir") {
        return;
    }
    if !is_root() {
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    }
    let mnt = TempDir::new("fulldisk");
    let _mount = match Mount::new(&["-t", "tmpfs", "-o", TMPFS_SIZE, "tmpfs"], mnt.path()) {
        Ok(m) => m,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    let data = mnt.path().join("data");
    fs::create_dir(&data).unwrap();
    let b = durable_on("", SHARDS, &data);
    let s = Sess::v5(&id_on_shard("fd", 0));
    let mut c = s.create(b.port);
    s.subscribe(&mut c, &[("fd/t", 1)]);
    s.leave(c);
    let mut live = b.connect(&id_on_shard("fd-live", 1), true);
    live.subscribe("fd/t", 0);
    let (mut p, _) = connect5(b.port, &crate::common::Connect::v5("fd-pub5"));
    let mut acked = Vec::new();
    let mut seq = 0;
    let mut publish_q1 = |p: &mut Client| -> u8 {
        let payload = format!("q1-{seq}");
        seq += 1;
        let ack = p
            .publish_v5("fd/t", payload.as_bytes(), 1, false, &Props::new())
            .unwrap();
        if ack.reason == 0 {
            acked.push(payload);
        }
        ack.reason
    };
    assert_eq!(publish_q1(&mut p), 0, "a QoS 1 before the disk is full");
    let filled = fill(mnt.path());
    eprintln!("filler: {filled} bytes");
    // Whatever the log had already reserved may still take a few records.
    let mut refused = None;
    for _ in 0..2000 {
        match publish_q1(&mut p) {
            0 => {}
            r => {
                refused = Some(r);
                break;
            }
        }
    }
    let refused = refused.expect("QoS 1 to a persistent session never refused on a full disk");
    assert!(
        refused == 0x97 || refused == 0x80,
        "PUBACK reason {refused:#x}"
    );
    // QoS 0 and live traffic go on (the live subscriber may get the QoS 1
    // messages as well: skipped).
    p.publish_v5("fd/t", b"zero", 0, false, &Props::new());
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let m = live.recv_publish_within(left);
        if m.payload == b"zero" {
            break;
        }
    }
    // 3.1.1: the QoS 1 PUBLISH closes the connection.
    let mut p3 = b.connect("fd-pub3", true);
    p3.send(&publish("fd/t", b"v3", 1, false, 1));
    match p3.try_recv(WAIT) {
        Recv::Closed(_) => {}
        other => {
            panic!("3.1.1 QoS 1 on a full disk: expected the connection closed, got {other:?}")
        }
    }
    fs::remove_file(mnt.path().join("filler")).unwrap();
    let t0 = Instant::now();
    let ok = eventually(Duration::from_secs(15), || publish_q1(&mut p) == 0);
    assert!(ok, "QoS 1 still refused 15 s after the space came back");
    eprintln!("accepted again after {:?}", t0.elapsed());
    p.disconnect();
    let mut c = s.resume(b.port);
    let mut got = Vec::new();
    while let Recv::Packet(first, body) = c.try_recv(ms(500)) {
        let m = crate::common::v5::parse_publish(first, &body);
        c.send(&puback(m.pid.unwrap()));
        got.push(String::from_utf8_lossy(&m.payload).into_owned());
    }
    let missing: Vec<&String> = acked.iter().filter(|a| !got.contains(a)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but lost: {missing:?} (got {got:?})"
    );
    let order: Vec<&String> = got.iter().filter(|g| acked.contains(g)).collect();
    assert_eq!(
        order,
        acked.iter().collect::<Vec<_>>(),
        "order of the acknowledged ones"
    );
    drop(b);
}
