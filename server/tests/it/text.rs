//! The seed protocol, driven as a person would drive it with `openssl s_client`.

use crate::common::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn pid_of(reply: &str) -> u32 {
    reply
        .strip_prefix("OK ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("expected 'OK <pid>', got '{reply}'"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_can_log_in_list_start_and_stop() {
    let d = TestDaemon::spawn().await;
    let mut t = d.text().await;
    assert_eq!(
        t.cmd(&format!("LOGIN:admin:{ADMIN_PW}")).await,
        "OK logged in as admin (role admin)"
    );
    let rows = t.list().await;
    assert!(rows.len() > 1);
    let me = std::process::id().to_string();
    let row = rows
        .iter()
        .find(|r| r[0] == me)
        .expect("the test process is listed");
    assert!(row[2].parse::<f32>().is_ok(), "cpu column '{}'", row[2]);
    assert!(
        row[3].parse::<u64>().unwrap() > 0,
        "memory column '{}'",
        row[3]
    );

    let pid = pid_of(&t.cmd("START:sleep 30").await);
    assert!(alive(pid));
    // LIST answers from the latest sample; the new process shows up within a sample or two.
    let mut seen = false;
    for _ in 0..20 {
        if t.list()
            .await
            .iter()
            .any(|r| r[0] == pid.to_string() && r[4] == "sleep")
        {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen, "started process {pid} never appeared in LIST");
    assert_eq!(
        t.cmd(&format!("STOP:{pid}")).await,
        format!("OK stopped {pid} (SIGTERM)")
    );
    assert!(!alive(pid), "STOP replied before the process was gone");
    assert_eq!(t.cmd("QUIT").await, "OK bye");
    assert_eq!(t.read_line().await, None, "QUIT closes the session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_has_the_required_keys() {
    let d = TestDaemon::spawn().await;
    let mut t = d.text_admin().await;
    let line = t.cmd("STATUS").await;
    let rest = line.strip_prefix("OK ").expect("OK");
    let kv: std::collections::HashMap<&str, &str> =
        rest.split(' ').filter_map(|p| p.split_once('=')).collect();
    for key in [
        "cpu",
        "mem_used",
        "mem_total",
        "procs",
        "uptime",
        "load1",
        "hostname",
    ] {
        assert!(kv.contains_key(key), "STATUS lacks '{key}': {line}");
    }
    assert!(kv["mem_total"].parse::<u64>().unwrap() >= kv["mem_used"].parse::<u64>().unwrap());
    assert!(kv["procs"].parse::<u32>().unwrap() > 0);
    assert!(kv["cpu"].parse::<f32>().is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_but_login_works_before_login() {
    let d = TestDaemon::spawn().await;
    let mut t = d.text().await;
    for line in ["LIST", "STATUS", "START:sleep 1", "STOP:1", "FOO"] {
        assert_eq!(t.cmd(line).await, "ERR not authenticated", "{line}");
    }
    assert_eq!(
        t.cmd("LOGIN:admin:wrong").await,
        "ERR authentication failed"
    );
    assert_eq!(
        t.cmd("LOGIN:nobody:wrong").await,
        "ERR authentication failed"
    );
    assert_eq!(t.cmd("LOGIN:admin").await, "ERR usage: LOGIN:user:password");
    assert_eq!(t.cmd("LIST").await, "ERR not authenticated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_password_may_contain_colons() {
    let d = TestDaemon::spawn().await;
    let mut t = d.text().await;
    assert_eq!(
        t.cmd(&format!("LOGIN:oper:{OPER_PW}")).await,
        "OK logged in as oper (role operator)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_error_and_the_session_goes_on() {
    let d = TestDaemon::spawn().await;
    let mut t = d.text_admin().await;
    assert_eq!(t.cmd("FOO").await, "ERR unknown command");
    assert!(
        t.cmd("status").await.starts_with("OK cpu="),
        "keywords ignore case"
    );
    assert_eq!(
        t.cmd("STOP:abc").await,
        "ERR invalid pid 'abc': expected a positive whole number"
    );
    assert_eq!(
        t.cmd("STOP:-3").await,
        "ERR invalid pid '-3': expected a positive whole number"
    );
    assert_eq!(t.cmd("START:").await, "ERR empty command");
    assert_eq!(t.cmd("START:   ").await, "ERR empty command");
    assert!(
        t.cmd("START:echo 'unclosed")
            .await
            .starts_with("ERR cannot split command")
    );
    assert!(
        t.cmd("START:no-such-program-xyz")
            .await
            .starts_with("ERR cannot start 'no-such-program-xyz'")
    );

    t.send_raw(b"\xff\xfe\xfd\n").await;
    assert_eq!(t.read_line().await.unwrap(), "ERR line is not valid UTF-8");

    let mut long = vec![b'A'; 64 * 1024 + 1];
    long.push(b'\n');
    t.send_raw(&long).await;
    assert_eq!(
        t.read_line().await.unwrap(),
        "ERR line too long (at most 65536 bytes)"
    );
    // Exactly at the limit is a line like any other.
    let mut exact = vec![b'A'; 64 * 1024];
    exact.push(b'\n');
    t.send_raw(&exact).await;
    assert_eq!(t.read_line().await.unwrap(), "ERR unknown command");
    // A huge line in pieces: discarded to its end, the next command still works.
    for _ in 0..8 {
        t.send_raw(&[b'B'; 32 * 1024]).await;
    }
    t.send_raw(b"\r\nSTATUS\r\n").await;
    assert_eq!(
        t.read_line().await.unwrap(),
        "ERR line too long (at most 65536 bytes)"
    );
    assert!(
        t.read_line().await.unwrap().starts_with("OK cpu="),
        "CRLF works too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_runs_no_shell() {
    let d = TestDaemon::spawn().await;
    let mut t = d.text_admin().await;
    let dir = d.dir.path().join("shell");
    std::fs::create_dir(&dir).unwrap();
    let d_ = dir.display();
    let reply = t
        .cmd(&format!("START:touch {d_}/a; touch {d_}/b '{d_}/c$(id)'"))
        .await;
    let pid = pid_of(&reply);
    assert!(eventually(Duration::from_secs(5), || !alive(pid)).await);
    // One `touch` got every word literally: "a;" is a file name, not a command separator,
    // and "$(id)" was never substituted.
    assert!(dir.join("a;").exists(), "the ';' was an argument");
    assert!(!dir.join("a").exists());
    assert!(dir.join("c$(id)").exists(), "no command substitution");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn started_process_is_detached_with_its_output_logged() {
    let d = TestDaemon::spawn().await;
    let mut t = d.text_admin().await;
    let pid = pid_of(
        &t.cmd(r#"START:sh -c "echo out-line; echo err-line >&2; exec sleep 30""#)
            .await,
    );
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    assert_eq!(
        fields[3],
        pid.to_string(),
        "the process leads its own session"
    );
    assert_eq!(fields[2], pid.to_string(), "and its own process group");
    let plain = pid_of(&t.cmd("START:sleep 30").await);
    let environ = std::fs::read(format!("/proc/{plain}/environ")).unwrap();
    let vars: Vec<&[u8]> = environ
        .split(|b| *b == 0)
        .filter(|v| !v.is_empty())
        .collect();
    assert!(
        vars.iter()
            .all(|v| v.starts_with(b"PATH=") || v.starts_with(b"HOME=") || v.starts_with(b"LANG=")),
        "environment is cleared to PATH, HOME, LANG"
    );
    assert!(
        t.cmd(&format!("STOP:{plain}"))
            .await
            .starts_with("OK stopped")
    );

    let logs = d.data_dir().join("logs");
    let found = eventually(Duration::from_secs(5), || {
        std::fs::read_dir(&logs).unwrap().flatten().any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("{pid}-"))
                && std::fs::read_to_string(e.path())
                    .is_ok_and(|s| s.contains("out-line") && s.contains("err-line"))
        })
    })
    .await;
    assert!(found, "stdout and stderr land in logs/{pid}-*.log");
    assert!(
        t.cmd(&format!("STOP:{pid}"))
            .await
            .starts_with("OK stopped")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_refuses_what_must_not_be_signalled() {
    let d = TestDaemon::spawn().await;
    let mut t = d.text_admin().await;
    assert_eq!(t.cmd("STOP:0").await, "ERR refused: pid 0 is not a process");
    assert_eq!(t.cmd("STOP:1").await, "ERR refused: pid 1 is init");
    // The daemon runs inside this test process.
    let me = std::process::id();
    assert_eq!(
        t.cmd(&format!("STOP:{me}")).await,
        format!("ERR refused: pid {me} is this daemon")
    );
    assert_eq!(
        t.cmd("STOP:2147483000").await,
        "ERR no such process '2147483000'"
    );
    assert!(alive(me));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_kills_what_ignores_sigterm_after_the_grace_period() {
    let d = TestDaemon::spawn_with(Setup {
        tweak: Box::new(|cfg, _| cfg.stop_grace = Duration::from_millis(300)),
        ..Default::default()
    })
    .await;
    let mut t = d.text_admin().await;
    let pid = pid_of(
        &t.cmd(r#"START:sh -c "trap '' TERM; while :; do sleep 1; done""#)
            .await,
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        t.cmd(&format!("STOP:{pid}")).await,
        format!("OK stopped {pid} (killed: still running after SIGTERM)")
    );
    assert!(!alive(pid));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_limit_what_users_may_do() {
    let d = TestDaemon::spawn().await;
    let mut admin = d.text_admin().await;
    let admins = pid_of(&admin.cmd("START:sleep 30").await);

    let mut view = d.text().await;
    assert!(
        view.cmd(&format!("LOGIN:view:{VIEW_PW}"))
            .await
            .starts_with("OK")
    );
    assert!(view.cmd("STATUS").await.starts_with("OK"));
    assert!(!view.list().await.is_empty());
    assert_eq!(
        view.cmd("START:sleep 1").await,
        "ERR permission denied: role viewer may not start"
    );
    assert_eq!(
        view.cmd(&format!("STOP:{admins}")).await,
        "ERR permission denied: role viewer may not stop"
    );

    let mut oper = d.text().await;
    assert!(
        oper.cmd(&format!("LOGIN:oper:{OPER_PW}"))
            .await
            .starts_with("OK")
    );
    let own = pid_of(&oper.cmd("START:sleep 30").await);
    assert!(
        oper.cmd(&format!("STOP:{admins}"))
            .await
            .starts_with("ERR permission denied: role operator may stop only")
    );
    assert!(alive(admins));
    assert!(
        oper.cmd(&format!("STOP:{own}"))
            .await
            .starts_with("OK stopped")
    );
    assert!(
        admin
            .cmd(&format!("STOP:{admins}"))
            .await
            .starts_with("OK stopped")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn original_plaintext_users_file_works() {
    let d = TestDaemon::spawn_with(Setup {
        users_json: Some(r#"{"admin": "1234", "luis": "abcd"}"#.into()),
        ..Default::default()
    })
    .await;
    let mut t = d.text().await;
    assert_eq!(
        t.cmd("LOGIN:luis:abcd").await,
        "OK logged in as luis (role admin)"
    );
    let mut t = d.text().await;
    assert_eq!(t.cmd("LOGIN:luis:1234").await, "ERR authentication failed");
    assert_eq!(
        t.cmd("LOGIN:admin:1234").await,
        "OK logged in as admin (role admin)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_clients_at_once() {
    let d = TestDaemon::spawn().await;
    let (addr, fp) = (d.addr, d.fingerprint.clone());
    let mut tasks = Vec::new();
    for i in 0..24 {
        let fp = fp.clone();
        tasks.push(tokio::spawn(async move {
            let mut t = TextConn::connect(addr, &fp).await;
            assert!(
                t.cmd(&format!("LOGIN:admin:{ADMIN_PW}"))
                    .await
                    .starts_with("OK")
            );
            for _ in 0..3 {
                assert!(!t.list().await.is_empty());
                assert!(t.cmd("STATUS").await.starts_with("OK cpu="));
            }
            i
        }));
    }
    // A client that connects and says nothing does not hold anyone up.
    let _silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .unwrap()
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_tcp_gets_no_service() {
    let d = TestDaemon::spawn().await;
    let mut tcp = tokio::net::TcpStream::connect(d.addr).await.unwrap();
    tcp.write_all(format!("LOGIN:admin:{ADMIN_PW}\nLIST\n").as_bytes())
        .await
        .unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut buf)).await;
    assert!(
        !String::from_utf8_lossy(&buf).contains("OK"),
        "plaintext got an answer"
    );
    // And the daemon still serves TLS.
    let mut t = d.text_admin().await;
    assert!(t.cmd("STATUS").await.starts_with("OK"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_handshakes_and_silent_clients_are_closed() {
    let d = TestDaemon::spawn_with(Setup {
        tweak: Box::new(|cfg, _| {
            cfg.handshake_timeout = Duration::from_millis(300);
            cfg.login_timeout = Duration::from_millis(500);
        }),
        ..Default::default()
    })
    .await;
    let mut tcp = tokio::net::TcpStream::connect(d.addr).await.unwrap();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
        .await
        .expect("closed by the handshake timeout");
    assert!(matches!(n, Ok(0) | Err(_)));

    let mut t = d.text().await;
    assert_eq!(
        t.read_line().await.as_deref(),
        Some("ERR not logged in in time, closing")
    );
    assert_eq!(t.read_line().await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_started_processes_run() {
    let mut d = TestDaemon::spawn().await;
    let mut t = d.text_admin().await;
    let pid = pid_of(&t.cmd("START:sleep 30").await);
    d.stop().await;
    assert!(alive(pid), "a started process outlives the daemon");
    // Nothing with this daemon's certificate answers there any more (another test may have
    // been given the same port since).
    assert!(
        TextConn::connect_from([127, 0, 0, 1], d.addr, &d.fingerprint)
            .await
            .is_err(),
        "no longer accepting"
    );
    kill(pid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openssl_made_pair_works() {
    if !require_tool("openssl") {
        return;
    }
    let d = TestDaemon::spawn_with(Setup {
        tweak: Box::new(|cfg, root| {
            let (cert, key) = (root.join("c.pem"), root.join("k.pem"));
            let ok = std::process::Command::new("openssl")
                .args([
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=localhost",
                ])
                .arg("-keyout")
                .arg(&key)
                .arg("-out")
                .arg(&cert)
                .output()
                .unwrap();
            assert!(
                ok.status.success(),
                "{}",
                String::from_utf8_lossy(&ok.stderr)
            );
            cfg.paths.cert = cert;
            cfg.paths.key = key;
            cfg.paths.cert_given = true;
        }),
        ..Default::default()
    })
    .await;
    let pem = std::fs::read(d.dir.path().join("c.pem")).unwrap();
    let der = vigia_shared::tls::parse_certs(&pem).unwrap();
    assert_eq!(d.fingerprint, vigia_shared::tls::fingerprint(&der[0]));
    assert!(
        !d.data_dir().join("cert.pem").exists(),
        "no pair generated when one is given"
    );
    let mut t = d.text_admin().await;
    assert!(t.cmd("STATUS").await.starts_with("OK"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_lock_out_the_address_and_the_user_only() {
    let d = TestDaemon::spawn_with(Setup {
        tweak: Box::new(|cfg, _| cfg.lockout.free_failures = 3),
        ..Default::default()
    })
    .await;
    let mut t = d.text().await;
    for _ in 0..4 {
        assert_eq!(
            t.cmd("LOGIN:admin:guess").await,
            "ERR authentication failed"
        );
    }
    let right = format!("LOGIN:admin:{ADMIN_PW}");
    assert_eq!(
        t.cmd(&right).await,
        "ERR authentication failed",
        "locked out, same answer"
    );
    let mut other_addr = TextConn::connect_from([127, 0, 0, 2], d.addr, &d.fingerprint)
        .await
        .unwrap();
    assert_eq!(
        other_addr.cmd(&right).await,
        "ERR authentication failed",
        "the user is locked"
    );
    let started = std::time::Instant::now();
    assert_eq!(
        other_addr.cmd(&format!("LOGIN:view:{VIEW_PW}")).await,
        "OK logged in as view (role viewer)",
        "another user from another address gets in at once"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_caps_turn_away_the_excess_only() {
    let d = TestDaemon::spawn_with(Setup {
        tweak: Box::new(|cfg, _| cfg.max_connections_per_ip = 3),
        ..Default::default()
    })
    .await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(d.text_admin().await);
    }
    let refused = TextConn::connect_from([127, 0, 0, 1], d.addr, &d.fingerprint).await;
    let turned_away = match refused {
        Err(_) => true,
        Ok(mut t) => {
            t.send("STATUS").await;
            t.read_line().await.is_none()
        }
    };
    assert!(
        turned_away,
        "a fourth connection from the same address is refused"
    );
    let mut elsewhere = TextConn::connect_from([127, 0, 0, 3], d.addr, &d.fingerprint)
        .await
        .unwrap();
    assert!(
        elsewhere
            .cmd(&format!("LOGIN:view:{VIEW_PW}"))
            .await
            .starts_with("OK")
    );
    for t in &mut open {
        assert!(
            t.cmd("STATUS").await.starts_with("OK cpu="),
            "open sessions are unharmed"
        );
    }
}
