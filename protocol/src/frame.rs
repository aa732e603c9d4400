//! Framing: the fixed header (§2.2), read incrementally from a byte stream.
//!
//! Everything the first byte can say is checked here, before the body has
//! arrived, so a broker can drop a garbage stream after one byte instead of
//! buffering up to `max_packet_size` of it.

use super::codec_util::packet_type::*;
use super::error::DecodeError;

/// Fixed header of one packet: first byte and the remaining length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub first_byte: u8,
    /// Bytes taken by the fixed header (1 + 1..=4).
    pub header_len: usize,
    pub remaining_len: usize,
}

impl FrameHeader {
    #[inline]
    pub fn total_len(&self) -> usize {
        self.header_len + self.remaining_len
    }
    #[inline]
    pub fn packet_type(&self) -> u8 {
        self.first_byte >> 4
    }
    /// Low nibble of the first byte (PUBLISH: DUP, QoS, RETAIN).
    #[inline]
    pub fn flags(&self) -> u8 {
        self.first_byte & 0x0F
    }
}

/// See [`crate::parse_frame_header`].
#[inline]
pub fn parse_frame_header(
    buf: &[u8],
    max_packet_size: usize,
) -> Result<Option<FrameHeader>, DecodeError> {
    let Some(&first_byte) = buf.first() else {
        return Ok(None);
    };
    check_first_byte(first_byte)?;
    let mut remaining_len = 0usize;
    for i in 0..4 {
        let Some(&b) = buf.get(1 + i) else {
            return Ok(None);
        };
        remaining_len |= usize::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            let header = FrameHeader {
                first_byte,
                header_len: 2 + i,
                remaining_len,
            };
            let size = header.total_len();
            if size > max_packet_size {
                return Err(DecodeError::PacketTooLarge {
                    size,
                    max: max_packet_size,
                });
            }
            return Ok(Some(header));
        }
    }
    // The 4th byte still said "more follows" (§2.2.3).
    Err(DecodeError::MalformedRemainingLength)
}

/// Packet type and flag rules of the first byte (§2.2.1, §2.2.2).
#[inline]
pub fn check_first_byte(first_byte: u8) -> Result<(), DecodeError> {
    let (packet_type, flags) = (first_byte >> 4, first_byte & 0x0F);
    let expected = match packet_type {
        // 15 is AUTH in MQTT 5 and reserved before: the header does not know
        // the version, so the 3.1.1 body decoder refuses it.
        0 => return Err(DecodeError::ReservedPacketType(packet_type)),
        PUBLISH => return check_publish_flags(flags),
        // These three carry QoS 1 semantics in their flags [MQTT-3.6.1-1],
        // [MQTT-3.8.1-1], [MQTT-3.10.1-1].
        PUBREL | SUBSCRIBE | UNSUBSCRIBE => 0b0010,
        _ => 0,
    };
    if flags != expected {
        return Err(DecodeError::InvalidHeaderFlags { packet_type, flags });
    }
    Ok(())
}

fn check_publish_flags(flags: u8) -> Result<(), DecodeError> {
    let qos = (flags >> 1) & 0b11;
    if qos == 3 {
        return Err(DecodeError::InvalidPublishQoS);
    }
    if qos == 0 && flags & 0b1000 != 0 {
        return Err(DecodeError::DupWithQoS0);
    }
    Ok(())
}
