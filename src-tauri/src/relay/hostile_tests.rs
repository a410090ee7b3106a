//! Anything a member can put in a post, fed through decode and apply on the owner's device
//! and on another member's: extreme integers, huge or hidden text, impossible dates, forged
//! senders and sessions. Nothing panics, nothing fails, and the rules hold afterwards.

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

use super::apply::{apply_message, apply_wire, Incoming};
use super::tests::{at, team, Device};
use super::{wire, FIELD};
use crate::checkins::{scheduler, views};
use crate::time::from_millis;

/// Whole numbers a post may carry: times around now, the extremes, 1900 and 2100.
fn whole() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => at(13, 0).timestamp_millis()..at(18, 0).timestamp_millis(),
        1 => Just(i64::MAX),
        1 => Just(i64::MIN),
        1 => Just(-1i64),
        1 => Just(0i64),
        1 => Just(-2_208_988_800_000i64),
        1 => Just(4_102_444_800_000i64),
        1 => any::<i64>(),
        2 => 0i64..2000,
    ]
}

/// A number field: mostly a number (extremes included), now and then not one.
fn integer() -> impl Strategy<Value = Value> {
    prop_oneof![
        12 => whole().prop_map(|n| json!(n)),
        1 => Just(json!(u64::MAX)),
        1 => Just(json!(1e300)),
        1 => Just(json!("12")),
        1 => Just(Value::Null),
    ]
}

/// A small count a post may carry (minutes, intervals): sometimes far too big.
fn count() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => prop_oneof![Just(15u32), Just(30), Just(60), Just(5), Just(1440), Just(120)].prop_map(|n| json!(n)),
        2 => any::<u32>().prop_map(|n| json!(n)),
        1 => Just(json!(-5)),
        1 => Just(Value::Null),
    ]
}

/// Text a post may carry: short, long, with hidden or reordering characters, or not text.
fn text() -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => "[a-zA-Z ]{1,12}".prop_map(|s| json!(s)),
        1 => Just(json!("x".repeat(8_000))),
        1 => Just(json!("Ward\u{0}3")),
        1 => Just(json!("Ward \u{202e}3")),
        1 => Just(json!(42)),
        1 => Just(json!(["list"])),
    ]
}

fn people() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => Just(json!(["Asha", "Ben"])),
        1 => Just(json!(vec!["Volunteer"; 100])),
        1 => Just(json!([])),
        2 => prop::collection::vec("[a-z]{1,8}", 0..30).prop_map(|v| json!(v)),
        1 => text(),
    ]
}

fn contacts() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => Just(json!([{"name": "Office", "phone": "01632960123", "relationship": ""}])),
        1 => Just(json!(vec![json!({"name": "x".repeat(600), "phone": "999999999999999", "relationship": ""}); 30])),
        1 => Just(json!([])),
        1 => Just(json!("not a list")),
    ]
}

fn members() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => Just(json!(["@ben:example.org"])),
        1 => Just(json!(vec!["@x:example.org"; 100])),
        1 => Just(json!(["not a user id", "@\u{0}:x"])),
        1 => Just(json!([])),
    ]
}

fn kind() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just("started"),
        Just("reminder"),
        Just("checked_in"),
        Just("snoozed"),
        Just("extended"),
        Just("missed"),
        Just("acknowledged"),
        Just("ended"),
        Just("help"),
        Just("asked"),
        Just("unknown"),
    ]
    .prop_map(|k| json!(k))
}

/// A post as any member could send it.
fn post(session: String) -> impl Strategy<Value = (Value, usize)> {
    let info = (
        text(),
        people(),
        text(),
        contacts(),
        count(),
        count(),
        integer(),
        members(),
        prop::option::of(integer()),
    )
        .prop_map(
            |(title, participants, place, escalation, interval, grace, started, chat, last)| {
                let mut info = json!({"kind": "canvass", "title": title, "participants": participants,
                   "place": place, "notes": "", "escalation": escalation,
                   "intervalMinutes": interval, "graceMinutes": grace, "startedAt": started,
                   "chatMembers": chat});
                if let Some(last) = last {
                    info["lastCheckInAt"] = last;
                }
                info
            },
        );
    let optional = |value: BoxedStrategy<Value>| prop::option::weighted(0.6, value);
    (
        prop_oneof![8 => Just(1u32), 1 => Just(2), 1 => Just(0), 1 => Just(u32::MAX)],
        kind(),
        prop_oneof![
            6 => Just(json!(session)),
            2 => Just(json!("2b1e9d1c-0000-4000-8000-000000000001")),
            1 => text()
        ],
        integer(),
        text(),
        (
            optional(integer().boxed()),
            optional(integer().boxed()),
            optional(integer().boxed()),
            optional(count().boxed()),
        ),
        prop::option::of(info),
        0..3usize,
    )
        .prop_map(
            |(v, event, session, at, by, (due, next, ends, minutes), info, sender)| {
                let mut field = json!({"v": v, "event": event, "session": session, "at": at,
                    "by": by, "how": "app"});
                for (name, value) in [
                    ("dueAt", due),
                    ("nextDueAt", next),
                    ("endsAt", ends),
                    ("minutes", minutes),
                ] {
                    if let Some(value) = value {
                        field[name] = value;
                    }
                }
                if let Some(info) = info {
                    field["info"] = info;
                }
                (
                    json!({"msgtype": "m.text", "body": "…", FIELD: field}),
                    sender,
                )
            },
        )
}

