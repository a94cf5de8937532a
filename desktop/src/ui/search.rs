//! search: finds processes by name, user or pid across every connected host at once, with the
//! host in a column and the same actions as the host view.

use super::note_line;
use super::process_table::{ProcessTable, Row};
use crate::app::commands::UiCommand;
use crate::app::persist::{Persisted, View};
use crate::model::{ActionNote, Model};
use eframe::egui;

#[derive(Default)]
pub struct SearchView {
    table: ProcessTable,
}

impl SearchView {
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        model: &Model,
        persisted: &Persisted,
        note: Option<&ActionNote>,
        out: &mut Vec<UiCommand>,
    ) {
        ui.heading("Processes on all hosts");
        let connected = model.connected().count();
        ui.weak(format!("searching {connected} connected hosts"));
        note_line(ui, note);
        self.table
            .filter_box(ui, "Search", "name, user or pid on every host");
        let mut generation = 0u64;
        let mut rows = Vec::new();
        for (id, host) in model.connected() {
            let name = persisted.server(id).map_or("?", |s| s.name.as_str());
            generation = generation
                .wrapping_mul(31)
                .wrapping_add(host.procs_generation ^ id.0);
            rows.extend(host.procs.iter().map(|info| Row {
                host: id,
                host_name: name,
                info,
            }));
        }
        self.table
            .ui(ui, &rows, generation, true, View::Search, out);
    }
}
