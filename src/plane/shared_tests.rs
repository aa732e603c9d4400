//! Shared subscriptions over two shards driven by hand.

use super::*;

/// A QoS 0 member (no in-flight window: every delivery is written).
fn member(shard: &Shard, id: &str, filter: &str) -> (SessionKey, Rc<ConnHandle>) {
    let (key, h) = client(shard, id);
    let sub = Subscription::qos(QoS::AtMostOnce);
    let r = route::subscribe(shard, key, &filter.into(), sub);
    assert!(matches!(r, crate::session::Subscribed::Granted { .. }));
    (key, h)
}

#[test]
fn each_message_reaches_one_member_of_each_group_across_shards() {
    let (s0, s1) = pair();
    let a0 = member(&s0, "a0", "$share/A/t/+");
    let a1 = member(&s1, "a1", "$share/A/t/+");
    let b1 = member(&s1, "b1", "$share/B/t/#");
    let barrier = s1.acks.current();
    exchange(&s0, &s1);
    assert!(
        s1.acks.done(barrier),
        "every shard counts the members: SUBACK may go"
    );
    for _ in 0..100 {
        route::publish(&s0, message("t/x", b"m", false));
        route::publish(&s1, message("t/x", b"m", false));
    }
    exchange(&s0, &s1);
    let (na0, na1, nb1) = (
        received(&a0.1).len(),
        received(&a1.1).len(),
        received(&b1.1).len(),
    );
    assert_eq!(na0 + na1, 200, "group A: each message once");
    assert_eq!(nb1, 200, "group B: its only member gets all");
    assert_eq!(
        (na0, na1),
        (100, 100),
        "round robin over one member per shard"
    );
    assert_eq!(s0.metrics.dropped_no_subscriber.get(), 0);
}

#[test]
fn a_message_whose_members_left_on_the_way_is_passed_on_once_then_dropped() {
    let (s0, s1) = pair();
    let m0 = member(&s0, "m0", "$share/G/q");
    let (k1, h1) = member(&s1, "m1", "$share/G/q");
    exchange(&s0, &s1);
    // Round robin: one of the two goes to shard 1's member, which leaves
    // before the message lands.
    route::publish(&s0, message("q", b"1", false));
    route::publish(&s0, message("q", b"2", false));
    let (_, data) = s0.mesh.take_outboxes(1);
    assert_eq!(data.len(), 1);
    assert!(route::unsubscribe(&s1, k1, "$share/G/q"));
    apply::batch(&s1, 0, data);
    exchange(&s0, &s1);
    assert_eq!(
        received(&m0.1).len(),
        2,
        "passed on to the member on shard 0"
    );
    assert!(received(&h1).is_empty());
    assert_eq!(s1.metrics.dropped_shared_no_member.get(), 0);

    // Nobody left anywhere: counted as dropped.
    route::publish(&s1, message("q", b"2", false));
    let (_, data) = s1.mesh.take_outboxes(0);
    route::unsubscribe(&s0, m0.0, "$share/G/q");
    apply::batch(&s0, 1, data);
    assert_eq!(s0.metrics.dropped_shared_no_member.get(), 1);
}

#[test]
fn an_offline_member_gets_messages_only_when_no_member_is_online() {
    let (s0, s1) = pair();
    let on = member(&s0, "on", "$share/G/o");
    let h = Rc::new(ConnHandle::new(s1.next_conn_id(), V, 0, 0));
    let persistent = s1
        .sessions
        .borrow_mut()
        .open(&"off".into(), false, None, &h);
    let sub = Subscription::qos(QoS::AtLeastOnce);
    route::subscribe(&s1, persistent.key, &"$share/G/o".into(), sub);
    exchange(&s0, &s1);
    let closed = s1.sessions.borrow_mut().close(
        persistent.key,
        &h,
        crate::connection::CloseReason::SocketClosed,
        0,
    );
    route::forget_interest(&s1, closed.lost);
    exchange(&s0, &s1);
    for _ in 0..10 {
        route::publish(&s1, message("o", b"x", false));
    }
    exchange(&s0, &s1);
    assert_eq!(
        received(&on.1).len(),
        10,
        "the online member takes them all"
    );
    assert_eq!(
        s1.sessions
            .borrow()
            .get(persistent.key)
            .unwrap()
            .queued_len(),
        0
    );
}
