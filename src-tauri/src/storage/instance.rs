//! One copy of the app per record. A lock on the data folder, taken before the database is
//! opened, so a second process never writes the same record, whatever D-Bus says (the
//! desktop's single-instance check needs a session bus; this does not). A second launch
//! asks the running copy to come forward over a local socket and exits; if the running copy
//! does not answer, it says why and leaves the record alone.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::StorageError;

/// Held (with an OS lock, released when the process ends however it ends) by the copy of
/// the app that owns the record in this folder.
pub const LOCK_FILE_NAME: &str = "campaign-safe.lock";

/// How long a second launch waits for the first copy to answer, and then for the lock to
/// come free (the first copy may be closing: someone closed it and opened it again).
const ANSWER_WAIT: Duration = Duration::from_secs(2);
const LOCK_WAIT: Duration = Duration::from_secs(3);

/// The data folder's lock, held for as long as this value lives.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
    data_dir: PathBuf,
}

impl InstanceLock {
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

/// What a launch found.
#[derive(Debug)]
pub enum Claim {
    /// This copy owns the record.
    Ours(InstanceLock),
    /// Another copy owns it and came forward: this one should exit.
    HandedOver,
}

/// Takes the record in `data_dir` for this copy of the app, or hands over to the copy that
/// has it. Errors say why the record cannot be used: the folder cannot be written, or
/// another copy holds it and did not answer.
pub fn claim(data_dir: &Path) -> Result<Claim, StorageError> {
    let folder_error = |source: io::Error| {
        if is_read_only(&source) {
            StorageError::ReadOnly {
                path: data_dir.to_owned(),
            }
        } else {
            StorageError::DataDir {
                path: data_dir.to_owned(),
                source,
            }
        }
    };
    std::fs::create_dir_all(data_dir).map_err(folder_error)?;
    check_writable(data_dir)?;
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(data_dir.join(LOCK_FILE_NAME))
        .map_err(folder_error)?;
    if take(&file)? {
        return Ok(Claim::Ours(owned(file, data_dir)));
    }
    match hand_over(data_dir) {
        Ok(()) => return Ok(Claim::HandedOver),
        Err(error) => tracing::warn!("the running copy did not answer: {error}"),
    }
    let deadline = Instant::now() + LOCK_WAIT;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        if take(&file)? {
            return Ok(Claim::Ours(owned(file, data_dir)));
        }
    }
    Err(StorageError::InUse {
        path: data_dir.to_owned(),
    })
}

fn owned(file: File, data_dir: &Path) -> InstanceLock {
    InstanceLock {
        _file: file,
        data_dir: data_dir.to_owned(),
    }
}

/// True if the lock was taken; false if another process holds it.
fn take(file: &File) -> Result<bool, StorageError> {
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(TryLockError::WouldBlock) => Ok(false),
        // A file system without locks (some network shares): nothing to enforce with, so
        // go on as before rather than refuse the record.
        Err(TryLockError::Error(error)) => {
            tracing::warn!(
                "the data folder cannot be locked, so two copies are not prevented: {error}"
            );
            Ok(true)
        }
    }
}

/// Whether an error means "you may not write here" rather than "something is wrong".
pub fn is_read_only(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem
    )
}

/// Whether a folder can take new files: the lock file can exist already in a folder that
/// has since been made read-only, where the database would then fail on the first save.
pub fn check_writable(data_dir: &Path) -> Result<(), StorageError> {
    match tempfile::Builder::new()
        .prefix(".write-check")
        .tempfile_in(data_dir)
    {
        Ok(_) => Ok(()),
        Err(error) if is_read_only(&error) => Err(StorageError::ReadOnly {
            path: data_dir.to_owned(),
        }),
        Err(source) => Err(StorageError::DataDir {
            path: data_dir.to_owned(),
            source,
        }),
    }
}

/// Listens for later launches and calls `come_forward` for each, on a thread of its own
/// that sleeps in `accept` (no wake-ups while idle). Anyone on this computer could connect,
/// but all they can do is bring the window forward.
#[cfg(target_os = "linux")]
pub fn listen(lock: &InstanceLock, come_forward: impl Fn() + Send + 'static) -> io::Result<()> {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::UnixListener;

    let listener = UnixListener::bind_addr(&socket_address(lock.data_dir())?)?;
    std::thread::Builder::new()
        .name("instance".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = stream.set_read_timeout(Some(ANSWER_WAIT));
                let mut line = String::new();
                let mut reader = BufReader::new(&stream);
                if reader.read_line(&mut line).is_ok() && line.trim() == "come-forward" {
                    come_forward();
                    let _ = (&stream).write_all(b"ok\n");
                }
            }
        })?;
    Ok(())
}

