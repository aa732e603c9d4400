//! Parsers and cross-checks behind [`super::Config::from_cli`].

use super::{Config, Expect};
use crate::template;
use shardmq_protocol::topic::{validate_topic_filter, validate_topic_name};
use shardmq_protocol::ProtocolVersion;
use std::net::IpAddr;

/// More source addresses than this is a typo, not a plan.
const MAX_SOURCE_IPS: u128 = 65_536;

/// "a-b" ranges and single addresses, comma separated.
pub fn ip_list(s: &str) -> Result<Vec<IpAddr>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (ip(a)?, ip(b)?),
            None => (ip(part)?, ip(part)?),
        };
        let (l, h) = match (lo, hi) {
            (IpAddr::V4(l), IpAddr::V4(h)) => (u128::from(u32::from(l)), u128::from(u32::from(h))),
            (IpAddr::V6(l), IpAddr::V6(h)) => (u128::from(l), u128::from(h)),
            _ => return Err(format!("--source-ips {part:?}: mixed address families")),
        };
        if l > h {
            return Err(format!("--source-ips {part:?}: range runs backwards"));
        }
        if (h - l + 1) + out.len() as u128 > MAX_SOURCE_IPS {
            return Err(format!(
                "--source-ips: more than {MAX_SOURCE_IPS} addresses"
            ));
        }
        for v in l..=h {
            out.push(match lo {
                IpAddr::V4(_) => IpAddr::from(std::net::Ipv4Addr::from(v as u32)),
                IpAddr::V6(_) => IpAddr::from(std::net::Ipv6Addr::from(v)),
            });
        }
    }
    if out.is_empty() {
        return Err("--source-ips: no address given".into());
    }
    Ok(out)
}

fn ip(s: &str) -> Result<IpAddr, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("--source-ips: {s:?} is not an IP address"))
}

/// "0,2-3" -> [0, 2, 3].
pub fn cpu_list(s: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let num = |x: &str| {
            x.trim()
                .parse::<usize>()
                .map_err(|_| format!("--cpus: {x:?} is not a CPU number"))
        };
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => (num(part)?, num(part)?),
        };
        if lo > hi {
            return Err(format!("--cpus {part:?}: range runs backwards"));
        }
        out.extend(lo..=hi);
    }
    if out.is_empty() {
        return Err("--cpus: no CPU given".into());
    }
    Ok(out)
}

/// Executor count and, when pinning, the CPU of each executor slot.
pub fn threads_and_cpus(
    threads: Option<usize>,
    pin: bool,
    cpus: Option<&str>,
) -> Result<(usize, Option<Vec<usize>>), String> {
    // SAFETY: sysconf has no preconditions.
    let configured = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_CONF) }.max(1) as usize;
    let available = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpus = cpus.map(cpu_list).transpose()?;
    let threads = threads.unwrap_or(cpus.as_ref().map_or(available, Vec::len));
    if !(1..=1024).contains(&threads) {
        return Err(format!("--threads {threads}: must be 1..=1024"));
    }
    let cpus = match cpus {
        Some(c) => Some(c),
        None if pin => Some((0..threads).collect()),
        None => None,
    };
    if let Some(bad) = cpus.iter().flatten().find(|&&c| c >= configured) {
        return Err(format!(
            "CPU {bad} does not exist (this machine has {configured})"
        ));
    }
    Ok((threads, cpus))
}

/// Client IDs must be unique across the run and, for MQTT 3.1, short.
pub fn check_client_ids(c: &Config) -> Result<(), String> {
    let roles = [c.publishers, c.subscribers, c.idle, c.cycles];
    let tpl = &c.client_id;
    if roles.iter().filter(|&&n| n > 0).count() > 1 && !template::uses(tpl, 'R') {
        return Err(format!(
            "--client-id {tpl:?} needs %R: publishers and subscribers would share IDs"
        ));
    }
    if roles.iter().any(|&n| n > 1) && !template::uses(tpl, 'i') {
        return Err(format!(
            "--client-id {tpl:?} needs %i: clients would share one ID"
        ));
    }
    let last = c.start_index.checked_add(roles.iter().max().unwrap() - 1);
    let last = last.ok_or("--start-index plus the client count overflows 32 bits")?;
    let longest = template::expand(tpl, &c.vars(last, c.threads - 1, 'p'));
    if c.version == ProtocolVersion::V3_1 && longest.len() > 23 {
        return Err(format!(
            "client ID {longest:?} is longer than MQTT 3.1's 23 characters; shorten --client-id"
        ));
    }
    if longest.len() > 65_535 {
        return Err("--client-id expands to more than 65535 bytes".into());
    }
    Ok(())
}

/// Publish topics must be valid names, filters valid filters, and in the
/// combined scenarios each filter must catch the topics it is expected to.
pub fn check_topics(c: &Config) -> Result<(), String> {
    template::validate(&c.topic, &['i', 'r'])?;
    template::validate(&c.filter, &['i', 'r'])?;
    let ends = |n: u32| [c.start_index, c.start_index + n.max(1) - 1];
    let topic = |i: u32| template::expand(&c.topic, &c.vars(i, 0, 'p'));
    let filter = |i: u32| template::expand(&c.filter, &c.vars(i, 0, 's'));
    for i in ends(c.publishers).into_iter().filter(|_| c.publishers > 0) {
        let t = topic(i);
        validate_topic_name(&t).map_err(|e| format!("--topic {t:?}: {e}"))?;
        if t.len() > 65_535 {
            return Err("--topic expands to more than 65535 bytes".into());
        }
    }
    for i in ends(c.subscribers)
        .into_iter()
        .filter(|_| c.subscribers > 0)
    {
        let f = filter(i);
        validate_topic_filter(&f).map_err(|e| format!("filter {f:?}: {e}"))?;
    }
    if matches!(c.expect, Expect::AllToAll | Expect::OncePerGroup) {
        for p in ends(c.publishers) {
            let f = filter(c.start_index);
            // A shared filter catches what the filter after its name does.
            let inner = f.strip_prefix("$share/").and_then(|r| r.split_once('/'));
            if !filter_matches(inner.map_or(f.as_str(), |(_, f)| f), &topic(p)) {
                return Err(format!(
                    "filter {:?} does not match publisher topic {:?}",
                    filter(c.start_index),
                    topic(p)
                ));
            }
        }
    }
    Ok(())
}

/// Does `filter` catch `topic` (§4.7)? A start-up check on two validated
/// strings, so a plain walk over the levels does; the broker's matcher is
/// tuned for its hot path and lives in the broker crate.
pub fn filter_matches(filter: &str, topic: &str) -> bool {
    // [MQTT-4.7.2-1]: a wildcard first level does not catch `$` topics.
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut levels = topic.split('/');
    for f in filter.split('/') {
        match (f, levels.next()) {
            // `#` also catches the parent level: `a/#` matches `a`.
            ("#", _) => return true,
            ("+", Some(_)) => {}
            (f, Some(t)) if f == t => {}
            _ => return false,
        }
    }
    levels.next().is_none()
}
