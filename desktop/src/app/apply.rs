//! apply: carries out the commands the panels returned, after the frame: settings changes are
//! saved, network requests go to the host's session.

use super::commands::{ServerDraft, StartTarget, UiCommand};
use super::persist::{ServerEntry, View};
use super::{Pending, VigiaApp};
use crate::model::{ActionNote, ConnState, HostId, HostState};
use crate::net::NetCommand;

impl VigiaApp {
    pub(super) fn apply(&mut self, command: UiCommand) {
        match command {
            UiCommand::ShowView(v) => self.persisted.ui.view = v,
            UiCommand::Select(id) => {
                self.persisted.ui.selected = Some(id);
                self.persisted.ui.view = View::Host;
            }
            UiCommand::SetOverlay(m) => self.persisted.ui.overlay = m,
            UiCommand::SetShowCores(on) => self.persisted.ui.show_cores = on,
            UiCommand::OpenAddServer => self.ui.add_server.open_new(),
            UiCommand::OpenEditServer(id) => {
                if let Some(s) = self.persisted.server(id) {
                    self.ui.add_server.open_edit(s);
                }
            }
            UiCommand::AddServer(draft) => self.add_server(draft),
            UiCommand::EditServer(id, draft) => self.edit_server(id, draft),
            UiCommand::RemoveServer(id) => self.remove_server(id),
            UiCommand::SetConnect(id, on) => self.set_connect(id, on),
            UiCommand::RetryNow(id) => {
                if !self.net.send(id, NetCommand::RetryNow) {
                    self.open_session(id);
                }
            }
            UiCommand::ReviewCertificate(id) => {
                if self.model.host(id).is_some() {
                    self.ui.trust.open(id);
                }
            }
            UiCommand::TrustCertificate(id, fingerprint) => {
                if let Some(s) = self.persisted.server_mut(id) {
                    s.pinned = Some(fingerprint.clone());
                }
                if !self.net.send(id, NetCommand::Trust(fingerprint)) {
                    self.open_session(id);
                }
            }
            UiCommand::AskPassword(id) => {
                if self.model.host(id).is_some() {
                    self.ui.password.open(id);
                }
            }
            UiCommand::Password {
                host,
                password,
                remember,
            } => {
                if remember && let Some(s) = self.persisted.server(host) {
                    self.net.save_password(host, s.account(), password.clone());
                }
                self.typed.insert(host, password.clone());
                if !self.net.send(host, NetCommand::Password(password)) {
                    self.open_session(host);
                }
            }
            UiCommand::OpenStart => {
                let selected = self.persisted.ui.selected;
                self.ui.start.open(selected);
            }
            UiCommand::Start {
                target,
                argv,
                cwd,
                origin,
            } => self.start(target, argv, cwd, origin),
            UiCommand::ConfirmStop {
                host,
                pid,
                name,
                origin,
            } => self.ui.stop.open(host, pid, name, origin),
            UiCommand::Stop {
                host,
                pid,
                signal,
                origin,
            } => {
                let action = self.net.next_action();
                if self.net.send(
                    host,
                    NetCommand::Stop {
                        action,
                        pid,
                        signal,
                    },
                ) {
                    self.pending.insert(
                        action,
                        Pending {
                            origin,
                            extra: String::new(),
                        },
                    );
                } else {
                    self.note(host, origin, "Not connected to this host");
                }
            }
            UiCommand::ShowDetail(host, pid) => {
                if let Some(h) = self.model.hosts.get_mut(&host) {
                    h.detail = None;
                }
                self.ui.detail_open = Some((host, pid));
                self.net.send(host, NetCommand::Detail { pid });
            }
            UiCommand::CloseDetail => self.ui.detail_open = None,
            UiCommand::Follow(host, pid) => {
                self.ui.output_open = pid.map(|p| (host, p));
                self.net.send(host, NetCommand::Follow { pid });
            }
        }
    }

