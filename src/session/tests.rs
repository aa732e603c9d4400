//! Session state at the API level: admission, takeover, resume, expiry,
//! wills and local routing, with real connection handles and their encoder
//! but no sockets or executors.

use super::test_util::msg;
use super::*;
use crate::config::Limits;
use crate::connection::{CloseReason, ConnHandle, OutBuf};
use crate::metrics::ShardMetrics;
use crate::protocol::{
    decode_from, Packet, ProtocolVersion, QoS, RetainHandling, SubscriptionOptions, Will,
};
use bytes::{Bytes, BytesMut};
use std::cell::RefCell;
use std::num::NonZeroU32;
use std::rc::Rc;

const V: ProtocolVersion = ProtocolVersion::V3_1_1;

pub(super) fn store() -> Sessions {
    store_with(Limits::default())
}

pub(super) fn store_with(limits: Limits) -> Sessions {
    Sessions::new(0, limits, Rc::new(ShardMetrics::default()))
}

pub(super) fn handle(id: u64) -> Rc<ConnHandle> {
    Rc::new(ConnHandle::new(id, V, 60, 0))
}

/// Everything queued on the handle, decoded.
pub(super) fn wire(h: &ConnHandle) -> Vec<Packet> {
    let out = h.take_out(OutBuf::default());
    let mut buf = BytesMut::from(&out.bytes[..]);
    let mut v = Vec::new();
    while let Some(p) = decode_from(&mut buf, V, 1 << 20).unwrap() {
        v.push(p);
    }
    assert!(buf.is_empty());
    v
}

pub(super) fn will(topic: &str) -> Will {
    Will {
        topic: topic.into(),
        payload: Bytes::from_static(b"gone"),
        qos: QoS::AtMostOnce,
        retain: false,
        properties: None,
    }
}

pub(super) fn opts(qos: QoS) -> SubscriptionOptions {
    SubscriptionOptions::qos(qos)
}

/// Records every event as a short line.
#[derive(Clone, Default)]
pub(super) struct Log(Rc<RefCell<Vec<String>>>);

impl SessionObserver for Log {
    fn on_event(&mut self, e: &SessionEvent<'_>) {
        let line = match e {
            SessionEvent::Created { persistent, .. } => format!("created persistent={persistent}"),
            SessionEvent::Connected { resumed, .. } => format!("connected resumed={resumed}"),
            SessionEvent::Disconnected { .. } => "disconnected".into(),
            SessionEvent::Ended { reason, .. } => format!("ended {reason:?}"),
            SessionEvent::Subscribed { filter, .. } => format!("subscribed {filter}"),
            SessionEvent::Unsubscribed { filter, .. } => format!("unsubscribed {filter}"),
            SessionEvent::Queued { p, .. } => format!("queued {}", p.msg.payload[0]),
            SessionEvent::Sent { packet_id, msg, .. } => {
                format!("sent {} id={packet_id}", msg.payload[0])
            }
            SessionEvent::Acked { packet_id, .. } => format!("acked {packet_id}"),
            SessionEvent::Received { packet_id, .. } => format!("received {packet_id}"),
            SessionEvent::Dropped { reason, .. } => format!("dropped {reason:?}"),
            SessionEvent::Qos2Accepted { packet_id, .. } => format!("qos2 {packet_id}"),
            SessionEvent::Qos2Released { packet_id, .. } => format!("released {packet_id}"),
            SessionEvent::WillReleased { .. } => "will released".into(),
            SessionEvent::WillKept { .. } => "will kept".into(),
            // Every open sets one; the MQTT 5 tests (tests_v5.rs) look at it.
            SessionEvent::Expiry { .. } => return,
        };
        self.0.borrow_mut().push(line);
    }
}

impl Log {
    pub(super) fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.borrow_mut())
    }
}

