//! Charts of runs: the latency distribution as a percentile curve on a log
//! "1/(1-p)" axis (as HdrHistogram's plotter draws it, median to
//! 99.999 %) above the throughput over time, one series per run.
//! `--plot FILE` draws the run just made; `shardmq-bench plot A.json
//! B.json -o FILE` draws saved `--json` results together. SVG, or PNG by
//! the file's extension.

mod draw;
mod font;
#[cfg(test)]
mod tests;

use crate::cli::PlotArgs;
use crate::report::Summary;
use crate::stats::timeline::Sample;
use draw::{Chart, Series};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// What a chart needs of a `--json` result (older files lack the curve
/// and the timeline, and are refused with a message that says so).
#[derive(Debug, Deserialize)]
pub struct Run {
    pub scenario: String,
    pub mqtt: String,
    pub qos: u8,
    pub publishers: u32,
    pub subscribers: u32,
    pub payload_bytes: Option<usize>,
    #[serde(default)]
    pub latency_curve_us: Vec<(f64, u64)>,
    pub connections: RunConnections,
    #[serde(default)]
    pub timeline: Vec<Sample>,
}

#[derive(Debug, Deserialize)]
pub struct RunConnections {
    #[serde(default)]
    pub requested: u64,
    #[serde(default)]
    pub connack_curve_us: Vec<(f64, u64)>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    Svg,
    Png,
}

/// The format `path`'s extension asks for (usage error otherwise).
pub fn format_of(path: &Path) -> Result<Format, String> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        "svg" => Ok(Format::Svg),
        "png" => Ok(Format::Png),
        _ => Err(format!(
            "{}: the chart's file name must end in .svg or .png",
            path.display()
        )),
    }
}

/// `--plot FILE` after a run: the summary as `--json` would print it.
pub fn after_run(path: &Path, s: &Summary) -> Result<(), String> {
    let value = serde_json::to_value(s).map_err(|e| e.to_string())?;
    let run: Run = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let label = format!("{} {}", run.scenario, s.broker);
    let title = title_of(&run);
    write(path, &chart(title, vec![(label, run)])?)
}

/// `shardmq-bench plot`: every file one series.
pub fn command(a: &PlotArgs) -> Result<(), String> {
    format_of(&a.output)?;
    let mut runs = Vec::new();
    for arg in &a.files {
        let (label, path) = label_and_path(arg);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        // The whole file, or its last line (`--json` after progress lines).
        let last = text.lines().rev().find(|l| !l.trim().is_empty());
        let run: Run = serde_json::from_str(&text)
            .or_else(|_| serde_json::from_str(last.unwrap_or("")))
            .map_err(|e| format!("{}: not a shardmq-bench --json result: {e}", path.display()))?;
        runs.push((label, run));
    }
    let title = match &a.title {
        Some(t) => t.clone(),
        None => title_of(&runs[0].1),
    };
    write(&a.output, &chart(title, runs)?)
}

/// `NAME=FILE` names the series; otherwise the file name without `.json`.
fn label_and_path(arg: &str) -> (String, PathBuf) {
    if let Some((name, file)) = arg.split_once('=') {
        if !name.is_empty() && !name.contains('/') && !Path::new(arg).exists() {
            return (name.to_string(), PathBuf::from(file));
        }
    }
    let path = PathBuf::from(arg);
    let stem = path.file_stem().map_or(arg.into(), |s| s.to_string_lossy());
    (stem.into_owned(), path)
}

/// "fanin: 10 → 1, QoS 1, 16 B, MQTT 3.1.1"; "conn: 1000 connections, …".
fn title_of(r: &Run) -> String {
    if r.publishers + r.subscribers == 0 {
        let n = r.connections.requested;
        return format!("{}: {n} connections, MQTT {}", r.scenario, r.mqtt);
    }
    let mut t = format!("{}: {} → {}", r.scenario, r.publishers, r.subscribers);
    if r.publishers > 0 {
        t += &format!(", QoS {}", r.qos);
    }
    if let Some(b) = r.payload_bytes {
        t += &format!(", {b} B");
    }
    t + &format!(", MQTT {}", r.mqtt)
}

/// Message latency and rates when any run has them; else the handshakes'
/// (conn, connect-rate).
fn chart(title: String, runs: Vec<(String, Run)>) -> Result<Chart, String> {
    let messages = runs.iter().any(|(_, r)| !r.latency_curve_us.is_empty());
    let mut series = Vec::new();
    for (label, r) in runs {
        let curve = match messages {
            true => r.latency_curve_us,
            false => r.connections.connack_curve_us,
        };
        if curve.is_empty() {
            return Err(format!(
                "{label}: no latency curve (no {} measured, or written by an older \
                 shardmq-bench)",
                if messages { "deliveries" } else { "handshakes" }
            ));
        }
        let rates = r.timeline.iter().map(|s| match messages {
            true => (s.t_s, s.sent_per_s, s.delivered_per_s),
            false => (s.t_s, s.connected_per_s, s.connected_per_s),
        });
        series.push(Series {
            label,
            curve,
            rates: rates.collect(),
        });
    }
    Ok(Chart {
        title,
        messages,
        series,
    })
}

fn write(path: &Path, chart: &Chart) -> Result<(), String> {
    let fail = |e: String| format!("cannot draw {}: {e}", path.display());
    font::ensure().map_err(fail)?;
    match format_of(path)? {
        Format::Svg => draw::svg(path, chart),
        Format::Png => draw::png(path, chart),
    }
    .map_err(fail)
}
