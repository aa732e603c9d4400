//! The mesh: one bounded glommio `shared_channel` per ordered pair of shards
//! for published messages (in batches) and one for control messages, with
//! the tasks that send into them and receive from them.
//!
//! Nothing on a shard ever awaits a full channel while handling a message:
//! handlers push into a local per-peer outbox and a dedicated sender task per
//! peer and channel does the awaiting (glommio#555 is the deadlock this
//! avoids). The data outbox is bounded by `mesh_outbox_limit`; past it the
//! shard stops reading from its clients until the outbox drains (TCP pushes
//! back on publishers). The control outbox is bounded too; overflow is
//! dropped and counted (it carries rare messages: hand-offs, interest
//! changes, retained traffic).

use super::apply;
use super::messages::{Batch, Control, Envelope};
use super::notify::{Notify, WaitList};
use crate::metrics::ShardMetrics;
use crate::persist::qos2::Q2;
use crate::router::shared::ShareTag;
use crate::session::Message;
use crate::shard::Shard;
use glommio::channels::shared_channel::{
    self, ConnectedReceiver, ConnectedSender, SharedReceiver, SharedSender,
};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::Waker;
use tracing::debug;

/// Messages per batch sent over a data channel.
pub const BATCH: usize = 256;
/// Control messages one peer's outbox holds at most.
const CONTROL_OUTBOX_LIMIT: usize = 1 << 16;

/// The channel ends of one shard, built on the main thread and moved to the
/// shard's executor (they are `Send`; connecting happens there).
pub struct MeshEnds {
    pub data_tx: Vec<Option<SharedSender<Batch>>>,
    pub data_rx: Vec<Option<SharedReceiver<Batch>>>,
    pub ctrl_tx: Vec<Option<SharedSender<Control>>>,
    pub ctrl_rx: Vec<Option<SharedReceiver<Control>>>,
}

/// Build every channel of an `n`-shard mesh; element `i` belongs to shard `i`.
pub fn build(n: usize, data_cap: usize, ctrl_cap: usize) -> Vec<MeshEnds> {
    fn none<T>(n: usize) -> Vec<Option<T>> {
        (0..n).map(|_| None).collect()
    }
    let mut ends: Vec<MeshEnds> = (0..n)
        .map(|_| MeshEnds {
            data_tx: none(n),
            data_rx: none(n),
            ctrl_tx: none(n),
            ctrl_rx: none(n),
        })
        .collect();
    for from in 0..n {
        for to in (0..n).filter(|&to| to != from) {
            let (tx, rx) = shared_channel::new_bounded(data_cap);
            ends[from].data_tx[to] = Some(tx);
            ends[to].data_rx[from] = Some(rx);
            let (tx, rx) = shared_channel::new_bounded(ctrl_cap);
            ends[from].ctrl_tx[to] = Some(tx);
            ends[to].ctrl_rx[from] = Some(rx);
        }
    }
    ends
}

/// Outgoing side of the mesh on one shard.
pub struct Mesh {
    peers: Vec<Option<PeerOut>>,
    limit: usize,
    /// Connections paused because an outbox is over its limit.
    paused: WaitList,
    congested: Cell<usize>,
}

#[derive(Default)]
struct PeerOut {
    data: RefCell<VecDeque<Batch>>,
    data_len: Cell<usize>,
    data_ready: Notify,
    /// Messages ever queued for this peer (durable acknowledgements count
    /// on it: `persist/durable.rs`).
    data_sent: Cell<u64>,
    ctrl: RefCell<VecDeque<Control>>,
    ctrl_ready: Notify,
}

impl Mesh {
    pub fn new(me: usize, n: usize, limit: usize) -> Mesh {
        let peers = (0..n).map(|p| (p != me).then(PeerOut::default)).collect();
        Mesh {
            peers,
            limit: limit.max(BATCH),
            paused: WaitList::default(),
            congested: Cell::new(0),
        }
    }

