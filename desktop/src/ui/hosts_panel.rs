//! hosts_panel: the saved servers, each with its session's state and the actions that state
//! calls for (trust a certificate, type a password, retry now).

use super::{UiState, state_color};
use crate::app::commands::UiCommand;
use crate::app::persist::{Persisted, View};
use crate::model::{ConnState, Model};
use eframe::egui;
use std::time::Instant;

pub fn ui(
    ui: &mut egui::Ui,
    state: &mut UiState,
    model: &Model,
    persisted: &Persisted,
    now: Instant,
    out: &mut Vec<UiCommand>,
) {
    ui.heading("Servers");
    if persisted.servers.is_empty() {
        ui.label("No servers yet. Use “Add server” to add one.");
    }
    egui::ScrollArea::vertical().show(ui, |ui| {
        for server in &persisted.servers {
            let Some(host) = model.host(server.id) else {
                continue;
            };
            ui.push_id(server.id.0, |ui| {
                let frame = egui::Frame::group(ui.style());
                frame.show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    let selected =
                        persisted.ui.selected == Some(server.id) && persisted.ui.view == View::Host;
                    if ui
                        .selectable_label(selected, egui::RichText::new(&server.name).strong())
                        .on_hover_text(format!("{}@{}", server.user, server.addr()))
                        .clicked()
                    {
                        out.push(UiCommand::Select(server.id));
                    }
                    ui.weak(format!("{}@{}", server.user, server.addr()));
                    let text = host.conn.describe(now);
                    let label = ui.colored_label(state_color(ui, &host.conn), text);
                    if let Some(err) = &host.last_error {
                        label.on_hover_text(err);
                    }
                    actions_for_state(ui, server.id, &host.conn, out);
                    ui.horizontal(|ui| {
                        let mut connect = server.connect;
                        if ui.checkbox(&mut connect, "Keep connected").changed() {
                            out.push(UiCommand::SetConnect(server.id, connect));
                        }
                    });
                    ui.horizontal(|ui| {
                        if ui.small_button("Edit").clicked() {
                            out.push(UiCommand::OpenEditServer(server.id));
                        }
                        if state.confirm_remove == Some(server.id) {
                            if ui.small_button("Really remove").clicked() {
                                out.push(UiCommand::RemoveServer(server.id));
                                state.confirm_remove = None;
                            }
                            if ui.small_button("Keep").clicked() {
                                state.confirm_remove = None;
                            }
                        } else if ui.small_button("Remove").clicked() {
                            state.confirm_remove = Some(server.id);
                        }
                    });
                });
            });
        }
    });
}

fn actions_for_state(
    ui: &mut egui::Ui,
    id: crate::model::HostId,
    conn: &ConnState,
    out: &mut Vec<UiCommand>,
) {
    let action = match conn {
        ConnState::Untrusted { .. } | ConnState::CertChanged { .. } => {
            Some(("Review certificate…", UiCommand::ReviewCertificate(id)))
        }
        ConnState::NeedPassword { .. } | ConnState::WrongPassword => {
            Some(("Enter password…", UiCommand::AskPassword(id)))
        }
        ConnState::Reconnecting { .. } => Some(("Retry now", UiCommand::RetryNow(id))),
        _ => None,
    };
    if let Some((label, command)) = action
        && ui.button(label).clicked()
    {
        out.push(command);
    }
}
