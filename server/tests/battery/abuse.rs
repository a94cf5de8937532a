//! Clients that misbehave: a corpus of malformed input on both modes. Every line gets an error,
//! the session goes on, the daemon never falls over and never runs a shell.

use crate::common::TestDaemon;
use crate::{report, serial};

/// Lines that must each get one `ERR` line back in text mode, after login.
fn text_corpus(marker: &str) -> Vec<Vec<u8>> {
    let mut c: Vec<Vec<u8>> = vec![
        b"\xff\xfe\xfd".to_vec(),
        b"LIST\x00".to_vec(),
        b"\x00\x00\x00".to_vec(),
        b"STOP:-1".to_vec(),
        b"STOP:0".to_vec(),
        b"STOP:99999999999999999999999".to_vec(),
        b"STOP:4294967296".to_vec(),
        b"STOP:1e9".to_vec(),
        b"STOP:".to_vec(),
        b"START:".to_vec(),
        b"START:'unclosed quote".to_vec(),
        b"START:\"unclosed".to_vec(),
        b"START:no-such-program-anywhere".to_vec(),
        b"LOGIN".to_vec(),
        b"LOGIN:".to_vec(),
        b"NOPE".to_vec(),
        b"{\"broken json".to_vec(),
        b"LIST:extra".to_vec(),
        vec![b'A'; 1024 * 1024],
        format!("START:{}", "x ".repeat(5000)).into_bytes(),
    ];
    // Shell metacharacters: whatever runs, it must not be a shell creating the marker.
    for tpl in [
        "START:no-such-program-x ; touch {m}",
        "START:no-such-program-x && touch {m}",
        "START:no-such-program-x | touch {m}",
        "START:no-such-program-x $(touch {m})",
        "START:no-such-program-x `touch {m}`",
        "START:no-such-program-x > {m}",
    ] {
        c.push(tpl.replace("{m}", marker).into_bytes());
    }
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_text_input_gets_errors_and_the_session_goes_on() {
    let _one = serial().await;
    let d = TestDaemon::spawn().await;
    let marker = d.dir.path().join("shell-ran");
    let corpus = text_corpus(&marker.display().to_string());
    let mut t = d.text_admin().await;
    for line in &corpus {
        let mut bytes = line.clone();
        bytes.push(b'\n');
        t.send_raw(&bytes).await;
        let reply = t.read_line().await.expect("a reply");
        assert!(
            reply.starts_with("ERR "),
            "'{}' got '{reply}'",
            String::from_utf8_lossy(&line[..line.len().min(60)])
        );
    }
    // The same session still works, and so does a new one.
    assert!(t.cmd("STATUS").await.starts_with("OK cpu="));
    assert!(d.text_admin().await.cmd("STATUS").await.starts_with("OK"));
    assert!(!marker.exists(), "a shell ran");
    report(
        "malformed input (text)",
        format!(
            "{} bad lines, {} errors, 0 crashes, no shell",
            corpus.len(),
            corpus.len()
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_input_gets_errors_and_the_session_goes_on() {
    let _one = serial().await;
    let d = TestDaemon::spawn().await;
    let marker = d.dir.path().join("shell-ran");
    let m = marker.display();
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let corpus: Vec<String> = vec![
        r#"{"id":0,"cmd":"hello","version":1}"#.into(),
        format!(r#"{{"id":1,"cmd":"login","user":"admin","password":"{}"}}"#, crate::common::ADMIN_PW),
        "{not json".into(),
        format!(r#"{{"id":3,"cmd":"list","x":{deep}}}"#),
        r#"{"id":4,"cmd":"stop","pid":-5}"#.into(),
        r#"{"id":5,"cmd":"stop","pid":99999999999999999999}"#.into(),
        r#"{"id":6,"cmd":"stop","pid":1}"#.into(),
        r#"{"id":7,"cmd":"start","argv":[]}"#.into(),
        r#"{"id":8,"cmd":"start","argv":["a\u0000b"]}"#.into(),
        format!(r#"{{"id":9,"cmd":"start","argv":["sh-free","; touch {m}"]}}"#),
        r#"{"id":10,"cmd":"subscribe","interval_ms":1}"#.into(),
        r#"{"id":11,"cmd":"list","limit":-1}"#.into(),
        r#"{"id":12,"cmd":"list","filter":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}"#.into(),
        r#"{"id":1e400,"cmd":"status"}"#.into(),
        r#"{"id":13,"cmd":"login","user":"admin"}"#.into(),
        "{\"id\":14,\"cmd\":\"st\u{0}atus\"}".into(),
        format!("{{\"id\":15,\"cmd\":\"status\",\"pad\":\"{}\"}}", "x".repeat(1024 * 1024)),
    ];
    let mut t = d.text().await;
    let mut errors = 0;
    for (i, line) in corpus.iter().enumerate() {
        t.send(line).await;
        let reply = t.read_line().await.expect("a reply");
        if i < 2 {
            assert!(reply.contains("\"result\""), "{reply}");
            continue; // the handshake and the login
        }
        let v: serde_json::Value =
            serde_json::from_str(&reply).unwrap_or_else(|e| panic!("'{reply}' is not JSON: {e}"));
        assert!(
            v.get("error").is_some(),
            "'{}' got '{reply}'",
            &line[..line.len().min(80)]
        );
        errors += 1;
    }
    assert!(!marker.exists(), "a shell ran");
    // The session goes on: a good request still works.
    t.send(r#"{"id":99,"cmd":"status"}"#).await;
    let reply = t.read_line().await.unwrap();
    assert!(reply.contains("\"id\":99"), "{reply}");
    let c = d.client().await;
    c.login("admin", crate::common::ADMIN_PW).await.unwrap();
    report(
        "malformed input (json)",
        format!(
            "{} bad requests, {errors} structured errors, 0 crashes, no shell",
            corpus.len() - 2
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_vanish_mid_answer_do_not_hurt_the_daemon() {
    let _one = serial().await;
    let d = TestDaemon::spawn().await;
    for _ in 0..50 {
        let mut t = d.text_admin().await;
        t.send("LIST").await;
        drop(t);
    }
    let mut again = d.text_admin().await;
    assert!(!again.list().await.is_empty());
    report(
        "vanishing clients",
        "50 clients gone mid-LIST; the daemon answers normally",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_gets_a_clear_error_and_the_daemon_goes_on() {
    let _one = serial().await;
    let mnt = tempfile::tempdir().unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=512k", "tmpfs"])
        .arg(mnt.path())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("SKIPPED: mounting a small tmpfs needs root (CAP_SYS_ADMIN)");
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&self.0)
                .status();
        }
    }
    let _unmount = Unmount(mnt.path().to_owned());
    // The whole data directory on the small file system.
    let data = mnt.path().join("data");
    let d = TestDaemon::spawn_with(crate::common::Setup {
        tweak: Box::new({
            let data = data.clone();
            move |cfg, root| {
                std::fs::create_dir(&data).unwrap();
                let users = data.join("users.json");
                std::fs::copy(root.join("data/users.json"), &users).unwrap();
                cfg.paths.data_dir = data.clone();
                cfg.paths.users = users;
                cfg.paths.cert = data.join("cert.pem");
                cfg.paths.key = data.join("key.pem");
            }
        }),
        ..Default::default()
    })
    .await;
    let mut t = d.text_admin().await;
    // Fill the file system.
    let _ = std::fs::write(mnt.path().join("filler"), vec![0u8; 1024 * 1024]);
    let r = t.cmd("START:sleep 300").await;
    assert!(r.starts_with("ERR") && r.contains("is full"), "{r}");
    assert!(t.cmd("STATUS").await.starts_with("OK"));
    report(
        "full disk",
        format!("START answered '{r}'; the session went on"),
    );
}
