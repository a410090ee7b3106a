//! The relay without a server: devices are databases, and "the room" hands each device's
//! posts to the others in one order, as a homeserver does, with each post's real sender.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rusqlite::params;
use serde_json::Value;

use super::apply::{apply_message, apply_reaction, apply_wire, Incoming, Outcome};
use super::outbox::{self, TeamPosts};
use super::register::TeamDoors;
use super::wire::{self, WireKind};
use crate::alarms::{self, AlarmKind};
use crate::checkins::scheduler::evaluate;
use crate::checkins::{self, Actor, EscalationContact, Kind, Mode, NewSession};
use crate::storage::Database;

const ROOM: &str = "!team:example.org";

pub(super) struct Device {
    _dir: tempfile::TempDir,
    pub(super) db: Database,
    pub(super) user: &'static str,
    pub(super) device_id: &'static str,
}

pub(super) fn device(user: &'static str, device_id: &'static str) -> Device {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
    db.conn()
        .execute(
            "INSERT INTO team_account (id, homeserver, user_id, device_id, session, store_passphrase, signed_in_at)
             VALUES (1, 'http://127.0.0.1', ?1, ?2, '{}', 'x', 0)",
            params![user, device_id],
        )
        .unwrap();
    Device {
        _dir: dir,
        db,
        user,
        device_id,
    }
}

pub(super) fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, h, m, 0).unwrap()
}

/// One event of the room: its id, sender, the device that sent it (None for a volunteer's
/// client), content and server time.
pub(super) type Event = (
    String,
    &'static str,
    Option<&'static str>,
    Value,
    DateTime<Utc>,
);

/// A room: every post in server order.
#[derive(Default)]
pub(super) struct Room {
    pub(super) events: Vec<Event>,
}

impl Room {
    /// Takes what `from` has ready to send at `now`, as the relay would.
    pub(super) fn post_from(&mut self, from: &Device, now: DateTime<Utc>) -> usize {
        let conn = from.db.conn();
        let mut posted = 0;
        for post in outbox::ready(&conn, now).unwrap() {
            if outbox::drop_if_stale(&conn, &post).unwrap().is_some() {
                continue;
            }
            let event_id = format!("${}", self.events.len() + 1);
            outbox::mark_sent(&conn, post.id, &event_id, now).unwrap();
            self.events
                .push((event_id, from.user, Some(from.device_id), post.content, now));
            posted += 1;
        }
        posted
    }

    /// Someone on a plain client (Element) says something.
    pub(super) fn say(&mut self, user: &'static str, content: Value, now: DateTime<Utc>) -> String {
        let event_id = format!("${}", self.events.len() + 1);
        self.events
            .push((event_id.clone(), user, None, content, now));
        event_id
    }

    /// `to` reads the whole room (again) at `now`: what changed, and what it should redact.
    pub(super) fn sync_at(&self, to: &Device, now: DateTime<Utc>) -> Vec<Outcome> {
        let mut conn = to.db.conn();
        self.events
            .iter()
            .map(|(id, sender, device, content, when)| {
                let incoming = Incoming {
                    room_id: ROOM,
                    event_id: id,
                    sender,
                    sender_name: &crate::checkins::short_name(sender),
                    at: *when,
                    own: *sender == to.user && *device == Some(to.device_id),
                };
                if let Some(key) = content
                    .get("m.relates_to")
                    .and_then(|r| r.get("key"))
                    .and_then(Value::as_str)
                {
                    let to_event = content["m.relates_to"]["event_id"].as_str().unwrap();
                    return apply_reaction(&mut conn, &incoming, to_event, key, now).unwrap();
                }
                if let Some(post) = super::register::read(content) {
                    return super::register::apply(&mut conn, &incoming, &post).unwrap();
                }
                match wire::read(content) {
                    Some(wire) => apply_wire(&mut conn, &incoming, &wire, now).unwrap(),
                    None => apply_message(&mut conn, &incoming, content, now).unwrap(),
                }
            })
            .collect()
    }

    /// Reads the room as of its last event.
    pub(super) fn sync(&self, to: &Device) -> Vec<Outcome> {
        let now = self.events.last().map_or(at(14, 0), |e| e.4);
        self.sync_at(to, now)
    }
}

