//! Listeners: every `[[listeners]]` entry (and `listen`), served by every
//! shard. Each shard has its own socket per listener on the same address
//! (`SO_REUSEPORT`, `bind.rs`), so the kernel spreads accepts over the
//! cores with no acceptor thread. An accepted socket is upgraded to its
//! listener's transport (`upgrade.rs`: TLS handshake, WebSocket upgrade)
//! inside the connect timeout, then read for its CONNECT like any other;
//! from there on a connection does not care what it came in on.

mod accept;
mod bind;
mod upgrade;

pub use accept::accept_loop;
pub use upgrade::{upgrade, Upgraded};

use crate::config::{Config, ListenerConfig};
use crate::metrics::ListenerMetrics;
use crate::reload::{Hooks, Local, Reloadable};
use crate::transport::tls::{self, TlsServer};
use socket2::Socket;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// One configured listener, shared by all shards.
pub struct Spec {
    pub cfg: ListenerConfig,
    /// `transport:port`, in logs and metric labels.
    pub label: String,
    /// The address bound (port 0 resolved).
    pub bound: SocketAddr,
    /// The TLS configuration in force (tls, wss), swapped on SIGHUP.
    pub tls: Option<Arc<Reloadable<TlsServer>>>,
    /// Connected clients on this listener over all shards, for its
    /// `max_connections` (touched per connection, never per message).
    connections: AtomicUsize,
}

impl Spec {
    /// Count one more client unless the listener is full.
    pub fn try_add_connection(&self) -> bool {
        crate::shard::try_count(&self.connections, self.cfg.max_connections)
    }

    pub fn remove_connection(&self) {
        self.connections.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A listener as one shard serves it.
pub struct ShardListener {
    pub spec: Arc<Spec>,
    pub tls: Option<Local<TlsServer>>,
    pub metrics: ListenerMetrics,
}

impl ShardListener {
    pub fn new(spec: Arc<Spec>) -> ShardListener {
        ShardListener {
            tls: spec.tls.clone().map(Local::new),
            spec,
            metrics: ListenerMetrics::default(),
        }
    }
}

/// One listener's sockets, one per shard.
pub type ShardSockets = Vec<Socket>;

/// Every listener bound, `n` sockets each (one per shard), its TLS files
/// read; SIGHUP re-reads them (`hooks`). Errors name the listener and the
/// file at fault.
pub fn open_all(
    cfg: &Config,
    n: usize,
    hooks: &mut Hooks,
) -> Result<(Vec<Arc<Spec>>, Vec<ShardSockets>), String> {
    let mut specs = Vec::new();
    let mut sockets = Vec::new();
    for l in cfg.all_listeners() {
        let tls = match l.transport.uses_tls() {
            true => Some(Arc::new(Reloadable::new(tls::server_config(&l)?))),
            false => None,
        };
        let (socks, bound) =
            bind::bind_all(l.bind, n, cfg.tuning.backlog, cfg.tuning.socket_send_buffer)?;
        let label = format!("{}:{}", l.transport.name(), bound.port());
        if let Some(t) = &tls {
            let (t, l) = (t.clone(), l.clone());
            hooks.add(format!("certificates of listener {label}"), move || {
                t.replace(tls::server_config(&l)?);
                Ok(())
            });
        }
        specs.push(Arc::new(Spec {
            cfg: l,
            label,
            bound,
            tls,
            connections: AtomicUsize::new(0),
        }));
        sockets.push(socks);
    }
    Ok((specs, sockets))
}
