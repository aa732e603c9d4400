//! Shards: one pinned glommio executor per core, each owning the connections
//! and sessions whose client ID hashes to it, its part of the routing tables
//! and its own counters. Shards share nothing mutable per message; they talk
//! over the mesh.

mod memory;
mod partition;
pub mod poller;
mod runtime;
mod state;
mod tasks;
mod wheel;

pub use partition::{owner_shard, stable_hash, Partition, PartitionMap, PARTITIONS};
pub use runtime::run;
pub use state::Shard;

use crate::metrics::ShardMetrics;
use futures_lite::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;

/// The little state all shards share: touched per connection (never per
/// message) and at shutdown.
#[derive(Default)]
pub struct Global {
    /// Connected clients over all shards, for `limits.max_connections`.
    pub connections: AtomicUsize,
    stopping: AtomicBool,
    wakers: Mutex<Vec<Waker>>,
}

impl Global {
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Tell every shard to stop (called from the signal thread).
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        for w in self.wakers.lock().unwrap().drain(..) {
            w.wake();
        }
    }

    /// Resolve once `stop` has been called.
    pub async fn stopped(self: Arc<Self>) {
        std::future::poll_fn(|cx| {
            if self.stopping() {
                return std::task::Poll::Ready(());
            }
            self.wakers.lock().unwrap().push(cx.waker().clone());
            // Re-check: stop() may have drained the list before our push.
            if self.stopping() {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        })
        .await
    }

    /// Count one more connection unless `max` (0 = unlimited) is reached.
    pub fn try_add_connection(&self, max: usize) -> bool {
        try_count(&self.connections, max)
    }

    pub fn remove_connection(&self) {
        self.connections.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Add one to a connection counter shared by shards unless it is at `max`
/// (0 = unlimited). Per connection, never per message.
pub fn try_count(counter: &AtomicUsize, max: usize) -> bool {
    let n = counter.fetch_add(1, Ordering::AcqRel);
    if max != 0 && n >= max {
        counter.fetch_sub(1, Ordering::AcqRel);
        return false;
    }
    true
}

/// Run a connection task on this shard. A panic (a bug) ends that one
/// connection, counted and logged, instead of the shard's executor and
/// every other connection on it.
pub fn spawn_guarded(shard: &Rc<Shard>, task: impl Future<Output = ()> + 'static) {
    let s = shard.clone();
    glommio::spawn_local(async move {
        if AssertUnwindSafe(task).catch_unwind().await.is_err() {
            ShardMetrics::inc(&s.metrics.task_panics);
            tracing::error!(shard = s.id, "connection task panicked; connection dropped");
        }
    })
    .detach();
}
