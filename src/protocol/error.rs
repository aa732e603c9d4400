//! Decoding errors, each naming the normative statement it breaks.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Remaining length uses more than 4 bytes [MQTT-1.5.5-1]... (codec fills)
    MalformedRemainingLength,
    /// Packet larger than the configured maximum.
    PacketTooLarge { size: usize, max: usize },
    /// CONNECT protocol level we do not speak [MQTT-3.1.2-2]: answer CONNACK 1.
    UnsupportedProtocolLevel(u8),
    /// Anything else that makes the packet malformed.
    Malformed(&'static str, &'static str),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for DecodeError {}
