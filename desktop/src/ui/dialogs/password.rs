//! password: asks for a server's password when none is saved, the store is unavailable, or the
//! daemon refused the saved one.

use super::{field, window};
use crate::app::commands::UiCommand;
use crate::app::persist::Persisted;
use crate::model::{ConnState, HostId, Model};
use eframe::egui;
use std::collections::VecDeque;

#[derive(Debug)]
pub struct PasswordDialog {
    current: Option<HostId>,
    queue: VecDeque<HostId>,
    password: String,
    remember: bool,
    /// Put the cursor in the field on the next frame.
    focus: bool,
}

impl Default for PasswordDialog {
    fn default() -> Self {
        Self {
            current: None,
            queue: VecDeque::new(),
            password: String::new(),
            remember: true,
            focus: false,
        }
    }
}

impl PasswordDialog {
    /// Queues a host that needs a password.
    pub fn ask(&mut self, host: HostId) {
        if self.current != Some(host) && !self.queue.contains(&host) {
            self.queue.push_back(host);
        }
    }

    /// Asks for this host's password now.
    pub fn open(&mut self, host: HostId) {
        self.current = Some(host);
        self.password.clear();
        self.focus = true;
    }

    pub fn show(
        &mut self,
        ctx: &egui::Context,
        model: &Model,
        persisted: &Persisted,
        out: &mut Vec<UiCommand>,
    ) {
        let needs = |id: &HostId| {
            model.host(*id).is_some_and(|h| {
                matches!(
                    h.conn,
                    ConnState::NeedPassword { .. } | ConnState::WrongPassword
                )
            })
        };
        if self.current.is_some_and(|id| !needs(&id)) {
            self.current = None;
            self.password.clear();
        }
        while self.current.is_none() {
            match self.queue.pop_front() {
                Some(id) if needs(&id) => {
                    self.current = Some(id);
                    self.focus = true;
                }
                Some(_) => {}
                None => return,
            }
        }
        let Some(id) = self.current else { return };
        let (Some(host), Some(server)) = (model.host(id), persisted.server(id)) else {
            return;
        };
        let mut close = false;
        window("Password").show(ctx, |ui| {
            ui.label(format!(
                "Log in to “{}” ({}) as '{}'.",
                server.name,
                server.addr(),
                server.user
            ));
            match &host.conn {
                ConnState::WrongPassword => {
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        "The daemon refused the password.",
                    );
                }
                ConnState::NeedPassword { note: Some(note) } => {
                    ui.colored_label(ui.visuals().warn_fg_color, note);
                }
                _ => {}
            }
            let field = egui::Grid::new("password_fields")
                .num_columns(2)
                .show(ui, |ui| field(ui, "Password", &mut self.password, true))
                .inner;
            if self.focus {
                field.request_focus();
                self.focus = false;
            }
            let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            ui.checkbox(&mut self.remember, "Remember in the credential store");
            ui.horizontal(|ui| {
                if (ui.button("Log in").clicked() || entered) && !self.password.is_empty() {
                    out.push(UiCommand::Password {
                        host: id,
                        password: std::mem::take(&mut self.password),
                        remember: self.remember,
                    });
                    close = true;
                }
                if ui.button("Cancel").clicked() {
                    close = true;
                }
            });
        });
        if close {
            self.current = None;
            self.password.clear();
        }
    }
}
