use chrono::{DateTime, Duration, TimeZone, Utc};
use rusqlite::Connection;

use super::attachments::{AttachmentStore, MAX_BYTES};
use super::chain::{verify_all, VersionKind};
use super::find::{self, ListQuery};
use super::import;
use super::model::{Flag, FollowUp, IncidentInput, PersonInvolved, Report, ReportedTo, Witness};
use super::pack::{self, Selection};
use super::*;
use crate::error::IpcError;
use crate::storage::Database;

/// The tests' "now"; other modules' tests record incidents with it too.
pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 18, 30, 0).unwrap()
}

struct Log {
    dir: tempfile::TempDir,
    db: Database,
    files: AttachmentStore,
}

impl Log {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
        let files = AttachmentStore::new(dir.path(), &crate::vault::test_key());
        Self { dir, db, files }
    }
    fn record(&self, input: &IncidentInput) -> String {
        record(&mut self.db.conn(), input, now()).unwrap()
    }
    fn find(&self, query: ListQuery) -> Vec<String> {
        find::list(&self.db.conn(), &query)
            .unwrap()
            .items
            .into_iter()
            .map(|i| i.summary)
            .collect()
    }
    fn verify(&self) -> Vec<String> {
        verify_all(&self.db.conn(), &self.files)
            .unwrap()
            .problems
            .into_iter()
            .map(|p| p.problem)
            .collect()
    }
    /// A pack of every current incident, made in `out`.
    fn export_all(&self, out: &std::path::Path) -> pack::ExportSummary {
        pack::export(
            &self.db.conn(),
            &self.files,
            &Selection::default(),
            out,
            now(),
        )
        .unwrap()
    }
    fn count(&self) -> i64 {
        self.db
            .conn()
            .query_row("SELECT COUNT(*) FROM incident_version", [], |r| r.get(0))
            .unwrap()
    }
}

/// A minimal valid incident saying `what`.
pub(crate) fn input(what: &str) -> IncidentInput {
    IncidentInput {
        occurred_from: now() - Duration::hours(2),
        occurred_to: None,
        category: "doorstep-abuse".into(),
        channel: Some("in-person".into()),
        location: "Elm Street".into(),
        postcode: "sw1a1aa".into(),
        what_happened: what.into(),
        affected: vec![],
        people: vec![],
        witnesses: vec![],
        impact: String::new(),
        flags: vec![],
        actions: vec![],
        reports: vec![],
        online: None,
    }
}

fn error_of(result: Result<impl std::fmt::Debug, IncidentError>) -> IpcError {
    IpcError::from(result.expect_err("should fail"))
}

#[test]
fn a_new_incident_has_one_recorded_version_that_verifies() {
    let log = Log::new();
    let id = log.record(&input("He said “we know where you live”."));
    let detail = detail(&log.db.conn(), &id).unwrap();
    assert_eq!(detail.status, "active");
    assert_eq!(detail.versions.len(), 1);
    assert_eq!(detail.versions[0].kind, VersionKind::Recorded);
    assert_eq!(detail.first_recorded, Some(now()));
    let current = detail.current.unwrap();
    assert_eq!(current.postcode, "SW1A 1AA");
    assert_eq!(current.what_happened, "He said “we know where you live”.");
    assert!(log.verify().is_empty());
}

