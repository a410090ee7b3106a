//! Files sealed with the record's key, for attachments: XChaCha20-Poly1305 in the STREAM
//! construction (64 KiB chunks, each authenticated, the last one marked), so a file of any
//! size is sealed and opened without holding it in memory, and a cut, reordered or altered
//! file fails to open instead of giving wrong bytes.
//!
//! Layout: 8 bytes of magic, a 19-byte random nonce prefix, then the sealed chunks.

use std::io::{self, Read, Write};

use chacha20poly1305::aead::stream::{DecryptorBE32, EncryptorBE32};
use chacha20poly1305::aead::KeyInit;
use chacha20poly1305::XChaCha20Poly1305;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::DataKey;

pub const MAGIC: &[u8; 8] = b"CSSEAL\x01\0";
const NONCE_PREFIX: usize = 19;
const CHUNK: usize = 64 * 1024;
const TAG: usize = 16;

/// The key for files: derived from the record's key, so the database's cipher and the
/// files' never share one.
#[derive(Clone)]
pub struct FileKey(Zeroizing<[u8; 32]>);

impl FileKey {
    pub fn of(key: &DataKey) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"campaign-safe sealed files v1");
        hasher.update(key.as_bytes());
        Self(Zeroizing::new(hasher.finalize().into()))
    }

    /// A key that is already secret and random (derived from a passphrase, say).
    pub fn from_secret(secret: Zeroizing<[u8; 32]>) -> Self {
        Self(secret)
    }

    /// A short public value that tells whether a key is the right one before anything is
    /// opened with it, so a wrong passphrase is told apart from a damaged file.
    pub fn check_value(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"campaign-safe key check v1");
        hasher.update(self.0.as_ref());
        hex::encode(&hasher.finalize()[..16])
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.as_ref().into())
    }
}

/// True when `header` (a file's first bytes) starts a sealed file.
pub fn is_sealed(header: &[u8]) -> bool {
    header.starts_with(MAGIC)
}

/// The plain length of a sealed file `sealed_len` bytes long, from the layout alone (every
/// chunk but the last is full, and each carries a tag): no need to open it to know. None
/// when no sealed file has that length (one cut short).
pub fn plain_len(sealed_len: u64) -> Option<u64> {
    let body = sealed_len.checked_sub((MAGIC.len() + NONCE_PREFIX) as u64)?;
    let sealed_chunk = (CHUNK + TAG) as u64;
    let chunks = body.div_ceil(sealed_chunk).max(1);
    let last = body - (chunks - 1) * sealed_chunk;
    (last >= TAG as u64).then(|| body - chunks * TAG as u64)
}

/// Reads until `buffer` is full or the source ends; how much was read.
fn read_full(source: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match source.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// A failure of the source, told apart from one of the destination.
#[derive(Debug)]
pub enum SealError {
    Read(io::Error),
    Write(io::Error),
    /// `on_chunk` refused to go on (a size limit).
    Stopped,
}

/// Seals everything `source` gives into `sink`, handing each plain chunk to `on_chunk` first
/// (for hashing and size limits; returning false stops).
pub fn seal(
    key: &FileKey,
    source: &mut impl Read,
    sink: &mut impl Write,
    mut on_chunk: impl FnMut(&[u8]) -> bool,
) -> Result<(), SealError> {
    let mut prefix = [0u8; NONCE_PREFIX];
    getrandom::fill(&mut prefix).map_err(|error| SealError::Write(io::Error::other(error)))?;
    sink.write_all(MAGIC).map_err(SealError::Write)?;
    sink.write_all(&prefix).map_err(SealError::Write)?;
    let mut encryptor =
        EncryptorBE32::<XChaCha20Poly1305>::from_aead(key.cipher(), (&prefix).into());
    let sealing_failed = || SealError::Write(io::Error::other("a chunk could not be sealed"));

    let mut current = vec![0u8; CHUNK];
    let mut next = vec![0u8; CHUNK];
    let mut current_len = read_full(source, &mut current).map_err(SealError::Read)?;
    loop {
        if !on_chunk(&current[..current_len]) {
            return Err(SealError::Stopped);
        }
        let next_len = read_full(source, &mut next).map_err(SealError::Read)?;
        if next_len == 0 {
            let sealed = encryptor
                .encrypt_last(&current[..current_len])
                .map_err(|_| sealing_failed())?;
            sink.write_all(&sealed).map_err(SealError::Write)?;
            return Ok(());
        }
        let sealed = encryptor
            .encrypt_next(&current[..current_len])
            .map_err(|_| sealing_failed())?;
        sink.write_all(&sealed).map_err(SealError::Write)?;
        std::mem::swap(&mut current, &mut next);
        current_len = next_len;
    }
}

/// The plain bytes of a sealed file, read as they are opened. A file that was cut short or
/// altered gives an `InvalidData` error, never wrong bytes.
pub struct Opened<R: Read> {
    source: R,
    decryptor: Option<DecryptorBE32<XChaCha20Poly1305>>,
    ahead: Option<Vec<u8>>,
    plain: Zeroizing<Vec<u8>>,
    position: usize,
}

/// A sealed file that does not open, or cannot be as long as it is.
pub(crate) fn altered() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "the sealed file was altered or cut short",
    )
}

