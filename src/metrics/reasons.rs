//! Counters by MQTT 5 reason code: CONNACKs sent, DISCONNECTs sent and
//! received. One array of plain `Cell`s per packet kind, indexed by the
//! code's place in `ReasonCode::ALL`; counted once per connection, never
//! per message.

use crate::protocol::ReasonCode;
use std::cell::Cell;

const N: usize = ReasonCode::ALL.len();

/// Which packet a reason code was counted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonKind {
    ConnAck,
    DisconnectSent,
    DisconnectReceived,
}

impl ReasonKind {
    const ALL: [ReasonKind; 3] = [
        ReasonKind::ConnAck,
        ReasonKind::DisconnectSent,
        ReasonKind::DisconnectReceived,
    ];
}

/// One shard's counts.
#[derive(Debug)]
pub struct ReasonCounters([[Cell<u64>; N]; 3]);

impl Default for ReasonCounters {
    fn default() -> Self {
        ReasonCounters(std::array::from_fn(|_| {
            std::array::from_fn(|_| Cell::new(0))
        }))
    }
}

impl ReasonCounters {
    pub fn inc(&self, kind: ReasonKind, code: ReasonCode) {
        let c = &self.0[kind as usize][index(code)];
        c.set(c.get() + 1);
    }

    pub fn snapshot(&self) -> ReasonSnapshot {
        ReasonSnapshot(self.0.each_ref().map(|k| k.each_ref().map(Cell::get)))
    }
}

/// A sendable copy of [`ReasonCounters`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonSnapshot([[u64; N]; 3]);

impl Default for ReasonSnapshot {
    fn default() -> Self {
        ReasonSnapshot([[0; N]; 3])
    }
}

impl ReasonSnapshot {
    pub fn merge(&mut self, o: &ReasonSnapshot) {
        for (a, b) in self.0.iter_mut().flatten().zip(o.0.iter().flatten()) {
            *a += b;
        }
    }

    pub fn get(&self, kind: ReasonKind, code: ReasonCode) -> u64 {
        self.0[kind as usize][index(code)]
    }

    /// Every non-zero count: (kind, code, count).
    pub fn nonzero(&self) -> impl Iterator<Item = (ReasonKind, ReasonCode, u64)> + '_ {
        ReasonKind::ALL.into_iter().flat_map(move |k| {
            let codes = ReasonCode::ALL.into_iter().enumerate();
            codes.filter_map(move |(i, c)| {
                let n = self.0[k as usize][i];
                (n > 0).then_some((k, c, n))
            })
        })
    }
}

fn index(code: ReasonCode) -> usize {
    ReasonCode::ALL
        .binary_search(&code)
        .expect("ALL lists every code")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_kind_and_code_and_merges() {
        let c = ReasonCounters::default();
        c.inc(ReasonKind::ConnAck, ReasonCode::Success);
        c.inc(ReasonKind::DisconnectSent, ReasonCode::SessionTakenOver);
        c.inc(ReasonKind::DisconnectSent, ReasonCode::SessionTakenOver);
        let mut total = c.snapshot();
        total.merge(&c.snapshot());
        assert_eq!(
            total.get(ReasonKind::DisconnectSent, ReasonCode::SessionTakenOver),
            4
        );
        assert_eq!(
            total.get(ReasonKind::DisconnectReceived, ReasonCode::Success),
            0
        );
        assert_eq!(total.nonzero().count(), 2);
    }
}
