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

/// Judge a wildcard `filter` against the client's own section and its
/// expanded patterns, each given as (access bits, filter) pairs, with the
/// precedence of [`super::Acl::allows`].
pub fn judge<'a, O, P>(own: impl Fn() -> O, pat: impl Fn() -> P, filter: &str) -> Coverage
where
    O: Iterator<Item = (u8, &'a str)>,
    P: Iterator<Item = (u8, &'a str)>,
{
    let any = |mut rules: &mut dyn Iterator<Item = (u8, &'a str)>, bit: u8, rel: Rel| {
        Iterator::any(&mut rules, |(b, f)| b & bit != 0 && rel(f, filter))
    };
    if any(&mut own(), DENY, holds) {
        return Coverage::Denied;
    }
    let own_deny_meets = any(&mut own(), DENY, meets);
    if !own_deny_meets && any(&mut own(), READ, holds) {
        return Coverage::Covered;
    }
    // The patterns count only for topics the own section left undecided.
    let readable = any(&mut own(), READ, meets)
        || (!any(&mut pat(), DENY, holds) && any(&mut pat(), READ, meets));
    if !readable {
        return Coverage::Denied;
    }
    if !own_deny_meets && !any(&mut pat(), DENY, meets) && any(&mut pat(), READ, holds) {
        return Coverage::Covered;
    }
    Coverage::Partial
}

type Rel = fn(&str, &str) -> bool;

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

/// A pattern's filter with `%c` and `%u` replaced, as Mosquitto replaces
/// them (text substitution); `None` when it has `%u` and there is no user.
pub fn expand(filter: &str, client_id: &str, user: Option<&str>) -> Option<String> {
    if filter.contains("%u") && user.is_none() {
        return None;
    }
    let (b, mut out) = (filter.as_bytes(), Vec::with_capacity(filter.len()));
    let mut i = 0;
    while i < b.len() {
        match b.get(i..i + 2) {
            Some(b"%c") => out.extend_from_slice(client_id.as_bytes()),
            Some(b"%u") => out.extend_from_slice(user.unwrap_or("").as_bytes()),
            _ => {
                out.push(b[i]);
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    // Only whole UTF-8 strings were spliced at ASCII boundaries.
    Some(String::from_utf8(out).expect("UTF-8"))
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
    fn expansion_is_text_substitution() {
        assert_eq!(expand("d/%c/#", "c1", None).unwrap(), "d/c1/#");
        assert_eq!(expand("%u-%c/x", "c", Some("u")).unwrap(), "u-c/x");
        assert_eq!(expand("d/%c", "a/b", None).unwrap(), "d/a/b");
        assert_eq!(expand("%%u/%x", "c", Some("u")).unwrap(), "%u/%x");
        assert_eq!(expand("d/%u", "c", None), None);
    }
}
