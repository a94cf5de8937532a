//! stop: confirms stopping a process and lets the user choose the signal.

use super::window;
use crate::app::commands::UiCommand;
use crate::app::persist::{Persisted, View};
use crate::model::HostId;
use eframe::egui;
use vigia_shared::Pid;
use vigia_shared::proto::Signal;

#[derive(Debug, Clone)]
struct Target {
    host: HostId,
    pid: Pid,
    name: String,
    origin: View,
}

#[derive(Debug, Default)]
pub struct StopDialog {
    target: Option<Target>,
    signal: Signal,
}

const SIGNALS: [(Signal, &str); 5] = [
    (Signal::Term, "TERM (ask to end)"),
    (Signal::Int, "INT (interrupt)"),
    (Signal::Hup, "HUP (hang up)"),
    (Signal::Quit, "QUIT (end with core dump)"),
    (Signal::Kill, "KILL (end at once)"),
];

impl StopDialog {
    pub fn open(&mut self, host: HostId, pid: Pid, name: String, origin: View) {
        self.target = Some(Target {
            host,
            pid,
            name,
            origin,
        });
        self.signal = Signal::Term;
    }

    pub fn show(&mut self, ctx: &egui::Context, persisted: &Persisted, out: &mut Vec<UiCommand>) {
        let Some(t) = self.target.clone() else { return };
        let mut close = false;
        window("Stop a process").show(ctx, |ui| {
            ui.label(format!(
                "Stop “{}” (pid {}) on {}?",
                t.name,
                t.pid,
                super::super::host_name(persisted, t.host)
            ));
            let current = SIGNALS
                .iter()
                .find(|(s, _)| *s == self.signal)
                .map_or("TERM", |(_, l)| l);
            egui::ComboBox::from_label("Signal")
                .selected_text(current)
                .show_ui(ui, |ui| {
                    for (s, label) in SIGNALS {
                        ui.selectable_value(&mut self.signal, s, label);
                    }
                });
            ui.weak("A process still running after the daemon's grace period is killed.");
            ui.horizontal(|ui| {
                if ui.button("Stop process").clicked() {
                    out.push(UiCommand::Stop {
                        host: t.host,
                        pid: t.pid,
                        signal: self.signal,
                        origin: t.origin,
                    });
                    close = true;
                }
                if ui.button("Cancel").clicked() {
                    close = true;
                }
            });
        });
        if close {
            self.target = None;
        }
    }
}
