//! Reading an evidence pack back in. Every incident's chain is checked before anything is
//! written; files are stored and checked against their SHA-256 first, so an imported
//! incident never names a file that is not there.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::attachments::AttachmentStore;
use super::chain::{check_versions, load_versions};
use super::find::tidy_label;
use super::pack_format::{Pack, PackIncident, FORMAT, FORMAT_VERSION, JSON_NAME};
use super::{invalid, refresh_current, IncidentError};
use crate::input_file::{read_capped, InputFileError};
use crate::storage::Database;
use crate::time::to_millis;

const IMPORT_MAX_BYTES: u64 = 200 * 1024 * 1024;

/// Incidents written per transaction: small enough that the writer is free again within
/// milliseconds.
const IMPORT_BATCH: usize = 100;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportSummary {
    pub imported: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub problems: Vec<String>,
}

/// Reads a pack (its folder or its JSON file) back into the log. Incidents whose chain does
/// not hold, or that conflict with what is here, are left out and named.
pub fn import(
    database: &Database,
    files: &AttachmentStore,
    path: &Path,
    now: DateTime<Utc>,
) -> Result<ImportSummary, IncidentError> {
    let json_path = if path.is_dir() {
        path.join(JSON_NAME)
    } else {
        path.to_owned()
    };
    let folder = json_path.parent().map(Path::to_owned).unwrap_or_default();
    let shown = json_path.display();
    let bytes = read_capped(&json_path, IMPORT_MAX_BYTES).map_err(|error| match error {
        InputFileError::Unreadable(e) if e.kind() == std::io::ErrorKind::NotFound => invalid(
            "file",
            format!("Import: {shown} is not there. Choose the pack's folder or its {JSON_NAME}."),
        ),
        InputFileError::Unreadable(e) => {
            invalid("file", format!("Import: {shown} cannot be read ({e})."))
        }
        // A pipe or a device would never end (or never start): only ordinary files are read.
        InputFileError::NotOrdinary => invalid(
            "file",
            format!(
                "Import: {shown} is not an ordinary file. Choose the pack's folder or its {JSON_NAME}."
            ),
        ),
        InputFileError::TooLarge { .. } => invalid(
            "file",
            "Import: that file is too large to be a Campaign Safe pack.",
        ),
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        invalid(
            "file",
            format!("Import: {shown} is not a Campaign Safe evidence pack (it is not text)."),
        )
    })?;
    let pack: Pack = serde_json::from_str(&text).map_err(|e| {
        invalid(
            "file",
            format!("Import: {shown} is not a Campaign Safe evidence pack ({e})."),
        )
    })?;
    if pack.format != FORMAT || pack.format_version > FORMAT_VERSION {
        return Err(invalid(
            "file",
            "Import: this pack was made by a newer or different app. Nothing was imported.",
        ));
    }

    // Files first, checked against their hashes, so an incident never names a missing file.
    let mut summary = ImportSummary::default();
    let mut stored_files = Vec::new();
    for file in &pack.attachments {
        let relative = Path::new(&file.file);
        let safe = relative
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        let stored = if safe {
            files.store_file(&folder.join(relative)).ok()
        } else {
            None
        };
        match stored {
            Some(stored) if stored.sha256 == file.sha256 => {
                stored_files.push((stored.sha256, stored.size));
            }
            Some(stored) => {
                // Stored under what it really is; taken away again unless the record already
                // had those bytes, so a refused file leaves nothing behind.
                let named: bool = database.reader().query_row(
                    "SELECT EXISTS (SELECT 1 FROM attachment_file WHERE sha256 = ?1)",
                    [&stored.sha256],
                    |r| r.get(0),
                )?;
                if !named && !stored_files.iter().any(|(sha, _)| *sha == stored.sha256) {
                    if let Err(error) = files.remove(&stored.sha256) {
                        tracing::warn!("a refused file could not be removed: {error}");
                    }
                }
                summary.problems.push(format!(
                    "{}: the file differs from the one recorded (SHA-256), so it was not imported.",
                    file.file
                ))
            }
            None => summary
                .problems
                .push(format!("{}: missing from the pack.", file.file)),
        }
    }

    // Chains are checked before anything is written, and with no lock held.
    let mut incidents = Vec::new();
    for incident in &pack.incidents {
        let (problems, _) = check_versions(&incident.id, &incident.versions);
        match problems.first() {
            Some(problem) => summary.problems.push(format!(
                "Incident {}: {}; it was not imported.",
                incident.id, problem.problem
            )),
            None => incidents.push(incident),
        }
    }

    // Writes go in short batches, so check-ins and the scheduler never wait long behind an
    // import. A pack imports idempotently, so if the app stops halfway, importing the same
    // pack again finishes the job.
    {
        let mut conn = database.conn();
        let tx = conn.transaction()?;
        for (sha256, size) in &stored_files {
            tx.execute(
                "INSERT OR IGNORE INTO attachment_file (sha256, size, stored_at) VALUES (?1, ?2, ?3)",
                params![sha256, *size as i64, to_millis(now)],
            )?;
        }
        for person in &pack.people {
            let label = tidy_label(&person.label);
            tx.execute(
                "INSERT OR IGNORE INTO known_person (id, label, created_at) VALUES (?1, ?2, ?3)",
                params![person.id, label, to_millis(now)],
            )?;
        }
        tx.commit()?;
    }
    for batch in incidents.chunks(IMPORT_BATCH) {
        let mut conn = database.conn();
        let tx = conn.transaction()?;
        for incident in batch {
            import_incident(&tx, incident, &mut summary, now)?;
        }
        tx.commit()?;
    }
    Ok(summary)
}

