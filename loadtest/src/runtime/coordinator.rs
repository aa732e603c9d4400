//! The run's phases, driven from the main thread: connect, (warmup, run,
//! drain) or hold, close. Every phase has a deadline, and the whole run a
//! hard one, so the tool always ends by itself.

use super::ctx::Phases;
use super::thread::ThreadResult;
use crate::client::{PubResult, SubResult};
use crate::clock::{now_ns, process_cpu_ns, secs_to_ns};
use crate::config::{Config, Expect, Kind};
use crate::progress::Progress;
use crate::stats::timeline::{Sample, Timeline};
use crate::stats::{Shared, ThreadStats};
use std::sync::atomic::Ordering::{Acquire, Release};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

const TICK: Duration = Duration::from_millis(10);
/// Between "everyone is subscribed" and the first publish: lets every
/// executor's watcher see the start time before it arrives.
const START_DELAY_NS: u64 = 20_000_000;
/// Closing (DISCONNECT, collecting results) may take this long.
const CLOSE_GRACE_NS: u64 = 5_000_000_000;

pub struct RunResult {
    pub stats: ThreadStats,
    pub pubs: Vec<PubResult>,
    pub subs: Vec<SubResult>,
    pub connected: u64,
    pub failed: u64,
    pub dropped: u64,
    /// From the first connect to the last handshake resolved.
    pub connect_ns: u64,
    /// Length of the measured window actually run.
    pub measured_ns: u64,
    /// Time waited after publishing stopped (`conn`: held).
    pub after_ns: u64,
    /// Why the run ended early, if it did.
    pub aborted: Option<String>,
    /// Threads that never reported (hung or panicked).
    pub missing_threads: usize,
    /// CPU time the tool used and the wall time it ran, to tell whether
    /// the numbers are the broker's limit or the tool's.
    pub cpu_ns: u64,
    pub wall_ns: u64,
    /// Rates once a second over the whole run (`--plot`, `--json`).
    pub timeline: Vec<Sample>,
}

enum Phase {
    Connecting,
    Running(Phases),
    Holding { since: u64 },
    Closing { since: u64 },
}

pub struct Coordinator {
    cfg: Arc<Config>,
    shared: Arc<Shared>,
    rx: Receiver<ThreadResult>,
    results: Vec<ThreadResult>,
    phase: Phase,
    begin: u64,
    /// (wall, process CPU) when the run began, then when measuring began;
    /// the CPU share reported is over the measured window when there is one.
    cpu_from: (u64, u64),
    cpu_window: Option<(u64, u64)>,
    connect_deadline: u64,
    deadline: u64,
    connect_ns: u64,
    measured_ns: u64,
    after_ns: u64,
    aborted: Option<String>,
    progress: Progress,
    timeline: Timeline,
}

impl Coordinator {
    pub fn new(cfg: Arc<Config>, shared: Arc<Shared>, rx: Receiver<ThreadResult>) -> Coordinator {
        let begin = now_ns();
        let opening = match cfg.kind {
            Kind::ConnectRate => cfg.time_limit_ns,
            _ => secs_to_ns(cfg.connections() as f64 / cfg.conn_rate),
        };
        let connect_deadline =
            begin + opening + cfg.connect_timeout.as_nanos() as u64 + 2_000_000_000;
        let l = &cfg.load;
        let deadline = connect_deadline
            + START_DELAY_NS
            + l.warmup_ns
            + l.duration_ns
            + l.drain_ns
            + cfg.hold_ns
            + 1_000_000_000;
        Coordinator {
            progress: Progress::new(&cfg, begin),
            timeline: Timeline::new(begin),
            cfg,
            shared,
            rx,
            results: Vec::new(),
            phase: Phase::Connecting,
            begin,
            cpu_from: (begin, process_cpu_ns()),
            cpu_window: None,
            connect_deadline,
            deadline,
            connect_ns: 0,
            measured_ns: 0,
            after_ns: 0,
            aborted: None,
        }
    }

    pub fn run(mut self) -> RunResult {
        loop {
            match self.rx.try_recv() {
                Ok(r) => {
                    self.results.push(r);
                    continue;
                }
                Err(TryRecvError::Disconnected) => break,
                Err(TryRecvError::Empty) => {}
            }
            let now = now_ns();
            match self.phase {
                Phase::Closing { since } if now >= since + CLOSE_GRACE_NS => break,
                Phase::Closing { .. } => {}
                _ if now >= self.deadline => self.abort(
                    now,
                    "hard deadline reached; the broker stopped answering?".into(),
                ),
                _ => self.step(now),
            }
            let label = self.label(now);
            self.progress.tick(now, label, &self.cfg, &self.shared);
            if !matches!(self.phase, Phase::Closing { .. }) {
                self.timeline.tick(now, &self.shared);
            }
            std::thread::sleep(TICK);
        }
        self.progress.finish();
        self.finish()
    }

    fn step(&mut self, now: u64) {
        if !matches!(self.phase, Phase::Connecting) && self.all_lost() {
            return self.abort(now, "every connection was lost".into());
        }
        match self.phase {
            Phase::Connecting => self.connecting(now),
            Phase::Running(ph) => {
                self.mark_cpu(now, ph);
                let drained = now >= ph.stop && self.delivered_all();
                if now >= ph.stop + self.cfg.load.drain_ns || drained {
                    self.measured_ns = ph.stop - ph.measure;
                    self.after_ns = now - ph.stop;
                    self.end(now);
                }
            }
            Phase::Holding { since } => {
                if now >= since + self.cfg.hold_ns {
                    self.after_ns = now - since;
                    self.end(now);
                }
            }
            Phase::Closing { .. } => {}
        }
    }

