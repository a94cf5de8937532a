//! The floor of a process scan, for comparison only: list /proc, and per process one `stat()`
//! of its directory and one read of `/proc/<pid>/stat`, with nothing parsed or kept. No
//! monitor can list processes with their owner, CPU and memory for less on Linux.

use std::io::Read;

/// Scans once; returns how many processes were read.
pub fn floor_scan() -> usize {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut buf = Vec::with_capacity(1024);
    let mut n = 0;
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let path = format!("/proc/{pid}");
        if std::fs::metadata(&path).is_err() {
            continue;
        }
        buf.clear();
        if let Ok(mut f) = std::fs::File::open(format!("{path}/stat"))
            && f.read_to_end(&mut buf).is_ok()
        {
            n += 1;
        }
    }
    n
}
