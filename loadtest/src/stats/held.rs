//! Time a publisher spent held back: a message ready to send, but its
//! QoS 1/2 window full (waiting for acks) or its socket write not
//! progressing. The tool cannot see a broker's pause; this is what a pause
//! (or a broker slow to acknowledge) looks like from the client.
//!
//! Only stretches of at least [`THRESHOLD_NS`] count, so the ordinary wait
//! for an ack or a write does not. The clock is read by the caller when a
//! wait starts or ends (the writer already has the time then), never per
//! message.

use serde::Serialize;

/// Shortest wait that counts as held back: far above a loopback round trip
/// or a 64 KB write (tens of µs), below a broker pause worth seeing.
pub const THRESHOLD_NS: u64 = 10_000_000;

/// One publisher's held-back stretches, folded.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    /// Sum of the stretches counted.
    pub total_ns: u64,
    /// How many stretches counted.
    pub stretches: u64,
    pub longest_ns: u64,
    /// Start of the wait in progress, if any.
    since: Option<u64>,
}

impl Held {
    /// A wait starts at `at` (a no-op while one is in progress: the
    /// stretch runs from the first).
    pub fn wait(&mut self, at: u64) {
        self.since.get_or_insert(at);
    }

    pub fn is_waiting(&self) -> bool {
        self.since.is_some()
    }

    /// The publisher made progress at `at`: the wait in progress, if any,
    /// ends and counts if it was long enough.
    pub fn progress(&mut self, at: u64) {
        if let Some(since) = self.since.take() {
            self.fold(at.saturating_sub(since));
        }
    }

    fn fold(&mut self, ns: u64) {
        if ns >= THRESHOLD_NS {
            self.total_ns += ns;
            self.stretches += 1;
            self.longest_ns = self.longest_ns.max(ns);
        }
    }
}

/// Over all publishers of a run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize)]
pub struct HeldSummary {
    /// Publishers held back at least once.
    pub publishers: u32,
    pub total_s: f64,
    pub longest_s: f64,
    pub stretches: u64,
    /// Shortest wait counted.
    pub threshold_ms: u64,
}

impl HeldSummary {
    pub fn of<'a>(held: impl IntoIterator<Item = &'a Held>) -> HeldSummary {
        let mut s = HeldSummary {
            threshold_ms: THRESHOLD_NS / 1_000_000,
            ..HeldSummary::default()
        };
        let (mut total, mut longest) = (0u64, 0u64);
        for h in held {
            s.publishers += u32::from(h.stretches > 0);
            s.stretches += h.stretches;
            total += h.total_ns;
            longest = longest.max(h.longest_ns);
        }
        s.total_s = total as f64 / 1e9;
        s.longest_s = longest as f64 / 1e9;
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn short_waits_do_not_count() {
        let mut h = Held::default();
        h.wait(0);
        h.progress(THRESHOLD_NS - 1);
        h.wait(100 * MS);
        h.progress(100 * MS + 50_000);
        assert_eq!(h, Held::default());
    }

    #[test]
    fn long_waits_sum_and_keep_the_longest() {
        let mut h = Held::default();
        h.wait(0);
        h.progress(THRESHOLD_NS);
        h.wait(1_000 * MS);
        h.progress(1_250 * MS);
        assert_eq!(h.stretches, 2);
        assert_eq!(h.total_ns, THRESHOLD_NS + 250 * MS);
        assert_eq!(h.longest_ns, 250 * MS);
    }

    #[test]
    fn a_stretch_runs_from_its_first_wait() {
        let mut h = Held::default();
        h.wait(10 * MS);
        // The window was full, then the write blocked too: one stretch.
        h.wait(30 * MS);
        assert!(h.is_waiting());
        h.progress(60 * MS);
        assert!(!h.is_waiting());
        assert_eq!((h.stretches, h.total_ns), (1, 50 * MS));
        // Progress without a wait changes nothing.
        h.progress(500 * MS);
        assert_eq!((h.stretches, h.total_ns), (1, 50 * MS));
    }

    #[test]
    fn summary_counts_publishers_held_at_least_once() {
        let mut a = Held::default();
        a.wait(0);
        a.progress(40 * MS);
        a.wait(100 * MS);
        a.progress(120 * MS);
        let mut b = Held::default();
        b.wait(0);
        b.progress(1_500 * MS);
        let idle = Held::default();
        let s = HeldSummary::of([&a, &b, &idle]);
        assert_eq!(s.publishers, 2);
        assert_eq!(s.stretches, 3);
        assert!((s.total_s - 1.56).abs() < 1e-9, "{}", s.total_s);
        assert!((s.longest_s - 1.5).abs() < 1e-9);
        assert_eq!(s.threshold_ms, 10);
    }
}
