use chrono::TimeZone;

use super::scheduler::{evaluate, next_wake, Alert, AlertKind};
use super::*;
use crate::storage::Database;

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, h, m, 0).unwrap()
}

fn canvass(ends_at: DateTime<Utc>) -> NewSession {
    NewSession {
        kind: Kind::Canvass,
        mode: Mode::Me,
        title: "Ward 3 canvass".into(),
        participants: vec!["Asha".into(), "Ben".into()],
        place: "Elm Road to the park".into(),
        notes: "Red coat; phone battery is old".into(),
        escalation: vec![EscalationContact {
            name: "Office".into(),
            phone: "01632 960 123".into(),
            relationship: "Agent".into(),
        }],
        ends_at: Some(ends_at),
        interval_minutes: Some(30),
        reminder_lead_minutes: 5,
        grace_minutes: 10,
    }
}

fn db() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
    (dir, db)
}

fn kinds(alerts: &[Alert]) -> Vec<&AlertKind> {
    alerts.iter().map(|a| &a.kind).collect()
}

#[test]
fn reminder_comes_at_the_lead_time_once_then_the_missed_alert_after_grace() {
    let (_dir, db) = db();
    let mut conn = db.conn();
    start(
        &mut conn,
        &canvass(at(18, 0)),
        at(14, 0),
        &Actor::here(),
        &NoSink,
    )
    .unwrap();
    assert_eq!(next_wake(&conn, at(14, 0)).unwrap(), Some(at(14, 25)));

    assert!(evaluate(&mut conn, at(14, 24), &NoSink).unwrap().is_empty());
    let alerts = evaluate(&mut conn, at(14, 25), &NoSink).unwrap();
    assert_eq!(
        kinds(&alerts),
        [&AlertKind::Reminder { due_at: at(14, 30) }]
    );
    assert!(
        evaluate(&mut conn, at(14, 26), &NoSink).unwrap().is_empty(),
        "no second reminder"
    );
    assert_eq!(next_wake(&conn, at(14, 26)).unwrap(), Some(at(14, 40)));

    assert!(
        evaluate(&mut conn, at(14, 39), &NoSink).unwrap().is_empty(),
        "still within grace"
    );
    let alerts = evaluate(&mut conn, at(14, 40), &NoSink).unwrap();
    assert_eq!(
        kinds(&alerts),
        [&AlertKind::Missed {
            since: at(14, 30),
            last_check_in: None,
            repeat: false
        }]
    );
    assert!(evaluate(&mut conn, at(14, 42), &NoSink).unwrap().is_empty());
}

#[test]
fn a_missed_alert_repeats_until_acknowledged() {
    let (_dir, db) = db();
    let mut conn = db.conn();
    let id = start(
        &mut conn,
        &canvass(at(18, 0)),
        at(14, 0),
        &Actor::here(),
        &NoSink,
    )
    .unwrap();
    evaluate(&mut conn, at(14, 40), &NoSink).unwrap();
    assert_eq!(next_wake(&conn, at(14, 40)).unwrap(), Some(at(14, 45)));
    let alerts = evaluate(&mut conn, at(14, 45), &NoSink).unwrap();
    assert!(matches!(
        alerts[0].kind,
        AlertKind::Missed { repeat: true, .. }
    ));
    acknowledge(&mut conn, id, at(14, 46), &Actor::here(), &NoSink).unwrap();
    assert!(evaluate(&mut conn, at(15, 30), &NoSink).unwrap().is_empty());
    assert_eq!(next_wake(&conn, at(15, 30)).unwrap(), None);
}

#[test]
fn checking_in_resets_the_next_due_time_and_clears_alerts() {
    let (_dir, db) = db();
    let mut conn = db.conn();
    let id = start(
        &mut conn,
        &canvass(at(18, 0)),
        at(14, 0),
        &Actor::here(),
        &NoSink,
    )
    .unwrap();
    evaluate(&mut conn, at(14, 40), &NoSink).unwrap();
    check_in(&mut conn, id, at(14, 41), &Actor::here(), &NoSink).unwrap();
    assert_eq!(next_wake(&conn, at(14, 41)).unwrap(), Some(at(15, 6)));
    let alerts = evaluate(&mut conn, at(15, 6), &NoSink).unwrap();
    assert_eq!(
        kinds(&alerts),
        [&AlertKind::Reminder { due_at: at(15, 11) }]
    );
    let alerts = evaluate(&mut conn, at(15, 21), &NoSink).unwrap();
    assert_eq!(
        kinds(&alerts),
        [&AlertKind::Missed {
            since: at(15, 11),
            last_check_in: Some(at(14, 41)),
            repeat: false
        }]
    );
}

