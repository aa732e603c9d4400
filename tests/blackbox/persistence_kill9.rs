//! THE kill -9 test (issue 11): persistent QoS 1 and QoS 2 subscribers on
//! both shards, some connected and acknowledging, some offline; publishers
//! of both QoS on both shards at full speed (a window of PUBLISHes in
//! flight), each payload carrying (publisher, sequence). The broker is
//! SIGKILLed at random moments (seeded: the seed is printed, set
//! `SHARDMQ_KILL9_SEED` to replay) and restarted on the same data
//! directory. Publishers behave as reliable clients: persistent sessions,
//! everything not yet acknowledged is re-sent after a reconnect (QoS 1:
//! PUBLISH with DUP; QoS 2: PUBLISH with DUP before PUBREC, PUBREL after),
//! so at the end every message they sent has been acknowledged. Then every
//! matching persistent subscriber must have every message of every
//! publisher, first deliveries in publish order; QoS 1 may come more than
//! once, QoS 2 end to end exactly once (the subscriber side plays the
//! receiver's part of [MQTT-4.3.3]: a PUBLISH whose packet id awaits its
//! PUBREL is the same message). Subscriptions and a retained message
//! survive.

use crate::common::durable::*;
use crate::common::flow::{parse_seq, seq_payload};
use crate::common::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Kill rounds and the traffic between them.
const ROUNDS: usize = 4;
/// Unacknowledged PUBLISHes each publisher keeps in flight.
const WINDOW: usize = 32;
/// A publisher sends until told to stop, at most this many messages
/// (packet id = sequence + 1 is never reused, so a stale inbound QoS 2 id
/// can never swallow a new message).
const MAX_SEQ: u32 = 65_000;
/// Bound of the whole test after the kills.
const DRAIN: Duration = Duration::from_secs(45);
/// A subscriber that got nothing for this long once the publishers are
/// done has all it will get.
const IDLE: Duration = Duration::from_secs(4);
const TOPIC: &str = "k9/data";

const CONFIG: &str = "[limits]\nmax_queued_messages = 1000000\n";

/// Small, seeded, good enough: xorshift64*.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// A raw MQTT 3.1.1 connection that may fail (the broker may be down):
/// (client, session present), or None.
fn try_connect(port: u16, id: &str, clean: bool) -> Option<(Client, bool)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    s.set_nodelay(true).ok()?;
    s.set_write_timeout(Some(WAIT)).ok()?;
    let mut c = Client::over(Box::new(s), id);
    if !c.send_lenient(&Connect::new(id).clean(clean).build()) {
        return None;
    }
    match c.try_recv(WAIT) {
        Recv::Packet(0x20, body) if body.len() == 2 && body[1] == 0 => Some((c, body[0] == 1)),
        _ => None,
    }
}

/// Reconnects until it works or `until` passes.
fn reconnect(port: u16, id: &str, until: Instant) -> Option<(Client, bool)> {
    while Instant::now() < until {
        if let Some(c) = try_connect(port, id, false) {
            return Some(c);
        }
        thread::sleep(ms(50));
    }
    None
}

/// What every thread shares.
struct Shared {
    port: u16,
    /// Publishers: send no new messages, finish what is in flight.
    stop_publishing: AtomicBool,
    /// Subscribers: the number of messages of each publisher to wait for.
    target: Mutex<Option<Vec<u32>>>,
    /// Past this, every thread gives up.
    deadline: Mutex<Instant>,
}

impl Shared {
    fn deadline(&self) -> Instant {
        *self.deadline.lock().unwrap()
    }
}

/// A publisher's unacknowledged message.
#[derive(Clone, Copy, Debug)]
enum Flight {
    /// PUBLISH sent, no PUBACK / PUBREC yet.
    Sent(u32),
    /// QoS 2: PUBREC received, PUBREL sent, no PUBCOMP yet.
    Released(u32),
}

struct PubOutcome {
    tag: u32,
    /// Acknowledged messages (PUBACK / PUBCOMP): sequences 0..acked.
    acked: u32,
    reconnects: usize,
    errors: Vec<String>,
}