/// Adds what the pack has of one incident that this log lacks.
fn import_incident(
    tx: &Connection,
    incident: &PackIncident,
    summary: &mut ImportSummary,
    now: DateTime<Utc>,
) -> Result<(), IncidentError> {
    let existing: Option<i64> = tx
        .query_row(
            "SELECT num FROM incident WHERE id = ?1",
            params![incident.id],
            |r| r.get(0),
        )
        .optional()?;
    let (num, known) = match existing {
        Some(num) => (num, load_versions(tx, num)?),
        None => {
            let first = &incident.versions[0];
            let record = incident.latest_record();
            tx.execute(
                "INSERT INTO incident (id, status, first_recorded, last_recorded, occurred_from, category, versions)
                 VALUES (?1, 'active', ?2, ?2, ?3, ?4, 0)",
                params![
                    incident.id, first.recorded_at_ms,
                    record.as_ref().map(|r| to_millis(r.occurred_from)).unwrap_or(first.recorded_at_ms),
                    record.as_ref().map(|r| r.category.key()).unwrap_or("other"),
                ],
            )?;
            (tx.last_insert_rowid(), Vec::new())
        }
    };
    let shared = known.len().min(incident.versions.len());
    let same_start = known
        .iter()
        .zip(&incident.versions)
        .all(|(a, b)| a.hash == b.hash);
    if !same_start {
        summary.problems.push(format!(
            "Incident {}: this log holds a different history for it; it was left as it is here.",
            incident.id
        ));
        return Ok(());
    }
    // Everything in the pack is already here. This log may have gone on since (an
    // amendment, or an erasure that an older pack must never undo).
    if shared == incident.versions.len() {
        summary.unchanged += 1;
        return Ok(());
    }
    // An erasure that reached the pack erases the content here too.
    if incident.versions.iter().any(|v| v.body.is_none()) {
        tx.execute(
            "UPDATE incident_version SET body = NULL WHERE incident_num = ?1",
            params![num],
        )?;
    }
    // The chain (and every signature in it) was checked before this: its signers are
    // known from now on, so "Check the log" accepts them.
    for signer in incident.versions.iter().filter_map(|v| v.signer.as_deref()) {
        super::signing::learn_signer(tx, signer, now)?;
    }
    for version in &incident.versions[shared..] {
        tx.execute(
            "INSERT INTO incident_version (incident_num, version, kind, recorded_at, body, prev_hash, hash, signer, signature, imported_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![num, version.version, version.kind.key(), version.recorded_at_ms, version.body, version.prev_hash, version.hash, version.signer, version.signature, to_millis(now)],
        )?;
    }
    refresh_current(tx, num)?;
    if known.is_empty() {
        summary.imported += 1;
    } else {
        summary.updated += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
