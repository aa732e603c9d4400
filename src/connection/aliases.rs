//! MQTT 5 topic aliases of one connection (§3.3.2.3.4), in both directions.
//! Each side owns its own numbering, valid for this network connection only.

use crate::protocol::MqttStr;
use std::collections::HashMap;

/// Aliases the client set towards the broker: alias → topic.
#[derive(Debug, Default)]
pub struct InAliases(Vec<Option<MqttStr>>);

impl InAliases {
    /// Remember `topic` for `alias` (1..=the broker's maximum, checked by
    /// the caller). The topic is copied: the decoded one points into the
    /// whole PUBLISH frame and would pin its payload.
    pub fn set(&mut self, alias: u16, topic: &MqttStr) {
        let i = alias as usize - 1;
        if self.0.len() <= i {
            self.0.resize(i + 1, None);
        }
        self.0[i] = Some(MqttStr::from(topic.as_str()));
    }

    pub fn get(&self, alias: u16) -> Option<&MqttStr> {
        self.0.get((alias as usize).checked_sub(1)?)?.as_ref()
    }
}

/// What to write for one outbound topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alias {
    /// No alias: the topic in full (aliases off, or all of them taken).
    None,
    /// The client knows this alias: an empty topic and the alias.
    Known(u16),
    /// A fresh alias: the topic and the alias; [`OutAliases::commit`] once
    /// it is written.
    New(u16),
}

/// Aliases the broker assigns towards the client, first come first served
/// up to the client's Topic Alias Maximum (capped at [`OUT_ALIASES_CAP`]).
/// First come keeps it simple and allocation-free once full; topics past
/// the cap go in full.
#[derive(Debug, Default)]
pub struct OutAliases {
    max: u16,
    map: HashMap<MqttStr, u16>,
}

/// At most this many outbound aliases per connection, whatever the client
/// allows: each holds a copy of its topic.
pub const OUT_ALIASES_CAP: u16 = 1024;

impl OutAliases {
    pub fn new(client_max: u16) -> OutAliases {
        OutAliases {
            max: client_max.min(OUT_ALIASES_CAP),
            map: HashMap::new(),
        }
    }

    #[inline]
    pub fn plan(&self, topic: &str) -> Alias {
        if self.max == 0 {
            return Alias::None;
        }
        match self.map.get(topic) {
            Some(&a) => Alias::Known(a),
            None if self.map.len() < self.max as usize => Alias::New(self.map.len() as u16 + 1),
            None => Alias::None,
        }
    }

    /// `topic` went out with the fresh alias `a` from [`OutAliases::plan`].
    pub fn commit(&mut self, topic: &str, a: u16) {
        debug_assert_eq!(a as usize, self.map.len() + 1);
        self.map.insert(MqttStr::from(topic), a);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbound_aliases_are_replaced_and_copied() {
        let mut a = InAliases::default();
        assert!(a.get(1).is_none() && a.get(0).is_none());
        a.set(3, &"x/y".into());
        assert_eq!(a.get(3).map(|t| t.as_str()), Some("x/y"));
        assert!(a.get(1).is_none());
        a.set(3, &"z".into());
        assert_eq!(a.get(3).map(|t| t.as_str()), Some("z"));
    }

    #[test]
    fn outbound_aliases_first_come_up_to_the_maximum() {
        let mut o = OutAliases::new(2);
        assert_eq!(o.plan("a"), Alias::New(1));
        o.commit("a", 1);
        assert_eq!(o.plan("a"), Alias::Known(1));
        assert_eq!(o.plan("b"), Alias::New(2));
        o.commit("b", 2);
        assert_eq!(o.plan("c"), Alias::None, "all aliases taken");
        assert_eq!(o.plan("b"), Alias::Known(2));
        assert_eq!(OutAliases::new(0).plan("a"), Alias::None);
        assert_eq!(OutAliases::new(u16::MAX).max, OUT_ALIASES_CAP);
    }
}
