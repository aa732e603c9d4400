//! Counters per listener (`[[listeners]]`): what each port accepted,
//! handshakes and why they failed, and the refusals of its clients. Kept
//! by every shard for every listener, summed at scrape time like the rest.

use std::cell::Cell;

/// Why a connection never got as far as its CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// TLS handshake or WebSocket upgrade not done within the connect timeout.
    Timeout,
    /// The bytes are not TLS (plain MQTT on the TLS port, garbage).
    NotTls,
    /// The client's certificate is missing, expired or untrusted.
    ClientCertificate,
    /// No TLS version or cipher suite in common, or a bad TLS message.
    TlsProtocol,
    /// The client aborted the handshake (often: it does not trust ours).
    PeerAlert,
    /// The socket closed during the handshake or upgrade.
    Closed,
    /// Not a valid WebSocket upgrade (method, path, headers, origin).
    BadUpgrade,
    /// A WebSocket upgrade that offers neither `mqtt` nor `mqttv3.1`.
    NoSubprotocol,
}

impl Failure {
    pub const ALL: [Failure; 8] = [
        Failure::Timeout,
        Failure::NotTls,
        Failure::ClientCertificate,
        Failure::TlsProtocol,
        Failure::PeerAlert,
        Failure::Closed,
        Failure::BadUpgrade,
        Failure::NoSubprotocol,
    ];

    /// The `cause` label.
    pub fn name(self) -> &'static str {
        match self {
            Failure::Timeout => "timeout",
            Failure::NotTls => "not_tls",
            Failure::ClientCertificate => "client_certificate",
            Failure::TlsProtocol => "tls_protocol",
            Failure::PeerAlert => "peer_alert",
            Failure::Closed => "closed",
            Failure::BadUpgrade => "bad_upgrade",
            Failure::NoSubprotocol => "no_subprotocol",
        }
    }
}

const CAUSES: usize = Failure::ALL.len();

/// Why a WebSocket connection was closed for what it sent after the
/// upgrade (with the close code of RFC 6455 §7.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsRefusal {
    /// A frame or message larger than the packet limit allows (1009).
    TooBig,
    /// A text frame: MQTT travels in binary frames only [MQTT-6.0.0-1] (1003).
    NotBinary,
    /// A client frame without a mask (RFC 6455 §5.1) (1002).
    Unmasked,
    /// Any other breach of RFC 6455: reserved bits or opcodes, a bad
    /// control frame, a continuation out of place (1002).
    Protocol,
}

impl WsRefusal {
    pub const ALL: [WsRefusal; 4] = [
        WsRefusal::TooBig,
        WsRefusal::NotBinary,
        WsRefusal::Unmasked,
        WsRefusal::Protocol,
    ];

    /// The `cause` label.
    pub fn name(self) -> &'static str {
        match self {
            WsRefusal::TooBig => "too_big",
            WsRefusal::NotBinary => "not_binary",
            WsRefusal::Unmasked => "unmasked",
            WsRefusal::Protocol => "protocol",
        }
    }
}

impl std::fmt::Display for WsRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebSocket refused: {}", self.name())
    }
}

/// Carried in the `io::Error` a WebSocket read fails with, so whoever sees
/// the error can count it ([`ListenerMetrics::count_read_error`]).
impl std::error::Error for WsRefusal {}

const WS_CAUSES: usize = WsRefusal::ALL.len();

/// One listener's counters on one shard.
#[derive(Default, Debug)]
pub struct ListenerMetrics {
    pub accepted: Cell<u64>,
    /// Connected clients (a gauge).
    pub connections: Cell<u64>,
    /// TLS handshakes completed.
    pub handshakes: Cell<u64>,
    /// TLS handshakes that waited for the per-shard handshake budget.
    pub handshakes_throttled: Cell<u64>,
    /// WebSocket upgrades completed.
    pub upgrades: Cell<u64>,
    pub failures: [Cell<u64>; CAUSES],
    /// WebSocket connections closed for what they sent, by cause.
    pub ws_refused: [Cell<u64>; WS_CAUSES],
    /// CONNACK 4/5 (0x86/0x87/0x8C) refusals.
    pub auth_failures: Cell<u64>,
    /// PUBLISH, SUBSCRIBE or will refused by the ACL (deliveries are the
    /// session's, not a listener's: `shardmq_acl_denials_total`).
    pub acl_denials: Cell<u64>,
}

/// A sendable copy of [`ListenerMetrics`].
#[derive(Default, Debug, Clone, PartialEq, Eq)]
pub struct ListenerSnapshot {
    pub accepted: u64,
    pub connections: u64,
    pub handshakes: u64,
    pub handshakes_throttled: u64,
    pub upgrades: u64,
    pub failures: [u64; CAUSES],
    pub ws_refused: [u64; WS_CAUSES],
    pub auth_failures: u64,
    pub acl_denials: u64,
}

impl ListenerMetrics {
    pub fn fail(&self, why: Failure) {
        let c = &self.failures[why as usize];
        c.set(c.get() + 1);
    }

    /// Count a read that failed because the transport refused what the
    /// client sent (a WebSocket frame); other errors are not counted here.
    pub fn count_read_error(&self, e: &std::io::Error) {
        if let Some(why) = e.get_ref().and_then(|i| i.downcast_ref::<WsRefusal>()) {
            let c = &self.ws_refused[*why as usize];
            c.set(c.get() + 1);
        }
    }

