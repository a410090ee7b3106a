//! Locations from the room, as a volunteer's phone sends them and as a hostile member might:
//! kept only for the sessions the sender is out on, never later than the server saw them,
//! never older than the session, and shown with their age on the alarm and the missed post.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use super::*;
use crate::checkins::{self, scheduler, views, Actor};
use crate::relay::outbox::TeamPosts;
use crate::relay::tests::{at, team, Device};

const ROOM: &str = "!team:example.org";
const BEN: &str = "@ben:example.org";

fn incoming<'a>(event_id: &'a str, sender: &'a str, when: DateTime<Utc>) -> Incoming<'a> {
    Incoming {
        room_id: ROOM,
        event_id,
        sender,
        sender_name: "Ben",
        at: when,
        own: false,
    }
}

/// What Element sends for a pinned location.
fn pin_content(uri: &str, ts: i64) -> Value {
    json!({
        "msgtype": "m.location",
        "body": "Location",
        "geo_uri": uri,
        "org.matrix.msc3488.location": { "uri": uri, "description": "Shared location" },
        "org.matrix.msc3488.ts": ts,
        "org.matrix.msc3488.asset": { "type": "m.self" },
    })
}

/// `sender`'s pin heard by `device` at `when`: whether it changed anything.
fn hear_pin(device: &Device, id: &str, sender: &str, content: &Value, when: DateTime<Utc>) -> bool {
    let Some(position) = pin(content) else {
        return false;
    };
    apply_location(
        &mut device.db.conn(),
        &incoming(id, sender, when),
        position,
        false,
    )
    .unwrap()
        == Outcome::Changed
}

fn last(device: &Device, session: i64) -> Option<locations::LastLocation> {
    locations::last_known(&device.db.conn(), session).unwrap()
}

#[test]
fn geo_uris_as_phones_send_them_and_as_nobody_should() {
    let fix = geo_uri("geo:51.50123,-0.12345;u=35").unwrap();
    assert_eq!(fix.coordinates(), "51.50123, -0.12345");
    assert_eq!(fix.accuracy_m, Some(35));
    assert_eq!(geo_uri("GEO:51.5,-0.1,12.5").unwrap().accuracy_m, None);
    assert!(
        geo_uri("geo:51.5,-0.1;crs=wgs84;u=12.7")
            .unwrap()
            .accuracy_m
            == Some(13)
    );
    assert_eq!(geo_uri("geo:-90,180;u=-4").unwrap().accuracy_m, None);
    assert_eq!(geo_uri("geo:0,0;u=NaN").unwrap().accuracy_m, None);
    assert_eq!(geo_uri("geo:0,0;u=1e300").unwrap().accuracy_m, None);
    for refused in [
        "geo:91,0",
        "geo:0,181",
        "geo:-90.0001,0",
        "geo:NaN,0",
        "geo:inf,0",
        "geo:1e400,0",
        "geo:51.5",
        "geo:",
        "geo:,",
        "geo:51.5,abc",
        "http://51.5,0.1",
        "51.5,0.1",
        "geo:51.5,-0.1;crs=moon",
        "",
    ] {
        assert_eq!(geo_uri(refused), None, "{refused}");
    }
    let huge = format!("geo:51.5,-0.1;u=5;{}", "x=1;".repeat(100_000));
    assert_eq!(geo_uri(&huge), None);
}

#[test]
fn live_location_is_read_under_both_names() {
    let beacon_content = |field: &str, ts: &str| {
        json!({
            "m.relates_to": { "rel_type": "m.reference", "event_id": "$info" },
            field: { "uri": "geo:51.4,-0.2;u=8" },
            ts: 1_764_000_000_000i64,
        })
    };
    for (field, ts) in [
        ("m.location", "m.ts"),
        ("org.matrix.msc3488.location", "org.matrix.msc3488.ts"),
    ] {
        let (fix, declared) = beacon(&beacon_content(field, ts)).unwrap();
        assert_eq!(fix.accuracy_m, Some(8), "{field}");
        assert_eq!(declared.unwrap().timestamp_millis(), 1_764_000_000_000);
    }
    assert!(BEACON_TYPES.contains(&"m.beacon"));
    assert!(BEACON_TYPES.contains(&"org.matrix.msc3672.beacon"));
    let info = beacon_info(&json!({
        "description": "Live location", "live": true, "timeout": 3_600_000,
        "org.matrix.msc3488.ts": 1_764_000_000_000i64, "org.matrix.msc3488.asset": { "type": "m.self" }
    }))
    .unwrap();
    assert!(info.live);
    assert_eq!(info.timeout, Duration::hours(1));
    // A share "for ever" is believed for a day at most; one without a live flag is not read.
    let forever = beacon_info(&json!({ "live": true, "timeout": u64::MAX })).unwrap();
    assert_eq!(forever.timeout, Duration::hours(24));
    assert_eq!(beacon_info(&json!({ "timeout": 5 })), None);
    assert_eq!(beacon_info(&json!({ "live": "yes" })), None);
    assert_eq!(
        pin(&json!({ "msgtype": "m.text", "geo_uri": "geo:1,1" })),
        None
    );
}

