//! shardmq: a thread-per-core MQTT broker on glommio.
//!
//! The modules, from the wire inwards:
//!
//! - [`protocol`]: the MQTT codec (framing, decode, encode, validation with
//!   the normative statement each rule comes from), the `shardmq-protocol`
//!   crate re-exported.
//! - [`shard`]: one pinned glommio executor per core; listeners, the fixed
//!   partitions that place client IDs on shards, the keep-alive and idle
//!   wheel, the epoll poller for parked connections, start-up and shutdown.
//! - [`listener`]: the configured listeners, their sockets on every shard,
//!   and the upgrade of an accepted socket (TLS handshake, WebSocket).
//! - [`transport`]: the byte stream under a connection (TCP, TLS),
//!   detached into a sendable fd plus state for hand-off and parking, and
//!   the PINGREQ answer of a parked connection.
//! - [`connection`]: one client connection: CONNECT handling, the packet loop,
//!   reading through the shard's scratch buffer, the per-connection encoder
//!   that owns every byte written, parking when idle.
//! - [`session`]: what the broker keeps per client ID (subscriptions, the
//!   in-flight window, the bounded offline queue, inbound QoS 2 state, the
//!   will) behind one API, `Sessions`, that emits an event per change and
//!   hands connections deliveries, not bytes.
//! - [`plane`]: the message plane: the path of a message from its publisher
//!   to every subscriber on every shard, the mesh of channels between
//!   shards, and what shards say to each other.
//! - [`router`]: routing data structures: topic matching, the subscription
//!   trie, the cross-shard interest table, the retained store.
//! - [`auth`]: who may connect: the anonymous switch, the password file
//!   (hashed passwords, `shardmq passwd`), checks off the shard threads.
//! - [`auth`]: the authenticator interface and the built-in one; topic ACLs
//!   (`acl_file`, Mosquitto's syntax) compiled into per-section tries.
//! - [`metrics`]: per-shard counters and latency histograms, Prometheus text,
//!   `$SYS` topics.
//! - [`config`]: the typed configuration; [`check`] what `shardmq
//!   check-config` looks at.
//! - [`logging`]: log lines on stderr, text or JSON.
//! - [`reload`]: what SIGHUP re-reads (certificates, passwords, ACLs) and
//!   how each shard picks it up without a lock per message.
//!
//! `docs/architecture.md` walks the path of a connection and of a message.

pub mod auth;
pub mod check;
pub mod cluster;
pub mod config;
pub mod connection;
pub mod listener;
pub mod logging;
pub mod metrics;
pub mod persist;
pub mod plane;
pub mod reload;
pub mod router;
pub mod session;
pub mod shard;
pub mod transport;

/// The codec is its own crate (`protocol/`), so the load generator and the
/// fuzzer use it without the broker; this keeps `crate::protocol::…` paths.
pub use shardmq_protocol as protocol;
