use super::*;
use crate::router::topic;
use std::collections::HashSet;

/// Nodes below the root, counted by walking (cross-checks `node_count`).
fn walk_nodes<K, D>(trie: &FilterTrie<K, D>) -> usize {
    let mut stack = vec![&trie.root];
    let mut count = 0;
    while let Some(node) = stack.pop() {
        count += 1;
        stack.extend(node.literal.values());
        stack.extend(node.plus.as_deref());
    }
    count - 1
}

/// Matches as sorted (key, data) pairs.
fn matched<K: Copy + Eq + Hash + Ord, D: Clone + Ord>(
    trie: &FilterTrie<K, D>,
    topic: &str,
) -> Vec<(K, D)> {
    let mut out = Vec::new();
    trie.for_each_match(topic, |k, d| out.push((*k, d.clone())));
    out.sort();
    out
}

/// A trie whose data is the filter itself, so matches name their filter.
fn trie_of(filters: &[&str]) -> FilterTrie<u32, String> {
    let mut trie = FilterTrie::new();
    for (i, f) in filters.iter().enumerate() {
        trie.insert(f, i as u32, f.to_string());
    }
    trie
}

fn matched_filters(trie: &FilterTrie<u32, String>, topic: &str) -> Vec<String> {
    let mut filters: Vec<String> = matched(trie, topic).into_iter().map(|(_, f)| f).collect();
    filters.sort();
    filters
}

#[test]
fn insert_remove_prunes_every_node() {
    let mut trie: FilterTrie<u32, u8> = FilterTrie::new();
    let filters = [
        "a/b/c", "a/b", "a/+/c", "a/#", "#", "+", "/#", "a//b", "+/+/#", "x/y/z/w",
    ];
    for (i, f) in filters.iter().enumerate() {
        trie.insert(f, i as u32, 1);
    }
    assert_eq!(trie.node_count(), walk_nodes(&trie));
    assert_eq!((trie.len(), trie.filter_count()), (10, 10));
    // Remove in an order that leaves interior nodes needed for a while.
    for (i, f) in filters.iter().enumerate().rev() {
        assert_eq!(trie.remove(f, &(i as u32)).removed, Some(1), "{f}");
        assert_eq!(trie.node_count(), walk_nodes(&trie), "after {f}");
    }
    assert_eq!(trie.node_count(), 0);
    assert!(trie.is_empty());
    assert_eq!(trie.filter_count(), 0);
}

#[test]
fn prune_keeps_nodes_still_in_use() {
    let mut trie: FilterTrie<u32, ()> = FilterTrie::new();
    trie.insert("a/b/c/d", 1, ());
    trie.insert("a/b", 2, ());
    trie.insert("a/b/x", 3, ());
    assert_eq!(trie.node_count(), 5);
    trie.remove("a/b/c/d", &1);
    assert_eq!(
        trie.node_count(),
        3,
        "c and d freed, a/b kept for its entry and x"
    );
    trie.remove("a/b", &2);
    assert_eq!(trie.node_count(), 3, "a/b still leads to x");
    assert_eq!(matched(&trie, "a/b/x"), [(3, ())]);
    trie.remove("a/b/x", &3);
    assert_eq!(trie.node_count(), 0);
}

#[test]
fn removing_a_missing_entry_changes_nothing() {
    let mut trie: FilterTrie<u32, ()> = FilterTrie::new();
    trie.insert("a/b", 1, ());
    let none = RemoveOutcome {
        removed: None,
        filter_now_empty: false,
    };
    assert_eq!(trie.remove("a/b", &2), none);
    assert_eq!(trie.remove("a/b/c", &1), none);
    assert_eq!(trie.remove("a", &1), none);
    assert_eq!(trie.remove("a/#", &1), none);
    assert_eq!(trie.remove("#", &1), none);
    assert_eq!((trie.len(), trie.node_count()), (1, 2));
}

