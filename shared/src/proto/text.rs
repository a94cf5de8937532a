//! Text mode, the original line protocol: `LOGIN:user:password`, `LIST`, `START:command`,
//! `STOP:pid`, `STATUS`, `QUIT`. Every reply line starts with `OK` or `ERR`, so that a person
//! can drive the daemon by hand with `openssl s_client`.

use super::limits::{MAX_ARGS, MAX_COMMAND, MAX_PASSWORD, MAX_USER};
use super::{
    AuditQuery, Command, ErrorCode, ListQuery, Pid, Reply, StartRequest, StopRequest, WireError,
};
use std::fmt::Write as _;

/// Why a text line is not a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("unknown command")]
    Unknown,
    #[error("empty line")]
    Empty,
    #[error("usage: {0}")]
    Usage(&'static str),
    #[error("empty command")]
    EmptyCommand,
    #[error("command too long ({0} bytes, at most {MAX_COMMAND})")]
    CommandTooLong(usize),
    #[error("too many arguments ({0}, at most {MAX_ARGS})")]
    TooManyArgs(usize),
    #[error("cannot split command: {0}")]
    Split(String),
    #[error("invalid pid '{0}': expected a positive whole number")]
    InvalidPid(String),
    #[error("user name too long (at most {MAX_USER} bytes)")]
    UserTooLong,
    #[error("password too long (at most {MAX_PASSWORD} bytes)")]
    PasswordTooLong,
}

impl From<&TextError> for WireError {
    fn from(e: &TextError) -> Self {
        let code = match e {
            TextError::Unknown | TextError::Empty => ErrorCode::UnknownCommand,
            TextError::CommandTooLong(_) | TextError::TooManyArgs(_) => ErrorCode::LimitExceeded,
            TextError::UserTooLong | TextError::PasswordTooLong => ErrorCode::LimitExceeded,
            _ => ErrorCode::BadRequest,
        };
        WireError::new(code, e.to_string())
    }
}

/// Events shown by `AUDIT` in text mode.
const TEXT_AUDIT_EVENTS: u32 = 50;

/// Parses one line (without its line ending) into a [`Command`].
///
/// Keywords are case-insensitive; arguments are taken verbatim. In `LOGIN:user:password` the
/// user name ends at the first `:` and the password is everything after the second.
pub fn parse(line: &str) -> Result<Command, TextError> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let (keyword, arg) = match line.split_once(':') {
        Some((k, a)) => (k.trim(), Some(a)),
        None => (line.trim(), None),
    };
    if keyword.is_empty() && arg.is_none() {
        return Err(TextError::Empty);
    }
    let keyword = keyword.to_ascii_uppercase();
    match (keyword.as_str(), arg) {
        ("LOGIN", Some(rest)) => {
            let (user, password) = rest
                .split_once(':')
                .ok_or(TextError::Usage("LOGIN:user:password"))?;
            if user.is_empty() {
                return Err(TextError::Usage("LOGIN:user:password"));
            }
            if user.len() > MAX_USER {
                return Err(TextError::UserTooLong);
            }
            if password.len() > MAX_PASSWORD {
                return Err(TextError::PasswordTooLong);
            }
            Ok(Command::Login {
                user: user.to_owned(),
                password: password.to_owned(),
            })
        }
        ("LOGIN", None) => Err(TextError::Usage("LOGIN:user:password")),
        ("LIST", None) => Ok(Command::List(ListQuery::default())),
        ("STATUS", None) => Ok(Command::Status),
        ("QUIT", None) => Ok(Command::Quit),
        ("START", Some(cmd)) => Ok(Command::Start(StartRequest {
            argv: split_command(cmd)?,
            cwd: None,
        })),
        ("START", None) => Err(TextError::Usage("START:command")),
        ("STOP", Some(pid)) => Ok(Command::Stop(StopRequest {
            pid: parse_pid(pid)?,
            signal: Default::default(),
            grace_ms: None,
        })),
        ("STOP", None) => Err(TextError::Usage("STOP:pid")),
        ("AUDIT", None) => Ok(Command::Audit(AuditQuery {
            limit: Some(TEXT_AUDIT_EVENTS),
            ..Default::default()
        })),
        ("LIST" | "STATUS" | "QUIT" | "AUDIT", Some(_)) => Err(TextError::Usage(
            "LIST, STATUS, AUDIT or QUIT take no argument",
        )),
        _ => Err(TextError::Unknown),
    }
}

