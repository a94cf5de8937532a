//! The sampler: the only code that touches sysinfo. One thread owns a `System`, refreshes it
//! every interval and publishes a plain-data [`Snapshot`]; LIST and STATUS read the latest one
//! and never wait for /proc.

pub mod history;

use history::History;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use sysinfo::{
    CpuRefreshKind, Disks, MemoryRefreshKind, ProcessRefreshKind, ProcessesToUpdate, System,
    ThreadKind, UpdateKind, Users,
};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use vigia_shared::proto::{DiskInfo, Pid, ProcessDetail, ProcessInfo, StatusSample, SystemStatus};

/// One moment of the system, as published to every session.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub status: SystemStatus,
    /// Every process, sorted by pid.
    pub processes: Vec<ProcessInfo>,
}

/// What sessions hold of the sampler.
#[derive(Clone)]
pub struct SamplerHandle {
    pub snapshot: watch::Receiver<Arc<Snapshot>>,
    history: Arc<Mutex<History>>,
    interval: Duration,
}

impl SamplerHandle {
    /// The latest snapshot; costs one reference count.
    pub fn latest(&self) -> Arc<Snapshot> {
        self.snapshot.borrow().clone()
    }

    /// The recent status history, oldest first.
    pub fn history(&self) -> Vec<StatusSample> {
        self.history
            .lock()
            .map(|h| h.to_vec())
            .unwrap_or_else(|p| p.into_inner().to_vec())
    }

    /// Time between two samples.
    pub fn interval(&self) -> Duration {
        self.interval
    }
}

/// Disks change rarely; they are re-read this often.
const DISK_REFRESH: Duration = Duration::from_secs(30);
/// The table of user names is re-read at most this often when an unknown uid shows up.
const USERS_REFRESH: Duration = Duration::from_secs(10);

/// Starts the sampler thread; the first snapshot is taken before this returns.
pub fn spawn(
    interval: Duration,
    history_len: usize,
    shutdown: CancellationToken,
) -> std::io::Result<SamplerHandle> {
    let mut collector = Collector::new();
    let first = Arc::new(collector.sample());
    let history = Arc::new(Mutex::new(History::new(history_len)));
    if let Ok(mut h) = history.lock() {
        h.push(first.status.sample.clone());
    }
    let (tx, rx) = watch::channel(first);
    let hist = history.clone();
    std::thread::Builder::new()
        .name("vigiad-sampler".into())
        .spawn(move || {
            let mut next = Instant::now() + interval;
            while !shutdown.is_cancelled() && !tx.is_closed() {
                let now = Instant::now();
                if next > now {
                    std::thread::sleep((next - now).min(Duration::from_millis(200)));
                    continue;
                }
                next += interval;
                if next < now {
                    // A refresh took longer than an interval: skip rather than bunch up.
                    next = now + interval;
                }
                let snap = collector.sample();
                if let Ok(mut h) = hist.lock() {
                    h.push(snap.status.sample.clone());
                }
                tx.send_replace(Arc::new(snap));
            }
        })?;
    Ok(SamplerHandle {
        snapshot: rx,
        history,
        interval,
    })
}

/// Owns the sysinfo state; refreshes only what the snapshot needs.
struct Collector {
    system: System,
    users: Users,
    users_read: Instant,
    disks: Disks,
    disks_read: Instant,
    hostname: String,
}

impl Collector {
    fn new() -> Self {
        let system =
            System::new_with_specifics(sysinfo::RefreshKind::nothing()).unwrap_or_else(|_| {
                System::new_with_specifics(sysinfo::RefreshKind::nothing())
                    .expect("sysinfo initialises")
            });
        Self {
            system,
            users: Users::new_with_refreshed_list()
                .unwrap_or_else(|_| Users::new().expect("empty user list")),
            users_read: Instant::now(),
            disks: Disks::new_with_refreshed_list()
                .unwrap_or_else(|_| Disks::new().expect("empty disk list")),
            disks_read: Instant::now(),
            hostname: System::host_name().unwrap_or_else(|_| "unknown".into()),
        }
    }

