//! Giving memory back after connections park.
//!
//! Parking frees a connection's task and glommio stream (~1.5 KB), but
//! mimalloc only returns freed pages to the OS when the owning thread's
//! heap is collected, which an idle shard rarely triggers by itself. The
//! tick calls [`Release::tick`] once a second; for a few seconds after any
//! connection parked it collects this thread's heap. Measured at 19,000
//! parked connections: ~50–250 µs per collection (docs/benchmarks.md).

/// Seconds to keep collecting after the last park (freed stream sources
/// arrive a little after the park itself, with their cancellations).
const COLLECT_FOR: u32 = 3;

#[derive(Default)]
pub struct Release {
    parks_seen: u64,
    pending: u32,
}

impl Release {
    /// `parks` is the shard's running count of parked connections.
    pub fn tick(&mut self, parks: u64) {
        if parks != self.parks_seen {
            self.parks_seen = parks;
            self.pending = COLLECT_FOR;
        }
        if self.pending > 0 {
            self.pending -= 1;
            // Not forced: frees this thread's empty pages without walking
            // other threads' abandoned ones. Harmless if mimalloc is not
            // the global allocator (its heap is then empty).
            // SAFETY: no arguments to uphold; mimalloc collects only what
            // is free, on the calling thread's heap.
            unsafe { libmimalloc_sys::mi_collect(false) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_for_a_few_seconds_after_parks_then_stops() {
        let mut r = Release::default();
        r.tick(0);
        assert_eq!(r.pending, 0, "nothing parked, nothing to collect");
        r.tick(5);
        assert_eq!(r.pending, COLLECT_FOR - 1);
        for _ in 0..COLLECT_FOR {
            r.tick(5);
        }
        assert_eq!(r.pending, 0);
        r.tick(6);
        assert_eq!(r.pending, COLLECT_FOR - 1, "a new park starts again");
    }
}
