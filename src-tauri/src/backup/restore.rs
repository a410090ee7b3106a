//! Restoring a backup into a new, empty record: everything is read and checked first (the
//! seal of every chunk, each attachment's fingerprint, the database's integrity and version),
//! then the rows are copied in one transaction. A failure at any point changes nothing.

use std::fs::File;

use super::*;
use crate::input_file::{open_ordinary, InputFileError};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreSummary {
    pub created_at: DateTime<Utc>,
    pub app_version: String,
    pub incidents: usize,
    pub attachments: usize,
}

fn damaged(error: io::Error) -> BackupError {
    BackupError::Damaged(error.to_string())
}

/// What the record already holds, said for a person; `None` when it is empty.
fn held_by(conn: &Connection) -> Result<Option<String>, BackupError> {
    let count = |sql: &str| conn.query_row(sql, [], |row| row.get::<_, i64>(0));
    let incidents = count("SELECT count(*) FROM incident")?;
    if incidents > 0 {
        return Ok(Some(format!(
            "{incidents} incident{}",
            if incidents == 1 { "" } else { "s" }
        )));
    }
    let sessions = count("SELECT count(*) FROM checkin_session")?;
    if sessions > 0 {
        return Ok(Some(format!(
            "{sessions} check-in session{}",
            if sessions == 1 { "" } else { "s" }
        )));
    }
    let planning = count(
        "SELECT (SELECT count(*) FROM canvass_plan) + (SELECT count(*) FROM do_not_knock)
              + (SELECT count(*) FROM follow_up) + (SELECT count(*) FROM safety_review)",
    )?;
    if planning > 0 {
        return Ok(Some(
            "canvass plans, do-not-knock entries, follow-ups or reviews".to_owned(),
        ));
    }
    let other = count(
        "SELECT (SELECT count(*) FROM contact_card) + (SELECT count(*) FROM my_device)
              + (SELECT count(*) FROM known_person)",
    )?;
    Ok((other > 0).then(|| "contacts or saved devices".to_owned()))
}

/// Restores the backup at `path` into `database` (which must be empty) and `files`.
pub fn restore(
    database: &Database,
    files: &AttachmentStore,
    path: &Path,
    passphrase: &str,
) -> Result<RestoreSummary, BackupError> {
    if let Some(held) = held_by(&database.conn())? {
        return Err(BackupError::NotEmpty(held));
    }
    let file_error = |message: String| BackupError::Invalid {
        field: "file",
        message,
    };
    let file = open_ordinary(path).map_err(|error| match error {
        InputFileError::NotOrdinary => file_error(format!(
            "Backup file: {} is not an ordinary file (a pipe, a device or a folder).",
            path.display()
        )),
        InputFileError::Unreadable(error) => file_error(format!(
            "Backup file: {} cannot be opened ({error}).",
            path.display()
        )),
        InputFileError::TooLarge { .. } => file_error(format!(
            "Backup file: {} is too large to be a backup.",
            path.display()
        )),
    })?;
    let mut reader = BufReader::new(file);
    let header = read_header(&mut reader)?;
    let key = FileKey::from_secret(
        header
            .kdf
            .derive(passphrase)
            .map_err(|_| BackupError::Damaged("its key settings are not usable".into()))?,
    );
    if key.check_value() != header.key_check {
        return Err(BackupError::WrongPassphrase);
    }
    let payload = sealed::Opened::new(&key, reader).map_err(damaged)?;

    let data_dir = database
        .path()
        .parent()
        .unwrap_or(Path::new("."))
        .to_owned();
    let staging = staging_path(&data_dir);
    let mut added = Vec::new();
    let outcome = read_and_copy(database, files, payload, &staging, &mut added);
    for side in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{side}", staging.display()));
    }
    if outcome.is_err() {
        // Files this restore added, and that no row names now: taken away again.
        for name in &added {
            let _ = files.remove(name);
        }
    }
    outcome
}

