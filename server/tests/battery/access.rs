//! Who gets in and what they may do: brute force, lock-out, timing, roles, the audit log.

use crate::common::{ADMIN_PW, OPER_PW, Setup, TestDaemon, TextConn, VIEW_PW, write_private};
use crate::webclient::Web;
use crate::{percentile, report, serial};
use std::time::{Duration, Instant};
use vigia_shared::proto::{AuditQuery, Command, ListQuery, Pid, StopRequest};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_lock_out_the_address_and_user_while_others_log_in_at_once() {
    let _one = serial().await;
    let d = TestDaemon::spawn().await;
    let attacker = [127, 0, 0, 20];
    let mut tries = 0;
    loop {
        let mut c = TextConn::connect_from(attacker, d.addr, &d.fingerprint)
            .await
            .unwrap();
        let r = c.cmd("LOGIN:admin:guess-number-x").await;
        assert_eq!(r, "ERR authentication failed");
        tries += 1;
        if tries == 8 {
            break;
        }
    }
    // The right password is refused now, with the same answer.
    let mut c = TextConn::connect_from(attacker, d.addr, &d.fingerprint)
        .await
        .unwrap();
    let r = c.cmd(&format!("LOGIN:admin:{ADMIN_PW}")).await;
    assert_eq!(r, "ERR authentication failed", "locked out");
    // JSON mode shares the lock-out.
    let json = d.client().await;
    assert!(json.login("admin", ADMIN_PW).await.is_err());
    // Another user from another address gets in at once.
    let began = Instant::now();
    let mut other = TextConn::connect_from([127, 0, 0, 21], d.addr, &d.fingerprint)
        .await
        .unwrap();
    let r = other.cmd(&format!("LOGIN:oper:{OPER_PW}")).await;
    assert!(r.starts_with("OK"), "{r}");
    let other_login = began.elapsed();
    assert!(other_login < Duration::from_secs(1));
    report(
        "lock-out (text, json)",
        format!(
            "{tries} wrong passwords, then the right one refused; another user from another address logged in in {:.1} ms",
            other_login.as_secs_f64() * 1e3
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_login_form_locks_out_the_same_way() {
    let _one = serial().await;
    let d = TestDaemon::spawn().await;
    let mut web = Web::new(&d);
    for _ in 0..7 {
        let r = web.try_login("oper", "not-it").await;
        assert_eq!(r.status, reqwest::StatusCode::UNAUTHORIZED);
    }
    let r = web.try_login("oper", OPER_PW).await;
    assert_eq!(r.status, reqwest::StatusCode::UNAUTHORIZED, "locked out");
    // The user is locked on every door.
    let mut t = TextConn::connect_from([127, 0, 0, 22], d.addr, &d.fingerprint)
        .await
        .unwrap();
    assert!(
        t.cmd(&format!("LOGIN:oper:{OPER_PW}"))
            .await
            .starts_with("ERR")
    );
    let began = Instant::now();
    let mut v = TextConn::connect_from([127, 0, 0, 23], d.addr, &d.fingerprint)
        .await
        .unwrap();
    assert!(t.cmd("QUIT").await.starts_with("OK"));
    assert!(
        v.cmd(&format!("LOGIN:view:{VIEW_PW}"))
            .await
            .starts_with("OK")
    );
    report(
        "lock-out (web)",
        format!(
            "7 wrong passwords on the form, then the right one refused on the web and in text mode; another user logged in in {:.1} ms",
            began.elapsed().as_secs_f64() * 1e3
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_and_an_unknown_user_take_the_same_time() {
    let _one = serial().await;
    let d = TestDaemon::spawn_with(Setup {
        tweak: Box::new(|cfg, _| cfg.lockout.free_failures = 10_000),
        ..Default::default()
    })
    .await;
    let c = d.client().await;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    // Warm up, then alternate so that drift hits both alike.
    let _ = c.login("admin", "warm-up").await;
    for i in 0..31 {
        for (user, out) in [
            ("admin", &mut known),
            (format!("ghost{i}").as_str(), &mut unknown),
        ] {
            let began = Instant::now();
            assert!(c.login(user, "wrong-password").await.is_err());
            out.push(began.elapsed());
        }
    }
    let (mk, mu) = (percentile(&mut known, 50.0), percentile(&mut unknown, 50.0));
    // The low end of each set is where other work on the machine weighs least: a check that
    // skipped or added work for one kind of login would shift it as much as the median.
    let (lk, lu) = (percentile(&mut known, 10.0), percentile(&mut unknown, 10.0));
    report(
        "login timing",
        format!(
            "median {:.2} ms for a wrong password, {:.2} ms for an unknown user ({:.2} ms apart); \
             10th percentile {:.2} ms and {:.2} ms ({:.2} ms apart)",
            mk.as_secs_f64() * 1e3,
            mu.as_secs_f64() * 1e3,
            mk.abs_diff(mu).as_secs_f64() * 1e3,
            lk.as_secs_f64() * 1e3,
            lu.as_secs_f64() * 1e3,
            lk.abs_diff(lu).as_secs_f64() * 1e3
        ),
    );
    assert!(
        lk.abs_diff(lu) < Duration::from_millis(3),
        "10th percentiles {lk:?} vs {lu:?} (medians {mk:?} vs {mu:?})"
    );
}

/// Every role tries every command, in both modes: exactly the allowed ones succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_may_do_exactly_what_it_is_allowed() {
    let _one = serial().await;
    let d = TestDaemon::spawn().await;
    let admin = d.login("admin", ADMIN_PW).await;
    let stop = |pid| {
        Command::Stop(StopRequest {
            pid,
            signal: Default::default(),
            grace_ms: None,
        })
    };
    let sleep = || vec!["sleep".to_owned(), "300".to_owned()];
    let mut checks = 0;
    // (user, password, start, stop own, stop another's, output, audit)
    for (user, pw, start, stop_own, stop_foreign, output, audit) in [
        ("view", VIEW_PW, false, false, false, false, false),
        ("oper", OPER_PW, true, true, false, true, false),
        ("admin", ADMIN_PW, true, true, true, true, true),
    ] {
        let c = d.login(user, pw).await;
        let mut check = |allowed: bool, ok: bool, what: &str| {
            assert_eq!(ok, allowed, "{user} {what}");
            checks += 1;
        };
        check(true, c.list(ListQuery::default()).await.is_ok(), "list");
        check(true, c.status().await.is_ok(), "status");
        check(
            true,
            c.request(Command::Process { pid: Pid(1) }).await.is_ok(),
            "process",
        );
        check(
            true,
            c.subscribe(Duration::from_secs(1)).await.is_ok(),
            "subscribe",
        );
        let started = c.start(sleep(), None).await;
        check(start, started.is_ok(), "start");
        // Its own process: one it started, or (for the viewer) one the admin started.
        let own = match started {
            Ok(pid) => pid,
            Err(_) => admin.start(sleep(), None).await.unwrap(),
        };
        let out = c
            .request(Command::Output {
                pid: own,
                max_bytes: None,
            })
            .await;
        check(output, out.is_ok(), "output");
        check(stop_own, c.request(stop(own)).await.is_ok(), "stop its own");
        if !stop_own {
            admin.request(stop(own)).await.unwrap();
        }
        let mut foreign = std::process::Command::new("sleep")
            .arg("300")
            .spawn()
            .unwrap();
        let r = c.request(stop(Pid(foreign.id()))).await;
        check(stop_foreign, r.is_ok(), "stop another's");
        let _ = foreign.kill();
        let _ = foreign.wait();
        check(audit, c.audit(AuditQuery::default()).await.is_ok(), "audit");
        // Text mode enforces the same rules.
        let mut t = d.text().await;
        assert!(t.cmd(&format!("LOGIN:{user}:{pw}")).await.starts_with("OK"));
        check(true, t.cmd("STATUS").await.starts_with("OK"), "text status");
        let r = t.cmd("START:sleep 300").await;
        check(start, r.starts_with("OK"), "text start");
        if let Some(pid) = r.strip_prefix("OK ").and_then(|p| p.parse::<u32>().ok()) {
            check(
                stop_own,
                t.cmd(&format!("STOP:{pid}")).await.starts_with("OK"),
                "text stop",
            );
        }
        check(audit, t.cmd("AUDIT").await.starts_with("OK"), "text audit");
    }
    report(
        "roles",
        format!(
            "{checks} checks of three roles over every command in both modes: exactly the allowed ones succeeded"
        ),
    );
}

#[test]
fn the_audit_log_survives_sigkill() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _one = rt.block_on(serial());
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    write_private(&data.join("users.json"), &crate::common::standard_users());
    let (mut child, addr, fp) = spawn_binary(&data);
    let before = rt.block_on(async {
        let mut t = TextConn::connect(addr, &fp).await;
        assert!(t.cmd("LOGIN:view:wrong").await.starts_with("ERR"));
        assert!(
            t.cmd(&format!("LOGIN:admin:{ADMIN_PW}"))
                .await
                .starts_with("OK")
        );
        let pid: u32 = t.cmd("START:sleep 300").await[3..].parse().unwrap();
        assert!(t.cmd(&format!("STOP:{pid}")).await.starts_with("OK"));
        let mut v = TextConn::connect(addr, &fp).await;
        assert!(
            v.cmd(&format!("LOGIN:view:{VIEW_PW}"))
                .await
                .starts_with("OK")
        );
        assert!(v.cmd("START:sleep 1").await.starts_with("ERR"));
        6
    });
    // SIGKILL: no chance to flush anything.
    child.kill().unwrap();
    child.wait().unwrap();
    let (mut again, addr, fp) = spawn_binary(&data);
    let events = rt.block_on(async {
        let c = vigia_shared::client::Client::connect(
            &addr.to_string(),
            "localhost",
            &vigia_shared::client::Trust::pinned(&fp),
        )
        .await
        .unwrap();
        c.login("admin", ADMIN_PW).await.unwrap();
        c.audit(AuditQuery::default()).await.unwrap()
    });
    again.kill().unwrap();
    again.wait().unwrap();
    let actions: Vec<String> = events
        .iter()
        .rev()
        .map(|e| format!("{}:{}:{}", e.user, e.action, e.ok))
        .collect();
    for want in [
        "view:login:false",
        "admin:login:true",
        "admin:start:true",
        "admin:stop:true",
        "view:login:true",
        "view:denied:false",
    ] {
        assert!(
            actions.iter().any(|a| a == want),
            "{want} not in {actions:?}"
        );
    }
    report(
        "audit log",
        format!(
            "{before} actions recorded, all {} events intact after SIGKILL and restart",
            events.len()
        ),
    );
}

/// Starts the real `vigiad` binary on a free loopback port; returns it, its address and its
/// certificate's fingerprint.
fn spawn_binary(data: &std::path::Path) -> (std::process::Child, std::net::SocketAddr, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vigiad"))
        .arg("--data-dir")
        .arg(data)
        .args(["--listen", "127.0.0.1:0", "--no-web"])
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufReader::new(stderr).lines();
    let (mut fp, mut addr) = (None, None);
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(f) = line.split("fingerprint: ").nth(1) {
            fp = Some(f.trim().to_owned());
        }
        if let Some(a) = line.split("listening for TLS connections on ").nth(1) {
            addr = a.split_whitespace().next().and_then(|a| a.parse().ok());
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    (child, addr.unwrap(), fp.unwrap())
}
