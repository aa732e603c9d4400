//! A trie over topic-filter levels, answering "which (key, data) entries have
//! a filter matching this topic?".
//!
//! Each shard keeps two: its local subscriptions (key = session, data =
//! granted QoS and flags) and the replicated cross-shard interest table
//! (key = shard index, data = `()`).
//!
//! Layout: a node is reached by the filter's levels from the root. Literal
//! levels hang in a map; `+` has its own child slot; a trailing `#` is not a
//! node at all but the `hash` entry slot of its parent, so `a/#` lives on
//! node `a` next to `a`'s own `exact` entries. That makes matching a topic a
//! walk that, per level, looks at one literal child, one `+` child and one
//! `#` slot, all O(1), and makes `#` matching the parent level free.

mod entries;
mod hasher;
mod stack;
#[cfg(test)]
mod tests;

pub(crate) use hasher::{IntBuildHasher, LevelMap};
pub(crate) use stack::DfsStack;

use super::topic::{is_dollar, split_level};
use entries::Entries;
use std::hash::Hash;

/// What [`FilterTrie::insert`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsertOutcome<D> {
    /// Data the key had on this filter before, if it was already there.
    pub previous: Option<D>,
    /// The filter had no key before this insert: interest in it just appeared.
    pub first_on_filter: bool,
}

/// What [`FilterTrie::remove`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoveOutcome<D> {
    /// The key's data on this filter, if it was there.
    pub removed: Option<D>,
    /// This call removed the filter's last key: interest in it just vanished.
    /// False when nothing was removed, so it only reports the flip.
    pub filter_now_empty: bool,
}

struct Node<K, D> {
    literal: LevelMap<Node<K, D>>,
    plus: Option<Box<Node<K, D>>>,
    /// Entries whose filter ends at this node.
    exact: Entries<K, D>,
    /// Entries whose filter is this node's path followed by `/#`.
    hash: Entries<K, D>,
}

/// Subscriptions by topic filter. Single-threaded: one per shard.
///
/// Filters must be valid MQTT filters (the codec validates them).
pub struct FilterTrie<K, D> {
    root: Node<K, D>,
    /// Distinct filters with at least one key.
    filters: usize,
    /// (filter, key) pairs.
    entries: usize,
    /// Nodes below the root, kept to show memory is returned on removal.
    nodes: usize,
}

/// The literal/`+` levels of a filter and whether it ends with `#`. The path
/// is `None` for the filter `#` alone, which has zero levels before the `#`
/// (unlike `/#`, whose path is one empty level).
fn split_filter(filter: &str) -> (Option<&str>, bool) {
    if filter == "#" {
        (None, true)
    } else if let Some(path) = filter.strip_suffix("/#") {
        (Some(path), true)
    } else {
        (Some(filter), false)
    }
}

fn path_levels(path: Option<&str>) -> impl Iterator<Item = &str> + Clone {
    path.into_iter().flat_map(|p| p.split('/'))
}

impl<K, D> Default for FilterTrie<K, D> {
    fn default() -> Self {
        FilterTrie {
            root: Node::default(),
            filters: 0,
            entries: 0,
            nodes: 0,
        }
    }
}

impl<K: Copy + Eq + Hash, D> FilterTrie<K, D> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Subscribe `key` to `filter` with `data`, replacing the data if the key
    /// was already subscribed to this exact filter.
    pub fn insert(&mut self, filter: &str, key: K, data: D) -> InsertOutcome<D> {
        let (path, ends_with_hash) = split_filter(filter);
        let mut node = &mut self.root;
        for level in path_levels(path) {
            node = node.child_or_insert(level, &mut self.nodes);
        }
        let slot = node.slot_mut(ends_with_hash);
        let first_on_filter = slot.is_empty();
        let previous = slot.insert(key, data);
        if previous.is_none() {
            self.entries += 1;
            self.filters += first_on_filter as usize;
        }
        InsertOutcome {
            previous,
            first_on_filter,
        }
    }

    /// Unsubscribe `key` from `filter`. Nodes left without entries or
    /// children are freed.
    pub fn remove(&mut self, filter: &str, key: &K) -> RemoveOutcome<D> {
        let (path, ends_with_hash) = split_filter(filter);
        let mut node = &mut self.root;
        for level in path_levels(path) {
            let Some(child) = node.child_mut(level) else {
                return RemoveOutcome {
                    removed: None,
                    filter_now_empty: false,
                };
            };
            node = child;
        }
        let slot = node.slot_mut(ends_with_hash);
        let removed = slot.remove(key);
        let filter_now_empty = removed.is_some() && slot.is_empty();
        let prune = node.is_unused();
        if removed.is_some() {
            self.entries -= 1;
            self.filters -= filter_now_empty as usize;
        }
        if prune {
            self.prune(path_levels(path));
        }
        RemoveOutcome {
            removed,
            filter_now_empty,
        }
    }

    /// Free the chain of nodes that ends at the (now unused) node at the end
    /// of `levels`, up to the deepest ancestor that is still needed.
    fn prune<'f>(&mut self, levels: impl Iterator<Item = &'f str> + Clone) {
        // Deepest node on the path that must stay: the root, or one holding
        // entries or a child off the path.
        let (mut keep, mut depth) = (0, 0);
        let mut node = &self.root;
        for level in levels.clone() {
            if !node.exact.is_empty() || !node.hash.is_empty() || node.child_count() > 1 {
                keep = depth;
            }
            node = node.child(level).expect("pruned path exists");
            depth += 1;
        }
        if depth == 0 {
            return; // the root itself is never freed
        }
        let mut levels = levels;
        let mut node = &mut self.root;
        for level in levels.by_ref().take(keep) {
            node = node.child_mut(level).expect("pruned path exists");
        }
        let cut = levels.next().expect("keep is above the unused node");
        drop(node.take_child(cut));
        self.nodes -= depth - keep;
    }

    /// The data `key` has on exactly `filter` (no wildcard matching).
    pub fn get(&self, filter: &str, key: &K) -> Option<&D> {
        let (path, ends_with_hash) = split_filter(filter);
        let mut node = &self.root;
        for level in path_levels(path) {
            node = node.child(level)?;
        }
        node.slot(ends_with_hash).get(key)
    }

    /// Call `f` for every entry whose filter matches `topic`.
    ///
    /// A key subscribed with several overlapping filters (`a/+` and `a/#`) is
    /// reported once per filter, with that filter's data: the caller dedups
    /// (MQTT lets it pick the highest QoS among them). Order is unspecified.
    /// Does not allocate unless more than 16 `+` branches are pending at once.
    #[inline]
    pub fn for_each_match(&self, topic: &str, mut f: impl FnMut(&K, &D)) {
        // Pending `+` branches: (node, what is left of the topic there).
        let mut stack: DfsStack<(&Node<K, D>, Option<&str>), 16> = DfsStack::new();
        let root = &self.root;
        let (level, rest) = split_level(topic);
        // [MQTT-4.7.2-1]: filters starting with a wildcard skip `$` topics.
        if !is_dollar(topic) {
            root.hash.for_each(&mut f);
            if let Some(plus) = &root.plus {
                stack.push((plus, rest));
            }
        }
        if let Some(child) = root.literal.get(level) {
            stack.push((child, rest));
        }
        while let Some((mut node, mut rest)) = stack.pop() {
            loop {
                // `x/#` matches below `x` and, with no level left, `x` itself.
                node.hash.for_each(&mut f);
                let Some(remaining) = rest else {
                    node.exact.for_each(&mut f);
                    break;
                };
                let (level, next) = split_level(remaining);
                if let Some(plus) = &node.plus {
                    stack.push((plus, next));
                }
                match node.literal.get(level) {
                    Some(child) => (node, rest) = (child, next),
                    None => break,
                }
            }
        }
    }

    /// Distinct filters with at least one key.
    pub fn filter_count(&self) -> usize {
        self.filters
    }

    /// Total (filter, key) entries.
    pub fn len(&self) -> usize {
        self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Trie nodes below the root; a measure of memory held by the structure.
    pub fn node_count(&self) -> usize {
        self.nodes
    }
}

