//! The property reader and writer every MQTT 5 packet shares (§2.2.2).
//!
//! Reading: [`Props::read`] takes the property length and hands out
//! identifiers and typed values; each packet's decoder (see `props_decode`)
//! matches the identifiers it accepts and refuses the rest, so a property on
//! the wrong packet is an error by construction. Writing: one `visit`
//! function per property struct (see `props_encode`) runs once against
//! [`Len`] to size the block and once against [`Put`] to write it, so the
//! two can never disagree.

use crate::codec_util::{put_remaining_len, remaining_len_size, Reader};
use crate::error::DecodeError;
use crate::packet::{MqttStr, UserProperty};
use bytes::{BufMut, Bytes};

/// Property identifiers (§2.2.2.2, table 2-4).
pub mod id {
    pub const PAYLOAD_FORMAT_INDICATOR: u8 = 0x01;
    pub const MESSAGE_EXPIRY_INTERVAL: u8 = 0x02;
    pub const CONTENT_TYPE: u8 = 0x03;
    pub const RESPONSE_TOPIC: u8 = 0x08;
    pub const CORRELATION_DATA: u8 = 0x09;
    pub const SUBSCRIPTION_IDENTIFIER: u8 = 0x0B;
    pub const SESSION_EXPIRY_INTERVAL: u8 = 0x11;
    pub const ASSIGNED_CLIENT_IDENTIFIER: u8 = 0x12;
    pub const SERVER_KEEP_ALIVE: u8 = 0x13;
    pub const AUTHENTICATION_METHOD: u8 = 0x15;
    pub const AUTHENTICATION_DATA: u8 = 0x16;
    pub const REQUEST_PROBLEM_INFORMATION: u8 = 0x17;
    pub const WILL_DELAY_INTERVAL: u8 = 0x18;
    pub const REQUEST_RESPONSE_INFORMATION: u8 = 0x19;
    pub const RESPONSE_INFORMATION: u8 = 0x1A;
    pub const SERVER_REFERENCE: u8 = 0x1C;
    pub const REASON_STRING: u8 = 0x1F;
    pub const RECEIVE_MAXIMUM: u8 = 0x21;
    pub const TOPIC_ALIAS_MAXIMUM: u8 = 0x22;
    pub const TOPIC_ALIAS: u8 = 0x23;
    pub const MAXIMUM_QOS: u8 = 0x24;
    pub const RETAIN_AVAILABLE: u8 = 0x25;
    pub const USER_PROPERTY: u8 = 0x26;
    pub const MAXIMUM_PACKET_SIZE: u8 = 0x27;
    pub const WILDCARD_SUBSCRIPTION_AVAILABLE: u8 = 0x28;
    pub const SUBSCRIPTION_IDENTIFIER_AVAILABLE: u8 = 0x29;
    pub const SHARED_SUBSCRIPTION_AVAILABLE: u8 = 0x2A;

    /// Whether MQTT 5 defines `id` at all (to tell "unknown" from "not on
    /// this packet" in errors).
    pub fn is_known(id: u8) -> bool {
        matches!(
            id,
            0x01..=0x03
                | 0x08
                | 0x09
                | 0x0B
                | 0x11..=0x13
                | 0x15..=0x19
                | 0x1A
                | 0x1C
                | 0x1F
                | 0x21..=0x2A
        )
    }
}

/// The properties of one packet (or of a will), being read.
pub struct Props {
    r: Reader,
    /// The packet type errors report (CONNECT for will properties).
    packet_type: u8,
}

impl Props {
    /// Read the property length and split the block off `r`. `None` when
    /// the length is 0: nothing to allocate for the common case.
    pub fn read(r: &mut Reader) -> Result<Option<Props>, DecodeError> {
        let len = r.varint()? as usize;
        if len == 0 {
            return Ok(None);
        }
        let packet_type = r.packet_type();
        Ok(Some(Props {
            r: r.split(len)?,
            packet_type,
        }))
    }

    /// The next property identifier, `None` at the end of the block.
    /// Identifiers are varints, but all defined ones are one byte: a first
    /// byte with the high bit set is an unknown identifier either way.
    pub fn next_id(&mut self) -> Result<Option<u8>, DecodeError> {
        if !self.r.has_remaining() {
            return Ok(None);
        }
        self.r.u8().map(Some)
    }

