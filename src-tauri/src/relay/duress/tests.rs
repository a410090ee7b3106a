//! The duress word and the duress PIN between devices, as the room carries them: the word
//! reaches every app device hidden, a check-in using it looks normal in the room and raises
//! the silent alarm everywhere but on the sender's own devices, and nothing visible ever says
//! "duress". Hostile words and signals change nothing.

use chrono::DateTime;
use rusqlite::params;
use serde_json::{json, Value};

use super::*;
use crate::alarms::{self, AlarmKind};
use crate::relay::outbox::TeamPosts;
use crate::relay::tests::{alarm_kinds, at, device, in_team, mirrored, team, Device};

const ROOM: &str = "!team:example.org";

fn from<'a>(
    event_id: &'a str,
    sender: &'a str,
    name: &'a str,
    when: DateTime<Utc>,
) -> Incoming<'a> {
    Incoming {
        room_id: ROOM,
        event_id,
        sender,
        sender_name: name,
        at: when,
        own: false,
    }
}

/// What `device` has queued of `kind`, as it would go to the room.
fn queued(device: &Device, kind: &str) -> Vec<Value> {
    device
        .db
        .conn()
        .prepare("SELECT content FROM team_outbox WHERE kind = ?1 ORDER BY id")
        .unwrap()
        .query_map([kind], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|c| serde_json::from_str(&c.unwrap()).unwrap())
        .collect()
}

