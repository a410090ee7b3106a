use chrono::TimeZone;

use super::*;
use crate::storage::Database;

const GOOD: &str = r#"{
  "id": "routine",
  "order": 1,
  "title": "Your routine",
  "intro": "Being predictable makes you easier to find.",
  "items": [
    {"id": "vary-route", "text": "Vary your route.", "detail": "Change roads and times."},
    {"id": "tell-someone", "text": "Tell someone when you leave."}
  ],
  "sources": [{"title": "NPSA", "url": "https://www.npsa.gov.uk/personal-situational-awareness"}],
  "reviewed": "2026-11-25"
}"#;

fn load_one(text: &str) -> Result<AdviceLibrary, ContentError> {
    AdviceLibrary::from_files([("content/advice/routine.json", text)])
}

fn library() -> AdviceLibrary {
    load_one(GOOD).unwrap()
}

#[test]
fn every_embedded_advice_file_is_valid() {
    let library = AdviceLibrary::load_embedded().unwrap_or_else(|error| panic!("{error}"));
    let ids: Vec<&str> = library.sections().iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "cyber-hygiene",
            "digital-footprint",
            "routine",
            "being-followed",
            "safer-canvassing",
            "reporting",
            "aftercare"
        ]
    );
    let canvassing = library.section("safer-canvassing").unwrap();
    assert_eq!(
        canvassing.items.len(),
        7,
        "the seven principles, one item each"
    );
}

#[test]
fn accepts_a_good_section() {
    let library = library();
    assert_eq!(library.sections().len(), 1);
    assert_eq!(library.section("routine").unwrap().items.len(), 2);
}

#[test]
fn rejects_an_unknown_field() {
    let text = GOOD.replace("\"order\": 1,", "\"order\": 1, \"colour\": \"red\",");
    let error = load_one(&text).unwrap_err();
    assert!(error.message.contains("unknown field `colour`"), "{error}");
    assert_eq!(error.file, "content/advice/routine.json");
}

#[test]
fn rejects_an_unknown_field_in_an_item() {
    let text = GOOD.replace(
        "\"text\": \"Vary your route.\",",
        "\"text\": \"Vary your route.\", \"done\": true,",
    );
    let error = load_one(&text).unwrap_err();
    assert_eq!(error.field, "items[0].done");
}

#[test]
fn rejects_empty_text() {
    let error = load_one(&GOOD.replace("Vary your route.", " ")).unwrap_err();
    assert_eq!(error.field, "items[0].text");
    let error = load_one(&GOOD.replace("Your routine", "")).unwrap_err();
    assert_eq!(error.field, "title");
}

#[test]
fn rejects_a_missing_required_field() {
    let error =
        load_one(&GOOD.replace("\"reviewed\": \"2026-11-25\"", "\"reviewedx\": 1")).unwrap_err();
    assert!(
        error.message.contains("unknown field") || error.message.contains("missing field"),
        "{error}"
    );
}

#[test]
fn rejects_a_non_official_link() {
    let error = load_one(&GOOD.replace("https://www.npsa.gov.uk/", "https://www.example.com/"))
        .unwrap_err();
    assert_eq!(error.field, "sources[0].url");
    assert!(error.message.contains("not on an official site"), "{error}");
}

#[test]
fn rejects_a_section_without_sources() {
    let start = GOOD.find("\"sources\"").unwrap();
    let end = GOOD.find("\"reviewed\"").unwrap();
    let text = format!("{}\"sources\": [],\n  {}", &GOOD[..start], &GOOD[end..]);
    let error = load_one(&text).unwrap_err();
    assert_eq!(error.field, "sources");
}

#[test]
fn rejects_an_implausible_review_date_and_a_bad_one() {
    let error = load_one(&GOOD.replace("2026-11-25", "2062-01-01")).unwrap_err();
    assert_eq!(error.field, "reviewed");
    let error = load_one(&GOOD.replace("2026-11-25", "2026-02-30")).unwrap_err();
    assert_eq!(error.field, "reviewed");
}

#[test]
fn rejects_duplicate_item_ids_and_a_mismatched_file_name() {
    let error = load_one(&GOOD.replace("tell-someone", "vary-route")).unwrap_err();
    assert_eq!(error.field, "items[1].id");
    let error = AdviceLibrary::from_files([("content/advice/other.json", GOOD)]).unwrap_err();
    assert_eq!(error.field, "id");
}

#[test]
fn rejects_malformed_json_and_an_empty_folder() {
    let error = load_one("{ \"id\": ").unwrap_err();
    assert!(error.message.contains("line"), "{error}");
    let error = AdviceLibrary::from_files([]).unwrap_err();
    assert!(error.message.contains("no advice sections"));
}

#[test]
fn ticking_stores_the_time_and_keeps_the_first_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
    let library = library();
    let first = Utc.with_ymd_and_hms(2026, 11, 25, 9, 30, 0).unwrap();
    let later = Utc.with_ymd_and_hms(2026, 11, 25, 18, 0, 0).unwrap();

    let view = set_tick(&library, &db.conn(), "routine", "vary-route", true, first).unwrap();
    assert_eq!((view.done, view.total), (1, 2));
    assert_eq!(view.items[0].ticked_at, Some(first));
    assert_eq!(
        view.items[0].ticked_at_local.as_deref(),
        Some("25 Nov 2026, 09:30")
    );

    let view = set_tick(&library, &db.conn(), "routine", "vary-route", true, later).unwrap();
    assert_eq!(
        view.items[0].ticked_at,
        Some(first),
        "ticking twice keeps the first time"
    );

    let view = set_tick(&library, &db.conn(), "routine", "vary-route", false, later).unwrap();
    assert_eq!((view.done, view.total), (0, 2));
    assert_eq!(
        Ticks::load(&db.conn()).unwrap().at("routine", "vary-route"),
        None
    );
}

#[test]
fn ticks_survive_reopening_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let library = library();
    let at = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
    {
        let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
        set_tick(&library, &db.conn(), "routine", "tell-someone", true, at).unwrap();
    }
    let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
    let ticks = Ticks::load(&db.conn()).unwrap();
    let summary = &summaries(&library, &ticks)[0];
    assert_eq!((summary.done, summary.total), (1, 2));
    assert_eq!(ticks.at("routine", "tell-someone"), Some(at));
}

#[test]
fn unknown_section_or_item_is_refused_naming_the_field_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
    let library = library();
    let now = Utc::now();

    let error = set_tick(&library, &db.conn(), "nope", "vary-route", true, now).unwrap_err();
    assert_eq!(
        (error.code(), error.field()),
        ("not_found", Some("sectionId"))
    );
    let error = set_tick(&library, &db.conn(), "routine", "nope", true, now).unwrap_err();
    assert_eq!((error.code(), error.field()), ("not_found", Some("itemId")));
    assert!(error.to_string().contains("no item “nope”"));

    let count: i64 = db
        .conn()
        .query_row("SELECT count(*) FROM checklist_tick", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 0);
}

#[test]
fn ticks_for_items_no_longer_in_the_content_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
    db.conn()
        .execute(
            "INSERT INTO checklist_tick VALUES ('routine', 'retired-item', 1)",
            [],
        )
        .unwrap();
    let ticks = Ticks::load(&db.conn()).unwrap();
    let summary = &summaries(&library(), &ticks)[0];
    assert_eq!((summary.done, summary.total), (0, 2));
}
