use super::*;
use crate::persist::frame::{put, FLAG_SNAPSHOT, KIND_SNAP_END, PARTITION_NONE};
use crate::persist::layout::segment_path;
use crate::persist::testdir::TestDir;

/// A segment's bytes: header, then `n` records of kind 10, zero-padded to
/// a 4 KiB block like the writer's.
fn segment(number: u64, flags: u8, n: u8) -> Vec<u8> {
    let mut buf = Vec::new();
    Header {
        shard: 0,
        segment: number,
        flags,
    }
    .put(&mut buf);
    for i in 0..n {
        put(&mut buf, 10, i as u16, |b| b.extend_from_slice(&[i; 100]));
    }
    buf.resize(buf.len().next_multiple_of(4096), 0);
    buf
}

/// `DIR/g1/shard-0` with the given segments.
fn stream(t: &TestDir, segs: &[(u64, Vec<u8>)]) -> PathBuf {
    let dir = t.path().join("g1/shard-0");
    fs::create_dir_all(&dir).unwrap();
    for (n, bytes) in segs {
        fs::write(segment_path(&dir, *n), bytes).unwrap();
    }
    dir
}

/// Offset just past the header and `k` records of [`segment`].
fn after_records(k: usize) -> usize {
    let header = FRAME_HEADER + 3 + 13;
    header + k * (FRAME_HEADER + 3 + 100)
}

#[test]
fn clean_stream_reads_every_record_in_order() {
    let t = TestDir::new("scan-clean");
    let dir = stream(&t, &[(1, segment(1, 0, 3)), (2, segment(2, 0, 2))]);
    let s = read_stream(&dir).unwrap();
    assert!(s.torn.is_none());
    let got: Vec<_> = s
        .records()
        .map(|(seg, f)| (seg, f.partition, f.kind))
        .collect();
    assert_eq!(
        got,
        vec![(1, 0, 10), (1, 1, 10), (1, 2, 10), (2, 0, 10), (2, 1, 10)]
    );
    assert_eq!(s.next_segment(), 3);
    assert_eq!(s.segments[1].header.segment, 2);
    assert_eq!(s.bytes() as usize, after_records(3) + after_records(2));
}

#[test]
fn empty_stream_starts_at_one() {
    let t = TestDir::new("scan-empty");
    let s = read_stream(&stream(&t, &[])).unwrap();
    assert_eq!((s.segments.len(), s.next_segment()), (0, 1));
}

#[test]
fn torn_tail_is_reported_and_cut() {
    let t = TestDir::new("scan-torn");
    let end = after_records(2);
    let mut last = segment(2, 0, 2)[..end].to_vec();
    // Half a record: a sane length that runs past the written bytes.
    let mut rec = Vec::new();
    put(&mut rec, 10, 1, |b| b.extend_from_slice(&[7; 100]));
    last.extend_from_slice(&rec[..rec.len() - 40]);
    let dir = stream(&t, &[(1, segment(1, 0, 1)), (2, last)]);
    let s = read_stream(&dir).unwrap();
    let torn = s.torn.clone().unwrap();
    assert_eq!(
        (torn.offset as usize, torn.path.clone()),
        (end, segment_path(&dir, 2))
    );
    assert!(torn.to_string().contains("0000000000000002.log"), "{torn}");
    assert_eq!(s.records().count(), 3);
    cut(&torn).unwrap();
    let again = read_stream(&dir).unwrap();
    assert!(again.torn.is_none());
    assert_eq!(
        fs::metadata(segment_path(&dir, 2)).unwrap().len() as usize,
        end
    );
}

#[test]
fn a_last_segment_without_header_is_removed_by_cut() {
    let t = TestDir::new("scan-torn-header");
    let dir = stream(&t, &[(1, segment(1, 0, 1)), (2, Vec::new())]);
    let s = read_stream(&dir).unwrap();
    let torn = s.torn.clone().unwrap();
    assert_eq!(torn.offset, 0);
    assert_eq!((s.segments.len(), s.next_segment()), (1, 2));
    cut(&torn).unwrap();
    assert!(!segment_path(&dir, 2).exists());
}

