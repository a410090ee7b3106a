//! Attachment files, copied into the data folder sealed with the record's key, and named by
//! the SHA-256 of their original content (the fingerprint the record keeps). The original is
//! only ever read. A copy is written to a temporary name first and renamed into place, so a
//! full disk or a crash never leaves a half file under a real name.
//!
//! Files an earlier version stored unsealed are still read, and sealed in place by
//! [`AttachmentStore::seal_plain_files`] at start.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::model::AttachmentRef;
use super::IncidentError;
use crate::vault::sealed::{self, FileKey, SealError};
use crate::vault::DataKey;

/// 50 MiB: a long voice memo or a dozen photos' worth; videos should be kept elsewhere.
pub const MAX_BYTES: u64 = 50 * 1024 * 1024;
pub const NAME_MAX: usize = 200;

#[derive(Clone)]
pub struct AttachmentStore {
    dir: PathBuf,
    key: FileKey,
}

impl std::fmt::Debug for AttachmentStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachmentStore")
            .field("dir", &self.dir)
            .finish()
    }
}

/// What was stored: the content's hash and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub sha256: String,
    pub size: u64,
}

fn file_error(message: impl Into<String>) -> IncidentError {
    IncidentError::Invalid {
        field: "file".into(),
        message: message.into(),
    }
}

/// A full disk is the user's to fix; anything else writing our own folder is a fault.
pub fn write_error(error: io::Error) -> IncidentError {
    if error.kind() == io::ErrorKind::StorageFull {
        IncidentError::DiskFull
    } else {
        IncidentError::Io(error.to_string())
    }
}

fn too_big() -> IncidentError {
    file_error(format!(
        "File: at most {} MB per file. Keep larger videos elsewhere and note where.",
        MAX_BYTES / 1024 / 1024
    ))
}

/// The name to show and export under: the original's last path part, without anything
/// that could climb out of a folder.
pub fn clean_name(raw: &str) -> Result<String, IncidentError> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    // Controls dropped; characters that reorder text written out, so the name shows as it is.
    let cleaned: String =
        crate::error::shown_plainly(&base.chars().filter(|c| !c.is_control()).collect::<String>())
            .trim()
            .to_owned();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        return Err(file_error(
            "File: the file has no name. Rename it and try again.",
        ));
    }
    if cleaned.chars().count() > NAME_MAX {
        return Err(file_error(format!(
            "File: the file name is longer than {NAME_MAX} characters. Rename it and try again."
        )));
    }
    Ok(cleaned)
}

/// In the attachments folder once every file there is sealed (never a 64-hex name, so never
/// taken for an attachment).
const ALL_SEALED_MARKER: &str = ".all-sealed";

impl AttachmentStore {
    pub fn new(data_dir: &Path, key: &DataKey) -> Self {
        Self {
            dir: data_dir.join("attachments"),
            key: FileKey::of(key),
        }
    }

    pub fn path_of(&self, sha256: &str) -> PathBuf {
        self.dir.join(sha256)
    }

    /// Copies a file the user chose, leaving the original untouched.
    pub fn store_file(&self, source: &Path) -> Result<Stored, IncidentError> {
        let shown = source.display();
        let unreadable = |error: io::Error| match error.kind() {
            io::ErrorKind::NotFound => file_error(format!(
                "File: {shown} is not there any more. Choose it again."
            )),
            io::ErrorKind::PermissionDenied => file_error(format!(
                "File: Campaign Safe is not allowed to read {shown}."
            )),
            _ => file_error(format!("File: {shown} cannot be read ({error}).")),
        };
        // Looked at before opening: opening a pipe would wait for a writer for ever.
        let metadata = std::fs::metadata(source).map_err(unreadable)?;
        if metadata.is_dir() {
            return Err(file_error(format!(
                "File: {shown} is a folder, not a file."
            )));
        }
        if !metadata.is_file() {
            return Err(file_error(format!(
                "File: {shown} is not an ordinary file (a pipe or a device)."
            )));
        }
        let mut file = File::open(source).map_err(unreadable)?;
        if metadata.len() > MAX_BYTES {
            return Err(too_big());
        }
        self.store_from(
            &mut file,
            &format!("File: {shown} could not be read to the end"),
        )
    }

