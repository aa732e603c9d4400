//! Readiness for parked connections: one epoll set per shard, waited on by
//! a small thread of its own that writes the ready tokens into a socket the
//! shard reads like any other.
//!
//! Why not io_uring: glommio keeps a `Source` (~650 B) and an armed
//! POLL_ADD per socket and has no public "wait until this fd is readable";
//! an epoll registration costs user space nothing. The thread blocks in
//! `epoll_wait`, never an executor; it only runs when a parked socket wakes.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;

/// Events taken per `epoll_wait`.
const BATCH: usize = 256;

/// The shard's handle on its epoll set.
pub struct Poller {
    epoll: Arc<OwnedFd>,
}

impl Poller {
    /// Create the epoll set and its thread. Returns the poller and the
    /// shard's end of the token socket (8-byte little-endian tokens).
    pub fn start(shard: usize) -> io::Result<(Poller, OwnedFd)> {
        let epfd = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        let epoll = Arc::new(unsafe { OwnedFd::from_raw_fd(epfd) });
        let mut pair = [0; 2];
        let flags = libc::SOCK_STREAM | libc::SOCK_CLOEXEC;
        cvt(unsafe { libc::socketpair(libc::AF_UNIX, flags, 0, pair.as_mut_ptr()) })?;
        let (theirs, ours) =
            unsafe { (OwnedFd::from_raw_fd(pair[0]), OwnedFd::from_raw_fd(pair[1])) };
        let ep = epoll.clone();
        std::thread::Builder::new()
            .name(format!("shardmq-park-{shard}"))
            .stack_size(64 << 10)
            .spawn(move || wait_loop(&ep, &ours))?;
        Ok((Poller { epoll }, theirs))
    }

    /// Watch `fd` until it is readable or closed, once (one-shot: a socket
    /// yields one token per `watch` or `rearm`).
    pub fn watch(&self, fd: RawFd, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, token)
    }

    /// Watch a watched `fd` again after its token came.
    pub fn rearm(&self, fd: RawFd, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, token)
    }

    fn ctl(&self, op: i32, fd: RawFd, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLONESHOT) as u32,
            u64: token,
        };
        cvt(unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), op, fd, &mut ev) }).map(drop)
    }

    /// Stop watching `fd` (before it gets a glommio stream again).
    pub fn unwatch(&self, fd: RawFd) {
        let op = libc::EPOLL_CTL_DEL;
        unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), op, fd, std::ptr::null_mut()) };
    }
}

/// The thread: wait, forward the tokens, until the shard's end is gone.
fn wait_loop(epoll: &OwnedFd, out: &OwnedFd) {
    let mut events = [libc::epoll_event { events: 0, u64: 0 }; BATCH];
    let mut buf = Vec::with_capacity(BATCH * 8);
    loop {
        let n =
            unsafe { libc::epoll_wait(epoll.as_raw_fd(), events.as_mut_ptr(), BATCH as i32, -1) };
        if n < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            tracing::error!(error = %io::Error::last_os_error(), "epoll_wait failed: parked connections stay parked");
            return;
        }
        buf.clear();
        for ev in &events[..n as usize] {
            let token = ev.u64;
            buf.extend_from_slice(&token.to_le_bytes());
        }
        if send_all(out, &buf).is_err() {
            return; // the shard is gone
        }
    }
}

/// Blocking write of all of `buf` (this thread may block; a shard never does).
fn send_all(fd: &OwnedFd, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = unsafe {
            libc::send(
                fd.as_raw_fd(),
                buf.as_ptr().cast(),
                buf.len(),
                libc::MSG_NOSIGNAL,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        buf = &buf[n as usize..];
    }
    Ok(())
}

fn cvt(r: i32) -> io::Result<i32> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    use std::time::Duration;

    fn started() -> (Poller, UnixStream) {
        let (poller, theirs) = Poller::start(0).unwrap();
        (poller, UnixStream::from(theirs))
    }

    /// The next token, or None if none comes within `within`.
    fn next_token(tokens: &mut UnixStream, within: Duration) -> Option<u64> {
        tokens.set_read_timeout(Some(within)).unwrap();
        let mut t = [0u8; 8];
        tokens.read_exact(&mut t).ok()?;
        Some(u64::from_le_bytes(t))
    }

    const WAIT: Duration = Duration::from_secs(5);

    #[test]
    fn a_readable_socket_yields_its_token_once() {
        let (poller, mut tokens) = started();
        let (mut a, b) = UnixStream::pair().unwrap();
        poller.watch(b.as_raw_fd(), 0xfeed_0000_0001).unwrap();
        a.write_all(b"x").unwrap();
        assert_eq!(next_token(&mut tokens, WAIT), Some(0xfeed_0000_0001));
        // One-shot: more data brings no second token until watched again.
        a.write_all(b"y").unwrap();
        assert_eq!(next_token(&mut tokens, Duration::from_millis(200)), None);
        poller.unwatch(b.as_raw_fd());
        poller.watch(b.as_raw_fd(), 7).unwrap();
        let t = next_token(&mut tokens, WAIT);
        assert_eq!(t, Some(7), "data already there is reported at once");
    }

    #[test]
    fn a_closed_peer_yields_its_token() {
        let (poller, mut tokens) = started();
        let (a, b) = UnixStream::pair().unwrap();
        poller.watch(b.as_raw_fd(), 9).unwrap();
        drop(a);
        assert_eq!(next_token(&mut tokens, WAIT), Some(9));
    }
}
