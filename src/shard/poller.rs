//! Readiness for parked connections: one epoll set per shard, waited on by
//! a small thread of its own that writes the ready tokens into a socket the
//! shard reads like any other.
//!
//! Why not io_uring: glommio keeps a `Source` (~650 B) and an armed
//! POLL_ADD per socket and has no public "wait until this fd is readable";
//! an epoll registration costs user space nothing. The thread blocks in
//! `epoll_wait`, never an executor; it only runs when a parked socket wakes.

use socket2::SockRef;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
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
        // SAFETY: no pointers; std has no epoll.
        let epfd = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: `epfd` was just created and nothing else owns it.
        let epoll = Arc::new(unsafe { OwnedFd::from_raw_fd(epfd) });
        let (theirs, ours) = UnixStream::pair()?;
        let (theirs, ours) = (OwnedFd::from(theirs), OwnedFd::from(ours));
        let ep = epoll.clone();
        std::thread::Builder::new()
            .name(format!("shardmq-park-{shard}"))
            .stack_size(64 << 10)
            .spawn(move || wait_loop(&ep, &ours))?;
        Ok((Poller { epoll }, theirs))
    }

    /// Watch `fd` until it is readable or closed, once (one-shot: a socket
    /// yields one token per `watch` or `rearm`).
    pub fn watch(&self, fd: BorrowedFd<'_>, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, token)
    }

    /// Watch a watched `fd` again after its token came.
    pub fn rearm(&self, fd: BorrowedFd<'_>, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, token)
    }

    fn ctl(&self, op: i32, fd: BorrowedFd<'_>, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLONESHOT) as u32,
            u64: token,
        };
        let (ep, fd) = (self.epoll.as_raw_fd(), fd.as_raw_fd());
        // SAFETY: both fds are open (owned / borrowed); `ev` is a valid
        // event the kernel only reads.
        cvt(unsafe { libc::epoll_ctl(ep, op, fd, &mut ev) }).map(drop)
    }

    /// Stop watching `fd` (before it gets a glommio stream again).
    pub fn unwatch(&self, fd: BorrowedFd<'_>) {
        let (ep, fd, op) = (self.epoll.as_raw_fd(), fd.as_raw_fd(), libc::EPOLL_CTL_DEL);
        // SAFETY: both fds are open; DEL takes no event (null is allowed).
        unsafe { libc::epoll_ctl(ep, op, fd, std::ptr::null_mut()) };
    }
}

/// The thread: wait, forward the tokens, until the shard's end is gone.
fn wait_loop(epoll: &OwnedFd, out: &OwnedFd) {
    let mut events = [libc::epoll_event { events: 0, u64: 0 }; BATCH];
    let mut buf = Vec::with_capacity(BATCH * 8);
    loop {
        let (ep, max) = (epoll.as_raw_fd(), BATCH as i32);
        // SAFETY: `events` holds BATCH entries the kernel may write; the
        // epoll fd is kept open by the `Arc` this thread holds.
        let n = unsafe { libc::epoll_wait(ep, events.as_mut_ptr(), max, -1) };
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
    let sock = SockRef::from(fd);
    while !buf.is_empty() {
        match sock.send_with_flags(buf, libc::MSG_NOSIGNAL) {
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
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
    use std::os::fd::AsFd;
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
        poller.watch(b.as_fd(), 0xfeed_0000_0001).unwrap();
        a.write_all(b"x").unwrap();
        assert_eq!(next_token(&mut tokens, WAIT), Some(0xfeed_0000_0001));
        // One-shot: more data brings no second token until watched again.
        a.write_all(b"y").unwrap();
        assert_eq!(next_token(&mut tokens, Duration::from_millis(200)), None);
        poller.unwatch(b.as_fd());
        poller.watch(b.as_fd(), 7).unwrap();
        let t = next_token(&mut tokens, WAIT);
        assert_eq!(t, Some(7), "data already there is reported at once");
    }

    #[test]
    fn a_closed_peer_yields_its_token() {
        let (poller, mut tokens) = started();
        let (a, b) = UnixStream::pair().unwrap();
        poller.watch(b.as_fd(), 9).unwrap();
        drop(a);
        assert_eq!(next_token(&mut tokens, WAIT), Some(9));
    }
}
