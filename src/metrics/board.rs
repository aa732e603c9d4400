//! Where shards post their numbers once a second, for the `/metrics` thread
//! and `$SYS`. One short lock per shard per second: nothing here is on the
//! message path, and a slow scraper never reaches a shard.

use super::{ListenerSnapshot, MetricsSnapshot, ReasonSnapshot, ShardHistograms};
use std::sync::Mutex;
use std::time::Instant;

/// One shard's numbers at one moment.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub counters: MetricsSnapshot,
    pub hist: ShardHistograms,
    /// CONNACK and DISCONNECT counts by reason code.
    pub reasons: ReasonSnapshot,
    /// Shared subscription deliveries by group name (bounded per shard;
    /// see `router::shared::COUNTED_GROUPS`).
    pub shared_groups: Vec<(String, u64)>,
    /// Per listener, in configuration order.
    pub listeners: Vec<ListenerSnapshot>,
}

/// Group names kept when merging shards; the rest add up in `_other`.
const MERGED_GROUPS: usize = crate::router::shared::COUNTED_GROUPS;

fn merge_groups(into: &mut Vec<(String, u64)>, from: &[(String, u64)]) {
    for (name, n) in from {
        let i = match into.iter().position(|(g, _)| g == name) {
            Some(i) => i,
            None if into.len() < MERGED_GROUPS || name == "_other" => {
                into.push((name.clone(), 0));
                into.len() - 1
            }
            None => match into.iter().position(|(g, _)| g == "_other") {
                Some(i) => i,
                None => {
                    into.push(("_other".into(), 0));
                    into.len() - 1
                }
            },
        };
        into[i].1 += n;
    }
}

/// The latest report of every shard.
pub struct Board {
    pub started: Instant,
    /// The `listener` label of each listener, in configuration order.
    pub listener_labels: Vec<String>,
    slots: Mutex<Vec<Option<Report>>>,
}

/// Every shard's report merged.
#[derive(Clone, Debug, Default)]
pub struct Merged {
    pub total: Report,
    /// Per shard (None until a shard first reports).
    pub shards: Vec<Option<MetricsSnapshot>>,
    /// The `listener` label of each of `total.listeners`.
    pub listener_labels: Vec<String>,
}

impl Board {
    pub fn new(shards: usize) -> Board {
        Board::with_listeners(shards, Vec::new())
    }

    pub fn with_listeners(shards: usize, listener_labels: Vec<String>) -> Board {
        Board {
            started: Instant::now(),
            listener_labels,
            slots: Mutex::new(vec![None; shards]),
        }
    }

    pub fn post(&self, shard: usize, report: Report) {
        self.slots.lock().unwrap()[shard] = Some(report);
    }

    pub fn merged(&self) -> Merged {
        let slots = self.slots.lock().unwrap().clone();
        let mut m = Merged {
            listener_labels: self.listener_labels.clone(),
            ..Merged::default()
        };
        for r in &slots {
            if let Some(r) = r {
                m.total.counters.merge(&r.counters);
                m.total.hist.merge(&r.hist);
                m.total.reasons.merge(&r.reasons);
                merge_groups(&mut m.total.shared_groups, &r.shared_groups);
                super::listeners::merge_all(&mut m.total.listeners, &r.listeners);
            }
            m.shards.push(r.as_ref().map(|r| r.counters.clone()));
        }
        m
    }
}
