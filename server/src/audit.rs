//! The audit log: every login, start, stop and refused action, with time, user, client
//! address, mode, target and result, in an SQLite database in the data directory (mode 0600).
//!
//! Each event is committed before the action's answer goes out (WAL journal), so a crash of the
//! daemon loses at most the event in flight. Writes run on blocking threads, never on the
//! async runtime.

use rusqlite::{Connection, OptionalExtension, params};
use std::fs::OpenOptions;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use vigia_shared::proto::{AuditEvent, AuditQuery};

/// Events kept at most; older ones are pruned.
const MAX_EVENTS: i64 = 1_000_000;
/// Events returned by one query at most.
pub const MAX_QUERY: u32 = 1000;
/// Events returned when the query names no limit.
const DEFAULT_QUERY: u32 = 100;
/// Longest target or result stored, bytes (a command line may be long).
const MAX_FIELD: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit log '{path}': {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("audit log '{path}': {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("audit log: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("audit log: a writer thread failed")]
    Join,
}

/// An event about to be recorded.
#[derive(Debug, Clone)]
pub struct Record {
    pub user: String,
    pub peer: String,
    pub mode: &'static str,
    pub action: &'static str,
    pub target: String,
    pub ok: bool,
    pub result: String,
}

/// The open audit database.
#[derive(Clone)]
pub struct AuditLog {
    conn: Arc<Mutex<Connection>>,
}

