//! Carrying out commands: one implementation for every wire mode. Who may do what is decided
//! here and only here ([`authorize`], plus the ownership check of STOP and OUTPUT).

use crate::audit::Record;
use crate::auth::Principal;
use crate::metrics::Metrics;
use crate::procs::ProcError;
use crate::procs::stop::Target;
use crate::services::Services;
use std::net::SocketAddr;
use std::time::Duration;
use vigia_shared::proto::limits::{MAX_FILTER, MAX_GRACE_MS, MAX_USER};
use vigia_shared::proto::{
    Command, ErrorCode, ListQuery, ProcessInfo, Reply, Role, SortKey, StopRequest, WireError,
};

/// Which door a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Text,
    Json,
    Web,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Text => "text",
            Mode::Json => "json",
            Mode::Web => "web",
        }
    }
}

/// Who is asking, from where and how (for the audit lines in the log).
pub struct Caller<'a> {
    pub principal: &'a Principal,
    pub peer: SocketAddr,
    pub mode: Mode,
}

/// Whether `role` may issue `command` at all. Ownership of the target process is checked
/// later, against the process itself.
pub fn authorize(role: Role, command: &Command) -> Result<(), WireError> {
    let allowed = match command {
        Command::Hello { .. }
        | Command::Login { .. }
        | Command::Quit
        | Command::List(_)
        | Command::Status
        | Command::Process { .. }
        | Command::Subscribe { .. }
        | Command::Unsubscribe => true,
        Command::Start(_) | Command::Stop(_) | Command::Output { .. } => {
            matches!(role, Role::Admin | Role::Operator)
        }
        Command::Audit(_) => role == Role::Admin,
    };
    if allowed {
        Ok(())
    } else {
        Err(WireError::new(
            ErrorCode::PermissionDenied,
            format!("permission denied: role {role} may not {}", command.name()),
        ))
    }
}

/// The caller's role as the users file says now: a removed user or a changed role takes
/// effect at once, even in open sessions.
fn current_role(svc: &Services, caller: &Caller<'_>) -> Result<Role, WireError> {
    svc.auth
        .current_role(&caller.principal.user)
        .ok_or_else(|| {
            WireError::new(
                ErrorCode::NotAuthenticated,
                format!(
                    "not authenticated: user '{}' no longer exists",
                    caller.principal.user
                ),
            )
        })
}

/// Carries out one command of an authenticated caller, and records in the audit log every
/// change (start, stop) and every refusal. Session-level commands (hello, login, subscribe,
/// unsubscribe, quit) belong to the session and are not handled here.
pub async fn handle(
    command: Command,
    caller: &Caller<'_>,
    svc: &Services,
) -> Result<Reply, WireError> {
    let (change, target) = audit_entry(&command);
    let name = command.name();
    let began = std::time::Instant::now();
    let result = carry_out(command, caller, svc).await;
    let m = &svc.metrics;
    m.latency
        .with_label_values(&[name])
        .observe(began.elapsed().as_secs_f64());
    match name {
        "start" => m
            .starts
            .with_label_values(&[Metrics::result(result.is_ok())])
            .inc(),
        "stop" => m
            .stops
            .with_label_values(&[Metrics::result(result.is_ok())])
            .inc(),
        _ => {}
    }
    let refused = matches!(&result, Err(e) if matches!(e.code, ErrorCode::PermissionDenied | ErrorCode::Refused));
    let (action, target) = match change {
        Some(a) if refused => ("denied", format!("{a} {target}")),
        Some(a) => (a, target),
        None if refused => ("denied", target),
        None => return result,
    };
    let (ok, outcome) = match &result {
        Ok(Reply::Started { pid }) => (true, format!("ok: pid {pid}")),
        Ok(Reply::Stopped { killed: true, .. }) => {
            (true, "ok: killed after the grace period".into())
        }
        Ok(_) => (true, "ok".into()),
        Err(e) => (false, e.message.clone()),
    };
    svc.audit
        .record(Record {
            user: caller.principal.user.clone(),
            peer: caller.peer.to_string(),
            mode: caller.mode.as_str(),
            action,
            target,
            ok,
            result: outcome,
        })
        .await;
    result
}