fn publisher(sh: Arc<Shared>, tag: u32, qos: u8, id: String) -> PubOutcome {
    let mut flights: BTreeMap<u16, Flight> = BTreeMap::new();
    let mut acked = HashSet::new();
    let (mut next, mut reconnects, mut errors) = (0u32, 0usize, Vec::new());
    let mut initial = true;
    'session: loop {
        let Some((mut c, present)) = reconnect(sh.port, &id, sh.deadline()) else {
            errors.push(format!(
                "publisher {tag}: cannot reconnect before the deadline"
            ));
            break;
        };
        if !initial && !present {
            errors.push(format!(
                "publisher {tag}: session present 0 after a restart"
            ));
        }
        if !initial {
            reconnects += 1;
        }
        initial = false;
        // Re-send what is unacknowledged, in order [MQTT-4.4.0-1].
        for (pid, f) in &flights {
            let bytes = match f {
                Flight::Sent(seq) => {
                    let first_byte = 0x30 | (qos << 1) | 0x08;
                    publish_raw(
                        first_byte,
                        TOPIC.as_bytes(),
                        Some(*pid),
                        &seq_payload(tag, *seq, 24),
                    )
                }
                Flight::Released(_) => pubrel(*pid),
            };
            if !c.send_lenient(&bytes) {
                continue 'session;
            }
        }
        loop {
            let stopping = sh.stop_publishing.load(Ordering::Relaxed);
            if stopping && flights.is_empty() {
                let _ = c.send_lenient(&DISCONNECT);
                break 'session;
            }
            if Instant::now() > sh.deadline() {
                errors.push(format!(
                    "publisher {tag}: {} still in flight at the deadline",
                    flights.len()
                ));
                break 'session;
            }
            while !stopping && flights.len() < WINDOW && next < MAX_SEQ {
                let pid = (next + 1) as u16;
                let bytes = publish(TOPIC, &seq_payload(tag, next, 24), qos, false, pid);
                flights.insert(pid, Flight::Sent(next));
                next += 1;
                if !c.send_lenient(&bytes) {
                    continue 'session;
                }
            }
            let (first, body) = match c.try_recv(ms(200)) {
                Recv::Packet(f, b) => (f, b),
                Recv::Timeout => continue,
                Recv::Closed(_) => continue 'session,
            };
            let pid = if body.len() >= 2 {
                u16::from_be_bytes([body[0], body[1]])
            } else {
                0
            };
            match (first, flights.get(&pid).copied()) {
                (0x40, Some(Flight::Sent(seq))) if qos == 1 => {
                    flights.remove(&pid);
                    acked.insert(seq);
                }
                (0x50, Some(Flight::Sent(seq) | Flight::Released(seq))) if qos == 2 => {
                    flights.insert(pid, Flight::Released(seq));
                    if !c.send_lenient(&pubrel(pid)) {
                        continue 'session;
                    }
                }
                (0x70, Some(Flight::Released(seq))) if qos == 2 => {
                    flights.remove(&pid);
                    acked.insert(seq);
                }
                _ => errors.push(format!(
                    "publisher {tag}: unexpected {} (flight {:?})",
                    hex(&packet(first, &body)),
                    flights.get(&pid)
                )),
            }
        }
    }
    let n = acked.len() as u32;
    if n != next || (0..n).any(|s| !acked.contains(&s)) {
        errors.push(format!(
            "publisher {tag}: sent {next}, acknowledged {n} (not all of them)"
        ));
    }
    PubOutcome {
        tag,
        acked: n,
        reconnects,
        errors,
    }
}

/// One PUBLISH as a subscriber saw it.
#[derive(Clone, Copy, Debug)]
struct Delivery {
    tag: u32,
    seq: u32,
    qos: u8,
    /// A QoS 2 PUBLISH for a packet id still awaiting its PUBREL: the
    /// receiver acknowledges it again and does not deliver it onward.
    same_flow: bool,
}

/// A persistent subscriber: its client-side session state survives its
/// connections (QoS 2 packet ids awaiting PUBREL, with their payloads).
struct Sub {
    id: String,
    qos: u8,
    pending: HashMap<u16, Vec<u8>>,
    got: Vec<Delivery>,
    distinct: HashSet<(u32, u32)>,
    errors: Vec<String>,
}

impl Sub {
    fn new(id: String, qos: u8) -> Sub {
        Sub {
            id,
            qos,
            pending: HashMap::new(),
            got: Vec::new(),
            distinct: HashSet::new(),
            errors: Vec::new(),
        }
    }

    fn shard(&self) -> usize {
        shardmq::shard::owner_shard(self.id.as_bytes(), SHARDS)
    }

    /// Every acknowledged message arrived (publishers send nothing they do
    /// not get acknowledged in the end, so counting distinct ones is enough)
    /// and no QoS 2 flow is open.
    fn complete(&self, target: &[u32]) -> bool {
        let total: u32 = target.iter().sum();
        self.distinct.len() as u32 >= total && self.pending.is_empty()
    }

