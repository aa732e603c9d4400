//! Replaying a stream's records into an [`Image`]: plain data (sessions with
//! their queues, retained messages) that a shard installs at start, or that
//! a re-home splits by partition. Built on the main thread before the
//! executors start, so it is `Send` and knows nothing of shards.
//!
//! Snapshot rules (see `compact.rs`): a `STATE` record replaces a session;
//! at `SNAP_END` whatever the snapshot did not mention (and no live record
//! created since its `SNAP_BEGIN`) is gone; in a `RESYNC` segment, live
//! records for sessions not yet defined in that segment are stale (records
//! were lost before it) and ignored.

use super::record::{get_grant, get_message, get_sub, kind, BadBody, Body};
use crate::protocol::{MqttStr, QoS};
use crate::session::{InflightState, Message, Pending, Subscription};
use std::collections::{HashMap, HashSet, VecDeque};

/// One persistent session as the log describes it.
#[derive(Debug, Clone)]
pub struct SessionImage {
    pub client_id: MqttStr,
    pub partition: u16,
    pub expiry: u32,
    /// Wall-clock ms its connection went away; `None`: connected when the
    /// broker stopped.
    pub offline_ms: Option<u64>,
    /// A will waiting for its delay: delay (s) and the will as a message.
    pub will: Option<(u32, Message)>,
    pub subs: Vec<(MqttStr, Subscription)>,
    pub qos2_in: Vec<u16>,
    pub inflight: VecDeque<Flight>,
    pub queue: VecDeque<Pending>,
}

/// A delivery in flight: its packet id, where it is in its handshake, and
/// the message (none once PUBRECed).
#[derive(Debug, Clone)]
pub struct Flight {
    pub packet_id: u16,
    pub state: InflightState,
    pub msg: Option<Pending>,
}

/// Everything one stream (or, after a split, one shard) holds.
#[derive(Debug, Default)]
pub struct Image {
    /// By sid.
    pub sessions: HashMap<u64, SessionImage>,
    /// Retained messages by topic, with their partition.
    pub retained: HashMap<MqttStr, (u16, Message)>,
    /// Keys of QoS 2 messages delivered and not yet released (`qos2.rs`).
    pub qos2_seen: HashSet<super::qos2::Key>,
    /// Ids for new sessions and messages continue past these.
    pub next_sid: u64,
    pub next_mid: u64,
    pub records: u64,
}

/// Replay state that lives only while a stream is read.
#[derive(Default)]
pub struct Replay {
    pub image: Image,
    msgs: HashMap<u64, Message>,
    /// Sessions (re)defined since the current snapshot began.
    since_snap: Option<HashSet<u64>>,
    retained_since_snap: Option<HashSet<MqttStr>>,
    seen_since_snap: Option<HashSet<super::qos2::Key>>,
    /// In a RESYNC segment: sessions defined in it so far.
    resync: Option<HashSet<u64>>,
}

impl Replay {
    /// A new segment begins: messages of older segments are not referenced
    /// from it (`record.rs`).
    pub fn segment(&mut self, resync: bool) {
        self.msgs.clear();
        self.resync = resync.then(HashSet::new);
    }

    /// Apply one record.
    pub fn apply(&mut self, k: u8, partition: u16, body: &[u8]) -> Result<(), BadBody> {
        self.image.records += 1;
        let mut b = Body::new(body);
        match k {
            kind::SNAP_BEGIN => self.snap_begin(),
            kind::SNAP_END => self.snap_end(),
            kind::MSG => {
                let mid = b.u64()?;
                let ms = b.u64()?;
                self.msgs.insert(mid, get_message(&mut b, ms)?);
                self.image.next_mid = self.image.next_mid.max(mid + 1);
            }
            kind::RETAIN => {
                let ms = b.u64()?;
                let m = get_message(&mut b, ms)?;
                self.mark_retained(&m.topic);
                self.image.retained.insert(m.topic.clone(), (partition, m));
            }
            kind::UNRETAIN => {
                let t = b.str()?;
                self.image.retained.remove(&t);
            }
            kind::QOS2_SEEN | kind::QOS2_FORGET => {
                let key = super::qos2::Key {
                    publisher: b.u64()?,
                    packet_id: b.u16()?,
                };
                let sets = [
                    Some(&mut self.image.qos2_seen),
                    self.seen_since_snap.as_mut(),
                ];
                for set in sets.into_iter().flatten() {
                    match k == kind::QOS2_SEEN {
                        true => set.insert(key),
                        false => set.remove(&key),
                    };
                }
            }
            kind::SESSION | kind::STATE => self.define(k, partition, &mut b)?,
            _ => self.session_record(k, &mut b)?,
        }
        Ok(())
    }

