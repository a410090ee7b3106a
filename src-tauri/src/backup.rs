//! One file that holds the whole record (database, attachments, settings), sealed with a
//! passphrase of its own, to survive a lost or dead laptop; and restoring it into a new
//! install.
//!
//! Layout: a line of magic, a line of JSON saying how the passphrase makes the key (with a
//! check value, so a wrong passphrase is told apart from damage), then one sealed stream
//! (`vault::sealed`) of entries: a manifest, the database, each attachment, and an end mark.
//! The database travels as a snapshot under a one-off key named in the manifest, never in
//! the clear and never under the record's own key.
//!
//! A backup is written to a temporary name beside its destination and renamed into place.
//! A restore reads and checks everything before the record is touched, and then copies it
//! in one transaction.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::incidents::attachments::{write_error, AttachmentStore};
use crate::storage::{latest_schema_version, Database, StorageError};
use crate::vault::sealed::{self, FileKey, SealError};
use crate::vault::{DataKey, KdfParams, VaultError};

mod restore;
pub mod scratch;
pub use restore::{restore, RestoreSummary};
use scratch::Scratch;

pub const EXTENSION: &str = "csbackup";
const MAGIC: &[u8] = b"CAMPAIGN-SAFE-BACKUP\n";
/// 2: the header carries a checksum of its own, so damage to it is told apart from a wrong
/// passphrase. Format 1 backups (no checksum) are still read.
const FORMAT: u32 = 2;
/// A backup older than this, with incidents added since, brings a reminder.
pub const REMIND_AFTER_DAYS: i64 = 7;
/// Tables that belong to one device's team session (its Matrix device lives outside the
/// database): not carried over; the team is joined again after a restore.
const NOT_CARRIED: &[&str] = &["team_account", "team", "team_outbox", "team_event_seen"];
const LAST_BACKUP_SETTING: &str = "lastBackupAt";
/// The folder the last backup was written to: an interrupted one is cleaned up from there.
const LAST_FOLDER_SETTING: &str = "lastBackupFolder";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },

    #[error(
        "Passphrase: this does not open the backup. Check Caps Lock and the keyboard layout, \
         and try again. Nothing was changed."
    )]
    WrongPassphrase,

    #[error(
        "Backup file: this backup is damaged or was cut short ({0}), so it cannot be \
         restored. Nothing was changed. Try another copy of it."
    )]
    Damaged(String),

    #[error(
        "Backup file: this backup was made by a newer version of Campaign Safe (data version \
         {found}; this version understands up to {supported}). Install the newer version to \
         restore it. Nothing was changed."
    )]
    Newer { found: usize, supported: usize },

    #[error(
        "A backup is restored into a new, empty record, and this one already holds {0}. \
         Nothing was changed. To restore, start Campaign Safe with an empty data folder."
    )]
    NotEmpty(String),

    #[error(transparent)]
    Passphrase(#[from] VaultError),

    #[error(
        "The disk is full, so the backup was not finished and no part of it was kept. Your \
         record is safe. Free some space (or choose a memory stick with room) and try again."
    )]
    DiskFull,

    #[error("Campaign Safe could not finish: {0}. Nothing was changed.")]
    Io(String),

    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<rusqlite::Error> for BackupError {
    fn from(error: rusqlite::Error) -> Self {
        match StorageError::from(error) {
            StorageError::DiskFull => BackupError::DiskFull,
            other => BackupError::Storage(other),
        }
    }
}

impl ErrorCode for BackupError {
    fn code(&self) -> &'static str {
        match self {
            BackupError::Invalid { .. } => "validation",
            BackupError::WrongPassphrase => "wrong_passphrase",
            BackupError::Damaged(_) => "damaged_backup",
            BackupError::Newer { .. } => "newer_backup",
            BackupError::NotEmpty(_) => "not_empty",
            BackupError::Passphrase(error) => error.code(),
            BackupError::DiskFull => "disk_full",
            BackupError::Io(_) => "io",
            BackupError::Storage(error) => error.code(),
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            BackupError::Invalid { field, .. } => Some(field),
            BackupError::WrongPassphrase => Some("passphrase"),
            BackupError::Damaged(_) | BackupError::Newer { .. } => Some("file"),
            BackupError::Passphrase(error) => error.field(),
            _ => None,
        }
    }

    fn is_fault(&self) -> bool {
        matches!(self, BackupError::Io(_) | BackupError::Storage(_))
    }
}

