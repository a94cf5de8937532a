//! The record of processes started through the daemon: who started what, where its output goes.
//! Kept in `started.json` (written atomically) so that ownership survives a daemon restart.
//! A record names a process by pid AND start time, so a recycled pid is never mistaken for it.

use crate::auth::users_file::write_atomically;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use vigia_shared::Pid;

/// Records kept at most; the oldest exited ones go first.
const MAX_RECORDS: usize = 4096;

/// One process started through the daemon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartedRecord {
    pub pid: Pid,
    /// Start time in clock ticks since boot (`/proc/<pid>/stat` field 22).
    pub start_ticks: u64,
    /// The Vigía user who started it.
    pub user: String,
    pub argv: Vec<String>,
    /// Its output log.
    pub log: PathBuf,
    /// Start time, milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    /// Exit code or `-signal`, once it has exited while this daemon watched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<i32>,
}

/// The registry and the file behind it.
pub struct Registry {
    path: PathBuf,
    records: Mutex<Vec<StartedRecord>>,
}

impl Registry {
    /// Loads the file if present; records of processes that are gone keep only their logs.
    pub fn load(path: &Path) -> Self {
        let records: Vec<StartedRecord> = std::fs::read(path)
            .ok()
            .and_then(|b| match serde_json::from_slice(&b) {
                Ok(r) => Some(r),
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "ignoring unreadable record of started processes");
                    None
                }
            })
            .unwrap_or_default();
        Self {
            path: path.to_owned(),
            records: Mutex::new(records),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Vec<StartedRecord>) -> R) -> R {
        let mut guard = self.records.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    fn save(&self, records: &[StartedRecord]) {
        let data = serde_json::to_vec_pretty(records).unwrap_or_default();
        if let Err(e) = write_atomically(&self.path, &data, 0o600) {
            tracing::error!(file = %self.path.display(), error = %e, "cannot save the record of started processes");
        }
    }

    pub fn add(&self, record: StartedRecord) {
        self.with(|r| {
            r.push(record);
            if r.len() > MAX_RECORDS
                && let Some(i) = r.iter().position(|x| x.exit.is_some())
            {
                r.remove(i);
            }
            if r.len() > MAX_RECORDS {
                r.remove(0);
            }
            self.save(r);
        });
    }

    pub fn mark_exited(&self, pid: Pid, start_ticks: u64, exit: i32) {
        self.with(|r| {
            if let Some(rec) = r
                .iter_mut()
                .rev()
                .find(|x| x.pid == pid && x.start_ticks == start_ticks)
            {
                rec.exit = Some(exit);
                self.save(r);
            }
        });
    }

    /// The record of the process now running as `pid`, if it was started through the daemon.
    pub fn running(&self, pid: Pid) -> Option<StartedRecord> {
        let ticks = start_ticks(pid)?;
        self.with(|r| {
            r.iter()
                .rev()
                .find(|x| x.pid == pid && x.start_ticks == ticks)
                .cloned()
        })
    }

    /// The newest record for `pid`, running or not (for its output log).
    pub fn latest(&self, pid: Pid) -> Option<StartedRecord> {
        if let Some(r) = self.running(pid) {
            return Some(r);
        }
        self.with(|r| r.iter().rev().find(|x| x.pid == pid).cloned())
    }
}

/// Start time of a process in clock ticks since boot, from `/proc/<pid>/stat`.
pub fn start_ticks(pid: Pid) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.0)).ok()?;
    // The command name (field 2) is in parentheses and may itself contain ") ".
    let rest = &stat[stat.rfind(')')? + 1..];
    // After the name: field 3 is the state, so the start time (field 22) is the 20th here.
    rest.split_ascii_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn own_start_time_is_readable() {
        let me = Pid(std::process::id());
        assert!(start_ticks(me).is_some());
        assert_eq!(start_ticks(Pid(0)), None);
    }

    #[test]
    fn records_survive_a_reload_and_match_only_the_same_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("started.json");
        let me = Pid(std::process::id());
        let reg = Registry::load(&path);
        reg.add(StartedRecord {
            pid: me,
            start_ticks: start_ticks(me).unwrap(),
            user: "ana".into(),
            argv: vec!["x".into()],
            log: "l".into(),
            started_at_ms: 0,
            exit: None,
        });
        let again = Registry::load(&path);
        assert_eq!(again.running(me).unwrap().user, "ana");
        let stale = Registry::load(&path);
        stale.add(StartedRecord {
            pid: Pid(1),
            start_ticks: 999_999_999,
            user: "bob".into(),
            argv: vec![],
            log: "l".into(),
            started_at_ms: 0,
            exit: None,
        });
        assert!(stale.running(Pid(1)).is_none());
    }
}
