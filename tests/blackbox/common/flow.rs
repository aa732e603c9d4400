//! Load shapes for the back-pressure tests: a publisher that keeps a window
//! of unacknowledged QoS 1/2 PUBLISHes in flight (a writer and a reader
//! thread on one socket), and a subscriber that reads at a chosen pace and
//! acknowledges everything. Payloads carry (publisher tag, sequence number)
//! so that loss, duplicates and order can be checked.

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::client::{dial, Client, Recv};
use super::packets::*;

/// `tag` and `seq` in hex, "0000000a 000000ff", padded with `b'.'` to
/// `len`: text, so that line-based tools (`mosquitto_pub -l`) can send it.
pub fn seq_payload(tag: u32, seq: u32, len: usize) -> Vec<u8> {
    let mut p = format!("{tag:08x} {seq:08x}").into_bytes();
    p.resize(len.max(SEQ_LEN), b'.');
    p
}

const SEQ_LEN: usize = 17;

/// (tag, seq) of a `seq_payload`.
pub fn parse_seq(payload: &[u8]) -> (u32, u32) {
    let field = |at: usize| {
        std::str::from_utf8(payload.get(at..at + 8)?)
            .ok()
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    match (field(0), field(9)) {
        (Some(tag), Some(seq)) => (tag, seq),
        _ => panic!("not a sequence payload: {}", hex(payload)),
    }
}

/// What a pipelined publisher sends.
#[derive(Clone, Debug)]
pub struct Load {
    pub topic: String,
    pub qos: u8,
    pub count: u32,
    pub payload_len: usize,
    /// Unacknowledged PUBLISHes kept in flight.
    pub window: usize,
    pub tag: u32,
    pub keepalive: u16,
    /// Gives up (reporting what it got) after this long.
    pub within: Duration,
}

impl Load {
    pub fn new(topic: &str, qos: u8, count: u32) -> Load {
        Load {
            topic: topic.into(),
            qos,
            count,
            payload_len: 24,
            window: 32,
            tag: 0,
            keepalive: 60,
            within: Duration::from_secs(20),
        }
    }
}

/// How a publisher's run ended.
#[derive(Debug)]
pub struct PubReport {
    /// PUBLISHes completed (PUBACK, or PUBCOMP for QoS 2).
    pub acked: u32,
    /// Longest time without a completion, from the first PUBLISH on.
    pub longest_gap: Duration,
    pub elapsed: Duration,
    /// Why it stopped early: connection closed, unexpected packet, timeout.
    pub error: Option<String>,
}

/// A publisher running `Load` on its own threads.
pub struct Publisher {
    acked: Arc<AtomicUsize>,
    reader: JoinHandle<PubReport>,
    writer: JoinHandle<()>,
}

enum Ev {
    Completed,
    Pubrel(u16),
}

impl Publisher {
    /// Connects `id` (clean session), then publishes `load` in the background.
    pub fn start(port: u16, id: &str, load: Load) -> Publisher {
        let stream = dial(port, id);
        // The broker holding this publisher back leaves writes blocked for
        // as long as it pauses; only the load's own bound applies.
        stream.set_write_timeout(Some(load.within)).unwrap();
        let mut c = Client::over(Box::new(stream.try_clone().unwrap()), id);
        c.send(&Connect::new(id).keepalive(load.keepalive).build());
        c.expect_packet(&connack(false, 0));
        let acked = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel();
        let t0 = Instant::now();
        let writer = {
            let load = load.clone();
            thread::spawn(move || write_loop(stream, &load, &rx))
        };
        let counter = acked.clone();
        let reader = thread::spawn(move || read_loop(c, &load, &tx, &counter, t0));
        Publisher {
            acked,
            reader,
            writer,
        }
    }

    /// Completions so far.
    pub fn acked(&self) -> usize {
        self.acked.load(Ordering::Relaxed)
    }

    pub fn join(self) -> PubReport {
        let report = self.reader.join().expect("publisher reader panicked");
        self.writer.join().expect("publisher writer panicked");
        report
    }
}

/// Sends PUBLISHes while the window allows, PUBRELs as the reader asks,
/// PINGREQ when it sent nothing for a keep-alive period, DISCONNECT at the end.
fn write_loop(mut s: TcpStream, load: &Load, rx: &mpsc::Receiver<Ev>) {
    let deadline = Instant::now() + load.within;
    let idle = Duration::from_secs(load.keepalive.max(1) as u64);
    let (mut sent, mut done, mut credits) = (0u32, 0u32, load.window);
    while done < load.count && Instant::now() < deadline {
        while credits > 0 && sent < load.count {
            let pid = (sent % 65535) as u16 + 1;
            let payload = seq_payload(load.tag, sent, load.payload_len);
            let bytes = publish(&load.topic, &payload, load.qos, false, pid);
            if s.write_all(&bytes).is_err() {
                return;
            }
            credits -= 1;
            sent += 1;
        }
        let wrote = match rx.recv_timeout(idle) {
            Ok(Ev::Completed) => {
                credits += 1;
                done += 1;
                Ok(())
            }
            Ok(Ev::Pubrel(pid)) => s.write_all(&pubrel(pid)),
            Err(mpsc::RecvTimeoutError::Timeout) => s.write_all(&PINGREQ),
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        if wrote.is_err() {
            return;
        }
    }
    let _ = s.write_all(&DISCONNECT);
}

/// Reads the acknowledgements: counts completions, times the gaps between
/// them, hands PUBRECs to the writer.
fn read_loop(
    mut c: Client,
    load: &Load,
    tx: &mpsc::Sender<Ev>,
    acked: &AtomicUsize,
    t0: Instant,
) -> PubReport {
    let deadline = t0 + load.within;
    let (mut n, mut last, mut longest_gap) = (0u32, t0, Duration::ZERO);
    let done_type = if load.qos == 1 { 4 } else { 7 };
    let mut error = None;
    while n < load.count {
        let left = deadline.saturating_duration_since(Instant::now());
        let (first, body) = match c.try_recv(left.min(Duration::from_millis(500))) {
            Recv::Packet(f, b) => (f, b),
            Recv::Timeout if left.is_zero() => {
                error = Some(format!("timed out after {:?}", load.within));
                break;
            }
            Recv::Timeout => continue,
            Recv::Closed(how) => {
                error = Some(format!("connection closed: {how}"));
                break;
            }
        };
        let kind = first >> 4;
        if kind == done_type && body.len() == 2 {
            let now = Instant::now();
            longest_gap = longest_gap.max(now - last);
            last = now;
            n += 1;
            acked.store(n as usize, Ordering::Relaxed);
            let _ = tx.send(Ev::Completed);
        } else if kind == 5 && load.qos == 2 && body.len() == 2 {
            let _ = tx.send(Ev::Pubrel(u16::from_be_bytes([body[0], body[1]])));
        } else if kind != 13 {
            error = Some(format!("unexpected {}", hex(&packet(first, &body))));
            break;
        }
    }
    PubReport {
        acked: n,
        longest_gap,
        elapsed: t0.elapsed(),
        error,
    }
}

/// How a subscriber reads: nothing for `start_after`, then `sleep` after
/// every `every` PUBLISHes.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    pub start_after: Duration,
    pub every: u32,
    pub sleep: Duration,
}

impl Pace {
    pub const FULL_SPEED: Pace = Pace {
        start_after: Duration::ZERO,
        every: u32::MAX,
        sleep: Duration::ZERO,
    };
}

/// Reads and acknowledges PUBLISHes (QoS 2: PUBREC, then PUBCOMP for each
/// PUBREL) at `pace` until `expect` arrived and every QoS 2 flow is closed,
/// nothing arrived for `idle`, or `within` passed. Returns (tag, seq) of each
/// PUBLISH in arrival order.
pub fn read_paced(
    c: &mut Client,
    expect: usize,
    pace: Pace,
    idle: Duration,
    within: Duration,
) -> Vec<(u32, u32)> {
    let deadline = Instant::now() + within;
    thread::sleep(pace.start_after);
    let (mut got, mut open_qos2) = (Vec::with_capacity(expect), 0usize);
    while (got.len() < expect || open_qos2 > 0) && Instant::now() < deadline {
        let wait = idle.min(deadline.saturating_duration_since(Instant::now()));
        let (first, body) = match c.try_recv(wait) {
            Recv::Packet(f, b) => (f, b),
            Recv::Timeout => break,
            Recv::Closed(how) => panic!("[{}] connection closed: {how}", c.name),
        };
        match first >> 4 {
            3 => {
                let p = Publish::parse(first, &body);
                got.push(parse_seq(&p.payload));
                if p.qos() == 2 {
                    open_qos2 += 1;
                    c.send(&pubrec(p.pid.unwrap()));
                } else {
                    c.ack(&p);
                }
                if got.len() as u32 % pace.every == 0 {
                    thread::sleep(pace.sleep);
                }
            }
            6 if body.len() == 2 => {
                open_qos2 = open_qos2.saturating_sub(1);
                c.send(&pubcomp(u16::from_be_bytes([body[0], body[1]])));
            }
            _ => panic!("[{}] unexpected {}", c.name, hex(&packet(first, &body))),
        }
    }
    got
}

/// Every tag in `0..tags` must have delivered exactly `0..count`, in order.
pub fn assert_all_in_order(got: &[(u32, u32)], tags: u32, count: u32) {
    for tag in 0..tags {
        let seqs: Vec<u32> = got.iter().filter(|m| m.0 == tag).map(|m| m.1).collect();
        let first_bad = seqs.iter().enumerate().find(|(i, s)| **s != *i as u32);
        let mut unique = seqs.clone();
        unique.sort_unstable();
        unique.dedup();
        assert!(
            seqs.len() == count as usize && first_bad.is_none(),
            "publisher {tag}: {} of {count} delivered ({} distinct, so {} lost), \
             first out of place: {first_bad:?} (index, seq)",
            seqs.len(),
            unique.len(),
            count as usize - unique.len(),
        );
    }
    assert_eq!(
        got.len(),
        (tags * count) as usize,
        "messages of unknown tags"
    );
}

/// The broker's resident set and its peak so far, in bytes
/// (VmRSS, VmHWM of /proc/PID/status).
pub fn rss(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> u64 {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap();
        let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kb * 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}
