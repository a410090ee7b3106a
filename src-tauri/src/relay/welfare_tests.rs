//! A welfare check ("check in now") through the room: the office asks, every device moves the
//! due time the same way, the people out on it are mentioned, and the answer is shown to the
//! one who asked. A check asked while the alarm is already up, or read twice or after the end, moves nothing.

use serde_json::json;

use super::apply::Outcome;
use super::outbox::TeamPosts;
use super::tests::{alarm_kinds, at, mirrored, next_due, team};
use crate::alarms::AlarmKind;
use crate::checkins::{self, scheduler, views, Actor};

#[test]
fn the_office_asks_for_a_check_in_and_sees_it_answered_from_chat() {
    let (a, b, c, mut room, a_id) = team();
    let (b_id, ..) = mirrored(&b);
    // Due at 14:30 with 10 minutes' grace; at 14:05 the office asks.
    checkins::ask_check_in(
        &mut b.db.conn(),
        b_id,
        at(14, 5),
        &Actor::here(),
        &TeamPosts,
    )
    .unwrap();
    assert_eq!(next_due(&b), at(14, 15).timestamp_millis());
    assert_eq!(room.post_from(&b, at(14, 5)), 1);
    let (asked_id, _, _, asked, _) = room.events.last().unwrap().clone();
    assert_eq!(
        asked["body"],
        "⏰ Ward 3: office asks Asha and Ben to check in now. Reply OK (or react 👍) by 14:15 if you are safe."
    );
    assert_eq!(asked["msgtype"], "m.text");
    assert_eq!(asked["m.mentions"]["user_ids"], json!(["@ben:example.org"]));
    for device in [&a, &c] {
        assert_eq!(room.sync(device).last(), Some(&Outcome::Changed));
        assert_eq!(
            next_due(device),
            at(14, 15).timestamp_millis(),
            "{}",
            device.user
        );
    }
    // Every device shows the reminder; Asha's own is worded for her.
    scheduler::evaluate(&mut a.db.conn(), at(14, 6), &TeamPosts).unwrap();
    assert_eq!(alarm_kinds(&a), [AlarmKind::Reminder]);
    let page = views::detail(&b.db.conn(), b_id, at(14, 6)).unwrap();
    let check = page.welfare_check.expect("asked");
    assert_eq!(check.asked_by, "you");
    assert_eq!(check.answer, None);
    let on_a = views::detail(&a.db.conn(), a_id, at(14, 6)).unwrap();
    assert_eq!(on_a.welfare_check.unwrap().asked_by, "office");

    // Ben answers "ok" to the ask: every device sees the check-in, and the office the answer.
    room.say(
        "@ben:example.org",
        json!({ "msgtype": "m.text", "body": "ok",
                "m.relates_to": { "m.in_reply_to": { "event_id": asked_id } } }),
        at(14, 8),
    );
    for device in [&a, &b, &c] {
        room.sync(device);
        assert_eq!(
            next_due(device),
            at(14, 38).timestamp_millis(),
            "{}",
            device.user
        );
    }
    let page = views::detail(&b.db.conn(), b_id, at(14, 9)).unwrap();
    let check = page.welfare_check.unwrap();
    assert_eq!(check.answer.as_deref(), Some("ben checked in from chat"));
    assert!(check.answered_at_local.unwrap().ends_with("14:08"));
}

#[test]
fn nobody_answers_and_the_alarm_follows_after_the_grace_period() {
    let (a, b, _c, mut room, _a_id) = team();
    let (b_id, ..) = mirrored(&b);
    checkins::ask_check_in(
        &mut b.db.conn(),
        b_id,
        at(14, 5),
        &Actor::here(),
        &TeamPosts,
    )
    .unwrap();
    room.post_from(&b, at(14, 5));
    room.sync(&a);
    scheduler::evaluate(&mut a.db.conn(), at(14, 26), &TeamPosts).unwrap();
    assert_eq!(alarm_kinds(&a), [AlarmKind::Missed]);
}

#[test]
fn a_check_asked_while_the_alarm_is_up_or_after_the_end_moves_nothing() {
    let (a, b, _c, mut room, a_id) = team();
    // Missed at 14:40; the office asks at 14:45: the alarm stands.
    scheduler::evaluate(&mut a.db.conn(), at(14, 41), &TeamPosts).unwrap();
    assert_eq!(alarm_kinds(&a), [AlarmKind::Missed]);
    let (b_id, ..) = mirrored(&b);
    checkins::ask_check_in(
        &mut b.db.conn(),
        b_id,
        at(14, 45),
        &Actor::here(),
        &TeamPosts,
    )
    .unwrap();
    room.post_from(&b, at(14, 45));
    room.sync_at(&a, at(14, 45));
    assert_eq!(next_due(&a), at(14, 30).timestamp_millis());
    assert_eq!(alarm_kinds(&a), [AlarmKind::Missed]);

    // Read again (a gap filled twice), it changes nothing; after the end, an ask is news to
    // nobody.
    assert!(room
        .sync_at(&a, at(14, 46))
        .iter()
        .all(|o| *o == Outcome::Nothing));
    checkins::end_safely(
        &mut a.db.conn(),
        a_id,
        at(14, 50),
        &Actor::here(),
        &TeamPosts,
    )
    .unwrap();
    let asked_again = room.events.last().unwrap().3.clone();
    room.say("@office:example.org", asked_again, at(14, 55));
    assert_eq!(room.sync_at(&a, at(14, 55)).last(), Some(&Outcome::Nothing));
    assert_eq!(next_due(&a), at(14, 30).timestamp_millis());
}
