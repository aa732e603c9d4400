//! Access control lists: `[auth] acl_file`, in Mosquitto's syntax and with
//! its semantics (`parse.rs` has the syntax; docs/security.md the whole
//! story).
//!
//! A check on a topic, as Mosquitto's `acl_file` does it:
//! 1. writing to `$SYS/...` (but `$SYS/broker/connection/+/state`) or to a
//!    `$share...` topic, or reading a `$share...` topic: denied;
//! 2. the client's own section (its user's, or the anonymous one for a
//!    client without a user name): a matching `deny` denies; a matching
//!    rule granting the access allows;
//! 3. the patterns (`%c`, `%u` replaced; a rule with `%u` never matches a
//!    client without a user name), unless the client id or user name holds
//!    `+` or `#`, which denies: a matching `deny` denies, a grant allows;
//! 4. anything else is denied.
//!
//! Each section is compiled into a trie (`trie.rs`) once per load, so a
//! check walks the topic's levels instead of scanning rules
//! (`benches/acl.rs`). A SUBSCRIBE is judged against the rules' filters
//! (`cover.rs`): refused when no topic it could receive is readable,
//! marked *covered* when every one is, and otherwise checked per delivery.

mod bytes_map;
mod cover;
mod parse;
mod trie;

pub use parse::{parse, ParseError, Rule, RuleAccess, Rules};
pub use trie::Who;

use crate::reload::{Hooks, Reloadable};
use bytes_map::BytesMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use trie::{Trie, DENY, READ, WRITE};

/// What a client wants to do with a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Receive messages published to it.
    Read,
    /// Publish to it (a PUBLISH, a will).
    Write,
}

/// How a subscription filter stands against the read rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// No topic it matches may be read: SUBACK 0x80 / 0x87.
    Denied,
    /// Some may, some may not (or the rules are too intricate to tell):
    /// each delivery is checked.
    Partial,
    /// Every topic it matches may be read: deliveries skip the check.
    Covered,
}

/// One section's rules, as text (for judging subscriptions) and compiled.
struct Section {
    rules: Vec<(u8, Box<str>)>,
    trie: Trie,
}

impl Section {
    fn new(rules: &[Rule]) -> Section {
        let mut trie = Trie::new();
        let rules = rules
            .iter()
            .map(|r| {
                let bits = bits(r.access);
                trie.add(&r.filter, bits);
                (bits, r.filter.as_str().into())
            })
            .collect();
        Section { rules, trie }
    }
}

fn bits(a: RuleAccess) -> u8 {
    match a {
        RuleAccess::Read => READ,
        RuleAccess::Write => WRITE,
        RuleAccess::ReadWrite => READ | WRITE,
        RuleAccess::Deny => DENY,
    }
}

/// The rules of one `acl_file`, compiled. Immutable; a reload builds a new
/// one with a new [`Acl::generation`].
pub struct Acl {
    generation: u32,
    anonymous: Option<Section>,
    users: BytesMap<Section>,
    patterns: Option<Section>,
}

/// Generations are never 0: a subscription marked 0 is never covered.
static GENERATION: AtomicU32 = AtomicU32::new(1);

impl Acl {
    /// Compile parsed rules.
    pub fn new(rules: &Rules) -> Acl {
        let some = |r: &[Rule]| (!r.is_empty()).then(|| Section::new(r));
        let mut users = BytesMap::default();
        for (u, r) in rules.users.iter().filter(|(_, r)| !r.is_empty()) {
            users.get_or_insert(u.as_bytes(), || Section::new(r));
        }
        Acl {
            generation: GENERATION.fetch_add(1, Ordering::Relaxed).max(1),
            anonymous: some(&rules.anonymous),
            users,
            patterns: some(&rules.patterns),
        }
    }

    /// Read and compile a file; the error names the file, the line and why.
    pub fn load(path: &Path) -> Result<Acl, String> {
        let text = std::fs::read(path)
            .map_err(|e| format!("cannot read acl_file {}: {e}", path.display()))?;
        let rules = parse(&text)
            .map_err(|e| format!("acl_file {}:{}: {}", path.display(), e.line, e.reason))?;
        Ok(Acl::new(&rules))
    }