fn io_error(error: io::Error) -> BackupError {
    match write_error(error) {
        crate::incidents::IncidentError::DiskFull => BackupError::DiskFull,
        other => BackupError::Io(other.to_string()),
    }
}

/// The plain line before the sealed part: how to derive the key, how to check it, and (from
/// format 2) a checksum of the rest of the line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    format: u32,
    kdf: KdfParams,
    key_check: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    header_sum: Option<String>,
}

impl Header {
    fn new(kdf: KdfParams, key_check: String) -> Self {
        let mut header = Self {
            format: FORMAT,
            kdf,
            key_check,
            header_sum: None,
        };
        header.header_sum = Some(header.sum());
        header
    }

    /// SHA-256 of the line without its checksum.
    fn sum(&self) -> String {
        use sha2::Digest;
        let bare = Header {
            format: self.format,
            kdf: self.kdf.clone(),
            key_check: self.key_check.clone(),
            header_sum: None,
        };
        hex::encode(sha2::Sha256::digest(
            serde_json::to_vec(&bare).unwrap_or_default(),
        ))
    }

    /// Whether the line is as it was written: a format 2 line must carry its checksum.
    fn intact(&self) -> bool {
        match &self.header_sum {
            Some(sum) => *sum == self.sum(),
            None => self.format < 2,
        }
    }
}

/// The first entry inside: what the backup holds.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    created_at: DateTime<Utc>,
    app_version: String,
    schema: usize,
    incidents: usize,
    attachments: usize,
    /// The one-off key of the database snapshot inside.
    snapshot_key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Kind {
    End = 0,
    Manifest = 1,
    Database = 2,
    Attachment = 3,
}