/// The audit log's action for a command that changes something, and its target.
fn audit_entry(command: &Command) -> (Option<&'static str>, String) {
    match command {
        Command::Start(r) => (Some("start"), shell_words::join(&r.argv)),
        Command::Stop(r) => (Some("stop"), format!("{} SIG{}", r.pid, r.signal.name())),
        Command::Output { pid, .. } | Command::Process { pid } => {
            (None, format!("{} {pid}", command.name()))
        }
        other => (None, other.name().to_owned()),
    }
}

async fn carry_out(
    command: Command,
    caller: &Caller<'_>,
    svc: &Services,
) -> Result<Reply, WireError> {
    let role = current_role(svc, caller)?;
    authorize(role, &command)?;
    match command {
        Command::List(q) => list(svc, &q),
        Command::Status => Ok(Reply::Status(svc.sampler.latest().status.clone())),
        Command::Process { pid } => {
            let snap = svc.sampler.processes();
            let procs = svc.procs.clone();
            let detail = tokio::task::spawn_blocking(move || {
                crate::sampler::process_detail(pid, &snap).map(|mut d| {
                    d.started_by_vigia = procs.registry.running(pid).is_some();
                    d
                })
            })
            .await
            .map_err(internal)?;
            detail
                .map(Reply::Process)
                .ok_or_else(|| (&ProcError::NoSuchProcess(pid)).into())
        }
        Command::Start(req) => {
            let result = svc.procs.start(&req, &caller.principal.user).await;
            match &result {
                Ok(pid) => tracing::info!(
                    user = %caller.principal.user, peer = %caller.peer, pid = pid.0,
                    argv = ?req.argv, "started process"
                ),
                Err(e) => tracing::warn!(
                    user = %caller.principal.user, peer = %caller.peer,
                    argv = ?req.argv, error = %e, "start refused"
                ),
            }
            result
                .map(|pid| Reply::Started { pid })
                .map_err(|e| (&e).into())
        }
        Command::Stop(req) => stop(svc, caller, role, req).await,
        Command::Output { pid, max_bytes } => {
            let record = svc.procs.log_of(pid).map_err(|e| WireError::from(&e))?;
            if role != Role::Admin && record.user != caller.principal.user {
                return Err(denied(format!("process {pid} was started by another user")));
            }
            let procs = svc.procs.clone();
            let (data, truncated) =
                tokio::task::spawn_blocking(move || procs.output_tail(&record.log, max_bytes))
                    .await
                    .map_err(internal)?
                    .map_err(|e| WireError::from(&e))?;
            Ok(Reply::Output {
                pid,
                data,
                truncated,
            })
        }
        Command::Audit(q) => {
            if q.user.as_ref().is_some_and(|u| u.len() > MAX_USER) {
                return Err(WireError::new(
                    ErrorCode::LimitExceeded,
                    format!("user name too long (at most {MAX_USER} bytes)"),
                ));
            }
            let events = svc.audit.query(q).await.map_err(|e| {
                tracing::error!(error = %e, "cannot read the audit log");
                WireError::new(ErrorCode::Internal, "cannot read the audit log")
            })?;
            Ok(Reply::Audit { events })
        }
        Command::Hello { .. }
        | Command::Login { .. }
        | Command::Subscribe { .. }
        | Command::Unsubscribe
        | Command::Quit => Err(WireError::new(
            ErrorCode::Internal,
            "session command reached the dispatcher",
        )),
    }
}

