use super::*;
use crate::vault::test_key;

fn store() -> (tempfile::TempDir, AttachmentStore) {
    let dir = tempfile::tempdir().unwrap();
    let files = AttachmentStore::new(dir.path(), &test_key());
    (dir, files)
}

fn reference(stored: &Stored, name: &str) -> AttachmentRef {
    AttachmentRef {
        sha256: stored.sha256.clone(),
        size: stored.size,
        original_name: name.into(),
        added_at: chrono::Utc::now(),
    }
}

fn read_back(files: &AttachmentStore, sha256: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    files.open(sha256).unwrap().read_to_end(&mut bytes).unwrap();
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Text that repeats, so a file of any size has a phrase to look for.
fn content(size: usize) -> Vec<u8> {
    b"Threat from Siobhan Featherstonehaugh at the gate. "
        .iter()
        .copied()
        .cycle()
        .take(size)
        .collect()
}

#[test]
fn files_are_sealed_on_disk_and_read_back_as_they_were() {
    let (_dir, files) = store();
    // Below one chunk, exactly one, just over, and several.
    for size in [1, 5_000, 64 * 1024, 64 * 1024 + 1, 300_000] {
        let original = content(size);
        let stored = files.store_bytes(&original).unwrap();
        assert_eq!(stored.size, size as u64);
        assert_eq!(
            stored.sha256,
            hex::encode(Sha256::digest(&original)),
            "the fingerprint is the original's"
        );
        let on_disk = std::fs::read(files.path_of(&stored.sha256)).unwrap();
        assert!(on_disk.starts_with(sealed::MAGIC));
        assert!(
            !contains(&on_disk, b"Featherstonehaugh"),
            "{size} bytes in the clear"
        );
        assert_eq!(read_back(&files, &stored.sha256), original, "{size} bytes");
        assert_eq!(files.check(&reference(&stored, "note.txt")), None);
    }
}

#[test]
fn an_altered_or_cut_sealed_file_is_reported_never_read_wrong() {
    let (_dir, files) = store();
    let original = content(200_000);
    let stored = files.store_bytes(&original).unwrap();
    let path = files.path_of(&stored.sha256);
    let sealed_bytes = std::fs::read(&path).unwrap();
    let attachment = reference(&stored, "voicemail.m4a");

    let mut flipped = sealed_bytes.clone();
    flipped[100_000] ^= 1;
    std::fs::write(&path, &flipped).unwrap();
    let problem = files.check(&attachment).unwrap();
    assert!(
        problem.contains("has changed since it was added"),
        "{problem}"
    );
    let mut bytes = Vec::new();
    let error = files
        .open(&stored.sha256)
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidData);

    // Cut at a chunk boundary: the last chunk is missing, which the seal notices.
    std::fs::write(&path, &sealed_bytes[..8 + 19 + 2 * (64 * 1024 + 16)]).unwrap();
    assert!(files.check(&attachment).unwrap().contains("has changed"));

    // Sealed under another record's key: does not open.
    let other = AttachmentStore::new(_dir.path(), &crate::vault::DataKey::generate().unwrap());
    std::fs::write(&path, &sealed_bytes).unwrap();
    assert!(other.check(&attachment).unwrap().contains("has changed"));
    assert_eq!(files.check(&attachment), None);
}

#[test]
fn an_earlier_versions_plain_files_are_read_then_sealed_in_place() {
    let (_dir, files) = store();
    let original = content(150_000);
    let sha256 = hex::encode(Sha256::digest(&original));
    std::fs::create_dir_all(&files.dir).unwrap();
    std::fs::write(files.path_of(&sha256), &original).unwrap();
    // A plain file whose content no longer matches its name is left for the check to report.
    let tampered = hex::encode(Sha256::digest(b"something else"));
    std::fs::write(files.path_of(&tampered), b"not what was stored").unwrap();
    let stored = Stored {
        sha256: sha256.clone(),
        size: original.len() as u64,
    };

    assert!(files.has_plain_files());
    assert_eq!(read_back(&files, &sha256), original);
    assert_eq!(files.seal_plain_files().unwrap(), 1);
    let on_disk = std::fs::read(files.path_of(&sha256)).unwrap();
    assert!(!contains(&on_disk, b"Featherstonehaugh"));
    assert_eq!(read_back(&files, &sha256), original);
    assert_eq!(files.check(&reference(&stored, "photo.jpg")), None);
    assert_eq!(
        std::fs::read(files.path_of(&tampered)).unwrap(),
        b"not what was stored"
    );
    // Nothing left over, and a second pass has nothing to do.
    assert_eq!(files.stored().unwrap().len(), 2);
    assert_eq!(std::fs::read_dir(&files.dir).unwrap().count(), 2);
    assert_eq!(files.seal_plain_files().unwrap(), 0);
    assert!(
        files.has_plain_files(),
        "the file left plain is still found at the next start"
    );
}