    /// The error for an identifier the packet does not accept.
    pub fn refuse(&self, id: u8) -> DecodeError {
        let packet_type = self.packet_type;
        if id::is_known(id) {
            DecodeError::PropertyNotAllowed { packet_type, id }
        } else {
            DecodeError::UnknownProperty { packet_type, id }
        }
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        self.r.u16()
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let hi = self.r.u16()?;
        let lo = self.r.u16()?;
        Ok(u32::from(hi) << 16 | u32::from(lo))
    }

    fn string(&mut self) -> Result<MqttStr, DecodeError> {
        self.r.string()
    }

    fn binary(&mut self) -> Result<Bytes, DecodeError> {
        self.r.binary()
    }

    /// A UTF-8 string pair: both halves follow the string rules
    /// [MQTT-1.5.7-1].
    pub fn pair(&mut self) -> Result<UserProperty, DecodeError> {
        Ok((self.r.string()?, self.r.string()?))
    }

    /// A byte that must be 0 or 1.
    fn flag(&mut self, id: u8) -> Result<bool, DecodeError> {
        match self.r.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(self.invalid(id, u32::from(v))),
        }
    }

    /// A two-byte integer that must not be 0 (Receive Maximum, Topic Alias).
    fn nonzero_u16(&mut self, id: u8) -> Result<u16, DecodeError> {
        match self.r.u16()? {
            0 => Err(self.invalid(id, 0)),
            v => Ok(v),
        }
    }

    /// A four-byte integer that must not be 0 (Maximum Packet Size).
    fn nonzero_u32(&mut self, id: u8) -> Result<u32, DecodeError> {
        match self.u32()? {
            0 => Err(self.invalid(id, 0)),
            v => Ok(v),
        }
    }

    /// A Subscription Identifier: 1..=268435455, 0 is a Protocol Error.
    pub fn subscription_id(&mut self) -> Result<u32, DecodeError> {
        match self.r.varint()? {
            0 => Err(self.invalid(id::SUBSCRIPTION_IDENTIFIER, 0)),
            v => Ok(v),
        }
    }

    pub fn invalid(&self, id: u8, value: u32) -> DecodeError {
        DecodeError::InvalidPropertyValue {
            packet_type: self.packet_type,
            id,
            value,
        }
    }

    /// Store a property that may appear only once.
    fn set<T>(&self, slot: &mut Option<T>, id: u8, value: T) -> Result<(), DecodeError> {
        if slot.is_some() {
            return Err(DecodeError::DuplicateProperty {
                packet_type: self.packet_type,
                id,
            });
        }
        *slot = Some(value);
        Ok(())
    }

    /// Read a value with `read` and store it as [`Props::set`] does. The
    /// value is read before the duplicate check, so a repeated property with
    /// a bad value reports the bad value, as the arms did when written out.
    fn read_into<T>(
        &mut self,
        slot: &mut Option<T>,
        id: u8,
        read: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<(), DecodeError> {
        let v = read(self)?;
        self.set(slot, id, v)
    }

    // One line per property arm in `props_decode`: read the value by its
    // type's rules and store it once.

    pub fn u16_into(&mut self, slot: &mut Option<u16>, id: u8) -> Result<(), DecodeError> {
        self.read_into(slot, id, Self::u16)
    }
    pub fn u32_into(&mut self, slot: &mut Option<u32>, id: u8) -> Result<(), DecodeError> {
        self.read_into(slot, id, Self::u32)
    }
    pub fn nonzero_u16_into(&mut self, slot: &mut Option<u16>, id: u8) -> Result<(), DecodeError> {
        self.read_into(slot, id, |p| p.nonzero_u16(id))
    }
    pub fn nonzero_u32_into(&mut self, slot: &mut Option<u32>, id: u8) -> Result<(), DecodeError> {
        self.read_into(slot, id, |p| p.nonzero_u32(id))
    }
    pub fn flag_into(&mut self, slot: &mut Option<bool>, id: u8) -> Result<(), DecodeError> {
        self.read_into(slot, id, |p| p.flag(id))
    }
    /// A 0-or-1 byte the packet model keeps as `u8` (Payload Format
    /// Indicator, Maximum QoS).
    pub fn flag_byte_into(&mut self, slot: &mut Option<u8>, id: u8) -> Result<(), DecodeError> {
        self.read_into(slot, id, |p| p.flag(id).map(u8::from))
    }
    pub fn string_into(&mut self, slot: &mut Option<MqttStr>, id: u8) -> Result<(), DecodeError> {
        self.read_into(slot, id, Self::string)
    }
    pub fn binary_into(&mut self, slot: &mut Option<Bytes>, id: u8) -> Result<(), DecodeError> {
        self.read_into(slot, id, Self::binary)
    }
    /// SUBSCRIBE's single Subscription Identifier (PUBLISH may carry many).
    pub fn subscription_id_into(
        &mut self,
        slot: &mut Option<u32>,
        id: u8,
    ) -> Result<(), DecodeError> {
        self.read_into(slot, id, Self::subscription_id)
    }

    /// Authentication Data needs an Authentication Method (§3.1.2.11.10).
    pub fn check_auth<T, U>(
        &self,
        method: &Option<T>,
        data: &Option<U>,
    ) -> Result<(), DecodeError> {
        if data.is_some() && method.is_none() {
            return Err(DecodeError::AuthDataWithoutMethod {
                packet_type: self.packet_type,
            });
        }
        Ok(())
    }
}

