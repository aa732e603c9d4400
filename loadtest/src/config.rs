//! The validated run configuration: every option checked, alone and against
//! the others, before a single socket is opened. Errors are usage errors
//! (exit status 2) with a message that says what to change.

use crate::cli::{Command, Common, FanArgs, P2pArgs, Publishing, Timing};
use crate::clock::secs_to_ns;
use crate::payload::HEADER_LEN;
use crate::template;
use crate::tls::{self, TlsClient};
use shardmq_protocol::{ProtocolVersion, QoS};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

mod conn;
mod parse;
#[cfg(test)]
mod tests;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Conn,
    Pub,
    Sub,
    Fanin,
    Fanout,
    P2p,
    ConnectRate,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Conn => "conn",
            Kind::Pub => "pub",
            Kind::Sub => "sub",
            Kind::Fanin => "fanin",
            Kind::Fanout => "fanout",
            Kind::P2p => "p2p",
            Kind::ConnectRate => "connect-rate",
        }
    }
}

/// Which subscriber must receive which publisher's messages; what loss is
/// measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Every subscriber, every publisher (fanin, fanout).
    AllToAll,
    /// Subscriber i, publisher i only (p2p).
    Pairs,
    /// The subscribers are one shared subscription group (`--shared-group`):
    /// every publisher's message once over all of them.
    OncePerGroup,
    /// The publishers are elsewhere (`sub`) or there are no subscribers:
    /// loss can only be seen as gaps in sequence numbers.
    Unknown,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub kind: Kind,
    pub addr: SocketAddr,
    pub source_ips: Vec<IpAddr>,
    pub connect_timeout: Duration,
    pub version: ProtocolVersion,
    /// MQTT 5 topic aliases (`--topic-alias`).
    pub topic_alias: bool,
    pub client_id: String,
    pub clean_session: bool,
    pub keepalive: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    pub threads: usize,
    pub cpus: Option<Vec<usize>>,
    pub json: bool,
    /// `--plot FILE`: the chart to draw after the run.
    pub plot: Option<std::path::PathBuf>,
    pub quiet: bool,
    pub run_tag: String,
    /// Carried in every payload (see `payload`).
    pub run_id: u8,
    pub start_index: u32,
    /// Connections opened per second, all threads together.
    pub conn_rate: f64,
    pub publishers: u32,
    pub subscribers: u32,
    /// Idle connections (`conn`).
    pub idle: u32,
    pub load: Load,
    /// Publish topic template (%i, %r).
    pub topic: String,
    /// Subscription filter template (%i, %r).
    pub filter: String,
    pub expect: Expect,
    /// `conn`: how long to hold once all are open.
    pub hold_ns: u64,
    /// PINGREQ period of idle clients; 0 = never.
    pub ping_ns: u64,
    /// `--tls`: how to wrap every connection.
    pub tls: Option<TlsClient>,
    /// `connect-rate`: connections opened in all, how many at once, and
    /// how long opening them may take.
    pub cycles: u32,
    pub concurrency: u32,
    pub time_limit_ns: u64,
}

/// What publishers do and when.
#[derive(Debug, Clone)]
pub struct Load {
    pub qos: QoS,
    pub payload: usize,
    /// Messages per second per publisher; `None` = as fast as possible.
    pub rate: Option<f64>,
    pub warmup_ns: u64,
    pub duration_ns: u64,
    pub drain_ns: u64,
    pub inflight: usize,
}

impl Config {
    /// Connections open at the same time.
    pub fn connections(&self) -> u64 {
        u64::from(self.publishers)
            + u64::from(self.subscribers)
            + u64::from(self.idle)
            + u64::from(self.concurrency)
    }

    /// Handshakes the run makes in all (`connect-rate` reuses its slots).
    pub fn handshakes(&self) -> u64 {
        if self.kind == Kind::ConnectRate {
            u64::from(self.cycles)
        } else {
            self.connections()
        }
    }

