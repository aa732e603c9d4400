//! The human-readable result.

use super::{Latency, Messages, Summary, Throughput};
use crate::stats::held::HeldSummary;
use crate::units::{grouped, micros, plural, si};
use std::fmt::Write;

pub fn render(s: &Summary) -> String {
    let mut o = String::new();
    let _ = headline(&mut o, s);
    if let (Some(t), Some(m)) = (&s.throughput, &s.messages) {
        messages(&mut o, s, t, m);
    }
    if let Some(h) = &s.held_back {
        line(&mut o, "held back", held_back(s, h));
    }
    connections(&mut o, s);
    let threads = plural(s.threads as u64, "thread");
    line(
        &mut o,
        "tool",
        format!("{:.0}% CPU of {threads}", s.tool_cpu_percent),
    );
    for e in &s.errors {
        line(
            &mut o,
            "error",
            format!("{} x {}", grouped(e.count), e.error),
        );
    }
    for p in &s.problems {
        line(&mut o, "problem", p);
    }
    let verdict = match s.exit_code {
        0 => "OK".to_string(),
        code => format!("FAILED (exit {code})"),
    };
    line(&mut o, "result", verdict);
    o
}

/// One labelled line of the table.
fn line(o: &mut String, label: &str, text: impl std::fmt::Display) {
    let _ = writeln!(o, "{label:<13}{text}");
}

fn messages(o: &mut String, s: &Summary, t: &Throughput, m: &Messages) {
    let (rate_in, rate_out) = (si(t.in_msgs_per_s), si(t.out_msgs_per_s));
    line(
        o,
        "throughput",
        format!("in {rate_in} msg/s   out {rate_out} msg/s"),
    );
    let lat = s
        .latency_us
        .as_ref()
        .map_or("-".into(), |l| quantiles(l, true));
    line(o, "latency", lat);
    line(
        o,
        "messages",
        format!(
            "sent {}   delivered {}   lost {}   dup {}   out-of-order {}   unacked {}",
            grouped(m.sent),
            grouped(m.delivered),
            grouped(m.lost),
            grouped(m.duplicated),
            grouped(m.out_of_order),
            grouped(m.unacked)
        ),
    );
    if m.unsolicited > 0 {
        let n = grouped(m.unsolicited);
        line(
            o,
            "unsolicited",
            format!("{n} PUBLISHes to clients that never subscribed"),
        );
    }
    if m.foreign + m.unexpected > 0 {
        let (f, u) = (grouped(m.foreign), grouped(m.unexpected));
        line(
            o,
            "foreign",
            format!("{f} not from this run, {u} from unexpected publishers"),
        );
    }
}

fn connections(o: &mut String, s: &Summary) {
    let c = &s.connections;
    line(
        o,
        "connections",
        format!(
            "established {}/{}   failed {}   dropped {}",
            grouped(c.established),
            grouped(c.requested),
            grouped(c.failed),
            grouped(c.dropped)
        ),
    );
    line(
        o,
        "connect",
        format!("{:.2} s, {} conn/s", c.connect_s, si(c.connect_rate_per_s)),
    );
    if let Some(l) = &c.connack_us {
        line(o, "CONNACK", quantiles(l, false));
    }
    if s.scenario == "conn" {
        line(
            o,
            "pings",
            format!("sent {}   answered {}", c.pings_sent, c.pings_answered),
        );
    }
}

fn headline(o: &mut String, s: &Summary) -> std::fmt::Result {
    let over = if s.tls { "TLS, " } else { "" };
    if let Some((what, tail)) = match s.scenario {
        "conn" => Some(("connection", format!(", held {:.2} s", s.after_s))),
        "connect-rate" => Some(("new connection", String::new())),
        _ => None,
    } {
        return writeln!(
            o,
            "shardmq-bench {}: {} to {} ({over}MQTT {}), {}{tail}",
            s.scenario,
            plural(s.connections.requested, what),
            s.broker,
            s.mqtt,
            plural(s.threads as u64, "thread"),
        );
    }
    let who = match (s.publishers, s.subscribers) {
        (0, n) => plural(n.into(), "subscriber"),
        (n, 0) => plural(n.into(), "publisher"),
        (p, n) => format!(
            "{} -> {}",
            plural(p.into(), "publisher"),
            plural(n.into(), "subscriber")
        ),
    };
    let mut what = format!("{who}, QoS {}", s.qos);
    if let Some(p) = s.payload_bytes {
        let rate = s
            .rate_per_publisher
            .map_or("as fast as possible".into(), |r| {
                format!("{} msg/s each", si(r))
            });
        what += &format!(", {p}-byte payload, {rate}");
    }
    writeln!(o, "shardmq-bench {}: {what}", s.scenario)?;
    writeln!(
        o,
        "{:<13}{} ({over}MQTT {}), {}; measured {:.2} s after {:.2} s warmup, drained {:.2} s",
        "broker",
        s.broker,
        s.mqtt,
        plural(s.threads as u64, "thread"),
        s.duration_s,
        s.warmup_s,
        s.after_s
    )
}

fn quantiles(l: &Latency, with_p999: bool) -> String {
    let mut out = format!(
        "p50 {}   p90 {}   p99 {}",
        micros(l.p50),
        micros(l.p90),
        micros(l.p99)
    );
    if with_p999 {
        out += &format!("   p99.9 {}", micros(l.p999));
    }
    out + &format!("   max {}", micros(l.max))
}

/// "3 of 10 publishers, 1.23s in all (4.1% of their time), longest
/// 180.00ms, 12 waits >= 10 ms".
fn held_back(s: &Summary, h: &HeldSummary) -> String {
    let who = format!(
        "{} of {}",
        h.publishers,
        plural(s.publishers.into(), "publisher")
    );
    if h.stretches == 0 {
        return format!("{who} (no wait >= {} ms)", h.threshold_ms);
    }
    let secs = |v: f64| micros((v * 1e6) as u64);
    let mut out = format!("{who}, {} in all", secs(h.total_s));
    let publishing = f64::from(s.publishers) * (s.warmup_s + s.duration_s);
    if publishing > 0.0 {
        out += &format!(" ({:.1}% of their time)", 100.0 * h.total_s / publishing);
    }
    out + &format!(
        ", longest {}, {} >= {} ms",
        secs(h.longest_s),
        plural(h.stretches, "wait"),
        h.threshold_ms
    )
}
