//! Measures the desktop app as an admin uses it: N real `vigiad` daemons on loopback (separate
//! processes), the app connected to all of them in a real window, one host's process table
//! open, extra `sleep` processes so that the table is long. It reports the app's CPU use and
//! resident memory (read from `/proc/self`), and per-frame work: eframe's own figure (the whole
//! frame, `ui` plus tessellation and painting, vsync waits excluded) and the time in the app's
//! `logic` + `ui` alone.
//!
//! ```console
//! $ cargo build --release -p vigiad --bin vigiad
//! $ xvfb-run -a -s "-screen 0 1280x820x24" \
//!     cargo run --release -p vigia --example deskbench -- --hosts 20 --extra 3000 --secs 60
//! ```
//!
//! The last line printed is one JSON object with every figure. Linux only (it reads /proc).

use anyhow::{Context as _, Result, bail};
use clap::Parser;
use eframe::egui;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigia::app::persist::{ConfigDir, Persisted, ServerEntry, View};
use vigia::model::{ConnState, HostId};
use vigia::secrets::{MemoryStore, SecretStore};
use vigia::{Options, VigiaApp};

#[derive(Parser, Debug, Clone)]
#[command(about = "Measures the vigia desktop app against real daemons")]
struct Cli {
    /// Daemons to start and connect to.
    #[arg(long, default_value_t = 20)]
    hosts: u64,
    /// Extra `sleep` processes on the machine, so the open table has that many more rows.
    #[arg(long, default_value_t = 3000)]
    extra: usize,
    /// Length of the measured window, seconds (after everything is connected).
    #[arg(long, default_value_t = 60)]
    secs: u64,
    /// Resident memory is also sampled at this interval, seconds.
    #[arg(long, default_value_t = 60)]
    sample_every: u64,
    /// The daemon binary.
    #[arg(long, default_value = "target/release/vigiad")]
    vigiad: PathBuf,
    /// Fill every host's hour of history before the app connects: the daemons sample every
    /// 100 ms and the app opens after 3,600 of their samples, so its history rings are at their
    /// bound from the first minute (for the memory run; the stream to the app stays at 1 s).
    #[arg(long)]
    prefill_history: bool,
    /// First port; daemon i listens on `port + i`.
    #[arg(long, default_value_t = 15400)]
    port: u16,
}

const PASSWORD: &str = "deskbench-password";

/// Processes started for the run; killed when dropped.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
        }
        for c in &mut self.0 {
            let _ = c.wait();
        }
    }
}

fn main() -> Result<()> {
    vigia::memory::keep_frame_buffers();
    let cli = Cli::parse();
    let work = tempfile::tempdir().context("temporary directory")?;
    let mut children = Children(Vec::new());
    for _ in 0..cli.extra {
        children.0.push(
            Command::new("sleep")
                .arg("86400")
                .spawn()
                .context("starting sleep")?,
        );
    }
    let mut persisted = Persisted::default();
    let secrets = Arc::new(MemoryStore::new());
    for i in 0..cli.hosts {
        let port = cli.port + u16::try_from(i)?;
        let dir = work.path().join(format!("d{i}"));
        let (child, fingerprint) = daemon(&cli.vigiad, &dir, port, cli.prefill_history)?;
        children.0.push(child);
        let entry = ServerEntry {
            id: HostId(i + 1),
            name: format!("host-{:02}", i + 1),
            host: "127.0.0.1".into(),
            port,
            user: "admin".into(),
            connect: true,
            pinned: Some(fingerprint),
        };
        secrets.set(&entry.account(), PASSWORD)?;
        persisted.servers.push(entry);
    }
    if cli.prefill_history {
        // 3,600 samples at 100 ms, and a margin.
        eprintln!("filling the daemons' history: 370 s");
        std::thread::sleep(Duration::from_secs(370));
    }
    persisted.ui.view = View::Host;
    persisted.ui.selected = Some(HostId(1));
    let config = ConfigDir::new(work.path().join("config"));
    std::fs::create_dir_all(config.path())?;
    persisted.save(&config)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let secrets: Arc<dyn SecretStore> = secrets;
    let options = Options::new(config, secrets, runtime.handle().clone());
    let report = Arc::new(std::sync::Mutex::new(None));
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_inner_size([1280.0, 820.0]),
        renderer: eframe::Renderer::Glow,
        persistence_path: None,
        ..Default::default()
    };
    let (out, bench_cli) = (report.clone(), cli.clone());
    eframe::run_native(
        "Vigía bench",
        native,
        Box::new(move |cc| {
            Ok(Box::new(Bench::new(
                VigiaApp::new(cc, options),
                bench_cli,
                out,
            )))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))?;
    runtime.shutdown_background();
    drop(children);
    let taken = report.lock().ok().and_then(|mut r| r.take());
    match taken {
        Some(Ok(v)) => {
            println!("{v}");
            Ok(())
        }
        Some(Err(e)) => bail!(e),
        None => bail!("the window closed before the measurement ended"),
    }
}

