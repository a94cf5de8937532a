//! app: the eframe application. It owns the persisted settings, the model, the network handle
//! and the UI's own state; each frame it first applies the network's events (`logic`), then
//! draws (`ui`) and applies the commands the panels returned.

mod apply;
pub mod commands;
mod events;
pub mod persist;

use crate::model::{HostState, Model};
use crate::net::{ActionId, NetHandle, SessionSpec, Tuning, Waker};
use crate::secrets::SecretStore;
use crate::ui::UiState;
use commands::UiCommand;
use eframe::egui;
use persist::{ConfigDir, Persisted, View};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// How the app is set up: where its files are, which credential store and runtime it uses.
#[derive(Clone)]
pub struct Options {
    pub config_dir: ConfigDir,
    pub secrets: Arc<dyn SecretStore>,
    /// The runtime the session tasks run on; never the UI thread's.
    pub runtime: tokio::runtime::Handle,
    pub tuning: Tuning,
    /// Deterministic mode for tests: no animations.
    pub test_mode: bool,
}

impl Options {
    pub fn new(
        config_dir: ConfigDir,
        secrets: Arc<dyn SecretStore>,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        Self {
            config_dir,
            secrets,
            runtime,
            tuning: Tuning::default(),
            test_mode: false,
        }
    }
}

/// An action waiting for its outcome.
#[derive(Debug, Clone)]
struct Pending {
    origin: View,
    /// Added to the success note (e.g. why this host was chosen).
    extra: String,
}

/// The desktop app.
pub struct VigiaApp {
    persisted: Persisted,
    /// The settings as last written, to write only on change.
    saved: Persisted,
    config_dir: ConfigDir,
    model: Model,
    net: NetHandle,
    ui: UiState,
    pending: HashMap<ActionId, Pending>,
    /// Passwords typed in this run, for hosts whose password the store cannot keep.
    typed: HashMap<crate::model::HostId, String>,
}

impl VigiaApp {
    /// Builds the app and opens a session to every server marked to connect.
    pub fn new(cc: &eframe::CreationContext<'_>, options: Options) -> Self {
        let ctx = cc.egui_ctx.clone();
        if options.test_mode {
            ctx.all_styles_mut(|s| s.animation_time = 0.0);
        }
        let waker: Waker = {
            let ctx = ctx.clone();
            Arc::new(move |within| ctx.request_repaint_after(within))
        };
        let mut ui = UiState::default();
        let persisted = match Persisted::load(&options.config_dir) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the settings");
                ui.banner = Some(format!("{e}; starting with no saved servers"));
                Persisted::default()
            }
        };
        let net = NetHandle::new(options.runtime, options.secrets, options.tuning, waker);
        let mut app = Self {
            saved: persisted.clone(),
            persisted,
            config_dir: options.config_dir,
            model: Model::default(),
            net,
            ui,
            pending: HashMap::new(),
            typed: HashMap::new(),
        };
        let servers: Vec<_> = app.persisted.servers.clone();
        for s in servers {
            app.model.hosts.insert(s.id, HostState::default());
            if s.connect {
                app.open_session(s.id);
            }
        }
        app
    }

    /// The model, for tests and tools that inspect the app.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The settings, for tests and tools that inspect the app.
    pub fn persisted(&self) -> &Persisted {
        &self.persisted
    }

    fn open_session(&mut self, id: crate::model::HostId) {
        let Some(s) = self.persisted.server(id) else {
            return;
        };
        let spec = SessionSpec {
            host: id,
            addr: s.addr(),
            server_name: s.server_name(),
            user: s.user.clone(),
            account: s.account(),
            pinned: s.pinned.clone(),
            password: self.typed.get(&id).cloned(),
            watch: false,
        };
        self.net.open(spec);
    }

    /// Hosts whose processes the current view shows.
    fn on_screen(&self) -> HashSet<crate::model::HostId> {
        match self.persisted.ui.view {
            View::Host => self.persisted.ui.selected.into_iter().collect(),
            View::Search => self.model.hosts.keys().copied().collect(),
            View::Dashboard => HashSet::new(),
        }
    }

    /// Writes the settings when they changed.
    fn save_if_changed(&mut self) {
        if self.persisted == self.saved {
            return;
        }
        match self.persisted.save(&self.config_dir) {
            Ok(()) => self.saved = self.persisted.clone(),
            Err(e) => {
                tracing::error!(error = %e, "cannot save the settings");
                self.ui.banner = Some(e.to_string());
                // Do not retry every frame; the next change tries again.
                self.saved = self.persisted.clone();
            }
        }
    }
}

impl eframe::App for VigiaApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        for event in self.net.poll() {
            self.apply_event(event);
        }
        self.net.watch_only(&self.on_screen());
        // Countdowns ("reconnecting in N s") move without network events.
        if self
            .model
            .hosts
            .values()
            .any(|h| matches!(h.conn, crate::model::ConnState::Reconnecting { .. }))
        {
            ctx.request_repaint_after(Duration::from_millis(500));
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let commands = crate::ui::show(ui, &mut self.ui, &self.model, &self.persisted);
        for command in commands {
            self.apply(command);
        }
        self.save_if_changed();
    }

    fn save(&mut self, _storage: &mut dyn eframe::Storage) {
        self.save_if_changed();
    }
}

impl VigiaApp {
    /// Applies one command, as the UI would after a frame (for tools that script the app).
    pub fn command(&mut self, command: UiCommand) {
        self.apply(command);
        self.save_if_changed();
    }
}
