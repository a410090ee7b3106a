//! Attachment files, copied into the data folder and named by the SHA-256 of their content.
//! The original is only ever read. A copy is written to a temporary name first and renamed
//! into place, so a full disk or a crash never leaves a half file under a real name.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::chain::hex;
use super::model::AttachmentRef;
use super::IncidentError;

/// 50 MiB: a long voice memo or a dozen photos' worth; videos should be kept elsewhere.
pub const MAX_BYTES: u64 = 50 * 1024 * 1024;
pub const NAME_MAX: usize = 200;

#[derive(Debug, Clone)]
pub struct AttachmentStore {
    dir: PathBuf,
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
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
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

impl AttachmentStore {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join("attachments"),
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

    fn store_from(
        &self,
        reader: &mut impl Read,
        read_failed: &str,
    ) -> Result<Stored, IncidentError> {
        std::fs::create_dir_all(&self.dir).map_err(write_error)?;
        let mut temp = tempfile::NamedTempFile::new_in(&self.dir).map_err(write_error)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let read = reader
                .read(&mut buffer)
                .map_err(|error| file_error(format!("{read_failed} ({error}).")))?;
            if read == 0 {
                break;
            }
            size += read as u64;
            if size > MAX_BYTES {
                return Err(too_big());
            }
            hasher.update(&buffer[..read]);
            temp.write_all(&buffer[..read]).map_err(write_error)?;
        }
        temp.as_file().sync_all().map_err(write_error)?;
        let sha256 = hex(hasher.finalize());
        let destination = self.path_of(&sha256);
        // The same content stored before is already there under the same name.
        if !destination.exists() {
            temp.persist(&destination)
                .map_err(|error| write_error(error.error))?;
        }
        Ok(Stored { sha256, size })
    }

    /// Why a recorded attachment no longer matches its file, if it does not.
    pub fn check(&self, attachment: &AttachmentRef) -> Option<String> {
        let name = &attachment.original_name;
        let path = self.path_of(&attachment.sha256);
        let Ok(mut file) = File::open(&path) else {
            return Some(format!(
                "attachment “{name}” is missing from the data folder"
            ));
        };
        let mut hasher = Sha256::new();
        let Ok(size) = io::copy(&mut file, &mut hasher) else {
            return Some(format!(
                "attachment “{name}” cannot be read from the data folder"
            ));
        };
        if size != attachment.size || hex(hasher.finalize()) != attachment.sha256 {
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
