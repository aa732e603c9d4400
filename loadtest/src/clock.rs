//! The one clock of the tool: CLOCK_MONOTONIC in nanoseconds.
//!
//! Payload timestamps use it, so a subscriber in another process on the same
//! machine (`pub` and `sub` run apart) can still compute latency. Phase
//! boundaries are absolute values of the same clock, so every thread agrees
//! on them without talking.

use std::time::Duration;

pub fn now_ns() -> u64 {
    read_clock(libc::CLOCK_MONOTONIC)
}

static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// When this process started (its first call, made first thing in `main`):
/// no message of this run can have been sent before it.
pub fn process_start_ns() -> u64 {
    *START.get_or_init(now_ns)
}

/// Time left until the absolute instant `at_ns` (zero if it has passed).
pub fn until(at_ns: u64) -> Duration {
    Duration::from_nanos(at_ns.saturating_sub(now_ns()))
}

/// CPU time (user + system) of the whole process so far, in ns.
pub fn process_cpu_ns() -> u64 {
    read_clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// One `clock_gettime`, in ns.
fn read_clock(id: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes into the timespec we own; both
    // clocks used here always exist on Linux, so it cannot fail.
    unsafe { libc::clock_gettime(id, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

pub fn secs_to_ns(secs: f64) -> u64 {
    (secs * 1e9).round() as u64
}

/// Sleep on the current glommio executor until `at_ns`.
pub async fn sleep_until(at_ns: u64) {
    let d = until(at_ns);
    if !d.is_zero() {
        glommio::timer::Timer::new(d).await;
    }
}
