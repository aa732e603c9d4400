//! Who waits for which LSN to settle, and which LSNs were lost.
//!
//! Waiters arrive in LSN order almost always (each waits for what was
//! just appended), so a deque sorted by LSN makes both the insert and the
//! release of everything up to the settled LSN cheap.

use super::Lost;
use std::collections::VecDeque;
use std::task::Waker;

pub(super) type Callback = Box<dyn FnOnce(Result<(), Lost>)>;

/// Lost ranges kept: one per failure; a waiter asks about what it just
/// appended, never about a range many failures old.
const LOST_KEPT: usize = 64;

#[derive(Default)]
pub(super) struct Waiters {
    wakers: VecDeque<(u64, Waker)>,
    calls: VecDeque<(u64, Callback)>,
    /// (F, R]: records in it were discarded or their write failed. R is
    /// u64::MAX while the log is still unhealthy.
    lost: VecDeque<(u64, u64)>,
}

/// What to wake or call, outside the borrow of [`Waiters`] (a callback may
/// register another one).
#[derive(Default)]
pub(super) struct Due {
    pub wakers: Vec<Waker>,
    pub calls: Vec<Callback>,
}

impl Due {
    pub fn run(self, res: Result<(), Lost>) {
        self.wakers.into_iter().for_each(Waker::wake);
        self.calls.into_iter().for_each(|f| f(res));
    }
}

impl Waiters {
    pub fn is_lost(&self, lsn: u64) -> bool {
        self.lost.iter().any(|&(f, r)| f < lsn && lsn <= r)
    }

    pub fn add_waker(&mut self, lsn: u64, w: Waker) {
        insert_sorted(&mut self.wakers, lsn, w);
    }

    pub fn add_call(&mut self, lsn: u64, f: Callback) {
        insert_sorted(&mut self.calls, lsn, f);
    }

    /// Everything waiting for at most `settled`.
    pub fn due(&mut self, settled: u64) -> Due {
        Due {
            wakers: pop_upto(&mut self.wakers, settled),
            calls: pop_upto(&mut self.calls, settled),
        }
    }

    /// A failure: everything after `settled` is lost until [`Waiters::regained`];
    /// returns every waiter (all wait for more than `settled`).
    pub fn lose_after(&mut self, settled: u64) -> Due {
        if self.lost.len() == LOST_KEPT {
            self.lost.pop_front();
        }
        self.lost.push_back((settled, u64::MAX));
        Due {
            wakers: self.wakers.drain(..).map(|(_, w)| w).collect(),
            calls: self.calls.drain(..).map(|(_, f)| f).collect(),
        }
    }

    /// The log accepts records again from after `lsn`.
    pub fn regained(&mut self, lsn: u64) {
        if let Some(last) = self.lost.back_mut() {
            if last.1 == u64::MAX {
                last.1 = lsn;
            }
        }
    }

    pub fn len(&self) -> usize {
        self.wakers.len() + self.calls.len()
    }
}

fn insert_sorted<T>(q: &mut VecDeque<(u64, T)>, lsn: u64, item: T) {
    match q.back() {
        Some(&(last, _)) if last > lsn => {
            let at = q.partition_point(|&(l, _)| l <= lsn);
            q.insert(at, (lsn, item));
        }
        _ => q.push_back((lsn, item)),
    }
}

fn pop_upto<T>(q: &mut VecDeque<(u64, T)>, settled: u64) -> Vec<T> {
    let n = q.partition_point(|&(l, _)| l <= settled);
    q.drain(..n).map(|(_, t)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    #[test]
    fn calls_run_in_lsn_order_up_to_settled() {
        let mut w = Waiters::default();
        let seen = Rc::new(RefCell::new(Vec::new()));
        for lsn in [10, 30, 20] {
            let seen = seen.clone();
            w.add_call(lsn, Box::new(move |r| seen.borrow_mut().push((lsn, r))));
        }
        w.due(25).run(Ok(()));
        assert_eq!(*seen.borrow(), vec![(10, Ok(())), (20, Ok(()))]);
        assert_eq!(w.len(), 1);
        w.lose_after(25).run(Err(Lost));
        assert_eq!(seen.borrow()[2], (30, Err(Lost)));
    }

    #[test]
    fn lost_ranges() {
        let mut w = Waiters::default();
        w.lose_after(100);
        assert!(!w.is_lost(100) && w.is_lost(101) && w.is_lost(u64::MAX));
        w.regained(200);
        assert!(w.is_lost(200) && !w.is_lost(201));
    }
}
