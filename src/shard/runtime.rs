//! Starting the shards, checking that every one of them really started,
//! and stopping them on SIGINT/SIGTERM.

use super::state::Shard;
use super::{tasks, Global};
use crate::auth::acl::{self, Acl};
use crate::auth::AuthSetup;
use crate::config::Config;
use crate::listener::{self, ShardListener, Spec};
use crate::metrics::Board;
use crate::plane::mesh::{self, MeshEnds};
use crate::reload::Reloadable;
use glommio::net::TcpListener;
use glommio::{LocalExecutorBuilder, Placement};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};
use std::rc::Rc;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{debug, info};

/// Everything a shard needs, moved to its executor thread.
struct ShardInit {
    id: usize,
    count: usize,
    cfg: Arc<Config>,
    auth: AuthSetup,
    acl: Option<Arc<Reloadable<Acl>>>,
    global: Arc<Global>,
    board: Arc<Board>,
    ends: MeshEnds,
    /// Every listener, and this shard's socket for each (closed if the
    /// shard dies before it listens).
    listeners: Vec<(Arc<Spec>, OwnedFd)>,
    /// The durable log's start, with persistence on.
    persist: Option<crate::persist::recover::ShardStart>,
    /// Shards still installing their recovered state (see `persist::start::gate`).
    installing: Arc<std::sync::atomic::AtomicUsize>,
    ready: ReadyGuard,
}

/// Reports a shard's start-up. If the executor dies before the shard said it
/// is ready (memlock, CPU placement …), dropping the guard reports that.
struct ReadyGuard {
    tx: mpsc::Sender<Result<usize, String>>,
    shard: usize,
    sent: bool,
}

impl ReadyGuard {
    fn ready(&mut self) {
        self.sent = true;
        let _ = self.tx.send(Ok(self.shard));
    }

    fn fail(&mut self, why: String) {
        self.sent = true;
        let _ = self.tx.send(Err(why));
    }
}

impl Drop for ReadyGuard {
    fn drop(&mut self) {
        if !self.sent {
            let _ = self.tx.send(Err(format!(
                "shard {} stopped before it was ready",
                self.shard
            )));
        }
    }
}

/// Run the broker until SIGINT/SIGTERM. Errors name the cause and the fix.
pub fn run(cfg: Config) -> Result<(), String> {
    // Registered first: a signal that arrives during start-up is kept, not fatal.
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;
    // Before binding: a bad password file names its line and stops start-up.
    let auth = AuthSetup::load(&cfg.auth)?;
    let cpus = allowed_cpus();
    let n = if cfg.shards == 0 {
        cpus.len().max(1)
    } else {
        cfg.shards
    };
    // Before binding: a data directory that cannot be read stops start-up.
    let mut starts: Vec<Option<_>> = match &cfg.persistence.dir {
        Some(dir) => crate::persist::recover::prepare(dir, n)?
            .shards
            .into_iter()
            .map(Some)
            .collect(),
        None => (0..n).map(|_| None).collect(),
    };
    let cfg = Arc::new(cfg);
    let global = Arc::new(Global::default());
    // What SIGHUP re-reads; each reloadable piece adds its hook.
    let mut hooks = crate::reload::Hooks::default();
    auth.add_reload_hook(&mut hooks);
    let acl = acl::start(cfg.auth.acl_file.as_deref(), &mut hooks)?;
    let (specs, sockets) = listener::open_all(&cfg, n, &mut hooks)?;
    let labels = specs.iter().map(|s| s.label.clone()).collect();
    let board = Arc::new(Board::with_listeners(n, labels));
    let (tx, rx) = mpsc::channel();
    let ends = mesh::build(
        n,
        cfg.tuning.mesh_data_capacity,
        cfg.tuning.mesh_control_capacity,
    );
    let installing = Arc::new(std::sync::atomic::AtomicUsize::new(n));
    let mut handles = Vec::with_capacity(n);
    let mut per_shard: Vec<Vec<(Arc<Spec>, OwnedFd)>> = (0..n).map(|_| Vec::new()).collect();
    for (spec, socks) in specs.iter().zip(sockets) {
        for (id, sock) in socks.into_iter().enumerate() {
            per_shard[id].push((spec.clone(), sock.into()));
        }
    }
    for (id, (ends, listeners)) in ends.into_iter().zip(per_shard).enumerate() {
        let init = ShardInit {
            id,
            count: n,
            cfg: cfg.clone(),
            auth: auth.clone(),
            acl: acl.clone(),
            global: global.clone(),
            board: board.clone(),
            ends,
            listeners,
            persist: starts[id].take(),
            installing: installing.clone(),
            ready: ReadyGuard {
                tx: tx.clone(),
                shard: id,
                sent: false,
            },
        };
        let h = LocalExecutorBuilder::new(Placement::Fixed(cpus[id % cpus.len()]))
            .name(&format!("shard-{id}"))
            .io_memory(cfg.tuning.io_memory)
            .ring_depth(cfg.tuning.ring_depth)
            .spawn(move || shard_main(init))
            .map_err(|e| format!("shard {id}: cannot start its executor thread: {e}"))?;
        handles.push(Some(h));
    }
    drop(tx);
    wait_ready(n, &rx, &mut handles)?;
    for s in &specs {
        match s.cfg.transport {
            crate::config::TransportKind::Tcp => println!("shardmq listening on {}", s.bound),
            t => println!("shardmq listening on {} ({})", s.bound, t.name()),
        }
    }
    if let Some(m) = cfg.metrics_listen {
        let bound = crate::metrics::http::spawn(m, board.clone())?;
        println!("shardmq metrics on http://{bound}/metrics");
    }
    info!(listeners = specs.len(), shards = n, "shardmq ready");
    for sig in signals.forever() {
        debug!(?sig, "signal");
        if sig != SIGHUP {
            break;
        }
        if hooks.is_empty() {
            info!("SIGHUP: nothing to reload");
        }
        hooks.run();
    }
    info!("shutting down");
    global.stop();
    for h in handles.into_iter().flatten() {
        let _ = h.join();
    }
    Ok(())
}

