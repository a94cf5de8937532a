//! The `vigiad` binary as an admin runs it: first start, restart, signals, subcommands.

use crate::common::*;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use vigia_shared::client::{Client, Trust};
use vigia_shared::proto::Signal;

const BIN: &str = env!("CARGO_BIN_EXE_vigiad");

/// A running `vigiad` whose stderr is read line by line.
struct Daemon {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Daemon {
    fn start(data: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .arg("--data-dir")
            .arg(data)
            .args(["--listen", "127.0.0.1:0", "--web-listen", "127.0.0.1:0"])
            .args(extra)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// Reads stderr until a line contains `needle`; returns that line.
    fn wait_for(&mut self, needle: &str) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("no '{needle}' on stderr; saw:\n{}", self.seen.join("\n")),
            }
        }
    }

    /// Waits for readiness; returns the address.
    fn ready(&mut self) -> String {
        let line = self.wait_for("listening for TLS connections on ");
        let rest = line
            .split("listening for TLS connections on ")
            .nth(1)
            .unwrap();
        rest.split_whitespace().next().unwrap().to_owned()
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..300 {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("vigiad did not exit on SIGTERM");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(args: &[&str], data: &Path, stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        // A command that refuses before reading its input closes the pipe: its answer is what
        // the caller checks.
        match child.stdin.take().unwrap().write_all(input.as_bytes()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other.unwrap(),
        }
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn first_start_makes_a_certificate_and_an_admin_then_restart_keeps_both() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut d = Daemon::start(&data, &[]);
    let fp_line = d.wait_for("certificate SHA-256 fingerprint: ");
    let fingerprint = fp_line.rsplit(' ').next().unwrap().to_owned();
    d.wait_for("with user 'admin' and password:");
    let password = loop {
        let l = d.wait_for("");
        if !l.trim().is_empty() {
            break l.trim().to_owned();
        }
    };
    let addr = d.ready();
    assert!(
        password.len() >= 16,
        "a strong random password: '{password}'"
    );

    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("key.pem")), 0o600);
    assert_eq!(mode(&data.join("users.json")), 0o600);
    let users = std::fs::read_to_string(data.join("users.json")).unwrap();
    assert!(users.contains("$argon2id$"), "{users}");
    assert!(!users.contains(&password), "only the hash is stored");

    let (ok, out, _) = run(&["cert", "show"], &data, None);
    assert!(ok);
    assert!(
        out.contains(&fingerprint),
        "cert show prints the same fingerprint: {out}"
    );
    assert!(out.contains("cert.pem"));

    let rt = rt();
    let pid = rt.block_on(async {
        let c = Client::connect(&addr, "localhost", &Trust::pinned(&fingerprint))
            .await
            .unwrap();
        c.login("admin", &password).await.unwrap();
        c.start(vec!["sleep".into(), "60".into()], None)
            .await
            .unwrap()
    });
    assert!(d.terminate().success(), "clean exit on SIGTERM");
    assert!(alive(pid.0), "started processes survive the daemon");

    let mut again = Daemon::start(&data, &[]);
    let line = again.wait_for("certificate SHA-256 fingerprint: ");
    assert!(
        line.ends_with(&fingerprint),
        "same certificate after a restart"
    );
    let addr = again.ready();
    assert!(
        !again.seen.iter().any(|l| l.contains("password:")),
        "no new password"
    );
    rt.block_on(async {
        let c = Client::connect(&addr, "localhost", &Trust::pinned(&fingerprint))
            .await
            .unwrap();
        c.login("admin", &password).await.unwrap();
        assert!(!c.stop(pid, Signal::Term, None).await.unwrap());
    });
    assert!(!alive(pid.0));
}

#[test]
fn plaintext_users_are_named_in_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    write_private(
        &data.join("users.json"),
        r#"{"admin": "1234", "luis": "abcd"}"#,
    );
    let mut d = Daemon::start(&data, &[]);
    let line = d.wait_for("user 'luis' has a plaintext password");
    assert!(line.contains("vigiad user passwd luis"), "{line}");
    d.ready();
    assert!(
        d.seen
            .iter()
            .any(|l| l.contains("user 'admin' has a plaintext password"))
    );
}

