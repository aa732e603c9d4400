//! Two shards driven by hand, without executors: what one sends is taken
//! from its outboxes and applied on the other, so cross-shard routing,
//! interest, acknowledgements and retained traffic are checked at the state
//! level, deterministically.

use super::{apply, retained, route};
use crate::auth::AuthSetup;
use crate::config::Config;
use crate::connection::{ConnHandle, OutBuf};
use crate::metrics::Board;
use crate::protocol::{decode_from, Packet, ProtocolVersion, Publish, QoS};
use crate::session::{Message, Origin, SessionKey, Subscription};
use crate::shard::{Global, Shard};
use bytes::{Bytes, BytesMut};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

const V: ProtocolVersion = ProtocolVersion::V3_1_1;

fn pair() -> (Rc<Shard>, Rc<Shard>) {
    let cfg = Arc::new(Config::default());
    let auth = AuthSetup::load(&cfg.auth).unwrap();
    let (global, board) = (Arc::new(Global::default()), Arc::new(Board::new(2)));
    let shard = |id| {
        let (c, g, b) = (cfg.clone(), global.clone(), board.clone());
        Rc::new(Shard::new(id, 2, c, &auth, g, b))
    };
    (shard(0), shard(1))
}

/// Deliver everything `from` queued for `to`, as the mesh tasks would.
fn flush(from: &Shard, to: &Rc<Shard>) {
    let (ctrl, data) = from.mesh.take_outboxes(to.id);
    for c in ctrl {
        apply::control(to, from.id, c);
    }
    if !data.is_empty() {
        apply::batch(to, from.id, data);
    }
}

fn exchange(a: &Rc<Shard>, b: &Rc<Shard>) {
    for _ in 0..3 {
        flush(a, b);
        flush(b, a);
    }
}

fn client(shard: &Shard, id: &str) -> (SessionKey, Rc<ConnHandle>) {
    let h = Rc::new(ConnHandle::new(shard.next_conn_id(), V, 0, 0));
    let key = shard
        .sessions
        .borrow_mut()
        .open(&id.into(), true, None, &h)
        .key;
    (key, h)
}

fn received(h: &ConnHandle) -> Vec<Publish> {
    let out = h.take_out(OutBuf::default());
    let mut buf = BytesMut::from(&out.bytes[..]);
    let mut v = Vec::new();
    while let Some(p) = decode_from(&mut buf, V, 1 << 20).unwrap() {
        match p {
            Packet::Publish(p) => v.push(p),
            other => panic!("expected PUBLISH, got {other:?}"),
        }
    }
    v
}

fn message(topic: &str, payload: &'static [u8], retain: bool) -> Message {
    Message {
        topic: topic.into(),
        payload: Bytes::from_static(payload),
        qos: QoS::AtLeastOnce,
        retain,
        properties: None,
        origin: Origin::Broker,
        published_at: Instant::now(),
    }
}

#[test]
fn a_message_reaches_a_subscriber_on_the_other_shard_once_interest_is_acked() {
    let (s0, s1) = pair();
    let (key, h) = client(&s1, "sub");
    route::subscribe(&s1, key, &"a/+".into(), Subscription::qos(QoS::AtLeastOnce));
    let barrier = s1.acks.current();
    assert!(
        !s1.acks.done(barrier),
        "shard 0 has not applied the interest yet"
    );
    exchange(&s0, &s1);
    assert!(s1.acks.done(barrier), "SUBACK may go out now");

    let routed = route::publish(&s0, message("a/b", b"x", false));
    assert_eq!(routed.stored_elsewhere, None);
    assert!(routed.matched, "shard 1 has interest");
    assert_eq!(s0.metrics.cross_shard_out.get(), 1);
    exchange(&s0, &s1);
    let got = received(&h);
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].topic.as_str(), &got[0].payload[..]),
        ("a/b", &b"x"[..])
    );
    assert_eq!((got[0].qos, got[0].retain), (QoS::AtLeastOnce, false));

    // The last subscriber leaves: shard 0 stops sending.
    assert!(route::unsubscribe(&s1, key, "a/+"));
    exchange(&s0, &s1);
    assert!(!route::publish(&s0, message("a/b", b"y", false)).matched);
    let (_, data) = s0.mesh.take_outboxes(1);
    assert!(data.is_empty(), "no interest left on shard 1");
    assert_eq!(s0.metrics.dropped_no_subscriber.get(), 1);
}

