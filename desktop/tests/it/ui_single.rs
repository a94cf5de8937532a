//! The app against one daemon, driven as a user: add a server, trust it, see its processes,
//! filter, start and stop a process, a wrong password, a refused action, and a restart of the app.

use crate::common::*;
use egui_kittest::kittest::Queryable;
use std::time::{Duration, Instant};
use vigia_shared::proto::ListQuery;

/// Whether the daemon still lists `pid`, waiting up to ten seconds for it to go.
fn gone_from_daemon(world: &World, d: &TestDaemon, pid: u32) -> bool {
    world.rt.block_on(async {
        let c = d.admin().await;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (_, rows) = c.list(ListQuery::default()).await.expect("list");
            if rows.iter().all(|p| p.pid.0 != pid) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
}

fn pid_in(text: &str) -> u32 {
    text.split_whitespace()
        .skip_while(|w| *w != "pid")
        .nth(1)
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no pid in '{text}'"))
}

#[test]
fn add_server_trust_see_processes_filter_start_and_stop() {
    let world = World::new();
    let d = world.daemon();
    let mut h = world.app();
    add_and_trust(&mut h, "alpha", &d);

    // The daemon runs on this machine, so this test's own process is in the table.
    let me = std::process::id().to_string();
    type_into(&mut h, "Filter", &me);
    step_until(&mut h, "this test's process in the table", |h| {
        shown(h, &me)
    });
    assert!(shown_containing(&h, "1 of "), "the filter leaves one row");

    click_button(&mut h, "Start…");
    type_into(&mut h, "Command", "sleep 300");
    click_button(&mut h, "Run");
    step_until(&mut h, "the start to be reported", |h| {
        shown_containing(h, "Started pid")
    });
    let pid = pid_in(&label_containing(&h, "Started pid"));
    let _cleanup = KillOnDrop(pid);

    click_button(&mut h, "Clear");
    type_into(&mut h, "Filter", &pid.to_string());
    step_until(&mut h, "the started process in the table", |h| {
        shown(h, &pid.to_string())
    });
    assert!(shown_containing(&h, "1 of "), "the filter leaves one row");

    click_button(&mut h, "Stop…");
    assert!(
        shown_containing(&h, &format!("(pid {pid})")),
        "the dialog names the process"
    );
    click_button(&mut h, "Stop process");
    step_until(&mut h, "the stop to be reported", |h| {
        shown_containing(h, &format!("Stopped pid {pid} on alpha"))
    });
    assert!(gone_from_daemon(&world, &d, pid), "pid {pid} is gone");
    step_until(&mut h, "the stopped process to leave the table", |h| {
        !shown(h, &pid.to_string())
    });
}

#[test]
fn wrong_password_is_shown_and_the_right_one_logs_in_and_is_saved() {
    let world = World::new();
    let d = world.daemon();
    let mut h = world.app();
    add_server(&mut h, "alpha", d.addr, "admin", "not the password");
    step_until(&mut h, "the certificate dialog", |h| {
        shown(h, "Trust and connect")
    });
    click_button(&mut h, "Trust and connect");
    step_until(&mut h, "the wrong-password state", |h| {
        shown(h, "wrong password") && shown(h, "The daemon refused the password.")
    });
    assert!(!connected(&h, "alpha"));

    type_into(&mut h, "Password", ADMIN_PW);
    click_button(&mut h, "Log in");
    step_until(&mut h, "alpha connected", |h| connected(h, "alpha"));

    let account = vigia::secrets::account("admin", &d.addr.ip().to_string(), d.addr.port());
    step_until(&mut h, "the password in the store", |_| {
        use vigia::secrets::SecretStore;
        world.secrets.get(&account).ok().flatten().as_deref() == Some(ADMIN_PW)
    });
}

#[test]
fn servers_trust_and_passwords_survive_a_restart_of_the_app() {
    let world = World::new();
    let d = world.daemon();
    {
        let mut h = world.app();
        add_and_trust(&mut h, "alpha", &d);
    }
    let settings = std::fs::read_to_string(world.config_dir().settings_file()).unwrap();
    assert!(settings.contains("alpha"), "{settings}");
    assert!(
        !settings.contains(ADMIN_PW),
        "no password in the settings file"
    );

    let mut h = world.app();
    step_until(&mut h, "alpha connected after the restart", |h| {
        connected(h, "alpha")
    });
    assert!(!shown(&h, "Trust and connect"), "no new trust question");
    assert!(!shown(&h, "Log in"), "no password question");
}

#[test]
fn a_refused_action_is_explained_where_it_was_taken() {
    let world = World::new();
    let d = world.daemon();
    let pid = world.rt.block_on(async {
        let c = d.admin().await;
        c.start(vec!["sleep".into(), "300".into()], None)
            .await
            .expect("start")
            .0
    });
    let _cleanup = KillOnDrop(pid);
    let mut h = world.app();
    add_server(&mut h, "alpha", d.addr, "view", VIEW_PW);
    step_until(&mut h, "the certificate dialog", |h| {
        shown(h, "Trust and connect")
    });
    click_button(&mut h, "Trust and connect");
    step_until(&mut h, "alpha connected", |h| connected(h, "alpha"));

    type_into(&mut h, "Filter", &pid.to_string());
    step_until(&mut h, "the process in the table", |h| {
        shown(h, &pid.to_string())
    });
    click_button(&mut h, "Stop…");
    click_button(&mut h, "Stop process");
    step_until(&mut h, "the refusal", |h| {
        shown_containing(h, "Permission denied")
    });

    world.rt.block_on(async {
        let c = d.admin().await;
        c.stop(vigia_shared::Pid(pid), Default::default(), None)
            .await
            .expect("admin stops it");
    });
}

#[test]
fn a_changed_certificate_is_shown_with_both_fingerprints_and_blocks() {
    let world = World::new();
    let (d, other) = (world.daemon(), world.daemon());
    // Pinned to another daemon's certificate: as if the server's certificate was replaced.
    world.save_servers(&[("alpha", d.addr, Some(&other.fingerprint))]);
    let mut h = world.app();
    step_until(&mut h, "the warning", |h| shown(h, "Keep blocked"));
    assert!(
        shown(&h, &other.fingerprint),
        "the trusted fingerprint is shown"
    );
    assert!(
        shown(&h, &d.fingerprint),
        "the presented fingerprint is shown"
    );
    assert!(shown(&h, "certificate changed"));
    click_button(&mut h, "Keep blocked");
    assert!(!connected(&h, "alpha"));
    assert!(!shown(&h, "Keep blocked"), "the dialog is closed");

    // Replacing the pin is a deliberate act, and then the session logs in.
    click_button(&mut h, "Review certificate…");
    click_button(&mut h, "Replace the pinned certificate");
    step_until(&mut h, "alpha connected", |h| connected(h, "alpha"));
    let pinned = h.state().persisted().servers[0].pinned.clone();
    assert_eq!(pinned.as_deref(), Some(d.fingerprint.as_str()));
}

#[test]
fn without_a_credential_store_the_app_says_so_and_asks_once_per_run() {
    let world = World::without_store();
    let d = world.daemon();
    world.save_servers(&[("alpha", d.addr, Some(&d.fingerprint))]);
    let mut h = world.app();
    step_until(&mut h, "the password question", |h| {
        shown(h, "Log in") && shown_containing(h, "no credential store is available")
    });
    type_into(&mut h, "Password", ADMIN_PW);
    click_button(&mut h, "Log in");
    step_until(&mut h, "alpha connected", |h| connected(h, "alpha"));
    step_until(&mut h, "the note that the password was not saved", |h| {
        shown_containing(h, "Password for alpha not saved")
    });

    // Closing and opening the session again in the same run does not ask again.
    h.get_by_label("Keep connected").click();
    settle(&mut h);
    assert!(!connected(&h, "alpha"));
    h.get_by_label("Keep connected").click();
    settle(&mut h);
    step_until(&mut h, "alpha connected again", |h| connected(h, "alpha"));
    assert!(!shown(&h, "Log in"));
}

#[test]
fn editing_a_server_keeps_its_pin_and_password_and_reconnects() {
    let world = World::new();
    let d = world.daemon();
    let mut h = world.app();
    add_and_trust(&mut h, "alpha", &d);

    click_button(&mut h, "Edit");
    type_into(&mut h, "Name", "-db");
    click_button(&mut h, "Save");
    step_until(&mut h, "the renamed server connected", |h| {
        connected(h, "alpha-db")
    });
    assert!(!shown(&h, "Trust and connect"), "the pin is kept");
    let saved = std::fs::read_to_string(world.config_dir().settings_file()).unwrap();
    assert!(saved.contains("alpha-db"), "{saved}");
}
