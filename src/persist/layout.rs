//! The data directory (docs/persistence.md, "Log format"):
//!
//! ```text
//! DIR/meta                          "shardmq-data 1\ngeneration G\nshards N\n"
//! DIR/g{G}/shard-{K}/{S:016}.log    segment S of shard K's stream
//! ```
//!
//! Everything here is std::fs: it runs on the main thread before the
//! executors start (and in `shardmq check-data`), never on a shard.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

const META: &str = "meta";
const META_TMP: &str = "meta.tmp";
const MAGIC: &str = "shardmq-data";
const FORMAT: u64 = 1;
const SEGMENT_EXT: &str = ".log";

/// What `DIR/meta` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub generation: u64,
    pub shards: u16,
}

/// One segment file of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentFile {
    pub number: u64,
    pub path: PathBuf,
    pub size: u64,
}

/// The data directory and its meta, if any was written yet.
#[derive(Debug)]
pub struct DataDir {
    root: PathBuf,
    meta: Option<Meta>,
}

impl DataDir {
    /// Opens `root`, creating it if absent. Fails, naming the directory,
    /// when it cannot be created or written (start-up must not go on with
    /// a log it cannot write), or when its meta is unreadable.
    pub fn open(root: &Path) -> io::Result<DataDir> {
        fs::create_dir_all(root).map_err(|e| named(root, "cannot create the data directory", e))?;
        probe_writable(root)?;
        let meta = read_meta(root)?;
        Ok(DataDir {
            root: root.to_path_buf(),
            meta,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// None until [`DataDir::init`] (a new directory).
    pub fn meta(&self) -> Option<Meta> {
        self.meta
    }

    /// A new directory: creates generation 1 with `shards` empty streams,
    /// then writes meta. No-op when meta exists.
    pub fn init(&mut self, shards: u16) -> io::Result<Meta> {
        if let Some(m) = self.meta {
            return Ok(m);
        }
        let meta = Meta {
            generation: 1,
            shards,
        };
        let g = self.generation_dir(1);
        if g.exists() {
            fs::remove_dir_all(&g).map_err(|e| named(&g, "cannot remove", e))?;
        }
        create_streams(&g, shards)?;
        write_meta(&self.root, meta)?;
        self.meta = Some(meta);
        Ok(meta)
    }

    pub fn generation_dir(&self, generation: u64) -> PathBuf {
        self.root.join(format!("g{generation}"))
    }

    /// Shard `shard`'s stream directory in the current generation.
    /// Panics before [`DataDir::init`]: there is no generation yet.
    pub fn stream_dir(&self, shard: u16) -> PathBuf {
        let meta = self.meta.expect("data dir initialised");
        stream_dir_in(&self.generation_dir(meta.generation), shard)
    }

    /// Deletes every `g*` directory other than the current generation's:
    /// what a re-home or an `init` left when it was interrupted. Returns
    /// what it deleted.
    pub fn remove_leftovers(&self) -> io::Result<Vec<PathBuf>> {
        let current = self.meta.map(|m| format!("g{}", m.generation));
        let mut removed = Vec::new();
        for entry in fs::read_dir(&self.root)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_gen = name.len() > 1
                && name.starts_with('g')
                && name[1..].bytes().all(|b| b.is_ascii_digit());
            if is_gen && Some(&name) != current.as_ref() {
                fs::remove_dir_all(entry.path())
                    .map_err(|e| named(&entry.path(), "cannot remove", e))?;
                removed.push(entry.path());
            }
        }
        if !removed.is_empty() {
            sync_dir(&self.root)?;
        }
        Ok(removed)
    }

    /// Moves the data to `new_shards` streams: `write` fills generation
    /// G+1 (its stream dirs exist already), then every file and dir of it is
    /// fsynced, meta switches to G+1, and generation G is deleted. A crash
    /// before the switch leaves G current (G+1 is a leftover); after it,
    /// G is the leftover.
    pub fn rehome(
        &mut self,
        new_shards: u16,
        write: impl FnOnce(&Path) -> io::Result<()>,
    ) -> io::Result<Meta> {
        let old = self.meta.expect("data dir initialised");
        let next = Meta {
            generation: old.generation + 1,
            shards: new_shards,
        };
        let g = self.generation_dir(next.generation);
        if g.exists() {
            fs::remove_dir_all(&g).map_err(|e| named(&g, "cannot remove", e))?;
        }
        create_streams(&g, new_shards)?;
        write(&g)?;
        sync_tree(&g)?;
        write_meta(&self.root, next)?;
        self.meta = Some(next);
        let old_dir = self.generation_dir(old.generation);
        fs::remove_dir_all(&old_dir).map_err(|e| named(&old_dir, "cannot remove", e))?;
        sync_dir(&self.root)?;
        Ok(next)
    }
}

/// Shard `shard`'s stream directory inside generation dir `generation_dir`.
pub fn stream_dir_in(generation_dir: &Path, shard: u16) -> PathBuf {
    generation_dir.join(format!("shard-{shard}"))
}

/// `{S:016}.log`.
pub fn segment_name(number: u64) -> String {
    format!("{number:016}{SEGMENT_EXT}")
}

pub fn segment_path(stream_dir: &Path, number: u64) -> PathBuf {
    stream_dir.join(segment_name(number))
}

/// The segment number a file name stands for, if it is a segment's.
pub fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(SEGMENT_EXT)?;
    match digits.len() == 16 && digits.bytes().all(|b| b.is_ascii_digit()) {
        true => digits.parse().ok(),
        false => None,
    }
}

/// The segments of a stream, in number order. Other files are ignored.
pub fn list_segments(stream_dir: &Path) -> io::Result<Vec<SegmentFile>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(stream_dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(number) = name.to_str().and_then(parse_segment_name) else {
            continue;
        };
        out.push(SegmentFile {
            number,
            path: entry.path(),
            size: entry.metadata()?.len(),
        });
    }
    out.sort_by_key(|s| s.number);
    Ok(out)
}

