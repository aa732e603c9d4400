//! Throughput over time: once a second the coordinator reads the live
//! counters and keeps the rates since the previous sample, for the
//! throughput panel of `--plot` and the `timeline` of `--json`.

use super::Shared;
use serde::{Deserialize, Serialize};

const SECOND: u64 = 1_000_000_000;
/// A day of samples; a longer run keeps its first day (bounded memory).
const MAX_SAMPLES: usize = 86_400;

/// Rates over the second that ends at `t_s` (seconds since the run began).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub t_s: f64,
    /// PUBLISHes written per second.
    pub sent_per_s: f64,
    /// PUBLISHes received per second.
    pub delivered_per_s: f64,
    /// Handshakes completed per second.
    pub connected_per_s: f64,
}

pub struct Timeline {
    begin: u64,
    next: u64,
    /// (time, sent, delivered, connected) at the previous sample.
    last: (u64, u64, u64, u64),
    samples: Vec<Sample>,
}

impl Timeline {
    pub fn new(begin: u64) -> Timeline {
        Timeline {
            begin,
            next: begin + SECOND,
            last: (begin, 0, 0, 0),
            samples: Vec::new(),
        }
    }

    /// Called every coordinator tick; samples once a second.
    pub fn tick(&mut self, now: u64, shared: &Shared) {
        if now < self.next || self.samples.len() >= MAX_SAMPLES {
            return;
        }
        self.next += SECOND * ((now - self.next) / SECOND + 1);
        let counts = (
            now,
            shared.sum(|l| &l.sent),
            shared.sum(|l| &l.delivered),
            shared.sum(|l| &l.connected),
        );
        self.samples.push(rates(self.begin, self.last, counts));
        self.last = counts;
    }

    /// The run's last, partial second (if a tenth of a second or more).
    pub fn finish(&mut self, now: u64, shared: &Shared) {
        if now >= self.last.0 + SECOND / 10 {
            self.next = now;
            self.tick(now, shared);
        }
    }

    pub fn into_samples(self) -> Vec<Sample> {
        self.samples
    }
}

/// The rates between two readings of (time ns, sent, delivered, connected).
fn rates(begin: u64, a: (u64, u64, u64, u64), b: (u64, u64, u64, u64)) -> Sample {
    let dt = (b.0 - a.0) as f64 / 1e9;
    let per_s = |x: u64, y: u64| y.saturating_sub(x) as f64 / dt;
    Sample {
        t_s: (b.0 - begin) as f64 / 1e9,
        sent_per_s: per_s(a.1, b.1),
        delivered_per_s: per_s(a.2, b.2),
        connected_per_s: per_s(a.3, b.3),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering::Relaxed;

    #[test]
    fn one_sample_a_second_with_the_rates_in_between() {
        let shared = Shared::new(2, 0);
        let mut t = Timeline::new(0);
        t.tick(SECOND / 2, &shared);
        assert!(t.samples.is_empty(), "not before a second");
        shared.threads[0].sent.store(100, Relaxed);
        shared.threads[1].sent.store(50, Relaxed);
        shared.threads[1].delivered.store(300, Relaxed);
        t.tick(SECOND, &shared);
        shared.threads[0].sent.store(250, Relaxed);
        // A late tick: the rate is over the 2 s since the last sample.
        t.tick(3 * SECOND, &shared);
        t.tick(3 * SECOND + 1, &shared);
        t.finish(3 * SECOND + SECOND / 20, &shared);
        assert_eq!(
            t.samples.len(),
            2,
            "a twentieth of a second is not a sample"
        );
        shared.threads[1].delivered.store(400, Relaxed);
        t.finish(3 * SECOND + SECOND / 2, &shared);
        let s = t.into_samples();
        assert_eq!(s.len(), 3);
        assert_eq!((s[2].t_s, s[2].delivered_per_s), (3.5, 200.0));
        assert_eq!(
            (s[0].t_s, s[0].sent_per_s, s[0].delivered_per_s),
            (1.0, 150.0, 300.0)
        );
        assert_eq!(
            (s[1].t_s, s[1].sent_per_s, s[1].delivered_per_s),
            (3.0, 75.0, 0.0)
        );
    }
}
