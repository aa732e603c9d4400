//! Per (publisher, subscriber) sequence accounting: duplicates, out-of-order
//! deliveries and gaps.
//!
//! In-order delivery is the fast path (one compare). Gaps below the highest
//! sequence seen are kept as ranges, so a late message can be told from a
//! duplicate: late fills part of a gap, a duplicate hits no gap.
//!
//! The wire carries only the low 32 bits of a sequence number
//! ([`crate::payload`]); [`SeqTracker::extend`] widens them back, so the
//! accounting itself is in 64 bits and a publisher may outrun 2^32.

use std::collections::VecDeque;

/// Gap ranges kept per pair; beyond this the oldest are forgotten (still
/// counted as missing) so a pathological loss pattern cannot eat memory.
const MAX_GAPS: usize = 65_536;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Higher than anything before (possibly leaving a gap).
    New,
    /// Lower than the highest seen, filling a gap: reordered, not repeated.
    OutOfOrder,
    /// This sequence number was already delivered.
    Duplicate,
}

#[derive(Debug, Default, Clone)]
pub struct SeqTracker {
    /// Lowest and highest sequence seen; `None` before the first message.
    range: Option<(u64, u64)>,
    /// Missing ranges `[lo, hi]` strictly inside `range`, sorted, disjoint.
    gaps: VecDeque<(u64, u64)>,
    /// Missing messages in gap ranges dropped because of [`MAX_GAPS`].
    forgotten: u64,
    /// Sequences at or below this may be in a forgotten gap, so a repeat
    /// there cannot be proven; it is reported as out of order.
    forgotten_below: u64,
}

impl SeqTracker {
    /// The 64-bit sequence number whose low 32 bits are `low`: the one
    /// nearest the highest seen so far (the first one is taken as is).
    /// Right unless two deliveries of one publisher are 2^31 or more apart.
    pub fn extend(&self, low: u32) -> u64 {
        let Some((_, hi)) = self.range else {
            return u64::from(low);
        };
        let delta = low.wrapping_sub(hi as u32) as i32;
        // Below 0 does not exist: then it is that far ahead instead.
        hi.checked_add_signed(i64::from(delta))
            .unwrap_or(hi + u64::from(delta as u32))
    }

    pub fn observe(&mut self, seq: u64) -> Seen {
        let Some((lo, hi)) = self.range else {
            self.range = Some((seq, seq));
            return Seen::New;
        };
        if seq == hi.wrapping_add(1) {
            self.range = Some((lo, seq));
            return Seen::New;
        }
        if seq > hi {
            self.push_gap(hi + 1, seq - 1);
            self.range = Some((lo, seq));
            return Seen::New;
        }
        if seq < lo {
            // Earlier than the first message we saw: everything between was
            // also not seen yet.
            if seq + 1 < lo {
                self.gaps.push_front((seq + 1, lo - 1));
            }
            self.range = Some((seq, hi));
            return Seen::OutOfOrder;
        }
        // Inside a forgotten gap a repeat cannot be proven: not a duplicate.
        let maybe_forgotten = self.forgotten > 0 && seq <= self.forgotten_below;
        if self.fill_gap(seq) || maybe_forgotten {
            Seen::OutOfOrder
        } else {
            Seen::Duplicate
        }
    }

    /// Sequence numbers inside the seen range that never arrived.
    pub fn missing(&self) -> u64 {
        let open: u64 = self.gaps.iter().map(|(lo, hi)| hi - lo + 1).sum();
        open + self.forgotten
    }

    fn push_gap(&mut self, lo: u64, hi: u64) {
        if self.gaps.len() == MAX_GAPS {
            let (flo, fhi) = self.gaps.pop_front().unwrap();
            self.forgotten += fhi - flo + 1;
            self.forgotten_below = self.forgotten_below.max(fhi);
        }
        self.gaps.push_back((lo, hi));
    }

