//! secrets: where passwords are kept. The real store is the operating system's (Secret Service
//! or the kernel keyring on Linux, Keychain on macOS, Credential Manager on Windows, through the
//! `keyring` crate); tests use [`MemoryStore`] so that a developer's keyring never leaks into them.
//!
//! Store calls may block (D-Bus, an unlock prompt), so the app makes them on the runtime's
//! blocking pool, never on the UI thread.

use std::collections::HashMap;
use std::sync::Mutex;

/// The service name under which Vigía's passwords are filed.
pub const SERVICE: &str = "vigia";

/// Why a password could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// There is no usable credential store (no Secret Service running, a locked keychain...).
    #[error("no credential store is available ({0}); the password is kept for this run only")]
    Unavailable(String),
    /// The store answered with an error.
    #[error("the credential store failed: {0}")]
    Store(String),
}

/// A place to keep passwords, one per account (`user@host:port`).
pub trait SecretStore: Send + Sync {
    /// The password for `account`, `None` when none was saved.
    fn get(&self, account: &str) -> Result<Option<String>, SecretError>;
    /// Saves (or replaces) the password for `account`.
    fn set(&self, account: &str, password: &str) -> Result<(), SecretError>;
    /// Forgets the password for `account`; forgetting a missing one is not an error.
    fn delete(&self, account: &str) -> Result<(), SecretError>;
}

/// The account name a server's password is filed under.
pub fn account(user: &str, host: &str, port: u16) -> String {
    format!("{user}@{host}:{port}")
}

/// The operating system's credential store.
#[derive(Debug, Default, Clone, Copy)]
pub struct KeyringStore;

impl KeyringStore {
    /// Runs `op` on the account's entry in the platform's store. On Linux, when the Secret
    /// Service cannot be reached (no desktop session, a minimal system), the kernel's persistent
    /// keyring is used alone: it keeps passwords across runs of the app, though not across
    /// reboots.
    fn with_entry<T>(
        account: &str,
        op: impl Fn(&keyring::Entry) -> keyring::Result<T>,
    ) -> Result<T, SecretError> {
        let entry = keyring::Entry::new(SERVICE, account).map_err(map_keyring)?;
        match op(&entry) {
            Err(e @ (keyring::Error::NoStorageAccess(_) | keyring::Error::PlatformFailure(_))) => {
                Self::fallback(account, &op, e)
            }
            other => other.map_err(map_keyring),
        }
    }

    #[cfg(target_os = "linux")]
    fn fallback<T>(
        account: &str,
        op: &impl Fn(&keyring::Entry) -> keyring::Result<T>,
        first: keyring::Error,
    ) -> Result<T, SecretError> {
        let kernel = keyring::keyutils::KeyutilsCredential::new_with_target(None, SERVICE, account)
            .map_err(|_| map_keyring(first))?;
        op(&keyring::Entry::new_with_credential(Box::new(kernel))).map_err(map_keyring)
    }

    #[cfg(not(target_os = "linux"))]
    fn fallback<T>(
        _account: &str,
        _op: &impl Fn(&keyring::Entry) -> keyring::Result<T>,
        first: keyring::Error,
    ) -> Result<T, SecretError> {
        Err(map_keyring(first))
    }
}

fn map_keyring(e: keyring::Error) -> SecretError {
    match e {
        keyring::Error::NoStorageAccess(inner) => SecretError::Unavailable(inner.to_string()),
        keyring::Error::PlatformFailure(inner) => SecretError::Unavailable(inner.to_string()),
        other => SecretError::Store(other.to_string()),
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, account: &str) -> Result<Option<String>, SecretError> {
        Self::with_entry(account, |e| match e.get_password() {
            Ok(p) => Ok(Some(p)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e),
        })
    }

    fn set(&self, account: &str, password: &str) -> Result<(), SecretError> {
        Self::with_entry(account, |e| e.set_password(password))
    }

    fn delete(&self, account: &str) -> Result<(), SecretError> {
        Self::with_entry(account, |e| match e.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e),
        })
    }
}

/// An in-memory store, for tests and for `--no-keyring` runs. It can also play a machine where
/// no store is available.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, String>>,
    unavailable: bool,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that refuses every call, as on a machine without a credential store.
    pub fn unavailable() -> Self {
        Self {
            entries: Mutex::default(),
            unavailable: true,
        }
    }

    fn check(&self) -> Result<(), SecretError> {
        if self.unavailable {
            Err(SecretError::Unavailable("none on this machine".into()))
        } else {
            Ok(())
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, String>>, SecretError> {
        self.entries
            .lock()
            .map_err(|_| SecretError::Store("the in-memory store is poisoned".into()))
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> Result<Option<String>, SecretError> {
        self.check()?;
        Ok(self.lock()?.get(account).cloned())
    }

    fn set(&self, account: &str, password: &str) -> Result<(), SecretError> {
        self.check()?;
        self.lock()?.insert(account.to_owned(), password.to_owned());
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<(), SecretError> {
        self.check()?;
        self.lock()?.remove(account);
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_round_trips_and_forgets() {
        let s = MemoryStore::new();
        let a = account("admin", "db1", 5000);
        assert_eq!(s.get(&a).unwrap(), None);
        s.set(&a, "pw:with:colons").unwrap();
        assert_eq!(s.get(&a).unwrap().as_deref(), Some("pw:with:colons"));
        s.delete(&a).unwrap();
        s.delete(&a).unwrap();
        assert_eq!(s.get(&a).unwrap(), None);
    }

    #[test]
    fn unavailable_store_says_so() {
        let s = MemoryStore::unavailable();
        assert!(matches!(s.get("x"), Err(SecretError::Unavailable(_))));
    }
}
