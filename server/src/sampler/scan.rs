//! Process scans: one row per process, sorted by pid. Two sources give the same figures:
//! sysinfo, everywhere, and on Linux a direct read of /proc ([`super::procfs`]), which costs a
//! fraction of sysinfo's refresh. [`best`] picks the cheaper one the platform has.

use std::collections::HashMap;
use std::time::{Duration, Instant};
use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System, ThreadKind, UpdateKind, Users};
use vigia_shared::proto::{Pid, ProcessInfo};

/// Something that lists every process with its CPU and memory.
pub trait ProcessScanner: Send {
    /// Every process, sorted by pid. CPU % covers the time since the previous call (0 for a
    /// process seen for the first time).
    fn scan(&mut self, users: &mut UserNames) -> Vec<ProcessInfo>;
}

/// The table of user names is re-read at most this often when an unknown uid shows up.
const USERS_REFRESH: Duration = Duration::from_secs(10);

/// uid → user name, cached; the system's table is re-read when an unknown uid shows up (at
/// most every [`USERS_REFRESH`]), so a user added since start gets a name.
pub struct UserNames {
    users: Users,
    read: Instant,
    names: HashMap<u32, String>,
    unknown: bool,
}

impl Default for UserNames {
    fn default() -> Self {
        Self::new()
    }
}

impl UserNames {
    pub fn new() -> Self {
        Self {
            users: Users::new_with_refreshed_list()
                .unwrap_or_else(|_| Users::new().expect("an empty user list")),
            read: Instant::now(),
            names: HashMap::new(),
            unknown: false,
        }
    }

    /// The user name of `uid`, or the uid in decimal when it has none.
    pub fn name(&mut self, uid: u32) -> String {
        if let Some(n) = self.names.get(&uid) {
            return n.clone();
        }
        let name = match self
            .users
            .iter()
            .find(|u| **u.id() == uid)
            .map(|u| u.name().to_owned())
        {
            Some(n) => n,
            None => {
                self.unknown = true;
                uid.to_string()
            }
        };
        self.names.insert(uid, name.clone());
        name
    }

    /// Called after each scan: re-reads the table if an unknown uid was met.
    pub fn end_scan(&mut self) {
        if self.unknown && self.read.elapsed() >= USERS_REFRESH {
            self.users.refresh();
            self.read = Instant::now();
            self.names.clear();
        }
        self.unknown = false;
    }
}

/// The portable scan, through sysinfo.
pub struct SysinfoScanner {
    system: System,
    kind: ProcessRefreshKind,
}

impl SysinfoScanner {
    /// `tasks`: whether sysinfo also walks every thread (`/proc/<pid>/task`); its default,
    /// and what the daemon did before the /proc path. Kept for the benchmarks' comparison.
    pub fn new(tasks: bool) -> Self {
        let kind = ProcessRefreshKind::nothing()
            .with_cpu()
            .with_memory()
            .with_user(UpdateKind::OnlyIfNotSet);
        Self {
            system: System::new_with_specifics(sysinfo::RefreshKind::nothing())
                .expect("sysinfo initialises without reading anything"),
            kind: if tasks { kind } else { kind.without_tasks() },
        }
    }
}

impl ProcessScanner for SysinfoScanner {
    fn scan(&mut self, users: &mut UserNames) -> Vec<ProcessInfo> {
        // Process CPU % is measured against the CPUs' total time, which only a CPU refresh
        // moves forward.
        self.system
            .refresh_cpu_specifics(sysinfo::CpuRefreshKind::nothing());
        self.system
            .refresh_processes_specifics(ProcessesToUpdate::All, true, self.kind);
        let mut rows = Vec::with_capacity(self.system.processes().len());
        for (pid, p) in self.system.processes() {
            if p.thread_kind() == Some(ThreadKind::Userland) {
                continue;
            }
            rows.push(ProcessInfo {
                pid: Pid(pid.as_u32()),
                user: p
                    .user_id()
                    .map_or_else(|| "?".to_owned(), |uid| users.name(**uid)),
                cpu: p.cpu_usage(),
                mem: p.memory(),
                name: p.name().to_string_lossy().into_owned(),
            });
        }
        rows.sort_unstable_by_key(|r| r.pid);
        users.end_scan();
        rows
    }
}

/// The cheapest scanner this platform has: /proc on Linux, sysinfo elsewhere (or where /proc
/// cannot be opened).
pub fn best() -> Box<dyn ProcessScanner> {
    #[cfg(target_os = "linux")]
    {
        match super::procfs::ProcScanner::new() {
            Ok(s) => return Box::new(s),
            Err(e) => tracing::warn!(error = %e, "cannot open /proc; scanning through sysinfo"),
        }
    }
    Box::new(SysinfoScanner::new(false))
}

/// How many processes there are, read cheaply (one directory listing of /proc on Linux), for
/// the status line when no scan ran. `None` where it cannot be had without a scan.
pub fn count() -> Option<u32> {
    #[cfg(target_os = "linux")]
    {
        let dir = std::fs::read_dir("/proc").ok()?;
        let n = dir
            .filter_map(Result::ok)
            .filter(|e| {
                let name = e.file_name();
                let b = name.as_encoded_bytes();
                !b.is_empty() && b.iter().all(u8::is_ascii_digit)
            })
            .count();
        return Some(n.try_into().unwrap_or(u32::MAX));
    }
    #[allow(unreachable_code)]
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_uid_without_a_name_reads_as_its_number() {
        let mut users = UserNames::new();
        assert_eq!(users.name(4_000_000_001), "4000000001");
        users.end_scan();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn both_scanners_see_the_same_processes() {
        let mut users = UserNames::new();
        let me = Pid(std::process::id());
        let a = SysinfoScanner::new(false).scan(&mut users);
        let b = best().scan(&mut users);
        let ra = a.iter().find(|r| r.pid == me).unwrap();
        let rb = b.iter().find(|r| r.pid == me).unwrap();
        assert_eq!(ra.user, rb.user);
        assert_eq!(ra.name, rb.name);
        // Kernel threads and a few long-lived processes are in both; counts move between the
        // two reads, so only check that neither misses most of the other.
        let pid1 = Pid(1);
        assert!(a.iter().any(|r| r.pid == pid1) && b.iter().any(|r| r.pid == pid1));
    }
}
