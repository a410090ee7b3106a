use chrono::Duration;

use super::*;
use crate::checkins::{Actor, NoSink};
use crate::incidents::chain::verify_all;
use crate::incidents::find::{self, ListQuery};
use crate::incidents::tests::{input, now};

const PASSPHRASE: &str = "orchard lantern velvet";

/// A record of its own: a folder, a database under a new key, its attachments.
struct Record {
    dir: tempfile::TempDir,
    db: Database,
    files: AttachmentStore,
}

impl Record {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key = DataKey::generate().unwrap();
        let db = Database::open_in(dir.path(), &key).unwrap();
        let files = AttachmentStore::new(dir.path(), &key);
        Self { dir, db, files }
    }

    fn count(&self, table: &str) -> i64 {
        self.db
            .conn()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get(0)
            })
            .unwrap()
    }
}

/// A record with two incidents, one with a photo, and a contact card.
fn filled() -> (Record, Vec<u8>) {
    let record = Record::new();
    let id = crate::incidents::record(
        &mut record.db.conn(),
        &input("Shouted at by Siobhan Featherstonehaugh at the gate"),
        now(),
    )
    .unwrap();
    crate::incidents::record(&mut record.db.conn(), &input("Leaflets torn up"), now()).unwrap();
    let photo: Vec<u8> = (0..150_000u32).map(|i| (i % 251) as u8).collect();
    let stored = record.files.store_bytes(&photo).unwrap();
    crate::incidents::attach(&mut record.db.conn(), &id, stored, "gate.jpg", now()).unwrap();
    crate::contacts::save(
        &record.db.conn(),
        "election-coordinator",
        "Priya Shah",
        "01632 960 123",
        "",
        now(),
    )
    .unwrap();
    crate::donotknock::add(
        &record.db.conn(),
        &crate::donotknock::EntryInput {
            house: "9".into(),
            street: "Oak Avenue".into(),
            reason: "aggressive-dog".into(),
            added_by: "Sam".into(),
            ..Default::default()
        },
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap();
    (record, photo)
}

fn backup_of(record: &Record) -> (tempfile::TempDir, PathBuf) {
    let out = tempfile::tempdir().unwrap();
    let summary = write(
        &record.db,
        &record.files,
        out.path(),
        PASSPHRASE,
        PASSPHRASE,
        now(),
    )
    .unwrap();
    assert_eq!(summary.incidents, 2);
    assert_eq!(summary.attachments, 1);
    let path = PathBuf::from(&summary.path);
    assert!(path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .ends_with(".csbackup"));
    (out, path)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[test]
fn a_backup_restores_whole_into_a_new_record_and_verifies() {
    let (source, photo) = filled();
    let (_out, path) = backup_of(&source);
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        !contains(&bytes, b"Featherstonehaugh"),
        "the backup holds a name in the clear"
    );
    assert!(!contains(&bytes, b"Priya Shah"));
    // Only the backup's own files in its folder: no temporary left behind.
    assert_eq!(
        std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
        1
    );
    assert_eq!(
        std::fs::read_dir(source.dir.path())
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("backup-snapshot"))
            .count(),
        0
    );

    let target = Record::new();
    let summary = restore(&target.db, &target.files, &path, PASSPHRASE).unwrap();
    assert_eq!((summary.incidents, summary.attachments), (2, 1));
    assert_eq!(target.count("incident"), 2);
    assert_eq!(target.count("contact_card"), 1);
    assert_eq!(
        target.count("do_not_knock"),
        1,
        "the do-not-knock list comes back too"
    );
    let report = verify_all(&target.db.conn(), &target.files).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert!(report.unreferenced_files.is_empty());
    assert_eq!(report.attachments_checked, 1);
    // Search works: the full-text index came with the rows.
    let found = find::list(
        &target.db.conn(),
        &ListQuery {
            text: "feathers".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(found.items.len(), 1);
    let sha = target.files.stored().unwrap().remove(0);
    let mut back = Vec::new();
    target
        .files
        .open(&sha)
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert_eq!(back, photo);
    assert!(!target.dir.path().join("restore-staging.sqlite3").exists());
}

#[test]
fn a_wrong_passphrase_or_a_damaged_file_changes_nothing() {
    let (source, _) = filled();
    let (out, path) = backup_of(&source);
    let target = Record::new();

    let wrong = restore(&target.db, &target.files, &path, "orchard lantern velvel").unwrap_err();
    assert_eq!(wrong.code(), "wrong_passphrase");
    assert_eq!(wrong.field(), Some("passphrase"));

    let bytes = std::fs::read(&path).unwrap();
    let cut = out.path().join("cut.csbackup");
    let altered = out.path().join("altered.csbackup");
    let mut flipped = bytes.clone();
    let middle = bytes.len() / 2;
    flipped[middle] ^= 0x40;
    std::fs::write(&altered, &flipped).unwrap();
    for (file, at) in [
        (&cut, bytes.len() - 10),
        (&cut, bytes.len() / 3),
        (&cut, 200),
        (&altered, 0),
    ] {
        if file == &cut {
            std::fs::write(&cut, &bytes[..at]).unwrap();
        }
        let error = restore(&target.db, &target.files, file, PASSPHRASE).unwrap_err();
        assert!(
            matches!(error.code(), "damaged_backup" | "validation"),
            "{error}"
        );
        assert_eq!(error.field(), Some("file"), "{error}");
        assert!(
            error.to_string().contains("Nothing was changed")
                || error.to_string().contains("Backup file:"),
            "{error}"
        );
        assert_eq!(target.count("incident"), 0, "cut at {at}");
        assert!(
            target.files.stored().unwrap().is_empty(),
            "cut at {at}: an attachment was left"
        );
        assert!(!target.dir.path().join("restore-staging.sqlite3").exists());
    }

    let not_a_backup = out.path().join("notes.txt");
    std::fs::write(&not_a_backup, b"shopping list").unwrap();
    let error = restore(&target.db, &target.files, &not_a_backup, PASSPHRASE).unwrap_err();
    assert!(
        error.to_string().contains("not a Campaign Safe backup"),
        "{error}"
    );

    // The real one still restores after all that.
    restore(&target.db, &target.files, &path, PASSPHRASE).unwrap();
    assert_eq!(target.count("incident"), 2);
}

#[test]
fn a_record_that_holds_anything_is_not_overwritten() {
    let (source, _) = filled();
    let (_out, path) = backup_of(&source);
    let target = Record::new();
    crate::incidents::record(&mut target.db.conn(), &input("Already here"), now()).unwrap();
    let error = restore(&target.db, &target.files, &path, PASSPHRASE).unwrap_err();
    assert_eq!(error.code(), "not_empty");
    assert!(error.to_string().contains("1 incident"), "{error}");
    assert_eq!(target.count("incident"), 1);

    let with_a_door = Record::new();
    crate::donotknock::add(
        &with_a_door.db.conn(),
        &crate::donotknock::EntryInput {
            house: "1".into(),
            street: "Mill Lane".into(),
            reason: "abusive".into(),
            added_by: "Jo".into(),
            ..Default::default()
        },
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap();
    let error = restore(&with_a_door.db, &with_a_door.files, &path, PASSPHRASE).unwrap_err();
    assert!(error.to_string().contains("do-not-knock"), "{error}");
    assert_eq!(with_a_door.count("do_not_knock"), 1);
}

/// The backup at `path` with its header line replaced by what `change` makes of it.
fn with_header(path: &Path, out: &Path, name: &str, change: impl FnOnce(&mut Header)) -> PathBuf {
    let bytes = std::fs::read(path).unwrap();
    let start = MAGIC.len();
    let end = start + bytes[start..].iter().position(|b| *b == b'\n').unwrap();
    let mut header: Header = serde_json::from_slice(&bytes[start..end]).unwrap();
    change(&mut header);
    let mut changed = bytes[..start].to_vec();
    changed.extend_from_slice(&serde_json::to_vec(&header).unwrap());
    changed.extend_from_slice(&bytes[end..]);
    let changed_path = out.join(name);
    std::fs::write(&changed_path, changed).unwrap();
    changed_path
}

#[test]
fn a_backup_from_a_newer_version_is_refused() {
    let (source, _) = filled();
    let (out, path) = backup_of(&source);
    let newer = with_header(&path, out.path(), "newer.csbackup", |header| {
        header.format = FORMAT + 1;
        header.header_sum = Some(header.sum());
    });
    let target = Record::new();
    let error = restore(&target.db, &target.files, &newer, PASSPHRASE).unwrap_err();
    assert_eq!(error.code(), "newer_backup", "{error}");
    assert!(schema_supported(latest_schema_version() + 1).is_err());
}

#[test]
fn any_byte_flipped_in_the_header_is_damage_never_a_wrong_passphrase() {
    let (source, _) = filled();
    let (out, path) = backup_of(&source);
    let bytes = std::fs::read(&path).unwrap();
    let header_end = MAGIC.len()
        + bytes[MAGIC.len()..]
            .iter()
            .position(|b| *b == b'\n')
            .unwrap();
    let flipped = out.path().join("flipped.csbackup");
    for at in 0..=header_end {
        for bit in [0x01u8, 0x20, 0x80] {
            let mut changed = bytes.clone();
            changed[at] ^= bit;
            std::fs::write(&flipped, &changed).unwrap();
            let mut reader = BufReader::new(std::fs::File::open(&flipped).unwrap());
            match read_header(&mut reader) {
                Err(BackupError::Damaged(_)) => {}
                Err(other) => panic!("byte {at} ^ {bit:#x}: {other:?}"),
                Ok(header) => panic!("byte {at} ^ {bit:#x} was not noticed: {header:?}"),
            }
        }
    }
    // Through a restore: the key check changed by one byte reads as damage.
    let target = Record::new();
    let check = with_header(&path, out.path(), "check.csbackup", |header| {
        header.key_check.replace_range(
            0..1,
            if header.key_check.starts_with('0') {
                "1"
            } else {
                "0"
            },
        );
    });
    let error = restore(&target.db, &target.files, &check, PASSPHRASE).unwrap_err();
    assert_eq!(error.code(), "damaged_backup", "{error}");
    assert_eq!(target.count("incident"), 0);
    // A format 1 backup (no checksum) still restores.
    let older = with_header(&path, out.path(), "older.csbackup", |header| {
        header.format = 1;
        header.header_sum = None;
    });
    restore(&target.db, &target.files, &older, PASSPHRASE).unwrap();
    assert_eq!(target.count("incident"), 2);
}

#[test]
fn a_pipe_or_a_device_is_refused_as_a_backup_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("backup.csbackup");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let target = Record::new();
    for path in [fifo.as_path(), Path::new("/dev/zero"), dir.path()] {
        let error = restore(&target.db, &target.files, path, PASSPHRASE).unwrap_err();
        assert_eq!(error.field(), Some("file"), "{error}");
        assert!(
            error.to_string().contains("not an ordinary file"),
            "{error}"
        );
    }
}

#[test]
fn a_backup_needs_a_folder_and_a_confirmed_passphrase() {
    let (source, _) = filled();
    let out = tempfile::tempdir().unwrap();
    let short = write(
        &source.db,
        &source.files,
        out.path(),
        "short",
        "short",
        now(),
    )
    .unwrap_err();
    assert_eq!(short.field(), Some("passphrase"));
    let mismatch = write(
        &source.db,
        &source.files,
        out.path(),
        PASSPHRASE,
        "orchard",
        now(),
    )
    .unwrap_err();
    assert_eq!(mismatch.field(), Some("passphraseAgain"));
    let nowhere = write(
        &source.db,
        &source.files,
        &out.path().join("missing"),
        PASSPHRASE,
        PASSPHRASE,
        now(),
    )
    .unwrap_err();
    assert_eq!(nowhere.field(), Some("folder"));
    assert!(nowhere.to_string().starts_with("Save to: "));
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}

#[test]
fn a_reminder_is_due_a_week_after_the_last_backup_when_incidents_were_added() {
    let (source, _) = filled();
    let conn_status = |at| status(&source.db.conn(), at).unwrap();
    let never = conn_status(now());
    assert!(never.reminder_due && never.last_backup_at.is_none());
    let (_out, _path) = backup_of(&source);
    assert!(
        !conn_status(now() + Duration::days(10)).reminder_due,
        "nothing new since"
    );
    crate::incidents::record(
        &mut source.db.conn(),
        &input("Later"),
        now() + Duration::days(1),
    )
    .unwrap();
    assert!(
        !conn_status(now() + Duration::days(6)).reminder_due,
        "not a week yet"
    );
    let due = conn_status(now() + Duration::days(8));
    assert!(due.reminder_due);
    assert_eq!(due.incidents_since, 1);
}

#[test]
fn an_altered_or_cut_attachment_stops_the_backup_naming_it_and_leaves_no_file() {
    let (source, _photo) = filled();
    let name = source.files.stored().unwrap().remove(0);
    let path = source.files.path_of(&name);
    let sealed = std::fs::read(&path).unwrap();

    let out = tempfile::tempdir().unwrap();
    let refused_naming_it = |content: &[u8]| {
        std::fs::write(&path, content).unwrap();
        let error = write(
            &source.db,
            &source.files,
            out.path(),
            PASSPHRASE,
            PASSPHRASE,
            now(),
        )
        .unwrap_err();
        assert!(
            matches!(&error, BackupError::Damaged(why) if why.contains(&name)),
            "{error:?}"
        );
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
    };
    // One byte changed inside: found while the backup reads it.
    let mut altered = sealed.clone();
    let middle = altered.len() / 2;
    altered[middle] ^= 0x01;
    refused_naming_it(&altered);
    // Cut short by a few bytes: its last chunk no longer opens.
    refused_naming_it(&sealed[..sealed.len() - 5]);
    // Cut back to its header: no sealed file is that long, found before it is read.
    refused_naming_it(&sealed[..30]);

    // Put back as it was, the backup is made.
    std::fs::write(&path, &sealed).unwrap();
    backup_of(&source);
}

#[test]
fn a_record_with_an_ended_journey_restores_its_timeline() {
    let source = Record::new();
    let id = crate::checkins::start(
        &mut source.db.conn(),
        &crate::checkins::NewSession {
            kind: crate::checkins::Kind::Journey,
            mode: crate::checkins::Mode::Me,
            title: "Home".into(),
            participants: vec![],
            place: String::new(),
            notes: String::new(),
            escalation: vec![],
            ends_at: Some(now() + Duration::hours(1)),
            interval_minutes: None,
            reminder_lead_minutes: 5,
            grace_minutes: 10,
        },
        now(),
        &Actor::here(),
        &NoSink,
    )
    .unwrap();
    crate::checkins::end_safely(&mut source.db.conn(), id, now(), &Actor::here(), &NoSink).unwrap();
    let out = tempfile::tempdir().unwrap();
    let summary = write(
        &source.db,
        &source.files,
        out.path(),
        PASSPHRASE,
        PASSPHRASE,
        now(),
    )
    .unwrap();
    let target = Record::new();
    restore(
        &target.db,
        &target.files,
        Path::new(&summary.path),
        PASSPHRASE,
    )
    .unwrap();
    assert_eq!(target.count("checkin_event"), 2);
}

/// Run as a child process by the kill test below: backs up the record it is pointed at, and
/// stops at the point the test names (the test then kills it). Does nothing otherwise.
#[test]
fn backup_in_a_child_process() {
    let Ok(root) = std::env::var("CAMPAIGN_SAFE_TEST_BACKUP_CHILD") else {
        return;
    };
    let root = PathBuf::from(root);
    let key = crate::vault::test_key();
    let db = Database::open_in(&root.join("record"), &key).unwrap();
    let files = AttachmentStore::new(&root.join("record"), &key);
    write(
        &db,
        &files,
        &root.join("out"),
        PASSPHRASE,
        PASSPHRASE,
        now(),
    )
    .unwrap();
}

fn names_in(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_backup_killed_part_way_leaves_nothing_once_the_app_starts_again() {
    use std::io::BufRead;
    let root = tempfile::tempdir().unwrap();
    let (record_dir, out) = (root.path().join("record"), root.path().join("out"));
    std::fs::create_dir_all(&out).unwrap();
    let key = crate::vault::test_key();
    let db = Database::open_in(&record_dir, &key).unwrap();
    let files = AttachmentStore::new(&record_dir, &key);
    let id =
        crate::incidents::record(&mut db.conn(), &input("Shouted at the gate"), now()).unwrap();
    let photo: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let stored = files.store_bytes(&photo).unwrap();
    crate::incidents::attach(&mut db.conn(), &id, stored, "gate.jpg", now()).unwrap();
    let record_files = names_in(&record_dir);
    let unnamed = Scratch::output_in(&out, scratch::OUTPUT_PREFIX)
        .unwrap()
        .path()
        .is_none();

    for point in ["snapshot", "streaming", "written"] {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "backup::tests::backup_in_a_child_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("CAMPAIGN_SAFE_TEST_BACKUP_CHILD", root.path())
            .env("CAMPAIGN_SAFE_TEST_BACKUP_STOP_AT", point)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut said = Vec::new();
        for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            let stopped = line.contains(&format!("backup stopped at {point}"));
            said.push(line);
            if stopped {
                break;
            }
        }
        assert!(
            said.iter().any(|l| l.contains("backup stopped at")),
            "the child never reached {point}; it said: {said:?}"
        );
        child.kill().unwrap(); // SIGKILL: no destructor runs.
        child.wait().unwrap();
        // Where the filesystem has unnamed files, nothing half-written ever has a name.
        if unnamed {
            assert!(
                names_in(&out)
                    .iter()
                    .all(|n| !n.starts_with(scratch::OUTPUT_PREFIX)),
                "killed at {point}: {:?}",
                names_in(&out)
            );
        }
        // The next start removes what was left in the data folder and the backup's.
        clean_after_crash(&db.conn(), &record_dir);
        assert_eq!(names_in(&record_dir), record_files, "killed at {point}");
        assert_eq!(names_in(&out), Vec::<String>::new(), "killed at {point}");
    }

    // A snapshot left by a crash is also removed by the next backup, which is whole.
    std::fs::write(record_dir.join("backup-snapshotKILLED"), b"half a database").unwrap();
    std::fs::write(out.join(".campaign-safe-backupKILLED"), b"half a backup").unwrap();
    let made = write(&db, &files, &out, PASSPHRASE, PASSPHRASE, now()).unwrap();
    assert_eq!(names_in(&record_dir), record_files);
    assert_eq!(names_in(&out), [file_name(now())]);
    let target = Record::new();
    restore(&target.db, &target.files, Path::new(&made.path), PASSPHRASE).unwrap();
    assert_eq!(target.count("incident"), 1);
}

#[test]
fn scratch_files_held_by_a_running_backup_are_left_and_dead_ones_removed() {
    let folder = tempfile::tempdir().unwrap();
    // A backup still writing (named, as on a memory stick): its lock keeps it.
    let running = Scratch::named_in(folder.path(), scratch::OUTPUT_PREFIX).unwrap();
    // One whose process died: a file nobody holds, and SQLite's side file of a snapshot.
    let dead = folder.path().join(".campaign-safe-backup-dead");
    std::fs::write(&dead, b"half").unwrap();
    std::fs::write(folder.path().join("backup-snapshotX-journal"), b"j").unwrap();
    std::fs::write(folder.path().join("notes.txt"), b"the user's").unwrap();
    let removed = scratch::remove_leftovers(
        folder.path(),
        &[scratch::OUTPUT_PREFIX, scratch::SNAPSHOT_PREFIX],
    );
    assert_eq!(removed, 2);
    assert!(!dead.exists());
    assert!(
        running.path().unwrap().exists(),
        "a running backup's file was removed"
    );
    assert!(folder.path().join("notes.txt").exists());
    // The last backup's folder is cleaned at start, as the record remembers it.
    drop(running);
    let record = Record::new();
    std::fs::write(&dead, b"half").unwrap();
    record
        .db
        .conn()
        .execute(
            "INSERT INTO app_setting (name, value) VALUES (?1, ?2)",
            params![LAST_FOLDER_SETTING, folder.path().to_string_lossy()],
        )
        .unwrap();
    clean_after_crash(&record.db.conn(), record.dir.path());
    assert!(!dead.exists());
}
