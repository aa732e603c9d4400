//! UTF-8 string rules of §1.5.3, checked through real packets.

use super::*;
use DecodeError::*;

fn topic_of(raw: &[u8]) -> Result<String, DecodeError> {
    match decode(&publish_with_topic(raw))? {
        Packet::Publish(p) => Ok(p.topic.as_str().to_owned()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn null_character_is_refused() {
    assert_eq!(topic_of(b"a\0b"), Err(NullCharacter));
    assert_eq!(topic_of(b"\0"), Err(NullCharacter));
    assert_eq!(NullCharacter.normative_id(), Some("MQTT-1.5.3-2"));
}

#[test]
fn surrogates_are_refused() {
    // U+D800 and U+DFFF written as if they were characters (CESU-style).
    assert_eq!(topic_of(&[0xED, 0xA0, 0x80]), Err(InvalidUtf8));
    assert_eq!(topic_of(&[b'a', 0xED, 0xBF, 0xBF]), Err(InvalidUtf8));
    assert_eq!(InvalidUtf8.normative_id(), Some("MQTT-1.5.3-1"));
}

#[test]
fn overlong_forms_are_refused() {
    // '/' as 2 bytes, NUL as 2 bytes (Java's modified UTF-8), '/' as 3 bytes.
    assert_eq!(topic_of(&[0xC0, 0xAF]), Err(InvalidUtf8));
    assert_eq!(topic_of(&[0xC0, 0x80]), Err(InvalidUtf8));
    assert_eq!(topic_of(&[0xE0, 0x80, 0xAF]), Err(InvalidUtf8));
}

#[test]
fn other_ill_formed_sequences_are_refused() {
    assert_eq!(topic_of(&[0xE2, 0x82]), Err(InvalidUtf8)); // cut short
    assert_eq!(topic_of(&[0xFF]), Err(InvalidUtf8));
    assert_eq!(topic_of(&[0x80]), Err(InvalidUtf8)); // lone continuation
    assert_eq!(topic_of(&[0xF4, 0x90, 0x80, 0x80]), Err(InvalidUtf8)); // > U+10FFFF
}

#[test]
fn bom_and_non_ascii_are_kept() {
    // U+FEFF must not be skipped or stripped [MQTT-1.5.3-3].
    assert_eq!(topic_of(&[0xEF, 0xBB, 0xBF]), Ok("\u{FEFF}".to_owned()));
    assert_eq!(
        topic_of("\u{FEFF}a/b".as_bytes()),
        Ok("\u{FEFF}a/b".to_owned())
    );
    assert_eq!(topic_of("ü/€/𝄞".as_bytes()), Ok("ü/€/𝄞".to_owned()));
    assert_eq!(
        topic_of(&[0xF4, 0x8F, 0xBF, 0xBF]),
        Ok("\u{10FFFF}".to_owned())
    );
    // Control characters are a SHOULD NOT for senders; accepted here.
    assert_eq!(topic_of(&[0x01, 0x7F]), Ok("\u{1}\u{7F}".to_owned()));
}

#[test]
fn every_string_field_is_checked() {
    let bad = [0xED, 0xA0, 0x80];
    assert_eq!(decode(&connect_frame(0x02, &lp(&bad))), Err(InvalidUtf8));
    assert_eq!(
        decode(&connect_frame(0x02, &lp(b"a\0"))),
        Err(NullCharacter)
    );
    let with_user = concat(&[&lp(b"c"), &lp(b"\0")]);
    assert_eq!(decode(&connect_frame(0x82, &with_user)), Err(NullCharacter));
    let will = concat(&[&lp(b"c"), &lp(&bad), &lp(b"m")]);
    assert_eq!(decode(&connect_frame(0x06, &will)), Err(InvalidUtf8));
    let sub = frame(0x82, &concat(&[&[0, 1], &lp(b"a\0"), &[0]]));
    assert_eq!(decode(&sub), Err(NullCharacter));
    let unsub = frame(0xA2, &concat(&[&[0, 1], &lp(&bad)]));
    assert_eq!(decode(&unsub), Err(InvalidUtf8));
}

#[test]
fn binary_fields_are_not_utf8_checked() {
    // Password and will payload are binary data; PUBLISH payload too.
    let payload = concat(&[
        &lp(b"c"),
        &lp(b"w"),
        &lp(&[0xFF, 0]),
        &lp(b"u"),
        &lp(&[0xED, 0xA0, 0x80, 0]),
    ]);
    assert!(decode(&connect_frame(0xC6, &payload)).is_ok());
    let publish = frame(0x30, &concat(&[&lp(b"t"), &[0xFF, 0x00, 0xC0, 0x80]]));
    assert!(decode(&publish).is_ok());
}

#[test]
fn try_from_bytes_applies_the_string_rules_and_shares() {
    let raw = Bytes::from_static("ü/€".as_bytes());
    let s = MqttStr::try_from_bytes(raw.clone()).unwrap();
    assert_eq!(s.as_str(), "ü/€");
    assert_eq!(s.as_bytes().as_ptr(), raw.as_ptr(), "no copy");
    assert_eq!(
        MqttStr::try_from_bytes(Bytes::new()),
        Ok(MqttStr::default())
    );
    let bad = |b: &'static [u8]| MqttStr::try_from_bytes(Bytes::from_static(b));
    assert_eq!(bad(&[0xED, 0xA0, 0x80]), Err(InvalidUtf8));
    assert_eq!(bad(&[0xC0, 0x80]), Err(InvalidUtf8));
    assert_eq!(bad(b"a\0b"), Err(NullCharacter));
}

#[test]
fn from_validated_keeps_checked_bytes_as_they_are() {
    let raw = Bytes::from_static("\u{FEFF}a/b".as_bytes());
    // SAFETY: a `&str`'s bytes are valid UTF-8.
    let s = unsafe { MqttStr::from_validated(raw.clone()) };
    assert_eq!(s.as_str(), "\u{FEFF}a/b");
    assert_eq!(s.as_bytes().as_ptr(), raw.as_ptr());
    assert_eq!(Ok(s), MqttStr::try_from_bytes(raw));
}

/// A broken promise is caught where it is made, in debug builds.
#[cfg(debug_assertions)]
#[test]
#[should_panic]
fn from_validated_asserts_utf8_in_debug_builds() {
    // SAFETY: not upheld on purpose; the debug assertion panics before an
    // `MqttStr` exists, so no `&str` is ever made of these bytes.
    let _ = unsafe { MqttStr::from_validated(Bytes::from_static(&[0xFF])) };
}