impl Kind {
    fn from_byte(byte: u8) -> Option<Self> {
        [Kind::End, Kind::Manifest, Kind::Database, Kind::Attachment]
            .into_iter()
            .find(|kind| *kind as u8 == byte)
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupSummary {
    pub path: String,
    pub bytes: u64,
    pub incidents: usize,
    pub attachments: usize,
    pub created_at: DateTime<Utc>,
}

/// The file name a backup made at `now` gets.
pub fn file_name(now: DateTime<Utc>) -> String {
    format!(
        "campaign-safe-backup-{}.{EXTENSION}",
        now.format("%Y-%m-%d-%H%M")
    )
}

/// Writes a backup of the whole record into `folder`, sealed with `passphrase`.
pub fn write(
    database: &Database,
    files: &AttachmentStore,
    folder: &Path,
    passphrase: &str,
    again: &str,
    now: DateTime<Utc>,
) -> Result<BackupSummary, BackupError> {
    crate::vault::check_new_passphrase(passphrase, again)?;
    let folder_error = |message: String| BackupError::Invalid {
        field: "folder",
        message,
    };
    if !folder.is_dir() {
        return Err(folder_error(format!(
            "Save to: {} is not a folder that exists. Choose or type another.",
            folder.display()
        )));
    }
    let kdf = KdfParams::new_random()?;
    let key = FileKey::from_secret(kdf.derive(passphrase)?);
    let header = Header::new(kdf, key.check_value());

    // What an earlier backup left when it was killed goes first; this one's folder is noted,
    // so that if it is killed too, the next start cleans up after it.
    let data_dir = database.path().parent().unwrap_or(Path::new("."));
    scratch::remove_leftovers(data_dir, &[scratch::SNAPSHOT_PREFIX]);
    scratch::remove_leftovers(folder, &[scratch::OUTPUT_PREFIX]);
    save_setting(database, LAST_FOLDER_SETTING, &folder.to_string_lossy())?;

    // A consistent copy of the database under a one-off key, beside the record.
    let snapshot_key = DataKey::generate()?;
    let snapshot = Scratch::named_in(data_dir, scratch::SNAPSHOT_PREFIX).map_err(io_error)?;
    let snapshot_path = snapshot.path().unwrap_or(data_dir).to_owned();
    let (incidents, schema) = snapshot_to(database, &snapshot_path, &snapshot_key, now)?;
    pause_for_tests("snapshot");
    let attachment_names = files.stored().map_err(io_error)?;
    let manifest = Manifest {
        created_at: now,
        app_version: env!("CARGO_PKG_VERSION").into(),
        schema,
        incidents,
        attachments: attachment_names.len(),
        snapshot_key: hex::encode(snapshot_key.as_bytes()),
    };

    let mut out =
        Scratch::output_in(folder, scratch::OUTPUT_PREFIX).map_err(|error| match error.kind() {
            io::ErrorKind::PermissionDenied => folder_error(format!(
                "Save to: Campaign Safe may not write in {}. Choose another folder.",
                folder.display()
            )),
            _ => io_error(error),
        })?;
    {
        let mut sink = io::BufWriter::new(out.file_mut());
        sink.write_all(MAGIC).map_err(io_error)?;
        let line = serde_json::to_string(&header).map_err(|e| BackupError::Io(e.to_string()))?;
        sink.write_all(line.as_bytes()).map_err(io_error)?;
        sink.write_all(b"\n").map_err(io_error)?;
        let mut payload = Entries {
            manifest: &manifest,
            snapshot: &snapshot_path,
            files,
            names: &attachment_names,
        }
        .reader()?;
        sealed::seal(&key, &mut payload, &mut sink, |_| true).map_err(|error| match error {
            SealError::Read(error) => read_failure(error),
            SealError::Write(error) => io_error(error),
            SealError::Stopped => BackupError::Io("stopped".into()),
        })?;
        sink.flush().map_err(io_error)?;
    }
    out.file().sync_all().map_err(io_error)?;
    let bytes = out.file().metadata().map_err(io_error)?.len();
    drop(snapshot);
    pause_for_tests("written");
    let path = folder.join(file_name(now));
    out.keep_as(&path).map_err(io_error)?;
    if let Ok(dir) = std::fs::File::open(folder) {
        let _ = dir.sync_all();
    }
    save_setting(database, LAST_BACKUP_SETTING, &now.to_rfc3339())?;
    tracing::info!(
        incidents,
        attachments = attachment_names.len(),
        bytes,
        "backup written"
    );
    Ok(BackupSummary {
        path: path.display().to_string(),
        bytes,
        incidents,
        attachments: attachment_names.len(),
        created_at: now,
    })
}

/// Debug builds only: `CAMPAIGN_SAFE_TEST_BACKUP_STOP_AT` names a point where a backup stops
/// for good (after saying so on standard output), so a test can kill it there with SIGKILL.
#[cfg(debug_assertions)]
fn pause_for_tests(point: &str) {
    if std::env::var("CAMPAIGN_SAFE_TEST_BACKUP_STOP_AT").is_ok_and(|at| at == point) {
        println!("backup stopped at {point}");
        let _ = io::stdout().flush();
        loop {
            std::thread::park();
        }
    }
}

#[cfg(not(debug_assertions))]
fn pause_for_tests(_: &str) {}

fn save_setting(database: &Database, name: &str, value: &str) -> Result<(), BackupError> {
    database.conn().execute(
        "INSERT INTO app_setting (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![name, value],
    )?;
    Ok(())
}

/// At start: removes what a backup or restore killed part-way left behind, in the data
/// folder and in the folder the last backup went to.
pub fn clean_after_crash(conn: &Connection, data_dir: &Path) {
    let last_folder: Option<String> = conn
        .query_row(
            "SELECT value FROM app_setting WHERE name = ?1",
            [LAST_FOLDER_SETTING],
            |row| row.get(0),
        )
        .ok();
    scratch::clean_after_crash(data_dir, last_folder.as_deref().map(Path::new));
}

/// Copies the database into `path` under `key`, in one read transaction of a connection of
/// its own (nothing the scheduler needs is held); the number of incidents and the schema.
/// The copy already says it was backed up at `now`, as the record will once the file is
/// written, so a restored record knows its last backup.
fn snapshot_to(
    database: &Database,
    path: &Path,
    key: &DataKey,
    now: DateTime<Utc>,
) -> Result<(usize, usize), BackupError> {
    let _ = std::fs::remove_file(path);
    let conn = Connection::open(database.path())?;
    conn.pragma_update(None, "key", database.key().sqlcipher_key().as_str())?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute(
        "ATTACH DATABASE ?1 AS snapshot KEY ?2",
        params![path.to_string_lossy(), key.sqlcipher_key().as_str()],
    )?;
    let schema: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let incidents: i64 = conn.query_row("SELECT count(*) FROM incident", [], |row| row.get(0))?;
    conn.query_row("SELECT sqlcipher_export('snapshot')", [], |_| Ok(()))?;
    conn.execute_batch(&format!("PRAGMA snapshot.user_version = {schema};"))?;
    conn.execute(
        "INSERT INTO snapshot.app_setting (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![LAST_BACKUP_SETTING, now.to_rfc3339()],
    )?;
    conn.execute("DETACH DATABASE snapshot", [])?;
    Ok((incidents as usize, schema as usize))
}

/// The entries of a backup as one stream, read as they are sealed: each file is opened only
/// when its turn comes, so nothing is held whole in memory and few files are open at once.
struct Entries<'a> {
    manifest: &'a Manifest,
    snapshot: &'a Path,
    files: &'a AttachmentStore,
    names: &'a [String],
}

enum Part {
    Bytes(Vec<u8>),
    Snapshot(PathBuf),
    Attachment(String, u64),
}

struct Stream<'a> {
    files: &'a AttachmentStore,
    streamed: u64,
    parts: std::collections::VecDeque<Part>,
    current: Option<Box<dyn Read + 'a>>,
}

