//! Reading a stream back for recovery and `shardmq check-data`: every
//! segment in memory, its frames validated and indexed.
//!
//! At the first invalid frame of a segment the rest of it is searched
//! byte by byte for a valid frame. None, in the last segment: a torn tail
//! (a write the crash interrupted), cut there. Otherwise, or in an older
//! segment (fsynced whole before the next one was created): corruption,
//! and start-up stops.

use super::frame::{self, Frame, Header, FRAME_HEADER, KIND_HEADER, KIND_SNAP_END};
use super::layout::{self, SegmentFile};
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// A stream read back: its valid segments in order and the torn tail cut
/// off the last one, if any.
#[derive(Debug)]
pub struct Stream {
    pub segments: Vec<Segment>,
    pub torn: Option<TornTail>,
    /// Segments left by a compaction whose deletion a crash interrupted:
    /// not part of the stream (a later snapshot replaces them); delete
    /// them, or leave them to the next compaction's `delete_before`.
    pub superseded: Vec<PathBuf>,
}

/// One segment's bytes and where each valid frame is, header included.
#[derive(Debug)]
pub struct Segment {
    pub number: u64,
    pub path: PathBuf,
    pub header: Header,
    pub data: Vec<u8>,
    /// (start, end) of every frame, the header first.
    pub frames: Vec<(usize, usize)>,
}

/// The end of the last segment that a crash left half written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    pub path: PathBuf,
    /// Where the valid data ends; 0: the segment has no valid header and
    /// [`cut`] removes the file.
    pub offset: u64,
    pub reason: String,
}

impl fmt::Display for TornTail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        write!(
            f,
            "torn tail in {path} at offset {}: {}",
            self.offset, self.reason
        )
    }
}

#[derive(Debug)]
pub enum ScanError {
    /// An invalid record that is not a torn tail.
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    /// A segment that should be there is not (`dir` is the stream's).
    Missing {
        dir: PathBuf,
        segment: u64,
        reason: String,
    },
    Io {
        path: PathBuf,
        error: io::Error,
    },
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScanError::Corrupt {
                path,
                offset,
                reason,
            } => {
                let root = data_dir_of(path.parent());
                write!(
                    f,
                    "corrupt record in {} at offset {offset}: {reason}; ",
                    path.display()
                )?;
                write!(
                    f,
                    "run `shardmq check-data {}` (--repair cuts the stream there)",
                    root
                )
            }
            ScanError::Missing {
                dir,
                segment,
                reason,
            } => {
                let missing = layout::segment_path(dir, *segment);
                write!(f, "missing segment {}: {reason}; ", missing.display())?;
                let root = data_dir_of(Some(dir));
                write!(
                    f,
                    "run `shardmq check-data {root}` (--repair cuts the stream there)"
                )
            }
            ScanError::Io { path, error } => write!(f, "cannot read {}: {error}", path.display()),
        }
    }
}

impl std::error::Error for ScanError {}

/// The data dir two levels above a stream dir (`DIR/g{G}/shard-{K}`).
fn data_dir_of(stream_dir: Option<&Path>) -> String {
    let root = stream_dir.and_then(Path::parent).and_then(Path::parent);
    root.map_or_else(|| "DIR".into(), |p| p.display().to_string())
}

impl Segment {
    /// The frames after the header, in order. Validated by [`read_stream`],
    /// so no checksum is computed again.
    pub fn records(&self) -> impl Iterator<Item = Frame<'_>> + '_ {
        self.frames
            .iter()
            .skip(1)
            .map(|&(s, e)| frame_at(&self.data, s, e))
    }

    /// A snapshot starts here and its SNAP_END record is here too.
    pub fn has_complete_snapshot(&self) -> bool {
        self.header.snapshot() && self.records().any(|f| f.kind == KIND_SNAP_END)
    }

