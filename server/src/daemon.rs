//! Start-up and shutdown: prepares the data directory, the certificate and the users file,
//! builds the [`Services`], runs the accept loop, and on shutdown lets sessions finish.

use crate::auth::{self, Authenticator};
use crate::certs;
use crate::config::Config;
use crate::procs::ProcessManager;
use crate::procs::registry::Registry;
use crate::sampler;
use crate::services::Services;
use anyhow::Context as _;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long sessions get to finish their requests at shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// What first start made and the admin must be told.
pub struct FirstStart {
    /// The generated password of `admin`, when the users file was just made.
    pub admin_password: Option<String>,
    pub fingerprint: String,
    pub cert_created: bool,
}

/// Makes the data directory (mode 0700), the certificate pair and the users file when missing.
pub fn prepare(cfg: &Config) -> anyhow::Result<FirstStart> {
    let paths = &cfg.paths;
    make_private_dir(&paths.data_dir)?;
    make_private_dir(&paths.logs_dir())?;
    let identity = certs::load_or_create(paths)?;
    let admin_password = auth::create_if_missing(&paths.users)?;
    refuse_if_exposed(&paths.key, "private key")?;
    refuse_if_exposed(&paths.users, "users file")?;
    Ok(FirstStart {
        admin_password,
        fingerprint: identity.fingerprint,
        cert_created: identity.created,
    })
}

/// Refuses a secret that other OS users may read or change.
fn refuse_if_exposed(path: &Path, what: &str) -> anyhow::Result<()> {
    let mode = std::fs::metadata(path)
        .with_context(|| format!("reading the {what} '{}'", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        anyhow::bail!(
            "the {what} '{}' is open to other users (mode {:o}): run 'chmod 600 {}' and start again",
            path.display(),
            mode & 0o777,
            path.display()
        );
    }
    Ok(())
}

/// The bearer token of `/metrics`, from a file only the daemon's user may read.
fn read_token(path: &Path) -> anyhow::Result<Arc<str>> {
    refuse_if_exposed(path, "metrics token file")?;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the metrics token file '{}'", path.display()))?;
    let token = text.trim();
    if token.len() < 16 || token.len() > 4096 || token.chars().any(|c| c.is_whitespace()) {
        anyhow::bail!(
            "the metrics token in '{}' must be one word of 16 to 4096 characters \
             (e.g. made with 'openssl rand -hex 32')",
            path.display()
        );
    }
    Ok(Arc::from(token))
}

/// The START rules from the configuration.
fn start_policy(cfg: &Config) -> anyhow::Result<crate::procs::policy::StartPolicy> {
    let is_root = rustix::process::geteuid().is_root();
    crate::procs::policy::StartPolicy::new(
        cfg.run_as.as_deref(),
        cfg.allowed_programs.as_deref(),
        is_root,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
    .context("checking run_as and allowed_programs")
}

fn make_private_dir(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating directory '{}'", dir.display()))?;
    } else if let Ok(meta) = std::fs::metadata(dir)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(dir = %dir.display(), "data directory is readable by other users; chmod 700 it");
    }
    Ok(())
}

