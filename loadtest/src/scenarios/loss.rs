//! Loss: measured messages a subscriber should have received and did not.
//!
//! With the publishers in the same run the expected set is exact: every
//! measured message of every publisher the subscriber is expected to hear,
//! including ones after its last delivery (a gap at the tail is invisible
//! to sequence numbers alone). Without them (`sub`), only gaps between
//! sequence numbers seen can be counted.

use crate::client::{PubResult, SubResult};
use crate::config::Expect;
use std::collections::HashMap;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Loss {
    pub lost: u64,
    /// Measured messages from publishers this run did not expect (another
    /// run on the same topics); not part of the loss.
    pub unexpected: u64,
}

pub fn compute(expect: Expect, pubs: &[PubResult], subs: &[SubResult]) -> Loss {
    let sent: HashMap<u32, u64> = pubs.iter().map(|p| (p.pub_id, p.win_sent)).collect();
    let mut loss = Loss::default();
    for s in subs {
        let got: HashMap<u32, u64> = s.pairs.iter().map(|p| (p.pub_id, p.unique)).collect();
        let expected: Vec<u32> = match expect {
            Expect::AllToAll => sent.keys().copied().collect(),
            Expect::Pairs => vec![s.index],
            Expect::Unknown => {
                loss.lost += s.pairs.iter().map(|p| p.missing).sum::<u64>();
                continue;
            }
        };
        for p in &expected {
            let want = sent.get(p).copied().unwrap_or(0);
            loss.lost += want.saturating_sub(got.get(p).copied().unwrap_or(0));
        }
        loss.unexpected += s
            .pairs
            .iter()
            .filter(|p| !expected.contains(&p.pub_id))
            .map(|p| p.unique)
            .sum::<u64>();
    }
    loss
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::PairResult;

    fn publ(pub_id: u32, win_sent: u64) -> PubResult {
        PubResult {
            pub_id,
            win_sent,
            unacked: 0,
        }
    }

    fn sub(index: u32, pairs: &[(u32, u64, u64)]) -> SubResult {
        SubResult {
            index,
            pairs: pairs
                .iter()
                .map(|&(pub_id, unique, missing)| PairResult {
                    pub_id,
                    unique,
                    missing,
                })
                .collect(),
        }
    }

    #[test]
    fn all_to_all_counts_silent_publishers_and_tails() {
        let pubs = [publ(0, 100), publ(1, 50)];
        // Sub 0 got everything; sub 1 nothing from publisher 1 and the
        // last 10 of publisher 0 (no gap visible in its sequence numbers).
        let subs = [sub(0, &[(0, 100, 0), (1, 50, 0)]), sub(1, &[(0, 90, 0)])];
        assert_eq!(
            compute(Expect::AllToAll, &pubs, &subs),
            Loss {
                lost: 60,
                unexpected: 0
            }
        );
    }

    #[test]
    fn pairs_only_count_their_own_publisher() {
        let pubs = [publ(0, 10), publ(1, 10)];
        let subs = [sub(0, &[(0, 10, 0)]), sub(1, &[(1, 7, 0), (0, 3, 0)])];
        assert_eq!(
            compute(Expect::Pairs, &pubs, &subs),
            Loss {
                lost: 3,
                unexpected: 3
            }
        );
    }

    #[test]
    fn unknown_publishers_fall_back_to_gaps() {
        let subs = [sub(0, &[(5, 10, 2), (6, 10, 1)])];
        assert_eq!(compute(Expect::Unknown, &[], &subs).lost, 3);
    }

    #[test]
    fn duplicates_never_hide_loss() {
        // `unique` excludes duplicates, so 5 dups cannot cover 5 losses.
        let pubs = [publ(0, 10)];
        let subs = [sub(0, &[(0, 5, 5)])];
        assert_eq!(compute(Expect::AllToAll, &pubs, &subs).lost, 5);
    }
}
