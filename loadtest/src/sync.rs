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

/// One waiter, one flag: the reader kicks the writer of its connection. A
/// kick while the writer is busy is kept until its next wait consumes it.
#[derive(Default)]
pub struct Notify {
    set: Cell<bool>,
    waiter: Cell<Option<Waker>>,
}

impl Notify {
    pub fn notify(&self) {
        self.set.set(true);
        if let Some(w) = self.waiter.take() {
            w.wake();
        }
    }

    pub fn notified(&self) -> Notified<'_> {
        Notified(self)
    }
}

pub struct Notified<'a>(&'a Notify);

impl Future for Notified<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let n = self.0;
        if n.set.replace(false) {
            return Poll::Ready(());
        }
        // The writer re-polls on every race with the end event: keep the
        // stored waker when it is the same task instead of cloning anew.
        let w = match n.waiter.take() {
            Some(w) if w.will_wake(cx.waker()) => w,
            _ => cx.waker().clone(),
        };
        n.waiter.set(Some(w));
        Poll::Pending
    }
}

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

    #[test]
    fn notify_wakes_the_waiting_task() {
        use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
        use std::sync::Arc;
        use std::task::Wake;
        struct Flag(AtomicBool);
        impl Wake for Flag {
            fn wake(self: Arc<Self>) {
                self.0.store(true, Relaxed);
            }
        }
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let n = Notify::default();
        let mut wait = Box::pin(n.notified());
        assert!(wait.as_mut().poll(&mut cx).is_pending());
        n.notify();
        assert!(flag.0.load(Relaxed));
        assert!(wait.as_mut().poll(&mut cx).is_ready());
    }
}