    /// Handles one packet; false if the connection broke.
    fn handle(&mut self, c: &mut Client, first: u8, body: &[u8]) -> bool {
        match first >> 4 {
            3 => {
                let p = Publish::parse(first, body);
                let (tag, seq) = parse_seq(&p.payload);
                let pid = p.pid.unwrap_or(0);
                let same_flow = p.qos() == 2 && self.pending.contains_key(&pid);
                if same_flow && self.pending[&pid] != p.payload {
                    self.errors.push(format!(
                        "[{}] packet id {pid} awaits PUBREL for {:?}, got another message {:?}",
                        self.id,
                        parse_seq(&self.pending[&pid]),
                        (tag, seq)
                    ));
                }
                self.got.push(Delivery {
                    tag,
                    seq,
                    qos: p.qos(),
                    same_flow,
                });
                self.distinct.insert((tag, seq));
                match p.qos() {
                    1 => c.send_lenient(&puback(pid)),
                    2 => {
                        self.pending.insert(pid, p.payload.clone());
                        c.send_lenient(&pubrec(pid))
                    }
                    q => {
                        self.errors.push(format!("[{}] QoS {q} delivery", self.id));
                        true
                    }
                }
            }
            6 if body.len() >= 2 => {
                let pid = u16::from_be_bytes([body[0], body[1]]);
                self.pending.remove(&pid);
                c.send_lenient(&pubcomp(pid))
            }
            _ => {
                self.errors.push(format!(
                    "[{}] unexpected {}",
                    self.id,
                    hex(&packet(first, body))
                ));
                true
            }
        }
    }

    /// Reads (reconnecting as needed, session present required) until the
    /// target is reached or the deadline passes.
    fn run(&mut self, sh: &Shared) {
        'session: while Instant::now() < sh.deadline() {
            let Some((mut c, present)) = reconnect(sh.port, &self.id, sh.deadline()) else {
                break;
            };
            if !present {
                self.errors
                    .push(format!("[{}] session present 0 on a reconnect", self.id));
            }
            let mut last = Instant::now();
            loop {
                if let Some(t) = sh.target.lock().unwrap().as_ref() {
                    if self.complete(t) || last.elapsed() > IDLE {
                        let _ = c.send_lenient(&DISCONNECT);
                        return;
                    }
                }
                if Instant::now() > sh.deadline() {
                    return;
                }
                match c.try_recv(ms(200)) {
                    Recv::Packet(f, b) => {
                        last = Instant::now();
                        if !self.handle(&mut c, f, &b) {
                            continue 'session;
                        }
                    }
                    Recv::Timeout => {}
                    Recv::Closed(_) => continue 'session,
                }
            }
        }
    }

    /// Everything wrong with what it received, given the publishers' QoS
    /// and how many messages each had acknowledged.
    fn verdict(&self, pub_qos: &[u8], target: &[u32]) -> Vec<String> {
        let mut out = self.errors.clone();
        for (tag, &n) in target.iter().enumerate() {
            let tag = tag as u32;
            let mine: Vec<&Delivery> = self.got.iter().filter(|d| d.tag == tag).collect();
            let mut seen = HashSet::new();
            let firsts: Vec<u32> = mine
                .iter()
                .filter(|d| seen.insert(d.seq))
                .map(|d| d.seq)
                .collect();
            if let Some(i) = (0..n as usize).find(|&i| firsts.get(i) != Some(&(i as u32))) {
                out.push(format!(
                    "[{}] publisher {tag} (shard {} -> {}): {} of {n} acknowledged messages \
                     arrived; first deliveries out of order or missing at index {i}: {:?}",
                    self.id,
                    tag as usize % SHARDS,
                    self.shard(),
                    seen.len(),
                    &firsts[i.saturating_sub(3)..(i + 3).min(firsts.len())]
                ));
            }
            let exactly_once = self.qos == 2 && pub_qos[tag as usize] == 2;
            let mut onward: HashMap<u32, usize> = HashMap::new();
            for d in mine.iter().filter(|d| !d.same_flow) {
                *onward.entry(d.seq).or_default() += 1;
            }
            let mut twice: Vec<u32> = onward
                .iter()
                .filter(|(_, c)| **c > 1)
                .map(|(s, _)| *s)
                .collect();
            if exactly_once && !twice.is_empty() {
                twice.sort_unstable();
                out.push(format!(
                    "[{}] publisher {tag} (QoS 2, shard {} -> {}): {} QoS 2 messages delivered \
                     more than once (as new flows), e.g. seqs {:?}",
                    self.id,
                    tag as usize % SHARDS,
                    self.shard(),
                    twice.len(),
                    &twice[..twice.len().min(10)]
                ));
            }
            if mine
                .iter()
                .any(|d| d.qos != self.qos.min(pub_qos[tag as usize]))
            {
                out.push(format!(
                    "[{}] publisher {tag}: delivered at the wrong QoS",
                    self.id
                ));
            }
        }
        out
    }
}

