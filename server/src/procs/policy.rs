//! What START may run and as whom: the account started processes run as when the daemon is
//! root (`run_as`), and the optional allow-list of programs.

use super::ProcError;
use std::path::{Path, PathBuf};

/// The system PATH that started programs are looked up in (and get as their `PATH`).
pub const SAFE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A local account, as /etc/passwd gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
}

impl Account {
    /// Looks `name` up in `passwd` (the text of /etc/passwd).
    pub fn find(passwd: &str, name: &str) -> Option<Self> {
        passwd.lines().find_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() < 7 || f[0] != name {
                return None;
            }
            Some(Self {
                name: f[0].to_owned(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: PathBuf::from(f[5]),
            })
        })
    }
}

/// The rules of START.
#[derive(Debug, Clone, Default)]
pub struct StartPolicy {
    /// Run started processes as this account (only when the daemon is root).
    pub run_as: Option<Account>,
    /// When set, only these programs (canonical paths) may be started.
    pub allowed: Option<Vec<PathBuf>>,
}

impl StartPolicy {
    /// Builds the policy from the configuration. As root, `run_as` defaults to `nobody`;
    /// `run_as = "root"` must be said explicitly.
    pub fn new(
        run_as: Option<&str>,
        allowed: Option<&[String]>,
        is_root: bool,
    ) -> Result<Self, String> {
        let run_as = if is_root {
            match run_as.unwrap_or("nobody") {
                "root" => {
                    tracing::warn!("run_as = \"root\": started processes run as root");
                    None
                }
                name => {
                    let passwd = std::fs::read_to_string("/etc/passwd")
                        .map_err(|e| format!("reading /etc/passwd: {e}"))?;
                    let account = Account::find(&passwd, name).ok_or_else(|| {
                        format!("run_as account '{name}' does not exist: create it or name another")
                    })?;
                    if account.uid == 0 {
                        return Err(format!(
                            "run_as account '{name}' has uid 0: say run_as = \"root\" if that is meant"
                        ));
                    }
                    Some(account)
                }
            }
        } else {
            if let Some(name) = run_as {
                tracing::warn!(
                    run_as = name,
                    "run_as applies only when vigiad runs as root; started processes run as this daemon's user"
                );
            }
            None
        };
        let allowed = allowed
            .map(|list| {
                list.iter()
                    .map(|p| {
                        resolve(p).ok_or_else(|| {
                            format!("allowed program '{p}' was not found (give a path or a name in the system PATH)")
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        Ok(Self { run_as, allowed })
    }

    /// The program to execute for `argv0`: its canonical path when an allow-list is set (and
    /// it is on the list), else `argv0` itself, looked up in [`SAFE_PATH`] at exec.
    pub fn program(&self, argv0: &str) -> Result<PathBuf, ProcError> {
        let Some(allowed) = &self.allowed else {
            return Ok(PathBuf::from(argv0));
        };
        match resolve(argv0) {
            Some(path) if allowed.contains(&path) => Ok(path),
            _ => Err(ProcError::Refused(format!(
                "'{argv0}' is not an allowed program on this server"
            ))),
        }
    }
}

/// The canonical path of a program: an absolute path as it is, a bare name through
/// [`SAFE_PATH`]; relative paths are never resolved.
fn resolve(program: &str) -> Option<PathBuf> {
    let p = Path::new(program);
    if p.is_absolute() {
        return std::fs::canonicalize(p).ok().filter(|c| c.is_file());
    }
    if program.contains('/') || program.is_empty() {
        return None;
    }
    SAFE_PATH
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|c| c.is_file())
        .and_then(|c| std::fs::canonicalize(c).ok())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_read_from_passwd_lines() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
        let a = Account::find(passwd, "nobody").unwrap();
        assert_eq!((a.uid, a.gid), (65534, 65534));
        assert_eq!(a.home, PathBuf::from("/nonexistent"));
        assert!(Account::find(passwd, "nobod").is_none());
        assert!(Account::find("broken:line", "broken").is_none());
    }

    #[test]
    fn the_allow_list_admits_only_its_programs() {
        let policy = StartPolicy::new(None, Some(&["sleep".to_owned()]), false).unwrap();
        let sleep = policy.program("sleep").unwrap();
        assert!(sleep.is_absolute());
        assert_eq!(policy.program(sleep.to_str().unwrap()).unwrap(), sleep);
        assert!(matches!(policy.program("true"), Err(ProcError::Refused(_))));
        assert!(policy.program("./sleep").is_err());
        assert!(StartPolicy::new(None, Some(&["no-such-program-x".to_owned()]), false).is_err());
        let open = StartPolicy::default();
        assert_eq!(open.program("anything").unwrap(), PathBuf::from("anything"));
    }

    #[test]
    fn root_runs_started_processes_as_nobody_unless_told() {
        let p = StartPolicy::new(None, None, true).unwrap();
        assert_eq!(p.run_as.unwrap().name, "nobody");
        assert!(
            StartPolicy::new(Some("root"), None, true)
                .unwrap()
                .run_as
                .is_none()
        );
        assert!(StartPolicy::new(Some("no-such-user-x"), None, true).is_err());
        assert!(
            StartPolicy::new(Some("nobody"), None, false)
                .unwrap()
                .run_as
                .is_none()
        );
    }
}
