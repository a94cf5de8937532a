//! The Linux process scan, read straight from /proc: one `/proc/<pid>/stat` per process and
//! scan, plus `/proc/<pid>/status` once per new process for its real uid.
//!
//! Why not sysinfo here: sysinfo lists every thread of every process (`/proc/<pid>/task`), and
//! reads `status` and `statm` besides `stat` for each one, at every refresh. A process row needs
//! none of that: `stat` alone holds the name, the CPU times and the resident set, and the uid
//! does not change for the rows we show (sysinfo's `UpdateKind::OnlyIfNotSet` also keeps the
//! first uid it saw). docs/benchmarks.md has the measured difference. The figures keep
//! sysinfo's meaning: CPU in percent of one core since the previous scan (0 at first sight,
//! capped at 100 × cores), memory as resident bytes, the real uid's user name.

use super::scan::{ProcessScanner, UserNames};
use rustix::fd::OwnedFd;
use rustix::fs::{Dir, Mode, OFlags};
use std::time::Instant;
use vigia_shared::proto::{Pid, ProcessInfo};

/// The fields of `/proc/<pid>/stat` that a process row needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat<'a> {
    pub pid: u32,
    /// `comm`: the name, at most 15 bytes for user processes, raw bytes (may hold spaces,
    /// parentheses and non-UTF-8).
    pub comm: &'a [u8],
    /// Process state letter (`R`, `S`, `Z`, …).
    pub state: u8,
    /// User plus system CPU time, clock ticks.
    pub ticks: u64,
    /// Start time after boot, clock ticks: with the pid, it tells a process from a later one
    /// that reused the pid.
    pub start: u64,
    /// Resident set, pages.
    pub rss_pages: u64,
}

/// Parses one `/proc/<pid>/stat` line. The name sits between the first `(` and the *last* `)`,
/// because a name may itself contain spaces and parentheses; every other field is a number
/// separated by single spaces. One pass over the bytes, which stops after the last field
/// needed (rss, field 24 of 52): this runs thousands of times a second while someone watches.
pub fn parse_stat(line: &[u8]) -> Option<Stat<'_>> {
    let open = line.iter().position(|&b| b == b'(')?;
    let close = line.iter().rposition(|&b| b == b')')?;
    if close < open {
        return None;
    }
    let pid = std::str::from_utf8(&line[..open])
        .ok()?
        .trim()
        .parse()
        .ok()?;
    // proc(5) numbers the fields from 1 (pid); the name is 2.
    const UTIME: usize = 14;
    const STIME: usize = 15;
    const START: usize = 22;
    const RSS: usize = 24;
    let mut field = 2;
    let mut state = None;
    // utime, stime, starttime, rss: `None` until read, or when not a plain number.
    let mut wanted: [Option<u64>; 4] = [None; 4];
    let slot = |f: usize| match f {
        UTIME => Some(0),
        STIME => Some(1),
        START => Some(2),
        RSS => Some(3),
        _ => None,
    };
    let (rest, mut i) = (&line[close + 1..], 0);
    while field < RSS {
        while rest.get(i).is_some_and(|&b| b == b' ' || b == b'\n') {
            i += 1;
        }
        let from = i;
        while rest.get(i).is_some_and(|&b| b != b' ' && b != b'\n') {
            i += 1;
        }
        if from == i {
            break;
        }
        field += 1;
        if field == 3 {
            state = Some(rest[from]);
        } else if let Some(k) = slot(field) {
            wanted[k] = num(&rest[from..i]);
        }
    }
    let [Some(utime), Some(stime), Some(start), rss] = wanted else {
        return None;
    };
    Some(Stat {
        pid,
        comm: &line[open + 1..close],
        state: state?,
        ticks: utime.saturating_add(stime),
        start,
        // rss can be negative for a moment in old kernels; read it as zero then.
        rss_pages: rss.unwrap_or(0),
    })
}

/// The real uid on the `Uid:` line of `/proc/<pid>/status`.
pub fn parse_status_uid(status: &[u8]) -> Option<u32> {
    status
        .split(|&b| b == b'\n')
        .find_map(|l| l.strip_prefix(b"Uid:"))
        .and_then(|rest| {
            rest.split(|&b| b == b'\t' || b == b' ')
                .find(|f| !f.is_empty())
        })
        .and_then(num)
        .and_then(|n| u32::try_from(n).ok())
}

fn num(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &b| {
        b.is_ascii_digit()
            .then(|| acc.checked_mul(10)?.checked_add(u64::from(b - b'0')))
            .flatten()
    })
}