#[test]
fn a_retained_message_is_stored_by_its_owner_and_found_from_either_shard() {
    let (s0, s1) = pair();
    let topic = (0..)
        .map(|i| format!("r/{i}"))
        .find(|t| s0.partitions.owner(t.as_bytes()) == 1)
        .unwrap();
    let pending = route::publish(&s0, message(&topic, b"kept", true));
    let stored = pending.stored_elsewhere;
    let (peer, seq) = stored.expect("stored by shard 1: the PUBACK waits");
    assert_eq!(peer, 1);
    assert!(!s0.acks.done_for(1, seq));
    exchange(&s0, &s1);
    assert!(s0.acks.done_for(1, seq), "shard 1 stored it");
    assert_eq!(s1.router.borrow().retained.len(), 1);

    // A subscriber on shard 0 asks the owner and gets it with RETAIN set.
    let (key, h) = client(&s0, "late");
    let sub = Subscription::qos(QoS::AtMostOnce);
    retained::send_matching(&s0, key, "r/#", sub);
    exchange(&s0, &s1);
    let got = received(&h);
    assert_eq!(got.len(), 1);
    assert!(got[0].retain && got[0].qos == QoS::AtMostOnce);
    assert_eq!(&got[0].payload[..], b"kept");
}

#[test]
fn a_session_that_ends_withdraws_its_interest() {
    let (s0, s1) = pair();
    let (key, h) = client(&s1, "gone");
    route::subscribe(&s1, key, &"t/#".into(), Subscription::qos(QoS::AtMostOnce));
    exchange(&s0, &s1);
    assert_eq!(s0.router.borrow().remote.filter_count(), 1);
    let closed =
        s1.sessions
            .borrow_mut()
            .close(key, &h, crate::connection::CloseReason::SocketClosed, 0);
    route::forget_interest(&s1, closed.lost);
    exchange(&s0, &s1);
    assert_eq!(s0.router.borrow().remote.filter_count(), 0);
}

#[path = "shared_tests.rs"]
mod shared;

/// A subscriber on shard 1 whose queue fills holds back a publisher on
/// shard 0: one pause over the mesh, the publisher's handle held; acks that
/// drain the queue to half send one resume, and the handle is let go.
#[test]
fn a_full_session_pauses_a_publisher_on_the_other_shard_and_resumes_it() {
    let (s0, s1) = pair();
    let max = s1.cfg.limits.max_queued_messages;
    let window = s1.cfg.limits.max_inflight as usize;
    let (sub, sh) = client(&s1, "sub");
    route::subscribe(&s1, sub, &"t".into(), Subscription::qos(QoS::AtLeastOnce));
    exchange(&s0, &s1);
    let (publisher, ph) = client(&s0, "pub");
    let origin = Origin::Session {
        shard: 0,
        key: publisher,
    };
    let sent = window + max + 10; // 10 past the limit: already on their way
    for _ in 0..sent {
        route::publish(
            &s0,
            Message {
                origin,
                ..message("t", b"x", false)
            },
        );
    }
    assert!(!ph.held());
    exchange(&s0, &s1);
    assert!(ph.held(), "paused over the mesh");
    assert!(s0.pauses.is_paused(publisher));
    assert_eq!(s0.metrics.publishers_paused.get(), 1);
    assert_eq!(s1.metrics.dropped_queue_full.get(), 0, "nothing dropped");
    // Ack what arrives until the queue is at half: then one resume.
    let mut acked = 0;
    while ph.held() {
        for p in received(&sh) {
            s1.sessions.borrow_mut().puback(sub, p.packet_id);
            acked += 1;
        }
        super::pressure::flush(&s1);
        exchange(&s0, &s1);
        assert!(acked <= sent, "never resumed");
    }
    let queued = s1.sessions.borrow().get(sub).unwrap().queued_len();
    // Acked a window at a time: released on the first ack at or below half.
    assert!(queued <= max / 2 && queued + window > max / 2, "{queued}");
    assert_eq!(s0.metrics.publishers_paused.get(), 0);
    assert_eq!(s0.metrics.publisher_pauses.get(), 1);
    assert_eq!(s0.hist.borrow().publisher_pause.count(), 1);
}