impl<R: Read> Opened<R> {
    /// Opens a sealed file whose magic has not been read yet.
    pub fn new(key: &FileKey, mut source: R) -> io::Result<Self> {
        let mut header = [0u8; 8 + NONCE_PREFIX];
        if read_full(&mut source, &mut header)? != header.len() || !is_sealed(&header) {
            return Err(altered());
        }
        let decryptor =
            DecryptorBE32::<XChaCha20Poly1305>::from_aead(key.cipher(), header[8..].into());
        Ok(Self {
            source,
            decryptor: Some(decryptor),
            ahead: None,
            plain: Zeroizing::new(Vec::new()),
            position: 0,
        })
    }

    fn read_chunk(&mut self) -> io::Result<Vec<u8>> {
        let mut chunk = vec![0u8; CHUNK + TAG];
        let read = read_full(&mut self.source, &mut chunk)?;
        chunk.truncate(read);
        Ok(chunk)
    }

    /// Opens the next chunk; false at the end.
    fn refill(&mut self) -> io::Result<bool> {
        if self.decryptor.is_none() {
            return Ok(false);
        }
        let current = match self.ahead.take() {
            Some(chunk) => chunk,
            None => self.read_chunk()?,
        };
        let next = self.read_chunk()?;
        let plain = if next.is_empty() {
            let decryptor = self.decryptor.take().ok_or_else(altered)?;
            decryptor
                .decrypt_last(current.as_slice())
                .map_err(|_| altered())?
        } else {
            let decryptor = self.decryptor.as_mut().ok_or_else(altered)?;
            let plain = decryptor
                .decrypt_next(current.as_slice())
                .map_err(|_| altered())?;
            self.ahead = Some(next);
            plain
        };
        self.plain = Zeroizing::new(plain);
        self.position = 0;
        Ok(true)
    }
}

impl<R: Read> Read for Opened<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.position >= self.plain.len() {
            if !self.refill()? {
                return Ok(0);
            }
        }
        let available = &self.plain[self.position..];
        let count = available.len().min(out.len());
        out[..count].copy_from_slice(&available[..count]);
        self.position += count;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_length_follows_from_the_sealed_length() {
        let key = FileKey::from_secret(Zeroizing::new([7u8; 32]));
        for size in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 5] {
            let plain = vec![0x5a_u8; size];
            let mut sealed = Vec::new();
            seal(&key, &mut plain.as_slice(), &mut sealed, |_| true).unwrap();
            assert_eq!(
                plain_len(sealed.len() as u64),
                Some(size as u64),
                "{size} bytes sealed into {}",
                sealed.len()
            );
        }
    }

    #[test]
    fn a_length_no_sealed_file_has_gives_none() {
        let header = (MAGIC.len() + NONCE_PREFIX) as u64;
        for cut in [0, 8, header, header + 15, header + (CHUNK + TAG) as u64 + 3] {
            assert_eq!(plain_len(cut), None, "{cut} bytes");
        }
    }
}
