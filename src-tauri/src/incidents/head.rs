//! The record's head (issue 24, section 4): how many versions the record held at a moment,
//! and one hash over every incident's chain as it stood then. Anyone holding the record's
//! key can rewrite a history and sign it again, so "Check the record" alone cannot catch
//! that; a head written down (or, later, witnessed by the team) can, since a history
//! rewritten afterwards no longer gives the same head for that moment.
//!
//! The head of a moment covers the versions that had entered the record by then: recorded
//! here, or imported (by when they were imported, so a pack read in later does not change an
//! earlier head). Each incident counts with its number of versions and its last hash, which
//! by the chain stands for every version before it. No incident content is in a head.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::time::{format_local, to_millis};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordHead {
    /// Every version of every incident that had entered the record by `at`.
    pub versions: i64,
    /// SHA-256 (hex) over each incident's id, version count and last hash, by id.
    pub hash: String,
    pub at: DateTime<Utc>,
    /// The first 16 hex digits in groups of four: what a person writes down.
    pub short: String,
}

/// A head seen earlier: written down by the user, or posted to the team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessedHead {
    pub versions: i64,
    pub hash: String,
    pub at: DateTime<Utc>,
    /// Who saw it ("you", a teammate's name).
    pub by: String,
}

/// The record's head at `at`.
pub fn record_head(conn: &Connection, at: DateTime<Utc>) -> rusqlite::Result<RecordHead> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.id, v.version, v.hash FROM incident_version v
         JOIN incident i ON i.num = v.incident_num
         WHERE coalesce(v.imported_at, v.recorded_at) <= ?1
         ORDER BY i.id, v.version",
    )?;
    let rows = stmt.query_map(params![to_millis(at)], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut hasher = Sha256::new();
    let mut versions = 0;
    let mut current: Option<(String, i64, String)> = None;
    let write = |hasher: &mut Sha256, (id, count, hash): (String, i64, String)| {
        hasher.update(format!("{id} {count} {hash}\n").as_bytes());
    };
    for row in rows {
        let (id, _version, hash) = row?;
        versions += 1;
        current = match current.take() {
            Some((same, count, _)) if same == id => Some((same, count + 1, hash)),
            Some(done) => {
                write(&mut hasher, done);
                Some((id, 1, hash))
            }
            None => Some((id, 1, hash)),
        };
    }
    if let Some(done) = current {
        write(&mut hasher, done);
    }
    let hash = hex::encode(hasher.finalize());
    Ok(RecordHead {
        versions,
        short: short(&hash),
        hash,
        at,
    })
}

fn short(hash: &str) -> String {
    hash.chars()
        .take(16)
        .collect::<Vec<char>>()
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Each witnessed head the record no longer gives, said as a sentence with who saw it and
/// when. An honest record, however much was added since, gives every one of them.
pub fn rewritten_since(
    conn: &Connection,
    witnessed: &[WitnessedHead],
) -> rusqlite::Result<Vec<String>> {
    let mut problems = Vec::new();
    for seen in witnessed {
        let now = record_head(conn, seen.at)?;
        if now.versions != seen.versions || now.hash != seen.hash {
            problems.push(format!(
                "the record no longer matches the head {} saw on {} ({} versions, {}): its history was changed after that",
                seen.by,
                format_local(seen.at),
                seen.versions,
                short(&seen.hash),
            ));
        }
    }
    Ok(problems)
}

/// A head as this device posts it to its teams: signed with the record's device key, so a
/// member cannot post one in its name. (What is signed: `signed_text`.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedHead {
    pub versions: i64,
    pub hash: String,
    pub at_ms: i64,
    pub signer: String,
    pub signature: String,
}

fn signed_text(versions: i64, hash: &str, at_ms: i64) -> String {
    format!("campaign-safe record head {versions} {hash} {at_ms}")
}

/// The head at `at`, signed; None while the record has no device key (nothing recorded).
pub fn signed_head(conn: &Connection, at: DateTime<Utc>) -> rusqlite::Result<Option<SignedHead>> {
    let Some(device) = super::signing::DeviceKey::load(conn)? else {
        return Ok(None);
    };
    let head = record_head(conn, at)?;
    let at_ms = to_millis(at);
    Ok(Some(SignedHead {
        signature: device.sign(&signed_text(head.versions, &head.hash, at_ms)),
        signer: device.public_hex(),
        versions: head.versions,
        hash: head.hash,
        at_ms,
    }))
}

impl SignedHead {
    /// Whether its signer signed exactly these figures.
    pub fn verifies(&self) -> bool {
        super::signing::verifies(
            &self.signer,
            &self.signature,
            &signed_text(self.versions, &self.hash, self.at_ms),
        )
    }
}

/// This record's device key (hex), if it has one: the heads to check are the ones it signed.
pub fn own_signer(conn: &Connection) -> rusqlite::Result<Option<String>> {
    Ok(super::signing::DeviceKey::load(conn)?.map(|device| device.public_hex()))
}
