use chrono::{Duration, NaiveDate, TimeZone, Utc};

use super::review::{self, ReviewInput};
use super::*;
use crate::checkins::{self, Actor, Kind, Mode, NewSession, NoSink};
use crate::storage::Database;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 14, 0, 0).unwrap()
}

fn db() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
    (dir, db)
}

fn ended_session(db: &Database) -> i64 {
    let session = NewSession {
        kind: Kind::Canvass,
        mode: Mode::Me,
        title: "Ward 3".into(),
        participants: vec!["Sam".into(), "Alex".into()],
        place: "Elm Road, AB1 2CD".into(),
        notes: String::new(),
        escalation: Vec::new(),
        ends_at: Some(now() + Duration::hours(2)),
        interval_minutes: Some(30),
        reminder_lead_minutes: 5,
        grace_minutes: 10,
    };
    let id = checkins::start(
        &mut db.conn(),
        &session,
        now() - Duration::hours(2),
        &Actor::here(),
        &NoSink,
    )
    .unwrap();
    checkins::end_safely(&mut db.conn(), id, now(), &Actor::here(), &NoSink).unwrap();
    id
}

fn answers() -> DebriefInput {
    DebriefInput {
        anything_happened: Some(false),
        anyone_upset: Some(false),
        update_do_not_knock: Some(false),
        ..DebriefInput::default()
    }
}

