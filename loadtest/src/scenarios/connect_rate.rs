//! `connect-rate`: fresh connections, `--concurrency` at a time over all
//! threads, until `--connections` are done or `--time-limit` has passed.
//!
//! Each slot is a task that claims the next connection number from a
//! counter all threads share (one atomic add per connection, so a slow
//! thread does not hold up the count) and runs one cycle: connect (TLS),
//! CONNECT, CONNACK, DISCONNECT, close.

use crate::client::{self, Role, Spec};
use crate::clock::now_ns;
use crate::config::Config;
use crate::runtime::ThreadCtx;
use crate::template::expand;
use std::rc::Rc;
use std::sync::atomic::Ordering::Relaxed;

pub async fn run(ctx: Rc<ThreadCtx>) {
    let slots = slots_of(&ctx.cfg, ctx.id);
    let tasks: Vec<_> = (0..slots)
        .map(|_| glommio::spawn_local(slot(ctx.clone())))
        .collect();
    for t in tasks {
        t.await;
    }
}

/// This thread's share of the concurrency.
fn slots_of(cfg: &Config, thread: usize) -> u32 {
    let threads = cfg.threads as u32;
    cfg.concurrency / threads + u32::from((thread as u32) < cfg.concurrency % threads)
}

async fn slot(ctx: Rc<ThreadCtx>) {
    let shared = &ctx.shared;
    while !ctx.end.is_set() {
        // Claim first, then look at the clock: a claim the coordinator has
        // not seen yet is then either abandoned or in flight, never lost.
        let k = shared.claimed.fetch_add(1, Relaxed);
        if k >= u64::from(ctx.cfg.cycles) || now_ns() >= shared.stop_opening_ns {
            shared.abandoned.fetch_add(1, Relaxed);
            return;
        }
        client::cycle(&ctx, &spec(&ctx.cfg, k as u32, ctx.id)).await;
        glommio::yield_if_needed().await;
    }
}

/// Connection `k` of the run: its client ID and source address.
pub fn spec(cfg: &Config, k: u32, thread: usize) -> Spec {
    let index = cfg.start_index + k;
    let vars = cfg.vars(index, thread, 'c');
    let source =
        (!cfg.source_ips.is_empty()).then(|| cfg.source_ips[k as usize % cfg.source_ips.len()]);
    Spec {
        index,
        rank: k,
        role: Role::Idle,
        client_id: expand(&cfg.client_id, &vars),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(args: &str) -> Config {
        crate::config::from_args(args).unwrap()
    }

    #[test]
    fn concurrency_is_split_over_threads() {
        let c = cfg("connect-rate -n 100 -c 5 --threads 2");
        assert_eq!((slots_of(&c, 0), slots_of(&c, 1)), (3, 2));
        let c = cfg("connect-rate -n 100 -c 1 --threads 2");
        assert_eq!((slots_of(&c, 0), slots_of(&c, 1)), (1, 0));
    }

    #[test]
    fn each_connection_has_its_id_and_source() {
        let c = cfg("connect-rate -n 10 --source-ips 127.0.0.2-127.0.0.4 --client-id h%i");
        let s = spec(&c, 4, 0);
        assert_eq!(s.client_id, "h4");
        assert_eq!(s.source.unwrap().to_string(), "127.0.0.3");
        assert!(matches!(s.role, Role::Idle));
    }
}