/// Appends `n` in decimal (a `write!` costs more than the rest of a row's bookkeeping).
fn push_decimal(out: &mut String, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[i..].iter().map(|&d| char::from(d)));
}

/// No `stat` or `status` file is this long; a longer read is not one of them.
const MAX_FILE: usize = 64 * 1024;

/// What the previous scan saw of a process.
struct Seen {
    pid: u32,
    start: u64,
    ticks: u64,
    uid: Option<u32>,
}

/// Scans /proc; keeps per process only what the next scan needs for CPU %.
pub struct ProcScanner {
    proc_dir: OwnedFd,
    /// Sorted by pid, like the scan itself: the next scan finds each process by merging.
    seen: Vec<Seen>,
    last: Option<Instant>,
    ticks_per_sec: f64,
    page_size: u64,
    max_cpu: f32,
    path: String,
    buf: Vec<u8>,
}

impl ProcScanner {
    /// Opens /proc; fails where there is none (not Linux, or a sandbox without it).
    pub fn new() -> std::io::Result<Self> {
        let proc_dir = rustix::fs::open(
            "/proc",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Self {
            proc_dir,
            seen: Vec::new(),
            last: None,
            ticks_per_sec: rustix::param::clock_ticks_per_second().max(1) as f64,
            page_size: rustix::param::page_size() as u64,
            max_cpu: cores as f32 * 100.0,
            path: String::with_capacity(32),
            buf: vec![0; 4096],
        })
    }

