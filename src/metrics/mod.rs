//! Per-shard counters. Plain `Cell`s: a shard is one thread, so counting
//! costs an add, never an atomic shared between cores. A scrape asks every
//! shard for a snapshot and sums them.

pub mod board;
mod histograms;
pub mod http;
mod listeners;
mod prometheus;
mod reasons;
pub mod sys;

pub use board::{Board, Report};
pub use histograms::{Latency, ShardHistograms};
pub use listeners::{Failure, ListenerMetrics, ListenerSnapshot, WsRefusal};
pub use reasons::{ReasonCounters, ReasonKind, ReasonSnapshot};

use std::cell::Cell;

macro_rules! counters {
    ($(#[$doc:meta] $name:ident,)*) => {
        /// Counters of one shard.
        #[derive(Default, Debug)]
        pub struct ShardMetrics { $(#[$doc] pub $name: Cell<u64>,)* }

        /// A plain copy of one shard's counters, sendable across threads.
        #[derive(Default, Debug, Clone, PartialEq, Eq)]
        pub struct MetricsSnapshot { $(#[$doc] pub $name: u64,)* }

        impl ShardMetrics {
            pub fn snapshot(&self) -> MetricsSnapshot {
                MetricsSnapshot { $($name: self.$name.get(),)* }
            }
        }

        impl MetricsSnapshot {
            /// Add another shard's numbers into this one.
            pub fn merge(&mut self, o: &MetricsSnapshot) { $(self.$name += o.$name;)* }
            /// (name, value) pairs, for rendering.
            pub fn pairs(&self) -> Vec<(&'static str, u64)> { vec![$((stringify!($name), self.$name),)*] }
        }
    };
}

counters! {
    /// Sockets accepted.
    accepted,
    /// Connections that completed CONNECT with CONNACK 0.
    connections_total,
    /// Connections currently open and connected (a gauge).
    connections_current,
    /// Idle connections currently parked (a gauge; see `tuning.park_after`).
    connections_parked,
    /// Connections parked (their task and io_uring state freed).
    parks,
    /// Connections that left the parking lot (resumed, or closed by the client while parked).
    unparks,
    /// PINGREQs answered for parked connections without resuming them.
    pings_while_parked,
    /// Connections handed to their owner shard after CONNECT.
    handoffs,
    /// Sockets closed for sending no complete CONNECT in time.
    connect_timeouts,
    /// First packet was not CONNECT, or a second CONNECT arrived.
    protocol_errors,
    /// Packets that failed to decode.
    malformed_packets,
    /// Packets over the maximum packet size.
    oversize_packets,
    /// CONNACK 1 (unacceptable protocol version).
    refused_protocol_version,
    /// CONNACK 2 (identifier rejected).
    refused_identifier,
    /// CONNACK 3 (server unavailable).
    refused_server_unavailable,
    /// CONNACK 4 (bad user name or password).
    refused_bad_credentials,
    /// CONNACK 5 (not authorized).
    refused_not_authorized,
    /// Password hashes checked (off the shard thread; cache misses).
    auth_verifications,
    /// Password checks answered by the shard's cache of recent successes.
    auth_cache_hits,
    /// CONNECTs that had to wait for a password-check slot.
    auth_slot_waits,
    /// CONNECTs refused (CONNACK 3 / 0x89) because no slot came free within the connect timeout.
    auth_slot_timeouts,
    /// Connections closed by keep-alive expiry.
    keepalive_timeouts,
    /// Connections closed because a new one took their client ID.
    takeovers,
    /// Will messages published.
    wills_published,
    /// QoS 0 PUBLISH packets received from clients.
    messages_in_qos0,
    /// QoS 1 PUBLISH packets received from clients.
    messages_in_qos1,
    /// QoS 2 PUBLISH packets received from clients (re-sends not counted).
    messages_in_qos2,
    /// Payload bytes received in PUBLISH packets.
    bytes_in,
    /// QoS 0 PUBLISH packets queued for writing to clients.
    messages_out_qos0,
    /// QoS 1 PUBLISH packets queued for writing to clients.
    messages_out_qos1,
    /// QoS 2 PUBLISH packets queued for writing to clients.
    messages_out_qos2,
    /// Payload bytes written in PUBLISH packets.
    bytes_out,
    /// Publishes that matched no subscriber anywhere.
    dropped_no_subscriber,
    /// QoS 0 dropped because the client's write buffer was full.
    dropped_slow_subscriber,
    /// Dropped because a session queue was full.
    dropped_queue_full,
    /// Dropped by a stalled session (full, no ack for `stall_timeout`).
    dropped_stalled,
    /// Sessions marked stalled.
    sessions_stalled,
    /// Publishers held back now (a gauge): their connections are not read.
    publishers_paused,
    /// Times a publisher was paused.
    publisher_pauses,
    /// QoS 0 not queued for an offline session.
    dropped_offline_qos0,
    /// Messages for a shared subscription group with no member left to take them.
    dropped_shared_no_member,
    /// Messages sent to other shards.
    cross_shard_out,
    /// Messages received from other shards.
    cross_shard_in,
    /// Control messages dropped because a peer's control outbox was full.
    control_dropped,
    /// Retained messages stored on this shard (a gauge).
    retained_messages,
    /// Subscriptions held by this shard's sessions (a gauge).
    subscriptions,
    /// Sessions on this shard (a gauge).
    sessions,
    /// Offline persistent sessions removed by `limits.session_expiry`.
    sessions_expired,
    /// MQTT 5 messages not delivered because their expiry interval passed.
    messages_expired,
    /// PUBLISHes not sent because they exceeded the client's Maximum Packet Size.
    packets_dropped_client_maximum,
    /// DISCONNECT 0x94 / 0x82 for a topic alias out of range or unknown.
    topic_alias_errors,
    /// DISCONNECT 0x93: a client exceeded the broker's Receive Maximum.
    receive_maximum_exceeded,
    /// PUBLISHes refused with 0x99: payload format UTF-8 but payload not.
    payload_format_invalid,
    /// PUBLISHes refused by the ACL (no write access).
    acl_denied_publish,
    /// Subscriptions refused by the ACL (nothing they match is readable).
    acl_denied_subscribe,
    /// Deliveries withheld by the ACL (a filter broader than the read grant).
    acl_denied_delivery,
    /// Wills dropped at CONNECT by the ACL (no write access to the will topic).
    acl_denied_will,
    /// Connection tasks that panicked (a bug; the shard carried on).
    task_panics,
    /// Bytes written to the durable log.
    log_bytes,
    /// Bytes the durable log takes on disk (a gauge).
    log_disk_bytes,
    /// fdatasyncs of the durable log.
    log_fsyncs,
    /// Group commits: writes of the records appended since the last one.
    log_commits,
    /// Records those group commits carried.
    log_commit_records,
    /// Records not written: the log was unhealthy (disk full, write error).
    log_records_discarded,
    /// Write or fsync errors of the durable log.
    log_write_errors,
    /// 1 while the durable log can write, 0 after a write error (a gauge).
    log_healthy,
    /// QoS 1/2 PUBLISHes refused because the log could not keep them.
    log_refused,
    /// Compaction snapshots written.
    compactions,
    /// Records replayed at start.
    records_replayed,
}

impl ShardMetrics {
    /// The messages-in counter of a QoS.
    pub fn messages_in(&self, q: crate::protocol::QoS) -> &Cell<u64> {
        [
            &self.messages_in_qos0,
            &self.messages_in_qos1,
            &self.messages_in_qos2,
        ][q as usize]
    }

    /// The messages-out counter of a QoS.
    pub fn messages_out(&self, q: crate::protocol::QoS) -> &Cell<u64> {
        [
            &self.messages_out_qos0,
            &self.messages_out_qos1,
            &self.messages_out_qos2,
        ][q as usize]
    }

    /// Add one to a counter.
    #[inline]
    pub fn inc(c: &Cell<u64>) {
        c.set(c.get() + 1);
    }
    #[inline]
    pub fn add(c: &Cell<u64>, n: u64) {
        c.set(c.get() + n);
    }
    #[inline]
    pub fn dec(c: &Cell<u64>) {
        c.set(c.get().saturating_sub(1));
    }
}
