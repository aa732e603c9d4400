//! Codec micro-benchmarks: decode and encode per packet type.
//!
//! Decode is measured from a ready `Bytes` frame (what the broker hands the
//! codec after copying the packet out of its read buffer): fixed header plus
//! body, including the per-frame refcount the clone costs. Encode writes into
//! a reused `BytesMut`, as a connection's write buffer would be.
//!
//! Closures return `()` and hide results with `std::hint::black_box`:
//! criterion 0.5's own `black_box` (used on whatever a closure returns) is a
//! volatile copy on stable Rust and costs tens of ns for a `Packet`.

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use shardmq_protocol::*;
use std::hint::black_box;
use std::sync::Arc;

const V: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;

/// What a typical MQTT 5 publisher attaches: expiry, content type, one user
/// property.
fn v5_properties() -> PublishProperties {
    PublishProperties {
        message_expiry_interval: Some(3600),
        content_type: Some(MqttStr::from_static("application/json")),
        user_properties: vec![(
            MqttStr::from_static("trace"),
            MqttStr::from_static("4bf92f3577b34da6"),
        )],
        ..Default::default()
    }
}

fn publish(qos: QoS, payload_len: usize) -> Packet {
    Packet::Publish(Publish {
        dup: false,
        qos,
        retain: false,
        topic: MqttStr::from_static("sensors/building-7/floor-3/temperature"),
        packet_id: if qos == QoS::AtMostOnce { 0 } else { 42 },
        payload: Bytes::from(vec![0x5A; payload_len]),
        topic_alias: None,
        properties: None,
    })
}

fn connect() -> Packet {
    Packet::Connect(Box::new(Connect {
        protocol: V,
        clean_session: true,
        keep_alive: 60,
        client_id: MqttStr::from_static("loadgen-000123"),
        will: Some(Will {
            topic: MqttStr::from_static("clients/loadgen-000123/status"),
            payload: Bytes::from_static(b"offline"),
            qos: QoS::AtLeastOnce,
            retain: true,
            properties: None,
        }),
        username: Some(MqttStr::from_static("bench")),
        password: Some(Bytes::from_static(b"secret")),
        properties: None,
    }))
}

fn subscribe() -> Packet {
    let opts = SubscriptionOptions::qos;
    Packet::Subscribe(Subscribe {
        packet_id: 7,
        filters: vec![
            (
                MqttStr::from_static("sensors/+/floor-3/#"),
                opts(QoS::AtLeastOnce),
            ),
            (MqttStr::from_static("alerts/#"), opts(QoS::ExactlyOnce)),
            (
                MqttStr::from_static("$SYS/broker/load/+"),
                opts(QoS::AtMostOnce),
            ),
        ],
        properties: None,
    })
}

fn suback() -> Packet {
    let codes = vec![
        ReasonCode::GrantedQoS1,
        ReasonCode::UnspecifiedError,
        ReasonCode::Success,
    ];
    Packet::SubAck(SubAck {
        packet_id: 7,
        codes,
        properties: None,
    })
}

fn cases() -> Vec<(&'static str, Packet)> {
    vec![
        ("publish_qos0_16B", publish(QoS::AtMostOnce, 16)),
        ("publish_qos1_16B", publish(QoS::AtLeastOnce, 16)),
        ("publish_qos0_1KiB", publish(QoS::AtMostOnce, 1024)),
        ("publish_qos1_1KiB", publish(QoS::AtLeastOnce, 1024)),
        ("connect", connect()),
        (
            "connack",
            Packet::ConnAck(ConnAck::new(false, ReasonCode::Success)),
        ),
        ("subscribe_3", subscribe()),
        ("suback_3", suback()),
        ("puback", Packet::PubAck(Ack::new(42))),
        ("pubrel", Packet::PubRel(Ack::new(42))),
        ("pingreq", Packet::PingReq),
    ]
}

fn bench_decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    // Floor under every decode figure: cloning and dropping the frame.
    let frame = Bytes::copy_from_slice(&[0xC0, 0]);
    group.bench_function("baseline_frame_clone", |b| {
        b.iter(|| {
            black_box(black_box(&frame).clone());
        })
    });
    for (name, packet) in cases() {
        let mut buf = BytesMut::new();
        encode(&packet, V, &mut buf);
        let frame = buf.freeze();
        group.throughput(Throughput::Bytes(frame.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &frame, |b, frame| {
            b.iter(|| {
                let header = parse_frame_header(black_box(frame), 1 << 20)
                    .unwrap()
                    .unwrap();
                black_box(decode_packet(frame.clone(), &header, V).unwrap());
            })
        });
    }
    group.finish();
}

