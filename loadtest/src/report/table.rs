//! The human-readable result.

use super::{Latency, Summary};
use crate::units::{grouped, micros, plural, si};
use std::fmt::Write;

pub fn render(s: &Summary) -> String {
    let mut o = String::new();
    let _ = headline(&mut o, s);
    if let (Some(t), Some(m)) = (&s.throughput, &s.messages) {
        let _ = writeln!(
            o,
            "{:<13}in {} msg/s   out {} msg/s",
            "throughput",
            si(t.in_msgs_per_s),
            si(t.out_msgs_per_s)
        );
        let lat = s
            .latency_us
            .as_ref()
            .map_or("-".into(), |l| quantiles(l, true));
        let _ = writeln!(o, "{:<13}{lat}", "latency");
        let _ = writeln!(
            o,
            "{:<13}sent {}   delivered {}   lost {}   dup {}   out-of-order {}   unacked {}",
            "messages",
            grouped(m.sent),
            grouped(m.delivered),
            grouped(m.lost),
            grouped(m.duplicated),
            grouped(m.out_of_order),
            grouped(m.unacked)
        );
        if m.unsolicited > 0 {
            let _ = writeln!(
                o,
                "{:<13}{} PUBLISHes to clients that never subscribed",
                "unsolicited",
                grouped(m.unsolicited)
            );
        }
        if m.foreign + m.unexpected > 0 {
            let _ = writeln!(
                o,
                "{:<13}{} not from this run (other runs, other clients), {} from unexpected publishers",
                "foreign", m.foreign, m.unexpected
            );
        }
    }
    let c = &s.connections;
    let _ = writeln!(
        o,
        "{:<13}established {}/{}   failed {}   dropped {}",
        "connections",
        grouped(c.established),
        grouped(c.requested),
        grouped(c.failed),
        grouped(c.dropped)
    );
    let _ = writeln!(
        o,
        "{:<13}{:.2} s, {} conn/s",
        "connect",
        c.connect_s,
        si(c.connect_rate_per_s)
    );
    if let Some(l) = &c.connack_us {
        let _ = writeln!(o, "{:<13}{}", "CONNACK", quantiles(l, false));
    }
    if s.scenario == "conn" {
        let _ = writeln!(
            o,
            "{:<13}sent {}   answered {}",
            "pings", c.pings_sent, c.pings_answered
        );
    }
    let _ = writeln!(
        o,
        "{:<13}{:.0}% CPU of {}",
        "tool",
        s.tool_cpu_percent,
        plural(s.threads as u64, "thread")
    );
    for e in &s.errors {
        let _ = writeln!(o, "{:<13}{} x {}", "error", grouped(e.count), e.error);
    }
    for p in &s.problems {
        let _ = writeln!(o, "{:<13}{p}", "problem");
    }
    let verdict = if s.exit_code == 0 {
        "OK".to_string()
    } else {
        format!("FAILED (exit {})", s.exit_code)
    };
    let _ = writeln!(o, "{:<13}{verdict}", "result");
    o
}

fn headline(o: &mut String, s: &Summary) -> std::fmt::Result {
    if s.scenario == "conn" {
        writeln!(
            o,
            "shardmq-bench conn: {} to {} (MQTT {}), {}, held {:.2} s",
            plural(s.connections.requested, "connection"),
            s.broker,
            s.mqtt,
            plural(s.threads as u64, "thread"),
            s.after_s
        )?;
        return Ok(());
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
        "{:<13}{} (MQTT {}), {}; measured {:.2} s after {:.2} s warmup, drained {:.2} s",
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
