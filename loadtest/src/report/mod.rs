//! The final result: one summary, printed as a table or as JSON, and the
//! exit status it implies.

mod curve;
mod table;

use crate::config::{Config, Kind};
use crate::runtime::RunResult;
use crate::scenarios::loss;
use crate::stats::held::HeldSummary;
use crate::stats::timeline::Sample;
use hdrhistogram::Histogram;
use serde::Serialize;
use shardmq_protocol::ProtocolVersion;

pub const EXIT_OK: u8 = 0;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_QOS: u8 = 3;
pub const EXIT_CONNECTIONS: u8 = 4;

/// Above this, the tool's own CPU is worth a warning.
const TOOL_BUSY_PERCENT: f64 = 90.0;
/// Below this share of the requested rate, the publishers fell behind.
const RATE_SHORTFALL: f64 = 0.99;

#[derive(Serialize, Debug)]
pub struct Summary {
    pub scenario: &'static str,
    pub broker: String,
    /// Over TLS (`--tls`).
    pub tls: bool,
    pub mqtt: &'static str,
    pub threads: usize,
    pub publishers: u32,
    pub subscribers: u32,
    pub qos: u8,
    /// Lowest QoS the broker granted a subscription.
    pub granted_qos: Option<u8>,
    pub payload_bytes: Option<usize>,
    /// Per publisher; `None` = as fast as possible.
    pub rate_per_publisher: Option<f64>,
    pub warmup_s: f64,
    /// Measured window actually run.
    pub duration_s: f64,
    /// Waited after publishing stopped (drain), or held (`conn`).
    pub after_s: f64,
    pub throughput: Option<Throughput>,
    pub latency_us: Option<Latency>,
    /// (percentile, µs) from the median to 99.999 % (`--plot`).
    pub latency_curve_us: Vec<(f64, u64)>,
    pub messages: Option<Messages>,
    /// Publishers' waits with a message ready (window or socket full),
    /// over the whole publishing time, warmup included.
    pub held_back: Option<HeldSummary>,
    pub connections: Connections,
    pub errors: Vec<ErrorCount>,
    /// CPU the tool used over its threads' wall time: near 100 means the
    /// tool, not the broker, may be the limit.
    pub tool_cpu_percent: f64,
    /// Why the exit status is not 0, one sentence each; "note:" lines
    /// are warnings that do not change it.
    pub problems: Vec<String>,
    pub exit_code: u8,
    /// Rates once a second over the whole run, connecting included.
    pub timeline: Vec<Sample>,
}

#[derive(Serialize, Debug)]
pub struct Throughput {
    pub in_msgs_per_s: f64,
    pub out_msgs_per_s: f64,
}

#[derive(Serialize, Debug)]
pub struct Latency {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub count: u64,
}

#[derive(Serialize, Debug)]
pub struct Messages {
    pub sent: u64,
    pub delivered: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    pub unacked: u64,
    pub foreign: u64,
    pub unexpected: u64,
    /// Received by clients that never subscribed (a broker bug).
    pub unsolicited: u64,
}

#[derive(Serialize, Debug)]
pub struct Connections {
    pub requested: u64,
    pub established: u64,
    pub failed: u64,
    pub dropped: u64,
    pub connect_s: f64,
    pub connect_rate_per_s: f64,
    pub connack_us: Option<Latency>,
    pub connack_curve_us: Vec<(f64, u64)>,
    pub pings_sent: u64,
    pub pings_answered: u64,
}

#[derive(Serialize, Debug)]
pub struct ErrorCount {
    pub error: String,
    pub count: u64,
}

fn latency(h: &Histogram<u64>) -> Option<Latency> {
    (!h.is_empty()).then(|| Latency {
        p50: h.value_at_quantile(0.5),
        p90: h.value_at_quantile(0.9),
        p99: h.value_at_quantile(0.99),
        p999: h.value_at_quantile(0.999),
        max: h.max(),
        count: h.len(),
    })
}

pub fn summarize(cfg: &Config, r: &RunResult) -> Summary {
    let st = &r.stats;
    let is_conn = matches!(cfg.kind, Kind::Conn | Kind::ConnectRate);
    let secs = r.measured_ns as f64 / 1e9;
    let per_s = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
    let loss = loss::compute(cfg.expect, &r.pubs, &r.subs);
    let c = &st.counts;
    let mut s = Summary {
        scenario: cfg.kind.name(),
        broker: cfg.addr.to_string(),
        tls: cfg.tls.is_some(),
        mqtt: match cfg.version {
            ProtocolVersion::V3_1 => "3.1",
            ProtocolVersion::V3_1_1 => "3.1.1",
            ProtocolVersion::V5 if cfg.topic_alias => "5 (topic aliases)",
            ProtocolVersion::V5 => "5",
        },
        threads: cfg.threads,
        publishers: cfg.publishers,
        subscribers: cfg.subscribers,
        qos: cfg.load.qos as u8,
        granted_qos: st.granted,
        payload_bytes: (cfg.publishers > 0).then_some(cfg.load.payload),
        rate_per_publisher: cfg.load.rate,
        warmup_s: cfg.load.warmup_ns as f64 / 1e9,
        duration_s: secs,
        after_s: r.after_ns as f64 / 1e9,
        throughput: (!is_conn).then(|| Throughput {
            in_msgs_per_s: per_s(c.sent),
            out_msgs_per_s: per_s(c.received),
        }),
        latency_us: latency(&st.latency),
        latency_curve_us: curve::percentile_curve(&st.latency),
        messages: (!is_conn).then_some(Messages {
            sent: c.sent,
            delivered: c.delivered,
            lost: loss.lost,
            duplicated: c.duplicated,
            out_of_order: c.out_of_order,
            unacked: c.unacked,
            foreign: c.foreign,
            unexpected: loss.unexpected,
            unsolicited: c.unsolicited,
        }),
        held_back: (!is_conn && cfg.publishers > 0)
            .then(|| HeldSummary::of(r.pubs.iter().map(|p| &p.held))),
        connections: connections(cfg, r),
        errors: st
            .errors
            .0
            .iter()
            .map(|(e, n)| ErrorCount {
                error: e.clone(),
                count: *n,
            })
            .collect(),
        tool_cpu_percent: if r.wall_ns > 0 {
            100.0 * r.cpu_ns as f64 / (r.wall_ns as f64 * cfg.threads as f64)
        } else {
            0.0
        },
        problems: Vec::new(),
        exit_code: EXIT_OK,
        timeline: r.timeline.clone(),
    };
    judge(cfg, r, &mut s);
    s
}