/// Splits a command line into words as a POSIX shell would (quotes and backslashes honoured),
/// without expanding anything: the words are run directly, never by a shell.
pub fn split_command(cmd: &str) -> Result<Vec<String>, TextError> {
    if cmd.len() > MAX_COMMAND {
        return Err(TextError::CommandTooLong(cmd.len()));
    }
    let argv = shell_words::split(cmd).map_err(|e| TextError::Split(e.to_string()))?;
    if argv.is_empty() || argv[0].is_empty() {
        return Err(TextError::EmptyCommand);
    }
    if argv.len() > MAX_ARGS {
        return Err(TextError::TooManyArgs(argv.len()));
    }
    Ok(argv)
}

/// Parses a pid: a positive whole number that fits in 32 bits.
pub fn parse_pid(text: &str) -> Result<Pid, TextError> {
    let t = text.trim();
    match t.parse::<u32>() {
        Ok(n) if n <= i32::MAX as u32 => Ok(Pid(n)),
        _ => Err(TextError::InvalidPid(t.chars().take(32).collect())),
    }
}

/// Renders a reply as text-mode lines, each ending with `\n`.
pub fn render(reply: &Reply) -> String {
    let mut out = String::new();
    match reply {
        Reply::Hello { version, server } => {
            let _ = writeln!(out, "OK {server} protocol {version}");
        }
        Reply::LoggedIn { user, role } => {
            let _ = writeln!(out, "OK logged in as {user} (role {role})");
        }
        Reply::Processes { processes, .. } => {
            out.reserve(processes.len() * 48 + 16);
            let _ = writeln!(out, "OK {}", processes.len());
            for p in processes {
                let _ = writeln!(
                    out,
                    "{}\t{}\t{:.1}\t{}\t{}",
                    p.pid,
                    clean_field(&p.user),
                    p.cpu,
                    p.mem,
                    clean_field(&p.name)
                );
            }
        }
        Reply::Started { pid } => {
            let _ = writeln!(out, "OK {pid}");
        }
        Reply::Stopped {
            pid,
            signal,
            killed,
        } => {
            if *killed {
                let _ = writeln!(
                    out,
                    "OK stopped {pid} (killed: still running after SIG{})",
                    signal.name()
                );
            } else {
                let _ = writeln!(out, "OK stopped {pid} (SIG{})", signal.name());
            }
        }
        Reply::Status(s) => {
            let m = &s.sample;
            let _ = writeln!(
                out,
                "OK cpu={:.1} mem_used={} mem_total={} swap_used={} swap_total={} procs={} \
                 uptime={} load1={:.2} load5={:.2} load15={:.2} cores={} hostname={}",
                m.cpu,
                m.mem_used,
                m.mem_total,
                m.swap_used,
                m.swap_total,
                m.procs,
                s.uptime,
                m.load1,
                m.load5,
                m.load15,
                m.cores.len(),
                clean_field(&s.hostname).replace(' ', "_"),
            );
        }
        Reply::Process(p) => {
            let _ = writeln!(
                out,
                "OK pid={} ppid={} user={} name={} threads={} mem={} cpu={:.1}",
                p.pid,
                p.parent.map(|p| p.0).unwrap_or(0),
                clean_field(&p.user),
                clean_field(&p.name),
                p.threads.unwrap_or(0),
                p.mem,
                p.cpu
            );
        }
        Reply::Output { data, .. } => {
            let lines: Vec<&str> = data.lines().collect();
            let _ = writeln!(out, "OK {}", lines.len());
            for l in lines {
                let _ = writeln!(out, "{}", clean_field(l));
            }
        }
        Reply::Subscribed { interval_ms, .. } => {
            let _ = writeln!(out, "OK subscribed every {interval_ms} ms");
        }
        Reply::Audit { events } => {
            let _ = writeln!(out, "OK {}", events.len());
            for e in events {
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    e.id,
                    e.time_ms,
                    clean_field(&e.user),
                    e.peer,
                    e.mode,
                    e.action,
                    clean_field(&e.target),
                    clean_field(&e.result)
                );
            }
        }
        Reply::Unsubscribed => out.push_str("OK unsubscribed\n"),
        Reply::Bye => out.push_str("OK bye\n"),
    }
    out
}

