//! Retained messages of the topics a shard owns (MQTT 3.1.1 §3.3.1.3).
//!
//! Stored in a trie over topic levels so that a new subscription's filter
//! finds its retained messages without scanning them all: literal levels are
//! a direct walk, `+` visits the children of one node, `#` one subtree.

#[cfg(test)]
mod tests;

use super::filter_trie::{DfsStack, LevelMap};
use super::topic::{has_wildcard, is_dollar, split_level};
use crate::protocol::{MqttStr, PublishProperties, QoS};
use bytes::Bytes;
use std::collections::hash_map;
use std::sync::Arc;
use std::time::Instant;

/// One retained message: the last PUBLISH with RETAIN set on its topic.
#[derive(Clone, Debug)]
pub struct RetainedMessage {
    pub topic: MqttStr,
    pub payload: Bytes,
    pub qos: QoS,
    pub properties: Option<Arc<PublishProperties>>,
    pub stored_at: Instant,
}

/// What [`RetainedStore::set`] did to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOutcome {
    /// A message was stored on a topic that had none: count +1.
    Added,
    /// The topic's previous message was replaced: count unchanged.
    Replaced,
    /// An empty payload deleted the topic's message: count -1.
    Deleted,
    /// An empty payload on a topic with no message: nothing happened.
    Unchanged,
}

impl SetOutcome {
    /// Change in [`RetainedStore::len`]: +1, -1 or 0.
    pub fn count_delta(self) -> isize {
        match self {
            SetOutcome::Added => 1,
            SetOutcome::Deleted => -1,
            SetOutcome::Replaced | SetOutcome::Unchanged => 0,
        }
    }
}

#[derive(Default)]
struct Node {
    children: LevelMap<Node>,
    msg: Option<RetainedMessage>,
}

/// Retained messages by topic. Single-threaded: one per shard.
#[derive(Default)]
pub struct RetainedStore {
    root: Node,
    len: usize,
    /// Nodes below the root, kept to show memory is returned on removal.
    nodes: usize,
}

/// Where a pending walk goes next for each child it visits.
#[derive(Clone, Copy)]
enum Next<'a> {
    /// Match the rest of the filter (after a `+`).
    Filter(Option<&'a str>),
    /// Everything below (after a `#`).
    Subtree,
}

/// A node whose children are being visited one by one.
struct Frame<'a> {
    children: hash_map::Iter<'a, Box<str>, Node>,
    next: Next<'a>,
    /// The wildcard was the filter's first level: skip `$` topics
    /// [MQTT-4.7.2-1].
    skip_dollar: bool,
}

type Stack<'a> = DfsStack<Frame<'a>, 8>;

