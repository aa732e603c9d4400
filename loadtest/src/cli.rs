//! Command line: scenarios as subcommands, options grouped so each
//! subcommand only shows the ones that mean something for it. Checking
//! them against each other happens in `config`.

use clap::{Args, Parser, Subcommand};
use shardmq_protocol::ProtocolVersion;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "shardmq-bench",
    version,
    about = "Load generator for MQTT brokers: connections, fan-in, fan-out, point-to-point",
    after_help = "Exit status: 0 ok; 2 usage error; 3 delivery promise broken (QoS 1 \
                  loss, QoS 2 loss or duplicate, a QoS 1/2 publish never acknowledged, a \
                  message delivered to a client that never subscribed); 4 broker refused or \
                  dropped connections, or the run hit its hard deadline."
)]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Open N connections at --rate per second, hold them (PINGREQ every
    /// --ping-interval), then close.
    Conn(ConnArgs),
    /// Publishers only (pair with `sub` in another process on this machine).
    Pub(PubArgs),
    /// Subscribers only (pair with `pub` in another process on this machine).
    Sub(SubArgs),
    /// P publishers on their own topics -> S subscribers on a wildcard.
    Fanin(FanArgs),
    /// P publishers on one topic -> S subscribers on it.
    Fanout(FanArgs),
    /// N pairs: publisher i -> subscriber i on topic i.
    P2p(P2pArgs),
    /// Handshake rate: N fresh connections, C at a time, each CONNECT ->
    /// CONNACK -> DISCONNECT -> close; connections per second and
    /// handshake + CONNACK latency.
    ConnectRate(ConnectRateArgs),
    /// Draw saved `--json` results on one chart: latency percentile curves
    /// and throughput over time, one series per file.
    Plot(PlotArgs),
}

/// Connection options every scenario has.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Broker host name or address.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Broker port.
    #[arg(long, default_value_t = 1883)]
    pub port: u16,
    /// Protocol version: 3.1.1, 3.1 or 5.
    #[arg(long = "mqtt-version", visible_alias = "mqtt", value_name = "VERSION", default_value = "3.1.1", value_parser = parse_mqtt)]
    pub mqtt: ProtocolVersion,
    /// MQTT 5: publishers send their topic once, then only its Topic Alias;
    /// every client lets the broker use 16 aliases towards it.
    #[arg(long)]
    pub topic_alias: bool,
    /// Client ID template: %i index, %t thread, %r random run tag, %R role
    /// (p/s/c), %% a percent sign.
    #[arg(long, value_name = "TEMPLATE", default_value = "bench-%r-%R%i")]
    pub client_id: String,
    /// Clean session flag of CONNECT.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    pub clean_session: bool,
    /// Keep-alive in seconds (0 = none); idle clients PINGREQ at half of it.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub keepalive: u16,
    #[arg(long)]
    pub username: Option<String>,
    #[arg(long)]
    pub password: Option<String>,
    /// Executor threads [default: CPUs available, or the number of --cpus].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Pin executor k to CPU k (or to the k-th of --cpus).
    #[arg(long)]
    pub pin: bool,
    /// CPUs to pin the executors to, e.g. "1" or "0,2-3" (implies --pin).
    #[arg(long, value_name = "LIST")]
    pub cpus: Option<String>,
    /// Local source addresses to bind before connect, round robin, e.g.
    /// "127.0.0.2-127.0.0.200" or "10.0.0.1,10.0.0.2".
    #[arg(long, value_name = "IPS")]
    pub source_ips: Option<String>,
    /// Connections opened per second, all threads together (conn: use --rate).
    #[arg(long, value_name = "PER_SEC", default_value_t = 1000.0)]
    pub conn_rate: f64,
    /// Seconds to wait for TCP connect (+ TLS handshake) + CONNACK (and SUBACK).
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub connect_timeout: f64,
    /// First client index (%i and publisher id), to run several processes
    /// side by side without collisions.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub start_index: u32,
    /// Print the final result as one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also draw the latency distribution (percentile curve, log scale)
    /// and the throughput over time into FILE (.svg or .png).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<std::path::PathBuf>,
    /// No per-second progress lines.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// TLS (every scenario).
#[derive(Args, Debug, Clone, Default)]
pub struct TlsArgs {
    /// Connect over TLS 1.2/1.3 (needs --cafile or --insecure).
    #[arg(long)]
    pub tls: bool,
    /// PEM CA bundle the broker's certificate must chain to.
    #[arg(long, value_name = "FILE")]
    pub cafile: Option<PathBuf>,
    /// Accept any broker certificate (signatures are still checked).
    #[arg(long)]
    pub insecure: bool,
    /// PEM client certificate chain, for brokers that ask for one (mTLS).
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// PEM private key of --cert.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Name the broker's certificate is checked against, sent as SNI
    /// [default: --host].
    #[arg(long, value_name = "NAME")]
    pub server_name: Option<String>,
}

