//! The sampler: the only code that reads the system's figures (sysinfo, and /proc directly on
//! Linux). One thread takes a sample every interval and publishes a plain-data [`Snapshot`];
//! LIST and STATUS read the latest one and never wait for /proc.
//!
//! **Nobody watching costs almost nothing.** The system-wide figures (CPU, memory, swap, load:
//! a few small files of /proc) go into the history every interval. The process table is
//! different: a scan reads one file per process, thousands a second on a busy host, so the
//! sampler scans processes at the interval only while someone watches them, that is while a
//! request for processes (LIST, a process's details) came within the last [`WATCH_WINDOW`].
//! Otherwise it rescans every [`IDLE_RESCAN`], so that the list never gets very old. The first
//! request after a quiet spell is answered at once from the latest scan, which may be up to
//! [`IDLE_RESCAN`] old (with CPU figures averaged over that span), and wakes the sampler,
//! which scans right away: a client polling LIST sees a fresh table within one scan. The
//! process count in STATUS is at most [`IDLE_COUNT`] old (one listing of /proc, on Linux).
//! docs/benchmarks.md measures what this saves.

mod demand;
mod detail;
pub mod history;
#[cfg(target_os = "linux")]
pub mod procfs;
pub mod scan;

pub use detail::process_detail;

use demand::Demand;
use history::History;
use scan::{ProcessScanner, UserNames};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use sysinfo::{CpuRefreshKind, Disks, MemoryRefreshKind, System};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use vigia_shared::proto::{DiskInfo, ProcessInfo, StatusSample, SystemStatus};

/// Processes count as watched for this long after a request for them.
pub const WATCH_WINDOW: Duration = Duration::from_secs(30);
/// While nobody watches, processes are rescanned this often.
pub const IDLE_RESCAN: Duration = Duration::from_secs(60);
/// While nobody watches, processes are counted this often (for STATUS): listing /proc costs
/// the kernel about a microsecond a process, which is most of an idle interval's work.
pub const IDLE_COUNT: Duration = Duration::from_secs(10);

/// One moment of the system, as published to every session.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub status: SystemStatus,
    /// Every process, sorted by pid, as of `processes_ms` (shared between snapshots while no
    /// new scan ran).
    pub processes: Arc<Vec<ProcessInfo>>,
    /// When the process table was scanned, milliseconds since the Unix epoch.
    pub processes_ms: u64,
}

/// What sessions hold of the sampler.
#[derive(Clone)]
pub struct SamplerHandle {
    pub snapshot: watch::Receiver<Arc<Snapshot>>,
    history: Arc<Mutex<History>>,
    interval: Duration,
    demand: Arc<Demand>,
}

impl SamplerHandle {
    /// The latest snapshot; costs one reference count. For the process table use
    /// [`Self::processes`], which also tells the sampler that someone watches.
    pub fn latest(&self) -> Arc<Snapshot> {
        self.snapshot.borrow().clone()
    }

