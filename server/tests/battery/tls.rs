//! TLS as real clients see it: `openssl s_client` with old protocol versions and plaintext, and
//! `sslscan` over both ports.

use crate::common::{TestDaemon, require_tool};
use crate::{report, serial};
use std::process::{Command, Stdio};

fn s_client(port: u16, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .arg("s_client")
        .arg("-connect")
        .arg(format!("127.0.0.1:{port}"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.success() && text.contains("BEGIN CERTIFICATE") || text.contains("Protocol  :"),
        text,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_protocols_and_plaintext_are_refused_on_both_ports() {
    let _one = serial().await;
    if !require_tool("openssl") {
        return;
    }
    let d = TestDaemon::spawn().await;
    let mut refused = 0;
    for port in [d.addr.port(), d.web_addr.port()] {
        let (ok, text) = s_client(port, &["-tls1_3"]);
        assert!(ok, "TLS 1.3 works on {port}: {text}");
        let (ok, text) = s_client(port, &["-tls1_2"]);
        assert!(ok, "TLS 1.2 works on {port}: {text}");
        for old in ["-tls1", "-tls1_1"] {
            // OpenSSL 3 also needs its security level lowered to even offer these.
            let (ok, text) = s_client(port, &[old, "-cipher", "DEFAULT@SECLEVEL=0"]);
            assert!(
                !ok || text.contains("no protocols available") || text.contains("alert"),
                "{old} on {port}: {text}"
            );
            refused += 1;
        }
        // Plaintext gets nothing but a closed connection.
        let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        use std::io::{Read, Write};
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let _ = tcp.write_all(b"LOGIN:admin:x\nGET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
        let mut buf = [0u8; 256];
        let n = tcp.read(&mut buf).unwrap_or(0);
        let answer = String::from_utf8_lossy(&buf[..n]);
        assert!(
            !answer.contains("OK") && !answer.contains("HTTP/1.1 200"),
            "{answer}"
        );
        refused += 1;
    }
    report(
        "old TLS and plaintext",
        format!("{refused} attempts on both ports refused; TLS 1.2 and 1.3 work"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslscan_finds_no_weakness_on_either_port() {
    let _one = serial().await;
    if !require_tool("sslscan") {
        return;
    }
    let d = TestDaemon::spawn().await;
    for (name, port) in [("protocol", d.addr.port()), ("web", d.web_addr.port())] {
        let out = Command::new("sslscan")
            .args(["--no-colour", "--show-sigs"])
            .arg(format!("127.0.0.1:{port}"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let line = |needle: &str| {
            text.lines()
                .find(|l| l.trim_start().starts_with(needle))
                .unwrap_or_else(|| panic!("no '{needle}' line in:\n{text}"))
                .to_owned()
        };
        for (proto, want) in [
            ("SSLv2", "disabled"),
            ("SSLv3", "disabled"),
            ("TLSv1.0", "disabled"),
            ("TLSv1.1", "disabled"),
            ("TLSv1.2", "enabled"),
            ("TLSv1.3", "enabled"),
        ] {
            assert!(line(proto).contains(want), "{name}: {}", line(proto));
        }
        let ciphers: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("Preferred") || l.starts_with("Accepted"))
            .collect();
        assert!(!ciphers.is_empty(), "{text}");
        for c in &ciphers {
            for weak in ["RC4", "DES", "NULL", "EXP", "MD5", "anon", "CBC"] {
                assert!(!c.contains(weak), "{name}: weak cipher {c}");
            }
            assert!(
                c.contains("256 bits") || c.contains("128 bits"),
                "{name}: {c}"
            );
        }
        assert!(!text.contains("Compression enabled"), "{text}");
        assert!(
            text.lines()
                .filter(|l| l.contains("heartbleed"))
                .all(|l| l.contains("not vulnerable")),
            "{text}"
        );
        report(
            &format!("sslscan ({name} port)"),
            format!(
                "TLS 1.2 and 1.3 only; {} cipher suites, all AEAD with forward secrecy; no compression, no heartbleed",
                ciphers.len()
            ),
        );
    }
}
