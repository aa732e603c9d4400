//! Log output on stderr: human text, or one JSON object per line for log
//! shippers. Colours only when stderr is a terminal, so a file, a pipe or
//! the journal never sees ANSI escapes.

use crate::config::LogFormat;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Install the global subscriber; `RUST_LOG` wins over `filter`.
pub fn init(filter: &str, format: LogFormat) {
    // glommio logs at error level that a device (virtio, most VMs) has no
    // polled I/O for direct-I/O files, then carries on without it: not an
    // error of ours, and it would greet every start with persistence on.
    let quiet = format!("{filter},glommio::reactor=off");
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(quiet));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(colours()).init(),
        // Same fields as the text line: timestamp, level, target, the
        // event's fields (message included) and its spans.
        LogFormat::Json => builder.json().with_ansi(false).init(),
    }
}

/// A terminal, and no `NO_COLOR` (no-color.org) asking otherwise.
fn colours() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
