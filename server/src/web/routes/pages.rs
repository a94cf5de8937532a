//! The server-rendered pages. Each works without script (forms post, the server redirects with
//! a one-shot message); the script in `assets/app.js` then keeps them live. Everything shown
//! is escaped by askama: process names and command lines are any local user's text.

use super::format::{encode_query, human_bytes, human_duration, human_time, human_time_ms};
use super::{can_act, pid_of, run};
use crate::web::WebState;
use crate::web::csrf;
use crate::web::error::{PageError, WebError};
use crate::web::session::{self, PageSession, Session};
use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::net::SocketAddr;
use vigia_shared::proto::limits::{MAX_PASSWORD, MAX_USER};
use vigia_shared::proto::text::split_command;
use vigia_shared::proto::{
    Command, ErrorCode, ListQuery, ProcessDetail, Reply, Signal, SortKey, StartRequest, StopRequest,
};

/// Bytes of a started process's output shown on its page.
const OUTPUT_TAIL: u64 = 64 * 1024;

/// What the frame of every logged-in page shows.
pub struct Chrome {
    pub user: String,
    pub role: String,
    pub csrf: String,
    pub can_act: bool,
    /// Admins also see the audit log.
    pub is_admin: bool,
    pub flash: Option<String>,
    /// Which navigation entry is current.
    pub page: &'static str,
}

impl Chrome {
    fn new(state: &WebState, s: &Session, page: &'static str) -> Self {
        Self {
            user: s.principal.user.clone(),
            role: s.principal.role.to_string(),
            csrf: s.csrf.clone(),
            can_act: can_act(&s.principal),
            is_admin: s.principal.role == vigia_shared::Role::Admin,
            flash: state.sessions.take_flash(&s.id),
            page,
        }
    }
}

fn html(t: &impl Template) -> Result<Response, PageError> {
    Ok(Html(t.render().map_err(WebError::from)?).into_response())
}

/// A 303 to `to`, with a message for the next page.
fn redirect_with(state: &WebState, s: &Session, to: &str, message: String) -> Response {
    state.sessions.set_flash(&s.id, message);
    Redirect::to(to).into_response()
}

/// Adds a `Set-Cookie` to an answer.
fn add_cookie(res: &mut Response, cookie: &str) -> Result<(), WebError> {
    let value = cookie
        .parse()
        .map_err(|_| WebError::Internal("a cookie that is no header value".into()))?;
    res.headers_mut().append(header::SET_COOKIE, value);
    Ok(())
}

pub async fn root() -> Redirect {
    Redirect::to("/dashboard")
}

pub async fn not_found() -> PageError {
    PageError(WebError::NotFound)
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    user: &'a str,
    error: Option<&'a str>,
}

/// The login form, with a fresh token that the browser also gets as a cookie (double submit:
/// the form has no session yet to bind the token to).
pub async fn login_form(State(state): State<WebState>) -> Result<Response, PageError> {
    let token = session::random_token();
    let cookie = session::set_cookie(
        state.https,
        csrf::login_cookie_name(state.https),
        &token,
        Some(3600),
    );
    let mut res = html(&LoginPage {
        csrf: &token,
        user: "",
        error: None,
    })?;
    add_cookie(&mut res, &cookie)?;
    Ok(res)
}

#[derive(Deserialize)]
pub struct LoginForm {
    user: String,
    password: String,
    csrf: String,
}

