//! `shardmq`: command line, configuration, logging; then the shards run
//! until SIGINT/SIGTERM.

use clap::Parser;
use shardmq::config::Config;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A thread-per-core MQTT broker.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Address to listen on for MQTT over TCP [default: 127.0.0.1:1883].
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<SocketAddr>,
    /// Number of shards (one pinned thread each) [default: the CPUs available].
    #[arg(long, value_name = "N")]
    shards: Option<usize>,
    /// Serve Prometheus metrics on http://ADDR:PORT/metrics [default: off].
    #[arg(long, value_name = "ADDR:PORT")]
    metrics_listen: Option<SocketAddr>,
    /// TOML configuration file (every limit; see docs/configuration.md).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let cfg = match load(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("shardmq: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&cfg.log);
    match shardmq::shard::run(cfg) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shardmq: {e}");
            ExitCode::FAILURE
        }
    }
}

fn load(args: &Args) -> Result<Config, String> {
    let mut cfg = match &args.config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    if let Some(l) = args.listen {
        cfg.listen = Some(l);
    }
    if let Some(m) = args.metrics_listen {
        cfg.metrics_listen = Some(m);
    }
    if let Some(n) = args.shards {
        cfg.shards = n;
    }
    cfg.validate()?;
    Ok(cfg)
}

fn init_logging(default_filter: &str) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