    fn peer(&self, p: usize) -> &PeerOut {
        self.peers[p].as_ref().expect("no mesh channel to self")
    }

    /// Queue a published message for shard `p`; `q2` for a persistent
    /// publisher's QoS 2 message, or its end (`persist/qos2.rs`).
    pub fn send_data(&self, p: usize, msg: Message, q2: Option<Q2>) {
        let share = None;
        self.push_data(p, Envelope { msg, share, q2 });
    }

    /// Queue a message for one member of a shared group on shard `p`.
    pub fn send_shared(&self, p: usize, msg: Message, tag: ShareTag) {
        let share = Some(tag);
        self.push_data(
            p,
            Envelope {
                msg,
                share,
                q2: None,
            },
        );
    }

    /// Messages ever queued for each peer (0 for this shard).
    pub fn sent_counts(&self) -> Vec<u64> {
        let each = self.peers.iter();
        each.map(|p| p.as_ref().map_or(0, |p| p.data_sent.get()))
            .collect()
    }

    fn push_data(&self, p: usize, msg: Envelope) {
        let peer = self.peer(p);
        peer.data_sent.set(peer.data_sent.get() + 1);
        let mut q = peer.data.borrow_mut();
        match q.back_mut() {
            Some(b) if b.len() < BATCH => b.push(msg),
            _ => q.push_back(vec![msg]),
        }
        let len = peer.data_len.get() + 1;
        peer.data_len.set(len);
        if len == self.limit {
            self.congested.set(self.congested.get() + 1);
        }
        if len == 1 {
            peer.data_ready.notify();
        }
    }

    /// Queue a control message for shard `p`; false if the outbox is full.
    pub fn send_control(&self, p: usize, msg: Control) -> bool {
        if self.peer(p).ctrl.borrow().len() >= CONTROL_OUTBOX_LIMIT {
            return false;
        }
        self.send_control_always(p, msg);
        true
    }

    /// Queue a control message for shard `p` past the outbox limit: for
    /// messages whose loss would wedge a client (a publisher's resume).
    pub fn send_control_always(&self, p: usize, msg: Control) {
        let peer = self.peer(p);
        let mut q = peer.ctrl.borrow_mut();
        q.push_back(msg);
        if q.len() == 1 {
            peer.ctrl_ready.notify();
        }
    }

    /// Everything queued for shard `p`, taken as its sender tasks would
    /// (tests drive shards without executors).
    #[cfg(test)]
    pub(crate) fn take_outboxes(&self, p: usize) -> (Vec<Control>, Vec<Envelope>) {
        let peer = self.peer(p);
        let ctrl = peer.ctrl.borrow_mut().drain(..).collect();
        let data = peer.data.borrow_mut().drain(..).flatten().collect();
        peer.data_len.set(0);
        (ctrl, data)
    }

    /// True while any data outbox is over its limit; registers `w` to be
    /// woken when that clears.
    pub fn congested(&self, w: &Waker) -> bool {
        if self.congested.get() == 0 {
            return false;
        }
        self.paused.register(w);
        true
    }

    /// Sender task for the data channel to shard `p`.
    pub async fn run_data_sender(&self, p: usize, tx: ConnectedSender<Batch>) {
        let peer = self.peer(p);
        loop {
            peer.data_ready.notified().await;
            loop {
                let Some(batch) = peer.data.borrow_mut().pop_front() else {
                    break;
                };
                let n = batch.len();
                if tx.send(batch).await.is_err() {
                    return; // peer gone: shutting down
                }
                let before = peer.data_len.get();
                peer.data_len.set(before - n);
                if before >= self.limit && before - n < self.limit {
                    self.congested.set(self.congested.get() - 1);
                    if self.congested.get() == 0 {
                        self.paused.wake_all();
                    }
                }
            }
        }
    }

