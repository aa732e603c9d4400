//! The WebSocket transport over real sockets: parked sockets answered in
//! place, and a live one reading, writing, detaching and attaching with a
//! partial frame in flight.

use super::*;
use crate::transport::tests::{connected, on_executor};
use crate::transport::Heard;
use bytes::Bytes;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;
use tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tungstenite::protocol::frame::{Frame, FrameHeader};

const WAIT: Duration = Duration::from_secs(5);

/// A client's frame on the wire: masked, as RFC 6455 §5.1 requires.
pub(super) fn client_frame(op: OpCode, fin: bool, payload: &[u8]) -> Vec<u8> {
    let header = FrameHeader {
        is_final: fin,
        opcode: op,
        mask: Some([0x11, 0x22, 0x33, 0x44]),
        ..FrameHeader::default()
    };
    let mut out = Vec::new();
    let f = Frame::from_payload(header, Bytes::copy_from_slice(payload));
    f.format(&mut out).unwrap();
    out
}

fn binary(payload: &[u8]) -> Vec<u8> {
    client_frame(OpCode::Data(Data::Binary), true, payload)
}

/// A parked plain WebSocket over a socket pair: the client end, and ours.
fn parked_pair() -> (UnixStream, WsDetached) {
    let (client, server) = UnixStream::pair().unwrap();
    client.set_read_timeout(Some(WAIT)).unwrap();
    let parked = WsDetached {
        inner: Detached::Tcp(OwnedFd::from(server)),
        raw: Vec::new(),
        out: Bytes::new(),
        wbuf: Vec::new(),
        end: None,
        max_payload: 1024,
        inbound: None,
    };
    (client, parked)
}

fn read_n(client: &mut UnixStream, n: usize) -> Vec<u8> {
    let mut got = vec![0; n];
    client.read_exact(&mut got).unwrap();
    got
}

#[test]
fn parked_pingreqs_and_pings_are_answered_in_frames() {
    let (mut client, mut ws) = parked_pair();
    client.write_all(&binary(&[0xC0, 0, 0xC0, 0])).unwrap();
    assert_eq!(listen_parked(&mut ws), (Heard::Pings(2), vec![]));
    assert_eq!(read_n(&mut client, 6), [0x82, 4, 0xD0, 0, 0xD0, 0]);
    // A WebSocket ping: its pong, and nothing for the connection.
    let ping = client_frame(OpCode::Control(Control::Ping), true, b"x");
    client.write_all(&ping).unwrap();
    assert_eq!(listen_parked(&mut ws), (Heard::Nothing, vec![]));
    assert_eq!(read_n(&mut client, 3), [0x8A, 1, b'x']);
    assert!(ws.raw.is_empty() && ws.wbuf.is_empty());
}

#[test]
fn parked_anything_else_wakes_the_connection() {
    let (mut client, mut ws) = parked_pair();
    let publish = [0x30, 0x05, 0x00, 0x01, b't', b'h', b'i'];
    client.write_all(&binary(&[0xC0, 0])).unwrap();
    client.write_all(&binary(&publish)).unwrap();
    let want = [&[0xC0, 0][..], &publish].concat();
    assert_eq!(listen_parked(&mut ws), (Heard::Wake(want), vec![]));
    // A partial frame waits for the live transport, which gets its bytes.
    let frame = binary(&publish);
    client.write_all(&frame[..5]).unwrap();
    assert_eq!(listen_parked(&mut ws), (Heard::Wake(vec![]), vec![]));
    assert_eq!(ws.raw, frame[..5]);
}

#[test]
fn a_parked_text_frame_is_left_for_the_live_transport_to_refuse() {
    let (mut client, mut ws) = parked_pair();
    let text = client_frame(OpCode::Data(Data::Text), true, b"hi");
    client
        .write_all(&[binary(&[0xC0, 0]), text.clone()].concat())
        .unwrap();
    assert_eq!(listen_parked(&mut ws), (Heard::Wake(vec![0xC0, 0]), vec![]));
    assert_eq!(ws.raw, text);
}

#[test]
fn a_parked_close_is_answered_and_ends_it() {
    let (mut client, mut ws) = parked_pair();
    let close = client_frame(OpCode::Control(Control::Close), true, &[0x03, 0xE8]);
    client.write_all(&close).unwrap();
    assert_eq!(listen_parked(&mut ws).0, Heard::Closed);
    assert_eq!(read_n(&mut client, 4), [0x88, 2, 0x03, 0xE8]);
    let (client, mut ws) = parked_pair();
    assert_eq!(listen_parked(&mut ws).0, Heard::Nothing);
    drop(client);
    assert_eq!(listen_parked(&mut ws).0, Heard::Closed);
}

/// A live WebSocket transport on this executor and the client's socket.
async fn live() -> (Transport, std::net::TcpStream) {
    let (tcp, peer) = connected().await;
    let ws = WsTransport::new(tcp, Vec::new(), 1024);
    (Transport::Ws(Box::new(ws)), peer)
}

#[test]
fn a_live_transport_reads_streams_and_detaches_mid_frame() {
    on_executor(|| async {
        let (mut io, mut peer) = live().await;
        let frame = binary(b"0123456789");
        peer.write_all(&[frame.clone(), frame[..4].to_vec()].concat())
            .unwrap();
        // A small buffer: the rest of the payload waits for the next read.
        let mut got = [0u8; 4];
        io.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"0123");
        assert!(!io.can_park(), "undelivered payload");
        let mut got = [0u8; 6];
        io.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"456789");
        // Half a frame is in our buffer: it travels with the socket.
        let detached = io.detach().map_err(|e| e.error).unwrap();
        peer.write_all(&frame[4..]).unwrap();
        let mut io = detached.attach();
        let mut got = [0u8; 10];
        io.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"0123456789");
        assert!(io.can_park());
        // Each write is one binary frame, unmasked.
        io.write_all(b"\xD0\x00").await.unwrap();
        let mut got = [0u8; 4];
        peer.read_exact(&mut got).unwrap();
        assert_eq!(got, [0x82, 2, 0xD0, 0]);
    });
}

#[test]
fn a_refused_frame_closes_with_its_code_then_fails_the_read() {
    on_executor(|| async {
        let (mut io, mut peer) = live().await;
        peer.write_all(&binary(&[0; 2000])).unwrap(); // over 1024
        let mut buf = [0u8; 64];
        let e = io.read(&mut buf).await.unwrap_err();
        let why = e.get_ref().and_then(|i| i.downcast_ref::<WsRefusal>());
        assert_eq!(why, Some(&WsRefusal::TooBig));
        let mut got = [0u8; 4];
        peer.read_exact(&mut got).unwrap();
        assert_eq!(got, [0x88, 9, 0x03, 0xF1]); // close 1009
        assert!(io.write(b"x").await.is_err(), "no data after a close");
    });
}

#[test]
fn a_parked_websocket_keeps_little() {
    // Boxed behind `Detached::Ws`: the socket, three empty buffers, no
    // decoder (a parked connection is at a message boundary).
    assert!(std::mem::size_of::<WsDetached>() <= 128);
    // The live one is boxed too: a TCP connection pays nothing for it.
    assert!(std::mem::size_of::<WsTransport>() <= 512);
}
