//! Persistence seen from outside (issue 11, docs/persistence.md): a broker
//! whose data directory outlives its runs, a barrier that makes the log
//! durable up to now, the log files read as the on-disk format describes
//! them, and mounts (read-only, small tmpfs) that are always undone.

use super::broker::{Broker, StartFailure, TempDir};
use super::tools::run;
use super::*;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// `config` with `[persistence] fsync = "always"` unless it sets a policy.
pub fn with_fsync_always(config: &str) -> String {
    let mut table: toml::Table = config.parse().expect("test config is not valid TOML");
    table
        .entry("persistence")
        .or_insert(toml::Value::Table(Default::default()))
        .as_table_mut()
        .expect("[persistence] must be a table")
        .entry("fsync")
        .or_insert("always".into());
    toml::to_string(&table).unwrap()
}

/// A broker with `--data-dir` in a fresh temp dir (fsync "always" unless
/// `config` says otherwise) and `SHARDS` shards. The directory is returned
/// so that it outlives restarts; it is removed when the test passes.
pub fn durable(config: &str) -> (Broker, TempDir) {
    let data = TempDir::new("data");
    let b = durable_on(config, SHARDS, data.path());
    (b, data)
}

/// A broker with `--data-dir data` and `shards` shards.
pub fn durable_on(config: &str, shards: usize, data: &Path) -> Broker {
    try_durable_on(config, shards, data).unwrap_or_else(|f| f.fail())
}

/// [`durable_on`] for a start that may be refused.
pub fn try_durable_on(config: &str, shards: usize, data: &Path) -> Result<Broker, StartFailure> {
    let args = [OsStr::new("--data-dir"), data.as_os_str()];
    Broker::try_start_with(&with_fsync_always(config), shards, &args)
}

/// Persistent sessions subscribed to [`Sync::TOPIC`], at least one owned by
/// each shard for every shard count up to [`Sync::MAX_SHARDS`]. With fsync
/// "always", the PUBACK of a QoS 1 PUBLISH to that topic comes once every
/// shard that queued it made its log durable, and one fsync covers
/// everything the shard appended before (group commit): after
/// [`Sync::sync`], all the broker appended so far (acks, packet ids
/// assigned, wills, ...) survives a kill -9.
pub struct Sync;

impl Sync {
    pub const TOPIC: &'static str = "sync/barrier";
    pub const MAX_SHARDS: usize = 4;

    pub fn new(b: &Broker) -> Sync {
        let mut ids: Vec<String> = Vec::new();
        let covered = |ids: &[String], n: usize, s: usize| {
            ids.iter()
                .any(|id| shardmq::shard::owner_shard(id.as_bytes(), n) == s)
        };
        for i in 0.. {
            let all = (1..=Sync::MAX_SHARDS).all(|n| (0..n).all(|s| covered(&ids, n, s)));
            if all {
                break;
            }
            ids.push(format!("sync-{i}"));
        }
        for id in &ids {
            let mut c = b.connect(id, false);
            c.subscribe(Sync::TOPIC, 1);
            c.disconnect();
        }
        Sync
    }

    /// Everything the broker appended to its logs so far is durable.
    pub fn sync(&self, b: &Broker) {
        let mut c = b.connect("sync-publisher", true);
        c.publish(Sync::TOPIC, b"barrier", 1, false);
        c.disconnect();
    }
}