#[test]
fn checking_in_every_5_minutes_never_brings_a_reminder_at_the_moment_of_checking_in() {
    let (_dir, db) = db();
    let mut conn = db.conn();
    let every_5 = NewSession {
        interval_minutes: Some(5),
        reminder_lead_minutes: 5,
        ..canvass(at(18, 0))
    };
    let id = start(&mut conn, &every_5, at(14, 0), &Actor::here(), &NoSink).unwrap();
    assert!(
        evaluate(&mut conn, at(14, 0), &NoSink).unwrap().is_empty(),
        "no reminder as the session starts"
    );
    // The lead is at most half the interval: 2½ minutes before 14:05.
    let half_way = at(14, 2) + chrono::Duration::seconds(30);
    assert_eq!(next_wake(&conn, at(14, 0)).unwrap(), Some(half_way));
    check_in(&mut conn, id, at(14, 4), &Actor::here(), &NoSink).unwrap();
    assert!(
        evaluate(&mut conn, at(14, 4), &NoSink).unwrap().is_empty(),
        "no reminder as you check in"
    );
    let alerts = evaluate(
        &mut conn,
        at(14, 6) + chrono::Duration::seconds(30),
        &NoSink,
    )
    .unwrap();
    assert_eq!(kinds(&alerts), [&AlertKind::Reminder { due_at: at(14, 9) }]);
}

#[test]
fn a_check_in_from_the_room_whose_reminder_moment_has_passed_brings_no_reminder() {
    let (_dir, db) = db();
    let mut conn = db.conn();
    let id = start(
        &mut conn,
        &canvass(at(18, 0)),
        at(14, 0),
        &Actor::here(),
        &NoSink,
    )
    .unwrap();
    // Checked in at 14:00 on the owner's phone (due 14:30, reminder 14:25), heard here only
    // at 14:27 after an outage: the reminder moment has gone.
    let checked_at = at(14, 0) + chrono::Duration::seconds(1);
    let tx = conn.transaction().unwrap();
    change::apply(
        &tx,
        id,
        &SessionChange::CheckIn { at: checked_at },
        &Actor::here(),
        change::When {
            at: checked_at,
            now: at(14, 27),
        },
        "",
        &NoSink,
    )
    .unwrap();
    tx.commit().unwrap();
    assert!(
        evaluate(&mut conn, at(14, 27), &NoSink).unwrap().is_empty(),
        "no reminder"
    );
    assert_eq!(
        next_wake(&conn, at(14, 27)).unwrap(),
        Some(at(14, 40) + chrono::Duration::seconds(1)),
        "only the missed alarm is still to come"
    );
}

#[test]
fn after_a_long_suspend_each_session_gets_one_consolidated_alert() {
    let (_dir, db) = db();
    let mut conn = db.conn();
    start(
        &mut conn,
        &canvass(at(18, 0)),
        at(14, 0),
        &Actor::here(),
        &NoSink,
    )
    .unwrap();
    let mut second = canvass(at(18, 0));
    second.participants = vec!["Cal".into()];
    start(&mut conn, &second, at(14, 0), &Actor::here(), &NoSink).unwrap();
    // The laptop slept from 14:01 to 17:01: six intervals passed unseen.
    evaluate(&mut conn, at(14, 1), &NoSink).unwrap();
    let alerts = evaluate(&mut conn, at(17, 1), &NoSink).unwrap();
    assert_eq!(alerts.len(), 2, "one per session, no reminders, no burst");
    assert!(alerts.iter().all(|a| a.kind
        == AlertKind::Missed {
            since: at(14, 30),
            last_check_in: None,
            repeat: false
        }));
}

#[test]
fn nothing_fires_twice_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
        let mut conn = db.conn();
        start(
            &mut conn,
            &canvass(at(18, 0)),
            at(14, 0),
            &Actor::here(),
            &NoSink,
        )
        .unwrap();
        assert_eq!(evaluate(&mut conn, at(14, 25), &NoSink).unwrap().len(), 1);
    }
    {
        // Restarted at 14:27: the reminder was already sent.
        let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
        assert!(evaluate(&mut db.conn(), at(14, 27), &NoSink)
            .unwrap()
            .is_empty());
    }
    {
        // Stopped, then started again after the grace period: exactly one missed alert.
        let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
        assert_eq!(
            evaluate(&mut db.conn(), at(15, 0), &NoSink).unwrap().len(),
            1
        );
    }
    let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
    assert!(evaluate(&mut db.conn(), at(15, 1), &NoSink)
        .unwrap()
        .is_empty());
}

