//! The data key wrapped with a passphrase: Argon2id turns the passphrase into a key, which
//! seals the data key with XChaCha20-Poly1305. A wrong passphrase fails the seal's check, so
//! it is told apart from a damaged file without ever touching the record.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{DataKey, VaultError};

pub const PASSPHRASE_MIN_CHARS: usize = 10;

/// Argon2id costs for new passphrases: 64 MiB and 3 passes (about half a second here).
/// Stored with each wrapped key, so they can be raised later without locking anyone out.
const MEMORY_KIB: u32 = 64 * 1024;
const PASSES: u32 = 3;
const LANES: u32 = 1;

/// What is bound to the seal besides the key, so a wrapped key cannot be reused elsewhere.
const CONTEXT: &[u8] = b"campaign-safe record key v1";

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Wrapped {
    kdf: String,
    memory_kib: u32,
    passes: u32,
    lanes: u32,
    salt: String,
    nonce: String,
    sealed_key: String,
}

pub fn check_new(passphrase: &str, again: &str) -> Result<(), VaultError> {
    if crate::error::has_hidden_characters(passphrase) {
        return Err(VaultError::Hidden);
    }
    if passphrase.chars().count() < PASSPHRASE_MIN_CHARS {
        return Err(VaultError::TooShort {
            min: PASSPHRASE_MIN_CHARS,
        });
    }
    if passphrase != again {
        return Err(VaultError::Mismatch);
    }
    Ok(())
}

fn random<const N: usize>() -> Result<[u8; N], VaultError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|error| VaultError::Random(error.to_string()))?;
    Ok(bytes)
}

fn derive(
    passphrase: &str,
    salt: &[u8],
    memory_kib: u32,
    passes: u32,
    lanes: u32,
) -> Result<Zeroizing<[u8; 32]>, VaultError> {
    let damaged = |detail: String| VaultError::KeyFile {
        path: super::KEY_FILE_NAME.into(),
        detail,
    };
    let params = Params::new(memory_kib, passes, lanes, Some(32))
        .map_err(|error| damaged(format!("its key settings are not usable ({error})")))?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
        .map_err(|error| damaged(format!("its key settings are not usable ({error})")))?;
    Ok(out)
}

/// A key derived from a passphrase with Argon2id, and the settings that derive it again: for
/// files sealed with a passphrase of their own, such as backups.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KdfParams {
    algorithm: String,
    memory_kib: u32,
    passes: u32,
    lanes: u32,
    salt: String,
}

impl KdfParams {
    /// Today's costs with a new random salt.
    pub fn new_random() -> Result<Self, VaultError> {
        let salt: [u8; 16] = random()?;
        Ok(Self {
            algorithm: "argon2id".into(),
            memory_kib: MEMORY_KIB,
            passes: PASSES,
            lanes: LANES,
            salt: hex::encode(salt),
        })
    }

    /// The key `passphrase` gives under these settings. Slow by design.
    pub fn derive(&self, passphrase: &str) -> Result<Zeroizing<[u8; 32]>, VaultError> {
        let damaged = || VaultError::KeyFile {
            path: "the backup".into(),
            detail: "its key settings are damaged".into(),
        };
        if self.algorithm != "argon2id" || self.memory_kib > 4 * 1024 * 1024 || self.passes > 64 {
            return Err(damaged());
        }
        let salt = hex::decode(&self.salt).map_err(|_| damaged())?;
        derive(passphrase, &salt, self.memory_kib, self.passes, self.lanes)
    }
}

pub fn wrap(key: &DataKey, passphrase: &str) -> Result<Wrapped, VaultError> {
    let salt: [u8; 16] = random()?;
    let nonce: [u8; 24] = random()?;
    let wrapping = derive(passphrase, &salt, MEMORY_KIB, PASSES, LANES)?;
    let cipher = XChaCha20Poly1305::new(wrapping.as_ref().into());
    let sealed = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: key.as_bytes(),
                aad: CONTEXT,
            },
        )
        .map_err(|_| VaultError::Random("the key could not be sealed".into()))?;
    Ok(Wrapped {
        kdf: "argon2id".into(),
        memory_kib: MEMORY_KIB,
        passes: PASSES,
        lanes: LANES,
        salt: hex::encode(salt),
        nonce: hex::encode(nonce),
        sealed_key: hex::encode(sealed),
    })
}

pub fn unwrap(wrapped: &Wrapped, passphrase: &str) -> Result<DataKey, VaultError> {
    let damaged = |what: &str| VaultError::KeyFile {
        path: super::KEY_FILE_NAME.into(),
        detail: format!("its {what} is damaged"),
    };
    if wrapped.kdf != "argon2id" {
        return Err(damaged("key derivation name"));
    }
    let salt = hex::decode(&wrapped.salt).map_err(|_| damaged("salt"))?;
    let nonce = hex::decode(&wrapped.nonce).map_err(|_| damaged("nonce"))?;
    let sealed = hex::decode(&wrapped.sealed_key).map_err(|_| damaged("sealed key"))?;
    if nonce.len() != 24 {
        return Err(damaged("nonce"));
    }
    let wrapping = derive(
        passphrase,
        &salt,
        wrapped.memory_kib,
        wrapped.passes,
        wrapped.lanes,
    )?;
    let cipher = XChaCha20Poly1305::new(wrapping.as_ref().into());
    let opened = Zeroizing::new(
        cipher
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &sealed,
                    aad: CONTEXT,
                },
            )
            .map_err(|_| VaultError::WrongPassphrase)?,
    );
    DataKey::from_bytes(&opened).ok_or_else(|| damaged("sealed key"))
}
