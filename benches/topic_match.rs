//! Routing benchmarks: topic matching, the subscription trie, the retained
//! store. Quick run: `cargo bench --bench topic_match -j 1 -- --quick`.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use shardmq::protocol::{MqttStr, QoS};
use shardmq::router::{matches, FilterTrie, RetainedMessage, RetainedStore};
use std::hint::black_box;
use std::time::Instant;

fn bench_matches(c: &mut Criterion) {
    let pairs = [
        (
            "literal_hit",
            "device/12345/telemetry",
            "device/12345/telemetry",
        ),
        (
            "literal_miss",
            "device/12345/telemetry",
            "device/12346/telemetry",
        ),
        ("plus", "device/+/telemetry", "device/12345/telemetry"),
        ("hash", "device/#", "device/12345/telemetry/temperature"),
        ("dollar_rejected", "#", "$SYS/broker/clients/connected"),
        (
            "long",
            "fleet/eu/+/truck/+/engine/#",
            "fleet/eu/west/truck/42/engine/oil/pressure",
        ),
    ];
    let mut group = c.benchmark_group("matches");
    for (name, filter, topic) in pairs {
        group.bench_function(name, |b| {
            b.iter(|| matches(black_box(filter), black_box(topic)))
        });
    }
    group.finish();
}

/// `n` distinct-ish filters shaped like a device fleet: most subscribers are
/// devices on their own literal topics, some use per-device wildcards, a few
/// dashboards use fleet-wide ones.
fn fleet_filters(n: usize) -> Vec<String> {
    let mut filters: Vec<String> = (0..n)
        .map(|i| match i % 20 {
            0..=11 => format!("device/{i}/telemetry"),
            12..=14 => format!("device/{i}/+"),
            15 | 16 => format!("device/{i}/#"),
            17 => format!("site/{}/+/temperature", i % 997),
            18 => format!("site/{}/building/#", i % 991),
            _ => format!("device/{i}/cmd/+/ack"),
        })
        .collect();
    for dashboard in [
        "device/+/telemetry",
        "device/+/alarm/#",
        "site/+/+/temperature",
        "$SYS/#",
    ] {
        filters.push(dashboard.to_string());
    }
    filters
}

/// Topics that publishers send, spread over the fleet; a few match nothing.
fn fleet_topics(n: usize) -> Vec<String> {
    let mut x: u64 = 0x9e37_79b9;
    (0..1024)
        .map(|i| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let id = (x >> 33) as usize % n;
            match i % 8 {
                0..=4 => format!("device/{id}/telemetry"),
                5 => format!("site/{}/floor{}/temperature", id % 997, id % 7),
                6 => format!("device/{id}/alarm/overheat"),
                _ => format!("unrelated/{id}"),
            }
        })
        .collect()
}

fn fleet_trie(n: usize) -> FilterTrie<u32, u8> {
    let mut trie = FilterTrie::new();
    for (key, filter) in fleet_filters(n).iter().enumerate() {
        trie.insert(filter, key as u32, 1);
    }
    trie
}

fn bench_filter_trie(c: &mut Criterion) {
    let mut group = c.benchmark_group("filter_trie");
    for n in [10_000, 100_000] {
        let trie = fleet_trie(n);
        let topics = fleet_topics(n);
        let mut i = 0;
        group.bench_with_input(BenchmarkId::new("for_each_match", n), &trie, |b, trie| {
            b.iter(|| {
                i = (i + 1) % topics.len();
                let mut hits = 0u32;
                trie.for_each_match(black_box(&topics[i]), |_, qos| hits += *qos as u32);
                hits
            })
        });
    }
    let mut trie = fleet_trie(100_000);
    group.bench_function("insert_remove_new_filter/100000", |b| {
        b.iter(|| {
            trie.insert(black_box("device/999999/cmd/+/ack"), 7, 1);
            trie.remove(black_box("device/999999/cmd/+/ack"), &7)
        })
    });
    for key in 0..100_000 {
        trie.insert("news/#", key, 1);
    }
    group.bench_function("insert_remove_key_on_100k_key_filter", |b| {
        b.iter(|| {
            trie.insert(black_box("news/#"), 1_000_000, 1);
            trie.remove(black_box("news/#"), &1_000_000)
        })
    });
    group.finish();
}

fn retained_store(n: usize) -> RetainedStore {
    let mut store = RetainedStore::new();
    for i in 0..n / 2 {
        for leaf in ["telemetry", "status"] {
            store.set(RetainedMessage {
                topic: MqttStr::from(format!("device/{i}/{leaf}")),
                payload: Bytes::from_static(b"{\"v\":1}"),
                qos: QoS::AtMostOnce,
                properties: None,
                stored_at: Instant::now(),
            });
        }
    }
    store
}

fn bench_retained(c: &mut Criterion) {
    let store = retained_store(100_000);
    let mut group = c.benchmark_group("retained_100k");
    for filter in [
        "device/4242/status",
        "device/4242/#",
        "device/+/status",
        "#",
    ] {
        group.bench_with_input(
            BenchmarkId::new("for_each_match", filter),
            filter,
            |b, filter| {
                b.iter(|| {
                    let mut count = 0usize;
                    store.for_each_match(black_box(filter), |_| count += 1);
                    count
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench_matches, bench_filter_trie, bench_retained);
criterion_main!(benches);
