//! Wire primitives shared by every protocol version: the remaining-length
//! varint, UTF-8 string rules, and a cursor that hands out zero-copy slices
//! of the one `Bytes` frame a packet arrived in.

use super::error::DecodeError;
use super::packet::MqttStr;
use bytes::{Buf, BufMut, Bytes};

/// Largest value the 4-byte remaining length can carry (§2.2.3).
pub const MAX_REMAINING_LEN: usize = 268_435_455;

/// Packet type numbers (§2.2.1), shared by the decoders and encoders.
pub mod packet_type {
    pub const CONNECT: u8 = 1;
    pub const CONNACK: u8 = 2;
    pub const PUBLISH: u8 = 3;
    pub const PUBACK: u8 = 4;
    pub const PUBREC: u8 = 5;
    pub const PUBREL: u8 = 6;
    pub const PUBCOMP: u8 = 7;
    pub const SUBSCRIBE: u8 = 8;
    pub const SUBACK: u8 = 9;
    pub const UNSUBSCRIBE: u8 = 10;
    pub const UNSUBACK: u8 = 11;
    pub const PINGREQ: u8 = 12;
    pub const PINGRESP: u8 = 13;
    pub const DISCONNECT: u8 = 14;
    /// MQTT 5 only; reserved in 3.1/3.1.1.
    pub const AUTH: u8 = 15;
}

