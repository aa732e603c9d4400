//! Per-shard latency histograms (HDR, microseconds, 3 significant digits),
//! merged over shards at scrape time.

use hdrhistogram::Histogram;
use std::time::Duration;

/// Highest latency tracked: one hour, in µs (larger values are clamped).
const MAX_US: u64 = 3_600_000_000;

/// One latency distribution plus the exact sum of what was recorded.
#[derive(Clone, Debug)]
pub struct Latency {
    pub hdr: Histogram<u64>,
    pub sum_us: u64,
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            hdr: Histogram::new_with_bounds(1, MAX_US, 3).expect("static bounds are valid"),
            sum_us: 0,
        }
    }
}

impl Latency {
    pub fn record(&mut self, d: Duration) {
        self.record_n(d, 1);
    }

    /// Record `n` events of the same latency.
    pub fn record_n(&mut self, d: Duration, n: u64) {
        self.record_value_n(d.as_micros() as u64, n);
    }

    /// Record `n` events of value `v` (µs, or a count for the histograms
    /// that are not latencies).
    pub fn record_value_n(&mut self, v: u64, n: u64) {
        let v = v.clamp(1, MAX_US);
        self.hdr.saturating_record_n(v, n);
        self.sum_us += v * n;
    }

    pub fn merge(&mut self, other: &Latency) {
        // Same bounds everywhere, so adding cannot fail.
        let _ = self.hdr.add(&other.hdr);
        self.sum_us += other.sum_us;
    }

    pub fn count(&self) -> u64 {
        self.hdr.len()
    }
}

macro_rules! histograms {
    ($(#[$doc:meta] $name:ident,)*) => {
        /// The latency histograms of one shard.
        #[derive(Clone, Debug, Default)]
        pub struct ShardHistograms { $(#[$doc] pub $name: Latency,)* }

        impl ShardHistograms {
            pub fn merge(&mut self, o: &ShardHistograms) { $(self.$name.merge(&o.$name);)* }
            /// (name, help, histogram) triples, for rendering.
            pub fn all(&self) -> Vec<(&'static str, &'static str, &Latency)> {
                vec![$((stringify!($name), stringify!($doc), &self.$name),)*]
            }
        }
    };
}

histograms! {
    /// Decode of a PUBLISH to the socket write of each delivery.
    publish_to_delivery,
    /// Accept of a socket to its CONNACK.
    connect_handshake,
    /// Decode of a PUBLISH on one shard to its arrival on another.
    cross_shard_hop,
    /// A publisher's pause: held back until the sessions it fills drained.
    publisher_pause,
    /// One fdatasync of the durable log.
    log_fsync,
    /// Reading and replaying the data directory at start (one observation).
    recovery,
    /// Records per group commit of the durable log (a count, not a time).
    log_group_commit,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_merges_and_clamps() {
        let mut a = ShardHistograms::default();
        a.publish_to_delivery.record(Duration::from_micros(100));
        a.publish_to_delivery.record(Duration::from_nanos(10)); // clamped to 1 µs
        let mut b = ShardHistograms::default();
        b.publish_to_delivery.record(Duration::from_secs(7200)); // clamped to 1 h
        a.merge(&b);
        let l = &a.publish_to_delivery;
        assert_eq!(l.count(), 3);
        assert_eq!(l.sum_us, 100 + 1 + MAX_US);
        assert_eq!(l.hdr.value_at_quantile(0.5), 100);
        let mut c = Latency::default();
        c.record_n(Duration::from_micros(40), 3);
        c.record(Duration::from_micros(40));
        assert_eq!(c.count(), 4);
        assert_eq!(c.sum_us, 160);
        assert_eq!(c.hdr.count_at(40), 4);
        assert!(a
            .all()
            .iter()
            .any(|(n, h, _)| *n == "cross_shard_hop" && h.contains("another")));
    }
}
