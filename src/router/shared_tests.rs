use super::*;

fn groups(me: usize, s: SharedStrategy) -> SharedGroups<u8> {
    SharedGroups::new(me, s)
}

#[test]
fn parse_accepts_only_valid_share_names() {
    assert_eq!(parse("a/b"), None);
    assert_eq!(parse("$share"), None, "no slash: an ordinary filter");
    assert_eq!(parse("$share/g/a/+"), Some(Some(("g", "a/+"))));
    assert_eq!(parse("$share/g/#"), Some(Some(("g", "#"))));
    for bad in [
        "$share//a",
        "$share/g",
        "$share/g/",
        "$share/+/a",
        "$share/#/a",
        "$share/a+/x",
    ] {
        assert_eq!(parse(bad), Some(None), "{bad}");
    }
}

#[test]
fn join_leave_and_forget_when_empty_everywhere() {
    let mut g = groups(0, SharedStrategy::RoundRobin);
    assert!(g.join("g", "a/+", 7, 1));
    assert!(
        !g.join("g", "a/+", 7, 2),
        "replacing options is no new member"
    );
    let mut m = Vec::new();
    g.matches("a/x", &mut m);
    assert_eq!(m.len(), 1);
    let id = m[0];
    assert_eq!(g.local_members("g", "a/+").collect::<Vec<_>>(), [7]);
    assert!(g.leave("g", "a/+", 7));
    assert!(!g.leave("g", "a/+", 7));
    // A peer still has members: the group stays.
    g.set_members(
        1,
        "g",
        "a/+",
        40,
        Members {
            online: 1,
            total: 1,
        },
    );
    assert_eq!(g.set_members(0, "g", "a/+", 0, Members::default()), id);
    assert!(!g.is_empty());
    g.set_members(1, "g", "a/+", 40, Members::default());
    assert!(g.is_empty(), "no member on any shard: forgotten");
    m.clear();
    g.matches("a/x", &mut m);
    assert!(m.is_empty());
    assert!(g.join("g", "a/+", 7, 1));
    m.clear();
    g.matches("a/x", &mut m);
    assert_ne!(m[0], id, "ids are not reused");
}

#[test]
fn round_robin_over_shards_weighted_by_members() {
    let mut g = groups(0, SharedStrategy::RoundRobin);
    g.join("g", "t", 1, 0);
    let own = g.set_members(
        0,
        "g",
        "t",
        0,
        Members {
            online: 1,
            total: 1,
        },
    );
    g.set_members(
        1,
        "g",
        "t",
        99,
        Members {
            online: 3,
            total: 3,
        },
    );
    let mut per = [0; 2];
    for _ in 0..400 {
        let (s, their) = g.pick_shard(own, 0, None).unwrap();
        assert_eq!(their, if s == 0 { own } else { 99 });
        per[s] += 1;
    }
    assert_eq!(per, [100, 300]);
    assert_eq!(g.pick_shard(own, 0, Some(1)).unwrap().0, 0);
    assert_eq!(g.pick_shard(own, 0, Some(0)).unwrap().0, 1);
}

#[test]
fn online_members_preferred_over_offline() {
    let mut g = groups(0, SharedStrategy::RoundRobin);
    for slot in 0..4 {
        g.join("g", "t", slot, 0);
    }
    let own = g.set_members(
        0,
        "g",
        "t",
        0,
        Members {
            online: 0,
            total: 4,
        },
    );
    g.set_members(
        1,
        "g",
        "t",
        5,
        Members {
            online: 1,
            total: 1,
        },
    );
    for _ in 0..10 {
        assert_eq!(
            g.pick_shard(own, 0, None),
            Some((1, 5)),
            "shard 1 has the online one"
        );
    }
    g.set_members(1, "g", "t", 5, Members::default());
    assert_eq!(
        g.pick_shard(own, 0, None).unwrap().0,
        0,
        "offline members still count"
    );
    let online = |slot| slot == 2;
    for _ in 0..10 {
        assert_eq!(g.pick_local(own, 0, online).unwrap().slot, 2);
    }
    let all: std::collections::HashSet<u32> = (0..8)
        .map(|_| g.pick_local(own, 0, |_| false).unwrap().slot)
        .collect();
    assert_eq!(all.len(), 4, "none online: round robin over all");
}

