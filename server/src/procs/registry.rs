//! The record of processes started through the daemon: who started what, where its output goes.
//! Kept so that ownership survives a daemon restart. A record names a process by pid AND start
//! time, so a recycled pid is never mistaken for it.
//!
//! The file is a journal of JSON lines, one event each (`started`, `exited`), appended with one
//! write(2) and no sync: START and the reaping of a child never wait for the disk. That is as
//! durable as the record needs to be: a crash of the daemon leaves every written line in the
//! page cache, and a crash of the machine ends the processes the lines name. A torn last line
//! (power lost mid-write) is skipped when the journal is read. The journal is rewritten
//! compacted (temp file, sync, rename) at start-up and whenever it holds over twice as many
//! lines as there are records, so its size stays bounded.

use crate::auth::users_file::write_atomically;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use vigia_shared::Pid;

/// Records kept at most; the oldest exited ones go first.
const MAX_RECORDS: usize = 4096;

/// Lines beyond twice the records the journal may hold before it is compacted.
const COMPACT_SLACK: usize = 1024;

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

/// One line of the journal.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Event {
    Started(StartedRecord),
    Exited {
        pid: Pid,
        start_ticks: u64,
        exit: i32,
    },
}

/// The registry and the journal behind it.
pub struct Registry {
    path: PathBuf,
    state: Mutex<State>,
}

struct State {
    records: Vec<StartedRecord>,
    /// The journal, open for appending; `None` after it could not be opened (then every event
    /// tries a compaction, which reopens it).
    journal: Option<File>,
    /// Lines in the journal.
    lines: usize,
}

impl State {
    fn apply(&mut self, event: Event) {
        match event {
            Event::Started(record) => {
                self.records.push(record);
                if self.records.len() > MAX_RECORDS {
                    let oldest = self
                        .records
                        .iter()
                        .position(|x| x.exit.is_some())
                        .unwrap_or(0);
                    self.records.remove(oldest);
                }
            }
            Event::Exited {
                pid,
                start_ticks,
                exit,
            } => {
                if let Some(rec) = self
                    .records
                    .iter_mut()
                    .rev()
                    .find(|x| x.pid == pid && x.start_ticks == start_ticks)
                {
                    rec.exit = Some(exit);
                }
            }
        }
    }
}

