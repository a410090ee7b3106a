//! Evidence packs: one folder holding a printable report, a CSV, a JSON file Campaign Safe
//! can import back, and copies of the attachments. The JSON carries every version's exact
//! body and hashes, so an imported incident verifies exactly as it did where it was made.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::attachments::{write_error, AttachmentStore};
use super::chain::load_versions;
use super::find::{self, ListQuery};
use super::{invalid, report, IncidentError};

pub use super::pack_format::{
    body_of, Pack, PackFile, PackHead, PackIncident, PackPerson, PackSigner, FORMAT,
    FORMAT_VERSION, JSON_NAME,
};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Selection {
    pub ids: Vec<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub person_id: Option<String>,
    pub category: Option<String>,
    pub include_withdrawn: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportSummary {
    pub folder: PathBuf,
    pub incidents: usize,
    pub attachments: usize,
    pub files: Vec<String>,
}

fn selected_ids(conn: &Connection, selection: &Selection) -> Result<Vec<String>, IncidentError> {
    if !selection.ids.is_empty() {
        return Ok(selection.ids.clone());
    }
    let query = ListQuery {
        from: selection.from,
        to: selection.to,
        person_id: selection.person_id.clone(),
        category: selection.category.clone(),
        status: Some(
            if selection.include_withdrawn {
                "all"
            } else {
                "active"
            }
            .into(),
        ),
        limit: Some(u32::MAX - 1),
        ..ListQuery::default()
    };
    Ok(find::list(conn, &query)?
        .items
        .into_iter()
        .map(|item| item.id)
        .collect())
}

/// Gathers the selected incidents, oldest first, with every version.
pub fn collect(
    conn: &Connection,
    selection: &Selection,
    now: DateTime<Utc>,
) -> Result<Pack, IncidentError> {
    let mut incidents = Vec::new();
    for id in selected_ids(conn, selection)? {
        let (num, status): (i64, String) = conn
            .query_row(
                "SELECT num, status FROM incident WHERE id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| IncidentError::NotFound(id.clone()))?;
        incidents.push((
            num,
            PackIncident {
                id,
                status,
                versions: load_versions(conn, num)?,
            },
        ));
    }
    if incidents.is_empty() {
        return Err(invalid(
            "selection",
            "Nothing to export: no incidents match. Widen the dates or clear a filter.",
        ));
    }
    incidents
        .sort_by_key(|(num, incident)| (incident.latest_record().map(|r| r.occurred_from), *num));
    let nums: Vec<i64> = incidents.iter().map(|(num, _)| *num).collect();
    let incidents: Vec<PackIncident> = incidents
        .into_iter()
        .map(|(_, incident)| incident)
        .collect();

    let mut people = BTreeMap::new();
    for num in nums {
        for person in find::people_of(conn, num)? {
            people.insert(
                person.id.clone(),
                PackPerson {
                    id: person.id,
                    label: person.label,
                },
            );
        }
    }
    let mut attachments: BTreeMap<String, PackFile> = BTreeMap::new();
    for incident in &incidents {
        for version in &incident.versions {
            for attachment in body_of(version)
                .and_then(|b| b.record)
                .map(|r| r.attachments)
                .unwrap_or_default()
            {
                let file = format!(
                    "attachments/{}-{}",
                    &attachment.sha256[..12.min(attachment.sha256.len())],
                    crate::error::shown_plainly(&attachment.original_name)
                );
                attachments
                    .entry(attachment.sha256.clone())
                    .or_insert(PackFile {
                        sha256: attachment.sha256,
                        size: attachment.size,
                        file,
                    });
            }
        }
    }
    let mut signers: Vec<String> = incidents
        .iter()
        .flat_map(|incident| incident.versions.iter().filter_map(|v| v.signer.clone()))
        .collect();
    signers.sort();
    signers.dedup();
    let head = super::head::record_head(conn, now)?;
    Ok(Pack {
        record_head: Some(PackHead {
            versions: head.versions,
            hash: head.hash,
            at: head.at,
        }),
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        exported_at: now,
        people: people.into_values().collect(),
        incidents,
        attachments: attachments.into_values().collect(),
        signers: signers
            .into_iter()
            .map(|public_key| PackSigner {
                fingerprint: super::signing::fingerprint(&public_key),
                public_key,
            })
            .collect(),
    })
}

/// A new folder in `destination`, never one that exists already.
fn new_folder(destination: &Path, now: DateTime<Utc>) -> Result<PathBuf, IncidentError> {
    if !destination.is_dir() {
        return Err(invalid(
            "folder",
            format!(
                "Save to: {} is not a folder that exists. Choose another.",
                destination.display()
            ),
        ));
    }
    let local = now.with_timezone(&chrono_tz::Europe::London);
    let stem = format!("campaign-safe-evidence-{}", local.format("%Y-%m-%d-%H%M%S"));
    for n in 1..1000 {
        let name = if n == 1 {
            stem.clone()
        } else {
            format!("{stem}-{n}")
        };
        let candidate = destination.join(name);
        if !candidate.exists() {
            return Ok(candidate);
        }
    }
    Err(invalid(
        "folder",
        "Save to: that folder already holds too many packs with this name.",
    ))
}

/// Writes the pack's folder. It is built under a temporary name and renamed when complete,
/// so a half-written pack (disk full, unplugged drive) is never mistaken for a whole one.
pub fn export(
    conn: &Connection,
    files: &AttachmentStore,
    selection: &Selection,
    destination: &Path,
    now: DateTime<Utc>,
) -> Result<ExportSummary, IncidentError> {
    let pack = collect(conn, selection, now)?;
    let folder = new_folder(destination, now)?;
    let partial = folder.with_extension("partial");
    let result = write_pack(&pack, files, &partial);
    if let Err(error) = result {
        let _ = std::fs::remove_dir_all(&partial);
        return Err(error);
    }
    std::fs::rename(&partial, &folder).map_err(write_error)?;
    let mut written = vec![
        "report.html".to_owned(),
        "incidents.csv".to_owned(),
        "people.csv".to_owned(),
        JSON_NAME.to_owned(),
    ];
    written.extend(pack.attachments.iter().map(|a| a.file.clone()));
    Ok(ExportSummary {
        folder,
        incidents: pack.incidents.len(),
        attachments: pack.attachments.len(),
        files: written,
    })
}

fn write_pack(pack: &Pack, files: &AttachmentStore, folder: &Path) -> Result<(), IncidentError> {
    std::fs::create_dir_all(folder.join("attachments")).map_err(write_error)?;
    let json = serde_json::to_string_pretty(pack).map_err(|e| IncidentError::Io(e.to_string()))?;
    std::fs::write(folder.join(JSON_NAME), json).map_err(write_error)?;
    std::fs::write(folder.join("incidents.csv"), report::csv(pack)?).map_err(write_error)?;
    std::fs::write(folder.join("people.csv"), report::people_csv(pack)?).map_err(write_error)?;
    std::fs::write(folder.join("report.html"), report::html(pack)?).map_err(write_error)?;
    for attachment in &pack.attachments {
        let missing = |error: std::io::Error| {
            match error.kind() {
            std::io::ErrorKind::NotFound => invalid("selection", format!("An attachment ({}) is missing from the data folder. Run Check the log to see which incident.", attachment.file)),
            _ => write_error(error),
        }
        };
        // Copied into a file made as any other document (the user's usual permissions),
        // not with the data folder's owner-only ones: the pack is meant to be handed on.
        let mut from = files.open(&attachment.sha256).map_err(missing)?;
        let mut to = std::fs::File::create(folder.join(&attachment.file)).map_err(write_error)?;
        std::io::copy(&mut from, &mut to).map_err(|error| match error.kind() {
            std::io::ErrorKind::InvalidData => invalid("selection", format!("An attachment ({}) has changed since it was added and was not copied. Run Check the log to see which incident.", attachment.file)),
            _ => write_error(error),
        })?;
        to.sync_all().map_err(write_error)?;
    }
    Ok(())
}
