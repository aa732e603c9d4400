use super::*;
use crate::router::topic;

fn msg(topic: &str, payload: &'static str) -> RetainedMessage {
    RetainedMessage {
        topic: MqttStr::from(topic),
        payload: Bytes::from_static(payload.as_bytes()),
        qos: QoS::AtLeastOnce,
        properties: None,
        stored_at: Instant::now(),
    }
}

/// Topics of the retained messages matching `filter`, sorted.
fn matched(store: &RetainedStore, filter: &str) -> Vec<String> {
    let mut out = Vec::new();
    store.for_each_match(filter, |m| out.push(m.topic.to_string()));
    out.sort();
    out
}

fn store_of(topics: &[&str]) -> RetainedStore {
    let mut store = RetainedStore::new();
    for t in topics {
        assert_eq!(store.set(msg(t, "x")), SetOutcome::Added);
    }
    store
}

fn walk_nodes(store: &RetainedStore) -> usize {
    let mut stack = vec![&store.root];
    let mut count = 0;
    while let Some(node) = stack.pop() {
        count += 1;
        stack.extend(node.children.values());
    }
    count - 1
}

#[test]
fn set_replaces_and_empty_payload_deletes() {
    let mut store = RetainedStore::new();
    assert_eq!(store.set(msg("a/b", "1")), SetOutcome::Added);
    assert_eq!(store.set(msg("a/b", "2")), SetOutcome::Replaced);
    assert_eq!(store.len(), 1);
    assert_eq!(store.get("a/b").unwrap().payload, "2");
    assert_eq!(store.set(msg("a/b", "")), SetOutcome::Deleted);
    assert!(store.get("a/b").is_none());
    assert_eq!(
        store.set(msg("a/b", "")),
        SetOutcome::Unchanged,
        "nothing stored"
    );
    assert!(store.is_empty());
    assert_eq!(store.node_count(), 0);
    let deltas: Vec<isize> = [
        SetOutcome::Added,
        SetOutcome::Replaced,
        SetOutcome::Deleted,
        SetOutcome::Unchanged,
    ]
    .map(SetOutcome::count_delta)
    .to_vec();
    assert_eq!(deltas, [1, 0, -1, 0]);
}

#[test]
fn get_and_remove_are_exact() {
    let mut store = store_of(&["a", "a/b", "a/b/c", "/a", "a/", "$SYS/x"]);
    assert_eq!(store.get("a/b").unwrap().topic.as_str(), "a/b");
    assert!(store.get("a/b/c/d").is_none());
    assert!(store.get("b").is_none());
    assert!(store.get("a/+").is_none(), "no wildcard lookup");
    assert_eq!(store.remove("a/b").unwrap().topic.as_str(), "a/b");
    assert!(store.remove("a/b").is_none());
    assert_eq!(store.get("a/b/c").unwrap().topic.as_str(), "a/b/c");
    assert_eq!(store.len(), 5);
}

#[test]
fn removal_prunes_nodes() {
    let mut store = store_of(&["a/b/c/d", "a/b", "a/b/x", "a//", "$SYS/a/b"]);
    assert_eq!(store.node_count(), walk_nodes(&store));
    store.remove("a/b/c/d");
    assert_eq!(store.node_count(), walk_nodes(&store));
    assert_eq!(store.node_count(), 8, "c and d freed");
    for t in ["a//", "a/b", "$SYS/a/b", "a/b/x"] {
        assert!(store.remove(t).is_some());
        assert_eq!(store.node_count(), walk_nodes(&store), "after {t}");
    }
    assert_eq!((store.len(), store.node_count()), (0, 0));
}