#[test]
fn a_clean_session_lives_as_long_as_its_connection() {
    let mut s = store();
    let log = Log::default();
    s.observe(Box::new(log.clone()));
    let h = handle(1);
    let o = s.open(&"c".into(), true, None, &h);
    assert!(!o.present);
    assert!(
        wire(&h).is_empty(),
        "open writes nothing: CONNACK comes first"
    );
    s.subscribe(o.key, &"a/+".into(), Subscription::qos(QoS::AtLeastOnce));
    let closed = s.close(o.key, &h, CloseReason::SocketClosed, 10);
    assert_eq!(closed.lost, vec![MqttStr::from("a/+")]);
    assert!(s.find("c").is_none() && s.is_empty());
    assert_eq!(
        log.take(),
        [
            "created persistent=false",
            "connected resumed=false",
            "subscribed a/+",
            "disconnected",
            "unsubscribed a/+",
            "ended Clean"
        ]
    );
}

#[test]
fn takeover_kicks_the_old_connection_and_keeps_a_persistent_session() {
    let mut s = store();
    let (old, new) = (handle(1), handle(2));
    let first = s.open(&"c".into(), false, Some(will("w/old")), &old);
    s.subscribe(first.key, &"t".into(), Subscription::qos(QoS::AtLeastOnce));
    let second = s.open(&"c".into(), false, Some(will("w/new")), &new);
    assert_eq!(second.key, first.key);
    assert!(second.present);
    assert_eq!(old.close_reason(), Some(CloseReason::TakenOver));
    assert_eq!(second.displaced_will.unwrap().topic.as_str(), "w/old");
    assert!(second.lost.is_empty());
    // The old task ends later: the session is no longer its own.
    let late = s.close(first.key, &old, CloseReason::TakenOver, 5);
    assert!(late.will.is_none() && late.lost.is_empty());
    let sess = s.get(second.key).unwrap();
    assert!(sess.connected() && sess.subscription("t").is_some());
    // The new connection's will is the session's now.
    let end = s.close(second.key, &new, CloseReason::KeepAliveTimeout, 9);
    assert_eq!(end.will.unwrap().topic.as_str(), "w/new");
    assert!(s.get(second.key).is_some(), "persistent: stays offline");
}

#[test]
fn clean_session_replaces_a_stored_one() {
    let mut s = store();
    let log = Log::default();
    let h = handle(1);
    let first = s.open(&"c".into(), false, None, &h);
    s.subscribe(first.key, &"x/#".into(), Subscription::qos(QoS::AtMostOnce));
    s.close(first.key, &h, CloseReason::SocketClosed, 1);
    s.observe(Box::new(log.clone()));
    let second = s.open(&"c".into(), true, None, &handle(2));
    assert!(!second.present);
    assert_ne!(second.key, first.key, "a new generation");
    assert_eq!(second.lost, vec![MqttStr::from("x/#")]);
    assert!(s.get(first.key).is_none());
    assert_eq!(
        log.take(),
        [
            "unsubscribed x/#",
            "ended Replaced",
            "created persistent=false",
            "connected resumed=false"
        ]
    );
}

