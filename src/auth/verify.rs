//! Password checks off the shard threads. A hash is slow on purpose
//! (argon2id ~20–40 ms, PBKDF2), and a shard thread must never stall, so:
//!
//! - the hash runs on the shard's glommio blocking pool (one thread, on the
//!   shard's CPU), which switches itself to `SCHED_IDLE` first: a shard
//!   with work always wins the CPU, and hashing uses only what is left;
//! - at most [`SLOTS`] checks per shard are queued or running; a CONNECT
//!   that finds them all taken waits for one, and that wait counts against
//!   its connect timeout (past it: CONNACK 3 / 0x89 server busy);
//! - recent successes are cached per shard (`cache.rs`), so well-behaved
//!   clients that reconnect skip the hash.

use super::cache::SuccessCache;
use super::password::PasswordHash;
use crate::metrics::ShardMetrics;
use glommio::sync::Semaphore;
use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Password checks queued or running per shard.
pub const SLOTS: u64 = 2;
/// Successful checks remembered per shard.
pub const CACHE_CAPACITY: usize = 4096;

/// What a check came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    Match,
    Mismatch,
    /// No slot freed up before the deadline.
    Busy,
}

/// One shard's verifier.
pub struct Verifier {
    slots: Semaphore,
    cache: RefCell<SuccessCache>,
    epoch: Instant,
}

impl Verifier {
    pub fn new(cache_ttl: Duration) -> Verifier {
        Verifier {
            slots: Semaphore::new(SLOTS),
            cache: RefCell::new(SuccessCache::new(
                cache_ttl.as_millis() as u64,
                CACHE_CAPACITY,
            )),
            epoch: Instant::now(),
        }
    }

    /// Check `password` against `hash`: from the cache, or on the blocking
    /// pool once a slot is free (waiting no later than `deadline`).
    pub async fn check(
        &self,
        m: &ShardMetrics,
        user: &str,
        password: &[u8],
        hash: &Arc<PasswordHash>,
        deadline: Instant,
    ) -> Verified {
        let key = self.cache.borrow().key(user, password);
        if self.cache.borrow_mut().hit(key, self.now_ms()) {
            ShardMetrics::inc(&m.auth_cache_hits);
            return Verified::Match;
        }
        let _slot = match self.slots.try_acquire_permit(1) {
            Ok(p) => p,
            Err(_) => {
                ShardMetrics::inc(&m.auth_slot_waits);
                let left = deadline.saturating_duration_since(Instant::now());
                let wait =
                    glommio::timer::timeout(left, async { Ok(self.slots.acquire_permit(1).await) });
                match wait.await {
                    Ok(Ok(p)) => p,
                    _ => {
                        ShardMetrics::inc(&m.auth_slot_timeouts);
                        return Verified::Busy;
                    }
                }
            }
        };
        ShardMetrics::inc(&m.auth_verifications);
        let generation = self.cache.borrow().generation();
        // Not under a timeout: the slot stays taken as long as the hash
        // really runs (a dropped future would free it while the pool works).
        let ok = off_shard(hash.clone(), password.to_vec()).await;
        if !ok {
            return Verified::Mismatch;
        }
        self.cache
            .borrow_mut()
            .insert(key, self.now_ms(), generation);
        Verified::Match
    }

    /// The password file was reloaded: cached successes no longer count.
    pub fn forget(&self) {
        self.cache.borrow_mut().clear();
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }
}

/// Run the hash on this executor's blocking pool at idle priority.
async fn off_shard(hash: Arc<PasswordHash>, mut password: Vec<u8>) -> bool {
    glommio::executor()
        .spawn_blocking(move || {
            lower_priority();
            // A panic would take the pool thread and leave the task waiting forever.
            let ok = std::panic::catch_unwind(|| hash.verify(&password)).unwrap_or(false);
            password.fill(0);
            ok
        })
        .await
}

