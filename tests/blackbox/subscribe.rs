//! SUBSCRIBE / UNSUBSCRIBE: wildcard matching, `$` topics, granted QoS,
//! the per-session subscription limit, overlapping subscriptions.

use crate::common::*;

/// For each filter, which of the published topics it must receive.
fn check_matching(cases: &[(&str, &[&str])], topics: &[&str]) {
    let b = Broker::start("");
    let mut subs: Vec<(Client, &str, &[&str])> = cases
        .iter()
        .enumerate()
        .map(|(i, (filter, want))| {
            let mut c = b.connect(&id_on_shard(&format!("f{i}"), i % SHARDS), true);
            c.subscribe(filter, 0);
            (c, *filter, *want)
        })
        .collect();
    let mut p = b.connect("pub", true);
    for topic in topics {
        p.publish(topic, topic.as_bytes(), 1, false);
        for (c, filter, want) in &mut subs {
            if want.contains(topic) {
                let m = c.recv_publish();
                assert_eq!(m.topic, *topic, "filter {filter:?}: unexpected topic");
            }
        }
    }
    for (c, _, _) in &mut subs {
        c.expect_no_packet(QUIET);
    }
}

/// `+` matches exactly one level, including an empty one [MQTT-4.7.1-3].
#[test]
fn single_level_wildcard() {
    check_matching(
        &[
            ("a/+/c", &["a/b/c", "a//c"]),
            ("+", &["a", "b"]),
            ("+/+", &["a/c", "a/b", "/x", "a/"]),
            ("a/+", &["a/c", "a/b", "a/"]),
        ],
        &[
            "a/b/c", "a//c", "a/b/d/c", "a/c", "a", "b", "a/b", "/x", "a/", "a/b/c/d",
        ],
    );
}

/// `#` matches any number of levels, including the parent level itself
/// [MQTT-4.7.1-2]: `a/#` gets `a`.
#[test]
fn multi_level_wildcard() {
    check_matching(
        &[
            ("a/#", &["a", "a/b", "a/b/c", "a/"]),
            ("#", &["a", "a/b", "a/b/c", "b", "a/", "/a"]),
            ("a/b/#", &["a/b", "a/b/c"]),
            ("+/b/#", &["a/b", "a/b/c"]),
        ],
        &["a", "a/b", "a/b/c", "b", "a/", "/a"],
    );
}

/// Topics are case sensitive and `/`-exact: `a/b` and `a/b/` and `A/b`
/// differ [MQTT-4.7.3-4].
#[test]
fn exact_match_is_exact() {
    check_matching(
        &[("a/b", &["a/b"]), ("a/b/", &["a/b/"]), ("A/b", &["A/b"])],
        &["a/b", "a/b/", "A/b", "a/B", "/a/b"],
    );
}

/// [MQTT-4.7.2-1] topics starting with `$` are not matched by filters
/// starting with a wildcard, only by ones naming the `$` level.
#[test]
fn dollar_topics_not_matched_by_leading_wildcards() {
    check_matching(
        &[
            ("#", &["foo/bar"]),
            ("+/bar", &["foo/bar"]),
            ("$foo/bar", &["$foo/bar"]),
            ("$foo/#", &["$foo/bar", "$foo/baz/x"]),
            ("$foo/+", &["$foo/bar"]),
            ("+/+", &["foo/bar"]),
        ],
        &["$foo/bar", "foo/bar", "$foo/baz/x"],
    );
}

/// SUBACK carries the granted QoS per filter (= requested), in order
/// [MQTT-3.8.4-5], [MQTT-3.9.3-1].
#[test]
fn suback_grants_requested_qos() {
    let b = Broker::start("");
    let mut c = b.connect("s", true);
    c.send(&subscribe(
        0x0a0b,
        &[("q/0", 0), ("q/1", 1), ("q/2", 2), ("q/#", 1)],
    ));
    c.expect_packet(&suback(0x0a0b, &[0, 1, 2, 1]));
}

/// A repeated SUBSCRIBE to the same filter replaces the QoS
/// [MQTT-3.8.4-3]: one copy, at the new QoS.
#[test]
fn resubscribe_replaces_qos() {
    let b = Broker::start("");
    let mut c = b.connect("s", true);
    c.subscribe("r", 2);
    c.subscribe("r", 0);
    let mut p = b.connect("p", true);
    p.publish("r", b"x", 2, false);
    c.expect_msg("r", b"x", 0);
    c.expect_no_packet(QUIET);
}

