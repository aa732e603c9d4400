//! Where shards post their numbers once a second, for the `/metrics` thread
//! and `$SYS`. One short lock per shard per second: nothing here is on the
//! message path, and a slow scraper never reaches a shard.

use super::{MetricsSnapshot, ReasonSnapshot, ShardHistograms};
use std::sync::Mutex;
use std::time::Instant;

/// One shard's numbers at one moment.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub counters: MetricsSnapshot,
    pub hist: ShardHistograms,
    /// CONNACK and DISCONNECT counts by reason code.
    pub reasons: ReasonSnapshot,
}

/// The latest report of every shard.
pub struct Board {
    pub started: Instant,
    slots: Mutex<Vec<Option<Report>>>,
}

/// Every shard's report merged.
#[derive(Clone, Debug, Default)]
pub struct Merged {
    pub total: Report,
    /// Per shard (None until a shard first reports).
    pub shards: Vec<Option<MetricsSnapshot>>,
}

impl Board {
    pub fn new(shards: usize) -> Board {
        Board {
            started: Instant::now(),
            slots: Mutex::new(vec![None; shards]),
        }
    }

    pub fn post(&self, shard: usize, report: Report) {
        self.slots.lock().unwrap()[shard] = Some(report);
    }

    pub fn merged(&self) -> Merged {
        let slots = self.slots.lock().unwrap().clone();
        let mut m = Merged::default();
        for r in &slots {
            if let Some(r) = r {
                m.total.counters.merge(&r.counters);
                m.total.hist.merge(&r.hist);
                m.total.reasons.merge(&r.reasons);
            }
            m.shards.push(r.as_ref().map(|r| r.counters.clone()));
        }
        m
    }
}