/// Starts one daemon with its own data directory; returns it and its certificate fingerprint.
fn daemon(vigiad: &Path, dir: &Path, port: u16, fast: bool) -> Result<(Child, String)> {
    std::fs::create_dir_all(dir)?;
    let users = dir.join("users.json");
    std::fs::write(&users, format!("{{\"admin\": \"{PASSWORD}\"}}"))?;
    let config = dir.join("vigiad.toml");
    std::fs::write(&config, "")?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        std::fs::set_permissions(&users, std::fs::Permissions::from_mode(0o600))?;
    }
    let child = Command::new(vigiad)
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--no-web"])
        .args(if fast {
            &["--sample-interval-ms", "100"][..]
        } else {
            &[]
        })
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", vigiad.display()))?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("the daemon on port {port} did not start");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let shown = Command::new(vigiad)
        .args(["cert", "show", "--data-dir"])
        .arg(dir)
        .output()?;
    let text = String::from_utf8_lossy(&shown.stdout);
    let fingerprint = text
        .lines()
        .find_map(|l| l.split_once("SHA-256").map(|(_, f)| f.trim().to_owned()))
        .context("no fingerprint in `vigiad cert show`")?;
    Ok((child, fingerprint))
}

/// The app's CPU time (seconds, every thread), resident memory (bytes) and minor page faults.
fn own_use() -> (f64, u64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let num = |n: usize| -> u64 {
        fields
            .get(n - 3)
            .and_then(|v| v.parse().ok())
            .unwrap_or_default()
    };
    let hz = rustix::param::clock_ticks_per_second().max(1) as f64;
    (
        (num(14) + num(15)) as f64 / hz,
        num(24) * rustix::param::page_size() as u64,
        num(10),
    )
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

enum Phase {
    /// Waiting for every host to connect and the open table to fill.
    Warming {
        since: Instant,
    },
    Measuring {
        since: Instant,
        cpu: f64,
        faults: u64,
        next_sample: Instant,
    },
    Done,
}

/// The app, with a stopwatch around it.
struct Bench {
    app: VigiaApp,
    cli: Cli,
    phase: Phase,
    /// eframe's figure for each frame, ms.
    frame_ms: Vec<f64>,
    /// `logic` + `ui` of each frame, ms.
    app_ms: Vec<f64>,
    /// `logic` alone (the network's events applied), ms.
    logic_ms: Vec<f64>,
    logic_took: Duration,
    rss: Vec<(u64, u64)>,
    /// Why each measured frame was drawn (egui's `repaint_causes`, file:line): frames in the
    /// first minute, and after it.
    causes: std::collections::BTreeMap<String, [u64; 2]>,
    out: Arc<std::sync::Mutex<Option<Result<serde_json::Value, String>>>>,
}

impl Bench {
    fn new(
        app: VigiaApp,
        cli: Cli,
        out: Arc<std::sync::Mutex<Option<Result<serde_json::Value, String>>>>,
    ) -> Self {
        Self {
            app,
            cli,
            phase: Phase::Warming {
                since: Instant::now(),
            },
            frame_ms: Vec::new(),
            app_ms: Vec::new(),
            logic_ms: Vec::new(),
            logic_took: Duration::ZERO,
            rss: Vec::new(),
            causes: Default::default(),
            out,
        }
    }

    fn ready(&self) -> bool {
        let model = self.app.model();
        model
            .hosts
            .values()
            .all(|h| matches!(h.conn, ConnState::Connected))
            && model
                .host(HostId(1))
                .is_some_and(|h| h.procs.len() >= self.cli.extra)
    }

    fn finish(&mut self, ctx: &egui::Context, result: Result<serde_json::Value, String>) {
        if let Ok(mut out) = self.out.lock() {
            *out = Some(result);
        }
        self.phase = Phase::Done;
        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
    }

    fn advance(&mut self, ctx: &egui::Context, frame: &eframe::Frame) {
        let now = Instant::now();
        match self.phase {
            Phase::Warming { since } => {
                if self.ready() {
                    let (cpu, rss, faults) = own_use();
                    eprintln!(
                        "all {} hosts connected, {} rows open; measuring {} s",
                        self.cli.hosts,
                        self.app
                            .model()
                            .host(HostId(1))
                            .map_or(0, |h| h.procs.len()),
                        self.cli.secs
                    );
                    self.rss.push((0, rss));
                    self.phase = Phase::Measuring {
                        since: now,
                        cpu,
                        faults,
                        next_sample: now + Duration::from_secs(self.cli.sample_every),
                    };
                } else if now.duration_since(since) > Duration::from_secs(120) {
                    self.finish(ctx, Err("hosts did not all connect within 120 s".into()));
                }
                ctx.request_repaint_after(Duration::from_millis(500));
            }
            Phase::Measuring {
                since,
                cpu,
                faults,
                next_sample,
            } => {
                if let Some(s) = frame.info().cpu_usage {
                    self.frame_ms.push(f64::from(s) * 1e3);
                }
                let elapsed = now.duration_since(since);
                let later = usize::from(elapsed >= Duration::from_secs(60));
                let mut causes = ctx.repaint_causes();
                causes.dedup();
                if causes.is_empty() {
                    self.causes.entry("(none)".into()).or_default()[later] += 1;
                }
                for c in causes {
                    self.causes.entry(c.to_string()).or_default()[later] += 1;
                }
                if now >= next_sample {
                    self.rss.push((elapsed.as_secs(), own_use().1));
                    self.phase = Phase::Measuring {
                        since,
                        cpu,
                        faults,
                        next_sample: next_sample + Duration::from_secs(self.cli.sample_every),
                    };
                }
                if elapsed >= Duration::from_secs(self.cli.secs) {
                    let (cpu_end, rss_end, faults_end) = own_use();
                    let secs = elapsed.as_secs_f64();
                    let frames = self.frame_ms.len();
                    let rows = self
                        .app
                        .model()
                        .host(HostId(1))
                        .map_or(0, |h| h.procs.len());
                    let v = json!({
                        "hosts": self.cli.hosts,
                        "prefill_history": self.cli.prefill_history,
                        "rows": rows,
                        "secs": secs,
                        "cpu_pct": (cpu_end - cpu) / secs * 100.0,
                        "minor_faults_per_frame": (faults_end - faults) as f64 / frames.max(1) as f64,
                        "frames": frames,
                        "frames_per_s": frames as f64 / secs,
                        "frame_p50_ms": pct(&mut self.frame_ms, 0.5),
                        "frame_p99_ms": pct(&mut self.frame_ms, 0.99),
                        "frame_max_ms": pct(&mut self.frame_ms, 1.0),
                        "app_p50_ms": pct(&mut self.app_ms, 0.5),
                        "app_p99_ms": pct(&mut self.app_ms, 0.99),
                        "app_max_ms": pct(&mut self.app_ms, 1.0),
                        "logic_p50_ms": pct(&mut self.logic_ms, 0.5),
                        "logic_p99_ms": pct(&mut self.logic_ms, 0.99),
                        "rss_start_bytes": self.rss.first().map_or(0, |r| r.1),
                        "rss_end_bytes": rss_end,
                        "rss_samples": self.rss,
                        "repaint_causes": self.causes,
                    });
                    self.finish(ctx, Ok(v));
                }
            }
            Phase::Done => {}
        }
    }
}

impl eframe::App for Bench {
    fn logic(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        let t = Instant::now();
        self.app.logic(ctx, frame);
        self.logic_took = t.elapsed();
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let t = Instant::now();
        self.app.ui(ui, frame);
        let took = t.elapsed() + self.logic_took;
        if matches!(self.phase, Phase::Measuring { .. }) {
            self.app_ms.push(took.as_secs_f64() * 1e3);
            self.logic_ms.push(self.logic_took.as_secs_f64() * 1e3);
        }
        let ctx = ui.ctx().clone();
        self.advance(&ctx, frame);
    }
}
