//! Shared harness of the black-box tests: start a broker, talk raw MQTT.
//!
//! `SHARDMQ_TEST_BROKER=mosquitto` runs every test against Debian's
//! `mosquitto` instead, to validate the tests themselves; tests of
//! shardmq-only behaviour return early there (`skip_on_mosquitto`).

pub mod broker;
pub mod certs;
pub mod client;
pub mod durable;
pub mod flow;
pub mod metrics;
pub mod packets;
pub mod passwords;
pub mod tools;
#[allow(dead_code)] // until the MQTT 5 tests use all of it
pub mod v5;
pub mod ws;

pub use broker::Broker;
pub use client::{Client, Recv};
pub use packets::*;
pub use tools::*;

use std::time::Duration;

/// Default bound of every wait.
pub const WAIT: Duration = Duration::from_secs(5);
/// Shards the broker is started with.
pub const SHARDS: usize = 2;

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Short window used to assert that something does NOT happen.
pub const QUIET: Duration = Duration::from_millis(300);

/// How long after the last packet a keep-alive 1 s connection must be
/// closed: 1.5 s by the spec, 3.5 s with slack. Mosquitto 2.0.11 checks
/// keep-alives coarsely (about 5.6 s for keep-alive 1), so it gets 8 s.
pub fn keepalive_1s_close_bound() -> Duration {
    if mosquitto_mode() {
        Duration::from_secs(8)
    } else {
        Duration::from_millis(3500)
    }
}

pub fn mosquitto_mode() -> bool {
    std::env::var("SHARDMQ_TEST_BROKER").is_ok_and(|v| v == "mosquitto")
}

/// True (and a note on stderr) when running against mosquitto, for tests of
/// behaviour mosquitto does not have: `if skip_on_mosquitto("why") { return; }`.
pub fn skip_on_mosquitto(why: &str) -> bool {
    if mosquitto_mode() {
        eprintln!("skipped on mosquitto: {why}");
    }
    mosquitto_mode()
}

/// Connects with this CONNECT and expects exactly `connack` back.
pub fn connect_with(port: u16, connect: &Connect, connack: &[u8]) -> Client {
    let mut c = Client::tcp(port, &String::from_utf8_lossy(&connect.client_id));
    c.send(&connect.build());
    c.expect_packet(connack);
    c
}

/// MQTT 3.1.1 CONNECT (keep-alive 60) that must be accepted (return code 0;
/// session present must be 0 when `clean`).
pub fn connect_ok(port: u16, id: &str, clean: bool) -> Client {
    let (c, _) = connect_sp(port, id, clean);
    c
}

/// Like `connect_ok`, and returns the session-present flag.
pub fn connect_sp(port: u16, id: &str, clean: bool) -> (Client, bool) {
    let mut c = Client::tcp(port, id);
    c.send(&Connect::new(id).clean(clean).build());
    let (first, body) = c.recv_packet();
    let got = packet(first, &body);
    assert!(
        got.len() == 4 && got[..2] == [0x20, 0x02] && got[3] == 0 && got[2] <= 1,
        "[{id}] expected CONNACK accepted, got {}",
        hex(&got)
    );
    if clean {
        // [MQTT-3.2.2-1]
        assert_eq!(got[2], 0, "[{id}] session present with clean session 1");
    }
    (c, got[2] == 1)
}

/// A client ID `prefix-N` owned by `shard` (see `shardmq::shard::owner_shard`).
pub fn id_on_shard(prefix: &str, shard: usize) -> String {
    (0..)
        .map(|i| format!("{prefix}-{i}"))
        .find(|id| shardmq::shard::owner_shard(id.as_bytes(), SHARDS) == shard)
        .unwrap()
}
