//! The JSON API under `/api/` that the pages' script polls: the same session cookie as the
//! pages, and for changes a CSRF token in the `X-CSRF-Token` header plus a JSON body (which a
//! foreign form cannot send).

use super::pages::TableQuery;
use super::{can_act, pid_of, run};
use crate::web::WebState;
use crate::web::csrf;
use crate::web::error::{ApiError, WebError};
use crate::web::session::ApiSession;
use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::net::SocketAddr;
use vigia_shared::proto::limits::MAX_OUTPUT_BYTES;
use vigia_shared::proto::text::split_command;
use vigia_shared::proto::{
    Command, ProcessInfo, Reply, Signal, StartRequest, StatusSample, StopRequest,
};

type ApiResult = Result<Json<Value>, ApiError>;

fn unexpected(what: &str) -> ApiError {
    WebError::Internal(format!("unexpected reply to {what}")).into()
}

fn to_value(v: impl Serialize) -> ApiResult {
    serde_json::to_value(v)
        .map(Json)
        .map_err(|e| WebError::Internal(e.to_string()).into())
}

pub async fn status(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiSession(s): ApiSession,
) -> ApiResult {
    match run(&state, &s.principal, peer, Command::Status).await? {
        Reply::Status(st) => to_value(st),
        _ => Err(unexpected("status")),
    }
}

/// The status history as columns, as the charts take it: an hour of samples costs a fraction
/// of the bytes of the same samples as objects.
#[derive(Serialize, Default)]
struct History {
    interval_ms: u64,
    /// Seconds since the epoch.
    time: Vec<f64>,
    /// Percent of all cores.
    cpu: Vec<f32>,
    /// Bytes.
    mem_used: Vec<u64>,
    mem_total: u64,
}

pub async fn history(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiSession(s): ApiSession,
) -> ApiResult {
    // Authorised as a status read, through the dispatcher like every other request.
    if !matches!(
        run(&state, &s.principal, peer, Command::Status).await?,
        Reply::Status(_)
    ) {
        return Err(unexpected("status"));
    }
    let samples: Vec<StatusSample> = state.svc.sampler.history();
    let mut h = History {
        interval_ms: state.svc.sampler.interval().as_millis() as u64,
        mem_total: samples.last().map_or(0, |s| s.mem_total),
        ..Default::default()
    };
    for s in &samples {
        h.time.push(s.time_ms as f64 / 1000.0);
        h.cpu.push(s.cpu);
        h.mem_used.push(s.mem_used);
    }
    to_value(h)
}

#[derive(Serialize)]
struct ProcessList {
    total: u32,
    processes: Vec<ProcessInfo>,
    /// Whether the caller may stop processes (the page shows buttons accordingly).
    can_act: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListParams {
    #[serde(flatten)]
    table: TableQuery,
    limit: Option<u32>,
}

pub async fn processes(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiSession(s): ApiSession,
    Query(params): Query<ListParams>,
) -> ApiResult {
    let list = Command::List(params.table.to_list(params.limit));
    match run(&state, &s.principal, peer, list).await? {
        Reply::Processes { total, processes } => to_value(ProcessList {
            total,
            processes,
            can_act: can_act(&s.principal),
        }),
        _ => Err(unexpected("list")),
    }
}

pub async fn process(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiSession(s): ApiSession,
    Path(pid): Path<String>,
) -> ApiResult {
    let pid = pid_of(&pid)?;
    match run(&state, &s.principal, peer, Command::Process { pid }).await? {
        Reply::Process(p) => to_value(p),
        _ => Err(unexpected("process")),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OutputParams {
    max_bytes: Option<u64>,
}

pub async fn output(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiSession(s): ApiSession,
    Path(pid): Path<String>,
    Query(q): Query<OutputParams>,
) -> ApiResult {
    let pid = pid_of(&pid)?;
    let command = Command::Output {
        pid,
        max_bytes: Some(q.max_bytes.unwrap_or(64 * 1024).min(MAX_OUTPUT_BYTES)),
    };
    match run(&state, &s.principal, peer, command).await? {
        Reply::Output {
            pid,
            data,
            truncated,
        } => Ok(Json(
            json!({"pid": pid, "data": data, "truncated": truncated}),
        )),
        _ => Err(unexpected("output")),
    }
}

fn check_csrf(headers: &HeaderMap, state: &WebState, expected: &str) -> Result<(), WebError> {
    let given = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    csrf::check(headers, state, expected, given)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopBody {
    #[serde(default)]
    signal: Signal,
    #[serde(default)]
    grace_ms: Option<u64>,
}

pub async fn stop(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiSession(s): ApiSession,
    headers: HeaderMap,
    Path(pid): Path<String>,
    Json(body): Json<StopBody>,
) -> ApiResult {
    check_csrf(&headers, &state, &s.csrf)?;
    let req = StopRequest {
        pid: pid_of(&pid)?,
        signal: body.signal,
        grace_ms: body.grace_ms,
    };
    match run(&state, &s.principal, peer, Command::Stop(req)).await? {
        Reply::Stopped {
            pid,
            signal,
            killed,
        } => Ok(Json(
            json!({"pid": pid, "signal": signal, "killed": killed}),
        )),
        _ => Err(unexpected("stop")),
    }
}

/// A command line (split like `START`) or an argument vector.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    argv: Option<Vec<String>>,
    #[serde(default)]
    cwd: Option<String>,
}

pub async fn start(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiSession(s): ApiSession,
    headers: HeaderMap,
    Json(body): Json<StartBody>,
) -> ApiResult {
    check_csrf(&headers, &state, &s.csrf)?;
    let argv = match (body.command, body.argv) {
        (Some(cmd), None) => {
            split_command(&cmd).map_err(|e| WebError::BadRequest(e.to_string()))?
        }
        (None, Some(argv)) => argv,
        _ => {
            return Err(WebError::BadRequest("give either 'command' or 'argv'".into()).into());
        }
    };
    let req = StartRequest {
        argv,
        cwd: body.cwd,
    };
    match run(&state, &s.principal, peer, Command::Start(req)).await? {
        Reply::Started { pid } => Ok(Json(json!({ "pid": pid }))),
        _ => Err(unexpected("start")),
    }
}

pub async fn audit(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiSession(s): ApiSession,
    Query(q): Query<vigia_shared::proto::AuditQuery>,
) -> ApiResult {
    match run(&state, &s.principal, peer, Command::Audit(q)).await? {
        Reply::Audit { events } => to_value(json!({ "events": events })),
        _ => Err(unexpected("audit")),
    }
}
