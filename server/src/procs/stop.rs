//! Stopping a process: refuse what must never be signalled, open a pidfd, let the caller
//! authorise against that exact process, signal it, wait for it to end, escalate to SIGKILL.

use super::registry::start_ticks;
use super::{ProcError, ProcessManager};
use rustix::process::{PidfdFlags, pidfd_open, pidfd_send_signal};
use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use std::time::Duration;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use vigia_shared::Pid;
use vigia_shared::proto::Signal;

/// How long a process may take to disappear after SIGKILL.
const KILL_WAIT: Duration = Duration::from_secs(5);

/// The process a pidfd refers to, as the authorisation check sees it.
#[derive(Debug, Clone)]
pub struct Target {
    pub pid: Pid,
    /// Real owner's uid.
    pub uid: u32,
    /// Start time in clock ticks since boot.
    pub start_ticks: u64,
}

/// Why a pid must never be signalled, if it is one of those.
pub fn protected(pid: Pid) -> Option<String> {
    let me = std::process::id();
    let parent = rustix::process::getppid().map(|p| p.as_raw_nonzero().get() as u32);
    let group = rustix::process::getpgrp().as_raw_nonzero().get() as u32;
    match pid.0 {
        0 => Some("pid 0 is not a process".into()),
        1 => Some("pid 1 is init".into()),
        p if p == me => Some(format!("pid {p} is this daemon")),
        p if Some(p) == parent => Some(format!("pid {p} is the daemon's parent")),
        p if p == group => Some(format!("pid {p} leads the daemon's process group")),
        _ => None,
    }
}

fn to_rustix(signal: Signal) -> rustix::process::Signal {
    use rustix::process::Signal as S;
    match signal {
        Signal::Term => S::TERM,
        Signal::Int => S::INT,
        Signal::Hup => S::HUP,
        Signal::Quit => S::QUIT,
        Signal::Kill => S::KILL,
    }
}

impl ProcessManager {
    /// Sends `signal` to `pid` once `authorize` accepts the process; waits up to `grace` for it
    /// to end, then kills it. Returns whether SIGKILL was needed.
    pub async fn stop(
        &self,
        pid: Pid,
        signal: Signal,
        grace: Duration,
        authorize: impl FnOnce(&Target) -> Result<(), ProcError>,
    ) -> Result<bool, ProcError> {
        if let Some(why) = protected(pid) {
            return Err(ProcError::Refused(why));
        }
        let raw = i32::try_from(pid.0)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .ok_or(ProcError::NoSuchProcess(pid))?;
        let fd = pidfd_open(raw, PidfdFlags::empty()).map_err(|e| match e {
            rustix::io::Errno::SRCH | rustix::io::Errno::INVAL => ProcError::NoSuchProcess(pid),
            e => ProcError::Internal(format!("cannot open process {pid}: {e}")),
        })?;
        // Read the process's identity after the pidfd pins it: if the pid was recycled in
        // between, the signal below fails on the dead pidfd rather than hitting the newcomer.
        let target = read_target(pid).ok_or(ProcError::NoSuchProcess(pid))?;
        authorize(&target)?;
        send(&fd, pid, signal)?;
        let fd = watch(fd)
            .map_err(|e| ProcError::Internal(format!("cannot watch process {pid}: {e}")))?;
        if signal == Signal::Kill || wait_exit(&fd, grace).await {
            if signal == Signal::Kill && !wait_exit(&fd, KILL_WAIT).await {
                return Err(ProcError::Refused(format!(
                    "process {pid} is still there after SIGKILL (uninterruptible?)"
                )));
            }
            return Ok(false);
        }
        send(fd.get_ref(), pid, Signal::Kill)?;
        if wait_exit(&fd, KILL_WAIT).await {
            Ok(true)
        } else {
            Err(ProcError::Refused(format!(
                "process {pid} is still there after SIGKILL (uninterruptible?)"
            )))
        }
    }
}

fn send(fd: &OwnedFd, pid: Pid, signal: Signal) -> Result<(), ProcError> {
    match pidfd_send_signal(fd, to_rustix(signal)) {
        Ok(()) => Ok(()),
        // Already gone: what the caller wanted.
        Err(rustix::io::Errno::SRCH) => Ok(()),
        Err(rustix::io::Errno::PERM) => Err(ProcError::PermissionDenied(format!(
            "the daemon may not signal process {pid}"
        ))),
        Err(e) => Err(ProcError::Internal(format!(
            "cannot signal process {pid}: {e}"
        ))),
    }
}

/// Registers the pidfd with the runtime, so that its exit can be awaited without a thread.
#[allow(unsafe_code)]
fn watch(fd: OwnedFd) -> std::io::Result<AsyncFd<OwnedFd>> {
    // SAFETY: the `OwnedFd` moves into the `AsyncFd`, which owns it until the registration is
    // dropped, so the descriptor cannot be closed or reused while registered.
    unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE).map_err(Into::into) }
}

/// Waits until the process has exited (a pidfd becomes readable then), at most `limit`.
async fn wait_exit(fd: &AsyncFd<OwnedFd>, limit: Duration) -> bool {
    tokio::time::timeout(limit, fd.readable())
        .await
        .is_ok_and(|r| r.is_ok())
}

/// The process behind `pid`, unless it is gone or has already exited (a zombie that its
/// parent has not reaped yet is no process to stop).
fn read_target(pid: Pid) -> Option<Target> {
    let meta = std::fs::metadata(format!("/proc/{}", pid.0)).ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.0)).ok()?;
    let state = stat.rsplit_once(')')?.1.split_ascii_whitespace().next()?;
    if matches!(state, "Z" | "X" | "x") {
        return None;
    }
    Some(Target {
        pid,
        uid: meta.uid(),
        start_ticks: start_ticks(pid)?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn init_self_and_zero_are_protected() {
        assert!(protected(Pid(0)).is_some());
        assert!(protected(Pid(1)).is_some());
        assert!(
            protected(Pid(std::process::id()))
                .unwrap()
                .contains("this daemon")
        );
    }
}