#[test]
fn every_bad_field_is_named_and_nothing_is_stored() {
    let log = Log::new();
    let cases: Vec<(IncidentInput, &str, &str)> = vec![
        (input("   "), "whatHappened", "What happened"),
        (
            IncidentInput {
                occurred_to: Some(now() - Duration::hours(3)),
                ..input("x")
            },
            "occurredTo",
            "before the start",
        ),
        (
            IncidentInput {
                occurred_from: now() + Duration::days(3),
                ..input("x")
            },
            "occurredFrom",
            "future",
        ),
        (
            IncidentInput {
                occurred_from: Utc.with_ymd_and_hms(1989, 12, 31, 0, 0, 0).unwrap(),
                ..input("x")
            },
            "occurredFrom",
            "before 1990",
        ),
        (
            IncidentInput {
                occurred_from: DateTime::<Utc>::MIN_UTC,
                ..input("x")
            },
            "occurredFrom",
            "before 1990",
        ),
        (
            IncidentInput {
                occurred_from: DateTime::<Utc>::MAX_UTC,
                ..input("x")
            },
            "occurredFrom",
            "more than a day in the future",
        ),
        (
            input(&"a".repeat(model::WHAT_HAPPENED_MAX + 1)),
            "whatHappened",
            "at most 20000",
        ),
        (
            IncidentInput {
                category: "burglary".into(),
                ..input("x")
            },
            "category",
            "choose one",
        ),
        (
            IncidentInput {
                channel: Some("pigeon".into()),
                ..input("x")
            },
            "channel",
            "choose one",
        ),
        (
            IncidentInput {
                postcode: "not a postcode".into(),
                ..input("x")
            },
            "postcode",
            "UK postcode",
        ),
        (
            IncidentInput {
                impact: "i".repeat(model::TEXT_MAX + 1),
                ..input("x")
            },
            "impact",
            "at most 2000",
        ),
        (
            IncidentInput {
                people: vec![PersonInvolved {
                    name: "n".repeat(201),
                    ..Default::default()
                }],
                ..input("x")
            },
            "people[0].name",
            "at most 200",
        ),
        (
            IncidentInput {
                people: vec![PersonInvolved {
                    person_id: Some("no-such-person".into()),
                    ..Default::default()
                }],
                ..input("x")
            },
            "people[0].personId",
            "not in your list",
        ),
    ];
    for (bad, field, words) in cases {
        let error = error_of(record(&mut log.db.conn(), &bad, now()));
        assert_eq!(error.field.as_deref(), Some(field), "{error:?}");
        assert!(error.message.contains(words), "{field}: {}", error.message);
        assert_eq!(error.code, "validation");
    }
    assert_eq!(log.count(), 0);
    let none: i64 = log
        .db
        .conn()
        .query_row("SELECT COUNT(*) FROM incident", [], |r| r.get(0))
        .unwrap();
    assert_eq!(none, 0);
}

#[test]
fn an_edit_adds_a_version_and_keeps_the_first_as_it_was() {
    let log = Log::new();
    let id = log.record(&input("Shouted at me on the doorstep"));
    let mut changed = input("Shouted at me on the doorstep, then followed me to the car");
    changed.flags = vec![Flag::Repeat, Flag::ImminentViolence, Flag::Repeat];
    assert_eq!(
        amend(
            &mut log.db.conn(),
            &id,
            &changed,
            "Remembered more",
            now() + Duration::minutes(5)
        )
        .unwrap(),
        2
    );
    // Saving the same again adds nothing.
    assert_eq!(
        amend(
            &mut log.db.conn(),
            &id,
            &changed,
            "",
            now() + Duration::minutes(6)
        )
        .unwrap(),
        2
    );

    let detail = detail(&log.db.conn(), &id).unwrap();
    assert_eq!(detail.versions.len(), 2);
    assert_eq!(
        detail.versions[0].record.as_ref().unwrap().what_happened,
        "Shouted at me on the doorstep"
    );
    assert_eq!(detail.versions[1].reason, "Remembered more");
    assert_eq!(detail.versions[1].kind, VersionKind::Amended);
    // Flags are kept once each, in the list's order, so equal choices hash equally.
    assert_eq!(
        detail.current.unwrap().flags,
        vec![Flag::ImminentViolence, Flag::Repeat]
    );
    assert!(log.verify().is_empty());
}

fn tamper(log: &Log, sql: &str) -> Vec<String> {
    log.db.conn().execute_batch(sql).unwrap();
    log.verify()
}

#[test]
fn verify_finds_a_version_edited_directly_in_sqlite() {
    let log = Log::new();
    let id = log.record(&input("He threatened to burn our leaflets"));
    amend(
        &mut log.db.conn(),
        &id,
        &input("He threatened to burn our leaflets and the office"),
        "",
        now(),
    )
    .unwrap();
    let problems = tamper(
        &log,
        "UPDATE incident_version SET body = replace(body, 'burn', 'take') WHERE version = 1",
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("changed after it was recorded")),
        "{problems:?}"
    );
}

#[test]
fn verify_finds_a_rehashed_version_a_removed_one_and_a_changed_list_row() {
    let log = Log::new();
    let id = log.record(&input("First words"));
    amend(&mut log.db.conn(), &id, &input("Second words"), "", now()).unwrap();
    amend(&mut log.db.conn(), &id, &input("Third words"), "", now()).unwrap();
    // Someone rewrites version 1 and its hash: version 2 no longer follows on.
    let problems = tamper(
        &log,
        "UPDATE incident_version SET hash = 'abc' WHERE version = 1",
    );
    assert!(
        problems.iter().any(|p| p.contains("does not follow on")),
        "{problems:?}"
    );

    let log = Log::new();
    let id = log.record(&input("First words"));
    amend(&mut log.db.conn(), &id, &input("Second words"), "", now()).unwrap();
    let problems = tamper(&log, "DELETE FROM incident_version WHERE version = 2");
    assert!(
        problems.iter().any(|p| p.contains("removed")),
        "{problems:?}"
    );

    let log = Log::new();
    log.record(&input("Words"));
    let problems = tamper(&log, "UPDATE incident SET category = 'other'");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("not in its last version")),
        "{problems:?}"
    );
}

