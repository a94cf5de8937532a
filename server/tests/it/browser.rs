//! The web panel in a real browser: headless Chromium driven over WebDriver (chromedriver),
//! against the real daemon over HTTPS. Without a browser these tests say so and pass, except in
//! CI (`CI=true`), where a missing browser fails the run.
//!
//! `VIGIA_SCREENSHOTS=1` also writes the screenshots shown in the README to docs/screenshots/.

use crate::common::{ADMIN_PW, TestDaemon};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A chromedriver process, killed on drop.
struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// The browser and its driver, or `None` (after saying why) when they are not installed.
fn browser() -> Option<(PathBuf, PathBuf)> {
    let chrome = find(&["chromium", "chromium-browser", "google-chrome"]);
    let driver = find(&["chromedriver"]);
    match (chrome, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        _ => {
            let msg = "browser tests need chromium and chromedriver \
                       (Debian: apt-get install chromium chromium-driver)";
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{msg}");
            }
            eprintln!("SKIPPED: {msg}");
            None
        }
    }
}

async fn start_browser() -> Option<(Driver, Client)> {
    let (chrome, driver_bin) = browser()?;
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(driver_bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let profile = tempfile::tempdir().unwrap();
    let driver = Driver {
        child,
        port,
        _profile: profile,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", driver.port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let caps = json!({
        "acceptInsecureCerts": true,
        "goog:chromeOptions": {
            "binary": chrome,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,860", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-quic", "--hide-scrollbars",
                format!("--user-data-dir={}", driver._profile.path().display()),
            ],
        },
    });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("WebDriver session");
    Some((driver, client))
}

/// Polls a JavaScript expression until it is true.
async fn wait_until(c: &Client, what: &str, expr: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = c
            .execute(&format!("return !!({expr});"), vec![])
            .await
            .unwrap_or(Value::Bool(false));
        if v == Value::Bool(true) {
            return;
        }
        if Instant::now() > deadline {
            let src = c.source().await.unwrap_or_default();
            panic!("timed out waiting for {what} ({expr}); page:\n{src}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn js(c: &Client, expr: &str) -> Value {
    c.execute(&format!("return {expr};"), vec![]).await.unwrap()
}

async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG image");
    if std::env::var_os("VIGIA_SCREENSHOTS").is_some() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, &png).unwrap();
        std::fs::rename(&tmp, dir.join(name)).unwrap();
    }
}

