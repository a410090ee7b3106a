//! The incident log: a record of intimidation and threats that police, party and council
//! can act on. Nothing is overwritten: every change appends a hash-chained version
//! (`chain`), and the `incident` row only mirrors the latest one for fast finding (`find`).

pub mod attachments;
pub mod chain;
pub mod find;
pub mod head;
#[cfg(test)]
mod head_tests;
pub mod import;
pub mod model;
pub mod pack;
mod pack_format;
mod printable;
#[cfg(test)]
mod record_tests;
pub(crate) mod report;
pub mod signing;
#[cfg(test)]
pub(crate) mod tests;
mod verify;
pub mod views;
pub mod vocabulary;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::error::ErrorCode;
use crate::storage::StorageError;
use crate::time::{from_millis, to_millis};
use attachments::{AttachmentStore, Stored};
use chain::{genesis, link_hash, VersionBody, VersionKind};
use model::{AttachmentRef, Flag, IncidentInput, IncidentRecord};
pub use views::{detail, IncidentDetail, VersionView};

/// Typed by the user to confirm an erasure, which cannot be undone.
pub const ERASE_CONFIRMATION: &str = "ERASE";
/// A `personId` that asks for a new known person to be made from this row.
pub const NEW_PERSON: &str = "new";
const REASON_MAX: usize = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("There is no incident {0} in this log.")]
    NotFound(String),
    #[error("This incident was withdrawn. It stays in the log as it was, and cannot be changed.")]
    Withdrawn,
    #[error("This incident was erased. Only its tombstone is left.")]
    Erased,
    #[error("{}", crate::storage::DISK_FULL)]
    DiskFull,
    #[error("Campaign Safe could not write to its data folder ({0}). Nothing was saved.")]
    Io(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<rusqlite::Error> for IncidentError {
    fn from(error: rusqlite::Error) -> Self {
        match StorageError::from(error) {
            StorageError::DiskFull => IncidentError::DiskFull,
            other => IncidentError::Storage(other),
        }
    }
}

impl ErrorCode for IncidentError {
    fn code(&self) -> &'static str {
        match self {
            IncidentError::Invalid { .. } => "validation",
            IncidentError::NotFound(_) => "not_found",
            IncidentError::Withdrawn | IncidentError::Erased => "conflict",
            IncidentError::DiskFull => "disk_full",
            IncidentError::Io(_) => "storage",
            IncidentError::Storage(error) => error.code(),
        }
    }
    fn field(&self) -> Option<&str> {
        match self {
            IncidentError::Invalid { field, .. } => Some(field),
            IncidentError::NotFound(_) | IncidentError::Withdrawn | IncidentError::Erased => {
                Some("incidentId")
            }
            _ => None,
        }
    }
    fn is_fault(&self) -> bool {
        matches!(self, IncidentError::Io(_) | IncidentError::Storage(_))
    }
}

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> IncidentError {
    IncidentError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Versions are stored to the millisecond, so the hashed time is too.
fn truncate_ms(now: DateTime<Utc>) -> DateTime<Utc> {
    from_millis(to_millis(now)).unwrap_or(now)
}

fn reason_text(
    field: &str,
    label: &str,
    raw: &str,
    required: bool,
) -> Result<String, IncidentError> {
    let reason = raw.trim();
    if crate::error::has_hidden_characters(reason) {
        return Err(invalid(
            field,
            crate::error::hidden_characters_message(label),
        ));
    }
    if required && reason.is_empty() {
        return Err(invalid(
            field,
            format!("{label}: say why, in a few words. It stays in the record."),
        ));
    }
    if reason.chars().count() > REASON_MAX {
        return Err(invalid(
            field,
            format!("{label}: at most {REASON_MAX} characters."),
        ));
    }
    Ok(reason.to_owned())
}

struct Current {
    num: i64,
    status: String,
    versions: u32,
    hash: String,
    record: Option<IncidentRecord>,
}

fn current(conn: &Connection, id: &str) -> Result<Current, IncidentError> {
    let row = conn
        .query_row(
            "SELECT i.num, i.status, i.versions, v.hash, v.body FROM incident i
             JOIN incident_version v ON v.incident_num = i.num AND v.version = i.versions
             WHERE i.id = ?1",
            params![id],
            |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get::<_, Option<String>>(4)?,
                ))
            },
        )
        .optional()?
        .ok_or_else(|| IncidentError::NotFound(id.to_owned()))?;
    let record = row
        .4
        .and_then(|body| serde_json::from_str::<VersionBody>(&body).ok())
        .and_then(|b| b.record);
    Ok(Current {
        num: row.0,
        status: row.1,
        versions: row.2,
        hash: row.3,
        record,
    })
}

