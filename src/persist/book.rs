//! [`Book`]: what a shard's log writer remembers to name things in records —
//! the stream id of each persistent session (by `SessionKey`), the id
//! counters, and the message last written (so a message fanned out to many
//! sessions is stored once). Shared by the session observer, the retained
//! store's records and compaction.

use super::frame::PARTITION_NONE;
use super::record::{kind, ms_of, put_message, Put};
use super::writer::Log;
use crate::session::{Message, SessionKey};
use crate::shard::Partition;
use std::rc::Rc;

pub struct Book {
    pub log: Rc<Log>,
    /// By `SessionKey::index`: (generation, sid, partition); sid 0: the
    /// session is not logged (not persistent).
    sids: Vec<(u32, u64, u16)>,
    pub next_sid: u64,
    pub next_mid: u64,
    /// The message last written and its id. Held, so that its payload's
    /// address cannot be reused by another message while it is compared.
    last: Option<(Message, u64)>,
    /// While installing recovered state: its records are written by the
    /// start-up snapshot instead.
    pub muted: bool,
}

impl Book {
    pub fn new(log: Rc<Log>, next_sid: u64, next_mid: u64) -> Book {
        Book {
            log,
            sids: Vec::new(),
            next_sid: next_sid.max(1),
            next_mid: next_mid.max(1),
            last: None,
            muted: false,
        }
    }

    /// The stream id and partition of a logged session.
    #[inline]
    pub fn sid(&self, key: SessionKey) -> Option<(u64, u16)> {
        match self.sids.get(key.index as usize) {
            Some(&(g, sid, p)) if sid != 0 && g == key.generation => Some((sid, p)),
            _ => None,
        }
    }

    /// Log the session at `key` as `sid` from now on.
    pub fn bind(&mut self, key: SessionKey, sid: u64, partition: u16) {
        let i = key.index as usize;
        if self.sids.len() <= i {
            self.sids.resize(i + 1, (0, 0, 0));
        }
        self.sids[i] = (key.generation, sid, partition);
    }

    /// A new persistent session: its sid.
    pub fn create(&mut self, key: SessionKey, client_id: &str) -> (u64, u16) {
        let sid = self.next_sid;
        self.next_sid += 1;
        let p = Partition::of(client_id.as_bytes()).index();
        self.bind(key, sid, p);
        (sid, p)
    }

    pub fn forget(&mut self, key: SessionKey) {
        if let Some(e) = self.sids.get_mut(key.index as usize) {
            *e = (0, 0, 0);
        }
    }

    /// The id of `m` in the current segment, writing its body first if it
    /// is not the message last written.
    pub fn message(&mut self, m: &Message) -> u64 {
        if let Some((l, id)) = &self.last {
            if same(l, m) {
                return *id;
            }
        }
        let mid = self.next_mid;
        self.next_mid += 1;
        let ms = ms_of(m.published_at);
        self.log.append(kind::MSG, PARTITION_NONE, |b| {
            b.u64(mid);
            b.u64(ms);
            put_message(b, m);
        });
        self.last = Some((m.clone(), mid));
        mid
    }

    /// A new segment began: messages written before it may not be
    /// referenced from it.
    pub fn new_segment(&mut self) {
        self.last = None;
    }

    /// Append a record about session `sid`.
    #[inline]
    pub fn put(&self, k: u8, sid: u64, partition: u16, body: impl FnOnce(&mut Vec<u8>)) {
        self.log.append(k, partition, |b| {
            b.u64(sid);
            body(b);
        });
    }
}

/// The same message (copies of one PUBLISH share payload and topic; their
/// delivery QoS and RETAIN are the records' own).
fn same(a: &Message, b: &Message) -> bool {
    a.payload.as_ptr() == b.payload.as_ptr()
        && a.payload.len() == b.payload.len()
        && a.topic.as_ptr() == b.topic.as_ptr()
        && a.published_at == b.published_at
}
