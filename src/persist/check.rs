//! `shardmq check-data DIR [--repair]`: reads meta and every stream of the
//! current generation as start-up would, and says what it found. A torn
//! tail is reported but is no error (start-up cuts it); corruption and a
//! missing segment are (start-up refuses). `--repair` cuts each stream at
//! its last good record: truncates that segment, deletes the later ones.

use super::layout::{self, Meta};
use super::scan::{self, ScanError, Stream};
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// Checks (and with `repair`, repairs) the data directory `dir`, writing
/// the report to `out`. Ok(true): start-up would accept the directory
/// (after a repair: it was repaired); Ok(false): it would refuse.
pub fn run(dir: &Path, repair: bool, out: &mut dyn Write) -> io::Result<bool> {
    let meta = match layout::read_meta(dir) {
        Ok(Some(m)) => m,
        Ok(None) => {
            let m = dir.join("meta");
            writeln!(
                out,
                "{}: not found: not a shardmq data directory",
                m.display()
            )?;
            return Ok(false);
        }
        Err(e) => {
            writeln!(out, "{e}")?;
            return Ok(false);
        }
    };
    let g = dir.join(format!("g{}", meta.generation));
    writeln!(
        out,
        "{}: generation {}, {} shards",
        dir.display(),
        meta.generation,
        meta.shards
    )?;
    leftovers(dir, meta, out)?;
    let mut ok = true;
    for shard in 0..meta.shards {
        let stream_dir = layout::stream_dir_in(&g, shard);
        ok &= check_stream(&stream_dir, shard, repair, out)?;
    }
    writeln!(
        out,
        "{}",
        if ok {
            "ok"
        } else {
            "start-up would refuse this directory"
        }
    )?;
    Ok(ok)
}

/// Generation dirs other than the current one: start-up deletes them.
fn leftovers(dir: &Path, meta: Meta, out: &mut dyn Write) -> io::Result<()> {
    let current = format!("g{}", meta.generation);
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.starts_with('g') && name != current && name[1..].parse::<u64>().is_ok() {
            writeln!(
                out,
                "  {name}: leftover of an interrupted re-home (start-up deletes it)"
            )?;
        }
    }
    Ok(())
}

fn check_stream(dir: &Path, shard: u16, repair: bool, out: &mut dyn Write) -> io::Result<bool> {
    match scan::read_stream(dir) {
        Ok(stream) => {
            report(&stream, shard, dir, out)?;
            if repair {
                repair_clean(&stream, out)?;
            }
            Ok(true)
        }
        Err(e) => {
            writeln!(out, "shard {shard} ({}): {e}", dir.display())?;
            if !repair {
                return Ok(false);
            }
            let done = cut_stream(dir, &e, out)?;
            if !done {
                return Ok(false);
            }
            // What start-up will see now.
            check_stream(dir, shard, false, out)
        }
    }
}

/// One stream's summary: segments, records, bytes, record kinds.
fn report(s: &Stream, shard: u16, dir: &Path, out: &mut dyn Write) -> io::Result<()> {
    let mut kinds = BTreeMap::<u8, u64>::new();
    s.records()
        .for_each(|(_, f)| *kinds.entry(f.kind).or_default() += 1);
    let records: u64 = kinds.values().sum();
    let range = match (s.segments.first(), s.segments.last()) {
        (Some(a), Some(b)) => format!(" ({}..{})", a.number, b.number),
        _ => String::new(),
    };
    let name = super::record::kind::name;
    let kinds: Vec<String> = kinds
        .iter()
        .map(|(k, n)| format!("{}:{n}", name(*k)))
        .collect();
    writeln!(
        out,
        "shard {shard} ({}): {} segments{range}, {records} records, {} bytes; kinds {}",
        dir.display(),
        s.segments.len(),
        s.bytes(),
        if kinds.is_empty() {
            "-".into()
        } else {
            kinds.join(" ")
        },
    )?;
    if let Some(t) = &s.torn {
        writeln!(out, "  {t} (not an error: start-up cuts it there)")?;
    }
    for p in &s.superseded {
        writeln!(
            out,
            "  {}: left by an interrupted compaction, superseded",
            p.display()
        )?;
    }
    Ok(())
}

/// `--repair` on a stream start-up accepts: cuts its torn tail and deletes
/// superseded segments, as start-up would.
fn repair_clean(s: &Stream, out: &mut dyn Write) -> io::Result<()> {
    if let Some(t) = &s.torn {
        scan::cut(t)?;
        writeln!(
            out,
            "  repaired: cut {} at offset {}",
            t.path.display(),
            t.offset
        )?;
    }
    for p in &s.superseded {
        fs::remove_file(p)?;
        writeln!(out, "  repaired: deleted {}", p.display())?;
    }
    Ok(())
}

/// Cuts the stream at its last good record. false: nothing to cut (an
/// I/O error).
fn cut_stream(dir: &Path, e: &ScanError, out: &mut dyn Write) -> io::Result<bool> {
    let (keep_upto, truncate) = match e {
        ScanError::Corrupt { path, offset, .. } => {
            let Some(number) = number_of(path) else {
                return Ok(false);
            };
            (number, Some((path.clone(), *offset)))
        }
        ScanError::Missing { segment, .. } => (*segment, None),
        ScanError::Io { .. } => return Ok(false),
    };
    if let Some((path, offset)) = truncate {
        truncate_segment(&path, offset, out)?;
    }
    for s in layout::list_segments(dir)? {
        if s.number > keep_upto {
            fs::remove_file(&s.path)?;
            writeln!(
                out,
                "  repaired: deleted {} ({} bytes)",
                s.path.display(),
                s.size
            )?;
        }
    }
    layout::sync_dir(dir)?;
    Ok(true)
}

/// Truncates a segment at `offset` (deletes it when not even its header
/// is good) and fsyncs it.
fn truncate_segment(path: &Path, offset: u64, out: &mut dyn Write) -> io::Result<()> {
    let size = fs::metadata(path)?.len();
    let t = scan::TornTail {
        path: path.to_path_buf(),
        offset,
        reason: String::new(),
    };
    scan::cut(&t)?;
    match offset {
        0 => writeln!(out, "  repaired: deleted {} ({size} bytes)", path.display()),
        _ => writeln!(
            out,
            "  repaired: truncated {} at offset {offset} (removed {} bytes)",
            path.display(),
            size - offset
        ),
    }
}

fn number_of(path: &Path) -> Option<u64> {
    path.file_name()?
        .to_str()
        .and_then(layout::parse_segment_name)
}

/// The `check-data` subcommand: the report on stdout; exit 0 when
/// start-up would accept the directory, 1 when it would refuse.
pub fn command(dir: &Path, repair: bool) -> std::process::ExitCode {
    let mut out = io::stdout().lock();
    match run(dir, repair, &mut out) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("shardmq check-data: {}: {e}", dir.display());
            std::process::ExitCode::FAILURE
        }
    }
}

/// For tests and callers that want the report as text.
pub fn run_to_string(dir: &Path, repair: bool) -> (bool, String) {
    let mut out = Vec::new();
    let ok = run(dir, repair, &mut out).unwrap_or_else(|e| {
        let _ = writeln!(out, "{e}");
        false
    });
    (ok, String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests;