    /// The vars a client's templates are expanded with.
    pub fn vars(&self, index: u32, thread: usize, role: char) -> template::Vars<'_> {
        template::Vars {
            index: u64::from(index),
            thread,
            run: &self.run_tag,
            role,
        }
    }

    pub fn from_cli(cmd: Command) -> Result<Config, String> {
        let run_tag = template::run_tag();
        match cmd {
            Command::Conn(a) => conn::conn(a, run_tag),
            Command::ConnectRate(a) => conn::connect_rate(a, run_tag),
            Command::Pub(a) => {
                let mut c = base(Kind::Pub, &a.common, run_tag)?;
                c.load = load(&a.timing, Some(&a.publishing))?;
                c.publishers = positive_count(a.count, "--count")?;
                c.topic = a.topic;
                finish(c)
            }
            Command::Sub(a) => {
                let mut c = base(Kind::Sub, &a.common, run_tag)?;
                c.load = load(&a.timing, None)?;
                c.subscribers = positive_count(a.count, "--count")?;
                c.filter = a.topic;
                finish(c)
            }
            Command::Fanin(a) => fan(Kind::Fanin, a, run_tag),
            Command::Fanout(a) => fan(Kind::Fanout, a, run_tag),
            Command::P2p(a) => p2p(a, run_tag),
            Command::Plot(_) => Err("`plot` draws saved results; it runs nothing".into()),
        }
    }
}

fn p2p(a: P2pArgs, run_tag: String) -> Result<Config, String> {
    let mut c = base(Kind::P2p, &a.common, run_tag)?;
    c.load = load(&a.timing, Some(&a.publishing))?;
    c.publishers = positive_count(a.pairs, "--pairs")?;
    c.subscribers = c.publishers;
    if c.publishers > 1 && !template::uses(&a.topic, 'i') {
        return Err(format!(
            "p2p --topic {:?} must contain %i: every pair needs its own topic",
            a.topic
        ));
    }
    c.topic = a.topic.clone();
    c.filter = a.topic;
    c.expect = Expect::Pairs;
    finish(c)
}

fn fan(kind: Kind, a: FanArgs, run_tag: String) -> Result<Config, String> {
    let mut c = base(kind, &a.common, run_tag)?;
    c.load = load(&a.timing, Some(&a.publishing))?;
    let (p, s, t) = match kind {
        Kind::Fanin => (10, 1, "bench/%i/t"),
        _ => (1, 10, "bench/fanout"),
    };
    c.publishers = positive_count(a.publishers.unwrap_or(p), "--publishers")?;
    c.subscribers = positive_count(a.subscribers.unwrap_or(s), "--subscribers")?;
    c.topic = a.topic.unwrap_or_else(|| t.to_string());
    c.filter = match a.filter {
        Some(f) => f,
        None => template::filter_for(&c.topic).ok_or_else(|| {
            format!(
                "--topic {:?} has %i inside a level, so no filter catches exactly its \
                 topics; give --filter",
                c.topic
            )
        })?,
    };
    if template::uses(&c.filter, 'i') {
        return Err(format!(
            "--filter {:?}: in {} every subscriber takes every publisher, %i is not allowed",
            c.filter,
            kind.name()
        ));
    }
    c.expect = Expect::AllToAll;
    if let Some(name) = a.shared_group {
        // [MQTT-4.8.2-1/-2]: at least one character, no "/", "+" or "#".
        if name.is_empty() || name.contains(['/', '+', '#']) {
            return Err(format!(
                "--shared-group {name:?}: a share name is not empty and has no '/', '+' or '#'"
            ));
        }
        c.filter = format!("$share/{name}/{}", c.filter);
        c.expect = Expect::OncePerGroup;
    }
    finish(c)
}

/// A command line parsed and checked as `main` does (tests).
#[cfg(test)]
pub fn from_args(args: &str) -> Result<Config, String> {
    use clap::Parser;
    let argv = std::iter::once("shardmq-bench").chain(args.split_whitespace());
    let cli = crate::cli::Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
    Config::from_cli(cli.cmd)
}

