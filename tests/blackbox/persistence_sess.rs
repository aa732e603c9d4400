//! A persistent session of either protocol version for the persistence
//! tests: MQTT 3.1.1 with clean session 0, or MQTT 5 with clean start 0 and
//! a Session Expiry Interval, behind one small API.

use crate::common::v5::{self, connect5, connect_expiry, Props};
use crate::common::*;

/// Session Expiry Interval of the v5 sessions: longer than any test.
pub const EXPIRY: u32 = 3600;

#[derive(Clone, Debug)]
pub struct Sess {
    pub id: String,
    pub v5: bool,
    /// Packets read while waiting for a PUBREL (the broker may send the
    /// next PUBLISHes first), handed out by `next` before reading more.
    stash: std::rc::Rc<std::cell::RefCell<std::collections::VecDeque<Pkt>>>,
}

/// A PUBLISH received by a session, whatever its protocol version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg {
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: u8,
    pub dup: bool,
    pub retain: bool,
    pub pid: Option<u16>,
}

impl Msg {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }
}

/// What a session may receive.
#[derive(Clone, Debug)]
pub enum Pkt {
    Publish(Msg),
    Pubrel(u16),
}

impl Sess {
    pub fn v3(id: &str) -> Sess {
        Sess {
            id: id.into(),
            v5: false,
            stash: Default::default(),
        }
    }

    pub fn v5(id: &str) -> Sess {
        Sess {
            id: id.into(),
            v5: true,
            stash: Default::default(),
        }
    }

    /// The two versions on every shard: `{prefix}3-…` and `{prefix}5-…`.
    pub fn both_on_every_shard(prefix: &str) -> Vec<Sess> {
        let mut out = Vec::new();
        for shard in 0..SHARDS {
            out.push(Sess::v3(&id_on_shard(&format!("{prefix}3"), shard)));
            out.push(Sess::v5(&id_on_shard(&format!("{prefix}5"), shard)));
        }
        out
    }

    /// Connects resuming the session (clean 0); returns session present.
    pub fn connect(&self, port: u16) -> (Client, bool) {
        self.stash.borrow_mut().clear();
        if self.v5 {
            let (c, ack) = connect5(port, &connect_expiry(&self.id, false, Some(EXPIRY)));
            (c, ack.session_present)
        } else {
            connect_sp(port, &self.id, false)
        }
    }

    /// Connects resuming the session, which must be present.
    pub fn resume(&self, port: u16) -> Client {
        let (c, present) = self.connect(port);
        assert!(present, "[{}] session present must be 1", self.id);
        c
    }

    /// First connection: a new session (v5: clean start 1, so the session
    /// present flag is 0 for both versions).
    pub fn create(&self, port: u16) -> Client {
        self.stash.borrow_mut().clear();
        let (c, present) = if self.v5 {
            let (c, ack) = connect5(port, &connect_expiry(&self.id, true, Some(EXPIRY)));
            (c, ack.session_present)
        } else {
            connect_sp(port, &self.id, false)
        };
        assert!(!present, "[{}] a new session is not present", self.id);
        c
    }

    /// SUBSCRIBE; every QoS must be granted as asked.
    pub fn subscribe(&self, c: &mut Client, filters: &[(&str, u8)]) {
        let codes = if self.v5 {
            c.subscribe_v5(filters, &Props::new()).codes
        } else {
            c.subscribe_many(filters)
        };
        let want: Vec<u8> = filters.iter().map(|f| f.1).collect();
        assert_eq!(codes, want, "[{}] SUBACK", self.id);
    }

    /// Next packet within `within`: a PUBLISH or a PUBREL, nothing else.
    pub fn next(&self, c: &mut Client, within: std::time::Duration) -> Pkt {
        if let Some(p) = self.stash.borrow_mut().pop_front() {
            return p;
        }
        self.read(c, within)
    }

    fn read(&self, c: &mut Client, within: std::time::Duration) -> Pkt {
        let (first, body) = c.recv_within(within);
        match first >> 4 {
            3 => Pkt::Publish(self.parse(first, &body)),
            6 => Pkt::Pubrel(u16::from_be_bytes([body[0], body[1]])),
            _ => panic!(
                "[{}] expected PUBLISH or PUBREL, got {}",
                self.id,
                hex(&packet(first, &body))
            ),
        }
    }

    fn parse(&self, first: u8, body: &[u8]) -> Msg {
        let (topic, pid, payload) = if self.v5 {
            let p = v5::parse_publish(first, body);
            (p.topic, p.pid, p.payload)
        } else {
            let p = Publish::parse(first, body);
            (p.topic, p.pid, p.payload)
        };
        Msg {
            topic,
            payload,
            qos: (first >> 1) & 3,
            dup: first & 0x08 != 0,
            retain: first & 1 != 0,
            pid,
        }
    }

    /// The next packet must be a PUBLISH.
    pub fn recv(&self, c: &mut Client) -> Msg {
        match self.next(c, WAIT) {
            Pkt::Publish(m) => m,
            Pkt::Pubrel(pid) => panic!("[{}] expected a PUBLISH, got PUBREL {pid}", self.id),
        }
    }

    /// The next packet is a PUBLISH of `topic`, `payload`, `qos`, DUP and
    /// RETAIN clear; acknowledged (the whole QoS 2 flow).
    pub fn expect(&self, c: &mut Client, topic: &str, payload: &str, qos: u8) -> Msg {
        let m = self.recv(c);
        assert_eq!(
            (m.topic.as_str(), m.text().as_str(), m.qos, m.dup, m.retain),
            (topic, payload, qos, false, false),
            "[{}] unexpected PUBLISH (topic, payload, qos, dup, retain): {m:?}",
            self.id
        );
        self.ack(c, &m);
        m
    }

    /// The receiver's side of the QoS flow (acks in their short form,
    /// valid in both versions).
    pub fn ack(&self, c: &mut Client, m: &Msg) {
        let Some(pid) = m.pid else { return };
        if m.qos == 1 {
            return c.send(&puback(pid));
        }
        c.send(&pubrec(pid));
        // Later PUBLISHes may come first: kept for `next`.
        loop {
            match self.read(c, WAIT) {
                Pkt::Pubrel(p) if p == pid => return c.send(&pubcomp(pid)),
                Pkt::Publish(m) => self.stash.borrow_mut().push_back(Pkt::Publish(m)),
                other => panic!("[{}] expected PUBREL {pid}, got {other:?}", self.id),
            }
        }
    }

    /// Nothing more arrives for `QUIET` (nothing kept either).
    pub fn quiet(&self, c: &mut Client) {
        let kept = self.stash.borrow_mut().pop_front();
        assert!(
            kept.is_none(),
            "[{}] expected nothing more, got {kept:?}",
            self.id
        );
        c.expect_no_packet(QUIET);
    }

    /// Clean end (DISCONNECT, v5 reason 0x00: the session stays).
    pub fn leave(&self, c: Client) {
        c.disconnect();
    }
}
