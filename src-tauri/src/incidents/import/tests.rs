use super::*;
use crate::incidents::pack::{self, Selection};
use crate::incidents::tests::{input, now};
use crate::incidents::{attach, record};

struct Log {
    _dir: tempfile::TempDir,
    db: Database,
    files: AttachmentStore,
}

fn log() -> Log {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_in(dir.path(), &crate::vault::test_key()).unwrap();
    let files = AttachmentStore::new(dir.path(), &crate::vault::test_key());
    Log {
        _dir: dir,
        db,
        files,
    }
}

#[test]
fn a_file_refused_for_its_fingerprint_leaves_nothing_in_the_attachments_folder() {
    let from = log();
    let id = record(&mut from.db.conn(), &input("Photo of the van"), now()).unwrap();
    let stored = from.files.store_bytes(b"the van's number plate").unwrap();
    attach(&mut from.db.conn(), &id, stored, "van.jpg", now()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let made = pack::export(
        &from.db.conn(),
        &from.files,
        &Selection::default(),
        out.path(),
        now(),
    )
    .unwrap();
    let pack_file = std::fs::read_dir(made.folder.join("attachments"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();

    // Another file in its place: refused, and nothing of it kept.
    std::fs::write(&pack_file, b"something else entirely").unwrap();
    let into = log();
    let summary = import(&into.db, &into.files, &made.folder, now()).unwrap();
    assert!(
        summary
            .problems
            .iter()
            .any(|p| p.contains("differs from the one recorded")),
        "{:?}",
        summary.problems
    );
    assert_eq!(into.files.stored().unwrap(), Vec::<String>::new());

    // The same wrong bytes, when the record already holds them for an incident of its own:
    // the record's file stays.
    let own = record(&mut into.db.conn(), &input("Leaflet"), now()).unwrap();
    let kept = into.files.store_bytes(b"something else entirely").unwrap();
    attach(
        &mut into.db.conn(),
        &own,
        kept.clone(),
        "leaflet.jpg",
        now(),
    )
    .unwrap();
    import(&into.db, &into.files, &made.folder, now()).unwrap();
    assert_eq!(into.files.stored().unwrap(), vec![kept.sha256]);
    let report = crate::incidents::chain::verify_all(&into.db.conn(), &into.files).unwrap();
    assert!(report.unreferenced_files.is_empty(), "{report:?}");
}
