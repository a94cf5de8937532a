//! web: the browser panel that the daemon serves itself (HTTPS by default, plain HTTP only on
//! loopback). Pages are askama templates, the page script talks to a small JSON API under
//! `/api/`, and every action goes through [`crate::dispatch::handle`], so the web has no rules
//! of its own about who may do what.
//!
//! Layer order, outermost first: security headers (so that every answer, errors included,
//! carries them), request timeout, `Host` check (DNS rebinding), then the routes; sessions and
//! CSRF are checked by the extractors in [`session`] and [`csrf`].

pub mod csrf;
pub mod error;
pub mod headers;
pub mod routes;
pub mod session;

use crate::services::Services;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Longest a client may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest a connection gets to finish its request at shutdown.
const CONNECTION_DRAIN: Duration = Duration::from_secs(5);

/// What every handler shares.
#[derive(Clone)]
pub struct WebState {
    pub svc: Services,
    pub sessions: Arc<session::SessionStore>,
    pub hosts: Arc<headers::HostCheck>,
    /// Served over HTTPS (cookies get `__Host-` and `Secure`, responses HSTS).
    pub https: bool,
}

impl WebState {
    pub fn new(svc: Services) -> Self {
        let web = &svc.config.web;
        let hostname = svc.sampler.latest().status.hostname.clone();
        let hosts = headers::HostCheck::new(&hostname, &web.hosts);
        Self {
            sessions: Arc::new(session::SessionStore::new(web.session_timeout)),
            hosts: Arc::new(hosts),
            https: !web.plain_http,
            svc,
        }
    }
}

/// The whole panel as one router.
pub fn router(svc: Services) -> Router {
    routes::router(WebState::new(svc))
}

/// Serves `router` on `listener` until `shutdown`, each connection a task on `tracker`. With
/// `tls`, connections are HTTPS (ALPN http/1.1) after a handshake under `handshake_timeout`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: ServeLimits,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    let acceptor = tls.map(|cfg| {
        let mut cfg = (*cfg).clone();
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        TlsAcceptor::from(Arc::new(cfg))
    });
    let admission =
        crate::listener::Admission::new(limits.max_connections, limits.max_connections_per_ip);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "web accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(admitted) = admission.admit(peer, "web") else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let (acceptor, router, shutdown) = (acceptor.clone(), router.clone(), shutdown.clone());
        tracker.spawn(async move {
            let _admitted = admitted;
            match acceptor {
                Some(acceptor) => {
                    match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(tcp)).await
                    {
                        Ok(Ok(tls)) => serve_connection(tls, peer, router, shutdown).await,
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "web TLS handshake failed")
                        }
                        Err(_) => tracing::debug!(%peer, "web TLS handshake timed out"),
                    }
                }
                None => serve_connection(tcp, peer, router, shutdown).await,
            }
        });
    }
}

/// Limits of [`serve`].
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    pub handshake_timeout: Duration,
    pub max_connections: usize,
    /// Open connections from one client address at most.
    pub max_connections_per_ip: usize,
}

async fn serve_connection<S>(
    stream: S,
    peer: SocketAddr,
    router: Router,
    shutdown: CancellationToken,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service =
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let mut router = router.clone();
            async move { tower::Service::call(&mut router, req).await }
        });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        _ = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            match tokio::time::timeout(CONNECTION_DRAIN, conn.as_mut()).await {
                Ok(r) => r,
                Err(_) => {
                    tracing::debug!(%peer, "web connection did not finish in time");
                    Ok(())
                }
            }
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "web connection ended with an error");
    }
}