    fn note(&mut self, host: HostId, origin: View, text: &str) {
        let name = self
            .persisted
            .server(host)
            .map_or_else(|| host.to_string(), |s| s.name.clone());
        let note = ActionNote {
            ok: false,
            text: format!("{name}: {text}"),
        };
        if let Some(h) = self.model.hosts.get_mut(&host) {
            h.note = Some(note.clone());
        }
        self.ui.notes.insert(origin, note);
    }

    fn add_server(&mut self, draft: ServerDraft) {
        let id = self.persisted.next_id();
        let entry = ServerEntry {
            id,
            name: draft.name,
            host: draft.host,
            port: draft.port,
            user: draft.user,
            connect: draft.connect,
            pinned: None,
        };
        if !draft.password.is_empty() {
            self.net
                .save_password(id, entry.account(), draft.password.clone());
            self.typed.insert(id, draft.password);
        }
        self.persisted.servers.push(entry);
        self.model.hosts.insert(id, HostState::default());
        self.persisted.ui.selected = Some(id);
        self.persisted.ui.view = View::Host;
        if draft.connect {
            self.open_session(id);
        }
    }

    fn edit_server(&mut self, id: HostId, draft: ServerDraft) {
        let Some(s) = self.persisted.server_mut(id) else {
            return;
        };
        let old_account = s.account();
        let moved = s.host != draft.host || s.port != draft.port;
        s.name = draft.name;
        s.host = draft.host;
        s.port = draft.port;
        s.user = draft.user;
        s.connect = draft.connect;
        if moved {
            // A pin belongs to one address; another address is another server to trust.
            s.pinned = None;
        }
        let account = s.account();
        if !draft.password.is_empty() {
            self.net
                .save_password(id, account.clone(), draft.password.clone());
            self.typed.insert(id, draft.password);
        } else if account != old_account {
            self.typed.remove(&id);
        }
        if account != old_account {
            self.net.forget_password(old_account);
        }
        self.net.close(id);
        self.model.hosts.insert(id, HostState::default());
        if draft.connect {
            self.open_session(id);
        }
    }

    fn remove_server(&mut self, id: HostId) {
        self.net.close(id);
        if let Some(s) = self.persisted.server(id) {
            self.net.forget_password(s.account());
        }
        self.persisted.servers.retain(|s| s.id != id);
        self.model.hosts.remove(&id);
        self.typed.remove(&id);
        if self.persisted.ui.selected == Some(id) {
            self.persisted.ui.selected = self.persisted.servers.first().map(|s| s.id);
        }
    }

    fn set_connect(&mut self, id: HostId, on: bool) {
        if let Some(s) = self.persisted.server_mut(id) {
            s.connect = on;
        }
        if on {
            self.open_session(id);
        } else {
            self.net.close(id);
            if let Some(h) = self.model.hosts.get_mut(&id) {
                h.conn = ConnState::Offline;
            }
        }
    }

    fn start(&mut self, target: StartTarget, argv: Vec<String>, cwd: Option<String>, origin: View) {
        let (host, extra) = match target {
            StartTarget::Host(id) => (id, String::new()),
            StartTarget::LeastLoaded(candidates) => match self.model.least_loaded(&candidates) {
                Some((id, _)) => {
                    let why = self.model.host(id).and_then(|h| {
                        let s = h.latest()?;
                        Some(format!(
                            " (least loaded of {}: CPU {:.0} %, memory {:.0} %)",
                            candidates.len(),
                            s.cpu,
                            h.mem_percent().unwrap_or(0.0)
                        ))
                    });
                    (id, why.unwrap_or_default())
                }
                None => {
                    self.ui.notes.insert(
                        origin,
                        ActionNote {
                            ok: false,
                            text: "None of the chosen hosts is connected".into(),
                        },
                    );
                    return;
                }
            },
        };
        let action = self.net.next_action();
        if self.net.send(host, NetCommand::Start { action, argv, cwd }) {
            self.pending.insert(action, Pending { origin, extra });
        } else {
            self.note(host, origin, "Not connected to this host");
        }
    }
}
