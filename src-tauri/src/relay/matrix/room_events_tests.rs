//! What the relay hears of an event, from its raw JSON.

use super::*;
use matrix_sdk::ruma::serde::Raw;

fn event(json: Value) -> TimelineEvent {
    TimelineEvent::from_plaintext(Raw::new(&json).expect("json").cast_unchecked())
}

/// A duplicate "missed" post taken back before this device synced comes as an encrypted
/// event with no content; unless it is noted as read, a later gap is filled past it and
/// the device counts one post fewer than the others.
#[test]
fn a_post_taken_back_before_it_was_read_is_still_heard() {
    let redacted = event(serde_json::json!({
        "type": "m.room.encrypted", "event_id": "$gone", "sender": "@ben:example.org",
        "origin_server_ts": 1_700_000_000_000_i64, "content": {},
        "unsigned": { "redacted_because": { "type": "m.room.redaction" } },
    }));
    let taken_back = heard(&redacted, "@ann:example.org", "ANNDEVICE").expect("heard");
    assert_eq!(taken_back.event_id, "$gone");
    assert!(matches!(taken_back.kind, HeardKind::Other));
    // A reaction taken back has lost what it reacted to: still heard, applied as nothing.
    let reaction = event(serde_json::json!({
        "type": "m.reaction", "event_id": "$r", "sender": "@ben:example.org",
        "origin_server_ts": 1_700_000_000_000_i64, "content": {},
    }));
    let heard_reaction = heard(&reaction, "@ann:example.org", "ANNDEVICE");
    assert!(matches!(
        heard_reaction.map(|h| h.kind),
        Some(HeardKind::Other)
    ));
}

/// Without an id, a sender or a time there is nothing to note it by.
#[test]
fn an_event_without_an_id_sender_or_time_is_not_heard() {
    for missing in ["event_id", "sender", "origin_server_ts"] {
        let mut json = serde_json::json!({
            "type": "m.room.message", "event_id": "$x", "sender": "@ben:example.org",
            "origin_server_ts": 1_700_000_000_000_i64, "content": { "body": "hi" },
        });
        json.as_object_mut().expect("object").remove(missing);
        assert!(
            heard(&event(json), "@ann:example.org", "D").is_none(),
            "{missing}"
        );
    }
}

/// Any member can post anything: every field of an event tried with extreme values and wrong
/// types. Nothing panics; an event with no usable id, sender or time is not heard, and one of
/// no kind the relay applies is heard only as `Other`.
#[test]
fn hostile_events_are_heard_as_nothing_or_as_other_and_never_panic() {
    let huge = "x".repeat(1_000_000);
    let base = serde_json::json!({
        "type": "m.room.message", "event_id": "$x", "sender": "@mallory:example.org",
        "origin_server_ts": 1_700_000_000_000_i64, "content": { "body": "hi" },
    });
    let with = |field: &str, value: Value| {
        let mut json = base.clone();
        json[field] = value;
        event(json)
    };
    let not_heard = [
        with("origin_server_ts", serde_json::json!(i64::MAX)),
        with("origin_server_ts", serde_json::json!(i64::MIN)),
        with("origin_server_ts", serde_json::json!(u64::MAX)),
        with("origin_server_ts", serde_json::json!(1.5e300)),
        with("origin_server_ts", serde_json::json!("1700000000000")),
        with("sender", serde_json::json!(42)),
        with("sender", Value::Null),
        with("event_id", serde_json::json!(["$x"])),
    ];
    for hostile in &not_heard {
        assert!(
            heard(hostile, "@ann:example.org", "D").is_none(),
            "{:?}",
            hostile.raw()
        );
    }
    let only_noted = [
        with("type", serde_json::json!(huge.clone())),
        with("type", serde_json::json!(7)),
        // A reaction whose target and key are of the wrong types.
        event(serde_json::json!({
            "type": "m.reaction", "event_id": "$r", "sender": "@mallory:example.org",
            "origin_server_ts": 0,
            "content": { "m.relates_to": { "event_id": 1, "key": ["👍"] } },
        })),
        // Live location with no state key.
        event(serde_json::json!({
            "type": "m.beacon_info", "event_id": "$b", "sender": "@mallory:example.org",
            "origin_server_ts": -1, "content": { "live": true },
        })),
    ];
    for hostile in &only_noted {
        let heard = heard(hostile, "@ann:example.org", "D");
        assert!(
            matches!(heard.as_ref().map(|h| &h.kind), Some(HeardKind::Other)),
            "{:?}: {heard:?}",
            hostile.raw()
        );
    }
    // A message whose content is not an object is heard as one: the rules that apply it
    // find nothing in it (relay::hostile_tests).
    for content in [
        serde_json::json!("not an object"),
        Value::Null,
        serde_json::json!([1, 2]),
    ] {
        let odd = with("content", content);
        assert!(
            heard(&odd, "@ann:example.org", "D").is_some(),
            "{:?}",
            odd.raw()
        );
    }
    // Claiming to be this device's own post without its keys or transaction id: not own.
    let forged = event(serde_json::json!({
        "type": "m.room.message", "event_id": "$f", "sender": "@ann:example.org",
        "origin_server_ts": 1_700_000_000_000_i64, "content": { "body": "HELP" },
        "device_id": "ANNDEVICE",
    }));
    assert!(
        !heard(&forged, "@ann:example.org", "ANNDEVICE")
            .expect("heard")
            .own
    );
    // A huge body is heard as a message; what it says is for the rules that apply it.
    let long = with("content", serde_json::json!({ "body": huge }));
    assert!(matches!(
        heard(&long, "@ann:example.org", "D").map(|h| h.kind),
        Some(HeardKind::Message(_))
    ));
}
