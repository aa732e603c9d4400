//! One typed configuration: TOML file, then command-line overrides,
//! validated once at start.

mod listeners;

pub use listeners::{ListenerConfig, TransportKind};

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the broker listens when nothing says otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:1883";

/// The whole broker configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// One MQTT over TCP listener, the one-line way (`--listen`). With
    /// neither this nor `listeners`, 127.0.0.1:1883.
    pub listen: Option<SocketAddr>,
    /// Listeners of every transport (`[[listeners]]`).
    pub listeners: Vec<ListenerConfig>,
    /// Number of shards; 0 = one per CPU available to the process.
    pub shards: usize,
    /// `RUST_LOG`-style filter; the `RUST_LOG` environment variable wins.
    pub log: String,
    /// Log lines as text (colours on a terminal only) or JSON, one object
    /// per line (`--log-format`).
    pub log_format: LogFormat,
    /// Serve Prometheus `GET /metrics` here (off when absent).
    pub metrics_listen: Option<SocketAddr>,
    /// Seconds between `$SYS/broker/...` updates; 0 turns them off.
    pub sys_interval: f64,
    pub limits: Limits,
    pub auth: AuthConfig,
    pub tuning: Tuning,
    pub persistence: Persistence,
}

/// The durable log (docs/persistence.md): off without `dir`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Persistence {
    /// Data directory (`--data-dir`); absent: sessions live in memory only.
    pub dir: Option<PathBuf>,
    /// When the log is flushed to disk, and so what a crash can lose.
    pub fsync: FsyncPolicy,
    /// Seconds between fsyncs with `fsync = "interval"`.
    pub fsync_interval: f64,
    /// Bytes the log may take on disk; 0: no limit. Above it new QoS 1/2
    /// messages for persistent sessions are refused until compaction frees
    /// space.
    pub max_disk_bytes: u64,
    /// A segment is compacted once it is larger than this and twice the
    /// last snapshot.
    pub compact_min_bytes: u64,
}

/// When the durable log is fsynced (docs/persistence.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FsyncPolicy {
    /// Before every acknowledgement (group commit): nothing acknowledged
    /// is lost, even on power loss.
    Always,
    /// Every `fsync_interval`: a power loss loses at most that much.
    Interval,
    /// Never: the operating system writes back when it chooses.
    Never,
}

impl Default for Persistence {
    fn default() -> Self {
        Persistence {
            dir: None,
            fsync: FsyncPolicy::Interval,
            fsync_interval: 1.0,
            max_disk_bytes: 0,
            compact_min_bytes: 64 << 20,
        }
    }
}

/// Protocol and resource limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Seconds a new socket has to deliver a complete CONNECT.
    pub connect_timeout: f64,
    /// Largest packet accepted, in bytes; larger closes the connection.
    pub max_packet_size: usize,
    /// QoS 1/2 messages in flight to one client at a time.
    pub max_inflight: u16,
    /// Messages queued per session (offline, or beyond the in-flight window).
    pub max_queued_messages: usize,
    /// Queue QoS 0 messages for offline persistent sessions too.
    pub queue_qos0: bool,
    /// What a full session queue does with one more message.
    pub queue_overflow: QueueOverflow,
    /// Seconds a session that holds publishers back may go without
    /// acknowledging anything before it stops holding them back
    /// (`queue_overflow = "backpressure"`, docs/backpressure.md).
    pub stall_timeout: f64,
    /// MQTT 3.1/3.1.1: seconds an offline persistent session is kept; 0 =
    /// forever (the MQTT 3.1.1 rule). Counted from the moment its
    /// connection ended, rounded up to whole seconds. MQTT 5 sessions use
    /// their own interval, capped by `session_expiry_max`.
    pub session_expiry: f64,
    /// Connections over all shards; 0 = unlimited. Beyond it: CONNACK 3.
    pub max_connections: usize,
    /// Filters per session; 0 = unlimited. Beyond it: SUBACK 0x80.
    pub max_subscriptions_per_session: usize,
    /// Bytes waiting to be written to one client; QoS 0 is dropped beyond it.
    pub max_outbound_bytes: usize,
    /// MQTT 5: the longest keep alive a client may use, seconds; 0 = no
    /// limit. A longer one (or 0) is replaced by this, told in the CONNACK.
    pub max_keepalive: u16,
    /// MQTT 5 Receive Maximum of the broker: unacknowledged QoS 2 PUBLISHes
    /// (PUBREC sent, no PUBREL yet) a v5 client may have; beyond it,
    /// DISCONNECT 0x93 [MQTT-3.3.4-8].
    pub receive_maximum: u16,
    /// MQTT 5 topic aliases a client may set towards the broker (0 = none).
    pub topic_alias_maximum: u16,
    /// Assign topic aliases towards v5 clients that allow them.
    pub outbound_topic_aliases: bool,
    /// MQTT 5: cap on the Session Expiry Interval a client asks for,
    /// seconds; 4294967295 = no cap (a session may live forever).
    pub session_expiry_max: u32,
    /// Which member of a shared subscription group gets a message.
    pub shared_subscription_strategy: SharedStrategy,
    /// TLS handshakes each shard may start per second (0 = unlimited);
    /// more wait their turn within the connect timeout.
    pub tls_handshakes_per_second: u32,
}

