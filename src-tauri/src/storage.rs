//! The one place that opens the database.
//!
//! Opening never damages what is there: a file that is not a Campaign Safe database, or one
//! written by a newer version, is refused with a clear message before anything is written.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{Migrations, M};

use crate::error::ErrorCode;
use crate::vault::DataKey;

#[cfg(test)]
mod disk_full_tests;
mod encrypt;
pub mod instance;

pub use encrypt::holds_encrypted_record;

/// Set this to keep all data (database, logs, webview storage) in another folder.
/// Every test sets it so none ever touches a real user's data.
pub const DATA_DIR_ENV: &str = "CAMPAIGN_SAFE_DATA_DIR";

pub const DB_FILE_NAME: &str = "campaign-safe.sqlite3";

/// Schema changes, in order. Append only: a released migration is never edited.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_advice_ticks.sql"),
    include_str!("../migrations/0002_checklists_devices_contacts.sql"),
    include_str!("../migrations/0003_checkins.sql"),
    include_str!("../migrations/0004_incidents.sql"),
    include_str!("../migrations/0005_longer_prefixes.sql"),
    include_str!("../migrations/0006_team.sql"),
    include_str!("../migrations/0007_settings.sql"),
    include_str!("../migrations/0008_signatures.sql"),
    include_str!("../migrations/0009_do_not_knock.sql"),
    include_str!("../migrations/0010_plans.sql"),
    include_str!("../migrations/0011_aftercare.sql"),
    include_str!("../migrations/0012_shared_do_not_knock.sql"),
    include_str!("../migrations/0013_imported_versions.sql"),
    include_str!("../migrations/0014_senders.sql"),
    include_str!("../migrations/0015_device_confirmed.sql"),
    include_str!("../migrations/0016_record_heads.sql"),
    include_str!("../migrations/0017_locations.sql"),
    include_str!("../migrations/0018_duress.sql"),
];

fn migrations() -> Migrations<'static> {
    Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect())
}

/// The schema version this build writes.
pub fn latest_schema_version() -> usize {
    MIGRATIONS.len()
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("Campaign Safe cannot use its data folder {path}: {source}.")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(
        "Campaign Safe cannot open its database {path}: {source}. The file may be damaged or \
         not a Campaign Safe database. It has been left exactly as it was."
    )]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },

    #[error(
        "The database {path} was saved by a newer version of Campaign Safe (data version \
         {found}; this version understands up to {supported}). Install the newer version to \
         use it. It has been left exactly as it was."
    )]
    NewerSchema {
        path: PathBuf,
        found: usize,
        supported: usize,
    },

    #[error("Campaign Safe could not update its database {path}: {detail}. Nothing was changed.")]
    Migration { path: PathBuf, detail: String },

    #[error(
        "Campaign Safe could not encrypt your record {path}: {detail}. The record has been left \
         as it was, unencrypted; Campaign Safe tries again the next time it starts."
    )]
    Encrypt { path: PathBuf, detail: String },

    #[error("{0}")]
    Key(crate::vault::VaultError),

    #[error(
        "Your record is locked. Type its passphrase in the box at the top of the screen to \
         open it. The Emergency screen and the guides work meanwhile."
    )]
    Locked,

    #[error("Campaign Safe could not read or save its data: {0}.")]
    Sqlite(rusqlite::Error),

    #[error("{DISK_FULL}")]
    DiskFull,

    #[error("Campaign Safe's database is not available: {0}")]
    Unavailable(String),

    #[error(
        "Campaign Safe cannot save anything in its data folder {path}: the folder is \
         read-only, or this account may not write in it. Your record has been left as it was. \
         Ask whoever looks after this computer to let you write there, or copy the folder \
         somewhere you can write and start Campaign Safe from that."
    )]
    ReadOnly { path: PathBuf },

    #[error(
        "Campaign Safe is already open on this computer with the same record (data folder \
         {path}), and that copy did not come forward when asked. Use that copy: this window \
         will not save anything, so that two copies never write the same record. If you \
         cannot find it, restart the computer."
    )]
    InUse { path: PathBuf },

    #[error(
        "Campaign Safe is still upgrading your record for this version. Nothing is lost; \
         try again when the message at the top has gone."
    )]
    Upgrading,

    #[error("Campaign Safe is still opening your record. Try again in a moment.")]
    Opening,
}

/// What every form says when the disk is full: the same sentence wherever it happens.
pub const DISK_FULL: &str = "The disk is full, so this was not saved; what you typed is still \
     here, and everything saved before is safe. Free some space (empty the bin, remove large \
     downloads) and try again.";

impl From<rusqlite::Error> for StorageError {
    fn from(error: rusqlite::Error) -> Self {
        match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => StorageError::DiskFull,
            _ => StorageError::Sqlite(error),
        }
    }
}

