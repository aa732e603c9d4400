//! Listening sockets, one per shard on the same address (`SO_REUSEPORT`), so
//! the kernel spreads accepts over the cores with no acceptor thread.
//! Built here with socket2 so backlog and options are ours; for port 0 the
//! first socket picks the port and the others join it.

use socket2::{Domain, Protocol, Socket, Type};
use std::net::SocketAddr;

/// Bind `n` listeners on `addr`; returns them and the address bound.
/// `sndbuf` (0 = kernel default) caps the kernel send buffer that accepted
/// sockets inherit: without a cap one slow subscriber may pin MiBs of kernel
/// memory (the default autotunes up to `tcp_wmem` max).
pub fn bind_all(
    addr: SocketAddr,
    n: usize,
    backlog: i32,
    sndbuf: usize,
) -> Result<(Vec<Socket>, SocketAddr), String> {
    probe(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let mut socks = Vec::with_capacity(n);
    let mut bound = addr;
    for _ in 0..n {
        let s = bind_one(bound, backlog, sndbuf)
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        if bound.port() == 0 {
            bound = s
                .local_addr()
                .ok()
                .and_then(|a| a.as_socket())
                .ok_or("cannot read the bound address")?;
        }
        socks.push(s);
    }
    Ok((socks, bound))
}

/// SO_REUSEPORT would let us join another process's listener on the same
/// port (same user) and silently share its traffic. A plain bind first
/// refuses with "address in use" when anything already listens there.
fn probe(addr: SocketAddr) -> std::io::Result<()> {
    if addr.port() == 0 {
        return Ok(());
    }
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    s.set_reuse_address(true)?;
    s.bind(&addr.into())
}

fn bind_one(addr: SocketAddr, backlog: i32, sndbuf: usize) -> std::io::Result<Socket> {
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    s.set_reuse_address(true)?;
    s.set_reuse_port(true)?;
    // Accepted sockets inherit this: MQTT packets are small and latency matters.
    s.set_nodelay(true)?;
    if sndbuf > 0 {
        s.set_send_buffer_size(sndbuf)?;
    }
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    s.listen(backlog)?;
    Ok(s)
}
