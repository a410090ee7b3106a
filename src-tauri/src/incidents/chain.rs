//! The hash chain that makes the log tamper-evident. Each version is stored as the exact
//! canonical JSON body that was hashed; its hash covers the previous version's hash too, so
//! changing, removing or reordering any stored version breaks the chain from there on.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::model::IncidentRecord;
use crate::time::to_millis;

pub use super::verify::verify_all;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VersionKind {
    Recorded,
    Amended,
    Withdrawn,
    Erased,
}

impl VersionKind {
    pub fn key(self) -> &'static str {
        match self {
            VersionKind::Recorded => "recorded",
            VersionKind::Amended => "amended",
            VersionKind::Withdrawn => "withdrawn",
            VersionKind::Erased => "erased",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        [Self::Recorded, Self::Amended, Self::Withdrawn, Self::Erased]
            .into_iter()
            .find(|k| k.key() == key)
    }

    /// The incident's status after a version of this kind.
    pub fn status(self) -> &'static str {
        match self {
            VersionKind::Recorded | VersionKind::Amended => "active",
            VersionKind::Withdrawn => "withdrawn",
            VersionKind::Erased => "erased",
        }
    }
}

/// Exactly what is hashed for one version. Field order is fixed by this declaration, and
/// the record's by `IncidentRecord`'s, so the same version always serialises the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VersionBody {
    pub incident: String,
    pub version: u32,
    pub kind: VersionKind,
    pub recorded_at: DateTime<Utc>,
    pub reason: String,
    /// `None` only in an erasure's tombstone.
    pub record: Option<IncidentRecord>,
}

impl VersionBody {
    pub fn canonical(&self) -> String {
        // Serialising plain structs, strings and numbers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The "previous hash" of an incident's first version: ties the chain to its incident id.
pub fn genesis(incident_id: &str) -> String {
    hex::encode(Sha256::digest(
        format!("campaign-safe incident {incident_id}").as_bytes(),
    ))
}

pub fn link_hash(prev_hash: &str, body: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(body.as_bytes());
    hex::encode(hasher.finalize())
}

/// One stored version, as read back for checking or export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StoredVersion {
    pub version: u32,
    pub kind: VersionKind,
    pub recorded_at_ms: i64,
    /// `None` once erased.
    pub body: Option<String>,
    pub prev_hash: String,
    pub hash: String,
    /// The recording device's public key and its signature of `hash` (hex); absent on
    /// versions recorded before versions were signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// A record whose chain does not hold, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    pub incident_id: String,
    pub version: Option<u32>,
    pub problem: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyReport {
    pub incidents_checked: usize,
    pub versions_checked: usize,
    pub attachments_checked: usize,
    pub problems: Vec<Problem>,
    /// Files in the attachments folder that no incident names (left by an attachment that
    /// was refused or interrupted): not part of the record, and said so.
    pub unreferenced_files: Vec<String>,
    /// The record's head as of the check, for the user to write down (issue 24).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<super::head::RecordHead>,
    /// Heads of this record seen earlier (by the team) that it no longer gives.
    pub head_problems: Vec<String>,
    /// What the heads were compared with (the team rooms on the server, or only this
    /// device's copies, and why), in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witnesses: Option<String>,
}

/// Checks one incident's versions in order; returns its problems and, when the chain holds,
/// the last body (for comparing with the current columns).
pub fn check_versions(
    incident_id: &str,
    versions: &[StoredVersion],
) -> (Vec<Problem>, Option<VersionBody>) {
    let mut problems = Vec::new();
    let mut problem = |version: Option<u32>, text: String| {
        problems.push(Problem {
            incident_id: incident_id.to_owned(),
            version,
            problem: text,
        })
    };
    let mut expected_prev = genesis(incident_id);
    let mut last_body = None;
    for (index, stored) in versions.iter().enumerate() {
        let number = stored.version;
        if number as usize != index + 1 {
            problem(
                Some(number),
                format!(
                    "version {} is missing: versions jump to {number}",
                    index + 1
                ),
            );
        }
        if stored.prev_hash != expected_prev {
            problem(
                Some(number),
                "does not follow on from the version before (previous hash differs)".into(),
            );
        }
        match &stored.body {
            None => {
                let erased_later = versions
                    .last()
                    .is_some_and(|last| last.kind == VersionKind::Erased && last.body.is_some());
                if !erased_later {
                    problem(
                        Some(number),
                        "its content is gone, but the incident was never erased".into(),
                    );
                }
            }
            Some(body) => {
                if link_hash(&stored.prev_hash, body) != stored.hash {
                    problem(
                        Some(number),
                        "its content was changed after it was recorded (hash differs)".into(),
                    );
                }
                match serde_json::from_str::<VersionBody>(body) {
                    Err(_) => problem(Some(number), "its content cannot be read".into()),
                    Ok(parsed) => {
                        let matches_row = parsed.incident == incident_id
                            && parsed.version == number
                            && parsed.kind == stored.kind
                            && to_millis(parsed.recorded_at) == stored.recorded_at_ms;
                        if !matches_row {
                            problem(
                                Some(number),
                                "its stored number, kind or time differs from its content".into(),
                            );
                        }
                        if parsed.canonical() != *body {
                            problem(Some(number), "its content is not in canonical form".into());
                        }
                        last_body = Some(parsed);
                    }
                }
            }
        }
        match (&stored.signer, &stored.signature) {
            (Some(signer), Some(signature)) => {
                if !super::signing::verifies(signer, signature, &stored.hash) {
                    problem(
                        Some(number),
                        "its signature does not match: it was written or changed without the \
                         recording device's key"
                            .into(),
                    );
                }
            }
            (None, None) => {}
            _ => problem(Some(number), "its signature is incomplete".into()),
        }
        expected_prev = stored.hash.clone();
    }
    if versions.is_empty() {
        problem(None, "has no versions at all".into());
    }
    let last_ok = problems.is_empty();
    (problems, last_body.filter(|_| last_ok))
}

const VERSION_COLUMNS: &str =
    "SELECT version, kind, recorded_at, body, prev_hash, hash, signer, signature FROM incident_version";

fn stored_version(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredVersion> {
    let kind: String = row.get(1)?;
    Ok(StoredVersion {
        version: row.get(0)?,
        kind: VersionKind::from_key(&kind).unwrap_or(VersionKind::Amended),
        recorded_at_ms: row.get(2)?,
        body: row.get(3)?,
        prev_hash: row.get(4)?,
        hash: row.get(5)?,
        signer: row.get(6)?,
        signature: row.get(7)?,
    })
}

pub fn load_versions(conn: &Connection, num: i64) -> rusqlite::Result<Vec<StoredVersion>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{VERSION_COLUMNS} WHERE incident_num = ?1 ORDER BY version"
    ))?;
    let rows = stmt.query_map(params![num], stored_version)?;
    rows.collect()
}

/// Only the newest version, for keeping the list columns up to date on every save.
pub fn load_last_version(conn: &Connection, num: i64) -> rusqlite::Result<Option<StoredVersion>> {
    conn.prepare_cached(&format!(
        "{VERSION_COLUMNS} WHERE incident_num = ?1 ORDER BY version DESC LIMIT 1"
    ))?
    .query_row(params![num], stored_version)
    .optional()
}
