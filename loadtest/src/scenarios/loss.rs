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
    if expect == Expect::OncePerGroup {
        return once_per_group(&sent, subs);
    }
    for s in subs {
        let got: HashMap<u32, u64> = s.pairs.iter().map(|p| (p.pub_id, p.unique)).collect();
        let expected: Vec<u32> = match expect {
            Expect::AllToAll => sent.keys().copied().collect(),
            Expect::Pairs => vec![s.index],
            Expect::OncePerGroup => unreachable!("handled above"),
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

/// A shared subscription group: each publisher's measured messages once
/// over all members. More than that (a message to two members) is counted
/// as unexpected.
fn once_per_group(sent: &HashMap<u32, u64>, subs: &[SubResult]) -> Loss {
    let mut got: HashMap<u32, u64> = HashMap::new();
    for p in subs.iter().flat_map(|s| &s.pairs) {
        *got.entry(p.pub_id).or_default() += p.unique;
    }
    let mut loss = Loss::default();
    for (p, &want) in sent {
        let g = got.get(p).copied().unwrap_or(0);
        loss.lost += want.saturating_sub(g);
        loss.unexpected += g.saturating_sub(want);
    }
    loss.unexpected += got
        .iter()
        .filter(|(p, _)| !sent.contains_key(p))
        .map(|(_, n)| n)
        .sum::<u64>();
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
            held: Default::default(),
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
    fn a_shared_group_expects_each_message_once_over_its_members() {
        let pubs = [publ(0, 100), publ(1, 50)];
        // Publisher 0: 60 + 40, complete. Publisher 1: 20 + 25, 5 lost.
        let subs = [
            sub(0, &[(0, 60, 0), (1, 20, 0)]),
            sub(1, &[(0, 40, 0), (1, 25, 0)]),
        ];
        let l = compute(Expect::OncePerGroup, &pubs, &subs);
        assert_eq!(
            l,
            Loss {
                lost: 5,
                unexpected: 0
            }
        );
        // A message to two members is more than once.
        let subs = [sub(0, &[(0, 100, 0), (1, 50, 0)]), sub(1, &[(0, 1, 0)])];
        let l = compute(Expect::OncePerGroup, &pubs, &subs);
        assert_eq!(
            l,
            Loss {
                lost: 0,
                unexpected: 1
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
