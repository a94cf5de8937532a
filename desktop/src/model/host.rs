//! host: what the UI knows of one server: its connection state, the status history for plots,
//! and the latest process list.

use super::Ring;
use std::time::Instant;
use vigia_shared::proto::{ProcessDetail, ProcessInfo, Role, StatusSample};

/// Samples kept per host: one hour at the one-second rate the app subscribes with.
pub const HISTORY_CAP: usize = 3600;

/// A session's state, as shown on the server's entry.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnState {
    /// Not connecting (marked off, or not started yet).
    Offline,
    Connecting {
        attempt: u32,
    },
    /// Logged in and receiving the status stream.
    Connected,
    /// The connection failed or was lost; the next attempt is at `at`.
    Reconnecting {
        at: Instant,
        reason: String,
    },
    /// The certificate is checked and a password is needed (none saved, or no store).
    NeedPassword {
        note: Option<String>,
    },
    /// The daemon refused the password.
    WrongPassword,
    /// A certificate seen for the first time, neither pinned nor signed by a system root.
    Untrusted {
        fingerprint: String,
    },
    /// The certificate differs from the pinned one: the connection is blocked.
    CertChanged {
        pinned: String,
        seen: String,
    },
}

impl ConnState {
    pub fn is_connected(&self) -> bool {
        matches!(self, ConnState::Connected)
    }

    /// A short description for the server's entry.
    pub fn describe(&self, now: Instant) -> String {
        match self {
            ConnState::Offline => "offline".into(),
            ConnState::Connecting { attempt } if *attempt <= 1 => "connecting".into(),
            ConnState::Connecting { attempt } => format!("connecting (attempt {attempt})"),
            ConnState::Connected => "connected".into(),
            ConnState::Reconnecting { at, .. } => {
                let secs = at.saturating_duration_since(now).as_secs_f32().ceil();
                format!("reconnecting in {secs:.0} s")
            }
            ConnState::NeedPassword { .. } => "password needed".into(),
            ConnState::WrongPassword => "wrong password".into(),
            ConnState::Untrusted { .. } => "untrusted certificate".into(),
            ConnState::CertChanged { .. } => "certificate changed".into(),
        }
    }

    /// Whether the state needs the user to do something.
    pub fn needs_attention(&self) -> bool {
        matches!(
            self,
            ConnState::NeedPassword { .. }
                | ConnState::WrongPassword
                | ConnState::Untrusted { .. }
                | ConnState::CertChanged { .. }
        )
    }
}

/// The outcome of the last action taken on a host, shown where it was taken.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionNote {
    pub ok: bool,
    pub text: String,
}

/// One host as the UI knows it.
#[derive(Debug)]
pub struct HostState {
    pub conn: ConnState,
    /// The daemon's name and version, from the handshake.
    pub server: Option<String>,
    pub role: Option<Role>,
    pub hostname: Option<String>,
    /// Fingerprint of the certificate of the current session.
    pub fingerprint: Option<String>,
    pub history: Ring<StatusSample>,
    /// Process list, as last received, and how many matched on the daemon.
    pub procs: Vec<ProcessInfo>,
    pub procs_total: u32,
    /// Bumped whenever `procs` changes, so views can cache what they derive from it.
    pub procs_generation: u64,
    pub note: Option<ActionNote>,
    pub detail: Option<ProcessDetail>,
    /// Output of the followed process: (pid, text, older output left out).
    pub output: Option<(vigia_shared::Pid, String, bool)>,
    /// Why the last connection attempt failed, for the tooltip.
    pub last_error: Option<String>,
}

impl Default for HostState {
    fn default() -> Self {
        Self {
            conn: ConnState::Offline,
            server: None,
            role: None,
            hostname: None,
            fingerprint: None,
            history: Ring::new(HISTORY_CAP),
            procs: Vec::new(),
            procs_total: 0,
            procs_generation: 0,
            note: None,
            detail: None,
            output: None,
            last_error: None,
        }
    }
}

impl HostState {
    pub fn latest(&self) -> Option<&StatusSample> {
        self.history.back()
    }

    /// Memory in use, percent of total, of the latest sample.
    pub fn mem_percent(&self) -> Option<f64> {
        self.latest().map(mem_percent)
    }

    /// CPU percent plus memory percent: the measure "least loaded" compares.
    pub fn load(&self) -> Option<f64> {
        let s = self.latest()?;
        Some(f64::from(s.cpu) + mem_percent(s))
    }

    pub fn set_procs(&mut self, total: u32, procs: Vec<ProcessInfo>) {
        self.procs = procs;
        self.procs_total = total;
        self.procs_generation += 1;
    }
}

/// Memory in use, percent of total.
pub fn mem_percent(s: &StatusSample) -> f64 {
    if s.mem_total == 0 {
        0.0
    } else {
        s.mem_used as f64 * 100.0 / s.mem_total as f64
    }
}
