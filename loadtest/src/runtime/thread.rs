//! One executor thread: open its clients at its share of the connection
//! rate, let them run, collect what they report.

use super::ctx::ThreadCtx;
use crate::client::{self, Outcome, PubResult, Spec, SubResult};
use crate::clock::now_ns;
use crate::clock::sleep_until;
use crate::config::Kind;
use crate::scenarios;
use crate::stats::ThreadStats;
use futures_lite::future;
use std::rc::Rc;
use std::sync::atomic::Ordering::Acquire;
use std::time::Duration;

/// How often the watcher looks at the coordinator's flags: bounds how late
/// a thread learns about the start (publishers then sleep until the exact
/// start time, so this adds no skew) or the end.
const WATCH_TICK: Duration = Duration::from_millis(5);
/// Interval latency goes to the coordinator every this many ticks.
const FLUSH_EVERY: u32 = 20;

pub struct ThreadResult {
    pub stats: ThreadStats,
    pub pubs: Vec<PubResult>,
    pub subs: Vec<SubResult>,
}

pub async fn main(ctx: Rc<ThreadCtx>, specs: Vec<Spec>) -> ThreadResult {
    let watcher = glommio::spawn_local(watch(ctx.clone()));
    if ctx.cfg.kind == Kind::ConnectRate {
        scenarios::connect_rate::run(ctx.clone()).await;
    }
    let tasks = open_clients(&ctx, specs).await;
    let mut pubs = Vec::new();
    let mut subs = Vec::new();
    for t in tasks {
        match t.await {
            Outcome::Publisher(p) => pubs.push(p),
            Outcome::Subscriber(s) => subs.push(s),
            Outcome::Failed | Outcome::Idle => {}
        }
    }
    watcher.await;
    let mut stats = ctx.stats.take();
    stats.counts.unacked = pubs.iter().map(|p| p.unacked).sum();
    ThreadResult { stats, pubs, subs }
}

/// Spawn one task per client, paced at this thread's share of the rate.
async fn open_clients(ctx: &Rc<ThreadCtx>, specs: Vec<Spec>) -> Vec<glommio::Task<Outcome>> {
    let cfg = &ctx.cfg;
    let share = specs.len() as f64 / cfg.connections() as f64;
    let gap_ns = 1e9 / (cfg.conn_rate * share);
    let t0 = now_ns();
    let mut tasks = Vec::with_capacity(specs.len());
    for (k, spec) in specs.into_iter().enumerate() {
        let at = t0 + (k as f64 * gap_ns) as u64;
        let ended = future::or(
            async {
                sleep_until(at).await;
                false
            },
            async {
                ctx.end.wait().await;
                true
            },
        );
        if ended.await {
            break;
        }
        tasks.push(glommio::spawn_local(client::run(ctx.clone(), spec)));
    }
    tasks
}

/// Relay the coordinator's start and end to this thread's events, and hand
/// it the latency of the last moments for the progress line.
async fn watch(ctx: Rc<ThreadCtx>) {
    let shared = ctx.shared.clone();
    let mut ticks = 0u32;
    loop {
        if !ctx.go.is_set() {
            let start = shared.start_ns.load(Acquire);
            if start != 0 {
                ctx.start(start);
            }
        }
        if shared.end.load(Acquire) {
            ctx.end.set();
            ctx.stats.borrow_mut().flush_interval(ctx.live());
            return;
        }
        ticks += 1;
        if ticks.is_multiple_of(FLUSH_EVERY) {
            ctx.stats.borrow_mut().flush_interval(ctx.live());
        }
        glommio::timer::Timer::new(WATCH_TICK).await;
    }
}
