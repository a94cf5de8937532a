//! Single panels fed hand-built data: fast, no network.

use eframe::egui;
use eframe::egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use vigia::app::persist::View;
use vigia::model::HostId;
use vigia::ui::process_table::{ProcessTable, Row};
use vigia_shared::Pid;
use vigia_shared::proto::ProcessInfo;

fn procs(n: u32) -> Vec<ProcessInfo> {
    (1..=n)
        .map(|i| ProcessInfo {
            pid: Pid(i),
            user: if i % 2 == 0 { "alice" } else { "bob" }.into(),
            cpu: (i % 97) as f32,
            mem: u64::from(i) * 4096,
            name: format!("proc{i}"),
        })
        .collect()
}

#[test]
fn the_process_table_lays_out_only_the_visible_rows_of_thousands() {
    let procs = procs(5000);
    let mut h = Harness::builder()
        .with_size(egui::vec2(900.0, 600.0))
        .build_ui_state(
            |ui, table: &mut ProcessTable| {
                let rows: Vec<Row<'_>> = procs
                    .iter()
                    .map(|info| Row {
                        host: HostId(1),
                        host_name: "db1",
                        info,
                    })
                    .collect();
                let mut out = Vec::new();
                table.ui(ui, &rows, 1, false, View::Host, &mut out);
            },
            ProcessTable::default(),
        );
    h.run();
    assert!(h.query_by_label("5000 of 5000 processes").is_some());
    let laid_out = h.query_all_by_label("Stop…").count();
    assert!(
        (5..100).contains(&laid_out),
        "{laid_out} rows laid out of 5000"
    );
    // Sorted by CPU, busiest first (ties: higher pid first).
    let busiest = (1..=5000u32).filter(|i| i % 97 == 96).max().unwrap();
    assert!(h.query_by_label(&format!("proc{busiest}")).is_some());

    h.get_by_role_and_label(Role::Button, "Name").click();
    h.run();
    assert!(h.query_by_label("proc1").is_some(), "sorted by name");

    h.state_mut().filter = "4999".into();
    h.run();
    assert!(h.query_by_label("1 of 5000 processes").is_some());
    assert!(h.query_by_label("proc4999").is_some());
}
