//! MQTT over WebSocket (`transport = "ws"`) and secure WebSocket
//! (`"wss"`), RFC 6455 and MQTT §6: connect, publish and subscribe across
//! transports and shards, takeover across transports, parking over WS and
//! WSS, packets split across frames and packed into one [MQTT-6.0.0-2],
//! pings and close frames. Bad input: `websocket_bad_input.rs`; real
//! clients: `websocket_clients.rs`.

use crate::common::certs::Certs;
use crate::common::metrics::*;
use crate::common::ws::*;
use crate::common::*;
use tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tungstenite::protocol::frame::{CloseFrame, Frame};
use tungstenite::Message;

#[test]
fn ws_wss_and_tcp_clients_reach_each_other_on_every_shard() {
    let certs = Certs::new();
    let Some((b, addr)) = ws_broker(&certs, "", "") else {
        return;
    };
    let (ws, wss) = (b.port_of("ws"), b.port_of("wss"));
    for shard in 0..SHARDS {
        // A WSS publisher reaches a TCP subscriber on the other shard.
        let mut tcp_sub = b.connect(&id_on_shard("tcp-sub", 1 - shard), true);
        tcp_sub.subscribe("x/#", 1);
        let pid = id_on_shard("wss-pub", shard);
        let mut wss_pub = connected(wss_client(wss, &pid, certs.client(None)), &pid);
        wss_pub.publish("x/1", b"from wss", 1, false);
        tcp_sub.expect_msg("x/1", b"from wss", 1);

        // A TCP publisher reaches WS and WSS subscribers on either shard.
        let id = id_on_shard("ws-sub", shard);
        let mut ws_sub = connected(ws_client(ws, &id), &id);
        ws_sub.subscribe("y/#", 1);
        let id = id_on_shard("wss-sub", 1 - shard);
        let mut wss_sub = connected(wss_client(wss, &id, certs.client(None)), &id);
        wss_sub.subscribe("y/#", 0);
        let mut tcp_pub = b.connect(&id_on_shard("tcp-pub", shard), true);
        tcp_pub.publish("y/1", b"from tcp", 1, false);
        ws_sub.expect_msg("y/1", b"from tcp", 1);
        wss_sub.expect_msg("y/1", b"from tcp", 0);

        // And WS to WSS, with a payload larger than one outgoing frame.
        let id = id_on_shard("ws-pub", 1 - shard);
        let mut ws_pub = connected(ws_client(ws, &id), &id);
        let big = vec![0x5A; 40_000];
        ws_pub.publish("y/2", &big, 0, false);
        wss_sub.expect_msg("y/2", &big, 0);
        ws_sub.expect_msg("y/2", &big, 0);
        for c in [wss_pub, ws_sub, wss_sub, ws_pub] {
            c.disconnect();
        }
    }
    // Every upgrade counted, on its listener.
    for l in [format!("ws:{ws}"), format!("wss:{wss}")] {
        let ups = format!("shardmq_listener_websocket_upgrades_total{{listener=\"{l}\"}}");
        wait_for(&addr, &ups, (2 * SHARDS) as f64);
    }
}

#[test]
fn a_session_moves_between_tcp_ws_and_wss_by_takeover() {
    let certs = Certs::new();
    let Some((b, _)) = ws_broker(&certs, "", "") else {
        return;
    };
    let (ws, wss) = (b.port_of("ws"), b.port_of("wss"));
    let id = "ws-switcher";
    let mut first = b.connect(id, false);
    first.subscribe("s/#", 1);
    let mut p = b.connect("s-pub", true);
    let mut last = first;
    for (n, mut next) in [
        ws_client(ws, id),
        wss_client(wss, id, certs.client(None)),
        Client::tcp(b.port, id),
    ]
    .into_iter()
    .enumerate()
    {
        next.send(&Connect::new(id).clean(false).build());
        next.expect_packet(&connack(true, 0));
        last.expect_closed(WAIT);
        let payload = format!("hop {n}");
        p.publish("s/1", payload.as_bytes(), 1, false);
        next.expect_msg("s/1", payload.as_bytes(), 1);
        last = next;
    }
}

/// CONNECT in three frames of one fragmented message, PUBLISH split over
/// two frames, SUBSCRIBE and PINGREQ packed into one frame.
#[test]
fn packets_split_across_frames_and_packed_into_one_are_read() {
    let certs = Certs::new();
    let Some((b, _)) = ws_broker(&certs, "", "") else {
        return;
    };
    for (kind, port) in [("ws", b.port_of("ws")), ("wss", b.port_of("wss"))] {
        let id = format!("split-{kind}");
        let mut c = match kind {
            "ws" => ws_client(port, &id),
            _ => wss_client(port, &id, certs.client(None)),
        };
        let connect = Connect::new(&id).build();
        let ws = c.websocket();
        let (a, rest) = connect.split_at(3);
        let (m, z) = rest.split_at(rest.len() / 2);
        for (op, part, fin) in [(Data::Binary, a, false), (Data::Continue, m, false)] {
            ws.send_frame(Frame::message(part.to_vec(), OpCode::Data(op), fin))
                .unwrap();
        }
        ws.send_frame(Frame::message(
            z.to_vec(),
            OpCode::Data(Data::Continue),
            true,
        ))
        .unwrap();
        c.expect_packet(&connack(false, 0));
        let packed = [subscribe(1, &[("k/#", 1)]), PINGREQ.to_vec()].concat();
        c.send(&packed);
        c.expect_packet(&suback(1, &[1]));
        c.expect_packet(&PINGRESP);
        // QoS 0: what comes back is only its own subscription's copy.
        let publish = publish("k/1", b"in two frames", 0, false, 0);
        let (head, tail) = publish.split_at(4);
        c.send(head);
        c.send(tail);
        c.expect_msg("k/1", b"in two frames", 0);
        c.disconnect();
    }
}