    /// Stores content sent from the window (a file picked in the browser's file chooser).
    pub fn store_bytes(&self, bytes: &[u8]) -> Result<Stored, IncidentError> {
        if bytes.is_empty() {
            return Err(file_error("File: the file is empty."));
        }
        if bytes.len() as u64 > MAX_BYTES {
            return Err(too_big());
        }
        let mut reader = bytes;
        self.store_from(&mut reader, "File: the file could not be read")
    }

    pub(crate) fn store_from(
        &self,
        reader: &mut impl Read,
        read_failed: &str,
    ) -> Result<Stored, IncidentError> {
        let (temp, stored) = self.seal_to_temp(reader, read_failed)?;
        let destination = self.path_of(&stored.sha256);
        // The same content stored before is already there under the same name.
        if !destination.exists() {
            temp.persist(&destination)
                .map_err(|error| write_error(error.error))?;
        }
        Ok(stored)
    }

    /// Seals `reader` into a new temporary file in the folder, hashing the plain bytes.
    fn seal_to_temp(
        &self,
        reader: &mut impl Read,
        read_failed: &str,
    ) -> Result<(tempfile::NamedTempFile, Stored), IncidentError> {
        std::fs::create_dir_all(&self.dir).map_err(write_error)?;
        let temp = tempfile::NamedTempFile::new_in(&self.dir).map_err(write_error)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut sink = io::BufWriter::new(temp);
        let sealed = sealed::seal(&self.key, reader, &mut sink, |chunk| {
            size += chunk.len() as u64;
            hasher.update(chunk);
            size <= MAX_BYTES
        });
        match sealed {
            Ok(()) => {}
            Err(SealError::Read(error)) => {
                return Err(file_error(format!("{read_failed} ({error}).")))
            }
            Err(SealError::Write(error)) => return Err(write_error(error)),
            Err(SealError::Stopped) => return Err(too_big()),
        }
        let temp = sink
            .into_inner()
            .map_err(|error| write_error(error.into_error()))?;
        temp.as_file().sync_all().map_err(write_error)?;
        let sha256 = hex::encode(hasher.finalize());
        Ok((temp, Stored { sha256, size }))
    }

    /// The original bytes of a stored file, as they are read (sealed, or an earlier
    /// version's plain copy).
    pub fn open(&self, sha256: &str) -> io::Result<Box<dyn Read>> {
        let mut file = File::open(self.path_of(sha256))?;
        let mut header = [0u8; 8];
        let read = file.read(&mut header)?;
        let rest = io::Cursor::new(header[..read].to_vec()).chain(file);
        if sealed::is_sealed(&header[..read]) {
            Ok(Box::new(sealed::Opened::new(&self.key, rest)?))
        } else {
            Ok(Box::new(rest))
        }
    }

    /// The length of a stored file's original bytes, without reading them: from a sealed
    /// file's length, or a plain file's own. A sealed file cut short is `InvalidData`.
    pub fn plain_len(&self, sha256: &str) -> io::Result<u64> {
        let mut file = File::open(self.path_of(sha256))?;
        let len = file.metadata()?.len();
        let mut header = [0u8; 8];
        let read = file.read(&mut header)?;
        if !sealed::is_sealed(&header[..read]) {
            return Ok(len);
        }
        sealed::plain_len(len).ok_or_else(sealed::altered)
    }

    /// True when an earlier version left files here unsealed. Once a pass has sealed every
    /// file, a marker says so and no file is opened at start again (this version only ever
    /// stores sealed files).
    pub fn has_plain_files(&self) -> bool {
        !self.all_sealed_marker().is_file()
            && self
                .stored()
                .unwrap_or_default()
                .iter()
                .any(|name| !self.is_sealed(name))
    }

