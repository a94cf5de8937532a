//! The daemon's configuration: the TOML file and the flags, merged (flags win) and validated
//! into one [`Config`] that the rest of the daemon reads.

use crate::cli::{LogFormat, PathArgs, ServeArgs};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Default TLS protocol port.
pub const DEFAULT_PORT: u16 = 5000;

/// Default web panel port.
pub const DEFAULT_WEB_PORT: u16 = 7000;

/// Why the configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file '{path}': {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file '{path}': {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("no data directory: set --data-dir (no home directory was found)")]
    NoDataDir,
}

/// The config file: every key optional, unknown keys refused so that a typo is not ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub users: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub sample_interval_ms: Option<u64>,
    pub stop_grace_ms: Option<u64>,
    pub log_format: Option<LogFormat>,
    pub max_connections: Option<usize>,
    pub max_connections_per_ip: Option<usize>,
    /// Failed logins allowed (per client address and per user) before lock-outs begin.
    pub lockout_failures: Option<u32>,
    /// First lock-out, seconds; it doubles with each further failure.
    pub lockout_first_secs: Option<u64>,
    /// Longest lock-out, seconds.
    pub lockout_max_secs: Option<u64>,
    pub web_listen: Option<SocketAddr>,
    pub no_web: Option<bool>,
    pub web_plain_http: Option<bool>,
    pub web_session_timeout_secs: Option<u64>,
    /// Extra host names the web panel answers to (besides localhost, IP addresses and the
    /// machine's host name), e.g. a DNS name the admins use.
    pub web_hosts: Option<Vec<String>>,
    /// When vigiad runs as root, started processes run as this account (default `nobody`;
    /// `"root"` only if said here).
    pub run_as: Option<String>,
    /// When set, START runs only these programs (paths, or names in the system PATH).
    pub allowed_programs: Option<Vec<String>>,
    /// File holding the bearer token that Prometheus sends to `/metrics` on the web port;
    /// without it the endpoint is off.
    pub metrics_token_file: Option<PathBuf>,
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(source),
        })
    }
}

/// Where the daemon keeps its files.
#[derive(Debug, Clone)]
pub struct Paths {
    pub data_dir: PathBuf,
    pub users: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The certificate pair was given by the admin (never generated).
    pub cert_given: bool,
}

impl Paths {
    /// Directory of started processes' output logs.
    pub fn logs_dir(&self) -> PathBuf {
        self.data_dir.join("logs")
    }

    /// File of the processes started through the daemon.
    pub fn started_file(&self) -> PathBuf {
        self.data_dir.join("started.jsonl")
    }

    /// The audit database.
    pub fn audit_file(&self) -> PathBuf {
        self.data_dir.join("audit.db")
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub paths: Paths,
    pub sample_interval: Duration,
    pub stop_grace: Duration,
    pub log_format: LogFormat,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    pub lockout: crate::auth::lockout::Policy,
    /// TLS handshake limit.
    pub handshake_timeout: Duration,
    /// Idle limit before login.
    pub login_timeout: Duration,
    /// Idle limit after login.
    pub idle_timeout: Duration,
    /// Limit on writing one reply to a client.
    pub write_timeout: Duration,
    /// Samples of status history kept (one per sample interval).
    pub history_len: usize,
    /// The web panel's settings.
    pub web: WebConfig,
    /// Account of started processes when root (see [`FileConfig::run_as`]).
    pub run_as: Option<String>,
    pub allowed_programs: Option<Vec<String>>,
    pub metrics_token_file: Option<PathBuf>,
}

/// Settings of the web panel.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Serve the panel at all (`--no-web` turns it off).
    pub enabled: bool,
    pub listen: SocketAddr,
    /// Plain HTTP instead of HTTPS; only ever true on a loopback address.
    pub plain_http: bool,
    /// A session ends after this long without a request.
    pub session_timeout: Duration,
    /// Extra host names accepted in the `Host` header.
    pub hosts: Vec<String>,
}

