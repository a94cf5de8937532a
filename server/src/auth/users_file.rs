//! The users file: JSON, in the original design's form (`{"admin": "1234"}`, plaintext) or the
//! rich form (`{"admin": {"password": "$argon2id$...", "role": "admin"}}`), read and written
//! atomically (a temporary file renamed over the old one), so that no edit can lose entries.

use super::password;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use vigia_shared::Role;
use vigia_shared::proto::limits::MAX_USER;

/// Why the users file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum UsersFileError {
    #[error("cannot read users file '{path}': {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid users file '{path}': {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error("invalid user name '{0}' in the users file: {1}")]
    BadName(String, &'static str),
    #[error("cannot write users file '{path}': {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// How a password is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// A PHC argon2 hash.
    Hash(String),
    /// A plaintext password, as in the original design.
    Plain(String),
}

impl Secret {
    fn from_text(text: String) -> Self {
        if password::is_phc_hash(&text) {
            Secret::Hash(text)
        } else {
            Secret::Plain(text)
        }
    }
}

/// One user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntry {
    pub secret: Secret,
    pub role: Role,
}

/// All users, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsersFile {
    pub users: BTreeMap<String, UserEntry>,
}

#[derive(Deserialize, Serialize)]
#[serde(untagged)]
enum RawEntry {
    Plain(String),
    Rich {
        password: String,
        #[serde(default = "default_role")]
        role: Role,
    },
}

fn default_role() -> Role {
    Role::Admin
}

/// Checks a user name: what the text protocol can carry and a log line can show.
pub fn validate_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("it is empty");
    }
    if name.len() > MAX_USER {
        return Err("it is longer than 64 bytes");
    }
    if name.contains(':') {
        return Err("it contains ':'");
    }
    if name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("it contains spaces or control characters");
    }
    Ok(())
}

impl UsersFile {
    pub fn parse(text: &str, path: &Path) -> Result<Self, UsersFileError> {
        let raw: BTreeMap<String, RawEntry> =
            serde_json::from_str(text).map_err(|source| UsersFileError::Parse {
                path: path.display().to_string(),
                source,
            })?;
        let mut users = BTreeMap::new();
        for (name, entry) in raw {
            validate_name(&name).map_err(|why| UsersFileError::BadName(name.clone(), why))?;
            let entry = match entry {
                RawEntry::Plain(p) => UserEntry {
                    secret: Secret::from_text(p),
                    role: Role::Admin,
                },
                RawEntry::Rich { password, role } => UserEntry {
                    secret: Secret::from_text(password),
                    role,
                },
            };
            users.insert(name, entry);
        }
        Ok(Self { users })
    }

    pub fn load(path: &Path) -> Result<Self, UsersFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| UsersFileError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Names of users whose password is stored in plaintext.
    pub fn plaintext_users(&self) -> Vec<&str> {
        self.users
            .iter()
            .filter(|(_, e)| matches!(e.secret, Secret::Plain(_)))
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// The file's text in the rich form. Plaintext entries stay plaintext until the admin
    /// replaces them with `vigiad user passwd NAME`.
    pub fn render(&self) -> String {
        let raw: BTreeMap<&str, RawEntry> = self
            .users
            .iter()
            .map(|(n, e)| {
                let password = match &e.secret {
                    Secret::Hash(h) => h.clone(),
                    Secret::Plain(p) => p.clone(),
                };
                (
                    n.as_str(),
                    RawEntry::Rich {
                        password,
                        role: e.role,
                    },
                )
            })
            .collect();
        let mut text = serde_json::to_string_pretty(&raw).unwrap_or_else(|_| "{}".into());
        text.push('\n');
        text
    }

    /// Writes the file atomically with mode 0600: a temporary file in the same directory,
    /// synced, then renamed over the old one.
    pub fn save(&self, path: &Path) -> Result<(), UsersFileError> {
        write_atomically(path, self.render().as_bytes(), 0o600).map_err(|source| {
            UsersFileError::Write {
                path: path.display().to_string(),
                source,
            }
        })
    }
}

/// Replaces `path` with `data` atomically: readers see the old file or the new, never a part.
pub fn write_atomically(path: &Path, data: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".vigia-")
        .suffix(".tmp")
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(dir)?;
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn original_plaintext_form_is_read_as_admins() {
        let f = UsersFile::parse(r#"{"admin": "1234", "luis": "abcd"}"#, Path::new("u")).unwrap();
        assert_eq!(f.users["luis"].secret, Secret::Plain("abcd".into()));
        assert_eq!(f.users["luis"].role, Role::Admin);
        assert_eq!(f.plaintext_users(), ["admin", "luis"]);
    }

    #[test]
    fn rich_form_and_bare_hashes() {
        let h = password::hash("longpassword").unwrap();
        let text = format!(
            r#"{{"ana": {{"password": "{h}", "role": "viewer"}}, "bob": "{h}", "cy": {{"password": "x"}}}}"#
        );
        let f = UsersFile::parse(&text, Path::new("u")).unwrap();
        assert_eq!(f.users["ana"].role, Role::Viewer);
        assert_eq!(f.users["bob"].secret, Secret::Hash(h.clone()));
        assert_eq!(f.users["bob"].role, Role::Admin);
        assert_eq!(f.users["cy"].role, Role::Admin);
        assert!(f.plaintext_users() == ["cy"]);
    }

    #[test]
    fn bad_files_are_clear_errors() {
        assert!(matches!(
            UsersFile::parse("[1,2]", Path::new("u")),
            Err(UsersFileError::Parse { .. })
        ));
        assert!(matches!(
            UsersFile::parse(r#"{"a:b": "x"}"#, Path::new("u")),
            Err(UsersFileError::BadName(..))
        ));
        assert!(
            UsersFile::parse(r#"{"a": {"password": "x", "role": "god"}}"#, Path::new("u")).is_err()
        );
    }

    #[test]
    fn save_round_trips_and_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.json");
        let f = UsersFile::parse(r#"{"admin": "1234", "luis": "abcd"}"#, &path).unwrap();
        f.save(&path).unwrap();
        assert_eq!(UsersFile::load(&path).unwrap(), f);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
