//! Times one process scan by each source at the machine's current process count, and prints
//! the medians as JSON (for `server/benches/run.sh`; `cargo bench` has the Criterion version):
//! the floor (a `stat()` and a read of `/proc/<pid>/stat` per process, nothing parsed), the
//! daemon's /proc path, and sysinfo without and with threads.
//!
//! ```console
//! $ cargo run --release -p vigiad --example scanbench -- --iters 15
//! $ valgrind --tool=callgrind target/release/examples/scanbench --only procfs --iters 1
//! ```

use anyhow::Result;
use clap::Parser;
use serde_json::{Map, json};
use std::hint::black_box;
use std::time::Instant;
use vigiad::sampler::scan::{ProcessScanner, SysinfoScanner, UserNames};

#[path = "../benches/floor.rs"]
mod floor;

#[derive(Parser)]
struct Cli {
    /// Timed scans per source (after one untimed scan that primes it).
    #[arg(long, default_value_t = 15)]
    iters: usize,
    /// Only this source: floor, procfs, sysinfo, sysinfo_threads.
    #[arg(long)]
    only: Option<String>,
}

fn median_ms(mut f: impl FnMut(), iters: usize) -> f64 {
    f();
    let mut v: Vec<f64> = (0..iters.max(1))
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let wanted = |name: &str| cli.only.as_deref().is_none_or(|o| o == name);
    let mut out = Map::new();
    let procs = floor::floor_scan();
    out.insert("processes".into(), json!(procs));
    let mut users = UserNames::new();
    if wanted("floor") {
        let ms = median_ms(
            || {
                black_box(floor::floor_scan());
            },
            cli.iters,
        );
        out.insert("floor_ms".into(), json!(ms));
    }
    #[cfg(target_os = "linux")]
    if wanted("procfs") {
        let mut s = vigiad::sampler::procfs::ProcScanner::new()?;
        let ms = median_ms(|| drop(black_box(s.scan(&mut users))), cli.iters);
        out.insert("procfs_ms".into(), json!(ms));
    }
    if wanted("sysinfo") {
        let mut s = SysinfoScanner::new(false);
        let ms = median_ms(|| drop(black_box(s.scan(&mut users))), cli.iters);
        out.insert("sysinfo_ms".into(), json!(ms));
    }
    if wanted("sysinfo_threads") {
        let mut s = SysinfoScanner::new(true);
        let ms = median_ms(|| drop(black_box(s.scan(&mut users))), cli.iters);
        out.insert("sysinfo_threads_ms".into(), json!(ms));
    }
    println!("{}", serde_json::Value::Object(out));
    Ok(())
}
