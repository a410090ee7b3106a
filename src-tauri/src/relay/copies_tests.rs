//! Two devices that could not hear each other (two servers apart, or one offline) both post
//! "missed" for one due time. Each server may give the two copies in its own order; every
//! device must still keep the same one, and only the poster of the other takes it back.

use super::apply::Outcome;
use super::outbox::{self, TeamPosts};
use super::tests::{alarm_kinds, at, mirrored, team, Device, Event, Room};
use crate::alarms::AlarmKind;
use crate::checkins::scheduler::evaluate;
use crate::checkins::{self, Actor};

/// `device`'s "missed" post, as its server would give it back with `event_id` at `when`.
fn missed_post(device: &Device, event_id: &str, when: chrono::DateTime<chrono::Utc>) -> Event {
    let conn = device.db.conn();
    let post = outbox::ready(&conn, at(23, 0))
        .unwrap()
        .into_iter()
        .find(|post| post.kind == "missed")
        .expect("a missed post is queued");
    outbox::mark_sent(&conn, post.id, event_id, when).unwrap();
    (
        event_id.to_owned(),
        device.user,
        Some(device.device_id),
        post.content,
        when,
    )
}

fn redacted(outcomes: &[Outcome]) -> Vec<String> {
    outcomes
        .iter()
        .filter_map(|outcome| match outcome {
            Outcome::Duplicate { redact } => redact.clone(),
            _ => None,
        })
        .collect()
}

/// Ben, out on the session on a plain client (Element), says `body` in the room at `when`.
fn ben_says(room: &mut Room, body: &str, when: chrono::DateTime<chrono::Utc>) {
    room.say(
        "@ben:example.org",
        serde_json::json!({"msgtype": "m.text", "body": body}),
        when,
    );
}

/// Ben calls for help at 14:20; Asha's laptop, the owner's, reads it and posts its copy for
/// the apps at 14:21. The copy is taken out of the room and returned, to be delivered late.
fn help_and_the_owners_copy(room: &mut Room, owner: &Device) -> Event {
    ben_says(room, "HELP", at(14, 20));
    room.sync(owner);
    assert_eq!(room.post_from(owner, at(14, 21)), 1);
    room.events.pop().expect("the owner's copy")
}

/// `device` deals with the call ("I'm dealing with it") at `when`.
fn deal_with_it(device: &Device, when: chrono::DateTime<chrono::Utc>) {
    let (id, _, _) = mirrored(device);
    checkins::acknowledge(&mut device.db.conn(), id, when, &Actor::here(), &TeamPosts).unwrap();
}

#[test]
fn two_copies_of_a_missed_post_in_either_order_keep_the_earlier_everywhere() {
    let (a, b, c, room, _) = team();
    // Due at 14:30 with 10 minutes' grace: at 14:41 Asha's and the office's devices each
    // queue "missed", neither hearing the other.
    for device in [&a, &b] {
        evaluate(&mut device.db.conn(), at(14, 41), &TeamPosts).unwrap();
    }
    let asha_copy = missed_post(&a, "$asha-copy", at(14, 41));
    let office_copy = missed_post(&b, "$office-copy", at(14, 42));
    // Server A gives Asha's first; server B gives the office's first.
    let mut on_a = Room {
        events: room.events.clone(),
    };
    on_a.events.extend([asha_copy.clone(), office_copy.clone()]);
    let mut on_b = Room {
        events: room.events.clone(),
    };
    on_b.events.extend([office_copy, asha_copy]);

    // The office's laptop, on B, sees its own copy first, then Asha's earlier one: it takes
    // its own back. Asha's laptop, on A, takes nothing back; nor does Cat's, in either order.
    assert_eq!(redacted(&on_b.sync(&b)), ["$office-copy"]);
    assert!(redacted(&on_a.sync(&a)).is_empty());
    assert!(redacted(&on_b.sync(&c)).is_empty());
    // Read again, nothing more is taken back.
    assert!(redacted(&on_b.sync(&b)).is_empty());

    // The other way round: had the office's copy been the earlier one, Asha's laptop seeing
    // its own first would take its own back.
    let (a2, b2, _c2, room2, _) = team();
    for device in [&a2, &b2] {
        evaluate(&mut device.db.conn(), at(14, 41), &TeamPosts).unwrap();
    }
    let asha_copy = missed_post(&a2, "$asha-copy", at(14, 43));
    let office_copy = missed_post(&b2, "$office-copy", at(14, 42));
    let mut on_a = Room {
        events: room2.events.clone(),
    };
    on_a.events.extend([asha_copy.clone(), office_copy.clone()]);
    let mut on_b = Room {
        events: room2.events,
    };
    on_b.events.extend([office_copy, asha_copy]);
    assert_eq!(redacted(&on_a.sync(&a2)), ["$asha-copy"]);
    assert!(redacted(&on_b.sync(&b2)).is_empty());
}

