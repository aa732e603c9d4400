//! ACL checks against files of 1,000 rules: the check on every PUBLISH
//! (and on deliveries of subscriptions broader than their read grant) must
//! stay under 100 ns. Quick run: `cargo bench --bench acl -j 1 -- --quick`.

use criterion::{criterion_group, criterion_main, Criterion};
use shardmq::auth::acl::{parse, Access, Acl, Who};
use std::hint::black_box;

/// 1,000 rules shaped like a deployment: 50 anonymous rules, 100 users
/// with 8 rules each (one a deny), 150 patterns.
fn mixed() -> String {
    let mut f = String::new();
    for i in 0..50 {
        f += &format!("topic read public/{i}/#\n");
    }
    for u in 0..100 {
        f += &format!("user user{u}\n");
        f += &format!("topic readwrite site/{u}/#\n");
        f += &format!("topic read fleet/+/{u}/status\n");
        f += &format!("topic write cmd/{u}/+/set\n");
        f += &format!("topic read alerts/{u}/#\n");
        f += &format!("topic deny site/{u}/secret/#\n");
        f += &format!("topic read shared/{}/#\n", u % 7);
        f += &format!("topic write logs/{u}\n");
        f += &format!("topic read $SYS/broker/{u}/#\n");
    }
    for p in 0..150 {
        f += &format!("pattern readwrite devices/%c/{p}/#\n");
    }
    f
}

/// 1,000 rules in one section (the anonymous one).
fn flat() -> String {
    (0..1000)
        .map(|i| match i % 4 {
            0 => format!("topic readwrite fleet/{i}/#\n"),
            1 => format!("topic read fleet/+/{i}/temp\n"),
            2 => format!("topic write cmd/{i}\n"),
            _ => format!("topic deny fleet/{i}/secret\n"),
        })
        .collect()
}

/// 1,000 patterns.
fn patterns() -> String {
    (0..1000)
        .map(|i| match i % 2 {
            0 => format!("pattern readwrite p{i}/%c/#\n"),
            _ => format!("pattern read u{i}/%u/+\n"),
        })
        .collect()
}

fn compile(text: &str) -> Acl {
    let rules = parse(text.as_bytes()).unwrap();
    let n = rules.anonymous.len()
        + rules.patterns.len()
        + rules.users.iter().map(|u| u.1.len()).sum::<usize>();
    assert_eq!(n, 1000);
    Acl::new(&rules)
}

fn bench_checks(c: &mut Criterion) {
    let (mixed, flat, pats) = (compile(&mixed()), compile(&flat()), compile(&patterns()));
    let user = Who {
        client_id: "sensor-4711",
        user: Some("user57"),
    };
    let anon = Who {
        client_id: "sensor-4711",
        user: None,
    };
    let cases: [(&str, &Acl, Who, &str, Access, bool); 9] = [
        (
            "mixed/user_grant",
            &mixed,
            user,
            "site/57/floor/3/temp",
            Access::Write,
            true,
        ),
        (
            "mixed/user_deny_rule",
            &mixed,
            user,
            "site/57/secret/key",
            Access::Read,
            false,
        ),
        (
            "mixed/pattern_grant",
            &mixed,
            user,
            "devices/sensor-4711/99/t",
            Access::Write,
            true,
        ),
        (
            "mixed/nothing_matches",
            &mixed,
            user,
            "other/topic/name/here",
            Access::Write,
            false,
        ),
        (
            "mixed/anonymous_grant",
            &mixed,
            anon,
            "public/42/news",
            Access::Read,
            true,
        ),
        (
            "flat/plus_grant",
            &flat,
            anon,
            "fleet/eu/501/temp",
            Access::Read,
            true,
        ),
        (
            "flat/deny_rule",
            &flat,
            anon,
            "fleet/3/secret",
            Access::Read,
            false,
        ),
        (
            "patterns/client_id",
            &pats,
            user,
            "p998/sensor-4711/x/y",
            Access::Write,
            true,
        ),
        (
            "patterns/nothing_matches",
            &pats,
            user,
            "p998/other/x",
            Access::Write,
            false,
        ),
    ];
    let mut group = c.benchmark_group("acl_check_1000_rules");
    for (name, acl, who, topic, access, want) in cases {
        assert_eq!(acl.allows(who, topic, access), want, "{name}");
        group.bench_function(name, |b| {
            b.iter(|| acl.allows(black_box(who), black_box(topic), access))
        });
    }
    group.finish();

    // SUBSCRIBE: judged once per filter, against the rules' filters.
    let mut group = c.benchmark_group("acl_subscribe_1000_rules");
    group.bench_function("mixed/broad_filter", |b| {
        b.iter(|| mixed.subscription(black_box(user), black_box("site/#")))
    });
    group.bench_function("mixed/covered_filter", |b| {
        b.iter(|| mixed.subscription(black_box(user), black_box("site/57/a/#")))
    });
    group.bench_function("mixed/filter_under_the_patterns", |b| {
        b.iter(|| mixed.subscription(black_box(user), black_box("devices/+/7/#")))
    });
    group.finish();
}

fn bench_compile(c: &mut Criterion) {
    let text = mixed();
    c.bench_function("acl_compile_1000_rules", |b| {
        b.iter(|| Acl::new(&parse(black_box(text.as_bytes())).unwrap()))
    });
}

criterion_group!(benches, bench_checks, bench_compile);
criterion_main!(benches);