pub async fn login(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    csrf::check_origin(&headers, &state)?;
    let cookie = session::read_cookie(&headers, csrf::login_cookie_name(state.https)).unwrap_or("");
    if !csrf::tokens_match(cookie, &form.csrf) {
        return Err(WebError::Csrf.into());
    }
    let failed = |status| -> Result<Response, PageError> {
        let mut res = html(&LoginPage {
            csrf: &form.csrf,
            user: &form.user,
            error: Some("authentication failed"),
        })?;
        *res.status_mut() = status;
        Ok(res)
    };
    if form.user.len() > MAX_USER || form.password.len() > MAX_PASSWORD {
        return failed(StatusCode::UNAUTHORIZED);
    }
    let principal = match state
        .svc
        .login(&form.user, &form.password, peer, crate::dispatch::Mode::Web)
        .await
    {
        Ok(p) => p,
        Err(e) if e.code == ErrorCode::AuthFailed => return failed(StatusCode::UNAUTHORIZED),
        Err(e) => return Err(e.into()),
    };
    let s = state.sessions.create(principal)?;
    let mut res = Redirect::to("/dashboard").into_response();
    let cookies = [
        session::set_cookie(state.https, session::cookie_name(state.https), &s.id, None),
        session::set_cookie(
            state.https,
            csrf::login_cookie_name(state.https),
            "",
            Some(0),
        ),
    ];
    for c in &cookies {
        add_cookie(&mut res, c)?;
    }
    Ok(res)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout(
    State(state): State<WebState>,
    PageSession(s): PageSession,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    csrf::check(&headers, &state, &s.csrf, &form.csrf)?;
    state.sessions.remove(&s.id);
    tracing::info!(user = %s.principal.user, "web logout");
    let mut res = Redirect::to("/login").into_response();
    let gone = session::set_cookie(state.https, session::cookie_name(state.https), "", Some(0));
    add_cookie(&mut res, &gone)?;
    Ok(res)
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    hostname: String,
    uptime: String,
    load: String,
    procs: u32,
    cpu: String,
    mem: String,
    cores: usize,
}

pub async fn dashboard(
    State(state): State<WebState>,
    PageSession(s): PageSession,
) -> Result<Response, PageError> {
    let snap = state.svc.sampler.latest();
    let st = &snap.status;
    html(&DashboardPage {
        chrome: Chrome::new(&state, &s, "dashboard"),
        hostname: st.hostname.clone(),
        uptime: human_duration(st.uptime),
        load: format!(
            "{:.2} {:.2} {:.2}",
            st.sample.load1, st.sample.load5, st.sample.load15
        ),
        procs: st.sample.procs,
        cpu: format!("{:.1} %", st.sample.cpu),
        mem: format!(
            "{} of {}",
            human_bytes(st.sample.mem_used),
            human_bytes(st.sample.mem_total)
        ),
        cores: st.sample.cores.len(),
    })
}

/// Sorting and filtering of the process table, from the query string.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TableQuery {
    pub sort: SortKey,
    pub desc: bool,
    pub q: String,
}

impl TableQuery {
    pub fn to_list(&self, limit: Option<u32>) -> ListQuery {
        ListQuery {
            sort: self.sort,
            desc: self.desc,
            filter: (!self.q.is_empty()).then(|| self.q.clone()),
            limit,
        }
    }
}

struct Row {
    pid: u32,
    user: String,
    cpu: String,
    mem: String,
    name: String,
}

/// A column heading's link: sorts by it, or flips the order when it is the current column.
struct Column {
    key: &'static str,
    label: &'static str,
    href: String,
    arrow: &'static str,
}

#[derive(Template)]
#[template(path = "processes.html")]
struct ProcessesPage {
    chrome: Chrome,
    rows: Vec<Row>,
    total: u32,
    q: String,
    sort: &'static str,
    desc: bool,
    columns: Vec<Column>,
}

fn sort_name(k: SortKey) -> &'static str {
    match k {
        SortKey::Pid => "pid",
        SortKey::User => "user",
        SortKey::Cpu => "cpu",
        SortKey::Mem => "mem",
        SortKey::Name => "name",
    }
}

