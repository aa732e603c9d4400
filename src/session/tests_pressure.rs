//! Back-pressure decisions at the session level: when a full session holds
//! a publisher back, lets it go, stalls, and what it drops meanwhile.

use super::test_util::msg;
use super::tests::{handle, wire};
use super::*;
use crate::config::{Limits, QueueOverflow};
use crate::connection::CloseReason;
use crate::metrics::ShardMetrics;
use crate::protocol::{Packet, QoS};
use std::rc::Rc;

struct Fixture {
    s: Sessions,
    metrics: Rc<ShardMetrics>,
    sub: SessionKey,
    sub_conn: Rc<crate::connection::ConnHandle>,
    publisher: Publisher,
}

/// A QoS 1 subscriber on "t" with a window of 1 and a queue of 4, and a
/// publisher session on the same shard.
fn fixture(policy: QueueOverflow) -> Fixture {
    let limits = Limits {
        max_inflight: 1,
        max_queued_messages: 4,
        queue_overflow: policy,
        ..Limits::default()
    };
    let metrics = Rc::new(ShardMetrics::default());
    let mut s = Sessions::new(0, limits, metrics.clone());
    let sub_conn = handle(1);
    let sub = s.open(&"sub".into(), false, None, &sub_conn).key;
    s.subscribe(sub, &"t".into(), Subscription::qos(QoS::AtLeastOnce));
    let pub_conn = handle(2);
    let key = s.open(&"pub".into(), true, None, &pub_conn).key;
    Fixture {
        s,
        metrics,
        sub,
        sub_conn,
        publisher: Publisher { shard: 0, key },
    }
}

impl Fixture {
    fn publish(&mut self, n: u8) {
        let mut m = msg(n, QoS::AtLeastOnce);
        m.origin = Origin::Session {
            shard: self.publisher.shard,
            key: self.publisher.key,
        };
        self.s.publish(&m);
    }

    fn pause(&self) -> Signal {
        Signal {
            to: self.publisher,
            pause: true,
        }
    }

    fn resume(&self) -> Signal {
        Signal {
            pause: false,
            ..self.pause()
        }
    }

    /// Acknowledge whatever is in flight to the subscriber.
    fn ack_all(&mut self) {
        for p in wire(&self.sub_conn) {
            if let Packet::Publish(p) = p {
                self.s.puback(self.sub, p.packet_id);
            }
        }
    }
}

#[test]
fn a_full_queue_pauses_its_publisher_once_and_half_empty_resumes_it() {
    let mut f = fixture(QueueOverflow::Backpressure);
    for n in 0..4 {
        f.publish(n); // one in flight, three queued
    }
    assert!(f.s.take_signals().is_empty(), "below the limit");
    f.publish(4); // the fourth queued: at the limit
    assert_eq!(f.s.take_signals(), vec![f.pause()]);
    for n in 5..9 {
        f.publish(n); // already on its way: queued, no second pause
    }
    assert!(f.s.take_signals().is_empty());
    assert_eq!(f.s.get(f.sub).unwrap().queued_len(), 8);
    assert_eq!(f.metrics.dropped_queue_full.get(), 0);
    // Each ack lets one more out; at 2 queued (half of 4) it resumes.
    let mut acks = 0;
    while f.s.take_signals().is_empty() {
        f.ack_all();
        acks += 1;
        assert!(acks <= 8, "never resumed");
    }
    assert_eq!(f.s.get(f.sub).unwrap().queued_len(), 2);
}

#[test]
fn resume_is_signalled_when_the_queue_drains() {
    let mut f = fixture(QueueOverflow::Backpressure);
    for n in 0..6 {
        f.publish(n);
    }
    assert_eq!(f.s.take_signals(), vec![f.pause()]);
    for _ in 0..6 {
        f.ack_all();
    }
    assert_eq!(f.s.take_signals(), vec![f.resume()]);
}

#[test]
fn a_client_never_holds_itself_back_and_the_broker_is_never_held() {
    let mut f = fixture(QueueOverflow::Backpressure);
    f.publisher.key = f.sub; // it publishes to its own subscription
    for n in 0..8 {
        f.publish(n);
    }
    for n in 0..8 {
        f.s.publish(&msg(n, QoS::AtLeastOnce)); // Origin::Broker
    }
    assert!(f.s.take_signals().is_empty());
}

