//! MQTT 3.1 and 3.1.1 packet bodies. The two share one wire format except
//! for CONNECT's protocol name and level, which [`connect`] writes from
//! `Connect::protocol`. MQTT 5 is `crate::v5`, beside this one, sharing
//! `codec_util` and `frame`.

pub mod connect;
pub mod decode;
pub mod encode;
