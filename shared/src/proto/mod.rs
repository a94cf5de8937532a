//! The protocol's vocabulary: one [`Command`] enum and one [`Reply`] enum that both wire modes
//! (the line-based text mode and the JSON mode) parse into and render from.
//!
//! The daemon's dispatcher only ever sees these types, never the mode a request came in.

pub mod json;
pub mod limits;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod props;
pub mod text;

use serde::{Deserialize, Serialize};
use std::fmt;

/// Version of the JSON protocol spoken by this crate.
pub const PROTOCOL_VERSION: u32 = 1;

/// An operating-system process id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Pid(pub u32);

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a user may do; checked by the daemon for every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything.
    Admin,
    /// List, status, start, and stop the processes it started through Vigía.
    Operator,
    /// List and status only.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "operator" => Ok(Role::Operator),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!(
                "unknown role '{other}': expected admin, operator or viewer"
            )),
        }
    }
}

/// Column a process list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortKey {
    #[default]
    Pid,
    User,
    Cpu,
    Mem,
    Name,
}

/// A signal that ends a process; `stop` escalates to `KILL` after the grace period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Signal {
    #[default]
    Term,
    Int,
    Hup,
    Quit,
    Kill,
}

impl Signal {
    /// The conventional signal number on Linux.
    pub fn number(self) -> i32 {
        match self {
            Signal::Hup => 1,
            Signal::Int => 2,
            Signal::Quit => 3,
            Signal::Kill => 9,
            Signal::Term => 15,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Signal::Term => "TERM",
            Signal::Int => "INT",
            Signal::Hup => "HUP",
            Signal::Quit => "QUIT",
            Signal::Kill => "KILL",
        }
    }
}

/// Options of a process listing.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    /// Column to sort by (default: pid).
    pub sort: SortKey,
    /// Sort in descending order.
    pub desc: bool,
    /// Keep only processes whose name or user contains this text (case-insensitive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// At most this many rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// A request to start a process, run without a shell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartRequest {
    /// Program and arguments; `argv[0]` is looked up in `PATH`.
    pub argv: Vec<String>,
    /// Working directory; the daemon's data directory when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
}

/// A request to stop a process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopRequest {
    pub pid: Pid,
    /// First signal sent (default TERM).
    #[serde(default)]
    pub signal: Signal,
    /// Time to wait before escalating to KILL, milliseconds (daemon default when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_ms: Option<u64>,
}

/// Every request a client can make, whatever the wire mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    /// Version handshake (JSON mode).
    Hello {
        version: u32,
    },
    Login {
        user: String,
        password: String,
    },
    List(ListQuery),
    Start(StartRequest),
    Stop(StopRequest),
    Status,
    /// Details of one process.
    Process {
        pid: Pid,
    },
    /// The tail of a started process's output log.
    Output {
        pid: Pid,
        /// At most this many bytes from the end (daemon default when absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_bytes: Option<u64>,
    },
    /// The audit log, newest first (admins only).
    Audit(AuditQuery),
    /// Push a status sample every `interval_ms`; the reply carries the recent history.
    Subscribe {
        interval_ms: u64,
    },
    Unsubscribe,
    Quit,
}

impl Command {
    /// Short name for logs and audit records (never includes secrets).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Hello { .. } => "hello",
            Command::Login { .. } => "login",
            Command::List(_) => "list",
            Command::Start(_) => "start",
            Command::Stop(_) => "stop",
            Command::Status => "status",
            Command::Process { .. } => "process",
            Command::Output { .. } => "output",
            Command::Audit(_) => "audit",
            Command::Subscribe { .. } => "subscribe",
            Command::Unsubscribe => "unsubscribe",
            Command::Quit => "quit",
        }
    }
}