    fn sample(&mut self) -> Snapshot {
        self.system
            .refresh_cpu_specifics(CpuRefreshKind::nothing().with_usage());
        self.system
            .refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram().with_swap());
        self.system.refresh_processes_specifics(
            ProcessesToUpdate::All,
            true,
            ProcessRefreshKind::nothing()
                .with_cpu()
                .with_memory()
                .with_user(UpdateKind::OnlyIfNotSet),
        );
        if self.disks_read.elapsed() >= DISK_REFRESH {
            self.disks.refresh(true);
            self.disks_read = Instant::now();
        }
        let processes = self.processes();
        let load = System::load_average().unwrap_or(sysinfo::LoadAvg {
            one: 0.0,
            five: 0.0,
            fifteen: 0.0,
        });
        let sample = StatusSample {
            time_ms: now_ms(),
            cpu: self.system.global_cpu_usage(),
            cores: self.system.cpus().iter().map(|c| c.usage()).collect(),
            mem_used: self.system.used_memory(),
            mem_total: self.system.total_memory(),
            swap_used: self.system.used_swap(),
            swap_total: self.system.total_swap(),
            load1: load.one,
            load5: load.five,
            load15: load.fifteen,
            procs: processes.len().try_into().unwrap_or(u32::MAX),
        };
        Snapshot {
            status: SystemStatus {
                hostname: self.hostname.clone(),
                uptime: System::uptime().unwrap_or(0),
                sample,
                disks: self.disks(),
            },
            processes,
        }
    }

    fn processes(&mut self) -> Vec<ProcessInfo> {
        let mut names: HashMap<u32, String> = HashMap::new();
        let mut rows = Vec::with_capacity(self.system.processes().len());
        let mut unknown_uid = false;
        for (pid, p) in self.system.processes() {
            if p.thread_kind() == Some(ThreadKind::Userland) {
                continue;
            }
            let user = match p.user_id() {
                Some(uid) => {
                    let raw = **uid;
                    names
                        .entry(raw)
                        .or_insert_with(|| match self.users.get_user_by_id(uid) {
                            Some(u) => u.name().to_owned(),
                            None => {
                                unknown_uid = true;
                                raw.to_string()
                            }
                        })
                        .clone()
                }
                None => String::from("?"),
            };
            rows.push(ProcessInfo {
                pid: Pid(pid.as_u32()),
                user,
                cpu: p.cpu_usage(),
                mem: p.memory(),
                name: p.name().to_string_lossy().into_owned(),
            });
        }
        rows.sort_unstable_by_key(|r| r.pid);
        if unknown_uid && self.users_read.elapsed() >= USERS_REFRESH {
            self.users.refresh();
            self.users_read = Instant::now();
        }
        rows
    }

    fn disks(&self) -> Vec<DiskInfo> {
        self.disks
            .iter()
            .map(|d| DiskInfo {
                mount: d.mount_point().display().to_string(),
                fs: d.file_system().to_string_lossy().into_owned(),
                total: d.total_space(),
                available: d.available_space(),
            })
            .collect()
    }
}

/// Full details of one process, read fresh (blocking: call from a blocking thread). CPU comes
/// from the latest snapshot, since a percentage needs two readings.
pub fn process_detail(pid: Pid, snapshot: &Snapshot) -> Option<ProcessDetail> {
    let mut system = System::new_with_specifics(sysinfo::RefreshKind::nothing()).ok()?;
    let spid = sysinfo::Pid::from_u32(pid.0);
    system.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[spid]),
        true,
        ProcessRefreshKind::nothing()
            .with_memory()
            .with_user(UpdateKind::Always)
            .with_cmd(UpdateKind::Always)
            .with_exe(UpdateKind::Always)
            .with_cwd(UpdateKind::Always)
            .with_tasks(),
    );
    let p = system.process(spid)?;
    if p.thread_kind() == Some(ThreadKind::Userland) {
        return None;
    }
    let row = snapshot
        .processes
        .binary_search_by_key(&pid, |r| r.pid)
        .ok()
        .map(|i| &snapshot.processes[i]);
    let user = match row {
        Some(r) => r.user.clone(),
        None => p.user_id().map(|u| (**u).to_string()).unwrap_or_default(),
    };
    Some(ProcessDetail {
        pid,
        parent: p.parent().map(|pp| Pid(pp.as_u32())),
        user,
        name: p.name().to_string_lossy().into_owned(),
        cmd: p
            .cmd()
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        exe: p.exe().map(|e| e.display().to_string()),
        cwd: p.cwd().map(|c| c.display().to_string()),
        start_time: p.start_time(),
        cpu: row.map(|r| r.cpu).unwrap_or(0.0),
        mem: p.memory(),
        virtual_mem: p.virtual_memory(),
        threads: p.tasks().map(|t| t.len().try_into().unwrap_or(u32::MAX)),
        state: p.status().to_string(),
        started_by_vigia: false,
    })
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis().try_into().unwrap_or(u64::MAX))
        .unwrap_or(0)
}