fn read_and_copy(
    database: &Database,
    files: &AttachmentStore,
    mut payload: impl Read,
    staging: &Path,
    added: &mut Vec<String>,
) -> Result<RestoreSummary, BackupError> {
    let mut manifest: Option<Manifest> = None;
    let mut have_database = false;
    loop {
        let (kind, name, len) = read_entry_head(&mut payload)?;
        match kind {
            Kind::End => break,
            Kind::Manifest => {
                let mut body = Vec::new();
                (&mut payload)
                    .take(len.min(64 * 1024))
                    .read_to_end(&mut body)
                    .map_err(damaged)?;
                let read: Manifest = serde_json::from_slice(&body).map_err(|_| {
                    BackupError::Damaged("its contents list is not readable".into())
                })?;
                schema_supported(read.schema)?;
                manifest = Some(read);
            }
            Kind::Database => {
                let _ = std::fs::remove_file(staging);
                let mut out = File::create(staging).map_err(io_error)?;
                let copied = io::copy(&mut (&mut payload).take(len), &mut out).map_err(damaged)?;
                if copied != len {
                    return Err(BackupError::Damaged(
                        "the database in it was cut short".into(),
                    ));
                }
                out.sync_all().map_err(io_error)?;
                have_database = true;
            }
            Kind::Attachment => {
                let existed = files.path_of(&name).exists();
                let stored = files
                    .store_from(
                        &mut (&mut payload).take(len),
                        "Backup file: it could not be read",
                    )
                    .map_err(|error| BackupError::Damaged(error.to_string()))?;
                if !existed {
                    added.push(stored.sha256.clone());
                }
                if stored.sha256 != name || stored.size != len {
                    return Err(BackupError::Damaged(format!(
                        "an attachment in it does not match its fingerprint ({name})"
                    )));
                }
            }
        }
    }
    // The last chunk's seal is checked only when the stream ends: read to the end.
    let mut rest = [0u8; 1];
    if payload.read(&mut rest).map_err(damaged)? != 0 {
        return Err(BackupError::Damaged("there is more after its end".into()));
    }
    let (Some(manifest), true) = (manifest, have_database) else {
        return Err(BackupError::Damaged("it has no database".into()));
    };
    let snapshot_key = hex::decode(&manifest.snapshot_key)
        .ok()
        .and_then(|bytes| DataKey::from_bytes(&bytes))
        .ok_or_else(|| BackupError::Damaged("its database key is not readable".into()))?;
    {
        // Brought up to this version's schema, and checked whole, before anything is copied.
        let staged = Database::open(staging, &snapshot_key).map_err(|error| match error {
            StorageError::NewerSchema {
                found, supported, ..
            } => BackupError::Newer { found, supported },
            other => BackupError::Damaged(other.to_string()),
        })?;
        let integrity: String = staged
            .conn()
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))?;
        if integrity != "ok" {
            return Err(BackupError::Damaged(format!(
                "its database failed its check ({integrity})"
            )));
        }
    }
    copy_rows(&mut database.conn(), staging, &snapshot_key)?;
    tracing::info!(
        incidents = manifest.incidents,
        attachments = manifest.attachments,
        "backup restored"
    );
    Ok(RestoreSummary {
        created_at: manifest.created_at,
        app_version: manifest.app_version,
        incidents: manifest.incidents,
        attachments: manifest.attachments,
    })
}

