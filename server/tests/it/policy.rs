//! What START may run and as whom: the allow-list, the account of started processes when the
//! daemon is root, and the environment they get.

use crate::common::{Setup, TestDaemon, alive, eventually, kill};
use std::time::Duration;

fn pid_of(reply: &str) -> u32 {
    reply
        .strip_prefix("OK ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("not a start reply: {reply}"))
}

#[tokio::test]
async fn the_allow_list_admits_only_its_programs() {
    let d = TestDaemon::spawn_with(Setup {
        tweak: Box::new(|cfg, _| cfg.allowed_programs = Some(vec!["sleep".into()])),
        ..Default::default()
    })
    .await;
    let mut t = d.text_admin().await;
    let pid = pid_of(&t.cmd("START:sleep 300").await);
    assert!(alive(pid));
    for refused in [
        "START:true",
        "START:/bin/sh -c 'sleep 300'",
        "START:./sleep 1",
    ] {
        let r = t.cmd(refused).await;
        assert!(
            r.starts_with("ERR refused:") && r.contains("not an allowed program"),
            "{r}"
        );
    }
    assert!(t.cmd(&format!("STOP:{pid}")).await.starts_with("OK"));
}

#[tokio::test]
async fn started_processes_get_only_a_safe_environment() {
    let d = TestDaemon::spawn().await;
    let mut t = d.text_admin().await;
    // Whatever the daemon's own environment holds, the child gets exactly the fixed set.
    let pid = pid_of(&t.cmd("START:sleep 300").await);
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let mut keys: Vec<String> = environ
        .split(|b| *b == 0)
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            String::from_utf8_lossy(kv)
                .split('=')
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    keys.sort();
    assert_eq!(keys, ["HOME", "LANG", "PATH"]);
    kill(pid);
}

#[tokio::test]
async fn as_root_started_processes_run_as_the_run_as_account() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("SKIPPED: needs root (the daemon changes accounts only when it is root)");
        return;
    }
    let d = TestDaemon::spawn_with(Setup {
        tweak: Box::new(|cfg, _| cfg.run_as = Some("nobody".into())),
        ..Default::default()
    })
    .await;
    let mut t = d.text_admin().await;
    let pid = pid_of(&t.cmd("START:sleep 300").await);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    let uids: Vec<&str> = uid_line.split_whitespace().skip(1).collect();
    assert!(uids.iter().all(|u| *u == "65534"), "{uid_line}");
    let groups = status.lines().find(|l| l.starts_with("Groups:")).unwrap();
    assert!(
        !groups.split_whitespace().skip(1).any(|g| g == "0"),
        "{groups}"
    );
    // The daemon still stops it.
    assert!(t.cmd(&format!("STOP:{pid}")).await.starts_with("OK"));
    assert!(eventually(Duration::from_secs(5), || !alive(pid)).await);
}