    /// The latest snapshot, for a request that reads its processes: marks them as watched
    /// (the sampler then scans them every interval) and, after a quiet spell, wakes the
    /// sampler for a scan. Never waits for it.
    pub fn processes(&self) -> Arc<Snapshot> {
        self.demand.mark();
        self.latest()
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
/// The longest the thread sleeps before it looks at the shutdown token.
const SHUTDOWN_POLL: Duration = Duration::from_millis(200);

/// Starts the sampler thread; the first snapshot (processes included) is taken before this
/// returns.
pub fn spawn(
    interval: Duration,
    history_len: usize,
    shutdown: CancellationToken,
) -> std::io::Result<SamplerHandle> {
    let mut sampler = Sampler::new(scan::best());
    let first = Arc::new(sampler.full());
    let history = Arc::new(Mutex::new(History::new(history_len)));
    if let Ok(mut h) = history.lock() {
        h.push(first.status.sample.clone());
    }
    let (tx, rx) = watch::channel(first);
    let demand = Arc::new(Demand::new(WATCH_WINDOW));
    let (hist, dem) = (history.clone(), demand.clone());
    std::thread::Builder::new()
        .name("vigiad-sampler".into())
        .spawn(move || {
            let mut next = Instant::now() + interval;
            while !shutdown.is_cancelled() && !tx.is_closed() {
                let now = Instant::now();
                if next > now {
                    if dem.wait((now + SHUTDOWN_POLL).min(next)) {
                        // Someone asks for processes after a quiet spell: scan now, keep
                        // the system figures (and the history's rhythm) as they are.
                        let prev = tx.borrow().clone();
                        tx.send_replace(Arc::new(sampler.rescan(&prev)));
                    }
                    continue;
                }
                next += interval;
                if next < now {
                    // A sample took longer than an interval: skip rather than bunch up.
                    next = now + interval;
                }
                let prev = tx.borrow().clone();
                let snap = sampler.sample(&prev, dem.watched());
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
        demand,
    })
}

/// Owns the readers: sysinfo for the system's figures, a scanner for processes.
struct Sampler {
    system: System,
    disks: Disks,
    disks_read: Instant,
    hostname: String,
    scanner: Box<dyn ProcessScanner>,
    users: UserNames,
    scanned: Instant,
    counted: Instant,
}

impl Sampler {
    fn new(scanner: Box<dyn ProcessScanner>) -> Self {
        Self {
            system: System::new_with_specifics(sysinfo::RefreshKind::nothing())
                .expect("sysinfo initialises without reading anything"),
            disks: Disks::new_with_refreshed_list()
                .unwrap_or_else(|_| Disks::new().expect("an empty disk list")),
            disks_read: Instant::now(),
            hostname: System::host_name().unwrap_or_else(|_| "unknown".into()),
            scanner,
            users: UserNames::new(),
            scanned: Instant::now(),
            counted: Instant::now(),
        }
    }

    /// A snapshot with a process scan.
    fn full(&mut self) -> Snapshot {
        let processes = Arc::new(self.scanner.scan(&mut self.users));
        self.scanned = Instant::now();
        self.counted = self.scanned;
        let count = processes.len();
        self.snapshot(processes, now_ms(), count)
    }

    /// One interval's snapshot: system figures always, processes when `watched` or when the
    /// last scan is older than [`IDLE_RESCAN`].
    fn sample(&mut self, prev: &Snapshot, watched: bool) -> Snapshot {
        if watched || self.scanned.elapsed() >= IDLE_RESCAN {
            return self.full();
        }
        let count = if self.counted.elapsed() >= IDLE_COUNT {
            self.counted = Instant::now();
            scan::count().map_or(prev.processes.len(), |n| n as usize)
        } else {
            prev.status.sample.procs as usize
        };
        self.snapshot(prev.processes.clone(), prev.processes_ms, count)
    }

    /// `prev` with a fresh process table.
    fn rescan(&mut self, prev: &Snapshot) -> Snapshot {
        let processes = self.scanner.scan(&mut self.users);
        self.scanned = Instant::now();
        let mut status = prev.status.clone();
        status.sample.procs = processes.len().try_into().unwrap_or(u32::MAX);
        Snapshot {
            status,
            processes: Arc::new(processes),
            processes_ms: now_ms(),
        }
    }

    fn snapshot(
        &mut self,
        processes: Arc<Vec<ProcessInfo>>,
        processes_ms: u64,
        count: usize,
    ) -> Snapshot {
        self.system
            .refresh_cpu_specifics(CpuRefreshKind::nothing().with_usage());
        self.system
            .refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram().with_swap());
        if self.disks_read.elapsed() >= DISK_REFRESH {
            self.disks.refresh(true);
            self.disks_read = Instant::now();
        }
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
            procs: count.try_into().unwrap_or(u32::MAX),
        };
        Snapshot {
            status: SystemStatus {
                hostname: self.hostname.clone(),
                uptime: System::uptime().unwrap_or(0),
                sample,
                disks: self.disks(),
            },
            processes,
            processes_ms,
        }
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

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis().try_into().unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use vigia_shared::proto::Pid;

    /// Counts its scans; each returns one row whose pid is the scan's number.
    struct Counting(u32);

    impl ProcessScanner for Counting {
        fn scan(&mut self, _: &mut UserNames) -> Vec<ProcessInfo> {
            self.0 += 1;
            vec![ProcessInfo {
                pid: Pid(self.0),
                user: "root".into(),
                cpu: 0.0,
                mem: 0,
                name: "x".into(),
            }]
        }
    }

    #[test]
    fn a_request_for_processes_after_a_quiet_spell_wakes_a_scan() {
        let shutdown = CancellationToken::new();
        // An interval far longer than the test: any new snapshot comes from the wake.
        let mut h = spawn(Duration::from_secs(3600), 4, shutdown.clone()).unwrap();
        let before = h.latest();
        let answered = h.processes();
        assert!(
            Arc::ptr_eq(&before, &answered),
            "answered at once, from the latest"
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        // Bounded only so that a broken wake fails instead of hanging.
        rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(60), h.snapshot.changed()).await
        })
        .expect("the sampler scanned after the request")
        .unwrap();
        let after = h.latest();
        assert!(!Arc::ptr_eq(&before.processes, &after.processes));
        assert_eq!(after.status.sample.time_ms, before.status.sample.time_ms);
        assert_eq!(h.history().len(), 1, "a wake adds nothing to the history");
        shutdown.cancel();
    }

    #[test]
    fn unwatched_samples_keep_the_last_process_table() {
        let mut s = Sampler::new(Box::new(Counting(0)));
        let first = s.full();
        let idle = s.sample(&first, false);
        assert!(Arc::ptr_eq(&first.processes, &idle.processes), "no scan");
        assert_eq!(idle.processes_ms, first.processes_ms);
        assert_eq!(idle.status.sample.procs, 1, "the count of the last scan");
        let watched = s.sample(&idle, true);
        assert_eq!(watched.processes[0].pid, Pid(2), "scanned");
        let woken = s.rescan(&watched);
        assert_eq!(woken.processes[0].pid, Pid(3));
        assert_eq!(woken.status.sample.time_ms, watched.status.sample.time_ms);
    }
}
