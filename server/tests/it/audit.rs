//! The audit log: every login, start, stop and refusal is recorded, from every door, and only
//! admins may read it.

use crate::common::{ADMIN_PW, OPER_PW, TestDaemon, VIEW_PW};
use crate::webclient::Web;
use reqwest::StatusCode;
use vigia_shared::proto::{AuditEvent, AuditQuery, ErrorCode};

async fn events(d: &TestDaemon) -> Vec<AuditEvent> {
    let admin = d.login("admin", ADMIN_PW).await;
    admin
        .audit(AuditQuery {
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn every_change_and_refusal_is_recorded_with_who_where_and_how() {
    let d = TestDaemon::spawn().await;

    // Text mode: a failed and a good login, a start and a stop.
    let mut t = d.text().await;
    assert!(t.cmd("LOGIN:admin:wrong").await.starts_with("ERR"));
    assert!(
        t.cmd(&format!("LOGIN:admin:{ADMIN_PW}"))
            .await
            .starts_with("OK")
    );
    let started = t.cmd("START:sleep 300").await;
    let pid: u32 = started.strip_prefix("OK ").unwrap().parse().unwrap();
    assert!(t.cmd(&format!("STOP:{pid}")).await.starts_with("OK"));
    assert!(t.cmd("STOP:1").await.starts_with("ERR"));

    // JSON mode: a viewer tries to start, and to read the log.
    let viewer = d.login("view", VIEW_PW).await;
    let err = viewer.start(vec!["sleep".into(), "5".into()], None).await;
    assert!(err.is_err());
    let err = viewer.audit(AuditQuery::default()).await.unwrap_err();
    assert!(err.to_string().contains("permission denied"), "{err}");
    // An operator may not read it either.
    let oper = d.login("oper", OPER_PW).await;
    assert!(oper.audit(AuditQuery::default()).await.is_err());

    // Web: a login and a refused stop.
    let mut web = Web::new(&d);
    web.login("oper", OPER_PW).await;
    let csrf = web.csrf.clone();
    let mut child = std::process::Command::new("sleep")
        .arg("300")
        .spawn()
        .unwrap();
    web.post(
        &format!("/processes/{}/stop", child.id()),
        &[("csrf", &csrf)],
    )
    .await;

    let ev = events(&d).await;
    let find = |mode: &str, action: &str, ok: bool| {
        ev.iter()
            .find(|e| e.mode == mode && e.action == action && e.ok == ok)
            .unwrap_or_else(|| panic!("no {mode} {action} ok={ok} in {ev:#?}"))
    };
    let failed = find("text", "login", false);
    assert_eq!(failed.user, "admin");
    assert!(failed.peer.starts_with("127.0.0.1:"));
    find("text", "login", true);
    let start = find("text", "start", true);
    assert_eq!(start.target, "sleep 300");
    assert_eq!(start.result, format!("ok: pid {pid}"));
    let stop = find("text", "stop", true);
    assert_eq!(stop.target, format!("{pid} SIGTERM"));
    let refused = find("text", "denied", false);
    assert!(refused.target.starts_with("stop 1"), "{refused:?}");
    let denied = ev
        .iter()
        .filter(|e| e.mode == "json" && e.action == "denied" && e.user == "view")
        .count();
    assert_eq!(denied, 2, "the viewer's start and audit read: {ev:#?}");
    find("web", "login", true);
    let web_denied = find("web", "denied", false);
    assert_eq!(web_denied.user, "oper");
    assert!(web_denied.target.contains(&child.id().to_string()));
    assert!(ev.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    child.kill().unwrap();
    child.wait().unwrap();

    // Text mode reads it too, one event a line.
    let reply = t.cmd("AUDIT").await;
    assert!(reply.starts_with("OK "), "{reply}");

    // The file is the admin's alone.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(d.data_dir().join("audit.db"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[tokio::test]
async fn only_admins_see_the_audit_page() {
    let d = TestDaemon::spawn().await;
    let mut admin = Web::new(&d);
    admin.login("admin", ADMIN_PW).await;
    let page = admin.get("/audit").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Audit log"));
    assert!(page.body.contains("<td>login</td>"), "{}", page.body);
    let (status, json) = admin.json("/api/audit?limit=5").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!json["events"].as_array().unwrap().is_empty());

    let mut oper = Web::new(&d);
    oper.login("oper", OPER_PW).await;
    assert!(
        !oper
            .get("/dashboard")
            .await
            .body
            .contains(r#"href="/audit""#)
    );
    assert_eq!(oper.get("/audit").await.status, StatusCode::FORBIDDEN);
    assert_eq!(oper.json("/api/audit").await.0, StatusCode::FORBIDDEN);

    // A JSON client gets the same refusal as a structured error.
    let c = d.login("view", VIEW_PW).await;
    match c.audit(AuditQuery::default()).await {
        Err(vigia_shared::client::ClientError::Server(e)) => {
            assert_eq!(e.code, ErrorCode::PermissionDenied)
        }
        other => panic!("{other:?}"),
    }
}