/// Renders an error line.
pub fn render_error(err: &WireError) -> String {
    format!("ERR {}\n", clean_field(&err.message))
}

/// Keeps one field on one line: control characters (tabs, newlines) become spaces, so that an
/// attacker-chosen process name cannot forge extra reply lines or columns.
fn clean_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(char::is_control) {
        s.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .into()
    } else {
        s.into()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("LOGIN:admin:1234", "admin", "1234")]
    #[case("LOGIN:luis:a:b:c", "luis", "a:b:c")]
    #[case("login:admin:", "admin", "")]
    #[case("LOGIN:admin:pw\r", "admin", "pw")]
    fn login_password_may_contain_colons(#[case] line: &str, #[case] user: &str, #[case] pw: &str) {
        assert_eq!(
            parse(line).unwrap(),
            Command::Login {
                user: user.into(),
                password: pw.into()
            }
        );
    }

    #[rstest]
    #[case("LOGIN:admin", TextError::Usage("LOGIN:user:password"))]
    #[case("LOGIN::pw", TextError::Usage("LOGIN:user:password"))]
    #[case("START:", TextError::EmptyCommand)]
    #[case("START:   ", TextError::EmptyCommand)]
    #[case("START:''", TextError::EmptyCommand)]
    #[case("STOP:abc", TextError::InvalidPid("abc".into()))]
    #[case("STOP:-5", TextError::InvalidPid("-5".into()))]
    #[case("STOP:99999999999", TextError::InvalidPid("99999999999".into()))]
    #[case("STOP", TextError::Usage("STOP:pid"))]
    #[case("FOO", TextError::Unknown)]
    #[case("", TextError::Empty)]
    fn bad_lines_get_clear_errors(#[case] line: &str, #[case] err: TextError) {
        assert_eq!(parse(line).unwrap_err(), err);
    }

    #[test]
    fn start_splits_like_a_shell_without_running_one() {
        let Command::Start(req) = parse("START:sleep 100; rm -rf /tmp/x").unwrap() else {
            panic!("not a start")
        };
        assert_eq!(req.argv, ["sleep", "100;", "rm", "-rf", "/tmp/x"]);
        let Command::Start(req) = parse(r#"START:echo "a b" 'c d' e\ f"#).unwrap() else {
            panic!("not a start")
        };
        assert_eq!(req.argv, ["echo", "a b", "c d", "e f"]);
    }

    #[test]
    fn open_quote_is_an_error() {
        assert!(matches!(
            parse("START:echo 'oops"),
            Err(TextError::Split(_))
        ));
    }

    #[test]
    fn list_rows_are_tab_separated_and_control_free() {
        let reply = Reply::Processes {
            total: 1,
            processes: vec![super::super::ProcessInfo {
                pid: Pid(42),
                user: "root".into(),
                cpu: 1.25,
                mem: 4096,
                name: "evil\nOK 0".into(),
            }],
        };
        assert_eq!(render(&reply), "OK 1\n42\troot\t1.2\t4096\tevil OK 0\n");
    }
}
