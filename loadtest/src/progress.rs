//! The once-a-second line on stderr: a live line rewritten in place on a
//! terminal, one plain line per second otherwise (logs, CI).

use crate::config::{Config, Kind};
use crate::stats::{histogram, Shared};
use crate::units::{micros, si};
use std::io::{IsTerminal, Write};
use std::sync::atomic::Ordering::Relaxed;

const SECOND: u64 = 1_000_000_000;

pub struct Progress {
    on: bool,
    tty: bool,
    printed: bool,
    begin: u64,
    next: u64,
    last_ns: u64,
    last_sent: u64,
    last_delivered: u64,
    last_connected: u64,
}

impl Progress {
    pub fn new(cfg: &Config, begin: u64) -> Progress {
        Progress {
            on: !cfg.quiet,
            tty: std::io::stderr().is_terminal(),
            printed: false,
            begin,
            next: begin + SECOND,
            last_ns: begin,
            last_sent: 0,
            last_delivered: 0,
            last_connected: 0,
        }
    }

    pub fn tick(&mut self, now: u64, label: &str, cfg: &Config, shared: &Shared) {
        if !self.on || now < self.next {
            return;
        }
        self.next += SECOND * ((now - self.next) / SECOND + 1);
        let dt = (now - self.last_ns) as f64 / 1e9;
        let elapsed = (now - self.begin) as f64 / 1e9;
        let connected = shared.sum(|l| &l.connected);
        let line = if matches!(cfg.kind, Kind::Conn | Kind::ConnectRate) || label == "connect" {
            format!(
                "{elapsed:6.1}s {label:<7} conns {connected}/{} (+{}/s)  failed {}  dropped {}",
                cfg.handshakes(),
                si((connected - self.last_connected) as f64 / dt),
                shared.sum(|l| &l.failed),
                shared.sum(|l| &l.dropped),
            )
        } else {
            self.messages_line(elapsed, label, dt, shared)
        };
        self.last_ns = now;
        self.last_connected = connected;
        self.printed = true;
        let mut err = std::io::stderr().lock();
        let _ = if self.tty {
            write!(err, "\r{line}\x1b[K")
        } else {
            writeln!(err, "{line}")
        };
        let _ = err.flush();
    }

    fn messages_line(&mut self, elapsed: f64, label: &str, dt: f64, shared: &Shared) -> String {
        let sent = shared.sum(|l| &l.sent);
        let delivered = shared.sum(|l| &l.delivered);
        let mut h = histogram();
        for l in &shared.threads {
            if let Ok(mut lh) = l.interval.lock() {
                h.add(&*lh).expect("histogram bounds");
                lh.reset();
            }
        }
        let lat = if h.is_empty() {
            "p50 -  p99 -".to_string()
        } else {
            format!(
                "p50 {}  p99 {}",
                micros(h.value_at_quantile(0.5)),
                micros(h.value_at_quantile(0.99))
            )
        };
        let line = format!(
            "{elapsed:6.1}s {label:<7} sent {}/s  delivered {}/s  {lat}  inflight {}",
            si((sent - self.last_sent) as f64 / dt),
            si((delivered - self.last_delivered) as f64 / dt),
            shared
                .threads
                .iter()
                .map(|l| l.inflight.load(Relaxed))
                .sum::<u64>(),
        );
        self.last_sent = sent;
        self.last_delivered = delivered;
        line
    }

    /// End the live line so the report starts on its own line.
    pub fn finish(&self) {
        if self.on && self.tty && self.printed {
            eprintln!();
        }
    }
}
