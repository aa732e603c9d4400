//! The long-running tasks of every shard besides its connections and
//! listeners: the tick (keep-alive wheel, metrics board) and, on shard 0,
//! the `$SYS` publisher.

use super::state::Shard;
use crate::connection;
use crate::metrics::{Report, ShardMetrics};
use crate::plane;
use crate::protocol::QoS;
use crate::session::{Message, Origin};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Four times a second: keep-alive expiry, session timers (expiry, delayed
/// wills), stalled sessions that hold publishers back, a nudge to SUBACKs
/// waiting on peers, reloaded ACL rules and certificates; once a second:
/// post this shard's numbers to the metrics board, return memory freed by
/// parked connections.
pub async fn tick_loop(shard: Rc<Shard>) {
    let mut release = super::memory::Release::default();
    for tick in 0u64.. {
        glommio::timer::sleep(Duration::from_millis(250)).await;
        let kicked = shard.wheel.borrow_mut().advance(shard.elapsed_ms());
        ShardMetrics::add(&shard.metrics.keepalive_timeouts, kicked as u64);
        shard.acks.wake_all();
        shard.auth.refresh();
        expire_sessions(&shard);
        let stall_ms = shard.cfg.stall_timeout_ms();
        let now = shard.elapsed_ms();
        shard.sessions.borrow_mut().check_stalls(now, stall_ms);
        plane::pressure::flush(&shard);
        shard.refresh_acl();
        for l in &shard.listeners {
            if let Some(tls) = &l.tls {
                tls.refresh(); // new certificates after SIGHUP
            }
        }
        if tick % 4 == 0 {
            release.tick(shard.metrics.parks.get());
            if let Some(p) = &shard.persist {
                p.report(&shard.metrics, &mut shard.hist.borrow_mut());
            }
            let report = Report {
                counters: shard.metrics.snapshot(),
                hist: shard.hist.borrow().clone(),
                reasons: shard.reasons.snapshot(),
                shared_groups: shard.sessions.borrow().shared_counters(),
                listeners: shard
                    .listeners
                    .iter()
                    .map(|l| l.metrics.snapshot())
                    .collect(),
            };
            shard.board.post(shard.id, report);
        }
    }
}

/// End offline sessions whose expiry interval passed and publish the
/// delayed wills now due (`Sessions::expire`).
fn expire_sessions(shard: &Shard) {
    let expired = shard.sessions.borrow_mut().expire(shard.elapsed_ms());
    for (key, will) in expired.wills {
        connection::publish_will(shard, key, *will);
    }
    plane::forget_interest(shard, expired.lost);
}

/// Shard 0 publishes the `$SYS/broker/...` topics, retained.
pub async fn sys_loop(shard: Rc<Shard>) {
    let every = Duration::from_secs_f64(shard.cfg.sys_interval);
    loop {
        glommio::timer::sleep(every).await;
        let uptime = shard.board.started.elapsed().as_secs();
        for (topic, payload) in crate::metrics::sys::topics(&shard.board.merged(), uptime) {
            let msg = Message {
                topic: topic.into(),
                payload: payload.into(),
                qos: QoS::AtMostOnce,
                retain: true,
                properties: None,
                origin: Origin::Broker,
                published_at: Instant::now(),
            };
            plane::publish(&shard, msg);
        }
    }
}
