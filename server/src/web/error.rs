//! Errors of the web layer, mapped to responses in one place: an HTML page for the pages, JSON
//! `{code, message}` for the API. Client faults say what was wrong; internal faults are logged
//! and shown as a generic 500.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use vigia_shared::proto::{ErrorCode, WireError};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not logged in")]
    NotLoggedIn,
    #[error("the form has expired or did not come from this panel: reload the page and try again")]
    Csrf,
    #[error("request refused: it came from another site")]
    ForeignOrigin,
    #[error("too many open sessions: try again later")]
    Busy,
    #[error("{0}")]
    BadRequest(String),
    #[error("no such page")]
    NotFound,
    /// Refused or failed by the dispatcher (permission, no such process, spawn failure…).
    #[error("{0}")]
    Wire(WireError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<WireError> for WebError {
    fn from(e: WireError) -> Self {
        if e.code == ErrorCode::Internal {
            WebError::Internal(e.message)
        } else {
            WebError::Wire(e)
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(format!("rendering a template: {e}"))
    }
}

impl WebError {
    fn status(&self) -> StatusCode {
        match self {
            WebError::NotLoggedIn => StatusCode::UNAUTHORIZED,
            WebError::Csrf | WebError::ForeignOrigin => StatusCode::FORBIDDEN,
            WebError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            WebError::Wire(w) => match w.code {
                ErrorCode::NotAuthenticated | ErrorCode::AuthFailed => StatusCode::UNAUTHORIZED,
                ErrorCode::PermissionDenied => StatusCode::FORBIDDEN,
                ErrorCode::NoSuchProcess => StatusCode::NOT_FOUND,
                ErrorCode::Timeout => StatusCode::GATEWAY_TIMEOUT,
                ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::BAD_REQUEST,
            },
        }
    }

    fn code(&self) -> &'static str {
        match self {
            WebError::NotLoggedIn => "not_authenticated",
            WebError::Csrf => "csrf",
            WebError::ForeignOrigin => "foreign_origin",
            WebError::Busy => "busy",
            WebError::BadRequest(_) => "bad_request",
            WebError::NotFound => "not_found",
            WebError::Internal(_) => "internal",
            WebError::Wire(w) => wire_code(w.code),
        }
    }

    /// What the user is shown: internal details stay in the log.
    fn public_message(&self) -> String {
        match self {
            WebError::Internal(detail) => {
                tracing::error!(error = %detail, "web request failed");
                "internal error".to_owned()
            }
            other => other.to_string(),
        }
    }
}

fn wire_code(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::BadRequest => "bad_request",
        ErrorCode::UnknownCommand => "unknown_command",
        ErrorCode::NotAuthenticated => "not_authenticated",
        ErrorCode::AuthFailed => "auth_failed",
        ErrorCode::PermissionDenied => "permission_denied",
        ErrorCode::NoSuchProcess => "no_such_process",
        ErrorCode::Refused => "refused",
        ErrorCode::SpawnFailed => "spawn_failed",
        ErrorCode::TooLong => "too_long",
        ErrorCode::NotUtf8 => "not_utf8",
        ErrorCode::LimitExceeded => "limit_exceeded",
        ErrorCode::UnsupportedVersion => "unsupported_version",
        ErrorCode::Timeout => "timeout",
        ErrorCode::Internal => "internal",
    }
}

/// An error answered with an HTML page (a missing session: a redirect to the login page).
#[derive(Debug)]
pub struct PageError(pub WebError);

impl<E: Into<WebError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    reason: &'a str,
    message: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if matches!(self.0, WebError::NotLoggedIn) {
            return Redirect::to("/login").into_response();
        }
        let status = self.0.status();
        let message = self.0.public_message();
        let page = ErrorPage {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("Error"),
            message: &message,
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "rendering the error page");
                (
                    status,
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    message,
                )
                    .into_response()
            }
        }
    }
}

/// An error answered with JSON `{code, message}`.
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "code": self.0.code(),
            "message": self.0.public_message(),
        });
        (self.0.status(), axum::Json(body)).into_response()
    }
}
