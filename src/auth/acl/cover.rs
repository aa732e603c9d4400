//! Relations between two topic filters, for judging a subscription against
//! the rules: do they share a topic, and does one hold every topic of the
//! other. Both follow the `$` rule [MQTT-4.7.2-1]: a filter starting with
//! a wildcard holds no topic starting with `$`.
//!
//! Each answer errs one way only, so SUBSCRIBE never refuses a filter that
//! could receive something, nor skips the per-delivery check for one that
//! could receive something it may not read: [`meets`] is exact, [`holds`]
//! may say no where the union of levels would say yes (`+/#` holds `#`,
//! but `holds("+/#", "#")` is false), which only costs a check per delivery.

use super::trie::{DENY, READ};
use super::Coverage;

/// What a section's rules say about one filter.
#[derive(Debug, Default, Clone, Copy)]
pub struct Found {
    deny_holds: bool,
    deny_meets: bool,
    read_holds: bool,
    read_meets: bool,
}

impl Found {
    /// Note one rule (access bits, filter). `holds` implies `meets`, so
    /// most rules cost one `meets`, which stops at the first level that
    /// differs.
    pub fn add(&mut self, bits: u8, rule: &str, filter: &str) {
        if bits & (DENY | READ) == 0 || !meets(rule, filter) {
            return;
        }
        let holds = holds(rule, filter);
        if bits & DENY != 0 {
            self.deny_meets = true;
            self.deny_holds |= holds;
        } else {
            self.read_meets = true;
            self.read_holds |= holds;
        }
    }
}

/// Judge a wildcard filter from what the client's own section (`own`) and
/// its expanded patterns (`pat`) say, with the precedence of
/// [`super::Acl::allows`]: the own section first, the patterns only for
/// topics it left undecided.
pub fn judge(own: Found, pat: Found) -> Coverage {
    if own.deny_holds {
        return Coverage::Denied;
    }
    if !own.deny_meets && own.read_holds {
        return Coverage::Covered;
    }
    if !own.read_meets && (pat.deny_holds || !pat.read_meets) {
        return Coverage::Denied;
    }
    if !own.deny_meets && !pat.deny_meets && pat.read_holds {
        return Coverage::Covered;
    }
    Coverage::Partial
}

fn dollar_clash(a: &str, b: &str) -> bool {
    let wild = |f: &str| f.starts_with(['+', '#']);
    (wild(a) && b.starts_with('$')) || (wild(b) && a.starts_with('$'))
}

/// Some topic matches both filters.
pub fn meets(a: &str, b: &str) -> bool {
    if dollar_clash(a, b) {
        return false;
    }
    let (mut a, mut b) = (a.split('/'), b.split('/'));
    loop {
        match (a.next(), b.next()) {
            (Some("#"), _) | (_, Some("#")) => return true,
            (None, None) => return true,
            // One ended: the other may go on only with `/#` (zero levels).
            (None, Some(_)) | (Some(_), None) => return false,
            (Some(x), Some(y)) if x == "+" || y == "+" || x == y => {}
            _ => return false,
        }
    }
}

/// Every topic matching `inner` matches `outer`.
pub fn holds(outer: &str, inner: &str) -> bool {
    if outer.starts_with(['+', '#']) && inner.starts_with('$') {
        return false;
    }
    let (mut o, mut i) = (outer.split('/'), inner.split('/'));
    loop {
        match (o.next(), i.next()) {
            (Some("#"), _) => return true,
            (None, None) => return true,
            (None, Some(_)) | (Some(_), None) => return false,
            (Some("+"), Some(l)) if l != "#" => {}
            (Some(x), Some(y)) if x == y && y != "+" && y != "#" => {}
            _ => return false,
        }
    }
}

/// The first levels of a pattern and of a filter are different plain
/// words: they share no topic, whatever `%c` and `%u` stand for (checked
/// before expanding the pattern, which costs more).
pub fn first_levels_differ(pattern: &str, filter: &str) -> bool {
    let word = |l: &str| l != "+" && l != "#" && !l.contains('%');
    let (p, f) = (first_level(pattern), first_level(filter));
    word(p) && word(f) && p != f
}

