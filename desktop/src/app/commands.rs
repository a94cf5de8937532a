//! commands: what panels and dialogs ask for. A panel returns [`UiCommand`]s while it is drawn;
//! [`VigiaApp`](super::VigiaApp) applies them after the frame, in one place, so that drawing
//! never changes settings or talks to the network by itself.

use super::persist::{Metric, View};
use crate::model::HostId;
use vigia_shared::Pid;
use vigia_shared::proto::Signal;

/// A server as typed in the add/edit dialog.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerDraft {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Empty keeps the saved password (when editing).
    pub password: String,
    pub connect: bool,
}

/// Where a process is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartTarget {
    Host(HostId),
    /// The least loaded of these hosts, by CPU and memory.
    LeastLoaded(Vec<HostId>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum UiCommand {
    ShowView(View),
    Select(HostId),
    SetOverlay(Metric),
    SetShowCores(bool),
    OpenAddServer,
    OpenEditServer(HostId),
    AddServer(ServerDraft),
    EditServer(HostId, ServerDraft),
    RemoveServer(HostId),
    SetConnect(HostId, bool),
    RetryNow(HostId),
    /// Show the certificate dialog of a host.
    ReviewCertificate(HostId),
    /// Pin this fingerprint for the host and connect.
    TrustCertificate(HostId, String),
    /// Show the password dialog of a host.
    AskPassword(HostId),
    /// A password typed for the host; `remember` saves it in the credential store.
    Password {
        host: HostId,
        password: String,
        remember: bool,
    },
    OpenStart,
    Start {
        target: StartTarget,
        argv: Vec<String>,
        cwd: Option<String>,
        origin: View,
    },
    /// Ask for confirmation before stopping.
    ConfirmStop {
        host: HostId,
        pid: Pid,
        name: String,
        origin: View,
    },
    Stop {
        host: HostId,
        pid: Pid,
        signal: Signal,
        origin: View,
    },
    ShowDetail(HostId, Pid),
    CloseDetail,
    Follow(HostId, Option<Pid>),
}
