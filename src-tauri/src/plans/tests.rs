use chrono::{NaiveDate, TimeZone, Utc};

use super::*;
use crate::donotknock::{self as dnk, EntryInput};
use crate::storage::Database;

/// A Saturday in late November, 10:00 UK time.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap()
}

fn db() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
    (dir, db)
}

fn input() -> PlanInput {
    PlanInput {
        title: "Ward 3, Saturday".into(),
        ward: "Ward 3".into(),
        streets: vec!["Elm Road".into(), " ".into(), "Oak Avenue".into()],
        postcodes: vec!["ab1 2".into()],
        town: "manchester".into(),
        date: Some(NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()),
        start_time: "10:30".into(),
        end_time: "13:00".into(),
        meeting_point: "The library car park".into(),
        pairs: vec!["Sam and Alex".into(), "Priya, Jo & Lee".into()],
        transport: "Blue Ford Focus".into(),
        vehicle_registration: "ab12 cde".into(),
        coordinator: "Chris at the office".into(),
        escalation: vec!["Chris Office, 07700 900123".into()],
        ..PlanInput::default()
    }
}

fn field_of(error: PlanError) -> (String, String) {
    match error {
        PlanError::Invalid { field, message } => (field, message),
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[test]
fn a_plan_is_checked_and_tidied() {
    let plan = check(&input(), now()).unwrap();
    assert_eq!(plan.streets, vec!["Elm Road", "Oak Avenue"]);
    assert_eq!(plan.postcodes, vec!["AB1 2"]);
    assert_eq!(
        plan.pairs,
        vec![vec!["Sam", "Alex"], vec!["Priya", "Jo", "Lee"]]
    );
    assert_eq!(plan.vehicle_registration, "AB12 CDE");
    assert_eq!(plan.escalation[0].phone, "07700900123");
    assert_eq!(plan.check_in_minutes, DEFAULT_CHECK_IN_MINUTES);
    // Shown, and offered again for editing, as people write it.
    assert_eq!(
        plan.to_input().escalation,
        vec!["Chris Office, 07700 900123"]
    );
}

#[test]
fn bad_plans_name_the_field_as_the_form_labels_it() {
    let cases: Vec<(PlanInput, &str, &str)> = vec![
        (
            PlanInput {
                title: " ".into(),
                ..input()
            },
            "title",
            "Name of the outing",
        ),
        (
            PlanInput {
                streets: vec![],
                postcodes: vec![],
                ..input()
            },
            "streets",
            "Streets",
        ),
        (
            PlanInput {
                postcodes: vec!["not a postcode".into()],
                ..input()
            },
            "postcodes",
            "Postcodes",
        ),
        (
            PlanInput {
                town: "atlantis".into(),
                ..input()
            },
            "town",
            "Nearest town",
        ),
        (
            PlanInput {
                date: None,
                ..input()
            },
            "date",
            "Date",
        ),
        (
            PlanInput {
                start_time: "half ten".into(),
                ..input()
            },
            "startTime",
            "Starts",
        ),
        (
            PlanInput {
                end_time: "10:00".into(),
                ..input()
            },
            "endTime",
            "Ends",
        ),
        (
            PlanInput {
                pairs: vec![" ".into()],
                ..input()
            },
            "pairs",
            "Pairs or groups",
        ),
        (
            PlanInput {
                escalation: vec!["Chris 07700900123".into()],
                ..input()
            },
            "escalation",
            "Who to call, line 1",
        ),
        (
            PlanInput {
                escalation: vec!["Chris, 12345".into()],
                ..input()
            },
            "escalation",
            "Who to call, line 1",
        ),
        (
            PlanInput {
                check_in_minutes: Some(1),
                ..input()
            },
            "checkInMinutes",
            "Check in every",
        ),
        (
            PlanInput {
                kit: "torch\u{0}".into(),
                ..input()
            },
            "kit",
            "Kit",
        ),
        (
            PlanInput {
                risks: vec![RiskAnswer {
                    kind: "dragons".into(),
                    ..Default::default()
                }],
                ..input()
            },
            "risks",
            "Risk check",
        ),
    ];
    for (bad, field, label) in cases {
        let (f, message) = field_of(check(&bad, now()).unwrap_err());
        assert_eq!(f, field, "{message}");
        assert!(message.starts_with(label), "{message}");
    }
}

#[test]
fn the_risk_check_finds_earlier_incidents_do_not_knock_doors_dark_and_anyone_alone() {
    let (_dir, db) = db();
    let mut earlier = crate::incidents::tests::input("Man shouted and followed us down the road");
    earlier.location = "Outside 14 Elm Road".into();
    earlier.occurred_from = now() - chrono::Duration::days(20);
    crate::incidents::record(&mut db.conn(), &earlier, now()).unwrap();
    let mut elsewhere = crate::incidents::tests::input("Unrelated, another ward");
    elsewhere.location = "High Street".into();
    elsewhere.postcode = "ZZ9 9ZZ".into();
    crate::incidents::record(&mut db.conn(), &elsewhere, now()).unwrap();
    let mut by_postcode = crate::incidents::tests::input("Egg thrown at the car");
    by_postcode.postcode = "AB1 2XY".into();
    crate::incidents::record(&mut db.conn(), &by_postcode, now()).unwrap();
    dnk::add(
        &db.conn(),
        &EntryInput {
            house: "9".into(),
            street: "Oak Avenue".into(),
            reason: "aggressive-dog".into(),
            added_by: "Sam".into(),
            ..EntryInput::default()
        },
        now(),
        &crate::donotknock::NoDoorSink,
    )
    .unwrap();

    let mut late = input();
    late.end_time = "17:00".into();
    late.pairs = vec!["Sam and Alex".into(), "Jo".into()];
    let id = create(&db.conn(), &late, now()).unwrap();
    let detail = detail(&db.conn(), id, now()).unwrap();
    let risk = |kind: &str| {
        detail
            .risk_check
            .risks
            .iter()
            .find(|r| r.kind == kind)
            .unwrap()
            .clone()
    };

    let incidents = risk("earlier-incidents");
    assert!(incidents.present);
    assert_eq!(incidents.found.len(), 2, "{:?}", incidents.found);
    assert!(
        incidents.found[0].contains("Egg thrown"),
        "newest first: {:?}",
        incidents.found
    );
    assert!(incidents.found[1].contains("Man shouted"));
    let doors = risk("do-not-knock");
    assert!(doors.present);
    assert_eq!(doors.found, vec!["9 Oak Avenue (Aggressive dog)"]);
    // Sunset in Manchester on 28 November is about 15:50.
    let dark = risk("daylight");
    assert!(dark.present);
    let sunset = detail.risk_check.sunset_local.clone().unwrap();
    assert!(("15:40".."16:00").contains(&sunset.as_str()), "{sunset}");
    assert!(risk("lone-working").present);
    assert_eq!(risk("lone-working").found, vec!["Jo is on their own."]);
    assert!(!risk("dogs").present, "only the team can say");

    let early = create(&db.conn(), &input(), now()).unwrap();
    let early = super::detail(&db.conn(), early, now()).unwrap();
    let early_dark = early
        .risk_check
        .risks
        .iter()
        .find(|r| r.kind == "daylight")
        .unwrap();
    assert!(!early_dark.present, "finishing at 13:00 is in daylight");
}

#[test]
fn the_risk_check_ignores_case_and_spaces_and_reads_wildcards_as_plain_text() {
    let (_dir, db) = db();
    let record = |summary: &str, location: &str, postcode: &str| {
        let mut incident = crate::incidents::tests::input(summary);
        incident.location = location.into();
        incident.postcode = postcode.into();
        crate::incidents::record(&mut db.conn(), &incident, now()).unwrap();
    };
    record("Shouting at the door", "12 ELM ROAD", "");
    record("Sign torn down", "Corner of Mill Lane", "m1 4bt");
    record(
        "Nothing to do with the plan",
        "Ship_Street 50% along",
        "ZZ9 9ZZ",
    );

    let found = |streets: &[&str], postcodes: &[&str]| -> Vec<String> {
        let mut plan = input();
        plan.streets = streets.iter().map(|s| s.to_string()).collect();
        plan.postcodes = postcodes.iter().map(|s| s.to_string()).collect();
        let id = create(&db.conn(), &plan, now()).unwrap();
        let detail = super::detail(&db.conn(), id, now()).unwrap();
        detail
            .risk_check
            .incidents
            .iter()
            .map(|hit| hit.line.clone())
            .collect()
    };
    let both = found(&["elm road"], &["m1 4bt"]);
    assert_eq!(both.len(), 2, "{both:?}");
    // `_` and `%` are letters in a street name, not wildcards.
    assert!(found(&["Ship Street"], &[]).is_empty());
    assert!(found(&["Elm_Road"], &[]).is_empty());
    assert!(found(&["5%"], &[]).is_empty());
    assert_eq!(found(&["50%"], &[]).len(), 1);
    assert!(found(&["Birch Close"], &["AB1"]).is_empty());
    // The most a plan holds (40 streets and 40 postcodes, each as long as allowed) is one
    // query SQLite still takes.
    let streets: Vec<String> = (0..40)
        .map(|i| {
            format!("{i} {}", "Long Street ".repeat(15))
                .chars()
                .take(200)
                .collect()
        })
        .collect();
    let postcodes: Vec<String> = (0..40).map(|i| format!("YY{i}")).collect();
    let mut most = input();
    most.streets = streets;
    most.postcodes = postcodes;
    let id = create(&db.conn(), &most, now()).unwrap();
    assert!(super::detail(&db.conn(), id, now())
        .unwrap()
        .risk_check
        .incidents
        .is_empty());
}

#[test]
fn starting_needs_an_answer_to_each_risk_then_starts_a_session_per_pair_together() {
    let (_dir, db) = db();
    let mut plan = input();
    plan.risks = vec![RiskAnswer {
        kind: "dogs".into(),
        present: true,
        action: String::new(),
    }];
    let id = create(&db.conn(), &plan, now()).unwrap();
    let (field, message) =
        field_of(start(&mut db.conn(), id, now(), &crate::checkins::NoSink).unwrap_err());
    assert_eq!(field, "risks.dogs.action");
    assert!(
        message.starts_with("What you will do about it (Dogs)"),
        "{message}"
    );

    plan.risks[0].action = "Leaflet holders; pass loose dogs by".into();
    update(&db.conn(), id, &plan, now()).unwrap();
    let sessions = start(&mut db.conn(), id, now(), &crate::checkins::NoSink).unwrap();
    assert_eq!(sessions.len(), 2);
    let detail = detail(&db.conn(), id, now()).unwrap();
    assert_eq!(detail.sessions, sessions);
    assert!(detail.started_at_local.is_some());
    let session = crate::checkins::views::detail(&db.conn(), sessions[1], now()).unwrap();
    let json = serde_json::to_value(&session).unwrap();
    assert_eq!(
        json["participants"],
        serde_json::json!(["Priya", "Jo", "Lee"]),
        "{json}"
    );

    assert!(matches!(
        start(&mut db.conn(), id, now(), &crate::checkins::NoSink),
        Err(PlanError::Started)
    ));
    assert!(matches!(
        update(&db.conn(), id, &plan, now()),
        Err(PlanError::Started)
    ));
    // Sessions still out: the same people cannot start again, and nothing is half-started.
    let again = copy(&db.conn(), id, now()).unwrap();
    let mut today = input();
    today.title = "Again".into();
    update(&db.conn(), again, &today, now()).unwrap();
    let error = start(&mut db.conn(), again, now(), &crate::checkins::NoSink).unwrap_err();
    assert_eq!(crate::error::ErrorCode::field(&error), Some("participants"));
    assert_eq!(
        super::detail(&db.conn(), again, now())
            .unwrap()
            .sessions
            .len(),
        0,
        "all or none"
    );
}

#[test]
fn a_plan_is_started_on_its_day_and_not_after_it_ended() {
    let (_dir, db) = db();
    let tomorrow = PlanInput {
        date: Some(NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()),
        ..input()
    };
    let id = create(&db.conn(), &tomorrow, now()).unwrap();
    let (field, message) =
        field_of(start(&mut db.conn(), id, now(), &crate::checkins::NoSink).unwrap_err());
    assert_eq!(field, "date");
    assert!(message.contains("29 November 2026"), "{message}");

    let over = PlanInput {
        end_time: "09:30".into(),
        start_time: "08:00".into(),
        ..input()
    };
    let id = create(&db.conn(), &over, now()).unwrap();
    let (field, _) =
        field_of(start(&mut db.conn(), id, now(), &crate::checkins::NoSink).unwrap_err());
    assert_eq!(field, "endTime");
}

#[test]
fn a_plan_is_copied_for_next_week_listed_and_deleted() {
    let (_dir, db) = db();
    let id = create(&db.conn(), &input(), now()).unwrap();
    let copied = copy(&db.conn(), id, now()).unwrap();
    let copy_detail = detail(&db.conn(), copied, now()).unwrap();
    assert_eq!(
        copy_detail.plan.date,
        NaiveDate::from_ymd_opt(2026, 12, 5).unwrap()
    );
    assert_eq!(copy_detail.plan.title, "Ward 3, Saturday (copy)");
    assert_eq!(
        copy_detail.plan.pairs,
        check(&input(), now()).unwrap().pairs
    );
    let listed: Vec<i64> = list(&db.conn(), now())
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(listed, vec![id, copied], "soonest first");
    let long_after = now() + chrono::Duration::days(KEEP_PAST_PLANS_DAYS + 10);
    let flagged: Vec<bool> = list(&db.conn(), long_after)
        .unwrap()
        .iter()
        .map(|p| p.review_due)
        .collect();
    assert_eq!(
        flagged,
        vec![true, true],
        "long-past plans are offered for deletion"
    );
    assert!(list(&db.conn(), now())
        .unwrap()
        .iter()
        .all(|p| !p.review_due));
    delete(&mut db.conn(), id).unwrap();
    assert!(matches!(
        detail(&db.conn(), id, now()),
        Err(PlanError::NotFound)
    ));
    assert!(matches!(
        delete(&mut db.conn(), id),
        Err(PlanError::NotFound)
    ));
}
