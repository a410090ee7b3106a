//! Heads posted by members, as a hostile member might post them, and the coalescing of this
//! device's own.

use chrono::Duration;
use rusqlite::params;
use serde_json::{json, Value};

use super::{note, queue_head, read, rewritten_record};
use crate::incidents::head::signed_head;
use crate::incidents::tests::{input, now};
use crate::relay::apply::Incoming;
use crate::relay::tests::{device, in_team, Device};

fn incoming<'a>(event_id: &'a str, sender: &'a str, own: bool) -> Incoming<'a> {
    Incoming {
        room_id: "!team:example.org",
        event_id,
        sender,
        sender_name: "someone",
        at: now(),
        own,
    }
}

fn seen(device: &Device) -> i64 {
    device
        .db
        .conn()
        .query_row("SELECT count(*) FROM record_head_seen", [], |r| r.get(0))
        .unwrap()
}

fn with_a_record(user: &'static str, id: &'static str) -> Device {
    let device = device(user, id);
    in_team(&device);
    crate::incidents::record(&mut device.db.conn(), &input("Leaflets torn up"), now()).unwrap();
    device
}

#[test]
fn a_posted_head_is_kept_only_if_well_formed_and_signed_by_the_key_it_names() {
    let asha = with_a_record("@asha:example.org", "AAA");
    let ben = with_a_record("@ben:example.org", "BBB");
    let head = signed_head(&asha.db.conn(), now()).unwrap().unwrap();
    let honest = json!({ "v": 1, "head": head });
    assert!(read(&honest).is_some());

    let mut forged = honest.clone();
    forged["head"]["versions"] = json!(0);
    let mut other_signer = honest.clone();
    other_signer["head"]["signer"] = json!(crate::incidents::head::own_signer(&ben.db.conn())
        .unwrap()
        .unwrap());
    let hostile: Vec<Value> = vec![
        forged,
        other_signer,
        json!({ "v": 2, "head": head }),
        json!({ "v": "1", "head": head }),
        json!({ "v": 1 }),
        json!({ "v": 1, "head": { "versions": i64::MAX, "hash": "a".repeat(64), "atMs": 0, "signer": "b".repeat(64), "signature": "c".repeat(128) } }),
        json!({ "v": 1, "head": { "versions": -1, "hash": "a", "atMs": i64::MIN, "signer": "x", "signature": "" } }),
        json!({ "v": 1, "head": { "versions": 1, "hash": "é".repeat(32), "atMs": i64::MAX, "signer": "b".repeat(64), "signature": "c".repeat(128) } }),
        json!({ "v": 1, "head": "not an object" }),
        json!([1, 2, 3]),
        json!(null),
        json!("x".repeat(100_000)),
    ];
    for (index, content) in hostile.iter().enumerate() {
        let event = format!("$hostile{index}");
        note(
            &ben.db.conn(),
            &incoming(&event, "@mallory:example.org", false),
            content,
            now(),
        )
        .unwrap();
    }
    assert_eq!(seen(&ben), 0, "nothing hostile was kept");
    note(
        &ben.db.conn(),
        &incoming("$honest", "@asha:example.org", false),
        &honest,
        now(),
    )
    .unwrap();
    // The same event again (a gap filled twice) is kept once.
    note(
        &ben.db.conn(),
        &incoming("$honest", "@asha:example.org", false),
        &honest,
        now(),
    )
    .unwrap();
    assert_eq!(seen(&ben), 1);
}

#[test]
fn this_device_s_heads_wait_their_turn_and_a_rewrite_after_one_was_seen_is_reported() {
    let asha = with_a_record("@asha:example.org", "AAA");
    let head = signed_head(&asha.db.conn(), now()).unwrap().unwrap();
    queue_head(&asha.db.conn(), &head, now()).unwrap();
    // A second change before it went: the same post, brought up to date.
    let later = signed_head(&asha.db.conn(), now() + Duration::minutes(1))
        .unwrap()
        .unwrap();
    queue_head(&asha.db.conn(), &later, now() + Duration::minutes(1)).unwrap();
    let waiting: Vec<(String, i64)> = asha
        .db
        .conn()
        .prepare("SELECT content, not_before FROM team_outbox WHERE kind = 'head'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(waiting.len(), 1);
    assert!(waiting[0].0.contains(&later.signature));
    // Sent; the next change waits five minutes after it.
    asha.db
        .conn()
        .execute(
            "UPDATE team_outbox SET sent_at = ?1 WHERE kind = 'head'",
            [crate::time::to_millis(now())],
        )
        .unwrap();
    queue_head(&asha.db.conn(), &later, now() + Duration::minutes(2)).unwrap();
    let next: i64 = asha
        .db
        .conn()
        .query_row(
            "SELECT not_before FROM team_outbox WHERE kind = 'head' AND sent_at IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(next, crate::time::to_millis(now() + Duration::minutes(5)));

    // Its own post coming back from the room is kept; the record still gives it.
    let content = json!({ "v": 1, "head": head });
    note(
        &asha.db.conn(),
        &incoming("$own", "@asha:example.org", true),
        &content,
        now(),
    )
    .unwrap();
    assert!(rewritten_record(&asha.db.conn()).unwrap().is_empty());
    // Someone holding the record's key rewrites history: the seen head no longer comes out.
    asha.db
        .conn()
        .execute(
            "UPDATE incident_version SET hash = ?1 WHERE version = 1",
            params!["0".repeat(64)],
        )
        .unwrap();
    let found = rewritten_record(&asha.db.conn()).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("your team “Ward 3”"), "{}", found[0]);
}