impl Registry {
    /// Reads the journal if present (or the single JSON array of earlier versions, beside it
    /// as `started.json`), then rewrites it compacted.
    pub fn load(path: &Path) -> Self {
        let mut state = State {
            records: Vec::new(),
            journal: None,
            lines: 0,
        };
        match std::fs::read(path) {
            Ok(bytes) => {
                for (n, line) in bytes.split(|b| *b == b'\n').enumerate() {
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    match serde_json::from_slice::<Event>(line) {
                        Ok(event) => state.apply(event),
                        Err(e) => tracing::warn!(
                            file = %path.display(), line = n + 1, error = %e,
                            "skipping an unreadable line of the record of started processes"
                        ),
                    }
                }
            }
            Err(_) => {
                if let Some(records) = read_legacy(&path.with_extension("json")) {
                    for record in records {
                        state.apply(Event::Started(record));
                    }
                }
            }
        }
        let registry = Self {
            path: path.to_owned(),
            state: Mutex::new(state),
        };
        registry.with(|s| registry.compact(s));
        if path.extension().is_some_and(|e| e == "jsonl") {
            let _ = std::fs::remove_file(path.with_extension("json"));
        }
        registry
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// Rewrites the journal as one `started` line a record, atomically, and reopens it.
    fn compact(&self, state: &mut State) {
        let mut data = Vec::with_capacity(state.records.len() * 256);
        for record in &state.records {
            if serde_json::to_writer(&mut data, &Event::Started(record.clone())).is_ok() {
                data.push(b'\n');
            }
        }
        state.journal = None;
        if let Err(e) = write_atomically(&self.path, &data, 0o600) {
            tracing::error!(file = %self.path.display(), error = %e, "cannot save the record of started processes");
            return;
        }
        state.lines = state.records.len();
        match OpenOptions::new().append(true).open(&self.path) {
            Ok(f) => state.journal = Some(f),
            Err(e) => {
                tracing::error!(file = %self.path.display(), error = %e, "cannot open the record of started processes")
            }
        }
    }

    /// Applies `event` and appends it to the journal.
    fn record(&self, event: Event) {
        let mut line = serde_json::to_vec(&event).unwrap_or_default();
        line.push(b'\n');
        self.with(|s| {
            s.apply(event);
            if s.journal.is_none() || s.lines > 2 * s.records.len() + COMPACT_SLACK {
                // The compacted journal already holds the event.
                return self.compact(s);
            }
            // One write(2) on an O_APPEND file: the line lands whole or not at all.
            let written = s.journal.as_mut().map(|f| f.write_all(&line));
            match written {
                Some(Ok(())) => s.lines += 1,
                Some(Err(e)) => {
                    tracing::error!(file = %self.path.display(), error = %e, "cannot append to the record of started processes");
                    s.journal = None;
                }
                None => {}
            }
        });
    }

    pub fn add(&self, record: StartedRecord) {
        self.record(Event::Started(record));
    }

    pub fn mark_exited(&self, pid: Pid, start_ticks: u64, exit: i32) {
        self.record(Event::Exited {
            pid,
            start_ticks,
            exit,
        });
    }

    /// The record of the process now running as `pid`, if it was started through the daemon.
    pub fn running(&self, pid: Pid) -> Option<StartedRecord> {
        let ticks = start_ticks(pid)?;
        self.with(|s| {
            s.records
                .iter()
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
        self.with(|s| s.records.iter().rev().find(|x| x.pid == pid).cloned())
    }
}

/// The record as earlier versions kept it: one JSON array.
fn read_legacy(path: &Path) -> Option<Vec<StartedRecord>> {
    let bytes = std::fs::read(path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %e, "ignoring unreadable record of started processes");
            None
        }
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
        let path = dir.path().join("started.jsonl");
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

    fn record(pid: u32, ticks: u64, user: &str) -> StartedRecord {
        StartedRecord {
            pid: Pid(pid),
            start_ticks: ticks,
            user: user.into(),
            argv: vec!["sleep".into(), "1".into()],
            log: "l".into(),
            started_at_ms: 0,
            exit: None,
        }
    }

    fn lines(path: &Path) -> usize {
        std::fs::read_to_string(path).unwrap().lines().count()
    }

    #[test]
    fn exits_are_journalled_and_a_torn_last_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("started.jsonl");
        let reg = Registry::load(&path);
        reg.add(record(10, 1, "ana"));
        reg.add(record(11, 2, "bob"));
        reg.mark_exited(Pid(10), 1, -15);
        reg.mark_exited(Pid(11), 999, 0); // another process that once had pid 11
        assert_eq!(lines(&path), 4);
        // Power lost in the middle of a line.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"started":{"pid":12,"start_ti"#).unwrap();
        drop(f);
        let again = Registry::load(&path);
        assert_eq!(again.latest(Pid(10)).unwrap().exit, Some(-15));
        assert_eq!(again.latest(Pid(11)).unwrap().exit, None);
        assert!(again.latest(Pid(12)).is_none());
        // Loading compacts: one line a record.
        assert_eq!(lines(&path), 2);
    }

    #[test]
    fn the_journal_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("started.jsonl");
        let reg = Registry::load(&path);
        for i in 0..(MAX_RECORDS as u32 + 3000) {
            reg.add(record(i + 100, 7, "ana"));
            reg.mark_exited(Pid(i + 100), 7, 0);
        }
        let n = lines(&path);
        assert!(n <= 2 * MAX_RECORDS + COMPACT_SLACK + 1, "{n} lines");
        let again = Registry::load(&path);
        assert_eq!(lines(&path), MAX_RECORDS);
        let newest = MAX_RECORDS as u32 + 3000 + 99;
        assert_eq!(again.latest(Pid(newest)).unwrap().exit, Some(0));
        assert!(again.latest(Pid(100)).is_none());
    }

    #[test]
    fn the_single_file_of_earlier_versions_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("started.json");
        std::fs::write(
            &old,
            serde_json::to_vec_pretty(&[record(42, 5, "luis")]).unwrap(),
        )
        .unwrap();
        let path = dir.path().join("started.jsonl");
        let reg = Registry::load(&path);
        assert_eq!(reg.latest(Pid(42)).unwrap().user, "luis");
        assert!(!old.exists());
        assert_eq!(Registry::load(&path).latest(Pid(42)).unwrap().user, "luis");
    }
}