/// Which audit events to read.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    /// At most this many events (daemon default when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Only events older than this id (for paging back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<u64>,
    /// Only events of this user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// One recorded action: a login, a start, a stop, or something refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: u64,
    /// Milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// The user name given (for a failed login, whatever was typed).
    pub user: String,
    /// Client address and port.
    pub peer: String,
    /// `text`, `json` or `web`.
    pub mode: String,
    /// `login`, `start`, `stop`, `output`, `audit`, or `denied`.
    pub action: String,
    /// What the action was aimed at: a pid, a command line, a command name.
    pub target: String,
    /// Whether it was carried out.
    pub ok: bool,
    /// `ok`, or why not.
    pub result: String,
}

/// One row of a process list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessInfo {
    pub pid: Pid,
    /// Owner's user name (or numeric uid when it has no name).
    pub user: String,
    /// CPU use since the previous sample, percent of one core.
    pub cpu: f32,
    /// Resident memory, bytes.
    pub mem: u64,
    pub name: String,
}

/// Full details of one process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessDetail {
    pub pid: Pid,
    pub parent: Option<Pid>,
    pub user: String,
    pub name: String,
    /// Command line, one element per argument.
    pub cmd: Vec<String>,
    pub exe: Option<String>,
    pub cwd: Option<String>,
    /// Start time, seconds since the Unix epoch.
    pub start_time: u64,
    /// Percent of one core.
    pub cpu: f32,
    /// Resident memory, bytes.
    pub mem: u64,
    /// Virtual memory, bytes.
    pub virtual_mem: u64,
    pub threads: Option<u32>,
    pub state: String,
    /// Whether this process was started through Vigía.
    pub started_by_vigia: bool,
}

/// One point of the system's status history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusSample {
    /// Sample time, milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// CPU use across all cores, percent (0–100).
    pub cpu: f32,
    /// CPU use per core, percent (0–100 each).
    #[serde(default)]
    pub cores: Vec<f32>,
    /// Used memory, bytes.
    pub mem_used: u64,
    /// Total memory, bytes.
    pub mem_total: u64,
    /// Used swap, bytes.
    pub swap_used: u64,
    /// Total swap, bytes.
    pub swap_total: u64,
    /// 1-minute load average.
    pub load1: f64,
    pub load5: f64,
    pub load15: f64,
    /// Number of processes.
    pub procs: u32,
}

/// A mounted file system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiskInfo {
    pub mount: String,
    pub fs: String,
    /// Total size, bytes.
    pub total: u64,
    /// Available space, bytes.
    pub available: u64,
}

/// The system's status: the latest sample plus host facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemStatus {
    pub hostname: String,
    /// Seconds since boot.
    pub uptime: u64,
    #[serde(flatten)]
    pub sample: StatusSample,
    #[serde(default)]
    pub disks: Vec<DiskInfo>,
}

/// A successful answer to a [`Command`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reply {
    Hello {
        version: u32,
        server: String,
    },
    LoggedIn {
        user: String,
        role: Role,
    },
    Processes {
        /// Rows that matched before `limit` was applied.
        total: u32,
        processes: Vec<ProcessInfo>,
    },
    Started {
        pid: Pid,
    },
    Stopped {
        pid: Pid,
        signal: Signal,
        /// The process outlived the grace period and was killed.
        killed: bool,
    },
    Status(SystemStatus),
    Process(ProcessDetail),
    Output {
        pid: Pid,
        data: String,
        /// Older output was left out.
        truncated: bool,
    },
    Subscribed {
        interval_ms: u64,
        /// Samples of the recent past, oldest first.
        history: Vec<StatusSample>,
    },
    Audit {
        events: Vec<AuditEvent>,
    },
    Unsubscribed,
    Bye,
}

/// Machine-readable error kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    UnknownCommand,
    NotAuthenticated,
    AuthFailed,
    PermissionDenied,
    NoSuchProcess,
    Refused,
    SpawnFailed,
    TooLong,
    NotUtf8,
    LimitExceeded,
    UnsupportedVersion,
    Timeout,
    Internal,
}

/// An error as it crosses the wire: a code for programs, a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct WireError {
    pub code: ErrorCode,
    pub message: String,
}

impl WireError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Something the daemon pushes without being asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Status(StatusSample),
}