fn first_level(s: &str) -> &str {
    s.split('/').next().unwrap_or("")
}

/// A pattern's filter with `%c` and `%u` replaced, as Mosquitto replaces
/// them (text substitution), written into `out`; false when it has `%u`
/// and there is no user (the rule does not apply).
pub fn expand(filter: &str, client_id: &str, user: Option<&str>, out: &mut String) -> bool {
    out.clear();
    let mut rest = filter;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let sub = match rest.as_bytes().get(at + 1) {
            Some(b'c') => client_id,
            Some(b'u') => match user {
                Some(u) => u,
                None => return false,
            },
            _ => {
                out.push('%');
                rest = &rest[at + 1..];
                continue;
            }
        };
        out.push_str(sub);
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::matches;

    /// Topics that exercise every shape the filters below can take.
    const TOPICS: &[&str] = &[
        "a", "b", "a/b", "a/c", "a/b/c", "a/b/d", "b/b", "/", "/a", "a/", "$SYS", "$SYS/a",
        "$SYS/a/b", "$x/b", "x/y/z/w",
    ];
    const FILTERS: &[&str] = &[
        "#", "+", "+/#", "a", "a/#", "a/+", "a/b", "a/+/c", "+/b", "+/+", "a/b/#", "$SYS/#",
        "$SYS/+", "+/b/#", "/#", "/+", "a/+/#", "b/#", "$x/#",
    ];

    #[test]
    fn meets_is_exact_on_sample_topics() {
        for a in FILTERS {
            for b in FILTERS {
                let sample = TOPICS.iter().any(|t| matches(a, t) && matches(b, t));
                if sample {
                    assert!(meets(a, b), "{a} and {b} share a topic");
                }
            }
        }
        assert!(!meets("a/+", "a"));
        assert!(!meets("#", "$SYS/#"));
        assert!(!meets("+/a", "$SYS/a"));
        assert!(meets("a/#", "a"));
        assert!(meets("+/+", "a/b/#"));
        assert!(!meets("a/+/#", "a"));
        assert!(meets("$SYS/#", "$SYS/+"));
    }

    #[test]
    fn holds_never_claims_a_topic_it_lacks() {
        for o in FILTERS {
            for i in FILTERS {
                if holds(o, i) {
                    for t in TOPICS.iter().filter(|t| matches(i, t)) {
                        assert!(matches(o, t), "{o} holds {i} but not {t}");
                    }
                }
            }
        }
        assert!(holds("#", "a/#"));
        assert!(holds("a/#", "a"));
        assert!(holds("a/#", "a/+/c"));
        assert!(holds("+/+", "a/b"));
        assert!(holds("$SYS/#", "$SYS/+"));
        assert!(!holds("#", "$SYS/#"));
        assert!(!holds("a/+", "a/#"));
        assert!(!holds("a", "a/#"));
        assert!(!holds("a/b", "a/+"));
    }

    #[test]
    fn first_levels_differ_only_for_two_plain_words() {
        assert!(first_levels_differ("a/%c/#", "b/#"));
        assert!(!first_levels_differ("a/%c/#", "a/x"));
        assert!(!first_levels_differ("%c/x", "b/#"));
        assert!(!first_levels_differ("a-%u/x", "b/#"));
        assert!(!first_levels_differ("+/x", "b"));
        assert!(!first_levels_differ("a/x", "#"));
    }

    #[test]
    fn expansion_is_text_substitution() {
        let x = |f: &str, c: &str, u: Option<&str>| {
            let mut out = String::from("stale");
            expand(f, c, u, &mut out).then_some(out)
        };
        assert_eq!(x("d/%c/#", "c1", None).unwrap(), "d/c1/#");
        assert_eq!(x("%u-%c/x", "c", Some("u")).unwrap(), "u-c/x");
        assert_eq!(x("d/%c", "a/b", None).unwrap(), "d/a/b");
        assert_eq!(x("%%u/%x%", "c", Some("u")).unwrap(), "%u/%x%");
        assert_eq!(x("d/%u", "c", None), None);
        assert_eq!(x("plain", "c", None).unwrap(), "plain");
    }
}