#[cfg(not(target_os = "linux"))]
pub fn listen(_: &InstanceLock, _: impl Fn() + Send + 'static) -> io::Result<()> {
    Ok(())
}

/// Asks the copy that owns the record to come forward; Ok once it said it did.
#[cfg(target_os = "linux")]
pub fn hand_over(data_dir: &Path) -> io::Result<()> {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::UnixStream;

    let stream = UnixStream::connect_addr(&socket_address(data_dir)?)?;
    stream.set_read_timeout(Some(ANSWER_WAIT))?;
    stream.set_write_timeout(Some(ANSWER_WAIT))?;
    (&stream).write_all(b"come-forward\n")?;
    let mut answer = String::new();
    BufReader::new(&stream).read_line(&mut answer)?;
    if answer.trim() == "ok" {
        Ok(())
    } else {
        Err(io::Error::other("the running copy gave no answer"))
    }
}

#[cfg(not(target_os = "linux"))]
pub fn hand_over(_: &Path) -> io::Result<()> {
    Err(io::Error::new(
        ErrorKind::Unsupported,
        "handing over is not built for this system",
    ))
}

/// An abstract socket (Linux): no file to leave behind when the app is killed, and named
/// after the data folder, so copies with different records never meet.
#[cfg(target_os = "linux")]
fn socket_address(data_dir: &Path) -> io::Result<std::os::unix::net::SocketAddr> {
    use sha2::{Digest, Sha256};
    use std::os::linux::net::SocketAddrExt;

    let folder = data_dir
        .canonicalize()
        .unwrap_or_else(|_| data_dir.to_owned());
    let digest = Sha256::digest(folder.as_os_str().as_encoded_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    std::os::unix::net::SocketAddr::from_abstract_name(format!("uk.campaignsafe.app/{hex}"))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    #[test]
    fn the_first_copy_owns_the_record_and_a_second_hands_over_to_it() {
        let data = tempfile::tempdir().unwrap();
        let Claim::Ours(lock) = claim(data.path()).unwrap() else {
            panic!("the first claim owns the record");
        };
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        listen(&lock, move || {
            counted.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();

        assert!(matches!(claim(data.path()).unwrap(), Claim::HandedOver));
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        // Another folder is another record.
        let other = tempfile::tempdir().unwrap();
        assert!(matches!(claim(other.path()).unwrap(), Claim::Ours(_)));

        // Once the first copy has gone, the next launch owns the record.
        drop(lock);
        assert!(matches!(claim(data.path()).unwrap(), Claim::Ours(_)));
    }

    #[test]
    fn a_copy_that_does_not_answer_keeps_the_record_and_the_second_says_so() {
        let data = tempfile::tempdir().unwrap();
        let Claim::Ours(_lock) = claim(data.path()).unwrap() else {
            panic!("the first claim owns the record");
        };
        // No listener: the first copy is stuck, or was built without one.
        let error = claim(data.path()).unwrap_err();
        assert_eq!(crate::error::ErrorCode::code(&error), "in_use");
        let message = error.to_string();
        assert!(message.contains("already open"), "{message}");
        assert!(message.contains("will not save anything"), "{message}");
    }

    #[test]
    fn a_copy_that_is_closing_gives_the_record_to_the_next_launch() {
        let data = tempfile::tempdir().unwrap();
        let Claim::Ours(lock) = claim(data.path()).unwrap() else {
            panic!("the first claim owns the record");
        };
        let closing = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            drop(lock);
        });
        assert!(matches!(claim(data.path()).unwrap(), Claim::Ours(_)));
        closing.join().unwrap();
    }

    #[test]
    fn a_folder_that_cannot_be_written_is_named_as_read_only() {
        // /sys refuses new entries even to root, as a read-only folder does to a user.
        let error = claim(Path::new("/sys/campaign-safe-test")).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("read-only"), "{message}");
        assert!(!message.contains("damaged"), "{message}");
        assert_eq!(
            check_writable(Path::new("/sys")).unwrap_err().to_string(),
            StorageError::ReadOnly {
                path: "/sys".into()
            }
            .to_string()
        );
        for kind in [ErrorKind::PermissionDenied, ErrorKind::ReadOnlyFilesystem] {
            assert!(is_read_only(&io::Error::from(kind)));
        }
        assert!(!is_read_only(&io::Error::from(ErrorKind::NotFound)));
    }
}
