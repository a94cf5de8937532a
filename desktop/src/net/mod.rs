//! net: the sessions with the daemons. One task per connected host runs on a tokio runtime that
//! is passed in (never the UI thread); tasks report [`NetEvent`]s through a bounded channel and
//! wake the UI; the UI drains them with [`NetHandle::poll`] at the start of a frame and sends
//! [`NetCommand`]s back with [`NetHandle::send`], which never blocks.

pub mod events;
mod session;
pub mod trust;

pub use events::{ActionId, ActionOk, NetCommand, NetEvent, NetEventKind};

use crate::model::HostId;
use crate::secrets::SecretStore;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use vigia_shared::client::Timeouts;

/// Wakes the UI within the given time (egui's `request_repaint_after`): at once for what the
/// user waits on, within [`STREAM_REPAINT_WITHIN`] for the streams, so that twenty hosts' samples
/// arriving at twenty moments of a second cost one frame, not twenty.
pub type Waker = Arc<dyn Fn(Duration) + Send + Sync>;

/// How long a status sample or a refreshed process list may wait for the next frame.
pub const STREAM_REPAINT_WITHIN: Duration = Duration::from_secs(1);

/// Events not yet taken by the UI, at most; a task waits when the UI falls this far behind.
const EVENT_QUEUE: usize = 1024;
/// Commands not yet taken by a task, at most; more are refused rather than blocking the UI.
const COMMAND_QUEUE: usize = 64;

/// Timings of the sessions.
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    /// First wait before reconnecting; doubles after each failure.
    pub backoff_min: Duration,
    /// Longest wait before reconnecting.
    pub backoff_max: Duration,
    /// Time between two process lists.
    pub list_every: Duration,
    /// Interval of the status stream asked from the daemon.
    pub sample_every: Duration,
    /// A session that received nothing for this long is considered lost.
    pub stall_after: Duration,
    pub timeouts: Timeouts,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            list_every: Duration::from_secs(2),
            sample_every: Duration::from_secs(1),
            stall_after: Duration::from_secs(15),
            timeouts: Timeouts {
                connect: Duration::from_secs(10),
                request: Duration::from_secs(20),
            },
        }
    }
}

impl Tuning {
    /// Short waits, for tests on loopback.
    pub fn fast() -> Self {
        Self {
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_millis(500),
            list_every: Duration::from_millis(300),
            sample_every: Duration::from_millis(250),
            stall_after: Duration::from_secs(10),
            timeouts: Timeouts {
                connect: Duration::from_secs(5),
                request: Duration::from_secs(10),
            },
        }
    }
}

/// What a session needs to know about its server.
#[derive(Debug, Clone)]
pub struct SessionSpec {
    pub host: HostId,
    /// `host:port`.
    pub addr: String,
    /// The name the certificate must be valid for.
    pub server_name: String,
    pub user: String,
    /// The account the password is filed under in the credential store.
    pub account: String,
    /// The fingerprint the user accepted, if any.
    pub pinned: Option<String>,
    /// A password typed in this run; read from the credential store when absent.
    pub password: Option<String>,
    /// List the host's processes every [`Tuning::list_every`]: only while they are on screen,
    /// since a daemon rescans every process while someone lists (see [`NetHandle::watch_only`]).
    pub watch: bool,
}

struct Running {
    epoch: u64,
    commands: mpsc::Sender<NetCommand>,
    task: tokio::task::AbortHandle,
}

/// The UI's side of the network: starts and stops session tasks, passes commands and events.
pub struct NetHandle {
    runtime: tokio::runtime::Handle,
    secrets: Arc<dyn SecretStore>,
    tuning: Tuning,
    waker: Waker,
    tx: mpsc::Sender<NetEvent>,
    rx: mpsc::Receiver<NetEvent>,
    sessions: HashMap<HostId, Running>,
    /// Hosts whose processes are on screen.
    watched: HashSet<HostId>,
    next_epoch: u64,
    next_action: u64,
}