/// Runs the daemon on already bound listeners (the TLS protocol's, and the web panel's when it
/// is on) until `shutdown` is cancelled. The data directory must have been [`prepare`]d.
pub async fn run_with(
    cfg: Config,
    listener: TcpListener,
    web_listener: Option<TcpListener>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let cfg = Arc::new(cfg);
    let identity = certs::load_or_create(&cfg.paths)?;
    let tls = vigia_shared::tls::server_config(identity.certs, identity.key)
        .context("building the TLS configuration")?;
    let auth = Arc::new(Authenticator::load(&cfg.paths.users)?);
    let procs = Arc::new(ProcessManager::new(
        Registry::load(&cfg.paths.started_file()),
        cfg.paths.logs_dir(),
        cfg.paths.data_dir.clone(),
        cfg.stop_grace,
        start_policy(&cfg)?,
    ));
    let sampler = sampler::spawn(cfg.sample_interval, cfg.history_len, shutdown.clone())
        .context("starting the sampler")?;
    let svc = Services {
        config: cfg.clone(),
        auth,
        procs,
        sampler,
        lockout: Arc::new(crate::auth::lockout::Lockout::new(cfg.lockout)),
        audit: crate::audit::AuditLog::open(&cfg.paths.audit_file())?,
        metrics: crate::metrics::Metrics::new()?,
        metrics_token: cfg
            .metrics_token_file
            .as_deref()
            .map(read_token)
            .transpose()?,
    };
    let addr = listener
        .local_addr()
        .context("reading the listening address")?;
    tracing::info!(%addr, fingerprint = %identity.fingerprint, "listening for TLS connections on {addr}");

    let tracker = TaskTracker::new();
    let reload = tokio::spawn(reload_on_sighup(svc.clone(), shutdown.clone()));
    let web = web_listener.map(|l| spawn_web(l, &svc, &tls, &shutdown, &tracker));
    crate::listener::accept_loop(
        listener,
        TlsAcceptor::from(tls),
        svc,
        shutdown.clone(),
        tracker.clone(),
    )
    .await;
    reload.abort();
    if let Some(web) = web {
        let _ = web.await;
    }
    tracker.close();
    tracing::info!(
        sessions = tracker.len(),
        "shutting down; started processes keep running"
    );
    if tokio::time::timeout(DRAIN_TIMEOUT, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("sessions did not finish in time; closing them");
    }
    Ok(())
}

/// Starts serving the web panel on `listener`, HTTPS with the daemon's certificate unless the
/// configuration asks for plain HTTP (which it allows only on loopback).
fn spawn_web(
    listener: TcpListener,
    svc: &Services,
    tls: &Arc<rustls::ServerConfig>,
    shutdown: &CancellationToken,
    tracker: &TaskTracker,
) -> tokio::task::JoinHandle<()> {
    let web = &svc.config.web;
    let scheme = if web.plain_http { "http" } else { "https" };
    match listener.local_addr() {
        Ok(addr) => tracing::info!(%addr, "serving the web panel on {scheme}://{addr}"),
        Err(e) => tracing::warn!(error = %e, "cannot read the web panel's address"),
    }
    let limits = crate::web::ServeLimits {
        handshake_timeout: svc.config.handshake_timeout,
        max_connections: svc.config.max_connections,
        max_connections_per_ip: svc.config.max_connections_per_ip,
    };
    tokio::spawn(crate::web::serve(
        listener,
        crate::web::router(svc.clone()),
        (!web.plain_http).then(|| tls.clone()),
        limits,
        shutdown.clone(),
        tracker.clone(),
    ))
}

/// Re-reads the users file on SIGHUP; open sessions stay open.
async fn reload_on_sighup(svc: Services, shutdown: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        return;
    };
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            r = hup.recv() => if r.is_none() { return },
        }
        match svc.auth.reload() {
            Ok(n) => tracing::info!(users = n, "reloaded the users file"),
            Err(e) => {
                tracing::error!(error = %e, "cannot reload the users file; keeping the old users")
            }
        }
    }
}

/// Binds the configured address, prints what first start made, and runs until SIGINT/SIGTERM.
pub async fn run(cfg: Config) -> anyhow::Result<()> {
    let first = prepare(&cfg)?;
    if first.cert_created {
        tracing::info!(cert = %cfg.paths.cert.display(), "made a self-signed certificate");
    }
    eprintln!(
        "vigiad certificate SHA-256 fingerprint: {}",
        first.fingerprint
    );
    if let Some(pw) = &first.admin_password {
        eprintln!(
            "\nCreated {} with user 'admin' and password:\n\n    {pw}\n\n\
             It is shown only this once and stored only as a hash; change it with \
             'vigiad user passwd admin'.\n",
            cfg.paths.users.display()
        );
    }
    let listener = TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("binding {}", cfg.listen))?;
    let web_listener =
        if cfg.web.enabled {
            let addr = cfg.web.listen;
            Some(TcpListener::bind(addr).await.with_context(|| {
                format!("binding the web panel to {addr} (--no-web turns it off)")
            })?)
        } else {
            None
        };
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    run_with(cfg, listener, web_listener, shutdown).await
}

async fn cancel_on_signal(token: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers");
        return;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = int.recv() => tracing::info!("SIGINT received"),
    }
    token.cancel();
}
