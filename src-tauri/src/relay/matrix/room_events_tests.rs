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
