//! trust: shows a server's certificate fingerprint for the user to accept (first connection),
//! or warns that a pinned certificate changed. Nothing is trusted without a click here.

use super::window;
use crate::app::commands::UiCommand;
use crate::app::persist::Persisted;
use crate::model::{ConnState, HostId, Model};
use eframe::egui;
use std::collections::VecDeque;

#[derive(Debug, Default)]
pub struct TrustDialog {
    current: Option<HostId>,
    queue: VecDeque<HostId>,
}

impl TrustDialog {
    /// Queues a host whose certificate needs a decision.
    pub fn ask(&mut self, host: HostId) {
        if self.current != Some(host) && !self.queue.contains(&host) {
            self.queue.push_back(host);
        }
    }

    /// Shows this host's certificate now.
    pub fn open(&mut self, host: HostId) {
        self.current = Some(host);
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
                    ConnState::Untrusted { .. } | ConnState::CertChanged { .. }
                )
            })
        };
        if self.current.is_some_and(|id| !needs(&id)) {
            self.current = None;
        }
        while self.current.is_none() {
            match self.queue.pop_front() {
                Some(id) if needs(&id) => self.current = Some(id),
                Some(_) => {}
                None => return,
            }
        }
        let Some(id) = self.current else { return };
        let Some(host) = model.host(id) else { return };
        let Some(server) = persisted.server(id) else {
            return;
        };
        let mut close = false;
        match &host.conn {
            ConnState::Untrusted { fingerprint } => {
                window("Untrusted certificate").show(ctx, |ui| {
                    ui.label(format!(
                        "The server “{}” ({}) presented a certificate that no trusted \
                         authority signed.",
                        server.name,
                        server.addr()
                    ));
                    ui.label(
                        "Compare its SHA-256 fingerprint with the one “vigiad cert show” \
                         prints on the server:",
                    );
                    ui.monospace(fingerprint);
                    ui.horizontal(|ui| {
                        if ui.button("Trust and connect").clicked() {
                            out.push(UiCommand::TrustCertificate(id, fingerprint.clone()));
                            close = true;
                        }
                        if ui.button("Copy fingerprint").clicked() {
                            ui.ctx().copy_text(fingerprint.clone());
                        }
                        if ui.button("Not now").clicked() {
                            close = true;
                        }
                    });
                });
            }
            ConnState::CertChanged { pinned, seen } => {
                window("Certificate changed").show(ctx, |ui| {
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        format!(
                            "The certificate of “{}” ({}) is not the one you trusted. The \
                             connection is blocked.",
                            server.name,
                            server.addr()
                        ),
                    );
                    ui.label("This can mean that someone intercepts the connection. Replace the pinned certificate only if you know the server's certificate was replaced on purpose.");
                    ui.label("Trusted:");
                    ui.monospace(pinned);
                    ui.label("Presented now:");
                    ui.monospace(seen);
                    ui.horizontal(|ui| {
                        if ui.button("Replace the pinned certificate").clicked() {
                            out.push(UiCommand::TrustCertificate(id, seen.clone()));
                            close = true;
                        }
                        if ui.button("Keep blocked").clicked() {
                            close = true;
                        }
                    });
                });
            }
            _ => {}
        }
        if close {
            self.current = None;
        }
    }
}
