//! The record's data key: 32 random bytes that unlock the database (SQLCipher).
//!
//! The key is kept by the operating system's keyring by default (the Secret Service on Linux),
//! so the app starts unattended and reminders fire after a reboot. Where there is no keyring,
//! or when the user asks for it, the key is instead wrapped with a passphrase (Argon2id and
//! XChaCha20-Poly1305) and nothing is readable until it is typed.
//!
//! A small file in the data folder, `record-key.json`, says which of the two holds the key;
//! with a passphrase it also holds the wrapped key. It never holds the key itself in the clear.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::ErrorCode;
use crate::tries::Tries;

mod keyrings;
mod passphrase;
pub mod sealed;

pub use keyrings::{
    system_keyring, Keyring, KeyringError, KeyringProblem, MemoryKeyring, NoKeyring,
};
pub use passphrase::{check_new as check_new_passphrase, KdfParams, PASSPHRASE_MIN_CHARS};

pub const KEY_FILE_NAME: &str = "record-key.json";

/// The record's data key. Never logged, never shown; wiped from memory when dropped.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    /// A new random key, from the operating system's random source.
    pub fn generate() -> Result<Self, VaultError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut()).map_err(|error| VaultError::Random(error.to_string()))?;
        Ok(Self(bytes))
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let bytes: [u8; 32] = bytes.try_into().ok()?;
        Some(Self(Zeroizing::new(bytes)))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// SQLCipher's raw-key form, `x'…'`: the key is used as it is, with no key derivation on
    /// every connection (the key is random, not a password).
    pub fn sqlcipher_key(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("x'{}'", hex::encode(self.0.as_ref())))
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(…)")
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum VaultError {
    #[error(
        "{} Your record is safe but cannot be opened until then: log in to the desktop as \
         usual (the keyring opens with your login), then start Campaign Safe again.",
        if *locked {
            "The keyring that holds your record's key is locked."
        } else {
            "Campaign Safe cannot reach the keyring that holds your record's key."
        }
    )]
    KeyringUnavailable { locked: bool },

    #[error(
        "Campaign Safe cannot open your record: the key to it is not in this computer's \
         keyring, or the record's file is damaged. The record has been left exactly as it was. \
         If you have a backup, restore it; ask whoever looks after this computer whether the \
         keyring was reset."
    )]
    KeyMissing,

    #[error(
        "Passphrase: this does not unlock your record. Check Caps Lock and the keyboard \
         layout, and try again. Nothing was changed."
    )]
    WrongPassphrase,

    #[error(
        "Passphrase: too many wrong tries. Wait {}, then try again. Nothing was changed.",
        crate::tries::seconds(*seconds)
    )]
    SlowDown { seconds: u64 },

    #[error(
        "Passphrase: use at least {min} characters. A few unrelated words you will remember \
         work well."
    )]
    TooShort { min: usize },

    #[error("Passphrase again: this is not the same as the passphrase above. Type both again.")]
    Mismatch,

    #[error("{}", crate::error::hidden_characters_message("Passphrase"))]
    Hidden,

    #[error(
        "Campaign Safe cannot read {path}, which says how your record's key is kept: {detail}. \
         It has been left exactly as it was."
    )]
    KeyFile { path: PathBuf, detail: String },

    #[error("Campaign Safe could not make a new key for your record: {0}.")]
    Random(String),

    #[error("Your record is already unlocked.")]
    AlreadyOpen,

    #[error("Your record's key is already kept under a passphrase.")]
    AlreadyPassphrase,
}