fn read_entry_head(payload: &mut impl Read) -> Result<(Kind, String, u64), BackupError> {
    let mut kind = [0u8; 1];
    payload.read_exact(&mut kind).map_err(damaged)?;
    let kind = Kind::from_byte(kind[0])
        .ok_or_else(|| BackupError::Damaged("it holds something unknown".into()))?;
    let mut name_len = [0u8; 2];
    payload.read_exact(&mut name_len).map_err(damaged)?;
    let mut name = vec![0u8; u16::from_be_bytes(name_len) as usize];
    payload.read_exact(&mut name).map_err(damaged)?;
    let name = String::from_utf8(name)
        .map_err(|_| BackupError::Damaged("a name in it is not readable".into()))?;
    if kind == Kind::Attachment
        && !(name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(BackupError::Damaged(
            "an attachment in it has a strange name".into(),
        ));
    }
    let mut len = [0u8; 8];
    payload.read_exact(&mut len).map_err(damaged)?;
    Ok((kind, name, u64::from_be_bytes(len)))
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A table the restore copies, and whether it is a full-text index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CarriedTable {
    pub name: String,
    pub full_text: bool,
}

/// The tables of `schema` a backup carries, parents before the tables whose foreign keys
/// name them. Shadow tables of a full-text index go with it; the team's tables stay behind.
pub(crate) fn carried_tables(
    conn: &Connection,
    schema: &str,
) -> Result<Vec<CarriedTable>, BackupError> {
    let tables: Vec<(String, String)> = conn
        .prepare(&format!(
            "SELECT name, sql FROM {schema}.sqlite_master
             WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ))?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let full_text: Vec<&str> = tables
        .iter()
        .filter(|(_, sql)| sql.starts_with("CREATE VIRTUAL TABLE"))
        .map(|(name, _)| name.as_str())
        .collect();
    let mut waiting: Vec<(CarriedTable, Vec<String>)> = Vec::new();
    for (name, _) in &tables {
        let shadow = full_text
            .iter()
            .any(|table| name.starts_with(&format!("{table}_")));
        if NOT_CARRIED.contains(&name.as_str()) || shadow {
            continue;
        }
        let parents: Vec<String> = conn
            .prepare(&format!(
                "PRAGMA {schema}.foreign_key_list({})",
                quoted(name)
            ))?
            .query_map([], |row| row.get::<_, String>(2))?
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|parent| parent != name)
            .collect();
        waiting.push((
            CarriedTable {
                name: name.clone(),
                full_text: full_text.contains(&name.as_str()),
            },
            parents,
        ));
    }
    // Parents first: SQLite's deferred checks cannot be trusted here, because a whole-table
    // `INSERT … SELECT` into a parent skips the bookkeeping that clears them.
    let mut ordered: Vec<CarriedTable> = Vec::new();
    while !waiting.is_empty() {
        let ready = waiting.iter().position(|(_, parents)| {
            parents
                .iter()
                .all(|parent| ordered.iter().any(|done| &done.name == parent))
        });
        let Some(ready) = ready else {
            let names: Vec<&str> = waiting.iter().map(|(t, _)| t.name.as_str()).collect();
            return Err(BackupError::Damaged(format!(
                "its tables refer to each other in a circle or to a table it lacks ({})",
                names.join(", ")
            )));
        };
        ordered.push(waiting.remove(ready).0);
    }
    Ok(ordered)
}

/// Copies every carried table from the checked copy into the live record, in one
/// transaction: all of it or none. Afterwards every foreign key is checked again.
fn copy_rows(conn: &mut Connection, staging: &Path, key: &DataKey) -> Result<(), BackupError> {
    conn.execute(
        "ATTACH DATABASE ?1 AS restored KEY ?2",
        params![staging.to_string_lossy(), key.sqlcipher_key().as_str()],
    )?;
    let copied = (|| -> Result<(), BackupError> {
        let tx = conn.transaction()?;
        let tables = carried_tables(&tx, "main")?;
        // Children emptied before their parents, then parents filled before children.
        for table in tables.iter().rev() {
            tx.execute(&format!("DELETE FROM main.{}", quoted(&table.name)), [])?;
        }
        for table in &tables {
            let name = quoted(&table.name);
            if table.full_text {
                // A full-text index: its row numbers tie it to the incidents.
                let columns: Vec<String> = tx
                    .prepare(&format!("PRAGMA main.table_info({name})"))?
                    .query_map([], |row| row.get::<_, String>(1))?
                    .collect::<Result<Vec<_>, _>>()?
                    .iter()
                    .map(|column| quoted(column))
                    .collect();
                let columns = columns.join(", ");
                tx.execute(
                    &format!(
                        "INSERT INTO main.{name} (rowid, {columns})
                         SELECT rowid, {columns} FROM restored.{name}"
                    ),
                    [],
                )?;
            } else {
                tx.execute(
                    &format!("INSERT INTO main.{name} SELECT * FROM restored.{name}"),
                    [],
                )?;
            }
        }
        let broken = tx
            .prepare("PRAGMA main.foreign_key_check")?
            .query_map([], |_| Ok(()))?
            .count();
        if broken > 0 {
            return Err(BackupError::Damaged(format!(
                "{broken} of its rows refer to rows it does not hold"
            )));
        }
        tx.commit()?;
        Ok(())
    })();
    let _ = conn.execute("DETACH DATABASE restored", []);
    copied
}
