//! The open-file limit, checked before any connection: a run that would
//! hit EMFILE halfway reports a broker problem that is really ours.

/// File descriptors kept free for the executors (io_uring, eventfds, timers),
/// stdio and the odd file; per executor on top of a fixed part.
const FIXED_MARGIN: u64 = 64;
const PER_THREAD_MARGIN: u64 = 16;

/// Raise the soft RLIMIT_NOFILE to the hard one, then check that
/// `connections` fit. Returns the limit in force.
pub fn check_nofile(connections: u64, threads: usize) -> Result<u64, String> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return Err(format!("getrlimit: {}", std::io::Error::last_os_error()));
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim = raised;
            }
        }
    }
    let limit = lim.rlim_cur;
    let margin = FIXED_MARGIN + PER_THREAD_MARGIN * threads as u64;
    let usable = limit.saturating_sub(margin);
    if connections > usable {
        return Err(format!(
            "{connections} connections need more file descriptors than this process may \
             open: RLIMIT_NOFILE is {limit}, of which {margin} stay free for the tool \
             itself, so at most {usable} connections (raise it with `ulimit -n`)"
        ));
    }
    Ok(limit)
}