    /// Where the valid data ends (the offset the writer would go on at).
    pub fn end(&self) -> usize {
        self.frames.last().map_or(0, |&(_, e)| e)
    }
}

/// A frame already validated, from its range.
fn frame_at(data: &[u8], start: usize, end: usize) -> Frame<'_> {
    let p = &data[start + FRAME_HEADER..end];
    Frame {
        offset: start as u64,
        kind: p[0],
        partition: u16::from_le_bytes([p[1], p[2]]),
        body: &p[3..],
    }
}

impl Stream {
    /// Every record after the headers, in stream order, with its segment.
    pub fn records(&self) -> impl Iterator<Item = (u64, Frame<'_>)> + '_ {
        self.segments
            .iter()
            .flat_map(|s| s.records().map(move |f| (s.number, f)))
    }

    /// The number for the next segment the writer creates.
    pub fn next_segment(&self) -> u64 {
        self.segments.last().map_or(1, |s| s.number + 1)
    }

    /// Bytes of valid data in all segments (what is on disk, once cut).
    pub fn bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.end() as u64).sum()
    }
}

/// Reads and validates every segment of the stream in `dir`.
pub fn read_stream(dir: &Path) -> Result<Stream, ScanError> {
    let files = layout::list_segments(dir).map_err(|error| io_err(dir, error))?;
    check_numbers(dir, &files)?;
    let mut segments = Vec::with_capacity(files.len());
    for (i, file) in files.iter().enumerate() {
        let last = i + 1 == files.len();
        match read_segment(file, last)? {
            Read::Whole(seg) => segments.push(seg),
            Read::Torn(seg, torn) => {
                segments.extend(seg);
                return first_is_complete(dir, segments, Some(torn));
            }
        }
    }
    first_is_complete(dir, segments, None)
}

/// Segment numbers must be consecutive.
fn check_numbers(dir: &Path, files: &[SegmentFile]) -> Result<(), ScanError> {
    for w in files.windows(2) {
        if w[1].number != w[0].number + 1 {
            return Err(ScanError::Missing {
                dir: dir.to_path_buf(),
                segment: w[0].number + 1,
                reason: format!("segments {} and {} are on disk", w[0].number, w[1].number),
            });
        }
    }
    Ok(())
}

/// The first segment must be segment 1 or start with a snapshot: older
/// segments are deleted only once a snapshot made them useless. Deletion
/// goes oldest first, so a crash during it leaves a first segment that is
/// neither, followed by the complete snapshot it was deleted for: those
/// segments are superseded (dropped from the stream, listed).
fn first_is_complete(
    dir: &Path,
    mut segments: Vec<Segment>,
    torn: Option<TornTail>,
) -> Result<Stream, ScanError> {
    let mut superseded = Vec::new();
    if let Some(first) = segments.first() {
        if first.number != 1 && !first.header.snapshot() {
            let Some(j) = segments.iter().position(Segment::has_complete_snapshot) else {
                return Err(ScanError::Missing {
                    dir: dir.to_path_buf(),
                    segment: first.number - 1,
                    reason: format!("segment {} is the first and has no snapshot", first.number),
                });
            };
            superseded = segments.drain(..j).map(|s| s.path).collect();
        }
    }
    Ok(Stream {
        segments,
        torn,
        superseded,
    })
}

enum Read {
    Whole(Segment),
    /// The last segment, cut; None when not even its header is valid.
    Torn(Option<Segment>, TornTail),
}

