//! dialogs: windows that own their edit state and return a command when the user confirms.

pub mod add_server;
pub mod detail;
pub mod password;
pub mod start;
pub mod stop;
pub mod trust;

use super::UiState;
use crate::app::commands::UiCommand;
use crate::app::persist::Persisted;
use crate::model::Model;
use eframe::egui;

/// Draws every open dialog.
pub fn show_all(
    ctx: &egui::Context,
    state: &mut UiState,
    model: &Model,
    persisted: &Persisted,
    out: &mut Vec<UiCommand>,
) {
    state.add_server.show(ctx, out);
    state.trust.show(ctx, model, persisted, out);
    state.password.show(ctx, model, persisted, out);
    state.start.show(ctx, model, persisted, out);
    state.stop.show(ctx, persisted, out);
    detail::show_detail(ctx, state.detail_open, model, persisted, out);
    detail::show_output(ctx, state.output_open, model, persisted, out);
}

/// A centred, fixed dialog window.
pub(crate) fn window(title: &str) -> egui::Window<'_> {
    egui::Window::new(title)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
}

/// A labelled one-line text field in a two-column grid.
pub(crate) fn field(
    ui: &mut egui::Ui,
    label: &str,
    text: &mut String,
    secret: bool,
) -> egui::Response {
    let l = ui.label(label);
    let r = ui
        .add(
            egui::TextEdit::singleline(text)
                .password(secret)
                .desired_width(280.0),
        )
        .labelled_by(l.id);
    ui.end_row();
    r
}
