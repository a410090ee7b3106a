use chrono::{Duration, NaiveDate, TimeZone, Utc};

use super::csv_io;
use super::*;
use crate::storage::Database;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 18, 30, 0).unwrap()
}

fn db() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
    (dir, db)
}

fn entry(house: &str, street: &str, postcode: &str) -> EntryInput {
    EntryInput {
        house: house.into(),
        street: street.into(),
        postcode: postcode.into(),
        reason: "aggressive-dog".into(),
        added_by: "Priya".into(),
        ..EntryInput::default()
    }
}

fn field_of(error: DoNotKnockError) -> (String, String) {
    match error {
        DoNotKnockError::Invalid { field, message } => (field, message),
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[test]
fn an_entry_is_kept_tidy_with_the_default_review_after_the_may_elections() {
    let (_dir, db) = db();
    let added = add(
        &db.conn(),
        &entry(" 14 ", "elm  road", "sw1a1aa"),
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap();
    assert_eq!(added.address(), "14 elm road, SW1A 1AA");
    assert_eq!(added.source, Source::Canvasser);
    // The first Thursday of May 2027 is the 6th.
    assert_eq!(
        added.review_on,
        NaiveDate::from_ymd_opt(2027, 5, 7).unwrap()
    );
    assert!(!added.due_for_review);
    assert_eq!(
        default_review_on(NaiveDate::from_ymd_opt(2027, 5, 7).unwrap()),
        NaiveDate::from_ymd_opt(2028, 5, 5).unwrap(),
        "on the day itself, the next year's"
    );
}

#[test]
fn bad_entries_name_their_field_and_store_nothing() {
    let (_dir, db) = db();
    let cases: Vec<(EntryInput, &str, &str)> = vec![
        (entry("", "Elm Road", ""), "house", "House number or name"),
        (entry("14", " ", ""), "street", "Street"),
        (entry("14", "Elm Road", "not one"), "postcode", "Postcode"),
        (
            EntryInput {
                reason: "grumpy".into(),
                ..entry("14", "Elm Road", "")
            },
            "reason",
            "Reason",
        ),
        (
            EntryInput {
                reason: String::new(),
                ..entry("14", "Elm Road", "")
            },
            "reason",
            "Reason",
        ),
        (
            EntryInput {
                added_by: String::new(),
                ..entry("14", "Elm Road", "")
            },
            "addedBy",
            "Added by",
        ),
        (
            EntryInput {
                note: "a\u{0}b".into(),
                ..entry("14", "Elm Road", "")
            },
            "note",
            "Note",
        ),
        (
            EntryInput {
                review_on: Some(now().date_naive() - Duration::days(1)),
                ..entry("14", "Elm Road", "")
            },
            "reviewOn",
            "Review on",
        ),
        (
            EntryInput {
                incident_id: Some("no-such-incident".into()),
                ..entry("14", "Elm Road", "")
            },
            "incidentId",
            "That incident",
        ),
    ];
    for (input, field, label) in cases {
        let (f, message) =
            field_of(add(&db.conn(), &input, now(), &crate::donotknock::NoDoorSink).unwrap_err());
        assert_eq!(f, field, "{message}");
        assert!(message.starts_with(label), "{message}");
    }
    assert!(list(&db.conn(), now()).unwrap().is_empty());

    add(
        &db.conn(),
        &entry("14", "Elm Road", "SW1A 1AA"),
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap();
    let (field, message) = field_of(
        add(
            &db.conn(),
            &entry("14", "ELM ROAD", "sw1a 1aa"),
            now(),
            &crate::donotknock::NoDoorSink,
        )
        .unwrap_err(),
    );
    assert_eq!(field, "house");
    assert!(
        message.contains("already on the do-not-knock list"),
        "{message}"
    );
}

#[test]
fn an_entry_from_an_incident_says_so() {
    let (_dir, db) = db();
    let incident = crate::incidents::record(
        &mut db.conn(),
        &crate::incidents::tests::input("Threatened me at the door"),
        now(),
    )
    .unwrap();
    let added = add(
        &db.conn(),
        &EntryInput {
            incident_id: Some(incident.clone()),
            reason: "threat-or-violence".into(),
            ..entry("3", "Mill Lane", "")
        },
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap();
    assert_eq!(added.source, Source::Incident);
    assert_eq!(added.incident_id.as_deref(), Some(incident.as_str()));
}

#[test]
fn entries_past_their_review_date_are_flagged_first_and_stay_until_someone_decides() {
    let (_dir, db) = db();
    let soon = now().date_naive() + Duration::days(2);
    let early = add(
        &db.conn(),
        &EntryInput {
            review_on: Some(soon),
            ..entry("1", "Zebra Street", "")
        },
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap();
    add(
        &db.conn(),
        &entry("2", "Acorn Street", ""),
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap();

    let later = now() + Duration::days(3);
    let entries = list(&db.conn(), later).unwrap();
    assert_eq!(entries.len(), 2, "nothing removed on its own");
    assert!(
        entries[0].due_for_review && entries[0].id == early.id,
        "due ones first"
    );
    assert!(!entries[1].due_for_review);
    assert_eq!(due_for_review(&db.conn(), later).unwrap(), 1);

    let (field, _) =
        field_of(keep_until(&db.conn(), early.id, later.date_naive(), later).unwrap_err());
    assert_eq!(field, "reviewOn");
    let kept = keep_until(
        &db.conn(),
        early.id,
        later.date_naive() + Duration::days(90),
        later,
    )
    .unwrap();
    assert!(!kept.due_for_review);
    assert_eq!(due_for_review(&db.conn(), later).unwrap(), 0);

    remove(&db.conn(), early.id, later, &crate::donotknock::NoDoorSink).unwrap();
    assert!(matches!(
        remove(&db.conn(), early.id, later, &crate::donotknock::NoDoorSink),
        Err(DoNotKnockError::NotFound)
    ));
    assert_eq!(list(&db.conn(), later).unwrap().len(), 1);
}

#[test]
fn an_area_matches_entries_by_street_or_by_postcode_in_whole_or_part() {
    let (_dir, db) = db();
    add(
        &db.conn(),
        &entry("14", "Elm Road", "AB1 2CD"),
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap();
    add(
        &db.conn(),
        &entry("9", "Oak Avenue", "AB1 3XY"),
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap();
    add(
        &db.conn(),
        &entry("5", "High Street", "ZZ9 9ZZ"),
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap();
    let matched = |area: Area| -> Vec<String> {
        in_area(&db.conn(), &area, now())
            .unwrap()
            .iter()
            .map(|e| e.house.clone())
            .collect()
    };
    assert_eq!(
        matched(Area {
            streets: vec!["elm road ".into()],
            ..Area::default()
        }),
        vec!["14"]
    );
    assert_eq!(
        matched(Area {
            postcodes: vec!["ab1 2".into()],
            ..Area::default()
        }),
        vec!["14"]
    );
    let mut outward = matched(Area {
        postcodes: vec!["AB1".into()],
        ..Area::default()
    });
    outward.sort();
    assert_eq!(outward, vec!["14", "9"]);
    assert!(matched(Area::default()).is_empty());

    let area = Area::from_text("Elm Road, ZZ9 9ZZ; Church Lane");
    assert_eq!(area.streets, vec!["Elm Road", "Church Lane"]);
    assert_eq!(area.postcodes, vec!["ZZ9 9ZZ"]);
    let mut both = matched(area);
    both.sort();
    assert_eq!(both, vec!["14", "5"]);
}

fn csv_file(dir: &tempfile::TempDir, name: &str, text: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_party_list_with_bad_rows_is_refused_whole_with_a_problem_per_row() {
    let (dir, db) = db();
    add(
        &db.conn(),
        &entry("14", "Elm Road", ""),
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap();
    let path = csv_file(
        &dir,
        "party.csv",
        "House Number,Street,Postcode,Reason,Notes,Ward\n\
         1,Elm Road,AB1 2CD,Abusive,shouts,North\n\
         ,Elm Road,,,,North\n\
         3,Elm Road,NOTAPOSTCODE,,,North\n\
         4,Elm Road,,grumpy,,North\n\
         5,Elm Road,,,,North\n"
            .as_bytes(),
    );
    let preview = csv_io::preview(&db.conn(), &path, "Party office", now()).unwrap();
    let problems: Vec<(usize, &str)> = preview
        .problems
        .iter()
        .map(|p| (p.line, p.column.as_str()))
        .collect();
    assert_eq!(
        problems,
        vec![(3, "House number or name"), (4, "Postcode"), (5, "Reason")]
    );
    assert!(
        preview.problems[1]
            .message
            .starts_with("Row 4, Postcode: “NOTAPOSTCODE”"),
        "{:?}",
        preview.problems[1]
    );
    assert_eq!(preview.ignored_columns, vec!["Ward"]);
    assert_eq!(preview.to_add, 2);

    let (field, message) = field_of(
        csv_io::import(
            &mut db.conn(),
            &path,
            "Party office",
            now(),
            &crate::donotknock::NoDoorSink,
        )
        .unwrap_err(),
    );
    assert_eq!(field, "path");
    assert!(
        message.contains("3 rows have a problem, so nothing was imported"),
        "{message}"
    );
    assert!(message.contains("Row 5, Reason"), "{message}");
    assert_eq!(
        list(&db.conn(), now()).unwrap().len(),
        1,
        "nothing half-imported"
    );
}

#[test]
fn a_good_party_list_imports_in_one_go_skipping_addresses_already_listed() {
    let (dir, db) = db();
    add(
        &db.conn(),
        &entry("14", "Elm Road", "AB1 2CD"),
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap();
    let text = String::from(
        "\u{feff}house,street,postcode,review on\n\
         14,Elm Road,ab1 2cd,\n\
         Rose Cottage,Mill Lane,,08/05/2027\n\
         7,Siân’s Way,,\n\
         7,Siân’s Way,,\n\
         \n",
    );
    let path = csv_file(&dir, "party.csv", text.as_bytes());
    let result = csv_io::import(
        &mut db.conn(),
        &path,
        "Party office",
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap();
    assert_eq!(result.added, 2);
    assert_eq!(result.already_listed, 2);
    let entries = list(&db.conn(), now()).unwrap();
    let cottage = entries.iter().find(|e| e.house == "Rose Cottage").unwrap();
    assert_eq!(cottage.source, Source::PartyList);
    assert_eq!(cottage.reason, Reason::Other, "no reason column: Other");
    assert_eq!(
        cottage.review_on,
        NaiveDate::from_ymd_opt(2027, 5, 8).unwrap()
    );
    assert_eq!(cottage.added_by, "Party office");
    assert!(entries.iter().any(|e| e.street == "Siân’s Way"));
}

#[test]
fn files_that_are_not_lists_are_refused_with_a_reason() {
    let (dir, db) = db();
    let latin1 = csv_file(&dir, "latin1.csv", b"house,street\n1,Si\xe2n Road\n");
    let no_street = csv_file(&dir, "cols.csv", b"house,road name?\n1,x\n");
    let empty = csv_file(&dir, "empty.csv", b"house,street\n");
    let bad_date = csv_file(
        &dir,
        "date.csv",
        b"house,street,review on\n1,Elm Road,next May\n",
    );
    for (path, expected) in [
        (&latin1, "not UTF-8"),
        (&no_street, "No “street” column"),
        (&empty, "no addresses"),
        (&bad_date, "Row 2, Review on: “next May” is not a date"),
    ] {
        let error = csv_io::import(
            &mut db.conn(),
            path,
            "Party office",
            now(),
            &crate::donotknock::NoDoorSink,
        )
        .unwrap_err();
        assert!(
            error.to_string().contains(expected),
            "{}: {error}",
            path.display()
        );
    }
    let (field, _) = field_of(
        csv_io::import(
            &mut db.conn(),
            &bad_date,
            " ",
            now(),
            &crate::donotknock::NoDoorSink,
        )
        .unwrap_err(),
    );
    assert_eq!(field, "addedBy");
    let missing = csv_io::import(
        &mut db.conn(),
        &dir.path().join("nope.csv"),
        "Party office",
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap_err();
    assert_eq!(crate::error::ErrorCode::field(&missing), Some("path"));
    assert!(list(&db.conn(), now()).unwrap().is_empty());
}

#[test]
fn the_list_exports_as_csv_that_spreadsheets_read_right_and_imports_back() {
    let (_dir, db) = db();
    add(
        &db.conn(),
        &EntryInput {
            note: "=HYPERLINK(\"x\")".into(),
            ..entry("7", "Siân’s Way", "AB1 2CD")
        },
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let path = csv_io::export(&db.conn(), out.path(), now()).unwrap();
    assert_eq!(path.file_name().unwrap(), "do-not-knock-2026-11-25.csv");
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.contains("Siân’s Way") && text.contains("'=HYPERLINK"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        1,
        "no partial file left"
    );

    let other = self::db();
    let result = csv_io::import(
        &mut other.1.conn(),
        &path,
        "Party office",
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap();
    assert_eq!(result.added, 1);
    let back = &list(&other.1.conn(), now()).unwrap()[0];
    assert_eq!(
        (back.reason, back.postcode.as_str()),
        (Reason::AggressiveDog, "AB1 2CD")
    );

    let (field, _) =
        field_of(csv_io::export(&other.1.conn(), &out.path().join("missing"), now()).unwrap_err());
    assert_eq!(field, "folder");
    // A file that cannot be put in place is named at the folder, and no partial file stays.
    let blocked = tempfile::tempdir().unwrap();
    std::fs::create_dir(blocked.path().join("do-not-knock-2026-11-25.csv")).unwrap();
    let (field, message) =
        field_of(csv_io::export(&other.1.conn(), blocked.path(), now()).unwrap_err());
    assert_eq!(field, "folder");
    assert!(
        message.starts_with("Folder: the file could not be written"),
        "{message}"
    );
    assert_eq!(
        std::fs::read_dir(blocked.path()).unwrap().count(),
        1,
        "no partial file left"
    );
}

#[test]
fn the_whole_list_is_ready_to_share_and_a_damaged_date_is_left_out() {
    let (_dir, db) = db();
    let kept = add(
        &db.conn(),
        &entry("3", "Mill Lane", ""),
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap();
    add(
        &db.conn(),
        &entry("5", "Mill Lane", "ab1 2cd"),
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap();
    db.conn()
        .execute(
            "UPDATE do_not_knock SET review_on = 'next spring' WHERE house = '5'",
            [],
        )
        .unwrap();

    let shared = shared::all_shared(&db.conn()).unwrap();
    assert_eq!(shared.len(), 1, "{shared:?}");
    assert_eq!(
        (shared[0].house.as_str(), shared[0].review_on),
        ("3", kept.review_on)
    );
    assert_eq!(shared[0].uid.len(), 32);
}

#[test]
fn pipes_devices_duplicate_columns_open_quotes_and_extra_values_are_refused_naming_them() {
    let (dir, db) = db();
    let fifo = dir.path().join("list.csv");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for path in [fifo.as_path(), std::path::Path::new("/dev/zero")] {
        // Refused at once: a pipe with no writer is never waited on, /dev/zero never read.
        let error = csv_io::preview(&db.conn(), path, "Party office", now()).unwrap_err();
        assert!(
            error.to_string().contains("not an ordinary file"),
            "{}: {error}",
            path.display()
        );
        assert_eq!(crate::error::ErrorCode::field(&error), Some("path"));
    }
    let twice = csv_file(
        &dir,
        "twice.csv",
        b"house,street,Street,Note,notes\n1,Elm Road,Elm Road,,\n",
    );
    let error = csv_io::import(
        &mut db.conn(),
        &twice,
        "Party office",
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("same column twice (“Street”, “notes”)"),
        "{error}"
    );
    let open_quote = csv_file(
        &dir,
        "quote.csv",
        b"house,street,note\n1,Elm Road,fine\n2,Elm Road,\"big dog\n3,Mill Lane,\n4,Mill Lane,\n",
    );
    let error = csv_io::import(
        &mut db.conn(),
        &open_quote,
        "Party office",
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap_err();
    assert!(error.to_string().contains("row 3 opens a quote"), "{error}");
    // A quoted value over two lines is fine, and later rows keep their own line numbers.
    let extra = csv_file(
        &dir,
        "extra.csv",
        b"house,street,note\n1,Elm Road,\"two\nlines\"\n2,Elm Road,,\n3,Mill Lane,,Ward 5,lost\n",
    );
    let preview = csv_io::preview(&db.conn(), &extra, "Party office", now()).unwrap();
    assert_eq!(preview.problems.len(), 1, "{:?}", preview.problems);
    assert_eq!(preview.problems[0].line, 5);
    assert!(
        preview.problems[0]
            .message
            .contains("2 more values than the first line has columns"),
        "{:?}",
        preview.problems
    );
    let error = csv_io::import(
        &mut db.conn(),
        &extra,
        "Party office",
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("1 row has a problem, so nothing was imported"),
        "{error}"
    );
    assert!(
        list(&db.conn(), now()).unwrap().is_empty(),
        "nothing imported"
    );
}
