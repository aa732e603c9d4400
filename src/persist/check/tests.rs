use super::*;
use crate::persist::frame::{put, Header};
use crate::persist::layout::{segment_path, write_meta};
use crate::persist::testdir::TestDir;
use std::path::PathBuf;

/// A segment: header and `n` records of kind 10, zero-padded to 4 KiB.
fn segment(number: u64, n: u8) -> Vec<u8> {
    let mut buf = Vec::new();
    Header {
        shard: 0,
        segment: number,
        flags: 0,
    }
    .put(&mut buf);
    for i in 0..n {
        put(&mut buf, 10, i as u16, |b| b.extend_from_slice(&[i; 50]));
    }
    buf.resize(buf.len().next_multiple_of(4096), 0);
    buf
}

/// Offset after the header and `k` records of [`segment`].
fn after(k: usize) -> usize {
    (8 + 3 + 13) + k * (8 + 3 + 50)
}

/// A data dir of 2 shards; shard 0 has `segs`, shard 1 one clean segment.
fn data_dir(t: &TestDir, segs: &[(u64, Vec<u8>)]) -> PathBuf {
    let root = t.path().to_path_buf();
    write_meta(
        &root,
        Meta {
            generation: 1,
            shards: 2,
        },
    )
    .unwrap();
    for (shard, segs) in [(0, segs.to_vec()), (1, vec![(1, segment(1, 1))])] {
        let dir = layout::stream_dir_in(&root.join("g1"), shard);
        fs::create_dir_all(&dir).unwrap();
        for (n, bytes) in segs {
            fs::write(segment_path(&dir, n), bytes).unwrap();
        }
    }
    root.join("g1/shard-0")
}

#[test]
fn a_clean_dir_is_summarised() {
    let t = TestDir::new("check-clean");
    data_dir(&t, &[(1, segment(1, 2)), (2, segment(2, 3))]);
    fs::create_dir(t.path().join("g7")).unwrap();
    let (ok, text) = run_to_string(t.path(), false);
    assert!(ok, "{text}");
    assert!(text.contains("generation 1, 2 shards"), "{text}");
    assert!(
        text.contains("shard 0") && text.contains("2 segments (1..2), 5 records"),
        "{text}"
    );
    assert!(text.contains("kinds session:5"), "{text}");
    assert!(text.contains("g7: leftover"), "{text}");
    assert!(text.ends_with("ok\n"), "{text}");
}

#[test]
fn a_torn_tail_is_no_error_and_repair_cuts_it() {
    let t = TestDir::new("check-torn");
    let mut last = segment(1, 2)[..after(2)].to_vec();
    last.extend_from_slice(&[9, 0, 0, 0, 1, 2]);
    let dir = data_dir(&t, &[(1, last)]);
    let (ok, text) = run_to_string(t.path(), false);
    assert!(
        ok && text.contains("torn tail") && text.contains(&format!("offset {}", after(2))),
        "{text}"
    );
    let (ok, text) = run_to_string(t.path(), true);
    assert!(ok && text.contains("repaired: cut"), "{text}");
    let len = fs::metadata(segment_path(&dir, 1)).unwrap().len();
    assert_eq!(len as usize, after(2));
}

#[test]
fn corruption_fails_and_repair_truncates_and_deletes_later_segments() {
    let t = TestDir::new("check-corrupt");
    let mut first = segment(1, 3);
    first[after(1) + 12] ^= 4;
    let dir = data_dir(&t, &[(1, first), (2, segment(2, 1))]);
    let (ok, text) = run_to_string(t.path(), false);
    assert!(!ok, "{text}");
    assert!(
        text.contains("corrupt record") && text.contains(&format!("offset {}", after(1))),
        "{text}"
    );
    assert!(text.contains("start-up would refuse"), "{text}");
    let (ok, text) = run_to_string(t.path(), true);
    assert!(ok, "{text}");
    assert!(
        text.contains("repaired: truncated") && text.contains("repaired: deleted"),
        "{text}"
    );
    assert!(!segment_path(&dir, 2).exists());
    let (ok, text) = run_to_string(t.path(), false);
    assert!(
        ok && text.contains("1 segments (1..1), 1 records"),
        "{text}"
    );
}

#[test]
fn a_missing_segment_fails_and_repair_keeps_what_precedes_it() {
    let t = TestDir::new("check-missing");
    let dir = data_dir(
        &t,
        &[(1, segment(1, 1)), (2, segment(2, 1)), (4, segment(4, 1))],
    );
    let (ok, text) = run_to_string(t.path(), false);
    assert!(!ok && text.contains("missing segment"), "{text}");
    let (ok, text) = run_to_string(t.path(), true);
    assert!(ok, "{text}");
    assert!(!segment_path(&dir, 4).exists() && segment_path(&dir, 2).exists());
}

#[test]
fn not_a_data_dir() {
    let t = TestDir::new("check-none");
    let (ok, text) = run_to_string(t.path(), false);
    assert!(
        !ok && text.contains("not a shardmq data directory"),
        "{text}"
    );
}
