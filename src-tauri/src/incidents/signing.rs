//! Signed versions: each version's hash is signed with this device's Ed25519 key when it is
//! recorded. The hash chain shows that a record changed; the signature shows who could have
//! written it, so a chain rewritten and rehashed by someone without the key is caught.

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::time::to_millis;

/// This device's signing key, made the first time a version is recorded.
pub struct DeviceKey(SigningKey);

impl DeviceKey {
    /// The device's key; made and kept in the record if there is none yet.
    pub fn get_or_make(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<Self> {
        if let Some(key) = Self::load(conn)? {
            return Ok(key);
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(|error| {
            rusqlite::Error::ToSqlConversionFailure(Box::new(std::io::Error::other(error)))
        })?;
        let key = SigningKey::from_bytes(&seed);
        conn.execute(
            "INSERT OR IGNORE INTO device_key (id, secret, public, created_at) VALUES (1, ?1, ?2, ?3)",
            params![
                hex::encode(seed.as_ref()),
                hex::encode(key.verifying_key().as_bytes()),
                to_millis(now)
            ],
        )?;
        // Another writer may have won: the key in the record is the one.
        Self::load(conn)?.ok_or(rusqlite::Error::QueryReturnedNoRows)
    }

    pub fn load(conn: &Connection) -> rusqlite::Result<Option<Self>> {
        let secret: Option<String> = conn
            .query_row("SELECT secret FROM device_key WHERE id = 1", [], |row| {
                row.get(0)
            })
            .optional()?;
        Ok(secret.and_then(|secret| {
            let bytes = Zeroizing::new(hex::decode(&secret).ok()?);
            let seed: [u8; 32] = bytes.as_slice().try_into().ok()?;
            Some(Self(SigningKey::from_bytes(&seed)))
        }))
    }

    pub fn public_hex(&self) -> String {
        hex::encode(self.0.verifying_key().as_bytes())
    }

    /// The signature of a version's hash, hex.
    pub fn sign(&self, hash: &str) -> String {
        hex::encode(self.0.sign(hash.as_bytes()).to_bytes())
    }
}

/// Whether `signature` is `signer`'s signature of `hash`.
pub fn verifies(signer: &str, signature: &str, hash: &str) -> bool {
    let key = hex::decode(signer)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
        .and_then(|bytes| VerifyingKey::from_bytes(&bytes).ok());
    let signature = hex::decode(signature)
        .ok()
        .and_then(|bytes| <[u8; 64]>::try_from(bytes.as_slice()).ok())
        .map(|bytes| Signature::from_bytes(&bytes));
    match (key, signature) {
        (Some(key), Some(signature)) => key.verify(hash.as_bytes(), &signature).is_ok(),
        _ => false,
    }
}

/// A public key as people compare it: the start of its SHA-256, in groups of four.
pub fn fingerprint(public_hex: &str) -> String {
    let digest = hex::encode(Sha256::digest(public_hex.as_bytes()));
    digest.as_bytes()[..24]
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Keys whose signatures this record accepts: its own device's and those learnt from
/// imported packs.
pub fn known_signers(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut keys: Vec<String> = conn
        .prepare("SELECT public FROM device_key UNION SELECT public FROM known_signer")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    keys.sort();
    Ok(keys)
}

pub fn learn_signer(
    conn: &Connection,
    public_hex: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO known_signer (public, added_at) VALUES (?1, ?2)",
        params![public_hex, to_millis(now)],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests;
