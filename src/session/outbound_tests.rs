use super::*;
use crate::session::test_util::{msg, Recorder, Sent};

fn pending(n: u8, qos: QoS) -> Pending {
    Pending::new(msg(n, qos), &[])
}

#[test]
fn window_then_queue_then_pump_in_order() {
    let mut o = Outbound::default();
    let mut out = Recorder::default();
    for i in 0..2 {
        assert!(o.can_send(2));
        o.send(pending(i, QoS::AtLeastOnce), &mut out);
    }
    assert!(!o.can_send(2));
    for i in 2..5 {
        assert_eq!(
            o.enqueue(pending(i, QoS::AtLeastOnce), 10, QueueOverflow::DropNew),
            Enqueued::Queued
        );
    }
    let sent = out.take();
    assert_eq!(sent.len(), 2);
    let first = sent[0].packet_id();
    assert!(o.on_puback(first));
    assert!(!o.on_puback(first), "a second PUBACK matches nothing");
    assert_eq!(o.pump(2, &mut out, |_| ()), 1);
    assert_eq!(out.take()[0].payload(), 2);
    assert_eq!(o.queued_len(), 2);
}

#[test]
fn overflow_policies() {
    let mut o = Outbound::default();
    for i in 0..3 {
        o.enqueue(pending(i, QoS::AtLeastOnce), 3, QueueOverflow::DropNew);
    }
    assert_eq!(
        o.enqueue(pending(9, QoS::AtLeastOnce), 3, QueueOverflow::DropNew),
        Enqueued::DroppedNew
    );
    assert_eq!(
        o.enqueue(pending(9, QoS::AtLeastOnce), 3, QueueOverflow::DropOldest),
        Enqueued::DroppedOldest
    );
    let mut out = Recorder::default();
    o.pump(10, &mut out, |_| ());
    let got: Vec<u8> = out.take().iter().map(Sent::payload).collect();
    assert_eq!(got, vec![1, 2, 9]);
    let mut empty = Outbound::default();
    assert_eq!(
        empty.enqueue(pending(1, QoS::AtLeastOnce), 0, QueueOverflow::DropOldest),
        Enqueued::DroppedNew
    );
}

#[test]
fn qos2_handshake_and_resend_with_dup() {
    let mut o = Outbound::default();
    let mut out = Recorder::default();
    o.send(pending(1, QoS::ExactlyOnce), &mut out);
    o.send(pending(2, QoS::ExactlyOnce), &mut out);
    let ids: Vec<u16> = out.take().iter().map(Sent::packet_id).collect();
    assert!(o.on_pubrec(ids[0], &mut out));
    assert_eq!(out.take(), vec![Sent::PubRel(ids[0])]);
    // Reconnect: PUBREL for the first, PUBLISH with DUP for the second.
    assert!(o.resend(10, &mut out).is_empty(), "nothing refused");
    let again = out.take();
    assert_eq!(again[0], Sent::PubRel(ids[0]));
    match again[1] {
        Sent::Publish { dup, packet_id, .. } => {
            assert!(dup);
            assert_eq!(packet_id, ids[1]);
        }
        ref other => panic!("expected PUBLISH, got {other:?}"),
    }
    assert!(o.on_pubcomp(ids[0]));
    assert!(
        !o.on_pubcomp(ids[1]),
        "PUBCOMP before PUBREC does not complete"
    );
    assert_eq!(o.inflight_len(), 1);
}

#[test]
fn packet_ids_skip_zero_and_ids_in_flight() {
    let mut o = Outbound(Some(Box::new(Window {
        next_id: 65534,
        ..Default::default()
    })));
    let mut out = Recorder::default();
    o.send(pending(1, QoS::AtLeastOnce), &mut out);
    o.send(pending(2, QoS::AtLeastOnce), &mut out);
    let ids: Vec<u16> = out.take().iter().map(Sent::packet_id).collect();
    assert_eq!(ids, vec![65535, 1]);
    o.0.as_mut().unwrap().next_id = 0;
    assert_eq!(
        o.send(pending(3, QoS::AtLeastOnce), &mut out),
        Some(2),
        "1 is still in flight"
    );
}

#[test]
fn subscription_ids_travel_with_queued_and_resent_messages() {
    let mut o = Outbound::default();
    let mut out = Recorder::default();
    o.send(Pending::new(msg(1, QoS::AtLeastOnce), &[7, 9]), &mut out);
    o.enqueue(
        Pending::new(msg(2, QoS::AtLeastOnce), &[3]),
        10,
        QueueOverflow::DropNew,
    );
    o.resend(10, &mut out);
    o.pump(5, &mut out, |_| ());
    let ids: Vec<Vec<u32>> = out
        .take()
        .iter()
        .map(|w| match w {
            Sent::Publish { ids, .. } => ids.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids, vec![vec![7, 9], vec![7, 9], vec![3]]);
}

/// A resumed session whose client now allows fewer unacknowledged PUBLISHes
/// than were in flight re-sends only that many; the rest follow, with DUP
/// and their packet ids, as acks come in, before anything queued
/// [MQTT-3.3.4-9].
#[test]
fn resume_with_a_smaller_window_holds_the_rest() {
    let mut o = Outbound::default();
    let mut out = Recorder::default();
    for i in 0..3 {
        o.send(pending(i, QoS::AtLeastOnce), &mut out);
    }
    let ids: Vec<u16> = out.take().iter().map(Sent::packet_id).collect();
    o.enqueue(pending(3, QoS::AtLeastOnce), 10, QueueOverflow::DropNew);
    assert!(o.resend(1, &mut out).is_empty());
    let again = out.take();
    assert_eq!(
        again.iter().map(Sent::packet_id).collect::<Vec<_>>(),
        [ids[0]]
    );
    assert_eq!(o.pump(1, &mut out, |_| ()), 0, "window still full");
    assert!(out.take().is_empty());
    assert!(o.on_puback(ids[0]));
    assert_eq!(o.pump(1, &mut out, |_| ()), 1);
    let next = out.take();
    assert_eq!((next[0].packet_id(), next[0].payload()), (ids[1], 1));
    assert!(o.on_puback(ids[1]));
    o.pump(1, &mut out, |_| ());
    assert!(o.on_puback(out.take()[0].packet_id()));
    o.pump(1, &mut out, |_| ());
    assert_eq!(
        out.take()[0].payload(),
        3,
        "the queue only after the held ones"
    );
}