#[test]
fn user_subcommands_edit_the_file_without_losing_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let users = data.join("users.json");
    write_private(&users, r#"{"admin": "1234", "luis": "abcd"}"#);

    let (ok, _, err) = run(
        &["user", "add", "ana", "--role", "viewer", "--password-stdin"],
        &data,
        Some("short\n"),
    );
    assert!(!ok);
    assert!(err.contains("at least 8"), "{err}");
    let (ok, out, err) = run(
        &["user", "add", "ana", "--role", "viewer", "--password-stdin"],
        &data,
        Some("ana-password\n"),
    );
    assert!(ok, "{err}");
    assert!(out.contains("added user 'ana'"));
    let (ok, _, err) = run(
        &["user", "add", "ana", "--password-stdin"],
        &data,
        Some("another-one\n"),
    );
    assert!(!ok && err.contains("already exists"), "{err}");

    let (ok, out, _) = run(&["user", "list"], &data, None);
    assert!(ok);
    assert!(out.contains("ana\tviewer"), "{out}");
    assert!(
        out.contains("luis\tadmin") && out.contains("plaintext"),
        "{out}"
    );

    let (ok, _, err) = run(
        &["user", "passwd", "luis", "--password-stdin"],
        &data,
        Some("luis-new-password\n"),
    );
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&users).unwrap();
    assert!(!text.contains("abcd"), "luis is hashed now");
    assert!(text.contains("\"1234\""), "admin's entry is untouched");

    let (ok, _, _) = run(&["user", "remove", "ana"], &data, None);
    assert!(ok);
    let (ok, _, err) = run(&["user", "remove", "ana"], &data, None);
    assert!(!ok && err.contains("no user 'ana'"));
    let left: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&users).unwrap()).unwrap();
    let names: Vec<&String> = left.as_object().unwrap().keys().collect();
    assert_eq!(names, ["admin", "luis"]);
    let stray: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(stray.is_empty(), "no temporary files left behind");

    // A running daemon sees the change at the next login.
    let mut d = Daemon::start(&data, &[]);
    let line = d.wait_for("certificate SHA-256 fingerprint: ");
    let fp = line.rsplit(' ').next().unwrap().to_owned();
    let addr = d.ready();
    let (ok, _, _) = run(
        &[
            "user",
            "add",
            "bea",
            "--role",
            "operator",
            "--password-stdin",
        ],
        &data,
        Some("bea-password\n"),
    );
    assert!(ok);
    rt().block_on(async {
        let c = Client::connect(&addr, "localhost", &Trust::pinned(&fp))
            .await
            .unwrap();
        assert_eq!(
            c.login("bea", "bea-password").await.unwrap(),
            vigia_shared::Role::Operator
        );
        let c = Client::connect(&addr, "localhost", &Trust::pinned(&fp))
            .await
            .unwrap();
        assert_eq!(
            c.login("luis", "luis-new-password").await.unwrap(),
            vigia_shared::Role::Admin
        );
    });
}

#[test]
fn a_config_file_holds_flags_and_refuses_typos() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let cfg = tmp.path().join("vigiad.toml");
    std::fs::write(&cfg, "lisen = \"127.0.0.1:1\"\n").unwrap();
    let (ok, _, err) = run(&["--config", cfg.to_str().unwrap()], &data, None);
    assert!(!ok);
    assert!(
        err.contains("unknown field") && err.contains("lisen"),
        "{err}"
    );

    std::fs::write(&cfg, "listen = \"127.0.0.1:1\"\nstop_grace_ms = 100\n").unwrap();
    // The flag (port 0) wins over the file (port 1, which a non-root user could not bind).
    let mut d = Daemon::start(&data, &["--config", cfg.to_str().unwrap()]);
    let addr = d.ready();
    assert!(!addr.ends_with(":1"), "{addr}");
}

#[test]
fn secrets_open_to_other_users_stop_the_start() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let users = data.join("users.json");
    std::fs::write(&users, r#"{"admin": "1234"}"#).unwrap();
    std::fs::set_permissions(&users, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (ok, _, err) = run(&["--listen", "127.0.0.1:0", "--no-web"], &data, None);
    assert!(!ok);
    assert!(
        err.contains("open to other users")
            && err.contains(&format!("chmod 600 {}", users.display())),
        "{err}"
    );

    // The same for the private key.
    std::fs::set_permissions(&users, std::fs::Permissions::from_mode(0o600)).unwrap();
    let key = data.join("key.pem");
    Daemon::start(&data, &[]).ready();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let (ok, _, err) = run(&["--listen", "127.0.0.1:0", "--no-web"], &data, None);
    assert!(!ok);
    assert!(
        err.contains("private key") && err.contains("chmod 600"),
        "{err}"
    );
}
