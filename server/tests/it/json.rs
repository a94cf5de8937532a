//! The typed protocol, through the shared client library (and raw lines where the library
//! would not send what an attacker might).

use crate::common::*;
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;
use vigia_shared::client::{Client, ClientError, Trust};
use vigia_shared::proto::{
    Command, ErrorCode, Event, ListQuery, Pid, Reply, Role, Signal, SortKey,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_login_and_every_command() {
    let d = TestDaemon::spawn().await;
    let c = d.client().await;
    assert!(c.server().starts_with("vigiad "));
    assert_eq!(c.fingerprint(), d.fingerprint);
    let err = c.list(ListQuery::default()).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NotAuthenticated));
    assert_eq!(
        c.login("admin", "nope").await.unwrap_err().code(),
        Some(ErrorCode::AuthFailed)
    );
    assert_eq!(c.login("admin", ADMIN_PW).await.unwrap(), Role::Admin);

    let status = c.status().await.unwrap();
    assert!(!status.hostname.is_empty());
    assert!(!status.sample.cores.is_empty(), "per-core CPU");
    assert!(status.sample.mem_total > 0);
    assert!(status.uptime > 0);

    let dir = d.dir.path().to_str().unwrap().to_owned();
    let pid = c
        .start(
            vec![
                "sh".into(),
                "-c".into(),
                "pwd; echo hello; exec sleep 30".into(),
            ],
            Some(dir.clone()),
        )
        .await
        .unwrap();
    let detail = match c.request(Command::Process { pid }).await.unwrap() {
        Reply::Process(p) => p,
        other => panic!("{other:?}"),
    };
    assert_eq!(detail.pid, pid);
    assert_eq!(detail.parent, Some(Pid(std::process::id())));
    assert!(detail.started_by_vigia);
    assert!(detail.start_time > 0);
    let mut output = String::new();
    for _ in 0..50 {
        if let Reply::Output { data, .. } = c
            .request(Command::Output {
                pid,
                max_bytes: None,
            })
            .await
            .unwrap()
        {
            output = data;
        }
        if output.contains("hello") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        output,
        format!("{dir}\nhello\n"),
        "output tail, run in the given directory"
    );

    let killed = c
        .stop(pid, Signal::Int, Some(Duration::from_secs(2)))
        .await
        .unwrap();
    assert!(!killed);
    assert!(!alive(pid.0));
    let err = c.stop(pid, Signal::Term, None).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NoSuchProcess));
    c.quit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_sorts_filters_and_limits() {
    let d = TestDaemon::spawn().await;
    let c = d.login("admin", ADMIN_PW).await;
    let (total, all) = c.list(ListQuery::default()).await.unwrap();
    assert_eq!(total as usize, all.len());
    assert!(
        all.windows(2).all(|w| w[0].pid < w[1].pid),
        "pid order by default"
    );

    let q = ListQuery {
        sort: SortKey::Mem,
        desc: true,
        filter: None,
        limit: Some(5),
    };
    let (total, top) = c.list(q).await.unwrap();
    assert_eq!(top.len(), 5.min(total as usize));
    assert!(top.windows(2).all(|w| w[0].mem >= w[1].mem));

    let me = all.iter().find(|p| p.pid.0 == std::process::id()).unwrap();
    let needle = me.name.to_uppercase();
    let q = ListQuery {
        filter: Some(needle),
        ..Default::default()
    };
    let (_, hits) = c.list(q).await.unwrap();
    assert!(
        hits.iter().any(|p| p.pid == me.pid),
        "case-insensitive filter"
    );
    assert!(
        hits.iter()
            .all(|p| p.name.to_lowercase().contains(&me.name.to_lowercase())
                || p.user.to_lowercase().contains(&me.name.to_lowercase()))
    );

    let q = ListQuery {
        filter: Some("x".repeat(300)),
        ..Default::default()
    };
    assert_eq!(
        c.list(q).await.unwrap_err().code(),
        Some(ErrorCode::LimitExceeded)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_gives_history_then_pushes_samples() {
    let d = TestDaemon::spawn().await;
    let c = d.login("view", VIEW_PW).await;
    let mut events = c.take_events().unwrap();
    let err = c.subscribe(Duration::from_millis(10)).await.unwrap_err();
    assert_eq!(
        err.code(),
        Some(ErrorCode::LimitExceeded),
        "interval has a floor"
    );
    let history = c.subscribe(Duration::from_millis(250)).await.unwrap();
    assert!(!history.is_empty(), "a new subscriber gets history at once");
    assert!(
        history.windows(2).all(|w| w[0].time_ms <= w[1].time_ms),
        "oldest first"
    );
    let mut got = 0;
    let start = Instant::now();
    while got < 3 {
        let Event::Status(s) = tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(s.mem_total > 0);
        got += 1;
    }
    assert!(
        start.elapsed() >= Duration::from_millis(500),
        "paced by the interval"
    );
    assert_eq!(
        c.request(Command::Unsubscribe).await.unwrap(),
        Reply::Unsubscribed
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    while events.try_recv().is_ok() {}
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(events.try_recv().is_err(), "no events after unsubscribe");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_overlap_a_slow_stop_does_not_block_a_list() {
    let d = TestDaemon::spawn().await;
    let c = d.login("admin", ADMIN_PW).await;
    let pid = c
        .start(
            vec![
                "sh".into(),
                "-c".into(),
                "trap '' TERM; while :; do sleep 1; done".into(),
            ],
            None,
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stop = c.stop(pid, Signal::Term, Some(Duration::from_millis(1500)));
    let list = async {
        let t = Instant::now();
        c.list(ListQuery::default()).await.unwrap();
        t.elapsed()
    };
    let (killed, list_took) = tokio::join!(stop, list);
    assert!(killed.unwrap(), "escalated to SIGKILL");
    assert!(
        list_took < Duration::from_millis(1500),
        "LIST waited for STOP: {list_took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_structured_errors_and_the_session_goes_on() {
    let d = TestDaemon::spawn().await;
    let mut t = d.text().await;
    let mut ask = async |line: &str| -> serde_json::Value {
        t.send(line).await;
        let mut s = String::new();
        t.stream.read_line(&mut s).await.unwrap();
        serde_json::from_str(&s).unwrap()
    };
    let r = ask(r#"{"id":1,"cmd":"hello","version":99}"#).await;
    assert_eq!(r["error"]["code"], "unsupported_version");
    let r = ask(r#"{"id":2,"cmd":"hello","version":1}"#).await;
    assert_eq!(r["result"]["type"], "hello");
    let r = ask(r#"{"id":3,"cmd":"list"}"#).await;
    assert_eq!(r["id"], 3);
    assert_eq!(r["error"]["code"], "not_authenticated");
    let r = ask(r#"{"id":4,"cmd":"dance"}"#).await;
    assert_eq!(r["error"]["code"], "unknown_command");
    let r = ask(r#"{"id":5,"cmd":"stop","pid":"x"}"#).await;
    assert_eq!(
        (r["id"].clone(), r["error"]["code"].clone()),
        (5.into(), "bad_request".into())
    );
    let r = ask("{not json").await;
    assert!(r["id"].is_null());
    assert_eq!(r["error"]["code"], "bad_request");
    let deep = format!("{{\"id\":6,\"x\":{}{}}}", "[".repeat(64), "]".repeat(64));
    assert_eq!(ask(&deep).await["error"]["code"], "limit_exceeded");
    let login = format!(r#"{{"id":7,"cmd":"login","user":"admin","password":"{ADMIN_PW}"}}"#);
    let r = ask(&login).await;
    assert_eq!(r["result"]["type"], "logged_in");
    assert_eq!(r["result"]["role"], "admin");
    let r = ask(r#"{"id":8,"cmd":"start","argv":[]}"#).await;
    assert_eq!(r["error"]["code"], "bad_request");
    let r = ask(r#"{"id":9,"cmd":"stop","pid":1}"#).await;
    assert_eq!(r["error"]["code"], "refused");
    let r = ask(r#"{"id":10,"cmd":"stop","pid":12345678,"grace_ms":999999}"#).await;
    assert_eq!(r["error"]["code"], "limit_exceeded");
    let r = ask(r#"{"id":11,"cmd":"status"}"#).await;
    assert_eq!(r["result"]["type"], "status");
    assert!(r["result"]["load1"].is_number());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_refuses_a_server_whose_certificate_is_not_pinned() {
    let d = TestDaemon::spawn().await;
    let wrong = "00".repeat(32);
    let err = Client::connect(
        &d.addr.to_string(),
        "localhost",
        &Trust::pinned(wrong.clone()),
    )
    .await
    .err()
    .expect("refused");
    match err {
        ClientError::Untrusted {
            fingerprint,
            pinned,
        } => {
            assert_eq!(
                fingerprint, d.fingerprint,
                "the error shows what the server presented"
            );
            assert_eq!(pinned, Some(wrong));
        }
        other => panic!("expected Untrusted, got {other}"),
    }
    // Pins compare without colons or case.
    let plain = d.fingerprint.replace(':', "").to_lowercase();
    Client::connect(&d.addr.to_string(), "localhost", &Trust::pinned(plain))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_read_only_their_own_output() {
    let d = TestDaemon::spawn().await;
    let admin = d.login("admin", ADMIN_PW).await;
    let oper = d.login("oper", OPER_PW).await;
    let pid = admin
        .start(vec!["sleep".into(), "30".into()], None)
        .await
        .unwrap();
    let err = oper
        .request(Command::Output {
            pid,
            max_bytes: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::PermissionDenied));
    let err = oper.stop(pid, Signal::Term, None).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::PermissionDenied));
    admin.stop(pid, Signal::Kill, None).await.unwrap();
}
