//! One shard's accept loop for one listener.

use crate::connection;
use crate::metrics::ShardMetrics;
use crate::shard::Shard;
use glommio::net::TcpListener;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tracing::warn;

pub async fn accept_loop(shard: Rc<Shard>, listener: u8, socket: TcpListener) {
    loop {
        match socket.accept().await {
            Ok(stream) => {
                ShardMetrics::inc(&shard.metrics.accepted);
                ShardMetrics::inc(&shard.listeners[listener as usize].metrics.accepted);
                let conn =
                    connection::serve_accepted(shard.clone(), stream, listener, Instant::now());
                crate::shard::spawn_guarded(&shard, conn);
            }
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                warn!(shard = shard.id, error = %e, "accept failed");
                glommio::timer::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
