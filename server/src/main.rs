//! The `vigiad` binary: parse the flags, set up logging, run the daemon or a subcommand.

use clap::Parser as _;
use std::process::ExitCode;
use vigiad::cli::{Cli, CliCommand, LogFormat};
use vigiad::config::{self, Config};

fn main() -> ExitCode {
    vigiad::memory::return_large_blocks();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vigiad: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None | Some(CliCommand::Serve) => {
            let cfg = Config::resolve(&cli.paths, &cli.serve)?;
            init_logging(cfg.log_format);
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("vigiad")
                .build()?;
            rt.block_on(vigiad::run(cfg))
        }
        Some(CliCommand::User(cmd)) => {
            init_logging(LogFormat::Text);
            vigiad::admin::user(cmd, &config::resolve_admin_paths(&cli.paths)?)
        }
        Some(CliCommand::Cert(cmd)) => {
            vigiad::admin::cert(cmd, &config::resolve_admin_paths(&cli.paths)?)
        }
    }
}

/// Logs go to stderr (the journal under systemd), one line per event; `RUST_LOG` filters them.
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