    fn snap_begin(&mut self) {
        self.since_snap = Some(HashSet::new());
        self.retained_since_snap = Some(HashSet::new());
        self.seen_since_snap = Some(HashSet::new());
    }

    fn snap_end(&mut self) {
        if let Some(keep) = self.since_snap.take() {
            self.image.sessions.retain(|sid, _| keep.contains(sid));
        }
        if let Some(keep) = self.retained_since_snap.take() {
            self.image.retained.retain(|t, _| keep.contains(t));
        }
        if let Some(seen) = self.seen_since_snap.take() {
            self.image.qos2_seen = seen;
        }
    }

    fn mark_retained(&mut self, topic: &MqttStr) {
        if let Some(s) = &mut self.retained_since_snap {
            s.insert(topic.clone());
        }
    }

    fn define(&mut self, k: u8, partition: u16, b: &mut Body<'_>) -> Result<(), BadBody> {
        let sid = b.u64()?;
        let s = if k == kind::SESSION {
            let client_id = b.str()?;
            new_session(client_id, partition)
        } else {
            self.get_state(partition, b)?
        };
        self.image.sessions.insert(sid, s);
        self.image.next_sid = self.image.next_sid.max(sid + 1);
        for set in [&mut self.since_snap, &mut self.resync]
            .into_iter()
            .flatten()
        {
            set.insert(sid);
        }
        Ok(())
    }

    /// A record about one session; ignored when the session is unknown
    /// (ended, or not yet snapshotted in a segment that stands alone).
    fn session_record(&mut self, k: u8, b: &mut Body<'_>) -> Result<(), BadBody> {
        let sid = b.u64()?;
        if self.resync.as_ref().is_some_and(|r| !r.contains(&sid)) {
            return Ok(());
        }
        if k == kind::END {
            self.image.sessions.remove(&sid);
            return Ok(());
        }
        let Some(s) = self.image.sessions.get_mut(&sid) else {
            return Ok(());
        };
        match k {
            kind::EXPIRY => s.expiry = b.u32()?,
            kind::OFFLINE => {
                let ms = b.u64()?;
                s.offline_ms = (ms != 0).then_some(ms);
                if ms == 0 {
                    s.will = None; // back within the delay [MQTT-3.1.3-9]
                }
            }
            kind::SUB => {
                let (f, sub) = get_sub(b)?;
                set_sub(&mut s.subs, f, sub);
            }
            kind::UNSUB => {
                let f = b.str()?;
                s.subs.retain(|(g, _)| *g != f);
            }
            kind::WILL => {
                let delay = b.u32()?;
                let ms = b.u64()?;
                s.will = Some((delay, get_message(b, ms)?));
            }
            kind::WILL_GONE => s.will = None,
            kind::QOS2_IN => s.qos2_in.push(b.u16()?),
            kind::QOS2_REL => {
                let id = b.u16()?;
                s.qos2_in.retain(|&i| i != id);
            }
            _ => delivery_record(s, &self.msgs, k, b)?,
        }
        Ok(())
    }

    /// A `STATE` record: the whole session (`snapshot.rs` writes it).
    fn get_state(&self, partition: u16, b: &mut Body<'_>) -> Result<SessionImage, BadBody> {
        let mut s = new_session(b.str()?, partition);
        s.expiry = b.u32()?;
        let off = b.u64()?;
        s.offline_ms = (off != 0).then_some(off);
        if b.u8()? == 1 {
            let delay = b.u32()?;
            let ms = b.u64()?;
            s.will = Some((delay, get_message(b, ms)?));
        }
        for _ in 0..b.u32()? {
            s.subs.push(get_sub(b)?);
        }
        for _ in 0..b.u32()? {
            s.qos2_in.push(b.u16()?);
        }
        for _ in 0..b.u32()? {
            let packet_id = b.u16()?;
            let state = state_of(b.u8()?)?;
            let msg = match state {
                InflightState::AwaitPubComp => None,
                _ => Some(self.pending(b)?),
            };
            s.inflight.push_back(Flight {
                packet_id,
                state,
                msg,
            });
        }
        for _ in 0..b.u32()? {
            s.queue.push_back(self.pending(b)?);
        }
        Ok(s)
    }

