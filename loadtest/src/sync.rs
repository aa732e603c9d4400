//! Single-thread wake-up primitives for the tasks of one executor.
//!
//! glommio tasks of one executor never run concurrently, so `Cell` and
//! `RefCell` suffice; what is needed is the waker bookkeeping, which must
//! not grow when the same waiter is polled again and again (a writer races
//! every write against the end-of-run event).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// One waiter, one flag: the reader kicks the writer of its connection.
/// The broker's own primitive, shared rather than copied.
pub use shardmq::shard::Notify;

/// A one-shot broadcast (start, end of run) with any number of waiters.
/// Waiters hold a slot in a slab and give it back when dropped.
#[derive(Default)]
pub struct Event {
    set: Cell<bool>,
    slots: RefCell<Vec<Option<Waker>>>,
    free: RefCell<Vec<usize>>,
}

impl Event {
    pub fn set(&self) {
        if self.set.replace(true) {
            return;
        }
        let wakers: Vec<Waker> = self
            .slots
            .borrow_mut()
            .iter_mut()
            .filter_map(Option::take)
            .collect();
        wakers.into_iter().for_each(Waker::wake);
    }

    pub fn is_set(&self) -> bool {
        self.set.get()
    }

    pub fn wait(&self) -> Wait<'_> {
        Wait {
            event: self,
            slot: None,
        }
    }
}

pub struct Wait<'a> {
    event: &'a Event,
    slot: Option<usize>,
}

impl Future for Wait<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let ev = self.event;
        if ev.set.get() {
            return Poll::Ready(());
        }
        let mut slots = ev.slots.borrow_mut();
        match self.slot {
            Some(i) => match &slots[i] {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => slots[i] = Some(cx.waker().clone()),
            },
            None => {
                let i = match ev.free.borrow_mut().pop() {
                    Some(i) => {
                        slots[i] = Some(cx.waker().clone());
                        i
                    }
                    None => {
                        slots.push(Some(cx.waker().clone()));
                        slots.len() - 1
                    }
                };
                drop(slots);
                self.slot = Some(i);
            }
        }
        Poll::Pending
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            self.event.slots.borrow_mut()[i] = None;
            self.event.free.borrow_mut().push(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::future;

    #[test]
    fn event_reuses_slots() {
        let ev = Event::default();
        for _ in 0..100 {
            let mut w = Box::pin(ev.wait());
            assert!(future::block_on(future::poll_once(&mut w)).is_none());
            assert!(future::block_on(future::poll_once(&mut w)).is_none());
        }
        assert_eq!(ev.slots.borrow().len(), 1);
        ev.set();
        assert!(future::block_on(future::poll_once(ev.wait())).is_some());
    }

    #[test]
    fn notify_is_sticky_until_consumed() {
        let n = Notify::default();
        n.notify();
        assert!(future::block_on(future::poll_once(n.notified())).is_some());
        assert!(future::block_on(future::poll_once(n.notified())).is_none());
    }
}
