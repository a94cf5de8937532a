//! CSRF defences for every POST: the request's `Origin` (and `Sec-Fetch-Site`) must be the
//! panel itself, and a token must match: the session's token for logged-in requests, the
//! login cookie's token (double submit) for the login form, which has no session yet.

use crate::web::WebState;
use crate::web::error::WebError;
use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};

/// Name of the cookie that carries the login form's token.
pub fn login_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-vigia_login"
    } else {
        "vigia_login"
    }
}

/// Refuses a request sent by another site: a foreign or opaque `Origin`, or a browser that
/// says the request is cross-site. Requests without either header (non-browser clients) still
/// need the token.
pub fn check_origin(headers: &HeaderMap, state: &WebState) -> Result<(), WebError> {
    let text = |name| headers.get(name).map(|v| v.to_str().unwrap_or("?"));
    let (site, origin, host) = (
        text("sec-fetch-site"),
        text(ORIGIN.as_str()),
        text(HOST.as_str()),
    );
    let scheme = if state.https { "https" } else { "http" };
    let site_ok = site.is_none_or(|s| s == "same-origin" || s == "none");
    let origin_ok = match (origin, host) {
        (None, _) => true,
        (Some(o), Some(h)) => o.eq_ignore_ascii_case(&format!("{scheme}://{h}")),
        (Some(_), None) => false,
    };
    if site_ok && origin_ok {
        Ok(())
    } else {
        tracing::warn!(?site, ?origin, ?host, "refused a cross-site request");
        Err(WebError::ForeignOrigin)
    }
}

/// Compares two tokens in time that does not depend on where they differ.
pub fn tokens_match(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Origin and token checks for a logged-in POST.
pub fn check(
    headers: &HeaderMap,
    state: &WebState,
    expected: &str,
    given: &str,
) -> Result<(), WebError> {
    check_origin(headers, state)?;
    if tokens_match(expected, given) {
        Ok(())
    } else {
        Err(WebError::Csrf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_must_match_exactly() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abc", "abd"));
        assert!(!tokens_match("abc", "ab"));
        assert!(!tokens_match("", ""));
    }
}
