//! `/metrics` for Prometheus: off unless a token file is configured, and then only for
//! scrapers that send `Authorization: Bearer <token>`.

use crate::web::WebState;
use crate::web::csrf::tokens_match;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub async fn serve(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let Some(token) = &state.svc.metrics_token else {
        return (
            StatusCode::NOT_FOUND,
            "metrics are off: set metrics_token_file in the config",
        )
            .into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !tokens_match(token, given.trim()) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "a valid bearer token is needed",
        )
            .into_response();
    }
    let m = &state.svc.metrics;
    m.sessions
        .with_label_values(&["web"])
        .set(i64::try_from(state.sessions.len()).unwrap_or(i64::MAX));
    let body = m.render(&state.svc.sampler.latest().status);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
