//! Load: idle connections by the thousand, connections that never handshake, and a login
//! flood beside a working session.

use crate::common::{ADMIN_PW, Setup, TestDaemon, TextConn};
use crate::{percentile, report, serial};
use futures_util::future::join_all;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_idle_tls_connections_do_not_slow_a_new_client() {
    let _one = serial().await;
    let d = TestDaemon::spawn().await;
    let began = Instant::now();
    let mut idle = Vec::with_capacity(1000);
    // 20 client addresses of 50 connections each (the per-address cap is 128).
    for batch in 0..20u8 {
        let conns = join_all(
            (0..50)
                .map(|_| TextConn::connect_from([127, 0, 1, 10 + batch], d.addr, &d.fingerprint)),
        )
        .await;
        for c in conns {
            idle.push(c.expect("an idle connection completes TLS"));
        }
    }
    let opened = began.elapsed();
    let began = Instant::now();
    let mut t = TextConn::connect_from([127, 0, 2, 1], d.addr, &d.fingerprint)
        .await
        .unwrap();
    let handshake = began.elapsed();
    assert!(
        t.cmd(&format!("LOGIN:admin:{ADMIN_PW}"))
            .await
            .starts_with("OK")
    );
    let login = began.elapsed() - handshake;
    let rows = t.list().await.len();
    let took = began.elapsed();
    report(
        "1,000 idle TLS connections",
        format!(
            "opened in {:.1} s; beside them a new client connected, logged in and listed {rows} processes in {:.1} ms (handshake {:.1} ms, login {:.1} ms)",
            opened.as_secs_f64(),
            took.as_secs_f64() * 1e3,
            handshake.as_secs_f64() * 1e3,
            login.as_secs_f64() * 1e3
        ),
    );
    assert!(took < Duration::from_secs(1));
    assert_eq!(idle.len(), 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_never_handshake_are_closed_by_the_timeout() {
    let _one = serial().await;
    let d = TestDaemon::spawn_with(Setup {
        tweak: Box::new(|cfg, _| cfg.handshake_timeout = Duration::from_secs(2)),
        ..Default::default()
    })
    .await;
    let mut silent = Vec::new();
    for i in 0..200u32 {
        let src = [127, 0, 3, 10 + (i / 100) as u8];
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.bind((std::net::Ipv4Addr::from(src), 0).into())
            .unwrap();
        silent.push(sock.connect(d.addr).await.unwrap());
    }
    // The daemon answers normally throughout.
    let mut latencies = Vec::new();
    let began = Instant::now();
    let mut t = d.text_admin().await;
    while began.elapsed() < Duration::from_millis(2500) {
        let q = Instant::now();
        assert!(t.cmd("STATUS").await.starts_with("OK"));
        latencies.push(q.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Every silent connection was closed by the daemon.
    let closed = join_all(silent.iter_mut().map(|s| async move {
        let mut buf = [0u8; 16];
        matches!(
            tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }))
    .await;
    let n = closed.iter().filter(|c| **c).count();
    let p99 = percentile(&mut latencies, 99.0);
    report(
        "200 silent TCP connections",
        format!(
            "{n} of 200 closed by the 2 s handshake timeout; STATUS p99 {:.1} ms meanwhile",
            p99.as_secs_f64() * 1e3
        ),
    );
    assert_eq!(n, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_does_not_stall_a_working_session() {
    let _one = serial().await;
    let d = TestDaemon::spawn_with(Setup {
        tweak: Box::new(|cfg, _| cfg.lockout.free_failures = 10_000),
        ..Default::default()
    })
    .await;
    let mut t = d.text_admin().await;
    let flood = {
        let (addr, fp) = (d.addr, d.fingerprint.clone());
        tokio::spawn(async move {
            let began = Instant::now();
            join_all((0..60u8).map(|i| {
                let fp = fp.clone();
                async move {
                    let mut c = TextConn::connect_from([127, 0, 4, 10 + i], addr, &fp)
                        .await
                        .unwrap();
                    let pw = if i % 2 == 0 { ADMIN_PW } else { "wrong" };
                    c.cmd(&format!("LOGIN:admin:{pw}")).await
                }
            }))
            .await;
            began.elapsed()
        })
    };
    let mut latencies = Vec::new();
    while !flood.is_finished() {
        let q = Instant::now();
        assert!(t.cmd("STATUS").await.starts_with("OK"));
        latencies.push(q.elapsed());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let flood_took = flood.await.unwrap();
    let p99 = percentile(&mut latencies, 99.0);
    let p50 = percentile(&mut latencies, 50.0);
    report(
        "60 parallel logins",
        format!(
            "took {:.2} s; meanwhile {} STATUS requests: p50 {:.2} ms, p99 {:.2} ms",
            flood_took.as_secs_f64(),
            latencies.len(),
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        ),
    );
    assert!(p99 < Duration::from_millis(100), "p99 {p99:?}");
}