#[test]
fn the_clock_going_back_ten_minutes_sends_nothing_again() {
    let (_dir, db) = db();
    let mut conn = db.conn();
    start(
        &mut conn,
        &canvass(at(18, 0)),
        at(14, 0),
        &Actor::here(),
        &NoSink,
    )
    .unwrap();
    assert_eq!(evaluate(&mut conn, at(14, 25), &NoSink).unwrap().len(), 1);
    assert!(evaluate(&mut conn, at(14, 15), &NoSink).unwrap().is_empty());
    assert!(evaluate(&mut conn, at(14, 25), &NoSink).unwrap().is_empty());
    assert_eq!(evaluate(&mut conn, at(14, 40), &NoSink).unwrap().len(), 1);
    assert!(evaluate(&mut conn, at(14, 30), &NoSink).unwrap().is_empty());
}

#[test]
fn intervals_are_real_minutes_across_the_clock_changes() {
    let (_dir, db) = db();
    let mut conn = db.conn();
    // 29 March 2026: at 01:00 UTC the UK goes from 01:00 GMT to 02:00 BST.
    let spring = Utc.with_ymd_and_hms(2026, 3, 29, 0, 50, 0).unwrap();
    start(
        &mut conn,
        &canvass(spring + Duration::hours(3)),
        spring,
        &Actor::here(),
        &NoSink,
    )
    .unwrap();
    let alerts = evaluate(&mut conn, spring + Duration::minutes(25), &NoSink).unwrap();
    assert_eq!(
        alerts[0].kind,
        AlertKind::Reminder {
            due_at: spring + Duration::minutes(30)
        }
    );
    assert_eq!(
        crate::alarms::open(&conn).unwrap()[0].body,
        "Due at 02:20. Let your team know you are OK."
    );

    // 25 October 2026: at 01:00 UTC clocks go back from 02:00 BST to 01:00 GMT.
    let autumn = Utc.with_ymd_and_hms(2026, 10, 25, 0, 40, 0).unwrap();
    let mut team = canvass(autumn + Duration::hours(3));
    team.participants = vec!["Dee".into()];
    start(&mut conn, &team, autumn, &Actor::here(), &NoSink).unwrap();
    let alerts = evaluate(&mut conn, autumn + Duration::minutes(25), &NoSink).unwrap();
    let autumn_alert = alerts.iter().find(|a| a.participants == ["Dee"]).unwrap();
    assert_eq!(
        autumn_alert.kind,
        AlertKind::Reminder {
            due_at: autumn + Duration::minutes(30)
        }
    );
    let alarms = crate::alarms::open(&conn).unwrap();
    let dee = alarms.iter().find(|a| a.participants == ["Dee"]).unwrap();
    assert_eq!(dee.body, "Due at 01:10. Let your team know you are OK.");
}

#[test]
fn snoozing_brings_the_reminder_back_but_not_the_deadline() {
    let (_dir, db) = db();
    let mut conn = db.conn();
    let id = start(
        &mut conn,
        &canvass(at(18, 0)),
        at(14, 0),
        &Actor::here(),
        &NoSink,
    )
    .unwrap();
    evaluate(&mut conn, at(14, 25), &NoSink).unwrap();
    snooze(
        &mut conn,
        id,
        at(14, 26),
        &Actor::Here(Via::Notification),
        &NoSink,
    )
    .unwrap();
    assert_eq!(next_wake(&conn, at(14, 26)).unwrap(), Some(at(14, 31)));
    assert_eq!(
        kinds(&evaluate(&mut conn, at(14, 31), &NoSink).unwrap()),
        [&AlertKind::Reminder { due_at: at(14, 30) }]
    );
    assert!(matches!(
        evaluate(&mut conn, at(14, 40), &NoSink).unwrap()[0].kind,
        AlertKind::Missed { .. }
    ));
}

#[test]
fn ending_safely_stops_everything_and_the_timeline_shows_who_did_what() {
    let (_dir, db) = db();
    let mut conn = db.conn();
    let id = start(
        &mut conn,
        &canvass(at(18, 0)),
        at(14, 0),
        &Actor::here(),
        &NoSink,
    )
    .unwrap();
    evaluate(&mut conn, at(14, 25), &NoSink).unwrap();
    check_in(&mut conn, id, at(14, 27), &Actor::here(), &NoSink).unwrap();
    extend(&mut conn, id, 30, at(14, 28), &Actor::here(), &NoSink).unwrap();
    end_safely(
        &mut conn,
        id,
        at(15, 0),
        &Actor::Here(Via::Notification),
        &NoSink,
    )
    .unwrap();
    assert!(evaluate(&mut conn, at(20, 0), &NoSink).unwrap().is_empty());
    assert_eq!(
        next_wake(&conn, at(20, 0)).unwrap(),
        None,
        "nothing scheduled: no wake-ups"
    );
    let events: Vec<(String, String)> = timeline(&conn, id)
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.by_whom))
        .collect();
    let expected = [
        ("started", "app"),
        ("reminder_sent", "scheduler"),
        ("checked_in", "app"),
        ("extended", "app"),
        ("ended_safe", "notification"),
    ];
    assert_eq!(events, expected.map(|(k, b)| (k.to_owned(), b.to_owned())));
    let said: Vec<String> = views::detail(&conn, id, chrono::Utc::now())
        .unwrap()
        .timeline
        .into_iter()
        .map(|e| e.text)
        .collect();
    assert_eq!(
        said,
        [
            "Started",
            "Reminder sent for the check-in due 14:30",
            "Checked in",
            "Extended by 30 minutes",
            "Ended: safe"
        ]
    );

    let error = check_in(&mut conn, id, at(15, 1), &Actor::here(), &NoSink).unwrap_err();
    assert_eq!(
        (error.code(), error.field()),
        ("conflict", Some("sessionId"))
    );
    assert!(error.to_string().contains("already ended"));
}

