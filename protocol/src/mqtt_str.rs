//! [`MqttStr`], the string type of every packet field that the spec calls a
//! UTF-8 string. Its one invariant, valid UTF-8, is what lets `as_str` skip
//! the check; every constructor is in this file so the invariant can be read
//! off it.

use crate::codec_util::check_mqtt_utf8;
use crate::error::DecodeError;
use bytes::Bytes;
use std::fmt;

/// A UTF-8 string that passed MQTT's string rules ([MQTT-1.5.3-1],
/// [MQTT-1.5.3-2]), stored as `Bytes` so clones are reference counts and a
/// decoded string shares its frame's allocation.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct MqttStr(Bytes);

// By hand, not derived: `Borrow<str>` promises the same hash as `str`
// (Bytes hashes like `[u8]`, with a length prefix), or maps keyed by
// `MqttStr` would never find a `&str`.
impl std::hash::Hash for MqttStr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

// The small accessors are `#[inline]`: the broker calls them from another
// crate, on every topic it routes, and without LTO only inline-marked (or
// tiny) functions cross a crate boundary.
impl MqttStr {
    /// Wrap bytes without checking them: for the decoder, which has just
    /// run MQTT's string check on them and must not pay for it twice.
    ///
    /// # Safety
    /// `b` must be valid UTF-8: [`MqttStr::as_str`] hands it out as `&str`
    /// unchecked. (It should also satisfy MQTT's string rules, no U+0000,
    /// but that is the protocol's contract, not memory safety.) Code outside
    /// the codec wants [`MqttStr::try_from_bytes`].
    pub unsafe fn from_validated(b: Bytes) -> MqttStr {
        debug_assert!(std::str::from_utf8(&b).is_ok());
        MqttStr(b)
    }

    /// Wrap bytes after applying MQTT's string rules to them: well-formed
    /// UTF-8 ([`DecodeError::InvalidUtf8`]) without U+0000
    /// ([`DecodeError::NullCharacter`]). Shares `b`'s allocation.
    pub fn try_from_bytes(b: Bytes) -> Result<MqttStr, DecodeError> {
        check_mqtt_utf8(&b)?;
        Ok(MqttStr(b))
    }

    #[inline]
    pub fn from_static(s: &'static str) -> MqttStr {
        MqttStr(Bytes::from_static(s.as_bytes()))
    }

    #[inline]
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor in this file yields valid UTF-8: a
        // `str` (`from_static`, `From`), empty bytes (`Default`), bytes
        // checked by `try_from_bytes`, or bytes whose caller promised it
        // (`from_validated`'s contract). The field is private, so nothing
        // else can build or mutate one.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }

    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    #[inline]
    pub fn bytes(&self) -> &Bytes {
        &self.0
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for MqttStr {
    fn from(s: String) -> MqttStr {
        MqttStr(Bytes::from(s.into_bytes()))
    }
}

impl From<&str> for MqttStr {
    fn from(s: &str) -> MqttStr {
        MqttStr(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl std::ops::Deref for MqttStr {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for MqttStr {
    #[inline]
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for MqttStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for MqttStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