#[test]
fn first_on_filter_and_filter_now_empty_flip_once() {
    let mut trie: FilterTrie<u16, ()> = FilterTrie::new();
    for filter in ["a/b", "a/#", "#", "+", "a/+/c"] {
        assert_eq!(
            trie.insert(filter, 1, ()),
            InsertOutcome {
                previous: None,
                first_on_filter: true
            }
        );
        assert_eq!(
            trie.insert(filter, 2, ()),
            InsertOutcome {
                previous: None,
                first_on_filter: false
            }
        );
        assert_eq!(
            trie.insert(filter, 1, ()),
            InsertOutcome {
                previous: Some(()),
                first_on_filter: false
            }
        );
    }
    assert_eq!((trie.len(), trie.filter_count()), (10, 5));
    for filter in ["a/b", "a/#", "#", "+", "a/+/c"] {
        assert_eq!(
            trie.remove(filter, &1),
            RemoveOutcome {
                removed: Some(()),
                filter_now_empty: false
            }
        );
        assert_eq!(
            trie.remove(filter, &2),
            RemoveOutcome {
                removed: Some(()),
                filter_now_empty: true
            }
        );
        assert!(
            !trie.remove(filter, &2).filter_now_empty,
            "only the flip is reported"
        );
    }
    assert_eq!(
        (trie.len(), trie.filter_count(), trie.node_count()),
        (0, 0, 0)
    );
}

#[test]
fn insert_replaces_data_and_get_is_exact() {
    let mut trie: FilterTrie<u32, u8> = FilterTrie::new();
    assert_eq!(trie.insert("a/+", 7, 1).previous, None);
    assert_eq!(trie.insert("a/+", 7, 2).previous, Some(1));
    assert_eq!(trie.len(), 1);
    assert_eq!(trie.get("a/+", &7), Some(&2));
    assert_eq!(trie.get("a/b", &7), None, "get does not match wildcards");
    assert_eq!(trie.get("a/+", &8), None);
    trie.insert("#", 1, 3);
    trie.insert("/#", 1, 4);
    trie.insert("a/#", 1, 5);
    trie.insert("a", 1, 6);
    assert_eq!(trie.get("#", &1), Some(&3));
    assert_eq!(trie.get("/#", &1), Some(&4));
    assert_eq!(trie.get("a/#", &1), Some(&5));
    assert_eq!(trie.get("a", &1), Some(&6));
    assert_eq!(trie.get("/", &1), None);
}

#[test]
fn overlapping_filters_report_a_key_once_per_filter() {
    let mut trie: FilterTrie<u32, u8> = FilterTrie::new();
    trie.insert("a/b", 1, 0);
    trie.insert("a/+", 1, 1);
    trie.insert("a/#", 1, 2);
    trie.insert("#", 1, 1);
    trie.insert("a/+", 2, 0);
    assert_eq!(
        matched(&trie, "a/b"),
        [(1, 0), (1, 1), (1, 1), (1, 2), (2, 0)]
    );
    assert_eq!(matched(&trie, "a/c"), [(1, 1), (1, 1), (1, 2), (2, 0)]);
    assert_eq!(matched(&trie, "b"), [(1, 1)]);
}

#[test]
fn hash_matches_the_parent_level() {
    let trie = trie_of(&["a/#", "a/b/#", "#", "/#", "+/#", "a/+/#"]);
    assert_eq!(matched_filters(&trie, "a"), ["#", "+/#", "a/#"]);
    assert_eq!(
        matched_filters(&trie, "a/b"),
        ["#", "+/#", "a/#", "a/+/#", "a/b/#"]
    );
    assert_eq!(matched_filters(&trie, "a/"), ["#", "+/#", "a/#", "a/+/#"]);
    assert_eq!(matched_filters(&trie, "/"), ["#", "+/#", "/#"]);
    assert_eq!(matched_filters(&trie, "b/c/d"), ["#", "+/#"]);
}

#[test]
fn dollar_topics_skip_leading_wildcards() {
    let trie = trie_of(&[
        "#", "+", "+/x", "+/#", "$SYS/#", "$SYS/+", "$SYS/x", "a/+", "$SYS",
    ]);
    assert_eq!(
        matched_filters(&trie, "$SYS/x"),
        ["$SYS/#", "$SYS/+", "$SYS/x"]
    );
    assert_eq!(matched_filters(&trie, "$SYS"), ["$SYS", "$SYS/#"]);
    assert_eq!(matched_filters(&trie, "$other"), Vec::<String>::new());
    assert_eq!(matched_filters(&trie, "a/$x"), ["#", "+/#", "a/+"]);
    assert_eq!(matched_filters(&trie, "SYS/x"), ["#", "+/#", "+/x"]);
}