pub(super) fn canvass(started: DateTime<Utc>) -> NewSession {
    NewSession {
        kind: Kind::Canvass,
        mode: Mode::Me,
        title: "Ward 3".into(),
        participants: vec!["Asha".into(), "Ben".into()],
        place: "Elm Road".into(),
        notes: "Asha: red coat".into(),
        escalation: vec![EscalationContact {
            name: "Office".into(),
            phone: "01632 960 123".into(),
            relationship: String::new(),
        }],
        ends_at: Some(started + Duration::hours(3)),
        interval_minutes: Some(30),
        reminder_lead_minutes: 5,
        grace_minutes: 10,
    }
}

/// A shares a session; B and C track it.
pub(super) fn team() -> (Device, Device, Device, Room, i64) {
    let (a, b, c) = (
        device("@asha:example.org", "AAA"),
        device("@office:example.org", "BBB"),
        device("@cat:example.org", "CCC"),
    );
    for member in [&a, &b, &c] {
        in_team(member);
    }
    let id = checkins::start(
        &mut a.db.conn(),
        &canvass(at(14, 0)),
        at(14, 0),
        &Actor::here(),
        &TeamPosts,
    )
    .unwrap();
    checkins::shared::share(
        &mut a.db.conn(),
        id,
        ROOM,
        a.user,
        &["@ben:example.org".to_owned()],
        at(14, 0),
        &TeamPosts,
    )
    .unwrap();
    let mut room = Room::default();
    assert_eq!(room.post_from(&a, at(14, 0)), 1);
    for other in [&b, &c] {
        assert_eq!(room.sync(other), [Outcome::Changed]);
    }
    (a, b, c, room, id)
}

