//! The test daemon (real `vigiad` on loopback, port 0, a temporary data directory) and a raw
//! TLS text-mode connection, as a person with `openssl s_client` would have.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::client::TlsStream;
use tokio_util::sync::CancellationToken;
use vigia_shared::client::{Client, Trust};
use vigiad::cli::{PathArgs, ServeArgs};
use vigiad::config::{Config, FileConfig};

pub const ADMIN_PW: &str = "admin-password";
pub const OPER_PW: &str = "operator:with:colons";
pub const VIEW_PW: &str = "viewer-password";

/// A users file with one user of each role (the operator's password contains colons).
pub fn standard_users() -> String {
    let h = |p: &str| vigiad::auth::password::hash(p).expect("hash");
    format!(
        r#"{{"admin": {{"password": "{}", "role": "admin"}},
            "oper": {{"password": "{}", "role": "operator"}},
            "view": {{"password": "{}", "role": "viewer"}}}}"#,
        h(ADMIN_PW),
        h(OPER_PW),
        h(VIEW_PW)
    )
}

pub struct TestDaemon {
    pub addr: SocketAddr,
    /// The web panel (HTTPS unless the test's tweak asked for plain HTTP).
    pub web_addr: SocketAddr,
    pub fingerprint: String,
    pub dir: TempDir,
    pub shutdown: CancellationToken,
    pub task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// A change to the test daemon's configuration, given the test's temporary root.
pub type Tweak = Box<dyn FnOnce(&mut Config, &Path) + Send>;

/// Options of a test daemon.
pub struct Setup {
    pub users_json: Option<String>,
    pub tweak: Tweak,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            users_json: Some(standard_users()),
            tweak: Box::new(|_, _| {}),
        }
    }
}

impl TestDaemon {
    pub async fn spawn() -> Self {
        Self::spawn_with(Setup::default()).await
    }

    pub async fn spawn_with(setup: Setup) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("data dir");
        if let Some(users) = &setup.users_json {
            write_private(&data.join("users.json"), users);
        }
        let paths = PathArgs {
            data_dir: Some(data.clone()),
            ..Default::default()
        };
        let serve = ServeArgs {
            listen: Some("127.0.0.1:0".parse().expect("addr")),
            stop_grace_ms: Some(2000),
            sample_interval_ms: Some(250),
            ..Default::default()
        };
        let mut cfg = Config::merge(&paths, &serve, FileConfig::default()).expect("config");
        // Tests run as root on CI: started processes stay the test's own unless a test says.
        cfg.run_as = Some("root".into());
        (setup.tweak)(&mut cfg, dir.path());
        let first = vigiad::prepare(&cfg).expect("prepare");
        let listener = TcpListener::bind(cfg.listen).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let web = TcpListener::bind("127.0.0.1:0").await.expect("bind web");
        let web_addr = web.local_addr().expect("web addr");
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(vigiad::run_with(cfg, listener, Some(web), shutdown.clone()));
        Self {
            addr,
            web_addr,
            fingerprint: first.fingerprint,
            dir,
            shutdown,
            task: Some(task),
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A JSON-mode client, connected and verified, not logged in.
    pub async fn client(&self) -> Client {
        Client::connect(
            &self.addr.to_string(),
            "localhost",
            &Trust::pinned(&self.fingerprint),
        )
        .await
        .expect("client connects")
    }

    /// A JSON-mode client logged in as `user`.
    pub async fn login(&self, user: &str, password: &str) -> Client {
        let c = self.client().await;
        c.login(user, password).await.expect("login");
        c
    }

    /// A text-mode connection.
    pub async fn text(&self) -> TextConn {
        TextConn::connect(self.addr, &self.fingerprint).await
    }

    /// A text-mode connection logged in as admin.
    pub async fn text_admin(&self) -> TextConn {
        let mut t = self.text().await;
        let r = t.cmd(&format!("LOGIN:admin:{ADMIN_PW}")).await;
        assert!(r.starts_with("OK"), "{r}");
        t
    }

    /// Stops the daemon and waits for it to return.
    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(t) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(15), t)
                .await
                .expect("daemon stops in time")
                .expect("daemon task")
                .expect("daemon result");
        }
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub fn tls_connector(fingerprint: &str) -> tokio_rustls::TlsConnector {
    let (config, _) = vigia_shared::tls::client_config(&Trust::pinned(fingerprint)).expect("tls");
    tokio_rustls::TlsConnector::from(config)
}

/// A TCP connection to `addr` from the loopback address `source` (127.0.0.0/8 is all local), as
/// another client would connect.
pub async fn tcp_from(source: [u8; 4], addr: SocketAddr) -> std::io::Result<tokio::net::TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((source, 0)))?;
    socket.connect(addr).await
}

/// A raw TLS connection speaking the text protocol.
pub struct TextConn {
    pub stream: BufReader<TlsStream<TcpStream>>,
}

impl TextConn {
    pub async fn connect(addr: SocketAddr, fingerprint: &str) -> Self {
        Self::connect_from([127, 0, 0, 1], addr, fingerprint)
            .await
            .expect("handshake")
    }

    /// Connects from another loopback address (127.0.0.0/8 is all local), as another client.
    pub async fn connect_from(
        source: [u8; 4],
        addr: SocketAddr,
        fingerprint: &str,
    ) -> std::io::Result<Self> {
        let tcp = tcp_from(source, addr).await?;
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
        let tls = tls_connector(fingerprint).connect(name, tcp).await?;
        Ok(Self {
            stream: BufReader::new(tls),
        })
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.get_mut().write_all(bytes).await.expect("write");
        self.stream.get_mut().flush().await.expect("flush");
    }

    pub async fn send(&mut self, line: &str) {
        self.send_raw(format!("{line}\n").as_bytes()).await;
    }

    /// The next line without its `\n`; `None` at end of stream.
    pub async fn read_line(&mut self) -> Option<String> {
        let mut line = String::new();
        let n = tokio::time::timeout(Duration::from_secs(20), self.stream.read_line(&mut line))
            .await
            .expect("a reply in time")
            .ok()?;
        if n == 0 {
            return None;
        }
        Some(line.trim_end_matches('\n').to_owned())
    }

    /// Sends one line and returns the first reply line.
    pub async fn cmd(&mut self, line: &str) -> String {
        self.send(line).await;
        self.read_line().await.expect("a reply line")
    }

    /// `LIST`, parsed into rows of five fields.
    pub async fn list(&mut self) -> Vec<Vec<String>> {
        let head = self.cmd("LIST").await;
        let n: usize = head
            .strip_prefix("OK ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("bad LIST header '{head}'"));
        let mut rows = Vec::with_capacity(n);
        for _ in 0..n {
            let line = self.read_line().await.expect("a row");
            let fields: Vec<String> = line.split('\t').map(str::to_owned).collect();
            assert_eq!(fields.len(), 5, "row '{line}'");
            rows.push(fields);
        }
        rows
    }
}

/// Writes a file only its owner may read, as the daemon demands of secrets.
pub fn write_private(path: &Path, content: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, content).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

/// Whether a process exists (and is not a zombie).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Waits until `f` holds, at most `limit`.
pub async fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if f() {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Kills a process this test started, if it is still there.
pub fn kill(pid: u32) {
    let _ = std::process::Command::new("kill")
        .arg("-9")
        .arg(pid.to_string())
        .status();
}

/// A tool the test needs; in CI its absence fails the test instead of skipping it.
pub fn require_tool(name: &str) -> bool {
    let found = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("'{name}' is needed by this test and is missing in CI");
        }
        eprintln!("skipping: '{name}' is not installed");
    }
    found
}
