//! Prometheus text exposition (format 0.0.4) of the merged numbers.
//!
//! Latencies are Prometheus *histograms* (not summaries): buckets can be
//! summed across brokers and re-aggregated by PromQL, which quantiles cannot.
//! Bucket counts come from the HDR histograms (3 significant digits), `_sum`
//! is exact (recorded alongside), values are in seconds.

use super::board::Merged;
use super::{Latency, MetricsSnapshot, ReasonKind, ReasonSnapshot};
use std::fmt::Write;

/// Upper bounds of the latency buckets, in microseconds.
const BUCKETS_US: [u64; 20] = [
    10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000,
    500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 60_000_000,
];

/// Buckets of the histograms of counts: powers of 4, 1 to 262,144.
const BUCKETS_COUNT: [u64; 10] = [1, 4, 16, 64, 256, 1_024, 4_096, 16_384, 65_536, 262_144];

/// How one counter is exposed: (field, metric, type, label).
type Series = (
    &'static str,
    &'static str,
    &'static str,
    Option<(&'static str, &'static str)>,
);

const SERIES: &[Series] = &[
    (
        "accepted",
        "shardmq_sockets_accepted_total",
        "counter",
        None,
    ),
    (
        "connections_total",
        "shardmq_connections_total",
        "counter",
        None,
    ),
    ("connections_current", "shardmq_connections", "gauge", None),
    (
        "connections_parked",
        "shardmq_connections_parked",
        "gauge",
        None,
    ),
    ("parks", "shardmq_parks_total", "counter", None),
    ("unparks", "shardmq_unparks_total", "counter", None),
    (
        "pings_while_parked",
        "shardmq_pings_while_parked_total",
        "counter",
        None,
    ),
    ("handoffs", "shardmq_handoffs_total", "counter", None),
    (
        "connect_timeouts",
        "shardmq_connect_timeouts_total",
        "counter",
        None,
    ),
    (
        "protocol_errors",
        "shardmq_protocol_errors_total",
        "counter",
        None,
    ),
    (
        "malformed_packets",
        "shardmq_malformed_packets_total",
        "counter",
        None,
    ),
    (
        "oversize_packets",
        "shardmq_oversize_packets_total",
        "counter",
        None,
    ),
    (
        "refused_protocol_version",
        "shardmq_connections_refused_total",
        "counter",
        Some(("reason", "protocol_version")),
    ),
    (
        "refused_identifier",
        "shardmq_connections_refused_total",
        "counter",
        Some(("reason", "identifier_rejected")),
    ),
    (
        "refused_server_unavailable",
        "shardmq_connections_refused_total",
        "counter",
        Some(("reason", "server_unavailable")),
    ),
    (
        "refused_bad_credentials",
        "shardmq_connections_refused_total",
        "counter",
        Some(("reason", "bad_credentials")),
    ),
    (
        "refused_not_authorized",
        "shardmq_connections_refused_total",
        "counter",
        Some(("reason", "not_authorized")),
    ),
    (
        "auth_verifications",
        "shardmq_auth_verifications_total",
        "counter",
        None,
    ),
    (
        "auth_cache_hits",
        "shardmq_auth_cache_hits_total",
        "counter",
        None,
    ),
    (
        "auth_slot_waits",
        "shardmq_auth_slot_waits_total",
        "counter",
        None,
    ),
    (
        "auth_slot_timeouts",
        "shardmq_auth_slot_timeouts_total",
        "counter",
        None,
    ),
    (
        "keepalive_timeouts",
        "shardmq_keepalive_timeouts_total",
        "counter",
        None,
    ),
    ("takeovers", "shardmq_takeovers_total", "counter", None),
    (
        "wills_published",
        "shardmq_wills_published_total",
        "counter",
        None,
    ),
    (
        "messages_in_qos0",
        "shardmq_messages_received_total",
        "counter",
        Some(("qos", "0")),
    ),
    (
        "messages_in_qos1",
        "shardmq_messages_received_total",
        "counter",
        Some(("qos", "1")),
    ),
    (
        "messages_in_qos2",
        "shardmq_messages_received_total",
        "counter",
        Some(("qos", "2")),
    ),
    (
        "bytes_in",
        "shardmq_payload_bytes_received_total",
        "counter",
        None,
    ),
    (
        "messages_out_qos0",
        "shardmq_messages_sent_total",
        "counter",
        Some(("qos", "0")),
    ),
    (
        "messages_out_qos1",
        "shardmq_messages_sent_total",
        "counter",
        Some(("qos", "1")),
    ),
    (
        "messages_out_qos2",
        "shardmq_messages_sent_total",
        "counter",
        Some(("qos", "2")),
    ),
    (
        "bytes_out",
        "shardmq_payload_bytes_sent_total",
        "counter",
        None,
    ),
    (
        "dropped_no_subscriber",
        "shardmq_messages_dropped_total",
        "counter",
        Some(("reason", "no_subscriber")),
    ),
    (
        "dropped_slow_subscriber",
        "shardmq_messages_dropped_total",
        "counter",
        Some(("reason", "slow_subscriber")),
    ),
    (
        "dropped_queue_full",
        "shardmq_messages_dropped_total",
        "counter",
        Some(("reason", "queue_full")),
    ),
    (
        "dropped_stalled",
        "shardmq_messages_dropped_total",
        "counter",
        Some(("reason", "stalled")),
    ),
    (
        "dropped_offline_qos0",
        "shardmq_messages_dropped_total",
        "counter",
        Some(("reason", "offline_qos0")),
    ),
    (
        "dropped_shared_no_member",
        "shardmq_messages_dropped_total",
        "counter",
        Some(("reason", "shared_no_member")),
    ),
    (
        "sessions_stalled",
        "shardmq_sessions_stalled_total",
        "counter",
        None,
    ),
    (
        "publishers_paused",
        "shardmq_publishers_paused",
        "gauge",
        None,
    ),
    (
        "publisher_pauses",
        "shardmq_publisher_pauses_total",
        "counter",
        None,
    ),
    (
        "cross_shard_out",
        "shardmq_cross_shard_messages_total",
        "counter",
        Some(("direction", "out")),
    ),
    (
        "cross_shard_in",
        "shardmq_cross_shard_messages_total",
        "counter",
        Some(("direction", "in")),
    ),
    ("log_bytes", "shardmq_log_bytes_total", "counter", None),
    ("log_disk_bytes", "shardmq_log_disk_bytes", "gauge", None),
    ("log_fsyncs", "shardmq_log_fsyncs_total", "counter", None),
    ("log_commits", "shardmq_log_commits_total", "counter", None),
    (
        "log_commit_records",
        "shardmq_log_commit_records_total",
        "counter",
        None,
    ),
    (
        "log_records_discarded",
        "shardmq_log_records_discarded_total",
        "counter",
        None,
    ),
    (
        "log_write_errors",
        "shardmq_log_write_errors_total",
        "counter",
        None,
    ),
    ("log_healthy", "shardmq_log_healthy", "gauge", None),
    ("log_refused", "shardmq_log_refused_total", "counter", None),
    ("compactions", "shardmq_compactions_total", "counter", None),
    (
        "records_replayed",
        "shardmq_records_replayed_total",
        "counter",
        None,
    ),
    (
        "control_dropped",
        "shardmq_control_messages_dropped_total",
        "counter",
        None,
    ),
    (
        "retained_messages",
        "shardmq_retained_messages",
        "gauge",
        None,
    ),
    ("subscriptions", "shardmq_subscriptions", "gauge", None),
    ("sessions", "shardmq_sessions", "gauge", None),
    (
        "sessions_expired",
        "shardmq_sessions_expired_total",
        "counter",
        None,
    ),
    (
        "messages_expired",
        "shardmq_messages_expired_total",
        "counter",
        None,
    ),
    (
        "packets_dropped_client_maximum",
        "shardmq_packets_dropped_client_maximum_total",
        "counter",
        None,
    ),
    (
        "topic_alias_errors",
        "shardmq_topic_alias_errors_total",
        "counter",
        None,
    ),
    (
        "receive_maximum_exceeded",
        "shardmq_receive_maximum_exceeded_total",
        "counter",
        None,
    ),
    (
        "payload_format_invalid",
        "shardmq_payload_format_invalid_total",
        "counter",
        None,
    ),
    (
        "acl_denied_publish",
        "shardmq_acl_denials_total",
        "counter",
        Some(("kind", "publish")),
    ),
    (
        "acl_denied_subscribe",
        "shardmq_acl_denials_total",
        "counter",
        Some(("kind", "subscribe")),
    ),
    (
        "acl_denied_delivery",
        "shardmq_acl_denials_total",
        "counter",
        Some(("kind", "delivery")),
    ),
    (
        "acl_denied_will",
        "shardmq_acl_denials_total",
        "counter",
        Some(("kind", "will")),
    ),
    ("task_panics", "shardmq_task_panics_total", "counter", None),
];