impl RetainedStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Store `msg` as its topic's retained message, replacing any previous
    /// one [MQTT-3.3.1-5]. An empty payload instead deletes the topic's
    /// retained message and stores nothing [MQTT-3.3.1-10][MQTT-3.3.1-11].
    pub fn set(&mut self, msg: RetainedMessage) -> SetOutcome {
        debug_assert!(!has_wildcard(&msg.topic), "topic names carry no wildcards");
        if msg.payload.is_empty() {
            return match self.remove(&msg.topic) {
                Some(_) => SetOutcome::Deleted,
                None => SetOutcome::Unchanged,
            };
        }
        let mut node = &mut self.root;
        for level in msg.topic.as_str().split('/') {
            // Look up first: the entry API would allocate the key every time.
            if !node.children.contains_key(level) {
                node.children.insert(level.into(), Node::default());
                self.nodes += 1;
            }
            node = node
                .children
                .get_mut(level)
                .expect("present or just inserted");
        }
        match node.msg.replace(msg) {
            Some(_) => SetOutcome::Replaced,
            None => {
                self.len += 1;
                SetOutcome::Added
            }
        }
    }

    /// The retained message on exactly `topic`.
    pub fn get(&self, topic: &str) -> Option<&RetainedMessage> {
        let mut node = &self.root;
        for level in topic.split('/') {
            node = node.children.get(level)?;
        }
        node.msg.as_ref()
    }

    /// Delete the retained message on `topic`, freeing nodes left unused.
    pub fn remove(&mut self, topic: &str) -> Option<RetainedMessage> {
        let mut node = &mut self.root;
        for level in topic.split('/') {
            node = node.children.get_mut(level)?;
        }
        let removed = node.msg.take()?;
        self.len -= 1;
        if node.children.is_empty() {
            self.prune(topic);
        }
        Some(removed)
    }

    /// Free the chain of nodes ending at `topic`'s (now unused) node, up to
    /// the deepest ancestor still holding a message or another child.
    fn prune(&mut self, topic: &str) {
        let (mut keep, mut depth) = (0, 0);
        let mut node = &self.root;
        for level in topic.split('/') {
            if node.msg.is_some() || node.children.len() > 1 {
                keep = depth;
            }
            node = &node.children[level];
            depth += 1;
        }
        let mut levels = topic.split('/');
        let mut node = &mut self.root;
        for level in levels.by_ref().take(keep) {
            node = node.children.get_mut(level).expect("pruned path exists");
        }
        let cut = levels.next().expect("a topic has at least one level");
        drop(node.children.remove(cut));
        self.nodes -= depth - keep;
    }

    /// Number of retained messages.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Trie nodes below the root; a measure of memory held by the store.
    pub fn node_count(&self) -> usize {
        self.nodes
    }

    /// Call `f` for every retained message, `$` topics too (the durable
    /// log's snapshot). Order is unspecified.
    pub fn for_each(&self, mut f: impl FnMut(&RetainedMessage)) {
        let mut stack = vec![&self.root];
        while let Some(n) = stack.pop() {
            emit(n, &mut f);
            stack.extend(n.children.values());
        }
    }

    /// Call `f` for every retained message whose topic matches `filter`
    /// (a valid filter; `$` topics only match a literal first level).
    /// Order is unspecified.
    pub fn for_each_match(&self, filter: &str, mut f: impl FnMut(&RetainedMessage)) {
        let mut stack = Stack::new();
        descend(&self.root, Some(filter), true, &mut stack, &mut f);
        while let Some(frame) = stack.last_mut() {
            let (next, skip_dollar) = (frame.next, frame.skip_dollar);
            let Some((level, child)) = frame.children.next() else {
                stack.pop();
                continue;
            };
            if skip_dollar && is_dollar(level) {
                continue;
            }
            match next {
                Next::Filter(rest) => descend(child, rest, false, &mut stack, &mut f),
                Next::Subtree => {
                    emit(child, &mut f);
                    if !child.children.is_empty() {
                        stack.push(Frame {
                            children: child.children.iter(),
                            next: Next::Subtree,
                            skip_dollar: false,
                        });
                    }
                }
            }
        }
    }
}

fn emit(node: &Node, f: &mut impl FnMut(&RetainedMessage)) {
    if let Some(msg) = &node.msg {
        f(msg);
    }
}

/// Follow literal levels of `rest` from `node`; at a wildcard, leave a frame
/// on the stack to visit the children, and stop.
fn descend<'a>(
    mut node: &'a Node,
    mut rest: Option<&'a str>,
    mut at_root: bool,
    stack: &mut Stack<'a>,
    f: &mut impl FnMut(&RetainedMessage),
) {
    loop {
        let Some(remaining) = rest else {
            return emit(node, f);
        };
        let (level, next) = split_level(remaining);
        let frame_next = match level {
            "+" => Next::Filter(next),
            "#" => {
                // `a/#` matches `a` itself (the root holds no message).
                emit(node, f);
                Next::Subtree
            }
            _ => match node.children.get(level) {
                Some(child) => {
                    (node, rest, at_root) = (child, next, false);
                    continue;
                }
                None => return,
            },
        };
        if !node.children.is_empty() {
            stack.push(Frame {
                children: node.children.iter(),
                next: frame_next,
                skip_dollar: at_root,
            });
        }
        return;
    }
}

impl Drop for Node {
    /// Frees descendants iteratively: topic depth is client-chosen and the
    /// default recursive drop could overflow the stack (see `FilterTrie`).
    fn drop(&mut self) {
        if self.children.is_empty() {
            return;
        }
        let mut pending: Vec<Node> = self.children.drain().map(|(_, n)| n).collect();
        while let Some(mut node) = pending.pop() {
            pending.extend(node.children.drain().map(|(_, n)| n));
        }
    }
}