fn writable(current: &Current) -> Result<&IncidentRecord, IncidentError> {
    match current.status.as_str() {
        "withdrawn" => Err(IncidentError::Withdrawn),
        "erased" => Err(IncidentError::Erased),
        _ => current.record.as_ref().ok_or(IncidentError::Erased),
    }
}

/// Turns `personId: "new"` into a new known person, and checks the others exist.
fn link_people(
    tx: &Transaction,
    record: &mut IncidentRecord,
    now: DateTime<Utc>,
) -> Result<(), IncidentError> {
    for (index, person) in record.people.iter_mut().enumerate() {
        let Some(person_id) = person.person_id.clone() else {
            continue;
        };
        if person_id == NEW_PERSON {
            let label = find::person_label(person);
            let id = uuid::Uuid::new_v4().to_string();
            tx.execute(
                "INSERT INTO known_person (id, label, created_at) VALUES (?1, ?2, ?3)",
                params![id, label, to_millis(now)],
            )?;
            person.person_id = Some(id);
        } else {
            let known: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM known_person WHERE id = ?1)",
                params![person_id],
                |r| r.get(0),
            )?;
            if !known {
                return Err(invalid(
                    &format!("people[{index}].personId"),
                    "Same person as: that person is not in your list any more. Choose again.",
                ));
            }
        }
    }
    Ok(())
}

/// Appends the version after `current`, brings the searchable columns up to date and
/// commits; returns the new version's number.
fn append(
    tx: Transaction,
    id: &str,
    current: &Current,
    kind: VersionKind,
    reason: String,
    record: Option<IncidentRecord>,
    now: DateTime<Utc>,
) -> Result<u32, IncidentError> {
    let version = current.versions + 1;
    let body = VersionBody {
        incident: id.to_owned(),
        version,
        kind,
        recorded_at: truncate_ms(now),
        reason,
        record,
    }
    .canonical();
    let hash = link_hash(&current.hash, &body);
    let device = signing::DeviceKey::get_or_make(&tx, now)?;
    tx.execute(
        "INSERT INTO incident_version (incident_num, version, kind, recorded_at, body, prev_hash, hash, signer, signature)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![current.num, version, kind.key(), to_millis(now), body, current.hash, hash, device.public_hex(), device.sign(&hash)],
    )?;
    refresh_current(&tx, current.num)?;
    tx.commit()?;
    Ok(version)
}