/// Render everything as Prometheus text.
pub fn render(m: &Merged, uptime_secs: f64) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let values: std::collections::HashMap<&str, u64> =
        m.total.counters.pairs().into_iter().collect();
    let mut last = "";
    for (field, name, kind, label) in SERIES {
        if *name != last {
            let _ = writeln!(out, "# HELP {name} {}", help(name));
            let _ = writeln!(out, "# TYPE {name} {kind}");
            last = name;
        }
        let v = values.get(field).copied().unwrap_or(0);
        match label {
            Some((k, val)) => {
                let _ = writeln!(out, "{name}{{{k}=\"{val}\"}} {v}");
            }
            None => {
                let _ = writeln!(out, "{name} {v}");
            }
        }
    }
    per_shard(&mut out, m);
    reason_codes(&mut out, &m.total.reasons);
    shared_groups(&mut out, m);
    super::listeners::render(&mut out, &m.listener_labels, &m.total.listeners);
    let _ = writeln!(
        out,
        "# HELP shardmq_uptime_seconds Seconds since the broker started."
    );
    let _ = writeln!(
        out,
        "# TYPE shardmq_uptime_seconds gauge\nshardmq_uptime_seconds {uptime_secs:.3}"
    );
    for (name, doc, l) in m.total.hist.all() {
        match name {
            // A count, not a time.
            "log_group_commit" => {
                let n = "shardmq_log_group_commit_records";
                histogram(&mut out, n, doc, l, &BUCKETS_COUNT, 1.0);
            }
            _ => {
                let n = format!("shardmq_{name}_seconds");
                histogram(&mut out, &n, doc, l, &BUCKETS_US, 1e6);
            }
        }
    }
    out
}

