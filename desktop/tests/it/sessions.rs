//! Session logic against real daemons: reconnecting after a restart, a pinned certificate that
//! changed, a first contact, a host that hangs while the app goes on working, and lists asked
//! only for the hosts whose processes are on screen.

use crate::common::*;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigia::VigiaApp;
use vigia::app::commands::UiCommand;
use vigia::app::persist::View;
use vigia::model::{ConnState, HostId};
use vigia::net::{NetCommand, NetEvent, NetEventKind, NetHandle, SessionSpec, Tuning};

fn net(world: &World) -> NetHandle {
    NetHandle::new(
        world.rt.handle().clone(),
        world.secrets.clone(),
        Tuning::fast(),
        Arc::new(|_| {}),
    )
}

fn spec(d: &TestDaemon, pinned: Option<&str>) -> SessionSpec {
    SessionSpec {
        host: HostId(1),
        addr: d.addr.to_string(),
        server_name: d.addr.ip().to_string(),
        user: "admin".into(),
        account: "admin@test".into(),
        pinned: pinned.map(str::to_owned),
        password: Some(ADMIN_PW.into()),
        watch: true,
    }
}

/// Polls the session's events until one satisfies `want`; returns it with those before it.
fn wait_for(
    net: &mut NetHandle,
    what: &str,
    mut want: impl FnMut(&NetEvent) -> bool,
) -> Vec<NetEvent> {
    let deadline = Instant::now() + PATIENCE;
    let mut seen = Vec::new();
    loop {
        for ev in net.poll() {
            let done = want(&ev);
            seen.push(ev);
            if done {
                return seen;
            }
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; saw {seen:#?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn is_state(ev: &NetEvent, f: impl Fn(&ConnState) -> bool) -> bool {
    matches!(&ev.kind, NetEventKind::State(s) if f(s))
}

#[test]
fn session_reconnects_after_the_daemon_restarts() {
    let world = World::new();
    let mut d = world.daemon();
    let mut net = net(&world);
    net.open(spec(&d, Some(&d.fingerprint)));
    wait_for(&mut net, "connected", |e| {
        is_state(e, ConnState::is_connected)
    });
    wait_for(&mut net, "a sample", |e| {
        matches!(e.kind, NetEventKind::Sample(_))
    });

    world.rt.block_on(d.restart());
    wait_for(&mut net, "the loss to be noticed", |e| {
        is_state(e, |s| matches!(s, ConnState::Reconnecting { .. }))
    });
    wait_for(&mut net, "connected again", |e| {
        is_state(e, ConnState::is_connected)
    });
    wait_for(&mut net, "samples again", |e| {
        matches!(e.kind, NetEventKind::Sample(_))
    });
}

#[test]
fn a_changed_certificate_blocks_the_connection() {
    let world = World::new();
    let (d, other) = (world.daemon(), world.daemon());
    let mut net = net(&world);
    // The pin is another daemon's certificate: as if this server's certificate was replaced.
    net.open(spec(&d, Some(&other.fingerprint)));
    let events = wait_for(&mut net, "the block", |e| {
        is_state(e, |s| matches!(s, ConnState::CertChanged { .. }))
    });
    let Some(NetEventKind::State(ConnState::CertChanged { pinned, seen })) =
        events.last().map(|e| &e.kind)
    else {
        unreachable!()
    };
    assert_eq!(pinned, &other.fingerprint);
    assert_eq!(seen, &d.fingerprint);
    assert!(
        !events.iter().any(|e| is_state(e, ConnState::is_connected)),
        "never connected"
    );

    // Asking again does not get around it.
    assert!(net.send(HostId(1), NetCommand::RetryNow));
    let events = wait_for(&mut net, "the block again", |e| {
        is_state(e, |s| matches!(s, ConnState::CertChanged { .. }))
    });
    assert!(!events.iter().any(|e| is_state(e, ConnState::is_connected)));
}

#[test]
fn a_first_contact_waits_for_the_user_to_trust_the_certificate() {
    let world = World::new();
    let d = world.daemon();
    let mut net = net(&world);
    net.open(spec(&d, None));
    let events = wait_for(&mut net, "the question", |e| {
        is_state(e, |s| matches!(s, ConnState::Untrusted { .. }))
    });
    let Some(NetEventKind::State(ConnState::Untrusted { fingerprint })) =
        events.last().map(|e| &e.kind)
    else {
        unreachable!()
    };
    assert_eq!(fingerprint, &d.fingerprint);
    assert!(net.send(HostId(1), NetCommand::Trust(fingerprint.clone())));
    wait_for(&mut net, "connected", |e| {
        is_state(e, ConnState::is_connected)
    });
}

#[test]
fn the_app_keeps_working_while_one_host_hangs() {
    let world = World::new();
    let d = world.daemon();
    let stuck = world.rt.block_on(hanging_host());
    world.save_servers(&[
        ("stuck", stuck, Some("00:11:22")),
        ("alpha", d.addr, Some(&d.fingerprint)),
    ]);
    let mut h = world.app();
    let me = std::process::id();
    let mut slowest = Duration::ZERO;
    h.state_mut().command(UiCommand::Select(HostId(2)));
    step_until(&mut h, "alpha's processes while stuck hangs", |h| {
        h.state()
            .model()
            .host(HostId(2))
            .is_some_and(|a| a.procs.iter().any(|p| p.pid.0 == me))
    });
    // Frames stay quick with a host that never answers.
    for _ in 0..20 {
        let start = Instant::now();
        h.step();
        slowest = slowest.max(start.elapsed());
    }
    assert!(
        slowest < Duration::from_millis(500),
        "a frame took {slowest:?}"
    );
    let stuck_state = &h.state().model().host(HostId(1)).unwrap().conn;
    assert!(
        matches!(stuck_state, ConnState::Connecting { .. }),
        "{stuck_state:?}"
    );
    assert!(connected(&h, "alpha"));
    h.get_by_label("Dashboard").click();
    step_until(&mut h, "the dashboard", |h| shown(h, "All hosts"));
}

#[test]
fn processes_are_listed_only_while_on_screen() {
    let world = World::new();
    let (a, b) = (world.daemon(), world.daemon());
    world.save_servers(&[
        ("alpha", a.addr, Some(&a.fingerprint)),
        ("beta", b.addr, Some(&b.fingerprint)),
    ]);
    let mut h = world.app();
    let generation = |h: &Harness<'_, VigiaApp>, id: u64| {
        h.state()
            .model()
            .host(HostId(id))
            .map_or(0, |x| x.procs_generation)
    };
    h.state_mut().command(UiCommand::ShowView(View::Dashboard));
    step_until(&mut h, "both hosts connected", |h| {
        connected(h, "alpha") && connected(h, "beta")
    });
    // The dashboard shows no process: neither daemon is asked to list (and so to rescan).
    let quiet_until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < quiet_until {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!((generation(&h, 1), generation(&h, 2)), (0, 0));

    // beta's table: beta alone is listed, again and again.
    h.state_mut().command(UiCommand::Select(HostId(2)));
    step_until(&mut h, "beta listed twice", |h| generation(h, 2) >= 2);
    assert_eq!(generation(&h, 1), 0);

    // Back to the dashboard: the listing stops.
    h.state_mut().command(UiCommand::ShowView(View::Dashboard));
    settle(&mut h);
    let before = generation(&h, 2);
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(generation(&h, 2) <= before + 1, "beta still listed");

    // The search covers every host: both are listed.
    h.state_mut().command(UiCommand::ShowView(View::Search));
    step_until(&mut h, "both listed for the search", |h| {
        generation(h, 1) >= 1 && generation(h, 2) > before + 1
    });
}
