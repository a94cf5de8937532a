//! Test fixtures: real daemons on loopback (port 0, a temporary data directory), a host that
//! accepts connections and never answers, and the app in a kittest harness with a temporary
//! config directory and an in-memory credential store.

use eframe::egui;
use eframe::egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use vigia::app::persist::{ConfigDir, Persisted, ServerEntry};
use vigia::model::HostId;
use vigia::net::Tuning;
use vigia::secrets::{MemoryStore, SecretStore};
use vigia::{Options, VigiaApp};
use vigiad::cli::{PathArgs, ServeArgs};
use vigiad::config::{Config, FileConfig};

pub const ADMIN_PW: &str = "admin:pass word";
pub const VIEW_PW: &str = "viewer-password";

/// How long a step_until waits at most.
pub const PATIENCE: Duration = Duration::from_secs(30);

fn users_json() -> String {
    let h = |p: &str| vigiad::auth::password::hash(p).expect("hash");
    format!(
        r#"{{"admin": {{"password": "{}", "role": "admin"}},
            "view": {{"password": "{}", "role": "viewer"}}}}"#,
        h(ADMIN_PW),
        h(VIEW_PW)
    )
}

/// A real daemon on 127.0.0.1; stopped when dropped.
pub struct TestDaemon {
    pub addr: SocketAddr,
    pub fingerprint: String,
    dir: TempDir,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestDaemon {
    pub async fn spawn() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("data dir");
        let users = data.join("users.json");
        std::fs::write(&users, users_json()).expect("users file");
        // The daemon refuses a users file that others may read.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&users, std::fs::Permissions::from_mode(0o600))
                .expect("chmod the users file");
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let mut d = Self {
            addr: listener.local_addr().expect("addr"),
            fingerprint: String::new(),
            dir,
            shutdown: CancellationToken::new(),
            task: None,
        };
        d.run(listener);
        d
    }

    fn config(&self) -> Config {
        let paths = PathArgs {
            data_dir: Some(self.dir.path().join("data")),
            ..Default::default()
        };
        let serve = ServeArgs {
            listen: Some(self.addr),
            stop_grace_ms: Some(2000),
            sample_interval_ms: Some(250),
            no_web: true,
            ..Default::default()
        };
        Config::merge(&paths, &serve, FileConfig::default()).expect("config")
    }

    fn run(&mut self, listener: TcpListener) {
        let cfg = self.config();
        self.fingerprint = vigiad::prepare(&cfg).expect("prepare").fingerprint;
        self.shutdown = CancellationToken::new();
        self.task = Some(tokio::spawn(vigiad::run_with(
            cfg,
            listener,
            None,
            self.shutdown.clone(),
        )));
    }

    /// Stops the daemon and waits until it has returned.
    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(t) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(20), t)
                .await
                .expect("daemon stops in time")
                .expect("daemon task")
                .expect("daemon result");
        }
    }

    /// Stops the daemon and starts it again on the same port with the same data (and so the
    /// same certificate).
    pub async fn restart(&mut self) {
        self.stop().await;
        let listener = TcpListener::bind(self.addr)
            .await
            .expect("bind the same port");
        self.run(listener);
    }

    /// A client logged in as admin, through the real client library.
    pub async fn admin(&self) -> vigia_shared::client::Client {
        let trust = vigia_shared::client::Trust::pinned(&self.fingerprint);
        let c = vigia_shared::client::Client::connect(&self.addr.to_string(), "localhost", &trust)
            .await
            .expect("client connects");
        c.login("admin", ADMIN_PW).await.expect("login");
        c
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A host that accepts TCP connections and never says a word.
pub async fn hanging_host() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    addr
}

/// The test's world: a runtime for daemons and sessions, a config directory, a store.
pub struct World {
    pub rt: tokio::runtime::Runtime,
    pub config: TempDir,
    pub secrets: Arc<MemoryStore>,
}

impl World {
    pub fn new() -> Self {
        Self::with_store(MemoryStore::new())
    }

    /// A machine without a credential store.
    pub fn without_store() -> Self {
        Self::with_store(MemoryStore::unavailable())
    }

    fn with_store(store: MemoryStore) -> Self {
        Self {
            rt: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime"),
            config: tempfile::tempdir().expect("config dir"),
            secrets: Arc::new(store),
        }
    }

    pub fn daemon(&self) -> TestDaemon {
        self.rt.block_on(TestDaemon::spawn())
    }

    pub fn config_dir(&self) -> ConfigDir {
        ConfigDir::new(self.config.path())
    }

    pub fn options(&self) -> Options {
        let secrets: Arc<dyn SecretStore> = self.secrets.clone();
        let mut o = Options::new(self.config_dir(), secrets, self.rt.handle().clone());
        o.tuning = Tuning::fast();
        o.test_mode = true;
        o
    }