#[test]
fn resume_resends_in_flight_with_dup_then_the_queue() {
    let mut s = store_with(Limits {
        max_inflight: 1,
        ..Limits::default()
    });
    let h = handle(1);
    let o = s.open(&"c".into(), false, None, &h);
    s.subscribe(o.key, &"t".into(), Subscription::qos(QoS::AtLeastOnce));
    for n in 1..=2 {
        assert_eq!(s.publish(&msg(n, QoS::AtLeastOnce)), 1);
    }
    let first = match &wire(&h)[..] {
        [Packet::Publish(p)] => p.packet_id,
        other => panic!("{other:?}"),
    };
    s.close(o.key, &h, CloseReason::SocketClosed, 1);
    s.publish(&msg(3, QoS::AtLeastOnce)); // offline: queued
    s.publish(&msg(4, QoS::AtMostOnce)); // offline QoS 0: dropped
    let h2 = handle(2);
    let again = s.open(&"c".into(), false, None, &h2);
    assert!(again.present);
    assert!(wire(&h2).is_empty());
    s.replay(again.key);
    match &wire(&h2)[..] {
        [Packet::Publish(p)] => assert!(p.dup && p.packet_id == first && p.payload[..] == [1]),
        other => panic!("{other:?}"),
    }
    s.puback(again.key, first);
    let rest: Vec<u8> = wire(&h2)
        .iter()
        .map(|p| match p {
            Packet::Publish(p) => p.payload[0],
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(rest, [2], "one at a time: the window is 1");
    let sess = s.get(again.key).unwrap();
    assert_eq!((sess.inflight_len(), sess.queued_len()), (1, 1));
}

#[test]
fn overlapping_subscriptions_give_one_delivery_at_the_highest_qos() {
    let mut s = store();
    let h = handle(1);
    let k = s.open(&"c".into(), true, None, &h).key;
    let id = |n| NonZeroU32::new(n);
    let sub = |qos, n| Subscription::new(opts(qos), id(n));
    s.subscribe(k, &"a/#".into(), sub(QoS::AtMostOnce, 7));
    s.subscribe(k, &"a/b".into(), sub(QoS::AtLeastOnce, 9));
    let other = s.open(&"d".into(), true, None, &handle(2)).key;
    s.subscribe(other, &"+/b".into(), Subscription::qos(QoS::AtMostOnce));
    let mut m = msg(5, QoS::ExactlyOnce);
    m.topic = "a/b".into();
    assert_eq!(s.publish(&m), 2, "two sessions reached");
    match &wire(&h)[..] {
        [Packet::Publish(p)] => assert_eq!(p.qos, QoS::AtLeastOnce),
        other => panic!("{other:?}"),
    }
}

#[test]
fn no_local_and_retain_as_published() {
    let mut s = store();
    let h = handle(1);
    let k = s.open(&"c".into(), true, None, &h).key;
    let mut o = opts(QoS::AtMostOnce);
    o.no_local = true;
    o.retain_as_published = true;
    o.retain_handling = RetainHandling::SendOnSubscribe;
    s.subscribe(k, &"t".into(), Subscription::new(o, None));
    let mut own = msg(1, QoS::AtMostOnce);
    own.origin = Origin::Session { shard: 0, key: k };
    assert_eq!(s.publish(&own), 0, "no-local: not to its own publisher");
    let mut other = msg(2, QoS::AtMostOnce);
    other.retain = true;
    other.origin = Origin::Session {
        shard: 1,
        key: k, // the same key on another shard is another session
    };
    assert_eq!(s.publish(&other), 1);
    match &wire(&h)[..] {
        [Packet::Publish(p)] => assert!(p.retain, "retain-as-published keeps RETAIN"),
        other => panic!("{other:?}"),
    }
    let h2 = handle(2);
    let plain = s.open(&"p".into(), true, None, &h2);
    s.subscribe(plain.key, &"t".into(), Subscription::qos(QoS::AtMostOnce));
    let mut live = msg(3, QoS::AtMostOnce);
    live.retain = true;
    assert_eq!(s.publish(&live), 2);
    match &wire(&h2)[..] {
        [Packet::Publish(p)] => assert!(!p.retain, "live deliveries clear RETAIN [MQTT-3.3.1-9]"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn will_is_discarded_by_disconnect_and_published_otherwise() {
    let mut s = store();
    let h = handle(1);
    let k = s.open(&"c".into(), false, Some(will("w")), &h).key;
    s.discard_will(k);
    assert!(s.close(k, &h, CloseReason::SocketClosed, 1).will.is_none());
    let h2 = handle(2);
    let k = s.open(&"c".into(), false, Some(will("w")), &h2).key;
    assert!(s.close(k, &h2, CloseReason::Shutdown, 2).will.is_none());
    let h3 = handle(3);
    let k = s.open(&"c".into(), false, Some(will("w")), &h3).key;
    assert!(s
        .close(k, &h3, CloseReason::ProtocolError, 3)
        .will
        .is_some());
}

#[test]
fn offline_sessions_expire_with_their_subscriptions() {
    let mut s = store_with(Limits {
        session_expiry: 1.0,
        ..Limits::default()
    });
    let (h1, h2) = (handle(1), handle(2));
    let old = s.open(&"old".into(), false, None, &h1).key;
    let live = s.open(&"live".into(), false, None, &h2).key;
    s.subscribe(old, &"o".into(), Subscription::qos(QoS::AtMostOnce));
    s.subscribe(live, &"o".into(), Subscription::qos(QoS::AtMostOnce));
    s.close(old, &h1, CloseReason::SocketClosed, 100);
    assert!(s.expire(1_000).lost.is_empty(), "not old enough");
    assert!(s.get(old).is_some());
    let expired = s.expire(2_000);
    assert!(expired.lost.is_empty(), "filter still held by `live`");
    assert!(s.get(old).is_none() && s.get(live).is_some());
    s.unsubscribe(live, "o");
    assert_eq!(s.filter_count(), 0);
}

#[test]
fn a_3_1_1_session_never_expires_by_default() {
    let mut s = store();
    let h = handle(1);
    let k = s.open(&"c".into(), false, None, &h).key;
    s.close(k, &h, CloseReason::SocketClosed, 100);
    assert!(s.expire(10_000_000).lost.is_empty());
    assert!(s.get(k).is_some());
}

#[test]
fn qos2_inbound_ids_and_outbound_handshake() {
    let mut s = store();
    let log = Log::default();
    let h = handle(1);
    let k = s.open(&"c".into(), true, None, &h).key;
    s.subscribe(k, &"t".into(), Subscription::qos(QoS::ExactlyOnce));
    s.observe(Box::new(log.clone()));
    assert!(s.qos2_received(k, 7));
    assert!(
        !s.qos2_received(k, 7),
        "a re-sent PUBLISH is not forwarded again"
    );
    s.qos2_acknowledged(k, 7); // its PUBREC went out: now the log keeps it
    s.qos2_released(k, 7);
    assert!(s.qos2_received(k, 7), "released: the id may be used again");
    s.qos2_acknowledged(k, 7);
    s.publish(&msg(1, QoS::ExactlyOnce));
    let id = match &wire(&h)[..] {
        [Packet::Publish(p)] => p.packet_id,
        other => panic!("{other:?}"),
    };
    s.pubrec(k, id);
    assert_eq!(
        wire(&h),
        vec![Packet::PubRel(crate::protocol::Ack::new(id))]
    );
    s.pubcomp(k, id);
    assert_eq!(s.get(k).unwrap().inflight_len(), 0);
    assert_eq!(
        log.take(),
        [
            "qos2 7",
            "released 7",
            "qos2 7",
            &format!("sent 1 id={id}"),
            &format!("received {id}"),
            &format!("acked {id}")
        ]
    );
}

#[test]
fn subscription_limit_and_drops_are_counted() {
    let limits = Limits {
        max_subscriptions_per_session: 1,
        max_queued_messages: 1,
        ..Limits::default()
    };
    let metrics = Rc::new(ShardMetrics::default());
    let mut s = Sessions::new(0, limits, metrics.clone());
    let h = handle(1);
    let k = s.open(&"c".into(), false, None, &h).key;
    let q1 = Subscription::qos(QoS::AtLeastOnce);
    assert!(matches!(
        s.subscribe(k, &"a".into(), q1),
        Subscribed::Granted {
            first_on_filter: true,
            replaced: false
        }
    ));
    assert_eq!(s.subscribe(k, &"b".into(), q1), Subscribed::TooMany);
    assert!(
        matches!(
            s.subscribe(k, &"a".into(), q1),
            Subscribed::Granted {
                first_on_filter: false,
                replaced: true
            }
        ),
        "replacing is not adding"
    );
    s.close(k, &h, CloseReason::SocketClosed, 1);
    let mut m = msg(1, QoS::AtLeastOnce);
    m.topic = "a".into();
    s.publish(&m);
    s.publish(&m);
    assert_eq!(metrics.dropped_queue_full.get(), 1);
    assert_eq!(metrics.subscriptions.get(), 1);
}
