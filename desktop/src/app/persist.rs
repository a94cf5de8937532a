//! persist: what survives a restart. Saved servers (with their pinned certificate fingerprints,
//! as SSH's `known_hosts` keeps them) and the UI's choices go to one TOML file in the config
//! directory; passwords never do (see [`crate::secrets`]). The window's geometry and egui's
//! layout memory are kept by eframe in a file of the same directory.

use crate::model::HostId;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Why the settings could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PersistError {
    #[error("no home directory found; pass --config-dir DIR")]
    NoHome,
    #[error("cannot read '{path}': {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write '{path}': {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("'{path}' is not a valid settings file: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("cannot encode the settings: {0}")]
    Encode(#[from] toml::ser::Error),
}

/// The directory that holds the app's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigDir(PathBuf);

impl ConfigDir {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self(path.into())
    }

    /// The platform's config directory for the app (`~/.config/vigia` on Linux,
    /// `~/Library/Application Support/org.vigia.vigia` on macOS, `%APPDATA%\vigia\vigia\config`
    /// on Windows).
    pub fn default_location() -> Result<Self, PersistError> {
        directories::ProjectDirs::from("org", "vigia", "vigia")
            .map(|d| Self(d.config_dir().to_path_buf()))
            .ok_or(PersistError::NoHome)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Saved servers and UI choices.
    pub fn settings_file(&self) -> PathBuf {
        self.0.join("vigia.toml")
    }

    /// eframe's storage: window geometry and egui's memory.
    pub fn window_file(&self) -> PathBuf {
        self.0.join("window.ron")
    }
}

/// A saved server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerEntry {
    pub id: HostId,
    pub name: String,
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Keep a session open to it.
    #[serde(default = "yes")]
    pub connect: bool,
    /// SHA-256 fingerprint of the certificate the user accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<String>,
}

fn yes() -> bool {
    true
}

impl ServerEntry {
    /// `host:port`, with brackets around an IPv6 address.
    pub fn addr(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The name the certificate must be valid for.
    pub fn server_name(&self) -> String {
        self.host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned()
    }

    /// The account its password is filed under.
    pub fn account(&self) -> String {
        crate::secrets::account(&self.user, &self.host, self.port)
    }
}

/// Which view the central area shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum View {
    #[default]
    Dashboard,
    Host,
    Search,
}

/// What the overlay plot of the dashboard compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    #[default]
    Cpu,
    Memory,
}

/// The UI's choices that are restored at the next start.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct UiPrefs {
    pub view: View,
    pub selected: Option<HostId>,
    pub overlay: Metric,
    pub show_cores: bool,
}

/// The settings file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Persisted {
    pub ui: UiPrefs,
    #[serde(rename = "server")]
    pub servers: Vec<ServerEntry>,
}

impl Persisted {
    /// Reads the settings; a missing file gives the defaults.
    pub fn load(dir: &ConfigDir) -> Result<Self, PersistError> {
        let path = dir.settings_file();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => return Err(PersistError::Read { path, source }),
        };
        toml::from_str(&text).map_err(|source| PersistError::Parse {
            path,
            source: Box::new(source),
        })
    }

    /// Writes the settings atomically (a temporary file renamed over the old one).
    pub fn save(&self, dir: &ConfigDir) -> Result<(), PersistError> {
        let text = toml::to_string_pretty(self)?;
        let path = dir.settings_file();
        let write = |p: &Path, source| PersistError::Write {
            path: p.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir.path()).map_err(|e| write(dir.path(), e))?;
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, text).map_err(|e| write(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| write(&path, e))
    }

    /// An id no saved server has.
    pub fn next_id(&self) -> HostId {
        HostId(self.servers.iter().map(|s| s.id.0 + 1).max().unwrap_or(1))
    }

    pub fn server(&self, id: HostId) -> Option<&ServerEntry> {
        self.servers.iter().find(|s| s.id == id)
    }

    pub fn server_mut(&mut self, id: HostId) -> Option<&mut ServerEntry> {
        self.servers.iter_mut().find(|s| s.id == id)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let dir = ConfigDir::new(dir.path().join("nested"));
        let mut p = Persisted::default();
        p.servers.push(ServerEntry {
            id: HostId(1),
            name: "db".into(),
            host: "::1".into(),
            port: 5000,
            user: "admin".into(),
            connect: true,
            pinned: Some("AB:CD".into()),
        });
        p.ui.selected = Some(HostId(1));
        p.ui.view = View::Host;
        p.save(&dir).unwrap();
        assert_eq!(Persisted::load(&dir).unwrap(), p);
        assert_eq!(p.servers[0].addr(), "[::1]:5000");
        assert_eq!(p.next_id(), HostId(2));
        let text = std::fs::read_to_string(dir.settings_file()).unwrap();
        assert!(!text.contains("password"), "{text}");
    }

    #[test]
    fn missing_file_gives_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let p = Persisted::load(&ConfigDir::new(dir.path())).unwrap();
        assert!(p.servers.is_empty());
    }
}
