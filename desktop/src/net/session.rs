//! session: the task that keeps one host's session alive: connect and check the certificate,
//! log in (only then, so credentials go only to the host they were saved for after its
//! certificate check), subscribe to the status stream, poll the process list, carry out the
//! user's actions, and reconnect with backoff when the network or the daemon goes away.

use super::events::{ActionOk, NetCommand, NetEvent, NetEventKind};
use super::trust::{explain, needs_decision};
use super::{STREAM_REPAINT_WITHIN, SessionSpec, Tuning, Waker};
use crate::model::{ConnState, HostId};
use crate::secrets::{SecretError, SecretStore};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use vigia_shared::Pid;
use vigia_shared::client::{Client, ClientError, Trust};
use vigia_shared::proto::{Command, ErrorCode, Event, ListQuery, Reply};

/// Largest output tail fetched for a followed process, bytes.
const OUTPUT_TAIL: u64 = 64 * 1024;

/// Sends a session's events to the UI and wakes it.
#[derive(Clone)]
pub(crate) struct Outbox {
    host: HostId,
    epoch: u64,
    tx: mpsc::Sender<NetEvent>,
    waker: Waker,
}

impl Outbox {
    pub(crate) fn new(host: HostId, epoch: u64, tx: mpsc::Sender<NetEvent>, waker: Waker) -> Self {
        Self {
            host,
            epoch,
            tx,
            waker,
        }
    }

    /// `false` when the UI is gone.
    async fn send(&self, kind: NetEventKind) -> bool {
        let ev = NetEvent {
            host: self.host,
            epoch: self.epoch,
            kind,
        };
        let within = match ev.kind {
            NetEventKind::Sample(_) | NetEventKind::Processes { .. } => STREAM_REPAINT_WITHIN,
            _ => Duration::ZERO,
        };
        let sent = self.tx.send(ev).await.is_ok();
        (self.waker)(within);
        sent
    }

    async fn state(&self, state: ConnState) -> bool {
        self.send(NetEventKind::State(state)).await
    }
}

/// Whether the task goes on.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    Exit,
}

/// How a logged-in session ended.
enum Ended {
    Lost(String),
    Exit,
}

pub(crate) async fn run(
    mut spec: SessionSpec,
    mut commands: mpsc::Receiver<NetCommand>,
    out: Outbox,
    secrets: Arc<dyn SecretStore>,
    tuning: Tuning,
) {
    let mut attempt = 0u32;
    let mut backoff = tuning.backoff_min;
    loop {
        attempt += 1;
        if !out.state(ConnState::Connecting { attempt }).await {
            return;
        }
        let trust = Trust::system_or_pinned(spec.pinned.clone());
        let failure = match Client::connect_with(
            &spec.addr,
            &spec.server_name,
            &trust,
            tuning.timeouts,
        )
        .await
        {
            Ok(client) => match login(client, &mut spec, &mut commands, &out, &secrets).await {
                LoginOutcome::LoggedIn(client, role) => {
                    attempt = 0;
                    backoff = tuning.backoff_min;
                    match serve(*client, role, &mut spec, &mut commands, &out, &tuning).await {
                        Ended::Exit => return,
                        Ended::Lost(reason) => reason,
                    }
                }
                LoginOutcome::Retry => continue,
                LoginOutcome::Failed(reason) => reason,
                LoginOutcome::Exit => return,
            },
            Err(e) => {
                if let Some(state) = needs_decision(&e) {
                    if !out.state(state).await {
                        return;
                    }
                    match wait_for_user(Awaiting::Trust, &mut commands, &mut spec, &out).await {
                        Flow::Continue => {
                            attempt = 0;
                            continue;
                        }
                        Flow::Exit => return,
                    }
                }
                explain(&e)
            }
        };
        tracing::info!(host = %spec.addr, reason = %failure, "session lost; reconnecting");
        let at = Instant::now() + backoff;
        let state = ConnState::Reconnecting {
            at: at.into_std(),
            reason: failure,
        };
        if !out.state(state).await {
            return;
        }
        if wait_backoff(at, &mut commands, &mut spec, &out).await == Flow::Exit {
            return;
        }
        backoff = (backoff * 2).min(tuning.backoff_max);
    }
}

enum LoginOutcome {
    LoggedIn(Box<Client>, vigia_shared::Role),
    /// Connect again (a password was given, or the user asked).
    Retry,
    Failed(String),
    Exit,
}

