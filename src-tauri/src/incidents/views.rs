//! An incident as the detail view shows it: the current record, every version, and the
//! known people it links to.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use serde::Serialize;

use super::chain::{self, StoredVersion, VersionBody, VersionKind};
use super::find;
use super::model::IncidentRecord;
use super::{current, IncidentError};
use crate::time::from_millis;

/// One version as the detail view shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionView {
    pub version: u32,
    pub kind: VersionKind,
    pub recorded_at: Option<DateTime<Utc>>,
    pub reason: String,
    pub hash: String,
    pub record: Option<IncidentRecord>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IncidentDetail {
    pub id: String,
    pub status: String,
    pub first_recorded: Option<DateTime<Utc>>,
    pub current: Option<IncidentRecord>,
    pub versions: Vec<VersionView>,
    pub linked_people: Vec<find::KnownPerson>,
}

pub fn detail(conn: &Connection, id: &str) -> Result<IncidentDetail, IncidentError> {
    let current = current(conn, id)?;
    let first_recorded: i64 = conn.query_row(
        "SELECT first_recorded FROM incident WHERE num = ?1",
        params![current.num],
        |r| r.get(0),
    )?;
    let versions = chain::load_versions(conn, current.num)?
        .into_iter()
        .map(version_view)
        .collect::<Vec<_>>();
    let last_record = versions.iter().rev().find_map(|v| v.record.clone());
    Ok(IncidentDetail {
        id: id.to_owned(),
        status: current.status,
        first_recorded: from_millis(first_recorded),
        current: last_record,
        versions,
        linked_people: find::people_of(conn, current.num)?,
    })
}

fn version_view(stored: StoredVersion) -> VersionView {
    let body: Option<VersionBody> = stored
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok());
    VersionView {
        version: stored.version,
        kind: stored.kind,
        recorded_at: from_millis(stored.recorded_at_ms),
        reason: body.as_ref().map(|b| b.reason.clone()).unwrap_or_default(),
        hash: stored.hash,
        record: body.and_then(|b| b.record),
    }
}
