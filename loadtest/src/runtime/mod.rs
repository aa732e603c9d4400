//! Executors and the coordinator.
//!
//! One glommio `LocalExecutor` per thread runs that thread's clients; the
//! process's main thread is the coordinator: it waits until every client
//! is connected and subscribed, publishes the start time, decides when the
//! run ends, prints progress, and collects each thread's results.

mod coordinator;
mod ctx;
mod thread;

pub use coordinator::RunResult;
pub use ctx::ThreadCtx;

use crate::config::Config;
use crate::scenarios;
use crate::stats::Shared;
use glommio::{LocalExecutorBuilder, Placement};
use std::rc::Rc;
use std::sync::atomic::Ordering::Release;
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// glommio polls for I/O completions only between runs of its task queue
/// or when preempted; a publisher writing as fast as it can would delay
/// the subscribers' wake-ups (and their latency numbers) by up to the
/// default 100 ms. 1 ms keeps the measurement honest.
const PREEMPT: Duration = Duration::from_millis(1);

pub fn run(cfg: Arc<Config>) -> Result<RunResult, String> {
    let stop_opening = crate::clock::now_ns() + cfg.time_limit_ns;
    let shared = Arc::new(Shared::new(cfg.threads, stop_opening));
    let (tx, rx) = mpsc::channel();
    for (id, specs) in scenarios::plan(&cfg).into_iter().enumerate() {
        let placement = match &cfg.cpus {
            Some(cpus) => Placement::Fixed(cpus[id % cpus.len()]),
            None => Placement::Unbound,
        };
        let (cfg2, shared2, tx2) = (cfg.clone(), shared.clone(), tx.clone());
        let spawned = LocalExecutorBuilder::new(placement)
            .name(&format!("bench-{id}"))
            .preempt_timer(PREEMPT)
            .spawn(move || async move {
                let ctx = Rc::new(ThreadCtx::new(id, cfg2, shared2));
                let result = thread::main(ctx, specs).await;
                let _ = tx2.send(result);
            });
        if let Err(e) = spawned {
            // Threads already started must not connect anything.
            shared.end.store(true, Release);
            return Err(format!("cannot start executor thread {id}: {e}"));
        }
    }
    drop(tx);
    Ok(coordinator::Coordinator::new(cfg, shared, rx).run())
}