/// Each shard's load: its clients, and the PUBLISHes it took in from its
/// clients and delivered to them (how evenly the partitions spread).
fn per_shard(out: &mut String, m: &Merged) {
    type Of = fn(&MetricsSnapshot) -> u64;
    let series: [(&str, &str, &str, Of); 3] = [
        (
            "connections",
            "gauge",
            "Connected clients per shard.",
            |s| s.connections_current,
        ),
        (
            "messages_received_total",
            "counter",
            "PUBLISH packets received from clients, per shard.",
            |s| s.messages_in_qos0 + s.messages_in_qos1 + s.messages_in_qos2,
        ),
        (
            "messages_sent_total",
            "counter",
            "PUBLISH packets delivered to clients, per shard.",
            |s| s.messages_out_qos0 + s.messages_out_qos1 + s.messages_out_qos2,
        ),
    ];
    for (name, kind, help, of) in series {
        let _ = writeln!(out, "# HELP shardmq_shard_{name} {help}");
        let _ = writeln!(out, "# TYPE shardmq_shard_{name} {kind}");
        for (i, s) in m.shards.iter().enumerate() {
            let v = s.as_ref().map_or(0, of);
            let _ = writeln!(out, "shardmq_shard_{name}{{shard=\"{i}\"}} {v}");
        }
    }
}

/// CONNACK and DISCONNECT counts by reason code; a series appears once
/// its code was counted.
fn reason_codes(out: &mut String, r: &ReasonSnapshot) {
    let _ = writeln!(
        out,
        "# HELP shardmq_connack_total CONNACKs sent, by reason code."
    );
    let _ = writeln!(out, "# TYPE shardmq_connack_total counter");
    for (_, code, n) in r.nonzero().filter(|e| e.0 == ReasonKind::ConnAck) {
        let _ = writeln!(
            out,
            "shardmq_connack_total{{reason=\"{}\"}} {n}",
            code.name()
        );
    }
    let _ = writeln!(
        out,
        "# HELP shardmq_disconnect_total MQTT 5 DISCONNECTs, by direction and reason code."
    );
    let _ = writeln!(out, "# TYPE shardmq_disconnect_total counter");
    for (kind, code, n) in r.nonzero().filter(|e| e.0 != ReasonKind::ConnAck) {
        let dir = if kind == ReasonKind::DisconnectSent {
            "sent"
        } else {
            "received"
        };
        let name = code.name();
        let _ = writeln!(
            out,
            "shardmq_disconnect_total{{direction=\"{dir}\",reason=\"{name}\"}} {n}"
        );
    }
}