impl<'a> Entries<'a> {
    fn reader(self) -> Result<Stream<'a>, BackupError> {
        let mut parts = std::collections::VecDeque::new();
        let manifest =
            serde_json::to_vec(self.manifest).map_err(|e| BackupError::Io(e.to_string()))?;
        let mut head = Vec::new();
        entry_head(
            &mut head,
            Kind::Manifest,
            "manifest.json",
            manifest.len() as u64,
        );
        head.extend_from_slice(&manifest);
        let snapshot_len = std::fs::metadata(self.snapshot).map_err(io_error)?.len();
        entry_head(&mut head, Kind::Database, "database", snapshot_len);
        parts.push_back(Part::Bytes(head));
        parts.push_back(Part::Snapshot(self.snapshot.to_owned()));
        for name in self.names {
            // The original bytes (the whole stream is sealed with the backup's key); their
            // length follows from the stored file's, so each file is read once, in its turn.
            let len = self
                .files
                .plain_len(name)
                .map_err(|error| attachment_error(name, error))?;
            let mut head = Vec::new();
            entry_head(&mut head, Kind::Attachment, name, len);
            parts.push_back(Part::Bytes(head));
            parts.push_back(Part::Attachment(name.clone(), len));
        }
        let mut end = Vec::new();
        entry_head(&mut end, Kind::End, "", 0);
        parts.push_back(Part::Bytes(end));
        Ok(Stream {
            files: self.files,
            streamed: 0,
            parts,
            current: None,
        })
    }
}

impl Read for Stream<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.current.is_none() {
                self.current = match self.parts.pop_front() {
                    None => return Ok(0),
                    Some(Part::Bytes(bytes)) => Some(Box::new(io::Cursor::new(bytes))),
                    Some(Part::Snapshot(path)) => Some(Box::new(std::fs::File::open(path)?)),
                    Some(Part::Attachment(name, len)) => {
                        let file = self.files.open(&name).map_err(|e| named(&name, e))?;
                        Some(Box::new(Named {
                            name,
                            inner: ExactLength::new(file, len),
                        }))
                    }
                };
            }
            let read = self.current.as_mut().map_or(Ok(0), |part| part.read(out))?;
            if read > 0 {
                self.streamed += read as u64;
                if self.streamed > 1024 * 1024 {
                    pause_for_tests("streaming");
                }
                return Ok(read);
            }
            self.current = None;
        }
    }
}

fn named(name: &str, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("attachment {name}: {error}"))
}

fn attachment_error(name: &str, error: io::Error) -> BackupError {
    read_failure(named(name, error))
}

/// What went wrong reading the record into the backup. An attachment altered or cut short,
/// or changed while it was read, is "damaged" (its name is in the error) and no backup is
/// kept; anything else is the disk's.
fn read_failure(error: io::Error) -> BackupError {
    match error.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => {
            BackupError::Damaged(error.to_string())
        }
        _ => io_error(error),
    }
}

