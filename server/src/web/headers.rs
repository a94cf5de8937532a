//! What every answer of the panel carries and what every request must show: security headers
//! (CSP without inline script, no framing, no sniffing, no referrer to other sites, HSTS under
//! HTTPS) and a `Host` the panel serves, so that a DNS-rebinding page cannot talk to it under a
//! foreign name.

use crate::web::WebState;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderValue};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};

/// The Content-Security-Policy of every answer: scripts and styles from the panel itself only.
pub const CSP: &str = "default-src 'self'; object-src 'none'; base-uri 'none'; \
                       frame-ancestors 'none'; form-action 'self'";

/// The host names the panel answers to. IP literals are always accepted: rebinding needs a
/// name that an attacker controls, and an address is no such name.
#[derive(Debug, Clone)]
pub struct HostCheck {
    names: Vec<String>,
}

impl HostCheck {
    pub fn new(hostname: &str, extra: &[String]) -> Self {
        let mut names: Vec<String> = ["localhost", hostname]
            .into_iter()
            .map(str::to_owned)
            .chain(extra.iter().cloned())
            .filter(|n| !n.is_empty())
            .map(|n| n.to_ascii_lowercase())
            .collect();
        names.sort();
        names.dedup();
        Self { names }
    }

    /// Whether a `Host` header value (name or address, with an optional port) is served here.
    pub fn allows(&self, host: &str) -> bool {
        let name = host_name(host);
        if name.is_empty() {
            return false;
        }
        if name.parse::<IpAddr>().is_ok() {
            return true;
        }
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.names.contains(&name)
    }
}

/// The name part of a `Host` value: `[::1]:7000` → `::1`, `example:7000` → `example`.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    if host.parse::<SocketAddr>().is_ok() || host.matches(':').count() == 1 {
        return host.rsplit_once(':').map_or(host, |(h, _)| h);
    }
    host
}

/// Refuses requests for a host the panel does not serve, before any route runs.
pub async fn check_host(State(state): State<WebState>, req: Request, next: Next) -> Response {
    // Scrapers reach /metrics under whatever name the fleet uses; a rebinding page cannot
    // scrape it anyway, as it has no bearer token.
    if req.uri().path() == "/metrics" {
        return next.run(req).await;
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    match host {
        Some(h) if state.hosts.allows(h) => next.run(req).await,
        other => {
            tracing::warn!(host = ?other, "web request for a host this panel does not serve");
            (
                StatusCode::MISDIRECTED_REQUEST,
                "this panel does not serve that host name; add it to web_hosts in the config",
            )
                .into_response()
        }
    }
}

/// Adds the security headers to every answer, errors included.
pub async fn security_headers(State(state): State<WebState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    apply(res.headers_mut(), state.https);
    res
}

fn apply(h: &mut HeaderMap, https: bool) {
    let set = |h: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // Not `no-referrer`: under it browsers send `Origin: null` on form posts, which the CSRF
    // check must refuse.
    set(h, header::REFERRER_POLICY, "same-origin");
    set(
        h,
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        h,
        header::HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    if https {
        set(h, header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_names_and_addresses_pass_others_do_not() {
        let c = HostCheck::new("web01", &["panel.example.org".into()]);
        for ok in [
            "localhost:7000",
            "LOCALHOST",
            "web01:7000",
            "panel.example.org",
            "127.0.0.1:7000",
            "10.1.2.3",
            "[::1]:7000",
            "::1",
        ] {
            assert!(c.allows(ok), "{ok}");
        }
        for bad in [
            "evil.example:7000",
            "web01.evil.example",
            "",
            ":7000",
            "localhost.evil",
        ] {
            assert!(!c.allows(bad), "{bad}");
        }
    }
}
