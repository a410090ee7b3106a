use super::*;
use crate::incidents::attachments::AttachmentStore;
use crate::incidents::chain::{link_hash, load_versions, verify_all};
use crate::incidents::pack::{self, Selection};
use crate::incidents::tests::{input, now};
use crate::incidents::{amend, import, record};
use crate::storage::Database;

struct Log {
    dir: tempfile::TempDir,
    db: Database,
    files: AttachmentStore,
}

fn log() -> Log {
    let dir = tempfile::tempdir().unwrap();
    let key = crate::vault::DataKey::generate().unwrap();
    let db = Database::open_in(dir.path(), &key).unwrap();
    let files = AttachmentStore::new(dir.path(), &key);
    Log { dir, db, files }
}

fn problems(log: &Log) -> Vec<String> {
    verify_all(&log.db.conn(), &log.files)
        .unwrap()
        .problems
        .into_iter()
        .map(|p| p.problem)
        .collect()
}

#[test]
fn every_version_is_signed_by_the_device_and_verifies() {
    let log = log();
    let id = record(&mut log.db.conn(), &input("Shouted at the gate"), now()).unwrap();
    amend(
        &mut log.db.conn(),
        &id,
        &input("Shouted and swore at the gate"),
        "More detail",
        now(),
    )
    .unwrap();
    let device = DeviceKey::load(&log.db.conn())
        .unwrap()
        .expect("a device key");
    let num: i64 = log
        .db
        .conn()
        .query_row("SELECT num FROM incident", [], |r| r.get(0))
        .unwrap();
    let versions = load_versions(&log.db.conn(), num).unwrap();
    assert_eq!(versions.len(), 2);
    for version in &versions {
        assert_eq!(
            version.signer.as_deref(),
            Some(device.public_hex().as_str())
        );
        assert!(verifies(
            &device.public_hex(),
            version.signature.as_ref().unwrap(),
            &version.hash
        ));
    }
    assert!(problems(&log).is_empty(), "{:?}", problems(&log));
    let print = fingerprint(&device.public_hex());
    assert_eq!(print.len(), 29, "{print}");
    assert_eq!(print.split(' ').count(), 6, "{print}");
}

#[test]
fn a_chain_rewritten_and_rehashed_without_the_key_is_caught() {
    let log = log();
    record(&mut log.db.conn(), &input("Leaflets torn up"), now()).unwrap();
    let (num, body, prev): (i64, String, String) = log
        .db
        .conn()
        .query_row(
            "SELECT incident_num, body, prev_hash FROM incident_version",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    // Someone with the files but not the key changes the words and fixes the hash up.
    let forged = body.replace("Leaflets torn up", "Nothing happened");
    let rehashed = link_hash(&prev, &forged);
    log.db
        .conn()
        .execute(
            "UPDATE incident_version SET body = ?1, hash = ?2 WHERE incident_num = ?3",
            rusqlite::params![forged, rehashed, num],
        )
        .unwrap();
    let found = problems(&log);
    assert!(
        found.iter().any(|p| p.contains("signature does not match")),
        "{found:?}"
    );

    // Signed again with a key of their own: a key this record never learnt.
    let stranger = SigningKey::from_bytes(&[9u8; 32]);
    log.db
        .conn()
        .execute(
            "UPDATE incident_version SET signer = ?1, signature = ?2",
            rusqlite::params![
                hex::encode(stranger.verifying_key().as_bytes()),
                hex::encode(stranger.sign(rehashed.as_bytes()).to_bytes())
            ],
        )
        .unwrap();
    let found = problems(&log);
    assert!(
        found.iter().any(|p| p.contains("does not know")),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|p| p.contains("signature does not match")),
        "{found:?}"
    );
}

