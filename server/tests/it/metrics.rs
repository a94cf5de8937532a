//! `/metrics` on the web port: off without a token file, refused without the token, and a
//! valid Prometheus exposition (checked by `promtool`) with it.

use crate::common::{ADMIN_PW, Setup, TestDaemon, require_tool, write_private};
use crate::webclient::Web;
use reqwest::StatusCode;
use std::io::Write;
use std::process::{Command, Stdio};

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// The panel's HTTPS client (pinned, resolving `localhost`) and the endpoint's address.
fn client(d: &TestDaemon) -> (reqwest::Client, String) {
    let web = Web::new(d);
    (web.http, format!("{}/metrics", web.base))
}

#[tokio::test]
async fn metrics_are_off_without_a_token_file() {
    let d = TestDaemon::spawn().await;
    let (http, url) = client(&d);
    let r = http.get(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn metrics_need_the_token_and_pass_promtool() {
    let d = TestDaemon::spawn_with(Setup {
        tweak: Box::new(|cfg, root| {
            let file = root.join("metrics.token");
            write_private(&file, &format!("{TOKEN}\n"));
            cfg.metrics_token_file = Some(file);
        }),
        ..Default::default()
    })
    .await;
    let (http, url) = client(&d);
    assert_eq!(
        http.get(&url).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let wrong = http.get(&url).bearer_auth("nope").send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    // Something to count.
    let c = d.login("admin", ADMIN_PW).await;
    let pid = c
        .start(vec!["sleep".into(), "300".into()], None)
        .await
        .unwrap();
    c.stop(pid, Default::default(), None).await.unwrap();
    let _ = d.client().await.login("admin", "wrong").await;

    let r = http.get(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let ctype = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    let body = r.text().await.unwrap();
    for needle in [
        "vigia_host_cpu_usage_ratio ",
        "vigia_host_memory_total_bytes ",
        "vigia_host_load_average{period=\"1m\"}",
        "vigia_host_processes ",
        "vigia_daemon_cpu_seconds_total ",
        "vigia_daemon_resident_memory_bytes ",
        "vigia_sessions_open{mode=\"json\"} 1",
        "vigia_logins_total{mode=\"json\",result=\"success\"} 1",
        "vigia_logins_total{mode=\"json\",result=\"failure\"} 1",
        "vigia_process_starts_total{result=\"success\"} 1",
        "vigia_process_stops_total{result=\"success\"} 1",
        "vigia_request_duration_seconds_count{command=\"start\"} 1",
    ] {
        assert!(body.contains(needle), "{needle} missing from:\n{body}");
    }

    // A scraper may use any host name: the endpoint is guarded by its token.
    let by_name = http
        .get(&url)
        .header("host", "vigia-node-17.example:7000")
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(by_name.status(), StatusCode::OK);

    if require_tool("promtool") {
        let mut p = Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        p.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
        let out = p.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "promtool: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