impl WebConfig {
    /// Checks what only makes sense together: plain HTTP away from loopback would send
    /// passwords across a network in clear.
    fn resolve(serve: &ServeArgs, file: &FileConfig) -> Result<Self, ConfigError> {
        let listen = serve
            .web_listen
            .or(file.web_listen)
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], DEFAULT_WEB_PORT)));
        let enabled = !(serve.no_web || file.no_web.unwrap_or(false));
        let plain_http = serve.web_plain_http || file.web_plain_http.unwrap_or(false);
        if enabled && plain_http && !listen.ip().is_loopback() {
            return Err(ConfigError::Invalid(format!(
                "web_plain_http is allowed only on a loopback address, and the web panel listens \
                 on '{listen}': passwords would cross the network in clear; drop \
                 --web-plain-http (HTTPS is the default) or use --web-listen 127.0.0.1:{}",
                listen.port()
            )));
        }
        let secs = serve
            .web_session_timeout_secs
            .or(file.web_session_timeout_secs)
            .unwrap_or(1800);
        if !(10..=7 * 24 * 3600).contains(&secs) {
            return Err(ConfigError::Invalid(format!(
                "web session timeout '{secs}' s is out of range: use 10 to 604800"
            )));
        }
        Ok(Self {
            enabled,
            listen,
            plain_http,
            session_timeout: Duration::from_secs(secs),
            hosts: file.web_hosts.clone().unwrap_or_default(),
        })
    }
}

impl Config {
    /// Merges flags over the file (read from `paths.config` when given) and validates.
    pub fn resolve(paths: &PathArgs, serve: &ServeArgs) -> Result<Self, ConfigError> {
        let file = match &paths.config {
            Some(p) => FileConfig::load(p)?,
            None => FileConfig::default(),
        };
        Self::merge(paths, serve, file)
    }

    pub fn merge(
        paths: &PathArgs,
        serve: &ServeArgs,
        file: FileConfig,
    ) -> Result<Self, ConfigError> {
        let resolved = resolve_paths(paths, &file)?;
        let sample_ms = serve
            .sample_interval_ms
            .or(file.sample_interval_ms)
            .unwrap_or(1000);
        if !(100..=60_000).contains(&sample_ms) {
            return Err(ConfigError::Invalid(format!(
                "sample interval '{sample_ms}' ms is out of range: use 100 to 60000"
            )));
        }
        let grace_ms = serve.stop_grace_ms.or(file.stop_grace_ms).unwrap_or(5000);
        if grace_ms > vigia_shared::proto::limits::MAX_GRACE_MS {
            return Err(ConfigError::Invalid(format!(
                "stop grace '{grace_ms}' ms is too long: at most {}",
                vigia_shared::proto::limits::MAX_GRACE_MS
            )));
        }
        let max_connections = serve
            .max_connections
            .or(file.max_connections)
            .unwrap_or(1024);
        if max_connections == 0 {
            return Err(ConfigError::Invalid(
                "max_connections must be at least 1".into(),
            ));
        }
        let max_connections_per_ip = serve
            .max_connections_per_ip
            .or(file.max_connections_per_ip)
            .unwrap_or(128);
        if max_connections_per_ip == 0 {
            return Err(ConfigError::Invalid(
                "max_connections_per_ip must be at least 1".into(),
            ));
        }
        let mut lockout = crate::auth::lockout::Policy::default();
        if let Some(n) = file.lockout_failures {
            lockout.free_failures = n;
        }
        if let Some(s) = file.lockout_first_secs {
            lockout.first_lock = Duration::from_secs(s);
        }
        if let Some(s) = file.lockout_max_secs {
            lockout.max_lock = Duration::from_secs(s);
        }
        let web = WebConfig::resolve(serve, &file)?;
        let sample_interval = Duration::from_millis(sample_ms);
        Ok(Self {
            listen: serve
                .listen
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], DEFAULT_PORT))),
            paths: resolved,
            sample_interval,
            stop_grace: Duration::from_millis(grace_ms),
            log_format: serve.log_format.or(file.log_format).unwrap_or_default(),
            max_connections,
            max_connections_per_ip,
            lockout,
            handshake_timeout: Duration::from_secs(10),
            login_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(3600),
            write_timeout: Duration::from_secs(30),
            history_len: (3_600_000 / sample_ms).max(1) as usize,
            web,
            run_as: file.run_as.clone(),
            allowed_programs: file.allowed_programs.clone(),
            metrics_token_file: serve
                .metrics_token_file
                .clone()
                .or(file.metrics_token_file.clone()),
        })
    }
}