pub async fn processes(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    PageSession(s): PageSession,
    Query(tq): Query<TableQuery>,
) -> Result<Response, PageError> {
    let Reply::Processes { total, processes } =
        run(&state, &s.principal, peer, Command::List(tq.to_list(None))).await?
    else {
        return Err(WebError::Internal("unexpected reply to list".into()).into());
    };
    let rows = processes
        .into_iter()
        .map(|p| Row {
            pid: p.pid.0,
            user: p.user,
            cpu: format!("{:.1}", p.cpu),
            mem: human_bytes(p.mem),
            name: p.name,
        })
        .collect();
    let columns = [
        (SortKey::Pid, "PID"),
        (SortKey::User, "User"),
        (SortKey::Cpu, "CPU %"),
        (SortKey::Mem, "Memory"),
        (SortKey::Name, "Name"),
    ]
    .into_iter()
    .map(|(k, label)| {
        let current = k == tq.sort;
        let desc = if current {
            !tq.desc
        } else {
            matches!(k, SortKey::Cpu | SortKey::Mem)
        };
        Column {
            key: sort_name(k),
            label,
            href: format!(
                "/processes?sort={}&desc={desc}&q={}",
                sort_name(k),
                encode_query(&tq.q)
            ),
            arrow: match (current, tq.desc) {
                (false, _) => "",
                (true, false) => " ▲",
                (true, true) => " ▼",
            },
        }
    })
    .collect();
    html(&ProcessesPage {
        chrome: Chrome::new(&state, &s, "processes"),
        rows,
        total,
        q: tq.q,
        sort: sort_name(tq.sort),
        desc: tq.desc,
        columns,
    })
}

#[derive(Template)]
#[template(path = "process.html")]
struct ProcessPage {
    chrome: Chrome,
    p: ProcessDetail,
    command_line: String,
    started: String,
    mem: String,
    virtual_mem: String,
}

pub async fn process(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    PageSession(s): PageSession,
    Path(pid): Path<String>,
) -> Result<Response, PageError> {
    let pid = pid_of(&pid)?;
    let Reply::Process(p) = run(&state, &s.principal, peer, Command::Process { pid }).await? else {
        return Err(WebError::Internal("unexpected reply to process".into()).into());
    };
    html(&ProcessPage {
        chrome: Chrome::new(&state, &s, "processes"),
        command_line: shell_words::join(&p.cmd),
        started: human_time(p.start_time),
        mem: human_bytes(p.mem),
        virtual_mem: human_bytes(p.virtual_mem),
        p,
    })
}

#[derive(Deserialize)]
pub struct StopForm {
    csrf: String,
    #[serde(default)]
    signal: Signal,
}

pub async fn stop(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    PageSession(s): PageSession,
    headers: HeaderMap,
    Path(pid): Path<String>,
    Form(form): Form<StopForm>,
) -> Result<Response, PageError> {
    csrf::check(&headers, &state, &s.csrf, &form.csrf)?;
    let pid = pid_of(&pid)?;
    let req = StopRequest {
        pid,
        signal: form.signal,
        grace_ms: None,
    };
    let message = match run(&state, &s.principal, peer, Command::Stop(req)).await {
        Ok(Reply::Stopped { killed: true, .. }) => {
            format!("stopped {pid}: it outlived the grace period and was killed (SIGKILL)")
        }
        Ok(Reply::Stopped { signal, .. }) => format!("stopped {pid} (SIG{})", signal.name()),
        Ok(_) => "unexpected reply".to_owned(),
        Err(e) => format!("could not stop {pid}: {}", e.message),
    };
    Ok(redirect_with(&state, &s, "/processes", message))
}

#[derive(Template)]
#[template(path = "start.html")]
struct StartPage<'a> {
    chrome: Chrome,
    command: &'a str,
    cwd: &'a str,
    error: Option<&'a str>,
}

pub async fn start_form(
    State(state): State<WebState>,
    PageSession(s): PageSession,
) -> Result<Response, PageError> {
    let chrome = Chrome::new(&state, &s, "start");
    if !chrome.can_act {
        return Err(WebError::Wire(vigia_shared::WireError::new(
            ErrorCode::PermissionDenied,
            format!(
                "permission denied: role {} may not start processes",
                chrome.role
            ),
        ))
        .into());
    }
    html(&StartPage {
        chrome,
        command: "",
        cwd: "",
        error: None,
    })
}