#[test]
fn what_was_already_on_its_way_is_queued_not_dropped() {
    let mut f = fixture(QueueOverflow::Backpressure);
    for n in 0..1100u32 {
        f.publish(n as u8); // a peer shard's backlog, acknowledged already
    }
    assert_eq!(f.s.get(f.sub).unwrap().queued_len(), 1099);
    assert_eq!(f.metrics.dropped_queue_full.get(), 0);
    assert_eq!(f.s.take_signals(), vec![f.pause()]);
}

#[test]
fn a_stalled_session_lets_go_and_drops_until_it_acknowledges() {
    let mut f = fixture(QueueOverflow::Backpressure);
    for n in 0..5 {
        f.publish(n);
    }
    assert_eq!(f.s.take_signals(), vec![f.pause()]);
    f.s.check_stalls(1_000, 500); // first look
    f.s.check_stalls(1_400, 500);
    assert!(f.s.take_signals().is_empty(), "not yet");
    f.s.check_stalls(1_500, 500);
    assert_eq!(f.s.take_signals(), vec![f.resume()]);
    assert_eq!(f.metrics.sessions_stalled.get(), 1);
    // Stalled at 4 queued: new messages are dropped, counted as stalled.
    f.publish(5);
    f.publish(6);
    assert_eq!(f.metrics.dropped_stalled.get(), 2);
    assert!(f.s.take_signals().is_empty());
    // An ack: progress; the queue (3 now) fills to the limit and presses again.
    f.ack_all();
    f.publish(7);
    assert_eq!(f.s.take_signals(), vec![f.pause()]);
}

#[test]
fn progress_keeps_a_pressing_session_from_stalling() {
    let mut f = fixture(QueueOverflow::Backpressure);
    for n in 0..9 {
        f.publish(n);
    }
    f.s.take_signals();
    f.s.check_stalls(1_000, 500);
    f.ack_all();
    f.s.check_stalls(1_400, 500);
    f.s.check_stalls(1_800, 500); // 400 ms since the ack was seen
    assert!(f.s.take_signals().is_empty());
    assert_eq!(f.metrics.sessions_stalled.get(), 0);
}

#[test]
fn going_offline_lets_go_and_an_offline_session_drops_at_the_limit() {
    let mut f = fixture(QueueOverflow::Backpressure);
    for n in 0..6 {
        f.publish(n);
    }
    f.s.take_signals();
    let conn = f.sub_conn.clone();
    f.s.close(f.sub, &conn, CloseReason::SocketClosed, 1);
    assert_eq!(f.s.take_signals(), vec![f.resume()]);
    f.publish(6); // 5 queued, over the limit of 4
    assert_eq!(f.metrics.dropped_queue_full.get(), 1);
    assert!(
        f.s.take_signals().is_empty(),
        "offline sessions hold no one back"
    );
}

#[test]
fn drop_policies_never_hold_anyone_back() {
    for policy in [QueueOverflow::DropNew, QueueOverflow::DropOldest] {
        let mut f = fixture(policy);
        for n in 0..8 {
            f.publish(n);
        }
        assert!(f.s.take_signals().is_empty());
        assert_eq!(f.metrics.dropped_queue_full.get(), 3, "{policy:?}");
    }
}

#[test]
fn retained_messages_sent_on_subscribe_hold_no_one_back() {
    let mut f = fixture(QueueOverflow::Backpressure);
    let origin = Origin::Session {
        shard: 0,
        key: f.publisher.key,
    };
    let stored: Vec<Message> = (0..8)
        .map(|n| Message {
            retain: true,
            origin,
            ..msg(n, QoS::AtLeastOnce)
        })
        .collect();
    let sub = Subscription::qos(QoS::AtLeastOnce);
    f.s.deliver_retained(f.sub, sub, &stored);
    assert_eq!(f.s.get(f.sub).unwrap().queued_len(), 7);
    assert!(f.s.take_signals().is_empty());
}