    fn pending(&self, b: &mut Body<'_>) -> Result<Pending, BadBody> {
        pending(&self.msgs, b)
    }

    /// Done: the image, with `next_*` at least 1, and one session per
    /// client ID: the newest (a RESYNC segment cut short can leave an ended
    /// session beside its successor).
    pub fn finish(mut self) -> Image {
        self.image.next_sid = self.image.next_sid.max(1);
        self.image.next_mid = self.image.next_mid.max(1);
        let mut newest: HashMap<MqttStr, u64> = HashMap::new();
        for (&sid, s) in &self.image.sessions {
            let e = newest.entry(s.client_id.clone()).or_insert(sid);
            *e = (*e).max(sid);
        }
        let sessions = &mut self.image.sessions;
        sessions.retain(|sid, s| newest.get(&s.client_id) == Some(sid));
        self.image
    }
}

fn new_session(client_id: MqttStr, partition: u16) -> SessionImage {
    SessionImage {
        client_id,
        partition,
        expiry: 0,
        offline_ms: None,
        will: None,
        subs: Vec::new(),
        qos2_in: Vec::new(),
        inflight: VecDeque::new(),
        queue: VecDeque::new(),
    }
}

fn set_sub(subs: &mut Vec<(MqttStr, Subscription)>, f: MqttStr, sub: Subscription) {
    match subs.iter_mut().find(|(g, _)| *g == f) {
        Some(e) => e.1 = sub,
        None => subs.push((f, sub)),
    }
}

pub fn state_code(s: InflightState) -> u8 {
    match s {
        InflightState::AwaitPubAck => 0,
        InflightState::AwaitPubRec => 1,
        InflightState::AwaitPubComp => 2,
    }
}

fn state_of(v: u8) -> Result<InflightState, BadBody> {
    match v {
        0 => Ok(InflightState::AwaitPubAck),
        1 => Ok(InflightState::AwaitPubRec),
        2 => Ok(InflightState::AwaitPubComp),
        _ => Err(BadBody("in-flight state")),
    }
}

/// A message reference (mid) and its grant, as a session holds it.
fn pending(msgs: &HashMap<u64, Message>, b: &mut Body<'_>) -> Result<Pending, BadBody> {
    let mid = b.u64()?;
    let g = get_grant(b)?;
    let m = msgs.get(&mid).ok_or(BadBody("unknown message id"))?;
    let msg = Message {
        qos: g.qos,
        retain: g.retain,
        ..m.clone()
    };
    Ok(Pending::new(msg, &g.ids))
}

/// QUEUE, SEND, SEND_QUEUED, DROP_*, ACK, REC: the same moves the
/// session's window made (`session/outbound.rs`).
fn delivery_record(
    s: &mut SessionImage,
    msgs: &HashMap<u64, Message>,
    k: u8,
    b: &mut Body<'_>,
) -> Result<(), BadBody> {
    match k {
        kind::QUEUE => s.queue.push_back(pending(msgs, b)?),
        kind::SEND => {
            let packet_id = b.u16()?;
            let p = pending(msgs, b)?;
            s.inflight.push_back(flight(packet_id, p));
        }
        kind::SEND_QUEUED => {
            let packet_id = b.u16()?;
            let p = s.queue.pop_front();
            if let Some(p) = p.filter(|p| p.msg.qos != QoS::AtMostOnce && packet_id != 0) {
                s.inflight.push_back(flight(packet_id, p));
            }
        }
        kind::DROP_FRONT => drop(s.queue.pop_front()),
        kind::DROP_INFLIGHT | kind::ACK => {
            let id = b.u16()?;
            s.inflight.retain(|f| f.packet_id != id);
        }
        kind::REC => {
            let id = b.u16()?;
            if let Some(f) = s.inflight.iter_mut().find(|f| f.packet_id == id) {
                f.state = InflightState::AwaitPubComp;
                f.msg = None;
            }
        }
        _ => return Err(BadBody("unknown record kind")),
    }
    Ok(())
}

fn flight(packet_id: u16, p: Pending) -> Flight {
    let state = match p.msg.qos {
        QoS::ExactlyOnce => InflightState::AwaitPubRec,
        _ => InflightState::AwaitPubAck,
    };
    Flight {
        packet_id,
        state,
        msg: Some(p),
    }
}
