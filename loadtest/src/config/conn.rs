//! The scenarios that only connect: `conn` (hold idle connections) and
//! `connect-rate` (open fresh ones as fast as the broker takes them).

use super::{base, finish, non_negative, positive, positive_count, Config, Kind};
use crate::cli::{ConnArgs, ConnectRateArgs};
use crate::clock::secs_to_ns;

pub fn conn(a: ConnArgs, run_tag: String) -> Result<Config, String> {
    let mut c = base(Kind::Conn, &a.common, run_tag)?;
    c.idle = positive_count(a.count, "--count")?;
    c.conn_rate = positive(a.rate, "--rate")?;
    c.hold_ns = secs_to_ns(non_negative(a.hold, "--hold")?);
    let ping = match a.ping_interval {
        Some(p) => positive(p, "--ping-interval")?,
        None => f64::from(c.keepalive) / 2.0,
    };
    if c.keepalive > 0 && ping > f64::from(c.keepalive) {
        return Err(format!(
            "--ping-interval {ping} is longer than --keepalive {}: the broker \
             would drop the connections",
            c.keepalive
        ));
    }
    c.ping_ns = secs_to_ns(ping);
    finish(c)
}

pub fn connect_rate(a: ConnectRateArgs, run_tag: String) -> Result<Config, String> {
    let mut c = base(Kind::ConnectRate, &a.common, run_tag)?;
    c.cycles = positive_count(a.connections, "--connections")?;
    c.concurrency = positive_count(a.concurrency, "--concurrency")?;
    if c.concurrency > c.cycles {
        return Err(format!(
            "--concurrency {} is more than --connections {}",
            c.concurrency, c.cycles
        ));
    }
    c.time_limit_ns = secs_to_ns(positive(a.time_limit, "--time-limit")?);
    // Connections are short-lived: nothing to ping.
    c.ping_ns = 0;
    finish(c)
}