async fn stop(
    svc: &Services,
    caller: &Caller<'_>,
    role: Role,
    req: StopRequest,
) -> Result<Reply, WireError> {
    let grace = match req.grace_ms {
        Some(ms) if ms > MAX_GRACE_MS => {
            return Err(WireError::new(
                ErrorCode::LimitExceeded,
                format!("grace period '{ms}' ms is too long: at most {MAX_GRACE_MS}"),
            ));
        }
        Some(ms) => Duration::from_millis(ms),
        None => svc.procs.default_grace(),
    };
    let user = caller.principal.user.clone();
    let registry = &svc.procs.registry;
    let authorize = |t: &Target| -> Result<(), ProcError> {
        if role == Role::Admin {
            return Ok(());
        }
        let ours = registry
            .running(t.pid)
            .is_some_and(|r| r.start_ticks == t.start_ticks && r.user == user);
        if ours {
            Ok(())
        } else {
            Err(ProcError::PermissionDenied(format!(
                "role {role} may stop only the processes it started through vigiad, and {} is not one",
                t.pid
            )))
        }
    };
    let result = svc.procs.stop(req.pid, req.signal, grace, authorize).await;
    match &result {
        Ok(killed) => tracing::info!(
            user = %caller.principal.user, peer = %caller.peer, pid = req.pid.0,
            signal = req.signal.name(), killed, "stopped process"
        ),
        Err(e) => tracing::warn!(
            user = %caller.principal.user, peer = %caller.peer, pid = req.pid.0,
            error = %e, "stop refused"
        ),
    }
    result
        .map(|killed| Reply::Stopped {
            pid: req.pid,
            signal: req.signal,
            killed,
        })
        .map_err(|e| (&e).into())
}

fn list(svc: &Services, q: &ListQuery) -> Result<Reply, WireError> {
    let needle = match &q.filter {
        Some(f) if f.len() > MAX_FILTER => {
            return Err(WireError::new(
                ErrorCode::LimitExceeded,
                format!("filter too long ({} bytes, at most {MAX_FILTER})", f.len()),
            ));
        }
        Some(f) if !f.is_empty() => Some(f.to_lowercase()),
        _ => None,
    };
    let snap = svc.sampler.processes();
    let mut rows: Vec<&ProcessInfo> = snap
        .processes
        .iter()
        .filter(|p| {
            needle.as_deref().is_none_or(|n| {
                p.name.to_lowercase().contains(n) || p.user.to_lowercase().contains(n)
            })
        })
        .collect();
    sort_rows(&mut rows, q.sort, q.desc);
    let total = rows.len().try_into().unwrap_or(u32::MAX);
    if let Some(limit) = q.limit {
        rows.truncate(limit as usize);
    }
    Ok(Reply::Processes {
        total,
        processes: rows.into_iter().cloned().collect(),
    })
}

fn sort_rows(rows: &mut [&ProcessInfo], key: SortKey, desc: bool) {
    // Rows arrive sorted by pid; a stable sort keeps pid order among equal keys.
    match key {
        SortKey::Pid => {}
        SortKey::User => rows.sort_by(|a, b| a.user.cmp(&b.user)),
        SortKey::Cpu => rows.sort_by(|a, b| a.cpu.total_cmp(&b.cpu)),
        SortKey::Mem => rows.sort_by_key(|r| r.mem),
        SortKey::Name => rows.sort_by(|a, b| a.name.cmp(&b.name)),
    }
    if desc {
        rows.reverse();
    }
}

fn denied(message: String) -> WireError {
    WireError::new(
        ErrorCode::PermissionDenied,
        format!("permission denied: {message}"),
    )
}

fn internal(e: tokio::task::JoinError) -> WireError {
    tracing::error!(error = %e, "a blocking task failed");
    WireError::new(ErrorCode::Internal, "internal error")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use vigia_shared::proto::{Pid, StartRequest};

    #[test]
    fn viewers_only_look() {
        let start = Command::Start(StartRequest {
            argv: vec!["true".into()],
            cwd: None,
        });
        let stop = Command::Stop(StopRequest {
            pid: Pid(5),
            signal: Default::default(),
            grace_ms: None,
        });
        assert!(authorize(Role::Viewer, &Command::List(ListQuery::default())).is_ok());
        assert!(authorize(Role::Viewer, &Command::Status).is_ok());
        assert_eq!(
            authorize(Role::Viewer, &start).unwrap_err().code,
            ErrorCode::PermissionDenied
        );
        assert!(authorize(Role::Viewer, &stop).is_err());
        assert!(authorize(Role::Operator, &start).is_ok());
        assert!(authorize(Role::Admin, &stop).is_ok());
    }
}
