//! One section of rules compiled into a trie over topic levels, so a check
//! walks the topic once instead of scanning every rule.
//!
//! A node holds the access bits of the rules that end there (`end`) and of
//! those that end there followed by `/#` (`hash`, which also matches the
//! node's own level, as `a/#` matches `a`). Children: literal levels in a
//! small vector or a map, `+`, and for patterns `%c` and `%u` levels, which
//! are compared with the client's id and user name at match time (a level
//! mixing text and `%c`/`%u`, like `%u-in`, is a template, compared piece by
//! piece). An id or name holding `/` spans several topic levels, as the text
//! substitution Mosquitto does would.

use super::bytes_map::BytesMap;

pub const READ: u8 = 1;
pub const WRITE: u8 = 2;
pub const DENY: u8 = 4;

const NONE: u32 = u32::MAX;

/// A level of a `pattern`, split at `%c` and `%u`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(Box<[u8]>),
    ClientId,
    User,
}

/// Split one level of a pattern; `None` if it has no `%c`/`%u`.
pub fn pieces(level: &str) -> Option<Vec<Piece>> {
    if !level.contains("%c") && !level.contains("%u") {
        return None;
    }
    let (b, mut out, mut text) = (level.as_bytes(), Vec::new(), Vec::new());
    let mut i = 0;
    while i < b.len() {
        let sub = match b.get(i..i + 2) {
            Some(b"%c") => Some(Piece::ClientId),
            Some(b"%u") => Some(Piece::User),
            _ => None,
        };
        match sub {
            Some(p) => {
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text).into()));
                }
                out.push(p);
                i += 2;
            }
            None => {
                text.push(b[i]);
                i += 1;
            }
        }
    }
    if !text.is_empty() {
        out.push(Piece::Text(text.into()));
    }
    Some(out)
}

struct Node {
    literal: BytesMap<u32>,
    plus: u32,
    client: u32,
    user: u32,
    templates: Vec<(Box<[Piece]>, u32)>,
    end: u8,
    hash: u8,
    /// A deny rule ends here or below: a walk that already has its grant
    /// must still look here.
    deny_below: bool,
    /// Has any child (most rules end in leaves: no level to look at).
    kids: bool,
}

impl Node {
    fn new() -> Node {
        Node {
            literal: BytesMap::default(),
            plus: NONE,
            client: NONE,
            user: NONE,
            templates: Vec::new(),
            end: 0,
            hash: 0,
            deny_below: false,
            kids: false,
        }
    }

    #[inline]
    fn literal(&self, level: &[u8]) -> u32 {
        self.literal.get(level).copied().unwrap_or(NONE)
    }
}

/// Who is asking: what `%c` and `%u` stand for.
#[derive(Debug, Clone, Copy)]
pub struct Who<'a> {
    pub client_id: &'a str,
    pub user: Option<&'a str>,
}

/// The rules of one section (a user's, the anonymous one, or the patterns).
pub struct Trie {
    nodes: Vec<Node>,
}

/// One walk: the topic, who asks, and the access wanted.
struct Walk<'a> {
    topic: &'a [u8],
    who: Who<'a>,
    want: u8,
}

impl Trie {
    pub fn new() -> Trie {
        Trie {
            nodes: vec![Node::new()],
        }
    }

    /// Add a rule: `bits` on `filter` (a valid filter; for patterns, with
    /// `%c`/`%u` levels).
    pub fn add(&mut self, filter: &str, bits: u8) {
        let deny = bits & DENY != 0;
        self.nodes[0].deny_below |= deny;
        let (path, hash) = match filter {
            "#" => (None, true),
            f => match f.strip_suffix("/#") {
                Some(p) => (Some(p), true),
                None => (Some(f), false),
            },
        };
        let mut n = 0u32;
        for level in path.into_iter().flat_map(|p| p.split('/')) {
            n = self.child(n, level);
            self.nodes[n as usize].deny_below |= deny;
        }
        let node = &mut self.nodes[n as usize];
        if hash {
            node.hash |= bits;
        } else {
            node.end |= bits;
        }
    }