#[test]
fn local_round_robin_visits_every_member_in_turn() {
    let mut g = groups(0, SharedStrategy::RoundRobin);
    for slot in [10, 11, 12] {
        g.join("g", "t", slot, 0);
    }
    let id = g.set_members(
        0,
        "g",
        "t",
        0,
        Members {
            online: 3,
            total: 3,
        },
    );
    let picks: Vec<u32> = (0..6)
        .map(|_| g.pick_local(id, 0, |_| true).unwrap().slot)
        .collect();
    assert_eq!(picks[..3], picks[3..]);
    let mut first: Vec<u32> = picks[..3].to_vec();
    first.sort();
    assert_eq!(first, [10, 11, 12]);
    assert_eq!(g.counters().collect::<Vec<_>>(), [("g", 6)]);
}

#[test]
fn sticky_keeps_a_publisher_on_one_member() {
    let mut g = groups(0, SharedStrategy::Sticky);
    for slot in 0..5 {
        g.join("g", "t", slot, 0);
    }
    let id = g.set_members(
        0,
        "g",
        "t",
        0,
        Members {
            online: 5,
            total: 5,
        },
    );
    g.set_members(
        1,
        "g",
        "t",
        3,
        Members {
            online: 5,
            total: 5,
        },
    );
    for hint in [1u32, 77, 12345] {
        let s = g.pick_shard(id, hint, None);
        let l = g.pick_local(id, hint, |_| true).unwrap().slot;
        for _ in 0..20 {
            assert_eq!(g.pick_shard(id, hint, None), s);
            assert_eq!(g.pick_local(id, hint, |_| true).unwrap().slot, l);
        }
    }
}

#[test]
fn random_reaches_every_member() {
    let mut g = groups(1, SharedStrategy::Random);
    for slot in 0..4 {
        g.join("g", "t", slot, 0);
    }
    let id = g.set_members(
        1,
        "g",
        "t",
        0,
        Members {
            online: 4,
            total: 4,
        },
    );
    g.set_members(
        0,
        "g",
        "t",
        8,
        Members {
            online: 4,
            total: 4,
        },
    );
    let mut shards = [0; 2];
    let mut slots = [0; 4];
    for _ in 0..800 {
        shards[g.pick_shard(id, 0, None).unwrap().0] += 1;
        slots[g.pick_local(id, 0, |_| true).unwrap().slot as usize] += 1;
    }
    assert!(shards.iter().all(|&n| n > 300), "{shards:?}");
    assert!(slots.iter().all(|&n| n > 120), "{slots:?}");
}

#[test]
fn no_member_anywhere_picks_nothing() {
    let mut g = groups(0, SharedStrategy::RoundRobin);
    let id = g.set_members(
        1,
        "g",
        "t",
        4,
        Members {
            online: 0,
            total: 1,
        },
    );
    assert!(g.pick_local(id, 0, |_| true).is_none());
    assert_eq!(g.pick_shard(id, 0, Some(1)), None);
    assert_eq!(g.pick_shard(id + 1, 0, None), None, "unknown id");
}

#[test]
fn delivery_counters_are_bounded() {
    let mut g = groups(0, SharedStrategy::RoundRobin);
    for i in 0..COUNTED_GROUPS + 10 {
        let name = format!("g{i}");
        g.join(&name, "t", 0, 0);
        let id = g.set_members(
            0,
            &name,
            "t",
            0,
            Members {
                online: 1,
                total: 1,
            },
        );
        g.pick_local(id, 0, |_| true).unwrap();
    }
    let c: Vec<(&str, u64)> = g.counters().collect();
    assert_eq!(c.len(), COUNTED_GROUPS + 1);
    assert_eq!(c.last().unwrap(), &("_other", 10));
}
