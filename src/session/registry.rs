//! The slab of one shard's sessions plus a client-ID index (private to
//! `session/`: everything else goes through `Sessions`).
//! Keys carry a generation so a stale key (a retained-message reply that
//! arrives after its session ended) never reaches a newer session in the
//! same slot.

use super::Session;
use crate::protocol::MqttStr;
use std::collections::HashMap;

/// Handle to a session on this shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionKey {
    pub index: u32,
    pub generation: u32,
}

/// Sessions are boxed: the slab doubles as it grows, and a 16-byte slot
/// wastes far less of the spare capacity than a whole session would.
struct Slot {
    generation: u32,
    session: Option<Box<Session>>,
}

/// All sessions of one shard.
#[derive(Default)]
pub(super) struct Registry {
    by_id: HashMap<MqttStr, u32>,
    slots: Vec<Slot>,
    free: Vec<u32>,
}

impl Registry {
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn find(&self, client_id: &str) -> Option<SessionKey> {
        let index = *self.by_id.get(client_id)?;
        Some(SessionKey {
            index,
            generation: self.slots[index as usize].generation,
        })
    }

    /// Add a session; the client ID must not be registered already.
    pub fn insert(&mut self, session: Session) -> SessionKey {
        let client_id = session.client_id.clone();
        let index = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize].session = Some(Box::new(session));
                i
            }
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    session: Some(Box::new(session)),
                });
                (self.slots.len() - 1) as u32
            }
        };
        let prev = self.by_id.insert(client_id, index);
        debug_assert!(prev.is_none(), "client ID registered twice");
        SessionKey {
            index,
            generation: self.slots[index as usize].generation,
        }
    }

    pub fn get(&self, key: SessionKey) -> Option<&Session> {
        let slot = self.slots.get(key.index as usize)?;
        (slot.generation == key.generation).then_some(slot.session.as_deref()?)
    }

    pub fn get_mut(&mut self, key: SessionKey) -> Option<&mut Session> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        slot.session.as_deref_mut()
    }

    /// Read-only [`Registry::by_index_mut`], without the key.
    pub fn by_index(&self, index: u32) -> Option<&Session> {
        self.slots.get(index as usize)?.session.as_deref()
    }

    /// Session by slot index alone (the subscription index stores slot
    /// indexes; its entries are removed before a slot is reused), with its
    /// full key.
    pub fn by_index_mut(&mut self, index: u32) -> Option<(SessionKey, &mut Session)> {
        let slot = self.slots.get_mut(index as usize)?;
        let key = SessionKey {
            index,
            generation: slot.generation,
        };
        Some((key, slot.session.as_deref_mut()?))
    }

    /// The key of the session in slot `index`, if one lives there.
    pub fn key_at(&self, index: u32) -> Option<SessionKey> {
        let slot = self.slots.get(index as usize)?;
        slot.session.as_ref()?;
        Some(SessionKey {
            index,
            generation: slot.generation,
        })
    }

    /// Slots, live or free (to walk them all).
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Every live connection handle.
    pub fn connections(&self) -> Vec<std::rc::Rc<crate::connection::ConnHandle>> {
        let sessions = self.slots.iter().filter_map(|s| s.session.as_deref());
        sessions.filter_map(|s| s.conn.clone()).collect()
    }

    pub fn remove(&mut self, key: SessionKey) -> Option<Session> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        let session = *slot.session.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.by_id.remove(session.client_id.as_str());
        self.free.push(key.index);
        Some(session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_keys_miss_after_reuse() {
        let mut s = Registry::default();
        let a = s.insert(Session::new("a".into(), 1));
        assert_eq!(s.find("a"), Some(a));
        assert!(s.remove(a).is_some());
        assert!(s.find("a").is_none());
        let b = s.insert(Session::new("b".into(), 0));
        assert_eq!(a.index, b.index, "slot reused");
        assert!(
            s.get(a).is_none(),
            "old generation must not see the new session"
        );
        assert_eq!(s.get(b).unwrap().client_id.as_str(), "b");
        assert_eq!(s.len(), 1);
    }
}
