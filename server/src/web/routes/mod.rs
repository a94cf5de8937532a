//! The panel's routes: pages (server-rendered forms that work without script), the JSON API
//! that the pages' script polls, and the embedded static assets. Every action reaches
//! [`crate::dispatch::handle`] through [`run`], the panel's one door to the daemon.

mod api;
mod assets;
mod format;
mod metrics;
mod pages;

use crate::auth::Principal;
use crate::dispatch::{self, Caller, Mode};
use crate::web::{WebState, headers};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use std::net::SocketAddr;
use vigia_shared::proto::{Command, Reply, WireError};

/// Largest request body accepted, bytes: forms and API calls are small.
const MAX_BODY: usize = 64 * 1024;

pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(pages::root))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/dashboard", get(pages::dashboard))
        .route("/processes", get(pages::processes))
        .route("/processes/{pid}", get(pages::process))
        .route("/processes/{pid}/stop", post(pages::stop))
        .route("/processes/{pid}/output", get(pages::output))
        .route("/start", get(pages::start_form).post(pages::start))
        .route("/audit", get(pages::audit))
        .route("/api/status", get(api::status))
        .route("/api/history", get(api::history))
        .route("/api/processes", get(api::processes))
        .route("/api/processes/{pid}", get(api::process))
        .route("/api/processes/{pid}/output", get(api::output))
        .route("/api/processes/{pid}/stop", post(api::stop))
        .route("/api/start", post(api::start))
        .route("/api/audit", get(api::audit))
        .route("/static/{file}", get(assets::serve))
        .route("/metrics", get(metrics::serve))
        .fallback(pages::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        // Layers run outermost last-added: headers wrap everything, the host check runs first
        // on the way in.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            headers::check_host,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            headers::security_headers,
        ))
        .with_state(state)
}

/// Carries out `command` for a logged-in browser, through the same dispatcher (and so the same
/// role checks and logs) as both protocol modes.
async fn run(
    state: &WebState,
    principal: &Principal,
    peer: SocketAddr,
    command: Command,
) -> Result<Reply, WireError> {
    let caller = Caller {
        principal,
        peer,
        mode: Mode::Web,
    };
    dispatch::handle(command, &caller, &state.svc).await
}

/// The pid in a path, or a 400 that says what is wrong with it.
fn pid_of(text: &str) -> Result<vigia_shared::Pid, crate::web::error::WebError> {
    vigia_shared::proto::text::parse_pid(text)
        .map_err(|e| crate::web::error::WebError::BadRequest(e.to_string()))
}

/// Whether a role may start and stop processes: it decides which buttons a page shows (the
/// dispatcher decides what is allowed).
fn can_act(principal: &Principal) -> bool {
    let probe = Command::Start(vigia_shared::proto::StartRequest {
        argv: vec![String::new()],
        cwd: None,
    });
    dispatch::authorize(principal.role, &probe).is_ok()
}