impl ErrorCode for StorageError {
    fn code(&self) -> &'static str {
        match self {
            StorageError::DiskFull => "disk_full",
            StorageError::NewerSchema { .. } => "newer_database",
            StorageError::Unavailable(_) => "storage_unavailable",
            StorageError::Upgrading => "upgrading",
            StorageError::Opening => "opening",
            StorageError::Locked => "locked",
            StorageError::ReadOnly { .. } => "read_only",
            StorageError::InUse { .. } => "in_use",
            StorageError::Key(error) => error.code(),
            _ => "storage",
        }
    }

    fn is_fault(&self) -> bool {
        !matches!(
            self,
            StorageError::Upgrading | StorageError::Opening | StorageError::Locked
        )
    }
}

/// The open database.
///
/// Three ways in, so that nothing the scheduler needs ever waits behind a long job:
/// - [`Database::conn`], the one writer, for short units of work (every write, and the
///   scheduler's look at what is due);
/// - [`Database::reader`], one shared read-only connection for short reads (lists, search,
///   details): in WAL mode it reads alongside the writer;
/// - [`Database::open_reader`], a read-only connection of a job's own, for long reads
///   (export, "Check the record"): it holds no lock anyone else takes.
pub struct Database {
    path: PathBuf,
    key: DataKey,
    conn: Mutex<Connection>,
    reader: Mutex<Connection>,
}

impl Database {
    /// Opens (creating if needed) the database in `data_dir`, encrypted with `key`, and brings
    /// its schema up to date. An earlier version's unencrypted record is encrypted first.
    pub fn open_in(data_dir: &Path, key: &DataKey) -> Result<Self, StorageError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StorageError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        Self::open(&data_dir.join(DB_FILE_NAME), key)
    }

    pub fn open(path: &Path, key: &DataKey) -> Result<Self, StorageError> {
        let open_error = |source| StorageError::Open {
            path: path.to_owned(),
            source,
        };
        if encrypt::is_plain(path) {
            encrypt::encrypt_in_place(path, key, latest_schema_version())?;
        }
        let mut conn = Connection::open(path).map_err(open_error)?;
        apply_key(&conn, key).map_err(open_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;

        // Read before writing anything: this is where a damaged file or a foreign one fails.
        let found: usize = conn
            .pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))
            .map_err(open_error)?
            .try_into()
            .unwrap_or(usize::MAX);
        let supported = latest_schema_version();
        if found > supported {
            return Err(StorageError::NewerSchema {
                path: path.to_owned(),
                found,
                supported,
            });
        }

        // WAL keeps readers and the writer apart; NORMAL is durable in WAL mode except for the
        // last commit on power loss, which is acceptable for ticks and log entries.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_error)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_error)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_error)?;

        migrations()
            .to_latest(&mut conn)
            .map_err(|error| StorageError::Migration {
                path: path.to_owned(),
                detail: error.to_string(),
            })?;
        let reader = open_read_only(path, key).map_err(open_error)?;
        tracing::info!(path = %path.display(), schema = supported, "database open");
        Ok(Self {
            path: path.to_owned(),
            key: key.clone(),
            conn: Mutex::new(conn),
            reader: Mutex::new(reader),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The record's key, for what is sealed beside the database (attachments).
    pub fn key(&self) -> &DataKey {
        &self.key
    }

    /// The writer, for one short unit of work. A panic while holding it (a bug) must not
    /// lock the user out of their data for the rest of the session, so poisoning is
    /// ignored: SQLite's own transactions keep the file consistent.
    pub fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The shared read-only connection, for short reads.
    pub fn reader(&self) -> MutexGuard<'_, Connection> {
        self.reader
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A read-only connection of its own, for a long job.
    pub fn open_reader(&self) -> Result<Connection, StorageError> {
        open_read_only(&self.path, &self.key).map_err(|source| StorageError::Open {
            path: self.path.clone(),
            source,
        })
    }
}

/// How long a connection waits for another one's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether opening the database in `data_dir` will upgrade a record saved by an earlier
/// version (encrypting it, or changing its schema): that can take seconds on a large log, so
/// the window is shown first.
pub fn upgrade_pending(data_dir: &Path, key: &DataKey) -> bool {
    let path = data_dir.join(DB_FILE_NAME);
    if !path.is_file() {
        return false;
    }
    if encrypt::is_plain(&path) {
        // Encrypting it is the upgrade; a newer version's record is refused at once.
        return Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|conn| {
                conn.pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))
            })
            .is_ok_and(|found| found >= 0 && (found as usize) <= latest_schema_version());
    }
    let found = open_read_only(&path, key)
        .and_then(|conn| conn.pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0)))
        .unwrap_or(0);
    found > 0 && (found as usize) < latest_schema_version()
}

/// Every connection is keyed before its first read.
fn apply_key(conn: &Connection, key: &DataKey) -> rusqlite::Result<()> {
    conn.pragma_update(None, "key", key.sqlcipher_key().as_str())
}

