//! Everything one shard owns. A shard is one thread: plain `RefCell`s, and
//! no borrow is ever held across an `.await`.

use super::wheel::Wheel;
use super::{Global, PartitionMap};
use crate::auth::acl::Acl;
use crate::auth::{AuthSetup, ShardAuth};
use crate::config::Config;
use crate::connection::{ParkingLot, ShardIo};
use crate::listener::ShardListener;
use crate::metrics::{Board, ReasonCounters, ShardHistograms, ShardMetrics};
use crate::plane::acks::PeerAcks;
use crate::plane::Mesh;
use crate::protocol::MqttStr;
use crate::reload::{Local, Reloadable};
use crate::router::Router;
use crate::session::Sessions;
use crate::transport::tls::HandshakeBudget;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

pub struct Shard {
    pub id: usize,
    pub count: usize,
    /// Which shard owns which client IDs and retained topics.
    pub partitions: PartitionMap,
    pub cfg: Arc<Config>,
    /// The anonymous switch, the password file, the password checks.
    pub auth: ShardAuth,
    /// This shard's copy of the ACL rules (`[auth] acl_file`), refreshed by
    /// the tick; `sessions` holds the same rules for the per-message checks.
    pub acl: Option<Local<Acl>>,
    pub global: Arc<Global>,
    pub board: Arc<Board>,
    pub sessions: RefCell<Sessions>,
    pub router: RefCell<Router>,
    pub mesh: Mesh,
    /// Publishers of this shard held back by full sessions (back-pressure).
    pub pauses: crate::plane::pressure::Pauses,
    pub acks: PeerAcks,
    pub wheel: RefCell<Wheel>,
    pub parking: RefCell<ParkingLot>,
    /// Shared with `sessions`, which counts its own events.
    /// The read scratch buffer and the batch clock of its connections.
    pub io: ShardIo,
    pub metrics: Rc<ShardMetrics>,
    pub hist: RefCell<ShardHistograms>,
    /// CONNACKs and DISCONNECTs by reason code.
    pub reasons: ReasonCounters,
    /// Connections writing their last DISCONNECT (shutdown waits for them).
    pub closing: Cell<u32>,
    /// Every listener, as this shard serves it (index = `Arrival::listener`).
    pub listeners: Vec<ShardListener>,
    /// TLS handshakes this shard may still start this second.
    pub handshakes: HandshakeBudget,
    /// The durable log, with persistence on.
    pub persist: Option<crate::persist::Persist>,
    epoch: Instant,
    next_conn_id: Cell<u64>,
}

impl Shard {
    pub fn new(
        id: usize,
        count: usize,
        cfg: Arc<Config>,
        auth: &AuthSetup,
        global: Arc<Global>,
        board: Arc<Board>,
    ) -> Shard {
        let limit = cfg.tuning.mesh_outbox_limit;
        let park_after_ms = (cfg.tuning.park_after * 1000.0).ceil() as u32;
        let metrics = Rc::new(ShardMetrics::default());
        let handshakes = HandshakeBudget::new(cfg.limits.tls_handshakes_per_second);
        let sessions = Sessions::new(id, cfg.limits.clone(), metrics.clone());
        Shard {
            id,
            count,
            partitions: PartitionMap::new(count),
            cfg,
            auth: ShardAuth::new(auth),
            acl: None,
            global,
            board,
            sessions: RefCell::new(sessions),
            router: RefCell::default(),
            mesh: Mesh::new(id, count, limit),
            pauses: Default::default(),
            acks: PeerAcks::new(id, count),
            wheel: RefCell::new(Wheel::new(park_after_ms)),
            parking: RefCell::default(),
            io: ShardIo::default(),
            metrics,
            hist: RefCell::default(),
            reasons: ReasonCounters::default(),
            closing: Cell::new(0),
            listeners: Vec::new(),
            handshakes,
            persist: None,
            epoch: Instant::now(),
            next_conn_id: Cell::new(0),
        }
    }

    /// The shard enforcing the ACL rules of `acl` (before it is shared).
    pub fn with_acl(mut self, acl: Option<Arc<Reloadable<Acl>>>) -> Shard {
        self.acl = acl.map(Local::new);
        let rules = self.acl.as_ref().map(Local::get);
        self.sessions.get_mut().set_acl(rules);
        self
    }

    /// Pick up reloaded ACL rules (the tick) and re-mark subscriptions
    /// under them, 1 ms of it per tick (0.4 % of a core).
    pub fn refresh_acl(&self) {
        let Some(acl) = &self.acl else { return };
        let mut sessions = self.sessions.borrow_mut();
        if acl.refresh() {
            sessions.set_acl(Some(acl.get()));
        }
        sessions.remark(std::time::Duration::from_millis(1));
    }

    /// The shard with its listeners (before it is shared).
    pub fn with_listeners(mut self, listeners: Vec<ShardListener>) -> Shard {
        self.listeners = listeners;
        self
    }

    /// Milliseconds since the shard started (wrapping u32, for keep-alive).
    pub fn now_ms(&self) -> u32 {
        self.elapsed_ms() as u32
    }

    pub fn elapsed_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// [`Shard::now_ms`] of an instant already read.
    pub fn ms_at(&self, t: Instant) -> u32 {
        t.saturating_duration_since(self.epoch).as_millis() as u32
    }

    pub fn next_conn_id(&self) -> u64 {
        let id = self.next_conn_id.get() + 1;
        self.next_conn_id.set(id);
        id
    }

    /// Peers of this shard.
    pub fn peers(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.count).filter(move |&p| p != self.id)
    }

    /// A fresh client ID that this shard owns, for clients that sent an
    /// empty one [MQTT-3.1.3-6]. Unique: shard, connection counter, start time.
    pub fn assign_client_id(&self) -> MqttStr {
        let stamp = self.epoch.elapsed().as_nanos() as u64 ^ std::process::id() as u64;
        loop {
            let id = format!("auto-{:x}-{}-{}", stamp, self.id, self.next_conn_id());
            if self.partitions.owner(id.as_bytes()) == self.id {
                return id.into();
            }
        }
    }
}
