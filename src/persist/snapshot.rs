//! Writing live state as records: one `STATE` record per persistent session
//! and one `RETAIN` record per retained message, with the message bodies
//! they reference written once per snapshot. Compaction calls it a few
//! sessions at a time (`compact.rs`).

use super::book::Book;
use super::frame::PARTITION_NONE;
use super::image::state_code;
use super::record::{kind, ms_of, put_grant, put_message, put_sub, unix_ms, Put};
use crate::router::RetainedMessage;
use crate::session::{will_delay_secs, Message, Origin, Pending, View};
use crate::shard::Partition;
use std::collections::HashMap;

/// The bodies written by one snapshot, by payload address: a message fanned
/// out to many sessions is stored once. Holds the messages so that their
/// addresses stay theirs while the snapshot runs.
#[derive(Default)]
pub struct Written(HashMap<(usize, usize), (Message, u64)>);

impl Written {
    fn mid(&mut self, book: &mut Book, m: &Message) -> u64 {
        let k = (m.payload.as_ptr() as usize, m.topic.as_ptr() as usize);
        if let Some((held, id)) = self.0.get(&k) {
            if held.published_at == m.published_at && held.payload.len() == m.payload.len() {
                return *id;
            }
        }
        let mid = book.next_mid;
        book.next_mid += 1;
        let ms = ms_of(m.published_at);
        book.log.append(kind::MSG, PARTITION_NONE, |b| {
            b.u64(mid);
            b.u64(ms);
            put_message(b, m);
        });
        self.0.insert(k, (m.clone(), mid));
        mid
    }
}

/// Write the `STATE` record of session `sid` (partition `p`). `now_ms` is
/// shard time, to turn its offline time into wall-clock time.
pub fn session(book: &mut Book, w: &mut Written, sid: u64, p: u16, v: &View<'_>, now_ms: u64) {
    let mids: Vec<u64> = (v.inflight.iter().filter_map(|f| f.2))
        .chain(v.queue.iter().copied())
        .map(|pending| w.mid(book, &pending.msg))
        .collect();
    let mut mids = mids.into_iter();
    let offline = v
        .offline_since_ms
        .map(|t| unix_ms().saturating_sub(now_ms.saturating_sub(t)).max(1));
    book.put(kind::STATE, sid, p, |b| {
        b.str(v.client_id);
        b.u32(v.expiry);
        b.u64(offline.unwrap_or(0));
        put_will(b, v);
        b.u32(v.subs.len() as u32);
        for (f, s) in &v.subs {
            put_sub(b, f, s);
        }
        b.u32(v.qos2_in.len() as u32);
        v.qos2_in.iter().for_each(|&id| b.u16(id));
        b.u32(v.inflight.len() as u32);
        for &(id, state, pending) in &v.inflight {
            b.u16(id);
            b.u8(state_code(state));
            if let Some(pending) = pending {
                put_pending(b, mids.next().unwrap_or(0), pending);
            }
        }
        b.u32(v.queue.len() as u32);
        for pending in &v.queue {
            put_pending(b, mids.next().unwrap_or(0), pending);
        }
    });
}

fn put_pending(b: &mut Vec<u8>, mid: u64, p: &Pending) {
    b.u64(mid);
    let ids = p.subscription_ids.as_deref().unwrap_or(&[]);
    put_grant(b, p.msg.qos, p.msg.retain, ids);
}

fn put_will(b: &mut Vec<u8>, v: &View<'_>) {
    let Some(will) = v.will else {
        return b.u8(0);
    };
    let m = Message::from_will(will.clone(), Origin::Broker);
    b.u8(1);
    b.u32(will_delay_secs(will));
    b.u64(ms_of(m.published_at));
    put_message(b, &m);
}

/// A retained message, as the retained store holds it.
pub fn retained(book: &Book, m: &RetainedMessage) {
    let p = Partition::of(m.topic.as_bytes()).index();
    let msg = Message {
        topic: m.topic.clone(),
        payload: m.payload.clone(),
        qos: m.qos,
        retain: true,
        properties: m.properties.clone(),
        origin: Origin::Broker,
        published_at: m.stored_at,
    };
    book.log.append(kind::RETAIN, p, |b| {
        b.u64(ms_of(msg.published_at));
        put_message(b, &msg);
    });
}

/// A retained message deleted (empty payload, or expired).
pub fn unretained(book: &Book, topic: &str) {
    let p = Partition::of(topic.as_bytes()).index();
    book.log.append(kind::UNRETAIN, p, |b| b.str(topic));
}