    /// Remove `seq` from the gap holding it; false if no gap holds it.
    fn fill_gap(&mut self, seq: u64) -> bool {
        let i = self.gaps.partition_point(|&(_, hi)| hi < seq);
        let Some(&(lo, hi)) = self.gaps.get(i) else {
            return false;
        };
        if seq < lo {
            return false;
        }
        match (seq == lo, seq == hi) {
            (true, true) => {
                self.gaps.remove(i);
            }
            (true, false) => self.gaps[i].0 = seq + 1,
            (false, true) => self.gaps[i].1 = seq - 1,
            (false, false) => {
                self.gaps[i].1 = seq - 1;
                self.gaps.insert(i + 1, (seq + 1, hi));
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Seen::*;

    fn feed(seqs: &[u64]) -> (SeqTracker, Vec<Seen>) {
        let mut t = SeqTracker::default();
        let seen = seqs.iter().map(|&s| t.observe(s)).collect();
        (t, seen)
    }

    #[test]
    fn in_order_is_all_new() {
        let (t, seen) = feed(&[0, 1, 2, 3]);
        assert!(seen.iter().all(|s| *s == New));
        assert_eq!(t.missing(), 0);
    }

    #[test]
    fn gap_is_missing_until_filled() {
        let (mut t, seen) = feed(&[0, 1, 5]);
        assert_eq!(seen, vec![New, New, New]);
        assert_eq!(t.missing(), 3);
        assert_eq!(t.observe(3), OutOfOrder);
        assert_eq!(t.missing(), 2);
        assert_eq!(t.observe(2), OutOfOrder);
        assert_eq!(t.observe(4), OutOfOrder);
        assert_eq!(t.missing(), 0);
    }

    #[test]
    fn repeats_are_duplicates() {
        let (_, seen) = feed(&[0, 1, 1, 2, 0, 5, 3, 3, 5]);
        assert_eq!(
            seen,
            vec![New, New, Duplicate, New, Duplicate, New, OutOfOrder, Duplicate, Duplicate]
        );
    }

    #[test]
    fn earlier_than_first_seen_opens_a_gap() {
        let (mut t, seen) = feed(&[10, 11, 7]);
        assert_eq!(seen, vec![New, New, OutOfOrder]);
        assert_eq!(t.missing(), 2); // 8 and 9
        assert_eq!(t.observe(9), OutOfOrder);
        assert_eq!(t.observe(7), Duplicate);
        assert_eq!(t.missing(), 1);
    }

    #[test]
    fn gap_ends_and_middle() {
        let mut t = SeqTracker::default();
        t.observe(0);
        t.observe(10); // gap 1..=9
        assert_eq!(t.observe(1), OutOfOrder);
        assert_eq!(t.observe(9), OutOfOrder);
        assert_eq!(t.observe(5), OutOfOrder);
        assert_eq!(t.missing(), 6); // 2..=4 and 6..=8
        assert_eq!(t.gaps, VecDeque::from(vec![(2, 4), (6, 8)]));
        assert_eq!(t.observe(5), Duplicate);
    }

    #[test]
    fn extend_follows_the_32_bit_wrap() {
        let mut t = SeqTracker::default();
        let start = u64::from(u32::MAX) - 2;
        for s in start..start + 6 {
            let wide = t.extend(s as u32);
            assert_eq!(wide, s);
            assert_eq!(t.observe(wide), New);
        }
        // Late and repeated messages from before the wrap stay there.
        assert_eq!(t.extend(u32::MAX), u64::from(u32::MAX));
        assert_eq!(t.observe(t.extend(u32::MAX)), Duplicate);
        // A gap across the wrap, filled late.
        let hi = start + 5;
        assert_eq!(t.observe(t.extend((hi + 10) as u32)), New);
        assert_eq!(t.missing(), 9);
        assert_eq!(t.observe(t.extend((hi + 3) as u32)), OutOfOrder);
        assert_eq!(t.missing(), 8);
    }

    #[test]
    fn extend_never_goes_below_zero() {
        let mut t = SeqTracker::default();
        assert_eq!(t.extend(5), 5);
        t.observe(5);
        assert_eq!(t.extend(2), 2);
        // Taken as behind by 7 it would be negative: it is ahead instead.
        assert_eq!(t.extend(u32::MAX - 1), u64::from(u32::MAX - 1));
        // Far past the first wrap, the same low bits mean the nearest.
        let mut t = SeqTracker::default();
        t.observe(5 << 32);
        assert_eq!(t.extend(u32::MAX), (5 << 32) - 1);
        assert_eq!(t.extend(1), (5 << 32) + 1);
    }

    #[test]
    fn forgotten_gaps_still_count_as_missing() {
        let mut t = SeqTracker::default();
        // Every other message lost: one gap per message.
        for i in 0..(MAX_GAPS as u64 + 10) {
            t.observe(i * 2);
        }
        assert_eq!(t.gaps.len(), MAX_GAPS);
        assert_eq!(t.missing(), MAX_GAPS as u64 + 9);
        // A late message inside a forgotten gap is not called a duplicate.
        assert_eq!(t.observe(1), OutOfOrder);
    }
}
