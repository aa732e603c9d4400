//! A publisher's QoS 1/2 window: which packet identifiers are in flight and
//! which acknowledgement each waits for.
//!
//! There is no retransmission: MQTT 3.1.1 only resends on reconnect
//! (§4.4) and the tool never reconnects, so an unanswered message simply
//! keeps its slot and shows up as "unacked" in the report.

use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    Ack,
    Rec,
    Comp,
}

#[derive(Debug)]
pub struct Inflight {
    waiting: HashMap<u16, Wait>,
    next_id: u16,
    max: usize,
}

/// What the publisher must do after an acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckAction {
    /// The message is complete; its slot is free.
    Done,
    /// PUBREC: answer with PUBREL (also for a repeated PUBREC, §4.3.3).
    SendPubRel,
}

impl Inflight {
    pub fn new(max: usize) -> Inflight {
        assert!((1..=65_535).contains(&max));
        Inflight {
            waiting: HashMap::with_capacity(max),
            next_id: 0,
            max,
        }
    }

    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    pub fn is_full(&self) -> bool {
        self.waiting.len() >= self.max
    }

    /// A free packet identifier for a new QoS 1/2 message, or `None` when
    /// the window is full. Identifiers cycle 1..=65535, skipping busy ones.
    pub fn start(&mut self, exactly_once: bool) -> Option<u16> {
        if self.is_full() {
            return None;
        }
        loop {
            self.next_id = self.next_id.wrapping_add(1).max(1);
            if !self.waiting.contains_key(&self.next_id) {
                break;
            }
        }
        let wait = if exactly_once { Wait::Rec } else { Wait::Ack };
        self.waiting.insert(self.next_id, wait);
        Some(self.next_id)
    }

    pub fn on_puback(&mut self, id: u16) -> Result<AckAction, String> {
        self.finish(id, Wait::Ack, "PUBACK")
    }

    pub fn on_pubcomp(&mut self, id: u16) -> Result<AckAction, String> {
        self.finish(id, Wait::Comp, "PUBCOMP")
    }

    pub fn on_pubrec(&mut self, id: u16) -> Result<AckAction, String> {
        match self.waiting.get_mut(&id) {
            Some(w @ (Wait::Rec | Wait::Comp)) => {
                *w = Wait::Comp;
                Ok(AckAction::SendPubRel)
            }
            _ => Err(format!("PUBREC for packet id {id} not awaiting one")),
        }
    }

    fn finish(&mut self, id: u16, expect: Wait, what: &str) -> Result<AckAction, String> {
        match self.waiting.get(&id) {
            Some(w) if *w == expect => {
                self.waiting.remove(&id);
                Ok(AckAction::Done)
            }
            _ => Err(format!("{what} for packet id {id} not awaiting one")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qos1_window_fills_and_frees() {
        let mut w = Inflight::new(2);
        let a = w.start(false).unwrap();
        let b = w.start(false).unwrap();
        assert_ne!(a, b);
        assert!(w.is_full());
        assert_eq!(w.start(false), None);
        assert_eq!(w.on_puback(a), Ok(AckAction::Done));
        assert_eq!(w.len(), 1);
        assert!(w.start(false).is_some());
    }

    #[test]
    fn qos2_goes_through_pubrec_then_pubcomp() {
        let mut w = Inflight::new(10);
        let id = w.start(true).unwrap();
        assert!(w.on_pubcomp(id).is_err(), "PUBCOMP before PUBREC");
        assert!(w.on_puback(id).is_err(), "PUBACK for a QoS 2 message");
        assert_eq!(w.on_pubrec(id), Ok(AckAction::SendPubRel));
        // A repeated PUBREC is answered again, not an error.
        assert_eq!(w.on_pubrec(id), Ok(AckAction::SendPubRel));
        assert_eq!(w.on_pubcomp(id), Ok(AckAction::Done));
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn unknown_acks_are_errors() {
        let mut w = Inflight::new(10);
        assert!(w.on_puback(7).is_err());
        assert!(w.on_pubrec(7).is_err());
        let id = w.start(false).unwrap();
        assert_eq!(w.on_puback(id), Ok(AckAction::Done));
        assert!(w.on_puback(id).is_err(), "second PUBACK");
    }

    #[test]
    fn ids_wrap_skip_zero_and_busy() {
        let mut w = Inflight::new(3);
        w.next_id = 65_534;
        let a = w.start(false).unwrap();
        assert_eq!(a, 65_535);
        let b = w.start(false).unwrap();
        assert_eq!(b, 1, "0 is not a valid packet id");
        w.on_puback(b).unwrap();
        // Force a wrap onto the still busy 65535.
        w.next_id = 65_534;
        assert_eq!(w.start(false), Some(1));
        assert_eq!(w.len(), 2);
        let _ = a;
    }
}
