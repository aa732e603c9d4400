//! `GET /metrics` over plain HTTP/1.1 on its own thread. Shards are never
//! involved in a scrape (they post to the board), so a slow or broken
//! scraper can stall at most this thread, and only for its timeouts.

use super::board::Board;
use super::prometheus;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;
use tracing::debug;

const MAX_HEAD: usize = 8 * 1024;
const IO_TIMEOUT: Duration = Duration::from_secs(2);

/// Bind now (so errors surface at start), serve on a new thread.
pub fn spawn(addr: SocketAddr, board: Arc<Board>) -> Result<SocketAddr, String> {
    let l =
        TcpListener::bind(addr).map_err(|e| format!("cannot listen for metrics on {addr}: {e}"))?;
    let bound = l.local_addr().map_err(|e| e.to_string())?;
    std::thread::Builder::new()
        .name("metrics-http".into())
        .spawn(move || {
            for s in l.incoming().flatten() {
                if let Err(e) = serve(s, &board) {
                    debug!(error = %e, "metrics request failed");
                }
            }
        })
        .map_err(|e| e.to_string())?;
    Ok(bound)
}

fn serve(mut s: TcpStream, board: &Board) -> io::Result<()> {
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    let head = read_head(&mut s)?;
    let line = head.lines().next().unwrap_or("");
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    // Any body is ignored: we answer and close.
    let (status, body) = match (method, path.split('?').next().unwrap_or("")) {
        ("GET", "/metrics") => (
            "200 OK",
            prometheus::render(&board.merged(), board.started.elapsed().as_secs_f64()),
        ),
        ("GET", _) => ("404 Not Found", "not found\n".to_string()),
        _ => ("405 Method Not Allowed", "only GET\n".to_string()),
    };
    let ctype = "text/plain; version=0.0.4; charset=utf-8";
    write!(s, "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())?;
    s.write_all(body.as_bytes())?;
    s.flush()
}

/// Read up to the end of the request head (bounded in size and time).
fn read_head(s: &mut TcpStream) -> io::Result<String> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too large",
            ));
        }
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}