/// `max_subscriptions_per_session = 2`: the third filter gets 0x80, in the
/// same SUBSCRIBE or a later one; re-subscribing an existing filter and
/// subscribing after an UNSUBSCRIBE still work.
#[test]
fn max_subscriptions_per_session() {
    if skip_on_mosquitto("mosquitto has no per-session subscription limit") {
        return;
    }
    let b = Broker::start("[limits]\nmax_subscriptions_per_session = 2");
    let mut c = b.connect("lim", true);
    c.send(&subscribe(1, &[("l/1", 0), ("l/2", 1), ("l/3", 2)]));
    c.expect_packet(&suback(1, &[0, 1, 0x80]));
    c.send(&subscribe(2, &[("l/4", 1)]));
    c.expect_packet(&suback(2, &[0x80]));
    c.send(&subscribe(3, &[("l/2", 2)]));
    c.expect_packet(&suback(3, &[2]));
    // The refused filter really is not subscribed.
    let mut p = b.connect("p", true);
    p.publish("l/3", b"refused", 0, false);
    p.publish("l/1", b"kept", 0, false);
    c.expect_msg("l/1", b"kept", 0);
    c.unsubscribe("l/1");
    c.send(&subscribe(4, &[("l/3", 1)]));
    c.expect_packet(&suback(4, &[1]));
}

/// UNSUBSCRIBE -> UNSUBACK with the same id [MQTT-3.10.4-4]; no more
/// deliveries afterwards; other subscriptions unaffected.
#[test]
fn unsubscribe_stops_delivery() {
    let b = Broker::start("");
    let mut c = b.connect(&id_on_shard("u", 1), true);
    c.subscribe("u/a", 1);
    c.subscribe("u/+", 0);
    c.subscribe("keep", 0);
    let mut p = b.connect(&id_on_shard("p", 0), true);
    p.publish("u/a", b"1", 1, false);
    c.expect_msg("u/a", b"1", 1);
    c.send(&unsubscribe(0x4242, &["u/a", "u/+"]));
    c.expect_packet(&[0xb0, 0x02, 0x42, 0x42]);
    p.publish("u/a", b"2", 1, false);
    p.publish("keep", b"marker", 0, false);
    c.expect_msg("keep", b"marker", 0);
    c.expect_no_packet(QUIET);
}

/// UNSUBSCRIBE of a filter never subscribed still gets UNSUBACK
/// [MQTT-3.10.4-5].
#[test]
fn unsubscribe_unknown_filter_acknowledged() {
    let b = Broker::start("");
    let mut c = b.connect("u", true);
    c.send(&unsubscribe(9, &["never/subscribed"]));
    c.expect_packet(&unsuback(9));
}

/// Overlapping subscriptions of one client (`a/+` QoS 0, `a/#` QoS 1):
/// ONE copy, at the highest granted QoS [MQTT-3.3.5-1].
#[test]
fn overlapping_subscriptions_deliver_one_copy() {
    if skip_on_mosquitto("mosquitto sends one copy per matching subscription (allowed)") {
        return;
    }
    let b = Broker::start("");
    let mut c = b.connect("ov", true);
    c.subscribe("a/+", 0);
    c.subscribe("a/#", 1);
    let mut p = b.connect("p", true);
    p.publish("a/b", b"once", 1, false);
    c.expect_msg("a/b", b"once", 1);
    c.expect_no_packet(QUIET);
    // QoS 0 publish: still one copy, at QoS 0.
    p.publish("a/b", b"zero", 0, false);
    c.expect_msg("a/b", b"zero", 0);
    c.expect_no_packet(QUIET);
}

/// Many subscribers on one topic, on both shards: each gets one copy.
#[test]
fn fan_out_to_many_subscribers() {
    let b = Broker::start("");
    let mut subs: Vec<Client> = (0..20)
        .map(|i| {
            let mut c = b.connect(&id_on_shard(&format!("fan{i}"), i % SHARDS), true);
            c.subscribe(if i % 3 == 0 { "fan/#" } else { "fan/out" }, 1);
            c
        })
        .collect();
    let mut p = b.connect("p", true);
    p.publish("fan/out", b"all", 1, false);
    for c in &mut subs {
        c.expect_msg("fan/out", b"all", 1);
    }
    for c in &mut subs {
        c.expect_no_packet(ms(50));
    }
}
