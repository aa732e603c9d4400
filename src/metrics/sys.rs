//! `$SYS/broker/...` topics in the layout Mosquitto users know, published
//! (retained, QoS 0) from shard 0 every `sys_interval` seconds.

use super::board::Merged;

/// (topic, payload) pairs for one `$SYS` round.
pub fn topics(m: &Merged, uptime_secs: u64) -> Vec<(String, String)> {
    let c = &m.total.counters;
    let received = c.messages_in_qos0 + c.messages_in_qos1 + c.messages_in_qos2;
    let sent = c.messages_out_qos0 + c.messages_out_qos1 + c.messages_out_qos2;
    let dropped = c.dropped_no_subscriber
        + c.dropped_slow_subscriber
        + c.dropped_queue_full
        + c.dropped_offline_qos0;
    let connected = c.connections_current;
    let v = |x: u64| x.to_string();
    [
        ("version", format!("shardmq {}", env!("CARGO_PKG_VERSION"))),
        ("uptime", format!("{uptime_secs} seconds")),
        ("clients/connected", v(connected)),
        ("clients/active", v(connected)),
        ("clients/total", v(c.sessions.max(connected))),
        (
            "clients/disconnected",
            v(c.sessions.saturating_sub(connected)),
        ),
        ("messages/received", v(received)),
        ("messages/sent", v(sent)),
        ("publish/messages/received", v(received)),
        ("publish/messages/sent", v(sent)),
        ("publish/messages/dropped", v(dropped)),
        ("bytes/received", v(c.bytes_in)),
        ("bytes/sent", v(c.bytes_out)),
        ("subscriptions/count", v(c.subscriptions)),
        ("retained messages/count", v(c.retained_messages)),
    ]
    .into_iter()
    .map(|(t, p)| (format!("$SYS/broker/{t}"), p))
    .chain(listeners(m))
    .collect()
}

/// `$SYS/broker/listeners/<transport:port>/...`: per listener, what
/// `/metrics` has under `shardmq_listener_*`.
fn listeners(m: &Merged) -> impl Iterator<Item = (String, String)> + '_ {
    m.listener_labels
        .iter()
        .enumerate()
        .flat_map(move |(i, label)| {
            let l = m.total.listeners.get(i).cloned().unwrap_or_default();
            let failed: u64 = l.failures.iter().sum();
            [
                ("clients/connected", l.connections),
                ("accepted", l.accepted),
                ("handshakes", l.handshakes + l.upgrades),
                ("handshakes/failed", failed),
                ("websocket/refused", l.ws_refused.iter().sum()),
                ("auth/failed", l.auth_failures),
                ("acl/denied", l.acl_denials),
            ]
            .map(|(t, v)| (format!("$SYS/broker/listeners/{label}/{t}"), v.to_string()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mosquitto_layout() {
        let mut m = Merged::default();
        m.total.counters.connections_current = 3;
        m.total.counters.sessions = 5;
        m.total.counters.messages_in_qos1 = 4;
        let t: std::collections::HashMap<_, _> = topics(&m, 42).into_iter().collect();
        assert_eq!(t["$SYS/broker/uptime"], "42 seconds");
        assert_eq!(t["$SYS/broker/clients/connected"], "3");
        assert_eq!(t["$SYS/broker/clients/disconnected"], "2");
        assert_eq!(t["$SYS/broker/messages/received"], "4");
        assert!(t["$SYS/broker/version"].starts_with("shardmq "));
    }

    #[test]
    fn per_listener_topics() {
        let mut m = Merged {
            listener_labels: vec!["tcp:1883".into(), "tls:8883".into()],
            ..Merged::default()
        };
        m.total.listeners = vec![Default::default(), Default::default()];
        m.total.listeners[1].connections = 7;
        m.total.listeners[1].failures[0] = 2;
        let t: std::collections::HashMap<_, _> = topics(&m, 1).into_iter().collect();
        assert_eq!(t["$SYS/broker/listeners/tls:8883/clients/connected"], "7");
        assert_eq!(t["$SYS/broker/listeners/tls:8883/handshakes/failed"], "2");
        assert_eq!(t["$SYS/broker/listeners/tls:8883/websocket/refused"], "0");
        assert_eq!(t["$SYS/broker/listeners/tcp:1883/clients/connected"], "0");
    }
}