impl AuditLog {
    /// Opens (or creates, mode 0600) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, AuditError> {
        let io = |source| AuditError::Io {
            path: path.to_owned(),
            source,
        };
        // Create the file with its final mode, so that it is never readable by others.
        OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(io)?;
        let mode = std::fs::metadata(path).map_err(io)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        }
        let conn = Connection::open(path).map_err(|source| AuditError::Open {
            path: path.to_owned(),
            source,
        })?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Checkpoints copy the journal into the database and sync it; SQLite runs them on the
        // commit that crosses 1,000 pages, that is on some request's path. A connection of its
        // own does it in the background instead, when it can be opened.
        let checkpointer = Connection::open(path).ok();
        if checkpointer.is_some() {
            conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        }
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS events (
                 id      INTEGER PRIMARY KEY AUTOINCREMENT,
                 time_ms INTEGER NOT NULL,
                 user    TEXT NOT NULL,
                 peer    TEXT NOT NULL,
                 mode    TEXT NOT NULL,
                 action  TEXT NOT NULL,
                 target  TEXT NOT NULL,
                 ok      INTEGER NOT NULL,
                 result  TEXT NOT NULL
             );
             CREATE INDEX IF NOT EXISTS events_user ON events (user, id);",
        )?;
        conn.execute(
            "DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?1",
            params![MAX_EVENTS],
        )?;
        let conn = Arc::new(Mutex::new(conn));
        if let Some(c) = checkpointer
            && !checkpoint_in_background(c, Arc::downgrade(&conn))
        {
            lock(&conn).pragma_update(None, "wal_autocheckpoint", 1000)?;
        }
        Ok(Self { conn })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        lock(&self.conn)
    }

    /// Records `r` now, on the calling thread.
    pub fn record_blocking(&self, r: &Record) -> Result<u64, AuditError> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO events (time_ms, user, peer, mode, action, target, ok, result)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                now_ms(),
                clip(&r.user),
                r.peer,
                r.mode,
                r.action,
                clip(&r.target),
                r.ok,
                clip(&r.result)
            ],
        )?;
        Ok(conn.last_insert_rowid() as u64)
    }

    /// Records `r` on a blocking thread and waits until it is committed. A failure is logged:
    /// the action itself has happened and its answer must still go out.
    pub async fn record(&self, r: Record) {
        let log = self.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let res = log.record_blocking(&r);
            (res, r)
        })
        .await;
        match outcome {
            Ok((Ok(_), _)) => {}
            Ok((Err(e), r)) => tracing::error!(
                error = %e, user = %r.user, action = r.action, target = %r.target,
                "cannot write the audit log"
            ),
            Err(e) => tracing::error!(error = %e, "audit writer failed"),
        }
    }

    /// Events matching `q`, newest first.
    pub fn query_blocking(&self, q: &AuditQuery) -> Result<Vec<AuditEvent>, AuditError> {
        let limit = q.limit.unwrap_or(DEFAULT_QUERY).min(MAX_QUERY);
        let before = q.before.map_or(i64::MAX, |b| b.min(i64::MAX as u64) as i64);
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id, time_ms, user, peer, mode, action, target, ok, result FROM events
             WHERE id < ?1 AND (?2 IS NULL OR user = ?2)
             ORDER BY id DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![before, q.user, limit], |row| {
            Ok(AuditEvent {
                id: row.get::<_, i64>(0)? as u64,
                time_ms: row.get::<_, i64>(1)? as u64,
                user: row.get(2)?,
                peer: row.get(3)?,
                mode: row.get(4)?,
                action: row.get(5)?,
                target: row.get(6)?,
                ok: row.get(7)?,
                result: row.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub async fn query(&self, q: AuditQuery) -> Result<Vec<AuditEvent>, AuditError> {
        let log = self.clone();
        tokio::task::spawn_blocking(move || log.query_blocking(&q))
            .await
            .map_err(|_| AuditError::Join)?
    }

    /// Number of events stored.
    pub fn count_blocking(&self) -> Result<u64, AuditError> {
        let n: Option<i64> = self
            .lock()
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
            .optional()?;
        Ok(n.unwrap_or(0) as u64)
    }
}

fn clip(s: &str) -> &str {
    if s.len() <= MAX_FIELD {
        return s;
    }
    let mut end = MAX_FIELD;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// How often the background connection checkpoints the journal.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Checkpoints the journal every [`CHECKPOINT_EVERY`] on a thread of its own, without waiting
/// for readers or the writer (PASSIVE), until the log is dropped. `false` when no thread could
/// be started.
fn checkpoint_in_background(conn: Connection, log: std::sync::Weak<Mutex<Connection>>) -> bool {
    let spawned = std::thread::Builder::new()
        .name("audit-checkpoint".into())
        .spawn(move || {
            let _ = conn.busy_timeout(std::time::Duration::from_secs(5));
            loop {
                std::thread::sleep(CHECKPOINT_EVERY);
                if log.strong_count() == 0 {
                    return;
                }
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "cannot checkpoint the audit log");
                }
            }
        });
    if let Err(e) = &spawned {
        tracing::warn!(error = %e, "cannot start the audit log's checkpoints; SQLite's own run instead");
    }
    spawned.is_ok()
}

fn lock(conn: &Mutex<Connection>) -> std::sync::MutexGuard<'_, Connection> {
    conn.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rec(user: &str, action: &'static str, ok: bool) -> Record {
        Record {
            user: user.into(),
            peer: "127.0.0.1:4000".into(),
            mode: "text",
            action,
            target: "sleep 1".into(),
            ok,
            result: if ok { "ok".into() } else { "denied".into() },
        }
    }

    #[test]
    fn events_are_kept_private_and_read_back_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.db");
        let log = AuditLog::open(&path).unwrap();
        log.record_blocking(&rec("ana", "login", true)).unwrap();
        log.record_blocking(&rec("bob", "start", false)).unwrap();
        log.record_blocking(&rec("ana", "stop", true)).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);

        let all = log.query_blocking(&AuditQuery::default()).unwrap();
        assert_eq!(
            all.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["stop", "start", "login"]
        );
        let ana = log
            .query_blocking(&AuditQuery {
                user: Some("ana".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(ana.len(), 2);
        let older = log
            .query_blocking(&AuditQuery {
                before: Some(all[0].id),
                limit: Some(1),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(older[0].action, "start");
        assert!(!older[0].ok);

        // Reopening keeps everything.
        drop(log);
        let log = AuditLog::open(&path).unwrap();
        assert_eq!(log.count_blocking().unwrap(), 3);
    }

    #[test]
    fn long_fields_are_clipped_on_a_char_boundary() {
        let s = "é".repeat(MAX_FIELD);
        let c = clip(&s);
        assert!(c.len() <= MAX_FIELD && c.chars().all(|ch| ch == 'é'));
    }

    #[test]
    fn the_journal_is_checkpointed_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.db");
        let log = AuditLog::open(&path).unwrap();
        for _ in 0..400 {
            log.record_blocking(&rec("ana", "start", true)).unwrap();
        }
        // No commit checkpoints: the events are in the journal alone.
        let before = std::fs::metadata(&path).unwrap().len();
        std::thread::sleep(CHECKPOINT_EVERY * 2 + std::time::Duration::from_millis(500));
        let after = std::fs::metadata(&path).unwrap().len();
        assert!(after > before, "database {before} -> {after} bytes");
    }
}