    fn connecting(&mut self, now: u64) {
        let ok = self.shared.sum(|l| &l.connected);
        let failed = self.shared.sum(|l| &l.failed);
        let total = self.cfg.handshakes();
        let done = match self.cfg.kind {
            Kind::ConnectRate => self.opened_all(now, ok + failed),
            _ => ok + failed >= total,
        };
        if !done && now < self.connect_deadline {
            return;
        }
        self.connect_ns = now - self.begin;
        if ok == 0 {
            self.abort(now, "no connection could be established".into());
        } else if self.cfg.kind == Kind::ConnectRate {
            self.end(now);
        } else if self.cfg.kind == Kind::Conn {
            self.phase = Phase::Holding { since: now };
        } else if ok < total {
            let msg = format!(
                "{} of {total} clients failed to connect or subscribe",
                total - ok
            );
            self.abort(now, msg);
        } else {
            let start = now + START_DELAY_NS;
            self.shared.start_ns.store(start, Release);
            let measure = start + self.cfg.load.warmup_ns;
            self.phase = Phase::Running(Phases {
                start,
                measure,
                stop: measure + self.cfg.load.duration_ns,
            });
        }
    }

    /// `connect-rate`: every connection done, or the time limit passed
    /// and none still in its handshake. Reads the claims after the clock:
    /// a slot that claims later sees the limit too and gives it back.
    fn opened_all(&self, now: u64, resolved: u64) -> bool {
        if resolved >= self.cfg.handshakes() {
            return true;
        }
        let claimed = self.shared.claimed.load(Acquire);
        let abandoned = self.shared.abandoned.load(Acquire);
        now >= self.shared.stop_opening_ns && resolved + abandoned >= claimed
    }

    /// Start the CPU clock at the measured window, stop it at its end.
    fn mark_cpu(&mut self, now: u64, ph: Phases) {
        if now >= ph.measure && self.cpu_from.0 < ph.measure {
            self.cpu_from = (now, process_cpu_ns());
        }
        if now >= ph.stop && self.cpu_window.is_none() {
            let (wall, cpu) = self.cpu_from;
            self.cpu_window = Some((now - wall, process_cpu_ns() - cpu));
        }
    }

    /// No client is left to measure anything with.
    fn all_lost(&self) -> bool {
        let connected = self.shared.sum(|l| &l.connected);
        connected > 0 && self.shared.sum(|l| &l.dropped) >= connected
    }

    /// Publishing is over and every expected delivery and ack arrived: no
    /// need to wait out the rest of the drain.
    fn delivered_all(&self) -> bool {
        // Acquire pairs with the publishers' release when they stop, so
        // their last `win_sent` increments are visible below.
        let publishing: u64 = self
            .shared
            .threads
            .iter()
            .map(|l| l.publishing.load(Acquire))
            .sum();
        if publishing > 0 || self.shared.sum(|l| &l.inflight) > 0 {
            return false;
        }
        let sent = self.shared.sum(|l| &l.win_sent);
        let unique = self.shared.sum(|l| &l.win_unique);
        match self.cfg.expect {
            Expect::AllToAll => unique >= sent * u64::from(self.cfg.subscribers),
            Expect::Pairs | Expect::OncePerGroup => unique >= sent,
            Expect::Unknown => self.cfg.subscribers == 0,
        }
    }

    fn abort(&mut self, now: u64, why: String) {
        if let Phase::Running(ph) = self.phase {
            self.measured_ns = now.clamp(ph.measure, ph.stop) - ph.measure;
        }
        self.aborted = Some(why);
        self.end(now);
    }

    fn end(&mut self, now: u64) {
        self.timeline.finish(now, &self.shared);
        self.shared.end.store(true, Release);
        self.phase = Phase::Closing { since: now };
    }

    fn label(&self, now: u64) -> &'static str {
        match self.phase {
            Phase::Connecting => "connect",
            Phase::Running(ph) if now < ph.measure => "warmup",
            Phase::Running(ph) if now < ph.stop => "run",
            Phase::Running(_) => "drain",
            Phase::Holding { .. } => "hold",
            Phase::Closing { .. } => "close",
        }
    }

    fn finish(self) -> RunResult {
        let mut stats = ThreadStats::default();
        let (mut pubs, mut subs) = (Vec::new(), Vec::new());
        for r in &self.results {
            stats.merge(&r.stats);
        }
        for r in self.results.iter() {
            pubs.extend(r.pubs.iter().cloned());
            subs.extend(r.subs.iter().cloned());
        }
        // connect-rate: until the last connection closed, not until this
        // loop's next tick noticed.
        let connect_ns = match self.cfg.kind {
            Kind::ConnectRate if stats.last_connack_ns > self.begin => {
                stats.last_connack_ns - self.begin
            }
            _ => self.connect_ns,
        };
        RunResult {
            stats,
            pubs,
            subs,
            connected: self.shared.sum(|l| &l.connected),
            failed: self.shared.sum(|l| &l.failed),
            dropped: self.shared.sum(|l| &l.dropped),
            connect_ns,
            measured_ns: self.measured_ns,
            after_ns: self.after_ns,
            aborted: self.aborted,
            missing_threads: self.cfg.threads - self.results.len(),
            cpu_ns: self
                .cpu_window
                .map_or(process_cpu_ns() - self.cpu_from.1, |w| w.1),
            wall_ns: self.cpu_window.map_or(now_ns() - self.cpu_from.0, |w| w.0),
            timeline: self.timeline.into_samples(),
        }
    }
}