/// Rewrites the `incident` row, search text and person links from the latest version.
/// Used after every append and after an import, so both paths agree.
pub(crate) fn refresh_current(tx: &Connection, num: i64) -> Result<(), IncidentError> {
    let last = chain::load_last_version(tx, num)?
        .ok_or_else(|| IncidentError::NotFound(num.to_string()))?;
    let body: Option<VersionBody> = last
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok());
    let record = body.as_ref().and_then(|b| b.record.clone());
    tx.execute(
        "DELETE FROM incident_fts WHERE rowid = (SELECT sort_key FROM incident WHERE num = ?1)",
        params![num],
    )?;
    tx.execute(
        "DELETE FROM incident_person WHERE incident_num = ?1",
        params![num],
    )?;
    let status = last.kind.status();
    match record {
        Some(record) => {
            let sort_key = find::sort_key(to_millis(record.occurred_from), num);
            tx.execute(
                "UPDATE incident SET status = ?2, last_recorded = ?3, occurred_from = ?4, occurred_to = ?5,
                 category = ?6, flags = ?7, reported = ?8, summary = ?9, location = ?10, versions = ?11,
                 sort_key = ?12 WHERE num = ?1",
                params![
                    num, status, last.recorded_at_ms, to_millis(record.occurred_from), record.occurred_to.map(to_millis),
                    record.category.key(), Flag::mask(&record.flags), record.is_reported(),
                    find::summary_of(&record.what_happened), record.location_text(), last.version,
                    sort_key,
                ],
            )?;
            tx.execute(
                "INSERT INTO incident_fts (rowid, what_happened, people, location, refs) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![sort_key, record.what_happened, record.people_text(), record.location_text(), record.refs_text()],
            )?;
            for person_id in record.people.iter().filter_map(|p| p.person_id.as_deref()) {
                tx.execute(
                    "INSERT OR IGNORE INTO incident_person (incident_num, person_id)
                     SELECT ?1, id FROM known_person WHERE id = ?2",
                    params![num, person_id],
                )?;
            }
        }
        None => {
            tx.execute(
                "UPDATE incident SET status = ?2, last_recorded = ?3, flags = 0, reported = 0, summary = '',
                 location = '', occurred_to = NULL, versions = ?4 WHERE num = ?1",
                params![num, status, last.recorded_at_ms, last.version],
            )?;
        }
    }
    Ok(())
}

/// Records a new incident. Nothing is stored unless every field is valid.
pub fn record(
    conn: &mut Connection,
    input: &IncidentInput,
    now: DateTime<Utc>,
) -> Result<String, IncidentError> {
    let mut record = model::validate(input, Vec::new(), now)?;
    let tx = conn.transaction()?;
    link_people(&tx, &mut record, now)?;
    let id = uuid::Uuid::new_v4().to_string();
    tx.execute(
        "INSERT INTO incident (id, status, first_recorded, last_recorded, occurred_from, category, versions)
         VALUES (?1, 'active', ?2, ?2, ?3, ?4, 0)",
        params![id, to_millis(now), to_millis(record.occurred_from), record.category.key()],
    )?;
    let empty = Current {
        num: tx.last_insert_rowid(),
        status: "active".into(),
        versions: 0,
        hash: genesis(&id),
        record: None,
    };
    append(
        tx,
        &id,
        &empty,
        VersionKind::Recorded,
        String::new(),
        Some(record),
        now,
    )?;
    Ok(id)
}