impl ErrorCode for VaultError {
    fn code(&self) -> &'static str {
        match self {
            VaultError::KeyringUnavailable { .. } => "keyring_unavailable",
            VaultError::KeyMissing => "key_missing",
            VaultError::WrongPassphrase => "wrong_passphrase",
            VaultError::SlowDown { .. } => "slow_down",
            VaultError::TooShort { .. } | VaultError::Hidden => "invalid_passphrase",
            VaultError::Mismatch => "passphrase_mismatch",
            VaultError::KeyFile { .. } => "key_file",
            VaultError::Random(_) => "random",
            VaultError::AlreadyOpen => "already_open",
            VaultError::AlreadyPassphrase => "already_passphrase",
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            VaultError::WrongPassphrase
            | VaultError::SlowDown { .. }
            | VaultError::TooShort { .. }
            | VaultError::Hidden => Some("passphrase"),
            VaultError::Mismatch => Some("passphraseAgain"),
            _ => None,
        }
    }

    fn is_fault(&self) -> bool {
        matches!(
            self,
            VaultError::KeyringUnavailable { .. }
                | VaultError::KeyMissing
                | VaultError::KeyFile { .. }
                | VaultError::Random(_)
        )
    }
}

/// How the key of the record in one data folder is kept.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "keptIn", rename_all = "camelCase")]
enum KeyFile {
    /// In the OS keyring, under this record's name.
    Keyring,
    /// Here, wrapped with a key derived from the user's passphrase.
    Passphrase(passphrase::Wrapped),
}