async fn login(
    client: Client,
    spec: &mut SessionSpec,
    commands: &mut mpsc::Receiver<NetCommand>,
    out: &Outbox,
    secrets: &Arc<dyn SecretStore>,
) -> LoginOutcome {
    let password = match spec.password.clone() {
        Some(p) => p,
        None => match load_secret(secrets, &spec.account).await {
            Ok(Some(p)) => {
                spec.password = Some(p.clone());
                p
            }
            found => {
                // The daemon closes idle unauthenticated connections: ask first, connect again.
                drop(client);
                let note = found.err().map(|e| e.to_string());
                if !out.state(ConnState::NeedPassword { note }).await {
                    return LoginOutcome::Exit;
                }
                return match wait_for_user(Awaiting::Password, commands, spec, out).await {
                    Flow::Continue => LoginOutcome::Retry,
                    Flow::Exit => LoginOutcome::Exit,
                };
            }
        },
    };
    match client.login(&spec.user, &password).await {
        Ok(role) => LoginOutcome::LoggedIn(Box::new(client), role),
        Err(e) if e.code() == Some(ErrorCode::AuthFailed) => {
            drop(client);
            spec.password = None;
            if !out.state(ConnState::WrongPassword).await {
                return LoginOutcome::Exit;
            }
            match wait_for_user(Awaiting::Password, commands, spec, out).await {
                Flow::Continue => LoginOutcome::Retry,
                Flow::Exit => LoginOutcome::Exit,
            }
        }
        Err(e) => LoginOutcome::Failed(explain(&e)),
    }
}

async fn load_secret(
    secrets: &Arc<dyn SecretStore>,
    account: &str,
) -> Result<Option<String>, SecretError> {
    let secrets = secrets.clone();
    let account = account.to_owned();
    tokio::task::spawn_blocking(move || secrets.get(&account))
        .await
        .map_err(|e| SecretError::Store(format!("the credential store crashed: {e}")))?
}

/// Answers a command that needs a logged-in session while there is none, and keeps what the
/// next session must know.
async fn while_offline(command: NetCommand, spec: &mut SessionSpec, out: &Outbox) {
    let action = match command {
        NetCommand::Start { action, .. } | NetCommand::Stop { action, .. } => action,
        NetCommand::Watch(on) => {
            spec.watch = on;
            return;
        }
        _ => return,
    };
    out.send(NetEventKind::ActionDone {
        action,
        outcome: Err("Not connected to this host".into()),
    })
    .await;
}

/// What a session waits for the user to give before it tries again.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Awaiting {
    /// A decision on the certificate.
    Trust,
    Password,
}

/// Waits for the user to give what `awaiting` names (or to ask for a new attempt); the other
/// answer is kept for later, and actions are refused meanwhile.
async fn wait_for_user(
    awaiting: Awaiting,
    commands: &mut mpsc::Receiver<NetCommand>,
    spec: &mut SessionSpec,
    out: &Outbox,
) -> Flow {
    while let Some(command) = commands.recv().await {
        let done = match command {
            NetCommand::Trust(fingerprint) => {
                spec.pinned = Some(fingerprint);
                awaiting == Awaiting::Trust
            }
            NetCommand::Password(p) => {
                spec.password = Some(p);
                awaiting == Awaiting::Password
            }
            NetCommand::RetryNow => true,
            other => {
                while_offline(other, spec, out).await;
                false
            }
        };
        if done {
            return Flow::Continue;
        }
    }
    Flow::Exit
}

/// Waits until `at`, or less when the user asks for a new attempt.
async fn wait_backoff(
    at: Instant,
    commands: &mut mpsc::Receiver<NetCommand>,
    spec: &mut SessionSpec,
    out: &Outbox,
) -> Flow {
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(at) => return Flow::Continue,
            command = commands.recv() => match command {
                None => return Flow::Exit,
                Some(NetCommand::RetryNow) => return Flow::Continue,
                Some(NetCommand::Password(p)) => {
                    spec.password = Some(p);
                    return Flow::Continue;
                }
                Some(NetCommand::Trust(fingerprint)) => spec.pinned = Some(fingerprint),
                Some(other) => while_offline(other, spec, out).await,
            },
        }
    }
}

/// What a request run beside the session's loop produced.
enum Job {
    List(Result<(u32, Vec<vigia_shared::proto::ProcessInfo>), ClientError>),
    Event(NetEventKind),
    /// Nothing to report (a failed background fetch the user did not ask for).
    Quiet,
}

