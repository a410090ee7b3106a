//! What an evidence pack holds (`incidents.json`): the format that export writes and import
//! reads, kept apart from both.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::chain::{StoredVersion, VersionBody};
use super::model::IncidentRecord;

pub const FORMAT: &str = "campaign-safe-evidence-pack";
pub const FORMAT_VERSION: u32 = 1;
pub const JSON_NAME: &str = "incidents.json";

/// Which incidents go in the pack: the chosen ones, or all matching the filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PackIncident {
    pub id: String,
    pub status: String,
    pub versions: Vec<StoredVersion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PackPerson {
    pub id: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PackFile {
    pub sha256: String,
    pub size: u64,
    /// Relative to the pack folder.
    pub file: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Pack {
    pub format: String,
    pub format_version: u32,
    pub exported_at: DateTime<Utc>,
    pub people: Vec<PackPerson>,
    pub incidents: Vec<PackIncident>,
    pub attachments: Vec<PackFile>,
    /// The keys that signed the versions in the pack, with the fingerprint a person compares
    /// (printed in the report, to be checked against the one the sender gives separately).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signers: Vec<PackSigner>,
    /// The head of the sender's whole record when the pack was made (issue 24): printed in
    /// the report, so a history rewritten later shows against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_head: Option<PackHead>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PackHead {
    pub versions: i64,
    pub hash: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PackSigner {
    pub public_key: String,
    pub fingerprint: String,
}

impl PackIncident {
    /// The latest version that still has a record (the last one, unless erased).
    pub fn latest_record(&self) -> Option<IncidentRecord> {
        self.versions
            .iter()
            .rev()
            .find_map(|v| body_of(v).and_then(|b| b.record))
    }
}

pub fn body_of(version: &StoredVersion) -> Option<VersionBody> {
    version
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok())
}
