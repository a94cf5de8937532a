//! events: applies what the session tasks report to the model. Each event changes only the host
//! it is tagged with.

use super::VigiaApp;
use super::persist::View;
use crate::model::{ActionNote, ConnState};
use crate::net::{ActionId, ActionOk, NetCommand, NetEvent, NetEventKind};

impl VigiaApp {
    pub(super) fn apply_event(&mut self, event: NetEvent) {
        let id = event.host;
        let name = self
            .persisted
            .server(id)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| id.to_string());
        let Some(host) = self.model.hosts.get_mut(&id) else {
            return;
        };
        match event.kind {
            NetEventKind::State(state) => {
                match &state {
                    ConnState::Reconnecting { reason, .. } => {
                        host.last_error = Some(reason.clone());
                    }
                    ConnState::Connected => host.last_error = None,
                    // A refused password is not tried again on the next session.
                    ConnState::WrongPassword => {
                        self.typed.remove(&id);
                    }
                    _ => {}
                }
                let changed = std::mem::discriminant(&host.conn) != std::mem::discriminant(&state);
                host.conn = state;
                if changed {
                    self.ui.on_state_change(id, &host.conn);
                }
            }
            NetEventKind::Connected {
                server,
                role,
                fingerprint,
            } => {
                host.server = Some(server);
                host.role = Some(role);
                host.fingerprint = Some(fingerprint);
            }
            NetEventKind::Status(status) => host.hostname = Some(status.hostname),
            NetEventKind::History(samples) => {
                host.history.clear();
                host.history.extend(samples);
            }
            NetEventKind::Sample(sample) => host.history.push(sample),
            NetEventKind::Processes { total, rows } => host.set_procs(total, rows),
            NetEventKind::Detail(detail) => host.detail = Some(*detail),
            NetEventKind::Output {
                pid,
                data,
                truncated,
            } => host.output = Some((pid, data, truncated)),
            NetEventKind::SecretNotSaved(why) => {
                host.note = Some(ActionNote {
                    ok: false,
                    text: format!("Password for {name} not saved: {why}"),
                });
                self.ui.banner = Some(format!("Password for {name} not saved: {why}"));
            }
            NetEventKind::ActionDone { action, outcome } => {
                self.action_done(id, &name, action, outcome);
            }
        }
    }

    fn action_done(
        &mut self,
        id: crate::model::HostId,
        name: &str,
        action: ActionId,
        outcome: Result<ActionOk, String>,
    ) {
        let pending = self.pending.remove(&action);
        let origin = pending.as_ref().map_or(View::Host, |p| p.origin);
        let extra = pending.map(|p| p.extra).unwrap_or_default();
        let note = match &outcome {
            Ok(ActionOk::Started { pid }) => ActionNote {
                ok: true,
                text: format!("Started pid {pid} on {name}{extra}"),
            },
            Ok(ActionOk::Stopped { pid, killed }) => ActionNote {
                ok: true,
                text: if *killed {
                    format!("Stopped pid {pid} on {name} (killed after the grace period)")
                } else {
                    format!("Stopped pid {pid} on {name}")
                },
            },
            Err(why) => ActionNote {
                ok: false,
                text: format!("{name}: {why}"),
            },
        };
        if let Some(host) = self.model.hosts.get_mut(&id) {
            host.note = Some(note.clone());
        }
        self.ui.notes.insert(origin, note);
        if let Ok(ActionOk::Started { pid }) = outcome {
            self.ui.output_open = Some((id, pid));
            self.net.send(id, NetCommand::Follow { pid: Some(pid) });
        }
        if outcome.is_ok() {
            self.net.send(id, NetCommand::RefreshList);
        }
    }
}
