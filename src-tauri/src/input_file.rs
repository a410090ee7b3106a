//! Files the user points the app at (a party's CSV list, an evidence pack, a backup): only
//! ordinary files are read, and never more than a limit, counted while reading (a file can
//! grow after it was measured, and `/dev/zero` reports no length at all).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Why a chosen file was not read. Each caller words it for its own form.
#[derive(Debug)]
pub enum InputFileError {
    /// Not there, or not ours to read.
    Unreadable(io::Error),
    /// A pipe, a device, a folder or a socket: it might never end, or never start.
    NotOrdinary,
    /// More than the limit (in bytes).
    TooLarge { limit: u64 },
}

/// Opens `path` if it is an ordinary file. A pipe is opened without waiting for a writer,
/// then refused.
pub fn open_ordinary(path: &Path) -> Result<File, InputFileError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc_nonblock());
    }
    let file = options.open(path).map_err(InputFileError::Unreadable)?;
    let metadata = file.metadata().map_err(InputFileError::Unreadable)?;
    if !metadata.is_file() {
        return Err(InputFileError::NotOrdinary);
    }
    Ok(file)
}

#[cfg(all(unix, target_os = "linux"))]
fn libc_nonblock() -> i32 {
    libc::O_NONBLOCK
}

#[cfg(all(unix, not(target_os = "linux")))]
fn libc_nonblock() -> i32 {
    // O_NONBLOCK on the BSDs and macOS.
    0x0004
}

/// The whole of an ordinary file of at most `limit` bytes.
pub fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>, InputFileError> {
    let file = open_ordinary(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(InputFileError::Unreadable)?;
    if bytes.len() as u64 > limit {
        return Err(InputFileError::TooLarge { limit });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipes_devices_and_folders_are_refused_at_once_and_the_limit_holds_while_reading() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.csv");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // No writer ever comes: refused at once, not waited on.
        assert!(matches!(
            read_capped(&fifo, 1024),
            Err(InputFileError::NotOrdinary)
        ));
        for path in ["/dev/zero", "/dev/null", "/dev/urandom"] {
            assert!(
                matches!(
                    read_capped(Path::new(path), 1024),
                    Err(InputFileError::NotOrdinary)
                ),
                "{path}"
            );
        }
        assert!(matches!(
            read_capped(dir.path(), 1024),
            Err(InputFileError::NotOrdinary)
        ));
        let big = dir.path().join("big.csv");
        std::fs::write(&big, vec![b'a'; 2048]).unwrap();
        assert!(matches!(
            read_capped(&big, 1024),
            Err(InputFileError::TooLarge { limit: 1024 })
        ));
        assert_eq!(read_capped(&big, 2048).unwrap().len(), 2048);
        assert!(matches!(
            read_capped(&dir.path().join("nope"), 1024),
            Err(InputFileError::Unreadable(_))
        ));
    }
}