#[tokio::test]
async fn a_person_logs_in_watches_starts_and_stops_in_a_browser() {
    let Some((_driver, c)) = start_browser().await else {
        return;
    };
    let d = TestDaemon::spawn().await;
    let base = format!("https://localhost:{}", d.web_addr.port());

    // Log in.
    c.goto(&format!("{base}/")).await.unwrap();
    c.wait().for_element(Locator::Id("user")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/login"));
    c.find(Locator::Id("user"))
        .await
        .unwrap()
        .send_keys("admin")
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(ADMIN_PW)
        .await
        .unwrap();
    c.find(Locator::Id("login"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // The dashboard's charts draw, from history and then live.
    wait_until(
        &c,
        "the dashboard",
        "document.body.dataset.page === 'dashboard'",
    )
    .await;
    let host = c
        .find(Locator::Id("hostname"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!host.is_empty());
    wait_until(
        &c,
        "both charts drawn",
        "document.querySelectorAll('#chart-cpu canvas, #chart-mem canvas').length === 2",
    )
    .await;
    let first = js(
        &c,
        "Number(document.getElementById('chart-cpu').dataset.points || 0)",
    )
    .await;
    wait_until(
        &c,
        "a live point added",
        &format!(
            "Number(document.getElementById('chart-cpu').dataset.points || 0) > {}",
            first.as_u64().unwrap_or(0).max(1)
        ),
    )
    .await;
    if std::env::var_os("VIGIA_SCREENSHOTS").is_some() {
        // Let the charts gather a few more points for the picture.
        tokio::time::sleep(Duration::from_secs(8)).await;
    }
    screenshot(&c, "web-dashboard.png").await;

    // Start `sleep 300`.
    c.find(Locator::LinkText("Start"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let cmd = c.wait().for_element(Locator::Id("command")).await.unwrap();
    cmd.send_keys("sleep 300").await.unwrap();
    c.find(Locator::Id("start"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let pid_el = c.wait().for_element(Locator::Id("out-pid")).await.unwrap();
    let pid: u32 = pid_el.text().await.unwrap().parse().unwrap();
    let flash = c
        .find(Locator::Id("flash"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(flash, format!("started process {pid}"));

    // See it in the live table, filtered as one types.
    c.find(Locator::LinkText("Processes"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_until(
        &c,
        "the live table",
        "document.getElementById('procs').dataset.live === '1'",
    )
    .await;
    screenshot(&c, "web-processes.png").await;
    let all_rows = js(&c, "document.querySelectorAll('#procs tbody tr').length").await;
    c.find(Locator::Id("filter"))
        .await
        .unwrap()
        .send_keys("sleep")
        .await
        .unwrap();
    let row = format!("#procs tbody tr[data-pid='{pid}']");
    wait_until(
        &c,
        "the started process listed",
        &format!("document.querySelector(\"{row}\")"),
    )
    .await;
    let names = js(
        &c,
        "Array.from(document.querySelectorAll('#procs tbody td.name, #procs tbody td:nth-child(2)')).map(e => e.textContent)",
    )
    .await;
    let filtered = js(&c, "document.querySelectorAll('#procs tbody tr').length").await;
    assert!(
        filtered.as_u64() < all_rows.as_u64(),
        "the filter narrowed the table"
    );
    for pair in names.as_array().unwrap().chunks(2) {
        let text = format!("{} {}", pair[0], pair.get(1).unwrap_or(&Value::Null));
        assert!(text.to_lowercase().contains("sleep"), "{text}");
    }

    // Sorting by a column header reorders the rows.
    c.find(Locator::Css("#procs th[data-key='pid'] a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_until(
        &c,
        "sorted descending by pid",
        "document.getElementById('procs').dataset.desc === 'true'",
    )
    .await;
    let pids = js(
        &c,
        "Array.from(document.querySelectorAll('#procs tbody tr')).map(r => Number(r.dataset.pid))",
    )
    .await;
    let pids: Vec<u64> = pids
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    assert!(pids.windows(2).all(|w| w[0] >= w[1]), "{pids:?}");

    // Stop it with its button, confirm, and see the result.
    // The live table replaces its rows every refresh: a row found just before a refresh is
    // stale by the click, so find it again.
    let button = format!("{row} form.stop button");
    let mut tries = 0;
    loop {
        let clicked = match c.find(Locator::Css(&button)).await {
            Ok(b) => b.click().await,
            Err(e) => Err(e),
        };
        match clicked {
            Ok(()) => break,
            Err(e) if tries < 20 => {
                tries += 1;
                eprintln!("retrying the stop button: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("cannot click the stop button: {e}"),
        }
    }
    let alert = c.get_alert_text().await.unwrap();
    assert_eq!(alert, format!("Stop process {pid}?"));
    c.accept_alert().await.unwrap();
    let flash = c.wait().for_element(Locator::Id("flash")).await.unwrap();
    assert_eq!(
        flash.text().await.unwrap(),
        format!("stopped {pid} (SIGTERM)")
    );
    // The table shows the daemon's latest scan: the row goes with the next one.
    wait_until(
        &c,
        "the stopped process gone from the table",
        &format!("document.getElementById('procs').dataset.live === '1' && !document.querySelector(\"{row}\")"),
    )
    .await;
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}/exe")).exists() || {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            stat.contains(") Z")
        }
    );

    // Log out.
    c.find(Locator::Id("logout"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Id("password")).await.unwrap();
    c.goto(&format!("{base}/processes")).await.unwrap();
    c.wait().for_element(Locator::Id("password")).await.unwrap();
    c.close().await.unwrap();
}