#[test]
fn withdrawing_keeps_the_incident_and_its_reason_but_stops_edits() {
    let log = Log::new();
    let id = log.record(&input("A car slowed down next to us"));
    let error = error_of(withdraw(&mut log.db.conn(), &id, "  ", now()));
    assert_eq!(error.field.as_deref(), Some("reason"));
    withdraw(&mut log.db.conn(), &id, "It was a neighbour parking", now()).unwrap();

    let detail = detail(&log.db.conn(), &id).unwrap();
    assert_eq!(detail.status, "withdrawn");
    assert_eq!(detail.versions[1].kind, VersionKind::Withdrawn);
    assert_eq!(detail.versions[1].reason, "It was a neighbour parking");
    assert_eq!(
        detail.current.unwrap().what_happened,
        "A car slowed down next to us"
    );
    assert_eq!(
        error_of(amend(&mut log.db.conn(), &id, &input("x"), "", now())).code,
        "conflict"
    );
    assert_eq!(
        log.find(ListQuery {
            status: Some("active".into()),
            ..Default::default()
        })
        .len(),
        0
    );
    assert_eq!(
        log.find(ListQuery {
            status: Some("withdrawn".into()),
            ..Default::default()
        })
        .len(),
        1
    );
    assert!(log.verify().is_empty());
}

#[test]
fn erasing_needs_confirmation_removes_content_and_files_and_leaves_a_tombstone() {
    let log = Log::new();
    let id = log.record(&input("Private details about a family member"));
    let stored = log.files.store_bytes(b"photo bytes").unwrap();
    attach(&mut log.db.conn(), &id, stored.clone(), "photo.jpg", now()).unwrap();
    let other = log.record(&input("Another incident"));

    let error = error_of(erase(
        &mut log.db.conn(),
        &log.files,
        &id,
        "Data protection request",
        "erase",
        now(),
    ));
    assert_eq!(error.field.as_deref(), Some("confirmation"));
    assert_eq!(log.count(), 3, "nothing changed");
    erase(
        &mut log.db.conn(),
        &log.files,
        &id,
        "Data protection request",
        ERASE_CONFIRMATION,
        now(),
    )
    .unwrap();

    let detail = detail(&log.db.conn(), &id).unwrap();
    assert_eq!(detail.status, "erased");
    assert!(detail.current.is_none());
    assert!(detail.versions.iter().all(|v| v.record.is_none()));
    assert_eq!(detail.versions.last().unwrap().kind, VersionKind::Erased);
    assert_eq!(
        detail.versions.last().unwrap().reason,
        "Data protection request"
    );
    assert!(!log.files.path_of(&stored.sha256).exists());
    assert!(log
        .find(ListQuery {
            text: "family".into(),
            ..Default::default()
        })
        .is_empty());
    assert_eq!(log.find(ListQuery::default()).len(), 1);
    assert!(log.verify().is_empty(), "{:?}", log.verify());
    assert_eq!(
        error_of(withdraw(&mut log.db.conn(), &id, "x", now())).code,
        "conflict"
    );
    let _ = other;
}

fn rich(what: &str, reg: &str, reference: &str) -> IncidentInput {
    IncidentInput {
        people: vec![PersonInvolved {
            name: "Tall man".into(),
            vehicle_registration: reg.into(),
            ..Default::default()
        }],
        reports: vec![Report {
            to: ReportedTo::Police101,
            on: Some(now().date_naive()),
            reference: reference.into(),
            officer: "PC Smith".into(),
            follow_up: FollowUp::Waiting,
            notes: String::new(),
        }],
        ..input(what)
    }
}