fn field_of(error: AftercareError) -> (String, String) {
    match error {
        AftercareError::Invalid { field, message } => (field, message),
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[test]
fn a_debrief_records_the_incident_and_creates_follow_ups_that_stay_until_done() {
    let (_dir, db) = db();
    let id = ended_session(&db);
    let result = debrief(
        &mut db.conn(),
        id,
        &DebriefInput {
            anything_happened: Some(true),
            what_happened: "Man at number 9 swore at Alex and slammed the door".into(),
            anyone_upset: Some(true),
            who_is_upset: "Alex".into(),
            who_checks: "Priya (organiser)".into(),
            good_encounters: "Lots of support on Oak Avenue".into(),
            update_do_not_knock: Some(true),
            ..DebriefInput::default()
        },
        now(),
    )
    .unwrap();
    let incident = result.incident_id.expect("a quick incident");
    let detail = crate::incidents::detail(&db.conn(), &incident)
        .unwrap()
        .current
        .unwrap();
    assert!(detail.what_happened.starts_with("Man at number 9 swore"));
    assert_eq!(detail.location, "Elm Road, AB1 2CD");
    assert_eq!(result.follow_ups, 2);

    let open = open_follow_ups(&db.conn(), now()).unwrap();
    assert_eq!(open.len(), 2);
    assert_eq!(open[0].about, "Update the do-not-knock list after “Ward 3”");
    assert_eq!(open[1].about, "Check on Alex after “Ward 3”");
    assert_eq!(open[1].who_checks, "Priya (organiser)");
    assert_eq!(
        open[1].due_on,
        NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
        "tomorrow by default"
    );
    let later = open_follow_ups(&db.conn(), now() + Duration::days(3)).unwrap();
    assert!(later.iter().all(|f| f.overdue), "still there, and overdue");

    complete(&db.conn(), open[1].id, now()).unwrap();
    assert_eq!(open_follow_ups(&db.conn(), now()).unwrap().len(), 1);
    assert!(matches!(
        complete(&db.conn(), open[1].id, now()),
        Err(AftercareError::NoFollowUp)
    ));
    assert!(debriefed(&db.conn(), id).unwrap());
    assert!(matches!(
        debrief(&mut db.conn(), id, &answers(), now()),
        Err(AftercareError::AlreadyDebriefed)
    ));
}

#[test]
fn a_debrief_with_missing_answers_names_the_question_and_saves_nothing() {
    let (_dir, db) = db();
    let id = ended_session(&db);
    let cases: Vec<(DebriefInput, &str, &str)> = vec![
        (
            DebriefInput {
                anything_happened: None,
                ..answers()
            },
            "anythingHappened",
            "Did anything happen?",
        ),
        (
            DebriefInput {
                anything_happened: Some(true),
                ..answers()
            },
            "whatHappened",
            "What happened",
        ),
        (
            DebriefInput {
                anyone_upset: None,
                ..answers()
            },
            "anyoneUpset",
            "Is anyone upset or shaken?",
        ),
        (
            DebriefInput {
                anyone_upset: Some(true),
                ..answers()
            },
            "whoIsUpset",
            "Who",
        ),
        (
            DebriefInput {
                anyone_upset: Some(true),
                who_is_upset: "Alex".into(),
                ..answers()
            },
            "whoChecks",
            "Who will check on them",
        ),
        (
            DebriefInput {
                anyone_upset: Some(true),
                who_is_upset: "Alex".into(),
                who_checks: "Priya".into(),
                check_on: Some(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()),
                ..answers()
            },
            "checkOn",
            "When",
        ),
        (
            DebriefInput {
                update_do_not_knock: None,
                ..answers()
            },
            "updateDoNotKnock",
            "Does the do-not-knock list need updating?",
        ),
        (
            DebriefInput {
                good_encounters: "\u{0}".into(),
                ..answers()
            },
            "goodEncounters",
            "Good encounters",
        ),
    ];
    for (input, field, label) in cases {
        let (f, message) = field_of(debrief(&mut db.conn(), id, &input, now()).unwrap_err());
        assert_eq!(f, field, "{message}");
        assert!(message.starts_with(label), "{message}");
    }
    assert!(!debriefed(&db.conn(), id).unwrap());
    assert!(open_follow_ups(&db.conn(), now()).unwrap().is_empty());
    let incidents: i64 = db
        .conn()
        .query_row("SELECT COUNT(*) FROM incident", [], |r| r.get(0))
        .unwrap();
    assert_eq!(incidents, 0, "no quick incident from a refused debrief");
}

#[test]
fn a_session_still_out_is_not_debriefed() {
    let (_dir, db) = db();
    let session = NewSession {
        kind: Kind::Canvass,
        mode: Mode::Me,
        title: "Out".into(),
        participants: vec!["Jo".into()],
        place: String::new(),
        notes: String::new(),
        escalation: Vec::new(),
        ends_at: Some(now() + Duration::hours(2)),
        interval_minutes: None,
        reminder_lead_minutes: 5,
        grace_minutes: 10,
    };
    let id = checkins::start(&mut db.conn(), &session, now(), &Actor::here(), &NoSink).unwrap();
    assert!(matches!(
        debrief(&mut db.conn(), id, &answers(), now()),
        Err(AftercareError::NotEnded)
    ));
    assert!(matches!(
        debrief(&mut db.conn(), 999, &answers(), now()),
        Err(AftercareError::NoSession)
    ));
}

#[test]
fn the_support_contacts_are_valid_sourced_and_dated() {
    let support = SupportContent::load_embedded().unwrap();
    assert!(support
        .contacts
        .iter()
        .any(|c| c.id == "samaritans" && c.call == "116123"));
    assert!(support.contacts.iter().any(|c| c.call == "101"));
    let bad = include_str!("../../../content/support.json").replace("\"116123\"", "\"116 124\"");
    assert!(SupportContent::from_text(&bad)
        .unwrap_err()
        .to_string()
        .contains("call"));
    let unofficial = include_str!("../../../content/support.json")
        .replace("https://www.samaritans.org/", "https://samaritans.example/");
    assert!(SupportContent::from_text(&unofficial)
        .unwrap_err()
        .to_string()
        .contains("official"));
    let (_dir, db) = db();
    assert!(support_with_party_contact(&db).is_none());
    crate::contacts::save(
        &db.conn(),
        "party-safety-contact",
        "Welfare officer",
        "07700 900456",
        "",
        now(),
    )
    .unwrap();
    assert_eq!(
        support_with_party_contact(&db).as_deref(),
        Some("07700900456")
    );
}

fn support_with_party_contact(db: &Database) -> Option<String> {
    support(&db.conn()).unwrap().party_contact.map(|c| c.phone)
}

#[test]
fn the_review_comes_round_every_few_weeks_and_each_one_is_kept() {
    let (_dir, db) = db();
    let status = review::status(&db.conn(), now()).unwrap();
    assert!(status.due, "never reviewed: due now");
    assert_eq!(status.weeks, review::DEFAULT_WEEKS);

    let (field, _) =
        field_of(review::record(&db.conn(), &ReviewInput::default(), now()).unwrap_err());
    assert_eq!(field, "checked");
    let (field, _) = field_of(
        review::record(
            &db.conn(),
            &ReviewInput {
                checked: vec!["contacts".into()],
                practised: vec!["Nokia 3310".into()],
                ..Default::default()
            },
            now(),
        )
        .unwrap_err(),
    );
    assert_eq!(field, "practised");

    let first = review::record(
        &db.conn(),
        &ReviewInput {
            checked: vec!["contacts".into(), "devices".into()],
            notes: "All numbers rang".into(),
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    assert!(!first.due);
    assert_eq!(
        first.next_due_on,
        Some(NaiveDate::from_ymd_opt(2026, 12, 26).unwrap())
    );
    let four_weeks = now() + Duration::weeks(4);
    assert!(
        review::status(&db.conn(), four_weeks).unwrap().due,
        "comes round again"
    );
    let second = review::record(
        &db.conn(),
        &ReviewInput {
            checked: vec!["escalation".into()],
            ..Default::default()
        },
        four_weeks,
    )
    .unwrap();
    assert_eq!(second.history.len(), 2, "each review kept with its date");
    assert_eq!(
        second.history[1].parts,
        vec!["Emergency contacts", "SOS set-up on each device"]
    );
    assert_eq!(second.history[1].notes, "All numbers rang");

    let (field, _) = field_of(review::set_weeks(&db.conn(), 0).unwrap_err());
    assert_eq!(field, "weeks");
    review::set_weeks(&db.conn(), 2).unwrap();
    assert!(
        review::status(&db.conn(), four_weeks + Duration::weeks(2))
            .unwrap()
            .due
    );
}