pub(super) fn mirrored(device: &Device) -> (i64, i64, String) {
    device
        .db
        .conn()
        .query_row(
            "SELECT id, next_due_at, mode FROM checkin_session WHERE origin = 'team'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

pub(super) fn next_due(device: &Device) -> i64 {
    device
        .db
        .conn()
        .query_row("SELECT next_due_at FROM checkin_session", [], |r| r.get(0))
        .unwrap()
}

pub(super) fn alarm_kinds(device: &Device) -> Vec<AlarmKind> {
    alarms::open(&device.db.conn())
        .unwrap()
        .iter()
        .map(|a| a.kind)
        .collect()
}

fn missed_events(device: &Device) -> i64 {
    device
        .db
        .conn()
        .query_row(
            "SELECT count(*) FROM checkin_event WHERE kind = 'missed'",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn a_shared_session_reaches_every_device_once_with_what_responders_need() {
    let (a, b, _c, room, _) = team();
    let (id, due, mode) = mirrored(&b);
    assert_eq!(
        (due, mode.as_str()),
        (at(14, 30).timestamp_millis(), "watching")
    );
    let view = checkins::views::detail(&b.db.conn(), id, chrono::Utc::now()).unwrap();
    assert_eq!(view.session.participants, ["Asha", "Ben"]);
    assert_eq!(view.session.notes, "Asha: red coat");
    assert_eq!(view.session.escalation[0].phone, "01632960123");
    let team = view.session.team.as_ref().unwrap();
    assert_eq!(team.owner, "@asha:example.org", "the sender, not a claim");
    // Read again, and A reading its own post: nothing changes, nothing is posted back.
    assert_eq!(room.sync(&b), [Outcome::Nothing]);
    assert_eq!(room.sync(&a), [Outcome::Nothing]);
    assert_eq!(outbox::ready(&b.db.conn(), at(15, 0)).unwrap().len(), 0);
    let body = room.events[0].3["body"].as_str().unwrap().to_owned();
    assert!(
        body.contains("Asha and Ben are out: Ward 3 at Elm Road"),
        "{body}"
    );
    assert!(body.contains("call Office on 01632 960123"), "{body}");
    assert_eq!(room.events[0].3["msgtype"], "m.notice");
}

#[test]
fn the_owner_s_check_in_reaches_the_others_and_others_may_only_say_they_are_on_it() {
    let (a, b, c, mut room, id) = team();
    // Nobody has checked in: every device raises its own missed alarm at 14:40.
    for device in [&a, &b, &c] {
        evaluate(&mut device.db.conn(), at(14, 40), &TeamPosts).unwrap();
        assert_eq!(alarm_kinds(device), [AlarmKind::Missed], "{}", device.user);
    }
    // B, watching on another member's device, cannot check in for A's session.
    let (b_id, _, _) = mirrored(&b);
    let refused = checkins::check_in(
        &mut b.db.conn(),
        b_id,
        at(14, 41),
        &Actor::here(),
        &TeamPosts,
    )
    .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("only asha's devices can check in"),
        "{refused}"
    );
    let waiting = outbox::ready(&b.db.conn(), at(15, 0)).unwrap();
    assert!(
        waiting.iter().all(|post| post.kind != "checked_in"),
        "nothing posted"
    );
    // A checks in: every device hears it and drops its alarm.
    checkins::check_in(&mut a.db.conn(), id, at(14, 41), &Actor::here(), &TeamPosts).unwrap();
    room.post_from(&a, at(14, 41));
    room.sync(&b);
    room.sync(&c);
    for device in [&a, &b, &c] {
        assert!(alarm_kinds(device).is_empty(), "{}", device.user);
        assert_eq!(
            next_due(device),
            at(15, 11).timestamp_millis(),
            "{}",
            device.user
        );
    }
    let body = room.events.last().unwrap().3["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        body,
        "✅ Ward 3: asha checked in (in the app). Next check-in due 15:11."
    );
}

#[test]
fn a_device_s_own_posts_coming_back_change_nothing_twice() {
    let (a, b, _c, mut room, id) = team();
    checkins::extend(
        &mut a.db.conn(),
        id,
        30,
        at(14, 10),
        &Actor::here(),
        &TeamPosts,
    )
    .unwrap();
    room.post_from(&a, at(14, 10));
    let due = next_due(&a);
    assert_eq!(due, at(15, 0).timestamp_millis());
    // A reads the room, its extension included: the due time does not move again.
    room.sync(&a);
    assert_eq!(next_due(&a), due);
    room.sync(&b);
    assert_eq!(next_due(&b), due, "B works out the same due time");
    room.sync(&b);
    assert_eq!(next_due(&b), due, "and only once");
}

#[test]
fn the_owner_posts_the_missed_check_in_and_the_others_hold_then_drop_theirs() {
    let (a, b, c, mut room, _) = team();
    for device in [&a, &b, &c] {
        evaluate(&mut device.db.conn(), at(14, 40), &TeamPosts).unwrap();
    }
    // A started the session: it is first. The others wait their turn.
    assert_eq!(room.post_from(&b, at(14, 40)), 0, "B holds its post");
    assert_eq!(room.post_from(&c, at(14, 40)), 0, "C holds its post");
    assert_eq!(room.post_from(&a, at(14, 41)), 1, "A posts within its turn");
    room.sync(&b);
    room.sync(&c);
    assert_eq!(
        room.post_from(&b, at(14, 50)),
        0,
        "B saw A's and dropped its own"
    );
    assert_eq!(
        room.post_from(&c, at(14, 50)),
        0,
        "C saw A's and dropped its own"
    );
    let missed = &room.events.last().unwrap().3;
    assert_eq!(missed["msgtype"], "m.text");
    assert_eq!(missed["m.mentions"]["room"], true, "Element rings");
    let body = missed["body"].as_str().unwrap();
    assert!(
        body.starts_with("@room 🚨 MISSED CHECK-IN: Ward 3 at Elm Road. Asha and Ben were due to check in at 14:30 and have not."),
        "{body}"
    );
    assert!(
        body.contains("No check-in since the start at 14:00."),
        "{body}"
    );
    assert!(body.contains("Call Office on 01632 960123."), "{body}");
    assert!(body.contains("Reply “on it”"), "{body}");
    for device in [&a, &b, &c] {
        assert_eq!(missed_events(device), 1, "one alarm on {}", device.user);
    }
}

#[test]
fn when_the_owner_is_gone_the_next_device_in_turn_posts_and_the_rest_do_not() {
    let (a, b, c, mut room, _) = team();
    // B's and C's apps have posted in the room before: each device knows both.
    for device in [&b, &c] {
        for (event, sender) in [("$b-earlier", b.user), ("$c-earlier", c.user)] {
            device
                .db
                .conn()
                .execute(
                    "INSERT INTO team_event_seen (event_id, room_id, sender, seen_at, app)
                     VALUES (?1, ?2, ?3, 0, 1)",
                    params![event, ROOM, sender],
                )
                .unwrap();
        }
    }
    drop(a); // A's device is gone.
    for device in [&b, &c] {
        evaluate(&mut device.db.conn(), at(14, 40), &TeamPosts).unwrap();
    }
    let hold = |device: &Device| -> i64 {
        device
            .db
            .conn()
            .query_row(
                "SELECT hold_ms FROM team_outbox WHERE kind = 'missed'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    let (first, second) = if hold(&b) < hold(&c) {
        (&b, &c)
    } else {
        (&c, &b)
    };
    assert_ne!(hold(&b) / 2000, hold(&c) / 2000, "a turn apart");
    let after = |ms: i64| at(14, 40) + Duration::milliseconds(ms);
    assert_eq!(room.post_from(first, after(hold(first))), 1);
    room.sync(second);
    assert_eq!(room.post_from(second, after(hold(second))), 0);
}

#[test]
fn what_a_member_may_not_say_is_ignored_and_said_on_the_session_page() {
    let (a, b, _c, mut room, id) = team();
    let (b_id, before, _) = mirrored(&b);
    // Vic, a member but not the owner, forges every kind of change for Asha's session.
    let uuid = room.events[0].3[super::FIELD]["session"].clone();
    for (event, extra) in [
        ("checked_in", serde_json::json!({})),
        (
            "extended",
            serde_json::json!({"minutes": 60, "nextDueAt": 9_223_372_036_854_775_807i64}),
        ),
        ("ended", serde_json::json!({})),
        (
            "missed",
            serde_json::json!({"dueAt": at(14, 30).timestamp_millis()}),
        ),
        ("snoozed", serde_json::json!({})),
    ] {
        let mut field = serde_json::json!({"v": 1, "event": event, "session": uuid,
            "at": at(14, 12).timestamp_millis(), "by": "Asha Patel", "how": "app"});
        for (k, v) in extra.as_object().unwrap() {
            field[k] = v.clone();
        }
        room.say(
            "@vic:example.org",
            serde_json::json!({"msgtype": "m.notice", "body": "…", super::FIELD: field}),
            at(14, 12),
        );
    }
    room.sync(&a);
    room.sync(&b);
    for (device, session) in [(&a, id), (&b, b_id)] {
        assert_eq!(next_due(device), before, "{}", device.user);
        let view = checkins::views::detail(&device.db.conn(), session, chrono::Utc::now()).unwrap();
        assert_ne!(view.session.status, checkins::views::Status::Ended);
        let ignored: Vec<String> = view
            .timeline
            .iter()
            .filter(|e| e.event.kind == "ignored")
            .map(|e| e.text.clone())
            .collect();
        assert!(
            ignored
                .iter()
                .any(|t| t
                    == "A change from vic was ignored: only asha's devices can end this session."),
            "{}: {ignored:?}",
            device.user
        );
        assert!(
            view.timeline.iter().all(|e| !e.text.contains("Asha Patel")),
            "a name carried in a post is never shown as the sender"
        );
    }
    // Vic's "missed" is news only: no device raised an alarm for it.
    assert!(alarm_kinds(&a).is_empty() && alarm_kinds(&b).is_empty());
}

#[test]
fn an_acknowledgement_from_one_member_stops_the_alarm_everywhere() {
    let (a, b, c, mut room, _) = team();
    for device in [&a, &b, &c] {
        evaluate(&mut device.db.conn(), at(14, 40), &TeamPosts).unwrap();
    }
    let (c_id, _, _) = mirrored(&c);
    checkins::acknowledge(
        &mut c.db.conn(),
        c_id,
        at(14, 42),
        &Actor::here(),
        &TeamPosts,
    )
    .unwrap();
    room.post_from(&c, at(14, 42));
    room.sync(&a);
    room.sync(&b);
    for device in [&a, &b, &c] {
        assert!(alarm_kinds(device).is_empty(), "{}", device.user);
    }
    assert_eq!(
        room.events.last().unwrap().3["body"],
        "cat is dealing with the missed check-in for Ward 3."
    );
}

#[test]
fn volunteers_check_in_from_chat_say_on_it_and_help_raises_the_alarm() {
    let (a, b, _c, mut room, _) = team();
    evaluate(&mut a.db.conn(), at(14, 25), &TeamPosts).unwrap();
    room.post_from(&a, at(14, 25));
    let reminder = room.events.last().unwrap().0.clone();
    assert!(room.events.last().unwrap().3["body"]
        .as_str()
        .unwrap()
        .starts_with("⏰ Ward 3: Asha and Ben, your check-in is due at 14:30."));
    room.sync(&b);

    // Ben (a participant, on Element) replies "ok" to the reminder.
    room.say(
        "@ben:example.org",
        serde_json::json!({
            "msgtype": "m.text", "body": "> <@asha:example.org> ⏰ reminder\n\nok",
            "m.relates_to": { "m.in_reply_to": { "event_id": reminder } }
        }),
        at(14, 27),
    );
    room.sync(&a);
    room.sync(&b);
    for device in [&a, &b] {
        let (by, via, due): (String, String, i64) = device.db.conn().query_row(
            "SELECT e.by_whom, e.via, s.next_due_at FROM checkin_event e JOIN checkin_session s ON s.id = e.session_id
             WHERE e.kind = 'checked_in' ORDER BY e.id DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap();
        assert_eq!((by.as_str(), via.as_str()), ("@ben:example.org", "chat"));
        assert_eq!(due, at(14, 57).timestamp_millis());
    }
    // The device that started the session confirms in the room, once.
    assert_eq!(room.post_from(&a, at(14, 27)), 1);
    assert_eq!(room.post_from(&b, at(14, 27)), 0);
    assert!(room.events.last().unwrap().3["body"]
        .as_str()
        .unwrap()
        .contains("ben checked in (from chat)"));

    // A 👍 on a reminder checks in too; someone not out on the session changes nothing.
    room.say(
        "@stranger:example.org",
        serde_json::json!({"msgtype": "m.text", "body": "OK"}),
        at(14, 50),
    );
    room.say("@ben:example.org", serde_json::json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": reminder, "key": "👍"}}), at(14, 52));
    room.sync(&b);
    assert_eq!(next_due(&b), at(15, 22).timestamp_millis());

    // "HELP" from Ben: every device raises the help alarm at once.
    room.say(
        "@ben:example.org",
        serde_json::json!({"msgtype": "m.text", "body": "HELP"}),
        at(14, 55),
    );
    room.sync(&a);
    room.sync(&b);
    for device in [&a, &b] {
        let open = alarms::open(&device.db.conn()).unwrap();
        assert_eq!(
            open.iter().map(|a| a.kind).collect::<Vec<_>>(),
            [AlarmKind::Help],
            "{}",
            device.user
        );
        assert_eq!(open[0].summary, "Asha and Ben asked for help");
    }
    room.post_from(&a, at(14, 55));
    let help = room.events.last().unwrap().3.clone();
    assert_eq!(help["m.mentions"]["room"], true);
    assert_eq!(wire::read(&help).unwrap().event, WireKind::Help);
    // A volunteer replies "on it" to the alarm: it is acknowledged everywhere.
    let help_id = room.events.last().unwrap().0.clone();
    room.say(
        "@priya:example.org",
        serde_json::json!({"msgtype": "m.text", "body": "on it",
            "m.relates_to": { "m.in_reply_to": { "event_id": help_id } }}),
        at(14, 56),
    );
    room.sync(&a);
    room.sync(&b);
    for device in [&a, &b] {
        assert!(alarm_kinds(device).is_empty(), "{}", device.user);
    }
    // Nobody checks in after that: the reminder and the missed check-in alarm as such,
    // though the call for help before them was dealt with (a federated team test found the
    // miss silent).
    for device in [&a, &b] {
        // The reminder first (on the owner's device), shown as one; then the miss.
        evaluate(&mut device.db.conn(), at(15, 20), &TeamPosts).unwrap();
        if device.user == a.user {
            assert_eq!(alarm_kinds(device), [AlarmKind::Reminder]);
        }
        evaluate(&mut device.db.conn(), at(15, 50), &TeamPosts).unwrap();
        assert_eq!(alarm_kinds(device), [AlarmKind::Missed], "{}", device.user);
    }
}

#[test]
fn posts_wait_in_order_while_offline_and_go_out_once() {
    let (a, _b, _c, mut room, id) = team();
    checkins::extend(
        &mut a.db.conn(),
        id,
        30,
        at(14, 10),
        &Actor::here(),
        &TeamPosts,
    )
    .unwrap();
    checkins::check_in(
        &mut a.db.conn(),
        id,
        at(14, 20),
        &Actor::Here(checkins::Via::Notification),
        &TeamPosts,
    )
    .unwrap();
    // Not sent yet: both wait, in order.
    let waiting = outbox::ready(&a.db.conn(), at(14, 21)).unwrap();
    assert_eq!(
        waiting.iter().map(|p| p.kind.as_str()).collect::<Vec<_>>(),
        ["extended", "checked_in"]
    );
    assert_ne!(waiting[0].transaction_id(), waiting[1].transaction_id());
    assert_eq!(room.post_from(&a, at(14, 30)), 2);
    assert_eq!(room.post_from(&a, at(14, 31)), 0, "sent once");
    assert!(room.events[2].3["body"]
        .as_str()
        .unwrap()
        .contains("(from a notification)"));
}

/// Joins `device` to the test room's team.
pub(super) fn in_team(device: &Device) {
    device
        .db
        .conn()
        .execute(
            "INSERT INTO team (room_id, name, joined_at) VALUES (?1, 'Ward 3', 0)",
            [ROOM],
        )
        .unwrap();
}

fn doors(device: &Device) -> Vec<String> {
    crate::donotknock::list(&device.db.conn(), at(14, 0))
        .unwrap()
        .iter()
        .map(|e| e.address())
        .collect()
}

#[test]
fn do_not_knock_entries_reach_every_team_device_and_removals_follow() {
    use crate::donotknock::{self, EntryInput};
    let (a, b) = (
        device("@asha:example.org", "AAA"),
        device("@office:example.org", "BBB"),
    );
    let alone = device("@solo:example.org", "SSS");
    for member in [&a, &b] {
        in_team(member);
    }
    let entry = |house: &str| EntryInput {
        house: house.into(),
        street: "Elm Road".into(),
        postcode: "ab1 2cd".into(),
        reason: "aggressive-dog".into(),
        note: "Loose in the garden".into(),
        added_by: "Asha".into(),
        ..EntryInput::default()
    };
    let added = donotknock::add(&a.db.conn(), &entry("14"), at(14, 0), &TeamDoors).unwrap();
    donotknock::add(&alone.db.conn(), &entry("15"), at(14, 0), &TeamDoors).unwrap();
    assert_eq!(
        outbox::waiting(&alone.db.conn()).unwrap(),
        0,
        "no team: nothing posted"
    );

    let mut room = Room::default();
    assert_eq!(room.post_from(&a, at(14, 0)), 1);
    let body = room.events[0].3["body"].as_str().unwrap().to_owned();
    assert_eq!(
        body,
        "🚫 Do not knock: 14 Elm Road, AB1 2CD (Aggressive dog). Added by Asha."
    );
    assert_eq!(room.sync(&b), [Outcome::Changed]);
    assert_eq!(doors(&b), vec!["14 Elm Road, AB1 2CD"]);
    let copy = &crate::donotknock::list(&b.db.conn(), at(14, 0)).unwrap()[0];
    assert_eq!(
        (copy.note.as_str(), copy.added_by.as_str()),
        ("Loose in the garden", "Asha")
    );
    assert_eq!(room.sync(&b), [Outcome::Nothing], "seen once");
    assert_eq!(
        room.sync(&a),
        [Outcome::Nothing],
        "its own post changes nothing"
    );
    assert_eq!(doors(&a).len(), 1);

    donotknock::remove(&a.db.conn(), added.id, at(15, 0), &TeamDoors).unwrap();
    assert_eq!(room.post_from(&a, at(15, 0)), 1);
    room.sync(&b);
    assert!(doors(&b).is_empty(), "taken off everywhere");

    // A post with what the form would refuse is left out.
    let mut bad = room.events[0].3.clone();
    bad[super::register::FIELD]["entries"][0]["postcode"] = "NOT A POSTCODE".into();
    bad[super::register::FIELD]["entries"][0]["uid"] = "other".into();
    room.say("@mallory:example.org", bad, at(16, 0));
    room.sync(&b);
    assert!(doors(&b).is_empty());
}

#[test]
fn a_team_joined_later_is_sent_the_list_kept_so_far_once() {
    use crate::donotknock::{self, EntryInput};
    let (solo, office) = (
        device("@solo:example.org", "SSS"),
        device("@office:example.org", "BBB"),
    );
    in_team(&office);
    for house in ["3", "5"] {
        let entry = EntryInput {
            house: house.into(),
            street: "Mill Lane".into(),
            reason: "asked-not-to-visit".into(),
            added_by: "Sol".into(),
            ..EntryInput::default()
        };
        donotknock::add(&solo.db.conn(), &entry, at(9, 0), &TeamDoors).unwrap();
    }
    assert_eq!(outbox::waiting(&solo.db.conn()).unwrap(), 0, "no team yet");

    super::matrix::teams::remember_team(&solo.db, ROOM, "Ward 3", at(10, 0)).unwrap();
    let mut room = Room::default();
    assert_eq!(
        room.post_from(&solo, at(10, 0)),
        2,
        "one post for both doors, and the device's announcement"
    );
    assert_eq!(
        room.events[0].3["body"],
        "🚫 Do-not-knock list: 2 addresses added."
    );
    assert_eq!(
        room.events[1].3,
        serde_json::json!({"v": 1}),
        "the announcement"
    );
    assert_eq!(room.sync(&office), [Outcome::Changed, Outcome::Nothing]);
    assert_eq!(doors(&office), vec!["3 Mill Lane", "5 Mill Lane"]);

    // Renaming the team (remembered again) does not send the list again.
    super::matrix::teams::remember_team(&solo.db, ROOM, "Ward 3 North", at(11, 0)).unwrap();
    assert_eq!(outbox::waiting(&solo.db.conn()).unwrap(), 0);
    let name: String = solo
        .db
        .conn()
        .query_row("SELECT name FROM team WHERE room_id = ?1", [ROOM], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(name, "Ward 3 North");
}

/// An unreadable post is tied to the running sessions its sender takes part in (as owner or
/// chat member), on the device that started them and on those that track them; never to a
/// session of another room, one that has ended, or by a look-alike id.
#[test]
fn an_unreadable_post_is_tied_to_the_sessions_its_sender_is_out_on() {
    use crate::checkins::shared::out_with;
    let (a, b, _c, _room, id) = team();
    let title = |device: &Device, who: &str| -> Vec<String> {
        out_with(&device.db.reader(), ROOM, who)
            .unwrap()
            .into_iter()
            .map(|session| session.title)
            .collect()
    };
    assert_eq!(title(&a, "@asha:example.org").len(), 1);
    assert_eq!(title(&a, "@ben:example.org").len(), 1);
    assert_eq!(title(&b, "@ben:example.org").len(), 1, "tracked here too");
    for stranger in [
        "@cat:example.org",
        "@ben:example.org ",
        "%",
        "@ben:%",
        "'); DROP TABLE x; --",
        "",
    ] {
        assert!(title(&a, stranger).is_empty(), "{stranger:?}");
    }
    assert!(
        out_with(&a.db.reader(), "!other:example.org", "@ben:example.org")
            .unwrap()
            .is_empty()
    );
    checkins::end_safely(&mut a.db.conn(), id, at(15, 0), &Actor::here(), &TeamPosts).unwrap();
    assert!(title(&a, "@ben:example.org").is_empty(), "ended");
}

/// While the relay reads its rooms after a start, the scheduler leaves sessions tracked for
/// the team alone (and does not wake for them), but never the device's own.
#[test]
fn tracked_sessions_wait_while_the_rooms_are_read_and_own_ones_never() {
    let (a, b, _c, _room, _id) = team();
    let late = at(14, 41);
    let held =
        crate::checkins::scheduler::evaluate_holding(&mut b.db.conn(), late, &TeamPosts, true)
            .unwrap();
    assert!(held.is_empty());
    assert!(alarm_kinds(&b).is_empty());
    assert_eq!(
        crate::checkins::scheduler::next_wake_holding(&b.db.conn(), late, true).unwrap(),
        None
    );
    // Asha's own session is never held.
    crate::checkins::scheduler::evaluate_holding(&mut a.db.conn(), late, &TeamPosts, true).unwrap();
    assert_eq!(alarm_kinds(&a), [AlarmKind::Missed]);
    // Once the rooms are read (or the wait is over), the tracked session is judged too.
    evaluate(&mut b.db.conn(), late, &TeamPosts).unwrap();
    assert_eq!(alarm_kinds(&b), [AlarmKind::Missed]);

    // The handle keeps the wait it is told of, and drops it when told the rooms are read.
    let handle = crate::checkins::runner::SchedulerHandle::default();
    use crate::changes::{Changed, Listener};
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    handle.heard(&Changed::TeamReading { until: Some(until) });
    assert!(handle
        .tracked_wait()
        .is_some_and(|left| left.as_secs() <= 30));
    handle.heard(&Changed::TeamReading { until: None });
    assert_eq!(handle.tracked_wait(), None);
    handle.heard(&Changed::TeamReading {
        until: Some(std::time::Instant::now()),
    });
    assert_eq!(handle.tracked_wait(), None, "a wait already over is none");
}