/// Every visible post `device` has queued (m.room.message bodies).
fn visible(device: &Device) -> Vec<String> {
    device
        .db
        .conn()
        .prepare("SELECT content FROM team_outbox WHERE kind NOT IN ('duress', 'duress_word', 'presence', 'head')")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|c| serde_json::from_str::<Value>(&c.unwrap()).unwrap()["body"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn a_duress_word_is_one_word_people_would_not_say_anyway() {
    assert_eq!(
        checked_word("  Pineapple ").unwrap().as_deref(),
        Some("pineapple")
    );
    assert_eq!(checked_word("").unwrap(), None);
    assert_eq!(
        checked_word("Äpfelbaum").unwrap().as_deref(),
        Some("äpfelbaum")
    );
    for refused in [
        "ok",
        "abc",
        "okay",
        "SAFE",
        "help",
        "two words",
        "pine4pple",
        "pine-apple",
        "x\u{0}yzw",
        &"a".repeat(31),
        "🍍🍍🍍🍍",
    ] {
        let error = checked_word(refused).unwrap_err();
        assert!(
            error.to_string().starts_with("Duress word: "),
            "{refused}: {error}"
        );
        assert_eq!(crate::error::ErrorCode::field(&error), Some("duressWord"));
    }
}

#[test]
fn a_check_in_with_the_word_looks_normal_in_the_room_and_raises_the_silent_alarm() {
    let (a, b, c, mut room, a_id) = team();
    // The office sets the word; it goes hidden to the others.
    set_word(&mut b.db.conn(), ROOM, Some("pineapple"), at(14, 2)).unwrap();
    let sent = queued(&b, "duress_word");
    assert_eq!(sent, [json!({ "v": 1, "word": "pineapple" })]);
    assert!(visible(&b).iter().all(|body| !body.contains("pineapple")));
    for device in [&a, &c] {
        let outcome = note_word(
            &mut device.db.conn(),
            &from("$word", "@office:example.org", "office", at(14, 2)),
            &sent[0],
        );
        assert_eq!(outcome.unwrap(), Outcome::Changed);
        assert_eq!(
            word_of(&device.db.conn(), ROOM).unwrap().word.as_deref(),
            Some("pineapple")
        );
    }
    // Ben, out on Ward 3, checks in from his phone with the word.
    room.say(
        "@ben:example.org",
        json!({ "msgtype": "m.text", "body": "ok Pineapple, all fine" }),
        at(14, 10),
    );
    // Ben's own laptop (same account) hears it too, and stays silent.
    let ben = device("@ben:example.org", "BEN");
    in_team(&ben);
    room.sync(&ben);
    for device in [&a, &b, &c] {
        room.sync(device);
        let kinds = alarm_kinds(device);
        assert_eq!(kinds, [AlarmKind::Duress], "{}", device.user);
        let alarm = alarms::open(&device.db.conn()).unwrap().remove(0);
        assert_eq!(alarm.summary, "Silent alarm: ben (Ward 3)");
        assert!(
            alarm
                .body
                .contains("checked in from chat with the team's duress word"),
            "{}",
            alarm.body
        );
        assert!(alarm
            .notice()
            .body
            .contains("Do not reply in the team room"));
    }
    // The check-in counted as any other; the room gets the owner's normal confirmation.
    assert_eq!(
        crate::relay::tests::next_due(&a),
        at(14, 40).timestamp_millis()
    );
    room.post_from(&a, at(14, 11));
    let confirmation = room.events.last().unwrap().3["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        confirmation.starts_with("✅ Ward 3: ben checked in (from chat)"),
        "{confirmation}"
    );
    for device in [&a, &b, &c] {
        for body in visible(device) {
            assert!(
                !body.to_lowercase().contains("duress") && !body.contains("pineapple"),
                "{body}"
            );
        }
    }
    let ben_sessions: i64 = ben
        .db
        .conn()
        .query_row(
            "SELECT count(*) FROM checkin_session WHERE duress_at IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ben_sessions, 0, "nothing of it on the sender's own devices");

    // The office deals with it: the others hear it hidden, and their alarm goes too.
    let (b_id, ..) = mirrored(&b);
    crate::checkins::acknowledge_duress(
        &mut b.db.conn(),
        b_id,
        at(14, 12),
        &Actor::here(),
        &TeamPosts,
    )
    .unwrap();
    assert!(alarm_kinds(&b).is_empty());
    let signal = queued(&b, "duress");
    assert_eq!(signal[0]["action"], "acknowledged");
    assert!(
        visible(&b)
            .iter()
            .all(|body| !body.contains("dealing with")),
        "{:?}",
        visible(&b)
    );
    for device in [&a, &c] {
        let outcome = apply_signal(
            &mut device.db.conn(),
            &from("$ack", "@office:example.org", "office", at(14, 12)),
            &signal[0],
            at(14, 12),
        );
        assert_eq!(outcome.unwrap(), Outcome::Changed, "{}", device.user);
        assert!(alarm_kinds(device).is_empty(), "{}", device.user);
    }
    let said: Vec<String> = crate::checkins::views::detail(&a.db.conn(), a_id, at(14, 13))
        .unwrap()
        .timeline
        .iter()
        .map(|e| e.text.clone())
        .collect();
    assert!(
        said.contains(&"Silent alarm: ben signalled duress".to_owned()),
        "{said:?}"
    );
    assert!(
        said.contains(&"office is dealing with the silent alarm".to_owned()),
        "{said:?}"
    );
}

#[test]
fn the_word_from_someone_not_out_on_it_or_a_hostile_word_raises_nothing() {
    let (a, _b, _c, mut room, _id) = team();
    set_word(&mut a.db.conn(), ROOM, Some("pineapple"), at(14, 2)).unwrap();
    room.say(
        "@mallory:example.org",
        json!({ "msgtype": "m.text", "body": "ok pineapple" }),
        at(14, 5),
    );
    room.say(
        "@ben:example.org",
        json!({ "msgtype": "m.text", "body": "pineapples are nice" }),
        at(14, 6),
    );
    room.sync(&a);
    assert!(alarm_kinds(&a).is_empty());
    // Words no app sets: refused, the known word stays; an older word does not win.
    for (n, content) in [
        json!({ "word": "ok" }),
        json!({ "word": 42 }),
        json!({ "word": ["pineapple"] }),
        json!({ "word": "x".repeat(100_000) }),
        json!({ "word": "two words" }),
        json!({}),
        json!({ "word": "mango" }),
    ]
    .iter()
    .enumerate()
    {
        let event = format!("$hostile{n}");
        let when = if n == 6 { at(14, 1) } else { at(14, 3) };
        note_word(
            &mut a.db.conn(),
            &from(&event, "@cat:example.org", "cat", when),
            content,
        )
        .unwrap();
    }
    let known = word_of(&a.db.conn(), ROOM).unwrap();
    assert_eq!(known.word.as_deref(), Some("pineapple"));
    assert_eq!(known.set_by.as_deref(), Some("@asha:example.org"));
    // Cleared by a member later: the Team screen says who did it.
    note_word(
        &mut a.db.conn(),
        &from("$clear", "@cat:example.org", "cat", at(14, 20)),
        &json!({ "word": null }),
    )
    .unwrap();
    let known = word_of(&a.db.conn(), ROOM).unwrap();
    assert_eq!(
        (known.word, known.set_by.as_deref()),
        (None, Some("@cat:example.org"))
    );
}

#[test]
fn the_duress_pin_tells_the_team_and_not_this_device() {
    let (a, _b, c, _room, _id) = team();
    assert_eq!(signal_pin(&mut a.db.conn(), at(14, 7)).unwrap(), 1);
    assert!(
        alarm_kinds(&a).is_empty(),
        "nothing shows where the PIN was typed"
    );
    let signal = queued(&a, "duress");
    assert_eq!(signal[0]["action"], "raised");
    let outcome = apply_signal(
        &mut c.db.conn(),
        &from("$pin", "@asha:example.org", "Asha", at(14, 7)),
        &signal[0],
        at(14, 7),
    );
    assert_eq!(outcome.unwrap(), Outcome::Changed);
    let alarm = alarms::open(&c.db.conn()).unwrap().remove(0);
    assert_eq!(alarm.kind, AlarmKind::Duress);
    assert!(
        alarm.body.contains("Asha entered their duress PIN"),
        "{}",
        alarm.body
    );
    // Forged or unknown signals change nothing.
    for (n, content) in [
        json!({ "action": "raised", "session": "no-such-session" }),
        json!({ "action": "raised" }),
        json!({ "action": "explode", "session": signal[0]["session"] }),
        json!({ "action": 7, "session": 7 }),
    ]
    .iter()
    .enumerate()
    {
        let event = format!("$forged{n}");
        let outcome = apply_signal(
            &mut c.db.conn(),
            &from(&event, "@asha:example.org", "Asha", at(14, 8)),
            content,
            at(14, 8),
        );
        assert_eq!(outcome.unwrap(), Outcome::Nothing, "{content}");
    }
    // From someone not out on it, a raised signal is refused.
    let mallory = apply_signal(
        &mut c.db.conn(),
        &from("$m", "@mallory:example.org", "mallory", at(14, 9)),
        &json!({ "action": "raised", "session": signal[0]["session"] }),
        at(14, 9),
    );
    assert_eq!(mallory.unwrap(), Outcome::Nothing);
    let count: i64 =
        c.db.conn()
            .query_row(
                "SELECT count(*) FROM checkin_event WHERE kind = 'duress'",
                params![],
                |r| r.get(0),
            )
            .unwrap();
    assert_eq!(count, 1);
    // Missed as well: both alarms stand, and dealing with the silent one leaves the other.
    crate::checkins::scheduler::evaluate(&mut c.db.conn(), at(14, 41), &TeamPosts).unwrap();
    assert_eq!(alarm_kinds(&c), [AlarmKind::Duress, AlarmKind::Missed]);
    let (c_id, ..) = mirrored(&c);
    crate::checkins::acknowledge_duress(
        &mut c.db.conn(),
        c_id,
        at(14, 42),
        &Actor::here(),
        &TeamPosts,
    )
    .unwrap();
    assert_eq!(alarm_kinds(&c), [AlarmKind::Missed]);
}
