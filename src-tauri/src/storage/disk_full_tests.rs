//! A full disk, met by every form that writes: one clear sentence each time, nothing saved
//! before is lost, and everything works again once there is room.
//!
//! The disk is a real one: a small tmpfs mounted for the test (the tests run as root, as
//! `make test` does) and filled to the last byte. Where mounting is not allowed, SQLite's own
//! "database is full" (its page limit) stands in for the database, and the file writes are
//! not tried.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, TimeZone, Utc};

use super::{Database, DISK_FULL};
use crate::error::ErrorCode;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 4, 10, 0, 0).unwrap()
}

/// A tmpfs of `megabytes`, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        mounted.then_some(Self { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes junk until the disk refuses another byte; returns the junk's path.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let junk = self.path().join("junk");
        let mut file = std::fs::File::create(&junk).unwrap();
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let mut byte = [0u8; 1];
        while file.write_all(&byte).is_ok() {
            byte[0] = 1;
        }
        let _ = file.sync_all();
        junk
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn door(house: &str) -> crate::donotknock::EntryInput {
    crate::donotknock::EntryInput {
        house: house.into(),
        street: "Elm Road".into(),
        reason: "aggressive-dog".into(),
        added_by: "Sam".into(),
        // Long enough that each entry needs room of its own.
        note: "Big dog behind the gate; the owner shouted. ".repeat(20),
        ..Default::default()
    }
}

fn plan() -> crate::plans::PlanInput {
    crate::plans::PlanInput {
        title: "Ward 5 Saturday".into(),
        ward: "Ward 5".into(),
        streets: vec!["Elm Road".into()],
        date: Some(now().date_naive()),
        start_time: "13:00".into(),
        end_time: "15:00".into(),
        pairs: vec!["Asha and Ben".into()],
        ..Default::default()
    }
}

/// Every form that writes the record, on a full disk: the one sentence, and nothing lost.
/// (`only_the_first`: SQLite's page limit, where a small row may still fit a page.)
fn every_form_says_the_disk_is_full(db: &Database, csv: &Path, only_the_first: bool) {
    let said = |code: &str, message: String, what: &str| {
        assert_eq!(code, "disk_full", "{what}: {message}");
        assert_eq!(message, DISK_FULL, "{what}");
    };
    // The first writes may still fit in space SQLite already holds: add until refused.
    let mut house = 100;
    let error = loop {
        house += 1;
        assert!(house < 10_000, "the disk never filled");
        if let Err(error) = crate::donotknock::add(
            &db.conn(),
            &door(&house.to_string()),
            now(),
            &crate::donotknock::NoDoorSink,
        ) {
            break error;
        }
    };
    said(error.code(), error.to_string(), "a do-not-knock entry");
    if only_the_first {
        return;
    }
    let error = crate::plans::create(&db.conn(), &plan(), now()).unwrap_err();
    said(error.code(), error.to_string(), "a plan");
    let error = crate::donotknock::csv_io::import(
        &mut db.conn(),
        csv,
        "Party office",
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap_err();
    said(error.code(), error.to_string(), "a CSV import");
    let error = crate::incidents::record(
        &mut db.conn(),
        &crate::incidents::tests::input("Shouted at the gate"),
        now(),
    )
    .unwrap_err();
    said(error.code(), error.to_string(), "an incident");
}

#[test]
fn a_full_disk_gets_one_clear_sentence_everywhere_and_loses_nothing() {
    let key = crate::vault::test_key();
    let outside = tempfile::tempdir().unwrap();
    let csv = outside.path().join("party.csv");
    std::fs::write(&csv, "house,street\n3,Mill Lane\n5,Mill Lane\n").unwrap();

    let Some(disk) = SmallDisk::mount(4) else {
        eprintln!("mount is not allowed here: SQLite's page limit stands in for a full disk");
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open_in(dir.path(), &key).unwrap();
        crate::donotknock::add(
            &db.conn(),
            &door("9"),
            now(),
            &crate::donotknock::NoDoorSink,
        )
        .unwrap();
        let pages: i64 = db
            .conn()
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        db.conn()
            .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))
            .unwrap();
        every_form_says_the_disk_is_full(&db, &csv, true);
        return;
    };
    let record_dir = disk.path().join("record");
    let db = Database::open_in(&record_dir, &key).unwrap();
    crate::donotknock::add(
        &db.conn(),
        &door("9"),
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap();
    let files = crate::incidents::attachments::AttachmentStore::new(&record_dir, &key);
    let junk = disk.fill();

    every_form_says_the_disk_is_full(&db, &csv, false);
    // A backup into the full disk: refused in words, and no part of it left there.
    let error = crate::backup::write(
        &db,
        &files,
        disk.path(),
        "orchard lantern velvet",
        "orchard lantern velvet",
        now(),
    )
    .unwrap_err();
    assert_eq!(error.code(), "disk_full", "{error}");
    assert!(error
        .to_string()
        .starts_with("The disk is full, so the backup was not finished"));
    let error = crate::donotknock::csv_io::export(&db.conn(), disk.path(), now()).unwrap_err();
    assert!(
        error.to_string().starts_with("Folder: that disk is full"),
        "{error}"
    );

    // Room again: nothing saved before was lost, and every form works.
    std::fs::remove_file(&junk).unwrap();
    let doors = crate::donotknock::list(&db.conn(), now()).unwrap();
    assert!(doors.iter().any(|d| d.house == "9"));
    crate::donotknock::add(
        &db.conn(),
        &door("14"),
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap();
    crate::plans::create(&db.conn(), &plan(), now()).unwrap();
    crate::donotknock::csv_io::import(
        &mut db.conn(),
        &csv,
        "Party office",
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap();
    let integrity: String = db
        .conn()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let leftovers: Vec<String> = std::fs::read_dir(disk.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        leftovers,
        ["record"],
        "a refused write left something behind"
    );
}

#[test]
fn a_backup_to_a_full_memory_stick_leaves_no_part_of_itself() {
    let (Some(data), Some(stick)) = (SmallDisk::mount(16), SmallDisk::mount(1)) else {
        eprintln!("mount is not allowed here: the full memory stick is not tried");
        return;
    };
    let key = crate::vault::test_key();
    let db = Database::open_in(data.path(), &key).unwrap();
    let files = crate::incidents::attachments::AttachmentStore::new(data.path(), &key);
    let id = crate::incidents::record(
        &mut db.conn(),
        &crate::incidents::tests::input("Photo of the van"),
        now(),
    )
    .unwrap();
    let photo: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let stored = files.store_bytes(&photo).unwrap();
    crate::incidents::attach(&mut db.conn(), &id, stored, "van.jpg", now()).unwrap();
    let error = crate::backup::write(
        &db,
        &files,
        stick.path(),
        "orchard lantern velvet",
        "orchard lantern velvet",
        now(),
    )
    .unwrap_err();
    assert_eq!(error.code(), "disk_full", "{error}");
    assert_eq!(std::fs::read_dir(stick.path()).unwrap().count(), 0);
    let snapshots = std::fs::read_dir(data.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("backup-snapshot")
        })
        .count();
    assert_eq!(snapshots, 0);
}
