//! Processes: the only code that starts processes or sends them signals.
//!
//! Started processes run without a shell, in their own session, with a cleared environment and
//! their output in a log file; they are not tasks of the daemon and outlive it. Signals go
//! through a pidfd, so a pid recycled between a check and the signal is never hit.

pub mod output;
pub mod policy;
pub mod registry;
pub mod spawn;
pub mod stop;

use registry::Registry;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::time::Duration;
use vigia_shared::Pid;
use vigia_shared::proto::{ErrorCode, WireError};

/// Why a process operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    #[error("no such process '{0}'")]
    NoSuchProcess(Pid),
    #[error("refused: {0}")]
    Refused(String),
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    #[error("cannot start '{program}': {reason}")]
    SpawnFailed { program: String, reason: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<&ProcError> for WireError {
    fn from(e: &ProcError) -> Self {
        let code = match e {
            ProcError::NoSuchProcess(_) => ErrorCode::NoSuchProcess,
            ProcError::Refused(_) => ErrorCode::Refused,
            ProcError::PermissionDenied(_) => ErrorCode::PermissionDenied,
            ProcError::SpawnFailed { .. } => ErrorCode::SpawnFailed,
            ProcError::BadRequest(_) => ErrorCode::BadRequest,
            ProcError::Internal(_) => ErrorCode::Internal,
        };
        WireError::new(code, e.to_string())
    }
}

/// Starts, stops and remembers processes.
pub struct ProcessManager {
    pub registry: Registry,
    logs_dir: PathBuf,
    /// Default working directory of started processes.
    work_dir: PathBuf,
    default_grace: Duration,
    policy: policy::StartPolicy,
    seq: AtomicU64,
}

impl ProcessManager {
    pub fn new(
        registry: Registry,
        logs_dir: PathBuf,
        work_dir: PathBuf,
        default_grace: Duration,
        policy: policy::StartPolicy,
    ) -> Self {
        Self {
            registry,
            logs_dir,
            work_dir,
            default_grace,
            policy,
            seq: AtomicU64::new(0),
        }
    }

    pub fn default_grace(&self) -> Duration {
        self.default_grace
    }
}
