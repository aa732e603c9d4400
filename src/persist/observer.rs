//! Session events → log records, for persistent sessions only: a clean
//! session's events cost one lookup and write nothing.

use super::book::Book;
use super::record::{kind, ms_of, put_grant, put_message, put_sub, unix_ms, Put};
use crate::session::{will_delay_secs, Message, Origin, SessionEvent, SessionObserver, Stored};
use std::cell::RefCell;
use std::rc::Rc;

pub struct Recorder(pub Rc<RefCell<Book>>);

impl SessionObserver for Recorder {
    fn on_event(&mut self, e: &SessionEvent<'_>) {
        let mut book = self.0.borrow_mut();
        if book.muted {
            return;
        }
        match *e {
            SessionEvent::Created {
                key,
                client_id,
                persistent,
            } => {
                if !persistent {
                    return book.forget(key);
                }
                let (sid, p) = book.create(key, client_id);
                book.put(kind::SESSION, sid, p, |b| b.str(client_id));
            }
            SessionEvent::Ended { key, .. } => {
                if let Some((sid, p)) = book.sid(key) {
                    book.put(kind::END, sid, p, |_| {});
                    book.forget(key);
                }
            }
            _ => record(&mut book, e),
        }
    }
}

/// Every event about an existing session.
fn record(book: &mut Book, e: &SessionEvent<'_>) {
    let Some((sid, p)) = key_of(e).and_then(|k| book.sid(k)) else {
        return;
    };
    let id = |k: u8, v: u16| book.put(k, sid, p, |b| b.u16(v));
    match *e {
        SessionEvent::Expiry { secs, .. } => book.put(kind::EXPIRY, sid, p, |b| b.u32(secs)),
        SessionEvent::Connected { .. } => book.put(kind::OFFLINE, sid, p, |b| b.u64(0)),
        SessionEvent::Disconnected { .. } => book.put(kind::OFFLINE, sid, p, |b| b.u64(unix_ms())),
        SessionEvent::WillKept { will, .. } => {
            let m = Message::from_will(will.clone(), Origin::Broker);
            let delay = will_delay_secs(will);
            book.put(kind::WILL, sid, p, |b| {
                b.u32(delay);
                b.u64(ms_of(m.published_at));
                put_message(b, &m);
            });
        }
        SessionEvent::WillReleased { .. } => book.put(kind::WILL_GONE, sid, p, |_| {}),
        SessionEvent::Subscribed { filter, sub, .. } => {
            book.put(kind::SUB, sid, p, |b| put_sub(b, filter, &sub))
        }
        SessionEvent::Unsubscribed { filter, .. } => {
            book.put(kind::UNSUB, sid, p, |b| b.str(filter))
        }
        SessionEvent::Queued { p: pending, .. } => {
            let mid = book.message(&pending.msg);
            let ids = pending.subscription_ids.as_deref().unwrap_or(&[]);
            book.put(kind::QUEUE, sid, p, |b| {
                b.u64(mid);
                put_grant(b, pending.msg.qos, pending.msg.retain, ids);
            });
        }
        SessionEvent::Sent {
            packet_id,
            msg,
            ids,
            from_queue,
            ..
        } => {
            if from_queue {
                id(kind::SEND_QUEUED, packet_id);
            } else if packet_id != 0 {
                let mid = book.message(msg);
                book.put(kind::SEND, sid, p, |b| {
                    b.u16(packet_id);
                    b.u64(mid);
                    put_grant(b, msg.qos, msg.retain, ids);
                });
            }
        }
        SessionEvent::Acked { packet_id, .. } => id(kind::ACK, packet_id),
        SessionEvent::Received { packet_id, .. } => id(kind::REC, packet_id),
        SessionEvent::Dropped { from, .. } => match from {
            Stored::Nowhere => {}
            Stored::QueueFront => book.put(kind::DROP_FRONT, sid, p, |_| {}),
            Stored::Inflight(pid) => id(kind::DROP_INFLIGHT, pid),
        },
        SessionEvent::Qos2Accepted { packet_id, .. } => id(kind::QOS2_IN, packet_id),
        SessionEvent::Qos2Released { packet_id, .. } => id(kind::QOS2_REL, packet_id),
        SessionEvent::Created { .. } | SessionEvent::Ended { .. } => {}
    }
}

fn key_of(e: &SessionEvent<'_>) -> Option<crate::session::SessionKey> {
    Some(match *e {
        SessionEvent::Created { key, .. }
        | SessionEvent::Connected { key, .. }
        | SessionEvent::Disconnected { key }
        | SessionEvent::Expiry { key, .. }
        | SessionEvent::WillReleased { key }
        | SessionEvent::WillKept { key, .. }
        | SessionEvent::Ended { key, .. }
        | SessionEvent::Subscribed { key, .. }
        | SessionEvent::Unsubscribed { key, .. }
        | SessionEvent::Queued { key, .. }
        | SessionEvent::Sent { key, .. }
        | SessionEvent::Acked { key, .. }
        | SessionEvent::Received { key, .. }
        | SessionEvent::Dropped { key, .. }
        | SessionEvent::Qos2Accepted { key, .. }
        | SessionEvent::Qos2Released { key, .. } => key,
    })
}