#[derive(Deserialize)]
pub struct StartForm {
    csrf: String,
    command: String,
    #[serde(default)]
    cwd: String,
}

pub async fn start(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    PageSession(s): PageSession,
    headers: HeaderMap,
    Form(form): Form<StartForm>,
) -> Result<Response, PageError> {
    csrf::check(&headers, &state, &s.csrf, &form.csrf)?;
    let outcome = match split_command(&form.command) {
        Ok(argv) => {
            let cwd = (!form.cwd.trim().is_empty()).then(|| form.cwd.trim().to_owned());
            run(
                &state,
                &s.principal,
                peer,
                Command::Start(StartRequest { argv, cwd }),
            )
            .await
            .map_err(|e| e.message)
        }
        Err(e) => Err(e.to_string()),
    };
    match outcome {
        Ok(Reply::Started { pid }) => Ok(redirect_with(
            &state,
            &s,
            &format!("/processes/{pid}/output"),
            format!("started process {pid}"),
        )),
        Ok(_) => Err(WebError::Internal("unexpected reply to start".into()).into()),
        Err(message) => {
            let mut res = html(&StartPage {
                chrome: Chrome::new(&state, &s, "start"),
                command: &form.command,
                cwd: &form.cwd,
                error: Some(&message),
            })?;
            *res.status_mut() = StatusCode::BAD_REQUEST;
            Ok(res)
        }
    }
}

#[derive(Template)]
#[template(path = "output.html")]
struct OutputPage {
    chrome: Chrome,
    pid: u32,
    data: String,
    truncated: bool,
}

pub async fn output(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    PageSession(s): PageSession,
    Path(pid): Path<String>,
) -> Result<Response, PageError> {
    let pid = pid_of(&pid)?;
    let command = Command::Output {
        pid,
        max_bytes: Some(OUTPUT_TAIL),
    };
    let Reply::Output {
        data, truncated, ..
    } = run(&state, &s.principal, peer, command).await?
    else {
        return Err(WebError::Internal("unexpected reply to output".into()).into());
    };
    html(&OutputPage {
        chrome: Chrome::new(&state, &s, "start"),
        pid: pid.0,
        data,
        truncated,
    })
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    events: Vec<AuditRow>,
    user: String,
    /// Link to the next (older) page, when there may be one.
    older: Option<String>,
}

struct AuditRow {
    id: u64,
    time: String,
    user: String,
    peer: String,
    mode: String,
    action: String,
    target: String,
    ok: bool,
    result: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AuditParams {
    pub user: String,
    pub before: Option<u64>,
}

/// Events on one page of the audit log.
const AUDIT_PAGE: u32 = 200;

pub async fn audit(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    PageSession(s): PageSession,
    Query(params): Query<AuditParams>,
) -> Result<Response, PageError> {
    let query = vigia_shared::proto::AuditQuery {
        limit: Some(AUDIT_PAGE),
        before: params.before,
        user: (!params.user.is_empty()).then(|| params.user.clone()),
    };
    let Reply::Audit { events } = run(&state, &s.principal, peer, Command::Audit(query)).await?
    else {
        return Err(WebError::Internal("unexpected reply to audit".into()).into());
    };
    let older = (events.len() == AUDIT_PAGE as usize)
        .then(|| events.last())
        .flatten()
        .map(|e| format!("/audit?user={}&before={}", encode_query(&params.user), e.id));
    let events = events
        .into_iter()
        .map(|e| AuditRow {
            id: e.id,
            time: human_time_ms(e.time_ms),
            user: e.user,
            peer: e.peer,
            mode: e.mode,
            action: e.action,
            target: e.target,
            ok: e.ok,
            result: e.result,
        })
        .collect();
    html(&AuditPage {
        chrome: Chrome::new(&state, &s, "audit"),
        events,
        user: params.user,
        older,
    })
}
