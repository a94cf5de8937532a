//! dashboard: a card per host with CPU and memory now and their recent history, and one plot
//! that overlays a metric of all connected hosts for comparison.

use super::plots::{self, Series};
use super::{format, state_color};
use crate::app::commands::UiCommand;
use crate::app::persist::{Metric, Persisted};
use crate::model::Model;
use eframe::egui;
use std::time::Instant;

const CARD_WIDTH: f32 = 250.0;

pub fn ui(
    ui: &mut egui::Ui,
    model: &Model,
    persisted: &Persisted,
    now: Instant,
    out: &mut Vec<UiCommand>,
) {
    let full_height = ui.available_height();
    egui::ScrollArea::vertical().show(ui, |ui| {
        let top = ui.min_rect().bottom();
        ui.heading("All hosts");
        if persisted.servers.is_empty() {
            ui.label("Add a server to see it here.");
            return;
        }
        ui.horizontal_wrapped(|ui| {
            for server in &persisted.servers {
                let Some(host) = model.host(server.id) else {
                    continue;
                };
                ui.push_id(server.id.0, |ui| {
                    egui::Frame::group(ui.style()).show(ui, |ui| {
                        ui.set_width(CARD_WIDTH);
                        ui.vertical(|ui| {
                            ui.horizontal(|ui| {
                                ui.strong(&server.name);
                                if let Some(h) = &host.hostname {
                                    ui.weak(h);
                                }
                            });
                            ui.colored_label(state_color(ui, &host.conn), host.conn.describe(now));
                            match host.latest() {
                                Some(s) => {
                                    ui.colored_label(
                                        plots::CPU_COLOR,
                                        format!("CPU {:.0} %", s.cpu),
                                    );
                                    ui.colored_label(
                                        plots::MEM_COLOR,
                                        format!(
                                            "Memory {} of {} ({:.0} %)",
                                            format::bytes(s.mem_used),
                                            format::bytes(s.mem_total),
                                            host.mem_percent().unwrap_or(0.0)
                                        ),
                                    );
                                    ui.weak(format!("load {:.2} · {} processes", s.load1, s.procs));
                                    plots::sparkline(ui, server.id.0, &host.history);
                                }
                                None => {
                                    ui.weak("no data yet");
                                }
                            }
                            if ui.button("Open").clicked() {
                                out.push(UiCommand::Select(server.id));
                            }
                        });
                    });
                });
            }
        });
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            ui.strong("Compare");
            let overlay = persisted.ui.overlay;
            if ui.radio(overlay == Metric::Cpu, "CPU").clicked() {
                out.push(UiCommand::SetOverlay(Metric::Cpu));
            }
            if ui.radio(overlay == Metric::Memory, "Memory").clicked() {
                out.push(UiCommand::SetOverlay(Metric::Memory));
            }
        });
        let series = match persisted.ui.overlay {
            Metric::Cpu => Series::Cpu,
            Metric::Memory => Series::Memory,
        };
        let lines: Vec<_> = persisted
            .servers
            .iter()
            .filter_map(|s| {
                let h = model.host(s.id)?;
                h.conn.is_connected().then(|| {
                    (
                        s.name.clone(),
                        plots::points(&h.history, series, Some(600.0)),
                        None,
                    )
                })
            })
            .collect();
        // Fill what the cards leave of the window (the scroll area's own height is unbounded).
        let used = ui.min_rect().bottom() - top;
        let height = (full_height - used - 60.0).max(220.0);
        if lines.is_empty() {
            ui.weak("No host is connected yet.");
        } else {
            plots::percent_plot(ui, "overlay", height, lines);
        }
    });
}