impl<K, D> Default for Node<K, D> {
    fn default() -> Self {
        Node {
            literal: LevelMap::default(),
            plus: None,
            exact: Entries::default(),
            hash: Entries::default(),
        }
    }
}

impl<K, D> Node<K, D> {
    /// The entries of the filter ending here, or of the one ending `/#` here.
    fn slot(&self, ends_with_hash: bool) -> &Entries<K, D> {
        if ends_with_hash {
            &self.hash
        } else {
            &self.exact
        }
    }

    fn slot_mut(&mut self, ends_with_hash: bool) -> &mut Entries<K, D> {
        if ends_with_hash {
            &mut self.hash
        } else {
            &mut self.exact
        }
    }

    fn child(&self, level: &str) -> Option<&Node<K, D>> {
        match level {
            "+" => self.plus.as_deref(),
            _ => self.literal.get(level),
        }
    }

    fn child_mut(&mut self, level: &str) -> Option<&mut Node<K, D>> {
        match level {
            "+" => self.plus.as_deref_mut(),
            _ => self.literal.get_mut(level),
        }
    }

    fn child_or_insert(&mut self, level: &str, nodes: &mut usize) -> &mut Node<K, D> {
        if level == "+" {
            *nodes += self.plus.is_none() as usize;
            return self.plus.get_or_insert_with(Default::default);
        }
        // Look up before inserting so an existing level costs no allocation
        // (the entry API would need an owned key up front).
        if !self.literal.contains_key(level) {
            self.literal.insert(level.into(), Node::default());
            *nodes += 1;
        }
        self.literal
            .get_mut(level)
            .expect("present or just inserted")
    }

    fn take_child(&mut self, level: &str) -> Option<Node<K, D>> {
        match level {
            "+" => self.plus.take().map(|b| *b),
            _ => self.literal.remove(level),
        }
    }

    fn child_count(&self) -> usize {
        self.literal.len() + self.plus.is_some() as usize
    }

    fn has_children(&self) -> bool {
        !self.literal.is_empty() || self.plus.is_some()
    }

    /// No entries and no children: the node can be freed.
    fn is_unused(&self) -> bool {
        self.exact.is_empty() && self.hash.is_empty() && !self.has_children()
    }
}

impl<K, D> Drop for Node<K, D> {
    /// Frees descendants iteratively: the default recursive drop would use
    /// stack proportional to the depth of the deepest filter, which a client
    /// controls. Only does work for nodes that still have children, i.e. when
    /// a whole trie (or a pruned chain) goes away; the price is a transient
    /// vector as long as the widest frontier, paid at shutdown.
    fn drop(&mut self) {
        if !self.has_children() {
            return;
        }
        let mut pending = Vec::new();
        self.move_children_into(&mut pending);
        while let Some(mut node) = pending.pop() {
            node.move_children_into(&mut pending);
            // `node` drops here without children: no recursion.
        }
    }
}

impl<K, D> Node<K, D> {
    fn move_children_into(&mut self, out: &mut Vec<Node<K, D>>) {
        out.extend(self.literal.drain().map(|(_, child)| child));
        if let Some(plus) = self.plus.take() {
            out.push(*plus);
        }
    }
}