fn read_segment(file: &SegmentFile, last: bool) -> Result<Read, ScanError> {
    let data = fs::read(&file.path).map_err(|error| io_err(&file.path, error))?;
    let (frames, stop) = index(&data);
    let corrupt = |offset: usize, reason: String| ScanError::Corrupt {
        path: file.path.clone(),
        offset: offset as u64,
        reason,
    };
    let torn = match stop {
        Stop::End => None,
        Stop::Corrupt(at, reason) => return Err(corrupt(at, reason)),
        Stop::Torn(at, reason) if last => Some((at, reason)),
        Stop::Torn(at, reason) => {
            let reason = format!("{reason} (not the last segment: cannot be a torn write)");
            return Err(corrupt(at, reason));
        }
    };
    let header = match header_of(&data, &frames, file.number) {
        Ok(h) => h,
        Err(reason) if last && frames.is_empty() => {
            return Ok(Read::Torn(None, torn_tail(file, 0, reason)));
        }
        Err(reason) => return Err(corrupt(0, reason)),
    };
    let seg = Segment {
        number: file.number,
        path: file.path.clone(),
        header,
        data,
        frames,
    };
    Ok(match torn {
        Some((at, reason)) => Read::Torn(Some(seg), torn_tail(file, at, reason)),
        None => Read::Whole(seg),
    })
}

fn torn_tail(file: &SegmentFile, at: usize, reason: String) -> TornTail {
    TornTail {
        path: file.path.clone(),
        offset: at as u64,
        reason,
    }
}

/// The first frame must be the segment's own HEADER.
fn header_of(data: &[u8], frames: &[(usize, usize)], number: u64) -> Result<Header, String> {
    let &(s, e) = frames.first().ok_or("no header record")?;
    let f = frame_at(data, s, e);
    if f.kind != KIND_HEADER {
        return Err(format!("first record is kind {}, not a header", f.kind));
    }
    let h = Header::decode(f.body)?;
    if h.segment != number {
        return Err(format!("header says segment {}", h.segment));
    }
    Ok(h)
}

/// How the valid frames of a segment end.
#[derive(Debug, PartialEq, Eq)]
enum Stop {
    /// A zero length or the end of the file, nothing valid after it.
    End,
    /// An invalid frame at this offset, nothing valid after it.
    Torn(usize, String),
    /// An invalid frame (or the end of data) with a valid frame later.
    Corrupt(usize, String),
}

/// Indexes the valid frames from the start of `data`, and says how the
/// run of valid frames ends.
fn index(data: &[u8]) -> (Vec<(usize, usize)>, Stop) {
    let mut frames = Vec::new();
    let mut at = 0;
    loop {
        match frame::next(data, at) {
            Ok(Some((_, end))) => {
                frames.push((at, end));
                at = end;
            }
            Ok(None) => return (frames, after_end(data, at)),
            Err(bad) => return (frames, after_bad(data, at, bad.reason)),
        }
    }
}

fn after_end(data: &[u8], at: usize) -> Stop {
    match find_valid(data, at + 1) {
        None => Stop::End,
        Some(q) => Stop::Corrupt(at, format!("zeros where records go, a valid record at {q}")),
    }
}

fn after_bad(data: &[u8], at: usize, reason: String) -> Stop {
    match find_valid(data, at + 1) {
        None => Stop::Torn(at, reason),
        Some(q) => Stop::Corrupt(at, format!("{reason}, a valid record follows at {q}")),
    }
}

/// The first offset from `from` where a valid frame starts.
fn find_valid(data: &[u8], from: usize) -> Option<usize> {
    (from..data.len()).find(|&q| frame::valid_at(data, q))
}

/// Cuts a torn tail: truncates the segment at the end of its valid data
/// (removes it when not even its header is valid), then fsyncs.
pub fn cut(t: &TornTail) -> io::Result<()> {
    if t.offset == 0 {
        fs::remove_file(&t.path)?;
    } else {
        let f = OpenOptions::new().write(true).open(&t.path)?;
        f.set_len(t.offset)?;
        f.sync_all()?;
    }
    match t.path.parent() {
        Some(dir) => layout::sync_dir(dir),
        None => Ok(()),
    }
}

fn io_err(path: &Path, error: io::Error) -> ScanError {
    ScanError::Io {
        path: path.to_path_buf(),
        error,
    }
}

#[cfg(test)]
mod tests;
