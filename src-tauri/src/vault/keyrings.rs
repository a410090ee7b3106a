//! Where a record's key can be kept by the operating system.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::DataKey;

/// The service name the key is filed under in the keyring.
pub const KEYRING_SERVICE: &str = "uk.campaignsafe.app";

/// What kind of trouble the keyring is in, for the words the user sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyringProblem {
    /// No keyring answers on this desktop (none installed, no desktop session).
    Missing,
    /// It is there but locked, or the user dismissed its prompt.
    Locked,
    /// It answered with something else.
    Failed,
}

/// Why the keyring could not do what was asked; `detail` is the library's own words, for the
/// log only.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{detail}")]
pub struct KeyringError {
    pub problem: KeyringProblem,
    pub detail: String,
}

impl KeyringError {
    pub fn missing(detail: impl Into<String>) -> Self {
        Self {
            problem: KeyringProblem::Missing,
            detail: detail.into(),
        }
    }

    pub fn locked(detail: impl Into<String>) -> Self {
        Self {
            problem: KeyringProblem::Locked,
            detail: detail.into(),
        }
    }

    pub fn failed(detail: impl Into<String>) -> Self {
        Self {
            problem: KeyringProblem::Failed,
            detail: detail.into(),
        }
    }
}

/// A place that keeps a record's key between runs.
pub trait Keyring: Send + Sync {
    /// The key filed under `name`, if there is one.
    fn load(&self, name: &str) -> Result<Option<DataKey>, KeyringError>;
    fn save(&self, name: &str, key: &DataKey) -> Result<(), KeyringError>;
    /// Removes the key filed under `name`; nothing there is not an error.
    fn forget(&self, name: &str) -> Result<(), KeyringError>;
}

/// No keyring: every record's key is kept under a passphrase.
pub struct NoKeyring(pub String);

impl Keyring for NoKeyring {
    fn load(&self, _: &str) -> Result<Option<DataKey>, KeyringError> {
        Err(KeyringError::missing(self.0.clone()))
    }

    fn save(&self, _: &str, _: &DataKey) -> Result<(), KeyringError> {
        Err(KeyringError::missing(self.0.clone()))
    }

    fn forget(&self, _: &str) -> Result<(), KeyringError> {
        Ok(())
    }
}

/// Keys kept in memory for as long as the value lives: for tests run in one process with no
/// desktop session. The end-to-end tests use a real Secret Service.
#[derive(Default)]
pub struct MemoryKeyring(Mutex<HashMap<String, DataKey>>);

impl Keyring for MemoryKeyring {
    fn load(&self, name: &str) -> Result<Option<DataKey>, KeyringError> {
        let keys = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(keys.get(name).cloned())
    }

    fn save(&self, name: &str, key: &DataKey) -> Result<(), KeyringError> {
        let mut keys = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        keys.insert(name.to_owned(), key.clone());
        Ok(())
    }

    fn forget(&self, name: &str) -> Result<(), KeyringError> {
        let mut keys = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        keys.remove(name);
        Ok(())
    }
}

/// The desktop's Secret Service (GNOME Keyring, KWallet), reached over the session bus when
/// first used.
#[cfg(target_os = "linux")]
pub struct SecretService;

#[cfg(target_os = "linux")]
impl SecretService {
    fn entry(name: &str) -> Result<keyring_core::Entry, KeyringError> {
        let store = zbus_secret_service_keyring_store::Store::new().map_err(said)?;
        let label = "Campaign Safe record key".to_string();
        let modifiers = HashMap::from([("label", label.as_str())]);
        keyring_core::Entry::new_in_store_with_modifiers(
            &(store as Arc<keyring_core::CredentialStore>),
            KEYRING_SERVICE,
            name,
            &modifiers,
        )
        .map_err(said)
    }
}

/// A keyring-core error by kind: locked (or its prompt dismissed), not there at all (nothing
/// answers on the session bus), or anything else.
#[cfg(target_os = "linux")]
fn said(error: keyring_core::Error) -> KeyringError {
    match error {
        keyring_core::Error::NoStorageAccess(cause) => KeyringError::locked(cause.to_string()),
        keyring_core::Error::PlatformFailure(cause) => {
            let detail = cause.to_string();
            let absent = [
                "connect",
                "ServiceUnknown",
                "was not provided",
                "No such file",
            ]
            .iter()
            .any(|sign| detail.contains(sign));
            if absent {
                KeyringError::missing(detail)
            } else {
                KeyringError::failed(detail)
            }
        }
        other => KeyringError::failed(other.to_string()),
    }
}

/// zbus's blocking calls drive their own executor, which panics inside the async runtime a
/// command may run on: each call runs on a plain thread of its own.
#[cfg(target_os = "linux")]
fn off_runtime<T: Send>(
    work: impl FnOnce() -> Result<T, KeyringError> + Send,
) -> Result<T, KeyringError> {
    std::thread::scope(|scope| {
        scope
            .spawn(work)
            .join()
            .unwrap_or_else(|_| Err(KeyringError::failed("the keyring call failed")))
    })
}

#[cfg(target_os = "linux")]
impl Keyring for SecretService {
    fn load(&self, name: &str) -> Result<Option<DataKey>, KeyringError> {
        off_runtime(|| Self::load_here(name))
    }

    fn save(&self, name: &str, key: &DataKey) -> Result<(), KeyringError> {
        off_runtime(|| Self::entry(name)?.set_secret(key.as_bytes()).map_err(said))
    }

    fn forget(&self, name: &str) -> Result<(), KeyringError> {
        off_runtime(|| match Self::entry(name)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(error) => Err(said(error)),
        })
    }
}

#[cfg(target_os = "linux")]
impl SecretService {
    fn load_here(name: &str) -> Result<Option<DataKey>, KeyringError> {
        match Self::entry(name)?.get_secret() {
            Ok(secret) => DataKey::from_bytes(&secret).map(Some).ok_or_else(|| {
                KeyringError::failed("the keyring holds something else under this record's name")
            }),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(error) => Err(said(error)),
        }
    }
}

/// The keyring of the platform the app runs on.
#[cfg(target_os = "linux")]
pub fn system_keyring() -> Arc<dyn Keyring> {
    Arc::new(SecretService)
}

/// Keychain, Credential Manager and the phones' keystores are not wired up yet (untested
/// here): records there are kept under a passphrase.
#[cfg(not(target_os = "linux"))]
pub fn system_keyring() -> Arc<dyn Keyring> {
    Arc::new(NoKeyring(
        "this version keeps keys in the keyring only on Linux".into(),
    ))
}