#[test]
fn search_finds_words_people_places_and_references_and_treats_syntax_as_text() {
    let log = Log::new();
    log.record(&rich("Shouted about the bins", "ab12 cde", "CAD 1234"));
    log.record(&IncidentInput {
        location: "Market Square".into(),
        ..input("Spat at a volunteer")
    });
    let search = |text: &str| {
        log.find(ListQuery {
            text: text.into(),
            ..Default::default()
        })
    };
    assert_eq!(search("bins").len(), 1);
    assert_eq!(search("AB12").len(), 1, "registration");
    assert_eq!(search("cad 1234").len(), 1, "reference");
    assert_eq!(search("market").len(), 1, "location");
    assert_eq!(search("shout").len(), 1, "prefix");
    assert_eq!(search("\"bins AND (NEAR").len(), 0, "syntax is plain text");
    assert_eq!(search("<script>").len(), 0);
    let error = error_of(find::list(
        &log.db.conn(),
        &ListQuery {
            text: "x".repeat(201),
            ..Default::default()
        },
    ));
    assert_eq!(error.field.as_deref(), Some("text"));
}

#[test]
fn filters_narrow_by_category_dates_person_flags_and_reporting() {
    let log = Log::new();
    let mut first = rich("Followed to my car", "XY99 ZZZ", "REF1");
    first.category = "followed-or-watched".into();
    first.flags = vec![Flag::Fixated];
    first.people[0].person_id = Some(NEW_PERSON.into());
    let first_id = log.record(&first);
    let person = detail(&log.db.conn(), &first_id).unwrap().linked_people[0].clone();
    assert_eq!(person.label, "Tall man");

    let mut second = input("Same man at the surgery");
    second.occurred_from = now() - Duration::days(10);
    second.people = vec![PersonInvolved {
        person_id: Some(person.id.clone()),
        ..Default::default()
    }];
    log.record(&second);
    log.record(&input("Unrelated abuse"));

    let q = |query: ListQuery| log.find(query);
    assert_eq!(
        q(ListQuery {
            category: Some("followed-or-watched".into()),
            ..Default::default()
        }),
        vec!["Followed to my car"]
    );
    assert_eq!(
        q(ListQuery {
            person_id: Some(person.id.clone()),
            ..Default::default()
        }),
        vec!["Followed to my car", "Same man at the surgery"]
    );
    assert_eq!(
        q(ListQuery {
            from: Some(now() - Duration::days(11)),
            to: Some(now() - Duration::days(9)),
            ..Default::default()
        }),
        vec!["Same man at the surgery"]
    );
    assert_eq!(
        q(ListQuery {
            flags: vec![Flag::Fixated],
            ..Default::default()
        }),
        vec!["Followed to my car"]
    );
    assert_eq!(
        q(ListQuery {
            reported: Some(true),
            ..Default::default()
        })
        .len(),
        1
    );
    assert_eq!(
        q(ListQuery {
            reported: Some(false),
            ..Default::default()
        })
        .len(),
        2
    );
    // Same time: the one recorded last comes first.
    assert_eq!(
        q(ListQuery::default()),
        vec![
            "Unrelated abuse",
            "Followed to my car",
            "Same man at the surgery"
        ]
    );
    assert_eq!(
        find::person(&log.db.conn(), &person.id).unwrap().incidents,
        2
    );
    let error = error_of(find::list(
        &log.db.conn(),
        &ListQuery {
            category: Some("x".into()),
            ..Default::default()
        },
    ));
    assert_eq!(error.field.as_deref(), Some("category"));
    let error = error_of(find::list(
        &log.db.conn(),
        &ListQuery {
            from: Some(now()),
            to: Some(now() - Duration::days(1)),
            ..Default::default()
        },
    ));
    assert_eq!(error.field.as_deref(), Some("to"));
}

#[test]
fn attachments_are_copied_hashed_and_checked() {
    let log = Log::new();
    let id = log.record(&input("Letter through the door"));
    let original = log.dir.path().join("letter scan.png");
    std::fs::write(&original, b"pretend png").unwrap();
    let stored = log.files.store_file(&original).unwrap();
    assert_eq!(stored.size, 11);
    // sha256("pretend png")
    assert_eq!(
        stored.sha256,
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"pretend png"))
    );
    attach(
        &mut log.db.conn(),
        &id,
        stored.clone(),
        "/home/me/letter scan.png",
        now(),
    )
    .unwrap();
    assert_eq!(
        std::fs::read(&original).unwrap(),
        b"pretend png",
        "original untouched"
    );

    let current = detail(&log.db.conn(), &id).unwrap().current.unwrap();
    assert_eq!(current.attachments[0].original_name, "letter scan.png");
    // An edit never drops an attachment.
    amend(
        &mut log.db.conn(),
        &id,
        &input("Letter through the door, unsigned"),
        "",
        now(),
    )
    .unwrap();
    assert_eq!(
        detail(&log.db.conn(), &id)
            .unwrap()
            .current
            .unwrap()
            .attachments
            .len(),
        1
    );
    assert!(log.verify().is_empty());

    std::fs::write(log.files.path_of(&stored.sha256), b"swapped").unwrap();
    assert!(log.verify().iter().any(|p| p.contains("has changed")));
    std::fs::remove_file(log.files.path_of(&stored.sha256)).unwrap();
    assert!(log.verify().iter().any(|p| p.contains("missing")));
}

