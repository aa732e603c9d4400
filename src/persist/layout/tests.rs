use super::*;
use crate::persist::testdir::TestDir;

#[test]
fn open_init_and_stream_dirs() {
    let t = TestDir::new("layout-init");
    let root = t.path().join("data");
    let mut d = DataDir::open(&root).unwrap();
    assert_eq!(d.meta(), None);
    let m = d.init(2).unwrap();
    assert_eq!(
        m,
        Meta {
            generation: 1,
            shards: 2
        }
    );
    assert!(d.stream_dir(1).ends_with("g1/shard-1"));
    assert!(d.stream_dir(1).is_dir());
    let again = DataDir::open(&root).unwrap();
    assert_eq!(again.meta(), Some(m));
}

#[test]
fn meta_text_and_bad_meta() {
    let t = TestDir::new("layout-meta");
    write_meta(
        t.path(),
        Meta {
            generation: 7,
            shards: 3,
        },
    )
    .unwrap();
    let text = fs::read_to_string(t.path().join("meta")).unwrap();
    assert_eq!(text, "shardmq-data 1\ngeneration 7\nshards 3\n");
    fs::write(t.path().join("meta"), "shardmq-data 2\n").unwrap();
    let e = read_meta(t.path()).unwrap_err().to_string();
    assert!(e.contains("meta") && e.contains("format 2"), "{e}");
    fs::write(t.path().join("meta"), "shardmq-data 1\ngeneration x\n").unwrap();
    assert!(read_meta(t.path()).is_err());
}

#[test]
fn segments_are_listed_in_order() {
    let t = TestDir::new("layout-list");
    for n in [10, 2, 1] {
        fs::write(segment_path(t.path(), n), vec![0; n as usize]).unwrap();
    }
    fs::write(t.path().join("notes.txt"), b"x").unwrap();
    let segs = list_segments(t.path()).unwrap();
    let got: Vec<_> = segs.iter().map(|s| (s.number, s.size)).collect();
    assert_eq!(got, vec![(1, 1), (2, 2), (10, 10)]);
    assert_eq!(segment_name(3), "0000000000000003.log");
    assert_eq!(parse_segment_name("0000000000000003.log"), Some(3));
    assert_eq!(parse_segment_name("3.log"), None);
}

#[test]
fn rehome_switches_generation_and_removes_the_old_one() {
    let t = TestDir::new("layout-rehome");
    let mut d = DataDir::open(t.path()).unwrap();
    d.init(2).unwrap();
    fs::create_dir(t.path().join("g9")).unwrap();
    assert_eq!(d.remove_leftovers().unwrap(), vec![t.path().join("g9")]);
    let m = d
        .rehome(3, |g| {
            let h = crate::persist::frame::Header {
                shard: 2,
                segment: 1,
                flags: 0,
            };
            let mut seg = PlainSegment::create(&stream_dir_in(g, 2), h)?;
            seg.append(10, 5, |b| b.push(1))?;
            seg.finish()
        })
        .unwrap();
    assert_eq!(
        m,
        Meta {
            generation: 2,
            shards: 3
        }
    );
    assert!(!t.path().join("g1").exists());
    assert_eq!(read_meta(t.path()).unwrap(), Some(m));
    assert_eq!(list_segments(&d.stream_dir(2)).unwrap().len(), 1);
}

#[test]
fn a_failed_rehome_keeps_the_old_generation() {
    let t = TestDir::new("layout-rehome-fail");
    let mut d = DataDir::open(t.path()).unwrap();
    d.init(1).unwrap();
    let e = d.rehome(2, |_| Err(io::Error::other("boom")));
    assert!(e.is_err());
    assert_eq!(d.meta().unwrap().generation, 1);
    assert!(t.path().join("g1").is_dir());
    assert_eq!(d.remove_leftovers().unwrap(), vec![t.path().join("g2")]);
}

#[test]
fn an_unwritable_dir_is_refused_by_name() {
    let t = TestDir::new("layout-ro");
    // A regular file where a directory is expected: fails for root too
    // (root ignores permission bits).
    let file = t.path().join("file");
    fs::write(&file, b"x").unwrap();
    let e = DataDir::open(&file.join("data")).unwrap_err().to_string();
    assert!(e.contains("file/data") || e.contains("file"), "{e}");
}
