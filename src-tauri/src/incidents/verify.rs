//! "Check the record": every incident's chain and signatures, what the list shows against
//! its last version, and every attachment against its size and SHA-256.
//!
//! What this can and cannot catch is said in the README ("Signed versions"): anyone holding
//! the record's key can rewrite a history and sign it again with the device key kept in the
//! same record; only a head witnessed outside the record shows that.

use std::collections::HashSet;

use rusqlite::{params, Connection, OptionalExtension};

use super::attachments::AttachmentStore;
use super::chain::{check_versions, load_versions, Problem, VerifyReport};
use super::find::{sort_key, summary_of};
use super::model::{Flag, IncidentRecord};
use crate::time::to_millis;

/// What the `incident` row and the search index hold for the list and search.
struct Listed {
    num: i64,
    id: String,
    status: String,
    category: String,
    occurred_from: i64,
    occurred_to: Option<i64>,
    flags: i64,
    reported: bool,
    summary: String,
    location: String,
    versions: u32,
    sort_key: Option<i64>,
}

fn listed(row: &rusqlite::Row<'_>) -> rusqlite::Result<Listed> {
    Ok(Listed {
        num: row.get(0)?,
        id: row.get(1)?,
        status: row.get(2)?,
        category: row.get(3)?,
        occurred_from: row.get(4)?,
        occurred_to: row.get(5)?,
        flags: row.get(6)?,
        reported: row.get(7)?,
        summary: row.get(8)?,
        location: row.get(9)?,
        versions: row.get(10)?,
        sort_key: row.get(11)?,
    })
}

/// Versions with no signature that this device recorded after it began signing every version:
/// only a pack from an earlier version of the app brings unsigned ones, and those are marked.
fn unsigned_since_signing(conn: &Connection) -> rusqlite::Result<HashSet<(String, u32)>> {
    conn.prepare(
        "SELECT i.id, v.version FROM incident_version v JOIN incident i ON i.num = v.incident_num
         WHERE v.signer IS NULL AND v.signature IS NULL AND v.imported_at IS NULL
           AND v.recorded_at >= (SELECT created_at FROM device_key WHERE id = 1)",
    )?
    .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
    .collect()
}

/// Walks every incident: its chain and signatures, the list's columns and search text against
/// its last version, and every attachment file against its recorded size and SHA-256.
pub fn verify_all(conn: &Connection, files: &AttachmentStore) -> rusqlite::Result<VerifyReport> {
    let mut report = VerifyReport {
        incidents_checked: 0,
        versions_checked: 0,
        attachments_checked: 0,
        problems: Vec::new(),
        unreferenced_files: Vec::new(),
        head: None,
        head_problems: Vec::new(),
        witnesses: None,
    };
    // Signatures by a key this record never learnt are as good as none.
    let signers = super::signing::known_signers(conn)?;
    let unsigned = unsigned_since_signing(conn)?;
    let mut stmt = conn.prepare(
        "SELECT num, id, status, category, occurred_from, occurred_to, flags, reported, summary,
                location, versions, sort_key
         FROM incident ORDER BY num",
    )?;
    for row in stmt.query_map([], listed)? {
        let row = row?;
        let versions = load_versions(conn, row.num)?;
        report.incidents_checked += 1;
        report.versions_checked += versions.len();
        let (mut problems, last) = check_versions(&row.id, &versions);
        let mut problem = |version: Option<u32>, text: &str| {
            problems.push(Problem {
                incident_id: row.id.clone(),
                version,
                problem: text.to_owned(),
            })
        };
        for version in &versions {
            if version
                .signer
                .as_ref()
                .is_some_and(|signer| !signers.contains(signer))
            {
                problem(
                    Some(version.version),
                    "it is signed by a key this record does not know",
                );
            }
            if unsigned.contains(&(row.id.clone(), version.version)) {
                problem(
                    Some(version.version),
                    "it has no signature, though it was recorded here after this device began \
                     signing every version: it was written or changed outside the app",
                );
            }
        }
        if versions.len() as u32 != row.versions {
            problem(None, "a version was removed");
        }
        if let Some(last) = last {
            if last.kind.status() != row.status {
                problem(
                    None,
                    &format!(
                        "is shown as {} but its last version says {}",
                        row.status,
                        last.kind.status()
                    ),
                );
            }
            let shown = shown_as_recorded(conn, &row, last.record.as_ref())?;
            if !shown {
                problem(
                    None,
                    "the list or search shows details (such as its summary) that are not in its \
                     last version",
                );
            }
            for attachment in last.record.iter().flat_map(|r| &r.attachments) {
                report.attachments_checked += 1;
                if let Some(text) = files.check(attachment) {
                    problem(None, &text);
                }
            }
        }
        report.problems.extend(problems);
    }
    report.unreferenced_files = unreferenced(conn, files)?;
    Ok(report)
}

/// Whether every column the list shows, and the search index, say what the last version says
/// (an erased incident shows nothing of what it was).
fn shown_as_recorded(
    conn: &Connection,
    row: &Listed,
    record: Option<&IncidentRecord>,
) -> rusqlite::Result<bool> {
    let indexed: Option<(String, String, String, String)> = match row.sort_key {
        Some(key) => conn
            .prepare_cached(
                "SELECT what_happened, people, location, refs FROM incident_fts WHERE rowid = ?1",
            )?
            .query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?,
        None => None,
    };
    let Some(record) = record else {
        return Ok(row.summary.is_empty() && row.location.is_empty() && indexed.is_none());
    };
    let columns_agree = record.category.key() == row.category
        && to_millis(record.occurred_from) == row.occurred_from
        && record.occurred_to.map(to_millis) == row.occurred_to
        && Flag::mask(&record.flags) == row.flags
        && record.is_reported() == row.reported
        && summary_of(&record.what_happened) == row.summary
        && record.location_text() == row.location
        && row.sort_key == Some(sort_key(to_millis(record.occurred_from), row.num));
    let index_agrees = indexed
        == Some((
            record.what_happened.clone(),
            record.people_text(),
            record.location_text(),
            record.refs_text(),
        ));
    Ok(columns_agree && index_agrees)
}

/// Stored files that no incident names.
fn unreferenced(conn: &Connection, files: &AttachmentStore) -> rusqlite::Result<Vec<String>> {
    let stored = files.stored().unwrap_or_else(|error| {
        tracing::warn!("the attachments folder could not be listed: {error}");
        Vec::new()
    });
    let mut named = conn.prepare_cached("SELECT 1 FROM attachment_file WHERE sha256 = ?1")?;
    let mut found = Vec::new();
    for name in stored {
        if !named.exists(params![name])? {
            found.push(name);
        }
    }
    Ok(found)
}