#[test]
fn attachment_faults_name_the_file_field() {
    let log = Log::new();
    let missing = error_of(log.files.store_file(&log.dir.path().join("gone.jpg")));
    assert_eq!(
        (missing.field.as_deref(), missing.code),
        (Some("file"), "validation")
    );
    assert!(missing.message.contains("not there"));
    let folder = error_of(log.files.store_file(log.dir.path()));
    assert!(folder.message.contains("folder"));
    assert!(error_of(log.files.store_bytes(b""))
        .message
        .contains("empty"));
    let big = error_of(log.files.store_bytes(&vec![0u8; MAX_BYTES as usize + 1]));
    assert!(big.message.contains("50 MB"));
    let id = log.record(&input("x"));
    let stored = log.files.store_bytes(b"abc").unwrap();
    assert_eq!(
        error_of(attach(&mut log.db.conn(), &id, stored, "..", now()))
            .field
            .as_deref(),
        Some("file")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let locked = log.dir.path().join("locked.txt");
        std::fs::write(&locked, b"secret").unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        // Root can read anything, so only check where permissions apply.
        if std::fs::read(&locked).is_err() {
            assert!(error_of(log.files.store_file(&locked))
                .message
                .contains("not allowed"));
        }
    }
}

#[test]
fn a_full_disk_is_reported_as_such() {
    let error = IpcError::from(attachments::write_error(std::io::Error::from(
        std::io::ErrorKind::StorageFull,
    )));
    assert_eq!(error.code, "disk_full");
    assert!(
        error.message.contains("what you typed is still here"),
        "{}",
        error.message
    );
    let sqlite =
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL), None);
    assert_eq!(
        IpcError::from(IncidentError::from(sqlite)).code,
        "disk_full"
    );
}

#[test]
fn a_database_that_cannot_grow_refuses_the_save_and_keeps_what_was_there() {
    let log = Log::new();
    log.record(&input("Kept from before"));
    let before = log.count();
    // A real SQLITE_FULL: the file may not grow by a single page, as on a full disk.
    let conn = log.db.conn();
    let pages: i64 = conn
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    conn.pragma_update(None, "max_page_count", pages).unwrap();
    drop(conn);

    let long = "He kept shouting the same words at the door. ".repeat(400);
    let error = error_of(record(&mut log.db.conn(), &input(&long), now()));
    assert_eq!(error.code, "disk_full", "{error:?}");
    assert!(
        error.message.contains("this was not saved"),
        "{}",
        error.message
    );
    assert_eq!(log.count(), before, "nothing half-saved");
    assert_eq!(log.find(ListQuery::default()), vec!["Kept from before"]);
    assert!(log.verify().is_empty(), "{:?}", log.verify());

    // Once there is room again, the same save goes through.
    log.db
        .conn()
        .pragma_update(None, "max_page_count", 1_000_000)
        .unwrap();
    log.record(&input(&long));
    assert_eq!(log.count(), before + 1);
}

#[test]
fn markup_is_stored_as_text() {
    let log = Log::new();
    let id = log.record(&input("<img src=x onerror=alert(1)> said"));
    assert_eq!(
        detail(&log.db.conn(), &id)
            .unwrap()
            .current
            .unwrap()
            .what_happened,
        "<img src=x onerror=alert(1)> said"
    );
    let pack = pack::collect(&log.db.conn(), &Selection::default(), now()).unwrap();
    let html = super::report::html(&pack).expect("report");
    assert!(
        html.contains("&#60;img src=x onerror=alert(1)&#62; said"),
        "{html}"
    );
    assert!(!html.contains("<img"));
}

fn files_in(folder: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = walk(folder)
        .into_iter()
        .map(|p| p.strip_prefix(folder).unwrap().display().to_string())
        .collect();
    names.sort();
    names
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.path().is_dir() {
            out.extend(walk(&entry.path()));
        } else {
            out.push(entry.path());
        }
    }
    out
}

