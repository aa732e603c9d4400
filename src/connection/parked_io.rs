//! The only I/O done on a parked connection's socket without bringing the
//! connection back: answering PINGREQs. An idle client pings every
//! keep-alive; waking it for that (new task, new glommio stream, then
//! parking again) cost ~45 µs of shard CPU per ping and came in bursts that
//! delayed everyone else (docs/benchmarks.md). Nonblocking syscalls only.

use crate::protocol::packet_type::{PINGREQ, PINGRESP};
use std::os::fd::RawFd;

/// Bytes read from a parked socket per readiness event.
const PEEK: usize = 256;
/// The whole packets, fixed header only (§3.12, §3.13).
const PING_REQUEST: [u8; 2] = [PINGREQ << 4, 0];
const PING_RESPONSE: [u8; 2] = [PINGRESP << 4, 0];

/// What a parked socket had to say.
#[derive(Debug, PartialEq, Eq)]
pub enum Heard {
    /// Only whole PINGREQs, this many, all answered.
    Pings(usize),
    /// Nothing after all (a spurious wake-up).
    Nothing,
    /// Anything else: these bytes, already read; the connection must handle
    /// them first.
    Wake(Vec<u8>),
    /// End of stream, or the socket failed.
    Closed,
}

/// Read what is there without blocking; answer it if it is only PINGREQs.
/// PINGRESPs the socket would not take whole are returned for the
/// connection to write.
pub fn listen(fd: RawFd) -> (Heard, Vec<u8>) {
    let mut buf = [0u8; PEEK];
    let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), PEEK, libc::MSG_DONTWAIT) };
    if n < 0 {
        let e = std::io::Error::last_os_error();
        return match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted => {
                (Heard::Nothing, Vec::new())
            }
            _ => (Heard::Closed, Vec::new()),
        };
    }
    let got = &buf[..n as usize];
    if got.is_empty() {
        return (Heard::Closed, Vec::new());
    }
    if got.len() % 2 != 0 || got.chunks(2).any(|p| p != PING_REQUEST) {
        return (Heard::Wake(got.to_vec()), Vec::new());
    }
    let pings = got.len() / 2;
    let answer = PING_RESPONSE.repeat(pings);
    let sent = unsafe {
        let flags = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
        libc::send(fd, answer.as_ptr().cast(), answer.len(), flags)
    };
    let sent = sent.max(0) as usize;
    (Heard::Pings(pings), answer[sent..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    fn pair() -> (UnixStream, UnixStream) {
        let (client, server) = UnixStream::pair().unwrap();
        client
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        (client, server)
    }

    #[test]
    fn pings_are_answered_in_place() {
        let (mut client, server) = pair();
        client.write_all(&[0xC0, 0, 0xC0, 0]).unwrap();
        assert_eq!(listen(server.as_raw_fd()), (Heard::Pings(2), vec![]));
        let mut resp = [0u8; 4];
        client.read_exact(&mut resp).unwrap();
        assert_eq!(resp, [0xD0, 0, 0xD0, 0]);
    }

    #[test]
    fn anything_else_is_handed_back_unanswered() {
        let (mut client, server) = pair();
        let publish = [0x30, 0x05, 0x00, 0x01, b't', b'h', b'i'];
        client
            .write_all(&[&[0xC0, 0][..], &publish].concat())
            .unwrap();
        let (heard, unsent) = listen(server.as_raw_fd());
        assert_eq!(heard, Heard::Wake([&[0xC0, 0][..], &publish].concat()));
        assert!(unsent.is_empty());
        // A lone first byte of a PINGREQ is not a PINGREQ yet.
        client.write_all(&[0xC0]).unwrap();
        assert_eq!(listen(server.as_raw_fd()).0, Heard::Wake(vec![0xC0]));
    }

    #[test]
    fn nothing_and_end_of_stream() {
        let (client, server) = pair();
        assert_eq!(listen(server.as_raw_fd()).0, Heard::Nothing);
        drop(client);
        assert_eq!(listen(server.as_raw_fd()).0, Heard::Closed);
    }
}
