//! The security and reliability battery: the real daemon on loopback against people who should
//! not get in, clients that misbehave, and load. Each test reports its figure on stdout and in
//! `target/battery-report.txt`; the tests run one at a time so that figures do not disturb
//! each other. See docs/security.md.
#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
#[path = "../it/common.rs"]
mod common;
#[allow(dead_code)]
#[path = "../it/webclient.rs"]
mod webclient;

mod abuse;
mod access;
mod load;
mod tls;

use std::io::Write as _;
use std::sync::LazyLock;
use std::time::Duration;

/// One battery test at a time.
static SERIAL: LazyLock<tokio::sync::Mutex<()>> = LazyLock::new(|| tokio::sync::Mutex::new(()));

async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    SERIAL.lock().await
}

/// Reports a figure of the battery: printed, and appended to the report file.
fn report(test: &str, figure: impl std::fmt::Display) {
    let line = format!("battery: {test}: {figure}");
    println!("{line}");
    // The target directory, wherever CARGO_TARGET_DIR puts it (`<target>/tmp` is cargo's).
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = tmp.parent().unwrap_or(tmp).join("battery-report.txt");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{line}");
    }
}

/// Percentile `p` (0–100) of `samples`, which it sorts.
fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p / 100.0).round() as usize;
    samples[i.min(samples.len() - 1)]
}