fn open_read_only(path: &Path, key: &DataKey) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    apply_key(&conn, key)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_of(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            .unwrap();
        stmt.query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn migration_list_is_valid() {
        migrations().validate().unwrap();
    }

    #[test]
    fn creates_folder_and_database_with_latest_schema_and_pragmas() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("nested").join("data");
        let db = Database::open_in(&data_dir, &crate::vault::test_key()).unwrap();
        assert!(data_dir.join(DB_FILE_NAME).is_file());
        let conn = db.conn();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version as usize, latest_schema_version());
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
    }

    #[test]
    fn ticks_saved_before_migration_2_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE_NAME);
        {
            let mut conn = Connection::open(&path).unwrap();
            Migrations::new(vec![M::up(MIGRATIONS[0])])
                .to_latest(&mut conn)
                .unwrap();
            conn.execute(
                "INSERT INTO advice_tick VALUES ('routine', 'stay-alert', 42)",
                [],
            )
            .unwrap();
        }
        let db = Database::open(&path, &crate::vault::test_key()).unwrap();
        let row: (String, String, i64) = db
            .conn()
            .query_row(
                "SELECT list_id, item_id, ticked_at FROM checklist_tick",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(row, ("routine".into(), "stay-alert".into(), 42));
    }

    #[test]
    fn incidents_indexed_before_migration_5_are_found_by_a_longer_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE_NAME);
        {
            let mut conn = Connection::open(&path).unwrap();
            Migrations::new(MIGRATIONS[..4].iter().map(|sql| M::up(sql)).collect())
                .to_latest(&mut conn)
                .unwrap();
            conn.execute(
                "INSERT INTO incident_fts (rowid, what_happened, people, location, refs)
                 VALUES (7, 'Leaflets torn up at the gate', '', 'Mill Lane', '')",
                [],
            )
            .unwrap();
        }
        let db = Database::open(&path, &crate::vault::test_key()).unwrap();
        let conn = db.conn();
        for prefix in ["le*", "lea*", "leaf*", "leafl*", "leaflet*", "mill"] {
            let found: Vec<i64> = conn
                .prepare("SELECT rowid FROM incident_fts WHERE incident_fts MATCH ?1")
                .unwrap()
                .query_map([prefix], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(found, vec![7], "{prefix}");
        }
        let sql: String = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'incident_fts'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(sql.contains("prefix = '2 3 4 5'"), "{sql}");
    }

    #[test]
    fn reopening_keeps_data_and_does_not_migrate_again() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
            db.conn()
                .execute("INSERT INTO checklist_tick VALUES ('s', 'i', 1)", [])
                .unwrap();
        }
        let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
        let n: i64 = db
            .conn()
            .query_row("SELECT count(*) FROM checklist_tick", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn a_failing_migration_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE_NAME);
        let mut conn = Connection::open(&path).unwrap();
        let before = schema_of(&conn);
        // The second step fails, so the first must be rolled back with it: one transaction.
        let broken = Migrations::new(vec![
            M::up("CREATE TABLE first_step (x INTEGER);"),
            M::up("CREATE TABLE oops (x INTEGER; -- syntax error"),
        ]);
        assert!(broken.to_latest(&mut conn).is_err());
        assert_eq!(schema_of(&conn), before);
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, 0);
    }

    #[test]
    fn refuses_a_database_from_a_newer_version_without_touching_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE_NAME);
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
                .unwrap();
        }
        let bytes_before = std::fs::read(&path).unwrap();
        let error = Database::open(&path, &crate::vault::test_key())
            .err()
            .expect("must refuse");
        assert!(
            matches!(error, StorageError::NewerSchema { found: 99, .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("newer version of Campaign Safe"));
        assert_eq!(error.code(), "newer_database");
        assert_eq!(std::fs::read(&path).unwrap(), bytes_before);
        assert!(!dir.path().join(format!("{DB_FILE_NAME}-wal")).exists());
    }

    #[test]
    fn refuses_a_damaged_file_without_touching_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE_NAME);
        let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &garbage).unwrap();
        let error = Database::open(&path, &crate::vault::test_key())
            .err()
            .expect("must refuse");
        assert!(matches!(error, StorageError::Open { .. }), "{error:?}");
        assert!(error.to_string().contains("left exactly as it was"));
        assert_eq!(std::fs::read(&path).unwrap(), garbage);
    }

    #[test]
    fn reports_a_data_folder_that_cannot_be_created() {
        let dir = tempfile::tempdir().unwrap();
        let not_a_folder = dir.path().join("file");
        std::fs::write(&not_a_folder, b"x").unwrap();
        let error = Database::open_in(&not_a_folder.join("data"), &crate::vault::test_key())
            .err()
            .expect("must fail");
        assert!(matches!(error, StorageError::DataDir { .. }), "{error:?}");
        assert!(error.to_string().contains("cannot use its data folder"));
    }

    #[test]
    fn reports_a_database_path_that_is_a_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(DB_FILE_NAME)).unwrap();
        let error = Database::open_in(dir.path(), &crate::vault::test_key())
            .err()
            .expect("must fail");
        assert!(matches!(error, StorageError::Open { .. }), "{error:?}");
    }
}