/// How a shared subscription group's member is chosen per message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SharedStrategy {
    /// Each member in turn.
    #[default]
    RoundRobin,
    /// A member at random.
    Random,
    /// By the publisher's client ID: one publisher, one member, while the
    /// group's membership stays the same.
    Sticky,
}

/// How log lines are written on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Overflow policy of a session queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueOverflow {
    /// Refuse the new message (counted as dropped).
    DropNew,
    /// Drop the oldest queued message to make room (counted as dropped).
    DropOldest,
    /// Hold the publishers back while a connected subscriber's queue is
    /// full, instead of dropping (docs/backpressure.md). Offline and
    /// stalled sessions drop new messages.
    Backpressure,
}

/// Authentication settings (docs/security.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Accept clients that send no user name.
    pub allow_anonymous: bool,
    /// `user:hash` lines (argon2id, or Mosquitto's `$6$`/`$7$`), written by
    /// `shardmq passwd`; re-read on SIGHUP.
    pub password_file: Option<PathBuf>,
    /// Seconds a successful password check is remembered per shard, so a
    /// reconnecting client skips the hash; 0 = always hash.
    pub cache_ttl: f64,
    /// The clear-text `[auth.users]` table of earlier versions: only kept
    /// to refuse it with a message that says what to do instead.
    #[serde(rename = "users")]
    pub clear_text_users: Option<toml::Table>,
    /// Mosquitto-style ACL file (`topic`, `user`, `pattern` lines); when
    /// set, whatever it does not grant is denied. Re-read on SIGHUP.
    pub acl_file: Option<PathBuf>,
}

/// Runtime knobs; the defaults follow the measurements in docs/architecture.md.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tuning {
    /// io_uring ring depth per executor (deep rings keep idle polls cheap).
    pub ring_depth: usize,
    /// glommio io_memory per executor, bytes.
    pub io_memory: usize,
    /// Listen backlog.
    pub backlog: i32,
    /// Capacity, in batches, of each shard-to-shard data channel.
    pub mesh_data_capacity: usize,
    /// Capacity of each shard-to-shard control channel.
    pub mesh_control_capacity: usize,
    /// Messages waiting for one peer shard before publishers are paused.
    pub mesh_outbox_limit: usize,
    /// Kernel send buffer per client socket, bytes (0 = kernel default).
    pub socket_send_buffer: usize,
    /// Seconds without traffic after which a connection is parked: its task
    /// and io_uring state are freed and a per-shard epoll set watches the
    /// socket instead (0 = never park). See docs/architecture.md.
    pub park_after: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: None,
            listeners: Vec::new(),
            shards: 0,
            log: "info".into(),
            log_format: LogFormat::Text,
            metrics_listen: None,
            sys_interval: 10.0,
            limits: Limits::default(),
            auth: AuthConfig::default(),
            tuning: Tuning::default(),
            persistence: Persistence::default(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connect_timeout: 10.0,
            max_packet_size: 1 << 20,
            max_inflight: 20,
            max_queued_messages: 1000,
            queue_qos0: false,
            queue_overflow: QueueOverflow::Backpressure,
            stall_timeout: 3.0,
            session_expiry: 0.0,
            max_connections: 0,
            max_subscriptions_per_session: 0,
            max_outbound_bytes: 1 << 20,
            max_keepalive: 0,
            receive_maximum: 65535,
            topic_alias_maximum: 10,
            outbound_topic_aliases: true,
            session_expiry_max: u32::MAX,
            shared_subscription_strategy: SharedStrategy::RoundRobin,
            tls_handshakes_per_second: 1000,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            allow_anonymous: true,
            password_file: None,
            cache_ttl: 300.0,
            clear_text_users: None,
            acl_file: None,
        }
    }
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            ring_depth: 4096,
            io_memory: 64 << 10,
            backlog: 4096,
            mesh_data_capacity: 256,
            mesh_control_capacity: 1024,
            mesh_outbox_limit: 65536,
            socket_send_buffer: 0,
            park_after: 5.0,
        }
    }
}