/// The `generation` line of `DIR/meta`.
pub fn generation(data: &Path) -> u64 {
    let meta = std::fs::read_to_string(data.join("meta"))
        .unwrap_or_else(|e| panic!("cannot read {}/meta: {e}", data.display()));
    meta.lines()
        .find_map(|l| l.strip_prefix("generation ")?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no generation line in meta: {meta:?}"))
}

/// One segment file: `DIR/g{G}/shard-{K}/{S:016}.log`.
#[derive(Clone, Debug)]
pub struct Segment {
    pub shard: usize,
    pub number: u64,
    pub path: PathBuf,
}

/// The segments of the current generation, by shard then number.
pub fn segments(data: &Path) -> Vec<Segment> {
    let gen = data.join(format!("g{}", generation(data)));
    let mut out = Vec::new();
    for shard_dir in std::fs::read_dir(&gen).unwrap().map(|e| e.unwrap().path()) {
        let name = shard_dir.file_name().unwrap().to_string_lossy().to_string();
        let Some(shard) = name.strip_prefix("shard-").and_then(|k| k.parse().ok()) else {
            continue;
        };
        for f in std::fs::read_dir(&shard_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
        {
            let stem = f.file_name().unwrap().to_string_lossy().to_string();
            if let Some(n) = stem.strip_suffix(".log").and_then(|n| n.parse().ok()) {
                out.push(Segment {
                    shard,
                    number: n,
                    path: f,
                });
            }
        }
    }
    out.sort_by_key(|s| (s.shard, s.number));
    out
}

/// One record frame of a segment.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// Offset of the frame's `len` field in the file.
    pub offset: usize,
    /// Bytes after the crc (kind + partition + body).
    pub len: usize,
    pub kind: u8,
    pub partition: u16,
}

impl Frame {
    /// Offset just past the frame.
    pub fn end(&self) -> usize {
        self.offset + 8 + self.len
    }
}

/// The valid frames at the start of a segment, up to the end marker
/// (`len` 0), the end of the file or the first invalid frame.
pub fn frames(bytes: &[u8]) -> Vec<Frame> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let crc = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap());
        if len < 3 || at + 8 + len > bytes.len() || crc32c(&bytes[at + 8..at + 8 + len]) != crc {
            break;
        }
        out.push(Frame {
            offset: at,
            len,
            kind: bytes[at + 8],
            partition: u16::from_le_bytes([bytes[at + 9], bytes[at + 10]]),
        });
        at += 8 + len;
    }
    out
}

/// A copy of a segment's bytes whose HEADER record (the first) claims
/// segment `number` with `flags`, its crc recomputed: a valid segment
/// file of another number. Header body: u16 format, u16 shard, u64
/// segment, u8 flags (little-endian), after len, crc, kind, partition.
pub fn renumbered(bytes: &[u8], number: u64, flags: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let header = frames(&out)[0];
    assert_eq!((header.kind, header.len), (1, 16), "not a HEADER record");
    out[15..23].copy_from_slice(&number.to_le_bytes());
    out[23] = flags;
    let crc = crc32c(&out[8..8 + header.len]);
    out[4..8].copy_from_slice(&crc.to_le_bytes());
    out
}

/// CRC32C (Castagnoli, reflected, poly 0x82F63B78), bit by bit: the
/// tests' own, independent of the broker's crate.
pub fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// `shardmq check-data DIR [--repair]`: (exit code, stdout + stderr).
pub fn check_data(data: &Path, repair: bool) -> (Option<i32>, String) {
    let mut cmd = Command::new(broker::SHARDMQ);
    cmd.arg("check-data").arg(data);
    if repair {
        cmd.arg("--repair");
    }
    let out = run(&mut cmd, Duration::from_secs(30));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// A mount made by a test, unmounted (lazily, so that a broker still
/// holding a file cannot keep it) when dropped, also on failure.
pub struct Mount(pub PathBuf);

impl Mount {
    /// `mount ARGS... TARGET`; None (with the reason) when it fails, e.g.
    /// not root or no mount permission in this container.
    pub fn new(args: &[&str], target: &Path) -> Result<Mount, String> {
        let mut cmd = Command::new("mount");
        cmd.args(args).arg(target);
        let out = run(&mut cmd, Duration::from_secs(10));
        if out.status.success() {
            Ok(Mount(target.to_path_buf()))
        } else {
            Err(format!(
                "`mount {} {}` failed: {}",
                args.join(" "),
                target.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let out = Command::new("umount").arg("-l").arg(&self.0).output();
        if !out.as_ref().is_ok_and(|o| o.status.success()) {
            eprintln!("could not unmount {}: {out:?}", self.0.display());
        }
    }
}

/// True when running as root (chmod does not stop root from writing).
pub fn is_root() -> bool {
    // SAFETY: geteuid(2) has no arguments and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Polls `ok` every 100 ms until it returns true or `within` passed.
pub fn eventually(within: Duration, mut ok: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if ok() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(ms(100));
    }
}
