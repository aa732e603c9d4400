//! What is counted where.
//!
//! Each executor thread owns a [`ThreadStats`] (plain fields, no atomics on
//! the hot path except the [`Live`] counters the progress line reads) and
//! hands it back at the end; the coordinator merges them. Latency is in
//! microseconds, HDR with 3 significant digits.

pub mod held;
pub mod seq;
pub mod timeline;

use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

/// Longest latency a histogram holds (one hour); longer values saturate.
const MAX_LATENCY_US: u64 = 3_600_000_000;
/// Distinct error messages kept per thread; the rest are lumped together.
const MAX_ERROR_KINDS: usize = 32;

pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_max(MAX_LATENCY_US, 3).expect("static histogram bounds")
}

/// Counters one executor publishes for the coordinator while it runs: the
/// progress line, the connect barrier and the early end of the drain.
/// Padded so two threads' counters never share a cache line.
#[repr(align(128))]
pub struct Live {
    /// PUBLISHes written / received, all phases.
    pub sent: AtomicU64,
    pub delivered: AtomicU64,
    /// Messages of the measured window written, and delivered for the first
    /// time to a subscriber.
    pub win_sent: AtomicU64,
    pub win_unique: AtomicU64,
    /// QoS 1/2 messages not acknowledged yet.
    pub inflight: AtomicU64,
    /// Handshakes done / failed; connections lost after the handshake.
    pub connected: AtomicU64,
    pub failed: AtomicU64,
    pub dropped: AtomicU64,
    /// Publishers still publishing.
    pub publishing: AtomicU64,
    /// Latency since the coordinator last looked, flushed in by the thread
    /// a few times a second (never per message: the lock stays cold).
    pub interval: Mutex<Histogram<u64>>,
}

impl Default for Live {
    fn default() -> Live {
        Live {
            sent: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            win_sent: AtomicU64::new(0),
            win_unique: AtomicU64::new(0),
            inflight: AtomicU64::new(0),
            connected: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            publishing: AtomicU64::new(0),
            interval: Mutex::new(histogram()),
        }
    }
}

/// Everything the coordinator and the executors share.
pub struct Shared {
    pub threads: Vec<Live>,
    /// When publishers start (CLOCK_MONOTONIC ns); 0 until every client of
    /// every thread finished its handshake.
    pub start_ns: AtomicU64,
    /// Close everything now (end of drain or hold, abort, deadline).
    pub end: AtomicBool,
    /// `connect-rate`: connection numbers handed out (some past the end),
    /// claims given back unused, and when to stop opening new ones.
    pub claimed: AtomicU64,
    pub abandoned: AtomicU64,
    pub stop_opening_ns: u64,
}

impl Shared {
    pub fn new(threads: usize, stop_opening_ns: u64) -> Shared {
        Shared {
            threads: (0..threads).map(|_| Live::default()).collect(),
            start_ns: AtomicU64::new(0),
            end: AtomicBool::new(false),
            claimed: AtomicU64::new(0),
            abandoned: AtomicU64::new(0),
            stop_opening_ns,
        }
    }

    /// Sum one counter over all threads.
    pub fn sum(&self, f: impl Fn(&Live) -> &AtomicU64) -> u64 {
        self.threads.iter().map(|l| f(l).load(Relaxed)).sum()
    }
}

/// Message counts of the measured window (by send timestamp).
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub sent: u64,
    /// Every delivery of a measured message, duplicates included.
    pub delivered: u64,
    /// Deliveries that arrived during the measured window (throughput).
    pub received: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    /// Deliveries without our header or from another run (a broker still
    /// delivering the previous run's backlog, retained or other messages).
    pub foreign: u64,
    /// QoS 1/2 publishes never acknowledged.
    pub unacked: u64,
    /// PUBLISHes received on connections that never subscribed.
    pub unsolicited: u64,
    pub pings: u64,
    pub pongs: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.sent += o.sent;
        self.delivered += o.delivered;
        self.received += o.received;
        self.duplicated += o.duplicated;
        self.out_of_order += o.out_of_order;
        self.foreign += o.foreign;
        self.unacked += o.unacked;
        self.unsolicited += o.unsolicited;
        self.pings += o.pings;
        self.pongs += o.pongs;
    }
}

/// One thread's results, merged by the coordinator at the end.
pub struct ThreadStats {
    /// End-to-end latency of measured messages.
    pub latency: Histogram<u64>,
    /// Latency since the last flush into [`Live::interval`].
    pub interval: Histogram<u64>,
    /// TCP connect + CONNECT until CONNACK.
    pub connack: Histogram<u64>,
    pub counts: Counts,
    pub errors: ErrorTally,
    /// Lowest QoS a SUBACK granted (None: no subscriber).
    pub granted: Option<u8>,
    /// When the last handshake of this thread finished (ns).
    pub last_connack_ns: u64,
}

impl Default for ThreadStats {
    fn default() -> ThreadStats {
        ThreadStats {
            latency: histogram(),
            interval: histogram(),
            connack: histogram(),
            counts: Counts::default(),
            errors: ErrorTally::default(),
            granted: None,
            last_connack_ns: 0,
        }
    }
}

impl ThreadStats {
    pub fn merge(&mut self, o: &ThreadStats) {
        // Same bounds on both sides, so `add` cannot fail.
        self.latency.add(&o.latency).expect("histogram bounds");
        self.connack.add(&o.connack).expect("histogram bounds");
        self.counts.add(&o.counts);
        self.errors.merge(&o.errors);
        self.granted = match (self.granted, o.granted) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_connack_ns = self.last_connack_ns.max(o.last_connack_ns);
    }

    /// Move the interval histogram to the coordinator's side.
    pub fn flush_interval(&mut self, live: &Live) {
        if self.interval.is_empty() {
            return;
        }
        if let Ok(mut h) = live.interval.lock() {
            h.add(&self.interval).expect("histogram bounds");
        }
        self.interval.reset();
    }
}

/// Error messages and how often each happened.
#[derive(Debug, Default, Clone)]
pub struct ErrorTally(pub BTreeMap<String, u64>);

impl ErrorTally {
    pub fn add(&mut self, what: String) {
        let key = if self.0.len() >= MAX_ERROR_KINDS && !self.0.contains_key(&what) {
            "other errors".to_string()
        } else {
            what
        };
        *self.0.entry(key).or_default() += 1;
    }

    pub fn merge(&mut self, o: &ErrorTally) {
        for (k, n) in &o.0 {
            *self.0.entry(k.clone()).or_default() += n;
        }
    }

    #[cfg(test)]
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_and_keeps_lowest_grant() {
        let mut a = ThreadStats::default();
        a.latency.record(100).unwrap();
        a.counts.sent = 5;
        a.granted = Some(2);
        let mut b = ThreadStats::default();
        b.latency.record(300).unwrap();
        b.counts.sent = 7;
        b.granted = Some(1);
        b.errors.add("x".into());
        a.merge(&b);
        assert_eq!(a.latency.len(), 2);
        assert_eq!(a.counts.sent, 12);
        assert_eq!(a.granted, Some(1));
        assert_eq!(a.errors.total(), 1);
    }

    #[test]
    fn error_tally_is_bounded() {
        let mut t = ErrorTally::default();
        for i in 0..100 {
            t.add(format!("e{i}"));
        }
        assert_eq!(t.0.len(), MAX_ERROR_KINDS + 1);
        assert_eq!(t.total(), 100);
    }

    #[test]
    fn latency_beyond_an_hour_saturates() {
        let mut h = histogram();
        h.saturating_record(u64::MAX);
        assert!(h.max() >= MAX_LATENCY_US);
    }
}
