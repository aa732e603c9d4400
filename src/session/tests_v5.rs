//! MQTT 5 session lifetime at the API level: the session expiry interval,
//! delayed wills, and what a reconnect or takeover does to them.

use super::tests::{handle, store, will, Log};
use super::*;
use crate::connection::CloseReason;
use crate::protocol::{QoS, Will, WillProperties};
use bytes::Bytes;

fn delayed_will(topic: &str, delay: u32) -> Will {
    Will {
        properties: Some(Box::new(WillProperties {
            will_delay_interval: Some(delay),
            ..Default::default()
        })),
        ..will(topic)
    }
}

fn open5(s: &mut Sessions, id: &str, clean: bool, expiry: u32, w: Option<Will>, h: u64) -> Opened {
    s.open_with_expiry(&id.into(), clean, expiry, w, &handle(h))
}

/// Open `id` (without clean start) on connection 1 and lose that
/// connection at `now_ms`: the session is offline from then on, its expiry
/// (and will delay) running.
fn open_and_drop(
    s: &mut Sessions,
    id: &str,
    expiry: u32,
    w: Option<Will>,
    now_ms: u64,
) -> (SessionKey, Closed) {
    let h = handle(1);
    let k = s.open_with_expiry(&id.into(), false, expiry, w, &h).key;
    (k, s.close(k, &h, CloseReason::SocketClosed, now_ms))
}

#[test]
fn mqtt_3_1_2_23_offline_session_lives_for_its_expiry_interval() {
    let mut s = store();
    let h = handle(1);
    let k = s.open_with_expiry(&"c".into(), false, 10, None, &h).key;
    s.subscribe(k, &"t".into(), Subscription::qos(QoS::AtLeastOnce));
    s.close(k, &h, CloseReason::SocketClosed, 5_000);
    assert!(s.expire(14_999).lost.is_empty());
    assert!(s.get(k).is_some(), "within its interval");
    let gone = s.expire(15_000);
    assert_eq!(
        gone.lost,
        vec![MqttStr::from("t")],
        "ends with its subscriptions"
    );
    assert!(s.get(k).is_none());
}

#[test]
fn mqtt_3_1_2_23_reconnect_within_the_interval_resumes_and_cancels_expiry() {
    let mut s = store();
    let (k, _) = open_and_drop(&mut s, "c", 2, None, 0);
    let back = open5(&mut s, "c", false, 2, None, 2);
    assert!(back.present && back.key == k);
    s.expire(60_000);
    assert!(
        s.get(k).is_some(),
        "a stale timer does not end a connected session"
    );
}

#[test]
fn expiry_zero_ends_the_session_with_its_connection_even_without_clean_start() {
    let mut s = store();
    let (k, _) = open_and_drop(&mut s, "c", 0, None, 0);
    assert!(s.get(k).is_none());
    assert!(!open5(&mut s, "c", false, 0, None, 2).present);
}

#[test]
fn long_intervals_survive_wheel_turns() {
    let mut s = store();
    let (k, _) = open_and_drop(&mut s, "c", 2_000, None, 0);
    for sec in 1..2_000 {
        s.expire(sec * 1000);
    }
    assert!(s.get(k).is_some(), "the slot came round three times");
    s.expire(2_000_000);
    assert!(s.get(k).is_none());
}

#[test]
fn never_expiring_sessions_have_no_timer() {
    let mut s = store();
    let (k, _) = open_and_drop(&mut s, "c", NEVER, None, 0);
    s.expire(u32::MAX as u64 * 1000); // one jump over every slot
    assert!(s.get(k).is_some());
}

#[test]
fn mqtt_3_14_2_2_disconnect_may_not_turn_expiry_zero_into_non_zero() {
    let mut s = store();
    let k = open5(&mut s, "zero", true, 0, None, 1).key;
    assert!(s.set_expiry(k, 10).is_err());
    assert_eq!(s.get(k).unwrap().expiry(), 0, "unchanged");
    let k = open5(&mut s, "ten", true, 10, None, 2).key;
    assert!(s.set_expiry(k, 0).is_ok());
    assert_eq!(s.get(k).unwrap().expiry(), 0);
}

#[test]
fn expiry_is_an_event_for_the_durable_log() {
    #[derive(Clone, Default)]
    struct Expiries(std::rc::Rc<std::cell::RefCell<Vec<u32>>>);
    impl SessionObserver for Expiries {
        fn on_event(&mut self, e: &SessionEvent<'_>) {
            if let SessionEvent::Expiry { secs, .. } = e {
                self.0.borrow_mut().push(*secs);
            }
        }
    }
    let mut s = store();
    let seen = Expiries::default();
    s.observe(Box::new(seen.clone()));
    let k = open5(&mut s, "c", true, 30, None, 1).key;
    s.set_expiry(k, 5).unwrap();
    assert_eq!(*seen.0.borrow(), vec![30, 5]);
}

