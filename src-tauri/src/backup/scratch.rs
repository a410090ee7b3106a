//! The files a backup or a restore writes while it runs, and what an interrupted one leaves.
//!
//! The backup itself is written to a file with no name where the filesystem allows it
//! (Linux `O_TMPFILE`): if the app is killed, the half-written file vanishes with it, and it
//! only gets its name once complete. Elsewhere (a FAT memory stick, a network share), and for
//! the database snapshot SQLite must open by name, a named scratch file is used and held
//! under an exclusive lock while it is written. A scratch file nobody holds is a leftover of
//! a backup that was killed, and is removed at the next start and at the next backup.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// The backup being written, beside its destination in the chosen folder.
pub const OUTPUT_PREFIX: &str = ".campaign-safe-backup";
/// The consistent copy of the database a backup reads from, in the data folder.
pub const SNAPSHOT_PREFIX: &str = "backup-snapshot";
/// Where a restore's copy of the database waits while it is checked, in the data folder.
pub const STAGING_NAME: &str = "restore-staging.sqlite3";

/// A scratch file being written, and the lock that says so.
pub struct Scratch {
    file: File,
    /// `None`: it has no name yet, and gets one only when it is kept.
    named: Option<tempfile::TempPath>,
    folder: PathBuf,
}

impl Scratch {
    /// A new scratch file in `folder`: unnamed where possible, else named with `prefix`.
    pub fn output_in(folder: &Path, prefix: &str) -> io::Result<Self> {
        if let Some(file) = unnamed_in(folder) {
            return Ok(Self {
                file,
                named: None,
                folder: folder.to_owned(),
            });
        }
        Self::named_in(folder, prefix)
    }

    /// A named scratch file in `folder`, held under an exclusive lock until it is dropped.
    pub fn named_in(folder: &Path, prefix: &str) -> io::Result<Self> {
        let (file, path) = tempfile::Builder::new()
            .prefix(prefix)
            .tempfile_in(folder)?
            .into_parts();
        file.try_lock().map_err(|error| match error {
            std::fs::TryLockError::Error(error) => error,
            std::fs::TryLockError::WouldBlock => io::Error::other("a new scratch file is locked"),
        })?;
        Ok(Self {
            file,
            named: Some(path),
            folder: folder.to_owned(),
        })
    }

    pub fn file(&self) -> &File {
        &self.file
    }

    pub fn file_mut(&mut self) -> &mut File {
        &mut self.file
    }

    /// The name SQLite opens it by; `None` for an unnamed file.
    pub fn path(&self) -> Option<&Path> {
        self.named.as_deref()
    }

    /// Gives the finished file its final name, replacing any file of that name.
    pub fn keep_as(self, path: &Path) -> io::Result<()> {
        match self.named {
            Some(named) => named.persist(path).map_err(|error| error.error),
            None => {
                // Linked under a hidden name first, then renamed over the destination: the
                // same replace-in-one-step as a named file, with no half-written window.
                let hidden = tempfile::Builder::new()
                    .prefix(OUTPUT_PREFIX)
                    .make_in(&self.folder, |path| link_unnamed(&self.file, path))?;
                std::fs::rename(hidden.path(), path)?;
                let _ = hidden.keep();
                Ok(())
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn unnamed_in(folder: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    // Refused with EOPNOTSUPP or EISDIR where the filesystem has no unnamed files.
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_TMPFILE)
        .open(folder)
        .ok()
}

#[cfg(not(target_os = "linux"))]
fn unnamed_in(_: &Path) -> Option<File> {
    None
}

#[cfg(target_os = "linux")]
fn link_unnamed(file: &File, path: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    let from = std::ffi::CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .map_err(io::Error::other)?;
    let to = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: both are valid NUL-terminated paths that outlive the call.
    let linked = unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    };
    if linked == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn link_unnamed(_: &File, _: &Path) -> io::Result<()> {
    Err(io::Error::other("unnamed files are not used here"))
}

/// Removes, from `folder`, scratch files starting with one of `prefixes` that no running
/// backup holds. Returns how many were removed.
pub fn remove_leftovers(folder: &Path, prefixes: &[&str]) -> usize {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !prefixes.iter().any(|prefix| name.starts_with(prefix)) {
            continue;
        }
        let path = entry.path();
        // Only ordinary files; a lock nobody holds means the backup writing it is gone. SQLite's
        // own side files go with the scratch file they belong to.
        let is_file = entry.file_type().is_ok_and(|kind| kind.is_file());
        let owner = ["-journal", "-wal", "-shm"]
            .iter()
            .find_map(|side| name.strip_suffix(side))
            .map_or_else(|| path.clone(), |base| folder.join(base));
        let unheld = is_file && !held(&owner);
        if unheld && std::fs::remove_file(&path).is_ok() {
            tracing::info!(file = %name, "removed what an interrupted backup left");
            removed += 1;
        }
    }
    removed
}

/// Whether a running backup holds the scratch file at `path` (one that is gone is not held).
fn held(path: &Path) -> bool {
    File::open(path).is_ok_and(|file| file.try_lock().is_err())
}

/// At start (no backup or restore of this record can be running): what an interrupted
/// backup or restore left in the data folder, and in the folder the last backup went to.
pub fn clean_after_crash(data_dir: &Path, last_folder: Option<&Path>) -> usize {
    let mut removed = remove_leftovers(data_dir, &[SNAPSHOT_PREFIX]);
    for side in ["", "-wal", "-shm", "-journal"] {
        let staging = data_dir.join(format!("{STAGING_NAME}{side}"));
        if std::fs::remove_file(&staging).is_ok() {
            removed += 1;
        }
    }
    if let Some(folder) = last_folder {
        removed += remove_leftovers(folder, &[OUTPUT_PREFIX]);
    }
    removed
}
