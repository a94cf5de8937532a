//! Authentication: the users database, loaded from the users file, and password checks that run
//! on blocking threads, a bounded number at once, so that a login flood cannot starve the daemon.

pub mod lockout;
pub mod password;
pub mod users_file;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;
use tokio::sync::Semaphore;
use users_file::{Secret, UsersFile, UsersFileError};
use vigia_shared::Role;

/// An authenticated user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: String,
    pub role: Role,
}

/// Why a login failed. Unknown users and wrong passwords are one case on purpose.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("authentication failed")]
    Failed,
    #[error("authentication is unavailable: {0}")]
    Unavailable(String),
}

/// Most password checks running at once.
const MAX_CONCURRENT_CHECKS: usize = 4;

/// The users and the means to check their passwords.
pub struct Authenticator {
    path: PathBuf,
    users: RwLock<Arc<UsersFile>>,
    /// Modification time of the file as last read: an edit by `vigiad user ...` is picked up
    /// at the next login without a signal.
    modified: Mutex<Option<SystemTime>>,
    checks: Semaphore,
}

impl Authenticator {
    /// Loads the users file; logs a warning naming each plaintext user.
    pub fn load(path: &Path) -> Result<Self, UsersFileError> {
        let users = UsersFile::load(path)?;
        warn_plaintext(&users, path);
        password::warm_up();
        Ok(Self {
            path: path.to_owned(),
            users: RwLock::new(Arc::new(users)),
            modified: Mutex::new(modified(path)),
            checks: Semaphore::new(MAX_CONCURRENT_CHECKS),
        })
    }

    /// Re-reads the users file; on error the old users stay in force.
    pub fn reload(&self) -> Result<usize, UsersFileError> {
        let stamp = modified(&self.path);
        let users = UsersFile::load(&self.path)?;
        warn_plaintext(&users, &self.path);
        let n = users.users.len();
        if let Ok(mut u) = self.users.write() {
            *u = Arc::new(users);
        }
        if let Ok(mut m) = self.modified.lock() {
            *m = stamp;
        }
        Ok(n)
    }

    /// Reloads when the file changed since it was last read.
    fn reload_if_changed(&self) {
        let now = modified(&self.path);
        let changed = self.modified.lock().map(|m| *m != now).unwrap_or(false);
        if changed {
            match self.reload() {
                Ok(n) => tracing::info!(users = n, "users file changed; reloaded it"),
                Err(e) => {
                    tracing::error!(error = %e, "users file changed but cannot be read; keeping the old users");
                    if let Ok(mut m) = self.modified.lock() {
                        *m = now;
                    }
                }
            }
        }
    }

    fn snapshot(&self) -> Arc<UsersFile> {
        self.users
            .read()
            .map(|u| u.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// The role `user` has now, if it still exists (sessions re-check it on every command, so
    /// that a removed user or a lowered role takes effect at the next reload).
    pub fn current_role(&self, user: &str) -> Option<Role> {
        self.snapshot().users.get(user).map(|e| e.role)
    }

    /// Checks a password. Takes one argon2 run whether or not the user exists.
    pub async fn verify(&self, user: &str, password: &str) -> Result<Principal, AuthError> {
        let _permit = self
            .checks
            .acquire()
            .await
            .map_err(|e| AuthError::Unavailable(e.to_string()))?;
        self.reload_if_changed();
        let users = self.snapshot();
        let (user, password) = (user.to_owned(), password.to_owned());
        tokio::task::spawn_blocking(move || {
            let entry = users.users.get(&user);
            let ok = match entry.map(|e| &e.secret) {
                Some(Secret::Hash(h)) => password::verify_hash(h, &password),
                Some(Secret::Plain(p)) => password::verify_plain(p, &password),
                None => {
                    password::burn(&password);
                    false
                }
            };
            match (ok, entry) {
                (true, Some(e)) => Ok(Principal { user, role: e.role }),
                _ => Err(AuthError::Failed),
            }
        })
        .await
        .map_err(|e| AuthError::Unavailable(e.to_string()))?
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn warn_plaintext(users: &UsersFile, path: &Path) {
    for name in users.plaintext_users() {
        tracing::warn!(
            user = name,
            file = %path.display(),
            "user '{name}' has a plaintext password; store a hash with: vigiad user passwd {name}"
        );
    }
}

/// Creates the users file with one `admin` user and a random password, when it does not exist.
/// Returns the password, to be shown once; only its hash is stored.
pub fn create_if_missing(path: &Path) -> Result<Option<String>, UsersFileError> {
    if path.exists() {
        return Ok(None);
    }
    let pw = random_password();
    let hash = password::hash(&pw).map_err(|e| UsersFileError::Write {
        path: path.display().to_string(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let mut file = UsersFile::default();
    file.users.insert(
        "admin".into(),
        users_file::UserEntry {
            secret: Secret::Hash(hash),
            role: Role::Admin,
        },
    );
    file.save(path)?;
    Ok(Some(pw))
}

/// 20 characters from an unambiguous alphabet: about 114 bits.
pub fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}
