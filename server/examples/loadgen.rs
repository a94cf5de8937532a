//! Load generator for `vigiad`: opens sessions through the client library (pinned
//! certificate), logs in, and drives LIST, STATUS, START/STOP and status subscriptions,
//! reporting latency percentiles, throughput, bytes per LIST row, and the daemon's own CPU and
//! resident memory read from `/proc/<pid>` (Linux).
//!
//! ```console
//! $ cargo run --release -p vigiad --example loadgen -- \
//!     --addr 127.0.0.1:5000 --fingerprint A0:D9:... --password-file pw \
//!     --daemon-pid 4242 --list-rate 20 --status-rate 5 --duration 10 --start-stop 50
//! ```
//!
//! Phases run in this order, each only when asked for: idle sessions (held to the end),
//! logins beside them, subscribers, the rate phase (LIST and STATUS), START/STOP pairs. With
//! `--json` the figures are also printed as one JSON object on the last line.

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use vigia_shared::client::{Client, Trust};
use vigia_shared::proto::{ListQuery, Reply, Signal};

#[derive(Parser, Debug)]
#[command(about = "Drives a vigiad daemon and measures it")]
struct Cli {
    /// Daemon address.
    #[arg(long, default_value = "127.0.0.1:5000")]
    addr: String,
    /// Name the certificate is checked for (only the fingerprint decides trust).
    #[arg(long, default_value = "localhost")]
    server_name: String,
    /// SHA-256 fingerprint of the daemon's certificate (as `vigiad cert show` prints it).
    #[arg(long)]
    fingerprint: String,
    #[arg(long, default_value = "admin")]
    user: String,
    /// File holding the password (first line).
    #[arg(long, env = "VIGIA_PASSWORD_FILE")]
    password_file: std::path::PathBuf,
    /// The daemon's pid, to read its CPU time and resident memory.
    #[arg(long)]
    daemon_pid: Option<u32>,
    /// Idle logged-in sessions to open and hold during the other phases.
    #[arg(long, default_value_t = 0)]
    sessions: usize,
    /// Connect-login-LIST samples taken by new clients beside the idle sessions.
    #[arg(long, default_value_t = 0)]
    logins: usize,
    /// Sessions subscribed to the status stream (1 s), held during `--window`.
    #[arg(long, default_value_t = 0)]
    subscribers: usize,
    /// How long the daemon's CPU is measured beside idle sessions or subscribers, seconds.
    #[arg(long, default_value_t = 10.0)]
    window: f64,
    /// LIST requests a second on one warm session (0: none).
    #[arg(long, default_value_t = 0.0)]
    list_rate: f64,
    /// STATUS requests a second on one warm session (0: none).
    #[arg(long, default_value_t = 0.0)]
    status_rate: f64,
    /// Length of the rate phase, seconds.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// START `sleep 300` then STOP it at once, this many times, back to back.
    #[arg(long, default_value_t = 0)]
    start_stop: usize,
    /// Connections opened at once while setting up sessions.
    #[arg(long, default_value_t = 64)]
    parallel: usize,
    /// Also print every figure as one JSON object on the last line.
    #[arg(long)]
    json: bool,
}

/// Latencies of one kind of request.
#[derive(Default)]
struct Latencies(Vec<Duration>);

impl Latencies {
    fn add(&mut self, d: Duration) {
        self.0.push(d);
    }

    fn pct(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let mut v = self.0.clone();
        v.sort_unstable();
        let i = ((v.len() - 1) as f64 * p).round() as usize;
        v[i.min(v.len() - 1)].as_secs_f64() * 1e3
    }

