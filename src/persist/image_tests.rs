//! Replay of hand-written records: the moves of a session's window, and
//! the snapshot rules (`STATE` replaces, `SNAP_END` drops what the snapshot
//! did not mention, a RESYNC segment ignores sessions it has not defined).

use super::image::Replay;
use super::record::{kind, put_grant, put_message, put_sub, unix_ms, Put};
use crate::protocol::QoS;
use crate::session::{InflightState, Message, Origin, Subscription};
use bytes::Bytes;
use std::time::Instant;

fn rec(r: &mut Replay, k: u8, body: impl FnOnce(&mut Vec<u8>)) {
    let mut b = Vec::new();
    body(&mut b);
    r.apply(k, 7, &b).expect("valid record");
}

fn msg(n: u8) -> Message {
    Message {
        topic: "t".into(),
        payload: Bytes::from(vec![n]),
        qos: QoS::ExactlyOnce,
        retain: false,
        properties: None,
        origin: Origin::Broker,
        published_at: Instant::now(),
    }
}

fn session(r: &mut Replay, sid: u64, id: &str) {
    rec(r, kind::SESSION, |b| {
        b.u64(sid);
        b.str(id);
    });
    rec(r, kind::EXPIRY, |b| {
        b.u64(sid);
        b.u32(60);
    });
}

fn message(r: &mut Replay, mid: u64, n: u8) {
    rec(r, kind::MSG, |b| {
        b.u64(mid);
        b.u64(unix_ms());
        put_message(b, &msg(n));
    });
}

fn queue(r: &mut Replay, sid: u64, mid: u64, qos: QoS) {
    rec(r, kind::QUEUE, |b| {
        b.u64(sid);
        b.u64(mid);
        put_grant(b, qos, false, &[]);
    });
}

fn with_id(r: &mut Replay, k: u8, sid: u64, id: u16) {
    rec(r, k, |b| {
        b.u64(sid);
        b.u16(id);
    });
}

#[test]
fn window_moves_replay_to_the_same_queue_and_in_flight() {
    let mut r = Replay::default();
    r.segment(false);
    session(&mut r, 1, "a");
    rec(&mut r, kind::SUB, |b| {
        b.u64(1);
        put_sub(b, "t/#", &Subscription::qos(QoS::AtLeastOnce));
    });
    for n in 1..=4 {
        message(&mut r, n as u64, n);
        queue(&mut r, 1, n as u64, QoS::AtLeastOnce);
    }
    with_id(&mut r, kind::SEND_QUEUED, 1, 10); // 1 in flight as 10
    with_id(&mut r, kind::SEND_QUEUED, 1, 11); // 2 in flight as 11
    with_id(&mut r, kind::ACK, 1, 10);
    rec(&mut r, kind::DROP_FRONT, |b| b.u64(1)); // 3 dropped
    with_id(&mut r, kind::QOS2_IN, 1, 99);
    let img = r.finish();
    let s = &img.sessions[&1];
    assert_eq!(&*s.client_id, "a");
    assert_eq!((s.expiry, s.partition), (60, 7));
    assert_eq!(s.subs.len(), 1);
    assert_eq!(s.inflight.len(), 1);
    assert_eq!(s.inflight[0].packet_id, 11);
    assert_eq!(s.inflight[0].state, InflightState::AwaitPubAck);
    let queued: Vec<u8> = s.queue.iter().map(|p| p.msg.payload[0]).collect();
    assert_eq!(queued, vec![4]);
    assert_eq!(
        s.queue[0].msg.qos,
        QoS::AtLeastOnce,
        "the grant, not the published QoS"
    );
    assert_eq!(s.qos2_in, vec![99]);
    assert_eq!(img.next_sid, 2);
    assert_eq!(img.next_mid, 5);
}

#[test]
fn pubrec_keeps_the_id_without_the_message_and_end_forgets() {
    let mut r = Replay::default();
    r.segment(false);
    session(&mut r, 1, "a");
    session(&mut r, 2, "b");
    message(&mut r, 1, 1);
    rec(&mut r, kind::SEND, |b| {
        b.u64(1);
        b.u16(5);
        b.u64(1);
        put_grant(b, QoS::ExactlyOnce, false, &[3]);
    });
    with_id(&mut r, kind::REC, 1, 5);
    rec(&mut r, kind::END, |b| b.u64(2));
    let img = r.finish();
    let f = &img.sessions[&1].inflight[0];
    assert_eq!((f.packet_id, f.state), (5, InflightState::AwaitPubComp));
    assert!(f.msg.is_none());
    assert!(!img.sessions.contains_key(&2));
}

#[test]
fn snapshot_end_drops_what_the_snapshot_did_not_mention() {
    let mut r = Replay::default();
    r.segment(false);
    session(&mut r, 1, "kept");
    session(&mut r, 2, "gone");
    r.segment(false);
    rec(&mut r, kind::SNAP_BEGIN, |_| {});
    message(&mut r, 1, 1);
    queue(&mut r, 2, 1, QoS::AtLeastOnce); // live, before its session's turn
    session(&mut r, 3, "new"); // created live during the snapshot
    rec(&mut r, kind::STATE, |b| {
        b.u64(1);
        b.str("kept");
        b.u32(30);
        b.u64(0);
        b.u8(0); // no will
        b.u32(0); // subs
        b.u32(0); // qos2
        b.u32(0); // in flight
        b.u32(0); // queue
    });
    rec(&mut r, kind::SNAP_END, |_| {});
    let img = r.finish();
    let mut ids: Vec<_> = img.sessions.keys().copied().collect();
    ids.sort();
    assert_eq!(ids, vec![1, 3]);
    assert_eq!(img.sessions[&1].expiry, 30);
}

#[test]
fn resync_segment_ignores_sessions_it_has_not_defined() {
    let mut r = Replay::default();
    r.segment(false);
    session(&mut r, 1, "a");
    r.segment(true);
    rec(&mut r, kind::EXPIRY, |b| {
        b.u64(1);
        b.u32(5);
    });
    let img = r.finish();
    assert_eq!(img.sessions[&1].expiry, 60, "stale record ignored");
}

#[test]
fn one_session_per_client_id_the_newest() {
    let mut r = Replay::default();
    r.segment(false);
    session(&mut r, 1, "x");
    session(&mut r, 2, "x");
    let img = r.finish();
    assert_eq!(img.sessions.keys().copied().collect::<Vec<_>>(), vec![2]);
}

#[test]
fn qos2_keys_seen_until_forgotten_and_a_snapshot_replaces_them() {
    use super::qos2::Key;
    let key = |n| Key {
        publisher: 9,
        packet_id: n,
    };
    let put = |r: &mut Replay, k: u8, n: u16| {
        rec(r, k, |b| super::qos2::put_key(b, key(n)));
    };
    let mut r = Replay::default();
    r.segment(false);
    put(&mut r, kind::QOS2_SEEN, 1);
    put(&mut r, kind::QOS2_SEEN, 2);
    put(&mut r, kind::QOS2_FORGET, 1);
    r.segment(false);
    rec(&mut r, kind::SNAP_BEGIN, |_| {});
    put(&mut r, kind::QOS2_SEEN, 3); // live, during the snapshot
    put(&mut r, kind::QOS2_SEEN, 2); // the snapshot's
    rec(&mut r, kind::SNAP_END, |_| {});
    let img = r.finish();
    let mut ids: Vec<u16> = img.qos2_seen.iter().map(|k| k.packet_id).collect();
    ids.sort();
    assert_eq!(ids, vec![2, 3]);
}