/// Deliveries per shared subscription group; names are bounded (the
/// busiest first-seen 64 per shard, the rest in `_other`).
fn shared_groups(out: &mut String, m: &Merged) {
    let name = "shardmq_shared_deliveries_total";
    let _ = writeln!(
        out,
        "# HELP {name} Messages delivered through shared subscriptions, by group (64 names at most, the rest in _other)."
    );
    let _ = writeln!(out, "# TYPE {name} counter");
    for (g, v) in &m.total.shared_groups {
        let g = g
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n");
        let _ = writeln!(out, "{name}{{group=\"{g}\"}} {v}");
    }
}

/// One histogram; `scale` turns recorded values (and bucket bounds) into
/// the unit the metric is named for (1e6: µs to seconds).
fn histogram(out: &mut String, name: &str, doc: &str, l: &Latency, buckets: &[u64], scale: f64) {
    let doc = doc
        .trim_start_matches("doc = ")
        .trim_matches(|c| c == '"' || c == ' ');
    let _ = writeln!(out, "# HELP {name} {doc}");
    let _ = writeln!(out, "# TYPE {name} histogram");
    for &b in buckets {
        let c = l.hdr.count_between(0, b);
        let _ = writeln!(out, "{name}_bucket{{le=\"{}\"}} {c}", b as f64 / scale);
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", l.count());
    let _ = writeln!(out, "{name}_sum {}", l.sum_us as f64 / scale);
    let _ = writeln!(out, "{name}_count {}", l.count());
}

fn help(name: &str) -> &'static str {
    match name {
        "shardmq_connections_refused_total" => "CONNECTs refused, by CONNACK reason.",
        "shardmq_messages_received_total" => "PUBLISH packets received from clients, by QoS.",
        "shardmq_messages_sent_total" => "PUBLISH packets sent to clients, by delivery QoS.",
        "shardmq_messages_dropped_total" => "Messages not delivered, by reason.",
        "shardmq_cross_shard_messages_total" => "Messages passed between shards.",
        "shardmq_connections" => "Clients connected now.",
        "shardmq_connections_total" => "Connections accepted with CONNACK 0.",
        "shardmq_sockets_accepted_total" => "TCP sockets accepted.",
        "shardmq_handoffs_total" => "Connections handed to the shard owning their client ID.",
        "shardmq_connect_timeouts_total" => "Sockets closed for sending no CONNECT in time.",
        "shardmq_protocol_errors_total" => "Connections closed for a protocol violation.",
        "shardmq_malformed_packets_total" => "Packets that failed to decode.",
        "shardmq_oversize_packets_total" => "Packets over the maximum packet size.",
        "shardmq_keepalive_timeouts_total" => "Connections closed by keep-alive expiry.",
        "shardmq_takeovers_total" => {
            "Connections closed by a new connection with the same client ID."
        }
        "shardmq_wills_published_total" => "Will messages published.",
        "shardmq_sessions_stalled_total" => {
            "Sessions that stopped holding publishers back: no acknowledgement for stall_timeout."
        }
        "shardmq_publishers_paused" => "Publishers held back now: their connections are not read.",
        "shardmq_publisher_pauses_total" => {
            "Times a publisher was held back by a full session queue."
        }
        "shardmq_payload_bytes_received_total" => "Payload bytes received in PUBLISH packets.",
        "shardmq_payload_bytes_sent_total" => "Payload bytes sent in PUBLISH packets.",
        "shardmq_control_messages_dropped_total" => {
            "Shard-to-shard control messages dropped (outbox full)."
        }
        "shardmq_log_bytes_total" => "Bytes written to the durable log.",
        "shardmq_log_disk_bytes" => "Bytes the durable log takes on disk.",
        "shardmq_log_fsyncs_total" => "fdatasyncs of the durable log.",
        "shardmq_log_commits_total" => "Group commits of the durable log (one write each).",
        "shardmq_log_commit_records_total" => {
            "Records carried by group commits (divide by commits for the mean group size)."
        }
        "shardmq_log_records_discarded_total" => "Log records not written: the log was unhealthy.",
        "shardmq_log_write_errors_total" => "Write or fsync errors of the durable log.",
        "shardmq_log_healthy" => "Shards whose durable log can write.",
        "shardmq_log_refused_total" => "QoS 1/2 PUBLISHes refused: the log could not keep them.",
        "shardmq_compactions_total" => "Compaction snapshots written.",
        "shardmq_records_replayed_total" => "Log records replayed at start.",
        "shardmq_retained_messages" => "Retained messages stored.",
        "shardmq_subscriptions" => "Subscriptions of all sessions.",
        "shardmq_sessions" => "Sessions, connected or not.",
        "shardmq_sessions_expired_total" => {
            "Offline persistent sessions removed by session_expiry."
        }
        "shardmq_messages_expired_total" => {
            "MQTT 5 messages not delivered: their expiry interval had passed."
        }
        "shardmq_packets_dropped_client_maximum_total" => {
            "PUBLISHes not sent: larger than the client's Maximum Packet Size."
        }
        "shardmq_topic_alias_errors_total" => {
            "DISCONNECTs for a topic alias out of range (0x94) or unknown (0x82)."
        }
        "shardmq_receive_maximum_exceeded_total" => {
            "DISCONNECT 0x93: more unacknowledged QoS 2 PUBLISHes than the Receive Maximum."
        }
        "shardmq_payload_format_invalid_total" => {
            "PUBLISHes refused (0x99): payload format UTF-8 but the payload is not."
        }
        "shardmq_acl_denials_total" => {
            "Refused by the ACL: PUBLISHes, SUBSCRIBE filters, deliveries, wills."
        }
        "shardmq_task_panics_total" => {
            "Connection tasks that panicked (bugs); the shard carried on."
        }
        _ => "shardmq metric.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn renders_counters_labels_and_histograms() {
        let mut m = Merged::default();
        m.total.counters.messages_in_qos1 = 7;
        m.total.counters.dropped_queue_full = 2;
        m.total
            .hist
            .publish_to_delivery
            .record(Duration::from_micros(30));
        m.total
            .hist
            .publish_to_delivery
            .record(Duration::from_millis(3));
        m.shards = vec![Some(m.total.counters.clone()), None];
        m.total.shared_groups = vec![("workers".into(), 5), ("a\"b".into(), 1)];
        let text = render(&m, 1.5);
        assert!(text.contains("shardmq_shared_deliveries_total{group=\"workers\"} 5\n"));
        assert!(text.contains("shardmq_shared_deliveries_total{group=\"a\\\"b\"} 1\n"));
        assert!(text.contains("shardmq_messages_received_total{qos=\"1\"} 7\n"));
        assert!(text.contains("shardmq_messages_dropped_total{reason=\"queue_full\"} 2\n"));
        assert!(text.contains("shardmq_publish_to_delivery_seconds_bucket{le=\"0.00005\"} 1\n"));
        assert!(text.contains("shardmq_publish_to_delivery_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(text.contains("shardmq_publish_to_delivery_seconds_count 2\n"));
        assert!(text.contains("shardmq_shard_connections{shard=\"1\"} 0\n"));
        assert!(text.contains("shardmq_shard_messages_received_total{shard=\"0\"} 7\n"));
        assert!(text.contains("shardmq_shard_messages_sent_total{shard=\"1\"} 0\n"));
        assert!(
            !text.contains("shardmq_connack_total{"),
            "no series before a count"
        );
        // One TYPE line per metric family.
        assert_eq!(
            text.matches("# TYPE shardmq_messages_received_total")
                .count(),
            1
        );
        for field in m.total.counters.pairs().iter().map(|(f, _)| *f) {
            assert!(
                SERIES.iter().any(|s| s.0 == field),
                "counter {field} is not exposed"
            );
        }
    }
}