fn connections(cfg: &Config, r: &RunResult) -> Connections {
    let secs = r.connect_ns as f64 / 1e9;
    Connections {
        requested: cfg.handshakes(),
        established: r.connected,
        failed: r.failed,
        dropped: r.dropped,
        connect_s: secs,
        connect_rate_per_s: if secs > 0.0 {
            r.connected as f64 / secs
        } else {
            0.0
        },
        connack_us: latency(&r.stats.connack),
        connack_curve_us: curve::percentile_curve(&r.stats.connack),
        pings_sent: r.stats.counts.pings,
        pings_answered: r.stats.counts.pongs,
    }
}

/// The exit status. Connection trouble (4) outranks a broken QoS promise
/// (3): messages lost with a dropped connection say little about QoS.
fn judge(cfg: &Config, r: &RunResult, s: &mut Summary) {
    let mut conn = Vec::new();
    if let Some(why) = &r.aborted {
        conn.push(format!("run aborted: {why}"));
    }
    if r.failed > 0 {
        conn.push(format!("{} connections failed (see errors)", r.failed));
    }
    if r.dropped > 0 {
        conn.push(format!("{} connections dropped during the run", r.dropped));
    }
    if r.missing_threads > 0 {
        conn.push(format!(
            "{} executor threads did not finish",
            r.missing_threads
        ));
    }
    let qos = qos_problems(cfg, s);
    s.exit_code = if !conn.is_empty() {
        EXIT_CONNECTIONS
    } else if !qos.is_empty() {
        EXIT_QOS
    } else {
        EXIT_OK
    };
    if s.granted_qos.is_some_and(|g| g < s.qos) {
        s.problems.push(format!(
            "note: the broker granted QoS {} for QoS {} subscriptions",
            s.granted_qos.unwrap_or(0),
            s.qos
        ));
    }
    s.problems.extend(conn);
    s.problems.extend(qos);
    s.problems.extend(notes(cfg, s));
}

/// Warnings about the measurement itself.
fn notes(cfg: &Config, s: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    if s.tool_cpu_percent > TOOL_BUSY_PERCENT {
        out.push(format!(
            "note: the tool used {:.0}% of its threads' CPU; it may be the bottleneck \
             (more --threads, or fewer clients per thread)",
            s.tool_cpu_percent
        ));
    }
    let c = &s.connections;
    if cfg.kind == Kind::ConnectRate && c.established + c.failed < c.requested {
        out.push(format!(
            "note: --time-limit reached after {} of {} connections",
            c.established + c.failed,
            c.requested
        ));
    }
    let (Some(rate), Some(t)) = (cfg.load.rate, &s.throughput) else {
        return out;
    };
    let wanted = rate * f64::from(cfg.publishers);
    if s.duration_s > 0.0 && t.in_msgs_per_s < wanted * RATE_SHORTFALL {
        out.push(format!(
            "note: publishers sent {:.0} msg/s of the {:.0} requested; the tool or the \
             broker could not keep up",
            t.in_msgs_per_s, wanted
        ));
    }
    out
}

/// QoS 1: nothing lost; QoS 2: nothing lost or duplicated; both: every
/// publish acknowledged. Judged at the QoS the subscription was granted.
/// At any QoS: nothing delivered to a client that did not subscribe, or
/// to a subscriber whose filter does not match.
fn qos_problems(cfg: &Config, s: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    let Some(m) = &s.messages else {
        return out;
    };
    let effective = s.qos.min(s.granted_qos.unwrap_or(s.qos));
    if effective >= 1 && m.lost > 0 {
        out.push(format!(
            "QoS {effective}: {} messages lost after the drain",
            m.lost
        ));
    }
    if effective == 2 && m.duplicated > 0 {
        out.push(format!("QoS 2: {} messages delivered twice", m.duplicated));
    }
    if m.unexpected > 0 {
        out.push(format!(
            "{} messages delivered to subscribers whose filter does not match their topic",
            m.unexpected
        ));
    }
    if m.unsolicited > 0 {
        out.push(format!(
            "{} messages delivered to clients that never subscribed",
            m.unsolicited
        ));
    }
    if cfg.load.qos as u8 >= 1 && m.unacked > 0 {
        out.push(format!(
            "{} QoS {} publishes never acknowledged",
            m.unacked, s.qos
        ));
    }
    out
}

pub fn print(s: &Summary, json: bool) {
    if json {
        println!("{}", serde_json::to_string(s).expect("summary serializes"));
    } else {
        print!("{}", table::render(s));
    }
}

#[cfg(test)]
mod tests;
