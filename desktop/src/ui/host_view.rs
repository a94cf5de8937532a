//! host_view: one host in depth: facts, large CPU (total and per core) and memory plots over
//! the last hour, then the process table.

use super::plots::{self, Series};
use super::process_table::Row;
use super::{UiState, format, host_name, note_line, state_color};
use crate::app::commands::UiCommand;
use crate::app::persist::{Persisted, View};
use crate::model::Model;
use eframe::egui;
use std::time::Instant;

pub fn ui(
    ui: &mut egui::Ui,
    state: &mut UiState,
    model: &Model,
    persisted: &Persisted,
    out: &mut Vec<UiCommand>,
) {
    let Some(id) = persisted
        .ui
        .selected
        .filter(|id| persisted.server(*id).is_some())
    else {
        ui.heading("No host selected");
        ui.label("Pick a server on the left.");
        return;
    };
    let Some(host) = model.host(id) else {
        return;
    };
    let name = host_name(persisted, id);
    ui.horizontal(|ui| {
        ui.heading(&name);
        ui.colored_label(
            state_color(ui, &host.conn),
            host.conn.describe(Instant::now()),
        );
    });
    ui.horizontal_wrapped(|ui| {
        if let Some(h) = &host.hostname {
            ui.label(format!("hostname {h}"));
        }
        if let Some(s) = &host.server {
            ui.weak(s);
        }
        if let Some(r) = host.role {
            ui.label(format!("logged in as {r}"));
        }
        if let Some(s) = host.latest() {
            ui.label(format!(
                "load {:.2} {:.2} {:.2} · {} processes",
                s.load1, s.load5, s.load15, s.procs
            ));
        }
    });
    if let Some(fp) = &host.fingerprint {
        ui.weak(format!("certificate SHA-256 {fp}"));
    }
    note_line(ui, host.note.as_ref());

    let show_cores = persisted.ui.show_cores;
    ui.columns(2, |cols| {
        let ui = &mut cols[0];
        ui.horizontal(|ui| {
            match host.latest() {
                Some(s) => ui.strong(format!("CPU {:.0} %", s.cpu)),
                None => ui.strong("CPU"),
            };
            let mut cores = show_cores;
            if ui.checkbox(&mut cores, "Per core").changed() {
                out.push(UiCommand::SetShowCores(cores));
            }
        });
        let mut lines = vec![(
            "total".to_owned(),
            plots::points(&host.history, Series::Cpu, None),
            Some(plots::CPU_COLOR),
        )];
        if show_cores {
            let n = host.latest().map_or(0, |s| s.cores.len());
            lines.extend((0..n).map(|i| {
                (
                    format!("core {i}"),
                    plots::points(&host.history, Series::Core(i), None),
                    None,
                )
            }));
        }
        plots::percent_plot(ui, "cpu", 180.0, lines);

        let ui = &mut cols[1];
        match host.latest() {
            Some(s) => ui.strong(format!(
                "Memory {} of {} · swap {} of {}",
                format::bytes(s.mem_used),
                format::bytes(s.mem_total),
                format::bytes(s.swap_used),
                format::bytes(s.swap_total)
            )),
            None => ui.strong("Memory"),
        };
        let lines = vec![(
            "memory".to_owned(),
            plots::points(&host.history, Series::Memory, None),
            Some(plots::MEM_COLOR),
        )];
        plots::percent_plot(ui, "mem", 180.0, lines);
    });

    ui.separator();
    state
        .host_table
        .filter_box(ui, "Filter", "name, user or pid");
    let rows: Vec<Row<'_>> = host
        .procs
        .iter()
        .map(|info| Row {
            host: id,
            host_name: &name,
            info,
        })
        .collect();
    // The generation of another host's list may be equal: mix the host in.
    let generation = host.procs_generation.wrapping_mul(1_000_003) ^ id.0;
    state
        .host_table
        .ui(ui, &rows, generation, false, View::Host, out);
}