#[test]
fn an_exported_pack_imports_back_losslessly_and_still_verifies() {
    let log = Log::new();
    let mut followed = rich("=HYPERLINK(\"x\") followed me", "AB12 CDE", "CAD 99");
    followed.people[0].person_id = Some(NEW_PERSON.into());
    followed.witnesses = vec![Witness {
        name: "Siân Ó Briain".into(),
        contact: "07700 900123".into(),
    }];
    let id = log.record(&followed);
    amend(
        &mut log.db.conn(),
        &id,
        &IncidentInput {
            impact: "Scared to canvass alone".into(),
            ..followed.clone()
        },
        "Added impact",
        now(),
    )
    .unwrap();
    let stored = log.files.store_bytes(b"screenshot").unwrap();
    attach(&mut log.db.conn(), &id, stored.clone(), "post.png", now()).unwrap();
    let withdrawn = log.record(&input("Mistaken report"));
    withdraw(&mut log.db.conn(), &withdrawn, "Mistake", now()).unwrap();

    let out = tempfile::tempdir().unwrap();
    let selection = Selection {
        include_withdrawn: true,
        ..Default::default()
    };
    let summary = pack::export(&log.db.conn(), &log.files, &selection, out.path(), now()).unwrap();
    assert_eq!(summary.incidents, 2);
    let names = files_in(&summary.folder);
    assert_eq!(
        names,
        vec![
            format!("attachments/{}-post.png", &stored.sha256[..12]),
            "incidents.csv".into(),
            "incidents.json".into(),
            "people.csv".into(),
            "report.html".into()
        ]
    );
    // Attachments in a pack are readable as other documents are, not owner-only.
    {
        use std::os::unix::fs::PermissionsExt;
        let attachment = summary.folder.join(&names[0]);
        let mode = std::fs::metadata(&attachment).unwrap().permissions().mode() & 0o777;
        let store_mode = std::fs::metadata(log.files.path_of(&stored.sha256))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(store_mode, 0o600, "the data folder's copy is private");
        assert_ne!(
            mode & 0o044,
            0,
            "the pack's copy is readable like other documents: {mode:o}"
        );
    }
    let html = std::fs::read_to_string(summary.folder.join("report.html")).unwrap();
    for words in [
        "Version history",
        "Added impact",
        "CAD 99",
        "post.png",
        &stored.sha256,
        "Withdrawn",
    ] {
        assert!(html.contains(words), "report lacks {words}");
    }
    let csv = std::fs::read_to_string(summary.folder.join("incidents.csv")).unwrap();
    assert!(
        csv.contains("'=HYPERLINK"),
        "formulas are defused in the CSV"
    );
    let csv = csv
        .strip_prefix('\u{feff}')
        .expect("a UTF-8 byte order mark first");
    assert_eq!(csv.lines().next().unwrap().split(',').count(), 19);
    // Dates as spreadsheets sort them: "2026-11-25 14:03", not "25 Nov 2026, 14:03".
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let row = rows.records().next().expect("a row").expect("readable");
    for column in [4, 5] {
        let when = &row[column];
        assert!(
            chrono::NaiveDateTime::parse_from_str(when, "%Y-%m-%d %H:%M").is_ok(),
            "column {column} is {when:?}"
        );
    }
    let people = std::fs::read_to_string(summary.folder.join("people.csv")).unwrap();
    let people = people
        .strip_prefix('\u{feff}')
        .expect("a UTF-8 byte order mark first");
    assert!(
        people.starts_with("incident,role,name,description,clothing,vehicle_make"),
        "{people}"
    );
    assert!(
        people.contains(&format!("{id},person involved,Tall man,,,,,AB12 CDE,,")),
        "{people}"
    );
    assert!(
        people.contains(&format!("{id},witness,Siân Ó Briain,,,,,,07700 900123,")),
        "{people}"
    );

    let other = Log::new();
    let imported = import::import(&other.db, &other.files, &summary.folder, now()).unwrap();
    assert_eq!(
        (imported.imported, imported.problems.len()),
        (2, 0),
        "{imported:?}"
    );
    for incident in [&id, &withdrawn] {
        let (a, b) = (
            detail(&log.db.conn(), incident).unwrap(),
            detail(&other.db.conn(), incident).unwrap(),
        );
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            serde_json::to_value(&b).unwrap()
        );
    }
    assert!(other.verify().is_empty(), "{:?}", other.verify());
    assert_eq!(
        other
            .find(ListQuery {
                text: "AB12".into(),
                ..Default::default()
            })
            .len(),
        1
    );

    // Importing again changes nothing; a later version arrives as an update.
    assert_eq!(
        import::import(&other.db, &other.files, &summary.folder, now())
            .unwrap()
            .unchanged,
        2
    );
    amend(&mut log.db.conn(), &id, &input("Rewritten"), "", now()).unwrap();
    let later = pack::export(
        &log.db.conn(),
        &log.files,
        &Selection {
            ids: vec![id.clone()],
            ..Default::default()
        },
        out.path(),
        now(),
    )
    .unwrap();
    assert_ne!(
        later.folder, summary.folder,
        "never overwrites an earlier pack"
    );
    assert_eq!(
        import::import(&other.db, &other.files, &later.folder, now())
            .unwrap()
            .updated,
        1
    );
    assert!(other.verify().is_empty());
}

