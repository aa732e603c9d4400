//! `shardmq`: command line, configuration, logging; then the shards run
//! until SIGINT/SIGTERM. `shardmq passwd` edits a password file instead,
//! `shardmq check-config` checks a configuration, `shardmq check-data` a
//! data directory.

use clap::{Parser, Subcommand};
use shardmq::auth::passwd;
use shardmq::config::{Config, LogFormat};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `--version`: what was built, from which commit, on which glommio
/// (build.rs finds both).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SHARDMQ_GIT_COMMIT"),
    ", glommio ",
    env!("SHARDMQ_GLOMMIO_VERSION"),
    ")"
);

/// A thread-per-core MQTT broker.
#[derive(Parser, Debug)]
#[command(version = VERSION, about, args_conflicts_with_subcommands = true)]
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
    /// Keep sessions, queues and retained messages in DIR across restarts
    /// (docs/persistence.md) [default: off].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// TOML configuration file (every limit; see docs/configuration.md).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Log lines as text or as JSON, one object per line [default: text].
    #[arg(long, value_name = "FORMAT")]
    log_format: Option<LogFormatArg>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum LogFormatArg {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Add, change or delete a user in a password file (the flags of
    /// mosquitto_passwd). Passwords are stored as argon2id hashes.
    Passwd(PasswdArgs),
    /// Check a configuration file as start-up would (values, certificates,
    /// password and ACL files) without starting: exit 0 if it is fine,
    /// else name every problem and exit 1.
    CheckConfig {
        /// The TOML configuration file.
        file: PathBuf,
    },
    /// Check a data directory (persistence.dir) as start-up would: per
    /// shard, segments, records, a torn tail, corruption or a missing
    /// segment. Exit 0 if start-up would accept it, else 1.
    CheckData {
        /// The data directory.
        dir: PathBuf,
        /// Cut each damaged stream at its last good record (truncates that
        /// segment, deletes later ones) and say what was removed.
        #[arg(long)]
        repair: bool,
    },
}

/// `shardmq passwd [-c] FILE USER`, `shardmq passwd [-c] -b FILE USER
/// PASSWORD`, `shardmq passwd -D FILE USER`.
#[derive(clap::Args, Debug)]
struct PasswdArgs {
    /// Create the file, or overwrite it if it exists.
    #[arg(short = 'c', conflicts_with = "delete")]
    create: bool,
    /// Batch mode: the password is the last argument (visible to `ps` and
    /// shell history; prefer the prompt).
    #[arg(short = 'b', conflicts_with = "delete", requires = "password")]
    batch: bool,
    /// Delete USER from the file.
    #[arg(short = 'D')]
    delete: bool,
    /// The password file.
    file: PathBuf,
    /// The user name (no ':').
    user: String,
    /// The password, with -b only.
    #[arg(requires = "batch")]
    password: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Some(Command::Passwd(p)) => return run_passwd(p),
        Some(Command::CheckConfig { file }) => return check_config(&file),
        Some(Command::CheckData { dir, repair }) => {
            return shardmq::persist::check::command(&dir, repair)
        }
        None => {}
    }
    let cfg = match load(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("shardmq: {e}");
            return ExitCode::from(2);
        }
    };
    shardmq::logging::init(&cfg.log, cfg.log_format);
    match shardmq::shard::run(cfg) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shardmq: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_passwd(p: PasswdArgs) -> ExitCode {
    let action = match p.delete {
        true => passwd::Action::Delete,
        false => passwd::Action::Set(p.password),
    };
    let req = passwd::Request {
        file: p.file,
        user: p.user,
        create: p.create,
        action,
    };
    match passwd::run(req) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shardmq passwd: {e}");
            ExitCode::FAILURE
        }
    }
}

fn check_config(file: &std::path::Path) -> ExitCode {
    let problems = shardmq::check::config_file(file);
    if problems.is_empty() {
        println!("{}: ok", file.display());
        return ExitCode::SUCCESS;
    }
    for p in &problems {
        eprintln!("{}: {p}", file.display());
    }
    let n = problems.len();
    eprintln!("{n} problem{}", if n == 1 { "" } else { "s" });
    ExitCode::FAILURE
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
    if let Some(d) = &args.data_dir {
        cfg.persistence.dir = Some(d.clone());
    }
    if let Some(n) = args.shards {
        cfg.shards = n;
    }
    match args.log_format {
        Some(LogFormatArg::Text) => cfg.log_format = LogFormat::Text,
        Some(LogFormatArg::Json) => cfg.log_format = LogFormat::Json,
        None => {}
    }
    cfg.validate()?;
    Ok(cfg)
}
