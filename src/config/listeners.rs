//! `[[listeners]]`: where the broker accepts clients and over what. Option
//! names follow Mosquitto's (`certfile`, `keyfile`, `cafile`,
//! `require_certificate`, `use_identity_as_username`) so its users
//! recognise them.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The byte stream a listener speaks under MQTT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    #[default]
    Tcp,
    /// TLS 1.2/1.3 (rustls).
    Tls,
    /// MQTT over WebSocket (RFC 6455), binary frames.
    Ws,
    /// MQTT over WebSocket over TLS.
    Wss,
}

impl TransportKind {
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::Tcp => "tcp",
            TransportKind::Tls => "tls",
            TransportKind::Ws => "ws",
            TransportKind::Wss => "wss",
        }
    }

    pub fn uses_tls(self) -> bool {
        matches!(self, TransportKind::Tls | TransportKind::Wss)
    }

    pub fn uses_websocket(self) -> bool {
        matches!(self, TransportKind::Ws | TransportKind::Wss)
    }
}

/// One `[[listeners]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerConfig {
    pub bind: SocketAddr,
    #[serde(default)]
    pub transport: TransportKind,
    /// PEM certificate chain, leaf first (tls, wss).
    pub certfile: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of the leaf certificate.
    pub keyfile: Option<PathBuf>,
    /// PEM CA bundle that client certificates are checked against; without
    /// it clients are not asked for a certificate.
    pub cafile: Option<PathBuf>,
    /// Refuse TLS clients without a valid certificate (needs `cafile`).
    #[serde(default)]
    pub require_certificate: bool,
    /// The client certificate's subject CN is the user name for
    /// authentication and ACLs; the password is not checked.
    #[serde(default)]
    pub use_identity_as_username: bool,
    /// WebSocket upgrade path (ws, wss).
    #[serde(default = "default_path")]
    pub path: String,
    /// WebSocket: allowed `Origin` headers; empty = any (and none).
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Connections on this listener over all shards; 0 = unlimited.
    #[serde(default)]
    pub max_connections: usize,
}

fn default_path() -> String {
    "/mqtt".into()
}

impl ListenerConfig {
    /// A plain TCP listener (`listen = ...`, `--listen`).
    pub fn tcp(bind: SocketAddr) -> ListenerConfig {
        ListenerConfig {
            bind,
            transport: TransportKind::Tcp,
            certfile: None,
            keyfile: None,
            cafile: None,
            require_certificate: false,
            use_identity_as_username: false,
            path: default_path(),
            allowed_origins: Vec::new(),
            max_connections: 0,
        }
    }

    /// How the listener is named in logs and metric labels.
    pub fn label(&self) -> String {
        format!("{}:{}", self.transport.name(), self.bind.port())
    }

    /// Options that only make sense together, each problem named.
    pub fn problems(&self) -> Vec<String> {
        let at = format!("listener {} ({})", self.bind, self.transport.name());
        let tls = self.transport.uses_tls();
        let tls_only = self.certfile.is_some()
            || self.keyfile.is_some()
            || self.cafile.is_some()
            || self.require_certificate
            || self.use_identity_as_username;
        let needs_ca = self.require_certificate || self.use_identity_as_username;
        [
            (
                tls && (self.certfile.is_none() || self.keyfile.is_none()),
                "certfile and keyfile are required",
            ),
            (
                !tls && tls_only,
                "certfile/keyfile/cafile/require_certificate/use_identity_as_username \
                 need transport = \"tls\" or \"wss\"",
            ),
            (
                needs_ca && self.cafile.is_none(),
                "require_certificate and use_identity_as_username need a cafile",
            ),
            (
                self.use_identity_as_username && !self.require_certificate,
                "use_identity_as_username needs require_certificate = true",
            ),
            (
                self.transport.uses_websocket() && !self.path.starts_with('/'),
                "path must start with '/'",
            ),
        ]
        .into_iter()
        .filter(|(wrong, _)| *wrong)
        .map(|(_, why)| format!("{at}: {why}"))
        .collect()
    }
}
