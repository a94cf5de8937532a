//! events: the messages between the UI and the session tasks. Events carry the id of the host
//! whose task sent them, set when the task was spawned, never taken from what a daemon says, so
//! nothing one daemon sends can land on another host.

use crate::model::{ConnState, HostId};
use vigia_shared::Pid;
use vigia_shared::proto::{ProcessDetail, ProcessInfo, Role, Signal, StatusSample, SystemStatus};

/// Identifies one user action, so its outcome can be shown where it was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ActionId(pub u64);

impl ActionId {
    /// Reports of requests the app made on its own (process details); never a user action's
    /// id, which start at 1.
    pub const BACKGROUND: ActionId = ActionId(0);
}

/// What a session task reports.
#[derive(Debug, Clone)]
pub struct NetEvent {
    pub host: HostId,
    /// Which spawn of the host's task sent it; events of a replaced task are ignored.
    pub epoch: u64,
    pub kind: NetEventKind,
}

#[derive(Debug, Clone)]
pub enum NetEventKind {
    State(ConnState),
    /// Logged in.
    Connected {
        server: String,
        role: Role,
        fingerprint: String,
    },
    Status(Box<SystemStatus>),
    /// The recent history, oldest first, received when subscribing.
    History(Vec<StatusSample>),
    Sample(StatusSample),
    Processes {
        total: u32,
        rows: Vec<ProcessInfo>,
    },
    /// The outcome of an action, in words for a person.
    ActionDone {
        action: ActionId,
        outcome: Result<ActionOk, String>,
    },
    Detail(Box<ProcessDetail>),
    Output {
        pid: Pid,
        data: String,
        truncated: bool,
    },
    /// Saving the password to the credential store failed; the text says why.
    SecretNotSaved(String),
}

/// What a successful action did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionOk {
    Started { pid: Pid },
    Stopped { pid: Pid, killed: bool },
}

/// What the UI asks of a session.
#[derive(Debug, Clone)]
pub enum NetCommand {
    Start {
        action: ActionId,
        argv: Vec<String>,
        cwd: Option<String>,
    },
    Stop {
        action: ActionId,
        pid: Pid,
        signal: Signal,
    },
    Detail {
        pid: Pid,
    },
    /// Fetch this process's output with every list refresh (`None` stops).
    Follow {
        pid: Option<Pid>,
    },
    RefreshList,
    /// Whether the host's processes are on screen: listed every `list_every` while they are.
    Watch(bool),
    /// The password the user typed.
    Password(String),
    /// The user accepted the certificate with this fingerprint.
    Trust(String),
    /// Try again now instead of waiting for the backoff.
    RetryNow,
}