/// Saves an edit as a new version; the earlier ones stay exactly as they were.
pub fn amend(
    conn: &mut Connection,
    id: &str,
    input: &IncidentInput,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u32, IncidentError> {
    let reason = reason_text("reason", "Why you are changing it", reason, false)?;
    let tx = conn.transaction()?;
    let current = current(&tx, id)?;
    let attachments = writable(&current)?.attachments.clone();
    let mut record = model::validate(input, attachments, now)?;
    link_people(&tx, &mut record, now)?;
    if Some(&record) == current.record.as_ref() {
        return Ok(current.versions);
    }
    append(
        tx,
        id,
        &current,
        VersionKind::Amended,
        reason,
        Some(record),
        now,
    )
}

/// Whether a file can be added to the incident under this name. Checked before the file's
/// bytes are stored, so a refusal leaves nothing behind in the data folder.
pub fn check_attachable(
    conn: &Connection,
    id: &str,
    original_name: &str,
) -> Result<(), IncidentError> {
    attachments::clean_name(original_name)?;
    writable(&current(conn, id)?)?;
    Ok(())
}

/// After an attachment was refused once its bytes were stored (the incident was withdrawn
/// meanwhile, or the disk failed): the bytes go, unless an incident already names them.
pub fn discard_unattached(conn: &Connection, files: &AttachmentStore, sha256: &str) {
    let named = conn
        .prepare_cached("SELECT 1 FROM attachment_file WHERE sha256 = ?1")
        .and_then(|mut stmt| stmt.exists(params![sha256]));
    if let Ok(false) = named {
        if let Err(error) = files.remove(sha256) {
            tracing::warn!("a refused attachment's bytes could not be removed: {error}");
        }
    }
}

/// Adds a stored file to the incident, as a new version that names it.
pub fn attach(
    conn: &mut Connection,
    id: &str,
    stored: Stored,
    original_name: &str,
    now: DateTime<Utc>,
) -> Result<u32, IncidentError> {
    let original_name = attachments::clean_name(original_name)?;
    let tx = conn.transaction()?;
    let current = current(&tx, id)?;
    let mut record = writable(&current)?.clone();
    tx.execute(
        "INSERT OR IGNORE INTO attachment_file (sha256, size, stored_at) VALUES (?1, ?2, ?3)",
        params![stored.sha256, stored.size, to_millis(now)],
    )?;
    let reason = format!("Attachment added: {original_name}");
    record.attachments.push(AttachmentRef {
        sha256: stored.sha256,
        size: stored.size,
        original_name,
        added_at: truncate_ms(now),
    });
    append(
        tx,
        id,
        &current,
        VersionKind::Amended,
        reason,
        Some(record),
        now,
    )
}

/// Withdraws an incident: it stays, with every version and the reason, but can't be changed.
pub fn withdraw(
    conn: &mut Connection,
    id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), IncidentError> {
    let reason = reason_text("reason", "Why you are withdrawing it", reason, true)?;
    let tx = conn.transaction()?;
    let current = current(&tx, id)?;
    let record = writable(&current)?.clone();
    append(
        tx,
        id,
        &current,
        VersionKind::Withdrawn,
        reason,
        Some(record),
        now,
    )?;
    Ok(())
}

/// Erases an incident's content for a data-protection request. Every version's content and
/// its files go; the hashes stay, and a tombstone with the reason closes the chain.
pub fn erase(
    conn: &mut Connection,
    files: &AttachmentStore,
    id: &str,
    reason: &str,
    confirmation: &str,
    now: DateTime<Utc>,
) -> Result<(), IncidentError> {
    let reason = reason_text("reason", "Why it must be erased", reason, true)?;
    if confirmation.trim() != ERASE_CONFIRMATION {
        return Err(invalid(
            "confirmation",
            format!("Confirm: type {ERASE_CONFIRMATION} in capitals. Erasing cannot be undone."),
        ));
    }
    let tx = conn.transaction()?;
    let current = current(&tx, id)?;
    if current.status == "erased" {
        return Err(IncidentError::Erased);
    }
    let mut hashes: Vec<String> = Vec::new();
    for stored in chain::load_versions(&tx, current.num)? {
        let body: Option<VersionBody> = stored
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok());
        hashes.extend(
            body.and_then(|b| b.record)
                .into_iter()
                .flat_map(|r| r.attachments)
                .map(|a| a.sha256),
        );
    }
    // secure_delete overwrites the freed pages, so the words are not left in the file.
    tx.pragma_update(None, "secure_delete", "ON")?;
    tx.execute(
        "UPDATE incident_version SET body = NULL WHERE incident_num = ?1",
        params![current.num],
    )?;
    // The bodies are already gone, so a file still named anywhere is named by another incident.
    let mut orphans = Vec::new();
    for sha in hashes {
        let still_named: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM incident_version WHERE body LIKE '%' || ?1 || '%')",
            params![sha],
            |r| r.get(0),
        )?;
        if !still_named {
            tx.execute(
                "DELETE FROM attachment_file WHERE sha256 = ?1",
                params![sha],
            )?;
            orphans.push(sha);
        }
    }
    append(tx, id, &current, VersionKind::Erased, reason, None, now)?;
    // FTS keeps deleted words in old segments until they are merged.
    conn.execute(
        "INSERT INTO incident_fts (incident_fts) VALUES ('optimize')",
        [],
    )?;
    for sha in orphans {
        if let Err(error) = files.remove(&sha) {
            tracing::warn!(%sha, "could not remove an erased attachment: {error}");
        }
    }
    Ok(())
}