    pub fn snapshot(&self) -> ListenerSnapshot {
        ListenerSnapshot {
            accepted: self.accepted.get(),
            connections: self.connections.get(),
            handshakes: self.handshakes.get(),
            handshakes_throttled: self.handshakes_throttled.get(),
            upgrades: self.upgrades.get(),
            failures: self.failures.each_ref().map(Cell::get),
            ws_refused: self.ws_refused.each_ref().map(Cell::get),
            auth_failures: self.auth_failures.get(),
            acl_denials: self.acl_denials.get(),
        }
    }
}

impl ListenerSnapshot {
    pub fn merge(&mut self, o: &ListenerSnapshot) {
        self.accepted += o.accepted;
        self.connections += o.connections;
        self.handshakes += o.handshakes;
        self.handshakes_throttled += o.handshakes_throttled;
        self.upgrades += o.upgrades;
        for (a, b) in self.failures.iter_mut().zip(o.failures) {
            *a += b;
        }
        for (a, b) in self.ws_refused.iter_mut().zip(o.ws_refused) {
            *a += b;
        }
        self.auth_failures += o.auth_failures;
        self.acl_denials += o.acl_denials;
    }

    /// (series, help, type, value) of the plain counters.
    pub fn series(&self) -> [(&'static str, &'static str, &'static str, u64); 7] {
        [
            ("shardmq_listener_accepted_total", "Sockets accepted, by listener.", "counter", self.accepted),
            ("shardmq_listener_connections", "Connected clients, by listener.", "gauge", self.connections),
            ("shardmq_listener_tls_handshakes_total", "TLS handshakes completed, by listener.", "counter", self.handshakes),
            ("shardmq_listener_tls_handshakes_throttled_total", "TLS handshakes that waited for the per-shard handshake budget (limits.tls_handshakes_per_second).", "counter", self.handshakes_throttled),
            ("shardmq_listener_websocket_upgrades_total", "WebSocket upgrades completed, by listener.", "counter", self.upgrades),
            ("shardmq_listener_auth_failures_total", "CONNECTs refused for bad credentials or not authorized, by listener.", "counter", self.auth_failures),
            ("shardmq_listener_acl_denials_total", "PUBLISH, SUBSCRIBE or will refused by the ACL, by listener.", "counter", self.acl_denials),
        ]
    }
}

/// Merge per-listener snapshots of one shard into the running totals.
pub fn merge_all(into: &mut Vec<ListenerSnapshot>, from: &[ListenerSnapshot]) {
    if into.len() < from.len() {
        into.resize(from.len(), ListenerSnapshot::default());
    }
    for (a, b) in into.iter_mut().zip(from) {
        a.merge(b);
    }
}

/// Prometheus text of every listener's series, labelled `listener`.
pub fn render(out: &mut String, labels: &[String], snaps: &[ListenerSnapshot]) {
    use std::fmt::Write;
    let zero = ListenerSnapshot::default();
    let at = |i: usize| snaps.get(i).unwrap_or(&zero);
    for (k, (name, help, kind, _)) in zero.series().into_iter().enumerate() {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (i, l) in labels.iter().enumerate() {
            let v = at(i).series()[k].3;
            let _ = writeln!(out, "{name}{{listener=\"{l}\"}} {v}");
        }
    }
    let causes = Failure::ALL.map(Failure::name);
    by_cause(
        out,
        "shardmq_listener_handshake_failures_total",
        "TLS handshakes and WebSocket upgrades that failed, by listener and cause.",
        labels,
        &causes,
        |i| at(i).failures,
    );
    let causes = WsRefusal::ALL.map(WsRefusal::name);
    let help = "WebSocket connections closed for what they sent (oversized, text or \
                unmasked frame, protocol breach), by listener and cause.";
    let name = "shardmq_listener_websocket_refused_total";
    by_cause(out, name, help, labels, &causes, |i| at(i).ws_refused);
}

/// One counter series per listener and cause; `values(i)` are listener
/// `i`'s counts, in the order of `causes`.
fn by_cause<const N: usize>(
    out: &mut String,
    name: &str,
    help: &str,
    labels: &[String],
    causes: &[&str; N],
    values: impl Fn(usize) -> [u64; N],
) {
    use std::fmt::Write;
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
    for (i, l) in labels.iter().enumerate() {
        for (cause, v) in causes.iter().zip(values(i)) {
            let _ = writeln!(out, "{name}{{listener=\"{l}\",cause=\"{cause}\"}} {v}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_merge_and_render_with_labels() {
        let m = ListenerMetrics::default();
        m.accepted.set(3);
        m.fail(Failure::NotTls);
        let refused = std::io::Error::new(std::io::ErrorKind::InvalidData, WsRefusal::TooBig);
        m.count_read_error(&refused);
        m.count_read_error(&std::io::Error::other("not ours"));
        let mut total = Vec::new();
        merge_all(&mut total, &[ListenerSnapshot::default(), m.snapshot()]);
        merge_all(&mut total, &[ListenerSnapshot::default(), m.snapshot()]);
        assert_eq!(total[1].accepted, 6);
        let mut out = String::new();
        render(&mut out, &["tcp:1883".into(), "tls:8883".into()], &total);
        assert!(out.contains("shardmq_listener_accepted_total{listener=\"tls:8883\"} 6"));
        assert!(out.contains("shardmq_listener_accepted_total{listener=\"tcp:1883\"} 0"));
        assert!(out.contains(
            "shardmq_listener_handshake_failures_total{listener=\"tls:8883\",cause=\"not_tls\"} 2"
        ));
        assert!(out.contains(
            "shardmq_listener_websocket_refused_total{listener=\"tls:8883\",cause=\"too_big\"} 2"
        ));
        assert!(out.contains(
            "shardmq_listener_websocket_refused_total{listener=\"tls:8883\",cause=\"protocol\"} 0"
        ));
    }
}