#[test]
fn a_members_pin_reaches_the_session_page_the_alarm_and_the_missed_post() {
    let (a, b, _c, mut room, a_id) = team();
    let (b_id, ..) = crate::relay::tests::mirrored(&b);
    let taken = at(14, 20).timestamp_millis();
    let content = pin_content("geo:51.50123,-0.12345;u=35", taken);
    for (device, session) in [(&a, a_id), (&b, b_id)] {
        assert!(hear_pin(device, "$pin", BEN, &content, at(14, 21)));
        let kept = last(device, session).expect("kept");
        assert_eq!(kept.coordinates, "51.50123, -0.12345");
        assert_eq!(kept.accuracy_m, Some(35));
        assert_eq!(
            kept.at,
            at(14, 20),
            "the phone's time, not later than the server's"
        );
        assert_eq!(kept.sender, BEN);
        assert_eq!(kept.geo_uri, "geo:51.50123,-0.12345;u=35");
        assert!(kept
            .map_url
            .starts_with("https://www.openstreetmap.org/?mlat=51.50123&mlon=-0.12345"));
        let page = views::detail(&device.db.conn(), session, at(14, 21)).unwrap();
        assert_eq!(page.session.last_location, Some(kept));
        // Read again (a gap filled twice), it changes nothing.
        assert!(!hear_pin(device, "$pin", BEN, &content, at(14, 21)));
    }
    // The check-in due at 14:30 is missed (10 min grace): the alarm and the post say where.
    scheduler::evaluate(&mut a.db.conn(), at(14, 41), &TeamPosts).unwrap();
    let alarm = crate::alarms::open(&a.db.conn()).unwrap().remove(0);
    assert!(
        alarm.notice().body.contains(
            "Last known location: 51.50123, -0.12345 (within 35 m), from Ben at 14:20, 20 min before the alarm."
        ),
        "{}",
        alarm.notice().body
    );
    assert!(alarm.last_location.is_some());
    room.post_from(&a, at(14, 45));
    let missed = room.events.last().unwrap().3["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(missed.contains("MISSED CHECK-IN"), "{missed}");
    assert!(
        missed.contains("Last known location: 51.50123, -0.12345 (within 35 m), from Ben at 14:20, 21 min before this post: https://www.openstreetmap.org/"),
        "{missed}"
    );
}

#[test]
fn a_location_from_outside_the_session_or_from_before_it_is_not_kept() {
    let (a, _b, _c, _room, id) = team();
    let before_start = pin_content("geo:51,0", at(13, 59).timestamp_millis());
    assert!(!hear_pin(&a, "$old", BEN, &before_start, at(14, 5)));
    let stranger = pin_content("geo:51,0", at(14, 5).timestamp_millis());
    assert!(!hear_pin(
        &a,
        "$stranger",
        "@mallory:example.org",
        &stranger,
        at(14, 5)
    ));
    assert_eq!(last(&a, id), None);
    // A time from the future is the server's instead; an older pin does not replace a newer.
    let future = pin_content("geo:51.1,0", i64::MAX);
    assert!(hear_pin(&a, "$future", BEN, &future, at(14, 10)));
    assert_eq!(last(&a, id).unwrap().at, at(14, 10));
    let older = pin_content("geo:52,0", at(14, 2).timestamp_millis());
    assert!(!hear_pin(&a, "$older", BEN, &older, at(14, 12)));
    assert_eq!(last(&a, id).unwrap().coordinates, "51.10000, 0.00000");
    // After the session ends, nothing more is kept for it.
    checkins::end_safely(&mut a.db.conn(), id, at(14, 20), &Actor::here(), &TeamPosts).unwrap();
    let after = pin_content("geo:53,0", at(14, 25).timestamp_millis());
    assert!(!hear_pin(&a, "$after", BEN, &after, at(14, 25)));
    assert_eq!(last(&a, id).unwrap().coordinates, "51.10000, 0.00000");
}

#[test]
fn hostile_location_contents_change_nothing_and_panic_nowhere() {
    let (a, _b, _c, _room, id) = team();
    let huge = "9".repeat(100_000);
    let hostile = [
        json!({ "msgtype": "m.location" }),
        json!({ "msgtype": "m.location", "geo_uri": 42 }),
        json!({ "msgtype": "m.location", "geo_uri": ["geo:1,1"] }),
        json!({ "msgtype": "m.location", "geo_uri": format!("geo:{huge},1") }),
        json!({ "msgtype": "m.location", "geo_uri": "geo:1e308,1e308" }),
        json!({ "msgtype": "m.location", "m.location": "geo:1,1" }),
        json!({ "msgtype": "m.location", "m.location": { "uri": null } }),
        json!({ "msgtype": "m.location", "geo_uri": "geo:51,0", "m.ts": i64::MIN }),
        json!({ "msgtype": "m.location", "geo_uri": "geo:51,0", "m.ts": "yesterday" }),
        json!({ "msgtype": 7, "geo_uri": "geo:51,0" }),
    ];
    for (n, content) in hostile.iter().enumerate() {
        let event = format!("$hostile{n}");
        hear_pin(&a, &event, BEN, content, at(14, 5));
        if let Some(position) = beacon(content) {
            let _ = apply_location(
                &mut a.db.conn(),
                &incoming(&event, BEN, at(14, 5)),
                position,
                true,
            );
        }
    }
    // Only a place on Earth was kept; "m.ts" far in the past is before the session.
    if let Some(kept) = last(&a, id) {
        assert_eq!(kept.coordinates, "51.00000, 0.00000");
        assert_eq!(kept.at, at(14, 5));
    }
    for content in [
        json!({}),
        json!({ "live": 1 }),
        json!({ "live": true, "timeout": -5 }),
        json!({ "live": true, "timeout": "1h" }),
    ] {
        if let Some(info) = beacon_info(&content) {
            apply_sharing(
                &mut a.db.conn(),
                &incoming("$info-h", BEN, at(14, 5)),
                BEN,
                &info,
            )
            .unwrap();
        }
    }
    let sharing = locations::sharing_now(&a.db.conn(), ROOM, &[BEN.to_owned()], at(14, 6)).unwrap();
    assert!(sharing.is_empty(), "{sharing:?}");
}

#[test]
fn who_shares_live_location_and_until_when() {
    let (a, ..) = team();
    let info = |live: bool, timeout_ms: i64| {
        beacon_info(
            &json!({ "live": live, "timeout": timeout_ms, "m.ts": at(14, 2).timestamp_millis() }),
        )
        .unwrap()
    };
    let people = [BEN.to_owned()];
    let conn = || a.db.conn();
    // Someone else's state key: a forged share is not believed.
    let forged = apply_sharing(
        &mut conn(),
        &incoming("$f", "@mallory:example.org", at(14, 3)),
        BEN,
        &info(true, 3_600_000),
    );
    assert_eq!(forged.unwrap(), Outcome::Nothing);
    assert!(locations::sharing_now(&conn(), ROOM, &people, at(14, 4))
        .unwrap()
        .is_empty());
    apply_sharing(
        &mut conn(),
        &incoming("$s", BEN, at(14, 3)),
        BEN,
        &info(true, 3_600_000),
    )
    .unwrap();
    let now = locations::sharing_now(&conn(), ROOM, &people, at(14, 4)).unwrap();
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].since, at(14, 2));
    // An hour later it has run out; stopped, it is gone at once.
    assert!(locations::sharing_now(&conn(), ROOM, &people, at(15, 3))
        .unwrap()
        .is_empty());
    apply_sharing(
        &mut conn(),
        &incoming("$stop", BEN, at(14, 10)),
        BEN,
        &info(false, 3_600_000),
    )
    .unwrap();
    assert!(locations::sharing_now(&conn(), ROOM, &people, at(14, 11))
        .unwrap()
        .is_empty());
    // Only the session's people are listed.
    apply_sharing(
        &mut conn(),
        &incoming("$s2", BEN, at(14, 12)),
        BEN,
        &info(true, 3_600_000),
    )
    .unwrap();
    assert!(
        locations::sharing_now(&conn(), ROOM, &["@cat:example.org".to_owned()], at(14, 13))
            .unwrap()
            .is_empty()
    );
}