#[test]
fn a_call_for_help_relayed_late_from_another_server_does_not_come_back_once_dealt_with() {
    let (a, b, _c, mut room, _) = team();
    // The office is on another server: Ben's message reaches it first, Asha's post only
    // after the office dealt with the call and then saw the next check-in missed.
    let relayed = help_and_the_owners_copy(&mut room, &a);
    room.sync(&b);
    assert_eq!(alarm_kinds(&b), [AlarmKind::Help]);
    deal_with_it(&b, at(14, 22));
    evaluate(&mut b.db.conn(), at(14, 41), &TeamPosts).unwrap();
    assert_eq!(alarm_kinds(&b), [AlarmKind::Missed]);
    room.events.push(relayed);
    room.sync_at(&b, at(14, 42));
    assert_eq!(
        alarm_kinds(&b),
        [AlarmKind::Missed],
        "the old call is not a new one"
    );

    // A new call for help after that one still raises the alarm.
    ben_says(&mut room, "help", at(14, 43));
    room.sync(&b);
    assert_eq!(alarm_kinds(&b), [AlarmKind::Help]);
}

#[test]
fn a_second_call_for_help_after_the_first_was_dealt_with_raises_the_alarm_again() {
    let (_a, b, _c, mut room, _) = team();
    ben_says(&mut room, "HELP", at(14, 20));
    room.sync(&b);
    deal_with_it(&b, at(14, 21));
    assert!(alarm_kinds(&b).is_empty());
    // Things got worse after "I'm dealing with it": the next call is heard.
    ben_says(&mut room, "help again", at(14, 24));
    room.sync(&b);
    assert_eq!(alarm_kinds(&b), [AlarmKind::Help]);
}

#[test]
fn the_owners_copy_of_a_call_already_dealt_with_does_not_raise_it_again() {
    let (a, b, _c, mut room, _) = team();
    let relayed = help_and_the_owners_copy(&mut room, &a);
    // The office's clock is half a minute slow; it reads Ben's call and deals with it.
    room.sync_at(&b, at(14, 20) - chrono::Duration::seconds(30));
    assert_eq!(alarm_kinds(&b), [AlarmKind::Help]);
    deal_with_it(&b, at(14, 21));
    // Asha's laptop's copy of the same call comes after: nothing is raised again.
    room.events.push(relayed);
    room.sync_at(&b, at(14, 22));
    assert!(alarm_kinds(&b).is_empty(), "the same call, not a new one");
}

#[test]
fn a_call_stamped_minutes_ahead_once_dealt_with_hides_no_real_call_made_in_those_minutes() {
    let (a, b, _c, mut room, _) = team();
    // Ben's server's clock is four minutes fast (or it lies): his call, made at 14:20, is
    // stamped 14:24. The office reads it at 14:20 and deals with it at 14:21.
    ben_says(&mut room, "HELP", at(14, 24));
    room.sync_at(&b, at(14, 20));
    assert_eq!(alarm_kinds(&b), [AlarmKind::Help]);
    deal_with_it(&b, at(14, 21));
    assert!(alarm_kinds(&b).is_empty());
    // Asha, on a server whose clock is right, calls for help at 14:22 from her phone: a real
    // call, made before Ben's stamp but after the office heard his. It is raised.
    room.say(
        a.user,
        serde_json::json!({"msgtype": "m.text", "body": "help"}),
        at(14, 22),
    );
    room.sync_at(&b, at(14, 22));
    assert_eq!(
        alarm_kinds(&b),
        [AlarmKind::Help],
        "a real call is not taken for the one stamped ahead"
    );

    // Asha's laptop's copy of Ben's call, carrying his stamp, is still the same call.
    deal_with_it(&b, at(14, 23));
    room.sync_at(&a, at(14, 22));
    assert_eq!(room.post_from(&a, at(14, 24)), 1);
    room.sync_at(&b, at(14, 24));
    assert!(
        alarm_kinds(&b).is_empty(),
        "a copy of a call already heard raises nothing"
    );
}

#[test]
fn a_call_for_help_claiming_a_time_before_its_session_or_far_ahead_is_dated_within_it() {
    for claimed in [-2_208_988_800_000i64, i64::MIN, 0, 4_102_444_800_000] {
        let (a, b, _c, mut room, _) = team();
        let mut relayed = help_and_the_owners_copy(&mut room, &a);
        relayed.3[super::FIELD]["at"] = serde_json::json!(claimed);
        // The office has not read Ben's message: only the copy, with its claimed time.
        room.events.retain(|event| event.1 != "@ben:example.org");
        room.events.push(relayed);
        room.sync_at(&b, at(14, 22));
        assert_eq!(alarm_kinds(&b), [AlarmKind::Help], "claimed {claimed}");
        let (id, _, _) = mirrored(&b);
        let calls: Vec<_> = checkins::timeline(&b.db.conn(), id)
            .unwrap()
            .into_iter()
            .filter(|event| event.kind == "help")
            .map(|event| event.at)
            .collect();
        assert_eq!(calls.len(), 1, "claimed {claimed}");
        assert!(
            calls[0] >= at(14, 0) && calls[0] <= at(14, 22) + checkins::change::CLOCK_SLACK,
            "claimed {claimed}: dated {}",
            calls[0]
        );
    }
}
