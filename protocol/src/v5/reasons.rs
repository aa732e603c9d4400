//! Which reason codes each packet may carry (§2.4, table 2-6). A code
//! outside its packet's list is refused even if MQTT 5 defines it.

use crate::codec_util::packet_type::*;
use crate::error::DecodeError;
use crate::reason::ReasonCode;

/// Bit `i` set: code `0x80 + i` is allowed (all failure codes are
/// 0x80..=0xA2, so 64 bits hold them).
type ErrorSet = u64;

const fn set(codes: &[u8]) -> ErrorSet {
    let mut s = 0;
    let mut i = 0;
    while i < codes.len() {
        s |= 1 << (codes[i] - 0x80);
        i += 1;
    }
    s
}

const CONNACK_ERRORS: ErrorSet = set(&[
    0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99,
    0x9A, 0x9B, 0x9C, 0x9D, 0x9F,
]);
const PUBACK_ERRORS: ErrorSet = set(&[0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]);
const PUBREL_ERRORS: ErrorSet = set(&[0x92]);
const SUBACK_ERRORS: ErrorSet = set(&[0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2]);
const UNSUBACK_ERRORS: ErrorSet = set(&[0x80, 0x83, 0x87, 0x8F, 0x91]);
const DISCONNECT_ERRORS: ErrorSet = set(&[
    0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97,
    0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2,
]);

/// Whether `packet_type` may carry `code`.
pub fn allowed(packet_type: u8, code: u8) -> bool {
    if code >= 0x80 {
        let errors = match packet_type {
            CONNACK => CONNACK_ERRORS,
            PUBACK | PUBREC => PUBACK_ERRORS,
            PUBREL | PUBCOMP => PUBREL_ERRORS,
            SUBACK => SUBACK_ERRORS,
            UNSUBACK => UNSUBACK_ERRORS,
            DISCONNECT => DISCONNECT_ERRORS,
            _ => 0,
        };
        return code <= 0xBF && errors & (1 << (code - 0x80)) != 0;
    }
    match packet_type {
        CONNACK | PUBREL | PUBCOMP => code == 0x00,
        PUBACK | PUBREC => matches!(code, 0x00 | 0x10),
        SUBACK => matches!(code, 0x00..=0x02),
        UNSUBACK => matches!(code, 0x00 | 0x11),
        DISCONNECT => matches!(code, 0x00 | 0x04),
        AUTH => matches!(code, 0x00 | 0x18 | 0x19),
        _ => false,
    }
}

/// The reason code byte of a `packet_type` packet, checked.
pub fn check(packet_type: u8, code: u8) -> Result<ReasonCode, DecodeError> {
    match ReasonCode::from_u8(code) {
        Some(rc) if allowed(packet_type, code) => Ok(rc),
        _ => Err(DecodeError::InvalidReasonCode { packet_type, code }),
    }
}