    fn report(&self, name: &str, span: Option<Duration>) -> Value {
        let (p50, p90, p99) = (self.pct(0.5), self.pct(0.9), self.pct(0.99));
        let rate = span.map(|s| self.0.len() as f64 / s.as_secs_f64().max(1e-9));
        println!(
            "{name:<14} n={:<6} p50={p50:>8.3} ms  p90={p90:>8.3} ms  p99={p99:>8.3} ms{}",
            self.0.len(),
            rate.map(|r| format!("  {r:.1}/s")).unwrap_or_default()
        );
        json!({"n": self.0.len(), "p50_ms": p50, "p90_ms": p90, "p99_ms": p99, "per_s": rate})
    }
}

/// The daemon's CPU time (clock ticks) and resident memory (bytes), from /proc.
#[derive(Clone, Copy)]
struct DaemonUse {
    at: Instant,
    ticks: u64,
    rss: u64,
}

fn daemon_use(pid: u32) -> Result<DaemonUse> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("no ')' in stat")?;
    let f: Vec<&str> = after.split_whitespace().collect();
    // proc(5): utime 14, stime 15, rss 24; `f[0]` is field 3.
    let field = |n: usize| -> Result<u64> {
        f.get(n - 3)
            .context("short stat line")?
            .parse::<u64>()
            .with_context(|| format!("stat field {n}"))
    };
    Ok(DaemonUse {
        at: Instant::now(),
        ticks: field(14)? + field(15)?,
        rss: field(24)? * rustix::param::page_size() as u64,
    })
}

/// Percent of one core the daemon used between `a` and `b`.
fn cpu_between(a: DaemonUse, b: DaemonUse) -> f64 {
    let hz = rustix::param::clock_ticks_per_second().max(1) as f64;
    let secs = b.at.duration_since(a.at).as_secs_f64().max(1e-9);
    (b.ticks.saturating_sub(a.ticks)) as f64 / hz / secs * 100.0
}

struct Ctx {
    cli: Cli,
    trust: Trust,
    password: String,
}

impl Ctx {
    async fn session(&self) -> Result<Client> {
        let c = Client::connect(&self.cli.addr, &self.cli.server_name, &self.trust)
            .await
            .with_context(|| format!("connecting to {}", self.cli.addr))?;
        c.login(&self.cli.user, &self.password)
            .await
            .context("logging in")?;
        Ok(c)
    }

    fn usage(&self) -> Option<DaemonUse> {
        self.cli.daemon_pid.and_then(|p| daemon_use(p).ok())
    }

