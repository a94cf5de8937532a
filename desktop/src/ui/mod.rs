//! ui: the panels and dialogs. Everything here is a function of the model and of the UI's own
//! edit state; actions come back as [`UiCommand`]s, applied after the frame. Nothing here
//! touches the network or the disk.

mod dashboard;
pub mod dialogs;
pub mod format;
mod host_view;
mod hosts_panel;
mod plots;
pub mod process_table;
mod search;

use crate::app::commands::UiCommand;
use crate::app::persist::{Persisted, View};
use crate::model::{ActionNote, ConnState, HostId, Model};
use eframe::egui;
use std::collections::HashMap;
use std::time::Instant;
use vigia_shared::Pid;

/// The UI's own state: dialogs, filters, notes. Not persisted (egui keeps panel sizes).
#[derive(Default)]
pub struct UiState {
    pub add_server: dialogs::add_server::AddServerDialog,
    pub trust: dialogs::trust::TrustDialog,
    pub password: dialogs::password::PasswordDialog,
    pub start: dialogs::start::StartDialog,
    pub stop: dialogs::stop::StopDialog,
    pub host_table: process_table::ProcessTable,
    pub search: search::SearchView,
    /// The outcome of the last action taken from each view.
    pub notes: HashMap<View, ActionNote>,
    /// A problem of the app itself (settings file, credential store).
    pub banner: Option<String>,
    pub detail_open: Option<(HostId, Pid)>,
    pub output_open: Option<(HostId, Pid)>,
    /// A host whose removal waits for confirmation.
    pub confirm_remove: Option<HostId>,
}

impl UiState {
    /// Opens the dialog a host's new state calls for.
    pub fn on_state_change(&mut self, host: HostId, state: &ConnState) {
        match state {
            ConnState::Untrusted { .. } | ConnState::CertChanged { .. } => self.trust.ask(host),
            ConnState::NeedPassword { .. } | ConnState::WrongPassword => self.password.ask(host),
            _ => {}
        }
    }
}

/// Draws the whole window; returns what the user asked for.
pub fn show(
    ui: &mut egui::Ui,
    state: &mut UiState,
    model: &Model,
    persisted: &Persisted,
) -> Vec<UiCommand> {
    let mut out = Vec::new();
    let now = Instant::now();
    egui::Panel::top("toolbar").show(ui, |ui| toolbar(ui, persisted, &mut out));
    if let Some(banner) = state.banner.clone() {
        egui::Panel::bottom("banner").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.colored_label(ui.visuals().warn_fg_color, banner);
                if ui.button("Dismiss").clicked() {
                    state.banner = None;
                }
            });
        });
    }
    egui::Panel::left("hosts")
        .resizable(true)
        .default_size(240.0)
        .show(ui, |ui| {
            hosts_panel::ui(ui, state, model, persisted, now, &mut out)
        });
    egui::CentralPanel::default_margins().show(ui, |ui| match persisted.ui.view {
        View::Dashboard => {
            note_line(ui, state.notes.get(&View::Dashboard));
            dashboard::ui(ui, model, persisted, now, &mut out);
        }
        View::Host => host_view::ui(ui, state, model, persisted, &mut out),
        View::Search => {
            let note = state.notes.get(&View::Search).cloned();
            state
                .search
                .ui(ui, model, persisted, note.as_ref(), &mut out);
        }
    });
    dialogs::show_all(ui.ctx(), state, model, persisted, &mut out);
    out
}

fn toolbar(ui: &mut egui::Ui, persisted: &Persisted, out: &mut Vec<UiCommand>) {
    ui.horizontal(|ui| {
        ui.strong("Vigía");
        ui.separator();
        for (view, label) in [
            (View::Dashboard, "Dashboard"),
            (View::Host, "Host"),
            (View::Search, "Search"),
        ] {
            if ui
                .selectable_label(persisted.ui.view == view, label)
                .clicked()
            {
                out.push(UiCommand::ShowView(view));
            }
        }
        ui.separator();
        if ui.button("Add server").clicked() {
            out.push(UiCommand::OpenAddServer);
        }
        if ui.button("Start…").clicked() {
            out.push(UiCommand::OpenStart);
        }
    });
}

/// Shows the outcome of the last action, green or red.
pub(crate) fn note_line(ui: &mut egui::Ui, note: Option<&ActionNote>) {
    if let Some(n) = note {
        let color = if n.ok {
            egui::Color32::from_rgb(60, 160, 60)
        } else {
            ui.visuals().error_fg_color
        };
        ui.colored_label(color, &n.text);
    }
}

/// The colour of a connection state.
pub(crate) fn state_color(ui: &egui::Ui, state: &ConnState) -> egui::Color32 {
    match state {
        ConnState::Connected => egui::Color32::from_rgb(60, 160, 60),
        ConnState::Offline => ui.visuals().weak_text_color(),
        ConnState::Connecting { .. } | ConnState::Reconnecting { .. } => ui.visuals().warn_fg_color,
        _ => ui.visuals().error_fg_color,
    }
}

/// The display name of a host.
pub(crate) fn host_name(persisted: &Persisted, id: HostId) -> String {
    persisted
        .server(id)
        .map_or_else(|| id.to_string(), |s| s.name.clone())
}
