//! MQTT 5.0 packet bodies: the 3.1.1 layouts plus properties (§2.2.2) and
//! reason codes (§2.4). Shares `codec_util` and `frame` with [`crate::v3`];
//! CONNECT's protocol name and level are read by the dispatcher in `lib.rs`.

pub mod connect;
pub mod decode;
pub mod encode;
mod props;
mod props_decode;
mod props_encode;
mod reasons;
