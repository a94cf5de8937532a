//! detail: the details of one process, and the output of a process started from the app.

use crate::app::commands::UiCommand;
use crate::app::persist::Persisted;
use crate::model::{HostId, Model};
use crate::ui::format;
use eframe::egui;
use vigia_shared::Pid;

pub fn show_detail(
    ctx: &egui::Context,
    open: Option<(HostId, Pid)>,
    model: &Model,
    persisted: &Persisted,
    out: &mut Vec<UiCommand>,
) {
    let Some((id, pid)) = open else { return };
    let host = model.host(id);
    let title = format!("Process {pid} on {}", crate::ui::host_name(persisted, id));
    egui::Window::new(title)
        .id(egui::Id::unique("process_detail"))
        .collapsible(false)
        .show(ctx, |ui| {
            match host
                .and_then(|h| h.detail.as_ref())
                .filter(|d| d.pid == pid)
            {
                Some(d) => {
                    egui::Grid::new("detail").num_columns(2).show(ui, |ui| {
                        let mut row = |k: &str, v: String| {
                            ui.label(k);
                            ui.label(v);
                            ui.end_row();
                        };
                        row("Name", d.name.clone());
                        row("User", d.user.clone());
                        row("Parent", d.parent.map_or("–".into(), |p| p.to_string()));
                        row("State", d.state.clone());
                        row("Command", d.cmd.join(" "));
                        row("Executable", d.exe.clone().unwrap_or_default());
                        row("Directory", d.cwd.clone().unwrap_or_default());
                        row("CPU", format!("{:.1} %", d.cpu));
                        row("Memory", format::bytes(d.mem));
                        row("Virtual memory", format::bytes(d.virtual_mem));
                        row("Threads", d.threads.map_or("–".into(), |t| t.to_string()));
                        row(
                            "Started through Vigía",
                            if d.started_by_vigia { "yes" } else { "no" }.into(),
                        );
                    });
                }
                None => {
                    ui.label("loading…");
                }
            }
            if let Some(n) = host.and_then(|h| h.note.as_ref()).filter(|n| !n.ok) {
                ui.colored_label(ui.visuals().error_fg_color, &n.text);
            }
            if ui.button("Close").clicked() {
                out.push(UiCommand::CloseDetail);
            }
        });
}

pub fn show_output(
    ctx: &egui::Context,
    open: Option<(HostId, Pid)>,
    model: &Model,
    persisted: &Persisted,
    out: &mut Vec<UiCommand>,
) {
    let Some((id, pid)) = open else { return };
    let title = format!("Output of {pid} on {}", crate::ui::host_name(persisted, id));
    egui::Window::new(title)
        .id(egui::Id::unique("process_output"))
        .default_size([520.0, 260.0])
        .default_pos(ctx.content_rect().right_bottom() - egui::vec2(560.0, 320.0))
        .show(ctx, |ui| {
            if ui.button("Close").clicked() {
                out.push(UiCommand::Follow(id, None));
            }
            let data = model
                .host(id)
                .and_then(|h| h.output.as_ref())
                .filter(|(p, _, _)| *p == pid);
            egui::ScrollArea::vertical()
                .stick_to_bottom(true)
                .show(ui, |ui| match data {
                    Some((_, text, truncated)) => {
                        if *truncated {
                            ui.weak("(older output left out)");
                        }
                        ui.monospace(text.as_str());
                    }
                    None => {
                        ui.weak("no output yet");
                    }
                });
        });
}