#[test]
fn mqtt_3_1_3_9_delayed_will_goes_out_after_its_delay() {
    let mut s = store();
    let (k, closed) = open_and_drop(&mut s, "c", 100, Some(delayed_will("w", 3)), 1_000);
    assert!(closed.will.is_none(), "held for its delay");
    assert!(s.get(k).unwrap().will_pending());
    assert!(s.expire(3_999).wills.is_empty());
    let due = s.expire(4_000);
    assert_eq!(due.wills.len(), 1);
    assert_eq!(due.wills[0].0, k);
    assert!(s.get(k).is_some(), "the session outlives its will");
    assert!(s.expire(200_000).wills.is_empty(), "once");
}

#[test]
fn mqtt_3_1_3_9_reconnect_within_the_delay_discards_the_will() {
    let mut s = store();
    let log = Log::default();
    s.observe(Box::new(log.clone()));
    open_and_drop(&mut s, "c", 100, Some(delayed_will("w", 3)), 0);
    // Even with clean start, which ends the old session.
    open5(&mut s, "c", true, 100, None, 2);
    assert!(s.expire(10_000).wills.is_empty());
    assert!(!log.take().contains(&"will released".to_string()));
}

#[test]
fn will_goes_out_when_the_session_ends_before_the_delay() {
    let mut s = store();
    let (k, _) = open_and_drop(&mut s, "c", 2, Some(delayed_will("w", 60)), 0);
    let due = s.expire(2_000);
    assert_eq!(due.wills.len(), 1, "session end comes first");
    assert!(s.get(k).is_none());
    // Expiry 0: the session ends with the connection, the will goes now.
    let h = handle(2);
    let k = s
        .open_with_expiry(&"d".into(), true, 0, Some(delayed_will("w", 60)), &h)
        .key;
    assert!(s.close(k, &h, CloseReason::SocketClosed, 0).will.is_some());
}

#[test]
fn mqtt_3_1_3_9_takeover_within_the_delay_does_not_publish_the_will() {
    let mut s = store();
    open5(&mut s, "c", false, 100, Some(delayed_will("w", 5)), 1);
    let taken = open5(&mut s, "c", false, 100, None, 2);
    assert!(
        taken.displaced_will.is_none(),
        "the new connection came within the delay"
    );
    open5(&mut s, "d", false, 100, Some(delayed_will("w", 0)), 3);
    let taken = open5(&mut s, "d", false, 100, None, 4);
    assert!(
        taken.displaced_will.is_some(),
        "no delay: published at takeover"
    );
}

#[test]
fn mqtt_3_14_4_3_disconnect_with_a_reason_code_publishes_the_will() {
    let mut s = store();
    let h = handle(1);
    let k = s
        .open_with_expiry(&"c".into(), true, 0, Some(will("w")), &h)
        .key;
    let closed = s.close(k, &h, CloseReason::ClientDisconnectWithWill, 0);
    assert!(closed.will.is_some());
}

#[test]
fn will_properties_become_the_publish_properties() {
    let w = Will {
        topic: "w".into(),
        payload: Bytes::from_static(b"bye"),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: Some(Box::new(WillProperties {
            will_delay_interval: Some(5),
            payload_format_indicator: Some(1),
            message_expiry_interval: Some(60),
            content_type: Some("text/plain".into()),
            response_topic: Some("r".into()),
            correlation_data: Some(Bytes::from_static(b"cd")),
            user_properties: vec![("a".into(), "1".into()), ("a".into(), "2".into())],
        })),
    };
    let m = Message::from_will(w, Origin::Broker);
    let p = m.properties.expect("carried over");
    assert_eq!(p.payload_format_indicator, Some(1));
    assert_eq!(p.message_expiry_interval, Some(60));
    assert_eq!(p.content_type.as_deref(), Some("text/plain"));
    assert_eq!(p.response_topic.as_deref(), Some("r"));
    assert_eq!(p.correlation_data.as_deref(), Some(&b"cd"[..]));
    assert_eq!(p.user_properties.len(), 2);
    assert_eq!(p.user_properties[1].1.as_str(), "2", "in order");
    assert!(p.subscription_identifiers.is_empty());
    let only_delay = delayed_will("w", 5);
    assert!(Message::from_will(only_delay, Origin::Broker)
        .properties
        .is_none());
}