#[test]
fn an_older_pack_brings_nothing_back_into_a_log_that_has_moved_on() {
    let log = Log::new();
    let amended = log.record(&input("He said the words"));
    let erased = log.record(&input("Details someone asked us to erase"));
    let out = tempfile::tempdir().unwrap();
    let old = log.export_all(out.path());
    amend(
        &mut log.db.conn(),
        &amended,
        &input("He said other words"),
        "",
        now(),
    )
    .unwrap();
    erase(
        &mut log.db.conn(),
        &log.files,
        &erased,
        "Data-protection request",
        ERASE_CONFIRMATION,
        now(),
    )
    .unwrap();

    let result = import::import(&log.db, &log.files, &old.folder, now()).unwrap();
    assert_eq!(
        (result.imported, result.updated, result.unchanged),
        (0, 0, 2)
    );
    assert!(result.problems.is_empty(), "{:?}", result.problems);
    // The erasure holds: the old pack's copy of the words is not brought back.
    let after = detail(&log.db.conn(), &erased).unwrap();
    assert!(after.current.is_none());
    assert!(after.versions.iter().all(|v| v.record.is_none()));
    assert!(log
        .find(ListQuery {
            text: "erase".into(),
            ..Default::default()
        })
        .is_empty());
    assert!(log.verify().is_empty(), "{:?}", log.verify());
}

#[test]
fn a_tampered_or_foreign_pack_is_refused_with_reasons() {
    let log = Log::new();
    log.record(&input("He said the words"));
    let out = tempfile::tempdir().unwrap();
    let summary = log.export_all(out.path());
    let json_path = summary.folder.join(pack::JSON_NAME);
    let json = std::fs::read_to_string(&json_path).unwrap();
    std::fs::write(&json_path, json.replace("the words", "other words")).unwrap();

    let other = Log::new();
    let result = import::import(&other.db, &other.files, &json_path, now()).unwrap();
    assert_eq!(result.imported, 0);
    assert!(
        result.problems[0].contains("changed after it was recorded"),
        "{:?}",
        result.problems
    );

    std::fs::write(&json_path, "{\"not\": \"a pack\"}").unwrap();
    assert_eq!(
        error_of(import::import(&other.db, &other.files, &json_path, now()))
            .field
            .as_deref(),
        Some("file")
    );
    let missing = error_of(import::import(
        &other.db,
        &other.files,
        &out.path().join("nope"),
        now(),
    ));
    assert!(missing.message.contains("not there"));
    let nowhere = error_of(pack::export(
        &log.db.conn(),
        &log.files,
        &Selection::default(),
        &out.path().join("no/such"),
        now(),
    ));
    assert_eq!(nowhere.field.as_deref(), Some("folder"));
    let nothing = Selection {
        category: Some("hate-incident".into()),
        ..Default::default()
    };
    assert_eq!(
        error_of(pack::export(
            &log.db.conn(),
            &log.files,
            &nothing,
            out.path(),
            now()
        ))
        .field
        .as_deref(),
        Some("selection")
    );
}

#[test]
fn the_database_files_hold_no_plain_text_and_open_only_with_the_key() {
    let log = Log::new();
    log.record(&input(
        "Checked for plain text by Siobhan Featherstonehaugh",
    ));
    let on_disk = |path: &std::path::Path| {
        ["", "-wal"]
            .iter()
            .filter_map(|side| std::fs::read(format!("{}{side}", path.display())).ok())
            .collect::<Vec<_>>()
    };
    let needle: &[u8] = b"Featherstonehaugh";
    // Before and after the log is folded into the main file.
    for _ in 0..2 {
        for bytes in on_disk(log.db.path()) {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle));
            assert!(!bytes.starts_with(b"SQLite format 3"));
        }
        log.db
            .conn()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
    }
    let raw = Connection::open(log.db.path()).unwrap();
    assert!(raw
        .query_row("SELECT count(*) FROM incident_version", [], |r| r
            .get::<_, i64>(0))
        .is_err());
    raw.pragma_update(
        None,
        "key",
        crate::vault::test_key().sqlcipher_key().as_str(),
    )
    .unwrap();
    let body: String = raw
        .query_row("SELECT body FROM incident_version", [], |r| r.get(0))
        .unwrap();
    assert!(body.contains("Featherstonehaugh"));
}

