//! Prometheus metrics: the host's figures from the sampler, the daemon's own cost, and what the
//! daemon did (sessions, logins, starts, stops, request latency). Served as `/metrics` on the
//! web port to scrapers that present the configured bearer token.

use prometheus::{
    Counter, Encoder, Gauge, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::sync::Arc;
use vigia_shared::proto::SystemStatus;

/// Everything the daemon counts.
pub struct Metrics {
    registry: Registry,
    cpu: Gauge,
    mem_used: IntGauge,
    mem_total: IntGauge,
    swap_used: IntGauge,
    load: GaugeVec,
    procs: IntGauge,
    uptime: IntGauge,
    own_cpu: Counter,
    own_rss: IntGauge,
    /// Open sessions by mode (`text`, `json`, `web`).
    pub sessions: IntGaugeVec,
    /// Logins by mode and result (`success`, `failure`).
    pub logins: IntCounterVec,
    /// Starts by result (`success`, `failure`).
    pub starts: IntCounterVec,
    /// Stops by result (`success`, `failure`).
    pub stops: IntCounterVec,
    /// Time to carry out a command, by command.
    pub latency: HistogramVec,
}

#[derive(Debug, thiserror::Error)]
#[error("metrics: {0}")]
pub struct MetricsError(#[from] prometheus::Error);

impl Metrics {
    pub fn new() -> Result<Arc<Self>, MetricsError> {
        let registry = Registry::new();
        macro_rules! reg {
            ($m:expr) => {{
                let m = $m;
                registry.register(Box::new(m.clone()))?;
                m
            }};
        }
        let m = Self {
            cpu: reg!(Gauge::new(
                "vigia_host_cpu_usage_ratio",
                "CPU use across all cores, 0 to 1"
            )?),
            mem_used: reg!(IntGauge::new(
                "vigia_host_memory_used_bytes",
                "Memory in use"
            )?),
            mem_total: reg!(IntGauge::new(
                "vigia_host_memory_total_bytes",
                "Memory installed"
            )?),
            swap_used: reg!(IntGauge::new("vigia_host_swap_used_bytes", "Swap in use")?),
            load: reg!(GaugeVec::new(
                Opts::new("vigia_host_load_average", "Load average over a period"),
                &["period"]
            )?),
            procs: reg!(IntGauge::new("vigia_host_processes", "Processes running")?),
            uptime: reg!(IntGauge::new(
                "vigia_host_uptime_seconds",
                "Time since the host booted"
            )?),
            own_cpu: reg!(Counter::new(
                "vigia_daemon_cpu_seconds_total",
                "CPU time used by vigiad, user and system"
            )?),
            own_rss: reg!(IntGauge::new(
                "vigia_daemon_resident_memory_bytes",
                "Resident memory of vigiad"
            )?),
            sessions: reg!(IntGaugeVec::new(
                Opts::new("vigia_sessions_open", "Sessions open now, by mode"),
                &["mode"]
            )?),
            logins: reg!(IntCounterVec::new(
                Opts::new("vigia_logins_total", "Login attempts, by mode and result"),
                &["mode", "result"]
            )?),
            starts: reg!(IntCounterVec::new(
                Opts::new("vigia_process_starts_total", "START requests, by result"),
                &["result"]
            )?),
            stops: reg!(IntCounterVec::new(
                Opts::new("vigia_process_stops_total", "STOP requests, by result"),
                &["result"]
            )?),
            latency: reg!(HistogramVec::new(
                HistogramOpts::new(
                    "vigia_request_duration_seconds",
                    "Time to carry out a request, by command"
                )
                .buckets(vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    10.0,
                ]),
                &["command"]
            )?),
            registry,
        };
        for mode in ["text", "json", "web"] {
            m.sessions.with_label_values(&[mode]).set(0);
            for result in ["success", "failure"] {
                m.logins.with_label_values(&[mode, result]).inc_by(0);
            }
        }
        for result in ["success", "failure"] {
            m.starts.with_label_values(&[result]).inc_by(0);
            m.stops.with_label_values(&[result]).inc_by(0);
        }
        Ok(Arc::new(m))
    }

    /// `success` or `failure`, as the result label says it.
    pub fn result(ok: bool) -> &'static str {
        if ok { "success" } else { "failure" }
    }

    /// The text exposition of every metric, with the host's figures from `status` and the
    /// daemon's own read now.
    pub fn render(&self, status: &SystemStatus) -> String {
        let s = &status.sample;
        self.cpu.set(f64::from(s.cpu) / 100.0);
        self.mem_used.set(clamp(s.mem_used));
        self.mem_total.set(clamp(s.mem_total));
        self.swap_used.set(clamp(s.swap_used));
        for (period, v) in [("1m", s.load1), ("5m", s.load5), ("15m", s.load15)] {
            self.load.with_label_values(&[period]).set(v);
        }
        self.procs.set(i64::from(s.procs));
        self.uptime.set(clamp(status.uptime));
        if let Some((cpu, rss)) = own_usage() {
            // A counter only grows: add what the kernel counted since the last scrape.
            let delta = cpu - self.own_cpu.get();
            if delta > 0.0 {
                self.own_cpu.inc_by(delta);
            }
            self.own_rss.set(clamp(rss));
        }
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "encoding metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

fn clamp(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The daemon's CPU seconds and resident bytes, from /proc/self.
fn own_usage() -> Option<(f64, u64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    let rss_pages: u64 = f.get(21)?.parse().ok()?;
    let ticks = rustix::param::clock_ticks_per_second() as f64;
    let page = rustix::param::page_size() as u64;
    Some(((utime + stime) / ticks, rss_pages * page))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn own_usage_is_read_from_proc() {
        let (cpu, rss) = own_usage().unwrap();
        assert!(cpu >= 0.0);
        assert!(rss > 1024 * 1024);
    }

    #[test]
    fn every_family_is_exposed_with_its_help_and_type() {
        let m = Metrics::new().unwrap();
        m.logins.with_label_values(&["text", "success"]).inc();
        m.latency.with_label_values(&["list"]).observe(0.002);
        let status: SystemStatus = serde_json::from_value(serde_json::json!({
            "hostname": "h", "uptime": 5, "time_ms": 0, "cpu": 50.0, "mem_used": 1,
            "mem_total": 2, "swap_used": 0, "swap_total": 0, "load1": 0.5, "load5": 0.1,
            "load15": 0.0, "procs": 7
        }))
        .unwrap();
        let text = m.render(&status);
        for needle in [
            "# TYPE vigia_host_cpu_usage_ratio gauge",
            "vigia_host_cpu_usage_ratio 0.5",
            "vigia_host_processes 7",
            "vigia_logins_total{mode=\"text\",result=\"success\"} 1",
            "# TYPE vigia_request_duration_seconds histogram",
            "vigia_request_duration_seconds_bucket{command=\"list\",le=\"0.0025\"} 1",
            "vigia_daemon_resident_memory_bytes",
            "vigia_host_load_average{period=\"1m\"} 0.5",
        ] {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }
    }
}
