//! The record's head against a history rewritten with the record's own key (issue 24, 4).

use chrono::Duration;
use rusqlite::params;

use super::chain::{genesis, link_hash, verify_all};
use super::head::{record_head, rewritten_since, WitnessedHead};
use super::signing::DeviceKey;
use super::tests::{input, now};
use super::{amend, attachments::AttachmentStore, record};
use crate::storage::Database;

fn log() -> (tempfile::TempDir, Database, AttachmentStore) {
    let dir = tempfile::tempdir().unwrap();
    let key = crate::vault::DataKey::generate().unwrap();
    let db = Database::open_in(dir.path(), &key).unwrap();
    let files = AttachmentStore::new(dir.path(), &key);
    (dir, db, files)
}

fn witnessed(db: &Database, at: chrono::DateTime<chrono::Utc>, by: &str) -> WitnessedHead {
    let head = record_head(&db.conn(), at).unwrap();
    WitnessedHead {
        versions: head.versions,
        hash: head.hash,
        at,
        by: by.into(),
    }
}

/// Rewrites every version of the incident `id` from `words` to `instead`, rehashing the
/// chain and signing it again with this record's own device key: what someone holding the
/// record's key could do, and what "Check the record" alone cannot see.
fn rewrite_with_own_key(db: &Database, id: &str, words: &str, instead: &str) {
    let conn = db.conn();
    let device = DeviceKey::load(&conn).unwrap().expect("a device key");
    let num: i64 = conn
        .query_row("SELECT num FROM incident WHERE id = ?1", [id], |r| r.get(0))
        .unwrap();
    let versions: Vec<(i64, String)> = conn
        .prepare(
            "SELECT version, body FROM incident_version WHERE incident_num = ?1 ORDER BY version",
        )
        .unwrap()
        .query_map([num], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut prev = genesis(id);
    for (version, body) in versions {
        let body = body.replace(words, instead);
        let hash = link_hash(&prev, &body);
        conn.execute(
            "UPDATE incident_version SET body = ?1, prev_hash = ?2, hash = ?3, signature = ?4
             WHERE incident_num = ?5 AND version = ?6",
            params![body, prev, hash, device.sign(&hash), num, version],
        )
        .unwrap();
        prev = hash;
    }
    // The list and search, redone from the new last version as the app itself does.
    super::refresh_current(&conn, num).unwrap();
}

#[test]
fn an_honest_record_gives_every_head_it_gave_however_much_is_added_since() {
    let (_dir, db, files) = log();
    let first = record(&mut db.conn(), &input("Leaflets torn up"), now()).unwrap();
    let noted = witnessed(&db, now(), "Vic");
    assert_eq!(noted.versions, 1);
    // Later: an amendment, and a new incident.
    amend(
        &mut db.conn(),
        &first,
        &input("Leaflets torn up and thrown"),
        "More",
        now() + Duration::hours(1),
    )
    .unwrap();
    record(
        &mut db.conn(),
        &input("Shouted at"),
        now() + Duration::hours(2),
    )
    .unwrap();
    assert!(rewritten_since(&db.conn(), std::slice::from_ref(&noted))
        .unwrap()
        .is_empty());
    let later = record_head(&db.conn(), now() + Duration::hours(3)).unwrap();
    assert_eq!(later.versions, 3);
    assert_ne!(later.hash, noted.hash);
    assert_eq!(later.short.len(), 19, "{}", later.short);
    assert!(verify_all(&db.conn(), &files).unwrap().problems.is_empty());
}

#[test]
fn a_history_rewritten_with_the_record_s_own_key_after_its_head_was_witnessed_is_caught() {
    let (_dir, db, files) = log();
    let id = record(&mut db.conn(), &input("Leaflets torn up"), now()).unwrap();
    amend(
        &mut db.conn(),
        &id,
        &input("Leaflets torn up again"),
        "Again",
        now() + Duration::minutes(5),
    )
    .unwrap();
    let noted = witnessed(&db, now() + Duration::minutes(10), "Vic");

    rewrite_with_own_key(&db, &id, "Leaflets torn up", "Nothing happened");
    // The chain holds and every signature is this record's own: the check alone sees nothing.
    let report = verify_all(&db.conn(), &files).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    // The head Vic saw does not come out of it any more.
    let found = rewritten_since(&db.conn(), &[noted]).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("the head Vic saw on"), "{}", found[0]);
    assert!(
        found[0].contains("its history was changed after that"),
        "{}",
        found[0]
    );
}

#[test]
fn a_witnessed_head_with_extreme_values_is_simply_not_matched() {
    let (_dir, db, _files) = log();
    record(&mut db.conn(), &input("Leaflets torn up"), now()).unwrap();
    let at = now();
    let hostile = [
        WitnessedHead {
            versions: -1,
            hash: String::new(),
            at,
            by: "x".into(),
        },
        WitnessedHead {
            versions: i64::MAX,
            hash: "z".repeat(100_000),
            at,
            by: "\u{1b}[2J".into(),
        },
        WitnessedHead {
            versions: 1,
            hash: "0".repeat(64),
            at: chrono::DateTime::<chrono::Utc>::MIN_UTC,
            by: "y".into(),
        },
    ];
    let found = rewritten_since(&db.conn(), &hostile).unwrap();
    assert_eq!(found.len(), 3, "{found:?}");
    // A head from before anything was recorded is the empty record's, and still holds.
    let empty = witnessed(&db, now() - Duration::days(1), "Vic");
    assert_eq!(empty.versions, 0);
    assert!(rewritten_since(&db.conn(), &[empty]).unwrap().is_empty());
}