    /// The app, as a user would start it.
    pub fn app(&self) -> Harness<'static, VigiaApp> {
        let options = self.options();
        Harness::builder()
            .with_size(egui::vec2(1400.0, 1000.0))
            .build_eframe(move |cc| VigiaApp::new(cc, options))
    }

    /// Writes a settings file with these servers, already trusted, and their passwords.
    pub fn save_servers(&self, servers: &[(&str, SocketAddr, Option<&str>)]) {
        let mut p = Persisted::default();
        for (i, (name, addr, pin)) in servers.iter().enumerate() {
            let entry = ServerEntry {
                id: HostId(i as u64 + 1),
                name: (*name).into(),
                host: addr.ip().to_string(),
                port: addr.port(),
                user: "admin".into(),
                connect: true,
                pinned: pin.map(str::to_owned),
            };
            // Without a store there is nothing to save: the app will ask.
            let _ = self.secrets.set(&entry.account(), ADMIN_PW);
            p.servers.push(entry);
        }
        p.save(&self.config_dir()).expect("save settings");
    }
}

/// Steps the app until `done` holds; fails with `what` after [`PATIENCE`].
pub fn step_until(
    h: &mut Harness<'_, VigiaApp>,
    what: &str,
    mut done: impl FnMut(&Harness<'_, VigiaApp>) -> bool,
) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        h.step();
        if done(h) {
            return;
        }
        if Instant::now() > deadline {
            let texts: Vec<String> = h
                .query_all_by(|n| n.role() == Role::Label)
                .filter_map(|n| n.accesskit_node().value())
                .collect();
            panic!("timed out waiting for {what}; on screen: {texts:?}");
        }
        // Events come from other threads; give them the core between frames.
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether a widget with exactly this label is on screen.
pub fn shown(h: &Harness<'_, VigiaApp>, label: &str) -> bool {
    h.query_all_by_label(label).next().is_some()
}

/// Whether a widget whose label contains `text` is on screen.
pub fn shown_containing(h: &Harness<'_, VigiaApp>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

/// The label of the first widget whose label contains `text`.
pub fn label_containing(h: &Harness<'_, VigiaApp>, text: &str) -> String {
    let node = h
        .query_all_by_label_contains(text)
        .next()
        .unwrap_or_else(|| panic!("nothing shows '{text}'"));
    let node = node.accesskit_node();
    node.value().or_else(|| node.label()).unwrap_or_default()
}

/// A few frames: one that sees the input, one that shows what the commands it returned
/// changed, and one more for a new window's sizing pass.
pub fn settle(h: &mut Harness<'_, VigiaApp>) {
    h.run_steps(3);
}

pub fn click_button(h: &mut Harness<'_, VigiaApp>, label: &str) {
    h.get_by_role_and_label(Role::Button, label).click();
    settle(h);
}

/// Focuses a text field (by its label) and types into it.
pub fn type_into(h: &mut Harness<'_, VigiaApp>, label: &str, text: &str) {
    let field = |n: &egui_kittest::kittest::AccessKitNode<'_>| {
        matches!(
            n.role(),
            Role::TextInput | Role::PasswordInput | Role::MultilineTextInput
        ) && n.label().as_deref() == Some(label)
    };
    h.get_by(field).focus();
    settle(h);
    h.get_by(field).type_text(text);
    settle(h);
    let node = h.get_by(field);
    if node.accesskit_node().role() != Role::PasswordInput {
        let now = node.value().unwrap_or_default();
        assert!(now.ends_with(text), "'{label}' holds '{now}'");
    }
}

/// Adds a server through the "Add server" dialog.
pub fn add_server(
    h: &mut Harness<'_, VigiaApp>,
    name: &str,
    addr: SocketAddr,
    user: &str,
    pw: &str,
) {
    click_button(h, "Add server");
    type_into(h, "Name", name);
    type_into(h, "Host", &addr.ip().to_string());
    type_into(h, "Port", &addr.port().to_string());
    type_into(h, "User", user);
    type_into(h, "Password", pw);
    click_button(h, "Save and connect");
}

/// The id of the server with this name.
pub fn host_id(h: &Harness<'_, VigiaApp>, name: &str) -> HostId {
    h.state()
        .persisted()
        .servers
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.id)
        .expect("server saved")
}

/// Whether the named host's session is logged in.
pub fn connected(h: &Harness<'_, VigiaApp>, name: &str) -> bool {
    let id = host_id(h, name);
    h.state()
        .model()
        .host(id)
        .is_some_and(|s| s.conn.is_connected())
}

/// Adds a server, checks the fingerprint the trust dialog shows, trusts it, waits until logged in.
pub fn add_and_trust(h: &mut Harness<'_, VigiaApp>, name: &str, d: &TestDaemon) {
    add_server(h, name, d.addr, "admin", ADMIN_PW);
    step_until(h, "the certificate dialog", |h| {
        shown(h, "Trust and connect")
    });
    assert!(
        shown(h, &d.fingerprint),
        "the dialog shows the daemon's fingerprint"
    );
    click_button(h, "Trust and connect");
    step_until(h, &format!("{name} connected"), |h| connected(h, name));
}

/// Kills a `sleep` a test started when the test ends, even by a panic, so that a failed test
/// leaves nothing running. The pid must still be a `sleep` (it may have been reused).
pub struct KillOnDrop(pub u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", self.0)).unwrap_or_default();
        if cmdline.starts_with(b"sleep\0") {
            let _ = std::process::Command::new("kill")
                .arg("-9")
                .arg(self.0.to_string())
                .status();
        }
    }
}