#[test]
fn ten_thousand_keys_on_one_filter() {
    let mut trie: FilterTrie<u32, u8> = FilterTrie::new();
    for k in 0..10_000 {
        assert_eq!(
            trie.insert("news/#", k, (k % 3) as u8).first_on_filter,
            k == 0
        );
    }
    assert!(matches!(trie.root.literal["news"].hash, Entries::Large(_)));
    assert_eq!(
        (trie.len(), trie.filter_count(), trie.node_count()),
        (10_000, 1, 1)
    );
    assert_eq!(trie.get("news/#", &9_999), Some(&0));
    let mut seen = vec![false; 10_000];
    trie.for_each_match("news/today", |k, _| seen[*k as usize] = true);
    assert!(seen.iter().all(|&s| s));
    for k in (0..10_000).rev() {
        assert_eq!(trie.remove("news/#", &k).filter_now_empty, k == 0);
    }
    assert_eq!((trie.len(), trie.node_count()), (0, 0));
}

#[test]
fn deep_filters_do_not_overflow_the_stack() {
    // ~25k levels: recursion (in insert, match or drop) would blow a 2 MiB
    // test-thread stack.
    let levels = 25_000;
    let plus = vec!["+"; levels].join("/");
    let topic = vec![""; levels].join("/");
    let mut trie: FilterTrie<u32, ()> = FilterTrie::new();
    trie.insert(&plus, 1, ());
    trie.insert(&format!("{topic}/#"), 2, ());
    assert_eq!(matched(&trie, &topic), [(1, ()), (2, ())]);
    assert_eq!(trie.node_count(), 2 * levels);
    trie.remove(&plus, &1);
    assert_eq!(trie.node_count(), levels);
    drop(trie);
}

#[test]
fn many_pending_plus_branches_spill_correctly() {
    // Every node on a 40-deep literal chain has a `+` child: 40 branches
    // are pending at once, more than the inline stack holds.
    let filters: Vec<String> = (0..40).map(|i| format!("{}+/#", "a/".repeat(i))).collect();
    let refs: Vec<&str> = filters.iter().map(String::as_str).collect();
    let trie = trie_of(&refs);
    let topic = vec!["a"; 50].join("/");
    assert_eq!(matched_filters(&trie, &topic).len(), 40);
    assert_eq!(matched_filters(&trie, "a/a/a").len(), 3);
}

use crate::router::test_rng::{Lcg, LEVELS};

fn random_topic(rng: &mut Lcg) -> String {
    let n = 1 + rng.below(4);
    (0..n)
        .map(|_| LEVELS[rng.below(LEVELS.len())])
        .collect::<Vec<_>>()
        .join("/")
}

fn random_filter(rng: &mut Lcg) -> String {
    let n = 1 + rng.below(4);
    let mut levels: Vec<&str> = (0..n)
        .map(|_| match rng.below(8) {
            0 | 1 => "+",
            _ => LEVELS[rng.below(LEVELS.len())],
        })
        .collect();
    if rng.below(4) == 0 {
        *levels.last_mut().unwrap() = "#";
    }
    levels.join("/")
}

#[test]
fn randomized_against_topic_matches() {
    let mut rng = Lcg(0x5eed);
    let mut trie: FilterTrie<u32, String> = FilterTrie::new();
    let mut model: HashSet<(String, u32)> = HashSet::new();
    for round in 0..4_000 {
        let filter = random_filter(&mut rng);
        let key = rng.below(6) as u32;
        if rng.below(3) == 0 {
            let removed = trie.remove(&filter, &key).removed;
            assert_eq!(removed.is_some(), model.remove(&(filter.clone(), key)));
        } else {
            let was_new = model.insert((filter.clone(), key));
            assert_eq!(
                trie.insert(&filter, key, filter.clone()).previous.is_none(),
                was_new
            );
        }
        if round % 8 == 0 {
            let topic = random_topic(&mut rng);
            let mut expected: Vec<(u32, String)> = model
                .iter()
                .filter(|(f, _)| topic::matches(f, &topic))
                .map(|(f, k)| (*k, f.clone()))
                .collect();
            expected.sort();
            assert_eq!(matched(&trie, &topic), expected, "topic {topic:?}");
        }
    }
    assert_eq!(trie.len(), model.len());
    let filters: HashSet<&String> = model.iter().map(|(f, _)| f).collect();
    assert_eq!(trie.filter_count(), filters.len());
    assert_eq!(trie.node_count(), walk_nodes(&trie));
    for (filter, key) in &model {
        assert!(trie.remove(filter, key).removed.is_some());
    }
    assert_eq!(
        (trie.len(), trie.filter_count(), trie.node_count()),
        (0, 0, 0)
    );
}
