//! MQTT topic matching rules (MQTT 3.1.1 §4.7).
//!
//! Both inputs are assumed already validated by the codec: wildcards occupy
//! whole levels, `#` is last, topic names carry no wildcards. Levels are the
//! pieces between `/`, so empty levels (`a//b`, `/a`, `a/`) are real levels.

/// Split off the first level: `("a", Some("b/c"))` for `"a/b/c"`, `("a", None)`
/// for `"a"`. `None` means the string had no further level, which differs
/// from `Some("")` (a trailing empty level, as in `"a/"`).
#[inline]
pub(crate) fn split_level(s: &str) -> (&str, Option<&str>) {
    match s.split_once('/') {
        Some((level, rest)) => (level, Some(rest)),
        None => (s, None),
    }
}

/// Whether `topic` is one of the server-specific `$` topics that a filter
/// starting with a wildcard must not match [MQTT-4.7.2-1].
#[inline]
pub(crate) fn is_dollar(topic: &str) -> bool {
    topic.starts_with('$')
}

/// Does the topic filter `filter` match the topic name `topic`?
///
/// `+` matches exactly one level (possibly empty); `#` matches any number of
/// levels including zero, so `a/#` also matches `a`. A filter whose first
/// level is a wildcard never matches a topic starting with `$`.
pub fn matches(filter: &str, topic: &str) -> bool {
    let (f, t) = (filter.as_bytes(), topic.as_bytes());
    // [MQTT-4.7.2-1]. In a valid filter a leading `+`/`#` is a whole level.
    if t.first() == Some(&b'$') && matches!(f.first(), Some(b'+' | b'#')) {
        return false;
    }
    // One pass over both byte strings, a level at a time (no `split`: this
    // runs per subscriber on some paths, and byte loops beat the iterators
    // for the short levels topics have). `fi`/`ti` start each iteration at
    // the beginning of a level.
    let (mut fi, mut ti) = (0, 0);
    loop {
        match f.get(fi) {
            // A valid `#` is the whole last level: matches the rest.
            Some(b'#') => return true,
            Some(b'+') => {
                fi += 1;
                while ti < t.len() && t[ti] != b'/' {
                    ti += 1;
                }
            }
            _ => {
                while fi < f.len() && f[fi] != b'/' {
                    if t.get(ti) != Some(&f[fi]) {
                        return false;
                    }
                    fi += 1;
                    ti += 1;
                }
                if ti < t.len() && t[ti] != b'/' {
                    return false; // the topic's level is longer
                }
            }
        }
        // Both are at the end of a level: at a `/` or at the end.
        match (fi == f.len(), ti == t.len()) {
            (true, true) => return true,
            // The topic ended one level early: `x/#` matches its parent `x`.
            (false, true) => return &f[fi..] == b"/#",
            (true, false) => return false,
            (false, false) => (fi, ti) = (fi + 1, ti + 1),
        }
    }
}

