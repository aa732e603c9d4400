//! A connection's byte stream: plain TCP or TLS over it. An enum rather
//! than a trait object, so the TCP path costs one branch per I/O call and
//! nothing else; the TLS state is boxed once per connection, which keeps
//! the plain variant (and 20k idle TCP connections) small.

use crate::config::Config;
use futures_lite::{AsyncRead, AsyncWrite};
use futures_rustls::client::TlsStream;
use futures_rustls::TlsConnector;
use glommio::net::TcpStream;
use std::cell::{Cell, RefCell};
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

pub enum Stream {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// Connect (from `source` if given) and, with `--tls`, do the TLS
/// handshake. `stage` names what is being waited for, for the timeout's
/// message.
pub async fn open(
    cfg: &Config,
    source: Option<IpAddr>,
    stage: &Cell<&'static str>,
) -> Result<Stream, String> {
    let tcp = super::connect(cfg.addr, source).map_err(|e| format!("connect: {e}"))?;
    let Some(tls) = &cfg.tls else {
        return Ok(Stream::Tcp(tcp));
    };
    // The ClientHello is the first write, so this also waits for the TCP
    // handshake (see `connect`).
    stage.set("TLS handshake");
    let tls = TlsConnector::from(tls.config.clone())
        .connect(tls.server_name.clone(), tcp)
        .await
        .map_err(|e| format!("TLS handshake: {e}"))?;
    Ok(Stream::Tls(Box::new(tls)))
}

impl AsyncRead for Stream {
    #[inline]
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(&mut **s).poll_read(cx, buf),
        }
    }
}

/// A write may leave TLS records inside rustls when the socket is full:
/// writers flush after `write_all` (a no-op for TCP).
impl AsyncWrite for Stream {
    #[inline]
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(&mut **s).poll_write(cx, buf),
        }
    }
    #[inline]
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(&mut **s).poll_flush(cx),
        }
    }
    /// TLS: close_notify, then the TCP write side.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_close(cx),
            Stream::Tls(s) => Pin::new(&mut **s).poll_close(cx),
        }
    }
}

/// One connection's stream seen by its reader and its writer, which run as
/// two futures of the same task. The `RefCell` is only borrowed inside a
/// single `poll`, never across an await, so the two cannot collide. Over
/// TCP glommio keeps separate wakers for the read and the write side; over
/// TLS a read may also write (and the other way round), which is fine as
/// both halves are woken through the one task.
#[derive(Clone, Copy)]
pub struct Half<'a>(pub &'a RefCell<Stream>);

impl AsyncRead for Half<'_> {
    #[inline]
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0.borrow_mut()).poll_read(cx, buf)
    }
}

impl AsyncWrite for Half<'_> {
    #[inline]
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0.borrow_mut()).poll_write(cx, buf)
    }
    #[inline]
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0.borrow_mut()).poll_flush(cx)
    }
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0.borrow_mut()).poll_close(cx)
    }
}
