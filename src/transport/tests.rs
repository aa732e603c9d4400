use super::*;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::{LocalExecutorBuilder, Placement};
use std::io::{Read, Write};
use std::mem::size_of;
use std::net::TcpListener;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

/// Runs `f` on a small executor of its own.
pub(super) fn on_executor<F: std::future::Future<Output = ()>>(f: impl FnOnce() -> F) {
    let ex = LocalExecutorBuilder::new(Placement::Unbound)
        .io_memory(64 << 10)
        .ring_depth(64)
        .make()
        .expect("executor");
    ex.run(f());
}

/// A transport on this executor and the std socket at the other end.
pub(super) async fn connected() -> (Transport, std::net::TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let ours = glommio::net::TcpStream::connect(addr).await.unwrap();
    let (peer, _) = listener.accept().unwrap();
    peer.set_read_timeout(Some(WAIT)).unwrap();
    (Transport::tcp(ours), peer)
}

#[test]
fn detach_then_attach_keeps_the_stream() {
    on_executor(|| async {
        let (mut io, mut peer) = connected().await;
        io.write_all(b"before").await.unwrap();
        let mut got = [0u8; 6];
        peer.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"before");

        let detached = io.detach().map_err(|e| e.error).unwrap();
        peer.write_all(b"while detached").unwrap();
        let mut io = detached.attach();
        let mut got = [0u8; 14];
        io.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"while detached");
        io.write_all(b"after").await.unwrap();
        let mut got = [0u8; 5];
        peer.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"after");
    });
}

#[test]
fn a_dropped_detached_closes_the_socket() {
    on_executor(|| async {
        let (io, mut peer) = connected().await;
        let detached = io.detach().map_err(|e| e.error).unwrap();
        drop(detached);
        let mut got = [0u8; 1];
        assert_eq!(
            peer.read(&mut got).unwrap(),
            0,
            "the peer sees end of stream"
        );
    });
}

/// A parked TCP connection over a socket pair: the client end, and ours.
fn parked_pair() -> (UnixStream, Detached) {
    let (client, server) = UnixStream::pair().unwrap();
    client.set_read_timeout(Some(WAIT)).unwrap();
    (client, Detached::Tcp(OwnedFd::from(server)))
}

#[test]
fn parked_pings_are_answered_in_place() {
    let (mut client, mut parked) = parked_pair();
    client.write_all(&[0xC0, 0, 0xC0, 0]).unwrap();
    assert_eq!(parked.listen_parked(), (Heard::Pings(2), vec![]));
    let mut resp = [0u8; 4];
    client.read_exact(&mut resp).unwrap();
    assert_eq!(resp, [0xD0, 0, 0xD0, 0]);
}

#[test]
fn parked_anything_else_is_handed_back_unanswered() {
    let (mut client, mut parked) = parked_pair();
    let publish = [0x30, 0x05, 0x00, 0x01, b't', b'h', b'i'];
    let sent = [&[0xC0, 0][..], &publish].concat();
    client.write_all(&sent).unwrap();
    assert_eq!(parked.listen_parked(), (Heard::Wake(sent), vec![]));
    // A lone first byte of a PINGREQ is not a PINGREQ yet.
    client.write_all(&[0xC0]).unwrap();
    assert_eq!(parked.listen_parked().0, Heard::Wake(vec![0xC0]));
}

#[test]
fn parked_nothing_and_end_of_stream() {
    let (client, mut parked) = parked_pair();
    assert_eq!(parked.listen_parked().0, Heard::Nothing);
    drop(client);
    assert_eq!(parked.listen_parked().0, Heard::Closed);
}

#[test]
fn tcp_costs_no_more_than_a_pointer_over_the_socket() {
    // Parked connections hold a `Detached`, live ones a `Transport`; the
    // other transports are boxed behind one pointer.
    assert_eq!(size_of::<Detached>(), size_of::<(OwnedFd, Box<u8>)>());
    let stream = size_of::<glommio::net::TcpStream>();
    assert!(size_of::<Transport>() <= stream + size_of::<usize>());
}