/// Reads `DIR/meta`; None when absent.
pub fn read_meta(root: &Path) -> io::Result<Option<Meta>> {
    let path = root.join(META);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(named(&path, "cannot read", e)),
    };
    parse_meta(&text).map(Some).map_err(|why| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {why}", path.display()),
        )
    })
}

fn parse_meta(text: &str) -> Result<Meta, String> {
    let mut lines = text.lines();
    let format = field(lines.next(), MAGIC)?;
    if format != FORMAT {
        return Err(format!(
            "unknown data format {format} (this build reads {FORMAT})"
        ));
    }
    let generation = field(lines.next(), "generation")?;
    let shards = field(lines.next(), "shards")?;
    match u16::try_from(shards) {
        Ok(shards) if shards > 0 => Ok(Meta { generation, shards }),
        _ => Err(format!("bad shard count {shards}")),
    }
}

fn field(line: Option<&str>, name: &str) -> Result<u64, String> {
    let line = line.ok_or_else(|| format!("no `{name}` line"))?;
    let value = line
        .strip_prefix(name)
        .and_then(|v| v.strip_prefix(' '))
        .ok_or_else(|| format!("expected `{name} N`, found `{line}`"))?;
    value.parse().map_err(|_| format!("bad number in `{line}`"))
}

/// Writes meta atomically: meta.tmp, fsync, rename, fsync DIR. A crash
/// leaves either the old meta or the new one, never half of one.
pub fn write_meta(root: &Path, meta: Meta) -> io::Result<()> {
    let tmp = root.join(META_TMP);
    let text = format!(
        "{MAGIC} {FORMAT}\ngeneration {}\nshards {}\n",
        meta.generation, meta.shards
    );
    let mut f = File::create(&tmp).map_err(|e| named(&tmp, "cannot write", e))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    fs::rename(&tmp, root.join(META))?;
    sync_dir(root)
}

/// fsync of a directory: makes the names created or removed in it durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// fsyncs every file and directory under `dir`, and `dir` itself.
pub fn sync_tree(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        match entry.file_type()?.is_dir() {
            true => sync_tree(&entry.path())?,
            false => OpenOptions::new()
                .write(true)
                .open(entry.path())?
                .sync_all()?,
        }
    }
    sync_dir(dir)
}

fn create_streams(generation_dir: &Path, shards: u16) -> io::Result<()> {
    for k in 0..shards {
        let d = stream_dir_in(generation_dir, k);
        fs::create_dir_all(&d).map_err(|e| named(&d, "cannot create", e))?;
        sync_dir(&d)?;
    }
    sync_dir(generation_dir)?;
    sync_dir(generation_dir.parent().unwrap_or(Path::new(".")))
}

/// Creates, writes and removes a probe file. A read-only directory (or
/// file system) fails here, at start-up, not at the first record.
fn probe_writable(root: &Path) -> io::Result<()> {
    let probe = root.join(format!(".probe-{}", std::process::id()));
    let res = File::create(&probe).and_then(|mut f| f.write_all(b"probe"));
    let _ = fs::remove_file(&probe);
    res.map_err(|e| named(root, "the data directory is not writable", e))
}

/// An io::Error whose message names the path.
pub(crate) fn named(path: &Path, what: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {}: {e}", path.display()))
}

/// Writes one segment with std::fs, for a re-home's `write` callback
/// (before the executors start): header first, then the records; no
/// padding (the end of the file ends the data). `finish` fsyncs it.
pub struct PlainSegment {
    file: io::BufWriter<File>,
    buf: Vec<u8>,
}

impl PlainSegment {
    pub fn create(stream_dir: &Path, header: super::frame::Header) -> io::Result<PlainSegment> {
        let path = segment_path(stream_dir, header.segment);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| named(&path, "cannot create", e))?;
        let mut seg = PlainSegment {
            file: io::BufWriter::with_capacity(1 << 20, file),
            buf: Vec::new(),
        };
        header.put(&mut seg.buf);
        seg.flush_buf()?;
        Ok(seg)
    }

    pub fn append(
        &mut self,
        kind: u8,
        partition: u16,
        body: impl FnOnce(&mut Vec<u8>),
    ) -> io::Result<()> {
        super::frame::put(&mut self.buf, kind, partition, body);
        self.flush_buf()
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        self.file.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// Flushes and fsyncs the file.
    pub fn finish(self) -> io::Result<()> {
        let file = self.file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
    }
}

#[cfg(test)]
mod tests;