    /// Opens `n` logged-in sessions, `parallel` at a time.
    async fn sessions(self: &Arc<Self>, n: usize) -> Result<Vec<Client>> {
        let gate = Arc::new(Semaphore::new(self.cli.parallel.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..n {
            let (ctx, gate) = (self.clone(), gate.clone());
            tasks.spawn(async move {
                let _permit = gate.acquire_owned().await?;
                ctx.session().await
            });
        }
        let mut out = Vec::with_capacity(n);
        while let Some(r) = tasks.join_next().await {
            out.push(r.context("a session task failed")??);
        }
        Ok(out)
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let password = std::fs::read_to_string(&cli.password_file)
        .with_context(|| format!("reading {}", cli.password_file.display()))?
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let ctx = Arc::new(Ctx {
        trust: Trust::pinned(cli.fingerprint.clone()),
        cli,
        password,
    });
    let mut out = serde_json::Map::new();
    if let Some(u) = ctx.usage() {
        println!("daemon         rss={:.1} MiB at start", mib(u.rss));
        out.insert("rss_start_bytes".into(), json!(u.rss));
    }

    // Idle sessions, held until the end.
    let mut held = Vec::new();
    if ctx.cli.sessions > 0 {
        let before = ctx.usage();
        let began = Instant::now();
        held = ctx.sessions(ctx.cli.sessions).await?;
        let took = began.elapsed();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mid = ctx.usage();
        tokio::time::sleep(Duration::from_secs_f64(ctx.cli.window)).await;
        let after = ctx.usage();
        println!(
            "sessions       {} open and logged in in {:.1} s",
            held.len(),
            took.as_secs_f64()
        );
        out.insert("sessions".into(), json!(held.len()));
        if let (Some(b), Some(m), Some(a)) = (before, mid, after) {
            let per = (m.rss as f64 - b.rss as f64) / held.len() as f64 / 1024.0;
            let cpu = cpu_between(m, a);
            println!(
                "               rss {:.1} -> {:.1} MiB: {per:.1} KiB a session; idle CPU {cpu:.2}% of a core",
                mib(b.rss),
                mib(m.rss)
            );
            out.insert("session_kib".into(), json!(per));
            out.insert("sessions_rss_bytes".into(), json!(m.rss));
            out.insert("sessions_idle_cpu_pct".into(), json!(cpu));
        }
    }

    if ctx.cli.logins > 0 {
        let mut lat = Latencies::default();
        for _ in 0..ctx.cli.logins {
            let t = Instant::now();
            let c = ctx.session().await?;
            c.list(ListQuery::default()).await?;
            lat.add(t.elapsed());
            c.quit().await.ok();
        }
        out.insert("login_list".into(), lat.report("login+LIST", None));
    }

    if ctx.cli.subscribers > 0 {
        let subs = ctx.sessions(ctx.cli.subscribers).await?;
        let mut drains = tokio::task::JoinSet::new();
        let events = Arc::new(std::sync::atomic::AtomicU64::new(0));
        for c in &subs {
            c.subscribe(Duration::from_secs(1)).await?;
            if let Some(mut rx) = c.take_events() {
                let events = events.clone();
                drains.spawn(async move {
                    while rx.recv().await.is_some() {
                        events.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                });
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (a, e0) = (
            ctx.usage(),
            events.load(std::sync::atomic::Ordering::Relaxed),
        );
        tokio::time::sleep(Duration::from_secs_f64(ctx.cli.window)).await;
        let (b, e1) = (
            ctx.usage(),
            events.load(std::sync::atomic::Ordering::Relaxed),
        );
        let rate = (e1 - e0) as f64 / ctx.cli.window;
        print!(
            "subscribers    {} subscribed, {rate:.0} events/s",
            subs.len()
        );
        out.insert("subscribers".into(), json!(subs.len()));
        out.insert("events_per_s".into(), json!(rate));
        if let (Some(a), Some(b)) = (a, b) {
            let cpu = cpu_between(a, b);
            print!(
                "; daemon CPU {cpu:.2}% of a core, rss {:.1} MiB",
                mib(b.rss)
            );
            out.insert("subscribers_cpu_pct".into(), json!(cpu));
        }
        println!();
        drop(subs);
        drains.abort_all();
    }

    if ctx.cli.list_rate > 0.0 || ctx.cli.status_rate > 0.0 {
        let span = Duration::from_secs_f64(ctx.cli.duration);
        let a = ctx.usage();
        let began = Instant::now();
        let lists = rate_loop(&ctx, ctx.cli.list_rate, span, Op::List);
        let statuses = rate_loop(&ctx, ctx.cli.status_rate, span, Op::Status);
        let (lists, statuses) = tokio::try_join!(lists, statuses)?;
        let took = began.elapsed();
        let b = ctx.usage();
        if !lists.lat.0.is_empty() {
            out.insert("list".into(), lists.lat.report("LIST", Some(took)));
            let rows = lists.rows.max(1) as f64;
            println!(
                "               {} rows; bytes a row: text {:.1}, json {:.1}",
                lists.rows,
                lists.text_bytes as f64 / rows,
                lists.json_bytes as f64 / rows
            );
            out.insert("list_rows".into(), json!(lists.rows));
            out.insert(
                "row_bytes_text".into(),
                json!(lists.text_bytes as f64 / rows),
            );
            out.insert(
                "row_bytes_json".into(),
                json!(lists.json_bytes as f64 / rows),
            );
        }
        if !statuses.lat.0.is_empty() {
            out.insert("status".into(), statuses.lat.report("STATUS", Some(took)));
        }
        if let (Some(a), Some(b)) = (a, b) {
            let cpu = cpu_between(a, b);
            println!("               daemon CPU {cpu:.2}% of a core during the rate phase");
            out.insert("rate_cpu_pct".into(), json!(cpu));
        }
    }

    if ctx.cli.start_stop > 0 {
        let c = ctx.session().await?;
        let (mut starts, mut stops) = (Latencies::default(), Latencies::default());
        let mut killed = 0;
        let argv = vec!["sleep".to_owned(), "300".to_owned()];
        for _ in 0..ctx.cli.start_stop {
            let t = Instant::now();
            let pid = c.start(argv.clone(), None).await.context("START")?;
            starts.add(t.elapsed());
            let t = Instant::now();
            // A short grace: a lost SIGTERM would show as `killed` after it.
            let k = c
                .stop(pid, Signal::Term, Some(Duration::from_secs(3)))
                .await
                .with_context(|| format!("STOP {pid}"))?;
            stops.add(t.elapsed());
            killed += usize::from(k);
        }
        out.insert("start".into(), starts.report("START", None));
        out.insert("stop".into(), stops.report("STOP", None));
        println!(
            "               {killed} of {} STOPs needed SIGKILL (a lost SIGTERM)",
            ctx.cli.start_stop
        );
        out.insert("stop_killed".into(), json!(killed));
        if killed > 0 {
            bail!("{killed} STOPs right after START lost their SIGTERM");
        }
    }

    if let Some(u) = ctx.usage() {
        println!("daemon         rss={:.1} MiB at the end", mib(u.rss));
        out.insert("rss_end_bytes".into(), json!(u.rss));
    }
    drop(held);
    if ctx.cli.json {
        println!("{}", Value::Object(out));
    }
    Ok(())
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

#[derive(Clone, Copy)]
enum Op {
    List,
    Status,
}

#[derive(Default)]
struct RateResult {
    lat: Latencies,
    rows: u64,
    text_bytes: u64,
    json_bytes: u64,
}

/// Sends `op` at `rate` a second on one warm session for `span`.
async fn rate_loop(ctx: &Arc<Ctx>, rate: f64, span: Duration, op: Op) -> Result<RateResult> {
    let mut res = RateResult::default();
    if rate <= 0.0 {
        return Ok(res);
    }
    let c = ctx.session().await?;
    // Warm the session (and, for LIST, the sampler's interest in processes).
    warm(&c, op).await?;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let end = Instant::now() + span;
    while Instant::now() < end {
        tick.tick().await;
        let t = Instant::now();
        match op {
            Op::List => {
                let reply = c.request(vigia_shared::proto::Command::List(ListQuery::default()));
                let reply = reply.await.context("LIST")?;
                res.lat.add(t.elapsed());
                if let Reply::Processes { processes, .. } = &reply {
                    res.rows += processes.len() as u64;
                    // The daemon's own renderers: the bytes it puts on the wire per mode.
                    res.text_bytes += rendered_rows(vigia_shared::proto::text::render(&reply));
                    res.json_bytes += vigia_shared::proto::json::render_response(Some(1), Ok(reply))
                        .len() as u64
                        + 1;
                }
            }
            Op::Status => {
                c.status().await.context("STATUS")?;
                res.lat.add(t.elapsed());
            }
        }
    }
    Ok(res)
}

/// Bytes of a text-mode LIST reply on the wire, its `OK n` line included.
fn rendered_rows(text: String) -> u64 {
    text.len() as u64 + if text.ends_with('\n') { 0 } else { 1 }
}

async fn warm(c: &Client, op: Op) -> Result<()> {
    match op {
        Op::List => {
            c.list(ListQuery::default()).await?;
            // The first LIST after a quiet spell wakes a scan; let it land.
            tokio::time::sleep(Duration::from_millis(300)).await;
            c.list(ListQuery::default()).await?;
        }
        Op::Status => {
            c.status().await?;
        }
    }
    Ok(())
}
