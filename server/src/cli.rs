//! Command-line flags. Every serve flag is optional here so that the config file can supply it;
//! `config` merges the two (flags win) into a validated [`crate::config::Config`].

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use vigia_shared::Role;

#[derive(Debug, Parser)]
#[command(
    name = "vigiad",
    version,
    about = "Vigía daemon: list, start and stop processes remotely, over TLS"
)]
pub struct Cli {
    #[command(flatten)]
    pub paths: PathArgs,
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

/// Where things live; shared by the daemon and the admin subcommands.
#[derive(Debug, Clone, Default, Args)]
pub struct PathArgs {
    /// TOML config file; it may hold every flag, and flags win over it.
    #[arg(long, global = true, value_name = "FILE", env = "VIGIAD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory [default: /var/lib/vigia as root, else the user's data directory].
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Users file [default: users.json in the data directory].
    #[arg(long, global = true, value_name = "FILE")]
    pub users: Option<PathBuf>,
    /// TLS certificate chain, PEM [default: cert.pem in the data directory, made at first start].
    #[arg(long, global = true, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// TLS private key, PEM [default: key.pem in the data directory, made at first start].
    #[arg(long, global = true, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
}

/// Flags of the daemon itself.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Address and port of the TLS protocol [default: all interfaces, port 5000].
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Milliseconds between two samples of the system and its processes [default: 1000].
    #[arg(long, value_name = "MS")]
    pub sample_interval_ms: Option<u64>,
    /// Milliseconds STOP waits after SIGTERM before SIGKILL [default: 5000].
    #[arg(long, value_name = "MS")]
    pub stop_grace_ms: Option<u64>,
    /// Log format: text (one human-readable line per event) or json [default: text].
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    /// Most connections open at once [default: 1024].
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Most connections open at once from one client address [default: 128].
    #[arg(long, value_name = "N")]
    pub max_connections_per_ip: Option<usize>,
    /// Address and port of the web panel [default: all interfaces, port 7000].
    #[arg(long, value_name = "ADDR:PORT")]
    pub web_listen: Option<SocketAddr>,
    /// Do not serve the web panel.
    #[arg(long)]
    pub no_web: bool,
    /// Serve the web panel over plain HTTP; allowed only on a loopback address.
    #[arg(long)]
    pub web_plain_http: bool,
    /// Seconds of inactivity after which a web panel session ends [default: 1800].
    #[arg(long, value_name = "SECS")]
    pub web_session_timeout_secs: Option<u64>,
    /// File with the bearer token for Prometheus scrapes of /metrics (off without it).
    #[arg(long, value_name = "FILE")]
    pub metrics_token_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Run the daemon (the default when no subcommand is given).
    Serve,
    /// Manage the users file.
    #[command(subcommand)]
    User(UserCommand),
    /// Inspect the TLS certificate.
    #[command(subcommand)]
    Cert(CertCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is asked for without echo.
    Add {
        name: String,
        #[arg(long, default_value = "operator")]
        role: Role,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change a user's password (also turns a plaintext entry into a hash).
    Passwd {
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a user.
    Remove { name: String },
    /// List users and their roles.
    List,
}

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Print the certificate's path and SHA-256 fingerprint.
    Show,
}