#[test]
fn bad_input_is_refused_with_the_field_named_and_nothing_stored() {
    let (_dir, db) = db();
    let mut conn = db.conn();
    let now = at(14, 0);
    let cases: Vec<(NewSession, &str)> = vec![
        (
            NewSession {
                interval_minutes: Some(4),
                ..canvass(at(18, 0))
            },
            "intervalMinutes",
        ),
        (
            NewSession {
                interval_minutes: Some(1441),
                ..canvass(at(18, 0))
            },
            "intervalMinutes",
        ),
        (
            NewSession {
                kind: Kind::Journey,
                ends_at: Some(at(13, 0)),
                ..canvass(at(18, 0))
            },
            "endsAt",
        ),
        (canvass(at(13, 59)), "endsAt"),
        (
            NewSession {
                ends_at: None,
                ..canvass(at(18, 0))
            },
            "endsAt",
        ),
        (
            NewSession {
                participants: vec!["  ".into()],
                ..canvass(at(18, 0))
            },
            "participants",
        ),
        (
            NewSession {
                title: " ".into(),
                ..canvass(at(18, 0))
            },
            "title",
        ),
        (
            NewSession {
                notes: "x".repeat(501),
                ..canvass(at(18, 0))
            },
            "notes",
        ),
        (
            NewSession {
                escalation: vec![EscalationContact {
                    name: "Office".into(),
                    phone: "+1 555".into(),
                    relationship: String::new(),
                }],
                ..canvass(at(18, 0))
            },
            "escalation[0].phone",
        ),
    ];
    // Each message is a sentence that starts with the field as the form labels it, and
    // never with the form's internal key ("escalation[0].phone").
    let label = |field: &str| match field {
        "intervalMinutes" => "Check in:",
        "endsAt" => "Ends (or expected arrival):",
        "participants" => "People:",
        "title" => "Name:",
        "notes" => "Notes for responders:",
        "reminderLeadMinutes" => "Remind me:",
        "graceMinutes" => "Raise the alarm:",
        "escalation[0].name" => "Who to call – Name:",
        "escalation[0].phone" => "Who to call – Phone:",
        other => panic!("no label for {other}"),
    };
    for (new, field) in cases {
        let error = start(&mut conn, &new, now, &Actor::here(), &NoSink).unwrap_err();
        assert_eq!(
            (error.code(), error.field()),
            ("validation", Some(field)),
            "{error}"
        );
        let message = error.to_string();
        assert!(message.starts_with(label(field)), "{field}: {message}");
        assert!(
            message.ends_with('.') || message.ends_with(".)"),
            "{message}"
        );
        assert!(!message.contains('['), "{message}");
    }
    let journey = start(
        &mut conn,
        &NewSession {
            kind: Kind::Journey,
            ..canvass(at(13, 0))
        },
        now,
        &Actor::here(),
        &NoSink,
    )
    .unwrap_err();
    assert_eq!(
        journey.to_string(),
        "Ends (or expected arrival): that time has already passed; choose a later one."
    );

    let count: i64 = conn
        .query_row("SELECT count(*) FROM checkin_session", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 0);

    // The same people twice, in another order and case, while the first is active.
    start(&mut conn, &canvass(at(18, 0)), now, &Actor::here(), &NoSink).unwrap();
    let twin = NewSession {
        participants: vec!["ben".into(), "ASHA".into()],
        ..canvass(at(18, 0))
    };
    let error = start(&mut conn, &twin, now, &Actor::here(), &NoSink).unwrap_err();
    assert_eq!(error.field(), Some("participants"));
    assert_eq!(error.to_string(), "People: Asha and Ben are already in “Ward 3 canvass”, which is still active. End that one first.");
    assert!(matches!(
        extend(&mut conn, 1, 20, now, &Actor::here(), &NoSink).unwrap_err(),
        CheckinError::Extend
    ));
    assert!(matches!(
        check_in(&mut conn, 99, now, &Actor::here(), &NoSink).unwrap_err(),
        CheckinError::UnknownSession(99)
    ));
}