    fn child(&mut self, n: u32, level: &str) -> u32 {
        let next = self.nodes.len() as u32;
        let node = &mut self.nodes[n as usize];
        node.kids = true;
        let found = match (level, pieces(level)) {
            ("+", _) => take(&mut node.plus, next),
            (_, Some(p)) if p == [Piece::ClientId] => take(&mut node.client, next),
            (_, Some(p)) if p == [Piece::User] => take(&mut node.user, next),
            (_, Some(p)) => match node.templates.iter().find(|e| *e.0 == *p) {
                Some(e) => e.1,
                None => {
                    node.templates.push((p.into(), next));
                    next
                }
            },
            (text, None) => *node.literal.get_or_insert(text.as_bytes(), || next),
        };
        if found == next {
            self.nodes.push(Node::new());
        }
        found
    }

    /// The access bits of the rules matching `topic` for `who`, as far as
    /// they decide `want`: the walk stops at a deny, and leaves a subtree
    /// without deny rules once `want` is granted.
    #[inline]
    pub fn bits(&self, topic: &str, who: Who<'_>, want: u8) -> u8 {
        let w = Walk {
            topic: topic.as_bytes(),
            who,
            want,
        };
        let root = &self.nodes[0];
        let mut acc = 0;
        if w.topic.first() == Some(&b'$') {
            // [MQTT-4.7.2-1]: no `+` or `#` first level matches a `$` topic.
            self.step(root, 0, &w, &mut acc, false);
        } else {
            acc |= root.hash;
            self.step(root, 0, &w, &mut acc, true);
        }
        acc
    }

    /// At node `n`, `at` is where the next level starts (`topic.len() + 1`:
    /// none left).
    fn visit(&self, n: u32, at: usize, w: &Walk<'_>, acc: &mut u8) {
        let node = &self.nodes[n as usize];
        *acc |= node.hash;
        if at > w.topic.len() {
            *acc |= node.end;
            return;
        }
        self.step(node, at, w, acc, true);
    }

    /// Follow every child of `node` that matches the level at `at`.
    fn step(&self, node: &Node, at: usize, w: &Walk<'_>, acc: &mut u8, wild: bool) {
        let decided = *acc & DENY != 0 || (*acc & w.want != 0 && !node.deny_below);
        if decided || !node.kids {
            return;
        }
        let t = w.topic;
        let plus = if wild { node.plus } else { NONE };
        // The level's end only when a literal or `+` child needs it
        // (`%c`/`%u` children compare from `at` on their own).
        if !node.literal.is_empty() || plus != NONE {
            let end = t[at..]
                .iter()
                .position(|&b| b == b'/')
                .map_or(t.len(), |p| at + p);
            let c = node.literal(&t[at..end]);
            if c != NONE {
                self.visit(c, end + 1, w, acc);
            }
            if plus != NONE {
                self.visit(plus, end + 1, w, acc);
            }
        }
        if node.client != NONE {
            if let Some(nx) = follow(t, at, w.who.client_id.as_bytes()) {
                self.visit(node.client, nx, w, acc);
            }
        }
        if let (Some(user), true) = (w.who.user, node.user != NONE) {
            if let Some(nx) = follow(t, at, user.as_bytes()) {
                self.visit(node.user, nx, w, acc);
            }
        }
        for (tpl, c) in &node.templates {
            if let Some(nx) = follow_template(t, at, tpl, w.who) {
                self.visit(*c, nx, w, acc);
            }
        }
    }
}

/// The child in `slot`, set to `next` if there was none.
fn take(slot: &mut u32, next: u32) -> u32 {
    if *slot == NONE {
        *slot = next;
    }
    *slot
}

/// `text` at `at`, ending a level: where the next level starts.
#[inline]
fn follow(t: &[u8], at: usize, text: &[u8]) -> Option<usize> {
    let end = at + text.len();
    (t.get(at..end)? == text && t.get(end).is_none_or(|&b| b == b'/')).then_some(end + 1)
}

fn follow_template(t: &[u8], mut at: usize, tpl: &[Piece], who: Who<'_>) -> Option<usize> {
    for p in tpl {
        let text = match p {
            Piece::Text(s) => &s[..],
            Piece::ClientId => who.client_id.as_bytes(),
            // A rule with `%u` never matches a client without a user name.
            Piece::User => who.user?.as_bytes(),
        };
        let end = at + text.len();
        if t.get(at..end)? != text {
            return None;
        }
        at = end;
    }
    t.get(at).is_none_or(|&b| b == b'/').then_some(at + 1)
}
