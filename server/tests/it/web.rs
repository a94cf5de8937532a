//! The web panel, request by request, against the real daemon over real HTTPS: logins, every
//! page as each role, start and stop, CSRF and origin checks, expiry, headers, escaping.

use crate::common::{ADMIN_PW, OPER_PW, Setup, TestDaemon, VIEW_PW};
use crate::webclient::{Page, Web, hidden_csrf};
use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;
use std::time::Duration;

fn pid_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

#[tokio::test]
async fn login_succeeds_and_failures_answer_alike() {
    let d = TestDaemon::spawn().await;
    let mut web = Web::new(&d);

    let root = web.get("/").await;
    assert_eq!(root.status, StatusCode::SEE_OTHER);
    let dash = web.get("/dashboard").await;
    assert_eq!(dash.location(), "/login", "no session: to the login page");

    let wrong = web.try_login("admin", "not-the-password").await;
    let unknown = web.try_login("nobody-here", "not-the-password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("authentication failed"));
    let same = |p: &Page, user: &str| {
        let token = hidden_csrf(&p.body).unwrap();
        p.body.replace(&token, "TOKEN").replace(user, "USER")
    };
    assert_eq!(
        same(&wrong, "admin"),
        same(&unknown, "nobody-here"),
        "a wrong password and an unknown user get the same page"
    );

    let ok = web.try_login("admin", ADMIN_PW).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let cookie = ok
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("__Host-vigia_session="))
        .expect("session cookie");
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    let id = cookie.split(['=', ';']).nth(1).unwrap();
    assert!(id.len() >= 32, "at least 128 random bits");
    let dash = web.get("/dashboard").await;
    assert_eq!(dash.status, StatusCode::OK);
    assert!(dash.body.contains(r#"id="chart-cpu""#));

    // A second login makes a new session id.
    let mut again = Web::new(&d);
    again.login("admin", ADMIN_PW).await;
    assert_ne!(
        again.cookies.get("__Host-vigia_session"),
        web.cookies.get("__Host-vigia_session")
    );
}

#[tokio::test]
async fn each_role_sees_what_it_may_do_and_the_server_refuses_the_rest() {
    let d = TestDaemon::spawn().await;
    let mut admin = Web::new(&d);
    admin.login("admin", ADMIN_PW).await;
    let mut oper = Web::new(&d);
    oper.login("oper", OPER_PW).await;
    let mut view = Web::new(&d);
    view.login("view", VIEW_PW).await;

    for (w, buttons) in [(&mut admin, true), (&mut oper, true), (&mut view, false)] {
        for page in ["/dashboard", "/processes", "/processes/1"] {
            let p = w.get(page).await;
            assert_eq!(p.status, StatusCode::OK, "{page}");
        }
        let procs = w.get("/processes").await;
        assert_eq!(procs.body.contains(">Stop</button>"), buttons);
        let start = w.get("/start").await;
        let expected = if buttons {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(start.status, expected);
        assert_eq!(procs.body.contains(r#"href="/start""#), buttons);
        let (status, list) = w.json("/api/processes").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list["can_act"], buttons);
        assert!(list["processes"].as_array().unwrap().len() > 1);
        let (status, st) = w.json("/api/status").await;
        assert_eq!(status, StatusCode::OK);
        assert!(st["mem_total"].as_u64().unwrap() > 0);
        let (status, h) = w.json("/api/history").await;
        assert_eq!(status, StatusCode::OK);
        assert!(!h["time"].as_array().unwrap().is_empty());
    }

    // The viewer's requests are refused by the server, buttons or not.
    let csrf = view.csrf.clone();
    let start = view
        .post("/start", &[("csrf", &csrf), ("command", "sleep 300")])
        .await;
    assert_eq!(start.status, StatusCode::BAD_REQUEST);
    assert!(start.body.contains("permission denied"), "{}", start.body);
    let api = view
        .post_json(
            "/api/start",
            serde_json::json!({"command": "sleep 300"}),
            &csrf,
        )
        .await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);
    assert!(api.body.contains("permission_denied"));

    // An operator may not stop what it did not start.
    let mut child = std::process::Command::new("sleep")
        .arg("300")
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let csrf = oper.csrf.clone();
    let r = oper
        .post(&format!("/processes/{pid}/stop"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.location(), "/processes");
    let page = oper.get("/processes").await;
    assert!(
        page.body
            .contains(&format!("could not stop {pid}: permission denied")),
        "{}",
        page.body
    );
    assert!(pid_alive(child.id()));
    let csrf = view.csrf.clone();
    let r = view
        .post_json(
            &format!("/api/processes/{pid}/stop"),
            serde_json::json!({}),
            &csrf,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(pid_alive(child.id()));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn start_shows_the_output_and_stop_ends_the_process() {
    let d = TestDaemon::spawn().await;
    let mut web = Web::new(&d);
    web.login("admin", ADMIN_PW).await;
    let csrf = web.csrf.clone();

    let r = web
        .post(
            "/start",
            &[
                ("csrf", &csrf),
                ("command", "sh -c 'echo hello-from-web; sleep 300'"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let loc = r.location().to_owned();
    let pid: u32 = loc
        .strip_prefix("/processes/")
        .and_then(|s| s.strip_suffix("/output"))
        .unwrap()
        .parse()
        .unwrap();
    assert!(pid_alive(pid));
    let mut out = web.get(&loc).await;
    assert!(out.body.contains(&format!("started process {pid}")));
    for _ in 0..100 {
        if out.body.contains("hello-from-web") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        out = web.get(&loc).await;
    }
    assert!(out.body.contains("hello-from-web"), "{}", out.body);
    let (_, o) = web.json(&format!("/api/processes/{pid}/output")).await;
    assert!(o["data"].as_str().unwrap().contains("hello-from-web"));

    // Details: the command line on demand, never the environment.
    let detail = web.get(&format!("/processes/{pid}")).await;
    assert!(detail.body.contains("echo hello-from-web; sleep 300"));
    assert!(!detail.body.contains("PATH="));
    let (_, dj) = web.json(&format!("/api/processes/{pid}")).await;
    assert_eq!(dj["started_by_vigia"], true);

    // The shell syntax is not a shell: no redirection happens.
    let bad = web
        .post("/start", &[("csrf", &csrf), ("command", "echo 'unclosed")])
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains(r#"role="alert""#));

    let r = web
        .post(&format!("/processes/{pid}/stop"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.location(), "/processes");
    let page = web.get("/processes").await;
    assert!(
        page.body.contains(&format!("stopped {pid} (SIGTERM)")),
        "{}",
        page.body
    );
    assert!(!pid_alive(pid));

    // The API does the same with a JSON body and the token in a header.
    let r = web
        .post_json(
            "/api/start",
            serde_json::json!({"argv": ["sleep", "300"]}),
            &csrf,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let pid = serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["pid"]
        .as_u64()
        .unwrap();
    let r = web
        .post_json(
            &format!("/api/processes/{pid}/stop"),
            serde_json::json!({"signal": "TERM"}),
            &csrf,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(!pid_alive(pid as u32));
    let r = web
        .post_json("/api/processes/1/stop", serde_json::json!({}), &csrf)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
}

#[tokio::test]
async fn forged_requests_are_refused() {
    let d = TestDaemon::spawn().await;
    let mut web = Web::new(&d);
    web.login("admin", ADMIN_PW).await;
    let csrf = web.csrf.clone();
    let start = [("csrf", csrf.as_str()), ("command", "sleep 301")];

    let wrong = web
        .post(
            "/start",
            &[("csrf", "0".repeat(64).as_str()), ("command", "sleep 301")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let missing = web.post("/start", &[("command", "sleep 301")]).await;
    assert!(missing.status.is_client_error());
    let foreign = web
        .post_from("/start", &start, Some("https://evil.example"))
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    let cross = web
        .http
        .post(format!("{}/start", web.base))
        .header("cookie", web.cookie_header())
        .header("sec-fetch-site", "cross-site")
        .form(&start)
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let api = web
        .post_json(
            "/api/start",
            serde_json::json!({"command": "sleep 301"}),
            "",
        )
        .await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);
    let logout = web.post("/logout", &[("csrf", "nope")]).await;
    assert_eq!(logout.status, StatusCode::FORBIDDEN);

    // GET changes nothing.
    let get = web.get("/logout").await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(web.get("/dashboard").await.status, StatusCode::OK);

    // The login form needs its token too.
    let mut anon = Web::new(&d);
    let r = anon
        .post(
            "/login",
            &[("user", "admin"), ("password", ADMIN_PW), ("csrf", "x")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!anon.cookies.keys().any(|k| k.contains("session")));

    let snap = d.login("admin", ADMIN_PW).await;
    let (_, rows) = snap
        .list(vigia_shared::proto::ListQuery::default())
        .await
        .unwrap();
    assert!(
        !rows.iter().any(|p| p.name == "sleep" && p.user.is_empty()),
        "nothing was started"
    );
}

#[tokio::test]
async fn logout_and_inactivity_end_sessions_on_the_server() {
    let d = TestDaemon::spawn_with(Setup {
        tweak: Box::new(|cfg, _| cfg.web.session_timeout = Duration::from_millis(600)),
        ..Default::default()
    })
    .await;
    let mut web = Web::new(&d);
    web.login("admin", ADMIN_PW).await;
    let stolen = web.cookies.clone();
    let csrf = web.csrf.clone();
    let out = web.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.location(), "/login");
    assert!(!web.cookies.contains_key("__Host-vigia_session"));
    // The old cookie is worth nothing now.
    web.cookies = stolen;
    assert_eq!(web.get("/dashboard").await.location(), "/login");
    assert_eq!(web.json("/api/status").await.0, StatusCode::UNAUTHORIZED);

    let mut idle = Web::new(&d);
    idle.login("admin", ADMIN_PW).await;
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(idle.get("/dashboard").await.location(), "/login");
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_foreign_hosts_are_refused() {
    let d = TestDaemon::spawn().await;
    let mut web = Web::new(&d);
    let mut pages = vec![
        web.get("/login").await,
        web.get("/no-such-page").await,
        web.get("/static/app.js").await,
    ];
    web.login("admin", ADMIN_PW).await;
    pages.push(web.get("/processes").await);
    pages.push(web.get("/api/processes").await);
    for p in &pages {
        let h = |n: &str| p.headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
        let csp = h("content-security-policy");
        for part in [
            "default-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(part), "{csp}");
        }
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(h("x-frame-options"), "DENY");
        assert_eq!(h("x-content-type-options"), "nosniff");
        assert_eq!(h("referrer-policy"), "same-origin");
        assert!(h("strict-transport-security").contains("max-age="));
        assert!(
            !p.headers
                .keys()
                .any(|k| k.as_str().starts_with("access-control-")),
            "no CORS headers"
        );
    }
    assert_eq!(pages[1].status, StatusCode::NOT_FOUND);
    // No inline script anywhere: every script is a file of the panel.
    assert!(!pages[3].body.contains("<script>"));

    let rebound = web.get_with("/login", ("host", "evil.example:7000")).await;
    assert_eq!(rebound.status, StatusCode::MISDIRECTED_REQUEST);
    let by_ip = web
        .get_with(
            "/login",
            ("host", &format!("127.0.0.1:{}", d.web_addr.port())),
        )
        .await;
    assert_eq!(by_ip.status, StatusCode::OK);
}

#[tokio::test]
async fn process_names_are_shown_as_text_never_as_html() {
    let d = TestDaemon::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let evil = dir.path().join("<script>alert(1)");
    std::fs::copy("/bin/sleep", &evil).unwrap();
    let mut child = std::process::Command::new(&evil)
        .arg("300")
        .spawn()
        .unwrap();
    let pid = child.id();

    let mut web = Web::new(&d);
    web.login("admin", ADMIN_PW).await;
    let mut page = web.get("/processes?q=alert").await;
    for _ in 0..100 {
        if page.body.contains(&format!("data-pid=\"{pid}\"")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        page = web.get("/processes?q=alert").await;
    }
    assert!(
        page.body.contains("&#60;script&#62;alert(1")
            || page.body.contains("&lt;script&gt;alert(1"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>alert"));
    let detail = web.get(&format!("/processes/{pid}")).await;
    assert!(!detail.body.contains("<script>alert"));
    assert!(detail.body.contains("alert(1)"));
    let (_, list) = web.json("/api/processes?q=alert").await;
    assert!(
        list["processes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"].as_str().unwrap().starts_with("<script>alert(1"))
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn failed_web_logins_share_the_lock_out() {
    let d = TestDaemon::spawn().await;
    let mut web = Web::new(&d);
    for _ in 0..6 {
        let r = web.try_login("admin", "wrong-password").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let locked = web.try_login("admin", ADMIN_PW).await;
    assert_eq!(
        locked.status,
        StatusCode::UNAUTHORIZED,
        "locked out, same answer"
    );
    assert!(locked.body.contains("authentication failed"));
    // The text protocol shares the lock-out of the user name.
    let mut t = d.text().await;
    let r = t.cmd(&format!("LOGIN:admin:{ADMIN_PW}")).await;
    assert!(r.starts_with("ERR"), "{r}");
    // Another user from another address is not slowed.
    let mut t2 = crate::common::TextConn::connect_from([127, 0, 0, 9], d.addr, &d.fingerprint)
        .await
        .unwrap();
    let r = t2.cmd(&format!("LOGIN:view:{VIEW_PW}")).await;
    assert!(r.starts_with("OK"), "{r}");
}

/// A TLS handshake with the web panel from `source`: whether the panel took the connection.
async fn web_handshake(d: &TestDaemon, source: [u8; 4]) -> bool {
    let Ok(tcp) = crate::common::tcp_from(source, d.web_addr).await else {
        return false;
    };
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let connector = crate::common::tls_connector(&d.fingerprint);
    matches!(
        tokio::time::timeout(Duration::from_secs(5), connector.connect(name, tcp)).await,
        Ok(Ok(_))
    )
}

#[tokio::test]
async fn one_address_cannot_take_every_web_connection() {
    let d = TestDaemon::spawn_with(Setup {
        tweak: Box::new(|cfg, _| cfg.max_connections_per_ip = 2),
        ..Default::default()
    })
    .await;
    // Two connections that never finish their handshake hold this address's share.
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(
            crate::common::tcp_from([127, 0, 0, 1], d.web_addr)
                .await
                .unwrap(),
        );
    }
    assert!(
        !web_handshake(&d, [127, 0, 0, 1]).await,
        "a third connection from the same address is turned away"
    );
    assert!(
        web_handshake(&d, [127, 0, 0, 5]).await,
        "another address still gets in"
    );
    drop(held);
    let mut web = Web::new(&d);
    let mut served = false;
    for _ in 0..50 {
        if web_handshake(&d, [127, 0, 0, 1]).await {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        served,
        "the address's share comes back when its connections close"
    );
    assert_eq!(web.get("/login").await.status, StatusCode::OK);
}
