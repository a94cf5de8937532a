//! Starting a process: no shell, its own session, a fixed small environment, output to a log.

use super::policy::SAFE_PATH;
use super::registry::{StartedRecord, start_ticks};
use super::{ProcError, ProcessManager};
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use vigia_shared::Pid;
use vigia_shared::proto::StartRequest;
use vigia_shared::proto::limits::{MAX_ARGS, MAX_COMMAND};

impl ProcessManager {
    /// Starts `req.argv` on behalf of `user`; returns once the program has been exec'd, so a
    /// STOP that follows can never arrive before the program can receive it.
    pub async fn start(self: &Arc<Self>, req: &StartRequest, user: &str) -> Result<Pid, ProcError> {
        let program = req
            .argv
            .first()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| ProcError::BadRequest("empty command".into()))?
            .clone();
        let bytes: usize = req.argv.iter().map(|a| a.len() + 1).sum();
        if req.argv.len() > MAX_ARGS || bytes > MAX_COMMAND {
            return Err(ProcError::BadRequest(format!(
                "command too large ({} arguments, {bytes} bytes; at most {MAX_ARGS} and {MAX_COMMAND})",
                req.argv.len()
            )));
        }
        if req.argv.iter().any(|a| a.contains('\0')) {
            return Err(ProcError::BadRequest(
                "arguments may not contain NUL bytes".into(),
            ));
        }
        let executable = self.policy.program(&program)?;
        let cwd = match &req.cwd {
            Some(dir) => {
                let p = PathBuf::from(dir);
                if !p.is_absolute() || !p.is_dir() {
                    return Err(ProcError::BadRequest(format!(
                        "working directory '{dir}' is not an existing absolute directory"
                    )));
                }
                p
            }
            None => match &self.policy.run_as {
                // The data directory is the daemon's alone: another account starts at its home
                // when that is really its own, else at the root.
                Some(a) if owned_dir(&a.home, a.uid) => a.home.clone(),
                Some(_) => PathBuf::from("/"),
                None => self.work_dir.clone(),
            },
        };
        let home = match &self.policy.run_as {
            Some(a) => a.home.clone(),
            None => home_dir(&self.work_dir),
        };
        if free_bytes(&self.logs_dir).is_some_and(|free| free < MIN_FREE_FOR_LOGS) {
            return Err(disk_full(&self.logs_dir));
        }
        let started_at_ms = now_ms();
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let pending_log = self
            .logs_dir
            .join(format!("starting-{started_at_ms}-{seq}.log"));
        let log = open_log(&pending_log).map_err(|e| match e.raw_os_error() {
            Some(code) if code == rustix::io::Errno::NOSPC.raw_os_error() => {
                disk_full(&self.logs_dir)
            }
            _ => ProcError::Internal(format!(
                "cannot create log '{}': {e}",
                pending_log.display()
            )),
        })?;
        let log_err = log
            .try_clone()
            .map_err(|e| ProcError::Internal(format!("cannot share log: {e}")))?;

        let mut cmd = tokio::process::Command::new(&executable);
        cmd.arg0(&program)
            .args(&req.argv[1..])
            .env_clear()
            .env("PATH", SAFE_PATH)
            .env("HOME", home)
            .env(
                "LANG",
                std::env::var("LANG").unwrap_or_else(|_| "C.UTF-8".into()),
            )
            .current_dir(&cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .kill_on_drop(false);
        if let Some(a) = &self.policy.run_as {
            // Also drops the supplementary groups of root.
            cmd.uid(a.uid).gid(a.gid);
        }
        detach(&mut cmd);
        let child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                let _ = std::fs::remove_file(&pending_log);
                return Err(ProcError::SpawnFailed {
                    program,
                    reason: spawn_reason(&e),
                });
            }
        };
        let pid = Pid(child.id().unwrap_or(0));
        let log_path = self.logs_dir.join(format!("{}-{started_at_ms}.log", pid.0));
        let log_path = match std::fs::rename(&pending_log, &log_path) {
            Ok(()) => log_path,
            Err(_) => pending_log,
        };
        let ticks = start_ticks(pid).unwrap_or(0);
        self.registry.add(StartedRecord {
            pid,
            start_ticks: ticks,
            user: user.to_owned(),
            argv: req.argv.clone(),
            log: log_path,
            started_at_ms,
            exit: None,
        });
        // Reap the child when it exits, and note how it ended.
        let me = self.clone();
        tokio::spawn(async move {
            let mut child = child;
            if let Ok(status) = child.wait().await {
                use std::os::unix::process::ExitStatusExt;
                let code = status
                    .code()
                    .or_else(|| status.signal().map(|s| -s))
                    .unwrap_or(0);
                tracing::info!(pid = pid.0, exit = code, "started process exited");
                me.registry.mark_exited(pid, ticks, code);
            }
        });
        Ok(pid)
    }
}

/// Puts the child in a session of its own, so that signals meant for the daemon's terminal or
/// process group never reach it and it outlives the daemon, without the daemon's ambient
/// capabilities.
#[allow(unsafe_code)]
fn detach(cmd: &mut tokio::process::Command) {
    // SAFETY: the closure runs in the forked child before exec and only makes two system calls,
    // setsid(2) and prctl(2), which are async-signal-safe and touch no memory shared with the
    // parent.
    unsafe {
        cmd.pre_exec(|| {
            rustix::process::setsid().map_err(std::io::Error::from)?;
            // Capabilities the daemon was given (CAP_KILL under systemd) must not pass to what
            // users start; kernels without ambient capabilities have none to clear.
            let _ = rustix::thread::clear_ambient_capability_set();
            Ok(())
        });
    }
}

fn open_log(path: &Path) -> std::io::Result<std::fs::File> {
    OpenOptions::new()
        .create_new(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

/// Space a started process's output log needs at least, bytes: below it, START is refused
/// rather than running a process whose output would be lost.
const MIN_FREE_FOR_LOGS: u64 = 1024 * 1024;

/// Bytes free for unprivileged writers on the file system of `dir`.
fn free_bytes(dir: &Path) -> Option<u64> {
    let st = rustix::fs::statvfs(dir).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

fn disk_full(dir: &Path) -> ProcError {
    ProcError::Refused(format!(
        "the disk of the output logs ('{}') is full: free some space and try again",
        dir.display()
    ))
}

/// Whether `dir` is a directory owned by `uid`.
fn owned_dir(dir: &Path, uid: u32) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir).is_ok_and(|m| m.is_dir() && m.uid() == uid)
}

fn home_dir(fallback: &Path) -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| fallback.to_owned())
}

fn spawn_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => {
            "no such program (it is looked up in the system PATH)".into()
        }
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis().try_into().unwrap_or(u64::MAX))
        .unwrap_or(0)
}