/// Runs a logged-in session until the connection is lost or the UI is gone.
async fn serve(
    client: Client,
    role: vigia_shared::Role,
    spec: &mut SessionSpec,
    commands: &mut mpsc::Receiver<NetCommand>,
    out: &Outbox,
    tuning: &Tuning,
) -> Ended {
    let client = Arc::new(client);
    let Some(mut events) = client.take_events() else {
        return Ended::Lost("the client has no event stream".into());
    };
    let connected = NetEventKind::Connected {
        server: client.server().to_owned(),
        role,
        fingerprint: client.fingerprint().to_owned(),
    };
    if !out.send(connected).await || !out.state(ConnState::Connected).await {
        return Ended::Exit;
    }
    match client.status().await {
        Ok(s) => {
            if !out.send(NetEventKind::Status(Box::new(s))).await {
                return Ended::Exit;
            }
        }
        Err(e) => return Ended::Lost(explain(&e)),
    }
    match client.subscribe(tuning.sample_every).await {
        Ok(history) => {
            if !out.send(NetEventKind::History(history)).await {
                return Ended::Exit;
            }
        }
        Err(e) => return Ended::Lost(explain(&e)),
    }

    let mut jobs: JoinSet<Job> = JoinSet::new();
    let mut list_tick = tokio::time::interval(tuning.list_every);
    list_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut listing = false;
    let mut follow: Option<Pid> = None;
    let mut last_data = Instant::now();
    loop {
        let stall = tokio::time::sleep_until(last_data + tuning.stall_after);
        tokio::select! {
            event = events.recv() => match event {
                Some(Event::Status(sample)) => {
                    last_data = Instant::now();
                    if !out.send(NetEventKind::Sample(sample)).await {
                        return Ended::Exit;
                    }
                }
                None => return Ended::Lost("the daemon closed the connection".into()),
            },
            _ = list_tick.tick() => {
                if spec.watch && !listing {
                    listing = true;
                    jobs.spawn(list(client.clone()));
                }
                if let Some(pid) = follow {
                    jobs.spawn(output(client.clone(), pid));
                }
            }
            Some(done) = jobs.join_next(), if !jobs.is_empty() => {
                let Ok(job) = done else { continue };
                let kind = match job {
                    Job::List(Ok((total, rows))) => {
                        listing = false;
                        last_data = Instant::now();
                        NetEventKind::Processes { total, rows }
                    }
                    Job::List(Err(e)) => return Ended::Lost(explain(&e)),
                    Job::Event(kind) => kind,
                    Job::Quiet => continue,
                };
                if !out.send(kind).await {
                    return Ended::Exit;
                }
            }
            command = commands.recv() => {
                let Some(command) = command else { return Ended::Exit };
                match command {
                    NetCommand::Start { action, argv, cwd } => {
                        let c = client.clone();
                        jobs.spawn(async move {
                            let outcome = c.start(argv, cwd).await
                                .map(|pid| ActionOk::Started { pid })
                                .map_err(|e| explain(&e));
                            Job::Event(NetEventKind::ActionDone { action, outcome })
                        });
                    }
                    NetCommand::Stop { action, pid, signal } => {
                        let c = client.clone();
                        jobs.spawn(async move {
                            let outcome = c.stop(pid, signal, None).await
                                .map(|killed| ActionOk::Stopped { pid, killed })
                                .map_err(|e| explain(&e));
                            Job::Event(NetEventKind::ActionDone { action, outcome })
                        });
                    }
                    NetCommand::Detail { pid } => {
                        jobs.spawn(detail(client.clone(), pid));
                    }
                    NetCommand::Follow { pid } => {
                        follow = pid;
                        if let Some(pid) = pid {
                            jobs.spawn(output(client.clone(), pid));
                        }
                    }
                    NetCommand::RefreshList => {
                        if !listing {
                            listing = true;
                            jobs.spawn(list(client.clone()));
                        }
                    }
                    NetCommand::Watch(on) => {
                        spec.watch = on;
                        if on && !listing {
                            listing = true;
                            jobs.spawn(list(client.clone()));
                        }
                    }
                    NetCommand::Password(p) => spec.password = Some(p),
                    NetCommand::Trust(_) | NetCommand::RetryNow => {}
                }
            }
            () = stall => {
                let secs = tuning.stall_after.as_secs();
                return Ended::Lost(format!("no data from the daemon for {secs} s"));
            }
        }
    }
}

async fn list(client: Arc<Client>) -> Job {
    Job::List(client.list(ListQuery::default()).await)
}

async fn detail(client: Arc<Client>, pid: Pid) -> Job {
    match client.request(Command::Process { pid }).await {
        Ok(Reply::Process(d)) => Job::Event(NetEventKind::Detail(Box::new(d))),
        Ok(_) => Job::Quiet,
        Err(e) => Job::Event(NetEventKind::ActionDone {
            action: super::ActionId::BACKGROUND,
            outcome: Err(explain(&e)),
        }),
    }
}

async fn output(client: Arc<Client>, pid: Pid) -> Job {
    let request = Command::Output {
        pid,
        max_bytes: Some(OUTPUT_TAIL),
    };
    match client.request(request).await {
        Ok(Reply::Output {
            pid,
            data,
            truncated,
        }) => Job::Event(NetEventKind::Output {
            pid,
            data,
            truncated,
        }),
        _ => Job::Quiet,
    }
}
