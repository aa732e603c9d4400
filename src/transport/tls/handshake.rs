//! The server side of a TLS handshake, and the per-shard budget that
//! bounds how much CPU handshakes may take.
//!
//! A handshake is CPU work on the shard (key exchange, a signature:
//! docs/benchmarks.md has the cost per certificate type); a flood of new
//! TLS connections must not starve the clients already connected. Each
//! shard lets at most `limits.tls_handshakes_per_second` start per second
//! (a token bucket with one second of burst); the rest wait their turn,
//! within the connect timeout.

use super::{TlsSession, TlsTransport};
use crate::metrics::Failure;
use crate::transport::TcpTransport;
use rustls::{Error, ServerConfig};
use std::cell::Cell;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

/// Run the handshake on an accepted socket. Application data the client
/// sent with its last flight (a CONNECT) stays in the session for the
/// first read.
pub async fn accept(tcp: TcpTransport, config: Arc<ServerConfig>) -> Result<TlsTransport, Failure> {
    let s = TlsSession::new(config).map_err(|_| Failure::TlsProtocol)?;
    let mut t = TlsTransport::new(tcp, s);
    let mut heard = false;
    poll_fn(|cx| poll_handshake(&mut t, cx, &mut heard)).await?;
    Ok(t)
}

fn poll_handshake(
    t: &mut TlsTransport,
    cx: &mut Context<'_>,
    heard: &mut bool,
) -> Poll<Result<(), Failure>> {
    loop {
        ready!(t.poll_send(cx)).map_err(|_| Failure::Closed)?;
        if t.s.established {
            return Poll::Ready(Ok(()));
        }
        let mut none = [0u8; 0];
        let mut filled = 0;
        match ready!(t.poll_recv(cx, &mut none, &mut filled)) {
            Ok(false) => return Poll::Ready(Err(Failure::Closed)),
            Ok(true) => *heard = true,
            Err(e) => {
                let _ = t.poll_send(cx); // the alert, best effort
                return Poll::Ready(Err(classify(&e, *heard)));
            }
        }
        if t.s.peer_closed {
            return Poll::Ready(Err(Failure::Closed));
        }
    }
}

/// Name the cause of a failed handshake for the counters and the log.
fn classify(e: &std::io::Error, heard_tls: bool) -> Failure {
    let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<Error>()) else {
        return Failure::Closed;
    };
    match tls {
        Error::InvalidCertificate(_) | Error::NoCertificatesPresented => Failure::ClientCertificate,
        Error::AlertReceived(_) => Failure::PeerAlert,
        // The very first bytes are not a TLS record: plain MQTT, HTTP, noise.
        Error::InvalidMessage(_) if !heard_tls => Failure::NotTls,
        _ => Failure::TlsProtocol,
    }
}

/// Handshakes one shard may start: a token bucket refilled at `rate` per
/// second, holding at most one second's worth. 0 = unlimited.
pub struct HandshakeBudget {
    rate: f64,
    tokens: Cell<f64>,
    at: Cell<Instant>,
}

impl HandshakeBudget {
    pub fn new(rate: u32) -> HandshakeBudget {
        HandshakeBudget {
            rate: rate as f64,
            tokens: Cell::new(rate as f64),
            at: Cell::new(Instant::now()),
        }
    }

    /// Take a token now, or say how long until one is there.
    pub fn try_take(&self, now: Instant) -> Result<(), Duration> {
        if self.rate == 0.0 {
            return Ok(());
        }
        let since = now.saturating_duration_since(self.at.get()).as_secs_f64();
        let tokens = (self.tokens.get() + since * self.rate).min(self.rate);
        self.at.set(now);
        if tokens >= 1.0 {
            self.tokens.set(tokens - 1.0);
            Ok(())
        } else {
            self.tokens.set(tokens);
            Err(Duration::from_secs_f64((1.0 - tokens) / self.rate))
        }
    }

    /// Wait for a token. True if it had to wait.
    pub async fn take(&self) -> bool {
        let mut waited = false;
        while let Err(wait) = self.try_take(Instant::now()) {
            waited = true;
            glommio::timer::sleep(wait).await;
        }
        waited
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_allows_a_burst_then_the_rate() {
        let b = HandshakeBudget::new(10);
        let t0 = Instant::now();
        for _ in 0..10 {
            assert!(b.try_take(t0).is_ok());
        }
        let wait = b.try_take(t0).unwrap_err();
        assert!(wait <= Duration::from_millis(100) && wait > Duration::ZERO);
        assert!(b.try_take(t0 + Duration::from_millis(100)).is_ok());
        assert!(b.try_take(t0 + Duration::from_millis(100)).is_err());
        // Idle for long: still one second's worth, not more.
        let later = t0 + Duration::from_secs(60);
        for _ in 0..10 {
            assert!(b.try_take(later).is_ok());
        }
        assert!(b.try_take(later).is_err());
    }

    #[test]
    fn zero_means_unlimited() {
        let b = HandshakeBudget::new(0);
        for _ in 0..1000 {
            assert!(b.try_take(Instant::now()).is_ok());
        }
    }
}