impl Config {
    /// Read a TOML file.
    pub fn from_file(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("invalid config {}: {e}", path.display()))
    }

    /// Every listener: `listen` first, then `[[listeners]]`; the default
    /// TCP listener when neither is set.
    pub fn all_listeners(&self) -> Vec<ListenerConfig> {
        let mut all: Vec<ListenerConfig> =
            self.listen.map(ListenerConfig::tcp).into_iter().collect();
        all.extend(self.listeners.iter().cloned());
        if all.is_empty() {
            all.push(ListenerConfig::tcp(DEFAULT_LISTEN.parse().unwrap()));
        }
        all
    }

    /// Check every value; the broker refuses to start if any is bad, and
    /// names them all.
    pub fn validate(&self) -> Result<(), String> {
        match self.problems() {
            p if p.is_empty() => Ok(()),
            p => Err(p.join("; ")),
        }
    }

    /// Every bad value and every pair of options that do not fit, one
    /// sentence each (`shardmq check-config` prints them all).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut bad = |wrong: bool, why: &str| {
            if wrong {
                out.push(why.to_string());
            }
        };
        let all = self.all_listeners();
        bad(all.len() > 255, "at most 255 listeners");
        let l = &self.limits;
        bad(
            !(l.connect_timeout > 0.0 && l.connect_timeout.is_finite()),
            "limits.connect_timeout must be a positive number of seconds",
        );
        // 2 bytes of fixed header is the smallest packet; 268,435,460 the largest MQTT allows.
        bad(
            l.max_packet_size < 2 || l.max_packet_size > 268_435_460,
            "limits.max_packet_size must be between 2 and 268435460",
        );
        bad(
            !(l.session_expiry >= 0.0 && l.session_expiry.is_finite()),
            "limits.session_expiry must be a number of seconds, 0 for never",
        );
        bad(
            l.receive_maximum == 0,
            "limits.receive_maximum must be between 1 and 65535",
        );
        bad(
            !(l.stall_timeout > 0.0 && l.stall_timeout < 4e6),
            "limits.stall_timeout must be a positive number of seconds",
        );
        bad(
            l.max_inflight == 0,
            "limits.max_inflight must be at least 1",
        );
        let p = &self.persistence;
        bad(
            !(p.fsync_interval > 0.0 && p.fsync_interval < 4e6),
            "persistence.fsync_interval must be a positive number of seconds",
        );
        let t = &self.tuning;
        bad(
            !(t.park_after >= 0.0 && t.park_after < 4e6),
            "tuning.park_after must be a number of seconds, 0 for never",
        );
        bad(
            t.ring_depth < 8 || !t.ring_depth.is_power_of_two(),
            "tuning.ring_depth must be a power of two, at least 8",
        );
        bad(
            t.mesh_data_capacity == 0 || t.mesh_control_capacity == 0,
            "tuning.mesh_*_capacity must be at least 1",
        );
        bad(
            !(self.sys_interval >= 0.0 && self.sys_interval.is_finite()),
            "sys_interval must be a number of seconds, 0 to turn $SYS off",
        );
        bad(
            self.auth.clear_text_users.is_some(),
            "[auth.users] (clear-text passwords) is no longer read: put the users \
             in a password file with `shardmq passwd -c FILE USER` (or use a \
             Mosquitto password file as it is) and set auth.password_file = \"FILE\"",
        );
        bad(
            !(0.0..4e6).contains(&self.auth.cache_ttl),
            "auth.cache_ttl must be a number of seconds, 0 to turn the cache off",
        );
        bad(self.shards > 1024, "shards must be at most 1024");
        for (i, l) in all.iter().enumerate() {
            out.extend(l.problems());
            if l.bind.port() != 0 && all[..i].iter().any(|o| o.bind == l.bind) {
                out.push(format!("two listeners on {}", l.bind));
            }
        }
        out
    }

    /// `limits.stall_timeout` in milliseconds.
    pub fn stall_timeout_ms(&self) -> u64 {
        (self.limits.stall_timeout * 1000.0) as u64
    }

    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.limits.connect_timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let c = Config::default();
        c.validate().unwrap();
        let l = c.all_listeners();
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].bind.to_string(), "127.0.0.1:1883");
        assert_eq!(l[0].transport, TransportKind::Tcp);
        assert_eq!(c.limits.max_queued_messages, 1000);
        assert!(!c.limits.queue_qos0);
    }

    #[test]
    fn parses_every_section() {
        let c: Config = toml::from_str(
            r#"
            listen = "127.0.0.1:0"
            shards = 2
            [limits]
            connect_timeout = 0.5
            queue_overflow = "drop_oldest"
            shared_subscription_strategy = "sticky"
            [auth]
            allow_anonymous = false
            password_file = "/etc/shardmq/passwd"
            cache_ttl = 0
            acl_file = "/etc/shardmq/acl"
            "#,
        )
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.shards, 2);
        assert_eq!(c.limits.queue_overflow, QueueOverflow::DropOldest);
        assert_eq!(
            c.limits.shared_subscription_strategy,
            SharedStrategy::Sticky
        );
        assert_eq!(c.auth.password_file, Some("/etc/shardmq/passwd".into()));
        assert_eq!(c.auth.cache_ttl, 0.0);
        assert_eq!(
            c.auth.acl_file.as_deref(),
            Some(Path::new("/etc/shardmq/acl"))
        );
        assert_eq!(c.connect_timeout(), Duration::from_millis(500));
    }

    #[test]
    fn listeners_of_every_transport() {
        let c: Config = toml::from_str(
            r#"
            listen = "127.0.0.1:1883"
            [[listeners]]
            bind = "127.0.0.1:8883"
            transport = "tls"
            certfile = "server.pem"
            keyfile = "server.key"
            cafile = "ca.pem"
            require_certificate = true
            use_identity_as_username = true
            [[listeners]]
            bind = "127.0.0.1:8083"
            transport = "ws"
            "#,
        )
        .unwrap();
        c.validate().unwrap();
        let l = c.all_listeners();
        let kinds: Vec<_> = l.iter().map(|l| l.transport).collect();
        use TransportKind::*;
        assert_eq!(kinds, [Tcp, Tls, Ws]);
        assert_eq!(l[2].path, "/mqtt");
        assert_eq!(l[1].label(), "tls:8883");
    }

    #[test]
    fn listener_options_that_do_not_fit() {
        let bad = [
            "bind = \"127.0.0.1:1\"\ntransport = \"tls\"",
            "bind = \"127.0.0.1:1\"\ncertfile = \"a\"",
            "bind = \"127.0.0.1:1\"\ntransport = \"wss\"\ncertfile = \"a\"\nkeyfile = \"b\"\nrequire_certificate = true",
            "bind = \"127.0.0.1:1\"\ntransport = \"ws\"\npath = \"mqtt\"",
        ];
        for b in bad {
            let c: Config = toml::from_str(&format!("[[listeners]]\n{b}")).unwrap();
            assert!(c.validate().is_err(), "{b}");
        }
        let twice = "listen = \"127.0.0.1:7\"\n[[listeners]]\nbind = \"127.0.0.1:7\"";
        assert!(toml::from_str::<Config>(twice).unwrap().validate().is_err());
    }

    #[test]
    fn rejects_unknown_keys_and_bad_values() {
        assert!(toml::from_str::<Config>("listne = \"x\"").is_err());
        let mut c = Config::default();
        c.limits.connect_timeout = 0.0;
        assert!(c.validate().is_err());
        c = Config::default();
        c.tuning.ring_depth = 1000;
        assert!(c.validate().is_err());
    }

    #[test]
    fn clear_text_users_are_refused_with_what_to_do() {
        let c: Config = toml::from_str("[auth.users]\nalice = \"secret\"").unwrap();
        let e = c.validate().unwrap_err();
        assert!(
            e.contains("shardmq passwd") && e.contains("password_file"),
            "{e}"
        );
    }
}
