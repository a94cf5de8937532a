//! Criterion benchmarks of the daemon's hot paths: a process scan (the floor, sysinfo with and
//! without threads, the /proc path), the text and JSON encoders of a 3,000-row LIST, and the
//! line codec. `server/benches/run.sh` runs the whole-daemon figures; these are for the
//! inner loops.
//!
//! ```console
//! $ cargo bench -p vigiad --bench hot_paths -- scan
//! ```
//!
//! Scan figures depend on how many processes the machine has: run.sh starts extra ones.

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tokio_util::codec::Decoder;
use vigia_shared::codec::LineCodec;
use vigia_shared::proto::{Pid, ProcessInfo, Reply};
use vigiad::sampler::scan::{ProcessScanner, SysinfoScanner, UserNames};

#[path = "floor.rs"]
mod floor;

fn scan(c: &mut Criterion) {
    let procs = floor::floor_scan() as u64;
    let mut g = c.benchmark_group(format!("scan/{procs}_processes"));
    g.sample_size(20);
    g.throughput(Throughput::Elements(procs));
    g.bench_function("floor", |b| b.iter(|| black_box(floor::floor_scan())));
    let mut users = UserNames::new();
    #[cfg(target_os = "linux")]
    {
        let mut fast = vigiad::sampler::procfs::ProcScanner::new().expect("/proc opens");
        g.bench_function("procfs", |b| b.iter(|| black_box(fast.scan(&mut users))));
    }
    let mut lean = SysinfoScanner::new(false);
    g.bench_function("sysinfo_without_threads", |b| {
        b.iter(|| black_box(lean.scan(&mut users)))
    });
    let mut full = SysinfoScanner::new(true);
    g.bench_function("sysinfo_with_threads", |b| {
        b.iter(|| black_box(full.scan(&mut users)))
    });
    g.finish();
}

/// A LIST of `n` plausible rows.
fn list(n: u32) -> Reply {
    let names = [
        "sleep",
        "postgres",
        "nginx: worker",
        "kworker/1:2-events",
        "Web Content",
    ];
    let users = ["root", "www-data", "postgres", "alice"];
    Reply::Processes {
        total: n,
        processes: (0..n)
            .map(|i| ProcessInfo {
                pid: Pid(1000 + i * 7),
                user: users[i as usize % users.len()].into(),
                cpu: (i % 17) as f32 * 1.3,
                mem: 1_000_000 + u64::from(i) * 40_961,
                name: names[i as usize % names.len()].into(),
            })
            .collect(),
    }
}

fn encode(c: &mut Criterion) {
    let reply = list(3000);
    let mut g = c.benchmark_group("encode_list/3000_rows");
    g.throughput(Throughput::Elements(3000));
    g.bench_function("text", |b| {
        b.iter(|| black_box(vigia_shared::proto::text::render(black_box(&reply))))
    });
    g.bench_function("json", |b| {
        b.iter(|| {
            black_box(vigia_shared::proto::json::render_response(
                Some(7),
                Ok(black_box(&reply).clone()),
            ))
        })
    });
    g.bench_function("json_clone_only", |b| {
        b.iter(|| black_box(black_box(&reply).clone()))
    });
    g.finish();
}

fn codec(c: &mut Criterion) {
    // A pipelined burst of typical requests, as a session's reader sees it.
    let line = b"{\"id\":12,\"cmd\":\"list\",\"sort\":\"cpu\",\"desc\":true,\"limit\":50}\n";
    let burst: Vec<u8> = line
        .iter()
        .copied()
        .cycle()
        .take(line.len() * 1000)
        .collect();
    let mut g = c.benchmark_group("codec");
    g.throughput(Throughput::Bytes(burst.len() as u64));
    g.bench_function("decode_1000_lines", |b| {
        b.iter(|| {
            let mut codec = LineCodec::default();
            let mut buf = BytesMut::from(&burst[..]);
            let mut n = 0;
            while let Ok(Some(_)) = codec.decode(&mut buf) {
                n += 1;
            }
            black_box(n)
        })
    });
    g.finish();
}

criterion_group!(benches, scan, encode, codec);
criterion_main!(benches);
