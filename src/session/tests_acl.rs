//! The ACL on the session side: deliveries checked for subscriptions
//! broader than the read grant, covered ones skipping the check, marks
//! going stale on reload and on a change of user, retained messages.

use super::test_util::msg;
use super::tests::{handle, store, wire};
use super::*;
use crate::auth::acl::{parse, Acl, Coverage};
use crate::connection::ConnHandle;
use crate::protocol::{Packet, QoS};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

fn rules(text: &str) -> Arc<Acl> {
    Arc::new(Acl::new(&parse(text.as_bytes()).unwrap()))
}

/// A shard's sessions under `rules` (none: no acl_file) and one session
/// "c" of a client with user name `user`, clean or not.
fn client(
    rules_text: Option<&str>,
    user: Option<&str>,
    clean: bool,
) -> (Sessions, Rc<ConnHandle>, SessionKey) {
    let mut s = store();
    s.set_acl(rules_text.map(rules));
    let h = handle(1);
    let k = s.open(&"c".into(), clean, None, &h).key;
    s.set_user(k, user);
    (s, h, k)
}

fn on(topic: &str) -> Message {
    let mut m = msg(1, QoS::AtMostOnce);
    m.topic = topic.into();
    m
}

/// Subscribe as the connection code does: judged, and marked if covered.
fn subscribe(s: &mut Sessions, k: SessionKey, filter: &str) -> Coverage {
    let verdict = s.judge(k, filter).expect("rules in force");
    let mut sub = Subscription::qos(QoS::AtMostOnce);
    if verdict == Coverage::Covered {
        sub.acl = s.acl().unwrap().generation();
    }
    if verdict != Coverage::Denied {
        s.subscribe(k, &filter.into(), sub);
    }
    verdict
}

fn topics(h: &ConnHandle) -> Vec<String> {
    let publish = |p: Packet| match p {
        Packet::Publish(p) => p.topic.to_string(),
        other => panic!("{other:?}"),
    };
    wire(h).into_iter().map(publish).collect()
}

fn mark(s: &Sessions, k: SessionKey, filter: &str) -> u32 {
    s.get(k).unwrap().subscription(filter).unwrap().acl
}

#[test]
fn a_broad_subscription_receives_only_what_may_be_read() {
    let (mut s, h, k) = client(Some("user u\ntopic read a/#\n"), Some("u"), true);
    assert_eq!(subscribe(&mut s, k, "#"), Coverage::Partial);
    assert_eq!(subscribe(&mut s, k, "b/#"), Coverage::Denied);
    assert_eq!(s.publish(&on("a/x")), 1);
    assert_eq!(s.publish(&on("b/x")), 0);
    assert_eq!(topics(&h), ["a/x"]);
    assert_eq!(s.metrics.acl_denied_delivery.get(), 1);
}

#[test]
fn a_covered_subscription_skips_the_check_until_the_rules_change() {
    let (mut s, h, k) = client(Some("topic read a/#\n"), None, true);
    assert_eq!(subscribe(&mut s, k, "a/#"), Coverage::Covered);
    let g = s.acl().unwrap().generation();
    assert_eq!(mark(&s, k, "a/#"), g);
    // Proof that the mark, not the rules, decides: a mark set by hand on a
    // filter the rules deny lets everything through.
    let mut forged = Subscription::qos(QoS::AtMostOnce);
    forged.acl = g;
    s.subscribe(k, &"b/#".into(), forged);
    s.publish(&on("b/x"));
    assert_eq!(topics(&h), ["b/x"]);
    // New rules: every mark is stale, so b/x is checked and withheld.
    s.set_acl(Some(rules("topic read a/#\n")));
    s.publish(&on("b/x"));
    s.publish(&on("a/x"));
    assert_eq!(topics(&h), ["a/x"]);
    // The re-marking pass judges them again under the new rules.
    assert!(
        !s.remark(Duration::from_secs(60)),
        "one pass covers a small shard"
    );
    let g2 = s.acl().unwrap().generation();
    assert_eq!(mark(&s, k, "a/#"), g2);
    assert_eq!(mark(&s, k, "b/#"), 0);
    s.publish(&on("b/x"));
    assert!(topics(&h).is_empty());
}

#[test]
fn a_session_resumed_under_another_user_is_judged_again() {
    let (mut s, _h, k) = client(
        Some("user alice\ntopic read alice/#\n"),
        Some("alice"),
        false,
    );
    assert_eq!(subscribe(&mut s, k, "alice/#"), Coverage::Covered);
    let h2 = handle(2);
    let opened = s.open(&"c".into(), false, None, &h2);
    assert!(opened.present);
    s.set_user(opened.key, Some("mallory"));
    assert_eq!(
        mark(&s, k, "alice/#"),
        0,
        "alice's mark does not serve mallory"
    );
    s.publish(&on("alice/x"));
    assert!(topics(&h2).is_empty());
    assert_eq!(s.who(k).unwrap().user, Some("mallory"));
    s.set_user(k, None);
    assert_eq!(s.who(k).unwrap().user, None);
}

#[test]
fn retained_messages_are_filtered_like_live_ones() {
    let (mut s, h, k) = client(Some("topic read a/#\n"), None, true);
    assert_eq!(subscribe(&mut s, k, "#"), Coverage::Partial);
    let sub = *s.get(k).unwrap().subscription("#").unwrap();
    s.deliver_retained(k, sub, &[on("a/1"), on("b/1"), on("a/2")]);
    assert_eq!(topics(&h), ["a/1", "a/2"]);
}

#[test]
fn without_rules_nothing_is_checked_and_no_user_is_kept() {
    let (mut s, _h, k) = client(None, Some("u"), true);
    assert!(s.judge(k, "#").is_none());
    assert!(s.who(k).unwrap().user.is_none());
    s.subscribe(k, &"#".into(), Subscription::qos(QoS::AtMostOnce));
    assert_eq!(s.publish(&on("x")), 1);
    assert!(!s.remark(Duration::from_secs(60)));
}

#[test]
fn an_ended_session_leaves_no_user_name_for_the_next_in_its_slot() {
    let (mut s, h, k) = client(Some("user u\ntopic read #\n"), Some("u"), true);
    s.close(k, &h, crate::connection::CloseReason::ClientDisconnect, 0);
    let k2 = s.open(&"d".into(), true, None, &handle(2)).key;
    assert_eq!(k2.index, k.index, "slot reused");
    assert_eq!(s.who(k2).unwrap().user, None);
}

#[test]
fn re_marking_after_a_reload_goes_in_slices_and_resumes_where_it_stopped() {
    let mut s = store();
    s.set_acl(Some(rules("topic read #\n")));
    let keys: Vec<SessionKey> = (0..200)
        .map(|i| {
            let k = s.open(&format!("c{i}").into(), true, None, &handle(i)).key;
            subscribe(&mut s, k, "a/#");
            k
        })
        .collect();
    s.set_acl(Some(rules("topic read #\n")));
    let g = s.acl().unwrap().generation();
    // A zero budget stops at the first look at the clock.
    assert!(
        s.remark(Duration::ZERO),
        "200 subscriptions take more than one slice"
    );
    let done = keys.iter().filter(|k| mark(&s, **k, "a/#") == g).count();
    assert!(
        (1..200).contains(&done),
        "{done} re-marked in the first slice"
    );
    let mut slices = 1;
    while s.remark(Duration::ZERO) {
        slices += 1;
        assert!(slices < 10, "re-marking does not progress");
    }
    assert!(keys.iter().all(|k| mark(&s, *k, "a/#") == g));
}