    fn all_sealed_marker(&self) -> PathBuf {
        self.dir.join(ALL_SEALED_MARKER)
    }

    fn is_sealed(&self, name: &str) -> bool {
        let mut header = [0u8; 8];
        File::open(self.path_of(name))
            .and_then(|mut file| file.read_exact(&mut header))
            .is_ok_and(|()| sealed::is_sealed(&header))
    }

    /// Seals every file an earlier version stored in the clear, one at a time: each sealed
    /// copy is checked against its fingerprint before it replaces the plain file, so a crash
    /// leaves each file either plain or sealed, never lost. How many were sealed.
    pub fn seal_plain_files(&self) -> Result<usize, IncidentError> {
        if self.all_sealed_marker().is_file() {
            return Ok(0);
        }
        let (mut sealed_count, mut left_plain) = (0, 0);
        for name in self.stored().map_err(write_error)? {
            if self.is_sealed(&name) {
                continue;
            }
            let mut plain = File::open(self.path_of(&name)).map_err(write_error)?;
            let (temp, stored) =
                self.seal_to_temp(&mut plain, "An attachment could not be read")?;
            if stored.sha256 != name {
                // Changed since it was stored: left as it is for "Check the log" to report.
                tracing::warn!("an attachment does not match its fingerprint; left unsealed");
                left_plain += 1;
                continue;
            }
            temp.persist(self.path_of(&name))
                .map_err(|error| write_error(error.error))?;
            sealed_count += 1;
        }
        if sealed_count > 0 {
            if let Ok(dir) = File::open(&self.dir) {
                let _ = dir.sync_all();
            }
            tracing::info!(files = sealed_count, "attachments sealed");
        }
        if left_plain == 0 {
            self.mark_all_sealed();
        }
        Ok(sealed_count)
    }

    /// Notes that every file here is sealed. Without the note (no folder yet, or it could
    /// not be written) the files are only looked at again at the next start.
    fn mark_all_sealed(&self) {
        let marker = self.all_sealed_marker();
        if !self.dir.is_dir() || marker.is_file() {
            return;
        }
        if let Err(error) = std::fs::write(&marker, b"") {
            tracing::warn!("could not note that every attachment is sealed: {error}");
        }
    }

    /// Why a recorded attachment no longer matches its file, if it does not.
    pub fn check(&self, attachment: &AttachmentRef) -> Option<String> {
        let name = &attachment.original_name;
        let mut file = match self.open(&attachment.sha256) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::InvalidData => {
                return Some(format!(
                    "attachment “{name}” has changed since it was added (it no longer opens)"
                ))
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Some(format!(
                    "attachment “{name}” is missing from the data folder"
                ))
            }
            Err(_) => {
                return Some(format!(
                    "attachment “{name}” cannot be read from the data folder"
                ))
            }
        };
        let mut hasher = Sha256::new();
        let size = match io::copy(&mut file, &mut hasher) {
            Ok(size) => size,
            Err(error) if error.kind() == io::ErrorKind::InvalidData => {
                return Some(format!(
                    "attachment “{name}” has changed since it was added (it no longer opens)"
                ))
            }
            Err(_) => {
                return Some(format!(
                    "attachment “{name}” cannot be read from the data folder"
                ))
            }
        };
        if size != attachment.size || hex::encode(hasher.finalize()) != attachment.sha256 {
            return Some(format!(
                "attachment “{name}” has changed since it was added (SHA-256 differs)"
            ));
        }
        None
    }

    /// The content files in the folder (named by their SHA-256), for finding ones no
    /// incident names. A temporary file of a copy in progress is not one of them.
    pub fn stored(&self) -> io::Result<Vec<String>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            entries => entries?,
        };
        let mut names = Vec::new();
        for entry in entries {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    /// Removes a file no longer named by any incident (after an erasure).
    pub fn remove(&self, sha256: &str) -> io::Result<()> {
        match std::fs::remove_file(self.path_of(sha256)) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