#[test]
fn acknowledged_messages_survive_random_sigkills() {
    if skip_on_mosquitto("shardmq's --data-dir") {
        return;
    }
    let seed: u64 = std::env::var("SHARDMQ_KILL9_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            t.as_nanos() as u64 | 1
        });
    eprintln!("kill -9 test: seed {seed} (SHARDMQ_KILL9_SEED={seed} to replay)");
    let mut rng = Rng(seed);

    let (mut b, _data) = durable(CONFIG);
    let mut r = b.connect("k9-retainer", true);
    r.publish("k9r/kept", b"retained", 1, true);
    r.disconnect();
    // Subscribers: QoS 1 and 2, on both shards, connected and offline.
    let mut subs: Vec<(Sub, bool)> = Vec::new();
    for qos in [1u8, 2] {
        for shard in 0..SHARDS {
            for live in [true, false] {
                let kind = if live { "live" } else { "off" };
                let id = id_on_shard(&format!("k9sub-q{qos}-{kind}"), shard);
                let mut c = b.connect(&id, false);
                c.subscribe("k9/#", qos);
                c.disconnect();
                subs.push((Sub::new(id, qos), live));
            }
        }
    }
    let sh = Arc::new(Shared {
        port: b.port,
        stop_publishing: AtomicBool::new(false),
        target: Mutex::new(None),
        deadline: Mutex::new(Instant::now() + Duration::from_secs(3600)),
    });
    let mut live_threads: Vec<JoinHandle<Sub>> = Vec::new();
    let mut offline: Vec<Sub> = Vec::new();
    for (sub, live) in subs {
        if live {
            let sh = sh.clone();
            let mut sub = sub;
            live_threads.push(thread::spawn(move || {
                sub.run(&sh);
                sub
            }));
        } else {
            offline.push(sub);
        }
    }
    // Publishers: (QoS, shard) for both QoS and both shards; tag = index.
    let pub_qos: Vec<u8> = vec![1, 1, 2, 2];
    let pubs: Vec<JoinHandle<PubOutcome>> = pub_qos
        .iter()
        .enumerate()
        .map(|(tag, &qos)| {
            let id = id_on_shard(&format!("k9pub-{tag}"), tag % SHARDS);
            let sh = sh.clone();
            thread::spawn(move || publisher(sh, tag as u32, qos, id))
        })
        .collect();

    for round in 0..ROUNDS {
        let run = 500 + rng.below(1500);
        thread::sleep(ms(run));
        b.kill9();
        let down = rng.below(300);
        eprintln!("round {round}: SIGKILL after {run} ms, down {down} ms");
        thread::sleep(ms(down));
        b.restart();
    }
    thread::sleep(ms(1000));
    *sh.deadline.lock().unwrap() = Instant::now() + DRAIN;
    sh.stop_publishing.store(true, Ordering::Relaxed);
    let outcomes: Vec<PubOutcome> = pubs.into_iter().map(|h| h.join().unwrap()).collect();
    let mut problems: Vec<String> = Vec::new();
    let mut target = vec![0u32; pub_qos.len()];
    for o in &outcomes {
        eprintln!(
            "publisher {} (QoS {}, shard {}): {} acknowledged, {} reconnects",
            o.tag,
            pub_qos[o.tag as usize],
            o.tag as usize % SHARDS,
            o.acked,
            o.reconnects
        );
        target[o.tag as usize] = o.acked;
        problems.extend(o.errors.iter().cloned());
    }
    *sh.target.lock().unwrap() = Some(target.clone());
    for mut sub in offline {
        let sh = sh.clone();
        live_threads.push(thread::spawn(move || {
            sub.run(&sh);
            sub
        }));
    }
    let done: Vec<Sub> = live_threads
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    for sub in &done {
        eprintln!(
            "{} (shard {}): {} deliveries, {} distinct",
            sub.id,
            sub.shard(),
            sub.got.len(),
            sub.distinct.len()
        );
        problems.extend(sub.verdict(&pub_qos, &target));
    }
    // The retained message and the subscriptions (a last message reaches
    // every subscriber without a new SUBSCRIBE).
    let mut r = b.connect("k9-reader", true);
    r.subscribe("k9r/#", 1);
    match r.try_recv(WAIT) {
        Recv::Packet(f, body) if Publish::parse(f, &body).payload == b"retained" => {}
        other => problems.push(format!("retained message k9r/kept: got {other:?}")),
    }
    let mut p = b.connect("k9-last", true);
    p.publish("k9/last", &seq_payload(99, 0, 24), 1, false);
    for sub in &done {
        let mut c = match try_connect(b.port, &sub.id, false) {
            Some((c, true)) => c,
            _ => {
                problems.push(format!("[{}] cannot resume for the last message", sub.id));
                continue;
            }
        };
        if let Err(e) = last_message(&mut c) {
            problems.push(format!("[{}] last message: {e}", sub.id));
        }
        c.disconnect();
    }
    let total: u32 = target.iter().sum();
    assert!(total > 0, "no message was acknowledged at all");
    assert!(
        problems.is_empty(),
        "seed {seed}: {} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Waits for the message of publisher tag 99, acknowledging whatever comes
/// before it (a late QoS 1 re-send, a PUBREL).
fn last_message(c: &mut Client) -> Result<(), String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (first, body) = match c.try_recv(left) {
            Recv::Packet(f, b) => (f, b),
            other => return Err(format!("{other:?}")),
        };
        let pid = u16::from_be_bytes([body[0], body[1]]);
        if first >> 4 == 6 {
            c.send(&pubcomp(pid));
            continue;
        }
        let p = Publish::parse(first, &body);
        match p.qos() {
            1 => c.send(&puback(p.pid.unwrap())),
            2 => c.send(&pubrec(p.pid.unwrap())),
            _ => {}
        }
        if parse_seq(&p.payload).0 == 99 {
            return Ok(());
        }
    }
}

