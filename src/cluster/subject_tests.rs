use super::*;
use crate::router::matches;

/// NATS subject matching: `*` one token, `>` one or more at the end.
fn nats_matches(pattern: &str, subject: &str) -> bool {
    let (p, s): (Vec<&str>, Vec<&str>) =
        (pattern.split('.').collect(), subject.split('.').collect());
    for (i, t) in p.iter().enumerate() {
        match *t {
            ">" => return s.len() > i,
            "*" if i < s.len() => {}
            t if s.get(i) == Some(&t) => {}
            _ => return false,
        }
    }
    p.len() == s.len()
}

const TOPICS: &[&str] = &[
    "a",
    "a/b",
    "a/b/c",
    "/a",
    "a/",
    "/",
    "a//b",
    "with space/x",
    "dots.in.level/y",
    "*/>",
    "~tilde",
    "ünïcødé/レベル",
    "$SYS/broker/load",
    "sport/tennis/player1",
];

#[test]
fn topics_round_trip_and_subjects_are_valid_tokens() {
    for t in TOPICS {
        let s = topic_subject(t);
        assert_eq!(subject_topic(&s).as_deref(), Some(*t), "{t} -> {s}");
        for token in s.split('.') {
            assert!(!token.is_empty(), "{s}: empty token");
            assert!(
                token
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'*' && b != b'>'),
                "{s}"
            );
        }
    }
    assert_eq!(topic_subject("a/b"), "smq.m.a.b");
    assert_eq!(topic_subject("a//b"), "smq.m.a.~.b");
}

#[test]
fn escaped_levels_never_collide_with_plain_ones() {
    // A level that looks like an escape is escaped itself.
    let s = topic_subject("~68");
    assert_ne!(s, "smq.m.~68");
    assert_eq!(subject_topic(&s).as_deref(), Some("~68"));
    assert_eq!(subject_topic("smq.m.a b"), None, "not a subject we make");
    assert_eq!(subject_topic("other.a"), None);
}

#[test]
fn filters_map_to_a_superset_of_their_topics() {
    let filters = [
        "a",
        "a/+",
        "+/b",
        "a/#",
        "#",
        "+",
        "+/+",
        "a/+/c",
        "/+",
        "+/",
        "a//#",
        "$SYS/#",
        "sport/tennis/+",
        "ünïcødé/#",
    ];
    for f in filters {
        let subjects = filter_subjects(f);
        for t in TOPICS {
            let nats = subjects.iter().any(|p| nats_matches(p, &topic_subject(t)));
            if matches(f, t) {
                assert!(nats, "{f} matches {t} but none of {subjects:?} does");
            }
            // Only `$` topics may pass NATS and fail MQTT (checked again on arrival).
            if nats && !matches(f, t) {
                assert!(t.starts_with('$'), "{f} lets {t} through: {subjects:?}");
            }
        }
    }
    assert_eq!(filter_subjects("a/#"), vec!["smq.m.a", "smq.m.a.>"]);
    assert_eq!(filter_subjects("#"), vec!["smq.m.>"]);
    assert_eq!(filter_subjects("+/b"), vec!["smq.m.*.b"]);
}

#[test]
fn base32_rejects_what_it_did_not_write() {
    assert_eq!(decode(""), Some(vec![]));
    assert_eq!(decode("w"), None, "not in the alphabet");
    let mut s = String::new();
    encode(b"a", &mut s);
    assert_eq!(decode(&s), Some(b"a".to_vec()));
    assert_eq!(decode("c5"), None, "non-zero padding bits");
}