/// Resolves the file locations alone (enough for the admin subcommands).
pub fn resolve_paths(paths: &PathArgs, file: &FileConfig) -> Result<Paths, ConfigError> {
    let data_dir = match paths.data_dir.clone().or_else(|| file.data_dir.clone()) {
        Some(d) => d,
        None => default_data_dir()?,
    };
    let cert = paths.cert.clone().or_else(|| file.cert.clone());
    let key = paths.key.clone().or_else(|| file.key.clone());
    let cert_given = match (&cert, &key) {
        (Some(_), Some(_)) => true,
        (None, None) => false,
        _ => {
            return Err(ConfigError::Invalid(
                "cert and key go together: give both or neither".into(),
            ));
        }
    };
    Ok(Paths {
        users: paths
            .users
            .clone()
            .or_else(|| file.users.clone())
            .unwrap_or_else(|| data_dir.join("users.json")),
        cert: cert.unwrap_or_else(|| data_dir.join("cert.pem")),
        key: key.unwrap_or_else(|| data_dir.join("key.pem")),
        cert_given,
        data_dir,
    })
}

/// Paths for the admin subcommands: the config file is read for its path keys only.
pub fn resolve_admin_paths(paths: &PathArgs) -> Result<Paths, ConfigError> {
    let file = match &paths.config {
        Some(p) => FileConfig::load(p)?,
        None => FileConfig::default(),
    };
    resolve_paths(paths, &file)
}