const SENDERS: [&str; 3] = ["@asha:example.org", "@vic:example.org", "@ben:example.org"];

fn apply_to(device: &Device, content: &Value, sender: &str, seq: usize, now: DateTime<Utc>) {
    let event_id = format!("$hostile-{seq}");
    let incoming = Incoming {
        room_id: "!team:example.org",
        event_id: &event_id,
        sender,
        sender_name: sender,
        at: now,
        own: false,
    };
    let mut conn = device.db.conn();
    match wire::read(content) {
        Some(wire) => {
            DECODED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            apply_wire(&mut conn, &incoming, &wire, now).unwrap()
        }
        None => apply_message(&mut conn, &incoming, content, now).unwrap(),
    };
}

/// Posts that decoded as the app's (the rest are read as chat): the test must reach apply.
static DECODED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Every stored session is one the form would have taken, and every view still reads.
fn rules_hold(device: &Device, now: DateTime<Utc>) {
    let conn = device.db.reader();
    type Stored = (String, String, Option<i64>, i64, i64, i64, i64, String);
    let rows: Vec<Stored> = conn
        .prepare(
            "SELECT title, participants, interval_min, grace_min, started_at, ends_at,
                    next_due_at, chat_members FROM checkin_session",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (title, people, interval, grace, started, ends, due, chat) in rows {
        assert!(title.chars().count() <= 500 && !crate::error::has_hidden_characters(&title));
        assert!(serde_json::from_str::<Vec<String>>(&people).unwrap().len() <= 20);
        assert!(serde_json::from_str::<Vec<String>>(&chat).unwrap().len() <= 20);
        assert!(
            interval.is_none_or(|i| (5..=1440).contains(&i)),
            "{interval:?}"
        );
        assert!((0..=120).contains(&grace));
        for ms in [started, ends, due] {
            let at = from_millis(ms).expect("a time");
            assert!(at < now + Duration::days(800), "{at}");
        }
    }
    // A call for help is dated within its session, never in 1900 or years ahead, whatever
    // time a post claimed for it.
    let badly_dated: i64 = conn
        .query_row(
            "SELECT count(*) FROM checkin_event e JOIN checkin_session s ON s.id = e.session_id
             WHERE e.kind = 'help' AND (e.at < s.started_at OR e.at > ?1)",
            [(now + crate::checkins::change::CLOCK_SLACK).timestamp_millis()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(badly_dated, 0, "calls for help dated outside their session");
    drop(conn);
    scheduler::evaluate(&mut device.db.conn(), now, &super::outbox::TeamPosts).unwrap();
    let conn = device.db.reader();
    scheduler::next_wake(&conn, now).unwrap();
    views::active(&conn).unwrap();
}

#[test]
fn no_post_from_any_member_panics_breaks_a_rule_or_takes_a_session_from_its_owner() {
    let (a, b, _c, room, _) = team();
    let session = room.events[0].3[FIELD]["session"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut runner = TestRunner::new(Config {
        cases: 600,
        failure_persistence: None,
        ..Config::default()
    });
    let seq = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&post(session.clone()), |(content, sender)| {
            let seq = seq.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let now = at(14, 20);
            for device in [&a, &b] {
                apply_to(device, &content, SENDERS[sender], seq, now);
                rules_hold(device, now);
            }
            // Only Asha (its owner) may end her session; Vic never can.
            let ended_by_vic: bool =
                b.db.conn()
                    .query_row(
                        "SELECT EXISTS (SELECT 1 FROM checkin_event WHERE kind = 'ended_safe'
                     AND by_whom <> '@asha:example.org')",
                        [],
                        |r| r.get(0),
                    )
                    .unwrap();
            prop_assert!(!ended_by_vic);
            Ok(())
        })
        .unwrap();
    let decoded = DECODED.load(std::sync::atomic::Ordering::SeqCst);
    let ignored: i64 =
        a.db.conn()
            .query_row(
                "SELECT count(*) FROM checkin_event WHERE kind = 'ignored'",
                [],
                |r| r.get(0),
            )
            .unwrap();
    eprintln!("{decoded} of 1200 posts decoded; {ignored} refusals noted on the owner's device");
    assert!(decoded >= 60, "too few posts reached apply: {decoded}");
}
