//! From an accepted socket to the byte stream MQTT runs over: nothing for
//! TCP, a TLS handshake, a WebSocket upgrade. Runs under the connect
//! timeout (the caller's); failures are named for the listener's counters.

use super::ShardListener;
use crate::config::TransportKind;
use crate::metrics::{Failure, ShardMetrics};
use crate::shard::Shard;
use crate::transport::{tls, ws, TcpTransport, Transport};
use glommio::net::TcpStream;
use tracing::debug;

/// An upgraded connection and what its transport says about the client.
pub struct Upgraded {
    pub io: Transport,
    /// The subject CN of the client's certificate, when the listener uses
    /// it as the user name (`use_identity_as_username`).
    pub identity: Option<String>,
}

pub async fn upgrade(
    shard: &Shard,
    l: &ShardListener,
    stream: TcpStream,
) -> Result<Upgraded, Failure> {
    let tcp = TcpTransport::new(stream);
    match l.spec.cfg.transport {
        TransportKind::Tcp => Ok(Upgraded {
            io: Transport::Tcp(tcp),
            identity: None,
        }),
        TransportKind::Tls => {
            let t = handshake(shard, l, tcp).await?;
            let identity = identity(l, &t)?;
            Ok(Upgraded {
                io: Transport::Tls(Box::new(t)),
                identity,
            })
        }
        TransportKind::Ws => Ok(Upgraded {
            io: websocket(shard, l, Transport::Tcp(tcp)).await?,
            identity: None,
        }),
        TransportKind::Wss => {
            let t = handshake(shard, l, tcp).await?;
            let identity = identity(l, &t)?;
            Ok(Upgraded {
                io: websocket(shard, l, Transport::Tls(Box::new(t))).await?,
                identity,
            })
        }
    }
}

/// The HTTP upgrade over `inner` (TCP, or TLS after its handshake).
async fn websocket(
    shard: &Shard,
    l: &ShardListener,
    inner: Transport,
) -> Result<Transport, Failure> {
    let t = ws::accept(inner, &l.spec.cfg, shard.cfg.limits.max_packet_size).await?;
    ShardMetrics::inc(&l.metrics.upgrades);
    Ok(Transport::Ws(Box::new(t)))
}

async fn handshake(
    shard: &Shard,
    l: &ShardListener,
    tcp: TcpTransport,
) -> Result<tls::TlsTransport, Failure> {
    let server = l
        .tls
        .as_ref()
        .expect("a TLS listener has a TLS config")
        .get();
    if shard.handshakes.take().await {
        ShardMetrics::inc(&l.metrics.handshakes_throttled);
    }
    let t = tls::accept(tcp, server.config.clone()).await?;
    ShardMetrics::inc(&l.metrics.handshakes);
    Ok(t)
}

/// The certificate's CN as the user name, if the listener says so. A
/// certificate without a CN cannot name anyone: refused like a bad one.
fn identity(l: &ShardListener, t: &tls::TlsTransport) -> Result<Option<String>, Failure> {
    if !l.spec.cfg.use_identity_as_username {
        return Ok(None);
    }
    match tls::peer_common_name(t.session().state()) {
        Some(cn) => Ok(Some(cn)),
        None => {
            debug!(listener = %l.spec.label, "client certificate has no subject CN: closing");
            Err(Failure::ClientCertificate)
        }
    }
}