/// Wait until every shard reported ready; on a failure, join the failed
/// executor for its real error and say how to fix the usual causes.
fn wait_ready(
    n: usize,
    rx: &mpsc::Receiver<Result<usize, String>>,
    handles: &mut [Option<glommio::ExecutorJoinHandle<()>>],
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    for _ in 0..n {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Ok(id)) => debug!(shard = id, "ready"),
            Ok(Err(msg)) => {
                let id: usize = msg
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let cause = handles[id]
                    .take()
                    .map(|h| h.join())
                    .and_then(|r| r.err())
                    .map(|e| e.to_string());
                return Err(explain_start_failure(&msg, cause));
            }
            Err(_) => return Err("shards did not start within 30 s".into()),
        }
    }
    Ok(())
}

fn explain_start_failure(msg: &str, cause: Option<String>) -> String {
    let cause = cause.unwrap_or_else(|| "unknown cause".into());
    let hint = if cause.contains("memlock")
        || cause.contains("MemLock")
        || cause.contains("os error 12")
    {
        "io_uring needs locked memory: raise the limit (`ulimit -l unlimited`, or LimitMEMLOCK=infinity \
         in the systemd unit), or lower tuning.ring_depth / tuning.io_memory in the config"
    } else if cause.contains("CPU") || cause.contains("cpu") {
        "the CPU it was pinned to is not available: lower --shards"
    } else {
        "see the cause above"
    };
    format!("{msg}: {cause}\nfix: {hint}")
}

/// The CPUs this process may run on (taskset/cgroups respected).
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: `cpu_set_t` is a plain bit array; all zeroes is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: `set` is a valid, writable `cpu_set_t` of exactly `size` bytes.
    let ok = unsafe { libc::sched_getaffinity(0, size, &mut set) } == 0;
    let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `c` < CPU_SETSIZE, so the bit is inside `set`.
        .filter(|&c| ok && unsafe { libc::CPU_ISSET(c, &set) })
        .collect();
    if cpus.is_empty() {
        vec![0]
    } else {
        cpus
    }
}

/// The body of one shard's executor.
async fn shard_main(mut init: ShardInit) {
    let listeners = init
        .listeners
        .iter()
        .map(|(spec, _)| ShardListener::new(spec.clone()))
        .collect();
    let mut shard = Shard::new(
        init.id,
        init.count,
        init.cfg.clone(),
        &init.auth,
        init.global.clone(),
        init.board.clone(),
    )
    .with_listeners(listeners)
    .with_acl(init.acl.clone());
    let mut start = init.persist.take();
    if let Some(s) = &mut start {
        match crate::persist::start::open(&mut shard, s).await {
            Ok(()) => {}
            Err(e) => return init.ready.fail(e),
        }
    }
    let shard = Rc::new(shard);
    crate::plane::mesh::connect(&shard, &mut init.ends).await;
    if let Some(s) = start {
        crate::persist::start::run(&shard, s);
        crate::persist::start::gate(&shard, &init.installing).await;
    }
    crate::connection::start_parking(&shard);
    for (i, (_, fd)) in init.listeners.into_iter().enumerate() {
        // SAFETY: a listening socket from socket2 on the main thread, owned
        // by this shard alone; the listener takes it over (glommio 0.9
        // offers only `from_raw_fd`).
        let socket = unsafe { TcpListener::from_raw_fd(fd.into_raw_fd()) };
        glommio::spawn_local(listener::accept_loop(shard.clone(), i as u8, socket)).detach();
    }
    glommio::spawn_local(tasks::tick_loop(shard.clone())).detach();
    if shard.id == 0 && shard.cfg.sys_interval > 0.0 {
        glommio::spawn_local(tasks::sys_loop(shard.clone())).detach();
    }
    init.ready.ready();
    init.global.clone().stopped().await;
    crate::connection::shutdown(&shard).await;
    if let Some(p) = &shard.persist {
        p.log.close().await;
    }
    debug!(shard = shard.id, "stopped");
}