    /// Sender task for the control channel to shard `p`.
    pub async fn run_control_sender(&self, p: usize, tx: ConnectedSender<Control>) {
        let peer = self.peer(p);
        loop {
            peer.ctrl_ready.notified().await;
            loop {
                let Some(msg) = peer.ctrl.borrow_mut().pop_front() else {
                    break;
                };
                if tx.send(msg).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Queue a control message for shard `to`, counting it if the outbox is full.
pub fn send_control(shard: &Shard, to: usize, msg: Control) {
    if !shard.mesh.send_control(to, msg) {
        ShardMetrics::inc(&shard.metrics.control_dropped);
        debug!(shard = shard.id, to, "control outbox full: message dropped");
    }
}

/// Connect every channel end of this shard concurrently (a sender's connect
/// waits for its receiver's, so connecting them one after another
/// deadlocks two shards), then start the sender and receiver tasks.
pub async fn connect(shard: &Rc<Shard>, ends: &mut MeshEnds) {
    // glommio 0.9 can lose the cross-executor wake-up that completes a
    // channel connect (its shared-channel lost-wake-up class, glommio#261):
    // with 40 brokers starting at once, 1–2 of them had a shard asleep for
    // 10–30 s. The reactor re-checks its shared channels each time it
    // wakes, so a timer ticking until the mesh is up turns a lost wake-up
    // into a few milliseconds.
    let connected = Rc::new(Cell::new(false));
    let done = connected.clone();
    let ticker = glommio::spawn_local(async move {
        while !done.get() {
            glommio::timer::sleep(std::time::Duration::from_millis(5)).await;
        }
    });
    connect_ends(shard, ends).await;
    connected.set(true);
    ticker.await;
}

async fn connect_ends(shard: &Rc<Shard>, ends: &mut MeshEnds) {
    let mut pending = Vec::new();
    for p in shard.peers() {
        let dtx = glommio::spawn_local(ends.data_tx[p].take().unwrap().connect());
        let drx = glommio::spawn_local(ends.data_rx[p].take().unwrap().connect());
        let ctx = glommio::spawn_local(ends.ctrl_tx[p].take().unwrap().connect());
        let crx = glommio::spawn_local(ends.ctrl_rx[p].take().unwrap().connect());
        pending.push((p, dtx, drx, ctx, crx));
    }
    for (p, dtx, drx, ctx, crx) in pending {
        let peer = PeerChannels {
            data_tx: dtx.await,
            data_rx: drx.await,
            ctrl_tx: ctx.await,
            ctrl_rx: crx.await,
        };
        spawn_peer_tasks(shard, p, peer);
    }
}

struct PeerChannels {
    data_tx: ConnectedSender<Batch>,
    data_rx: ConnectedReceiver<Batch>,
    ctrl_tx: ConnectedSender<Control>,
    ctrl_rx: ConnectedReceiver<Control>,
}

/// Four tasks per peer: two senders draining this shard's outboxes, two
/// receivers applying what the peer sends.
fn spawn_peer_tasks(shard: &Rc<Shard>, p: usize, c: PeerChannels) {
    let s = shard.clone();
    glommio::spawn_local(async move { s.mesh.run_data_sender(p, c.data_tx).await }).detach();
    let s = shard.clone();
    glommio::spawn_local(async move { s.mesh.run_control_sender(p, c.ctrl_tx).await }).detach();
    let s = shard.clone();
    let data_rx = c.data_rx;
    glommio::spawn_local(async move {
        while let Some(batch) = data_rx.recv().await {
            apply::batch(&s, p, batch);
            // A full channel never makes `recv` wait, so without a yield this
            // loop keeps the shard until the peer stops sending: the control
            // sender (a publisher's pause) and our own connections (the acks
            // that drain the queues) would wait behind every queued batch.
            futures_lite::future::yield_now().await;
        }
    })
    .detach();
    let s = shard.clone();
    let ctrl_rx = c.ctrl_rx;
    glommio::spawn_local(async move {
        while let Some(msg) = ctrl_rx.recv().await {
            apply::control(&s, p, msg);
        }
    })
    .detach();
}
