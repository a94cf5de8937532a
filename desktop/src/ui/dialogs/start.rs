//! start: starts a command (program and arguments, no shell, as the protocol wants) on the
//! chosen host, or on the least loaded of several hosts.

use super::{field, window};
use crate::app::commands::{StartTarget, UiCommand};
use crate::app::persist::Persisted;
use crate::model::{HostId, Model};
use eframe::egui;
use std::collections::BTreeSet;

#[derive(Debug, Default)]
pub struct StartDialog {
    open: bool,
    command: String,
    cwd: String,
    least_loaded: bool,
    host: Option<HostId>,
    picks: BTreeSet<HostId>,
    error: Option<String>,
    /// Put the cursor in the command field on the next frame.
    focus: bool,
}

/// Splits a command line into program and arguments, as a shell would quote them, without
/// running a shell.
pub fn parse_command(line: &str) -> Result<Vec<String>, String> {
    let argv = shell_words::split(line).map_err(|e| format!("cannot read the command: {e}"))?;
    if argv.is_empty() {
        return Err("type a program to run, with its arguments".into());
    }
    Ok(argv)
}

impl StartDialog {
    pub fn open(&mut self, selected: Option<HostId>) {
        self.open = true;
        self.error = None;
        self.focus = true;
        if self.host.is_none() {
            self.host = selected;
        }
    }

    pub fn show(
        &mut self,
        ctx: &egui::Context,
        model: &Model,
        persisted: &Persisted,
        out: &mut Vec<UiCommand>,
    ) {
        if !self.open {
            return;
        }
        let connected: Vec<HostId> = model.connected().map(|(id, _)| id).collect();
        let name = |id: HostId| super::super::host_name(persisted, id);
        window("Start a process").show(ctx, |ui| {
            egui::Grid::new("start_fields")
                .num_columns(2)
                .show(ui, |ui| {
                    let command = field(ui, "Command", &mut self.command, false);
                    if std::mem::take(&mut self.focus) {
                        command.request_focus();
                    }
                    field(ui, "Working directory", &mut self.cwd, false);
                });
            ui.weak("Program and arguments; quotes group words; no shell is involved.");
            ui.radio_value(&mut self.least_loaded, false, "On one host");
            ui.add_enabled_ui(!self.least_loaded, |ui| {
                let shown = self.host.map_or_else(|| "choose…".to_owned(), name);
                egui::ComboBox::from_label("Host")
                    .selected_text(shown)
                    .show_ui(ui, |ui| {
                        for s in &persisted.servers {
                            ui.selectable_value(&mut self.host, Some(s.id), &s.name);
                        }
                    });
            });
            ui.radio_value(
                &mut self.least_loaded,
                true,
                "On the least loaded of these hosts (CPU and memory)",
            );
            ui.add_enabled_ui(self.least_loaded, |ui| {
                if connected.is_empty() {
                    ui.weak("no host is connected");
                }
                for id in &connected {
                    let mut on = self.picks.contains(id);
                    let load = model.host(*id).and_then(|h| {
                        let s = h.latest()?;
                        Some(format!(
                            " (CPU {:.0} %, memory {:.0} %)",
                            s.cpu,
                            h.mem_percent().unwrap_or(0.0)
                        ))
                    });
                    let text = format!("{}{}", name(*id), load.unwrap_or_default());
                    if ui.checkbox(&mut on, text).changed() {
                        if on {
                            self.picks.insert(*id);
                        } else {
                            self.picks.remove(id);
                        }
                    }
                }
            });
            if let Some(e) = &self.error {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            ui.horizontal(|ui| {
                if ui.button("Run").clicked() {
                    match self
                        .target(&connected)
                        .and_then(|t| parse_command(&self.command).map(|argv| (t, argv)))
                    {
                        Ok((target, argv)) => {
                            let cwd = Some(self.cwd.trim().to_owned()).filter(|c| !c.is_empty());
                            out.push(UiCommand::Start {
                                target,
                                argv,
                                cwd,
                                origin: persisted.ui.view,
                            });
                            self.open = false;
                        }
                        Err(e) => self.error = Some(e),
                    }
                }
                if ui.button("Cancel").clicked() {
                    self.open = false;
                }
            });
        });
    }

    fn target(&self, connected: &[HostId]) -> Result<StartTarget, String> {
        if self.least_loaded {
            let picks: Vec<HostId> = self
                .picks
                .iter()
                .copied()
                .filter(|id| connected.contains(id))
                .collect();
            if picks.is_empty() {
                return Err("tick at least one connected host".into());
            }
            Ok(StartTarget::LeastLoaded(picks))
        } else {
            self.host
                .map(StartTarget::Host)
                .ok_or_else(|| "choose a host".to_owned())
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn commands_split_like_a_shell_without_one() {
        assert_eq!(
            parse_command("sleep 300").unwrap(),
            vec!["sleep".to_owned(), "300".to_owned()]
        );
        assert_eq!(
            parse_command("echo 'a b' \"c;d\"").unwrap(),
            vec!["echo", "a b", "c;d"]
        );
        assert!(parse_command("   ").is_err());
        assert!(parse_command("echo 'open").is_err());
    }
}
