//! Pieces of configuration re-read on SIGHUP without a restart: TLS
//! certificates, the password file, the ACL file.
//!
//! The main thread builds the new value and swaps it into a [`Reloadable`]
//! (a mutex, touched only on reload and by each shard's tick). Each shard
//! keeps its own copy in a [`Local`], refreshed by the shard's tick
//! (four times a second) when the generation moved: the per-message path
//! (ACL checks) reads a shard-local `RefCell`, never a lock or an atomic
//! shared with other shards. A reload is in force on every shard within
//! one tick.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The current value of one reloadable piece, shared by all shards.
pub struct Reloadable<T> {
    slot: Mutex<Arc<T>>,
    generation: AtomicU64,
}

impl<T> Reloadable<T> {
    pub fn new(value: T) -> Reloadable<T> {
        Reloadable {
            slot: Mutex::new(Arc::new(value)),
            generation: AtomicU64::new(0),
        }
    }

    /// Put a new value in force (main thread, on SIGHUP).
    pub fn replace(&self, value: T) {
        *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = Arc::new(value);
        self.generation.fetch_add(1, Ordering::Release);
    }

    pub fn current(&self) -> Arc<T> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

/// One shard's copy of a [`Reloadable`].
pub struct Local<T> {
    shared: Arc<Reloadable<T>>,
    cached: RefCell<(u64, Arc<T>)>,
}

impl<T> Local<T> {
    pub fn new(shared: Arc<Reloadable<T>>) -> Local<T> {
        let cached = RefCell::new((shared.generation(), shared.current()));
        Local { shared, cached }
    }

    /// The shard's current value: no lock, no shared atomic.
    pub fn get(&self) -> Arc<T> {
        self.cached.borrow().1.clone()
    }

    /// Run `f` on the current value without cloning the `Arc`.
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.cached.borrow().1)
    }

    /// Pick up a reload if there was one (the shard's tick). True if the
    /// value changed.
    pub fn refresh(&self) -> bool {
        let g = self.shared.generation();
        if g == self.cached.borrow().0 {
            return false;
        }
        *self.cached.borrow_mut() = (g, self.shared.current());
        true
    }
}

/// What SIGHUP re-reads: one hook per piece, each reading its file and
/// swapping the result into its [`Reloadable`]. A hook that fails leaves
/// the old value in force.
#[derive(Default)]
pub struct Hooks {
    list: Vec<(String, ReloadFn)>,
}

type ReloadFn = Box<dyn Fn() -> Result<(), String> + Send>;

impl Hooks {
    pub fn add(
        &mut self,
        what: impl Into<String>,
        hook: impl Fn() -> Result<(), String> + Send + 'static,
    ) {
        self.list.push((what.into(), Box::new(hook)));
    }

    /// Run every hook; log each outcome. Returns the failures.
    pub fn run(&self) -> Vec<String> {
        let mut failed = Vec::new();
        for (what, hook) in &self.list {
            match hook() {
                Ok(()) => tracing::info!(what = %what, "reloaded"),
                Err(e) => {
                    tracing::error!(what = %what, error = %e, "reload refused; the old one stays in force");
                    failed.push(format!("{what}: {e}"));
                }
            }
        }
        failed
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_sees_a_reload_after_its_refresh() {
        let shared = Arc::new(Reloadable::new(1));
        let local = Local::new(shared.clone());
        assert_eq!(*local.get(), 1);
        assert!(!local.refresh());
        shared.replace(2);
        assert_eq!(*local.get(), 1, "only the tick picks it up");
        assert!(local.refresh());
        assert_eq!(local.with(|v| *v), 2);
        assert!(!local.refresh());
    }

    #[test]
    fn a_failed_hook_is_reported_and_the_rest_still_run() {
        let shared = Arc::new(Reloadable::new(0));
        let mut hooks = Hooks::default();
        hooks.add("bad", || Err("line 3: unknown keyword".into()));
        let s = shared.clone();
        hooks.add("good", move || {
            s.replace(7);
            Ok(())
        });
        assert_eq!(
            hooks.run(),
            vec!["bad: line 3: unknown keyword".to_string()]
        );
        assert_eq!(*shared.current(), 7);
    }
}