/// When and how long to measure, and at which QoS.
#[derive(Args, Debug, Clone)]
pub struct Timing {
    /// QoS of publishes and subscriptions.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
    pub qos: u8,
    /// Seconds measured (after the warmup).
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds of traffic before measuring; not recorded.
    #[arg(long, value_name = "SECS", default_value_t = 0.0)]
    pub warmup: f64,
    /// Seconds to wait after publishing stops for in-flight deliveries.
    #[arg(long, value_name = "SECS", default_value_t = 2.0)]
    pub drain: f64,
}

/// What publishers send.
#[derive(Args, Debug, Clone)]
pub struct Publishing {
    /// Payload size in bytes (at least 16: timestamp, publisher id, sequence).
    #[arg(long, value_name = "BYTES", default_value_t = 64)]
    pub payload: usize,
    /// Messages per second per publisher [default: as fast as possible].
    #[arg(long, value_name = "MSGS_PER_SEC")]
    pub rate: Option<f64>,
    /// QoS 1/2 messages in flight per publisher.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub inflight: u32,
}

#[derive(Args, Debug, Clone)]
pub struct ConnArgs {
    #[command(flatten)]
    pub common: Common,
    /// Connections to open.
    #[arg(short = 'n', long, default_value_t = 1000)]
    pub count: u32,
    /// Connections opened per second.
    #[arg(long, value_name = "PER_SEC", default_value_t = 1000.0)]
    pub rate: f64,
    /// Seconds to hold the connections once all are open.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub hold: f64,
    /// Seconds between PINGREQs of each connection [default: keepalive/2].
    #[arg(long, value_name = "SECS")]
    pub ping_interval: Option<f64>,
}

#[derive(Args, Debug, Clone)]
pub struct PubArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub timing: Timing,
    #[command(flatten)]
    pub publishing: Publishing,
    /// Publishers.
    #[arg(short = 'n', long, default_value_t = 1)]
    pub count: u32,
    /// Topic template (%i publisher index, %r run tag).
    #[arg(long, value_name = "TEMPLATE", default_value = "bench/%i/t")]
    pub topic: String,
}

#[derive(Args, Debug, Clone)]
pub struct SubArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub timing: Timing,
    /// Subscribers.
    #[arg(short = 'n', long, default_value_t = 1)]
    pub count: u32,
    /// Topic filter template (%i subscriber index, %r run tag).
    #[arg(long, value_name = "TEMPLATE", default_value = "bench/+/t")]
    pub topic: String,
}

#[derive(Args, Debug, Clone)]
pub struct FanArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub timing: Timing,
    #[command(flatten)]
    pub publishing: Publishing,
    /// Publishers [default: fanin 10, fanout 1].
    #[arg(long, value_name = "N")]
    pub publishers: Option<u32>,
    /// Subscribers [default: fanin 1, fanout 10].
    #[arg(long, value_name = "N")]
    pub subscribers: Option<u32>,
    /// Publish topic template (%i publisher index, %r run tag)
    /// [default: fanin "bench/%i/t", fanout "bench/fanout"].
    #[arg(long, value_name = "TEMPLATE")]
    pub topic: Option<String>,
    /// Subscription filter [default: the topic with each "%i" level as "+"].
    #[arg(long, value_name = "FILTER")]
    pub filter: Option<String>,
    /// Subscribers join shared subscription group NAME ("$share/NAME/FILTER"):
    /// each message is expected once over all of them, not once each.
    #[arg(long, value_name = "NAME")]
    pub shared_group: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct P2pArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub timing: Timing,
    #[command(flatten)]
    pub publishing: Publishing,
    /// Publisher/subscriber pairs.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub pairs: u32,
    /// Topic template of pair %i (%r run tag).
    #[arg(long, value_name = "TEMPLATE", default_value = "bench/p2p/%i")]
    pub topic: String,
}

#[derive(Args, Debug, Clone)]
pub struct ConnectRateArgs {
    #[command(flatten)]
    pub common: Common,
    /// Connections to open, one after the other per slot.
    #[arg(short = 'n', long, default_value_t = 1000)]
    pub connections: u32,
    /// Handshakes in flight at once, over all threads.
    #[arg(short = 'c', long, value_name = "C", default_value_t = 10)]
    pub concurrency: u32,
    /// Stop opening connections after this many seconds, done or not.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub time_limit: f64,
}

#[derive(Args, Debug, Clone)]
pub struct PlotArgs {
    /// `--json` results, one series each, named by the file name without
    /// `.json`, or NAME=FILE.
    #[arg(required = true, value_name = "JSON")]
    pub files: Vec<String>,
    /// The chart to write: .svg or .png.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: std::path::PathBuf,
    /// Title [default: the first run's scenario, clients, QoS, payload].
    #[arg(long)]
    pub title: Option<String>,
}

fn parse_mqtt(s: &str) -> Result<ProtocolVersion, String> {
    match s {
        "3.1.1" | "311" | "4" => Ok(ProtocolVersion::V3_1_1),
        "3.1" | "31" | "3" => Ok(ProtocolVersion::V3_1),
        "5" | "5.0" => Ok(ProtocolVersion::V5),
        _ => Err("expected 3.1.1, 3.1 or 5".into()),
    }
}