impl NetHandle {
    pub fn new(
        runtime: tokio::runtime::Handle,
        secrets: Arc<dyn SecretStore>,
        tuning: Tuning,
        waker: Waker,
    ) -> Self {
        let (tx, rx) = mpsc::channel(EVENT_QUEUE);
        Self {
            runtime,
            secrets,
            tuning,
            waker,
            tx,
            rx,
            sessions: HashMap::new(),
            watched: HashSet::new(),
            next_epoch: 1,
            next_action: 1,
        }
    }

    /// Starts (or restarts) the session of `spec.host`.
    pub fn open(&mut self, mut spec: SessionSpec) {
        self.close(spec.host);
        spec.watch |= self.watched.contains(&spec.host);
        let epoch = self.next_epoch;
        self.next_epoch += 1;
        let (commands, rx) = mpsc::channel(COMMAND_QUEUE);
        let out = session::Outbox::new(spec.host, epoch, self.tx.clone(), self.waker.clone());
        let host = spec.host;
        let task = self.runtime.spawn(session::run(
            spec,
            rx,
            out,
            self.secrets.clone(),
            self.tuning,
        ));
        self.sessions.insert(
            host,
            Running {
                epoch,
                commands,
                task: task.abort_handle(),
            },
        );
    }

    /// Ends the session of `host`, if any.
    pub fn close(&mut self, host: HostId) {
        if let Some(r) = self.sessions.remove(&host) {
            r.task.abort();
        }
    }

    pub fn is_open(&self, host: HostId) -> bool {
        self.sessions.contains_key(&host)
    }

    /// Lists the processes of exactly these hosts (those on screen), and of no other: tells
    /// each session whose part changed. A session too far behind to be told keeps its old
    /// part and is told again at the next call.
    pub fn watch_only(&mut self, hosts: &HashSet<HostId>) {
        let changed: Vec<HostId> = self.watched.symmetric_difference(hosts).copied().collect();
        for host in changed {
            let on = hosts.contains(&host);
            if self.send(host, NetCommand::Watch(on)) || !self.is_open(host) {
                if on {
                    self.watched.insert(host);
                } else {
                    self.watched.remove(&host);
                }
            }
        }
    }

    /// Passes a command to a host's session; `false` when it has none or is too far behind.
    pub fn send(&self, host: HostId, command: NetCommand) -> bool {
        self.sessions
            .get(&host)
            .is_some_and(|r| r.commands.try_send(command).is_ok())
    }

    /// A fresh id for an action whose outcome will be reported.
    pub fn next_action(&mut self) -> ActionId {
        let id = ActionId(self.next_action);
        self.next_action += 1;
        id
    }

    /// The events that arrived since the last call, from current sessions only.
    pub fn poll(&mut self) -> Vec<NetEvent> {
        let mut out = Vec::new();
        while let Ok(ev) = self.rx.try_recv() {
            let current = self
                .sessions
                .get(&ev.host)
                .is_some_and(|r| r.epoch == ev.epoch);
            if current || ev.epoch == 0 {
                out.push(ev);
            }
        }
        out
    }

    /// Saves a password in the credential store, off the UI thread; a failure comes back as a
    /// [`NetEventKind::SecretNotSaved`] event of `host`.
    pub fn save_password(&self, host: HostId, account: String, password: String) {
        let secrets = self.secrets.clone();
        let tx = self.tx.clone();
        let waker = self.waker.clone();
        self.runtime.spawn(async move {
            let saved = tokio::task::spawn_blocking(move || secrets.set(&account, &password)).await;
            let error = match saved {
                Ok(Ok(())) => return,
                Ok(Err(e)) => e.to_string(),
                Err(e) => format!("the credential store crashed: {e}"),
            };
            let kind = NetEventKind::SecretNotSaved(error);
            let _ = tx
                .send(NetEvent {
                    host,
                    epoch: 0,
                    kind,
                })
                .await;
            waker(Duration::ZERO);
        });
    }

    /// Removes a password from the credential store, off the UI thread.
    pub fn forget_password(&self, account: String) {
        let secrets = self.secrets.clone();
        self.runtime.spawn_blocking(move || {
            if let Err(e) = secrets.delete(&account) {
                tracing::warn!(error = %e, "cannot remove a password from the credential store");
            }
        });
    }
}

impl Drop for NetHandle {
    fn drop(&mut self) {
        for r in self.sessions.values() {
            r.task.abort();
        }
    }
}