#[test]
fn once_every_file_is_sealed_no_file_is_opened_at_start_again() {
    let (_dir, files) = store();
    let original = content(10_000);
    let sha256 = hex::encode(Sha256::digest(&original));
    std::fs::create_dir_all(&files.dir).unwrap();
    std::fs::write(files.path_of(&sha256), &original).unwrap();
    assert!(files.has_plain_files());

    assert_eq!(files.seal_plain_files().unwrap(), 1);
    assert!(files.dir.join(ALL_SEALED_MARKER).is_file());
    assert!(!files.has_plain_files());
    assert_eq!(
        files.stored().unwrap(),
        vec![sha256.clone()],
        "the marker is not an attachment"
    );
    // The marker is trusted: a file put here in the clear behind the app's back (this
    // version never stores one) is not looked for.
    let stray = hex::encode(Sha256::digest(b"stray"));
    std::fs::write(files.path_of(&stray), b"stray").unwrap();
    assert!(!files.has_plain_files());
    assert_eq!(files.seal_plain_files().unwrap(), 0);
    // Without the marker (a restored folder, say) the files are looked at again.
    std::fs::remove_file(files.dir.join(ALL_SEALED_MARKER)).unwrap();
    assert!(files.has_plain_files());
    assert_eq!(files.seal_plain_files().unwrap(), 1);
    assert_eq!(read_back(&files, &sha256), original);
}

#[test]
fn a_marker_that_cannot_be_written_only_means_looking_again_next_time() {
    let (_dir, files) = store();
    let original = content(1_000);
    let sha256 = hex::encode(Sha256::digest(&original));
    std::fs::create_dir_all(&files.dir).unwrap();
    std::fs::write(files.path_of(&sha256), &original).unwrap();
    // Something in the marker's way that a file cannot replace.
    std::fs::create_dir_all(files.dir.join(ALL_SEALED_MARKER).join("inside")).unwrap();

    assert_eq!(files.seal_plain_files().unwrap(), 1);
    assert_eq!(read_back(&files, &sha256), original);
    assert!(files.dir.join(ALL_SEALED_MARKER).is_dir());
}

#[test]
fn with_no_attachments_folder_nothing_is_written() {
    let (dir, files) = store();
    assert!(!files.has_plain_files());
    assert_eq!(files.seal_plain_files().unwrap(), 0);
    assert!(!dir.path().join("attachments").exists());
}

#[test]
fn the_size_limit_holds_while_sealing() {
    let (_dir, files) = store();
    let mut endless = io::repeat(7).take(MAX_BYTES + 1);
    let error = files
        .store_from(&mut endless, "File: could not be read")
        .unwrap_err();
    assert!(error.to_string().contains("at most 50 MB"), "{error}");
    assert_eq!(files.stored().unwrap().len(), 0);
}

#[test]
fn the_original_length_is_known_without_reading_the_file() {
    let (_dir, files) = store();
    let original = content(200_000);
    let stored = files.store_bytes(&original).unwrap();
    assert_eq!(files.plain_len(&stored.sha256).unwrap(), 200_000);

    let plain = b"an earlier version's plain file".to_vec();
    let plain_name = hex::encode(Sha256::digest(&plain));
    std::fs::write(files.path_of(&plain_name), &plain).unwrap();
    assert_eq!(files.plain_len(&plain_name).unwrap(), plain.len() as u64);

    // Cut back to its header, no sealed file is that long.
    let sealed = std::fs::read(files.path_of(&stored.sha256)).unwrap();
    std::fs::write(files.path_of(&stored.sha256), &sealed[..30]).unwrap();
    let error = files.plain_len(&stored.sha256).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidData);
}