impl KeyFile {
    fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(KEY_FILE_NAME)
    }

    fn read(data_dir: &Path) -> Result<Option<Self>, VaultError> {
        let path = Self::path(data_dir);
        let damaged = |detail: String| VaultError::KeyFile {
            path: path.clone(),
            detail,
        };
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|error| damaged(format!("it is damaged ({error})"))),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(damaged(error.to_string())),
        }
    }

    /// Written whole or not at all: a crash leaves the old file or the new one.
    fn write(&self, data_dir: &Path) -> Result<(), VaultError> {
        let path = Self::path(data_dir);
        let failed = |error: std::io::Error| VaultError::KeyFile {
            path: path.clone(),
            detail: format!("it could not be saved ({error})"),
        };
        let json = serde_json::to_vec_pretty(self).map_err(|error| VaultError::KeyFile {
            path: path.clone(),
            detail: error.to_string(),
        })?;
        let mut file = tempfile::NamedTempFile::new_in(data_dir).map_err(failed)?;
        std::io::Write::write_all(&mut file, &json).map_err(failed)?;
        file.as_file().sync_all().map_err(failed)?;
        file.persist(&path).map_err(|error| failed(error.error))?;
        if let Ok(dir) = std::fs::File::open(data_dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

/// The name the record's key has in the keyring: one per data folder, so two records on one
/// computer (a test copy, a second campaign) never share a key.
pub fn record_name(data_dir: &Path) -> String {
    let dir = data_dir
        .canonicalize()
        .unwrap_or_else(|_| data_dir.to_owned());
    let digest = Sha256::digest(dir.as_os_str().as_encoded_bytes());
    format!("record-{}", hex::encode(&digest[..16]))
}

/// What start-up does about the record's key.
#[derive(Debug)]
pub enum AtStart {
    /// The key is at hand: open the record.
    Ready(DataKey),
    /// The key is wrapped with a passphrase: ask for it.
    EnterPassphrase,
    /// A new record (or an earlier version's, not yet encrypted) and no keyring to keep its
    /// key in: ask the user to choose a passphrase, saying why.
    ChoosePassphrase { why: String },
}

/// Finds the record's key, or says what must be asked for. A new record's key is made here
/// and saved before anything is encrypted with it, so a crash can never leave data behind
/// a key that was not kept.
/// `record_exists`: the data folder already holds an encrypted record (whose key must then be
/// found, never replaced).
pub fn at_start(
    data_dir: &Path,
    keyring: &dyn Keyring,
    record_exists: bool,
) -> Result<AtStart, VaultError> {
    let name = record_name(data_dir);
    match KeyFile::read(data_dir)? {
        Some(KeyFile::Passphrase(_)) => Ok(AtStart::EnterPassphrase),
        Some(KeyFile::Keyring) => match keyring.load(&name) {
            Ok(Some(key)) => Ok(AtStart::Ready(key)),
            // Nothing was ever encrypted with the lost key: start again with a new one.
            Ok(None) if !record_exists => new_key_in_keyring(data_dir, keyring, &name),
            Ok(None) => Err(VaultError::KeyMissing),
            Err(error) => Err(unreachable_keyring(&error)),
        },
        None => match keyring.load(&name) {
            // The marker was lost but the keyring kept the key.
            Ok(Some(key)) => {
                KeyFile::Keyring.write(data_dir)?;
                Ok(AtStart::Ready(key))
            }
            Ok(None) if record_exists => Err(VaultError::KeyMissing),
            Ok(None) => new_key_in_keyring(data_dir, keyring, &name),
            Err(error) if record_exists => Err(unreachable_keyring(&error)),
            Err(error) => Ok(AtStart::ChoosePassphrase {
                why: why_a_passphrase(&error),
            }),
        },
    }
}

/// The keyring holds the key but cannot give it now; the library's words go to the log.
fn unreachable_keyring(error: &KeyringError) -> VaultError {
    tracing::warn!(problem = ?error.problem, "the keyring did not give the record's key: {error}");
    VaultError::KeyringUnavailable {
        locked: error.problem == KeyringProblem::Locked,
    }
}

/// Why a new record asks for a passphrase, in words; the library's go to the log.
fn why_a_passphrase(error: &KeyringError) -> String {
    tracing::warn!(problem = ?error.problem, "no keyring for the record's key: {error}");
    let what = match error.problem {
        KeyringProblem::Locked => {
            "The keyring on this computer is locked, so Campaign Safe cannot keep your \
             record's key in it. If you can, unlock it (log in to the desktop as usual) and \
             start Campaign Safe again."
        }
        KeyringProblem::Missing => {
            "This computer has no keyring Campaign Safe can keep your record's key in."
        }
        KeyringProblem::Failed => {
            "The keyring on this computer did not answer as expected, so Campaign Safe cannot \
             keep your record's key in it."
        }
    };
    format!(
        "{what} Choose a passphrase instead: you will type it each time Campaign Safe starts, \
         and nobody can read your record without it."
    )
}

fn new_key_in_keyring(
    data_dir: &Path,
    keyring: &dyn Keyring,
    name: &str,
) -> Result<AtStart, VaultError> {
    let key = DataKey::generate()?;
    let saved = keyring.save(name, &key).and_then(|()| keyring.load(name));
    match saved {
        // Read back before use: a keyring that accepts but does not keep would lose the record.
        Ok(Some(kept)) if kept.as_bytes() == key.as_bytes() => {
            std::fs::create_dir_all(data_dir).map_err(|error| VaultError::KeyFile {
                path: KeyFile::path(data_dir),
                detail: error.to_string(),
            })?;
            KeyFile::Keyring.write(data_dir)?;
            tracing::info!("a new record key is kept in the keyring");
            Ok(AtStart::Ready(key))
        }
        Ok(_) => Ok(AtStart::ChoosePassphrase {
            why: "The keyring on this computer did not keep your record's key when asked. \
                  Choose a passphrase instead: you will type it each time Campaign Safe \
                  starts, and nobody can read your record without it."
                .into(),
        }),
        Err(error) => Ok(AtStart::ChoosePassphrase {
            why: why_a_passphrase(&error),
        }),
    }
}

/// A new key for the record in `data_dir`, wrapped with a passphrase the user chose.
pub fn choose_passphrase(
    data_dir: &Path,
    passphrase: &str,
    again: &str,
) -> Result<DataKey, VaultError> {
    passphrase::check_new(passphrase, again)?;
    if KeyFile::read(data_dir)?.is_some() {
        return Err(VaultError::AlreadyOpen);
    }
    let key = DataKey::generate()?;
    let wrapped = passphrase::wrap(&key, passphrase)?;
    std::fs::create_dir_all(data_dir).map_err(|error| VaultError::KeyFile {
        path: KeyFile::path(data_dir),
        detail: error.to_string(),
    })?;
    KeyFile::Passphrase(wrapped).write(data_dir)?;
    tracing::info!("a new record key is kept under a passphrase");
    Ok(key)
}

/// Where the key of the record in `data_dir` is kept, for the settings screen; `None` while no
/// key has been kept yet (a new record waiting for its passphrase to be chosen).
pub fn kept_in(data_dir: &Path) -> Result<Option<&'static str>, VaultError> {
    Ok(match KeyFile::read(data_dir)? {
        Some(KeyFile::Passphrase(_)) => Some("passphrase"),
        Some(KeyFile::Keyring) => Some("keyring"),
        None => None,
    })
}

/// For someone who wants nothing readable without a passphrase: the key, now kept by the
/// keyring, is sealed with `passphrase` in the key file and then taken out of the keyring.
/// The key file is written first, so a crash leaves the key in at least one place.
pub fn keep_under_passphrase(
    data_dir: &Path,
    keyring: &dyn Keyring,
    key: &DataKey,
    passphrase: &str,
    again: &str,
) -> Result<(), VaultError> {
    passphrase::check_new(passphrase, again)?;
    if matches!(KeyFile::read(data_dir)?, Some(KeyFile::Passphrase(_))) {
        return Err(VaultError::AlreadyPassphrase);
    }
    let wrapped = passphrase::wrap(key, passphrase)?;
    // Read back before the keyring's copy goes: the passphrase must open what was written.
    let written = passphrase::unwrap(&wrapped, passphrase)?;
    if written.as_bytes() != key.as_bytes() {
        return Err(VaultError::Random(
            "the sealed key did not read back".into(),
        ));
    }
    KeyFile::Passphrase(wrapped).write(data_dir)?;
    if let Err(error) = keyring.forget(&record_name(data_dir)) {
        tracing::warn!("the keyring's copy of the record key could not be removed: {error}");
    }
    tracing::info!("the record key is now kept under a passphrase");
    Ok(())
}

/// Beside the key file: wrong passphrases so far, so a restart gives no free tries.
const TRIES_FILE_NAME: &str = "unlock-tries.json";

/// The wrong passphrases typed for the record in `data_dir` so far.
pub fn passphrase_tries(data_dir: &Path, now: chrono::DateTime<chrono::Utc>) -> Tries {
    let kept = std::fs::read_to_string(data_dir.join(TRIES_FILE_NAME)).ok();
    Tries::read(kept.as_deref(), now)
}

/// Keeps the count (whole or not at all); `None` clears it after the right passphrase.
pub fn keep_passphrase_tries(data_dir: &Path, tries: Option<&Tries>) {
    let path = data_dir.join(TRIES_FILE_NAME);
    let kept = match tries {
        None => match std::fs::remove_file(&path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        },
        Some(tries) => tempfile::NamedTempFile::new_in(data_dir).and_then(|mut file| {
            std::io::Write::write_all(&mut file, tries.to_json().as_bytes())?;
            file.persist(&path).map(drop).map_err(|error| error.error)
        }),
    };
    if let Err(error) = kept {
        tracing::warn!("the count of wrong passphrases could not be kept: {error}");
    }
}

/// The key of a record kept under a passphrase. Slow by design (Argon2id).
pub fn unlock(data_dir: &Path, passphrase: &str) -> Result<DataKey, VaultError> {
    match KeyFile::read(data_dir)? {
        Some(KeyFile::Passphrase(wrapped)) => passphrase::unwrap(&wrapped, passphrase),
        _ => Err(VaultError::AlreadyOpen),
    }
}

/// One fixed key for unit tests that reopen a record.
#[cfg(test)]
pub fn test_key() -> DataKey {
    DataKey(Zeroizing::new([7; 32]))
}

#[cfg(test)]
mod tests;