/// Options of [`Common`], checked.
fn base(kind: Kind, a: &Common, run_tag: String) -> Result<Config, String> {
    let addr = (a.host.as_str(), a.port)
        .to_socket_addrs()
        .map_err(|e| format!("--host {}: {e}", a.host))?
        .next()
        .ok_or_else(|| format!("--host {}: no address", a.host))?;
    let source_ips = match &a.source_ips {
        Some(s) => parse::ip_list(s)?,
        None => Vec::new(),
    };
    if source_ips.iter().any(|ip| ip.is_ipv4() != addr.is_ipv4()) {
        return Err("--source-ips must be of the same family as the broker address".into());
    }
    if a.topic_alias && a.mqtt != ProtocolVersion::V5 {
        return Err("--topic-alias needs --mqtt-version 5".into());
    }
    if a.password.is_some() && a.username.is_none() {
        // [MQTT-3.1.2-22]: no password without a user name.
        return Err("--password needs --username (MQTT 3.1.1 §3.1.2.9)".into());
    }
    let (threads, cpus) = parse::threads_and_cpus(a.threads, a.pin, a.cpus.as_deref())?;
    template::validate(&a.client_id, &['i', 't', 'r', 'R'])?;
    Ok(Config {
        kind,
        addr,
        source_ips,
        connect_timeout: Duration::from_secs_f64(positive(a.connect_timeout, "--connect-timeout")?),
        version: a.mqtt,
        topic_alias: a.topic_alias,
        client_id: a.client_id.clone(),
        clean_session: a.clean_session,
        keepalive: a.keepalive,
        username: a.username.clone(),
        password: a.password.clone(),
        threads,
        cpus,
        json: a.json,
        plot: match &a.plot {
            Some(p) => crate::plot::format_of(p).map(|_| Some(p.clone()))?,
            None => None,
        },
        quiet: a.quiet,
        run_id: template::run_id(&run_tag),
        run_tag,
        start_index: a.start_index,
        conn_rate: positive(a.conn_rate, "--conn-rate")?,
        publishers: 0,
        subscribers: 0,
        idle: 0,
        load: Load {
            qos: QoS::AtMostOnce,
            payload: HEADER_LEN,
            rate: None,
            warmup_ns: 0,
            duration_ns: 0,
            drain_ns: 0,
            inflight: 1,
        },
        topic: String::new(),
        filter: String::new(),
        expect: Expect::Unknown,
        hold_ns: 0,
        ping_ns: u64::from(a.keepalive) * 500_000_000,
        tls: tls::from_args(&a.tls, &a.host)?,
        cycles: 0,
        concurrency: 0,
        time_limit_ns: 0,
    })
}

fn load(t: &Timing, p: Option<&Publishing>) -> Result<Load, String> {
    let mut l = Load {
        qos: QoS::from_u8(t.qos).ok_or("--qos must be 0, 1 or 2")?,
        payload: HEADER_LEN,
        rate: None,
        warmup_ns: secs_to_ns(non_negative(t.warmup, "--warmup")?),
        duration_ns: secs_to_ns(positive(t.duration, "--duration")?),
        drain_ns: secs_to_ns(non_negative(t.drain, "--drain")?),
        inflight: 1,
    };
    if let Some(p) = p {
        if p.payload < HEADER_LEN {
            return Err(format!(
                "--payload {} is smaller than the {HEADER_LEN}-byte header every message \
                 carries (magic, run id, publisher id, sequence, send time)",
                p.payload
            ));
        }
        if p.payload > 256 << 20 {
            return Err("--payload larger than MQTT's 256 MiB packet limit".into());
        }
        l.payload = p.payload;
        l.rate = p.rate.map(|r| positive(r, "--rate")).transpose()?;
        if !(1..=65_535).contains(&p.inflight) {
            return Err("--inflight must be 1..=65535 (packet identifiers are 16-bit)".into());
        }
        l.inflight = p.inflight as usize;
    }
    Ok(l)
}

/// Checks that need the whole configuration: templates against roles and
/// counts, topics against filters.
fn finish(c: Config) -> Result<Config, String> {
    parse::check_client_ids(&c)?;
    parse::check_topics(&c)?;
    Ok(c)
}

fn positive(v: f64, name: &str) -> Result<f64, String> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(format!("{name} must be greater than 0 (got {v})"))
    }
}

fn non_negative(v: f64, name: &str) -> Result<f64, String> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(format!("{name} must be 0 or more (got {v})"))
    }
}

fn positive_count(v: u32, name: &str) -> Result<u32, String> {
    if v == 0 {
        return Err(format!("{name} must be at least 1"));
    }
    Ok(v)
}