/// Put the calling thread under `SCHED_IDLE`, once: it then runs only when
/// its CPU has nothing else to do. An unprivileged thread cannot leave
/// `SCHED_IDLE` again, so the pool thread stays there; the broker gives its
/// blocking pool nothing but password checks.
pub fn lower_priority() {
    thread_local! {
        static DONE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if DONE.with(|d| d.replace(true)) {
        return;
    }
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: pid 0 is the calling thread; `param` is a valid sched_param
    // that outlives the call.
    let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
    if rc != 0 {
        // Not fatal: the check still runs off the shard thread.
        tracing::warn!(error = %std::io::Error::last_os_error(), "cannot set SCHED_IDLE on the password-check thread");
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use glommio::{LocalExecutorBuilder, Placement};

    /// Runs `f` on a small executor of its own (the blocking pool included).
    pub fn on_executor<F: std::future::Future<Output = ()>>(f: impl FnOnce() -> F) {
        LocalExecutorBuilder::new(Placement::Unbound)
            .io_memory(64 << 10)
            .ring_depth(64)
            .make()
            .expect("executor")
            .run(f());
    }

    fn sha512_hash(password: &str) -> Arc<PasswordHash> {
        use base64::engine::{general_purpose::STANDARD, Engine};
        use sha2::{Digest, Sha512};
        let salt = b"0123456789ab";
        let hash = Sha512::new()
            .chain_update(password)
            .chain_update(salt)
            .finalize();
        let s = format!("$6${}${}", STANDARD.encode(salt), STANDARD.encode(hash));
        Arc::new(PasswordHash::parse(&s).unwrap())
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    #[test]
    fn the_pool_thread_runs_at_idle_priority() {
        let policy = std::thread::spawn(|| {
            lower_priority();
            lower_priority(); // idempotent
                              // SAFETY: pid 0 is the calling thread.
            unsafe { libc::sched_getscheduler(0) }
        })
        .join()
        .unwrap();
        assert_eq!(policy, libc::SCHED_IDLE);
    }

    #[test]
    fn a_success_is_cached_a_failure_is_not() {
        on_executor(|| async {
            let (v, m, h) = (
                Verifier::new(Duration::from_secs(60)),
                ShardMetrics::default(),
                sha512_hash("pw"),
            );
            assert_eq!(v.check(&m, "u", b"pw", &h, soon()).await, Verified::Match);
            assert_eq!(v.check(&m, "u", b"pw", &h, soon()).await, Verified::Match);
            assert_eq!(
                (m.auth_verifications.get(), m.auth_cache_hits.get()),
                (1, 1)
            );
            for _ in 0..2 {
                assert_eq!(
                    v.check(&m, "u", b"no", &h, soon()).await,
                    Verified::Mismatch
                );
            }
            assert_eq!(
                (m.auth_verifications.get(), m.auth_cache_hits.get()),
                (3, 1)
            );
            v.forget();
            assert_eq!(v.check(&m, "u", b"pw", &h, soon()).await, Verified::Match);
            assert_eq!(m.auth_verifications.get(), 4, "a reload empties the cache");
        });
    }

    #[test]
    fn no_free_slot_before_the_deadline_is_busy() {
        on_executor(|| async {
            let v = std::rc::Rc::new(Verifier::new(Duration::ZERO));
            let (m, h) = (ShardMetrics::default(), sha512_hash("pw"));
            assert!(v.slots.try_acquire(SLOTS).unwrap(), "take every slot");
            let deadline = Instant::now() + Duration::from_millis(50);
            assert_eq!(v.check(&m, "u", b"pw", &h, deadline).await, Verified::Busy);
            assert_eq!(
                (m.auth_slot_waits.get(), m.auth_slot_timeouts.get()),
                (1, 1)
            );
            assert_eq!(m.auth_verifications.get(), 0);
            // A slot that frees up in time: the check waits for it, then runs.
            let v2 = v.clone();
            let freed = glommio::spawn_local(async move {
                glommio::timer::sleep(Duration::from_millis(20)).await;
                v2.slots.signal(SLOTS);
            });
            assert_eq!(v.check(&m, "u", b"pw", &h, soon()).await, Verified::Match);
            freed.await;
            assert_eq!(
                (m.auth_slot_waits.get(), m.auth_slot_timeouts.get()),
                (2, 1)
            );
        });
    }
}