fn default_data_dir() -> Result<PathBuf, ConfigError> {
    if rustix::process::geteuid().is_root() {
        return Ok(PathBuf::from("/var/lib/vigia"));
    }
    directories::ProjectDirs::from("", "", "vigia")
        .map(|d| d.data_dir().to_owned())
        .ok_or(ConfigError::NoDataDir)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn dirs(data: &str) -> PathArgs {
        PathArgs {
            data_dir: Some(data.into()),
            ..Default::default()
        }
    }

    #[test]
    fn flags_win_over_the_file() {
        let file: FileConfig = toml::from_str(
            "listen = \"127.0.0.1:6000\"\nstop_grace_ms = 100\nsample_interval_ms = 500",
        )
        .unwrap();
        let serve = ServeArgs {
            listen: Some("127.0.0.1:7001".parse().unwrap()),
            ..Default::default()
        };
        let cfg = Config::merge(&dirs("/tmp/x"), &serve, file).unwrap();
        assert_eq!(cfg.listen.port(), 7001);
        assert_eq!(cfg.stop_grace, Duration::from_millis(100));
        assert_eq!(cfg.sample_interval, Duration::from_millis(500));
        assert_eq!(cfg.history_len, 7200);
        assert_eq!(cfg.paths.users, PathBuf::from("/tmp/x/users.json"));
    }

    #[test]
    fn web_panel_defaults_to_https_on_port_7000() {
        let cfg = Config::merge(
            &dirs("/tmp/x"),
            &ServeArgs::default(),
            FileConfig::default(),
        )
        .unwrap();
        assert!(cfg.web.enabled);
        assert!(!cfg.web.plain_http);
        assert_eq!(cfg.web.listen.to_string(), "0.0.0.0:7000");
        assert_eq!(cfg.web.session_timeout, Duration::from_secs(1800));
    }

    #[test]
    fn web_plain_http_is_refused_away_from_loopback() {
        let serve = ServeArgs {
            web_plain_http: true,
            ..Default::default()
        };
        let err = Config::merge(&dirs("/tmp/x"), &serve, FileConfig::default()).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("loopback") && msg.contains("0.0.0.0:7000"),
            "{msg}"
        );
        let file: FileConfig =
            toml::from_str("web_plain_http = true\nweb_listen = \"192.168.1.2:7000\"").unwrap();
        assert!(Config::merge(&dirs("/tmp/x"), &ServeArgs::default(), file).is_err());
    }

    #[test]
    fn web_plain_http_is_allowed_on_loopback() {
        let file: FileConfig = toml::from_str(
            "web_plain_http = true\nweb_listen = \"[::1]:7100\"\nweb_session_timeout_secs = 60",
        )
        .unwrap();
        let cfg = Config::merge(&dirs("/tmp/x"), &ServeArgs::default(), file).unwrap();
        assert!(cfg.web.plain_http);
        assert_eq!(cfg.web.listen.port(), 7100);
        assert_eq!(cfg.web.session_timeout, Duration::from_secs(60));
    }

    #[test]
    fn no_web_turns_the_panel_off() {
        let serve = ServeArgs {
            no_web: true,
            ..Default::default()
        };
        let cfg = Config::merge(&dirs("/tmp/x"), &serve, FileConfig::default()).unwrap();
        assert!(!cfg.web.enabled);
        let file: FileConfig = toml::from_str("no_web = true").unwrap();
        let cfg = Config::merge(&dirs("/tmp/x"), &ServeArgs::default(), file).unwrap();
        assert!(!cfg.web.enabled);
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<FileConfig>("lisen = \"0.0.0.0:1\"").is_err());
    }

    #[test]
    fn defaults_listen_on_all_interfaces_port_5000() {
        let cfg = Config::merge(
            &dirs("/tmp/x"),
            &ServeArgs::default(),
            FileConfig::default(),
        )
        .unwrap();
        assert_eq!(cfg.listen.to_string(), "0.0.0.0:5000");
        assert_eq!(cfg.stop_grace, Duration::from_secs(5));
    }

    /// The packaged /etc/vigia/vigiad.toml is accepted as it ships, every key of `FileConfig` is
    /// documented in it, and its commented-out defaults are valid once uncommented.
    #[test]
    fn packaged_config_file_is_complete_and_valid() {
        const PACKAGED: &str = include_str!("../../packaging/vigiad.toml");
        let file: FileConfig = toml::from_str(PACKAGED).unwrap();
        assert_eq!(file.data_dir, Some(PathBuf::from("/var/lib/vigia")));
        // The packaged unit runs the daemon as root: started processes must run as the
        // unprivileged account the package creates, not as the default (`nobody`) or root.
        assert_eq!(file.run_as.as_deref(), Some("vigia"));
        Config::merge(&PathArgs::default(), &ServeArgs::default(), file).unwrap();

        // Every `#key = value` line uncommented: the documented defaults must parse and validate.
        let uncommented: String = PACKAGED
            .lines()
            .map(|line| match line.strip_prefix('#') {
                Some(rest) if rest.starts_with(|c: char| c.is_ascii_lowercase()) => rest,
                _ => line,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let all: FileConfig = toml::from_str(&uncommented).unwrap();
        let cfg = Config::merge(&PathArgs::default(), &ServeArgs::default(), all).unwrap();
        assert_eq!(cfg.listen.to_string(), "0.0.0.0:5000");
        assert_eq!(cfg.web.listen.to_string(), "0.0.0.0:7000");

        // serde names every accepted key when it refuses an unknown one.
        let err = toml::from_str::<FileConfig>("not_a_key = 1")
            .unwrap_err()
            .to_string();
        let expected = err.split("expected one of").nth(1).unwrap();
        let keys: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        assert!(keys.len() >= 18, "{err}");
        for key in keys {
            assert!(
                uncommented
                    .lines()
                    .any(|l| l.starts_with(&format!("{key} = "))),
                "config key '{key}' is missing from packaging/vigiad.toml: add it there, \
                 commented, with its default"
            );
        }
    }
}
