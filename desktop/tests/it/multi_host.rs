//! The app with two daemons: both on the dashboard, a search across hosts, a start on the least
//! loaded host and a stop from the search results.

use crate::common::*;
use eframe::egui::accesskit::Role;
use egui_kittest::kittest::Queryable;

#[test]
fn two_hosts_dashboard_search_least_loaded_start_and_stop() {
    let world = World::new();
    let (a, b) = (world.daemon(), world.daemon());
    let mut h = world.app();
    add_and_trust(&mut h, "alpha", &a);
    add_and_trust(&mut h, "beta", &b);

    h.get_by_label("Dashboard").click();
    step_until(&mut h, "both cards with CPU and memory", |h| {
        h.query_all_by_label_contains("CPU ").count() >= 2
            && h.query_all_by_label_contains("Memory ").count() >= 2
    });

    click_button(&mut h, "Start…");
    type_into(&mut h, "Command", "sleep 301");
    h.get_by_label("On the least loaded of these hosts (CPU and memory)")
        .click();
    settle(&mut h);
    for name in ["alpha", "beta"] {
        // The choice shows each host's load next to its name.
        h.get_by(|n| {
            n.role() == Role::CheckBox
                && n.label()
                    .is_some_and(|l| l.starts_with(name) && l.contains("CPU"))
        })
        .click();
        settle(&mut h);
    }
    click_button(&mut h, "Run");
    step_until(&mut h, "the start to be reported", |h| {
        shown_containing(h, "Started pid")
    });
    let note = label_containing(&h, "Started pid");
    assert!(note.contains("least loaded of 2"), "{note}");
    let pid: u32 = note
        .split_whitespace()
        .nth(2)
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no pid in '{note}'"));
    let _cleanup = KillOnDrop(pid);

    h.get_by_label("Search").click();
    settle(&mut h);
    type_into(&mut h, "Search", &pid.to_string());
    // Both daemons run on this machine, so each lists the process: one row per host.
    step_until(&mut h, "the process on both hosts", |h| {
        h.query_all_by_label(&pid.to_string()).count() == 2
    });
    assert!(shown_containing(&h, "searching 2 connected hosts"));
    assert!(
        shown_containing(&h, "2 of "),
        "the search leaves the two rows"
    );

    h.get_all_by_role_and_label(Role::Button, "Stop…")
        .next()
        .expect("a stop button")
        .click();
    settle(&mut h);
    click_button(&mut h, "Stop process");
    step_until(&mut h, "the stop to be reported in the search view", |h| {
        shown_containing(h, &format!("Stopped pid {pid}"))
    });
    step_until(&mut h, "the process to leave both lists", |h| {
        h.query_all_by_label(&pid.to_string()).count() == 0
    });
}
