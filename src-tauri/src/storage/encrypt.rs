//! Earlier versions kept the record in a plain SQLite file. The first start of this version
//! copies it into an encrypted file beside it, checks the copy, and only then puts the copy in
//! its place with one rename: killed at any moment, the record is either the old plain file,
//! whole, or the encrypted one, whole. A half-written copy is thrown away and made again.
//!
//! The plain bytes may stay in the disk's free space after the rename: the filesystem decides
//! that, not the app (README, "What is protected").

use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OpenFlags};

use super::{apply_key, open_read_only, StorageError, BUSY_TIMEOUT, DB_FILE_NAME};
use crate::vault::DataKey;

/// The first 16 bytes of every unencrypted SQLite file; an encrypted one starts with random
/// salt instead.
const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// True when `path` is an unencrypted SQLite database (an earlier version's record).
pub fn is_plain(path: &Path) -> bool {
    let mut header = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut header))
        .is_ok_and(|()| &header == PLAIN_HEADER)
}

/// True when `data_dir` holds a record that only its key can open.
pub fn holds_encrypted_record(data_dir: &Path) -> bool {
    let path = data_dir.join(DB_FILE_NAME);
    std::fs::metadata(&path).is_ok_and(|meta| meta.len() > 0) && !is_plain(&path)
}

/// Where the encrypted copy is made before it replaces the plain file.
pub fn encrypting_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".encrypting");
    path.with_file_name(name)
}

/// Replaces the plain database at `path` with an encrypted copy under `key`. A plain record
/// from a newer version is refused untouched, as when opening it.
pub fn encrypt_in_place(path: &Path, key: &DataKey, supported: usize) -> Result<(), StorageError> {
    let failed = |detail: String| StorageError::Encrypt {
        path: path.to_owned(),
        detail,
    };
    let partial = encrypting_path(path);
    // Left by an attempt that was interrupted: the plain file is still the record.
    remove_if_there(&partial).map_err(|error| failed(error.to_string()))?;

    let version = {
        let plain = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(
            |source| StorageError::Open {
                path: path.to_owned(),
                source,
            },
        )?;
        user_version(&plain).map_err(|source| StorageError::Open {
            path: path.to_owned(),
            source,
        })?
    };
    if version > supported {
        return Err(StorageError::NewerSchema {
            path: path.to_owned(),
            found: version,
            supported,
        });
    }
    tracing::info!(path = %path.display(), "encrypting the record saved by an earlier version");
    copy_encrypted(path, &partial, key, version).map_err(|error| failed(error.to_string()))?;
    check_copy(path, &partial, key).map_err(&failed)?;

    std::fs::File::open(&partial)
        .and_then(|file| file.sync_all())
        .map_err(|error| failed(error.to_string()))?;
    // The plain file's log was emptied into it before the copy and is removed on close; one
    // that is still there and not empty means something wrote after the copy: stop.
    for suffix in ["-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let side = PathBuf::from(name);
        match std::fs::metadata(&side) {
            Ok(meta) if suffix == "-wal" && meta.len() > 0 => {
                let _ = std::fs::remove_file(&partial);
                return Err(failed("its write-ahead log changed during the copy".into()));
            }
            Ok(_) => std::fs::remove_file(&side).map_err(|error| failed(error.to_string()))?,
            Err(_) => {}
        }
    }
    std::fs::rename(&partial, path).map_err(|error| failed(error.to_string()))?;
    if let Some(dir) = path.parent().and_then(|dir| std::fs::File::open(dir).ok()) {
        let _ = dir.sync_all();
    }
    tracing::info!(path = %path.display(), "the record is encrypted");
    Ok(())
}

fn user_version(conn: &Connection) -> rusqlite::Result<usize> {
    conn.pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))
        .map(|found| found.try_into().unwrap_or(usize::MAX))
}

fn remove_if_there(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

/// SQLCipher's own export: the schema, every row and the FTS index, into a new keyed file.
fn copy_encrypted(
    path: &Path,
    partial: &Path,
    key: &DataKey,
    version: usize,
) -> rusqlite::Result<()> {
    let plain = Connection::open(path)?;
    plain.busy_timeout(BUSY_TIMEOUT)?;
    // Everything into the main file first, so the copy misses nothing still in the log.
    let busy: i64 = plain.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))?;
    if busy != 0 {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            Some("the record is in use".into()),
        ));
    }
    plain.execute(
        "ATTACH DATABASE ?1 AS encrypted KEY ?2",
        params![partial.to_string_lossy(), key.sqlcipher_key().as_str()],
    )?;
    plain.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
    // The export copies tables, not the schema version.
    plain.execute_batch(&format!("PRAGMA encrypted.user_version = {version};"))?;
    plain.execute("DETACH DATABASE encrypted", [])?;
    Ok(())
}

/// The copy opens with the key, passes SQLite's integrity check, and holds as many rows in
/// every table as the plain file.
fn check_copy(path: &Path, partial: &Path, key: &DataKey) -> Result<(), String> {
    let copy = open_read_only(partial, key).map_err(|error| error.to_string())?;
    let plain = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|error| error.to_string())?;
    let integrity: String = copy
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .map_err(|error| error.to_string())?;
    if integrity != "ok" {
        return Err(format!("the encrypted copy failed its check ({integrity})"));
    }
    let tables = |conn: &Connection| -> rusqlite::Result<Vec<String>> {
        conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?
            .query_map([], |row| row.get(0))?
            .collect()
    };
    let in_plain = tables(&plain).map_err(|error| error.to_string())?;
    if tables(&copy).map_err(|error| error.to_string())? != in_plain {
        return Err("the encrypted copy does not have the same tables".into());
    }
    if user_version(&plain).ok() != user_version(&copy).ok() {
        return Err("the encrypted copy does not have the same data version".into());
    }
    for table in in_plain {
        let sql = format!("SELECT count(*) FROM \"{}\"", table.replace('"', "\"\""));
        let count = |conn: &Connection| conn.query_row(&sql, [], |row| row.get::<_, i64>(0));
        let (before, after) = (count(&plain), count(&copy));
        if before.as_ref().ok() != after.as_ref().ok() {
            return Err(format!("the encrypted copy lost rows of {table}"));
        }
    }
    drop(copy);
    // Opening keyed must also work for a writer, as the app will next.
    let writer = Connection::open(partial).map_err(|error| error.to_string())?;
    apply_key(&writer, key).map_err(|error| error.to_string())?;
    writer
        .query_row("SELECT count(*) FROM sqlite_master", [], |row| {
            row.get::<_, i64>(0)
        })
        .map_err(|error| error.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests;