    /// Reads `/proc/<pid>/<file>` into `self.buf`; returns its length, `None` when the
    /// process is gone.
    fn read(&mut self, pid: u32, file: &str) -> Option<usize> {
        self.path.clear();
        push_decimal(&mut self.path, pid);
        self.path.push('/');
        self.path.push_str(file);
        let fd = rustix::fs::openat(
            &self.proc_dir,
            self.path.as_str(),
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ok()?;
        // /proc files report no size, so read until end of file into a buffer that is kept
        // (and zeroed only when it grows). The kernel hands out a whole `stat` or `status` in
        // one read when the buffer holds it: a short read that ends a line is the end, which
        // saves the second read (to see end of file) that most readers pay.
        let mut len = 0;
        loop {
            if len == self.buf.len() {
                if len >= MAX_FILE {
                    return None;
                }
                self.buf.resize(len * 2, 0);
            }
            match rustix::io::read(&fd, &mut self.buf[len..]) {
                Ok(0) => return Some(len),
                Ok(n) => {
                    len += n;
                    if len < self.buf.len() && self.buf[len - 1] == b'\n' {
                        return Some(len);
                    }
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(_) => return None,
            }
        }
    }

    /// Process ids listed in /proc (thread groups only: /proc lists no threads).
    pub fn pids(&self) -> std::io::Result<Vec<u32>> {
        let mut dir = Dir::read_from(&self.proc_dir)?;
        let mut pids = Vec::with_capacity(self.seen.len() + 64);
        while let Some(entry) = dir.read() {
            let entry = entry?;
            if let Some(pid) = num(entry.file_name().to_bytes()).and_then(|n| u32::try_from(n).ok())
            {
                pids.push(pid);
            }
        }
        Ok(pids)
    }
}

impl ProcessScanner for ProcScanner {
    fn scan(&mut self, users: &mut UserNames) -> Vec<ProcessInfo> {
        let now = Instant::now();
        let elapsed = self.last.map(|t| now.duration_since(t).as_secs_f64());
        self.last = Some(now);
        let Ok(mut pids) = self.pids() else {
            return Vec::new();
        };
        pids.sort_unstable();
        let mut seen = Vec::with_capacity(pids.len());
        let mut before_it = std::mem::take(&mut self.seen).into_iter().peekable();
        let mut rows = Vec::with_capacity(pids.len());
        for pid in pids {
            let Some(len) = self.read(pid, "stat") else {
                continue;
            };
            let Some(stat) = parse_stat(&self.buf[..len]) else {
                continue;
            };
            let name = String::from_utf8_lossy(stat.comm).into_owned();
            let (ticks, start, rss) = (stat.ticks, stat.start, stat.rss_pages);
            while before_it.next_if(|b| b.pid < pid).is_some() {}
            let before = before_it
                .next_if(|b| b.pid == pid)
                .filter(|b| b.start == start);
            let cpu = match (&before, elapsed) {
                (Some(b), Some(secs)) if secs > 0.0 => {
                    let used = ticks.saturating_sub(b.ticks) as f64 / self.ticks_per_sec;
                    ((used / secs * 100.0) as f32).min(self.max_cpu)
                }
                _ => 0.0,
            };
            let uid = match before {
                Some(b) => b.uid,
                None => self
                    .read(pid, "status")
                    .and_then(|len| parse_status_uid(&self.buf[..len])),
            };
            rows.push(ProcessInfo {
                pid: Pid(pid),
                user: uid.map_or_else(|| "?".to_owned(), |u| users.name(u)),
                cpu,
                mem: rss.saturating_mul(self.page_size),
                name,
            });
            seen.push(Seen {
                pid,
                start,
                ticks,
                uid,
            });
        }
        self.seen = seen;
        users.end_scan();
        rows
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rstest::rstest;

    /// A line as the kernel writes it, with `comm` as given.
    fn line(pid: u32, comm: &str, utime: u64, stime: u64, start: u64, rss: u64) -> Vec<u8> {
        format!(
            "{pid} ({comm}) S 1 {pid} {pid} 0 -1 4194560 100 0 0 0 {utime} {stime} 0 0 20 0 1 0 \
             {start} 8458240 {rss} 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
        )
        .into_bytes()
    }

    #[rstest]
    #[case::plain("sleep")]
    #[case::space("Web Content")]
    #[case::parens("a) S 1 (b")]
    #[case::only_close(")")]
    #[case::empty("")]
    #[case::trailing_paren("tmux: server)")]
    fn the_name_runs_to_the_last_parenthesis(#[case] comm: &str) {
        let l = line(4321, comm, 7, 5, 99, 300);
        let s = parse_stat(&l).unwrap();
        assert_eq!(s.pid, 4321);
        assert_eq!(s.comm, comm.as_bytes());
        assert_eq!(s.state, b'S');
        assert_eq!(s.ticks, 12);
        assert_eq!(s.start, 99);
        assert_eq!(s.rss_pages, 300);
    }

    #[test]
    fn a_name_that_is_not_utf8_is_kept_as_bytes() {
        let mut l = b"77 (a\xffb) R 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 0 9 0\n".to_vec();
        let s = parse_stat(&l).unwrap();
        assert_eq!(s.comm, b"a\xffb");
        assert_eq!((s.ticks, s.start, s.rss_pages), (3, 5, 9));
        l.truncate(20);
        assert_eq!(parse_stat(&l), None, "a cut line is no process");
    }

    #[rstest]
    #[case::no_parens(b"12 sleep S 1".as_slice())]
    #[case::reversed(b"12 )sleep( S 1 2 3".as_slice())]
    #[case::bad_pid(b"x2 (sleep) S 1 2 3".as_slice())]
    #[case::empty(b"".as_slice())]
    fn malformed_lines_are_refused(#[case] l: &[u8]) {
        assert_eq!(parse_stat(l), None);
    }

    #[test]
    fn pids_are_written_in_decimal() {
        for n in [0, 7, 10, 4321, u32::MAX] {
            let mut s = String::from("x");
            push_decimal(&mut s, n);
            assert_eq!(s, format!("x{n}"));
        }
    }

    #[test]
    fn our_own_stat_parses() {
        let raw = std::fs::read("/proc/self/stat").unwrap();
        let s = parse_stat(&raw).unwrap();
        assert_eq!(s.pid, std::process::id());
        assert!(s.rss_pages > 0);
        assert!(s.start > 0);
        assert!(matches!(s.state, b'R' | b'S' | b'D'));
    }

    #[test]
    fn the_real_uid_is_the_first_on_the_uid_line() {
        let status = b"Name:\tsu\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t1000\t0\t0\t0\nGid:\t5\t5\t5\t5\n";
        assert_eq!(parse_status_uid(status), Some(1000));
        assert_eq!(parse_status_uid(b"Name:\tx\n"), None);
        let own = std::fs::read("/proc/self/status").unwrap();
        assert_eq!(
            parse_status_uid(&own),
            Some(rustix::process::getuid().as_raw())
        );
    }

    #[test]
    fn a_scan_finds_this_process_with_its_memory() {
        let mut scanner = ProcScanner::new().unwrap();
        let mut users = UserNames::new();
        let rows = scanner.scan(&mut users);
        assert!(
            rows.windows(2).all(|w| w[0].pid < w[1].pid),
            "sorted by pid"
        );
        let me = rows
            .iter()
            .find(|r| r.pid == Pid(std::process::id()))
            .unwrap();
        assert!(me.mem > 0);
        assert_eq!(me.cpu, 0.0, "no CPU figure at first sight");
        let again = scanner.scan(&mut users);
        assert!(again.iter().any(|r| r.pid == Pid(std::process::id())));
    }
}
