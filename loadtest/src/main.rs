//! shardmq-bench: the load generator shipped with shardmq.
//!
//! `main` only wires things: parse and validate the options (usage errors
//! exit 2 before any connection), check the fd limit, run, report.

mod cli;
mod client;
mod clock;
mod config;
mod limits;
mod net;
mod payload;
mod plot;
mod progress;
mod report;
mod runtime;
mod scenarios;
mod stats;
mod sync;
mod template;
mod tls;
mod units;

use clap::Parser;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    clock::process_start_ns(); // the epoch that screens out older runs' messages
    let cli = cli::Cli::parse();
    if let cli::Command::Plot(p) = &cli.cmd {
        return match plot::command(p) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("shardmq-bench plot: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let cfg = match config::Config::from_cli(cli.cmd) {
        Ok(c) => c,
        Err(e) => return usage(&e),
    };
    if let Err(e) = limits::check_nofile(cfg.connections(), cfg.threads) {
        return usage(&e);
    }
    let cfg = Arc::new(cfg);
    let result = match runtime::run(cfg.clone()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("shardmq-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let summary = report::summarize(&cfg, &result);
    report::print(&summary, cfg.json);
    if let Some(path) = &cfg.plot {
        if let Err(e) = plot::after_run(path, &summary) {
            eprintln!("shardmq-bench: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::from(summary.exit_code)
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("shardmq-bench: {msg}");
    ExitCode::from(report::EXIT_USAGE)
}
