//! The control for docs/benchmarks.md ("Where the CPU per message goes"): a
//! re-creation of the ideal QoS 0 forwarder of ../shared/research/floor.md
//! (whose own program is in no repository), to be measured with
//! shardmq-bench under exactly the conditions shardmq is measured in.
//!
//! One glommio executor pinned to CPU 1 (io_memory 64 KiB, default ring
//! depth 128). A reader task per connection reads into a thread-local 64 KiB
//! scratch buffer and frames by fixed header + remaining length only:
//! CONNECT -> CONNACK 0, SUBSCRIBE -> SUBACK (QoS 0 each) and the connection
//! becomes a subscriber of everything, PINGREQ -> PINGRESP, DISCONNECT
//! closes. Every PUBLISH of a read is copied byte for byte (one memcpy per
//! message) into each subscriber's buffer; its writer task is woken when the
//! buffer goes from empty to non-empty and writes all of it (double buffer).
//! Messages beyond 4 MiB buffered per subscriber are dropped.
//!
//! usage: cargo build --release --offline && taskset -c 1 target/release/floorfwd 127.0.0.1:PORT
use futures_lite::{AsyncRead, AsyncWrite};
use glommio::net::{TcpListener, TcpStream};
use glommio::{LocalExecutorBuilder, Placement};
use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::os::fd::{FromRawFd, IntoRawFd};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Poll, Waker};

thread_local! { static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0; 64 * 1024]); }

struct Sub {
    out: RefCell<Vec<u8>>,
    waker: Cell<Option<Waker>>,
    inflight: Cell<usize>,
}
type Subs = Rc<RefCell<Vec<Rc<Sub>>>>;

fn main() {
    let addr: std::net::SocketAddr = std::env::args().nth(1).unwrap().parse().unwrap();
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    s.set_reuse_address(true).unwrap();
    s.bind(&addr.into()).unwrap();
    s.listen(4096).unwrap();
    let fd = s.into_raw_fd();
    LocalExecutorBuilder::new(Placement::Fixed(1))
        .io_memory(64 << 10)
        .spawn(move || async move {
            let l = unsafe { TcpListener::from_raw_fd(fd) };
            let subs: Subs = Rc::default();
            loop {
                let st = l.accept().await.unwrap();
                st.set_nodelay(true).unwrap();
                glommio::spawn_local(conn(st, subs.clone())).detach();
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

fn varint(buf: &[u8]) -> Option<(usize, usize)> {
    let (mut v, mut m) = (0usize, 1usize);
    for (i, b) in buf.iter().enumerate().take(4) {
        v += (*b as usize & 127) * m;
        if b & 128 == 0 {
            return Some((v, i + 1));
        }
        m *= 128;
    }
    None
}

async fn conn(st: TcpStream, subs: Subs) {
    let st = Rc::new(RefCell::new(st));
    let mut pending: Vec<u8> = Vec::new();
    let mut me: Option<Rc<Sub>> = None;
    loop {
        let r = poll_fn(|cx| {
            SCRATCH.with(|s| {
                let mut s = s.borrow_mut();
                let pre = pending.len();
                s[..pre].copy_from_slice(&pending);
                let n = match Pin::new(&mut *st.borrow_mut()).poll_read(cx, &mut s[pre..]) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Err(_)) | Poll::Ready(Ok(0)) => return Poll::Ready(None),
                    Poll::Ready(Ok(n)) => n,
                };
                let buf = &s[..pre + n];
                let mut pos = 0;
                let mut pubs: Vec<(usize, usize)> = Vec::new();
                let mut reply: Vec<u8> = Vec::new();
                let mut close = false;
                while pos + 2 <= buf.len() {
                    let Some((len, vl)) = varint(&buf[pos + 1..]) else {
                        break;
                    };
                    let end = pos + 1 + vl + len;
                    if end > buf.len() {
                        break;
                    }
                    match buf[pos] >> 4 {
                        1 => reply.extend_from_slice(&[0x20, 2, 0, 0]),
                        3 => pubs.push((pos, end)),
                        8 => {
                            let body = &buf[pos + 1 + vl..end];
                            let (pid, mut i, mut n) = (&body[..2], 2, 0);
                            while i + 2 <= body.len() {
                                let fl = u16::from_be_bytes([body[i], body[i + 1]]) as usize;
                                i += 2 + fl + 1;
                                n += 1;
                            }
                            reply.extend_from_slice(&[0x90, 2 + n as u8, pid[0], pid[1]]);
                            reply.extend(std::iter::repeat_n(0, n));
                            if me.is_none() {
                                let sub = Rc::new(Sub {
                                    out: RefCell::default(),
                                    waker: Cell::new(None),
                                    inflight: Cell::new(0),
                                });
                                subs.borrow_mut().push(sub.clone());
                                glommio::spawn_local(writer(st.clone(), sub.clone())).detach();
                                me = Some(sub);
                            }
                        }
                        12 => reply.extend_from_slice(&[0xd0, 0]),
                        14 => close = true,
                        _ => {}
                    }
                    pos = end;
                }
                if !pubs.is_empty() {
                    for sub in subs.borrow().iter() {
                        let mut o = sub.out.borrow_mut();
                        let was_empty = o.is_empty();
                        for &(a, b) in &pubs {
                            if o.len() + sub.inflight.get() + (b - a) > 4 << 20 {
                                continue;
                            }
                            o.reserve(b - a);
                            o.extend_from_slice(&buf[a..b]);
                        }
                        if was_empty && !o.is_empty() {
                            if let Some(w) = sub.waker.take() {
                                w.wake();
                            }
                        }
                    }
                }
                pending.clear();
                pending.extend_from_slice(&buf[pos..]);
                Poll::Ready(Some((reply, close)))
            })
        })
        .await;
        let Some((reply, close)) = r else { return };
        if !reply.is_empty() {
            let mut done = 0;
            while done < reply.len() {
                let n =
                    poll_fn(|cx| Pin::new(&mut *st.borrow_mut()).poll_write(cx, &reply[done..]))
                        .await;
                match n {
                    Ok(n) if n > 0 => done += n,
                    _ => return,
                }
            }
        }
        if close {
            return;
        }
    }
}

async fn writer(st: Rc<RefCell<TcpStream>>, sub: Rc<Sub>) {
    let mut mine: Vec<u8> = Vec::new();
    loop {
        poll_fn(|cx| {
            if sub.out.borrow().is_empty() {
                sub.waker.set(Some(cx.waker().clone()));
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
        .await;
        std::mem::swap(&mut mine, &mut *sub.out.borrow_mut());
        sub.inflight.set(mine.len());
        let mut done = 0;
        while done < mine.len() {
            let n =
                poll_fn(|cx| Pin::new(&mut *st.borrow_mut()).poll_write(cx, &mine[done..])).await;
            match n {
                Ok(n) if n > 0 => done += n,
                _ => return,
            }
            sub.inflight.set(mine.len() - done);
        }
        mine.clear();
    }
}