/// An attachment's bytes whose errors name it.
struct Named<R> {
    name: String,
    inner: R,
}

impl<R: Read> Read for Named<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.inner
            .read(out)
            .map_err(|error| named(&self.name, error))
    }
}

/// A file that must give exactly `len` bytes: one that changed size while it was backed up
/// fails the backup instead of shifting every entry after it.
struct ExactLength<R> {
    inner: io::Take<R>,
    left: u64,
}

impl<R: Read> ExactLength<R> {
    fn new(inner: R, len: u64) -> Self {
        Self {
            inner: inner.take(len),
            left: len,
        }
    }
}

impl<R: Read> Read for ExactLength<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(out)?;
        self.left -= read as u64;
        if read == 0 && self.left > 0 && !out.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "an attachment changed size while it was backed up",
            ));
        }
        Ok(read)
    }
}

fn entry_head(out: &mut Vec<u8>, kind: Kind, name: &str, len: u64) {
    out.push(kind as u8);
    out.extend_from_slice(&(name.len() as u16).to_be_bytes());
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&len.to_be_bytes());
}

/// When the last backup was made, and whether a reminder is due: none for a week, or never,
/// while incidents were recorded since.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BackupStatus {
    pub last_backup_at: Option<DateTime<Utc>>,
    pub reminder_due: bool,
    pub incidents_since: usize,
}

pub fn status(conn: &Connection, now: DateTime<Utc>) -> Result<BackupStatus, BackupError> {
    let last: Option<DateTime<Utc>> = conn
        .query_row(
            "SELECT value FROM app_setting WHERE name = ?1",
            [LAST_BACKUP_SETTING],
            |row| row.get::<_, String>(0),
        )
        .ok()
        .and_then(|value| DateTime::parse_from_rfc3339(&value).ok())
        .map(|at| at.with_timezone(&Utc));
    let since_ms = last.map_or(i64::MIN, |at| at.timestamp_millis());
    let incidents_since: i64 = conn.query_row(
        "SELECT count(*) FROM incident WHERE last_recorded > ?1",
        [since_ms],
        |row| row.get(0),
    )?;
    let old = last.is_none_or(|at| now - at > chrono::Duration::days(REMIND_AFTER_DAYS));
    Ok(BackupStatus {
        last_backup_at: last,
        reminder_due: old && incidents_since > 0,
        incidents_since: incidents_since as usize,
    })
}

/// Reads the plain part of a backup: magic and header.
fn read_header(reader: &mut BufReader<std::fs::File>) -> Result<Header, BackupError> {
    let mut magic = vec![0u8; MAGIC.len()];
    let read = reader.read_exact(&mut magic);
    let differing = magic.iter().zip(MAGIC).filter(|(a, b)| a != b).count();
    if read.is_ok() && (1..=2).contains(&differing) {
        return Err(BackupError::Damaged("its first line was altered".into()));
    }
    if read.is_err() || differing > 0 {
        return Err(BackupError::Invalid {
            field: "file",
            message: "Backup file: this is not a Campaign Safe backup. Choose the file whose \
                      name ends in .csbackup."
                .into(),
        });
    }
    let mut line = Vec::new();
    reader
        .by_ref()
        .take(4096)
        .read_until(b'\n', &mut line)
        .map_err(|error| BackupError::Damaged(error.to_string()))?;
    let header: Header = serde_json::from_slice(&line)
        .map_err(|_| BackupError::Damaged("its first line is not readable".into()))?;
    if !header.intact() {
        return Err(BackupError::Damaged(
            "its first part, which says how to open it, was altered".into(),
        ));
    }
    if header.format > FORMAT {
        return Err(BackupError::Newer {
            found: header.format as usize,
            supported: FORMAT as usize,
        });
    }
    Ok(header)
}

/// Where a restore's copy of the database waits while it is checked.
fn staging_path(data_dir: &Path) -> PathBuf {
    data_dir.join(scratch::STAGING_NAME)
}

fn schema_supported(found: usize) -> Result<(), BackupError> {
    let supported = latest_schema_version();
    if found > supported {
        return Err(BackupError::Newer { found, supported });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
