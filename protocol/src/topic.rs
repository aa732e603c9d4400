//! Topic name and topic filter validation (§4.7). Matching lives in the
//! router; this only decides whether a string is allowed on the wire.
//!
//! Strings reaching here already passed the UTF-8 rules of §1.5.3, and their
//! length fits the 2-byte prefix, so [MQTT-4.7.3-3] holds by construction.

use super::error::DecodeError;

/// A topic name, as in PUBLISH and the will: non-empty [MQTT-4.7.3-1] and
/// free of wildcards [MQTT-3.3.2-2].
pub fn validate_topic_name(topic: &str) -> Result<(), DecodeError> {
    if topic.is_empty() {
        return Err(DecodeError::EmptyTopic);
    }
    if has_wildcard(topic.as_bytes()) {
        return Err(DecodeError::WildcardInTopicName);
    }
    Ok(())
}

/// Runs on every PUBLISH. `+` (0x2B) and `#` (0x23) differ only in bit 3,
/// so one compare finds both, and a fold without early exit lets the
/// compiler vectorize the scan.
fn has_wildcard(b: &[u8]) -> bool {
    b.iter().fold(false, |found, &c| found | (c | 0x08 == b'+'))
}

/// A topic filter, as in SUBSCRIBE and UNSUBSCRIBE: non-empty
/// [MQTT-4.7.3-1]; `#` only as a whole level and only the last one
/// [MQTT-4.7.1-2]; `+` only as a whole level [MQTT-4.7.1-3].
pub fn validate_topic_filter(filter: &str) -> Result<(), DecodeError> {
    if filter.is_empty() {
        return Err(DecodeError::EmptyTopic);
    }
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        if level.contains('#') && (level != "#" || levels.peek().is_some()) {
            return Err(DecodeError::InvalidMultiLevelWildcard);
        }
        if level.contains('+') && level != "+" {
            return Err(DecodeError::InvalidSingleLevelWildcard);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use DecodeError::*;

    #[test]
    fn topic_names() {
        for ok in [
            "a",
            "/",
            "a/b",
            "/a/",
            "sport/tennis/player1",
            "a b",
            "\u{FEFF}x",
            "$SYS/x",
        ] {
            assert_eq!(validate_topic_name(ok), Ok(()), "{ok:?}");
        }
        assert_eq!(validate_topic_name(""), Err(EmptyTopic));
        for bad in ["+", "#", "a/+", "a/#", "a+b", "a#"] {
            assert_eq!(
                validate_topic_name(bad),
                Err(WildcardInTopicName),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn wildcard_scan_matches_exactly_plus_and_hash() {
        for b in 0..=255u8 {
            assert_eq!(
                has_wildcard(&[b'a', b, b'z']),
                b == b'+' || b == b'#',
                "byte {b:#04x}"
            );
        }
    }

    #[test]
    fn topic_filters_valid() {
        let ok = [
            "#",
            "+",
            "/",
            "a/#",
            "+/+",
            "/+",
            "+/",
            "a/+/b",
            "sport/tennis/#",
            "+/tennis/#",
            "//",
            "$SYS/#",
        ];
        for f in ok {
            assert_eq!(validate_topic_filter(f), Ok(()), "{f:?}");
        }
    }

    #[test]
    fn topic_filters_invalid() {
        assert_eq!(validate_topic_filter(""), Err(EmptyTopic));
        for bad in ["a#", "#/a", "a/#/b", "sport/tennis#", "##", "#/"] {
            assert_eq!(
                validate_topic_filter(bad),
                Err(InvalidMultiLevelWildcard),
                "{bad:?}"
            );
        }
        for bad in ["a+", "+a", "a/b+/c", "sport+", "++"] {
            assert_eq!(
                validate_topic_filter(bad),
                Err(InvalidSingleLevelWildcard),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn topic_errors_carry_normative_ids() {
        assert_eq!(EmptyTopic.normative_id(), Some("MQTT-4.7.3-1"));
        assert_eq!(WildcardInTopicName.normative_id(), Some("MQTT-3.3.2-2"));
        assert_eq!(
            InvalidMultiLevelWildcard.normative_id(),
            Some("MQTT-4.7.1-2")
        );
        assert_eq!(
            InvalidSingleLevelWildcard.normative_id(),
            Some("MQTT-4.7.1-3")
        );
    }
}
