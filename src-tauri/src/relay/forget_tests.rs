//! A season's traffic does not pile up: a month on, the posts sent and the events read are
//! forgotten, except what is still asked of them.

use chrono::Duration;

use super::apply;
use super::outbox::{self, TeamPosts};
use super::tests::{alarm_kinds, at, mirrored, team, Device};
use crate::checkins::{self, Actor};

fn count(device: &Device, sql: &str) -> i64 {
    device.db.conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Posts and events forgotten.
fn forget(device: &Device, now: chrono::DateTime<chrono::Utc>) -> (usize, usize) {
    let conn = device.db.conn();
    (
        outbox::forget_old_posts(&conn, now).unwrap(),
        apply::forget_old_events(&conn, now).unwrap(),
    )
}

#[test]
fn a_month_on_old_traffic_is_forgotten_and_reading_it_again_changes_nothing() {
    let (a, b, _c, mut room, id) = team();
    // Ben checks in twice from chat, Asha's laptop posts each, then she ends the session.
    for minute in [20, 22] {
        room.say(
            "@ben:example.org",
            serde_json::json!({"msgtype": "m.text", "body": "ok"}),
            at(14, minute),
        );
        room.sync(&a);
        assert_eq!(room.post_from(&a, at(14, minute)), 1);
    }
    checkins::end_safely(&mut a.db.conn(), id, at(14, 25), &Actor::here(), &TeamPosts).unwrap();
    assert!(room.post_from(&a, at(14, 25)) >= 1);
    room.sync(&b);
    let (mirror, _, _) = mirrored(&b);
    let events_read = count(&b, "SELECT count(*) FROM team_event_seen");
    assert!(events_read >= 3, "{events_read} events read");
    let timeline = checkins::timeline(&b.db.conn(), mirror).unwrap();

    // Within the month nothing goes.
    assert_eq!(forget(&a, at(14, 30) + Duration::days(29)), (0, 0));
    assert_eq!(forget(&b, at(14, 30) + Duration::days(29)), (0, 0));

    // A month on: the sent posts go but the newest of each kind, and the events read but the
    // room's newest (a gap is filled back to it) and Asha's app's newest (her laptop still
    // takes part in reporting missed check-ins).
    let later = at(14, 30) + Duration::days(31);
    assert_eq!(forget(&a, later).0, 1, "the first check-in's post");
    assert!(forget(&b, later).1 > 0);
    assert_eq!(
        count(&a, "SELECT count(*) FROM team_outbox"),
        count(&a, "SELECT count(DISTINCT kind) FROM team_outbox")
    );
    assert!(count(&b, "SELECT count(*) FROM team_event_seen") < events_read);
    assert_eq!(
        count(
            &b,
            "SELECT count(*) FROM team_event_seen WHERE sender = '@asha:example.org' AND app = 1"
        ),
        1
    );
    assert_eq!(forget(&b, later), (0, 0), "nothing more the second time");

    // What was recorded stays; a server that gave the whole room again changes nothing.
    room.sync_at(&b, later);
    assert_eq!(checkins::timeline(&b.db.conn(), mirror).unwrap(), timeline);
    assert!(alarm_kinds(&b).is_empty());
}