/// Bytes the remaining-length varint takes for `len`.
#[inline]
pub fn remaining_len_size(len: usize) -> usize {
    debug_assert!(len <= MAX_REMAINING_LEN, "remaining length {len} too large");
    match len {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// Encode the remaining-length varint (§2.2.3) into `dst` (4 bytes are
/// always enough) and say how many bytes it took: 7 bits per byte, low
/// first, high bit set while more bytes follow.
#[inline]
pub fn write_remaining_len(mut len: usize, dst: &mut [u8]) -> usize {
    debug_assert!(len <= MAX_REMAINING_LEN, "remaining length {len} too large");
    let mut n = 0;
    loop {
        let byte = (len & 0x7F) as u8;
        len >>= 7;
        if len == 0 {
            dst[n] = byte;
            return n + 1;
        }
        dst[n] = byte | 0x80;
        n += 1;
    }
}

/// Write a Variable Byte Integer (remaining length, property length,
/// subscription identifier).
#[inline]
pub fn put_remaining_len<B: BufMut>(out: &mut B, len: usize) {
    let mut b = [0u8; 4];
    let n = write_remaining_len(len, &mut b);
    out.put_slice(&b[..n]);
}

/// Write a fixed header (first byte and remaining length) in one put.
#[inline]
pub fn put_fixed_header<B: BufMut>(out: &mut B, first_byte: u8, remaining_len: usize) {
    let mut b = [0u8; 5];
    b[0] = first_byte;
    let n = write_remaining_len(remaining_len, &mut b[1..]);
    out.put_slice(&b[..1 + n]);
}

/// Write a 2-byte length-prefixed field (string or binary data, §1.5.3).
/// Callers guarantee `len <= 65535`; the types cannot encode longer ones.
#[inline]
pub fn put_prefixed<B: BufMut>(out: &mut B, data: &[u8]) {
    debug_assert!(
        data.len() <= usize::from(u16::MAX),
        "field of {} bytes",
        data.len()
    );
    out.put_u16(data.len() as u16);
    out.put_slice(data);
}

/// Apply MQTT's string rules to raw bytes: well-formed UTF-8 without
/// surrogates [MQTT-1.5.3-1] and without U+0000 [MQTT-1.5.3-2]. U+FEFF is
/// kept as is [MQTT-1.5.3-3]. std's validator already rejects surrogates and
/// overlong forms; in valid UTF-8 a 0x00 byte can only be U+0000.
#[inline]
pub fn check_mqtt_utf8(b: &[u8]) -> Result<(), DecodeError> {
    if std::str::from_utf8(b).is_err() {
        return Err(DecodeError::InvalidUtf8);
    }
    if b.contains(&0) {
        return Err(DecodeError::NullCharacter);
    }
    Ok(())
}

/// Cursor over a packet body. Every error names the packet type so that
/// messages say where the packet broke.
pub struct Reader {
    buf: Bytes,
    packet_type: u8,
}

impl Reader {
    pub fn new(buf: Bytes, packet_type: u8) -> Reader {
        Reader { buf, packet_type }
    }

    pub fn packet_type(&self) -> u8 {
        self.packet_type
    }

    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub fn has_remaining(&self) -> bool {
        !self.buf.is_empty()
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        if self.buf.is_empty() {
            return Err(self.truncated());
        }
        Ok(self.buf.get_u8())
    }

    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        if self.buf.len() < 2 {
            return Err(self.truncated());
        }
        Ok(self.buf.get_u16())
    }

    /// A packet identifier, which is never 0 [MQTT-2.3.1-1].
    pub fn packet_id(&mut self) -> Result<u16, DecodeError> {
        match self.u16()? {
            0 => Err(DecodeError::ZeroPacketId {
                packet_type: self.packet_type,
            }),
            id => Ok(id),
        }
    }

    /// 2-byte length then that many bytes, as a slice of the frame.
    pub fn binary(&mut self) -> Result<Bytes, DecodeError> {
        let len = usize::from(self.u16()?);
        if len > self.buf.len() {
            return Err(DecodeError::LengthPastEnd {
                packet_type: self.packet_type,
                len,
                available: self.buf.len(),
            });
        }
        Ok(self.buf.split_to(len))
    }

    /// A UTF-8 string field (§1.5.3), validated once, sharing the frame.
    pub fn string(&mut self) -> Result<MqttStr, DecodeError> {
        let raw = self.binary()?;
        check_mqtt_utf8(&raw)?;
        // SAFETY: `check_mqtt_utf8` just accepted `raw`, which includes
        // std's UTF-8 validation.
        Ok(unsafe { MqttStr::from_validated(raw) })
    }

    /// A Variable Byte Integer (§1.5.5): at most 4 bytes, and in MQTT 5 in
    /// its shortest form [MQTT-1.5.5-1].
    pub fn varint(&mut self) -> Result<u32, DecodeError> {
        let mut value = 0u32;
        for i in 0..4 {
            let b = self.u8()?;
            value |= u32::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                // A last byte of 0 after the first adds nothing: not minimal.
                if i > 0 && b == 0 {
                    return Err(DecodeError::NonMinimalVarInt);
                }
                return Ok(value);
            }
        }
        Err(DecodeError::MalformedVarInt)
    }

    /// The next `len` bytes as a reader of their own (a property block).
    pub fn split(&mut self, len: usize) -> Result<Reader, DecodeError> {
        if len > self.buf.len() {
            return Err(DecodeError::LengthPastEnd {
                packet_type: self.packet_type,
                len,
                available: self.buf.len(),
            });
        }
        Ok(Reader::new(self.buf.split_to(len), self.packet_type))
    }

    /// Everything left (a PUBLISH payload), sharing the frame.
    pub fn rest(&mut self) -> Bytes {
        std::mem::take(&mut self.buf)
    }

    /// The packet must end here: leftover bytes make it malformed.
    pub fn finish(self) -> Result<(), DecodeError> {
        match self.buf.len() {
            0 => Ok(()),
            extra => Err(DecodeError::TrailingBytes {
                packet_type: self.packet_type,
                extra,
            }),
        }
    }

    fn truncated(&self) -> DecodeError {
        DecodeError::Truncated {
            packet_type: self.packet_type,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_len_size_matches_encoding() {
        for len in [
            0,
            127,
            128,
            16_383,
            16_384,
            2_097_151,
            2_097_152,
            MAX_REMAINING_LEN,
        ] {
            let mut v = Vec::new();
            put_remaining_len(&mut v, len);
            assert_eq!(v.len(), remaining_len_size(len), "len {len}");
        }
    }

    #[test]
    fn reader_slices_share_the_frame() {
        let frame = Bytes::from(vec![0, 3, b'a', b'/', b'b', 9, 9]);
        let base = frame.as_ptr();
        let mut r = Reader::new(frame, packet_type::PUBLISH);
        let s = r.string().unwrap();
        assert_eq!(s.as_str(), "a/b");
        assert_eq!(s.as_bytes().as_ptr(), base.wrapping_add(2));
        let rest = r.rest();
        assert_eq!(rest.as_ptr(), base.wrapping_add(5));
        r.finish().unwrap();
    }
}