/// The deterministic core of the test above: publishers on both shards
/// pipeline QoS 1 and QoS 2 messages (a window in flight) to offline
/// persistent subscribers on both shards; SIGKILL right after the last
/// acknowledgement, twice; after the restarts every subscriber has every
/// message, in order, once.
#[test]
fn pipelined_acknowledged_messages_survive_an_immediate_sigkill() {
    if skip_on_mosquitto("shardmq's --data-dir") {
        return;
    }
    use crate::common::flow::{assert_all_in_order, read_paced, Load, Pace, Publisher};
    let (mut b, _data) = durable(CONFIG);
    let subs: Vec<(String, u8)> = [(0, 1), (1, 1), (0, 2), (1, 2)]
        .iter()
        .map(|&(shard, qos)| (id_on_shard(&format!("pl-sub-q{qos}"), shard), qos))
        .collect();
    for (id, qos) in &subs {
        let mut c = b.connect(id, false);
        c.subscribe("pl/#", *qos);
        c.disconnect();
    }
    // Two rounds: the second runs on a broker that recovered from a kill.
    let (count, rounds) = (2000, 2u32);
    for round in 0..rounds {
        let pubs: Vec<Publisher> = (0..4u32)
            .map(|t| {
                let tag = round * 4 + t;
                let mut load = Load::new(&format!("pl/{tag}"), 1 + (t / 2) as u8, count);
                load.tag = tag;
                load.window = 32;
                let id = id_on_shard(&format!("pl-pub{t}"), t as usize % SHARDS);
                Publisher::start(b.port, &id, load)
            })
            .collect();
        for (t, p) in pubs.into_iter().enumerate() {
            let r = p.join();
            assert!(
                r.error.is_none() && r.acked == count,
                "round {round} publisher {t}: {r:?}"
            );
        }
        b.kill9();
        b.restart();
    }
    for (id, qos) in &subs {
        let (mut c, present) = connect_sp(b.port, id, false);
        assert!(present, "[{id}] session present");
        let got = read_paced(
            &mut c,
            (4 * rounds * count) as usize,
            Pace::FULL_SPEED,
            ms(2000),
            Duration::from_secs(60),
        );
        let shard = shardmq::shard::owner_shard(id.as_bytes(), SHARDS);
        eprintln!("{id} (QoS {qos}, shard {shard}): {} messages", got.len());
        assert_all_in_order(&got, 4 * rounds, count);
    }
}