#[test]
fn pings_get_pongs_and_a_close_frame_gets_its_answer() {
    let certs = Certs::new();
    let Some((b, _)) = ws_broker(&certs, "", "") else {
        return;
    };
    let mut bystander = b.connect("ws-bystander", true);
    bystander.subscribe("b/#", 0);
    let mut c = connected(ws_client(b.port_of("ws"), "closer"), "closer");
    let ws = c.websocket();
    ws.ws
        .send(Message::Ping(b"are you there".to_vec().into()))
        .unwrap();
    match ws.next_message(WAIT) {
        Ok(Message::Pong(p)) => assert_eq!(&p[..], b"are you there"),
        other => panic!("expected a pong, got {other:?}"),
    }
    let bye = CloseFrame {
        code: CloseCode::Normal,
        reason: "done".into(),
    };
    ws.ws.close(Some(bye)).unwrap();
    match ws.next_message(WAIT) {
        Ok(Message::Close(Some(f))) => assert_eq!(f.code, CloseCode::Normal),
        other => panic!("expected the closing answer, got {other:?}"),
    }
    // Then the broker ends the TCP connection.
    assert!(matches!(
        ws.next_message(WAIT),
        Err(tungstenite::Error::ConnectionClosed)
    ));
    let mut p = b.connect("b-pub", true);
    p.publish("b/1", b"still fine", 0, false);
    bystander.expect_msg("b/1", b"still fine", 0);
}

/// Idle WS and WSS connections park: PINGREQs (in binary frames) and
/// WebSocket pings are answered in place, deliveries and the client's own
/// packets bring them back, a close frame ends them where they lie.
#[test]
fn parked_ws_and_wss_connections_answer_pings_and_wake_for_traffic() {
    let certs = Certs::new();
    let park = "[tuning]\npark_after = 0.05\n";
    let Some((b, addr)) = ws_broker(&certs, "", park) else {
        return;
    };
    let (ws, wss) = (b.port_of("ws"), b.port_of("wss"));
    let mut subs = Vec::new();
    for s in 0..SHARDS {
        let id = id_on_shard("pws", s);
        subs.push(connected(ws_client(ws, &id), &id));
        let id = id_on_shard("pwss", s);
        subs.push(connected(wss_client(wss, &id, certs.client(None)), &id));
    }
    for c in &mut subs {
        c.subscribe("p/#", 1);
    }
    let n = subs.len() as f64;
    std::thread::sleep(ms(1100));
    wait_for(&addr, "shardmq_connections_parked", n);
    for c in &mut subs {
        c.ping(); // PINGRESP in a binary frame, from the parked transport
        let ws = c.websocket();
        ws.ws.send(Message::Ping(b"p".to_vec().into())).unwrap();
        assert!(matches!(ws.next_message(WAIT), Ok(Message::Pong(_))));
    }
    let text = wait_for(&addr, "shardmq_pings_while_parked_total", n);
    assert_eq!(value(&text, "shardmq_unparks_total"), Some(0.0), "{text}");
    let mut p = b.connect("pws-pub", true);
    p.publish("p/1", b"wake up", 1, false);
    for c in &mut subs {
        c.expect_msg("p/1", b"wake up", 1);
    }
    // Parked again, then woken by a client's own PUBLISH.
    std::thread::sleep(ms(1100));
    wait_for(&addr, "shardmq_connections_parked", n);
    subs[1].send(&publish("p/2", b"from parked wss", 0, false, 0));
    for c in &mut subs {
        c.expect_msg("p/2", b"from parked wss", 0);
    }
    // A close frame to a parked connection is answered and ends it.
    std::thread::sleep(ms(1100));
    wait_for(&addr, "shardmq_connections_parked", n);
    for mut c in subs {
        let ws = c.websocket();
        ws.ws.close(None).unwrap();
        assert!(matches!(ws.next_message(WAIT), Ok(Message::Close(_))));
    }
    wait_until(&addr, "shardmq_connections", 1.0); // the publisher's
}

/// Poll until `series` reads `v`.
fn wait_until(addr: &str, series: &str, v: f64) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let text = scrape(addr);
        if value(&text, series) == Some(v) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{series} not {v}:\n{text}"
        );
        std::thread::sleep(ms(200));
    }
}