#[test]
fn an_attachment_that_cannot_be_read_is_reported_not_passed() {
    let log = Log::new();
    let id = log.record(&input("Voicemail"));
    let stored = log.files.store_bytes(b"audio").unwrap();
    attach(
        &mut log.db.conn(),
        &id,
        stored.clone(),
        "voicemail.m4a",
        now(),
    )
    .unwrap();
    // A folder where the file should be opens, but cannot be read.
    std::fs::remove_file(log.files.path_of(&stored.sha256)).unwrap();
    std::fs::create_dir(log.files.path_of(&stored.sha256)).unwrap();
    assert!(
        log.verify().iter().any(|p| p.contains("cannot be read")),
        "{:?}",
        log.verify()
    );
}

#[test]
fn known_person_labels_are_one_tidy_line() {
    assert_eq!(
        find::tidy_label("Man w/ dog\n  and cap"),
        "Man w/ dog and cap"
    );
    assert_eq!(find::tidy_label("   "), "Unnamed person");
    assert_eq!(find::tidy_label(&"x".repeat(300)).chars().count(), 80);
}

#[test]
fn pipes_and_devices_are_refused_at_once_for_import_and_attachments() {
    let log = Log::new();
    let fifo = log.dir.path().join("pack.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // Each of these would wait for a writer for ever, or read without end, if opened.
    for path in [fifo.as_path(), std::path::Path::new("/dev/zero")] {
        let error = error_of(import::import(&log.db, &log.files, path, now()));
        assert_eq!(error.field.as_deref(), Some("file"));
        assert!(
            error.message.contains("not an ordinary file"),
            "{}",
            error.message
        );
        let error = error_of(log.files.store_file(path));
        assert!(
            error.message.contains("not an ordinary file"),
            "{}",
            error.message
        );
    }
}

/// The head a pack carries is the sender's claim: extreme values are only printed, wrong
/// types refuse the pack by its file, and nothing of it enters this record.
#[test]
fn a_pack_s_record_head_is_never_taken_on_trust() {
    use serde_json::json;
    let log = Log::new();
    log.record(&input("He said the words"));
    let out = tempfile::tempdir().unwrap();
    let json_path = log.export_all(out.path()).folder.join(pack::JSON_NAME);
    let mut sent: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(sent["recordHead"]["versions"], 1);
    let cases = [
        (
            json!({"versions": i64::MAX, "hash": "x".repeat(100_000), "at": "2026-01-01T00:00:00Z"}),
            true,
        ),
        (
            json!({"versions": -1, "hash": "", "at": "9999-12-31T23:59:59Z"}),
            true,
        ),
        (
            json!({"versions": "many", "hash": "", "at": "2026-01-01T00:00:00Z"}),
            false,
        ),
        (
            json!({"versions": 1, "hash": "a", "at": "not a time"}),
            false,
        ),
        (
            json!({"versions": 1, "hash": "a", "at": "2026-01-01T00:00:00Z", "signer": "me"}),
            false,
        ),
        (json!("not a head"), false),
    ];
    for (head, imports) in cases {
        sent["recordHead"] = head.clone();
        std::fs::write(&json_path, sent.to_string()).unwrap();
        let other = Log::new();
        match import::import(&other.db, &other.files, &json_path, now()) {
            Ok(result) => {
                assert!(imports, "{head}: taken");
                assert_eq!(result.imported, 1, "{head}: {:?}", result.problems);
            }
            Err(error) => {
                assert!(!imports, "{head}: refused: {error}");
                assert_eq!(
                    IpcError::from(error).field.as_deref(),
                    Some("file"),
                    "{head}"
                );
            }
        }
        // This record's head is its own, whatever the pack said.
        let own = super::head::record_head(&other.db.conn(), now() + Duration::days(1)).unwrap();
        assert_eq!(own.versions, if imports { 1 } else { 0 }, "{head}");
    }
}