/// Where properties are written: [`Len`] counts, [`Put`] writes.
pub trait Sink {
    fn raw(&mut self, b: &[u8]);
    fn varint(&mut self, v: u32);

    fn byte(&mut self, id: u8, v: Option<u8>) {
        if let Some(v) = v {
            self.raw(&[id, v]);
        }
    }
    fn flag(&mut self, id: u8, v: Option<bool>) {
        self.byte(id, v.map(u8::from));
    }
    fn u16(&mut self, id: u8, v: Option<u16>) {
        if let Some(v) = v {
            let b = v.to_be_bytes();
            self.raw(&[id, b[0], b[1]]);
        }
    }
    fn u32(&mut self, id: u8, v: Option<u32>) {
        if let Some(v) = v {
            let b = v.to_be_bytes();
            self.raw(&[id, b[0], b[1], b[2], b[3]]);
        }
    }
    fn subscription_id(&mut self, v: u32) {
        self.raw(&[id::SUBSCRIPTION_IDENTIFIER]);
        self.varint(v);
    }
    /// A string or binary data property: 2-byte length, then the bytes.
    fn bytes(&mut self, id: u8, v: Option<&[u8]>) {
        if let Some(v) = v {
            let n = (v.len() as u16).to_be_bytes();
            self.raw(&[id, n[0], n[1]]);
            self.raw(v);
        }
    }
    fn str(&mut self, id: u8, v: Option<&MqttStr>) {
        self.bytes(id, v.map(|s| s.as_bytes()));
    }
    fn bin(&mut self, id: u8, v: Option<&Bytes>) {
        self.bytes(id, v.map(|b| &b[..]));
    }
    fn users(&mut self, users: &[UserProperty]) {
        for (k, v) in users {
            self.bytes(id::USER_PROPERTY, Some(k.as_bytes()));
            let n = (v.len() as u16).to_be_bytes();
            self.raw(&n);
            self.raw(v.as_bytes());
        }
    }
}

/// Counts the bytes a property block takes (without its length prefix).
#[derive(Default)]
pub struct Len(pub usize);

impl Sink for Len {
    #[inline]
    fn raw(&mut self, b: &[u8]) {
        self.0 += b.len();
    }
    #[inline]
    fn varint(&mut self, v: u32) {
        self.0 += remaining_len_size(v as usize);
    }
}

/// Writes a property block into a buffer.
pub struct Put<'a, B>(pub &'a mut B);

impl<B: BufMut> Sink for Put<'_, B> {
    #[inline]
    fn raw(&mut self, b: &[u8]) {
        self.0.put_slice(b);
    }
    #[inline]
    fn varint(&mut self, v: u32) {
        put_remaining_len(self.0, v as usize);
    }
}

/// Bytes a property block of `len` takes with its length prefix.
#[inline]
pub fn block_len(len: usize) -> usize {
    remaining_len_size(len) + len
}