#[test]
fn flipped_bit_before_valid_records_is_corruption() {
    let t = TestDir::new("scan-flip");
    let mut last = segment(1, 0, 3);
    last[after_records(1) + 20] ^= 1;
    let dir = stream(&t, &[(1, last)]);
    let e = read_stream(&dir).unwrap_err();
    let msg = e.to_string();
    match e {
        ScanError::Corrupt { offset, .. } => assert_eq!(offset as usize, after_records(1)),
        other => panic!("{other:?}"),
    }
    assert!(
        msg.contains("0000000000000001.log") && msg.contains("checksum"),
        "{msg}"
    );
    let root = t.path().display().to_string();
    assert!(msg.contains(&format!("shardmq check-data {root}")), "{msg}");
}

#[test]
fn a_torn_older_segment_is_corruption() {
    let t = TestDir::new("scan-torn-old");
    let mut first = segment(1, 0, 2);
    first.truncate(after_records(2) - 10);
    let dir = stream(&t, &[(1, first), (2, segment(2, 0, 1))]);
    assert!(matches!(read_stream(&dir), Err(ScanError::Corrupt { .. })));
}

#[test]
fn zeros_before_valid_records_are_corruption() {
    let t = TestDir::new("scan-zeros");
    let mut seg = segment(1, 0, 3);
    let (a, b) = (after_records(1), after_records(2));
    seg[a..b].fill(0);
    let dir = stream(&t, &[(1, seg)]);
    assert!(matches!(read_stream(&dir), Err(ScanError::Corrupt { .. })));
}

#[test]
fn gaps_and_a_first_segment_without_snapshot_are_missing() {
    let t = TestDir::new("scan-missing");
    let dir = stream(&t, &[(1, segment(1, 0, 1)), (3, segment(3, 0, 1))]);
    let e = read_stream(&dir).unwrap_err();
    assert!(matches!(e, ScanError::Missing { segment: 2, .. }), "{e:?}");
    assert!(e.to_string().contains("0000000000000002.log"), "{e}");
    let t = TestDir::new("scan-missing-first");
    let dir = stream(&t, &[(4, segment(4, 0, 1))]);
    assert!(matches!(
        read_stream(&dir),
        Err(ScanError::Missing { segment: 3, .. })
    ));
    let t = TestDir::new("scan-snapshot-first");
    let dir = stream(
        &t,
        &[(4, segment(4, FLAG_SNAPSHOT, 1)), (5, segment(5, 0, 0))],
    );
    assert_eq!(read_stream(&dir).unwrap().records().count(), 1);
}

#[test]
fn a_header_for_another_segment_is_corruption() {
    let t = TestDir::new("scan-wrong-header");
    let dir = stream(&t, &[(1, segment(7, 0, 1)), (2, segment(2, 0, 0))]);
    assert!(matches!(
        read_stream(&dir),
        Err(ScanError::Corrupt { offset: 0, .. })
    ));
    let t = TestDir::new("scan-no-header");
    let mut buf = Vec::new();
    put(&mut buf, 10, PARTITION_NONE, |_| {});
    let dir = stream(&t, &[(1, buf), (2, segment(2, 0, 0))]);
    assert!(matches!(
        read_stream(&dir),
        Err(ScanError::Corrupt { offset: 0, .. })
    ));
}

#[test]
fn an_interrupted_deletion_leaves_superseded_segments() {
    let t = TestDir::new("scan-superseded");
    let mut snap = segment(5, FLAG_SNAPSHOT, 1);
    let end = after_records(1);
    snap.truncate(end);
    put(&mut snap, KIND_SNAP_END, PARTITION_NONE, |_| {});
    let dir = stream(
        &t,
        &[(3, segment(3, 0, 1)), (4, segment(4, 0, 1)), (5, snap)],
    );
    let s = read_stream(&dir).unwrap();
    assert_eq!(
        s.superseded,
        vec![segment_path(&dir, 3), segment_path(&dir, 4)]
    );
    assert_eq!(s.segments.len(), 1);
    assert_eq!(s.records().count(), 2);
    // Without SNAP_END the snapshot may be incomplete: segments are missing.
    let t = TestDir::new("scan-superseded-incomplete");
    let dir = stream(
        &t,
        &[(4, segment(4, 0, 1)), (5, segment(5, FLAG_SNAPSHOT, 1))],
    );
    assert!(matches!(
        read_stream(&dir),
        Err(ScanError::Missing { segment: 3, .. })
    ));
}