    /// Marks subscriptions judged under these rules (see [`Coverage`]).
    pub fn generation(&self) -> u32 {
        self.generation
    }

    fn section(&self, user: Option<&str>) -> Option<&Section> {
        match user {
            None => self.anonymous.as_ref(),
            Some(u) => self.users.get(u.as_bytes()),
        }
    }

    /// The patterns, unless `who` may not use them (a `+` or `#` in its id
    /// or user name could widen them: Mosquitto denies such a client).
    fn patterns(&self, who: Who<'_>) -> Option<&Section> {
        // `+` and `#` differ only in bit 3; a fold without early exit
        // vectorizes (as the codec's wildcard scan).
        let risky = |s: &str| s.bytes().fold(false, |r, b| r | (b | 0x08 == b'+'));
        let p = self.patterns.as_ref()?;
        (!risky(who.client_id) && !who.user.is_some_and(risky)).then_some(p)
    }

    /// May `who` read or write `topic`?
    pub fn allows(&self, who: Who<'_>, topic: &str, access: Access) -> bool {
        let want = match access {
            Access::Read => READ,
            Access::Write => WRITE,
        };
        if !dollar_allows(topic, access) {
            return false;
        }
        if let Some(s) = self.section(who.user) {
            let b = s.trie.bits(topic, who, want);
            if b & DENY != 0 {
                return false;
            }
            if b & want != 0 {
                return true;
            }
        }
        let Some(p) = self.patterns(who) else {
            return false;
        };
        let b = p.trie.bits(topic, who, want);
        b & DENY == 0 && b & want != 0
    }

    /// Judge a subscription filter (for `$share/GROUP/FILTER`, FILTER).
    pub fn subscription(&self, who: Who<'_>, filter: &str) -> Coverage {
        if !crate::router::has_wildcard(filter) {
            return match self.allows(who, filter, Access::Read) {
                true => Coverage::Covered,
                false => Coverage::Denied,
            };
        }
        if filter.starts_with("$share") {
            return Coverage::Denied; // every topic it matches is unreadable
        }
        let mut own = cover::Found::default();
        for (bits, rule) in self.section(who.user).map_or(&[][..], |s| &s.rules) {
            own.add(*bits, rule, filter);
        }
        let mut pat = cover::Found::default();
        if let Some(p) = self.patterns(who) {
            let mut buf = String::new();
            for (bits, rule) in &p.rules {
                if cover::first_levels_differ(rule, filter) {
                    continue;
                }
                if cover::expand(rule, who.client_id, who.user, &mut buf) {
                    pat.add(*bits, &buf, filter);
                }
            }
        }
        cover::judge(own, pat)
    }
}

/// Mosquitto's checks of `$` topics before any rule (`acl__check_dollar`).
#[inline]
fn dollar_allows(topic: &str, access: Access) -> bool {
    if topic.as_bytes().first() != Some(&b'$') {
        return true;
    }
    if topic.starts_with("$share") {
        return false; // only SUBSCRIBE may name `$share`
    }
    // Bridges report their state here; nothing else writes `$SYS`.
    access == Access::Read
        || !topic.starts_with("$SYS")
        || crate::router::matches("$SYS/broker/connection/+/state", topic)
}

/// `[auth] acl_file` at start-up: load it (a bad file refuses to start)
/// and re-read it on SIGHUP (a bad file is refused, the old rules stay).
pub fn start(
    path: Option<&Path>,
    hooks: &mut Hooks,
) -> Result<Option<Arc<Reloadable<Acl>>>, String> {
    let Some(path) = path else { return Ok(None) };
    let shared = Arc::new(Reloadable::new(Acl::load(path)?));
    let (s, path): (_, PathBuf) = (shared.clone(), path.into());
    hooks.add(format!("acl_file {}", path.display()), move || {
        s.replace(Acl::load(&path)?);
        Ok(())
    });
    Ok(Some(shared))
}

#[cfg(test)]
mod tests;