/// Does the filter contain a wildcard level (`+` or `#`)?
///
/// Validated filters only use these characters as whole levels, so a byte
/// scan suffices.
pub fn has_wildcard(filter: &str) -> bool {
    filter.bytes().any(|b| b == b'+' || b == b'#')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (filter, topic, expected)
    const CASES: &[(&str, &str, bool)] = &[
        // §4.7.1.2 multi-level wildcard examples.
        ("sport/tennis/player1/#", "sport/tennis/player1", true),
        (
            "sport/tennis/player1/#",
            "sport/tennis/player1/ranking",
            true,
        ),
        (
            "sport/tennis/player1/#",
            "sport/tennis/player1/score/wimbledon",
            true,
        ),
        ("sport/tennis/player1/#", "sport/tennis/player2", false),
        ("sport/tennis/player1/#", "sport/tennis", false),
        ("sport/#", "sport", true),
        ("sport/#", "sport/", true),
        ("sport/#", "sports", false),
        ("#", "sport", true),
        ("#", "sport/tennis/player1", true),
        ("#", "/", true),
        ("#", "/finance", true),
        ("+/tennis/#", "sport/tennis", true),
        ("+/tennis/#", "sport/tennis/player1/ranking", true),
        ("+/tennis/#", "sport/golf", false),
        // §4.7.1.3 single-level wildcard examples.
        ("sport/tennis/+", "sport/tennis/player1", true),
        ("sport/tennis/+", "sport/tennis/player2", true),
        ("sport/tennis/+", "sport/tennis/player1/ranking", false),
        ("sport/tennis/+", "sport/tennis", false),
        ("sport/+", "sport", false),
        ("sport/+", "sport/", true),
        ("+/+", "/finance", true),
        ("/+", "/finance", true),
        ("+", "/finance", false),
        ("+", "finance", true),
        ("sport/+/player1", "sport/tennis/player1", true),
        ("sport/+/player1", "sport//player1", true),
        ("sport/+/player1", "sport/player1", false),
        // §4.7.2 topics beginning with `$` [MQTT-4.7.2-1].
        ("#", "$SYS/monitor/Clients", false),
        ("#", "$SYS", false),
        ("#", "$", false),
        ("+/monitor/Clients", "$SYS/monitor/Clients", false),
        ("+", "$SYS", false),
        ("+/#", "$SYS/x", false),
        ("$SYS/#", "$SYS/", true),
        ("$SYS/#", "$SYS/x", true),
        ("$SYS/#", "$SYS", true),
        ("$SYS/monitor/+", "$SYS/monitor/Clients", true),
        ("$SYS/+/Clients", "$SYS/monitor/Clients", true),
        ("$SYS/monitor/Clients", "$SYS/monitor/Clients", true),
        ("$SYS/#", "SYS/x", false),
        // `$` only matters as the first character of the topic.
        ("a/+", "a/$b", true),
        ("a/#", "a/$b/c", true),
        ("+/$b", "a/$b", true),
        // §4.7.3 topic semantics: case sensitive, spaces allowed, `/` counts.
        ("ACCOUNTS", "Accounts", false),
        ("Accounts", "Accounts", true),
        ("Accounts payable", "Accounts payable", true),
        ("/finance", "finance", false),
        ("finance", "/finance", false),
        ("/finance", "/finance", true),
        // Literal filters.
        ("a/b", "a/b", true),
        ("a/b", "a/b/", false),
        ("a/b", "a/b/c", false),
        ("a/b/c", "a/b", false),
        ("a/b", "a/bc", false),
        ("ab", "a/b", false),
        // Empty levels are levels.
        ("a//b", "a//b", true),
        ("a/+/b", "a//b", true),
        ("a/+/b", "a/b", false),
        ("a/+", "a/", true),
        ("a/+", "a", false),
        ("+/a", "/a", true),
        ("+/+", "/", true),
        ("+", "/", false),
        ("/", "/", true),
        ("//", "/", false),
        ("/#", "/", true),
        ("/#", "/a/b", true),
        ("/#", "a", false),
        ("a/#", "a//", true),
        // `#` after `+`: zero or more further levels.
        ("a/+/#", "a/b", true),
        ("a/+/#", "a/b/c/d", true),
        ("a/+/#", "a/", true),
        ("a/+/#", "a", false),
        ("+/#", "a", true),
        ("+/#", "/", true),
        ("+/+/#", "a", false),
        ("+/+/+", "a/b/c", true),
        ("+/+/+", "a/b/c/d", false),
        ("+/+/+", "a/b", false),
        // Non-ASCII levels compare as strings.
        ("ü/+", "ü/ß", true),
        ("ü/ß", "u/ß", false),
    ];

    #[test]
    fn match_table() {
        for &(filter, topic, expected) in CASES {
            assert_eq!(
                matches(filter, topic),
                expected,
                "filter {filter:?} topic {topic:?}"
            );
        }
    }

    #[test]
    fn literal_filter_matches_itself_only() {
        for &(_, topic, _) in CASES {
            assert!(matches(topic, topic), "{topic:?}");
            assert!(!matches(topic, &format!("{topic}/x")), "{topic:?}");
        }
    }

    /// The rules written level by level, as the spec states them: a second
    /// opinion for the byte-level implementation.
    fn matches_by_levels(filter: &str, topic: &str) -> bool {
        let mut filter_levels = filter.split('/');
        let mut topic_levels = topic.split('/');
        let mut first = true;
        loop {
            match (filter_levels.next(), topic_levels.next()) {
                (Some("+" | "#"), _) if first && is_dollar(topic) => return false,
                (Some("#"), _) => return true,
                (Some("+"), Some(_)) => {}
                (Some(f), Some(t)) if f == t => {}
                (None, None) => return true,
                _ => return false,
            }
            first = false;
        }
    }

    #[test]
    fn agrees_with_level_by_level_reference() {
        const LEVELS: &[&str] = &["a", "b", "", "$", "ab", "ba"];
        let mut x: u64 = 1;
        let mut next = |n: usize| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as usize % n
        };
        for _ in 0..50_000 {
            let topic: Vec<&str> = (0..1 + next(4))
                .map(|_| LEVELS[next(LEVELS.len())])
                .collect();
            let mut filter: Vec<&str> = (0..1 + next(4))
                .map(|_| {
                    if next(3) == 0 {
                        "+"
                    } else {
                        LEVELS[next(LEVELS.len())]
                    }
                })
                .collect();
            if next(4) == 0 {
                *filter.last_mut().unwrap() = "#";
            }
            let (filter, topic) = (filter.join("/"), topic.join("/"));
            assert_eq!(
                matches(&filter, &topic),
                matches_by_levels(&filter, &topic),
                "{filter:?} {topic:?}"
            );
        }
        for &(filter, topic, _) in CASES {
            assert_eq!(matches(filter, topic), matches_by_levels(filter, topic));
        }
    }

    #[test]
    fn wildcard_detection() {
        for (filter, expected) in [
            ("a/b", false),
            ("", false),
            ("$SYS/x", false),
            ("+", true),
            ("#", true),
            ("a/+/b", true),
            ("a/#", true),
            ("/+", true),
        ] {
            assert_eq!(has_wildcard(filter), expected, "{filter:?}");
        }
    }

    #[test]
    fn split_level_distinguishes_trailing_empty_level() {
        assert_eq!(split_level("a/b/c"), ("a", Some("b/c")));
        assert_eq!(split_level("a"), ("a", None));
        assert_eq!(split_level("a/"), ("a", Some("")));
        assert_eq!(split_level("/a"), ("", Some("a")));
        assert_eq!(split_level(""), ("", None));
    }
}