#[test]
fn wildcard_queries() {
    let store = store_of(&[
        "a", "a/b", "a/c", "a/b/c", "a/", "/a", "b/b", "$SYS/x", "$SYS/x/y", "a/$b",
    ]);
    assert_eq!(matched(&store, "a/+"), ["a/", "a/$b", "a/b", "a/c"]);
    assert_eq!(
        matched(&store, "a/#"),
        ["a", "a/", "a/$b", "a/b", "a/b/c", "a/c"]
    );
    assert_eq!(matched(&store, "+/b"), ["a/b", "b/b"]);
    assert_eq!(matched(&store, "+"), ["a"]);
    assert_eq!(
        matched(&store, "+/+"),
        ["/a", "a/", "a/$b", "a/b", "a/c", "b/b"]
    );
    assert_eq!(matched(&store, "+/#").len(), 8, "all but the two $ topics");
    assert_eq!(matched(&store, "#").len(), 8);
    assert_eq!(matched(&store, "/#"), ["/a"]);
    assert_eq!(matched(&store, "a/b/+/#"), ["a/b/c"]);
    assert_eq!(matched(&store, "a/b/c/#"), ["a/b/c"]);
    assert_eq!(matched(&store, "a/b/c/+"), Vec::<String>::new());
    assert_eq!(matched(&store, "x/#"), Vec::<String>::new());
}

#[test]
fn dollar_topics_need_a_literal_first_level() {
    let store = store_of(&["$SYS/x", "$SYS/x/y", "$SYS", "sys/x"]);
    assert_eq!(matched(&store, "#"), ["sys/x"]);
    assert_eq!(matched(&store, "+/x"), ["sys/x"]);
    assert_eq!(matched(&store, "+"), Vec::<String>::new());
    assert_eq!(matched(&store, "$SYS/#"), ["$SYS", "$SYS/x", "$SYS/x/y"]);
    assert_eq!(matched(&store, "$SYS/+"), ["$SYS/x"]);
    assert_eq!(matched(&store, "$SYS/x"), ["$SYS/x"]);
}

#[test]
fn deep_topics_do_not_overflow_the_stack() {
    let topic = vec!["x"; 25_000].join("/");
    let mut store = store_of(&[&topic, "x"]);
    assert_eq!(matched(&store, "x/#").len(), 2);
    assert_eq!(matched(&store, &vec!["+"; 25_000].join("/")).len(), 1);
    assert!(store.remove(&topic).is_some());
    assert_eq!(store.node_count(), 1);
    store.set(msg(&topic, "again"));
    drop(store);
}

use crate::router::test_rng::{Lcg, LEVELS};

fn random_levels(rng: &mut Lcg, wildcards: bool) -> String {
    let n = 1 + rng.below(4);
    let mut levels: Vec<&str> = (0..n)
        .map(|_| match rng.below(8) {
            0 | 1 if wildcards => "+",
            _ => LEVELS[rng.below(LEVELS.len())],
        })
        .collect();
    if wildcards && rng.below(4) == 0 {
        *levels.last_mut().unwrap() = "#";
    }
    levels.join("/")
}

#[test]
fn randomized_against_linear_scan() {
    let mut rng = Lcg(0xfeed);
    let mut store = RetainedStore::new();
    let mut model: Vec<String> = Vec::new();
    for round in 0..4_000 {
        let topic = random_levels(&mut rng, false);
        let delete = rng.below(3) == 0;
        let outcome = store.set(msg(&topic, if delete { "" } else { "p" }));
        let pos = model.iter().position(|t| *t == topic);
        match (delete, pos) {
            (true, Some(i)) => drop(model.swap_remove(i)),
            (false, None) => model.push(topic),
            _ => {}
        }
        let expected_delta = match (delete, pos) {
            (true, Some(_)) => -1,
            (false, None) => 1,
            _ => 0,
        };
        assert_eq!(outcome.count_delta(), expected_delta);
        if round % 8 == 0 {
            let filter = random_levels(&mut rng, true);
            let mut expected: Vec<String> = model
                .iter()
                .filter(|t| topic::matches(&filter, t))
                .cloned()
                .collect();
            expected.sort();
            assert_eq!(matched(&store, &filter), expected, "filter {filter:?}");
        }
    }
    assert_eq!(store.len(), model.len());
    assert_eq!(store.node_count(), walk_nodes(&store));
    for t in &model {
        assert!(store.remove(t).is_some());
    }
    assert_eq!((store.len(), store.node_count()), (0, 0));
}