#[test]
fn a_pack_names_its_signers_and_an_import_learns_them() {
    let from = log();
    record(&mut from.db.conn(), &input("Followed to the car"), now()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let summary = pack::export(
        &from.db.conn(),
        &from.files,
        &Selection::default(),
        out.path(),
        now(),
    )
    .unwrap();
    let folder = summary.folder.clone();
    let json = std::fs::read_to_string(folder.join(pack::JSON_NAME)).unwrap();
    let device = DeviceKey::load(&from.db.conn()).unwrap().unwrap();
    let print = fingerprint(&device.public_hex());
    assert!(
        json.contains(&device.public_hex()),
        "the pack carries the public key"
    );
    assert!(std::fs::read_to_string(folder.join("report.html"))
        .unwrap()
        .contains(&print));

    let into = log();
    let result = import::import(&into.db, &into.files, &folder, now()).unwrap();
    assert_eq!(result.imported, 1);
    assert!(problems(&into).is_empty(), "{:?}", problems(&into));
    assert_eq!(
        known_signers(&into.db.conn()).unwrap(),
        vec![device.public_hex()]
    );
    drop(from.dir);
}

#[test]
fn a_version_rehashed_with_its_signature_taken_away_is_caught() {
    let log = log();
    let id = record(&mut log.db.conn(), &input("Leaflets torn up"), now()).unwrap();
    amend(
        &mut log.db.conn(),
        &id,
        &input("Leaflets torn up and thrown"),
        "",
        now(),
    )
    .unwrap();
    let (body, prev): (String, String) = log
        .db
        .conn()
        .query_row(
            "SELECT body, prev_hash FROM incident_version WHERE version = 2",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    // Someone with the record's key changes the words, fixes the hash, and, having no way to
    // sign without the device key, leaves no signature at all.
    let forged = body.replace("torn up and thrown", "picked up");
    log.db
        .conn()
        .execute(
            "UPDATE incident_version SET body = ?1, hash = ?2, signer = NULL, signature = NULL
             WHERE version = 2",
            rusqlite::params![forged, link_hash(&prev, &forged)],
        )
        .unwrap();
    let found = problems(&log);
    assert!(
        found.iter().any(|p| p.contains("has no signature")),
        "{found:?}"
    );
}

#[test]
fn only_the_list_s_summary_changed_is_caught_and_so_is_the_search_text() {
    let log = log();
    record(&mut log.db.conn(), &input("Shouted at the gate"), now()).unwrap();
    assert!(problems(&log).is_empty());
    log.db
        .conn()
        .execute(
            "UPDATE incident SET summary = 'Friendly chat at the gate'",
            [],
        )
        .unwrap();
    let found = problems(&log);
    assert!(
        found.iter().any(|p| p.contains("not in its last version")),
        "{found:?}"
    );
    log.db
        .conn()
        .execute("UPDATE incident SET summary = 'Shouted at the gate'", [])
        .unwrap();
    assert!(problems(&log).is_empty(), "{:?}", problems(&log));
    // The search index alone: a search would find words no version holds.
    log.db
        .conn()
        .execute(
            "UPDATE incident_fts SET what_happened = 'Friendly chat'",
            [],
        )
        .unwrap();
    let found = problems(&log);
    assert!(
        found.iter().any(|p| p.contains("not in its last version")),
        "{found:?}"
    );
}

#[test]
fn unsigned_versions_from_an_earlier_app_s_pack_are_not_flagged() {
    let from = log();
    record(&mut from.db.conn(), &input("Followed to the car"), now()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let made = pack::export(
        &from.db.conn(),
        &from.files,
        &Selection::default(),
        out.path(),
        now(),
    )
    .unwrap();
    // A pack as an app from before signatures made it: no signer, no signature.
    let path = made.folder.join(pack::JSON_NAME);
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for incident in json["incidents"].as_array_mut().unwrap() {
        for version in incident["versions"].as_array_mut().unwrap() {
            let version = version.as_object_mut().unwrap();
            version.remove("signer");
            version.remove("signature");
        }
    }
    if let Some(signers) = json.get_mut("signers") {
        *signers = serde_json::json!([]);
    }
    std::fs::write(&path, json.to_string()).unwrap();
    let into = log();
    // This device signs from its first record on, before the import.
    record(&mut into.db.conn(), &input("Our own"), now()).unwrap();
    let result = import::import(&into.db, &into.files, &made.folder, now()).unwrap();
    assert_eq!(result.imported, 1, "{:?}", result.problems);
    assert!(problems(&into).is_empty(), "{:?}", problems(&into));
}
