//! Shared subscriptions across shards. Every shard knows, per group, how
//! many members each shard has (online and in total); a change on one
//! shard is broadcast with a sequence number, so a SUBACK waits until
//! every peer counts the new member (as for interest, `acks.rs`). The
//! publisher's shard picks the shard that delivers each message (weighted
//! by members); that shard picks the member. Nothing is locked or shared
//! per message.

use super::mesh::send_control;
use super::messages::Control;
use crate::router::shared::{self, ShareTag};
use crate::session::{Message, SharedOutcome};
use crate::shard::Shard;

/// Route `msg` to one member of every shared group it matches; returns the
/// groups served.
pub fn publish(shard: &Shard, msg: &Message) -> usize {
    let mut remote = Vec::new();
    let served = shard.sessions.borrow_mut().publish_shared(msg, &mut remote);
    for (p, tag) in remote {
        shard.mesh.send_shared(p, msg.clone(), tag);
    }
    served
}

/// A message a peer sent this shard for one of its groups.
pub fn deliver(shard: &Shard, msg: Message, tag: ShareTag) {
    let outcome = shard.sessions.borrow_mut().deliver_shared(&msg, tag);
    if let SharedOutcome::PassOn(p, tag) = outcome {
        shard.mesh.send_shared(p, msg, tag);
    }
}

/// Messages owed by members whose session ended go to other members.
pub fn redistribute(shard: &Shard) {
    let mut remote = Vec::new();
    shard.sessions.borrow_mut().redistribute(&mut remote);
    for (p, tag, msg) in remote {
        shard.mesh.send_shared(p, msg, tag);
    }
}

/// This shard's members of the group of `filter` (a valid `$share/`
/// filter) changed: record them, and tell every peer.
pub fn changed(shard: &Shard, filter: &str) {
    let Some(Some((name, f))) = shared::parse(filter) else {
        return;
    };
    let (id, members) = shard.sessions.borrow_mut().refresh_shared(name, f);
    if shard.count == 1 {
        return;
    }
    let seq = shard.acks.stamp(shard.peers());
    for p in shard.peers() {
        let msg = Control::Share {
            name: name.into(),
            filter: f.into(),
            id,
            members,
            seq,
        };
        send_control(shard, p, msg);
    }
}