fn bench_encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    let mut out = BytesMut::with_capacity(4096);
    for (name, packet) in cases() {
        group.throughput(Throughput::Bytes(encoded_len(&packet, V) as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &packet, |b, packet| {
            b.iter(|| {
                out.clear();
                encode(black_box(packet), V, &mut out);
                black_box(&out);
            })
        });
    }
    group.finish();
}

/// The per-delivery path: no `Publish` value, a `PublishRef` built on the
/// spot from wherever topic and payload are kept.
fn bench_encode_publish(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode_publish");
    let topic = "sensors/building-7/floor-3/temperature";
    let mut out = BytesMut::with_capacity(4096);
    for (name, qos, len) in [
        ("qos0_16B", QoS::AtMostOnce, 16),
        ("qos1_16B", QoS::AtLeastOnce, 16),
        ("qos0_1KiB", QoS::AtMostOnce, 1024),
        ("qos1_1KiB", QoS::AtLeastOnce, 1024),
    ] {
        let payload = vec![0x5A; len];
        let publish = |topic, payload| PublishRef::new(topic, payload, qos, 42);
        let len = publish_len(&publish(topic, &payload), V);
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                let p = publish(black_box(topic), black_box(&payload));
                encode_publish(&p, V, &mut out);
                black_box(&out);
            })
        });
    }
    group.finish();
}

/// MQTT 5 PUBLISH, decode and encode, with and without properties; the
/// `_none` cases are what 3.1.1's cost should be compared with, and the
/// `_alias` one (a Topic Alias as the only property, which decodes without
/// allocating) should stay close to them.
fn bench_v5_publish(c: &mut Criterion) {
    let mut group = c.benchmark_group("v5_publish");
    let props = Arc::new(v5_properties());
    for (name, qos, with, alias) in [
        ("qos0_16B_none", QoS::AtMostOnce, false, None),
        ("qos1_16B_none", QoS::AtLeastOnce, false, None),
        ("qos0_16B_alias", QoS::AtMostOnce, false, Some(3)),
        ("qos0_16B_props", QoS::AtMostOnce, true, None),
        ("qos1_16B_props", QoS::AtLeastOnce, true, None),
    ] {
        let Packet::Publish(mut p) = publish(qos, 16) else {
            unreachable!()
        };
        p.properties = with.then(|| props.clone());
        p.topic_alias = alias;
        let packet = Packet::Publish(p);
        let mut buf = BytesMut::new();
        encode(&packet, V5, &mut buf);
        let frame = buf.freeze();
        group.throughput(Throughput::Bytes(frame.len() as u64));
        group.bench_function(format!("decode_{name}"), |b| {
            b.iter(|| {
                let header = parse_frame_header(black_box(&frame), 1 << 20)
                    .unwrap()
                    .unwrap();
                black_box(decode_packet(frame.clone(), &header, V5).unwrap());
            })
        });
        let Packet::Publish(p) = &packet else {
            unreachable!()
        };
        let mut out = BytesMut::with_capacity(4096);
        group.bench_function(format!("encode_publish_{name}"), |b| {
            b.iter(|| {
                out.clear();
                encode_publish(&PublishRef::from(black_box(p)), V5, &mut out);
                black_box(&out);
            })
        });
    }
    // A delivery with a topic alias (empty topic) and a subscription
    // identifier added to the shared properties.
    let payload = [0x5Au8; 16];
    let ids = [7u32];
    let mut out = BytesMut::with_capacity(4096);
    group.bench_function("encode_publish_qos0_16B_alias_subid", |b| {
        b.iter(|| {
            out.clear();
            let p = PublishRef {
                topic: "",
                payload: black_box(&payload),
                qos: QoS::AtMostOnce,
                retain: false,
                dup: false,
                packet_id: 0,
                properties: Some(black_box(&props)),
                topic_alias: Some(3),
                subscription_ids: &ids,
            };
            encode_publish(&p, V5, &mut out);
            black_box(&out);
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    bench_decode,
    bench_encode,
    bench_encode_publish,
    bench_v5_publish
);
criterion_main!(benches);
