//! add_server: the dialog that adds or edits a saved server.

use super::{field, window};
use crate::app::commands::{ServerDraft, UiCommand};
use crate::app::persist::ServerEntry;
use crate::model::HostId;
use eframe::egui;

#[derive(Debug, Default)]
pub struct AddServerDialog {
    open: bool,
    editing: Option<HostId>,
    name: String,
    host: String,
    port: String,
    user: String,
    password: String,
    connect: bool,
    error: Option<String>,
    /// Put the cursor in the first field on the next frame.
    focus: bool,
}

impl AddServerDialog {
    pub fn open_new(&mut self) {
        *self = Self {
            open: true,
            connect: true,
            focus: true,
            ..Self::default()
        };
    }

    pub fn open_edit(&mut self, s: &ServerEntry) {
        *self = Self {
            open: true,
            editing: Some(s.id),
            name: s.name.clone(),
            host: s.host.clone(),
            port: s.port.to_string(),
            user: s.user.clone(),
            password: String::new(),
            connect: s.connect,
            error: None,
            focus: true,
        };
    }

    pub fn is_open(&self) -> bool {
        self.open
    }

    /// The typed server, checked.
    fn draft(&self) -> Result<ServerDraft, String> {
        let host = self.host.trim();
        if host.is_empty() {
            return Err("type the server's host name or address".into());
        }
        let port = match self.port.trim() {
            "" => DEFAULT_PORT,
            p => match p.parse::<u16>() {
                Ok(p) if p > 0 => p,
                _ => return Err(format!("'{p}' is not a port number (1–65535)")),
            },
        };
        let user = self.user.trim();
        if user.is_empty() {
            return Err("type the user name to log in with".into());
        }
        let name = match self.name.trim() {
            "" => host.to_owned(),
            n => n.to_owned(),
        };
        Ok(ServerDraft {
            name,
            host: host.to_owned(),
            port,
            user: user.to_owned(),
            password: self.password.clone(),
            connect: self.connect,
        })
    }

    pub fn show(&mut self, ctx: &egui::Context, out: &mut Vec<UiCommand>) {
        if !self.open {
            return;
        }
        let title = if self.editing.is_some() {
            "Edit server"
        } else {
            "Add a server"
        };
        window(title).show(ctx, |ui| {
            egui::Grid::new("server_fields")
                .num_columns(2)
                .show(ui, |ui| {
                    let name = field(ui, "Name", &mut self.name, false);
                    if std::mem::take(&mut self.focus) {
                        name.request_focus();
                    }
                    field(ui, "Host", &mut self.host, false);
                    field(ui, "Port", &mut self.port, false);
                    field(ui, "User", &mut self.user, false);
                    field(ui, "Password", &mut self.password, true);
                });
            ui.weak(format!("The port is {DEFAULT_PORT} when left empty."));
            if self.editing.is_some() {
                ui.weak("Leave the password empty to keep the saved one.");
            }
            ui.weak("The password goes to the system's credential store, never to a file.");
            ui.checkbox(&mut self.connect, "Connect now and keep connected");
            if let Some(e) = &self.error {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            ui.horizontal(|ui| {
                let confirm = if self.editing.is_some() {
                    "Save"
                } else {
                    "Save and connect"
                };
                if ui.button(confirm).clicked() {
                    match self.draft() {
                        Ok(d) => {
                            out.push(match self.editing {
                                Some(id) => UiCommand::EditServer(id, d),
                                None => UiCommand::AddServer(d),
                            });
                            self.open = false;
                            self.password.clear();
                        }
                        Err(e) => self.error = Some(e),
                    }
                }
                if ui.button("Cancel").clicked() {
                    self.open = false;
                    self.password.clear();
                }
            });
        });
    }
}

/// The daemon's default port.
const DEFAULT_PORT: u16 = 5000;
